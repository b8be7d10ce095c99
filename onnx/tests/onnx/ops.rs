//! Each single-op case in models/ops: the float reference equals onnxruntime, and the quantised run stays
//! within the accuracy budget of it.

use poai_onnx::{io, reference};

use crate::common::*;

#[test]
fn every_op_case_matches_onnxruntime() {
    let mut dirs: Vec<_> = std::fs::read_dir(models_dir().join("ops"))
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    dirs.sort();
    assert!(dirs.len() >= 20, "op cases missing: {}", dirs.len());
    let mut failures = Vec::new();
    for dir in dirs {
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let (g, m) = match compile_dir(&dir) {
            Ok(x) => x,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let input = io::read_input_file(&dir.join("input.json")).unwrap_or_default();
        let want = ort_output(&dir);
        let shapes: Vec<Vec<usize>> = g.inputs.iter().map(|(_, s)| s.clone()).collect();
        let sample = io::split_samples(&input, &shapes, &dir).unwrap_or_default();
        let float = reference::run_outputs(&g, &sample[0]).map(|f| f[0].data.clone()).unwrap_or_default();
        let fdiff = max_abs_diff(&float, &want);
        if fdiff > 1e-4 * (1.0 + range(&want)) {
            failures.push(format!("{name}: float reference off onnxruntime by {fdiff}"));
        }
        let got = m.run(&input).map(|o| o[0].clone()).unwrap_or_default();
        let diff = max_abs_diff(&got, &want);
        if diff > 0.01 * range(&want).max(1e-3) {
            failures.push(format!("{name}: quantised error {diff}, range {}", range(&want)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
