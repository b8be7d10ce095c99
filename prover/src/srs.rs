//! Structured reference strings (KZG parameters over BN254).
//!
//! Two sources, nothing downloaded:
//! - [`Srs::generate_insecure`]: a deterministic development SRS from a seed. Its toxic waste is derivable
//!   from the seed, so proofs made with it are forgeable; the file and every report say so.
//! - a file the user supplies: either a poai SRS file, or a raw halo2 KZG parameter file as published for the
//!   perpetual-powers-of-tau ceremony in halo2's format (the layout halo2's `ParamsKZG::write` produces:
//!   `k` as 4 little-endian bytes, then `2^k` G1 points, `2^k` Lagrange-basis G1 points, G2 and `s·G2`,
//!   uncompressed). Either is checked point by point on load.
//!
//! The file format (and its size checks, made before anything is allocated) lives in
//! `poai_verifier::srs`; this module adds generation and full validation of every power.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use halo2_base::halo2_proofs::arithmetic::best_multiexp;
use halo2_base::halo2_proofs::halo2curves::bn256::{
    multi_miller_loop, Bn256, Fr, G1Affine, G2Affine, G2Prepared,
};
use halo2_base::halo2_proofs::halo2curves::ff::Field;
use halo2_base::halo2_proofs::halo2curves::group::{Curve, Group};
use halo2_base::halo2_proofs::halo2curves::pairing::MillerLoopResult;
use halo2_base::halo2_proofs::halo2curves::CurveAffine;
use halo2_base::halo2_proofs::poly::commitment::{Blind, Params, ParamsProver};
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_base::halo2_proofs::poly::EvaluationDomain;
use halo2_base::halo2_proofs::SerdeFormat;
use poai_verifier::artifact::frame_header;
use poai_verifier::srs::{raw_params_len, split_srs};
pub use poai_verifier::srs::{SrsHeader, SRS_MAGIC};
use poai_verifier::VerifierParams;
use rand::rngs::OsRng;

use crate::ProverError;

/// Smallest supported k.
pub const MIN_K: u32 = 1;
/// Largest supported k (BN254's two-adicity is 28; 26 is the largest public ceremony size in use).
pub const MAX_K: u32 = 28;

/// KZG parameters with their provenance.
#[derive(Clone, Debug)]
pub struct Srs {
    params: ParamsKZG<Bn256>,
    header: SrsHeader,
    /// The file it was read from (for errors), if any.
    path: Option<PathBuf>,
    /// Whether the stored Lagrange basis belongs to the powers: checked on the first use that needs it
    /// (halo2's, through [`Self::for_circuit`]), since the sumcheck backend commits with the powers
    /// alone and two MSMs of the SRS's size are most of loading it.
    lagrange: std::sync::OnceLock<Result<(), String>>,
}

fn check_k(k: u32) -> Result<(), ProverError> {
    if (MIN_K..=MAX_K).contains(&k) {
        Ok(())
    } else {
        Err(ProverError::KOutOfRange { k, min: MIN_K, max: MAX_K })
    }
}

impl Srs {
    /// A deterministic development SRS. **Insecure**: anyone who knows `seed` can forge proofs.
    pub fn generate_insecure(k: u32, seed: u64) -> Result<Self, ProverError> {
        check_k(k)?;
        let params = crate::dev_srs::params_for_secret(k, poai_verifier::srs::dev_secret(seed))
            .ok_or(ProverError::SecretInDomain { seed, k })?;
        let header = SrsHeader {
            format: "poai-srs".into(),
            version: 1,
            curve: "bn254".into(),
            k,
            insecure_dev_setup: true,
            origin: format!("poai srs: INSECURE development setup from public seed {seed}"),
            seed: Some(seed),
        };
        Ok(Self { params, header, path: None, lagrange: std::sync::OnceLock::from(Ok(())) })
    }

    /// The KZG parameters (their powers checked; [`Self::for_circuit`] checks the Lagrange basis too).
    pub fn params(&self) -> &ParamsKZG<Bn256> {
        &self.params
    }

    /// The header (k, provenance, insecurity flag).
    pub fn header(&self) -> &SrsHeader {
        &self.header
    }

    /// log2 of the number of rows this SRS supports.
    pub fn k(&self) -> u32 {
        self.params.k()
    }

    /// Parameters for a circuit of `k` rows: the same SRS truncated, or an error if it is too small.
    pub fn for_circuit(&self, k: u32) -> Result<ParamsKZG<Bn256>, ProverError> {
        check_k(k)?;
        if let Err(detail) = self.lagrange.get_or_init(|| lagrange_checked(&self.params)) {
            let path = self.path.clone().unwrap_or_else(|| "<srs>".into());
            return Err(ProverError::SrsFormat { path, detail: detail.clone() });
        }
        if k > self.k() {
            return Err(ProverError::SrsTooSmall { have: self.k(), need: k });
        }
        if k == self.k() {
            return Ok(self.params.clone());
        }
        // A development SRS is regenerated at the smaller size from its seed when that gives the same
        // powers (several times faster than recomputing the truncated Lagrange basis).
        if let (true, Some(seed)) = (self.header.insecure_dev_setup, self.header.seed) {
            if let Some(small) = crate::dev_srs::params_for_secret(k, poai_verifier::srs::dev_secret(seed)) {
                let n = small.get_g().len();
                if small.get_g() == &self.params.get_g()[..n] && small.s_g2() == self.params.s_g2() {
                    return Ok(small);
                }
            }
        }
        let mut p = self.params.clone();
        p.downsize(k);
        Ok(p)
    }

    /// The three points a verifier needs.
    pub fn verifier_params(&self) -> Result<VerifierParams, ProverError> {
        Ok(VerifierParams::from_points(
            self.k(),
            self.params.g2(),
            self.params.s_g2(),
            self.header.insecure_dev_setup,
        )?)
    }

    /// Serialises to the poai file format.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ProverError> {
        let header =
            serde_json::to_vec(&self.header).map_err(|e| io_err(Path::new("<srs>"), e.to_string()))?;
        let mut out = frame_header(SRS_MAGIC, &header, raw_params_len(self.k()) as usize);
        self.params
            .write_custom(&mut out, SerdeFormat::RawBytes)
            .map_err(|e| ProverError::Io { path: "<srs>".into(), source: e })?;
        Ok(out)
    }

    /// Parses a poai SRS file or a raw halo2 KZG parameter file; `path` names it in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self, ProverError> {
        let bad = |detail: String| ProverError::SrsFormat { path: path.to_path_buf(), detail };
        let (header, k, body) = split_srs(bytes).map_err(|e| match e {
            poai_verifier::VerifyError::Format { detail, .. } => bad(detail),
            other => bad(other.to_string()),
        })?;
        let params = ParamsKZG::<Bn256>::read_custom(&mut Cursor::new(body), SerdeFormat::RawBytes)
            .map_err(|e| bad(format!("invalid field element: {e}")))?;
        let params = validated(params).map_err(bad)?;
        let header = header.unwrap_or_else(|| {
            let seed = dev_seed_of(&params);
            SrsHeader {
                format: "poai-srs".into(),
                version: 1,
                curve: "bn254".into(),
                k,
                insecure_dev_setup: seed.is_some(),
                origin: match seed {
                    Some(seed) => format!(
                        "raw halo2 KZG parameters from {}, recognised as the INSECURE development setup of \
                         public seed {seed} (its header was stripped)",
                        path.display()
                    ),
                    None => format!("raw halo2 KZG parameters from {}", path.display()),
                },
                seed,
            }
        });
        Ok(Self { params, header, path: Some(path.to_path_buf()), lagrange: std::sync::OnceLock::new() })
    }

    /// Reads an SRS file.
    pub fn read(path: &Path) -> Result<Self, ProverError> {
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|source| ProverError::Io { path: path.to_path_buf(), source })?;
        Self::from_bytes(&bytes, path)
    }

    /// Writes the SRS atomically.
    pub fn write(&self, path: &Path) -> Result<(), ProverError> {
        crate::write_atomic(path, &self.to_bytes()?)
    }
}

/// The seed of the development setup whose secret `params` use, if it is one of the first
/// [`poai_verifier::srs::RECOGNISED_DEV_SEEDS`].
fn dev_seed_of(params: &ParamsKZG<Bn256>) -> Option<u64> {
    poai_verifier::srs::dev_seed_of_first_power(params.get_g().get(1)?)
}

/// Checks that parameters really are powers of one secret: every G1 power on the curve, the standard
/// generators, and `e(Σ ρ^i·g[i+1], G2) = e(Σ ρ^i·g[i], s·G2)` for a random `ρ` (one pairing equation that
/// fails with overwhelming probability if any power is off). halo2's raw reader checks none of this; the
/// Lagrange basis is checked by [`lagrange_checked`] when first needed.
fn validated(params: ParamsKZG<Bn256>) -> Result<ParamsKZG<Bn256>, String> {
    let g = params.get_g();
    if let Some(i) = g.iter().position(|p| !bool::from(p.is_on_curve())) {
        return Err(format!("G1 power {i} is not on the curve"));
    }
    if g.first() != Some(&G1Affine::generator()) || params.g2() != G2Affine::generator() {
        return Err("the first power or the G2 generator is not the standard generator".into());
    }
    if !bool::from(params.s_g2().is_on_curve()) {
        return Err("s·G2 is not on the curve".into());
    }
    let rho = Fr::random(OsRng);
    let n = g.len();
    let mut coeffs = Vec::with_capacity(n.saturating_sub(1));
    let mut acc = Fr::ONE;
    for _ in 1..n {
        coeffs.push(acc);
        acc *= rho;
    }
    let shifted = best_multiexp(&coeffs, &g[1..]).to_affine();
    let base = best_multiexp(&coeffs, &g[..n - 1]).to_affine();
    let lhs = multi_miller_loop(&[
        (&shifted, &G2Prepared::from(params.g2())),
        (&-base, &G2Prepared::from(params.s_g2())),
    ]);
    if !bool::from(lhs.final_exponentiation().is_identity()) {
        return Err("the G1 powers are not successive powers of the secret in s·G2".into());
    }
    Ok(params)
}

/// Checks that the Lagrange basis stored beside checked powers is theirs.
fn lagrange_checked(params: &ParamsKZG<Bn256>) -> Result<(), String> {
    let (n, rho) = (params.get_g().len(), Fr::random(OsRng));
    // The Lagrange basis stored beside the powers must be theirs: committing to random evaluations `r` with
    // it must equal committing to their interpolating polynomial with the powers. Two MSMs instead of
    // recomputing the basis (an FFT over G1 that took seconds at k = 14 and minutes at k = 20).
    let domain = EvaluationDomain::<Fr>::new(1, params.k());
    let r: Vec<Fr> = std::iter::successors(Some(Fr::random(OsRng)), |x| Some(*x * rho)).take(n).collect();
    let by_basis = params.commit_lagrange(&domain.lagrange_from_vec(r.clone()), Blind::default());
    let by_powers = params.commit(&domain.lagrange_to_coeff(domain.lagrange_from_vec(r)), Blind::default());
    if by_basis != by_powers {
        return Err("the Lagrange basis does not belong to the G1 powers".into());
    }
    Ok(())
}

fn io_err(path: &Path, detail: String) -> ProverError {
    ProverError::Io { path: PathBuf::from(path), source: std::io::Error::other(detail) }
}
