//! Float tensors as the front end holds them (constants, calibration data, reference outputs).

use crate::OnnxError;

/// A dense row-major `f32` tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct FTensor {
    /// Shape.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<f32>,
}

impl FTensor {
    /// A tensor of zeros.
    pub fn zeros(shape: Vec<usize>) -> Self {
        let n = shape.iter().product();
        Self { shape, data: vec![0.0; n] }
    }

    /// Builds a tensor, checking the data length.
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Result<Self, OnnxError> {
        let n: usize = shape.iter().product();
        if n != data.len() {
            return Err(OnnxError::Tensor {
                name: String::new(),
                detail: format!("shape {shape:?} needs {n} values, got {}", data.len()),
            });
        }
        Ok(Self { shape, data })
    }

    /// A rank-0 tensor.
    pub fn scalar(v: f32) -> Self {
        Self { shape: vec![], data: vec![v] }
    }

    /// Values as integers (for shape, axis and index tensors).
    pub fn as_i64(&self) -> Vec<i64> {
        self.data.iter().map(|&v| v as i64).collect()
    }

    /// Largest absolute value (0 for an empty tensor).
    pub fn max_abs(&self) -> f32 {
        self.data.iter().fold(0f32, |m, v| m.max(v.abs()))
    }
}
