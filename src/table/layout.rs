//! The lines a table renders as, shared by the Markdown and LaTeX renderers.
//!
//! Without a reference each row is one line. With one, each row that the
//! reference has values for becomes three lines (ours, the reference, the
//! difference) rather than one cell holding `22.31 ± 0.12 (ref 22.60,
//! −0.29)`: with one number per cell the columns align and read top to
//! bottom, our value sits right above the one it is compared with, and the
//! table stays narrow enough to take in at a glance (three numbers a cell
//! make even three columns wide and noisy).

use super::format::{fixed, signed, typeset_minus};
use super::{Cell, Spread, Summary, Table};

/// What one cell of a rendered line shows.
pub(crate) enum Entry {
    Missing,
    /// Our runs' summary, and how many other runs diverged.
    Ours(Summary, usize),
    /// Every run diverged, at these outer steps: a result, not a hole.
    Diverged(Vec<u64>),
    Reference(f64),
    Difference(f64),
}

impl Entry {
    /// What a cell shows on its "ours" line.
    pub(crate) fn ours(cell: &Cell) -> Entry {
        match (cell.ours, cell.diverged.is_empty()) {
            (Some(summary), _) => Entry::Ours(summary, cell.diverged.len()),
            (None, false) => Entry::Diverged(cell.diverged.clone()),
            (None, true) => Entry::Missing,
        }
    }
}

/// How a renderer writes what numbers alone do not say.
pub(crate) struct Typography {
    pub missing: &'static str,
    pub plus_minus: &'static str,
    /// Replaces a leading `-`.
    pub minus: &'static str,
}

impl Entry {
    /// The entry as text, numbers at the table's decimals, a summary's
    /// spread as the table asks.
    pub(crate) fn render(&self, table: &Table, typography: &Typography) -> String {
        let decimals = table.decimals;
        let minus = |number: String| typeset_minus(number, typography.minus);
        match self {
            Entry::Missing => typography.missing.to_string(),
            Entry::Ours(summary, diverged) => {
                let spread = match table.spread {
                    Spread::Std => summary.std,
                    Spread::Ci95 => summary.half_width,
                };
                let value = match spread {
                    Some(std) => format!(
                        "{} {} {}",
                        minus(fixed(summary.mean, decimals)),
                        typography.plus_minus,
                        minus(fixed(std, decimals))
                    ),
                    None => minus(fixed(summary.mean, decimals)),
                };
                match diverged {
                    0 => value,
                    n => format!("{value} ({n} diverged)"),
                }
            }
            Entry::Diverged(steps) => {
                let steps: Vec<String> = steps.iter().map(u64::to_string).collect();
                let s = if steps.len() == 1 { "" } else { "s" };
                format!("diverged (step{s} {})", steps.join(", "))
            }
            Entry::Reference(value) => minus(fixed(*value, decimals)),
            Entry::Difference(value) => minus(signed(*value, decimals)),
        }
    }
}

/// One rendered line: a label and an entry per column.
pub(crate) struct Line {
    pub label: String,
    pub entries: Vec<Entry>,
    /// The first line of a row's group (always, without a reference).
    pub starts_group: bool,
}

pub(crate) fn lines(table: &Table) -> Vec<Line> {
    let mut lines = Vec::new();
    for (header, cells) in table.rows.iter().zip(&table.cells) {
        let ours = cells.iter().map(Entry::ours).collect();
        // A row the reference says nothing about (a baseline, say) is one
        // line: its reference lines would be dashes.
        let title = match &table.reference_title {
            Some(title) if cells.iter().any(|cell| cell.reference.is_some()) => title,
            _ => {
                lines.push(Line {
                    label: header.label.clone(),
                    entries: ours,
                    starts_group: true,
                });
                continue;
            }
        };
        let line = |what: &str, entries, starts_group| Line {
            label: format!("{} ({what})", header.label),
            entries,
            starts_group,
        };
        lines.push(line("ours", ours, true));
        lines.push(line(
            title,
            cells
                .iter()
                .map(|cell| cell.reference.map_or(Entry::Missing, Entry::Reference))
                .collect(),
            false,
        ));
        lines.push(line(
            "difference",
            cells
                .iter()
                .map(|cell| cell.difference().map_or(Entry::Missing, Entry::Difference))
                .collect(),
            false,
        ));
    }
    lines
}
