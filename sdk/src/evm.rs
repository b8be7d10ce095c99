//! The on-chain side: a verifying key's Solidity verifier (compiled, and refused if mainnet cannot
//! deploy it), the reward contract, and a proof's call data.

use poai_circuits::halo2::LayoutGoal;
use poai_contracts::rewards::InstanceLayout;
use poai_contracts::solc::{Compiled, Solc};
use poai_verifier::{ProofFile, VerifierParams, VerifyingKeyFile};

use crate::{Backend, Error};

/// A generated Solidity verifier.
#[derive(Debug)]
pub struct EvmVerifier {
    /// Solidity source.
    pub source: String,
    /// Compiled with the pinned solc.
    pub compiled: Compiled,
    /// Where the reward contract finds the model commitment, the bound inputs and the count among the
    /// public instances.
    pub layout: InstanceLayout,
    /// The size check's error when the verifier exceeds EIP-170 but was allowed (a local chain only).
    pub oversized: Option<poai_contracts::ContractError>,
}

/// Generates `vk`'s Solidity verifier and compiles it with `solc`. A verifier over EIP-170's size limit
/// is an error saying how to get a smaller one, unless `allow_oversized` (for a local development chain
/// started without the limit).
pub fn verifier(
    vk: &VerifyingKeyFile,
    params: &VerifierParams,
    solc: &Solc,
    allow_oversized: bool,
) -> Result<EvmVerifier, Error> {
    let source = match Backend::of_artifact("the verifying key", &vk.header.backend)? {
        Backend::Halo2 => poai_contracts::solidity::verifier_solidity(vk, params)?,
        Backend::Sumcheck => return Err(Error::Halo2Only { what: "a Solidity verifier" }),
    };
    let compiled = solc.compile_one("Verifier.sol", &source, "Halo2Verifier", None)?;
    let oversized = match (compiled.check_deployable(), allow_oversized) {
        (Err(source), false) => {
            let remedy = match (&vk.header.onchain, vk.header.layout) {
                (None, _) => {
                    "make on-chain keys for this model key (`setup-onchain`) and generate the verifier \
                          from the on-chain verifying key"
                        .to_string()
                }
                (Some(_), LayoutGoal::Fast) => {
                    "make the on-chain keys at a larger k, or over a model key made \
                                            with the narrow layout (fewer model-circuit columns to verify)"
                        .into()
                }
                (Some(_), LayoutGoal::Narrow) => "make the on-chain keys at a larger k".into(),
            };
            return Err(Error::NotDeployable { remedy, source });
        }
        (result, _) => result.err(),
    };
    let layout = poai_contracts::rewards::instance_layout(&vk.header)?;
    Ok(EvmVerifier { source, compiled, layout, oversized })
}

/// The reward contract's Solidity source and its compilation.
pub fn rewards_contract(solc: &Solc) -> Result<(&'static str, Compiled), Error> {
    Ok((poai_contracts::rewards::REWARDS_SOURCE, poai_contracts::rewards::compile_rewards(solc)?))
}

/// The call data a transaction to the generated verifier sends for `proof`.
pub fn calldata(proof: &ProofFile) -> Result<Vec<u8>, Error> {
    Ok(poai_contracts::calldata::calldata(proof)?)
}
