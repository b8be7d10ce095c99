//! ONNX import: decode, check support, fold exporter patterns and constants, infer shapes.
//!
//! Nodes are visited in file order (ONNX requires topological order). Each is lowered to zero or more
//! typed [`Op`]s by the importer its op type registers ([`registry`]; one module per op family, mirroring
//! `poai_circuits::ir::ops`); a lowered op whose inputs are all constant is evaluated at once by the float
//! reference and becomes a constant, which is how `Shape -> Gather -> Unsqueeze -> Concat -> Reshape`
//! chains disappear; ops that only ever apply to constants (mask and position-id subgraphs) are evaluated
//! by [`fold`] and must have constant inputs. Fusions ([`fuse`]: BatchNorm into Conv, bias Add into
//! MatMul, decomposed LayerNorm and GELU) rewrite the producing node when the intermediate value has no
//! other consumer. Dead nodes are dropped at the end.

mod elementwise;
mod fold;
mod fuse;
mod linear;
mod nn;
mod recurrent;
pub(crate) mod registry;
mod shape;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use onnx_protobuf::{Message, ModelProto, NodeProto};

use crate::proto::{input_shape, tensor_from_proto, Attrs, InputKind};
use crate::{reference, FTensor, Graph, Node, OnnxError, Op};

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
    let unsupported_op = |n: &NodeProto| {
        !(n.domain.is_empty() || n.domain == "ai.onnx") || registry::lookup(&n.op_type).is_none()
    };
    let unsupported: Vec<(String, String)> =
        graph.node.iter().filter(|n| unsupported_op(n)).map(|n| (node_name(n), n.op_type.clone())).collect();
    // Every blocking problem is collected, not only the first: unsupported ops, input types and each
    // node that fails to import. A value a failed node would have produced is `blocked`, and so is
    // everything computed from it, without a message of its own (its cause is already listed).
    let mut problems = Vec::new();
    let mut blocked: HashSet<String> = HashSet::new();
    if !unsupported.is_empty() {
        problems.push(OnnxError::Unsupported { ops: unsupported });
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
            let (shape, kind) = match input_shape(input) {
                Ok(found) => found,
                Err(e) => {
                    problems.push(e);
                    blocked.insert(input.name.clone());
                    continue;
                }
            };
            if kind == InputKind::Integer {
                cx.g.integer_inputs.insert(input.name.clone());
            }
            cx.g.shapes.insert(input.name.clone(), shape.clone());
            cx.g.inputs.push((input.name.clone(), shape));
        }
    }
    if cx.g.inputs.is_empty() && problems.is_empty() {
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
        let skip = unsupported_op(n) || n.input.iter().any(|i| blocked.contains(i));
        let failed = if skip { true } else { cx.node(n).map_err(|e| problems.push(e)).is_err() };
        if failed {
            blocked.extend(n.output.iter().cloned());
        }
    }
    if problems.len() > 1 {
        return Err(OnnxError::Problems { problems });
    }
    if let Some(only) = problems.pop() {
        return Err(only);
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
pub(super) enum Lowered {
    /// Another value under a new name (Identity, Dropout, Cast).
    Alias(String),
    /// A constant (folded at import).
    Const(FTensor),
    /// Ops in order; the last one's output is the node's output, the others' are `{output}/{k}`.
    Ops(Vec<(Op, Vec<String>)>),
    /// Nothing new: a fusion rewrote the producing node to output this node's value.
    Done,
}

/// Normalises a possibly negative axis.
fn axis(a: i64, rank: usize) -> Option<usize> {
    let r = rank as i64;
    let v = if a < 0 { a + r } else { a };
    (0..r).contains(&v).then_some(v as usize)
}

/// The node an op importer lowers: its proto, display name, resolved inputs (empty for an omitted
/// optional input), output name and attributes.
pub(super) struct NodeCx<'a> {
    pub node: &'a NodeProto,
    pub name: &'a str,
    pub ins: &'a [String],
    pub output: &'a str,
    pub attrs: Attrs<'a>,
}

impl NodeCx<'_> {
    /// Input `i`'s value name; an error if it is missing or omitted.
    pub fn input(&self, i: usize) -> Result<String, String> {
        self.ins.get(i).filter(|s| !s.is_empty()).cloned().ok_or_else(|| format!("missing input {i}"))
    }
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
        let import =
            registry::lookup(&n.op_type).ok_or_else(|| fail(format!("{} is not supported", n.op_type)))?;
        let cx = NodeCx { node: n, name: &name, ins: &inputs, output: &output, attrs: Attrs(&n.attribute) };
        let lowered = (import.lower)(self, &cx).map_err(fail)?;
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

    /// Input `i` of a node, which must be a constant.
    fn const_input(&self, ins: &[String], i: usize) -> Result<FTensor, String> {
        let nm = ins.get(i).filter(|s| !s.is_empty()).ok_or_else(|| format!("missing input {i}"))?;
        self.konst(nm).cloned().ok_or_else(|| format!("input `{nm}` must be constant"))
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
                    [out[i], out[i + 2]] = same_pads(&auto, xs[2 + i], s[i], kernel[i], d[i]);
                }
                Ok(out)
            }
            other => Err(format!("auto_pad {other} is not supported")),
        }
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

    /// Scalar value of a constant, if `name` is a one-element constant.
    fn scalar(&self, name: &str) -> Option<f32> {
        self.g.consts.get(name).filter(|c| c.data.len() == 1).map(|c| c.data[0])
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

/// A 1-D convolution or pooling window read as the width of a height-one 2-D one: the kernel, the two
/// pads, the stride and the dilation of the one spatial axis of an input of length `len`.
pub(super) struct Window1d {
    kernel: usize,
    pads: [usize; 2],
    stride: usize,
    dilation: usize,
}

impl Window1d {
    /// Reads `kernel_shape` (or `kernel` when the weight gives it), `pads` or `auto_pad`, `strides` and
    /// `dilations` of a 1-D node.
    fn read(a: &Attrs<'_>, len: usize, kernel: Option<usize>) -> Result<Self, String> {
        let one = |name: &str| -> Result<usize, String> {
            match a.ints(name).as_deref() {
                None => Ok(1),
                Some([v]) if *v >= 1 => Ok(*v as usize),
                Some(v) => Err(format!("{name} {v:?} is not one positive value of a 1-D window")),
            }
        };
        let kernel = match kernel {
            Some(k) => k,
            None => one("kernel_shape")?,
        };
        let (stride, dilation) = (one("strides")?, one("dilations")?);
        let auto = a.string("auto_pad").unwrap_or_else(|| "NOTSET".into());
        let pads = match auto.as_str() {
            "NOTSET" | "" => match a.ints("pads").as_deref() {
                None => [0, 0],
                Some([b, e]) if *b >= 0 && *e >= 0 => [*b as usize, *e as usize],
                Some(p) => return Err(format!("pads {p:?} are not two non-negative values")),
            },
            "VALID" => [0, 0],
            "SAME_UPPER" | "SAME_LOWER" => same_pads(&auto, len, stride, kernel, dilation),
            other => return Err(format!("auto_pad {other} is not supported")),
        };
        Ok(Self { kernel, pads, stride, dilation })
    }

    /// The 2-D kernel (`1 × K`).
    fn kernel_2d(&self) -> [usize; 2] {
        [1, self.kernel]
    }

    /// The 2-D pads `[top, left, bottom, right]`: none along the height.
    fn pads_2d(&self) -> [usize; 4] {
        [0, self.pads[0], 0, self.pads[1]]
    }

    /// The 2-D strides and dilations: the height's equal to the width's, which a height-one kernel over a
    /// height-one input leaves without effect (and the float reference needs them equal).
    fn steps_2d(&self) -> ([usize; 2], [usize; 2]) {
        ([self.stride; 2], [self.dilation; 2])
    }
}

impl Importer {
    /// Lowers a 1-D op over `x` (`[N, C, L]`) as `op` over its height-one 2-D view: a Reshape to
    /// `[N, C, 1, L]`, `op` (with `more` inputs after the view), and a Reshape dropping the height.
    fn as_2d(&self, x: &str, output: &str, op: Op, more: Vec<String>) -> Result<Lowered, String> {
        let xs = self.g.shape(x).map(<[usize]>::to_vec).unwrap_or_default();
        let [n, c, l] = <[usize; 3]>::try_from(xs.as_slice())
            .map_err(|_| format!("input of shape {xs:?} is not [N, C, L]"))?;
        let view = vec![n, c, 1, l];
        let mut shapes: Vec<Vec<usize>> = vec![view.clone()];
        for m in &more {
            shapes.push(self.g.shape(m).map(<[usize]>::to_vec).ok_or_else(|| format!("missing `{m}`"))?);
        }
        let refs: Vec<&[usize]> = shapes.iter().map(Vec::as_slice).collect();
        let mut out = op.output_shape(&refs)?;
        if out.len() != 4 || out[2] != 1 {
            return Err(format!("the 2-D view gives shape {out:?}"));
        }
        out.remove(2);
        let mut ins = vec![format!("{output}/0")];
        ins.extend(more);
        Ok(Lowered::Ops(vec![
            (Op::Reshape { shape: view }, vec![x.to_string()]),
            (op, ins),
            (Op::Reshape { shape: out }, vec![format!("{output}/1")]),
        ]))
    }
}

/// The `[begin, end]` pads of one spatial axis of length `len` under `auto_pad` `SAME_UPPER` or
/// `SAME_LOWER`: the output keeps `ceil(len / stride)` positions, an odd pad going to the end (upper) or
/// the beginning (lower).
fn same_pads(auto: &str, len: usize, stride: usize, kernel: usize, dilation: usize) -> [usize; 2] {
    let out = len.div_ceil(stride);
    let need = ((out - 1) * stride + (kernel - 1) * dilation + 1).saturating_sub(len);
    let (small, big) = (need / 2, need - need / 2);
    if auto == "SAME_UPPER" {
        [small, big]
    } else {
        [big, small]
    }
}

fn pair(a: &Attrs<'_>, name: &str) -> [usize; 2] {
    match a.ints(name).as_deref() {
        Some([h, w]) => [(*h).max(1) as usize, (*w).max(1) as usize],
        _ => [1, 1],
    }
}
