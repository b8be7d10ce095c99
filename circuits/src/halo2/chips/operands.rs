//! Operand types the linear chips share (`linear` with its dot-product and mat-vec chips, and
//! `freivalds`): weights as constants or committed cells, the shared 0 and 1 cells, and the shape check
//! of a batch of products. A layer below both, so neither chip file imports the other for them.

use std::borrow::Cow;

use super::super::layout::{fe, Layout, Pos};
use crate::halo2::CircuitError;

/// Weights or biases of a linear op: constants of the circuit, or cells of committed parameters.
#[derive(Clone, Debug)]
pub enum Weights<'a> {
    /// Fixed-column constants, bound by the verifying key.
    Fixed(Cow<'a, [i64]>),
    /// Advice cells with their values, bound by the in-circuit model commitment.
    Cells(Cow<'a, [(Pos, i64)]>),
}

impl Weights<'_> {
    /// Number of entries.
    pub fn len(&self) -> usize {
        match self {
            Self::Fixed(w) => w.len(),
            Self::Cells(w) => w.len(),
        }
    }

    /// True if there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entries at `idx`, in that order (indices must be in range).
    pub fn gather(&self, idx: impl Iterator<Item = usize>) -> Option<Weights<'static>> {
        Some(match self {
            Self::Fixed(w) => {
                Weights::Fixed(Cow::Owned(idx.map(|i| w.get(i).copied()).collect::<Option<_>>()?))
            }
            Self::Cells(w) => {
                Weights::Cells(Cow::Owned(idx.map(|i| w.get(i).copied()).collect::<Option<_>>()?))
            }
        })
    }
}

/// Cells constrained to 0 and 1, made on first use and shared by every chip of a layout.
#[derive(Clone, Copy, Debug, Default)]
pub struct SharedCells {
    zero: Option<Pos>,
    one: Option<Pos>,
}

impl SharedCells {
    /// The cell constrained to 0.
    pub fn zero(&mut self, l: &mut Layout) -> (Pos, i64) {
        (*self.zero.get_or_insert_with(|| constant_cell(l, 0)), 0)
    }

    /// The cell constrained to 1.
    pub fn one(&mut self, l: &mut Layout) -> (Pos, i64) {
        (*self.one.get_or_insert_with(|| constant_cell(l, 1)), 1)
    }
}

/// A fresh cell constrained to the constant `v`.
pub(crate) fn constant_cell(l: &mut Layout, v: i64) -> Pos {
    let cell = l.push_witness(fe(v));
    l.constants.push((cell, fe(v)));
    cell
}

/// The input length `K` of `y[p] = Wᵀ·x[p] + b` for `xs` against `w` (`[K][N]`), after checking the
/// shapes agree (at least one vector, at least one output); `what` names the chip in the error.
pub(crate) fn product_inputs(
    xs: &[Vec<(Pos, i64)>],
    w: &[(Pos, i64)],
    n: usize,
    bias: Option<&Weights<'_>>,
    what: &str,
) -> Result<usize, CircuitError> {
    let k = xs.first().map_or(0, Vec::len);
    if xs.is_empty()
        || n == 0
        || xs.iter().any(|x| x.len() != k)
        || w.len() != k * n
        || bias.is_some_and(|b| b.len() != n)
    {
        return Err(CircuitError::Layout(format!(
            "{what}: {} inputs of {k}, {} weights, {n} outputs, {} biases",
            xs.len(),
            w.len(),
            bias.map_or(0, Weights::len)
        )));
    }
    Ok(k)
}

/// Cells of one value, row-major, with their witness values.
pub(crate) type Cells = Vec<(Pos, i64)>;
