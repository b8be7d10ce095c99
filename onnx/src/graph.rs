//! The normalised float graph.

use std::collections::{BTreeMap, BTreeSet};

use crate::{FTensor, Op};

/// One float op.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Source node name (unique).
    pub name: String,
    /// Operation.
    pub op: Op,
    /// Input value names (constants or values).
    pub inputs: Vec<String>,
    /// Output value name.
    pub output: String,
}

/// A model after import: typed ops, static shapes, constants folded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Graph {
    /// Model inputs with their shapes.
    pub inputs: Vec<(String, Vec<usize>)>,
    /// The model inputs that hold integers (token ids) rather than real numbers: quantised at scale 0,
    /// and read only as the indices of an embedding lookup ([`Op::OneHot`]).
    pub integer_inputs: BTreeSet<String>,
    /// Model output names.
    pub outputs: Vec<String>,
    /// Constant values by name.
    pub consts: BTreeMap<String, FTensor>,
    /// Shape of every non-constant value.
    pub shapes: BTreeMap<String, Vec<usize>>,
    /// Ops in topological order.
    pub nodes: Vec<Node>,
    /// Default-domain opset of the source model.
    pub opset: i64,
}

impl Graph {
    /// Shape of a value or constant.
    pub fn shape(&self, name: &str) -> Option<&[usize]> {
        self.shapes.get(name).map(Vec::as_slice).or_else(|| self.consts.get(name).map(|c| c.shape.as_slice()))
    }

    /// Number of learned parameters (elements of constants that nodes read).
    pub fn param_count(&self) -> usize {
        let mut seen = std::collections::BTreeSet::new();
        self.nodes
            .iter()
            .flat_map(|n| &n.inputs)
            .filter(|i| seen.insert(i.as_str()))
            .filter_map(|i| self.consts.get(i))
            .map(|c| c.data.len())
            .sum()
    }
}
