//! The readable side of the cache: `results/<pipeline>/<stage>/<cell>` links
//! to entries, and `results/<pipeline>/last-run.json` (published copies:
//! [`crate::publish`]).

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value as Json;

use crate::cache::Store;
use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::exec::Span;
use crate::exec::events::Status;
use crate::plan::Plan;
use crate::spec::Pipeline;

/// `results/<pipeline>`, relative to where nrun runs.
pub fn pipeline_dir(p: &Pipeline) -> PathBuf {
    PathBuf::from("results").join(&p.name)
}

/// The readable link of an instance.
pub fn link(p: &Pipeline, plan: &Plan, i: usize) -> PathBuf {
    let inst = &plan.instances[i];
    pipeline_dir(p)
        .join(&p.stages[inst.stage].name)
        .join(inst.cell.label())
}

/// The record of the entry the instance's link pointed at before this run:
/// what `status` compares against to say why an instance will run.
pub fn previous_record(p: &Pipeline, plan: &Plan, i: usize) -> Option<Json> {
    let target = std::fs::read_link(link(p, plan, i)).ok()?;
    let bytes = std::fs::read(target.parent()?.join("record.json")).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Points the links of successful instances at their entries.
pub fn publish_links(
    p: &Pipeline,
    plan: &Plan,
    selected: &[usize],
    results: &[Option<(Status, f64)>],
    store: &Store,
) -> Result<()> {
    for &i in selected {
        if matches!(&results[i], Some((s, _)) if s.ok()) {
            let link = link(p, plan, i);
            crate::fsutil::symlink_atomic(&store.output(&plan.instances[i].key), &link)
                .map_err(|e| Error::io(&link, e))?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct LastRun<'a> {
    pipeline: &'a str,
    /// The pipeline file, as the command named it.
    file: &'a Path,
    command: &'a str,
    nrun_version: &'a str,
    scale: Option<&'a str>,
    exit_code: u8,
    seconds: f64,
    environment: &'a Environment,
    instances: Vec<InstanceReport>,
}

#[derive(Serialize)]
struct InstanceReport {
    stage: String,
    cell: Json,
    key: String,
    status: &'static str,
    seconds: f64,
    /// Seconds since the run began when the instance started and ended
    /// (instances built by this run only).
    #[serde(skip_serializing_if = "Option::is_none")]
    start: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpus: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gpu: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log: Option<PathBuf>,
}

pub struct RunSummary<'a> {
    pub command: &'a str,
    pub environment: &'a Environment,
    pub exit_code: u8,
    pub seconds: f64,
}

/// Writes `results/<pipeline>/last-run.json` (atomically).
pub fn write_last_run(
    p: &Pipeline,
    plan: &Plan,
    selected: &[usize],
    results: &[Option<(Status, f64)>],
    spans: &[Option<Span>],
    summary: &RunSummary,
) -> Result<PathBuf> {
    let ms = |s: f64| (s * 1000.0).round() / 1000.0;
    let instances = selected
        .iter()
        .filter_map(|&i| {
            let (status, seconds) = results[i].as_ref()?;
            let inst = &plan.instances[i];
            let (message, log) = match status {
                Status::Failed { message, log, .. } => (Some(message.clone()), Some(log.clone())),
                Status::Skipped { reason }
                | Status::Stopped { reason, .. }
                | Status::JobEnded { reason } => (Some(reason.clone()), None),
                _ => (None, None),
            };
            let span = spans[i].as_ref().filter(|s| s.end.is_finite());
            Some(InstanceReport {
                stage: p.stages[inst.stage].name.clone(),
                cell: inst.cell.to_json(),
                key: inst.key.clone(),
                status: status.name(),
                seconds: ms(*seconds),
                start: span.map(|s| ms(s.start)),
                end: span.map(|s| ms(s.end)),
                cpus: span.map(|s| s.cpus),
                gpu: span.and_then(|s| s.gpu.clone()),
                message,
                log,
            })
        })
        .collect();
    let report = LastRun {
        pipeline: &p.name,
        file: &p.file,
        command: summary.command,
        nrun_version: env!("CARGO_PKG_VERSION"),
        scale: p.scale.as_deref(),
        exit_code: summary.exit_code,
        seconds: ms(summary.seconds),
        environment: summary.environment,
        instances,
    };
    let path = pipeline_dir(p).join("last-run.json");
    let bytes = serde_json::to_vec_pretty(&report).map_err(|e| Error::Other(e.to_string()))?;
    crate::fsutil::write_atomic(&path, &bytes).map_err(|e| Error::io(&path, e))?;
    Ok(path)
}

/// Another pipeline file that still exists and last wrote `p`'s results
/// folder under the same `name:` (a copy made to try a variant), whose
/// results this run replaces.
pub fn other_file_of_the_same_name(p: &Pipeline) -> Option<PathBuf> {
    #[derive(serde::Deserialize)]
    struct Written {
        file: PathBuf,
    }
    let bytes = std::fs::read(pipeline_dir(p).join("last-run.json")).ok()?;
    let other = serde_json::from_slice::<Written>(&bytes).ok()?.file;
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => true,
    };
    (!same(&other, &p.file)).then_some(other)
}

/// Every entry key some readable link under `results/` points at.
pub fn linked_keys(results: &Path) -> Vec<String> {
    walkdir::WalkDir::new(results)
        .follow_links(false)
        .into_iter()
        .flatten()
        .filter(|e| e.path_is_symlink())
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter_map(|t| {
            let entry = t.parent()?;
            let key = entry.file_name()?.to_string_lossy().into_owned();
            crate::cache::is_key(&key).then_some(key)
        })
        .collect()
}
