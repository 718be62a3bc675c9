//! `idx`: images (and labels) from IDX files, raw or gzip: MNIST,
//! Fashion-MNIST, KMNIST and the like.

use serde::Deserialize;
use serde_json::json;

use super::load::{content_hash, dataset};
use super::select::Select;
use super::{Accepts, Context, InputSpec, Output, ParamError, StageError, StageKind, Wiring};
use crate::data::idx::{read_idx_images, read_idx_pair};
use crate::data::labelled::LabelledImages;

pub struct Idx;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    #[serde(default)]
    select: Select,
}

impl StageKind for Idx {
    type Params = Params;
    const NAME: &'static str = "idx";
    const VERSION: u32 = 1;
    const INPUTS: Option<&'static [InputSpec]> = Some(&[
        InputSpec {
            name: "images",
            required: true,
            accepts: Accepts::Path,
            takes: &[],
        },
        InputSpec {
            name: "labels",
            required: false,
            accepts: Accepts::Path,
            takes: &[],
        },
    ]);
    const OUTPUT: Output = Output::Dataset;

    fn validate(p: &Params) -> Result<(), ParamError> {
        p.select.validate()
    }

    /// Selecting by label needs labels: caught before anything runs.
    fn validate_inputs(p: &Params, inputs: &Wiring) -> Result<(), ParamError> {
        if !p.select.labels.is_empty() && !inputs.has("labels") {
            return Err(ParamError::at(
                "select.labels",
                "selecting by label needs the `labels` input (the IDX labels file)",
            ));
        }
        Ok(())
    }

    fn run(&self, p: Params, ctx: &mut Context) -> Result<(), StageError> {
        let images = ctx.input_path("images")?.to_path_buf();
        let labels = ctx
            .inputs
            .contains_key("labels")
            .then(|| ctx.input_path("labels").map(|p| p.to_path_buf()))
            .transpose()?;
        let set = match &labels {
            Some(l) => read_idx_pair(&images, l)?,
            None => {
                let images = read_idx_images(&images)?;
                let labels = vec![0; images.n];
                LabelledImages { images, labels }
            }
        };
        let source = json!({
            "format": "idx",
            "images": content_hash(&images),
            "labels": labels.as_deref().map(content_hash),
        });
        let ds = dataset(&set, &p.select, source)?;
        ctx.log(format!("{} of {} images kept", ds.x.n, set.images.n));
        ds.write(&ctx.out).map_err(Into::into)
    }
}
