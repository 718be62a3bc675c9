//! The `executor:` section of a pipeline (and `--executor`): plain
//! settings, which `exec` reads; this module knows no executor.

use serde::{Deserialize, Serialize};

/// Where instances are built (`executor:` in a pipeline, `--executor`).
#[derive(Clone, Debug, PartialEq)]
pub enum ExecutorSpec {
    Local,
    Slurm(SlurmConfig),
}

/// A Slurm executor's settings (`executor: {slurm: ...}`, `--executor slurm`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlurmConfig {
    pub partition: Option<String>,
    pub account: Option<String>,
    pub qos: Option<String>,
    /// More sbatch flags, e.g. `["--exclusive"]`.
    #[serde(default)]
    pub sbatch: Vec<String>,
    /// Seconds between queue polls: starts at `poll_min`, grows while nothing
    /// changes, up to `poll_max`.
    #[serde(default = "default_poll_min")]
    pub poll_min: f64,
    #[serde(default = "default_poll_max")]
    pub poll_max: f64,
}

impl SlurmConfig {
    /// No partition, account or extra flags: the cluster's defaults.
    pub fn default_settings() -> SlurmConfig {
        SlurmConfig {
            poll_min: default_poll_min(),
            poll_max: default_poll_max(),
            ..SlurmConfig::default()
        }
    }
}

fn default_poll_min() -> f64 {
    0.5
}
fn default_poll_max() -> f64 {
    15.0
}
