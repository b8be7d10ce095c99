//! The wire format of sumcheck-backend proofs: a fixed magic and format version, then every message in
//! the order the types hold it, little-endian.
//!
//! - A field element is its canonical 32-byte representation; a non-canonical one (at or above the
//!   modulus) is refused, so one proof has one encoding.
//! - A G1 point is its 32-byte compressed encoding, checked to be on the curve (the identity included).
//! - A list is a `u32` count, then its items. Counts are checked against the bytes left before anything
//!   is allocated, so a forged count cannot exhaust memory.
//! - Optional parts carry a presence byte (0 or 1).
//!
//! [`ModelProof::to_bytes`] / [`ModelProof::from_bytes`] are the entry points; `sumcheck/tests` pins the
//! bytes of a fixed proof, so any change to the layout or to the protocol's messages must bump
//! [`MODEL_PROOF_VERSION`].

use halo2_base::halo2_proofs::halo2curves::bn256::G1Affine;
use halo2_base::halo2_proofs::halo2curves::ff::PrimeField;
use halo2_base::halo2_proofs::halo2curves::group::GroupEncoding;
use poai_circuits::Fr;

use crate::claims::MergeProof;
use crate::hyperkzg::{Commitment, OpeningProof};
use crate::logup::{FractionSumProof, LayerProof, LookupProof};
use crate::matmul::MatmulProof;
use crate::model::{ModelProof, StepProof, MODEL_PROOF_VERSION};
use crate::sumcheck::SumcheckProof;
use crate::SumcheckError;

/// The first bytes of every encoded model proof.
pub const MAGIC: &[u8; 8] = b"POAI-SC\0";

/// Bytes of one field element or one compressed point.
const ELEMENT: usize = 32;

fn decode_error(what: &str) -> SumcheckError {
    SumcheckError::Decode(what.to_string())
}

/// Appends encodings to a byte buffer.
#[derive(Default)]
struct Writer {
    bytes: Vec<u8>,
}

impl Writer {
    fn count(&mut self, n: usize) {
        // Counts of a proof are far below 2^32 (a proof of 2^32 messages would not fit memory).
        self.bytes.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
    }

    fn fr(&mut self, x: &Fr) {
        self.bytes.extend_from_slice(x.to_repr().as_ref());
    }

    fn frs(&mut self, xs: &[Fr]) {
        self.count(xs.len());
        xs.iter().for_each(|x| self.fr(x));
    }

    fn point(&mut self, p: &G1Affine) {
        self.bytes.extend_from_slice(p.to_bytes().as_ref());
    }

    fn flag(&mut self, present: bool) {
        self.bytes.push(u8::from(present));
    }

    fn sumcheck(&mut self, p: &SumcheckProof) {
        self.count(p.rounds.len());
        p.rounds.iter().for_each(|r| self.frs(r));
    }

    fn fraction_sum(&mut self, p: &FractionSumProof) {
        p.root.iter().for_each(|x| self.fr(x));
        self.count(p.layers.len());
        for layer in &p.layers {
            self.sumcheck(&layer.sumcheck);
            layer.children.iter().for_each(|x| self.fr(x));
        }
    }

    fn lookup(&mut self, p: &LookupProof) {
        self.fraction_sum(&p.witness);
        self.count(p.tables.len());
        p.tables.iter().for_each(|t| self.fraction_sum(t));
    }

    fn merge(&mut self, p: &MergeProof) {
        self.sumcheck(&p.sumcheck);
        self.fr(&p.value);
    }

    fn step(&mut self, s: &StepProof) {
        self.flag(s.merge.is_some());
        if let Some(m) = &s.merge {
            self.merge(m);
        }
        self.flag(s.matmul.is_some());
        if let Some(m) = &s.matmul {
            self.sumcheck(&m.sumcheck);
            self.fr(&m.a_eval);
            self.fr(&m.b_eval);
        }
        self.flag(s.lookup.is_some());
        if let Some(l) = &s.lookup {
            self.lookup(l);
        }
        self.count(s.sumchecks.len());
        s.sumchecks.iter().for_each(|p| self.sumcheck(p));
        self.frs(&s.values);
    }

    fn opening(&mut self, p: &OpeningProof) {
        self.count(p.folds.len());
        p.folds.iter().for_each(|f| self.point(f));
        self.count(p.evals.len());
        p.evals.iter().flatten().for_each(|x| self.fr(x));
        p.witnesses.iter().for_each(|w| self.point(w));
    }
}

/// Reads encodings from a byte slice, refusing anything malformed.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn take(&mut self, n: usize, what: &str) -> Result<&[u8], SumcheckError> {
        if self.bytes.len() < n {
            return Err(decode_error(&format!("the bytes end inside {what}")));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    /// A count of items at least `item_bytes` long each, checked against the bytes left.
    fn count(&mut self, item_bytes: usize, what: &str) -> Result<usize, SumcheckError> {
        let mut raw = [0u8; 4];
        raw.copy_from_slice(self.take(4, what)?);
        let n = u32::from_le_bytes(raw) as usize;
        if n.saturating_mul(item_bytes.max(1)) > self.bytes.len() {
            return Err(decode_error(&format!("{what}: a count of {n} exceeds the bytes left")));
        }
        Ok(n)
    }

    fn fr(&mut self, what: &str) -> Result<Fr, SumcheckError> {
        let mut repr = <Fr as PrimeField>::Repr::default();
        repr.as_mut().copy_from_slice(self.take(ELEMENT, what)?);
        Option::from(Fr::from_repr(repr))
            .ok_or_else(|| decode_error(&format!("{what}: a field element at or above the modulus")))
    }

    fn frs(&mut self, what: &str) -> Result<Vec<Fr>, SumcheckError> {
        let n = self.count(ELEMENT, what)?;
        (0..n).map(|_| self.fr(what)).collect()
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[Fr; N], SumcheckError> {
        let mut out = [Fr::default(); N];
        for x in &mut out {
            *x = self.fr(what)?;
        }
        Ok(out)
    }

    fn point(&mut self, what: &str) -> Result<G1Affine, SumcheckError> {
        let mut raw = <G1Affine as GroupEncoding>::Repr::default();
        raw.as_mut().copy_from_slice(self.take(ELEMENT, what)?);
        Option::from(G1Affine::from_bytes(&raw))
            .ok_or_else(|| decode_error(&format!("{what}: not a point of the curve")))
    }

    fn flag(&mut self, what: &str) -> Result<bool, SumcheckError> {
        match self.take(1, what)? {
            [0] => Ok(false),
            [1] => Ok(true),
            [b] => Err(decode_error(&format!("{what}: presence byte {b}, expected 0 or 1"))),
            _ => Err(decode_error(what)),
        }
    }

    fn sumcheck(&mut self, what: &str) -> Result<SumcheckProof, SumcheckError> {
        let n = self.count(4, what)?;
        let rounds = (0..n).map(|_| self.frs(what)).collect::<Result<_, _>>()?;
        Ok(SumcheckProof { rounds })
    }

    fn fraction_sum(&mut self, what: &str) -> Result<FractionSumProof, SumcheckError> {
        let root = self.array::<2>(what)?;
        let n = self.count(4 + 4 * ELEMENT, what)?;
        let layers = (0..n)
            .map(|_| Ok(LayerProof { sumcheck: self.sumcheck(what)?, children: self.array::<4>(what)? }))
            .collect::<Result<_, SumcheckError>>()?;
        Ok(FractionSumProof { root, layers })
    }

    fn lookup(&mut self, what: &str) -> Result<LookupProof, SumcheckError> {
        let witness = self.fraction_sum(what)?;
        let n = self.count(2 * ELEMENT + 4, what)?;
        let tables = (0..n).map(|_| self.fraction_sum(what)).collect::<Result<_, _>>()?;
        Ok(LookupProof { witness, tables })
    }

    fn merge(&mut self, what: &str) -> Result<MergeProof, SumcheckError> {
        Ok(MergeProof { sumcheck: self.sumcheck(what)?, value: self.fr(what)? })
    }

    fn step(&mut self) -> Result<StepProof, SumcheckError> {
        let merge = if self.flag("a step's merge")? { Some(self.merge("a step's merge")?) } else { None };
        let matmul = if self.flag("a step's product")? {
            let what = "a step's product";
            Some(MatmulProof {
                sumcheck: self.sumcheck(what)?,
                a_eval: self.fr(what)?,
                b_eval: self.fr(what)?,
            })
        } else {
            None
        };
        let lookup = if self.flag("a step's lookup")? { Some(self.lookup("a step's lookup")?) } else { None };
        let n = self.count(4, "a step's sumchecks")?;
        let sumchecks = (0..n).map(|_| self.sumcheck("a step's sumcheck")).collect::<Result<_, _>>()?;
        let values = self.frs("a step's values")?;
        Ok(StepProof { merge, matmul, lookup, sumchecks, values })
    }

    fn opening(&mut self) -> Result<OpeningProof, SumcheckError> {
        let what = "the opening";
        let n = self.count(ELEMENT, what)?;
        let folds = (0..n).map(|_| self.point(what)).collect::<Result<_, _>>()?;
        let n = self.count(3 * ELEMENT, what)?;
        let evals = (0..n).map(|_| self.array::<3>(what)).collect::<Result<_, _>>()?;
        let witnesses = [self.point(what)?, self.point(what)?];
        Ok(OpeningProof { folds, evals, witnesses })
    }
}

impl ModelProof {
    /// The proof's bytes: [`MAGIC`], [`MODEL_PROOF_VERSION`], then the messages.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.bytes.extend_from_slice(MAGIC);
        w.bytes.extend_from_slice(&MODEL_PROOF_VERSION.to_le_bytes());
        w.point(&self.commitment.0);
        w.count(self.steps.len());
        self.steps.iter().for_each(|s| w.step(s));
        w.lookup(&self.lookup);
        w.merge(&self.merge);
        w.opening(&self.opening);
        w.bytes
    }

    /// Reads a proof written by [`Self::to_bytes`] of this format version; anything else (another
    /// version, a truncated or padded file, a value out of range) is a [`SumcheckError::Decode`] naming
    /// the part.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SumcheckError> {
        let mut r = Reader { bytes };
        if r.take(MAGIC.len(), "the magic").ok() != Some(MAGIC.as_slice()) {
            return Err(decode_error("not a sumcheck-backend model proof (the magic bytes differ)"));
        }
        let mut version = [0u8; 4];
        version.copy_from_slice(r.take(4, "the format version")?);
        let version = u32::from_le_bytes(version);
        if version != MODEL_PROOF_VERSION {
            return Err(decode_error(&format!(
                "format version {version}; this build reads version {MODEL_PROOF_VERSION}"
            )));
        }
        let commitment = Commitment(r.point("the commitment")?);
        // A step is at least its three presence bytes and two counts.
        let n = r.count(3 + 4 + 4, "the steps")?;
        let steps = (0..n).map(|_| r.step()).collect::<Result<_, _>>()?;
        let lookup = r.lookup("the range checks")?;
        let merge = r.merge("the witness merge")?;
        let opening = r.opening()?;
        if !r.bytes.is_empty() {
            return Err(decode_error(&format!("{} bytes after the proof", r.bytes.len())));
        }
        Ok(Self { commitment, steps, lookup, merge, opening })
    }
}
