//! nrun's side of the training-speed comparison with PyTorch
//! (`bench/compare.sh` runs both): median seconds per NOT outer step of the
//! MVA report's CNNs (K_T updates of T, one of f) on every device this build
//! has, or of the 2-D toys' MLPs with `--mlp 128,128`.
//!
//!     cargo bench --bench train_step -- --batch 64 --z 4 --channels 128 --layers 7 --steps 3
//!     cargo bench --bench train_step -- --mlp 128,128 --batch 64 --z 4 --steps 50
//!
//! `--count-ops` counts the libtorch operators one more outer step runs,
//! after the timed ones (`tch` devices only): each operator that runs no
//! other is about one kernel launch on a GPU. `bench/torch_step.py
//! --count-ops` counts PyTorch's the same way.
//!
//! `--parallel N` runs N trainings at once on one device, each on its own
//! thread (as N stage slots on one GPU do), and adds the outer steps per
//! second they make together: what `--slots-per-gpu` should be. On a GPU
//! each training has its own CUDA stream, as in nrun; `--shared-stream`
//! puts them all on the default one.

use std::time::Instant;

use nrun::ot::backend::{self, OperatorCensus};
use nrun::ot::cost::{Cost, CostKind, Scaling};
use nrun::ot::nets::NetSpec;
use nrun::ot::precision::Precision;
use nrun::ot::schedule::{LrDecay, Schedule};
use nrun::ot::trainer::{
    AdamKernel, AdamSpec, GuardSpec, Observer, Snapshot, StepStats, TrainConfig, Trainer, ZSpec,
};
use nrun::ot::{nets::Model, step_graph};
use nrun::rng;
use nrun::samples::Samples;

struct Timer {
    times: Vec<f64>,
    /// Per step, T's and f's losses: what `--cuda-graphs` is checked by.
    losses: Vec<(f64, f64)>,
    /// Whether the training replayed its steps from a CUDA graph.
    replayed: bool,
    /// Per step, the seconds it took to issue its work (see `StepStats`).
    issued: Vec<f64>,
    last: Instant,
    census: Census,
}

/// `--count-ops`: the step after the timed ones, counted.
enum Census {
    Off,
    /// Opens once this many steps have run.
    After(usize),
    Open(OperatorCensus),
    Counted(Vec<(String, u64)>),
}

impl Census {
    fn on_step(&mut self, steps_run: usize) {
        *self = match std::mem::replace(self, Census::Off) {
            Census::After(n) if n == steps_run => {
                Census::Open(OperatorCensus::open().expect("an operator census"))
            }
            Census::Open(census) => Census::Counted(census.close().expect("the census")),
            other => other,
        }
    }

    /// The counts, if the counted step ran.
    fn counts(self) -> Option<Vec<(String, u64)>> {
        match self {
            Census::Counted(counts) => Some(counts),
            _ => None,
        }
    }
}

/// The counts as a JSON object, most first; `null` if none were taken.
fn counts_json(counts: Option<&[(String, u64)]>) -> String {
    let Some(counts) = counts else {
        return "null".into();
    };
    let mut counts = counts.to_vec();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let fields: Vec<String> = counts
        .iter()
        .map(|(name, n)| format!("\"{name}\": {n}"))
        .collect();
    format!("{{{}}}", fields.join(", "))
}

impl Observer for Timer {
    fn on_step(&mut self, s: &StepStats, _: &Model) {
        let now = Instant::now();
        self.times.push(now.duration_since(self.last).as_secs_f64());
        self.issued.push(s.issue_seconds);
        self.losses.push((s.t_loss, s.f_loss));
        self.census.on_step(self.times.len());
        self.last = Instant::now();
    }
    fn on_checkpoint(&mut self, _: &Snapshot) -> Result<(), String> {
        Ok(())
    }
    fn on_restore(&mut self, _: u64) {}
    fn on_event(&mut self, message: &str) {
        self.replayed |= message.contains("recorded in a CUDA graph");
        eprintln!("{message}");
    }
    fn stop_requested(&self) -> bool {
        false
    }
}

/// One training's median seconds per step and per step's issuing, every
/// step's losses, whether its steps were replayed from a CUDA graph, and
/// with `--count-ops` its counted step's operators.
struct Timed {
    seconds: f64,
    issued: f64,
    losses: Vec<(f64, f64)>,
    replayed: bool,
    ops: Option<Vec<(String, u64)>>,
}

/// The value after flag `name`, else `default`.
fn arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    // As `nrun` itself does (see `nrun::heap`).
    if !std::env::args().any(|a| a == "--default-heap") {
        nrun::heap::keep_freed_memory();
    }
    let (batch, z, channels, layers) = (
        arg("--batch", 64),
        arg("--z", 4),
        arg("--channels", 128),
        arg("--layers", 7),
    );
    let (steps, warmup, t_steps) = (arg("--steps", 3), arg("--warmup", 1), arg("--t-steps", 10));
    let parallel = arg("--parallel", 1).max(1);
    let count_ops = std::env::args().any(|a| a == "--count-ops");
    assert!(
        !count_ops || parallel == 1,
        "--count-ops counts one training's operators: drop --parallel"
    );
    // `--mlp 128,128`: 2-D points, T reads x beside a 2-D z, as toy2d does.
    let mlp: Option<Vec<usize>> = std::env::args()
        .skip_while(|a| a != "--mlp")
        .nth(1)
        .map(|w| {
            w.split(',')
                .map(|v| v.parse().expect("--mlp widths"))
                .collect()
        });
    let item = if mlp.is_some() {
        vec![2]
    } else {
        vec![1, 32, 32]
    };
    let mut r = rng::stream(0, rng::Purpose::Sample, 0);
    let size: usize = item.iter().product();
    let pool = |r: &mut rng::Rng| Samples::new(item.clone(), rng::normal(r, 256 * size, 1.0));
    let (source, target) = (pool(&mut r), pool(&mut r));
    let (t_net, f_net, z_channels) = match &mlp {
        Some(hidden) => {
            let net = NetSpec::Mlp {
                hidden: hidden.clone(),
                activation: Default::default(),
            };
            (net.clone(), net, 2)
        }
        None => (
            NetSpec::CnnT { channels, layers },
            NetSpec::CnnF { channels },
            1,
        ),
    };
    let only = std::env::args().skip_while(|a| a != "--device").nth(1);
    // `--bf16`: convolutions and products in bfloat16, like torch_step.py's `--bf16`.
    let precision = if std::env::args().any(|a| a == "--bf16") {
        Precision::Bf16
    } else {
        Precision::F32
    };
    // `--burn-adam`: burn's Adam on libtorch too, to measure the fused one against it.
    let adam = if std::env::args().any(|a| a == "--burn-adam") {
        AdamKernel::Burn
    } else {
        AdamKernel::Fused
    };
    // `--cuda-graphs`: outer steps replayed from a CUDA graph, as
    // `NRUN_CUDA_GRAPHS=1` has nrun do (on a GPU; elsewhere a no-op).
    let cuda_graphs = std::env::args().any(|a| a == "--cuda-graphs");
    // Steps before the first replay (eager ones, then the recording) are
    // not what is timed.
    let warmup = if cuda_graphs {
        warmup.max(step_graph::WARM_STEPS as usize + 1)
    } else {
        warmup
    };
    // `--shared-stream`: every training on the GPU's default stream, as
    // `NRUN_CUDA_STREAM=shared` has nrun do, rather than one stream each.
    let shared_stream = std::env::args().any(|a| a == "--shared-stream");
    // `--lr`: both nets' learning rate; a large one makes steps that a
    // wrong replay would get visibly wrong.
    let adam_spec = AdamSpec {
        lr: arg("--lr", AdamSpec::default().lr),
        ..AdamSpec::default()
    };
    for (name, device) in backend::devices(true) {
        if only.as_ref().is_some_and(|o| !name.contains(o.as_str())) {
            continue;
        }
        let cfg = TrainConfig {
            cost: Cost {
                kind: CostKind::WeakQuadratic,
                scaling: Scaling::Paper,
            },
            gamma: Schedule::constant(0.25),
            // With `--count-ops`, one more step, counted and not timed.
            iterations: (warmup + steps + usize::from(count_ops)) as u64,
            t_steps,
            batch,
            z: ZSpec {
                count: z,
                channels: z_channels,
                std: 1.0,
            },
            t_net: t_net.clone(),
            f_net: f_net.clone(),
            t_opt: adam_spec.clone(),
            f_opt: adam_spec.clone(),
            seed: 0,
            guard: GuardSpec::default(),
            checkpoint_every: u64::MAX,
            lr_decay: LrDecay::Constant,
            noise: None,
            convexity: 0.0,
            precision,
            adam,
            cuda_graphs,
        };
        // The trainings step together: none times its steps while another
        // is still building its nets (or, on a GPU, starting CUDA).
        let start = std::sync::Barrier::new(parallel);
        let timed: Vec<Timed> = std::thread::scope(|scope| {
            let runs: Vec<_> = (0..parallel)
                .map(|i| {
                    let cfg = TrainConfig {
                        seed: i as u64,
                        ..cfg.clone()
                    };
                    let (source, target, device, start, name) =
                        (&source, &target, &device, &start, &name);
                    scope.spawn(move || {
                        let _stream = if shared_stream {
                            None
                        } else {
                            backend::own_stream(device).expect("a CUDA stream")
                        };
                        let mut trainer =
                            Trainer::new(cfg, source, target, device).expect("trainer");
                        start.wait();
                        let mut timer = Timer {
                            times: Vec::new(),
                            losses: Vec::new(),
                            replayed: false,
                            issued: Vec::new(),
                            last: Instant::now(),
                            // Only libtorch's operators go through its dispatcher.
                            census: if count_ops && name.starts_with("tch") {
                                Census::After(warmup + steps)
                            } else {
                                Census::Off
                            },
                        };
                        trainer.run(&mut timer).expect("training runs");
                        Timed {
                            seconds: median(timer.times[warmup..warmup + steps].to_vec()),
                            issued: median(timer.issued[warmup..warmup + steps].to_vec()),
                            losses: timer.losses,
                            replayed: timer.replayed,
                            ops: timer.census.counts(),
                        }
                    })
                })
                .collect();
            runs.into_iter()
                .map(|run| run.join().expect("a training panicked"))
                .collect()
        });
        let seconds = median(timed.iter().map(|t| t.seconds).collect());
        let issue = median(timed.iter().map(|t| t.issued).collect());
        let total: f64 = timed.iter().map(|t| 1.0 / t.seconds).sum();
        let (t_losses, f_losses): (Vec<f64>, Vec<f64>) = timed[0].losses.iter().copied().unzip();
        println!(
            "{{\"impl\": \"{}\", \"device\": \"{name}\", \"precision\": \"{}\", \"seconds_per_step\": {seconds}, \"issue_seconds_per_step\": {issue}, \"steps\": {steps}, \"threads\": {}, \"parallel\": {parallel}, \"stream\": \"{}\", \"steps_per_second_total\": {total}, \"t_losses\": {t_losses:?}, \"f_losses\": {f_losses:?}, \"ops_per_step\": {}, \"ops\": {}}}",
            // Graphs asked for and off (no GPU, a failed recording) time
            // plain steps: named as such.
            match (adam, timed.iter().all(|t| t.replayed)) {
                (AdamKernel::Burn, _) => "nrun-burn-adam",
                (_, true) => "nrun-graphs",
                _ => "nrun",
            },
            if precision == Precision::Bf16 {
                "bf16"
            } else {
                "f32"
            },
            rayon::current_num_threads(),
            if shared_stream { "shared" } else { "own" },
            timed[0].ops.as_ref().map_or("null".into(), |counts| counts
                .iter()
                .map(|(_, n)| n)
                .sum::<u64>()
                .to_string()),
            counts_json(timed[0].ops.as_deref()),
        );
    }
}
