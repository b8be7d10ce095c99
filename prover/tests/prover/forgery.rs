//! Issue #22's two forgeries through real KZG proofs and `poai_verifier::verify_instances`: each forged
//! witness, proven under the honest model's key, is rejected; the control (the same forgery in a circuit
//! without the quotient's or root's range check, i.e. the circuit before the fix) proves and verifies,
//! so the rejection comes from that check.

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use poai_circuits::halo2::forgery::{
    avgpool_times_eight, claim_times, detach_range_check, forge_division, forge_freivalds, forge_root,
    freivalds_product, gate_rows, honest_layout, mock_prover_challenges, sqrt_times_two,
};
use poai_circuits::halo2::layout::{fe, Gate};
use poai_circuits::halo2::{Layout, ModelCircuit, Pos};
use poai_prover::{keygen, prove, Srs};
use poai_verifier::{verify_instances, VerifierParams};

/// Proves `witness` under the key of `keyed` (same shape) and verifies with the verifier crate, as a
/// reward contract's off-chain check would: `Err` if either step refuses.
fn prove_and_verify(keyed: &Layout, witness: &Layout) -> Result<(), String> {
    let key_circuit = ModelCircuit::new(keyed.clone());
    let k = key_circuit.layout.k();
    let srs = Srs::generate_insecure(k, 22).map_err(|e| e.to_string())?;
    let params = srs.for_circuit(k).map_err(|e| e.to_string())?;
    let pk = keygen(&params, &key_circuit).map_err(|e| e.to_string())?;
    let circuit = ModelCircuit::new(witness.clone());
    let proof = prove(&params, &pk, &circuit).map_err(|e| e.to_string())?;
    let vparams = VerifierParams::from_srs_bytes(&srs.to_bytes().map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    verify_instances(pk.get_vk(), &vparams, &proof, &circuit.instances()[0]).map_err(|e| e.to_string())
}

#[test]
fn avgpool_fraction_forgery_is_rejected_by_a_real_verifier() {
    let g = avgpool_times_eight().unwrap();
    let honest = honest_layout(&g, &[1, 1, 2, 2], vec![1, 2, 3, 5]).unwrap();
    prove_and_verify(&honest, &honest).unwrap();
    let [row] = gate_rows(&honest, Gate::Div)[..] else { panic!("one division row") };
    let mut forged = honest.clone();
    let y = forge_division(&mut forged, row, 3).unwrap();
    assert_eq!(claim_times(&mut forged, y).unwrap(), fe(23), "the issue's forged output");
    assert!(prove_and_verify(&honest, &forged).is_err(), "output 23 for x = [1, 2, 3, 5] was accepted");
    // Control: without the quotient's check (the circuit before the fix), the forgery proves and verifies.
    detach_range_check(&mut forged, Pos::Lane(1, row)).unwrap();
    prove_and_verify(&forged, &forged).unwrap();
}

#[test]
fn half_integer_root_forgery_is_rejected_by_a_real_verifier() {
    let g = sqrt_times_two().unwrap();
    let honest = honest_layout(&g, &[1, 1], vec![1]).unwrap();
    prove_and_verify(&honest, &honest).unwrap();
    let [row] = gate_rows(&honest, Gate::Sqrt)[..] else { panic!("one root row") };
    let mut forged = honest.clone();
    let three_halves = Fr::from(3) * Fr::from(2).invert().unwrap();
    let (a, b, consistent) = forge_root(&mut forged, row, three_halves).unwrap();
    assert!(consistent && a == fe(0) && b == fe(11), "the issue's a = 0, b = 11");
    assert_eq!(claim_times(&mut forged, three_halves).unwrap(), fe(3), "the issue's forged output");
    assert!(prove_and_verify(&honest, &forged).is_err(), "sqrt(1) · 2 = 3 was accepted");
    detach_range_check(&mut forged, Pos::Lane(1, row)).unwrap();
    prove_and_verify(&forged, &forged).unwrap();
}

/// Freivalds' check: the wrong products fitted to the MockProver's public challenge (which it accepts,
/// circuits test `freivalds_forgeries_need_the_challenge_before_the_commitment`) prove, but the real
/// verifier draws `s` from the transcript after `Y` is committed and rejects them.
#[test]
fn freivalds_forgery_fitted_to_known_challenges_is_rejected_by_a_real_verifier() {
    let (honest, ys) = freivalds_product(6, 4, 3).unwrap();
    prove_and_verify(&honest, &honest).unwrap();
    let [_, s] = mock_prover_challenges(2)[..] else { panic!("two challenges (r, s)") };
    let mut forged = honest.clone();
    forge_freivalds(&mut forged, &ys, s).unwrap();
    let err = prove_and_verify(&honest, &forged).expect_err("wrong products were accepted");
    assert!(err.starts_with("invalid proof"), "rejected by the verifier, not refused by the prover: {err}");
}
