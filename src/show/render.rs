//! Printing a view: an aligned text table, Markdown, CSV or JSON. Text and
//! Markdown fold the constant params into a header line; CSV and JSON, for
//! programs, keep every param in every row.

use std::fmt::Write as _;

use serde_json::{Map, Value as Json, json};

use super::view::View;
use super::{Row, Score};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Md,
    Csv,
    Json,
}

pub fn render(view: &View, format: Format) -> String {
    match format {
        Format::Table => text(view),
        Format::Md => markdown(view),
        Format::Csv => csv(view),
        Format::Json => json(view),
    }
}

/// `name ± std`, or `diverged (step N)`, or `-` when there is no score.
fn score_text(score: Option<&Score>) -> String {
    match score {
        None => "-".to_string(),
        Some(Score {
            diverged: Some(step),
            ..
        }) => format!("diverged (step {step})"),
        // A spread of exactly 0 is a single value's (the metric had nothing to
        // spread over), not worth a "± 0".
        Some(s) if s.n > 1 && s.std.is_finite() && s.std > 0.0 => {
            format!("{:.4} ± {:.4}", s.value, s.std)
        }
        Some(s) => format!("{:.4}", s.value),
    }
}

fn seconds_text(seconds: Option<f64>) -> String {
    match seconds {
        None => "-".to_string(),
        Some(s) if s < 60.0 => format!("{s:.1}s"),
        Some(s) if s < 3600.0 => format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64),
        Some(s) => format!("{}h{:02}m", (s / 3600.0) as u64, ((s % 3600.0) / 60.0) as u64),
    }
}

/// The header line: how many cells, and the params they share.
fn summary(view: &View) -> String {
    let mut line = format!(
        "{}: {} scored cell{}",
        view.pipeline,
        view.rows.len(),
        if view.rows.len() == 1 { "" } else { "s" }
    );
    if !view.constant.is_empty() {
        let shared: Vec<String> = view
            .constant
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let _ = write!(line, "; all with {}", shared.join(", "));
    }
    line
}

/// Header and cells of the text and Markdown tables.
fn grid(view: &View) -> (Vec<String>, Vec<Vec<String>>) {
    let header: Vec<String> = view
        .params
        .iter()
        .chain(&view.metrics)
        .cloned()
        .chain(["state".to_string(), "time".to_string()])
        .collect();
    let cells = view
        .rows
        .iter()
        .map(|row: &Row| {
            view.params
                .iter()
                .map(|p| row.params.get(p).cloned().unwrap_or_else(|| "-".into()))
                .chain(view.metrics.iter().map(|m| score_text(row.scores.get(m))))
                .chain([row.state.label().to_string(), seconds_text(row.seconds)])
                .collect()
        })
        .collect();
    (header, cells)
}

fn text(view: &View) -> String {
    let (header, cells) = grid(view);
    let width = |c: usize| {
        cells
            .iter()
            .map(|r| r[c].chars().count())
            .chain([header[c].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..header.len()).map(width).collect();
    let n_params = view.params.len();
    let line = |fields: &[String]| {
        let padded: Vec<String> = fields
            .iter()
            .enumerate()
            .map(|(c, f)| {
                let pad = " ".repeat(widths[c] - f.chars().count());
                // Params and the state read left to right; numbers align right.
                let numeric = c >= n_params && c < n_params + view.metrics.len() || c + 1 == fields.len();
                if numeric { format!("{pad}{f}") } else { format!("{f}{pad}") }
            })
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut out = summary(view) + "\n";
    out += &line(&header);
    out.push('\n');
    for row in &cells {
        out += &line(row);
        out.push('\n');
    }
    out
}

fn markdown(view: &View) -> String {
    let (header, cells) = grid(view);
    let escape = |s: &str| s.replace('|', "\\|");
    let mut out = summary(view) + "\n\n";
    let _ = writeln!(out, "| {} |", header.iter().map(|h| escape(h)).collect::<Vec<_>>().join(" | "));
    let n_params = view.params.len();
    let rule: Vec<&str> = (0..header.len())
        .map(|c| {
            if c >= n_params && c < n_params + view.metrics.len() || c + 1 == header.len() {
                "---:"
            } else {
                "---"
            }
        })
        .collect();
    let _ = writeln!(out, "| {} |", rule.join(" | "));
    for row in &cells {
        let _ = writeln!(out, "| {} |", row.iter().map(|c| escape(c)).collect::<Vec<_>>().join(" | "));
    }
    out
}

/// Every param of the view, constant ones first.
fn all_params(view: &View) -> Vec<&String> {
    view.constant.iter().map(|(k, _)| k).chain(&view.params).collect()
}

fn csv(view: &View) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let params = all_params(view);
    let mut header: Vec<String> = params.iter().map(|p| p.to_string()).collect();
    for m in &view.metrics {
        header.extend([m.clone(), format!("{m}_std"), format!("{m}_n"), format!("{m}_diverged")]);
    }
    header.extend(["state".to_string(), "seconds".to_string()]);
    writer.write_record(&header).expect("writing to memory");
    let number = |v: f64| if v.is_finite() { v.to_string() } else { String::new() };
    for row in &view.rows {
        let mut fields: Vec<String> = params
            .iter()
            .map(|p| row.params.get(*p).cloned().unwrap_or_default())
            .collect();
        for m in &view.metrics {
            match row.scores.get(m) {
                Some(s) => fields.extend([
                    number(s.value),
                    number(s.std),
                    s.n.to_string(),
                    s.diverged.map(|d| d.to_string()).unwrap_or_default(),
                ]),
                None => fields.extend(std::iter::repeat_n(String::new(), 4)),
            }
        }
        fields.push(row.state.label().to_string());
        fields.push(row.seconds.map(number).unwrap_or_default());
        writer.write_record(&fields).expect("writing to memory");
    }
    String::from_utf8(writer.into_inner().expect("in memory")).expect("UTF-8 fields")
}

fn json(view: &View) -> String {
    let params = all_params(view);
    let rows: Vec<Json> = view
        .rows
        .iter()
        .map(|row| {
            let p: Map<String, Json> = params
                .iter()
                .filter_map(|k| Some((k.to_string(), json!(row.params.get(*k)?))))
                .collect();
            let scores: Map<String, Json> = view
                .metrics
                .iter()
                .filter_map(|m| Some((m.clone(), json!(row.scores.get(m)?))))
                .collect();
            json!({"params": p, "state": row.state, "seconds": row.seconds, "scores": scores})
        })
        .collect();
    let doc = json!({
        "pipeline": view.pipeline,
        "constant": view
            .constant
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect::<Map<String, Json>>(),
        "varying": view.params,
        "metrics": view.metrics,
        "rows": rows,
    });
    serde_json::to_string_pretty(&doc).expect("JSON values serialise") + "\n"
}
