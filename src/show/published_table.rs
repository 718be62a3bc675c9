//! `--against TABLE.csv`: a published table (a report's `tables/*.csv`, or
//! a table stage's `table.csv`) as the earlier scores: ours against a
//! committed report, or against the paper's table typed in the same form.
//! Its rows and columns are labels; the pipeline's table stage it came
//! from says which params and values they stand for, so each of its cells
//! stands beside every cell of today's sheet that it averages.

use std::collections::BTreeMap;
use std::path::Path;

use super::Score;
use super::against::{AgainstError, Reference};
use super::collect::STAGE;
use crate::plan::Plan;
use crate::spec::{InputSource, Pipeline};
use crate::table::{METRIC_AXIS, PivotSpec, summary_label};

/// The scores of the table at `path`, its labels read back through the
/// spec of the table stage it came from.
pub fn reference(path: &Path, p: &Pipeline, plan: &Plan) -> Result<Reference, AgainstError> {
    let shown = path.display().to_string();
    let not_a_table = |reason: String| AgainstError::NotATable {
        path: shown.clone(),
        reason,
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| match e.into_kind() {
            csv::ErrorKind::Io(source) => AgainstError::Io {
                path: shown.clone(),
                source,
            },
            // Opening a file fails only with an I/O error.
            _ => not_a_table("cannot open it as CSV".to_string()),
        })?;
    let stage = table_stage(path, p)?;
    let instance = plan
        .instances
        .iter()
        .find(|inst| inst.stage == stage)
        .ok_or_else(|| {
            not_a_table(format!(
                "its table stage `{}` has no instance",
                p.stages[stage].name
            ))
        })?;
    let spec: PivotSpec = serde_json::from_value(instance.params.clone())
        .map_err(|e| not_a_table(format!("its table stage's params: {e}")))?;
    // The stage each input of the table is bound to.
    let bound: BTreeMap<&str, &str> = p.stages[stage]
        .inputs
        .iter()
        .filter_map(|input| match input.source {
            InputSource::Stage(u) => Some((input.name.as_str(), p.stages[u].name.as_str())),
            InputSource::Path(_) => None,
        })
        .collect();
    let baselines: BTreeMap<&str, &str> = spec
        .baselines
        .iter()
        .filter_map(|(input, label)| Some((label.as_str(), *bound.get(input.as_str())?)))
        .collect();
    let pivoted: Vec<&str> = bound
        .iter()
        .filter(|(input, _)| !spec.baselines.contains_key(**input))
        .map(|(_, stage)| *stage)
        .collect();
    // A table stage that varies over axes made one table per cell; this
    // one's cell is the first's.
    let cell = instance.cell.labels();
    let headers = reader
        .headers()
        .map_err(|e| not_a_table(e.to_string()))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (Some(row_at), Some(column_at), Some(mean_at)) =
        (column("row"), column("column"), column("mean"))
    else {
        return Err(not_a_table(
            "it needs the columns `row`, `column` and `mean` (as nrun's table CSVs have)"
                .to_string(),
        ));
    };
    let (std_at, runs_at) = (column("std"), column("runs"));
    let mut out = Reference::new();
    for record in reader.records() {
        let record = record.map_err(|e| not_a_table(e.to_string()))?;
        let field = |at: Option<usize>| at.and_then(|i| record.get(i)).unwrap_or("");
        let Ok(value) = field(Some(mean_at)).parse::<f64>() else {
            // A cell the table has no value for (every run diverged).
            continue;
        };
        // What the table's `diverged` column lists are the cell's other
        // runs; its mean is over the healthy ones.
        let score = Score {
            value,
            std: field(std_at).parse().unwrap_or(f64::NAN),
            n: field(runs_at).parse().unwrap_or(0),
            diverged: None,
        };
        let (row, column) = (field(Some(row_at)), field(Some(column_at)));
        let mut cells: Vec<(BTreeMap<String, String>, String)> = Vec::new();
        if let Some(scorer) = baselines.get(row) {
            let params = BTreeMap::from([(STAGE.to_string(), scorer.to_string())]);
            cells.push((params, spec.metric.0[0].clone()));
        } else if spec.summary_row && row == summary_label(&spec.rows) {
            continue;
        } else {
            let row = param_value(&spec.row_labels, row);
            let column = param_value(&spec.column_labels, column);
            let (params, metric) = if spec.rows == METRIC_AXIS {
                (vec![(spec.columns.clone(), column)], row)
            } else if spec.columns == METRIC_AXIS {
                (vec![(spec.rows.clone(), row)], column)
            } else {
                let params = vec![(spec.rows.clone(), row), (spec.columns.clone(), column)];
                (params, spec.metric.0[0].clone())
            };
            for scorer in &pivoted {
                let mut all = cell.clone();
                all.extend(params.iter().cloned());
                all.insert(STAGE.to_string(), scorer.to_string());
                cells.push((all, metric.clone()));
            }
        }
        for (params, metric) in cells {
            // A baseline's row repeats one value in every column: keep the first.
            out.entry(params)
                .or_default()
                .entry(metric)
                .or_insert(score.clone());
        }
    }
    Ok(out)
}

/// The value of a param as `show` writes it, that the table wrote as
/// `label`: the key whose label it is (numbers in canonical form, as the
/// table matched them), else the label itself.
fn param_value(labels: &BTreeMap<String, String>, label: &str) -> String {
    let key = labels
        .iter()
        .find(|(_, l)| l.as_str() == label)
        .map_or(label, |(k, _)| k.as_str());
    match serde_json::from_str::<serde_json::Value>(key) {
        Ok(number @ serde_json::Value::Number(_)) => crate::canon::label(&number),
        _ => key.to_string(),
    }
}

/// The table stage whose table `path` is: the one its file is named after
/// (`table1.csv`), or bound to a report input of that name (a report's
/// `tables/table1_a.csv`), or whose entry it sits in
/// (`results/<pipeline>/table1/<cell>/table.csv`); else the only one there
/// is.
fn table_stage(path: &Path, p: &Pipeline) -> Result<usize, AgainstError> {
    let tables: Vec<usize> = (0..p.stages.len())
        .filter(|&s| p.stages[s].kind.name() == "table")
        .collect();
    let name_of = |path: Option<&Path>| {
        path.and_then(Path::file_stem)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let stem = name_of(Some(path));
    let stage_folder = name_of(path.parent().and_then(Path::parent));
    let named = |name: &str| tables.iter().copied().find(|&s| p.stages[s].name == name);
    let bound = |name: &str| {
        p.stages
            .iter()
            .flat_map(|stage| &stage.inputs)
            .find_map(|input| match input.source {
                InputSource::Stage(u) if input.name == name && tables.contains(&u) => Some(u),
                _ => None,
            })
    };
    named(&stem)
        .or_else(|| bound(&stem))
        .or_else(|| named(&stage_folder))
        .or_else(|| (tables.len() == 1).then(|| tables[0]))
        .ok_or_else(|| AgainstError::WhichTable {
            path: path.display().to_string(),
            tables: tables.iter().map(|&s| p.stages[s].name.clone()).collect(),
        })
}
