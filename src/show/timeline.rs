//! `nrun show --timeline`: the newest run's timeline (`crate::timeline`) as
//! text, one row per instance it built with a bar on the run's clock.

use std::fmt::Write as _;

use super::render::seconds_text;
use crate::timeline::Timeline;

/// Width of the bars, in characters, for the run's whole wall time.
const WIDTH: usize = 40;

/// The timeline as text; an error names what is wrong with the file.
pub fn timeline(last_run: &[u8]) -> Result<String, serde_json::Error> {
    let run = Timeline::read(last_run)?;
    let duration = |s: f64| seconds_text(Some(s));
    let mut out = format!(
        "{}: `{}`, {} wall; {}\n",
        run.pipeline,
        run.command,
        duration(run.wall),
        run.totals()
    );
    if run.bars.is_empty() {
        out.push_str("(it built nothing: every instance was cached)\n");
        return Ok(out);
    }
    let wall = run.wall.max(1e-9);
    let w_lane = run
        .bars
        .iter()
        .map(|b| b.lane.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let w_label = run
        .bars
        .iter()
        .map(|b| b.label.chars().count())
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
    for bar in &run.bars {
        let from = ((bar.start / wall) * WIDTH as f64).floor() as usize;
        let to = (((bar.end / wall) * WIDTH as f64).ceil() as usize).clamp(from + 1, WIDTH);
        let from = from.min(WIDTH - 1);
        let drawn: String = (0..WIDTH)
            .map(|c| if c >= from && c < to { '#' } else { ' ' })
            .collect();
        let pad = w_label - bar.label.chars().count();
        let _ = writeln!(
            out,
            "{:<w_lane$}  {}{}  {:>7}  {:>7}  {:<8}  |{drawn}|",
            bar.lane,
            bar.label,
            " ".repeat(pad),
            duration(bar.start),
            duration(bar.end - bar.start),
            bar.status,
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_instance_is_a_row_with_its_bar() {
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
        assert!(lines[4].starts_with("cpu 1  c "), "{text}");
        assert!(lines[4].contains("failed"), "{text}");
        assert!(
            lines[2].ends_with(&format!("|{}{}|", "#".repeat(20), " ".repeat(20))),
            "{text}"
        );
    }
}
