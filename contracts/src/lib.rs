//! poai-contracts: Solidity verifier generation from a verifying key, calldata encoding, the reward
//! contract, and EVM tests.
//!
//! Not built yet: reserved by the design's crate map and filled in by the on-chain verification issue.
