//! Calibration and quantisation: float [`Graph`] to integer [`QGraph`].
//!
//! Every tensor gets its own power-of-two scale. Activations are calibrated: the float reference runs on
//! the calibration samples, and each value's scale is the largest that keeps `margin * max|x|` inside
//! `activation_bits`. Weights use `weight_bits` at the scale their own maximum allows. Linear ops
//! accumulate exactly and are followed by an explicit `Rescale` (round half up, saturate); range-keeping
//! ops (ReLU, pooling, shape ops) keep their input's format; non-linear functions are rescaled into a
//! `table_bits` domain and looked up.

use std::collections::{BTreeMap, HashMap};

use poai_circuits::ir::fixed::{quantize as quantize_one, quantize_wide};
use poai_circuits::ir::{
    FixedFormat, NonLinear, QGraph, QNode, QOp, QValue, Source, TableSpec, Tensor, ValueId,
};
pub use poai_circuits::model::QuantConfig;
use serde::{Deserialize, Serialize};

use crate::{reference, FTensor, Graph, OnnxError, Op};

/// Largest absolute value of every float value over the calibration samples.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Value name to max |x|.
    pub max_abs: BTreeMap<String, f32>,
    /// Number of samples seen.
    pub samples: usize,
}

/// Runs the float model on every sample and records value ranges.
pub fn calibrate(g: &Graph, samples: &[Vec<FTensor>]) -> Result<Calibration, OnnxError> {
    if samples.is_empty() {
        return Err(OnnxError::InputFile {
            path: "<calibration>".into(),
            detail: "the calibration set is empty".into(),
        });
    }
    let mut cal = Calibration { samples: samples.len(), ..Calibration::default() };
    for s in samples {
        for (name, t) in reference::run_graph(g, s)? {
            let m = cal.max_abs.entry(name).or_insert(0.0);
            *m = m.max(t.max_abs());
        }
    }
    Ok(cal)
}

/// Largest scale that keeps `max` (times `margin`) within `bits`.
fn scale_for(max: f64, bits: u32, margin: f64) -> i32 {
    let limit = ((1u64 << (bits - 1)) - 1) as f64;
    if !(max.is_finite() && max > 1e-30) {
        return bits as i32 - 2;
    }
    ((limit / (max * margin)).log2().floor() as i32).clamp(-(bits as i32), 3 * bits as i32)
}

/// Most bits by which the per-channel scales of one convolution kernel may spread (the stored kernel
/// widens by as much): channels more than 2^8 times smaller than the largest share the finest scale
/// allowed, which still gives them 8 more bits than one scale for the whole kernel would.
pub const MAX_CHANNEL_SPREAD: i32 = 8;

fn bits_needed(values: &[i64]) -> u32 {
    let m = values.iter().map(|v| v.unsigned_abs()).max().unwrap_or(0);
    (64 - m.leading_zeros() + 1).max(2)
}

struct Builder<'a> {
    g: &'a Graph,
    cal: &'a Calibration,
    cfg: QuantConfig,
    q: QGraph,
    ids: HashMap<String, ValueId>,
}

impl Builder<'_> {
    fn err(node: &str, detail: impl Into<String>) -> OnnxError {
        OnnxError::Quantize { node: node.to_string(), detail: detail.into() }
    }

    fn fmt(&self, id: ValueId) -> FixedFormat {
        self.q.values[id].format
    }

    fn shape(&self, id: ValueId) -> Vec<usize> {
        self.q.values[id].shape.clone()
    }

    fn act_scale(&self, name: &str) -> i32 {
        let max = self.cal.max_abs.get(name).copied().unwrap_or(0.0) as f64;
        scale_for(max, self.cfg.activation_bits, self.cfg.margin)
    }

    fn push_value(
        &mut self,
        name: String,
        shape: Vec<usize>,
        format: FixedFormat,
        source: Source,
    ) -> ValueId {
        self.q.values.push(QValue { name, shape, format, source });
        self.q.values.len() - 1
    }

    fn node(
        &mut self,
        name: &str,
        op: QOp,
        inputs: Vec<ValueId>,
        format: FixedFormat,
    ) -> Result<ValueId, OnnxError> {
        let args: Vec<&[usize]> = inputs.iter().map(|&i| self.q.values[i].shape.as_slice()).collect();
        let shape = shape_of(&op, &args).map_err(|d| Self::err(name, d))?;
        let index = self.q.nodes.len();
        let out = self.push_value(name.to_string(), shape, format, Source::Node { index });
        self.q.nodes.push(QNode { name: name.to_string(), op, inputs, output: out });
        Ok(out)
    }

    /// Quantised constant: at `scale` with `bits` (saturating), or wide (exact) when `bits` is `None`.
    fn konst(
        &mut self,
        name: &str,
        t: &FTensor,
        scale: i32,
        bits: Option<u32>,
    ) -> Result<ValueId, OnnxError> {
        if let Some(v) = t.data.iter().find(|v| v.is_nan() || v.abs() >= 1e15) {
            return Err(Self::err(
                name,
                format!(
                    "the constant holds {v}: a value this large is an additive attention mask, which poai \
                     takes where a Softmax reads `scores + mask` directly; export the model so that the mask \
                     meets the Softmax"
                ),
            ));
        }
        let data: Vec<i64> = match bits {
            Some(b) => t.data.iter().map(|&v| quantize_one(v as f64, scale, b)).collect(),
            None => t.data.iter().map(|&v| quantize_wide(v as f64, scale)).collect(),
        };
        let bits = bits.unwrap_or_else(|| bits_needed(&data));
        let tensor = Tensor::new(t.shape.clone(), data)?;
        Ok(self.push_value(
            name.to_string(),
            t.shape.clone(),
            FixedFormat { scale, bits },
            Source::Const { tensor, param: true },
        ))
    }

    /// A convolution's kernel (`[M, C/g, kh, kw]`) with one scale per output channel: channel `m` is
    /// quantised to `weight_bits` at the largest scale its own maximum allows, then shifted left to the
    /// finest of those scales, which is exact. The kernel stays one integer tensor at one scale (so every
    /// chip and step reads it as before), while each channel keeps `weight_bits` of precision instead of
    /// the precision the largest channel leaves it: what depthwise convolutions, whose channels differ in
    /// range by orders of magnitude, need. The shift widens the stored values by the spread of the
    /// channels' scales, capped at [`MAX_CHANNEL_SPREAD`] bits. One channel, or equal scales, give exactly
    /// the per-tensor quantisation. A kernel already in the graph, or one that is not a constant, is read
    /// as any other input.
    fn conv_weight(&mut self, name: &str) -> Result<ValueId, OnnxError> {
        let Some(t) = self.g.consts.get(name).filter(|_| self.is_const(name)) else {
            return self.input(name);
        };
        let wb = self.cfg.weight_bits;
        let channels = t.shape.first().copied().unwrap_or(1).max(1);
        let per = t.data.len() / channels;
        let scales: Vec<i32> = t
            .data
            .chunks(per.max(1))
            .map(|c| scale_for(c.iter().fold(0f32, |m, v| m.max(v.abs())) as f64, wb, 1.0))
            .collect();
        let coarsest = scales.iter().copied().min().unwrap_or(0);
        let finest = scales.iter().copied().max().unwrap_or(0).min(coarsest + MAX_CHANNEL_SPREAD);
        let mut data = Vec::with_capacity(t.data.len());
        for (c, chunk) in t.data.chunks(per.max(1)).enumerate() {
            let s = scales[c].min(finest);
            data.extend(chunk.iter().map(|&v| quantize_one(v as f64, s, wb) << (finest - s)));
        }
        let format = FixedFormat { scale: finest, bits: wb + (finest - coarsest) as u32 };
        let (shape, tensor) = (t.shape.clone(), Tensor::new(t.shape.clone(), data)?);
        let id = self.push_value(name.to_string(), shape, format, Source::Const { tensor, param: true });
        self.ids.insert(name.to_string(), id);
        Ok(id)
    }

    fn weight(&mut self, name: &str, t: &FTensor) -> Result<ValueId, OnnxError> {
        let s = scale_for(t.max_abs() as f64, self.cfg.weight_bits, 1.0);
        self.konst(name, t, s, Some(self.cfg.weight_bits))
    }

    /// Brings `id` to `scale`, saturating at `bits`; a no-op when already there and narrow enough.
    fn rescale(&mut self, name: &str, id: ValueId, scale: i32, bits: u32) -> Result<ValueId, OnnxError> {
        let f = self.fmt(id);
        if f.scale == scale && f.bits <= bits {
            return Ok(id);
        }
        let shift = f.scale - scale;
        self.node(
            &format!("{name}/rescale"),
            QOp::Rescale { shift, bits },
            vec![id],
            FixedFormat { scale, bits },
        )
    }

    /// Float value `name` as a quantised value; constants are quantised on first use as weights.
    fn input(&mut self, name: &str) -> Result<ValueId, OnnxError> {
        if let Some(&id) = self.ids.get(name) {
            return Ok(id);
        }
        let t = self
            .g
            .consts
            .get(name)
            .ok_or_else(|| Self::err(name, "value is neither computed nor constant"))?
            .clone();
        let id = self.weight(name, &t)?;
        self.ids.insert(name.to_string(), id);
        Ok(id)
    }

    fn is_const(&self, name: &str) -> bool {
        !self.ids.contains_key(name) && self.g.consts.contains_key(name)
    }

    /// Output of a linear op: rescale an accumulator to the calibrated activation format.
    fn finish(&mut self, name: &str, out: &str, acc: ValueId) -> Result<ValueId, OnnxError> {
        let s = self.act_scale(out);
        self.rescale(name, acc, s, self.cfg.activation_bits)
    }

    fn lower(&mut self, n: &crate::Node) -> Result<ValueId, OnnxError> {
        let a_bits = self.cfg.activation_bits;
        let name = n.name.as_str();
        let arg =
            |i: usize| n.inputs.get(i).cloned().ok_or_else(|| Self::err(name, format!("missing input {i}")));
        match &n.op {
            Op::MatMul | Op::Conv(_) => {
                let (x, w) = (arg(0)?, arg(1)?);
                let xi = self.input(&x)?;
                let wi = match &n.op {
                    Op::Conv(_) => self.conv_weight(&w)?,
                    _ => self.input(&w)?,
                };
                let (fx, fw) = (self.fmt(xi), self.fmt(wi));
                let acc_scale = fx.scale + fw.scale;
                let wshape = self.shape(wi);
                let fan_in: usize = match &n.op {
                    Op::Conv(_) => wshape.iter().skip(1).product(),
                    _ => wshape.get(wshape.len().saturating_sub(2)).copied().unwrap_or(1),
                };
                let acc_bits = fx.bits + fw.bits + usize::BITS - fan_in.leading_zeros() + 1;
                let mut inputs = vec![xi, wi];
                if let Ok(b) = arg(2) {
                    let t = self
                        .g
                        .consts
                        .get(&b)
                        .ok_or_else(|| Self::err(name, "bias must be constant"))?
                        .clone();
                    inputs.push(self.konst(&b, &t, acc_scale, None)?);
                }
                if acc_bits > 62 {
                    return Err(Self::err(
                        name,
                        format!("accumulator needs {acc_bits} bits; lower the bit widths"),
                    ));
                }
                let op = match &n.op {
                    Op::Conv(p) => QOp::Conv(p.clone()),
                    _ => QOp::MatMul,
                };
                let acc = self.node(
                    &format!("{name}/acc"),
                    op,
                    inputs,
                    FixedFormat { scale: acc_scale, bits: acc_bits },
                )?;
                self.finish(name, &n.output, acc)
            }
            Op::Add | Op::Sub => {
                let (l, r) = (arg(0)?, arg(1)?);
                let (li, ri) = match (self.is_const(&l), self.is_const(&r)) {
                    (true, true) => return Err(Self::err(name, "both operands constant")),
                    (false, true) => {
                        let li = self.input(&l)?;
                        let t = self
                            .g
                            .consts
                            .get(&r)
                            .cloned()
                            .ok_or_else(|| Self::err(name, "missing constant"))?;
                        let s = self.fmt(li).scale;
                        (li, self.konst(&r, &t, s, None)?)
                    }
                    (true, false) => {
                        let ri = self.input(&r)?;
                        let t = self
                            .g
                            .consts
                            .get(&l)
                            .cloned()
                            .ok_or_else(|| Self::err(name, "missing constant"))?;
                        let s = self.fmt(ri).scale;
                        (self.konst(&l, &t, s, None)?, ri)
                    }
                    (false, false) => {
                        let (li, ri) = (self.input(&l)?, self.input(&r)?);
                        let s = self.fmt(li).scale.max(self.fmt(ri).scale);
                        let lb = self.fmt(li).bits + (s - self.fmt(li).scale) as u32;
                        let rb = self.fmt(ri).bits + (s - self.fmt(ri).scale) as u32;
                        (
                            self.rescale(&format!("{name}/lhs"), li, s, lb)?,
                            self.rescale(&format!("{name}/rhs"), ri, s, rb)?,
                        )
                    }
                };
                let (fl, fr) = (self.fmt(li), self.fmt(ri));
                let f = FixedFormat { scale: fl.scale, bits: fl.bits.max(fr.bits) + 1 };
                let op = if n.op == Op::Add { QOp::Add } else { QOp::Sub };
                let acc = self.node(&format!("{name}/acc"), op, vec![li, ri], f)?;
                self.finish(name, &n.output, acc)
            }
            Op::Mul => {
                let (l, r) = (arg(0)?, arg(1)?);
                let (li, ri) = (self.input(&l)?, self.input(&r)?);
                let (fl, fr) = (self.fmt(li), self.fmt(ri));
                let f = FixedFormat { scale: fl.scale + fr.scale, bits: fl.bits + fr.bits };
                let acc = self.node(&format!("{name}/acc"), QOp::Mul, vec![li, ri], f)?;
                self.finish(name, &n.output, acc)
            }
            Op::ReduceSum { axes, keepdims } => {
                let xi = self.input(&arg(0)?)?;
                let count: usize =
                    axes.iter().map(|&d| self.shape(xi).get(d).copied().unwrap_or(1)).product();
                let f = self.fmt(xi);
                let f = FixedFormat { scale: f.scale, bits: f.bits + usize::BITS - count.leading_zeros() };
                let acc = self.node(
                    &format!("{name}/acc"),
                    QOp::ReduceSum { axes: axes.clone(), keepdims: *keepdims },
                    vec![xi],
                    f,
                )?;
                self.finish(name, &n.output, acc)
            }
            Op::Relu
            | Op::MaxPool(_)
            | Op::AvgPool(_)
            | Op::ReduceMean { .. }
            | Op::Reshape { .. }
            | Op::Transpose { .. }
            | Op::Slice { .. }
            | Op::Gather { .. }
            | Op::Clip { .. }
            | Op::LeakyRelu { .. } => {
                let xi = self.input(&arg(0)?)?;
                let f = self.fmt(xi);
                let op = match &n.op {
                    Op::Relu => QOp::Relu,
                    Op::MaxPool(p) => QOp::MaxPool(p.clone()),
                    Op::AvgPool(p) => QOp::AvgPool(p.clone()),
                    Op::ReduceMean { axes, keepdims } => {
                        QOp::ReduceMean { axes: axes.clone(), keepdims: *keepdims }
                    }
                    Op::Reshape { shape } => QOp::Reshape { shape: shape.clone() },
                    Op::Transpose { perm } => QOp::Transpose { perm: perm.clone() },
                    Op::Slice { axes } => QOp::Slice { axes: axes.clone() },
                    Op::Gather { axis, indices, indices_shape } => QOp::Gather {
                        axis: *axis,
                        indices: indices.clone(),
                        indices_shape: indices_shape.clone(),
                    },
                    Op::Clip { min, max } => QOp::Clip {
                        min: quantize_one(*min as f64, f.scale, f.bits),
                        max: quantize_one(*max as f64, f.scale, f.bits),
                    },
                    Op::LeakyRelu { alpha } => {
                        QOp::LeakyRelu { alpha: quantize_wide(*alpha as f64, 16), shift: 16 }
                    }
                    _ => return Err(Self::err(name, "unreachable range-preserving op")),
                };
                self.node(name, op, vec![xi], f)
            }
            Op::Concat { axis } => {
                let ids: Vec<ValueId> = n.inputs.iter().map(|i| self.input(i)).collect::<Result<_, _>>()?;
                let s = ids.iter().map(|&i| self.fmt(i).scale).min().unwrap_or(0);
                let bits = ids.iter().map(|&i| self.fmt(i).bits).max().unwrap_or(a_bits);
                let ids: Vec<ValueId> = ids
                    .iter()
                    .enumerate()
                    .map(|(k, &i)| self.rescale(&format!("{name}/in{k}"), i, s, bits))
                    .collect::<Result<_, _>>()?;
                self.node(name, QOp::Concat { axis: *axis }, ids, FixedFormat { scale: s, bits })
            }
            Op::Unary(f) => {
                let x = arg(0)?;
                let xi = self.input(&x)?;
                let t_bits = self.cfg.table_bits;
                let xmax = self.cal.max_abs.get(&x).copied().unwrap_or(0.0) as f64 * self.cfg.margin;
                let domain = f.saturation_point().map_or(xmax, |p| xmax.min(p));
                let in_scale = scale_for(domain, t_bits, 1.0);
                let out_scale = match f.output_bound() {
                    Some(b) => scale_for(b, a_bits, 1.0),
                    None => self.act_scale(&n.output),
                };
                let xt = self.rescale(name, xi, in_scale, t_bits)?;
                let spec = TableSpec {
                    func: *f,
                    in_scale,
                    in_bits: t_bits,
                    out_scale,
                    out_bits: a_bits,
                    interp_bits: self.cfg.interp_bits,
                };
                self.node(
                    &format!("{name}/table"),
                    QOp::Table(spec),
                    vec![xt],
                    FixedFormat { scale: out_scale, bits: a_bits },
                )
            }
            Op::Softmax { axis } => {
                let x = arg(0)?;
                let xi = self.input(&x)?;
                let t_bits = self.cfg.table_bits;
                let xmax = self.cal.max_abs.get(&x).copied().unwrap_or(0.0) as f64 * self.cfg.margin;
                let in_scale = scale_for(xmax, t_bits, 1.0);
                let xt = self.rescale(name, xi, in_scale, t_bits)?;
                let out_scale = a_bits - 2;
                let exp = TableSpec {
                    func: NonLinear::Exp,
                    in_scale,
                    in_bits: t_bits + 1,
                    out_scale: out_scale as i32,
                    out_bits: a_bits,
                    interp_bits: self.cfg.interp_bits,
                };
                let mut inputs = vec![xt];
                if let Ok(keep) = arg(1) {
                    let t = self
                        .g
                        .consts
                        .get(&keep)
                        .ok_or_else(|| Self::err(name, "the mask must be constant"))?;
                    let data = t.data.iter().map(|&v| i64::from(v != 0.0)).collect();
                    let tensor = Tensor::new(t.shape.clone(), data)?;
                    let format = FixedFormat { scale: 0, bits: 2 };
                    let source = Source::Const { tensor, param: false };
                    inputs.push(self.push_value(keep, t.shape.clone(), format, source));
                }
                self.node(
                    &format!("{name}/softmax"),
                    QOp::Softmax { axis: *axis, exp, out_scale },
                    inputs,
                    FixedFormat { scale: out_scale as i32, bits: a_bits },
                )
            }
            Op::LayerNorm { axis, eps } => {
                let xi = self.input(&arg(0)?)?;
                let f = self.fmt(xi);
                let count: usize = self.shape(xi).iter().skip(*axis).product();
                let norm_scale = scale_for((count as f64).sqrt(), a_bits, 1.0).max(1);
                let eps_q = quantize_wide(*eps as f64, 2 * f.scale).max(1);
                let op = QOp::LayerNorm { axis: *axis, eps: eps_q, out_scale: norm_scale as u32 };
                let mut y = self.node(
                    &format!("{name}/norm"),
                    op,
                    vec![xi],
                    FixedFormat { scale: norm_scale, bits: a_bits },
                )?;
                if let Ok(gamma) = arg(1) {
                    let gi = self.input(&gamma)?;
                    let (fy, fg) = (self.fmt(y), self.fmt(gi));
                    let acc_f = FixedFormat { scale: fy.scale + fg.scale, bits: fy.bits + fg.bits };
                    y = self.node(&format!("{name}/gamma"), QOp::Mul, vec![y, gi], acc_f)?;
                    if let Ok(beta) = arg(2) {
                        let t = self
                            .g
                            .consts
                            .get(&beta)
                            .cloned()
                            .ok_or_else(|| Self::err(name, "beta must be constant"))?;
                        let bi = self.konst(&beta, &t, acc_f.scale, None)?;
                        let f2 =
                            FixedFormat { scale: acc_f.scale, bits: acc_f.bits.max(self.fmt(bi).bits) + 1 };
                        y = self.node(&format!("{name}/beta"), QOp::Add, vec![y, bi], f2)?;
                    }
                }
                self.finish(name, &n.output, y)
            }
            Op::Sqrt => {
                let xi = self.input(&arg(0)?)?;
                let out_scale = self.act_scale(&n.output);
                let shift = self.fmt(xi).scale - 2 * out_scale;
                let r = self.node(
                    &format!("{name}/sqrt"),
                    QOp::Sqrt { shift },
                    vec![xi],
                    FixedFormat { scale: out_scale, bits: 62 },
                )?;
                self.rescale(name, r, out_scale, a_bits)
            }
            // One-hot rows are 0 or 1 at scale 0, whatever reads them; the indices are an integer input
            // (checked when the inputs were given their formats).
            Op::OneHot { depth } => {
                let x = arg(0)?;
                if integer_root(self.g, &x).is_none() {
                    return Err(Self::err(
                        name,
                        format!(
                            "the indices `{x}` of an embedding lookup must come from an integer model input \
                             (token ids), not from computed values"
                        ),
                    ));
                }
                let xi = self.input(&x)?;
                self.node(name, QOp::OneHot { depth: *depth }, vec![xi], FixedFormat { scale: 0, bits: 2 })
            }
            Op::Reciprocal => {
                let xi = self.input(&arg(0)?)?;
                let out_scale = self.act_scale(&n.output);
                let num = self.fmt(xi).scale + out_scale;
                if !(0..=61).contains(&num) {
                    return Err(Self::err(name, format!("reciprocal numerator 2^{num} out of range")));
                }
                let r = self.node(
                    &format!("{name}/reciprocal"),
                    QOp::Reciprocal { numerator_log2: num as u32 },
                    vec![xi],
                    FixedFormat { scale: out_scale, bits: 62 },
                )?;
                self.rescale(name, r, out_scale, a_bits)
            }
        }
    }
}

/// The integer model input `value` is (through reshapes), if it is one.
fn integer_root<'g>(g: &'g Graph, value: &str) -> Option<&'g str> {
    let mut v = value;
    loop {
        if let Some(input) = g.integer_inputs.get(v) {
            return Some(input);
        }
        let producer = g.nodes.iter().find(|n| n.output == v)?;
        match producer.op {
            Op::Reshape { .. } => v = producer.inputs.first()?,
            _ => return None,
        }
    }
}

/// The format of integer input `name`: scale 0, wide enough for every index of the embedding lookups
/// that read it. An integer input read by anything else is refused: poai proves integer inputs only as
/// token ids.
fn integer_input_format(g: &Graph, name: &str) -> Result<FixedFormat, OnnxError> {
    let mut depth = 0usize;
    let mut frontier = vec![name.to_string()];
    while let Some(v) = frontier.pop() {
        for n in g.nodes.iter().filter(|n| n.inputs.contains(&v)) {
            match n.op {
                Op::Reshape { .. } => frontier.push(n.output.clone()),
                Op::OneHot { depth: d } => depth = depth.max(d),
                _ => {
                    return Err(OnnxError::Quantize {
                        node: n.name.clone(),
                        detail: format!(
                            "the integer input `{name}` is read by {}; poai takes integer inputs only as \
                             token ids for an embedding lookup (a Gather on a weight table): export the \
                             model so that it computes with float32 inputs",
                            n.op.name()
                        ),
                    })
                }
            }
        }
    }
    if depth == 0 || g.outputs.iter().any(|o| o == name) {
        return Err(OnnxError::Quantize {
            node: name.to_string(),
            detail:
                "an integer input that no embedding lookup reads: poai takes integer inputs only as token \
                     ids"
                .into(),
        });
    }
    Ok(FixedFormat { scale: 0, bits: bits_needed(&[depth as i64 - 1]) })
}

fn shape_of(op: &QOp, ins: &[&[usize]]) -> Result<Vec<usize>, String> {
    // Evaluate on zeros: exact, and keeps one definition of every op's shape rule (the integer engine's).
    // A softmax keeps its input's shape; its mask (all zeros here) would mask everything.
    if let (QOp::Softmax { .. }, Some(x)) = (op, ins.first()) {
        return Ok(x.to_vec());
    }
    let zeros: Vec<Tensor> = ins.iter().map(|s| Tensor::zeros(s.to_vec())).collect();
    let refs: Vec<&Tensor> = zeros.iter().collect();
    op.eval(&refs).map(|t| t.shape().to_vec()).map_err(|e| e.to_string())
}

/// Builds the quantised graph.
pub fn quantize(g: &Graph, cal: &Calibration, cfg: &QuantConfig) -> Result<QGraph, OnnxError> {
    if !(4..=24).contains(&cfg.activation_bits)
        || !(2..=24).contains(&cfg.weight_bits)
        || !(4..=20).contains(&cfg.table_bits)
        || cfg.interp_bits >= cfg.table_bits
        || cfg.interp_bits > poai_circuits::ir::MAX_INTERP_BITS
    {
        return Err(OnnxError::Quantize {
            node: "config".into(),
            detail: format!("bit widths {cfg:?} out of range"),
        });
    }
    let mut b = Builder {
        g,
        cal,
        cfg: *cfg,
        q: QGraph { values: vec![], nodes: vec![], inputs: vec![], outputs: vec![] },
        ids: HashMap::new(),
    };
    for (index, (name, shape)) in g.inputs.iter().enumerate() {
        let format = if g.integer_inputs.contains(name) {
            integer_input_format(g, name)?
        } else {
            FixedFormat { scale: b.act_scale(name), bits: cfg.activation_bits }
        };
        let id = b.push_value(name.clone(), shape.clone(), format, Source::Input { index });
        b.q.inputs.push(id);
        b.ids.insert(name.clone(), id);
    }
    for n in &g.nodes {
        let id = b.lower(n)?;
        b.ids.insert(n.output.clone(), id);
    }
    for o in &g.outputs {
        let id = *b
            .ids
            .get(o)
            .ok_or_else(|| OnnxError::Quantize { node: o.clone(), detail: "output not produced".into() })?;
        b.q.outputs.push(id);
    }
    b.q.validate()?;
    Ok(b.q)
}
