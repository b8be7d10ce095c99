//! End-to-end tests of the `poai` binary.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    reason = "tests fail by panicking"
)]

mod dataset;
mod sumcheck;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub(crate) fn poai(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_poai"))
        .args(args)
        .output()
        .unwrap_or_else(|e| unreachable!("spawn: {e}"))
}

pub(crate) fn models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models")
}

pub(crate) fn p(path: &Path) -> &str {
    path.to_str().unwrap_or_default()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `poai` and asserts it succeeded.
pub(crate) fn succeeds(args: &[&str]) -> Output {
    let o = poai(args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    o
}

/// Runs `poai` and asserts it failed with `needle` in its error.
pub(crate) fn fails_with(args: &[&str], needle: &str) {
    let o = poai(args);
    assert!(!o.status.success() && stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
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
    assert!(v["sumcheck_k"].as_u64().is_some_and(|k| (10..=20).contains(&k)), "{v}");
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
    let srs = poai::load::srs(&out).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(srs.k(), 4);
    assert!(srs.header().insecure_dev_setup);
    let o = poai(&["srs", "--k", "40", "-o", p(&dir.path().join("big.srs"))]);
    assert!(!o.status.success() && stderr(&o).contains("k = 40 is out of range"), "{}", stderr(&o));
}

/// compile -> srs -> setup -> prove -> verify; then every edit of the proof file, another model's key and
/// corrupted key files are rejected with a reason, and nothing panics.
#[test]
fn setup_prove_verify_and_every_mismatch_fails() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let d = |name: &str| dir.path().join(name);
    let m = models().join("sigmoid_tanh_mlp");
    let run = succeeds;
    run(&[
        "compile",
        p(&m.join("model.onnx")),
        "--calibration",
        p(&m.join("calibration.json")),
        "-o",
        p(&d("m.poai")),
    ]);
    // k = 13: this model needs 12, and the other model below (fixed parameters) 13.
    run(&["srs", "--k", "13", "-o", p(&d("dev.srs"))]);
    let o = run(&[
        "setup",
        p(&d("m.poai")),
        "--srs",
        p(&d("dev.srs")),
        "--pk",
        p(&d("m.pk")),
        "--vk",
        p(&d("m.vk")),
        "--json",
    ]);
    let keys: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    let vk_sha256 = keys["vk_sha256"].as_str().unwrap_or_default().to_string();
    assert_eq!(vk_sha256.len(), 64, "{keys}");
    run(&[
        "prove",
        p(&d("m.poai")),
        "--input",
        p(&m.join("input.json")),
        "--pk",
        p(&d("m.pk")),
        "--srs",
        p(&d("dev.srs")),
        "-o",
        p(&d("proof.json")),
    ]);
    let o = run(&["verify", p(&d("proof.json")), "--vk", p(&d("m.vk")), "--srs", p(&d("dev.srs")), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    assert_eq!(v["valid"], true);
    assert_eq!((v["vk_sha256"].as_str(), v["vk_pinned"].as_bool()), (Some(vk_sha256.as_str()), Some(false)));
    // Pinned to the key setup printed, it verifies; pinned to any other, the key file is refused.
    let (proof_path, vk_path, srs_path) = (d("proof.json"), d("m.vk"), d("dev.srs"));
    let pinned = ["verify", p(&proof_path), "--vk", p(&vk_path), "--srs", p(&srs_path)];
    run(&[&pinned[..], &["--vk-sha256", &vk_sha256.to_uppercase()]].concat());
    let other = format!("{}0", &vk_sha256[..63]);
    fails_with(&[&pinned[..], &["--vk-sha256", &other]].concat(), "not the pinned");
    // Inputs are hashed by default: the proof exposes the input's commitment, which a requester holding
    // the input recomputes with `poai commit-input`.
    let o = run(&["commit-input", p(&d("m.poai")), "--input", p(&m.join("input.json")), "--json"]);
    let c: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    assert!(c["input_commitments"][0].as_str().is_some_and(|h| h.starts_with("0x")), "{c}");
    assert_eq!(c["input_commitments"], v["claims"]["input_commitments"]);
    // Several inputs are a batch, which only a batched on-chain key proves: a clear error, no file.
    let input = m.join("input.json");
    fails_with(
        &[
            "prove",
            p(&d("m.poai")),
            "--input",
            p(&input),
            "--input",
            p(&input),
            "--pk",
            p(&d("m.pk")),
            "--srs",
            p(&d("dev.srs")),
            "-o",
            p(&d("two.json")),
        ],
        "setup-onchain --batch",
    );
    assert!(!d("two.json").exists());
    // Sixteen samples back to back are not one input: a typed error, not a commitment.
    let o = poai(&["commit-input", p(&d("m.poai")), "--input", p(&m.join("calibration.json"))]);
    assert!(!o.status.success() && stderr(&o).contains("cannot commit"), "{}", stderr(&o));

    // Public inputs and hashed outputs: the proof file states the input values and the output's
    // commitment, not the outputs. The narrow layout is recorded in the keys, and proving rebuilds it.
    run(&[
        "setup",
        p(&d("m.poai")),
        "--srs",
        p(&d("dev.srs")),
        "--pk",
        p(&d("pub.pk")),
        "--vk",
        p(&d("pub.vk")),
        "--input-visibility",
        "public",
        "--output-visibility",
        "hashed",
        "--layout",
        "narrow",
    ]);
    for key in ["pub.pk", "pub.vk"] {
        let bytes = std::fs::read(d(key)).unwrap_or_default();
        assert!(String::from_utf8_lossy(&bytes).contains(r#""layout":"narrow""#), "{key} lacks its layout");
    }
    run(&[
        "prove",
        p(&d("m.poai")),
        "--input",
        p(&m.join("input.json")),
        "--pk",
        p(&d("pub.pk")),
        "--srs",
        p(&d("dev.srs")),
        "-o",
        p(&d("pub.json")),
    ]);
    let o = run(&["verify", p(&d("pub.json")), "--vk", p(&d("pub.vk")), "--srs", p(&d("dev.srs")), "--json"]);
    let pv: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    assert_eq!(pv["claims"]["inputs"][0].as_array().map(Vec::len), Some(16), "{pv}");
    assert!(pv["claims"]["outputs"].is_null() && pv["claims"]["output_commitments"][0].is_string(), "{pv}");
    // The other key (other visibility) rejects it.
    let o = poai(&["verify", p(&d("pub.json")), "--vk", p(&d("m.vk")), "--srs", p(&d("dev.srs"))]);
    assert!(!o.status.success(), "a proof verified under a key of another visibility");
    let o = poai(&[
        "setup",
        p(&d("m.poai")),
        "--srs",
        p(&d("dev.srs")),
        "--pk",
        p(&d("x.pk")),
        "--vk",
        p(&d("x.vk")),
        "--output-visibility",
        "private",
    ]);
    assert!(!o.status.success() && stderr(&o).contains("not private"), "{}", stderr(&o));

    let proof: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d("proof.json")).unwrap_or_default()).unwrap_or_default();
    let verify_edited = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut e = proof.clone();
        edit(&mut e);
        std::fs::write(d("edited.json"), serde_json::to_vec(&e).unwrap_or_default())
            .unwrap_or_else(|e| unreachable!("{e}"));
        let o = poai(&["verify", p(&d("edited.json")), "--vk", p(&d("m.vk")), "--srs", p(&d("dev.srs"))]);
        assert!(!o.status.success(), "an edited proof file verified");
        stderr(&o)
    };
    // Another output claimed in the instances (the last hex digit changed).
    let e = verify_edited(&|e| {
        let s = e["instances"][2].as_str().unwrap_or_default().to_string();
        let last = if s.ends_with('0') { '1' } else { '0' };
        e["instances"][2] = serde_json::json!(format!("{}{last}", &s[..s.len() - 1]));
    });
    assert!(e.contains("does not verify"), "{e}");
    let e = verify_edited(&|e| e["outputs"][0][0] = serde_json::json!(0.5));
    assert!(e.contains("`outputs` does not match"), "{e}");
    let e = verify_edited(&|e| e["model_commitment"] = serde_json::json!(format!("0x{}", "1".repeat(64))));
    assert!(e.contains("model_commitment"), "{e}");
    let e = verify_edited(&|e| {
        let s = e["proof"].as_str().unwrap_or_default();
        let flipped = if &s[100..101] == "0" { "1" } else { "0" };
        e["proof"] = serde_json::json!(format!("{}{flipped}{}", &s[..100], &s[101..]));
    });
    assert!(e.contains("does not verify"), "{e}");

    // Another model's verifying key rejects this proof.
    let other = models().join("mlp");
    run(&[
        "compile",
        p(&other.join("model.onnx")),
        "--calibration",
        p(&other.join("calibration.json")),
        "-o",
        p(&d("o.poai")),
    ]);
    // Fixed parameters keep this k = 13 model inside the SRS.
    run(&[
        "setup",
        p(&d("o.poai")),
        "--srs",
        p(&d("dev.srs")),
        "--pk",
        p(&d("o.pk")),
        "--vk",
        p(&d("o.vk")),
        "--param-visibility",
        "fixed",
    ]);
    let o = poai(&["verify", p(&d("proof.json")), "--vk", p(&d("o.vk")), "--srs", p(&d("dev.srs"))]);
    assert!(!o.status.success(), "another model's key accepted the proof");
    // A key for one model cannot prove another.
    let o = poai(&[
        "prove",
        p(&d("o.poai")),
        "--input",
        p(&other.join("input.json")),
        "--pk",
        p(&d("m.pk")),
        "--srs",
        p(&d("dev.srs")),
        "-o",
        p(&d("x.json")),
    ]);
    // (With hashed parameters the key is for an architecture, and this is another one.)
    assert!(
        !o.status.success() && stderr(&o).contains("the proving key is for architecture"),
        "{}",
        stderr(&o)
    );

    // Truncated or corrupted keys and proofs: typed errors, never a panic.
    let use_key = |flag: &str, key: &str| {
        if flag == "vk" {
            poai(&["verify", p(&d("proof.json")), "--vk", p(&d(key)), "--srs", p(&d("dev.srs"))])
        } else {
            poai(&[
                "prove",
                p(&d("m.poai")),
                "--input",
                p(&m.join("input.json")),
                "--pk",
                p(&d(key)),
                "--srs",
                p(&d("dev.srs")),
                "-o",
                p(&d("x.json")),
            ])
        }
    };
    for (name, flag) in [("m.vk", "vk"), ("m.pk", "pk")] {
        let bytes = std::fs::read(d(name)).unwrap_or_default();
        for cut in [5, bytes.len() / 2, bytes.len() - 1] {
            std::fs::write(d("cut.key"), &bytes[..cut]).unwrap_or_else(|e| unreachable!("{e}"));
            let o = use_key(flag, "cut.key");
            assert!(
                !o.status.success() && !stderr(&o).contains("panicked"),
                "{name} cut at {cut}: {}",
                stderr(&o)
            );
            assert!(stderr(&o).contains("cut.key"), "the error names the file: {}", stderr(&o));
        }
        // Same length, garbage inside the halo2 body (its commitments, right after halo2's own header).
        let mut garbled = bytes.clone();
        let body = 12 + u32::from_le_bytes(bytes[8..12].try_into().unwrap_or_default()) as usize;
        for b in &mut garbled[body + 40..body + 340] {
            *b ^= 0xa5;
        }
        std::fs::write(d("garbled.key"), &garbled).unwrap_or_else(|e| unreachable!("{e}"));
        assert!(!use_key(flag, "garbled.key").status.success(), "garbled {name} accepted");
    }
    // A truncated SRS: the verifier reads only its ends, yet still notices the wrong length.
    let srs_bytes = std::fs::read(d("dev.srs")).unwrap_or_default();
    std::fs::write(d("cut.srs"), &srs_bytes[..srs_bytes.len() - 64]).unwrap_or_else(|e| unreachable!("{e}"));
    let o = poai(&["verify", p(&d("proof.json")), "--vk", p(&d("m.vk")), "--srs", p(&d("cut.srs"))]);
    assert!(!o.status.success() && stderr(&o).contains("cut.srs is not a usable SRS"), "{}", stderr(&o));
    std::fs::write(d("cut.json"), &std::fs::read(d("proof.json")).unwrap_or_default()[..50])
        .unwrap_or_else(|e| unreachable!("{e}"));
    let o = poai(&["verify", p(&d("cut.json")), "--vk", p(&d("m.vk")), "--srs", p(&d("dev.srs"))]);
    assert!(!o.status.success() && stderr(&o).contains("is not a poai proof file"), "{}", stderr(&o));

    // Call data for the generated verifier: every instance as a 32-byte word, then the proof.
    let o = run(&["calldata", p(&d("proof.json")), "-o", p(&d("call.hex")), "--json"]);
    let hexdata = std::fs::read_to_string(d("call.hex")).unwrap_or_default();
    let n_inst = proof["instances"].as_array().map(Vec::len).unwrap_or(0);
    let proof_hex = proof["proof"].as_str().unwrap_or_default();
    assert_eq!(
        hexdata.trim().len(),
        2 + 64 * n_inst + proof_hex.len(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(hexdata.trim().ends_with(proof_hex));
    // The direct Solidity verifier of this circuit exceeds EIP-170: refused, nothing written.
    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools");
    let solc = std::env::var("POAI_SOLC").unwrap_or_else(|_| p(&tools.join("bin/solc")).to_string());
    let o = poai(&[
        "evm-verifier",
        "--vk",
        p(&d("m.vk")),
        "--srs",
        p(&d("dev.srs")),
        "-o",
        p(&d("Verifier.sol")),
        "--solc",
        &solc,
    ]);
    assert!(!o.status.success() && stderr(&o).contains("cannot be deployed on mainnet"), "{}", stderr(&o));
    assert!(!d("Verifier.sol").exists());

    // Audit: the genuine ONNX file, compiled model, key and proof pass.
    let onnx = m.join("model.onnx");
    let audit = |onnx: &Path, compiled: &str, vk: &str| {
        poai(&[
            "audit",
            p(onnx),
            "--compiled",
            p(&d(compiled)),
            "--proof",
            p(&d("proof.json")),
            "--vk",
            p(&d(vk)),
            "--srs",
            p(&d("dev.srs")),
        ])
    };
    let o = audit(&onnx, "m.poai", "m.vk");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("verifies"));
    // An ONNX file that differs in one weight is rejected.
    let edited = d("edited.onnx");
    std::fs::write(&edited, onnx_with_one_weight_changed(&onnx)).unwrap_or_else(|e| unreachable!("{e}"));
    let o = audit(&edited, "m.poai", "m.vk");
    assert!(!o.status.success() && stderr(&o).contains("is not the model compiled into"), "{}", stderr(&o));
    // Another model's key (with this model's commitment written into its header) is rejected: the key is
    // recomputed, not trusted.
    let mut forged = std::fs::read(d("o.vk")).unwrap_or_default();
    let theirs = poai::VerifyingKeyFile::from_bytes(&forged).unwrap().header.model_commitment;
    let ours = poai::VerifyingKeyFile::from_bytes(&std::fs::read(d("m.vk")).unwrap_or_default())
        .unwrap()
        .header
        .model_commitment;
    let at = forged.windows(theirs.len()).position(|w| w == theirs.as_bytes()).unwrap();
    forged[at..at + ours.len()].copy_from_slice(ours.as_bytes());
    std::fs::write(d("forged.vk"), &forged).unwrap_or_else(|e| unreachable!("{e}"));
    let o = audit(&onnx, "m.poai", "forged.vk");
    assert!(!o.status.success() && stderr(&o).contains("is not the verifying key"), "{}", stderr(&o));
    // A compiled model of another ONNX file is rejected.
    let o = audit(&onnx, "o.poai", "m.vk");
    assert!(!o.status.success(), "audit accepted another compiled model");
}

/// The bytes of an ONNX file with one weight changed by 0.25 (found by its unique little-endian encoding).
fn onnx_with_one_weight_changed(onnx: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(onnx).unwrap_or_default();
    let g = poai::load::onnx(onnx).unwrap();
    let find = |needle: &[u8]| -> Vec<usize> {
        bytes.windows(needle.len()).enumerate().filter(|(_, w)| *w == needle).map(|(i, _)| i).collect()
    };
    for t in g.consts.values().filter(|t| t.data.len() > 16) {
        for &w in &t.data {
            let hits = find(&w.to_le_bytes());
            if let [at] = hits[..] {
                bytes[at..at + 4].copy_from_slice(&(w + 0.25).to_le_bytes());
                return bytes;
            }
        }
    }
    panic!("no weight with a unique encoding in {}", onnx.display())
}
