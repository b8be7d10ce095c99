//! The golden proofs of `verifier/tests/golden/` (written by `prover/tests/prover/golden.rs`, which also
//! checks that the keys and the model commitment are still what the prover makes) verify with this crate
//! alone: a proof issued under an earlier build stays valid, and reads as the same claims, until a format
//! version says otherwise.

use std::path::PathBuf;

use halo2_base::halo2_proofs::halo2curves::bn256::G2Affine;
use halo2_base::halo2_proofs::halo2curves::group::Curve;
use poai_verifier::srs::dev_secret;
use poai_verifier::{verify, ProofFile, VerifierParams, VerifyingKeyFile};

fn golden(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn golden_proofs_verify_with_the_verifier_alone() {
    let summary: serde_json::Value = serde_json::from_slice(&golden("summary.json")).unwrap();
    let seed = summary["srs_seed"].as_u64().unwrap();
    // The development SRS of that seed: its secret is public, so `s·G2` is recomputed here.
    let s_g2 = (G2Affine::generator() * dev_secret(seed)).to_affine();
    let artifacts = summary["artifacts"].as_object().unwrap();
    assert!(artifacts.len() >= 4, "{summary}");
    assert!(artifacts.keys().any(|name| name.ends_with("-sumcheck")), "a sumcheck golden: {summary}");
    for (name, expected) in artifacts {
        let key = VerifyingKeyFile::from_bytes(&golden(&format!("{name}.vk"))).unwrap();
        assert_eq!(Some(key.sha256.as_str()), expected["vk_sha256"].as_str(), "{name}: the key file");
        assert_eq!(Some(u64::from(key.header.k)), expected["k"].as_u64());
        let params = VerifierParams::from_points(key.header.k, G2Affine::generator(), s_g2, true).unwrap();
        let proof = ProofFile::from_json(&golden(&format!("{name}.proof.json"))).unwrap();
        let verified = verify(&key, &params, &proof).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(Some(verified.model_commitment.as_str()), expected["model_commitment"].as_str());
        assert_eq!(verified.claims, proof.claims, "{name}: the claims read from the instances");
        // halo2's goldens hash their input, the sumcheck backend's shows it.
        let inputs = verified.claims.input_commitments.len() + verified.claims.inputs.len();
        assert!(!verified.claims.outputs.is_empty() && inputs == 1, "{name}");
        // One changed instance, and the same proof no longer verifies.
        let mut other = proof.clone();
        let last = other.instances.len() - 1;
        other.instances[last] = poai_circuits::commit::fr_to_hex(
            &(poai_circuits::commit::fr_from_hex(&other.instances[last]).unwrap()
                + halo2_base::halo2_proofs::halo2curves::bn256::Fr::one()),
        );
        assert!(verify(&key, &params, &other).is_err(), "{name}: a changed instance verified");
    }
}
