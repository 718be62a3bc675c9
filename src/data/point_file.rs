//! A user's point cloud, `[n, d]`, from a NumPy `.npy` file (float32 or
//! float64, C or Fortran order), a `.csv` file (one point per row, numbers
//! only, an optional header row of names) or a `.safetensors` file (one 2-D
//! float tensor, or the one named). Every value must be finite.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use super::error::LoadError;
use super::points::Points;

/// Reads the points of `path`, picking the format by its extension;
/// `tensor` names the tensor of a safetensors file holding several.
pub fn read_points(path: &Path, tensor: Option<&str>) -> Result<Points, LoadError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let points = match ext.as_deref() {
        Some("npy") => read_npy(path)?,
        Some("csv") => read_csv(path)?,
        Some("safetensors") => read_safetensors(path, tensor)?,
        _ => {
            return Err(bad(
                path,
                "unknown point-cloud format: expected a .npy, .csv or .safetensors file",
            ));
        }
    };
    if points.n == 0 || points.d == 0 {
        return Err(bad(
            path,
            format!(
                "holds {} points of dimension {}: nothing to use",
                points.n, points.d
            ),
        ));
    }
    if let Some(i) = points.data.iter().position(|v| !v.is_finite()) {
        return Err(bad(
            path,
            format!(
                "point {} coordinate {} is {}: every value must be finite",
                i / points.d,
                i % points.d,
                points.data[i]
            ),
        ));
    }
    Ok(points)
}

fn bad(path: &Path, what: impl Into<String>) -> LoadError {
    LoadError::BadData {
        path: path.to_path_buf(),
        what: what.into(),
    }
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> LoadError + '_ {
    move |source| LoadError::Io {
        path: PathBuf::from(path),
        source,
    }
}

fn read_npy(path: &Path) -> Result<Points, LoadError> {
    let file = File::open(path).map_err(io_error(path))?;
    let npy = npyz::NpyFile::new(BufReader::new(file))
        .map_err(|e| bad(path, format!("not a NumPy .npy file: {e}")))?;
    let shape = npy.shape().to_vec();
    let [n, d] = shape[..] else {
        return Err(bad(
            path,
            format!("an array of shape {shape:?}; a point cloud is 2-D, [points, dimension]"),
        ));
    };
    let (n, d) = (n as usize, d as usize);
    let fortran = npy.order() == npyz::Order::Fortran;
    let truncated = |e: std::io::Error| {
        bad(
            path,
            format!("truncated or unreadable data for an array of shape [{n}, {d}]: {e}"),
        )
    };
    let dtype = npy.dtype().descr();
    let values: Vec<f32> = match npy.try_data::<f32>() {
        Ok(reader) => reader
            .into_iter()
            .collect::<Result<_, _>>()
            .map_err(truncated)?,
        Err(npy) => match npy.try_data::<f64>() {
            Ok(reader) => reader
                .into_iter()
                .map(|v| v.map(|v| v as f32))
                .collect::<Result<_, _>>()
                .map_err(truncated)?,
            Err(_) => {
                return Err(bad(
                    path,
                    format!("dtype {dtype}; expected float32 or float64"),
                ));
            }
        },
    };
    let data = if fortran {
        // Column-major on disk: element (i, j) is at j * n + i.
        (0..n * d).map(|k| values[(k % d) * n + k / d]).collect()
    } else {
        values
    };
    Points::new(n, d, data).map_err(|e| bad(path, e.to_string()))
}

fn read_csv(path: &Path) -> Result<Points, LoadError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| bad(path, format!("cannot read as CSV: {e}")))?;
    let mut data = Vec::new();
    let mut d = None;
    let mut n = 0;
    for (row, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad(path, format!("line {}: {e}", row + 1)))?;
        let values: Result<Vec<f32>, _> = record.iter().map(str::parse::<f32>).collect();
        let values = match values {
            Ok(v) => v,
            // A first row that is not numbers is a header of names.
            Err(_) if row == 0 => continue,
            Err(_) => {
                let field = record
                    .iter()
                    .find(|f| f.parse::<f32>().is_err())
                    .unwrap_or_default();
                return Err(bad(
                    path,
                    format!("line {}: `{field}` is not a number", row + 1),
                ));
            }
        };
        match d {
            None => d = Some(values.len()),
            Some(d) if d != values.len() => {
                return Err(bad(
                    path,
                    format!(
                        "line {}: {} values where earlier rows have {d}",
                        row + 1,
                        values.len()
                    ),
                ));
            }
            Some(_) => {}
        }
        data.extend(values);
        n += 1;
    }
    Points::new(n, d.unwrap_or(0), data).map_err(|e| bad(path, e.to_string()))
}

fn read_safetensors(path: &Path, name: Option<&str>) -> Result<Points, LoadError> {
    let bytes = std::fs::read(path).map_err(io_error(path))?;
    let file = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| bad(path, format!("not a safetensors file: {e}")))?;
    let names = file.names();
    let chosen = match name {
        Some(name) => name.to_string(),
        None if names.len() == 1 => names[0].to_string(),
        None => {
            let mut all = names;
            all.sort_unstable();
            return Err(bad(
                path,
                format!(
                    "holds {} tensors ({}); name one with `tensor`",
                    all.len(),
                    all.join(", ")
                ),
            ));
        }
    };
    let view = file
        .tensor(&chosen)
        .map_err(|_| bad(path, format!("has no tensor `{chosen}`")))?;
    let shape = view.shape().to_vec();
    let [n, d] = shape[..] else {
        return Err(bad(
            path,
            format!(
                "tensor `{chosen}` has shape {shape:?}; a point cloud is 2-D, [points, dimension]"
            ),
        ));
    };
    let raw = view.data();
    let data: Vec<f32> = match view.dtype() {
        safetensors::Dtype::F32 => raw
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect(),
        safetensors::Dtype::F64 => raw
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32)
            .collect(),
        other => {
            return Err(bad(
                path,
                format!("tensor `{chosen}` is {other:?}; expected F32 or F64"),
            ));
        }
    };
    Points::new(n, d, data).map_err(|e| bad(path, e.to_string()))
}
