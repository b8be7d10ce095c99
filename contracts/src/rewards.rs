//! The reward contract (`contracts/sol/PoaiRewards.sol`, hand-written): its source, compilation and the
//! ABI encoding of its calls, and how a verifying key's public-instance layout maps onto it.

use poai_verifier::{KeyHeader, PublicValue};
use revm::primitives::{keccak256, Address};

use crate::solc::{Compiled, Solc};
use crate::ContractError;

/// Solidity source of the reward contract.
pub const REWARDS_SOURCE: &str = include_str!("../sol/PoaiRewards.sol");
/// Compiles the reward contract (optimizer on, 200 runs) and checks it is deployable.
pub fn compile_rewards(solc: &Solc) -> Result<Compiled, ContractError> {
    let c = solc.compile_one("PoaiRewards.sol", REWARDS_SOURCE, "PoaiRewards", Some(200))?;
    c.check_deployable()?;
    Ok(c)
}

/// `PoaiRewards.NONE`: the key has no correct-row count.
pub const NONE: u32 = u32::MAX;

/// What the contract needs to know of a key's public instances (a registration, less the model, the
/// verifier and the proof's length).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstanceLayout {
    /// Number of public instances.
    pub count: u32,
    /// Index of the model commitment (after the accumulator of an on-chain key).
    pub model_index: u32,
    /// First of the instances a task binds (of the first inference in a batch): every input value or
    /// input commitment, or the dataset root and, for an accuracy key, the row range.
    pub bound_index: u32,
    /// How many instances a task binds (0: the key exposes no input).
    pub bound_count: u32,
    /// Index of an accuracy key's correct-row count, or [`NONE`].
    pub count_index: u32,
    /// Inferences per proof (a batched on-chain key's batch, else 1).
    pub batch: u32,
}

/// The [`InstanceLayout`] of a key. Fails if the instances a task binds are not one run (they always are
/// in poai's layouts: inputs, or root and row range, follow the model commitment).
pub fn instance_layout(header: &KeyHeader) -> Result<InstanceLayout, ContractError> {
    let model_index = header.model_index();
    let stride = header.public.iter().map(PublicValue::len).sum::<usize>().saturating_sub(model_index)
        / header.batch().max(1);
    let (mut at, mut bound, mut count_index) = (0usize, Vec::new(), NONE);
    for seg in &header.public {
        let first_inference = at >= model_index && at < model_index + stride;
        if first_inference {
            match seg {
                PublicValue::Input { .. }
                | PublicValue::InputCommitment { .. }
                | PublicValue::DatasetRoot
                | PublicValue::RowRange => bound.push((at, seg.len())),
                PublicValue::CorrectCount => count_index = at as u32,
                _ => {}
            }
        }
        at += seg.len();
    }
    let bound_index = bound.first().map_or(0, |b| b.0);
    let bound_count: usize = bound.iter().map(|b| b.1).sum();
    if bound.last().is_some_and(|&(last, len)| last + len != bound_index + bound_count) {
        return Err(ContractError::Layout("the instances a task binds are not one run".into()));
    }
    Ok(InstanceLayout {
        count: at as u32,
        model_index: model_index as u32,
        bound_index: bound_index as u32,
        bound_count: bound_count as u32,
        count_index,
        batch: header.batch() as u32,
    })
}

/// The bytes of proof after the instances in call data `data` of a key laid out as `layout`: the proof
/// length a registration names.
pub fn proof_length(layout: &InstanceLayout, data: &[u8]) -> Result<u32, ContractError> {
    let instances = 32 * layout.count as usize;
    data.len().checked_sub(instances).and_then(|n| u32::try_from(n).ok()).ok_or_else(|| {
        ContractError::Layout(format!("{} bytes of call data for {} instances", data.len(), layout.count))
    })
}

/// The instances a task on inference `i` of call data `data` binds (what its requester names).
pub fn bound_instances(layout: &InstanceLayout, data: &[u8], i: usize) -> Vec<[u8; 32]> {
    let stride = (layout.count - layout.model_index) as usize / layout.batch.max(1) as usize;
    let first = layout.bound_index as usize + i * stride;
    (first..first + layout.bound_count as usize)
        .filter_map(|w| data.get(32 * w..32 * (w + 1)).and_then(|b| <[u8; 32]>::try_from(b).ok()))
        .collect()
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

/// The words of a registration, in `PoaiRewards.Registration`'s order: model, verifier, instance count,
/// proof length, model index, bound index, bound count, count index, batch.
fn registration_words(
    model: [u8; 32],
    verifier: Address,
    layout: InstanceLayout,
    proof_len: u32,
) -> Vec<[u8; 32]> {
    let mut v = [0u8; 32];
    v[12..].copy_from_slice(verifier.as_slice());
    let mut words = vec![model, v];
    words.extend(
        [
            layout.count,
            proof_len,
            layout.model_index,
            layout.bound_index,
            layout.bound_count,
            layout.count_index,
            layout.batch,
        ]
        .map(|x| word_u64(x.into())),
    );
    words
}

/// `registerModel((model, verifier, instanceCount, proofLength, modelIndex, boundIndex, boundCount,
/// countIndex, batch))`; `proof_len` is the proof's bytes after the instances.
pub fn register_model(model: [u8; 32], verifier: Address, layout: InstanceLayout, proof_len: u32) -> Vec<u8> {
    call(
        "registerModel((bytes32,address,uint32,uint32,uint32,uint32,uint32,uint32,uint32))",
        &registration_words(model, verifier, layout, proof_len),
    )
}

/// The id `registerModel` returns for these arguments (`keccak256(abi.encode(registration))`).
pub fn registration_id(
    model: [u8; 32],
    verifier: Address,
    layout: InstanceLayout,
    proof_len: u32,
) -> [u8; 32] {
    keccak256(registration_words(model, verifier, layout, proof_len).concat()).0
}

/// `postTask(registration, bound, minCount, deadline)` (send the reward as the call's value).
pub fn post_task(registration: [u8; 32], bound: &[[u8; 32]], min_count: u32, deadline: u64) -> Vec<u8> {
    // Head: the id, the offset of the array (four head words), the count, the deadline; then the array.
    let mut words = vec![registration, word_u64(128), word_u64(min_count.into()), word_u64(deadline)];
    words.push(word_u64(bound.len() as u64));
    words.extend_from_slice(bound);
    call("postTask(bytes32,bytes32[],uint32,uint64)", &words)
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
