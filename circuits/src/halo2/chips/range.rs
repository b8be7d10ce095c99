//! Range checks against one lookup table `[0, 2^R)`.
//!
//! Two columns: `rc` holds limbs and every row of it is looked up (unused rows hold 0); `rz` holds running
//! sums. One fixed-coefficient gate per row, `a·rz + b·rc + c·rz(next) + d·rz(prev) = 0`, ties them:
//! to show `v ∈ [0, 2^n)` with `n = m·R + e`, rows `i < m` hold `z_i = limb_i + 2^R·z_{i+1}` (`z_0 = v`,
//! copy-constrained to the checked cell); with `e = 0` the last of them is `z_(m-1) = limb_(m-1)` instead
//! (the lookup bounds it, one row per R bits); otherwise the top `z_m` is looked up itself and, on the next
//! row, `2^(R-e)·z_m` too, which bounds it by `2^e`. The lookup input
//! is the plain current-row cell (no rotation, no selector).
//!
//! Soundness: every limb is looked up, so it is an integer in `[0, 2^R)`; the running sums are then
//! integers by induction from the top (`z_(m-1) = limb`, or `z_m` looked up with `2^(R-e)·z_m` looked up
//! too, which as an integer below `2^(2R)` must be below `2^R`, so `z_m < 2^e`), and `z_0 = Σ limb_i·2^(iR)`
//! is the integer `v` (plus the offset) in `[0, 2^n)`: no other field element has such a decomposition,
//! since `n <= 62` keeps every sum far below the modulus. A check's rows stay in one physical column
//! ([`super::super::layout::Layout::rc_splits`]), and its first row reads no previous row (`d = 0`), so
//! neighbouring checks cannot feed each other.

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::Field;

use halo2_base::halo2_proofs::plonk::{Expression, VirtualCells};
use halo2_base::halo2_proofs::poly::Rotation;

use super::super::circuit::RangeColumns;
use super::super::layout::{fe, Layout, Pos};
use crate::halo2::CircuitError;

/// Constrains the cell `src` (holding `value`) to `[0, 2^bits)`.
pub fn range_check(l: &mut Layout, src: Pos, value: i64, bits: u32) -> Result<(), CircuitError> {
    range_check_offset(l, src, value, 0, bits)
}

/// Constrains `value + offset` to `[0, 2^bits)` for the cell `src` holding `value`: the decomposition
/// runs on the shifted value, and the rows that read the first running sum (the copy of `src`) add
/// `offset` through the gate's constant term, so a signed check needs no row of its own.
pub fn range_check_offset(
    l: &mut Layout,
    src: Pos,
    value: i64,
    offset: i64,
    bits: u32,
) -> Result<(), CircuitError> {
    let value = value
        .checked_add(offset)
        .ok_or_else(|| CircuitError::Layout("range-checked value overflows".into()))?;
    if bits > 62 {
        return Err(CircuitError::Layout(format!("range check of {bits} bits is wider than supported")));
    }
    let r = l.range_bits;
    let (full, rem) = (bits / r, bits % r);
    let (one, zero) = (Fr::ONE, Fr::ZERO);
    let radix = Fr::from(1u64 << r);
    // An honest witness is non-negative; a dishonest one gets limbs that cannot all pass the lookups.
    let mut z = value;
    let first = l.rc.len();
    l.rc_starts.push(first);
    for i in 0..full {
        let limb = z & ((1i64 << r) - 1);
        let next = z.checked_shr(r).unwrap_or(0);
        if i + 1 == full && rem == 0 {
            // The top limb is the rest itself (`z = limb`): the lookup bounds it, no zero row follows.
            l.push_rc(fe(z), fe(z), [one, -one, zero, zero]);
        } else {
            l.push_rc(fe(limb), fe(z), [one, -one, -radix, zero]);
        }
        z = next;
    }
    if rem == 0 {
        if full == 0 {
            // A 0-bit check: the value must be 0.
            l.push_rc(zero, fe(z), [one, zero, zero, zero]);
        }
    } else {
        let m = 1i64 << (r - rem);
        l.push_rc(fe(z), fe(z), [one, -one, zero, zero]);
        l.push_rc(fe(z.wrapping_mul(m)), zero, [zero, one, zero, -fe(m)]);
    }
    // z_0 holds the unshifted value: `a·(z_0 + offset)` in the first row, `d·(z_0 + offset)` in the next.
    let off = fe(offset);
    l.rz[first] -= off;
    let [a, ..] = l.rc_coeffs[first];
    l.rc_coeffs[first][4] += a * off;
    if let Some(next) = l.rc_coeffs.get_mut(first + 1) {
        next[4] += next[3] * off;
    }
    l.copies.push((Pos::Rz(first), src));
    Ok(())
}

/// The range decomposition gate of one column pair (no selector: fixed coefficients, zero on unused rows):
/// `a·z + b·limb + c·z(next) + d·z(prev) + e = 0`. Soundness: the module doc.
pub(crate) fn decomposition_gate(r: &RangeColumns, m: &mut VirtualCells<'_, Fr>) -> Vec<Expression<Fr>> {
    let [a, b, c, d, e] = r.coeffs.map(|f| m.query_fixed(f, Rotation::cur()));
    let z = m.query_advice(r.rz, Rotation::cur());
    let limb = m.query_advice(r.rc, Rotation::cur());
    let next = m.query_advice(r.rz, Rotation::next());
    let prev = m.query_advice(r.rz, Rotation::prev());
    vec![a * z + b * limb + c * next + d * prev + e]
}
