//! Who sees a model's inputs and outputs, as users of EZKL know it.

use serde::{Deserialize, Serialize};

/// Visibility of a model input or output in a proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// A witness only: the proof says nothing about which value it was.
    Private,
    /// Every element is a public instance.
    Public,
    /// Private, but its Poseidon commitment (`commit::tensor_commitment`) is a public instance, so a
    /// proof can be tied to a value someone else committed to, at the cost of one instance.
    Hashed,
}

impl std::fmt::Display for Visibility {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Private => "private",
            Self::Public => "public",
            Self::Hashed => "hashed",
        })
    }
}

impl std::str::FromStr for Visibility {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "private" => Ok(Self::Private),
            "public" => Ok(Self::Public),
            "hashed" => Ok(Self::Hashed),
            other => Err(format!("unknown visibility `{other}` (private, public or hashed)")),
        }
    }
}

/// Visibility of every input and every output (parameters are always fixed columns, bound by the
/// verifying key). Defaults: inputs hashed, outputs public.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VisibilitySettings {
    /// All model inputs.
    pub input: Visibility,
    /// All model outputs.
    pub output: Visibility,
}

impl Default for VisibilitySettings {
    fn default() -> Self {
        Self { input: Visibility::Hashed, output: Visibility::Public }
    }
}
