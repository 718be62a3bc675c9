//! A training that diverged under `on_divergence: record`: its outcome is a
//! result. `train` writes this marker beside the last good weights,
//! `sample` copies it into its output, `metric` turns it into the
//! `diverged` column that tables and figures show instead of a number.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::StageError;

pub const FILE: &str = "diverged.json";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Diverged {
    /// The outer step whose losses the divergence guard gave up on.
    pub step: u64,
    pub reason: String,
    /// The step the saved weights are from (the last good checkpoint).
    pub weights_step: u64,
}

/// The marker in an upstream output folder, if there is one.
pub fn read(dir: &Path) -> Result<Option<Diverged>, StageError> {
    let path = dir.join(FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StageError::bad_input(&path, e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StageError::bad_input(&path, e.to_string())),
    }
}

pub fn write(dir: &Path, diverged: &Diverged) -> Result<(), StageError> {
    super::files::write_json(&dir.join(FILE), diverged)
}
