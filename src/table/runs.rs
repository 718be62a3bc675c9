//! Checks on the runs pooled into one cell: they may differ only in the
//! params the spec averages over, and never be the same run twice.

use std::collections::{BTreeMap, BTreeSet};

use super::key::{canonical, distinct};
use super::{PivotSpec, Row, TableError};

/// Checks the runs of the cell described by `cell` (e.g. `cost=NOT, gamma=0.5`).
pub(crate) fn check(runs: &[&Row], spec: &PivotSpec, cell: &str) -> Result<(), TableError> {
    let names: BTreeSet<&String> = runs.iter().flat_map(|run| run.params.keys()).collect();
    let averaged = |name: &String| {
        *name == spec.rows || *name == spec.columns || spec.average_over.contains(name)
    };
    for name in names.iter().copied().filter(|name| !averaged(name)) {
        let values = distinct(runs.iter().map(|run| value(run, name)));
        if values.len() > 1 {
            return Err(TableError::Unaveraged {
                metric: spec.metric.to_string(),
                param: name.clone(),
                cell: cell.to_string(),
                values,
            });
        }
    }
    let mut counts: BTreeMap<Vec<String>, usize> = BTreeMap::new();
    for run in runs {
        let params = names
            .iter()
            .map(|name| format!("{name}={}", value(run, name)))
            .collect();
        *counts.entry(params).or_default() += 1;
    }
    match counts.into_iter().find(|(_, count)| *count > 1) {
        Some((params, count)) => Err(TableError::DuplicateRun {
            metric: spec.metric.to_string(),
            cell: cell.to_string(),
            params: params.join(", "),
            count,
        }),
        None => Ok(()),
    }
}

fn value(run: &Row, name: &str) -> String {
    canonical(run.params.get(name).map_or("", String::as_str))
}
