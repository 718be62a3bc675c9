//! One row of the metric stage's output.

use std::collections::BTreeMap;

/// One metric of one pipeline cell, summarised over its test items.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The cell's params by column name, values as written. Rows read
    /// together all have the same names: a column one file lacks reads as "".
    pub params: BTreeMap<String, String>,
    pub metric: String,
    /// Mean of the metric over the test items.
    pub value: f64,
    /// Standard deviation over the test items; NaN where the file left it blank.
    pub std: f64,
    /// Number of test items.
    pub n: u64,
    /// The outer step at which the cell's training diverged, when it did
    /// (its value then comes from the last good weights and is not shown).
    pub diverged: Option<u64>,
}
