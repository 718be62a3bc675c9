//! Helpers the loader kinds share: turning loaded images into a dataset
//! with provenance.

use std::path::Path;

use serde_json::{Value as Json, json};

use super::StageError;
use super::select::{Select, pick};
use crate::data::labelled::LabelledImages;
use crate::samples::Samples;
use crate::tensor_file::Dataset;

/// blake3 of a file or folder, for provenance.
pub fn content_hash(path: &Path) -> Json {
    match crate::cache::hash::FileHasher::in_memory().hash(path) {
        Ok(h) => json!({"path": path.display().to_string(), "blake3": h}),
        Err(e) => json!({"path": path.display().to_string(), "error": e.to_string()}),
    }
}

/// The selected images as a dataset, with where they came from.
pub fn dataset(set: &LabelledImages, select: &Select, source: Json) -> Result<Dataset, StageError> {
    let images = &set.images;
    let all = Samples::new(vec![images.c, images.h, images.w], images.data.clone());
    let indices = select.indices(Some(&set.labels), images.n);
    if indices.is_empty() {
        return Err(StageError::Misfit(format!(
            "the selection {} keeps no item of {} loaded",
            select.describe(),
            images.n
        )));
    }
    let (x, labels) = pick(&all, Some(&set.labels), &indices);
    Ok(Dataset {
        provenance: json!({
            "source": source,
            "loaded": images.n,
            "select": select.describe(),
            "count": x.n,
        }),
        x,
        labels,
        clean: None,
        on_load: Vec::new(),
    })
}
