//! Committed datasets: JSON-lines rows quantised with a compiled model's input format, their Merkle tree
//! ([`poai_circuits::commit::merkle`]) and the dataset file that holds everything a prover needs to
//! rebuild any row's path.
//!
//! Dataset file (JSON): `format` `"poai-dataset"`, `version`, `root` (the commitment, hex), `rows`,
//! `depth`, the input format the rows were quantised for (`input`: shape, scale, bits) and the quantised
//! rows with their labels (`data`). Reading one rebuilds the tree and checks the stated root.

use std::path::{Path, PathBuf};

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use poai_circuits::commit::fr_to_hex;
use poai_circuits::commit::merkle::{leaf_hash, MerkleTree};
use poai_circuits::model::CompiledModel;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ProverError;

/// The model input format a dataset's rows were quantised for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetInput {
    /// Input shape.
    pub shape: Vec<usize>,
    /// Fixed-point scale (value = q / 2^scale).
    pub scale: i32,
    /// Bit width of each value.
    pub bits: u32,
}

impl DatasetInput {
    /// The input format of `model` (which must have exactly one input).
    pub fn of(model: &CompiledModel) -> Result<Self, ProverError> {
        let g = &model.graph;
        let &[id] = g.inputs.as_slice() else {
            return Err(ProverError::Mismatch(format!(
                "datasets need a model with exactly one input; this one has {}",
                g.inputs.len()
            )));
        };
        let v = g.value(id).map_err(crate::circuit_err)?;
        Ok(Self { shape: v.shape.clone(), scale: v.format.scale, bits: v.format.bits })
    }
}

/// One quantised row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetRecord {
    /// Quantised input values.
    pub input: Vec<i64>,
    /// Class label, if the row has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<u32>,
}

/// A committed dataset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetFile {
    /// Always `"poai-dataset"`.
    pub format: String,
    /// Format version ([`DatasetFile::VERSION`]).
    pub version: u32,
    /// The dataset commitment: the Merkle root (hex field element).
    pub root: String,
    /// Number of rows.
    pub rows: usize,
    /// Tree depth (levels of a path).
    pub depth: u32,
    /// Input format of the rows.
    pub input: DatasetInput,
    /// The quantised rows, in order.
    pub data: Vec<DatasetRecord>,
}

/// One line of a JSON-lines dataset.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRow {
    input: Vec<f32>,
    #[serde(default)]
    label: Option<u32>,
}

fn dataset_err(path: &Path, detail: impl Into<String>) -> ProverError {
    ProverError::Dataset { path: path.to_path_buf(), detail: detail.into() }
}

impl DatasetFile {
    /// The `format` string.
    pub const FORMAT: &'static str = "poai-dataset";
    /// The format version.
    pub const VERSION: u32 = 1;

    /// Reads JSON-lines rows `{"input": [f32, ...], "label": int}` (label optional; blank lines skipped),
    /// quantises them with `model`'s input format and commits to them. `path` names the source in errors,
    /// which give the line number.
    pub fn from_jsonl(text: &str, path: &Path, model: &CompiledModel) -> Result<Self, ProverError> {
        let input = DatasetInput::of(model)?;
        let mut data = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let at = |d: String| dataset_err(path, format!("line {}: {d}", n + 1));
            let raw: RawRow = serde_json::from_str(line).map_err(|e| at(e.to_string()))?;
            if raw.label == Some(u32::MAX) {
                return Err(at("label too large".into()));
            }
            let q = model.quantize_inputs(&[raw.input]).map_err(|e| at(e.to_string()))?;
            let values = q.into_iter().next().map(|t| t.data().to_vec()).unwrap_or_default();
            data.push(DatasetRecord { input: values, label: raw.label });
        }
        if data.is_empty() {
            return Err(dataset_err(path, "no rows"));
        }
        let tree = tree_of(&data, input.bits).map_err(|d| dataset_err(path, d))?;
        Ok(Self {
            format: Self::FORMAT.into(),
            version: Self::VERSION,
            root: fr_to_hex(&tree.root()),
            rows: data.len(),
            depth: tree.depth(),
            input,
            data,
        })
    }

    /// Parses a dataset file and checks it: identity, row count, every row's width, and that the tree
    /// rebuilt from the rows has the stated depth and root. Returns the file and its tree.
    pub fn from_json(bytes: &[u8], path: &Path) -> Result<(Self, MerkleTree), ProverError> {
        let d: Self = serde_json::from_slice(bytes).map_err(|e| dataset_err(path, e.to_string()))?;
        if d.format != Self::FORMAT || d.version != Self::VERSION {
            return Err(dataset_err(
                path,
                format!(
                    "expected a version-{} {}, found {} v{}",
                    Self::VERSION,
                    Self::FORMAT,
                    d.format,
                    d.version
                ),
            ));
        }
        if d.rows != d.data.len() {
            return Err(dataset_err(path, format!("states {} rows but holds {}", d.rows, d.data.len())));
        }
        let n: usize = d.input.shape.iter().product();
        if let Some(i) = d.data.iter().position(|r| r.input.len() != n) {
            return Err(dataset_err(
                path,
                format!("row {i} has {} values, the input {n}", d.data[i].input.len()),
            ));
        }
        let tree = tree_of(&d.data, d.input.bits).map_err(|e| dataset_err(path, e))?;
        if tree.depth() != d.depth || fr_to_hex(&tree.root()) != d.root {
            return Err(dataset_err(
                path,
                "the rows do not hash to the stated root and depth (file altered?)",
            ));
        }
        Ok((d, tree))
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> Result<Vec<u8>, ProverError> {
        serde_json::to_vec(self).map_err(|e| dataset_err(&PathBuf::from("dataset"), e.to_string()))
    }

    /// Checks that `model` takes inputs in the format the rows were quantised for.
    pub fn check_model(&self, model: &CompiledModel) -> Result<(), ProverError> {
        let want = DatasetInput::of(model)?;
        if want != self.input {
            return Err(ProverError::Mismatch(format!(
                "the dataset was quantised for input {:?} (scale {}, {} bits), the model takes {:?} (scale {}, {} bits)",
                self.input.shape, self.input.scale, self.input.bits, want.shape, want.scale, want.bits
            )));
        }
        Ok(())
    }
}

/// The tree over `rows` (leaves hashed in parallel).
fn tree_of(rows: &[DatasetRecord], bits: u32) -> Result<MerkleTree, String> {
    let leaves: Vec<Fr> = rows
        .par_iter()
        .enumerate()
        .map(|(i, r)| {
            leaf_hash(i as u64, r.label, &r.input, bits)
                .ok_or_else(|| format!("row {i} has a value outside {bits} bits"))
        })
        .collect::<Result<_, _>>()?;
    MerkleTree::new(leaves).ok_or_else(|| "too many rows".to_string())
}
