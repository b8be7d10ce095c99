//! poai-prover: SRS handling, key generation, witness generation (from `poai_circuits::ir` evaluation)
//! and proving.
//!
//! Built so far: [`srs`] (development SRS generation, loading user-supplied KZG parameters with full
//! validation, truncation to a circuit's size), [`proof`] (key generation and proving for
//! `poai_circuits::halo2::ModelCircuit`), [`artifacts`] (setup and proving for a compiled model, writing
//! the versioned files `poai-verifier` defines and checks), [`dataset`] (committed datasets: JSON-lines
//! rows, their Merkle tree and the dataset file; proofs of membership and of accuracy).
//! [`sumcheck`] makes the same key and proof files on the sumcheck backend (`poai-sumcheck`).

pub mod artifacts;
mod cpu;
pub mod dataset;
mod dev_srs;
mod error;
pub mod onchain;
pub mod proof;
pub mod srs;
pub mod sumcheck;

use std::io::Write;
use std::path::Path;

pub use artifacts::{
    circuit_k, circuit_rows, inference_circuit, prove_batch, prove_model, prove_rows, read_pk, setup,
    verifying_key_file, CircuitKind, ProofTarget,
};
pub use cpu::check_cpu;
pub use dataset::DatasetFile;
pub use error::ProverError;
pub use onchain::{read_onchain_pk, setup_onchain, OnchainProvingKey, DEFAULT_ONCHAIN_K, MAX_ONCHAIN_BATCH};
pub use proof::{keygen, keygen_verifying, prove, ProvingKeyFile};
pub use srs::{Srs, SrsHeader};

/// Writes a file atomically: a temporary file beside it, synced, then renamed over the target; on failure
/// the temporary file is removed and the target is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ProverError> {
    let io = |source: std::io::Error| ProverError::Io { path: path.to_path_buf(), source };
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| io(std::io::Error::other("not a file path")))?;
    let tmp = dir.join(format!(".{}.tmp{}", name.to_string_lossy(), std::process::id()));
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

fn circuit_err(e: impl std::fmt::Display) -> ProverError {
    ProverError::Circuit(e.to_string())
}
