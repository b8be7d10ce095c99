//! Merging claims: several claimed values of one multilinear polynomial at different points (its
//! consumers' claims in the backward pass) become one claim at a random point, so each tensor is opened
//! or reduced once.
//!
//! `P̃(z_i) = v_i` for `i < c` holds exactly when `Σ_x P(x)·Σ_i γ^i·eq(z_i, x) = Σ_i γ^i·v_i` for a random
//! `γ` (up to `c / |F|`), a product sumcheck of `P` and the combined eq table. It ends in `P̃(r)·E(r)` with
//! `E(r) = Σ_i γ^i·eq(z_i, r)`, which the verifier computes itself: what is left is the one claim `P̃(r)`.

use halo2_base::halo2_proofs::halo2curves::ff::Field;
use poai_circuits::Fr;

use crate::backend::SumcheckBackend;
use crate::matmul::Claim;
use crate::mle::{eq_at, eq_evals, Mle};
use crate::sumcheck::{self, SumcheckProof};
use crate::transcript::Transcript;
use crate::SumcheckError;

/// A merge proof: the sumcheck, and `P̃` at its point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeProof {
    /// The product sumcheck.
    pub sumcheck: SumcheckProof,
    /// `P̃(r)`.
    pub value: Fr,
}

fn check_points(vars: usize, claims: &[Claim]) -> Result<(), SumcheckError> {
    if claims.is_empty() {
        return Err(SumcheckError::Shape("no claims to merge".into()));
    }
    match claims.iter().find(|c| c.point.len() != vars) {
        Some(c) => Err(SumcheckError::PointLength { vars, got: c.point.len() }),
        None => Ok(()),
    }
}

/// `γ^i` for the claims, and the combined value `Σ γ^i·v_i`.
fn combine(claims: &[Claim], transcript: &mut impl Transcript) -> (Vec<Fr>, Fr) {
    claims.iter().for_each(|c| transcript.absorb(&[c.value]));
    let gamma = transcript.challenge();
    let mut powers = Vec::with_capacity(claims.len());
    let mut g = Fr::ONE;
    for _ in claims {
        powers.push(g);
        g *= gamma;
    }
    let value = claims.iter().zip(&powers).map(|(c, g)| c.value * g).sum();
    (powers, value)
}

/// `weights += g·eq(point, ·)`. Coordinates that are 0 or 1 from some index on (a claim on a segment of
/// a packed polynomial) fix the high bits, so only that block of `2^low` entries is touched.
fn add_scaled_eq(weights: &mut [Fr], point: &[Fr], g: Fr) {
    let low = point.iter().rposition(|z| *z != Fr::ZERO && *z != Fr::ONE).map_or(0, |i| i + 1);
    let offset =
        point[low..]
            .iter()
            .enumerate()
            .fold(0usize, |acc, (i, z)| if *z == Fr::ONE { acc | 1 << (low + i) } else { acc });
    let block = &mut weights[offset..offset + (1 << low)];
    block.iter_mut().zip(eq_evals(&point[..low])).for_each(|(w, e)| *w += g * e);
}

/// Merges `claims` on `poly` into one claim at a random point.
pub fn prove(
    backend: &impl SumcheckBackend,
    poly: &Mle,
    claims: &[Claim],
    transcript: &mut impl Transcript,
) -> Result<(MergeProof, Claim), SumcheckError> {
    check_points(poly.vars(), claims)?;
    let (powers, _) = combine(claims, transcript);
    let mut weights = vec![Fr::ZERO; poly.evals().len()];
    for (c, g) in claims.iter().zip(&powers) {
        add_scaled_eq(&mut weights, &c.point, *g);
    }
    let proved = sumcheck::prove(backend, vec![poly.clone(), Mle::new(weights)?], transcript)?;
    let value = proved.evals[0];
    transcript.absorb(&[value]);
    Ok((MergeProof { sumcheck: proved.proof, value }, Claim { point: proved.point, value }))
}

/// Checks a merge of `claims` on a polynomial in `vars` variables; returns the one claim left.
pub fn verify(
    vars: usize,
    claims: &[Claim],
    proof: &MergeProof,
    transcript: &mut impl Transcript,
) -> Result<Claim, SumcheckError> {
    check_points(vars, claims)?;
    let (powers, combined) = combine(claims, transcript);
    let sub = sumcheck::verify(combined, vars, 2, &proof.sumcheck, transcript)?;
    let weight: Fr = claims.iter().zip(&powers).map(|(c, g)| *g * eq_at(&c.point, &sub.point)).sum();
    sub.check_product(&[proof.value, weight])?;
    transcript.absorb(&[proof.value]);
    Ok(Claim { point: sub.point, value: proof.value })
}
