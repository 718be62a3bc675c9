//! `nrun logs PIPELINE STAGE[CELL]`: the log of the newest build of one
//! stage instance: the cache entry's for a built instance, the work area's
//! for a build that failed or is running (`--follow` prints it as it grows,
//! until the build ends).

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::Duration;

use super::Loaded;
use crate::cache::Store;
use crate::cli::PipelineArgs;
use crate::error::{Error, Result, exit};
use crate::plan::Plan;
use crate::spec::Pipeline;
use crate::target::Target;

pub fn run(args: &PipelineArgs, instance: &str, follow: bool) -> Result<u8> {
    let target = Target::parse(instance)?;
    let loaded = Loaded::load(args)?;
    let i = find(&loaded.pipeline, &loaded.plan, &target, instance)?;
    let key = &loaded.plan.instances[i].key;
    let label = loaded.plan.label(&loaded.pipeline, i);
    let store = &loaded.store;
    let entry_log = store.entry(key).join("log.txt");
    let work_log = store.work(key).join("log.txt");
    if store.contains(key) {
        print_file(&entry_log, 0)?;
        return Ok(exit::OK);
    }
    if !work_log.is_file() {
        return Err(Error::Usage(format!(
            "{label} has not been built: no log yet (`nrun status` says why it would run)"
        )));
    }
    let mut shown = print_file(&work_log, 0)?;
    if follow {
        follow_build(store, key, &work_log, &entry_log, &mut shown)?;
    }
    Ok(exit::OK)
}

/// The one instance `target` names (`instance`, as typed).
fn find(p: &Pipeline, plan: &Plan, target: &Target, instance: &str) -> Result<usize> {
    match target.instances(p, plan, instance)?[..] {
        [i] => Ok(i),
        ref matches => Err(Error::Usage(format!(
            "{instance}: {} instances match; name the cell, e.g. {}",
            matches.len(),
            plan.label(p, matches[0])
        ))),
    }
}

/// Prints `path` from byte `from` on; returns where it ended.
fn print_file(path: &Path, from: u64) -> Result<u64> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    file.seek(SeekFrom::Start(from))
        .map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(&bytes);
    let _ = out.flush();
    Ok(from + bytes.len() as u64)
}

/// Prints what the running build appends, until it commits its entry (whose
/// log copy has the rest) or stops holding the build lock (it failed or
/// was stopped).
fn follow_build(
    store: &Store,
    key: &str,
    work_log: &Path,
    entry_log: &Path,
    shown: &mut u64,
) -> Result<()> {
    loop {
        let ended = store.try_lock(key)?.is_some();
        if store.contains(key) {
            print_rest(entry_log, shown)?;
            return Ok(());
        }
        print_rest(work_log, shown)?;
        if ended {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Prints what `path` holds beyond `shown`; a log not there (yet, or any
/// more: a commit removes the work area) prints nothing.
fn print_rest(path: &Path, shown: &mut u64) -> Result<()> {
    match print_file(path, *shown) {
        Ok(end) => *shown = end,
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    Ok(())
}
