//! The reward contract with a real generated verifier and a real proof: pays once, checks the task's
//! model and input, rejects tampered proofs, replays and late submissions, and refunds after the deadline.

use poai_contracts::calldata::calldata;
use poai_contracts::evm::LocalEvm;
use poai_contracts::rewards::{self, error_data, instance_layout};
use revm::primitives::{Address, U256};

use crate::{fixture, solc};

const ETH: u64 = 1_000_000_000_000_000_000;

fn word(hex: &str) -> [u8; 32] {
    poai_contracts::calldata::word(hex).unwrap()
}

struct Chain {
    evm: LocalEvm,
    rewards: Address,
    owner: Address,
    requester: Address,
    provider: Address,
    model: [u8; 32],
    input: [u8; 32],
}

fn chain() -> Chain {
    let f = fixture();
    let mut evm = LocalEvm::new();
    evm.allow_oversized_contracts();
    let (owner, requester, provider) =
        (Address::repeat_byte(1), Address::repeat_byte(2), Address::repeat_byte(3));
    for a in [owner, requester, provider] {
        evm.fund(a, U256::from(100u64) * U256::from(ETH));
    }
    let (verifier, _) = evm.deploy(owner, f.verifier.creation.clone(), U256::ZERO).unwrap();
    let compiled = rewards::compile_rewards(&solc()).unwrap();
    let (rewards, gas) = evm.deploy(owner, compiled.creation, U256::ZERO).unwrap();
    eprintln!("reward contract: {} bytes of runtime code, deployed for {gas} gas", compiled.runtime.len());
    let layout = instance_layout(&f.header);
    assert_eq!(
        (layout.count as usize, layout.model_index, layout.input_index),
        (f.proof.instances.len(), 0, 1)
    );
    let model = word(&f.header.model_commitment);
    evm.call(owner, rewards, rewards::register_model(model, verifier, layout), U256::ZERO).unwrap();
    let input = word(&f.proof.claims.input_commitments[0]);
    Chain { evm, rewards, owner, requester, provider, model, input }
}

impl Chain {
    fn post(&mut self, model: [u8; 32], input: [u8; 32], seconds: u64) -> u64 {
        let deadline = self.evm.timestamp() + seconds;
        let out = self
            .evm
            .call(self.requester, self.rewards, rewards::post_task(model, input, deadline), U256::from(ETH))
            .unwrap();
        u64::from_be_bytes(out.output[24..32].try_into().unwrap())
    }

    fn submit(&mut self, task: u64, data: &[u8]) -> Result<u64, String> {
        self.evm
            .call(self.provider, self.rewards, rewards::submit(task, data), U256::ZERO)
            .map(|c| c.gas)
            .map_err(|e| e.to_string())
    }

    fn status(&mut self, task: u64) -> u8 {
        let out = self.evm.call(self.owner, self.rewards, rewards::task_status(task), U256::ZERO).unwrap();
        out.output[31]
    }
}

#[test]
fn a_valid_proof_is_paid_once_and_every_mismatch_is_refused() {
    let f = fixture();
    let mut c = chain();
    let data = calldata(&f.proof).unwrap();
    let task = c.post(c.model, c.input, 3600);
    assert_eq!(c.status(task), 1);

    // Tampered proof bytes or output instances: the verifier refuses, the task stays open.
    let mut bad = data.clone();
    let n = bad.len();
    bad[n - 100] ^= 1;
    let e = c.submit(task, &bad).unwrap_err();
    assert!(e.contains(&error_data("ProofRejected()")), "{e}");
    let mut other_output = data.clone();
    other_output[32 * 3 - 1] ^= 1;
    assert!(c.submit(task, &other_output).unwrap_err().contains(&error_data("ProofRejected()")));
    // The same call data sent by anyone but the provider it is bound to (a front-runner): refused.
    let e = c.evm.call(c.requester, c.rewards, rewards::submit(task, &data), U256::ZERO).unwrap_err();
    assert!(e.to_string().contains(&error_data("WrongProvider()")), "{e}");
    // Another input commitment: refused before the verifier runs.
    let mut other_input = data.clone();
    other_input[63] ^= 1;
    assert!(c.submit(task, &other_input).unwrap_err().contains(&error_data("InstancesMismatch()")));
    assert_eq!(c.status(task), 1);

    let before = c.evm.balance(c.provider);
    let gas = c.submit(task, &data).unwrap();
    eprintln!("full task submission (instances check + verification + payout): {gas} gas");
    assert_eq!(c.evm.balance(c.provider) - before, U256::from(ETH));
    assert_eq!(c.evm.balance(c.rewards), U256::ZERO);
    assert_eq!(c.status(task), 2);

    // The same task cannot pay twice; another task cannot be paid with the same proof.
    assert!(c.submit(task, &data).unwrap_err().contains(&error_data("NotOpen()")));
    let again = c.post(c.model, c.input, 3600);
    assert!(c.submit(again, &data).unwrap_err().contains(&error_data("ProofReplayed()")));

    // A task for another model (registered with the same verifier): this proof's model instance differs.
    let other_model = [7u8; 32];
    let verifier = {
        let (v, _) = c.evm.deploy(c.owner, f.verifier.creation.clone(), U256::ZERO).unwrap();
        v
    };
    c.evm
        .call(
            c.owner,
            c.rewards,
            rewards::register_model(other_model, verifier, instance_layout(&f.header)),
            U256::ZERO,
        )
        .unwrap();
    let foreign = c.post(other_model, c.input, 3600);
    assert!(c.submit(foreign, &data).unwrap_err().contains(&error_data("InstancesMismatch()")));
    // A model commitment is registered once.
    let e = c.evm.call(
        c.requester,
        c.rewards,
        rewards::register_model(c.model, verifier, instance_layout(&f.header)),
        U256::ZERO,
    );
    assert!(e.unwrap_err().to_string().contains(&error_data("AlreadyRegistered()")));
    // No batch, a batch above MAX_BATCH, or one the instances do not divide into is refused.
    let layout = instance_layout(&f.header);
    let per_proof = layout.count - layout.model_index;
    let uneven = (2..=16).find(|b| !per_proof.is_multiple_of(*b)).unwrap();
    for batch in [0, 17, uneven] {
        let layout = rewards::InstanceLayout { batch, ..layout };
        let e =
            c.evm.call(c.owner, c.rewards, rewards::register_model([8; 32], verifier, layout), U256::ZERO);
        assert!(e.unwrap_err().to_string().contains(&error_data("BadTask()")), "batch {batch}");
    }
}

#[test]
fn late_submissions_are_refused_and_the_requester_is_refunded() {
    let f = fixture();
    let mut c = chain();
    let data = calldata(&f.proof).unwrap();
    let task = c.post(c.model, c.input, 100);
    let e = c.evm.call(c.requester, c.rewards, rewards::refund(task), U256::ZERO).unwrap_err().to_string();
    assert!(e.contains(&error_data("DeadlineNotPassed()")), "{e}");
    c.evm.advance(101);
    assert!(c.submit(task, &data).unwrap_err().contains(&error_data("DeadlinePassed()")));
    let before = c.evm.balance(c.requester);
    // Anyone may trigger the refund; the escrow goes to the requester.
    c.evm.call(c.provider, c.rewards, rewards::refund(task), U256::ZERO).unwrap();
    assert_eq!(c.evm.balance(c.requester) - before, U256::from(ETH));
    assert_eq!(c.status(task), 3);
    let e = c.evm.call(c.requester, c.rewards, rewards::refund(task), U256::ZERO).unwrap_err().to_string();
    assert!(e.contains(&error_data("NotOpen()")), "{e}");
    // Tasks need a reward, a future deadline, and an input commitment for a model whose proofs expose one.
    let deadline = c.evm.timestamp() + 10;
    for (value, input, deadline) in [(0, c.input, deadline), (ETH, c.input, 5), (ETH, [0u8; 32], deadline)] {
        let r = c.evm.call(
            c.requester,
            c.rewards,
            rewards::post_task(c.model, input, deadline),
            U256::from(value),
        );
        assert!(r.unwrap_err().to_string().contains(&error_data("BadTask()")));
    }
}

/// A proof of accuracy on a committed dataset (rows 0..2 of five synthetic rows), its key's header and its
/// compiled verifier.
fn accuracy_fixture() -> (poai_verifier::KeyHeader, poai_verifier::ProofFile, poai_contracts::solc::Compiled)
{
    use poai_circuits::halo2::{DatasetMode, VisibilitySettings};
    use poai_prover::{prove_rows, read_pk, setup, CircuitKind, DatasetFile, ProofTarget, Srs};
    let (model, _) = crate::smallest_model();
    let rows: String = (0..5)
        .map(|i| {
            let x: Vec<f64> = (0..16).map(|j| ((i * 16 + j) as f64 * 0.3).cos()).collect();
            format!("{}\n", serde_json::json!({ "input": x, "label": i % 3 }))
        })
        .collect();
    let d = DatasetFile::from_jsonl(&rows, std::path::Path::new("rows.jsonl"), &model).unwrap();
    let bytes = d.to_json().unwrap();
    let dataset = DatasetFile::from_json(&bytes, std::path::Path::new("ds.json")).unwrap();
    let kind =
        CircuitKind::bound(VisibilitySettings::default(), DatasetMode::Accuracy { depth: d.depth, batch: 2 });
    let srs = Srs::generate_insecure(poai_prover::circuit_k(&model, kind).unwrap(), 4).unwrap();
    let (pk, vk) = setup(&model, &srs, kind).unwrap();
    let proof = prove_rows(
        &model,
        &srs,
        &read_pk(&pk).unwrap(),
        &dataset,
        0,
        poai_verifier::Provider([3; 20]),
        ProofTarget::Direct,
    )
    .unwrap();
    let vk = poai_verifier::VerifyingKeyFile::from_bytes(&vk).unwrap();
    let params = poai_verifier::VerifierParams::from_srs_bytes(&srs.to_bytes().unwrap()).unwrap();
    let verifier = crate::compile_verifier(&vk, &params);
    (vk.header, proof, verifier)
}

#[test]
fn an_accuracy_claim_on_a_committed_dataset_is_paid_and_another_dataset_is_refused() {
    let (header, proof, verifier) = accuracy_fixture();
    let layout = instance_layout(&header);
    // Instances: model, dataset root, start, end, correct, provider.
    assert_eq!((layout.count, layout.model_index, layout.input_index), (6, 0, 1));
    let mut c = chain();
    let (addr, _) = c.evm.deploy(c.owner, verifier.creation, U256::ZERO).unwrap();
    let model = word(&header.model_commitment);
    // The plain fixture registered the same model commitment; a dataset-bound key is another circuit, so it
    // is registered under a contract of its own.
    let compiled = rewards::compile_rewards(&solc()).unwrap();
    let (reg, _) = c.evm.deploy(c.owner, compiled.creation, U256::ZERO).unwrap();
    c.rewards = reg;
    c.evm.call(c.owner, reg, rewards::register_model(model, addr, layout), U256::ZERO).unwrap();
    let root = word(proof.claims.dataset_root.as_deref().unwrap());
    let data = calldata(&proof).unwrap();
    // A task on another dataset is refused before the verifier runs; a changed count is rejected by it.
    let other = c.post(model, [9u8; 32], 3600);
    assert!(c.submit(other, &data).unwrap_err().contains(&error_data("InstancesMismatch()")));
    let task = c.post(model, root, 3600);
    let mut inflated = data.clone();
    inflated[32 * 5 - 1] ^= 1;
    assert!(c.submit(task, &inflated).unwrap_err().contains(&error_data("ProofRejected()")));
    let before = c.evm.balance(c.provider);
    let gas = c.submit(task, &data).unwrap();
    eprintln!(
        "accuracy task submission: {gas} gas ({}/{} correct)",
        proof.claims.correct.unwrap(),
        proof.claims.total.unwrap()
    );
    assert_eq!(c.evm.balance(c.provider) - before, U256::from(ETH));
    assert_eq!(c.status(task), 2);
}
