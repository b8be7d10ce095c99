//! Criterion benchmarks of the proof system: key generation, proving and verification, for one
//! single-op model per chip family (`models/ops`) and for the small fixtures. mlp, lenet and cifar_cnn take
//! tens of seconds a sample; `prove_table` times them once each, and `compare_ezkl.sh` against EZKL.
//!
//! Circuits as `poai compile` and `poai setup` make them with no flags (`prove_table --help` for others);
//! `cargo bench -p poai-benches --bench prove -- ops/` runs one group.

#![allow(missing_docs, clippy::expect_used, reason = "criterion harness")]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use poai_benches::CircuitArgs;
use poai_circuits::halo2::ModelCircuit;
use poai_prover::{keygen, prove, Srs};
use poai_verifier::verify_instances;

/// One single-op model per chip family: fixed-weight mat-vec, convolution, ReLU / LeakyReLU / Clip,
/// max pooling, a table lookup, softmax (exp table, reciprocal), layer norm (rsqrt).
const OPS: &[&str] = &[
    "ops/gemm_trans",
    "ops/conv_batchnorm",
    "ops/relu_leaky_clip",
    "ops/maxpool_pads",
    "ops/sigmoid",
    "ops/softmax_axis1",
    "ops/layernorm_op",
];

/// Fixtures that prove in seconds with the default (hashed) parameters; mlp's 109k hashed weights put it
/// at k = 17 (~30 s a proof), so it is timed by `prove_table` with the large ones.
const FIXTURES: &[&str] = &["sigmoid_tanh_mlp", "attention"];

/// The circuit of `name` on its sample input.
fn circuit(name: &str) -> ModelCircuit {
    let (model, input) = CircuitArgs::default().compiled_fixture(name).expect("fixture compiles");
    CircuitArgs::default().model_circuit(&model, &input).expect("circuit")
}

/// Key generation, proving and verification of each model in `names`, in the group `group_name`.
fn keygen_prove_verify(c: &mut Criterion, group_name: &str, names: &[&str]) {
    let mut group = c.benchmark_group(group_name);
    group.sample_size(10);
    for &name in names {
        let circuit = circuit(name);
        let k = circuit.layout.k();
        let srs = Srs::generate_insecure(k, 1).expect("srs");
        let params = srs.for_circuit(k).expect("params");
        let vparams = srs.verifier_params().expect("verifier params");
        let id = |step: &str| BenchmarkId::new(step, format!("{name} (k = {k})"));
        group.bench_function(id("keygen"), |b| b.iter(|| keygen(&params, &circuit).expect("keygen")));
        let pk = keygen(&params, &circuit).expect("keygen");
        group.bench_function(id("prove"), |b| b.iter(|| prove(&params, &pk, &circuit).expect("prove")));
        let proof = prove(&params, &pk, &circuit).expect("prove");
        let instances = circuit.instances();
        group.bench_function(id("verify"), |b| {
            b.iter(|| verify_instances(pk.get_vk(), &vparams, &proof, &instances[0]).expect("verify"))
        });
    }
    group.finish();
}

fn ops(c: &mut Criterion) {
    keygen_prove_verify(c, "ops", OPS);
}

fn fixtures(c: &mut Criterion) {
    keygen_prove_verify(c, "fixtures", FIXTURES);
}

criterion_group!(benches, ops, fixtures);
criterion_main!(benches);
