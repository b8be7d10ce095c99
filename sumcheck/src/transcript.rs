//! The Fiat-Shamir transcript: a Poseidon duplex sponge over BN254's scalar field (the permutation of
//! poai's commitments), so that a circuit can re-derive every challenge cheaply when it verifies a proof.
//!
//! The state is Poseidon's width 5 (rate 4, capacity 1), the capacity starting at a domain tag of its own.
//! Absorbed elements fill the rate and permute when it is full. A challenge pads what is pending with a
//! one after the last element (permuting first when the rate is full, so the padding is injective:
//! "absorb `a`" and "absorb `a, 0`" stay apart), permutes, and squeezes the first rate element, which stays
//! in the state. A prover and a verifier that absorb the same values in the same order
//! draw the same challenges, and any change to an absorbed value changes every later challenge.

use halo2_base::halo2_proofs::halo2curves::bn256::G1Affine;
use halo2_base::halo2_proofs::halo2curves::ff::{Field, PrimeField};
use halo2_base::halo2_proofs::halo2curves::group::GroupEncoding;
use poai_circuits::commit::poseidon::{permute, POSEIDON_RATE, POSEIDON_T};
use poai_circuits::Fr;

/// The capacity's initial value for sumcheck transcripts ("poaisum1"), apart from every hash domain.
pub const TRANSCRIPT_DOMAIN: u64 = 0x706f_6169_7375_6d31;

/// What the protocols need of a transcript.
pub trait Transcript {
    /// Absorbs public values (claims, round polynomials, commitments' coordinates).
    fn absorb(&mut self, values: &[Fr]);
    /// A challenge that depends on everything absorbed so far.
    fn challenge(&mut self) -> Fr;

    /// Absorbs a curve point: its 32-byte compressed encoding as two 128-bit halves (injective, and
    /// each half below the field's modulus).
    fn absorb_g1(&mut self, p: &G1Affine) {
        let bytes = p.to_bytes();
        let half = |b: &[u8]| {
            let mut le = [0u8; 16];
            le.copy_from_slice(b);
            Fr::from_u128(u128::from_le_bytes(le))
        };
        self.absorb(&[half(&bytes.as_ref()[..16]), half(&bytes.as_ref()[16..])]);
    }
}

/// The Poseidon duplex sponge.
#[derive(Clone, Debug)]
pub struct PoseidonTranscript {
    state: [Fr; POSEIDON_T],
    /// Elements absorbed into the rate since the last permutation.
    pending: usize,
}

impl PoseidonTranscript {
    /// A transcript for one proof; `label` separates protocols (and instances) sharing the domain.
    pub fn new(label: u64) -> Self {
        let mut state = [Fr::ZERO; POSEIDON_T];
        state[0] = Fr::from(TRANSCRIPT_DOMAIN);
        let mut t = Self { state, pending: 0 };
        t.absorb(&[Fr::from(label)]);
        t
    }
}

impl Transcript for PoseidonTranscript {
    fn absorb(&mut self, values: &[Fr]) {
        for &v in values {
            if self.pending == POSEIDON_RATE {
                permute(&mut self.state);
                self.pending = 0;
            }
            self.state[1 + self.pending] += v;
            self.pending += 1;
        }
    }

    fn challenge(&mut self) -> Fr {
        if self.pending == POSEIDON_RATE {
            permute(&mut self.state);
            self.pending = 0;
        }
        self.state[1 + self.pending] += Fr::ONE;
        permute(&mut self.state);
        self.pending = 0;
        // The squeezed element becomes part of the state the next challenge depends on.
        let c = self.state[1];
        self.pending = 1;
        c
    }
}
