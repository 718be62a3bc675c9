//! Applying a trained transport map: T(x, z) for many z per x, in batches,
//! without autodiff.

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::layers::Init;
use super::nets::{Model, NetSpec, Role};
use crate::rng::{self, Rng};

/// Everything needed to rebuild a trained T (saved beside its weights).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransportSpec {
    pub net: NetSpec,
    /// Item shape of x (`[c, h, w]` or `[d]`).
    pub source: Vec<usize>,
    /// Item shape of T(x, z).
    pub target: Vec<usize>,
    /// z channels (images) or coordinates (points).
    pub z_channels: usize,
    pub z_std: f64,
}

impl TransportSpec {
    /// Values of z per item of x.
    pub fn z_dim(&self) -> usize {
        let pixels: usize = if self.source.len() == 3 {
            self.source[1] * self.source[2]
        } else {
            1
        };
        self.z_channels * pixels
    }

    /// An untrained T of this shape on `device`, to load weights into.
    pub fn build(&self, device: &Device) -> Model {
        let mut init = Init {
            rng: rng::stream(0, rng::Purpose::InitT, 0),
            device,
        };
        let out_channels = if self.target.len() == 3 {
            self.target[0]
        } else {
            self.target.iter().product()
        };
        self.net.build(
            &mut init,
            Role::Transport,
            &self.source,
            self.z_channels,
            out_channels,
        )
    }
}

/// Everything needed to rebuild a trained potential f.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PotentialSpec {
    pub net: NetSpec,
    /// Item shape of y.
    pub item: Vec<usize>,
    /// The cost's constant factor c: psi(y) = ||y||^2 / 2 - f(y) / c.
    pub scale: f64,
    pub noise: Option<super::variants::NoiseSpec>,
}

impl PotentialSpec {
    /// An untrained f of this shape on `device`, to load weights into.
    pub fn build(&self, device: &Device) -> Model {
        let mut init = Init {
            rng: rng::stream(0, rng::Purpose::InitF, 0),
            device,
        };
        self.net.build(&mut init, Role::Potential, &self.item, 0, 1)
    }
}

/// A feature network the user supplies for Fréchet distances: what
/// `features.json` says beside `features.safetensors`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureSpec {
    pub net: NetSpec,
    /// Values per item it reads (images are flattened).
    pub inputs: usize,
    pub outputs: usize,
}

impl FeatureSpec {
    pub fn build(&self, device: &Device) -> Result<Model, String> {
        let mut init = Init {
            rng: rng::stream(0, rng::Purpose::InitF, 1),
            device,
        };
        self.net
            .build_features(&mut init, self.inputs, self.outputs)
    }
}

/// Rows through a network without autodiff, in batches: `[n, d]` -> `[n, k]`.
pub fn apply_rows(net: &Model, rows: &[f32], d: usize, device: &Device, batch: usize) -> Vec<f32> {
    let n = rows.len() / d.max(1);
    let mut out = Vec::new();
    for start in (0..n).step_by(batch.max(1)) {
        let end = (start + batch.max(1)).min(n);
        let x = Tensor::<2>::from_data(
            TensorData::new(rows[start * d..end * d].to_vec(), [end - start, d]),
            device,
        );
        out.extend(
            net.forward(x)
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .expect("f32"),
        );
    }
    out
}

/// T(x, z) for `z_count` fresh z per item of `x`: returns `[n, z_count, dy]`
/// row-major. `t` must be a non-autodiff module (`valid()`).
pub fn push_forward(
    t: &Model,
    spec: &TransportSpec,
    x: &[f32],
    z_count: usize,
    rng: &mut Rng,
    device: &Device,
    batch: usize,
) -> Vec<f32> {
    let dx: usize = spec.source.iter().product();
    let dz = spec.z_dim();
    let n = x.len() / dx.max(1);
    let mut out = Vec::new();
    for start in (0..n).step_by(batch.max(1)) {
        let end = (start + batch.max(1)).min(n);
        let mut rows = Vec::with_capacity((end - start) * z_count * (dx + dz));
        for i in start..end {
            for _ in 0..z_count {
                rows.extend_from_slice(&x[i * dx..(i + 1) * dx]);
                rows.extend(rng::normal(rng, dz, spec.z_std as f32));
            }
        }
        let count = (end - start) * z_count;
        let input = Tensor::<2>::from_data(TensorData::new(rows, [count, dx + dz]), device);
        let y = t.forward(input).into_data().convert::<f32>();
        out.extend(y.try_into_vec::<f32>().expect("f32 after convert"));
    }
    out
}

/// A frozen, autodiff-free copy of a trained net.
pub fn frozen(t: &Model) -> Model {
    t.valid()
}
