//! Matrix products by sumcheck (Thaler's reduction): `C = A·B` with `A` of `m × k`, `B` of `k × n`, all
//! row-major and of power-of-two sizes, as [`Mle`]s (column bits first).
//!
//! A claim `C̃(i, j) = v` becomes, by one sumcheck over the inner index, `Σ_x Ã(i, x)·B̃(x, j) = v`, and
//! then the two claims `Ã(i, r)` and `B̃(r, j)` at the sumcheck's random point `r`. The prover's work is
//! `O(mk + kn)`: `C` is never committed and no multiply-accumulate is constrained one by one, which is
//! what makes this backend's linear layers cheap. The prover's two final values are absorbed before any
//! later challenge, so the claims on `A` and `B` are bound like every other message.

use halo2_base::halo2_proofs::halo2curves::ff::Field;
use poai_circuits::Fr;

use crate::backend::SumcheckBackend;
use crate::mle::{eq_evals, Mle};
use crate::sumcheck::{self, SumcheckProof};
use crate::transcript::Transcript;
use crate::SumcheckError;

/// The shape of `C = A·B`, as log2 sizes: `A` is `2^m × 2^k`, `B` is `2^k × 2^n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatmulShape {
    /// log2 of `A`'s and `C`'s rows.
    pub m: usize,
    /// log2 of the inner dimension.
    pub k: usize,
    /// log2 of `B`'s and `C`'s columns.
    pub n: usize,
}

/// A proof that `C̃(point) = v` for `C = A·B`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatmulProof {
    /// The sumcheck over the inner index.
    pub sumcheck: SumcheckProof,
    /// `Ã(i, r)`.
    pub a_eval: Fr,
    /// `B̃(r, j)`.
    pub b_eval: Fr,
}

/// A claim that a polynomial takes `value` at `point` (in [`Mle`] order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// The point.
    pub point: Vec<Fr>,
    /// The value.
    pub value: Fr,
}

/// What a matrix-product proof leaves to check: claims on `A` and on `B`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatmulClaims {
    /// On `Ã`, at `(r, i)`.
    pub a: Claim,
    /// On `B̃`, at `(j, r)`.
    pub b: Claim,
}

impl MatmulShape {
    fn check(&self, a: &Mle, b: &Mle, c_point: &[Fr]) -> Result<(), SumcheckError> {
        if a.vars() != self.m + self.k || b.vars() != self.k + self.n {
            return Err(SumcheckError::Shape(format!(
                "A has {} variables and B {}; a 2^{} × 2^{} by 2^{} × 2^{} product needs {} and {}",
                a.vars(),
                b.vars(),
                self.m,
                self.k,
                self.k,
                self.n,
                self.m + self.k,
                self.k + self.n
            )));
        }
        self.check_point(c_point)
    }

    fn check_point(&self, c_point: &[Fr]) -> Result<(), SumcheckError> {
        if c_point.len() != self.m + self.n {
            return Err(SumcheckError::PointLength { vars: self.m + self.n, got: c_point.len() });
        }
        Ok(())
    }

    /// `C`'s point split into its column part `j` and row part `i`.
    fn split<'p>(&self, c_point: &'p [Fr]) -> (&'p [Fr], &'p [Fr]) {
        c_point.split_at(self.n)
    }
}

/// Proves `C̃(c_point) = Σ_x Ã(i, x)·B̃(x, j)` for `C = A·B`; the caller has absorbed the claimed value.
pub fn prove(
    backend: &impl SumcheckBackend,
    (a, b): (&Mle, &Mle),
    shape: MatmulShape,
    c_point: &[Fr],
    transcript: &mut impl Transcript,
) -> Result<(MatmulProof, MatmulClaims), SumcheckError> {
    shape.check(a, b, c_point)?;
    let (j, i) = shape.split(c_point);
    let (rows, inner, cols) = (1usize << shape.m, 1usize << shape.k, 1usize << shape.n);
    // f(x) = Ã(i, x) = Σ_row eq(i, row)·A[row][x]; g(x) = B̃(x, j) = Σ_col eq(j, col)·B[x][col].
    let (eq_i, eq_j) = (eq_evals(i), eq_evals(j));
    let mut f = vec![Fr::ZERO; inner];
    for (row, e) in eq_i.iter().enumerate().take(rows) {
        for (fx, av) in f.iter_mut().zip(&a.evals()[row * inner..(row + 1) * inner]) {
            *fx += *e * av;
        }
    }
    let g: Vec<Fr> = (0..inner)
        .map(|x| b.evals()[x * cols..(x + 1) * cols].iter().zip(&eq_j).map(|(bv, e)| *bv * e).sum())
        .collect();
    let proved = sumcheck::prove(backend, vec![Mle::new(f)?, Mle::new(g)?], transcript)?;
    let [a_eval, b_eval] = [proved.evals[0], proved.evals[1]];
    transcript.absorb(&[a_eval, b_eval]);
    let claims = claims(&proved.point, (i, j), (a_eval, b_eval));
    Ok((MatmulProof { sumcheck: proved.proof, a_eval, b_eval }, claims))
}

/// Checks `proof` of `C̃(c_point) = value`; returns the claims on `A` and `B` it reduces to.
pub fn verify(
    shape: MatmulShape,
    c_point: &[Fr],
    value: Fr,
    proof: &MatmulProof,
    transcript: &mut impl Transcript,
) -> Result<MatmulClaims, SumcheckError> {
    shape.check_point(c_point)?;
    let sub = sumcheck::verify(value, shape.k, 2, &proof.sumcheck, transcript)?;
    sub.check_product(&[proof.a_eval, proof.b_eval])?;
    transcript.absorb(&[proof.a_eval, proof.b_eval]);
    let (j, i) = shape.split(c_point);
    Ok(claims(&sub.point, (i, j), (proof.a_eval, proof.b_eval)))
}

/// The claims on `A` at `(r, i)` and on `B` at `(j, r)`.
fn claims(r: &[Fr], (i, j): (&[Fr], &[Fr]), (a_eval, b_eval): (Fr, Fr)) -> MatmulClaims {
    MatmulClaims {
        a: Claim { point: [r, i].concat(), value: a_eval },
        b: Claim { point: [j, r].concat(), value: b_eval },
    }
}
