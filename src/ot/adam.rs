//! Adam for the trainer's two networks: PyTorch's semantics, run by burn's
//! optimiser, or on libtorch devices by libtorch's fused kernel
//! ([`super::fused_adam`]). Both keep their state in burn's record, so a
//! checkpoint resumes under either.

use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

#[cfg(feature = "tch")]
use super::fused_adam::FusedAdam;
use super::nets::Model;

/// Adam settings for one network (PyTorch's meaning of every field).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdamSpec {
    #[serde(default = "default_lr")]
    pub lr: f64,
    #[serde(default = "default_betas")]
    pub betas: [f64; 2],
    /// PyTorch's default; burn's own default is 1e-5.
    #[serde(default = "default_eps")]
    pub eps: f64,
    /// L2 added to the gradient (PyTorch Adam), not decoupled (AdamW).
    #[serde(default = "default_weight_decay")]
    pub weight_decay: f64,
}

fn default_lr() -> f64 {
    1e-4
}
fn default_betas() -> [f64; 2] {
    [0.9, 0.999]
}
fn default_eps() -> f64 {
    1e-8
}
fn default_weight_decay() -> f64 {
    1e-10
}

impl Default for AdamSpec {
    fn default() -> Self {
        AdamSpec {
            lr: default_lr(),
            betas: default_betas(),
            eps: default_eps(),
            weight_decay: default_weight_decay(),
        }
    }
}

impl AdamSpec {
    fn burn_optimizer(&self) -> ModuleOptimizer {
        let decay =
            (self.weight_decay > 0.0).then(|| WeightDecayConfig::new(self.weight_decay as f32));
        AdamConfig::new()
            .with_beta_1(self.betas[0] as f32)
            .with_beta_2(self.betas[1] as f32)
            .with_epsilon(self.eps as f32)
            .with_weight_decay(decay)
            .init()
    }
}

/// Which Adam runs where both could: libtorch's fused kernel (the
/// default) or burn's, for comparing the two. burn-flex has only burn's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AdamKernel {
    #[default]
    Fused,
    Burn,
}

/// One network's optimiser and its state.
pub enum Adam {
    Burn(ModuleOptimizer),
    #[cfg(feature = "tch")]
    Fused(FusedAdam),
}

impl Adam {
    /// A fresh optimiser for a network on `device` (which only the `tch`
    /// build looks at).
    #[cfg_attr(not(feature = "tch"), allow(unused_variables))]
    pub fn new(spec: &AdamSpec, kernel: AdamKernel, device: &Device) -> Adam {
        match kernel {
            #[cfg(feature = "tch")]
            AdamKernel::Fused if is_libtorch(device) => Adam::Fused(FusedAdam::new(spec)),
            _ => Adam::Burn(spec.burn_optimizer()),
        }
    }

    /// Like [`Adam::new`], holding `state` (a snapshot's or a checkpoint's).
    pub fn resume(
        spec: &AdamSpec,
        kernel: AdamKernel,
        device: &Device,
        state: &ModuleOptimizer,
    ) -> Result<Adam, String> {
        Ok(match Adam::new(spec, kernel, device) {
            Adam::Burn(_) => Adam::Burn(state.clone()),
            #[cfg(feature = "tch")]
            Adam::Fused(_) => Adam::Fused(FusedAdam::from_burn(spec, state)?),
        })
    }

    /// One step on `model` with learning rate `lr`. The fused Adam writes
    /// the weights in place: every copy of the model (a `valid()` view, a
    /// saved convolution input) sees the step, so all backward passes that
    /// read the old weights must have run before it.
    pub fn step(&mut self, lr: f64, model: Model, grads: GradientsParams) -> Model {
        match self {
            Adam::Burn(opt) => opt.step(lr, model, grads),
            #[cfg(feature = "tch")]
            Adam::Fused(opt) => {
                opt.step(lr, &model, grads);
                model
            }
        }
    }

    /// Sets the learning rate a recorded step reads (the fused Adam keeps
    /// it on the device); burn's Adam takes it at each step and records
    /// no steps.
    #[cfg_attr(not(feature = "tch"), allow(unused_variables))]
    pub fn set_lr(&mut self, lr: f64) {
        match self {
            Adam::Burn(_) => {}
            #[cfg(feature = "tch")]
            Adam::Fused(opt) => opt.set_lr(lr),
        }
    }

    /// The state in burn's form, sharing nothing with this optimiser:
    /// what snapshots hold and checkpoints save.
    pub fn state(&self) -> ModuleOptimizer {
        match self {
            // burn's optimiser never changes a tensor it holds: a clone is a copy.
            Adam::Burn(opt) => opt.clone(),
            #[cfg(feature = "tch")]
            Adam::Fused(opt) => opt.to_burn(),
        }
    }
}

/// An empty optimiser of `spec`'s kind, to load saved state into.
pub fn empty_state(spec: &AdamSpec) -> ModuleOptimizer {
    spec.burn_optimizer()
}

#[cfg(feature = "tch")]
fn is_libtorch(device: &Device) -> bool {
    matches!(
        device.clone().inner().as_dispatch(),
        burn::backend::DispatchDevice::LibTorch(_)
    )
}
