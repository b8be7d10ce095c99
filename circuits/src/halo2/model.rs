//! From a quantised graph and its evaluation trace to a [`Layout`].
//!
//! Every value becomes a list of cells (one per element). Shape ops move no data: their cell lists are
//! computed by running the op's own `eval` on a tensor of cell indices, so wiring follows the integer
//! semantics by construction. Public instances: the model commitment, then inputs and outputs as their
//! [`VisibilitySettings`] say.

use std::borrow::Cow;

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;

use super::chips::elementwise::{broadcast_arith, Operand};
use super::chips::elementwise::{clip, leaky_relu, reciprocal, relu, rescale, signed_range_check, sqrt};
use super::chips::linear::{activation_matmul, conv2d, linear};
use super::chips::nn::{layer_norm, pool, reduce, softmax};
use super::chips::one_hot::one_hot;
use super::chips::operands::{SharedCells, Weights};
use super::chips::poseidon::{hash, pack, place_and_pack, HashInput};
use super::chips::table::table_lookup;
use super::layout::{fe, Layout, LayoutGoal, LayoutOptions, Pos, MAX_RANGE_COLUMNS};
use super::{CircuitError, ParamVisibility, Visibility, VisibilitySettings};
use crate::commit::{description_digest, INPUT_DOMAIN, MODEL_DOMAIN, OUTPUT_DOMAIN};
use crate::ir::{QGraph, QNode, QOp, Source, Tensor};

pub(crate) use super::chips::linear::sum;
pub(crate) use super::chips::operands::Cells;

/// The op of `node` has no chip (or none for these operands), naming the node.
fn unsupported(node: &QNode) -> CircuitError {
    CircuitError::Unsupported(format!("{} (node `{}`)", node.op.name(), node.name))
}

/// `x @ W` for weights of rank above 2 (`w_shape`): one mat-vec per row of every batch, batch dims
/// broadcast as numpy does.
fn batched_matmul(
    l: &mut Layout,
    x: &Cells,
    x_shape: &[usize],
    (w, sb): (&Weights<'_>, &[usize]),
    out_shape: &[usize],
    shared: &mut SharedCells,
) -> Result<Cells, CircuitError> {
    let (ra, rb) = (x_shape.len(), sb.len());
    if ra < 2 || out_shape.len() < 2 {
        return Err(CircuitError::Unsupported("MatMul".into()));
    }
    let (m, k, n) = (x_shape[ra - 2], x_shape[ra - 1], sb[rb - 1]);
    let batch = &out_shape[..out_shape.len() - 2];
    let ma = crate::ir::tensor_shape::broadcast_index_map(&x_shape[..ra - 2], batch);
    let mb = crate::ir::tensor_shape::broadcast_index_map(&sb[..rb - 2], batch);
    let mut out = Vec::with_capacity(ma.len() * m * n);
    for (&ba, &bb) in ma.iter().zip(&mb) {
        let wm = w
            .gather(bb * k * n..(bb + 1) * k * n)
            .ok_or_else(|| CircuitError::Layout("batched weights".into()))?;
        for i in 0..m {
            let row = x
                .get((ba * m + i) * k..(ba * m + i + 1) * k)
                .ok_or_else(|| CircuitError::Layout("batched input".into()))?;
            out.extend(linear(l, row, &wm, n, None, shared)?);
        }
    }
    Ok(out)
}

fn wire(op: &QOp, input: &Cells, shape: &[usize]) -> Result<Cells, CircuitError> {
    let idx = Tensor::new(shape.to_vec(), (0..input.len() as i64).collect())?;
    let moved = op.eval(&[&idx])?;
    moved
        .data()
        .iter()
        .map(|&i| input.get(i as usize).copied().ok_or_else(|| CircuitError::Layout("wiring index".into())))
        .collect()
}

/// Exposes a tensor's cells as the visibility says: every element as an instance, its commitment (pack +
/// Poseidon under `domain`) as one instance, or nothing. Hashed values are range-checked to `bits` first
/// unless `checked` (packing is injective only for values inside their width).
pub(crate) fn expose(
    l: &mut Layout,
    cells: &[(Pos, i64)],
    bits: u32,
    vis: Visibility,
    domain: u64,
    checked: bool,
) -> Result<(), CircuitError> {
    match vis {
        Visibility::Private => {}
        Visibility::Public => {
            for &(p, v) in cells {
                publish(l, p, fe(v));
            }
        }
        Visibility::Hashed => {
            if !checked {
                for &c in cells {
                    signed_range_check(l, c, bits)?;
                }
            }
            let packed = pack(l, cells, bits)?;
            digest(l, domain, packed)?;
        }
    }
    Ok(())
}

/// Hashes packed elements under `domain` and exposes the digest as the next instance.
fn digest(l: &mut Layout, domain: u64, packed: Vec<(Pos, Fr)>) -> Result<(), CircuitError> {
    let mut inputs = vec![HashInput::Const(Fr::from(domain))];
    inputs.extend(packed.into_iter().map(|(p, v)| HashInput::Cell(p, v)));
    let (p, v) = hash(l, &inputs)?;
    publish(l, p, v);
    Ok(())
}

/// Exposes a cell as the next public instance.
pub(crate) fn publish(l: &mut Layout, p: Pos, v: Fr) {
    l.instance_cells.push((p, l.instance.len()));
    l.instance.push(v);
}

/// Instance 0 of every poai circuit: the model commitment, a constant of the circuit (weights are fixed
/// columns, so the key binds them and the commitment names them).
pub(crate) fn publish_commitment(l: &mut Layout, commitment: Fr) {
    let cell = l.push_witness(commitment);
    l.constants.push((cell, commitment));
    publish(l, cell, commitment);
}

/// Lays out how the circuit names its model, as instance 0, and returns the parameter cells by value id
/// (none for fixed parameters). Fixed: the commitment is a constant ([`publish_commitment`]) and the
/// weights are fixed columns the key binds. Hashed: every parameter tensor becomes range-checked pack
/// rows (private cells), and the commitment is computed from them in the circuit — `Poseidon(domain
/// tag, description digest, packed parameters)`, exactly [`crate::commit::model_commitment`] — so the key
/// depends on the architecture only and the digest alone names the weights.
pub(crate) fn commit_model(
    l: &mut Layout,
    graph: &QGraph,
    commitment: Fr,
    params: ParamVisibility,
) -> Result<Vec<Option<Cells>>, CircuitError> {
    let mut cells = vec![None; graph.values.len()];
    match params {
        ParamVisibility::Fixed => publish_commitment(l, commitment),
        ParamVisibility::Hashed => {
            let mut inputs =
                vec![HashInput::Const(Fr::from(MODEL_DOMAIN)), HashInput::Const(description_digest(graph))];
            for (id, v) in graph.values.iter().enumerate() {
                if let Source::Const { tensor, param: true } = &v.source {
                    let (c, elements) = packed_input(l, tensor.data(), v.format.bits)?;
                    inputs.extend(elements.into_iter().map(|(p, e)| HashInput::Cell(p, e)));
                    cells[id] = Some(c);
                }
            }
            let (p, v) = hash(l, &inputs)?;
            if v != commitment {
                return Err(CircuitError::Layout(
                    "the model commitment does not match the model's parameters".into(),
                ));
            }
            publish(l, p, v);
        }
    }
    Ok(cells)
}

/// Binds a proof to a compute provider: `provider` (an EVM address read as an integer; 0 for none) becomes
/// the next public instance, copy-constrained to a cell, so the proof holds for that value only. A reward
/// contract pays only the address a proof names: copying a proof seen in the mempool gains nothing. Called
/// after every other instance (the provider is the last one).
pub fn bind_provider(l: &mut Layout, provider: Fr) {
    let cell = l.push_witness(provider);
    publish(l, cell, provider);
}

/// A tensor (a model input, or parameters) laid out eight values to a row as the pack rows themselves (no
/// separate rows, no copies), range-checked to its width; returns the value cells and the packed elements.
pub(crate) fn packed_input(
    l: &mut Layout,
    values: &[i64],
    bits: u32,
) -> Result<(Cells, Vec<(Pos, Fr)>), CircuitError> {
    let (c, elements) = place_and_pack(l, values, bits)?;
    for &cell in &c {
        signed_range_check(l, cell, bits)?;
    }
    Ok((c, elements))
}

/// The traced value `id`.
pub(crate) fn traced(trace: &[Option<Tensor>], id: usize) -> Result<&Tensor, CircuitError> {
    trace
        .get(id)
        .and_then(Option::as_ref)
        .ok_or_else(|| CircuitError::Layout(format!("value {id} missing from the trace")))
}

/// Builds the layout of `graph` for the witness `trace` (from [`QGraph::eval_trace`]) as `options` say
/// (a bare `u32` is the range table's width, with shared-operand dot blocks). Public instances, in
/// order: `commitment` (the model commitment, a constant of the circuit), then each input as
/// `vis.input` says, then each output as `vis.output` says.
pub fn build_layout(
    graph: &QGraph,
    trace: &[Option<Tensor>],
    commitment: Fr,
    vis: VisibilitySettings,
    options: impl Into<LayoutOptions>,
) -> Result<Layout, CircuitError> {
    let mut l = Layout::with_options(options.into());
    let mut cells = commit_model(&mut l, graph, commitment, vis.params)?;
    let mut shared = SharedCells::default();

    let value_of = |id: usize| traced(trace, id);
    for &id in &graph.inputs {
        let t = value_of(id)?;
        let bits = graph.value(id)?.format.bits;
        let c = if vis.input == Visibility::Hashed {
            let (c, elements) = packed_input(&mut l, t.data(), bits)?;
            digest(&mut l, INPUT_DOMAIN, elements)?;
            c
        } else {
            // Eight values to a row; they are witnesses range-checked to their width.
            let mut c = Vec::with_capacity(t.len());
            for chunk in t.data().chunks(8) {
                let row = l.push_row();
                for (lane, &v) in chunk.iter().enumerate() {
                    l.lanes[lane][row] = fe(v);
                    let cell = (Pos::Lane(lane, row), v);
                    signed_range_check(&mut l, cell, bits)?;
                    c.push(cell);
                }
            }
            expose(&mut l, &c, bits, vis.input, INPUT_DOMAIN, true)?;
            c
        };
        cells[id] = Some(c);
    }
    lay_out_nodes(&mut l, graph, trace, &mut cells, &mut shared)?;
    for &o in &graph.outputs {
        let c = cells[o].clone().ok_or_else(|| CircuitError::Layout(format!("output {o} not laid out")))?;
        expose(&mut l, &c, graph.value(o)?.format.bits, vis.output, OUTPUT_DOMAIN, false)?;
    }
    Ok(l)
}

/// Lays out every node of `graph` after its inputs' cells are in `cells`, checking each chip's output
/// against the trace (the oracle). Parameter values are constants unless `cells` holds them (hashed
/// parameters); `shared` holds the zero and one cells, made on first use.
pub(crate) fn lay_out_nodes(
    l: &mut Layout,
    graph: &QGraph,
    trace: &[Option<Tensor>],
    cells: &mut [Option<Cells>],
    shared: &mut SharedCells,
) -> Result<(), CircuitError> {
    let value_of = |id: usize| traced(trace, id);
    for node in &graph.nodes {
        let get = |cells: &[Option<Cells>], i: usize| -> Result<Cells, CircuitError> {
            let id = *node
                .inputs
                .get(i)
                .ok_or_else(|| CircuitError::Layout(format!("node `{}` input {i}", node.name)))?;
            cells[id].clone().ok_or_else(|| match graph.values.get(id).map(|v| (&v.name, &v.source)) {
                // A constant fixed in the circuit has no cells; this operand needs them.
                Some((name, Source::Const { .. })) => CircuitError::Unsupported(format!(
                    "{} reading the fixed constant `{name}` (node `{}`)",
                    node.op.name(),
                    node.name
                )),
                _ => unsupported(node),
            })
        };
        let out_shape = &graph.value(node.output)?.shape;
        // A linear op's weights or bias: committed parameter cells, or the constant's values.
        let weights = |cells: &[Option<Cells>], id: usize| -> Result<Weights<'static>, CircuitError> {
            match (&cells[id], &graph.value(id)?.source) {
                (Some(c), _) => Ok(Weights::Cells(Cow::Owned(c.clone()))),
                (None, Source::Const { tensor, .. }) => {
                    Ok(Weights::Fixed(Cow::Owned(tensor.data().to_vec())))
                }
                _ => Err(unsupported(node)),
            }
        };
        let in_fmt = |i: usize| -> Result<crate::ir::FixedFormat, CircuitError> {
            Ok(graph.value(*node.inputs.get(i).ok_or_else(|| CircuitError::Layout("input".into()))?)?.format)
        };
        let out: Cells = match &node.op {
            QOp::MatMul if matches!(graph.value(node.inputs[1])?.source, Source::Const { .. }) => {
                let x = get(cells, 0)?;
                let w_shape = graph.value(node.inputs[1])?.shape.clone();
                let w = weights(cells, node.inputs[1])?;
                if w_shape.len() > 2 && node.inputs.len() == 2 {
                    let x_shape = &graph.value(node.inputs[0])?.shape;
                    batched_matmul(l, &x, x_shape, (&w, &w_shape), out_shape, shared)?
                } else {
                    let &[k, n] = w_shape.as_slice() else {
                        return Err(unsupported(node));
                    };
                    let bias = node.inputs.get(2).map(|&b| weights(cells, b)).transpose()?;
                    if bias.as_ref().is_some_and(|b| b.len() != n) {
                        return Err(unsupported(node));
                    }
                    let mut out = Vec::with_capacity(x.len() / k.max(1) * n);
                    for row in x.chunks(k.max(1)) {
                        out.extend(linear(l, row, &w, n, bias.as_ref(), shared)?);
                    }
                    out
                }
            }
            QOp::Conv(p) => {
                let x = get(cells, 0)?;
                let x_shape = graph.value(node.inputs[0])?.shape.clone();
                let w_shape = graph.value(node.inputs[1])?.shape.clone();
                let w = weights(cells, node.inputs[1])?;
                let bias = node.inputs.get(2).map(|&b| weights(cells, b)).transpose()?;
                conv2d(l, p, &x, &x_shape, &w_shape, &w, bias.as_ref(), shared)?
            }
            QOp::MaxPool(p) | QOp::AvgPool(p) => {
                let shape = graph.value(node.inputs[0])?.shape.clone();
                let max = matches!(node.op, QOp::MaxPool(_));
                pool(l, p, max, &get(cells, 0)?, &shape, in_fmt(0)?.bits, shared)?
            }
            QOp::ReduceSum { axes, .. } | QOp::ReduceMean { axes, .. } => {
                let shape = graph.value(node.inputs[0])?.shape.clone();
                let mean = matches!(node.op, QOp::ReduceMean { .. });
                reduce(l, &get(cells, 0)?, &shape, axes, mean, in_fmt(0)?.bits)?
            }
            QOp::Add | QOp::Sub | QOp::Mul => {
                let map = |i: usize| -> Result<Vec<usize>, CircuitError> {
                    let shape = &graph.value(node.inputs[i])?.shape;
                    Ok(crate::ir::tensor_shape::broadcast_index_map(shape, out_shape))
                };
                let (ma, mb) = (map(0)?, map(1)?);
                let owned = |i: usize| -> Result<Result<Cells, Vec<i64>>, CircuitError> {
                    let id = node.inputs[i];
                    Ok(match (&cells[id], &graph.value(id)?.source) {
                        (Some(c), _) => Ok(c.clone()),
                        (None, Source::Const { tensor, .. }) => Err(tensor.data().to_vec()),
                        _ => return Err(unsupported(node)),
                    })
                };
                let (a, b) = (owned(0)?, owned(1)?);

                let sign = if matches!(node.op, QOp::Sub) { -1 } else { 1 };
                let op = (matches!(node.op, QOp::Mul), sign);
                broadcast_arith(l, (operand(&a), &ma), (operand(&b), &mb), op, shared)?
            }
            QOp::Rescale { shift, bits } => {
                let in_bits = in_fmt(0)?.bits;
                get(cells, 0)?
                    .into_iter()
                    .map(|c| rescale(l, c, *shift, *bits, in_bits))
                    .collect::<Result<_, _>>()?
            }
            QOp::MatMul
                if matches!(
                    graph.value(node.inputs[1])?.source,
                    Source::Node { .. } | Source::Input { .. }
                ) =>
            {
                // Both operands are activations: products by the arith gate, sums by the unit mat-vec.
                if node.inputs.len() > 2 {
                    return Err(unsupported(node));
                }
                let (a, b) = (get(cells, 0)?, get(cells, 1)?);
                let sa = graph.value(node.inputs[0])?.shape.clone();
                let sb = graph.value(node.inputs[1])?.shape.clone();
                activation_matmul(l, (&a, &sa), (&b, &sb), out_shape)?
            }
            QOp::Softmax { axis, exp, out_scale } => {
                let shape = graph.value(node.inputs[0])?.shape.clone();
                let keep = match node.inputs.get(1).map(|&m| graph.value(m).map(|v| &v.source)).transpose()? {
                    None => None,
                    Some(Source::Const { tensor, .. }) => {
                        crate::ir::softmax_mask(&shape, Some(tensor), *axis)?
                    }
                    Some(_) => return Err(unsupported(node)),
                };
                let x = (shape.as_slice(), keep.as_deref());
                softmax(l, &get(cells, 0)?, x, *axis, exp, *out_scale, in_fmt(0)?.bits, shared)?
            }
            QOp::LayerNorm { axis, eps, out_scale } => {
                let n: usize = graph.value(node.inputs[0])?.shape[*axis..].iter().product();
                layer_norm(l, &get(cells, 0)?, n, (*eps, *out_scale), in_fmt(0)?.bits, shared)?
            }
            QOp::Table(spec) => {
                get(cells, 0)?.into_iter().map(|c| table_lookup(l, c, spec)).collect::<Result<_, _>>()?
            }
            QOp::Relu => {
                let bits = in_fmt(0)?.bits;
                relu(l, &get(cells, 0)?, bits)?
            }
            QOp::LeakyRelu { .. } | QOp::Reciprocal { .. } | QOp::Sqrt { .. } | QOp::Clip { .. } => {
                // Element-wise chips built from other gates; they share the zero cell.
                let bits = in_fmt(0)?.bits;
                let z = shared.zero(l);
                get(cells, 0)?
                    .into_iter()
                    .map(|c| match &node.op {
                        QOp::LeakyRelu { alpha, shift } => leaky_relu(l, c, z, *alpha, *shift, bits),
                        QOp::Reciprocal { numerator_log2 } => reciprocal(l, c, z, *numerator_log2, bits),
                        QOp::Sqrt { shift } => sqrt(l, c, z, *shift, bits),
                        QOp::Clip { min, max } => clip(l, c, z, *min, *max, bits),
                        _ => Err(unsupported(node)),
                    })
                    .collect::<Result<_, _>>()?
            }
            QOp::OneHot { depth } => one_hot(l, &get(cells, 0)?, *depth, shared)?,
            QOp::Reshape { .. } => get(cells, 0)?,
            QOp::Concat { .. } => {
                // Each input's cells get consecutive indices; concatenating the index tensors gives the wiring.
                let mut all: Cells = Vec::new();
                let mut idx = Vec::new();
                for i in 0..node.inputs.len() {
                    let c = get(cells, i)?;
                    let shape = graph.value(node.inputs[i])?.shape.clone();
                    idx.push(Tensor::new(shape, (all.len() as i64..(all.len() + c.len()) as i64).collect())?);
                    all.extend(c);
                }
                let moved = node.op.eval(&idx.iter().collect::<Vec<_>>())?;
                moved.data().iter().map(|&i| all[i as usize]).collect()
            }
            QOp::Transpose { .. } | QOp::Slice { .. } | QOp::Gather { .. } => {
                let x = get(cells, 0)?;
                let in_shape = &graph.value(node.inputs[0])?.shape;
                wire(&node.op, &x, in_shape)?
            }
            _ => return Err(unsupported(node)),
        };
        // The layout must reproduce the oracle exactly; a mismatch is a bug in a chip.
        let want = value_of(node.output)?;
        if out.len() != want.len()
            || out.iter().zip(want.data()).any(|(c, &v)| c.1 != v)
            || out_shape.as_slice() != want.shape()
        {
            return Err(CircuitError::Layout(format!(
                "node `{}`: chip output differs from ir::eval",
                node.name
            )));
        }
        cells[node.output] = Some(out);
    }
    Ok(())
}

/// [`build_layout`] with the options that give the smallest circuit for `goal`: least `k`, then fewest
/// range column pairs; Freivalds checks only for [`LayoutGoal::Fast`].
pub fn build_layout_min_k(
    graph: &QGraph,
    trace: &[Option<Tensor>],
    commitment: Fr,
    vis: VisibilitySettings,
    goal: LayoutGoal,
) -> Result<Layout, CircuitError> {
    smallest(|options| build_layout(graph, trace, commitment, vis, options), goal)
}

/// The smallest of the layouts `build` makes for each range-table width: least `k`, then fewest range
/// column pairs (each pair is two advice columns, five fixed columns and a lookup argument, which cost
/// more than the rows a wider table saves), then the wider table (fewer range-check rows). Shared-operand
/// dot blocks are then tried at the chosen width and kept only where they lower `k` or the range pairs:
/// their gates and rotations cost ~20% of proving time at equal `k` (mlp), so they must pay in rows.
/// Freivalds checks of convolutions over committed kernels are tried last, kept on the same terms (they
/// add three second-phase columns and two challenges), and only for [`LayoutGoal::Fast`].
pub(crate) fn smallest(
    build: impl Fn(LayoutOptions) -> Result<Layout, CircuitError>,
    goal: LayoutGoal,
) -> Result<Layout, CircuitError> {
    let cost = |l: &Layout| (l.k(), l.range_columns);
    let mut best: Option<Layout> = None;
    for bits in [16, 14, 12, 10, 8] {
        let l = fewest_range_columns(build(LayoutOptions {
            range_bits: bits,
            shared_dots: false,
            freivalds: false,
        })?);
        if best.as_ref().is_none_or(|b| cost(&l) < cost(b)) {
            best = Some(l);
        }
    }
    let best = best.ok_or_else(|| CircuitError::Layout("no layout".into()))?;
    let bits = best.range_bits;
    let shared =
        fewest_range_columns(build(LayoutOptions { range_bits: bits, shared_dots: true, freivalds: false })?);
    let best = if cost(&shared) < cost(&best) { shared } else { best };
    if goal == LayoutGoal::Narrow {
        return Ok(best);
    }
    let freivalds = fewest_range_columns(build(LayoutOptions {
        range_bits: bits,
        shared_dots: best.shared_dots,
        freivalds: true,
    })?);
    Ok(if cost(&freivalds) < cost(&best) { freivalds } else { best })
}

/// `l` spread over the fewest range column pairs that reach its least `k` (more pairs only where they
/// lower `k`: each costs columns and a lookup).
fn fewest_range_columns(mut l: Layout) -> Layout {
    let mut best = (l.k(), 1);
    for cols in 2..=MAX_RANGE_COLUMNS {
        l.range_columns = cols;
        if l.k() < best.0 {
            best = (l.k(), cols);
        }
    }
    l.range_columns = best.1;
    l
}

/// An owned element-wise operand (cells, or a constant's values) as the chip takes it.
fn operand(o: &Result<Cells, Vec<i64>>) -> Operand<'_> {
    match o {
        Ok(c) => Operand::Cells(c),
        Err(k) => Operand::Constant(k),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail by panicking")]
mod tests {
    use super::*;
    use halo2_base::halo2_proofs::halo2curves::ff::Field;

    /// An empty layout built as `options` say, `rows` main rows long.
    fn of_rows(options: LayoutOptions, rows: usize) -> Layout {
        let mut l = Layout::with_options(options);
        l.lanes[0].resize(rows, Fr::ZERO);
        l
    }

    #[test]
    fn freivalds_checks_are_taken_only_for_the_fast_goal() {
        // Here the checks cut the rows fourfold and so lower k (18 -> 17 with the 2^16 range table).
        let build = |o: LayoutOptions| Ok(of_rows(o, if o.freivalds { 50_000 } else { 200_000 }));
        let fast = smallest(build, LayoutGoal::Fast).unwrap();
        assert!(fast.freivalds);
        assert_eq!(fast.k(), 17);
        let narrow = smallest(build, LayoutGoal::Narrow).unwrap();
        assert!(!narrow.freivalds);
        assert_eq!(narrow.k(), 18);
    }
}
