//! The hot loops of the sumcheck prover behind one trait, so that a GPU implementation can follow without
//! touching the protocol code: a round's evaluations, and binding a table to a challenge. [`CpuBackend`]
//! is the rayon implementation and the reference any other backend is checked against.

use crate::sumcheck::Summand;

use halo2_base::halo2_proofs::halo2curves::ff::Field;
use poai_circuits::Fr;
use rayon::prelude::*;

/// Pairs below this many are folded on one thread (splitting costs more than it saves).
const PAR_MIN_PAIRS: usize = 1 << 10;

/// The prover's hot loops.
pub trait SumcheckBackend: Sync {
    /// The round polynomial of `Σ_x summand(tables(x))` in its first variable, at `t = 0, 1, …, degree`:
    /// `s(t) = Σ_j summand(tables_k[2j] + t·(tables_k[2j+1] - tables_k[2j]))`. Every table has the same
    /// even length; `degree` is the summand's degree.
    fn round_evals(&self, tables: &[Vec<Fr>], summand: &Summand, degree: usize) -> Vec<Fr>;

    /// Binds a table's first variable to `r` (the table halves).
    fn bind(&self, table: &mut Vec<Fr>, r: Fr);
}

/// Multi-core CPU backend (rayon).
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuBackend;

/// A round's running sums, and scratch space for one pair's values and steps (reused across pairs, so
/// the hot loop allocates nothing).
struct RoundAcc {
    sums: Vec<Fr>,
    values: Vec<Fr>,
    steps: Vec<Fr>,
}

impl RoundAcc {
    fn new(degree: usize, tables: usize) -> Self {
        Self {
            sums: vec![Fr::ZERO; degree + 1],
            values: Vec::with_capacity(tables),
            steps: Vec::with_capacity(tables),
        }
    }

    /// Adds `summand(lo_k + t·(hi_k - lo_k))` for `t = 0..=degree`, for pair `j` of every table.
    fn add_pair(&mut self, tables: &[Vec<Fr>], summand: &Summand, j: usize) {
        self.values.clear();
        self.values.extend(tables.iter().map(|t| t[2 * j]));
        self.steps.clear();
        self.steps.extend(tables.iter().map(|t| t[2 * j + 1] - t[2 * j]));
        for a in self.sums.iter_mut() {
            *a += summand.eval(&self.values);
            for (v, d) in self.values.iter_mut().zip(&self.steps) {
                *v += d;
            }
        }
    }
}

impl SumcheckBackend for CpuBackend {
    fn round_evals(&self, tables: &[Vec<Fr>], summand: &Summand, degree: usize) -> Vec<Fr> {
        let pairs = tables.first().map_or(0, |t| t.len() / 2);
        let new = || RoundAcc::new(degree, tables.len());
        if pairs < PAR_MIN_PAIRS {
            let mut acc = new();
            (0..pairs).for_each(|j| acc.add_pair(tables, summand, j));
            return acc.sums;
        }
        (0..pairs)
            .into_par_iter()
            .fold(new, |mut acc, j| {
                acc.add_pair(tables, summand, j);
                acc
            })
            .map(|acc| acc.sums)
            .reduce(
                || vec![Fr::ZERO; degree + 1],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                    a
                },
            )
    }

    fn bind(&self, table: &mut Vec<Fr>, r: Fr) {
        let half = table.len() / 2;
        if half < PAR_MIN_PAIRS {
            crate::mle::bind_in_place(table, r);
            return;
        }
        let bound: Vec<Fr> = table.par_chunks(2).map(|p| p[0] + r * (p[1] - p[0])).collect();
        *table = bound;
    }
}
