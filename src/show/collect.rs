//! Gathering the sheet from a plan, the cache and the newest run's record.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value as Json;

use super::{Row, Score, Sheet, State};
use crate::cache::Store;
use crate::plan::Plan;
use crate::results;
use crate::spec::Pipeline;
use crate::table::{TableError, read_rows};

/// The name of the pseudo-param that says which stage scored a row.
pub const STAGE: &str = "stage";

/// The scored cells among the `selected` instances of the plan; with
/// `training`, each with the diagnostics of the training behind it.
pub fn collect(
    p: &Pipeline,
    plan: &Plan,
    store: &Store,
    selected: &[usize],
    training: bool,
) -> Result<Sheet, TableError> {
    let failed = failed_keys(&results::pipeline_dir(p).join("last-run.json"));
    let mut params: Vec<String> = vec![STAGE.to_string()];
    params.extend(p.grid.axes.iter().map(|a| a.name.clone()));
    let mut metrics: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    let mut seconds_memo = BTreeMap::new();
    let scoring = scoring_stages(p, plan, store);
    for &i in selected {
        let inst = &plan.instances[i];
        if !scoring.contains(&inst.stage) {
            continue;
        }
        let stage = &p.stages[inst.stage];
        let scores_file = store.output(&inst.key).join("metrics.csv");
        let cached = store.contains(&inst.key);
        let mut row_params = inst.cell.labels();
        row_params.insert(STAGE.to_string(), stage.name.clone());
        if let Some(Json::Object(tags)) = inst.params.get("tag") {
            for (name, value) in tags {
                push_new(&mut params, name);
                row_params.insert(name.clone(), crate::canon::label(value));
            }
        }
        // A stage not yet built still announces its metrics' columns.
        if let Some(Json::Array(names)) = inst.params.get("metrics") {
            for name in names.iter().filter_map(Json::as_str) {
                push_new(&mut metrics, name);
            }
        }
        let mut scores = BTreeMap::new();
        if cached && scores_file.is_file() {
            for r in read_rows([&scores_file])? {
                push_new(&mut metrics, &r.metric);
                let score = Score::from(&r);
                scores.insert(r.metric, score);
            }
        }
        if training {
            let diagnostics = super::training::diagnostics(p, plan, store, i);
            for name in super::training::COLUMNS {
                if let Some(score) = diagnostics.get(name) {
                    push_new(&mut metrics, name);
                    scores.insert(name.to_string(), score.clone());
                }
            }
        }
        let state = if cached {
            State::Cached
        } else if failed.contains(&inst.key) {
            State::Failed
        } else {
            State::NotRun
        };
        rows.push(Row {
            params: row_params,
            state,
            seconds: upstream_seconds(plan, store, i, &mut seconds_memo),
            scores,
            reference: None,
        });
    }
    Ok(Sheet {
        pipeline: p.name.clone(),
        params,
        metrics,
        rows,
    })
}

fn push_new(list: &mut Vec<String>, name: &str) {
    if !list.iter().any(|n| n == name) {
        list.push(name.to_string());
    }
}

/// The stages that score: `metric` stages, and `command` stages one of
/// whose built instances wrote a `metrics.csv`.
fn scoring_stages(p: &Pipeline, plan: &Plan, store: &Store) -> BTreeSet<usize> {
    let mut stages: BTreeSet<usize> = (0..p.stages.len())
        .filter(|&s| p.stages[s].kind.name() == "metric")
        .collect();
    for inst in &plan.instances {
        if p.stages[inst.stage].kind.name() == "command"
            && !stages.contains(&inst.stage)
            && store.output(&inst.key).join("metrics.csv").is_file()
        {
            stages.insert(inst.stage);
        }
    }
    stages
}

/// Build seconds of instance `i` and everything it reads, transitively,
/// counting each instance once; `None` while any of them is unbuilt.
fn upstream_seconds(
    plan: &Plan,
    store: &Store,
    i: usize,
    memo: &mut BTreeMap<usize, Option<f64>>,
) -> Option<f64> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![i];
    let mut total = 0.0;
    while let Some(j) = stack.pop() {
        if !seen.insert(j) {
            continue;
        }
        let own = *memo.entry(j).or_insert_with(|| {
            let key = &plan.instances[j].key;
            store.contains(key).then(|| store.build_seconds(key))
        });
        total += own?;
        stack.extend(&plan.instances[j].deps);
    }
    Some(total)
}

/// Keys of the instances the newest run recorded as failed.
fn failed_keys(last_run: &Path) -> BTreeSet<String> {
    let Ok(bytes) = std::fs::read(last_run) else {
        return BTreeSet::new();
    };
    let Ok(doc) = serde_json::from_slice::<Json>(&bytes) else {
        return BTreeSet::new();
    };
    doc.get("instances")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter(|inst| inst.get("status").and_then(Json::as_str) == Some("failed"))
        .filter_map(|inst| inst.get("key").and_then(Json::as_str).map(str::to_string))
        .collect()
}
