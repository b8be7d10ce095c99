//! How a tensor sits on the Boolean hypercube: its values in row-major order, then zeros up to the next
//! power of two (the tail). A reshape keeps every position, and a committed tensor stores only its real
//! values (the tail is zero by construction, never committed).
//!
//! Matrix products need rows and columns on their own variables; [`matrix`] is that view of a row-major
//! `[rows, cols]` tensor (each axis padded to a power of two) and [`matrix_wiring`] moves claims between
//! the views. Every reduction keeps tails and padding zero: a bias is added on real rows and columns only,
//! a window or an im2col patch reads only real positions, and constants are zero-padded, so a padded inner
//! dimension of a product contributes nothing.

use halo2_base::halo2_proofs::halo2curves::ff::Field;
use poai_circuits::Fr;

use super::wiring::Wiring;
pub use crate::mle::prefix_indicator_at;
use crate::mle::signed;
use crate::SumcheckError;

/// `ceil(log2(n))`, with `n = 0` or `1` taking no variable.
pub fn log2_ceil(n: usize) -> usize {
    n.max(1).next_power_of_two().trailing_zeros() as usize
}

/// The flat layout of a tensor of `len` values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    dims: Vec<usize>,
    len: usize,
    vars: usize,
}

impl Layout {
    /// The layout of a tensor of shape `dims`.
    pub fn new(dims: &[usize]) -> Self {
        let len = dims.iter().product();
        Self { dims: dims.to_vec(), len, vars: log2_ceil(len) }
    }

    /// The real dimensions.
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// Number of real values.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for a tensor without values.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of variables.
    pub fn vars(&self) -> usize {
        self.vars
    }

    /// `2^vars`.
    pub fn size(&self) -> usize {
        1 << self.vars
    }

    /// The position of a multi-index (row-major).
    pub fn position(&self, index: &[usize]) -> usize {
        index.iter().zip(&self.dims).fold(0, |acc, (&i, &d)| acc * d + i)
    }

    /// Row-major values with the zero tail.
    pub fn lay_out(&self, values: &[i64]) -> Result<Vec<i64>, SumcheckError> {
        if values.len() != self.len {
            return Err(SumcheckError::Shape(format!(
                "{} values for a tensor of shape {:?}",
                values.len(),
                self.dims
            )));
        }
        let mut out = values.to_vec();
        out.resize(self.size(), 0);
        Ok(out)
    }

    /// The laid-out values as field elements.
    pub fn lay_out_field(&self, values: &[i64]) -> Result<Vec<Fr>, SumcheckError> {
        Ok(self.lay_out(values)?.into_iter().map(signed).collect())
    }

    /// The indicator of real positions at `point`.
    pub fn real_at(&self, point: &[Fr]) -> Fr {
        prefix_indicator_at(self.len, point)
    }
}

/// A row-major `[rows, cols]` matrix with each axis padded to a power of two (columns in the low
/// variables): the layout of [`crate::matmul`].
pub fn matrix(rows: usize, cols: usize, values: &[i64]) -> Result<Vec<Fr>, SumcheckError> {
    if values.len() != rows * cols {
        return Err(SumcheckError::Shape(format!("{} values for a {rows} × {cols} matrix", values.len())));
    }
    let (rb, cb) = (log2_ceil(rows), log2_ceil(cols));
    let mut out = vec![Fr::ZERO; 1 << (rb + cb)];
    for r in 0..rows {
        for c in 0..cols {
            out[(r << cb) | c] = signed(values[r * cols + c]);
        }
    }
    Ok(out)
}

/// The wiring that reads the matrix view of a row-major `[rows, cols]` tensor from its flat layout
/// (`(matrix position, flat position)` pairs), or with `to_flat` the flat layout from the matrix view;
/// `None` when the two coincide (one row, or a power-of-two column count).
pub fn matrix_wiring(rows: usize, cols: usize, to_flat: bool) -> Option<Wiring> {
    let (rb, cb) = (log2_ceil(rows), log2_ceil(cols));
    if rows <= 1 || cols.is_power_of_two() {
        return None;
    }
    let (flat_vars, mat_vars) = (log2_ceil(rows * cols), rb + cb);
    let pairs = (0..rows).flat_map(|r| {
        (0..cols).map(move |c| {
            let (flat, mat) = (r * cols + c, (r << cb) | c);
            if to_flat {
                (flat, mat)
            } else {
                (mat, flat)
            }
        })
    });
    let (out_vars, in_vars) = if to_flat { (flat_vars, mat_vars) } else { (mat_vars, flat_vars) };
    Some(Wiring { pairs: pairs.collect(), out_vars, in_vars })
}
