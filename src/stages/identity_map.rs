//! `identity_map`: the baseline that transports nothing. Scores the
//! dataset's items as they are (e.g. the degraded test inputs against their
//! clean ground truth), so a table can show what the learned maps gain.
//! Output as `sample`'s, with one "sample" per item: the item itself.

use serde::Deserialize;

use super::{Context, InputSpec, Output, StageError, StageKind, samples_file};
use crate::tensor_file::Dataset;

pub struct IdentityMap;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Draws the items of per-load transforms, as `sample`'s `seed` does:
    /// the same seed gives the inputs the models were scored on.
    #[serde(default)]
    seed: u64,
    /// Use only the first `limit` items.
    limit: Option<usize>,
}

impl StageKind for IdentityMap {
    type Params = Params;
    const NAME: &'static str = "identity_map";
    const VERSION: u32 = 1;
    const INPUTS: Option<&'static [InputSpec]> =
        Some(&[InputSpec::needs("data", &[Output::Dataset])]);
    const OUTPUT: Output = Output::Samples;

    fn run(&self, p: Params, ctx: &mut Context) -> Result<(), StageError> {
        let data = Dataset::read(ctx.input_dir("data")?)?;
        let x = samples_file::inputs(&data, p.seed, p.limit)?;
        samples_file::write(&ctx.out, &data, &x, x.data.clone(), 1, &x.shape)
    }
}
