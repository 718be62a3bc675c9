//! How trainings use a GPU, as the environment sets it: which Adam, a CUDA
//! stream per training or the GPU's default one, steps replayed from CUDA
//! graphs or issued one by one. scripts/gpu-run.sh probes each on the GPU
//! it runs on and sets the variables. None is part of a cache key (each
//! takes the same steps up to float rounding), so a run records them
//! (`environment`) beside the GPU they ran on.

use super::adam::AdamKernel;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GpuLevers {
    /// `NRUN_ADAM=burn`: burn's Adam on libtorch too, in place of
    /// libtorch's fused kernel, should that kernel fail on some GPU.
    pub adam: AdamKernel,
    /// A CUDA stream per training (`backend::own_stream`), so trainings
    /// sharing the GPU run side by side; `NRUN_CUDA_STREAM=shared` keeps
    /// them all on the GPU's default stream, should own streams misbehave.
    pub own_stream: bool,
    /// `NRUN_CUDA_GRAPHS=1`: each training's outer steps replayed from a
    /// CUDA graph (`ot::step_graph`); off until a GPU has found it right
    /// and faster.
    pub cuda_graphs: bool,
}

impl GpuLevers {
    pub fn from_env() -> GpuLevers {
        GpuLevers::from_vars(|name| std::env::var(name).ok())
    }

    fn from_vars(var: impl Fn(&str) -> Option<String>) -> GpuLevers {
        GpuLevers {
            adam: match var("NRUN_ADAM").as_deref() {
                Some("burn") => AdamKernel::Burn,
                _ => AdamKernel::Fused,
            },
            own_stream: var("NRUN_CUDA_STREAM").as_deref() != Some("shared"),
            cuda_graphs: var("NRUN_CUDA_GRAPHS").as_deref() == Some("1"),
        }
    }

    /// `fused Adam, a stream per training, CUDA graphs`
    pub fn label(&self) -> String {
        [
            match self.adam {
                AdamKernel::Fused => "fused Adam",
                AdamKernel::Burn => "burn's Adam",
            },
            if self.own_stream {
                "a stream per training"
            } else {
                "one shared stream"
            },
            if self.cuda_graphs {
                "CUDA graphs"
            } else {
                "no CUDA graphs"
            },
        ]
        .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levers(vars: &[(&str, &str)]) -> GpuLevers {
        GpuLevers::from_vars(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn the_defaults_and_each_variable_that_changes_them() {
        assert_eq!(
            levers(&[]).label(),
            "fused Adam, a stream per training, no CUDA graphs"
        );
        assert_eq!(
            levers(&[
                ("NRUN_ADAM", "burn"),
                ("NRUN_CUDA_STREAM", "shared"),
                ("NRUN_CUDA_GRAPHS", "1")
            ])
            .label(),
            "burn's Adam, one shared stream, CUDA graphs"
        );
        // Other values leave the defaults.
        assert_eq!(
            levers(&[("NRUN_ADAM", "fast"), ("NRUN_CUDA_GRAPHS", "yes")]),
            levers(&[])
        );
    }
}
