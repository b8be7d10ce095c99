//! The sumcheck protocol for `Σ_(x ∈ {0,1}^n) g(P_1(x), …, P_m(x)) = claim`, each `P_k` multilinear and
//! `g` a [`Summand`]: a sum of products of them with constant coefficients (a plain product, or for
//! instance GKR's `eq·(p_0·q_1 + p_1·q_0 + λ·q_0·q_1)`).
//!
//! Round `i` the prover sends the round polynomial `s_i(t)` (degree ≤ `g`'s degree `d`) as its
//! values at `t = 0, …, d`; the verifier checks `s_i(0) + s_i(1)` against the running claim, absorbs
//! `s_i`, draws `r_i` and continues with `s_i(r_i)`. After `n` rounds it holds a [`Subclaim`]:
//! `g(P(r)) = value` at the random point `r`, which the caller closes with evaluations it trusts (a
//! commitment opening, a polynomial it can evaluate itself, or the claim of the next layer).
//!
//! Soundness: a false claim survives a round only if the prover's `s_i` differs from the true round
//! polynomial yet agrees with it at `r_i`, probability at most `d / |F|` per round by Schwartz-Zippel
//! (`n·d / 2^253` in all), because `r_i` is drawn after `s_i` is absorbed. The caller must absorb the claim
//! and everything it depends on before running the protocol.

use halo2_base::halo2_proofs::halo2curves::ff::{Field, PrimeField};
use poai_circuits::Fr;

use crate::backend::SumcheckBackend;
use crate::mle::Mle;
use crate::transcript::Transcript;
use crate::SumcheckError;

/// A sumcheck proof: each round polynomial's values at `0, …, d`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SumcheckProof {
    /// Round polynomials, first round first.
    pub rounds: Vec<Vec<Fr>>,
}

/// A sumcheck's summand: `Σ_t c_t · Π_(k ∈ t) P_k`, over the tables by index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summand {
    /// `(c_t, factors of term t)`.
    pub terms: Vec<(Fr, Vec<usize>)>,
}

impl Summand {
    /// `Π_(k < n) P_k`.
    pub fn product(n: usize) -> Self {
        Self { terms: vec![(Fr::ONE, (0..n).collect())] }
    }

    /// The degree: the most factors in a term.
    pub fn degree(&self) -> usize {
        self.terms.iter().map(|(_, f)| f.len()).max().unwrap_or(0)
    }

    /// The summand at the tables' values `values`.
    pub fn eval(&self, values: &[Fr]) -> Fr {
        self.terms.iter().map(|(c, f)| f.iter().fold(*c, |acc, &k| acc * values[k])).sum()
    }

    /// The largest table index a term reads, plus one.
    fn arity(&self) -> usize {
        self.terms.iter().flat_map(|(_, f)| f.iter().map(|k| k + 1)).max().unwrap_or(0)
    }
}

/// What the verifier is left to check: `g(P(point)) = value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subclaim {
    /// The random point (`x_0` first).
    pub point: Vec<Fr>,
    /// The value the product of the factors must take there.
    pub value: Fr,
}

impl Subclaim {
    /// Closes the subclaim of a product with the factors' evaluations at [`Self::point`].
    pub fn check_product(&self, evals: &[Fr]) -> Result<(), SumcheckError> {
        self.check(&Summand::product(evals.len()), evals)
    }

    /// Closes the subclaim with the tables' evaluations at [`Self::point`].
    pub fn check(&self, summand: &Summand, evals: &[Fr]) -> Result<(), SumcheckError> {
        if evals.len() >= summand.arity() && summand.eval(evals) == self.value {
            Ok(())
        } else {
            Err(SumcheckError::FinalEvaluation(format!(
                "the {} tables' evaluations do not give the last round's claim",
                evals.len()
            )))
        }
    }
}

/// The prover's result: the proof, the random point, and each factor's value there.
#[derive(Clone, Debug)]
pub struct Proved {
    /// The proof.
    pub proof: SumcheckProof,
    /// The random point the factors were bound to.
    pub point: Vec<Fr>,
    /// `P_k(point)` for each factor.
    pub evals: Vec<Fr>,
}

/// `Σ_x Π_k factors_k(x)`, the claim the sumcheck proves.
pub fn product_sum(factors: &[Mle]) -> Result<Fr, SumcheckError> {
    let len = check_factors(factors)?;
    Ok((0..len).map(|b| factors.iter().map(|f| f.evals()[b]).product::<Fr>()).sum())
}

fn check_factors(factors: &[Mle]) -> Result<usize, SumcheckError> {
    let first = factors.first().ok_or_else(|| SumcheckError::Shape("no factors".into()))?;
    if factors.iter().any(|f| f.vars() != first.vars()) {
        return Err(SumcheckError::Shape("factors in different numbers of variables".into()));
    }
    Ok(first.evals().len())
}

/// Proves `Σ_x Π_k factors_k(x)` (whose value the caller has absorbed into `transcript`).
pub fn prove(
    backend: &impl SumcheckBackend,
    factors: Vec<Mle>,
    transcript: &mut impl Transcript,
) -> Result<Proved, SumcheckError> {
    let product = Summand::product(factors.len());
    prove_summand(backend, factors, &product, transcript)
}

/// Proves `Σ_x summand(tables(x))` (whose value the caller has absorbed into `transcript`).
pub fn prove_summand(
    backend: &impl SumcheckBackend,
    tables: Vec<Mle>,
    summand: &Summand,
    transcript: &mut impl Transcript,
) -> Result<Proved, SumcheckError> {
    check_factors(&tables)?;
    if summand.arity() > tables.len() {
        return Err(SumcheckError::Shape(format!(
            "the summand reads {} tables, {} given",
            summand.arity(),
            tables.len()
        )));
    }
    let degree = summand.degree();
    let mut tables: Vec<Vec<Fr>> = tables.into_iter().map(Mle::into_evals).collect();
    let vars = tables[0].len().trailing_zeros() as usize;
    let (mut rounds, mut point) = (Vec::with_capacity(vars), Vec::with_capacity(vars));
    for _ in 0..vars {
        let s = backend.round_evals(&tables, summand, degree);
        transcript.absorb(&s);
        let r = transcript.challenge();
        for t in &mut tables {
            backend.bind(t, r);
        }
        rounds.push(s);
        point.push(r);
    }
    let evals = tables.iter().map(|t| t[0]).collect();
    Ok(Proved { proof: SumcheckProof { rounds }, point, evals })
}

/// Checks `proof` of `claim` over `vars` variables with round polynomials of degree `degree`, drawing the
/// same challenges as the prover; returns the subclaim left to close.
pub fn verify(
    claim: Fr,
    vars: usize,
    degree: usize,
    proof: &SumcheckProof,
    transcript: &mut impl Transcript,
) -> Result<Subclaim, SumcheckError> {
    if proof.rounds.len() != vars {
        return Err(SumcheckError::Malformed(format!("{} rounds for {vars} variables", proof.rounds.len())));
    }
    let mut value = claim;
    let mut point = Vec::with_capacity(vars);
    for (round, s) in proof.rounds.iter().enumerate() {
        if s.len() != degree + 1 {
            return Err(SumcheckError::Malformed(format!(
                "round {round} sends {} values for a degree-{degree} polynomial",
                s.len()
            )));
        }
        if s[0] + s[1] != value {
            return Err(SumcheckError::RoundSum { round });
        }
        transcript.absorb(s);
        let r = transcript.challenge();
        value = interpolate(s, r);
        point.push(r);
    }
    Ok(Subclaim { point, value })
}

/// The polynomial of degree `< values.len()` through `(i, values[i])`, evaluated at `r` (Lagrange).
pub fn interpolate(values: &[Fr], r: Fr) -> Fr {
    let n = values.len();
    let node = |i: usize| Fr::from(i as u64);
    (0..n)
        .map(|i| {
            let (mut num, mut den) = (Fr::ONE, Fr::ONE);
            for j in (0..n).filter(|&j| j != i) {
                num *= r - node(j);
                den *= node(i) - node(j);
            }
            // Nodes are distinct small integers, so `den` is never zero.
            values[i] * num * den.invert().unwrap_or(Fr::ZERO)
        })
        .sum()
}

/// The field's size in bits, for soundness statements.
pub const FIELD_BITS: u32 = Fr::NUM_BITS;
