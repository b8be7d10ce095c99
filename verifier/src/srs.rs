//! The SRS file format and the three SRS points a verifier needs.
//!
//! A poai SRS file: the 8 bytes [`SRS_MAGIC`], a 4-byte little-endian header length, a JSON [`SrsHeader`],
//! then halo2's raw KZG parameter encoding. A raw halo2 parameter file (as published for the
//! perpetual-powers-of-tau ceremony) is accepted too. The raw encoding: `k` as 4 little-endian bytes,
//! `2^k` G1 powers, `2^k` Lagrange-basis G1 points, then `G2` and `s·G2`, all uncompressed.
//!
//! The prover validates every power (`poai-prover`'s `Srs`); a verifier only needs `G1`, `G2` and `s·G2`,
//! so [`VerifierParams`] reads those three points and checks them, whatever the file's size.

use std::io::Cursor;

use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine, G2Affine};
use halo2_base::halo2_proofs::halo2curves::ff::Field;
use halo2_base::halo2_proofs::halo2curves::group::prime::PrimeCurveAffine;
use halo2_base::halo2_proofs::halo2curves::group::Curve;
use halo2_base::halo2_proofs::halo2curves::serde::SerdeObject;
use halo2_base::halo2_proofs::halo2curves::CurveAffine;
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_base::halo2_proofs::SerdeFormat;
use rand_chacha::rand_core::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::artifact::{unframe, CURVE, MAX_K};
use crate::error::format_err;
use crate::VerifyError;

/// Magic bytes opening a poai SRS file.
pub const SRS_MAGIC: &[u8; 8] = b"POAISRS1";
/// Bytes of one uncompressed G1 point in halo2's raw format.
pub const G1_BYTES: usize = 64;
/// Bytes of one uncompressed G2 point in halo2's raw format.
pub const G2_BYTES: usize = 128;

/// The self-describing header of a poai SRS file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SrsHeader {
    /// Always `"poai-srs"`.
    pub format: String,
    /// Format version.
    pub version: u32,
    /// Curve (always `"bn254"`).
    pub curve: String,
    /// log2 of the number of G1 powers.
    pub k: u32,
    /// True for a development SRS whose secret is derivable: never use it for anything of value.
    pub insecure_dev_setup: bool,
    /// Where it came from, in words.
    pub origin: String,
    /// The public seed of a development SRS: a smaller one is regenerated from it rather than truncated
    /// (truncation recomputes the Lagrange basis, a group FFT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// The secret of the development SRS of `seed` (`poai srs --insecure-dev-setup`): public, derivable by
/// anyone, which is why such an SRS proves nothing.
pub fn dev_secret(seed: u64) -> Fr {
    Fr::random(rand_chacha::ChaCha20Rng::seed_from_u64(seed))
}

/// Seeds below this are recognised in a headerless SRS file: `poai srs` defaults to seed 0, and scripts and
/// tests use small ones. A development SRS saved without poai's header (or with it stripped) then still
/// reads as insecure instead of passing for a ceremony's output, to the prover and the verifier alike.
pub const RECOGNISED_DEV_SEEDS: u64 = 1024;

/// The seed of the development setup whose first power `s·G1` is `first`, if it is one of the first
/// [`RECOGNISED_DEV_SEEDS`] (one scalar multiplication each, a few tens of milliseconds in all).
pub fn dev_seed_of_first_power(first: &G1Affine) -> Option<u64> {
    (0..RECOGNISED_DEV_SEEDS).find(|&seed| (G1Affine::generator() * dev_secret(seed)).to_affine() == *first)
}

/// Size of halo2's raw parameter encoding for `k`.
pub fn raw_params_len(k: u32) -> u64 {
    4 + 2 * (1u64 << k) * G1_BYTES as u64 + 2 * G2_BYTES as u64
}

/// How many leading bytes of an SRS file [`VerifierParams::from_srs_ends`] reads at most: the poai header
/// (a few hundred bytes), `k` and the first G1 power.
pub const SRS_HEAD_BYTES: usize = 64 * 1024;
/// How many trailing bytes of an SRS file hold what a verifier needs besides the head: `G2` and `s·G2`.
pub const SRS_TAIL_BYTES: usize = 2 * G2_BYTES;

/// Reads the start of an SRS file of `total_len` bytes: the poai header (absent for a raw halo2 file),
/// `k`, and where the raw parameters start; checks the header, `k` and that the file holds exactly the
/// parameters for `k`.
fn srs_layout(head: &[u8], total_len: u64) -> Result<(Option<SrsHeader>, u32, usize), VerifyError> {
    let bad = |d: String| format_err("SRS", d);
    let (header, offset) = if head.starts_with(SRS_MAGIC) {
        let (json, rest) = unframe(head, "SRS")?;
        let header: SrsHeader = serde_json::from_slice(json).map_err(|e| bad(format!("header: {e}")))?;
        if header.format != "poai-srs" || header.version != 1 || header.curve != CURVE {
            return Err(bad(format!("unsupported header {header:?}")));
        }
        (Some(header), head.len() - rest.len())
    } else {
        (None, 0)
    };
    let k = head.get(offset..offset + 4).and_then(|b| <[u8; 4]>::try_from(b).ok()).map(u32::from_le_bytes);
    let k = k.ok_or_else(|| bad("file too short".into()))?;
    if !(1..=MAX_K).contains(&k) {
        return Err(bad(format!("k = {k} is out of range 1..={MAX_K} (not an SRS, or corrupted)")));
    }
    if let Some(h) = &header {
        if h.k != k {
            return Err(bad(format!("header says k = {} but the parameters hold k = {k}", h.k)));
        }
    }
    let (want, found) = (raw_params_len(k), total_len.saturating_sub(offset as u64));
    if found != want {
        return Err(bad(format!("expected {want} bytes of parameters for k = {k}, found {found}")));
    }
    Ok((header, k, offset))
}

/// Splits SRS bytes into the poai header (absent for a raw halo2 file), `k` and the raw parameter bytes,
/// after checking the header, `k` and the exact size.
pub fn split_srs(bytes: &[u8]) -> Result<(Option<SrsHeader>, u32, &[u8]), VerifyError> {
    let (header, k, offset) = srs_layout(bytes, bytes.len() as u64)?;
    Ok((header, k, &bytes[offset..]))
}

/// What KZG verification needs from an SRS: its size, `G2` and `s·G2` (the first G1 power is the standard
/// generator, checked).
#[derive(Clone, Debug)]
pub struct VerifierParams {
    k: u32,
    g2: G2Affine,
    s_g2: G2Affine,
    insecure_dev_setup: bool,
}

impl VerifierParams {
    /// Reads the verifier's points from a poai SRS file or a raw halo2 parameter file.
    pub fn from_srs_bytes(bytes: &[u8]) -> Result<Self, VerifyError> {
        let tail = bytes.get(bytes.len().saturating_sub(SRS_TAIL_BYTES)..).unwrap_or(bytes);
        Self::from_srs_ends(bytes, tail, bytes.len() as u64)
    }

    /// The same from the two ends of an SRS file of `total_len` bytes, so that a verifier never loads
    /// the `2^k` powers it does not use: `head` is the file's first bytes (at most [`SRS_HEAD_BYTES`] are
    /// looked at), `tail` its last [`SRS_TAIL_BYTES`].
    pub fn from_srs_ends(head: &[u8], tail: &[u8], total_len: u64) -> Result<Self, VerifyError> {
        let bad = |d: &str| format_err("SRS", d);
        let head = head.get(..SRS_HEAD_BYTES).unwrap_or(head);
        let (header, k, offset) = srs_layout(head, total_len)?;
        let g1_at = offset + 4;
        let g1 = head.get(g1_at..g1_at + G1_BYTES).ok_or_else(|| bad("the SRS header is too large"))?;
        // Without poai's header, a development SRS is recognised by its first power `s·G1`.
        let insecure = match &header {
            Some(h) => h.insecure_dev_setup,
            None => {
                let s_g1 =
                    head.get(g1_at + G1_BYTES..g1_at + 2 * G1_BYTES).and_then(G1Affine::from_raw_bytes);
                s_g1.is_some_and(|p| dev_seed_of_first_power(&p).is_some())
            }
        };
        if tail.len() != SRS_TAIL_BYTES {
            return Err(bad("the end of the file (G2 and s·G2) is missing"));
        }
        let g1 = G1Affine::from_raw_bytes(g1);
        let g2 = G2Affine::from_raw_bytes(&tail[..G2_BYTES]);
        let s_g2 = G2Affine::from_raw_bytes(&tail[G2_BYTES..]);
        let (Some(g1), Some(g2), Some(s_g2)) = (g1, g2, s_g2) else {
            return Err(bad("a point's coordinates are not field elements"));
        };
        if g1 != G1Affine::generator() {
            return Err(bad("the first G1 power is not the standard generator"));
        }
        Self::from_points(k, g2, s_g2, insecure)
    }

    /// Verifier parameters from already-validated points (the prover's SRS hands over its own).
    pub fn from_points(
        k: u32,
        g2: G2Affine,
        s_g2: G2Affine,
        insecure_dev_setup: bool,
    ) -> Result<Self, VerifyError> {
        let bad = |d: &str| format_err("SRS", d);
        if !(1..=MAX_K).contains(&k) {
            return Err(bad("k out of range"));
        }
        if g2 != G2Affine::generator() {
            return Err(bad("the G2 generator is not the standard generator"));
        }
        if !bool::from(s_g2.is_on_curve()) || bool::from(s_g2.is_identity()) {
            return Err(bad("s·G2 is not a point of the curve's G2"));
        }
        Ok(Self { k, g2, s_g2, insecure_dev_setup })
    }

    /// log2 of the largest circuit this SRS supports.
    pub fn k(&self) -> u32 {
        self.k
    }

    /// The G2 generator.
    pub fn g2(&self) -> G2Affine {
        self.g2
    }

    /// `s·G2`.
    pub fn s_g2(&self) -> G2Affine {
        self.s_g2
    }

    /// True when the SRS is a poai development setup (proofs checked with it can be forged).
    pub fn insecure_dev_setup(&self) -> bool {
        self.insecure_dev_setup
    }

    /// halo2 KZG parameters for a circuit of `k` rows with only the points verification reads (`G1`,
    /// `G2`, `s·G2`); what the Rust verifier and the Solidity verifier generator use.
    pub fn params(&self, k: u32) -> Result<ParamsKZG<Bn256>, VerifyError> {
        if k > self.k {
            return Err(VerifyError::SrsTooSmall { have: self.k, need: k });
        }
        // halo2 builds ParamsKZG only from bytes or from another instance: read a one-point (k = 0)
        // parameter set, then give it the circuit's size.
        let mut raw = Vec::with_capacity(4 + 2 * G1_BYTES + 2 * G2_BYTES);
        raw.extend_from_slice(&0u32.to_le_bytes());
        for _ in 0..2 {
            G1Affine::generator().write_raw(&mut raw).map_err(|e| format_err("SRS", e.to_string()))?;
        }
        self.g2.write_raw(&mut raw).map_err(|e| format_err("SRS", e.to_string()))?;
        self.s_g2.write_raw(&mut raw).map_err(|e| format_err("SRS", e.to_string()))?;
        let one = ParamsKZG::<Bn256>::read_custom(&mut Cursor::new(raw), SerdeFormat::RawBytes)
            .map_err(|e| format_err("SRS", e.to_string()))?;
        Ok(one.from_parts(k, vec![G1Affine::generator()], Some(Vec::new()), self.g2, self.s_g2))
    }
}
