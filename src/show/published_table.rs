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
use crate::table::{METRIC_AXIS, PivotSpec};

/// The scores of the table at `path`, its labels read back through the
/// spec of the table stage it came from.
pub fn reference(path: &Path, p: &Pipeline, plan: &Plan) -> Result<Reference, AgainstError> {
    let shown = path.display().to_string();
    let not_a_table = |reason: String| AgainstError::NotATable {
        path: shown.clone(),
        reason,
    };
    let stage = table_stage(path, p)?;
    let spec: PivotSpec = plan
        .instances
        .iter()
        .find(|inst| inst.stage == stage)
        .and_then(|inst| serde_json::from_value(inst.params.clone()).ok())
        .ok_or_else(|| {
            not_a_table(format!(
                "its table stage `{}` has no valid instance",
                p.stages[stage].name
            ))
        })?;
    let baselines: BTreeMap<&str, String> = spec
        .baselines
        .iter()
        .filter_map(|(input, label)| {
            let decl = p.stages[stage].inputs.iter().find(|i| &i.name == input)?;
            match decl.source {
                InputSource::Stage(u) => Some((label.as_str(), p.stages[u].name.clone())),
                InputSource::Path(_) => None,
            }
        })
        .collect();
    let mut reader = csv::Reader::from_path(path).map_err(|e| match e.into_kind() {
        csv::ErrorKind::Io(source) => AgainstError::Io {
            path: shown.clone(),
            source,
        },
        other => not_a_table(format!("{other:?}")),
    })?;
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
    let (std_at, runs_at, diverged_at) = (column("std"), column("runs"), column("diverged"));
    let mut out = Reference::new();
    for record in reader.records() {
        let record = record.map_err(|e| not_a_table(e.to_string()))?;
        let field = |at: Option<usize>| at.and_then(|i| record.get(i)).unwrap_or("").trim();
        let Ok(value) = field(Some(mean_at)).parse::<f64>() else {
            // A cell the table has no value for.
            continue;
        };
        let (row, column) = (field(Some(row_at)), field(Some(column_at)));
        let (params, metric) = if let Some(scorer) = baselines.get(row) {
            let params = BTreeMap::from([(STAGE.to_string(), scorer.clone())]);
            (params, spec.metric.0[0].clone())
        } else if spec.summary_row && row == format!("mean over {}", spec.rows) {
            continue;
        } else {
            let row = key(&spec.row_labels, row);
            let column = key(&spec.column_labels, column);
            if spec.rows == METRIC_AXIS {
                (BTreeMap::from([(spec.columns.clone(), column)]), row)
            } else if spec.columns == METRIC_AXIS {
                (BTreeMap::from([(spec.rows.clone(), row)]), column)
            } else {
                let params =
                    BTreeMap::from([(spec.rows.clone(), row), (spec.columns.clone(), column)]);
                (params, spec.metric.0[0].clone())
            }
        };
        let number = |at| field(at).parse::<f64>().ok();
        let score = Score {
            value,
            std: number(std_at).unwrap_or(f64::NAN),
            n: field(runs_at).parse().unwrap_or(0),
            diverged: field(diverged_at)
                .split_whitespace()
                .next()
                .and_then(|s| s.parse().ok()),
        };
        // A baseline's row repeats one value in every column: keep the first.
        out.entry(params)
            .or_default()
            .entry(metric)
            .or_insert(score);
    }
    Ok(out)
}

/// The key a label stands for (a key without a label shows as itself).
fn key(labels: &BTreeMap<String, String>, label: &str) -> String {
    labels
        .iter()
        .find(|(_, l)| l.as_str() == label)
        .map_or_else(|| label.to_string(), |(k, _)| k.clone())
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
