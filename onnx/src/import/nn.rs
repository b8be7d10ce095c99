//! Normalisation, pooling and reduction ops: Softmax, LayerNormalization, MaxPool, AveragePool,
//! GlobalAveragePool, ReduceMean, ReduceSum.

use super::registry::{one, OpImporter};
use super::{axis, pair, Importer, Lowered, NodeCx, Window1d};
use crate::Op;
use poai_circuits::ir::PoolParams;

/// The ONNX ops of this family.
pub(super) const OPS: &[OpImporter] = &[
    OpImporter {
        onnx: "Softmax",
        lower: softmax,
        note: "before opset 13: the last axis only; an additive mask of -inf-style constants (<= -1e4) gives its positions zero weight",
    },
    OpImporter { onnx: "LayerNormalization", lower: layer_normalization, note: "" },
    OpImporter { onnx: "MaxPool", lower: max_pool, note: "1-D and 2-D" },
    OpImporter { onnx: "AveragePool", lower: max_pool, note: "1-D and 2-D" },
    OpImporter { onnx: "GlobalAveragePool", lower: global_average_pool, note: "" },
    OpImporter { onnx: "ReduceMean", lower: reduce_mean, note: "" },
    OpImporter { onnx: "ReduceSum", lower: reduce_mean, note: "" },
];

/// `Softmax`.
fn softmax(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let a = &cx.attrs;
    let xv = cx.input(0)?;
    let r = im.rank(&xv);
    let default = if im.g.opset >= 13 { -1 } else { 1 };
    let ax = axis(a.int("axis", default), r).ok_or("axis out of range")?;
    if im.g.opset < 13 && ax + 1 != r {
        return Err("opset < 13 Softmax over several trailing axes is not supported".into());
    }
    match im.split_softmax_mask(&xv) {
        Some((x, keep)) => one(Op::Softmax { axis: ax }, vec![x, keep]),
        None => one(Op::Softmax { axis: ax }, vec![xv]),
    }
}

/// `LayerNormalization`.
fn layer_normalization(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let a = &cx.attrs;
    let xv = cx.input(0)?;
    let ax = axis(a.int("axis", -1), im.rank(&xv)).ok_or("axis out of range")?;
    let mut inputs = vec![xv, cx.input(1)?];
    if let Ok(b) = cx.input(2) {
        inputs.push(b);
    }
    one(Op::LayerNorm { axis: ax, eps: a.float("epsilon", 1e-5) }, inputs)
}

/// `MaxPool`, `AveragePool`.
fn max_pool(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let a = &cx.attrs;
    let xv = cx.input(0)?;
    let xs = im.g.shape(&xv).map(<[usize]>::to_vec).unwrap_or_default();
    let k = a.ints("kernel_shape").unwrap_or_default();
    let ceil_mode = a.int("ceil_mode", 0) != 0;
    let count_include_pad = a.int("count_include_pad", 0) != 0;
    let make = |p: PoolParams| if cx.node.op_type == "MaxPool" { Op::MaxPool(p) } else { Op::AvgPool(p) };
    if k.len() == 1 && xs.len() == 3 {
        // 1-D: a height-one 2-D pooling with a `1 × K` window.
        let window = Window1d::read(a, xs[2], None)?;
        let (strides, dilations) = window.steps_2d();
        let p = PoolParams {
            kernel: window.kernel_2d(),
            pads: window.pads_2d(),
            strides,
            dilations,
            ceil_mode,
            count_include_pad,
        };
        return im.as_2d(&xv, cx.output, make(p), Vec::new());
    }
    if k.len() != 2 || xs.len() != 4 {
        return Err(format!("only 1-D and 2-D pooling is supported (kernel {k:?}, input of shape {xs:?})"));
    }
    let kernel = [k[0].max(1) as usize, k[1].max(1) as usize];
    let p = PoolParams {
        kernel,
        pads: im.pads(a, &xs, kernel)?,
        strides: pair(a, "strides"),
        dilations: pair(a, "dilations"),
        ceil_mode,
        count_include_pad,
    };
    one(make(p), vec![xv])
}

/// `GlobalAveragePool`.
fn global_average_pool(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let xv = cx.input(0)?;
    let r = im.rank(&xv);
    one(Op::ReduceMean { axes: (2..r).collect(), keepdims: true }, vec![xv])
}

/// `ReduceMean`, `ReduceSum`.
fn reduce_mean(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let a = &cx.attrs;
    let ins = cx.ins;
    let xv = cx.input(0)?;
    let r = im.rank(&xv);
    let from_input = (cx.node.op_type == "ReduceSum" && im.g.opset >= 13) || im.g.opset >= 18;
    let axes_v = if from_input && ins.len() > 1 && !ins[1].is_empty() {
        Some(im.const_input(ins, 1)?.as_i64())
    } else if from_input {
        None
    } else {
        a.ints("axes")
    };
    let axes: Vec<usize> = match axes_v {
        Some(v) if !v.is_empty() => {
            v.iter().map(|&d| axis(d, r)).collect::<Option<_>>().ok_or("axis out of range")?
        }
        _ if a.int("noop_with_empty_axes", 0) != 0 => return Ok(Lowered::Alias(xv)),
        _ => (0..r).collect(),
    };
    let keepdims = a.int("keepdims", 1) != 0;
    one(
        if cx.node.op_type == "ReduceMean" {
            Op::ReduceMean { axes, keepdims }
        } else {
            Op::ReduceSum { axes, keepdims }
        },
        vec![xv],
    )
}
