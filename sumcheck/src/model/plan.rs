//! What the prover commits and how each node is proven, decided from the graph alone, so that the prover
//! and the verifier walk the same plan.

use poai_circuits::ir::fixed::isqrt_round;
use poai_circuits::ir::{softmax_mask, QGraph, QOp, Source, TableSpec, ValueId};

use super::layout::{log2_ceil, views_coincide, Layout, Real};
use super::packing::{Packing, PackingBuilder, Quantity, LIMB_CHOICES};
use crate::matmul::MatmulShape;
use crate::SumcheckError;

/// How the verifier knows a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// A model input: public, evaluated by the verifier.
    Input,
    /// A constant of the graph (weights fixed in the model): evaluated by the verifier.
    Const,
    /// Never committed: claims on it are reduced to claims on its producer's inputs.
    Virtual,
    /// Committed in the packed polynomial.
    Committed(Quantity),
}

/// A rescale's witness: `a·x + c = 2^s·q + r` (with `a`, `c`, `s` from the shift) and `y = clamp(q, lo, hi)`,
/// `q = y + e·σ(y)` where `e = |q - y|` and `σ(y) = (2y - hi - lo)/(hi - lo)` (`+1` at `hi`, `-1` at `lo`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RescaleWitness {
    /// The value `y` is committed as: the rescale's output, or the output of a ReLU fused into it.
    pub output: ValueId,
    /// The clamp range `[lo, hi]`: the output's signed range, or `[0, hi]` with a fused ReLU
    /// (`max(clamp(q, lo, hi), 0) = clamp(q, 0, hi)`).
    pub range: (i64, i64),
    /// The remainder, for a positive shift.
    pub remainder: Option<Quantity>,
    /// The saturation excess `e = |q - y|` (non-zero only where `q` is clamped), when the input can leave
    /// the output range.
    pub excess: Option<Quantity>,
}

/// A table lookup's witness (all over the output's positions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableWitness {
    /// The table row `q` (the input itself for a plain table).
    pub index: Quantity,
    /// The entry `c(q)`.
    pub entry: Quantity,
    /// For an interpolated table: the remainder `r`, the slope `d(q)`, the step `t` and its rounding `e`.
    pub interpolation: Option<[Quantity; 4]>,
    /// The rows' multiplicities (an index into [`Packing::unchecked`]).
    pub multiplicities: usize,
}

/// Rows of an op that normalises over its trailing axes: `rows` of `len` real values, laid out as a row
/// view with each row padded to `2^slot_vars` slots (the flat layout itself when `len` is a power of
/// two).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowView {
    /// Real rows.
    pub rows: usize,
    /// Real values per row.
    pub len: usize,
    /// Variables of a row.
    pub slot_vars: usize,
}

impl RowView {
    /// The real positions of the view.
    pub fn real(&self) -> Real {
        Real::Rows { rows: self.rows, len: self.len, slot_vars: self.slot_vars }
    }

    /// `(1, rows, len)`: the view as one stacked matrix.
    pub fn dims(&self) -> (usize, usize, usize) {
        (1, self.rows, self.len)
    }

    /// Variables of the row index.
    pub fn row_vars(&self) -> usize {
        log2_ceil(self.rows)
    }

    /// `(positions, variables)` of a quantity over the view.
    pub fn positions(&self) -> (usize, usize) {
        (self.rows << self.slot_vars, self.row_vars() + self.slot_vars)
    }

    /// `(positions, variables)` of a quantity with one value per row.
    pub fn per_row(&self) -> (usize, usize) {
        (self.rows, self.row_vars())
    }
}

/// A softmax's witness over the row view: the output `y`, the row maxima `m`, the gaps `g = m - x`, the
/// exp table's witness on `-g` and the division's remainder `r` with its complement `2s - 1 - r` (`s`
/// the row sum of `e = exp(-g)`). Padding slots hold `y = 0`, `r = s`, `2s - 1 - r = s - 1` and zeros.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SoftmaxWitness {
    /// The rows.
    pub view: RowView,
    /// `y` over the view (the output's own quantity when the view is its flat layout).
    pub output: Quantity,
    /// `m`, one per row.
    pub max: Quantity,
    /// `g`.
    pub gaps: Quantity,
    /// The table lookups of `-g` (at the real positions).
    pub exp: TableWitness,
    /// `r` in `2^(out+1)·e + s = 2s·y + r`.
    pub remainder: Quantity,
    /// `2s - 1 - r`.
    pub complement: Quantity,
    /// With an attention mask: which of the `rows × len` real positions are kept (row-major). A masked
    /// slot holds the gap 1 (neutral in the maximum's product), reads no input, adds nothing to the row
    /// sum and is not read by the output, whose masked positions are 0 (`masked_softmax.rs`).
    pub keep: Option<Vec<bool>>,
}

/// A layer normalisation's witness over the row view: the output `y`, per row the mean, the variance
/// and the standard deviation with their remainders and slacks; per position the division's remainder
/// and its complement (`s` and `s - 1` on padding slots).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerNormWitness {
    /// The rows.
    pub view: RowView,
    /// `y` over the view (the output's own quantity when the view is its flat layout).
    pub output: Quantity,
    /// `μ` and the remainder of `2·Σx + n = 2n·μ + r` with its complement `2n - 1 - r`.
    pub mean: [Quantity; 3],
    /// `v` and the remainder of `2·Σd² + n = 2n·v + r` with its complement.
    pub variance: [Quantity; 3],
    /// `s` and the slacks `4(v + ε) - (2s - 1)²` and `(2s + 1)² - 1 - 4(v + ε)`.
    pub deviation: [Quantity; 3],
    /// `r` in `2^(out+1)·d + s = 2s·y + r`, and its complement `2s - 1 - r`.
    pub division: [Quantity; 2],
}

/// How one node is proven.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// `C = A·B (+ bias on real rows)`, all leading dimensions 1, on the matrix views of `A` and `C`.
    MatMul {
        /// Log2 sizes.
        shape: MatmulShape,
        /// Real `(rows, inner, columns)`.
        dims: (usize, usize, usize),
    },
    /// `C[b] = A[b]·B[b]` over equal leading dimensions (`batch` matrices, no bias): a sumcheck over
    /// (inner, batch) of `eq(ρ_b, b)·Ã(b, ρ_i, k)·B̃(b, k, ρ_j)` on the stacked matrix views.
    BatchedMatMul {
        /// The number of matrices and the real `(rows, inner, columns)` of each.
        dims: (usize, usize, usize, usize),
    },
    /// A group-1, batch-1 convolution as a product with a virtual im2col matrix.
    Conv {
        /// `W` (`M × C·kh·kw`) by `Uᵀ` (`C·kh·kw × positions`).
        shape: MatmulShape,
        /// Real `(output maps, C·kh·kw, output positions)`.
        dims: (usize, usize, usize),
    },
    /// Rescale with saturation.
    Rescale(RescaleWitness),
    /// `y = max(q, 0)` with `n = y - q`.
    Relu {
        /// `n`.
        negative: Quantity,
    },
    /// Max pooling: `d_k = y - x_k ≥ 0`, `Π_k d_k = 0`.
    MaxPool {
        /// `d`, laid out `[output, window slot (padded to a power of two)]`.
        gaps: Quantity,
        /// Variables of the window slot.
        slot_vars: usize,
    },
    /// Same values, another shape.
    Reshape,
    /// A ReLU fused into the rescale before it (which commits its output).
    Fused,
    /// A data movement (Transpose, Slice, Gather with constant indices): a wiring.
    Move,
    /// One-hot rows of integer indices: the rows committed as bits, their sums and index sums checked
    /// against the indices by one sumcheck (`one_hot.rs`).
    OneHot {
        /// Classes per row.
        depth: usize,
    },
    /// A concatenation: the values of all inputs but the last at the claim's point sent, each input's
    /// region a wiring.
    Concat,
    /// `a ± b` (broadcast operands through wirings).
    AddSub,
    /// `a·b` element-wise: a product sumcheck of `eq(ρ, ·)·a·b` over the output (broadcast operands
    /// through wirings).
    Mul,
    /// A batch-1 grouped (depthwise) convolution: a sumcheck over (map, patch) of
    /// `eq(ρ_m, m)·W(m, j)·Ũ(m, j, ρ_p)` with `U` the per-map im2col wiring of `x`.
    GroupedConv {
        /// Real `(output maps, patch length, output positions)`.
        dims: (usize, usize, usize),
        /// Their variables.
        bits: (usize, usize, usize),
    },
    /// A window's or an axis's rounded mean: `2·S + n = 2n·y + r` with `S` the sum (a wiring of `x`)
    /// and `0 ≤ r ≤ 2n - 1` (`r` and `2n - 1 - r` both range-checked).
    Mean {
        /// The count `n` every output divides by.
        divisor: usize,
        /// `r`.
        remainder: Quantity,
        /// `2n - 1 - r`.
        complement: Quantity,
    },
    /// A tabulated function: `x = 2^f·q + r`, `(q, c, d)` a row of the table, `d·r + 2^(f-1) = 2^f·t + e`,
    /// `y = c + t` (a plain table, `f = 0`, has only `q = x` and `y = c`).
    Table(Box<TableWitness>),
    /// Softmax along the last axis: the row maximum by gaps (`Π_j g_j = 0`), `e` by the exp table, the
    /// row sum `s` by a sum wiring, and `y` by division with remainder.
    Softmax(Box<SoftmaxWitness>),
    /// Layer normalisation: the mean and the variance by division, the standard deviation by its
    /// rounding slacks, `y` by division with remainder.
    LayerNorm(Box<LayerNormWitness>),
}

/// The plan of a whole graph.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Per value.
    pub roles: Vec<Role>,
    /// Per value.
    pub layouts: Vec<Layout>,
    /// Per node.
    pub steps: Vec<Step>,
    /// The packed polynomial's segments.
    pub packing: Packing,
}

fn unsupported(graph: &QGraph, node: usize, why: &str) -> SumcheckError {
    SumcheckError::Unsupported(format!(
        "node `{}` ({}): {why}; prove this model on the halo2 backend",
        graph.nodes[node].name,
        graph.nodes[node].op.name()
    ))
}

fn leading_ones(shape: &[usize], keep: usize) -> bool {
    shape.len() >= keep && shape[..shape.len() - keep].iter().all(|&d| d == 1)
}

/// The output's role for an op committed over a row view: the view's quantity itself when the view is
/// the flat layout, else virtual (its claims move onto the view by a wiring).
fn view_role(view: &RowView, output: &Quantity) -> Role {
    if views_coincide(view.dims()) {
        Role::Committed(output.clone())
    } else {
        Role::Virtual
    }
}

/// `value` with two more quantities of `width` bits over the same positions (a remainder and its
/// complement, or two slacks).
fn with_remainders(packing: &mut PackingBuilder, value: Quantity, width: u32) -> [Quantity; 3] {
    let vars = (value.len, value.vars);
    [value, packing.quantity(vars, width, 0), packing.quantity(vars, width, 0)]
}

/// A table lookup's witness over `vars` positions: the row (signed), the entry, and for an interpolated
/// table the remainder, slope, step and rounding.
fn table_witness(packing: &mut PackingBuilder, spec: &TableSpec, vars: (usize, usize)) -> TableWitness {
    let index_bits = spec.in_bits - spec.interp_bits;
    let signed = |b: u32| 1i64 << (b - 1);
    let index = packing.quantity(vars, index_bits, signed(index_bits));
    let entry = packing.quantity(vars, spec.out_bits, signed(spec.out_bits));
    let f = spec.interp_bits;
    let interpolation = (f > 0).then(|| {
        let wide = spec.out_bits + 1;
        [
            packing.quantity(vars, f, 0),
            packing.quantity(vars, wide, signed(wide)),
            packing.quantity(vars, wide, signed(wide)),
            packing.quantity(vars, f, 0),
        ]
    });
    let multiplicities = packing.unchecked(log2_ceil(spec.entries()));
    TableWitness { index, entry, interpolation, multiplicities }
}

/// The rows of an op normalising over the axes from `axis` on (with `last_axis_only`, as Softmax,
/// `axis` must be the last).
fn rows_of(graph: &QGraph, node: usize, axis: usize, last_axis_only: bool) -> Result<RowView, SumcheckError> {
    let shape = &graph.values[graph.nodes[node].inputs[0]].shape;
    if axis >= shape.len() || (last_axis_only && axis + 1 != shape.len()) {
        return Err(unsupported(graph, node, "only the last axis is normalised on this backend yet"));
    }
    let (rows, len) = (shape[..axis].iter().product(), shape[axis..].iter().product());
    Ok(RowView { rows, len, slot_vars: log2_ceil(len) })
}

impl Plan {
    /// Plans `graph` with the limb width that packs its witness smallest (fewest variables, then fewest
    /// entries); an op or shape the backend does not prove yet is refused by name.
    pub fn new(graph: &QGraph) -> Result<Self, SumcheckError> {
        let mut best: Option<Self> = None;
        let mut first_error = None;
        for bits in LIMB_CHOICES {
            let plan = match Self::with_limb_bits(graph, bits) {
                Ok(plan) => plan,
                Err(e) => {
                    first_error.get_or_insert(e);
                    continue;
                }
            };
            let size = |p: &Self| (p.packing.vars, p.packing.advice_entries());
            if best.as_ref().is_none_or(|b| size(&plan) < size(b)) {
                best = Some(plan);
            }
        }
        best.ok_or_else(|| first_error.unwrap_or_else(|| SumcheckError::Shape("no limb width".into())))
    }

    /// Plans `graph` with limbs of `limb_bits`.
    pub fn with_limb_bits(graph: &QGraph, limb_bits: u32) -> Result<Self, SumcheckError> {
        graph.validate().map_err(|e| SumcheckError::Shape(e.to_string()))?;
        let layouts: Vec<Layout> = graph.values.iter().map(|v| Layout::new(&v.shape)).collect();
        let mut roles: Vec<Role> = graph
            .values
            .iter()
            .map(|v| match v.source {
                Source::Input { .. } => Role::Input,
                Source::Const { .. } => Role::Const,
                Source::Node { .. } => Role::Virtual,
            })
            .collect();
        let mut packing = PackingBuilder::new(limb_bits);
        let mut steps = Vec::with_capacity(graph.nodes.len());
        // A rescale whose only reader is a ReLU (and which is not a model output) commits the ReLU's
        // output directly.
        let mut readers = vec![Vec::new(); graph.values.len()];
        for (j, n) in graph.nodes.iter().enumerate() {
            n.inputs.iter().for_each(|&v| readers[v].push(j));
        }
        let fused_relu = |v: ValueId| match readers[v].as_slice() {
            [j] if graph.nodes[*j].op == QOp::Relu && !graph.outputs.contains(&v) => Some(*j),
            _ => None,
        };
        let mut fused = vec![false; graph.nodes.len()];
        for (i, node) in graph.nodes.iter().enumerate() {
            let out = &layouts[node.output];
            let bits_of = |v: ValueId| graph.values[v].format.bits;
            let shape_of = |v: ValueId| graph.values[v].shape.as_slice();
            let is_const = |v: ValueId| roles[v] == Role::Const;
            let step = match &node.op {
                QOp::MatMul
                    if !leading_ones(shape_of(node.inputs[0]), 2)
                        || !leading_ones(shape_of(node.inputs[1]), 2) =>
                {
                    let (a, b) = (shape_of(node.inputs[0]), shape_of(node.inputs[1]));
                    let (ra, rb) = (a.len(), b.len());
                    if ra != rb || a[..ra - 2] != b[..rb - 2] || node.inputs.len() > 2 {
                        return Err(unsupported(
                            graph,
                            i,
                            "a batched product needs equal leading dimensions and no bias (broadcast \
                             batches are not proven yet)",
                        ));
                    }
                    let batch = a[..ra - 2].iter().product();
                    Step::BatchedMatMul { dims: (batch, a[ra - 2], a[ra - 1], b[rb - 1]) }
                }
                QOp::MatMul => {
                    let (a, b) = (shape_of(node.inputs[0]), shape_of(node.inputs[1]));
                    let (m, k, n) = (a[a.len() - 2], a[a.len() - 1], b[b.len() - 1]);
                    let dims = (m, k, n);
                    if let Some(&bias) = node.inputs.get(2) {
                        if !is_const(bias) || shape_of(bias) != [n] {
                            return Err(unsupported(
                                graph,
                                i,
                                "only a constant bias of one value per column",
                            ));
                        }
                    }
                    let shape = MatmulShape { m: log2_ceil(m), k: log2_ceil(k), n: log2_ceil(n) };
                    Step::MatMul { shape, dims }
                }
                QOp::Conv(p) if p.group != 1 => {
                    let (x, w) = (shape_of(node.inputs[0]), shape_of(node.inputs[1]));
                    if x[0] != 1
                        || !is_const(node.inputs[1])
                        || node.inputs.get(2).is_some_and(|&b| !is_const(b))
                    {
                        return Err(unsupported(
                            graph,
                            i,
                            "only batch-1 convolutions with constant weights are proven yet",
                        ));
                    }
                    let o = out.dims();
                    let dims = (w[0], w[1] * w[2] * w[3], o[2] * o[3]);
                    Step::GroupedConv {
                        dims,
                        bits: (log2_ceil(dims.0), log2_ceil(dims.1), log2_ceil(dims.2)),
                    }
                }
                QOp::AvgPool(_) | QOp::ReduceMean { .. } => {
                    let x = &layouts[node.inputs[0]];
                    let divisor = match &node.op {
                        QOp::AvgPool(p) => {
                            if x.dims()[0] != 1 {
                                return Err(unsupported(graph, i, "batched pooling is not proven yet"));
                            }
                            super::wiring::window_sums(p, x, out)?.1.ok_or_else(|| {
                                unsupported(
                                    graph,
                                    i,
                                    "windows of different counts (padding left out of the mean)",
                                )
                            })?
                        }
                        QOp::ReduceMean { axes, .. } => super::wiring::axis_sums(x, axes, out.vars()).1,
                        _ => 1,
                    };
                    let b = graph.values[node.output].format.bits;
                    let vars = (out.len(), out.vars());
                    roles[node.output] = Role::Committed(packing.quantity(vars, b, 1i64 << (b - 1)));
                    let width = log2_ceil(2 * divisor.max(1)) as u32;
                    Step::Mean {
                        divisor: divisor.max(1),
                        remainder: packing.quantity(vars, width, 0),
                        complement: packing.quantity(vars, width, 0),
                    }
                }
                QOp::Conv(p) => {
                    let (x, w) = (shape_of(node.inputs[0]), shape_of(node.inputs[1]));
                    if p.group != 1 || x[0] != 1 || !is_const(node.inputs[1]) {
                        return Err(unsupported(
                            graph,
                            i,
                            "only batch-1, group-1 convolutions with constant weights are proven yet",
                        ));
                    }
                    if let Some(&bias) = node.inputs.get(2) {
                        if !is_const(bias) {
                            return Err(unsupported(graph, i, "a convolution bias must be constant"));
                        }
                    }
                    let o = out.dims();
                    let dims = (w[0], w[1] * w[2] * w[3], o[2] * o[3]);
                    let shape =
                        MatmulShape { m: log2_ceil(dims.0), k: log2_ceil(dims.1), n: log2_ceil(dims.2) };
                    Step::Conv { shape, dims }
                }
                QOp::Rescale { shift, bits } => {
                    let (input_bits, s, b) = (bits_of(node.inputs[0]), *shift, *bits);
                    if b > 30 {
                        return Err(unsupported(graph, i, "outputs wider than 30 bits"));
                    }
                    let vars = (out.len(), out.vars());
                    let half = 1i64 << (b - 1);
                    let relu = fused_relu(node.output);
                    let (output, range, y) = match relu {
                        Some(j) => {
                            fused[j] = true;
                            (graph.nodes[j].output, (0, half - 1), packing.quantity(vars, b - 1, 0))
                        }
                        None => (node.output, (-half, half - 1), packing.quantity(vars, b, half)),
                    };
                    roles[output] = Role::Committed(y);
                    let remainder = (s > 0).then(|| packing.quantity(vars, s.unsigned_abs(), 0));
                    // |q| ≤ 2^(B-1-s): saturation is possible only when that reaches the output's range
                    // (or, with a fused ReLU, whenever q can be negative).
                    let excess_bits = i64::from(input_bits) - i64::from(s);
                    if excess_bits > 62 {
                        return Err(unsupported(graph, i, "an input too wide to rescale"));
                    }
                    let excess = (relu.is_some() || excess_bits >= i64::from(b)).then(|| {
                        let w = u32::try_from(excess_bits.max(1)).unwrap_or(u32::MAX).min(64);
                        packing.quantity(vars, w, 0)
                    });
                    Step::Rescale(RescaleWitness { output, range, remainder, excess })
                }
                QOp::Relu if fused[i] => Step::Fused,
                QOp::Relu => {
                    let b = bits_of(node.inputs[0]);
                    let vars = (out.len(), out.vars());
                    roles[node.output] = Role::Committed(packing.quantity(vars, b, 0));
                    Step::Relu { negative: packing.quantity(vars, b, 0) }
                }
                QOp::MaxPool(p) => {
                    if shape_of(node.inputs[0])[0] != 1 {
                        return Err(unsupported(graph, i, "batched pooling is not proven yet"));
                    }
                    let b = bits_of(node.inputs[0]);
                    let vars = (out.len(), out.vars());
                    roles[node.output] = Role::Committed(packing.quantity(vars, b, 1i64 << (b - 1)));
                    let slot_vars = log2_ceil(p.kernel[0] * p.kernel[1]);
                    let gaps = packing.quantity((out.len() << slot_vars, out.vars() + slot_vars), b, 0);
                    Step::MaxPool { gaps, slot_vars }
                }
                QOp::Reshape { .. } => Step::Reshape,
                QOp::OneHot { depth } => {
                    roles[node.output] = Role::Committed(packing.quantity((out.len(), out.vars()), 1, 0));
                    Step::OneHot { depth: *depth }
                }
                QOp::Transpose { .. } | QOp::Slice { .. } | QOp::Gather { .. } => Step::Move,
                QOp::Concat { .. } => Step::Concat,
                QOp::Add | QOp::Sub | QOp::Mul => {
                    if node.inputs.iter().any(|&v| shape_of(v).len() > out.dims().len()) {
                        return Err(unsupported(graph, i, "an operand of higher rank than the output"));
                    }
                    if node.op == QOp::Mul {
                        Step::Mul
                    } else {
                        Step::AddSub
                    }
                }
                QOp::Table(spec) => {
                    if bits_of(node.inputs[0]) > spec.in_bits {
                        return Err(unsupported(
                            graph,
                            i,
                            "a table input wider than its domain (saturation is not proven yet)",
                        ));
                    }
                    Step::Table(Box::new(table_witness(&mut packing, spec, (out.len(), out.vars()))))
                }
                QOp::Softmax { axis, exp, out_scale } => {
                    let view = rows_of(graph, i, *axis, true)?;
                    let keep = match node.inputs.get(1).map(|&m| &graph.values[m].source) {
                        None => None,
                        Some(Source::Const { tensor, .. }) => {
                            softmax_mask(shape_of(node.inputs[0]), Some(tensor), *axis)
                                .map_err(|e| SumcheckError::Shape(e.to_string()))?
                        }
                        Some(_) => {
                            return Err(unsupported(graph, i, "a softmax mask that is not a constant"))
                        }
                    };
                    let b = bits_of(node.inputs[0]);
                    // The gaps lie in [0, 2^b): -g must be inside the exp table's domain.
                    if b >= exp.in_bits || *out_scale > 30 {
                        return Err(unsupported(graph, i, "an input wider than the exp table's domain"));
                    }
                    let output = packing.quantity(view.positions(), out_scale + 1, 0);
                    // With a mask the output is always a wiring of the view (kept positions only).
                    roles[node.output] =
                        if keep.is_some() { Role::Virtual } else { view_role(&view, &output) };
                    // s < len·2^(out_bits - 1), so r < 2s < 2^(lb + out_bits).
                    let width = exp.out_bits + view.slot_vars as u32;
                    Step::Softmax(Box::new(SoftmaxWitness {
                        view,
                        output,
                        max: packing.quantity(view.per_row(), b, 1i64 << (b - 1)),
                        gaps: packing.quantity(view.positions(), b, 0),
                        exp: table_witness(&mut packing, exp, view.positions()),
                        remainder: packing.quantity(view.positions(), width, 0),
                        complement: packing.quantity(view.positions(), width, 0),
                        keep,
                    }))
                }
                QOp::LayerNorm { axis, eps, out_scale } => {
                    let view = rows_of(graph, i, *axis, false)?;
                    let b = bits_of(node.inputs[0]);
                    if b > 24 || *out_scale > 24 || !(1..1 << 40).contains(eps) {
                        return Err(unsupported(graph, i, "an input, scale or epsilon this wide"));
                    }
                    let signed = |w: u32| 1i64 << (w - 1);
                    // |x - μ| < 2^b, so v < 2^(2b) and s ≤ round(sqrt(2^(2b) + ε)); |y| < 2^(b + 1 + out).
                    let deviation_bits = 64 - (isqrt_round((1i64 << (2 * b)) + eps) as u64).leading_zeros();
                    let y_bits = b + 2 + out_scale;
                    let output = packing.quantity(view.positions(), y_bits, signed(y_bits));
                    roles[node.output] = view_role(&view, &output);
                    // Remainders of a division by n lie in [0, 2n); by s, in [0, 2s).
                    let n_bits = log2_ceil(2 * view.len) as u32;
                    let mean = packing.quantity(view.per_row(), b, signed(b));
                    let mean = with_remainders(&mut packing, mean, n_bits);
                    let variance = packing.quantity(view.per_row(), 2 * b, 0);
                    let variance = with_remainders(&mut packing, variance, n_bits);
                    let deviation = packing.quantity(view.per_row(), deviation_bits, 0);
                    let deviation = with_remainders(&mut packing, deviation, deviation_bits + 3);
                    let division = [
                        packing.quantity(view.positions(), deviation_bits + 1, 0),
                        packing.quantity(view.positions(), deviation_bits + 1, 0),
                    ];
                    Step::LayerNorm(Box::new(LayerNormWitness {
                        view,
                        output,
                        mean,
                        variance,
                        deviation,
                        division,
                    }))
                }
                _ => return Err(unsupported(graph, i, "this op is not proven by the sumcheck backend yet")),
            };
            steps.push(step);
        }
        Ok(Self { roles, layouts, steps, packing: packing.finish() })
    }
}
