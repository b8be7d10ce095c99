//! poai-onnx: the front end. ONNX in, quantised [`poai_circuits::ir::QGraph`] out.
//!
//! 1. [`load_onnx`] decodes the protobuf, lists every unsupported op at once, folds exporter patterns and
//!    constants, fuses BatchNorm/bias/LayerNorm, and infers static shapes: a float [`Graph`] of typed
//!    [`Op`]s.
//! 2. [`calibrate`] runs the float reference ([`mod@reference`], on candle-core) over calibration samples.
//! 3. [`quantize`] assigns per-tensor power-of-two scales and lowers every op to integer ops with explicit
//!    rescales.
//! 4. [`compile`] ties these together into a [`CompiledModel`]; [`accuracy`] compares it with the float run.

mod accuracy;
mod error;
mod graph;
mod import;
pub mod io;
mod ops;
mod proto;
mod quantize;
pub mod reference;
mod supported;
mod tensor;

pub use accuracy::{accuracy, AccuracyReport};
pub use error::OnnxError;
pub use graph::{Graph, Node};
pub use import::registry::supported_ops;
pub use import::{import_bytes, load_onnx};
pub use ops::Op;
pub use poai_circuits::model::CompiledModel;
pub use quantize::{calibrate, quantize, Calibration, QuantConfig};
pub use supported::supported_ops_markdown;
pub use tensor::FTensor;

use std::path::Path;

/// Imports, calibrates and quantises a model in one step.
pub fn compile(
    onnx: &Path,
    calibration: &[Vec<f32>],
    calibration_path: &Path,
    cfg: &QuantConfig,
) -> Result<CompiledModel, OnnxError> {
    let g = load_onnx(onnx)?;
    compile_graph(&g, onnx, calibration, calibration_path, cfg)
}

/// [`compile`] for an already imported graph.
pub fn compile_graph(
    g: &Graph,
    onnx: &Path,
    calibration: &[Vec<f32>],
    calibration_path: &Path,
    cfg: &QuantConfig,
) -> Result<CompiledModel, OnnxError> {
    let shapes: Vec<Vec<usize>> = g.inputs.iter().map(|(_, s)| s.clone()).collect();
    let samples = io::split_samples(calibration, &shapes, calibration_path)?;
    let cal = calibrate(g, &samples)?;
    let q = quantize(g, &cal, cfg)?;
    let source = onnx.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(CompiledModel::new(source, *cfg, samples.len(), cal.max_abs, q)?)
}

/// Rebuilds a compiled model from its source graph with the settings and calibrated ranges recorded in
/// `compiled` (no calibration data needed). An auditor compares the result's commitment with the one a
/// proof carries: equal commitments mean the proof's model is exactly this ONNX file, quantised as stated.
pub fn reproduce(g: &Graph, compiled: &CompiledModel) -> Result<CompiledModel, OnnxError> {
    let cal = Calibration { max_abs: compiled.calibration.clone(), samples: compiled.calibration_samples };
    let q = quantize(g, &cal, &compiled.settings)?;
    Ok(CompiledModel::new(
        compiled.source.clone(),
        compiled.settings,
        compiled.calibration_samples,
        cal.max_abs,
        q,
    )?)
}
