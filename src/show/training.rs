//! `--train`: diagnostics of the training behind a scored cell, read from
//! its cache entry: how many outer steps it ran and how fast, where the
//! divergence guard gave up (if it did), and the push-forward fit over
//! training where the train stage recorded a `trace`: its last value, its
//! best (lowest) and the outer step of the best.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::Score;
use crate::cache::Store;
use crate::plan::Plan;
use crate::spec::Pipeline;

/// The diagnostics' column names, in the order they are shown.
pub const COLUMNS: [&str; 6] = [
    "train_steps",
    "s_per_step",
    "diverged_at",
    "fit_last",
    "fit_best",
    "fit_best_step",
];

#[derive(Deserialize)]
struct Summary {
    steps: u64,
    steps_per_second: f64,
    diverged: Option<Diverged>,
}

#[derive(Deserialize)]
struct Diverged {
    step: u64,
}

/// The diagnostics of the one built `train` instance upstream of
/// instance `i`; none when there is no such instance or several.
pub fn diagnostics(p: &Pipeline, plan: &Plan, store: &Store, i: usize) -> BTreeMap<String, Score> {
    let mut trainings = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut stack = vec![i];
    while let Some(j) = stack.pop() {
        if !seen.insert(j) {
            continue;
        }
        let inst = &plan.instances[j];
        if p.stages[inst.stage].kind.name() == "train" {
            trainings.push(j);
        } else {
            stack.extend(&inst.deps);
        }
    }
    let [train] = trainings[..] else {
        return BTreeMap::new();
    };
    let key = &plan.instances[train].key;
    if !store.contains(key) {
        return BTreeMap::new();
    }
    read(&store.output(key))
}

fn read(dir: &Path) -> BTreeMap<String, Score> {
    let one = |value: f64| Score {
        value,
        std: f64::NAN,
        n: 1,
        diverged: None,
    };
    let mut out = BTreeMap::new();
    let summary: Option<Summary> = std::fs::read(dir.join("summary.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    if let Some(s) = summary {
        out.insert("train_steps".to_string(), one(s.steps as f64));
        if s.steps_per_second > 0.0 {
            out.insert("s_per_step".to_string(), one(1.0 / s.steps_per_second));
        }
        if let Some(d) = s.diverged {
            out.insert("diverged_at".to_string(), one(d.step as f64));
        }
    }
    let trace: Vec<(f64, f64)> = std::fs::read_to_string(dir.join("trace.csv"))
        .map(|text| {
            text.lines()
                .skip(1)
                .filter_map(|l| {
                    let mut fields = l.split(',');
                    Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(&(_, last)) = trace.last() {
        out.insert("fit_last".to_string(), one(last));
    }
    if let Some(&(step, best)) = trace
        .iter()
        .filter(|(_, v)| v.is_finite())
        .min_by(|a, b| a.1.total_cmp(&b.1))
    {
        out.insert("fit_best".to_string(), one(best));
        out.insert("fit_best_step".to_string(), one(step));
    }
    out
}
