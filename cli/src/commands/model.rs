//! `inspect`, `compile`, `run`, `commit-input`: from an ONNX file to a compiled model and its outputs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use poai::{Inspection, QuantConfig};
use serde_json::json;

use crate::output::{line, note, with_spinner, write_atomic};

/// Show a model's ops, shapes, parameter count and unsupported ops.
#[derive(clap::Args)]
pub struct Inspect {
    /// ONNX model.
    model: PathBuf,
}

impl Inspect {
    pub fn run(self, json: bool) -> anyhow::Result<()> {
        let model = &self.model;
        let supported = match poai::inspect(model)
            .with_context(|| format!("cannot import {}", model.display()))?
        {
            Inspection::Supported(s) => s,
            Inspection::Unsupported { ops, problems } => {
                if json {
                    let ops: Vec<_> = ops.iter().map(|(n, o)| json!({"node": n, "op": o})).collect();
                    line(
                        &json!({ "supported": false, "unsupported": ops, "problems": problems }).to_string(),
                    );
                } else {
                    let count = ops.len() + problems.len();
                    line(&format!("{}: not supported, {count} problem(s)", model.display()));
                    for (n, o) in &ops {
                        line(&format!("  unsupported op {o:<20} node `{n}`"));
                    }
                    for p in &problems {
                        line(&format!("  {p}"));
                    }
                }
                anyhow::bail!("{} cannot be compiled: every problem is listed above", model.display());
            }
        };
        let g = &supported.graph;
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for n in &g.nodes {
            *counts.entry(n.op.name()).or_default() += 1;
        }
        if json {
            let nodes: Vec<_> = g
                .nodes
                .iter()
                .map(|n| json!({"name": n.name, "op": n.op.name(), "output_shape": g.shape(&n.output)}))
                .collect();
            line(&json!({
                "supported": true,
                "opset": g.opset,
                "inputs": g.inputs.iter().map(|(n, s)| json!({"name": n, "shape": s})).collect::<Vec<_>>(),
                "outputs": g.outputs.iter().map(|o| json!({"name": o, "shape": g.shape(o)})).collect::<Vec<_>>(),
                "parameters": g.param_count(),
                "op_counts": counts,
                "nodes": nodes,
                "unsupported": [],
                "sumcheck_k": supported.sumcheck_k.as_ref().ok(),
                "sumcheck_unsupported": supported.sumcheck_k.as_ref().err(),
            }).to_string());
            return Ok(());
        }
        line(&format!("{} (opset {})", model.display(), g.opset));
        for (n, s) in &g.inputs {
            line(&format!("  input  {n}: {s:?}"));
        }
        for o in &g.outputs {
            line(&format!("  output {o}: {:?}", g.shape(o).unwrap_or(&[])));
        }
        line(&format!("  parameters: {}", g.param_count()));
        line(&format!("  ops after normalisation ({}):", g.nodes.len()));
        for n in &g.nodes {
            line(&format!(
                "    {:<12} {:<40} -> {:?}",
                n.op.name(),
                n.name,
                g.shape(&n.output).unwrap_or(&[])
            ));
        }
        line("  unsupported ops: none (the model imports and quantises: `poai compile` will succeed)");
        match &supported.sumcheck_k {
            Ok(k) => line(&format!(
                "  sumcheck backend: a packed witness of about 2^{k} entries (estimated at default scales)"
            )),
            Err(why) => line(&format!("  {why}")),
        }
        Ok(())
    }
}

/// Calibrate and quantise an ONNX model into a compiled poai model.
#[derive(clap::Args)]
pub struct Compile {
    /// ONNX model.
    model: PathBuf,
    /// Calibration inputs (`{"input_data": [[...]]}`, several samples back to back allowed).
    #[arg(long)]
    calibration: PathBuf,
    /// Output path of the compiled model.
    #[arg(short, long)]
    output: PathBuf,
    /// Bit width of activations.
    #[arg(long, default_value_t = 16)]
    activation_bits: u32,
    /// Bit width of weights.
    #[arg(long, default_value_t = 12)]
    weight_bits: u32,
    /// Bit width of non-linear table inputs.
    #[arg(long, default_value_t = 16)]
    table_bits: u32,
    /// Low table-input bits resolved by linear interpolation between table entries: tables shrink
    /// 2^N-fold at the same input resolution (0: plain tables). Default: table bits minus 10, so a
    /// table holds at most 2^10 entries.
    #[arg(long)]
    interp_bits: Option<u32>,
    /// Headroom over the calibrated range.
    #[arg(long, default_value_t = 2.0)]
    margin: f64,
}

impl Compile {
    pub fn run(self, json: bool) -> anyhow::Result<()> {
        let (model, output) = (&self.model, &self.output);
        let cfg = QuantConfig {
            activation_bits: self.activation_bits,
            weight_bits: self.weight_bits,
            table_bits: self.table_bits,
            interp_bits: self
                .interp_bits
                .unwrap_or_else(|| QuantConfig::default_interp_bits(self.table_bits)),
            margin: self.margin,
        };
        let t = Instant::now();
        let c = with_spinner("importing, calibrating, measuring accuracy", json, || {
            poai::compile(model, &self.calibration, &cfg)
        })
        .with_context(|| format!("cannot compile {}", model.display()))?;
        write_atomic(output, &c.model.to_json()?)?;
        let (m, report) = (&c.model, &c.accuracy);
        if json {
            line(
                &json!({
                    "output": output,
                    "model_commitment": m.model_commitment,
                    "parameters": m.graph.param_count(),
                    "nodes": m.graph.nodes.len(),
                    "calibration_samples": m.calibration_samples,
                    "accuracy": report,
                })
                .to_string(),
            );
        } else {
            line(&format!("compiled {} -> {} in {:.2?}", model.display(), output.display(), t.elapsed()));
            line(&format!("  model commitment: {}", m.model_commitment));
            line(&format!("  integer ops: {}, parameters: {}", m.graph.nodes.len(), m.graph.param_count()));
            line(&format!(
                "  accuracy on {} calibration samples: max abs error {:.5} ({:.3}% of output range), mean {:.5}, argmax agreement {:.1}%",
                report.samples,
                report.max_abs_error,
                100.0 * report.relative_max_error(),
                report.mean_abs_error,
                100.0 * report.argmax_agreement
            ));
        }
        Ok(())
    }
}

/// Run quantised inference.
#[derive(clap::Args)]
pub struct Run {
    /// Compiled model.
    model: PathBuf,
    /// Input file (`{"input_data": [[...]]}`).
    #[arg(long)]
    input: PathBuf,
    /// The source ONNX model: also report the error against its float run.
    #[arg(long)]
    reference: Option<PathBuf>,
}

impl Run {
    pub fn run(self, json: bool) -> anyhow::Result<()> {
        let compiled = poai::load::compiled_model(&self.model)?;
        let data = poai::load::input(&self.input)?;
        let reference = self.reference.as_deref().map(poai::load::onnx).transpose()?;
        let result = poai::run(&compiled, &data, &self.input, reference.as_ref())
            .with_context(|| format!("cannot run {} on {}", self.model.display(), self.input.display()))?;
        if json {
            let mut v = json!({ "outputs": result.outputs, "model_commitment": compiled.model_commitment });
            if let Some(r) = &result.accuracy {
                v["accuracy"] = json!(r);
            }
            line(&v.to_string());
            return Ok(());
        }
        for (i, o) in result.outputs.iter().enumerate() {
            let shown: Vec<String> = o.iter().take(32).map(|v| format!("{v:.5}")).collect();
            let more = if o.len() > 32 { format!(" … ({} values)", o.len()) } else { String::new() };
            line(&format!("output {i}: [{}]{more}", shown.join(", ")));
        }
        line(&format!("model commitment: {}", compiled.model_commitment));
        match result.accuracy {
            Some(r) => line(&format!(
                "vs float reference: max abs error {:.5} ({:.3}% of output range), mean {:.5}, argmax agreement {:.0}%",
                r.max_abs_error,
                100.0 * r.relative_max_error(),
                r.mean_abs_error,
                100.0 * r.argmax_agreement
            )),
            None => note("(pass --reference MODEL.onnx to compare with the float model)"),
        }
        Ok(())
    }
}

/// Print the commitments of an input (what a proof with hashed inputs exposes), so that a proof can be
/// matched to the input a requester holds.
#[derive(clap::Args)]
pub struct CommitInput {
    /// Compiled model (its input formats).
    model: PathBuf,
    /// Input file (`{"input_data": [[...]]}`).
    #[arg(long)]
    input: PathBuf,
}

impl CommitInput {
    pub fn run(self, json: bool) -> anyhow::Result<()> {
        let compiled = poai::load::compiled_model(&self.model)?;
        let data = poai::load::input(&self.input)?;
        let commitments = compiled.input_commitments(&data).with_context(|| {
            format!("cannot commit to {} for {}", self.input.display(), self.model.display())
        })?;
        if json {
            line(&json!({ "input_commitments": commitments }).to_string());
        } else {
            for (i, c) in commitments.iter().enumerate() {
                line(&format!("input {i} commitment: {c}"));
            }
        }
        Ok(())
    }
}
