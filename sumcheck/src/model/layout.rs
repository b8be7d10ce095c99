//! How a tensor sits on the Boolean hypercube: its values in row-major order, then zeros up to the next
//! power of two (the tail). A reshape keeps every position, and a committed tensor stores only its real
//! values (the tail is zero by construction, never committed).
//!
//! Matrix products need rows and columns on their own variables; [`matrix`] is that view of a row-major
//! `[rows, cols]` tensor (each axis padded to a power of two) and [`batched_matrix_wiring`] moves claims between
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

/// Which positions of a hypercube hold real values: a prefix (a flat layout), or the first `len` slots of
/// each of the first `rows` rows of `2^slot_vars` slots (a row view whose rows are padded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Real {
    /// The first `n` positions.
    Prefix(usize),
    /// Slots `0..len` of rows `0..rows`, rows on the high variables.
    Rows {
        /// Real rows.
        rows: usize,
        /// Real slots per row.
        len: usize,
        /// Variables of a row.
        slot_vars: usize,
    },
}

impl Real {
    /// Whether position `i` is real.
    pub fn contains(&self, i: usize) -> bool {
        match *self {
            Real::Prefix(n) => i < n,
            Real::Rows { rows, len, slot_vars } => i >> slot_vars < rows && i & ((1 << slot_vars) - 1) < len,
        }
    }

    /// The indicator over `2^vars` positions.
    pub fn values(&self, vars: usize) -> Vec<Fr> {
        (0..1usize << vars).map(|i| if self.contains(i) { Fr::ONE } else { Fr::ZERO }).collect()
    }

    /// The indicator's extension at `point`, in `O(point.len())`.
    pub fn at(&self, point: &[Fr]) -> Fr {
        match *self {
            Real::Prefix(n) => prefix_indicator_at(n, point),
            Real::Rows { rows, len, slot_vars } => {
                let (slots, row) = point.split_at(slot_vars.min(point.len()));
                prefix_indicator_at(len, slots) * prefix_indicator_at(rows, row)
            }
        }
    }
}

/// A row-major `[rows, cols]` matrix with each axis padded to a power of two (columns in the low
/// variables): the layout of [`crate::matmul`].
pub fn matrix(rows: usize, cols: usize, values: &[i64]) -> Result<Vec<Fr>, SumcheckError> {
    batched_matrix((1, rows, cols), values)
}

/// A row-major `[batch, rows, cols]` stack of matrices with each axis padded to a power of two (columns
/// in the low variables, the batch in the high ones).
pub fn batched_matrix(
    (batch, rows, cols): (usize, usize, usize),
    values: &[i64],
) -> Result<Vec<Fr>, SumcheckError> {
    if values.len() != batch * rows * cols {
        return Err(SumcheckError::Shape(format!(
            "{} values for {batch} matrices of {rows} × {cols}",
            values.len()
        )));
    }
    let (bb, rb, cb) = (log2_ceil(batch), log2_ceil(rows), log2_ceil(cols));
    let mut out = vec![Fr::ZERO; 1 << (bb + rb + cb)];
    for (flat, &v) in values.iter().enumerate() {
        let (b, r, c) = (flat / (rows * cols), flat / cols % rows, flat % cols);
        out[(((b << rb) | r) << cb) | c] = signed(v);
    }
    Ok(out)
}

/// Whether the stacked matrix view of a `[batch, rows, cols]` tensor is its flat layout: a power-of-two
/// column count, and one matrix or a power-of-two row count; or a single row.
pub fn views_coincide((batch, rows, cols): (usize, usize, usize)) -> bool {
    let columns_fit = cols.is_power_of_two() || rows * batch <= 1;
    let rows_fit = rows.is_power_of_two() || batch <= 1;
    columns_fit && rows_fit
}

/// The wiring that reads the stacked matrix view ([`batched_matrix`]) of a row-major `[batch, rows,
/// cols]` tensor from its flat layout (`(view position, flat position)` pairs), or with `to_flat` the flat
/// layout from the view; `None` when the two coincide (a power-of-two column count, and one matrix or a
/// power-of-two row count; or a single row).
pub fn batched_matrix_wiring(dims: (usize, usize, usize), to_flat: bool) -> Option<Wiring> {
    if views_coincide(dims) {
        return None;
    }
    let (batch, rows, cols) = dims;
    let (bb, rb, cb) = (log2_ceil(batch), log2_ceil(rows), log2_ceil(cols));
    let (flat_vars, mat_vars) = (log2_ceil(batch * rows * cols), bb + rb + cb);
    let pairs = (0..batch * rows * cols).map(|flat| {
        let (b, r, c) = (flat / (rows * cols), flat / cols % rows, flat % cols);
        let mat = (((b << rb) | r) << cb) | c;
        if to_flat {
            (flat, mat)
        } else {
            (mat, flat)
        }
    });
    let (out_vars, in_vars) = if to_flat { (flat_vars, mat_vars) } else { (mat_vars, flat_vars) };
    Some(Wiring { pairs: pairs.collect(), out_vars, in_vars })
}
