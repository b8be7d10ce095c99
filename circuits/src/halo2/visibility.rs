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

/// How a model's parameters (weights, biases, learned constants) enter a proof.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamVisibility {
    /// Constants of the circuit (fixed columns): the verifying key binds them, so a key is for one model
    /// and its weights are readable from the key. The fastest circuit.
    Fixed,
    /// Private witnesses, packed and hashed with Poseidon in the circuit into the model commitment
    /// (instance 0): one key serves every model of the architecture, and the weights stay private.
    #[default]
    Hashed,
}

impl std::fmt::Display for ParamVisibility {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Fixed => "fixed",
            Self::Hashed => "hashed",
        })
    }
}

impl std::str::FromStr for ParamVisibility {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "fixed" => Ok(Self::Fixed),
            "hashed" => Ok(Self::Hashed),
            "private" | "public" => Err(format!(
                "parameters cannot be `{s}`: `fixed` (bound by the verifying key) or `hashed` (bound by the \
                 in-circuit model commitment)"
            )),
            other => Err(format!("unknown parameter visibility `{other}` (fixed or hashed)")),
        }
    }
}

/// Visibility of every input, every output and the parameters. Defaults: inputs hashed, outputs public,
/// parameters hashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VisibilitySettings {
    /// All model inputs.
    pub input: Visibility,
    /// All model outputs.
    pub output: Visibility,
    /// The parameters (files written before this field existed had fixed parameters).
    #[serde(default = "fixed_params")]
    pub params: ParamVisibility,
}

fn fixed_params() -> ParamVisibility {
    ParamVisibility::Fixed
}

impl Default for VisibilitySettings {
    fn default() -> Self {
        Self { input: Visibility::Hashed, output: Visibility::Public, params: ParamVisibility::Hashed }
    }
}
