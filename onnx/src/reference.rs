//! The float reference run on candle-core tensors: ONNX (onnxruntime) float semantics for every [`Op`].
//! It folds constants during import, records calibration ranges, and is the baseline of the accuracy
//! report. It shares no arithmetic with the integer engine, so it cross-checks it.

use std::collections::BTreeMap;

use candle_core::{DType, Device, Tensor};
use poai_circuits::ir::{NonLinear, PoolParams};

use crate::{FTensor, Graph, OnnxError, Op};

type R<T> = Result<T, String>;

fn c<T>(r: candle_core::Result<T>) -> R<T> {
    r.map_err(|e| e.to_string())
}

fn to_candle(t: &FTensor) -> R<Tensor> {
    c(Tensor::from_vec(t.data.clone(), t.shape.clone(), &Device::Cpu))
}

fn from_candle(t: &Tensor) -> R<FTensor> {
    let shape = t.dims().to_vec();
    let data = c(c(t.flatten_all())?.to_dtype(DType::F32).and_then(|t| t.to_vec1::<f32>()))?;
    FTensor::new(shape, data).map_err(|e| e.to_string())
}

/// Evaluates one op on float inputs.
pub fn eval_op(op: &Op, inputs: &[&FTensor]) -> R<FTensor> {
    let ts: Vec<Tensor> = inputs.iter().map(|t| to_candle(t)).collect::<R<_>>()?;
    let x = ts.first().ok_or("no inputs")?;
    let arg = |i: usize| ts.get(i).ok_or_else(|| format!("missing input {i}"));
    let out = match op {
        Op::MatMul => {
            let y = c(x.broadcast_matmul(arg(1)?))?;
            match ts.get(2) {
                Some(b) => c(y.broadcast_add(b))?,
                None => y,
            }
        }
        Op::Conv(p) => {
            let w = arg(1)?;
            if p.strides[0] != p.strides[1] || p.dilations[0] != p.dilations[1] {
                return Err("the float reference needs equal strides and dilations along H and W".into());
            }
            let xp =
                c(c(x.pad_with_zeros(2, p.pads[0], p.pads[2]))?.pad_with_zeros(3, p.pads[1], p.pads[3]))?;
            let y = c(xp.conv2d(w, 0, p.strides[0], p.dilations[0], p.group))?;
            match ts.get(2) {
                Some(b) => c(y.broadcast_add(&c(b.reshape((1, b.elem_count(), 1, 1)))?))?,
                None => y,
            }
        }
        Op::Add => c(x.broadcast_add(arg(1)?))?,
        Op::Sub => c(x.broadcast_sub(arg(1)?))?,
        Op::Mul => c(x.broadcast_mul(arg(1)?))?,
        Op::Relu => c(x.relu())?,
        Op::LeakyRelu { alpha } => {
            let neg = c(x.affine(*alpha as f64, 0.0))?;
            c(c(x.ge(0f32))?.where_cond(x, &neg))?
        }
        Op::Clip { min, max } => c(x.clamp(*min, *max))?,
        Op::Unary(f) => match f {
            NonLinear::Sigmoid => c(c(c(c(x.neg())?.exp())?.affine(1.0, 1.0))?.recip())?,
            NonLinear::Tanh => c(x.tanh())?,
            NonLinear::Exp => c(x.exp())?,
            NonLinear::Erf => c(x.erf())?,
            NonLinear::Gelu => c(x.gelu_erf())?,
            _ => return Err(format!("{f:?} has no float reference")),
        },
        Op::Softmax { axis } => {
            // A masked position reads -inf: exp gives it exactly 0, and it never wins the maximum.
            let x = match ts.get(1) {
                Some(keep) => {
                    let ninf = c(Tensor::full(f32::NEG_INFINITY, x.dims(), &Device::Cpu))?;
                    c(c(c(keep.broadcast_as(x.dims()))?.ne(0f32))?.where_cond(x, &ninf))?
                }
                None => x.clone(),
            };
            let x = &x;
            let m = c(x.max_keepdim(*axis))?;
            let e = c(c(x.broadcast_sub(&m))?.exp())?;
            let s = c(e.sum_keepdim(*axis))?;
            c(e.broadcast_div(&s))?
        }
        Op::LayerNorm { axis, eps } => {
            let dims: Vec<usize> = (*axis..x.rank()).collect();
            let mean = c(x.mean_keepdim(dims.as_slice()))?;
            let d = c(x.broadcast_sub(&mean))?;
            let var = c(c(d.sqr())?.mean_keepdim(dims.as_slice()))?;
            let mut y = c(d.broadcast_div(&c(c(var.affine(1.0, *eps as f64))?.sqrt())?))?;
            if let Some(g) = ts.get(1) {
                y = c(y.broadcast_mul(g))?;
            }
            if let Some(b) = ts.get(2) {
                y = c(y.broadcast_add(b))?;
            }
            y
        }
        Op::Sqrt => c(x.sqrt())?,
        Op::Reciprocal => c(x.recip())?,
        Op::MaxPool(p) => pool(x, p, true)?,
        Op::AvgPool(p) => pool(x, p, false)?,
        Op::ReduceSum { axes, keepdims } | Op::ReduceMean { axes, keepdims } => {
            let mut y = c(x.sum_keepdim(axes.as_slice()))?;
            if matches!(op, Op::ReduceMean { .. }) {
                let n: usize = axes.iter().map(|&a| x.dims()[a]).product();
                y = c(y.affine(1.0 / n as f64, 0.0))?;
            }
            if !keepdims {
                let shape: Vec<usize> =
                    x.dims().iter().enumerate().filter(|(d, _)| !axes.contains(d)).map(|(_, &v)| v).collect();
                y = c(y.reshape(shape))?;
            }
            y
        }
        Op::Reshape { shape } => c(x.reshape(shape.as_slice()))?,
        Op::Transpose { perm } => c(c(x.permute(perm.as_slice()))?.contiguous())?,
        Op::Concat { axis } => c(Tensor::cat(&ts.iter().collect::<Vec<_>>(), *axis))?,
        Op::Slice { axes } => {
            let mut y = x.clone();
            for s in axes {
                let idx: Vec<u32> = (0..s.len).map(|i| (s.start as i64 + i as i64 * s.step) as u32).collect();
                let idx = c(Tensor::from_vec(idx, s.len, &Device::Cpu))?;
                y = c(y.index_select(&idx, s.axis))?;
            }
            y
        }
        Op::Gather { axis, indices, indices_shape } => {
            let idx: Vec<u32> = indices.iter().map(|&i| i as u32).collect();
            let idx = c(Tensor::from_vec(idx, indices.len(), &Device::Cpu))?;
            let y = c(x.index_select(&idx, *axis))?;
            let mut shape = x.dims()[..*axis].to_vec();
            shape.extend_from_slice(indices_shape);
            shape.extend_from_slice(&x.dims()[axis + 1..]);
            c(y.reshape(shape))?
        }
        Op::OneHot { depth } => return one_hot(inputs[0], *depth),
    };
    from_candle(&out)
}

/// One-hot rows of integer indices; an index that is not an integer in `[0, depth)` is an error (what
/// onnxruntime's Gather refuses).
fn one_hot(x: &FTensor, depth: usize) -> R<FTensor> {
    let mut data = vec![0f32; x.data.len() * depth];
    for (i, &v) in x.data.iter().enumerate() {
        if !(v >= 0.0 && v.fract() == 0.0 && (v as usize) < depth) {
            return Err(format!("index {v} at position {i} is not an integer in [0, {depth})"));
        }
        data[i * depth + v as usize] = 1.0;
    }
    let shape = x.shape.iter().copied().chain([depth]).collect();
    FTensor::new(shape, data).map_err(|e| e.to_string())
}

/// 2-D pooling with ONNX padding rules: padding never wins a max; averages divide by the valid count
/// unless `count_include_pad`.
fn pool(x: &Tensor, p: &PoolParams, max: bool) -> R<Tensor> {
    if p.dilations != [1, 1] || p.ceil_mode {
        return Err("the float reference supports pooling without dilation or ceil_mode".into());
    }
    let pad = |t: &Tensor, v: f32| -> R<Tensor> {
        let mut t = t.clone();
        for (dim, lo, hi) in [(2, p.pads[0], p.pads[2]), (3, p.pads[1], p.pads[3])] {
            let mut parts = Vec::new();
            let mut shape = t.dims().to_vec();
            if lo > 0 {
                shape[dim] = lo;
                parts.push(c(Tensor::full(v, shape.clone(), &Device::Cpu))?);
            }
            parts.push(t.clone());
            if hi > 0 {
                shape[dim] = hi;
                parts.push(c(Tensor::full(v, shape, &Device::Cpu))?);
            }
            t = c(Tensor::cat(&parts.iter().collect::<Vec<_>>(), dim))?;
        }
        Ok(t)
    };
    let (k, s) = ((p.kernel[0], p.kernel[1]), (p.strides[0], p.strides[1]));
    if max {
        return c(pad(x, f32::NEG_INFINITY)?.max_pool2d_with_stride(k, s));
    }
    let sums = c(c(pad(x, 0.0)?.avg_pool2d_with_stride(k, s))?.affine((k.0 * k.1) as f64, 0.0))?;
    if p.count_include_pad {
        return c(sums.affine(1.0 / (k.0 * k.1) as f64, 0.0));
    }
    let ones = c(Tensor::ones(x.dims(), DType::F32, &Device::Cpu))?;
    let counts = c(c(pad(&ones, 0.0)?.avg_pool2d_with_stride(k, s))?.affine((k.0 * k.1) as f64, 0.0))?;
    c(sums.div(&counts))
}

/// Runs the float graph, returning every value (inputs and node outputs) by name.
pub fn run_graph(g: &Graph, inputs: &[FTensor]) -> Result<BTreeMap<String, FTensor>, OnnxError> {
    let mut vals: BTreeMap<String, FTensor> = BTreeMap::new();
    for ((name, _), t) in g.inputs.iter().zip(inputs) {
        vals.insert(name.clone(), t.clone());
    }
    for n in &g.nodes {
        let args: Vec<&FTensor> = n
            .inputs
            .iter()
            .map(|i| vals.get(i).or_else(|| g.consts.get(i)))
            .collect::<Option<_>>()
            .ok_or_else(|| OnnxError::Reference {
                node: n.name.clone(),
                detail: "an input was not computed".into(),
            })?;
        let out =
            eval_op(&n.op, &args).map_err(|detail| OnnxError::Reference { node: n.name.clone(), detail })?;
        vals.insert(n.output.clone(), out);
    }
    Ok(vals)
}

/// Runs the float graph and returns its outputs.
pub fn run_outputs(g: &Graph, inputs: &[FTensor]) -> Result<Vec<FTensor>, OnnxError> {
    let mut vals = run_graph(g, inputs)?;
    g.outputs
        .iter()
        .map(|o| {
            vals.remove(o)
                .ok_or_else(|| OnnxError::Reference { node: o.clone(), detail: "output not computed".into() })
        })
        .collect()
}
