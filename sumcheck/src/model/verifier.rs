//! The verifier's walk over the plan: the same order of messages and challenges as the prover's, with
//! public inputs, outputs and the graph's constants evaluated here, and every claim on the committed
//! witness checked by one opening at the end.

use poai_circuits::ir::{QGraph, QOp, Source, Tensor, ValueId};
use poai_circuits::Fr;

use super::layout::{prefix_indicator_at, Layout};
use super::packing::{Quantity, Segment};
use super::plan::{Plan, Role, Step};
use super::prover::{product_of_sums, rescale_excess_summand, rescale_input};
use super::{absorb_statement, challenges, decode, signed, wiring, ModelProof, StepProof};
use crate::hyperkzg::{self, KzgVerifierKey};
use crate::matmul::{self, Claim};
use crate::mle::Mle;
use crate::sumcheck::Summand;
use crate::transcript::Transcript;
use crate::{claims, logup, zerocheck, SumcheckError};

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

/// Checks that `proof` shows `graph` (named by `label`) maps `inputs` to `outputs`.
pub fn verify<T: Transcript>(
    vk: &KzgVerifierKey,
    (graph, label): (&QGraph, Fr),
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
    absorb_statement(transcript, label, (inputs, outputs), &proof.commitment);
    let empty = StepProof::default();
    let mut v = Verifier {
        transcript,
        graph,
        plan: &plan,
        inputs,
        pending: vec![Vec::new(); graph.values.len()],
        packed_claims: Vec::new(),
        step: &empty,
        cursor: 0,
        zerochecks: 0,
    };
    for (&o, t) in graph.outputs.iter().zip(outputs) {
        let point = challenges(v.transcript, plan.layouts[o].vars());
        let value = Mle::new(plan.layouts[o].lay_out_field(t.data())?)?.evaluate(&point)?;
        v.claim_value(o, point, value)?;
    }
    for (step, index) in proof.steps.iter().zip((0..graph.nodes.len()).rev()) {
        v.step = step;
        v.cursor = 0;
        v.zerochecks = 0;
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
    let lookup = logup::verify_selected_lookup(
        (packing.vars, packing.table.vars),
        &proof.lookup,
        (|p: &[Fr]| packing.selector_at(p), |p: &[Fr]| packing.table.at(p)),
        v.transcript,
    )
    .map_err(|e| SumcheckError::Rejected(format!("range checks: {e}")))?;
    let w = lookup.witness;
    v.packed_claims.push(Claim { value: w.value - packing.tags_at(&w.point), point: w.point });
    let m = packing.multiplicities;
    let point = packing.lift(&m, &lookup.multiplicities.point)?;
    v.packed_claims.push(Claim { point, value: lookup.multiplicities.value });
    let claim = claims::verify(packing.vars, &v.packed_claims, &proof.merge, v.transcript)
        .map_err(|e| SumcheckError::Rejected(format!("merging the witness claims: {e}")))?;
    hyperkzg::verify(vk, &proof.commitment, &claim.point, claim.value, &proof.opening, v.transcript)
        .map_err(|e| SumcheckError::Rejected(format!("the witness opening: {e}")))
}

impl<T: Transcript> Verifier<'_, T> {
    fn recv(&mut self, n: usize) -> Result<Vec<Fr>, SumcheckError> {
        let values = self
            .step
            .values
            .get(self.cursor..self.cursor + n)
            .ok_or_else(|| SumcheckError::Malformed("a step sends fewer values than it must".into()))?
            .to_vec();
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

    fn record_limbs(&mut self, q: &Quantity, point: &[Fr], limbs: &[Fr]) -> Result<(), SumcheckError> {
        for (&l, &value) in q.limbs.iter().zip(limbs) {
            let seg = self.plan.packing.segments[l];
            self.packed_claims.push(Claim { point: self.plan.packing.lift(&seg, point)?, value });
        }
        Ok(())
    }

    fn open_quantity(&mut self, q: &Quantity, point: &[Fr]) -> Result<Fr, SumcheckError> {
        let limbs = self.recv(q.limbs.len())?;
        self.record_limbs(q, point, &limbs)?;
        Ok(decode(q, &limbs))
    }

    fn claim_value(&mut self, value: ValueId, point: Vec<Fr>, v: Fr) -> Result<(), SumcheckError> {
        match &self.plan.roles[value] {
            Role::Input | Role::Const => {
                if self.evaluate(value, &point)? == v {
                    Ok(())
                } else {
                    Err(SumcheckError::Rejected(format!(
                        "the claim on `{}` is not its public value",
                        self.graph.values[value].name
                    )))
                }
            }
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
                if self.open_quantity(&q, &point)? == v {
                    Ok(())
                } else {
                    Err(SumcheckError::Rejected(format!(
                        "the limbs of `{}` do not add up to its claim",
                        self.graph.values[value].name
                    )))
                }
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

    fn zerocheck(&mut self, tables: &[Segment], summand: &Summand) -> Result<(), SumcheckError> {
        let vars = tables.first().map_or(0, |s| s.vars);
        let proof = self.next_sumcheck()?.clone();
        let evals: Vec<Fr> = self
            .step
            .values
            .get(self.cursor..self.cursor + tables.len())
            .ok_or_else(|| SumcheckError::Malformed("a zerocheck's evaluations are missing".into()))?
            .to_vec();
        let point = zerocheck::verify(vars, summand, &proof, &evals, self.transcript)?;
        self.recv(tables.len())?;
        for (s, &value) in tables.iter().zip(&evals) {
            let p = self.plan.packing.lift(s, &point[..s.vars])?;
            self.packed_claims.push(Claim { point: p, value });
        }
        Ok(())
    }

    fn wire(
        &mut self,
        w: &wiring::Wiring,
        x: ValueId,
        (point, value): (&[Fr], Fr),
    ) -> Result<(), SumcheckError> {
        let proof = self.next_sumcheck()?.clone();
        // The sumcheck's rounds come before the value the prover sends at its end.
        let sub_value = self
            .step
            .values
            .get(self.cursor)
            .copied()
            .ok_or_else(|| SumcheckError::Malformed("a wiring's value is missing".into()))?;
        let claim = wiring::verify(w, (point, value), &proof, sub_value, self.transcript)?;
        self.recv(1)?;
        self.claim_value(x, claim.point, claim.value)
    }

    fn node(&mut self, index: usize) -> Result<(), SumcheckError> {
        let (graph, plan) = (self.graph, self.plan);
        let node = &graph.nodes[index];
        let input = node.inputs[0];
        let out_vars = plan.layouts[node.output].vars();
        let segs = |q: &Quantity| q.limbs.iter().map(|&l| plan.packing.segments[l]).collect::<Vec<_>>();
        match (&plan.steps[index], &node.op) {
            (Step::MatMul { shape, rows }, _) => {
                let Some(claim) = self.take_claim(node.output)? else { return self.expect_empty() };
                let (j, i) = claim.point.split_at(shape.n);
                let bias = match node.inputs.get(2) {
                    Some(&b) => self.evaluate(b, j)? * prefix_indicator_at(*rows, i),
                    None => Fr::from(0),
                };
                let proof =
                    self.step.matmul.as_ref().ok_or_else(|| SumcheckError::Malformed("no product".into()))?;
                let claims =
                    matmul::verify(*shape, &claim.point, claim.value - bias, proof, self.transcript)?;
                self.claim_value(input, claims.a.point, claims.a.value)?;
                self.claim_value(node.inputs[1], claims.b.point, claims.b.value)
            }
            (Step::Conv { shape }, QOp::Conv(params)) => {
                let Some(claim) = self.take_claim(node.output)? else { return self.expect_empty() };
                let o = plan.layouts[node.output].dims().to_vec();
                let (j, i) = claim.point.split_at(shape.n);
                let bias = match node.inputs.get(2) {
                    Some(&b) => self.evaluate(b, i)? * Layout::new(&[o[2], o[3]]).real_mask_at(j),
                    None => Fr::from(0),
                };
                let proof =
                    self.step.matmul.as_ref().ok_or_else(|| SumcheckError::Malformed("no product".into()))?;
                let claims =
                    matmul::verify(*shape, &claim.point, claim.value - bias, proof, self.transcript)?;
                let Source::Const { tensor, .. } = &graph.values[node.inputs[1]].source else {
                    return Err(SumcheckError::Shape("convolution weights are not constant".into()));
                };
                let w = tensor.shape();
                let w2 = Layout::new(&[w[0], w[1] * w[2] * w[3]]);
                if Mle::new(w2.lay_out_field(tensor.data())?)?.evaluate(&claims.a.point)? != claims.a.value {
                    return Err(SumcheckError::Rejected(format!("node `{}`: the weights' claim", node.name)));
                }
                let im2col = wiring::im2col(
                    params,
                    &plan.layouts[input],
                    [w[1], w[2], w[3]],
                    [o[2], o[3]],
                    (shape.k, shape.n),
                );
                self.wire(&im2col, input, (&claims.b.point, claims.b.value))
            }
            (Step::Rescale(w), QOp::Rescale { shift, bits }) => {
                let Role::Committed(y) = plan.roles[node.output].clone() else {
                    return Err(SumcheckError::Shape("a rescale output is not committed".into()));
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
                    None => Fr::from(0),
                };
                if let Some((dp, dm)) = &w.excess {
                    q += self.open_quantity(dp, &rho)? - self.open_quantity(dm, &rho)?;
                }
                self.claim_value(input, rho, rescale_input(q, r, *shift))
            }
            (Step::Relu { negative }, QOp::Relu) => {
                let Role::Committed(y) = plan.roles[node.output].clone() else {
                    return Err(SumcheckError::Shape("a ReLU output is not committed".into()));
                };
                let tables = [segs(&y), segs(negative)].concat();
                self.zerocheck(&tables, &product_of_sums(y.limbs.len(), negative.limbs.len()))?;
                let rho = challenges(self.transcript, out_vars);
                let (yv, nv) = (self.open_quantity(&y, &rho)?, self.open_quantity(negative, &rho)?);
                self.claim_value(input, rho, yv - nv)
            }
            (Step::MaxPool { gaps, slot_vars }, QOp::MaxPool(params)) => {
                let Role::Committed(y) = plan.roles[node.output].clone() else {
                    return Err(SumcheckError::Shape("a max-pool output is not committed".into()));
                };
                let g = plan.packing.segments[gaps.limbs[0]];
                let slots: Vec<Segment> = (0..1usize << slot_vars)
                    .map(|k| Segment { offset: g.offset + (k << out_vars), vars: out_vars, width: g.width })
                    .collect();
                self.zerocheck(&slots, &Summand::product(slots.len()))?;
                let point = challenges(self.transcript, out_vars + slot_vars);
                let yv = self.open_quantity(&y, &point[..out_vars])?;
                let gv = self.open_quantity(gaps, &point)?;
                let windows = wiring::pool_windows(
                    params,
                    &plan.layouts[input],
                    &plan.layouts[node.output],
                    *slot_vars,
                )?;
                self.wire(&windows, input, (&point, yv - gv))
            }
            (Step::Reshape, _) => {
                let Some(claim) = self.take_claim(node.output)? else { return self.expect_empty() };
                let w = wiring::reshape(&plan.layouts[input], &plan.layouts[node.output]);
                if w.is_identity() {
                    return self.claim_value(input, claim.point, claim.value);
                }
                self.wire(&w, input, (&claim.point, claim.value))
            }
            _ => Err(SumcheckError::Shape(format!("node `{}` has no step", node.name))),
        }
    }

    fn expect_empty(&self) -> Result<(), SumcheckError> {
        Ok(())
    }
}
