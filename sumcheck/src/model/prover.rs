//! The prover's walk over the plan. Each step's comment says why the witness it commits is unique given
//! the step's input, so that a claim the verifier accepts about the output pins the input's claim.

use halo2_base::halo2_proofs::halo2curves::ff::Field;
use poai_circuits::ir::{QGraph, QOp, Tensor, ValueId};
use poai_circuits::Fr;

use super::layout::Layout;
use super::packing::{Quantity, Segment};
use super::plan::{Plan, Role, Step};
use super::{absorb_statement, challenges, decode, pow2, wiring, witness, ModelProof, StepProof};
use crate::backend::SumcheckBackend;
use crate::hyperkzg::{self, KzgKey};
use crate::matmul::{self, Claim};
use crate::mle::{signed, Mle};
use crate::sumcheck::Summand;
use crate::transcript::Transcript;
use crate::{claims, logup, zerocheck, SumcheckError};

struct Prover<'a, B, T> {
    backend: &'a B,
    transcript: &'a mut T,
    graph: &'a QGraph,
    plan: &'a Plan,
    trace: Vec<Option<Tensor>>,
    packed: Vec<Fr>,
    pending: Vec<Vec<Claim>>,
    packed_claims: Vec<Claim>,
    step: StepProof,
}

/// Proves `graph` on `inputs`; returns the outputs and the proof. `key` must hold at least as many powers
/// as the packed polynomial has entries ([`Plan::new`]`(graph)?.packing.vars`).
pub fn prove<B: SumcheckBackend, T: Transcript>(
    backend: &B,
    key: &KzgKey,
    (graph, label): (&QGraph, Fr),
    inputs: &[Tensor],
    transcript: &mut T,
) -> Result<(Vec<Tensor>, ModelProof), SumcheckError> {
    let witness = Witness::new(graph, inputs)?;
    let outputs = witness.outputs.clone();
    let proof = prove_witness(backend, key, (graph, label), inputs, witness, transcript)?;
    Ok((outputs, proof))
}

/// Everything the prover holds: the evaluation trace (for the virtual tensors), the packed polynomial
/// and the outputs it claims. [`Witness::new`] makes the honest one; a test of a malicious prover edits it
/// and proves with [`prove_witness`].
#[derive(Clone, Debug)]
pub struct Witness {
    /// The plan both sides follow.
    pub plan: Plan,
    /// `QGraph::eval_trace` of the inputs.
    pub trace: Vec<Option<Tensor>>,
    /// The packed polynomial's evaluations.
    pub packed: Vec<Fr>,
    /// The outputs claimed.
    pub outputs: Vec<Tensor>,
}

impl Witness {
    /// The honest witness of `graph` on `inputs`.
    pub fn new(graph: &QGraph, inputs: &[Tensor]) -> Result<Self, SumcheckError> {
        super::check_inputs(graph, inputs)?;
        let plan = Plan::new(graph)?;
        let trace = graph.eval_trace(inputs).map_err(|e| SumcheckError::Witness(e.to_string()))?;
        let outputs: Vec<Tensor> = graph
            .outputs
            .iter()
            .map(|&o| trace[o].clone().ok_or_else(|| SumcheckError::Witness(format!("output {o}"))))
            .collect::<Result<_, _>>()?;
        let packed = witness::pack(graph, &plan, &trace)?;
        Ok(Self { plan, trace, packed, outputs })
    }
}

/// Proves with a given witness (honest or not): the prover's side of the protocol, message by message.
pub fn prove_witness<B: SumcheckBackend, T: Transcript>(
    backend: &B,
    key: &KzgKey,
    (graph, label): (&QGraph, Fr),
    inputs: &[Tensor],
    witness: Witness,
    transcript: &mut T,
) -> Result<ModelProof, SumcheckError> {
    let Witness { plan, trace, packed, outputs } = witness;
    let packed_mle = Mle::new(packed)?;
    let commitment = hyperkzg::commit(key, &packed_mle)?;
    absorb_statement(transcript, label, (inputs, &outputs), &commitment);
    let mut p = Prover {
        backend,
        transcript,
        graph,
        plan: &plan,
        trace,
        packed: packed_mle.into_evals(),
        pending: vec![Vec::new(); graph.values.len()],
        packed_claims: Vec::new(),
        step: StepProof::default(),
    };
    for (&o, t) in graph.outputs.iter().zip(&outputs) {
        let point = challenges(p.transcript, plan.layouts[o].vars());
        let value = Mle::new(plan.layouts[o].lay_out_field(t.data())?)?.evaluate(&point)?;
        p.claim_value(o, point, value)?;
    }
    let mut steps = Vec::with_capacity(graph.nodes.len());
    for index in (0..graph.nodes.len()).rev() {
        p.node(index)?;
        steps.push(std::mem::take(&mut p.step));
    }
    let lookup = p.range_checks()?;
    let packed = Mle::new(p.packed)?;
    let (merge, claim) = claims::prove(backend, &packed, &p.packed_claims, p.transcript)?;
    let opening = hyperkzg::open(key, &packed, &claim.point, p.transcript)?;
    Ok(ModelProof { commitment, steps, lookup, merge, opening })
}

impl<B: SumcheckBackend, T: Transcript> Prover<'_, B, T> {
    fn send(&mut self, values: &[Fr]) {
        self.transcript.absorb(values);
        self.step.values.extend_from_slice(values);
    }

    fn laid_out(&self, value: ValueId) -> Result<Vec<Fr>, SumcheckError> {
        let ints = witness::laid_out(self.graph, self.plan, &self.trace, value)?;
        Ok(ints.into_iter().map(signed).collect())
    }

    fn segment(&self, s: &Segment) -> &[Fr] {
        &self.packed[s.offset..s.offset + (1 << s.vars)]
    }

    fn limb_values(&self, q: &Quantity, point: &[Fr]) -> Result<Vec<Fr>, SumcheckError> {
        q.limbs
            .iter()
            .map(|&l| Mle::new(self.segment(&self.plan.packing.segments[l]).to_vec())?.evaluate(point))
            .collect()
    }

    fn record_limbs(&mut self, q: &Quantity, point: &[Fr], limbs: &[Fr]) -> Result<(), SumcheckError> {
        for (&l, &value) in q.limbs.iter().zip(limbs) {
            let seg = self.plan.packing.segments[l];
            self.packed_claims.push(Claim { point: self.plan.packing.lift(&seg, point)?, value });
        }
        Ok(())
    }

    /// Sends a quantity's limbs at `point` and returns its value there.
    fn open_quantity(&mut self, q: &Quantity, point: &[Fr]) -> Result<Fr, SumcheckError> {
        let limbs = self.limb_values(q, point)?;
        self.send(&limbs);
        self.record_limbs(q, point, &limbs)?;
        Ok(decode(q, &limbs))
    }

    /// Records that `value` has extension `v` at `point`: public and constant values need nothing (the
    /// verifier evaluates them), virtual ones wait for their producer, committed ones become claims on the
    /// packed polynomial (a value in several limbs sends the limbs).
    fn claim_value(&mut self, value: ValueId, point: Vec<Fr>, v: Fr) -> Result<(), SumcheckError> {
        match &self.plan.roles[value] {
            Role::Input | Role::Const => Ok(()),
            Role::Virtual => {
                self.pending[value].push(Claim { point, value: v });
                Ok(())
            }
            Role::Committed(q) if q.limbs.len() == 1 => {
                let seg = self.plan.packing.segments[q.limbs[0]];
                let value = v + signed(q.bias);
                self.packed_claims.push(Claim { point: self.plan.packing.lift(&seg, &point)?, value });
                Ok(())
            }
            Role::Committed(q) => {
                let q = q.clone();
                self.open_quantity(&q, &point).map(|_| ())
            }
        }
    }

    /// The one claim on a virtual value (several merged), or none when nothing reads it.
    fn take_claim(&mut self, value: ValueId) -> Result<Option<Claim>, SumcheckError> {
        let claims = std::mem::take(&mut self.pending[value]);
        match claims.len() {
            0 => Ok(None),
            1 => Ok(claims.into_iter().next()),
            _ => {
                let poly = Mle::new(self.laid_out(value)?)?;
                let (proof, claim) = claims::prove(self.backend, &poly, &claims, self.transcript)?;
                self.step.merge = Some(proof);
                Ok(Some(claim))
            }
        }
    }

    /// Zerocheck of `summand` over quantity limbs; records the limbs' claims at its point.
    fn zerocheck(&mut self, tables: &[Segment], summand: &Summand) -> Result<(), SumcheckError> {
        let mles =
            tables.iter().map(|s| Mle::new(self.segment(s).to_vec())).collect::<Result<Vec<_>, _>>()?;
        let proved = zerocheck::prove(self.backend, mles, summand, self.transcript)?;
        self.transcript.absorb(&proved.evals);
        self.step.values.extend_from_slice(&proved.evals);
        self.step.sumchecks.push(proved.proof);
        for (s, &value) in tables.iter().zip(&proved.evals) {
            let point = self.plan.packing.lift(s, &proved.point[..s.vars])?;
            self.packed_claims.push(Claim { point, value });
        }
        Ok(())
    }

    fn wire(&mut self, w: &wiring::Wiring, x: ValueId, point: &[Fr]) -> Result<(), SumcheckError> {
        let xs = self.laid_out(x)?;
        let (proof, claim) = wiring::prove(self.backend, w, &xs, point, self.transcript)?;
        self.step.sumchecks.push(proof);
        self.send(&[claim.value]);
        self.claim_value(x, claim.point, claim.value)
    }

    fn node(&mut self, index: usize) -> Result<(), SumcheckError> {
        let (graph, plan) = (self.graph, self.plan);
        let node = &graph.nodes[index];
        let input = node.inputs[0];
        let out_vars = plan.layouts[node.output].vars();
        let segs = |q: &Quantity| q.limbs.iter().map(|&l| plan.packing.segments[l]).collect::<Vec<_>>();
        match (&plan.steps[index], &node.op) {
            // C = A·B + bias: the product sumcheck pins Ã and B̃ at a random point (B is constant, so the
            // verifier evaluates it); no witness is committed.
            (Step::MatMul { shape, .. }, _) => {
                let Some(claim) = self.take_claim(node.output)? else { return Ok(()) };
                let a = Mle::new(self.laid_out(input)?)?;
                let b = Mle::new(self.laid_out(node.inputs[1])?)?;
                let (proof, claims) =
                    matmul::prove(self.backend, (&a, &b), *shape, &claim.point, self.transcript)?;
                self.step.matmul = Some(proof);
                self.claim_value(input, claims.a.point, claims.a.value)?;
                self.claim_value(node.inputs[1], claims.b.point, claims.b.value)
            }
            // O = W·Uᵀ + bias with Uᵀ the im2col wiring of x: a product sumcheck, then a wiring sumcheck.
            (Step::Conv { shape }, QOp::Conv(params)) => {
                let Some(claim) = self.take_claim(node.output)? else { return Ok(()) };
                let w = &graph.values[node.inputs[1]].shape;
                let w2 = Layout::new(&[w[0], w[1] * w[2] * w[3]]);
                let w_mle =
                    Mle::new(w2.lay_out_field(witness::tensor(graph, &self.trace, node.inputs[1])?.data())?)?;
                let o = plan.layouts[node.output].dims().to_vec();
                let im2col = wiring::im2col(
                    params,
                    &plan.layouts[input],
                    [w[1], w[2], w[3]],
                    [o[2], o[3]],
                    (shape.k, shape.n),
                );
                let u = Mle::new(im2col.apply(&self.laid_out(input)?))?;
                let (proof, claims) =
                    matmul::prove(self.backend, (&w_mle, &u), *shape, &claim.point, self.transcript)?;
                self.step.matmul = Some(proof);
                self.wire(&im2col, input, &claims.b.point)
            }
            // y, r, d⁺, d⁻ are unique given x: range checks make them integers in [lo, hi], [0, 2^s),
            // [0, 2^w), and every term is far below the field's size, so a·x + c = 2^s·q + r (q = y + d⁺ -
            // d⁻) holds over the integers and fixes q and r (division with remainder). The zerocheck
            // d⁺·(hi - y) = 0 = d⁻·(y - lo) leaves, for that q, only y = clamp(q, lo, hi): d⁺ > 0 forces
            // y = hi and then d⁻·(hi - lo) = 0 forces d⁻ = 0 (so q > hi); symmetrically below; with both
            // zero, y = q.
            (Step::Rescale(w), QOp::Rescale { shift, bits }) => {
                let Role::Committed(y) = plan.roles[node.output].clone() else {
                    return Err(SumcheckError::Witness("a rescale output is not committed".into()));
                };
                if let Some((dp, dm)) = &w.excess {
                    let beta = self.transcript.challenge();
                    let summand = rescale_excess_summand((dp, dm, &y), *bits, beta);
                    let tables = [segs(dp), segs(dm), segs(&y)].concat();
                    self.zerocheck(&tables, &summand)?;
                }
                let rho = challenges(self.transcript, out_vars);
                let mut q = self.open_quantity(&y, &rho)?;
                let r = match &w.remainder {
                    Some(r) => self.open_quantity(r, &rho)?,
                    None => Fr::ZERO,
                };
                if let Some((dp, dm)) = &w.excess {
                    q += self.open_quantity(dp, &rho)? - self.open_quantity(dm, &rho)?;
                }
                self.claim_value(input, rho, rescale_input(q, r, *shift))
            }
            // y and n are unique given q: both are range-checked non-negative integers below 2^b, y·n = 0
            // makes one of them zero, and y - n = q then leaves y = max(q, 0), n = max(-q, 0).
            (Step::Relu { negative }, QOp::Relu) => {
                let Role::Committed(y) = plan.roles[node.output].clone() else {
                    return Err(SumcheckError::Witness("a ReLU output is not committed".into()));
                };
                let tables = [segs(&y), segs(negative)].concat();
                self.zerocheck(&tables, &product_of_sums(y.limbs.len(), negative.limbs.len()))?;
                let rho = challenges(self.transcript, out_vars);
                let (yv, nv) = (self.open_quantity(&y, &rho)?, self.open_quantity(negative, &rho)?);
                self.claim_value(input, rho, yv - nv)
            }
            // y is unique given the window: every gap y - x_k is a range-checked non-negative integer, so
            // y ≥ max_k x_k, and Π_k gap_k = 0 makes y equal to one of them. Slots past the window repeat
            // a real position, which changes neither condition.
            (Step::MaxPool { gaps, slot_vars }, QOp::MaxPool(params)) => {
                let Role::Committed(y) = plan.roles[node.output].clone() else {
                    return Err(SumcheckError::Witness("a max-pool output is not committed".into()));
                };
                let g = plan.packing.segments[gaps.limbs[0]];
                let slots: Vec<Segment> = (0..1usize << slot_vars)
                    .map(|k| Segment { offset: g.offset + (k << out_vars), vars: out_vars, width: g.width })
                    .collect();
                self.zerocheck(&slots, &Summand::product(slots.len()))?;
                let point = challenges(self.transcript, out_vars + slot_vars);
                self.open_quantity(&y, &point[..out_vars])?;
                self.open_quantity(gaps, &point)?;
                let windows = wiring::pool_windows(
                    params,
                    &plan.layouts[input],
                    &plan.layouts[node.output],
                    *slot_vars,
                )?;
                self.wire(&windows, input, &point)
            }
            (Step::Reshape, _) => {
                let Some(claim) = self.take_claim(node.output)? else { return Ok(()) };
                let w = wiring::reshape(&plan.layouts[input], &plan.layouts[node.output]);
                if w.is_identity() {
                    return self.claim_value(input, claim.point, claim.value);
                }
                self.wire(&w, input, &claim.point)
            }
            _ => Err(SumcheckError::Witness(format!("node `{}` has no step", node.name))),
        }
    }

    /// Every advice limb in its width's range: one logup of the tagged packed values.
    fn range_checks(&mut self) -> Result<logup::LookupProof, SumcheckError> {
        let packing = &self.plan.packing;
        let mut selector = vec![Fr::ZERO; self.packed.len()];
        let mut tagged = self.packed.clone();
        for s in &packing.segments {
            let t = super::packing::tag(s.width);
            for i in s.offset..s.offset + (1 << s.vars) {
                selector[i] = Fr::ONE;
                tagged[i] += t;
            }
        }
        let table = Mle::new(packing.table.entries())?;
        let mult = Mle::new(self.segment(&packing.multiplicities).to_vec())?;
        let (proof, claims) = logup::prove_selected_lookup(
            self.backend,
            (&selector, &Mle::new(tagged)?),
            (&table, &mult),
            self.transcript,
        )?;
        let w = &claims.witness;
        self.packed_claims.push(Claim { value: w.value - packing.tags_at(&w.point), point: w.point.clone() });
        let m = packing.multiplicities;
        let point = packing.lift(&m, &claims.multiplicities.point)?;
        self.packed_claims.push(Claim { point, value: claims.multiplicities.value });
        Ok(proof)
    }
}

/// `d⁺·(2^b - 1 - Y) + β·d⁻·Y` over the limbs `[d⁺…, d⁻…, Y…]`, `Y = y + 2^(b-1)` the encoded output:
/// the two saturation conditions, `d⁺·(hi - y) = 0` and `d⁻·(y - lo) = 0`, at once.
pub(super) fn rescale_excess_summand(
    (dp, dm, y): (&Quantity, &Quantity, &Quantity),
    bits: u32,
    beta: Fr,
) -> Summand {
    let (np, nm) = (dp.limbs.len(), dm.limbs.len());
    let top = pow2(bits) - Fr::ONE;
    let limb = |l: usize| pow2(super::LIMB_BITS * l as u32);
    let mut terms = Vec::new();
    for l in 0..np {
        terms.push((limb(l) * top, vec![l]));
        for m in 0..y.limbs.len() {
            terms.push((-(limb(l) * limb(m)), vec![l, np + nm + m]));
        }
    }
    for l in 0..nm {
        for m in 0..y.limbs.len() {
            terms.push((beta * limb(l) * limb(m), vec![np + l, np + nm + m]));
        }
    }
    Summand { terms }
}

/// `(Σ_l 2^(16l)·A_l)·(Σ_m 2^(16m)·B_m)` over tables `[A…, B…]`.
pub(super) fn product_of_sums(a: usize, b: usize) -> Summand {
    let limb = |l: usize| pow2(super::LIMB_BITS * l as u32);
    let terms = (0..a).flat_map(|l| (0..b).map(move |m| (limb(l) * limb(m), vec![l, a + m]))).collect();
    Summand { terms }
}

/// The rescale's input from `q = y + d⁺ - d⁻` and `r`: `x = 2^s·q + r - 2^(s-1)` for a positive shift,
/// `x = q / 2^(-s)` otherwise.
pub(super) fn rescale_input(q: Fr, r: Fr, shift: i32) -> Fr {
    if shift > 0 {
        let s = shift.unsigned_abs();
        pow2(s) * q + r - pow2(s - 1)
    } else {
        q * pow2(shift.unsigned_abs()).invert().unwrap_or(Fr::ZERO)
    }
}
