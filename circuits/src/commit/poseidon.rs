//! Native Poseidon over BN254, matching halo2-base's in-circuit `PoseidonHasher::hash_fix_len_array`.
//!
//! Width 5 (rate 4, capacity 1), x^5 S-box, 8 full and 60 partial rounds, constants from the reference
//! Grain generator. Sponge: the capacity starts at `2^64`; each chunk of up to four inputs is added to the
//! rate part, a chunk shorter than the rate is padded with a single `1`, and an input whose length is a
//! multiple of the rate gets one more all-padding permutation. The digest is `state[1]`.

use std::sync::OnceLock;

use halo2_base::halo2_proofs::arithmetic::Field;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::PrimeField;
use poseidon_primitives::poseidon::primitives::Spec;

/// State width.
pub const POSEIDON_T: usize = 5;
/// Rate (inputs absorbed per permutation).
pub const POSEIDON_RATE: usize = 4;
/// Full rounds.
pub const POSEIDON_R_F: usize = 8;
/// Partial rounds.
pub const POSEIDON_R_P: usize = 60;

#[derive(Debug)]
struct PoaiPoseidon;

impl Spec<Fr, POSEIDON_T, POSEIDON_RATE> for PoaiPoseidon {
    fn full_rounds() -> usize {
        POSEIDON_R_F
    }
    fn partial_rounds() -> usize {
        POSEIDON_R_P
    }
    fn sbox(val: Fr) -> Fr {
        val.pow_vartime([5])
    }
    fn secure_mds() -> usize {
        0
    }
}

struct Constants {
    rounds: Vec<[Fr; POSEIDON_T]>,
    mds: [[Fr; POSEIDON_T]; POSEIDON_T],
}

fn constants() -> &'static Constants {
    static CONSTANTS: OnceLock<Constants> = OnceLock::new();
    CONSTANTS.get_or_init(|| {
        let (rounds, mds, _) = PoaiPoseidon::constants();
        Constants { rounds, mds }
    })
}

/// Round constants, one row of `POSEIDON_T` per round (full rounds first and last, partial between).
pub fn round_constants() -> &'static [[Fr; POSEIDON_T]] {
    &constants().rounds
}

/// The MDS matrix (`next[i] = Σ_j mds[i][j] · state[j]`).
pub fn mds() -> &'static [[Fr; POSEIDON_T]; POSEIDON_T] {
    &constants().mds
}

/// True for the rounds that apply the S-box to the whole state.
pub fn is_full_round(r: usize) -> bool {
    let half = POSEIDON_R_F / 2;
    r < half || r >= half + POSEIDON_R_P
}

/// The sponge's initial capacity element (`2^64`, as halo2-base's hasher).
pub fn initial_capacity() -> Fr {
    Fr::from_u128(1u128 << 64)
}

fn pow5(x: Fr) -> Fr {
    let x2 = x.square();
    x2.square() * x
}

/// The Poseidon permutation.
pub fn permute(state: &mut [Fr; POSEIDON_T]) {
    let c = constants();
    for (r, rc) in c.rounds.iter().enumerate() {
        for (s, k) in state.iter_mut().zip(rc) {
            *s += k;
        }
        if is_full_round(r) {
            state.iter_mut().for_each(|s| *s = pow5(*s));
        } else {
            state[0] = pow5(state[0]);
        }
        let mut next = [Fr::ZERO; POSEIDON_T];
        for (n, row) in next.iter_mut().zip(&c.mds) {
            *n = row.iter().zip(state.iter()).map(|(m, s)| *m * s).sum();
        }
        *state = next;
    }
}

/// Hashes a fixed-length list of field elements.
pub fn poseidon_hash(inputs: &[Fr]) -> Fr {
    let mut state = [Fr::ZERO; POSEIDON_T];
    state[0] = initial_capacity();
    let absorb = |state: &mut [Fr; POSEIDON_T], chunk: &[Fr]| {
        for (s, x) in state[1..].iter_mut().zip(chunk) {
            *s += x;
        }
        if chunk.len() < POSEIDON_RATE {
            state[chunk.len() + 1] += Fr::ONE;
        }
        permute(state);
    };
    for chunk in inputs.chunks(POSEIDON_RATE) {
        absorb(&mut state, chunk);
    }
    if inputs.len().is_multiple_of(POSEIDON_RATE) {
        absorb(&mut state, &[]);
    }
    state[1]
}
