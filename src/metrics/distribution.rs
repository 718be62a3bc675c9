//! Two-sample distances between point clouds `X` (`n x d`) and `Y`
//! (`m x d`), both row-major: the energy distance and the squared MMD with
//! a Gaussian kernel.
//!
//! Both use unbiased U-statistics: within-set averages run over distinct
//! pairs `i != j`, cross-set averages over all `n * m` pairs. They are
//! therefore unbiased for the population quantity but not bounded below by
//! zero: for identical (or same-distribution) samples they fluctuate around
//! zero, and for `X == Y` they are slightly negative, of order `1 / n`.

use super::MetricError;
use super::points::{Points, squared_distance};

/// How the Gaussian kernel width `sigma` in `exp(-||a - b||^2 / (2 sigma^2))`
/// is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bandwidth {
    /// A caller-chosen `sigma > 0`.
    Fixed(f64),
    /// `sigma` is the [`median_heuristic`] of the two samples.
    MedianHeuristic,
}

/// Squared energy distance `2 E||X - Y|| - E||X - X'|| - E||Y - Y'||`
/// (Székely's E-statistic, not square-rooted), with `E||X - X'||` and
/// `E||Y - Y'||` averaged over distinct pairs. Needs `n, m >= 2`.
pub fn energy_distance(x: &[f32], y: &[f32], d: usize) -> Result<f64, MetricError> {
    let (x, y) = two_samples(x, y, d)?;
    let distance = |a: &[f32], b: &[f32]| squared_distance(a, b).sqrt();
    Ok(2.0 * cross_mean(x, y, distance) - within_mean(x, distance) - within_mean(y, distance))
}

/// Unbiased squared maximum mean discrepancy (Gretton et al. 2012, eq. 3)
/// `E k(X, X') + E k(Y, Y') - 2 E k(X, Y)` with the Gaussian kernel
/// `k(a, b) = exp(-||a - b||^2 / (2 sigma^2))`. Needs `n, m >= 2`.
pub fn mmd2_rbf(x: &[f32], y: &[f32], d: usize, bandwidth: Bandwidth) -> Result<f64, MetricError> {
    let sigma = match bandwidth {
        Bandwidth::Fixed(sigma) => sigma,
        Bandwidth::MedianHeuristic => median_heuristic(x, y, d)?,
    };
    if !(sigma.is_finite() && sigma > 0.0) {
        return Err(MetricError::NonPositive {
            what: "kernel bandwidth",
            value: sigma,
        });
    }
    let (x, y) = two_samples(x, y, d)?;
    let scale = -0.5 / (sigma * sigma);
    let kernel = |a: &[f32], b: &[f32]| (scale * squared_distance(a, b)).exp();
    Ok(within_mean(x, kernel) + within_mean(y, kernel) - 2.0 * cross_mean(x, y, kernel))
}

/// The median heuristic bandwidth: the median of the Euclidean distances
/// `||z_i - z_j||` over all unordered pairs `i < j` of the pooled sample
/// `Z = X ∪ Y` (the mean of the two middle values when their count is even).
/// Takes `O((n + m)^2)` time and memory. Fails if the median is zero.
pub fn median_heuristic(x: &[f32], y: &[f32], d: usize) -> Result<f64, MetricError> {
    let (x, y) = two_samples(x, y, d)?;
    let pooled: Vec<&[f32]> = x.rows().chain(y.rows()).collect();
    let mut distances: Vec<f64> = pooled
        .iter()
        .enumerate()
        .flat_map(|(i, a)| {
            pooled[i + 1..]
                .iter()
                .map(|b| squared_distance(a, b).sqrt())
        })
        .collect();
    let count = distances.len();
    let (below, &mut upper, _) = distances.select_nth_unstable_by(count / 2, f64::total_cmp);
    let median = if count.is_multiple_of(2) {
        // No single middle value: average it with its lower neighbour, the
        // largest of the values partitioned below it.
        let lower = below.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lower + upper) / 2.0
    } else {
        upper
    };
    if median <= 0.0 {
        return Err(MetricError::NonPositive {
            what: "median heuristic bandwidth",
            value: median,
        });
    }
    Ok(median)
}

/// Validates both clouds against the same dimension and the two points a
/// within-set U-statistic needs.
fn two_samples<'a>(
    x: &'a [f32],
    y: &'a [f32],
    d: usize,
) -> Result<(Points<'a>, Points<'a>), MetricError> {
    let x = Points::new(x, d)?;
    let y = Points::new(y, d)?;
    x.require("first sample", 2)?;
    y.require("second sample", 2)?;
    Ok((x, y))
}

/// Mean of `f(a, b)` over all pairs with `a` from `x` and `b` from `y`.
fn cross_mean(x: Points, y: Points, f: impl Fn(&[f32], &[f32]) -> f64) -> f64 {
    let sum: f64 = x
        .rows()
        .map(|a| y.rows().map(|b| f(a, b)).sum::<f64>())
        .sum();
    sum / (x.len() * y.len()) as f64
}

/// Mean of a symmetric `f(a, b)` over distinct pairs of points of `x`.
fn within_mean(x: Points, f: impl Fn(&[f32], &[f32]) -> f64) -> f64 {
    let rows: Vec<&[f32]> = x.rows().collect();
    let sum: f64 = rows
        .iter()
        .enumerate()
        .map(|(i, a)| rows[i + 1..].iter().map(|b| f(a, b)).sum::<f64>())
        .sum();
    // Each unordered pair stands for both of its orderings.
    let n = rows.len() as f64;
    2.0 * sum / (n * (n - 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// `n` points in `d` dimensions, uniform on `[offset, offset + 1)`.
    fn cloud(seed: u64, n: usize, d: usize, offset: f32) -> Vec<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n * d).map(|_| offset + rng.random::<f32>()).collect()
    }

    #[test]
    fn energy_by_hand() {
        // X = {0, 1}, Y = {3, 5}: cross mean (3 + 5 + 2 + 4) / 4 = 3.5,
        // within X 1, within Y 2, so 7 - 1 - 2.
        let value = energy_distance(&[0.0, 1.0], &[3.0, 5.0], 1).unwrap();
        assert!((value - 4.0).abs() < 1e-12, "{value}");
    }

    #[test]
    fn energy_of_identical_sets_is_the_u_statistic_bias() {
        // X = Y = {0, 1, 3}: the cross mean includes the three zero
        // self-distances (12 / 9) while the within means do not (12 / 6),
        // so 2 * 4/3 - 2 - 2 = -4/3.
        let x = [0.0, 1.0, 3.0];
        let value = energy_distance(&x, &x, 1).unwrap();
        assert!((value + 4.0 / 3.0).abs() < 1e-12, "{value}");
    }

    #[test]
    fn mmd_by_hand() {
        // sigma = 1, k = exp(-t^2 / 2) for distance t. Within X: t = 1;
        // within Y: t = 2; cross: t = 3, 5, 2, 4.
        let value = mmd2_rbf(&[0.0, 1.0], &[3.0, 5.0], 1, Bandwidth::Fixed(1.0)).unwrap();
        let k = |t: f64| (-t * t / 2.0).exp();
        let expected = k(1.0) + k(2.0) - 2.0 * (k(3.0) + k(5.0) + k(2.0) + k(4.0)) / 4.0;
        assert!((value - expected).abs() < 1e-12, "{value} vs {expected}");
    }

    #[test]
    fn mmd_of_identical_sets_is_the_u_statistic_bias() {
        // X = Y = {0, 1}, sigma = 1: within means exp(-1/2) each, cross mean
        // (2 + 2 exp(-1/2)) / 4, so exp(-1/2) - 1.
        let x = [0.0, 1.0];
        let value = mmd2_rbf(&x, &x, 1, Bandwidth::Fixed(1.0)).unwrap();
        assert!((value - ((-0.5_f64).exp() - 1.0)).abs() < 1e-12, "{value}");
    }

    #[test]
    fn median_heuristic_by_hand() {
        // Pooled {0, 1, 3, 5}: distances 1, 2, 2, 3, 4, 5, median (2 + 3) / 2.
        let value = median_heuristic(&[0.0, 1.0], &[3.0, 5.0], 1).unwrap();
        assert_eq!(value, 2.5);
        // Pooled {0, 1, 3}: odd count of distances 1, 2, 3.
        let value = median_heuristic(&[0.0, 1.0], &[3.0, 3.0], 1).unwrap();
        assert_eq!(value, 2.0);
    }

    #[test]
    fn shifted_sets_are_far_apart_and_same_law_is_near_zero() {
        let x = cloud(1, 150, 3, 0.0);
        let same = cloud(2, 120, 3, 0.0);
        let shifted = cloud(3, 120, 3, 2.0);
        for distance in [
            |x: &[f32], y: &[f32]| energy_distance(x, y, 3).unwrap(),
            |x: &[f32], y: &[f32]| mmd2_rbf(x, y, 3, Bandwidth::MedianHeuristic).unwrap(),
        ] {
            let near = distance(&x, &same);
            let far = distance(&x, &shifted);
            assert!(far > 0.3, "{far}");
            assert!(near.abs() < far / 20.0, "{near} vs {far}");
        }
    }

    #[test]
    fn symmetric_in_the_two_samples() {
        let x = cloud(4, 9, 2, 0.0);
        let y = cloud(5, 6, 2, 0.5);
        let energy = energy_distance(&x, &y, 2).unwrap();
        assert!((energy - energy_distance(&y, &x, 2).unwrap()).abs() < 1e-12);
        let mmd = mmd2_rbf(&x, &y, 2, Bandwidth::MedianHeuristic).unwrap();
        let swapped = mmd2_rbf(&y, &x, 2, Bandwidth::MedianHeuristic).unwrap();
        assert!((mmd - swapped).abs() < 1e-12);
    }

    #[test]
    fn rejects_bad_input() {
        assert!(matches!(
            energy_distance(&[1.0], &[1.0, 2.0], 1),
            Err(MetricError::TooFewSamples { needed: 2, .. })
        ));
        assert!(matches!(
            energy_distance(&[1.0, 2.0, 3.0], &[1.0, 2.0], 2),
            Err(MetricError::RaggedRows { .. })
        ));
        assert!(matches!(
            mmd2_rbf(&[0.0, 1.0], &[0.0, 1.0], 1, Bandwidth::Fixed(0.0)),
            Err(MetricError::NonPositive { .. })
        ));
        assert!(matches!(
            median_heuristic(&[1.0, 1.0], &[1.0, 1.0], 1),
            Err(MetricError::NonPositive { .. })
        ));
    }
}
