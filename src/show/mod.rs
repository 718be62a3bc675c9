//! `nrun show`: every scored cell of a pipeline as it would run now, in one
//! sheet: the params that vary, each metric's value, the cell's state and
//! what it cost to build. Collected from the plan and the cache only:
//! nothing runs, and cells not yet built show as such.
//!
//! Rows are the instances of the stages that score: every `metric` stage,
//! and `command` stages whose built outputs hold a `metrics.csv` in the
//! metric stage's layout. `collect` gathers them, `view` filters, sorts
//! and picks the metrics asked for, `render` prints; `against` sets an
//! earlier run's scores beside them (or another cache's, or a published
//! table's: `published_table`). `timeline` draws the
//! newest run's instances on its clock instead.

mod against;
mod collect;
mod published_table;
mod render;
mod timeline;
mod training;
mod view;

use std::collections::BTreeMap;

pub use against::{AgainstError, attach, reference};
pub use collect::collect;
pub use render::{Format, render};
pub use timeline::timeline;
pub use view::{Order, View, ViewError, ViewSpec, view};

/// Whether a cell's scores exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Cached,
    NotRun,
    /// The newest run built this cell's instance and failed.
    Failed,
}

impl State {
    pub fn label(self) -> &'static str {
        match self {
            State::Cached => "cached",
            State::NotRun => "not run",
            State::Failed => "failed",
        }
    }
}

/// One metric of one cell, as the scoring stage wrote it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Score {
    pub value: f64,
    /// Over the cell's test items; NaN when not given.
    pub std: f64,
    pub n: u64,
    /// The outer step at which the cell's training diverged.
    pub diverged: Option<u64>,
}

impl From<&crate::table::Row> for Score {
    fn from(r: &crate::table::Row) -> Score {
        Score {
            value: r.value,
            std: r.std,
            n: r.n,
            diverged: r.diverged,
        }
    }
}

/// One scored cell: a scoring stage's instance.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Every param of the cell by name, values as labels: the grid axes,
    /// the metric stage's `tag`s, and `stage` (the scoring stage).
    pub params: BTreeMap<String, String>,
    pub state: State,
    /// Seconds the instance and everything upstream of it took to build,
    /// when all of it is built.
    pub seconds: Option<f64>,
    pub scores: BTreeMap<String, Score>,
    /// With `--against`: the earlier run's scores of the same cell (empty
    /// when it had none).
    pub reference: Option<BTreeMap<String, Score>>,
}

/// The scored cells of one pipeline, with the params and metrics they have
/// in the order the pipeline declares them.
#[derive(Clone, Debug, PartialEq)]
pub struct Sheet {
    pub pipeline: String,
    pub params: Vec<String>,
    pub metrics: Vec<String>,
    pub rows: Vec<Row>,
}
