//! End-to-end tests of the `poai` binary.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    reason = "tests fail by panicking"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn poai(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_poai"))
        .args(args)
        .output()
        .unwrap_or_else(|e| unreachable!("spawn: {e}"))
}

fn models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models")
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap_or_default()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn compile_then_run_with_json_output() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let out = dir.path().join("lenet.poai");
    let m = models().join("lenet");
    let o = poai(&[
        "compile",
        p(&m.join("model.onnx")),
        "--calibration",
        p(&m.join("calibration.json")),
        "-o",
        p(&out),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    assert!(report["model_commitment"].as_str().unwrap_or_default().starts_with("0x"));
    assert_eq!(report["accuracy"]["argmax_agreement"], 1.0);

    let o = poai(&[
        "run",
        p(&out),
        "--input",
        p(&m.join("input.json")),
        "--json",
        "--reference",
        p(&m.join("model.onnx")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    let outputs = v["outputs"][0].as_array().map(Vec::len);
    assert_eq!(outputs, Some(10));
    assert_eq!(v["model_commitment"], report["model_commitment"]);
    assert!(v["accuracy"]["max_abs_error"].as_f64().unwrap_or(1.0) < 0.01);

    let o = poai(&["run", p(&out), "--input", p(&m.join("input.json"))]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && text.contains("output 0: [") && text.contains("model commitment: 0x"),
        "{text}"
    );
}

#[test]
fn inspect_reports_ops_and_parameters() {
    let o = poai(&["inspect", p(&models().join("mlp/model.onnx")), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    assert_eq!(v["parameters"], 109_386);
    assert_eq!(v["op_counts"]["MatMul"], 3);
    assert_eq!(v["inputs"][0]["shape"], serde_json::json!([1, 784]));
}

#[test]
fn bad_inputs_fail_with_named_errors_and_leave_no_file() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let m = models().join("mlp");
    let junk = dir.path().join("junk.onnx");
    std::fs::write(&junk, b"not a model").unwrap_or_else(|e| unreachable!("{e}"));
    let out = dir.path().join("x.poai");
    let o = poai(&["compile", p(&junk), "--calibration", p(&m.join("calibration.json")), "-o", p(&out)]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("junk.onnx is not a valid ONNX model"), "{}", stderr(&o));
    assert!(!out.exists(), "no partial artifact");

    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, b"{\"input_data\": [[]]}").unwrap_or_else(|e| unreachable!("{e}"));
    let o = poai(&["compile", p(&m.join("model.onnx")), "--calibration", p(&empty), "-o", p(&out)]);
    assert!(!o.status.success() && stderr(&o).contains("calibration set is empty"), "{}", stderr(&o));
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(dir.path()).map(|d| d.count()).unwrap_or(0), 2, "no temp files left behind");

    let o = poai(&["run", p(&m.join("model.onnx")), "--input", p(&m.join("input.json"))]);
    assert!(!o.status.success() && stderr(&o).contains("is not a valid compiled model"), "{}", stderr(&o));
}

#[test]
fn srs_is_generated_loudly_insecure_and_loadable() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let out = dir.path().join("k4.srs");
    let o = poai(&["srs", "--k", "4", "-o", p(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("INSECURE"), "warning on stderr");
    assert!(String::from_utf8_lossy(&o.stdout).contains("INSECURE"));
    let srs = poai_prover::Srs::read(&out).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(srs.k(), 4);
    assert!(srs.header().insecure_dev_setup);
    let o = poai(&["srs", "--k", "40", "-o", p(&dir.path().join("big.srs"))]);
    assert!(!o.status.success() && stderr(&o).contains("k = 40 is out of range"), "{}", stderr(&o));
}
