//! Non-linear functions by lookup: `(tag, x, y, d)` must be a row of the tables (`ir::table`), where the
//! tag selects the function and its scales, `y` is the entry at index `x` and `d` its slope to the next
//! (the slope column exists only in circuits where some table interpolates). Rows on dedicated columns:
//! `x` copy-constrained to the index cell, `y` the entry. Unused rows hold zeros, which the table contains.
//!
//! A plain table's index is the input and its entry the output. An interpolated table (`interp_bits =
//! f`) adds one main-region row ([`Gate::Interp`]) that splits the input `x = q·2^f + r`, looks `q` up and
//! returns `y = c + round(d·r / 2^f)`, with `r` and the rounding remainder `e` range-checked to `f` bits and
//! `y` to the output width (which bounds `t = y - c`, so the division is exact over the integers).

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::plonk::{Expression, VirtualCells};

use super::super::layout::{fe, Gate, Layout, Pos};
use super::elementwise::signed_range_check;
use super::gate::GateColumns;
use super::range::range_check;
use crate::halo2::CircuitError;
use crate::ir::table::interpolate;
use crate::ir::TableSpec;

/// `y = spec.value(x)`; `x` must already lie in the table's domain (the rescale in front of every table
/// saturates it there), otherwise the circuit could not prove what `eval` computes.
pub fn table_lookup(l: &mut Layout, src: (Pos, i64), spec: &TableSpec) -> Result<(Pos, i64), CircuitError> {
    let (lo, hi) = spec.domain();
    if src.1 < lo || src.1 > hi {
        return Err(CircuitError::Layout(format!("table input {} outside the domain [{lo}, {hi}]", src.1)));
    }
    let tag = match l.tables.iter().position(|t| t == spec) {
        Some(i) => i + 1,
        None => {
            spec.check().map_err(CircuitError::Layout)?;
            l.tables.push(*spec);
            l.tables.len()
        }
    };
    let (q, r) = spec.split(src.1);
    let (c, d) = spec.entry_slope(q);
    l.tab_tag.push(fe(tag as i64));
    l.tab_x.push(fe(q));
    l.tab_y.push(fe(c));
    l.tab_d.push(fe(d));
    let tab = l.tab_x.len() - 1;
    let f = spec.interp_bits;
    if f == 0 {
        l.copies.push((Pos::TabX(tab), src.0));
        return Ok((Pos::TabY(tab), c));
    }
    let (step, half) = (1i64 << f, 1i64 << (f - 1));
    let (t, e) = interpolate(d, r, f);
    let y = c + t;
    let row = l.push_row();
    l.selectors[Gate::Interp as usize][row] = true;
    use interp_row::{C, D, E, Q, R, T, X, Y};
    for (lane, v) in [(X, src.1), (Q, q), (R, r), (C, c), (D, d), (T, t), (E, e), (Y, y)] {
        l.lanes[lane][row] = fe(v);
    }
    l.consts[0][row] = fe(step);
    l.consts[1][row] = fe(half);
    l.copies.push((Pos::Lane(X, row), src.0));
    l.copies.push((Pos::Lane(Q, row), Pos::TabX(tab)));
    l.copies.push((Pos::Lane(C, row), Pos::TabY(tab)));
    l.copies.push((Pos::Lane(D, row), Pos::TabD(tab)));
    range_check(l, Pos::Lane(R, row), r, f)?;
    range_check(l, Pos::Lane(E, row), e, f)?;
    signed_range_check(l, (Pos::Lane(Y, row), y), spec.out_bits)?;
    Ok((Pos::Lane(Y, row), y))
}

/// Lanes of an interpolated lookup's row: input, its split `q, r`, the entry and slope at `q`, the
/// rounded `t = round(d·r / 2^f)` with remainder `e`, and the output.
mod interp_row {
    pub(super) const X: usize = 0;
    pub(super) const Q: usize = 1;
    pub(super) const R: usize = 2;
    pub(super) const C: usize = 3;
    pub(super) const D: usize = 4;
    pub(super) const T: usize = 5;
    pub(super) const E: usize = 6;
    pub(super) const Y: usize = 7;
}

/// [`Gate::Interp`]: `x = q·2^f + r`, `d·r + 2^(f-1) = t·2^f + e`, `y = c + t` (`2^f`, `2^(f-1)` in
/// constant columns 0 and 1). Uniqueness: the module doc (`r`, `e` range-checked to `f` bits, `y` to the
/// output width).
pub(crate) fn interp_gate(
    c: &GateColumns,
    m: &mut VirtualCells<'_, Fr>,
    on: Expression<Fr>,
) -> Vec<Expression<Fr>> {
    use interp_row::{C, D, E, Q, R, T, X, Y};
    let [x, q, r, entry, d, t, e, y] = c.lanes(m, [X, Q, R, C, D, T, E, Y]);
    let [step, half] = c.consts(m, [0, 1]);
    vec![
        on.clone() * (x - q * step.clone() - r.clone()),
        on.clone() * (d * r + half - t.clone() * step - e),
        on * (y - entry - t),
    ]
}
