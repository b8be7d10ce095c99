//! From a quantised graph and its evaluation trace to a [`Layout`].
//!
//! Every value becomes a list of cells (one per element). Shape ops move no data: their cell lists are
//! computed by running the op's own `eval` on a tensor of cell indices, so wiring follows the integer
//! semantics by construction. Public instances: the model commitment, then inputs and outputs as their
//! [`VisibilitySettings`] say.

use std::borrow::Cow;

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;

use super::chips::elementwise::{
    arith, clip, div_round, leaky_relu, max2, reciprocal, relu, rescale, signed_range_check, sqrt,
    sqrt_round, var_div,
};
use super::chips::linear::{conv2d, linear, matvec};
use super::chips::operands::{SharedCells, Weights};
use super::chips::poseidon::{hash, pack, place_and_pack, HashInput};
use super::chips::table::table_lookup;
use super::layout::{fe, Layout, LayoutGoal, LayoutOptions, Pos, MAX_RANGE_COLUMNS};
use super::{CircuitError, ParamVisibility, Visibility, VisibilitySettings};
use crate::commit::{description_digest, INPUT_DOMAIN, MODEL_DOMAIN, OUTPUT_DOMAIN};
use crate::ir::{QGraph, QOp, Source, Tensor};

/// Cells of one value, row-major, with their witness values.
pub(crate) type Cells = Vec<(Pos, i64)>;

fn unsupported(op: &QOp) -> CircuitError {
    CircuitError::Unsupported(op.name().to_string())
}

/// Sum of cells through the mat-vec gate with unit weights.
pub(crate) fn sum(l: &mut Layout, cells: &[(Pos, i64)]) -> Result<(Pos, i64), CircuitError> {
    let ones = vec![1i64; cells.len()];
    matvec(l, cells, &ones, 1, None)?.pop().ok_or_else(|| CircuitError::Layout("empty sum".into()))
}

/// Signed width of a sum of `count` values of signed width `bits`: `|Σ| <= count·2^(bits-1) <=
/// 2^(bits - 1 + ceil(log2 count))`.
fn sum_bits(bits: u32, count: usize) -> u32 {
    bits + (usize::BITS - count.saturating_sub(1).leading_zeros())
}

/// For each output element of a reduction over `axes`, the flat indices of the input elements it sums.
fn reduction_groups(shape: &[usize], axes: &[usize]) -> Vec<Vec<usize>> {
    let strides = crate::ir::strides(shape);
    let out_dims: Vec<usize> =
        (0..shape.len()).map(|d| if axes.contains(&d) { 1 } else { shape[d] }).collect();
    let out_strides = crate::ir::strides(&out_dims);
    let mut groups = vec![Vec::new(); out_dims.iter().product()];
    for flat in 0..shape.iter().product::<usize>() {
        let o: usize = (0..shape.len())
            .filter(|d| !axes.contains(d))
            .map(|d| (flat / strides[d]) % shape[d] * out_strides[d])
            .sum();
        groups[o].push(flat);
    }
    groups
}

/// The cells of every pooling window (valid positions only), in output order, with the window's size
/// counting padded positions inside the padded extent (ONNX's `count_include_pad` divisor).
fn pool_windows(
    p: &crate::ir::PoolParams,
    shape: &[usize],
    x: &Cells,
) -> Result<Vec<(Cells, i64)>, CircuitError> {
    let [n, c, h, w] =
        <[usize; 4]>::try_from(shape).map_err(|_| CircuitError::Layout(format!("pool input {shape:?}")))?;
    let oh = crate::ir::ops::window_out(
        h,
        p.pads[0] + p.pads[2],
        p.kernel[0],
        p.strides[0],
        p.dilations[0],
        p.ceil_mode,
    );
    let ow = crate::ir::ops::window_out(
        w,
        p.pads[1] + p.pads[3],
        p.kernel[1],
        p.strides[1],
        p.dilations[1],
        p.ceil_mode,
    );
    let (Some(oh), Some(ow)) = (oh, ow) else {
        return Err(CircuitError::Layout(format!("pool window for {shape:?}")));
    };
    let mut windows = Vec::with_capacity(n * c * oh * ow);
    for plane in 0..n * c {
        for oy in 0..oh {
            for ox in 0..ow {
                let (mut window, mut padded) = (Vec::new(), 0i64);
                for ky in 0..p.kernel[0] {
                    for kx in 0..p.kernel[1] {
                        let iy = (oy * p.strides[0] + ky * p.dilations[0]) as isize - p.pads[0] as isize;
                        let ix = (ox * p.strides[1] + kx * p.dilations[1]) as isize - p.pads[1] as isize;
                        if iy < (h + p.pads[2]) as isize && ix < (w + p.pads[3]) as isize {
                            padded += 1;
                        }
                        if iy >= 0 && ix >= 0 && iy < h as isize && ix < w as isize {
                            window.push(x[(plane * h + iy as usize) * w + ix as usize]);
                        }
                    }
                }
                windows.push((window, padded));
            }
        }
    }
    Ok(windows)
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
            cells[id].clone().ok_or_else(|| unsupported(&node.op))
        };
        let out_shape = &graph.value(node.output)?.shape;
        // A linear op's weights or bias: committed parameter cells, or the constant's values.
        let weights = |cells: &[Option<Cells>], id: usize| -> Result<Weights<'static>, CircuitError> {
            match (&cells[id], &graph.value(id)?.source) {
                (Some(c), _) => Ok(Weights::Cells(Cow::Owned(c.clone()))),
                (None, Source::Const { tensor, .. }) => {
                    Ok(Weights::Fixed(Cow::Owned(tensor.data().to_vec())))
                }
                _ => Err(unsupported(&node.op)),
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
                        return Err(unsupported(&node.op));
                    };
                    let bias = node.inputs.get(2).map(|&b| weights(cells, b)).transpose()?;
                    if bias.as_ref().is_some_and(|b| b.len() != n) {
                        return Err(unsupported(&node.op));
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
                let x = get(cells, 0)?;
                let bits = in_fmt(0)?.bits;
                let shape = graph.value(node.inputs[0])?.shape.clone();
                let mut out = Vec::new();
                for (window, padded) in pool_windows(p, &shape, &x)? {
                    out.push(match (&node.op, window.split_first()) {
                        (_, None) => shared.zero(l),
                        (QOp::MaxPool(_), Some((&first, rest))) => {
                            rest.iter().try_fold(first, |best, &cell| max2(l, best, cell, bits))?
                        }
                        _ => {
                            let d = if p.count_include_pad { padded } else { window.len() as i64 };
                            let total = sum(l, &window)?;
                            div_round(l, total, d, sum_bits(bits, window.len()))?
                        }
                    });
                }
                out
            }
            QOp::ReduceSum { axes, .. } | QOp::ReduceMean { axes, .. } => {
                let x = get(cells, 0)?;
                let shape = graph.value(node.inputs[0])?.shape.clone();
                let mean = matches!(node.op, QOp::ReduceMean { .. });
                let bits = in_fmt(0)?.bits;
                let mut out = Vec::new();
                for group in reduction_groups(&shape, axes) {
                    let cells_in: Cells = group.iter().map(|&i| x[i]).collect();
                    let total = sum(l, &cells_in)?;
                    out.push(if mean {
                        div_round(l, total, cells_in.len() as i64, sum_bits(bits, cells_in.len()))?
                    } else {
                        total
                    });
                }
                out
            }
            QOp::Add | QOp::Sub | QOp::Mul => {
                let a_shape = graph.value(node.inputs[0])?.shape.clone();
                let b_shape = graph.value(node.inputs[1])?.shape.clone();
                let ma = crate::ir::tensor_shape::broadcast_index_map(&a_shape, out_shape);
                let mb = crate::ir::tensor_shape::broadcast_index_map(&b_shape, out_shape);
                let operand =
                    |cells: &[Option<Cells>], i: usize| -> Result<Result<Cells, Vec<i64>>, CircuitError> {
                        let id = node.inputs[i];
                        Ok(match (&cells[id], &graph.value(id)?.source) {
                            (Some(c), _) => Ok(c.clone()),
                            (None, Source::Const { tensor, .. }) => Err(tensor.data().to_vec()),
                            _ => return Err(unsupported(&node.op)),
                        })
                    };
                let (a, b) = (operand(cells, 0)?, operand(cells, 1)?);
                let sign = if matches!(node.op, QOp::Sub) { -1 } else { 1 };
                let is_mul = matches!(node.op, QOp::Mul);
                let mut out = Vec::with_capacity(ma.len());
                for (&ia, &ib) in ma.iter().zip(&mb) {
                    let z = shared.zero(l);
                    let cell = match (&a, &b) {
                        (Ok(a), Ok(b)) if is_mul => arith(l, a[ia], b[ib], [0, 0, 1, 0]),
                        (Ok(a), Ok(b)) => arith(l, a[ia], b[ib], [1, sign, 0, 0]),
                        (Ok(a), Err(k)) if is_mul => arith(l, a[ia], z, [k[ib], 0, 0, 0]),
                        (Ok(a), Err(k)) => arith(l, a[ia], z, [1, 0, 0, sign * k[ib]]),
                        (Err(k), Ok(b)) if is_mul => arith(l, z, b[ib], [0, k[ia], 0, 0]),
                        (Err(k), Ok(b)) => arith(l, z, b[ib], [0, sign, 0, k[ia]]),
                        (Err(_), Err(_)) => return Err(unsupported(&node.op)),
                    };
                    out.push(cell);
                }
                out
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
                let (a, b) = (get(cells, 0)?, get(cells, 1)?);
                let sa = graph.value(node.inputs[0])?.shape.clone();
                let sb = graph.value(node.inputs[1])?.shape.clone();
                let (ra, rb) = (sa.len(), sb.len());
                if ra < 2 || rb < 2 || node.inputs.len() > 2 {
                    return Err(unsupported(&node.op));
                }
                let (m, k, n) = (sa[ra - 2], sa[ra - 1], sb[rb - 1]);
                let batch = &out_shape[..out_shape.len() - 2];
                let ma = crate::ir::tensor_shape::broadcast_index_map(&sa[..ra - 2], batch);
                let mb = crate::ir::tensor_shape::broadcast_index_map(&sb[..rb - 2], batch);
                let mut out = Vec::with_capacity(ma.len() * m * n);
                for (&ba, &bb) in ma.iter().zip(&mb) {
                    for i in 0..m {
                        for j in 0..n {
                            let prods: Cells = (0..k)
                                .map(|t| {
                                    arith(l, a[(ba * m + i) * k + t], b[(bb * k + t) * n + j], [0, 0, 1, 0])
                                })
                                .collect();
                            out.push(sum(l, &prods)?);
                        }
                    }
                }
                out
            }
            QOp::Softmax { axis, exp, out_scale } => {
                let x = get(cells, 0)?;
                let bits = in_fmt(0)?.bits;
                let shape = graph.value(node.inputs[0])?.shape.clone();
                let (len, inner) = (shape[*axis], shape[*axis + 1..].iter().product::<usize>());
                let one = 1i64 << out_scale;
                // sum(e) < len · 2^(out_bits - 1); the divisor bound follows from the formats alone.
                let dbits = exp.out_bits + (usize::BITS - len.leading_zeros()) + 2;
                // |e| < 2^(out_bits - 1), so |e·2^out_scale| <= 2^(out_bits + out_scale - 1).
                let nbits = exp.out_bits + out_scale;
                let mut out = vec![(Pos::Lane(0, 0), 0i64); x.len()];
                for o in 0..x.len() / (len * inner).max(1) {
                    for i in 0..inner {
                        let idx: Vec<usize> = (0..len).map(|j| (o * len + j) * inner + i).collect();
                        let mut mx = x[idx[0]];
                        for &t in &idx[1..] {
                            mx = max2(l, mx, x[t], bits)?;
                        }
                        let e: Cells = idx
                            .iter()
                            .map(|&t| {
                                let d = arith(l, x[t], mx, [1, -1, 0, 0]);
                                table_lookup(l, d, exp)
                            })
                            .collect::<Result<_, _>>()?;
                        let total = sum(l, &e)?;
                        for (&t, &ej) in idx.iter().zip(&e) {
                            let z = shared.zero(l);
                            let num = arith(l, ej, z, [one, 0, 0, 0]);
                            out[t] = var_div(l, num, total, dbits, nbits)?;
                        }
                    }
                }
                out
            }
            QOp::LayerNorm { axis, eps, out_scale } => {
                let x = get(cells, 0)?;
                let bits = in_fmt(0)?.bits;
                let n: usize = graph.value(node.inputs[0])?.shape[*axis..].iter().product();
                let one = 1i64 << out_scale;
                let mut out = Vec::with_capacity(x.len());
                // |x|, |mean| <= 2^(bits-1), so |x - mean| <= 2^bits and (x - mean)^2 <= 2^(2·bits).
                let (sq_bits, d_bits) = (2 * bits + 1, bits + 1);
                for row in x.chunks(n.max(1)) {
                    let total = sum(l, row)?;
                    let mean = div_round(l, total, n as i64, sum_bits(bits, n))?;
                    let d: Cells = row.iter().map(|&c| arith(l, c, mean, [1, -1, 0, 0])).collect();
                    let sq: Cells = d.iter().map(|&c| arith(l, c, c, [0, 0, 1, 0])).collect();
                    let ss = sum(l, &sq)?;
                    let var = div_round(l, ss, n as i64, sum_bits(sq_bits, n))?;
                    let z = shared.zero(l);
                    let v = arith(l, var, z, [1, 0, 0, (*eps).max(1)]);
                    // |x - mean| < 2^bits, so sd <= 2^bits and 2·sd < 2^(bits + 2).
                    let sd = sqrt_round(l, v, bits + 4)?;
                    for &dj in &d {
                        let num = arith(l, dj, z, [one, 0, 0, 0]);
                        out.push(var_div(l, num, sd, bits + 2, d_bits + out_scale)?);
                    }
                }
                out
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
                        other => Err(unsupported(other)),
                    })
                    .collect::<Result<_, _>>()?
            }
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
            other => return Err(unsupported(other)),
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
