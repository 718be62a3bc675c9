//! What a run ran on, recorded in `last-run.json` and in reports so that a
//! number can be traced to the code and machine that produced it: nrun's
//! version and build features, the commit of the repository the run started
//! in (and whether it had uncommitted changes), the backend, the CPU of the
//! machine that ran `nrun` (under Slurm, the one that submitted the jobs).

use std::path::Path;
use std::process::Command;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    pub nrun: String,
    /// Cargo features this binary was built with (`tch`).
    pub features: Vec<String>,
    /// The git state of the folder the run started in; `None` outside a
    /// repository or without git.
    pub git: Option<GitState>,
    pub backend: String,
    pub cpu: String,
    /// Cores this process may use.
    pub cores: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GitState {
    pub commit: String,
    /// Tracked files differ from the commit (nrun's outputs under
    /// `results/` aside).
    pub dirty: bool,
}

impl Environment {
    /// Captures the environment of a run started in `dir`.
    pub fn capture(dir: &Path) -> Environment {
        Environment {
            nrun: env!("CARGO_PKG_VERSION").to_string(),
            features: if cfg!(feature = "tch") {
                vec!["tch".to_string()]
            } else {
                Vec::new()
            },
            git: git_state(dir),
            backend: crate::ot::backend::compiled().to_string(),
            cpu: cpu_model().unwrap_or_else(|| std::env::consts::ARCH.to_string()),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }

    /// `3c7ae6d5f1e2 (uncommitted changes)`, or `-` outside a repository.
    pub fn commit_label(&self) -> String {
        match &self.git {
            Some(GitState { commit, dirty }) => {
                let short = &commit[..commit.len().min(12)];
                if *dirty {
                    format!("{short} (uncommitted changes)")
                } else {
                    short.to_string()
                }
            }
            None => "-".to_string(),
        }
    }
}

fn git_state(dir: &Path) -> Option<GitState> {
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "HEAD"])?;
    // nrun's own outputs (published reports under results/) are not code:
    // a run that publishes one must not make the next run's state dirty.
    let changes = git(&[
        "status",
        "--porcelain",
        "--untracked-files=no",
        "--",
        ".",
        ":(exclude)results",
    ])?;
    Some(GitState {
        commit,
        dirty: !changes.is_empty(),
    })
}

/// The first `model name` of /proc/cpuinfo (Linux).
fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, model)| model.trim().to_string())
}
