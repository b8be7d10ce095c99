//! Compiling Solidity with the pinned compiler through its standard-JSON interface.
//!
//! The compiler is a command that behaves like `solc --standard-json`: a native solc 0.8.19, or the
//! solc-js wrapper in `tools/bin/solc` (`npm ci --prefix tools` installs the pinned solc-js; no
//! download at run time). [`Solc::from_env`] takes it from `POAI_SOLC`, else `solc` on the `PATH`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::json;

use crate::ContractError;

/// EIP-170: the largest runtime code a contract may have on mainnet.
pub const EIP170_LIMIT: usize = 24_576;

/// A compiled contract.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// Contract name.
    pub name: String,
    /// Creation (deployment) bytecode.
    pub creation: Vec<u8>,
    /// Runtime bytecode (what EIP-170 limits).
    pub runtime: Vec<u8>,
    /// ABI (JSON).
    pub abi: serde_json::Value,
}

impl Compiled {
    /// Errors unless the runtime code fits EIP-170's limit.
    pub fn check_deployable(&self) -> Result<(), ContractError> {
        if self.runtime.len() > EIP170_LIMIT {
            return Err(ContractError::TooLarge {
                name: self.name.clone(),
                bytes: self.runtime.len(),
                limit: EIP170_LIMIT,
            });
        }
        Ok(())
    }
}

/// A Solidity compiler command.
#[derive(Clone, Debug)]
pub struct Solc {
    command: PathBuf,
}

impl Solc {
    /// A compiler at `command`.
    pub fn new(command: impl Into<PathBuf>) -> Self {
        Self { command: command.into() }
    }

    /// `POAI_SOLC` if set, else `solc` from the `PATH`.
    pub fn from_env() -> Self {
        Self::new(std::env::var_os("POAI_SOLC").map(PathBuf::from).unwrap_or_else(|| "solc".into()))
    }

    fn run(&self, args: &[&str], stdin: &[u8]) -> Result<Vec<u8>, ContractError> {
        let name = self.command.display().to_string();
        let mut child = Command::new(&self.command)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                ContractError::Solc(format!(
                    "cannot run `{name}`: {e} (install solc 0.8.19, or run `npm ci --prefix tools` and set \
                     POAI_SOLC=tools/bin/solc)"
                ))
            })?;
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin).map_err(|e| ContractError::Solc(format!("writing to `{name}`: {e}")))?;
        }
        let out = child.wait_with_output().map_err(|e| ContractError::Solc(format!("`{name}`: {e}")))?;
        if !out.status.success() {
            return Err(ContractError::Solc(format!(
                "`{name}` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(out.stdout)
    }

    /// The compiler's version line.
    pub fn version(&self) -> Result<String, ContractError> {
        let out = self.run(&["--version"], &[])?;
        let text = String::from_utf8_lossy(&out);
        text.lines()
            .find(|l| l.starts_with("Version:"))
            .map(|l| l.trim_start_matches("Version:").trim().to_string())
            .ok_or_else(|| ContractError::Solc(format!("unexpected version output: {text}")))
    }

    /// Compiles `sources` (file name, content) and returns every contract they define. The optimizer is
    /// off when `optimize_runs` is `None` (generated verifiers need it off: "stack too deep" otherwise).
    pub fn compile(
        &self,
        sources: &[(&str, &str)],
        optimize_runs: Option<u32>,
    ) -> Result<Vec<Compiled>, ContractError> {
        let srcs: serde_json::Map<String, serde_json::Value> =
            sources.iter().map(|(name, code)| (name.to_string(), json!({ "content": code }))).collect();
        let input = json!({
            "language": "Solidity",
            "sources": srcs,
            "settings": {
                "optimizer": { "enabled": optimize_runs.is_some(), "runs": optimize_runs.unwrap_or(200) },
                "evmVersion": "paris",
                "outputSelection": { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } }
            }
        });
        let out = self.run(&["--standard-json"], input.to_string().as_bytes())?;
        let out: serde_json::Value = serde_json::from_slice(&out)
            .map_err(|e| ContractError::Solc(format!("unreadable compiler output: {e}")))?;
        let errors: Vec<String> = out["errors"]
            .as_array()
            .map(|errs| {
                errs.iter()
                    .filter(|e| e["severity"] == "error")
                    .map(|e| e["formattedMessage"].as_str().unwrap_or("error").to_string())
                    .collect()
            })
            .unwrap_or_default();
        if !errors.is_empty() {
            return Err(ContractError::Solc(errors.join("\n")));
        }
        let mut contracts = Vec::new();
        for (file, defs) in out["contracts"].as_object().into_iter().flatten() {
            for (name, c) in defs.as_object().into_iter().flatten() {
                let hexcode = |v: &serde_json::Value| {
                    v.as_str().and_then(poai_verifier::hex::decode).ok_or_else(|| {
                        ContractError::Solc(format!("{file}:{name}: missing or non-hex bytecode"))
                    })
                };
                contracts.push(Compiled {
                    name: name.clone(),
                    creation: hexcode(&c["evm"]["bytecode"]["object"])?,
                    runtime: hexcode(&c["evm"]["deployedBytecode"]["object"])?,
                    abi: c["abi"].clone(),
                });
            }
        }
        Ok(contracts)
    }

    /// Compiles one source and returns the contract called `name`.
    pub fn compile_one(
        &self,
        file: &str,
        source: &str,
        name: &str,
        optimize_runs: Option<u32>,
    ) -> Result<Compiled, ContractError> {
        self.compile(&[(file, source)], optimize_runs)?
            .into_iter()
            .find(|c| c.name == name)
            .ok_or_else(|| ContractError::Solc(format!("{file} defines no contract `{name}`")))
    }
}
