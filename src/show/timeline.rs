//! The newest run's timeline from its `last-run.json`: every instance it
//! built as a bar on the run's clock, one lane per instance running at
//! once (GPU instances on their slot's lane), and where the time went in
//! CPU- and GPU-hours.

use std::fmt::Write as _;

use serde::Deserialize;

/// What the timeline reads of one instance of `last-run.json`.
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

/// Width of the bars, in characters, for the run's whole wall time.
const WIDTH: usize = 40;

/// The timeline as text; an error names what is wrong with the file.
pub fn timeline(last_run: &[u8]) -> Result<String, serde_json::Error> {
    let run: LastRun = serde_json::from_slice(last_run)?;
    let mut built: Vec<(&Instance, f64, f64)> = run
        .instances
        .iter()
        .filter_map(|i| Some((i, i.start?, i.end?)))
        .collect();
    built.sort_by(|a, b| a.1.total_cmp(&b.1));
    // Lanes: an instance takes the first CPU lane free by its start.
    let mut lane_ends: Vec<f64> = Vec::new();
    let mut rows = Vec::new();
    for (inst, start, end) in &built {
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
        rows.push((lane, label, *start, *end, inst));
    }
    let wall = run.seconds.max(1e-9);
    let cpu_seconds: f64 = built
        .iter()
        .filter(|(i, ..)| i.gpu.is_none())
        .map(|(i, s, e)| (e - s) * i.cpus.unwrap_or(1) as f64)
        .sum();
    let gpu_seconds: f64 = built
        .iter()
        .filter(|(i, ..)| i.gpu.is_some())
        .map(|(_, s, e)| e - s)
        .sum();
    let mut out = format!(
        "{}: `{}`, {} wall; {} instance{} built: {:.3} CPU-hours, {:.3} GPU-slot-hours\n",
        run.pipeline,
        run.command,
        duration(run.seconds),
        built.len(),
        if built.len() == 1 { "" } else { "s" },
        // `+ 0.0`: an empty sum is -0, which would print as "-0.000".
        cpu_seconds / 3600.0 + 0.0,
        gpu_seconds / 3600.0 + 0.0
    );
    if rows.is_empty() {
        out.push_str("(it built nothing: every instance was cached)\n");
        return Ok(out);
    }
    let w_lane = rows.iter().map(|r| r.0.len()).max().unwrap_or(4).max(4);
    let w_label = rows
        .iter()
        .map(|r| r.1.chars().count())
        .max()
        .unwrap_or(8)
        .max(8);
    let _ = writeln!(
        out,
        "{:<w_lane$}  {:<w_label$}  {:>7}  {:>7}  {:<8}  |{}|",
        "lane",
        "instance",
        "start",
        "time",
        "status",
        " ".repeat(WIDTH)
    );
    for (lane, label, start, end, inst) in rows {
        let from = ((start / wall) * WIDTH as f64).floor() as usize;
        let to = (((end / wall) * WIDTH as f64).ceil() as usize).clamp(from + 1, WIDTH);
        let from = from.min(WIDTH - 1);
        let bar: String = (0..WIDTH)
            .map(|c| if c >= from && c < to { '#' } else { ' ' })
            .collect();
        let pad = w_label - label.chars().count();
        let _ = writeln!(
            out,
            "{lane:<w_lane$}  {label}{}  {:>7}  {:>7}  {:<8}  |{bar}|",
            " ".repeat(pad),
            duration(start),
            duration(end - start),
            inst.status,
        );
    }
    Ok(out)
}

fn duration(s: f64) -> String {
    if s < 60.0 {
        format!("{s:.1}s")
    } else if s < 3600.0 {
        format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    } else {
        format!(
            "{}h{:02}m",
            (s / 3600.0) as u64,
            ((s % 3600.0) / 60.0) as u64
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_instances_take_separate_lanes() {
        let run = serde_json::json!({
            "pipeline": "p", "command": "nrun p.yaml", "seconds": 4.0,
            "instances": [
                {"stage": "a", "cell": {}, "status": "ran", "start": 0.0, "end": 2.0, "cpus": 1},
                {"stage": "b", "cell": {"seed": 1}, "status": "ran", "start": 0.0, "end": 4.0, "cpus": 2},
                {"stage": "c", "cell": {}, "status": "failed", "start": 2.0, "end": 3.0, "cpus": 1},
                {"stage": "d", "cell": {}, "status": "cached"}
            ]
        });
        let text = timeline(&serde_json::to_vec(&run).unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "p: `nrun p.yaml`, 4.0s wall; 3 instances built: 0.003 CPU-hours, 0.000 GPU-slot-hours"
        );
        assert_eq!(lines.len(), 5, "{text}");
        assert!(lines[2].starts_with("cpu 1  a "), "{text}");
        assert!(lines[3].starts_with("cpu 2  b[seed=1]"), "{text}");
        // c starts when a ends: a's lane is free again.
        assert!(lines[4].starts_with("cpu 1  c "), "{text}");
        assert!(lines[4].contains("failed"), "{text}");
        assert!(
            lines[2].ends_with(&format!("|{}{}|", "#".repeat(20), " ".repeat(20))),
            "{text}"
        );
    }
}
