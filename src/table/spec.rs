//! What to pivot, and the values to compare with.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Which metric to tabulate, which params become rows and columns, and how
/// to label and round the result. Deserialises from a pipeline's YAML, where
/// everything but `metric`, `rows` and `columns` is optional.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PivotSpec {
    /// One metric, or several: then `rows` or `columns` is `metric`
    /// ([`METRIC_AXIS`]), one row or column per metric in this order.
    pub metric: Metrics,
    /// Param whose values become the rows.
    pub rows: String,
    /// Param whose values become the columns.
    pub columns: String,
    /// Display names of row keys (`weak_quadratic` → `NOT`); unlisted keys
    /// show as themselves.
    #[serde(default)]
    pub row_labels: BTreeMap<String, String>,
    /// Display names of column keys (`0.5` → `γ = 0.5`).
    #[serde(default)]
    pub column_labels: BTreeMap<String, String>,
    /// Params whose runs are averaged within a cell (typically `seed`). Any
    /// other param that varies within a cell is an error.
    #[serde(default)]
    pub average_over: Vec<String>,
    /// Adds a last row, `mean over <rows>`: each column's mean over the rows
    /// above (e.g. over seeds as rows), its spread as `spread` says.
    #[serde(default)]
    pub summary_row: bool,
    /// What follows `±` in Markdown and LaTeX when a cell has several runs.
    #[serde(default)]
    pub spread: Spread,
    /// Digits after the decimal point in Markdown and LaTeX.
    #[serde(default = "default_decimals")]
    pub decimals: usize,
    #[serde(default)]
    pub reference: Option<Reference>,
    /// Inputs of the table stage whose rows hold for every column (a
    /// baseline such as `identity_map`, scored once), by input name, with
    /// their row labels. They become rows below the pivoted ones.
    #[serde(default)]
    pub baselines: BTreeMap<String, String>,
    /// What the table shows, for reports.
    #[serde(default)]
    pub caption: Option<String>,
}

/// The name `rows` or `columns` takes to pivot over the metrics themselves.
pub const METRIC_AXIS: &str = "metric";

/// The metric or metrics a table shows, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metrics(pub Vec<String>);

impl Metrics {
    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|m| m == name)
    }
}

impl std::fmt::Display for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(", "))
    }
}

impl<'de> Deserialize<'de> for Metrics {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Metrics, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged, expecting = "expected a metric's name, or a list of them")]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        match OneOrMany::deserialize(d)? {
            OneOrMany::One(name) => Ok(Metrics(vec![name])),
            OneOrMany::Many(names) if names.is_empty() => {
                Err(serde::de::Error::custom("list at least one metric"))
            }
            OneOrMany::Many(names) => Ok(Metrics(names)),
        }
    }
}

/// How a cell of several runs shows their spread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Spread {
    /// The runs' sample standard deviation.
    #[default]
    Std,
    /// Half the width of the 95% confidence interval of the mean (Student t
    /// over the runs): what to show for a mean over seeds.
    Ci95,
}

impl Spread {
    /// What `mean ± x` means, for captions.
    pub fn legend(self) -> &'static str {
        match self {
            Spread::Std => "mean ± standard deviation",
            Spread::Ci95 => "mean ± 95% confidence interval (Student t)",
        }
    }
}

/// Values reported elsewhere (a paper's table) to compare with.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    /// Where the values come from, e.g. `Korotin et al. 2023, Table 1`.
    pub title: String,
    /// Values by row key, then column key (keys as in the metric rows).
    pub values: BTreeMap<String, BTreeMap<String, f64>>,
}

fn default_decimals() -> usize {
    2
}

impl PivotSpec {
    /// A spec with no labels, no averaging, no reference and 2 decimals.
    pub fn new(metric: &str, rows: &str, columns: &str) -> PivotSpec {
        PivotSpec {
            metric: Metrics(vec![metric.to_string()]),
            rows: rows.to_string(),
            columns: columns.to_string(),
            row_labels: BTreeMap::new(),
            column_labels: BTreeMap::new(),
            average_over: Vec::new(),
            summary_row: false,
            spread: Spread::Std,
            decimals: default_decimals(),
            reference: None,
            baselines: BTreeMap::new(),
            caption: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_fields_default_when_deserialised() {
        let spec: PivotSpec =
            serde_json::from_str(r#"{"metric": "psnr", "rows": "cost", "columns": "gamma"}"#)
                .unwrap();
        assert_eq!(spec, PivotSpec::new("psnr", "cost", "gamma"));
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = serde_json::from_str::<PivotSpec>(
            r#"{"metric": "psnr", "rows": "cost", "columns": "gamma", "average": ["seed"]}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field `average`"), "{err}");
    }
}
