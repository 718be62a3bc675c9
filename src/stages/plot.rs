//! `plot`: figures (PNG and SVG) from upstream outputs, listed in
//! `artifacts.json` for reports. The `figure.kind` param picks the kind:
//!
//! - `metric_vs`: a metric against one axis, one line per value of another
//!   (e.g. PSNR vs gamma per cost), mean +- std over averaged axes;
//! - `samples`: per cell, a grid of test inputs, several T(x, z) and the
//!   ground truth;
//! - `curves`: training curves (f loss, T loss, gamma) of every cell;
//! - `trace`: the push-forward fit (energy distance) over training;
//! - `map2d`: 2-D source, target, push-forward and x -> T(x, z) segments,
//!   one panel per value of `panels_over` (e.g. snapshots over training).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

use super::artifacts::{self, Artifact};
use super::{Context, InputSpec, Output, ParamError, StageError, StageKind, Upstream, Wiring};
use crate::grid::Cell;
use crate::plot::{
    Cloud, Image, Panel, Point, ScatterPanel, Series, empty_chart, image_grid, line_chart, panels,
    scatter_row,
};
use crate::table::{Summary, read_rows};
use crate::tensor_file::{self, Dataset, Tensor};

pub struct Plot;

#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Figure {
    /// Mean +- std over all rows that share a (series, x) pair: the axes
    /// not named here (typically seeds) are averaged.
    MetricVs {
        metric: String,
        x: String,
        series: Option<String>,
        #[serde(default)]
        series_labels: BTreeMap<String, String>,
        x_label: Option<String>,
        y_label: Option<String>,
    },
    Samples {
        #[serde(default = "default_inputs")]
        inputs: usize,
        #[serde(default = "default_z_shown")]
        z_shown: usize,
    },
    Curves,
    Trace,
    Map2d {
        /// Segments drawn from x to T(x, z).
        #[serde(default = "default_segments")]
        segments: usize,
        /// An axis whose values become panels side by side.
        panels_over: Option<String>,
    },
}

fn default_inputs() -> usize {
    6
}
fn default_z_shown() -> usize {
    4
}
fn default_segments() -> usize {
    64
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    title: String,
    figure: Figure,
}

impl StageKind for Plot {
    type Params = Params;
    const NAME: &'static str = "plot";
    // 3: sample grids without ground truth have no empty `truth` column.
    // 4: long titles shrink to fit; long y tick numbers widen their axis.
    const VERSION: u32 = 4;
    const INPUTS: Option<&'static [InputSpec]> = Some(&[
        InputSpec::needs("data", &[Output::Samples, Output::Metrics, Output::Model]),
        InputSpec::may("target", &[Output::Dataset]),
    ]);
    const OUTPUT: Output = Output::Figures;

    fn validate(p: &Params) -> Result<(), ParamError> {
        if let Figure::Samples { inputs: 0, .. } | Figure::Samples { z_shown: 0, .. } = p.figure {
            return Err(ParamError::at(
                "figure.inputs",
                "show at least one input and one z",
            ));
        }
        Ok(())
    }

    /// The axes a figure is drawn over must be params of its data: a typo
    /// would otherwise fail only once everything upstream ran.
    fn validate_inputs(p: &Params, inputs: &Wiring) -> Result<(), ParamError> {
        let axes: Vec<(&str, &String)> = match &p.figure {
            Figure::MetricVs { x, series, .. } => std::iter::once(("figure.x", x))
                .chain(series.iter().map(|s| ("figure.series", s)))
                .collect(),
            Figure::Map2d { panels_over, .. } => panels_over
                .iter()
                .map(|a| ("figure.panels_over", a))
                .collect(),
            Figure::Samples { .. } | Figure::Curves | Figure::Trace => Vec::new(),
        };
        for (field, name) in axes {
            inputs
                .check_param(name, &|input| input == "data", &[])
                .map_err(|message| ParamError::at(field, message))?;
        }
        let (kind, draws) = match &p.figure {
            Figure::MetricVs { .. } => ("metric_vs", Output::Metrics),
            Figure::Samples { .. } => ("samples", Output::Samples),
            Figure::Map2d { .. } => ("map2d", Output::Samples),
            Figure::Curves => ("curves", Output::Model),
            Figure::Trace => ("trace", Output::Model),
        };
        if let Some(given) = inputs.output("data")
            && given != draws
        {
            return Err(ParamError::at(
                "figure.kind",
                format!(
                    "a `{kind}` figure draws {} (stages of kind {}); its `data` input gives {}",
                    draws.describe(),
                    super::giving(&[draws]).join(", "),
                    given.describe()
                ),
            ));
        }
        if let Figure::MetricVs { metric, .. } = &p.figure {
            inputs
                .check_metric(metric, &|input| input == "data")
                .map_err(|message| ParamError::at("figure.metric", message))?;
        }
        Ok(())
    }

    fn run(&self, p: Params, ctx: &mut Context) -> Result<(), StageError> {
        let ups = ctx.upstreams("data")?.to_vec();
        let target = match ctx.inputs.contains_key("target") {
            true => Some(Dataset::read(ctx.input_dir("target")?)?),
            false => None,
        };
        let out = ctx.out.clone();
        let figures = match &p.figure {
            Figure::MetricVs {
                metric,
                x,
                series,
                series_labels,
                x_label,
                y_label,
            } => {
                let files = ctx.metric_files("data")?;
                let rows = read_rows(&files)?;
                let mut groups: BTreeMap<String, BTreeMap<String, Vec<f64>>> = BTreeMap::new();
                // Diverged cells have no point: the caption names them.
                let mut diverged = Vec::new();
                for row in rows.iter().filter(|r| &r.metric == metric) {
                    if let Some(step) = row.diverged {
                        let cell: Vec<String> =
                            row.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
                        diverged.push(format!("{} at step {step}", cell.join(" ")));
                        continue;
                    }
                    let xv = row.params.get(x).ok_or_else(|| {
                        StageError::Misfit(format!("metric rows have no param `{x}`"))
                    })?;
                    let sv = match series {
                        Some(s) => row.params.get(s).cloned().ok_or_else(|| {
                            StageError::Misfit(format!("metric rows have no param `{s}`"))
                        })?,
                        None => metric.clone(),
                    };
                    groups
                        .entry(sv)
                        .or_default()
                        .entry(xv.clone())
                        .or_default()
                        .push(row.value);
                }
                if groups.is_empty() && diverged.is_empty() {
                    return Err(StageError::Misfit(format!(
                        "no rows of metric `{metric}` in the inputs"
                    )));
                }
                let words: BTreeSet<&String> = groups
                    .values()
                    .flat_map(|by_x| by_x.keys())
                    // Rows without the param have it empty; they have no point.
                    .filter(|xv| !xv.is_empty() && xv.parse::<f64>().is_err())
                    .collect();
                if !words.is_empty() {
                    let words: Vec<&str> = words.into_iter().map(String::as_str).collect();
                    return Err(StageError::Misfit(format!(
                        "figure.x: `{x}` takes values that are not numbers ({}); a metric_vs figure needs a numeric x (make `{x}` its `series`, or use a table)",
                        words.join(", ")
                    )));
                }
                let series: Vec<Series> = groups
                    .into_iter()
                    .map(|(name, by_x)| {
                        let mut points: Vec<Point> = by_x
                            .into_iter()
                            .filter_map(|(xv, values)| {
                                let s = Summary::of(&values)?;
                                Some(Point {
                                    x: xv.parse().ok()?,
                                    y: s.mean,
                                    y_err: s.std,
                                })
                            })
                            .collect();
                        points.sort_by(|a, b| a.x.total_cmp(&b.x));
                        Series {
                            name: series_labels.get(&name).cloned().unwrap_or(name),
                            points,
                        }
                    })
                    .collect();
                let stem = out.join(format!("{metric}_vs_{x}"));
                let (x_label, y_label) = (
                    x_label.as_deref().unwrap_or(x),
                    y_label.as_deref().unwrap_or(metric),
                );
                if series.is_empty() {
                    // Every cell diverged: the figure says so, and the
                    // report that shows it is still made.
                    empty_chart(&stem, &p.title, x_label, y_label, "every cell diverged")?;
                } else {
                    line_chart(&stem, &p.title, x_label, y_label, &series)?;
                }
                let caption = match diverged.is_empty() {
                    true => p.title.clone(),
                    false => format!("{} (diverged, not drawn: {})", p.title, diverged.join("; ")),
                };
                vec![figure(&stem, caption)]
            }
            Figure::Samples { inputs, z_shown } => {
                let mut figs = Vec::new();
                for up in &ups {
                    let stem = out.join(format!("samples_{}", up.cell.label()));
                    sample_grid(&up.dir, &stem, &up.cell, *inputs, *z_shown)?;
                    figs.push(figure(&stem, format!("{} ({})", p.title, up.cell)));
                }
                figs
            }
            Figure::Curves => {
                let (mut f, mut t, mut g) = (Vec::new(), Vec::new(), Vec::new());
                for up in &ups {
                    let cols = read_csv_columns(&up.dir.join("log.csv"))?;
                    let name = up.cell.to_string();
                    let series = |col: &str| Series {
                        name: name.clone(),
                        points: cols["step"]
                            .iter()
                            .zip(&cols[col])
                            .map(|(x, y)| Point {
                                x: *x,
                                y: *y,
                                y_err: None,
                            })
                            .collect(),
                    };
                    f.push(series("f_loss"));
                    t.push(series("t_loss"));
                    g.push(series("gamma"));
                }
                let stem = out.join("training_curves");
                let all = [("f loss", f), ("T loss", t), ("gamma", g)]
                    .into_iter()
                    .map(|(label, series)| Panel {
                        y_label: label.to_string(),
                        series,
                    })
                    .collect::<Vec<_>>();
                panels(&stem, &p.title, "outer step", &all)?;
                vec![figure(&stem, p.title.clone())]
            }
            Figure::Trace => {
                let mut series = Vec::new();
                for up in &ups {
                    let cols = read_csv_columns(&up.dir.join("trace.csv"))?;
                    series.push(Series {
                        name: up.cell.to_string(),
                        points: cols["step"]
                            .iter()
                            .zip(&cols["energy_distance"])
                            .map(|(x, y)| Point {
                                x: *x,
                                y: *y,
                                y_err: None,
                            })
                            .collect(),
                    });
                }
                let stem = out.join("trace");
                line_chart(
                    &stem,
                    &p.title,
                    "outer step",
                    "energy distance to target",
                    &series,
                )?;
                vec![figure(&stem, p.title.clone())]
            }
            Figure::Map2d {
                segments,
                panels_over,
            } => {
                let target = target
                    .as_ref()
                    .ok_or_else(|| StageError::Misfit("map2d needs the `target` input".into()))?;
                map_figures(
                    &ups,
                    target,
                    *segments,
                    panels_over.as_deref(),
                    &out,
                    &p.title,
                )?
            }
        };
        // A plot stage that still varies over some axes makes one figure per
        // cell: say which in the caption.
        let figures: Vec<Artifact> = if ctx.cell.is_empty()
            || matches!(p.figure, Figure::Samples { .. } | Figure::Map2d { .. })
        {
            figures
        } else {
            figures
                .into_iter()
                .map(|a| match a {
                    Artifact::Figure { file, caption } => Artifact::Figure {
                        file,
                        caption: format!("{caption} ({})", ctx.cell),
                    },
                    other => other,
                })
                .collect()
        };
        artifacts::write(&ctx.out, &figures)
    }
}

fn figure(stem: &Path, caption: String) -> Artifact {
    let file = format!(
        "{}.png",
        stem.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    );
    Artifact::Figure { file, caption }
}

/// Numeric columns of a CSV file by header name.
fn read_csv_columns(path: &Path) -> Result<BTreeMap<String, Vec<f64>>, StageError> {
    let mut reader =
        csv::Reader::from_path(path).map_err(|e| StageError::bad_input(path, e.to_string()))?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| StageError::bad_input(path, e.to_string()))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut cols: BTreeMap<String, Vec<f64>> =
        headers.iter().map(|h| (h.clone(), Vec::new())).collect();
    for record in reader.records() {
        let record = record.map_err(|e| StageError::bad_input(path, e.to_string()))?;
        for (h, v) in headers.iter().zip(record.iter()) {
            cols.get_mut(h)
                .expect("header")
                .push(v.parse().unwrap_or(f64::NAN));
        }
    }
    Ok(cols)
}

fn f32_tensor(tensors: &BTreeMap<String, Tensor>, name: &str) -> Option<(Vec<usize>, Vec<f32>)> {
    match tensors.get(name) {
        Some(Tensor::F32 { shape, data }) => Some((shape.clone(), data.clone())),
        _ => None,
    }
}

/// Rows: inputs; columns: the input x, `z_shown` samples, the ground truth
/// when there is one.
fn sample_grid(
    dir: &Path,
    stem: &Path,
    cell: &Cell,
    inputs: usize,
    z_shown: usize,
) -> Result<(), StageError> {
    let path = dir.join("samples.safetensors");
    let tensors = tensor_file::read(&path)?;
    let (shape, samples) = f32_tensor(&tensors, "samples")
        .ok_or_else(|| StageError::bad_input(&path, "no `samples`"))?;
    if shape.len() != 5 {
        return Err(StageError::Misfit(format!(
            "samples figures need images; these samples have shape {shape:?}"
        )));
    }
    let (n, z, c, h, w) = (shape[0], shape[1], shape[2], shape[3], shape[4]);
    let d = c * h * w;
    let x = f32_tensor(&tensors, "x");
    let clean = f32_tensor(&tensors, "clean");
    let image = |data: &[f32], c: usize| Image {
        c,
        h,
        w,
        data: data.to_vec(),
    };
    let mut rows = Vec::new();
    for i in 0..inputs.min(n) {
        let mut row = Vec::new();
        row.push(x.as_ref().and_then(|(s, v)| {
            let dx: usize = s[1..].iter().product();
            (s.len() == 4 && s[2] == h && s[3] == w).then(|| image(&v[i * dx..(i + 1) * dx], s[1]))
        }));
        for k in 0..z_shown.min(z) {
            row.push(Some(image(
                &samples[(i * z + k) * d..(i * z + k + 1) * d],
                c,
            )));
        }
        if let Some((_, v)) = &clean {
            row.push(Some(image(&v[i * d..(i + 1) * d], c)));
        }
        rows.push(row);
    }
    let mut cols = vec!["input".to_string()];
    cols.extend((1..=z_shown.min(z)).map(|k| format!("T(x, z{k})")));
    // Samples without ground truth (translation) get no empty column for it.
    if clean.is_some() {
        cols.push("truth".to_string());
    }
    // The caption carries the full title; the figure's own names the cell,
    // short enough for six 32-pixel columns.
    image_grid(stem, &cell.to_string(), &rows, &[], &cols, 3)?;
    Ok(())
}

/// One figure per group of cells that differ only in `panels_over`.
fn map_figures(
    ups: &[Upstream],
    target: &Dataset,
    segments: usize,
    panels_over: Option<&str>,
    out: &Path,
    title: &str,
) -> Result<Vec<Artifact>, StageError> {
    let mut groups: BTreeMap<String, Vec<&Upstream>> = BTreeMap::new();
    for up in ups {
        let key = up.cell.restrict(|a| Some(a) != panels_over).label();
        groups.entry(key).or_default().push(up);
    }
    let target_cloud: Vec<[f64; 2]> = target
        .x
        .data
        .chunks_exact(2)
        .take(2000)
        .map(|p| [p[0] as f64, p[1] as f64])
        .collect();
    let mut figs = Vec::new();
    for (key, members) in groups {
        let mut row = Vec::new();
        for up in members {
            let path = up.dir.join("samples.safetensors");
            let tensors = tensor_file::read(&path)?;
            let (shape, samples) = f32_tensor(&tensors, "samples")
                .ok_or_else(|| StageError::bad_input(&path, "no `samples`"))?;
            let (_, x) =
                f32_tensor(&tensors, "x").ok_or_else(|| StageError::bad_input(&path, "no `x`"))?;
            if shape.len() != 3 || shape[2] != 2 {
                return Err(StageError::Misfit(format!(
                    "map2d needs 2-D points; the samples have shape {shape:?}"
                )));
            }
            let z = shape[1];
            let points = |v: &[f32]| {
                v.chunks_exact(2)
                    .map(|p| [p[0] as f64, p[1] as f64])
                    .collect::<Vec<_>>()
            };
            let segs = (0..segments.min(shape[0]))
                .flat_map(|i| {
                    let from = [x[2 * i] as f64, x[2 * i + 1] as f64];
                    (0..z).map(move |k| (from, i * z + k))
                })
                .map(|(from, j)| [from, [samples[2 * j] as f64, samples[2 * j + 1] as f64]])
                .collect();
            let panel_title = match panels_over {
                Some(axis) => up.cell.get(axis).map_or_else(String::new, |v| {
                    format!("{axis} = {}", crate::canon::label(v))
                }),
                None => up.cell.to_string(),
            };
            row.push(ScatterPanel {
                title: panel_title,
                clouds: vec![
                    Cloud {
                        label: "source x".into(),
                        points: points(&x),
                        color: None,
                    },
                    Cloud {
                        label: "target y".into(),
                        points: target_cloud.clone(),
                        color: None,
                    },
                    Cloud {
                        label: "T(x, z)".into(),
                        points: points(&samples),
                        color: None,
                    },
                ],
                segments: segs,
            });
        }
        let (stem, caption) = if key == "_" {
            (out.join("map"), title.to_string())
        } else {
            (
                out.join(format!("map_{key}")),
                format!("{title} ({})", key.replace(',', ", ")),
            )
        };
        scatter_row(&stem, &caption, &row)?;
        figs.push(figure(&stem, caption));
    }
    Ok(figs)
}
