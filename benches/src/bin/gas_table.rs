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
//! Visibilities, layout and quantisation take `poai setup`'s and `poai compile`'s flags and defaults (e.g.
//! `--output-visibility hashed`: one output commitment instead of one instance per output; `--layout
//! narrow`: the fewest model-circuit columns, for batched on-chain keys). `--phases` prints when each step
//! ends; `--help` lists every flag.
//!
//! Usage: `POAI_SOLC=tools/bin/solc cargo run --release -p poai-benches --bin gas_table -- [--onchain K [--batch N]] [FLAGS] [FIXTURE ...]`

#![allow(clippy::print_stdout, reason = "a benchmark that prints its table")]

use poai_contracts::calldata::calldata;
use poai_contracts::evm::LocalEvm;
use poai_contracts::rewards;
use poai_contracts::solc::{Solc, EIP170_LIMIT};
use poai_contracts::solidity::verifier_solidity;
use std::time::Instant;

use clap::Parser;
use poai_benches::CircuitArgs;
use poai_prover::{
    prove_batch, prove_model, read_onchain_pk, read_pk, setup, setup_onchain, ProofTarget, Srs,
};
use poai_verifier::{VerifierParams, VerifyingKeyFile};
use revm::primitives::{Address, U256};

/// One row per fixture of what on-chain verification costs.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    circuit: CircuitArgs,
    /// Compress each proof for on-chain verification with on-chain keys of this k (minutes per fixture).
    #[arg(long, value_name = "K")]
    onchain: Option<u32>,
    /// With `--onchain`: model proofs per on-chain proof.
    #[arg(long, default_value_t = 1, requires = "onchain")]
    batch: usize,
    /// Print the wall time at which each step ends (to line up with a memory trace).
    #[arg(long)]
    phases: bool,
    /// Fixtures under `models/`.
    #[arg(default_value = "sigmoid_tanh_mlp")]
    fixtures: Vec<String>,
}

/// Prints when each step ends, with `--phases`.
struct Phases {
    start: Instant,
    on: bool,
}

impl Phases {
    fn end(&self, step: &str) {
        if self.on {
            println!("phase {step}: {:.1} s", self.start.elapsed().as_secs_f64());
        }
    }
}

fn run(name: &str, solc: &Solc, args: &Args, phases: &Phases) -> Result<String, Box<dyn std::error::Error>> {
    let (onchain_k, batch, phase) = (args.onchain, args.batch, |step: &str| phases.end(step));
    let (model, input) = args.circuit.fixture(name)?;
    let kind = args.circuit.kind();
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

fn main() {
    let args = Args::parse();
    let phases = Phases { start: Instant::now(), on: args.phases };
    phases.end("start");
    let solc = Solc::from_env();
    println!("| fixture | inferences per proof | public instances | call data bytes | verifier runtime bytes | deploy gas | verify gas | submission gas | submission gas per task |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for name in &args.fixtures {
        match run(name, &solc, &args, &phases) {
            Ok(row) => println!("{row}"),
            Err(e) => println!("| {name} | failed: {e} |"),
        }
    }
}
