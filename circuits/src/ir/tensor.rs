//! Dense row-major integer tensors and the broadcasting rule (NumPy/ONNX multidirectional).

use serde::{Deserialize, Serialize};

use super::IrError;

/// A dense row-major tensor of fixed-point integers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tensor {
    shape: Vec<usize>,
    data: Vec<i64>,
}

impl Tensor {
    /// Builds a tensor, checking that `data` holds exactly `shape.product()` values.
    pub fn new(shape: Vec<usize>, data: Vec<i64>) -> Result<Self, IrError> {
        let expected = numel(&shape);
        if expected != data.len() {
            return Err(IrError::ShapeData { shape, len: data.len() });
        }
        Ok(Self { shape, data })
    }

    /// A tensor of zeros.
    pub fn zeros(shape: Vec<usize>) -> Self {
        let n = numel(&shape);
        Self { shape, data: vec![0; n] }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The values in row-major order.
    pub fn data(&self) -> &[i64] {
        &self.data
    }

    /// Mutable access to the values (the shape is fixed).
    pub fn data_mut(&mut self) -> &mut [i64] {
        &mut self.data
    }

    /// Consumes the tensor, returning its values.
    pub fn into_data(self) -> Vec<i64> {
        self.data
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True for a tensor with no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Same data, another shape of equal size.
    pub fn reshaped(self, shape: Vec<usize>) -> Result<Self, IrError> {
        Self::new(shape, self.data)
    }

    /// Applies `f` to every element.
    pub fn map(&self, f: impl Fn(i64) -> i64 + Sync) -> Self {
        Self { shape: self.shape.clone(), data: self.data.iter().map(|&x| f(x)).collect() }
    }
}

/// Number of elements of a shape.
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Row-major strides of a shape.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// The broadcast shape of two shapes, or `None` when they are incompatible.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n { a[i + a.len() - n] } else { 1 };
        let db = if i + b.len() >= n { b[i + b.len() - n] } else { 1 };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// For every element of `out_shape`, the flat index of the element of `shape` it broadcasts from.
pub fn broadcast_index_map(shape: &[usize], out_shape: &[usize]) -> Vec<usize> {
    let n = out_shape.len();
    let offset = n - shape.len();
    let src_strides = strides(shape);
    let total = numel(out_shape);
    let mut map = Vec::with_capacity(total);
    let mut idx = vec![0usize; n];
    for _ in 0..total {
        let mut flat = 0;
        for (d, &i) in idx.iter().enumerate().skip(offset) {
            let dim = shape[d - offset];
            if dim != 1 {
                flat += i * src_strides[d - offset];
            }
        }
        map.push(flat);
        for d in (0..n).rev() {
            idx[d] += 1;
            if idx[d] < out_shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    map
}

/// Element-wise binary op with broadcasting.
pub fn broadcast_binary(a: &Tensor, b: &Tensor, f: impl Fn(i64, i64) -> i64) -> Result<Tensor, IrError> {
    let shape = broadcast_shape(a.shape(), b.shape())
        .ok_or_else(|| IrError::Broadcast { a: a.shape().to_vec(), b: b.shape().to_vec() })?;
    if a.shape() == b.shape() {
        let data = a.data().iter().zip(b.data()).map(|(&x, &y)| f(x, y)).collect();
        return Tensor::new(shape, data);
    }
    let ma = broadcast_index_map(a.shape(), &shape);
    let mb = broadcast_index_map(b.shape(), &shape);
    let data = ma.iter().zip(&mb).map(|(&i, &j)| f(a.data()[i], b.data()[j])).collect();
    Tensor::new(shape, data)
}
