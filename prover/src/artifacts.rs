//! The model-level steps: setup (key files) and proving (proof files). The artifact formats and
//! verification live in `poai-verifier`.

use std::io::Cursor;

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::bn256::G1Affine;
use halo2_base::halo2_proofs::plonk::ProvingKey;
use halo2_base::halo2_proofs::SerdeFormat;
use poai_circuits::commit::merkle::{MerklePath, MerkleTree};
use poai_circuits::commit::{description_digest, fr_from_hex, fr_to_hex};
use poai_circuits::halo2::{
    bind_provider, build_dataset_layout_min_k, build_layout_min_k, CircuitShape, DatasetMode, DatasetRow,
    LayoutGoal, ModelCircuit, ParamVisibility, Visibility, VisibilitySettings,
};
use poai_circuits::ir::Tensor;
use poai_circuits::model::CompiledModel;
use poai_verifier::artifact::{decode_key, encode_key, VERSION};
use poai_verifier::{hex, KeyHeader, KeyKind, ProofFile, Provider, PublicValue, BACKEND, CURVE};

use crate::dataset::DatasetFile;
use crate::onchain::{prove_onchain, OnchainProvingKey};
use crate::proof::{check_pk_sizes, key_bodies, keygen_verifying, ProvingKeyFile};
use crate::{keygen, prove, ProverError, Srs};

/// What a circuit is built for: the model's visibility settings, for a dataset-bound circuit its mode
/// (membership of one row, or accuracy over a batch), and what its layout is chosen for. Fixed at setup
/// and recorded in key headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CircuitKind {
    /// Visibility of inputs and outputs (a dataset-bound circuit ignores the input's: rows stay private).
    pub vis: VisibilitySettings,
    /// Dataset binding, if any.
    pub dataset: Option<DatasetMode>,
    /// The fastest proof, or the fewest columns (for a batched on-chain key).
    pub layout: LayoutGoal,
}

impl CircuitKind {
    /// A plain inference circuit with the fastest layout.
    pub fn plain(vis: VisibilitySettings) -> Self {
        Self { vis, dataset: None, layout: LayoutGoal::Fast }
    }

    /// A circuit bound to a dataset as `mode` says, with the fastest layout.
    pub fn bound(vis: VisibilitySettings, mode: DatasetMode) -> Self {
        Self { dataset: Some(mode), ..Self::plain(vis) }
    }

    /// The same kind with its layout chosen for `layout`.
    pub fn with_layout(self, layout: LayoutGoal) -> Self {
        Self { layout, ..self }
    }

    /// The kind a key header records.
    pub fn of(h: &KeyHeader) -> Self {
        Self { vis: h.visibility, dataset: h.dataset, layout: h.layout }
    }
}

/// What a circuit proves inference on: model inputs, or dataset rows (and how they are bound).
enum Witness<'a> {
    /// Quantised model inputs.
    Inputs(&'a [Tensor]),
    /// Dataset rows for a dataset-bound circuit of `mode`.
    Rows(&'a [DatasetRow], DatasetMode),
}

/// The circuit for `model` on zero inputs: the structure keys are generated from (it never depends on the
/// witness).
fn structure(model: &CompiledModel, kind: CircuitKind) -> Result<ModelCircuit, ProverError> {
    let zeros: Vec<Tensor> = model
        .graph
        .inputs
        .iter()
        .map(|&id| model.graph.value(id).map(|v| Tensor::zeros(v.shape.clone())))
        .collect::<Result<_, _>>()
        .map_err(crate::circuit_err)?;
    match kind.dataset {
        None => circuit(model, Witness::Inputs(&zeros), kind, Provider::NONE),
        Some(mode) => {
            let trace = model.graph.eval_trace(&zeros).map_err(crate::circuit_err)?;
            let rows = (0..mode.rows() as u64)
                .map(|index| DatasetRow {
                    trace: trace.clone(),
                    index,
                    label: None,
                    path: MerklePath::zeros(mode.depth()),
                })
                .collect::<Vec<_>>();
            circuit(model, Witness::Rows(&rows, mode), kind, Provider::NONE)
        }
    }
}

pub(crate) fn commitment_of(model: &CompiledModel) -> Result<Fr, ProverError> {
    fr_from_hex(&model.model_commitment)
        .ok_or_else(|| ProverError::Circuit("the compiled model's commitment is not a field element".into()))
}

/// The smallest layout of `model` on `witness` for `kind`, its last instance bound to `provider`.
fn circuit(
    model: &CompiledModel,
    witness: Witness<'_>,
    kind: CircuitKind,
    provider: Provider,
) -> Result<ModelCircuit, ProverError> {
    let (g, commitment, vis) = (&model.graph, commitment_of(model)?, kind.vis);
    let mut l = match witness {
        Witness::Inputs(inputs) => {
            let trace = g.eval_trace(inputs).map_err(crate::circuit_err)?;
            build_layout_min_k(g, &trace, commitment, vis, kind.layout)
        }
        Witness::Rows(rows, mode) => {
            build_dataset_layout_min_k(g, rows, commitment, mode, (vis.output, vis.params), kind.layout)
        }
    }
    .map_err(crate::circuit_err)?;
    bind_provider(&mut l, provider.to_fr());
    Ok(ModelCircuit::new(l))
}

/// The circuit that [`prove_model`] proves for `model` on quantised `inputs`, laid out for `vis` and
/// `layout` and bound to `provider`, without keys: what benchmarks time keygen and proving on.
pub fn inference_circuit(
    model: &CompiledModel,
    inputs: &[Tensor],
    vis: VisibilitySettings,
    layout: LayoutGoal,
    provider: Provider,
) -> Result<ModelCircuit, ProverError> {
    circuit(model, Witness::Inputs(inputs), CircuitKind::plain(vis).with_layout(layout), provider)
}

/// Circuit size of a compiled model built as `kind` says (the SRS must have at least this `k`).
pub fn circuit_k(model: &CompiledModel, kind: CircuitKind) -> Result<u32, ProverError> {
    Ok(structure(model, kind)?.layout.k())
}

/// Rows of the main region of a compiled model's circuit built as `kind` says (what the circuit costs,
/// before rounding up to `2^k`).
pub fn circuit_rows(model: &CompiledModel, kind: CircuitKind) -> Result<usize, ProverError> {
    Ok(structure(model, kind)?.layout.main_rows())
}

/// The public-instance layout of a model's circuit, in the order the layout exposes cells: the model
/// commitment, then each input, then each output, as their visibility says; for a dataset-bound circuit
/// the dataset root instead of the input, and for an accuracy proof the row range and the count instead
/// of the outputs.
fn public_layout(model: &CompiledModel, kind: CircuitKind) -> Result<Vec<PublicValue>, ProverError> {
    let g = &model.graph;
    let vis = kind.vis;
    let mut public = vec![PublicValue::ModelCommitment];
    let segments = match kind.dataset {
        None => vec![(&g.inputs, vis.input, true), (&g.outputs, vis.output, false)],
        Some(DatasetMode::Membership { .. }) => {
            public.push(PublicValue::DatasetRoot);
            vec![(&g.outputs, vis.output, false)]
        }
        Some(DatasetMode::Accuracy { .. }) => {
            public.extend([PublicValue::DatasetRoot, PublicValue::RowRange, PublicValue::CorrectCount]);
            Vec::new()
        }
    };
    for (ids, visibility, is_input) in segments {
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
    public.push(PublicValue::Provider);
    Ok(public)
}

pub(crate) fn header(
    model: &CompiledModel,
    kind: CircuitKind,
    shape: CircuitShape,
    key: KeyKind,
    k: u32,
    body_len: usize,
) -> Result<KeyHeader, ProverError> {
    Ok(KeyHeader {
        format: key.format().into(),
        version: VERSION,
        backend: BACKEND.into(),
        curve: CURVE.into(),
        k,
        model_commitment: model.model_commitment.clone(),
        architecture: (kind.vis.params == ParamVisibility::Hashed)
            .then(|| fr_to_hex(&description_digest(&model.graph))),
        visibility: kind.vis,
        shape,
        layout: kind.layout,
        public: public_layout(model, kind)?,
        dataset: kind.dataset,
        onchain: None,
        body_len: body_len as u64,
    })
}

/// Key generation for a compiled model built as `kind` says: proving-key and verifying-key files (bytes).
pub fn setup(model: &CompiledModel, srs: &Srs, kind: CircuitKind) -> Result<(Vec<u8>, Vec<u8>), ProverError> {
    if kind.vis.output == Visibility::Private && !matches!(kind.dataset, Some(DatasetMode::Accuracy { .. })) {
        return Err(ProverError::Circuit("outputs must be public or hashed".into()));
    }
    if let Some(DatasetMode::Accuracy { batch: 0, .. }) = kind.dataset {
        return Err(ProverError::Circuit("an accuracy proof needs a batch of at least one row".into()));
    }
    let c = structure(model, kind)?;
    let k = c.layout.k();
    let params = srs.for_circuit(k)?;
    let pk = keygen(&params, &c)?;
    let (pk_body, vk_body) = key_bodies(&pk)?;
    drop(pk);
    Ok((
        encode_key(&header(model, kind, c.shape(), KeyKind::Proving, k, pk_body.len())?, pk_body)?,
        encode_key(&header(model, kind, c.shape(), KeyKind::Verifying, k, vk_body.len())?, vk_body)?,
    ))
}

/// The verifying-key file [`setup`] writes for `model`, recomputed without the proving key. Key
/// generation is deterministic, so an auditor compares it byte for byte with a key file in circulation:
/// equal bytes mean the key checks exactly this model's circuit (its weights are fixed columns the key
/// commits to).
pub fn verifying_key_file(
    model: &CompiledModel,
    srs: &Srs,
    kind: CircuitKind,
) -> Result<Vec<u8>, ProverError> {
    let c = structure(model, kind)?;
    let k = c.layout.k();
    let vk = keygen_verifying(&srs.for_circuit(k)?, &c)?;
    let mut body = Vec::new();
    vk.write(&mut body, SerdeFormat::RawBytes).map_err(|e| ProverError::Circuit(e.to_string()))?;
    Ok(encode_key(&header(model, kind, c.shape(), KeyKind::Verifying, k, body.len())?, body)?)
}

/// Reads a proving key file.
pub fn read_pk(bytes: &[u8]) -> Result<ProvingKeyFile, ProverError> {
    let (h, body) = decode_key(bytes, KeyKind::Proving)?;
    let shape = h.shape;
    check_pk_sizes::<ModelCircuit>(body, h.k, shape)?;
    let pk = poai_verifier::parse_isolated("proving key", || {
        ProvingKey::<G1Affine>::read::<_, ModelCircuit>(&mut Cursor::new(body), SerdeFormat::RawBytes, shape)
    })?;
    Ok((h, pk))
}

/// Checks that a proving key fits `model` built as the key says: the key's model itself with fixed
/// parameters, any model of the key's architecture with hashed ones.
pub(crate) fn check_key(model: &CompiledModel, h: &KeyHeader) -> Result<(), ProverError> {
    if let Some(arch) = &h.architecture {
        let own = fr_to_hex(&description_digest(&model.graph));
        if *arch != own {
            return Err(ProverError::Mismatch(format!(
                "the proving key is for architecture {arch}, the compiled model's is {own} (another graph, \
                 shape or fixed-point format)"
            )));
        }
    } else if h.model_commitment != model.model_commitment {
        return Err(ProverError::Mismatch(format!(
            "the proving key is for model {}, the compiled model is {}",
            h.model_commitment, model.model_commitment
        )));
    }
    if h.public != public_layout(model, CircuitKind::of(h))? {
        return Err(ProverError::Mismatch(
            "the proving key's public-instance layout does not fit the model".into(),
        ));
    }
    Ok(())
}

/// Where a proof is to be checked, which decides what is proved.
#[derive(Clone, Copy)]
pub enum ProofTarget<'a> {
    /// Off chain (`poai verify`, the Rust verifier): the model proof itself.
    Direct,
    /// On chain: the model proof compressed with this on-chain key (minutes more proving; a proof whose
    /// Solidity verifier is deployable).
    Onchain(&'a OnchainProvingKey),
}

/// Proves inference of `model` on float `inputs` (a key made without a dataset), bound to `provider`.
pub fn prove_model(
    model: &CompiledModel,
    srs: &Srs,
    pk: &ProvingKeyFile,
    inputs: &[Vec<f32>],
    provider: Provider,
    target: ProofTarget<'_>,
) -> Result<ProofFile, ProverError> {
    finish(model, srs, pk, input_circuits(model, &pk.0, &[inputs.to_vec()], provider)?, target)
}

/// Proves inference of `model` on each entry of `batch` (the float inputs of one inference) and compresses
/// the model proofs into one on-chain proof with a batched on-chain key (`setup_onchain` with that batch
/// size), all bound to `provider`: one on-chain verification for the whole batch.
pub fn prove_batch(
    model: &CompiledModel,
    srs: &Srs,
    pk: &ProvingKeyFile,
    batch: &[Vec<Vec<f32>>],
    provider: Provider,
    onchain: &OnchainProvingKey,
) -> Result<ProofFile, ProverError> {
    finish(model, srs, pk, input_circuits(model, &pk.0, batch, provider)?, ProofTarget::Onchain(onchain))
}

/// The model circuits of inferences on float inputs (one entry of `batch` per inference), for a key made
/// without a dataset.
fn input_circuits(
    model: &CompiledModel,
    h: &KeyHeader,
    batch: &[Vec<Vec<f32>>],
    provider: Provider,
) -> Result<Vec<ModelCircuit>, ProverError> {
    check_key(model, h)?;
    if h.dataset.is_some() {
        return Err(ProverError::Mismatch(
            "the proving key is for a dataset-bound circuit: prove on dataset rows, not on inputs".into(),
        ));
    }
    batch
        .iter()
        .map(|inputs| {
            let q = model.quantize_inputs(inputs).map_err(crate::circuit_err)?;
            circuit(model, Witness::Inputs(&q), CircuitKind::of(h), provider)
        })
        .collect()
}

/// Proves inference on dataset rows: row `start` for a membership key, rows `start..start + batch` for
/// an accuracy key, bound to `provider`. The dataset's tree must have the depth the key was made for.
pub fn prove_rows(
    model: &CompiledModel,
    srs: &Srs,
    pk: &ProvingKeyFile,
    dataset: &(DatasetFile, MerkleTree),
    start: usize,
    provider: Provider,
    target: ProofTarget<'_>,
) -> Result<ProofFile, ProverError> {
    let h = &pk.0;
    check_key(model, h)?;
    let (d, tree) = dataset;
    d.check_model(model)?;
    let mode = h.dataset.ok_or_else(|| {
        ProverError::Mismatch(
            "the proving key was made without a dataset; set up keys bound to a dataset to prove on its rows"
                .into(),
        )
    })?;
    if mode.depth() != tree.depth() {
        return Err(ProverError::Mismatch(format!(
            "the key is for datasets of depth {} ({} to {} rows), this one has depth {} ({} rows)",
            mode.depth(),
            (1u64 << mode.depth().saturating_sub(1)) + 1,
            1u64 << mode.depth(),
            tree.depth(),
            d.rows
        )));
    }
    let end = start.checked_add(mode.rows()).filter(|&e| e <= d.rows).ok_or_else(|| {
        ProverError::Mismatch(format!(
            "rows {start}..{} are not all in the dataset of {} rows",
            start + mode.rows(),
            d.rows
        ))
    })?;
    let shape = d.input.shape.clone();
    let rows = (start..end)
        .map(|i| {
            let record = &d.data[i];
            let x = Tensor::new(shape.clone(), record.input.clone()).map_err(crate::circuit_err)?;
            Ok(DatasetRow {
                trace: model.graph.eval_trace(&[x]).map_err(crate::circuit_err)?,
                index: i as u64,
                label: record.label,
                path: tree.path(i).ok_or_else(|| ProverError::Circuit(format!("no path for row {i}")))?,
            })
        })
        .collect::<Result<Vec<_>, ProverError>>()?;
    let c = circuit(model, Witness::Rows(&rows, mode), CircuitKind::of(h), provider)?;
    finish(model, srs, pk, vec![c], target)
}

/// Proves the model circuits with `pk` (one, or a batch for a batched on-chain key) and compresses the
/// proofs for `target`, checks the result against the key's own verifying key, and writes the proof file.
fn finish(
    model: &CompiledModel,
    srs: &Srs,
    model_pk: &ProvingKeyFile,
    circuits: Vec<ModelCircuit>,
    target: ProofTarget<'_>,
) -> Result<ProofFile, ProverError> {
    let (h, pk) = model_pk;
    for c in &circuits {
        if c.shape() != h.shape {
            return Err(ProverError::Mismatch(
                "the proving key was made for a circuit of another shape".into(),
            ));
        }
        if c.layout.k() != h.k {
            return Err(ProverError::Mismatch(format!(
                "circuit k = {} but the key has k = {}",
                c.layout.k(),
                h.k
            )));
        }
    }
    let (h, proof, instances) = match target {
        ProofTarget::Direct => {
            let [c] = circuits.as_slice() else {
                return Err(ProverError::Mismatch("a direct proof covers one inference".into()));
            };
            let params = srs.for_circuit(h.k)?;
            let proof = prove(&params, pk, c)?;
            let instances = c.layout.instance.clone();
            // A corrupted proving key yields a proof that does not verify: catch it here, not on chain.
            poai_verifier::verify_instances(pk.get_vk(), &srs.verifier_params()?, &proof, &instances)
                .map_err(|e| {
                    ProverError::Mismatch(format!(
                        "the proof does not verify against the proving key's own key: {e}"
                    ))
                })?;
            (h, proof, instances)
        }
        ProofTarget::Onchain(onchain) => {
            let (proof, instances) = prove_onchain(srs, onchain, model_pk, &circuits)?;
            (&onchain.header, proof, instances)
        }
    };
    proof_file(model, h, &instances, &proof)
}

/// The proof file of `proof` for `model` under the key `h` (whose `backend` it names), with its
/// instances and the claims read from them.
pub(crate) fn proof_file(
    model: &CompiledModel,
    h: &KeyHeader,
    instances: &[Fr],
    proof: &[u8],
) -> Result<ProofFile, ProverError> {
    let mut batch_claims = h.claims(instances)?;
    let claims = batch_claims.remove(0);
    Ok(ProofFile {
        format: ProofFile::FORMAT.into(),
        version: VERSION,
        backend: h.backend.clone(),
        curve: CURVE.into(),
        k: h.k,
        model_commitment: model.model_commitment.clone(),
        instances: instances.iter().map(fr_to_hex).collect(),
        claims,
        batch_claims,
        proof: hex::encode(proof),
    })
}
