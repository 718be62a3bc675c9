//! How a stochastic map recovers the modes of a multimodal target: Hardion
//! & Olivier's discrete source to circles with the distance-to-the-mean
//! cost, whose solution puts the mean of T(x, .) on a circle's centre.

use std::collections::HashMap;

use super::MetricError;

/// What the conditional means E_z T(x, z) say about the target's centres.
#[derive(Clone, Debug, PartialEq)]
pub struct ModeScores {
    /// Per input: the distance from its conditional mean to the nearest centre.
    pub distances: Vec<f64>,
    /// Centres that some input's conditional mean lies within `tolerance` of.
    pub recovered: usize,
}

/// Scores `samples` laid out `[n_inputs, n_z, 2]` row-major, the outputs
/// for `inputs` (`[n_inputs, 2]`), against `centres`: each input's
/// conditional mean, its distance to the nearest centre, and how many
/// centres are recovered, i.e. have a conditional mean within `tolerance`.
/// Inputs that are the same point (a discrete source draws each atom many
/// times) pool their outputs into one mean, so that its Monte-Carlo error
/// does not pass for a distance.
pub fn mode_scores(
    inputs: &[f32],
    samples: &[f32],
    n_z: usize,
    centres: &[[f64; 2]],
    tolerance: f64,
) -> Result<ModeScores, MetricError> {
    if !inputs.len().is_multiple_of(2) {
        return Err(MetricError::RaggedRows {
            len: inputs.len(),
            dim: 2,
        });
    }
    let n_inputs = inputs.len() / 2;
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
    // Sums and counts of outputs per distinct input point, by its bits.
    let mut pooled: HashMap<[u32; 2], ([f64; 2], usize)> = HashMap::new();
    for (x, outputs) in inputs.chunks_exact(2).zip(samples.chunks_exact(n_z * 2)) {
        let (sum, count) = pooled.entry([x[0].to_bits(), x[1].to_bits()]).or_default();
        for t in outputs.chunks_exact(2) {
            sum[0] += f64::from(t[0]);
            sum[1] += f64::from(t[1]);
        }
        *count += n_z;
    }
    let mut hit = vec![false; centres.len()];
    let mut distances = Vec::with_capacity(n_inputs);
    for x in inputs.chunks_exact(2) {
        let (sum, count) = pooled[&[x[0].to_bits(), x[1].to_bits()]];
        let mean = sum.map(|s| s / count as f64);
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
                [
                    (c[0] + off[0] + a.cos()) as f32,
                    (c[1] + off[1] + a.sin()) as f32,
                ]
            })
            .collect()
    }

    #[test]
    fn conditional_means_on_the_centres_score_zero_and_recover_them() {
        let samples: Vec<f32> = CENTRES
            .iter()
            .flat_map(|&c| ring(c, [0.0, 0.0], 8))
            .collect();
        let s = mode_scores(&[0.0, 0.0, 1.0, 0.0, 2.0, 0.0], &samples, 8, &CENTRES, 0.5).unwrap();
        assert!(s.distances.iter().all(|d| *d < 1e-6), "{s:?}");
        assert_eq!(s.recovered, 3);
    }

    #[test]
    fn a_missed_mode_is_not_recovered_and_offsets_are_measured() {
        // Two inputs land near the first centre (one 0.3 off), none near the third.
        let samples: Vec<f32> = [
            ring(CENTRES[0], [0.3, 0.4], 8),
            ring(CENTRES[0], [0.0, 0.0], 8),
            ring(CENTRES[1], [0.0, 0.0], 8),
        ]
        .concat();
        let inputs = [0.0, 0.0, 1.0, 0.0, 2.0, 0.0];
        let s = mode_scores(&inputs, &samples, 8, &CENTRES, 0.25).unwrap();
        assert!((s.distances[0] - 0.5).abs() < 1e-6, "{s:?}");
        assert_eq!(s.recovered, 2);
        // A larger tolerance cannot recover a centre nothing came near.
        assert_eq!(
            mode_scores(&inputs, &samples, 8, &CENTRES, 1.0)
                .unwrap()
                .recovered,
            2
        );
        // The same two first inputs as one point: their outputs pool, the
        // mean lands 0.25 off, and both inputs get that distance.
        let same = [0.0, 0.0, 0.0, 0.0, 2.0, 0.0];
        let s = mode_scores(&same, &samples, 8, &CENTRES, 0.2).unwrap();
        assert!(
            (s.distances[0] - 0.25).abs() < 1e-6 && (s.distances[1] - 0.25).abs() < 1e-6,
            "{s:?}"
        );
        assert_eq!(s.recovered, 1);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let x = [0.0; 2];
        assert!(mode_scores(&x, &[0.0; 4], 2, &[], 1.0).is_err());
        assert!(mode_scores(&x, &[0.0; 4], 2, &CENTRES, 0.0).is_err());
        assert!(mode_scores(&x, &[0.0; 3], 2, &CENTRES, 1.0).is_err());
        assert!(mode_scores(&x, &[f32::NAN; 4], 2, &CENTRES, 1.0).is_err());
    }
}
