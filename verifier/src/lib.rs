//! poai-verifier: the versioned artifact types (SRS, key and proof files, the public-instance layout) and
//! [`verify`], which checks a proof file against a verifying key: `Result<Verified, VerifyError>`.
//!
//! It stays small on purpose: no prover, ONNX or candle dependency, no file paths (callers pass bytes) and
//! no randomness. Verification needs only three points of the SRS (`G1`, `G2`, `s·G2`), read by
//! [`VerifierParams`] without touching the other powers.

#![forbid(unsafe_code)]

pub mod artifact;
mod error;
pub mod hex;
pub mod srs;
mod verify;

pub use artifact::{
    Claims, KeyHeader, KeyKind, OnchainCircuit, ProofFile, Provider, PublicValue, ACCUMULATOR_LIMBS, BACKEND,
    CURVE, KEY_MAGIC,
};
pub use error::VerifyError;
pub use srs::{SrsHeader, VerifierParams, SRS_MAGIC};
pub use verify::{
    decide_accumulator, parse_isolated, verify, verify_instances, verifying_key_len, ProofReader,
    ProofWriter, Verified, VerifyingKeyFile,
};
