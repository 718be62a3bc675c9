//! `table`: pivots metric rows over grid axes (rows x columns, averaged
//! over e.g. seeds) into CSV, Markdown and LaTeX, optionally beside
//! reference values (a paper's table) and the differences.

use super::artifacts::{self, Artifact};
use super::{Context, InputSpec, ParamError, StageError, StageKind};
use crate::table::{PivotSpec, pivot, read_rows, to_csv, to_latex, to_markdown};

pub struct Table;

impl StageKind for Table {
    type Params = PivotSpec;
    const NAME: &'static str = "table";
    const VERSION: u32 = 2;
    /// Any inputs: every metric stage bound here contributes its rows
    /// (e.g. a strong-cost branch beside the weak-cost one).
    const INPUTS: Option<&'static [InputSpec]> = None;

    fn validate(p: &PivotSpec) -> Result<(), ParamError> {
        if p.rows == p.columns {
            return Err(ParamError::at(
                "columns",
                "rows and columns must be different params",
            ));
        }
        Ok(())
    }

    fn run(&self, spec: PivotSpec, ctx: &mut Context) -> Result<(), StageError> {
        let mut files = Vec::new();
        for name in ctx.inputs.keys() {
            files.extend(
                ctx.upstreams(name)?
                    .iter()
                    .map(|u| u.dir.join("metrics.csv")),
            );
        }
        let rows = read_rows(&files).map_err(|e| anyhow::anyhow!("{e}"))?;
        let table = pivot(&rows, &spec).map_err(|e| anyhow::anyhow!("{e}"))?;
        let write = |name: &str, text: String| {
            std::fs::write(ctx.out.join(name), text).map_err(|e| anyhow::anyhow!("{name}: {e}"))
        };
        write("table.csv", to_csv(&table))?;
        write("table.md", to_markdown(&table))?;
        write("table.tex", to_latex(&table))?;
        let caption = spec
            .caption
            .clone()
            .unwrap_or_else(|| format!("{} by {} and {}", spec.metric, spec.rows, spec.columns));
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
