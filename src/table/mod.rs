//! Result tables: read the metric stage's CSVs, pivot one metric into a
//! grid of (row param × column param) cells averaged over runs, compare it
//! with reported values, and render it as CSV, Markdown or LaTeX.

mod baseline;
mod error;
mod escape;
mod format;
mod key;
mod latex;
mod layout;
mod markdown;
mod pivot;
mod pivoted;
mod read;
mod row;
mod runs;
mod spec;
#[cfg(test)]
mod tests;
mod tidy;

pub use crate::stats::Estimate as Summary;
pub use baseline::add_baseline;
pub use error::TableError;
pub(crate) use escape::markdown as escape_markdown;
pub(crate) use format::{fixed as fixed_decimals, typeset_minus};
pub(crate) use key::{canonical as canonical_key, ordered as ordered_keys};
pub use latex::to_latex;
pub use markdown::to_markdown;
pub use pivot::{pivot, summary_label};
pub use pivoted::{Cell, Header, Table};
pub use read::read_rows;
pub use row::Row;
pub use spec::{METRIC_AXIS, Metrics, PivotSpec, Reference, Spread};
pub use tidy::to_csv;
