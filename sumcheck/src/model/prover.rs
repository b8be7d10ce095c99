//! The prover's walk over the plan. Each step's comment says why the witness it commits is unique given
//! the step's input, so that a claim the verifier accepts about the output pins the input's claim.

use std::time::Instant;

use halo2_base::halo2_proofs::halo2curves::ff::Field;
use poai_circuits::ir::{QGraph, QOp, TableSpec, Tensor, ValueId};
use poai_circuits::Fr;

use super::layout::{self, Real};
use super::packing::{table_block, Quantity, Segment};
use super::plan::{Plan, Role, RowView, Step, TableWitness};
use super::{
    absorb_statement, challenges, decode, limb_weight, masked_softmax, one_hot, pow2, wiring, witness,
    ModelProof, StepProof,
};
use crate::backend::SumcheckBackend;
use crate::hyperkzg::{self, KzgKey};
use crate::matmul::{self, Claim};
use crate::mle::{eq_evals, prefix_indicator_at, signed, Mle};
use crate::sumcheck::Summand;
use crate::transcript::Transcript;
use crate::{claims, logup, sumcheck, zerocheck, SumcheckError};

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
    (graph, bound): (&QGraph, &[Fr]),
    inputs: &[Tensor],
    transcript: &mut T,
) -> Result<(Vec<Tensor>, ModelProof), SumcheckError> {
    let (outputs, proof, _) = prove_with_phases(backend, key, (graph, bound), inputs, transcript)?;
    Ok((outputs, proof))
}

/// Where the prover's time goes, for benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Phases {
    /// Evaluating the graph and packing the witness.
    pub witness: std::time::Duration,
    /// Committing to the packed polynomial.
    pub commit: std::time::Duration,
    /// The backward pass: every node's reductions.
    pub reductions: std::time::Duration,
    /// The range checks' logup.
    pub range_checks: std::time::Duration,
    /// Merging the claims on the packed polynomial.
    pub merge: std::time::Duration,
    /// The HyperKZG opening.
    pub opening: std::time::Duration,
}

/// [`prove`], also returning the time of each phase.
pub fn prove_with_phases<B: SumcheckBackend, T: Transcript>(
    backend: &B,
    key: &KzgKey,
    (graph, bound): (&QGraph, &[Fr]),
    inputs: &[Tensor],
    transcript: &mut T,
) -> Result<(Vec<Tensor>, ModelProof, Phases), SumcheckError> {
    let started = Instant::now();
    let witness = Witness::new(graph, inputs)?;
    let outputs = witness.outputs.clone();
    let witness_time = started.elapsed();
    let (proof, mut phases) = prove_timed(backend, key, (graph, bound), inputs, witness, transcript)?;
    phases.witness = witness_time;
    Ok((outputs, proof, phases))
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
    (graph, bound): (&QGraph, &[Fr]),
    inputs: &[Tensor],
    witness: Witness,
    transcript: &mut T,
) -> Result<ModelProof, SumcheckError> {
    prove_timed(backend, key, (graph, bound), inputs, witness, transcript).map(|(proof, _)| proof)
}

fn prove_timed<B: SumcheckBackend, T: Transcript>(
    backend: &B,
    key: &KzgKey,
    (graph, bound): (&QGraph, &[Fr]),
    inputs: &[Tensor],
    witness: Witness,
    transcript: &mut T,
) -> Result<(ModelProof, Phases), SumcheckError> {
    let mut phases = Phases::default();
    let mut clock = Instant::now();
    let mut lap = |slot: &mut std::time::Duration| {
        *slot = clock.elapsed();
        clock = Instant::now();
    };
    let Witness { plan, trace, packed, outputs } = witness;
    let packed_mle = Mle::new(packed)?;
    let commitment = hyperkzg::commit(key, &packed_mle)?;
    lap(&mut phases.commit);
    absorb_statement(transcript, bound, (inputs, &outputs), &commitment);
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
    lap(&mut phases.reductions);
    let lookup = p.range_checks()?;
    lap(&mut phases.range_checks);
    let packed = Mle::new(p.packed)?;
    let (merge, claim) = claims::prove(backend, &packed, &p.packed_claims, p.transcript)?;
    lap(&mut phases.merge);
    let opening = hyperkzg::open(key, &packed, &claim.point, p.transcript)?;
    lap(&mut phases.opening);
    Ok((ModelProof { commitment, steps, lookup, merge, opening }, phases))
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

    /// The matrix view of a value, as `rows × cols`.
    fn matrix(&self, value: ValueId, (rows, cols): (usize, usize)) -> Result<Mle, SumcheckError> {
        self.stacked(value, (1, rows, cols))
    }

    /// The stacked matrix view of a value, as `batch` matrices of `rows × cols`.
    fn stacked(&self, value: ValueId, dims: (usize, usize, usize)) -> Result<Mle, SumcheckError> {
        let t = witness::tensor(self.graph, &self.trace, value)?;
        Mle::new(layout::batched_matrix(dims, t.data())?)
    }

    fn segment(&self, s: &Segment) -> &[Fr] {
        &self.packed[s.offset..s.offset + (1 << s.vars)]
    }

    /// The decoded values of a quantity over its whole hypercube (zero on the tail), from the packed
    /// polynomial as committed.
    fn decoded(&self, q: &Quantity) -> Vec<Fr> {
        let mut out = vec![Fr::ZERO; 1 << q.vars];
        for (l, chunks) in q.limbs.iter().enumerate() {
            let weight = limb_weight(q, l);
            for (&seg, &(start, _)) in chunks.iter().zip(&q.chunks) {
                let s = self.plan.packing.segments[seg];
                for (o, v) in out[start..start + (1 << s.vars)].iter_mut().zip(self.segment(&s)) {
                    *o += weight * v;
                }
            }
        }
        let bias = signed(q.bias);
        out.iter_mut().take(q.len).for_each(|o| *o -= bias);
        out
    }

    /// Sends every chunk of every limb of `q` at `point`, records them as claims on the packed
    /// polynomial, and returns the quantity's value there.
    fn open_quantity(&mut self, q: &Quantity, point: &[Fr]) -> Result<Fr, SumcheckError> {
        let mut values = Vec::with_capacity(q.limbs.len() * q.chunks.len());
        for chunks in &q.limbs {
            for (&seg, &(_, vars)) in chunks.iter().zip(&q.chunks) {
                let s = self.plan.packing.segments[seg];
                values.push(Mle::new(self.segment(&s).to_vec())?.evaluate(&point[..vars])?);
            }
        }
        self.send(&values);
        record_chunks(self.plan, q, point, &values, &mut self.packed_claims)?;
        Ok(decode(q, point, &values))
    }

    /// Records that `value` has extension `v` at `point`: public and constant values need nothing (the
    /// verifier evaluates them), virtual ones wait for their producer, committed ones become claims on the
    /// packed polynomial (directly, or through their chunks' values).
    fn claim_value(&mut self, value: ValueId, point: Vec<Fr>, v: Fr) -> Result<(), SumcheckError> {
        match &self.plan.roles[value] {
            Role::Input | Role::Const => Ok(()),
            Role::Virtual => {
                self.pending[value].push(Claim { point, value: v });
                Ok(())
            }
            Role::Committed(q) if q.is_plain() => {
                let seg = self.plan.packing.segments[q.limbs[0][0]];
                self.packed_claims.push(Claim { point: self.plan.packing.lift(&seg, &point)?, value: v });
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

    /// Zerocheck of `summand` over the decoded quantities `tables` (each read at a fixed low slot), and
    /// after them, with `mask`, the public indicator of the real positions; sends the
    /// quantities' values at its point and claims them.
    fn zerocheck(
        &mut self,
        tables: &[View],
        mask: Option<Real>,
        summand: &Summand,
    ) -> Result<(), SumcheckError> {
        let mles = tables
            .iter()
            .map(|t| self.decoded(&t.quantity).into_iter().skip(t.slot).step_by(1 << t.slot_vars).collect())
            .collect();
        let (point, evals) = self.zerocheck_tables(mles, mask, summand)?;
        for (t, &value) in tables.iter().zip(&evals) {
            self.claim_view(t, &point, value)?;
        }
        Ok(())
    }

    /// Zerocheck of `summand` over `tables` (with `mask`, the public indicator of the real positions
    /// after them); sends the tables' values at its point and returns the point and the values, for the
    /// caller to claim.
    fn zerocheck_tables(
        &mut self,
        tables: Vec<Vec<Fr>>,
        mask: Option<Real>,
        summand: &Summand,
    ) -> Result<(Vec<Fr>, Vec<Fr>), SumcheckError> {
        let count = tables.len();
        let mut mles = tables.into_iter().map(Mle::new).collect::<Result<Vec<_>, _>>()?;
        if let Some(real) = mask {
            let vars = mles.first().map_or(0, Mle::vars);
            mles.push(Mle::new(real.values(vars))?);
        }
        let proved = zerocheck::prove(self.backend, mles, summand, self.transcript)?;
        self.step.sumchecks.push(proved.proof);
        self.send(&proved.evals[..count]);
        Ok((proved.point, proved.evals[..count].to_vec()))
    }

    /// When an op's output is committed over a row view that is not its flat layout, moves the claims
    /// on the output onto the view and claims the view's quantity there.
    fn claim_view_output(&mut self, out: ValueId, view: RowView, q: &Quantity) -> Result<(), SumcheckError> {
        if self.plan.roles[out] != Role::Virtual {
            return Ok(());
        }
        let Some(claim) = self.take_claim(out)? else { return Ok(()) };
        let claim = self.onto_stacked_view(claim, out, view.dims())?;
        self.claim_known(q, &claim.point, claim.value)
    }

    /// The product sumcheck over `[eq(ρ, ·), a, b]` (its sum the verifier holds): sends `ã` and `b̃` at
    /// its point and returns the point with them.
    fn eq_product(&mut self, tables: Vec<Mle>) -> Result<(Vec<Fr>, [Fr; 2]), SumcheckError> {
        let proved = sumcheck::prove(self.backend, tables, self.transcript)?;
        self.step.sumchecks.push(proved.proof);
        let values = [proved.evals[1], proved.evals[2]];
        self.send(&values);
        Ok((proved.point, values))
    }

    /// Claims `q` at `point` with the value the verifier already holds.
    fn claim_known(&mut self, q: &Quantity, point: &[Fr], value: Fr) -> Result<(), SumcheckError> {
        self.claim_view(&View { quantity: q.clone(), slot: 0, slot_vars: 0 }, point, value)
    }

    /// A function table's argument over the `real` positions: the interpolation's rounding, the
    /// lookup of `(q, c, d)` rows, and `q`, `r` opened at a fresh point; returns the point and the table
    /// input's value there, `2^f·q + r`. The claim on the output `c + t` is the caller's.
    fn table_argument(
        &mut self,
        w: &TableWitness,
        spec: &TableSpec,
        real: Real,
    ) -> Result<(Vec<Fr>, Fr), SumcheckError> {
        let plan = self.plan;
        let view = |q: &Quantity| View { quantity: q.clone(), slot: 0, slot_vars: 0 };
        if let Some([r, d, t, e]) = &w.interpolation {
            let tables = [view(d), view(r), view(t), view(e)];
            self.zerocheck(&tables, Some(real), &interpolation_summand(spec.interp_bits))?;
        }
        let gamma = self.transcript.challenge();
        let keys: Vec<&Quantity> = match &w.interpolation {
            Some([_, d, _, _]) => vec![&w.index, &w.entry, d],
            None => vec![&w.index, &w.entry],
        };
        let columns: Vec<Vec<Fr>> = keys.iter().map(|q| self.decoded(q)).collect();
        let witness = combine_columns(&columns, gamma);
        let selector = real.values(w.index.vars);
        let table = Mle::new(table_keys(spec, keys.len(), gamma))?;
        let m = plan.packing.unchecked[w.multiplicities];
        let mult = Mle::new(self.segment(&m).to_vec())?;
        let (proof, claims) = logup::prove_selected_lookup(
            self.backend,
            (&selector, &Mle::new(witness)?),
            &[(&table, &mult)],
            self.transcript,
        )?;
        self.step.lookup = Some(proof);
        for q in keys {
            self.open_quantity(q, &claims.witness.point)?;
        }
        let mc = &claims.multiplicities[0];
        self.packed_claims.push(Claim { point: plan.packing.lift(&m, &mc.point)?, value: mc.value });
        let rho = challenges(self.transcript, w.index.vars);
        let q = self.open_quantity(&w.index, &rho)?;
        let r = match &w.interpolation {
            Some([r, ..]) => self.open_quantity(r, &rho)?,
            None => Fr::ZERO,
        };
        Ok((rho, pow2(spec.interp_bits) * q + r))
    }

    fn claim_view(&mut self, t: &View, point: &[Fr], value: Fr) -> Result<(), SumcheckError> {
        let full = t.point(point);
        if t.quantity.is_plain() {
            let seg = self.plan.packing.segments[t.quantity.limbs[0][0]];
            self.packed_claims.push(Claim { point: self.plan.packing.lift(&seg, &full)?, value });
            return Ok(());
        }
        self.open_quantity(&t.quantity, &full).map(|_| ())
    }

    /// A claim on `U = G·x` at `point` (with `x`'s values) reduced to a claim on `x`, sent.
    fn wire_values(&mut self, w: &wiring::Wiring, xs: &[Fr], point: &[Fr]) -> Result<Claim, SumcheckError> {
        let (proof, claim) = wiring::prove(self.backend, w, xs, point, self.transcript)?;
        self.step.sumchecks.push(proof);
        self.send(&[claim.value]);
        Ok(claim)
    }

    fn wire(&mut self, w: &wiring::Wiring, x: ValueId, point: &[Fr]) -> Result<(), SumcheckError> {
        let xs = self.laid_out(x)?;
        let claim = self.wire_values(w, &xs, point)?;
        self.claim_value(x, claim.point, claim.value)
    }

    /// A claim on the flat `C` moved to its matrix view (`rows × cols`) when they differ.
    fn onto_matrix_view(
        &mut self,
        claim: Claim,
        c: ValueId,
        (rows, cols): (usize, usize),
    ) -> Result<Claim, SumcheckError> {
        self.onto_stacked_view(claim, c, (1, rows, cols))
    }

    /// A claim on the flat `C` moved to its stacked matrix view when they differ.
    fn onto_stacked_view(
        &mut self,
        claim: Claim,
        c: ValueId,
        dims: (usize, usize, usize),
    ) -> Result<Claim, SumcheckError> {
        match layout::batched_matrix_wiring(dims, true) {
            None => Ok(claim),
            Some(w) => {
                let mat = self.stacked(c, dims)?;
                self.wire_values(&w, mat.evals(), &claim.point)
            }
        }
    }

    /// A claim on the matrix view of `a` (`rows × cols`) moved to its flat layout.
    fn back_to_flat(
        &mut self,
        claim: Claim,
        a: ValueId,
        (rows, cols): (usize, usize),
    ) -> Result<(), SumcheckError> {
        self.stacked_back_to_flat(claim, a, (1, rows, cols))
    }

    /// A claim on the stacked matrix view of `a` moved to its flat layout.
    fn stacked_back_to_flat(
        &mut self,
        claim: Claim,
        a: ValueId,
        dims: (usize, usize, usize),
    ) -> Result<(), SumcheckError> {
        match layout::batched_matrix_wiring(dims, false) {
            None => self.claim_value(a, claim.point, claim.value),
            Some(w) => self.wire(&w, a, &claim.point),
        }
    }

    /// An operand's values broadcast to the output's layout.
    fn broadcast_values(&self, operand: ValueId, out: ValueId) -> Result<Vec<Fr>, SumcheckError> {
        let xs = self.laid_out(operand)?;
        Ok(match wiring::broadcast(&self.plan.layouts[operand], &self.plan.layouts[out]) {
            Some(w) => w.apply(&xs),
            None => xs,
        })
    }

    /// An operand (broadcast to the output) at `point`.
    fn operand_at(&self, operand: ValueId, out: ValueId, point: &[Fr]) -> Result<Fr, SumcheckError> {
        Mle::new(self.broadcast_values(operand, out)?)?.evaluate(point)
    }

    /// Claims an operand (broadcast to the output) at `point`: directly, or through its broadcast wiring.
    fn operand_claim(&mut self, operand: ValueId, out: ValueId, point: &[Fr]) -> Result<(), SumcheckError> {
        match wiring::broadcast(&self.plan.layouts[operand], &self.plan.layouts[out]) {
            None => {
                let value = self.operand_at(operand, out, point)?;
                self.claim_value(operand, point.to_vec(), value)
            }
            Some(w) => self.wire(&w, operand, point),
        }
    }

    fn node(&mut self, index: usize) -> Result<(), SumcheckError> {
        let (graph, plan) = (self.graph, self.plan);
        let node = &graph.nodes[index];
        let input = node.inputs[0];
        let out_vars = plan.layouts[node.output].vars();
        let view = |q: &Quantity| View { quantity: q.clone(), slot: 0, slot_vars: 0 };
        match (&plan.steps[index], &node.op) {
            // C = A·B + bias: the product sumcheck pins Ã and B̃ at a random point (B is constant, so the
            // verifier evaluates it); no witness is committed.
            (Step::MatMul { shape, dims: (m, k, n) }, _) => {
                let Some(claim) = self.take_claim(node.output)? else { return Ok(()) };
                let claim = self.onto_matrix_view(claim, node.output, (*m, *n))?;
                let a = self.matrix(input, (*m, *k))?;
                let b = self.matrix(node.inputs[1], (*k, *n))?;
                let (proof, claims) =
                    matmul::prove(self.backend, (&a, &b), *shape, &claim.point, self.transcript)?;
                self.step.matmul = Some(proof);
                self.back_to_flat(claims.a, input, (*m, *k))?;
                self.back_to_flat(claims.b, node.inputs[1], (*k, *n))
            }
            // C[b] = A[b]·B[b]: at the claim's point (ρ_j, ρ_i, ρ_b) on the stacked view, C̃ = Σ_(k, b)
            // eq(ρ_b, b)·Ã(b, ρ_i, k)·B̃(b, k, ρ_j), a product sumcheck over (k, b) that pins Ã and B̃ at
            // one point each (sent, then moved to the operands). Nothing is committed.
            (Step::BatchedMatMul { dims: (batch, m, k, n) }, _) => {
                let Some(claim) = self.take_claim(node.output)? else { return Ok(()) };
                let claim = self.onto_stacked_view(claim, node.output, (*batch, *m, *n))?;
                let (mb, kb, nb) = (layout::log2_ceil(*m), layout::log2_ceil(*k), layout::log2_ceil(*n));
                let (rho_j, rest) = claim.point.split_at(nb);
                let (rho_i, rho_b) = rest.split_at(mb);
                let a = self.stacked(input, (*batch, *m, *k))?;
                let b = self.stacked(node.inputs[1], (*batch, *k, *n))?;
                let tables =
                    batched_product_tables((a.evals(), b.evals()), (rho_i, rho_j, rho_b), (mb, kb, nb));
                let proved = sumcheck::prove(self.backend, tables?, self.transcript)?;
                self.step.sumchecks.push(proved.proof);
                self.send(&proved.evals[1..]);
                let (r_k, r_b) = proved.point.split_at(kb);
                let a_point = [r_k, rho_i, r_b].concat();
                let b_point = [rho_j, r_k, r_b].concat();
                let a_claim = Claim { point: a_point, value: proved.evals[1] };
                self.stacked_back_to_flat(a_claim, input, (*batch, *m, *k))?;
                let b_claim = Claim { point: b_point, value: proved.evals[2] };
                self.stacked_back_to_flat(b_claim, node.inputs[1], (*batch, *k, *n))
            }
            // O = W·Uᵀ + bias with Uᵀ the im2col wiring of x: a product sumcheck, then a wiring sumcheck.
            (Step::Conv { shape, dims: (maps, patch, positions) }, QOp::Conv(params)) => {
                let Some(claim) = self.take_claim(node.output)? else { return Ok(()) };
                let claim = self.onto_matrix_view(claim, node.output, (*maps, *positions))?;
                let w = &graph.values[node.inputs[1]].shape;
                let weights = self.matrix(node.inputs[1], (*maps, *patch))?;
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
                    matmul::prove(self.backend, (&weights, &u), *shape, &claim.point, self.transcript)?;
                self.step.matmul = Some(proof);
                self.wire(&im2col, input, &claims.b.point)
            }
            // y, r and e are unique given x. Range checks make them integers in [lo, hi], [0, 2^s) and
            // [0, 2^w). The zerocheck e·(hi - y)·(y - lo) = 0 leaves e = 0 unless y is lo or hi, where
            // σ(y) = (2y - hi - lo)/(hi - lo) is -1 or +1; so q = y + e·σ(y) is an integer, in [lo, hi]
            // (e = 0), at least hi (y = hi) or at most lo (y = lo). Every term is far below the field's
            // size, so a·x + c = 2^s·q + r holds over the integers and fixes q and r (division with
            // remainder). For that q, e ≥ 0 rules out y = hi below hi and y = lo above lo, which leaves
            // only y = clamp(q, lo, hi) and e = |q - y|. With a fused ReLU the range is [0, hi]
            // (max(clamp(q, lo, hi), 0) = clamp(q, 0, hi)), the same argument. The relation is checked
            // at a random point ρ: q̃(ρ) = ỹ(ρ) + (2·(e·y)~(ρ) - (hi + lo)·ẽ(ρ))/(hi - lo), with (e·y)~(ρ)
            // sent and proven by a product sumcheck. On the tail every value is zero and the constant c
            // is masked off.
            (Step::Rescale(w), QOp::Rescale { shift, .. }) => {
                let Role::Committed(y) = plan.roles[w.output].clone() else {
                    return Err(SumcheckError::Witness("a rescale output is not committed".into()));
                };
                if let Some(e) = &w.excess {
                    self.zerocheck(&[view(e), view(&y)], None, &rescale_excess_summand(w.range))?;
                }
                let rho = challenges(self.transcript, out_vars);
                let mut q = self.open_quantity(&y, &rho)?;
                let r = match &w.remainder {
                    Some(r) => self.open_quantity(r, &rho)?,
                    None => Fr::ZERO,
                };
                if let Some(e) = &w.excess {
                    let e_at = self.open_quantity(e, &rho)?;
                    let tables = vec![
                        Mle::new(eq_evals(&rho))?,
                        Mle::new(self.decoded(e))?,
                        Mle::new(self.decoded(&y))?,
                    ];
                    let product = sumcheck::product_sum(&tables)?;
                    self.send(&[product]);
                    let (point, [e_value, y_value]) = self.eq_product(tables)?;
                    self.claim_known(e, &point, e_value)?;
                    self.claim_known(&y, &point, y_value)?;
                    q += saturation_offset(w.range, e_at, product);
                }
                let real = plan.layouts[node.output].real_at(&rho);
                self.claim_value(input, rho, rescale_input(q, r, *shift, real))
            }
            // y and n are unique given q: both are range-checked non-negative integers below 2^b, y·n = 0
            // makes one of them zero, and y - n = q then leaves y = max(q, 0), n = max(-q, 0).
            (Step::Relu { negative }, QOp::Relu) => {
                let Role::Committed(y) = plan.roles[node.output].clone() else {
                    return Err(SumcheckError::Witness("a ReLU output is not committed".into()));
                };
                self.zerocheck(&[view(&y), view(negative)], None, &Summand::product(2))?;
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
                let slots: Vec<View> = (0..1usize << slot_vars)
                    .map(|slot| View { quantity: gaps.clone(), slot, slot_vars: *slot_vars })
                    .collect();
                self.zerocheck(&slots, None, &Summand::product(slots.len()))?;
                let point = challenges(self.transcript, slot_vars + out_vars);
                self.open_quantity(&y, &point[*slot_vars..])?;
                self.open_quantity(gaps, &point)?;
                let windows = wiring::pool_windows(
                    params,
                    &plan.layouts[input],
                    &plan.layouts[node.output],
                    *slot_vars,
                )?;
                self.wire(&windows, input, &point)
            }
            // q and r are unique given x (division with a range-checked remainder; x is inside the
            // domain, which the plan checks from its format); the lookup makes (q, c, d) a row of the
            // table, and rows have distinct q, so c and d are the row's (up to the random γ's
            // Schwartz-Zippel error); t and e are unique given d and r (division by 2^f with a
            // range-checked remainder, every term far below the field's size). So y = c + t is unique.
            (Step::Table(w), QOp::Table(spec)) => {
                if let Some(claim) = self.take_claim(node.output)? {
                    self.open_quantity(&w.entry, &claim.point)?;
                    if let Some([_, _, t, _]) = &w.interpolation {
                        self.open_quantity(t, &claim.point)?;
                    }
                }
                let (rho, x) = self.table_argument(w, spec, Real::Prefix(plan.layouts[node.output].len()))?;
                self.claim_value(input, rho, x)
            }
            // Per row: m is unique given x (every gap m - x_j is a range-checked non-negative integer, so
            // m ≥ max_j x_j, and Π_j g_j = 0 over the real slots makes m one of them); e = exp(-g) is the
            // table's at every real position (its argument above); s = Σ_j e_j over the real slots (a sum
            // wiring) is fixed by e; y and r are unique given e and s: 2^(out+1)·e + s = 2s·y + r with r
            // and 2s - 1 - r range-checked non-negative is division with remainder (so s ≥ 1), every term
            // far below the field's size. Padding (slots past a row's length, rows past the last) relates
            // only to padding: the sum and the output's wiring read real slots alone.
            (Step::Softmax(w), QOp::Softmax { exp, out_scale, .. }) => {
                let view = w.view;
                let lb = view.slot_vars;
                let keep = w.keep.as_deref();
                match keep {
                    None => self.claim_view_output(node.output, view, &w.output)?,
                    Some(keep) => {
                        if let Some(claim) = self.take_claim(node.output)? {
                            let flat = plan.layouts[node.output].vars();
                            let wiring = masked_softmax::output_wiring(view, keep, flat);
                            let ys = self.decoded(&w.output);
                            let c = self.wire_values(&wiring, &ys, &claim.point)?;
                            self.claim_known(&w.output, &c.point, c.value)?;
                        }
                    }
                }
                let entry = self.decoded(&w.exp.entry);
                let step = w.exp.interpolation.as_ref().map(|[_, _, t, _]| self.decoded(t));
                let mut e = entry.clone();
                if let Some(t) = &step {
                    e.iter_mut().zip(t).for_each(|(a, b)| *a += b);
                }
                let row_sum =
                    keep.map_or_else(|| row_sum_wiring(view), |k| masked_softmax::row_sum_wiring(view, k));
                let sums = broadcast_rows(&row_sum.apply(&e), lb);
                let mut tables = vec![sums, self.decoded(&w.output), self.decoded(&w.remainder), entry];
                tables.extend(step);
                let summand = division_summand(*out_scale, tables.len() - 3);
                let (zeta, evals) = self.zerocheck_tables(tables, None, &summand)?;
                self.claim_known(&w.output, &zeta, evals[1])?;
                self.claim_known(&w.remainder, &zeta, evals[2])?;
                self.claim_known(&w.exp.entry, &zeta, evals[3])?;
                if let Some([_, _, t, _]) = &w.exp.interpolation {
                    self.claim_known(t, &zeta, evals[4])?;
                }
                self.open_quantity(&w.complement, &zeta)?;
                let claim = self.wire_values(&row_sum, &e, &zeta[lb..])?;
                self.open_quantity(&w.exp.entry, &claim.point)?;
                if let Some([_, _, t, _]) = &w.exp.interpolation {
                    self.open_quantity(t, &claim.point)?;
                }
                let (rho, negated) = self.table_argument(&w.exp, exp, view.real())?;
                self.claim_known(&w.gaps, &rho, -negated)?;
                let slots: Vec<View> = (0..view.len)
                    .map(|slot| View { quantity: w.gaps.clone(), slot, slot_vars: lb })
                    .collect();
                self.zerocheck(&slots, None, &Summand::product(slots.len()))?;
                let point = challenges(self.transcript, w.gaps.vars);
                let Some(keep) = keep else {
                    let m = self.open_quantity(&w.max, &point[lb..])?;
                    let g = self.open_quantity(&w.gaps, &point)?;
                    let value = m * prefix_indicator_at(view.len, &point[..lb]) - g;
                    return self.stacked_back_to_flat(Claim { point, value }, input, view.dims());
                };
                // W_K(x) = m·K - g + M at the point; (m·K)~ by a product sumcheck over the rows.
                self.open_quantity(&w.gaps, &point)?;
                let (ms, h) = (self.decoded(&w.max), masked_softmax::max_weights(view, keep, &point));
                let c: Fr = ms.iter().zip(&h).map(|(a, b)| *a * b).sum();
                self.send(&[c]);
                let proved =
                    sumcheck::prove(self.backend, vec![Mle::new(ms)?, Mle::new(h)?], self.transcript)?;
                self.step.sumchecks.push(proved.proof);
                self.open_quantity(&w.max, &proved.point)?;
                let wiring = masked_softmax::input_wiring(view, keep, plan.layouts[input].vars());
                self.wire(&wiring, input, &point)
            }
            // Per row, with n the row's length: μ and its remainder are unique given Σx (division with a
            // range-checked remainder and complement), so d = x - μ is; v likewise given Σd²; s is unique
            // given v: the slacks a = 4(v + ε) - (2s - 1)² and b = (2s + 1)² - 1 - 4(v + ε) are
            // range-checked non-negative (a is a zerocheck, a + b = 8s - 1 a random-point check), which
            // leaves only s = round(sqrt(v + ε)) ≥ 1; y and r are unique given d and s (division with
            // remainder, as in Softmax). On the row view x's padding is zero (a wiring of x), so Σx is
            // 2^lb·x̃ at ½ on the row's variables and Σd² a product sumcheck of eq·d·d, with d = x - μ on
            // real slots only. Every term is far below the field's size.
            (Step::LayerNorm(w), QOp::LayerNorm { eps, out_scale, .. }) => {
                let view = w.view;
                let lb = view.slot_vars;
                self.claim_view_output(node.output, view, &w.output)?;
                let [mean, mean_r, mean_c] = &w.mean;
                let [var, var_r, var_c] = &w.variance;
                let [sd, below, above] = &w.deviation;
                let [rem, rem_c] = &w.division;
                let xs = self.stacked(input, view.dims())?;
                let slot_real = Real::Prefix(view.len).values(lb);
                let means = broadcast_rows(&self.decoded(mean), lb);
                let d: Vec<Fr> = xs
                    .evals()
                    .iter()
                    .zip(&means)
                    .enumerate()
                    .map(|(i, (x, m))| *x - *m * slot_real[i & ((1 << lb) - 1)])
                    .collect();
                let deviations = broadcast_rows(&self.decoded(sd), lb);
                let tables = vec![deviations, self.decoded(&w.output), self.decoded(rem), d.clone()];
                let (zeta, evals) = self.zerocheck_tables(tables, None, &division_summand(*out_scale, 1))?;
                self.claim_known(sd, &zeta[lb..], evals[0])?;
                self.claim_known(&w.output, &zeta, evals[1])?;
                self.claim_known(rem, &zeta, evals[2])?;
                self.open_quantity(rem_c, &zeta)?;
                let mu = self.open_quantity(mean, &zeta[lb..])?;
                let value = evals[3] + mu * prefix_indicator_at(view.len, &zeta[..lb]);
                self.stacked_back_to_flat(Claim { point: zeta, value }, input, view.dims())?;

                let rows = view.rows;
                let tables = vec![self.decoded(below), self.decoded(sd), self.decoded(var)];
                let (eta, evals) =
                    self.zerocheck_tables(tables, Some(Real::Prefix(rows)), &deviation_summand(*eps))?;
                self.claim_known(below, &eta, evals[0])?;
                self.claim_known(sd, &eta, evals[1])?;
                self.claim_known(var, &eta, evals[2])?;
                self.open_quantity(above, &eta)?;
                self.open_quantity(var_r, &eta)?;
                self.open_quantity(var_c, &eta)?;
                let eq_rows = broadcast_rows(&eq_evals(&eta), lb);
                let tables = vec![Mle::new(eq_rows)?, Mle::new(d.clone())?, Mle::new(d)?];
                let proved = sumcheck::prove(self.backend, tables, self.transcript)?;
                self.step.sumchecks.push(proved.proof);
                self.send(&[proved.evals[1]]);
                let point = proved.point;
                let mu = self.open_quantity(mean, &point[lb..])?;
                let value = proved.evals[1] + mu * prefix_indicator_at(view.len, &point[..lb]);
                self.stacked_back_to_flat(Claim { point, value }, input, view.dims())?;

                let mu = self.open_quantity(mean, &eta)?;
                let r = self.open_quantity(mean_r, &eta)?;
                self.open_quantity(mean_c, &eta)?;
                let n = Fr::from(view.len as u64);
                let real = prefix_indicator_at(rows, &eta);
                // Σ_j x(j, η) = 2^lb·x̃(½, …, ½, η) = (2n·μ + r - n) / 2 on real rows.
                let x_at_half =
                    (n * (mu + mu) + r - n * real) * pow2(lb as u32 + 1).invert().unwrap_or(Fr::ZERO);
                let claim = Claim { point: half_on_row(&eta, lb), value: x_at_half };
                self.stacked_back_to_flat(claim, input, view.dims())
            }
            // O(m, p) = Σ_j W(m, j)·U(m, j, p) + bias with U the per-map im2col wiring of x: bound at the
            // claim's point, a product sumcheck over (j, m) of eq(ρ_m, m)·W(m, j)·Ũ(m, j, ρ_p) pins Ũ at
            // one point, which the wiring reduces to x. Nothing is committed.
            (Step::GroupedConv { dims: (maps, patch, positions), bits: (_, jb, pb) }, QOp::Conv(_)) => {
                let Some(claim) = self.take_claim(node.output)? else { return Ok(()) };
                let claim = self.onto_matrix_view(claim, node.output, (*maps, *positions))?;
                let (rho_p, rho_m) = claim.point.split_at(*pb);
                let im2col = grouped_wiring(graph, plan, node, (*jb, *pb))?;
                let xs = self.laid_out(input)?;
                let eq_p = eq_evals(rho_p);
                let low = (1usize << pb) - 1;
                let mut bound = vec![Fr::ZERO; 1 << (im2col.out_vars - pb)];
                im2col.pairs.iter().for_each(|&(u, i)| bound[u >> pb] += eq_p[u & low] * xs[i]);
                let eq_m = eq_evals(rho_m);
                let eq_table: Vec<Fr> = (0..bound.len()).map(|t| eq_m[t >> jb]).collect();
                let weights = self.matrix(node.inputs[1], (*maps, *patch))?;
                let tables = vec![Mle::new(eq_table)?, weights, Mle::new(bound)?];
                let proved = sumcheck::prove(self.backend, tables, self.transcript)?;
                self.step.sumchecks.push(proved.proof);
                self.send(&[proved.evals[2]]);
                let point: Vec<Fr> = rho_p.iter().chain(&proved.point).copied().collect();
                self.wire(&im2col, input, &point)
            }
            // y and r are unique given the sum S: 2·S + n = 2n·y + r with 0 ≤ r ≤ 2n - 1 (r and its
            // complement both range-checked non-negative) is division with remainder; y is range-checked,
            // so nothing wraps. The sum is a wiring of x.
            (Step::Mean { remainder, complement, .. }, op) => {
                let Role::Committed(y) = plan.roles[node.output].clone() else {
                    return Err(SumcheckError::Witness("a mean's output is not committed".into()));
                };
                let rho = challenges(self.transcript, out_vars);
                self.open_quantity(&y, &rho)?;
                self.open_quantity(remainder, &rho)?;
                self.open_quantity(complement, &rho)?;
                let sums = mean_wiring(plan, node, op)?;
                self.wire(&sums, input, &rho)
            }
            // The rows are bits (1-bit quantity) whose sums and index sums match the ids at random ρ, λ:
            // unique, see `one_hot.rs`.
            (Step::OneHot { depth }, _) => {
                let x = &plan.layouts[input];
                let rho = challenges(self.transcript, x.vars());
                let lambda = self.transcript.challenge();
                let xv = Mle::new(self.laid_out(input)?)?.evaluate(&rho)?;
                self.send(&[xv]);
                let Role::Committed(o) = &plan.roles[node.output] else {
                    return Err(SumcheckError::Witness("a one-hot output is not committed".into()));
                };
                let h = one_hot::weights(*depth, x.len(), out_vars, &rho, lambda);
                let tables = vec![Mle::new(self.decoded(o))?, Mle::new(h)?];
                let proved = sumcheck::prove(self.backend, tables, self.transcript)?;
                self.step.sumchecks.push(proved.proof);
                self.send(&[proved.evals[0]]);
                self.claim_value(node.output, proved.point, proved.evals[0])?;
                self.claim_value(input, rho, xv)
            }
            // A data movement: every output value is one input value, so a claim moves through the
            // wiring and nothing is committed.
            (Step::Move, op) => {
                let Some(claim) = self.take_claim(node.output)? else { return Ok(()) };
                let w = wiring::moved(&plan.layouts[input], &plan.layouts[node.output], op)?;
                self.wire(&w, input, &claim.point)
            }
            // ỹ(ρ) = Σ_k (G_k·x_k)~(ρ): the prover sends every region's value but the last (which the
            // claim fixes), then each moves through its wiring. A wrong part shifts another by as much,
            // and each is checked against its own input.
            (Step::Concat, op) => {
                let Some(claim) = self.take_claim(node.output)? else { return Ok(()) };
                let layouts: Vec<&layout::Layout> = node.inputs.iter().map(|&i| &plan.layouts[i]).collect();
                let wirings = wiring::concat(&layouts, &plan.layouts[node.output], op)?;
                let mut parts = Vec::with_capacity(wirings.len());
                for (w, &x) in wirings.iter().zip(&node.inputs) {
                    parts.push(Mle::new(w.apply(&self.laid_out(x)?))?.evaluate(&claim.point)?);
                }
                self.send(&parts[..parts.len().saturating_sub(1)]);
                for (w, &x) in wirings.iter().zip(&node.inputs) {
                    self.wire(w, x, &claim.point)?;
                }
                Ok(())
            }
            // y = a ± b: the prover sends ã at the claim's point (b̃ follows); broadcast operands move
            // their claims through their wirings.
            (Step::AddSub, _) => {
                let Some(claim) = self.take_claim(node.output)? else { return Ok(()) };
                let a = self.operand_at(node.inputs[0], node.output, &claim.point)?;
                self.send(&[a]);
                self.operand_claim(node.inputs[0], node.output, &claim.point)?;
                self.operand_claim(node.inputs[1], node.output, &claim.point)
            }
            // y = a·b: Σ_o eq(ρ, o)·a(o)·b(o) = ỹ(ρ) by a product sumcheck over the output, leaving both
            // operands (broadcast to the output) at one point, sent.
            (Step::Mul, _) => {
                let Some(claim) = self.take_claim(node.output)? else { return Ok(()) };
                let (a, b) = (
                    self.broadcast_values(node.inputs[0], node.output)?,
                    self.broadcast_values(node.inputs[1], node.output)?,
                );
                let tables = vec![Mle::new(eq_evals(&claim.point))?, Mle::new(a)?, Mle::new(b)?];
                let (point, _) = self.eq_product(tables)?;
                self.operand_claim(node.inputs[0], node.output, &point)?;
                self.operand_claim(node.inputs[1], node.output, &point)
            }
            // The rescale before it committed this ReLU's output and proves it.
            (Step::Fused, _) => Ok(()),
            // The flat layout is the same for every shape.
            (Step::Reshape, _) => match self.take_claim(node.output)? {
                Some(claim) => self.claim_value(input, claim.point, claim.value),
                None => Ok(()),
            },
            _ => Err(SumcheckError::Witness(format!("node `{}` has no step", node.name))),
        }
    }

    /// Every advice limb in its width's range: one logup of the tagged packed values into the blocks of
    /// the widths in use.
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
        let blocks = packing
            .multiplicities
            .iter()
            .map(|(w, m)| Ok((Mle::new(table_block(*w))?, Mle::new(self.segment(m).to_vec())?)))
            .collect::<Result<Vec<_>, SumcheckError>>()?;
        let refs: Vec<(&Mle, &Mle)> = blocks.iter().map(|(t, m)| (t, m)).collect();
        let (proof, claims) = logup::prove_selected_lookup(
            self.backend,
            (&selector, &Mle::new(tagged)?),
            &refs,
            self.transcript,
        )?;
        let w = &claims.witness;
        self.packed_claims.push(Claim { value: w.value - packing.tags_at(&w.point), point: w.point.clone() });
        for ((_, m), c) in packing.multiplicities.iter().zip(&claims.multiplicities) {
            self.packed_claims.push(Claim { point: packing.lift(m, &c.point)?, value: c.value });
        }
        Ok(proof)
    }
}

/// The tables of a batched product's sumcheck over (inner `k`, batch `b`): `eq(ρ_b, b)`, `A` bound at
/// `ρ_i` and `B` bound at `ρ_j` (stacked views of `[b, i, k]` and `[b, k, j]`).
fn batched_product_tables(
    (a, b): (&[Fr], &[Fr]),
    (rho_i, rho_j, rho_b): (&[Fr], &[Fr], &[Fr]),
    (mb, kb, nb): (usize, usize, usize),
) -> Result<Vec<Mle>, SumcheckError> {
    let size = 1usize << (rho_b.len() + kb);
    let (eq_i, eq_j, eq_b) = (eq_evals(rho_i), eq_evals(rho_j), eq_evals(rho_b));
    let (mut a_bound, mut b_bound) = (vec![Fr::ZERO; size], vec![Fr::ZERO; size]);
    for (idx, v) in a.iter().enumerate() {
        let (kk, i, batch) = (idx & ((1 << kb) - 1), (idx >> kb) & ((1 << mb) - 1), idx >> (kb + mb));
        a_bound[(batch << kb) | kk] += eq_i[i] * v;
    }
    for (idx, v) in b.iter().enumerate() {
        let (j, kk, batch) = (idx & ((1 << nb) - 1), (idx >> nb) & ((1 << kb) - 1), idx >> (nb + kb));
        b_bound[(batch << kb) | kk] += eq_j[j] * v;
    }
    let eq_table = (0..size).map(|t| eq_b[t >> kb]).collect();
    Ok(vec![Mle::new(eq_table)?, Mle::new(a_bound)?, Mle::new(b_bound)?])
}

/// The per-map im2col wiring of a grouped convolution node.
pub(super) fn grouped_wiring(
    graph: &QGraph,
    plan: &Plan,
    node: &poai_circuits::ir::QNode,
    (jb, pb): (usize, usize),
) -> Result<wiring::Wiring, SumcheckError> {
    let QOp::Conv(params) = &node.op else {
        return Err(SumcheckError::Shape(format!("node `{}` is not a convolution", node.name)));
    };
    let w = &graph.values[node.inputs[1]].shape;
    let o = plan.layouts[node.output].dims();
    Ok(wiring::grouped_im2col(
        params,
        &plan.layouts[node.inputs[0]],
        [w[0], w[1], w[2], w[3]],
        [o[2], o[3]],
        (jb, pb),
    ))
}

/// The sum wiring of a mean node (its windows' or its axes' sums).
pub(super) fn mean_wiring(
    plan: &Plan,
    node: &poai_circuits::ir::QNode,
    op: &QOp,
) -> Result<wiring::Wiring, SumcheckError> {
    let (x, out) = (&plan.layouts[node.inputs[0]], &plan.layouts[node.output]);
    match op {
        QOp::AvgPool(params) => Ok(wiring::window_sums(params, x, out)?.0),
        QOp::ReduceMean { axes, .. } => Ok(wiring::axis_sums(x, axes, out.vars()).0),
        _ => Err(SumcheckError::Shape(format!("node `{}` is not a mean", node.name))),
    }
}

/// `s - 2·s·y - r + 2^(out+1)·Σ_k n_k` over `[s, y, r, n_1, …, n_numerators]`: a rounded division
/// `y = round(2^out·n / s)` with remainder `r` (`n` the sum of the numerator tables).
pub(super) fn division_summand(out_scale: u32, numerators: usize) -> Summand {
    let mut terms = vec![(Fr::ONE, vec![0]), (-Fr::from(2), vec![0, 1]), (-Fr::ONE, vec![2])];
    terms.extend((0..numerators).map(|k| (pow2(out_scale + 1), vec![3 + k])));
    Summand { terms }
}

/// `a - 4v + 4s² - 4s + (1 - 4ε)·real` over `[a, s, v, real]`: the lower slack of `s = round(sqrt(v +
/// ε))`, `a = 4(v + ε) - (2s - 1)²`.
pub(super) fn deviation_summand(eps: i64) -> Summand {
    let four = Fr::from(4);
    Summand {
        terms: vec![
            (Fr::ONE, vec![0]),
            (-four, vec![2]),
            (four, vec![1, 1]),
            (-four, vec![1]),
            (Fr::ONE - four * signed(eps), vec![3]),
        ],
    }
}

/// The point `(½, …, ½, row)` with `slot_vars` halves: where a tensor's extension is the average over
/// a row's slots.
pub(super) fn half_on_row(row: &[Fr], slot_vars: usize) -> Vec<Fr> {
    let half = Fr::from(2).invert().unwrap_or(Fr::ZERO);
    std::iter::repeat_n(half, slot_vars).chain(row.iter().copied()).collect()
}

/// The wiring that sums each row's real slots: `(row, position)` pairs over the view.
pub(super) fn row_sum_wiring(view: RowView) -> wiring::Wiring {
    let lb = view.slot_vars;
    let pairs = (0..view.rows).flat_map(|o| (0..view.len).map(move |j| (o, (o << lb) | j))).collect();
    wiring::Wiring { pairs, out_vars: view.row_vars(), in_vars: view.row_vars() + lb }
}

/// Per-row values repeated over each row's `2^slot_vars` slots.
fn broadcast_rows(rows: &[Fr], slot_vars: usize) -> Vec<Fr> {
    rows.iter().flat_map(|&v| std::iter::repeat_n(v, 1 << slot_vars)).collect()
}

/// `d·r + 2^(f-1)·real - 2^f·t - e` over `[d, r, t, e, real]`: the interpolation step's rounding.
pub(super) fn interpolation_summand(f: u32) -> Summand {
    Summand {
        terms: vec![(Fr::ONE, vec![0, 1]), (pow2(f - 1), vec![4]), (-pow2(f), vec![2]), (-Fr::ONE, vec![3])],
    }
}

/// `Σ_k γ^k·column_k`, position by position: a tuple as one lookup key.
pub(super) fn combine_columns(columns: &[Vec<Fr>], gamma: Fr) -> Vec<Fr> {
    let mut out = vec![Fr::ZERO; columns.first().map_or(0, Vec::len)];
    let mut g = Fr::ONE;
    for col in columns {
        out.iter_mut().zip(col).for_each(|(o, v)| *o += g * v);
        g *= gamma;
    }
    out
}

/// The table's rows `(q, c(q), d(q))` (the first `arity` columns) combined into keys with `γ`.
pub(super) fn table_keys(spec: &TableSpec, arity: usize, gamma: Fr) -> Vec<Fr> {
    let rows = spec.rows();
    let columns: Vec<Vec<Fr>> =
        (0..arity).map(|k| rows.iter().map(|&(q, c, d)| signed([q, c, d][k])).collect()).collect();
    combine_columns(&columns, gamma)
}

/// A zerocheck's table: a committed quantity, read at `slot` of its lowest `slot_vars` variables.
#[derive(Clone, Debug)]
pub(super) struct View {
    pub(super) quantity: Quantity,
    pub(super) slot: usize,
    pub(super) slot_vars: usize,
}

impl View {
    /// The quantity's point for the table's `point`.
    pub(super) fn point(&self, point: &[Fr]) -> Vec<Fr> {
        let low = (0..self.slot_vars).map(|b| Fr::from(((self.slot >> b) & 1) as u64));
        low.chain(point.iter().copied()).collect()
    }
}

/// Records a quantity's sent chunk values as claims on the packed polynomial.
pub(super) fn record_chunks(
    plan: &Plan,
    q: &Quantity,
    point: &[Fr],
    values: &[Fr],
    claims: &mut Vec<Claim>,
) -> Result<(), SumcheckError> {
    let segments = q.limbs.iter().flatten().zip(q.chunks.iter().cycle());
    for ((&seg, &(_, vars)), &value) in segments.zip(values) {
        let s = plan.packing.segments[seg];
        claims.push(Claim { point: plan.packing.lift(&s, &point[..vars])?, value });
    }
    Ok(())
}

/// `e·(hi - y)·(y - lo)` over the decoded `[e, y]`: the excess is zero unless the output is clamped.
pub(super) fn rescale_excess_summand((lo, hi): (i64, i64)) -> Summand {
    let (lo, hi) = (signed(lo), signed(hi));
    Summand { terms: vec![(hi + lo, vec![0, 1]), (-(hi * lo), vec![0]), (-Fr::ONE, vec![0, 1, 1])] }
}

/// `q - y = e·σ(y)` at a point from `ẽ` and `(e·y)~` there: `(2·(e·y)~ - (hi + lo)·ẽ)/(hi - lo)`.
pub(super) fn saturation_offset((lo, hi): (i64, i64), e: Fr, ey: Fr) -> Fr {
    let (lo, hi) = (signed(lo), signed(hi));
    (ey.double() - (hi + lo) * e) * (hi - lo).invert().unwrap_or(Fr::ZERO)
}

/// The rescale's input from `q` and `r` at a point where the real positions' indicator is
/// `real`: `x = 2^s·q + r - 2^(s-1)·real` for a positive shift, `x = q / 2^(-s)` otherwise.
pub(super) fn rescale_input(q: Fr, r: Fr, shift: i32, real: Fr) -> Fr {
    if shift > 0 {
        let s = shift.unsigned_abs();
        pow2(s) * q + r - pow2(s - 1) * real
    } else {
        q * pow2(shift.unsigned_abs()).invert().unwrap_or(Fr::ZERO)
    }
}
