//! `toy2d`: the 2-D distributions of the reports' toys, deterministic by seed
//! (docs/experiments.md, section 1): Gaussian mixtures, circles, moons,
//! squares, swiss rolls and the grid -> circle projection pair (whose `clean`
//! is the paired target).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::json;

use super::{Context, InputSpec, ItemShape, Output, ParamError, StageError, StageKind, Wiring};
use crate::data::points::Points;
use crate::data::standardize::Standardizer;
use crate::data::toys;
use crate::samples::Samples;
use crate::tensor_file::Dataset;

pub struct Toy2d;

#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Distribution {
    /// `k` Gaussians on a circle (3 in Fig. 1 of the Weinreich &
    /// Heurtel-Depeiges report).
    GaussianRing {
        k: usize,
        radius: f32,
        std: f32,
    },
    /// A `side` x `side` grid of Gaussians, `spacing` apart, centred on 0.
    GaussianGrid {
        side: usize,
        spacing: f32,
        std: f32,
    },
    /// One Gaussian N(mean, cov).
    Gaussian {
        #[serde(default)]
        mean: [f32; 2],
        cov: [[f32; 2]; 2],
    },
    NoisyCircle {
        radius: f32,
        noise: f32,
    },
    Moons {
        noise: f32,
    },
    UniformSquare {
        half_width: f32,
    },
    SwissRoll {
        noise: f32,
        scale: f32,
    },
    /// Equally likely points (Hardion & Olivier's discrete source).
    Discrete {
        points: Vec<[f32; 2]>,
    },
    /// Uniform on equally likely circles of radius `radius` around
    /// `centres`, plus N(0, noise^2) (Hardion & Olivier's multimodal target).
    Circles {
        centres: Vec<[f32; 2]>,
        radius: f32,
        #[serde(default)]
        noise: f32,
    },
    /// The grid toy of Weinreich & Heurtel-Depeiges (Fig. 11): x on the 5x5
    /// grid mixture, `clean` its projection on the unit circle plus noise.
    GridToCircle,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    distribution: Distribution,
    n: usize,
    #[serde(default)]
    seed: u64,
    /// Shift and scale each coordinate to mean 0, variance 1.
    #[serde(default)]
    standardize: bool,
}

impl StageKind for Toy2d {
    type Params = Params;
    const NAME: &'static str = "toy2d";
    const VERSION: u32 = 1;
    const INPUTS: Option<&'static [InputSpec]> = Some(&[]);
    const OUTPUT: Output = Output::Dataset;

    fn item_shape(_: &Params, _: &Wiring) -> Option<ItemShape> {
        Some(ItemShape::stored(vec![2]))
    }

    fn validate(p: &Params) -> Result<(), ParamError> {
        if p.n < 2 {
            return Err(ParamError::at("n", "at least 2 points"));
        }
        Ok(())
    }

    fn run(&self, p: Params, ctx: &mut Context) -> Result<(), StageError> {
        let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
        let r = &mut rng;
        let n = p.n;
        let (x, paired) = match p.distribution.clone() {
            Distribution::GaussianRing { k, radius, std } => {
                (toys::gaussian_ring(n, k, radius, std, r), None)
            }
            Distribution::GaussianGrid { side, spacing, std } => {
                (toys::gaussian_grid(n, side, spacing, std, r), None)
            }
            Distribution::Gaussian { mean, cov } => (gaussian(n, mean, cov, r), None),
            Distribution::NoisyCircle { radius, noise } => {
                (toys::noisy_circle(n, radius, noise, r), None)
            }
            Distribution::Moons { noise } => (toys::moons(n, noise, r), None),
            Distribution::UniformSquare { half_width } => {
                (toys::uniform_square(n, half_width, r), None)
            }
            Distribution::SwissRoll { noise, scale } => {
                (toys::swiss_roll(n, noise, scale, r), None)
            }
            Distribution::Discrete { points } => (toys::discrete(n, &points, r), None),
            Distribution::Circles {
                centres,
                radius,
                noise,
            } => (toys::circles(n, &centres, radius, noise, r), None),
            Distribution::GridToCircle => {
                let (x, y) = toys::grid_to_circle(n, r)?;
                (Ok(x), Some(y))
            }
        };
        let mut x = x?;
        let mut stats = serde_json::Value::Null;
        if p.standardize {
            let s = Standardizer::fit(&x)?;
            x = s.apply(&x)?;
            stats = json!({"fitted_on": "this sample"});
        }
        let to_samples = |pts: Points| Samples::new(vec![pts.d], pts.data);
        let ds = Dataset {
            x: to_samples(x),
            labels: None,
            clean: paired.map(to_samples),
            on_load: Vec::new(),
            provenance: json!({
                "source": "toy2d",
                "distribution": format!("{:?}", p.distribution),
                "n": n,
                "seed": p.seed,
                "standardize": stats,
            }),
        };
        ds.write(&ctx.out).map_err(Into::into)
    }
}

/// n draws of N(mean, cov) through the Cholesky factor of `cov`.
fn gaussian(
    n: usize,
    mean: [f32; 2],
    cov: [[f32; 2]; 2],
    rng: &mut ChaCha8Rng,
) -> Result<Points, crate::data::error::ParamError> {
    use rand::RngExt;
    let [[a, b], [b2, c]] = cov;
    let invalid = |what: &'static str| crate::data::error::ParamError::Invalid {
        name: what,
        value: f64::from(a),
        expected: "a symmetric positive definite 2x2 matrix",
    };
    if (b - b2).abs() > 1e-6 * (a.abs() + c.abs()).max(1e-30) {
        return Err(invalid("covariance (not symmetric)"));
    }
    // cov = L L^T with L = [[l11, 0], [l21, l22]].
    let l11 = a.sqrt();
    let l21 = b / l11;
    let l22 = (c - l21 * l21).sqrt();
    if !(l11 > 0.0 && l22 > 0.0) {
        return Err(invalid("covariance (not positive definite)"));
    }
    let mut data = Vec::with_capacity(2 * n);
    for _ in 0..n {
        let e0: f32 = rng.sample(rand_distr::StandardNormal);
        let e1: f32 = rng.sample(rand_distr::StandardNormal);
        data.push(mean[0] + l11 * e0);
        data.push(mean[1] + l21 * e0 + l22 * e1);
    }
    Points::new(n, 2, data)
}
