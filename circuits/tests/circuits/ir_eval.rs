//! `QGraph::eval` on small hand-built graphs: semantics, determinism, and typed errors.

use poai_circuits::commit::model_commitment;
use poai_circuits::ir::{
    ConvParams, FixedFormat, NonLinear, QGraph, QNode, QOp, QValue, Source, TableSpec, Tensor,
};
use rand::{Rng, SeedableRng};

fn t(shape: &[usize], data: Vec<i64>) -> Tensor {
    Tensor::new(shape.to_vec(), data).unwrap_or_else(|e| unreachable!("{e}"))
}

fn fmt(scale: i32, bits: u32) -> FixedFormat {
    FixedFormat { scale, bits }
}

/// x[1,K] -> MatMul W[K,N] + b -> Rescale -> Relu -> Sigmoid table -> Softmax.
fn small_mlp(seed: u64, k: usize, n: usize) -> QGraph {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let w = t(&[k, n], (0..k * n).map(|_| rng.gen_range(-2000..2000)).collect());
    let b = t(&[n], (0..n).map(|_| rng.gen_range(-100_000..100_000)).collect());
    let v = |name: &str, shape: &[usize], f: FixedFormat, source: Source| QValue {
        name: name.into(),
        shape: shape.to_vec(),
        format: f,
        source,
    };
    let exp = TableSpec {
        func: NonLinear::Exp,
        in_scale: 8,
        in_bits: 13,
        out_scale: 14,
        out_bits: 16,
        interp_bits: 0,
    };
    let sig = TableSpec {
        func: NonLinear::Sigmoid,
        in_scale: 8,
        in_bits: 12,
        out_scale: 14,
        out_bits: 16,
        interp_bits: 0,
    };
    QGraph {
        values: vec![
            v("x", &[1, k], fmt(8, 16), Source::Input { index: 0 }),
            v("w", &[k, n], fmt(11, 12), Source::Const { tensor: w, param: true }),
            v("b", &[n], fmt(19, 24), Source::Const { tensor: b, param: true }),
            v("acc", &[1, n], fmt(19, 48), Source::Node { index: 0 }),
            v("h", &[1, n], fmt(8, 16), Source::Node { index: 1 }),
            v("r", &[1, n], fmt(8, 16), Source::Node { index: 2 }),
            v("s", &[1, n], fmt(14, 16), Source::Node { index: 3 }),
            v("y", &[1, n], fmt(14, 16), Source::Node { index: 4 }),
        ],
        nodes: vec![
            QNode { name: "fc".into(), op: QOp::MatMul, inputs: vec![0, 1, 2], output: 3 },
            QNode {
                name: "fc/rescale".into(),
                op: QOp::Rescale { shift: 11, bits: 16 },
                inputs: vec![3],
                output: 4,
            },
            QNode { name: "relu".into(), op: QOp::Relu, inputs: vec![4], output: 5 },
            QNode { name: "sig".into(), op: QOp::Table(sig), inputs: vec![5], output: 6 },
            QNode {
                name: "sm".into(),
                op: QOp::Softmax { axis: 1, exp, out_scale: 14 },
                inputs: vec![6],
                output: 7,
            },
        ],
        inputs: vec![0],
        outputs: vec![7],
    }
}

#[test]
fn matmul_rescale_relu_match_a_naive_reference() {
    let (k, n) = (37, 9);
    let g = small_mlp(1, k, n);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
    let x: Vec<i64> = (0..k).map(|_| rng.gen_range(-32768..32768)).collect();
    let trace = g.eval_trace(&[t(&[1, k], x.clone())]).unwrap_or_else(|e| unreachable!("{e}"));
    let (Source::Const { tensor: w, .. }, Source::Const { tensor: b, .. }) =
        (&g.values[1].source, &g.values[2].source)
    else {
        unreachable!()
    };
    for j in 0..n {
        let acc: i64 = (0..k).map(|i| x[i] * w.data()[i * n + j]).sum::<i64>() + b.data()[j];
        let got = trace[3].as_ref().map(|t| t.data()[j]);
        assert_eq!(got, Some(acc));
        let h = ((acc + (1 << 10)) >> 11).clamp(-32768, 32767);
        assert_eq!(trace[4].as_ref().map(|t| t.data()[j]), Some(h));
        assert_eq!(trace[5].as_ref().map(|t| t.data()[j]), Some(h.max(0)));
    }
    // Softmax outputs sum to ~2^14.
    let y = trace[7].as_ref().map(|t| t.data().iter().sum::<i64>()).unwrap_or(0);
    assert!((y - (1 << 14)).abs() <= n as i64, "softmax sum {y}");
}

#[test]
fn eval_is_deterministic_across_runs_and_threads() {
    let g = small_mlp(3, 300, 64);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
    let x = t(&[1, 300], (0..300).map(|_| rng.gen_range(-32768..32768)).collect());
    let first = g.eval(std::slice::from_ref(&x)).unwrap_or_else(|e| unreachable!("{e}"));
    for threads in [1, 2, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap_or_else(|e| unreachable!("{e}"));
        let again = pool.install(|| g.eval(std::slice::from_ref(&x))).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(first, again, "{threads} threads");
    }
}

#[test]
fn bad_inputs_and_graphs_give_typed_errors() {
    let g = small_mlp(5, 4, 3);
    let e = g.eval(&[t(&[1, 5], vec![0; 5])]).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("input `x` must have shape [1, 4]"), "{e}");
    let e = g.eval(&[t(&[1, 4], vec![0, 0, 40_000, 0])]).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("element 2 = 40000"), "{e}");
    let e = g.eval(&[]).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("takes 1 inputs, got 0"), "{e}");
    let mut broken = g.clone();
    broken.nodes[1].inputs = vec![7];
    let e = broken.validate().err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("reads value 7 before it exists"), "{e}");
    let mut broken = g;
    broken.nodes[0].op = QOp::Conv(ConvParams { pads: [0; 4], strides: [1, 1], dilations: [1, 1], group: 1 });
    let e = broken.eval(&[t(&[1, 4], vec![0; 4])]).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("node `fc`: Conv: input [1, 4] is not NCHW"), "{e}");
}

#[test]
fn model_commitment_binds_weights_and_structure() {
    let g = small_mlp(6, 8, 4);
    let c = model_commitment(&g);
    assert!(c.is_some());
    assert_eq!(c, model_commitment(&g.clone()));
    let mut w = g.clone();
    if let Source::Const { tensor, .. } = &mut w.values[1].source {
        tensor.data_mut()[5] += 1;
    }
    assert_ne!(c, model_commitment(&w), "one weight changed");
    let mut s = g.clone();
    s.nodes[1].op = QOp::Rescale { shift: 10, bits: 16 };
    assert_ne!(c, model_commitment(&s), "one rescale changed");
    let mut out_of_range = g;
    if let Source::Const { tensor, .. } = &mut out_of_range.values[1].source {
        tensor.data_mut()[0] = 1 << 20;
    }
    assert_eq!(model_commitment(&out_of_range), None, "weight wider than its declared bits");
}

/// OneHot: each index becomes a row with one 1 at its position; an index outside `[0, depth)` (negative
/// or too large) is an error naming it, never a silent all-zero row.
#[test]
fn one_hot_rows_and_out_of_range_indices() {
    let op = QOp::OneHot { depth: 4 };
    let y = op.eval(&[&t(&[1, 3], vec![2, 0, 3])]).unwrap();
    assert_eq!(y.shape(), &[1, 3, 4]);
    assert_eq!(y.data(), &[0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1]);
    for bad in [-1, 4] {
        let e = op.eval(&[&t(&[2], vec![1, bad])]).unwrap_err().to_string();
        assert!(e.contains(&format!("index {bad} at position 1")) && e.contains("[0, 4)"), "{e}");
    }
}

/// A softmax mask (0/1, broadcast to the input) leaves its zeros out of the maximum and the sum and
/// gives them 0; a slice masked entirely, a mask that does not broadcast or holds other values are errors.
#[test]
fn masked_softmax_semantics_and_bad_masks() {
    let exp = TableSpec {
        func: NonLinear::Exp,
        in_scale: 4,
        in_bits: 10,
        out_scale: 8,
        out_bits: 10,
        interp_bits: 0,
    };
    let op = QOp::Softmax { axis: 1, exp, out_scale: 8 };
    let x = t(&[2, 3], vec![100, 0, 0, 5, 5, 90]);
    // Row 0 keeps positions 1 and 2 (the large 100 is masked): two equal halves. Row 1 keeps 0 and 1.
    let keep = t(&[2, 3], vec![0, 1, 1, 1, 1, 0]);
    let y = op.eval(&[&x, &keep]).unwrap();
    assert_eq!(y.data(), &[0, 128, 128, 128, 128, 0]);
    // A [3] mask broadcasts over the rows.
    let y = op.eval(&[&x, &t(&[3], vec![1, 1, 0])]).unwrap();
    assert_eq!(y.data()[2], 0);
    assert_eq!(y.data()[5], 0);
    for (mask, want) in [
        (t(&[3], vec![0, 0, 0]), "masked entirely"),
        (t(&[2], vec![1, 1]), "broadcast"),
        (t(&[3], vec![1, 2, 1]), "other than 0 and 1"),
    ] {
        let e = op.eval(&[&x, &mask]).unwrap_err().to_string();
        assert!(e.contains(want), "{e}");
    }
}
