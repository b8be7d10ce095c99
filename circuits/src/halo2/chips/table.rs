//! Non-linear functions by lookup: `(tag, x, y)` must be a row of the tables (`ir::table`), where the
//! tag selects the function and its scales. Rows on dedicated columns: `x` copy-constrained to the input
//! cell, `y` the output cell. Unused rows hold `(0, 0, 0)`, which the table contains.

use super::super::layout::{fe, Layout, Pos};
use crate::halo2::CircuitError;
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
            l.tables.push(*spec);
            l.tables.len()
        }
    };
    let y = spec.value(src.1);
    l.tab_tag.push(fe(tag as i64));
    l.tab_x.push(fe(src.1));
    l.tab_y.push(fe(y));
    let row = l.tab_x.len() - 1;
    l.copies.push((Pos::TabX(row), src.0));
    Ok((Pos::TabY(row), y))
}
