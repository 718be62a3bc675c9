//! Outer steps replayed from a CUDA graph (`NRUN_CUDA_GRAPHS=1`).
//!
//! On a GPU, a Table 1 step is about 1,200 small kernels (the operator
//! census, `train_step --count-ops`), and issuing
//! them (burn's autodiff bookkeeping, libtorch's dispatch, one launch each)
//! takes longer than running them. A CUDA graph records one outer step's
//! kernels once and replays them with one launch: no host work at all
//! between a step's upload and its read back.
//!
//! A replay runs the recorded kernels on the recorded memory, with the
//! recorded scalars. So a step is recorded only where everything it reads
//! that changes from step to step lives in device memory it does not
//! reallocate: the draws (copied into the recorded inputs before each
//! replay), the weights and Adam's moments, step counts and learning rate
//! (updated in place by the fused Adam, the rate set before each replay).
//! What is baked in, gamma, is the recording's [`Key`]: a step with another
//! gamma runs eagerly, and is recorded again once gamma has held for
//! [`WARM_STEPS`] steps. Anything that replaces the weights (a restore)
//! drops the recording.

#[cfg(feature = "tch")]
use burn::tensor::Tensor;

use super::draws::StepDraws;

#[cfg(feature = "tch")]
use super::torch_shim::CudaGraph;

/// Eager steps with one key before recording: the first builds Adam's
/// moments and learning rate and lets cuDNN pick its kernels for each
/// shape (none of which may happen while recording), the second checks
/// the key holds.
pub const WARM_STEPS: u32 = 2;

/// The host scalars a recorded step bakes in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Key {
    pub gamma: f64,
}

/// What the next outer step does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Eager,
    /// Record it (then replay it once: recording runs nothing).
    Record,
    Replay,
}

/// When to record, replay or run eagerly; knows nothing of tensors.
#[derive(Debug)]
pub struct Plan {
    on: bool,
    /// The last eager steps' key and how many in a row had it.
    warm: Option<(Key, u32)>,
    recorded: Option<Key>,
}

impl Plan {
    pub fn new(on: bool) -> Plan {
        Plan {
            on,
            warm: None,
            recorded: None,
        }
    }

    #[cfg(test)]
    fn is_on(&self) -> bool {
        self.on
    }

    /// The action for a step with `key`; an eager step counts toward warming up.
    pub fn next(&mut self, key: Key) -> Action {
        if !self.on {
            return Action::Eager;
        }
        if self.recorded == Some(key) {
            return Action::Replay;
        }
        self.recorded = None;
        match &mut self.warm {
            Some((warm, count)) if *warm == key => {
                if *count >= WARM_STEPS {
                    return Action::Record;
                }
                *count += 1;
            }
            _ => self.warm = Some((key, 1)),
        }
        Action::Eager
    }

    pub fn recorded(&mut self, key: Key) {
        self.recorded = Some(key);
        self.warm = None;
    }

    /// The weights were replaced: warm up and record again.
    pub fn reset(&mut self) {
        self.recorded = None;
        self.warm = None;
    }

    /// Recording failed: every later step runs eagerly.
    pub fn give_up(&mut self) {
        self.on = false;
        self.reset();
    }
}

/// Which of a step's draws a recorded input takes.
pub type Draw = fn(&StepDraws) -> &[f32];

/// A recorded outer step: its graph, the device tensors it reads its draws
/// from (each with the draw it takes), and the one it writes its losses to.
#[cfg(feature = "tch")]
pub struct Recorded {
    pub graph: CudaGraph,
    pub inputs: Vec<(Tensor<2>, Draw)>,
    pub readings: Tensor<1>,
}

#[cfg(feature = "tch")]
impl Recorded {
    /// Copies one step's draws into the recorded inputs, then queues the
    /// recorded step.
    pub fn replay(&self, draws: &StepDraws) -> Result<Tensor<1>, String> {
        for (input, draw) in &self.inputs {
            overwrite(input, draw(draws));
        }
        self.graph.replay()?;
        Ok(self.readings.clone())
    }
}

/// Writes `values` into `tensor`'s memory, where a recorded graph reads
/// it: a copy on the tensor's stream, after the work queued before it.
#[cfg(feature = "tch")]
#[allow(deprecated)]
pub fn overwrite(tensor: &Tensor<2>, values: &[f32]) {
    let mut memory = tensor
        .clone()
        .inner()
        .try_into_primitive::<burn::backend::LibTorch>()
        .expect("recorded inputs live on libtorch")
        .tensor;
    assert_eq!(
        memory.numel(),
        values.len(),
        "a step's draws have the size of the recorded input"
    );
    memory.copy_(&tch::Tensor::from_slice(values).view(memory.size().as_slice()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(gamma: f64) -> Key {
        Key { gamma }
    }

    fn actions(plan: &mut Plan, keys: &[f64]) -> Vec<Action> {
        keys.iter()
            .map(|&g| {
                let action = plan.next(key(g));
                if action == Action::Record {
                    plan.recorded(key(g));
                }
                action
            })
            .collect()
    }

    use Action::{Eager, Record, Replay};

    /// What a replay reads its draws from: the recorded tensor's own
    /// memory, rewritten, on whichever device it lives.
    #[cfg(feature = "tch")]
    #[test]
    #[allow(deprecated)]
    fn overwritten_inputs_keep_their_memory_and_take_the_new_draws() {
        use burn::tensor::{Device, TensorData};
        let cpu = Device::libtorch().autodiff();
        let input = Tensor::<2>::from_data(TensorData::new(vec![0.0f32; 6], [2, 3]), &cpu);
        let address = |t: &Tensor<2>| {
            t.clone()
                .inner()
                .try_into_primitive::<burn::backend::LibTorch>()
                .unwrap()
                .tensor
                .data_ptr()
        };
        let before = address(&input);
        overwrite(&input, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(address(&input), before);
        assert_eq!(
            input.into_data().to_vec::<f32>().unwrap(),
            [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        );
    }

    #[test]
    fn a_steady_key_warms_up_records_once_then_replays() {
        let mut plan = Plan::new(true);
        assert_eq!(
            actions(&mut plan, &[0.5; 6]),
            [Eager, Eager, Record, Replay, Replay, Replay]
        );
    }

    #[test]
    fn a_changing_key_runs_eagerly_until_it_holds_again() {
        let mut plan = Plan::new(true);
        // A ramp, then a hold (a dynamic gamma).
        assert_eq!(
            actions(&mut plan, &[0.1, 0.2, 0.3, 0.4, 0.4, 0.4, 0.4]),
            [Eager, Eager, Eager, Eager, Eager, Record, Replay]
        );
        // The key moves again: the recording is dropped.
        assert_eq!(
            actions(&mut plan, &[0.5, 0.5, 0.5, 0.5]),
            [Eager, Eager, Record, Replay]
        );
    }

    #[test]
    fn a_reset_warms_up_again_and_giving_up_is_for_good() {
        let mut plan = Plan::new(true);
        actions(&mut plan, &[1.0; 4]);
        plan.reset();
        assert_eq!(
            actions(&mut plan, &[1.0; 4]),
            [Eager, Eager, Record, Replay]
        );
        plan.give_up();
        assert!(!plan.is_on());
        assert_eq!(actions(&mut plan, &[1.0; 4]), [Eager; 4]);
        assert_eq!(actions(&mut Plan::new(false), &[1.0; 3]), [Eager; 3]);
    }
}
