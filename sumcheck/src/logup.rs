//! Lookups by logup over a GKR tree of fractions: every range check and table lookup of the sumcheck
//! backend, with nothing committed but the looked-up values and the table's multiplicities.
//!
//! **Fraction sums.** `Σ_i p_i / q_i` is computed by a binary tree whose layer `k` holds `2^k` fractions,
//! each the sum of its two children: `p = p_0·q_1 + p_1·q_0`, `q = q_0·q_1` (children `2y` and `2y + 1`,
//! so the pair is the lowest variable). The prover sends the root `(P, Q)`; each layer's claim
//! `(p̃_k(ρ), q̃_k(ρ))` becomes, by one sumcheck of `eq(ρ, y)·(p_0·q_1 + p_1·q_0 + λ·q_0·q_1)` (`λ` random,
//! degree 3) and a random `μ` for the pair variable, a claim on the next layer at `(μ, r)`, down to a
//! claim on the leaves' `p̃` and `q̃` at a random point.
//!
//! **Lookups.** For looked-up values `w` and a table `t` with multiplicities `m`, the logup identity
//! `Σ_i 1/(α - w_i) = Σ_j m_j/(α - t_j)` holds as rational functions exactly when every `w_i` is an entry of
//! `t`, counted `m_j` times (the field's characteristic far exceeds every count). Checked at a random `α`
//! drawn after `w` and `m` are committed, a `w_i` outside the table survives with probability at most
//! `(N + T)/|F|`. The witness tree's leaves are `(1, α - w_i)`, the table's `(m_j, α - t_j)`; the roots must
//! agree as fractions with non-zero denominators (a zero denominator means `α` hit a committed value, which
//! a random `α` does only with negligible probability, so the verifier refuses it). What is left: a claim
//! on `w̃` (the caller closes it: a commitment opening or the claim of the op that produced `w`), a claim
//! on `m̃`, and `t̃` at a point, which the verifier evaluates itself for a structured table such as a range.

use halo2_base::halo2_proofs::halo2curves::ff::{Field, PrimeField};
use poai_circuits::Fr;

use crate::backend::SumcheckBackend;
use crate::matmul::Claim;
use crate::mle::{eq_at, eq_evals, Mle};
use crate::sumcheck::{self, SumcheckProof, Summand};
use crate::transcript::Transcript;
use crate::SumcheckError;

/// One layer of a fraction tree: the sumcheck, and the children's values at its point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerProof {
    /// The layer's sumcheck (`k` rounds for layer `k`).
    pub sumcheck: SumcheckProof,
    /// `p_0, p_1, q_0, q_1` at the sumcheck's point.
    pub children: [Fr; 4],
}

/// A proof of `Σ_i p_i/q_i = P/Q`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FractionSumProof {
    /// The root `(P, Q)`.
    pub root: [Fr; 2],
    /// Layers from the root down.
    pub layers: Vec<LayerProof>,
}

/// The claim a fraction-sum proof ends in: the leaves' `p̃` and `q̃` at `point`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeafClaim {
    /// The point (`x_0` first).
    pub point: Vec<Fr>,
    /// `p̃(point)`.
    pub p: Fr,
    /// `q̃(point)`.
    pub q: Fr,
}

/// The summand of a layer over tables `[eq, p_0, p_1, q_0, q_1]`.
fn layer_summand(lambda: Fr) -> Summand {
    Summand { terms: vec![(Fr::ONE, vec![0, 1, 4]), (Fr::ONE, vec![0, 2, 3]), (lambda, vec![0, 3, 4])] }
}

/// Even and odd entries of a layer.
fn split(v: &[Fr]) -> (Vec<Fr>, Vec<Fr>) {
    (v.iter().step_by(2).copied().collect(), v.iter().skip(1).step_by(2).copied().collect())
}

/// Proves the sum of the fractions `p_i / q_i` (`2^n` of each).
pub fn prove_fraction_sum(
    backend: &impl SumcheckBackend,
    p: Vec<Fr>,
    q: Vec<Fr>,
    transcript: &mut impl Transcript,
) -> Result<(FractionSumProof, LeafClaim), SumcheckError> {
    if p.len() != q.len() || !p.len().is_power_of_two() {
        return Err(SumcheckError::Shape(format!("{} numerators and {} denominators", p.len(), q.len())));
    }
    // layers[k] holds 2^k fractions; built from the leaves up.
    let mut layers = vec![(p, q)];
    while layers[layers.len() - 1].0.len() > 1 {
        let (lp, lq) = &layers[layers.len() - 1];
        let (p0, p1) = split(lp);
        let (q0, q1) = split(lq);
        let np = (0..p0.len()).map(|y| p0[y] * q1[y] + p1[y] * q0[y]).collect();
        let nq = (0..q0.len()).map(|y| q0[y] * q1[y]).collect();
        layers.push((np, nq));
    }
    layers.reverse();
    let root = [layers[0].0[0], layers[0].1[0]];
    transcript.absorb(&root);
    let (mut point, mut claim_p, mut claim_q) = (Vec::new(), root[0], root[1]);
    let mut proofs = Vec::with_capacity(layers.len() - 1);
    for (lp, lq) in &layers[1..] {
        let lambda = transcript.challenge();
        let (p0, p1) = split(lp);
        let (q0, q1) = split(lq);
        let tables = [eq_evals(&point), p0, p1, q0, q1].map(Mle::new);
        let tables = tables.into_iter().collect::<Result<Vec<_>, _>>()?;
        let proved = sumcheck::prove_summand(backend, tables, &layer_summand(lambda), transcript)?;
        let children = [proved.evals[1], proved.evals[2], proved.evals[3], proved.evals[4]];
        transcript.absorb(&children);
        let mu = transcript.challenge();
        claim_p = children[0] + mu * (children[1] - children[0]);
        claim_q = children[2] + mu * (children[3] - children[2]);
        point = std::iter::once(mu).chain(proved.point).collect();
        proofs.push(LayerProof { sumcheck: proved.proof, children });
    }
    Ok((FractionSumProof { root, layers: proofs }, LeafClaim { point, p: claim_p, q: claim_q }))
}

/// Checks a fraction-sum proof over `2^vars` leaves; returns the root and the leaf claim left to close.
pub fn verify_fraction_sum(
    vars: usize,
    proof: &FractionSumProof,
    transcript: &mut impl Transcript,
) -> Result<([Fr; 2], LeafClaim), SumcheckError> {
    if proof.layers.len() != vars {
        return Err(SumcheckError::Malformed(format!("{} layers for 2^{vars} leaves", proof.layers.len())));
    }
    transcript.absorb(&proof.root);
    let (mut point, mut claim_p, mut claim_q) = (Vec::new(), proof.root[0], proof.root[1]);
    for (k, layer) in proof.layers.iter().enumerate() {
        let lambda = transcript.challenge();
        let sub = sumcheck::verify(claim_p + lambda * claim_q, k, 3, &layer.sumcheck, transcript)?;
        let [p0, p1, q0, q1] = layer.children;
        let eq = eq_at(&point, &sub.point);
        sub.check(&layer_summand(lambda), &[eq, p0, p1, q0, q1])
            .map_err(|_| SumcheckError::FinalEvaluation(format!("layer {} of the fraction tree", k + 1)))?;
        transcript.absorb(&layer.children);
        let mu = transcript.challenge();
        claim_p = p0 + mu * (p1 - p0);
        claim_q = q0 + mu * (q1 - q0);
        point = std::iter::once(mu).chain(sub.point).collect();
    }
    Ok((proof.root, LeafClaim { point, p: claim_p, q: claim_q }))
}

/// How often each table entry occurs among `witness`; an error names a value the table lacks.
pub fn multiplicities(witness: &[Fr], table: &[Fr]) -> Result<Vec<Fr>, SumcheckError> {
    let index: std::collections::HashMap<_, usize> =
        table.iter().enumerate().map(|(j, t)| (t.to_repr(), j)).collect();
    let mut counts = vec![0u64; table.len()];
    for (i, w) in witness.iter().enumerate() {
        let j = index.get(&w.to_repr()).ok_or_else(|| {
            SumcheckError::Shape(format!("looked-up value {i} is not in the table ({w:?})"))
        })?;
        counts[*j] += 1;
    }
    Ok(counts.into_iter().map(Fr::from).collect())
}

/// A lookup proof: the witness's fraction tree, and one tree per table block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupProof {
    /// `Σ_i s_i/(α - w_i)`.
    pub witness: FractionSumProof,
    /// `Σ_j m_bj/(α - t_bj)` for each block `b`.
    pub tables: Vec<FractionSumProof>,
}

/// What a lookup proof leaves: claims on the looked-up values and on each block's multiplicities.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupClaims {
    /// On `w̃`.
    pub witness: Claim,
    /// On each block's `m̃`.
    pub multiplicities: Vec<Claim>,
}

/// Proves that every value of `witness` is an entry of `table`, with `mult` its multiplicities (from
/// [`multiplicities`]). The caller has absorbed commitments to `witness` and `mult` (the table is public).
pub fn prove_lookup(
    backend: &impl SumcheckBackend,
    witness: &Mle,
    (table, mult): (&Mle, &Mle),
    transcript: &mut impl Transcript,
) -> Result<(LookupProof, LookupClaims), SumcheckError> {
    let ones = vec![Fr::ONE; witness.evals().len()];
    prove_selected_lookup(backend, (&ones, witness), &[(table, mult)], transcript)
}

/// [`prove_lookup`] for the entries of `witness` where the public `selector` is one (zero elsewhere),
/// into a table made of blocks (each of its own power-of-two size, with its own multiplicities): the
/// witness tree's leaves are `(selector_i, α - w_i)`, so unselected entries add nothing, and the blocks'
/// roots add up to the table's.
pub fn prove_selected_lookup(
    backend: &impl SumcheckBackend,
    (selector, witness): (&[Fr], &Mle),
    blocks: &[(&Mle, &Mle)],
    transcript: &mut impl Transcript,
) -> Result<(LookupProof, LookupClaims), SumcheckError> {
    if blocks.iter().any(|(t, m)| t.vars() != m.vars()) || selector.len() != witness.evals().len() {
        return Err(SumcheckError::Shape("a table and its multiplicities differ in size".into()));
    }
    let alpha = transcript.challenge();
    let denominators = |values: &[Fr]| -> Result<Vec<Fr>, SumcheckError> {
        let d: Vec<Fr> = values.iter().map(|v| alpha - v).collect();
        if d.iter().any(|x| bool::from(x.is_zero())) {
            return Err(SumcheckError::FinalEvaluation("the challenge α hit a looked-up value".into()));
        }
        Ok(d)
    };
    let (wp, wl) =
        prove_fraction_sum(backend, selector.to_vec(), denominators(witness.evals())?, transcript)?;
    let mut tables = Vec::with_capacity(blocks.len());
    let mut multiplicities = Vec::with_capacity(blocks.len());
    for (table, mult) in blocks {
        let (tp, tl) =
            prove_fraction_sum(backend, mult.evals().to_vec(), denominators(table.evals())?, transcript)?;
        tables.push(tp);
        multiplicities.push(Claim { value: tl.p, point: tl.point });
    }
    let claims = LookupClaims { witness: Claim { value: alpha - wl.q, point: wl.point }, multiplicities };
    Ok((LookupProof { witness: wp, tables }, claims))
}

/// Checks a lookup of `2^witness_vars` values into a table of `2^table_vars` entries whose multilinear
/// extension `table_at` evaluates; returns the claims on the looked-up values and the multiplicities.
pub fn verify_lookup(
    (witness_vars, table_vars): (usize, usize),
    proof: &LookupProof,
    table_at: impl Fn(&[Fr]) -> Fr,
    transcript: &mut impl Transcript,
) -> Result<LookupClaims, SumcheckError> {
    let table: Extension<'_> = &table_at;
    verify_selected_lookup(witness_vars, proof, (&|_: &[Fr]| Fr::ONE, &[(table_vars, table)]), transcript)
}

/// A public polynomial's multilinear extension, as the verifier evaluates it.
pub type Extension<'a> = &'a dyn Fn(&[Fr]) -> Fr;

/// A table block for the verifier: its variables and its extension.
pub type TableBlock<'a> = (usize, Extension<'a>);

/// Checks a [`prove_selected_lookup`] proof; `selector_at` evaluates the selector's extension, and each
/// block gives its size and extension.
pub fn verify_selected_lookup(
    witness_vars: usize,
    proof: &LookupProof,
    (selector_at, blocks): (Extension<'_>, &[TableBlock<'_>]),
    transcript: &mut impl Transcript,
) -> Result<LookupClaims, SumcheckError> {
    if proof.tables.len() != blocks.len() {
        return Err(SumcheckError::Malformed(format!(
            "{} table trees for {} blocks",
            proof.tables.len(),
            blocks.len()
        )));
    }
    let alpha = transcript.challenge();
    let ([pw, qw], wl) = verify_fraction_sum(witness_vars, &proof.witness, transcript)?;
    if wl.p != selector_at(&wl.point) {
        return Err(SumcheckError::FinalEvaluation(
            "the witness tree's numerators are not the selector".into(),
        ));
    }
    // The blocks' roots summed as fractions.
    let (mut pt, mut qt) = (Fr::ZERO, Fr::ONE);
    let mut multiplicities = Vec::with_capacity(blocks.len());
    for (tree, (vars, table_at)) in proof.tables.iter().zip(blocks) {
        let ([p, q], tl) = verify_fraction_sum(*vars, tree, transcript)?;
        if bool::from(q.is_zero()) {
            return Err(SumcheckError::FinalEvaluation("a fraction tree's denominator is zero".into()));
        }
        if tl.q != alpha - table_at(&tl.point) {
            return Err(SumcheckError::FinalEvaluation("the table tree's leaves are not the table".into()));
        }
        (pt, qt) = (pt * q + p * qt, qt * q);
        multiplicities.push(Claim { value: tl.p, point: tl.point });
    }
    if bool::from(qw.is_zero()) {
        return Err(SumcheckError::FinalEvaluation("a fraction tree's denominator is zero".into()));
    }
    if pw * qt != pt * qw {
        return Err(SumcheckError::FinalEvaluation(
            "the looked-up values' fractions do not sum to the table's: a value is not in the table".into(),
        ));
    }
    Ok(LookupClaims { witness: Claim { value: alpha - wl.q, point: wl.point }, multiplicities })
}

/// The widest range table [`range_table`] builds.
pub const MAX_RANGE_BITS: usize = 30;

/// The range table `[0, 2^bits)` (`t_j = j`).
pub fn range_table(bits: usize) -> Result<Mle, SumcheckError> {
    if bits > MAX_RANGE_BITS {
        return Err(SumcheckError::Shape(format!("a {bits}-bit range table (at most {MAX_RANGE_BITS})")));
    }
    Mle::new((0..1u64 << bits).map(Fr::from).collect())
}

/// The range table's multilinear extension at `point`: `Σ_i point_i·2^i`, in `O(bits)`.
pub fn range_table_at(point: &[Fr]) -> Fr {
    let mut weight = Fr::ONE;
    let mut sum = Fr::ZERO;
    for x in point {
        sum += *x * weight;
        weight = weight.double();
    }
    sum
}
