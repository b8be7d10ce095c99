//! Integer tables for non-linear functions.
//!
//! A table maps every integer of a bounded input domain (a `in_bits`-wide signed range at `in_scale`)
//! to `quantize(f(x / 2^in_scale), out_scale, out_bits)`. Circuits look these tables up; `eval` uses the
//! same [`TableSpec::value`], so both agree bit-exactly. Inputs outside the domain saturate to its ends,
//! which is the right behaviour for the saturating functions and, with calibrated scales, never happens
//! for the others.
//!
//! An *interpolated* table (`interp_bits = f > 0`) stores only every `2^f`-th point: entry `q` holds
//! `c(q) = quantize(f(q / 2^(in_scale - f)))` and the slope `d(q) = c(q + 1) - c(q)`. An input
//! `x = q·2^f + r` (`0 <= r < 2^f`) maps to `c(q) + round(d(q)·r / 2^f)`. The input resolution stays
//! `in_bits` while the table shrinks `2^f`-fold; for smooth functions the chord error is far below the
//! output's rounding, so a 2^10-entry table gives the accuracy of a 2^14-entry one.
use serde::{Deserialize, Serialize};

use super::fixed::{dequantize, quantize, saturate, signed_range, MAX_BITS};

/// The non-linear functions poai tabulates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum NonLinear {
    /// `1 / (1 + e^-x)`
    Sigmoid,
    /// `tanh(x)`
    Tanh,
    /// `e^x`
    Exp,
    /// The Gauss error function.
    Erf,
    /// `x * Φ(x)` (exact, erf-based GELU).
    Gelu,
}

impl NonLinear {
    /// The real function.
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Self::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            Self::Tanh => x.tanh(),
            Self::Exp => x.exp(),
            Self::Erf => erf(x),
            Self::Gelu => 0.5 * x * (1.0 + erf(x / std::f64::consts::SQRT_2)),
        }
    }

    /// Largest |x| worth tabulating: beyond it the function is flat to within f64 rounding of its
    /// quantised output, so the table domain need not reach further.
    pub fn saturation_point(self) -> Option<f64> {
        match self {
            Self::Sigmoid => Some(16.0),
            Self::Tanh | Self::Erf => Some(8.0),
            Self::Exp | Self::Gelu => None,
        }
    }

    /// Largest |f(x)| over all x, where bounded.
    pub fn output_bound(self) -> Option<f64> {
        match self {
            Self::Sigmoid | Self::Tanh | Self::Erf => Some(1.0),
            Self::Exp | Self::Gelu => None,
        }
    }
}

/// The error function, by the Numerical Recipes complementary-error Chebyshev fit (|error| < 1.2e-7),
/// written out here so tables never depend on a platform `libm`.
pub fn erf(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * poly.exp();
    if x >= 0.0 {
        1.0 - erfc
    } else {
        erfc - 1.0
    }
}

/// A tabulated function with its input domain and output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSpec {
    /// Which function.
    pub func: NonLinear,
    /// Scale of the table's input.
    pub in_scale: i32,
    /// The input domain is the signed range of this many bits.
    pub in_bits: u32,
    /// Scale of the table's output.
    pub out_scale: i32,
    /// Outputs saturate to the signed range of this many bits.
    pub out_bits: u32,
    /// Low input bits resolved by linear interpolation between table entries (0: a plain lookup); the
    /// table holds `2^(in_bits - interp_bits)` entries. Left out of the serialised form when 0, so plain
    /// tables (and the model commitments over them) read and hash as before.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub interp_bits: u32,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

/// Widest table input domain a graph may declare.
pub const MAX_TABLE_BITS: u32 = 24;
/// Most low bits a table may interpolate.
pub const MAX_INTERP_BITS: u32 = 12;

/// `t = round(d·r / 2^f)` with ties up, the interpolation step between two entries `d` apart, `r` of
/// `2^f` steps along, and its rounding remainder `e`: `d·r + 2^(f-1) = t·2^f + e` with `0 <= e < 2^f`
/// (what the circuit's `Interp` row witnesses). `(0, 0)` for `f = 0`.
pub fn interpolate(d: i64, r: i64, f: u32) -> (i64, i64) {
    if f == 0 {
        return (0, 0);
    }
    let num = d * r + (1i64 << (f - 1));
    (num.div_euclid(1i64 << f), num.rem_euclid(1i64 << f))
}

impl TableSpec {
    /// Checks the widths: a domain of at most [`MAX_TABLE_BITS`] bits, outputs of at most
    /// [`MAX_BITS`], and fewer interpolated bits than the domain has (at most [`MAX_INTERP_BITS`]).
    pub fn check(&self) -> Result<(), String> {
        if !(1..=MAX_TABLE_BITS).contains(&self.in_bits) || !(1..=MAX_BITS).contains(&self.out_bits) {
            return Err(format!(
                "table widths in {} / out {} bits outside 1..={MAX_TABLE_BITS} / 1..={MAX_BITS}",
                self.in_bits, self.out_bits
            ));
        }
        if self.interp_bits >= self.in_bits || self.interp_bits > MAX_INTERP_BITS {
            return Err(format!(
                "table interpolates {} of its {} input bits (at most {MAX_INTERP_BITS}, fewer than all)",
                self.interp_bits, self.in_bits
            ));
        }
        Ok(())
    }

    /// The integer output for the integer input `x` (saturated into the domain first).
    pub fn value(&self, x: i64) -> i64 {
        let (q, r) = self.split(x);
        if self.interp_bits == 0 {
            return self.entry(q);
        }
        let (c, d) = self.entry_slope(q);
        c + interpolate(d, r, self.interp_bits).0
    }

    /// `x` saturated into the domain, split into its table index `q = floor(x / 2^f)` and the
    /// interpolated remainder `r = x - q·2^f`.
    pub fn split(&self, x: i64) -> (i64, i64) {
        let x = saturate(x, self.in_bits);
        let f = self.interp_bits.min(62);
        let q = x >> f;
        (q, x - (q << f))
    }

    /// Table entry `q`: the function at `q / 2^(in_scale - interp_bits)`, quantised. Not saturated to
    /// the index domain, so the top entry's slope reaches one step past it.
    pub fn entry(&self, q: i64) -> i64 {
        let scale = self.in_scale - self.interp_bits as i32;
        quantize(self.func.apply(dequantize(q, scale)), self.out_scale, self.out_bits)
    }

    /// Entry `q` and its slope to entry `q + 1`.
    pub fn entry_slope(&self, q: i64) -> (i64, i64) {
        let c = self.entry(q);
        (c, self.entry(q + 1) - c)
    }

    /// Inclusive input domain.
    pub fn domain(&self) -> (i64, i64) {
        signed_range(self.in_bits)
    }

    /// Inclusive range of table indices (the domain divided by `2^interp_bits`).
    pub fn index_domain(&self) -> (i64, i64) {
        signed_range(self.in_bits.saturating_sub(self.interp_bits))
    }

    /// Number of table entries.
    pub fn entries(&self) -> usize {
        1usize << self.in_bits.saturating_sub(self.interp_bits).min(62)
    }

    /// The whole table as `(index, entry, slope)` rows, in index order. For a plain table the index is
    /// the input and the entry its output.
    pub fn rows(&self) -> Vec<(i64, i64, i64)> {
        let (lo, hi) = self.index_domain();
        let entries: Vec<i64> = (lo..=hi + 1).map(|q| self.entry(q)).collect();
        (lo..=hi).zip(entries.windows(2)).map(|(q, w)| (q, w[0], w[1] - w[0])).collect()
    }

    /// A dense lookup for fast evaluation: `get(x) == value(x)` everywhere.
    pub fn dense(&self) -> DenseTable {
        let (lo, _) = self.index_domain();
        DenseTable { spec: *self, lo, rows: self.rows().into_iter().map(|(_, c, d)| (c, d)).collect() }
    }
}

/// A materialised table, for evaluating many inputs.
#[derive(Clone, Debug)]
pub struct DenseTable {
    spec: TableSpec,
    lo: i64,
    rows: Vec<(i64, i64)>,
}

impl DenseTable {
    /// Same as [`TableSpec::value`], by lookup.
    pub fn get(&self, x: i64) -> i64 {
        let (q, r) = self.spec.split(x);
        let i = usize::try_from(q - self.lo).unwrap_or(usize::MAX);
        match self.rows.get(i) {
            Some(&(c, d)) => c + interpolate(d, r, self.spec.interp_bits).0,
            None => self.spec.value(x),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_is_accurate() {
        for (x, want) in [(0.0, 0.0), (0.5, 0.520_499_877_8), (1.0, 0.842_700_792_9), (-2.0, -0.995_322_265)]
        {
            assert!((erf(x) - want).abs() < 2e-7, "erf({x})");
        }
    }

    #[test]
    fn dense_table_matches_spec() {
        let spec = TableSpec {
            func: NonLinear::Sigmoid,
            in_scale: 6,
            in_bits: 10,
            out_scale: 14,
            out_bits: 16,
            interp_bits: 0,
        };
        let dense = spec.dense();
        for x in -600..600 {
            assert_eq!(dense.get(x), spec.value(x));
        }
        assert_eq!(spec.value(0), 8192);
        assert_eq!(spec.value(10_000), spec.value(511));
    }

    #[test]
    fn interpolated_table_matches_spec_and_plain_table() {
        let plain = TableSpec {
            func: NonLinear::Tanh,
            in_scale: 10,
            in_bits: 14,
            out_scale: 14,
            out_bits: 16,
            interp_bits: 0,
        };
        let interp = TableSpec { interp_bits: 4, ..plain };
        assert_eq!(interp.entries(), 1 << 10);
        let dense = interp.dense();
        let (lo, hi) = interp.domain();
        let mut worst = 0;
        for x in lo - 40..=hi + 40 {
            let y = interp.value(x);
            assert_eq!(dense.get(x), y, "x = {x}");
            // Sampled points are the plain table's; in between, within a couple of output steps.
            if x.rem_euclid(16) == 0 && (lo..=hi).contains(&x) {
                assert_eq!(y, plain.value(x), "x = {x}");
            }
            worst = worst.max((y - plain.value(x)).abs());
        }
        assert!(worst <= 2, "interpolation is {worst} output steps off");
        // With rounding ties up, a remainder of half a step lands halfway up the slope.
        let (q, _) = interp.split(8);
        let (c, d) = interp.entry_slope(q);
        assert_eq!(interp.value(8), c + (d * 8 + 8).div_euclid(16));
    }

    #[test]
    fn check_rejects_bad_widths() {
        let ok = TableSpec {
            func: NonLinear::Exp,
            in_scale: 6,
            in_bits: 12,
            out_scale: 14,
            out_bits: 16,
            interp_bits: 4,
        };
        assert!(ok.check().is_ok());
        assert!(TableSpec { interp_bits: 12, ..ok }.check().is_err());
        assert!(TableSpec { in_bits: 40, ..ok }.check().is_err());
        assert!(TableSpec { out_bits: 0, ..ok }.check().is_err());
    }
}
