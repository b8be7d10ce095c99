//! The op registry: every ONNX op type poai imports, each registered once by its family's module
//! (`shape`, `linear`, `elementwise`, `nn`, mirroring `poai_circuits::ir::ops`, and `fold`: ops evaluated
//! on constants at import and never proven) with the function that
//! lowers it and what a user must know about it. The support check before import, the dispatch during
//! it and `docs/supported-ops.md` all read this one table, so they cannot drift apart.
//!
//! Adding an ONNX op: write its lowering function in its family's module and add an [`OpImporter`] to
//! that module's `OPS` (plus the integer op, its `eval` and chip if it lowers to a new one; see
//! `docs/adding-an-op.md`).

use super::{elementwise, fold, linear, nn, recurrent, shape, Importer, Lowered, NodeCx};
use crate::Op;

/// Lowers one ONNX node to typed ops (or a constant, an alias, a fusion); the error names what is wrong
/// with this node (the importer adds the node's name and op type).
pub(super) type Lower = fn(&mut Importer, &NodeCx<'_>) -> Result<Lowered, String>;

/// One ONNX op type poai imports.
pub(super) struct OpImporter {
    /// The ONNX op type (default domain).
    pub onnx: &'static str,
    /// Its lowering.
    pub lower: Lower,
    /// What a user must know about it (constant operands, supported attribute values), or empty.
    pub note: &'static str,
}

/// Every family's registrations.
const FAMILIES: [&[OpImporter]; 6] =
    [shape::OPS, linear::OPS, elementwise::OPS, nn::OPS, recurrent::OPS, fold::OPS];

fn all() -> impl Iterator<Item = &'static OpImporter> {
    FAMILIES.into_iter().flatten()
}

/// The importer of `op_type`, if poai supports it.
pub(super) fn lookup(op_type: &str) -> Option<&'static OpImporter> {
    all().find(|o| o.onnx == op_type)
}

/// Every supported ONNX op type with its note, sorted by name.
pub fn supported_ops() -> Vec<(&'static str, &'static str)> {
    let mut ops: Vec<_> = all().map(|o| (o.onnx, o.note)).collect();
    ops.sort_unstable();
    ops
}

/// A node that lowers to one op.
pub(super) fn one(op: Op, inputs: Vec<String>) -> Result<Lowered, String> {
    Ok(Lowered::Ops(vec![(op, inputs)]))
}

/// A node that lowers to several ops, in order.
pub(super) fn ops(list: Vec<(Op, Vec<String>)>) -> Result<Lowered, String> {
    Ok(Lowered::Ops(list))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_type_is_registered_once() {
        let ops = supported_ops();
        for w in ops.windows(2) {
            assert_ne!(w[0].0, w[1].0, "{} is registered by two families", w[0].0);
        }
        assert!(lookup("MatMul").is_some() && lookup("NoSuchOp").is_none());
    }
}
