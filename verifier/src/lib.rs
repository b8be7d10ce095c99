//! poai-verifier: the versioned artifact types (SRS, key and proof files, the public-instance layout) and
//! [`verify`], which checks a proof file against a verifying key: `Result<Verified, VerifyError>`.
//!
//! Artifacts name their proving system (`backend`): halo2 ([`BACKEND`]) or the sumcheck backend
//! ([`SUMCHECK_BACKEND`], checked by [`sumcheck`] through `poai-sumcheck`'s verifier), and [`verify`]
//! follows the key's. It stays small on purpose: no ONNX or candle dependency, no file paths (callers
//! pass bytes) and no randomness. (`poai-sumcheck` still ships its prover beside its verifier; splitting
//! it behind a feature is left for later.) Verification needs only three points of the SRS (`G1`, `G2`,
//! `s·G2`), read by [`VerifierParams`] without touching the other powers.

#![forbid(unsafe_code)]

pub mod artifact;
mod error;
pub mod hex;
pub mod srs;
pub mod sumcheck;
mod verify;

pub use artifact::{
    Claims, KeyHeader, KeyKind, OnchainCircuit, ProofFile, Provider, PublicValue, ACCUMULATOR_LIMBS, BACKEND,
    BACKENDS, CURVE, KEY_MAGIC, SUMCHECK_BACKEND,
};
pub use error::VerifyError;
pub use srs::{SrsHeader, VerifierParams, SRS_MAGIC};
pub use verify::{
    decide_accumulator, parse_isolated, verify, verify_instances, verifying_key_len, ProofReader,
    ProofWriter, Verified, VerifyingKeyBody, VerifyingKeyFile,
};
