//! From an ONNX file to a compiled model: inspection, calibrated quantisation, and quantised inference
//! compared with the float model.

use std::path::Path;

use poai_onnx::{io, AccuracyReport, CompiledModel, Graph, OnnxError, QuantConfig};

use crate::{load, Error};

/// What `inspect` found in an ONNX file.
#[derive(Debug)]
pub enum Inspection {
    /// The model imports and quantises: `compile` will succeed (given calibration data of its shapes).
    Supported(Box<Supported>),
    /// What keeps `compile` from succeeding, every problem at once: the ops poai cannot import, as
    /// `(node name, op type)`, and each other problem (an attribute, an input type, a quantisation
    /// limit) as its message, naming the node or input and the remedy.
    Unsupported {
        /// Unsupported ops.
        ops: Vec<(String, String)>,
        /// Every other problem.
        problems: Vec<String>,
    },
}

/// A model `inspect` found supported: its graph, and what the sumcheck backend makes of it.
#[derive(Debug)]
pub struct Supported {
    /// The imported graph (ops after normalisation, shapes, parameters).
    pub graph: Graph,
    /// The sumcheck backend's packed witness, about `2^k` entries (planned from the graph quantised at
    /// default scales, no witness: cheap at any size; the calibrated scales change the remainders'
    /// widths, so the compiled model's may differ by a power of two), or why that backend does not
    /// prove the model yet.
    pub sumcheck_k: Result<u32, String>,
}

/// Imports an ONNX file and reports whether poai supports it: every import problem at once, then a
/// trial quantisation (calibrated on all-zero inputs: scales do not matter, structure does) so that
/// "supported" means `compile` succeeds. An unreadable or malformed file is an error.
pub fn inspect(onnx: &Path) -> Result<Inspection, Error> {
    let unsupported =
        |ops: Vec<(String, String)>, problems: Vec<String>| Ok(Inspection::Unsupported { ops, problems });
    let graph = match poai_onnx::load_onnx(onnx) {
        Ok(g) => g,
        Err(OnnxError::Unsupported { ops }) => return unsupported(ops, vec![]),
        Err(OnnxError::Problems { problems }) => {
            let mut ops = Vec::new();
            let mut rest = Vec::new();
            for p in problems {
                match p {
                    OnnxError::Unsupported { ops: more } => ops.extend(more),
                    other => rest.push(other.to_string()),
                }
            }
            return unsupported(ops, rest);
        }
        Err(e @ (OnnxError::Node { .. } | OnnxError::Tensor { .. } | OnnxError::MissingValue { .. })) => {
            return unsupported(vec![], vec![e.to_string()])
        }
        Err(e) => return Err(e.into()),
    };
    let zeros: Vec<poai_onnx::FTensor> =
        graph.inputs.iter().map(|(_, s)| poai_onnx::FTensor::zeros(s.clone())).collect();
    let quantized = poai_onnx::calibrate(&graph, &[zeros])
        .and_then(|cal| poai_onnx::quantize(&graph, &cal, &QuantConfig::default()));
    match quantized {
        Ok(q) => {
            let sumcheck_k = poai_prover::sumcheck::packed_vars(&q).map_err(|e| match e {
                poai_prover::ProverError::Sumcheck(inner) => inner.to_string(),
                other => other.to_string(),
            });
            Ok(Inspection::Supported(Box::new(Supported { graph, sumcheck_k })))
        }
        Err(e) => unsupported(vec![], vec![e.to_string()]),
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
