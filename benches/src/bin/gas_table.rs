//! Prints one row per fixture of what on-chain verification costs: the generated verifier's code size
//! (against EIP-170), its deployment gas, the gas of one verification and of one whole reward-contract
//! task submission, all measured in revm (mainnet rules, code-size limit lifted so that oversized
//! verifiers can still be measured).
//!
//! With `--onchain K` each fixture's proof is first compressed as `poai prove --onchain` does (keys from
//! `setup_onchain` at outer size K), and the rows measure the deployable on-chain verifier instead of
//! the model circuit's direct one. That takes minutes per fixture. With `--batch N` as well the on-chain
//! key compresses N model proofs (N tasks paid by one `submitBatch`), and the last column gives the
//! submission gas per task.
//!
//! Visibilities are `poai setup`'s defaults unless `POAI_INPUT_VISIBILITY`, `POAI_OUTPUT_VISIBILITY` or
//! `POAI_PARAM_VISIBILITY` say otherwise (e.g. `POAI_OUTPUT_VISIBILITY=hashed`: one output commitment
//! instead of one instance per output); quantisation is `poai compile`'s unless `POAI_WEIGHT_BITS`,
//! `POAI_ACTIVATION_BITS` or `POAI_TABLE_BITS` say otherwise. `POAI_LAYOUT=narrow` lays the model
//! circuit out with the fewest columns (`poai setup --layout narrow`, for batched on-chain keys).
//! `POAI_PHASES=1` prints when each step ends.
//!
//! Usage: `POAI_SOLC=tools/bin/solc cargo run --release -p poai-benches --bin gas_table -- [--onchain K [--batch N]] [FIXTURE ...]`

#![allow(clippy::print_stdout, reason = "a benchmark that prints its table")]

use poai_contracts::calldata::calldata;
use poai_contracts::evm::LocalEvm;
use poai_contracts::rewards;
use poai_contracts::solc::{Solc, EIP170_LIMIT};
use poai_contracts::solidity::verifier_solidity;
use poai_prover::{
    prove_batch, prove_model, read_onchain_pk, read_pk, setup, setup_onchain, CircuitKind, ProofTarget, Srs,
};
use poai_verifier::{VerifierParams, VerifyingKeyFile};
use revm::primitives::{Address, U256};

/// With `POAI_PHASES=1`, prints the wall time at which each step ends (to line up with a memory trace).
fn phase(step: &str) {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let start = START.get_or_init(std::time::Instant::now);
    if std::env::var_os("POAI_PHASES").is_some_and(|v| v == "1") {
        println!("phase {step}: {:.1} s", start.elapsed().as_secs_f64());
    }
}

fn run(
    name: &str,
    solc: &Solc,
    onchain_k: Option<u32>,
    batch: usize,
) -> Result<String, Box<dyn std::error::Error>> {
    let (model, input) = poai_benches::fixture(name)?;
    let kind = CircuitKind::plain(poai_benches::visibility_from_env()?)
        .with_layout(poai_benches::layout_from_env()?);
    let k = poai_prover::circuit_k(&model, kind)?.max(onchain_k.unwrap_or(0));
    let srs = Srs::generate_insecure(k, 1)?;
    phase("srs");
    // Key files are parsed where they are made and their bytes dropped at once, as `poai` does when it
    // reads them from disk: the peak memory is then the steps', not the files' (an on-chain proving key at
    // k = 22 is ~3 GB).
    let (pk, vk) = setup(&model, &srs, kind)?;
    let pk = read_pk(&pk)?;
    phase("model keys");
    let provider = poai_verifier::Provider([3; 20]);
    let (proof, vk) = match onchain_k {
        None => (prove_model(&model, &srs, &pk, &input, provider, ProofTarget::Direct)?, vk),
        Some(outer_k) => {
            let (onchain_pk, onchain_vk) = {
                let (pk_bytes, vk_bytes) =
                    setup_onchain(&VerifyingKeyFile::from_bytes(&vk)?, &srs, outer_k, batch)?;
                phase("on-chain keys");
                (read_onchain_pk(&pk_bytes)?, vk_bytes)
            };
            phase("on-chain key parsed");
            // Distinct inferences: the reward contract pays each inference once, so a batch of one
            // input repeated would be refused as a replay.
            let inputs: Vec<Vec<Vec<f32>>> = (0..batch)
                .map(|i| {
                    let scale = 1.0 - 0.05 * i as f32;
                    input.iter().map(|t| t.iter().map(|v| v * scale).collect()).collect()
                })
                .collect();
            (prove_batch(&model, &srs, &pk, &inputs, provider, &onchain_pk)?, onchain_vk)
        }
    };
    phase("proof");
    let vk = VerifyingKeyFile::from_bytes(&vk)?;
    let params = VerifierParams::from_srs_bytes(&srs.to_bytes()?)?;
    let verifier =
        solc.compile_one("Verifier.sol", &verifier_solidity(&vk, &params)?, "Halo2Verifier", None)?;
    let rewards_code = rewards::compile_rewards(solc)?;
    phase("verifier compiled");

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
    let layout = rewards::instance_layout(&vk.header)?;
    let model_word =
        poai_contracts::calldata::word(&vk.header.model_commitment).ok_or("not a field element")?;
    let proof_len = rewards::proof_length(&layout, &data)?;
    evm.call(owner, r, rewards::register_model(model_word, v, layout, proof_len), U256::ZERO)?;
    let registration = rewards::registration_id(model_word, v, layout, proof_len);
    let deadline = evm.timestamp() + 3600;
    for i in 0..batch {
        let bound = rewards::bound_instances(&layout, &data, i);
        evm.call(requester, r, rewards::post_task(registration, &bound, 0, deadline), U256::from(1u64))?;
    }
    let submit = if batch == 1 {
        rewards::submit(1, &data)
    } else {
        rewards::submit_batch(&(1..=batch as u64).collect::<Vec<_>>(), &data)
    };
    let submit_gas = evm.call(provider, r, submit, U256::ZERO)?.gas;
    phase("evm");
    Ok(format!(
        "| {name} | {batch} | {} | {} | {} | {deploy_gas} | {verify_gas} | {submit_gas} | {} |",
        proof.instances.len(),
        data.len(),
        if verifier.runtime.len() <= EIP170_LIMIT {
            format!("{}", verifier.runtime.len())
        } else {
            format!("{} (over EIP-170)", verifier.runtime.len())
        },
        submit_gas / batch as u64,
    ))
}

/// Removes `flag VALUE` from `args` and parses the value; exits with `usage` if it does not parse.
fn take_flag<T: std::str::FromStr>(args: &mut Vec<String>, flag: &str, usage: &str) -> Option<T> {
    let i = args.iter().position(|a| a == flag)?;
    match args.get(i + 1).map(|v| v.parse::<T>()) {
        Some(Ok(v)) => {
            args.drain(i..i + 2);
            Some(v)
        }
        _ => {
            println!("{usage}");
            std::process::exit(2);
        }
    }
}

fn main() {
    phase("start");
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let onchain_k =
        take_flag(&mut args, "--onchain", "--onchain takes the outer circuit's k, e.g. --onchain 21");
    let batch =
        take_flag(&mut args, "--batch", "--batch takes the inferences per on-chain proof, e.g. --batch 2")
            .unwrap_or(1usize);
    if batch != 1 && onchain_k.is_none() {
        println!("--batch needs --onchain K (only on-chain keys compress batches)");
        std::process::exit(2);
    }
    let names: Vec<&str> =
        if args.is_empty() { vec!["sigmoid_tanh_mlp"] } else { args.iter().map(String::as_str).collect() };
    let solc = Solc::from_env();
    println!("| fixture | inferences per proof | public instances | call data bytes | verifier runtime bytes | deploy gas | verify gas | submission gas | submission gas per task |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for name in names {
        match run(name, &solc, onchain_k, batch) {
            Ok(row) => println!("{row}"),
            Err(e) => println!("| {name} | failed: {e} |"),
        }
    }
}
