//! What a run ran on, recorded in `last-run.json` and in reports so that a
//! number can be traced to the code and machine that produced it: nrun's
//! version and build features, the commit of the repository the run started
//! in (and whether it had uncommitted changes), the backend, the CPU of the
//! machine that ran `nrun` (under Slurm, the one that submitted the jobs),
//! and with a GPU build that sees GPUs, the GPUs and the libraries between
//! nrun and them.

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
    /// Absent on CPU builds and machines without GPUs (and in runs recorded
    /// before nrun captured it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu: Option<GpuStack>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GpuStack {
    /// One line per GPU, `NVIDIA H200, 143771 MiB, driver 580.159.04`
    /// (from nvidia-smi), or `cuda:N` where nvidia-smi is not at hand.
    pub devices: Vec<String>,
    /// The version of the libtorch this process loaded (`2.11.0+cu130`),
    /// when it sits in a PyTorch or libtorch install that says.
    pub libtorch: Option<String>,
    /// The CUDA runtime and cuDNN libtorch was built with (`13.0`, `9.19.0`).
    pub cuda: String,
    pub cudnn: String,
    /// How trainings used the GPUs (`ot::gpu_levers`): `fused Adam, a
    /// stream per training, CUDA graphs`. Empty in runs recorded before
    /// nrun captured it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub levers: String,
}

impl GpuStack {
    /// `NVIDIA H200, 143771 MiB, driver 580.159.04; libtorch 2.11.0+cu130,
    /// CUDA 13.0, cuDNN 9.19.0; fused Adam, a stream per training, CUDA graphs`
    pub fn label(&self) -> String {
        let mut label = format!(
            "{}; libtorch {}, CUDA {}, cuDNN {}",
            self.devices.join(" | "),
            self.libtorch.as_deref().unwrap_or("(version unknown)"),
            self.cuda,
            self.cudnn
        );
        if !self.levers.is_empty() {
            label.push_str("; ");
            label.push_str(&self.levers);
        }
        label
    }
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
            gpu: gpu_stack(),
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

fn gpu_stack() -> Option<GpuStack> {
    let (count, cudart, cudnn) = crate::ot::backend::cuda_versions()?;
    Some(GpuStack {
        devices: nvidia_smi().unwrap_or_else(|| (0..count).map(|n| format!("cuda:{n}")).collect()),
        libtorch: loaded_libtorch().and_then(|lib| libtorch_version(&lib)),
        cuda: format!("{}.{}", cudart / 1000, cudart % 1000 / 10),
        cudnn: cudnn_version(cudnn),
        levers: crate::ot::gpu_levers::GpuLevers::from_env().label(),
    })
}

/// cuDNN 9 numbers its versions major * 10000 + minor * 100 + patch, cuDNN
/// 8 and older major * 1000 + minor * 100 + patch.
fn cudnn_version(n: i64) -> String {
    let major_unit = if n >= 90_000 { 10_000 } else { 1_000 };
    format!("{}.{}.{}", n / major_unit, n % major_unit / 100, n % 100)
}

fn nvidia_smi() -> Option<Vec<String>> {
    let out = Command::new("nvidia-smi")
        .args([
            "--query-gpu=name,memory.total,driver_version",
            "--format=csv,noheader",
        ])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let gpus: Vec<String> = text
        .lines()
        .filter_map(|l| {
            let (rest, driver) = l.rsplit_once(',')?;
            Some(format!("{rest}, driver {}", driver.trim()))
        })
        .collect();
    (out.status.success() && !gpus.is_empty()).then_some(gpus)
}

/// The folder of the `libtorch_cpu` this process mapped (Linux).
fn loaded_libtorch() -> Option<std::path::PathBuf> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    let path = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| p.contains("libtorch_cpu."))?;
    Some(Path::new(path).parent()?.to_path_buf())
}

/// A libtorch's version from the install around its `lib` folder: PyTorch's
/// `torch/version.py` or a libtorch download's `build-version`.
fn libtorch_version(lib: &Path) -> Option<String> {
    let root = lib.parent()?;
    if let Ok(text) = std::fs::read_to_string(root.join("version.py")) {
        return text.lines().find_map(|l| {
            let value = l.strip_prefix("__version__")?.split_once('=')?.1.trim();
            Some(value.trim_matches(|c| c == '\'' || c == '"').to_string())
        });
    }
    let text = std::fs::read_to_string(root.join("build-version")).ok()?;
    Some(text.trim().to_string()).filter(|v| !v.is_empty())
}

/// The first `model name` of /proc/cpuinfo (Linux).
fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, model)| model.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cudnn_versions_read_as_cudnn_writes_them() {
        assert_eq!(cudnn_version(91_900), "9.19.0");
        assert_eq!(cudnn_version(90_100), "9.1.0");
        assert_eq!(cudnn_version(8_902), "8.9.2");
    }

    #[test]
    fn libtorch_versions_come_from_pytorch_or_a_libtorch_download() {
        let dir = tempfile::tempdir().unwrap();
        let torch = dir.path().join("torch");
        std::fs::create_dir_all(torch.join("lib")).unwrap();
        std::fs::write(
            torch.join("version.py"),
            "from typing import Optional\n__version__ = '2.11.0+cu130'\ncuda: Optional[str] = '13.0'\n",
        )
        .unwrap();
        assert_eq!(
            libtorch_version(&torch.join("lib")).as_deref(),
            Some("2.11.0+cu130")
        );
        let libtorch = dir.path().join("libtorch");
        std::fs::create_dir_all(libtorch.join("lib")).unwrap();
        assert_eq!(libtorch_version(&libtorch.join("lib")), None);
        std::fs::write(libtorch.join("build-version"), "2.9.0+cpu\n").unwrap();
        assert_eq!(
            libtorch_version(&libtorch.join("lib")).as_deref(),
            Some("2.9.0+cpu")
        );
    }
}
