//! Call data for a generated verifier.

use poai_circuits::commit::fr_from_hex;
use poai_verifier::{hex, ProofFile, VerifyError};

/// The call data of a transaction that asks a generated verifier to check `proof`: every public instance
/// as a 32-byte big-endian word, in order, then the proof bytes.
pub fn calldata(proof: &ProofFile) -> Result<Vec<u8>, VerifyError> {
    let bad = |detail: &str| VerifyError::Format { artifact: "proof file", detail: detail.into() };
    let mut out = Vec::with_capacity(32 * proof.instances.len() + proof.proof.len() / 2);
    for s in &proof.instances {
        let x = fr_from_hex(s).ok_or_else(|| bad("an instance is not a canonical hex field element"))?;
        out.extend(x.to_bytes().iter().rev());
    }
    out.extend(hex::decode(&proof.proof).ok_or_else(|| bad("field `proof` is not hex"))?);
    Ok(out)
}
