//! Whole models on the sumcheck backend: honest proofs of the bundled models verify with the outputs
//! `QGraph::eval` computes; wrong outputs, inputs and labels are rejected; and per gate a consistent
//! forgery (a wrong witness that satisfies the gate's linear relation, with its range checks redone) is
//! stopped by the constraint named.

use std::path::Path;
use std::sync::OnceLock;

use halo2_base::halo2_proofs::halo2curves::ff::{Field, PrimeField};
use poai_circuits::ir::{
    FixedFormat, NonLinear, PoolParams, QGraph, QNode, QOp, QValue, Source, TableSpec, Tensor,
};
use poai_circuits::Fr;
use poai_sumcheck::hyperkzg::KzgKey;
use poai_sumcheck::model::{self, fill_multiplicities, ModelProof, Plan, Role, Step, Witness};
use poai_sumcheck::{CpuBackend, PoseidonTranscript, SumcheckError};

const LABEL: u64 = 0x5eed;

pub(crate) fn model(name: &str) -> (QGraph, Vec<Tensor>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models").join(name);
    let cal_path = dir.join("calibration.json");
    let cal = poai_onnx::io::read_input_file(&cal_path).unwrap();
    let cfg = poai_onnx::QuantConfig::default();
    let m = poai_onnx::compile(&dir.join("model.onnx"), &cal, &cal_path, &cfg).unwrap();
    let input = poai_onnx::io::read_input_file(&dir.join("input.json")).unwrap();
    let inputs = m.quantize_inputs(&input).unwrap();
    (m.graph, inputs)
}

/// One key for every test (the bundled models' packed polynomials have at most 2^19 entries).
pub(crate) fn key_for(graph: &QGraph) -> &'static KzgKey {
    static KEY: OnceLock<KzgKey> = OnceLock::new();
    assert!(Plan::new(graph).unwrap().packing.vars <= 19);
    KEY.get_or_init(|| KzgKey::insecure_from_secret(Fr::from(0xC0FFEE), 19))
}

/// Proves `graph` on `inputs` with the shared test key, checks that the outputs are `QGraph::eval`'s
/// and that the proof verifies; the key, the outputs and the proof.
pub(crate) fn proved(graph: &QGraph, inputs: &[Tensor]) -> (&'static KzgKey, Vec<Tensor>, ModelProof) {
    let key = key_for(graph);
    let mut t = PoseidonTranscript::new(LABEL);
    let (outputs, proof) =
        model::prove(&CpuBackend, key, (graph, &[Fr::from(LABEL)]), inputs, &mut t).unwrap();
    assert_eq!(outputs, graph.eval(inputs).unwrap(), "the outputs are eval's");
    verify(key, graph, (inputs, &outputs), &proof).unwrap();
    (key, outputs, proof)
}

pub(crate) fn verify(
    key: &KzgKey,
    graph: &QGraph,
    (inputs, outputs): (&[Tensor], &[Tensor]),
    proof: &ModelProof,
) -> Result<(), SumcheckError> {
    let mut t = PoseidonTranscript::new(LABEL);
    model::verify(&key.verifier_key(), (graph, &[Fr::from(LABEL)]), (inputs, outputs), proof, &mut t)
}

fn prove_with(key: &KzgKey, graph: &QGraph, inputs: &[Tensor], w: Witness) -> ModelProof {
    let mut t = PoseidonTranscript::new(LABEL);
    model::prove_witness(&CpuBackend, key, (graph, &[Fr::from(LABEL)]), inputs, w, &mut t).unwrap()
}

#[test]
fn bundled_models_prove_and_verify_with_the_outputs_eval_computes() {
    for name in ["mlp", "lenet", "digits_cnn", "sigmoid_tanh_mlp", "cifar_cnn", "attention"] {
        let (graph, inputs) = model(name);
        let key = key_for(&graph);
        let mut t = PoseidonTranscript::new(LABEL);
        let (outputs, proof) =
            model::prove(&CpuBackend, key, (&graph, &[Fr::from(LABEL)]), &inputs, &mut t).unwrap();
        assert_eq!(outputs, graph.eval(&inputs).unwrap(), "{name}: the outputs are eval's");
        verify(key, &graph, (&inputs, &outputs), &proof).unwrap();
        let bytes = proof.to_bytes();
        assert_eq!(ModelProof::from_bytes(&bytes).unwrap(), proof, "{name}: the bytes read back");

        let mut wrong = outputs.clone();
        wrong[0].data_mut()[0] += 1;
        assert!(verify(key, &graph, (&inputs, &wrong), &proof).is_err(), "{name}: a wrong output");
        let mut other = inputs.clone();
        other[0].data_mut()[3] += 1;
        assert!(verify(key, &graph, (&other, &outputs), &proof).is_err(), "{name}: another input");
        // Another bound value (another model commitment or provider), or one more: rejected.
        for bound in [&[Fr::ONE][..], &[Fr::from(LABEL), Fr::ZERO]] {
            let mut t = PoseidonTranscript::new(LABEL);
            let r = model::verify(&key.verifier_key(), (&graph, bound), (&inputs, &outputs), &proof, &mut t);
            assert!(r.is_err(), "{name}: other bound values {bound:?}");
        }
    }
}

/// A one-node graph `input [1, n] (bits) -> op -> output`.
pub(crate) fn one_node(
    op: QOp,
    input_shape: &[usize],
    input_bits: u32,
    output_shape: &[usize],
    output_bits: u32,
) -> QGraph {
    QGraph {
        values: vec![
            value("x", input_shape, input_bits, Source::Input { index: 0 }),
            value("y", output_shape, output_bits, Source::Node { index: 0 }),
        ],
        nodes: vec![node("gate", op, vec![0], 1)],
        inputs: vec![0],
        outputs: vec![1],
    }
}

/// A value of a hand-built graph, at scale 0.
pub(crate) fn value(name: &str, shape: &[usize], bits: u32, source: Source) -> QValue {
    QValue { name: name.into(), shape: shape.to_vec(), format: FixedFormat { scale: 0, bits }, source }
}

/// A node of a hand-built graph.
pub(crate) fn node(name: &str, op: QOp, inputs: Vec<usize>, output: usize) -> QNode {
    QNode { name: name.into(), op, inputs, output }
}

/// The packed position of entry `pos` (laid out) of limb `limb` of a committed quantity.
pub(crate) fn slot(plan: &Plan, quantity: &model::Quantity, limb: usize, pos: usize) -> usize {
    let (c, &(start, _)) = quantity
        .chunks
        .iter()
        .enumerate()
        .find(|(_, &(start, vars))| pos >= start && pos < start + (1 << vars))
        .unwrap();
    plan.packing.segments[quantity.limbs[limb][c]].offset + pos - start
}

/// A quantity's value at `pos`, from its limbs.
pub(crate) fn get(plan: &Plan, packed: &[Fr], q: &model::Quantity, pos: usize) -> i64 {
    let mut v = 0i64;
    for l in (0..q.limbs.len()).rev() {
        let repr = packed[slot(plan, q, l, pos)].to_repr();
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&repr.as_ref()[..8]);
        v = (v << q.limb_bits) + i64::from_le_bytes(bytes);
    }
    v - if pos < q.len { q.bias } else { 0 }
}

/// Writes `v` at `pos` of a quantity as its limbs would hold it (a negative encoded value leaves the
/// top limb negative, which only the range check catches).
pub(crate) fn set(plan: &Plan, packed: &mut [Fr], q: &model::Quantity, pos: usize, v: i64) {
    let mut encoded = v + if pos < q.len { q.bias } else { 0 };
    let last = q.limbs.len() - 1;
    for l in 0..=last {
        let limb = if l == last { encoded } else { encoded & ((1 << q.limb_bits) - 1) };
        let abs = Fr::from(limb.unsigned_abs());
        packed[slot(plan, q, l, pos)] = if limb < 0 { -abs } else { abs };
        encoded >>= q.limb_bits;
    }
}

pub(crate) fn output_quantity(plan: &Plan) -> model::Quantity {
    match &plan.roles[1] {
        Role::Committed(q) => q.clone(),
        other => panic!("the output is {other:?}"),
    }
}

/// Proves with the honest witness edited by `edit` (which also edits the claimed outputs), the range
/// multiplicities recounted as a forger would, and returns the verifier's answer.
pub(crate) fn forge(
    graph: &QGraph,
    inputs: &[Tensor],
    edit: impl FnOnce(&Plan, &mut Vec<Fr>, &mut Vec<Tensor>),
) -> SumcheckError {
    let key = key_for(graph);
    let mut w = Witness::new(graph, inputs).unwrap();
    verify(key, graph, (inputs, &w.outputs), &prove_with(key, graph, inputs, w.clone())).unwrap();
    edit(&w.plan, &mut w.packed, &mut w.outputs);
    fill_multiplicities(&w.plan, &mut w.packed).unwrap();
    let outputs = w.outputs.clone();
    let proof = prove_with(key, graph, inputs, w);
    verify(key, graph, (inputs, &outputs), &proof).unwrap_err()
}

pub(crate) fn tensor(shape: &[usize], data: &[i64]) -> Tensor {
    Tensor::new(shape.to_vec(), data.to_vec()).unwrap()
}

#[test]
fn rescale_forgeries_are_stopped_by_the_range_check_or_the_saturation_zerocheck() {
    // 30-bit inputs, shift 8, 16-bit outputs: q reaches 2^21, so saturation is possible. Position 3 has
    // q = 6554.
    let graph = one_node(QOp::Rescale { shift: 8, bits: 16 }, &[1, 4], 30, &[1, 4], 16);
    let inputs = vec![tensor(&[1, 4], &[123_456, -98_765, 1 << 28, 6554 * 256])];
    let plan = Plan::new(&graph).unwrap();
    let Step::Rescale(parts) = &plan.steps[0] else { panic!("{:?}", plan.steps[0]) };
    let (remainder, excess) = (parts.remainder.clone().unwrap(), parts.excess.clone().unwrap());
    let y = output_quantity(&plan);

    // y + 1 with r - 2^8: x = 2^8·q + r - 2^7 still holds, the saturation identity too; r is now
    // negative, i.e. p - (2^8 - r): no range-table entry.
    let (rem, yq) = (remainder.clone(), y.clone());
    let err = forge(&graph, &inputs, |plan, packed, outputs| {
        let (y0, r0) = (get(plan, packed, &yq, 0), get(plan, packed, &rem, 0));
        set(plan, packed, &yq, 0, y0 + 1);
        set(plan, packed, &rem, 0, r0 - (1 << 8));
        outputs[0].data_mut()[0] += 1;
    });
    assert!(err.to_string().contains("range checks"), "{err}");

    // At q = 6554 (unsaturated): y = 6553 with e = 5. σ(6553) = (2·6553 + 1)/65535 = 1/5, so q = y + e·σ(y)
    // still holds (the relation to the input passes) and e is in range; only the zerocheck
    // e·(hi - y)·(y - lo) = 0 fails.
    let (ex, yq) = (excess, y.clone());
    let err = forge(&graph, &inputs, |plan, packed, outputs| {
        assert_eq!(get(plan, packed, &yq, 3), 6554);
        set(plan, packed, &yq, 3, 6553);
        set(plan, packed, &ex, 3, 5);
        outputs[0].data_mut()[3] = 6553;
    });
    assert!(err.to_string().contains("node `gate`: round 0"), "{err}");

    // A one-cell tamper (y + 1 alone) breaks the relation to the input.
    let err = forge(&graph, &inputs, |plan, packed, outputs| {
        let y1 = get(plan, packed, &y, 1);
        set(plan, packed, &y, 1, y1 + 1);
        outputs[0].data_mut()[1] += 1;
    });
    assert!(err.to_string().contains("public value"), "{err}");
}

#[test]
fn relu_forgery_is_stopped_by_the_product_zerocheck() {
    let graph = one_node(QOp::Relu, &[1, 4], 16, &[1, 4], 16);
    let inputs = vec![tensor(&[1, 4], &[-5, 3, -7, 0])];
    let plan = Plan::new(&graph).unwrap();
    let Step::Relu { negative } = plan.steps[0].clone() else { panic!() };
    let y = output_quantity(&plan);
    // y = 1, n = 6 for q = -5: y - n = q and both in range; y·n = 6 ≠ 0.
    let err = forge(&graph, &inputs, |plan, packed, outputs| {
        packed[slot(plan, &y, 0, 0)] += Fr::ONE;
        packed[slot(plan, &negative, 0, 0)] += Fr::ONE;
        outputs[0].data_mut()[0] += 1;
    });
    assert!(err.to_string().contains("node `gate`: round 0"), "{err}");
}

#[test]
fn max_pool_forgery_is_stopped_by_the_product_zerocheck() {
    let pool = PoolParams {
        kernel: [2, 2],
        pads: [0; 4],
        strides: [2, 2],
        dilations: [1, 1],
        ceil_mode: false,
        count_include_pad: false,
    };
    let graph = one_node(QOp::MaxPool(pool), &[1, 1, 2, 4], 16, &[1, 1, 1, 2], 16);
    let inputs = vec![tensor(&[1, 1, 2, 4], &[3, 9, 1, 1, -2, 4, 1, 1])];
    let plan = Plan::new(&graph).unwrap();
    let Step::MaxPool { gaps, .. } = plan.steps[0].clone() else { panic!() };
    let y = output_quantity(&plan);
    // y = 10 with every gap one larger: y - gap_k = x_k still, every gap ≥ 0; no gap is zero.
    let err = forge(&graph, &inputs, |plan, packed, outputs| {
        packed[slot(plan, &y, 0, 0)] += Fr::ONE;
        for k in 0..4 {
            packed[slot(plan, &gaps, 0, k)] += Fr::ONE;
        }
        outputs[0].data_mut()[0] += 1;
    });
    assert!(err.to_string().contains("node `gate`: round 0"), "{err}");
    // A maximum below one of the window's values: that gap is negative, out of range.
    let err = forge(&graph, &inputs, |plan, packed, outputs| {
        packed[slot(plan, &y, 0, 0)] -= Fr::from(5);
        for k in 0..4 {
            packed[slot(plan, &gaps, 0, k)] -= Fr::from(5);
        }
        outputs[0].data_mut()[0] -= 5;
    });
    assert!(err.to_string().contains("range checks"), "{err}");
}

#[test]
fn unsupported_graphs_are_refused_by_node_with_the_remedy() {
    let graph = one_node(QOp::Sqrt { shift: 0 }, &[1, 4], 16, &[1, 4], 16);
    let err = Plan::new(&graph).unwrap_err().to_string();
    assert!(err.contains("node `gate` (Sqrt)") && err.contains("halo2 backend"), "{err}");
    // A product whose batches broadcast (one right operand for every head).
    let mut graph = one_node(QOp::MatMul, &[1, 2, 4, 8], 8, &[1, 2, 4, 8], 20);
    graph.values.push(value(
        "w",
        &[8, 8],
        8,
        Source::Const { tensor: tensor(&[8, 8], &[1; 64]), param: true },
    ));
    graph.nodes[0].inputs.push(2);
    let err = Plan::new(&graph).unwrap_err().to_string();
    assert!(err.contains("equal leading dimensions") && err.contains("halo2 backend"), "{err}");
}

#[test]
fn table_forgeries_are_stopped_by_the_lookup_or_the_rounding_range_check() {
    let spec = TableSpec {
        func: NonLinear::Sigmoid,
        in_scale: 13,
        in_bits: 16,
        out_scale: 14,
        out_bits: 16,
        interp_bits: 6,
    };
    let graph = one_node(QOp::Table(spec), &[1, 8], 16, &[1, 8], 16);
    let inputs = vec![tensor(&[1, 8], &[-32768, -9000, -100, 0, 77, 4095, 20000, 32767])];
    let plan = Plan::new(&graph).unwrap();
    let Step::Table(w) = plan.steps[0].clone() else { panic!("{:?}", plan.steps[0]) };
    let [_, _, step, rounding] = w.interpolation.clone().unwrap();

    // An entry one higher: y = c + t one higher, every value in range, the rounding untouched; the row
    // (q, c + 1, d) is not in the table.
    let entry = w.entry.clone();
    let err = forge(&graph, &inputs, |plan, packed, outputs| {
        packed[slot(plan, &entry, 0, 4)] += Fr::ONE;
        outputs[0].data_mut()[4] += 1;
    });
    assert!(err.to_string().contains("not in the table"), "{err}");

    // A step one higher with the rounding 2^f lower: d·r + 2^(f-1) = 2^f·t + e still holds; e is now
    // negative.
    let err = forge(&graph, &inputs, |plan, packed, outputs| {
        packed[slot(plan, &step, 0, 5)] += Fr::ONE;
        packed[slot(plan, &rounding, 0, 5)] -= Fr::from(64);
        outputs[0].data_mut()[5] += 1;
    });
    assert!(err.to_string().contains("range checks"), "{err}");
}

#[test]
fn mean_forgery_is_stopped_by_the_remainder_range_check() {
    let graph = one_node(QOp::ReduceMean { axes: vec![1], keepdims: true }, &[1, 5], 16, &[1, 1], 16);
    let inputs = vec![tensor(&[1, 5], &[100, -7, 3000, 12, 9])];
    let plan = Plan::new(&graph).unwrap();
    let Step::Mean { remainder, complement, divisor } = plan.steps[0].clone() else { panic!() };
    assert_eq!(divisor, 5);
    let y = output_quantity(&plan);
    // y + 1 with r - 2n and its complement + 2n: 2·S + n = 2n·y + r and r + r' = 2n - 1 still hold; r is
    // negative.
    let err = forge(&graph, &inputs, |plan, packed, outputs| {
        packed[slot(plan, &y, 0, 0)] += Fr::ONE;
        packed[slot(plan, &remainder, 0, 0)] -= Fr::from(10);
        packed[slot(plan, &complement, 0, 0)] += Fr::from(10);
        outputs[0].data_mut()[0] += 1;
    });
    assert!(err.to_string().contains("range checks"), "{err}");
}

/// Element-wise ops, a transpose and a product of two activations (attention's building blocks).
#[test]
fn elementwise_ops_a_transpose_and_a_product_of_activations_prove_and_verify() {
    let scale = tensor(&[6], &[3, -1, 0, 7, 2, -5]);
    let graph = QGraph {
        values: vec![
            value("a", &[1, 4, 6], 10, Source::Input { index: 0 }),
            value("scale", &[6], 4, Source::Const { tensor: scale, param: true }),
            value("scaled", &[1, 4, 6], 14, Source::Node { index: 0 }),
            value("sum", &[1, 4, 6], 15, Source::Node { index: 1 }),
            value("sumT", &[1, 6, 4], 15, Source::Node { index: 2 }),
            value("gram", &[1, 4, 4], 33, Source::Node { index: 3 }),
            value("diff", &[1, 4, 4], 34, Source::Node { index: 4 }),
            value("out", &[1, 4, 4], 16, Source::Node { index: 5 }),
        ],
        nodes: vec![
            node("mul", QOp::Mul, vec![0, 1], 2),
            node("add", QOp::Add, vec![2, 0], 3),
            node("transpose", QOp::Transpose { perm: vec![0, 2, 1] }, vec![3], 4),
            node("gram", QOp::MatMul, vec![3, 4], 5),
            node("sub", QOp::Sub, vec![5, 5], 6),
            node("rescale", QOp::Rescale { shift: 4, bits: 16 }, vec![5], 7),
        ],
        inputs: vec![0],
        outputs: vec![7, 6],
    };
    let data: Vec<i64> = (0..24).map(|i| (i * 37 % 101) - 50).collect();
    let inputs = vec![tensor(&[1, 4, 6], &data)];
    let (key, outputs, proof) = proved(&graph, &inputs);
    let mut wrong = outputs.clone();
    wrong[0].data_mut()[5] += 1;
    assert!(verify(key, &graph, (&inputs, &wrong), &proof).is_err(), "a wrong output");
}

/// Data movement as wirings: a strided and a reversed Slice, a Gather with repeated constant indices, a
/// Concat of three inputs (one of them twice), then a product so a committed op follows them; and a
/// consistent forgery of the Concat's sent values.
#[test]
fn slices_gathers_and_concats_move_claims_through_wirings() {
    use poai_circuits::ir::SliceAxis;
    let graph = QGraph {
        values: vec![
            value("x", &[1, 4, 6], 10, Source::Input { index: 0 }),
            value("strided", &[1, 4, 3], 10, Source::Node { index: 0 }),
            value("reversed", &[1, 2, 6], 10, Source::Node { index: 1 }),
            value("picked", &[1, 3, 6], 10, Source::Node { index: 2 }),
            value("joined", &[1, 9, 6], 10, Source::Node { index: 3 }),
            value("sq", &[1, 9, 6], 20, Source::Node { index: 4 }),
        ],
        nodes: vec![
            node(
                "strided",
                QOp::Slice { axes: vec![SliceAxis { axis: 2, start: 1, step: 2, len: 3 }] },
                vec![0],
                1,
            ),
            node(
                "reversed",
                QOp::Slice { axes: vec![SliceAxis { axis: 1, start: 3, step: -2, len: 2 }] },
                vec![0],
                2,
            ),
            node(
                "picked",
                QOp::Gather { axis: 1, indices: vec![3, 0, 0], indices_shape: vec![3] },
                vec![0],
                3,
            ),
            node("joined", QOp::Concat { axis: 1 }, vec![0, 3, 2], 4),
            node("sq", QOp::Mul, vec![4, 4], 5),
        ],
        inputs: vec![0],
        outputs: vec![1, 5],
    };
    let plan = Plan::new(&graph).unwrap();
    assert_eq!(&plan.steps[..4], &[Step::Move, Step::Move, Step::Move, Step::Concat]);
    let data: Vec<i64> = (0..24).map(|i| (i * 53 % 97) - 48).collect();
    let inputs = vec![tensor(&[1, 4, 6], &data)];
    let (key, outputs, proof) = proved(&graph, &inputs);
    // A wrong moved value (the slice's output), a wrong product, another input: rejected.
    for (o, at) in [(0, 4), (1, 40)] {
        let mut wrong = outputs.clone();
        wrong[o].data_mut()[at] += 1;
        assert!(verify(key, &graph, (&inputs, &wrong), &proof).is_err(), "output {o}[{at}]");
    }
    let mut other = inputs.clone();
    other[0].data_mut()[7] += 1;
    assert!(verify(key, &graph, (&other, &outputs), &proof).is_err(), "another input");
    // A consistent forgery of the Concat: its first region's value sent one higher, so the last
    // region's (the claim minus the others) is one lower and their sum still the claim. The first
    // input's wiring sumcheck stops it.
    // Steps run from the last node back; the Concat is node 3. It sends the two regions' values it does
    // not derive, then each wiring's closing value.
    let step = graph.nodes.len() - 1 - 3;
    assert_eq!(proof.steps[step].values.len(), 2 + 3);
    let mut forged = proof.clone();
    forged.steps[step].values[0] += Fr::ONE;
    let e = verify(key, &graph, (&inputs, &outputs), &forged).unwrap_err().to_string();
    assert!(e.contains("node `joined`: round 0: the round polynomial does not sum to the claim"), "{e}");
}

#[test]
fn a_relu_fused_into_its_rescale_is_proven_by_the_clamp_and_a_forgery_is_stopped() {
    let graph = QGraph {
        values: vec![
            value("x", &[1, 4], 30, Source::Input { index: 0 }),
            value("q", &[1, 4], 16, Source::Node { index: 0 }),
            value("y", &[1, 4], 16, Source::Node { index: 1 }),
        ],
        nodes: vec![
            node("gate", QOp::Rescale { shift: 8, bits: 16 }, vec![0], 1),
            node("relu", QOp::Relu, vec![1], 2),
        ],
        inputs: vec![0],
        outputs: vec![2],
    };
    // Position 1 has q = -32764 (clamped to 0 by the ReLU).
    let inputs = vec![tensor(&[1, 4], &[123_456, -32_764 * 256, 1 << 28, 5])];
    let plan = Plan::new(&graph).unwrap();
    assert_eq!(plan.steps[1], Step::Fused);
    let Step::Rescale(parts) = plan.steps[0].clone() else { panic!() };
    assert_eq!((parts.output, parts.range), (2, (0, 32767)));
    let excess = parts.excess.clone().unwrap();
    let Role::Committed(y) = plan.roles[2].clone() else { panic!() };
    // At q = -32764: y = 1 with e = 32767. σ(1) = (2 - 32767)/32767, so y + e·σ(y) = 2 - 32766 = q still
    // (the relation to the input passes) and every value is in range; e·(hi - y)·(y - 0) = 0 fails.
    let err = forge(&graph, &inputs, |plan, packed, outputs| {
        assert_eq!((get(plan, packed, &y, 1), get(plan, packed, &excess, 1)), (0, 32764));
        set(plan, packed, &y, 1, 1);
        set(plan, packed, &excess, 1, 32767);
        outputs[0].data_mut()[1] = 1;
    });
    assert!(err.to_string().contains("node `gate`: round 0"), "{err}");
}

#[test]
fn inputs_of_the_wrong_count_or_shape_are_refused_by_name() {
    let graph = one_node(QOp::Relu, &[1, 4], 16, &[1, 4], 16);
    let key = key_for(&graph);
    let prove = |inputs: &[Tensor]| {
        let mut t = PoseidonTranscript::new(LABEL);
        model::prove(&CpuBackend, key, (&graph, &[Fr::from(LABEL)]), inputs, &mut t).map(|_| ())
    };
    let err = prove(&[]).unwrap_err().to_string();
    assert!(err.contains("0 inputs for a model of 1"), "{err}");
    let err = prove(&[tensor(&[1, 3], &[1, 2, 3])]).unwrap_err().to_string();
    assert!(err.contains("input `x` has shape [1, 3], the model expects [1, 4]"), "{err}");
    let honest = [tensor(&[1, 4], &[-5, 3, -7, 0])];
    let mut t = PoseidonTranscript::new(LABEL);
    let (outputs, proof) =
        model::prove(&CpuBackend, key, (&graph, &[Fr::from(LABEL)]), &honest, &mut t).unwrap();
    let err =
        verify(key, &graph, (&[tensor(&[1, 3], &[1, 2, 3])], &outputs), &proof).unwrap_err().to_string();
    assert!(err.contains("input `x` has shape [1, 3]"), "{err}");
    let err = verify(key, &graph, (&honest, &[tensor(&[1, 2], &[0, 3])]), &proof).unwrap_err().to_string();
    assert!(err.contains("the outputs do not have the model's shapes"), "{err}");
}

/// Multi-head attention's products: `S = Q·Kᵀ` per head and `S·V` per head, over heads and sizes that
/// are powers of two (the stacked views are the flat layouts) and that are not (wirings move the claims).
#[test]
fn batched_products_of_activations_prove_and_verify() {
    for (heads, tokens, width) in [(2, 4, 8), (3, 5, 6)] {
        let qkv = [1, heads, tokens, width];
        let kt = [1, heads, width, tokens];
        let scores = [1, heads, tokens, tokens];
        let graph = QGraph {
            values: vec![
                value("q", &qkv, 8, Source::Input { index: 0 }),
                value("v", &qkv, 8, Source::Input { index: 1 }),
                value("kT", &kt, 8, Source::Node { index: 0 }),
                value("scores", &scores, 20, Source::Node { index: 1 }),
                value("scaled", &scores, 8, Source::Node { index: 2 }),
                value("mixed", &qkv, 20, Source::Node { index: 3 }),
            ],
            nodes: vec![
                node("transpose", QOp::Transpose { perm: vec![0, 1, 3, 2] }, vec![1], 2),
                node("qk", QOp::MatMul, vec![0, 2], 3),
                node("rescale", QOp::Rescale { shift: 8, bits: 8 }, vec![3], 4),
                node("av", QOp::MatMul, vec![4, 1], 5),
            ],
            inputs: vec![0, 1],
            outputs: vec![5, 4],
        };
        let len = heads * tokens * width;
        let q: Vec<i64> = (0..len as i64).map(|i| (i * 37 % 101) - 50).collect();
        let v: Vec<i64> = (0..len as i64).map(|i| (i * 53 % 97) - 48).collect();
        let inputs = vec![tensor(&qkv, &q), tensor(&qkv, &v)];
        let key = key_for(&graph);
        let mut t = PoseidonTranscript::new(LABEL);
        let (outputs, proof) =
            model::prove(&CpuBackend, key, (&graph, &[Fr::from(LABEL)]), &inputs, &mut t).unwrap();
        assert_eq!(outputs, graph.eval(&inputs).unwrap());
        verify(key, &graph, (&inputs, &outputs), &proof).unwrap();
        for k in 0..2 {
            let mut wrong = outputs.clone();
            let last = wrong[k].len() - 1;
            wrong[k].data_mut()[last] += 1;
            assert!(verify(key, &graph, (&inputs, &wrong), &proof).is_err(), "{heads} heads: output {k}");
        }
        let mut other = inputs.clone();
        other[1].data_mut()[len - 1] += 1;
        assert!(verify(key, &graph, (&other, &outputs), &proof).is_err(), "{heads} heads: another V");
    }
}

/// An embedding lookup as the importer lowers it: token ids one-hot encoded, then a product with the
/// table. Honest proofs verify; another token id or a wrong output is rejected.
#[test]
fn an_embedding_lookup_proves_through_one_hot_rows() {
    let table: Vec<i64> = (0..10 * 3).map(|i| (i * 29 % 61) - 30).collect();
    let graph = QGraph {
        values: vec![
            value("ids", &[1, 5], 5, Source::Input { index: 0 }),
            value("hot", &[1, 5, 10], 2, Source::Node { index: 0 }),
            value("table", &[10, 3], 8, Source::Const { tensor: tensor(&[10, 3], &table), param: true }),
            value("rows", &[1, 5, 3], 16, Source::Node { index: 1 }),
        ],
        nodes: vec![
            node("hot", QOp::OneHot { depth: 10 }, vec![0], 1),
            node("rows", QOp::MatMul, vec![1, 2], 3),
        ],
        inputs: vec![0],
        outputs: vec![3],
    };
    let plan = Plan::new(&graph).unwrap();
    assert_eq!(plan.steps[0], Step::OneHot { depth: 10 });
    let inputs = vec![tensor(&[1, 5], &[3, 0, 9, 3, 7])];
    let (key, outputs, proof) = proved(&graph, &inputs);
    assert_eq!(&outputs[0].data()[..3], &table[9..12], "row 3 of the table");
    let mut other = inputs.clone();
    other[0].data_mut()[1] = 1;
    assert!(verify(key, &graph, (&other, &outputs), &proof).is_err(), "another token id");
    let mut wrong = outputs.clone();
    wrong[0].data_mut()[4] += 1;
    assert!(verify(key, &graph, (&inputs, &wrong), &proof).is_err(), "a wrong row");
}

/// One-hot forgeries for `x = 3` (depth 8): `e_1 + e_5 - e_3` keeps the row sum 1 and the index sum 3,
/// so only the range check of the `-1` entry stops it; `e_4` is all bits and sums to one, and the index
/// sum (4, not 3) in the one-hot sumcheck stops it.
#[test]
fn one_hot_forgeries_are_stopped_by_the_bit_checks_or_the_index_sum() {
    let graph = one_node(QOp::OneHot { depth: 8 }, &[1, 1], 4, &[1, 1, 8], 2);
    let inputs = vec![tensor(&[1, 1], &[3])];
    let plan = Plan::new(&graph).unwrap();
    assert_eq!(plan.steps[0], Step::OneHot { depth: 8 });
    let o = output_quantity(&plan);
    let err = forge(&graph, &inputs, |plan, packed, outputs| {
        for (v, value) in [(1, 1), (5, 1), (3, -1)] {
            set(plan, packed, &o, v, value);
            outputs[0].data_mut()[v] = value;
        }
    });
    assert!(err.to_string().contains("range checks"), "{err}");
    let err = forge(&graph, &inputs, |plan, packed, outputs| {
        for (v, value) in [(3, 0), (4, 1)] {
            set(plan, packed, &o, v, value);
            outputs[0].data_mut()[v] = value;
        }
    });
    assert!(err.to_string().contains("node `gate`"), "{err}");
}
