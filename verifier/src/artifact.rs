//! Versioned key and proof files and the layout of a proof's public instances.
//!
//! Key files: the 8 bytes [`KEY_MAGIC`], a 4-byte little-endian header length, a JSON [`KeyHeader`], then
//! halo2's key bytes (exactly `body_len` of them). Everything in the header is checked before halo2 parses
//! the body. Proof files are JSON ([`ProofFile`]) a person can read: the public instances as hex field
//! elements, the dequantised outputs, the model commitment and the proof bytes.

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use poai_circuits::commit::fr_to_hex;
use poai_circuits::halo2::{CircuitShape, DatasetMode, LayoutGoal, ParamVisibility, VisibilitySettings};
use poai_circuits::ir::fixed::dequantize;
use serde::{Deserialize, Serialize};

use crate::error::format_err;
use crate::VerifyError;

/// Magic bytes opening a key file.
pub const KEY_MAGIC: &[u8; 8] = b"POAIKEY2";
/// Format version of key and proof files.
pub const VERSION: u32 = 3;
/// Proving system of halo2 artifacts.
pub const BACKEND: &str = "halo2-kzg-shplonk-keccak256";
/// Proving system of sumcheck-backend artifacts: sumcheck reductions over one HyperKZG commitment on
/// the same powers of tau, a Poseidon transcript (`crate::sumcheck`).
pub const SUMCHECK_BACKEND: &str = "sumcheck-hyperkzg-poseidon";
/// Every proving system whose artifacts this crate reads.
pub const BACKENDS: &[&str] = &[BACKEND, SUMCHECK_BACKEND];
/// Curve of every artifact.
pub const CURVE: &str = "bn254";
/// Largest k any artifact may claim (BN254's two-adicity).
pub const MAX_K: u32 = 28;
/// Field elements of a [`PublicValue::KzgAccumulator`]: four base-field coordinates of three limbs.
pub const ACCUMULATOR_LIMBS: usize = 12;

/// Which key a key file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// A proving key (holds the verifying key too).
    Proving,
    /// A verifying key.
    Verifying,
}

impl KeyKind {
    /// The `format` string of the header.
    pub fn format(self) -> &'static str {
        match self {
            Self::Proving => "poai-proving-key",
            Self::Verifying => "poai-verifying-key",
        }
    }

    /// The artifact's name in errors.
    fn artifact(self) -> &'static str {
        match self {
            Self::Proving => "proving key",
            Self::Verifying => "verifying key",
        }
    }
}

/// One segment of the public instances, in order. The instance column is the concatenation of the
/// segments listed in [`KeyHeader::public`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PublicValue {
    /// [`ACCUMULATOR_LIMBS`] field elements opening the instances of an on-chain (compressed) proof: the
    /// KZG accumulator of the model proof it verified, two G1 points whose coordinates are split into
    /// 88-bit limbs (`lhs.x`, `lhs.y`, `rhs.x`, `rhs.y`, least significant limb first). The proof is
    /// valid only if `e(lhs, G2) = e(rhs, s·G2)`.
    KzgAccumulator,
    /// One field element: the model commitment.
    ModelCommitment,
    /// `len` field elements: public model input `index`, quantised with scale `scale`.
    Input {
        /// Which model input.
        index: usize,
        /// Number of elements.
        len: usize,
        /// Fixed-point scale (value = q / 2^scale).
        scale: i32,
    },
    /// One field element: the commitment to hashed model input `index`
    /// (`poai_circuits::commit::tensor_commitment` under `INPUT_DOMAIN`).
    InputCommitment {
        /// Which model input.
        index: usize,
    },
    /// `len` field elements: model output `index`, quantised with scale `scale`.
    Output {
        /// Which model output.
        index: usize,
        /// Number of elements.
        len: usize,
        /// Fixed-point scale (value = q / 2^scale).
        scale: i32,
    },
    /// One field element: the commitment to hashed model output `index` (under `OUTPUT_DOMAIN`).
    OutputCommitment {
        /// Which model output.
        index: usize,
    },
    /// One field element: the root of the committed dataset the input rows come from
    /// (`poai_circuits::commit::merkle`).
    DatasetRoot,
    /// Two field elements: the rows `start..end` an accuracy proof covers.
    RowRange,
    /// One field element: how many of those rows the model classifies as labelled.
    CorrectCount,
    /// One field element: the address of the compute provider the proof is bound to (0 for none); always
    /// the last instance.
    Provider,
}

impl PublicValue {
    /// Number of field elements.
    pub fn len(&self) -> usize {
        match self {
            Self::ModelCommitment
            | Self::InputCommitment { .. }
            | Self::OutputCommitment { .. }
            | Self::DatasetRoot
            | Self::CorrectCount
            | Self::Provider => 1,
            Self::RowRange => 2,
            Self::KzgAccumulator => ACCUMULATOR_LIMBS,
            Self::Input { len, .. } | Self::Output { len, .. } => *len,
        }
    }

    /// True for a segment of no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Header of a proving or verifying key file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyHeader {
    /// `"poai-proving-key"` or `"poai-verifying-key"`.
    pub format: String,
    /// Format version ([`VERSION`]).
    pub version: u32,
    /// Proving system ([`BACKEND`]).
    pub backend: String,
    /// Curve ([`CURVE`]).
    pub curve: String,
    /// Circuit size (log2 of rows).
    pub k: u32,
    /// Commitment of the model the key was generated for (hex field element). With hashed parameters
    /// the key fits every model of the architecture and a proof names its model itself (instance 0).
    pub model_commitment: String,
    /// With hashed parameters: the architecture the key fits (the description digest, hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// Visibility of inputs and outputs the circuit was built with.
    pub visibility: VisibilitySettings,
    /// The gates and lookups the circuit configures (needed to read the halo2 key).
    pub shape: CircuitShape,
    /// What the model circuit's layout was chosen for (proving rebuilds it so); left out when `fast`,
    /// the default, so key files made before the choice existed read unchanged.
    #[serde(default, skip_serializing_if = "LayoutGoal::is_fast")]
    pub layout: LayoutGoal,
    /// Layout of the public instances.
    pub public: Vec<PublicValue>,
    /// For a dataset-bound circuit: membership of one row or accuracy over a batch, and the tree depth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<DatasetMode>,
    /// For an on-chain key: the compression circuit, which verifies one proof (or a batch of
    /// [`OnchainCircuit::batch`] proofs) of the model circuit the rest of the header describes; `k` and
    /// the halo2 key are then the compression circuit's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onchain: Option<OnchainCircuit>,
    /// Exact length of the halo2 key bytes that follow.
    pub body_len: u64,
}

/// The compression circuit of an on-chain key: snark-verifier's aggregation circuit over halo2-base
/// (few columns, so its Solidity verifier is small and cheap), verifying [`Self::batch`] model proofs made
/// with the Poseidon transcript. Its public instances are the KZG accumulator of those proofs, then each
/// model proof's own instances in turn; the model circuit's verifying key is a constant of it. A batch
/// shares one on-chain verification among several inferences.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnchainCircuit {
    /// Advice columns with the gate.
    pub num_advice: usize,
    /// Advice columns copied into the range lookup.
    pub num_lookup_advice: usize,
    /// Fixed (constant) columns.
    pub num_fixed: usize,
    /// Bits of the range lookup table.
    pub lookup_bits: usize,
    /// k of the model circuit whose proofs it verifies.
    pub model_k: u32,
    /// halo2's digest of the model circuit's verifying key (hex), so that a model proving key of another
    /// circuit is refused before proving rather than yielding an invalid proof.
    pub model_vk_digest: String,
    /// Model proofs one compressed proof verifies (inferences per on-chain verification).
    #[serde(default = "one_inference")]
    pub batch: usize,
    /// Where the witness generator breaks each advice column (proving keys only; fixed at key generation).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub break_points: Vec<Vec<usize>>,
}

fn one_inference() -> usize {
    1
}

impl OnchainCircuit {
    /// halo2-base's configuration of the circuit at size `k`.
    pub fn base_params(&self, k: u32) -> halo2_base::gates::circuit::BaseCircuitParams {
        halo2_base::gates::circuit::BaseCircuitParams {
            k: k as usize,
            num_advice_per_phase: vec![self.num_advice],
            num_fixed: self.num_fixed,
            num_lookup_advice_per_phase: vec![self.num_lookup_advice],
            lookup_bits: Some(self.lookup_bits),
            num_instance_columns: 1,
        }
    }
}

impl KeyHeader {
    /// Number of public instances a proof for this key has.
    pub fn instance_count(&self) -> usize {
        self.public.iter().map(PublicValue::len).sum()
    }

    /// Index of the model commitment among the instances (after the accumulator of an on-chain key).
    pub fn model_index(&self) -> usize {
        self.public.iter().take_while(|s| **s != PublicValue::ModelCommitment).map(PublicValue::len).sum()
    }

    /// Reads what public instances laid out as this header says claim, one [`Claims`] per inference (one,
    /// or a batch for a batched on-chain key; each inference's segments start at its model commitment):
    /// public inputs and outputs as real numbers, input and output commitments as hex. Checks the model
    /// commitment instances: the key's own with fixed parameters, and one model for the whole batch.
    pub fn claims(&self, instances: &[Fr]) -> Result<Vec<Claims>, VerifyError> {
        if instances.len() != self.instance_count() {
            return Err(VerifyError::Mismatch(format!(
                "{} public instances, the key expects {}",
                instances.len(),
                self.instance_count()
            )));
        }
        let reals = |slice: &[Fr], scale: i32, what: &str| {
            slice
                .iter()
                .map(|x| small_int(x).map(|q| dequantize(q, scale) as f32))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| VerifyError::Mismatch(format!("an element of {what} is not a small integer")))
        };
        let mut all: Vec<Claims> = Vec::new();
        let mut model: Option<String> = None;
        let mut at = 0;
        for seg in &self.public {
            let slice = &instances[at..at + seg.len()];
            at += seg.len();
            if *seg == PublicValue::ModelCommitment {
                all.push(Claims::default());
            }
            let Some(claims) = all.last_mut() else {
                // Before the first inference: the accumulator, checked by verification (a pairing).
                continue;
            };
            match seg {
                PublicValue::KzgAccumulator => {}
                PublicValue::ModelCommitment => {
                    let named = fr_to_hex(&slice[0]);
                    // With hashed parameters the circuit computes the commitment: any model of the
                    // architecture; with fixed ones it is the key's model.
                    if self.visibility.params == ParamVisibility::Fixed && named != self.model_commitment {
                        return Err(VerifyError::Mismatch(format!(
                            "the public model commitment {named} is not the key's {}",
                            self.model_commitment
                        )));
                    }
                    if model.get_or_insert_with(|| named.clone()) != &named {
                        return Err(VerifyError::Mismatch(format!(
                            "the inferences of a batch name different models ({} and {named})",
                            model.unwrap_or_default()
                        )));
                    }
                }
                PublicValue::Input { index, scale, .. } => {
                    claims.inputs.push(reals(slice, *scale, &format!("input {index}"))?);
                }
                PublicValue::InputCommitment { .. } => claims.input_commitments.push(fr_to_hex(&slice[0])),
                PublicValue::Output { index, scale, .. } => {
                    claims.outputs.push(reals(slice, *scale, &format!("output {index}"))?);
                }
                PublicValue::OutputCommitment { .. } => claims.output_commitments.push(fr_to_hex(&slice[0])),
                PublicValue::DatasetRoot => claims.dataset_root = Some(fr_to_hex(&slice[0])),
                PublicValue::RowRange => {
                    let (start, end) = (count(&slice[0], "start row")?, count(&slice[1], "end row")?);
                    let total = end.checked_sub(start).ok_or_else(|| {
                        VerifyError::Mismatch(format!("row range {start}..{end} is empty or reversed"))
                    })?;
                    claims.rows = Some([start, end]);
                    claims.total = Some(total);
                }
                PublicValue::CorrectCount => claims.correct = Some(count(&slice[0], "correct count")?),
                PublicValue::Provider => {
                    let p = Provider::from_fr(&slice[0]).ok_or_else(|| {
                        VerifyError::Mismatch("the provider instance is not an EVM address".into())
                    })?;
                    claims.provider = (p != Provider::NONE).then(|| p.to_string());
                }
            }
        }
        for claims in &all {
            if let (Some(correct), Some(total)) = (claims.correct, claims.total) {
                if correct > total {
                    return Err(VerifyError::Mismatch(format!("{correct} correct rows out of {total}")));
                }
            }
        }
        if all.is_empty() {
            return Err(VerifyError::Mismatch("the key's public instances name no model".into()));
        }
        Ok(all)
    }

    /// Inferences one proof for this key covers (more than one for a batched on-chain key).
    pub fn batch(&self) -> usize {
        self.onchain.as_ref().map_or(1, |o| o.batch)
    }
}

/// The EVM address of a compute provider, bound into a proof as a public instance (the address read as a
/// big-endian integer, as `uint256(uint160(msg.sender))` in Solidity).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Provider(pub [u8; 20]);

impl Provider {
    /// No provider (a proof anyone may submit off chain; a reward contract pays nobody for it).
    pub const NONE: Self = Self([0; 20]);

    /// The instance value.
    pub fn to_fr(&self) -> Fr {
        let mut repr = [0u8; 32];
        for (i, b) in self.0.iter().rev().enumerate() {
            repr[i] = *b;
        }
        Fr::from_bytes(&repr).unwrap_or(Fr::zero())
    }

    /// The address an instance value encodes; `None` above 2^160.
    pub fn from_fr(x: &Fr) -> Option<Self> {
        let repr = x.to_bytes();
        if repr[20..].iter().any(|&b| b != 0) {
            return None;
        }
        let mut a = [0u8; 20];
        for (i, b) in repr[..20].iter().rev().enumerate() {
            a[i] = *b;
        }
        Some(Self(a))
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{}", crate::hex::encode(&self.0))
    }
}

impl std::str::FromStr for Provider {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bytes = s
            .strip_prefix("0x")
            .and_then(crate::hex::decode)
            .and_then(|b| <[u8; 20]>::try_from(b).ok())
            .ok_or_else(|| format!("`{s}` is not an address (0x and 40 hex digits)"))?;
        Ok(Self(bytes))
    }
}

/// A non-negative integer instance (a row index or count).
fn count(x: &Fr, what: &str) -> Result<u64, VerifyError> {
    small_int(x)
        .and_then(|v| u64::try_from(v).ok())
        .ok_or_else(|| VerifyError::Mismatch(format!("the {what} is not a small non-negative integer")))
}

/// What a proof's public instances say, in readable form.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// Public inputs as real numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<Vec<f32>>,
    /// Commitments to hashed inputs (hex field elements).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_commitments: Vec<String>,
    /// Public outputs as real numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<Vec<f32>>,
    /// Commitments to hashed outputs (hex field elements).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_commitments: Vec<String>,
    /// Root of the committed dataset the inputs came from (hex field element).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_root: Option<String>,
    /// Rows `[start, end)` of the dataset an accuracy proof covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<[u64; 2]>,
    /// Rows whose first argmax equals their label ("the model scores `correct`/`total`").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correct: Option<u64>,
    /// Rows evaluated (`end - start`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// The compute provider the proof is bound to (`0x` + 40 hex digits); absent when unbound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
}

impl Claims {
    /// The first field (by its JSON name) in which two claims differ.
    pub fn first_difference(&self, other: &Self) -> Option<&'static str> {
        [
            ("inputs", self.inputs == other.inputs),
            ("input_commitments", self.input_commitments == other.input_commitments),
            ("outputs", self.outputs == other.outputs),
            ("output_commitments", self.output_commitments == other.output_commitments),
            ("dataset_root", self.dataset_root == other.dataset_root),
            ("rows", self.rows == other.rows),
            ("correct", self.correct == other.correct),
            ("total", self.total == other.total),
            ("provider", self.provider == other.provider),
        ]
        .into_iter()
        .find_map(|(field, same)| (!same).then_some(field))
    }
}

/// A proof file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProofFile {
    /// Always `"poai-proof"`.
    pub format: String,
    /// Format version ([`VERSION`]).
    pub version: u32,
    /// Proving system.
    pub backend: String,
    /// Curve.
    pub curve: String,
    /// Circuit size.
    pub k: u32,
    /// Model commitment (also a public instance).
    pub model_commitment: String,
    /// Public instances, big-endian hex field elements, laid out as the key's [`KeyHeader::public`] says.
    pub instances: Vec<String>,
    /// What the instances say in readable form (public inputs and outputs, commitments, dataset root,
    /// accuracy); verification checks every field against the instances.
    #[serde(flatten)]
    pub claims: Claims,
    /// A batched on-chain proof's further inferences (the second and later; the first is `claims`), each
    /// checked against its own instances like `claims`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub batch_claims: Vec<Claims>,
    /// The proof, hex.
    pub proof: String,
}

impl ProofFile {
    /// The `format` string of proof files.
    pub const FORMAT: &'static str = "poai-proof";

    /// Parses a proof file's JSON.
    pub fn from_json(bytes: &[u8]) -> Result<Self, VerifyError> {
        let p: Self = serde_json::from_slice(bytes).map_err(|e| format_err("proof file", e.to_string()))?;
        check_identity("proof file", Self::FORMAT, (&p.format, p.version, &p.backend, &p.curve))?;
        Ok(p)
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> Result<Vec<u8>, VerifyError> {
        serde_json::to_vec_pretty(self).map_err(|e| format_err("proof file", e.to_string()))
    }
}

/// Signed integer of a field element that encodes a small value (|v| < 2^63).
pub use poai_circuits::halo2::layout::small_int;

/// Checks an artifact's identity fields (format, version, backend, curve) against this build's.
fn check_identity(
    artifact: &'static str,
    format: &str,
    found: (&str, u32, &str, &str),
) -> Result<(), VerifyError> {
    let (f, version, backend, curve) = found;
    if f != format || version != VERSION || !BACKENDS.contains(&backend) || curve != CURVE {
        return Err(format_err(
            artifact,
            format!(
                "expected a version-{VERSION} {format} for {} on {CURVE}, found {f} v{version} {backend} {curve}",
                BACKENDS.join(" or ")
            ),
        ));
    }
    Ok(())
}

/// The start of a framed artifact (key or SRS file): the 8-byte magic, the header's length as 4
/// little-endian bytes, the header JSON; the caller appends the body (room for `body_len` is reserved).
pub fn frame_header(magic: &[u8; 8], header_json: &[u8], body_len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + header_json.len() + body_len);
    out.extend_from_slice(magic);
    out.extend_from_slice(&(header_json.len() as u32).to_le_bytes());
    out.extend_from_slice(header_json);
    out
}

/// Splits a framed artifact whose magic the caller has checked into its header JSON and body.
pub(crate) fn unframe<'a>(
    bytes: &'a [u8],
    artifact: &'static str,
) -> Result<(&'a [u8], &'a [u8]), VerifyError> {
    let truncated = || format_err(artifact, "truncated header");
    let len = bytes.get(8..12).and_then(|b| <[u8; 4]>::try_from(b).ok()).map(u32::from_le_bytes);
    let len = len.ok_or_else(truncated)? as usize;
    let json = bytes.get(12..12 + len).ok_or_else(truncated)?;
    Ok((json, &bytes[12 + len..]))
}

/// Frames a key file: magic, header length, header JSON, body. The body is framed in place (moved once,
/// never copied): a proving key is gigabytes, and a copy would double the peak memory of setup.
pub fn encode_key(header: &KeyHeader, mut body: Vec<u8>) -> Result<Vec<u8>, VerifyError> {
    let json = serde_json::to_vec(header).map_err(|e| format_err("key", e.to_string()))?;
    body.splice(0..0, frame_header(KEY_MAGIC, &json, 0));
    Ok(body)
}

/// Splits a key file into its checked header and body (halo2's key, or a sumcheck key's graph).
pub fn decode_key(bytes: &[u8], kind: KeyKind) -> Result<(KeyHeader, &[u8]), VerifyError> {
    let artifact = kind.artifact();
    let bad = |d: String| format_err(artifact, d);
    if !bytes.starts_with(KEY_MAGIC) {
        return Err(bad("not a poai key file of this version (missing POAIKEY2 magic)".into()));
    }
    let (json, body) = unframe(bytes, artifact)?;
    let h: KeyHeader = serde_json::from_slice(json).map_err(|e| bad(format!("header: {e}")))?;
    check_identity(artifact, kind.format(), (&h.format, h.version, &h.backend, &h.curve))?;
    if !(1..=MAX_K).contains(&h.k) {
        return Err(bad(format!("k = {} out of range", h.k)));
    }
    let opening: &[PublicValue] = match h.onchain {
        None => &[PublicValue::ModelCommitment],
        Some(_) => &[PublicValue::KzgAccumulator, PublicValue::ModelCommitment],
    };
    if !h.public.starts_with(opening) || h.public[opening.len()..].contains(&PublicValue::KzgAccumulator) {
        return Err(bad(format!(
            "the public instances must start with {} and have no other accumulator",
            if h.onchain.is_some() {
                "the accumulator, then the model commitment"
            } else {
                "the model commitment"
            }
        )));
    }
    if body.len() as u64 != h.body_len {
        return Err(bad(format!("key body is {} bytes, header says {}", body.len(), h.body_len)));
    }
    if h.backend == SUMCHECK_BACKEND {
        // Its body is the quantised graph (a verifying key) or nothing (a proving key: the prover takes
        // the graph from the compiled model, whose commitment the header names).
        if h.onchain.is_some() {
            return Err(bad("a sumcheck key cannot be an on-chain key (on-chain proofs are halo2's)".into()));
        }
        return Ok((h, body));
    }
    // halo2's own encoding starts with a version byte and k; check them before it allocates anything.
    if body.first() != Some(&2)
        || body.get(1..5).and_then(|b| <[u8; 4]>::try_from(b).ok()).map(u32::from_le_bytes) != Some(h.k)
    {
        return Err(bad("key body does not start with the expected halo2 version and k".into()));
    }
    Ok((h, body))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail by panicking")]
mod tests {
    use super::*;

    /// An on-chain header of `batch` inferences, each: model commitment, input commitment, one output of
    /// two elements at scale 0, provider.
    fn header(batch: usize, params: ParamVisibility) -> KeyHeader {
        let one = [
            PublicValue::ModelCommitment,
            PublicValue::InputCommitment { index: 0 },
            PublicValue::Output { index: 0, len: 2, scale: 0 },
            PublicValue::Provider,
        ];
        let mut public = vec![PublicValue::KzgAccumulator];
        for _ in 0..batch {
            public.extend(one.iter().cloned());
        }
        KeyHeader {
            format: KeyKind::Verifying.format().into(),
            version: VERSION,
            backend: BACKEND.into(),
            curve: CURVE.into(),
            k: 20,
            model_commitment: fr_to_hex(&Fr::from(7)),
            architecture: None,
            visibility: VisibilitySettings { params, ..VisibilitySettings::default() },
            shape: CircuitShape { gates: 0, tables: false, range_columns: 1, slopes: false },
            layout: LayoutGoal::Fast,
            public,
            dataset: None,
            onchain: Some(OnchainCircuit {
                num_advice: 1,
                num_lookup_advice: 1,
                num_fixed: 1,
                lookup_bits: 19,
                model_k: 10,
                model_vk_digest: String::new(),
                batch,
                break_points: Vec::new(),
            }),
            body_len: 0,
        }
    }

    /// Instances of `models.len()` inferences: inference `i` names model `models[i]`, has input
    /// commitment 100 + i, outputs (i, -i) and provider 0.
    fn instances(models: &[u64]) -> Vec<Fr> {
        let mut v = vec![Fr::from(0); ACCUMULATOR_LIMBS];
        for (i, &m) in models.iter().enumerate() {
            v.extend([
                Fr::from(m),
                Fr::from(100 + i as u64),
                Fr::from(i as u64),
                -Fr::from(i as u64),
                Fr::from(0),
            ]);
        }
        v
    }

    #[test]
    fn a_batch_header_reads_one_claim_per_inference_in_order() {
        let h = header(3, ParamVisibility::Fixed);
        assert_eq!(
            (h.batch(), h.instance_count(), h.model_index()),
            (3, ACCUMULATOR_LIMBS + 15, ACCUMULATOR_LIMBS)
        );
        let claims = h.claims(&instances(&[7, 7, 7])).unwrap();
        assert_eq!(claims.len(), 3);
        for (i, c) in claims.iter().enumerate() {
            assert_eq!(c.input_commitments, vec![fr_to_hex(&Fr::from(100 + i as u64))]);
            assert_eq!(c.outputs, vec![vec![i as f32, -(i as f32)]]);
            assert_eq!(c.provider, None);
        }
        // One inference's instances short, or one too many: refused.
        assert!(h.claims(&instances(&[7, 7])).is_err());
        assert!(h.claims(&instances(&[7, 7, 7, 7])).is_err());
    }

    #[test]
    fn every_inference_of_a_batch_must_name_the_same_model() {
        // Fixed parameters: each inference must name the key's model.
        let fixed = header(2, ParamVisibility::Fixed);
        let e = fixed.claims(&instances(&[7, 8])).unwrap_err();
        assert!(e.to_string().contains("not the key's"), "{e}");
        // Hashed parameters: any model of the architecture, but one for the whole batch.
        let hashed = header(2, ParamVisibility::Hashed);
        assert_eq!(hashed.claims(&instances(&[8, 8])).unwrap().len(), 2);
        let e = hashed.claims(&instances(&[8, 9])).unwrap_err();
        assert!(e.to_string().contains("different models"), "{e}");
    }

    #[test]
    fn the_layout_goal_is_recorded_and_an_absent_one_reads_as_fast() {
        let mut h = header(1, ParamVisibility::Hashed);
        let fast = serde_json::to_string(&h).unwrap();
        assert!(!fast.contains("layout"), "a fast key's header is as before the goal existed");
        assert_eq!(serde_json::from_str::<KeyHeader>(&fast).unwrap().layout, LayoutGoal::Fast);
        h.layout = LayoutGoal::Narrow;
        let narrow = serde_json::to_string(&h).unwrap();
        assert_eq!(serde_json::from_str::<KeyHeader>(&narrow).unwrap().layout, LayoutGoal::Narrow);
    }
}
