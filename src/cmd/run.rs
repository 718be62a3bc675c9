//! `nrun [run] PIPELINE`: run what is not cached, publish links and
//! last-run.json, print a summary.

use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::Loaded;
use crate::cli::ExecutorKind;
use crate::cli::RunArgs;
use crate::environment::Environment;
use crate::error::{Error, Result, exit};
use crate::exec::events::Status;
use crate::exec::{self, progress, slots};
use crate::results;
use crate::run_info::RunInfo;
use crate::spec::ExecutorSpec;
use crate::spec::SlurmConfig;
use crate::stop::{self, Stop};

pub fn run(args: &RunArgs) -> Result<u8> {
    let loaded = Loaded::load(&args.pipeline)?;
    let selected = loaded.select(&args.pipeline.targets)?;
    if args.dry_run {
        return super::status::print(&loaded, &selected, false);
    }
    execute(&loaded, &selected, args)
}

/// The facts of this run of `p`, as stages and reports record them.
pub fn run_info(p: &crate::spec::Pipeline, args: &RunArgs) -> RunInfo {
    RunInfo {
        pipeline: p.name.clone(),
        command: RunInfo::command_line(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        results: results::pipeline_dir(p),
        device: args.device,
        scale: p.scale.clone(),
        environment: Environment::capture(Path::new(".")),
    }
}

/// Runs the selected instances of a loaded pipeline; the exit code.
pub fn execute(loaded: &Loaded, selected: &[usize], args: &RunArgs) -> Result<u8> {
    let Loaded {
        pipeline: p,
        plan,
        store,
        ..
    } = loaded;
    let started = Instant::now();
    let stop = process_stop(args.time_limit)?;
    let info = run_info(p, args);
    if let Some(other) = results::other_file_of_the_same_name(p) {
        super::warn(format!(
            "note: {} and {} are both named `{}`: this run's {} (last-run.json, links, published copies) replaces the other's; give one its own `name:`",
            p.file.display(),
            other.display(),
            p.name,
            info.results.display()
        ));
    }
    let spec = match args.executor {
        Some(ExecutorKind::Local) => ExecutorSpec::Local,
        Some(ExecutorKind::Slurm) => match &p.executor {
            ExecutorSpec::Slurm(config) => ExecutorSpec::Slurm(config.clone()),
            ExecutorSpec::Local => ExecutorSpec::Slurm(SlurmConfig::default_settings()),
        },
        None => p.executor.clone(),
    };
    // With everything built, nothing is submitted: a cluster need not answer.
    let all_built = || {
        selected
            .iter()
            .all(|&i| store.contains(&plan.instances[i].key))
    };
    let on_cluster = matches!(spec, ExecutorSpec::Slurm(_));
    let mut executor: Box<dyn exec::Executor> = match spec {
        ExecutorSpec::Slurm(config) if !all_built() => {
            Box::new(exec::slurm::Slurm::new(store.clone(), config).map_err(Error::Usage)?)
        }
        _ => Box::new(exec::local::Local::new(store.clone(), stop.clone())),
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let opts = exec::Options {
        // On a cluster, -j caps the jobs in flight; by default the cluster
        // schedules as many as it can.
        jobs: args.jobs.unwrap_or(if executor.shares_this_machine() {
            cores
        } else {
            10_000
        }),
        keep_going: args.keep_going,
        // A cluster's jobs get their GPUs from the cluster.
        gpus: if !on_cluster {
            slots::gpus(
                args.gpus.as_deref(),
                std::env::var("CUDA_VISIBLE_DEVICES").ok().as_deref(),
                crate::ot::backend::gpu_count(),
            )
            .map_err(Error::Usage)?
        } else {
            Vec::new()
        },
        slots_per_gpu: args.slots_per_gpu,
    };
    let mut reporter = progress::for_stdout(args.quiet);
    let outcomes = exec::execute(
        p,
        plan,
        selected,
        store,
        &opts,
        &info,
        executor.as_mut(),
        reporter.as_mut(),
        &stop,
    );
    results::publish_links(p, plan, selected, &outcomes.results, store)?;

    let statuses: Vec<&Status> = selected
        .iter()
        .filter_map(|&i| outcomes.results[i].as_ref().map(|(s, _)| s))
        .collect();
    let count = |name: &str| statuses.iter().filter(|s| s.name() == name).count();
    let code = if let Some(why) = outcomes.stopped {
        why.exit_code()
    } else if statuses.iter().any(|s| {
        matches!(
            s,
            Status::Failed {
                bad_input: true,
                ..
            }
        )
    }) {
        exit::INVALID
    } else if count("failed") > 0 {
        exit::FAILED
    } else if count("stopped") > 0 {
        // Cluster jobs ended early; the rest of the run finished.
        exit::STOPPED
    } else {
        exit::OK
    };
    let last_run = results::write_last_run(
        p,
        plan,
        selected,
        &outcomes.results,
        &outcomes.spans,
        &results::RunSummary {
            command: &info.command,
            environment: &info.environment,
            exit_code: code,
            seconds: started.elapsed().as_secs_f64(),
        },
    )?;
    // After last-run.json, whose timeline published reports draw.
    let timeline = std::fs::read(&last_run)
        .ok()
        .and_then(|bytes| crate::timeline::Timeline::read(&bytes).ok());
    let beside = crate::publish::publish_copies(
        p,
        plan,
        selected,
        &outcomes.results,
        store,
        &info,
        timeline.as_ref(),
    )?;
    super::say(format!(
        "{}: {} ran, {} cached, {} failed, {} skipped{} in {:.1}s ({})",
        p.name,
        count("ran"),
        count("cached"),
        count("failed"),
        count("skipped"),
        match count("stopped") {
            0 => String::new(),
            n => format!(", {n} stopped"),
        },
        started.elapsed().as_secs_f64(),
        last_run.display()
    ));
    for note in beside {
        super::say(note);
    }
    for &i in selected {
        match &outcomes.results[i] {
            Some((Status::Failed { message, log, .. }, _)) => super::warn(format!(
                "failed: {}: {message}\n  log: {}",
                plan.label(p, i),
                log.display()
            )),
            // What the cluster ended, and why, even under -q.
            Some((Status::JobEnded { reason }, _)) => {
                super::warn(format!("stopped: {}: {reason}", plan.label(p, i)))
            }
            _ => {}
        }
    }
    let stopped = match outcomes.stopped {
        Some(why) => Some(why.describe().to_string()),
        None => match count("stopped") {
            0 => None,
            1 => Some("1 cluster job ended early".to_string()),
            n => Some(format!("{n} cluster jobs ended early")),
        },
    };
    if let Some(what) = stopped {
        super::warn(format!(
            "{what}: finished entries are cached and stopped trainings checkpointed; rerun the same command to resume"
        ));
    }
    Ok(code)
}

/// The process's one `Stop`: signal handlers are registered once, and the
/// time limit counts from the process's start (`reproduce-report` runs
/// several pipelines within one limit).
fn process_stop(limit: Option<Duration>) -> Result<Stop> {
    static SIGNALS: OnceLock<std::io::Result<Stop>> = OnceLock::new();
    let signals = match SIGNALS.get_or_init(Stop::from_signals) {
        Ok(stop) => stop,
        Err(e) => return Err(Error::Other(format!("installing signal handlers: {e}"))),
    };
    Ok(signals
        .clone()
        .with_deadline(limit.map(|l| stop::deadline(stop::process_start(), l))))
}
