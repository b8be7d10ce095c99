//! Normalising ops over an axis: softmax, layer normalisation and reductions.

use rayon::prelude::*;

use crate::ir::fixed::{div_round, isqrt_round};
use crate::ir::table::TableSpec;
use crate::ir::tensor::broadcast_index_map;
use crate::ir::{broadcast_shape, IrError, Tensor};

/// Splits a shape around `axis` into (outer, len, inner) extents.
fn split(shape: &[usize], axis: usize, op: &'static str) -> Result<(usize, usize, usize), IrError> {
    if axis >= shape.len() {
        return Err(IrError::Shape { op, detail: format!("axis {axis} out of range for {shape:?}") });
    }
    Ok((shape[..axis].iter().product(), shape[axis], shape[axis + 1..].iter().product()))
}

pub(super) fn softmax(
    x: &Tensor,
    keep: Option<&Tensor>,
    axis: usize,
    exp: &TableSpec,
    out_scale: u32,
) -> Result<Tensor, IrError> {
    let (_, len, inner) = split(x.shape(), axis, "Softmax")?;
    let keep = softmax_mask(x.shape(), keep, axis)?;
    let table = exp.dense();
    let one = 1i64 << out_scale.min(62);
    let mut out = vec![0i64; x.len()];
    out.par_chunks_mut((len * inner).max(1)).enumerate().for_each(|(o, dst)| {
        let base = o * len * inner;
        let src = &x.data()[base..][..len * inner];
        let kept = |j: usize, i: usize| keep.as_ref().is_none_or(|k| k[base + j * inner + i]);
        for i in 0..inner {
            let max = (0..len).filter(|&j| kept(j, i)).map(|j| src[j * inner + i]).max().unwrap_or(0);
            let e: Vec<i64> =
                (0..len).map(|j| if kept(j, i) { table.get(src[j * inner + i] - max) } else { 0 }).collect();
            let sum: i64 = e.iter().sum();
            for (j, ej) in e.iter().enumerate() {
                dst[j * inner + i] = if kept(j, i) { div_round(ej * one, sum).unwrap_or(0) } else { 0 };
            }
        }
    });
    Tensor::new(x.shape().to_vec(), out)
}

/// A softmax's mask (`keep`, 0 or 1, broadcast to the input's `shape`) as one flag per input position:
/// `None` without a mask. Every slice along `axis` must keep a position: a fully masked slice has no
/// distribution to give (a float model's additive mask yields a uniform one there by rounding, not by
/// meaning).
pub fn softmax_mask(
    shape: &[usize],
    keep: Option<&Tensor>,
    axis: usize,
) -> Result<Option<Vec<bool>>, IrError> {
    let Some(keep) = keep else { return Ok(None) };
    let bad = |detail: String| IrError::Shape { op: "Softmax", detail };
    if keep.data().iter().any(|&k| k != 0 && k != 1) {
        return Err(bad("the mask holds values other than 0 and 1".into()));
    }
    if broadcast_shape(keep.shape(), shape).as_deref() != Some(shape) {
        return Err(bad(format!("the mask {:?} does not broadcast to the input {shape:?}", keep.shape())));
    }
    let (_, len, inner) = split(shape, axis, "Softmax")?;
    let flags: Vec<bool> =
        broadcast_index_map(keep.shape(), shape).iter().map(|&i| keep.data()[i] == 1).collect();
    for (o, block) in flags.chunks((len * inner).max(1)).enumerate() {
        if let Some(i) = (0..inner).find(|&i| (0..len).all(|j| !block[j * inner + i])) {
            return Err(bad(format!("slice {} along axis {axis} is masked entirely", o * inner + i)));
        }
    }
    Ok(Some(flags))
}

pub(super) fn layer_norm(x: &Tensor, axis: usize, eps: i64, out_scale: u32) -> Result<Tensor, IrError> {
    if axis >= x.shape().len() {
        return Err(IrError::Shape { op: "LayerNorm", detail: format!("axis {axis} for {:?}", x.shape()) });
    }
    let n: usize = x.shape()[axis..].iter().product();
    let one = 1i64 << out_scale.min(62);
    let mut out = vec![0i64; x.len()];
    out.par_chunks_mut(n.max(1)).enumerate().for_each(|(o, dst)| {
        let src = &x.data()[o * n..][..n];
        let mean = div_round(src.iter().sum(), n as i64).unwrap_or(0);
        let var = div_round(src.iter().map(|&v| (v - mean) * (v - mean)).sum(), n as i64).unwrap_or(0);
        let sd = isqrt_round(var + eps.max(1)).max(1);
        for (d, &v) in dst.iter_mut().zip(src) {
            *d = div_round((v - mean) * one, sd).unwrap_or(0);
        }
    });
    Tensor::new(x.shape().to_vec(), out)
}

pub(super) fn reduce(x: &Tensor, axes: &[usize], keepdims: bool, mean: bool) -> Result<Tensor, IrError> {
    let op = if mean { "ReduceMean" } else { "ReduceSum" };
    let rank = x.shape().len();
    if axes.iter().any(|&a| a >= rank) {
        return Err(IrError::Shape { op, detail: format!("axes {axes:?} for {:?}", x.shape()) });
    }
    let reduced: Vec<bool> = (0..rank).map(|d| axes.contains(&d)).collect();
    let out_full: Vec<usize> = (0..rank).map(|d| if reduced[d] { 1 } else { x.shape()[d] }).collect();
    let out_strides = crate::ir::tensor::strides(&out_full);
    let count: usize = axes.iter().map(|&a| x.shape()[a]).product();
    let mut acc = vec![0i64; out_full.iter().product()];
    let mut idx = vec![0usize; rank];
    for &v in x.data() {
        let flat: usize = (0..rank).filter(|&d| !reduced[d]).map(|d| idx[d] * out_strides[d]).sum();
        acc[flat] = acc[flat].wrapping_add(v);
        for d in (0..rank).rev() {
            idx[d] += 1;
            if idx[d] < x.shape()[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    if mean {
        for a in &mut acc {
            *a = div_round(*a, count as i64).unwrap_or(0);
        }
    }
    let shape =
        if keepdims { out_full } else { (0..rank).filter(|&d| !reduced[d]).map(|d| x.shape()[d]).collect() };
    Tensor::new(shape, acc)
}
