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
mod stats;
#[cfg(test)]
mod tests;
mod tidy;

pub use baseline::add_baseline;
pub use error::TableError;
pub(crate) use escape::markdown as escape_markdown;
pub use latex::to_latex;
pub use markdown::to_markdown;
pub use pivot::pivot;
pub use pivoted::{Cell, Header, Table};
pub use read::read_rows;
pub use row::Row;
pub use spec::{PivotSpec, Reference};
pub use stats::Summary;
pub use tidy::to_csv;
