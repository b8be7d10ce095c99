//! Prints one table row per fixture on the sumcheck backend: the packed witness's size, each prover
//! phase, the whole proof, verification, and the prover's time over the native `QGraph::eval`. Weights
//! are fixed in the model (the verifier evaluates them), inputs and outputs public: the only
//! visibilities the backend proves so far (issue #25).
//!
//! Usage: `cargo run --release -p poai-benches --bin sumcheck_table -- [FLAGS] [FIXTURE ...]`. The key is a
//! development key from a known secret, as `poai srs` makes: timing is the same as with a ceremony's.

#![allow(clippy::print_stdout, reason = "a benchmark that prints its table")]

use std::time::{Duration, Instant};

use clap::Parser;
use poai_benches::CircuitArgs;
use poai_circuits::Fr;
use poai_sumcheck::hyperkzg::KzgKey;
use poai_sumcheck::model::{self, Plan};
use poai_sumcheck::{CpuBackend, PoseidonTranscript};

/// One row per fixture.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    circuit: CircuitArgs,
    /// Runs per fixture; the table shows the fastest.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Fixtures under `models/`.
    #[arg(default_value = "mlp")]
    fixtures: Vec<String>,
}

fn ms(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1e3)
}

fn run(args: &Args, name: &str) -> Result<String, Box<dyn std::error::Error>> {
    let (compiled, inputs) = args.circuit.compiled_fixture(name)?;
    let graph = &compiled.graph;
    let plan = Plan::new(graph)?;
    let key = KzgKey::insecure_from_secret(Fr::from(0x5eed), plan.packing.vars);
    let t = Instant::now();
    graph.eval(&inputs)?;
    let native = t.elapsed();
    let label = Fr::from(1);
    let mut best: Option<(Duration, model::Phases, Duration)> = None;
    for _ in 0..args.runs.max(1) {
        let t = Instant::now();
        let mut transcript = PoseidonTranscript::new(1);
        let (outputs, proof, phases) =
            model::prove_with_phases(&CpuBackend, &key, (graph, &[label]), &inputs, &mut transcript)?;
        let total = t.elapsed();
        let t = Instant::now();
        let mut transcript = PoseidonTranscript::new(1);
        model::verify(&key.verifier_key(), (graph, &[label]), (&inputs, &outputs), &proof, &mut transcript)?;
        let verify = t.elapsed();
        if best.as_ref().is_none_or(|b| total < b.0) {
            best = Some((total, phases, verify));
        }
    }
    let (total, p, verify) = best.ok_or("no run")?;
    Ok(format!(
        "| {name} | 2^{} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.2} | {} | {:.0}× |",
        plan.packing.vars,
        plan.packing.limb_bits,
        plan.packing.advice_entries(),
        plan.packing.multiplicities.iter().map(|(w, _)| 1usize << w).sum::<usize>(),
        ms(p.witness),
        ms(p.commit),
        ms(p.reductions),
        ms(p.range_checks),
        ms(p.merge),
        ms(p.opening),
        ms(total),
        total.as_secs_f64(),
        ms(verify),
        total.as_secs_f64() / native.as_secs_f64().max(1e-9),
    ))
}

fn main() {
    let args = Args::parse();
    println!(
        "| fixture | packed | limb bits | advice | range tables | witness ms | commit ms | reductions ms | range checks ms | merge ms | opening ms | prove ms | prove s | verify ms | prove ÷ eval |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for name in &args.fixtures {
        match run(&args, name) {
            Ok(row) => println!("{row}"),
            Err(e) => println!("| {name} | {e} |"),
        }
    }
}
