//! The gamma schedule ("dynamic weak cost", SPEC 1): gamma moves linearly
//! from g0 to g1 over `steps` outer steps, then stays at g1. Evaluated once
//! per outer step.

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
        Schedule { g0: gamma, g1: gamma, steps: 0 }
    }

    pub fn at(&self, step: u64) -> f64 {
        if self.steps == 0 {
            return self.g1;
        }
        let progress = (step as f64 / self.steps as f64).min(1.0);
        self.g0 + (self.g1 - self.g0) * progress
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramps_then_holds() {
        let s = Schedule { g0: 0.0, g1: 0.66, steps: 100 };
        assert_eq!(s.at(0), 0.0);
        assert!((s.at(50) - 0.33).abs() < 1e-12);
        assert_eq!(s.at(100), 0.66);
        assert_eq!(s.at(1000), 0.66);
        assert_eq!(Schedule::constant(0.5).at(7), 0.5);
        let down = Schedule { g0: 1.0, g1: 0.0, steps: 10 };
        assert_eq!(down.at(5), 0.5);
    }
}
