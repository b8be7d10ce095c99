//! A matrix product over committed weights, end to end: `Y = X·W` with `X` and `Y` public and `W` known to
//! the verifier only by its HyperKZG commitment (a dense layer with hashed parameters).
//!
//! The verifier draws a random point `ρ` on `Y` (after the commitment and `Y` are absorbed) and computes
//! `Ỹ(ρ)` itself; [`crate::matmul`] reduces it to `X̃` at a point, which the verifier also computes, and
//! `W̃` at a point, which the prover opens against the commitment. Soundness is the matrix-product
//! sumcheck's (`2k / |F|`) plus the opening's; `Y ≠ X·W` survives only if `Ỹ - (X·W)~` vanishes at the
//! random `ρ` (probability `(m + n)/|F|`). The prover's cost is one MSM of `W`'s size for the commitment
//! (once per model, not per proof), `O(mk + kn)` field operations for the sumcheck and `O(kn)` for the
//! opening: no constraint per multiply-accumulate.

use poai_circuits::Fr;

use crate::backend::SumcheckBackend;
use crate::hyperkzg::{self, Commitment, KzgKey, KzgVerifierKey, OpeningProof};
use crate::matmul::{self, MatmulProof, MatmulShape};
use crate::mle::Mle;
use crate::transcript::Transcript;
use crate::SumcheckError;

/// A proof that public `Y = X·W` for the committed `W`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DenseProof {
    /// The matrix-product reduction.
    pub matmul: MatmulProof,
    /// `W̃` opened at the point the reduction ends in.
    pub opening: OpeningProof,
}

/// Absorbs the public statement and draws the point on `Y`.
fn statement(
    shape: MatmulShape,
    (x, y): (&Mle, &Mle),
    commitment: &Commitment,
    transcript: &mut impl Transcript,
) -> Result<Vec<Fr>, SumcheckError> {
    if x.vars() != shape.m + shape.k || y.vars() != shape.m + shape.n {
        return Err(SumcheckError::Shape(format!(
            "X has {} variables and Y {} for a 2^{} × 2^{} by 2^{} × 2^{} product",
            x.vars(),
            y.vars(),
            shape.m,
            shape.k,
            shape.k,
            shape.n
        )));
    }
    transcript.absorb_g1(&commitment.0);
    transcript.absorb(x.evals());
    transcript.absorb(y.evals());
    Ok((0..shape.m + shape.n).map(|_| transcript.challenge()).collect())
}

/// Proves `Y = X·W` for `W` committed as `commitment` (made with `key`).
pub fn prove(
    backend: &impl SumcheckBackend,
    key: &KzgKey,
    shape: MatmulShape,
    (x, w, y): (&Mle, &Mle, &Mle),
    commitment: &Commitment,
    transcript: &mut impl Transcript,
) -> Result<DenseProof, SumcheckError> {
    let rho = statement(shape, (x, y), commitment, transcript)?;
    let (matmul, claims) = matmul::prove(backend, (x, w), shape, &rho, transcript)?;
    let opening = hyperkzg::open(key, w, &claims.b.point, transcript)?;
    Ok(DenseProof { matmul, opening })
}

/// Checks a proof that public `Y = X·W` for the committed `W`.
pub fn verify(
    vk: &KzgVerifierKey,
    shape: MatmulShape,
    (x, y): (&Mle, &Mle),
    commitment: &Commitment,
    proof: &DenseProof,
    transcript: &mut impl Transcript,
) -> Result<(), SumcheckError> {
    let rho = statement(shape, (x, y), commitment, transcript)?;
    let claims = matmul::verify(shape, &rho, y.evaluate(&rho)?, &proof.matmul, transcript)?;
    if x.evaluate(&claims.a.point)? != claims.a.value {
        return Err(SumcheckError::FinalEvaluation("the claim on the public input is wrong".into()));
    }
    hyperkzg::verify(vk, commitment, &claims.b.point, claims.b.value, &proof.opening, transcript)
}
