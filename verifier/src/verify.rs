//! Verifying a proof against a verifying key.

use std::io::Cursor;

use sha2::{Digest, Sha256};

use halo2_base::gates::circuit::builder::BaseCircuitBuilder;
use halo2_base::halo2_proofs::halo2curves::bn256::{multi_miller_loop, Bn256, Fq, Fr, G1Affine, G2Prepared};
use halo2_base::halo2_proofs::halo2curves::group::Group;
use halo2_base::halo2_proofs::halo2curves::pairing::MillerLoopResult;
use halo2_base::halo2_proofs::halo2curves::CurveAffine;
use halo2_base::halo2_proofs::plonk::{verify_proof, Circuit, ConstraintSystem, VerifyingKey};
use halo2_base::halo2_proofs::poly::commitment::ParamsProver;
use halo2_base::halo2_proofs::poly::kzg::commitment::KZGCommitmentScheme;
use halo2_base::halo2_proofs::poly::kzg::multiopen::VerifierSHPLONK;
use halo2_base::halo2_proofs::poly::kzg::strategy::SingleStrategy;
use halo2_base::halo2_proofs::transcript::TranscriptReadBuffer;
use halo2_base::halo2_proofs::SerdeFormat;
use poai_circuits::commit::{fr_from_hex, fr_to_hex};
use poai_circuits::halo2::{ModelCircuit, ParamVisibility};
use poai_circuits::ir::QGraph;
use snark_verifier::loader::native::NativeLoader;
use snark_verifier::system::halo2::transcript::evm::EvmTranscript;

use crate::artifact::{
    decode_key, Claims, KeyHeader, KeyKind, ProofFile, ACCUMULATOR_LIMBS, SUMCHECK_BACKEND,
};
use crate::error::format_err;
use crate::srs::G1_BYTES;
use crate::{hex, VerifierParams, VerifyError};

/// The Fiat-Shamir transcript of every poai proof: Keccak-256 as the EVM computes it, so one proof
/// verifies here and in the generated Solidity verifier.
pub type ProofReader<'a> = EvmTranscript<G1Affine, NativeLoader, &'a [u8], Vec<u8>>;
/// The prover's side of [`ProofReader`].
pub type ProofWriter = EvmTranscript<G1Affine, NativeLoader, Vec<u8>, Vec<u8>>;

/// A parsed verifying-key file: its header (k, model commitment, public-instance layout) and its body,
/// the backend's key.
///
/// The header says how to read a proof's instances (which are inputs, outputs, commitments, their order
/// and scales, the dataset mode), and nothing in the halo2 body re-derives it: a key is trusted as a
/// whole file. [`Self::sha256`] names that whole; [`Self::expect_sha256`] refuses any other file, and
/// `poai audit` recomputes the whole file from the ONNX model.
#[derive(Debug)]
pub struct VerifyingKeyFile {
    /// The checked header.
    pub header: KeyHeader,
    /// The backend's key, as the header's `backend` names it.
    pub body: VerifyingKeyBody,
    /// SHA-256 of the whole file, header included (lower-case hex; what `sha256sum` prints).
    pub sha256: String,
}

/// What a verifying key holds besides its header, per backend.
#[derive(Debug)]
pub enum VerifyingKeyBody {
    /// halo2's verifying key.
    Halo2(Box<VerifyingKey<G1Affine>>),
    /// The sumcheck backend's: the quantised graph, weights included (they are fixed in the key).
    Sumcheck(Box<QGraph>),
}

impl VerifyingKeyFile {
    /// Parses a verifying-key file. A corrupted halo2 body gives an error, never a panic: halo2's reader
    /// does not return errors for every malformed input, so it runs isolated.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VerifyError> {
        let (header, body) = decode_key(bytes, KeyKind::Verifying)?;
        let sha256 = crate::hex::encode(&Sha256::digest(bytes));
        if header.backend == SUMCHECK_BACKEND {
            let graph = crate::sumcheck::read_graph(&header, body)?;
            return Ok(Self { header, body: VerifyingKeyBody::Sumcheck(Box::new(graph)), sha256 });
        }
        let shape = header.shape;
        match &header.onchain {
            None => verifying_key_len::<ModelCircuit>(body, header.k, shape)?,
            Some(onchain) => {
                verifying_key_len::<BaseCircuitBuilder<Fr>>(body, header.k, onchain.base_params(header.k))?
            }
        };
        let vk = match &header.onchain {
            None => parse_isolated("verifying key", || {
                VerifyingKey::<G1Affine>::read::<_, ModelCircuit>(
                    &mut Cursor::new(body),
                    SerdeFormat::RawBytes,
                    shape,
                )
            })?,
            Some(onchain) => {
                let params = onchain.base_params(header.k);
                parse_isolated("verifying key", || {
                    VerifyingKey::<G1Affine>::read::<_, BaseCircuitBuilder<Fr>>(
                        &mut Cursor::new(body),
                        SerdeFormat::RawBytes,
                        params,
                    )
                })?
            }
        };
        // halo2 reads the number of fixed commitments from the bytes and never compares it with the
        // configured circuit's; a mismatch would only show as a panic inside verification.
        if vk.fixed_commitments().len() != vk.cs().num_fixed_columns() {
            return Err(format_err(
                "verifying key",
                format!(
                    "corrupted key: {} fixed commitments for a circuit of {} fixed columns",
                    vk.fixed_commitments().len(),
                    vk.cs().num_fixed_columns()
                ),
            ));
        }
        Ok(Self { header, body: VerifyingKeyBody::Halo2(Box::new(vk)), sha256 })
    }

    /// halo2's verifying key; a sumcheck key is refused with the reason (what needs halo2's: on-chain
    /// compression, Solidity verifiers).
    pub fn halo2(&self) -> Result<&VerifyingKey<G1Affine>, VerifyError> {
        match &self.body {
            VerifyingKeyBody::Halo2(vk) => Ok(vk),
            VerifyingKeyBody::Sumcheck(_) => Err(VerifyError::Mismatch(
                "this is a sumcheck-backend key; on-chain compression and Solidity verifiers work on halo2                  keys only for now: set the model up with `--backend halo2` for the on-chain path"
                    .into(),
            )),
        }
    }

    /// Refuses this key unless its SHA-256 is `expected` (hex, either case, `0x` optional): the check that
    /// the whole file, header included, is the key the caller trusts.
    pub fn expect_sha256(&self, expected: &str) -> Result<(), VerifyError> {
        let expected = expected.trim().trim_start_matches("0x").to_ascii_lowercase();
        if expected == self.sha256 {
            return Ok(());
        }
        Err(VerifyError::Mismatch(format!(
            "the verifying key's SHA-256 is {}, not the pinned {expected}: this is not the key you trust \
             (another circuit, or its header edited); get the key from its owner or recompute it with `poai audit`",
            self.sha256
        )))
    }
}

/// Length of halo2's verifying-key encoding at the start of `body` for circuit `C` configured with
/// `params`, computed before halo2's reader allocates anything: the version byte, `k`, the selector
/// flag, the fixed-commitment count, then one G1 point per fixed and per permuted column, then (if the
/// flag is set) each selector's `2^k` bits. halo2's reader allocates `selectors × 2^k` bytes before it
/// reads a selector bit, so a few-kB key claiming a large `k` would make it allocate gigabytes and abort
/// the process; requiring the bytes to be present bounds what it allocates by the file. A proving key's
/// body starts with this encoding, so its polynomials start at the returned offset.
pub fn verifying_key_len<C: Circuit<Fr>>(body: &[u8], k: u32, params: C::Params) -> Result<usize, VerifyError>
where
    C::Params: std::panic::UnwindSafe,
{
    let (selectors, permuted) = parse_isolated("verifying key", move || {
        let mut cs = ConstraintSystem::<Fr>::default();
        let _ = C::configure_with_params(&mut cs, params);
        Ok((cs.num_selectors(), cs.permutation().get_columns().len()))
    })?;
    let bad = |detail: String| format_err("verifying key", format!("corrupted key: {detail}"));
    let head = body.get(..10).ok_or_else(|| bad("truncated".into()))?;
    let fixed = u32::from_le_bytes([head[6], head[7], head[8], head[9]]) as usize;
    let selector_bytes = match head[5] {
        1 => 1usize.checked_shl(k).and_then(|rows| rows.div_ceil(8).checked_mul(selectors)),
        _ => Some(0),
    };
    let points = fixed.checked_add(permuted).and_then(|n| n.checked_mul(G1_BYTES));
    let need = points.zip(selector_bytes).and_then(|(p, s)| p.checked_add(s)?.checked_add(10));
    match need {
        Some(need) if need <= body.len() => Ok(need),
        _ => Err(bad(format!(
            "{} body bytes cannot hold {fixed} fixed and {permuted} permutation commitments and {selectors} \
             selectors of 2^{k} rows (at least {} bytes); refusing to allocate for it",
            body.len(),
            need.map_or_else(|| "too many".to_string(), |n| n.to_string())
        ))),
    }
}

/// Runs a halo2 key parser, turning a panic inside it into a typed error.
pub fn parse_isolated<T>(
    artifact: &'static str,
    f: impl FnOnce() -> std::io::Result<T> + std::panic::UnwindSafe,
) -> Result<T, VerifyError> {
    match std::panic::catch_unwind(f) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format_err(artifact, format!("corrupted key: {e}"))),
        Err(_) => Err(format_err(artifact, "corrupted key: the halo2 key parser rejected the bytes")),
    }
}

/// What a valid proof shows, read from its public instances.
#[derive(Clone, Debug, PartialEq)]
pub struct Verified {
    /// The model commitment the proof is bound to.
    pub model_commitment: String,
    /// Public inputs and outputs, input and output commitments.
    pub claims: Claims,
    /// A batched on-chain proof's further inferences, in order.
    pub batch_claims: Vec<Claims>,
}

/// Verifies a proof file against a verifying key: the file's format and k, that its readable fields
/// (model commitment, outputs) agree with its public instances, then the proof on exactly those instances.
pub fn verify(
    vk: &VerifyingKeyFile,
    params: &VerifierParams,
    proof: &ProofFile,
) -> Result<Verified, VerifyError> {
    let h = &vk.header;
    let mismatch = |s: String| Err(VerifyError::Mismatch(s));
    if proof.backend != h.backend {
        return mismatch(format!("the proof was made by {}, the key is for {}", proof.backend, h.backend));
    }
    if proof.k != h.k {
        return mismatch(format!("the proof is for k = {}, the key has k = {}", proof.k, h.k));
    }
    let instances: Vec<Fr> = proof
        .instances
        .iter()
        .map(|s| fr_from_hex(s))
        .collect::<Option<_>>()
        .ok_or_else(|| format_err("proof file", "an instance is not a canonical hex field element"))?;
    // The model commitment instance (the first, or the first after an on-chain proof's accumulator)
    // names the model: the key's own with fixed parameters, any of its architecture with hashed ones.
    let named = instances.get(h.model_index()).map(fr_to_hex).unwrap_or_default();
    if proof.model_commitment != named {
        return mismatch(format!(
            "field `model_commitment` {} does not match the public instances ({named})",
            proof.model_commitment
        ));
    }
    if h.visibility.params == ParamVisibility::Fixed && proof.model_commitment != h.model_commitment {
        return mismatch(format!(
            "field `model_commitment` {} differs from the key's {}",
            proof.model_commitment, h.model_commitment
        ));
    }
    let mut all = h.claims(&instances)?;
    let written = std::iter::once(&proof.claims).chain(&proof.batch_claims);
    if all.len() != 1 + proof.batch_claims.len() {
        return mismatch(format!(
            "the proof file describes {} inferences, the key proves {}",
            1 + proof.batch_claims.len(),
            all.len()
        ));
    }
    for (i, (claims, file)) in all.iter().zip(written).enumerate() {
        if let Some(field) = claims.first_difference(file) {
            let which = if i == 0 { String::new() } else { format!(" of inference {}", i + 1) };
            return mismatch(format!("field `{field}`{which} does not match the public instances"));
        }
    }
    let claims = all.remove(0);
    let bytes =
        hex::decode(&proof.proof).ok_or_else(|| format_err("proof file", "field `proof` is not hex"))?;
    match &vk.body {
        VerifyingKeyBody::Halo2(key) => verify_instances(key, params, &bytes, &instances)?,
        VerifyingKeyBody::Sumcheck(graph) => crate::sumcheck::verify(graph, h, params, &bytes, &instances)?,
    }
    if h.onchain.is_some() {
        let limbs = instances.get(..ACCUMULATOR_LIMBS).ok_or_else(|| {
            VerifyError::Mismatch("an on-chain proof needs the accumulator instances".into())
        })?;
        decide_accumulator(limbs, params)?;
    }
    Ok(Verified { model_commitment: proof.model_commitment.clone(), claims, batch_claims: all })
}

/// The last step of verifying an on-chain proof: the accumulator it carries as instances (the model
/// proof's deferred KZG check) must satisfy `e(lhs, G2) = e(rhs, s·G2)`. Limbs must be below 2^88 and
/// coordinates canonical and on the curve, as the EVM's precompiles require.
pub fn decide_accumulator(limbs: &[Fr], params: &VerifierParams) -> Result<(), VerifyError> {
    let coordinate = |three: &[Fr]| -> Option<Fq> {
        let mut bytes = [0u8; 33];
        for (i, limb) in three.iter().enumerate() {
            let repr = limb.to_bytes();
            if repr[11..].iter().any(|&b| b != 0) {
                return None;
            }
            bytes[11 * i..11 * i + 11].copy_from_slice(&repr[..11]);
        }
        if bytes[32] != 0 {
            return None;
        }
        let mut repr = [0u8; 32];
        repr.copy_from_slice(&bytes[..32]);
        Option::from(Fq::from_bytes(&repr))
    };
    let point = |at: usize| -> Option<G1Affine> {
        let x = coordinate(limbs.get(at..at + 3)?)?;
        let y = coordinate(limbs.get(at + 3..at + 6)?)?;
        Option::from(G1Affine::from_xy(x, y))
    };
    let (Some(lhs), Some(rhs)) = (point(0), point(6)) else {
        return Err(VerifyError::InvalidProof("the accumulator instances are not two curve points".into()));
    };
    let g2 = G2Prepared::from(params.g2());
    let minus_s_g2 = G2Prepared::from(-params.s_g2());
    let check = multi_miller_loop(&[(&lhs, &g2), (&rhs, &minus_s_g2)]).final_exponentiation();
    if bool::from(check.is_identity()) {
        Ok(())
    } else {
        Err(VerifyError::InvalidProof("the model proof's accumulator fails the pairing check".into()))
    }
}

/// Verifies raw proof bytes against halo2's verifying key and public instances (one column).
pub fn verify_instances(
    vk: &VerifyingKey<G1Affine>,
    params: &VerifierParams,
    proof: &[u8],
    instances: &[Fr],
) -> Result<(), VerifyError> {
    let params = params.params(vk.get_domain().k())?;
    let mut transcript = ProofReader::init(proof);
    let strategy = SingleStrategy::new(params.verifier_params());
    verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK<'_, Bn256>, _, ProofReader<'_>, _>(
        params.verifier_params(),
        vk,
        strategy,
        &[&[instances]],
        &mut transcript,
    )
    .map(|_| ())
    .map_err(|e| VerifyError::InvalidProof(format!("{e:?}")))
}
