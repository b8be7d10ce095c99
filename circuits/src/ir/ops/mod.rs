//! The quantised op set. Each variant documents its integer semantics; the function that computes it
//! lives in the file of its op family (`linear`, `elementwise`, `nn`, `shape`), mirrored later by the
//! chips that constrain it.

mod elementwise;
mod linear;
mod nn;
mod shape;

use serde::{Deserialize, Serialize};

use super::table::TableSpec;
use super::{IrError, Tensor};

pub use linear::{window_out, ConvParams, PoolParams};
pub use nn::softmax_mask;
pub use shape::SliceAxis;

/// A quantised operation. Inputs are listed per variant; all integers are fixed-point values whose
/// scales the enclosing [`super::QGraph`] records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[non_exhaustive]
pub enum QOp {
    /// Batched matrix product `[.., M, K] x [.., K, N] (+ bias)`; batch dims broadcast. Exact (no rounding):
    /// the output scale is the sum of the input scales, and a bias (third input) is added at that scale.
    MatMul,
    /// 2-D convolution `[N, C, H, W] * [M, C/g, kH, kW] (+ bias[M])` with zero padding. Exact.
    Conv(ConvParams),
    /// `a + b` with broadcasting; both at the same scale. Exact.
    Add,
    /// `a - b` with broadcasting; both at the same scale. Exact.
    Sub,
    /// `a * b` with broadcasting; the output scale is the sum. Exact.
    Mul,
    /// `saturate(round(x / 2^shift), bits)`; a negative shift multiplies by `2^-shift`.
    Rescale {
        /// Binary places to drop (negative: to add).
        shift: i32,
        /// Output bit width.
        bits: u32,
    },
    /// `max(x, 0)`.
    Relu,
    /// `x` for `x >= 0`, else `round(x * alpha / 2^shift)`.
    LeakyRelu {
        /// Quantised slope.
        alpha: i64,
        /// Scale of `alpha`.
        shift: u32,
    },
    /// `clamp(x, min, max)`.
    Clip {
        /// Lower bound, at the input scale.
        min: i64,
        /// Upper bound, at the input scale.
        max: i64,
    },
    /// Element-wise table lookup.
    Table(TableSpec),
    /// Softmax along `axis`: `e = exp_table(x - max)`, `y = round(e * 2^out_scale / sum(e))`. An optional
    /// second input, a constant mask of 0 and 1 broadcast to `x` (an attention mask), leaves the positions
    /// it zeroes out of the maximum and the sum and gives them the output 0: what an additive `-inf` mask
    /// means. Every slice must keep at least one position.
    Softmax {
        /// Normalised axis.
        axis: usize,
        /// Table for `exp` on the non-positive differences.
        exp: TableSpec,
        /// Output scale (outputs lie in `[0, 2^out_scale]`).
        out_scale: u32,
    },
    /// Normalisation over the trailing dims from `axis`: `mean = round(sum/n)`, `d = x - mean`,
    /// `var = round(sum(d^2)/n)`, `sd = round(sqrt(var + eps))`, `y = round(d * 2^out_scale / sd)`.
    /// The affine part (gamma, beta) follows as ordinary `Mul`/`Add`/`Rescale` nodes.
    LayerNorm {
        /// First normalised axis.
        axis: usize,
        /// Epsilon at twice the input scale (at least 1).
        eps: i64,
        /// Scale of the normalised output.
        out_scale: u32,
    },
    /// `round(sqrt(max(shift_scale(x, shift), 0)))`.
    Sqrt {
        /// Pre-shift that brings `x` to twice the output scale.
        shift: i32,
    },
    /// `sign(x) * round(2^numerator_log2 / |x|)`; x = 0 gives `2^numerator_log2` (a rescale saturates it).
    Reciprocal {
        /// Numerator exponent: input scale plus output scale.
        numerator_log2: u32,
    },
    /// 2-D max pooling over `[N, C, H, W]`; padding never wins.
    MaxPool(PoolParams),
    /// 2-D average pooling: `round(window_sum / count)`.
    AvgPool(PoolParams),
    /// Sum over `axes`. Exact.
    ReduceSum {
        /// Normalised axes.
        axes: Vec<usize>,
        /// Keep reduced dims as size 1.
        keepdims: bool,
    },
    /// `round(sum / count)` over `axes`.
    ReduceMean {
        /// Normalised axes.
        axes: Vec<usize>,
        /// Keep reduced dims as size 1.
        keepdims: bool,
    },
    /// Same data, new shape.
    Reshape {
        /// Output shape.
        shape: Vec<usize>,
    },
    /// Axis permutation.
    Transpose {
        /// `out.dim(i) = in.dim(perm[i])`.
        perm: Vec<usize>,
    },
    /// Concatenation along `axis` (all inputs at the same scale).
    Concat {
        /// Normalised axis.
        axis: usize,
    },
    /// Strided slice on some axes.
    Slice {
        /// One entry per sliced axis.
        axes: Vec<SliceAxis>,
    },
    /// Selection along `axis` with constant indices.
    Gather {
        /// Normalised axis.
        axis: usize,
        /// Non-negative indices, row-major in `indices_shape`.
        indices: Vec<usize>,
        /// Shape of the index tensor.
        indices_shape: Vec<usize>,
    },
    /// One-hot encoding of integer indices (token ids): `[..]` to `[.., depth]`, `y[.., v] = 1` where
    /// `x = v`, else 0. An index outside `[0, depth)` is an error, not an all-zero row: the circuits prove
    /// that every row sums to one, so such an input has no proof. Followed by a `MatMul` against a weight
    /// table, it is the embedding lookup (`Gather` on data indices).
    OneHot {
        /// Number of classes (the table's rows).
        depth: usize,
    },
}

impl QOp {
    /// Short name for messages and reports.
    pub fn name(&self) -> &'static str {
        match self {
            Self::MatMul => "MatMul",
            Self::Conv(_) => "Conv",
            Self::Add => "Add",
            Self::Sub => "Sub",
            Self::Mul => "Mul",
            Self::Rescale { .. } => "Rescale",
            Self::Relu => "Relu",
            Self::LeakyRelu { .. } => "LeakyRelu",
            Self::Clip { .. } => "Clip",
            Self::Table(t) => match t.func {
                super::NonLinear::Sigmoid => "Sigmoid",
                super::NonLinear::Tanh => "Tanh",
                super::NonLinear::Exp => "Exp",
                super::NonLinear::Erf => "Erf",
                super::NonLinear::Gelu => "Gelu",
            },
            Self::Softmax { .. } => "Softmax",
            Self::LayerNorm { .. } => "LayerNorm",
            Self::Sqrt { .. } => "Sqrt",
            Self::Reciprocal { .. } => "Reciprocal",
            Self::MaxPool(_) => "MaxPool",
            Self::AvgPool(_) => "AvgPool",
            Self::ReduceSum { .. } => "ReduceSum",
            Self::ReduceMean { .. } => "ReduceMean",
            Self::Reshape { .. } => "Reshape",
            Self::Transpose { .. } => "Transpose",
            Self::Concat { .. } => "Concat",
            Self::Slice { .. } => "Slice",
            Self::Gather { .. } => "Gather",
            Self::OneHot { .. } => "OneHot",
        }
    }

    /// Allowed number of inputs, inclusive.
    pub fn arity(&self) -> (usize, usize) {
        match self {
            Self::MatMul | Self::Conv(_) => (2, 3),
            Self::Add | Self::Sub | Self::Mul => (2, 2),
            Self::Concat { .. } => (1, usize::MAX),
            Self::Softmax { .. } => (1, 2),
            _ => (1, 1),
        }
    }

    /// Computes the op on its inputs. This is the oracle every circuit must agree with.
    pub fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor, IrError> {
        let (lo, hi) = self.arity();
        if inputs.len() < lo || inputs.len() > hi {
            return Err(IrError::Arity { op: self.name(), expected: lo, got: inputs.len() });
        }
        let x = inputs[0];
        match self {
            Self::MatMul => linear::matmul(x, inputs[1], inputs.get(2).copied()),
            Self::Conv(p) => linear::conv2d(p, x, inputs[1], inputs.get(2).copied()),
            Self::Add => super::tensor::broadcast_binary(x, inputs[1], i64::wrapping_add),
            Self::Sub => super::tensor::broadcast_binary(x, inputs[1], i64::wrapping_sub),
            Self::Mul => super::tensor::broadcast_binary(x, inputs[1], i64::wrapping_mul),
            Self::Rescale { shift, bits } => Ok(elementwise::rescale(x, *shift, *bits)),
            Self::Relu => Ok(x.map(|v| v.max(0))),
            Self::LeakyRelu { alpha, shift } => Ok(elementwise::leaky_relu(x, *alpha, *shift)),
            Self::Clip { min, max } => Ok(x.map(|v| v.clamp(*min, (*max).max(*min)))),
            Self::Table(spec) => Ok(elementwise::table(x, spec)),
            Self::Softmax { axis, exp, out_scale } => {
                nn::softmax(x, inputs.get(1).copied(), *axis, exp, *out_scale)
            }
            Self::LayerNorm { axis, eps, out_scale } => nn::layer_norm(x, *axis, *eps, *out_scale),
            Self::Sqrt { shift } => Ok(elementwise::sqrt(x, *shift)),
            Self::Reciprocal { numerator_log2 } => Ok(elementwise::reciprocal(x, *numerator_log2)),
            Self::MaxPool(p) => linear::pool(p, x, linear::PoolKind::Max),
            Self::AvgPool(p) => linear::pool(p, x, linear::PoolKind::Average),
            Self::ReduceSum { axes, keepdims } => nn::reduce(x, axes, *keepdims, false),
            Self::ReduceMean { axes, keepdims } => nn::reduce(x, axes, *keepdims, true),
            Self::Reshape { shape } => x.clone().reshaped(shape.clone()),
            Self::Transpose { perm } => shape::transpose(x, perm),
            Self::Concat { axis } => shape::concat(inputs, *axis),
            Self::Slice { axes } => shape::slice(x, axes),
            Self::Gather { axis, indices, indices_shape } => shape::gather(x, *axis, indices, indices_shape),
            Self::OneHot { depth } => shape::one_hot(x, *depth),
        }
    }
}
