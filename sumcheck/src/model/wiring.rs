//! Reductions through a fixed wiring: `U = G·x` with `G` a public 0/1 matrix (an im2col matrix, a pooling
//! window's slot, a matrix view; with several ones in a row, a window's or an axis's sum). A claim `Ũ(ρ) = v` is
//! `Σ_f x(f)·h(f) = v` with `h = Gᵀ·eq(ρ, ·)`: one product sumcheck over `x`'s hypercube, ending in
//! `x̃(r)·h̃(r)`. The verifier computes `h̃(r) = Σ_(o, f) eq(ρ, o)·eq(r, f)` itself from the public wiring
//! (`O(pairs)`), so what is left is the claim `x̃(r)`. Soundness is the sumcheck's (`2·vars / |F|`).

use halo2_base::halo2_proofs::halo2curves::ff::Field;
use poai_circuits::ir::tensor_shape::{broadcast_index_map, window_out};
use poai_circuits::ir::{ConvParams, PoolParams, QOp, Tensor};
use poai_circuits::Fr;

use super::layout::{log2_ceil, Layout};
use crate::backend::SumcheckBackend;
use crate::matmul::Claim;
use crate::mle::{eq_evals, Mle};
use crate::sumcheck::{self, SumcheckProof};
use crate::transcript::Transcript;
use crate::SumcheckError;

/// A wiring: `(position in U, position in x)` pairs, with both hypercubes' sizes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wiring {
    /// The pairs.
    pub pairs: Vec<(usize, usize)>,
    /// Variables of `U`.
    pub out_vars: usize,
    /// Variables of `x`.
    pub in_vars: usize,
}

impl Wiring {
    /// `U = G·x` from `x`'s laid-out values (the prover's view of the virtual tensor; a row with several
    /// ones sums them).
    pub fn apply(&self, x: &[Fr]) -> Vec<Fr> {
        let mut u = vec![Fr::ZERO; 1 << self.out_vars];
        self.pairs.iter().for_each(|&(o, i)| u[o] += x[i]);
        u
    }

    fn weights(&self, point: &[Fr]) -> Vec<Fr> {
        let eq = eq_evals(point);
        let mut h = vec![Fr::ZERO; 1 << self.in_vars];
        self.pairs.iter().for_each(|&(o, i)| h[i] += eq[o]);
        h
    }

    fn check_point(&self, point: &[Fr]) -> Result<(), SumcheckError> {
        if point.len() != self.out_vars {
            return Err(SumcheckError::PointLength { vars: self.out_vars, got: point.len() });
        }
        Ok(())
    }
}

/// Reduces a claim on `U` at `point` to a claim on `x` (laid out, `2^in_vars` values); the caller sends
/// the claim's value (absorbing it) before any later challenge.
pub fn prove(
    backend: &impl SumcheckBackend,
    wiring: &Wiring,
    x: &[Fr],
    point: &[Fr],
    transcript: &mut impl Transcript,
) -> Result<(SumcheckProof, Claim), SumcheckError> {
    wiring.check_point(point)?;
    let tables = vec![Mle::new(x.to_vec())?, Mle::new(wiring.weights(point))?];
    let proved = sumcheck::prove(backend, tables, transcript)?;
    Ok((proved.proof, Claim { point: proved.point, value: proved.evals[0] }))
}

/// Checks a reduction of `Ũ(point) = value`, with `x_value` the prover's `x̃(r)` (already received and
/// absorbed by the caller); returns the claim on `x`.
pub fn verify(
    wiring: &Wiring,
    (point, value): (&[Fr], Fr),
    proof: &SumcheckProof,
    x_value: Fr,
    transcript: &mut impl Transcript,
) -> Result<Claim, SumcheckError> {
    wiring.check_point(point)?;
    let sub = sumcheck::verify(value, wiring.in_vars, 2, proof, transcript)?;
    let (eq_out, eq_in) = (eq_evals(point), eq_evals(&sub.point));
    let h: Fr = wiring.pairs.iter().map(|&(o, i)| eq_out[o] * eq_in[i]).sum();
    sub.check_product(&[x_value, h])?;
    Ok(Claim { point: sub.point, value: x_value })
}

/// Every tap of a convolution's windows over input channels `base..base + cg`: `f(j, p, x)` for patch
/// index `j = (ic·kh + ky)·kw + kx`, output position `p = oy·OW + ox` and the input position it reads;
/// taps in the zero padding are skipped.
fn conv_taps(
    p: &ConvParams,
    x: &Layout,
    ([cg, kh, kw], base): ([usize; 3], usize),
    out_hw: [usize; 2],
    mut f: impl FnMut(usize, usize, usize),
) {
    let (h, w) = (x.dims()[2], x.dims()[3]);
    for ic in 0..cg {
        for ky in 0..kh {
            for kx in 0..kw {
                let j = (ic * kh + ky) * kw + kx;
                for oy in 0..out_hw[0] {
                    let iy = (oy * p.strides[0] + ky * p.dilations[0]) as isize - p.pads[0] as isize;
                    if iy < 0 || iy >= h as isize {
                        continue;
                    }
                    for ox in 0..out_hw[1] {
                        let ix = (ox * p.strides[1] + kx * p.dilations[1]) as isize - p.pads[1] as isize;
                        if ix < 0 || ix >= w as isize {
                            continue;
                        }
                        f(j, oy * out_hw[1] + ox, x.position(&[0, base + ic, iy as usize, ix as usize]));
                    }
                }
            }
        }
    }
}

/// The im2col wiring of a batch-1, group-1 convolution: `Uᵀ[j][p]` (`j` the patch index over `2^k` rows,
/// `p = oy·OW + ox` over `2^n` columns); positions in the zero padding have no pair.
pub fn im2col(
    p: &ConvParams,
    x: &Layout,
    kernel: [usize; 3],
    out_hw: [usize; 2],
    (k, n): (usize, usize),
) -> Wiring {
    let mut pairs = Vec::new();
    conv_taps(p, x, (kernel, 0), out_hw, |j, pos, i| pairs.push(((j << n) | pos, i)));
    Wiring { pairs, out_vars: k + n, in_vars: x.vars() }
}

/// Walks a batch-1 pooling's windows: `f(o, ch, taps)` for each output position `o` (in `out`) of
/// channel `ch`, with every slot's input coordinates `(iy, ix)`, row-major over the kernel (positions in
/// the padding lie outside `[0, h) × [0, w)`).
fn pool_windows_walk(
    p: &PoolParams,
    x: &Layout,
    out: &Layout,
    mut f: impl FnMut(usize, usize, &[(isize, isize)]) -> Result<(), SumcheckError>,
) -> Result<(), SumcheckError> {
    let (c, h, w) = (x.dims()[1], x.dims()[2], x.dims()[3]);
    let [kh, kw] = p.kernel;
    let oh = window_out(h, p.pads[0] + p.pads[2], kh, p.strides[0], p.dilations[0], p.ceil_mode);
    let ow = window_out(w, p.pads[1] + p.pads[3], kw, p.strides[1], p.dilations[1], p.ceil_mode);
    let (Some(oh), Some(ow)) = (oh, ow) else {
        return Err(SumcheckError::Shape(format!("pool window {kh}x{kw} on {h}x{w}")));
    };
    let mut taps = Vec::with_capacity(kh * kw);
    for ch in 0..c {
        for oy in 0..oh {
            for ox in 0..ow {
                taps.clear();
                for ky in 0..kh {
                    let iy = (oy * p.strides[0] + ky * p.dilations[0]) as isize - p.pads[0] as isize;
                    for kx in 0..kw {
                        let ix = (ox * p.strides[1] + kx * p.dilations[1]) as isize - p.pads[1] as isize;
                        taps.push((iy, ix));
                    }
                }
                f(out.position(&[0, ch, oy, ox]), ch, &taps)?;
            }
        }
    }
    Ok(())
}

/// The input position of a tap of channel `ch`, or `None` in the padding.
fn real_tap(x: &Layout, ch: usize, (iy, ix): (isize, isize)) -> Option<usize> {
    let (h, w) = (x.dims()[2] as isize, x.dims()[3] as isize);
    (iy >= 0 && ix >= 0 && iy < h && ix < w).then(|| x.position(&[0, ch, iy as usize, ix as usize]))
}

/// The windows of a batch-1 pooling: slot `s` of the window at output position `o`, laid out
/// `o·2^slot_vars + s`. A slot past the window or in the padding copies the window's first real position,
/// so that padding never wins and duplicates change no maximum.
pub fn pool_windows(
    p: &PoolParams,
    x: &Layout,
    out: &Layout,
    slot_vars: usize,
) -> Result<Wiring, SumcheckError> {
    let mut pairs = Vec::new();
    pool_windows_walk(p, x, out, |o, ch, taps| {
        let slots: Vec<Option<usize>> = taps.iter().map(|&t| real_tap(x, ch, t)).collect();
        let first =
            slots.iter().flatten().next().copied().ok_or_else(|| {
                SumcheckError::Unsupported("a pooling window that covers only padding".into())
            })?;
        for s in 0..1usize << slot_vars {
            let src = slots.get(s).copied().flatten().unwrap_or(first);
            pairs.push(((o << slot_vars) | s, src));
        }
        Ok(())
    })?;
    Ok(Wiring { pairs, out_vars: out.vars() + slot_vars, in_vars: x.vars() })
}

/// The per-map im2col wiring of a batch-1 grouped convolution: `U[m][j][p]` is input channel
/// `group(m)·cg + j / (kh·kw)` at window offset `j mod (kh·kw)` of output position `p`, laid out
/// `((m·2^jb) + j)·2^pb + p`. Its size is the convolution's multiply-accumulate count, so it serves grouped
/// (depthwise) convolutions, whose count is small.
pub fn grouped_im2col(
    p: &ConvParams,
    x: &Layout,
    weights: [usize; 4],
    out_hw: [usize; 2],
    (jb, pb): (usize, usize),
) -> Wiring {
    let [maps, cg, kh, kw] = weights;
    let per_group = (maps / p.group.max(1)).max(1);
    let mut pairs = Vec::new();
    for m in 0..maps {
        let base = (m / per_group) * cg;
        conv_taps(p, x, ([cg, kh, kw], base), out_hw, |j, pos, i| {
            pairs.push(((((m << jb) | j) << pb) | pos, i))
        });
    }
    Wiring { pairs, out_vars: log2_ceil(maps) + jb + pb, in_vars: x.vars() }
}

/// The sums of a batch-1 pooling's windows (each output position summing its real window positions),
/// with the count each divides by; `None` when the counts differ between windows.
pub fn window_sums(
    p: &PoolParams,
    x: &Layout,
    out: &Layout,
) -> Result<(Wiring, Option<usize>), SumcheckError> {
    let (h, w) = (x.dims()[2], x.dims()[3]);
    let mut pairs = Vec::new();
    let mut divisor = None;
    let mut uniform = true;
    pool_windows_walk(p, x, out, |o, ch, taps| {
        // ONNX counts padded positions only inside the padded extent, not past it (ceil mode).
        let padded = taps
            .iter()
            .filter(|&&(iy, ix)| iy < (h + p.pads[2]) as isize && ix < (w + p.pads[3]) as isize)
            .count();
        let before = pairs.len();
        pairs.extend(taps.iter().filter_map(|&t| real_tap(x, ch, t)).map(|i| (o, i)));
        let d = if p.count_include_pad { padded } else { pairs.len() - before };
        uniform &= divisor.is_none_or(|v| v == d);
        divisor = Some(d);
        Ok(())
    })?;
    Ok((Wiring { pairs, out_vars: out.vars(), in_vars: x.vars() }, divisor.filter(|_| uniform)))
}

/// The sums of a reduction over `axes` (output in the flat order of the kept axes), with its count.
pub fn axis_sums(x: &Layout, axes: &[usize], out_vars: usize) -> (Wiring, usize) {
    let dims = x.dims();
    let kept: Vec<usize> = (0..dims.len()).map(|d| if axes.contains(&d) { 1 } else { dims[d] }).collect();
    let count = axes.iter().map(|&a| dims.get(a).copied().unwrap_or(1)).product();
    let mut pairs = Vec::with_capacity(x.len());
    let mut index = vec![0usize; dims.len()];
    for i in 0..x.len() {
        let o = index
            .iter()
            .zip(&kept)
            .enumerate()
            .fold(0, |acc, (d, (&v, &k))| acc * k + if axes.contains(&d) { 0 } else { v });
        pairs.push((o, i));
        for d in (0..dims.len()).rev() {
            index[d] += 1;
            if index[d] < dims[d] {
                break;
            }
            index[d] = 0;
        }
    }
    (Wiring { pairs, out_vars, in_vars: x.vars() }, count)
}

/// An operand broadcast to `out`'s shape (NumPy rules): each output position copies the operand's
/// position it reads; `None` when the shapes agree (the operand is the output's layout already).
pub fn broadcast(operand: &Layout, out: &Layout) -> Option<Wiring> {
    if operand.dims() == out.dims() {
        return None;
    }
    let map = broadcast_index_map(operand.dims(), out.dims());
    let pairs = map.into_iter().enumerate().collect();
    Some(Wiring { pairs, out_vars: out.vars(), in_vars: operand.vars() })
}

/// The wiring of a data movement (Transpose, Slice, Gather with constant indices) from `x` to `out`:
/// the op evaluated on `x`'s positions gives each output position its source, so the wiring is the
/// oracle's own semantics (`QOp::eval`), never a second implementation of it.
pub fn moved(x: &Layout, out: &Layout, op: &QOp) -> Result<Wiring, SumcheckError> {
    let mut wirings = concat(&[x], out, op)?;
    wirings.pop().ok_or_else(|| SumcheckError::Shape(format!("{} has no input", op.name())))
}

/// The wirings of a data movement over several inputs (a Concat; one input for [`moved`]), one per input:
/// the op evaluated once on the inputs' positions, numbered across all of them, gives each output
/// position its input and its position there.
pub fn concat(inputs: &[&Layout], out: &Layout, op: &QOp) -> Result<Vec<Wiring>, SumcheckError> {
    let shape_err = |e: poai_circuits::ir::IrError| SumcheckError::Shape(e.to_string());
    let mut starts = Vec::with_capacity(inputs.len());
    let mut next = 0i64;
    let tensors: Vec<Tensor> = inputs
        .iter()
        .map(|l| {
            let start = next;
            next += l.len() as i64;
            starts.push(start);
            Tensor::new(l.dims().to_vec(), (start..next).collect()).map_err(shape_err)
        })
        .collect::<Result<_, _>>()?;
    let refs: Vec<&Tensor> = tensors.iter().collect();
    let sources = op.eval(&refs).map_err(shape_err)?;
    if sources.len() != out.len() {
        return Err(SumcheckError::Shape(format!(
            "{} moves {} values into {}",
            op.name(),
            sources.len(),
            out.len()
        )));
    }
    let mut pairs = vec![Vec::new(); inputs.len()];
    for (o, &global) in sources.data().iter().enumerate() {
        // The last input starting at or before `global` holds it (an empty input holds nothing).
        let produced = || SumcheckError::Shape(format!("{} produced position {global}", op.name()));
        if global >= next {
            return Err(produced());
        }
        let k = starts.partition_point(|&s| s <= global).checked_sub(1).ok_or_else(produced)?;
        pairs[k].push((o, (global - starts[k]) as usize));
    }
    Ok(pairs
        .into_iter()
        .zip(inputs)
        .map(|(pairs, x)| Wiring { pairs, out_vars: out.vars(), in_vars: x.vars() })
        .collect())
}
