//! The model proof's wire format: a proof of the bundled mlp (fixed key, inputs and label, so the bytes
//! are deterministic) is byte for byte the golden file, the golden file reads back and verifies, and
//! malformed bytes (truncated, padded, another version or magic, a value out of range, a forged count)
//! are refused by a typed error naming the part.

use std::path::PathBuf;

use poai_circuits::Fr;
use poai_sumcheck::model::{self, ModelProof, MODEL_PROOF_VERSION};
use poai_sumcheck::{CpuBackend, PoseidonTranscript, SumcheckError};

use super::model::{key_for, model};

const LABEL: u64 = 0x5eed;

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/mlp.proof.bin")
}

fn mlp_proof() -> (ModelProof, Vec<poai_circuits::ir::Tensor>, Vec<poai_circuits::ir::Tensor>) {
    let (graph, inputs) = model("mlp");
    let mut t = PoseidonTranscript::new(LABEL);
    let (outputs, proof) =
        model::prove(&CpuBackend, key_for(&graph), (&graph, &[Fr::from(LABEL)]), &inputs, &mut t).unwrap();
    (proof, inputs, outputs)
}

fn decode_error(bytes: &[u8]) -> String {
    match ModelProof::from_bytes(bytes) {
        Err(e @ SumcheckError::Decode(_)) => e.to_string(),
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[test]
fn the_mlp_proof_is_byte_for_byte_the_golden_file_and_the_golden_file_verifies() {
    let (proof, inputs, outputs) = mlp_proof();
    let bytes = proof.to_bytes();
    if std::env::var_os("POAI_BLESS").is_some() {
        std::fs::write(golden_path(), &bytes).unwrap();
    }
    let golden = std::fs::read(golden_path()).unwrap();
    assert!(
        bytes == golden,
        "the proof's bytes changed (the format or the protocol's messages): bump MODEL_PROOF_VERSION \
         (now {MODEL_PROOF_VERSION}) and rewrite the golden file with POAI_BLESS=1"
    );
    let (graph, _) = model("mlp");
    let read = ModelProof::from_bytes(&golden).unwrap();
    let mut t = PoseidonTranscript::new(LABEL);
    let vk = key_for(&graph).verifier_key();
    model::verify(&vk, (&graph, &[Fr::from(LABEL)]), (&inputs, &outputs), &read, &mut t).unwrap();
}

#[test]
fn malformed_proof_bytes_are_refused_naming_the_part() {
    let golden = std::fs::read(golden_path()).unwrap();

    let err = decode_error(&golden[..golden.len() - 1]);
    assert!(err.contains("the bytes end inside the opening"), "{err}");
    let mut padded = golden.clone();
    padded.push(0);
    assert!(decode_error(&padded).contains("1 bytes after the proof"));

    let mut other = golden.clone();
    other[8..12].copy_from_slice(&(MODEL_PROOF_VERSION + 1).to_le_bytes());
    let err = decode_error(&other);
    assert!(err.contains(&format!("format version {}", MODEL_PROOF_VERSION + 1)), "{err}");
    let mut other = golden.clone();
    other[0] = b'X';
    assert!(decode_error(&other).contains("magic"));
    assert!(decode_error(&[]).contains("magic"));

    // The commitment (bytes 12..44) replaced by an x-coordinate above the base field's modulus (the
    // two flag bits clear).
    let mut other = golden.clone();
    other[12..44].fill(0xff);
    other[43] = 0x3f;
    let err = decode_error(&other);
    assert!(err.contains("the commitment: not a point of the curve"), "{err}");

    // The step count (bytes 44..48) forged to 2^32 - 1: refused before allocating.
    let mut other = golden.clone();
    other[44..48].fill(0xff);
    assert!(decode_error(&other).contains("the steps: a count of 4294967295 exceeds the bytes left"));

    // The last field element of the opening's evaluations set to 2^256 - 1 (above the modulus): the
    // two witnesses (64 bytes) follow it.
    let end = golden.len() - 64;
    let mut other = golden;
    other[end - 32..end].fill(0xff);
    assert!(decode_error(&other).contains("the opening: a field element at or above the modulus"));
}
