//! Errors of the prover crate.

use std::path::PathBuf;

use thiserror::Error;

/// Why an SRS, key or proof operation failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ProverError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// An SRS file is malformed (wrong header, size or curve points).
    #[error("{path} is not a usable SRS: {detail}")]
    SrsFormat {
        /// File.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The SRS supports fewer rows than the circuit needs.
    #[error("the SRS has k = {have} (2^{have} rows) but the circuit needs k = {need}; generate or supply a larger one")]
    SrsTooSmall {
        /// The SRS's k.
        have: u32,
        /// The circuit's k.
        need: u32,
    },
    /// halo2 rejected key generation, proving or verification.
    #[error("{stage} failed: {detail}")]
    Plonk {
        /// Which step.
        stage: &'static str,
        /// halo2's error.
        detail: String,
    },
    /// A key, proof or SRS artifact was rejected by the verifier crate's checks.
    #[error(transparent)]
    Verify(#[from] poai_verifier::VerifyError),
    /// A dataset (JSON-lines rows or a dataset file) is malformed; `detail` names the line or row.
    #[error("{path}: {detail}")]
    Dataset {
        /// File.
        path: PathBuf,
        /// What is wrong, and where.
        detail: String,
    },
    /// Artifacts that do not belong together (another model, k, instances or outputs).
    #[error("mismatch: {0}")]
    Mismatch(String),
    /// The circuit could not be built for this model or input.
    #[error("circuit: {0}")]
    Circuit(String),
    /// Keys the sumcheck backend does not make yet (a visibility or binding it cannot prove soundly or
    /// without leaking), naming what it does make and the remedy.
    #[error("not on the sumcheck backend: {0}")]
    NotOnSumcheck(String),
    /// The sumcheck backend refused a graph or input, or failed to prove.
    #[error("sumcheck backend: {0}")]
    Sumcheck(#[from] poai_sumcheck::SumcheckError),
    /// A requested k is outside what BN254 KZG supports here.
    #[error("k = {k} is out of range (poai supports {min} to {max})")]
    KOutOfRange {
        /// Requested k.
        k: u32,
        /// Smallest supported.
        min: u32,
        /// Largest supported.
        max: u32,
    },
    /// A development seed whose secret falls inside the evaluation domain (probability about `2^k / r`).
    #[error("seed {seed} gives a secret inside the size-2^{k} domain; pick another seed")]
    SecretInDomain {
        /// The seed.
        seed: u64,
        /// The requested k.
        k: u32,
    },
    /// This CPU lacks instructions the field arithmetic was built with (see [`crate::check_cpu`]).
    #[error(
        "this CPU lacks {missing}, which poai's x86_64 field arithmetic uses; run on a CPU from 2015 or \
         later (Intel Broadwell, AMD Zen), or build without the `asm` feature of halo2-axiom"
    )]
    UnsupportedCpu {
        /// The missing instruction-set extensions.
        missing: &'static str,
    },
}
