//! Linear ops: batched matmul, 2-D convolution and 2-D pooling. All exact integer arithmetic except the
//! average, which rounds once per output.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ir::fixed::div_round;
use crate::ir::tensor::{broadcast_index_map, broadcast_shape, numel};
use crate::ir::{IrError, Tensor};

/// Parameters of a 2-D convolution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvParams {
    /// `[top, left, bottom, right]` zero padding.
    pub pads: [usize; 4],
    /// `[h, w]` strides.
    pub strides: [usize; 2],
    /// `[h, w]` dilations.
    pub dilations: [usize; 2],
    /// Number of groups (`C` for depthwise).
    pub group: usize,
}

/// Parameters of a 2-D pooling window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolParams {
    /// `[h, w]` window.
    pub kernel: [usize; 2],
    /// `[top, left, bottom, right]` padding.
    pub pads: [usize; 4],
    /// `[h, w]` strides.
    pub strides: [usize; 2],
    /// `[h, w]` dilations.
    pub dilations: [usize; 2],
    /// Output size rounds up instead of down.
    pub ceil_mode: bool,
    /// Average pooling divides by the full window (padding included) rather than the valid count.
    pub count_include_pad: bool,
}

pub(super) fn matmul(a: &Tensor, b: &Tensor, bias: Option<&Tensor>) -> Result<Tensor, IrError> {
    let (ra, rb) = (a.shape().len(), b.shape().len());
    if ra < 2 || rb < 2 {
        return Err(IrError::Shape { op: "MatMul", detail: format!("ranks {ra} and {rb}: need >= 2") });
    }
    let (m, k) = (a.shape()[ra - 2], a.shape()[ra - 1]);
    let (k2, n) = (b.shape()[rb - 2], b.shape()[rb - 1]);
    if k != k2 {
        return Err(IrError::Shape {
            op: "MatMul",
            detail: format!("inner dims differ: {:?} x {:?}", a.shape(), b.shape()),
        });
    }
    let batch = broadcast_shape(&a.shape()[..ra - 2], &b.shape()[..rb - 2])
        .ok_or_else(|| IrError::Broadcast { a: a.shape().to_vec(), b: b.shape().to_vec() })?;
    let a_batches = broadcast_index_map(&a.shape()[..ra - 2], &batch);
    let b_batches = broadcast_index_map(&b.shape()[..rb - 2], &batch);
    let nb = numel(&batch);
    // B transposed per batch, so every dot product reads two contiguous rows.
    let b_blocks = numel(&b.shape()[..rb - 2]);
    let mut bt = vec![0i64; b.len()];
    for blk in 0..b_blocks {
        let base = blk * k * n;
        for r in 0..k {
            for c in 0..n {
                bt[base + c * k + r] = b.data()[base + r * n + c];
            }
        }
    }
    let mut out = vec![0i64; nb * m * n];
    out.par_chunks_mut(n.max(1)).enumerate().for_each(|(row, dst)| {
        let (bi, i) = (row / m.max(1), row % m.max(1));
        let arow = &a.data()[a_batches[bi] * m * k + i * k..][..k];
        let bbase = b_batches[bi] * k * n;
        for (j, d) in dst.iter_mut().enumerate() {
            let bcol = &bt[bbase + j * k..][..k];
            *d = arow.iter().zip(bcol).fold(0i64, |acc, (&x, &y)| acc.wrapping_add(x.wrapping_mul(y)));
        }
    });
    let mut shape = batch;
    shape.extend([m, n]);
    let out = Tensor::new(shape, out)?;
    match bias {
        Some(bias) => crate::ir::tensor::broadcast_binary(&out, bias, i64::wrapping_add),
        None => Ok(out),
    }
}

/// Output length of a strided, dilated window along one axis.
pub fn window_out(
    len: usize,
    pad: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    ceil: bool,
) -> Option<usize> {
    let span = dilation.checked_mul(kernel.checked_sub(1)?)? + 1;
    let padded = len + pad;
    if padded < span || stride == 0 {
        return None;
    }
    let steps = padded - span;
    Some(if ceil { steps.div_ceil(stride) } else { steps / stride } + 1)
}

fn nchw(x: &Tensor, op: &'static str) -> Result<[usize; 4], IrError> {
    match *x.shape() {
        [n, c, h, w] => Ok([n, c, h, w]),
        _ => Err(IrError::Shape { op, detail: format!("input {:?} is not NCHW", x.shape()) }),
    }
}

pub(super) fn conv2d(
    p: &ConvParams,
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
) -> Result<Tensor, IrError> {
    let [n, c, h, wd] = nchw(x, "Conv")?;
    let [m, cg, kh, kw] = nchw(w, "Conv")?;
    let g = p.group;
    if g == 0 || c % g != 0 || m % g != 0 || c / g != cg {
        return Err(IrError::Shape {
            op: "Conv",
            detail: format!("input {:?}, weight {:?}, group {g}", x.shape(), w.shape()),
        });
    }
    let oh = window_out(h, p.pads[0] + p.pads[2], kh, p.strides[0], p.dilations[0], false);
    let ow = window_out(wd, p.pads[1] + p.pads[3], kw, p.strides[1], p.dilations[1], false);
    let (Some(oh), Some(ow)) = (oh, ow) else {
        return Err(IrError::Shape {
            op: "Conv",
            detail: format!("kernel {kh}x{kw} too large for {h}x{wd}"),
        });
    };
    if let Some(b) = bias {
        if b.len() != m {
            return Err(IrError::Shape {
                op: "Conv",
                detail: format!("bias has {} values for {m} maps", b.len()),
            });
        }
    }
    let mg = m / g;
    let mut out = vec![0i64; n * m * oh * ow];
    out.par_chunks_mut((oh * ow).max(1)).enumerate().for_each(|(plane, dst)| {
        let (b_i, oc) = (plane / m, plane % m);
        let grp = oc / mg;
        let init = bias.map_or(0, |b| b.data()[oc]);
        for oy in 0..oh {
            for ox in 0..ow {
                let mut acc = init;
                for ic in 0..cg {
                    let xc = grp * cg + ic;
                    let xbase = (b_i * c + xc) * h * wd;
                    let wbase = (oc * cg + ic) * kh * kw;
                    for ky in 0..kh {
                        let iy = (oy * p.strides[0] + ky * p.dilations[0]) as isize - p.pads[0] as isize;
                        if iy < 0 || iy >= h as isize {
                            continue;
                        }
                        for kx in 0..kw {
                            let ix = (ox * p.strides[1] + kx * p.dilations[1]) as isize - p.pads[1] as isize;
                            if ix < 0 || ix >= wd as isize {
                                continue;
                            }
                            let xv = x.data()[xbase + iy as usize * wd + ix as usize];
                            acc = acc.wrapping_add(xv.wrapping_mul(w.data()[wbase + ky * kw + kx]));
                        }
                    }
                }
                dst[oy * ow + ox] = acc;
            }
        }
    });
    Tensor::new(vec![n, m, oh, ow], out)
}

pub(super) enum PoolKind {
    Max,
    Average,
}

pub(super) fn pool(p: &PoolParams, x: &Tensor, kind: PoolKind) -> Result<Tensor, IrError> {
    let op = match kind {
        PoolKind::Max => "MaxPool",
        PoolKind::Average => "AvgPool",
    };
    let [n, c, h, w] = nchw(x, op)?;
    let [kh, kw] = p.kernel;
    let oh = window_out(h, p.pads[0] + p.pads[2], kh, p.strides[0], p.dilations[0], p.ceil_mode);
    let ow = window_out(w, p.pads[1] + p.pads[3], kw, p.strides[1], p.dilations[1], p.ceil_mode);
    let (Some(oh), Some(ow)) = (oh, ow) else {
        return Err(IrError::Shape { op, detail: format!("window {kh}x{kw} too large for {h}x{w}") });
    };
    let mut out = vec![0i64; n * c * oh * ow];
    out.par_chunks_mut((oh * ow).max(1)).enumerate().for_each(|(plane, dst)| {
        let src = &x.data()[plane * h * w..][..h * w];
        for oy in 0..oh {
            for ox in 0..ow {
                let (mut best, mut sum, mut count, mut padded_count) = (i64::MIN, 0i64, 0i64, 0i64);
                for ky in 0..kh {
                    let iy = (oy * p.strides[0] + ky * p.dilations[0]) as isize - p.pads[0] as isize;
                    for kx in 0..kw {
                        let ix = (ox * p.strides[1] + kx * p.dilations[1]) as isize - p.pads[1] as isize;
                        // ONNX counts padded positions only inside the padded extent, not past it (ceil mode).
                        let inside_pad = iy < (h + p.pads[2]) as isize && ix < (w + p.pads[3]) as isize;
                        if inside_pad {
                            padded_count += 1;
                        }
                        if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                            continue;
                        }
                        let v = src[iy as usize * w + ix as usize];
                        best = best.max(v);
                        sum = sum.wrapping_add(v);
                        count += 1;
                    }
                }
                dst[oy * ow + ox] = match kind {
                    PoolKind::Max => {
                        if count == 0 {
                            0
                        } else {
                            best
                        }
                    }
                    PoolKind::Average => {
                        let den = if p.count_include_pad { padded_count } else { count };
                        div_round(sum, den).unwrap_or(0)
                    }
                };
            }
        }
    });
    Tensor::new(vec![n, c, oh, ow], out)
}
