//! Normalisation, pooling and reduction chips, built from the element-wise and linear gates: sums by the
//! unit mat-vec, rounded divisions, maxima, the exp table and the square root. They add no gate of their
//! own; each step's uniqueness is its gate's (see the chips they call), and the bit widths every range
//! check uses follow from the value formats alone, never from the witness.

use super::elementwise::{arith, div_round, max2, sqrt_round, var_div};
use super::linear::sum;
use super::operands::{Cells, SharedCells};
use super::table::table_lookup;
use crate::halo2::layout::{Layout, Pos};
use crate::halo2::CircuitError;
use crate::ir::{PoolParams, TableSpec};

/// Signed width of a sum of `count` values of signed width `bits`: `|Σ| <= count·2^(bits-1) <=
/// 2^(bits - 1 + ceil(log2 count))`.
pub(crate) fn sum_bits(bits: u32, count: usize) -> u32 {
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
fn pool_windows(p: &PoolParams, shape: &[usize], x: &Cells) -> Result<Vec<(Cells, i64)>, CircuitError> {
    let [n, c, h, w] =
        <[usize; 4]>::try_from(shape).map_err(|_| CircuitError::Layout(format!("pool input {shape:?}")))?;
    // Output extent along spatial axis `i` (0: height, 1: width).
    let extent = |i: usize, len: usize| {
        let pads = p.pads[i] + p.pads[i + 2];
        crate::ir::ops::window_out(len, pads, p.kernel[i], p.strides[i], p.dilations[i], p.ceil_mode)
    };
    let (oh, ow) = (extent(0, h), extent(1, w));
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

/// Max or average pooling of a `[N, C, H, W]` input of signed `bits`-wide values: `QOp::MaxPool` (a
/// chain of [`max2`]) or `QOp::AvgPool` ([`sum`], then [`div_round`] by the window's size, padded
/// positions counted when `count_include_pad`). A window with no valid position gives the zero cell.
pub fn pool(
    l: &mut Layout,
    p: &PoolParams,
    max: bool,
    x: &Cells,
    shape: &[usize],
    bits: u32,
    shared: &mut SharedCells,
) -> Result<Cells, CircuitError> {
    let mut out = Vec::new();
    for (window, padded) in pool_windows(p, shape, x)? {
        out.push(match window.split_first() {
            None => shared.zero(l),
            Some((&first, rest)) if max => {
                rest.iter().try_fold(first, |best, &cell| max2(l, best, cell, bits))?
            }
            Some(_) => {
                let d = if p.count_include_pad { padded } else { window.len() as i64 };
                let total = sum(l, &window)?;
                div_round(l, total, d, sum_bits(bits, window.len()))?
            }
        });
    }
    Ok(out)
}

/// `QOp::ReduceSum` (a [`sum`] per output) or, with `mean`, `QOp::ReduceMean` (then a [`div_round`] by
/// the count) over `axes` of a `shape` input of signed `bits`-wide values.
pub fn reduce(
    l: &mut Layout,
    x: &Cells,
    shape: &[usize],
    axes: &[usize],
    mean: bool,
    bits: u32,
) -> Result<Cells, CircuitError> {
    let mut out = Vec::new();
    for group in reduction_groups(shape, axes) {
        let cells_in: Cells = group.iter().map(|&i| x[i]).collect();
        let total = sum(l, &cells_in)?;
        out.push(if mean {
            div_round(l, total, cells_in.len() as i64, sum_bits(bits, cells_in.len()))?
        } else {
            total
        });
    }
    Ok(out)
}

/// `QOp::Softmax` along `axis` of a `shape` input of signed `bits`-wide values: per slice, the maximum
/// ([`max2`] chain), `e_j = exp(x_j - max)` through the `exp` table, their [`sum`], and each output
/// `round(e_j · 2^out_scale / Σe)` by [`var_div`]. With a mask (`keep`, one flag per position, a constant
/// of the model), the masked positions take no part and their outputs are the shared zero cell: the
/// mask is fixed in the circuit, so which positions count is the verifying key's, not the prover's.
#[allow(clippy::too_many_arguments, reason = "the op's parameters and the layout's shared cells")]
pub fn softmax(
    l: &mut Layout,
    x: &Cells,
    (shape, keep): (&[usize], Option<&[bool]>),
    axis: usize,
    exp: &TableSpec,
    out_scale: u32,
    bits: u32,
    shared: &mut SharedCells,
) -> Result<Cells, CircuitError> {
    let (len, inner) = (shape[axis], shape[axis + 1..].iter().product::<usize>());
    let one = 1i64 << out_scale;
    // sum(e) < len · 2^(out_bits - 1); the divisor bound follows from the formats alone.
    let dbits = exp.out_bits + (usize::BITS - len.leading_zeros()) + 2;
    // |e| < 2^(out_bits - 1), so |e·2^out_scale| <= 2^(out_bits + out_scale - 1).
    let nbits = exp.out_bits + out_scale;
    let mut out = vec![(Pos::Lane(0, 0), 0i64); x.len()];
    for o in 0..x.len() / (len * inner).max(1) {
        for i in 0..inner {
            let (idx, masked): (Vec<usize>, Vec<usize>) =
                (0..len).map(|j| (o * len + j) * inner + i).partition(|&t| keep.is_none_or(|k| k[t]));
            for t in masked {
                out[t] = shared.zero(l);
            }
            let Some(&first) = idx.first() else {
                return Err(CircuitError::Layout("a softmax slice is masked entirely".into()));
            };
            let mut mx = x[first];
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
    Ok(out)
}

/// `QOp::LayerNorm` over rows of `n` signed `bits`-wide values: the mean and the variance by [`sum`] and
/// [`div_round`], `sd = round(sqrt(var + eps))` by [`sqrt_round`], and each output
/// `round((x - mean) · 2^out_scale / sd)` by [`var_div`].
pub fn layer_norm(
    l: &mut Layout,
    x: &Cells,
    n: usize,
    (eps, out_scale): (i64, u32),
    bits: u32,
    shared: &mut SharedCells,
) -> Result<Cells, CircuitError> {
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
        let v = arith(l, var, z, [1, 0, 0, eps.max(1)]);
        // |x - mean| < 2^bits, so sd <= 2^bits and 2·sd < 2^(bits + 2).
        let sd = sqrt_round(l, v, bits + 4)?;
        for &dj in &d {
            let num = arith(l, dj, z, [one, 0, 0, 0]);
            out.push(var_div(l, num, sd, bits + 2, d_bits + out_scale)?);
        }
    }
    Ok(out)
}
