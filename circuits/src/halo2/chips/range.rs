//! Range checks against one lookup table `[0, 2^R)` on the range-check column.
//!
//! `v ∈ [0, 2^n)` as a running sum: rows `z_0 = v, z_1, …` with `z_i - 2^R·z_{i+1}` looked up (each is an
//! R-bit limb). With `n = m·R` the last `z_m` is constrained to 0. With a remainder of `e` bits the last
//! `z_m` is looked up itself and, through the `RcMul` gate, `z_m · 2^(R-e)` on the next row too, which
//! bounds it by `2^e`. `z_0` is copy-constrained to the checked cell.

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;

use super::super::layout::{fe, Layout, Pos};
use crate::halo2::CircuitError;

/// Constrains the cell `src` (holding `value`) to `[0, 2^bits)`.
pub fn range_check(l: &mut Layout, src: Pos, value: i64, bits: u32) -> Result<(), CircuitError> {
    if bits > 62 {
        return Err(CircuitError::Layout(format!("range check of {bits} bits is wider than supported")));
    }
    let r = l.range_bits;
    let (full, rem) = (bits / r, bits % r);
    let radix = Fr::from(1u64 << r);
    // An honest witness is non-negative; a dishonest one gets limbs that cannot all pass the lookups.
    let mut z = value;
    let first = l.rc.len();
    for _ in 0..full {
        l.push_rc(fe(z), true, radix);
        z = z.checked_shr(r).unwrap_or(0);
    }
    let last = l.push_rc(fe(z), rem > 0, Fr::from(0));
    if rem == 0 {
        l.constants.push((Pos::Rc(last), Fr::from(0)));
    } else {
        let m = 1i64 << (r - rem);
        l.rc_mul_on[last] = true;
        l.rc_mul[last] = fe(m);
        l.push_rc(fe(z.wrapping_mul(m)), true, Fr::from(0));
    }
    l.copies.push((Pos::Rc(first), src));
    Ok(())
}
