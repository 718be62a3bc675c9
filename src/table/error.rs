//! The one error type of the table module.

use std::path::PathBuf;

/// Why metric rows could not be read or pivoted. Each variant names the
/// offending file, column, param or value.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Malformed CSV; the source says where (record, line, byte).
    #[error("{}: malformed CSV: {source}", path.display())]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error("{}: no `{column}` column in the header", path.display())]
    MissingColumn { path: PathBuf, column: &'static str },
    #[error("{}: column `{column}` appears twice in the header", path.display())]
    DuplicateColumn { path: PathBuf, column: String },
    #[error("{}:{line}: column `{column}`: `{value}` is not {expected}", path.display())]
    BadValue {
        path: PathBuf,
        line: u64,
        column: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("no rows of metric `{metric}` (metrics present: {})", available.join(", "))]
    NoRows {
        metric: String,
        available: Vec<String>,
    },
    /// A param named by the spec is not a column of the rows.
    #[error("{role} param `{param}` is not a column of the metric rows (params: {})", available.join(", "))]
    UnknownParam {
        role: &'static str,
        param: String,
        available: Vec<String>,
    },
    #[error("metric `{metric}`: {count} row(s) have no value for {role} param `{param}`")]
    MissingKey {
        metric: String,
        role: &'static str,
        param: String,
        count: usize,
    },
    /// Runs that differ in a param the spec does not average over would be
    /// silently mixed into one cell.
    #[error(
        "metric `{metric}`: param `{param}` varies within cell {cell} (values: {}); \
         add it to average_over, or pivot on it",
        values.join(", ")
    )]
    Unaveraged {
        metric: String,
        param: String,
        cell: String,
        values: Vec<String>,
    },
    /// Two rows with identical params: most likely one file read twice.
    #[error(
        "metric `{metric}`: cell {cell} has {count} rows with the same params ({params}); was a file read twice?"
    )]
    DuplicateRun {
        metric: String,
        cell: String,
        params: String,
        count: usize,
    },
    /// A baseline's rows must not depend on the table's row or column param.
    #[error(
        "baseline `{baseline}`: its rows vary over the {role} param `{param}`, \
         so they are not one value for every column; bind it as an ordinary input"
    )]
    BaselineVaries {
        baseline: String,
        role: &'static str,
        param: String,
    },
    /// Two keys of a label or reference map are the same number (`0.5`, `0.50`).
    #[error("{what}: keys `{first}` and `{second}` are the same number")]
    DuplicateKey {
        what: String,
        first: String,
        second: String,
    },
}
