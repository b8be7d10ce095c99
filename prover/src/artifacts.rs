//! The model-level steps: setup (key files) and proving (proof files). The artifact formats and
//! verification live in `poai-verifier`.

use std::io::Cursor;

use halo2_base::halo2_proofs::halo2curves::bn256::G1Affine;
use halo2_base::halo2_proofs::plonk::ProvingKey;
use halo2_base::halo2_proofs::SerdeFormat;
use poai_circuits::commit::{fr_from_hex, fr_to_hex};
use poai_circuits::halo2::{build_layout_min_k, CircuitShape, ModelCircuit, Visibility, VisibilitySettings};
use poai_circuits::ir::Tensor;
use poai_circuits::model::CompiledModel;
use poai_verifier::artifact::{decode_key, encode_key, VERSION};
use poai_verifier::{hex, KeyHeader, KeyKind, ProofFile, PublicValue, BACKEND, CURVE};

use crate::proof::keygen_verifying;
use crate::{keygen, prove, ProverError, Srs};

/// The circuit for `model` on zero inputs: the structure keys are generated from (it never depends on the
/// witness).
fn structure(model: &CompiledModel, vis: VisibilitySettings) -> Result<ModelCircuit, ProverError> {
    let zeros: Vec<Tensor> = model
        .graph
        .inputs
        .iter()
        .map(|&id| model.graph.value(id).map(|v| Tensor::zeros(v.shape.clone())))
        .collect::<Result<_, _>>()
        .map_err(crate::circuit_err)?;
    circuit_for(model, &zeros, vis)
}

fn circuit_for(
    model: &CompiledModel,
    inputs: &[Tensor],
    vis: VisibilitySettings,
) -> Result<ModelCircuit, ProverError> {
    let trace = model.graph.eval_trace(inputs).map_err(crate::circuit_err)?;
    let commitment = fr_from_hex(&model.model_commitment).ok_or_else(|| {
        ProverError::Circuit("the compiled model's commitment is not a field element".into())
    })?;
    Ok(ModelCircuit::new(
        build_layout_min_k(&model.graph, &trace, commitment, vis).map_err(crate::circuit_err)?,
    ))
}

/// Circuit size of a compiled model with the given visibility (the SRS must have at least this `k`).
pub fn circuit_k(model: &CompiledModel, vis: VisibilitySettings) -> Result<u32, ProverError> {
    Ok(structure(model, vis)?.layout.k())
}

/// The public-instance layout of a model's circuit, in the order `build_layout` exposes cells: the model
/// commitment, then each input, then each output, as their visibility says.
fn public_layout(model: &CompiledModel, vis: VisibilitySettings) -> Result<Vec<PublicValue>, ProverError> {
    let g = &model.graph;
    let mut public = vec![PublicValue::ModelCommitment];
    for (ids, visibility, is_input) in [(&g.inputs, vis.input, true), (&g.outputs, vis.output, false)] {
        for (index, &id) in ids.iter().enumerate() {
            let v = g.value(id).map_err(crate::circuit_err)?;
            let (len, scale) = (v.shape.iter().product(), v.format.scale);
            public.push(match (visibility, is_input) {
                (Visibility::Private, _) => continue,
                (Visibility::Public, true) => PublicValue::Input { index, len, scale },
                (Visibility::Public, false) => PublicValue::Output { index, len, scale },
                (Visibility::Hashed, true) => PublicValue::InputCommitment { index },
                (Visibility::Hashed, false) => PublicValue::OutputCommitment { index },
            });
        }
    }
    Ok(public)
}

fn header(
    model: &CompiledModel,
    vis: VisibilitySettings,
    shape: CircuitShape,
    kind: KeyKind,
    k: u32,
    body_len: usize,
) -> Result<KeyHeader, ProverError> {
    Ok(KeyHeader {
        format: kind.format().into(),
        version: VERSION,
        backend: BACKEND.into(),
        curve: CURVE.into(),
        k,
        model_commitment: model.model_commitment.clone(),
        visibility: vis,
        shape,
        public: public_layout(model, vis)?,
        body_len: body_len as u64,
    })
}

/// Key generation for a compiled model with the given visibility: proving-key and verifying-key files
/// (bytes).
pub fn setup(
    model: &CompiledModel,
    srs: &Srs,
    vis: VisibilitySettings,
) -> Result<(Vec<u8>, Vec<u8>), ProverError> {
    if vis.output == Visibility::Private {
        return Err(ProverError::Circuit("outputs must be public or hashed".into()));
    }
    let c = structure(model, vis)?;
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
        encode_key(&header(model, vis, c.shape(), KeyKind::Proving, k, pk_body.len())?, &pk_body)?,
        encode_key(&header(model, vis, c.shape(), KeyKind::Verifying, k, vk_body.len())?, &vk_body)?,
    ))
}

/// The verifying-key file [`setup`] writes for `model`, recomputed without the proving key. Key
/// generation is deterministic, so an auditor compares it byte for byte with a key file in circulation:
/// equal bytes mean the key checks exactly this model's circuit (its weights are fixed columns the key
/// commits to).
pub fn verifying_key_file(
    model: &CompiledModel,
    srs: &Srs,
    vis: VisibilitySettings,
) -> Result<Vec<u8>, ProverError> {
    let c = structure(model, vis)?;
    let k = c.layout.k();
    let vk = keygen_verifying(&srs.for_circuit(k)?, &c)?;
    let mut body = Vec::new();
    vk.write(&mut body, SerdeFormat::RawBytes).map_err(|e| ProverError::Circuit(e.to_string()))?;
    Ok(encode_key(&header(model, vis, c.shape(), KeyKind::Verifying, k, body.len())?, &body)?)
}

/// Reads a proving key file.
pub fn read_pk(bytes: &[u8]) -> Result<(KeyHeader, ProvingKey<G1Affine>), ProverError> {
    let (h, body) = decode_key(bytes, KeyKind::Proving)?;
    let shape = h.shape;
    let pk = poai_verifier::parse_isolated("proving key", || {
        ProvingKey::<G1Affine>::read::<_, ModelCircuit>(&mut Cursor::new(body), SerdeFormat::RawBytes, shape)
    })?;
    Ok((h, pk))
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
    if h.public != public_layout(model, h.visibility)? {
        return Err(ProverError::Mismatch(
            "the proving key's public-instance layout does not fit the model".into(),
        ));
    }
    let q = model.quantize_inputs(inputs).map_err(crate::circuit_err)?;
    let c = circuit_for(model, &q, h.visibility)?;
    if c.shape() != h.shape {
        return Err(ProverError::Mismatch("the proving key was made for a circuit of another shape".into()));
    }
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
    // A corrupted proving key yields a proof that does not verify: catch it here, not on chain.
    poai_verifier::verify_instances(pk.get_vk(), &srs.verifier_params()?, &proof, &instances).map_err(
        |e| {
            ProverError::Mismatch(format!("the proof does not verify against the proving key's own key: {e}"))
        },
    )?;
    let claims = h.claims(&instances)?;
    Ok(ProofFile {
        format: ProofFile::FORMAT.into(),
        version: VERSION,
        backend: BACKEND.into(),
        curve: CURVE.into(),
        k: h.k,
        model_commitment: model.model_commitment.clone(),
        instances: instances.iter().map(fr_to_hex).collect(),
        inputs: claims.inputs,
        input_commitments: claims.input_commitments,
        outputs: claims.outputs,
        output_commitments: claims.output_commitments,
        proof: hex::encode(&proof),
    })
}
