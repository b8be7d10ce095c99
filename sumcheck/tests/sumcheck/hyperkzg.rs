//! HyperKZG: commitments agree with `[f(τ)]₁` computed from a known secret, honest openings verify, and
//! every kind of wrong opening is rejected by the check named (a wrong value by the folds or the pairing,
//! another polynomial's commitment, an edited fold, value or witness).

use halo2_base::halo2_proofs::halo2curves::bn256::{G1Affine, G1};
use halo2_base::halo2_proofs::halo2curves::ff::Field;
use halo2_base::halo2_proofs::halo2curves::group::Curve;
use poai_circuits::Fr;
use poai_sumcheck::hyperkzg::{self, Commitment, KzgKey, OpeningProof};
use poai_sumcheck::{Mle, PoseidonTranscript, SumcheckError, Transcript};

use crate::{point, rng, small_mle};

/// The test secret (a known τ makes the key insecure, which is what lets the test compute `f(τ)`).
fn tau() -> Fr {
    Fr::from(0x5eed_1234_u64)
}

fn open(key: &KzgKey, f: &Mle, x: &[Fr]) -> OpeningProof {
    let mut t = PoseidonTranscript::new(9);
    hyperkzg::open(key, f, x, &mut t).unwrap()
}

fn check(key: &KzgKey, c: &Commitment, x: &[Fr], v: Fr, proof: &OpeningProof) -> Result<(), SumcheckError> {
    let mut t = PoseidonTranscript::new(9);
    hyperkzg::verify(&key.verifier_key(), c, x, v, proof, &mut t)
}

#[test]
fn commitments_are_the_polynomial_at_the_secret() {
    let mut r = rng(20);
    let key = KzgKey::insecure_from_secret(tau(), 6);
    let f = small_mle(&mut r, 6);
    let at_tau = f.evals().iter().rev().fold(Fr::ZERO, |acc, c| acc * tau() + c);
    let direct = (G1::generator() * at_tau).to_affine();
    assert_eq!(hyperkzg::commit(&key, &f).unwrap(), Commitment(direct));
    let too_big = small_mle(&mut r, 7);
    assert!(matches!(hyperkzg::commit(&key, &too_big), Err(SumcheckError::Shape(_))));
}

#[test]
fn honest_openings_verify_and_leave_the_transcripts_in_step() {
    let mut r = rng(21);
    let key = KzgKey::insecure_from_secret(tau(), 8);
    for vars in [0, 1, 2, 5, 8] {
        let f = small_mle(&mut r, vars);
        let c = hyperkzg::commit(&key, &f).unwrap();
        let x = point(&mut r, vars);
        let v = f.evaluate(&x).unwrap();
        let mut tp = PoseidonTranscript::new(9);
        let proof = hyperkzg::open(&key, &f, &x, &mut tp).unwrap();
        let mut tv = PoseidonTranscript::new(9);
        hyperkzg::verify(&key.verifier_key(), &c, &x, v, &proof, &mut tv).unwrap();
        assert_eq!(tp.challenge(), tv.challenge(), "{vars} variables");
    }
}

#[test]
fn a_wrong_value_or_another_polynomials_commitment_is_rejected() {
    let mut r = rng(22);
    let key = KzgKey::insecure_from_secret(tau(), 6);
    let (f, g) = (small_mle(&mut r, 6), small_mle(&mut r, 6));
    let (cf, cg) = (hyperkzg::commit(&key, &f).unwrap(), hyperkzg::commit(&key, &g).unwrap());
    let x = point(&mut r, 6);
    let v = f.evaluate(&x).unwrap();
    let proof = open(&key, &f, &x);
    // The last fold must land on the value.
    assert!(matches!(check(&key, &cf, &x, v + Fr::ONE, &proof), Err(SumcheckError::FinalEvaluation(_))));
    // f's folds and values against g's commitment: only the pairing can tell.
    let e = check(&key, &cg, &x, v, &proof).unwrap_err();
    assert_eq!(e, SumcheckError::FinalEvaluation("the batched KZG opening fails the pairing check".into()));
    // g's honest opening proves g's value, not f's.
    let g_proof = open(&key, &g, &x);
    assert!(check(&key, &cg, &x, g.evaluate(&x).unwrap(), &g_proof).is_ok());
    assert!(check(&key, &cf, &x, g.evaluate(&x).unwrap(), &g_proof).is_err());
}

/// A prover for a wrong value `v + δ` that keeps every fold consistent: it sends values of the true
/// polynomials except `f_(ℓ-1)` at `±β`, shifted so that the last fold gives `v + δ`. The fold checks all
/// pass; the batched KZG check refuses, because those values are not the committed polynomial's.
#[test]
fn values_fitted_to_pass_every_fold_are_stopped_by_the_pairing() {
    let mut r = rng(23);
    let key = KzgKey::insecure_from_secret(tau(), 5);
    let f = small_mle(&mut r, 5);
    let c = hyperkzg::commit(&key, &f).unwrap();
    let x = point(&mut r, 5);
    let v = f.evaluate(&x).unwrap();
    let mut proof = open(&key, &f, &x);
    // The last fold: next = (1-u)(a+b)/2 + u(a-b)/2β. Raising a and b by δ adds (1-u)·δ: solve for δ.
    let u = x[4];
    let delta = Fr::from(7) * Option::<Fr>::from((Fr::ONE - u).invert()).unwrap();
    let last = proof.evals.len() - 1;
    proof.evals[last][0] += delta;
    proof.evals[last][1] += delta;
    let forged = v + Fr::from(7);
    let e = check(&key, &c, &x, forged, &proof).unwrap_err();
    assert_eq!(e, SumcheckError::FinalEvaluation("the batched KZG opening fails the pairing check".into()));
}

#[test]
fn edited_folds_values_or_witnesses_are_rejected() {
    let mut r = rng(24);
    let key = KzgKey::insecure_from_secret(tau(), 4);
    let f = small_mle(&mut r, 4);
    let c = hyperkzg::commit(&key, &f).unwrap();
    let x = point(&mut r, 4);
    let v = f.evaluate(&x).unwrap();
    let honest = open(&key, &f, &x);
    let other = (G1::generator() * Fr::from(3)).to_affine();
    let edits: [&dyn Fn(&mut OpeningProof); 5] = [
        &|p| p.folds[0] = other,
        &|p| p.evals[1][2] += Fr::ONE,
        &|p| p.witnesses[0] = other,
        &|p| p.witnesses[1] = other,
        &|p| p.evals[0][2] += Fr::ONE,
    ];
    for (i, edit) in edits.iter().enumerate() {
        let mut p = honest.clone();
        edit(&mut p);
        assert!(check(&key, &c, &x, v, &p).is_err(), "edit {i} was accepted");
    }
    let mut short = honest;
    short.folds.pop();
    assert!(matches!(check(&key, &c, &x, v, &short), Err(SumcheckError::Malformed(_))));
    let constant = Commitment(G1Affine::generator());
    assert!(check(
        &key,
        &constant,
        &[],
        Fr::from(2),
        &open(&key, &Mle::new(vec![Fr::from(2)]).unwrap(), &[])
    )
    .is_err());
}
