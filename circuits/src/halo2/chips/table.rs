//! Non-linear functions by lookup: `(tag, x, y, d)` must be a row of the tables (`ir::table`), where the
//! tag selects the function and its scales, `y` is the entry at index `x` and `d` its slope to the next
//! (the slope column exists only in circuits where some table interpolates). Rows on dedicated columns:
//! `x` copy-constrained to the index cell, `y` the entry. Unused rows hold zeros, which the table contains.
//!
//! A plain table's index is the input and its entry the output. An interpolated table (`interp_bits =
//! f`) adds one main-region row ([`Gate::Interp`]) that splits the input `x = q·2^f + r`, looks `q` up and
//! returns `y = c + round(d·r / 2^f)`, with `r` and the rounding remainder `e` range-checked to `f` bits and
//! `y` to the output width (which bounds `t = y - c`, so the division is exact over the integers).

use super::super::layout::{fe, Gate, Layout, Pos};
use super::elementwise::signed_range_check;
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
    for (lane, v) in [src.1, q, r, c, d, t, e, y].into_iter().enumerate() {
        l.lanes[lane][row] = fe(v);
    }
    l.consts[0][row] = fe(step);
    l.consts[1][row] = fe(half);
    l.copies.push((Pos::Lane(0, row), src.0));
    l.copies.push((Pos::Lane(1, row), Pos::TabX(tab)));
    l.copies.push((Pos::Lane(3, row), Pos::TabY(tab)));
    l.copies.push((Pos::Lane(4, row), Pos::TabD(tab)));
    range_check(l, Pos::Lane(2, row), r, f)?;
    range_check(l, Pos::Lane(6, row), e, f)?;
    signed_range_check(l, (Pos::Lane(7, row), y), spec.out_bits)?;
    Ok((Pos::Lane(7, row), y))
}
