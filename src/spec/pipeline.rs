//! A validated pipeline: what the checker produces and the rest of nrun reads.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::Value as Json;

use super::ExecutorSpec;
use super::yaml::Node;
use crate::grid::Grid;
use crate::loc::Loc;
use crate::stages::Kind;

/// A validated pipeline, its overrides applied.
pub struct Pipeline {
    pub file: PathBuf,
    pub name: String,
    pub description: String,
    /// The active scale preset, when the pipeline declares `scales`.
    pub scale: Option<String>,
    /// Every scale preset the pipeline declares.
    pub scales: Vec<String>,
    pub grid: Grid,
    /// Every param that is not an axis, by dotted path (maps included, so
    /// `${train}` works as well as `${train.lr}`).
    pub params: BTreeMap<String, Json>,
    pub targets: BTreeMap<String, Vec<String>>,
    pub executor: ExecutorSpec,
    /// Stages in file order.
    pub stages: Vec<StageDecl>,
    /// What `--grid` and `--set` set, each with its argument: a param or
    /// axis by dotted name, a stage's param as `stages.STAGE.params.PATH`.
    /// A bad value read from one of them is blamed on the argument.
    pub command_line: BTreeMap<String, String>,
}

pub struct StageDecl {
    pub name: String,
    pub loc: Loc,
    pub kind: &'static dyn Kind,
    pub inputs: Vec<InputDecl>,
    /// The stage's `params`, unresolved (`${...}` still in place).
    pub params: Node,
    pub aggregate: Aggregate,
    /// Restricts the stage's cells (and so what reads it): a cell is kept
    /// when it matches any clause, i.e. every axis of the clause takes one of
    /// the listed values. `only: {gamma: [1]}` is one clause; a list of
    /// clauses allows combinations, e.g. the strong cost at gamma 0 only.
    pub only: Vec<Vec<(String, Vec<Json>)>>,
    pub resources: Resources,
    /// Copy the outputs to `results/<pipeline>/<publish>` as plain files
    /// after a successful run (for reports kept under version control).
    pub publish: Option<String>,
    /// Params the stage reads through `${...}`.
    pub reads: BTreeSet<String>,
}

pub struct InputDecl {
    pub name: String,
    pub loc: Loc,
    pub source: InputSource,
}

pub enum InputSource {
    /// The output of another stage (index into `Pipeline::stages`).
    Stage(usize),
    /// A file or folder on disk; the string may interpolate params.
    Path(Node),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Aggregate {
    None,
    All,
    Axes(Vec<String>),
}

impl Aggregate {
    pub fn covers(&self, axis: &str) -> bool {
        match self {
            Aggregate::None => false,
            Aggregate::All => true,
            Aggregate::Axes(a) => a.iter().any(|x| x == axis),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    /// CPU tokens taken from `-j` while the stage runs.
    pub cpus: usize,
    /// GPU slots the stage wants (0 or 1).
    pub gpus: usize,
    /// Memory and time limits for cluster jobs (Slurm's `--mem`, `--time`).
    pub mem: Option<String>,
    pub time: Option<String>,
}

impl Resources {
    pub(super) fn one_cpu() -> Resources {
        Resources {
            cpus: 1,
            ..Resources::default()
        }
    }
}

impl Pipeline {
    pub fn stage_index(&self, name: &str) -> Option<usize> {
        self.stages.iter().position(|s| s.name == name)
    }

    /// Looks a param up for `${...}`: a non-axis param, or `cell`'s value.
    pub fn lookup(&self, name: &str, cell: &crate::grid::Cell) -> Option<Json> {
        cell.get(name)
            .cloned()
            .or_else(|| self.params.get(name).cloned())
    }
}
