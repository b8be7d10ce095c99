//! Zerocheck: a polynomial identity `g(P_1(x), …, P_m(x)) = 0` on every point of the hypercube (a gate:
//! a rescale's division, a flag's booleanity), proven as `Σ_x eq(τ, x)·g(P(x)) = 0` at a random `τ`.
//!
//! Soundness: if `g(P(b)) ≠ 0` for some `b`, the multilinear polynomial `Σ_x eq(τ, x)·g(P(x))` in `τ` is
//! not zero (its coefficients are those values), so a random `τ` drawn after the tables are committed
//! makes the sum zero with probability at most `n / |F|`; the sumcheck then holds the prover to it. The
//! verifier evaluates `eq(τ, r)` itself and closes the rest with the tables' evaluations at `r`.

use halo2_base::halo2_proofs::halo2curves::ff::Field;
use poai_circuits::Fr;

use crate::backend::SumcheckBackend;
use crate::mle::{eq_at, eq_evals, Mle};
use crate::sumcheck::{self, Proved, SumcheckProof, Summand};
use crate::transcript::Transcript;
use crate::SumcheckError;

/// `eq(τ, ·)·g`: the constraint's terms with the eq table (index 0) as one more factor, the tables
/// shifted up by one.
fn with_eq(constraint: &Summand) -> Summand {
    let terms = constraint
        .terms
        .iter()
        .map(|(c, f)| (*c, std::iter::once(0).chain(f.iter().map(|k| k + 1)).collect()))
        .collect();
    Summand { terms }
}

fn draw_tau(vars: usize, transcript: &mut impl Transcript) -> Vec<Fr> {
    (0..vars).map(|_| transcript.challenge()).collect()
}

/// Proves that `constraint` vanishes on the hypercube over `tables` (committed, and absorbed by the
/// caller); returns the proof with the point and the tables' values there.
pub fn prove(
    backend: &impl SumcheckBackend,
    tables: Vec<Mle>,
    constraint: &Summand,
    transcript: &mut impl Transcript,
) -> Result<Proved, SumcheckError> {
    let vars = tables.first().map_or(0, Mle::vars);
    let tau = draw_tau(vars, transcript);
    let all = std::iter::once(Mle::new(eq_evals(&tau))).chain(tables.into_iter().map(Ok));
    let all = all.collect::<Result<Vec<_>, _>>()?;
    let mut proved = sumcheck::prove_summand(backend, all, &with_eq(constraint), transcript)?;
    proved.evals.remove(0);
    Ok(proved)
}

/// Checks a zerocheck over `vars` variables of `constraint`; `evals` are the tables' values at the point
/// the proof ends in (the caller's to bind: commitment openings, or claims to pass on). Returns the point.
pub fn verify(
    vars: usize,
    constraint: &Summand,
    proof: &SumcheckProof,
    evals: &[Fr],
    transcript: &mut impl Transcript,
) -> Result<Vec<Fr>, SumcheckError> {
    verify_with(vars, constraint, proof, &mut evals.to_vec(), None, transcript)
}

/// A public table's extension, which the verifier evaluates itself.
pub type PublicTable<'a> = &'a dyn Fn(&[Fr]) -> Fr;

/// [`verify`] where one more public table may follow `evals`: `mask`, whose extension the verifier
/// evaluates at the proof's point and appends to `evals`.
pub fn verify_with(
    vars: usize,
    constraint: &Summand,
    proof: &SumcheckProof,
    evals: &mut Vec<Fr>,
    mask: Option<PublicTable<'_>>,
    transcript: &mut impl Transcript,
) -> Result<Vec<Fr>, SumcheckError> {
    let tau = draw_tau(vars, transcript);
    let sub = sumcheck::verify(Fr::ZERO, vars, constraint.degree() + 1, proof, transcript)?;
    if let Some(mask) = mask {
        evals.push(mask(&sub.point));
    }
    let values: Vec<Fr> = std::iter::once(eq_at(&tau, &sub.point)).chain(evals.iter().copied()).collect();
    sub.check(&with_eq(constraint), &values)?;
    Ok(sub.point)
}
