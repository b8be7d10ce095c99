//! The facade's typed errors: each workflow refuses what does not fit before doing any work.

#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail by panicking")]

use std::path::{Path, PathBuf};

use poai::{Backend, Error, Job, KeyOptions, ProveOptions, Visibility};

fn mlp() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/mlp")
}

#[test]
fn backend_names_round_trip_and_unknown_ones_are_refused() {
    for &b in Backend::ALL {
        assert_eq!(b.name().parse::<Backend>().unwrap(), b);
        assert_eq!(Backend::of_artifact("key", b.artifact_id()).unwrap(), b);
    }
    let e = "plonky2".parse::<Backend>().unwrap_err().to_string();
    assert!(e.contains("unknown backend `plonky2`") && e.contains("halo2"), "{e}");
    match Backend::of_artifact("the verifying key", "groth16") {
        Err(Error::UnknownBackend { found, .. }) => assert_eq!(found, "groth16"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn keys_refuse_private_outputs_before_any_work() {
    let model =
        poai::compile(&mlp().join("model.onnx"), &mlp().join("calibration.json"), &Default::default())
            .unwrap()
            .model;
    let mut options = KeyOptions::default();
    options.visibility.output = Visibility::Private;
    assert!(matches!(poai::srs_k(&model, &options), Err(Error::PrivateOutputs)));
    let srs = poai::Srs::generate_insecure(4, 0).unwrap();
    assert!(matches!(poai::setup(&model, &srs, &options), Err(Error::PrivateOutputs)));
}

#[test]
fn proving_refuses_jobs_the_key_was_not_made_for() {
    let model =
        poai::compile(&mlp().join("model.onnx"), &mlp().join("calibration.json"), &Default::default())
            .unwrap()
            .model;
    let options = KeyOptions::default();
    let srs = poai::Srs::generate_insecure(poai::srs_k(&model, &options).unwrap(), 0).unwrap();
    let pk = poai::setup(&model, &srs, &options).unwrap().proving_key().unwrap();
    let input = poai::load::input(&mlp().join("input.json")).unwrap();
    let two = [input.clone(), input];
    match poai::prove(&model, &srs, &pk, Job::Inputs(&two), &ProveOptions::default()) {
        Err(Error::InputCount { given: 2, .. }) => {}
        other => panic!("{:?}", other.map(|p| p.model_commitment)),
    }
    match poai::prove(&model, &srs, &pk, Job::Inputs(&[]), &ProveOptions::default()) {
        Err(Error::InputCount { given: 0, .. }) => {}
        other => panic!("{:?}", other.map(|p| p.model_commitment)),
    }
}

#[test]
fn loaders_name_the_file_and_what_it_should_be() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.vk");
    std::fs::write(&junk, b"not a key").unwrap();
    let e = poai::load::verifying_key(&junk).unwrap_err();
    assert!(matches!(e, Error::Artifact { what: "a usable verifying key", .. }), "{e:?}");
    assert!(e.to_string().contains("junk.vk is not a usable verifying key"), "{e}");
    let missing = dir.path().join("missing.json");
    assert!(matches!(poai::load::proof(&missing), Err(Error::Read { path, .. }) if path == missing));
}

mod sumcheck;

/// `inspect` says "supported" only when `compile` will succeed, and tells what the sumcheck backend
/// makes of the model: a packed witness size (estimated at default scales), or the node it does not
/// prove yet (a softmax over another axis than the last).
#[test]
fn inspect_is_supported_only_when_compile_succeeds_and_sizes_the_sumcheck_witness() {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models");
    let poai::Inspection::Supported(s) = poai::inspect(&models.join("mlp/model.onnx")).unwrap() else {
        panic!("the mlp is supported")
    };
    let k = s.sumcheck_k.unwrap();
    let model =
        poai::compile(&mlp().join("model.onnx"), &mlp().join("calibration.json"), &Default::default())
            .unwrap()
            .model;
    // An estimate at default scales: the calibrated scales move the remainders' widths a little.
    let compiled_k = poai_prover::sumcheck::packed_k(&model).unwrap();
    assert!(k.abs_diff(compiled_k) <= 1, "inspect's 2^{k} against the compiled model's 2^{compiled_k}");
    let poai::Inspection::Supported(s) = poai::inspect(&models.join("ops/softmax_axis1/model.onnx")).unwrap()
    else {
        panic!("a softmax over axis 1 is supported")
    };
    let why = s.sumcheck_k.unwrap_err();
    assert!(why.contains("only the last axis") && why.contains("halo2 backend"), "{why}");
}
