//! Reading artifacts from files, each error naming the file and what it should have been. Writing goes
//! through [`write_atomic`]: nothing partial is ever left behind.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use poai_circuits::commit::merkle::MerkleTree;
use poai_onnx::{CompiledModel, Graph};
use poai_prover::{DatasetFile, OnchainProvingKey, Srs};
use poai_verifier::{ProofFile, VerifierParams, VerifyingKeyFile};

use crate::{Error, ProvingKey};

pub use poai_prover::write_atomic;

/// A file's bytes.
pub fn bytes(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Read { path: path.to_path_buf(), source })
}

/// An ONNX model, imported (normalised, shapes inferred); every unsupported op is listed at once.
pub fn onnx(path: &Path) -> Result<Graph, Error> {
    Ok(poai_onnx::load_onnx(path)?)
}

/// A compiled model (`poai compile`).
pub fn compiled_model(path: &Path) -> Result<CompiledModel, Error> {
    CompiledModel::from_json(&bytes(path)?).map_err(|e| Error::artifact(path, "a valid compiled model", e))
}

/// An input file (`{"input_data": [[...], ...]}`): one flat list per model input.
pub fn input(path: &Path) -> Result<Vec<Vec<f32>>, Error> {
    Ok(poai_onnx::io::read_input_file(path)?)
}

/// A proving key (`poai setup`).
pub fn proving_key(path: &Path) -> Result<ProvingKey, Error> {
    ProvingKey::from_bytes(&bytes(path)?).map_err(|e| Error::artifact(path, "a usable proving key", e))
}

/// An on-chain proving key (`poai setup-onchain`).
pub fn onchain_proving_key(path: &Path) -> Result<OnchainProvingKey, Error> {
    poai_prover::read_onchain_pk(&bytes(path)?)
        .map_err(|e| Error::artifact(path, "a usable on-chain proving key", e))
}

/// A verifying key (its SHA-256 is computed over the whole file).
pub fn verifying_key(path: &Path) -> Result<VerifyingKeyFile, Error> {
    VerifyingKeyFile::from_bytes(&bytes(path)?)
        .map_err(|e| Error::artifact(path, "a usable verifying key", e))
}

/// A proof file.
pub fn proof(path: &Path) -> Result<ProofFile, Error> {
    ProofFile::from_json(&bytes(path)?).map_err(|e| Error::artifact(path, "a poai proof file", e))
}

/// A whole SRS, checked (what setup and proving need).
pub fn srs(path: &Path) -> Result<Srs, Error> {
    Ok(Srs::read(path)?)
}

/// Verifier parameters from an SRS file: only its two ends are read (header, `k`, the first power; `G2`,
/// `s·G2`), so this is instant at any size.
pub fn verifier_params(path: &Path) -> Result<VerifierParams, Error> {
    use poai_verifier::srs::{SRS_HEAD_BYTES, SRS_TAIL_BYTES};
    let ends = || -> std::io::Result<(Vec<u8>, Vec<u8>, u64)> {
        let mut f = std::fs::File::open(path)?;
        let len = f.metadata()?.len();
        let mut head = Vec::new();
        f.by_ref().take(SRS_HEAD_BYTES as u64).read_to_end(&mut head)?;
        let mut tail = Vec::new();
        if len >= SRS_TAIL_BYTES as u64 {
            f.seek(SeekFrom::End(-(SRS_TAIL_BYTES as i64)))?;
            f.read_to_end(&mut tail)?;
        }
        Ok((head, tail, len))
    };
    let (head, tail, len) = ends().map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
    VerifierParams::from_srs_ends(&head, &tail, len).map_err(|e| Error::artifact(path, "a usable SRS", e))
}

/// A committed dataset file (`poai dataset commit`) with its Merkle tree, rebuilt and checked against
/// the root the file records.
pub fn dataset(path: &Path) -> Result<(DatasetFile, MerkleTree), Error> {
    Ok(DatasetFile::from_json(&bytes(path)?, path)?)
}
