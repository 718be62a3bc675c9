//! Summary statistics of the runs in one cell.

/// Mean and spread of one cell's runs (one value per run, e.g. per seed).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    pub mean: f64,
    /// Sample standard deviation (n - 1); `None` for a single run.
    pub std: Option<f64>,
    pub runs: usize,
}

impl Summary {
    /// Summarises `values`; `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Summary> {
        let runs = values.len();
        if runs == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / runs as f64;
        let std = (runs > 1).then(|| {
            let squares: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
            (squares / (runs - 1) as f64).sqrt()
        });
        Some(Summary { mean, std, runs })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_std_divides_by_n_minus_one() {
        let s = Summary::of(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(s.mean, 2.5);
        assert!((s.std.unwrap() - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(s.runs, 4);
    }

    #[test]
    fn one_run_has_no_std_and_none_has_no_summary() {
        assert_eq!(
            Summary::of(&[7.0]),
            Some(Summary {
                mean: 7.0,
                std: None,
                runs: 1
            })
        );
        assert_eq!(Summary::of(&[]), None);
    }
}
