//! Tensors on disk as safetensors (readable from numpy with
//! `safetensors.numpy.load_file`), and the dataset folder built on them.
//!
//! A dataset folder holds `data.safetensors` with `x` (f32, `[n, ...]`),
//! optionally `labels` (i64, `[n]`) and `clean` (f32, the paired ground
//! truth of degraded inputs), and `dataset.json` describing them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::samples::Samples;

/// A named tensor's values and shape.
#[derive(Clone, Debug, PartialEq)]
pub enum Tensor {
    F32 { shape: Vec<usize>, data: Vec<f32> },
    I64 { shape: Vec<usize>, data: Vec<i64> },
}

/// Why a tensor file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum TensorFileError {
    /// The file is unusable (missing, not safetensors, wrong tensors): the
    /// data must be fixed, not the code.
    #[error("{}: {message}", path.display())]
    Bad { path: PathBuf, message: String },
    /// Writing failed (the disk, permissions).
    #[error("{}: {message}", path.display())]
    Write { path: PathBuf, message: String },
}

impl TensorFileError {
    fn bad(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        TensorFileError::Bad {
            path: path.into(),
            message: message.into(),
        }
    }

    fn write(path: &Path, error: impl std::fmt::Display) -> Self {
        TensorFileError::Write {
            path: path.to_path_buf(),
            message: error.to_string(),
        }
    }
}

/// Writes named tensors to `path` (atomically).
pub fn write(path: &Path, tensors: &BTreeMap<String, Tensor>) -> Result<(), TensorFileError> {
    let bytes: BTreeMap<&String, (Dtype, &Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(name, t)| {
            let entry = match t {
                Tensor::F32 { shape, data } => (
                    Dtype::F32,
                    shape,
                    data.iter().flat_map(|v| v.to_le_bytes()).collect(),
                ),
                Tensor::I64 { shape, data } => (
                    Dtype::I64,
                    shape,
                    data.iter().flat_map(|v| v.to_le_bytes()).collect(),
                ),
            };
            (name, entry)
        })
        .collect();
    let views = bytes
        .iter()
        .map(|(name, (dtype, shape, data))| {
            TensorView::new(*dtype, shape.to_vec(), data)
                .map(|v| (name.as_str(), v))
                .map_err(|e| TensorFileError::Write {
                    path: path.to_path_buf(),
                    message: format!("tensor {name}: {e}"),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let out = safetensors::serialize(views, None).map_err(|e| TensorFileError::write(path, e))?;
    crate::fsutil::write_atomic(path, &out).map_err(|e| TensorFileError::write(path, e))?;
    Ok(())
}

/// Reads every tensor of a safetensors file (f32 and i64 only).
pub fn read(path: &Path) -> Result<BTreeMap<String, Tensor>, TensorFileError> {
    let bytes = std::fs::read(path).map_err(|e| TensorFileError::bad(path, e.to_string()))?;
    let file = SafeTensors::deserialize(&bytes)
        .map_err(|e| TensorFileError::bad(path, format!("not a safetensors file: {e}")))?;
    let mut out = BTreeMap::new();
    for name in file.names() {
        let view = file
            .tensor(name)
            .map_err(|e| TensorFileError::bad(path, e.to_string()))?;
        let shape = view.shape().to_vec();
        let raw = view.data();
        let tensor = match view.dtype() {
            Dtype::F32 => Tensor::F32 {
                shape,
                data: raw
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            },
            Dtype::I64 => Tensor::I64 {
                shape,
                data: raw
                    .chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect(),
            },
            other => {
                return Err(TensorFileError::bad(
                    path,
                    format!("tensor {name} has dtype {other:?}; nrun reads f32 and i64"),
                ));
            }
        };
        out.insert(name.to_string(), tensor);
    }
    Ok(out)
}

/// A transform applied every time a batch is drawn (fresh noise per load).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum OnLoad {
    /// Adds N(0, std^2) noise.
    Noise { std: f64 },
    /// Nearest-neighbour resize of images to `size` (PyTorch's `nearest`).
    Nearest { size: [usize; 2] },
}

/// What `dataset.json` says.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Meta {
    pub count: usize,
    pub shape: Vec<usize>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on_load: Vec<OnLoad>,
    /// Sources, hashes, filters, counts: how the data was made.
    pub provenance: Json,
}

/// A dataset as stages exchange it.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub x: Samples,
    pub labels: Option<Vec<i64>>,
    /// Ground truth paired with `x` item by item.
    pub clean: Option<Samples>,
    pub on_load: Vec<OnLoad>,
    pub provenance: Json,
}

const DATA: &str = "data.safetensors";
const META: &str = "dataset.json";

fn samples(
    name: &str,
    t: Option<&Tensor>,
    path: &Path,
) -> Result<Option<Samples>, TensorFileError> {
    match t {
        None => Ok(None),
        Some(Tensor::F32 { shape, data }) if !shape.is_empty() => {
            Ok(Some(Samples::new(shape[1..].to_vec(), data.clone())))
        }
        Some(_) => Err(TensorFileError::bad(
            path,
            format!("`{name}` must be an f32 tensor [n, ...]"),
        )),
    }
}

impl Dataset {
    pub fn write(&self, dir: &Path) -> Result<(), TensorFileError> {
        let mut tensors = BTreeMap::new();
        let with_n = |s: &Samples| {
            let mut shape = vec![s.n];
            shape.extend(&s.shape);
            Tensor::F32 {
                shape,
                data: s.data.clone(),
            }
        };
        tensors.insert("x".to_string(), with_n(&self.x));
        if let Some(labels) = &self.labels {
            tensors.insert(
                "labels".to_string(),
                Tensor::I64 {
                    shape: vec![labels.len()],
                    data: labels.clone(),
                },
            );
        }
        if let Some(clean) = &self.clean {
            tensors.insert("clean".to_string(), with_n(clean));
        }
        write(&dir.join(DATA), &tensors)?;
        let meta = Meta {
            count: self.x.n,
            shape: self.x.shape.clone(),
            on_load: self.on_load.clone(),
            provenance: self.provenance.clone(),
        };
        let meta_path = dir.join(META);
        let text =
            serde_json::to_vec_pretty(&meta).map_err(|e| TensorFileError::write(&meta_path, e))?;
        std::fs::write(&meta_path, text).map_err(|e| TensorFileError::write(&meta_path, e))?;
        Ok(())
    }

    pub fn read(dir: &Path) -> Result<Dataset, TensorFileError> {
        let meta_path = dir.join(META);
        let meta: Meta = serde_json::from_slice(
            &std::fs::read(&meta_path)
                .map_err(|e| TensorFileError::bad(&meta_path, e.to_string()))?,
        )
        .map_err(|e| TensorFileError::bad(&meta_path, e.to_string()))?;
        let path = dir.join(DATA);
        let tensors = read(&path)?;
        let x = samples("x", tensors.get("x"), &path)?
            .ok_or_else(|| TensorFileError::bad(&path, "no tensor `x`"))?;
        let labels = match tensors.get("labels") {
            None => None,
            Some(Tensor::I64 { data, .. }) if data.len() == x.n => Some(data.clone()),
            Some(_) => {
                return Err(TensorFileError::bad(
                    &path,
                    format!("`labels` must be i64 with {} entries", x.n),
                ));
            }
        };
        let clean = samples("clean", tensors.get("clean"), &path)?;
        if clean.as_ref().is_some_and(|c| c.n != x.n) {
            return Err(TensorFileError::bad(
                &path,
                "`clean` and `x` hold different counts",
            ));
        }
        Ok(Dataset {
            x,
            labels,
            clean,
            on_load: meta.on_load,
            provenance: meta.provenance,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datasets_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let ds = Dataset {
            x: Samples::new(vec![1, 2, 2], vec![0.5; 12]),
            labels: Some(vec![2, 2, 2]),
            clean: Some(Samples::new(vec![1, 2, 2], vec![-0.5; 12])),
            on_load: vec![OnLoad::Noise { std: 0.4 }],
            provenance: serde_json::json!({"source": "test"}),
        };
        ds.write(dir.path()).unwrap();
        let back = Dataset::read(dir.path()).unwrap();
        assert_eq!(back.x, ds.x);
        assert_eq!(back.labels, ds.labels);
        assert_eq!(back.clean, ds.clean);
        assert_eq!(back.on_load, ds.on_load);
    }

    #[test]
    fn a_broken_file_is_a_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("dataset.json"),
            r#"{"count":1,"shape":[2],"provenance":{}}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("data.safetensors"), b"garbage").unwrap();
        let err = Dataset::read(dir.path()).unwrap_err();
        assert!(matches!(err, TensorFileError::Bad { .. }), "{err}");
    }
}
