//! `cifar10`: CIFAR-10 binary batches (one file, or every `*.bin` of a
//! folder in name order).

use serde::Deserialize;
use serde_json::json;

use super::load::{content_hash, dataset};
use super::select::Select;
use super::{
    Accepts, Context, InputSpec, ItemShape, Output, ParamError, StageError, StageKind, Wiring,
};
use crate::data::cifar::{SIDE, read_cifar10};

pub struct Cifar10;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    #[serde(default)]
    select: Select,
}

impl StageKind for Cifar10 {
    type Params = Params;
    const NAME: &'static str = "cifar10";
    const VERSION: u32 = 1;
    const INPUTS: Option<&'static [InputSpec]> = Some(&[InputSpec {
        name: "batches",
        required: true,
        accepts: Accepts::Path,
        takes: &[],
    }]);
    const OUTPUT: Output = Output::Dataset;

    fn item_shape(_: &Params, _: &Wiring) -> Option<ItemShape> {
        Some(ItemShape::stored(vec![3, SIDE, SIDE]))
    }

    fn validate(p: &Params) -> Result<(), ParamError> {
        p.select.validate()
    }

    fn run(&self, p: Params, ctx: &mut Context) -> Result<(), StageError> {
        let path = ctx.input_path("batches")?.to_path_buf();
        let files = if path.is_dir() {
            let mut files: Vec<_> = walkdir::WalkDir::new(&path)
                .max_depth(1)
                .sort_by_file_name()
                .into_iter()
                .flatten()
                .map(|e| e.into_path())
                .filter(|f| f.extension().is_some_and(|e| e == "bin"))
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(StageError::bad_input(
                    &path,
                    "no *.bin CIFAR batch in this folder",
                ));
            }
            files
        } else {
            vec![path.clone()]
        };
        let set = read_cifar10(&files)?;
        let source = json!({"format": "cifar-10 binary", "batches": content_hash(&path)});
        let ds = dataset(&set, &p.select, source)?;
        ctx.log(format!("{} of {} images kept", ds.x.n, set.images.n));
        ds.write(&ctx.out).map_err(Into::into)
    }
}
