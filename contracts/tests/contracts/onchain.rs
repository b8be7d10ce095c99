//! On-chain proofs: a batch of two model proofs compressed by a batched on-chain key verifies in Rust and
//! in its generated verifier; any changed proof byte, accumulator limb or instance of either inference is
//! rejected; the reward contract pays two tasks with it (`submitBatch`), each checked against its own
//! inference.
//!
//! The tests keep the compression circuit at k = 21 to stay within CI's minutes; a batch of two needs
//! twice the columns there, and its verifier (~27 KB) is over EIP-170, so revm runs it with the limit
//! lifted. Deployable batched keys take k = 22 (`benches/README.md`); the deployable verifier of a batch
//! of one under mainnet's limits is what `scripts/onchain-demo.sh` runs on anvil in CI.

use std::sync::OnceLock;

use poai_circuits::halo2::{Visibility, VisibilitySettings};
use poai_contracts::calldata::calldata;
use poai_contracts::evm::LocalEvm;
use poai_contracts::rewards::{self, error_data, instance_layout};
use poai_contracts::solc::Compiled;
use poai_prover::{
    prove_batch, prove_model, read_onchain_pk, read_pk, setup, setup_onchain, CircuitKind, ProofTarget,
    ProverError, Srs,
};
use poai_verifier::{
    verify, KeyHeader, ProofFile, Provider, PublicValue, VerifierParams, VerifyError, VerifyingKeyFile,
    ACCUMULATOR_LIMBS,
};
use revm::primitives::{Address, U256};

use crate::{compile_verifier, smallest_model, solc};

/// Size of the compression circuit in the tests (the default).
const ONCHAIN_K: u32 = poai_prover::DEFAULT_ONCHAIN_K;
const PROVIDER: Provider = Provider([3; 20]);
/// Inferences per on-chain proof in the tests.
const BATCH: usize = 2;

struct OnchainFixture {
    model: poai_circuits::model::CompiledModel,
    /// The inputs of the batch (the bundled input and a scaled copy: two different inferences).
    inputs: Vec<Vec<Vec<f32>>>,
    srs: Srs,
    params: VerifierParams,
    model_pk: Vec<u8>,
    model_vk: VerifyingKeyFile,
    onchain_pk: Vec<u8>,
    onchain_vk: VerifyingKeyFile,
    proof: ProofFile,
    verifier: Compiled,
}

/// One on-chain proof of two inferences of the smallest fixture (minutes on two cores: built once).
fn onchain_fixture() -> &'static OnchainFixture {
    static F: OnceLock<OnchainFixture> = OnceLock::new();
    F.get_or_init(|| {
        let (model, input) = smallest_model();
        let scaled = input.iter().map(|x| x.iter().map(|v| v * 0.5).collect()).collect();
        let inputs = vec![input, scaled];
        let srs = Srs::generate_insecure(ONCHAIN_K, 5).unwrap();
        let params = VerifierParams::from_srs_bytes(&srs.to_bytes().unwrap()).unwrap();
        let (model_pk, model_vk) =
            setup(&model, &srs, CircuitKind::plain(VisibilitySettings::default())).unwrap();
        let model_vk = VerifyingKeyFile::from_bytes(&model_vk).unwrap();
        let (onchain_pk, onchain_vk) = setup_onchain(&model_vk, &srs, ONCHAIN_K, BATCH).unwrap();
        let onchain_vk = VerifyingKeyFile::from_bytes(&onchain_vk).unwrap();
        let key = read_onchain_pk(&onchain_pk).unwrap();
        let proof = prove_batch(&model, &srs, &read_pk(&model_pk).unwrap(), &inputs, PROVIDER, &key).unwrap();
        let verifier = compile_verifier(&onchain_vk, &params);
        eprintln!(
            "on-chain verifier: {} bytes of runtime code; proof {} bytes, {} instances",
            verifier.runtime.len(),
            proof.proof.len() / 2,
            proof.instances.len()
        );
        OnchainFixture {
            model,
            inputs,
            srs,
            params,
            model_pk,
            model_vk,
            onchain_pk,
            onchain_vk,
            proof,
            verifier,
        }
    })
}

fn funded() -> (LocalEvm, Address) {
    // Mainnet rules but EIP-170 (see the module note).
    let mut evm = LocalEvm::new();
    evm.allow_oversized_contracts();
    let me = Address::repeat_byte(3);
    evm.fund(me, U256::from(10u64).pow(U256::from(21u64)));
    (evm, me)
}

/// Instances of one inference of the batch (model commitment to provider).
fn stride(f: &OnchainFixture) -> usize {
    f.model_vk.header.instance_count()
}

#[test]
fn a_batched_onchain_proof_verifies_in_rust_and_in_its_generated_verifier() {
    let f = onchain_fixture();
    let h: &KeyHeader = &f.onchain_vk.header;
    assert_eq!((h.k, h.batch()), (ONCHAIN_K, BATCH));
    assert_eq!(h.public[0], PublicValue::KzgAccumulator);
    assert_eq!(h.model_index(), ACCUMULATOR_LIMBS);
    assert_eq!(f.proof.instances.len(), ACCUMULATOR_LIMBS + BATCH * stride(f));
    let v = verify(&f.onchain_vk, &f.params, &f.proof).unwrap();
    assert_eq!(v.model_commitment, f.model.model_commitment);
    assert_eq!(v.batch_claims.len(), BATCH - 1);
    for c in std::iter::once(&v.claims).chain(&v.batch_claims) {
        assert_eq!(c.provider.as_deref(), Some(PROVIDER.to_string().as_str()));
    }
    // Two different inputs: two input commitments and two outputs.
    let commitments = f.model.input_commitments(&f.inputs[1]).unwrap();
    assert_eq!(v.batch_claims[0].input_commitments, commitments);
    assert_ne!(v.claims.input_commitments, v.batch_claims[0].input_commitments);
    assert_ne!(v.claims.outputs, v.batch_claims[0].outputs);

    let (mut evm, me) = funded();
    let (verifier, deploy_gas) = evm.deploy(me, f.verifier.creation.clone(), U256::ZERO).unwrap();
    let data = calldata(&f.proof).unwrap();
    let ok = evm.call(me, verifier, data.clone(), U256::ZERO).unwrap();
    eprintln!(
        "on-chain verifier (batch {BATCH}): {} bytes of runtime code, deploy {deploy_gas} gas, verification {} \
         gas ({} per inference), {} bytes of call data",
        f.verifier.runtime.len(),
        ok.gas,
        ok.gas / BATCH as u64,
        data.len()
    );
    let n = f.proof.instances.len();
    let second = 32 * (ACCUMULATOR_LIMBS + stride(f));
    // An accumulator limb, each inference's model commitment, the first's provider, the second's input
    // commitment, output and provider, proof bytes.
    for at in [
        31,
        32 * ACCUMULATOR_LIMBS + 31,
        second - 1,
        second + 31,
        second + 63,
        32 * (n - 2) + 31,
        32 * n - 1,
        32 * n + 5,
        data.len() - 1,
    ] {
        let mut bad = data.clone();
        bad[at] ^= 1;
        assert!(evm.call(me, verifier, bad, U256::ZERO).is_err(), "byte {at} changed and accepted");
    }
}

fn instances(p: &ProofFile) -> Vec<halo2_base::halo2_proofs::halo2curves::bn256::Fr> {
    p.instances.iter().map(|s| poai_circuits::commit::fr_from_hex(s).unwrap()).collect()
}

#[test]
fn the_rust_verifier_rejects_changed_instances_claims_and_the_wrong_key() {
    let f = onchain_fixture();
    let second = ACCUMULATOR_LIMBS + stride(f);
    // A changed accumulator limb fails the deferred pairing or the proof; a changed instance of either
    // inference the proof.
    for (at, what) in [(0, "accumulator"), (ACCUMULATOR_LIMBS + 2, "output"), (second + 1, "second input")] {
        let mut p = f.proof.clone();
        let mut x = poai_circuits::commit::fr_from_hex(&p.instances[at]).unwrap();
        x += halo2_base::halo2_proofs::halo2curves::bn256::Fr::from(1u64);
        p.instances[at] = poai_circuits::commit::fr_to_hex(&x);
        // Keep the readable fields consistent so that the proof itself is what fails.
        if let Ok(mut claims) = f.onchain_vk.header.claims(&instances(&p)) {
            p.claims = claims.remove(0);
            p.batch_claims = claims;
        }
        let e = verify(&f.onchain_vk, &f.params, &p).unwrap_err();
        assert!(matches!(e, VerifyError::InvalidProof(_)), "{what}: {e}");
    }
    // The readable claims of the second inference are checked too, and none may be dropped.
    let mut p = f.proof.clone();
    p.batch_claims[0].outputs = p.claims.outputs.clone();
    let e = verify(&f.onchain_vk, &f.params, &p).unwrap_err();
    assert!(e.to_string().contains("inference 2"), "{e}");
    let mut p = f.proof.clone();
    p.batch_claims.clear();
    assert!(matches!(verify(&f.onchain_vk, &f.params, &p), Err(VerifyError::Mismatch(_))));
    // The model's own key is not the on-chain key (and the reverse).
    assert!(matches!(verify(&f.model_vk, &f.params, &f.proof), Err(VerifyError::Mismatch(_))));
}

#[test]
fn an_onchain_key_refuses_another_circuit_and_another_batch_size() {
    let f = onchain_fixture();
    let key = read_onchain_pk(&f.onchain_pk).unwrap();
    // The same model with a public input is another circuit (other instances, other verifying key).
    let vis = VisibilitySettings { input: Visibility::Public, ..VisibilitySettings::default() };
    let (other_pk, _) = setup(&f.model, &f.srs, CircuitKind::plain(vis)).unwrap();
    let e = prove_batch(&f.model, &f.srs, &read_pk(&other_pk).unwrap(), &f.inputs, PROVIDER, &key)
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(e, ProverError::Mismatch(ref m) if m.contains("setup-onchain")), "{e}");
    // A batch key takes exactly its batch of inferences.
    let model_pk = read_pk(&f.model_pk).unwrap();
    let e = prove_model(&f.model, &f.srs, &model_pk, &f.inputs[0], PROVIDER, ProofTarget::Onchain(&key))
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(e, ProverError::Mismatch(ref m) if m.contains("batches of 2")), "{e}");
    let three = vec![f.inputs[0].clone(); 3];
    assert!(prove_batch(&f.model, &f.srs, &model_pk, &three, PROVIDER, &key).is_err());
    // Batch sizes outside 1..=MAX_ONCHAIN_BATCH are refused before any work.
    for batch in [0, poai_prover::MAX_ONCHAIN_BATCH + 1] {
        assert!(matches!(
            setup_onchain(&f.model_vk, &f.srs, ONCHAIN_K, batch),
            Err(ProverError::Mismatch(_))
        ));
    }
    // A model key is not an on-chain key.
    assert!(read_onchain_pk(&f.model_pk).is_err());
}

#[test]
fn the_reward_contract_pays_a_batch_of_tasks_with_one_onchain_proof() {
    let f = onchain_fixture();
    let (mut evm, provider) = funded();
    let (owner, requester) = (Address::repeat_byte(1), Address::repeat_byte(2));
    for a in [owner, requester] {
        evm.fund(a, U256::from(10u64).pow(U256::from(21u64)));
    }
    let (verifier, _) = evm.deploy(owner, f.verifier.creation.clone(), U256::ZERO).unwrap();
    let (registry, _) =
        evm.deploy(owner, rewards::compile_rewards(&solc()).unwrap().creation, U256::ZERO).unwrap();
    let layout = instance_layout(&f.onchain_vk.header).unwrap();
    assert_eq!(
        (layout.model_index, layout.bound_index, layout.bound_count, layout.batch),
        (12, 13, 1, BATCH as u32)
    );
    let word = |hex: &str| poai_contracts::calldata::word(hex).unwrap();
    let model = word(&f.model.model_commitment);
    let data = calldata(&f.proof).unwrap();
    let proof_len = rewards::proof_length(&layout, &data).unwrap();
    evm.call(owner, registry, rewards::register_model(model, verifier, layout, proof_len), U256::ZERO)
        .unwrap();
    let registration = rewards::registration_id(model, verifier, layout, proof_len);
    let reward = U256::from(10u64).pow(U256::from(18u64));
    let post = |evm: &mut LocalEvm, input: [u8; 32]| {
        let deadline = evm.timestamp() + 3600;
        let call = rewards::post_task(registration, &[input], 0, deadline);
        let out = evm.call(requester, registry, call, reward).unwrap();
        u64::from_be_bytes(out.output[24..32].try_into().unwrap())
    };
    let first = post(&mut evm, word(&f.proof.claims.input_commitments[0]));
    let second = post(&mut evm, word(&f.proof.batch_claims[0].input_commitments[0]));
    assert_eq!(
        rewards::bound_instances(&layout, &data, 1),
        vec![word(&f.proof.batch_claims[0].input_commitments[0])]
    );
    let other_input = post(&mut evm, [9; 32]);
    let refused = |evm: &mut LocalEvm, ids: &[u64], error: &str| {
        let e = evm.call(provider, registry, rewards::submit_batch(ids, &data), U256::ZERO).unwrap_err();
        assert!(e.to_string().contains(&error_data(error)), "{ids:?}: {e}");
    };
    // Each task is checked against its own inference: another input, the tasks swapped, a task twice,
    // one task short of the batch, or a single-task submission are refused.
    refused(&mut evm, &[first, other_input], "InstancesMismatch()");
    refused(&mut evm, &[second, first], "InstancesMismatch()");
    refused(&mut evm, &[first, first], "NotOpen()");
    refused(&mut evm, &[first], "BadTask()");
    let e = evm.call(provider, registry, rewards::submit(first, &data), U256::ZERO).unwrap_err();
    assert!(e.to_string().contains(&error_data("BadTask()")), "{e}");
    let before = evm.balance(provider);
    let paid =
        evm.call(provider, registry, rewards::submit_batch(&[first, second], &data), U256::ZERO).unwrap();
    eprintln!(
        "on-chain proof of {BATCH}: full submission {} gas, {} per task",
        paid.gas,
        paid.gas / BATCH as u64
    );
    assert_eq!(evm.balance(provider) - before, reward * U256::from(BATCH));
    // Paid once.
    refused(&mut evm, &[first, second], "NotOpen()");
}
