//! Element-wise ops: rescale, activations, tables, square root and reciprocal.

use crate::ir::fixed::{div_round, isqrt_round, rescale as rescale_one, round_shift, shift_scale};
use crate::ir::table::TableSpec;
use crate::ir::Tensor;

pub(super) fn rescale(x: &Tensor, shift: i32, bits: u32) -> Tensor {
    x.map(|v| rescale_one(v, shift, bits))
}

pub(super) fn leaky_relu(x: &Tensor, alpha: i64, shift: u32) -> Tensor {
    x.map(|v| if v >= 0 { v } else { round_shift(v.wrapping_mul(alpha), shift) })
}

pub(super) fn table(x: &Tensor, spec: &TableSpec) -> Tensor {
    let dense = spec.dense();
    x.map(|v| dense.get(v))
}

pub(super) fn sqrt(x: &Tensor, shift: i32) -> Tensor {
    x.map(|v| isqrt_round(shift_scale(v, shift).max(0)))
}

pub(super) fn reciprocal(x: &Tensor, numerator_log2: u32) -> Tensor {
    let num = 1i64 << numerator_log2.min(62);
    x.map(|v| match v {
        0 => num,
        v if v > 0 => div_round(num, v).unwrap_or(num),
        v => -div_round(num, v.wrapping_neg()).unwrap_or(num),
    })
}
