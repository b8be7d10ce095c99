//! Freivalds' check of a matrix product `Y = X·W` (`X` is `P × K`, `W` is `K × N`, both witnessed):
//! `Y` is a free first-phase witness, and one random linear combination proves all `P·N` entries at once.
//!
//! With challenges `r` and `s` drawn after the first phase is committed, the circuit checks
//!
//! `Σ_n r^(N-1-n) Σ_p s^(P-1-p) y[p][n]  =  Σ_k z_k · u_k`,
//! `z_k = Σ_p s^(P-1-p) x[p][k]`, `u_k = Σ_n r^(N-1-n) w[k][n]`.
//!
//! If `Y ≠ X·W` the difference of the two sides is a non-zero polynomial in `(r, s)` of degree below
//! `N + P`, so a false `Y` passes with probability under `(N + P) / |F|` (about `2^-230` here). The cost
//! is `P·N + P·K + K·N` combined values, eight per row ([`Gate::RlcS`], [`Gate::RlcR`]), plus `K` rows of
//! second-phase products ([`Gate::Dot2`]) and `N` of a second-phase Horner sum ([`Gate::Horner2`]),
//! instead of `P·N·K` multiply-accumulates. For a convolution `P` is the number of output positions, so
//! the saving grows with the image.
//!
//! Uniqueness: `Y` is free in the first phase and bound only by the check, so it is the true product
//! except with probability `(N + P) / |F|` over challenges drawn *after* `Y` is committed. A prover who
//! knew `s` first could move two products of a column against each other (`forgery::forge_freivalds`);
//! the MockProver's challenges are public, which is why its acceptance proves nothing here and the test
//! of this check uses a real proof. The combinations, the dot and Horner sums are polynomials in copied
//! cells and the challenges.
//!
//! Layout: every combination is a run of rows whose lanes hold the combined values (zero cells first,
//! so that all runs over `P` values have the same length and powers); the run's result lands in
//! `p2_0` of the row after it. The `Y` entries are the lanes of their runs themselves (no copy), so the
//! outputs this chip returns are those cells. `X` and `W` entries are copies of the cells they come
//! from.

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::Field;
use halo2_base::halo2_proofs::plonk::{Challenge, Expression, VirtualCells};
use halo2_base::halo2_proofs::poly::Rotation;

use super::super::circuit::Phase2Columns;
use super::super::layout::{fe, Gate, Layout, Pos, RLC_WIDTH};
use super::gate::GateColumns;
use super::operands::{constant_cell, product_inputs, SharedCells, Weights};
use crate::halo2::CircuitError;

/// What the lanes of a combination hold.
enum Lanes<'a> {
    /// Copies of existing cells (inputs and weights).
    Copies(&'a [(Pos, i64)]),
    /// Fresh witness cells holding these values (the products: the check is what binds them).
    Fresh(&'a [i64]),
}

impl Lanes<'_> {
    fn len(&self) -> usize {
        match self {
            Self::Copies(v) => v.len(),
            Self::Fresh(v) => v.len(),
        }
    }

    /// The value of lane `j`, and the cell it copies (none for a fresh cell).
    fn get(&self, j: usize) -> Option<(Option<Pos>, i64)> {
        match self {
            Self::Copies(v) => v.get(j).map(|&(p, x)| (Some(p), x)),
            Self::Fresh(v) => v.get(j).map(|&x| (None, x)),
        }
    }
}

/// Lays out `values` as one combination in `gate`'s challenge, eight to a row, zero cells first.
/// Returns the result's second-phase cell and the lanes' positions.
fn combination(l: &mut Layout, gate: Gate, values: Lanes<'_>, zero: (Pos, i64)) -> (Pos, Vec<Pos>) {
    let rows = values.len().div_ceil(RLC_WIDTH).max(1);
    let pad = rows * RLC_WIDTH - values.len();
    let mut lanes = Vec::with_capacity(values.len());
    let mut last = 0;
    for r in 0..rows {
        let row = l.push_row();
        l.selectors[gate as usize][row] = true;
        if r > 0 {
            l.consts[0][row] = fe(1);
        }
        for i in 0..RLC_WIDTH {
            let slot = r * RLC_WIDTH + i;
            let lane = Pos::Lane(i, row);
            match slot.checked_sub(pad).and_then(|j| values.get(j)) {
                Some((source, v)) => {
                    l.lanes[i][row] = fe(v);
                    if let Some(p) = source {
                        l.copies.push((lane, p));
                    }
                    lanes.push(lane);
                }
                None => l.copies.push((lane, zero.0)),
            }
        }
        last = row;
    }
    (Pos::P2(0, last + 1), lanes)
}

/// `y[p] = Wᵀ·x[p] + b` for every input vector `x[p]` (all of length `K`) against witnessed `w` (row-major
/// `[K][N]`), by Freivalds' check. A bias (committed cells, or constants held in constant-constrained
/// cells) is one more row of `W` against the one cell. Returns `out[p][j]`: the free cells holding the
/// products, bound by the check.
pub fn freivalds_matmul(
    l: &mut Layout,
    xs: &[Vec<(Pos, i64)>],
    w: &[(Pos, i64)],
    n: usize,
    bias: Option<&Weights<'_>>,
    shared: &mut SharedCells,
) -> Result<Vec<Vec<(Pos, i64)>>, CircuitError> {
    let k = product_inputs(xs, w, n, bias, "Freivalds product")?;
    let zero = shared.zero(l);
    // The bias as one more weight row, against the one cell.
    let bias_row: Option<Vec<(Pos, i64)>> = match bias {
        None => None,
        Some(Weights::Cells(b)) => Some(b.to_vec()),
        Some(Weights::Fixed(b)) => Some(b.iter().map(|&v| (constant_cell(l, v), v)).collect()),
    };
    let one = bias_row.as_ref().map(|_| shared.one(l));
    let rows_w: Vec<Vec<(Pos, i64)>> =
        (0..k).map(|t| w[t * n..(t + 1) * n].to_vec()).chain(bias_row).collect();
    let column = |t: usize| -> Vec<(Pos, i64)> {
        xs.iter().map(|x| if t < k { x[t] } else { one.unwrap_or(zero) }).collect()
    };
    // The products, as eval computes them (wrapping i64, the circuit's integer semantics).
    let ys: Vec<Vec<i64>> = xs
        .iter()
        .map(|x| {
            (0..n)
                .map(|j| {
                    rows_w.iter().enumerate().fold(0i64, |acc, (t, row)| {
                        let xv = if t < k { x[t].1 } else { 1 };
                        acc.wrapping_add(xv.wrapping_mul(row[j].1))
                    })
                })
                .collect()
        })
        .collect();
    // Left side: per output column j, the combination over positions in s (the outputs' own cells).
    let mut out = vec![Vec::with_capacity(n); xs.len()];
    let mut left = Vec::with_capacity(n);
    for j in 0..n {
        let column: Vec<i64> = ys.iter().map(|y| y[j]).collect();
        let (t, lanes) = combination(l, Gate::RlcS, Lanes::Fresh(&column), zero);
        for (o, (lane, y)) in out.iter_mut().zip(lanes.into_iter().zip(&ys)) {
            o.push((lane, y[j]));
        }
        left.push(t);
    }
    // Right side: z_t over positions in s, u_t over outputs in r, then Σ_t z_t·u_t.
    let mut pairs = Vec::with_capacity(rows_w.len());
    for (t, row) in rows_w.iter().enumerate() {
        let (z, _) = combination(l, Gate::RlcS, Lanes::Copies(&column(t)), zero);
        let (u, _) = combination(l, Gate::RlcR, Lanes::Copies(row), zero);
        pairs.push((z, u));
    }
    let right = second_phase_sum(l, Gate::Dot2, &pairs)?;
    let left_pairs: Vec<(Pos, Pos)> = left.iter().map(|&t| (t, t)).collect();
    let left = second_phase_sum(l, Gate::Horner2, &left_pairs)?;
    l.copies.push((left, right));
    Ok(out)
}

/// `Σ_i a_i·b_i` ([`Gate::Dot2`]) or `Σ_i r^(m-1-i)·a_i` ([`Gate::Horner2`], `b` ignored) over
/// second-phase cells, one row each, operands copied into `p2_1` and `p2_2`; returns the result's cell
/// (on a row pushed after the last step).
fn second_phase_sum(l: &mut Layout, gate: Gate, terms: &[(Pos, Pos)]) -> Result<Pos, CircuitError> {
    if terms.is_empty() {
        return Err(CircuitError::Layout("empty second-phase sum".into()));
    }
    for (i, &(a, b)) in terms.iter().enumerate() {
        let row = l.push_row();
        l.selectors[gate as usize][row] = true;
        if i > 0 {
            l.consts[0][row] = fe(1);
        }
        l.copies.push((Pos::P2(1, row), a));
        if gate == Gate::Dot2 {
            l.copies.push((Pos::P2(2, row), b));
        }
    }
    let end = l.push_row();
    Ok(Pos::P2(0, end))
}

/// Rows [`freivalds_matmul`] takes for `p` vectors of `k` inputs (bias included) and `n` outputs.
pub fn freivalds_rows(p: usize, k: usize, n: usize) -> usize {
    let runs = |len: usize| len.div_ceil(RLC_WIDTH).max(1);
    n * runs(p) + k * (runs(p) + runs(n)) + k + n + 2
}

/// `x^e` as an expression (`x` a challenge: the product stays of degree 0).
fn pow(x: &Expression<Fr>, e: usize) -> Expression<Fr> {
    (0..e).fold(Expression::Constant(Fr::ONE), |acc, _| acc * x.clone())
}

/// [`Gate::RlcR`] and [`Gate::RlcS`] (challenge `x`, `r` or `s`): the second-phase accumulator
/// `p(next) = keep·x^8·p + Σ_i x^(7-i)·lane_i` (`keep` in constant column 0). Uniqueness: the module doc
/// (the challenges are drawn after the first phase is committed).
pub(crate) fn combination_gate(
    c: &GateColumns,
    p2: &Phase2Columns,
    x: Challenge,
    m: &mut VirtualCells<'_, Fr>,
    q: Expression<Fr>,
) -> Vec<Expression<Fr>> {
    let x = m.query_challenge(x);
    let acc = m.query_advice(p2.cols[0], Rotation::cur());
    let next = m.query_advice(p2.cols[0], Rotation::next());
    let [keep] = c.consts(m, [0]);
    let start = keep * acc * pow(&x, RLC_WIDTH);
    let sum =
        (0..RLC_WIDTH).fold(start, |e, i| e + c.lane_at(m, i, Rotation::cur()) * pow(&x, RLC_WIDTH - 1 - i));
    vec![q * (next - sum)]
}

/// [`Gate::Dot2`]: `acc(next) = keep·acc + a·b` on the second-phase columns.
pub(crate) fn dot2_gate(
    c: &GateColumns,
    p2: &Phase2Columns,
    m: &mut VirtualCells<'_, Fr>,
    q: Expression<Fr>,
) -> Vec<Expression<Fr>> {
    let [acc, a, b] = p2.cols.map(|col| m.query_advice(col, Rotation::cur()));
    let next = m.query_advice(p2.cols[0], Rotation::next());
    let [keep] = c.consts(m, [0]);
    vec![q * (next - (keep * acc + a * b))]
}

/// [`Gate::Horner2`]: `acc(next) = keep·r·acc + a` on the second-phase columns (`r` the challenge).
pub(crate) fn horner2_gate(
    c: &GateColumns,
    p2: &Phase2Columns,
    m: &mut VirtualCells<'_, Fr>,
    q: Expression<Fr>,
) -> Vec<Expression<Fr>> {
    let [acc, a, _] = p2.cols.map(|col| m.query_advice(col, Rotation::cur()));
    let next = m.query_advice(p2.cols[0], Rotation::next());
    let [keep] = c.consts(m, [0]);
    let r = m.query_challenge(p2.r);
    vec![q * (next - (keep * r * acc + a))]
}
