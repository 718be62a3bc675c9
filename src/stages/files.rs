//! Writing a stage's output files, their failures typed.

use std::path::Path;

use serde::Serialize;

use super::StageError;

pub fn write(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), StageError> {
    std::fs::write(path, bytes).map_err(StageError::write(path))
}

/// `value` as pretty JSON.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<(), StageError> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| StageError::Write {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    write(path, bytes)
}
