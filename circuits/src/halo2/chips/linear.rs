//! Mat-vec with fixed weights: `y_j = b_j + Σ_k W[k][j] · x_k`.
//!
//! Cell layout per block of `MV_OUTPUTS` outputs: one row per `MV_INPUTS` input elements: lanes
//! `0..MV_INPUTS` hold `x_k..x_(k+MV_INPUTS)` (copied from where they were computed), the fixed columns
//! `W[k + t][j]` at `t · MV_OUTPUTS + j`, and lanes `MV_INPUTS..` the running sums; the first row
//! (`MvFirst`) starts from the biases in the constant columns, the others (`Mv`) from the row above. A
//! block without inputs is one `MvInit` row holding the biases. The outputs are the
//! running sums on the last row. One row does `MV_INPUTS · MV_OUTPUTS` (20) multiply-accumulates; an
//! unused input lane of the last row has weight 0 and no copy.
//!
//! Uniqueness: every gate of this file (`MvInit`, `MvFirst`, `Mv`, `Dot`, `DotBlock*`) makes its running
//! sum a polynomial in copied cells, fixed weights and constants, so no cell here is free: given its
//! inputs, each output is the exact integer sum of products (far below the modulus for values of at most
//! 62 bits and any realistic length).

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::plonk::{Expression, VirtualCells};
use halo2_base::halo2_proofs::poly::Rotation;

use super::super::layout::{
    fe, Gate, Layout, Pos, BLOCK_INPUTS, BLOCK_WIDTH, DOT_WIDTH, LANES, MV_INPUTS, MV_OUTPUTS,
};
use super::elementwise::arith;
use super::gate::GateColumns;
use super::operands::{product_inputs, Cells, SharedCells, Weights};
use crate::halo2::CircuitError;

/// `y = Wᵀx + b` with `w` row-major `[K][N]`: the fixed-weight mat-vec for constant weights, dot
/// products over witnessed weights ([`dot_matvec`]) for committed ones.
pub fn linear(
    l: &mut Layout,
    x: &[(Pos, i64)],
    w: &Weights<'_>,
    n: usize,
    bias: Option<&Weights<'_>>,
    shared: &mut SharedCells,
) -> Result<Vec<(Pos, i64)>, CircuitError> {
    match (w, bias) {
        (Weights::Fixed(w), None) => matvec(l, x, w, n, None),
        (Weights::Fixed(w), Some(Weights::Fixed(b))) => matvec(l, x, w, n, Some(b)),
        (Weights::Cells(w), bias) => dot_matvec(l, x, w, n, bias, shared),
        (Weights::Fixed(_), Some(Weights::Cells(_))) => {
            Err(CircuitError::Layout("constant weights with a committed bias".into()))
        }
    }
}

/// One product of a dot product: the input cell and the weight cell, with their values.
type Product = ((Pos, i64), (Pos, i64));

/// `y_j = b_j + Σ_k W[k][j] · x_k` over witnessed weights: each output is a dot product, `DOT_WIDTH`
/// products per `Dot` row (inputs and weights copied in; an unused slot's input is the zero cell). A
/// committed bias enters as one more product with the one cell, a constant one as the first row's `c1`.
pub fn dot_matvec(
    l: &mut Layout,
    x: &[(Pos, i64)],
    w: &[(Pos, i64)],
    n: usize,
    bias: Option<&Weights<'_>>,
    shared: &mut SharedCells,
) -> Result<Vec<(Pos, i64)>, CircuitError> {
    let k = x.len();
    if w.len() != k * n || bias.is_some_and(|b| b.len() != n) {
        return Err(CircuitError::Layout(format!(
            "dot mat-vec shapes: {k} inputs, {} weights, {n} outputs",
            w.len()
        )));
    }
    let zero = shared.zero(l);
    let one = matches!(bias, Some(Weights::Cells(_))).then(|| shared.one(l));
    // The input, with the one cell against a committed bias.
    let top: Vec<(Pos, i64)> = x.iter().copied().chain(one).collect();
    if l.shared_dots && n >= BLOCK_INPUTS {
        // Input-stationary blocks: the input is shared by every output's weight column.
        let (columns, starts): (Vec<_>, Vec<_>) = (0..n).map(|j| column_and_start(w, k, n, j, bias)).unzip();
        return shared_dots(l, &top, &columns, &starts, shared);
    }
    let acc_lane = LANES - 1;
    let mut out = Vec::with_capacity(n);
    for j in 0..n {
        let (column, start) = column_and_start(w, k, n, j, bias);
        let pairs: Vec<Product> = top.iter().copied().zip(column).collect();
        let chunks: Vec<&[Product]> =
            if pairs.is_empty() { vec![&[]] } else { pairs.chunks(DOT_WIDTH).collect() };
        let (mut acc, mut row) = (start, 0);
        for (c, chunk) in chunks.into_iter().enumerate() {
            row = l.push_row();
            l.selectors[Gate::Dot as usize][row] = true;
            if c == 0 {
                l.consts[1][row] = fe(start);
            } else {
                l.consts[0][row] = fe(1);
            }
            for t in 0..DOT_WIDTH {
                match chunk.get(t) {
                    Some(&((xp, xv), (wp, wv))) => {
                        l.lanes[t][row] = fe(xv);
                        l.lanes[DOT_WIDTH + t][row] = fe(wv);
                        l.copies.push((Pos::Lane(t, row), xp));
                        l.copies.push((Pos::Lane(DOT_WIDTH + t, row), wp));
                        acc = acc.wrapping_add(xv.wrapping_mul(wv));
                    }
                    // The input is held to zero, so whatever the weight cell holds adds nothing.
                    None => l.copies.push((Pos::Lane(t, row), zero.0)),
                }
            }
            l.lanes[acc_lane][row] = fe(acc);
        }
        out.push((Pos::Lane(acc_lane, row), acc));
    }
    Ok(out)
}

/// `out_p = start_p + Σ_s top_s · rows_p[s]`: many dot products that share one operand, laid out in
/// blocks of one row of `top` (`BLOCK_WIDTH` cells, copied) and [`BLOCK_INPUTS`] rows of the other
/// operands (one vector each, with its running sum), so a cell of the shared operand serves four dot
/// products and a row does eight products instead of [`dot_matvec`]'s four. A convolution shares a kernel
/// column across positions (weight-stationary), a mat-vec its input across outputs (input-stationary).
/// Vectors shorter than `top` are padded with the zero cell (and `top`'s unused lanes then add nothing);
/// a block's missing vectors leave their rows empty, so consecutive blocks of a sum stay
/// `BLOCK_INPUTS + 1` rows apart.
pub fn shared_dots(
    l: &mut Layout,
    top: &[(Pos, i64)],
    rows: &[Vec<(Pos, i64)>],
    start: &[i64],
    shared: &mut SharedCells,
) -> Result<Vec<(Pos, i64)>, CircuitError> {
    if rows.iter().any(|r| r.len() > top.len()) || start.len() != rows.len() {
        return Err(CircuitError::Layout(format!(
            "shared dots: {} shared cells, {} vectors, {} starts",
            top.len(),
            rows.len(),
            start.len()
        )));
    }
    let zero = shared.zero(l);
    let acc_lane = LANES - 1;
    let chunks = top.len().div_ceil(BLOCK_WIDTH).max(1);
    let mut out = Vec::with_capacity(rows.len());
    for (group, starts) in rows.chunks(BLOCK_INPUTS).zip(start.chunks(BLOCK_INPUTS)) {
        let mut acc = starts.to_vec();
        let mut last = vec![0; group.len()];
        for c in 0..chunks {
            let slots = c * BLOCK_WIDTH..((c + 1) * BLOCK_WIDTH).min(top.len());
            let trow = l.push_row();
            for (t, &(p, v)) in top.get(slots.clone()).unwrap_or(&[]).iter().enumerate() {
                l.lanes[t][trow] = fe(v);
                l.copies.push((Pos::Lane(t, trow), p));
            }
            for i in 1..=BLOCK_INPUTS {
                let row = l.push_row();
                let Some(vector) = group.get(i - 1) else { continue };
                let gate = Gate::dot_block(i).ok_or_else(|| CircuitError::Layout("dot block".into()))?;
                l.selectors[gate as usize][row] = true;
                if c == 0 {
                    l.consts[1][row] = fe(starts[i - 1]);
                } else {
                    l.consts[0][row] = fe(1);
                }
                let a = &mut acc[i - 1];
                for t in 0..BLOCK_WIDTH {
                    let s = c * BLOCK_WIDTH + t;
                    // Past the vector's end the slot is the zero cell: top's lane adds nothing there.
                    let cell = vector.get(s).copied().unwrap_or(zero);
                    l.lanes[t][row] = fe(cell.1);
                    l.copies.push((Pos::Lane(t, row), cell.0));
                    if let Some(&(_, tv)) = top.get(s) {
                        *a = a.wrapping_add(cell.1.wrapping_mul(tv));
                    }
                }
                l.lanes[acc_lane][row] = fe(*a);
                last[i - 1] = row;
            }
        }
        out.extend(acc.iter().zip(&last).map(|(&a, &row)| (Pos::Lane(acc_lane, row), a)));
    }
    Ok(out)
}

/// `y_p = Wᵀx_p + b` for many input vectors `x_p` against the same witnessed weights `w` (row-major
/// `[K][N]`) by [`shared_dots`], each kernel column shared by the vectors; a committed bias is one more
/// weight against the one cell. Returns `out[p][j]`.
pub fn shared_weight_dots(
    l: &mut Layout,
    xs: &[Vec<(Pos, i64)>],
    w: &[(Pos, i64)],
    n: usize,
    bias: Option<&Weights<'_>>,
    shared: &mut SharedCells,
) -> Result<Vec<Vec<(Pos, i64)>>, CircuitError> {
    let k = product_inputs(xs, w, n, bias, "shared-weight dots")?;
    let one = matches!(bias, Some(Weights::Cells(_))).then(|| shared.one(l));
    let vectors: Vec<Vec<(Pos, i64)>> = match one {
        Some(one) => xs.iter().map(|x| x.iter().copied().chain([one]).collect()).collect(),
        None => xs.to_vec(),
    };
    let mut out = vec![Vec::with_capacity(n); xs.len()];
    for j in 0..n {
        let (column, start) = column_and_start(w, k, n, j, bias);
        let ys = shared_dots(l, &column, &vectors, &vec![start; xs.len()], shared)?;
        for (o, y) in out.iter_mut().zip(ys) {
            o.push(y);
        }
    }
    Ok(out)
}

/// Column `j` of `w` (`[K][N]`) with a committed bias appended, and the constant bias (or 0).
fn column_and_start(
    w: &[(Pos, i64)],
    k: usize,
    n: usize,
    j: usize,
    bias: Option<&Weights<'_>>,
) -> (Vec<(Pos, i64)>, i64) {
    let mut column: Vec<(Pos, i64)> = (0..k).map(|t| w[t * n + j]).collect();
    let mut start = 0;
    match bias {
        Some(Weights::Cells(b)) => column.push(b[j]),
        Some(Weights::Fixed(b)) => start = b[j],
        None => {}
    }
    (column, start)
}

/// Lays out `y = Wᵀx + b` for `x` given as cells with their values; `w` is row-major `[K][N]`.
/// Returns the `N` output cells and values.
pub fn matvec(
    l: &mut Layout,
    x: &[(Pos, i64)],
    w: &[i64],
    n: usize,
    bias: Option<&[i64]>,
) -> Result<Vec<(Pos, i64)>, CircuitError> {
    let k = x.len();
    if w.len() != k * n || bias.is_some_and(|b| b.len() != n) {
        return Err(CircuitError::Layout(format!(
            "mat-vec shapes: {k} inputs, {} weights, {n} outputs",
            w.len()
        )));
    }
    let mut out = Vec::with_capacity(n);
    for j0 in (0..n).step_by(MV_OUTPUTS) {
        let width = MV_OUTPUTS.min(n - j0);
        let mut acc: Vec<i64> = (0..width).map(|i| bias.map_or(0, |b| b[j0 + i])).collect();
        let mut row = None;
        if x.is_empty() {
            // No inputs: the outputs are the biases.
            let init = l.push_row();
            l.selectors[Gate::MvInit as usize][init] = true;
            for (i, a) in acc.iter().enumerate() {
                l.weights[i][init] = fe(*a);
                l.lanes[MV_INPUTS + i][init] = fe(*a);
            }
            row = Some(init);
        }
        for (c, chunk) in x.chunks(MV_INPUTS).enumerate() {
            let r = l.push_row();
            // The first row starts from the biases (in the constant columns), the others from the row above.
            if c == 0 {
                l.selectors[Gate::MvFirst as usize][r] = true;
                for (i, a) in acc.iter().enumerate() {
                    l.consts[i][r] = fe(*a);
                }
            } else {
                l.selectors[Gate::Mv as usize][r] = true;
            }
            for (t, &(src, xv)) in chunk.iter().enumerate() {
                l.lanes[t][r] = fe(xv);
                l.copies.push((Pos::Lane(t, r), src));
                let kk = c * MV_INPUTS + t;
                for (i, a) in acc.iter_mut().enumerate() {
                    let wv = w[kk * n + j0 + i];
                    *a = a.wrapping_add(wv.wrapping_mul(xv));
                    l.weights[t * MV_OUTPUTS + i][r] = fe(wv);
                }
            }
            for (i, a) in acc.iter().enumerate() {
                l.lanes[MV_INPUTS + i][r] = fe(*a);
            }
            row = Some(r);
        }
        let row = row.ok_or_else(|| CircuitError::Layout("mat-vec without rows".into()))?;
        out.extend(acc.iter().enumerate().map(|(i, &a)| (Pos::Lane(MV_INPUTS + i, row), a)));
    }
    Ok(out)
}

/// 2-D convolution as one mat-vec per (image, output position, group): the receptive field times the
/// matching rows of the group's kernel matrix `[C/g · kh · kw][M/g]`, plus bias (padded positions add
/// nothing, so they are left out). `x` is NCHW row-major; `w` holds the `w_shape` (`[M, C/g, kh, kw]`)
/// kernel row-major.
#[allow(clippy::too_many_arguments, reason = "the op's parameters, operands and the shared cells")]
pub fn conv2d(
    l: &mut Layout,
    p: &crate::ir::ConvParams,
    x: &[(Pos, i64)],
    x_shape: &[usize],
    w_shape: &[usize],
    w: &Weights<'_>,
    bias: Option<&Weights<'_>>,
    shared: &mut SharedCells,
) -> Result<Vec<(Pos, i64)>, CircuitError> {
    let bad = || CircuitError::Layout(format!("conv shapes {x_shape:?} / {w_shape:?}"));
    let ([n, c, h, wd], [m, cg, kh, kw]) = (
        <[usize; 4]>::try_from(x_shape).map_err(|_| bad())?,
        <[usize; 4]>::try_from(w_shape).map_err(|_| bad())?,
    );
    let g = p.group.max(1);
    if c != cg * g || m % g != 0 || x.len() != n * c * h * wd || w.len() != m * cg * kh * kw {
        return Err(bad());
    }
    let oh = crate::ir::ops::window_out(h, p.pads[0] + p.pads[2], kh, p.strides[0], p.dilations[0], false)
        .ok_or_else(bad)?;
    let ow = crate::ir::ops::window_out(wd, p.pads[1] + p.pads[3], kw, p.strides[1], p.dilations[1], false)
        .ok_or_else(bad)?;
    let mg = m / g;
    let q = cg * kh * kw;
    // Per group, the index into `w` of kernel-matrix entry [qi][oc_local], row-major.
    let mats: Vec<Vec<usize>> = (0..g)
        .map(|grp| {
            let mut mat = vec![0usize; q * mg];
            for ocl in 0..mg {
                for qi in 0..q {
                    mat[qi * mg + ocl] = (grp * mg + ocl) * q + qi;
                }
            }
            mat
        })
        .collect();
    let biases: Vec<Option<Weights<'static>>> = (0..g)
        .map(|grp| bias.map(|b| b.gather(grp * mg..(grp + 1) * mg).ok_or_else(bad)).transpose())
        .collect::<Result<_, _>>()?;
    // The receptive field of output position (b, oy, ox) in group `grp`, in kernel-matrix row order:
    // the input cell, or None for a padded position.
    let field = |b: usize, oy: usize, ox: usize, grp: usize| -> Vec<Option<(Pos, i64)>> {
        let mut field = Vec::with_capacity(q);
        for ic in 0..cg {
            let ch = grp * cg + ic;
            for ky in 0..kh {
                for kx in 0..kw {
                    let iy = (oy * p.strides[0] + ky * p.dilations[0]) as isize - p.pads[0] as isize;
                    let ix = (ox * p.strides[1] + kx * p.dilations[1]) as isize - p.pads[1] as isize;
                    field.push(
                        (iy >= 0 && ix >= 0 && iy < h as isize && ix < wd as isize)
                            .then(|| x[((b * c + ch) * h + iy as usize) * wd + ix as usize]),
                    );
                }
            }
        }
        field
    };
    let mut out = vec![(Pos::Lane(0, 0), 0i64); n * m * oh * ow];
    let many = n * oh * ow > 1;
    if let (Weights::Cells(_), true) = (w, (l.shared_dots || l.freivalds) && many) {
        // Committed weights: every position's full receptive field (padding as the zero cell) against the
        // group's kernel, by Freivalds' check or in shared-weight blocks (each weight row serving four
        // positions).
        let zero = shared.zero(l);
        for (grp, mat) in mats.iter().enumerate() {
            let Some(Weights::Cells(kernel)) = w.gather(mat.iter().copied()) else { return Err(bad()) };
            let mut fields = Vec::with_capacity(n * oh * ow);
            for b in 0..n {
                for oy in 0..oh {
                    for ox in 0..ow {
                        fields.push(field(b, oy, ox, grp).into_iter().map(|f| f.unwrap_or(zero)).collect());
                    }
                }
            }
            // Freivalds where it takes fewer rows than a dot row per four products.
            let k_all = q + usize::from(bias.is_some());
            let dot_rows = fields.len() * mg * k_all.div_ceil(DOT_WIDTH);
            let ys = if l.freivalds && super::freivalds::freivalds_rows(fields.len(), k_all, mg) < dot_rows {
                super::freivalds::freivalds_matmul(l, &fields, &kernel, mg, biases[grp].as_ref(), shared)?
            } else {
                shared_weight_dots(l, &fields, &kernel, mg, biases[grp].as_ref(), shared)?
            };
            for (pos, y) in ys.into_iter().enumerate() {
                let (b, rest) = (pos / (oh * ow), pos % (oh * ow));
                for (ocl, v) in y.into_iter().enumerate() {
                    out[(b * m + grp * mg + ocl) * oh * ow + rest] = v;
                }
            }
        }
        return Ok(out);
    }
    for b in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                for (grp, mat) in mats.iter().enumerate() {
                    // Padded positions add nothing, so they are left out.
                    let (mut cells, mut rows) = (Vec::with_capacity(q), Vec::with_capacity(q * mg));
                    for (qi, cell) in field(b, oy, ox, grp).into_iter().enumerate() {
                        if let Some(cell) = cell {
                            cells.push(cell);
                            rows.extend_from_slice(&mat[qi * mg..(qi + 1) * mg]);
                        }
                    }
                    let kernel = w.gather(rows.into_iter()).ok_or_else(bad)?;
                    let ys = linear(l, &cells, &kernel, mg, biases[grp].as_ref(), shared)?;
                    for (ocl, y) in ys.into_iter().enumerate() {
                        out[((b * m + grp * mg + ocl) * oh + oy) * ow + ox] = y;
                    }
                }
            }
        }
    }
    Ok(out)
}

// Gates. Lanes of a mat-vec row: inputs `0..MV_INPUTS`, then the `MV_OUTPUTS` running sums; its weights
// are fixed column `t·MV_OUTPUTS + j` (input `t`, output `j`). Lanes of a dot-product row: inputs
// `0..DOT_WIDTH`, their weights the next `DOT_WIDTH`, the running sum last. Every output here is a
// polynomial in copied cells and constants: no free witness.

/// [`Gate::MvInit`]: the running sums start at the biases (a mat-vec without inputs).
pub(crate) fn mv_init_gate(
    c: &GateColumns,
    m: &mut VirtualCells<'_, Fr>,
    q: Expression<Fr>,
) -> Vec<Expression<Fr>> {
    (0..MV_OUTPUTS)
        .map(|j| q.clone() * (c.lane_at(m, MV_INPUTS + j, Rotation::cur()) - c.weight(m, j)))
        .collect()
}

/// [`Gate::Mv`] (`first` false) and [`Gate::MvFirst`]: `acc_j = start_j + Σ_t w_(t,j) · x_t`, the start
/// being the row above's sum or, on the first row, the bias in constant column `j`.
pub(crate) fn mat_vec_gate(
    c: &GateColumns,
    m: &mut VirtualCells<'_, Fr>,
    q: Expression<Fr>,
    first: bool,
) -> Vec<Expression<Fr>> {
    let xs: Vec<Expression<Fr>> = (0..MV_INPUTS).map(|t| c.lane_at(m, t, Rotation::cur())).collect();
    (0..MV_OUTPUTS)
        .map(|j| {
            let acc = c.lane_at(m, MV_INPUTS + j, Rotation::cur());
            let start = if first {
                let [bias] = c.consts(m, [j]);
                bias
            } else {
                c.lane_at(m, MV_INPUTS + j, Rotation::prev())
            };
            let sum = xs
                .iter()
                .enumerate()
                .fold(start, |e, (t, x)| e + c.weight(m, t * MV_OUTPUTS + j) * x.clone());
            q.clone() * (acc - sum)
        })
        .collect()
}

/// [`Gate::Dot`]: `acc = keep·acc_prev + bias + Σ_t x_t·w_t` (`keep`, `bias` in constant columns 0, 1).
pub(crate) fn dot_gate(
    c: &GateColumns,
    m: &mut VirtualCells<'_, Fr>,
    q: Expression<Fr>,
) -> Vec<Expression<Fr>> {
    let acc = c.lane_at(m, LANES - 1, Rotation::cur());
    let prev = c.lane_at(m, LANES - 1, Rotation::prev());
    let [keep, bias] = c.consts(m, [0, 1]);
    let sum = (0..DOT_WIDTH).fold(keep * prev + bias, |e, t| {
        e + c.lane_at(m, t, Rotation::cur()) * c.lane_at(m, DOT_WIDTH + t, Rotation::cur())
    });
    vec![q * (acc - sum)]
}

/// [`Gate::dot_block`]`(i)`, a shared-weight block's input row `i`: it reads the weight row `i` rows up,
/// and its running sum continues the same output's sum one block (`BLOCK_INPUTS + 1` rows) up.
pub(crate) fn dot_block_gate(
    c: &GateColumns,
    m: &mut VirtualCells<'_, Fr>,
    q: Expression<Fr>,
    i: usize,
) -> Vec<Expression<Fr>> {
    let acc = c.lane_at(m, LANES - 1, Rotation::cur());
    let prev = c.lane_at(m, LANES - 1, Rotation(-(BLOCK_INPUTS as i32 + 1)));
    let [keep, bias] = c.consts(m, [0, 1]);
    let sum = (0..BLOCK_WIDTH).fold(keep * prev + bias, |e, t| {
        e + c.lane_at(m, t, Rotation::cur()) * c.lane_at(m, t, Rotation(-(i as i32)))
    });
    vec![q * (acc - sum)]
}

/// Sum of cells through the mat-vec gate with unit weights.
pub fn sum(l: &mut Layout, cells: &[(Pos, i64)]) -> Result<(Pos, i64), CircuitError> {
    let ones = vec![1i64; cells.len()];
    matvec(l, cells, &ones, 1, None)?.pop().ok_or_else(|| CircuitError::Layout("empty sum".into()))
}

/// `QOp::MatMul` of two activations (attention's `QKᵀ` and `AV`), `a` of shape `sa` and `b` of shape
/// `sb` (rank 2 or more, batch dims broadcast to `out_shape`'s): every product by the arith gate, every
/// sum by the unit mat-vec.
pub(crate) fn activation_matmul(
    l: &mut Layout,
    (a, sa): (&Cells, &[usize]),
    (b, sb): (&Cells, &[usize]),
    out_shape: &[usize],
) -> Result<Cells, CircuitError> {
    let (ra, rb) = (sa.len(), sb.len());
    if ra < 2 || rb < 2 || out_shape.len() < 2 {
        return Err(CircuitError::Layout(format!("matmul of shapes {sa:?} and {sb:?}")));
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
                    .map(|t| arith(l, a[(ba * m + i) * k + t], b[(bb * k + t) * n + j], [0, 0, 1, 0]))
                    .collect();
                out.push(sum(l, &prods)?);
            }
        }
    }
    Ok(out)
}
