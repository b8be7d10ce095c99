//! Proofs on committed datasets: the cost of a row's Merkle path and leaf hash, and proof-of-accuracy
//! time per row for several batch sizes. digits_cnn uses its real held-out rows (`models/digits_cnn/
//! test.jsonl`, labelled); other fixtures use synthetic rows (timing only: their labels mean nothing).
//!
//! Usage: `cargo run --release -p poai-benches --bin accuracy_table -- [FIXTURE[:BATCH,BATCH...] ...]`
//! (default `mlp:1,4,8 digits_cnn:1,4,8`).

#![allow(clippy::print_stdout, reason = "a benchmark that prints its table")]

use std::path::Path;
use std::time::Instant;

use poai_benches::{models_dir, CircuitArgs};
use poai_circuits::halo2::dataset::first_argmax;
use poai_circuits::halo2::{DatasetMode, Visibility, VisibilitySettings};
use poai_circuits::ir::Tensor;
use poai_circuits::model::CompiledModel;
use poai_prover::{prove_rows, read_pk, setup, CircuitKind, DatasetFile, ProofTarget, Srs};

type Error = Box<dyn std::error::Error>;

/// JSON-lines rows for a fixture: its bundled test set if it has one, else `n` synthetic rows in [0, 1).
fn rows_for(name: &str, model: &CompiledModel, n: usize) -> Result<String, Error> {
    let path = models_dir().join(name).join("test.jsonl");
    if path.exists() {
        return Ok(std::fs::read_to_string(path)?);
    }
    let len: usize = model.graph.value(model.graph.inputs[0])?.shape.iter().product();
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut out = String::new();
    for i in 0..n {
        let values: Vec<String> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                format!("{:.4}", (x >> 11) as f64 / (1u64 << 53) as f64)
            })
            .collect();
        out.push_str(&format!("{{\"input\": [{}], \"label\": {}}}\n", values.join(","), i % 10));
    }
    Ok(out)
}

/// Rows of the quantised model's first argmax equal to the label, over the whole dataset.
fn native_accuracy(model: &CompiledModel, d: &DatasetFile) -> Result<usize, Error> {
    let mut correct = 0;
    for r in &d.data {
        let x = Tensor::new(d.input.shape.clone(), r.input.clone())?;
        let out = model.graph.eval(&[x])?;
        if first_argmax(out[0].data()).map(|p| p as u32) == r.label {
            correct += 1;
        }
    }
    Ok(correct)
}

/// Rows the float ONNX model (poai's candle reference) classifies as labelled.
fn float_accuracy(name: &str, text: &str, shape: &[usize]) -> Result<usize, Error> {
    let g = poai_onnx::load_onnx(&models_dir().join(name).join("model.onnx"))?;
    let mut correct = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let row: serde_json::Value = serde_json::from_str(line)?;
        let x: Vec<f32> = serde_json::from_value(row["input"].clone())?;
        let out = poai_onnx::reference::run_outputs(&g, &[poai_onnx::FTensor::new(shape.to_vec(), x)?])?;
        let y = &out.first().ok_or("no output")?.data;
        let max = y.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let pred = y.iter().position(|&v| v == max);
        if pred.map(|p| p as u64) == row["label"].as_u64() {
            correct += 1;
        }
    }
    Ok(correct)
}

fn run(name: &str, batches: &[u32]) -> Result<Vec<String>, Error> {
    let (model, _) = CircuitArgs::default().fixture(name)?;
    let text = rows_for(name, &model, 64)?;
    let t = Instant::now();
    let d = DatasetFile::from_jsonl(&text, Path::new(name), &model)?;
    let commit_ms = t.elapsed().as_secs_f64() * 1e3;
    let dataset = DatasetFile::from_json(&d.to_json()?, Path::new(name))?;
    let native = native_accuracy(&model, &d)?;
    let float = float_accuracy(name, &text, &d.input.shape)?;
    let vis = VisibilitySettings { input: Visibility::Private, ..VisibilitySettings::default() };
    // The Merkle cost of one row: a membership circuit minus the plain one with a private input.
    let plain_rows = poai_prover::circuit_rows(&model, CircuitKind::plain(vis))?;
    let member = CircuitKind::bound(vis, DatasetMode::Membership { depth: d.depth });
    let merkle_rows = poai_prover::circuit_rows(&model, member)? - plain_rows;
    let mut out = vec![format!(
        "| {name} | {} rows, depth {}, committed in {commit_ms:.0} ms; accuracy float {float}/{}, quantised {native}/{} | plain circuit {plain_rows} rows; leaf + path {merkle_rows} rows per row |",
        d.rows, d.depth, d.rows, d.rows
    )];
    for &batch in batches {
        let kind = CircuitKind::bound(vis, DatasetMode::Accuracy { depth: d.depth, batch });
        let k = poai_prover::circuit_k(&model, kind)?;
        let rows = poai_prover::circuit_rows(&model, kind)?;
        let srs = Srs::generate_insecure(k, 1)?;
        let t = Instant::now();
        let (pk, _) = setup(&model, &srs, kind)?;
        let setup_s = t.elapsed().as_secs_f64();
        let pk = read_pk(&pk)?;
        let t = Instant::now();
        let proof =
            prove_rows(&model, &srs, &pk, &dataset, 0, poai_verifier::Provider::NONE, ProofTarget::Direct)?;
        let prove_s = t.elapsed().as_secs_f64();
        let (correct, total) = (proof.claims.correct.unwrap_or(0), proof.claims.total.unwrap_or(0));
        out.push(format!(
            "| {name} | {batch} | {k} | {rows} | {setup_s:.2} | {prove_s:.2} | {:.2} | {correct}/{total} |",
            prove_s / f64::from(batch)
        ));
    }
    Ok(out)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let specs: Vec<String> =
        if args.is_empty() { vec!["mlp:1,4,8".into(), "digits_cnn:1,4,8".into()] } else { args };
    println!("| fixture | batch | k | main rows | setup s | prove s (incl. self-check) | prove s per row | correct/total |");
    println!("|---|---|---|---|---|---|---|---|");
    for spec in specs {
        let (name, batches) = spec.split_once(':').unwrap_or((spec.as_str(), "1,4"));
        let batches: Vec<u32> = batches.split(',').filter_map(|b| b.parse().ok()).collect();
        match run(name, &batches) {
            Ok(rows) => rows.iter().for_each(|r| println!("{r}")),
            Err(e) => println!("| {name} | failed: {e} |"),
        }
    }
}
