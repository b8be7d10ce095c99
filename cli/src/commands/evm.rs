//! `evm-verifier`, `rewards-contract`, `calldata`: what goes on chain.

use std::path::{Path, PathBuf};

use anyhow::Context;
use poai::Solc;
use serde_json::json;

use crate::output::{hex_file, line, note, warn_insecure_srs, with_spinner, write_atomic};

/// The Solidity compiler `--solc` names, else `POAI_SOLC`, else `solc` on the PATH.
fn solc_for(solc: Option<&Path>) -> Solc {
    solc.map(Solc::new).unwrap_or_else(Solc::from_env)
}

/// Generate the Solidity verifier for a verifying key, compile it with the pinned solc and check
/// that it can be deployed (EIP-170); writes nothing otherwise.
#[derive(clap::Args)]
pub struct EvmVerifier {
    /// Verifying key.
    #[arg(long)]
    vk: PathBuf,
    /// SRS file the key was generated with.
    #[arg(long)]
    srs: PathBuf,
    /// Output Solidity file.
    #[arg(short, long)]
    output: PathBuf,
    /// Also write the contract's ABI (JSON).
    #[arg(long)]
    abi: Option<PathBuf>,
    /// Solidity compiler command (default: `POAI_SOLC`, else `solc` on the PATH; tools/bin/solc
    /// wraps the pinned solc-js).
    #[arg(long)]
    solc: Option<PathBuf>,
    /// Also write the creation bytecode (hex).
    #[arg(long)]
    bytecode: Option<PathBuf>,
    /// Write a verifier over EIP-170's size limit anyway, for a local development chain started
    /// without the limit (`anvil --disable-code-size-limit`). Mainnet cannot deploy it.
    #[arg(long)]
    allow_oversized: bool,
}

impl EvmVerifier {
    pub fn run(self, json: bool) -> anyhow::Result<()> {
        let key = poai::load::verifying_key(&self.vk)?;
        let params = poai::load::verifier_params(&self.srs)?;
        warn_insecure_srs(params.insecure_dev_setup(), "checked with");
        let solc = solc_for(self.solc.as_deref());
        let v = with_spinner("generating and compiling the verifier", json, || {
            poai::evm::verifier(&key, &params, &solc, self.allow_oversized)
        })
        .with_context(|| format!("no verifier written for {}", self.vk.display()))?;
        if let Some(e) = &v.oversized {
            note(&format!(
                "WARNING: {e}; written for a local chain without the limit only (--allow-oversized)"
            ));
        }
        write_atomic(&self.output, v.source.as_bytes())?;
        if let Some(abi) = &self.abi {
            write_atomic(abi, &serde_json::to_vec_pretty(&v.compiled.abi)?)?;
        }
        if let Some(b) = &self.bytecode {
            write_atomic(b, &hex_file(&v.compiled.creation))?;
        }
        let layout = &v.layout;
        if json {
            line(
                &json!({
                    "output": self.output,
                    "runtime_bytes": v.compiled.runtime.len(),
                    "deployable": v.oversized.is_none(),
                    "model_commitment": key.header.model_commitment,
                    "instance_count": layout.count,
                    "model_index": layout.model_index,
                    "bound_index": layout.bound_index,
                    "bound_count": layout.bound_count,
                    "count_index": layout.count_index,
                    "batch": layout.batch,
                })
                .to_string(),
            );
        } else {
            line(&format!(
                "verifier written to {} ({} bytes of runtime code; {} public instances)",
                self.output.display(),
                v.compiled.runtime.len(),
                layout.count
            ));
        }
        Ok(())
    }
}

/// Write the reward contract (registry, escrowed tasks, payment for proven inference) and, compiled
/// with the pinned solc, its bytecode and ABI.
#[derive(clap::Args)]
pub struct RewardsContract {
    /// Output Solidity file.
    #[arg(short, long)]
    output: PathBuf,
    /// Also write the creation bytecode (hex).
    #[arg(long)]
    bytecode: Option<PathBuf>,
    /// Also write the ABI (JSON).
    #[arg(long)]
    abi: Option<PathBuf>,
    /// Solidity compiler command (as for `evm-verifier`).
    #[arg(long)]
    solc: Option<PathBuf>,
}

impl RewardsContract {
    pub fn run(self, json: bool) -> anyhow::Result<()> {
        let (source, compiled) = poai::evm::rewards_contract(&solc_for(self.solc.as_deref()))?;
        write_atomic(&self.output, source.as_bytes())?;
        if let Some(b) = &self.bytecode {
            write_atomic(b, &hex_file(&compiled.creation))?;
        }
        if let Some(abi) = &self.abi {
            write_atomic(abi, &serde_json::to_vec_pretty(&compiled.abi)?)?;
        }
        if json {
            line(&json!({ "output": self.output, "runtime_bytes": compiled.runtime.len() }).to_string());
        } else {
            line(&format!(
                "reward contract written to {} ({} bytes of runtime code)",
                self.output.display(),
                compiled.runtime.len()
            ));
        }
        Ok(())
    }
}

/// Write the call data a transaction to the generated verifier sends for a proof (hex).
#[derive(clap::Args)]
pub struct Calldata {
    /// Proof file.
    proof: PathBuf,
    /// Output file (hex, `0x`-prefixed).
    #[arg(short, long)]
    output: PathBuf,
}

impl Calldata {
    pub fn run(self, json: bool) -> anyhow::Result<()> {
        let file = poai::load::proof(&self.proof)?;
        let data = poai::evm::calldata(&file)
            .with_context(|| format!("{} has malformed instances or proof bytes", self.proof.display()))?;
        write_atomic(&self.output, &hex_file(&data))?;
        if json {
            let proof_bytes = data.len().saturating_sub(32 * file.instances.len());
            line(
                &json!({
                    "output": self.output,
                    "bytes": data.len(),
                    "instances": file.instances.len(),
                    "proof_bytes": proof_bytes,
                })
                .to_string(),
            );
        } else {
            line(&format!("{} bytes of call data written to {}", data.len(), self.output.display()));
        }
        Ok(())
    }
}
