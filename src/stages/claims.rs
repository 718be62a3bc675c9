//! `claims`: tests findings stated in words on the metric rows of many runs
//! (`crate::claims`): each claim's estimate, 95% interval and verdict, as a
//! table for reports (`claims.md`) and as data (`claims.csv`).

use serde::Deserialize;

use super::artifacts::{self, Artifact};
use super::{Context, InputSpec, Output, ParamError, StageError, StageKind};
use crate::claims::{Claim, Labels, evaluate, to_csv, to_markdown};
use crate::loc::PathSegment;
use crate::table::read_rows;

pub struct Claims;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    claims: Vec<Claim>,
    /// Digits after the decimal point in the Markdown table.
    #[serde(default = "default_decimals")]
    decimals: usize,
    #[serde(default)]
    caption: Option<String>,
    /// Display names of params and values, e.g. `{gamma: γ, weak_kernel: weak kernel}`.
    #[serde(default)]
    labels: Labels,
}

fn default_decimals() -> usize {
    4
}

impl StageKind for Claims {
    type Params = Params;
    const NAME: &'static str = "claims";
    const VERSION: u32 = 1;
    /// Any inputs: every metric stage bound here contributes its rows.
    const INPUTS: Option<&'static [InputSpec]> = None;
    const OUTPUT: Output = Output::Table;

    fn validate(p: &Params) -> Result<(), ParamError> {
        if p.claims.is_empty() {
            return Err(ParamError::at("claims", "list at least one claim"));
        }
        for (i, claim) in p.claims.iter().enumerate() {
            claim.check().map_err(|message| ParamError {
                path: vec![PathSegment::Key("claims".into()), PathSegment::Index(i)],
                message,
            })?;
        }
        Ok(())
    }

    fn run(&self, p: Params, ctx: &mut Context) -> Result<(), StageError> {
        let mut files = Vec::new();
        for name in ctx.inputs.keys() {
            files.extend(ctx.metric_files(name)?);
        }
        let rows = read_rows(&files)?;
        // A claim naming what the rows do not have is the pipeline's
        // mistake, found once the rows exist: exit 2 at the stage.
        let outcomes =
            evaluate(&p.claims, &rows, &p.labels).map_err(|e| StageError::Misfit(e.to_string()))?;
        let write = |name: &str, text: String| super::files::write(&ctx.out.join(name), text);
        write("claims.csv", to_csv(&outcomes))?;
        write("claims.md", to_markdown(&outcomes, p.decimals))?;
        let caption = p.caption.unwrap_or_else(|| {
            "Claims tested over runs: estimate, 95% confidence interval (Student t), verdict".into()
        });
        artifacts::write(
            &ctx.out,
            &[Artifact::Table {
                file: "claims.md".into(),
                caption,
            }],
        )
    }
}
