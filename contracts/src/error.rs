//! Errors of the contracts crate.

use thiserror::Error;

/// Why a verifier could not be generated, compiled, deployed or called.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ContractError {
    /// The Solidity compiler could not be run or rejected the source.
    #[error("solc: {0}")]
    Solc(String),
    /// A contract's runtime code exceeds EIP-170's limit, so it cannot be deployed on mainnet.
    #[error("contract `{name}` has {bytes} bytes of runtime code; EIP-170 allows {limit}")]
    TooLarge {
        /// Contract name.
        name: String,
        /// Runtime code size.
        bytes: usize,
        /// The limit (24,576).
        limit: usize,
    },
    /// Verifier generation failed.
    #[error("verifier generation: {0}")]
    Generate(String),
    /// A proof file or its instances are malformed.
    #[error(transparent)]
    Verify(#[from] poai_verifier::VerifyError),
    /// A key's public instances do not fit the reward contract's registration.
    #[error("instance layout: {0}")]
    Layout(String),
    /// A transaction failed in the EVM (reverted, halted or could not be executed).
    #[error("EVM: {0}")]
    Evm(String),
}
