//! Errors of the integer engine.

use thiserror::Error;

/// Why a quantised graph or an evaluation was rejected.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IrError {
    /// Data length does not match the shape.
    #[error("tensor of shape {shape:?} cannot hold {len} values")]
    ShapeData {
        /// Declared shape.
        shape: Vec<usize>,
        /// Number of values given.
        len: usize,
    },
    /// Two shapes cannot broadcast.
    #[error("shapes {a:?} and {b:?} do not broadcast")]
    Broadcast {
        /// First shape.
        a: Vec<usize>,
        /// Second shape.
        b: Vec<usize>,
    },
    /// Wrong number of inputs for an op.
    #[error("{op} takes {expected} inputs, got {got}")]
    Arity {
        /// Op name.
        op: &'static str,
        /// Minimum expected.
        expected: usize,
        /// Given.
        got: usize,
    },
    /// Shapes or parameters an op cannot work with.
    #[error("{op}: {detail}")]
    Shape {
        /// Op name.
        op: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// A graph that is not well formed (dangling value, cycle, duplicate producer).
    #[error("malformed graph: {0}")]
    Graph(String),
    /// The wrong number of inputs was given to `eval`.
    #[error("the model takes {expected} inputs, got {got}")]
    InputCount {
        /// Model inputs.
        expected: usize,
        /// Given.
        got: usize,
    },
    /// An input tensor has the wrong shape.
    #[error("input `{name}` must have shape {expected:?}, got {got:?}")]
    InputShape {
        /// Input name.
        name: String,
        /// Declared shape.
        expected: Vec<usize>,
        /// Given shape.
        got: Vec<usize>,
    },
    /// An input value lies outside the input's bit width.
    #[error("input `{name}` element {index} = {value} lies outside the {bits}-bit range")]
    InputRange {
        /// Input name.
        name: String,
        /// Flat index.
        index: usize,
        /// Offending value.
        value: i64,
        /// Bit width.
        bits: u32,
    },
    /// An input value cannot be quantised.
    #[error("input `{name}` element {index}: {detail}")]
    InputValue {
        /// Input name.
        name: String,
        /// Flat index.
        index: usize,
        /// What is wrong.
        detail: String,
    },
    /// A compiled-model artifact is malformed.
    #[error("compiled model: {0}")]
    Artifact(String),
    /// An op failed at a named node.
    #[error("node `{node}`: {source}")]
    Node {
        /// Node name.
        node: String,
        /// Underlying error.
        #[source]
        source: Box<IrError>,
    },
}
