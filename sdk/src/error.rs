//! The facade's error: what each workflow refuses, with the artifact it concerns and the remedy.

use std::path::PathBuf;

use thiserror::Error;

/// Why a facade call failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// File.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A file was read but is not the artifact it should be.
    #[error("{path} is not {what}")]
    Artifact {
        /// File.
        path: PathBuf,
        /// What it should be, with its article (`"a poai proof file"`).
        what: &'static str,
        /// Why it was refused.
        #[source]
        source: Box<Error>,
    },
    /// Import, calibration, quantisation or input parsing failed.
    #[error(transparent)]
    Onnx(#[from] poai_onnx::OnnxError),
    /// The quantised graph refused an operation (running it, quantising inputs, serialising it).
    #[error(transparent)]
    Ir(#[from] poai_circuits::ir::IrError),
    /// SRS, key generation or proving failed.
    #[error(transparent)]
    Prover(#[from] poai_prover::ProverError),
    /// A proof, key or SRS was rejected by the verifier.
    #[error(transparent)]
    Verify(#[from] poai_verifier::VerifyError),
    /// Solidity generation, compilation or calldata encoding failed.
    #[error(transparent)]
    Contract(#[from] poai_contracts::ContractError),
    /// The verifying key is not the one whose SHA-256 the caller pinned.
    #[error("the verifying key is refused")]
    KeyRefused(#[source] poai_verifier::VerifyError),
    /// An artifact names a proving system this build does not have.
    #[error(
        "{artifact} was made by the `{found}` proving system, which this build of poai does not support"
    )]
    UnknownBackend {
        /// Which artifact.
        artifact: &'static str,
        /// The backend it names.
        found: String,
    },
    /// A workflow that needs a halo2 key was given a sumcheck one.
    #[error(
        "{what} works with halo2 keys only for now (the sumcheck backend has no on-chain verifier or \
         dataset proofs yet): set the model up with `--backend halo2` for it"
    )]
    Halo2Only {
        /// The workflow (`"on-chain compression"`).
        what: &'static str,
    },
    /// Outputs were asked to be private: a proof about an output nobody sees proves nothing.
    #[error("outputs can be public or hashed, not private (a proof of an unseen output proves nothing)")]
    PrivateOutputs,
    /// The number of inputs does not fit the proving keys.
    #[error("{given} input(s) given; {remedy}")]
    InputCount {
        /// Inputs given.
        given: usize,
        /// How many the keys take, and how to get keys for another count.
        remedy: String,
    },
    /// One dataset row was to be proved with an accuracy key.
    #[error("the proving key proves accuracy over batches of {batch} rows, not inference on one row")]
    AccuracyKeyForOneRow {
        /// The key's batch.
        batch: usize,
    },
    /// Accuracy was to be proved with a key that is not an accuracy key.
    #[error("the proving key is not an accuracy key: set up keys with a dataset and an accuracy batch")]
    NotAnAccuracyKey,
    /// Accuracy over a row range whose length is not the key's batch.
    #[error("rows {start}..{end} are {} rows; the key proves batches of {batch}", end - start)]
    RowCount {
        /// First row.
        start: usize,
        /// One past the last row.
        end: usize,
        /// The key's batch.
        batch: usize,
    },
    /// A row range that is empty or reversed.
    #[error("rows {start}..{end} are not a range: the start must be below the end")]
    EmptyRows {
        /// First row.
        start: usize,
        /// One past the last row.
        end: usize,
    },
    /// Audit: the ONNX file does not quantise to the compiled model.
    #[error(
        "{onnx} is not the model compiled into {compiled}: its commitment is {onnx_commitment}, the compiled \
         model's is {compiled_commitment}"
    )]
    NotTheCompiledModel {
        /// ONNX file.
        onnx: PathBuf,
        /// Compiled model file.
        compiled: PathBuf,
        /// Commitment recomputed from the ONNX file.
        onnx_commitment: String,
        /// Commitment recorded in the compiled model.
        compiled_commitment: String,
    },
    /// Audit: the verifying key is not the one recomputed from the ONNX file.
    #[error("{vk} is not the verifying key of {onnx} (recomputed from it and {srs}, the bytes differ)")]
    NotTheVerifyingKey {
        /// Verifying key file.
        vk: PathBuf,
        /// ONNX file.
        onnx: PathBuf,
        /// SRS file.
        srs: PathBuf,
    },
    /// Audit: the proof verifies, but for another model.
    #[error("{proof} proves model {proved}, not {onnx} (commitment {expected})")]
    ProofOfAnotherModel {
        /// Proof file.
        proof: PathBuf,
        /// The model commitment the proof carries.
        proved: String,
        /// ONNX file.
        onnx: PathBuf,
        /// Its recomputed commitment.
        expected: String,
    },
    /// Audit: a dataset was given, but the proof is not about dataset rows.
    #[error("{proof} is not bound to a dataset")]
    NotDatasetBound {
        /// Proof file.
        proof: PathBuf,
    },
    /// Audit: the dataset's recomputed root is not the proof's.
    #[error("{dataset} is not the dataset of {proof}: its root is {root}, the proof's {claimed}")]
    NotTheDataset {
        /// Raw dataset file.
        dataset: PathBuf,
        /// Proof file.
        proof: PathBuf,
        /// Recomputed root.
        root: String,
        /// The proof's root.
        claimed: String,
    },
    /// A generated Solidity verifier exceeds EIP-170's size limit.
    #[error("the verifier cannot be deployed on mainnet: {remedy}")]
    NotDeployable {
        /// How to get a deployable verifier.
        remedy: String,
        /// The size check's error.
        #[source]
        source: poai_contracts::ContractError,
    },
}

impl Error {
    /// Wraps `source` as the reason `path` is not `what`.
    pub(crate) fn artifact(path: &std::path::Path, what: &'static str, source: impl Into<Error>) -> Self {
        Self::Artifact { path: path.to_path_buf(), what, source: Box::new(source.into()) }
    }
}
