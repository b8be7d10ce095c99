//! poai-benches: criterion benchmarks over ops and whole fixtures, the table binaries (`prove_table`,
//! `gas_table`, `accuracy_table`), and the helpers they share to load fixtures and to take the circuit's
//! settings as command-line flags ([`CircuitArgs`]; `--help` on each binary lists them).

use std::path::{Path, PathBuf};

use poai_circuits::halo2::{LayoutGoal, ModelCircuit, ParamVisibility, Visibility, VisibilitySettings};
use poai_circuits::ir::Tensor;
use poai_onnx::{io, CompiledModel, QuantConfig};
use poai_prover::CircuitKind;

/// Errors of the bench helpers (fixture files, compilation), as the bench binaries report them.
pub type BenchError = Box<dyn std::error::Error>;

/// The bundled fixtures, smallest first.
pub const FIXTURES: &[&str] = &["sigmoid_tanh_mlp", "attention", "mlp", "cifar_cnn", "lenet"];

/// `models/` of the repository.
pub fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models")
}

/// What a bench's circuits are built with: `poai compile`'s quantisation and `poai setup`'s visibility
/// and layout, with the same flags and defaults.
#[derive(clap::Args, Clone, Debug)]
pub struct CircuitArgs {
    /// Bit width of weights (`poai compile --weight-bits`).
    #[arg(long, default_value_t = QuantConfig::default().weight_bits)]
    pub weight_bits: u32,
    /// Bit width of activations.
    #[arg(long, default_value_t = QuantConfig::default().activation_bits)]
    pub activation_bits: u32,
    /// Bit width of non-linear table inputs.
    #[arg(long, default_value_t = QuantConfig::default().table_bits)]
    pub table_bits: u32,
    /// Low table-input bits resolved by interpolation (default: table bits minus 10).
    #[arg(long)]
    pub interp_bits: Option<u32>,
    /// Inputs: `hashed`, `private` or `public`.
    #[arg(long, default_value = "hashed")]
    pub input_visibility: Visibility,
    /// Outputs: `public` or `hashed`.
    #[arg(long, default_value = "public")]
    pub output_visibility: Visibility,
    /// Parameters: `hashed` or `fixed`.
    #[arg(long, default_value = "hashed")]
    pub param_visibility: ParamVisibility,
    /// `fast` or `narrow` (fewest columns, for batched on-chain keys).
    #[arg(long, default_value = "fast")]
    pub layout: LayoutGoal,
}

impl Default for CircuitArgs {
    /// `poai compile` and `poai setup` with no flags (what the criterion benches measure).
    fn default() -> Self {
        let (q, v) = (QuantConfig::default(), VisibilitySettings::default());
        Self {
            weight_bits: q.weight_bits,
            activation_bits: q.activation_bits,
            table_bits: q.table_bits,
            interp_bits: None,
            input_visibility: v.input,
            output_visibility: v.output,
            param_visibility: v.params,
            layout: LayoutGoal::Fast,
        }
    }
}

impl CircuitArgs {
    /// The quantisation settings.
    pub fn quant(&self) -> QuantConfig {
        QuantConfig {
            weight_bits: self.weight_bits,
            activation_bits: self.activation_bits,
            table_bits: self.table_bits,
            interp_bits: self
                .interp_bits
                .unwrap_or_else(|| QuantConfig::default_interp_bits(self.table_bits)),
            ..QuantConfig::default()
        }
    }

    /// The visibility settings.
    pub fn visibility(&self) -> VisibilitySettings {
        VisibilitySettings {
            input: self.input_visibility,
            output: self.output_visibility,
            params: self.param_visibility,
        }
    }

    /// The plain (no dataset) circuit kind.
    pub fn kind(&self) -> CircuitKind {
        CircuitKind::plain(self.visibility()).with_layout(self.layout)
    }

    /// Compiles fixture `name` and returns it with its sample input, as read from `input.json` (floats,
    /// one vector per model input).
    pub fn fixture(&self, name: &str) -> Result<(CompiledModel, Vec<Vec<f32>>), BenchError> {
        let dir = models_dir().join(name);
        let cal_path = dir.join("calibration.json");
        let cal = io::read_input_file(&cal_path)?;
        let model = poai_onnx::compile(&dir.join("model.onnx"), &cal, &cal_path, &self.quant())?;
        let input = io::read_input_file(&dir.join("input.json"))?;
        Ok((model, input))
    }

    /// [`Self::fixture`] with its sample input quantised (what the circuit and `QGraph::eval` take).
    pub fn compiled_fixture(&self, name: &str) -> Result<(CompiledModel, Vec<Tensor>), BenchError> {
        let (model, input) = self.fixture(name)?;
        let q = model.quantize_inputs(&input)?;
        Ok((model, q))
    }

    /// The circuit `poai prove` proves for `model` on its quantised `input` (no provider bound).
    pub fn model_circuit(&self, model: &CompiledModel, input: &[Tensor]) -> Result<ModelCircuit, BenchError> {
        let provider = poai_verifier::Provider::NONE;
        Ok(poai_prover::inference_circuit(model, input, self.visibility(), self.layout, provider)?)
    }
}
