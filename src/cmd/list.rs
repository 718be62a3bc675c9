//! `nrun list` (and `nrun` with no pipeline): the pipelines under pipelines/.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result, exit};
use crate::spec::yaml;

/// Pipeline files under `dir`, sorted.
pub fn pipeline_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .max_depth(1)
        .into_iter()
        .flatten()
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    files
}

pub fn run() -> Result<u8> {
    let dir = Path::new("pipelines");
    if !dir.is_dir() {
        return Err(Error::Usage(
            "no pipeline given, no ./nrun.yaml and no pipelines/ folder here".into(),
        ));
    }
    println!("Pipelines (run one with `nrun pipelines/NAME.yaml`):");
    for file in pipeline_files(dir) {
        // A summary line only: an invalid file still lists, flagged.
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let description = match yaml::parse(&text) {
            Ok(doc) => doc
                .get("description")
                .and_then(|d| d.as_str())
                .map(|d| d.lines().next().unwrap_or_default().to_string())
                .unwrap_or_default(),
            Err(e) => format!("(invalid YAML at {}: {})", e.loc, e.message),
        };
        println!("  {:<40} {description}", file.display());
    }
    Ok(exit::OK)
}
