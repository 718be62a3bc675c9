//! `sample`: applies a trained T to a dataset, `z_count` samples per input.
//!
//! Output `samples.safetensors`: `x` (the inputs), `samples` (`[n, Z, ...]`),
//! and `clean` / `labels` when the dataset has them; plus `samples.json`.

use std::collections::BTreeMap;

use burn::module::Module;
use serde::Deserialize;
use serde_json::json;

use super::{Accepts, Context, InputSpec, ParamError, StageError, StageKind};
use crate::data::on_load::LoadSampler;
use crate::ot::apply::{TransportSpec, push_forward};
use crate::ot::backend;
use crate::ot::rng::{self, Purpose};
use crate::tensor_file::{self, Dataset, Tensor};

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
        InputSpec {
            name: "model",
            required: true,
            accepts: Accepts::Stage,
        },
        InputSpec {
            name: "data",
            required: true,
            accepts: Accepts::Stage,
        },
    ]);

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
        let weights = match p.snapshot {
            Some(step) => model_dir.join("snapshots").join(format!("T_{step}.bpk")),
            None => model_dir.join("T.bpk"),
        };
        let data = Dataset::read(ctx.input_dir("data")?)?;
        let mut x = data.x.clone();
        if !data.on_load.is_empty() {
            // Inputs with per-load transforms are drawn once, seeded, so every
            // model sees the same ones.
            let sampler = LoadSampler::new(x.clone(), data.on_load.clone())
                .map_err(|e| anyhow::anyhow!(e))?;
            let mut r = rng::stream(p.seed, Purpose::Sample, 1);
            x = crate::samples::Samples::new(
                crate::samples::Sampler::item_shape(&sampler).to_vec(),
                sampler.transform(x.data.clone(), x.n, &mut r),
            );
        }
        if x.shape != spec.source {
            return Err(anyhow::anyhow!(
                "T maps items of shape {:?}, the data has {:?}",
                spec.source,
                x.shape
            )
            .into());
        }
        let n = p.limit.map_or(x.n, |l| l.min(x.n));
        let x = x.head(n);
        let device = backend::device(ctx.run.device, ctx.gpu.as_ref().map(|g| g.ordinal))
            .map_err(|e| anyhow::anyhow!(e))?
            .without_autodiff();
        let t = spec
            .build(&device)
            .try_load_file(&weights)
            .map_err(|e| StageError::bad_input(&weights, e.to_string()))?;
        let mut r = rng::stream(p.seed, Purpose::Sample, 0);
        let samples = push_forward(&t, &spec, &x.data, p.z_count, &mut r, &device, p.batch);

        let mut tensors = BTreeMap::new();
        let with = |n: usize, inner: &[usize]| {
            let mut s = vec![n];
            s.extend(inner);
            s
        };
        tensors.insert(
            "x".to_string(),
            Tensor::F32 {
                shape: with(n, &x.shape),
                data: x.data.clone(),
            },
        );
        let mut sample_shape = vec![n, p.z_count];
        sample_shape.extend(&spec.target);
        tensors.insert(
            "samples".to_string(),
            Tensor::F32 {
                shape: sample_shape,
                data: samples,
            },
        );
        if let Some(clean) = &data.clean {
            let clean = clean.head(n);
            tensors.insert(
                "clean".to_string(),
                Tensor::F32 {
                    shape: with(n, &clean.shape),
                    data: clean.data,
                },
            );
        }
        if let Some(labels) = &data.labels {
            tensors.insert(
                "labels".to_string(),
                Tensor::I64 {
                    shape: vec![n],
                    data: labels[..n].to_vec(),
                },
            );
        }
        tensor_file::write(&ctx.out.join("samples.safetensors"), &tensors)?;
        let meta = json!({
            "inputs": n,
            "z_count": p.z_count,
            "item_shape": spec.target,
            "has_clean": data.clean.is_some(),
            "snapshot": p.snapshot,
            "device": backend::describe(&device),
        });
        std::fs::write(
            ctx.out.join("samples.json"),
            serde_json::to_vec_pretty(&meta).map_err(anyhow::Error::from)?,
        )
        .map_err(anyhow::Error::from)?;
        Ok(())
    }
}
