//! MockProver tests of the halo2 layout: honest witnesses pass, one tampered cell fails.

use halo2_base::halo2_proofs::dev::MockProver;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use poai_circuits::commit::model_commitment;
use poai_circuits::halo2::{
    build_layout, Layout, ModelCircuit, ParamVisibility, Pos, Visibility, VisibilitySettings,
};

/// The chip tests expose inputs privately and outputs publicly (instances: commitment, then outputs).
const PLAIN: VisibilitySettings = VisibilitySettings {
    input: Visibility::Private,
    output: Visibility::Public,
    params: ParamVisibility::Fixed,
};
use poai_circuits::ir::{FixedFormat, QGraph, QNode, QOp, QValue, Source, Tensor};
use rand::{Rng, SeedableRng};

/// x[2,K] -> MatMul W1 + b1 -> Rescale -> Relu -> MatMul W2 + b2 -> Rescale(saturating) -> Transpose.
pub fn two_layer(seed: u64, k: usize, h: usize, n: usize) -> QGraph {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut t = |shape: &[usize], lo: i64, hi: i64| {
        let n: usize = shape.iter().product();
        Tensor::new(shape.to_vec(), (0..n).map(|_| rng.gen_range(lo..hi)).collect()).unwrap()
    };
    let v = |name: &str, shape: &[usize], scale: i32, bits: u32, source: Source| QValue {
        name: name.into(),
        shape: shape.to_vec(),
        format: FixedFormat { scale, bits },
        source,
    };
    let konst = |tensor: Tensor| Source::Const { tensor, param: true };
    let node = |i: usize| Source::Node { index: i };
    QGraph {
        values: vec![
            v("x", &[2, k], 8, 12, Source::Input { index: 0 }),
            v("w1", &[k, h], 8, 9, konst(t(&[k, h], -256, 256))),
            v("b1", &[h], 16, 20, konst(t(&[h], -50_000, 50_000))),
            v("acc1", &[2, h], 16, 30, node(0)),
            v("h1", &[2, h], 8, 12, node(1)),
            v("r1", &[2, h], 8, 12, node(2)),
            v("w2", &[h, n], 8, 9, konst(t(&[h, n], -256, 256))),
            v("b2", &[n], 16, 20, konst(t(&[n], -50_000, 50_000))),
            v("acc2", &[2, n], 16, 30, node(3)),
            // 6 bits out: some outputs saturate, exercising both clamp directions.
            v("y", &[2, n], 6, 6, node(4)),
            v("yt", &[n, 2], 6, 6, node(5)),
        ],
        nodes: vec![
            QNode { name: "fc1".into(), op: QOp::MatMul, inputs: vec![0, 1, 2], output: 3 },
            QNode {
                name: "fc1/rescale".into(),
                op: QOp::Rescale { shift: 8, bits: 12 },
                inputs: vec![3],
                output: 4,
            },
            QNode { name: "relu".into(), op: QOp::Relu, inputs: vec![4], output: 5 },
            QNode { name: "fc2".into(), op: QOp::MatMul, inputs: vec![5, 6, 7], output: 8 },
            QNode {
                name: "fc2/rescale".into(),
                op: QOp::Rescale { shift: 10, bits: 6 },
                inputs: vec![8],
                output: 9,
            },
            QNode { name: "t".into(), op: QOp::Transpose { perm: vec![1, 0] }, inputs: vec![9], output: 10 },
        ],
        inputs: vec![0],
        outputs: vec![10],
    }
}

pub fn layout_for(g: &QGraph, seed: u64) -> Layout {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let shape = g.values[g.inputs[0]].shape.clone();
    let n: usize = shape.iter().product();
    let x = Tensor::new(shape, (0..n).map(|_| rng.gen_range(-2048..2048)).collect()).unwrap();
    let trace = g.eval_trace(&[x]).unwrap();
    build_layout(g, &trace, model_commitment(g).unwrap(), PLAIN, 8).unwrap()
}

/// Runs the MockProver on a layout; `Err` names the first failure.
pub fn verify(l: Layout) -> Result<(), String> {
    let k = l.k();
    let c = ModelCircuit::new(l);
    let prover = MockProver::run(k, &c, c.instances()).map_err(|e| e.to_string())?;
    prover.verify().map_err(|e| format!("{} failures, first: {:?}", e.len(), e.first()))
}

/// Adds one to each listed cell of `honest` in turn: every such layout must fail verification
/// (`context` prefixes the message naming the cell).
pub fn assert_tampers_rejected(honest: &Layout, cases: &[(&str, Pos)], context: &str) {
    for &(what, pos) in cases {
        let mut l = honest.clone();
        let v = l.get(pos);
        l.set(pos, v + Fr::one());
        assert!(verify(l).is_err(), "{context}tampered {what} was accepted");
    }
}

#[test]
fn honest_witness_passes_and_matches_eval() {
    let g = two_layer(1, 20, 12, 5);
    let l = layout_for(&g, 2);
    // Outputs are public: commitment first, then y transposed, exactly as eval computed them.
    assert_eq!(l.instance.len(), 1 + 10);
    let saturated = l.lanes[4].iter().chain(&l.lanes[5]).filter(|v| **v == Fr::one()).count();
    assert!(saturated > 0, "the test graph should exercise saturation");
    verify(l).unwrap();
}

/// Finds the first row where `gate`'s selector is on.
fn first_row(l: &Layout, gate: poai_circuits::halo2::layout::Gate) -> usize {
    l.selectors[gate as usize].iter().position(|&b| b).unwrap()
}

#[test]
fn one_tampered_cell_is_rejected() {
    use poai_circuits::halo2::layout::Gate;
    let g = two_layer(3, 20, 12, 5);
    let honest = layout_for(&g, 4);
    let mv = first_row(&honest, Gate::Mv);
    let first = first_row(&honest, Gate::MvFirst);
    let rs = first_row(&honest, Gate::Rescale);
    let relu = first_row(&honest, Gate::Relu);
    let out = honest.instance_cells[3].0;
    let cases: Vec<(&str, Pos)> = vec![
        ("mat-vec input copy", Pos::Lane(0, mv)),
        ("mat-vec accumulator", Pos::Lane(4, mv + 3)),
        ("first mat-vec row (bias + products)", Pos::Lane(6, first)),
        ("first mat-vec row input", Pos::Lane(2, first)),
        ("rescale quotient", Pos::Lane(1, rs)),
        ("rescale remainder", Pos::Lane(2, rs)),
        ("rescale output", Pos::Lane(3, rs)),
        ("rescale top flag", Pos::Lane(4, rs)),
        ("relu output", Pos::Lane(1, relu)),
        ("relu gap", Pos::Lane(2, relu)),
        ("third relu's input copy", Pos::Lane(6, relu)),
        ("third relu's output", Pos::Lane(7, relu)),
        ("third relu's gap", Pos::Lane(8, relu)),
        ("range limb", Pos::Rc(5)),
        ("public output cell", out),
        ("input", Pos::Lane(0, 1)),
    ];
    assert_tampers_rejected(&honest, &cases, "");
    // Claiming another output in the public instances fails too.
    let mut l = honest.clone();
    l.instance[4] += Fr::one();
    assert!(verify(l).is_err(), "tampered instance accepted");
    let mut l = honest;
    l.instance[0] += Fr::one();
    assert!(verify(l).is_err(), "another model commitment accepted");
}

#[test]
fn remainder_out_of_range_is_rejected_even_when_the_equation_holds() {
    use poai_circuits::halo2::layout::Gate;
    let g = two_layer(5, 8, 8, 3);
    let mut l = layout_for(&g, 6);
    // q' = q - 1, r' = r + 2^s keeps x + half = q·2^s + r true; only the range check can catch it.
    let rs = first_row(&l, Gate::Rescale);
    let q = l.get(Pos::Lane(1, rs));
    let r = l.get(Pos::Lane(2, rs));
    l.set(Pos::Lane(1, rs), q - Fr::one());
    l.set(Pos::Lane(2, rs), r + Fr::from(256));
    assert!(verify(l).is_err());
}

#[test]
fn unsupported_ops_are_reported_by_name() {
    // A constant on the left of a matmul (W @ x) has no layout yet: it is refused naming the op, the
    // constant and the node.
    let v = |name: &str, shape: Vec<usize>, source: Source| QValue {
        name: name.into(),
        shape,
        format: FixedFormat { scale: 8, bits: 30 },
        source,
    };
    let w = Tensor::new(vec![3, 2], (0..6).collect()).unwrap();
    let g = QGraph {
        values: vec![
            v("x", vec![2, 4], Source::Input { index: 0 }),
            v("w", vec![3, 2], Source::Const { tensor: w, param: true }),
            v("y", vec![3, 4], Source::Node { index: 0 }),
        ],
        nodes: vec![QNode { name: "left".into(), op: QOp::MatMul, inputs: vec![1, 0], output: 2 }],
        inputs: vec![0],
        outputs: vec![2],
    };
    let x = Tensor::new(vec![2, 4], vec![1; 8]).unwrap();
    let trace = g.eval_trace(&[x]).unwrap();
    let e = build_layout(&g, &trace, Fr::one(), PLAIN, 8).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("MatMul reading the fixed constant `w` (node `left`) has no circuit yet"), "{e}");
}

/// x[1,4,5,5] -> grouped, strided, padded Conv (+bias) -> Rescale -> MaxPool 2x2 (stride 1, pad 1) -> Relu.
pub fn conv_pool(seed: u64) -> QGraph {
    use poai_circuits::ir::{ConvParams, PoolParams};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let w = Tensor::new(vec![6, 2, 3, 3], (0..108).map(|_| rng.gen_range(-128..128)).collect()).unwrap();
    let b = Tensor::new(vec![6], (0..6).map(|_| rng.gen_range(-3000..3000)).collect()).unwrap();
    let v = |name: &str, shape: &[usize], bits: u32, source: Source| QValue {
        name: name.into(),
        shape: shape.to_vec(),
        format: FixedFormat { scale: 6, bits },
        source,
    };
    let conv = ConvParams { pads: [1, 1, 1, 1], strides: [2, 2], dilations: [1, 1], group: 2 };
    let pool = PoolParams {
        kernel: [2, 2],
        pads: [1, 1, 0, 0],
        strides: [1, 1],
        dilations: [1, 1],
        ceil_mode: false,
        count_include_pad: false,
    };
    QGraph {
        values: vec![
            v("x", &[1, 4, 5, 5], 10, Source::Input { index: 0 }),
            v("w", &[6, 2, 3, 3], 8, Source::Const { tensor: w, param: true }),
            v("b", &[6], 14, Source::Const { tensor: b, param: true }),
            v("acc", &[1, 6, 3, 3], 24, Source::Node { index: 0 }),
            v("h", &[1, 6, 3, 3], 10, Source::Node { index: 1 }),
            v("p", &[1, 6, 3, 3], 10, Source::Node { index: 2 }),
            v("y", &[1, 6, 3, 3], 10, Source::Node { index: 3 }),
        ],
        nodes: vec![
            QNode { name: "conv".into(), op: QOp::Conv(conv), inputs: vec![0, 1, 2], output: 3 },
            QNode {
                name: "rescale".into(),
                op: QOp::Rescale { shift: 6, bits: 10 },
                inputs: vec![3],
                output: 4,
            },
            QNode { name: "pool".into(), op: QOp::MaxPool(pool), inputs: vec![4], output: 5 },
            QNode { name: "relu".into(), op: QOp::Relu, inputs: vec![5], output: 6 },
        ],
        inputs: vec![0],
        outputs: vec![6],
    }
}

#[test]
fn conv_and_maxpool_pass_and_reject_tampering() {
    use poai_circuits::halo2::layout::Gate;
    let g = conv_pool(9);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(10);
    let x = Tensor::new(vec![1, 4, 5, 5], (0..100).map(|_| rng.gen_range(-512..512)).collect()).unwrap();
    let trace = g.eval_trace(&[x]).unwrap();
    let honest = build_layout(&g, &trace, model_commitment(&g).unwrap(), PLAIN, 8).unwrap();
    verify(honest.clone()).unwrap();
    // Mat-vec rows whose four input lanes are all used (a receptive field of 36 or 16 inputs).
    let mv: Vec<usize> = (0..honest.main_rows())
        .filter(|&r| honest.selectors[Gate::Mv as usize][r] && honest.selectors[Gate::Mv as usize][r + 1])
        .collect();
    let mx = first_row(&honest, Gate::Max2);
    assert_tampers_rejected(
        &honest,
        &[
            ("conv input copy", Pos::Lane(0, mv[2])),
            ("conv input copy, last lane", Pos::Lane(3, mv[1])),
            ("conv accumulator", Pos::Lane(5, mv[1])),
            ("max output", Pos::Lane(2, mx)),
            ("max gap", Pos::Lane(3, mx)),
            ("max operand copy", Pos::Lane(1, mx)),
        ],
        "",
    );
    // Claiming the smaller operand as the max: both differences set consistently, yet range checks fail.
    let mut l = honest.clone();
    let (a, b) = (l.get(Pos::Lane(0, mx)), l.get(Pos::Lane(1, mx)));
    let m = l.get(Pos::Lane(2, mx));
    let smaller = if m == a { b } else { a };
    l.set(Pos::Lane(2, mx), smaller);
    l.set(Pos::Lane(3, mx), smaller - a);
    l.set(Pos::Lane(4, mx), smaller - b);
    assert!(verify(l).is_err(), "a non-maximum was accepted");
}

/// x[1,2,4,4] -> AvgPool 3x3 pad 1 (exclude pad) ; x*x ; avg + x2 - const ; Concat ; ReduceMean over [2, 3] ;
/// ReduceSum over [1].
pub fn pool_arith(seed: u64) -> QGraph {
    use poai_circuits::ir::PoolParams;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let c = Tensor::new(vec![4, 1], (0..4).map(|_| rng.gen_range(-500..500)).collect()).unwrap();
    let v = |name: &str, shape: &[usize], bits: u32, source: Source| QValue {
        name: name.into(),
        shape: shape.to_vec(),
        format: FixedFormat { scale: 4, bits },
        source,
    };
    let s = [1, 2, 4, 4];
    let pool = PoolParams {
        kernel: [3, 3],
        pads: [1, 1, 1, 1],
        strides: [1, 1],
        dilations: [1, 1],
        ceil_mode: false,
        count_include_pad: false,
    };
    let n = |i: usize| Source::Node { index: i };
    QGraph {
        values: vec![
            v("x", &s, 10, Source::Input { index: 0 }),
            v("c", &[4, 1], 12, Source::Const { tensor: c, param: true }),
            v("avg", &s, 10, n(0)),
            v("sq", &s, 20, n(1)),
            v("sum", &s, 22, n(2)),
            v("diff", &s, 23, n(3)),
            v("cat", &[1, 4, 4, 4], 23, n(4)),
            v("mean", &[1, 4, 1, 1], 23, n(5)),
            v("total", &[1, 1, 1], 26, n(6)),
        ],
        nodes: vec![
            QNode { name: "avg".into(), op: QOp::AvgPool(pool), inputs: vec![0], output: 2 },
            QNode { name: "sq".into(), op: QOp::Mul, inputs: vec![0, 0], output: 3 },
            QNode { name: "sum".into(), op: QOp::Add, inputs: vec![2, 3], output: 4 },
            QNode { name: "diff".into(), op: QOp::Sub, inputs: vec![4, 1], output: 5 },
            QNode { name: "cat".into(), op: QOp::Concat { axis: 1 }, inputs: vec![5, 5], output: 6 },
            QNode {
                name: "mean".into(),
                op: QOp::ReduceMean { axes: vec![2, 3], keepdims: true },
                inputs: vec![6],
                output: 7,
            },
            QNode {
                name: "total".into(),
                op: QOp::ReduceSum { axes: vec![1], keepdims: false },
                inputs: vec![7],
                output: 8,
            },
        ],
        inputs: vec![0],
        outputs: vec![8, 7],
    }
}

#[test]
fn pooling_reductions_and_arithmetic_pass_and_reject_tampering() {
    use poai_circuits::halo2::layout::Gate;
    let g = pool_arith(11);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
    let x = Tensor::new(vec![1, 2, 4, 4], (0..32).map(|_| rng.gen_range(-512..512)).collect()).unwrap();
    let trace = g.eval_trace(&[x]).unwrap();
    let honest = build_layout(&g, &trace, model_commitment(&g).unwrap(), PLAIN, 8).unwrap();
    verify(honest.clone()).unwrap();
    let div = first_row(&honest, Gate::Div);
    let ar = first_row(&honest, Gate::Arith);
    assert_tampers_rejected(
        &honest,
        &[
            ("division quotient", Pos::Lane(1, div)),
            ("division remainder", Pos::Lane(2, div)),
            ("division numerator copy", Pos::Lane(0, div)),
            ("arith output", Pos::Lane(2, ar)),
            ("arith operand copy", Pos::Lane(1, ar)),
        ],
        "",
    );
    // y' = y + 1 with r' = r - 2d keeps 2n + d = 2d·y + r; the remainder range check must catch it.
    let mut l = honest;
    let dd = l.consts[0][div];
    let (y, r, s) = (l.get(Pos::Lane(1, div)), l.get(Pos::Lane(2, div)), l.get(Pos::Lane(3, div)));
    l.set(Pos::Lane(1, div), y + Fr::one());
    l.set(Pos::Lane(2, div), r - dd - dd);
    l.set(Pos::Lane(3, div), s + dd + dd);
    assert!(verify(l).is_err(), "an off-by-one quotient was accepted");
}

/// x[1,3,8] -> Sigmoid table ; x·xᵀ-style activation matmul ; Softmax ; LayerNorm.
pub fn attention_like() -> QGraph {
    attention_like_interp(0)
}

/// [`attention_like`] with both tables (sigmoid and softmax's exp) interpolating `interp` low bits.
pub fn attention_like_interp(interp: u32) -> QGraph {
    use poai_circuits::ir::{NonLinear, TableSpec};
    let v = |name: &str, shape: &[usize], scale: i32, bits: u32, i: usize| QValue {
        name: name.into(),
        shape: shape.to_vec(),
        format: FixedFormat { scale, bits },
        source: Source::Node { index: i },
    };
    let sig = TableSpec {
        func: NonLinear::Sigmoid,
        in_scale: 6,
        in_bits: 8,
        out_scale: 7,
        out_bits: 9,
        interp_bits: interp,
    };
    let exp = TableSpec {
        func: NonLinear::Exp,
        in_scale: 6,
        in_bits: 9,
        out_scale: 10,
        out_bits: 12,
        interp_bits: interp,
    };
    QGraph {
        values: vec![
            QValue {
                name: "x".into(),
                shape: vec![1, 3, 8],
                format: FixedFormat { scale: 6, bits: 8 },
                source: Source::Input { index: 0 },
            },
            v("s", &[1, 3, 8], 7, 9, 0),
            v("st", &[1, 8, 3], 7, 9, 1),
            v("g", &[1, 3, 3], 14, 22, 2),
            v("gr", &[1, 3, 3], 6, 8, 3),
            v("p", &[1, 3, 3], 10, 12, 4),
            v("ln", &[1, 3, 8], 10, 12, 5),
        ],
        nodes: vec![
            QNode { name: "sig".into(), op: QOp::Table(sig), inputs: vec![0], output: 1 },
            QNode {
                name: "t".into(),
                op: QOp::Transpose { perm: vec![0, 2, 1] },
                inputs: vec![1],
                output: 2,
            },
            QNode { name: "mm".into(), op: QOp::MatMul, inputs: vec![1, 2], output: 3 },
            QNode { name: "r".into(), op: QOp::Rescale { shift: 8, bits: 8 }, inputs: vec![3], output: 4 },
            QNode {
                name: "sm".into(),
                op: QOp::Softmax { axis: 2, exp, out_scale: 10 },
                inputs: vec![4],
                output: 5,
            },
            QNode {
                name: "ln".into(),
                op: QOp::LayerNorm { axis: 2, eps: 3, out_scale: 10 },
                inputs: vec![0],
                output: 6,
            },
        ],
        inputs: vec![0],
        outputs: vec![5, 6],
    }
}

#[test]
fn tables_softmax_layernorm_pass_and_reject_tampering() {
    use poai_circuits::halo2::layout::Gate;
    let g = attention_like();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(13);
    let x = Tensor::new(vec![1, 3, 8], (0..24).map(|_| rng.gen_range(-128..128)).collect()).unwrap();
    let trace = g.eval_trace(&[x]).unwrap();
    let honest = build_layout(&g, &trace, model_commitment(&g).unwrap(), PLAIN, 8).unwrap();
    verify(honest.clone()).unwrap();
    let vd = first_row(&honest, Gate::VarDiv);
    let sq = first_row(&honest, Gate::Sqrt);
    assert_tampers_rejected(
        &honest,
        &[
            ("table output", Pos::TabY(0)),
            ("table input", Pos::TabX(1)),
            ("softmax exp lookup", Pos::TabY(30)),
            ("division quotient", Pos::Lane(2, vd)),
            ("division divisor copy", Pos::Lane(1, vd)),
            ("square root", Pos::Lane(1, sq)),
            ("square-root gap", Pos::Lane(2, sq)),
        ],
        "",
    );
    // A square root one too high with gaps recomputed to satisfy the gate: the range checks refuse.
    let mut l = honest;
    let (v, s) = (l.get(Pos::Lane(0, sq)), l.get(Pos::Lane(1, sq)) + Fr::one());
    let (two, four) = (Fr::from(2), Fr::from(4));
    let lo = two * s - Fr::one();
    let hi = two * s + Fr::one();
    l.set(Pos::Lane(1, sq), s);
    l.set(Pos::Lane(2, sq), four * v - lo * lo);
    l.set(Pos::Lane(3, sq), hi * hi - Fr::one() - four * v);
    assert!(verify(l).is_err(), "a wrong square root was accepted");
}

#[test]
fn interpolated_tables_pass_and_reject_tampering() {
    use poai_circuits::halo2::layout::Gate;
    let g = attention_like_interp(3);
    let plain = attention_like();
    let zeros = Tensor::new(vec![1, 3, 8], vec![0; 24]).unwrap();
    let plain_trace = plain.eval_trace(&[zeros]).unwrap();
    let plain_rows =
        build_layout(&plain, &plain_trace, model_commitment(&plain).unwrap(), PLAIN, 8).unwrap().table_rows();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
    let mut honest = None;
    for _ in 0..3 {
        // Random inputs over the whole 8-bit domain, the ends (saturated table rows) included.
        let x = Tensor::new(vec![1, 3, 8], (0..24).map(|_| rng.gen_range(-128..128)).collect()).unwrap();
        let trace = g.eval_trace(&[x]).unwrap();
        // build_layout checks every chip output against eval's trace, so passing is bit-exactness.
        let l = build_layout(&g, &trace, model_commitment(&g).unwrap(), PLAIN, 8).unwrap();
        assert!(l.shape().slopes);
        verify(l.clone()).unwrap();
        honest = Some(l);
    }
    let honest = honest.unwrap();
    // 2^8 + 2^9 entries shrink eightfold.
    assert_eq!(plain_rows, 1 + 256 + 512);
    assert_eq!(honest.table_rows(), 1 + 32 + 64);
    let row = first_row(&honest, Gate::Interp);
    assert_tampers_rejected(
        &honest,
        &[
            ("input copy", Pos::Lane(0, row)),
            ("table index", Pos::Lane(1, row)),
            ("remainder", Pos::Lane(2, row)),
            ("entry", Pos::Lane(3, row)),
            ("slope", Pos::Lane(4, row)),
            ("step", Pos::Lane(5, row)),
            ("rounding remainder", Pos::Lane(6, row)),
            ("output", Pos::Lane(7, row)),
            ("looked-up slope", Pos::TabD(0)),
            ("looked-up entry", Pos::TabY(0)),
        ],
        "interpolation ",
    );
}

/// x[1,n] -> one interpolated tanh table, output public.
fn interp_tanh(n: usize) -> (QGraph, poai_circuits::ir::TableSpec) {
    use poai_circuits::ir::{NonLinear, TableSpec};
    let spec = TableSpec {
        func: NonLinear::Tanh,
        in_scale: 7,
        in_bits: 10,
        out_scale: 8,
        out_bits: 10,
        interp_bits: 3,
    };
    (one_table(spec, n), spec)
}

/// x[1,n] -> the table `spec`, its input and output in the table's formats, output public.
pub fn one_table(spec: poai_circuits::ir::TableSpec, n: usize) -> QGraph {
    let v = |name: &str, scale: i32, bits: u32, source: Source| QValue {
        name: name.into(),
        shape: vec![1, n],
        format: FixedFormat { scale, bits },
        source,
    };
    QGraph {
        values: vec![
            v("x", spec.in_scale, spec.in_bits, Source::Input { index: 0 }),
            v("y", spec.out_scale, spec.out_bits, Source::Node { index: 0 }),
        ],
        nodes: vec![QNode { name: "table".into(), op: QOp::Table(spec), inputs: vec![0], output: 1 }],
        inputs: vec![0],
        outputs: vec![1],
    }
}

use poai_circuits::halo2::forgery::{detach_range_check, redo_range_check};

/// A prover claiming another output with every gate and lookup satisfied: only the range checks of the
/// interpolation stand in the way (the public output is forged along with the witness).
#[test]
fn interpolation_range_checks_stop_consistent_forgeries() {
    use poai_circuits::halo2::layout::{fe, Gate};
    use poai_circuits::ir::table::interpolate;
    let (g, spec) = interp_tanh(6);
    let xs = vec![-512, -77, -1, 0, 93, 511];
    let trace = g.eval_trace(&[Tensor::new(vec![1, 6], xs.clone()).unwrap()]).unwrap();
    let honest = build_layout(&g, &trace, model_commitment(&g).unwrap(), PLAIN, 8).unwrap();
    verify(honest.clone()).unwrap();
    let rows: Vec<usize> =
        (0..honest.main_rows()).filter(|&r| honest.selectors[Gate::Interp as usize][r]).collect();
    assert_eq!(rows.len(), 6);
    let step = 1i64 << spec.interp_bits;
    // Sets an interpolation row (and its lookup row and public output) to the given integers.
    let forge = |l: &mut Layout, i: usize, q: i64, r: i64, t: i64, e: i64| {
        let (c, d) = spec.entry_slope(q);
        for (lane, v) in [(1, q), (2, r), (3, c), (4, d), (5, t), (6, e), (7, c + t)] {
            l.set(Pos::Lane(lane, rows[i]), fe(v));
        }
        l.set(Pos::TabX(i), fe(q));
        l.set(Pos::TabY(i), fe(c));
        l.set(Pos::TabD(i), fe(d));
        l.instance[1 + i] = fe(c + t);
        // The output's own range check, redone for the forged output.
        redo_range_check(l, Pos::Lane(7, rows[i]), c + t).unwrap();
    };
    for (i, &x) in xs.iter().enumerate() {
        let (q, r) = spec.split(x);
        let (_, d) = spec.entry_slope(q);
        let (t, e) = interpolate(d, r, spec.interp_bits);
        // The same interpolation rounded one step up or down (gate satisfied, e out of range).
        for dt in [1, -1] {
            let mut l = honest.clone();
            forge(&mut l, i, q, r, t + dt, e - dt * step);
            assert!(verify(l).is_err(), "x = {x}: a rounding off by {dt} was accepted");
        }
        // The input split across a neighbouring entry (gate and lookup satisfied, r out of range).
        for dq in [1, -1] {
            let (q2, r2) = (q + dq, r - dq * step);
            let (lo, hi) = spec.index_domain();
            if q2 < lo || q2 > hi {
                continue;
            }
            let (_, d2) = spec.entry_slope(q2);
            let (t2, e2) = interpolate(d2, r2, spec.interp_bits);
            let mut l = honest.clone();
            forge(&mut l, i, q2, r2, t2, e2);
            assert!(verify(l).is_err(), "x = {x}: a split at entry {q2} was accepted");
        }
    }
    // The forging helper itself is sound: re-forging the honest values passes.
    let mut l = honest.clone();
    let (q, r) = spec.split(xs[1]);
    let (_, d) = spec.entry_slope(q);
    let (t, e) = interpolate(d, r, spec.interp_bits);
    forge(&mut l, 1, q, r, t, e);
    verify(l).unwrap();
}

/// The output's own range check: a rounding remainder in range but not the honest one makes the step
/// `t = (d·r + 2^(f-1) - e) / 2^f` a fraction, i.e. a field element far outside any output width. With
/// every other cell consistent (the remainder's range check redone, the public output forged), only the
/// output's range check rejects it: detached from the output, the same forgery verifies.
#[test]
fn interpolation_output_range_check_stops_fractional_steps() {
    use poai_circuits::halo2::layout::{fe, Gate};
    use poai_circuits::ir::table::interpolate;
    let (g, spec) = interp_tanh(6);
    let xs = vec![-512, -77, -1, 0, 93, 511];
    let trace = g.eval_trace(&[Tensor::new(vec![1, 6], xs.clone()).unwrap()]).unwrap();
    let honest = build_layout(&g, &trace, model_commitment(&g).unwrap(), PLAIN, 8).unwrap();
    let rows: Vec<usize> =
        (0..honest.main_rows()).filter(|&r| honest.selectors[Gate::Interp as usize][r]).collect();
    assert_eq!(rows.len(), xs.len());
    let f = spec.interp_bits;
    let inverse_step = Fr::from(1u64 << f).invert().unwrap();
    for (i, &x) in xs.iter().enumerate() {
        let (q, r) = spec.split(x);
        let (c, d) = spec.entry_slope(q);
        let (_, e) = interpolate(d, r, f);
        let e2 = if e + 1 < 1 << f { e + 1 } else { e - 1 };
        let t2 = (fe(d) * fe(r) + fe(1 << (f - 1)) - fe(e2)) * inverse_step;
        let y2 = fe(c) + t2;
        let mut l = honest.clone();
        l.set(Pos::Lane(5, rows[i]), t2);
        l.set(Pos::Lane(6, rows[i]), fe(e2));
        l.set(Pos::Lane(7, rows[i]), y2);
        l.instance[1 + i] = y2;
        redo_range_check(&mut l, Pos::Lane(6, rows[i]), e2).unwrap();
        assert!(verify(l.clone()).is_err(), "x = {x}: a fractional step was accepted");
        detach_range_check(&mut l, Pos::Lane(7, rows[i])).unwrap();
        verify(l).unwrap_or_else(|err| panic!("x = {x}: the forgery fails elsewhere too: {err}"));
    }
}

/// x[1,n] (12 bits) -> LeakyRelu(alpha / 2^16) -> Clip(min, max), all at one scale.
pub fn leaky_clip(n: usize, alpha: i64, min: i64, max: i64) -> QGraph {
    let v = |name: &str, source: Source| QValue {
        name: name.into(),
        shape: vec![1, n],
        format: FixedFormat { scale: 8, bits: 12 },
        source,
    };
    QGraph {
        values: vec![
            v("x", Source::Input { index: 0 }),
            v("leaky", Source::Node { index: 0 }),
            v("clip", Source::Node { index: 1 }),
        ],
        nodes: vec![
            QNode {
                name: "leaky".into(),
                op: QOp::LeakyRelu { alpha, shift: 16 },
                inputs: vec![0],
                output: 1,
            },
            QNode { name: "clip".into(), op: QOp::Clip { min, max }, inputs: vec![1], output: 2 },
        ],
        inputs: vec![0],
        outputs: vec![2],
    }
}

#[test]
fn leaky_relu_and_clip_match_eval_and_reject_tampering() {
    use poai_circuits::halo2::layout::Gate;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
    // Small and large slopes (0.01, 0.3, 1.7, negative), bounds inside, straddling and outside the range.
    for (alpha, min, max) in
        [(655, -300, 1500), (19_661, -2048, 2047), (111_411, 0, 0), (-3277, -5000, 9000), (655, 3000, 4000)]
    {
        let g = leaky_clip(64, alpha, min, max);
        let x = Tensor::new(vec![1, 64], (0..64).map(|_| rng.gen_range(-2048..2048)).collect()).unwrap();
        let trace = g.eval_trace(std::slice::from_ref(&x)).unwrap();
        let honest = build_layout(&g, &trace, model_commitment(&g).unwrap(), PLAIN, 8).unwrap();
        // Public outputs equal eval (build_layout checks every node; the instances are the outputs).
        let want: Vec<Fr> =
            g.eval(&[x]).unwrap()[0].data().iter().map(|&v| poai_circuits::halo2::layout::fe(v)).collect();
        assert_eq!(honest.instance[1..], want[..], "alpha {alpha}, clip [{min}, {max}]");
        verify(honest.clone()).unwrap_or_else(|e| panic!("alpha {alpha}, clip [{min}, {max}]: {e}"));
        let mut l = honest.clone();
        l.instance[5] += Fr::one();
        assert!(verify(l).is_err(), "a wrong output was accepted");
        if min > 2047 {
            continue;
        }
        let relu = first_row(&honest, Gate::Relu);
        let rs = first_row(&honest, Gate::Rescale);
        let mx = first_row(&honest, Gate::Max2);
        assert_tampers_rejected(
            &honest,
            &[
                ("relu output", Pos::Lane(1, relu)),
                ("negative-part rounding", Pos::Lane(1, rs)),
                ("clip lower max", Pos::Lane(2, mx)),
                ("clip bound", Pos::Lane(1, mx)),
            ],
            &format!("alpha {alpha}: "),
        );
    }
}

#[test]
fn standalone_sqrt_matches_eval_including_zero_and_negative_inputs() {
    use poai_circuits::halo2::layout::Gate;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(22);
    for shift in [-3, 0, 2] {
        let v = |name: &str, bits: u32, source: Source| QValue {
            name: name.into(),
            shape: vec![1, 64],
            format: FixedFormat { scale: 8, bits },
            source,
        };
        let g = QGraph {
            values: vec![v("x", 12, Source::Input { index: 0 }), v("s", 62, Source::Node { index: 0 })],
            nodes: vec![QNode { name: "sqrt".into(), op: QOp::Sqrt { shift }, inputs: vec![0], output: 1 }],
            inputs: vec![0],
            outputs: vec![1],
        };
        let mut data: Vec<i64> = (0..60).map(|_| rng.gen_range(-2048..2048)).collect();
        data.extend([0, 1, 2, 2047]);
        let x = Tensor::new(vec![1, 64], data).unwrap();
        let trace = g.eval_trace(std::slice::from_ref(&x)).unwrap();
        let honest = build_layout(&g, &trace, model_commitment(&g).unwrap(), PLAIN, 8).unwrap();
        let want: Vec<Fr> =
            g.eval(&[x]).unwrap()[0].data().iter().map(|&v| poai_circuits::halo2::layout::fe(v)).collect();
        assert_eq!(honest.instance[1..], want[..], "shift {shift}");
        verify(honest.clone()).unwrap_or_else(|e| panic!("shift {shift}: {e}"));
        // The zero flag cannot excuse a non-zero value: claim sqrt(v) = 0 with z = 1 for some v > 0.
        let rows: Vec<usize> =
            (0..honest.main_rows()).filter(|&r| honest.selectors[Gate::Sqrt as usize][r]).collect();
        let r = *rows.iter().find(|&&r| honest.get(Pos::Lane(0, r)) != Fr::zero()).unwrap();
        let mut l = honest.clone();
        let v4 = Fr::from(4) * l.get(Pos::Lane(0, r));
        l.set(Pos::Lane(1, r), Fr::zero());
        l.set(Pos::Lane(4, r), Fr::one());
        l.set(Pos::Lane(2, r), v4 - Fr::one() + Fr::one());
        l.set(Pos::Lane(3, r), Fr::one() - Fr::one() - v4);
        assert!(verify(l).is_err(), "shift {shift}: a zero root of a non-zero value was accepted");
        // A flag on a non-zero root breaks z·s = 0.
        let mut l = honest.clone();
        l.set(Pos::Lane(4, r), Fr::one());
        l.set(Pos::Lane(2, r), l.get(Pos::Lane(2, r)) + Fr::one());
        assert!(verify(l).is_err(), "shift {shift}: zero flag on a non-zero root accepted");
    }
}

#[test]
fn reciprocal_matches_eval_for_every_sign_and_zero_and_rejects_tampering() {
    use poai_circuits::halo2::layout::Gate;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(23);
    for k in [8u32, 20] {
        let v = |name: &str, bits: u32, source: Source| QValue {
            name: name.into(),
            shape: vec![1, 64],
            format: FixedFormat { scale: 4, bits },
            source,
        };
        let g = QGraph {
            values: vec![v("x", 12, Source::Input { index: 0 }), v("r", 62, Source::Node { index: 0 })],
            nodes: vec![QNode {
                name: "recip".into(),
                op: QOp::Reciprocal { numerator_log2: k },
                inputs: vec![0],
                output: 1,
            }],
            inputs: vec![0],
            outputs: vec![1],
        };
        let mut data: Vec<i64> = (0..58).map(|_| rng.gen_range(-2048..2048)).collect();
        data.extend([0, 1, -1, 2047, -2048, 3]);
        let x = Tensor::new(vec![1, 64], data).unwrap();
        let trace = g.eval_trace(std::slice::from_ref(&x)).unwrap();
        let honest = build_layout(&g, &trace, model_commitment(&g).unwrap(), PLAIN, 8).unwrap();
        let want: Vec<Fr> =
            g.eval(&[x]).unwrap()[0].data().iter().map(|&v| poai_circuits::halo2::layout::fe(v)).collect();
        assert_eq!(honest.instance[1..], want[..], "k = {k}");
        verify(honest.clone()).unwrap_or_else(|e| panic!("k = {k}: {e}"));
        let vd = first_row(&honest, Gate::VarDiv);
        assert_tampers_rejected(
            &honest,
            &[
                ("quotient", Pos::Lane(2, vd)),
                ("divisor", Pos::Lane(1, vd)),
                ("output", honest.instance_cells[3].0),
            ],
            &format!("k = {k}: "),
        );
        // Claiming "x is zero" for a non-zero x (divisor |x| + 1, or the sign flipped) fails: the
        // is-zero gadget's a·z = 0 breaks.
        let arith_rows: Vec<usize> =
            (0..honest.main_rows()).filter(|&r| honest.selectors[Gate::Arith as usize][r]).collect();
        let zflag = arith_rows
            .iter()
            .copied()
            .find(|&r| honest.consts[3][r] == Fr::one() && honest.get(Pos::Lane(0, r)) != Fr::zero())
            .unwrap();
        let mut l = honest.clone();
        l.set(Pos::Lane(2, zflag), Fr::one());
        assert!(verify(l).is_err(), "k = {k}: a zero flag on a non-zero value accepted");
    }
}

#[test]
fn range_checks_split_over_several_columns_pass_and_reject_tampering() {
    let g = two_layer(13, 20, 12, 5);
    let base = layout_for(&g, 14);
    let one = base.rc_rows();
    for cols in [2u8, 3] {
        let mut honest = base.clone();
        honest.range_columns = cols;
        let splits = honest.rc_splits();
        assert_eq!(splits.len(), usize::from(cols) - 1);
        assert!(splits.iter().all(|s| honest.rc_starts.contains(s)), "splits must fall on check boundaries");
        assert!(honest.rc_rows() < one, "{cols} columns must hold fewer rows each");
        verify(honest.clone()).unwrap_or_else(|e| panic!("{cols} columns: {e}"));
        // A limb and a running sum in the last column, and the copy into it. (Not its physical row 0:
        // halo2-axiom's MockProver panics while reporting a failure there, loading the wrapped-around
        // `prev` cell of the blinding rows.)
        let last = splits[splits.len() - 1];
        let second = *honest.rc_starts.iter().find(|&&s| s > last).unwrap();
        assert_tampers_rejected(
            &honest,
            &[
                ("limb", Pos::Rc(second + 1)),
                ("running sum", Pos::Rz(second + 1)),
                ("checked value", Pos::Rz(second)),
            ],
            &format!("column {cols}: "),
        );
    }
}

#[test]
fn range_checks_of_whole_limbs_bound_the_value() {
    use poai_circuits::halo2::chips::range::range_check;
    use poai_circuits::halo2::layout::fe;
    let checked = |v: i64, bits: u32| {
        let mut l = Layout::new(8);
        // A first check (of a zero cell) keeps the tested one off range row 0, where the MockProver's
        // failure report reads the wrapped-around blinding row and panics.
        let row = l.push_row();
        range_check(&mut l, Pos::Lane(0, row), 0, 8).unwrap();
        let row = l.push_row();
        l.lanes[0][row] = fe(v);
        range_check(&mut l, Pos::Lane(0, row), v, bits).unwrap();
        verify(l)
    };
    // One row per 8-bit limb when the width is a multiple of the table's.
    for (v, bits, ok) in [
        (255, 8, true),
        (256, 8, false),
        (65_535, 16, true),
        (65_536, 16, false),
        (0, 0, true),
        (1, 0, false),
    ] {
        assert_eq!(checked(v, bits).is_ok(), ok, "{v} in {bits} bits");
    }
}

/// The rescale's overshoot check: an unsaturated value claimed clipped at the top (flag, output and
/// overshoot `t = q - hi < 0` as the gate wants them, the output's range check redone, the public output
/// forged) is rejected by `t`'s range check alone: detached from `t`, the same forgery verifies.
#[test]
fn rescale_overshoot_check_stops_a_wrong_clamp() {
    use poai_circuits::halo2::layout::{fe, Gate};
    let g = two_layer(3, 20, 12, 5);
    let honest = layout_for(&g, 4);
    // fc2/rescale saturates to 6 bits.
    let (lo, hi) = (-32i64, 31i64);
    let unclipped = |r: usize| {
        let l = &honest;
        let on = l.selectors[Gate::Rescale as usize][r] && l.consts[2][r] == fe(hi);
        let q = (lo..hi).find(|&q| l.lanes[1][r] == fe(q));
        (on && l.lanes[4][r] == Fr::zero() && l.lanes[5][r] == Fr::zero()).then_some(q).flatten()
    };
    let (row, q) = (0..honest.main_rows()).find_map(|r| unclipped(r).map(|q| (r, q))).unwrap();
    let published = honest.instance_cells.iter().find(|(p, _)| *p == Pos::Lane(3, row)).unwrap().1;
    let mut l = honest.clone();
    for (lane, v) in [(4, 1), (3, hi), (6, q - hi), (7, hi - lo)] {
        l.set(Pos::Lane(lane, row), fe(v));
    }
    redo_range_check(&mut l, Pos::Lane(7, row), hi - lo).unwrap();
    l.instance[published] = fe(hi);
    assert!(verify(l.clone()).is_err(), "q = {q} was clamped to {hi}");
    detach_range_check(&mut l, Pos::Lane(6, row)).unwrap();
    verify(l).unwrap();
}

/// The overshoot check's width holds every honest overshoot: for each input width, shift, output width
/// and range table, the extreme inputs (the overshoot grows with `|q|`) stay under it.
#[test]
fn rescale_overshoot_width_covers_every_input_of_its_width() {
    use poai_circuits::halo2::chips::elementwise::overshoot_bits;
    use poai_circuits::ir::fixed::signed_range;
    for in_bits in 1..=40u32 {
        for shift in -6..=24i32 {
            for out_bits in 1..=16u32 {
                for range_bits in [8, 10, 12, 14, 16] {
                    let w = overshoot_bits(in_bits, shift, range_bits);
                    let (lo, hi) = signed_range(out_bits);
                    let (xlo, xhi) = signed_range(in_bits);
                    for x in [i128::from(xlo), i128::from(xhi)] {
                        let q = if shift > 0 {
                            (x + (1i128 << (shift - 1))).div_euclid(1i128 << shift)
                        } else {
                            x << -shift
                        };
                        let t = (q - i128::from(hi)).max(i128::from(lo) - q).max(0);
                        assert!(
                            w <= 62 && t < 1i128 << w,
                            "in {in_bits}, shift {shift}, out {out_bits}: {t} ≥ 2^{w}"
                        );
                    }
                }
            }
        }
    }
}

/// Gate numbers reach every key file (a key's shape is a bitmask over them, and selector order follows
/// them), so the enum is append-only: these are the numbers keys were issued with. A new gate is added
/// at the end of both `Gate::ALL` and this list; renumbering one is a key-format change.
#[test]
fn gate_numbers_are_append_only() {
    use poai_circuits::halo2::layout::{Gate, GATES};
    const ISSUED: [&str; 26] = [
        "MvInit",
        "Mv",
        "Rescale",
        "Relu",
        "Affine",
        "Max2",
        "Arith",
        "Div",
        "VarDiv",
        "Sqrt",
        "Pack",
        "Absorb",
        "PoseidonFull",
        "PoseidonPartial",
        "Swap",
        "MvFirst",
        "Dot",
        "DotBlock1",
        "DotBlock2",
        "DotBlock3",
        "DotBlock4",
        "Interp",
        "RlcR",
        "RlcS",
        "Dot2",
        "Horner2",
    ];
    assert_eq!(GATES, Gate::ALL.len());
    for (i, g) in Gate::ALL.iter().enumerate() {
        assert_eq!(*g as usize, i, "Gate::ALL is in discriminant order");
    }
    let names: Vec<String> = Gate::ALL.iter().map(|g| format!("{g:?}")).collect();
    assert!(names.len() >= ISSUED.len() && names[..ISSUED.len()] == ISSUED, "gates renumbered: {names:?}");
}
