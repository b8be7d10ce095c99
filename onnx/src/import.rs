//! ONNX import: decode, check support, fold exporter patterns and constants, infer shapes.
//!
//! Nodes are visited in file order (ONNX requires topological order). Each is lowered to zero or more
//! typed [`Op`]s; a lowered op whose inputs are all constant is evaluated at once by the float reference
//! and becomes a constant, which is how `Shape -> Gather -> Unsqueeze -> Concat -> Reshape` chains
//! disappear. Fusions (BatchNorm into Conv, bias Add into MatMul, decomposed LayerNorm) rewrite the
//! producing node when the intermediate value has no other consumer. Dead nodes are dropped at the end.

use std::collections::HashMap;
use std::path::Path;

use onnx_protobuf::{Message, ModelProto, NodeProto};
use poai_circuits::ir::{ConvParams, NonLinear, PoolParams, SliceAxis};

use crate::proto::{input_shape, tensor_from_proto, Attrs};
use crate::{reference, FTensor, Graph, Node, OnnxError, Op};

/// ONNX op types poai imports (some only when their operands are constant: Shape, Cast, ConstantOfShape).
pub const SUPPORTED_OPS: &[&str] = &[
    "Add",
    "AveragePool",
    "BatchNormalization",
    "Cast",
    "Clip",
    "Concat",
    "Constant",
    "ConstantOfShape",
    "Conv",
    "Div",
    "Dropout",
    "Erf",
    "Exp",
    "Flatten",
    "Gather",
    "Gemm",
    "GlobalAveragePool",
    "Identity",
    "LayerNormalization",
    "LeakyRelu",
    "MatMul",
    "MaxPool",
    "Mul",
    "Pow",
    "Reciprocal",
    "ReduceMean",
    "ReduceSum",
    "Relu",
    "Reshape",
    "Shape",
    "Sigmoid",
    "Slice",
    "Softmax",
    "Sqrt",
    "Squeeze",
    "Sub",
    "Tanh",
    "Transpose",
    "Unsqueeze",
];

/// Reads and imports an ONNX file.
pub fn load_onnx(path: &Path) -> Result<Graph, OnnxError> {
    let bytes = std::fs::read(path).map_err(|source| OnnxError::Io { path: path.to_path_buf(), source })?;
    import_bytes(&bytes, path)
}

/// Imports an ONNX model from bytes; `path` is used in messages.
pub fn import_bytes(bytes: &[u8], path: &Path) -> Result<Graph, OnnxError> {
    let decode = |detail: String| OnnxError::Decode { path: path.to_path_buf(), detail };
    let model = ModelProto::parse_from_bytes(bytes).map_err(|e| decode(e.to_string()))?;
    let graph = model.graph.as_ref().ok_or_else(|| decode("the file holds no graph".into()))?;
    if graph.node.is_empty() || graph.output.is_empty() {
        return Err(decode("the graph has no nodes or no outputs".into()));
    }
    let opset = model
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map(|o| o.version)
        .ok_or_else(|| decode("no default-domain opset is declared".into()))?;
    if !(11..=18).contains(&opset) {
        return Err(OnnxError::Opset { path: path.to_path_buf(), version: opset });
    }
    let unsupported: Vec<(String, String)> = graph
        .node
        .iter()
        .filter(|n| {
            !(n.domain.is_empty() || n.domain == "ai.onnx") || !SUPPORTED_OPS.contains(&n.op_type.as_str())
        })
        .map(|n| (node_name(n), n.op_type.clone()))
        .collect();
    if !unsupported.is_empty() {
        return Err(OnnxError::Unsupported { ops: unsupported });
    }
    let mut cx = Importer {
        g: Graph { opset, ..Graph::default() },
        alias: HashMap::new(),
        producer: HashMap::new(),
        consumers: HashMap::new(),
    };
    for init in &graph.initializer {
        cx.g.consts.insert(init.name.clone(), tensor_from_proto(init)?);
    }
    for input in &graph.input {
        if !cx.g.consts.contains_key(&input.name) {
            let shape = input_shape(input)?;
            cx.g.shapes.insert(input.name.clone(), shape.clone());
            cx.g.inputs.push((input.name.clone(), shape));
        }
    }
    if cx.g.inputs.is_empty() {
        return Err(decode("the graph has no non-constant inputs".into()));
    }
    for n in &graph.node {
        for i in n.input.iter().filter(|i| !i.is_empty()) {
            *cx.consumers.entry(i.clone()).or_default() += 1;
        }
    }
    for o in &graph.output {
        *cx.consumers.entry(o.name.clone()).or_default() += 1;
    }
    for n in &graph.node {
        cx.node(n)?;
    }
    for o in &graph.output {
        let name = cx.resolve(&o.name);
        if !cx.g.shapes.contains_key(&name) {
            return Err(OnnxError::Node {
                node: o.name.clone(),
                op: "output".into(),
                detail: "the model output is constant or missing".into(),
            });
        }
        cx.g.outputs.push(name);
    }
    cx.eliminate_dead_nodes();
    Ok(cx.g)
}

fn node_name(n: &NodeProto) -> String {
    if n.name.is_empty() {
        n.output.first().cloned().unwrap_or_default()
    } else {
        n.name.clone()
    }
}

struct Importer {
    g: Graph,
    alias: HashMap<String, String>,
    producer: HashMap<String, usize>,
    consumers: HashMap<String, usize>,
}

/// What a node lowers to.
enum Lowered {
    Alias(String),
    Const(FTensor),
    Ops(Vec<(Op, Vec<String>)>),
    Done,
}

/// Normalises a possibly negative axis.
fn axis(a: i64, rank: usize) -> Option<usize> {
    let r = rank as i64;
    let v = if a < 0 { a + r } else { a };
    (0..r).contains(&v).then_some(v as usize)
}

impl Importer {
    fn resolve(&self, name: &str) -> String {
        let mut n = name.to_string();
        while let Some(next) = self.alias.get(&n) {
            n = next.clone();
        }
        n
    }

    fn node(&mut self, n: &NodeProto) -> Result<(), OnnxError> {
        let name = node_name(n);
        let fail = |detail: String| OnnxError::Node { node: name.clone(), op: n.op_type.clone(), detail };
        let inputs: Vec<String> =
            n.input.iter().map(|i| if i.is_empty() { String::new() } else { self.resolve(i) }).collect();
        for i in inputs.iter().filter(|i| !i.is_empty()) {
            if self.g.shape(i).is_none() {
                return Err(OnnxError::MissingValue { node: name.clone(), value: i.clone() });
            }
        }
        let output = n.output.first().cloned().ok_or_else(|| fail("node has no output".into()))?;
        let lowered = self.lower(n, &name, &inputs, &output).map_err(fail)?;
        match lowered {
            Lowered::Alias(src) => {
                self.alias.insert(output, src);
            }
            Lowered::Const(t) => {
                self.g.consts.insert(output, t);
            }
            Lowered::Done => {}
            Lowered::Ops(ops) => {
                let count = ops.len();
                for (k, (op, ins)) in ops.into_iter().enumerate() {
                    let out = if k + 1 == count { output.clone() } else { format!("{output}/{k}") };
                    let node = if k + 1 == count { name.clone() } else { format!("{name}/{k}") };
                    self.emit(node, op, ins, out).map_err(|d| OnnxError::Node {
                        node: name.clone(),
                        op: n.op_type.clone(),
                        detail: d,
                    })?;
                }
            }
        }
        Ok(())
    }

    /// Adds an op, or folds it into a constant when every input is constant.
    fn emit(&mut self, name: String, op: Op, inputs: Vec<String>, output: String) -> Result<(), String> {
        let shapes: Vec<&[usize]> = inputs
            .iter()
            .map(|i| self.g.shape(i).ok_or_else(|| format!("missing `{i}`")))
            .collect::<Result<_, _>>()?;
        let shape = op.output_shape(&shapes)?;
        if inputs.iter().all(|i| self.g.consts.contains_key(i)) {
            let args: Vec<&FTensor> = inputs.iter().filter_map(|i| self.g.consts.get(i)).collect();
            let value = reference::eval_op(&op, &args)?;
            self.g.consts.insert(output, value);
            return Ok(());
        }
        self.g.shapes.insert(output.clone(), shape);
        self.producer.insert(output.clone(), self.g.nodes.len());
        self.g.nodes.push(Node { name, op, inputs, output });
        Ok(())
    }

    fn konst(&self, name: &str) -> Option<&FTensor> {
        self.g.consts.get(name)
    }

    fn rank(&self, name: &str) -> usize {
        self.g.shape(name).map_or(0, <[usize]>::len)
    }

    /// Node producing `value`, when `value` has exactly one consumer (so the node may be rewritten).
    fn sole_producer(&self, value: &str) -> Option<usize> {
        (self.consumers.get(value).copied().unwrap_or(0) == 1)
            .then(|| self.producer.get(value).copied())
            .flatten()
    }

    /// Adds a new named constant.
    fn add_const(&mut self, name: String, t: FTensor) -> String {
        self.g.consts.insert(name.clone(), t);
        name
    }

    fn lower(&mut self, n: &NodeProto, name: &str, ins: &[String], output: &str) -> Result<Lowered, String> {
        let a = Attrs(&n.attribute);
        let input = |i: usize| {
            ins.get(i).filter(|s| !s.is_empty()).cloned().ok_or_else(|| format!("missing input {i}"))
        };
        let const_input = |i: usize| -> Result<FTensor, String> {
            let nm = input(i)?;
            self.konst(&nm).cloned().ok_or_else(|| format!("input `{nm}` must be constant"))
        };
        let x = input(0);
        let ops = |list: Vec<(Op, Vec<String>)>| -> Result<Lowered, String> { Ok(Lowered::Ops(list)) };
        let one =
            |op: Op, inputs: Vec<String>| -> Result<Lowered, String> { Ok(Lowered::Ops(vec![(op, inputs)])) };
        Ok(match n.op_type.as_str() {
            "Constant" => {
                if let Some(t) = a.tensor("value") {
                    Lowered::Const(tensor_from_proto(t).map_err(|e| e.to_string())?)
                } else if let Some(v) = a.floats("value_floats").filter(|v| !v.is_empty()) {
                    Lowered::Const(FTensor { shape: vec![v.len()], data: v })
                } else if let Some(v) = a.ints("value_ints").filter(|v| !v.is_empty()) {
                    Lowered::Const(FTensor {
                        shape: vec![v.len()],
                        data: v.iter().map(|&i| i as f32).collect(),
                    })
                } else if n.attribute.iter().any(|x| x.name == "value_float") {
                    Lowered::Const(FTensor::scalar(a.float("value_float", 0.0)))
                } else if n.attribute.iter().any(|x| x.name == "value_int") {
                    Lowered::Const(FTensor::scalar(a.int("value_int", 0) as f32))
                } else {
                    return Err("Constant without a supported value attribute".into());
                }
            }
            "Identity" | "Dropout" | "Cast" => Lowered::Alias(x?),
            "Shape" => {
                let s = self.g.shape(&x?).map(<[usize]>::to_vec).unwrap_or_default();
                let r = s.len() as i64;
                let clampi = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
                let (start, end) = (clampi(a.int("start", 0)), clampi(a.int("end", r)));
                let dims: Vec<f32> =
                    s.get(start..end.max(start)).unwrap_or(&[]).iter().map(|&d| d as f32).collect();
                Lowered::Const(FTensor { shape: vec![dims.len()], data: dims })
            }
            "ConstantOfShape" => {
                let shape: Vec<usize> = const_input(0)?.as_i64().iter().map(|&d| d.max(0) as usize).collect();
                let v = match a.tensor("value") {
                    Some(t) => {
                        tensor_from_proto(t).map_err(|e| e.to_string())?.data.first().copied().unwrap_or(0.0)
                    }
                    None => 0.0,
                };
                let len = shape.iter().product();
                Lowered::Const(FTensor { shape, data: vec![v; len] })
            }
            "Gather" => {
                let x = x?;
                let idx = const_input(1)?;
                let ax = axis(a.int("axis", 0), self.rank(&x)).ok_or("axis out of range")?;
                let dim = self.g.shape(&x).and_then(|s| s.get(ax).copied()).unwrap_or(0) as i64;
                let indices = idx
                    .as_i64()
                    .iter()
                    .map(|&i| {
                        let j = if i < 0 { i + dim } else { i };
                        (0..dim).contains(&j).then_some(j as usize)
                    })
                    .collect::<Option<Vec<_>>>()
                    .ok_or("index out of range")?;
                one(Op::Gather { axis: ax, indices, indices_shape: idx.shape }, vec![x])?
            }
            "Unsqueeze" | "Squeeze" => {
                let x = x?;
                let s = self.g.shape(&x).map(<[usize]>::to_vec).unwrap_or_default();
                let axes = if self.g.opset >= 13 && ins.len() > 1 {
                    Some(const_input(1)?.as_i64())
                } else {
                    a.ints("axes")
                };
                let shape = if n.op_type == "Unsqueeze" {
                    let axes = axes.ok_or("Unsqueeze needs axes")?;
                    let r = s.len() + axes.len();
                    let mut axes: Vec<usize> =
                        axes.iter().map(|&v| axis(v, r)).collect::<Option<_>>().ok_or("axis out of range")?;
                    axes.sort_unstable();
                    let mut out = s.clone();
                    for ax in axes {
                        out.insert(ax.min(out.len()), 1);
                    }
                    out
                } else {
                    match axes {
                        Some(axes) => {
                            let axes: Vec<usize> = axes
                                .iter()
                                .map(|&v| axis(v, s.len()))
                                .collect::<Option<_>>()
                                .ok_or("axis out of range")?;
                            s.iter().enumerate().filter(|(d, _)| !axes.contains(d)).map(|(_, &v)| v).collect()
                        }
                        None => s.iter().copied().filter(|&d| d != 1).collect(),
                    }
                };
                one(Op::Reshape { shape }, vec![x])?
            }
            "Flatten" => {
                let x = x?;
                let s = self.g.shape(&x).map(<[usize]>::to_vec).unwrap_or_default();
                let ax = if a.int("axis", 1) < 0 {
                    (a.int("axis", 1) + s.len() as i64).max(0) as usize
                } else {
                    (a.int("axis", 1) as usize).min(s.len())
                };
                one(Op::Reshape { shape: vec![s[..ax].iter().product(), s[ax..].iter().product()] }, vec![x])?
            }
            "Reshape" => {
                let x = x?;
                let s = self.g.shape(&x).map(<[usize]>::to_vec).unwrap_or_default();
                let target = const_input(1)?.as_i64();
                let total: usize = s.iter().product();
                let mut shape = Vec::with_capacity(target.len());
                let mut infer = None;
                for (d, &t) in target.iter().enumerate() {
                    match t {
                        0 if a.int("allowzero", 0) == 0 => {
                            shape.push(*s.get(d).ok_or("0 copies a missing dim")?)
                        }
                        -1 => {
                            infer = Some(d);
                            shape.push(1);
                        }
                        t if t >= 0 => shape.push(t as usize),
                        _ => return Err(format!("invalid target dim {t}")),
                    }
                }
                if let Some(d) = infer {
                    let known: usize = shape.iter().product();
                    if known == 0 || !total.is_multiple_of(known) {
                        return Err(format!("cannot infer -1 reshaping {s:?} to {target:?}"));
                    }
                    shape[d] = total / known;
                }
                one(Op::Reshape { shape }, vec![x])?
            }
            "Transpose" => {
                let x = x?;
                let r = self.rank(&x);
                let perm = a
                    .ints("perm")
                    .map(|p| p.iter().map(|&v| v as usize).collect())
                    .unwrap_or_else(|| (0..r).rev().collect());
                one(Op::Transpose { perm }, vec![x])?
            }
            "Concat" => {
                let x = x?;
                let ax = axis(a.int("axis", 0), self.rank(&x)).ok_or("axis out of range")?;
                one(Op::Concat { axis: ax }, ins.iter().filter(|s| !s.is_empty()).cloned().collect())?
            }
            "Slice" => {
                let x = x?;
                let s = self.g.shape(&x).map(<[usize]>::to_vec).unwrap_or_default();
                let (starts, ends, axes_v, steps) = if self.g.opset >= 10 {
                    let opt = |i: usize| {
                        if ins.get(i).is_some_and(|v| !v.is_empty()) {
                            const_input(i).map(|t| Some(t.as_i64()))
                        } else {
                            Ok(None)
                        }
                    };
                    (const_input(1)?.as_i64(), const_input(2)?.as_i64(), opt(3)?, opt(4)?)
                } else {
                    (
                        a.ints("starts").unwrap_or_default(),
                        a.ints("ends").unwrap_or_default(),
                        a.ints("axes"),
                        None,
                    )
                };
                let axes_v = axes_v.unwrap_or_else(|| (0..starts.len() as i64).collect());
                let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
                let mut axes = Vec::new();
                for (k, &av) in axes_v.iter().enumerate() {
                    let ax = axis(av, s.len()).ok_or("axis out of range")?;
                    let dim = s[ax] as i64;
                    let (st, en, step) = (
                        *starts.get(k).ok_or("starts too short")?,
                        *ends.get(k).ok_or("ends too short")?,
                        *steps.get(k).ok_or("steps too short")?,
                    );
                    if step == 0 {
                        return Err("step 0".into());
                    }
                    let norm = |v: i64| if v < 0 { v + dim } else { v };
                    let (start, end) = if step > 0 {
                        (norm(st).clamp(0, dim), norm(en).clamp(0, dim))
                    } else {
                        (norm(st).clamp(-1, dim - 1), norm(en).clamp(-1, dim - 1))
                    };
                    let len = if step > 0 {
                        (end - start + step - 1).max(0) / step
                    } else {
                        (start - end - step - 1).max(0) / -step
                    };
                    axes.push(SliceAxis { axis: ax, start: start.max(0) as usize, step, len: len as usize });
                }
                one(Op::Slice { axes }, vec![x])?
            }
            "Gemm" => {
                let (mut av, b) = (x?, input(1)?);
                let (alpha, beta) = (a.float("alpha", 1.0), a.float("beta", 1.0));
                let mut list = Vec::new();
                if a.int("transA", 0) != 0 {
                    list.push((Op::Transpose { perm: vec![1, 0] }, vec![av.clone()]));
                    av = format!("{output}/0");
                }
                let bt = self.konst(&b).cloned().ok_or("Gemm needs a constant B")?;
                let bt = if a.int("transB", 0) != 0 {
                    reference::eval_op(&Op::Transpose { perm: vec![1, 0] }, &[&bt])?
                } else {
                    bt
                };
                let w = self.add_const(
                    format!("{name}/weight"),
                    FTensor { shape: bt.shape, data: bt.data.iter().map(|v| v * alpha).collect() },
                );
                let mut inputs = vec![av, w];
                if let Ok(c) = input(2) {
                    let c = self.konst(&c).cloned().ok_or("Gemm needs a constant C")?;
                    inputs.push(self.add_const(
                        format!("{name}/bias"),
                        FTensor { shape: c.shape, data: c.data.iter().map(|v| v * beta).collect() },
                    ));
                }
                list.push((Op::MatMul, inputs));
                ops(list)?
            }
            "MatMul" => {
                let (av, b) = (x?, input(1)?);
                if self.rank(&av) < 2 {
                    return Err("a rank-1 left operand is not supported".into());
                }
                match self.konst(&b).cloned() {
                    Some(bt) if bt.shape.len() == 1 => {
                        let w = self.add_const(
                            format!("{name}/weight"),
                            FTensor { shape: vec![bt.shape[0], 1], data: bt.data },
                        );
                        let mut shape = self.g.shape(&av).map(<[usize]>::to_vec).unwrap_or_default();
                        shape.pop();
                        ops(vec![
                            (Op::MatMul, vec![av, w]),
                            (Op::Reshape { shape }, vec![format!("{output}/0")]),
                        ])?
                    }
                    _ => one(Op::MatMul, vec![av, b])?,
                }
            }
            "Conv" => {
                let (xv, w) = (x?, input(1)?);
                let ws = self.g.shape(&w).map(<[usize]>::to_vec).unwrap_or_default();
                let xs = self.g.shape(&xv).map(<[usize]>::to_vec).unwrap_or_default();
                if ws.len() != 4 || xs.len() != 4 {
                    return Err("only 2-D convolution is supported".into());
                }
                let pads = self.pads(&a, &xs, [ws[2], ws[3]])?;
                let p = ConvParams {
                    pads,
                    strides: pair(&a, "strides"),
                    dilations: pair(&a, "dilations"),
                    group: a.int("group", 1).max(1) as usize,
                };
                let mut inputs = vec![xv, w];
                if let Ok(b) = input(2) {
                    inputs.push(b);
                }
                one(Op::Conv(p), inputs)?
            }
            "BatchNormalization" => {
                let xv = x?;
                let (scale, bias, mean, var) =
                    (const_input(1)?, const_input(2)?, const_input(3)?, const_input(4)?);
                let eps = a.float("epsilon", 1e-5);
                let c = scale.data.len();
                let mul: Vec<f32> = (0..c).map(|i| scale.data[i] / (var.data[i] + eps).sqrt()).collect();
                let add: Vec<f32> = (0..c).map(|i| bias.data[i] - mean.data[i] * mul[i]).collect();
                if let Some(done) = self.fold_batchnorm(&xv, &mul, &add, output)? {
                    return Ok(done);
                }
                let r = self.rank(&xv);
                let mut bshape = vec![1; r.max(2) - 1];
                bshape[0] = c;
                let m = self.add_const(
                    format!("{name}/scale"),
                    FTensor::new(bshape.clone(), mul).map_err(|e| e.to_string())?,
                );
                let b = self.add_const(
                    format!("{name}/shift"),
                    FTensor::new(bshape, add).map_err(|e| e.to_string())?,
                );
                ops(vec![(Op::Mul, vec![xv, m]), (Op::Add, vec![format!("{output}/0"), b])])?
            }
            "Add" => {
                let (l, r) = (x?, input(1)?);
                if let Some(done) = self.fuse_bias(&l, &r, output).or_else(|| self.fuse_bias(&r, &l, output))
                {
                    return Ok(done);
                }
                one(Op::Add, vec![l, r])?
            }
            "Sub" => one(Op::Sub, vec![x?, input(1)?])?,
            "Mul" => {
                let (l, r) = (x?, input(1)?);
                if let Some(xv) = self.fuse_gelu(&l, &r) {
                    return one(Op::Unary(NonLinear::Gelu), vec![xv]);
                }
                one(Op::Mul, vec![l, r])?
            }
            "Div" => {
                let (l, r) = (x?, input(1)?);
                if let Some(ln) = self.fuse_layer_norm(&l, &r) {
                    return one(ln.0, ln.1);
                }
                match self.konst(&r).cloned() {
                    Some(c) => {
                        let inv = self.add_const(
                            format!("{name}/inverse"),
                            FTensor { shape: c.shape, data: c.data.iter().map(|v| 1.0 / v).collect() },
                        );
                        one(Op::Mul, vec![l, inv])?
                    }
                    None => ops(vec![(Op::Reciprocal, vec![r]), (Op::Mul, vec![l, format!("{output}/0")])])?,
                }
            }
            "Pow" => {
                let xv = x?;
                let e = const_input(1)?;
                match e.data.as_slice() {
                    [v] if *v == 2.0 => one(Op::Mul, vec![xv.clone(), xv])?,
                    [v] if *v == 1.0 => Lowered::Alias(xv),
                    [v] if *v == 0.5 => one(Op::Sqrt, vec![xv])?,
                    [v] if *v == -1.0 => one(Op::Reciprocal, vec![xv])?,
                    _ => {
                        return Err(format!("exponent {:?} is not supported (2, 1, 0.5 and -1 are)", e.data))
                    }
                }
            }
            "Relu" => one(Op::Relu, vec![x?])?,
            "LeakyRelu" => one(Op::LeakyRelu { alpha: a.float("alpha", 0.01) }, vec![x?])?,
            "Clip" => {
                let bound = |i: usize, attr: &str, d: f32| -> Result<f32, String> {
                    if self.g.opset >= 11 {
                        match ins.get(i).filter(|s| !s.is_empty()) {
                            Some(_) => {
                                const_input(i)?.data.first().copied().ok_or_else(|| "empty bound".to_string())
                            }
                            None => Ok(d),
                        }
                    } else {
                        Ok(a.float(attr, d))
                    }
                };
                one(Op::Clip { min: bound(1, "min", f32::MIN)?, max: bound(2, "max", f32::MAX)? }, vec![x?])?
            }
            "Sigmoid" => one(Op::Unary(NonLinear::Sigmoid), vec![x?])?,
            "Tanh" => one(Op::Unary(NonLinear::Tanh), vec![x?])?,
            "Erf" => one(Op::Unary(NonLinear::Erf), vec![x?])?,
            "Exp" => one(Op::Unary(NonLinear::Exp), vec![x?])?,
            "Sqrt" => one(Op::Sqrt, vec![x?])?,
            "Reciprocal" => one(Op::Reciprocal, vec![x?])?,
            "Softmax" => {
                let xv = x?;
                let r = self.rank(&xv);
                let default = if self.g.opset >= 13 { -1 } else { 1 };
                let ax = axis(a.int("axis", default), r).ok_or("axis out of range")?;
                if self.g.opset < 13 && ax + 1 != r {
                    return Err("opset < 13 Softmax over several trailing axes is not supported".into());
                }
                one(Op::Softmax { axis: ax }, vec![xv])?
            }
            "LayerNormalization" => {
                let xv = x?;
                let ax = axis(a.int("axis", -1), self.rank(&xv)).ok_or("axis out of range")?;
                let mut inputs = vec![xv, input(1)?];
                if let Ok(b) = input(2) {
                    inputs.push(b);
                }
                one(Op::LayerNorm { axis: ax, eps: a.float("epsilon", 1e-5) }, inputs)?
            }
            "MaxPool" | "AveragePool" => {
                let xv = x?;
                let xs = self.g.shape(&xv).map(<[usize]>::to_vec).unwrap_or_default();
                let k = a.ints("kernel_shape").unwrap_or_default();
                if k.len() != 2 || xs.len() != 4 {
                    return Err("only 2-D pooling is supported".into());
                }
                let kernel = [k[0].max(1) as usize, k[1].max(1) as usize];
                let p = PoolParams {
                    kernel,
                    pads: self.pads(&a, &xs, kernel)?,
                    strides: pair(&a, "strides"),
                    dilations: pair(&a, "dilations"),
                    ceil_mode: a.int("ceil_mode", 0) != 0,
                    count_include_pad: a.int("count_include_pad", 0) != 0,
                };
                one(if n.op_type == "MaxPool" { Op::MaxPool(p) } else { Op::AvgPool(p) }, vec![xv])?
            }
            "GlobalAveragePool" => {
                let xv = x?;
                let r = self.rank(&xv);
                one(Op::ReduceMean { axes: (2..r).collect(), keepdims: true }, vec![xv])?
            }
            "ReduceMean" | "ReduceSum" => {
                let xv = x?;
                let r = self.rank(&xv);
                let from_input = (n.op_type == "ReduceSum" && self.g.opset >= 13) || self.g.opset >= 18;
                let axes_v = if from_input && ins.len() > 1 && !ins[1].is_empty() {
                    Some(const_input(1)?.as_i64())
                } else if from_input {
                    None
                } else {
                    a.ints("axes")
                };
                let axes: Vec<usize> = match axes_v {
                    Some(v) if !v.is_empty() => {
                        v.iter().map(|&d| axis(d, r)).collect::<Option<_>>().ok_or("axis out of range")?
                    }
                    _ if a.int("noop_with_empty_axes", 0) != 0 => return Ok(Lowered::Alias(xv)),
                    _ => (0..r).collect(),
                };
                let keepdims = a.int("keepdims", 1) != 0;
                one(
                    if n.op_type == "ReduceMean" {
                        Op::ReduceMean { axes, keepdims }
                    } else {
                        Op::ReduceSum { axes, keepdims }
                    },
                    vec![xv],
                )?
            }
            other => return Err(format!("{other} is not supported")),
        })
    }

    /// Explicit pads, or those implied by `auto_pad`, as `[top, left, bottom, right]`.
    fn pads(&self, a: &Attrs<'_>, xs: &[usize], kernel: [usize; 2]) -> Result<[usize; 4], String> {
        let auto = a.string("auto_pad").unwrap_or_else(|| "NOTSET".into());
        match auto.as_str() {
            "NOTSET" | "" => {
                let p = a.ints("pads").unwrap_or_else(|| vec![0; 4]);
                match p.as_slice() {
                    [t, l, b, r] if p.iter().all(|&v| v >= 0) => {
                        Ok([*t as usize, *l as usize, *b as usize, *r as usize])
                    }
                    _ => Err(format!("pads {p:?} are not four non-negative values")),
                }
            }
            "VALID" => Ok([0; 4]),
            "SAME_UPPER" | "SAME_LOWER" => {
                let (s, d) = (pair(a, "strides"), pair(a, "dilations"));
                let mut out = [0; 4];
                for i in 0..2 {
                    let len = xs[2 + i];
                    let o = len.div_ceil(s[i]);
                    let need = ((o - 1) * s[i] + (kernel[i] - 1) * d[i] + 1).saturating_sub(len);
                    let (small, big) = (need / 2, need - need / 2);
                    (out[i], out[i + 2]) = if auto == "SAME_UPPER" { (small, big) } else { (big, small) };
                }
                Ok(out)
            }
            other => Err(format!("auto_pad {other} is not supported")),
        }
    }

    /// Folds a per-channel affine map into the Conv (channel axis 1) or the rank-2 MatMul with a
    /// constant weight (channel axis last) producing `x`, when `x` feeds only this BatchNorm.
    fn fold_batchnorm(
        &mut self,
        x: &str,
        mul: &[f32],
        add: &[f32],
        output: &str,
    ) -> Result<Option<Lowered>, String> {
        let Some(idx) = self.sole_producer(x) else { return Ok(None) };
        let node = &self.g.nodes[idx];
        let Some(w) = node.inputs.get(1).and_then(|w| self.g.consts.get(w)).cloned() else { return Ok(None) };
        let channels = match node.op {
            Op::Conv(_) => w.shape[0],
            Op::MatMul if w.shape.len() == 2 && self.g.shapes.get(x).map(Vec::len) == Some(2) => w.shape[1],
            _ => return Ok(None),
        };
        if channels != mul.len() {
            return Err(format!("{} channels, the producing {} has {channels}", mul.len(), node.op.name()));
        }
        // Output channel of weight element i: its row for Conv ([M, ...]), its column for MatMul ([K, N]).
        let per = w.data.len() / channels.max(1);
        let channel_of = |i: usize| if matches!(node.op, Op::Conv(_)) { i / per } else { i % channels };
        let new_w: Vec<f32> = w.data.iter().enumerate().map(|(i, v)| v * mul[channel_of(i)]).collect();
        let old_b = node
            .inputs
            .get(2)
            .and_then(|b| self.g.consts.get(b))
            .map_or(vec![0.0; channels], |b| b.data.clone());
        if old_b.len() != channels {
            return Ok(None);
        }
        let new_b: Vec<f32> = (0..channels).map(|i| old_b[i] * mul[i] + add[i]).collect();
        let name = node.name.clone();
        let wn = self.add_const(format!("{name}/bn_weight"), FTensor { shape: w.shape, data: new_w });
        let bn = self.add_const(format!("{name}/bn_bias"), FTensor { shape: vec![channels], data: new_b });
        self.retarget(idx, output, |n| n.inputs = vec![n.inputs[0].clone(), wn.clone(), bn.clone()]);
        Ok(Some(Lowered::Done))
    }

    /// Renames the output of node `idx` to `output` after letting `edit` rewrite it.
    fn retarget(&mut self, idx: usize, output: &str, edit: impl FnOnce(&mut Node)) {
        let node = &mut self.g.nodes[idx];
        edit(node);
        let old = std::mem::replace(&mut node.output, output.to_string());
        if let Some(s) = self.g.shapes.remove(&old) {
            self.g.shapes.insert(output.to_string(), s);
        }
        self.producer.remove(&old);
        self.producer.insert(output.to_string(), idx);
    }

    /// `MatMul(a, W) + c` with constant `c` along the last dim becomes a MatMul with bias.
    fn fuse_bias(&mut self, mm: &str, c: &str, output: &str) -> Option<Lowered> {
        let idx = self.sole_producer(mm)?;
        let node = &self.g.nodes[idx];
        if node.op != Op::MatMul || node.inputs.len() != 2 || !self.g.consts.contains_key(&node.inputs[1]) {
            return None;
        }
        let bias = self.g.consts.get(c)?;
        let n = *self.g.shapes.get(mm)?.last()?;
        if bias.data.len() != n || bias.shape.last() != Some(&n) {
            return None;
        }
        let bias = FTensor { shape: vec![n], data: bias.data.clone() };
        let b = self.add_const(format!("{}/bias", node.name), bias);
        self.retarget(idx, output, |nd| nd.inputs.push(b));
        Some(Lowered::Done)
    }

    /// Scalar value of a constant, if `name` is a one-element constant.
    fn scalar(&self, name: &str) -> Option<f32> {
        self.g.consts.get(name).filter(|c| c.data.len() == 1).map(|c| c.data[0])
    }

    /// Recognises the exporters' erf GELU, `x * 0.5 * (1 + erf(x / sqrt 2))` with the three factors
    /// multiplied in any grouping, and returns `x`.
    fn fuse_gelu(&self, l: &str, r: &str) -> Option<String> {
        let node = |v: &str| self.sole_producer(v).map(|i| &self.g.nodes[i]);
        let expand = |v: &str| -> Vec<String> {
            match node(v) {
                Some(n) if n.op == Op::Mul && n.inputs.len() == 2 => n.inputs.clone(),
                _ => vec![v.to_string()],
            }
        };
        let mut factors = expand(l);
        factors.extend(expand(r));
        if factors.len() != 3 {
            return None;
        }
        let half = factors.iter().position(|f| self.scalar(f).is_some_and(|v| (v - 0.5).abs() < 1e-6))?;
        factors.remove(half);
        for (k, one_plus) in factors.iter().enumerate() {
            let x = &factors[1 - k];
            let Some(add) = node(one_plus).filter(|n| n.op == Op::Add) else { continue };
            let Some(erf_out) = add.inputs.iter().find(|i| self.scalar(i) != Some(1.0)) else { continue };
            if !add.inputs.iter().any(|i| self.scalar(i) == Some(1.0)) {
                continue;
            }
            let Some(erf) = node(erf_out).filter(|n| n.op == Op::Unary(NonLinear::Erf)) else { continue };
            let Some(scaled) = erf.inputs.first().and_then(|v| node(v)).filter(|n| n.op == Op::Mul) else {
                continue;
            };
            let is_x = scaled.inputs.iter().any(|i| i == x);
            let is_rsqrt2 = scaled
                .inputs
                .iter()
                .any(|i| self.scalar(i).is_some_and(|v| (v - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-5));
            if is_x && is_rsqrt2 {
                return Some(x.clone());
            }
        }
        None
    }

    /// Recognises `(x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps)` over trailing axes.
    fn fuse_layer_norm(&self, num: &str, den: &str) -> Option<(Op, Vec<String>)> {
        let node = |v: &str| self.producer.get(v).map(|&i| &self.g.nodes[i]);
        let sub = node(num)?;
        let (Op::Sub, [x, mean]) = (&sub.op, sub.inputs.as_slice()) else { return None };
        let mean_node = node(mean)?;
        let Op::ReduceMean { axes, keepdims: true } = &mean_node.op else { return None };
        if mean_node.inputs.first()? != x {
            return None;
        }
        let sqrt = node(den)?;
        if sqrt.op != Op::Sqrt {
            return None;
        }
        let add = node(sqrt.inputs.first()?)?;
        let (Op::Add, [var, eps]) = (&add.op, add.inputs.as_slice()) else { return None };
        let eps = self.g.consts.get(eps)?.data.first().copied()?;
        let var_node = node(var)?;
        let Op::ReduceMean { axes: axes2, keepdims: true } = &var_node.op else { return None };
        let sq = node(var_node.inputs.first()?)?;
        if axes2 != axes || sq.op != Op::Mul || sq.inputs.first()? != num || sq.inputs.get(1)? != num {
            return None;
        }
        let rank = self.g.shapes.get(x)?.len();
        let first = *axes.first()?;
        if *axes != (first..rank).collect::<Vec<_>>() {
            return None;
        }
        Some((Op::LayerNorm { axis: first, eps }, vec![x.clone()]))
    }

    fn eliminate_dead_nodes(&mut self) {
        let mut live: std::collections::HashSet<String> = self.g.outputs.iter().cloned().collect();
        let mut keep = vec![false; self.g.nodes.len()];
        for (i, n) in self.g.nodes.iter().enumerate().rev() {
            if live.contains(&n.output) {
                keep[i] = true;
                live.extend(n.inputs.iter().cloned());
            }
        }
        let mut k = keep.iter();
        self.g.nodes.retain(|_| k.next().copied().unwrap_or(false));
        let used: std::collections::HashSet<&String> = self.g.nodes.iter().flat_map(|n| &n.inputs).collect();
        self.g.consts.retain(|name, _| used.contains(name));
        let produced: std::collections::HashSet<String> = self
            .g
            .nodes
            .iter()
            .map(|n| n.output.clone())
            .chain(self.g.inputs.iter().map(|i| i.0.clone()))
            .collect();
        self.g.shapes.retain(|name, _| produced.contains(name));
    }
}

fn pair(a: &Attrs<'_>, name: &str) -> [usize; 2] {
    match a.ints(name).as_deref() {
        Some([h, w]) => [(*h).max(1) as usize, (*w).max(1) as usize],
        _ => [1, 1],
    }
}
