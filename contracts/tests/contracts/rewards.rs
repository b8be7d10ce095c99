//! The reward contract with a real generated verifier and a real proof: pays once, checks the task's
//! registration and bound instances, rejects tampered proofs, non-canonical call data, replays and late
//! submissions, refunds after the deadline, and withstands the attacks of issue #22 (a hijacked
//! registration, malleated call data, one inference paying several tasks, an accuracy claim on other
//! rows or below the count asked for).

use poai_contracts::calldata::calldata;
use poai_contracts::evm::LocalEvm;
use poai_contracts::rewards::{self, bound_instances, error_data, instance_layout, InstanceLayout};
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
    verifier: Address,
    model: [u8; 32],
    layout: InstanceLayout,
    proof_len: u32,
    registration: [u8; 32],
    /// The instances a task on the fixture's proof binds (its input commitment).
    bound: Vec<[u8; 32]>,
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
    let layout = instance_layout(&f.header).unwrap();
    assert_eq!(
        (
            layout.count as usize,
            layout.model_index,
            layout.bound_index,
            layout.bound_count,
            layout.count_index
        ),
        (f.proof.instances.len(), 0, 1, 1, rewards::NONE)
    );
    let model = word(&f.header.model_commitment);
    let data = calldata(&f.proof).unwrap();
    let proof_len = rewards::proof_length(&layout, &data).unwrap();
    let out = evm
        .call(owner, rewards, rewards::register_model(model, verifier, layout, proof_len), U256::ZERO)
        .unwrap();
    let registration = rewards::registration_id(model, verifier, layout, proof_len);
    assert_eq!(out.output, registration, "registerModel returns the registration's id");
    let bound = bound_instances(&layout, &data, 0);
    assert_eq!(bound, vec![word(&f.proof.claims.input_commitments[0])]);
    Chain {
        evm,
        rewards,
        owner,
        requester,
        provider,
        verifier,
        model,
        layout,
        proof_len,
        registration,
        bound,
    }
}

impl Chain {
    fn try_post(
        &mut self,
        registration: [u8; 32],
        bound: &[[u8; 32]],
        min: u32,
        seconds: u64,
    ) -> Result<u64, String> {
        let deadline = self.evm.timestamp() + seconds;
        let call = rewards::post_task(registration, bound, min, deadline);
        let out =
            self.evm.call(self.requester, self.rewards, call, U256::from(ETH)).map_err(|e| e.to_string())?;
        Ok(u64::from_be_bytes(out.output[24..32].try_into().unwrap()))
    }

    fn post(&mut self, registration: [u8; 32], bound: &[[u8; 32]], seconds: u64) -> u64 {
        self.try_post(registration, bound, 0, seconds).unwrap()
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

/// Init code of a contract whose runtime is a single STOP: a "verifier" that accepts every call.
const STOP_CONTRACT: [u8; 13] =
    [0x60, 0x01, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, 0x01, 0x60, 0x00, 0xf3, 0x00];

/// BN254's scalar field modulus, big-endian.
fn modulus() -> U256 {
    U256::from_str_radix("30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001", 16).unwrap()
}

#[test]
fn a_valid_proof_is_paid_once_and_every_mismatch_is_refused() {
    let f = fixture();
    let mut c = chain();
    let data = calldata(&f.proof).unwrap();
    let bound = c.bound.clone();
    let task = c.post(c.registration, &bound, 3600);
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
    // The same task cannot pay twice.
    assert!(c.submit(task, &data).unwrap_err().contains(&error_data("NotOpen()")));

    // Tasks need a reward, a future deadline, exactly the bound instances the registration names (each a
    // field element), and a count only where the key has one.
    let deadline = c.evm.timestamp() + 10;
    let over = (modulus() + U256::from(1u64)).to_be_bytes::<32>();
    for (value, bound, min, deadline) in [
        (0, bound.clone(), 0, deadline),
        (ETH, bound.clone(), 0, 5),
        (ETH, vec![], 0, deadline),
        (ETH, vec![bound[0], bound[0]], 0, deadline),
        (ETH, vec![over], 0, deadline),
        (ETH, bound.clone(), 1, deadline),
    ] {
        let call = rewards::post_task(c.registration, &bound, min, deadline);
        let r = c.evm.call(c.requester, c.rewards, call, U256::from(value));
        assert!(r.unwrap_err().to_string().contains(&error_data("BadTask()")), "{bound:?} {min}");
    }
    let e = c.try_post([5u8; 32], &bound, 0, 3600).unwrap_err();
    assert!(e.contains(&error_data("UnknownModel()")), "{e}");
    // No batch, a batch above MAX_BATCH, or one the instances do not divide into is refused; so are bound
    // instances or a count outside the inference, and an empty proof.
    let layout = c.layout;
    let per_proof = layout.count - layout.model_index;
    let uneven = (2..=16).find(|b| !per_proof.is_multiple_of(*b)).unwrap();
    let bad_layouts = [
        InstanceLayout { batch: 0, ..layout },
        InstanceLayout { batch: 17, ..layout },
        InstanceLayout { batch: uneven, ..layout },
        InstanceLayout { bound_index: 0, ..layout },
        InstanceLayout { bound_count: layout.count, ..layout },
        InstanceLayout { count_index: layout.count - 1, ..layout },
    ];
    for (i, bad) in bad_layouts.into_iter().enumerate() {
        let call = rewards::register_model([8; 32], c.verifier, bad, c.proof_len);
        let e = c.evm.call(c.owner, c.rewards, call, U256::ZERO);
        assert!(e.unwrap_err().to_string().contains(&error_data("BadTask()")), "layout {i}");
    }
    let e =
        c.evm.call(c.owner, c.rewards, rewards::register_model([8; 32], c.verifier, layout, 0), U256::ZERO);
    assert!(e.unwrap_err().to_string().contains(&error_data("BadTask()")));
}

/// Issue #22, attack 3: the first caller of `registerModel` chose the verifier of a commitment forever, so
/// an attacker registering a popular model's commitment with a STOP "verifier" collected every reward
/// posted for it. Now a registration's id is the hash of (model, verifier, layout) and a task names the id
/// it trusts: the attacker's registration is another id, the owner's registers after it all the same, and
/// the owner's tasks still need a proof their verifier accepts.
#[test]
fn a_registration_cannot_be_hijacked() {
    let f = fixture();
    let mut c = chain();
    // A registry of its own, where nobody has registered yet.
    let compiled = rewards::compile_rewards(&solc()).unwrap();
    let (registry, _) = c.evm.deploy(c.owner, compiled.creation, U256::ZERO).unwrap();
    c.rewards = registry;
    // The attacker registers first, under the honest model's commitment, with a verifier accepting all.
    let attacker = c.requester;
    let (stop, _) = c.evm.deploy(attacker, STOP_CONTRACT.to_vec(), U256::ZERO).unwrap();
    let hijack = rewards::register_model(c.model, stop, c.layout, c.proof_len);
    c.evm.call(attacker, c.rewards, hijack, U256::ZERO).unwrap();
    let forged_id = rewards::registration_id(c.model, stop, c.layout, c.proof_len);
    assert_ne!(forged_id, c.registration);
    // The owner registers afterwards (this reverted with AlreadyRegistered before), and registering the
    // same again changes nothing.
    for _ in 0..2 {
        let call = rewards::register_model(c.model, c.verifier, c.layout, c.proof_len);
        let out = c.evm.call(c.owner, c.rewards, call, U256::ZERO).unwrap();
        assert_eq!(out.output, c.registration);
    }
    // A requester's task names the owner's registration: garbage "proof" bytes of the right length, bound
    // to the attacker and naming the task's model and input, are refused by the real verifier.
    let bound = c.bound.clone();
    let task = c.post(c.registration, &bound, 3600);
    let mut garbage = calldata(&f.proof).unwrap();
    let n = garbage.len();
    let instances = 32 * c.layout.count as usize;
    garbage[instances..n].fill(0);
    let provider_word = instances - 32;
    garbage[provider_word..instances].fill(0);
    garbage[instances - 20..instances].copy_from_slice(attacker.as_slice());
    let e = c.evm.call(attacker, c.rewards, rewards::submit(task, &garbage), U256::ZERO).unwrap_err();
    assert!(e.to_string().contains(&error_data("ProofRejected()")), "{e}");
    // Submitting the owner's task against the attacker's registration is impossible: the task names its
    // registration, and the contract reads the verifier from it.
    let forged_task = c.post(forged_id, &bound, 3600);
    assert_eq!(c.status(task), 1);
    assert_eq!(c.status(forged_task), 1);
}

/// Issue #22, attack 4: the replay guard hashed raw proof bytes, which a verifier reads modulo the field
/// and past their end, so one proof paid every open task with the same model and input. Now call data
/// must be exactly the registered length with every instance below the modulus, and an inference is paid
/// once whatever its proof bytes: a fresh proof of the same inference is refused too.
#[test]
fn one_inference_pays_one_task_whatever_its_bytes() {
    let f = fixture();
    let mut c = chain();
    let data = calldata(&f.proof).unwrap();
    let bound = c.bound.clone();
    let first = c.post(c.registration, &bound, 3600);
    let second = c.post(c.registration, &bound, 3600);
    // A trailing word, a missing byte, an instance plus the modulus (the same field element): refused.
    let mut longer = data.clone();
    longer.extend([0u8; 32]);
    let mut shorter = data.clone();
    shorter.pop();
    let mut wrapped = data.clone();
    let output = U256::from_be_slice(&data[64..96]) + modulus();
    wrapped[64..96].copy_from_slice(&output.to_be_bytes::<32>());
    for (what, d) in [("trailing word", longer), ("short", shorter), ("instance + r", wrapped)] {
        let e = c.submit(first, &d).unwrap_err();
        assert!(e.contains(&error_data("NonCanonical()")), "{what}: {e}");
    }
    c.submit(first, &data).unwrap();
    // The same proof, and a fresh proof of the same inference (other bytes), cannot pay the second task.
    assert!(c.submit(second, &data).unwrap_err().contains(&error_data("ProofReplayed()")));
    let fresh = crate::fresh_proof();
    let fresh = calldata(&fresh).unwrap();
    assert_ne!(fresh, data, "proofs are randomised");
    assert!(c.submit(second, &fresh).unwrap_err().contains(&error_data("ProofReplayed()")));
    assert_eq!(c.status(second), 1);
}

#[test]
fn late_submissions_are_refused_and_the_requester_is_refunded() {
    let f = fixture();
    let mut c = chain();
    let data = calldata(&f.proof).unwrap();
    let bound = c.bound.clone();
    let task = c.post(c.registration, &bound, 100);
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

/// Issue #22, attack 5 for accuracy: a task binds the dataset root and the row range, and pays only for
/// at least the count its requester names. Another root, other rows or a higher least count are refused
/// before the verifier runs; a changed count is rejected by the verifier.
#[test]
fn an_accuracy_claim_is_paid_only_for_its_rows_and_least_count() {
    let (header, proof, verifier) = accuracy_fixture();
    let layout = instance_layout(&header).unwrap();
    // Instances: model, dataset root, start, end, correct, provider.
    assert_eq!(
        (layout.count, layout.model_index, layout.bound_index, layout.bound_count, layout.count_index),
        (6, 0, 1, 3, 4)
    );
    let mut c = chain();
    let (addr, _) = c.evm.deploy(c.owner, verifier.creation, U256::ZERO).unwrap();
    let model = word(&header.model_commitment);
    let data = calldata(&proof).unwrap();
    let proof_len = rewards::proof_length(&layout, &data).unwrap();
    c.evm
        .call(c.owner, c.rewards, rewards::register_model(model, addr, layout, proof_len), U256::ZERO)
        .unwrap();
    let registration = rewards::registration_id(model, addr, layout, proof_len);
    let bound = bound_instances(&layout, &data, 0);
    assert_eq!(bound[0], word(proof.claims.dataset_root.as_deref().unwrap()));
    let correct = proof.claims.correct.unwrap() as u32;
    // Another dataset, other rows (the provider's best window), or more correct rows than proven.
    let mut other_root = bound.clone();
    other_root[0] = [9u8; 32];
    let mut other_rows = bound.clone();
    other_rows[1][31] += 1;
    other_rows[2][31] += 1;
    for (what, b, min, error) in [
        ("another dataset", other_root, 0, "InstancesMismatch()"),
        ("other rows", other_rows, 0, "InstancesMismatch()"),
        ("a higher least count", bound.clone(), correct + 1, "CountTooLow()"),
    ] {
        let task = c.try_post(registration, &b, min, 3600).unwrap();
        let e = c.submit(task, &data).unwrap_err();
        assert!(e.contains(&error_data(error)), "{what}: {e}");
    }
    let task = c.try_post(registration, &bound, correct, 3600).unwrap();
    let mut inflated = data.clone();
    inflated[32 * 5 - 1] ^= 1;
    assert!(c.submit(task, &inflated).unwrap_err().contains(&error_data("ProofRejected()")));
    let before = c.evm.balance(c.provider);
    let gas = c.submit(task, &data).unwrap();
    eprintln!("accuracy task submission: {gas} gas ({correct}/{} correct)", proof.claims.total.unwrap());
    assert_eq!(c.evm.balance(c.provider) - before, U256::from(ETH));
    assert_eq!(c.status(task), 2);
}

/// Issue #22, attack 5 for inputs: a task binds every input instance the key exposes: every commitment of a
/// model with several hashed inputs, every value of a public input (a key that used to bind none).
#[test]
fn a_task_binds_every_input_instance() {
    use poai_verifier::PublicValue as P;
    let mut header = fixture().header.clone();
    header.public = vec![
        P::ModelCommitment,
        P::InputCommitment { index: 0 },
        P::InputCommitment { index: 1 },
        P::Output { index: 0, len: 3, scale: 8 },
        P::Provider,
    ];
    let l = instance_layout(&header).unwrap();
    assert_eq!((l.bound_index, l.bound_count, l.count), (1, 2, 7));
    header.public = vec![
        P::ModelCommitment,
        P::Input { index: 0, len: 16, scale: 6 },
        P::OutputCommitment { index: 0 },
        P::Provider,
    ];
    let l = instance_layout(&header).unwrap();
    assert_eq!((l.bound_index, l.bound_count, l.count), (1, 16, 19));
    header.public = vec![P::ModelCommitment, P::Output { index: 0, len: 3, scale: 8 }, P::Provider];
    let l = instance_layout(&header).unwrap();
    assert_eq!((l.bound_count, l.count_index), (0, rewards::NONE));
}
