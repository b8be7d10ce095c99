//! Key generation and proving for [`ModelCircuit`] with KZG (SHPLONK) over BN254 and the EVM
//! (Keccak-256) transcript.
//!
//! Concrete functions, so the halo2 generics are instantiated once here and every caller links against
//! them instead of re-monomorphising (test binaries link much faster). Verification is
//! `poai_verifier::verify_instances`.

use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_base::halo2_proofs::plonk::{create_proof, keygen_pk, keygen_vk_custom, ProvingKey, VerifyingKey};
use halo2_base::halo2_proofs::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
use halo2_base::halo2_proofs::poly::kzg::multiopen::ProverSHPLONK;
use halo2_base::halo2_proofs::transcript::{EncodedChallenge, TranscriptWrite, TranscriptWriterBuffer};
use poai_circuits::halo2::ModelCircuit;
use poai_verifier::ProofWriter;
use rand::rngs::OsRng;

use crate::ProverError;

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
