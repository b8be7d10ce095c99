//! Benchmarks of the front end and the integer engine: compile (import + calibrate + quantise) and the
//! quantised forward pass (`QGraph::eval`, the witness generator's core) per fixture.

#![allow(missing_docs, clippy::expect_used, reason = "criterion harness")]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use poai_benches::{models_dir, CircuitArgs, FIXTURES};
use poai_onnx::{io, QuantConfig};

fn eval(c: &mut Criterion) {
    let mut group = c.benchmark_group("circuits/eval");
    for &name in FIXTURES {
        let (model, input) = CircuitArgs::default().compiled_fixture(name).expect("fixture compiles");
        group.bench_with_input(BenchmarkId::from_parameter(name), &input, |b, input| {
            b.iter(|| model.graph.eval(input).expect("eval"))
        });
    }
    group.finish();
}

fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("onnx/compile");
    group.sample_size(10);
    for &name in FIXTURES {
        let dir = models_dir().join(name);
        let cal_path = dir.join("calibration.json");
        let cal = io::read_input_file(&cal_path).expect("calibration file");
        group.bench_with_input(BenchmarkId::from_parameter(name), &cal, |b, cal| {
            b.iter(|| {
                poai_onnx::compile(&dir.join("model.onnx"), cal, &cal_path, &QuantConfig::default())
                    .expect("compile")
            })
        });
    }
    group.finish();
}

fn commitment(c: &mut Criterion) {
    let mut group = c.benchmark_group("circuits/model_commitment");
    for &name in FIXTURES {
        let (model, _) = CircuitArgs::default().fixture(name).expect("fixture compiles");
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| poai_circuits::commit::model_commitment(&model.graph).expect("commitment"))
        });
    }
    group.finish();
}

criterion_group!(benches, eval, compile, commitment);
criterion_main!(benches);
