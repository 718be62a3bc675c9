//! `mean_shift`: the baseline map x -> x + m_Q - m_P of the W2 benchmark
//! (Korotin et al. 2021), which moves the source's mean onto the target's
//! and nothing else. The means are the exact ones when `source` and
//! `target` are `gaussian` stages, else those of their samples. Output as
//! `sample`'s, one "sample" per item of `data`.

use nalgebra::DVector;
use serde::Deserialize;

use super::gaussian::law_of;
use super::{Context, InputSpec, Output, StageError, StageKind, samples_file};
use crate::tensor_file::Dataset;

pub struct MeanShift;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Use only the first `limit` items.
    limit: Option<usize>,
}

impl StageKind for MeanShift {
    type Params = Params;
    const NAME: &'static str = "mean_shift";
    const VERSION: u32 = 1;
    const INPUTS: Option<&'static [InputSpec]> = Some(&[
        InputSpec::needs("data", &[Output::Dataset]),
        InputSpec::needs("source", &[Output::Dataset]),
        InputSpec::needs("target", &[Output::Dataset]),
    ]);
    const OUTPUT: Output = Output::Samples;

    fn run(&self, p: Params, ctx: &mut Context) -> Result<(), StageError> {
        let data = Dataset::read(ctx.input_dir("data")?)?;
        let source = Dataset::read(ctx.input_dir("source")?)?;
        let target = Dataset::read(ctx.input_dir("target")?)?;
        let d = data.x.item_size();
        for (name, set) in [("source", &source), ("target", &target)] {
            if set.x.item_size() != d {
                return Err(StageError::Misfit(format!(
                    "`{name}` holds items of {} values, `data` of {d}",
                    set.x.item_size()
                )));
            }
        }
        let (shift, how) = match (law_of(&source), law_of(&target)) {
            (Some(p), Some(q)) => (q.mean() - p.mean(), "the exact means of the two laws"),
            _ => (
                mean(&target) - mean(&source),
                "the means of the source and target samples",
            ),
        };
        ctx.log(format!("shift by {how}, norm {:.4}", shift.norm()));
        let x = samples_file::inputs(&data, 0, p.limit)?;
        let moved: Vec<f32> = x
            .data
            .chunks_exact(d)
            .flat_map(|row| row.iter().zip(shift.iter()).map(|(v, s)| v + *s as f32))
            .collect();
        samples_file::write(&ctx.out, &data, &x, moved, 1, &x.shape)
    }
}

fn mean(set: &Dataset) -> DVector<f64> {
    let d = set.x.item_size();
    let mut sum = DVector::zeros(d);
    for row in set.x.data.chunks_exact(d) {
        for (s, v) in sum.iter_mut().zip(row) {
            *s += f64::from(*v);
        }
    }
    sum / set.x.n.max(1) as f64
}
