//! Dense multilinear polynomials over BN254's scalar field, held as their evaluations on the Boolean
//! hypercube.
//!
//! Variable order: `evals[b]` is the value at `x = (b_0, b_1, …, b_(n-1))` with `b = Σ b_i·2^i`, so a
//! row-major `R × C` matrix is the polynomial in `(column bits, row bits)`. Binding goes from `x_0`: the
//! pairs `(evals[2j], evals[2j+1])` fold into one entry, so every bound table stays contiguous.

use halo2_base::halo2_proofs::halo2curves::ff::Field;
use poai_circuits::Fr;

use crate::SumcheckError;

/// A multilinear polynomial in `vars` variables, by its `2^vars` evaluations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mle {
    evals: Vec<Fr>,
    vars: usize,
}

impl Mle {
    /// The polynomial with these evaluations; their count must be a power of two.
    pub fn new(evals: Vec<Fr>) -> Result<Self, SumcheckError> {
        if !evals.len().is_power_of_two() {
            return Err(SumcheckError::NotPowerOfTwo(evals.len()));
        }
        let vars = evals.len().trailing_zeros() as usize;
        Ok(Self { evals, vars })
    }

    /// The polynomial of small signed integers (a quantised tensor), zero-padded to `2^vars` entries.
    pub fn from_i64(values: &[i64], vars: usize) -> Result<Self, SumcheckError> {
        let len = 1usize.checked_shl(vars as u32).filter(|&n| n >= values.len()).ok_or_else(|| {
            SumcheckError::Shape(format!("{} values do not fit 2^{vars} entries", values.len()))
        })?;
        let mut evals: Vec<Fr> = values.iter().map(|&v| signed(v)).collect();
        evals.resize(len, Fr::ZERO);
        Self::new(evals)
    }

    /// Number of variables.
    pub fn vars(&self) -> usize {
        self.vars
    }

    /// The evaluations on the hypercube.
    pub fn evals(&self) -> &[Fr] {
        &self.evals
    }

    /// The evaluations, by value.
    pub fn into_evals(self) -> Vec<Fr> {
        self.evals
    }

    /// The value at `point` (`vars` coordinates, `x_0` first), in `O(2^vars)`.
    pub fn evaluate(&self, point: &[Fr]) -> Result<Fr, SumcheckError> {
        if point.len() != self.vars {
            return Err(SumcheckError::PointLength { vars: self.vars, got: point.len() });
        }
        let mut table = self.evals.clone();
        for &r in point {
            bind_in_place(&mut table, r);
        }
        Ok(table[0])
    }
}

/// `x_0 := r`: `t'[j] = t[2j] + r·(t[2j+1] - t[2j])`, halving the table.
pub(crate) fn bind_in_place(table: &mut Vec<Fr>, r: Fr) {
    let half = table.len() / 2;
    for j in 0..half {
        let (lo, hi) = (table[2 * j], table[2 * j + 1]);
        table[j] = lo + r * (hi - lo);
    }
    table.truncate(half.max(1));
}

/// `eq(point, b) = Π_i (point_i·b_i + (1 - point_i)(1 - b_i))` for every `b` of the hypercube, in the
/// order of [`Mle`]: the table whose inner product with a polynomial's evaluations is its value at
/// `point`.
pub fn eq_evals(point: &[Fr]) -> Vec<Fr> {
    let mut table = vec![Fr::ONE];
    for &r in point {
        let low: Vec<Fr> = table.iter().map(|e| *e * (Fr::ONE - r)).collect();
        let high: Vec<Fr> = table.iter().map(|e| *e * r).collect();
        table = low;
        table.extend(high);
    }
    table
}

/// `eq(a, b) = Π_i (a_i·b_i + (1 - a_i)(1 - b_i))` for two points, in `O(len)`: one entry of
/// [`eq_evals`] at a non-Boolean point.
pub fn eq_at(a: &[Fr], b: &[Fr]) -> Fr {
    a.iter().zip(b).map(|(x, y)| *x * y + (Fr::ONE - x) * (Fr::ONE - y)).product()
}

/// A signed integer as a field element (`-v` is `p - v`).
pub fn signed(v: i64) -> Fr {
    let abs = Fr::from(v.unsigned_abs());
    if v < 0 {
        -abs
    } else {
        abs
    }
}

/// `Σ_(x < n) eq(point, x)`: the indicator of `[0, n)` on the hypercube of `point.len()` variables, at
/// `point`, in `O(len)`: walking `n`'s bits from the top, each set bit adds the block of `x` that agree
/// with `n` above it and have a 0 there.
pub fn prefix_indicator_at(n: usize, point: &[Fr]) -> Fr {
    if n >= 1usize.checked_shl(point.len() as u32).unwrap_or(usize::MAX) {
        return Fr::ONE;
    }
    let (mut sum, mut prefix) = (Fr::ZERO, Fr::ONE);
    for (b, z) in point.iter().enumerate().rev() {
        if (n >> b) & 1 == 1 {
            sum += prefix * (Fr::ONE - z);
            prefix *= z;
        } else {
            prefix *= Fr::ONE - z;
        }
    }
    sum
}
