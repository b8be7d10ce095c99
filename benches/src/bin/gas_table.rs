//! Prints one row per fixture of what on-chain verification costs: the generated verifier's code size
//! (against EIP-170), its deployment gas, the gas of one verification and of one whole reward-contract
//! task submission, all measured in revm (mainnet rules, code-size limit lifted so that oversized
//! verifiers can still be measured).
//!
//! Usage: `POAI_SOLC=tools/bin/solc cargo run --release -p poai-benches --bin gas_table -- [FIXTURE ...]`

#![allow(clippy::print_stdout, reason = "a benchmark that prints its table")]

use poai_circuits::halo2::VisibilitySettings;
use poai_contracts::calldata::calldata;
use poai_contracts::evm::LocalEvm;
use poai_contracts::rewards;
use poai_contracts::solc::{Solc, EIP170_LIMIT};
use poai_contracts::solidity::verifier_solidity;
use poai_prover::{prove_model, read_pk, setup, ProofTarget, Srs};
use poai_verifier::{VerifierParams, VerifyingKeyFile};
use revm::primitives::{Address, U256};

fn run(name: &str, solc: &Solc) -> Result<String, Box<dyn std::error::Error>> {
    let dir = poai_benches::models_dir().join(name);
    let cal_path = dir.join("calibration.json");
    let cal = poai_onnx::io::read_input_file(&cal_path)?;
    let model = poai_onnx::compile(&dir.join("model.onnx"), &cal, &cal_path, &Default::default())?;
    let input = poai_onnx::io::read_input_file(&dir.join("input.json"))?;
    let vis = VisibilitySettings::default();
    let srs =
        Srs::generate_insecure(poai_prover::circuit_k(&model, poai_prover::CircuitKind::plain(vis))?, 1)?;
    let (pk, vk) = setup(&model, &srs, poai_prover::CircuitKind::plain(vis))?;
    let proof = prove_model(
        &model,
        &srs,
        &read_pk(&pk)?,
        &input,
        poai_verifier::Provider([3; 20]),
        ProofTarget::Direct,
    )?;
    let vk = VerifyingKeyFile::from_bytes(&vk)?;
    let params = VerifierParams::from_srs_bytes(&srs.to_bytes()?)?;
    let verifier =
        solc.compile_one("Verifier.sol", &verifier_solidity(&vk, &params)?, "Halo2Verifier", None)?;
    let rewards_code = rewards::compile_rewards(solc)?;

    let mut evm = LocalEvm::new();
    evm.allow_oversized_contracts();
    let (owner, requester, provider) =
        (Address::repeat_byte(1), Address::repeat_byte(2), Address::repeat_byte(3));
    for a in [owner, requester, provider] {
        evm.fund(a, U256::from(10u64).pow(U256::from(21u64)));
    }
    let (v, deploy_gas) = evm.deploy(owner, verifier.creation.clone(), U256::ZERO)?;
    let data = calldata(&proof)?;
    let verify_gas = evm.call(provider, v, data.clone(), U256::ZERO)?.gas;
    let (r, _) = evm.deploy(owner, rewards_code.creation, U256::ZERO)?;
    let layout = rewards::instance_layout(&vk.header);
    let word = |hex: &str| poai_contracts::calldata::word(hex).ok_or("not a field element");
    let model_word = word(&vk.header.model_commitment)?;
    evm.call(owner, r, rewards::register_model(model_word, v, layout), U256::ZERO)?;
    let deadline = evm.timestamp() + 3600;
    let input_word = word(&proof.claims.input_commitments[0])?;
    evm.call(requester, r, rewards::post_task(model_word, input_word, deadline), U256::from(1u64))?;
    let submit_gas = evm.call(provider, r, rewards::submit(1, &data), U256::ZERO)?.gas;
    Ok(format!(
        "| {name} | {} | {} | {} | {deploy_gas} | {verify_gas} | {submit_gas} |",
        proof.instances.len(),
        data.len(),
        if verifier.runtime.len() <= EIP170_LIMIT {
            format!("{}", verifier.runtime.len())
        } else {
            format!("{} (over EIP-170)", verifier.runtime.len())
        },
    ))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let names: Vec<&str> =
        if args.is_empty() { vec!["sigmoid_tanh_mlp"] } else { args.iter().map(String::as_str).collect() };
    let solc = Solc::from_env();
    println!("| fixture | public instances | call data bytes | verifier runtime bytes | deploy gas | verify gas | task submission gas |");
    println!("|---|---|---|---|---|---|---|");
    for name in names {
        match run(name, &solc) {
            Ok(row) => println!("{row}"),
            Err(e) => println!("| {name} | failed: {e} |"),
        }
    }
}
