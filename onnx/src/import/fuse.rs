//! Fusions of exporter patterns: a BatchNorm folded into the Conv or MatMul before it, a bias Add into
//! its MatMul, the erf GELU and the decomposed LayerNorm recognised as one op. Each rewrites a producing
//! node only when the intermediate value has no other consumer.

use poai_circuits::ir::NonLinear;

use super::{Importer, Lowered};
use crate::{FTensor, Op};

impl Importer {
    /// Folds a per-channel affine map into the Conv (channel axis 1) or the rank-2 MatMul with a
    /// constant weight (channel axis last) producing `x`, when `x` feeds only this BatchNorm.
    pub(super) fn fold_batchnorm(
        &mut self,
        x: &str,
        mul: &[f32],
        add: &[f32],
        output: &str,
    ) -> Result<Option<Lowered>, String> {
        let Some(idx) = self.sole_producer(x) else { return Ok(None) };
        let node = &self.g.nodes[idx];
        let Some(w) = node.inputs.get(1).and_then(|w| self.g.consts.get(w)).cloned() else { return Ok(None) };
        let channels = match node.op {
            Op::Conv(_) => w.shape[0],
            Op::MatMul if w.shape.len() == 2 && self.g.shapes.get(x).map(Vec::len) == Some(2) => w.shape[1],
            _ => return Ok(None),
        };
        if channels != mul.len() {
            return Err(format!("{} channels, the producing {} has {channels}", mul.len(), node.op.name()));
        }
        // Output channel of weight element i: its row for Conv ([M, ...]), its column for MatMul ([K, N]).
        let per = w.data.len() / channels.max(1);
        let channel_of = |i: usize| if matches!(node.op, Op::Conv(_)) { i / per } else { i % channels };
        let new_w: Vec<f32> = w.data.iter().enumerate().map(|(i, v)| v * mul[channel_of(i)]).collect();
        let old_b = node
            .inputs
            .get(2)
            .and_then(|b| self.g.consts.get(b))
            .map_or(vec![0.0; channels], |b| b.data.clone());
        if old_b.len() != channels {
            return Ok(None);
        }
        let new_b: Vec<f32> = (0..channels).map(|i| old_b[i] * mul[i] + add[i]).collect();
        let name = node.name.clone();
        let wn = self.add_const(format!("{name}/bn_weight"), FTensor { shape: w.shape, data: new_w });
        let bn = self.add_const(format!("{name}/bn_bias"), FTensor { shape: vec![channels], data: new_b });
        self.retarget(idx, output, |n| n.inputs = vec![n.inputs[0].clone(), wn.clone(), bn.clone()]);
        Ok(Some(Lowered::Done))
    }

    /// `MatMul(a, W) + c` with constant `c` along the last dim becomes a MatMul with bias.
    pub(super) fn fuse_bias(&mut self, mm: &str, c: &str, output: &str) -> Option<Lowered> {
        let idx = self.sole_producer(mm)?;
        let node = &self.g.nodes[idx];
        if node.op != Op::MatMul || node.inputs.len() != 2 || !self.g.consts.contains_key(&node.inputs[1]) {
            return None;
        }
        let bias = self.g.consts.get(c)?;
        let n = *self.g.shapes.get(mm)?.last()?;
        if bias.data.len() != n || bias.shape.last() != Some(&n) {
            return None;
        }
        let bias = FTensor { shape: vec![n], data: bias.data.clone() };
        let b = self.add_const(format!("{}/bias", node.name), bias);
        self.retarget(idx, output, |nd| nd.inputs.push(b));
        Some(Lowered::Done)
    }

    /// Recognises the exporters' erf GELU, `x * 0.5 * (1 + erf(x / sqrt 2))` with the three factors
    /// multiplied in any grouping, and returns `x`.
    pub(super) fn fuse_gelu(&self, l: &str, r: &str) -> Option<String> {
        let node = |v: &str| self.sole_producer(v).map(|i| &self.g.nodes[i]);
        let expand = |v: &str| -> Vec<String> {
            match node(v) {
                Some(n) if n.op == Op::Mul && n.inputs.len() == 2 => n.inputs.clone(),
                _ => vec![v.to_string()],
            }
        };
        let mut factors = expand(l);
        factors.extend(expand(r));
        if factors.len() != 3 {
            return None;
        }
        let half = factors.iter().position(|f| self.scalar(f).is_some_and(|v| (v - 0.5).abs() < 1e-6))?;
        factors.remove(half);
        for (k, one_plus) in factors.iter().enumerate() {
            let x = &factors[1 - k];
            let Some(add) = node(one_plus).filter(|n| n.op == Op::Add) else { continue };
            let Some(erf_out) = add.inputs.iter().find(|i| self.scalar(i) != Some(1.0)) else { continue };
            if !add.inputs.iter().any(|i| self.scalar(i) == Some(1.0)) {
                continue;
            }
            let Some(erf) = node(erf_out).filter(|n| n.op == Op::Unary(NonLinear::Erf)) else { continue };
            let Some(scaled) = erf.inputs.first().and_then(|v| node(v)).filter(|n| n.op == Op::Mul) else {
                continue;
            };
            let is_x = scaled.inputs.iter().any(|i| i == x);
            let is_rsqrt2 = scaled
                .inputs
                .iter()
                .any(|i| self.scalar(i).is_some_and(|v| (v - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-5));
            if is_x && is_rsqrt2 {
                return Some(x.clone());
            }
        }
        None
    }

    /// Recognises `(x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps)` over trailing axes.
    pub(super) fn fuse_layer_norm(&self, num: &str, den: &str) -> Option<(Op, Vec<String>)> {
        let node = |v: &str| self.producer.get(v).map(|&i| &self.g.nodes[i]);
        let sub = node(num)?;
        let (Op::Sub, [x, mean]) = (&sub.op, sub.inputs.as_slice()) else { return None };
        let mean_node = node(mean)?;
        let Op::ReduceMean { axes, keepdims: true } = &mean_node.op else { return None };
        if mean_node.inputs.first()? != x {
            return None;
        }
        let sqrt = node(den)?;
        if sqrt.op != Op::Sqrt {
            return None;
        }
        let add = node(sqrt.inputs.first()?)?;
        let (Op::Add, [var, eps]) = (&add.op, add.inputs.as_slice()) else { return None };
        let eps = self.g.consts.get(eps)?.data.first().copied()?;
        let var_node = node(var)?;
        let Op::ReduceMean { axes: axes2, keepdims: true } = &var_node.op else { return None };
        let sq = node(var_node.inputs.first()?)?;
        if axes2 != axes || sq.op != Op::Mul || sq.inputs.first()? != num || sq.inputs.get(1)? != num {
            return None;
        }
        let rank = self.g.shapes.get(x)?.len();
        let first = *axes.first()?;
        if *axes != (first..rank).collect::<Vec<_>>() {
            return None;
        }
        Some((Op::LayerNorm { axis: first, eps }, vec![x.clone()]))
    }
}

/// Additive mask entries at or below this are masks, not biases: `-inf`, `finfo.min` (Hugging Face's
/// current masks) and `-10000` (its older ones) all lie far below any score a softmax sees, and each
/// means "this position gets no weight".
pub(super) const MASKED_AT_OR_BELOW: f32 = -1.0e4;

impl Importer {
    /// `Softmax(x + M)` with a constant `M` holding mask entries ([`MASKED_AT_OR_BELOW`]), `x + M` feeding
    /// only the Softmax: the masked positions become the Softmax's 0/1 mask input (`keep`), so the huge
    /// values never reach quantisation, and the rest of `M` (a bias, such as ALiBi's) stays as the Add's
    /// constant, or the Add goes when nothing is left of it. Returns the Softmax's new input and its mask.
    pub(super) fn split_softmax_mask(&mut self, x: &str) -> Option<(String, String)> {
        let idx = self.sole_producer(x)?;
        let node = &self.g.nodes[idx];
        if node.op != Op::Add || node.inputs.len() != 2 {
            return None;
        }
        let c = node.inputs.iter().position(|i| self.g.consts.contains_key(i))?;
        let (data, mask) = (node.inputs[1 - c].clone(), self.g.consts.get(&node.inputs[c])?.clone());
        if self.g.consts.contains_key(&data) || !mask.data.iter().any(|&v| v <= MASKED_AT_OR_BELOW) {
            return None;
        }
        let name = node.name.clone();
        let keep = mask.data.iter().map(|&v| f32::from(u8::from(v > MASKED_AT_OR_BELOW))).collect();
        let keep = self.add_const(format!("{name}/keep"), FTensor { shape: mask.shape.clone(), data: keep });
        let bias: Vec<f32> =
            mask.data.iter().map(|&v| if v > MASKED_AT_OR_BELOW { v } else { 0.0 }).collect();
        if bias.iter().all(|&v| v == 0.0) {
            return Some((data, keep));
        }
        let bias = self.add_const(format!("{name}/bias"), FTensor { shape: mask.shape, data: bias });
        self.g.nodes[idx].inputs[c] = bias;
        Some((x.to_string(), keep))
    }
}
