//! poai-verifier: versioned proof, verifying-key and public-instance types, and
//! `verify(&vk, &proof, &instances) -> Result<(), VerifyError>`.
//!
//! Not built yet: reserved by the design's crate map and filled in by the halo2 end-to-end issue. It must
//! stay small: no prover, ONNX or rayon dependency, no file paths, no randomness.

#![forbid(unsafe_code)]
