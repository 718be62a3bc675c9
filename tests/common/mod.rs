//! A small builder that runs the real `nrun` binary in a scratch project.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value as Json;

pub struct Project {
    dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from_output(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// stdout as the array of rows a `--json` listing prints.
    #[track_caller]
    pub fn json_rows(&self) -> Vec<Json> {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is no JSON array ({e}):\n{}", self.stdout))
    }

    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn code(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

pub fn nrun_bin() -> &'static str {
    env!("CARGO_BIN_EXE_nrun")
}

impl Project {
    pub fn new() -> Project {
        Project {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, rel: &str, text: &str) -> &Project {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(rel))
            .unwrap_or_else(|e| panic!("reading {rel}: {e}"))
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(nrun_bin());
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_remove("NRUN_CACHE")
            .env_remove("CUDA_VISIBLE_DEVICES");
        cmd
    }

    pub fn nrun(&self, args: &[&str]) -> Run {
        Run::from_output(self.command(args).output().expect("running nrun"))
    }

    /// nrun reading `stdin` from a file, as `cat part.* | nrun import -`.
    pub fn nrun_stdin(&self, args: &[&str], stdin: &Path) -> Run {
        let file = std::fs::File::open(stdin).expect("opening the stdin file");
        Run::from_output(
            self.command(args)
                .stdin(file)
                .output()
                .expect("running nrun"),
        )
    }

    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning nrun")
    }

    /// Lines of a file the test's commands append to, one per execution.
    pub fn lines(&self, rel: &str) -> Vec<String> {
        match std::fs::read_to_string(self.dir.path().join(rel)) {
            Ok(t) => t.lines().map(str::to_string).collect(),
            Err(_) => Vec::new(),
        }
    }

    pub fn clear(&self, rel: &str) {
        let _ = std::fs::remove_file(self.dir.path().join(rel));
    }

    pub fn last_run(&self, pipeline: &str) -> Json {
        serde_json::from_str(&self.read(&format!("results/{pipeline}/last-run.json"))).unwrap()
    }

    /// `stage status` pairs from last-run.json, sorted.
    pub fn statuses(&self, pipeline: &str) -> Vec<(String, String, String)> {
        let mut out: Vec<(String, String, String)> = self.last_run(pipeline)["instances"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["stage"].as_str().unwrap().to_string(),
                    i["cell"].to_string(),
                    i["status"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        out.sort();
        out
    }

    pub fn cache_entries(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.dir.path().join("results/.cache/entries"))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default()
    }
}
