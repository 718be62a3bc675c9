//! `point_cloud`: the user's own points, `[n, d]`, from a `.npy`, `.csv` or
//! `.safetensors` file (formats: `data::point_file`). A file that is not a
//! finite 2-D array of numbers stops the run before it is used (exit 2,
//! naming the file).

use serde::Deserialize;
use serde_json::json;

use super::load::content_hash;
use super::{Accepts, Context, InputSpec, Output, ParamError, StageError, StageKind};
use crate::data::point_file::read_points;
use crate::samples::Samples;
use crate::tensor_file::Dataset;

pub struct PointCloud;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// The tensor to read from a safetensors file holding several.
    tensor: Option<String>,
    /// Keep only the first `limit` points.
    limit: Option<usize>,
}

impl StageKind for PointCloud {
    type Params = Params;
    const NAME: &'static str = "point_cloud";
    const VERSION: u32 = 1;
    const INPUTS: Option<&'static [InputSpec]> = Some(&[InputSpec {
        name: "file",
        required: true,
        accepts: Accepts::Path,
        takes: &[],
    }]);
    const OUTPUT: Output = Output::Dataset;

    fn validate(p: &Params) -> Result<(), ParamError> {
        if p.limit == Some(0) {
            return Err(ParamError::at("limit", "at least 1 point"));
        }
        Ok(())
    }

    fn run(&self, p: Params, ctx: &mut Context) -> Result<(), StageError> {
        let path = ctx.input_path("file")?.to_path_buf();
        let points = read_points(&path, p.tensor.as_deref())?;
        let all = Samples::new(vec![points.d], points.data);
        let x = all.head(p.limit.map_or(all.n, |l| l.min(all.n)));
        ctx.log(format!("{} points of dimension {}", x.n, points.d));
        let ds = Dataset {
            provenance: json!({
                "source": "point_cloud",
                "file": content_hash(&path),
                "tensor": p.tensor,
                "loaded": all.n,
                "count": x.n,
            }),
            x,
            labels: None,
            clean: None,
            on_load: Vec::new(),
        };
        ds.write(&ctx.out).map_err(Into::into)
    }
}
