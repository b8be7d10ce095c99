//! Proving: inference on inputs (one, or a batch compressed into one on-chain proof), on a row of a
//! committed dataset, or accuracy over a range of rows; checked against what the keys were made for
//! before any work starts.

use std::ops::Range;

use poai_circuits::commit::merkle::MerkleTree;
use poai_circuits::halo2::DatasetMode;
use poai_onnx::CompiledModel;
use poai_prover::{DatasetFile, OnchainProvingKey, ProofTarget, Srs};
use poai_verifier::{ProofFile, Provider};

use crate::{Backend, Error, ProvingKey};

/// What a proof is about.
#[derive(Clone)]
pub enum Job<'a> {
    /// Inference on inputs: one entry per inference, each one flat list per model input. Several only
    /// with an on-chain key of that batch size.
    Inputs(&'a [Vec<Vec<f32>>]),
    /// Inference on one row of a committed dataset (the row stays private; the root is public).
    Row {
        /// The dataset and its tree.
        dataset: &'a (DatasetFile, MerkleTree),
        /// Row index (0-based).
        row: usize,
    },
    /// How many of rows `rows` the model classifies as labelled (public: the root, the range, the count).
    Accuracy {
        /// The dataset and its tree.
        dataset: &'a (DatasetFile, MerkleTree),
        /// The rows: as many as the key's batch.
        rows: Range<usize>,
    },
}

/// Who the proof pays and where it is checked.
#[derive(Clone, Copy, Default)]
pub struct ProveOptions<'a> {
    /// The compute provider the proof is bound to (the reward contract pays only it).
    pub provider: Provider,
    /// Compress the proof for on-chain verification with this on-chain key (minutes more; its batch
    /// size is the number of inferences a [`Job::Inputs`] must hold).
    pub onchain: Option<&'a OnchainProvingKey>,
}

/// Checks that `job` fits the proving key (and on-chain key) before any work: the number of inputs, a
/// row for a membership key, a range of the key's batch size for an accuracy key, a backend this build
/// has. [`prove`] runs it first; a caller can run it before loading the SRS, so a mismatch fails fast.
pub fn check_job(pk: &ProvingKey, job: &Job<'_>, options: &ProveOptions<'_>) -> Result<Backend, Error> {
    let backend = pk.backend();
    if backend == Backend::Sumcheck {
        if options.onchain.is_some() {
            return Err(Error::Halo2Only { what: "on-chain compression" });
        }
        if !matches!(job, Job::Inputs(_)) {
            return Err(Error::Halo2Only { what: "proving on dataset rows" });
        }
    }
    let accuracy_batch = match pk.header().dataset {
        Some(DatasetMode::Accuracy { batch, .. }) => Some(batch as usize),
        _ => None,
    };
    match job {
        Job::Inputs(batch) => {
            let wanted = options.onchain.map_or(1, |o| o.header.batch());
            if batch.len() != wanted {
                let remedy = if wanted == 1 {
                    "give one (several only with a batched on-chain key)".to_string()
                } else {
                    format!("the on-chain key proves batches of {wanted} inferences: give {wanted}")
                };
                return Err(Error::InputCount { given: batch.len(), remedy });
            }
        }
        Job::Row { .. } => {
            if let Some(batch) = accuracy_batch {
                return Err(Error::AccuracyKeyForOneRow { batch });
            }
        }
        Job::Accuracy { rows, .. } => {
            let Some(batch) = accuracy_batch else {
                return Err(Error::NotAnAccuracyKey);
            };
            if rows.is_empty() {
                return Err(Error::EmptyRows { start: rows.start, end: rows.end });
            }
            if rows.len() != batch {
                return Err(Error::RowCount { start: rows.start, end: rows.end, batch });
            }
        }
    }
    Ok(backend)
}

/// Proves `job` on `model` with the proving key `pk` (its backend is the one the key names), after
/// [`check_job`].
pub fn prove(
    model: &CompiledModel,
    srs: &Srs,
    pk: &ProvingKey,
    job: Job<'_>,
    options: &ProveOptions<'_>,
) -> Result<ProofFile, Error> {
    check_job(pk, &job, options)?;
    let pk = match pk {
        ProvingKey::Halo2(pk) => pk,
        ProvingKey::Sumcheck(pk) => {
            let Job::Inputs([one]) = job else {
                return Err(Error::Halo2Only { what: "proving on dataset rows or batches" });
            };
            return Ok(poai_prover::sumcheck::prove(model, srs, pk, one, options.provider)?);
        }
    };
    let target = options.onchain.map_or(ProofTarget::Direct, ProofTarget::Onchain);
    let provider = options.provider;
    let proof = match (job, options.onchain) {
        (Job::Inputs([one]), _) => poai_prover::prove_model(model, srs, pk, one, provider, target)?,
        (Job::Inputs(many), Some(onchain)) => {
            poai_prover::prove_batch(model, srs, pk, many, provider, onchain)?
        }
        (Job::Inputs(many), None) => {
            return Err(Error::InputCount {
                given: many.len(),
                remedy: "several inputs need a batched on-chain key".into(),
            })
        }
        (Job::Row { dataset, row }, _) => {
            poai_prover::prove_rows(model, srs, pk, dataset, row, provider, target)?
        }
        (Job::Accuracy { dataset, rows }, _) => {
            poai_prover::prove_rows(model, srs, pk, dataset, rows.start, provider, target)?
        }
    };
    Ok(proof)
}
