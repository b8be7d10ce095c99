//! The reward contract (`contracts/sol/PoaiRewards.sol`, hand-written): its source, compilation and the
//! ABI encoding of its calls, and how a verifying key's public-instance layout maps onto it.

use poai_verifier::{KeyHeader, PublicValue};
use revm::primitives::{keccak256, Address};

use crate::solc::{Compiled, Solc};
use crate::ContractError;

/// Solidity source of the reward contract.
pub const REWARDS_SOURCE: &str = include_str!("../sol/PoaiRewards.sol");
/// `PoaiRewards.NO_INPUT`: the key exposes no input commitment.
pub const NO_INPUT: u32 = u32::MAX;

/// Compiles the reward contract (optimizer on, 200 runs) and checks it is deployable.
pub fn compile_rewards(solc: &Solc) -> Result<Compiled, ContractError> {
    let c = solc.compile_one("PoaiRewards.sol", REWARDS_SOURCE, "PoaiRewards", Some(200))?;
    c.check_deployable()?;
    Ok(c)
}

/// What the contract needs to know of a key's public instances (`registerModel`'s arguments).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstanceLayout {
    /// Number of public instances.
    pub count: u32,
    /// Index of the model commitment (after the accumulator of an on-chain key).
    pub model_index: u32,
    /// Index of what a task binds: the (first) input's commitment, or the dataset root of a
    /// dataset-bound key ([`NO_INPUT`] if there is neither); of the first inference in a batch.
    pub input_index: u32,
    /// Inferences per proof (a batched on-chain key's batch, else 1).
    pub batch: u32,
}

/// The [`InstanceLayout`] of a key.
pub fn instance_layout(header: &KeyHeader) -> InstanceLayout {
    let mut at = 0usize;
    let mut input_index = NO_INPUT;
    for seg in &header.public {
        let binds = matches!(seg, PublicValue::InputCommitment { index: 0 } | PublicValue::DatasetRoot);
        if binds && input_index == NO_INPUT {
            input_index = at as u32;
        }
        at += seg.len();
    }
    InstanceLayout {
        count: at as u32,
        model_index: header.model_index() as u32,
        input_index,
        batch: header.batch() as u32,
    }
}

/// The 4-byte selector of a function or error signature.
pub fn selector(signature: &str) -> [u8; 4] {
    let h = keccak256(signature.as_bytes());
    [h[0], h[1], h[2], h[3]]
}

fn word_u64(v: u64) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[24..].copy_from_slice(&v.to_be_bytes());
    w
}

fn call(signature: &str, words: &[[u8; 32]]) -> Vec<u8> {
    let mut out = selector(signature).to_vec();
    for w in words {
        out.extend_from_slice(w);
    }
    out
}

/// `registerModel(model, verifier, instanceCount, modelIndex, inputIndex, batch)`.
pub fn register_model(model: [u8; 32], verifier: Address, layout: InstanceLayout) -> Vec<u8> {
    let mut v = [0u8; 32];
    v[12..].copy_from_slice(verifier.as_slice());
    call(
        "registerModel(bytes32,address,uint32,uint32,uint32,uint32)",
        &[
            model,
            v,
            word_u64(layout.count.into()),
            word_u64(layout.model_index.into()),
            word_u64(layout.input_index.into()),
            word_u64(layout.batch.into()),
        ],
    )
}

/// `postTask(model, input, deadline)` (send the reward as the call's value).
pub fn post_task(model: [u8; 32], input: [u8; 32], deadline: u64) -> Vec<u8> {
    call("postTask(bytes32,bytes32,uint64)", &[model, input, word_u64(deadline)])
}

/// `submit(taskId, proofCalldata)`.
pub fn submit(task_id: u64, proof_calldata: &[u8]) -> Vec<u8> {
    let out = call(
        "submit(uint256,bytes)",
        &[word_u64(task_id), word_u64(64), word_u64(proof_calldata.len() as u64)],
    );
    with_bytes_tail(out, proof_calldata)
}

/// `submitBatch(taskIds, proofCalldata)`: one proof for tasks of a batched key, in inference order.
pub fn submit_batch(task_ids: &[u64], proof_calldata: &[u8]) -> Vec<u8> {
    // Head: the offsets of the two dynamic arguments; then the array (length, ids); then the bytes.
    let bytes_at = 64 + 32 * (1 + task_ids.len() as u64);
    let mut words = vec![word_u64(64), word_u64(bytes_at), word_u64(task_ids.len() as u64)];
    words.extend(task_ids.iter().map(|&id| word_u64(id)));
    words.push(word_u64(proof_calldata.len() as u64));
    with_bytes_tail(call("submitBatch(uint256[],bytes)", &words), proof_calldata)
}

/// Appends the contents of a trailing `bytes` argument (its length word already written), zero-padded to
/// a whole number of 32-byte words as the ABI requires.
fn with_bytes_tail(mut out: Vec<u8>, bytes: &[u8]) -> Vec<u8> {
    out.extend_from_slice(bytes);
    out.resize(out.len() + (32 - bytes.len() % 32) % 32, 0);
    out
}

/// `refund(taskId)`.
pub fn refund(task_id: u64) -> Vec<u8> {
    call("refund(uint256)", &[word_u64(task_id)])
}

/// `taskStatus(taskId)`: returns 0 none, 1 open, 2 paid, 3 refunded.
pub fn task_status(task_id: u64) -> Vec<u8> {
    call("taskStatus(uint256)", &[word_u64(task_id)])
}

/// Hex of the revert data of a custom error (how [`crate::evm::LocalEvm::call`] reports it).
pub fn error_data(signature: &str) -> String {
    poai_verifier::hex::encode(&selector(signature))
}
