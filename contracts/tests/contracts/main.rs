//! Integration tests of poai-contracts (one binary for the crate): generated verifiers and the reward
//! contract in a real EVM.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    reason = "tests fail by panicking"
)]

mod onchain;
mod rewards;
mod verifier;

use std::path::Path;
use std::sync::OnceLock;

use poai_circuits::halo2::VisibilitySettings;
use poai_contracts::solc::{Compiled, Solc};
use poai_contracts::solidity::verifier_solidity;
use poai_prover::{prove_model, read_pk, setup, ProofTarget, Srs};
use poai_verifier::{KeyHeader, ProofFile, VerifierParams, VerifyingKeyFile};

/// The pinned compiler: `POAI_SOLC`, else the solc-js wrapper in tools/bin (installed by `npm ci --prefix tools`,
/// which `.ci/run` does), else `solc` on the PATH.
pub fn solc() -> Solc {
    if std::env::var_os("POAI_SOLC").is_some() {
        return Solc::from_env();
    }
    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools");
    if tools.join("node_modules/solc").exists() {
        return Solc::new(tools.join("bin/solc"));
    }
    Solc::new("solc")
}

/// The smallest fixture, compiled with its calibration, and its bundled input.
pub fn smallest_model() -> (poai_circuits::model::CompiledModel, Vec<Vec<f32>>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/sigmoid_tanh_mlp");
    let cal_path = dir.join("calibration.json");
    let cal = poai_onnx::io::read_input_file(&cal_path).unwrap();
    let model = poai_onnx::compile(&dir.join("model.onnx"), &cal, &cal_path, &Default::default()).unwrap();
    let input = poai_onnx::io::read_input_file(&dir.join("input.json")).unwrap();
    (model, input)
}

/// The Solidity verifier of a verifying key, compiled with the pinned compiler.
pub fn compile_verifier(vk: &VerifyingKeyFile, params: &VerifierParams) -> Compiled {
    let sol = verifier_solidity(vk, params).unwrap();
    solc().compile_one("Verifier.sol", &sol, "Halo2Verifier", None).unwrap()
}

/// A real proof of the smallest fixture, its key and its compiled Solidity verifier (built once).
pub struct Fixture {
    /// The verifying key's header.
    pub header: KeyHeader,
    /// The proof file.
    pub proof: ProofFile,
    /// The generated verifier, compiled.
    pub verifier: Compiled,
    /// What proves again: the SRS and the proving key file.
    srs: Srs,
    pk: Vec<u8>,
}

/// The shared fixture.
pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let (model, input) = smallest_model();
        let vis = VisibilitySettings::default();
        let srs = Srs::generate_insecure(
            poai_prover::circuit_k(&model, poai_prover::CircuitKind::plain(vis)).unwrap(),
            3,
        )
        .unwrap();
        let (pk, vk) = setup(&model, &srs, poai_prover::CircuitKind::plain(vis)).unwrap();
        // Bound to the address `rewards::chain` submits from.
        let proof = prove_model(
            &model,
            &srs,
            &read_pk(&pk).unwrap(),
            &input,
            poai_verifier::Provider([3; 20]),
            ProofTarget::Direct,
        )
        .unwrap();
        let vk = VerifyingKeyFile::from_bytes(&vk).unwrap();
        let params = VerifierParams::from_srs_bytes(&srs.to_bytes().unwrap()).unwrap();
        poai_verifier::verify(&vk, &params, &proof).unwrap();
        let verifier = compile_verifier(&vk, &params);
        eprintln!("verifier: {} bytes of runtime code", verifier.runtime.len());
        Fixture { header: vk.header, proof, verifier, srs, pk }
    })
}

/// Another proof of the fixture's inference (same model, input and provider; other proof bytes, since
/// proving is randomised).
pub fn fresh_proof() -> ProofFile {
    let f = fixture();
    let (model, input) = smallest_model();
    prove_model(
        &model,
        &f.srs,
        &read_pk(&f.pk).unwrap(),
        &input,
        poai_verifier::Provider([3; 20]),
        ProofTarget::Direct,
    )
    .unwrap()
}
