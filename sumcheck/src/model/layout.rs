//! How a tensor sits on the Boolean hypercube: each axis padded to a power of two, the last axis in the
//! lowest variables, padding entries zero. So a row-major `[M, K]` matrix is the [`Mle`] of a
//! `2^m × 2^k` matrix (column bits first), a bias `[N]` broadcast over `[M, N]` is the same polynomial
//! in the column variables alone, and element-wise ops map each position to itself.
//!
//! Every tensor's padding is zero in the honest witness: the op reductions keep it so (a bias is added
//! only on real rows; a window or an im2col patch reads only real positions), which is what lets a
//! padded inner dimension of a matrix product contribute nothing.

use halo2_base::halo2_proofs::halo2curves::ff::Field;
use poai_circuits::Fr;

use crate::mle::{eq_evals, signed};
use crate::SumcheckError;

/// The padded layout of one tensor shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    dims: Vec<usize>,
    bits: Vec<usize>,
}

/// `ceil(log2(n))`, with `n = 0` or `1` taking no variable.
pub fn log2_ceil(n: usize) -> usize {
    n.max(1).next_power_of_two().trailing_zeros() as usize
}

impl Layout {
    /// The layout of `dims`.
    pub fn new(dims: &[usize]) -> Self {
        Self { dims: dims.to_vec(), bits: dims.iter().map(|&d| log2_ceil(d)).collect() }
    }

    /// The real dimensions.
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// Variables per axis.
    pub fn bits(&self) -> &[usize] {
        &self.bits
    }

    /// Number of variables.
    pub fn vars(&self) -> usize {
        self.bits.iter().sum()
    }

    /// Number of hypercube positions, `2^vars`.
    pub fn size(&self) -> usize {
        1 << self.vars()
    }

    /// The first variable of `axis` (the last axis starts at 0).
    pub fn axis_start(&self, axis: usize) -> usize {
        self.bits[axis + 1..].iter().sum()
    }

    /// The padded position of a multi-index.
    pub fn position(&self, index: &[usize]) -> usize {
        index.iter().zip(&self.bits).fold(0, |acc, (&i, &b)| (acc << b) | i)
    }

    /// The padded position of the `flat`-th element in row-major order of the real shape.
    pub fn position_of_flat(&self, mut flat: usize) -> usize {
        let mut pos = 0;
        let mut shift = 0;
        for (&d, &b) in self.dims.iter().zip(&self.bits).rev() {
            pos |= (flat % d.max(1)) << shift;
            flat /= d.max(1);
            shift += b;
        }
        pos
    }

    /// Row-major values of the real shape, laid out with zero padding.
    pub fn lay_out(&self, values: &[i64]) -> Result<Vec<i64>, SumcheckError> {
        let real: usize = self.dims.iter().product();
        if values.len() != real {
            return Err(SumcheckError::Shape(format!(
                "{} values for a tensor of shape {:?}",
                values.len(),
                self.dims
            )));
        }
        let mut out = vec![0i64; self.size()];
        values.iter().enumerate().for_each(|(f, &v)| out[self.position_of_flat(f)] = v);
        Ok(out)
    }

    /// The laid-out values as field elements.
    pub fn lay_out_field(&self, values: &[i64]) -> Result<Vec<Fr>, SumcheckError> {
        Ok(self.lay_out(values)?.into_iter().map(signed).collect())
    }

    /// The multilinear extension of the indicator of real positions at `point`: a product over axes of
    /// `Σ_(i < dim) eq(point_axis, i)`, in `O(Σ 2^bits)`.
    pub fn real_mask_at(&self, point: &[Fr]) -> Fr {
        (0..self.dims.len())
            .map(|axis| {
                let start = self.axis_start(axis);
                let slice = &point[start..start + self.bits[axis]];
                prefix_indicator_at(self.dims[axis], slice)
            })
            .product()
    }
}

/// `Σ_(i < n) eq(point, i)`: the indicator of `[0, n)` on the hypercube of `point.len()` variables, at
/// `point`.
pub fn prefix_indicator_at(n: usize, point: &[Fr]) -> Fr {
    if n >= 1 << point.len() {
        return Fr::ONE;
    }
    eq_evals(point).into_iter().take(n).fold(Fr::ZERO, |a, e| a + e)
}
