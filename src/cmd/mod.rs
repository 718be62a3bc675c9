//! The subcommands. Each resolves its flags, loads what it needs through
//! [`Loaded`], and returns the process exit code.

pub mod dag;
pub mod exec;
pub mod export;
pub mod gc;
pub mod import;
pub mod list;
pub mod logs;
pub mod reproduce;
pub mod run;
pub mod show;
pub mod status;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::cache::Store;
use crate::cache::hash::FileHasher;
use crate::cli::PipelineArgs;
use crate::error::{Diagnostic, Diagnostics, Error, Result};
use crate::graph::StageGraph;
use crate::plan::Plan;
use crate::spec::overrides::{self, Assignment, GridAxis, Overrides};
use crate::spec::{self, Pipeline};

/// A pipeline with its graph, plan and store, ready to run or inspect.
pub struct Loaded {
    pub pipeline: Pipeline,
    pub graph: StageGraph,
    pub plan: Plan,
    pub store: Store,
}

impl Loaded {
    pub fn load(args: &PipelineArgs) -> Result<Loaded> {
        let file = pipeline_file(args.pipeline.as_deref())?;
        Self::load_file(&file, &overrides(args)?, args.cache.as_deref())
    }

    pub fn load_file(file: &Path, overrides: &Overrides, cache: Option<&Path>) -> Result<Loaded> {
        let pipeline = spec::load(file, overrides)?;
        let graph = StageGraph::build(&pipeline)?;
        check_grid_axes_are_read(&graph, overrides)?;
        let store = open_store(cache)?;
        let mut hasher = FileHasher::open(store.memo_path());
        let plan = Plan::build(&pipeline, &graph, &mut hasher)?;
        Ok(Loaded {
            pipeline,
            graph,
            plan,
            store,
        })
    }

    /// The instances `--target` names and what they read (`target::select`).
    pub fn select(&self, targets: &[String]) -> Result<Vec<usize>> {
        crate::target::select(&self.pipeline, &self.plan, targets)
    }
}

/// A `--grid` axis that no stage reads would change nothing (a typo, most
/// likely: `--grid gama=0,0.5`): an error that names the closest axis.
fn check_grid_axes_are_read(graph: &StageGraph, overrides: &Overrides) -> Result<()> {
    let read: BTreeSet<&String> = graph.axes.iter().flatten().collect();
    let diags: Vec<_> = overrides
        .grids
        .iter()
        .filter(|axis| !read.contains(&axis.name))
        .map(|axis| {
            let hint = crate::suggest::hint(
                &axis.name,
                read.iter().map(|n| n.as_str()),
                "the axes stages read",
            );
            overrides::invalid(
                &axis.arg,
                format!(
                    "no stage reads `{}`, so it would change nothing{hint}",
                    axis.name
                ),
            )
        })
        .collect();
    if diags.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(Diagnostics(diags)))
    }
}

/// The cache `cache_dir(flag)` names, made if missing; a folder that
/// cannot be one is the user's to fix (exit 2).
pub fn open_store(flag: Option<&Path>) -> Result<Store> {
    let dir = cache_dir(flag);
    Store::open(&dir).map_err(|e| {
        Error::Usage(format!(
            "the cache folder {} (--cache, else NRUN_CACHE, else results/.cache) cannot be used: {e}",
            dir.display()
        ))
    })
}

/// `--cache`, else `$NRUN_CACHE`, else `results/.cache`.
pub fn cache_dir(flag: Option<&Path>) -> PathBuf {
    flag.map(Path::to_path_buf)
        .or_else(|| std::env::var_os("NRUN_CACHE").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("results/.cache"))
}

/// The overrides the flags ask for, every malformed one reported.
pub fn overrides(args: &PipelineArgs) -> Result<Overrides> {
    let mut diags = Diagnostics::default();
    let mut out = Overrides {
        scale: args.scale.clone(),
        ..Overrides::default()
    };
    for s in &args.sets {
        match Assignment::parse(s) {
            Ok(a) => match out.sets.iter().find(|b| b.path == a.path) {
                Some(b) => diags.0.push(given_twice(&a.arg, &b.arg, "")),
                None => out.sets.push(a),
            },
            Err(d) => diags.0.push(d),
        }
    }
    for g in &args.grids {
        match GridAxis::parse(g) {
            Ok(a) => match out.grids.iter().find(|b| b.name == a.name) {
                Some(b) => diags.0.push(given_twice(
                    &a.arg,
                    &b.arg,
                    ": give an axis all its values in one --grid",
                )),
                None => out.grids.push(a),
            },
            Err(d) => diags.0.push(d),
        }
    }
    // `--set gamma=0.5` collapses the axis that `--grid gamma=...` makes.
    for a in &out.grids {
        if let Some(set) = out.sets.iter().find(|s| s.path == [a.name.clone()]) {
            diags.0.push(given_twice(&set.arg, &a.arg, ""));
        }
    }
    if diags.0.is_empty() {
        Ok(out)
    } else {
        Err(Error::Invalid(diags))
    }
}

/// `--grid`/`--set` `arg` sets what `earlier` already did.
fn given_twice(arg: &str, earlier: &str, hint: &str) -> Diagnostic {
    overrides::invalid(arg, format!("`{earlier}` already sets it{hint}"))
}

/// A path to a pipeline file, or the name of one under pipelines/.
pub fn pipeline_file(arg: Option<&Path>) -> Result<PathBuf> {
    let Some(arg) = arg else {
        return Err(Error::Usage("no pipeline given".into()));
    };
    if arg.is_file() {
        return Ok(arg.to_path_buf());
    }
    if arg.components().count() > 1 {
        return Err(Error::Usage(format!("no pipeline file {}", arg.display())));
    }
    let named = Path::new("pipelines").join(arg).with_extension("yaml");
    if named.is_file() {
        return Ok(named);
    }
    Err(Error::Usage(format!(
        "no pipeline file {} (nor {}){}",
        arg.display(),
        named.display(),
        crate::cli::subcommand_hint(&arg.to_string_lossy())
    )))
}

/// A line on stdout for a command that changes things (run,
/// reproduce-report, exec, import, gc), which must end its work whether or
/// not anyone still reads it.
pub(crate) fn say(line: impl std::fmt::Display) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// The same on stderr (every command's last error goes here too).
pub(crate) fn warn(line: impl std::fmt::Display) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}
