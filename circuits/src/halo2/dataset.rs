//! Dataset-bound circuits: inference on rows of a committed dataset ([`crate::commit::merkle`]).
//!
//! - **Membership**: one row. The input is laid out as its own pack rows, hashed into the row's leaf
//!   together with the row's index and label code, and the leaf is carried up a Merkle path (one swap row
//!   and one Poseidon permutation per level) to the root, a public instance. The row, its index and its
//!   label stay private; outputs are exposed as the output visibility says.
//! - **Accuracy**: `batch` consecutive rows `start..start + batch` in one proof. Row `j`'s leaf index is
//!   `start + j` computed in the circuit from the public `start`, every row's path ends at the same public
//!   root, and per row the circuit finds the first index of the largest output and compares it with the
//!   label; public are only the root, `start`, `end` and the number of correct rows.
//!
//! Public instances: model commitment, dataset root, then outputs (membership) or `start`, `end`,
//! `correct` (accuracy).

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::plonk::{Expression, VirtualCells};
use serde::{Deserialize, Serialize};

use super::chips::elementwise::{arith, constant_cell, is_zero, max2};
use super::chips::gate::{constant, GateColumns};
use super::chips::linear::matvec;
use super::chips::operands::SharedCells;
use super::chips::poseidon::{hash, HashInput};
use super::layout::{fe, Gate, Layout, LayoutGoal, LayoutOptions, Pos};
use super::model::{
    commit_model, expose, lay_out_nodes, packed_input, publish, smallest, sum, traced, Cells,
};
use super::{CircuitError, ParamVisibility, Visibility};
use crate::commit::merkle::{label_code, MerklePath, LEAF_DOMAIN, NODE_DOMAIN};
use crate::commit::OUTPUT_DOMAIN;
use crate::ir::{QGraph, Tensor};

/// What a dataset-bound circuit proves; fixed at setup (it shapes the circuit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DatasetMode {
    /// Inference on one row of a dataset whose tree has `depth` levels.
    Membership {
        /// Tree depth.
        depth: u32,
    },
    /// Inference on `batch` consecutive rows and the count of rows whose argmax equals the label.
    Accuracy {
        /// Tree depth.
        depth: u32,
        /// Rows per proof.
        batch: u32,
    },
}

impl DatasetMode {
    /// Tree depth.
    pub fn depth(&self) -> u32 {
        match *self {
            Self::Membership { depth } | Self::Accuracy { depth, .. } => depth,
        }
    }

    /// Rows one proof covers.
    pub fn rows(&self) -> usize {
        match *self {
            Self::Membership { .. } => 1,
            Self::Accuracy { batch, .. } => batch as usize,
        }
    }
}

/// One dataset row as the circuit needs it: the model's evaluation trace on the row's quantised input,
/// the row's index and label, and its Merkle path.
#[derive(Clone, Debug)]
pub struct DatasetRow {
    /// [`QGraph::eval_trace`] on the row.
    pub trace: Vec<Option<Tensor>>,
    /// Row index (hashed into the leaf).
    pub index: u64,
    /// Label, if the row has one.
    pub label: Option<u32>,
    /// Path from the row's leaf to the root.
    pub path: MerklePath,
}

/// The cell of a fresh integer witness (a row of its own, no gate).
fn witness(l: &mut Layout, v: i64) -> (Pos, i64) {
    (l.push_witness(fe(v)), v)
}

/// Carries `leaf` up `path`; returns the root cell.
///
/// Uniqueness ([`Gate::Swap`], lanes `b, cur, sib, left, right`): `b·(1 - b) = 0` makes `b` a bit, and
/// then `left, right` are linear in `cur, sib`. The sibling and `b` are free witnesses: the path is the
/// prover's to choose, and only Poseidon's collision resistance ties it to the public root (a leaf hashes
/// its own index, so a row proves only where the dataset put it). The bit constraint is essential, not a
/// formality: with `b` free, `sib = left + right - cur` and `b = (left - cur)/(sib - cur)` carry any `cur`
/// into a real node pair (`forgery::forge_swap`).
pub fn merkle_root(l: &mut Layout, leaf: (Pos, Fr), path: &MerklePath) -> Result<(Pos, Fr), CircuitError> {
    let mut cur = leaf;
    for (level, &sib) in path.siblings.iter().enumerate() {
        let right = path.is_right(level);
        let (lv, rv) = if right { (sib, cur.1) } else { (cur.1, sib) };
        let row = l.push_row();
        l.selectors[Gate::Swap as usize][row] = true;
        use swap_row::{B, CUR, LEFT, RIGHT, SIB};
        for (lane, v) in [(B, fe(i64::from(right))), (CUR, cur.1), (SIB, sib), (LEFT, lv), (RIGHT, rv)] {
            l.lanes[lane][row] = v;
        }
        l.copies.push((Pos::Lane(CUR, row), cur.0));
        cur = hash(
            l,
            &[
                HashInput::Const(Fr::from(NODE_DOMAIN)),
                HashInput::Cell(Pos::Lane(LEFT, row), lv),
                HashInput::Cell(Pos::Lane(RIGHT, row), rv),
            ],
        )?;
    }
    Ok(cur)
}

/// Lanes of a Merkle swap row: the direction bit, the current node, its sibling, and the ordered pair.
mod swap_row {
    pub(super) const B: usize = 0;
    pub(super) const CUR: usize = 1;
    pub(super) const SIB: usize = 2;
    pub(super) const LEFT: usize = 3;
    pub(super) const RIGHT: usize = 4;
}

/// [`Gate::Swap`]: `b` a bit, `left = cur + b·(sib - cur)`, `right = sib + b·(cur - sib)`. Uniqueness: on
/// [`merkle_root`].
pub(crate) fn swap_gate(
    c: &GateColumns,
    m: &mut VirtualCells<'_, Fr>,
    q: Expression<Fr>,
) -> Vec<Expression<Fr>> {
    use swap_row::{B, CUR, LEFT, RIGHT, SIB};
    let [b, cur, sib, left, right] = c.lanes(m, [B, CUR, SIB, LEFT, RIGHT]);
    vec![
        q.clone() * b.clone() * (constant(1) - b.clone()),
        q.clone() * (left - cur.clone() - b.clone() * (sib.clone() - cur.clone())),
        q * (right - sib.clone() - b * (cur - sib)),
    ]
}

/// `1` if the first index of the largest of `out` equals `label`, else `0` (ties go to the lowest index,
/// as [`first_argmax`]). `bits` is the outputs' width.
///
/// Uniqueness: the maximum comes from [`max2`] (range-checked differences), each flag from [`is_zero`]
/// (forced), and everything else (the one-hot of first maxima, the prediction, the comparison) is a
/// polynomial in those: no free witness, so a tie cannot be counted for a later maximum.
pub fn argmax_matches(
    l: &mut Layout,
    out: &[(Pos, i64)],
    label: (Pos, i64),
    bits: u32,
    zero: (Pos, i64),
) -> Result<(Pos, i64), CircuitError> {
    let (&first, rest) = out.split_first().ok_or_else(|| CircuitError::Layout("argmax of nothing".into()))?;
    let mx = rest.iter().try_fold(first, |m, &c| max2(l, m, c, bits))?;
    // firsts[i] = [out_i = max] · Π_{j<i} [out_j != max]: one-hot at the first maximum.
    let mut none_yet = constant_cell(l, zero, 1);
    let mut firsts = Vec::with_capacity(out.len());
    for (i, &c) in out.iter().enumerate() {
        let d = arith(l, c, mx, [1, -1, 0, 0]);
        let is_max = is_zero(l, d, zero);
        firsts.push(arith(l, is_max, none_yet, [0, 0, 1, 0]));
        if i + 1 < out.len() {
            none_yet = arith(l, none_yet, is_max, [1, 0, -1, 0]);
        }
    }
    let positions: Vec<i64> = (0..out.len() as i64).collect();
    let pred = matvec(l, &firsts, &positions, 1, None)?
        .pop()
        .ok_or_else(|| CircuitError::Layout("argmax".into()))?;
    let values: Vec<i64> = out.iter().map(|c| c.1).collect();
    if Some(pred.1 as usize) != first_argmax(&values) {
        return Err(CircuitError::Layout("argmax chip differs from the native argmax".into()));
    }
    let d = arith(l, pred, label, [1, -1, 0, 0]);
    Ok(is_zero(l, d, zero))
}

/// Index of the first largest value (`None` for an empty slice): the prediction an accuracy proof
/// counts.
pub fn first_argmax(values: &[i64]) -> Option<usize> {
    let max = values.iter().max()?;
    values.iter().position(|v| v == max)
}

/// What [`lay_out_row`] returns: the root cell, the model output's cells and the label-code cell.
type LaidOutRow = ((Pos, Fr), Cells, (Pos, i64));

/// Lays out one row: its input as pack rows, its leaf, its path, and the model on it (over the shared
/// parameter cells `params`, if hashed). Returns the root cell, the output cells of the single model
/// output and the label-code cell.
fn lay_out_row(
    l: &mut Layout,
    (graph, params): (&QGraph, &[Option<Cells>]),
    row: &DatasetRow,
    index: (Pos, i64),
    shared: &mut SharedCells,
) -> Result<LaidOutRow, CircuitError> {
    let (&[input], &[output]) = (graph.inputs.as_slice(), graph.outputs.as_slice()) else {
        return Err(CircuitError::Layout(
            "a dataset-bound circuit needs a model with exactly one input and one output".into(),
        ));
    };
    let bits = graph.value(input)?.format.bits;
    let (values, elements) = packed_input(l, traced(&row.trace, input)?.data(), bits)?;
    let code = witness(l, label_code(row.label) as i64);
    let mut pre = vec![
        HashInput::Const(Fr::from(LEAF_DOMAIN)),
        HashInput::Cell(index.0, fe(index.1)),
        HashInput::Cell(code.0, fe(code.1)),
    ];
    pre.extend(elements.into_iter().map(|(p, v)| HashInput::Cell(p, v)));
    let leaf = hash(l, &pre)?;
    let root = merkle_root(l, leaf, &row.path)?;
    let mut cells = params.to_vec();
    cells[input] = Some(values);
    lay_out_nodes(l, graph, &row.trace, &mut cells, shared)?;
    let out = cells[output].take().ok_or_else(|| CircuitError::Layout("output not laid out".into()))?;
    Ok((root, out, code))
}

/// Builds the layout of a dataset-bound circuit for `rows` (one for membership, `batch` consecutive
/// ones for accuracy), built as `options` say (a bare `u32` is the range table's width).
pub fn build_dataset_layout(
    graph: &QGraph,
    rows: &[DatasetRow],
    commitment: Fr,
    mode: DatasetMode,
    (output, params): (Visibility, ParamVisibility),
    options: impl Into<LayoutOptions>,
) -> Result<Layout, CircuitError> {
    if rows.len() != mode.rows() {
        return Err(CircuitError::Layout(format!("{} rows for a circuit of {}", rows.len(), mode.rows())));
    }
    if let Some(r) = rows.iter().find(|r| r.path.siblings.len() != mode.depth() as usize) {
        return Err(CircuitError::Layout(format!(
            "row {} has a path of {} levels, the circuit {}",
            r.index,
            r.path.siblings.len(),
            mode.depth()
        )));
    }
    let mut l = Layout::with_options(options.into());
    let mut shared = SharedCells::default();
    let params = commit_model(&mut l, graph, commitment, params)?;
    match mode {
        DatasetMode::Membership { .. } => {
            let row = &rows[0];
            let index = witness(&mut l, row.index as i64);
            let (root, out, _) = lay_out_row(&mut l, (graph, &params), row, index, &mut shared)?;
            publish(&mut l, root.0, root.1);
            let bits = graph.value(graph.outputs[0])?.format.bits;
            expose(&mut l, &out, bits, output, OUTPUT_DOMAIN, false)?;
        }
        DatasetMode::Accuracy { batch, .. } => {
            let start = witness(&mut l, rows[0].index as i64);
            let z = shared.zero(&mut l);
            let bits = graph.value(graph.outputs[0])?.format.bits;
            let mut root_cell: Option<(Pos, Fr)> = None;
            let mut correct = Vec::with_capacity(rows.len());
            for (j, row) in rows.iter().enumerate() {
                if row.index != rows[0].index + j as u64 {
                    return Err(CircuitError::Layout("accuracy rows must be consecutive".into()));
                }
                let index = arith(&mut l, start, z, [1, 0, 0, j as i64]);
                let (root, out, code) = lay_out_row(&mut l, (graph, &params), row, index, &mut shared)?;
                match root_cell {
                    None => root_cell = Some(root),
                    Some(first) => l.copies.push((root.0, first.0)),
                }
                let label = arith(&mut l, code, z, [1, 0, 0, -1]);
                correct.push(argmax_matches(&mut l, &out, label, bits, z)?);
            }
            let root = root_cell.ok_or_else(|| CircuitError::Layout("no rows".into()))?;
            publish(&mut l, root.0, root.1);
            publish(&mut l, start.0, fe(start.1));
            let end = arith(&mut l, start, z, [1, 0, 0, i64::from(batch)]);
            publish(&mut l, end.0, fe(end.1));
            let count = sum(&mut l, &correct)?;
            publish(&mut l, count.0, fe(count.1));
        }
    }
    Ok(l)
}

/// [`build_dataset_layout`] with the options that give the smallest circuit for `goal`.
pub fn build_dataset_layout_min_k(
    graph: &QGraph,
    rows: &[DatasetRow],
    commitment: Fr,
    mode: DatasetMode,
    vis: (Visibility, ParamVisibility),
    goal: LayoutGoal,
) -> Result<Layout, CircuitError> {
    smallest(|options| build_dataset_layout(graph, rows, commitment, mode, vis, options), goal)
}
