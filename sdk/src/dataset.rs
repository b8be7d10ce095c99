//! Committed datasets: JSON-lines rows quantised in a model's input format and committed to with a
//! Poseidon Merkle tree, whose root proofs of membership and of accuracy expose.

use std::path::Path;

use poai_onnx::CompiledModel;
use poai_prover::DatasetFile;

use crate::Error;

/// Reads JSON-lines rows (`{"input": [...], "label": 3}`) from `jsonl`, quantises them with `model`'s
/// input format and commits to them. Write the result with [`DatasetFile::to_json`].
pub fn commit(jsonl: &Path, model: &CompiledModel) -> Result<DatasetFile, Error> {
    let text =
        std::fs::read_to_string(jsonl).map_err(|source| Error::Read { path: jsonl.to_path_buf(), source })?;
    Ok(DatasetFile::from_jsonl(&text, jsonl, model)?)
}
