//! The quantised graph: values with fixed-point formats, and nodes in topological order.

use serde::{Deserialize, Serialize};

use super::fixed::{signed_range, FixedFormat, MAX_BITS};
use super::ops::QOp;
use super::{IrError, Tensor};

/// Index of a value in [`QGraph::values`].
pub type ValueId = usize;

/// Where a value comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// The `index`-th model input.
    Input {
        /// Position among the model inputs.
        index: usize,
    },
    /// A constant (weights, biases, quantised parameters).
    Const {
        /// The constant's values.
        tensor: Tensor,
        /// True for learned parameters (committed as the model's weights), false for structural
        /// constants such as a LayerNorm epsilon.
        param: bool,
    },
    /// The output of `nodes[index]`.
    Node {
        /// Producing node.
        index: usize,
    },
}

/// A tensor value of the graph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QValue {
    /// Name from the source model (or derived from it for inserted values).
    pub name: String,
    /// Static shape.
    pub shape: Vec<usize>,
    /// Fixed-point format.
    pub format: FixedFormat,
    /// Producer.
    pub source: Source,
}

/// One quantised operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QNode {
    /// Name (the source ONNX node's, with a suffix for inserted steps).
    pub name: String,
    /// Operation.
    pub op: QOp,
    /// Input values.
    pub inputs: Vec<ValueId>,
    /// Output value.
    pub output: ValueId,
}

/// A quantised model: the one definition of what poai proves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QGraph {
    /// All values (inputs, constants, node outputs).
    pub values: Vec<QValue>,
    /// Nodes in topological order.
    pub nodes: Vec<QNode>,
    /// Model inputs, in order.
    pub inputs: Vec<ValueId>,
    /// Model outputs, in order.
    pub outputs: Vec<ValueId>,
}

impl QGraph {
    /// The number of classes of the one-hot encodings (embedding lookups) that read `value`, directly
    /// or through reshapes: the exclusive bound on its entries, which are token ids. `None` when no
    /// one-hot encoding reads it.
    pub fn index_depth(&self, value: ValueId) -> Option<usize> {
        let mut depth = None;
        let mut frontier = vec![value];
        while let Some(v) = frontier.pop() {
            for n in self.nodes.iter().filter(|n| n.inputs.contains(&v)) {
                match n.op {
                    QOp::Reshape { .. } => frontier.push(n.output),
                    QOp::OneHot { depth: d } => depth = Some(depth.map_or(d, |m: usize| m.min(d))),
                    _ => {}
                }
            }
        }
        depth
    }

    /// Checks that the graph is well formed: every reference in range, nodes topologically ordered,
    /// every value produced exactly once, formats within limits. Artifacts read from disk are checked
    /// with this before anything evaluates them.
    pub fn validate(&self) -> Result<(), IrError> {
        let n = self.values.len();
        let mut ready = vec![false; n];
        for (i, v) in self.values.iter().enumerate() {
            if v.format.bits == 0 || v.format.bits > 62 {
                return Err(IrError::Graph(format!("value `{}` has bit width {}", v.name, v.format.bits)));
            }
            match &v.source {
                Source::Input { index } => {
                    if self.inputs.get(*index) != Some(&i) {
                        return Err(IrError::Graph(format!("input `{}` is not model input {index}", v.name)));
                    }
                    if v.format.bits > MAX_BITS {
                        return Err(IrError::Graph(format!(
                            "input `{}` is wider than {MAX_BITS} bits",
                            v.name
                        )));
                    }
                    ready[i] = true;
                }
                Source::Const { tensor, .. } => {
                    if tensor.shape() != v.shape.as_slice() {
                        return Err(IrError::Graph(format!("constant `{}` shape mismatch", v.name)));
                    }
                    ready[i] = true;
                }
                Source::Node { index } => {
                    if self.nodes.get(*index).map(|node| node.output) != Some(i) {
                        return Err(IrError::Graph(format!("value `{}` names node {index} wrongly", v.name)));
                    }
                }
            }
        }
        for node in &self.nodes {
            if let QOp::Table(spec) | QOp::Softmax { exp: spec, .. } = &node.op {
                spec.check().map_err(|e| IrError::Graph(format!("node `{}`: {e}", node.name)))?;
            }
            for &input in &node.inputs {
                if !ready.get(input).copied().unwrap_or(false) {
                    return Err(IrError::Graph(format!(
                        "node `{}` reads value {input} before it exists",
                        node.name
                    )));
                }
            }
            match ready.get_mut(node.output) {
                Some(slot @ false) => *slot = true,
                _ => {
                    return Err(IrError::Graph(format!(
                        "node `{}` output {} is invalid",
                        node.name, node.output
                    )))
                }
            }
        }
        for &o in self.outputs.iter().chain(&self.inputs) {
            if !ready.get(o).copied().unwrap_or(false) {
                return Err(IrError::Graph(format!("graph input/output {o} is never produced")));
            }
        }
        Ok(())
    }

    /// The value with this id.
    pub fn value(&self, id: ValueId) -> Result<&QValue, IrError> {
        self.values.get(id).ok_or_else(|| IrError::Graph(format!("no value {id}")))
    }

    /// Runs the quantised forward pass, returning the model outputs.
    pub fn eval(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>, IrError> {
        let trace = self.eval_trace(inputs)?;
        self.outputs
            .iter()
            .map(|&o| trace[o].clone().ok_or_else(|| IrError::Graph(format!("output {o}"))))
            .collect()
    }

    /// Runs the quantised forward pass, returning every value (the witness a prover needs), indexed like
    /// [`QGraph::values`]. Constants are `None` (read them from the graph).
    pub fn eval_trace(&self, inputs: &[Tensor]) -> Result<Vec<Option<Tensor>>, IrError> {
        self.validate()?;
        if inputs.len() != self.inputs.len() {
            return Err(IrError::InputCount { expected: self.inputs.len(), got: inputs.len() });
        }
        let mut slots: Vec<Option<Tensor>> = vec![None; self.values.len()];
        for (&id, t) in self.inputs.iter().zip(inputs) {
            let v = &self.values[id];
            if t.shape() != v.shape.as_slice() {
                return Err(IrError::InputShape {
                    name: v.name.clone(),
                    expected: v.shape.clone(),
                    got: t.shape().to_vec(),
                });
            }
            let (lo, hi) = signed_range(v.format.bits);
            if let Some((index, &value)) = t.data().iter().enumerate().find(|(_, &x)| x < lo || x > hi) {
                return Err(IrError::InputRange { name: v.name.clone(), index, value, bits: v.format.bits });
            }
            slots[id] = Some(t.clone());
        }
        for node in &self.nodes {
            let args: Vec<&Tensor> = node
                .inputs
                .iter()
                .map(|&i| match (&slots[i], &self.values[i].source) {
                    (Some(t), _) => Ok(t),
                    (None, Source::Const { tensor, .. }) => Ok(tensor),
                    _ => Err(IrError::Graph(format!("value {i} not computed"))),
                })
                .collect::<Result<_, _>>()?;
            let wrap = |e: IrError| IrError::Node { node: node.name.clone(), source: Box::new(e) };
            let out = node.op.eval(&args).map_err(wrap)?;
            let declared = &self.values[node.output].shape;
            if out.shape() != declared.as_slice() {
                return Err(wrap(IrError::Shape {
                    op: node.op.name(),
                    detail: format!("computed shape {:?}, declared {declared:?}", out.shape()),
                }));
            }
            slots[node.output] = Some(out);
        }
        Ok(slots)
    }

    /// Number of learned parameters (elements of `param` constants).
    pub fn param_count(&self) -> usize {
        self.values
            .iter()
            .map(|v| match &v.source {
                Source::Const { tensor, param: true } => tensor.len(),
                _ => 0,
            })
            .sum()
    }
}
