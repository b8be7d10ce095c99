//! Why verification failed.

use thiserror::Error;

/// Why a proof, key or SRS was rejected. The caller adds the file name.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// An artifact is malformed (wrong magic, header, size or encoding).
    #[error("malformed {artifact}: {detail}")]
    Format {
        /// Which artifact (`"verifying key"`, `"proof file"`, `"SRS"`).
        artifact: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// Artifacts that do not belong together (another model, k or instance layout), or a readable field
    /// of the proof file that disagrees with its public instances.
    #[error("mismatch: {0}")]
    Mismatch(String),
    /// The SRS supports fewer rows than the key's circuit.
    #[error("the SRS has k = {have} but the key needs k = {need}")]
    SrsTooSmall {
        /// The SRS's k.
        have: u32,
        /// The key's k.
        need: u32,
    },
    /// The proof does not verify against the key and instances.
    #[error("invalid proof: {0}")]
    InvalidProof(String),
}

pub(crate) fn format_err(artifact: &'static str, detail: impl Into<String>) -> VerifyError {
    VerifyError::Format { artifact, detail: detail.into() }
}
