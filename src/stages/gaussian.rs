//! `gaussian`: n draws of N(mean, cov) in any dimension (the W2 benchmark
//! between Gaussians, docs/experiments.md, section 9). The law itself
//! (mean and covariance, exact) goes into the dataset's provenance, so
//! metrics and baselines downstream use the true parameters, not the
//! user's retyping of them nor a fit to the sample.
//!
//! `mean`: a number (every coordinate), a list of `dim` numbers, or
//! `{random: {seed, scale}}` (scale times a standard normal vector).
//! `cov`: a number (that times the identity), a `dim` x `dim` matrix, or
//! `{random: {seed, condition}}` (a random rotation of eigenvalues spaced
//! geometrically with that largest / smallest ratio, geometric mean 1).
//! The law's seeds are its own: train and test samples of one law differ
//! by `seed` only.

use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::{Context, InputSpec, ItemShape, Output, ParamError, StageError, StageKind, Wiring};
use crate::data::gaussian_nd;
use crate::metrics::gaussian::Gaussian as Law;
use crate::samples::Samples;
use crate::tensor_file::Dataset;

pub struct Gaussian;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    dim: usize,
    #[serde(default = "zero")]
    mean: Json,
    cov: Json,
    n: usize,
    #[serde(default)]
    seed: u64,
}

fn zero() -> Json {
    json!(0)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RandomMean {
    seed: u64,
    #[serde(default = "one")]
    scale: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RandomCov {
    seed: u64,
    condition: f64,
}

fn one() -> f64 {
    1.0
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Random<T> {
    random: T,
}

/// Streams of the law's random parts, apart from the sample's.
const MEAN_STREAM: u64 = 1;
const COV_STREAM: u64 = 2;

impl Params {
    fn mean(&self) -> Result<DVector<f64>, ParamError> {
        let d = self.dim;
        let expected = "a number, a list of `dim` numbers, or {random: {seed, scale}}";
        match &self.mean {
            Json::Number(v) => Ok(DVector::from_element(d, v.as_f64().unwrap_or(f64::NAN))),
            Json::Array(values) => {
                let v: Vec<f64> = values.iter().filter_map(Json::as_f64).collect();
                if v.len() != values.len() || v.len() != d {
                    return Err(ParamError::at(
                        "mean",
                        format!(
                            "{} entries where dim is {d}: expected {expected}",
                            values.len()
                        ),
                    ));
                }
                Ok(DVector::from_vec(v))
            }
            other => {
                let r: Random<RandomMean> = serde_json::from_value(other.clone())
                    .map_err(|e| ParamError::at("mean", format!("{e}: expected {expected}")))?;
                let mut rng = ChaCha8Rng::seed_from_u64(r.random.seed);
                rng.set_stream(MEAN_STREAM);
                Ok(gaussian_nd::random_mean(d, r.random.scale, &mut rng))
            }
        }
    }

    fn cov(&self) -> Result<DMatrix<f64>, ParamError> {
        let d = self.dim;
        let expected =
            "a number (times the identity), a dim x dim matrix, or {random: {seed, condition}}";
        let cov = match &self.cov {
            Json::Number(v) => DMatrix::from_diagonal_element(d, d, v.as_f64().unwrap_or(f64::NAN)),
            Json::Array(rows) => {
                let values: Vec<f64> = rows
                    .iter()
                    .filter_map(Json::as_array)
                    .flatten()
                    .filter_map(Json::as_f64)
                    .collect();
                if rows.len() != d || values.len() != d * d {
                    return Err(ParamError::at(
                        "cov",
                        format!("not a {d} x {d} matrix of numbers: expected {expected}"),
                    ));
                }
                DMatrix::from_row_slice(d, d, &values)
            }
            other => {
                let r: Random<RandomCov> = serde_json::from_value(other.clone())
                    .map_err(|e| ParamError::at("cov", format!("{e}: expected {expected}")))?;
                let mut rng = ChaCha8Rng::seed_from_u64(r.random.seed);
                rng.set_stream(COV_STREAM);
                gaussian_nd::random_spd(d, r.random.condition, &mut rng)
                    .map_err(|e| ParamError::at("cov.random.condition", e.to_string()))?
            }
        };
        gaussian_nd::cholesky(&cov).map_err(|e| ParamError::at("cov", e.to_string()))?;
        Ok(cov)
    }
}

impl StageKind for Gaussian {
    type Params = Params;
    const NAME: &'static str = "gaussian";
    const VERSION: u32 = 1;
    const INPUTS: Option<&'static [InputSpec]> = Some(&[]);
    const OUTPUT: Output = Output::Dataset;

    fn item_shape(p: &Params, _: &Wiring) -> Option<ItemShape> {
        Some(ItemShape::stored(vec![p.dim]))
    }

    fn validate(p: &Params) -> Result<(), ParamError> {
        if p.dim == 0 {
            return Err(ParamError::at("dim", "at least 1"));
        }
        if p.n < 2 {
            return Err(ParamError::at("n", "at least 2 points"));
        }
        if !p.mean()?.iter().all(|v| v.is_finite()) {
            return Err(ParamError::at("mean", "every entry must be finite"));
        }
        p.cov().map(|_| ())
    }

    fn run(&self, p: Params, ctx: &mut Context) -> Result<(), StageError> {
        // Checked when the pipeline was validated.
        let mean = p.mean().map_err(|e| StageError::Misfit(e.message))?;
        let cov = p.cov().map_err(|e| StageError::Misfit(e.message))?;
        let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
        let x = gaussian_nd::sample(p.n, &mean, &cov, &mut rng)?;
        let rows: Vec<Vec<f64>> = cov
            .row_iter()
            .map(|r| r.iter().copied().collect())
            .collect();
        let ds = Dataset {
            x: Samples::new(vec![x.d], x.data),
            labels: None,
            clean: None,
            on_load: Vec::new(),
            provenance: json!({
                "source": "gaussian",
                "n": p.n,
                "seed": p.seed,
                "law": {"mean": mean.as_slice(), "cov": rows},
            }),
        };
        ds.write(&ctx.out).map_err(Into::into)
    }
}

/// The exact law of a dataset made by a `gaussian` stage, from its provenance.
pub(super) fn law_of(data: &Dataset) -> Option<Law> {
    let law = data.provenance.get("law")?;
    let mean: Vec<f64> = serde_json::from_value(law.get("mean")?.clone()).ok()?;
    let rows: Vec<Vec<f64>> = serde_json::from_value(law.get("cov")?.clone()).ok()?;
    let d = mean.len();
    if rows.len() != d || rows.iter().any(|r| r.len() != d) {
        return None;
    }
    let flat: Vec<f64> = rows.into_iter().flatten().collect();
    Law::new(
        DVector::from_vec(mean),
        DMatrix::from_row_slice(d, d, &flat),
    )
    .ok()
}
