//! Keys: what a circuit is set up for ([`KeyOptions`]), the SRS size it needs, the model's proving and
//! verifying keys, and the on-chain keys that compress its proofs for the EVM.

use poai_circuits::commit::merkle::MerkleTree;
use poai_circuits::halo2::{DatasetMode, LayoutGoal, Visibility, VisibilitySettings};
use poai_onnx::CompiledModel;
use poai_prover::sumcheck::SumcheckProvingKey;
use poai_prover::{CircuitKind, DatasetFile, ProvingKeyFile, Srs};
use poai_verifier::artifact::decode_key;
use poai_verifier::{KeyHeader, KeyKind, VerifyingKeyFile};

use crate::{Backend, Error};

/// Everything keys are fixed to besides the model: the proving system, the visibility of inputs,
/// outputs and parameters, an optional dataset binding, and the layout goal.
#[derive(Clone, Copy, Debug, Default)]
pub struct KeyOptions {
    /// Proving system.
    pub backend: Backend,
    /// Visibility of inputs, outputs and parameters.
    pub visibility: VisibilitySettings,
    /// Proofs about rows of a committed dataset (membership of one row, or accuracy over a batch).
    pub dataset: Option<DatasetMode>,
    /// What the circuit's layout is chosen for.
    pub layout: LayoutGoal,
}

impl KeyOptions {
    /// Options for `backend` with its default visibilities ([`Backend::default_visibility`]), no
    /// dataset and the fast layout.
    pub fn for_backend(backend: Backend) -> Self {
        Self { backend, visibility: backend.default_visibility(), ..Self::default() }
    }

    /// The halo2 circuit these options describe. Refuses private outputs: a proof about an output nobody
    /// sees proves nothing.
    fn circuit_kind(&self) -> Result<CircuitKind, Error> {
        if self.visibility.output == Visibility::Private {
            return Err(Error::PrivateOutputs);
        }
        let kind = match self.dataset {
            None => CircuitKind::plain(self.visibility),
            Some(mode) => CircuitKind::bound(self.visibility, mode),
        };
        Ok(kind.with_layout(self.layout))
    }
}

/// The dataset binding for keys over rows of `dataset` (checked to be in `model`'s input format): one
/// row per proof, or with `accuracy_batch`, accuracy over that many consecutive rows.
pub fn dataset_mode(
    model: &CompiledModel,
    (dataset, _): &(DatasetFile, MerkleTree),
    accuracy_batch: Option<u32>,
) -> Result<DatasetMode, Error> {
    dataset.check_model(model)?;
    Ok(match accuracy_batch {
        Some(batch) => DatasetMode::Accuracy { depth: dataset.depth, batch },
        None => DatasetMode::Membership { depth: dataset.depth },
    })
}

/// The SRS size (log2 of rows) that `model`'s circuit needs under `options`.
pub fn srs_k(model: &CompiledModel, options: &KeyOptions) -> Result<u32, Error> {
    let kind = options.circuit_kind()?;
    match options.backend {
        Backend::Halo2 => Ok(poai_prover::circuit_k(model, kind)?),
        Backend::Sumcheck => {
            poai_prover::sumcheck::check_kind(kind)?;
            Ok(poai_prover::sumcheck::packed_k(model)?)
        }
    }
}

/// A proving key of either backend, parsed.
#[derive(Debug)]
pub enum ProvingKey {
    /// halo2's: its header and halo2's proving key.
    Halo2(Box<ProvingKeyFile>),
    /// The sumcheck backend's: its header (the backend needs no preprocessing beyond the SRS).
    Sumcheck(Box<SumcheckProvingKey>),
}

impl ProvingKey {
    /// Parses a proving-key file of either backend (its header names which).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let (header, _) = decode_key(bytes, KeyKind::Proving)?;
        Ok(match Backend::of_artifact("the proving key", &header.backend)? {
            Backend::Halo2 => Self::Halo2(Box::new(poai_prover::read_pk(bytes)?)),
            Backend::Sumcheck => Self::Sumcheck(Box::new(poai_prover::sumcheck::read_pk(bytes)?)),
        })
    }

    /// The key's header: model, visibilities, public-instance layout, dataset binding.
    pub fn header(&self) -> &KeyHeader {
        match self {
            Self::Halo2(key) => &key.0,
            Self::Sumcheck(key) => &key.header,
        }
    }

    /// The backend the key is for.
    pub fn backend(&self) -> Backend {
        match self {
            Self::Halo2(_) => Backend::Halo2,
            Self::Sumcheck(_) => Backend::Sumcheck,
        }
    }
}

/// A key pair as written to files, with the verifying key parsed (its header, its SHA-256).
#[derive(Debug)]
pub struct Keys {
    /// Proving key file bytes.
    pub proving: Vec<u8>,
    /// Verifying key file bytes.
    pub verifying: Vec<u8>,
    /// The verifying key, parsed: [`VerifyingKeyFile::sha256`] is what a verifier pins.
    pub verifying_key: VerifyingKeyFile,
}

impl Keys {
    /// The proving key, parsed for [`crate::prove`] (as [`crate::load::proving_key`] reads it from a file).
    pub fn proving_key(&self) -> Result<ProvingKey, Error> {
        ProvingKey::from_bytes(&self.proving)
    }

    fn new(proving: Vec<u8>, verifying: Vec<u8>) -> Result<Self, Error> {
        let verifying_key = VerifyingKeyFile::from_bytes(&verifying)?;
        Ok(Self { proving, verifying, verifying_key })
    }
}

/// Generates `model`'s proving and verifying keys under `options` from `srs`.
pub fn setup(model: &CompiledModel, srs: &Srs, options: &KeyOptions) -> Result<Keys, Error> {
    let kind = options.circuit_kind()?;
    let (pk, vk) = match options.backend {
        Backend::Halo2 => poai_prover::setup(model, srs, kind)?,
        Backend::Sumcheck => poai_prover::sumcheck::setup(model, srs, kind)?,
    };
    Keys::new(pk, vk)
}

/// The on-chain keys' shape: the compression circuit's size and how many model proofs one on-chain
/// proof carries.
#[derive(Clone, Copy, Debug)]
pub struct OnchainOptions {
    /// log2 of the compression circuit's rows: larger means fewer columns (a cheaper Solidity verifier)
    /// and a larger SRS.
    pub k: u32,
    /// Model proofs per on-chain proof.
    pub batch: usize,
}

impl Default for OnchainOptions {
    fn default() -> Self {
        Self { k: poai_prover::DEFAULT_ONCHAIN_K, batch: 1 }
    }
}

/// Generates on-chain keys for the model verifying key `model_vk`: a compression circuit that verifies
/// `options.batch` of its proofs and whose Solidity verifier fits a contract.
pub fn setup_onchain(
    model_vk: &VerifyingKeyFile,
    srs: &Srs,
    options: &OnchainOptions,
) -> Result<Keys, Error> {
    match Backend::of_artifact("the model verifying key", &model_vk.header.backend)? {
        Backend::Halo2 => {
            let (pk, vk) = poai_prover::setup_onchain(model_vk, srs, options.k, options.batch)?;
            Keys::new(pk, vk)
        }
        Backend::Sumcheck => Err(Error::Halo2Only { what: "on-chain compression" }),
    }
}
