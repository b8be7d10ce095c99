//! Shape ops: constants, aliases, and data movement (Gather, Reshape, Transpose, Concat, Slice), lowered to
//! `Op::Reshape`, `Op::Transpose`, `Op::Concat`, `Op::Slice` and `Op::Gather`, or folded to constants.

use super::registry::{one, OpImporter};
use super::{axis, Importer, Lowered, NodeCx};
use crate::proto::tensor_from_proto;
use crate::{FTensor, Op};
use poai_circuits::ir::SliceAxis;

/// The ONNX ops of this family.
pub(super) const OPS: &[OpImporter] = &[
    OpImporter { onnx: "Constant", lower: constant, note: "" },
    OpImporter { onnx: "Identity", lower: identity, note: "" },
    OpImporter { onnx: "Dropout", lower: identity, note: "" },
    OpImporter {
        onnx: "Cast",
        lower: cast,
        note: "a constant is converted (truncated to an integer type, 0 or 1 for BOOL); any other value passes unchanged (a cast of a non-constant value to an integer type is not truncated)",
    },
    OpImporter { onnx: "Shape", lower: shape, note: "folded at import (static shapes)" },
    OpImporter {
        onnx: "ConstantOfShape",
        lower: constant_of_shape,
        note: "folded at import: the shape must be constant",
    },
    OpImporter { onnx: "Gather", lower: gather, note: "constant indices, or data indices into a constant table's rows (an embedding)" },
    OpImporter { onnx: "Unsqueeze", lower: unsqueeze, note: "constant axes" },
    OpImporter { onnx: "Squeeze", lower: unsqueeze, note: "constant axes" },
    OpImporter { onnx: "Flatten", lower: flatten, note: "" },
    OpImporter { onnx: "Reshape", lower: reshape, note: "constant target shape" },
    OpImporter { onnx: "Transpose", lower: transpose, note: "" },
    OpImporter { onnx: "Concat", lower: concat, note: "" },
    OpImporter { onnx: "Slice", lower: slice, note: "constant starts, ends, axes and steps" },
    OpImporter {
        onnx: "Split",
        lower: split,
        note: "constant sizes (input or attribute), or equal parts (`num_outputs`, opset 18); one Slice per output",
    },
];

/// `Constant`.
fn constant(_im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let a = &cx.attrs;
    Ok(if let Some(t) = a.tensor("value") {
        Lowered::Const(tensor_from_proto(t).map_err(|e| e.to_string())?)
    } else if let Some(v) = a.floats("value_floats").filter(|v| !v.is_empty()) {
        Lowered::Const(FTensor { shape: vec![v.len()], data: v })
    } else if let Some(v) = a.ints("value_ints").filter(|v| !v.is_empty()) {
        Lowered::Const(FTensor { shape: vec![v.len()], data: v.iter().map(|&i| i as f32).collect() })
    } else if cx.node.attribute.iter().any(|x| x.name == "value_float") {
        Lowered::Const(FTensor::scalar(a.float("value_float", 0.0)))
    } else if cx.node.attribute.iter().any(|x| x.name == "value_int") {
        Lowered::Const(FTensor::scalar(a.int("value_int", 0) as f32))
    } else {
        return Err("Constant without a supported value attribute".into());
    })
}

/// `Identity`, `Dropout`, `Cast`.
fn identity(_im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    Ok(Lowered::Alias(cx.input(0)?))
}

/// `Cast`: a constant is converted as ONNX defines it (toward zero for integer types, `x != 0` for
/// BOOL); any other value is an alias (the front end holds every value as `f32`).
fn cast(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let input = cx.input(0)?;
    let Some(c) = im.konst(&input) else {
        return Ok(Lowered::Alias(input));
    };
    // TensorProto.DataType: UINT8, INT8, UINT16, INT16, INT32, INT64, UINT32, UINT64; BOOL.
    let convert: fn(f32) -> f32 = match cx.attrs.int("to", 1) {
        2..=7 | 12 | 13 => f32::trunc,
        9 => |v| if v != 0.0 { 1.0 } else { 0.0 },
        _ => return Ok(Lowered::Alias(input)),
    };
    Ok(Lowered::Const(FTensor { shape: c.shape.clone(), data: c.data.iter().map(|&v| convert(v)).collect() }))
}

/// `Shape`.
fn shape(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let a = &cx.attrs;
    let s = im.g.shape(&cx.input(0)?).map(<[usize]>::to_vec).unwrap_or_default();
    let r = s.len() as i64;
    let clampi = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
    let (start, end) = (clampi(a.int("start", 0)), clampi(a.int("end", r)));
    let dims: Vec<f32> = s.get(start..end.max(start)).unwrap_or(&[]).iter().map(|&d| d as f32).collect();
    Ok(Lowered::Const(FTensor { shape: vec![dims.len()], data: dims }))
}

/// `ConstantOfShape`.
fn constant_of_shape(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let a = &cx.attrs;
    let ins = cx.ins;
    let shape: Vec<usize> = im.const_input(ins, 0)?.as_i64().iter().map(|&d| d.max(0) as usize).collect();
    let v = match a.tensor("value") {
        Some(t) => tensor_from_proto(t).map_err(|e| e.to_string())?.data.first().copied().unwrap_or(0.0),
        None => 0.0,
    };
    let len = shape.iter().product();
    Ok(Lowered::Const(FTensor { shape, data: vec![v; len] }))
}

/// `Gather`.
fn gather(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let a = &cx.attrs;
    let ins = cx.ins;
    let x = cx.input(0)?;
    let ax = axis(a.int("axis", 0), im.rank(&x)).ok_or("axis out of range")?;
    if im.konst(&x).is_some() && im.konst(&cx.input(1)?).is_none() {
        return embedding(im, cx, &x, ax);
    }
    let idx = im.const_input(ins, 1)?;
    let dim = im.g.shape(&x).and_then(|s| s.get(ax).copied()).unwrap_or(0) as i64;
    let indices = idx
        .as_i64()
        .iter()
        .map(|&i| {
            let j = if i < 0 { i + dim } else { i };
            (0..dim).contains(&j).then_some(j as usize)
        })
        .collect::<Option<Vec<_>>>()
        .ok_or("index out of range")?;
    one(Op::Gather { axis: ax, indices, indices_shape: idx.shape }, vec![x])
}

/// `Gather` of a constant table's rows at data indices (token ids): an embedding lookup, lowered to
/// `OneHot(ids) · table` so that both backends prove it with their one-hot and matmul steps. A table of
/// rank above 2 is flattened to `[rows, width]` and the result reshaped back.
fn embedding(im: &mut Importer, cx: &NodeCx<'_>, table: &str, ax: usize) -> Result<Lowered, String> {
    let ids = cx.input(1)?;
    let shape = im.g.shape(table).map(<[usize]>::to_vec).unwrap_or_default();
    let id_shape = im.g.shape(&ids).map(<[usize]>::to_vec).unwrap_or_default();
    if ax != 0 || shape.len() < 2 {
        return Err(format!(
            "Gather at data indices `{ids}` is supported as an embedding lookup only: the rows (axis 0) of \
             a constant table of rank 2 or more (this one has shape {shape:?}, axis {ax})"
        ));
    }
    if id_shape.is_empty() {
        return Err(format!("Gather at a scalar data index `{ids}`: give the index a dimension (shape [1])"));
    }
    let (rows, width) = (shape[0], shape[1..].iter().product::<usize>());
    let hot = format!("{}/0", cx.output);
    let mut ops = vec![(Op::OneHot { depth: rows }, vec![ids])];
    if shape.len() == 2 {
        ops.push((Op::MatMul, vec![hot, table.to_string()]));
        return Ok(Lowered::Ops(ops));
    }
    let flat = format!("{}/1", cx.output);
    ops.push((Op::Reshape { shape: vec![rows, width] }, vec![table.to_string()]));
    ops.push((Op::MatMul, vec![hot, flat]));
    let out_shape = id_shape.iter().chain(&shape[1..]).copied().collect();
    ops.push((Op::Reshape { shape: out_shape }, vec![format!("{}/2", cx.output)]));
    Ok(Lowered::Ops(ops))
}

/// `Unsqueeze`, `Squeeze`.
fn unsqueeze(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let a = &cx.attrs;
    let ins = cx.ins;
    let x = cx.input(0)?;
    let s = im.g.shape(&x).map(<[usize]>::to_vec).unwrap_or_default();
    let axes = if im.g.opset >= 13 && ins.len() > 1 {
        Some(im.const_input(ins, 1)?.as_i64())
    } else {
        a.ints("axes")
    };
    let shape = if cx.node.op_type == "Unsqueeze" {
        let axes = axes.ok_or("Unsqueeze needs axes")?;
        let r = s.len() + axes.len();
        let mut axes: Vec<usize> =
            axes.iter().map(|&v| axis(v, r)).collect::<Option<_>>().ok_or("axis out of range")?;
        axes.sort_unstable();
        let mut out = s.clone();
        for ax in axes {
            out.insert(ax.min(out.len()), 1);
        }
        out
    } else {
        match axes {
            Some(axes) => {
                let axes: Vec<usize> = axes
                    .iter()
                    .map(|&v| axis(v, s.len()))
                    .collect::<Option<_>>()
                    .ok_or("axis out of range")?;
                s.iter().enumerate().filter(|(d, _)| !axes.contains(d)).map(|(_, &v)| v).collect()
            }
            None => s.iter().copied().filter(|&d| d != 1).collect(),
        }
    };
    one(Op::Reshape { shape }, vec![x])
}

/// `Flatten`.
fn flatten(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let a = &cx.attrs;
    let x = cx.input(0)?;
    let s = im.g.shape(&x).map(<[usize]>::to_vec).unwrap_or_default();
    let ax = if a.int("axis", 1) < 0 {
        (a.int("axis", 1) + s.len() as i64).max(0) as usize
    } else {
        (a.int("axis", 1) as usize).min(s.len())
    };
    one(Op::Reshape { shape: vec![s[..ax].iter().product(), s[ax..].iter().product()] }, vec![x])
}

/// `Reshape`.
fn reshape(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let a = &cx.attrs;
    let ins = cx.ins;
    let x = cx.input(0)?;
    let s = im.g.shape(&x).map(<[usize]>::to_vec).unwrap_or_default();
    let target = im.const_input(ins, 1)?.as_i64();
    let total: usize = s.iter().product();
    let mut shape = Vec::with_capacity(target.len());
    let mut infer = None;
    for (d, &t) in target.iter().enumerate() {
        match t {
            0 if a.int("allowzero", 0) == 0 => shape.push(*s.get(d).ok_or("0 copies a missing dim")?),
            -1 => {
                infer = Some(d);
                shape.push(1);
            }
            t if t >= 0 => shape.push(t as usize),
            _ => return Err(format!("invalid target dim {t}")),
        }
    }
    if let Some(d) = infer {
        let known: usize = shape.iter().product();
        if known == 0 || !total.is_multiple_of(known) {
            return Err(format!("cannot infer -1 reshaping {s:?} to {target:?}"));
        }
        shape[d] = total / known;
    }
    one(Op::Reshape { shape }, vec![x])
}

/// `Transpose`.
fn transpose(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let x = cx.input(0)?;
    let r = im.rank(&x);
    let perm = cx
        .attrs
        .ints("perm")
        .map(|p| p.iter().map(|&v| v as usize).collect())
        .unwrap_or_else(|| (0..r).rev().collect());
    one(Op::Transpose { perm }, vec![x])
}

/// `Concat`.
fn concat(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let a = &cx.attrs;
    let ins = cx.ins;
    let x = cx.input(0)?;
    let ax = axis(a.int("axis", 0), im.rank(&x)).ok_or("axis out of range")?;
    one(Op::Concat { axis: ax }, ins.iter().filter(|s| !s.is_empty()).cloned().collect())
}

/// `Slice`.
fn slice(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let a = &cx.attrs;
    let ins = cx.ins;
    let x = cx.input(0)?;
    let s = im.g.shape(&x).map(<[usize]>::to_vec).unwrap_or_default();
    let (starts, ends, axes_v, steps) = if im.g.opset >= 10 {
        let opt = |i: usize| {
            if ins.get(i).is_some_and(|v| !v.is_empty()) {
                im.const_input(ins, i).map(|t| Some(t.as_i64()))
            } else {
                Ok(None)
            }
        };
        (im.const_input(ins, 1)?.as_i64(), im.const_input(ins, 2)?.as_i64(), opt(3)?, opt(4)?)
    } else {
        (a.ints("starts").unwrap_or_default(), a.ints("ends").unwrap_or_default(), a.ints("axes"), None)
    };
    let axes_v = axes_v.unwrap_or_else(|| (0..starts.len() as i64).collect());
    let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
    let mut axes = Vec::new();
    for (k, &av) in axes_v.iter().enumerate() {
        let ax = axis(av, s.len()).ok_or("axis out of range")?;
        let dim = s[ax] as i64;
        let (st, en, step) = (
            *starts.get(k).ok_or("starts too short")?,
            *ends.get(k).ok_or("ends too short")?,
            *steps.get(k).ok_or("steps too short")?,
        );
        if step == 0 {
            return Err("step 0".into());
        }
        let norm = |v: i64| if v < 0 { v + dim } else { v };
        let (start, end) = if step > 0 {
            (norm(st).clamp(0, dim), norm(en).clamp(0, dim))
        } else {
            (norm(st).clamp(-1, dim - 1), norm(en).clamp(-1, dim - 1))
        };
        let len = if step > 0 {
            (end - start + step - 1).max(0) / step
        } else {
            (start - end - step - 1).max(0) / -step
        };
        axes.push(SliceAxis { axis: ax, start: start.max(0) as usize, step, len: len as usize });
    }
    one(Op::Slice { axes }, vec![x])
}

/// `Split`: one Slice per output along `axis`, by the sizes given (an input from opset 13, the `split`
/// attribute before) or in equal parts (as many as outputs, `num_outputs` from opset 18; the last part
/// smaller when the axis does not divide evenly).
fn split(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let x = cx.input(0)?;
    let s = im.g.shape(&x).map(<[usize]>::to_vec).unwrap_or_default();
    let ax = axis(cx.attrs.int("axis", 0), s.len()).ok_or("axis out of range")?;
    let dim = s[ax];
    let outputs = &cx.node.output;
    let n = outputs.len();
    let given = match cx.ins.get(1).filter(|v| !v.is_empty()) {
        Some(_) => Some(im.const_input(cx.ins, 1)?.as_i64()),
        None => cx.attrs.ints("split"),
    };
    let sizes: Vec<usize> = match given {
        Some(v) => {
            let sizes: Vec<usize> = v
                .iter()
                .map(|&d| usize::try_from(d))
                .collect::<Result<_, _>>()
                .map_err(|_| format!("split sizes {v:?} are negative"))?;
            if sizes.len() != n || sizes.iter().sum::<usize>() != dim {
                return Err(format!("split sizes {v:?} do not cut an axis of {dim} into {n} outputs"));
            }
            sizes
        }
        None => {
            let parts = cx.attrs.int("num_outputs", n as i64);
            if parts != n as i64 || n == 0 {
                return Err(format!("num_outputs {parts} for a node of {n} outputs"));
            }
            let chunk = dim.div_ceil(n);
            if chunk * (n - 1) >= dim {
                return Err(format!("an axis of {dim} cannot be split into {n} non-empty parts"));
            }
            (0..n).map(|k| if k + 1 < n { chunk } else { dim - chunk * (n - 1) }).collect()
        }
    };
    let mut start = 0;
    for (k, (out, len)) in outputs.iter().zip(sizes).enumerate() {
        if !out.is_empty() {
            let op = Op::Slice { axes: vec![SliceAxis { axis: ax, start, step: 1, len }] };
            im.emit(format!("{}/{k}", cx.name), op, vec![x.clone()], out.clone())?;
        }
        start += len;
    }
    Ok(Lowered::Done)
}
