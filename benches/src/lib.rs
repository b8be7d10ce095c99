//! poai-benches: criterion benchmarks over ops and whole fixtures, and helpers to load fixtures.

use std::path::{Path, PathBuf};

use poai_circuits::halo2::VisibilitySettings;
use poai_onnx::{io, CompiledModel, OnnxError, QuantConfig};

/// The bundled fixtures, smallest first.
pub const FIXTURES: &[&str] = &["sigmoid_tanh_mlp", "attention", "mlp", "cifar_cnn", "lenet"];

/// `models/` of the repository.
pub fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models")
}

/// Compiles a fixture and returns it with its quantised sample input.
pub fn compiled_fixture(name: &str) -> Result<(CompiledModel, Vec<poai_circuits::ir::Tensor>), OnnxError> {
    let dir = models_dir().join(name);
    let cal_path = dir.join("calibration.json");
    let cal = io::read_input_file(&cal_path)?;
    let model = poai_onnx::compile(&dir.join("model.onnx"), &cal, &cal_path, &QuantConfig::default())?;
    let input = io::read_input_file(&dir.join("input.json"))?;
    let q = model.quantize_inputs(&input)?;
    Ok((model, q))
}

/// Visibility settings from the environment, defaulting to `poai setup`'s (hashed inputs, public outputs,
/// hashed parameters): `POAI_INPUT_VISIBILITY` and `POAI_OUTPUT_VISIBILITY` (`private`, `public` or
/// `hashed`), `POAI_PARAM_VISIBILITY` (`fixed` or `hashed`).
pub fn visibility_from_env() -> Result<VisibilitySettings, String> {
    let var = |name: &str| std::env::var(name).ok();
    let mut v = VisibilitySettings::default();
    if let Some(s) = var("POAI_INPUT_VISIBILITY") {
        v.input = s.parse().map_err(|e| format!("POAI_INPUT_VISIBILITY: {e}"))?;
    }
    if let Some(s) = var("POAI_OUTPUT_VISIBILITY") {
        v.output = s.parse().map_err(|e| format!("POAI_OUTPUT_VISIBILITY: {e}"))?;
    }
    if let Some(s) = var("POAI_PARAM_VISIBILITY") {
        v.params = s.parse().map_err(|e| format!("POAI_PARAM_VISIBILITY: {e}"))?;
    }
    Ok(v)
}
