//! `samples.safetensors`, the output of every stage that maps a dataset's
//! items (`sample`, `inverse_map`, `identity_map`) and the input of
//! `metric`: `x` (the items mapped, `[n, ...]`), `samples` (`[n, Z, ...]`),
//! and the dataset's `clean` and `labels` for those items when it has them.

use std::collections::BTreeMap;
use std::path::Path;

use super::StageError;
use crate::data::on_load::LoadSampler;
use crate::rng::{self, Purpose};
use crate::samples::{Sampler, Samples};
use crate::tensor_file::{self, Dataset, Tensor};

/// The items of `data` to map, the first `limit` of them if given. Items
/// with per-load transforms (noise redrawn at every training draw) are
/// drawn once, seeded by `seed`, so every model and baseline sees the same
/// ones.
pub(super) fn inputs(
    data: &Dataset,
    seed: u64,
    limit: Option<usize>,
) -> Result<Samples, StageError> {
    let x = if data.on_load.is_empty() {
        data.x.clone()
    } else {
        let sampler =
            LoadSampler::new(data.x.clone(), data.on_load.clone()).map_err(StageError::Misfit)?;
        let mut r = rng::stream(seed, Purpose::Sample, 1);
        Samples::new(
            sampler.item_shape().to_vec(),
            sampler.transform(data.x.data.clone(), data.x.n, &mut r),
        )
    };
    Ok(x.head(limit.map_or(x.n, |l| l.min(x.n))))
}

/// The items a mapping stage maps from the folder `dir`: a dataset's, or
/// another mapping stage's outputs (every one of the `[n, Z, ...]` samples
/// an item), then with the inputs they came from as `clean`, so that
/// mapping them back (`inverse_map` of a `sample`) is scored against where
/// they started.
pub(super) fn read_items(dir: &Path) -> Result<Dataset, StageError> {
    let path = dir.join("samples.safetensors");
    if !path.is_file() {
        return Dataset::read(dir).map_err(Into::into);
    }
    let tensors = tensor_file::read(&path)?;
    let f32s = |name: &str| match tensors.get(name) {
        Some(Tensor::F32 { shape, data }) => Some((shape.clone(), data.clone())),
        _ => None,
    };
    let (Some((shape, samples)), Some((x_shape, x))) = (f32s("samples"), f32s("x")) else {
        return Err(StageError::bad_input(
            &path,
            "needs f32 tensors `samples` and `x`",
        ));
    };
    let [n, z, item @ ..] = &shape[..] else {
        return Err(StageError::bad_input(
            &path,
            "`samples` must be [n, Z, ...]",
        ));
    };
    if x_shape[1..] != *item || x_shape[0] != *n {
        return Err(StageError::bad_input(
            &path,
            format!("`x` is {x_shape:?}, `samples` {shape:?}: the items differ"),
        ));
    }
    let size: usize = item.iter().product();
    let clean: Vec<f32> = x
        .chunks_exact(size.max(1))
        .flat_map(|input| std::iter::repeat_n(input, *z).flatten().copied())
        .collect();
    Ok(Dataset {
        x: Samples::new(item.to_vec(), samples),
        labels: None,
        clean: Some(Samples::new(item.to_vec(), clean)),
        on_load: Vec::new(),
        provenance: serde_json::json!({"source": "samples", "inputs": n, "z": z}),
    })
}

/// Writes `out/samples.safetensors` for the first `x.n` items of `data`:
/// `samples` holds `z` outputs of shape `item` per item of `x`.
pub(super) fn write(
    out: &Path,
    data: &Dataset,
    x: &Samples,
    samples: Vec<f32>,
    z: usize,
    item: &[usize],
) -> Result<(), StageError> {
    let n = x.n;
    let with = |lead: &[usize], inner: &[usize]| lead.iter().chain(inner).copied().collect();
    let mut tensors = BTreeMap::new();
    tensors.insert(
        "x".to_string(),
        Tensor::F32 {
            shape: with(&[n], &x.shape),
            data: x.data.clone(),
        },
    );
    tensors.insert(
        "samples".to_string(),
        Tensor::F32 {
            shape: with(&[n, z], item),
            data: samples,
        },
    );
    if let Some(clean) = &data.clean {
        let clean = clean.head(n);
        tensors.insert(
            "clean".to_string(),
            Tensor::F32 {
                shape: with(&[n], &clean.shape),
                data: clean.data,
            },
        );
    }
    if let Some(labels) = &data.labels {
        tensors.insert(
            "labels".to_string(),
            Tensor::I64 {
                shape: vec![n],
                data: labels[..n].to_vec(),
            },
        );
    }
    tensor_file::write(&out.join("samples.safetensors"), &tensors).map_err(Into::into)
}
