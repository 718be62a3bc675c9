//! What of the sheet to show: rows kept by `--only`, sorted by `--sort`,
//! the metrics `--metrics` names; params equal in every kept row are
//! folded out of the columns.

use std::collections::BTreeSet;

use crate::table::canonical_key;

use super::{Row, Sheet};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Order {
    #[default]
    Ascending,
    Descending,
}

/// The view the flags ask for, checked against the sheet by [`view`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ViewSpec {
    /// Keep rows whose param takes one of the values (`--only gamma=0,1`).
    pub only: Vec<(String, Vec<String>)>,
    pub sort: Option<String>,
    pub order: Order,
    /// These metrics, in this order; all of them when `None`.
    pub metrics: Option<Vec<String>>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ViewError {
    #[error("--only {name}: no scored cell has a param `{name}`{hint}")]
    UnknownParam { name: String, hint: String },
    #[error("--only {name}={value}: no scored cell has {name} = {value}{hint}")]
    UnknownValue {
        name: String,
        value: String,
        hint: String,
    },
    #[error("{flag}: no scored cell has a metric `{name}`{hint}")]
    UnknownMetric {
        flag: &'static str,
        name: String,
        hint: String,
    },
}

/// The rows and columns to print.
#[derive(Clone, Debug, PartialEq)]
pub struct View {
    pub pipeline: String,
    /// Params with one value in every row, folded into a header line.
    pub constant: Vec<(String, String)>,
    /// Params that vary, one column each.
    pub params: Vec<String>,
    pub metrics: Vec<String>,
    pub rows: Vec<Row>,
    /// Whether rows carry an earlier run's scores (`--against`).
    pub against: bool,
}

pub fn view(sheet: Sheet, spec: &ViewSpec) -> Result<View, ViewError> {
    for (name, values) in &spec.only {
        if !sheet.params.contains(name) {
            return Err(ViewError::UnknownParam {
                name: name.clone(),
                hint: crate::suggest::hint(
                    name,
                    sheet.params.iter().map(String::as_str),
                    "there are",
                ),
            });
        }
        let taken: BTreeSet<&str> = sheet
            .rows
            .iter()
            .filter_map(|row| row.params.get(name).map(String::as_str))
            .collect();
        for value in values {
            if !taken
                .iter()
                .any(|t| canonical_key(t) == canonical_key(value))
            {
                return Err(ViewError::UnknownValue {
                    name: name.clone(),
                    value: value.clone(),
                    hint: format!(
                        " (the cells have: {})",
                        taken.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
    }
    // A training diagnostic that no cell has yet (`diverged_at` where
    // none diverged) is still a column of `--train`.
    let training = sheet
        .metrics
        .iter()
        .any(|m| m == super::training::COLUMNS[0]);
    let check_metric = |flag, name: &String| {
        if sheet.metrics.contains(name)
            || (training && super::training::COLUMNS.contains(&name.as_str()))
        {
            Ok(())
        } else {
            Err(ViewError::UnknownMetric {
                flag,
                name: name.clone(),
                hint: crate::suggest::hint(
                    name,
                    sheet.metrics.iter().map(String::as_str),
                    "there are",
                ),
            })
        }
    };
    for name in spec.metrics.iter().flatten() {
        check_metric("--metrics", name)?;
    }
    if let Some(name) = &spec.sort {
        check_metric("--sort", name)?;
    }
    let mut rows: Vec<Row> = sheet
        .rows
        .into_iter()
        .filter(|row| {
            spec.only.iter().all(|(name, values)| {
                row.params
                    .get(name)
                    .is_some_and(|v| values.iter().any(|w| canonical_key(w) == canonical_key(v)))
            })
        })
        .collect();
    if let Some(metric) = &spec.sort {
        // Rows without the metric (not run, failed, diverged) go last
        // either way; the sort is stable, so ties keep the plan's order.
        let value = |row: &Row| {
            row.scores
                .get(metric)
                .filter(|s| s.diverged.is_none() && s.value.is_finite())
                .map(|s| s.value)
        };
        rows.sort_by(|a, b| match (value(a), value(b)) {
            (Some(x), Some(y)) => match spec.order {
                Order::Ascending => x.total_cmp(&y),
                Order::Descending => y.total_cmp(&x),
            },
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
    }
    let mut constant = Vec::new();
    let mut params = Vec::new();
    for name in sheet.params {
        let mut values = rows.iter().map(|r| r.params.get(&name));
        let first = values.next().flatten();
        if values.all(|v| v == first) {
            if let Some(value) = first {
                constant.push((name, value.clone()));
            }
        } else {
            params.push(name);
        }
    }
    Ok(View {
        against: rows.iter().any(|r| r.reference.is_some()),
        pipeline: sheet.pipeline,
        constant,
        params,
        metrics: spec.metrics.clone().unwrap_or(sheet.metrics),
        rows,
    })
}
