//! `table`: pivots metric rows over grid axes (rows x columns, averaged
//! over e.g. seeds) into CSV, Markdown and LaTeX, optionally beside
//! reference values (a paper's table) and the differences, and beside
//! baselines that hold for every column.

use super::artifacts::{self, Artifact};
use super::{Context, InputSpec, Output, ParamError, StageError, StageKind, Wiring};
use crate::loc::PathSegment;
use crate::table::{
    METRIC_AXIS, PivotSpec, add_baseline, pivot, read_rows, to_csv, to_latex, to_markdown,
};

pub struct Table;

impl StageKind for Table {
    type Params = PivotSpec;
    const NAME: &'static str = "table";
    // 5: the CSV's `ci95` column; `spread`; several metrics. 6: captions
    // say what a summary row's spread is.
    const VERSION: u32 = 6;
    /// Any inputs: every metric stage bound here contributes its rows
    /// (e.g. a strong-cost branch beside the weak-cost one).
    const INPUTS: Option<&'static [InputSpec]> = None;
    const OUTPUT: Output = Output::Table;

    fn validate(p: &PivotSpec) -> Result<(), ParamError> {
        if p.rows == p.columns {
            return Err(ParamError::at(
                "columns",
                "rows and columns must be different params",
            ));
        }
        let by_metric = p.rows == METRIC_AXIS || p.columns == METRIC_AXIS;
        if p.metric.0.len() > 1 && !by_metric {
            return Err(ParamError::at(
                "metric",
                format!("several metrics need `rows: {METRIC_AXIS}` or `columns: {METRIC_AXIS}`"),
            ));
        }
        if p.summary_row && p.rows == METRIC_AXIS {
            return Err(ParamError::at(
                "summary_row",
                "a summary row averages the rows: with `rows: metric` it would average different metrics",
            ));
        }
        if p.summary_row && !p.baselines.is_empty() {
            return Err(ParamError::at(
                "summary_row",
                "a summary row averages the pivoted rows; it does not go with baselines",
            ));
        }
        if p.metric.0.len() > 1 && !p.baselines.is_empty() {
            return Err(ParamError::at(
                "baselines",
                "baselines go with one metric; make a table per metric",
            ));
        }
        Ok(())
    }

    fn validate_inputs(p: &PivotSpec, inputs: &Wiring) -> Result<(), ParamError> {
        if let Some(name) = p.baselines.keys().find(|b| !inputs.has(b)) {
            return Err(ParamError::at(
                &format!("baselines.{name}"),
                format!("`{name}` is not an input of this stage ({})", inputs.note()),
            ));
        }
        if !p.baselines.is_empty() && inputs.names().all(|i| p.baselines.contains_key(i)) {
            return Err(ParamError::at(
                "baselines",
                "every input is a baseline; bind at least one input to pivot",
            ));
        }
        let pivoted = |input: &str| !p.baselines.contains_key(input);
        for baseline in p.baselines.keys() {
            for (role, param) in [("rows", &p.rows), ("columns", &p.columns)] {
                if inputs.carries(baseline, param) == Some(true) {
                    return Err(ParamError::at(
                        &format!("baselines.{baseline}"),
                        format!(
                            "`{baseline}` varies over `{param}`, the table's {role}: a baseline is one value for every column; bind it as an ordinary input"
                        ),
                    ));
                }
            }
        }
        for metric in &p.metric.0 {
            inputs
                .check_metric(metric, &pivoted)
                .map_err(|message| ParamError::at("metric", message))?;
            for baseline in p.baselines.keys() {
                inputs
                    .check_metric(metric, &|input| input == baseline)
                    .map_err(|message| ParamError::at(&format!("baselines.{baseline}"), message))?;
            }
        }
        for (field, name) in [("rows", &p.rows), ("columns", &p.columns)] {
            inputs
                .check_param(name, &pivoted, &[METRIC_AXIS])
                .map_err(|message| ParamError::at(field, message))?;
        }
        for (i, name) in p.average_over.iter().enumerate() {
            inputs
                .check_param(name, &pivoted, &[])
                .map_err(|message| ParamError {
                    path: vec![
                        PathSegment::Key("average_over".into()),
                        PathSegment::Index(i),
                    ],
                    message,
                })?;
        }
        Ok(())
    }

    fn run(&self, spec: PivotSpec, ctx: &mut Context) -> Result<(), StageError> {
        let mut files = Vec::new();
        for name in ctx
            .inputs
            .keys()
            .filter(|n| !spec.baselines.contains_key(*n))
        {
            files.extend(ctx.metric_files(name)?);
        }
        let rows = read_rows(&files)?;
        let mut table = pivot(&rows, &spec)?;
        for (name, label) in &spec.baselines {
            let rows = read_rows(&ctx.metric_files(name)?)?;
            add_baseline(&mut table, name, label, &rows, &spec)?;
        }
        let write = |name: &str, text: String| super::files::write(&ctx.out.join(name), text);
        write("table.csv", to_csv(&table))?;
        write("table.md", to_markdown(&table))?;
        write("table.tex", to_latex(&table))?;
        let caption = spec
            .caption
            .clone()
            .unwrap_or_else(|| format!("{} by {} and {}", spec.metric, spec.rows, spec.columns));
        let caption = match table.run_counts() {
            None | Some((_, 1)) => caption,
            Some((a, b)) => format!(
                "{caption}; {} over {} runs ({})",
                spec.spread.legend(),
                if a == b {
                    b.to_string()
                } else {
                    format!("{a}-{b}")
                },
                spec.average_over.join(", ")
            ),
        };
        let caption = if spec.summary_row {
            format!(
                "{caption}; last row: {} over the {}",
                spec.spread.legend(),
                spec.rows
            )
        } else {
            caption
        };
        let caption = if ctx.cell.is_empty() {
            caption
        } else {
            format!("{caption} ({})", ctx.cell)
        };
        artifacts::write(
            &ctx.out,
            &[Artifact::Table {
                file: "table.md".into(),
                caption,
            }],
        )
    }
}
