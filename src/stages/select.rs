//! Choosing which items of a loaded dataset a stage keeps: label filter,
//! a seeded split into disjoint parts, and a count limit. Shared by the
//! loader kinds as their `select` param.

use rand::seq::SliceRandom;
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::ParamError;
use crate::rng::{self, Purpose};
use crate::samples::Samples;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Select {
    /// Keep only these labels (e.g. `[2]` for digit 2, `[0]` for T-shirts).
    #[serde(default)]
    pub labels: Vec<i64>,
    /// Shuffle with `seed`, cut into parts of these fractions, keep `take`.
    /// `{fractions: [0.5, 0.5], take: 1}` is the second of two disjoint halves.
    pub split: Option<Split>,
    /// Keep at most this many items (after the split).
    pub limit: Option<usize>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Split {
    pub fractions: Vec<f64>,
    pub take: usize,
    #[serde(default)]
    pub seed: u64,
}

impl Select {
    pub fn validate(&self) -> Result<(), ParamError> {
        if let Some(split) = &self.split {
            let total: f64 = split.fractions.iter().sum();
            if split.fractions.iter().any(|f| *f <= 0.0) || (total - 1.0).abs() > 1e-9 {
                return Err(ParamError::at(
                    "select.split.fractions",
                    "fractions must be positive and sum to 1",
                ));
            }
            if split.take >= split.fractions.len() {
                return Err(ParamError::at(
                    "select.split.take",
                    format!("take is an index below {}", split.fractions.len()),
                ));
            }
        }
        Ok(())
    }

    /// The indices of the kept items, in their original order (a split keeps
    /// the original order within its part so results do not depend on the
    /// shuffle beyond membership).
    pub fn indices(&self, labels: Option<&[i64]>, n: usize) -> Vec<usize> {
        let mut keep: Vec<usize> = (0..n)
            .filter(|&i| {
                self.labels.is_empty() || labels.is_some_and(|l| self.labels.contains(&l[i]))
            })
            .collect();
        if let Some(split) = &self.split {
            let mut order = keep.clone();
            order.shuffle(&mut rng::stream(split.seed, Purpose::Sample, u64::MAX));
            let total = order.len() as f64;
            let mut start = 0.0;
            for (i, f) in split.fractions.iter().enumerate() {
                let end = start + f * total;
                if i == split.take {
                    let (a, b) = (start.round() as usize, end.round() as usize);
                    let mut part = order[a..b.min(order.len())].to_vec();
                    part.sort_unstable();
                    keep = part;
                    break;
                }
                start = end;
            }
        }
        if let Some(limit) = self.limit {
            keep.truncate(limit);
        }
        keep
    }

    pub fn describe(&self) -> Json {
        json!({
            "labels": self.labels,
            "split": self.split.as_ref().map(|s| json!({"fractions": s.fractions, "take": s.take, "seed": s.seed})),
            "limit": self.limit,
        })
    }
}

/// Items of `samples` (and their labels) at `indices`.
pub fn pick(
    samples: &Samples,
    labels: Option<&[i64]>,
    indices: &[usize],
) -> (Samples, Option<Vec<i64>>) {
    let x = Samples::new(samples.shape.clone(), samples.gather(indices));
    let labels = labels.map(|l| indices.iter().map(|&i| l[i]).collect());
    (x, labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_are_disjoint_and_cover_the_filtered_items() {
        let labels: Vec<i64> = (0..100).map(|i| i % 3).collect();
        let half = |take| Select {
            labels: vec![1],
            split: Some(Split {
                fractions: vec![0.5, 0.5],
                take,
                seed: 4,
            }),
            limit: None,
        };
        let (a, b) = (
            half(0).indices(Some(&labels), 100),
            half(1).indices(Some(&labels), 100),
        );
        assert_eq!(a.len() + b.len(), 33);
        assert!(a.iter().all(|i| !b.contains(i)));
        assert!(a.iter().chain(&b).all(|&i| labels[i] == 1));
        assert!(
            a.windows(2).all(|w| w[0] < w[1]),
            "original order within a part"
        );
    }

    #[test]
    fn bad_fractions_are_rejected() {
        let s = Select {
            split: Some(Split {
                fractions: vec![0.5, 0.6],
                take: 0,
                seed: 0,
            }),
            ..Select::default()
        };
        assert!(s.validate().is_err());
    }
}
