//! A Softmax with an attention mask (`QOp::Softmax`'s constant 0/1 second input) on the row view: the
//! unmasked step's arguments, with every masked slot treated as follows.
//!
//! - **Gap 1.** The committed gaps satisfy `W_K(x) = m·K - g + M` on the view, `K` the kept slots, `M`
//!   the masked real ones (both public) and `W_K` the wiring that reads `x` at kept positions only: at a
//!   kept slot `x = m - g` as before (so `g ≥ 0` by range makes `m` at least every kept `x`); at a masked
//!   slot `0 = -g + 1`, so `g = 1`, neutral in the zerocheck `Π_j g_j = 0`, which therefore makes `m` one
//!   of the kept values. The input at a masked slot is read by nothing: it may exceed `m`.
//! - **Out of the sum, out of the output.** The row sum is a wiring over kept slots; the output is the
//!   wiring of the view's `y` at kept positions, so a masked position's output is 0 by construction (the
//!   view's entry there, a division of `exp(-1)` by the sum, is read by nothing but its own range and
//!   division checks).
//! - **`m·K`.** `K` depends on the row and the slot, so `(m·K)~` does not factor like the unmasked `m·[j <
//!   len]`: the prover sends `c = (m·K)~(ρ)` and one product sumcheck over the rows, `Σ_o m(o)·h(o)` with
//!   `h(o) = eq(ρ_row, o)·K̃_o(ρ_slot)`, ends in a claim on `m̃` and the public `h̃`.
//!
//! Every weight and wiring here is computed from the mask, a constant of the model, in `O(rows · len)`.

use poai_circuits::Fr;

use super::plan::RowView;
use super::wiring::Wiring;
use crate::mle::eq_evals;

/// The view position of real position `i` (row-major over `rows × len`).
fn view_position(view: RowView, i: usize) -> usize {
    let len = view.len.max(1);
    ((i / len) << view.slot_vars) | (i % len)
}

/// `(flat position, view position)` of every kept position.
fn kept(view: RowView, keep: &[bool]) -> impl Iterator<Item = (usize, usize)> + '_ {
    (0..view.rows * view.len).filter(|&i| keep[i]).map(move |i| (i, view_position(view, i)))
}

/// Variables of the view.
fn view_vars(view: RowView) -> usize {
    view.row_vars() + view.slot_vars
}

/// The flat output from the view's `y`: kept positions only (a masked output is 0).
pub(super) fn output_wiring(view: RowView, keep: &[bool], flat_vars: usize) -> Wiring {
    Wiring { pairs: kept(view, keep).collect(), out_vars: flat_vars, in_vars: view_vars(view) }
}

/// `W_K(x)` on the view: the flat input at kept positions only.
pub(super) fn input_wiring(view: RowView, keep: &[bool], flat_vars: usize) -> Wiring {
    Wiring {
        pairs: kept(view, keep).map(|(f, v)| (v, f)).collect(),
        out_vars: view_vars(view),
        in_vars: flat_vars,
    }
}

/// Each row's sum over its kept slots.
pub(super) fn row_sum_wiring(view: RowView, keep: &[bool]) -> Wiring {
    let lb = view.slot_vars;
    let pairs = kept(view, keep).map(|(_, v)| (v >> lb, v)).collect();
    Wiring { pairs, out_vars: view.row_vars(), in_vars: view_vars(view) }
}

/// Per row `o`, `K̃_o(ρ_slot) = Σ_j eq(ρ_slot, j)·K(o, j)`, over the `2^row_vars` rows.
fn kept_per_row(view: RowView, keep: &[bool], slot_point: &[Fr]) -> Vec<Fr> {
    let eq = eq_evals(slot_point);
    let mut out = vec![Fr::from(0); 1 << view.row_vars()];
    for (_, v) in kept(view, keep) {
        out[v >> view.slot_vars] += eq[v & ((1 << view.slot_vars) - 1)];
    }
    out
}

/// The weights `h(o) = eq(ρ_row, o)·K̃_o(ρ_slot)` of the sumcheck that gives `(m·K)~(ρ)` (`ρ` slot
/// variables first, as the view's).
pub(super) fn max_weights(view: RowView, keep: &[bool], point: &[Fr]) -> Vec<Fr> {
    let lb = view.slot_vars;
    let eq_row = eq_evals(&point[lb..]);
    kept_per_row(view, keep, &point[..lb]).iter().zip(&eq_row).map(|(k, e)| *k * e).collect()
}

/// `h̃(r)` for [`max_weights`].
pub(super) fn max_weights_at(view: RowView, keep: &[bool], point: &[Fr], r: &[Fr]) -> Fr {
    let eq_r = eq_evals(r);
    max_weights(view, keep, point).iter().zip(&eq_r).map(|(h, e)| *h * e).sum()
}

/// `M̃(ρ)`: the masked real positions' indicator at `ρ`.
pub(super) fn masked_at(view: RowView, keep: &[bool], point: &[Fr]) -> Fr {
    let eq = eq_evals(point);
    (0..view.rows * view.len).filter(|&i| !keep[i]).map(|i| eq[view_position(view, i)]).sum()
}
