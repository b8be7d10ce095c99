//! poai-benches: criterion benchmarks over ops and whole fixtures, and helpers to load fixtures.

use std::path::{Path, PathBuf};

use poai_circuits::halo2::{LayoutGoal, ModelCircuit, VisibilitySettings};
use poai_circuits::ir::Tensor;
use poai_onnx::{io, CompiledModel, QuantConfig};

/// Errors of the bench helpers (fixture files, compilation, environment settings), as the bench binaries
/// report them.
pub type BenchError = Box<dyn std::error::Error>;

/// The bundled fixtures, smallest first.
pub const FIXTURES: &[&str] = &["sigmoid_tanh_mlp", "attention", "mlp", "cifar_cnn", "lenet"];

/// `models/` of the repository.
pub fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models")
}

/// Compiles a fixture (quantisation from [`quant_from_env`]) and returns it with its sample input, as read
/// from `input.json` (floats, one vector per model input).
pub fn fixture(name: &str) -> Result<(CompiledModel, Vec<Vec<f32>>), BenchError> {
    let dir = models_dir().join(name);
    let cal_path = dir.join("calibration.json");
    let cal = io::read_input_file(&cal_path)?;
    let model = poai_onnx::compile(&dir.join("model.onnx"), &cal, &cal_path, &quant_from_env()?)?;
    let input = io::read_input_file(&dir.join("input.json"))?;
    Ok((model, input))
}

/// [`fixture`] with its sample input quantised (what the circuit and `QGraph::eval` take).
pub fn compiled_fixture(name: &str) -> Result<(CompiledModel, Vec<Tensor>), BenchError> {
    let (model, input) = fixture(name)?;
    let q = model.quantize_inputs(&input)?;
    Ok((model, q))
}

/// The circuit `poai prove` proves for `model` on its quantised `input` (no provider bound), with the
/// visibilities and layout goal from the environment ([`visibility_from_env`], [`layout_from_env`]).
pub fn model_circuit(model: &CompiledModel, input: &[Tensor]) -> Result<ModelCircuit, BenchError> {
    let (vis, goal) = (visibility_from_env()?, layout_from_env()?);
    Ok(poai_prover::inference_circuit(model, input, vis, goal, poai_verifier::Provider::NONE)?)
}

/// Quantisation settings from the environment, defaulting to `poai compile`'s: `POAI_WEIGHT_BITS`,
/// `POAI_ACTIVATION_BITS`, `POAI_TABLE_BITS`, `POAI_INTERP_BITS` (what accuracy costs in proving time
/// and rows).
pub fn quant_from_env() -> Result<QuantConfig, String> {
    let d = QuantConfig::default();
    let table_bits = env_or("POAI_TABLE_BITS", d.table_bits)?;
    Ok(QuantConfig {
        weight_bits: env_or("POAI_WEIGHT_BITS", d.weight_bits)?,
        activation_bits: env_or("POAI_ACTIVATION_BITS", d.activation_bits)?,
        table_bits,
        interp_bits: env_or("POAI_INTERP_BITS", QuantConfig::default_interp_bits(table_bits))?,
        ..d
    })
}

/// Visibility settings from the environment, defaulting to `poai setup`'s (hashed inputs, public outputs,
/// hashed parameters): `POAI_INPUT_VISIBILITY` and `POAI_OUTPUT_VISIBILITY` (`private`, `public` or
/// `hashed`), `POAI_PARAM_VISIBILITY` (`fixed` or `hashed`).
pub fn visibility_from_env() -> Result<VisibilitySettings, String> {
    let d = VisibilitySettings::default();
    Ok(VisibilitySettings {
        input: env_or("POAI_INPUT_VISIBILITY", d.input)?,
        output: env_or("POAI_OUTPUT_VISIBILITY", d.output)?,
        params: env_or("POAI_PARAM_VISIBILITY", d.params)?,
    })
}

/// What model circuits are laid out for, from `POAI_LAYOUT` (`fast`, the default, or `narrow`: fewest
/// columns, for a batched on-chain key).
pub fn layout_from_env() -> Result<LayoutGoal, String> {
    env_or("POAI_LAYOUT", LayoutGoal::Fast)
}

/// The environment variable `name` parsed, or `default` when it is unset; a bad value names the variable.
fn env_or<T: std::str::FromStr<Err: std::fmt::Display>>(name: &str, default: T) -> Result<T, String> {
    match std::env::var(name) {
        Ok(s) => s.parse().map_err(|e| format!("{name}: {e}")),
        Err(_) => Ok(default),
    }
}
