//! `metric`: scores a `sample` output (definitions: docs/experiments.md, Metrics).
//!
//! Per input with ground truth (`clean`), over its Z samples:
//! - `psnr`: PSNR of every sample, averaged over (input, z);
//! - `psnr_mean`: PSNR of the posterior mean (average of the Z samples),
//!   averaged over inputs (the number Table 1 of the MVA report gives);
//! - `ssim`, `ssim_mean`, `mse`: likewise;
//! - `diversity`: mean over inputs of the per-pixel variance across z.
//!
//! Against a `target` dataset (distribution fit, no ground truth needed):
//! `energy` (energy distance), `mmd` (RBF, median heuristic), `frechet`
//! (Fréchet distance of Gaussians fitted to the raw values).
//!
//! For 2-D points with the `target` sample: `ot_gap`, the learned plan's
//! mean squared transport cost over the exact discrete OT cost between the
//! same inputs and as many target points (assignment), minus 1; and
//! `bary_error`, the mean distance between the barycentre of T(x, .) and the
//! exact plan's partner of x.
//!
//! With the training output bound to `model`: `fit_final`, the last
//! push-forward energy distance of the training trace, and
//! `fit_oscillation`, its standard deviation over the second half of
//! training (how much the fit keeps moving between fake solutions, seed
//! 000 Fig. 8/9, as one number).
//!
//! For 2-D points with `modes: {centres, tolerance}` (Hardion & Olivier's
//! discrete source to circles): `centre_distance`, the mean distance from
//! each input's conditional mean E_z T(x, z) (pooled over inputs that are
//! the same point) to the nearest centre, and
//! `modes_recovered`, how many centres have a conditional mean within
//! `tolerance`.
//!
//! `closed_form_error`: for Gaussian source and target, the mean of
//! ||T(x, z) - T*(x)|| / ||T*(x)|| where T*(x) = m_y + A (x - m_x) is the
//! closed-form OT map between Gaussians fitted to the inputs and the target.
//!
//! `l2_uvp` and `cosine` (the W2 benchmark of Korotin et al. 2021): with
//! `source` and `target` bound to `gaussian` stages, 100 E||T(x, z) - T*(x)||^2
//! / tr(cov Q) and the cosine of T - id with T* - id, against the exact
//! closed-form map between the two laws (`metrics::uvp`).
//!
//! `input_mse`: the mean squared difference between each output and its
//! own input (Sudakov's "L2 between input and output": how much of the
//! input a translation keeps), averaged over (input, z).
//!
//! `hue_error` (Gbagbe & Bintang's coloured MNIST): for RGB images, the
//! angle in degrees between the dominant hue of each input and of each of
//! its outputs (`metrics::hue`): does the map keep the colour?
//!
//! `frechet_features`: the Fréchet distance between Gaussians fitted to the
//! features a network the user supplies gives the samples and the target
//! (FID-style; nothing is downloaded): bind a folder holding
//! `features.json` (`{net: {kind: mlp, hidden, activation}, inputs, outputs}`)
//! and `features.safetensors` (weights named `net.Mlp.layers.N.weight`
//! `[in, out]` and `.bias`, as nrun exports networks) to `features`.
//!
//! Output: `metrics.csv` (the cell's params, then `metric,value,std,n`),
//! `metrics.json`, and `metrics.md` (listed for reports).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::gaussian::law_of;
use super::{
    Accepts, Context, InputSpec, Output, ParamError, StageError, StageKind, Wiring, divergence,
};
use crate::loc::PathSegment;
use crate::metrics::assignment::discrete_ot_cost;
use crate::metrics::distribution::{Bandwidth, energy_distance, mmd2_rbf};
use crate::metrics::diversity::diversity;
use crate::metrics::frechet::frechet_distance;
use crate::metrics::hue::hue_errors;
use crate::metrics::modes::mode_scores;
use crate::metrics::psnr::{mse, psnr};
use crate::metrics::ssim::ssim;
use crate::metrics::uvp::uvp_scores;
use crate::tensor_file::{self, Dataset, Tensor};

pub struct Metric;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Name {
    Psnr,
    PsnrMean,
    Ssim,
    SsimMean,
    Mse,
    Diversity,
    Energy,
    Mmd,
    Frechet,
    OtGap,
    BaryError,
    FitFinal,
    FitOscillation,
    ClosedFormError,
    FrechetFeatures,
    CentreDistance,
    ModesRecovered,
    L2Uvp,
    Cosine,
    HueError,
    InputMse,
}

impl Name {
    fn label(self) -> &'static str {
        match self {
            Name::Psnr => "psnr",
            Name::PsnrMean => "psnr_mean",
            Name::Ssim => "ssim",
            Name::SsimMean => "ssim_mean",
            Name::Mse => "mse",
            Name::Diversity => "diversity",
            Name::Energy => "energy",
            Name::Mmd => "mmd",
            Name::Frechet => "frechet",
            Name::OtGap => "ot_gap",
            Name::BaryError => "bary_error",
            Name::FitFinal => "fit_final",
            Name::FitOscillation => "fit_oscillation",
            Name::ClosedFormError => "closed_form_error",
            Name::FrechetFeatures => "frechet_features",
            Name::CentreDistance => "centre_distance",
            Name::ModesRecovered => "modes_recovered",
            Name::L2Uvp => "l2_uvp",
            Name::Cosine => "cosine",
            Name::HueError => "hue_error",
            Name::InputMse => "input_mse",
        }
    }

    /// The inputs the metric reads.
    fn needs(self) -> &'static [&'static str] {
        match self {
            Name::FitFinal | Name::FitOscillation => &["model"],
            Name::FrechetFeatures => &["samples", "target", "features"],
            Name::L2Uvp | Name::Cosine => &["samples", "source", "target"],
            m if m.needs_target() => &["samples", "target"],
            _ => &["samples"],
        }
    }

    fn needs_target(self) -> bool {
        matches!(
            self,
            Name::Energy
                | Name::Mmd
                | Name::Frechet
                | Name::FrechetFeatures
                | Name::OtGap
                | Name::BaryError
                | Name::ClosedFormError
                | Name::L2Uvp
                | Name::Cosine
        )
    }

    fn needs_model(self) -> bool {
        matches!(self, Name::FitFinal | Name::FitOscillation)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    metrics: Vec<Name>,
    /// Value range for PSNR and SSIM (2 for images in [-1, 1]).
    #[serde(default = "default_range")]
    data_range: f64,
    /// Caps the points the O(n^2) distribution metrics use.
    #[serde(default = "default_max_points")]
    max_points: usize,
    /// The target's mode centres, for `centre_distance` and `modes_recovered`.
    #[serde(default)]
    modes: Option<Modes>,
    /// Constant params added to this stage's rows (`{map: identity}`), so
    /// that a table can set them beside other metric stages' rows.
    #[serde(default)]
    tag: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Modes {
    centres: Vec<[f64; 2]>,
    /// How close a conditional mean must come to a centre to recover it.
    tolerance: f64,
}

fn default_range() -> f64 {
    2.0
}
fn default_max_points() -> usize {
    2000
}

impl StageKind for Metric {
    type Params = Params;
    const NAME: &'static str = "metric";
    // 3: centre_distance pools the outputs of equal inputs.
    const VERSION: u32 = 3;
    const INPUTS: Option<&'static [InputSpec]> = Some(&[
        InputSpec::may("samples", &[Output::Samples]),
        InputSpec::may("target", &[Output::Dataset]),
        InputSpec::may("model", &[Output::Model]),
        InputSpec {
            name: "features",
            required: false,
            accepts: Accepts::Either,
            takes: &[],
        },
        InputSpec::may("source", &[Output::Dataset]),
    ]);
    const OUTPUT: Output = Output::Metrics;

    fn validate(p: &Params) -> Result<(), ParamError> {
        if p.metrics.is_empty() {
            return Err(ParamError::at("metrics", "name at least one metric"));
        }
        if let Some(name) = p
            .tag
            .keys()
            .find(|k| ["metric", "value", "std", "n", "diverged"].contains(&k.as_str()))
        {
            return Err(ParamError::at(
                &format!("tag.{name}"),
                "a column of every metric row already has this name",
            ));
        }
        if p.data_range <= 0.0 {
            return Err(ParamError::at("data_range", "must be positive"));
        }
        let by_mode = p
            .metrics
            .iter()
            .find(|m| matches!(m, Name::CentreDistance | Name::ModesRecovered));
        match (&p.modes, by_mode) {
            (None, Some(m)) => {
                return Err(ParamError::at(
                    "modes",
                    format!("{} needs `modes: {{centres, tolerance}}`", m.label()),
                ));
            }
            (Some(modes), _) if modes.centres.is_empty() => {
                return Err(ParamError::at("modes.centres", "list at least one centre"));
            }
            (Some(modes), _) if !(modes.tolerance > 0.0 && modes.tolerance.is_finite()) => {
                return Err(ParamError::at("modes.tolerance", "must be positive"));
            }
            _ => {}
        }
        Ok(())
    }

    /// Every metric's inputs are bound: caught before anything runs.
    fn validate_inputs(p: &Params, inputs: &Wiring) -> Result<(), ParamError> {
        for (i, m) in p.metrics.iter().enumerate() {
            if let Some(missing) = m.needs().iter().find(|n| !inputs.has(n)) {
                return Err(ParamError {
                    path: vec![PathSegment::Key("metrics".into()), PathSegment::Index(i)],
                    message: format!(
                        "{} needs the `{missing}` input ({})",
                        m.label(),
                        inputs.note()
                    ),
                });
            }
        }
        Ok(())
    }

    fn row_params(p: &Params) -> Vec<String> {
        p.tag.keys().cloned().collect()
    }

    fn row_metrics(p: &Params) -> Option<BTreeSet<String>> {
        Some(p.metrics.iter().map(|m| m.label().to_string()).collect())
    }

    fn run(&self, p: Params, ctx: &mut Context) -> Result<(), StageError> {
        let reads = |input: &str| p.metrics.iter().any(|m| m.needs().contains(&input));
        let loaded = if reads("samples") {
            Some(Loaded::read(
                &ctx.input_dir("samples")?.join("samples.safetensors"),
            )?)
        } else {
            None
        };
        let target = if reads("target") {
            Some(Dataset::read(ctx.input_dir("target")?)?)
        } else {
            None
        };
        let features = if reads("features") {
            Some(load_features(ctx.input_dir("features")?)?)
        } else {
            None
        };
        let trace = if reads("model") {
            Some(read_trace(&ctx.input_dir("model")?.join("trace.csv"))?)
        } else {
            None
        };
        let laws = if reads("source") {
            let source = Dataset::read(ctx.input_dir("source")?)?;
            match (
                law_of(&source),
                law_of(target.as_ref().expect("read above")),
            ) {
                (Some(p), Some(q)) => Some((p, q)),
                _ => {
                    return Err(StageError::Misfit(
                        "l2_uvp and cosine score against the closed-form map between two \
                         Gaussians: bind `source` and `target` to `gaussian` stages"
                            .into(),
                    ));
                }
            }
        } else {
            None
        };
        let mut uvp = None;

        let mut rows: Vec<(Name, Summary)> = Vec::new();
        for &m in &p.metrics {
            let summary = if m.needs_model() {
                let trace = trace.as_ref().expect("read above");
                fit_summary(m, trace)?
            } else {
                let Loaded {
                    n,
                    z,
                    item,
                    d,
                    samples,
                    x,
                    clean,
                } = loaded.as_ref().expect("read above");
                let (n, z, d) = (*n, *z, *d);
                let inputs = || {
                    x.as_ref().ok_or_else(|| {
                        StageError::Misfit("the samples file has no inputs `x`".to_string())
                    })
                };
                match m {
                    Name::Psnr | Name::PsnrMean | Name::Ssim | Name::SsimMean | Name::Mse => {
                        let clean = clean.as_ref().ok_or_else(|| {
                            StageError::Misfit(format!(
                                "{} needs ground truth: the sampled data has no `clean`",
                                m.label()
                            ))
                        })?;
                        paired(m, samples, clean, n, z, item, p.data_range)?
                    }
                    Name::Diversity => Summary::one(diversity(samples, n, z, d)?, n),
                    Name::Energy | Name::Mmd | Name::Frechet => {
                        let target = target.as_ref().expect("read above");
                        let ys = cap(&target.x.data, d, p.max_points);
                        let generated = cap(samples, d, p.max_points);
                        let value = match m {
                            Name::Energy => energy_distance(generated, ys, d),
                            Name::Mmd => mmd2_rbf(generated, ys, d, Bandwidth::MedianHeuristic),
                            _ => frechet_distance(generated, ys, d),
                        }?;
                        Summary::one(value, generated.len() / d)
                    }
                    Name::OtGap | Name::BaryError => {
                        let x = inputs()?;
                        plan_quality(
                            m,
                            x,
                            samples,
                            &target.as_ref().expect("read above").x.data,
                            n,
                            z,
                            d,
                            p.max_points,
                        )?
                    }
                    Name::ClosedFormError => {
                        let x = inputs()?;
                        closed_form_error(
                            x,
                            samples,
                            &target.as_ref().expect("read above").x.data,
                            n,
                            z,
                            d,
                        )?
                    }
                    Name::FrechetFeatures => {
                        let (net, spec) = features.as_ref().expect("loaded above");
                        let target = target.as_ref().expect("read above");
                        if d != spec.inputs || target.x.item_size() != spec.inputs {
                            return Err(StageError::Misfit(format!(
                                "the feature network reads {} values per item; the samples have {d}",
                                spec.inputs
                            )));
                        }
                        let device = burn::tensor::Device::flex();
                        let generated = cap(samples, d, p.max_points);
                        let ys = cap(&target.x.data, d, p.max_points);
                        let fg = crate::ot::apply::apply_rows(net, generated, d, &device, 512);
                        let fy = crate::ot::apply::apply_rows(net, ys, d, &device, 512);
                        let value = frechet_distance(&fg, &fy, spec.outputs)?;
                        Summary::one(value, generated.len() / d)
                    }
                    Name::CentreDistance | Name::ModesRecovered => {
                        if d != 2 {
                            return Err(StageError::Misfit(format!(
                                "{} scores 2-D points; the samples have {d} values each",
                                m.label()
                            )));
                        }
                        let modes = p.modes.as_ref().expect("validated");
                        let scores =
                            mode_scores(inputs()?, samples, z, &modes.centres, modes.tolerance)?;
                        match m {
                            Name::CentreDistance => Summary::of(&scores.distances),
                            _ => Summary::one(scores.recovered as f64, modes.centres.len()),
                        }
                    }
                    Name::L2Uvp | Name::Cosine => {
                        let (source, target) = laws.as_ref().expect("read above");
                        if source.dim() != d {
                            return Err(StageError::Misfit(format!(
                                "the samples have {d} values each; the Gaussians live in {} dimensions",
                                source.dim()
                            )));
                        }
                        if uvp.is_none() {
                            uvp = Some(uvp_scores(source, target, inputs()?, samples, n, z)?);
                        }
                        let scores = uvp.as_ref().expect("computed above");
                        match m {
                            Name::L2Uvp => Summary::of(&scores.uvp),
                            _ => Summary::one(scores.cosine, n * z),
                        }
                    }
                    Name::InputMse => {
                        let x = inputs()?;
                        if x.len() != n * d {
                            return Err(StageError::Misfit(format!(
                                "input_mse compares outputs with their inputs: the inputs have {} values each, the outputs {d}",
                                x.len() / n.max(1)
                            )));
                        }
                        let per_output = (0..n * z)
                            .map(|k| {
                                let input = &x[(k / z) * d..(k / z + 1) * d];
                                mse(&samples[k * d..(k + 1) * d], input)
                            })
                            .collect::<Result<Vec<f64>, _>>()?;
                        Summary::of(&per_output)
                    }
                    Name::HueError => {
                        let [3, h, w] = item[..] else {
                            return Err(StageError::Misfit(format!(
                                "hue_error scores RGB images [3, h, w]; the samples are {item:?}"
                            )));
                        };
                        let errors = hue_errors(inputs()?, samples, n, z, h * w)?;
                        if errors.is_empty() {
                            return Err(StageError::Misfit(
                                "hue_error: no input and output both have a colour".to_string(),
                            ));
                        }
                        Summary::of(&errors)
                    }
                    Name::FitFinal | Name::FitOscillation => unreachable!("handled above"),
                }
            };
            ctx.log(format!(
                "{}: {:.6} (n = {})",
                m.label(),
                summary.mean,
                summary.n
            ));
            rows.push((m, summary));
        }

        // A diverged training's scores (of its last good weights) carry the
        // step it diverged at, which tables and figures show instead.
        let mut diverged = None;
        for input in ["samples", "model"] {
            if diverged.is_none() && ctx.inputs.contains_key(input) {
                diverged = divergence::read(ctx.input_dir(input)?)?.map(|d| d.step);
            }
        }
        let cell = ctx.cell.clone();
        let mut csv = String::new();
        if let Some(name) = p.tag.keys().find(|k| cell.get(k).is_some()) {
            return Err(StageError::Misfit(format!(
                "tag `{name}` is also a param of this cell ({cell}): rename the tag"
            )));
        }
        let names: Vec<&str> = cell
            .0
            .iter()
            .map(|(a, _)| a.as_str())
            .chain(p.tag.keys().map(String::as_str))
            .collect();
        let _ = writeln!(
            csv,
            "{}",
            names
                .iter()
                .copied()
                .chain(["metric", "value", "std", "n"])
                .chain(diverged.map(|_| "diverged"))
                .collect::<Vec<_>>()
                .join(",")
        );
        let cell_values: Vec<String> = cell
            .0
            .iter()
            .map(|(_, v)| csv_field(&crate::canon::label(v)))
            .chain(p.tag.values().map(|v| csv_field(v)))
            .collect();
        let mut json_rows = Vec::new();
        for (m, s) in &rows {
            let mut fields = cell_values.clone();
            fields.extend([
                m.label().to_string(),
                format!("{}", s.mean),
                format!("{}", s.std),
                s.n.to_string(),
            ]);
            fields.extend(diverged.map(|step| step.to_string()));
            let _ = writeln!(csv, "{}", fields.join(","));
            let mut row = json!({"metric": m.label(), "value": finite(s.mean), "std": finite(s.std), "n": s.n});
            if let Some(step) = diverged {
                row["diverged"] = json!(step);
            }
            json_rows.push(row);
        }
        super::files::write(&ctx.out.join("metrics.csv"), csv)?;
        let mut md = String::from("| metric | value | std | n |\n| --- | ---: | ---: | ---: |\n");
        for (m, s) in &rows {
            let _ = writeln!(
                md,
                "| {} | {:.4} | {:.4} | {} |",
                m.label(),
                s.mean,
                s.std,
                s.n
            );
        }
        super::files::write(&ctx.out.join("metrics.md"), md)?;
        let caption = if cell.is_empty() {
            "Metrics".to_string()
        } else {
            format!("Metrics ({cell})")
        };
        super::artifacts::write(
            &ctx.out,
            &[super::artifacts::Artifact::Table {
                file: "metrics.md".into(),
                caption,
            }],
        )?;
        let mut doc = json!({"cell": cell.to_json(), "metrics": json_rows});
        if !p.tag.is_empty() {
            doc["tag"] = json!(p.tag);
        }
        super::files::write_json(&ctx.out.join("metrics.json"), &doc)
    }
}

/// A `sample` output in memory.
struct Loaded {
    n: usize,
    z: usize,
    item: Vec<usize>,
    d: usize,
    samples: Vec<f32>,
    x: Option<Vec<f32>>,
    clean: Option<Vec<f32>>,
}

impl Loaded {
    fn read(path: &std::path::Path) -> Result<Loaded, StageError> {
        let tensors = tensor_file::read(path)?;
        let f32s = |name: &str| match tensors.get(name) {
            Some(Tensor::F32 { shape, data }) => Some((shape.clone(), data.clone())),
            _ => None,
        };
        let (shape, samples) =
            f32s("samples").ok_or_else(|| StageError::bad_input(path, "no `samples` tensor"))?;
        if shape.len() < 3 {
            return Err(StageError::bad_input(
                path,
                format!("`samples` has shape {shape:?}, expected [n, z, ...]"),
            ));
        }
        let item: Vec<usize> = shape[2..].to_vec();
        Ok(Loaded {
            n: shape[0],
            z: shape[1],
            d: item.iter().product(),
            item,
            samples,
            x: f32s("x").map(|(_, v)| v),
            clean: f32s("clean").map(|(_, v)| v),
        })
    }
}

/// A user's feature network: `features.json` (a `FeatureSpec`) and
/// `features.safetensors` (weights named as nrun exports them).
fn load_features(
    dir: &std::path::Path,
) -> Result<(crate::ot::nets::Model, crate::ot::apply::FeatureSpec), StageError> {
    let spec_path = dir.join("features.json");
    let spec: crate::ot::apply::FeatureSpec = serde_json::from_slice(
        &std::fs::read(&spec_path).map_err(|e| StageError::bad_input(&spec_path, e.to_string()))?,
    )
    .map_err(|e| StageError::bad_input(&spec_path, e.to_string()))?;
    let device = burn::tensor::Device::flex();
    let net = spec
        .build(&device)
        .map_err(|e| StageError::bad_input(&spec_path, e))?;
    Ok((
        super::weights::load(net, &dir.join("features"), &device)?,
        spec,
    ))
}

/// The `(step, energy_distance)` rows of a training trace.
fn read_trace(path: &std::path::Path) -> Result<Vec<(f64, f64)>, StageError> {
    let text = std::fs::read_to_string(path).map_err(|_| {
        StageError::bad_input(
            path,
            "no training trace: give the train stage a `trace` param",
        )
    })?;
    let rows: Vec<(f64, f64)> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let (a, b) = l.split_once(',')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        })
        .collect();
    if rows.is_empty() {
        return Err(StageError::bad_input(
            path,
            "the training trace has no rows",
        ));
    }
    Ok(rows)
}

fn fit_summary(m: Name, trace: &[(f64, f64)]) -> Result<Summary, StageError> {
    let last_step = trace.last().expect("non-empty").0;
    Ok(match m {
        Name::FitFinal => Summary::one(trace.last().expect("non-empty").1, 1),
        _ => {
            let late: Vec<f64> = trace
                .iter()
                .filter(|(s, _)| *s > last_step / 2.0)
                .map(|(_, v)| *v)
                .collect();
            let s = Summary::of(&late);
            Summary::one(s.std, s.n)
        }
    })
}

/// Relative error of T against the closed-form map between fitted Gaussians.
fn closed_form_error(
    x: &[f32],
    samples: &[f32],
    target: &[f32],
    n: usize,
    z: usize,
    d: usize,
) -> Result<Summary, StageError> {
    use crate::metrics::frechet::gaussian_ot_map;
    use crate::metrics::gaussian::Gaussian;
    let source = Gaussian::fit(&x[..n * d], d)?;
    let goal = Gaussian::fit(target, d)?;
    let a = gaussian_ot_map(source.cov(), goal.cov())?;
    let mut errors = Vec::with_capacity(n * z);
    for i in 0..n {
        let xi =
            nalgebra::DVector::from_iterator(d, x[i * d..(i + 1) * d].iter().map(|v| *v as f64));
        let want = goal.mean() + &a * (xi - source.mean());
        for k in 0..z {
            let got = nalgebra::DVector::from_iterator(
                d,
                samples[(i * z + k) * d..(i * z + k + 1) * d]
                    .iter()
                    .map(|v| *v as f64),
            );
            errors.push((got - &want).norm() / want.norm());
        }
    }
    Ok(Summary::of(&errors))
}

fn finite(v: f64) -> Json {
    crate::canon::number(v).unwrap_or(Json::Null)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The first `max` items (of `d` values) of a row-major set.
fn cap(values: &[f32], d: usize, max: usize) -> &[f32] {
    &values[..(values.len() / d).min(max) * d]
}

/// A mean with its spread over the items it averages.
struct Summary {
    mean: f64,
    std: f64,
    n: usize,
}

impl Summary {
    fn one(value: f64, n: usize) -> Summary {
        Summary {
            mean: value,
            std: 0.0,
            n,
        }
    }

    fn of(values: &[f64]) -> Summary {
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n.max(1) as f64;
        let var = if n > 1 {
            values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        Summary {
            mean,
            std: var.sqrt(),
            n,
        }
    }
}

/// Metrics against paired ground truth, per sample or per posterior mean.
fn paired(
    m: Name,
    samples: &[f32],
    clean: &[f32],
    n: usize,
    z: usize,
    item: &[usize],
    range: f64,
) -> Result<Summary, StageError> {
    let d: usize = item.iter().product();
    if clean.len() != n * d {
        return Err(StageError::Misfit(format!(
            "ground truth holds {} values, expected {n} x {d}",
            clean.len()
        )));
    }
    let (c, h, w) = match item {
        [c, h, w] => (*c, *h, *w),
        _ => (1, 1, d),
    };
    let score = |a: &[f32], b: &[f32]| -> Result<f64, StageError> {
        match m {
            Name::Psnr | Name::PsnrMean => psnr(a, b, range),
            Name::Ssim | Name::SsimMean => ssim(a, b, c, h, w, range),
            _ => mse(a, b),
        }
        .map_err(StageError::from)
    };
    let mut values = Vec::new();
    for i in 0..n {
        let truth = &clean[i * d..(i + 1) * d];
        let outs = &samples[i * z * d..(i + 1) * z * d];
        if matches!(m, Name::PsnrMean | Name::SsimMean) {
            let mut mean = vec![0f32; d];
            for k in 0..z {
                for (acc, v) in mean.iter_mut().zip(&outs[k * d..(k + 1) * d]) {
                    *acc += v / z as f32;
                }
            }
            values.push(score(&mean, truth)?);
        } else {
            for k in 0..z {
                values.push(score(&outs[k * d..(k + 1) * d], truth)?);
            }
        }
    }
    Ok(Summary::of(&values))
}

/// How close the learned plan is to the exact discrete OT plan (2-D toys).
#[allow(clippy::too_many_arguments)]
fn plan_quality(
    m: Name,
    x: &[f32],
    samples: &[f32],
    target: &[f32],
    n: usize,
    z: usize,
    d: usize,
    max: usize,
) -> Result<Summary, StageError> {
    let k = n.min(target.len() / d).min(max);
    if k < 2 {
        return Err(StageError::Misfit(format!(
            "{} needs at least 2 inputs and target points",
            m.label()
        )));
    }
    let exact = discrete_ot_cost(&x[..k * d], &target[..k * d], d)?;
    let sq = |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .map(|(p, q)| ((p - q) as f64).powi(2))
            .sum::<f64>()
    };
    match m {
        Name::OtGap => {
            let mut learned = 0.0;
            for i in 0..k {
                for j in 0..z {
                    learned += sq(
                        &x[i * d..(i + 1) * d],
                        &samples[(i * z + j) * d..(i * z + j + 1) * d],
                    );
                }
            }
            learned /= (k * z) as f64;
            Ok(Summary::one(learned / exact.mean_cost() - 1.0, k))
        }
        _ => {
            let mut errors = Vec::with_capacity(k);
            for i in 0..k {
                let mut bary = vec![0f64; d];
                for j in 0..z {
                    for (acc, v) in bary
                        .iter_mut()
                        .zip(&samples[(i * z + j) * d..(i * z + j + 1) * d])
                    {
                        *acc += *v as f64 / z as f64;
                    }
                }
                let partner = &target[exact.permutation[i] * d..(exact.permutation[i] + 1) * d];
                let e: f64 = bary
                    .iter()
                    .zip(partner)
                    .map(|(a, b)| (a - *b as f64).powi(2))
                    .sum();
                errors.push(e.sqrt());
            }
            Ok(Summary::of(&errors))
        }
    }
}
