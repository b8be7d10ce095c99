//! poai-circuits: the quantised op set, its integer reference semantics, and (as they land) the
//! circuits that constrain exactly those semantics.
//!
//! - [`ir`] is the one definition of what poai proves: [`ir::QGraph`] and its bit-exact `eval`.
//! - [`model`] is the compiled-model artifact every step after `compile` reads.
//! - [`commit`] holds the native side of the commitments circuits compute (Poseidon over BN254).

pub mod commit;
pub mod halo2;
pub mod ir;
pub mod model;

pub use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
