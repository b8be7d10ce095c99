//! The typed float op set the importer normalises ONNX into, with shape inference.
//!
//! ONNX op-type strings are matched only in [`crate::import`]; everything past it matches on [`Op`].
//! Exporter noise (Constant, Identity, Dropout, shape arithmetic) is folded away during import, Gemm is
//! a `MatMul` with a bias, BatchNormalization is folded into the preceding Conv, Div by a constant is a
//! Mul, and the decomposed LayerNorm pattern is fused into [`Op::LayerNorm`].

use poai_circuits::ir::tensor_shape::{broadcast_shape, window_out};
use poai_circuits::ir::{ConvParams, NonLinear, PoolParams, SliceAxis};

/// A float op. Inputs (by position) are documented per variant.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Op {
    /// `[a, b, bias?]`: batched matmul plus an optional bias broadcast on the output.
    MatMul,
    /// `[x, w, bias?]`: 2-D convolution.
    Conv(ConvParams),
    /// `[a, b]`
    Add,
    /// `[a, b]`
    Sub,
    /// `[a, b]`
    Mul,
    /// `[x]`
    Relu,
    /// `[x]`: slope `alpha` below zero.
    LeakyRelu {
        /// Slope.
        alpha: f32,
    },
    /// `[x]`
    Clip {
        /// Lower bound.
        min: f32,
        /// Upper bound.
        max: f32,
    },
    /// `[x]`: a tabulated function.
    Unary(NonLinear),
    /// `[x, keep?]`: `keep` a constant of 0 and 1 broadcast to `x`; masked positions get no weight.
    Softmax {
        /// Normalised axis.
        axis: usize,
    },
    /// `[x, gamma?, beta?]`: normalise over dims `axis..`.
    LayerNorm {
        /// First normalised axis.
        axis: usize,
        /// Epsilon.
        eps: f32,
    },
    /// `[x]`
    Sqrt,
    /// `[x]`
    Reciprocal,
    /// `[x]`
    MaxPool(PoolParams),
    /// `[x]`
    AvgPool(PoolParams),
    /// `[x]`
    ReduceSum {
        /// Normalised axes.
        axes: Vec<usize>,
        /// Keep reduced dims.
        keepdims: bool,
    },
    /// `[x]`
    ReduceMean {
        /// Normalised axes.
        axes: Vec<usize>,
        /// Keep reduced dims.
        keepdims: bool,
    },
    /// `[x]`
    Reshape {
        /// Output shape.
        shape: Vec<usize>,
    },
    /// `[x]`
    Transpose {
        /// Permutation.
        perm: Vec<usize>,
    },
    /// `[x, ...]`
    Concat {
        /// Normalised axis.
        axis: usize,
    },
    /// `[x]`
    Slice {
        /// Sliced axes.
        axes: Vec<SliceAxis>,
    },
    /// `[x]`
    Gather {
        /// Normalised axis.
        axis: usize,
        /// Non-negative indices.
        indices: Vec<usize>,
        /// Index tensor shape.
        indices_shape: Vec<usize>,
    },
    /// `[ids]`: one-hot rows of integer indices, `[..]` to `[.., depth]` (an embedding lookup is this
    /// followed by a `MatMul` against the table).
    OneHot {
        /// Number of classes.
        depth: usize,
    },
}

impl Op {
    /// Display name.
    pub fn name(&self) -> String {
        match self {
            Self::Unary(f) => format!("{f:?}"),
            other => {
                let dbg = format!("{other:?}");
                dbg.split([' ', '(', '{']).next().unwrap_or("?").to_string()
            }
        }
    }

    /// Output shape from input shapes.
    pub fn output_shape(&self, ins: &[&[usize]]) -> Result<Vec<usize>, String> {
        let x = ins.first().copied().ok_or("no inputs")?;
        let need = |n: usize| {
            if ins.len() < n {
                Err(format!("needs {n} inputs, has {}", ins.len()))
            } else {
                Ok(())
            }
        };
        match self {
            Self::MatMul => {
                need(2)?;
                let (a, b) = (x, ins[1]);
                if a.len() < 2 || b.len() < 2 || a[a.len() - 1] != b[b.len() - 2] {
                    return Err(format!("cannot multiply {a:?} by {b:?}"));
                }
                let mut out = broadcast_shape(&a[..a.len() - 2], &b[..b.len() - 2])
                    .ok_or_else(|| format!("batch dims of {a:?} and {b:?} do not broadcast"))?;
                out.extend([a[a.len() - 2], b[b.len() - 1]]);
                if let Some(bias) = ins.get(2) {
                    out = broadcast_shape(&out, bias)
                        .ok_or_else(|| format!("bias {bias:?} does not broadcast"))?;
                }
                Ok(out)
            }
            Self::Conv(p) => {
                need(2)?;
                let w = ins[1];
                let [n, c, h, wd] = four(x)?;
                let [m, cg, kh, kw] = four(w)?;
                if p.group == 0 || c != cg * p.group || m % p.group != 0 {
                    return Err(format!("input {x:?} and weight {w:?} disagree for group {}", p.group));
                }
                let oh = window_out(h, p.pads[0] + p.pads[2], kh, p.strides[0], p.dilations[0], false);
                let ow = window_out(wd, p.pads[1] + p.pads[3], kw, p.strides[1], p.dilations[1], false);
                Ok(vec![n, m, oh.ok_or("kernel taller than input")?, ow.ok_or("kernel wider than input")?])
            }
            Self::Add | Self::Sub | Self::Mul => {
                need(2)?;
                broadcast_shape(x, ins[1]).ok_or_else(|| format!("{x:?} and {:?} do not broadcast", ins[1]))
            }
            Self::Relu
            | Self::LeakyRelu { .. }
            | Self::Clip { .. }
            | Self::Unary(_)
            | Self::Sqrt
            | Self::Reciprocal
            | Self::LayerNorm { .. } => Ok(x.to_vec()),
            Self::Softmax { axis } => {
                if *axis >= x.len() {
                    return Err(format!("axis {axis} out of range for {x:?}"));
                }
                Ok(x.to_vec())
            }
            Self::MaxPool(p) | Self::AvgPool(p) => {
                let [n, c, h, w] = four(x)?;
                let oh = window_out(
                    h,
                    p.pads[0] + p.pads[2],
                    p.kernel[0],
                    p.strides[0],
                    p.dilations[0],
                    p.ceil_mode,
                );
                let ow = window_out(
                    w,
                    p.pads[1] + p.pads[3],
                    p.kernel[1],
                    p.strides[1],
                    p.dilations[1],
                    p.ceil_mode,
                );
                Ok(vec![n, c, oh.ok_or("window taller than input")?, ow.ok_or("window wider than input")?])
            }
            Self::ReduceSum { axes, keepdims } | Self::ReduceMean { axes, keepdims } => {
                if axes.iter().any(|&a| a >= x.len()) {
                    return Err(format!("axes {axes:?} out of range for {x:?}"));
                }
                Ok((0..x.len())
                    .filter_map(|d| match (axes.contains(&d), keepdims) {
                        (true, true) => Some(1),
                        (true, false) => None,
                        (false, _) => Some(x[d]),
                    })
                    .collect())
            }
            Self::Reshape { shape } => {
                if shape.iter().product::<usize>() != x.iter().product::<usize>() {
                    return Err(format!("cannot reshape {x:?} to {shape:?}"));
                }
                Ok(shape.clone())
            }
            Self::Transpose { perm } => {
                let mut sorted = perm.clone();
                sorted.sort_unstable();
                if sorted != (0..x.len()).collect::<Vec<_>>() {
                    return Err(format!("perm {perm:?} for rank {}", x.len()));
                }
                Ok(perm.iter().map(|&p| x[p]).collect())
            }
            Self::Concat { axis } => {
                let mut out = x.to_vec();
                if *axis >= out.len() {
                    return Err(format!("axis {axis} out of range for {x:?}"));
                }
                for s in &ins[1..] {
                    if s.len() != x.len() || (0..x.len()).any(|d| d != *axis && s[d] != x[d]) {
                        return Err(format!("{s:?} does not match {x:?}"));
                    }
                    out[*axis] += s[*axis];
                }
                Ok(out)
            }
            Self::Slice { axes } => {
                let mut out = x.to_vec();
                for s in axes {
                    *out.get_mut(s.axis).ok_or("slice axis out of range")? = s.len;
                }
                Ok(out)
            }
            Self::Gather { axis, indices, indices_shape } => {
                let dim = *x.get(*axis).ok_or("gather axis out of range")?;
                if indices.iter().any(|&i| i >= dim) {
                    return Err(format!("index out of range for dim {dim}"));
                }
                let mut out = x[..*axis].to_vec();
                out.extend_from_slice(indices_shape);
                out.extend_from_slice(&x[axis + 1..]);
                Ok(out)
            }
            Self::OneHot { depth } => {
                if *depth == 0 {
                    return Err("one-hot depth 0".into());
                }
                Ok(x.iter().copied().chain([*depth]).collect())
            }
        }
    }
}

fn four(s: &[usize]) -> Result<[usize; 4], String> {
    match *s {
        [a, b, c, d] => Ok([a, b, c, d]),
        _ => Err(format!("expected a rank-4 NCHW shape, got {s:?}")),
    }
}
