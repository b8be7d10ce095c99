//! Integer tables for non-linear functions.
//!
//! A table maps every integer of a bounded input domain (a `in_bits`-wide signed range at `in_scale`)
//! to `quantize(f(x / 2^in_scale), out_scale, out_bits)`. Circuits look these tables up; `eval` uses the
//! same [`TableSpec::value`], so both agree bit-exactly. Inputs outside the domain saturate to its ends,
//! which is the right behaviour for the saturating functions and, with calibrated scales, never happens
//! for the others.

use serde::{Deserialize, Serialize};

use super::fixed::{dequantize, quantize, saturate, signed_range};

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
}

impl TableSpec {
    /// The integer output for the integer input `x` (saturated into the domain first).
    pub fn value(&self, x: i64) -> i64 {
        let x = saturate(x, self.in_bits);
        quantize(self.func.apply(dequantize(x, self.in_scale)), self.out_scale, self.out_bits)
    }

    /// Inclusive input domain.
    pub fn domain(&self) -> (i64, i64) {
        signed_range(self.in_bits)
    }

    /// The whole table as `(input, output)` rows, in input order.
    pub fn rows(&self) -> Vec<(i64, i64)> {
        let (lo, hi) = self.domain();
        (lo..=hi).map(|x| (x, self.value(x))).collect()
    }

    /// A dense lookup for fast evaluation: `value(x) == lookup[x - domain().0]` inside the domain.
    pub fn dense(&self) -> DenseTable {
        let (lo, hi) = self.domain();
        DenseTable { spec: *self, lo, values: (lo..=hi).map(|x| self.value(x)).collect() }
    }
}

/// A materialised table, for evaluating many inputs.
#[derive(Clone, Debug)]
pub struct DenseTable {
    spec: TableSpec,
    lo: i64,
    values: Vec<i64>,
}

impl DenseTable {
    /// Same as [`TableSpec::value`], by lookup.
    pub fn get(&self, x: i64) -> i64 {
        let x = saturate(x, self.spec.in_bits);
        let i = (x - self.lo) as usize;
        self.values.get(i).copied().unwrap_or_else(|| self.spec.value(x))
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
        let spec =
            TableSpec { func: NonLinear::Sigmoid, in_scale: 6, in_bits: 10, out_scale: 14, out_bits: 16 };
        let dense = spec.dense();
        for x in -600..600 {
            assert_eq!(dense.get(x), spec.value(x));
        }
        assert_eq!(spec.value(0), 8192);
        assert_eq!(spec.value(10_000), spec.value(511));
    }
}
