//! The packed witness from the quantised graph's own evaluation (`QGraph::eval_trace`, the one integer
//! semantics): each committed tensor's limbs, and the range table's multiplicities. The outputs of
//! committed ops are recomputed from their inputs with the relations the proof checks and compared with
//! the trace, so a disagreement is an error here, never a proof of something else.

use halo2_base::halo2_proofs::halo2curves::ff::{Field, PrimeField};
use poai_circuits::ir::fixed::{div_round, isqrt_round};
use poai_circuits::ir::table::interpolate;
use poai_circuits::ir::{QGraph, QOp, Source, TableSpec, Tensor, ValueId};
use poai_circuits::Fr;

use super::packing::Quantity;
use super::plan::{LayerNormWitness, Plan, Role, RowView, SoftmaxWitness, Step, TableWitness};
use super::prover::mean_wiring;
use super::wiring;
use crate::SumcheckError;

/// The tensor of `value`: from the trace, or the graph's constant.
pub(super) fn tensor<'a>(
    graph: &'a QGraph,
    trace: &'a [Option<Tensor>],
    value: ValueId,
) -> Result<&'a Tensor, SumcheckError> {
    match (&trace[value], &graph.values[value].source) {
        (Some(t), _) => Ok(t),
        (None, Source::Const { tensor, .. }) => Ok(tensor),
        _ => Err(SumcheckError::Witness(format!("value {value} was not computed"))),
    }
}

/// The laid-out integer values of `value`.
pub(super) fn laid_out(
    graph: &QGraph,
    plan: &Plan,
    trace: &[Option<Tensor>],
    value: ValueId,
) -> Result<Vec<i64>, SumcheckError> {
    plan.layouts[value].lay_out(tensor(graph, trace, value)?.data())
}

struct Packer<'a> {
    plan: &'a Plan,
    packed: Vec<Fr>,
}

impl Packer<'_> {
    /// Writes a quantity's laid-out `values` (zero on the tail) as limbs of its stored chunks.
    fn write(&mut self, quantity: &Quantity, values: &[i64], what: &str) -> Result<(), SumcheckError> {
        for (pos, &v) in values.iter().enumerate() {
            if pos >= quantity.len && v != 0 {
                return Err(SumcheckError::Witness(format!("{what}: the tail holds {v} at {pos}")));
            }
            let encoded = i128::from(v) + if pos < quantity.len { i128::from(quantity.bias) } else { 0 };
            if encoded < 0 || encoded >> quantity.width != 0 {
                return Err(SumcheckError::Witness(format!(
                    "{what}: value {v} at position {pos} does not fit its {} bits",
                    quantity.width
                )));
            }
        }
        for (l, chunks) in quantity.limbs.iter().enumerate() {
            for (&seg, &(start, _)) in chunks.iter().zip(&quantity.chunks) {
                let s = self.plan.packing.segments[seg];
                for i in 0..1usize << s.vars {
                    let pos = start + i;
                    let encoded = i128::from(values[pos])
                        + if pos < quantity.len { i128::from(quantity.bias) } else { 0 };
                    let limb = ((encoded >> (quantity.limb_bits as usize * l)) & ((1 << s.width) - 1)) as u64;
                    self.packed[s.offset + i] = Fr::from(limb);
                }
            }
        }
        Ok(())
    }
}

/// A table lookup's witness: the row, entry and interpolation of every real input (input `x[i]` and
/// output `y[i]` at position `positions[i]`), zero elsewhere, and the rows' multiplicities.
fn pack_table(
    p: &mut Packer<'_>,
    (w, spec): (&TableWitness, &TableSpec),
    (x, y, positions): (&[i64], &[i64], &[usize]),
    name: &str,
) -> Result<(), SumcheckError> {
    let size = 1usize << w.index.vars;
    let dense = spec.dense();
    let (lo, _) = spec.index_domain();
    let mut cols = vec![vec![0i64; size]; 6];
    let mut counts = vec![0u64; spec.entries()];
    for (i, ((&xv, &yv), &pos)) in x.iter().zip(y).zip(positions).enumerate() {
        let (q, r) = spec.split(xv);
        let (c, d) = spec.entry_slope(q);
        let (t, e) = interpolate(d, r, spec.interp_bits);
        if c + t != yv || dense.get(xv) != yv || pos >= size {
            return Err(SumcheckError::Witness(format!(
                "node `{name}`: the table disagrees with eval at {i}"
            )));
        }
        for (col, v) in cols.iter_mut().zip([q, c, r, d, t, e]) {
            col[pos] = v;
        }
        let row =
            usize::try_from(q - lo).map_err(|_| SumcheckError::Witness(format!("node `{name}`: row {q}")))?;
        counts[row] += 1;
    }
    let what = |part: &str| format!("node `{name}` ({part})");
    p.write(&w.index, &cols[0], &what("table row"))?;
    p.write(&w.entry, &cols[1], &what("table entry"))?;
    if let Some(parts) = &w.interpolation {
        for ((q, col), part) in parts.iter().zip(&cols[2..]).zip(["remainder", "slope", "step", "rounding"]) {
            p.write(q, col, &what(part))?;
        }
    }
    let m = p.plan.packing.unchecked[w.multiplicities];
    for (slot, c) in p.packed[m.offset..m.offset + (1 << m.vars)].iter_mut().zip(counts) {
        *slot = Fr::from(c);
    }
    Ok(())
}

/// Places per-position values of the real rows (`rows × len`, row-major) on the row view, with `pad`
/// (per row) on the padding slots of real rows and zero past the last row.
fn on_view(view: RowView, values: &[i64], pad: impl Fn(usize) -> i64) -> Vec<i64> {
    let lb = view.slot_vars;
    let mut out = vec![0i64; 1 << (view.row_vars() + lb)];
    for o in 0..view.rows {
        for j in 0..1usize << lb {
            out[(o << lb) | j] = if j < view.len { values[o * view.len + j] } else { pad(o) };
        }
    }
    out
}

/// Per-row values with zeros past the last row.
fn per_row(view: RowView, values: &[i64]) -> Vec<i64> {
    let mut out = values.to_vec();
    out.resize(1 << view.row_vars(), 0);
    out
}

/// A softmax's witness over its row view.
fn pack_softmax(
    p: &mut Packer<'_>,
    (w, exp, out_scale): (&SoftmaxWitness, &TableSpec, u32),
    (x, y): (&Tensor, &Tensor),
    name: &str,
) -> Result<(), SumcheckError> {
    let view = w.view;
    let parts = softmax_parts(x.data(), view.len, exp, out_scale, w.keep.as_deref());
    let kept = |i: usize| w.keep.as_ref().is_none_or(|k| k[i]);
    if parts.y.len() != y.len()
        || parts.y.iter().zip(y.data()).enumerate().any(|(i, (a, b))| kept(i) && a != b)
    {
        return Err(SumcheckError::Witness(format!("node `{name}` (output): disagrees with eval")));
    }
    let what = |part: &str| format!("node `{name}` ({part})");
    p.write(&w.output, &on_view(view, &parts.y, |_| 0), &what("output"))?;
    p.write(&w.max, &per_row(view, &parts.max), &what("row maxima"))?;
    p.write(&w.gaps, &on_view(view, &parts.gaps, |_| 0), &what("gaps to the row maxima"))?;
    let negated: Vec<i64> = parts.gaps.iter().map(|g| -g).collect();
    let positions: Vec<usize> =
        (0..view.rows * view.len).map(|i| ((i / view.len) << view.slot_vars) | (i % view.len)).collect();
    pack_table(p, (&w.exp, exp), (&negated, &parts.exp, &positions), name)?;
    p.write(&w.remainder, &on_view(view, &parts.remainder, |o| parts.sums[o]), &what("division remainder"))?;
    p.write(
        &w.complement,
        &on_view(view, &parts.complement, |o| parts.sums[o] - 1),
        &what("remainder's complement"),
    )
}

/// A layer normalisation's witness over its row view.
fn pack_layer_norm(
    p: &mut Packer<'_>,
    (w, eps, out_scale): (&LayerNormWitness, i64, u32),
    (x, y): (&Tensor, &Tensor),
    name: &str,
) -> Result<(), SumcheckError> {
    let view = w.view;
    let parts = layer_norm_parts(x.data(), view.len, eps, out_scale);
    if parts.y != y.data() {
        return Err(SumcheckError::Witness(format!("node `{name}` (output): disagrees with eval")));
    }
    let what = |part: &str| format!("node `{name}` ({part})");
    p.write(&w.output, &on_view(view, &parts.y, |_| 0), &what("output"))?;
    let names = [
        "mean",
        "mean's remainder",
        "its complement",
        "variance",
        "variance's remainder",
        "its complement",
        "deviation",
        "slack below",
        "slack above",
    ];
    let quantities = w.mean.iter().chain(&w.variance).chain(&w.deviation);
    for ((q, column), part) in quantities.zip(&parts.rows).zip(names) {
        p.write(q, &per_row(view, column), &what(part))?;
    }
    let sd = &parts.rows[6];
    let [rem, rem_c] = &w.division;
    p.write(rem, &on_view(view, &parts.division[0], |o| sd[o]), &what("division remainder"))?;
    p.write(rem_c, &on_view(view, &parts.division[1], |o| sd[o] - 1), &what("its complement"))
}

/// The rescale witness at one position: `(y, remainder, q - hi above hi, lo - q below lo)` for input `x`,
/// clamped to `[lo, hi]` (the excess committed is their sum, `|q - y|`).
pub(super) fn rescale_parts(x: i64, shift: i32, (lo, hi): (i64, i64)) -> (i64, i64, i64, i64) {
    let (q, r) = if shift > 0 {
        let t = i128::from(x) + (1i128 << (shift - 1));
        (t.div_euclid(1i128 << shift), t.rem_euclid(1i128 << shift))
    } else {
        (i128::from(x) << shift.unsigned_abs(), 0)
    };
    let (lo, hi) = (i128::from(lo), i128::from(hi));
    let y = q.clamp(lo, hi);
    let clip = |v: i128| v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
    (clip(y), clip(r), clip((q - hi).max(0)), clip((lo - q).max(0)))
}

/// A softmax's witness over rows of `n` real values.
struct SoftmaxParts {
    max: Vec<i64>,
    gaps: Vec<i64>,
    exp: Vec<i64>,
    /// Per row, `s = Σ e`.
    sums: Vec<i64>,
    remainder: Vec<i64>,
    complement: Vec<i64>,
    y: Vec<i64>,
}

/// The softmax of every row of `x` (rows of `n`), with the witness of each step: `m = max_j x_j`,
/// `g = m - x`, `e = exp(-g)`, `s = Σ e`, `2^(out+1)·e + s = 2s·y + r`.
/// With `keep` (an attention mask over `x`'s positions), masked positions take the gap 1 and stay out
/// of the maximum and the sum; their division is still laid out (the output's wiring never reads it).
fn softmax_parts(
    x: &[i64],
    n: usize,
    exp: &TableSpec,
    out_scale: u32,
    keep: Option<&[bool]>,
) -> SoftmaxParts {
    let table = exp.dense();
    let mut parts = SoftmaxParts {
        max: Vec::new(),
        gaps: Vec::new(),
        exp: Vec::new(),
        sums: Vec::new(),
        remainder: Vec::new(),
        complement: Vec::new(),
        y: Vec::new(),
    };
    for (o, row) in x.chunks(n).enumerate() {
        let kept = |j: usize| keep.is_none_or(|k| k[o * n + j]);
        let m = row.iter().enumerate().filter(|&(j, _)| kept(j)).map(|(_, &v)| v).max().unwrap_or(0);
        let gaps: Vec<i64> = row.iter().enumerate().map(|(j, &v)| if kept(j) { m - v } else { 1 }).collect();
        let e: Vec<i64> = gaps.iter().map(|&g| table.get(-g)).collect();
        let s: i64 = e.iter().enumerate().filter(|&(j, _)| kept(j)).map(|(_, &v)| v).sum();
        parts.max.push(m);
        parts.sums.push(s);
        parts.gaps.extend(gaps);
        for &ej in &e {
            let y = div_round(ej << out_scale, s).unwrap_or(0);
            let r = 2 * (ej << out_scale) + s - 2 * s * y;
            parts.y.push(y);
            parts.remainder.push(r);
            parts.complement.push(2 * s - 1 - r);
        }
        parts.exp.extend(e);
    }
    parts
}

/// A layer normalisation's witness over rows of `n` real values: per row the columns `[μ, r, 2n-1-r, v,
/// r, 2n-1-r, s, slack below, slack above]`, per position the division's remainder and complement.
struct LayerNormParts {
    rows: [Vec<i64>; 9],
    division: [Vec<i64>; 2],
    y: Vec<i64>,
}

/// The layer normalisation of every row of `x` (rows of `n`) with its witness: `2·Σx + n = 2n·μ + r`,
/// `d = x - μ`, `2·Σd² + n = 2n·v + r'`, `(2s - 1)² ≤ 4(v + ε) < (2s + 1)²`, `2^(out+1)·d + s = 2s·y + r''`.
fn layer_norm_parts(x: &[i64], n: usize, eps: i64, out_scale: u32) -> LayerNormParts {
    let mut parts = LayerNormParts { rows: Default::default(), division: Default::default(), y: Vec::new() };
    let n = n as i64;
    for row in x.chunks(n as usize) {
        let total: i64 = row.iter().sum();
        let mean = div_round(total, n).unwrap_or(0);
        let r = 2 * total + n - 2 * n * mean;
        let d: Vec<i64> = row.iter().map(|&v| v - mean).collect();
        let squares: i64 = d.iter().map(|v| v * v).sum();
        let var = div_round(squares, n).unwrap_or(0);
        let r2 = 2 * squares + n - 2 * n * var;
        let four_v = 4 * (var + eps.max(1));
        let s = isqrt_round(var + eps.max(1)).max(1);
        let below = four_v - (2 * s - 1) * (2 * s - 1);
        let above = (2 * s + 1) * (2 * s + 1) - 1 - four_v;
        let columns = [mean, r, 2 * n - 1 - r, var, r2, 2 * n - 1 - r2, s, below, above];
        parts.rows.iter_mut().zip(columns).for_each(|(c, v)| c.push(v));
        for &dj in &d {
            let y = div_round(dj << out_scale, s).unwrap_or(0);
            let rem = 2 * (dj << out_scale) + s - 2 * s * y;
            parts.y.push(y);
            parts.division[0].push(rem);
            parts.division[1].push(2 * s - 1 - rem);
        }
    }
    parts
}

/// The packed polynomial's evaluations.
pub fn pack(graph: &QGraph, plan: &Plan, trace: &[Option<Tensor>]) -> Result<Vec<Fr>, SumcheckError> {
    let packing = &plan.packing;
    let mut p = Packer { plan, packed: vec![Fr::ZERO; 1 << packing.vars] };
    for (node, step) in graph.nodes.iter().zip(&plan.steps) {
        let (x, y) = (tensor(graph, trace, node.inputs[0])?, tensor(graph, trace, node.output)?);
        match (step, &node.op) {
            (Step::Table(w), QOp::Table(spec)) => {
                let positions: Vec<usize> = (0..x.len()).collect();
                pack_table(&mut p, (w, spec), (x.data(), y.data(), &positions), &node.name)?;
                continue;
            }
            (Step::Softmax(w), QOp::Softmax { exp, out_scale, .. }) => {
                pack_softmax(&mut p, (w, exp, *out_scale), (x, y), &node.name)?;
                continue;
            }
            (Step::LayerNorm(w), QOp::LayerNorm { eps, out_scale, .. }) => {
                pack_layer_norm(&mut p, (w, *eps, *out_scale), (x, y), &node.name)?;
                continue;
            }
            _ => {}
        }
        let committed = match step {
            Step::Rescale(w) => w.output,
            Step::Fused => continue,
            _ => node.output,
        };
        let Role::Committed(y_q) = &plan.roles[committed] else { continue };
        let x = laid_out(graph, plan, trace, node.inputs[0])?;
        let y = laid_out(graph, plan, trace, committed)?;
        let what = |part: &str| format!("node `{}` ({part})", node.name);
        match (step, &node.op) {
            (Step::Rescale(w), QOp::Rescale { shift, .. }) => {
                // The tail is zero throughout: the relation's constant is masked to real positions.
                let len = plan.layouts[node.output].len();
                let parts: Vec<_> = x
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| if i < len { rescale_parts(v, *shift, w.range) } else { (0, 0, 0, 0) })
                    .collect();
                if parts.iter().zip(&y).any(|(p, &t)| p.0 != t) {
                    return Err(SumcheckError::Witness(format!("{}: disagrees with eval", what("output"))));
                }
                p.write(y_q, &y, &what("output"))?;
                if let Some(r) = &w.remainder {
                    p.write(r, &parts.iter().map(|t| t.1).collect::<Vec<_>>(), &what("remainder"))?;
                }
                if let Some(e) = &w.excess {
                    p.write(
                        e,
                        &parts.iter().map(|t| t.2 + t.3).collect::<Vec<_>>(),
                        &what("saturation excess"),
                    )?;
                } else if parts.iter().any(|t| t.2 != 0 || t.3 != 0) {
                    return Err(SumcheckError::Witness(format!("{}: saturates", what("input"))));
                }
            }
            (Step::Relu { negative }, QOp::Relu) => {
                if x.iter().zip(&y).any(|(&q, &t)| q.max(0) != t) {
                    return Err(SumcheckError::Witness(format!("{}: disagrees with eval", what("output"))));
                }
                p.write(y_q, &y, &what("output"))?;
                let n: Vec<i64> = x.iter().map(|&q| (-q).max(0)).collect();
                p.write(negative, &n, &what("negative part"))?;
            }
            (Step::MaxPool { gaps, slot_vars }, QOp::MaxPool(params)) => {
                let (x_layout, out_layout) = (&plan.layouts[node.inputs[0]], &plan.layouts[node.output]);
                let windows = wiring::pool_windows(params, x_layout, out_layout, *slot_vars)?;
                let mut d = vec![0i64; 1 << windows.out_vars];
                for &(o, i) in &windows.pairs {
                    d[o] = y[o >> slot_vars] - x[i];
                }
                p.write(y_q, &y, &what("output"))?;
                p.write(gaps, &d, &what("gaps to the maximum"))?;
            }
            (Step::Mean { divisor, remainder, complement }, op) => {
                let mut sums = vec![0i64; y.len()];
                mean_wiring(plan, node, op)?.pairs.iter().for_each(|&(o, i)| sums[o] += x[i]);
                let n = *divisor as i64;
                let (mut r, mut rc) = (vec![0i64; y.len()], vec![0i64; y.len()]);
                for o in 0..plan.layouts[node.output].len() {
                    r[o] = 2 * sums[o] + n - 2 * n * y[o];
                    rc[o] = 2 * n - 1 - r[o];
                }
                p.write(y_q, &y, &what("output"))?;
                p.write(remainder, &r, &what("remainder"))?;
                p.write(complement, &rc, &what("remainder's complement"))?;
            }
            (Step::OneHot { .. }, QOp::OneHot { .. }) => p.write(y_q, &y, &what("output"))?,
            _ => return Err(SumcheckError::Witness(format!("{}: no witness for this step", what("op")))),
        }
    }
    fill_multiplicities(plan, &mut p.packed)?;
    Ok(p.packed)
}

/// Writes the range table's multiplicities into `packed`: how often each table entry occurs among the
/// advice limbs. A limb outside its width's range has no entry and is not counted (its logup then fails).
pub fn fill_multiplicities(plan: &Plan, packed: &mut [Fr]) -> Result<(), SumcheckError> {
    let packing = &plan.packing;
    if packed.len() != 1 << packing.vars {
        return Err(SumcheckError::Shape(format!("{} packed values for 2^{}", packed.len(), packing.vars)));
    }
    let mut counts: Vec<Vec<u64>> = packing.multiplicities.iter().map(|(w, _)| vec![0; 1 << w]).collect();
    for s in &packing.segments {
        let block =
            packing.multiplicities.iter().position(|(w, _)| *w == s.width).ok_or_else(|| {
                SumcheckError::Witness(format!("no range table block for width {}", s.width))
            })?;
        for v in &packed[s.offset..s.offset + (1 << s.vars)] {
            let repr = v.to_repr();
            let (low, high) = repr.as_ref().split_at(8);
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(low);
            let value = u64::from_le_bytes(bytes);
            if high.iter().all(|&b| b == 0) && value >> s.width == 0 {
                counts[block][value as usize] += 1;
            }
        }
    }
    for ((_, m), block) in packing.multiplicities.iter().zip(counts) {
        for (slot, c) in packed[m.offset..m.offset + (1 << m.vars)].iter_mut().zip(block) {
            *slot = Fr::from(c);
        }
    }
    Ok(())
}
