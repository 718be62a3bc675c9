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
        // Counts and steps read as whole numbers (a training that diverged
        // at its first step ran 0 steps, not 0.0000).
        Some(s) if s.value.fract() == 0.0 && s.value.abs() < 1e15 => {
            format!("{:.0}", s.value)
        }
        Some(s) => format!("{:.4}", s.value),
    }
}

pub(super) fn seconds_text(seconds: Option<f64>) -> String {
    match seconds {
        None => "-".to_string(),
        Some(s) if s < 60.0 => format!("{s:.1}s"),
        Some(s) if s < 3600.0 => format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64),
        Some(s) => format!(
            "{}h{:02}m",
            (s / 3600.0) as u64,
            ((s % 3600.0) / 60.0) as u64
        ),
    }
}

/// Each metric's column, followed by its change since the earlier run
/// with `--against`.
fn metric_columns(view: &View) -> Vec<String> {
    view.metrics
        .iter()
        .flat_map(|m| std::iter::once(m.clone()).chain(view.against.then(|| format!("Δ {m}"))))
        .collect()
}

/// The value now minus the earlier run's, signed; `new` when the earlier
/// run had no score there, `-` when this one has none.
fn delta(row: &Row, metric: &str) -> Option<f64> {
    let now = row.scores.get(metric).filter(|s| s.diverged.is_none())?;
    let before = row
        .reference
        .as_ref()?
        .get(metric)
        .filter(|s| s.diverged.is_none())?;
    Some(now.value - before.value)
}

fn delta_text(row: &Row, metric: &str) -> String {
    match delta(row, metric) {
        Some(d) => format!("{d:+.4}"),
        None if row.scores.contains_key(metric) => "new".to_string(),
        None => "-".to_string(),
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
        .cloned()
        .chain(metric_columns(view))
        .chain(["state".to_string(), "time".to_string()])
        .collect();
    let cells = view
        .rows
        .iter()
        .map(|row: &Row| {
            view.params
                .iter()
                .map(|p| row.params.get(p).cloned().unwrap_or_else(|| "-".into()))
                .chain(view.metrics.iter().flat_map(|m| {
                    let now = score_text(row.scores.get(m));
                    let delta = view.against.then(|| delta_text(row, m));
                    std::iter::once(now).chain(delta)
                }))
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
    let n_metrics = metric_columns(view).len();
    let line = |fields: &[String]| {
        let padded: Vec<String> = fields
            .iter()
            .enumerate()
            .map(|(c, f)| {
                let pad = " ".repeat(widths[c] - f.chars().count());
                // Params and the state read left to right; numbers align right.
                let numeric = c >= n_params && c < n_params + n_metrics || c + 1 == fields.len();
                if numeric {
                    format!("{pad}{f}")
                } else {
                    format!("{f}{pad}")
                }
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
    let _ = writeln!(
        out,
        "| {} |",
        header
            .iter()
            .map(|h| escape(h))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let n_params = view.params.len();
    let n_metrics = metric_columns(view).len();
    let rule: Vec<&str> = (0..header.len())
        .map(|c| {
            if c >= n_params && c < n_params + n_metrics || c + 1 == header.len() {
                "---:"
            } else {
                "---"
            }
        })
        .collect();
    let _ = writeln!(out, "| {} |", rule.join(" | "));
    for row in &cells {
        let _ = writeln!(
            out,
            "| {} |",
            row.iter()
                .map(|c| escape(c))
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
    out
}

/// Every param of the view, constant ones first.
fn all_params(view: &View) -> Vec<&String> {
    view.constant
        .iter()
        .map(|(k, _)| k)
        .chain(&view.params)
        .collect()
}

fn csv(view: &View) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let params = all_params(view);
    let mut header: Vec<String> = params.iter().map(|p| p.to_string()).collect();
    for m in &view.metrics {
        header.extend([
            m.clone(),
            format!("{m}_std"),
            format!("{m}_n"),
            format!("{m}_diverged"),
        ]);
        if view.against {
            header.extend([format!("{m}_before"), format!("{m}_delta")]);
        }
    }
    header.extend(["state".to_string(), "seconds".to_string()]);
    writer.write_record(&header).expect("writing to memory");
    let number = |v: f64| {
        if v.is_finite() {
            v.to_string()
        } else {
            String::new()
        }
    };
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
            if view.against {
                let before = row.reference.as_ref().and_then(|r| r.get(m));
                fields.push(before.map(|s| number(s.value)).unwrap_or_default());
                fields.push(delta(row, m).map(number).unwrap_or_default());
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
            let mut doc =
                json!({"params": p, "state": row.state, "seconds": row.seconds, "scores": scores});
            if let Some(reference) = &row.reference {
                let before: Map<String, Json> = view
                    .metrics
                    .iter()
                    .filter_map(|m| Some((m.clone(), json!(reference.get(m)?))))
                    .collect();
                doc["before"] = Json::Object(before);
            }
            doc
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
