//! `sample`: applies a trained T to a dataset, `z_count` samples per input.
//!
//! Output `samples.safetensors`: `x` (the inputs), `samples` (`[n, Z, ...]`),
//! and `clean` / `labels` when the dataset has them; plus `samples.json`.

use serde::Deserialize;
use serde_json::json;

use super::{
    Context, InputSpec, Output, ParamError, StageError, StageKind, divergence, samples_file,
    weights,
};
use crate::ot::apply::{TransportSpec, push_forward};
use crate::ot::backend;
use crate::rng::{self, Purpose};
use crate::tensor_file::Dataset;

pub struct Sample;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Samples of z per input.
    #[serde(default = "default_z")]
    z_count: usize,
    #[serde(default)]
    seed: u64,
    /// Use only the first `limit` inputs.
    limit: Option<usize>,
    /// Sample from the snapshot T at this step instead of the final T.
    snapshot: Option<u64>,
    /// Rows per forward pass.
    #[serde(default = "default_batch")]
    batch: usize,
}

fn default_z() -> usize {
    8
}
fn default_batch() -> usize {
    256
}

impl StageKind for Sample {
    type Params = Params;
    const NAME: &'static str = "sample";
    const VERSION: u32 = 1;
    const INPUTS: Option<&'static [InputSpec]> = Some(&[
        InputSpec::needs("model", &[Output::Model]),
        InputSpec::needs("data", &[Output::Dataset]),
    ]);
    const OUTPUT: Output = Output::Samples;

    fn validate(p: &Params) -> Result<(), ParamError> {
        if p.z_count == 0 {
            return Err(ParamError::at("z_count", "must be positive"));
        }
        if p.batch == 0 {
            return Err(ParamError::at("batch", "must be positive"));
        }
        Ok(())
    }

    fn run(&self, p: Params, ctx: &mut Context) -> Result<(), StageError> {
        let model_dir = ctx.input_dir("model")?.to_path_buf();
        let spec_path = model_dir.join("transport.json");
        let spec: TransportSpec = serde_json::from_slice(
            &std::fs::read(&spec_path)
                .map_err(|e| StageError::bad_input(&spec_path, e.to_string()))?,
        )
        .map_err(|e| StageError::bad_input(&spec_path, e.to_string()))?;
        let stem = match p.snapshot {
            Some(step) => model_dir.join("snapshots").join(format!("T_{step}")),
            None => model_dir.join("T"),
        };
        let data = Dataset::read(ctx.input_dir("data")?)?;
        let x = samples_file::inputs(&data, p.seed, p.limit)?;
        if x.shape != spec.source {
            return Err(StageError::Misfit(format!(
                "T maps items of shape {:?}, the data has {:?}",
                spec.source, x.shape
            )));
        }
        let n = x.n;
        let device = backend::device(ctx.run.device, ctx.gpu.as_ref().map(|g| g.ordinal))
            .map_err(StageError::Device)?
            .without_autodiff();
        let t = weights::load(spec.build(&device), &stem, &device)?;
        let mut r = rng::stream(p.seed, Purpose::Sample, 0);
        let samples = push_forward(&t, &spec, &x.data, p.z_count, &mut r, &device, p.batch);

        samples_file::write(&ctx.out, &data, &x, samples, p.z_count, &spec.target)?;
        // Samples of a diverged training (its last good weights) stay marked.
        if let Some(diverged) = divergence::read(&model_dir)? {
            divergence::write(&ctx.out, &diverged)?;
        }
        let meta = json!({
            "inputs": n,
            "z_count": p.z_count,
            "item_shape": spec.target,
            "has_clean": data.clean.is_some(),
            "snapshot": p.snapshot,
            "device": backend::describe(&device),
        });
        super::files::write_json(&ctx.out.join("samples.json"), &meta)
    }
}
