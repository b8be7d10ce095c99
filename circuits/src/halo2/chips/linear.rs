//! Mat-vec with fixed weights: `y_j = b_j + Σ_k W[k][j] · x_k`.
//!
//! Cell layout per block of `MV_OUTPUTS` outputs: one row per `MV_INPUTS` input elements: lanes
//! `0..MV_INPUTS` hold `x_k..x_(k+MV_INPUTS)` (copied from where they were computed), the fixed columns
//! `W[k + t][j]` at `t · MV_OUTPUTS + j`, and lanes `MV_INPUTS..` the running sums; the first row
//! (`MvFirst`) starts from the biases in the constant columns, the others (`Mv`) from the row above. A
//! block without inputs is one `MvInit` row holding the biases. The outputs are the
//! running sums on the last row. One row does `MV_INPUTS · MV_OUTPUTS` (20) multiply-accumulates; an
//! unused input lane of the last row has weight 0 and no copy.

use super::super::layout::{fe, Gate, Layout, Pos, MV_INPUTS, MV_OUTPUTS};
use crate::halo2::CircuitError;

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

/// A cell constrained to 0, created once per layout (padding reads it).
pub fn zero_cell(l: &mut Layout, cache: &mut Option<Pos>) -> (Pos, i64) {
    let p = *cache.get_or_insert_with(|| {
        let cell = l.push_witness(fe(0));
        l.constants.push((cell, fe(0)));
        cell
    });
    (p, 0)
}

/// 2-D convolution as one mat-vec per (image, output position, group): the receptive field times the
/// matching rows of the group's kernel matrix `[C/g · kh · kw][M/g]`, plus bias (padded positions add
/// nothing, so they are left out). `x` is NCHW row-major.
pub fn conv2d(
    l: &mut Layout,
    p: &crate::ir::ConvParams,
    x: &[(Pos, i64)],
    x_shape: &[usize],
    w: &crate::ir::Tensor,
    bias: Option<&[i64]>,
) -> Result<Vec<(Pos, i64)>, CircuitError> {
    let bad = || CircuitError::Layout(format!("conv shapes {x_shape:?} / {:?}", w.shape()));
    let ([n, c, h, wd], [m, cg, kh, kw]) = (
        <[usize; 4]>::try_from(x_shape).map_err(|_| bad())?,
        <[usize; 4]>::try_from(w.shape()).map_err(|_| bad())?,
    );
    let g = p.group.max(1);
    if c != cg * g || m % g != 0 || x.len() != n * c * h * wd {
        return Err(bad());
    }
    let oh = crate::ir::ops::window_out(h, p.pads[0] + p.pads[2], kh, p.strides[0], p.dilations[0], false)
        .ok_or_else(bad)?;
    let ow = crate::ir::ops::window_out(wd, p.pads[1] + p.pads[3], kw, p.strides[1], p.dilations[1], false)
        .ok_or_else(bad)?;
    let mg = m / g;
    let q = cg * kh * kw;
    // Kernel matrix per group, row-major [q][oc_local].
    let mats: Vec<Vec<i64>> = (0..g)
        .map(|grp| {
            let mut mat = vec![0i64; q * mg];
            for ocl in 0..mg {
                let oc = grp * mg + ocl;
                for qi in 0..q {
                    mat[qi * mg + ocl] = w.data()[oc * q + qi];
                }
            }
            mat
        })
        .collect();
    let mut out = vec![(Pos::Lane(0, 0), 0i64); n * m * oh * ow];
    for b in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                for (grp, mat) in mats.iter().enumerate() {
                    let (mut field, mut rows) = (Vec::with_capacity(q), Vec::with_capacity(q * mg));
                    for ic in 0..cg {
                        let ch = grp * cg + ic;
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let iy =
                                    (oy * p.strides[0] + ky * p.dilations[0]) as isize - p.pads[0] as isize;
                                let ix =
                                    (ox * p.strides[1] + kx * p.dilations[1]) as isize - p.pads[1] as isize;
                                if iy >= 0 && ix >= 0 && iy < h as isize && ix < wd as isize {
                                    let qi = (ic * kh + ky) * kw + kx;
                                    field.push(x[((b * c + ch) * h + iy as usize) * wd + ix as usize]);
                                    rows.extend_from_slice(&mat[qi * mg..(qi + 1) * mg]);
                                }
                            }
                        }
                    }
                    let gb = bias.map(|bs| bs[grp * mg..(grp + 1) * mg].to_vec());
                    let ys = matvec(l, &field, &rows, mg, gb.as_deref())?;
                    for (ocl, y) in ys.into_iter().enumerate() {
                        out[((b * m + grp * mg + ocl) * oh + oy) * ow + ox] = y;
                    }
                }
            }
        }
    }
    Ok(out)
}
