//! poai: prove that an output came from a committed, quantised ONNX model, and check such proofs.
//!
//! This crate is the library facade the `poai` command line, services and bindings call: every workflow
//! as a function with typed options, reports and errors ([`Error`]), nothing printed. Artifacts are
//! loaded with [`load`] (errors name the file) and passed in, so a service keeps its keys in memory
//! between proofs; writes go through [`load::write_atomic`].
//!
//! | step | function | what it makes |
//! |---|---|---|
//! | import, calibrate, quantise | [`compile`] ([`inspect`] first to list unsupported ops) | a [`CompiledModel`] |
//! | run | [`run`] | quantised outputs and their error against the float model |
//! | SRS | [`Srs::generate_insecure`] (development only) or a ceremony file via [`load::srs`] | KZG parameters |
//! | keys | [`setup`] with [`KeyOptions`] (backend, visibility, dataset binding, layout); [`setup_onchain`] | proving and verifying keys |
//! | prove | [`prove`] a [`Job`] (inputs, a dataset row, accuracy over rows) | a [`ProofFile`] |
//! | verify | [`verify`] (optionally pinning the key's SHA-256) | the public claims |
//! | audit | [`audit`] | the model, key and dataset recomputed from their sources, the proof checked |
//! | EVM | [`evm::verifier`], [`evm::rewards_contract`], [`evm::calldata`] | Solidity, bytecode, call data |
//!
//! The proving system is a parameter ([`Backend`]): [`KeyOptions::backend`] picks it at setup, and
//! proving, verification and audit follow the backend the key files name.
//!
//! ```
//! # fn main() -> Result<(), poai::Error> {
//! use std::path::Path;
//! use poai::{Job, KeyOptions, ProveOptions};
//!
//! let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/mlp");
//! let compiled = poai::compile(&dir.join("model.onnx"), &dir.join("calibration.json"), &Default::default())?;
//! let model = compiled.model;
//!
//! let options = KeyOptions::default(); // halo2; hashed inputs and parameters, public outputs
//! let srs = poai::Srs::generate_insecure(poai::srs_k(&model, &options)?, 0)?; // INSECURE: tests only
//! let keys = poai::setup(&model, &srs, &options)?;
//! let pk = keys.proving_key()?;
//!
//! let input = poai::load::input(&dir.join("input.json"))?;
//! let proof = poai::prove(&model, &srs, &pk, Job::Inputs(&[input]), &ProveOptions::default())?;
//!
//! let params = srs.verifier_params()?;
//! let checked = poai::verify(&proof, &keys.verifying_key, &params, Some(&keys.verifying_key.sha256))?;
//! assert_eq!(checked.verified.model_commitment, model.model_commitment);
//! assert!(checked.insecure_srs);
//! # Ok(())
//! # }
//! ```

mod audit;
mod backend;
mod dataset;
mod error;
pub mod evm;
mod keys;
pub mod load;
mod model;
mod prove;
mod verify;

pub use audit::{audit, AuditCheck, AuditFiles, AuditReport};
pub use backend::{Backend, UnknownBackendName};
pub use dataset::commit as commit_dataset;
pub use error::Error;
pub use keys::{dataset_mode, setup, setup_onchain, srs_k, KeyOptions, Keys, OnchainOptions, ProvingKey};
pub use model::{compile, inspect, run, Compilation, Inference, Inspection, Supported};
pub use prove::{check_job, prove, Job, ProveOptions};
pub use verify::{verify, Verification};

pub use poai_circuits::commit::merkle::MerkleTree;
pub use poai_circuits::halo2::{DatasetMode, LayoutGoal, ParamVisibility, Visibility, VisibilitySettings};
pub use poai_contracts::solc::Solc;
pub use poai_onnx::{AccuracyReport, CompiledModel, Graph, QuantConfig};
pub use poai_prover::DEFAULT_ONCHAIN_K;
pub use poai_prover::{check_cpu, DatasetFile, OnchainProvingKey, ProvingKeyFile, Srs};
pub use poai_verifier::{hex, Claims, ProofFile, Provider, Verified, VerifierParams, VerifyingKeyFile};
