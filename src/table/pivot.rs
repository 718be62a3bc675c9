//! Pivoting metric rows into a table of averaged cells.

use std::collections::{BTreeMap, BTreeSet};

use super::key::{canonical, canonical_map, distinct, ordered};
use super::{Cell, Header, METRIC_AXIS, PivotSpec, Row, Summary, Table, TableError, runs};

/// Rows of one cell, by (row key, column key).
type Groups<'r> = BTreeMap<(String, String), Vec<&'r Row>>;

/// Reference values by row key, then column key.
type ReferenceValues = BTreeMap<String, BTreeMap<String, f64>>;

/// Tabulates `spec.metric`: one row per value of `spec.rows`, one column per
/// value of `spec.columns`, each cell the mean and sample std of its runs.
/// Numeric keys sort by value, text keys keep their order of first
/// appearance; combinations without runs are empty cells. Keys that only the
/// reference has get rows and columns too, so nothing reported is hidden.
pub fn pivot(rows: &[Row], spec: &PivotSpec) -> Result<Table, TableError> {
    let selected: Vec<&Row> = rows
        .iter()
        .filter(|row| spec.metric.contains(&row.metric))
        .collect();
    // A listed metric without rows is a misspelling, not an empty column.
    if let Some(absent) = spec
        .metric
        .0
        .iter()
        .find(|m| !selected.iter().any(|row| &row.metric == *m))
    {
        return Err(TableError::NoRows {
            metric: absent.clone(),
            available: distinct(rows.iter().map(|row| row.metric.clone())),
        });
    }
    check_params(&selected, spec)?;
    let row_keys = keys(&selected, spec, "rows", &spec.rows)?;
    let column_keys = keys(&selected, spec, "columns", &spec.columns)?;
    let groups = group(&selected, spec)?;
    let reference = match &spec.reference {
        Some(reference) => canonical_reference(&reference.values)?,
        None => BTreeMap::new(),
    };
    let row_keys = ordered(distinct(
        row_keys.into_iter().chain(reference.keys().cloned()),
    ));
    let column_keys = ordered(distinct(
        column_keys.into_iter().chain(
            reference
                .values()
                .flat_map(|by_column| by_column.keys().cloned()),
        ),
    ));
    let mut cells: Vec<Vec<Cell>> = row_keys
        .iter()
        .map(|r| {
            column_keys
                .iter()
                .map(|c| cell(&groups, &reference, r, c))
                .collect()
        })
        .collect();
    let mut rows = headers(row_keys, &spec.row_labels, "row_labels")?;
    if spec.summary_row {
        let summary = (0..column_keys.len())
            .map(|c| {
                let means: Vec<f64> = cells
                    .iter()
                    .filter_map(|row| row[c].ours.map(|s| s.mean))
                    .collect();
                Cell {
                    ours: Summary::of(&means),
                    ..Cell::default()
                }
            })
            .collect();
        cells.push(summary);
        let label = summary_label(&spec.rows);
        rows.push(Header {
            key: label.clone(),
            label,
        });
    }
    Ok(Table {
        metric: spec.metric.to_string(),
        row_param: spec.rows.clone(),
        column_param: spec.columns.clone(),
        rows,
        columns: headers(column_keys, &spec.column_labels, "column_labels")?,
        cells,
        decimals: spec.decimals,
        spread: spec.spread,
        summary_row: spec.summary_row,
        reference_title: spec.reference.as_ref().map(|r| r.title.clone()),
    })
}

/// Groups rows by cell, checking each cell's runs.
fn group<'r>(rows: &[&'r Row], spec: &PivotSpec) -> Result<Groups<'r>, TableError> {
    let mut groups = Groups::new();
    for row in rows {
        let at = (key(row, &spec.rows), key(row, &spec.columns));
        groups.entry(at).or_default().push(row);
    }
    for ((r, c), runs) in &groups {
        let cell = format!("{}={r}, {}={c}", spec.rows, spec.columns);
        runs::check(runs, spec, &cell)?;
    }
    Ok(groups)
}

fn cell(groups: &Groups, reference: &ReferenceValues, r: &str, c: &str) -> Cell {
    let runs = groups.get(&(r.to_string(), c.to_string()));
    let (diverged, healthy): (Vec<&&Row>, Vec<&&Row>) = runs
        .into_iter()
        .flatten()
        .partition(|run| run.diverged.is_some());
    let values: Vec<f64> = healthy.iter().map(|run| run.value).collect();
    let mut diverged: Vec<u64> = diverged.iter().filter_map(|run| run.diverged).collect();
    diverged.sort_unstable();
    Cell {
        ours: Summary::of(&values),
        diverged,
        reference: reference
            .get(r)
            .and_then(|by_column| by_column.get(c))
            .copied(),
    }
}

/// Every param the spec names must be a column of the rows.
fn check_params(rows: &[&Row], spec: &PivotSpec) -> Result<(), TableError> {
    let names: BTreeSet<&String> = rows.iter().flat_map(|row| row.params.keys()).collect();
    let named = [("rows", &spec.rows), ("columns", &spec.columns)]
        .into_iter()
        .filter(|(_, param)| *param != METRIC_AXIS)
        .chain(spec.average_over.iter().map(|name| ("average_over", name)));
    for (role, param) in named {
        if !names.contains(param) {
            return Err(TableError::UnknownParam {
                role,
                param: param.clone(),
                available: names.iter().map(|name| name.to_string()).collect(),
            });
        }
    }
    Ok(())
}

/// The distinct keys of `param` in order of first appearance; every row
/// must have one.
fn keys(
    rows: &[&Row],
    spec: &PivotSpec,
    role: &'static str,
    param: &str,
) -> Result<Vec<String>, TableError> {
    if param == METRIC_AXIS {
        // In the spec's order, as the user listed them (`pivot` checked
        // that each has rows).
        return Ok(spec.metric.0.clone());
    }
    let all: Vec<String> = rows.iter().map(|row| key(row, param)).collect();
    let count = all.iter().filter(|key| key.is_empty()).count();
    if count > 0 {
        return Err(TableError::MissingKey {
            metric: spec.metric.to_string(),
            role,
            param: param.to_string(),
            count,
        });
    }
    Ok(distinct(all))
}

fn key(row: &Row, param: &str) -> String {
    if param == METRIC_AXIS {
        return row.metric.clone();
    }
    canonical(row.params.get(param).map_or("", String::as_str))
}

fn canonical_reference(values: &ReferenceValues) -> Result<ReferenceValues, TableError> {
    canonical_map(values, "reference rows")?
        .into_iter()
        .map(|(row, by_column)| {
            let what = format!("reference row `{row}`");
            Ok((row, canonical_map(&by_column, &what)?))
        })
        .collect()
}

fn headers(
    keys: Vec<String>,
    labels: &BTreeMap<String, String>,
    what: &str,
) -> Result<Vec<Header>, TableError> {
    let labels = canonical_map(labels, what)?;
    Ok(keys
        .into_iter()
        .map(|key| Header {
            label: labels.get(&key).cloned().unwrap_or_else(|| key.clone()),
            key,
        })
        .collect())
}

/// The label of the summary row that averages the rows of `rows`.
pub fn summary_label(rows: &str) -> String {
    format!("mean over {rows}")
}
