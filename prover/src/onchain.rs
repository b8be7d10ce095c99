//! On-chain proofs: a model proof compressed into a narrow circuit whose Solidity verifier fits EIP-170.
//!
//! A model circuit is wide (a dozen advice columns, two lookups, up to twenty fixed weight columns), so its
//! direct EVM verifier performs ~75 elliptic-curve multiplications and its code is 38–65 KB: it cannot be
//! deployed. For on-chain use the model proof is made with a Poseidon transcript and verified inside
//! snark-verifier's aggregation circuit (halo2-base: a handful of columns), which defers the model proof's
//! final pairing as a KZG accumulator and exposes the model proof's public instances after it. Only this
//! outer proof goes on chain. The model circuit's verifying key is a constant of the outer circuit, so an
//! on-chain key accepts proofs of exactly one model circuit.
//!
//! A key may compress a batch of model proofs at once (`batch` inferences, their instances one after the
//! other behind one accumulator): the on-chain verification then costs a little more than for one proof
//! but is shared by the whole batch, which is how a provider brings the gas per task down.

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use halo2_base::gates::circuit::CircuitBuilderStage;
use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_base::halo2_proofs::plonk::{create_proof, keygen_pk, keygen_vk, ProvingKey};
use halo2_base::halo2_proofs::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
use halo2_base::halo2_proofs::poly::kzg::multiopen::ProverSHPLONK;
use halo2_base::halo2_proofs::transcript::TranscriptWriterBuffer;
use halo2_base::halo2_proofs::SerdeFormat;
use poai_circuits::commit::fr_to_hex;
use poai_circuits::halo2::ModelCircuit;
use poai_verifier::artifact::{decode_key, encode_key};
use poai_verifier::{
    decide_accumulator, verify_instances, KeyHeader, KeyKind, OnchainCircuit, ProofWriter, PublicValue,
    VerifyingKeyFile,
};
use rand::rngs::OsRng;
use snark_verifier_sdk::halo2::aggregation::{
    AggregationCircuit, AggregationConfigParams, VerifierUniversality,
};
use snark_verifier_sdk::halo2::{gen_dummy_snark_from_protocol, PoseidonTranscript, POSEIDON_SPEC};
use snark_verifier_sdk::snark_verifier::system::halo2::{compile, Config};
use snark_verifier_sdk::{CircuitExt, NativeLoader, Snark, SHPLONK};

use crate::proof::{key_bodies, plonk, prove_into, ProvingKeyFile};
use crate::{ProverError, Srs};

/// Default size of the compression circuit: at 2^21 rows it needs four advice columns for one model
/// proof, which keeps its verifier deployable (~20 KB) at a few minutes of proving on two cores.
pub const DEFAULT_ONCHAIN_K: u32 = 21;
/// Rows the halo2-base builder keeps free at the end of the circuit (blinding).
const RESERVED_ROWS: usize = 10;
/// Most model proofs one on-chain proof compresses (the reward contract's loops are bounded by it too).
pub const MAX_ONCHAIN_BATCH: usize = 16;

/// An on-chain proving key: the compression circuit's halo2 key and the header that configures it.
pub struct OnchainProvingKey {
    /// Header: the model circuit's public layout behind the accumulator, and the compression circuit.
    pub header: KeyHeader,
    pk: ProvingKey<G1Affine>,
}

/// Runs snark-verifier code that reports failure by panicking, as a typed error.
fn isolated<T>(stage: &'static str, f: impl FnOnce() -> T) -> Result<T, ProverError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|panic| {
        let detail = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
            .unwrap_or_else(|| "snark-verifier rejected the input".into());
        ProverError::Plonk { stage, detail }
    })
}

fn config_of(c: &OnchainCircuit, k: u32) -> AggregationConfigParams {
    AggregationConfigParams {
        degree: k,
        num_advice: c.num_advice,
        num_lookup_advice: c.num_lookup_advice,
        num_fixed: c.num_fixed,
        lookup_bits: c.lookup_bits,
    }
}

/// The snark-verifier description of the model circuit (what the compression circuit verifies).
fn model_protocol(
    params: &ParamsKZG<Bn256>,
    vk: &halo2_base::halo2_proofs::plonk::VerifyingKey<G1Affine>,
    instances: usize,
) -> snark_verifier_sdk::snark_verifier::verifier::plonk::PlonkProtocol<G1Affine> {
    compile(params, vk, Config::kzg().with_num_instance(vec![instances]))
}

/// Key generation for the compression circuit of a model verifying key, at size `k`, verifying `batch`
/// model proofs per on-chain proof: on-chain proving and verifying key files (bytes). The SRS must reach
/// `k` (and the model's k).
pub fn setup_onchain(
    model_vk: &VerifyingKeyFile,
    srs: &Srs,
    k: u32,
    batch: usize,
) -> Result<(Vec<u8>, Vec<u8>), ProverError> {
    let h = &model_vk.header;
    if h.onchain.is_some() {
        return Err(ProverError::Mismatch("the verifying key is already an on-chain key".into()));
    }
    let model_key = model_vk.halo2()?;
    if !(1..=MAX_ONCHAIN_BATCH).contains(&batch) {
        return Err(ProverError::Mismatch(format!(
            "an on-chain proof compresses 1 to {MAX_ONCHAIN_BATCH} model proofs, not {batch}"
        )));
    }
    if k <= h.k {
        return Err(ProverError::Mismatch(format!(
            "the compression circuit (k = {k}) must be larger than the model circuit (k = {})",
            h.k
        )));
    }
    let model_params = srs.for_circuit(h.k)?;
    let params = srs.for_circuit(k)?;
    let protocol = model_protocol(&model_params, model_key, h.instance_count());
    let lookup_bits = k as usize - 1;
    let (mut circuit, config) = isolated("compression circuit", || {
        let mut circuit = AggregationCircuit::new::<SHPLONK>(
            CircuitBuilderStage::Keygen,
            AggregationConfigParams { degree: k, lookup_bits, ..Default::default() },
            &params,
            vec![gen_dummy_snark_from_protocol::<SHPLONK>(protocol); batch],
            VerifierUniversality::None,
        );
        circuit.expose_previous_instances(false);
        let config = circuit.calculate_params(Some(RESERVED_ROWS));
        (circuit, config)
    })?;
    let vk = keygen_vk(&params, &circuit).map_err(plonk("compression verifying key generation"))?;
    let pk = keygen_pk(&params, vk, &circuit).map_err(plonk("compression proving key generation"))?;
    let break_points = circuit.break_points();
    circuit.set_break_points(Vec::new());
    drop(circuit);

    let onchain = OnchainCircuit {
        num_advice: config.num_advice,
        num_lookup_advice: config.num_lookup_advice,
        num_fixed: config.num_fixed,
        lookup_bits: config.lookup_bits,
        model_k: h.k,
        model_vk_digest: fr_to_hex(&model_key.transcript_repr()),
        batch,
        break_points: Vec::new(),
    };
    let mut public = vec![PublicValue::KzgAccumulator];
    for _ in 0..batch {
        public.extend(h.public.iter().cloned());
    }
    let header = |kind: KeyKind, onchain: OnchainCircuit, body: &[u8]| KeyHeader {
        format: kind.format().into(),
        k,
        public: public.clone(),
        onchain: Some(onchain),
        body_len: body.len() as u64,
        ..h.clone()
    };
    let (pk_body, vk_body) = key_bodies(&pk)?;
    // The key in memory is as large as its serialisation; the file is all that is kept.
    drop(pk);
    let with_break_points = OnchainCircuit { break_points, ..onchain.clone() };
    Ok((
        encode_key(&header(KeyKind::Proving, with_break_points, &pk_body), pk_body)?,
        encode_key(&header(KeyKind::Verifying, onchain, &vk_body), vk_body)?,
    ))
}

/// Reads an on-chain proving key file.
pub fn read_onchain_pk(bytes: &[u8]) -> Result<OnchainProvingKey, ProverError> {
    let (header, body) = decode_key(bytes, KeyKind::Proving)?;
    let onchain = header.onchain.clone().ok_or_else(|| {
        ProverError::Mismatch(
            "not an on-chain proving key (made by `poai setup`, not `poai setup-onchain`)".into(),
        )
    })?;
    if onchain.break_points.is_empty() {
        return Err(ProverError::Mismatch("the on-chain proving key has no witness break points".into()));
    }
    let config = config_of(&onchain, header.k);
    crate::proof::check_pk_sizes::<AggregationCircuit>(body, header.k, config)?;
    let pk = poai_verifier::parse_isolated("on-chain proving key", || {
        ProvingKey::<G1Affine>::read::<_, AggregationCircuit>(
            &mut Cursor::new(body),
            SerdeFormat::RawBytes,
            config,
        )
    })?;
    Ok(OnchainProvingKey { header, pk })
}

/// Proves each model circuit of `circuits` (as many as the on-chain key's batch) with the model key, then
/// their compression with the on-chain key; returns the on-chain proof (EVM transcript) and its public
/// instances (accumulator, then each model proof's), checked against the on-chain key before they are
/// returned.
pub fn prove_onchain(
    srs: &Srs,
    onchain: &OnchainProvingKey,
    model_pk: &ProvingKeyFile,
    circuits: &[ModelCircuit],
) -> Result<(Vec<u8>, Vec<Fr>), ProverError> {
    let (h, model_pk) = model_pk;
    let Some(oc) = &onchain.header.onchain else {
        return Err(ProverError::Mismatch("not an on-chain proving key".into()));
    };
    if circuits.len() != oc.batch {
        return Err(ProverError::Mismatch(format!(
            "the on-chain key compresses batches of {} model proofs, {} inferences were given",
            oc.batch,
            circuits.len()
        )));
    }
    let digest = fr_to_hex(&model_pk.get_vk().transcript_repr());
    if oc.model_k != h.k || oc.model_vk_digest != digest {
        return Err(ProverError::Mismatch(format!(
            "the on-chain key compresses proofs of model circuit {} (k = {}), the model proving key is for {} \
             (k = {}): run `poai setup-onchain` on this model's verifying key",
            oc.model_vk_digest, oc.model_k, digest, h.k
        )));
    }
    let model_params = srs.for_circuit(h.k)?;
    let params = srs.for_circuit(onchain.header.k)?;
    let protocol = model_protocol(&model_params, model_pk.get_vk(), h.instance_count());
    let snarks = circuits
        .iter()
        .map(|c| {
            let proof = prove_with_poseidon(&model_params, model_pk, c)?;
            Ok(Snark::new(protocol.clone(), vec![c.layout.instance.clone()], proof))
        })
        .collect::<Result<Vec<_>, ProverError>>()?;
    let config = config_of(oc, onchain.header.k);
    let circuit = isolated("compression witness", || {
        let mut circuit = AggregationCircuit::new::<SHPLONK>(
            CircuitBuilderStage::Prover,
            config,
            &params,
            snarks,
            VerifierUniversality::None,
        )
        .use_break_points(oc.break_points.clone());
        circuit.expose_previous_instances(false);
        circuit
    })?;
    let instances = circuit.instances().concat();
    let mut transcript = ProofWriter::init(Vec::new());
    create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _, _, ProofWriter, _>(
        &params,
        &onchain.pk,
        &[circuit],
        &[&[&instances]],
        OsRng,
        &mut transcript,
    )
    .map_err(plonk("compression proving"))?;
    let proof = transcript.finalize();
    let verifier_params = srs.verifier_params()?;
    verify_instances(onchain.pk.get_vk(), &verifier_params, &proof, &instances)
        .and_then(|()| decide_accumulator(&instances[..poai_verifier::ACCUMULATOR_LIMBS], &verifier_params))
        .map_err(|e| ProverError::Mismatch(format!("the on-chain proof does not verify: {e}")))?;
    Ok((proof, instances))
}

/// A model proof with snark-verifier's Poseidon transcript (what the compression circuit reads).
fn prove_with_poseidon(
    params: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    c: &ModelCircuit,
) -> Result<Vec<u8>, ProverError> {
    let mut transcript =
        PoseidonTranscript::<NativeLoader, Vec<u8>>::from_spec(vec![], POSEIDON_SPEC.clone());
    prove_into(params, pk, c, &mut transcript, "model proving (Poseidon transcript)")?;
    Ok(transcript.finalize())
}
