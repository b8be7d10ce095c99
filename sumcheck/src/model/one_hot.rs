//! One-hot rows (`QOp::OneHot`, the first half of an embedding lookup): `o` is committed with 1-bit
//! entries, so every entry is 0 or 1 (the packing's range logup). At random `ρ` over the index
//! positions and a random `λ`, one product sumcheck over `o`'s hypercube shows
//!
//! `Σ_(i, v) eq(ρ, i)·(1 + λ·v)·o(i, v) = Σ_i eq(ρ, i) + λ·x̃(ρ)`,
//!
//! the random combination of `Σ_v o(i, v) = 1` and `Σ_v v·o(i, v) = x_i` for every real `i`. Both sides are
//! multilinear in `ρ` and linear in `λ`, so a row that breaks either identity survives with probability
//! at most `(vars + 1)/|F|`. With bits that sum to one (far fewer than the modulus), exactly one `o(i, v*)`
//! is 1 and the weighted sum makes `v* = x_i`: the row is `onehot(x_i)`, and an index outside
//! `[0, depth)` has no accepted proof. The sumcheck ends in `õ(r)` (a claim on the commitment) and the
//! verifier computes the weights' extension at `r` itself in `O(rows · depth)`.

use poai_circuits::Fr;

use crate::mle::eq_evals;

/// The weights `h(i·depth + v) = eq(ρ, i)·(1 + λ·v)` over `o`'s `2^out_vars` positions (zero elsewhere).
pub(super) fn weights(depth: usize, rows: usize, out_vars: usize, rho: &[Fr], lambda: Fr) -> Vec<Fr> {
    let eq = eq_evals(rho);
    let per_class: Vec<Fr> = (0..depth as u64).map(|v| Fr::from(1) + lambda * Fr::from(v)).collect();
    let mut h = vec![Fr::from(0); 1 << out_vars];
    for i in 0..rows {
        for (v, w) in per_class.iter().enumerate() {
            h[i * depth + v] = eq[i] * w;
        }
    }
    h
}

/// `h̃(r)` for the weights of [`weights`] (`r` over `o`'s variables).
pub(super) fn weights_at(depth: usize, rows: usize, rho: &[Fr], lambda: Fr, r: &[Fr]) -> Fr {
    let h = weights(depth, rows, r.len(), rho, lambda);
    h.iter().zip(&eq_evals(r)).map(|(w, e)| *w * e).sum()
}
