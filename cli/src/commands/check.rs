//! `verify`, `audit`: checking a proof, and checking everything it rests on against the ONNX file.

use std::path::PathBuf;

use poai::{AuditFiles, Claims};
use serde_json::json;

use crate::output::{line, warn_insecure_srs, with_spinner};

/// Verify a proof file; exits 0 only for a valid proof.
#[derive(clap::Args)]
pub struct Verify {
    /// Proof file.
    proof: PathBuf,
    /// Verifying key.
    #[arg(long)]
    vk: PathBuf,
    /// The SHA-256 of the verifying key you trust (as `poai setup` prints it, or `sha256sum`): any
    /// other file is refused, header edits included. Without it, the key file is trusted as given.
    #[arg(long, value_name = "HEX")]
    vk_sha256: Option<String>,
    /// SRS file.
    #[arg(long)]
    srs: PathBuf,
}

impl Verify {
    pub fn run(self, json: bool) -> anyhow::Result<()> {
        let proof = poai::load::proof(&self.proof)?;
        let vk = poai::load::verifying_key(&self.vk)?;
        let params = poai::load::verifier_params(&self.srs)?;
        warn_insecure_srs(params.insecure_dev_setup(), "checked with");
        let checked = poai::verify(&proof, &vk, &params, self.vk_sha256.as_deref()).map_err(|e| {
            let what = match e {
                poai::Error::KeyRefused(_) => format!("{} is refused", self.vk.display()),
                _ => format!("{} does not verify", self.proof.display()),
            };
            anyhow::Error::new(e).context(what)
        })?;
        let v = &checked.verified;
        if json {
            line(
                &json!({
                    "valid": true,
                    "model_commitment": v.model_commitment,
                    "vk_sha256": checked.vk_sha256,
                    "vk_pinned": checked.pinned,
                    "claims": v.claims,
                    "batch_claims": v.batch_claims,
                })
                .to_string(),
            );
        } else {
            line(&format!("valid proof for model {}", v.model_commitment));
            if checked.pinned {
                line(&format!("  under the pinned verifying key {}", checked.vk_sha256));
            } else {
                line(&format!(
                    "  under verifying key {} (not pinned: check it is the one its owner published)",
                    checked.vk_sha256
                ));
            }
            describe_all(&v.claims, &v.batch_claims);
        }
        Ok(())
    }
}

/// Prints a proof's public claims: of its one inference, or of each inference of a batch in turn.
pub fn describe_all(first: &Claims, further: &[Claims]) {
    if further.is_empty() {
        return describe(first);
    }
    for (i, c) in std::iter::once(first).chain(further).enumerate() {
        line(&format!("  inference {}:", i + 1));
        describe(c);
    }
}

/// Prints one inference's public claims, one per line.
fn describe(c: &Claims) {
    for (i, x) in c.inputs.iter().enumerate() {
        line(&format!("  public input {i}: {x:?}"));
    }
    for (i, h) in c.input_commitments.iter().enumerate() {
        line(&format!("  input {i} commitment: {h}"));
    }
    for (i, y) in c.outputs.iter().enumerate() {
        line(&format!("  output {i}: {y:?}"));
    }
    for (i, h) in c.output_commitments.iter().enumerate() {
        line(&format!("  output {i} commitment: {h}"));
    }
    if let Some(root) = &c.dataset_root {
        line(&format!("  dataset root: {root}"));
    }
    if let (Some([start, end]), Some(correct), Some(total)) = (c.rows, c.correct, c.total) {
        line(&format!("  rows {start}..{end}: the model scores {correct}/{total}"));
    }
    if let Some(p) = &c.provider {
        line(&format!("  bound to provider {p}"));
    }
}

/// Check a proof against the ONNX model it claims: rebuild the compiled model from the ONNX file
/// (same settings and calibrated ranges), recompute the verifying key, and verify the proof.
#[derive(clap::Args)]
pub struct Audit {
    /// The source ONNX model.
    onnx: PathBuf,
    /// Compiled model (its settings and calibrated ranges are reused).
    #[arg(long)]
    compiled: PathBuf,
    /// Proof file.
    #[arg(long)]
    proof: PathBuf,
    /// Verifying key.
    #[arg(long)]
    vk: PathBuf,
    /// SRS file the key was generated with.
    #[arg(long)]
    srs: PathBuf,
    /// The raw dataset (JSON lines) a dataset-bound proof claims its rows came from: its root is
    /// recomputed and must equal the proof's.
    #[arg(long)]
    dataset: Option<PathBuf>,
}

impl Audit {
    pub fn run(self, json: bool) -> anyhow::Result<()> {
        let files = AuditFiles {
            onnx: &self.onnx,
            compiled: &self.compiled,
            proof: &self.proof,
            vk: &self.vk,
            srs: &self.srs,
            dataset: self.dataset.as_deref(),
        };
        let report =
            with_spinner("rebuilding the model and its verifying key", json, || poai::audit(&files))?;
        let v = &report.verified;
        if json {
            line(
                &json!({
                    "valid": true,
                    "model_commitment": v.model_commitment,
                    "vk_sha256": report.vk_sha256,
                    "claims": v.claims,
                    "batch_claims": v.batch_claims,
                    "checked": report.checked,
                })
                .to_string(),
            );
            return Ok(());
        }
        line(&format!(
            "{} reproduces {} (commitment {})",
            self.onnx.display(),
            self.compiled.display(),
            report.model_commitment
        ));
        line(&format!(
            "{} is this model's verifying key (recomputed, identical, header included; SHA-256 {})",
            self.vk.display(),
            report.vk_sha256
        ));
        if let Some(data) = &self.dataset {
            line(&format!("{} hashes to the proof's dataset root", data.display()));
        }
        line(&format!("{} verifies:", self.proof.display()));
        describe_all(&v.claims, &v.batch_claims);
        Ok(())
    }
}
