//! Fast generation of a development SRS from its secret.
//!
//! halo2's `ParamsKZG::setup` multiplies the generator by each power of the secret and by each Lagrange
//! scalar with a general scalar multiplication and inverts one field element per Lagrange point: six
//! minutes at k = 21 on two cores. Every one of those multiplications has the same base, so a table of
//! the generator's multiples per byte position turns each into 32 mixed additions, and the Lagrange
//! denominators are inverted in batches. The points are exactly `setup`'s for the same secret.

use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine, G2Affine, G1};
use halo2_base::halo2_proofs::halo2curves::ff::{BatchInvert, Field, PrimeField};
use halo2_base::halo2_proofs::halo2curves::group::prime::PrimeCurveAffine;
use halo2_base::halo2_proofs::halo2curves::group::{Curve, Group};
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand_chacha::rand_core::SeedableRng;
use rayon::prelude::*;

/// Points computed per parallel task (one batch inversion and one batch normalisation each).
const CHUNK: usize = 1 << 12;

/// Multiples of one base point for every byte of a scalar: entry `256·i + b` is `b·256^i·base`.
struct ByteTable(Vec<G1Affine>);

impl ByteTable {
    fn new(base: G1) -> Self {
        let mut projective = Vec::with_capacity(32 * 256);
        let mut window = base;
        for _ in 0..32 {
            let mut acc = G1::identity();
            for _ in 0..256 {
                projective.push(acc);
                acc += window;
            }
            window = acc;
        }
        let mut table = vec![G1Affine::identity(); projective.len()];
        G1::batch_normalize(&projective, &mut table);
        Self(table)
    }

    /// `scalar·base`: one table entry per non-zero byte of the scalar's canonical little-endian form.
    fn mul(&self, scalar: &Fr) -> G1 {
        let mut acc = G1::identity();
        for (i, byte) in scalar.to_repr().as_ref().iter().enumerate() {
            if *byte != 0 {
                acc += self.0[256 * i + usize::from(*byte)];
            }
        }
        acc
    }

    /// Multiplies the base by every scalar, in parallel, to affine points.
    fn mul_all(&self, scalars: &[Fr]) -> Vec<G1Affine> {
        let mut out = vec![G1Affine::identity(); scalars.len()];
        out.par_chunks_mut(CHUNK).zip(scalars.par_chunks(CHUNK)).for_each(|(out, scalars)| {
            let projective: Vec<G1> = scalars.iter().map(|s| self.mul(s)).collect();
            G1::batch_normalize(&projective, out);
        });
        out
    }
}

/// KZG parameters of size `2^k` for the secret `s`: the powers `s^i·G1`, the Lagrange basis
/// `L_i(s)·G1` over the size-`2^k` domain, `G2` and `s·G2`. `None` only if `s` lies in the domain (the
/// basis is then undefined; probability `2^k / r`).
pub(crate) fn params_for_secret(k: u32, s: Fr) -> Option<ParamsKZG<Bn256>> {
    let n = 1usize << k;
    let table = ByteTable::new(G1::generator());

    let powers: Vec<Fr> = (0..n)
        .into_par_iter()
        .step_by(CHUNK)
        .flat_map_iter(|start| {
            let len = CHUNK.min(n - start);
            std::iter::successors(Some(s.pow_vartime([start as u64])), move |p| Some(*p * s)).take(len)
        })
        .collect();
    let g = table.mul_all(&powers);
    drop(powers);

    // L_i(s) = (s^n − 1)/n · ω^i / (s − ω^i), ω the domain's generator.
    let mut omega = Fr::ROOT_OF_UNITY;
    for _ in k..Fr::S {
        omega = omega.square();
    }
    let n_inv = Option::<Fr>::from(Fr::from(n as u64).invert())?;
    let multiplier = (s.pow_vartime([n as u64]) - Fr::ONE) * n_inv;
    let lagrange: Vec<Fr> = (0..n)
        .into_par_iter()
        .step_by(CHUNK)
        .map(|start| {
            let len = CHUNK.min(n - start);
            let roots: Vec<Fr> =
                std::iter::successors(Some(omega.pow_vartime([start as u64])), |r| Some(*r * omega))
                    .take(len)
                    .collect();
            let mut denominators: Vec<Fr> = roots.iter().map(|r| s - r).collect();
            if denominators.iter().any(|d| bool::from(d.is_zero())) {
                return None;
            }
            denominators.iter_mut().batch_invert();
            Some(roots.iter().zip(&denominators).map(|(r, d)| multiplier * r * d).collect::<Vec<_>>())
        })
        .collect::<Option<Vec<_>>>()?
        .concat();
    let g_lagrange = table.mul_all(&lagrange);

    let g2 = G2Affine::generator();
    let s_g2 = (g2 * s).to_affine();
    // `from_parts` is a method; any parameters serve as the receiver (it reads nothing from them).
    let tiny = ParamsKZG::<Bn256>::setup(1, rand_chacha::ChaCha20Rng::seed_from_u64(0));
    Some(tiny.from_parts(k, g, Some(g_lagrange), g2, s_g2))
}

#[cfg(test)]
#[allow(clippy::expect_used, reason = "test failures")]
mod tests {
    use halo2_base::halo2_proofs::poly::commitment::{Params, ParamsProver};
    use halo2_base::halo2_proofs::SerdeFormat;

    use super::*;

    #[test]
    fn the_table_generator_gives_halo2s_setup_points() {
        for (k, seed) in [(1, 7), (5, 1), (9, 42)] {
            let fast = params_for_secret(k, poai_verifier::srs::dev_secret(seed))
                .expect("secret outside the domain");
            let slow = ParamsKZG::<Bn256>::setup(k, rand_chacha::ChaCha20Rng::seed_from_u64(seed));
            assert_eq!(fast.get_g(), slow.get_g(), "powers, k = {k}");
            assert_eq!(fast.k(), k);
            // The serialised form holds the Lagrange basis and both G2 points too.
            let bytes = |p: &ParamsKZG<Bn256>| {
                let mut out = Vec::new();
                p.write_custom(&mut out, SerdeFormat::RawBytes).expect("in memory");
                out
            };
            assert!(bytes(&fast) == bytes(&slow), "parameters differ, k = {k}");
        }
    }

    #[test]
    fn a_secret_inside_the_domain_is_refused() {
        assert!(params_for_secret(3, Fr::ONE).is_none());
    }
}
