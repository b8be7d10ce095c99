//! The sumcheck backend through the facade: the same outputs and public instances as halo2's for every
//! bundled model, proofs bound to their whole statement, audit, and typed refusals of what it does not
//! prove yet.

use std::path::{Path, PathBuf};

use poai::{
    AuditCheck, AuditFiles, Backend, CompiledModel, Error, Job, KeyOptions, LayoutGoal, OnchainOptions,
    ProofFile, ProveOptions, Provider, Srs, Visibility,
};
use poai_circuits::commit::{fr_from_hex, fr_to_hex};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models").join(name)
}

fn compiled(name: &str) -> (CompiledModel, Vec<Vec<f32>>) {
    let dir = fixture(name);
    let model = poai::compile(&dir.join("model.onnx"), &dir.join("calibration.json"), &Default::default())
        .unwrap()
        .model;
    (model, poai::load::input(&dir.join("input.json")).unwrap())
}

/// Sumcheck keys for `model` with the backend's defaults, an SRS that fits them, and a proof of `input`
/// bound to `provider`.
fn sumcheck_proof(
    model: &CompiledModel,
    input: &[Vec<f32>],
    provider: Provider,
) -> (poai::Keys, Srs, ProofFile) {
    let options = KeyOptions::for_backend(Backend::Sumcheck);
    let srs = Srs::generate_insecure(poai::srs_k(model, &options).unwrap(), 3).unwrap();
    let keys = poai::setup(model, &srs, &options).unwrap();
    let pk = keys.proving_key().unwrap();
    assert_eq!(pk.backend(), Backend::Sumcheck);
    let options = ProveOptions { provider, onchain: None };
    let proof = poai::prove(model, &srs, &pk, Job::Inputs(&[input.to_vec()]), &options).unwrap();
    (keys, srs, proof)
}

const PROVIDER: Provider = Provider([0xab; 20]);

#[test]
fn both_backends_give_the_same_outputs_and_instances_for_every_bundled_model() {
    // And exporter-shaped ones: a 1-D CNN, an unrolled GRU (Slice, Gather), token ids through an
    // embedding table (OneHot), a causal attention mask (a masked Softmax).
    let exported = [
        "real/kws_conv1d",
        "real/gru_classifier",
        "ops/token_embedding",
        "ops/causal_mask_softmax",
        "ops/masked_fill_softmax",
    ];
    for name in ["mlp", "sigmoid_tanh_mlp", "digits_cnn", "attention", "lenet", "cifar_cnn"]
        .into_iter()
        .chain(exported)
    {
        let (model, input) = compiled(name);
        let (keys, srs, proof) = sumcheck_proof(&model, &input, PROVIDER);
        let checked = poai::verify(
            &proof,
            &keys.verifying_key,
            &srs.verifier_params().unwrap(),
            Some(&keys.verifying_key.sha256),
        )
        .unwrap();
        assert_eq!(checked.verified.model_commitment, model.model_commitment, "{name}");
        // halo2's circuit for the same visibilities and provider exposes the same instances, in the same
        // order: the witness generators of both backends agree with `QGraph::eval`.
        let q = model.quantize_inputs(&input).unwrap();
        let vis = Backend::Sumcheck.default_visibility();
        let circuit = poai_prover::inference_circuit(&model, &q, vis, LayoutGoal::Fast, PROVIDER).unwrap();
        let halo2: Vec<String> = circuit.layout.instance.iter().map(fr_to_hex).collect();
        assert_eq!(proof.instances, halo2, "{name}: the instances differ between the backends");
        assert_eq!(checked.verified.claims.provider, Some(PROVIDER.to_string()), "{name}");
    }
}

#[test]
fn a_halo2_and_a_sumcheck_proof_of_one_inference_carry_the_same_claims() {
    let (model, input) = compiled("mlp");
    let (_, _, sumcheck) = sumcheck_proof(&model, &input, PROVIDER);
    let options = KeyOptions { visibility: Backend::Sumcheck.default_visibility(), ..KeyOptions::default() };
    let srs = Srs::generate_insecure(poai::srs_k(&model, &options).unwrap(), 3).unwrap();
    let keys = poai::setup(&model, &srs, &options).unwrap();
    let pk = keys.proving_key().unwrap();
    let prove = ProveOptions { provider: PROVIDER, onchain: None };
    let halo2 = poai::prove(&model, &srs, &pk, Job::Inputs(&[input]), &prove).unwrap();
    poai::verify(&halo2, &keys.verifying_key, &srs.verifier_params().unwrap(), None).unwrap();
    assert_eq!((&halo2.instances, &halo2.claims), (&sumcheck.instances, &sumcheck.claims));
    assert_ne!(halo2.backend, sumcheck.backend);
    // Neither key accepts the other backend's proof.
    let e = poai::verify(&sumcheck, &keys.verifying_key, &srs.verifier_params().unwrap(), None).unwrap_err();
    assert!(e.to_string().contains("made by sumcheck-hyperkzg-poseidon"), "{e}");
}

/// `proof` with instance `i` replaced by `value` and its readable claims re-read from the instances, so
/// only the proof itself can refuse it.
fn with_instance(keys: &poai::Keys, proof: &ProofFile, i: usize, value: &str) -> ProofFile {
    let mut edited = proof.clone();
    edited.instances[i] = value.to_string();
    let instances: Vec<_> = edited.instances.iter().map(|s| fr_from_hex(s).unwrap()).collect();
    edited.claims = keys.verifying_key.header.claims(&instances).unwrap().remove(0);
    edited
}

#[test]
fn a_sumcheck_proof_is_bound_to_every_public_value() {
    let (model, input) = compiled("sigmoid_tanh_mlp");
    let (keys, srs, proof) = sumcheck_proof(&model, &input, PROVIDER);
    let params = srs.verifier_params().unwrap();
    poai::verify(&proof, &keys.verifying_key, &params, None).unwrap();
    let n = proof.instances.len();
    let plus_one = |s: &str| fr_to_hex(&(fr_from_hex(s).unwrap() + poai_circuits::Fr::one()));
    // Another provider (front-running), an input element, an output element: each re-read consistently
    // into the claims, each refused by the proof.
    for (what, i) in [("provider", n - 1), ("input", 1), ("output", n - 2)] {
        let edited = with_instance(&keys, &proof, i, &plus_one(&proof.instances[i]));
        match poai::verify(&edited, &keys.verifying_key, &params, None) {
            Err(Error::Verify(poai_verifier::VerifyError::InvalidProof(_))) => {}
            other => panic!("{what}: {:?}", other.map(|v| v.verified.claims)),
        }
    }
    // An input outside its format (which could wrap around the field) is refused by name.
    let edited = with_instance(&keys, &proof, 1, &fr_to_hex(&poai_circuits::Fr::from(1u64 << 40)));
    let e = poai::verify(&edited, &keys.verifying_key, &params, None).unwrap_err();
    assert!(e.to_string().contains("outside its"), "{e}");
    // The proof of another model under this key: refused.
    let (other, input) = compiled("mlp");
    let (_, _, foreign) = sumcheck_proof(&other, &input, PROVIDER);
    assert!(poai::verify(&foreign, &keys.verifying_key, &params, None).is_err());
    // Truncated proof bytes: a format error naming the part, not a panic.
    let mut cut = proof.clone();
    cut.proof.truncate(cut.proof.len() / 2);
    let e = poai::verify(&cut, &keys.verifying_key, &params, None).unwrap_err();
    assert!(e.to_string().contains("proof bytes"), "{e}");
}

#[test]
fn audit_recomputes_a_sumcheck_key_from_the_onnx_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n);
    let mut written = Vec::new();
    for name in ["sigmoid_tanh_mlp", "mlp"] {
        let (model, input) = compiled(name);
        let (keys, srs, proof) = sumcheck_proof(&model, &input, Provider::NONE);
        std::fs::write(path(&format!("{name}.poai")), model.to_json().unwrap()).unwrap();
        std::fs::write(path(&format!("{name}.vk")), &keys.verifying).unwrap();
        std::fs::write(path(&format!("{name}.proof.json")), proof.to_json().unwrap()).unwrap();
        srs.write(&path(&format!("{name}.srs"))).unwrap();
        written.push(name);
    }
    let onnx = fixture("sigmoid_tanh_mlp").join("model.onnx");
    let (compiled, proof, srs) =
        (path("sigmoid_tanh_mlp.poai"), path("sigmoid_tanh_mlp.proof.json"), path("sigmoid_tanh_mlp.srs"));
    let (own, foreign) = (path("sigmoid_tanh_mlp.vk"), path("mlp.vk"));
    let files =
        AuditFiles { onnx: &onnx, compiled: &compiled, proof: &proof, vk: &own, srs: &srs, dataset: None };
    let report = poai::audit(&files).unwrap();
    assert_eq!(
        report.checked,
        [AuditCheck::ModelReproduced, AuditCheck::KeyRecomputed, AuditCheck::ProofVerifies]
    );
    // Another model's sumcheck key is not this model's.
    let other = poai::audit(&AuditFiles { vk: &foreign, ..files });
    assert!(matches!(other, Err(Error::NotTheVerifyingKey { .. })), "{written:?}");
}

#[test]
fn the_sumcheck_backend_refuses_what_it_does_not_prove_yet() {
    let (model, input) = compiled("mlp");
    // halo2's default visibilities (hashed inputs and parameters) would leak through a bare sumcheck.
    for (input_vis, params) in
        [(Visibility::Hashed, None), (Visibility::Private, None), (Visibility::Public, Some(()))]
    {
        let mut options = KeyOptions::for_backend(Backend::Sumcheck);
        options.visibility.input = input_vis;
        if params.is_some() {
            options.visibility.params = poai::ParamVisibility::Hashed;
        }
        match poai::srs_k(&model, &options) {
            Err(Error::Prover(e)) => assert!(e.to_string().contains("--backend halo2"), "{e}"),
            other => panic!("{input_vis:?}: {other:?}"),
        }
    }
    let (keys, srs, _) = sumcheck_proof(&model, &input, Provider::NONE);
    let onchain = poai::setup_onchain(&keys.verifying_key, &srs, &OnchainOptions::default());
    assert!(matches!(onchain, Err(Error::Halo2Only { what: "on-chain compression" })), "{onchain:?}");
}
