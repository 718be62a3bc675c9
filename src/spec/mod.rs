//! Pipeline files: parsing, overrides and validation into a [`Pipeline`].
//!
//! Everything a user can get wrong in a pipeline file is caught here or in
//! [`crate::plan`], before anything runs, and reported as a located
//! [`Diagnostic`].

mod checker;
mod executor;
pub mod expr;
pub mod overrides;
mod pipeline;
mod stage_decl;
pub mod yaml;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::{Diagnostic, Diagnostics, Error, Origin, Result};
pub use executor::{ExecutorSpec, SlurmConfig};
use overrides::Overrides;
pub use pipeline::{Aggregate, InputDecl, InputSource, Pipeline, Resources, StageDecl};

/// Reads, overrides and validates a pipeline file.
pub fn load(file: &Path, overrides: &Overrides) -> Result<Pipeline> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Error::Usage(format!("cannot read pipeline {}: {e}", file.display())))?;
    let root = yaml::parse(&text).map_err(|e| Diagnostic {
        origin: Origin::File {
            path: file.to_path_buf(),
            loc: e.loc,
        },
        key: String::new(),
        message: format!("invalid YAML: {}", e.message),
    })?;
    let mut checker = Checker {
        file: file.to_path_buf(),
        diags: Vec::new(),
        broken_axes: BTreeSet::new(),
    };
    let pipeline = checker.pipeline(root, overrides);
    match pipeline {
        Some(p) if checker.diags.is_empty() => Ok(p),
        _ => Err(Error::Invalid(Diagnostics(checker.diags))),
    }
}

struct Checker {
    file: PathBuf,
    diags: Vec<Diagnostic>,
    /// Grid axes already reported as malformed: a `${...}` reading one is
    /// not an unknown param on top.
    broken_axes: BTreeSet<String>,
}
