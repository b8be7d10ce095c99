//! poai-sumcheck: the core of poai's sumcheck backend (issue #25). Multilinear polynomials over BN254's
//! scalar field ([`Mle`]), a Poseidon Fiat-Shamir transcript ([`PoseidonTranscript`]), the sumcheck
//! protocol for products of multilinear polynomials ([`sumcheck`]) and Thaler's matrix-product reduction
//! ([`matmul`]), with the prover's hot loops behind [`SumcheckBackend`] (rayon now, a GPU later).
//!
//! The backend proves the same quantised graph `poai_circuits::ir::eval` defines: [`model`] proves and
//! verifies whole graphs (one backward pass of per-op claim reductions over one packed commitment, see
//! `docs/sumcheck-backend.md`), built from the protocol pieces at the crate root. It has no halo2 circuit
//! code and no I/O.
//! Nothing here is zero-knowledge yet: a bare sumcheck reveals evaluations of the polynomials it runs on,
//! so the backend must refuse private visibilities until masking is in (issue #25).

mod backend;
pub mod claims;
pub mod dense;
pub mod encoding;
mod error;
pub mod hyperkzg;
pub mod logup;
pub mod matmul;
mod mle;
pub mod model;
pub mod sumcheck;
mod transcript;
pub mod zerocheck;

pub use backend::{CpuBackend, SumcheckBackend};
pub use error::SumcheckError;
pub use mle::{eq_at, eq_evals, prefix_indicator_at, signed, Mle};
pub use transcript::{PoseidonTranscript, Transcript, TRANSCRIPT_DOMAIN};
