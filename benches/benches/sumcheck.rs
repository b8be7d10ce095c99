//! Criterion benchmarks of the sumcheck backend's pieces (issue #25), at the sizes the bundled models
//! need: a dense layer's matrix-product reduction, HyperKZG commit and open, a range check by logup, and
//! mlp's dense layers over committed weights end to end.
//! Groups `sumcheck/<piece>`; `cargo bench -p poai-benches --bench sumcheck -- sumcheck/matmul` runs one.

#![allow(missing_docs, clippy::expect_used, reason = "criterion harness")]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use halo2_base::halo2_proofs::halo2curves::ff::Field;
use poai_circuits::Fr;
use poai_sumcheck::dense;
use poai_sumcheck::hyperkzg::{self, KzgKey};
use poai_sumcheck::logup;
use poai_sumcheck::matmul::{self, MatmulShape};
use poai_sumcheck::{CpuBackend, Mle, PoseidonTranscript, Transcript};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

/// `2^vars` signed values of `bits` bits, as quantised tensors hold.
fn values(r: &mut ChaCha20Rng, vars: usize, bits: u32) -> Mle {
    let half = 1i64 << (bits - 1);
    let v: Vec<i64> = (0..1usize << vars).map(|_| r.gen_range(-half..half)).collect();
    Mle::from_i64(&v, vars).expect("power of two")
}

fn matmul(c: &mut Criterion) {
    let mut group = c.benchmark_group("sumcheck/matmul");
    group.sample_size(10);
    let mut r = ChaCha20Rng::seed_from_u64(1);
    // mlp's first layer (784 → 128, padded to 1024 × 128) for one input and for a batch of 64; a
    // 1024 × 1024 square layer.
    for shape in [
        MatmulShape { m: 0, k: 10, n: 7 },
        MatmulShape { m: 6, k: 10, n: 7 },
        MatmulShape { m: 10, k: 10, n: 10 },
    ] {
        let a = values(&mut r, shape.m + shape.k, 16);
        let b = values(&mut r, shape.k + shape.n, 12);
        let point: Vec<Fr> = (0..shape.m + shape.n).map(|_| Fr::random(&mut r)).collect();
        let id = BenchmarkId::new("prove", format!("{}x{}x{}", 1 << shape.m, 1 << shape.k, 1 << shape.n));
        group.bench_function(id, |bench| {
            bench.iter(|| {
                let mut t = PoseidonTranscript::new(1);
                matmul::prove(&CpuBackend, (&a, &b), shape, &point, &mut t).expect("prove")
            })
        });
    }
    group.finish();
}

fn pcs(c: &mut Criterion) {
    let mut group = c.benchmark_group("sumcheck/hyperkzg");
    group.sample_size(10);
    let mut r = ChaCha20Rng::seed_from_u64(2);
    let key = KzgKey::insecure_from_secret(Fr::from(77), 18);
    for vars in [16, 18] {
        let f = values(&mut r, vars, 16);
        let x: Vec<Fr> = (0..vars).map(|_| Fr::random(&mut r)).collect();
        group.bench_function(BenchmarkId::new("commit", format!("2^{vars}")), |b| {
            b.iter(|| hyperkzg::commit(&key, &f).expect("commit"))
        });
        group.bench_function(BenchmarkId::new("open", format!("2^{vars}")), |b| {
            b.iter(|| {
                let mut t = PoseidonTranscript::new(2);
                hyperkzg::open(&key, &f, &x, &mut t).expect("open")
            })
        });
        let c = hyperkzg::commit(&key, &f).expect("commit");
        let v = f.evaluate(&x).expect("evaluate");
        let proof = hyperkzg::open(&key, &f, &x, &mut PoseidonTranscript::new(2)).expect("open");
        group.bench_function(BenchmarkId::new("verify", format!("2^{vars}")), |b| {
            b.iter(|| {
                let mut t = PoseidonTranscript::new(2);
                hyperkzg::verify(&key.verifier_key(), &c, &x, v, &proof, &mut t).expect("verify")
            })
        });
    }
    group.finish();
}

fn lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("sumcheck/logup");
    group.sample_size(10);
    let mut r = ChaCha20Rng::seed_from_u64(3);
    let bits = 16;
    let table = logup::range_table(bits).expect("table");
    for vars in [16, 18] {
        let w: Vec<i64> = (0..1usize << vars).map(|_| r.gen_range(0..1i64 << bits)).collect();
        let w = Mle::from_i64(&w, vars).expect("power of two");
        let mult =
            Mle::new(logup::multiplicities(w.evals(), table.evals()).expect("in range")).expect("mult");
        group.bench_function(BenchmarkId::new("range16", format!("2^{vars} values")), |b| {
            b.iter(|| {
                let mut t = PoseidonTranscript::new(3);
                t.absorb(&[Fr::ONE]);
                logup::prove_lookup(&CpuBackend, &w, (&table, &mult), &mut t).expect("prove")
            })
        });
    }
    group.finish();
}

/// mlp's three dense layers (784 → 128 → 64 → 10, padded to powers of two) over committed weights: the
/// per-proof work (the weights' commitment is made once per model).
fn dense_layers(c: &mut Criterion) {
    let mut group = c.benchmark_group("sumcheck/dense");
    group.sample_size(10);
    let mut r = ChaCha20Rng::seed_from_u64(4);
    let key = KzgKey::insecure_from_secret(Fr::from(78), 17);
    let layers = [
        MatmulShape { m: 0, k: 10, n: 7 },
        MatmulShape { m: 0, k: 7, n: 6 },
        MatmulShape { m: 0, k: 6, n: 4 },
    ];
    let data: Vec<_> = layers
        .iter()
        .map(|s| {
            let (x, w) = (values(&mut r, s.m + s.k, 16), values(&mut r, s.k + s.n, 12));
            let (k, n) = (1usize << s.k, 1usize << s.n);
            let y: Vec<Fr> =
                (0..n).map(|j| (0..k).map(|t| x.evals()[t] * w.evals()[t * n + j]).sum()).collect();
            let commitment = hyperkzg::commit(&key, &w).expect("commit");
            (*s, x, w, Mle::new(y).expect("power of two"), commitment)
        })
        .collect();
    group.bench_function("mlp, prove 3 layers", |b| {
        b.iter(|| {
            let mut t = PoseidonTranscript::new(4);
            for (s, x, w, y, commitment) in &data {
                dense::prove(&CpuBackend, &key, *s, (x, w, y), commitment, &mut t).expect("prove");
            }
        })
    });
    let proofs: Vec<_> = {
        let mut t = PoseidonTranscript::new(4);
        data.iter()
            .map(|(s, x, w, y, commitment)| {
                dense::prove(&CpuBackend, &key, *s, (x, w, y), commitment, &mut t).expect("prove")
            })
            .collect()
    };
    group.bench_function("mlp, verify 3 layers", |b| {
        b.iter(|| {
            let mut t = PoseidonTranscript::new(4);
            for ((s, x, _, y, commitment), proof) in data.iter().zip(&proofs) {
                dense::verify(&key.verifier_key(), *s, (x, y), commitment, proof, &mut t).expect("verify");
            }
        })
    });
    group.bench_function("mlp, commit the weights (once per model)", |b| {
        b.iter(|| {
            data.iter().map(|(_, _, w, _, _)| hyperkzg::commit(&key, w).expect("commit")).collect::<Vec<_>>()
        })
    });
    group.finish();
}

criterion_group!(benches, matmul, pcs, lookup, dense_layers);
criterion_main!(benches);
