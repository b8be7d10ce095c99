//! From an ONNX file to a compiled model: inspection, calibrated quantisation, and quantised inference
//! compared with the float model.

use std::path::Path;

use poai_onnx::{io, AccuracyReport, CompiledModel, Graph, OnnxError, QuantConfig};

use crate::{load, Error};

/// What `inspect` found in an ONNX file.
#[derive(Debug)]
pub enum Inspection {
    /// Every op is supported: the imported graph (ops after normalisation, shapes, parameters).
    Supported(Box<Graph>),
    /// Ops poai cannot import, as `(node name, op type)`, all of them at once.
    Unsupported(Vec<(String, String)>),
}

/// Imports an ONNX file and reports whether poai supports it. Other import failures (an unreadable or
/// malformed file) are errors.
pub fn inspect(onnx: &Path) -> Result<Inspection, Error> {
    match poai_onnx::load_onnx(onnx) {
        Ok(g) => Ok(Inspection::Supported(Box::new(g))),
        Err(OnnxError::Unsupported { ops }) => Ok(Inspection::Unsupported(ops)),
        Err(e) => Err(e.into()),
    }
}

/// A compiled model and how far its quantised outputs are from the float model's.
#[derive(Debug)]
pub struct Compilation {
    /// The compiled model (write it with [`CompiledModel::to_json`]).
    pub model: CompiledModel,
    /// Quantised against float outputs on the calibration samples.
    pub accuracy: AccuracyReport,
}

/// Imports `onnx`, calibrates it on the samples of `calibration` (an input file, several samples back
/// to back allowed), quantises it as `cfg` says and measures the result against the float model.
pub fn compile(onnx: &Path, calibration: &Path, cfg: &QuantConfig) -> Result<Compilation, Error> {
    let g = load::onnx(onnx)?;
    let data = load::input(calibration)?;
    let model = poai_onnx::compile_graph(&g, onnx, &data, calibration, cfg)?;
    let samples = io::split_samples(&data, &input_shapes(&g), calibration)?;
    let accuracy = poai_onnx::accuracy(&model, &g, &samples)?;
    Ok(Compilation { model, accuracy })
}

/// Quantised outputs of one run, and (given the float model) their error.
#[derive(Debug)]
pub struct Inference {
    /// Dequantised outputs, one flat list per model output.
    pub outputs: Vec<Vec<f32>>,
    /// Error against the float model's run on the same input, when a reference was given.
    pub accuracy: Option<AccuracyReport>,
}

/// Runs quantised inference of `model` on `input` (read from the input file at `input_path`) and, given
/// the float `reference` graph, measures the error against it.
pub fn run(
    model: &CompiledModel,
    input: &[Vec<f32>],
    input_path: &Path,
    reference: Option<&Graph>,
) -> Result<Inference, Error> {
    let outputs = model.run(input)?;
    let accuracy = match reference {
        Some(g) => {
            let samples = io::split_samples(input, &input_shapes(g), input_path)?;
            Some(poai_onnx::accuracy(model, g, &samples)?)
        }
        None => None,
    };
    Ok(Inference { outputs, accuracy })
}

fn input_shapes(g: &Graph) -> Vec<Vec<usize>> {
    g.inputs.iter().map(|(_, s)| s.clone()).collect()
}
