//! Shared helpers: fixture paths, files, and comparison against onnxruntime outputs.

use std::path::{Path, PathBuf};

use poai_onnx::{io, CompiledModel, QuantConfig};

pub fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models")
}

/// onnxruntime's output for the case's input.json.
pub fn ort_output(dir: &Path) -> Vec<f32> {
    let text = std::fs::read_to_string(dir.join("output.json")).unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    v["output_data"][0]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x.as_f64()).map(|x| x as f32).collect())
        .unwrap_or_default()
}

pub fn compile_dir(dir: &Path) -> Result<(poai_onnx::Graph, CompiledModel), poai_onnx::OnnxError> {
    let onnx = dir.join("model.onnx");
    let g = poai_onnx::load_onnx(&onnx)?;
    let cal_path = dir.join("calibration.json");
    let cal = io::read_input_file(&cal_path)?;
    let m = poai_onnx::compile_graph(&g, &onnx, &cal, &cal_path, &QuantConfig::default())?;
    Ok((g, m))
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "output lengths differ");
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

pub fn range(v: &[f32]) -> f32 {
    let (lo, hi) = v.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &x| (l.min(x), h.max(x)));
    hi - lo
}

pub fn argmax(v: &[f32]) -> Option<usize> {
    v.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i)
}
