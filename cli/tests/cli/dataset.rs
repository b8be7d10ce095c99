//! Committed datasets end to end: `dataset commit`, membership and accuracy keys, proofs, verification,
//! tampering, and `audit --dataset`.

use std::path::Path;

use serde_json::{json, Value};

use crate::{fails_with, models, p, poai, stderr, succeeds};

/// Sixteen deterministic input values of row `i` in [-1, 1].
fn row_input(i: usize) -> Vec<f64> {
    (0..16).map(|j| (((i * 16 + j) as f64) * 0.7).sin()).collect()
}

/// First index of the largest value.
fn first_argmax(v: &[f64]) -> usize {
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    v.iter().position(|&x| x == max).unwrap()
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn json_out(o: &std::process::Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_default()
}

#[test]
fn dataset_membership_and_accuracy_prove_verify_and_audit() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let d = |name: &str| dir.path().join(name);
    let m = models().join("sigmoid_tanh_mlp");
    let (run, fails) = (succeeds, fails_with);
    let onnx = m.join("model.onnx");
    run(&["compile", p(&onnx), "--calibration", p(&m.join("calibration.json")), "-o", p(&d("m.poai"))]);

    // Predictions of the quantised model on five rows; rows 0, 2, 4 are labelled with their prediction,
    // rows 1 and 3 with another class, so an honest count over 1..3 is exactly 1.
    let mut lines = String::new();
    let mut classes = 0;
    for i in 0..5 {
        std::fs::write(d("x.json"), json!({ "input_data": [row_input(i)] }).to_string()).unwrap();
        let out = json_out(&run(&["run", p(&d("m.poai")), "--input", p(&d("x.json")), "--json"]));
        let y: Vec<f64> = serde_json::from_value(out["outputs"][0].clone()).unwrap();
        classes = y.len();
        let pred = first_argmax(&y);
        let label = if i % 2 == 0 { pred } else { (pred + 1) % y.len() };
        lines.push_str(&json!({ "input": row_input(i), "label": label }).to_string());
        lines.push('\n');
    }
    assert!(classes >= 2);
    std::fs::write(d("data.jsonl"), &lines).unwrap();
    let o = run(&[
        "dataset",
        "commit",
        p(&d("data.jsonl")),
        "--compiled",
        p(&d("m.poai")),
        "-o",
        p(&d("ds.json")),
        "--json",
    ]);
    let c = json_out(&o);
    assert_eq!((c["rows"].as_u64(), c["depth"].as_u64()), (Some(5), Some(3)), "{c}");
    let root = c["root"].as_str().unwrap().to_string();

    // A malformed row names its line and writes nothing.
    let bad = lines.replacen("\"label\"", "\"lable\"", 1);
    std::fs::write(d("bad.jsonl"), bad).unwrap();
    fails(
        &["dataset", "commit", p(&d("bad.jsonl")), "--compiled", p(&d("m.poai")), "-o", p(&d("bad.json"))],
        "line 1",
    );
    assert!(!d("bad.json").exists());
    let short = lines
        .lines()
        .enumerate()
        .map(|(i, l)| if i == 2 { "{\"input\": [1, 2]}".to_string() } else { l.to_string() })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(d("short.jsonl"), short).unwrap();
    fails(
        &["dataset", "commit", p(&d("short.jsonl")), "--compiled", p(&d("m.poai")), "-o", p(&d("bad.json"))],
        "line 3",
    );
    assert!(!d("bad.json").exists());
    // A dataset file whose rows were edited no longer matches its root.
    let mut edited: Value = serde_json::from_slice(&std::fs::read(d("ds.json")).unwrap()).unwrap();
    edited["data"][1]["input"][0] = json!(edited["data"][1]["input"][0].as_i64().unwrap() + 1);
    std::fs::write(d("edited.json"), edited.to_string()).unwrap();

    run(&[
        "srs",
        "--model",
        p(&d("m.poai")),
        "--dataset",
        p(&d("ds.json")),
        "--batch",
        "2",
        "-o",
        p(&d("dev.srs")),
    ]);
    let srs = p(&d("dev.srs")).to_string();
    // `poai prove` on `row` of dataset file `ds` with proving key `pk`, plus `extra` arguments.
    let prove_row = |ds: &str, row: &str, pk: &str, extra: &[&str], out: &str| -> Vec<String> {
        let (model, ds, pk, out) = (d("m.poai"), d(ds), d(pk), d(out));
        let mut args = vec!["prove", p(&model), "--dataset", p(&ds), "--row", row, "--pk", p(&pk)];
        args.extend_from_slice(&["--srs", &srs, "-o", p(&out)]);
        args.extend_from_slice(extra);
        args.into_iter().map(String::from).collect()
    };

    // Membership: inference on row 3, the dataset root public, the row private.
    // `poai setup` for dataset file ds.json with the key files `key`.pk and `key`.vk, plus `extra`.
    let setup = |key: &str, extra: &[&str]| {
        let (model, pk, vk, ds) =
            (d("m.poai"), d(&format!("{key}.pk")), d(&format!("{key}.vk")), d("ds.json"));
        let mut args =
            vec!["setup", p(&model), "--srs", &srs, "--pk", p(&pk), "--vk", p(&vk), "--dataset", p(&ds)];
        args.extend_from_slice(extra);
        run(&args);
    };
    setup("mem", &[]);
    run(&strs(&prove_row("ds.json", "3", "mem.pk", &[], "mem.json")));
    let v = json_out(&run(&["verify", p(&d("mem.json")), "--vk", p(&d("mem.vk")), "--srs", &srs, "--json"]));
    assert_eq!(v["claims"]["dataset_root"], json!(root), "{v}");
    assert!(v["claims"].get("provider").is_none(), "unbound proof names a provider: {v}");
    // Bound to a provider: the address is the last instance; editing it (field or instance) fails.
    let addr = "0x00000000000000000000000000000000000000c4";
    run(&strs(&prove_row("ds.json", "3", "mem.pk", &["--provider", addr], "bound.json")));
    let v =
        json_out(&run(&["verify", p(&d("bound.json")), "--vk", p(&d("mem.vk")), "--srs", &srs, "--json"]));
    assert_eq!(v["claims"]["provider"], json!(addr), "{v}");
    let bound: Value = serde_json::from_slice(&std::fs::read(d("bound.json")).unwrap()).unwrap();
    let last = bound["instances"].as_array().unwrap().len() - 1;
    assert!(bound["instances"][last].as_str().unwrap().ends_with("c4"));
    for edit in ["field", "instance"] {
        let mut f = bound.clone();
        f["provider"] = json!("0x00000000000000000000000000000000000000c5");
        if edit == "instance" {
            let inst = f["instances"][last].as_str().unwrap().replace("c4", "c5");
            f["instances"][last] = json!(inst);
        }
        std::fs::write(d("t.json"), f.to_string()).unwrap();
        let o = poai(&["verify", p(&d("t.json")), "--vk", p(&d("mem.vk")), "--srs", &srs]);
        assert!(!o.status.success(), "proof rebound to another provider by editing its {edit} verified");
    }
    assert_eq!(v["claims"]["outputs"][0].as_array().map(Vec::len), Some(classes));
    assert!(v["claims"].get("input_commitments").is_none() && v["claims"].get("inputs").is_none(), "{v}");
    fails(&strs(&prove_row("edited.json", "3", "mem.pk", &[], "x.json")), "stated root");
    fails(&strs(&prove_row("ds.json", "5", "mem.pk", &[], "x.json")), "not all in the dataset");

    // Accuracy over rows 1..3: public are the root, the range and the count.
    setup("acc", &["--batch", "2"]);
    let prove_acc = |rows: &str, out: &str| {
        poai(&[
            "prove-accuracy",
            p(&d("m.poai")),
            "--dataset",
            p(&d("ds.json")),
            "--rows",
            rows,
            "--pk",
            p(&d("acc.pk")),
            "--srs",
            &srs,
            "-o",
            p(&d(out)),
        ])
    };
    let o = prove_acc("1..3", "acc.json");
    assert!(o.status.success(), "{}", stderr(&o));
    let file: Value = serde_json::from_slice(&std::fs::read(d("acc.json")).unwrap()).unwrap();
    assert_eq!(
        (file["correct"].clone(), file["total"].clone(), file["rows"].clone()),
        (json!(1), json!(2), json!([1, 3])),
        "{file}"
    );
    assert!(file.get("outputs").is_none());
    let o = run(&["verify", p(&d("acc.json")), "--vk", p(&d("acc.vk")), "--srs", &srs]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("scores 1/2"));
    assert!(!prove_acc("1..4", "x.json").status.success(), "a range of the wrong size was proved");
    assert!(!prove_acc("4..6", "x.json").status.success(), "rows past the end were proved");
    fails(&strs(&prove_row("ds.json", "1", "acc.pk", &[], "x.json")), "prove-accuracy");

    // Editing what the file claims (count, range, root) or the instance behind it fails verification.
    let verify =
        |name: &str| poai(&["verify", p(&d(name)), "--vk", p(&d("acc.vk")), "--srs", &srs]).status.success();
    for (field, value) in [
        ("correct", json!(2)),
        ("total", json!(3)),
        ("rows", json!([0, 2])),
        ("dataset_root", json!(format!("0x{}", "1".repeat(64)))),
    ] {
        let mut f = file.clone();
        f[field] = value;
        std::fs::write(d("t.json"), f.to_string()).unwrap();
        assert!(!verify("t.json"), "edited `{field}` accepted");
    }
    for (at, delta) in [(4usize, 1i64), (4, -1), (2, 1)] {
        let mut f = file.clone();
        let inst = f["instances"][at].as_str().unwrap();
        let x = i64::from_str_radix(&inst[inst.len() - 8..], 16).unwrap() + delta;
        let edited = format!("{}{:08x}", &inst[..inst.len() - 8], x);
        f["instances"][at] = json!(edited);
        if at == 4 {
            f["correct"] = json!(x);
        } else {
            f["rows"] = json!([x, 3]);
            f["total"] = json!(3 - x);
        }
        std::fs::write(d("t.json"), f.to_string()).unwrap();
        assert!(!verify("t.json"), "instance {at} off by {delta} accepted");
    }

    // The audit recomputes the root from the raw rows: the genuine file passes, one changed value fails.
    let audit = |data: &Path| {
        poai(&[
            "audit",
            p(&onnx),
            "--compiled",
            p(&d("m.poai")),
            "--proof",
            p(&d("acc.json")),
            "--vk",
            p(&d("acc.vk")),
            "--srs",
            &srs,
            "--dataset",
            p(data),
        ])
    };
    let o = audit(&d("data.jsonl"));
    assert!(o.status.success(), "{}", stderr(&o));
    let changed = lines.replacen("[0.0,", "[0.5,", 1).replacen(
        &format!("{}", row_input(4)[3]),
        &format!("{}", row_input(4)[3] + 0.25),
        1,
    );
    assert_ne!(changed, lines);
    std::fs::write(d("changed.jsonl"), changed).unwrap();
    let o = audit(&d("changed.jsonl"));
    assert!(!o.status.success() && stderr(&o).contains("is not the dataset"), "{}", stderr(&o));
}
