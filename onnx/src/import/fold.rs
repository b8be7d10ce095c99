//! Constant-only ops: what exporters compute from constants and shapes alone — attention masks, position
//! ids, shape arithmetic (`Range -> Unsqueeze -> LessOrEqual -> Where -> Expand`, `Equal`, `Trilu`,
//! `CumSum` …). poai evaluates them at import, exactly as ONNX defines them on the values the file holds,
//! and never proves them: the result is a constant of the graph like any initializer. The same op on a
//! value computed from the model input is refused by name, with what poai does support instead.
//!
//! Values are `f32` as every front-end constant ([`FTensor`]): booleans are 0 and 1, integers exact up to
//! `2^24` (shapes, positions and indices of real models are far below). Outputs are bounded before
//! anything is allocated ([`MAX_FOLDED_ELEMENTS`]).

use super::registry::OpImporter;
use super::{axis, Importer, Lowered, NodeCx};
use crate::{FTensor, Op};
use poai_circuits::ir::{self, strides};

/// Largest constant a fold may produce (elements): a `4096 × 4096` mask is 2^24.
pub(super) const MAX_FOLDED_ELEMENTS: usize = 1 << 26;

const NOTE: &str = "folded at import: its inputs must be constants (masks, position ids, shape arithmetic)";

/// The ONNX ops of this family.
pub(super) const OPS: &[OpImporter] = &[
    OpImporter { onnx: "Equal", lower: |im, cx| binary(im, cx, |a, b| flag(a == b)), note: NOTE },
    OpImporter { onnx: "Less", lower: |im, cx| binary(im, cx, |a, b| flag(a < b)), note: NOTE },
    OpImporter { onnx: "LessOrEqual", lower: |im, cx| binary(im, cx, |a, b| flag(a <= b)), note: NOTE },
    OpImporter { onnx: "Greater", lower: |im, cx| binary(im, cx, |a, b| flag(a > b)), note: NOTE },
    OpImporter { onnx: "GreaterOrEqual", lower: |im, cx| binary(im, cx, |a, b| flag(a >= b)), note: NOTE },
    OpImporter { onnx: "And", lower: |im, cx| binary(im, cx, |a, b| flag(a != 0.0 && b != 0.0)), note: NOTE },
    OpImporter { onnx: "Or", lower: |im, cx| binary(im, cx, |a, b| flag(a != 0.0 || b != 0.0)), note: NOTE },
    OpImporter {
        onnx: "Xor",
        lower: |im, cx| binary(im, cx, |a, b| flag((a != 0.0) != (b != 0.0))),
        note: NOTE,
    },
    OpImporter { onnx: "Not", lower: |im, cx| unary(im, cx, |a| flag(a == 0.0)), note: NOTE },
    OpImporter { onnx: "Abs", lower: |im, cx| unary(im, cx, f32::abs), note: NOTE },
    OpImporter { onnx: "Floor", lower: |im, cx| unary(im, cx, f32::floor), note: NOTE },
    OpImporter { onnx: "Ceil", lower: |im, cx| unary(im, cx, f32::ceil), note: NOTE },
    OpImporter { onnx: "Sign", lower: |im, cx| unary(im, cx, sign), note: NOTE },
    OpImporter { onnx: "IsNaN", lower: |im, cx| unary(im, cx, |a| flag(a.is_nan())), note: NOTE },
    OpImporter { onnx: "IsInf", lower: is_inf, note: NOTE },
    OpImporter { onnx: "Min", lower: |im, cx| variadic(im, cx, f32::min), note: NOTE },
    OpImporter { onnx: "Max", lower: |im, cx| variadic(im, cx, f32::max), note: NOTE },
    OpImporter { onnx: "Mod", lower: modulo, note: NOTE },
    OpImporter {
        onnx: "Where",
        lower: where_,
        note: "folded at import when its inputs are constants; on data, only as an attention mask's fill \
               (a constant condition and a -inf-style constant fill)",
    },
    OpImporter { onnx: "Expand", lower: expand, note: NOTE },
    OpImporter { onnx: "Range", lower: range, note: NOTE },
    OpImporter { onnx: "Trilu", lower: trilu, note: NOTE },
    OpImporter { onnx: "CumSum", lower: cumsum, note: NOTE },
    OpImporter { onnx: "Tile", lower: tile, note: NOTE },
    OpImporter { onnx: "GatherElements", lower: gather_elements, note: NOTE },
];

fn flag(b: bool) -> f32 {
    if b {
        1.0
    } else {
        0.0
    }
}

fn sign(a: f32) -> f32 {
    if a > 0.0 {
        1.0
    } else if a < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Every given input, each of which must be a constant; the error says what to do otherwise.
fn constants(im: &Importer, cx: &NodeCx<'_>) -> Result<Vec<FTensor>, String> {
    cx.ins
        .iter()
        .filter(|i| !i.is_empty())
        .map(|i| {
            im.konst(i).cloned().ok_or_else(|| {
                format!(
                    "{} on a value computed from the model input (`{i}`) is not supported: poai evaluates it \
                     at import when all its inputs are constants (masks, position ids, shape arithmetic); \
                     see docs/supported-ops.md for the ops it proves",
                    cx.node.op_type
                )
            })
        })
        .collect()
}

/// The shape the inputs broadcast to (NumPy rules, `ir::broadcast_shape` pairwise), bounded by
/// [`MAX_FOLDED_ELEMENTS`].
fn broadcast_shape(shapes: &[&[usize]]) -> Result<Vec<usize>, String> {
    let out = shapes
        .iter()
        .try_fold(Vec::new(), |acc, s| ir::broadcast_shape(&acc, s))
        .ok_or_else(|| format!("shapes {shapes:?} do not broadcast"))?;
    bounded(&out)?;
    Ok(out)
}

/// The number of elements of `shape`, refused above [`MAX_FOLDED_ELEMENTS`].
fn bounded(shape: &[usize]) -> Result<usize, String> {
    shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| n <= MAX_FOLDED_ELEMENTS)
        .ok_or_else(|| format!("a constant of shape {shape:?} exceeds {MAX_FOLDED_ELEMENTS} elements"))
}

/// Element-wise `f` over inputs broadcast together.
fn zip_broadcast(ts: &[FTensor], f: impl Fn(&[f32]) -> f32) -> Result<FTensor, String> {
    let shapes: Vec<&[usize]> = ts.iter().map(|t| t.shape.as_slice()).collect();
    let shape = broadcast_shape(&shapes)?;
    let rank = shape.len();
    // Each input's stride along each output axis (0 where it is broadcast).
    let steps: Vec<Vec<usize>> = ts
        .iter()
        .map(|t| {
            let own = strides(&t.shape);
            let pad = rank - t.shape.len();
            (0..rank).map(|k| if k < pad || t.shape[k - pad] == 1 { 0 } else { own[k - pad] }).collect()
        })
        .collect();
    let n: usize = shape.iter().product();
    let out_strides = strides(&shape);
    let mut args = vec![0f32; ts.len()];
    let mut data = Vec::with_capacity(n);
    for flat in 0..n {
        for (j, (t, step)) in ts.iter().zip(&steps).enumerate() {
            let mut at = 0;
            for k in 0..rank {
                at += (flat / out_strides[k] % shape[k]) * step[k];
            }
            args[j] = t.data[at];
        }
        data.push(f(&args));
    }
    Ok(FTensor { shape, data })
}

fn unary(im: &mut Importer, cx: &NodeCx<'_>, f: fn(f32) -> f32) -> Result<Lowered, String> {
    let [x] = <[FTensor; 1]>::try_from(constants(im, cx)?).map_err(|_| "needs one input".to_string())?;
    Ok(Lowered::Const(FTensor { shape: x.shape, data: x.data.into_iter().map(f).collect() }))
}

fn binary(im: &mut Importer, cx: &NodeCx<'_>, f: fn(f32, f32) -> f32) -> Result<Lowered, String> {
    let ts = constants(im, cx)?;
    if ts.len() != 2 {
        return Err(format!("needs two inputs, has {}", ts.len()));
    }
    Ok(Lowered::Const(zip_broadcast(&ts, |a| f(a[0], a[1]))?))
}

fn variadic(im: &mut Importer, cx: &NodeCx<'_>, f: fn(f32, f32) -> f32) -> Result<Lowered, String> {
    let ts = constants(im, cx)?;
    if ts.is_empty() {
        return Err("needs at least one input".into());
    }
    Ok(Lowered::Const(zip_broadcast(&ts, |a| a[1..].iter().fold(a[0], |m, &v| f(m, v)))?))
}

/// `IsInf`, with `detect_negative` and `detect_positive`.
fn is_inf(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let (neg, pos) = (cx.attrs.int("detect_negative", 1) != 0, cx.attrs.int("detect_positive", 1) != 0);
    let [x] = <[FTensor; 1]>::try_from(constants(im, cx)?).map_err(|_| "needs one input".to_string())?;
    let data = x.data.iter().map(|&a| flag((pos && a == f32::INFINITY) || (neg && a == f32::NEG_INFINITY)));
    Ok(Lowered::Const(FTensor { shape: x.shape.clone(), data: data.collect() }))
}

/// `Mod`: the sign of the divisor (`fmod = 0`, integer semantics) or of the dividend (`fmod = 1`).
fn modulo(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let fmod = cx.attrs.int("fmod", 0) != 0;
    let ts = constants(im, cx)?;
    if ts.len() != 2 {
        return Err(format!("needs two inputs, has {}", ts.len()));
    }
    if ts[1].data.contains(&0.0) {
        return Err("a divisor is zero".into());
    }
    let f = move |a: &[f32]| if fmod { a[0] % a[1] } else { a[0] - a[1] * (a[0] / a[1]).floor() };
    Ok(Lowered::Const(zip_broadcast(&ts, f)?))
}

/// `Where(condition, x, y)`.
fn where_(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    if let Some(fill) = masked_fill(im, cx)? {
        return Ok(fill);
    }
    let ts = constants(im, cx)?;
    if ts.len() != 3 {
        return Err(format!("needs three inputs, has {}", ts.len()));
    }
    Ok(Lowered::Const(zip_broadcast(&ts, |a| if a[0] != 0.0 { a[1] } else { a[2] })?))
}

/// Fill values at or below this are `-inf`-style attention masks: `x + fill` rounds to `fill` in float32
/// for every `|x|` far below it, so adding the fill is the same as replacing by it.
const MASK_FILL_AT_OR_BELOW: f32 = -1.0e30;

/// `Where(cond, x, fill)` or `Where(cond, fill, x)` with a constant condition and a constant fill of
/// `-inf` or float32's lowest (an attention mask's `masked_fill`), `x` computed: the same values as
/// `x + M`, `M` the fill where `x` is replaced and 0 elsewhere, which a Softmax reading it takes as its
/// mask. Anything else is left to the constant folder (and refused on data by name).
fn masked_fill(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Option<Lowered>, String> {
    let (Ok(c), Ok(a), Ok(b)) = (cx.input(0), cx.input(1), cx.input(2)) else { return Ok(None) };
    let Some(cond) = im.konst(&c).cloned() else { return Ok(None) };
    let (data, fill, fill_when) = match (im.konst(&a), im.konst(&b)) {
        (None, Some(f)) => (a, f.clone(), false),
        (Some(f), None) => (b, f.clone(), true),
        _ => return Ok(None),
    };
    if fill.data.is_empty() || !fill.data.iter().all(|&v| v <= MASK_FILL_AT_OR_BELOW) {
        return Ok(None);
    }
    let mask = zip_broadcast(&[cond, fill], |v| if (v[0] != 0.0) == fill_when { v[1] } else { 0.0 })?;
    let mask = im.add_const(format!("{}/mask", cx.output), mask);
    Ok(Some(Lowered::Ops(vec![(Op::Add, vec![data, mask])])))
}

/// A shape given as a constant tensor of non-negative integers.
fn shape_of(t: &FTensor, what: &str) -> Result<Vec<usize>, String> {
    t.as_i64()
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| format!("{what} {:?} has a negative dimension", t.data)))
        .collect()
}

/// `Expand(input, shape)`: the input broadcast with `shape`.
fn expand(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let ts = constants(im, cx)?;
    let [x, s] = <[FTensor; 2]>::try_from(ts).map_err(|_| "needs two inputs".to_string())?;
    let target = shape_of(&s, "the shape")?;
    let ones = FTensor { data: vec![0.0; bounded(&target)?], shape: target };
    Ok(Lowered::Const(zip_broadcast(&[x, ones], |a| a[0])?))
}

/// `Range(start, limit, delta)`.
fn range(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let ts = constants(im, cx)?;
    let scalar = |i: usize| -> Result<f64, String> {
        match ts.get(i).map(|t| t.data.as_slice()) {
            Some([v]) => Ok(f64::from(*v)),
            _ => Err(format!("input {i} must be a scalar")),
        }
    };
    let (start, limit, delta) = (scalar(0)?, scalar(1)?, scalar(2)?);
    if delta == 0.0 {
        return Err("delta is zero".into());
    }
    let n = ((limit - start) / delta).ceil().max(0.0);
    if n > MAX_FOLDED_ELEMENTS as f64 {
        return Err(format!("a range of {n} elements exceeds {MAX_FOLDED_ELEMENTS}"));
    }
    let data: Vec<f32> = (0..n as usize).map(|i| (start + i as f64 * delta) as f32).collect();
    Ok(Lowered::Const(FTensor { shape: vec![data.len()], data }))
}

/// `Trilu(input, k)`: the upper (default) or lower triangle of the last two axes, from diagonal `k`.
fn trilu(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let upper = cx.attrs.int("upper", 1) != 0;
    let ts = constants(im, cx)?;
    let x = ts.first().ok_or("needs an input")?;
    let k = match ts.get(1).map(|t| t.as_i64()) {
        Some(v) => *v.first().ok_or("k is empty")?,
        None => 0,
    };
    let r = x.shape.len();
    if r < 2 {
        return Err(format!("needs rank 2 or more, has shape {:?}", x.shape));
    }
    let (rows, cols) = (x.shape[r - 2], x.shape[r - 1]);
    let data = x
        .data
        .iter()
        .enumerate()
        .map(|(flat, &v)| {
            let (i, j) = ((flat / cols % rows) as i64, (flat % cols) as i64);
            let keep = if upper { j - i >= k } else { j - i <= k };
            if keep {
                v
            } else {
                0.0
            }
        })
        .collect();
    Ok(Lowered::Const(FTensor { shape: x.shape.clone(), data }))
}

/// `CumSum(x, axis)`, with `exclusive` and `reverse`.
fn cumsum(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let (exclusive, reverse) = (cx.attrs.int("exclusive", 0) != 0, cx.attrs.int("reverse", 0) != 0);
    let ts = constants(im, cx)?;
    let [x, a] = <[FTensor; 2]>::try_from(ts).map_err(|_| "needs two inputs".to_string())?;
    let ax = a.as_i64().first().and_then(|&v| axis(v, x.shape.len())).ok_or("the axis is out of range")?;
    let (len, stride) = (x.shape[ax], strides(&x.shape)[ax]);
    let mut data = x.data.clone();
    for (flat, out) in data.iter_mut().enumerate() {
        let pos = flat / stride % len;
        let base = flat - pos * stride;
        let range: Vec<usize> = if reverse {
            ((pos + usize::from(exclusive))..len).collect()
        } else {
            (0..(pos + usize::from(!exclusive))).collect()
        };
        *out = range.iter().map(|&p| x.data[base + p * stride]).sum();
    }
    Ok(Lowered::Const(FTensor { shape: x.shape, data }))
}

/// `Tile(x, repeats)`.
fn tile(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let ts = constants(im, cx)?;
    let [x, reps] = <[FTensor; 2]>::try_from(ts).map_err(|_| "needs two inputs".to_string())?;
    let reps = shape_of(&reps, "repeats")?;
    if reps.len() != x.shape.len() {
        return Err(format!("{} repeats for a tensor of rank {}", reps.len(), x.shape.len()));
    }
    let shape: Vec<usize> = x.shape.iter().zip(&reps).map(|(d, r)| d * r).collect();
    let n = bounded(&shape)?;
    let (out_strides, in_strides) = (strides(&shape), strides(&x.shape));
    let data = (0..n)
        .map(|flat| {
            let at: usize = (0..shape.len())
                .map(|k| (flat / out_strides[k] % shape[k] % x.shape[k]) * in_strides[k])
                .sum();
            x.data[at]
        })
        .collect();
    Ok(Lowered::Const(FTensor { shape, data }))
}

/// `GatherElements(data, indices)` along `axis`.
fn gather_elements(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let ts = constants(im, cx)?;
    let [x, idx] = <[FTensor; 2]>::try_from(ts).map_err(|_| "needs two inputs".to_string())?;
    if idx.shape.len() != x.shape.len() {
        return Err(format!("indices of shape {:?} for data of shape {:?}", idx.shape, x.shape));
    }
    let ax = axis(cx.attrs.int("axis", 0), x.shape.len()).ok_or("the axis is out of range")?;
    let (len, xs, is) = (x.shape[ax] as i64, strides(&x.shape), strides(&idx.shape));
    let data = idx
        .as_i64()
        .iter()
        .enumerate()
        .map(|(flat, &i)| {
            let i = if i < 0 { i + len } else { i };
            if !(0..len).contains(&i) {
                return Err(format!("index {i} is outside an axis of {len}"));
            }
            let mut at = 0;
            for k in 0..x.shape.len() {
                let c = if k == ax { i as usize } else { flat / is[k] % idx.shape[k] };
                if c >= x.shape[k] {
                    return Err(format!(
                        "indices of shape {:?} exceed data of shape {:?}",
                        idx.shape, x.shape
                    ));
                }
                at += c * xs[k];
            }
            Ok(x.data[at])
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Lowered::Const(FTensor { shape: idx.shape, data }))
}

#[cfg(test)]
#[allow(clippy::panic, reason = "tests fail by panicking")]
mod tests {
    use super::*;

    fn t(shape: &[usize], data: &[f32]) -> FTensor {
        FTensor { shape: shape.to_vec(), data: data.to_vec() }
    }

    #[test]
    fn broadcasting_follows_numpy() {
        let a = t(&[2, 1], &[1.0, 2.0]);
        let b = t(&[3], &[10.0, 20.0, 30.0]);
        let s = zip_broadcast(&[a, b], |v| v[0] + v[1]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.shape, vec![2, 3]);
        assert_eq!(s.data, vec![11.0, 21.0, 31.0, 12.0, 22.0, 32.0]);
        assert!(broadcast_shape(&[&[2, 3], &[4, 3]]).is_err());
        assert!(bounded(&[1 << 14, 1 << 14]).is_err(), "2^28 elements are refused");
    }
}
