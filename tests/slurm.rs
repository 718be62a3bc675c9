//! End-to-end runs through a real one-node Slurm cluster. `scripts/test.sh`
//! starts one with `tests/slurm/start.sh` and exports `NRUN_SLURM_ENV`;
//! without it these tests print why and pass without running.

mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use common::Project;

/// The cluster's client environment, or `None` (with a message) to skip.
fn cluster() -> Option<Vec<(String, String)>> {
    let Ok(path) = std::env::var("NRUN_SLURM_ENV") else {
        eprintln!(
            "skipping Slurm test: NRUN_SLURM_ENV is not set (scripts/test.sh starts a cluster with tests/slurm/start.sh)"
        );
        return None;
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Some(
        text.lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| {
                (
                    k.to_string(),
                    v.trim_matches('"').trim_matches('\'').to_string(),
                )
            })
            .collect(),
    )
}

fn slurm_run(p: &Project, env: &[(String, String)], args: &[&str]) -> common::Run {
    let mut cmd = p.command(args);
    cmd.envs(env.iter().cloned());
    common::Run::from_output(cmd.output().expect("nrun runs"))
}

const PIPELINE: &str = r#"
name: sl
params:
  grid:
    i: [1, 2, 3]
stages:
  step:
    kind: command
    resources: {cpus: 1, mem: 100M}
    params: {run: "echo step-${i} >> runs.log; echo ${i} > {out}/v"}
  check:
    kind: command
    inputs: {v: step}
    params: {run: "test $(cat {in.v}/v) != 2 || exit 7; cp {in.v}/v {out}/v"}
  after:
    kind: command
    inputs: {c: check}
    params: {run: "cp {in.c}/v {out}/w"}
  sum:
    kind: command
    inputs: {v: step}
    aggregate: all
    params: {run: "for d in {in.v}; do cat $d/v; done > {out}/all"}
"#;

fn keys(p: &Project) -> BTreeMap<String, (String, String)> {
    p.last_run("sl")["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                format!("{}{}", i["stage"].as_str().unwrap(), i["cell"]),
                (
                    i["key"].as_str().unwrap().to_string(),
                    i["status"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect()
}

#[test]
fn slurm_runs_match_local_runs_and_report_failures() {
    let Some(env) = cluster() else { return };
    let local = Project::new();
    local.file("p.yaml", PIPELINE);
    local.nrun(&["p.yaml", "--keep-going"]).code(1);
    let remote = Project::new();
    remote.file("p.yaml", PIPELINE);
    let run = slurm_run(
        &remote,
        &env,
        &["p.yaml", "--executor", "slurm", "--keep-going"],
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(keys(&local), keys(&remote), "same keys and statuses");
    assert_eq!(
        remote.read("results/sl/sum/_/all"),
        local.read("results/sl/sum/_/all")
    );
    assert!(
        run.stderr.contains("failed: check[i=2]: slurm job")
            && run
                .stderr
                .contains("(exit code 1): command failed with exit code 7"),
        "{}",
        run.stderr
    );
    let statuses = keys(&remote);
    assert_eq!(statuses["after{\"i\":2}"].1, "skipped");
    assert_eq!(statuses["after{\"i\":1}"].1, "ran");
    // The job's own log is named, and holds the stage's output.
    assert!(
        run.stderr.contains("slurm-") && run.stderr.contains(".out"),
        "{}",
        run.stderr
    );

    // A second run retries the failed instance only.
    let again = slurm_run(
        &remote,
        &env,
        &["p.yaml", "--executor", "slurm", "--keep-going"],
    );
    assert_eq!(again.code, 1);
    assert!(
        again.stdout.contains("slurm: 1 queued, 0 running"),
        "{}",
        again.stdout
    );
    assert!(
        again
            .stdout
            .contains("0 ran, 8 cached, 1 failed, 1 skipped"),
        "{}",
        again.stdout
    );

    // Once everything succeeds, a second run submits nothing.
    let ok = Project::new();
    ok.file("p.yaml", &PIPELINE.replace("|| exit 7", "|| true"));
    slurm_run(&ok, &env, &["p.yaml", "--executor", "slurm"]).ok();
    let second = slurm_run(&ok, &env, &["p.yaml", "--executor", "slurm"]).ok();
    assert!(
        !second.stdout.contains("queued") && second.stdout.contains("0 ran, 10 cached"),
        "{}",
        second.stdout
    );
}

const SLOW: &str = r#"
name: slow
executor: {kind: slurm, poll_min: 0.2, poll_max: 1}
params:
  grid:
    i: [1, 2]
stages:
  nap:
    kind: command
    params: {run: "echo start-${i} >> runs.log; sleep 20; echo ${i} > {out}/v"}
"#;

fn wait_for_lines(p: &Project, count: usize) {
    let start = Instant::now();
    while p.lines("runs.log").len() < count {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "jobs did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Job ids recorded in the work areas, sorted.
fn job_ids(p: &Project) -> Vec<String> {
    let mut ids: Vec<String> = walkdir::WalkDir::new(p.path().join("results/.cache/work"))
        .into_iter()
        .flatten()
        .filter(|e| e.file_name() == "slurm.json")
        .map(|e| {
            serde_json::from_slice::<serde_json::Value>(&std::fs::read(e.path()).unwrap()).unwrap()
                ["job"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    ids.sort();
    ids
}

/// Ids of the jobs Slurm knows whose working folder is `dir`.
fn queue_in(env: &[(String, String)], dir: &std::path::Path) -> Vec<String> {
    let out = Command::new("squeue")
        .args(["-h", "-t", "all", "-o", "%i %Z"])
        .envs(env.iter().cloned())
        .output()
        .unwrap();
    let dir = dir.canonicalize().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(_, d)| {
            std::path::Path::new(d.trim())
                .canonicalize()
                .ok()
                .as_deref()
                == Some(dir.as_path())
        })
        .map(|(id, _)| id.to_string())
        .collect()
}

fn queue(env: &[(String, String)]) -> String {
    let out = Command::new("squeue")
        .args(["-h", "-o", "%i %j %T"])
        .envs(env.iter().cloned())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn an_interrupted_slurm_run_cancels_its_jobs_and_leaves_a_clean_cache() {
    let Some(env) = cluster() else { return };
    let p = Project::new();
    p.file("p.yaml", SLOW);
    let mut cmd = p.command(&["p.yaml"]);
    cmd.envs(env.iter().cloned());
    let mut child = cmd.spawn().unwrap();
    wait_for_lines(&p, 1);
    let mine = job_ids(&p);
    assert!(!mine.is_empty());
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let start = Instant::now();
    while mine.iter().any(|j| {
        queue(&env)
            .lines()
            .any(|l| l.starts_with(&format!("{j} ")) && !l.ends_with("CANCELLED"))
    }) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "jobs still queued: {}",
            queue(&env)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        p.cache_entries().is_empty(),
        "no entry from a cancelled job"
    );
}

#[test]
fn a_rerun_after_a_crash_adopts_running_jobs() {
    let Some(env) = cluster() else { return };
    let p = Project::new();
    p.file("p.yaml", &SLOW.replace("sleep 20", "sleep 6"));
    let mut cmd = p.command(&["p.yaml"]);
    cmd.envs(env.iter().cloned());
    let mut child = cmd.spawn().unwrap();
    wait_for_lines(&p, 1);
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    child.wait().unwrap();
    let before = job_ids(&p);
    assert_eq!(before.len(), 2, "both jobs were submitted before the crash");
    let run = slurm_run(&p, &env, &["p.yaml"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    // Every job this project ever submitted (the work areas are gone now
    // that the entries exist): the crashed run's two, no more.
    let mut submitted: Vec<String> = queue_in(&env, p.path());
    submitted.sort();
    assert_eq!(
        submitted, before,
        "the rerun adopted the jobs instead of submitting new ones"
    );
    let starts = p.lines("runs.log");
    assert_eq!(starts.len(), 2, "each instance ran once: {starts:?}");
    assert_eq!(p.cache_entries().len(), 2);
}

#[test]
fn a_job_the_cluster_ends_stops_its_branch_and_the_run_goes_on() {
    let Some(env) = cluster() else { return };
    let p = Project::new();
    // nap[i=1] waits until the test lets it go; nap[i=2] until its sibling's
    // job has been cancelled, so that `after[i=2]` starts after the run knew.
    p.file(
        "p.yaml",
        r#"
name: ends
executor: {kind: slurm, poll_min: 0.2, poll_max: 0.5}
params:
  grid:
    i: [1, 2]
stages:
  nap:
    kind: command
    params:
      run: "echo ${i} $SLURM_JOB_ID >> runs.log; until [ -e go-${i} ]; do sleep 0.1; done; echo ${i} > {out}/v"
  after:
    kind: command
    inputs: {v: nap}
    params: {run: "cp {in.v}/v {out}/v"}
"#,
    );
    let mut cmd = p.command(&["p.yaml"]);
    cmd.envs(env.iter().cloned());
    cmd.stdout(std::process::Stdio::piped());
    cmd.stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    wait_for_lines(&p, 2);
    let first = p
        .lines("runs.log")
        .into_iter()
        .find_map(|l| l.strip_prefix("1 ").map(str::to_string))
        .expect("nap[i=1] logged its job id");
    let cancel = Command::new("scancel")
        .arg(&first)
        .envs(env.iter().cloned())
        .status()
        .unwrap();
    assert!(cancel.success());
    let start = Instant::now();
    while queue(&env)
        .lines()
        .any(|l| l.starts_with(&format!("{first} ")))
    {
        assert!(start.elapsed() < Duration::from_secs(30), "{}", queue(&env));
        std::thread::sleep(Duration::from_millis(100));
    }
    // Two of the run's polls after the job left the queue.
    std::thread::sleep(Duration::from_millis(1500));
    p.file("go-2", "");
    let run = common::Run::from_output(child.wait_with_output().unwrap());
    assert_eq!(run.code, 75, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&format!(
            "stopped nap[i=1]: slurm job {first} ended CANCELLED"
        )) && run
            .stdout
            .contains("skipped after[i=1]: input nap[i=1] stopped (resumable)")
            && run
                .stdout
                .contains("ends: 2 ran, 0 cached, 0 failed, 1 skipped, 1 stopped"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains(&format!(
            "stopped: nap[i=1]: slurm job {first} ended CANCELLED"
        )) && run
            .stderr
            .contains("1 cluster job ended early: finished entries are cached"),
        "{}",
        run.stderr
    );
    assert_eq!(p.read("results/ends/after/i=2/v").trim(), "2");

    // The rerun builds only what the cancelled job's branch needs.
    p.file("go-1", "");
    let again = slurm_run(&p, &env, &["p.yaml"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(
        again.stdout.contains("ends: 2 ran, 2 cached"),
        "{}",
        again.stdout
    );
}
