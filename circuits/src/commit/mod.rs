//! Commitments: the native side of what circuits hash.
//!
//! A model commitment is one Poseidon digest over BN254 of (a) the digest of the graph description —
//! every op, shape, fixed-point format and structural constant, serialised canonically and packed 31
//! bytes per field element — and (b) the quantised parameters, packed several per field element so that a model with
//! 100k weights costs a few thousand permutations, not 100k.

pub mod merkle;
pub mod poseidon;

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::{Field, PrimeField};
use serde::Serialize;

use crate::ir::{FixedFormat, QGraph, QOp, Source, Tensor};

pub use poseidon::{permute, poseidon_hash, POSEIDON_RATE, POSEIDON_R_F, POSEIDON_R_P, POSEIDON_T};

/// Domain tag separating model commitments from every other hash poai computes ("poai/model/v1").
pub const MODEL_DOMAIN: u64 = 0x706f_6169_6d6f_6431;

/// Domain tag of input commitments ("poai/in/v1").
pub const INPUT_DOMAIN: u64 = 0x706f_6169_2f69_6e31;
/// Domain tag of output commitments ("poai/out1").
pub const OUTPUT_DOMAIN: u64 = 0x706f_6169_6f75_7431;

/// Commitment to one quantised tensor (a model input or output): `Poseidon(domain, pack_values(values,
/// bits))`. The same value the circuit computes for a `hashed` input or output. `None` if a value lies
/// outside `bits`.
pub fn tensor_commitment(domain: u64, values: &[i64], bits: u32) -> Option<Fr> {
    let mut pre = vec![Fr::from(domain)];
    pre.extend(pack_values(values, bits)?);
    Some(poseidon_hash(&pre))
}

/// Usable bits per field element when packing (BN254's modulus has 254 bits).
pub const PACK_BITS: u32 = 252;

/// Packs signed `bits`-wide integers into field elements, `252 / bits` per element, little-endian:
/// element = sum_i (v_i + 2^(bits-1)) * 2^(bits * i). Values outside the width are rejected.
pub fn pack_values(values: &[i64], bits: u32) -> Option<Vec<Fr>> {
    if bits == 0 || bits > 62 {
        return None;
    }
    let per = (PACK_BITS / bits) as usize;
    let offset = 1i128 << (bits - 1);
    let mut out = Vec::with_capacity(values.len().div_ceil(per));
    for chunk in values.chunks(per) {
        let mut acc = Fr::ZERO;
        let mut base = Fr::ONE;
        let radix = Fr::from_u128(1u128 << bits);
        for &v in chunk {
            let u = v as i128 + offset;
            if u < 0 || u >= 2 * offset {
                return None;
            }
            acc += base * Fr::from_u128(u as u128);
            base *= radix;
        }
        out.push(acc);
    }
    Some(out)
}

/// Packs bytes 31 per field element (little-endian), prefixed by the byte length.
pub fn pack_bytes(bytes: &[u8]) -> Vec<Fr> {
    let mut out = vec![Fr::from(bytes.len() as u64)];
    for chunk in bytes.chunks(31) {
        let mut repr = [0u8; 32];
        repr[..chunk.len()].copy_from_slice(chunk);
        out.push(Fr::from_repr(repr).unwrap_or(Fr::ZERO));
    }
    out
}

/// Big-endian `0x` hex of a field element.
pub fn fr_to_hex(x: &Fr) -> String {
    let mut bytes = x.to_repr();
    bytes.reverse();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("0x{hex}")
}

/// Parses [`fr_to_hex`] output; `None` for anything else or a non-canonical value.
pub fn fr_from_hex(s: &str) -> Option<Fr> {
    let hex = s.strip_prefix("0x")?;
    if hex.len() != 64 {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    bytes.reverse();
    Option::from(Fr::from_repr(bytes))
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum DescribedSource<'a> {
    Input { index: usize },
    Param,
    Const { tensor: &'a Tensor },
    Node { index: usize },
}

#[derive(Serialize)]
struct DescribedValue<'a> {
    name: &'a str,
    shape: &'a [usize],
    format: FixedFormat,
    source: DescribedSource<'a>,
}

#[derive(Serialize)]
struct Description<'a> {
    version: u32,
    values: Vec<DescribedValue<'a>>,
    nodes: Vec<(&'a str, &'a QOp, &'a [usize], usize)>,
    inputs: &'a [usize],
    outputs: &'a [usize],
}

/// Canonical bytes of everything in a graph except its learned parameters' values.
pub fn graph_description(graph: &QGraph) -> Vec<u8> {
    let values = graph
        .values
        .iter()
        .map(|v| DescribedValue {
            name: &v.name,
            shape: &v.shape,
            format: v.format,
            source: match &v.source {
                Source::Input { index } => DescribedSource::Input { index: *index },
                Source::Const { param: true, .. } => DescribedSource::Param,
                Source::Const { tensor, param: false } => DescribedSource::Const { tensor },
                Source::Node { index } => DescribedSource::Node { index: *index },
            },
        })
        .collect();
    let nodes = graph.nodes.iter().map(|n| (n.name.as_str(), &n.op, n.inputs.as_slice(), n.output)).collect();
    let description =
        Description { version: 1, values, nodes, inputs: &graph.inputs, outputs: &graph.outputs };
    // Serialising plain structs and vectors cannot fail; an empty description would still be bound by
    // the parameters, but we never produce one.
    serde_json::to_vec(&description).unwrap_or_default()
}

/// Digest of the graph description: `Poseidon(pack_bytes(graph_description(graph)))`. A constant of
/// every circuit of the graph, so a circuit that hashes the parameters in the circuit absorbs one element
/// for the architecture, not the whole description.
pub fn description_digest(graph: &QGraph) -> Fr {
    poseidon_hash(&pack_bytes(&graph_description(graph)))
}

/// The field elements a model commitment hashes: domain tag, description digest, then each parameter
/// tensor (in value order) packed at its bit width.
pub fn model_commitment_preimage(graph: &QGraph) -> Option<Vec<Fr>> {
    let mut pre = vec![Fr::from(MODEL_DOMAIN), description_digest(graph)];
    for v in &graph.values {
        if let Source::Const { tensor, param: true } = &v.source {
            pre.extend(pack_values(tensor.data(), v.format.bits)?);
        }
    }
    Some(pre)
}

/// The model commitment: `Poseidon(model_commitment_preimage(graph))`. `None` if a parameter lies
/// outside its declared bit width (an invalid graph).
pub fn model_commitment(graph: &QGraph) -> Option<Fr> {
    model_commitment_preimage(graph).map(|pre| poseidon_hash(&pre))
}
