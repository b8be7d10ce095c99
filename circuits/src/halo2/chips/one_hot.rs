//! One-hot rows of integer indices (`QOp::OneHot`): the first half of an embedding lookup, whose second
//! half is the ordinary mat-vec against the table.
//!
//! Per index cell `x`: `depth` fresh cells `o_v`, each range-checked to one bit, and one mat-vec with the
//! fixed weights `[1, v]` that computes `c = Σ_v o_v` and `s = Σ_v v·o_v`; `c` is copy-constrained to the
//! shared cell holding 1 and `s` to `x`.
//!
//! Uniqueness (over the field): every `o_v` is 0 or 1 (the range lookup admits nothing else). `c = 1` is a
//! sum of `depth` bits, far fewer than the modulus, so exactly one `o_v*` is 1; then `s = v*`, and
//! `s = x` forces `v* = x`. The row is therefore `onehot(x)`, and an `x` outside `[0, depth)` (negative,
//! too large, or any field element that is not such an integer) has no satisfying assignment. Forgery
//! test: `one_hot_forgeries_are_stopped_by_the_bit_checks` in `circuits/tests/circuits/forgery.rs`.

use super::super::layout::{fe, Layout, Pos};
use super::linear::matvec;
use super::operands::{Cells, SharedCells};
use super::range::range_check;
use crate::halo2::CircuitError;

/// Lays out `QOp::OneHot` for the index cells `xs`; returns the `xs.len() · depth` output cells, row-major.
pub fn one_hot(
    l: &mut Layout,
    xs: &[(Pos, i64)],
    depth: usize,
    shared: &mut SharedCells,
) -> Result<Cells, CircuitError> {
    let one = shared.one(l);
    // Row-major [depth][2]: input v weighs 1 towards the count and v towards the index.
    let weights: Vec<i64> = (0..depth as i64).flat_map(|v| [1, v]).collect();
    let mut out = Vec::with_capacity(xs.len().saturating_mul(depth));
    for &(cell, x) in xs {
        let hot = usize::try_from(x)
            .ok()
            .filter(|&v| v < depth)
            .ok_or_else(|| CircuitError::Layout(format!("one-hot index {x} outside [0, {depth})")))?;
        let mut row = Vec::with_capacity(depth);
        for v in 0..depth {
            let bit = i64::from(v == hot);
            let pos = l.push_witness(fe(bit));
            range_check(l, pos, bit, 1)?;
            row.push((pos, bit));
        }
        let sums = matvec(l, &row, &weights, 2, None)?;
        l.copies.push((sums[0].0, one.0));
        l.copies.push((sums[1].0, cell));
        out.extend(row);
    }
    Ok(out)
}
