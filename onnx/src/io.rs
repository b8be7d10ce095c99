//! Input and calibration files in EZKL's layout: `{"input_data": [[f32, ...], ...]}`, one flat list per
//! model input; a calibration file may hold several samples back to back in each list.

use std::path::Path;

use crate::{FTensor, OnnxError};

/// Parses an input file's text into one flat list per model input.
pub fn parse_input_data(text: &str, path: &Path) -> Result<Vec<Vec<f32>>, OnnxError> {
    let err = |detail: String| OnnxError::InputFile { path: path.to_path_buf(), detail };
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        let hint = if ["NaN", "Infinity"].iter().any(|w| text.contains(w)) {
            " (NaN and Infinity are not valid inputs)"
        } else {
            ""
        };
        err(format!("invalid JSON: {e}{hint}"))
    })?;
    let lists = value.get("input_data").ok_or_else(|| err("missing field `input_data`".into()))?;
    let lists =
        lists.as_array().ok_or_else(|| err("`input_data` must be a list of lists of numbers".into()))?;
    lists
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let l =
                l.as_array().ok_or_else(|| err(format!("`input_data[{i}]` must be a list of numbers")))?;
            l.iter()
                .enumerate()
                .map(|(j, v)| {
                    let x = v
                        .as_f64()
                        .ok_or_else(|| err(format!("`input_data[{i}][{j}]` is not a number: {v}")))?;
                    if !x.is_finite() || x.abs() > f32::MAX as f64 {
                        return Err(err(format!("`input_data[{i}][{j}]` = {x} is not a finite f32")));
                    }
                    Ok(x as f32)
                })
                .collect()
        })
        .collect()
}

/// Reads an input file.
pub fn read_input_file(path: &Path) -> Result<Vec<Vec<f32>>, OnnxError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| OnnxError::Io { path: path.to_path_buf(), source })?;
    parse_input_data(&text, path)
}

/// Splits flat per-input lists into samples of the given shapes (one tensor per input per sample).
pub fn split_samples(
    data: &[Vec<f32>],
    shapes: &[Vec<usize>],
    path: &Path,
) -> Result<Vec<Vec<FTensor>>, OnnxError> {
    let err = |detail: String| OnnxError::InputFile { path: path.to_path_buf(), detail };
    if data.len() != shapes.len() {
        return Err(err(format!(
            "`input_data` has {} lists; the model has {} inputs",
            data.len(),
            shapes.len()
        )));
    }
    let mut count = None;
    for (i, (d, s)) in data.iter().zip(shapes).enumerate() {
        let n: usize = s.iter().product::<usize>().max(1);
        if d.is_empty() {
            return Err(err(format!("`input_data[{i}]` is empty: the calibration set is empty")));
        }
        if d.len() % n != 0 {
            return Err(err(format!(
                "`input_data[{i}]` has {} values, not a multiple of the input size {n} (shape {s:?})",
                d.len()
            )));
        }
        let k = d.len() / n;
        if *count.get_or_insert(k) != k {
            return Err(err(format!(
                "`input_data[{i}]` holds {k} samples; earlier inputs hold {}",
                count.unwrap_or(0)
            )));
        }
    }
    let k = count.unwrap_or(0);
    (0..k)
        .map(|j| {
            data.iter()
                .zip(shapes)
                .map(|(d, s)| {
                    let n: usize = s.iter().product::<usize>().max(1);
                    FTensor::new(s.clone(), d[j * n..(j + 1) * n].to_vec())
                })
                .collect()
        })
        .collect()
}
