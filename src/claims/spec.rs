//! Claims as a pipeline writes them.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::table::canonical_key;

/// One claim about one metric.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    /// The claim in words, as a row label.
    pub text: String,
    pub metric: String,
    /// Exactly one of `compare` and `trend`.
    #[serde(default)]
    pub compare: Option<Compare>,
    #[serde(default)]
    pub trend: Option<Trend>,
    /// Test the claim once per value of this param (e.g. per cost).
    #[serde(default)]
    pub for_each: Option<String>,
    /// Only runs whose params take one of these values.
    #[serde(default)]
    pub only: BTreeMap<String, Vec<Scalar>>,
}

/// Cell `a` against cell `b`, runs paired by `pair_by`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compare {
    pub a: BTreeMap<String, Scalar>,
    pub b: BTreeMap<String, Scalar>,
    /// The claim's side: the metric is `greater` (or `less`) in `a`.
    pub expect: Direction,
    #[serde(default = "default_pair_by")]
    pub pair_by: String,
}

/// The metric as a function of a numeric param.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trend {
    pub over: String,
    /// `greater`: the metric increases with `over`; `less`: it decreases.
    pub expect: Direction,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Greater,
    Less,
}

/// A param value as YAML writes it (number, text or bool), kept in the
/// canonical spelling metric rows are compared in (`0.50` is `0.5`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
        let text = match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            other => {
                return Err(serde::de::Error::custom(format!(
                    "expected a number or a name, found {other}"
                )));
            }
        };
        Ok(Scalar(canonical_key(&text)))
    }
}

fn default_pair_by() -> String {
    "seed".to_string()
}

impl Claim {
    /// Checks what types cannot: one test, two different cells, a slope
    /// over a param that varies within each test.
    pub fn check(&self) -> Result<(), String> {
        match (&self.compare, &self.trend) {
            (Some(_), Some(_)) => Err("give either `compare` or `trend`, not both".into()),
            (None, None) => Err("give a test: `compare` (two cells) or `trend` (a slope)".into()),
            (Some(c), None) if c.a.is_empty() || c.b.is_empty() => {
                Err("`a` and `b` each name at least one param value".into())
            }
            (Some(c), None) if c.a == c.b => Err("`a` and `b` select the same cells".into()),
            (None, Some(t)) if self.for_each.as_ref() == Some(&t.over) => Err(format!(
                "`for_each: {}` leaves one value of `{}` per test: no slope",
                t.over, t.over
            )),
            _ => Ok(()),
        }
    }
}
