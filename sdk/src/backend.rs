//! Which proving system makes and checks a proof.
//!
//! Today every key and proof is halo2's (PLONKish arithmetisation, KZG commitments on BN254, SHPLONK
//! openings, a Keccak-256 transcript so the same proof verifies in the EVM). A sumcheck backend (issue
//! #25) is the next variant: setup takes the backend as an option, and proving, verification and audit
//! follow the backend that the key and proof files name in their headers, so callers never choose it twice.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// A proving system poai can set up, prove and verify with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Backend {
    /// halo2 with KZG on BN254 (SHPLONK, Keccak-256 transcript): the backend of the on-chain path.
    #[default]
    Halo2,
}

impl Backend {
    /// Every backend this build has.
    pub const ALL: &'static [Backend] = &[Backend::Halo2];

    /// The short name users type (`--backend halo2`).
    pub fn name(self) -> &'static str {
        match self {
            Backend::Halo2 => "halo2",
        }
    }

    /// The identifier the backend's key and proof files carry in their `backend` field.
    pub fn artifact_id(self) -> &'static str {
        match self {
            Backend::Halo2 => poai_verifier::BACKEND,
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
