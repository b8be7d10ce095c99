//! The sumcheck protocol for `Σ_(x ∈ {0,1}^n) Π_k P_k(x) = claim`, each `P_k` multilinear.
//!
//! Round `i` the prover sends the round polynomial `s_i(t)` (degree ≤ the number of factors `d`) as its
//! values at `t = 0, …, d`; the verifier checks `s_i(0) + s_i(1)` against the running claim, absorbs
//! `s_i`, draws `r_i` and continues with `s_i(r_i)`. After `n` rounds it holds a [`Subclaim`]:
//! `Π_k P_k(r) = value` at the random point `r`, which the caller closes with evaluations it trusts (a
//! commitment opening, a polynomial it can evaluate itself, or the claim of the next layer).
//!
//! Soundness: a false claim survives a round only if the prover's `s_i` differs from the true round
//! polynomial yet agrees with it at `r_i`, probability at most `d / |F|` per round by Schwartz-Zippel
//! (`n·d / 2^253` in all), because `r_i` is drawn after `s_i` is absorbed. The caller must absorb the claim
//! and everything it depends on before running the protocol.

use halo2_base::halo2_proofs::halo2curves::ff::{Field, PrimeField};
use poai_circuits::Fr;

use crate::backend::SumcheckBackend;
use crate::mle::Mle;
use crate::transcript::Transcript;
use crate::SumcheckError;

/// A sumcheck proof: each round polynomial's values at `0, …, d`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SumcheckProof {
    /// Round polynomials, first round first.
    pub rounds: Vec<Vec<Fr>>,
}

/// What the verifier is left to check: `Π_k P_k(point) = value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subclaim {
    /// The random point (`x_0` first).
    pub point: Vec<Fr>,
    /// The value the product of the factors must take there.
    pub value: Fr,
}

impl Subclaim {
    /// Closes the subclaim with the factors' evaluations at [`Self::point`].
    pub fn check_product(&self, evals: &[Fr]) -> Result<(), SumcheckError> {
        if evals.iter().product::<Fr>() == self.value {
            Ok(())
        } else {
            Err(SumcheckError::FinalEvaluation(format!(
                "the {} factors' evaluations do not multiply to the last round's claim",
                evals.len()
            )))
        }
    }
}

/// The prover's result: the proof, the random point, and each factor's value there.
#[derive(Clone, Debug)]
pub struct Proved {
    /// The proof.
    pub proof: SumcheckProof,
    /// The random point the factors were bound to.
    pub point: Vec<Fr>,
    /// `P_k(point)` for each factor.
    pub evals: Vec<Fr>,
}

/// `Σ_x Π_k factors_k(x)`, the claim the sumcheck proves.
pub fn product_sum(factors: &[Mle]) -> Result<Fr, SumcheckError> {
    let len = check_factors(factors)?;
    Ok((0..len).map(|b| factors.iter().map(|f| f.evals()[b]).product::<Fr>()).sum())
}

fn check_factors(factors: &[Mle]) -> Result<usize, SumcheckError> {
    let first = factors.first().ok_or_else(|| SumcheckError::Shape("no factors".into()))?;
    if factors.iter().any(|f| f.vars() != first.vars()) {
        return Err(SumcheckError::Shape("factors in different numbers of variables".into()));
    }
    Ok(first.evals().len())
}

/// Proves `Σ_x Π_k factors_k(x)` (whose value the caller has absorbed into `transcript`).
pub fn prove(
    backend: &impl SumcheckBackend,
    factors: Vec<Mle>,
    transcript: &mut impl Transcript,
) -> Result<Proved, SumcheckError> {
    check_factors(&factors)?;
    let degree = factors.len();
    let mut tables: Vec<Vec<Fr>> = factors.into_iter().map(Mle::into_evals).collect();
    let vars = tables[0].len().trailing_zeros() as usize;
    let (mut rounds, mut point) = (Vec::with_capacity(vars), Vec::with_capacity(vars));
    for _ in 0..vars {
        let s = backend.round_evals(&tables, degree);
        transcript.absorb(&s);
        let r = transcript.challenge();
        for t in &mut tables {
            backend.bind(t, r);
        }
        rounds.push(s);
        point.push(r);
    }
    let evals = tables.iter().map(|t| t[0]).collect();
    Ok(Proved { proof: SumcheckProof { rounds }, point, evals })
}

/// Checks `proof` of `claim` over `vars` variables with round polynomials of degree `degree`, drawing the
/// same challenges as the prover; returns the subclaim left to close.
pub fn verify(
    claim: Fr,
    vars: usize,
    degree: usize,
    proof: &SumcheckProof,
    transcript: &mut impl Transcript,
) -> Result<Subclaim, SumcheckError> {
    if proof.rounds.len() != vars {
        return Err(SumcheckError::Malformed(format!("{} rounds for {vars} variables", proof.rounds.len())));
    }
    let mut value = claim;
    let mut point = Vec::with_capacity(vars);
    for (round, s) in proof.rounds.iter().enumerate() {
        if s.len() != degree + 1 {
            return Err(SumcheckError::Malformed(format!(
                "round {round} sends {} values for a degree-{degree} polynomial",
                s.len()
            )));
        }
        if s[0] + s[1] != value {
            return Err(SumcheckError::RoundSum { round });
        }
        transcript.absorb(s);
        let r = transcript.challenge();
        value = interpolate(s, r);
        point.push(r);
    }
    Ok(Subclaim { point, value })
}

/// The polynomial of degree `< values.len()` through `(i, values[i])`, evaluated at `r` (Lagrange).
pub fn interpolate(values: &[Fr], r: Fr) -> Fr {
    let n = values.len();
    let node = |i: usize| Fr::from(i as u64);
    (0..n)
        .map(|i| {
            let (mut num, mut den) = (Fr::ONE, Fr::ONE);
            for j in (0..n).filter(|&j| j != i) {
                num *= r - node(j);
                den *= node(i) - node(j);
            }
            // Nodes are distinct small integers, so `den` is never zero.
            values[i] * num * den.invert().unwrap_or(Fr::ZERO)
        })
        .sum()
}

/// The field's size in bits, for soundness statements.
pub const FIELD_BITS: u32 = Fr::NUM_BITS;
