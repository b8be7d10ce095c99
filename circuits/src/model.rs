//! The compiled model artifact: a quantised graph with the settings that produced it and its commitment.
//!
//! Written by `poai compile`, read by every later step. It is self-describing (format name, version) and
//! checked on load: the graph must be well formed and the stored commitment must be the one the graph
//! gives, so a hand-edited weight is caught before anything is proved. Recomputing the Poseidon
//! commitment costs seconds per million parameters, so it is checked once, at compile time, and recorded
//! with a BLAKE2b digest of everything it covers ([`CompiledModel::integrity`]); a load that finds the
//! digest matching (a fraction of a second for ResNet-18's 11M parameters) trusts the commitment, and any
//! other load (an older file, or one edited since) recomputes it as before. The digest guards against
//! accidents and hand edits, not forgers (who could as well recompute the commitment): keys and proofs
//! are trusted through the verifying key's hash and `poai audit`, which recomputes everything from the
//! ONNX file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::commit::{fr_to_hex, graph_description, model_commitment, tensor_commitment, INPUT_DOMAIN};
use crate::ir::fixed::{dequantize, quantize};
use crate::ir::{IrError, QGraph, Source, Tensor};

/// Format name stored in every compiled model.
pub const COMPILED_FORMAT: &str = "poai-compiled-model";
/// Current format version.
pub const COMPILED_VERSION: u32 = 2;

/// Knobs of quantisation, recorded in the artifact so a compile can be reproduced and audited.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuantConfig {
    /// Bit width of every activation.
    pub activation_bits: u32,
    /// Bit width of weights.
    pub weight_bits: u32,
    /// Bit width of non-linear table inputs.
    pub table_bits: u32,
    /// Low table-input bits resolved by linear interpolation (0: plain tables of `2^table_bits`
    /// entries; `f`: tables of `2^(table_bits - f)` entries at the same input resolution).
    #[serde(default)]
    pub interp_bits: u32,
    /// Headroom over the calibrated maximum (2.0 keeps inputs up to twice the largest seen in range).
    pub margin: f64,
}

impl Default for QuantConfig {
    fn default() -> Self {
        let table_bits = 16;
        Self {
            activation_bits: 16,
            weight_bits: 12,
            table_bits,
            interp_bits: Self::default_interp_bits(table_bits),
            margin: 2.0,
        }
    }
}

impl QuantConfig {
    /// Tables hold at most [`Self::TABLE_ENTRIES_LOG2`] entries' worth of index bits by default; the
    /// rest of a `table_bits`-wide input is interpolated.
    pub const TABLE_ENTRIES_LOG2: u32 = 10;

    /// The default `interp_bits` for tables of `table_bits` inputs: enough that a table has at most
    /// `2^TABLE_ENTRIES_LOG2` entries (so table inputs of 16 bits interpolate 6).
    pub fn default_interp_bits(table_bits: u32) -> u32 {
        table_bits.saturating_sub(Self::TABLE_ENTRIES_LOG2)
    }
}

/// A compiled model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompiledModel {
    /// Always [`COMPILED_FORMAT`].
    pub format: String,
    /// Format version.
    pub version: u32,
    /// File name of the source ONNX model.
    pub source: String,
    /// Quantisation settings.
    pub settings: QuantConfig,
    /// Number of calibration samples used.
    pub calibration_samples: usize,
    /// Largest |x| of every float value over the calibration samples (value name to range): with
    /// `settings`, all quantisation depends on, so an auditor can rebuild the graph from the ONNX file.
    pub calibration: BTreeMap<String, f32>,
    /// Model commitment (Poseidon over BN254), big-endian hex.
    pub model_commitment: String,
    /// The quantised graph.
    pub graph: QGraph,
    /// BLAKE2b-256 (hex) of the model commitment, the graph's description and every parameter, written
    /// when the commitment was computed: a load that recomputes the same digest skips the commitment's
    /// recomputation. Absent in files written before it existed (they recompute the commitment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrity: Option<String>,
}

impl CompiledModel {
    /// Wraps a graph, computing its commitment.
    pub fn new(
        source: String,
        settings: QuantConfig,
        calibration_samples: usize,
        calibration: BTreeMap<String, f32>,
        graph: QGraph,
    ) -> Result<Self, IrError> {
        graph.validate()?;
        let c = model_commitment(&graph)
            .ok_or_else(|| IrError::Graph("a parameter exceeds its bit width".into()))?;
        let mut model = Self {
            format: COMPILED_FORMAT.into(),
            version: COMPILED_VERSION,
            source,
            settings,
            calibration_samples,
            calibration,
            model_commitment: fr_to_hex(&c),
            graph,
            integrity: None,
        };
        model.integrity = Some(model.integrity_digest());
        Ok(model)
    }

    /// The digest [`Self::integrity`] records: BLAKE2b-256 over the commitment's hex, the graph's
    /// description (what the commitment hashes besides the parameters) and each parameter tensor (bit
    /// width, length, values as little-endian `i64`), in value order. Any change to what the commitment
    /// covers, or to the commitment, changes it.
    pub fn integrity_digest(&self) -> String {
        let mut state = blake2b_simd::Params::new().hash_length(32).personal(b"poai-compiled-v1").to_state();
        let commitment = self.model_commitment.as_bytes();
        state.update(&(commitment.len() as u64).to_le_bytes());
        state.update(commitment);
        let description = graph_description(&self.graph);
        state.update(&(description.len() as u64).to_le_bytes());
        state.update(&description);
        let mut bytes = Vec::new();
        for v in &self.graph.values {
            if let Source::Const { tensor, param: true } = &v.source {
                bytes.clear();
                bytes.extend_from_slice(&v.format.bits.to_le_bytes());
                bytes.extend_from_slice(&(tensor.len() as u64).to_le_bytes());
                bytes.extend(tensor.data().iter().flat_map(|x| x.to_le_bytes()));
                state.update(&bytes);
            }
        }
        state.finalize().to_hex().to_string()
    }

    /// Parses and checks an artifact.
    pub fn from_json(bytes: &[u8]) -> Result<Self, IrError> {
        /// The identity fields alone, read when the whole file does not parse, so that another file gets
        /// a clear error (a compiled model is parsed once).
        #[derive(Deserialize)]
        struct Head {
            format: Option<serde_json::Value>,
            version: Option<serde_json::Value>,
        }
        let identity = |format: Option<&str>, version: Option<u64>| {
            if format != Some(COMPILED_FORMAT) {
                return Err(IrError::Artifact(format!(
                    "not a compiled poai model (field `format` is not \"{COMPILED_FORMAT}\")"
                )));
            }
            if version != Some(COMPILED_VERSION as u64) {
                return Err(IrError::Artifact(format!(
                    "field `version` is {version:?}; this poai reads version {COMPILED_VERSION}"
                )));
            }
            Ok(())
        };
        let m: Self = match serde_json::from_slice(bytes) {
            Ok(m) => m,
            Err(e) => {
                let head: Head =
                    serde_json::from_slice(bytes).map_err(|e| IrError::Artifact(format!("not JSON: {e}")))?;
                identity(
                    head.format.as_ref().and_then(|f| f.as_str()),
                    head.version.as_ref().and_then(|v| v.as_u64()),
                )?;
                return Err(IrError::Artifact(e.to_string()));
            }
        };
        identity(Some(&m.format), Some(u64::from(m.version)))?;
        m.graph.validate()?;
        if m.integrity.as_deref().is_some_and(|d| d == m.integrity_digest()) {
            return Ok(m);
        }
        let c = model_commitment(&m.graph)
            .ok_or_else(|| IrError::Artifact("a parameter exceeds its bit width".into()))?;
        if fr_to_hex(&c) != m.model_commitment {
            return Err(IrError::Artifact(format!(
                "field `model_commitment` {} does not match the graph (recomputed {})",
                m.model_commitment,
                fr_to_hex(&c)
            )));
        }
        Ok(m)
    }

    /// Serialises the artifact.
    pub fn to_json(&self) -> Result<Vec<u8>, IrError> {
        serde_json::to_vec(self).map_err(|e| IrError::Artifact(e.to_string()))
    }

    /// Quantises float inputs (one flat list per model input) at the input scales.
    pub fn quantize_inputs(&self, inputs: &[Vec<f32>]) -> Result<Vec<Tensor>, IrError> {
        let g = &self.graph;
        if inputs.len() != g.inputs.len() {
            return Err(IrError::InputCount { expected: g.inputs.len(), got: inputs.len() });
        }
        g.inputs
            .iter()
            .zip(inputs)
            .map(|(&id, data)| {
                let v = g.value(id)?;
                let n: usize = v.shape.iter().product();
                if data.len() != n {
                    return Err(IrError::InputShape {
                        name: v.name.clone(),
                        expected: v.shape.clone(),
                        got: vec![data.len()],
                    });
                }
                if let Some(i) = data.iter().position(|x| !x.is_finite()) {
                    return Err(IrError::InputValue {
                        name: v.name.clone(),
                        index: i,
                        detail: format!("{} is not finite", data[i]),
                    });
                }
                if let Some(depth) = g.index_depth(id) {
                    if let Some(i) =
                        data.iter().position(|&x| !(x >= 0.0 && x.fract() == 0.0 && (x as usize) < depth))
                    {
                        return Err(IrError::InputValue {
                            name: v.name.clone(),
                            index: i,
                            detail: format!(
                                "{} is not a token id: the input holds integers in [0, {depth}), the rows of \
                                 the embedding table",
                                data[i]
                            ),
                        });
                    }
                }
                let q = data.iter().map(|&x| quantize(x as f64, v.format.scale, v.format.bits)).collect();
                Tensor::new(v.shape.clone(), q)
            })
            .collect()
    }

    /// Commitments (`commit::tensor_commitment` under `INPUT_DOMAIN`, big-endian hex) of float inputs
    /// quantised at the input scales: what a proof with hashed inputs exposes.
    pub fn input_commitments(&self, inputs: &[Vec<f32>]) -> Result<Vec<String>, IrError> {
        let q = self.quantize_inputs(inputs)?;
        self.graph
            .inputs
            .iter()
            .zip(&q)
            .map(|(&id, t)| {
                let bits = self.graph.value(id)?.format.bits;
                tensor_commitment(INPUT_DOMAIN, t.data(), bits)
                    .map(|c| fr_to_hex(&c))
                    .ok_or_else(|| IrError::Graph(format!("input {id} exceeds its {bits}-bit width")))
            })
            .collect()
    }

    /// Real values of integer outputs.
    pub fn dequantize_outputs(&self, outputs: &[Tensor]) -> Result<Vec<Vec<f32>>, IrError> {
        self.graph
            .outputs
            .iter()
            .zip(outputs)
            .map(|(&id, t)| {
                let s = self.graph.value(id)?.format.scale;
                Ok(t.data().iter().map(|&q| dequantize(q, s) as f32).collect())
            })
            .collect()
    }

    /// Quantised inference from float inputs to float outputs.
    pub fn run(&self, inputs: &[Vec<f32>]) -> Result<Vec<Vec<f32>>, IrError> {
        let q = self.quantize_inputs(inputs)?;
        let out = self.graph.eval(&q)?;
        self.dequantize_outputs(&out)
    }
}
