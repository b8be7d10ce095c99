//! The quantised intermediate representation and its integer reference semantics.
//!
//! Everything poai proves is defined here: [`QGraph`] holds integer ops ([`QOp`]) over fixed-point
//! tensors, and [`QGraph::eval`] computes the quantised forward pass bit-exactly. Rounding, rescale and
//! saturation rules live once in [`fixed`]; non-linear functions are integer tables ([`table`]). Witness
//! generation calls `eval`, and each circuit chip constrains exactly the op it mirrors.
//!
//! `eval` is deterministic: integer arithmetic only (tables are built from `f64` once, from the same
//! function everywhere), and parallel loops write disjoint outputs with no reduction across threads.

mod error;
pub mod fixed;
mod graph;
pub mod ops;
pub mod table;
mod tensor;

pub use error::IrError;
pub use fixed::FixedFormat;
pub use graph::{QGraph, QNode, QValue, Source, ValueId};
pub use ops::{softmax_mask, ConvParams, PoolParams, QOp, SliceAxis};
pub use table::{NonLinear, TableSpec, MAX_INTERP_BITS, MAX_TABLE_BITS};
pub use tensor::{broadcast_shape, numel, strides, Tensor};

/// Shape helpers shared with the front end's shape inference.
pub mod tensor_shape {
    pub use super::ops::window_out;
    pub use super::tensor::{broadcast_index_map, broadcast_shape};
}
