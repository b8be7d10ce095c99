//! Golden artifacts: the formats that reach files and that registered models and issued keys rest on.
//! For `models/sigmoid_tanh_mlp` with fixed and with hashed parameters and for `models/attention` with
//! hashed ones (hashed inputs, public outputs), `verifier/tests/golden/` holds the verifying key, a
//! proof, and `summary.json` (each model commitment, each key's `k` and SHA-256, the development SRS
//! seed). Between them the keys use 14 of the 26 gates, so their numbering is pinned by real keys too
//! (and wholly by `gate_numbers_are_append_only` in the circuits' tests). This test recomputes the commitment and both
//! keys from the ONNX file and requires the committed bytes; the verifier crate's own test verifies the
//! committed proofs with the verifier alone. A change to the graph's serialisation (the commitment), a
//! gate's numbering or the circuit (the key), or the key encoding fails here.
//!
//! Regenerate only on purpose, after bumping the version of the format that changed (and saying so in
//! the commit): `POAI_REGENERATE_GOLDEN=1 cargo test -p poai-prover --test prover golden`.

use std::path::PathBuf;

use poai_circuits::halo2::{ParamVisibility, VisibilitySettings};
use poai_prover::{circuit_k, prove_model, read_pk, setup, CircuitKind, ProofTarget, Srs};
use poai_verifier::VerifyingKeyFile;

use crate::kzg::compiled;

/// The development SRS seed the golden keys are made with (the verifier's test derives `s·G2` from it).
const SEED: u64 = 22;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../verifier/tests/golden")
}

const REGENERATE: &str = "POAI_REGENERATE_GOLDEN";

/// The fixtures and parameter visibilities with golden artifacts.
const GOLDEN: [(&str, ParamVisibility); 3] = [
    ("sigmoid_tanh_mlp", ParamVisibility::Fixed),
    ("sigmoid_tanh_mlp", ParamVisibility::Hashed),
    ("attention", ParamVisibility::Hashed),
];

#[test]
fn golden_commitment_and_keys_are_reproduced() {
    let regenerate = std::env::var(REGENERATE).is_ok_and(|v| v == "1");
    let dir = golden_dir();
    let mut summary = serde_json::json!({ "srs_seed": SEED, "artifacts": {} });
    let remedy = format!(
        "a format or circuit change: if it is intended, bump the version of the format that changed, say so \
         in the commit, and regenerate with {REGENERATE}=1 (see prover/tests/prover/golden.rs)"
    );
    for (fixture, params) in GOLDEN {
        let (model, input) = compiled(fixture);
        let name = format!("{fixture}-{params}");
        let kind = CircuitKind::plain(VisibilitySettings { params, ..VisibilitySettings::default() });
        let k = circuit_k(&model, kind).unwrap();
        let srs = Srs::generate_insecure(k, SEED).unwrap();
        let (pk, vk) = setup(&model, &srs, kind).unwrap();
        let key = VerifyingKeyFile::from_bytes(&vk).unwrap();
        summary["artifacts"][&name] = serde_json::json!({
            "model_commitment": model.model_commitment,
            "k": k,
            "vk_sha256": key.sha256,
        });
        let vk_path = dir.join(format!("{name}.vk"));
        if regenerate {
            let proof = prove_model(
                &model,
                &srs,
                &read_pk(&pk).unwrap(),
                &input,
                poai_verifier::Provider::NONE,
                ProofTarget::Direct,
            )
            .unwrap();
            std::fs::write(&vk_path, &vk).unwrap();
            std::fs::write(dir.join(format!("{name}.proof.json")), proof.to_json().unwrap()).unwrap();
        } else {
            let golden = std::fs::read(&vk_path)
                .unwrap_or_else(|e| panic!("{}: {e}; generate it with {REGENERATE}=1", vk_path.display()));
            assert!(vk == golden, "the verifying key {name} differs from {}: {remedy}", vk_path.display());
        }
    }
    let summary_path = dir.join("summary.json");
    let text = serde_json::to_string_pretty(&summary).unwrap() + "\n";
    if regenerate {
        std::fs::write(&summary_path, text).unwrap();
    } else {
        let golden = std::fs::read_to_string(&summary_path).unwrap_or_default();
        assert_eq!(text, golden, "{} differs: {remedy}", summary_path.display());
    }
}
