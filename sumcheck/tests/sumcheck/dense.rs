//! A matrix product over committed weights: honest proofs verify; a wrong output, another matrix's
//! commitment and a wrong input are rejected.

use halo2_base::halo2_proofs::halo2curves::ff::Field;
use poai_circuits::Fr;
use poai_sumcheck::dense::{self, DenseProof};
use poai_sumcheck::hyperkzg::{self, Commitment, KzgKey};
use poai_sumcheck::matmul::MatmulShape;
use poai_sumcheck::{CpuBackend, Mle, PoseidonTranscript, SumcheckError};

use crate::{rng, small_mle};

fn product(x: &Mle, w: &Mle, s: MatmulShape) -> Mle {
    let (m, k, n) = (1 << s.m, 1 << s.k, 1 << s.n);
    let y = (0..m * n)
        .map(|ij| (0..k).map(|t| x.evals()[(ij / n) * k + t] * w.evals()[t * n + ij % n]).sum())
        .collect();
    Mle::new(y).unwrap()
}

fn check(
    key: &KzgKey,
    s: MatmulShape,
    (x, y): (&Mle, &Mle),
    c: &Commitment,
    p: &DenseProof,
) -> Result<(), SumcheckError> {
    let mut t = PoseidonTranscript::new(11);
    dense::verify(&key.verifier_key(), s, (x, y), c, p, &mut t)
}

#[test]
fn a_layer_over_committed_weights_proves_and_every_wrong_part_is_rejected() {
    let mut r = rng(70);
    let key = KzgKey::insecure_from_secret(Fr::from(99), 9);
    for s in [MatmulShape { m: 0, k: 5, n: 3 }, MatmulShape { m: 2, k: 4, n: 4 }] {
        let (x, w) = (small_mle(&mut r, s.m + s.k), small_mle(&mut r, s.k + s.n));
        let y = product(&x, &w, s);
        let c = hyperkzg::commit(&key, &w).unwrap();
        let mut t = PoseidonTranscript::new(11);
        let proof = dense::prove(&CpuBackend, &key, s, (&x, &w, &y), &c, &mut t).unwrap();
        check(&key, s, (&x, &y), &c, &proof).unwrap();

        let mut wrong = y.evals().to_vec();
        wrong[1] += Fr::ONE;
        let wrong = Mle::new(wrong).unwrap();
        assert!(check(&key, s, (&x, &wrong), &c, &proof).is_err(), "a wrong output");
        let other = hyperkzg::commit(&key, &small_mle(&mut r, s.k + s.n)).unwrap();
        assert!(check(&key, s, (&x, &y), &other, &proof).is_err(), "another matrix");
        let x2 = small_mle(&mut r, s.m + s.k);
        assert!(check(&key, s, (&x2, &y), &c, &proof).is_err(), "another input");
        // An honest proof for the wrong output (over the same W) cannot exist; a proof made for it by the
        // honest prover fails to verify.
        let mut t = PoseidonTranscript::new(11);
        let forged = dense::prove(&CpuBackend, &key, s, (&x, &w, &wrong), &c, &mut t).unwrap();
        assert!(check(&key, s, (&x, &wrong), &c, &forged).is_err(), "a proof of a wrong output");
    }
}
