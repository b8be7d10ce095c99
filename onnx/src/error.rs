//! Errors of the ONNX front end. Every variant names the file, node or field at fault.

use std::path::PathBuf;

use thiserror::Error;

/// Why a model, an input file or a quantisation was rejected.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OnnxError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not an ONNX model (truncated, or another format).
    #[error("{path} is not a valid ONNX model: {detail}")]
    Decode {
        /// File.
        path: PathBuf,
        /// Decoder message.
        detail: String,
    },
    /// The model uses an opset poai does not support.
    #[error("{path}: ONNX opset {version} is not supported (poai supports opsets 11 to 18)")]
    Opset {
        /// File.
        path: PathBuf,
        /// Declared default-domain opset.
        version: i64,
    },
    /// One or more ops are not supported; every one is listed.
    #[error("unsupported ops: {}", .ops.iter().map(|(n, o)| format!("{o} (node `{n}`)")).collect::<Vec<_>>().join(", "))]
    Unsupported {
        /// `(node name, op type)` for each unsupported node.
        ops: Vec<(String, String)>,
    },
    /// Several problems block the model, every one listed (each names its node, input or tensor).
    #[error("{} problems block this model:{}", .problems.len(), .problems.iter().map(|p| format!("\n  - {p}")).collect::<String>())]
    Problems {
        /// The problems, in the order the model's inputs and nodes meet them.
        problems: Vec<OnnxError>,
    },
    /// A tensor is stored outside the model file.
    #[error("tensor `{name}` is stored in external data; re-export the model with its weights embedded")]
    ExternalData {
        /// Tensor name.
        name: String,
    },
    /// A node reads a value that nothing produces.
    #[error("node `{node}` reads `{value}`, which is neither an input, an initializer nor a node output")]
    MissingValue {
        /// Node name.
        node: String,
        /// Missing value name.
        value: String,
    },
    /// A node's attributes, constant inputs or shapes are outside what poai handles.
    #[error("node `{node}` ({op}): {detail}")]
    Node {
        /// Node name.
        node: String,
        /// ONNX op type.
        op: String,
        /// What is wrong.
        detail: String,
    },
    /// A tensor's data could not be decoded.
    #[error("tensor `{name}`: {detail}")]
    Tensor {
        /// Tensor name.
        name: String,
        /// What is wrong.
        detail: String,
    },
    /// An input or calibration file is malformed.
    #[error("{path}: {detail}")]
    InputFile {
        /// File (or `<memory>`).
        path: PathBuf,
        /// What is wrong, naming the field.
        detail: String,
    },
    /// The float reference run failed.
    #[error("float reference at node `{node}`: {detail}")]
    Reference {
        /// Node name.
        node: String,
        /// Cause.
        detail: String,
    },
    /// Quantisation could not build a valid integer graph.
    #[error("quantisation of `{node}`: {detail}")]
    Quantize {
        /// Node or value name.
        node: String,
        /// What is wrong.
        detail: String,
    },
    /// The integer engine rejected the quantised graph or input.
    #[error(transparent)]
    Ir(#[from] poai_circuits::ir::IrError),
}
