//! Logup by fraction trees: honest range checks close against the committed values and multiplicities;
//! a value outside the table, a forged multiplicity, a proof for other values, and an edited layer are
//! each rejected by the check named.

use halo2_base::halo2_proofs::halo2curves::ff::Field;
use poai_circuits::Fr;
use poai_sumcheck::logup::{self, range_table, range_table_at, LookupProof};
use poai_sumcheck::{CpuBackend, Mle, PoseidonTranscript, SumcheckError, Transcript};
use rand::Rng;

use crate::rng;

/// `2^vars` values in `[0, 2^bits)`.
fn in_range(seed: u64, vars: usize, bits: usize) -> Mle {
    let mut r = rng(seed);
    let values: Vec<i64> = (0..1usize << vars).map(|_| r.gen_range(0..1i64 << bits)).collect();
    Mle::from_i64(&values, vars).unwrap()
}

fn prove(witness: &Mle, mult: &Mle, bits: usize) -> (LookupProof, logup::LookupClaims) {
    let table = range_table(bits).unwrap();
    let mut t = PoseidonTranscript::new(4);
    logup::prove_lookup(&CpuBackend, witness, (&table, mult), &mut t).unwrap()
}

fn verify(proof: &LookupProof, vars: (usize, usize)) -> Result<logup::LookupClaims, SumcheckError> {
    let mut t = PoseidonTranscript::new(4);
    logup::verify_lookup(vars, proof, range_table_at, &mut t)
}

#[test]
fn range_checks_prove_and_their_claims_close_on_the_values_and_multiplicities() {
    for (vars, bits) in [(0, 1), (4, 3), (10, 8), (8, 12)] {
        let w = in_range(30 + vars as u64, vars, bits);
        let table = range_table(bits).unwrap();
        let mult = Mle::new(logup::multiplicities(w.evals(), table.evals()).unwrap()).unwrap();
        let (proof, prover_claims) = prove(&w, &mult, bits);
        let claims = verify(&proof, (vars, bits)).unwrap();
        assert_eq!(claims, prover_claims);
        assert_eq!(w.evaluate(&claims.witness.point).unwrap(), claims.witness.value, "{vars}/{bits}");
        assert_eq!(mult.evaluate(&claims.multiplicities[0].point).unwrap(), claims.multiplicities[0].value);
        assert_eq!(
            range_table_at(&claims.multiplicities[0].point),
            table.evaluate(&claims.multiplicities[0].point).unwrap()
        );
    }
}

#[test]
fn a_value_outside_the_table_has_no_multiplicities_and_a_forged_count_fails_the_root_check() {
    let bits = 4;
    let mut values: Vec<i64> = (0..16).map(|i| i % 16).collect();
    values[5] = 16;
    let w = Mle::from_i64(&values, 4).unwrap();
    let table = range_table(bits).unwrap();
    let e = logup::multiplicities(w.evals(), table.evals()).unwrap_err();
    assert!(e.to_string().contains("looked-up value 5 is not in the table"), "{e}");
    // Count the stray 16 as if it were a 15: the fractions no longer match.
    let honest: Vec<i64> = (0..16).map(|i| i % 16).collect();
    let mut counts =
        logup::multiplicities(Mle::from_i64(&honest, 4).unwrap().evals(), table.evals()).unwrap();
    counts[5] -= Fr::ONE;
    counts[15] += Fr::ONE;
    let (proof, _) = prove(&w, &Mle::new(counts).unwrap(), bits);
    let e = verify(&proof, (4, bits)).unwrap_err();
    assert!(matches!(e, SumcheckError::FinalEvaluation(ref m) if m.contains("not in the table")), "{e}");
}

#[test]
fn a_proof_for_other_values_leaves_a_claim_the_committed_values_refuse() {
    let bits = 6;
    let committed = in_range(40, 7, bits);
    // The prover proves the lookup for in-range values that are not the committed ones (one changed).
    let mut other = committed.evals().to_vec();
    other[9] = if other[9] == Fr::ZERO { Fr::ONE } else { Fr::ZERO };
    let other = Mle::new(other).unwrap();
    let table = range_table(bits).unwrap();
    let mult = Mle::new(logup::multiplicities(other.evals(), table.evals()).unwrap()).unwrap();
    let (proof, _) = prove(&other, &mult, bits);
    // Every check of the lookup passes ...
    let claims = verify(&proof, (7, bits)).unwrap();
    // ... and the claim it leaves is about the other values: the committed ones refuse it.
    assert_ne!(committed.evaluate(&claims.witness.point).unwrap(), claims.witness.value);
}

#[test]
fn edited_roots_layers_and_shapes_are_rejected() {
    let bits = 5;
    let w = in_range(50, 6, bits);
    let table = range_table(bits).unwrap();
    let mult = Mle::new(logup::multiplicities(w.evals(), table.evals()).unwrap()).unwrap();
    let (honest, _) = prove(&w, &mult, bits);
    let edits: [&dyn Fn(&mut LookupProof); 4] = [
        &|p| p.witness.root[0] += Fr::ONE,
        &|p| p.tables[0].layers[2].children[1] += Fr::ONE,
        &|p| p.witness.layers[4].sumcheck.rounds[1][0] += Fr::ONE,
        &|p| p.tables[0].root[1] = Fr::ZERO,
    ];
    for (i, edit) in edits.iter().enumerate() {
        let mut p = honest.clone();
        edit(&mut p);
        assert!(verify(&p, (6, bits)).is_err(), "edit {i} was accepted");
    }
    assert!(matches!(verify(&honest, (7, bits)), Err(SumcheckError::Malformed(_))));
    assert!(range_table(31).is_err());
    let mut t = PoseidonTranscript::new(4);
    let mismatched = range_table(3).unwrap();
    assert!(logup::prove_lookup(&CpuBackend, &w, (&table, &mismatched), &mut t).is_err());
    let _ = t.challenge();
}
