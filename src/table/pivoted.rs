//! A pivoted table: labelled rows and columns of cells.

use super::{Spread, Summary};

/// One metric (or several, along the rows or columns) as a grid of cells,
/// ready to render.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub metric: String,
    /// The param whose values are the rows.
    pub row_param: String,
    /// The param whose values are the columns.
    pub column_param: String,
    pub rows: Vec<Header>,
    pub columns: Vec<Header>,
    /// `cells[row][column]`, one per row and column.
    pub cells: Vec<Vec<Cell>>,
    /// Digits after the decimal point in Markdown and LaTeX.
    pub decimals: usize,
    /// What follows `±`.
    pub spread: Spread,
    /// The last row averages the rows above it (`PivotSpec::summary_row`).
    pub summary_row: bool,
    /// Where the reference values come from; `None` without a reference.
    pub reference_title: Option<String>,
}

impl Table {
    /// The fewest and most runs behind one pivoted cell (the summary row
    /// left out); `None` when no cell has runs.
    pub fn run_counts(&self) -> Option<(usize, usize)> {
        let pivoted = &self.cells[..self.cells.len() - usize::from(self.summary_row)];
        let runs = pivoted
            .iter()
            .flatten()
            .filter_map(|cell| cell.ours.map(|s| s.n));
        runs.fold(None, |range, n| match range {
            None => Some((n, n)),
            Some((fewest, most)) => Some((fewest.min(n), most.max(n))),
        })
    }
}

/// A row or column: its param value and what to show for it.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    /// The canonical param value (`0.50` is `0.5`).
    pub key: String,
    pub label: String,
}

/// Our runs for one (row, column) and the value reported for it, either of
/// which may be missing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cell {
    /// Over the cell's runs that did not diverge.
    pub ours: Option<Summary>,
    pub reference: Option<f64>,
    /// The outer steps at which the cell's other runs diverged, in order.
    pub diverged: Vec<u64>,
}

impl Cell {
    /// Ours minus the reference, where both exist.
    pub fn difference(&self) -> Option<f64> {
        Some(self.ours?.mean - self.reference?)
    }
}
