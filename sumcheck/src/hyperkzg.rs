//! HyperKZG: a commitment to a multilinear polynomial on the KZG powers of tau poai already has, opened
//! at any point with `O(vars)` group elements and one two-pairing check.
//!
//! A polynomial with hypercube evaluations `e` is committed as the univariate `f(X) = Σ_b e[b]·X^b` at
//! the secret: `C = [f(τ)]₁`, one MSM. To show `f̃(u) = v`, the prover folds `f_0 = f` one variable at a
//! time, `f_(i+1)[j] = f_i[2j] + u_i·(f_i[2j+1] - f_i[2j])` ([`crate::Mle`]'s binding order), so that
//! `f_ℓ = v`; in univariate terms `f_i(X) = E_i(X²) + X·O_i(X²)` and `f_(i+1)(Y) = (1 - u_i)·E_i(Y) +
//! u_i·O_i(Y)`. It commits to `f_1 … f_(ℓ-1)`, receives `β`, and sends every `f_i` at `β`, `-β` and `β²`.
//! The verifier checks each fold at `β²` from the values at `±β` (`E_i(β²) = (f_i(β) + f_i(-β))/2`,
//! `O_i(β²) = (f_i(β) - f_i(-β))/2β`), ending at `v`; then one batched opening shows that the sent values
//! are the committed polynomials' values. A random `q` combines the polynomials into `B`; SHPLONK-style,
//! the prover commits to `Q = (B - R)/Z` (`R` through `B`'s three values, `Z` vanishing at the points),
//! receives `γ`, and opens `L = B - R(γ) - Z(γ)·Q`, which vanishes at `γ`, with one more witness `W'`:
//! `e(C_B - R(γ)·G - Z(γ)·W + γ·W', H) = e(W', τ·H)`. Two witness MSMs instead of one per point.
//!
//! Soundness: a wrong value forces a wrong fold somewhere, i.e. a value sent for some committed `f_i` at a
//! point that is not `f_i`'s; `β`, `q` and `γ` are drawn after everything they bind is absorbed, so such a
//! value passes the batched KZG check only with probability `O(2^ℓ / |F|)` under the q-SDH assumption of
//! the powers of tau. The commitment is binding, not hiding: zero knowledge is for later (issue #25).

use halo2_base::halo2_proofs::arithmetic::best_multiexp;
use halo2_base::halo2_proofs::halo2curves::bn256::{multi_miller_loop, G1Affine, G2Affine, G2Prepared, G1};
use halo2_base::halo2_proofs::halo2curves::ff::{Field, PrimeField};
use halo2_base::halo2_proofs::halo2curves::group::prime::PrimeCurveAffine;
use halo2_base::halo2_proofs::halo2curves::group::{Curve, Group};
use halo2_base::halo2_proofs::halo2curves::pairing::MillerLoopResult;
use poai_circuits::Fr;
use rayon::prelude::*;

use crate::mle::{bind_in_place, Mle};
use crate::transcript::Transcript;
use crate::SumcheckError;

/// The prover's key: the powers `[τ^i]₁`, and the verifier's three points.
#[derive(Clone, Debug)]
pub struct KzgKey {
    powers: Vec<G1Affine>,
    vk: KzgVerifierKey,
}

/// The verifier's key: `G`, `H` and `τ·H`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KzgVerifierKey {
    /// `[1]₁`.
    pub g1: G1Affine,
    /// `[1]₂`.
    pub g2: G2Affine,
    /// `[τ]₂`.
    pub tau_g2: G2Affine,
}

impl KzgKey {
    /// A key from the powers of tau (`powers[i] = [τ^i]₁`, at least one) and `[1]₂`, `[τ]₂`, as a
    /// (checked) SRS file holds them. Commits to polynomials of up to `powers.len()` evaluations.
    pub fn new(powers: Vec<G1Affine>, g2: G2Affine, tau_g2: G2Affine) -> Result<Self, SumcheckError> {
        let g1 = *powers.first().ok_or_else(|| SumcheckError::Shape("no powers of tau".into()))?;
        Ok(Self { powers, vk: KzgVerifierKey { g1, g2, tau_g2 } })
    }

    /// A key whose secret `tau` is known: for tests only, since anyone holding `tau` can open a
    /// commitment to any value.
    pub fn insecure_from_secret(tau: Fr, vars: usize) -> Self {
        let n = 1usize << vars;
        let g = G1::generator();
        let mut scalars = Vec::with_capacity(n);
        let mut t = Fr::ONE;
        for _ in 0..n {
            scalars.push(t);
            t *= tau;
        }
        // Fixed-base windows: table[w][j] = j·2^(8w)·G, so each power is 32 additions.
        let mut table = Vec::with_capacity(32);
        let mut base = g;
        for _ in 0..32 {
            let mut row = Vec::with_capacity(256);
            let mut acc = G1::identity();
            for _ in 0..256 {
                row.push(acc);
                acc += base;
            }
            base = acc;
            table.push(row);
        }
        let projective: Vec<G1> = scalars
            .par_iter()
            .map(|t| {
                let bytes = t.to_repr();
                bytes.as_ref().iter().zip(&table).fold(G1::identity(), |acc, (&b, row)| acc + row[b as usize])
            })
            .collect();
        let mut powers = vec![G1Affine::identity(); n];
        G1::batch_normalize(&projective, &mut powers);
        let g2 = G2Affine::generator();
        let vk = KzgVerifierKey { g1: G1Affine::generator(), g2, tau_g2: (g2 * tau).to_affine() };
        Self { powers, vk }
    }

    /// The verifier's key.
    pub fn verifier_key(&self) -> KzgVerifierKey {
        self.vk
    }

    /// `[p(τ)]₁` for the univariate polynomial with coefficients `coeffs`.
    fn commit_coeffs(&self, coeffs: &[Fr]) -> Result<G1Affine, SumcheckError> {
        let bases = self.powers.get(..coeffs.len()).ok_or_else(|| {
            SumcheckError::Shape(format!(
                "{} coefficients, the key has {} powers",
                coeffs.len(),
                self.powers.len()
            ))
        })?;
        Ok(best_multiexp(coeffs, bases).to_affine())
    }
}

/// A commitment to a multilinear polynomial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Commitment(pub G1Affine);

/// Commits to `poly`.
pub fn commit(key: &KzgKey, poly: &Mle) -> Result<Commitment, SumcheckError> {
    key.commit_coeffs(poly.evals()).map(Commitment)
}

/// An opening of a committed polynomial at a point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpeningProof {
    /// Commitments to the folded polynomials `f_1 … f_(ℓ-1)`.
    pub folds: Vec<G1Affine>,
    /// `f_i(β)`, `f_i(-β)`, `f_i(β²)` for `i = 0 … ℓ-1`.
    pub evals: Vec<[Fr; 3]>,
    /// `[Q(τ)]₁` for `Q = (B - R)/Z` and `[L(τ)/(τ - γ)]₁` (the batched polynomial `B` at the three
    /// points, SHPLONK-style: `R` interpolates its values there, `Z` vanishes there).
    pub witnesses: [G1Affine; 2],
}

/// `p(z)` by Horner.
fn eval_univariate(coeffs: &[Fr], z: Fr) -> Fr {
    coeffs.iter().rev().fold(Fr::ZERO, |acc, c| acc * z + c)
}

/// `(p(X) - p(z)) / (X - z)` by synthetic division.
fn divide_by_linear(coeffs: &[Fr], z: Fr) -> Vec<Fr> {
    let mut q = vec![Fr::ZERO; coeffs.len().saturating_sub(1)];
    let mut carry = Fr::ZERO;
    for i in (1..coeffs.len()).rev() {
        carry = coeffs[i] + carry * z;
        q[i - 1] = carry;
    }
    q
}

/// `B(z_j) = Σ_i q^i·f_i(z_j)` for the three points.
fn batched_values(evals: &[[Fr; 3]], q: Fr) -> [Fr; 3] {
    let mut qi = Fr::ONE;
    let mut out = [Fr::ZERO; 3];
    for e in evals {
        out.iter_mut().zip(e).for_each(|(o, v)| *o += qi * v);
        qi *= q;
    }
    out
}

/// `1 / Π_(k ≠ j) (z_j - z_k)` for the three points (distinct unless `β` is 0 or a cube root of 1).
fn lagrange_denominators(z: [Fr; 3]) -> Result<[Fr; 3], SumcheckError> {
    let mut out = [Fr::ZERO; 3];
    for j in 0..3 {
        let d: Fr = (0..3).filter(|&k| k != j).map(|k| z[j] - z[k]).product();
        out[j] = Option::<Fr>::from(d.invert())
            .ok_or_else(|| SumcheckError::FinalEvaluation("the opening points coincide".into()))?;
    }
    Ok(out)
}

/// The coefficients of the degree-2 polynomial through `(z_j, y_j)`.
fn interpolation_coeffs(z: [Fr; 3], y: [Fr; 3]) -> Result<[Fr; 3], SumcheckError> {
    let den = lagrange_denominators(z)?;
    let mut c = [Fr::ZERO; 3];
    for j in 0..3 {
        // (X - a)(X - b) = X² - (a + b)·X + a·b for the two other points.
        let others: Vec<Fr> = (0..3).filter(|&k| k != j).map(|k| z[k]).collect();
        let w = y[j] * den[j];
        c[0] += w * others[0] * others[1];
        c[1] -= w * (others[0] + others[1]);
        c[2] += w;
    }
    Ok(c)
}

/// The three opening points from `β`.
fn points(beta: Fr) -> [Fr; 3] {
    [beta, -beta, beta.square()]
}

/// Opens the committed `poly` at `point` (its value, which the caller has absorbed or will send, is
/// `poly.evaluate(point)`).
pub fn open(
    key: &KzgKey,
    poly: &Mle,
    point: &[Fr],
    transcript: &mut impl Transcript,
) -> Result<OpeningProof, SumcheckError> {
    if point.len() != poly.vars() {
        return Err(SumcheckError::PointLength { vars: poly.vars(), got: point.len() });
    }
    let mut polys = vec![poly.evals().to_vec()];
    for &u in point.iter().take(point.len().saturating_sub(1)) {
        let mut next = polys[polys.len() - 1].clone();
        bind_in_place(&mut next, u);
        polys.push(next);
    }
    if point.is_empty() {
        return Ok(OpeningProof {
            folds: Vec::new(),
            evals: Vec::new(),
            witnesses: [G1::identity().to_affine(); 2],
        });
    }
    let folds = polys[1..].iter().map(|p| key.commit_coeffs(p)).collect::<Result<Vec<_>, _>>()?;
    folds.iter().for_each(|c| transcript.absorb_g1(c));
    let beta = transcript.challenge();
    let z = points(beta);
    let evals: Vec<[Fr; 3]> = polys.iter().map(|p| z.map(|zj| eval_univariate(p, zj))).collect();
    evals.iter().for_each(|e| transcript.absorb(e));
    let q = transcript.challenge();
    // B(X) = Σ_i q^i·f_i(X).
    let mut batched = vec![Fr::ZERO; polys[0].len()];
    let mut qi = Fr::ONE;
    for p in &polys {
        batched.iter_mut().zip(p).for_each(|(b, c)| *b += qi * c);
        qi *= q;
    }
    // Q = (B - R)/Z: B - R vanishes at the three distinct points, so dividing by each factor is exact.
    let values = batched_values(&evals, q);
    let r_coeffs = interpolation_coeffs(z, values)?;
    let mut numerator = batched.clone();
    numerator.iter_mut().zip(&r_coeffs).for_each(|(b, r)| *b -= r);
    let quotient = z.iter().fold(numerator, |p, &zj| divide_by_linear(&p, zj));
    let w = key.commit_coeffs(&quotient)?;
    transcript.absorb_g1(&w);
    let gamma = transcript.challenge();
    // L = B - R(γ) - Z(γ)·Q vanishes at γ.
    let z_gamma: Fr = z.iter().map(|zj| gamma - zj).product();
    let mut l = batched;
    l[0] -= eval_univariate(&r_coeffs, gamma);
    l.iter_mut().zip(&quotient).for_each(|(c, qc)| *c -= z_gamma * qc);
    let w_gamma = key.commit_coeffs(&divide_by_linear(&l, gamma))?;
    transcript.absorb_g1(&w_gamma);
    let witnesses = [w, w_gamma];
    Ok(OpeningProof { folds, evals, witnesses })
}

/// Checks that the polynomial committed in `commitment` takes `value` at `point`.
pub fn verify(
    vk: &KzgVerifierKey,
    commitment: &Commitment,
    point: &[Fr],
    value: Fr,
    proof: &OpeningProof,
    transcript: &mut impl Transcript,
) -> Result<(), SumcheckError> {
    let vars = point.len();
    if vars == 0 {
        // A constant: the commitment is `v·G` itself.
        return if commitment.0 == (vk.g1 * value).to_affine() {
            Ok(())
        } else {
            Err(SumcheckError::FinalEvaluation("the constant's commitment is not its value".into()))
        };
    }
    if proof.folds.len() != vars - 1 || proof.evals.len() != vars {
        return Err(SumcheckError::Malformed(format!(
            "{} fold commitments and {} evaluation triples for {vars} variables",
            proof.folds.len(),
            proof.evals.len()
        )));
    }
    proof.folds.iter().for_each(|c| transcript.absorb_g1(c));
    let beta = transcript.challenge();
    let two_beta_inv = Option::<Fr>::from((beta + beta).invert())
        .ok_or_else(|| SumcheckError::FinalEvaluation("the challenge β is zero".into()))?;
    let two_inv = Option::<Fr>::from(Fr::from(2).invert()).unwrap_or(Fr::ZERO);
    // Each fold at β², from the previous polynomial at ±β, ends at the claimed value.
    for (i, (e, &u)) in proof.evals.iter().zip(point).enumerate() {
        let even = (e[0] + e[1]) * two_inv;
        let odd = (e[0] - e[1]) * two_beta_inv;
        let next = (Fr::ONE - u) * even + u * odd;
        let claimed = proof.evals.get(i + 1).map_or(value, |n| n[2]);
        if next != claimed {
            return Err(SumcheckError::FinalEvaluation(format!(
                "fold {i} does not give the next polynomial at β²"
            )));
        }
    }
    proof.evals.iter().for_each(|e| transcript.absorb(e));
    let q = transcript.challenge();
    let [w, w_gamma] = proof.witnesses;
    transcript.absorb_g1(&w);
    let gamma = transcript.challenge();
    transcript.absorb_g1(&w_gamma);
    // C_B = Σ q^i·C_i; B's values at the three points from the sent ones.
    let mut qi = Fr::ONE;
    let mut c_b = G1::identity();
    for c in std::iter::once(&commitment.0).chain(&proof.folds) {
        c_b += *c * qi;
        qi *= q;
    }
    let z = points(beta);
    let r_gamma = eval_univariate(&interpolation_coeffs(z, batched_values(&proof.evals, q))?, gamma);
    let z_gamma: Fr = z.iter().map(|zj| gamma - zj).product();
    // [L(τ)] + γ·W' = τ·W' with [L(τ)] = C_B - R(γ)·G - Z(γ)·W.
    let lhs = c_b - vk.g1 * r_gamma - w * z_gamma + w_gamma * gamma;
    let rhs = G1::from(w_gamma);
    let (lhs, minus_rhs) = (lhs.to_affine(), (-rhs).to_affine());
    let check =
        multi_miller_loop(&[(&lhs, &G2Prepared::from(vk.g2)), (&minus_rhs, &G2Prepared::from(vk.tau_g2))])
            .final_exponentiation();
    if bool::from(check.is_identity()) {
        Ok(())
    } else {
        Err(SumcheckError::FinalEvaluation("the batched KZG opening fails the pairing check".into()))
    }
}
