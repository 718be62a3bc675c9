//! Facts about the current run that stages may record (reports print them).

use std::path::PathBuf;

use crate::device::DeviceChoice;
use crate::environment::Environment;

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RunInfo {
    pub pipeline: String,
    /// The command line, as typed.
    pub command: String,
    pub version: String,
    /// results/<pipeline>
    pub results: PathBuf,
    /// The device asked for with `--device` (stages may override it).
    pub device: DeviceChoice,
    /// The scale preset in effect, if the pipeline has scales.
    pub scale: Option<String>,
    pub environment: Environment,
}

impl RunInfo {
    /// What a report says about the run that made it: pipeline, scale,
    /// nrun version, backend, device, repository commit and machine.
    pub fn facts(&self) -> Vec<(String, String)> {
        let mut facts = vec![
            ("pipeline".into(), self.pipeline.clone()),
            (
                "scale".into(),
                self.scale.clone().unwrap_or_else(|| "-".into()),
            ),
            ("nrun".into(), self.version.clone()),
            ("backend".into(), crate::ot::backend::compiled().to_string()),
            ("device".into(), self.device.to_string()),
            ("commit".into(), self.environment.commit_label()),
            (
                "machine".into(),
                format!("{}, {} cores", self.environment.cpu, self.environment.cores),
            ),
        ];
        if let Some(gpu) = &self.environment.gpu {
            facts.push(("gpu".into(), gpu.label()));
        }
        facts
    }

    /// The command as a user would type it: `nrun` and the arguments.
    pub fn command_line() -> String {
        std::iter::once("nrun".to_string())
            .chain(std::env::args().skip(1))
            .map(|a| {
                if a.chars()
                    .all(|c| c.is_alphanumeric() || "/._-=,:+".contains(c))
                {
                    a
                } else {
                    format!("'{}'", a.replace('\'', r"'\''"))
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}
