//! A run's timeline from its `last-run.json`: every instance it built as a
//! bar on the run's clock, one lane per instance running at once (GPU
//! instances on their slot's lane), and where the time went in CPU- and
//! GPU-slot-hours. `nrun show --timeline` prints it; published reports draw
//! it. Reads the file's JSON; uses only `canon` (cell labels).

use serde::Deserialize;

/// What a timeline reads of one instance of `last-run.json`.
#[derive(Deserialize)]
struct Instance {
    stage: String,
    cell: serde_json::Map<String, serde_json::Value>,
    status: String,
    start: Option<f64>,
    end: Option<f64>,
    cpus: Option<usize>,
    gpu: Option<String>,
}

#[derive(Deserialize)]
struct LastRun {
    pipeline: String,
    command: String,
    seconds: f64,
    instances: Vec<Instance>,
}

pub struct Timeline {
    pub pipeline: String,
    pub command: String,
    /// The run's wall time in seconds.
    pub wall: f64,
    /// Instances the run built, by start.
    pub bars: Vec<Bar>,
    pub cpu_hours: f64,
    pub gpu_slot_hours: f64,
}

pub struct Bar {
    /// `cpu N` (the first CPU lane free at its start) or `gpu SLOT`.
    pub lane: String,
    pub stage: String,
    /// `stage[k=v ...]`.
    pub label: String,
    pub start: f64,
    pub end: f64,
    pub status: String,
}

impl Timeline {
    /// The timeline of a `last-run.json`; an error says what is wrong with it.
    pub fn read(last_run: &[u8]) -> Result<Timeline, serde_json::Error> {
        let run: LastRun = serde_json::from_slice(last_run)?;
        let mut built: Vec<(&Instance, f64, f64)> = run
            .instances
            .iter()
            .filter_map(|i| Some((i, i.start?, i.end?)))
            .collect();
        built.sort_by(|a, b| a.1.total_cmp(&b.1));
        let seconds = |gpu: bool| -> f64 {
            built
                .iter()
                .filter(|(i, ..)| i.gpu.is_some() == gpu)
                .map(|(i, s, e)| (e - s) * if gpu { 1 } else { i.cpus.unwrap_or(1) } as f64)
                .sum()
        };
        // `+ 0.0`: an empty sum is -0, which would print as "-0.000".
        let (cpu_hours, gpu_slot_hours) =
            (seconds(false) / 3600.0 + 0.0, seconds(true) / 3600.0 + 0.0);
        let mut lane_ends: Vec<f64> = Vec::new();
        let bars = built
            .iter()
            .map(|(inst, start, end)| {
                let lane = match &inst.gpu {
                    Some(slot) => format!("gpu {slot}"),
                    None => {
                        let free = lane_ends.iter().position(|&e| e <= *start + 1e-9);
                        let k = free.unwrap_or(lane_ends.len());
                        if k == lane_ends.len() {
                            lane_ends.push(*end);
                        } else {
                            lane_ends[k] = *end;
                        }
                        format!("cpu {}", k + 1)
                    }
                };
                let cell: Vec<String> = inst
                    .cell
                    .iter()
                    .map(|(k, v)| format!("{k}={}", crate::canon::label(v)))
                    .collect();
                let label = if cell.is_empty() {
                    inst.stage.clone()
                } else {
                    format!("{}[{}]", inst.stage, cell.join(" "))
                };
                Bar {
                    lane,
                    stage: inst.stage.clone(),
                    label,
                    start: *start,
                    end: *end,
                    status: inst.status.clone(),
                }
            })
            .collect();
        Ok(Timeline {
            pipeline: run.pipeline,
            command: run.command,
            wall: run.seconds,
            bars,
            cpu_hours,
            gpu_slot_hours,
        })
    }

    /// `3 instances built: 0.003 CPU-hours, 0.000 GPU-slot-hours`
    pub fn totals(&self) -> String {
        format!(
            "{} instance{} built: {:.3} CPU-hours, {:.3} GPU-slot-hours",
            self.bars.len(),
            if self.bars.len() == 1 { "" } else { "s" },
            self.cpu_hours,
            self.gpu_slot_hours
        )
    }

    /// The lanes in order: CPU lanes by number, then GPU slots.
    pub fn lanes(&self) -> Vec<&str> {
        let mut lanes: Vec<&str> = Vec::new();
        for bar in &self.bars {
            if !lanes.contains(&bar.lane.as_str()) {
                lanes.push(&bar.lane);
            }
        }
        lanes.sort_by_key(|l| {
            let (kind, n) = l.split_once(' ').unwrap_or((l, ""));
            (
                kind == "gpu",
                n.parse::<u64>().unwrap_or(u64::MAX),
                n.to_string(),
            )
        });
        lanes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_instances_take_separate_lanes_and_hours_add_up() {
        let run = serde_json::json!({
            "pipeline": "p", "command": "nrun p.yaml", "seconds": 4.0,
            "instances": [
                {"stage": "a", "cell": {}, "status": "ran", "start": 0.0, "end": 2.0, "cpus": 1},
                {"stage": "b", "cell": {"seed": 1}, "status": "ran", "start": 0.0, "end": 4.0, "cpus": 2},
                {"stage": "c", "cell": {}, "status": "failed", "start": 2.0, "end": 3.0, "cpus": 1},
                {"stage": "t", "cell": {}, "status": "ran", "start": 1.0, "end": 3.0, "cpus": 2, "gpu": "0:1"},
                {"stage": "d", "cell": {}, "status": "cached"}
            ]
        });
        let t = Timeline::read(&serde_json::to_vec(&run).unwrap()).unwrap();
        let lanes: Vec<(&str, &str)> = t
            .bars
            .iter()
            .map(|b| (b.lane.as_str(), b.label.as_str()))
            .collect();
        // c starts when a ends: a's lane is free again.
        assert_eq!(
            lanes,
            [
                ("cpu 1", "a"),
                ("cpu 2", "b[seed=1]"),
                ("gpu 0:1", "t"),
                ("cpu 1", "c")
            ]
        );
        assert_eq!(t.lanes(), ["cpu 1", "cpu 2", "gpu 0:1"]);
        assert_eq!(
            (t.cpu_hours * 3600.0, t.gpu_slot_hours * 3600.0),
            (11.0, 2.0)
        );
        assert_eq!(
            t.totals(),
            "4 instances built: 0.003 CPU-hours, 0.001 GPU-slot-hours"
        );
    }
}
