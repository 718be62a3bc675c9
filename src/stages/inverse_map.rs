//! `inverse_map`: maps target items back to the source with the trained
//! potential, x = grad psi(y) = y - grad f(y) / c (the Gbagbe & Bintang
//! report: the inverse map a convex psi gives for quadratic costs; see
//! docs/method.md, section 8). Output as `sample`'s:
//! `samples.safetensors` with `x` (the targets given), `samples`
//! (`[n, 1, ...]`) and the dataset's `clean` and `labels` if any.

use serde::Deserialize;

use super::{Context, InputSpec, Output, ParamError, StageError, StageKind, samples_file, weights};
use crate::ot::apply::PotentialSpec;
use crate::ot::backend;
use crate::ot::variants::inverse_map;

pub struct InverseMap;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Use only the first `limit` items.
    limit: Option<usize>,
    #[serde(default = "default_batch")]
    batch: usize,
}

fn default_batch() -> usize {
    256
}

impl StageKind for InverseMap {
    type Params = Params;
    const NAME: &'static str = "inverse_map";
    const VERSION: u32 = 1;
    const INPUTS: Option<&'static [InputSpec]> = Some(&[
        InputSpec::needs("model", &[Output::Model]),
        InputSpec::needs("data", &[Output::Dataset, Output::Samples]),
    ]);
    const OUTPUT: Output = Output::Samples;

    fn validate(p: &Params) -> Result<(), ParamError> {
        if p.batch == 0 {
            return Err(ParamError::at("batch", "must be positive"));
        }
        Ok(())
    }

    fn run(&self, p: Params, ctx: &mut Context) -> Result<(), StageError> {
        let model = ctx.input_dir("model")?.to_path_buf();
        let spec_path = model.join("potential.json");
        let spec: PotentialSpec = serde_json::from_slice(
            &std::fs::read(&spec_path)
                .map_err(|e| StageError::bad_input(&spec_path, e.to_string()))?,
        )
        .map_err(|e| StageError::bad_input(&spec_path, e.to_string()))?;
        if spec.noise.is_some() {
            return Err(StageError::Misfit(
                "a noise-conditioned potential has no single gradient map; train without `noise`"
                    .into(),
            ));
        }
        let data = samples_file::read_items(ctx.input_dir("data")?)?;
        if data.x.shape != spec.item {
            return Err(StageError::Misfit(format!(
                "f scores items of shape {:?}, the data has {:?}",
                spec.item, data.x.shape
            )));
        }
        let n = p.limit.map_or(data.x.n, |l| l.min(data.x.n));
        let y = data.x.head(n);
        let device = backend::device(ctx.run.device, ctx.gpu.as_ref().map(|g| g.ordinal))
            .map_err(StageError::Device)?;
        let autodiff = device.clone().autodiff();
        let f = weights::load(spec.build(&autodiff), &model.join("f"), &autodiff)?;
        let x = inverse_map(&f, &y.data, y.item_size(), spec.scale, &device, p.batch);

        samples_file::write(&ctx.out, &data, &y, x, 1, &y.shape)
    }
}
