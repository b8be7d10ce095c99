//! halo2-KZG circuits over BN254 that constrain exactly `ir::eval`.
//!
//! Layout first: [`model::build_layout`] turns a quantised graph and its evaluation trace into an
//! assignment table ([`layout::Layout`]), chip by chip ([`chips`]); [`circuit::ModelCircuit`] copies that
//! table into a single region. Every `QOp` has a chip: `MatMul` and `Conv` with constant weights
//! (+ bias), `Rescale` with saturation, `Relu`, `LeakyRelu`, `Clip`, `Sqrt`, `Reciprocal`, `MaxPool`,
//! `AvgPool`, `ReduceSum`/`ReduceMean`, `Add`/`Sub`/`Mul` (with broadcasting and constant operands),
//! `MatMul` of two activations, tables (Sigmoid, Tanh, Exp, Erf, Gelu), `Softmax`, `LayerNorm`, and the
//! shape ops (a matmul by a constant of rank above 2 is refused by name). Weights are fixed columns
//! (bound by the verifying key); inputs and outputs are private, public or hashed (packing + Poseidon).
//! [`dataset`] binds inputs to rows of a committed dataset (Merkle paths in the circuit) and proves
//! accuracy over a batch of rows. The plan for the rest is in `docs/circuits-design.md`.

pub mod chips;
pub mod circuit;
pub mod dataset;
pub mod forgery;
pub mod layout;
pub mod model;
pub mod visibility;
pub mod witness_search;

use thiserror::Error;

pub use circuit::{ModelCircuit, PoaiConfig};
pub use dataset::{build_dataset_layout, build_dataset_layout_min_k, DatasetMode, DatasetRow};
pub use layout::{CircuitShape, Layout, LayoutGoal, Pos};
pub use model::{bind_provider, build_layout, build_layout_min_k};
pub use visibility::{ParamVisibility, Visibility, VisibilitySettings};

/// Why a circuit could not be built.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CircuitError {
    /// An op has no chip yet.
    #[error("op {0} has no circuit yet")]
    Unsupported(String),
    /// The layout could not be built (inconsistent shapes or a chip disagreeing with `ir::eval`).
    #[error("circuit layout: {0}")]
    Layout(String),
    /// The integer engine rejected the graph or input.
    #[error(transparent)]
    Ir(#[from] crate::ir::IrError),
}
