//! Versioned, self-describing key and proof artifacts, and the model-level setup / prove / verify steps.
//!
//! Key files: `POAIKEY1`, a 4-byte little-endian header length, a JSON [`KeyHeader`], then halo2's key
//! bytes. The header carries the exact body length, `k`, the model commitment and the output scales; all
//! are checked before halo2 parses anything, and the parse itself is isolated so that a corrupted key gives
//! an error, never an abort. Proof files are JSON ([`ProofFile`]) a person can read: the public instances
//! as hex field elements, the dequantised outputs, the commitment and the proof bytes. Verification checks
//! the instances *in the file*, and that the readable outputs and commitment agree with them.

use std::io::Cursor;
use std::path::Path;

use halo2_base::halo2_proofs::halo2curves::bn256::{Fr, G1Affine};
use halo2_base::halo2_proofs::plonk::{ProvingKey, VerifyingKey};
use halo2_base::halo2_proofs::SerdeFormat;
use poai_circuits::commit::{fr_from_hex, fr_to_hex};
use poai_circuits::halo2::{build_layout_min_k, ModelCircuit};
use poai_circuits::ir::fixed::dequantize;
use poai_circuits::ir::Tensor;
use poai_circuits::model::CompiledModel;
use serde::{Deserialize, Serialize};

use crate::{check_proof, keygen, prove, ProverError, Srs};

/// Magic bytes opening a key file.
pub const KEY_MAGIC: &[u8; 8] = b"POAIKEY1";
/// Proving-system label stored in every artifact.
pub const BACKEND: &str = "halo2-kzg-shplonk-blake2b";

/// Header of a proving or verifying key file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyHeader {
    /// `"poai-proving-key"` or `"poai-verifying-key"`.
    pub format: String,
    /// Format version.
    pub version: u32,
    /// Proving system ([`BACKEND`]).
    pub backend: String,
    /// Curve.
    pub curve: String,
    /// Circuit size.
    pub k: u32,
    /// Commitment of the model the key was generated for.
    pub model_commitment: String,
    /// Scale of each model output (to read instances as real numbers).
    pub output_scales: Vec<i32>,
    /// Number of elements of each model output.
    pub output_lens: Vec<usize>,
    /// Exact length of the halo2 key bytes that follow.
    pub body_len: u64,
}

/// A proof file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProofFile {
    /// Always `"poai-proof"`.
    pub format: String,
    /// Format version.
    pub version: u32,
    /// Proving system.
    pub backend: String,
    /// Curve.
    pub curve: String,
    /// Circuit size.
    pub k: u32,
    /// Model commitment (also `instances[0]`).
    pub model_commitment: String,
    /// Public instances, big-endian hex field elements: the model commitment, then every output element.
    pub instances: Vec<String>,
    /// The outputs as real numbers (read from the instances with the key's output scales).
    pub outputs: Vec<Vec<f32>>,
    /// The proof, hex.
    pub proof: String,
}

fn bad(path: &Path, detail: impl Into<String>) -> ProverError {
    ProverError::Artifact { path: path.to_path_buf(), detail: detail.into() }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// The circuit for `model` on zero inputs: the structure keys are generated from (it never depends on the
/// witness).
fn structure(model: &CompiledModel) -> Result<ModelCircuit, ProverError> {
    let zeros: Vec<Tensor> = model
        .graph
        .inputs
        .iter()
        .map(|&id| model.graph.value(id).map(|v| Tensor::zeros(v.shape.clone())))
        .collect::<Result<_, _>>()
        .map_err(crate::circuit_err)?;
    circuit_for(model, &zeros)
}

fn circuit_for(model: &CompiledModel, inputs: &[Tensor]) -> Result<ModelCircuit, ProverError> {
    let trace = model.graph.eval_trace(inputs).map_err(crate::circuit_err)?;
    let commitment = fr_from_hex(&model.model_commitment).ok_or_else(|| {
        ProverError::Circuit("the compiled model's commitment is not a field element".into())
    })?;
    Ok(ModelCircuit::new(build_layout_min_k(&model.graph, &trace, commitment).map_err(crate::circuit_err)?))
}

/// Circuit size of a compiled model (the SRS must have at least this `k`).
pub fn circuit_k(model: &CompiledModel) -> Result<u32, ProverError> {
    Ok(structure(model)?.layout.k())
}

fn header(model: &CompiledModel, format: &str, k: u32, body_len: usize) -> Result<KeyHeader, ProverError> {
    let mut output_scales = Vec::new();
    let mut output_lens = Vec::new();
    for &o in &model.graph.outputs {
        let v = model.graph.value(o).map_err(crate::circuit_err)?;
        output_scales.push(v.format.scale);
        output_lens.push(v.shape.iter().product());
    }
    Ok(KeyHeader {
        format: format.into(),
        version: 1,
        backend: BACKEND.into(),
        curve: "bn254".into(),
        k,
        model_commitment: model.model_commitment.clone(),
        output_scales,
        output_lens,
        body_len: body_len as u64,
    })
}

fn key_file(h: &KeyHeader, body: &[u8]) -> Result<Vec<u8>, ProverError> {
    let json = serde_json::to_vec(h).map_err(|e| ProverError::Circuit(e.to_string()))?;
    let mut out = Vec::with_capacity(12 + json.len() + body.len());
    out.extend_from_slice(KEY_MAGIC);
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(body);
    Ok(out)
}

fn split_key<'a>(bytes: &'a [u8], path: &Path, format: &str) -> Result<(KeyHeader, &'a [u8]), ProverError> {
    if !bytes.starts_with(KEY_MAGIC) {
        return Err(bad(path, "not a poai key file (missing POAIKEY1 magic)"));
    }
    let len = bytes.get(8..12).and_then(|b| <[u8; 4]>::try_from(b).ok()).map(u32::from_le_bytes);
    let len = len.ok_or_else(|| bad(path, "truncated header"))? as usize;
    let json = bytes.get(12..12 + len).ok_or_else(|| bad(path, "truncated header"))?;
    let h: KeyHeader = serde_json::from_slice(json).map_err(|e| bad(path, format!("header: {e}")))?;
    if h.format != format || h.version != 1 || h.backend != BACKEND || h.curve != "bn254" {
        return Err(bad(
            path,
            format!(
                "expected a version-1 {format} for {BACKEND} on bn254, found {} v{} {}",
                h.format, h.version, h.backend
            ),
        ));
    }
    if !(crate::srs::MIN_K..=crate::srs::MAX_K).contains(&h.k) {
        return Err(bad(path, format!("k = {} out of range", h.k)));
    }
    let body = &bytes[12 + len..];
    if body.len() as u64 != h.body_len {
        return Err(bad(path, format!("key body is {} bytes, header says {}", body.len(), h.body_len)));
    }
    // halo2's own encoding starts with a version byte and k; check them before it allocates anything.
    if body.first() != Some(&2)
        || body.get(1..5).and_then(|b| <[u8; 4]>::try_from(b).ok()).map(u32::from_le_bytes) != Some(h.k)
    {
        return Err(bad(path, "key body does not start with the expected halo2 version and k"));
    }
    Ok((h, body))
}

/// Runs a halo2 key parser, turning a panic inside it (its readers do not all return errors) into a typed
/// error.
fn parse_isolated<T>(
    path: &Path,
    f: impl FnOnce() -> std::io::Result<T> + std::panic::UnwindSafe,
) -> Result<T, ProverError> {
    match std::panic::catch_unwind(f) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(bad(path, format!("corrupted key: {e}"))),
        Err(_) => Err(bad(path, "corrupted key: the halo2 key parser rejected the bytes")),
    }
}

/// Key generation for a compiled model: proving-key and verifying-key files (bytes).
pub fn setup(model: &CompiledModel, srs: &Srs) -> Result<(Vec<u8>, Vec<u8>), ProverError> {
    let c = structure(model)?;
    let k = c.layout.k();
    let params = srs.for_circuit(k)?;
    let pk = keygen(&params, &c)?;
    let mut pk_body = Vec::new();
    pk.write(&mut pk_body, SerdeFormat::RawBytes).map_err(|e| ProverError::Circuit(e.to_string()))?;
    let mut vk_body = Vec::new();
    pk.get_vk()
        .write(&mut vk_body, SerdeFormat::RawBytes)
        .map_err(|e| ProverError::Circuit(e.to_string()))?;
    Ok((
        key_file(&header(model, "poai-proving-key", k, pk_body.len())?, &pk_body)?,
        key_file(&header(model, "poai-verifying-key", k, vk_body.len())?, &vk_body)?,
    ))
}

/// Reads a proving key file.
pub fn read_pk(bytes: &[u8], path: &Path) -> Result<(KeyHeader, ProvingKey<G1Affine>), ProverError> {
    let (h, body) = split_key(bytes, path, "poai-proving-key")?;
    let pk = parse_isolated(path, || {
        ProvingKey::<G1Affine>::read::<_, ModelCircuit>(&mut Cursor::new(body), SerdeFormat::RawBytes, ())
    })?;
    Ok((h, pk))
}

/// Reads a verifying key file.
pub fn read_vk(bytes: &[u8], path: &Path) -> Result<(KeyHeader, VerifyingKey<G1Affine>), ProverError> {
    let (h, body) = split_key(bytes, path, "poai-verifying-key")?;
    let vk = parse_isolated(path, || {
        VerifyingKey::<G1Affine>::read::<_, ModelCircuit>(&mut Cursor::new(body), SerdeFormat::RawBytes, ())
    })?;
    Ok((h, vk))
}

/// Proves inference of `model` on float `inputs`.
pub fn prove_model(
    model: &CompiledModel,
    srs: &Srs,
    pk: &(KeyHeader, ProvingKey<G1Affine>),
    inputs: &[Vec<f32>],
) -> Result<ProofFile, ProverError> {
    let (h, pk) = pk;
    if h.model_commitment != model.model_commitment {
        return Err(ProverError::Mismatch(format!(
            "the proving key is for model {}, the compiled model is {}",
            h.model_commitment, model.model_commitment
        )));
    }
    let q = model.quantize_inputs(inputs).map_err(crate::circuit_err)?;
    let c = circuit_for(model, &q)?;
    if c.layout.k() != h.k {
        return Err(ProverError::Mismatch(format!(
            "circuit k = {} but the key has k = {}",
            c.layout.k(),
            h.k
        )));
    }
    let params = srs.for_circuit(h.k)?;
    let proof = prove(&params, pk, &c)?;
    let instances = c.layout.instance.clone();
    Ok(ProofFile {
        format: "poai-proof".into(),
        version: 1,
        backend: BACKEND.into(),
        curve: "bn254".into(),
        k: h.k,
        model_commitment: model.model_commitment.clone(),
        outputs: outputs_from_instances(h, &instances)?,
        instances: instances.iter().map(fr_to_hex).collect(),
        proof: hex(&proof),
    })
}

/// Signed integer of a field element that encodes a small value.
fn small_int(x: &Fr) -> Option<i64> {
    let to_i = |f: &Fr| -> Option<i64> {
        let repr = f.to_bytes();
        if repr[8..].iter().any(|&b| b != 0) {
            return None;
        }
        let v = u64::from_le_bytes(repr[..8].try_into().ok()?);
        i64::try_from(v).ok()
    };
    to_i(x).or_else(|| to_i(&-*x).map(|v| -v))
}

fn outputs_from_instances(h: &KeyHeader, instances: &[Fr]) -> Result<Vec<Vec<f32>>, ProverError> {
    let mut at = 1;
    let mut outs = Vec::new();
    for (&scale, &len) in h.output_scales.iter().zip(&h.output_lens) {
        let slice =
            instances.get(at..at + len).ok_or_else(|| ProverError::Mismatch("too few instances".into()))?;
        let vals = slice
            .iter()
            .map(|x| small_int(x).map(|q| dequantize(q, scale) as f32))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| ProverError::Mismatch("an output instance is not a small integer".into()))?;
        outs.push(vals);
        at += len;
    }
    if at != instances.len() {
        return Err(ProverError::Mismatch(format!("{} instances, the key expects {at}", instances.len())));
    }
    Ok(outs)
}

/// Verifies a proof file against a verifying key: format, commitment and outputs consistent with the
/// instances in the file, then the proof itself.
pub fn verify_proof_file(
    vk: &(KeyHeader, VerifyingKey<G1Affine>),
    srs: &Srs,
    proof: &ProofFile,
) -> Result<(), ProverError> {
    let (h, vk) = vk;
    let mismatch = |s: String| Err(ProverError::Mismatch(s));
    if proof.format != "poai-proof"
        || proof.version != 1
        || proof.backend != BACKEND
        || proof.curve != "bn254"
    {
        return mismatch(format!("not a version-1 poai proof for {BACKEND}"));
    }
    if proof.k != h.k {
        return mismatch(format!("proof is for k = {}, the key has k = {}", proof.k, h.k));
    }
    let instances: Vec<Fr> =
        proof.instances.iter().map(|s| fr_from_hex(s)).collect::<Option<_>>().ok_or_else(|| {
            ProverError::Mismatch("an instance is not a canonical hex field element".into())
        })?;
    if instances.first().map(fr_to_hex).as_deref() != Some(h.model_commitment.as_str()) {
        return mismatch(format!(
            "the proof's first instance is not the key's model commitment {}",
            h.model_commitment
        ));
    }
    if proof.model_commitment != h.model_commitment {
        return mismatch(format!(
            "field `model_commitment` {} differs from the key's {}",
            proof.model_commitment, h.model_commitment
        ));
    }
    if outputs_from_instances(h, &instances)? != proof.outputs {
        return mismatch("field `outputs` does not match the public instances".into());
    }
    let bytes =
        unhex(&proof.proof).ok_or_else(|| ProverError::Mismatch("field `proof` is not hex".into()))?;
    let params = srs.for_circuit(h.k)?;
    check_proof(&params, vk, &bytes, &instances)
}
