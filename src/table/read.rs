//! Reading the metric stage's CSV files into rows.

use std::collections::BTreeSet;
use std::fs::File;
use std::path::Path;

use super::{Row, TableError};

const METRIC: &str = "metric";
const VALUE: &str = "value";
const STD: &str = "std";
const N: &str = "n";
/// Optional: the step at which the cell's training diverged, or blank.
const DIVERGED: &str = "diverged";

/// Reads and concatenates metric CSVs: param columns first (any names),
/// then `metric,value,std,n` and optionally `diverged` (the outer step at
/// which the cell's training diverged). Files may have different param columns; a
/// column a file lacks reads as "" in its rows. A blank `std` reads as NaN;
/// a `value` of `NaN` or `inf` is kept, so a diverged run shows rather than
/// vanishes.
pub fn read_rows<P: AsRef<Path>>(
    paths: impl IntoIterator<Item = P>,
) -> Result<Vec<Row>, TableError> {
    let mut rows = Vec::new();
    for path in paths {
        rows.extend(read_file(path.as_ref())?);
    }
    fill_missing_params(&mut rows);
    Ok(rows)
}

fn read_file(path: &Path) -> Result<Vec<Row>, TableError> {
    let file = File::open(path).map_err(|source| TableError::Io {
        path: path.into(),
        source,
    })?;
    let csv_error = |source| TableError::Csv {
        path: path.into(),
        source,
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(file);
    let columns = Columns::locate(path, reader.headers().map_err(csv_error)?)?;
    let mut rows = Vec::new();
    for record in reader.records() {
        rows.push(columns.row(path, &record.map_err(csv_error)?)?);
    }
    Ok(rows)
}

/// Where each column of one file is.
struct Columns {
    metric: usize,
    value: usize,
    std: usize,
    n: usize,
    diverged: Option<usize>,
    params: Vec<(usize, String)>,
}

impl Columns {
    fn locate(path: &Path, header: &csv::StringRecord) -> Result<Columns, TableError> {
        let mut seen = BTreeSet::new();
        for name in header {
            if !seen.insert(name) {
                return Err(TableError::DuplicateColumn {
                    path: path.into(),
                    column: name.to_string(),
                });
            }
        }
        let find = |column| {
            header
                .iter()
                .position(|name| name == column)
                .ok_or_else(|| TableError::MissingColumn {
                    path: path.into(),
                    column,
                })
        };
        Ok(Columns {
            metric: find(METRIC)?,
            value: find(VALUE)?,
            std: find(STD)?,
            n: find(N)?,
            diverged: header.iter().position(|name| name == DIVERGED),
            params: header
                .iter()
                .enumerate()
                .filter(|(_, name)| ![METRIC, VALUE, STD, N, DIVERGED].contains(name))
                .map(|(i, name)| (i, name.to_string()))
                .collect(),
        })
    }

    fn row(&self, path: &Path, record: &csv::StringRecord) -> Result<Row, TableError> {
        // The reader rejects records whose length differs from the header's,
        // so every index is present.
        let field = |i: usize| record.get(i).unwrap_or_default();
        let bad = |column, expected, value: &str| TableError::BadValue {
            path: path.into(),
            line: record.position().map_or(0, csv::Position::line),
            column,
            value: value.to_string(),
            expected,
        };
        let number = |column, text: &str| {
            text.parse::<f64>()
                .map_err(|_| bad(column, "a number", text))
        };
        let std = match field(self.std) {
            "" => f64::NAN,
            text => number(STD, text)?,
        };
        let n = field(self.n);
        let diverged = match self.diverged.map(field) {
            None | Some("") => None,
            Some(step) => Some(
                step.parse::<u64>()
                    .map_err(|_| bad(DIVERGED, "an outer step", step))?,
            ),
        };
        Ok(Row {
            params: self
                .params
                .iter()
                .map(|(i, name)| (name.clone(), field(*i).to_string()))
                .collect(),
            metric: field(self.metric).to_string(),
            value: number(VALUE, field(self.value))?,
            std,
            n: n.parse::<u64>().map_err(|_| bad(N, "a count", n))?,
            diverged,
        })
    }
}

/// Gives every row every param name seen in any file, "" where it had none,
/// so rows from files with different columns can be grouped together.
fn fill_missing_params(rows: &mut [Row]) {
    let names: BTreeSet<String> = rows
        .iter()
        .flat_map(|row| row.params.keys().cloned())
        .collect();
    for row in rows {
        for name in &names {
            row.params.entry(name.clone()).or_default();
        }
    }
}
