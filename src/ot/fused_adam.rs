//! Adam on libtorch in one fused kernel per group of parameters
//! (`_fused_adam_`, what `torch.optim.Adam(fused=True)` runs), instead of
//! burn's dozen element-wise operations per parameter tensor. On a GPU the
//! optimiser step is then a few launches, not hundreds.
//!
//! It updates the parameters in place: burn-tch clones a tensor by
//! sharing its storage, so the module sees the new weights without being
//! rebuilt. Its state is PyTorch's and burn's alike (a step count and two
//! moments per parameter) and it reads and writes burn's own record of
//! that state, so a checkpoint moves freely between this and burn's Adam.
//! tch-rs binds no fused optimiser; [`super::torch_shim`] reaches libtorch's.

// burn 0.22 marks burn-tch deprecated; it is the libtorch backend nrun is
// asked to support (see backend.rs).
#![allow(deprecated)]

use std::collections::{BTreeMap, HashMap};

use burn::backend::LibTorch;
use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Bytes, Tensor, TensorData};
use tch::Kind;

use super::adam::{AdamSpec, empty_state};
use super::nets::Model;
use super::torch_shim::{self, AdamStep};

/// One parameter's state, on the parameter's device.
struct Slot {
    exp_avg: tch::Tensor,
    exp_avg_sq: tch::Tensor,
    /// An f32 scalar: the kernel reads it on the device.
    step: tch::Tensor,
}

/// One parameter's state as a record holds it, until its next step
/// uploads it where the parameter lives.
#[derive(Clone)]
struct HostSlot {
    exp_avg: Vec<f32>,
    exp_avg_sq: Vec<f32>,
    shape: Vec<i64>,
    step: u64,
}

pub struct FusedAdam {
    spec: AdamSpec,
    slots: HashMap<ParamId, Slot>,
    pending: HashMap<ParamId, HostSlot>,
    /// The learning rate as the kernel reads it, an f32 scalar on the
    /// parameters' device (made by the first step), with the value last
    /// written to it: written only when it changes, so that a step recorded
    /// in a CUDA graph reads whatever [`FusedAdam::set_lr`] wrote last.
    lr: Option<(f64, tch::Tensor)>,
}

/// The parameters that have a gradient, with it, as libtorch tensors.
struct Gather<'a> {
    grads: &'a mut GradientsParams,
    found: Vec<(ParamId, tch::Tensor, tch::Tensor)>,
}

impl ModuleVisitor for Gather<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        // No gradient, no step (burn's Adam does the same).
        let Some(grad) = self.grads.remove::<D>(param.id) else {
            return;
        };
        let value = param
            .val()
            .inner()
            .try_into_primitive::<LibTorch>()
            .expect("fused Adam runs on libtorch parameters");
        let grad = grad
            .try_into_primitive::<LibTorch>()
            .expect("fused Adam runs on libtorch gradients");
        self.found
            .push((param.id, value.tensor.shallow_clone(), grad.tensor));
    }
}

impl FusedAdam {
    pub fn new(spec: &AdamSpec) -> Self {
        FusedAdam {
            spec: spec.clone(),
            slots: HashMap::new(),
            pending: HashMap::new(),
            lr: None,
        }
    }

    /// Sets the learning rate the next steps read, on the device, from
    /// the host: outside a recorded step, which must not write it.
    pub fn set_lr(&mut self, lr: f64) {
        if let Some((value, tensor)) = &mut self.lr
            && *value != lr
        {
            let _ = tensor.fill_(lr);
            *value = lr;
        }
    }

    /// One step on `model`'s parameters, in place.
    pub fn step(&mut self, lr: f64, model: &Model, mut grads: GradientsParams) {
        let mut gather = Gather {
            grads: &mut grads,
            found: Vec::new(),
        };
        model.visit(&mut gather);
        if gather.found.is_empty() {
            return;
        }
        for (id, param, _) in &gather.found {
            if !self.slots.contains_key(id) {
                let slot = match self.pending.remove(id) {
                    Some(host) => host.upload(param),
                    None => Slot::zeros(param),
                };
                self.slots.insert(*id, slot);
            }
        }
        // One call per dtype and device: on CUDA the kernel wants each
        // call's tensors alike (the CPU kernel would not notice).
        let mut groups: BTreeMap<String, Vec<_>> = BTreeMap::new();
        for found in &gather.found {
            let group = format!("{:?} {:?}", found.1.kind(), found.1.device());
            groups.entry(group).or_default().push(found);
        }
        let device = gather.found[0].1.device();
        match &self.lr {
            Some((_, tensor)) if tensor.device() == device => self.set_lr(lr),
            _ => {
                let tensor = tch::Tensor::full(Vec::<i64>::new(), lr, (Kind::Float, device));
                self.lr = Some((lr, tensor));
            }
        }
        let lr = &self.lr.as_ref().expect("made above").1;
        let a = &self.spec;
        let hyper = AdamStep {
            betas: a.betas,
            weight_decay: a.weight_decay,
            eps: a.eps,
        };
        for found in groups.values() {
            let slots: Vec<&Slot> = found.iter().map(|f| &self.slots[&f.0]).collect();
            torch_shim::fused_adam(
                &found.iter().map(|f| &f.1).collect::<Vec<_>>(),
                &found.iter().map(|f| &f.2).collect::<Vec<_>>(),
                &slots.iter().map(|s| &s.exp_avg).collect::<Vec<_>>(),
                &slots.iter().map(|s| &s.exp_avg_sq).collect::<Vec<_>>(),
                &slots.iter().map(|s| &s.step).collect::<Vec<_>>(),
                lr,
                &hyper,
            );
        }
    }

    /// The state as burn's Adam holds it: a deep copy on the host, which
    /// checkpoints save and which either optimiser resumes from.
    pub fn to_burn(&self) -> ModuleOptimizer {
        let mut tensors = Vec::new();
        let mut scalars: BTreeMap<String, burn_pack::Scalar> = BTreeMap::new();
        let mut add = |id: ParamId, host: HostSlot| {
            let shape: Vec<usize> = host.shape.iter().map(|&d| d as usize).collect();
            for (field, values) in [("moment_1", host.exp_avg), ("moment_2", host.exp_avg_sq)] {
                let (bytes, shape, dtype) = TensorData::new(values, shape.clone()).into_parts();
                tensors.push(burn_pack::Tensor::new(
                    format!("{}.momentum.{field}", id.val()),
                    dtype,
                    shape,
                    Some(id.val()),
                    bytes,
                ));
            }
            scalars.insert(format!("{}.momentum.time", id.val()), host.step.into());
            scalars.insert(format!("{}.__rank", id.val()), host.shape.len().into());
        };
        for (id, slot) in &self.slots {
            add(*id, slot.download());
        }
        for (id, host) in &self.pending {
            add(*id, host.clone());
        }
        let mut writer = burn_pack::Writer::new(tensors);
        for (key, value) in &scalars {
            writer = writer.with_scalar(key, *value);
        }
        let bytes = writer
            .into_bytes()
            .expect("an in-memory record of f32 tensors");
        empty_state(&self.spec)
            .from_bytes(bytes)
            .expect("burn reads the record it defines")
    }

    /// Takes over burn's Adam state (a checkpoint's, or a snapshot's).
    pub fn from_burn(spec: &AdamSpec, state: &ModuleOptimizer) -> Result<Self, String> {
        let bytes: Bytes = state.into_bytes().map_err(|e| e.to_string())?;
        let reader = burn_pack::Reader::from_bytes(bytes).map_err(|e| e.to_string())?;
        let scalars = reader.scalars().clone();
        let mut pending: HashMap<ParamId, HostSlot> = HashMap::new();
        for tensor in reader.into_tensors().map_err(|e| e.to_string())? {
            let (name, dtype, shape, param_id, bytes) =
                tensor.into_parts().map_err(|e| e.to_string())?;
            let id =
                param_id.ok_or_else(|| format!("optimiser state {name} names no parameter"))?;
            let values = TensorData::from_bytes(bytes, shape.clone(), dtype)
                .convert::<f32>()
                .try_into_vec::<f32>()
                .map_err(|e| format!("optimiser state {name}: {e:?}"))?;
            let step = scalars
                .get(&format!("{id}.momentum.time"))
                .and_then(|s| u64::try_from(*s).ok())
                .ok_or_else(|| format!("optimiser state of parameter {id} has no step count"))?;
            let slot = pending
                .entry(ParamId::from(id))
                .or_insert_with(|| HostSlot {
                    exp_avg: Vec::new(),
                    exp_avg_sq: Vec::new(),
                    shape: shape.iter().map(|&d| d as i64).collect(),
                    step,
                });
            match name.rsplit('.').next() {
                Some("moment_1") => slot.exp_avg = values,
                Some("moment_2") => slot.exp_avg_sq = values,
                _ => return Err(format!("optimiser state {name} is not Adam's")),
            }
        }
        if let Some((id, _)) = pending.iter().find(|(_, s)| {
            let size: i64 = s.shape.iter().product();
            s.exp_avg.len() as i64 != size || s.exp_avg_sq.len() as i64 != size
        }) {
            return Err(format!(
                "optimiser state of parameter {} lacks a moment or has one of another shape",
                id.val()
            ));
        }
        Ok(FusedAdam {
            spec: spec.clone(),
            slots: HashMap::new(),
            pending,
            lr: None,
        })
    }
}

impl Slot {
    fn zeros(param: &tch::Tensor) -> Slot {
        Slot {
            exp_avg: param.zeros_like(),
            exp_avg_sq: param.zeros_like(),
            step: tch::Tensor::zeros(Vec::<i64>::new(), (Kind::Float, param.device())),
        }
    }

    fn download(&self) -> HostSlot {
        let host = |t: &tch::Tensor| {
            Vec::<f32>::try_from(t.to_kind(Kind::Float).flatten(0, -1)).expect("f32 moments")
        };
        HostSlot {
            exp_avg: host(&self.exp_avg),
            exp_avg_sq: host(&self.exp_avg_sq),
            shape: self.exp_avg.size(),
            step: self.step.double_value(&[]) as u64,
        }
    }
}

impl HostSlot {
    fn upload(self, param: &tch::Tensor) -> Slot {
        assert_eq!(
            self.shape,
            param.size(),
            "saved Adam moments have another shape than their parameter"
        );
        let to_device = |values: &[f32]| {
            let moment = tch::Tensor::from_slice(values)
                .reshape(&self.shape)
                .to_device(param.device());
            // The kernel wants the moments laid out like the parameter.
            let mut out = param.empty_like();
            out.copy_(&moment);
            out
        };
        Slot {
            exp_avg: to_device(&self.exp_avg),
            exp_avg_sq: to_device(&self.exp_avg_sq),
            step: tch::Tensor::full(
                Vec::<i64>::new(),
                self.step as f64,
                (Kind::Float, param.device()),
            ),
        }
    }
}
