//! Decoding ONNX protobuf messages: tensors, attributes and declared input shapes.

use onnx_protobuf::{AttributeProto, TensorProto, ValueInfoProto};

use crate::{FTensor, OnnxError};

/// Decodes an initializer or constant tensor (float, double and integer types; `raw_data` or typed fields).
pub fn tensor_from_proto(t: &TensorProto) -> Result<FTensor, OnnxError> {
    let err = |detail: String| OnnxError::Tensor { name: t.name.clone(), detail };
    if t.data_location.value() == 1 || !t.external_data.is_empty() {
        return Err(OnnxError::ExternalData { name: t.name.clone() });
    }
    let shape: Vec<usize> = t
        .dims
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| err(format!("negative dimension {d}"))))
        .collect::<Result<_, _>>()?;
    let n: usize = shape.iter().product();
    let raw = &t.raw_data;
    let from_raw = |width: usize, f: &dyn Fn(&[u8]) -> f32| -> Result<Vec<f32>, OnnxError> {
        if raw.len() != n * width {
            return Err(err(format!(
                "raw_data holds {} bytes, shape {shape:?} needs {}",
                raw.len(),
                n * width
            )));
        }
        Ok(raw.chunks_exact(width).map(f).collect())
    };
    let data: Vec<f32> = match t.data_type {
        1 if raw.is_empty() => t.float_data.clone(),
        1 => from_raw(4, &|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))?,
        11 if raw.is_empty() => t.double_data.iter().map(|&v| v as f32).collect(),
        11 => from_raw(8, &|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32)?,
        7 if raw.is_empty() => t.int64_data.iter().map(|&v| clamp_i64(v)).collect(),
        7 => {
            from_raw(8, &|b| clamp_i64(i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])))?
        }
        6 if raw.is_empty() => t.int32_data.iter().map(|&v| v as f32).collect(),
        6 => from_raw(4, &|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32)?,
        3 | 2 | 9 if raw.is_empty() => t.int32_data.iter().map(|&v| v as f32).collect(),
        3 => from_raw(1, &|b| b[0] as i8 as f32)?,
        2 | 9 => from_raw(1, &|b| b[0] as f32)?,
        other => {
            return Err(err(format!(
                "element type {} is not supported (FLOAT, DOUBLE and the integer types are): convert the \
                 model's tensors to float32",
                element_type_name(other)
            )))
        }
    };
    FTensor::new(shape, data).map_err(|e| err(e.to_string()))
}

/// Int64 constants such as `INT64_MAX` slice ends become large finite floats, not infinities.
fn clamp_i64(v: i64) -> f32 {
    v.clamp(-(1 << 40), 1 << 40) as f32
}

/// Typed access to a node's attributes.
pub struct Attrs<'a>(pub &'a [AttributeProto]);

impl Attrs<'_> {
    fn get(&self, name: &str) -> Option<&AttributeProto> {
        self.0.iter().find(|a| a.name == name)
    }
    /// Integer attribute or default.
    pub fn int(&self, name: &str, default: i64) -> i64 {
        self.get(name).map_or(default, |a| a.i)
    }
    /// Float attribute or default.
    pub fn float(&self, name: &str, default: f32) -> f32 {
        self.get(name).map_or(default, |a| a.f)
    }
    /// Integer list attribute.
    pub fn ints(&self, name: &str) -> Option<Vec<i64>> {
        self.get(name).map(|a| a.ints.clone())
    }
    /// Float list attribute.
    pub fn floats(&self, name: &str) -> Option<Vec<f32>> {
        self.get(name).map(|a| a.floats.clone())
    }
    /// String attribute.
    pub fn string(&self, name: &str) -> Option<String> {
        self.get(name).map(|a| String::from_utf8_lossy(&a.s).into_owned())
    }
    /// String list attribute.
    pub fn strings(&self, name: &str) -> Option<Vec<String>> {
        self.get(name).map(|a| a.strings.iter().map(|s| String::from_utf8_lossy(s).into_owned()).collect())
    }
    /// Tensor attribute.
    pub fn tensor(&self, name: &str) -> Option<&TensorProto> {
        self.get(name).and_then(|a| a.t.as_ref())
    }
}

/// Whether a graph input holds real numbers or integers (token ids).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// FLOAT (float32).
    Float,
    /// INT64, INT32, INT16, INT8, UINT16 or UINT8: exact integers, such as token ids.
    Integer,
}

/// Declared shape and kind of a graph input; symbolic or unknown dims (a batch dim) are taken as 1.
pub fn input_shape(v: &ValueInfoProto) -> Result<(Vec<usize>, InputKind), OnnxError> {
    let ty = v
        .type_
        .as_ref()
        .ok_or_else(|| OnnxError::Tensor { name: v.name.clone(), detail: "input has no type".into() })?;
    let tensor = ty.tensor_type();
    let kind = match tensor.elem_type {
        1 => InputKind::Float,
        2..=7 => InputKind::Integer,
        other => {
            let ty = element_type_name(other);
            return Err(OnnxError::Tensor {
                name: v.name.clone(),
                detail: format!(
                    "the input's element type is {ty}; poai takes FLOAT (float32) inputs, and integer inputs \
                     (INT64, INT32, ...) as token ids: export the model with a float32 or integer input"
                ),
            });
        }
    };
    Ok((
        tensor
            .shape
            .as_ref()
            .map(|s| {
                s.dim
                    .iter()
                    .map(|d| if d.has_dim_value() && d.dim_value() > 0 { d.dim_value() as usize } else { 1 })
                    .collect()
            })
            .unwrap_or_default(),
        kind,
    ))
}

/// The name ONNX gives an element type (`TensorProto.DataType`), for messages.
pub fn element_type_name(code: i32) -> String {
    let name = match code {
        1 => "FLOAT",
        2 => "UINT8",
        3 => "INT8",
        4 => "UINT16",
        5 => "INT16",
        6 => "INT32",
        7 => "INT64",
        8 => "STRING",
        9 => "BOOL",
        10 => "FLOAT16",
        11 => "DOUBLE",
        12 => "UINT32",
        13 => "UINT64",
        14 => "COMPLEX64",
        15 => "COMPLEX128",
        16 => "BFLOAT16",
        17..=20 => "FLOAT8",
        21 => "UINT4",
        22 => "INT4",
        _ => return format!("number {code}"),
    };
    name.to_string()
}
