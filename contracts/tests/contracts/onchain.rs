//! On-chain proofs: the model proof compressed by the on-chain key verifies in Rust and in a generated
//! verifier that mainnet's EIP-170 accepts; any changed proof byte, accumulator limb or model instance is
//! rejected; the reward contract pays for it with the model commitment after the accumulator.

use std::sync::OnceLock;

use poai_circuits::halo2::{Visibility, VisibilitySettings};
use poai_contracts::calldata::calldata;
use poai_contracts::evm::LocalEvm;
use poai_contracts::rewards::{self, error_data, instance_layout};
use poai_contracts::solc::{Compiled, EIP170_LIMIT};
use poai_prover::{
    prove_model, read_onchain_pk, read_pk, setup, setup_onchain, CircuitKind, ProofTarget, ProverError, Srs,
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

struct OnchainFixture {
    model: poai_circuits::model::CompiledModel,
    input: Vec<Vec<f32>>,
    srs: Srs,
    params: VerifierParams,
    model_pk: Vec<u8>,
    model_vk: VerifyingKeyFile,
    onchain_pk: Vec<u8>,
    onchain_vk: VerifyingKeyFile,
    proof: ProofFile,
    verifier: Compiled,
}

/// One on-chain proof of the smallest fixture (a few minutes on two cores: built once).
fn onchain_fixture() -> &'static OnchainFixture {
    static F: OnceLock<OnchainFixture> = OnceLock::new();
    F.get_or_init(|| {
        let (model, input) = smallest_model();
        let srs = Srs::generate_insecure(ONCHAIN_K, 5).unwrap();
        let params = VerifierParams::from_srs_bytes(&srs.to_bytes().unwrap()).unwrap();
        let (model_pk, model_vk) =
            setup(&model, &srs, CircuitKind::plain(VisibilitySettings::default())).unwrap();
        let model_vk = VerifyingKeyFile::from_bytes(&model_vk).unwrap();
        let (onchain_pk, onchain_vk) = setup_onchain(&model_vk, &srs, ONCHAIN_K).unwrap();
        let onchain_vk = VerifyingKeyFile::from_bytes(&onchain_vk).unwrap();
        let key = read_onchain_pk(&onchain_pk).unwrap();
        let proof = prove_model(
            &model,
            &srs,
            &read_pk(&model_pk).unwrap(),
            &input,
            PROVIDER,
            ProofTarget::Onchain(&key),
        )
        .unwrap();
        let verifier = compile_verifier(&onchain_vk, &params);
        eprintln!(
            "on-chain verifier: {} bytes of runtime code; proof {} bytes, {} instances",
            verifier.runtime.len(),
            proof.proof.len() / 2,
            proof.instances.len()
        );
        OnchainFixture {
            model,
            input,
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
    // Mainnet rules, EIP-170 included.
    let mut evm = LocalEvm::new();
    let me = Address::repeat_byte(3);
    evm.fund(me, U256::from(10u64).pow(U256::from(21u64)));
    (evm, me)
}

#[test]
fn an_onchain_proof_verifies_in_rust_and_in_a_verifier_mainnet_can_deploy() {
    let f = onchain_fixture();
    let h: &KeyHeader = &f.onchain_vk.header;
    assert_eq!(h.k, ONCHAIN_K);
    assert_eq!(h.public[0], PublicValue::KzgAccumulator);
    assert_eq!(h.model_index(), ACCUMULATOR_LIMBS);
    assert_eq!(f.proof.instances.len(), ACCUMULATOR_LIMBS + f.model_vk.header.instance_count());
    let v = verify(&f.onchain_vk, &f.params, &f.proof).unwrap();
    assert_eq!(v.model_commitment, f.model.model_commitment);
    assert_eq!(v.claims.provider.as_deref(), Some(PROVIDER.to_string().as_str()));

    f.verifier.check_deployable().unwrap();
    assert!(f.verifier.runtime.len() <= EIP170_LIMIT);
    let (mut evm, me) = funded();
    let (verifier, deploy_gas) = evm.deploy(me, f.verifier.creation.clone(), U256::ZERO).unwrap();
    let data = calldata(&f.proof).unwrap();
    let ok = evm.call(me, verifier, data.clone(), U256::ZERO).unwrap();
    eprintln!(
        "on-chain verifier: deploy {deploy_gas} gas, verification {} gas, {} bytes of call data",
        ok.gas,
        data.len()
    );
    let n = f.proof.instances.len();
    // An accumulator limb, the model commitment, an output, the provider, proof bytes.
    for at in [31, 32 * ACCUMULATOR_LIMBS + 31, 32 * (n - 2) + 31, 32 * n - 1, 32 * n + 5, data.len() - 1] {
        let mut bad = data.clone();
        bad[at] ^= 1;
        assert!(evm.call(me, verifier, bad, U256::ZERO).is_err(), "byte {at} changed and accepted");
    }
}

#[test]
fn the_rust_verifier_rejects_changed_instances_and_the_wrong_key() {
    let f = onchain_fixture();
    // A changed accumulator limb fails the deferred pairing or the proof; a changed output the proof.
    for (at, what) in [(0, "accumulator"), (ACCUMULATOR_LIMBS + 2, "output")] {
        let mut p = f.proof.clone();
        let mut x = poai_circuits::commit::fr_from_hex(&p.instances[at]).unwrap();
        x += halo2_base::halo2_proofs::halo2curves::bn256::Fr::from(1u64);
        p.instances[at] = poai_circuits::commit::fr_to_hex(&x);
        // Keep the readable fields consistent so that the proof itself is what fails.
        if let Ok(claims) = f.onchain_vk.header.claims(
            &p.instances.iter().map(|s| poai_circuits::commit::fr_from_hex(s).unwrap()).collect::<Vec<_>>(),
        ) {
            p.claims = claims;
        }
        let e = verify(&f.onchain_vk, &f.params, &p).unwrap_err();
        assert!(matches!(e, VerifyError::InvalidProof(_)), "{what}: {e}");
    }
    // The model's own key is not the on-chain key (and the reverse).
    assert!(matches!(verify(&f.model_vk, &f.params, &f.proof), Err(VerifyError::Mismatch(_))));
}

#[test]
fn an_onchain_key_refuses_the_proving_key_of_another_circuit() {
    let f = onchain_fixture();
    // The same model with a public input is another circuit (other instances, other verifying key).
    let vis = VisibilitySettings { input: Visibility::Public, ..VisibilitySettings::default() };
    let (other_pk, _) = setup(&f.model, &f.srs, CircuitKind::plain(vis)).unwrap();
    let key = read_onchain_pk(&f.onchain_pk).unwrap();
    let e = prove_model(
        &f.model,
        &f.srs,
        &read_pk(&other_pk).unwrap(),
        &f.input,
        PROVIDER,
        ProofTarget::Onchain(&key),
    )
    .map(|_| ())
    .unwrap_err();
    assert!(matches!(e, ProverError::Mismatch(ref m) if m.contains("setup-onchain")), "{e}");
    // A model key is not an on-chain key.
    assert!(read_onchain_pk(&f.model_pk).is_err());
}

#[test]
fn the_reward_contract_pays_for_an_onchain_proof() {
    let f = onchain_fixture();
    let (mut evm, provider) = funded();
    let (owner, requester) = (Address::repeat_byte(1), Address::repeat_byte(2));
    for a in [owner, requester] {
        evm.fund(a, U256::from(10u64).pow(U256::from(21u64)));
    }
    let (verifier, _) = evm.deploy(owner, f.verifier.creation.clone(), U256::ZERO).unwrap();
    let (registry, _) =
        evm.deploy(owner, rewards::compile_rewards(&solc()).unwrap().creation, U256::ZERO).unwrap();
    let layout = instance_layout(&f.onchain_vk.header);
    assert_eq!((layout.model_index, layout.input_index), (12, 13));
    let word = |hex: &str| poai_contracts::calldata::word(hex).unwrap();
    let model = word(&f.model.model_commitment);
    evm.call(owner, registry, rewards::register_model(model, verifier, layout), U256::ZERO).unwrap();
    let reward = U256::from(10u64).pow(U256::from(18u64));
    let post = |evm: &mut LocalEvm, input: [u8; 32]| {
        let deadline = evm.timestamp() + 3600;
        let out = evm.call(requester, registry, rewards::post_task(model, input, deadline), reward).unwrap();
        u64::from_be_bytes(out.output[24..32].try_into().unwrap())
    };
    let data = calldata(&f.proof).unwrap();
    let other_input = post(&mut evm, [9; 32]);
    let e = evm.call(provider, registry, rewards::submit(other_input, &data), U256::ZERO).unwrap_err();
    assert!(e.to_string().contains(&error_data("InstancesMismatch()")), "{e}");
    let task = post(&mut evm, word(&f.proof.claims.input_commitments[0]));
    let before = evm.balance(provider);
    let paid = evm.call(provider, registry, rewards::submit(task, &data), U256::ZERO).unwrap();
    eprintln!("on-chain proof: full task submission {} gas", paid.gas);
    assert_eq!(evm.balance(provider) - before, reward);
}
