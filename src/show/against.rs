//! `--against REF`: an earlier run's scores, to set beside today's. REF is
//!
//! - that run's `last-run.json` (keep a copy before changing a param, or
//!   name another checkout's `results/<pipeline>/last-run.json`): its
//!   instances' entries are read from this cache, else from the cache
//!   beside that file (`results/.cache` of the other checkout), so the
//!   scores are there as long as `nrun gc` has not removed them;
//! - another cache folder (another machine's, imported apart, or a GPU
//!   run's): today's instances' entries read from there, so the same cells
//!   built elsewhere stand beside this cache's;
//! - a published table (`published_table`): a report's `tables/*.csv`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::collect::STAGE;
use super::{Row, Score};
use crate::cache::Store;
use crate::plan::Plan;
use crate::spec::Pipeline;
use crate::table::{TableError, read_rows};

#[derive(Deserialize)]
struct Instance {
    stage: String,
    key: String,
}

#[derive(Deserialize)]
struct LastRun {
    instances: Vec<Instance>,
}

#[derive(Debug, thiserror::Error)]
pub enum AgainstError {
    #[error("{path}: not a last-run.json: {source}")]
    NotARun {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a cache folder (it has no `entries` folder)")]
    NotACache { path: String },
    #[error("{path}: not a published table: {reason}")]
    NotATable { path: String, reason: String },
    #[error(
        "{path}: which table is it? name it after one of the pipeline's table stages ({})",
        tables.join(", ")
    )]
    WhichTable { path: String, tables: Vec<String> },
    #[error(transparent)]
    Table(#[from] TableError),
}

/// Earlier scores by the params of their cell (the stage, the grid values,
/// the tags), or by some of them: a published table's cells are averages
/// over the params it does not show.
pub type Reference = BTreeMap<BTreeMap<String, String>, BTreeMap<String, Score>>;

/// The earlier scores `path` holds: a folder is a cache, a `.csv` file a
/// published table, anything else a `last-run.json`.
pub fn reference(
    path: &Path,
    p: &Pipeline,
    plan: &Plan,
    store: &Store,
) -> Result<Reference, AgainstError> {
    let shown = path.display().to_string();
    if path.is_dir() {
        if !path.join("entries").is_dir() {
            return Err(AgainstError::NotACache { path: shown });
        }
        let today = plan
            .instances
            .iter()
            .map(|inst| (p.stages[inst.stage].name.clone(), inst.key.clone()));
        return scores(today, &[path.to_path_buf()]);
    }
    if path.extension().is_some_and(|e| e == "csv") {
        return super::published_table::reference(path, p, plan);
    }
    let bytes = std::fs::read(path).map_err(|source| AgainstError::Io {
        path: shown.clone(),
        source,
    })?;
    let run: LastRun = serde_json::from_slice(&bytes).map_err(|source| AgainstError::NotARun {
        path: shown,
        source,
    })?;
    // results/<pipeline>/last-run.json -> results/.cache
    let beside = path
        .parent()
        .and_then(Path::parent)
        .map(|results| results.join(".cache"));
    let roots: Vec<PathBuf> = std::iter::once(store.root().to_path_buf())
        .chain(beside)
        .collect();
    scores(
        run.instances.into_iter().map(|inst| (inst.stage, inst.key)),
        &roots,
    )
}

/// The scores of the instances `(stage, key)` whose entries the first of
/// the caches at `roots` that has them holds with a `metrics.csv`.
fn scores(
    instances: impl Iterator<Item = (String, String)>,
    roots: &[PathBuf],
) -> Result<Reference, AgainstError> {
    let mut out = Reference::new();
    for (stage, key) in instances {
        let Some(file) = roots
            .iter()
            .map(|root| Store::output_under(root, &key).join("metrics.csv"))
            .find(|f| f.is_file())
        else {
            continue;
        };
        for r in read_rows([&file])? {
            let mut params = r.params.clone();
            params.insert(STAGE.to_string(), stage.clone());
            let score = Score::from(&r);
            out.entry(params).or_default().insert(r.metric, score);
        }
    }
    Ok(out)
}

/// Sets each row's reference scores: those of the earlier cell whose
/// params all agree with the row's, the one naming the most params where
/// several do.
pub fn attach(rows: &mut [Row], reference: &Reference) {
    for row in rows {
        let agrees = |params: &BTreeMap<String, String>| {
            params
                .iter()
                .all(|(name, value)| row.params.get(name) == Some(value))
        };
        let closest = reference
            .iter()
            .filter(|(params, _)| agrees(params))
            .max_by_key(|(params, _)| params.len());
        row.reference = Some(closest.map(|(_, s)| s.clone()).unwrap_or_default());
    }
}
