//! What table and plot stages leave for reports: `artifacts.json`, a list
//! of tables (Markdown file) and figures (PNG file) with captions.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::StageError;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Artifact {
    /// `file` holds a Markdown pipe table.
    Table { file: String, caption: String },
    /// `file` is a PNG (an SVG of the same stem sits beside it).
    Figure { file: String, caption: String },
}

const FILE: &str = "artifacts.json";

pub fn write(dir: &Path, artifacts: &[Artifact]) -> Result<(), StageError> {
    super::files::write_json(&dir.join(FILE), &artifacts)
}

/// The artifacts of an upstream output; none if it made none.
pub fn read(dir: &Path) -> Result<Vec<Artifact>, StageError> {
    let path = dir.join(FILE);
    if !path.exists() {
        return Ok(Vec::new());
    }
    let bytes = std::fs::read(&path).map_err(|e| StageError::bad_input(&path, e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| StageError::bad_input(&path, e.to_string()))
}
