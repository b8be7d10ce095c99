//! Every bundled PyTorch-exported fixture compiles, and its quantised run agrees with onnxruntime.

use poai_onnx::{io, reference};

use crate::common::*;

/// Under `models/`: the bundled fixtures, and exporter-shaped ones from `models/generate_real.py`
/// (a batch-first GRU classifier, a 1-D keyword-spotting CNN, Hugging Face's ViT, GPT-2 and BERT over
/// token ids).
const FIXTURES: &[&str] = &[
    "mlp",
    "lenet",
    "cifar_cnn",
    "attention",
    "sigmoid_tanh_mlp",
    "digits_cnn",
    "real/gru_classifier",
    "real/kws_conv1d",
    "real/vit_tiny",
    "real/gpt2_tiny",
    "real/bert_tiny",
];

#[test]
fn fixtures_match_onnxruntime_within_one_percent_and_argmax() {
    for name in FIXTURES {
        let dir = models_dir().join(name);
        let (g, m) = compile_dir(&dir).unwrap_or_else(|e| panic!("{name}: {e}"));
        let input = io::read_input_file(&dir.join("input.json")).unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = ort_output(&dir);
        // The float reference reproduces onnxruntime.
        let shapes: Vec<Vec<usize>> = g.inputs.iter().map(|(_, s)| s.clone()).collect();
        let sample = io::split_samples(&input, &shapes, &dir).unwrap_or_else(|e| panic!("{e}"));
        let float = reference::run_outputs(&g, &sample[0]).unwrap_or_else(|e| panic!("{name}: {e}"));
        let fdiff = max_abs_diff(&float[0].data, &want);
        assert!(fdiff <= 1e-4 * (1.0 + range(&want)), "{name}: float reference off onnxruntime by {fdiff}");
        // The quantised model stays within 1% of the output range and agrees in argmax.
        let got = m.run(&input).unwrap_or_else(|e| panic!("{name}: {e}"));
        let diff = max_abs_diff(&got[0], &want);
        assert!(diff <= 0.01 * range(&want), "{name}: quantised error {diff} > 1% of range {}", range(&want));
        assert_eq!(argmax(&got[0]), argmax(&want), "{name}: argmax differs");
        // Over all calibration samples as well.
        let cal = io::read_input_file(&dir.join("calibration.json")).unwrap_or_else(|e| panic!("{e}"));
        let samples = io::split_samples(&cal, &shapes, &dir).unwrap_or_else(|e| panic!("{e}"));
        let report = poai_onnx::accuracy(&m, &g, &samples).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(report.relative_max_error() <= 0.01, "{name}: {report:?}");
        assert_eq!(report.argmax_agreement, 1.0, "{name}: {report:?}");
    }
}

#[test]
fn compile_is_deterministic_and_artifacts_round_trip() {
    let dir = models_dir().join("lenet");
    let (_, a) = compile_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    let (_, b) = compile_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(a.model_commitment, b.model_commitment);
    let bytes = a.to_json().unwrap_or_else(|e| panic!("{e}"));
    let back = poai_onnx::CompiledModel::from_json(&bytes).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, a);
}

#[test]
fn exporter_patterns_are_folded() {
    let g = poai_onnx::load_onnx(&models_dir().join("lenet/model.onnx")).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<String> = g.nodes.iter().map(|n| n.op.name()).collect();
    // BatchNorm folded into the conv, the view() chain into one Reshape, Gemm into MatMul with bias.
    assert_eq!(names.iter().filter(|n| *n == "Conv").count(), 2, "{names:?}");
    assert_eq!(names.iter().filter(|n| *n == "Reshape").count(), 1, "{names:?}");
    assert!(!names.iter().any(|n| n == "Add" || n == "Mul" || n == "Concat"), "{names:?}");
    let g =
        poai_onnx::load_onnx(&models_dir().join("attention/model.onnx")).unwrap_or_else(|e| panic!("{e}"));
    let ln = g.nodes.iter().filter(|n| n.op.name() == "LayerNorm").count();
    assert_eq!(ln, 2, "decomposed LayerNorm fused");
    let names: Vec<String> = g.nodes.iter().map(|n| n.op.name()).collect();
    assert!(
        names.contains(&"Gelu".to_string()) && !names.contains(&"Erf".to_string()),
        "erf GELU fused: {names:?}"
    );
}

/// GPT-2's causal mask arrives as `Softmax(scores + M)` with `M` folded from constants to 0 and
/// `-3.4e38`: it becomes the Softmax's 0/1 mask, so no huge constant is left to quantise, and the token
/// ids become one-hot rows for the embedding products.
#[test]
fn attention_masks_become_softmax_masks_and_token_ids_one_hot_rows() {
    let g = poai_onnx::load_onnx(&models_dir().join("real/gpt2_tiny/model.onnx"))
        .unwrap_or_else(|e| panic!("{e}"));
    let softmaxes: Vec<_> = g.nodes.iter().filter(|n| n.op.name() == "Softmax").collect();
    assert_eq!(softmaxes.len(), 2);
    for s in softmaxes {
        let keep = g.consts.get(&s.inputs[1]).unwrap_or_else(|| panic!("{}: no mask", s.name));
        assert_eq!(keep.shape, [1, 1, 16, 16]);
        // Causal: position j is kept for query i exactly when j <= i.
        assert!(keep.data.iter().enumerate().all(|(t, &k)| (k == 1.0) == (t % 16 <= t / 16)));
    }
    assert!(g.consts.values().all(|c| c.data.iter().all(|v| v.abs() < 1e30)), "a huge constant is left");
    assert_eq!(g.nodes.iter().filter(|n| n.op.name() == "OneHot").count(), 1, "the token embedding");
    // The masked_fill form, Where(keep, scores, -inf), becomes the same Softmax mask.
    let path = models_dir().join("ops/masked_fill_softmax/model.onnx");
    let g = poai_onnx::load_onnx(&path).unwrap_or_else(|e| panic!("{e}"));
    let softmax = g.nodes.iter().find(|n| n.op.name() == "Softmax").unwrap_or_else(|| panic!("no Softmax"));
    let keep = g.consts.get(&softmax.inputs[1]).unwrap_or_else(|| panic!("no mask"));
    assert!(keep.data.iter().enumerate().all(|(t, &k)| (k == 1.0) == (t % 5 <= t / 5)), "{:?}", keep.data);
    assert_eq!(g.nodes.len(), 1, "the Where and its Add are gone: {:?}", g.nodes);
}

#[test]
fn supported_ops_doc_is_current() {
    let path = models_dir().join("../docs/supported-ops.md");
    let want = poai_onnx::supported_ops_markdown();
    if std::env::var_os("POAI_REGENERATE").is_some() {
        std::fs::write(&path, &want).unwrap_or_else(|e| panic!("{e}"));
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(have, want, "docs/supported-ops.md is stale: regenerate with POAI_REGENERATE=1");
}

/// The digits CNN was trained on real data: quantised test accuracy must match the float model's.
#[test]
fn trained_digits_cnn_keeps_its_test_accuracy() {
    let dir = models_dir().join("digits_cnn");
    let (g, m) = compile_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    let text = std::fs::read_to_string(dir.join("test.jsonl")).unwrap_or_default();
    let (mut float_ok, mut quant_ok, mut agree, mut rows) = (0, 0, 0, 0);
    for line in text.lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
        let x: Vec<f32> = row["input"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_f64()).map(|v| v as f32).collect())
            .unwrap_or_default();
        let label = row["label"].as_u64().map(|l| l as usize);
        let t = poai_onnx::FTensor::new(vec![1, 1, 8, 8], x.clone()).unwrap_or_else(|e| panic!("{e}"));
        let f = reference::run_outputs(&g, &[t]).unwrap_or_else(|e| panic!("{e}"));
        let q = m.run(&[x]).unwrap_or_else(|e| panic!("{e}"));
        let (fa, qa) = (argmax(&f[0].data), argmax(&q[0]));
        float_ok += usize::from(fa == label);
        quant_ok += usize::from(qa == label);
        agree += usize::from(fa == qa);
        rows += 1;
    }
    assert_eq!(rows, 360);
    assert!(float_ok >= 340, "float model accuracy {float_ok}/{rows}");
    assert!(quant_ok + 1 >= float_ok, "quantised {quant_ok}/{rows} vs float {float_ok}/{rows}");
    assert!(agree >= rows - 1, "argmax agreement {agree}/{rows}");
    eprintln!(
        "digits_cnn test set: float {float_ok}/{rows}, quantised {quant_ok}/{rows}, agreement {agree}/{rows}"
    );
}

#[test]
fn fixture_eval_is_deterministic_across_thread_counts() {
    let dir = models_dir().join("cifar_cnn");
    let (_, m) = compile_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    let input = io::read_input_file(&dir.join("input.json")).unwrap_or_else(|e| panic!("{e}"));
    let q = m.quantize_inputs(&input).unwrap_or_else(|e| panic!("{e}"));
    let first = m.graph.eval_trace(&q).unwrap_or_else(|e| panic!("{e}"));
    for threads in [1, 2, 4] {
        let pool =
            rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap_or_else(|e| panic!("{e}"));
        let again = pool.install(|| m.graph.eval_trace(&q)).unwrap_or_else(|e| panic!("{e}"));
        assert!(first == again, "trace differs with {threads} threads");
    }
}

/// Convolution kernels get one scale per output channel: every channel's rounding error is within its
/// own range's precision (`weight_bits`), not the largest channel's, and the kernels whose channels
/// differ in range are stored wider, at the finest channel's scale.
#[test]
fn convolution_kernels_are_quantised_per_output_channel() {
    use poai_circuits::ir::Source;
    let wb = poai_onnx::QuantConfig::default().weight_bits;
    let mut widened = 0;
    for name in ["lenet", "cifar_cnn", "real/kws_conv1d"] {
        let (g, m) = compile_dir(&models_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        for n in g.nodes.iter().filter(|n| matches!(n.op, poai_onnx::Op::Conv(_))) {
            let w = &g.consts[&n.inputs[1]];
            let q = m.graph.values.iter().find(|v| v.name == n.inputs[1]).unwrap_or_else(|| panic!("{name}"));
            let Source::Const { tensor, .. } = &q.source else {
                panic!("{name}: the kernel is not constant")
            };
            let step = 2f32.powi(-q.format.scale);
            let per = w.data.len() / w.shape[0];
            for (c, (fw, qw)) in w.data.chunks(per).zip(tensor.data().chunks(per)).enumerate() {
                let max = fw.iter().fold(0f32, |m, v| m.max(v.abs()));
                let err = fw.iter().zip(qw).map(|(f, &q)| (f - q as f32 * step).abs()).fold(0f32, f32::max);
                // Half a step of a scale that fits this channel's own maximum in `weight_bits`.
                let bound = max * 2f32.powi(2 - wb as i32) + 1e-7;
                assert!(err <= bound, "{name} `{}` channel {c}: error {err} > {bound}", n.name);
            }
            widened += usize::from(q.format.bits > wb);
        }
    }
    assert!(widened > 0, "no kernel had channels of different ranges");
}
