//! Projecting points onto the unit sphere (the unit circle in 2-D) with noise.

use rand::Rng;
use rand_distr::Distribution;

use super::error::ParamError;
use super::noise::normal;
use super::points::Points;

/// `y = x / (||x|| + eps) + N(0, noise^2 I)` for every point: the target of
/// the grid -> circle toy (Weinreich & Heurtel-Depeiges, Fig. 11) uses
/// `eps = 0.01`, `noise = 0.05`. `eps > 0` keeps `x = 0` finite.
pub fn project_to_circle<R: Rng + ?Sized>(
    points: &Points,
    eps: f32,
    noise: f32,
    rng: &mut R,
) -> Result<Points, ParamError> {
    points.check()?;
    if !(eps.is_finite() && eps > 0.0) {
        return Err(ParamError::Invalid {
            name: "projection eps",
            value: f64::from(eps),
            expected: "finite and > 0",
        });
    }
    let normal = normal(noise)?;
    let mut data = Vec::with_capacity(points.data.len());
    for row in points.rows() {
        let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        data.extend(row.iter().map(|v| v / (norm + eps) + normal.sample(rng)));
    }
    Ok(Points { data, ..*points })
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn noiseless_projection_by_hand() {
        let x = Points::new(3, 2, vec![3.0, 4.0, 0.0, 0.0, -0.5, 0.0]).unwrap();
        let y = project_to_circle(&x, 0.01, 0.0, &mut ChaCha8Rng::seed_from_u64(0)).unwrap();
        let want = [3.0 / 5.01, 4.0 / 5.01, 0.0, 0.0, -0.5 / 0.51, 0.0];
        for (g, w) in y.data.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{:?}", y.data);
        }
    }

    #[test]
    fn noise_is_seeded_and_bad_parameters_are_errors() {
        let x = Points::new(2, 2, vec![1.0, 0.0, 0.0, 2.0]).unwrap();
        let draw =
            |seed| project_to_circle(&x, 0.01, 0.05, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap();
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        assert!(project_to_circle(&x, 0.0, 0.05, &mut rng).is_err());
        assert!(project_to_circle(&x, 0.01, -1.0, &mut rng).is_err());
    }
}
