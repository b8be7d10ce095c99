//! Which proving system makes and checks a proof.
//!
//! Two backends: halo2 (PLONKish arithmetisation, KZG commitments on BN254, SHPLONK openings, a
//! Keccak-256 transcript so the same proof verifies in the EVM) and the sumcheck backend (sumcheck
//! reductions per op over one HyperKZG commitment on the same powers of tau, a Poseidon transcript;
//! several times faster, memory following the largest layer). Setup takes the backend as an option;
//! proving, verification and audit follow the backend that the key and proof files name in their
//! headers, so callers never choose it twice. Both give the same outputs and public instances.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use poai_circuits::halo2::{ParamVisibility, Visibility, VisibilitySettings};

use crate::Error;

/// A proving system poai can set up, prove and verify with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Backend {
    /// halo2 with KZG on BN254 (SHPLONK, Keccak-256 transcript): the backend of the on-chain path,
    /// hashed and private visibilities and datasets.
    #[default]
    Halo2,
    /// Sumcheck reductions over a HyperKZG commitment on BN254 (Poseidon transcript): public inputs and
    /// outputs with weights fixed in the key, until zero knowledge is in (issue #25).
    Sumcheck,
}

impl Backend {
    /// Every backend this build has.
    pub const ALL: &'static [Backend] = &[Backend::Halo2, Backend::Sumcheck];

    /// The short name users type (`--backend halo2`).
    pub fn name(self) -> &'static str {
        match self {
            Backend::Halo2 => "halo2",
            Backend::Sumcheck => "sumcheck",
        }
    }

    /// The identifier the backend's key and proof files carry in their `backend` field.
    pub fn artifact_id(self) -> &'static str {
        match self {
            Backend::Halo2 => poai_verifier::BACKEND,
            Backend::Sumcheck => poai_verifier::SUMCHECK_BACKEND,
        }
    }

    /// The visibilities keys get when the caller names none: halo2's hashed inputs and parameters with
    /// public outputs; the sumcheck backend's public inputs and outputs with parameters fixed in the key
    /// (what it proves without zero knowledge).
    pub fn default_visibility(self) -> VisibilitySettings {
        match self {
            Backend::Halo2 => VisibilitySettings::default(),
            Backend::Sumcheck => VisibilitySettings {
                input: Visibility::Public,
                output: Visibility::Public,
                params: ParamVisibility::Fixed,
            },
        }
    }

    /// The backend an artifact's `backend` field names; `artifact` says which file kind, for the error.
    pub fn of_artifact(artifact: &'static str, id: &str) -> Result<Self, Error> {
        Self::ALL
            .iter()
            .copied()
            .find(|b| b.artifact_id() == id)
            .ok_or_else(|| Error::UnknownBackend { artifact, found: id.to_string() })
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The name typed was not a backend of this build.
#[derive(Debug, thiserror::Error)]
#[error("unknown backend `{0}` (this build has: {names})", names = Backend::ALL.iter().map(|b| b.name()).collect::<Vec<_>>().join(", "))]
pub struct UnknownBackendName(String);

impl FromStr for Backend {
    type Err = UnknownBackendName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|b| b.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownBackendName(s.to_string()))
    }
}
