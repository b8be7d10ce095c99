//! Prints one table row per fixture the circuits support: circuit size, key generation, proving and
//! verification times, proof size. Run it through `benches/compare_ezkl.sh` for peak memory and the
//! side-by-side ratios against EZKL on the same machine.
//!
//! Usage: `cargo run --release -p poai-benches --bin prove_table -- [FLAGS] [FIXTURE ...]`; `--help` lists
//! the flags: quantisation and visibility as `poai compile` and `poai setup` take them, and
//! `--layout-only` (the circuit's size and rows per gate, without key generation or proving).

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark that prints its table (and, to stderr, rows per gate)"
)]

use std::time::Instant;

use clap::Parser;
use poai_benches::CircuitArgs;
use poai_prover::{keygen, prove, Srs};
use poai_verifier::verify_instances;

/// One row per fixture: circuit size, key generation, proving and verification times, proof size.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    circuit: CircuitArgs,
    /// Print only the circuit's size (and, to stderr, rows per gate): no key generation or proving.
    #[arg(long)]
    layout_only: bool,
    /// Fixtures under `models/`.
    #[arg(default_value = "mlp")]
    fixtures: Vec<String>,
}

fn run(args: &Args, name: &str) -> Result<String, Box<dyn std::error::Error>> {
    let (model, input) = args.circuit.compiled_fixture(name)?;
    let t = Instant::now();
    let circuit = args.circuit.model_circuit(&model, &input)?;
    let layout_s = t.elapsed().as_secs_f64();
    let k = circuit.layout.k();
    if args.layout_only {
        let l = &circuit.layout;
        let per_gate: Vec<String> = l
            .selectors
            .iter()
            .enumerate()
            .map(|(g, rows)| (g, rows.iter().filter(|&&b| b).count()))
            .filter(|&(_, n)| n > 0)
            .map(|(g, n)| format!("gate {g}: {n}"))
            .collect();
        eprintln!("{name}: selected rows per gate: {}", per_gate.join(", "));
        return Ok(format!(
            "| {name} | {k} | | {} | {} × {} | {layout_s:.2} | | | | |",
            l.main_rows(),
            l.range_columns,
            l.rc_rows()
        ));
    }
    let srs = Srs::generate_insecure(k, 1)?;
    let params = srs.for_circuit(k)?;
    let t = Instant::now();
    let pk = keygen(&params, &circuit)?;
    let keygen_s = t.elapsed().as_secs_f64();
    let degree = pk.get_vk().cs().degree();
    let t = Instant::now();
    let proof = prove(&params, &pk, &circuit)?;
    let prove_s = t.elapsed().as_secs_f64();
    let vparams = srs.verifier_params()?;
    let t = Instant::now();
    verify_instances(pk.get_vk(), &vparams, &proof, &circuit.instances()[0])?;
    let verify_ms = t.elapsed().as_secs_f64() * 1e3;
    Ok(format!(
        "| {name} | {k} | {degree} | {} | {} × {} | {layout_s:.2} | {keygen_s:.2} | {prove_s:.2} | {verify_ms:.1} | {} |",
        circuit.layout.main_rows(),
        circuit.layout.range_columns,
        circuit.layout.rc_rows(),
        proof.len()
    ))
}

fn main() {
    let args = Args::parse();
    println!(
        "| fixture | k | degree | main rows | range columns × rows | witness+layout s | keygen s | prove s | verify ms | proof bytes |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for name in &args.fixtures {
        match run(&args, name) {
            Ok(row) => println!("{row}"),
            Err(e) => println!("| {name} | not provable yet: {e} |"),
        }
    }
}
