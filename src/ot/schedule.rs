//! Schedules over outer steps. The gamma schedule ("dynamic weak cost",
//! docs/method.md, section 5): gamma moves linearly from g0 to g1 over
//! `steps` outer steps, then stays at g1. The learning-rate decay: none in the
//! reports' protocols, optional here because a decaying rate damps the
//! min-max oscillation where a precise map is wanted.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    pub g0: f64,
    pub g1: f64,
    pub steps: u64,
}

impl Schedule {
    pub fn constant(gamma: f64) -> Schedule {
        Schedule {
            g0: gamma,
            g1: gamma,
            steps: 0,
        }
    }

    pub fn at(&self, step: u64) -> f64 {
        if self.steps == 0 {
            return self.g1;
        }
        let progress = (step as f64 / self.steps as f64).min(1.0);
        self.g0 + (self.g1 - self.g0) * progress
    }
}

/// A multiplier on the learning rates, from 1 at step 0 to `end` at the
/// last step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LrDecay {
    #[default]
    Constant,
    Linear {
        end: f64,
    },
    Cosine {
        end: f64,
    },
}

impl LrDecay {
    pub fn factor(&self, step: u64, iterations: u64) -> f64 {
        let progress = if iterations <= 1 {
            0.0
        } else {
            (step as f64 / (iterations - 1) as f64).min(1.0)
        };
        match *self {
            LrDecay::Constant => 1.0,
            LrDecay::Linear { end } => 1.0 + (end - 1.0) * progress,
            LrDecay::Cosine { end } => {
                end + (1.0 - end) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lr_decays_from_one_to_end() {
        assert_eq!(LrDecay::Constant.factor(50, 100), 1.0);
        let linear = LrDecay::Linear { end: 0.1 };
        assert_eq!(linear.factor(0, 101), 1.0);
        assert!((linear.factor(50, 101) - 0.55).abs() < 1e-12);
        assert!((linear.factor(100, 101) - 0.1).abs() < 1e-12);
        let cosine = LrDecay::Cosine { end: 0.0 };
        assert!((cosine.factor(50, 101) - 0.5).abs() < 1e-12);
        assert!(cosine.factor(100, 101).abs() < 1e-12);
    }

    #[test]
    fn ramps_then_holds() {
        let s = Schedule {
            g0: 0.0,
            g1: 0.66,
            steps: 100,
        };
        assert_eq!(s.at(0), 0.0);
        assert!((s.at(50) - 0.33).abs() < 1e-12);
        assert_eq!(s.at(100), 0.66);
        assert_eq!(s.at(1000), 0.66);
        assert_eq!(Schedule::constant(0.5).at(7), 0.5);
        let down = Schedule {
            g0: 1.0,
            g1: 0.0,
            steps: 10,
        };
        assert_eq!(down.at(5), 0.5);
    }
}
