//! Key generation, key serialisation and proving for [`ModelCircuit`] with KZG (SHPLONK) over BN254 and the EVM
//! (Keccak-256) transcript.
//!
//! Concrete functions, so the halo2 generics are instantiated once here and every caller links against
//! them instead of re-monomorphising (test binaries link much faster). Verification is
//! `poai_verifier::verify_instances`.

use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_base::halo2_proofs::plonk::{
    create_proof, keygen_pk, keygen_vk_custom, Circuit, ProvingKey, VerifyingKey,
};
use halo2_base::halo2_proofs::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
use halo2_base::halo2_proofs::poly::kzg::multiopen::ProverSHPLONK;
use halo2_base::halo2_proofs::transcript::{EncodedChallenge, TranscriptWrite, TranscriptWriterBuffer};
use halo2_base::halo2_proofs::SerdeFormat;
use poai_circuits::halo2::ModelCircuit;
use poai_verifier::ProofWriter;
use rand::rngs::OsRng;

use crate::ProverError;

/// A proving key file: its header and halo2's key.
pub type ProvingKeyFile = (poai_verifier::KeyHeader, ProvingKey<G1Affine>);

/// Maps a halo2 error to [`ProverError::Plonk`], naming the stage that failed.
pub(crate) fn plonk(stage: &'static str) -> impl Fn(halo2_base::halo2_proofs::plonk::Error) -> ProverError {
    move |e| ProverError::Plonk { stage, detail: format!("{e:?}") }
}

/// Generates the proving key (which holds the verifying key) for a circuit's structure.
pub fn keygen(
    params: &ParamsKZG<Bn256>,
    circuit: &ModelCircuit,
) -> Result<ProvingKey<G1Affine>, ProverError> {
    crate::check_cpu()?;
    let vk = keygen_verifying(params, circuit)?;
    keygen_pk(params, vk, circuit).map_err(plonk("proving key generation"))
}

/// Generates only the verifying key (what an auditor recomputes to check a key file).
pub fn keygen_verifying(
    params: &ParamsKZG<Bn256>,
    circuit: &ModelCircuit,
) -> Result<VerifyingKey<G1Affine>, ProverError> {
    // Selector compression folds the gate selectors into few fixed columns (within the degree bound).
    keygen_vk_custom(params, circuit, true).map_err(plonk("verifying key generation"))
}

/// Proves that the circuit's witness satisfies it, with its own public instances.
pub fn prove(
    params: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    circuit: &ModelCircuit,
) -> Result<Vec<u8>, ProverError> {
    crate::check_cpu()?;
    let mut transcript = ProofWriter::init(Vec::new());
    prove_into(params, pk, circuit, &mut transcript, "proving")?;
    Ok(transcript.finalize())
}

/// Writes a proof of `circuit` with its own public instances into `transcript`: the EVM transcript for
/// [`prove`], snark-verifier's Poseidon transcript for a proof the on-chain circuit verifies.
pub(crate) fn prove_into<E, T>(
    params: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    circuit: &ModelCircuit,
    transcript: &mut T,
    stage: &'static str,
) -> Result<(), ProverError>
where
    E: EncodedChallenge<G1Affine>,
    T: TranscriptWrite<G1Affine, E>,
{
    let instances = circuit.instances();
    let columns: Vec<&[Fr]> = instances.iter().map(Vec::as_slice).collect();
    create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, E, _, T, _>(
        params,
        pk,
        std::slice::from_ref(circuit),
        &[&columns],
        OsRng,
        transcript,
    )
    .map_err(plonk(stage))
}

/// The bodies of a proving key file and of its verifying key file (halo2's raw serialisation).
pub(crate) fn key_bodies(pk: &ProvingKey<G1Affine>) -> Result<(Vec<u8>, Vec<u8>), ProverError> {
    let mut pk_body = Vec::new();
    pk.write(&mut pk_body, SerdeFormat::RawBytes).map_err(|e| ProverError::Circuit(e.to_string()))?;
    let mut vk_body = Vec::new();
    pk.get_vk()
        .write(&mut vk_body, SerdeFormat::RawBytes)
        .map_err(|e| ProverError::Circuit(e.to_string()))?;
    Ok((pk_body, vk_body))
}

/// Bounds every size in a proving key's body by the bytes that follow it, before halo2's reader
/// allocates: the verifying key it starts with ([`poai_verifier::verifying_key_len`]), then each
/// polynomial's length prefix (halo2 reserves `length × 32` bytes from a 4-byte prefix, so a short file
/// could make it reserve 128 GiB). Layout after the verifying key: three polynomials, then four vectors
/// of polynomials (fixed values, fixed polynomials, permutation values and polynomials).
pub(crate) fn check_pk_sizes<C: Circuit<Fr>>(
    body: &[u8],
    k: u32,
    params: C::Params,
) -> Result<(), ProverError>
where
    C::Params: std::panic::UnwindSafe,
{
    let bad = |detail: String| ProverError::Circuit(format!("proving key: corrupted key: {detail}"));
    let mut at = poai_verifier::verifying_key_len::<C>(body, k, params)?;
    let word = |at: &mut usize| -> Result<usize, ProverError> {
        let bytes = body.get(*at..*at + 4).ok_or_else(|| bad("truncated".into()))?;
        *at += 4;
        Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize)
    };
    let polynomial = |at: &mut usize| -> Result<(), ProverError> {
        let len = word(at)?;
        let bytes = len.checked_mul(32).filter(|&n| n <= body.len() - *at);
        *at += bytes
            .ok_or_else(|| bad(format!("a polynomial of {len} values in {} bytes", body.len() - *at)))?;
        Ok(())
    };
    for _ in 0..3 {
        polynomial(&mut at)?;
    }
    for _ in 0..4 {
        let count = word(&mut at)?;
        if count > (body.len() - at) / 4 {
            return Err(bad(format!("{count} polynomials in {} bytes", body.len() - at)));
        }
        for _ in 0..count {
            polynomial(&mut at)?;
        }
    }
    if at != body.len() {
        return Err(bad(format!("{} trailing bytes", body.len() - at)));
    }
    Ok(())
}
