//! `--against RUN`: the scores of an earlier run, to set beside today's.
//! The earlier run is its `last-run.json` (keep a copy before changing a
//! param, or name another checkout's `results/<pipeline>/last-run.json`);
//! its instances' entries are read from this cache, else from the cache
//! beside that file (`results/.cache` of the other checkout), so the
//! scores are there as long as `nrun gc` has not removed them.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::collect::STAGE;
use super::{Row, Score};
use crate::cache::Store;
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
    #[error(transparent)]
    Table(#[from] TableError),
}

/// An earlier run's scores, by the params of their cell (the stage, the
/// grid values, the tags).
pub type Reference = BTreeMap<BTreeMap<String, String>, BTreeMap<String, Score>>;

/// The earlier run's scores, for the instances whose entries are still
/// cached and hold a `metrics.csv`.
pub fn reference(path: &Path, store: &Store) -> Result<Reference, AgainstError> {
    let shown = path.display().to_string();
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
    let mut out = Reference::new();
    for inst in run.instances {
        let candidates = std::iter::once(store.output(&inst.key)).chain(
            beside
                .iter()
                .map(|root| Store::output_under(root, &inst.key)),
        );
        let Some(file) = candidates
            .map(|dir| dir.join("metrics.csv"))
            .find(|f| f.is_file())
        else {
            continue;
        };
        for r in read_rows([&file])? {
            let mut params = r.params.clone();
            params.insert(STAGE.to_string(), inst.stage.clone());
            let score = Score::from(&r);
            out.entry(params).or_default().insert(r.metric, score);
        }
    }
    Ok(out)
}

/// Sets each row's reference scores: those of the earlier cell with the
/// same params.
pub fn attach(rows: &mut [Row], reference: &Reference) {
    for row in rows {
        row.reference = Some(reference.get(&row.params).cloned().unwrap_or_default());
    }
}
