//! Accuracy of the quantised model against the float reference.

use serde::{Deserialize, Serialize};

use crate::{reference, CompiledModel, FTensor, Graph, OnnxError};

/// Error of quantised outputs against float outputs, over all outputs and samples.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AccuracyReport {
    /// Samples compared.
    pub samples: usize,
    /// Largest absolute error.
    pub max_abs_error: f32,
    /// Mean absolute error.
    pub mean_abs_error: f32,
    /// `max - min` of the float outputs.
    pub output_range: f32,
    /// Fraction of (sample, output) pairs whose argmax agrees.
    pub argmax_agreement: f32,
}

impl AccuracyReport {
    /// `max_abs_error / output_range`.
    pub fn relative_max_error(&self) -> f32 {
        if self.output_range > 0.0 {
            self.max_abs_error / self.output_range
        } else {
            self.max_abs_error
        }
    }
}

fn argmax(v: &[f32]) -> Option<usize> {
    v.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i)
}

/// Compares the compiled model with the float graph on the given samples.
pub fn accuracy(
    model: &CompiledModel,
    g: &Graph,
    samples: &[Vec<FTensor>],
) -> Result<AccuracyReport, OnnxError> {
    let (mut max_err, mut sum_err, mut count, mut agree, mut pairs) = (0f32, 0f64, 0usize, 0usize, 0usize);
    let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
    for s in samples {
        let float = reference::run_outputs(g, s)?;
        let quant = model.run(&s.iter().map(|t| t.data.clone()).collect::<Vec<_>>())?;
        for (f, q) in float.iter().zip(&quant) {
            for (a, b) in f.data.iter().zip(q) {
                let e = (a - b).abs();
                max_err = max_err.max(e);
                sum_err += e as f64;
                count += 1;
                lo = lo.min(*a);
                hi = hi.max(*a);
            }
            pairs += 1;
            if argmax(&f.data) == argmax(q) {
                agree += 1;
            }
        }
    }
    Ok(AccuracyReport {
        samples: samples.len(),
        max_abs_error: max_err,
        mean_abs_error: if count > 0 { (sum_err / count as f64) as f32 } else { 0.0 },
        output_range: if hi >= lo { hi - lo } else { 0.0 },
        argmax_agreement: if pairs > 0 { agree as f32 / pairs as f32 } else { 0.0 },
    })
}
