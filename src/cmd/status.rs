//! `nrun status PIPELINE`: every instance with its cell, short key and state.

use serde::Serialize;

use super::Loaded;
use crate::cache::record;
use crate::cli::PipelineArgs;
use crate::error::{Result, exit};
use crate::results;
use crate::stages::checkpoint;

#[derive(Serialize)]
struct Row {
    stage: String,
    cell: serde_json::Value,
    key: String,
    /// `cached`, `will run`, or `will resume` (a training with a checkpoint).
    state: &'static str,
    /// Outer steps its checkpoint has done, for `will resume`.
    #[serde(skip_serializing_if = "Option::is_none")]
    resumes_at: Option<u64>,
    /// A training's outer steps in all.
    #[serde(skip_serializing_if = "Option::is_none")]
    steps: Option<u64>,
    reasons: Vec<String>,
}

pub fn run(args: &PipelineArgs, json: bool) -> Result<u8> {
    let loaded = Loaded::load(args)?;
    let selected = loaded.select(&args.targets)?;
    print(&loaded, &selected, json)
}

fn rows(loaded: &Loaded, selected: &[usize]) -> Vec<Row> {
    let Loaded {
        pipeline: p,
        plan,
        store,
        ..
    } = loaded;
    selected
        .iter()
        .map(|&i| {
            let inst = &plan.instances[i];
            let cached = store.contains(&inst.key);
            // A stopped training, or one imported from another machine.
            let resumes_at = (!cached)
                .then(|| checkpoint::latest_step(&store.work(&inst.key)))
                .flatten();
            let reasons = if cached {
                Vec::new()
            } else {
                match results::previous_record(p, plan, i) {
                    Some(old) => record::explain(&old, &inst.record),
                    None => vec!["new".to_string()],
                }
            };
            Row {
                stage: p.stages[inst.stage].name.clone(),
                cell: inst.cell.to_json(),
                key: record::short(&inst.key).to_string(),
                state: match (cached, resumes_at) {
                    (true, _) => "cached",
                    (false, Some(_)) => "will resume",
                    (false, None) => "will run",
                },
                resumes_at,
                steps: p.stages[inst.stage].kind.steps(&inst.params),
                reasons,
            }
        })
        .collect()
}

/// Prints the status table (also what `--dry-run` shows).
pub fn print(loaded: &Loaded, selected: &[usize], json: bool) -> Result<u8> {
    let rows = rows(loaded, selected);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).expect("rows serialise")
        );
        return Ok(exit::OK);
    }
    let cells: Vec<String> = selected
        .iter()
        .map(|&i| loaded.plan.instances[i].cell.to_string())
        .collect();
    let w_stage = rows.iter().map(|r| r.stage.len()).max().unwrap_or(5).max(5);
    let w_cell = cells.iter().map(String::len).max().unwrap_or(4).max(4);
    println!(
        "{:<w_stage$}  {:<w_cell$}  {:<12}  STATE",
        "STAGE", "CELL", "KEY"
    );
    for (row, cell) in rows.iter().zip(&cells) {
        let state = match (row.resumes_at, row.steps) {
            (Some(step), Some(steps)) => format!("{} at step {step} of {steps}", row.state),
            (Some(step), None) => format!("{} at step {step}", row.state),
            (None, _) => row.state.to_string(),
        };
        let state = if row.reasons.is_empty() {
            state
        } else {
            format!("{state}: {}", row.reasons.join("; "))
        };
        println!(
            "{:<w_stage$}  {:<w_cell$}  {:<12}  {state}",
            row.stage, cell, row.key
        );
    }
    let to_run = rows.iter().filter(|r| r.state != "cached").count();
    println!(
        "{} instances: {} cached, {to_run} to run",
        rows.len(),
        rows.len() - to_run
    );
    Ok(exit::OK)
}
