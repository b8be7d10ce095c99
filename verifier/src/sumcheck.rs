//! The sumcheck backend's side of key and proof files: what its verifying key holds, how a proof's
//! public instances map to the statement its transcript binds, and verification.
//!
//! A sumcheck verifying key's body is the quantised graph (JSON): with parameters fixed in the key the
//! verifier evaluates the weights' multilinear extensions itself, so the graph is what the key commits
//! to, as a halo2 key commits to fixed columns. The instances are laid out as for a halo2 proof of the
//! same visibilities (the model commitment, public inputs, public outputs, the provider), so both
//! backends give the same instances for the same inference. The proof's transcript absorbs the
//! single-element values (model commitment, provider) as its bound values and the tensors as its
//! inputs and outputs, before any challenge.

use halo2_base::halo2_proofs::halo2curves::bn256::{Fr, G1Affine};
use poai_circuits::ir::{QGraph, Tensor};
use poai_sumcheck::hyperkzg::KzgVerifierKey;
use poai_sumcheck::model::{self, ModelProof, Plan};
use poai_sumcheck::{signed, PoseidonTranscript};

use crate::artifact::{small_int, KeyHeader, PublicValue};
use crate::error::format_err;
use crate::{VerifierParams, VerifyError};

/// The label of every model proof's transcript on the sumcheck backend (`"POAI-MDL"`).
pub const TRANSCRIPT_LABEL: u64 = u64::from_be_bytes(*b"POAI-MDL");

/// What a sumcheck proof's transcript binds: the single-element public values in their order (the
/// model commitment, the provider), and the public input and output tensors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The model commitment, then the provider (as the key's layout orders them).
    pub bound: Vec<Fr>,
    /// Public model inputs, in the graph's shapes.
    pub inputs: Vec<Tensor>,
    /// Public model outputs, in the graph's shapes.
    pub outputs: Vec<Tensor>,
}

impl Statement {
    /// Reads the statement from instances laid out as `public` says, for `graph`. Refuses the segments
    /// the sumcheck backend does not prove yet (commitments to hashed values, dataset claims), naming
    /// them.
    pub fn from_instances(
        graph: &QGraph,
        public: &[PublicValue],
        instances: &[Fr],
    ) -> Result<Self, VerifyError> {
        let count: usize = public.iter().map(PublicValue::len).sum();
        if instances.len() != count {
            return Err(VerifyError::Mismatch(format!(
                "{} public instances, the key expects {count}",
                instances.len()
            )));
        }
        let mut statement = Self { bound: Vec::new(), inputs: Vec::new(), outputs: Vec::new() };
        let mut at = 0;
        for seg in public {
            let slice = &instances[at..at + seg.len()];
            at += seg.len();
            match *seg {
                PublicValue::ModelCommitment | PublicValue::Provider => statement.bound.push(slice[0]),
                PublicValue::Input { index, .. } => {
                    let t = tensor(graph, &graph.inputs, index, slice, "input")?;
                    statement.inputs.push(t);
                }
                PublicValue::Output { index, .. } => {
                    let t = tensor(graph, &graph.outputs, index, slice, "output")?;
                    statement.outputs.push(t);
                }
                ref other => return Err(not_on_sumcheck(other)),
            }
        }
        if statement.inputs.len() != graph.inputs.len() || statement.outputs.len() != graph.outputs.len() {
            return Err(VerifyError::Mismatch(
                "the sumcheck backend proves every input and output public; the key's layout leaves some out"
                    .into(),
            ));
        }
        Ok(statement)
    }

    /// The instances of this statement laid out as `public` says: the inverse of
    /// [`Self::from_instances`], what the prover writes into a proof file.
    pub fn instances(&self, public: &[PublicValue]) -> Result<Vec<Fr>, VerifyError> {
        let mut bound = self.bound.iter();
        let mut out = Vec::new();
        for seg in public {
            match *seg {
                PublicValue::ModelCommitment | PublicValue::Provider => {
                    out.push(*bound.next().ok_or_else(|| {
                        VerifyError::Mismatch("fewer bound values than the layout names".into())
                    })?);
                }
                PublicValue::Input { index, .. } | PublicValue::Output { index, .. } => {
                    let tensors =
                        if matches!(seg, PublicValue::Input { .. }) { &self.inputs } else { &self.outputs };
                    let t = tensors.get(index).ok_or_else(|| {
                        VerifyError::Mismatch(format!(
                            "the layout names tensor {index}, which the statement lacks"
                        ))
                    })?;
                    if t.len() != seg.len() {
                        return Err(VerifyError::Mismatch(format!(
                            "tensor {index} has {} elements, the layout {}",
                            t.len(),
                            seg.len()
                        )));
                    }
                    out.extend(t.data().iter().map(|&v| signed(v)));
                }
                ref other => return Err(not_on_sumcheck(other)),
            }
        }
        Ok(out)
    }
}

/// The error for a public value the sumcheck backend does not prove yet.
fn not_on_sumcheck(seg: &PublicValue) -> VerifyError {
    VerifyError::Mismatch(format!(
        "the sumcheck backend does not prove {seg:?} yet (hashed visibilities, datasets and on-chain \
         compression are halo2's for now): set the keys up with `--backend halo2`"
    ))
}

/// Model tensor `index` (of `ids`, the graph's inputs or outputs) from its instances.
fn tensor(
    graph: &QGraph,
    ids: &[usize],
    index: usize,
    slice: &[Fr],
    what: &str,
) -> Result<Tensor, VerifyError> {
    let id = *ids.get(index).ok_or_else(|| {
        VerifyError::Mismatch(format!("the key names {what} {index}, the graph has {}", ids.len()))
    })?;
    let value = graph.values.get(id).ok_or_else(|| format_err("verifying key", format!("no value {id}")))?;
    let data = slice.iter().map(small_int).collect::<Option<Vec<_>>>().ok_or_else(|| {
        VerifyError::Mismatch(format!("an element of {what} {index} is not a small integer"))
    })?;
    Tensor::new(value.shape.clone(), data)
        .map_err(|e| VerifyError::Mismatch(format!("{what} {index} does not fit its shape: {e}")))
}

/// Reads a sumcheck verifying key's body: the quantised graph, whose packed witness must have the
/// header's size.
pub(crate) fn read_graph(header: &KeyHeader, body: &[u8]) -> Result<QGraph, VerifyError> {
    let bad = |d: String| format_err("verifying key", d);
    let graph: QGraph = serde_json::from_slice(body).map_err(|e| bad(format!("the quantised graph: {e}")))?;
    let vars = Plan::new(&graph).map_err(|e| bad(format!("the quantised graph: {e}")))?.packing.vars;
    if vars != header.k as usize {
        return Err(bad(format!("the graph packs into 2^{vars} entries, the header says k = {}", header.k)));
    }
    Ok(graph)
}

/// The HyperKZG verifier key of an SRS's verifier parameters.
pub fn kzg_verifier_key(params: &VerifierParams) -> KzgVerifierKey {
    KzgVerifierKey { g1: G1Affine::generator(), g2: params.g2(), tau_g2: params.s_g2() }
}

/// Verifies sumcheck proof bytes for `graph` on `instances` (laid out as `header` says).
pub(crate) fn verify(
    graph: &QGraph,
    header: &KeyHeader,
    params: &VerifierParams,
    bytes: &[u8],
    instances: &[Fr],
) -> Result<(), VerifyError> {
    let statement = Statement::from_instances(graph, &header.public, instances)?;
    let proof = ModelProof::from_bytes(bytes).map_err(|e| format_err("proof file", e.to_string()))?;
    let mut transcript = PoseidonTranscript::new(TRANSCRIPT_LABEL);
    model::verify(
        &kzg_verifier_key(params),
        (graph, &statement.bound),
        (&statement.inputs, &statement.outputs),
        &proof,
        &mut transcript,
    )
    .map_err(|e| VerifyError::InvalidProof(e.to_string()))
}
