//! Linear ops: Gemm and MatMul (weights and bias as constants), Conv, and BatchNormalization folded into
//! them.

use super::registry::{one, ops, OpImporter};
use super::{pair, Importer, Lowered, NodeCx, Window1d};
use crate::{reference, FTensor, Op};
use poai_circuits::ir::ConvParams;

/// The ONNX ops of this family.
pub(super) const OPS: &[OpImporter] = &[
    OpImporter { onnx: "Gemm", lower: gemm, note: "constant B and C" },
    OpImporter { onnx: "MatMul", lower: mat_mul, note: "rank-2 or higher left operand" },
    OpImporter {
        onnx: "Conv",
        lower: conv,
        note: "1-D (a height-one 2-D convolution; constant weight) and 2-D",
    },
    OpImporter {
        onnx: "BatchNormalization",
        lower: batch_normalization,
        note: "constant statistics; folded into the Conv or MatMul before it where it can be",
    },
];

/// `Gemm`.
fn gemm(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let a = &cx.attrs;
    let name = cx.name;
    let output = cx.output;
    let (mut av, b) = (cx.input(0)?, cx.input(1)?);
    let (alpha, beta) = (a.float("alpha", 1.0), a.float("beta", 1.0));
    let mut list = Vec::new();
    if a.int("transA", 0) != 0 {
        list.push((Op::Transpose { perm: vec![1, 0] }, vec![av.clone()]));
        av = format!("{output}/0");
    }
    let bt = im.konst(&b).cloned().ok_or("Gemm needs a constant B")?;
    let bt = if a.int("transB", 0) != 0 {
        reference::eval_op(&Op::Transpose { perm: vec![1, 0] }, &[&bt])?
    } else {
        bt
    };
    let w = im.add_const(
        format!("{name}/weight"),
        FTensor { shape: bt.shape, data: bt.data.iter().map(|v| v * alpha).collect() },
    );
    let mut inputs = vec![av, w];
    if let Ok(c) = cx.input(2) {
        let c = im.konst(&c).cloned().ok_or("Gemm needs a constant C")?;
        inputs.push(im.add_const(
            format!("{name}/bias"),
            FTensor { shape: c.shape, data: c.data.iter().map(|v| v * beta).collect() },
        ));
    }
    list.push((Op::MatMul, inputs));
    ops(list)
}

/// `MatMul`.
fn mat_mul(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let name = cx.name;
    let output = cx.output;
    let (av, b) = (cx.input(0)?, cx.input(1)?);
    if im.rank(&av) < 2 {
        return Err("a rank-1 left operand is not supported".into());
    }
    Ok(match im.konst(&b).cloned() {
        Some(bt) if bt.shape.len() == 1 => {
            let w = im
                .add_const(format!("{name}/weight"), FTensor { shape: vec![bt.shape[0], 1], data: bt.data });
            let mut shape = im.g.shape(&av).map(<[usize]>::to_vec).unwrap_or_default();
            shape.pop();
            ops(vec![(Op::MatMul, vec![av, w]), (Op::Reshape { shape }, vec![format!("{output}/0")])])?
        }
        _ => one(Op::MatMul, vec![av, b])?,
    })
}

/// `Conv`.
fn conv(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let a = &cx.attrs;
    let (xv, w) = (cx.input(0)?, cx.input(1)?);
    let ws = im.g.shape(&w).map(<[usize]>::to_vec).unwrap_or_default();
    let xs = im.g.shape(&xv).map(<[usize]>::to_vec).unwrap_or_default();
    let group = a.int("group", 1).max(1) as usize;
    if ws.len() == 3 && xs.len() == 3 {
        // 1-D: a height-one 2-D convolution with a `1 × K` kernel.
        let window = Window1d::read(a, xs[2], Some(ws[2]))?;
        let weight =
            im.const_input(cx.ins, 1).map_err(|_| "a 1-D convolution needs a constant weight".to_string())?;
        let w2 = FTensor::new(vec![ws[0], ws[1], 1, ws[2]], weight.data).map_err(|e| e.to_string())?;
        let w2 = im.add_const(format!("{}/weight_2d", cx.output), w2);
        let (strides, dilations) = window.steps_2d();
        let p = ConvParams { pads: window.pads_2d(), strides, dilations, group };
        let mut more = vec![w2];
        more.extend(cx.input(2).ok());
        return im.as_2d(&xv, cx.output, Op::Conv(p), more);
    }
    if ws.len() != 4 || xs.len() != 4 {
        return Err(format!(
            "only 1-D and 2-D convolutions are supported (input of shape {xs:?}, weight of shape {ws:?})"
        ));
    }
    let pads = im.pads(a, &xs, [ws[2], ws[3]])?;
    let p = ConvParams { pads, strides: pair(a, "strides"), dilations: pair(a, "dilations"), group };
    let mut inputs = vec![xv, w];
    if let Ok(b) = cx.input(2) {
        inputs.push(b);
    }
    one(Op::Conv(p), inputs)
}

/// `BatchNormalization`.
fn batch_normalization(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let a = &cx.attrs;
    let ins = cx.ins;
    let name = cx.name;
    let output = cx.output;
    let xv = cx.input(0)?;
    let (scale, bias, mean, var) =
        (im.const_input(ins, 1)?, im.const_input(ins, 2)?, im.const_input(ins, 3)?, im.const_input(ins, 4)?);
    let eps = a.float("epsilon", 1e-5);
    let c = scale.data.len();
    let mul: Vec<f32> = (0..c).map(|i| scale.data[i] / (var.data[i] + eps).sqrt()).collect();
    let add: Vec<f32> = (0..c).map(|i| bias.data[i] - mean.data[i] * mul[i]).collect();
    if let Some(done) = im.fold_batchnorm(&xv, &mul, &add, output)? {
        return Ok(done);
    }
    let r = im.rank(&xv);
    let mut bshape = vec![1; r.max(2) - 1];
    bshape[0] = c;
    let m =
        im.add_const(format!("{name}/scale"), FTensor::new(bshape.clone(), mul).map_err(|e| e.to_string())?);
    let b = im.add_const(format!("{name}/shift"), FTensor::new(bshape, add).map_err(|e| e.to_string())?);
    ops(vec![(Op::Mul, vec![xv, m]), (Op::Add, vec![format!("{output}/0"), b])])
}
