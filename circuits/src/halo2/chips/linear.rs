//! Mat-vec with fixed weights: `y_j = b_j + Σ_k W[k][j] · x_k`.
//!
//! Cell layout per block of `MV_WIDTH` outputs: an `MvInit` row with the biases in the fixed weight
//! columns and in lanes 1.., then one `Mv` row per input element: lane 0 holds `x_k` (copied from where it
//! was computed), the fixed columns hold `W[k][j]`, lanes 1.. the running sums. The outputs are the running
//! sums on the last row. One row does `MV_WIDTH` multiply-accumulates and copies `x_k` once.

use super::super::layout::{fe, Gate, Layout, Pos, MV_WIDTH};
use crate::halo2::CircuitError;

/// Lays out `y = Wᵀx + b` for `x` given as cells with their values; `w` is row-major `[K][N]`.
/// Returns the `N` output cells and values.
pub fn matvec(
    l: &mut Layout,
    x: &[(Pos, i64)],
    w: &[i64],
    n: usize,
    bias: Option<&[i64]>,
) -> Result<Vec<(Pos, i64)>, CircuitError> {
    let k = x.len();
    if w.len() != k * n || bias.is_some_and(|b| b.len() != n) {
        return Err(CircuitError::Layout(format!(
            "mat-vec shapes: {k} inputs, {} weights, {n} outputs",
            w.len()
        )));
    }
    let mut out = Vec::with_capacity(n);
    for j0 in (0..n).step_by(MV_WIDTH) {
        let width = MV_WIDTH.min(n - j0);
        let init = l.push_row();
        l.selectors[Gate::MvInit as usize][init] = true;
        let mut acc: Vec<i64> = (0..width).map(|i| bias.map_or(0, |b| b[j0 + i])).collect();
        for (i, a) in acc.iter().enumerate() {
            l.weights[i][init] = fe(*a);
            l.lanes[1 + i][init] = fe(*a);
        }
        let mut row = init;
        for (kk, &(src, xv)) in x.iter().enumerate() {
            row = l.push_row();
            l.selectors[Gate::Mv as usize][row] = true;
            l.lanes[0][row] = fe(xv);
            l.copies.push((Pos::Lane(0, row), src));
            for (i, a) in acc.iter_mut().enumerate() {
                let wv = w[kk * n + j0 + i];
                *a = a.wrapping_add(wv.wrapping_mul(xv));
                l.weights[i][row] = fe(wv);
                l.lanes[1 + i][row] = fe(*a);
            }
        }
        out.extend(acc.iter().enumerate().map(|(i, &a)| (Pos::Lane(1 + i, row), a)));
    }
    Ok(out)
}
