//! Tables as GitHub-flavoured Markdown pipe tables.

use std::iter::once;

use super::Table;
use super::escape::markdown as escape;
use super::layout::{Typography, lines};

const TYPOGRAPHY: Typography = Typography {
    missing: "—",
    plus_minus: "±",
    // The Unicode minus is as wide as `+` and never breaks from its digits.
    minus: "−",
};

/// Renders `table` as a pipe table, label column left-aligned and value
/// columns right-aligned, padded so the raw text lines up too. Missing cells
/// show `—`; see the layout module for how a reference is shown.
pub fn to_markdown(table: &Table) -> String {
    let header = once(String::new()).chain(table.columns.iter().map(|c| escape(&c.label)));
    let mut grid: Vec<Vec<String>> = vec![header.collect()];
    for line in lines(table) {
        let entries = line.entries.iter().map(|e| e.render(table, &TYPOGRAPHY));
        grid.push(once(escape(&line.label)).chain(entries).collect());
    }
    let mut widths = vec![3; grid[0].len()];
    for row in &grid {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }

    let mut out = String::new();
    for (i, row) in grid.iter().enumerate() {
        out.push('|');
        for (column, (cell, width)) in row.iter().zip(&widths).enumerate() {
            let cell = if column == 0 {
                format!(" {cell:<width$} |")
            } else {
                format!(" {cell:>width$} |")
            };
            out.push_str(&cell);
        }
        out.push('\n');
        if i == 0 {
            out.push('|');
            for (column, width) in widths.iter().enumerate() {
                let dashes = "-".repeat(width - 1);
                out.push_str(&if column == 0 {
                    format!(" {dashes}- |")
                } else {
                    format!(" {dashes}: |")
                });
            }
            out.push('\n');
        }
    }
    out
}
