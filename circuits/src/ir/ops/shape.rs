//! Shape ops: pure data movement, no arithmetic.

use serde::{Deserialize, Serialize};

use crate::ir::tensor::{numel, strides};
use crate::ir::{IrError, Tensor};

/// A strided selection along one axis: indices `start + i * step` for `i < len`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SliceAxis {
    /// Normalised axis.
    pub axis: usize,
    /// First index.
    pub start: usize,
    /// Step (non-zero, may be negative).
    pub step: i64,
    /// Number of selected indices.
    pub len: usize,
}

/// Visits every multi-index of `shape` in row-major order.
fn for_each_index(shape: &[usize], mut f: impl FnMut(&[usize])) {
    if shape.contains(&0) {
        return;
    }
    let mut idx = vec![0usize; shape.len()];
    for _ in 0..numel(shape) {
        f(&idx);
        for d in (0..shape.len()).rev() {
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}

pub(super) fn transpose(x: &Tensor, perm: &[usize]) -> Result<Tensor, IrError> {
    let rank = x.shape().len();
    let mut seen = vec![false; rank];
    if perm.len() != rank || perm.iter().any(|&p| p >= rank || std::mem::replace(&mut seen[p], true)) {
        return Err(IrError::Shape { op: "Transpose", detail: format!("perm {perm:?} for {:?}", x.shape()) });
    }
    let src_strides = strides(x.shape());
    let shape: Vec<usize> = perm.iter().map(|&p| x.shape()[p]).collect();
    let mut data = Vec::with_capacity(x.len());
    for_each_index(&shape, |idx| {
        let flat: usize = idx.iter().zip(perm).map(|(&i, &p)| i * src_strides[p]).sum();
        data.push(x.data()[flat]);
    });
    Tensor::new(shape, data)
}

pub(super) fn concat(inputs: &[&Tensor], axis: usize) -> Result<Tensor, IrError> {
    let first = inputs[0].shape();
    let bad = |detail: String| IrError::Shape { op: "Concat", detail };
    if axis >= first.len() {
        return Err(bad(format!("axis {axis} for {first:?}")));
    }
    for t in inputs {
        let s = t.shape();
        if s.len() != first.len() || (0..s.len()).any(|d| d != axis && s[d] != first[d]) {
            return Err(bad(format!("{s:?} does not match {first:?} off axis {axis}")));
        }
    }
    let outer: usize = first[..axis].iter().product();
    let mut shape = first.to_vec();
    shape[axis] = inputs.iter().map(|t| t.shape()[axis]).sum();
    let mut data = Vec::with_capacity(numel(&shape));
    for o in 0..outer {
        for t in inputs {
            let chunk: usize = t.shape()[axis..].iter().product();
            data.extend_from_slice(&t.data()[o * chunk..][..chunk]);
        }
    }
    Tensor::new(shape, data)
}

pub(super) fn slice(x: &Tensor, axes: &[SliceAxis]) -> Result<Tensor, IrError> {
    let rank = x.shape().len();
    let mut shape = x.shape().to_vec();
    for s in axes {
        let last = s.start as i64 + (s.len as i64 - 1) * s.step;
        let dim = x.shape().get(s.axis).copied().unwrap_or(0) as i64;
        if s.axis >= rank || s.step == 0 || (s.len > 0 && (s.start as i64 >= dim || last < 0 || last >= dim))
        {
            return Err(IrError::Shape { op: "Slice", detail: format!("{s:?} for {:?}", x.shape()) });
        }
        shape[s.axis] = s.len;
    }
    let src_strides = strides(x.shape());
    let mut data = Vec::with_capacity(numel(&shape));
    for_each_index(&shape, |idx| {
        let mut flat = 0usize;
        for (d, &i) in idx.iter().enumerate() {
            let src_i = match axes.iter().find(|s| s.axis == d) {
                Some(s) => (s.start as i64 + i as i64 * s.step) as usize,
                None => i,
            };
            flat += src_i * src_strides[d];
        }
        data.push(x.data()[flat]);
    });
    Tensor::new(shape, data)
}

pub(super) fn gather(
    x: &Tensor,
    axis: usize,
    indices: &[usize],
    indices_shape: &[usize],
) -> Result<Tensor, IrError> {
    let bad = |detail: String| IrError::Shape { op: "Gather", detail };
    if axis >= x.shape().len() {
        return Err(bad(format!("axis {axis} for {:?}", x.shape())));
    }
    if numel(indices_shape) != indices.len() || indices.iter().any(|&i| i >= x.shape()[axis]) {
        return Err(bad(format!("indices {indices:?} for dim {}", x.shape()[axis])));
    }
    let outer: usize = x.shape()[..axis].iter().product();
    let inner: usize = x.shape()[axis + 1..].iter().product();
    let dim = x.shape()[axis];
    let mut data = Vec::with_capacity(outer * indices.len() * inner);
    for o in 0..outer {
        for &i in indices {
            data.extend_from_slice(&x.data()[(o * dim + i) * inner..][..inner]);
        }
    }
    let mut shape = x.shape()[..axis].to_vec();
    shape.extend_from_slice(indices_shape);
    shape.extend_from_slice(&x.shape()[axis + 1..]);
    Tensor::new(shape, data)
}

pub(super) fn one_hot(x: &Tensor, depth: usize) -> Result<Tensor, IrError> {
    if depth == 0 {
        return Err(IrError::Shape { op: "OneHot", detail: "depth 0".into() });
    }
    let mut shape = x.shape().to_vec();
    shape.push(depth);
    let n = numel(&shape);
    if n > MAX_ONE_HOT_ELEMENTS {
        return Err(IrError::Shape {
            op: "OneHot",
            detail: format!("{} indices of depth {depth} exceed {MAX_ONE_HOT_ELEMENTS} elements", x.len()),
        });
    }
    let mut data = vec![0i64; n];
    for (i, &v) in x.data().iter().enumerate() {
        match usize::try_from(v) {
            Ok(v) if v < depth => data[i * depth + v] = 1,
            _ => {
                return Err(IrError::Shape {
                    op: "OneHot",
                    detail: format!(
                        "index {v} at position {i} lies outside [0, {depth}): a token id must name a row of \
                         the embedding table"
                    ),
                })
            }
        }
    }
    Tensor::new(shape, data)
}

/// Most elements a one-hot encoding may produce (bounds the allocation before it happens).
pub const MAX_ONE_HOT_ELEMENTS: usize = 1 << 28;
