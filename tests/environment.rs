//! Every run records what it ran on: nrun's version, the pipeline
//! repository's commit and whether it had uncommitted changes, the CPU.

mod common;

use std::process::Command;

use common::Project;

fn git(p: &Project, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(p.path())
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

const PIPELINE: &str = "name: env\nstages:\n  a:\n    kind: command\n    params: {run: 'echo ${n} > {out}/n'}\nparams: {n: 1}\n";

#[test]
fn last_run_records_the_commit_its_state_and_the_machine() {
    let p = Project::new();
    p.file("env.yaml", PIPELINE);
    // Outside a repository there is no commit to name (git looks no higher
    // than the project, wherever the temporary folder is).
    let parent = p.path().parent().unwrap().to_path_buf();
    let out = p
        .command(&["env.yaml"])
        .env("GIT_CEILING_DIRECTORIES", &parent)
        .output()
        .unwrap();
    assert!(out.status.success());
    let env = &p.last_run("env")["environment"];
    assert_eq!(env["git"], serde_json::Value::Null, "{env}");
    assert_eq!(env["nrun"], env!("CARGO_PKG_VERSION"));
    assert!(env["cores"].as_u64().unwrap() >= 1, "{env}");
    assert!(!env["cpu"].as_str().unwrap().is_empty(), "{env}");

    git(&p, &["init", "-q"]);
    git(&p, &["add", "env.yaml"]);
    git(&p, &["commit", "-q", "-m", "pipeline"]);
    let head = git(&p, &["rev-parse", "HEAD"]);
    p.nrun(&["env.yaml"]).ok();
    let env = &p.last_run("env")["environment"];
    assert_eq!(env["git"]["commit"], head.as_str(), "{env}");
    assert_eq!(env["git"]["dirty"], false, "results/ is not tracked: {env}");

    // Outputs under results/ are nrun's, not code: with them committed, a
    // run rewrites last-run.json, and the next run's state is still clean.
    git(&p, &["add", "-A"]);
    git(&p, &["commit", "-q", "-m", "results"]);
    p.nrun(&["env.yaml"]).ok();
    p.nrun(&["env.yaml"]).ok();
    let env = &p.last_run("env")["environment"];
    assert_eq!(env["git"]["dirty"], false, "{env}");

    p.file("env.yaml", &PIPELINE.replace("{n: 1}", "{n: 2}"));
    p.nrun(&["env.yaml"]).ok();
    let env = &p.last_run("env")["environment"];
    assert_eq!(env["git"]["dirty"], true, "{env}");
}
