//! Audit: recompute everything a proof's claim rests on from the ONNX file, then verify the proof.

use std::path::Path;

use poai_circuits::halo2::ParamVisibility;
use poai_prover::{CircuitKind, DatasetFile};
use poai_verifier::{Verified, VerifyingKeyFile};
use serde::Serialize;

use crate::{load, Backend, Error};

/// The files an audit checks against each other.
#[derive(Clone, Copy, Debug)]
pub struct AuditFiles<'a> {
    /// The source ONNX model.
    pub onnx: &'a Path,
    /// The compiled model (its settings and calibrated ranges are reused).
    pub compiled: &'a Path,
    /// The proof.
    pub proof: &'a Path,
    /// The verifying key.
    pub vk: &'a Path,
    /// The SRS the key was generated with.
    pub srs: &'a Path,
    /// The raw dataset (JSON lines) a dataset-bound proof claims its rows came from.
    pub dataset: Option<&'a Path>,
}

/// One check an audit passed, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum AuditCheck {
    /// The ONNX file, quantised with the compiled model's settings, has the compiled model's commitment.
    #[serde(rename = "onnx reproduces the compiled model")]
    ModelReproduced,
    /// The verifying key was recomputed from the ONNX file and is identical, header included.
    #[serde(rename = "verifying key recomputed")]
    KeyRecomputed,
    /// The proof verifies under that key, for that model.
    #[serde(rename = "proof verifies")]
    ProofVerifies,
    /// The raw dataset hashes to the root the proof carries.
    #[serde(rename = "dataset root recomputed")]
    DatasetRoot,
}

/// What an audit established.
#[derive(Debug)]
pub struct AuditReport {
    /// The model commitment recomputed from the ONNX file (the proof's).
    pub model_commitment: String,
    /// SHA-256 of the verifying key file.
    pub vk_sha256: String,
    /// The proof's public claims.
    pub verified: Verified,
    /// The checks passed.
    pub checked: Vec<AuditCheck>,
}

/// Recomputes the quantised graph and its commitment from the ONNX file (with the compile settings and
/// calibrated ranges recorded in the compiled model), the verifying key (byte for byte: it fixes the
/// circuit and, with fixed parameters, the weights) and, given the raw dataset, its root; then verifies
/// the proof. Any difference is an error naming the files.
pub fn audit(files: &AuditFiles<'_>) -> Result<AuditReport, Error> {
    let compiled = load::compiled_model(files.compiled)?;
    let g = load::onnx(files.onnx)?;
    let rebuilt = poai_onnx::reproduce(&g, &compiled)?;
    if rebuilt.model_commitment != compiled.model_commitment {
        return Err(Error::NotTheCompiledModel {
            onnx: files.onnx.to_path_buf(),
            compiled: files.compiled.to_path_buf(),
            onnx_commitment: rebuilt.model_commitment,
            compiled_commitment: compiled.model_commitment,
        });
    }
    let vk_bytes = load::bytes(files.vk)?;
    let vk = VerifyingKeyFile::from_bytes(&vk_bytes)
        .map_err(|e| Error::artifact(files.vk, "a usable verifying key", e))?;
    let srs = load::srs(files.srs)?;
    let same_key = match Backend::of_artifact("the verifying key", &vk.header.backend)? {
        Backend::Halo2 => {
            let kind = CircuitKind::of(&vk.header);
            let expected = poai_prover::verifying_key_file(&rebuilt, &srs, kind)?;
            if kind.vis.params == ParamVisibility::Hashed {
                // A hashed-parameter key fits every model of its architecture; the model it was made
                // with is a note in its header. The circuit (halo2 key) and every other header field
                // must be identical.
                let mut e = VerifyingKeyFile::from_bytes(&expected)?;
                e.header.model_commitment.clone_from(&vk.header.model_commitment);
                e.header == vk.header && e.halo2()?.transcript_repr() == vk.halo2()?.transcript_repr()
            } else {
                expected == vk_bytes
            }
        }
        // The key holds the graph itself: equal bytes mean the same model, weights and layout.
        Backend::Sumcheck => {
            poai_prover::sumcheck::verifying_key_file(&rebuilt, CircuitKind::of(&vk.header))? == vk_bytes
        }
    };
    if !same_key {
        return Err(Error::NotTheVerifyingKey {
            vk: files.vk.to_path_buf(),
            onnx: files.onnx.to_path_buf(),
            srs: files.srs.to_path_buf(),
        });
    }
    let proof = load::proof(files.proof)?;
    let verified = poai_verifier::verify(&vk, &srs.verifier_params()?, &proof)
        .map_err(|e| Error::artifact(files.proof, "a proof that verifies", e))?;
    if verified.model_commitment != rebuilt.model_commitment {
        return Err(Error::ProofOfAnotherModel {
            proof: files.proof.to_path_buf(),
            proved: verified.model_commitment,
            onnx: files.onnx.to_path_buf(),
            expected: rebuilt.model_commitment,
        });
    }
    let mut checked = vec![AuditCheck::ModelReproduced, AuditCheck::KeyRecomputed, AuditCheck::ProofVerifies];
    if let Some(data) = files.dataset {
        let claimed = verified
            .claims
            .dataset_root
            .as_deref()
            .ok_or_else(|| Error::NotDatasetBound { proof: files.proof.to_path_buf() })?;
        let text = std::fs::read_to_string(data)
            .map_err(|source| Error::Read { path: data.to_path_buf(), source })?;
        let root = DatasetFile::from_jsonl(&text, data, &rebuilt)?.root;
        if root != claimed {
            return Err(Error::NotTheDataset {
                dataset: data.to_path_buf(),
                proof: files.proof.to_path_buf(),
                root,
                claimed: claimed.to_string(),
            });
        }
        checked.push(AuditCheck::DatasetRoot);
    }
    Ok(AuditReport {
        model_commitment: rebuilt.model_commitment,
        vk_sha256: vk.sha256.clone(),
        verified,
        checked,
    })
}
