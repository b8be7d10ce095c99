//! Setup and proving on the sumcheck backend (`poai-sumcheck`): the same key and proof files as halo2's,
//! naming [`SUMCHECK_BACKEND`], with the same public-instance layout, so a verifier, an audit and a
//! reward contract read both alike.
//!
//! What the files hold:
//! - the verifying key: the header and the quantised graph (weights fixed in the key, evaluated by the
//!   verifier); `k` is log2 of the packed witness's size, the SRS powers the prover commits with;
//! - the proving key: the header alone. The backend has no preprocessing beyond the SRS: the prover
//!   takes the graph from the compiled model, whose commitment must be the header's;
//! - the proof: `poai_sumcheck::model::ModelProof`'s bytes, hex, with its instances.
//!
//! Only what the backend proves soundly and without leaking is accepted: public inputs and outputs,
//! parameters fixed in the key, no dataset. A bare sumcheck transcript reveals evaluations of the
//! witness (the input's among them), so hashed or private inputs and hashed parameters wait for zero
//! knowledge (issue #25); setup refuses them, naming the remedy.

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::poly::commitment::ParamsProver;
use poai_circuits::halo2::{CircuitShape, ParamVisibility, Visibility};
use poai_circuits::model::CompiledModel;
use poai_sumcheck::hyperkzg::KzgKey;
use poai_sumcheck::model::{self, Plan};
use poai_sumcheck::{CpuBackend, PoseidonTranscript};
use poai_verifier::artifact::{decode_key, encode_key};
use poai_verifier::sumcheck::{Statement, TRANSCRIPT_LABEL};
use poai_verifier::{KeyHeader, KeyKind, ProofFile, Provider, SUMCHECK_BACKEND};

use crate::artifacts::{check_key, commitment_of, header, proof_file, CircuitKind};
use crate::{ProverError, Srs};

/// A sumcheck proving key: its header (model commitment, visibilities, instance layout, `k`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SumcheckProvingKey {
    /// The checked header.
    pub header: KeyHeader,
}

/// Refuses what the sumcheck backend does not prove yet, naming what it does and the remedy.
pub fn check_kind(kind: CircuitKind) -> Result<(), ProverError> {
    let v = kind.vis;
    let refuse = |what: &str| {
        Err(ProverError::NotOnSumcheck(format!(
            "{what}; it proves public inputs and outputs with parameters fixed in the key \
             (`--input-visibility public --output-visibility public --param-visibility fixed`), or use \
             `--backend halo2`"
        )))
    };
    if kind.dataset.is_some() {
        return refuse("dataset rows and accuracy proofs are halo2's for now");
    }
    if v.input != Visibility::Public || v.output != Visibility::Public {
        return refuse(
            "hashed and private inputs and outputs need zero knowledge (a bare sumcheck reveals \
             evaluations of the witness), which the backend does not have yet",
        );
    }
    if v.params != ParamVisibility::Fixed {
        return refuse("hashed parameters need zero knowledge and a commitment to the weights, not in yet");
    }
    Ok(())
}

/// log2 of the packed witness's size: the SRS powers proving needs, the key's `k`.
pub fn packed_k(model: &CompiledModel) -> Result<u32, ProverError> {
    packed_vars(&model.graph)
}

/// [`packed_k`] of a quantised graph: planned from the graph alone, no witness (cheap at any size).
pub fn packed_vars(graph: &poai_circuits::ir::QGraph) -> Result<u32, ProverError> {
    let vars = Plan::new(graph)?.packing.vars;
    u32::try_from(vars).map_err(|_| ProverError::Circuit(format!("a packed witness of 2^{vars} entries")))
}

/// A sumcheck key header for `model` built as `kind` says.
fn sumcheck_header(
    model: &CompiledModel,
    kind: CircuitKind,
    key: KeyKind,
    body_len: usize,
) -> Result<KeyHeader, ProverError> {
    check_kind(kind)?;
    // No halo2 circuit: the shape records nothing configured.
    let shape = CircuitShape { gates: 0, tables: false, range_columns: 1, slopes: false };
    let mut h = header(model, kind, shape, key, packed_k(model)?, body_len)?;
    h.backend = SUMCHECK_BACKEND.into();
    Ok(h)
}

/// The verifying-key file [`setup`] writes: deterministic, so an auditor recomputes it from the ONNX
/// file and compares bytes.
pub fn verifying_key_file(model: &CompiledModel, kind: CircuitKind) -> Result<Vec<u8>, ProverError> {
    let body = serde_json::to_vec(&model.graph).map_err(|e| ProverError::Circuit(e.to_string()))?;
    Ok(encode_key(&sumcheck_header(model, kind, KeyKind::Verifying, body.len())?, body)?)
}

/// Proving- and verifying-key files for `model` built as `kind` says; `srs` must have the `k` proving
/// will need ([`packed_k`]).
pub fn setup(model: &CompiledModel, srs: &Srs, kind: CircuitKind) -> Result<(Vec<u8>, Vec<u8>), ProverError> {
    let pk = encode_key(&sumcheck_header(model, kind, KeyKind::Proving, 0)?, Vec::new())?;
    let k = packed_k(model)?;
    if srs.k() < k {
        return Err(ProverError::SrsTooSmall { have: srs.k(), need: k });
    }
    Ok((pk, verifying_key_file(model, kind)?))
}

/// Reads a sumcheck proving-key file.
pub fn read_pk(bytes: &[u8]) -> Result<SumcheckProvingKey, ProverError> {
    let (header, body) = decode_key(bytes, KeyKind::Proving)?;
    if header.backend != SUMCHECK_BACKEND || !body.is_empty() {
        return Err(ProverError::Mismatch("not a sumcheck proving key".into()));
    }
    check_kind(CircuitKind::of(&header))?;
    Ok(SumcheckProvingKey { header })
}

/// Proves inference of `model` on float `inputs` with `pk`, bound to `provider`.
pub fn prove(
    model: &CompiledModel,
    srs: &Srs,
    pk: &SumcheckProvingKey,
    inputs: &[Vec<f32>],
    provider: Provider,
) -> Result<ProofFile, ProverError> {
    let h = &pk.header;
    check_key(model, h)?;
    check_kind(CircuitKind::of(h))?;
    let k = packed_k(model)?;
    if k != h.k {
        return Err(ProverError::Mismatch(format!("the model packs into k = {k}, the key has k = {}", h.k)));
    }
    if srs.k() < k {
        return Err(ProverError::SrsTooSmall { have: srs.k(), need: k });
    }
    let params = srs.params();
    let powers = params.get_g().get(..1usize << k).unwrap_or_default().to_vec();
    let key = KzgKey::new(powers, params.g2(), params.s_g2())?;
    let inputs = model.quantize_inputs(inputs).map_err(crate::circuit_err)?;
    let bound = [commitment_of(model)?, provider.to_fr()];
    let mut transcript = PoseidonTranscript::new(TRANSCRIPT_LABEL);
    let (outputs, proof) = model::prove(&CpuBackend, &key, (&model.graph, &bound), &inputs, &mut transcript)?;
    let statement = Statement { bound: bound.to_vec(), inputs, outputs };
    let instances: Vec<Fr> = statement.instances(&h.public)?;
    proof_file(model, h, &instances, &proof.to_bytes())
}
