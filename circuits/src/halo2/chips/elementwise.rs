//! Per-element chips: affine offset, rescale with saturation, ReLU. One main-region row per element.

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::plonk::{Expression, VirtualCells};

use super::super::layout::{fe, Gate, Layout, Pos};
use super::gate::{constant, GateColumns};
use super::range::{range_check, range_check_offset};
use crate::halo2::CircuitError;
use crate::ir::fixed::signed_range;

/// `lane1 = c0 · lane0 + c1` (lane 0 copied from `src`); returns the new cell.
///
/// Uniqueness: the output is a polynomial in a copied cell and constants; no free witness.
pub fn affine(l: &mut Layout, src: (Pos, i64), mul: i64, add: i64) -> (Pos, i64) {
    let row = l.push_row();
    l.selectors[Gate::Affine as usize][row] = true;
    let v = src.1.wrapping_mul(mul).wrapping_add(add);
    l.lanes[affine_row::X][row] = fe(src.1);
    l.lanes[affine_row::Y][row] = fe(v);
    l.consts[0][row] = fe(mul);
    l.consts[1][row] = fe(add);
    l.copies.push((Pos::Lane(affine_row::X, row), src.0));
    (Pos::Lane(affine_row::Y, row), v)
}

/// Lanes of an [`affine`] row.
mod affine_row {
    pub(super) const X: usize = 0;
    pub(super) const Y: usize = 1;
}

/// [`Gate::Affine`]: `y = x·c0 + c1`.
pub(crate) fn affine_gate(
    c: &GateColumns,
    m: &mut VirtualCells<'_, Fr>,
    q: Expression<Fr>,
) -> Vec<Expression<Fr>> {
    let [x, y] = c.lanes(m, [affine_row::X, affine_row::Y]);
    let [c0, c1] = c.consts(m, [0, 1]);
    vec![q * (y - (x * c0 + c1))]
}

/// Constrains a signed `bits`-wide value: `v + 2^(bits-1) ∈ [0, 2^bits)` (no main-region row).
pub fn signed_range_check(l: &mut Layout, src: (Pos, i64), bits: u32) -> Result<(), CircuitError> {
    if bits == 0 {
        return Err(CircuitError::Layout("signed range check of 0 bits".into()));
    }
    range_check_offset(l, src.0, src.1, 1i64 << (bits - 1), bits)
}

/// `y = saturate(round(x / 2^shift), bits)` — `QOp::Rescale`.
///
/// Lanes: `x` (copied), `q`, `r`, `y`, `h`, `g`, `t`, `u`; constants `c0 = 2^s` (or 1), `c1 = 2^(s-1)`
/// (or 0), `c2 = hi`, `c3 = lo`, `c4 = 2^-s` for a negative shift (or 1). Gate: `x·c4 + c1 = q·c0 + r`;
/// `h, g` boolean and exclusive (hit the top / bottom); `y = q` unless one is set, `y = hi` if `h`,
/// `y = lo` if `g`; `t = (q - y)(h - g)`; `u = y - lo`. Range checks: `r < 2^s`, `u < 2^bits` (so
/// `lo <= y <= hi`), `t` by [`overshoot_bits`] (so the clamp only goes the right way).
///
/// Uniqueness (over the field), for an integer input `x`: `h, g` are bits and not both set. `u`'s check
/// makes `y` an integer in `[lo, hi]`. Then `q` is an integer below `2^63`: `q = y` if neither flag is
/// set, `q = hi + t` if `h`, `q = lo - t` if `g`, with `t` range-checked. `r` is range-checked, so
/// `x·c4 + c1 = q·c0 + r` holds over the integers (every term far below the modulus) and has one
/// solution with `0 <= r < 2^s`: `q = round(x / 2^s)`. The flags are then forced: `h` with `q < hi`
/// makes `t < 0`, neither flag with `q > hi` makes `u >= 2^bits` (likewise below), so `y = clamp(q)`;
/// `q = hi` with `h = 1` gives the same `y`. Forgery tests: `remainder_out_of_range_...` and
/// `rescale_overshoot_check_stops_a_wrong_clamp`.
pub fn rescale(
    l: &mut Layout,
    src: (Pos, i64),
    shift: i32,
    bits: u32,
    in_bits: u32,
) -> Result<(Pos, i64), CircuitError> {
    let (lo, hi) = signed_range(bits);
    let s = shift.unsigned_abs();
    let (div, half, mul) = if shift > 0 { (1i64 << s, 1i64 << (s - 1), 1) } else { (1, 0, 1i64 << s) };
    let num = i128::from(src.1) * i128::from(mul) + i128::from(half);
    let q = num.div_euclid(i128::from(div));
    let r = num - q * i128::from(div);
    let q = i64::try_from(q).map_err(|_| CircuitError::Layout("rescale quotient overflows".into()))?;
    let y = q.clamp(lo, hi);
    let (h, g) = (i64::from(q > hi), i64::from(q < lo));
    let t = (q - y) * (h - g);
    let u = y - lo;
    let row = l.push_row();
    l.selectors[Gate::Rescale as usize][row] = true;
    use rescale_row::{G, H, Q, R, T, U, X, Y};
    for (lane, v) in [(X, src.1), (Q, q), (R, r as i64), (Y, y), (H, h), (G, g), (T, t), (U, u)] {
        l.lanes[lane][row] = fe(v);
    }
    for (c, v) in [div, half, hi, lo, mul].into_iter().enumerate() {
        l.consts[c][row] = fe(v);
    }
    l.copies.push((Pos::Lane(X, row), src.0));
    range_check(l, Pos::Lane(R, row), r as i64, if shift > 0 { s } else { 0 })?;
    range_check(l, Pos::Lane(U, row), u, bits)?;
    range_check(l, Pos::Lane(T, row), t, overshoot_bits(in_bits, shift, l.range_bits))?;
    Ok((Pos::Lane(Y, row), y))
}

/// Lanes of a [`rescale`] row.
mod rescale_row {
    pub(super) const X: usize = 0;
    pub(super) const Q: usize = 1;
    pub(super) const R: usize = 2;
    pub(super) const Y: usize = 3;
    pub(super) const H: usize = 4;
    pub(super) const G: usize = 5;
    pub(super) const T: usize = 6;
    pub(super) const U: usize = 7;
}

/// [`Gate::Rescale`]: `x·c4 + c1 = q·c0 + r`; `h`, `g` exclusive bits; `y = q`, `hi` (`c2`) or `lo`
/// (`c3`) as they say; `t = (q - y)(h - g)`; `u = y - lo`. Uniqueness: on [`rescale`].
pub(crate) fn rescale_gate(
    c: &GateColumns,
    m: &mut VirtualCells<'_, Fr>,
    on: Expression<Fr>,
) -> Vec<Expression<Fr>> {
    use rescale_row::{G, H, Q, R, T, U, X, Y};
    let [x, q, r, y, h, g, t, u] = c.lanes(m, [X, Q, R, Y, H, G, T, U]);
    let [div, half, hi, lo, mul] = c.consts(m, [0, 1, 2, 3, 4]);
    let one = || constant(1);
    vec![
        on.clone() * (x * mul + half - q.clone() * div - r),
        on.clone() * h.clone() * (one() - h.clone()),
        on.clone() * g.clone() * (one() - g.clone()),
        on.clone() * h.clone() * g.clone(),
        on.clone() * (one() - h.clone() - g.clone()) * (q.clone() - y.clone()),
        on.clone() * h.clone() * (y.clone() - hi),
        on.clone() * g.clone() * (y.clone() - lo.clone()),
        on.clone() * (t - (q - y.clone()) * (h - g)),
        on * (u - (y - lo)),
    ]
}

/// Width of a rescale's check on its overshoot `t`, for an input of `in_bits` (signed) rescaled by
/// `shift`. `t` is at most `|q|`, and `|q| <= 2^(in_bits - 1 - s) + 1` when dividing by `2^s`
/// (`2^(in_bits - 1 + s)` when multiplying), so `t < 2^(max(in_bits - s, 1) + 1)` (`2^(in_bits + s)`).
/// Soundness needs only a width far below the field's (it keeps `q` a small integer, so the division
/// holds over the integers), so the width is rounded up to whole range-table limbs: a partial top limb
/// costs two rows, a whole one row.
pub fn overshoot_bits(in_bits: u32, shift: i32, range_bits: u32) -> u32 {
    let s = shift.unsigned_abs();
    let need = if shift > 0 { in_bits.saturating_sub(s).max(1) + 1 } else { in_bits + s };
    let limb = range_bits.max(1);
    let whole = need.div_ceil(limb) * limb;
    if whole <= 62 {
        whole
    } else {
        need.min(62)
    }
}

/// `y = max(x, 0)` — `QOp::Relu`, [`RELUS_PER_ROW`] elements to a row. Lanes `3i..3i+3`: `x` (copied),
/// `y`, `u = y - x`. Gate (each triple; an unused triple holds zeros, which satisfy it): `y·u = 0`,
/// `u = y - x`. Range checks: `y, u < 2^bits`, so `y >= 0`, `y >= x` and one of them is tight.
///
/// Uniqueness: `y` and `u` are integers in `[0, 2^bits)` by their checks, and `x = y - u` an integer cell,
/// so `y·u = 0` (a product of two small integers, zero in the field only if zero over the integers) means
/// `y = 0, u = -x` (so `x <= 0`) or `u = 0, y = x` (so `x >= 0`): `y = max(x, 0)`, at `x = 0` both the
/// same. Forgery test: `relu_and_max_forgeries_are_stopped_by_their_range_checks`.
pub fn relu(l: &mut Layout, xs: &[(Pos, i64)], bits: u32) -> Result<Vec<(Pos, i64)>, CircuitError> {
    let mut out = Vec::with_capacity(xs.len());
    for chunk in xs.chunks(RELUS_PER_ROW) {
        let row = l.push_row();
        l.selectors[Gate::Relu as usize][row] = true;
        for (i, &src) in chunk.iter().enumerate() {
            let y = src.1.max(0);
            let u = y - src.1;
            let lane = |k: usize| relu_row::WIDTH * i + k;
            for (k, v) in [(relu_row::X, src.1), (relu_row::Y, y), (relu_row::U, u)] {
                l.lanes[lane(k)][row] = fe(v);
            }
            l.copies.push((Pos::Lane(lane(relu_row::X), row), src.0));
            range_check(l, Pos::Lane(lane(relu_row::Y), row), y, bits)?;
            range_check(l, Pos::Lane(lane(relu_row::U), row), u, bits)?;
            out.push((Pos::Lane(lane(relu_row::Y), row), y));
        }
    }
    Ok(out)
}

/// [`relu`] of one element (a row of its own).
fn relu_one(l: &mut Layout, x: (Pos, i64), bits: u32) -> Result<(Pos, i64), CircuitError> {
    relu(l, &[x], bits)?.pop().ok_or_else(|| CircuitError::Layout("relu of one element".into()))
}

/// ReLUs per row (three lanes each).
pub const RELUS_PER_ROW: usize = super::super::layout::LANES / relu_row::WIDTH;

/// Lanes of one ReLU in a [`relu`] row; the `i`-th element of the row sits `WIDTH · i` lanes further.
mod relu_row {
    pub(super) const X: usize = 0;
    pub(super) const Y: usize = 1;
    pub(super) const U: usize = 2;
    pub(super) const WIDTH: usize = 3;
}

/// [`Gate::Relu`], per element of the row: `y·u = 0` and `u = y - x`. Uniqueness: on [`relu`].
pub(crate) fn relu_gate(
    c: &GateColumns,
    m: &mut VirtualCells<'_, Fr>,
    q: Expression<Fr>,
) -> Vec<Expression<Fr>> {
    (0..RELUS_PER_ROW)
        .flat_map(|i| {
            let w = relu_row::WIDTH * i;
            let [x, y, u] = c.lanes(m, [w + relu_row::X, w + relu_row::Y, w + relu_row::U]);
            [q.clone() * y.clone() * u.clone(), q.clone() * (u - (y - x))]
        })
        .collect()
}

/// `m = max(a, b)` for two signed `bits`-wide values. Lanes: `a`, `b` (both copied), `m`, `u = m - a`,
/// `v = m - b`. Gate: `u·v = 0` and the two differences. Range checks: `u, v < 2^bits`, so `m` is at least
/// both and equals one of them.
///
/// Uniqueness: `u, v` are integers in `[0, 2^bits)`, so `m = a + u` is an integer, `u·v = 0` holds over
/// the integers, and `m >= a`, `m >= b` with equality for one of them: `m = max(a, b)` (a tie gives the
/// same value either way). Forgery test: `relu_and_max_forgeries_are_stopped_by_their_range_checks`.
pub fn max2(l: &mut Layout, a: (Pos, i64), b: (Pos, i64), bits: u32) -> Result<(Pos, i64), CircuitError> {
    let m = a.1.max(b.1);
    let (u, v) = (m - a.1, m - b.1);
    let row = l.push_row();
    l.selectors[Gate::Max2 as usize][row] = true;
    use max2_row::{A, B, M, U, V};
    for (lane, val) in [(A, a.1), (B, b.1), (M, m), (U, u), (V, v)] {
        l.lanes[lane][row] = fe(val);
    }
    l.copies.push((Pos::Lane(A, row), a.0));
    l.copies.push((Pos::Lane(B, row), b.0));
    range_check(l, Pos::Lane(U, row), u, bits)?;
    range_check(l, Pos::Lane(V, row), v, bits)?;
    Ok((Pos::Lane(M, row), m))
}

/// Lanes of a [`max2`] row.
mod max2_row {
    pub(super) const A: usize = 0;
    pub(super) const B: usize = 1;
    pub(super) const M: usize = 2;
    pub(super) const U: usize = 3;
    pub(super) const V: usize = 4;
}

/// [`Gate::Max2`]: `u·v = 0`, `u = m - a`, `v = m - b`. Uniqueness: on [`max2`].
pub(crate) fn max2_gate(
    c: &GateColumns,
    m: &mut VirtualCells<'_, Fr>,
    q: Expression<Fr>,
) -> Vec<Expression<Fr>> {
    use max2_row::{A, B, M, U, V};
    let [a, b, mx, u, v] = c.lanes(m, [A, B, M, U, V]);
    vec![q.clone() * u.clone() * v.clone(), q.clone() * (u - (mx.clone() - a)), q * (v - (mx - b))]
}

/// `y = c0·a + c1·b + c2·a·b + c3` on two cells (copied). Lanes: `a`, `b`, `y`.
///
/// Uniqueness: `y` is a polynomial in two copied cells and constants; no free witness.
pub fn arith(l: &mut Layout, a: (Pos, i64), b: (Pos, i64), c: [i64; 4]) -> (Pos, i64) {
    let y = c[0]
        .wrapping_mul(a.1)
        .wrapping_add(c[1].wrapping_mul(b.1))
        .wrapping_add(c[2].wrapping_mul(a.1).wrapping_mul(b.1))
        .wrapping_add(c[3]);
    let row = l.push_row();
    l.selectors[Gate::Arith as usize][row] = true;
    for (lane, v) in [(arith_row::A, a.1), (arith_row::B, b.1), (arith_row::Y, y)] {
        l.lanes[lane][row] = fe(v);
    }
    for (i, v) in c.into_iter().enumerate() {
        l.consts[i][row] = fe(v);
    }
    l.copies.push((Pos::Lane(arith_row::A, row), a.0));
    l.copies.push((Pos::Lane(arith_row::B, row), b.0));
    (Pos::Lane(arith_row::Y, row), y)
}

/// Lanes of an [`arith`] row.
pub(crate) mod arith_row {
    pub(crate) const A: usize = 0;
    pub(crate) const B: usize = 1;
    pub(crate) const Y: usize = 2;
}

/// [`Gate::Arith`]: `y = c0·a + c1·b + c2·a·b + c3`.
pub(crate) fn arith_gate(
    c: &GateColumns,
    m: &mut VirtualCells<'_, Fr>,
    q: Expression<Fr>,
) -> Vec<Expression<Fr>> {
    let [a, b, y] = c.lanes(m, [arith_row::A, arith_row::B, arith_row::Y]);
    let [c0, c1, c2, c3] = c.consts(m, [0, 1, 2, 3]);
    vec![q * (y - (c0 * a.clone() + c1 * b.clone() + c2 * a * b + c3))]
}

/// Signed width `w` that holds `round(n / d)` for every `|n| <= 2^(n_bits - 1)` and `d >= d_min >= 1`:
/// `|round(n / d)| <= 2^(n_bits - 1) / d_min + 1/2 <= B = floor(2^(n_bits - 1) / d_min) + 1`, and
/// `[-B, B]` lies in `[-2^(w-1), 2^(w-1))` for `w = bitlen(B) + 1`. A function of the formats alone, so
/// the quotient's range check is part of the circuit, never chosen by the witness.
pub fn quotient_bits(n_bits: u32, d_min: i64) -> Result<u32, CircuitError> {
    if n_bits == 0 || n_bits > 62 || d_min < 1 {
        return Err(CircuitError::Layout(format!(
            "quotient of a {n_bits}-bit numerator by at least {d_min}"
        )));
    }
    let bound = (1i64 << (n_bits - 1)) / d_min + 1;
    let w = 64 - bound.leading_zeros() + 1;
    if w > 62 {
        return Err(CircuitError::Layout(format!("quotient of {w} bits is wider than supported")));
    }
    Ok(w)
}

/// Range-checks the quotient cell `y` to the signed width `w`, after checking that the honest value fits
/// (a value outside would mean the width passed for the numerator was wrong: a chip bug).
fn quotient_range_check(l: &mut Layout, y: (Pos, i64), w: u32) -> Result<(), CircuitError> {
    let half = 1i64 << (w - 1);
    if y.1 < -half || y.1 >= half {
        return Err(CircuitError::Layout(format!("quotient {} outside its {w}-bit range", y.1)));
    }
    signed_range_check(l, y, w)
}

/// `y = round(n / d)` (ties up) for a constant `d > 0` — the division of `AvgPool`, `ReduceMean` and
/// `LayerNorm`'s mean and variance; `n` is a signed `n_bits`-wide integer (`|n| <= 2^(n_bits - 1)`).
///
/// Lanes: `n` (copied), `y`, `r`, `s = 2d - 1 - r`; constant `c0 = d`. Gate: `2n + d = 2d·y + r`.
/// Range checks: `r, s < 2^b` with `2^b >= 2d`, and `y` signed to [`quotient_bits`]`(n_bits, d)`.
///
/// Uniqueness (over the field): `r + s = 2d - 1` with both in `[0, 2^b)` makes `r` an integer in
/// `[0, 2d)`; `y` is an integer below `2^62`; `n` is an integer cell. Every term of the gate is then an
/// integer of magnitude below `2^128`, far from the modulus, so the gate holds over the integers, where
/// `2d·y + r = 2n + d` with `0 <= r < 2d` has the one solution `y = floor((2n + d) / 2d)`. Without the
/// check on `y`, any other `r'` in range gives the field fraction `y' = y + (r - r') / 2d`, which a later
/// multiply can bring back to a wrong integer (issue #22's AvgPool forgery).
pub fn div_round(l: &mut Layout, n: (Pos, i64), d: i64, n_bits: u32) -> Result<(Pos, i64), CircuitError> {
    let bits = 64 - (2 * d - 1).leading_zeros();
    divide(l, n, Divisor::Constant(d), bits, quotient_bits(n_bits, d)?)
}

/// `y = round(n / d)` (ties up) for a witnessed divisor `d >= 1` that lies below `2^(bits-1)`, and a
/// signed `n_bits`-wide numerator. Lanes: `n`, `d` (both copied), `y`, `r`, `s = 2d - 1 - r`. Range
/// checks: `r, s < 2^bits`, so `0 <= r < 2d` and `d <= 2^bits`; `y` signed to
/// [`quotient_bits`]`(n_bits, 1)`. `bits` and `n_bits` come from the formats, never from the witness.
///
/// Uniqueness: as for [`div_round`]. `d` is a copy of an integer cell, and `2d - 1 = r + s` with both
/// range-checked makes it at least 1 and at most `2^bits`; with `y` an integer below `2^62` the gate holds
/// over the integers and pins `y` to `floor((2n + d) / 2d)`. `d = 0` has no witness (`s = -1 - r`).
pub fn var_div(
    l: &mut Layout,
    n: (Pos, i64),
    d: (Pos, i64),
    bits: u32,
    n_bits: u32,
) -> Result<(Pos, i64), CircuitError> {
    divide(l, n, Divisor::Cell(d), bits, quotient_bits(n_bits, 1)?)
}

/// Where a rounded division's divisor comes from.
#[derive(Clone, Copy)]
enum Divisor {
    /// A constant of the circuit ([`Gate::Div`], constant column 0).
    Constant(i64),
    /// A copied cell ([`Gate::VarDiv`]).
    Cell((Pos, i64)),
}

/// The one rounded division both gates constrain: `y = round(n / d)` with `r, s < 2^bits` and `y` signed
/// to `w` bits. The two gates differ only in where `d` is, hence in their lanes.
fn divide(
    l: &mut Layout,
    n: (Pos, i64),
    divisor: Divisor,
    bits: u32,
    w: u32,
) -> Result<(Pos, i64), CircuitError> {
    let d = match divisor {
        Divisor::Constant(d) | Divisor::Cell((_, d)) => d,
    };
    let y = crate::ir::fixed::div_round(n.1, d)
        .ok_or_else(|| CircuitError::Layout(format!("division by {d}")))?;
    let r = 2 * n.1 + d - 2 * d * y;
    let s = 2 * d - 1 - r;
    let row = l.push_row();
    let lanes = match divisor {
        Divisor::Constant(d) => {
            l.selectors[Gate::Div as usize][row] = true;
            l.consts[0][row] = fe(d);
            DIV_ROW
        }
        Divisor::Cell((pos, d)) => {
            l.selectors[Gate::VarDiv as usize][row] = true;
            l.lanes[VAR_DIV_D][row] = fe(d);
            l.copies.push((Pos::Lane(VAR_DIV_D, row), pos));
            VAR_DIV_ROW
        }
    };
    for (lane, v) in [(lanes.n, n.1), (lanes.y, y), (lanes.r, r), (lanes.s, s)] {
        l.lanes[lane][row] = fe(v);
    }
    l.copies.push((Pos::Lane(lanes.n, row), n.0));
    range_check(l, Pos::Lane(lanes.r, row), r, bits)?;
    range_check(l, Pos::Lane(lanes.s, row), s, bits)?;
    quotient_range_check(l, (Pos::Lane(lanes.y, row), y), w)?;
    Ok((Pos::Lane(lanes.y, row), y))
}

/// Lanes of a rounded division's numerator, quotient, remainder and complement.
#[derive(Clone, Copy)]
struct DivisionLanes {
    n: usize,
    y: usize,
    r: usize,
    s: usize,
}

/// A [`Gate::Div`] row: `n, y, r, s`.
const DIV_ROW: DivisionLanes = DivisionLanes { n: 0, y: 1, r: 2, s: 3 };
/// A [`Gate::VarDiv`] row: `n, d, y, r, s`.
const VAR_DIV_ROW: DivisionLanes = DivisionLanes { n: 0, y: 2, r: 3, s: 4 };
/// The divisor's lane in a [`Gate::VarDiv`] row.
const VAR_DIV_D: usize = 1;

/// `2n + d = 2d·y + r` and `s = 2d - 1 - r`, the polynomial both division gates share.
fn division(q: Expression<Fr>, [n, d, y, r, s]: [Expression<Fr>; 5]) -> Vec<Expression<Fr>> {
    let two = || constant(2);
    vec![
        q.clone() * (two() * n + d.clone() - two() * d.clone() * y - r.clone()),
        q * (s - (two() * d - constant(1) - r)),
    ]
}

/// [`Gate::Div`]: [`division`] with `d` in constant column 0. Uniqueness: on [`div_round`].
pub(crate) fn div_gate(
    c: &GateColumns,
    m: &mut VirtualCells<'_, Fr>,
    q: Expression<Fr>,
) -> Vec<Expression<Fr>> {
    let [n, y, r, s] = c.lanes(m, [DIV_ROW.n, DIV_ROW.y, DIV_ROW.r, DIV_ROW.s]);
    let [d] = c.consts(m, [0]);
    division(q, [n, d, y, r, s])
}

/// [`Gate::VarDiv`]: [`division`] with `d` a copied lane. Uniqueness: on [`var_div`].
pub(crate) fn var_div_gate(
    c: &GateColumns,
    m: &mut VirtualCells<'_, Fr>,
    q: Expression<Fr>,
) -> Vec<Expression<Fr>> {
    let l = VAR_DIV_ROW;
    let [n, d, y, r, s] = c.lanes(m, [l.n, VAR_DIV_D, l.y, l.r, l.s]);
    division(q, [n, d, y, r, s])
}

/// `s = round(sqrt(v))` for `v >= 0`. Lanes: `v` (copied), `s`, `a = 4v - (2s-1)^2 + z`,
/// `b = (2s+1)^2 - 1 - 4v`, `z`; `z` is boolean with `z·s = 0`. Range checks: `a, b < 2^bits` (`bits`
/// static: the bit width of `v` plus 3) and `s < 2^(bits - 2)`.
///
/// Uniqueness: `s` is an integer in `[0, 2^(bits-2))` (its own check), and `v` an integer cell, so `a` and
/// `b` are integers far below the modulus and the checks say `(2s-1)^2 - z <= 4v < (2s+1)^2` over the
/// integers, which holds for exactly one `s >= 1` (intervals of consecutive `s` do not overlap); `z = 1`
/// (forced to `s = 0`) waives the lower bound, which `s = 0` cannot meet otherwise: then `4v < 1`, so
/// `v = 0`. The check on `s` loses no honest witness: `a + b = 8s - 1 + z < 2^(bits+1)` gives
/// `s < 2^(bits-2)`. Without it, `s = j + 1/2` satisfies the gate with `z = 0` and in-range `a, b` (issue
/// #22's half-integer root).
pub fn sqrt_round(l: &mut Layout, v: (Pos, i64), bits: u32) -> Result<(Pos, i64), CircuitError> {
    if v.1 < 0 {
        return Err(CircuitError::Layout("square root of a negative value".into()));
    }
    if bits < 3 {
        return Err(CircuitError::Layout(format!("square root checked to {bits} bits")));
    }
    let s = crate::ir::fixed::isqrt_round(v.1);
    let z = i64::from(s == 0);
    let a = 4 * v.1 - (2 * s - 1) * (2 * s - 1) + z;
    let b = (2 * s + 1) * (2 * s + 1) - 1 - 4 * v.1;
    let row = l.push_row();
    l.selectors[Gate::Sqrt as usize][row] = true;
    use sqrt_row::{A, B, S, V, Z};
    for (lane, val) in [(V, v.1), (S, s), (A, a), (B, b), (Z, z)] {
        l.lanes[lane][row] = fe(val);
    }
    l.copies.push((Pos::Lane(V, row), v.0));
    range_check(l, Pos::Lane(A, row), a, bits)?;
    range_check(l, Pos::Lane(B, row), b, bits)?;
    range_check(l, Pos::Lane(S, row), s, bits - 2)?;
    Ok((Pos::Lane(S, row), s))
}

/// Lanes of a [`sqrt_round`] row.
mod sqrt_row {
    pub(super) const V: usize = 0;
    pub(super) const S: usize = 1;
    pub(super) const A: usize = 2;
    pub(super) const B: usize = 3;
    pub(super) const Z: usize = 4;
}

/// [`Gate::Sqrt`]: `a = 4v - (2s-1)^2 + z`, `b = (2s+1)^2 - 1 - 4v`, `z` a bit, `z·s = 0`. Uniqueness: on
/// [`sqrt_round`].
pub(crate) fn sqrt_gate(
    c: &GateColumns,
    m: &mut VirtualCells<'_, Fr>,
    q: Expression<Fr>,
) -> Vec<Expression<Fr>> {
    use sqrt_row::{A, B, S, V, Z};
    let [v, s, a, b, z] = c.lanes(m, [V, S, A, B, Z]);
    let one = || constant(1);
    let lo = constant(2) * s.clone() - one();
    let hi = constant(2) * s.clone() + one();
    vec![
        q.clone() * (a - (constant(4) * v.clone() - lo.clone() * lo + z.clone())),
        q.clone() * (b - (hi.clone() * hi - one() - constant(4) * v)),
        q.clone() * z.clone() * (one() - z.clone()),
        q * z * s,
    ]
}

/// A cell holding the constant `c`, bound by the verifying key (`y = c` through the arith gate's constant).
pub fn constant_cell(l: &mut Layout, zero: (Pos, i64), c: i64) -> (Pos, i64) {
    arith(l, zero, zero, [0, 0, 0, c])
}

/// `y = x` for `x >= 0`, else `round(x·alpha / 2^shift)` — `QOp::LeakyRelu` for a signed `bits`-wide `x`.
/// Built from existing gates: `p = relu(x)`, `n = x - p` (so `n = min(x, 0)`), `r = round(n·alpha /
/// 2^shift)` by the rescale chip (wide enough never to saturate), `y = p + r`.
pub fn leaky_relu(
    l: &mut Layout,
    x: (Pos, i64),
    zero: (Pos, i64),
    alpha: i64,
    shift: u32,
    bits: u32,
) -> Result<(Pos, i64), CircuitError> {
    let p = relu_one(l, x, bits)?;
    let n = arith(l, x, p, [1, -1, 0, 0]);
    let m = arith(l, n, zero, [alpha, 0, 0, 0]);
    let alpha_bits = 64 - alpha.unsigned_abs().leading_zeros();
    let m_bits = (bits + alpha_bits + 1).min(62);
    let r_bits = (m_bits.saturating_sub(shift) + 2).clamp(bits + 1, 62);
    let r = rescale(l, m, shift as i32, r_bits, m_bits)?;
    Ok(arith(l, p, r, [1, 1, 0, 0]))
}

/// `y = clamp(x, min, max(min, max))` — `QOp::Clip` for a signed `bits`-wide `x`. Bounds outside the
/// range `x` can take are first brought inside it (which changes no result), so both comparisons are
/// max gates over `bits`-wide values: `t = max(x, lo)`, `m = max(t, hi)`, `y = t + hi - m`.
pub fn clip(
    l: &mut Layout,
    x: (Pos, i64),
    zero: (Pos, i64),
    min: i64,
    max: i64,
    bits: u32,
) -> Result<(Pos, i64), CircuitError> {
    let (rmin, rmax) = signed_range(bits);
    let hi = max.max(min);
    if min > rmax {
        return Ok(constant_cell(l, zero, min));
    }
    if hi < rmin {
        return Ok(constant_cell(l, zero, hi));
    }
    let (lo, hi) = (min.clamp(rmin, rmax), hi.clamp(rmin, rmax));
    let lo_cell = constant_cell(l, zero, lo);
    let hi_cell = constant_cell(l, zero, hi);
    let t = max2(l, x, lo_cell, bits)?;
    let m = max2(l, t, hi_cell, bits)?;
    Ok(arith(l, t, m, [1, -1, 0, hi]))
}

/// `y = round(sqrt(max(shift_scale(x, shift), 0)))` — `QOp::Sqrt` for a signed `bits`-wide `x`:
/// `shift_scale` by the rescale chip (a rounded division, wide enough never to saturate) or an exact
/// multiplication, `max(·, 0)` by ReLU, then [`sqrt_round`].
pub fn sqrt(
    l: &mut Layout,
    x: (Pos, i64),
    zero: (Pos, i64),
    shift: i32,
    bits: u32,
) -> Result<(Pos, i64), CircuitError> {
    let (v, v_bits) = match shift {
        0 => (x, bits),
        s if s > 0 => (rescale(l, x, s, (bits + 1).min(62), bits)?, (bits + 1).min(62)),
        s => {
            let up = s.unsigned_abs();
            if bits + up > 60 {
                return Err(CircuitError::Layout(format!("sqrt pre-shift 2^{up} of a {bits}-bit value")));
            }
            (arith(l, x, zero, [1i64 << up, 0, 0, 0]), bits + up)
        }
    };
    let v = relu_one(l, v, v_bits)?;
    sqrt_round(l, v, (v_bits + 3).min(62))
}

/// `z = 1` if `a = 0`, else `z = 0`: a free inverse witness `w` (a row of its own, no gate) with
/// `z = 1 - a·w` and `a·z = 0` (copy-constrained to the zero cell).
///
/// Uniqueness: for `a = 0`, `z = 1 - 0·w = 1` whatever `w` holds (`w` is free but nothing else reads it);
/// for `a != 0`, `a·z = 0` in a field forces `z = 0` (and `w = 1/a`). Forgery test:
/// `is_zero_flags_cannot_be_flipped`.
pub fn is_zero(l: &mut Layout, a: (Pos, i64), zero: (Pos, i64)) -> (Pos, i64) {
    let inverse = if a.1 == 0 { fe(0) } else { fe(a.1).invert().unwrap_or(fe(0)) };
    let w = (l.push_witness(inverse), 0);
    // The arith chip tracks integer values; `a·w` is 1 in the field whenever a != 0.
    let row_z = l.push_row();
    let z_val = i64::from(a.1 == 0);
    l.selectors[Gate::Arith as usize][row_z] = true;
    l.lanes[arith_row::A][row_z] = fe(a.1);
    l.lanes[arith_row::B][row_z] = inverse;
    l.lanes[arith_row::Y][row_z] = fe(z_val);
    l.consts[2][row_z] = -fe(1);
    l.consts[3][row_z] = fe(1);
    l.copies.push((Pos::Lane(arith_row::A, row_z), a.0));
    l.copies.push((Pos::Lane(arith_row::B, row_z), w.0));
    let z = (Pos::Lane(arith_row::Y, row_z), z_val);
    let az = arith(l, a, z, [0, 0, 1, 0]);
    l.copies.push((az.0, zero.0));
    z
}

/// `y = sign(x)·round(2^k / |x|)`, and `2^k` for `x = 0` — `QOp::Reciprocal` for a signed `bits`-wide
/// `x`. `|x| = relu(x) - min(x, 0)`; the divisor is `|x| + [x = 0]` (so zero divides as one, giving `2^k`),
/// the rounded division is the witnessed-divisor chip, and the sign comes from `[min(x, 0) = 0]`.
pub fn reciprocal(
    l: &mut Layout,
    x: (Pos, i64),
    zero: (Pos, i64),
    numerator_log2: u32,
    bits: u32,
) -> Result<(Pos, i64), CircuitError> {
    let k = numerator_log2.min(62);
    let p = relu_one(l, x, bits)?;
    let n = arith(l, x, p, [1, -1, 0, 0]);
    let a = arith(l, p, n, [1, -1, 0, 0]);
    let a_zero = is_zero(l, a, zero);
    let d = arith(l, a, a_zero, [1, 1, 0, 0]);
    let num = constant_cell(l, zero, 1i64 << k);
    let r = var_div(l, num, d, (bits + 2).min(62), k + 1)?;
    let nonneg = is_zero(l, n, zero);
    Ok(arith(l, r, nonneg, [-1, 0, 2, 0]))
}

/// An operand of an element-wise binary op: cells, or the values of a constant of the circuit.
pub(crate) enum Operand<'a> {
    /// Cells of an activation or committed parameter.
    Cells(&'a [(Pos, i64)]),
    /// A constant's values (bound by the verifying key through the arith gate's constants).
    Constant(&'a [i64]),
}

/// Element-wise `a + b`, `a - b` (`sign = -1`) or, with `mul`, `a · b`, one [`arith`] row per output
/// element; `ma`, `mb` give each output element's index into `a` and `b` (numpy broadcasting).
pub(crate) fn broadcast_arith(
    l: &mut Layout,
    (a, ma): (Operand<'_>, &[usize]),
    (b, mb): (Operand<'_>, &[usize]),
    (mul, sign): (bool, i64),
    shared: &mut super::operands::SharedCells,
) -> Result<Vec<(Pos, i64)>, CircuitError> {
    let mut out = Vec::with_capacity(ma.len());
    for (&ia, &ib) in ma.iter().zip(mb) {
        let z = shared.zero(l);
        let cell = match (&a, &b) {
            (Operand::Cells(a), Operand::Cells(b)) if mul => arith(l, a[ia], b[ib], [0, 0, 1, 0]),
            (Operand::Cells(a), Operand::Cells(b)) => arith(l, a[ia], b[ib], [1, sign, 0, 0]),
            (Operand::Cells(a), Operand::Constant(k)) if mul => arith(l, a[ia], z, [k[ib], 0, 0, 0]),
            (Operand::Cells(a), Operand::Constant(k)) => arith(l, a[ia], z, [1, 0, 0, sign * k[ib]]),
            (Operand::Constant(k), Operand::Cells(b)) if mul => arith(l, z, b[ib], [0, k[ia], 0, 0]),
            (Operand::Constant(k), Operand::Cells(b)) => arith(l, z, b[ib], [0, sign, 0, k[ia]]),
            (Operand::Constant(_), Operand::Constant(_)) => {
                return Err(CircuitError::Layout("an element-wise op on two constants".into()))
            }
        };
        out.push(cell);
    }
    Ok(out)
}
