//! poai-prover: SRS handling, key generation, witness generation (from `poai_circuits::ir` evaluation)
//! and proving.
//!
//! Not built yet: this crate is reserved by the design's crate map and is filled in by the halo2
//! end-to-end issue. It deliberately exports nothing, so nothing can mistake it for a working prover.
