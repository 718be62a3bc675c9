//! 2-D toy distributions of the NOT experiments (docs/experiments.md,
//! section 1), sampled from a caller-seeded RNG (`ChaCha8Rng::seed_from_u64`
//! for reproducible runs).

use std::f32::consts::PI;

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Normal};

use super::error::ParamError;
use super::noise::normal;
use super::points::Points;
use super::projection::project_to_circle;

/// A mixture of `k` equally likely Gaussians of std `std` whose centres sit at
/// angles `2 pi j / k` on the circle of radius `radius` (Weinreich &
/// Heurtel-Depeiges, Fig. 1: k = 3).
pub fn gaussian_ring<R: Rng + ?Sized>(
    n: usize,
    k: usize,
    radius: f32,
    std: f32,
    rng: &mut R,
) -> Result<Points, ParamError> {
    ParamError::at_least_one("number of centres", k)?;
    finite("radius", radius)?;
    let centres: Vec<[f32; 2]> = (0..k)
        .map(|j| {
            let angle = 2.0 * PI * j as f32 / k as f32;
            [radius * angle.cos(), radius * angle.sin()]
        })
        .collect();
    mixture(n, &centres, std, rng)
}

/// A mixture of `side` x `side` equally likely Gaussians of std `std` on the
/// grid with spacing `spacing`, centred on 0 (Weinreich & Heurtel-Depeiges,
/// Fig. 11: 5, 1.0, 0.1 puts the centres on {-2..2}^2).
pub fn gaussian_grid<R: Rng + ?Sized>(
    n: usize,
    side: usize,
    spacing: f32,
    std: f32,
    rng: &mut R,
) -> Result<Points, ParamError> {
    ParamError::at_least_one("grid side", side)?;
    finite("grid spacing", spacing)?;
    let offset = (side as f32 - 1.0) / 2.0;
    let coordinate = |i: usize| (i as f32 - offset) * spacing;
    let centres: Vec<[f32; 2]> = (0..side)
        .flat_map(|i| (0..side).map(move |j| [coordinate(i), coordinate(j)]))
        .collect();
    mixture(n, &centres, std, rng)
}

/// Points at uniform angles on the circle of radius `radius`, plus
/// N(0, noise^2) on each coordinate.
pub fn noisy_circle<R: Rng + ?Sized>(
    n: usize,
    radius: f32,
    noise: f32,
    rng: &mut R,
) -> Result<Points, ParamError> {
    finite("radius", radius)?;
    let normal = normal(noise)?;
    points(n, || {
        let angle = rng.random_range(0.0..2.0 * PI);
        [
            radius * angle.cos() + normal.sample(rng),
            radius * angle.sin() + normal.sample(rng),
        ]
    })
}

/// sklearn's `make_moons` shape: even points on the upper half circle
/// `(cos t, sin t)`, odd points on the lower one `(1 - cos t, 0.5 - sin t)`,
/// plus N(0, noise^2). Unlike sklearn, `t ~ U[0, pi]` instead of a linspace,
/// so that repeated small batches cover the moons.
pub fn moons<R: Rng + ?Sized>(n: usize, noise: f32, rng: &mut R) -> Result<Points, ParamError> {
    let normal = normal(noise)?;
    let mut i = 0;
    points(n, || {
        let t = rng.random_range(0.0..=PI);
        let (x, y) = if i % 2 == 0 {
            (t.cos(), t.sin())
        } else {
            (1.0 - t.cos(), 0.5 - t.sin())
        };
        i += 1;
        [x + normal.sample(rng), y + normal.sample(rng)]
    })
}

/// Uniform on the square [-half_width, half_width]^2 (Weinreich &
/// Heurtel-Depeiges, Fig. 5: 2).
pub fn uniform_square<R: Rng + ?Sized>(
    n: usize,
    half_width: f32,
    rng: &mut R,
) -> Result<Points, ParamError> {
    if !(half_width.is_finite() && half_width > 0.0) {
        return Err(ParamError::Invalid {
            name: "half width",
            value: f64::from(half_width),
            expected: "finite and > 0",
        });
    }
    points(n, || {
        [
            rng.random_range(-half_width..=half_width),
            rng.random_range(-half_width..=half_width),
        ]
    })
}

/// sklearn's `make_swiss_roll` seen from its axis, `(x, z) = (t cos t, t sin t)`
/// with `t ~ U[1.5 pi, 4.5 pi]`, plus N(0, noise^2), times `scale`. Korotin's
/// NOT toys use noise 0.8 and scale 1 / 7.5.
pub fn swiss_roll<R: Rng + ?Sized>(
    n: usize,
    noise: f32,
    scale: f32,
    rng: &mut R,
) -> Result<Points, ParamError> {
    finite("scale", scale)?;
    let normal = normal(noise)?;
    points(n, || {
        let t = 1.5 * PI * (1.0 + 2.0 * rng.random::<f32>());
        [
            (t * t.cos() + normal.sample(rng)) * scale,
            (t * t.sin() + normal.sample(rng)) * scale,
        ]
    })
}

/// The grid -> circle pair (Weinreich & Heurtel-Depeiges, Fig. 11): `x` from
/// the 5x5 grid mixture on {-2..2}^2 (std 0.1) and its projection
/// `y = x / (||x|| + 0.01) + N(0, 0.05^2)`, row for row.
pub fn grid_to_circle<R: Rng + ?Sized>(
    n: usize,
    rng: &mut R,
) -> Result<(Points, Points), ParamError> {
    let x = gaussian_grid(n, 5, 1.0, 0.1, rng)?;
    let y = project_to_circle(&x, 0.01, 0.05, rng)?;
    Ok((x, y))
}

/// `n` draws from the equally likely points `at`: the discrete source of
/// Hardion & Olivier's multimodal toy.
pub fn discrete<R: Rng + ?Sized>(
    n: usize,
    at: &[[f32; 2]],
    rng: &mut R,
) -> Result<Points, ParamError> {
    ParamError::at_least_one("number of points", at.len())?;
    for &[x, y] in at {
        finite("point coordinate", x)?;
        finite("point coordinate", y)?;
    }
    points(n, || at[rng.random_range(0..at.len())])
}

/// `n` draws uniform on equally likely circles of radius `radius` around
/// `centres`, plus N(0, noise^2): Hardion & Olivier's multimodal target.
pub fn circles<R: Rng + ?Sized>(
    n: usize,
    centres: &[[f32; 2]],
    radius: f32,
    noise: f32,
    rng: &mut R,
) -> Result<Points, ParamError> {
    ParamError::at_least_one("number of circles", centres.len())?;
    finite("radius", radius)?;
    let normal = normal(noise)?;
    points(n, || {
        let [cx, cy] = centres[rng.random_range(0..centres.len())];
        let angle = rng.random_range(0.0..2.0 * PI);
        [
            cx + radius * angle.cos() + normal.sample(rng),
            cy + radius * angle.sin() + normal.sample(rng),
        ]
    })
}

/// `n` draws from equally likely Gaussians of std `std` around `centres`.
fn mixture<R: Rng + ?Sized>(
    n: usize,
    centres: &[[f32; 2]],
    std: f32,
    rng: &mut R,
) -> Result<Points, ParamError> {
    let normal: Normal<f32> = normal(std)?;
    points(n, || {
        let [cx, cy] = centres[rng.random_range(0..centres.len())];
        [cx + normal.sample(rng), cy + normal.sample(rng)]
    })
}

/// `n` 2-D points from `draw`.
fn points(n: usize, mut draw: impl FnMut() -> [f32; 2]) -> Result<Points, ParamError> {
    Points::new(n, 2, (0..n).flat_map(|_| draw()).collect())
}

fn finite(name: &'static str, value: f32) -> Result<(), ParamError> {
    if !value.is_finite() {
        return Err(ParamError::Invalid {
            name,
            value: f64::from(value),
            expected: "finite",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    const N: usize = 4000;

    fn rng(seed: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(seed)
    }

    fn norms(p: &Points) -> Vec<f32> {
        p.rows()
            .map(|r| (r[0] * r[0] + r[1] * r[1]).sqrt())
            .collect()
    }

    fn mean(v: &[f32]) -> f32 {
        v.iter().sum::<f32>() / v.len() as f32
    }

    fn std(v: &[f32]) -> f32 {
        let m = mean(v);
        (v.iter().map(|x| (x - m).powi(2)).sum::<f32>() / v.len() as f32).sqrt()
    }

    /// Draws `n` points with the given seed.
    type Sampler = Box<dyn Fn(usize, u64) -> Points>;

    /// Every sampler, by name.
    fn samplers() -> Vec<(&'static str, Sampler)> {
        vec![
            (
                "ring",
                Box::new(|n, s| gaussian_ring(n, 3, 1.0, 0.1, &mut rng(s)).unwrap()),
            ),
            (
                "grid",
                Box::new(|n, s| gaussian_grid(n, 5, 1.0, 0.1, &mut rng(s)).unwrap()),
            ),
            (
                "circle",
                Box::new(|n, s| noisy_circle(n, 1.0, 0.05, &mut rng(s)).unwrap()),
            ),
            (
                "moons",
                Box::new(|n, s| moons(n, 0.05, &mut rng(s)).unwrap()),
            ),
            (
                "square",
                Box::new(|n, s| uniform_square(n, 2.0, &mut rng(s)).unwrap()),
            ),
            (
                "swiss",
                Box::new(|n, s| swiss_roll(n, 0.8, 1.0 / 7.5, &mut rng(s)).unwrap()),
            ),
            (
                "discrete",
                Box::new(|n, s| discrete(n, &[[0.0, 1.0], [2.0, -1.0]], &mut rng(s)).unwrap()),
            ),
            (
                "circles",
                Box::new(|n, s| {
                    circles(n, &[[0.0, 0.0], [3.0, 0.0]], 1.0, 0.0, &mut rng(s)).unwrap()
                }),
            ),
            (
                "grid_to_circle",
                Box::new(|n, s| grid_to_circle(n, &mut rng(s)).unwrap().1),
            ),
        ]
    }

    #[test]
    fn shapes_and_seeding() {
        for (name, sample) in samplers() {
            let a = sample(50, 1);
            assert_eq!((a.n, a.d, a.data.len()), (50, 2, 100), "{name}");
            assert!(a.data.iter().all(|v| v.is_finite()), "{name}");
            assert_eq!(a, sample(50, 1), "{name}: same seed, same points");
            assert_ne!(a, sample(50, 2), "{name}: other seed, other points");
        }
    }

    #[test]
    fn ring_points_cluster_around_k_centres() {
        let p = gaussian_ring(N, 3, 2.0, 0.1, &mut rng(0)).unwrap();
        let mut counts = [0usize; 3];
        for r in p.rows() {
            let (j, d) = (0..3)
                .map(|j| {
                    let a = 2.0 * PI * j as f32 / 3.0;
                    (
                        j,
                        ((r[0] - 2.0 * a.cos()).powi(2) + (r[1] - 2.0 * a.sin()).powi(2)).sqrt(),
                    )
                })
                .fold((0, f32::MAX), |best, c| if c.1 < best.1 { c } else { best });
            assert!(d < 0.6, "{r:?} is {d} from centre {j}");
            counts[j] += 1;
        }
        assert!(counts.iter().all(|&c| c > N / 3 - 150), "{counts:?}");
    }

    #[test]
    fn grid_points_sit_near_the_lattice() {
        let p = gaussian_grid(N, 5, 1.0, 0.1, &mut rng(0)).unwrap();
        let offsets: Vec<f32> = p.data.iter().map(|v| v - v.round()).collect();
        assert!(
            p.data
                .iter()
                .all(|v| v.round().abs() <= 2.0 && v.abs() < 2.6)
        );
        assert!((std(&offsets) - 0.1).abs() < 0.01, "{}", std(&offsets));
        assert!(mean(&p.data).abs() < 0.1);
    }

    #[test]
    fn circle_radii() {
        let p = noisy_circle(N, 3.0, 0.05, &mut rng(0)).unwrap();
        let r = norms(&p);
        assert!(
            (mean(&r) - 3.0).abs() < 0.01 && (std(&r) - 0.05).abs() < 0.01,
            "{} {}",
            mean(&r),
            std(&r)
        );
    }

    #[test]
    fn noiseless_moons_lie_on_their_half_circles() {
        let p = moons(1000, 0.0, &mut rng(0)).unwrap();
        for (i, r) in p.rows().enumerate() {
            let (on_circle, side) = if i % 2 == 0 {
                (r[0].powi(2) + r[1].powi(2), r[1] >= -1e-6)
            } else {
                (
                    (r[0] - 1.0).powi(2) + (r[1] - 0.5).powi(2),
                    r[1] <= 0.5 + 1e-6,
                )
            };
            assert!((on_circle - 1.0).abs() < 1e-5 && side, "point {i}: {r:?}");
        }
    }

    #[test]
    fn square_is_uniform() {
        let p = uniform_square(N, 2.0, &mut rng(0)).unwrap();
        assert!(p.data.iter().all(|v| v.abs() <= 2.0));
        // Var of U[-a, a] is a^2 / 3.
        assert!(mean(&p.data).abs() < 0.05 && (std(&p.data) - (4.0f32 / 3.0).sqrt()).abs() < 0.03);
    }

    #[test]
    fn noiseless_swiss_roll_radius_is_the_angle() {
        let p = swiss_roll(1000, 0.0, 0.5, &mut rng(0)).unwrap();
        for r in p.rows() {
            // |(t cos t, t sin t)| = t, in [1.5 pi, 4.5 pi], times the scale.
            let t = (r[0].powi(2) + r[1].powi(2)).sqrt() / 0.5;
            assert!((1.5 * PI - 1e-4..=4.5 * PI + 1e-4).contains(&t), "{r:?}");
            let angle = r[1].atan2(r[0]);
            assert!(
                ((t - angle).rem_euclid(2.0 * PI)).min((angle - t).rem_euclid(2.0 * PI)) < 1e-3,
                "{r:?}"
            );
        }
    }

    #[test]
    fn grid_to_circle_pairs_points_with_their_projection() {
        let (x, y) = grid_to_circle(N, &mut rng(0)).unwrap();
        let r = norms(&y);
        assert!((mean(&r) - 1.0).abs() < 0.02, "{}", mean(&r));
        for (a, b) in x.rows().zip(y.rows()) {
            let cos = (a[0] * b[0] + a[1] * b[1]) / (a[0].hypot(a[1]) * b[0].hypot(b[1]));
            // Noise 0.05 on a unit vector rarely turns it by more than ~0.3 rad;
            // near the origin the projection shrinks and the angle is noisier.
            if a[0].hypot(a[1]) > 0.5 {
                assert!(cos > 0.9, "{a:?} -> {b:?}");
            }
        }
    }

    #[test]
    fn bad_parameters_are_errors() {
        let mut r = rng(0);
        assert!(gaussian_ring(10, 0, 1.0, 0.1, &mut r).is_err());
        assert!(gaussian_ring(10, 3, f32::NAN, 0.1, &mut r).is_err());
        assert!(gaussian_grid(10, 5, 1.0, -0.1, &mut r).is_err());
        assert!(noisy_circle(10, 1.0, f32::INFINITY, &mut r).is_err());
        assert!(uniform_square(10, 0.0, &mut r).is_err());
        assert!(swiss_roll(10, 0.8, f32::NAN, &mut r).is_err());
        assert_eq!(moons(0, 0.05, &mut r).unwrap().n, 0);
    }

    #[test]
    fn discrete_draws_only_its_points_about_equally_often() {
        let at = [[0.0, 1.0], [2.0, -1.0], [-3.0, 0.5]];
        let p = discrete(3 * N, &at, &mut rng(7)).unwrap();
        for point in &at {
            let count = p.rows().filter(|r| r == point).count();
            assert!(
                (count as f32 - N as f32).abs() < 0.1 * N as f32,
                "{point:?}: {count}"
            );
        }
        assert_eq!(p.rows().filter(|r| !at.contains(&[r[0], r[1]])).count(), 0);
        assert!(discrete(3, &[], &mut rng(7)).is_err());
    }

    #[test]
    fn circles_lie_at_their_radius_around_each_centre() {
        let centres = [[0.0, 0.0], [5.0, 0.0]];
        let p = circles(2 * N, &centres, 1.5, 0.0, &mut rng(8)).unwrap();
        let mut per_centre = [0usize; 2];
        for r in p.rows() {
            let (i, d) = centres
                .iter()
                .enumerate()
                .map(|(i, c)| (i, ((r[0] - c[0]).powi(2) + (r[1] - c[1]).powi(2)).sqrt()))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap();
            assert!((d - 1.5).abs() < 1e-4, "{r:?} is {d} from centre {i}");
            per_centre[i] += 1;
        }
        assert!(
            per_centre
                .iter()
                .all(|&c| (c as f32 - N as f32).abs() < 0.1 * N as f32)
        );
    }
}
