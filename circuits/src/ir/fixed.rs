//! Fixed-point rules: the single definition of rounding, rescaling and saturation.
//!
//! A real value `r` is represented by the integer `q` with `r ≈ q / 2^scale`. Every rounding in poai is
//! *round half up* (towards +∞ on ties), because it is what a circuit proves most cheaply: for a divisor
//! `d > 0`, `y = floor((2x + d) / 2d)` is witnessed by one remainder `0 <= r < 2d`. Saturation clamps to
//! the signed range of a bit width.

use serde::{Deserialize, Serialize};

/// Largest bit width an activation or table may use; keeps every product comfortably inside `i64`.
pub const MAX_BITS: u32 = 30;

/// Inclusive signed range of a `bits`-wide integer: `[-2^(bits-1), 2^(bits-1) - 1]`.
pub fn signed_range(bits: u32) -> (i64, i64) {
    let half = 1i64 << (bits.clamp(1, 62) - 1);
    (-half, half - 1)
}

/// Clamps `x` into the signed range of `bits`.
pub fn saturate(x: i64, bits: u32) -> i64 {
    let (lo, hi) = signed_range(bits);
    x.clamp(lo, hi)
}

/// `round(x / 2^shift)` with ties rounded up; `shift = 0` returns `x`.
pub fn round_shift(x: i64, shift: u32) -> i64 {
    if shift == 0 {
        return x;
    }
    let shift = shift.min(62);
    let half = 1i64 << (shift - 1);
    x.saturating_add(half) >> shift
}

/// Moves `x` by `shift` binary places: a positive shift divides with rounding, a negative shift
/// multiplies exactly (saturating at the `i64` limits, far beyond any bit width poai uses).
pub fn shift_scale(x: i64, shift: i32) -> i64 {
    if shift >= 0 {
        round_shift(x, shift.unsigned_abs())
    } else {
        x.saturating_mul(1i64 << shift.unsigned_abs().min(62))
    }
}

/// Rescales and saturates: the semantics of [`crate::ir::QOp::Rescale`].
pub fn rescale(x: i64, shift: i32, bits: u32) -> i64 {
    saturate(shift_scale(x, shift), bits)
}

/// `round(num / den)` with ties rounded up, for `den > 0`; returns `None` for `den <= 0`.
pub fn div_round(num: i64, den: i64) -> Option<i64> {
    if den <= 0 {
        return None;
    }
    let (num, den) = (num as i128, den as i128);
    let q = (2 * num + den).div_euclid(2 * den);
    Some(q.clamp(i64::MIN as i128, i64::MAX as i128) as i64)
}

/// `round(sqrt(v))` with ties rounded up, for `v >= 0` (negative `v` is treated as 0).
///
/// The result `s` is the unique integer with `(2s - 1)^2 <= 4v < (2s + 1)^2`.
pub fn isqrt_round(v: i64) -> i64 {
    if v <= 0 {
        return 0;
    }
    let four_v = 4 * v as i128;
    // Integer square root of 4v by Newton's method, then pick the rounding candidate.
    let mut s = (v as f64).sqrt() as i128;
    while s * s > v as i128 {
        s -= 1;
    }
    while (s + 1) * (s + 1) <= v as i128 {
        s += 1;
    }
    // s = floor(sqrt(v)); round up when 4v >= (2s + 1)^2.
    if four_v >= (2 * s + 1) * (2 * s + 1) {
        s += 1;
    }
    s as i64
}

/// Quantises a real number at `scale`, rounding half away from zero, saturating at `bits`.
pub fn quantize(value: f64, scale: i32, bits: u32) -> i64 {
    let (lo, hi) = signed_range(bits);
    let scaled = (value * 2f64.powi(scale)).round();
    if scaled.is_nan() {
        return 0;
    }
    (scaled.clamp(lo as f64, hi as f64)) as i64
}

/// Quantises a constant at `scale` without saturation (biases live at accumulator scale).
pub fn quantize_wide(value: f64, scale: i32) -> i64 {
    let scaled = (value * 2f64.powi(scale)).round();
    if scaled.is_nan() {
        return 0;
    }
    scaled.clamp(-(2f64.powi(62)), 2f64.powi(62)) as i64
}

/// Real value of `q` at `scale`.
pub fn dequantize(q: i64, scale: i32) -> f64 {
    q as f64 * 2f64.powi(-scale)
}

/// Fixed-point format of one tensor: its scale exponent and the bit width its values are bounded by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixedFormat {
    /// `real = q / 2^scale`.
    pub scale: i32,
    /// Values lie in the signed range of this many bits (accumulators may be wider: see `bits`).
    pub bits: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_shift_rounds_half_up() {
        assert_eq!(round_shift(5, 1), 3); // 2.5 -> 3
        assert_eq!(round_shift(-5, 1), -2); // -2.5 -> -2
        assert_eq!(round_shift(-6, 2), -1); // -1.5 -> -1
        assert_eq!(round_shift(7, 2), 2); // 1.75 -> 2
        assert_eq!(round_shift(9, 0), 9);
    }

    #[test]
    fn div_round_matches_round_shift_on_powers_of_two() {
        for x in -300..300 {
            for s in 1..6u32 {
                assert_eq!(div_round(x, 1 << s), Some(round_shift(x, s)), "x={x} s={s}");
            }
        }
        assert_eq!(div_round(1, 0), None);
    }

    #[test]
    fn isqrt_round_is_nearest() {
        for v in 0..20_000i64 {
            let s = isqrt_round(v);
            let exact = (v as f64).sqrt();
            assert!((s as f64 - exact).abs() <= 0.5 + 1e-9, "v={v} s={s}");
            assert!((2 * s - 1).pow(2) <= 4 * v || v == 0);
            assert!(4 * v < (2 * s + 1).pow(2));
        }
    }

    #[test]
    fn saturation_and_quantize() {
        assert_eq!(saturate(40_000, 16), 32_767);
        assert_eq!(saturate(-40_000, 16), -32_768);
        assert_eq!(quantize(1.5, 2, 16), 6);
        assert_eq!(quantize(-0.625, 3, 16), -5);
        assert_eq!(quantize(1e9, 0, 8), 127);
        assert_eq!(rescale(1 << 20, 4, 16), 32_767);
        assert_eq!(rescale(3, -2, 16), 12);
    }
}
