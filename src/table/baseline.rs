//! Baseline rows: a value that does not depend on the table's params (the
//! degraded inputs scored as they are, say), shown in every column below
//! the pivoted rows so each learned map reads against it.

use super::key::canonical;
use super::{Cell, Header, PivotSpec, Row, Summary, Table, TableError, runs};

/// Appends the row `label` (key `key`) to `table`: the mean of `spec.metric`
/// over `rows` (e.g. over seeds, which `spec.average_over` must name when
/// they vary), the same in every column, with no reference value.
pub fn add_baseline(
    table: &mut Table,
    key: &str,
    label: &str,
    rows: &[Row],
    spec: &PivotSpec,
) -> Result<(), TableError> {
    let selected: Vec<&Row> = rows
        .iter()
        .filter(|r| spec.metric.contains(&r.metric))
        .collect();
    if selected.is_empty() {
        return Err(TableError::NoRows {
            metric: spec.metric.to_string(),
            available: super::key::distinct(rows.iter().map(|r| r.metric.clone())),
        });
    }
    for (role, param) in [("rows", &spec.rows), ("columns", &spec.columns)] {
        let varies = selected.iter().any(|r| {
            r.params
                .get(param)
                .is_some_and(|v| !canonical(v).is_empty())
        });
        if varies {
            return Err(TableError::BaselineVaries {
                baseline: key.to_string(),
                role,
                param: param.clone(),
            });
        }
    }
    runs::check(&selected, spec, &format!("baseline `{key}`"))?;
    let values: Vec<f64> = selected.iter().map(|r| r.value).collect();
    let ours = Summary::of(&values);
    table.rows.push(Header {
        key: key.to_string(),
        label: label.to_string(),
    });
    table.cells.push(
        table
            .columns
            .iter()
            .map(|_| Cell {
                ours,
                reference: None,
                diverged: Vec::new(),
            })
            .collect(),
    );
    Ok(())
}
