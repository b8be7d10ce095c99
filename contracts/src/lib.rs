//! poai-contracts: on-chain verification of poai proofs.
//!
//! - [`solidity`]: a Solidity verifier generated from a verifying key (snark-verifier's EVM loader, SHPLONK,
//!   the same Keccak-256 transcript as every poai proof, so one proof verifies in Rust and on chain).
//! - [`solc`]: compiling Solidity with the pinned compiler (`solc --standard-json`, native or the solc-js
//!   wrapper in `tools/bin/solc`), with EIP-170's size limit enforced.
//! - [`calldata`]: the exact call data a transaction to a generated verifier sends.
//! - [`evm`]: an in-process EVM (revm) to deploy and call contracts in tests and benchmarks.
//! - [`rewards`]: the hand-written reward contract that pays for proven inference, and its ABI.

mod error;

pub mod calldata;
pub mod evm;
pub mod rewards;
pub mod solc;
pub mod solidity;

pub use error::ContractError;
