//! Element-wise ops: arithmetic (with the bias, GELU and LayerNorm fusions that start at an Add, Mul or
//! Div), activations and tabulated functions.

use super::registry::{one, ops, OpImporter};
use super::{Importer, Lowered, NodeCx};
use crate::{FTensor, Op};
use poai_circuits::ir::NonLinear;

/// The ONNX ops of this family.
pub(super) const OPS: &[OpImporter] = &[
    OpImporter { onnx: "Add", lower: add, note: "" },
    OpImporter { onnx: "Sub", lower: sub, note: "" },
    OpImporter { onnx: "Mul", lower: mul, note: "" },
    OpImporter { onnx: "Neg", lower: neg, note: "a Mul by -1" },
    OpImporter {
        onnx: "Div",
        lower: div,
        note: "by a constant becomes a Mul; by a value, a reciprocal then a Mul",
    },
    OpImporter { onnx: "Pow", lower: pow, note: "constant exponent: an integer from 2 to 8, 1, 0.5 or -1" },
    OpImporter { onnx: "Relu", lower: relu, note: "" },
    OpImporter { onnx: "LeakyRelu", lower: leaky_relu, note: "" },
    OpImporter { onnx: "Clip", lower: clip, note: "constant bounds" },
    OpImporter { onnx: "Sigmoid", lower: sigmoid, note: "" },
    OpImporter { onnx: "Tanh", lower: tanh, note: "" },
    OpImporter { onnx: "Erf", lower: erf, note: "" },
    OpImporter { onnx: "Exp", lower: exp, note: "" },
    OpImporter { onnx: "Sqrt", lower: sqrt, note: "" },
    OpImporter { onnx: "Reciprocal", lower: reciprocal, note: "" },
];

/// `Add`.
fn add(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let output = cx.output;
    let (l, r) = (cx.input(0)?, cx.input(1)?);
    if let Some(done) = im.fuse_bias(&l, &r, output).or_else(|| im.fuse_bias(&r, &l, output)) {
        return Ok(done);
    }
    one(Op::Add, vec![l, r])
}

/// `Sub`.
fn sub(_im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    one(Op::Sub, vec![cx.input(0)?, cx.input(1)?])
}

/// `Mul`.
fn mul(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let (l, r) = (cx.input(0)?, cx.input(1)?);
    if let Some(xv) = im.fuse_gelu(&l, &r) {
        return one(Op::Unary(NonLinear::Gelu), vec![xv]);
    }
    one(Op::Mul, vec![l, r])
}

/// `Neg`: a Mul by the constant -1 (folded when the input is constant).
fn neg(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let minus_one = im.add_const(format!("{}/minus_one", cx.output), FTensor::scalar(-1.0));
    one(Op::Mul, vec![cx.input(0)?, minus_one])
}

/// `Div`.
fn div(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let name = cx.name;
    let output = cx.output;
    let (l, r) = (cx.input(0)?, cx.input(1)?);
    if let Some(ln) = im.fuse_layer_norm(&l, &r) {
        return one(ln.0, ln.1);
    }
    Ok(match im.konst(&r).cloned() {
        Some(c) => {
            let inv = im.add_const(
                format!("{name}/inverse"),
                FTensor { shape: c.shape, data: c.data.iter().map(|v| 1.0 / v).collect() },
            );
            one(Op::Mul, vec![l, inv])?
        }
        None => ops(vec![(Op::Reciprocal, vec![r]), (Op::Mul, vec![l, format!("{output}/0")])])?,
    })
}

/// The largest integer exponent `Pow` lowers to a chain of multiplications.
const MAX_POW: u32 = 8;

/// `Pow` with a constant exponent: `x^n` for an integer `2 <= n <= 8` as `n - 1` multiplications (tanh-GELU's
/// `x³`, a variance's `x²`), `x^1` as `x`, `x^0.5` as a square root, `x^-1` as a reciprocal.
fn pow(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let xv = cx.input(0)?;
    let e = im.const_input(cx.ins, 1)?;
    let n = match e.data.as_slice() {
        [v] if *v == 1.0 => return Ok(Lowered::Alias(xv)),
        [v] if *v == 0.5 => return one(Op::Sqrt, vec![xv]),
        [v] if *v == -1.0 => return one(Op::Reciprocal, vec![xv]),
        [v] if v.fract() == 0.0 && (2.0..=MAX_POW as f32).contains(v) => *v as usize,
        _ => {
            return Err(format!(
                "exponent {:?} is not supported (integers 2 to {MAX_POW}, 1, 0.5 and -1 are): rewrite the \
                 power in the model, e.g. as multiplications",
                e.data
            ))
        }
    };
    // x·x, then each step multiplies the previous product by x; the last output is the node's.
    let output = cx.output;
    let steps = (1..n)
        .map(|k| {
            let left = if k == 1 { xv.clone() } else { format!("{output}/{}", k - 2) };
            (Op::Mul, vec![left, xv.clone()])
        })
        .collect();
    ops(steps)
}

/// `Relu`.
fn relu(_im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    one(Op::Relu, vec![cx.input(0)?])
}

/// `LeakyRelu`.
fn leaky_relu(_im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let x = cx.input(0);
    let a = &cx.attrs;
    one(Op::LeakyRelu { alpha: a.float("alpha", 0.01) }, vec![x?])
}

/// `Clip`.
fn clip(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let x = cx.input(0);
    let a = &cx.attrs;
    let ins = cx.ins;
    let bound = |i: usize, attr: &str, d: f32| -> Result<f32, String> {
        if im.g.opset >= 11 {
            match ins.get(i).filter(|s| !s.is_empty()) {
                Some(_) => {
                    im.const_input(ins, i)?.data.first().copied().ok_or_else(|| "empty bound".to_string())
                }
                None => Ok(d),
            }
        } else {
            Ok(a.float(attr, d))
        }
    };
    one(Op::Clip { min: bound(1, "min", f32::MIN)?, max: bound(2, "max", f32::MAX)? }, vec![x?])
}

/// `Sigmoid`.
fn sigmoid(_im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    one(Op::Unary(NonLinear::Sigmoid), vec![cx.input(0)?])
}

/// `Tanh`.
fn tanh(_im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    one(Op::Unary(NonLinear::Tanh), vec![cx.input(0)?])
}

/// `Erf`.
fn erf(_im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    one(Op::Unary(NonLinear::Erf), vec![cx.input(0)?])
}

/// `Exp`.
fn exp(_im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    one(Op::Unary(NonLinear::Exp), vec![cx.input(0)?])
}

/// `Sqrt`.
fn sqrt(_im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    one(Op::Sqrt, vec![cx.input(0)?])
}

/// `Reciprocal`.
fn reciprocal(_im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    one(Op::Reciprocal, vec![cx.input(0)?])
}
