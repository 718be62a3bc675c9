//! How a stochastic map recovers the modes of a multimodal target: Hardion
//! & Olivier's discrete source to circles with the distance-to-the-mean
//! cost, whose solution puts the mean of T(x, .) on a circle's centre.

use super::MetricError;

/// What the conditional means E_z T(x, z) say about the target's centres.
#[derive(Clone, Debug, PartialEq)]
pub struct ModeScores {
    /// Per input: the distance from its conditional mean to the nearest centre.
    pub distances: Vec<f64>,
    /// Centres that some input's conditional mean lies within `tolerance` of.
    pub recovered: usize,
}

/// Scores `samples` laid out `[n_inputs, n_z, 2]` row-major against
/// `centres`: each input's conditional mean (the average of its `n_z`
/// outputs), its distance to the nearest centre, and how many centres are
/// recovered, i.e. have a conditional mean within `tolerance`.
pub fn mode_scores(
    samples: &[f32],
    n_inputs: usize,
    n_z: usize,
    centres: &[[f64; 2]],
    tolerance: f64,
) -> Result<ModeScores, MetricError> {
    if n_inputs == 0 || n_z == 0 {
        return Err(MetricError::Empty { what: "inputs" });
    }
    if centres.is_empty() {
        return Err(MetricError::Empty { what: "centres" });
    }
    if !(tolerance > 0.0 && tolerance.is_finite()) {
        return Err(MetricError::NonPositive {
            what: "tolerance",
            value: tolerance,
        });
    }
    let expected = n_inputs * n_z * 2;
    if samples.len() != expected {
        return Err(MetricError::LengthMismatch {
            expected,
            actual: samples.len(),
        });
    }
    let mut hit = vec![false; centres.len()];
    let mut distances = Vec::with_capacity(n_inputs);
    for outputs in samples.chunks_exact(n_z * 2) {
        let mut mean = [0.0f64; 2];
        for t in outputs.chunks_exact(2) {
            mean[0] += f64::from(t[0]);
            mean[1] += f64::from(t[1]);
        }
        let mean = mean.map(|m| m / n_z as f64);
        if !mean.iter().all(|m| m.is_finite()) {
            return Err(MetricError::NonFinite { what: "samples" });
        }
        let (nearest, distance) = centres
            .iter()
            .map(|c| ((mean[0] - c[0]).powi(2) + (mean[1] - c[1]).powi(2)).sqrt())
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("at least one centre");
        if distance <= tolerance {
            hit[nearest] = true;
        }
        distances.push(distance);
    }
    Ok(ModeScores {
        distances,
        recovered: hit.iter().filter(|&&h| h).count(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CENTRES: [[f64; 2]; 3] = [[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]];

    /// `n_z` outputs evenly around the circle of radius 1 about `c`, shifted by `off`.
    fn ring(c: [f64; 2], off: [f64; 2], n_z: usize) -> Vec<f32> {
        (0..n_z)
            .flat_map(|k| {
                let a = 2.0 * std::f64::consts::PI * k as f64 / n_z as f64;
                [(c[0] + off[0] + a.cos()) as f32, (c[1] + off[1] + a.sin()) as f32]
            })
            .collect()
    }

    #[test]
    fn conditional_means_on_the_centres_score_zero_and_recover_them() {
        let samples: Vec<f32> = CENTRES.iter().flat_map(|&c| ring(c, [0.0, 0.0], 8)).collect();
        let s = mode_scores(&samples, 3, 8, &CENTRES, 0.5).unwrap();
        assert!(s.distances.iter().all(|d| *d < 1e-6), "{s:?}");
        assert_eq!(s.recovered, 3);
    }

    #[test]
    fn a_missed_mode_is_not_recovered_and_offsets_are_measured() {
        // Two inputs land near the first centre (one 0.3 off), none near the third.
        let samples: Vec<f32> = [ring(CENTRES[0], [0.3, 0.4], 8), ring(CENTRES[0], [0.0, 0.0], 8), ring(CENTRES[1], [0.0, 0.0], 8)]
            .concat();
        let s = mode_scores(&samples, 3, 8, &CENTRES, 0.25).unwrap();
        assert!((s.distances[0] - 0.5).abs() < 1e-6, "{s:?}");
        assert_eq!(s.recovered, 2);
        // With a tolerance below the offset, that input recovers nothing more.
        assert_eq!(mode_scores(&samples, 3, 8, &CENTRES, 1.0).unwrap().recovered, 2);
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(mode_scores(&[0.0; 4], 1, 2, &[], 1.0).is_err());
        assert!(mode_scores(&[0.0; 4], 1, 2, &CENTRES, 0.0).is_err());
        assert!(mode_scores(&[0.0; 3], 1, 2, &CENTRES, 1.0).is_err());
        assert!(mode_scores(&[f32::NAN; 4], 1, 2, &CENTRES, 1.0).is_err());
    }
}
