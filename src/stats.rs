//! Confidence intervals over independent runs (seeds): Student t, as an
//! experimenter reports "mean ± 95% CI over 5 seeds".

use statrs::distribution::{ContinuousCDF, StudentsT};

/// The confidence level of every interval nrun reports.
pub const LEVEL: f64 = 0.95;

/// The two-sided `LEVEL` quantile of Student's t with `df` degrees of
/// freedom (12.706 for 1, 2.776 for 4, 1.960 as `df` grows).
pub fn t_quantile(df: usize) -> f64 {
    assert!(df > 0, "a t quantile needs at least one degree of freedom");
    StudentsT::new(0.0, 1.0, df as f64)
        .expect("location 0, scale 1 and df > 0 are valid")
        .inverse_cdf(0.5 + LEVEL / 2.0)
}

/// Half the width of the `LEVEL` confidence interval of a mean of `runs`
/// values with sample standard deviation `std`; `None` for fewer than two.
pub fn mean_half_width(std: f64, runs: usize) -> Option<f64> {
    (runs > 1).then(|| t_quantile(runs - 1) * std / (runs as f64).sqrt())
}

/// Mean, sample standard deviation and the interval's half width of `values`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub mean: f64,
    /// The sample standard deviation of a mean's values (the standard error
    /// of a slope); `None` for a single value.
    pub std: Option<f64>,
    /// Half width of the `LEVEL` interval around `mean`; `None` for a single value.
    pub half_width: Option<f64>,
    pub n: usize,
}

impl Estimate {
    /// `None` when there are no values.
    pub fn of(values: &[f64]) -> Option<Estimate> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let std = (n > 1).then(|| {
            let squares: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
            (squares / (n - 1) as f64).sqrt()
        });
        Some(Estimate {
            mean,
            std,
            half_width: std.and_then(|s| mean_half_width(s, n)),
            n,
        })
    }

    /// The interval's ends; a single value is its own interval.
    pub fn interval(&self) -> (f64, f64) {
        let h = self.half_width.unwrap_or(0.0);
        (self.mean - h, self.mean + h)
    }
}

/// Least-squares slope of `y` on `x` with its `LEVEL` interval (t with
/// n - 2 degrees of freedom); `None` with fewer than two distinct `x`.
pub fn slope(x: &[f64], y: &[f64]) -> Option<Estimate> {
    assert_eq!(x.len(), y.len(), "one y per x");
    let n = x.len();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return None;
    }
    let (mx, my) = (mean(x), mean(y));
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let b = sxy / sxx;
    let se = (n > 2).then(|| {
        let residuals: f64 = x
            .iter()
            .zip(y)
            .map(|(a, v)| (v - my - b * (a - mx)).powi(2))
            .sum();
        (residuals / (n - 2) as f64 / sxx).sqrt()
    });
    Some(Estimate {
        mean: b,
        std: se,
        half_width: se.map(|s| t_quantile(n - 2) * s),
        n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_printed_tables() {
        // Two-sided 95% critical values, e.g. any statistics textbook's table.
        for (df, t) in [(1, 12.706), (2, 4.303), (4, 2.776), (9, 2.262), (29, 2.045)] {
            assert!(
                (t_quantile(df) - t).abs() < 1e-3,
                "df {df}: {}",
                t_quantile(df)
            );
        }
        assert!((t_quantile(100_000) - 1.960).abs() < 1e-3);
    }

    #[test]
    fn a_mean_interval_is_t_times_the_standard_error() {
        let e = Estimate::of(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!(e.mean, 3.0);
        let std = 2.5f64.sqrt();
        assert!((e.std.unwrap() - std).abs() < 1e-12);
        let h = 2.776_445 * std / 5f64.sqrt();
        assert!((e.half_width.unwrap() - h).abs() < 1e-5, "{e:?}");
        assert_eq!(Estimate::of(&[2.0]).unwrap().interval(), (2.0, 2.0));
        assert_eq!(Estimate::of(&[]), None);
    }

    #[test]
    fn a_slope_on_a_line_is_exact_and_its_interval_covers_noise() {
        let x = [0.0, 1.0, 2.0, 3.0];
        let line: Vec<f64> = x.iter().map(|v| 2.0 * v + 1.0).collect();
        let s = slope(&x, &line).unwrap();
        assert!((s.mean - 2.0).abs() < 1e-12 && s.half_width.unwrap() < 1e-12);
        // y = x + (1, -1, -1, 1): slope 1, residual sum of squares 4 over
        // 2 df, sxx 5: se = sqrt(2 / 5), t(2) = 4.303.
        let noisy = [1.0, 0.0, 1.0, 4.0];
        let s = slope(&x, &noisy).unwrap();
        assert!((s.mean - 1.0).abs() < 1e-12);
        assert!((s.half_width.unwrap() - 4.302_653 * (2.0f64 / 5.0).sqrt()).abs() < 1e-5);
        assert_eq!(slope(&[1.0, 1.0], &[0.0, 1.0]), None);
    }
}
