//! Call data for a generated verifier.

use poai_circuits::commit::fr_from_hex;
use poai_verifier::{hex, ProofFile, VerifyError};

/// The EVM word (32 bytes, big-endian) of a field element written as poai's hex (`0x` + 64 digits);
/// `None` for anything else. How instances, model and input commitments go on chain.
pub fn word(hex_fr: &str) -> Option<[u8; 32]> {
    let mut w = fr_from_hex(hex_fr)?.to_bytes();
    w.reverse();
    Some(w)
}

/// The call data of a transaction that asks a generated verifier to check `proof`: every public instance
/// as a 32-byte big-endian word, in order, then the proof bytes.
pub fn calldata(proof: &ProofFile) -> Result<Vec<u8>, VerifyError> {
    let bad = |detail: &str| VerifyError::Format { artifact: "proof file", detail: detail.into() };
    let mut out = Vec::with_capacity(32 * proof.instances.len() + proof.proof.len() / 2);
    for s in &proof.instances {
        out.extend(word(s).ok_or_else(|| bad("an instance is not a canonical hex field element"))?);
    }
    out.extend(hex::decode(&proof.proof).ok_or_else(|| bad("field `proof` is not hex"))?);
    Ok(out)
}
