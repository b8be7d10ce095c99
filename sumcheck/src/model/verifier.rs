//! The verifier's walk over the plan: the same order of messages and challenges as the prover's, with
//! public inputs, outputs and the graph's constants evaluated here, and every claim on the committed
//! witness checked by one opening at the end.

use poai_circuits::ir::{QGraph, QOp, Source, TableSpec, Tensor, ValueId};
use poai_circuits::Fr;

use super::layout::{self, log2_ceil, prefix_indicator_at, Real};
use super::packing::{table_block_at, Quantity};
use super::plan::{Plan, Role, RowView, Step, TableWitness};
use super::prover::{
    deviation_summand, division_summand, grouped_wiring, half_on_row, interpolation_summand, mean_wiring,
    record_chunks, rescale_excess_summand, rescale_input, row_sum_wiring, saturation_offset, table_keys,
    View,
};
use super::{
    absorb_statement, challenges, decode, masked_softmax, one_hot, pow2, wiring, ModelProof, StepProof,
};
use crate::hyperkzg::{self, KzgVerifierKey};
use crate::matmul::{self, Claim};
use crate::mle::{eq_at, Mle};
use crate::sumcheck::Summand;
use crate::transcript::Transcript;
use crate::{claims, logup, sumcheck, zerocheck, SumcheckError};

struct Verifier<'a, T> {
    transcript: &'a mut T,
    graph: &'a QGraph,
    plan: &'a Plan,
    inputs: &'a [Tensor],
    pending: Vec<Vec<Claim>>,
    packed_claims: Vec<Claim>,
    step: &'a StepProof,
    cursor: usize,
    zerochecks: usize,
}

/// Checks that `proof` shows `graph` maps `inputs` to `outputs`, bound to the public values `bound`
/// (the model commitment, the provider, as the prover gave them).
pub fn verify<T: Transcript>(
    vk: &KzgVerifierKey,
    (graph, bound): (&QGraph, &[Fr]),
    (inputs, outputs): (&[Tensor], &[Tensor]),
    proof: &ModelProof,
    transcript: &mut T,
) -> Result<(), SumcheckError> {
    super::check_inputs(graph, inputs)?;
    let plan = Plan::new(graph)?;
    if outputs.len() != graph.outputs.len()
        || outputs.iter().zip(&graph.outputs).any(|(t, &o)| t.shape() != graph.values[o].shape.as_slice())
    {
        return Err(SumcheckError::Shape("the outputs do not have the model's shapes".into()));
    }
    if proof.steps.len() != graph.nodes.len() {
        return Err(SumcheckError::Malformed(format!(
            "{} steps for {} nodes",
            proof.steps.len(),
            graph.nodes.len()
        )));
    }
    absorb_statement(transcript, bound, (inputs, outputs), &proof.commitment);
    let empty = StepProof::default();
    // Claims on the outputs that need limbs sent travel in the first step (the last node's).
    let mut v = Verifier {
        transcript,
        graph,
        plan: &plan,
        inputs,
        pending: vec![Vec::new(); graph.values.len()],
        packed_claims: Vec::new(),
        step: proof.steps.first().unwrap_or(&empty),
        cursor: 0,
        zerochecks: 0,
    };
    for (&o, t) in graph.outputs.iter().zip(outputs) {
        let point = challenges(v.transcript, plan.layouts[o].vars());
        let value = Mle::new(plan.layouts[o].lay_out_field(t.data())?)?.evaluate(&point)?;
        v.claim_value(o, point, value)?;
    }
    for (k, (step, index)) in proof.steps.iter().zip((0..graph.nodes.len()).rev()).enumerate() {
        if k > 0 {
            v.step = step;
            v.cursor = 0;
            v.zerochecks = 0;
        }
        v.node(index).map_err(|e| match e {
            SumcheckError::Rejected(_) | SumcheckError::Malformed(_) => e,
            e => SumcheckError::Rejected(format!("node `{}`: {e}", graph.nodes[index].name)),
        })?;
        if v.cursor != step.values.len() || v.zerochecks != step.sumchecks.len() {
            return Err(SumcheckError::Malformed(format!(
                "node `{}` sends more than its step reads",
                graph.nodes[index].name
            )));
        }
    }
    let packing = &plan.packing;
    let selector = |p: &[Fr]| packing.selector_at(p);
    let tables: Vec<_> =
        packing.multiplicities.iter().map(|&(w, _)| move |p: &[Fr]| table_block_at(w, p)).collect();
    let blocks: Vec<logup::TableBlock<'_>> = packing
        .multiplicities
        .iter()
        .zip(&tables)
        .map(|((w, _), f)| (*w as usize, f as logup::Extension<'_>))
        .collect();
    let lookup =
        logup::verify_selected_lookup(packing.vars, &proof.lookup, (&selector, &blocks), v.transcript)
            .map_err(|e| SumcheckError::Rejected(format!("range checks: {e}")))?;
    let w = lookup.witness;
    v.packed_claims.push(Claim { value: w.value - packing.tags_at(&w.point), point: w.point });
    for ((_, m), c) in packing.multiplicities.iter().zip(&lookup.multiplicities) {
        v.packed_claims.push(Claim { point: packing.lift(m, &c.point)?, value: c.value });
    }
    let claim = claims::verify(packing.vars, &v.packed_claims, &proof.merge, v.transcript)
        .map_err(|e| SumcheckError::Rejected(format!("merging the witness claims: {e}")))?;
    hyperkzg::verify(vk, &proof.commitment, &claim.point, claim.value, &proof.opening, v.transcript)
        .map_err(|e| SumcheckError::Rejected(format!("the witness opening: {e}")))
}

impl<T: Transcript> Verifier<'_, T> {
    /// The next `n` values the step sends, without taking them (a sumcheck's final values are checked
    /// against its rounds before they are absorbed, as the prover sends them after the rounds).
    fn peek(&self, n: usize) -> Result<Vec<Fr>, SumcheckError> {
        self.step
            .values
            .get(self.cursor..self.cursor + n)
            .map(<[Fr]>::to_vec)
            .ok_or_else(|| SumcheckError::Malformed("a step sends fewer values than it must".into()))
    }

    fn recv(&mut self, n: usize) -> Result<Vec<Fr>, SumcheckError> {
        let values = self.peek(n)?;
        self.cursor += n;
        self.transcript.absorb(&values);
        Ok(values)
    }

    fn next_sumcheck(&mut self) -> Result<&'_ crate::sumcheck::SumcheckProof, SumcheckError> {
        let proof =
            self.step.sumchecks.get(self.zerochecks).ok_or_else(|| {
                SumcheckError::Malformed("a step sends fewer sumchecks than it must".into())
            })?;
        self.zerochecks += 1;
        Ok(proof)
    }

    /// A public or constant value's extension at `point`.
    fn evaluate(&self, value: ValueId, point: &[Fr]) -> Result<Fr, SumcheckError> {
        let layout = &self.plan.layouts[value];
        let data = match &self.graph.values[value].source {
            Source::Input { index } => self.inputs[*index].data(),
            Source::Const { tensor, .. } => tensor.data(),
            Source::Node { .. } => return Err(SumcheckError::Shape("not a public value".into())),
        };
        Mle::new(layout.lay_out_field(data)?)?.evaluate(point)
    }

    fn open_quantity(&mut self, q: &Quantity, point: &[Fr]) -> Result<Fr, SumcheckError> {
        let values = self.recv(q.limbs.len() * q.chunks.len())?;
        record_chunks(self.plan, q, point, &values, &mut self.packed_claims)?;
        Ok(decode(q, point, &values))
    }

    /// Checks a claim `v` on a committed quantity at `point`: a claim on the packed polynomial when the
    /// quantity is plain, else its chunks' values (received) must decode to `v`.
    fn claim_quantity(&mut self, q: &Quantity, point: &[Fr], v: Fr, what: &str) -> Result<(), SumcheckError> {
        if q.is_plain() {
            let seg = self.plan.packing.segments[q.limbs[0][0]];
            self.packed_claims.push(Claim { point: self.plan.packing.lift(&seg, point)?, value: v });
            return Ok(());
        }
        if self.open_quantity(q, point)? == v {
            Ok(())
        } else {
            Err(SumcheckError::Rejected(format!("the chunks of {what} do not add up to its claim")))
        }
    }

    fn claim_value(&mut self, value: ValueId, point: Vec<Fr>, v: Fr) -> Result<(), SumcheckError> {
        let name = &self.graph.values[value].name;
        match &self.plan.roles[value] {
            Role::Input | Role::Const => {
                if self.evaluate(value, &point)? == v {
                    Ok(())
                } else {
                    Err(SumcheckError::Rejected(format!("the claim on `{name}` is not its public value")))
                }
            }
            Role::Virtual => {
                self.pending[value].push(Claim { point, value: v });
                Ok(())
            }
            Role::Committed(q) => {
                let (q, what) = (q.clone(), format!("`{name}`"));
                self.claim_quantity(&q, &point, v, &what)
            }
        }
    }

    fn take_claim(&mut self, value: ValueId) -> Result<Option<Claim>, SumcheckError> {
        let claims = std::mem::take(&mut self.pending[value]);
        match claims.len() {
            0 => Ok(None),
            1 => Ok(claims.into_iter().next()),
            _ => {
                let proof = self
                    .step
                    .merge
                    .as_ref()
                    .ok_or_else(|| SumcheckError::Malformed("a merge of claims is missing".into()))?;
                let vars = self.plan.layouts[value].vars();
                claims::verify(vars, &claims, proof, self.transcript).map(Some)
            }
        }
    }

    fn zerocheck(
        &mut self,
        tables: &[View],
        mask: Option<Real>,
        summand: &Summand,
    ) -> Result<(), SumcheckError> {
        let vars = tables.first().map_or(0, |t| t.quantity.vars - t.slot_vars);
        let (point, evals) = self.zerocheck_values(vars, tables.len(), mask, summand)?;
        for (t, &value) in tables.iter().zip(&evals) {
            self.claim_quantity(&t.quantity, &t.point(&point), value, "a gate's table")?;
        }
        Ok(())
    }

    /// Checks a zerocheck of `summand` over `count` tables of `vars` variables (and the mask's table);
    /// returns its point and the tables' values there, received, for the caller to claim.
    fn zerocheck_values(
        &mut self,
        vars: usize,
        count: usize,
        mask: Option<Real>,
        summand: &Summand,
    ) -> Result<(Vec<Fr>, Vec<Fr>), SumcheckError> {
        let proof = self.next_sumcheck()?.clone();
        let mut evals = self.peek(count)?;
        let at = mask.map(|real| move |p: &[Fr]| real.at(p));
        let at = at.as_ref().map(|f| f as zerocheck::PublicTable<'_>);
        let point = zerocheck::verify_with(vars, summand, &proof, &mut evals, at, self.transcript)?;
        Ok((point, self.recv(count)?))
    }

    /// Checks a function table's argument over the `real` positions (the prover's
    /// `table_argument`); returns the point and the table input's value there.
    fn table_argument(
        &mut self,
        w: &TableWitness,
        spec: &TableSpec,
        real: Real,
    ) -> Result<(Vec<Fr>, Fr), SumcheckError> {
        let plan = self.plan;
        let view = |q: &Quantity| View { quantity: q.clone(), slot: 0, slot_vars: 0 };
        let vars = w.index.vars;
        if let Some([r, d, t, e]) = &w.interpolation {
            let tables = [view(d), view(r), view(t), view(e)];
            self.zerocheck(&tables, Some(real), &interpolation_summand(spec.interp_bits))?;
        }
        let gamma = self.transcript.challenge();
        let keys: Vec<&Quantity> = match &w.interpolation {
            Some([_, d, _, _]) => vec![&w.index, &w.entry, d],
            None => vec![&w.index, &w.entry],
        };
        let table = Mle::new(table_keys(spec, keys.len(), gamma))?;
        let table_at = |p: &[Fr]| table.evaluate(p).unwrap_or(Fr::from(0));
        let selector = |p: &[Fr]| real.at(p);
        let proof = self.step.lookup.as_ref().ok_or_else(|| SumcheckError::Malformed("no lookup".into()))?;
        let claims = logup::verify_selected_lookup(
            vars,
            proof,
            (&selector, &[(table.vars(), &table_at as logup::Extension<'_>)]),
            self.transcript,
        )?;
        let mut key = Fr::from(0);
        let mut g = Fr::from(1);
        for q in keys {
            key += g * self.open_quantity(q, &claims.witness.point)?;
            g *= gamma;
        }
        if key != claims.witness.value {
            return Err(SumcheckError::Rejected(
                "the looked-up rows are not the committed row, entry and slope".into(),
            ));
        }
        let m = plan.packing.unchecked[w.multiplicities];
        let mc = &claims.multiplicities[0];
        self.packed_claims.push(Claim { point: plan.packing.lift(&m, &mc.point)?, value: mc.value });
        let rho = challenges(self.transcript, vars);
        let q = self.open_quantity(&w.index, &rho)?;
        let r = match &w.interpolation {
            Some([r, ..]) => self.open_quantity(r, &rho)?,
            None => Fr::from(0),
        };
        Ok((rho, pow2(spec.interp_bits) * q + r))
    }

    /// Checks the product sumcheck of `Σ eq(ρ, ·)·a·b = value` over `ρ`'s variables; returns its point and
    /// the received `ã`, `b̃` there.
    fn eq_product(&mut self, (rho, value): (&[Fr], Fr)) -> Result<(Vec<Fr>, [Fr; 2]), SumcheckError> {
        let proof = self.next_sumcheck()?.clone();
        let sub = sumcheck::verify(value, rho.len(), 3, &proof, self.transcript)?;
        let ab = self.recv(2)?;
        sub.check_product(&[eq_at(rho, &sub.point), ab[0], ab[1]])?;
        Ok((sub.point, [ab[0], ab[1]]))
    }

    /// Checks a wiring reduction of a claim on `U` and returns the claim on `x` it leaves.
    fn wire_claim(
        &mut self,
        w: &wiring::Wiring,
        (point, value): (&[Fr], Fr),
    ) -> Result<Claim, SumcheckError> {
        let proof = self.next_sumcheck()?.clone();
        let sub_value = self.peek(1)?[0];
        let claim = wiring::verify(w, (point, value), &proof, sub_value, self.transcript)?;
        self.recv(1)?;
        Ok(claim)
    }

    fn wire(&mut self, w: &wiring::Wiring, x: ValueId, claim: (&[Fr], Fr)) -> Result<(), SumcheckError> {
        let claim = self.wire_claim(w, claim)?;
        self.claim_value(x, claim.point, claim.value)
    }

    fn onto_matrix_view(
        &mut self,
        claim: Claim,
        (rows, cols): (usize, usize),
    ) -> Result<Claim, SumcheckError> {
        self.onto_stacked_view(claim, (1, rows, cols))
    }

    fn onto_stacked_view(
        &mut self,
        claim: Claim,
        dims: (usize, usize, usize),
    ) -> Result<Claim, SumcheckError> {
        match layout::batched_matrix_wiring(dims, true) {
            None => Ok(claim),
            Some(w) => self.wire_claim(&w, (&claim.point, claim.value)),
        }
    }

    fn back_to_flat(
        &mut self,
        claim: Claim,
        a: ValueId,
        (rows, cols): (usize, usize),
    ) -> Result<(), SumcheckError> {
        self.stacked_back_to_flat(claim, a, (1, rows, cols))
    }

    fn stacked_back_to_flat(
        &mut self,
        claim: Claim,
        a: ValueId,
        dims: (usize, usize, usize),
    ) -> Result<(), SumcheckError> {
        match layout::batched_matrix_wiring(dims, false) {
            None => self.claim_value(a, claim.point, claim.value),
            Some(w) => self.wire(&w, a, (&claim.point, claim.value)),
        }
    }

    /// When an op's output is committed over a row view that is not its flat layout, moves the claims
    /// on the output onto the view and claims the view's quantity there.
    fn claim_view_output(&mut self, out: ValueId, view: RowView, q: &Quantity) -> Result<(), SumcheckError> {
        if self.plan.roles[out] != Role::Virtual {
            return Ok(());
        }
        let Some(claim) = self.take_claim(out)? else { return Ok(()) };
        let claim = self.onto_stacked_view(claim, view.dims())?;
        self.claim_quantity(q, &claim.point, claim.value, "the output's view")
    }

    /// A constant's matrix view (`rows × cols`) at `point`.
    fn constant_matrix_at(
        &self,
        value: ValueId,
        (rows, cols): (usize, usize),
        point: &[Fr],
    ) -> Result<Fr, SumcheckError> {
        let Source::Const { tensor, .. } = &self.graph.values[value].source else {
            return Err(SumcheckError::Shape(format!("`{}` is not constant", self.graph.values[value].name)));
        };
        Mle::new(layout::matrix(rows, cols, tensor.data())?)?.evaluate(point)
    }

    /// Claims an operand (broadcast to the output) at `point`: directly, or through its broadcast wiring.
    fn operand_claim(
        &mut self,
        operand: ValueId,
        out: ValueId,
        (point, value): (&[Fr], Fr),
    ) -> Result<(), SumcheckError> {
        match wiring::broadcast(&self.plan.layouts[operand], &self.plan.layouts[out]) {
            None => self.claim_value(operand, point.to_vec(), value),
            Some(w) => self.wire(&w, operand, (point, value)),
        }
    }

    fn node(&mut self, index: usize) -> Result<(), SumcheckError> {
        let (graph, plan) = (self.graph, self.plan);
        let node = &graph.nodes[index];
        let input = node.inputs[0];
        let out_vars = plan.layouts[node.output].vars();
        let view = |q: &Quantity| View { quantity: q.clone(), slot: 0, slot_vars: 0 };
        let rejected = |what: &str| SumcheckError::Rejected(format!("node `{}`: {what}", node.name));
        match (&plan.steps[index], &node.op) {
            (Step::MatMul { shape, dims: (m, k, n) }, _) => {
                let Some(claim) = self.take_claim(node.output)? else { return Ok(()) };
                let claim = self.onto_matrix_view(claim, (*m, *n))?;
                let (j, i) = claim.point.split_at(shape.n);
                let bias = match node.inputs.get(2) {
                    Some(&b) => self.evaluate(b, j)? * prefix_indicator_at(*m, i),
                    None => Fr::from(0),
                };
                let proof =
                    self.step.matmul.as_ref().ok_or_else(|| SumcheckError::Malformed("no product".into()))?;
                let claims =
                    matmul::verify(*shape, &claim.point, claim.value - bias, proof, self.transcript)?;
                self.back_to_flat(claims.a, input, (*m, *k))?;
                self.back_to_flat(claims.b, node.inputs[1], (*k, *n))
            }
            (Step::BatchedMatMul { dims: (batch, m, k, n) }, _) => {
                let Some(claim) = self.take_claim(node.output)? else { return Ok(()) };
                let claim = self.onto_stacked_view(claim, (*batch, *m, *n))?;
                let (bb, mb, kb, nb) = (log2_ceil(*batch), log2_ceil(*m), log2_ceil(*k), log2_ceil(*n));
                let (rho_j, rest) = claim.point.split_at(nb);
                let (rho_i, rho_b) = rest.split_at(mb);
                let proof = self.next_sumcheck()?.clone();
                let sub = sumcheck::verify(claim.value, kb + bb, 3, &proof, self.transcript)?;
                let ab = self.recv(2)?;
                let (r_k, r_b) = sub.point.split_at(kb);
                sub.check_product(&[eq_at(rho_b, r_b), ab[0], ab[1]])?;
                let a_claim = Claim { point: [r_k, rho_i, r_b].concat(), value: ab[0] };
                self.stacked_back_to_flat(a_claim, input, (*batch, *m, *k))?;
                let b_claim = Claim { point: [rho_j, r_k, r_b].concat(), value: ab[1] };
                self.stacked_back_to_flat(b_claim, node.inputs[1], (*batch, *k, *n))
            }
            (Step::Conv { shape, dims: (maps, patch, positions) }, QOp::Conv(params)) => {
                let Some(claim) = self.take_claim(node.output)? else { return Ok(()) };
                let claim = self.onto_matrix_view(claim, (*maps, *positions))?;
                let (j, i) = claim.point.split_at(shape.n);
                let bias = match node.inputs.get(2) {
                    Some(&b) => self.evaluate(b, i)? * prefix_indicator_at(*positions, j),
                    None => Fr::from(0),
                };
                let proof =
                    self.step.matmul.as_ref().ok_or_else(|| SumcheckError::Malformed("no product".into()))?;
                let claims =
                    matmul::verify(*shape, &claim.point, claim.value - bias, proof, self.transcript)?;
                if self.constant_matrix_at(node.inputs[1], (*maps, *patch), &claims.a.point)?
                    != claims.a.value
                {
                    return Err(rejected("the weights' claim"));
                }
                let w = &graph.values[node.inputs[1]].shape;
                let o = plan.layouts[node.output].dims().to_vec();
                let im2col = wiring::im2col(
                    params,
                    &plan.layouts[input],
                    [w[1], w[2], w[3]],
                    [o[2], o[3]],
                    (shape.k, shape.n),
                );
                self.wire(&im2col, input, (&claims.b.point, claims.b.value))
            }
            (Step::Rescale(w), QOp::Rescale { shift, .. }) => {
                let Role::Committed(y) = plan.roles[w.output].clone() else {
                    return Err(SumcheckError::Shape("a rescale output is not committed".into()));
                };
                if let Some(e) = &w.excess {
                    self.zerocheck(&[view(e), view(&y)], None, &rescale_excess_summand(w.range))?;
                }
                let rho = challenges(self.transcript, out_vars);
                let mut q = self.open_quantity(&y, &rho)?;
                let r = match &w.remainder {
                    Some(r) => self.open_quantity(r, &rho)?,
                    None => Fr::from(0),
                };
                if let Some(e) = &w.excess {
                    let e_at = self.open_quantity(e, &rho)?;
                    let product = self.recv(1)?[0];
                    let (point, [e_value, y_value]) = self.eq_product((&rho, product))?;
                    self.claim_quantity(e, &point, e_value, "the saturation excess")?;
                    self.claim_quantity(&y, &point, y_value, "the rescale's output")?;
                    q += saturation_offset(w.range, e_at, product);
                }
                let real = plan.layouts[node.output].real_at(&rho);
                self.claim_value(input, rho, rescale_input(q, r, *shift, real))
            }
            (Step::Relu { negative }, QOp::Relu) => {
                let Role::Committed(y) = plan.roles[node.output].clone() else {
                    return Err(SumcheckError::Shape("a ReLU output is not committed".into()));
                };
                self.zerocheck(&[view(&y), view(negative)], None, &Summand::product(2))?;
                let rho = challenges(self.transcript, out_vars);
                let (yv, nv) = (self.open_quantity(&y, &rho)?, self.open_quantity(negative, &rho)?);
                self.claim_value(input, rho, yv - nv)
            }
            (Step::MaxPool { gaps, slot_vars }, QOp::MaxPool(params)) => {
                let Role::Committed(y) = plan.roles[node.output].clone() else {
                    return Err(SumcheckError::Shape("a max-pool output is not committed".into()));
                };
                let slots: Vec<View> = (0..1usize << slot_vars)
                    .map(|slot| View { quantity: gaps.clone(), slot, slot_vars: *slot_vars })
                    .collect();
                self.zerocheck(&slots, None, &Summand::product(slots.len()))?;
                let point = challenges(self.transcript, slot_vars + out_vars);
                let yv = self.open_quantity(&y, &point[*slot_vars..])?;
                let gv = self.open_quantity(gaps, &point)?;
                let windows = wiring::pool_windows(
                    params,
                    &plan.layouts[input],
                    &plan.layouts[node.output],
                    *slot_vars,
                )?;
                self.wire(&windows, input, (&point, yv - gv))
            }
            (Step::Table(w), QOp::Table(spec)) => {
                if let Some(claim) = self.take_claim(node.output)? {
                    let c = self.open_quantity(&w.entry, &claim.point)?;
                    let t = match &w.interpolation {
                        Some([_, _, t, _]) => self.open_quantity(t, &claim.point)?,
                        None => Fr::from(0),
                    };
                    if c + t != claim.value {
                        return Err(rejected("the entry and step do not give the output's claim"));
                    }
                }
                let (rho, x) = self.table_argument(w, spec, Real::Prefix(plan.layouts[node.output].len()))?;
                self.claim_value(input, rho, x)
            }
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
                            let c = self.wire_claim(&wiring, (&claim.point, claim.value))?;
                            self.claim_quantity(&w.output, &c.point, c.value, "the output's view")?;
                        }
                    }
                }
                let step = w.exp.interpolation.as_ref().map(|[_, _, t, _]| t);
                let count = 4 + usize::from(step.is_some());
                let summand = division_summand(*out_scale, count - 3);
                let (zeta, evals) = self.zerocheck_values(w.output.vars, count, None, &summand)?;
                self.claim_quantity(&w.output, &zeta, evals[1], "the output")?;
                self.claim_quantity(&w.remainder, &zeta, evals[2], "the remainder")?;
                self.claim_quantity(&w.exp.entry, &zeta, evals[3], "the exp entries")?;
                if let Some(t) = step {
                    self.claim_quantity(t, &zeta, evals[4], "the exp steps")?;
                }
                let complement = self.open_quantity(&w.complement, &zeta)?;
                let real_rows = prefix_indicator_at(view.rows << lb, &zeta);
                if evals[2] + complement != evals[0].double() - real_rows {
                    return Err(rejected("the remainder and its complement do not add up to 2s - 1"));
                }
                let row_sum =
                    keep.map_or_else(|| row_sum_wiring(view), |k| masked_softmax::row_sum_wiring(view, k));
                let claim = self.wire_claim(&row_sum, (&zeta[lb..], evals[0]))?;
                let mut e = self.open_quantity(&w.exp.entry, &claim.point)?;
                if let Some(t) = step {
                    e += self.open_quantity(t, &claim.point)?;
                }
                if e != claim.value {
                    return Err(rejected("the divisor is not the row's sum of exponentials"));
                }
                let (rho, negated) = self.table_argument(&w.exp, exp, view.real())?;
                self.claim_quantity(&w.gaps, &rho, -negated, "the gaps")?;
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
                let g = self.open_quantity(&w.gaps, &point)?;
                let c = self.recv(1)?[0];
                let proof = self.next_sumcheck()?.clone();
                let sub = sumcheck::verify(c, view.row_vars(), 2, &proof, self.transcript)?;
                let m = self.open_quantity(&w.max, &sub.point)?;
                sub.check_product(&[m, masked_softmax::max_weights_at(view, keep, &point, &sub.point)])?;
                let value = c - g + masked_softmax::masked_at(view, keep, &point);
                let wiring = masked_softmax::input_wiring(view, keep, plan.layouts[input].vars());
                self.wire(&wiring, input, (&point, value)).map_err(|e| {
                    SumcheckError::Rejected(format!(
                        "the kept inputs against the gaps (a masked gap is 1): {e}"
                    ))
                })
            }
            (Step::LayerNorm(w), QOp::LayerNorm { eps, out_scale, .. }) => {
                let view = w.view;
                let lb = view.slot_vars;
                self.claim_view_output(node.output, view, &w.output)?;
                let [mean, mean_r, mean_c] = &w.mean;
                let [var, var_r, var_c] = &w.variance;
                let [sd, below, above] = &w.deviation;
                let [rem, rem_c] = &w.division;
                let rows = view.rows;
                let n = Fr::from(view.len as u64);
                let one = Fr::from(1);
                let summand = division_summand(*out_scale, 1);
                let (zeta, evals) = self.zerocheck_values(w.output.vars, 4, None, &summand)?;
                self.claim_quantity(sd, &zeta[lb..], evals[0], "the deviation")?;
                self.claim_quantity(&w.output, &zeta, evals[1], "the output")?;
                self.claim_quantity(rem, &zeta, evals[2], "the remainder")?;
                let complement = self.open_quantity(rem_c, &zeta)?;
                if evals[2] + complement != evals[0].double() - prefix_indicator_at(rows << lb, &zeta) {
                    return Err(rejected("the remainder and its complement do not add up to 2s - 1"));
                }
                let mu = self.open_quantity(mean, &zeta[lb..])?;
                let value = evals[3] + mu * prefix_indicator_at(view.len, &zeta[..lb]);
                self.stacked_back_to_flat(Claim { point: zeta, value }, input, view.dims())?;

                let (eta, evals) = self.zerocheck_values(
                    view.row_vars(),
                    3,
                    Some(Real::Prefix(rows)),
                    &deviation_summand(*eps),
                )?;
                self.claim_quantity(below, &eta, evals[0], "the slack below")?;
                self.claim_quantity(sd, &eta, evals[1], "the deviation")?;
                self.claim_quantity(var, &eta, evals[2], "the variance")?;
                let real = prefix_indicator_at(rows, &eta);
                let b = self.open_quantity(above, &eta)?;
                if evals[0] + b != Fr::from(8) * evals[1] - real {
                    return Err(rejected("the deviation's slacks do not add up to 8s - 1"));
                }
                let r = self.open_quantity(var_r, &eta)?;
                let rc = self.open_quantity(var_c, &eta)?;
                if r + rc != (n + n - one) * real {
                    return Err(rejected("the variance's remainder and complement do not add up to 2n - 1"));
                }
                // Σ_j d(η, j)² = (2n·v + r - n) / 2 on real rows.
                let squares = (n * evals[2].double() + r - n * real) * Fr::from(2).invert().unwrap_or(one);
                let proof = self.next_sumcheck()?.clone();
                let sub = sumcheck::verify(squares, w.output.vars, 3, &proof, self.transcript)?;
                let d = self.recv(1)?[0];
                sub.check_product(&[eq_at(&eta, &sub.point[lb..]), d, d])?;
                let point = sub.point;
                let mu = self.open_quantity(mean, &point[lb..])?;
                let value = d + mu * prefix_indicator_at(view.len, &point[..lb]);
                self.stacked_back_to_flat(Claim { point, value }, input, view.dims())?;

                let mu = self.open_quantity(mean, &eta)?;
                let r = self.open_quantity(mean_r, &eta)?;
                let rc = self.open_quantity(mean_c, &eta)?;
                if r + rc != (n + n - one) * real {
                    return Err(rejected("the mean's remainder and complement do not add up to 2n - 1"));
                }
                let x_at_half =
                    (n * mu.double() + r - n * real) * pow2(lb as u32 + 1).invert().unwrap_or(one);
                let claim = Claim { point: half_on_row(&eta, lb), value: x_at_half };
                self.stacked_back_to_flat(claim, input, view.dims())
            }
            (Step::GroupedConv { dims: (maps, patch, positions), bits: (mb, jb, pb) }, QOp::Conv(_)) => {
                let Some(claim) = self.take_claim(node.output)? else { return Ok(()) };
                let claim = self.onto_matrix_view(claim, (*maps, *positions))?;
                let (rho_p, rho_m) = claim.point.split_at(*pb);
                let bias = match node.inputs.get(2) {
                    Some(&b) => self.evaluate(b, rho_m)? * prefix_indicator_at(*positions, rho_p),
                    None => Fr::from(0),
                };
                let proof = self.next_sumcheck()?.clone();
                let sub = sumcheck::verify(claim.value - bias, mb + jb, 3, &proof, self.transcript)?;
                let bound = self.recv(1)?[0];
                let eq_m = eq_at(rho_m, &sub.point[*jb..]);
                let weights = self.constant_matrix_at(node.inputs[1], (*maps, *patch), &sub.point)?;
                sub.check_product(&[eq_m, weights, bound])?;
                let im2col = grouped_wiring(graph, plan, node, (*jb, *pb))?;
                let point: Vec<Fr> = rho_p.iter().chain(&sub.point).copied().collect();
                self.wire(&im2col, input, (&point, bound))
            }
            (Step::Mean { divisor, remainder, complement }, op) => {
                let Role::Committed(y) = plan.roles[node.output].clone() else {
                    return Err(SumcheckError::Shape("a mean's output is not committed".into()));
                };
                let rho = challenges(self.transcript, out_vars);
                let yv = self.open_quantity(&y, &rho)?;
                let r = self.open_quantity(remainder, &rho)?;
                let rc = self.open_quantity(complement, &rho)?;
                let n = Fr::from(*divisor as u64);
                let real = plan.layouts[node.output].real_at(&rho);
                if r + rc != (n + n - Fr::from(1)) * real {
                    return Err(rejected("the remainder and its complement do not add up to 2n - 1"));
                }
                // 2·S = 2n·y + r - n on real positions.
                let sum = (n * (yv + yv) + r - n * real) * Fr::from(2).invert().unwrap_or(Fr::from(0));
                let sums = mean_wiring(plan, node, op)?;
                self.wire(&sums, input, (&rho, sum))
            }
            (Step::OneHot { depth }, _) => {
                let x = &plan.layouts[input];
                let rho = challenges(self.transcript, x.vars());
                let lambda = self.transcript.challenge();
                let xv = self.recv(1)?[0];
                let proof = self.next_sumcheck()?.clone();
                let sub =
                    sumcheck::verify(x.real_at(&rho) + lambda * xv, out_vars, 2, &proof, self.transcript)?;
                let ov = self.recv(1)?[0];
                sub.check_product(&[ov, one_hot::weights_at(*depth, x.len(), &rho, lambda, &sub.point)])?;
                self.claim_value(node.output, sub.point, ov)?;
                self.claim_value(input, rho, xv)
            }
            (Step::Move, op) => {
                let Some(claim) = self.take_claim(node.output)? else { return Ok(()) };
                let w = wiring::moved(&plan.layouts[input], &plan.layouts[node.output], op)?;
                self.wire(&w, input, (&claim.point, claim.value))
            }
            (Step::Concat, op) => {
                let Some(claim) = self.take_claim(node.output)? else { return Ok(()) };
                let layouts: Vec<&layout::Layout> = node.inputs.iter().map(|&i| &plan.layouts[i]).collect();
                let wirings = wiring::concat(&layouts, &plan.layouts[node.output], op)?;
                let mut parts = self.recv(wirings.len().saturating_sub(1))?;
                let last = claim.value - parts.iter().copied().sum::<Fr>();
                parts.push(last);
                for ((w, &x), v) in wirings.iter().zip(&node.inputs).zip(parts) {
                    self.wire(w, x, (&claim.point, v))?;
                }
                Ok(())
            }
            (Step::AddSub, op) => {
                let Some(claim) = self.take_claim(node.output)? else { return Ok(()) };
                let a = self.recv(1)?[0];
                let b = if *op == QOp::Sub { a - claim.value } else { claim.value - a };
                self.operand_claim(node.inputs[0], node.output, (&claim.point, a))?;
                self.operand_claim(node.inputs[1], node.output, (&claim.point, b))
            }
            (Step::Mul, _) => {
                let Some(claim) = self.take_claim(node.output)? else { return Ok(()) };
                let (point, [a, b]) = self.eq_product((&claim.point, claim.value))?;
                self.operand_claim(node.inputs[0], node.output, (&point, a))?;
                self.operand_claim(node.inputs[1], node.output, (&point, b))
            }
            (Step::Fused, _) => Ok(()),
            (Step::Reshape, _) => match self.take_claim(node.output)? {
                Some(claim) => self.claim_value(input, claim.point, claim.value),
                None => Ok(()),
            },
            _ => Err(SumcheckError::Shape(format!("node `{}` has no step", node.name))),
        }
    }
}
