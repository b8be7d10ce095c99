//! Recurrent ops: GRU and LSTM, unrolled over the (static) sequence into the ops poai proves —
//! per step and gate a MatMul of the input and of the previous state with constant weights, the gate's
//! Sigmoid or Tanh through the existing tables, element-wise Mul, Add and Sub for the state update.
//! Forward, reverse and bidirectional; ONNX's gate orders (GRU `z, r, h`; LSTM `i, o, f, c`), both GRU
//! reset placements (`linear_before_reset`, which PyTorch's exporter sets), optional biases and
//! initial states. Refused by name: other activations, `clip`, peepholes, `input_forget`, `layout = 1`
//! and sequence lengths shorter than the sequence.

use super::registry::OpImporter;
use super::{Importer, Lowered, NodeCx};
use crate::{FTensor, Op};
use poai_circuits::ir::{NonLinear, SliceAxis};

/// The ONNX ops of this family.
pub(super) const OPS: &[OpImporter] = &[
    OpImporter {
        onnx: "GRU",
        lower: gru,
        note: "unrolled over the sequence; constant weights; default activations; layout 0",
    },
    OpImporter {
        onnx: "LSTM",
        lower: lstm,
        note: "unrolled over the sequence; constant weights; default activations; no peepholes; layout 0",
    },
];

/// Which recurrent cell.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cell {
    /// GRU, resetting the previous state before (`false`) or after (`true`) its recurrent product.
    Gru { linear_before_reset: bool },
    /// LSTM.
    Lstm,
}

impl Cell {
    /// Gates per step.
    fn gates(self) -> usize {
        match self {
            Cell::Gru { .. } => 3,
            Cell::Lstm => 4,
        }
    }
}

fn gru(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    let linear_before_reset = cx.attrs.int("linear_before_reset", 0) != 0;
    Unroll::new(im, cx, Cell::Gru { linear_before_reset })?.run(im, cx)
}

fn lstm(im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
    if cx.attrs.int("input_forget", 0) != 0 {
        return Err("input_forget = 1 is not supported".into());
    }
    if cx.ins.get(7).is_some_and(|p| !p.is_empty()) {
        return Err("peephole weights (input P) are not supported".into());
    }
    Unroll::new(im, cx, Cell::Lstm)?.run(im, cx)
}

/// A gate's biases: the input's `Wb` and the recurrent `Rb`.
type GateBias = (Vec<f32>, Vec<f32>);

/// One direction's constants, by gate.
struct Gates {
    /// Input weights, transposed (`[input, hidden]`).
    w: Vec<String>,
    /// Recurrent weights, transposed (`[hidden, hidden]`).
    r: Vec<String>,
    /// The bias added to the input's product.
    x_bias: Vec<String>,
    /// A GRU candidate's recurrent bias, kept apart when the reset follows its product.
    h_bias: String,
}

/// One recurrent node being unrolled: its shapes, constant weights per direction and gate, and the
/// names it emits under.
struct Unroll {
    cell: Cell,
    /// The node's name and outputs (`Y`, `Y_h`, and for an LSTM `Y_c`; any may be empty).
    name: String,
    outputs: Vec<String>,
    x: String,
    seq: usize,
    batch: usize,
    hidden: usize,
    /// Per direction (`false` forward, `true` reverse).
    directions: Vec<bool>,
    /// Initial hidden and cell states given as inputs (`[directions, batch, hidden]`).
    initial: [Option<String>; 2],
    emitted: usize,
}

impl Unroll {
    fn new(im: &Importer, cx: &NodeCx<'_>, cell: Cell) -> Result<Self, String> {
        let a = &cx.attrs;
        if a.int("layout", 0) != 0 {
            return Err("layout = 1 (batch first) is not supported: export with layout 0".into());
        }
        if a.floats("clip").is_some() || a.float("clip", 0.0) != 0.0 {
            return Err("clip is not supported".into());
        }
        if let Some(acts) = a.strings("activations") {
            let default: &[&str] =
                if cell == Cell::Lstm { &["Sigmoid", "Tanh", "Tanh"] } else { &["Sigmoid", "Tanh"] };
            if acts
                .chunks(default.len())
                .any(|c| c.iter().zip(default).any(|(x, d)| !x.eq_ignore_ascii_case(d)))
            {
                return Err(format!(
                    "activations {acts:?} are not supported (only the defaults {default:?})"
                ));
            }
        }
        let directions = match a.string("direction").as_deref().unwrap_or("forward") {
            "forward" => vec![false],
            "reverse" => vec![true],
            "bidirectional" => vec![false, true],
            other => return Err(format!("direction {other} is not supported")),
        };
        let x = cx.input(0)?;
        let xs = im.g.shape(&x).map(<[usize]>::to_vec).unwrap_or_default();
        let [seq, batch, _] = <[usize; 3]>::try_from(xs.as_slice())
            .map_err(|_| format!("input X of shape {xs:?} is not [sequence, batch, input]"))?;
        let hidden = usize::try_from(a.int("hidden_size", 0))
            .ok()
            .filter(|&h| h > 0)
            .ok_or("hidden_size is missing")?;
        if let Some(lens) = cx.ins.get(4).filter(|s| !s.is_empty()) {
            let lens =
                im.const_input(cx.ins, 4).map_err(|_| format!("sequence_lens `{lens}` must be constant"))?;
            if lens.as_i64().iter().any(|&l| l != seq as i64) {
                return Err(format!(
                    "sequence_lens {:?} shorter than the sequence {seq} are not supported",
                    lens.data
                ));
            }
        }
        let state = |i: usize| cx.ins.get(i).filter(|s| !s.is_empty()).cloned();
        let initial = [state(5), if cell == Cell::Lstm { state(6) } else { None }];
        Ok(Self {
            cell,
            name: cx.name.to_string(),
            outputs: cx.node.output.to_vec(),
            x,
            seq,
            batch,
            hidden,
            directions,
            initial,
            emitted: 0,
        })
    }

    /// Emits `op` on `inputs` under a fresh name; its output's name.
    fn emit(&mut self, im: &mut Importer, op: Op, inputs: Vec<String>) -> Result<String, String> {
        let out = format!("{}/unrolled/{}", self.name, self.emitted);
        self.emitted += 1;
        im.emit(out.clone(), op, inputs, out.clone())?;
        Ok(out)
    }

    /// Emits `op` under the node's output `i` (when that output is used).
    fn emit_output(
        &mut self,
        im: &mut Importer,
        i: usize,
        op: Op,
        inputs: Vec<String>,
    ) -> Result<(), String> {
        match self.outputs.get(i).filter(|o| !o.is_empty()).cloned() {
            Some(out) => im.emit(format!("{}/{i}", self.name), op, inputs, out),
            None => Ok(()),
        }
    }

    /// Constant weights of direction `d` from input `i` (`[directions, gates·hidden, cols]`): per gate,
    /// the transpose `[cols, hidden]` a MatMul takes.
    fn weights(&self, im: &mut Importer, cx: &NodeCx<'_>, i: usize, d: usize) -> Result<Vec<String>, String> {
        let w = im.const_input(cx.ins, i).map_err(|_| format!("weight input {i} must be constant"))?;
        let (g, h) = (self.cell.gates(), self.hidden);
        let [dirs, rows, cols] = <[usize; 3]>::try_from(w.shape.as_slice())
            .map_err(|_| format!("weight input {i} of shape {:?} is not rank 3", w.shape))?;
        if dirs != self.directions.len() || rows != g * h {
            return Err(format!("weight input {i} of shape {:?} does not fit {g} gates of {h}", w.shape));
        }
        (0..g)
            .map(|k| {
                let mut t = vec![0f32; cols * h];
                for j in 0..h {
                    for c in 0..cols {
                        t[c * h + j] = w.data[(d * rows + k * h + j) * cols + c];
                    }
                }
                let t = FTensor::new(vec![cols, h], t).map_err(|e| e.to_string())?;
                Ok(im.add_const(format!("{}/d{d}/w{i}/g{k}", self.name), t))
            })
            .collect()
    }

    /// The biases of direction `d` per gate: `(Wb, Rb)` (zeros without a `B` input).
    fn biases(&self, im: &mut Importer, cx: &NodeCx<'_>, d: usize) -> Result<Vec<GateBias>, String> {
        let (g, h) = (self.cell.gates(), self.hidden);
        let b = match cx.ins.get(3).filter(|s| !s.is_empty()) {
            Some(_) => {
                Some(im.const_input(cx.ins, 3).map_err(|_| "bias input B must be constant".to_string())?)
            }
            None => None,
        };
        if let Some(b) = &b {
            if b.shape != [self.directions.len(), 2 * g * h] {
                return Err(format!("bias B of shape {:?} does not fit {g} gates of {h}", b.shape));
            }
        }
        Ok((0..g)
            .map(|k| {
                let at = |half: usize, j: usize| {
                    b.as_ref().map_or(0.0, |b| b.data[d * 2 * g * h + half * g * h + k * h + j])
                };
                ((0..h).map(|j| at(0, j)).collect(), (0..h).map(|j| at(1, j)).collect())
            })
            .collect())
    }

    /// A constant of `shape` under a name of this node.
    fn constant(
        &self,
        im: &mut Importer,
        what: String,
        shape: Vec<usize>,
        data: Vec<f32>,
    ) -> Result<String, String> {
        let t = FTensor::new(shape, data).map_err(|e| e.to_string())?;
        Ok(im.add_const(format!("{}/{what}", self.name), t))
    }

    /// The initial state `which` (0 hidden, 1 cell) of direction `d`, `[batch, hidden]`: the input's
    /// slice, or `None` for zeros (the first step then leaves out the terms they would zero, rather than
    /// carrying a constant zero state through the ops).
    fn initial_state(&mut self, im: &mut Importer, which: usize, d: usize) -> Result<Option<String>, String> {
        let (batch, h) = (self.batch, self.hidden);
        let Some(s) = self.initial[which].clone() else {
            return Ok(None);
        };
        let slice = Op::Slice { axes: vec![SliceAxis { axis: 0, start: d, step: 1, len: 1 }] };
        let one = self.emit(im, slice, vec![s])?;
        self.emit(im, Op::Reshape { shape: vec![batch, h] }, vec![one]).map(Some)
    }

    /// A gate's pre-activation: `x·Wᵀ + bias`, plus `h·Rᵀ` unless the state is zero.
    fn pre(
        &mut self,
        im: &mut Importer,
        x: &str,
        (w, bias, r): (&str, &str, &str),
        h: Option<&str>,
    ) -> Result<String, String> {
        let xw = self.emit(im, Op::MatMul, vec![x.to_string(), w.to_string(), bias.to_string()])?;
        let Some(h) = h else {
            return Ok(xw);
        };
        let hr = self.emit(im, Op::MatMul, vec![h.to_string(), r.to_string()])?;
        self.emit(im, Op::Add, vec![xw, hr])
    }

    /// One GRU step from the input `x` and the previous state (`None`: zeros).
    fn gru_step(
        &mut self,
        im: &mut Importer,
        x: &str,
        h: Option<&str>,
        g: &Gates,
        reset_after: bool,
    ) -> Result<String, String> {
        let sigmoid = Op::Unary(NonLinear::Sigmoid);
        let z = self.pre(im, x, (&g.w[0], &g.x_bias[0], &g.r[0]), h)?;
        let z = self.emit(im, sigmoid.clone(), vec![z])?;
        let rg = self.pre(im, x, (&g.w[1], &g.x_bias[1], &g.r[1]), h)?;
        let rg = self.emit(im, sigmoid, vec![rg])?;
        let xw = self.emit(im, Op::MatMul, vec![x.to_string(), g.w[2].clone(), g.x_bias[2].clone()])?;
        // The recurrent term: r·(h·Rᵀ + Rb) (reset after), or (r·h)·Rᵀ with Rb in the input's bias
        // (reset before); from a zero state, r·Rb or nothing.
        let recurrent = match (h, reset_after) {
            (Some(h), true) => {
                let hr = self.emit(im, Op::MatMul, vec![h.to_string(), g.r[2].clone(), g.h_bias.clone()])?;
                Some(self.emit(im, Op::Mul, vec![rg, hr])?)
            }
            (Some(h), false) => {
                let reset = self.emit(im, Op::Mul, vec![rg, h.to_string()])?;
                Some(self.emit(im, Op::MatMul, vec![reset, g.r[2].clone()])?)
            }
            (None, true) => Some(self.emit(im, Op::Mul, vec![rg, g.h_bias.clone()])?),
            (None, false) => None,
        };
        let n = match recurrent {
            Some(rec) => self.emit(im, Op::Add, vec![xw, rec])?,
            None => xw,
        };
        let n = self.emit(im, Op::Unary(NonLinear::Tanh), vec![n])?;
        // h' = (1 - z)·n + z·h = n + z·(h - n); from a zero state n - z·n.
        match h {
            Some(h) => {
                let diff = self.emit(im, Op::Sub, vec![h.to_string(), n.clone()])?;
                let kept = self.emit(im, Op::Mul, vec![z, diff])?;
                self.emit(im, Op::Add, vec![n, kept])
            }
            None => {
                let kept = self.emit(im, Op::Mul, vec![z, n.clone()])?;
                self.emit(im, Op::Sub, vec![n, kept])
            }
        }
    }

    /// One LSTM step: the new hidden and cell states.
    fn lstm_step(
        &mut self,
        im: &mut Importer,
        x: &str,
        (h, c): (Option<&str>, Option<&str>),
        g: &Gates,
    ) -> Result<(String, String), String> {
        let mut act = Vec::new();
        for k in 0..4 {
            let p = self.pre(im, x, (&g.w[k], &g.x_bias[k], &g.r[k]), h)?;
            let f = if k == 3 { NonLinear::Tanh } else { NonLinear::Sigmoid };
            act.push(self.emit(im, Op::Unary(f), vec![p])?);
        }
        // Gates in ONNX's order: input, output, forget, cell.
        let write = self.emit(im, Op::Mul, vec![act[0].clone(), act[3].clone()])?;
        let c = match c {
            Some(c) => {
                let forget = self.emit(im, Op::Mul, vec![act[2].clone(), c.to_string()])?;
                self.emit(im, Op::Add, vec![forget, write])?
            }
            None => write,
        };
        let squashed = self.emit(im, Op::Unary(NonLinear::Tanh), vec![c.clone()])?;
        let h = self.emit(im, Op::Mul, vec![act[1].clone(), squashed])?;
        Ok((h, c))
    }

    fn run(mut self, im: &mut Importer, cx: &NodeCx<'_>) -> Result<Lowered, String> {
        let (seq, batch) = (self.seq, self.batch);
        let input_size = im.g.shape(&self.x).and_then(|s| s.get(2).copied()).unwrap_or(0);
        let mut states: Vec<Vec<String>> = Vec::new();
        let mut finals: Vec<[String; 2]> = Vec::new();
        for (d, reverse) in self.directions.clone().into_iter().enumerate() {
            let gates = self.gates(im, cx, d)?;
            let mut h = self.initial_state(im, 0, d)?;
            let mut c = if self.cell == Cell::Lstm { self.initial_state(im, 1, d)? } else { None };
            let mut at = vec![String::new(); seq];
            let order: Vec<usize> = if reverse { (0..seq).rev().collect() } else { (0..seq).collect() };
            for t in order {
                let slice = Op::Slice { axes: vec![SliceAxis { axis: 0, start: t, step: 1, len: 1 }] };
                let xt = self.emit(im, slice, vec![self.x.clone()])?;
                let xt = self.emit(im, Op::Reshape { shape: vec![batch, input_size] }, vec![xt])?;
                let next = match self.cell {
                    Cell::Gru { linear_before_reset } => {
                        self.gru_step(im, &xt, h.as_deref(), &gates, linear_before_reset)?
                    }
                    Cell::Lstm => {
                        let (nh, nc) = self.lstm_step(im, &xt, (h.as_deref(), c.as_deref()), &gates)?;
                        c = Some(nc);
                        nh
                    }
                };
                at[t] = next.clone();
                h = Some(next);
            }
            states.push(at);
            finals.push([h.unwrap_or_default(), c.unwrap_or_default()]);
        }
        self.write_outputs(im, &states, &finals)?;
        Ok(Lowered::Done)
    }

    /// The constants of direction `d`: per gate the transposed input and recurrent weights and the
    /// input's bias (`Wb + Rb`, or `Wb` alone for a GRU's candidate reset after its product), and
    /// that candidate's recurrent bias `Rb`.
    fn gates(&mut self, im: &mut Importer, cx: &NodeCx<'_>, d: usize) -> Result<Gates, String> {
        let h = self.hidden;
        let w = self.weights(im, cx, 1, d)?;
        let r = self.weights(im, cx, 2, d)?;
        let biases = self.biases(im, cx, d)?;
        let mut x_bias = Vec::new();
        for (k, (wb, rb)) in biases.iter().enumerate() {
            let split = matches!(self.cell, Cell::Gru { linear_before_reset: true }) && k == 2;
            let own: Vec<f32> =
                if split { wb.clone() } else { wb.iter().zip(rb).map(|(w, r)| w + r).collect() };
            x_bias.push(self.constant(im, format!("d{d}/xbias{k}"), vec![h], own)?);
        }
        let rb = biases.get(2).map(|b| b.1.clone()).unwrap_or_default();
        let h_bias = self.constant(im, format!("d{d}/hbias"), vec![h], rb)?;
        Ok(Gates { w, r, x_bias, h_bias })
    }

    /// `Y` (`[sequence, directions, batch, hidden]`), `Y_h` and, for an LSTM, `Y_c` (`[directions,
    /// batch, hidden]`), each only when used.
    fn write_outputs(
        &mut self,
        im: &mut Importer,
        states: &[Vec<String>],
        finals: &[[String; 2]],
    ) -> Result<(), String> {
        let (batch, h, dirs) = (self.batch, self.hidden, self.directions.len());
        if self.outputs.first().is_some_and(|o| !o.is_empty()) {
            let mut steps = Vec::new();
            for t in 0..self.seq {
                let mut per_dir = Vec::new();
                for s in states {
                    per_dir.push(self.emit(
                        im,
                        Op::Reshape { shape: vec![1, 1, batch, h] },
                        vec![s[t].clone()],
                    )?);
                }
                steps.push(self.join(im, per_dir, 1)?);
            }
            let y = self.join(im, steps, 0)?;
            self.emit_output(im, 0, Op::Reshape { shape: vec![self.seq, dirs, batch, h] }, vec![y])?;
        }
        for which in 0..2 {
            if which == 1 && self.cell != Cell::Lstm {
                break;
            }
            if self.outputs.get(1 + which).is_none_or(|o| o.is_empty()) {
                continue;
            }
            let mut per_dir = Vec::new();
            for f in finals {
                per_dir.push(self.emit(
                    im,
                    Op::Reshape { shape: vec![1, batch, h] },
                    vec![f[which].clone()],
                )?);
            }
            let joined = self.join(im, per_dir, 0)?;
            self.emit_output(im, 1 + which, Op::Reshape { shape: vec![dirs, batch, h] }, vec![joined])?;
        }
        Ok(())
    }

    /// `parts` concatenated along `axis` (the one part itself when alone).
    fn join(&mut self, im: &mut Importer, parts: Vec<String>, axis: usize) -> Result<String, String> {
        match <[String; 1]>::try_from(parts) {
            Ok([one]) => Ok(one),
            Err(parts) => self.emit(im, Op::Concat { axis }, parts),
        }
    }
}
