//! The sumcheck core: multilinear evaluation, the transcript, the CPU backend against a direct
//! computation, honest proofs, and malicious provers (a wrong claim, a lie fixed up in later rounds, a
//! fully consistent transcript for a false claim), each rejected by the check named.

#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail by panicking")]

mod dense;
mod encoding;
mod gates;
mod hyperkzg;
mod logup;
mod model;
mod normalise;

use halo2_base::halo2_proofs::halo2curves::ff::Field;
use poai_circuits::Fr;
use poai_sumcheck::matmul::{self, MatmulShape};
use poai_sumcheck::sumcheck::{self, interpolate, product_sum, Proved, SumcheckProof, Summand};
use poai_sumcheck::{
    eq_evals, signed, CpuBackend, Mle, PoseidonTranscript, SumcheckBackend, SumcheckError, Transcript,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

pub(crate) fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// Small signed integers, as quantised tensors hold.
pub(crate) fn small_mle(r: &mut ChaCha20Rng, vars: usize) -> Mle {
    let values: Vec<i64> = (0..1usize << vars).map(|_| r.gen_range(-32768..32768)).collect();
    Mle::from_i64(&values, vars).unwrap()
}

pub(crate) fn point(r: &mut ChaCha20Rng, vars: usize) -> Vec<Fr> {
    (0..vars).map(|_| Fr::random(&mut *r)).collect()
}

#[test]
fn evaluation_agrees_with_the_table_and_the_eq_polynomial() {
    let mut r = rng(1);
    let p = small_mle(&mut r, 5);
    for b in [0usize, 1, 6, 31] {
        let bits: Vec<Fr> = (0..5).map(|i| Fr::from(((b >> i) & 1) as u64)).collect();
        assert_eq!(p.evaluate(&bits).unwrap(), p.evals()[b]);
    }
    let x = point(&mut r, 5);
    let via_eq: Fr = eq_evals(&x).iter().zip(p.evals()).map(|(e, v)| *e * v).sum();
    assert_eq!(p.evaluate(&x).unwrap(), via_eq);
    assert_eq!(p.evaluate(&x[..4]), Err(SumcheckError::PointLength { vars: 5, got: 4 }));
    assert_eq!(Mle::new(vec![Fr::ONE; 3]), Err(SumcheckError::NotPowerOfTwo(3)));
    assert_eq!(signed(-3) + Fr::from(3), Fr::ZERO);
}

#[test]
fn transcript_challenges_follow_every_absorbed_value() {
    let challenge = |values: &[Fr]| {
        let mut t = PoseidonTranscript::new(7);
        t.absorb(values);
        t.challenge()
    };
    let (a, b) = (Fr::from(5), Fr::from(9));
    assert_eq!(challenge(&[a, b]), challenge(&[a, b]), "deterministic");
    assert_ne!(challenge(&[a, b]), challenge(&[b, a]));
    assert_ne!(challenge(&[a]), challenge(&[a, Fr::ZERO]), "padding is injective");
    let four = [a; 4];
    assert_ne!(challenge(&four), challenge(&[a, a, a, a, Fr::ZERO]), "padding at a full rate");
    let mut other_label = PoseidonTranscript::new(8);
    other_label.absorb(&[a, b]);
    assert_ne!(challenge(&[a, b]), other_label.challenge(), "labels separate protocols");
    let mut t = PoseidonTranscript::new(7);
    assert_ne!(t.challenge(), t.challenge(), "consecutive challenges differ");
}

/// `s(t)` for `t = 0..=d` computed from the definition.
fn naive_round(tables: &[Vec<Fr>], degree: usize) -> Vec<Fr> {
    (0..=degree)
        .map(|t| {
            let t = Fr::from(t as u64);
            (0..tables[0].len() / 2)
                .map(|j| tables.iter().map(|p| p[2 * j] + t * (p[2 * j + 1] - p[2 * j])).product::<Fr>())
                .sum()
        })
        .collect()
}

#[test]
fn the_cpu_backend_matches_the_definition_on_both_sides_of_its_parallel_threshold() {
    let mut r = rng(2);
    for vars in [3, 13] {
        let tables: Vec<Vec<Fr>> = (0..3).map(|_| small_mle(&mut r, vars).into_evals()).collect();
        assert_eq!(
            CpuBackend.round_evals(&tables, &Summand::product(3), 3),
            naive_round(&tables, 3),
            "{vars} variables"
        );
        let x = Fr::random(&mut r);
        let mut bound = tables[0].clone();
        CpuBackend.bind(&mut bound, x);
        let expected: Vec<Fr> = tables[0].chunks(2).map(|p| p[0] + x * (p[1] - p[0])).collect();
        assert_eq!(bound, expected);
    }
}

/// An honest proof of `Σ Π factors` with the claim absorbed first, as a caller does.
fn prove_claim(factors: &[Mle], label: u64) -> (Fr, Proved) {
    let claim = product_sum(factors).unwrap();
    let mut t = PoseidonTranscript::new(label);
    t.absorb(&[claim]);
    (claim, sumcheck::prove(&CpuBackend, factors.to_vec(), &mut t).unwrap())
}

fn verify_claim(
    claim: Fr,
    vars: usize,
    degree: usize,
    proof: &SumcheckProof,
    label: u64,
) -> Result<sumcheck::Subclaim, SumcheckError> {
    let mut t = PoseidonTranscript::new(label);
    t.absorb(&[claim]);
    sumcheck::verify(claim, vars, degree, proof, &mut t)
}

#[test]
fn honest_proofs_verify_and_their_subclaims_close_with_the_true_evaluations() {
    let mut r = rng(3);
    for (vars, degree) in [(1, 1), (6, 2), (11, 3)] {
        let factors: Vec<Mle> = (0..degree).map(|_| small_mle(&mut r, vars)).collect();
        let (claim, proved) = prove_claim(&factors, 1);
        let sub = verify_claim(claim, vars, degree, &proved.proof, 1).unwrap();
        assert_eq!(sub.point, proved.point, "prover and verifier draw the same challenges");
        let truth: Vec<Fr> = factors.iter().map(|f| f.evaluate(&sub.point).unwrap()).collect();
        assert_eq!(truth, proved.evals);
        sub.check_product(&truth).unwrap();
    }
}

#[test]
fn a_wrong_claim_is_rejected_in_the_first_round() {
    let mut r = rng(4);
    let factors = vec![small_mle(&mut r, 6), small_mle(&mut r, 6)];
    let (claim, proved) = prove_claim(&factors, 1);
    let wrong = claim + Fr::ONE;
    assert_eq!(verify_claim(wrong, 6, 2, &proved.proof, 1), Err(SumcheckError::RoundSum { round: 0 }));
}

/// A cheating prover for `claim + delta`: each round it sends the true round polynomial plus
/// `δ_i·(1 - t)`, which sums to the running false claim, then binds honestly. With `fix_up` false it
/// stops lying after the first round.
fn cheat(factors: &[Mle], delta: Fr, fix_up: bool) -> (Fr, SumcheckProof, Vec<Fr>) {
    let claim = product_sum(factors).unwrap() + delta;
    let mut t = PoseidonTranscript::new(1);
    t.absorb(&[claim]);
    let mut tables: Vec<Vec<Fr>> = factors.iter().map(|f| f.evals().to_vec()).collect();
    let degree = tables.len();
    let (mut rounds, mut point, mut d) = (Vec::new(), Vec::new(), delta);
    for round in 0..factors[0].vars() {
        let mut s = CpuBackend.round_evals(&tables, &Summand::product(degree), degree);
        if round == 0 || fix_up {
            s[0] += d;
            // δ·(1 - t) at t = 2..=degree: 1 - t = -(t - 1).
            for (k, v) in s.iter_mut().enumerate().skip(2) {
                *v -= d * Fr::from((k - 1) as u64);
            }
        }
        t.absorb(&s);
        let x = t.challenge();
        d *= Fr::ONE - x;
        tables.iter_mut().for_each(|p| CpuBackend.bind(p, x));
        rounds.push(s);
        point.push(x);
    }
    (claim, SumcheckProof { rounds }, point)
}

#[test]
fn a_lie_not_carried_forward_is_caught_in_the_next_round() {
    let mut r = rng(5);
    let factors = vec![small_mle(&mut r, 5), small_mle(&mut r, 5), small_mle(&mut r, 5)];
    let (claim, proof, _) = cheat(&factors, Fr::from(1000), false);
    assert_eq!(verify_claim(claim, 5, 3, &proof, 1), Err(SumcheckError::RoundSum { round: 1 }));
}

#[test]
fn a_fully_consistent_transcript_for_a_false_claim_fails_only_the_final_evaluation_check() {
    let mut r = rng(6);
    let factors = vec![small_mle(&mut r, 7), small_mle(&mut r, 7)];
    let (claim, proof, point) = cheat(&factors, Fr::from(1), true);
    // Every round check passes: the lie is carried to the end.
    let sub = verify_claim(claim, 7, 2, &proof, 1).unwrap();
    assert_eq!(sub.point, point);
    // What stops it is the factors' true evaluations at the random point.
    let truth: Vec<Fr> = factors.iter().map(|f| f.evaluate(&sub.point).unwrap()).collect();
    assert!(matches!(sub.check_product(&truth), Err(SumcheckError::FinalEvaluation(_))));
}

#[test]
fn an_edited_round_changes_the_challenges_and_is_rejected() {
    let mut r = rng(7);
    let factors = vec![small_mle(&mut r, 6), small_mle(&mut r, 6)];
    let (claim, proved) = prove_claim(&factors, 1);
    let mut edited = proved.proof.clone();
    // Keep round 0's sum (so its own check passes) but move its value at t = 2.
    edited.rounds[0][2] += Fr::ONE;
    assert_eq!(verify_claim(claim, 6, 2, &edited, 1), Err(SumcheckError::RoundSum { round: 1 }));
    let mut short = proved.proof.clone();
    short.rounds.pop();
    assert!(matches!(verify_claim(claim, 6, 2, &short, 1), Err(SumcheckError::Malformed(_))));
    let mut wide = proved.proof;
    wide.rounds[0].push(Fr::ZERO);
    assert!(matches!(verify_claim(claim, 6, 2, &wide, 1), Err(SumcheckError::Malformed(_))));
}

#[test]
fn interpolation_recovers_a_polynomial_from_its_values() {
    // p(t) = 3t^3 - 2t + 7 at t = 0..=3, evaluated at 10.
    let p = |t: i64| 3 * t * t * t - 2 * t + 7;
    let values: Vec<Fr> = (0..4).map(|t| signed(p(t))).collect();
    assert_eq!(interpolate(&values, Fr::from(10)), signed(p(10)));
}

/// A row-major `rows × cols` matrix of small integers, and its product with another.
fn matrix(r: &mut ChaCha20Rng, rows: usize, cols: usize) -> Vec<i64> {
    (0..rows * cols).map(|_| r.gen_range(-2048..2048)).collect()
}

fn product(a: &[i64], b: &[i64], (m, k, n): (usize, usize, usize)) -> Vec<i64> {
    (0..m * n).map(|ij| (0..k).map(|x| a[(ij / n) * k + x] * b[x * n + ij % n]).sum()).collect()
}

#[test]
fn matrix_products_reduce_to_claims_on_both_factors() {
    let mut r = rng(8);
    for shape in
        [MatmulShape { m: 2, k: 3, n: 1 }, MatmulShape { m: 0, k: 5, n: 3 }, MatmulShape { m: 3, k: 0, n: 2 }]
    {
        let (m, k, n) = (1 << shape.m, 1 << shape.k, 1 << shape.n);
        let (a, b) = (matrix(&mut r, m, k), matrix(&mut r, k, n));
        let c = product(&a, &b, (m, k, n));
        let (am, bm) =
            (Mle::from_i64(&a, shape.m + shape.k).unwrap(), Mle::from_i64(&b, shape.k + shape.n).unwrap());
        let cm = Mle::from_i64(&c, shape.m + shape.n).unwrap();
        let c_point = point(&mut r, shape.m + shape.n);
        let value = cm.evaluate(&c_point).unwrap();
        let mut tp = PoseidonTranscript::new(2);
        tp.absorb(&[value]);
        let (proof, prover_claims) =
            matmul::prove(&CpuBackend, (&am, &bm), shape, &c_point, &mut tp).unwrap();
        let mut tv = PoseidonTranscript::new(2);
        tv.absorb(&[value]);
        let claims = matmul::verify(shape, &c_point, value, &proof, &mut tv).unwrap();
        assert_eq!(claims, prover_claims);
        // The claims close with the factors' own evaluations.
        assert_eq!(am.evaluate(&claims.a.point).unwrap(), claims.a.value, "{shape:?}");
        assert_eq!(bm.evaluate(&claims.b.point).unwrap(), claims.b.value, "{shape:?}");
        assert_eq!(tp.challenge(), tv.challenge(), "both transcripts end in the same state");

        // A product with one entry off claims another value, which the honest rounds do not sum to.
        let mut wrong = c.clone();
        wrong[0] += 1;
        let wrong_value = Mle::from_i64(&wrong, shape.m + shape.n).unwrap().evaluate(&c_point).unwrap();
        let mut tv = PoseidonTranscript::new(2);
        tv.absorb(&[wrong_value]);
        let rejected = matmul::verify(shape, &c_point, wrong_value, &proof, &mut tv);
        if shape.k == 0 {
            // No rounds: the product of the two final values is compared with the claim directly.
            assert!(matches!(rejected, Err(SumcheckError::FinalEvaluation(_))), "{shape:?}");
        } else {
            assert_eq!(rejected, Err(SumcheckError::RoundSum { round: 0 }), "{shape:?}");
        }
    }
}

#[test]
fn matrix_products_refuse_mismatched_shapes() {
    let mut r = rng(9);
    let shape = MatmulShape { m: 1, k: 2, n: 1 };
    let (a, b) = (small_mle(&mut r, 3), small_mle(&mut r, 4));
    let mut t = PoseidonTranscript::new(3);
    assert!(matches!(
        matmul::prove(&CpuBackend, (&a, &b), shape, &point(&mut r, 2), &mut t),
        Err(SumcheckError::Shape(_))
    ));
    let b = small_mle(&mut r, 3);
    assert_eq!(
        matmul::prove(&CpuBackend, (&a, &b), shape, &point(&mut r, 3), &mut t).map(|_| ()),
        Err(SumcheckError::PointLength { vars: 2, got: 3 })
    );
}
