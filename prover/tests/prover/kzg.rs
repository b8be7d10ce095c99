//! Real KZG proofs of the bundled MLP fixture: prove, verify, and reject every kind of mismatch.

use std::path::Path;

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use poai_circuits::commit::{fr_from_hex, model_commitment};
use poai_circuits::halo2::{
    build_layout_min_k, LayoutGoal, ModelCircuit, ParamVisibility, VisibilitySettings,
};
use poai_circuits::ir::Source;
use poai_circuits::model::CompiledModel;
use poai_prover::{keygen, prove, Srs};
use poai_verifier::{verify_instances, VerifierParams};

fn try_circuit(
    m: &CompiledModel,
    input: &[Vec<f32>],
    vis: VisibilitySettings,
) -> Result<ModelCircuit, poai_circuits::halo2::CircuitError> {
    let q = m.quantize_inputs(input).unwrap();
    let trace = m.graph.eval_trace(&q).unwrap();
    let commitment = fr_from_hex(&m.model_commitment).unwrap();
    build_layout_min_k(&m.graph, &trace, commitment, vis, LayoutGoal::Fast).map(ModelCircuit::new)
}

/// Default visibility with fixed parameters (the key binds the weights).
const FIXED: VisibilitySettings = VisibilitySettings {
    input: poai_circuits::halo2::Visibility::Hashed,
    output: poai_circuits::halo2::Visibility::Public,
    params: ParamVisibility::Fixed,
};

fn circuit(m: &CompiledModel, input: &[Vec<f32>]) -> ModelCircuit {
    try_circuit(m, input, VisibilitySettings::default()).unwrap()
}

/// `m` with one weight of its largest parameter tensor changed, and its commitment updated.
fn one_weight_changed(m: &CompiledModel) -> CompiledModel {
    let mut other = m.clone();
    let w = other.graph.values.iter_mut().filter_map(|v| match &mut v.source {
        Source::Const { tensor, param: true } => Some(tensor),
        _ => None,
    });
    let w = w.max_by_key(|t| t.len()).unwrap();
    w.data_mut()[7] += 1;
    let other_commitment = model_commitment(&other.graph).unwrap();
    assert_ne!(poai_circuits::commit::fr_to_hex(&other_commitment), m.model_commitment);
    other.model_commitment = poai_circuits::commit::fr_to_hex(&other_commitment);
    other
}

#[test]
fn mlp_fixture_proves_and_verifies_and_mismatches_fail() {
    let (m, input) = compiled("mlp");
    let c = try_circuit(&m, &input, FIXED).unwrap();
    let k = c.layout.k();
    assert!(k <= 16, "mlp circuit k = {k}");
    let srs = Srs::generate_insecure(k, 11).unwrap();
    let params = srs.for_circuit(k).unwrap();
    let pk = keygen(&params, &c).unwrap();
    let proof = prove(&params, &pk, &c).unwrap();
    // The verifier reads only G2 and s·G2 of the SRS file.
    let vparams = VerifierParams::from_srs_bytes(&srs.to_bytes().unwrap()).unwrap();
    let params = &vparams;
    let instances = c.instances().remove(0);
    // The public outputs are the quantised model's outputs.
    let outputs = m.graph.eval(&m.quantize_inputs(&input).unwrap()).unwrap();
    // Instances: model commitment, the (hashed) input's commitment, then the outputs.
    assert_eq!(instances.len(), 2 + outputs[0].len());
    let q = m.quantize_inputs(&input).unwrap();
    let bits = m.graph.value(m.graph.inputs[0]).unwrap().format.bits;
    let input_commitment =
        poai_circuits::commit::tensor_commitment(poai_circuits::commit::INPUT_DOMAIN, q[0].data(), bits);
    assert_eq!(Some(instances[1]), input_commitment);
    verify_instances(pk.get_vk(), params, &proof, &instances).unwrap();

    let mut bad = proof.clone();
    bad[100] ^= 1;
    assert!(verify_instances(pk.get_vk(), params, &bad, &instances).is_err(), "tampered proof accepted");
    assert!(
        verify_instances(pk.get_vk(), params, &proof[..proof.len() - 1], &instances).is_err(),
        "truncated proof accepted"
    );
    let mut other_output = instances.clone();
    other_output[3] += Fr::one();
    assert!(verify_instances(pk.get_vk(), params, &proof, &other_output).is_err(), "other output accepted");
    let mut other_input = instances.clone();
    other_input[1] += Fr::one();
    assert!(verify_instances(pk.get_vk(), params, &proof, &other_input).is_err(), "other input accepted");
    let mut other_model = instances.clone();
    other_model[0] += Fr::one();
    assert!(
        verify_instances(pk.get_vk(), params, &proof, &other_model).is_err(),
        "other model commitment accepted"
    );

    // With fixed parameters a model that differs in one weight has another verifying key, which
    // rejects this proof.
    let other = one_weight_changed(&m);
    let c2 = try_circuit(&other, &input, FIXED).unwrap();
    let pk2 = keygen(&srs.for_circuit(k).unwrap(), &c2).unwrap();
    assert!(
        verify_instances(pk2.get_vk(), params, &proof, &instances).is_err(),
        "proof accepted by another model's key"
    );
}

/// A circuit's keys from a fresh development SRS of its `k`, its honest proof (already checked by the
/// verifier), and what further verifications need.
struct Proved {
    params: halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG<
        halo2_base::halo2_proofs::halo2curves::bn256::Bn256,
    >,
    pk: halo2_base::halo2_proofs::plonk::ProvingKey<halo2_base::halo2_proofs::halo2curves::bn256::G1Affine>,
    vparams: VerifierParams,
    instances: Vec<Fr>,
    proof: Vec<u8>,
}

fn keygen_and_prove(c: &ModelCircuit) -> Proved {
    let k = c.layout.k();
    let srs = Srs::generate_insecure(k, 12).unwrap();
    let params = srs.for_circuit(k).unwrap();
    let pk = keygen(&params, c).unwrap();
    let vparams = VerifierParams::from_srs_bytes(&srs.to_bytes().unwrap()).unwrap();
    let instances = c.instances().remove(0);
    let proof = prove(&params, &pk, c).unwrap();
    verify_instances(pk.get_vk(), &vparams, &proof, &instances).unwrap();
    Proved { params, pk, vparams, instances, proof }
}

/// Hashed parameters: one verifying key serves every model of the architecture, and the model
/// commitment the circuit computes from the private weights is what names the model.
#[test]
fn hashed_parameters_prove_under_one_key_and_the_commitment_names_the_model() {
    let (m, input) = compiled("sigmoid_tanh_mlp");
    let c = circuit(&m, &input);
    let Proved { params, pk, vparams, instances, proof } = keygen_and_prove(&c);
    assert_eq!(poai_circuits::commit::fr_to_hex(&instances[0]), m.model_commitment);

    // Another model of the same architecture: the same verifying key, built from either circuit.
    let other = one_weight_changed(&m);
    let c2 = circuit(&other, &input);
    let pk2 = keygen(&params, &c2).unwrap();
    let vk_bytes = |pk: &halo2_base::halo2_proofs::plonk::ProvingKey<_>| {
        pk.get_vk().to_bytes(halo2_base::halo2_proofs::SerdeFormat::RawBytes)
    };
    assert_eq!(vk_bytes(&pk), vk_bytes(&pk2), "the key depends on the weights");
    let proof2 = prove(&params, &pk, &c2).unwrap();
    let mut instances2 = c2.instances().remove(0);
    assert_eq!(poai_circuits::commit::fr_to_hex(&instances2[0]), other.model_commitment);
    verify_instances(pk.get_vk(), &vparams, &proof2, &instances2).unwrap();
    // Claiming the first model's commitment for the second model's proof fails, and the other way round.
    instances2[0] = instances[0];
    assert!(
        verify_instances(pk.get_vk(), &vparams, &proof2, &instances2).is_err(),
        "other model's commitment"
    );
    let mut swapped = instances.clone();
    swapped[0] = fr_from_hex(&other.model_commitment).unwrap();
    assert!(verify_instances(pk.get_vk(), &vparams, &proof, &swapped).is_err(), "commitment swapped");
}

pub fn compiled(name: &str) -> (CompiledModel, Vec<Vec<f32>>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models").join(name);
    let cal_path = dir.join("calibration.json");
    let cal = poai_onnx::io::read_input_file(&cal_path).unwrap();
    let m = poai_onnx::compile(&dir.join("model.onnx"), &cal, &cal_path, &poai_onnx::QuantConfig::default())
        .unwrap();
    (m, poai_onnx::io::read_input_file(&dir.join("input.json")).unwrap())
}

/// Every small fixture's circuit is satisfied by its honest witness (the big ones run in `prove_table`).
#[test]
fn small_fixtures_satisfy_their_circuits() {
    for name in ["sigmoid_tanh_mlp", "attention", "digits_cnn"] {
        let (m, input) = compiled(name);
        let c = circuit(&m, &input);
        let k = c.layout.k();
        let t = std::time::Instant::now();
        let p = halo2_base::halo2_proofs::dev::MockProver::run(k, &c, c.instances()).unwrap();
        let r = p.verify();
        eprintln!("{name}: k = {k}, mock {:.1?}, ok = {}", t.elapsed(), r.is_ok());
        assert!(r.is_ok(), "{name}: {:?}", r.err().map(|e| e.into_iter().take(3).collect::<Vec<_>>()));
    }
}

/// Every single-op case in models/ops compiles and its circuit (default visibility) is satisfied by the
/// honest witness: each ONNX op poai imports reaches a chip.
#[test]
fn every_single_op_case_satisfies_its_circuit() {
    let ops = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/ops");
    let mut names: Vec<String> = std::fs::read_dir(&ops)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    assert!(names.len() >= 25);
    let mut failures = Vec::new();
    for name in &names {
        let (m, input) = compiled(&format!("ops/{name}"));
        let c = match try_circuit(&m, &input, VisibilitySettings::default()) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let k = c.layout.k();
        let p = halo2_base::halo2_proofs::dev::MockProver::run(k, &c, c.instances()).unwrap();
        if let Err(e) = p.verify() {
            failures.push(format!("{name} (k = {k}): {:?}", e.first()));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A circuit with Freivalds checks (second-phase columns and challenges) proves and verifies for real:
/// digits_cnn's convolutions over its committed kernels checked by random linear combinations. A wrong
/// product cell, with the rest of the witness honest, gives a proof the verifier rejects.
#[test]
fn freivalds_checks_prove_and_verify_with_kzg() {
    use poai_circuits::halo2::build_layout;
    use poai_circuits::halo2::layout::{Gate, LayoutOptions};
    let (m, input) = compiled("digits_cnn");
    let trace = m.graph.eval_trace(&m.quantize_inputs(&input).unwrap()).unwrap();
    let commitment = fr_from_hex(&m.model_commitment).unwrap();
    let options = LayoutOptions { range_bits: 14, shared_dots: false, freivalds: true };
    let layout = build_layout(&m.graph, &trace, commitment, VisibilitySettings::default(), options).unwrap();
    assert!(layout.shape().phase2());
    let product = (0..layout.main_rows()).find(|&r| layout.selectors[Gate::RlcS as usize][r]).unwrap();
    let Proved { params, pk, vparams, instances, .. } = keygen_and_prove(&ModelCircuit::new(layout.clone()));
    // The last lane of the first output combination is a product (its first lanes may be padding).
    let mut bad = layout;
    let cell = poai_circuits::halo2::Pos::Lane(7, product);
    let v = bad.get(cell);
    bad.set(cell, v + Fr::one());
    let bad_proof = prove(&params, &pk, &ModelCircuit::new(bad)).unwrap();
    assert!(
        verify_instances(pk.get_vk(), &vparams, &bad_proof, &instances).is_err(),
        "wrong product accepted"
    );
}
