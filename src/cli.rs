//! Command-line flags, parsed by clap and then resolved into validated values.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::device::DeviceChoice;

#[derive(Parser, Debug)]
#[command(
    name = "nrun",
    version,
    about = "Declarative experiment pipelines for Neural Optimal Transport research",
    args_conflicts_with_subcommands = true,
    after_help = "With no PIPELINE: runs ./nrun.yaml if present, else lists the pipelines under pipelines/."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a pipeline (what `nrun PIPELINE` does)
    Run(RunArgs),
    /// Show every stage instance: cached, or why it will run
    Status {
        #[command(flatten)]
        pipeline: PipelineArgs,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
    /// One table of every scored cell: the params that vary, each metric,
    /// whether it is built, and what it cost
    Show(ShowArgs),
    /// Print the log of the newest build of one stage instance
    Logs {
        #[command(flatten)]
        pipeline: PipelineArgs,
        /// STAGE, or STAGE[PARAM=VALUE ...] for one cell, e.g. 'train[gamma=0.5 seed=1]'
        instance: String,
        /// While the build runs, print the log as it grows
        #[arg(long, short)]
        follow: bool,
    },
    /// Print the stage graph
    Dag {
        #[command(flatten)]
        pipeline: PipelineArgs,
        #[arg(long, value_enum, default_value_t = DagFormat::Text)]
        format: DagFormat,
    },
    /// Delete cache entries that no pipeline under pipelines/ references
    Gc {
        /// Only list what would be deleted
        #[arg(long)]
        dry_run: bool,
        /// Cache folder [default: $NRUN_CACHE or results/.cache]
        #[arg(long)]
        cache: Option<PathBuf>,
    },
    /// List the pipelines under pipelines/
    List,
    /// Write the cache entries a pipeline's targets need, and the newest
    /// checkpoints of its unfinished trainings, to stdout as a tar stream
    Export {
        #[command(flatten)]
        pipeline: PipelineArgs,
        /// Leave out what does not fit in this many bytes (e.g. 60M, 1.5G),
        /// keeping first what took longest to compute
        #[arg(long, value_name = "SIZE", value_parser = parse_size)]
        max_size: Option<u64>,
    },
    /// Add the entries and checkpoints of an `nrun export` stream to the
    /// cache; checks all of it first, replaces no entry
    Import {
        /// The stream: a file, or - for standard input
        source: PathBuf,
        /// Cache folder [default: $NRUN_CACHE or results/.cache]
        #[arg(long)]
        cache: Option<PathBuf>,
    },
    /// Run every pipeline under pipelines/ and combine their reports
    #[command(name = "reproduce-report")]
    ReproduceReport(RunArgs),
    /// Build one stage instance from its job file (what cluster jobs run)
    #[command(hide = true)]
    Exec {
        /// The cache the job belongs to
        #[arg(long)]
        cache: PathBuf,
        /// The instance's cache key
        key: String,
    },
}

#[derive(Args, Debug, Clone, Default)]
pub struct PipelineArgs {
    /// Pipeline file, or the name of one under pipelines/
    pub pipeline: Option<PathBuf>,
    /// Replace or add a grid axis: --grid gamma=0,0.5,1 (repeatable)
    #[arg(long = "grid", value_name = "KEY=V1,V2,...")]
    pub grids: Vec<String>,
    /// Override a param: --set train.iterations=200 (repeatable)
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Scale preset declared in the pipeline's `scales` (e.g. smoke, full)
    #[arg(long)]
    pub scale: Option<String>,
    /// Only these targets, stages or cells of them and what they need:
    /// NAME, or NAME[PARAM=VALUE ...] e.g. 'train[cost=weak_kernel gamma=0.5]' (repeatable)
    #[arg(long = "target", value_name = "NAME[CELL]")]
    pub targets: Vec<String>,
    /// Cache folder [default: $NRUN_CACHE or results/.cache]
    #[arg(long)]
    pub cache: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct ShowArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// Sort the cells by this metric, smallest first (cells without it last)
    #[arg(long, value_name = "METRIC")]
    pub sort: Option<String>,
    /// With --sort: largest first
    #[arg(long, requires = "sort")]
    pub desc: bool,
    /// Keep the cells whose param takes one of these values (repeatable)
    #[arg(long = "only", value_name = "PARAM=V1,V2,...")]
    pub only: Vec<String>,
    /// Show these metrics, in this order
    #[arg(long, value_name = "A,B,...", value_delimiter = ',')]
    pub metrics: Option<Vec<String>>,
    #[arg(long, value_enum, default_value_t = crate::show::Format::Table)]
    pub format: crate::show::Format,
    /// Add the diagnostics of the training behind each cell: outer steps,
    /// seconds per step, where it diverged, the fit's last and best values
    /// and the step of the best (where the train stage records a `trace`)
    #[arg(long)]
    pub train: bool,
    /// Beside each metric, its change since an earlier run: that run's
    /// last-run.json (copy it before changing a param), another checkout's
    /// results/<pipeline>/last-run.json (read from its cache), another
    /// cache folder (the same cells built there), or a published table's
    /// CSV (a report's tables/NAME.csv, NAME a table stage or the report
    /// input bound to one)
    #[arg(long, value_name = "REF")]
    pub against: Option<PathBuf>,
    /// Instead: the newest run's timeline (every instance it built on the
    /// run's clock) and its CPU- and GPU-hours
    #[arg(long, conflicts_with_all = ["sort", "only", "metrics", "against"])]
    pub timeline: bool,
}

#[derive(Args, Debug, Clone, Default)]
pub struct RunArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// CPU tokens: stage instances running at once [default: number of cores]
    #[arg(short = 'j', long = "jobs", value_parser = at_least_one, allow_negative_numbers = true)]
    pub jobs: Option<usize>,
    /// After a failure, keep running the branches that do not depend on it
    #[arg(long)]
    pub keep_going: bool,
    /// Show what would run, run nothing
    #[arg(long)]
    pub dry_run: bool,
    /// GPU ids to schedule on, e.g. 0,1 [default: $CUDA_VISIBLE_DEVICES]
    #[arg(long, value_parser = parse_gpus)]
    pub gpus: Option<String>,
    /// Stage slots per GPU (several small trainings can share one GPU)
    #[arg(long, default_value_t = 1, value_parser = at_least_one, allow_negative_numbers = true)]
    pub slots_per_gpu: usize,
    /// Device for training stages: auto, cpu, flex or cuda:N
    #[arg(long, default_value = "auto", value_parser = parse_device)]
    pub device: DeviceChoice,
    /// Print only failures and the summary
    #[arg(short, long)]
    pub quiet: bool,
    /// Where stages run [default: the pipeline's `executor`, else local]
    #[arg(long, value_enum)]
    pub executor: Option<ExecutorKind>,
    /// Stop cleanly within this time (e.g. 540, 9m, 1h30m): nothing new
    /// starts near the end, trainings checkpoint, exit 75; rerun to resume
    #[arg(long, value_name = "DURATION", value_parser = parse_time_limit, allow_negative_numbers = true)]
    pub time_limit: Option<Duration>,
}

fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err("expected a whole number".into()),
    }
}

/// GPU ids as `CUDA_VISIBLE_DEVICES` takes them: indices, or `GPU-` /
/// `MIG-` UUIDs, comma-separated.
fn parse_gpus(text: &str) -> Result<String, String> {
    for id in text.split(',').map(str::trim) {
        let index = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
        let uuid = id.starts_with("GPU-") || id.starts_with("MIG-");
        if !(index || uuid || id == "-1") {
            return Err(format!(
                "`{id}` is not a GPU id (expected indices such as 0,1, or GPU-/MIG- UUIDs)"
            ));
        }
    }
    Ok(text.to_string())
}

/// A device this build can compute on.
fn parse_device(text: &str) -> Result<DeviceChoice, String> {
    let device: DeviceChoice = text.parse()?;
    if matches!(device, DeviceChoice::Cuda(_)) && !cfg!(feature = "tch") {
        return Err(
            "this nrun was built without GPU support (the `tch` build has it: see README, Builds and devices)"
                .into(),
        );
    }
    Ok(device)
}

/// Seconds as a plain number, or a duration like `9m`, `1h30m`, `90s`.
fn parse_time_limit(text: &str) -> Result<Duration, String> {
    let limit = match text.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs >= 0.0 => Duration::from_secs_f64(secs),
        Ok(_) => return Err("must be a positive number of seconds".into()),
        Err(_) => humantime::parse_duration(text.trim()).map_err(|_| {
            format!("`{text}` is not a duration: write seconds, or such as 9m, 1h30m")
        })?,
    };
    if limit.is_zero() {
        return Err("must be positive".into());
    }
    Ok(limit)
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecutorKind {
    /// Threads of this process
    Local,
    /// sbatch jobs on a Slurm cluster sharing this filesystem
    Slurm,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DagFormat {
    Text,
    Dot,
}

/// `60M`, `1.5G`, `700K` (powers of 1024) or plain bytes.
pub fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => text.split_at(i),
        None => (text, ""),
    };
    let scale: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return Err(format!("unknown unit `{unit}` (use K, M or G)")),
    };
    match number.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 => Ok((n * scale as f64) as u64),
        _ => Err("expected a positive size such as 60M".into()),
    }
}

/// A command-line error on one line: clap's first line, with what its
/// other lines add that helps (the possible values, a similar flag, the
/// arguments missing and, then, the usage); its other tips left out.
pub fn one_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let mut line = first.strip_prefix("error: ").unwrap_or(first).to_string();
    let listing = line.ends_with(':');
    for more in lines.map(str::trim) {
        if let Some(values) = more
            .strip_prefix("[possible values: ")
            .and_then(|v| v.strip_suffix(']'))
        {
            line.push_str(&format!(" (possible values: {values})"));
        } else if let Some(similar) = [
            "tip: a similar argument exists: ",
            "tip: a similar subcommand exists: ",
            "tip: some similar arguments exist: ",
            "tip: some similar subcommands exist: ",
        ]
        .iter()
        .find_map(|tip| more.strip_prefix(tip))
        {
            line.push_str(&format!("; did you mean {similar}?"));
        } else if listing && (more.starts_with('<') || more.starts_with('-')) {
            line.push(' ');
            line.push_str(more);
        } else if let Some(usage) = more.strip_prefix("Usage: ") {
            // What was missing is clearer beside what the command takes.
            if e.kind() == clap::error::ErrorKind::MissingRequiredArgument {
                line.push_str(&format!(" (usage: {usage})"));
            }
            break;
        }
    }
    line
}

/// The subcommands a user may type.
fn subcommands() -> Vec<String> {
    <Cli as clap::CommandFactory>::command()
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| s.get_name().to_string())
        .collect()
}

pub fn is_subcommand(word: &str) -> bool {
    subcommands().iter().any(|s| s == word)
}

/// "; did you mean `show`?" where `word` is a subcommand misspelt.
pub fn subcommand_hint(word: &str) -> String {
    let names = subcommands();
    crate::suggest::closest(word, names.iter().map(String::as_str))
        .map(|n| format!("; did you mean `{n}`?"))
        .unwrap_or_default()
}
