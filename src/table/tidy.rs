//! Tables as long ("tidy") CSV: one line per cell.

use super::Table;

const HEADER: &str = "row,column,mean,std,ci95,runs,reference,difference,diverged\n";

/// Renders `table` as CSV with the header
/// `row,column,mean,std,ci95,runs,reference,difference,diverged` (`ci95`:
/// half the width of the 95% Student t interval of the mean): one line per
/// (row, column) in table order, rows and columns by label. Numbers are
/// written in full (they are data here, not display), absent ones are
/// empty; `diverged` lists the outer steps at which the cell's other runs
/// diverged, separated by spaces (the mean is over those that did not).
pub fn to_csv(table: &Table) -> String {
    let mut out = HEADER.to_string();
    for (row, cells) in table.rows.iter().zip(&table.cells) {
        for (column, cell) in table.columns.iter().zip(cells) {
            let fields = [
                field(&row.label),
                field(&column.label),
                number(cell.ours.map(|s| s.mean)),
                number(cell.ours.and_then(|s| s.std)),
                number(cell.ours.and_then(|s| s.half_width)),
                cell.ours.map_or_else(String::new, |s| s.n.to_string()),
                number(cell.reference),
                number(cell.difference()),
                cell.diverged
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(" "),
            ];
            out.push_str(&fields.join(","));
            out.push('\n');
        }
    }
    out
}

/// Quotes a field as RFC 4180 requires: when it holds a comma, quote or line break.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn number(value: Option<f64>) -> String {
    value.map_or_else(String::new, |v| v.to_string())
}
