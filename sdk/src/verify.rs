//! Verification: a proof against a verifying key (optionally pinned by its SHA-256) and the SRS's
//! verifier parameters.

use poai_verifier::{ProofFile, Verified, VerifierParams, VerifyingKeyFile};

use crate::{Backend, Error};

/// A valid proof's public claims and the key that accepted it.
#[derive(Debug)]
pub struct Verification {
    /// The model commitment and the public claims (of each inference of a batch).
    pub verified: Verified,
    /// SHA-256 of the whole verifying key file.
    pub vk_sha256: String,
    /// Whether the key was checked against a pinned digest (else it was trusted as given).
    pub pinned: bool,
    /// The SRS is a recognised development setup: proofs checked with it can be forged.
    pub insecure_srs: bool,
}

/// Verifies `proof` with `vk` and `params`. With `vk_sha256`, any key file but the one with that
/// digest (hex, as `sha256sum` prints it) is refused first, header edits included.
pub fn verify(
    proof: &ProofFile,
    vk: &VerifyingKeyFile,
    params: &VerifierParams,
    vk_sha256: Option<&str>,
) -> Result<Verification, Error> {
    if let Some(pinned) = vk_sha256 {
        vk.expect_sha256(pinned).map_err(Error::KeyRefused)?;
    }
    // The verifier follows the key's backend; naming an unknown one is refused here first.
    Backend::of_artifact("the verifying key", &vk.header.backend)?;
    let verified = poai_verifier::verify(vk, params, proof)?;
    Ok(Verification {
        verified,
        vk_sha256: vk.sha256.clone(),
        pinned: vk_sha256.is_some(),
        insecure_srs: params.insecure_dev_setup(),
    })
}
