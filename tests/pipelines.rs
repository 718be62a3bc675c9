//! End-to-end runs of the ML stage kinds through the real binary: data
//! loaders on files the test writes, a tiny training that is killed,
//! stopped by its time limit and by signals, and resumed, sampling, metrics, tables, plots and the HTML report in a
//! headless browser.

mod browser;
mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{Project, Run};

/// An IDX image file: n images of side x side, pixel value = image index.
fn idx_images(n: u32, side: u32) -> Vec<u8> {
    let mut out = vec![0, 0, 8, 3];
    for v in [n, side, side] {
        out.extend(v.to_be_bytes());
    }
    for i in 0..n {
        out.extend(std::iter::repeat_n((i * 20) as u8, (side * side) as usize));
    }
    out
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 8, 1];
    out.extend((labels.len() as u32).to_be_bytes());
    out.extend(labels);
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn write_bytes(p: &Project, rel: &str, bytes: &[u8]) {
    let path = p.path().join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

const LOADERS: &str = r#"
name: loaders
stages:
  raw:
    kind: idx
    inputs: {images: {path: data/images.idx}, labels: {path: data/labels.idx}}
    params: {select: {labels: [1]}}
  gz:
    kind: idx
    inputs: {images: {path: data/images.idx.gz}, labels: {path: data/labels.idx.gz}}
    params: {select: {split: {fractions: [0.5, 0.5], take: 1}}}
  cifar:
    kind: cifar10
    inputs: {batches: {path: data/cifar}}
  folder:
    kind: image_folder
    inputs: {folder: {path: data/images}}
    params: {rgb: true}
  up:
    kind: transform
    inputs: {data: raw}
    params: {ops: [{op: resize, size: [8, 8], mode: nearest}], keep_clean: true}
"#;

fn loader_project() -> Project {
    let p = Project::new();
    write_bytes(&p, "data/images.idx", &idx_images(6, 4));
    write_bytes(&p, "data/labels.idx", &idx_labels(&[0, 1, 1, 2, 1, 0]));
    write_bytes(&p, "data/images.idx.gz", &gzip(&idx_images(6, 4)));
    write_bytes(
        &p,
        "data/labels.idx.gz",
        &gzip(&idx_labels(&[0, 1, 1, 2, 1, 0])),
    );
    let mut cifar = Vec::new();
    for label in [3u8, 7] {
        cifar.push(label);
        cifar.extend(std::iter::repeat_n(label * 10, 3072));
    }
    write_bytes(&p, "data/cifar/data_batch_1.bin", &cifar);
    for (class, shade) in [("cats", 40u8), ("dogs", 200)] {
        let img = image::RgbImage::from_pixel(5, 5, image::Rgb([shade, 0, 255 - shade]));
        let path = p.path().join(format!("data/images/{class}/a.png"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        img.save(path).unwrap();
    }
    p.file("loaders.yaml", LOADERS);
    p
}

fn dataset_json(p: &Project, stage: &str) -> serde_json::Value {
    serde_json::from_str(&p.read(&format!("results/loaders/{stage}/_/dataset.json"))).unwrap()
}

#[test]
fn loaders_read_idx_cifar_and_image_folders() {
    let p = loader_project();
    p.nrun(&["loaders.yaml"]).ok();
    assert_eq!(
        dataset_json(&p, "raw")["count"],
        3,
        "three images of label 1"
    );
    assert_eq!(dataset_json(&p, "gz")["count"], 3, "half of six");
    assert_eq!(
        dataset_json(&p, "cifar")["shape"],
        serde_json::json!([3, 32, 32])
    );
    assert_eq!(dataset_json(&p, "folder")["count"], 2);
    assert_eq!(
        dataset_json(&p, "up")["shape"],
        serde_json::json!([1, 8, 8])
    );
    // numpy-readable tensors: check the safetensors header names the arrays.
    let bytes = std::fs::read(p.path().join("results/loaders/up/_/data.safetensors")).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = String::from_utf8_lossy(&bytes[8..8 + header_len]).to_string();
    assert!(
        header.contains("\"x\"") && header.contains("\"clean\"") && header.contains("\"labels\""),
        "{header}"
    );
}

#[test]
fn bad_data_files_exit_2_naming_the_file() {
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "data/images.idx",
            {
                let mut b = idx_images(6, 4);
                b[3] = 9;
                b
            },
            "wrong magic number",
        ),
        (
            "data/images.idx",
            idx_images(6, 4)[..40].to_vec(),
            "truncated",
        ),
        ("data/labels.idx", idx_labels(&[0, 1, 1]), "6"),
    ];
    for (file, bytes, words) in cases {
        let p = loader_project();
        write_bytes(&p, file, &bytes);
        let run = p.nrun(&["loaders.yaml", "--target", "raw"]).code(2);
        assert!(
            run.stderr.contains(file) && run.stderr.contains(words),
            "{file}: expected `{words}` in {}",
            run.stderr
        );
        assert!(p.cache_entries().is_empty(), "nothing half-written");
    }
    let p = loader_project();
    write_bytes(&p, "data/images/cats/a.png", b"not a png");
    let run = p.nrun(&["loaders.yaml", "--target", "folder"]).code(2);
    assert!(run.stderr.contains("cats/a.png"), "{}", run.stderr);
    let p = loader_project();
    std::fs::remove_dir_all(p.path().join("data/images")).unwrap();
    std::fs::create_dir_all(p.path().join("data/images")).unwrap();
    let run = p.nrun(&["loaders.yaml", "--target", "folder"]).code(2);
    assert!(run.stderr.contains("data/images"), "{}", run.stderr);
}

const TOY: &str = r#"
name: toy
params:
  iterations: 400
  grid:
    cost: [weak_quadratic, weak_kernel]
    gamma: [0.5]
stages:
  x: {kind: toy2d, params: {distribution: {kind: moons, noise: 0.05}, n: 2000, seed: 1, standardize: true}}
  x_test: {kind: toy2d, params: {distribution: {kind: moons, noise: 0.05}, n: 200, seed: 2, standardize: true}}
  y: {kind: toy2d, params: {distribution: {kind: noisy_circle, radius: 1, noise: 0.05}, n: 2000, seed: 3}}
  y_test: {kind: toy2d, params: {distribution: {kind: noisy_circle, radius: 1, noise: 0.05}, n: 200, seed: 4}}
  train:
    kind: train
    inputs: {source: x, target: y}
    params:
      cost: {kind: "${cost}"}
      gamma: "${gamma}"
      iterations: "${iterations}"
      batch: 32
      z: {count: 4, channels: 2, std: 1.0}
      t_net: {kind: mlp, hidden: [16, 16]}
      f_net: {kind: mlp, hidden: [16, 16]}
      checkpoint_every: 20
      trace: {every: 50, points: 64}
  samples: {kind: sample, inputs: {model: train, data: x_test}, params: {z_count: 4}}
  scores:
    kind: metric
    inputs: {samples: samples, target: y_test, model: train, features: {path: feat}}
    params: {metrics: [energy, mmd, diversity, ot_gap, bary_error, fit_final, fit_oscillation, frechet_features]}
  identity: {kind: identity_map, inputs: {data: x_test}}
  identity_scores: {kind: metric, inputs: {samples: identity, target: y_test}, params: {metrics: [energy]}}
  fit:
    kind: table
    inputs: {metrics: scores, untransported: identity_scores}
    aggregate: all
    params: {metric: energy, rows: cost, columns: gamma, caption: fit, baselines: {untransported: moons as they are}}
  maps:
    kind: plot
    inputs: {data: samples, target: y_test}
    aggregate: all
    params: {title: Moons to circle, figure: {kind: map2d, segments: 20}}
  curves:
    kind: plot
    inputs: {data: train}
    aggregate: all
    params: {title: Training, figure: {kind: curves}}
  page:
    kind: report
    inputs: {maps: maps, curves: curves, scores: scores}
    aggregate: all
    publish: report
    params:
      title: Toy report
      sections: [{heading: Maps, inputs: [maps, curves]}, {heading: Scores, inputs: [scores]}]
"#;

/// A feature network for `frechet_features`: an MLP 2 -> 8 -> 3 with
/// weights drawn by nrun, saved the way nrun exports networks.
fn write_features(p: &Project) {
    use nrun::ot::apply::FeatureSpec;
    use nrun::ot::nets::{Activation, NetSpec};
    let spec = FeatureSpec {
        net: NetSpec::Mlp {
            hidden: vec![8],
            activation: Activation::Silu,
        },
        inputs: 2,
        outputs: 3,
    };
    let net = spec.build(&burn::tensor::Device::flex()).unwrap();
    let tensors = net
        .named_values()
        .into_iter()
        .map(|(name, shape, data)| (name, nrun::tensor_file::Tensor::F32 { shape, data }))
        .collect();
    std::fs::create_dir_all(p.path().join("feat")).unwrap();
    nrun::tensor_file::write(&p.path().join("feat/features.safetensors"), &tensors).unwrap();
    p.file("feat/features.json", &serde_json::to_string(&spec).unwrap());
}

#[test]
fn a_tiny_training_runs_to_a_report_that_loads_in_a_browser() {
    let p = Project::new();
    write_features(&p);
    // rows == columns is invalid for a table: caught before anything runs.
    p.file(
        "toy.yaml",
        &TOY.replace("rows: cost, columns: gamma", "rows: cost, columns: cost"),
    );
    let run = p.nrun(&["toy.yaml"]).code(2);
    assert!(
        run.stderr.contains("toy.yaml:") && run.stderr.contains("stages.fit.params.columns"),
        "{}",
        run.stderr
    );
    p.file("toy.yaml", TOY);
    p.nrun(&["toy.yaml"]).ok();
    let summary: serde_json::Value =
        serde_json::from_str(&p.read("results/toy/train/cost=weak_kernel,gamma=0.5/summary.json"))
            .unwrap();
    assert_eq!(summary["steps"], 400);
    let log = p.read("results/toy/train/cost=weak_kernel,gamma=0.5/log.csv");
    assert_eq!(
        log.lines().count(),
        401,
        "a header and one row per outer step"
    );
    let metrics = p.read("results/toy/scores/cost=weak_kernel,gamma=0.5/metrics.csv");
    for m in ["energy", "ot_gap", "fit_oscillation", "frechet_features"] {
        assert!(metrics.contains(m), "{metrics}");
    }
    // The untransported moons are a baseline row, one value in every
    // column, farther from the circle than what either map pushes forward.
    let table = p.read("results/toy/fit/_/table.csv");
    let energy = |row: &str| -> Vec<f64> {
        table
            .lines()
            .filter(|l| l.starts_with(&format!("{row},")))
            .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
            .collect()
    };
    let baseline = energy("moons as they are");
    assert_eq!(baseline.len(), 1, "{table}");
    for map in ["weak_quadratic", "weak_kernel"] {
        assert!(energy(map)[0] < baseline[0], "{table}");
    }
    let html = p.path().join("results/toy/report/report.html");
    assert!(html.is_file());
    let Some(b) = browser::Browser::start() else {
        return;
    };
    let page = b.inspect(&html);
    assert!(page.images.len() >= 2, "{:?}", page.images);
    assert!(page.images.iter().all(|i| i.loaded), "{:?}", page.images);
    assert!(page.errors.is_empty(), "{:?}", page.errors);
}

/// A training killed mid-run resumes from its checkpoint and ends with the
/// same weights as an uninterrupted run.
#[test]
fn a_killed_training_resumes_to_the_same_weights() {
    let once = Project::new();
    write_features(&once);
    once.file(
        "toy.yaml",
        &TOY.replace("iterations: 400", "iterations: 3000"),
    );
    once.nrun(&[
        "toy.yaml",
        "--target",
        "train",
        "--grid",
        "cost=weak_kernel",
    ])
    .ok();
    let want = std::fs::read(
        once.path()
            .join("results/toy/train/cost=weak_kernel,gamma=0.5/T.safetensors"),
    )
    .unwrap();

    let p = Project::new();
    write_features(&p);
    p.file(
        "toy.yaml",
        &TOY.replace("iterations: 400", "iterations: 3000"),
    );
    let mut child = p.spawn(&[
        "toy.yaml",
        "--target",
        "train",
        "--grid",
        "cost=weak_kernel",
    ]);
    let start = Instant::now();
    let checkpoint = loop {
        let found = walkdir::WalkDir::new(p.path().join("results/.cache/work"))
            .into_iter()
            .flatten()
            .find(|e| e.file_name() == "state.json");
        if let Some(entry) = found {
            let state: serde_json::Value =
                serde_json::from_slice(&std::fs::read(entry.path()).unwrap_or_default())
                    .unwrap_or_default();
            if state["step"].as_u64().is_some_and(|s| s >= 100) {
                break state["step"].as_u64().unwrap();
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no checkpoint appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    child.wait().unwrap();
    assert!(checkpoint < 3000);
    p.nrun(&[
        "toy.yaml",
        "--target",
        "train",
        "--grid",
        "cost=weak_kernel",
    ])
    .ok();
    let summary: serde_json::Value =
        serde_json::from_str(&p.read("results/toy/train/cost=weak_kernel,gamma=0.5/summary.json"))
            .unwrap();
    assert!(
        summary["resumed_at"].as_u64().unwrap() >= checkpoint,
        "{summary}"
    );
    let got = std::fs::read(
        p.path()
            .join("results/toy/train/cost=weak_kernel,gamma=0.5/T.safetensors"),
    )
    .unwrap();
    assert!(
        got == want,
        "resumed weights differ from the uninterrupted run's"
    );
    let log = p.read("results/toy/train/cost=weak_kernel,gamma=0.5/log.csv");
    assert_eq!(log.lines().count(), 3001, "the log has every step once");
}

/// The step of the newest complete checkpoint in the project's cache.
fn checkpoint_step(p: &Project) -> Option<u64> {
    walkdir::WalkDir::new(p.path().join("results/.cache/work"))
        .into_iter()
        .flatten()
        .filter(|e| e.file_name() == "state.json")
        .filter_map(|e| {
            let state: serde_json::Value =
                serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok()?;
            state["step"].as_u64()
        })
        .max()
}

/// Sends `signal` to a running nrun once its training has checkpointed past
/// `after`; returns its exit code.
fn signal_after_checkpoint(p: &Project, args: &[&str], after: u64, signal: i32) -> Run {
    let child = p.spawn(args);
    let start = Instant::now();
    while checkpoint_step(p).is_none_or(|s| s <= after) {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no checkpoint after step {after} appeared"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    unsafe {
        libc::kill(child.id() as i32, signal);
    }
    Run::from_output(child.wait_with_output().unwrap())
}

/// The step a stopped training reports in its stage log ("... after step N of M").
fn stopped_at(run: &Run) -> u64 {
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("[") && l.contains("stopped train"))
        .unwrap_or_else(|| panic!("no stopped training in:\n{}", run.stdout));
    let step = line
        .split("after step ")
        .nth(1)
        .and_then(|t| t.split(' ').next());
    step.and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no step in `{line}`"))
}

/// With one token, what a finished training's scores need (test data that
/// nothing else waits for) runs before the next training starts.
#[test]
fn cheap_work_goes_before_the_next_training() {
    let p = Project::new();
    p.file(
        "order.yaml",
        r#"
name: order
params:
  grid: {seed: [0, 1]}
stages:
  x: {kind: toy2d, params: {distribution: {kind: moons, noise: 0.05}, n: 200, seed: 1}}
  y: {kind: toy2d, params: {distribution: {kind: noisy_circle, radius: 1, noise: 0.05}, n: 200, seed: 3}}
  train:
    kind: train
    inputs: {source: x, target: y}
    params: {cost: {kind: weak_quadratic}, gamma: 0, z: {count: 2, channels: 2}, seed: "${seed}", iterations: 20, batch: 16, t_net: {kind: mlp, hidden: [8]}, f_net: {kind: mlp, hidden: [8]}}
  x_test: {kind: command, inputs: {x: x}, params: {run: "cp -r {in.x}/. {out}/"}}
  samples: {kind: sample, inputs: {model: train, data: x}}
"#,
    );
    p.nrun(&["order.yaml", "-j", "1"]).ok();
    let run = p.last_run("order");
    let start = |stage: &str, seed: Option<u64>| -> f64 {
        run["instances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["stage"] == stage && seed.is_none_or(|s| i["cell"]["seed"] == s))
            .and_then(|i| i["start"].as_f64())
            .unwrap_or_else(|| panic!("{stage} {seed:?}: {run}"))
    };
    let train = |seed| start("train", Some(seed));
    assert!(start("x_test", None) < train(0), "{run}");
    assert!(start("samples", Some(0)) < train(1), "{run}");
}

/// A run stopped by `--time-limit`, then by SIGUSR1, then by SIGTERM (what
/// batch systems send before a job's end) checkpoints each time exactly
/// where it stopped and exits 75; its checkpoint, exported and imported
/// into another cache, finishes there with the same weights as a run that
/// was never stopped.
#[test]
fn stopped_trainings_checkpoint_and_resume_to_the_same_weights() {
    let args = [
        "toy.yaml",
        "--target",
        "train",
        "--grid",
        "cost=weak_kernel",
    ];
    // T's snapshots on both sides of every stop must all be there at the end.
    let snapshots = [100, 1500, 3000, 4500, 6000];
    let toy = TOY.replace("iterations: 400", "iterations: 6000").replace(
        "checkpoint_every: 20",
        &format!("checkpoint_every: 20\n      snapshots: {snapshots:?}"),
    );
    let once = Project::new();
    write_features(&once);
    once.file("toy.yaml", &toy);
    once.nrun(&args).ok();
    let out = "results/toy/train/cost=weak_kernel,gamma=0.5";
    let want = std::fs::read(once.path().join(out).join("T.safetensors")).unwrap();

    let p = Project::new();
    write_features(&p);
    p.file("toy.yaml", &toy);
    let limited = [&args[..], &["--time-limit", "4"]].concat();
    let run = p.nrun(&limited).code(75);
    assert!(
        run.stderr
            .contains("stopped by the time limit: finished entries are cached"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout
            .contains("stopped by the time limit: trainings checkpoint")
    );
    let first = stopped_at(&run);
    assert_eq!(
        checkpoint_step(&p),
        Some(first),
        "checkpointed where it stopped"
    );
    assert!(first > 0 && first < 6000, "{first}");
    let statuses = p.statuses("toy");
    assert!(
        statuses
            .iter()
            .any(|(stage, _, s)| stage == "train" && s == "stopped"),
        "{statuses:?}"
    );

    let mut last = first;
    for signal in [libc::SIGUSR1, libc::SIGTERM] {
        let run = signal_after_checkpoint(&p, &args, last, signal).code(75);
        assert!(run.stderr.contains("stopped by a signal"), "{}", run.stderr);
        let step = stopped_at(&run);
        assert!(step > last, "{step} after {last}");
        assert_eq!(checkpoint_step(&p), Some(step));
        last = step;
    }
    // The training finishes on another machine: export, import, rerun.
    let tar = p.path().join("work.tar");
    let export = p
        .command(&[
            "export",
            "toy.yaml",
            "--target",
            "train",
            "--grid",
            "cost=weak_kernel",
        ])
        .stdout(std::fs::File::create(&tar).unwrap())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&export.stderr);
    assert!(export.status.success(), "{stderr}");
    assert!(stderr.contains("and 1 checkpoints"), "{stderr}");
    let q = Project::new();
    write_features(&q);
    q.file("toy.yaml", &toy);
    let run = q.nrun(&["import", tar.to_str().unwrap()]).ok();
    assert!(
        run.stdout
            .contains(&format!("1 checkpoints (at steps {last})")),
        "{}",
        run.stdout
    );
    let status = q
        .nrun(&["status", "toy.yaml", "--grid", "cost=weak_kernel"])
        .ok();
    assert!(
        status
            .stdout
            .contains(&format!("will resume at step {last} of 6000: new")),
        "{}",
        status.stdout
    );
    q.nrun(&args).ok();
    let summary: serde_json::Value =
        serde_json::from_str(&q.read(&format!("{out}/summary.json"))).unwrap();
    assert_eq!(summary["resumed_at"].as_u64(), Some(last), "{summary}");
    let got = std::fs::read(q.path().join(out).join("T.safetensors")).unwrap();
    assert!(
        got == want,
        "stopped and resumed weights differ from the unbroken run's"
    );
    for step in snapshots {
        let name = format!("snapshots/T_{step}.safetensors");
        let unbroken = std::fs::read(once.path().join(out).join(&name)).unwrap();
        let resumed = std::fs::read(q.path().join(out).join(&name))
            .unwrap_or_else(|e| panic!("{name} after the stops and the move: {e}"));
        assert!(
            resumed == unbroken,
            "{name} differs from the unbroken run's"
        );
    }
    let log = q.read(&format!("{out}/log.csv"));
    assert_eq!(log.lines().count(), 6001, "the log has every step once");
}

#[test]
fn the_training_nearest_to_done_starts_first() {
    // Trainings far longer than the run: none finishes, each is stopped.
    let toy = TOY.replace("iterations: 400", "iterations: 1000000");
    let p = Project::new();
    write_features(&p);
    p.file("toy.yaml", &toy);
    let limited = |grid: &[&str]| {
        let mut args = vec!["toy.yaml", "--target", "train", "--time-limit", "5"];
        args.extend(grid);
        p.nrun(&args).code(75);
    };
    limited(&["--grid", "cost=weak_kernel"]);
    let resumes_at = |cost: &str| -> Option<u64> {
        let status = p
            .nrun(&["status", "toy.yaml", "--target", "train", "--json"])
            .ok();
        let rows = status.json_rows();
        let row = rows
            .iter()
            .find(|r| r["stage"] == "train" && r["cell"]["cost"] == cost)
            .unwrap_or_else(|| panic!("no train[{cost}] in {}", status.stdout));
        assert_eq!(row["steps"], 1_000_000, "{row}");
        row["resumes_at"].as_u64()
    };
    let first = resumes_at("weak_kernel").expect("a checkpoint");
    assert_eq!(resumes_at("weak_quadratic"), None);
    // One training at a time: the grid's first cell waits for the one
    // with fewer steps to go, its 5 s over.
    limited(&["-j", "1"]);
    assert!(resumes_at("weak_kernel").unwrap() > first);
    assert_eq!(
        resumes_at("weak_quadratic"),
        None,
        "started before the resumed one"
    );
    let status = p.nrun(&["status", "toy.yaml", "--target", "train"]).ok();
    assert!(
        status.stdout.contains(" of 1000000: new"),
        "{}",
        status.stdout
    );
}

/// A grid where one learning rate diverges: 1e9.
const DIVERGING: &str = r#"
name: diverging
params:
  policy: record
  grid:
    cost: [weak_quadratic]
    lr: [1.0e-3, 1.0e9]
stages:
  x: {kind: toy2d, params: {distribution: {kind: moons, noise: 0.05}, n: 500, seed: 1, standardize: true}}
  y: {kind: toy2d, params: {distribution: {kind: noisy_circle, radius: 1, noise: 0.05}, n: 500, seed: 3}}
  train:
    kind: train
    inputs: {source: x, target: y}
    params:
      cost: {kind: "${cost}"}
      gamma: 0.5
      iterations: 60
      batch: 32
      z: {count: 4, channels: 2, std: 1.0}
      t_net: {kind: mlp, hidden: [16]}
      f_net: {kind: mlp, hidden: [16]}
      t_opt: {lr: "${lr}"}
      f_opt: {lr: "${lr}"}
      checkpoint_every: 20
      guard: {max_abs_loss: 1.0e4, retries: 1, lr_factor: 0.5}
      on_divergence: "${policy}"
  samples: {kind: sample, inputs: {model: train, data: x}, params: {z_count: 4, limit: 100}}
  scores: {kind: metric, inputs: {samples: samples, target: y}, params: {metrics: [energy]}}
  fit:
    kind: table
    inputs: {metrics: scores}
    aggregate: all
    params: {metric: energy, rows: cost, columns: lr}
  fit_vs_lr:
    kind: plot
    inputs: {data: scores}
    aggregate: all
    params: {title: Fit, figure: {kind: metric_vs, metric: energy, x: lr}}
"#;

/// With `on_divergence: record` a diverging cell is a result: the run
/// succeeds, the training keeps its last good weights marked with the step
/// it diverged at, and the table and figure show the cell as diverged.
/// With the default (`fail`) the same cell fails the run.
#[test]
fn a_recorded_divergence_shows_in_tables_and_figures() {
    let p = Project::new();
    p.file("diverging.yaml", DIVERGING);
    p.nrun(&["diverging.yaml"]).ok();
    assert!(p.statuses("diverging").iter().all(|(_, _, s)| s == "ran"));
    let summary: serde_json::Value = serde_json::from_str(
        &p.read("results/diverging/train/cost=weak_quadratic,lr=1000000000/summary.json"),
    )
    .unwrap();
    let step = summary["diverged"]["step"]
        .as_u64()
        .expect("marked as diverged");
    assert_eq!(
        summary["diverged"]["weights_step"].as_u64(),
        Some(summary["steps"].as_u64().unwrap())
    );
    let healthy: serde_json::Value = serde_json::from_str(
        &p.read("results/diverging/train/cost=weak_quadratic,lr=0.001/summary.json"),
    )
    .unwrap();
    assert!(healthy["diverged"].is_null(), "{healthy}");
    assert!(
        p.read("results/diverging/samples/cost=weak_quadratic,lr=1000000000/diverged.json")
            .contains("\"step\"")
    );
    let scores = p.read("results/diverging/scores/cost=weak_quadratic,lr=1000000000/metrics.csv");
    assert!(
        scores.starts_with("cost,lr,metric,value,std,n,diverged\n"),
        "{scores}"
    );
    let table = p.read("results/diverging/fit/_/table.md");
    assert!(
        table.contains(&format!("diverged (step {step})")),
        "{table}"
    );
    let csv = p.read("results/diverging/fit/_/table.csv");
    assert!(
        csv.lines().any(|l| l.ends_with(&format!(",{step}"))),
        "{csv}"
    );
    // `nrun show --train`: the diverged cell says where, the healthy one ran all its steps.
    let shown = p
        .nrun(&[
            "show",
            "diverging.yaml",
            "--train",
            "--metrics",
            "energy,train_steps,diverged_at",
            "--format",
            "csv",
        ])
        .ok()
        .stdout;
    let lines: Vec<&str> = shown.lines().collect();
    assert!(lines[0].starts_with("stage,cost,lr,energy,"), "{shown}");
    let row = |lr: &str| {
        lines
            .iter()
            .find(|l| l.contains(&format!(",{lr},")))
            .unwrap()
            .to_string()
    };
    assert!(
        row("1000000000").contains(&format!(",{step},,1,,cached,")),
        "{shown}"
    );
    assert!(
        row("0.001").contains(&format!(",{},,1,,,,,,cached,", healthy["steps"])),
        "{shown}"
    );
    // The training's log: its device, and evenly spaced steps (all 60 here).
    let log = p
        .nrun(&["logs", "diverging.yaml", "train[lr=0.001]"])
        .ok()
        .stdout;
    assert!(log.contains("\ndevice burn-flex (CPU)\n"), "{log}");
    let steps: Vec<&str> = log.lines().filter(|l| l.starts_with("step ")).collect();
    assert_eq!(steps.len(), 60, "{log}");
    assert!(steps[59].starts_with("step 60 of 60: γ "), "{log}");
    // Where no cell diverged, `diverged_at` is still a column, empty.
    let healthy_only = p
        .nrun(&[
            "show",
            "diverging.yaml",
            "--grid",
            "lr=0.001",
            "--train",
            "--metrics",
            "train_steps,diverged_at",
            "--format",
            "csv",
        ])
        .ok()
        .stdout;
    assert!(
        healthy_only.contains(&format!(",{},,1,,,,,,cached,", healthy["steps"])),
        "{healthy_only}"
    );
    let figures = p.read("results/diverging/fit_vs_lr/_/artifacts.json");
    assert!(
        figures.contains(&format!(
            "diverged, not drawn: cost=weak_quadratic lr=1000000000 at step {step}"
        )),
        "{figures}"
    );

    let p = Project::new();
    p.file(
        "diverging.yaml",
        &DIVERGING.replace("policy: record", "policy: fail"),
    );
    let run = p.nrun(&["diverging.yaml"]).code(1);
    assert!(
        run.stderr.contains("training diverged at step"),
        "{}",
        run.stderr
    );
}

/// The training of `misfit.yaml`, fed `source` and `target`, with T the
/// net `t_net`.
fn misfit(source_and_target: &str, t_net: &str) -> String {
    format!(
        "\
name: misfit
stages:
{source_and_target}  train:
    kind: train
    inputs: {{source: x, target: y}}
    params:
      cost: {{kind: weak_quadratic}}
      gamma: 0.5
      iterations: 5
      batch: 8
      z: {{count: 2, channels: 1}}
      t_net: {t_net}
      f_net: {{kind: mlp, hidden: [8]}}
"
    )
}

const CNN: &str = "{kind: cnn_t, channels: 4, layers: 2}";
const MLP: &str = "{kind: mlp, hidden: [8]}";

/// A net that cannot take the data (2-D points into a CNN) is the
/// pipeline's mistake: where the pipeline tells the data's shapes, it is
/// found before anything runs (exit 2, located, nothing cached); where
/// only the data's file tells them, when the training starts (exit 2
/// naming the stage's file:line, and nothing of the training is cached).
#[test]
fn data_a_net_cannot_take_exits_2_naming_the_stage() {
    let p = Project::new();
    let refused = |pipeline: String, error: &str| {
        p.file("misfit.yaml", &pipeline);
        let run = p.nrun(&["misfit.yaml"]).code(2);
        assert_eq!(run.stderr.trim(), error);
        assert!(p.cache_entries().is_empty(), "nothing ran");
    };
    let toys = "  x: {kind: toy2d, params: {distribution: {kind: moons, noise: 0.05}, n: 64, seed: 1}}\n  y: {kind: toy2d, params: {distribution: {kind: uniform_square, half_width: 2}, n: 64, seed: 2}}\n";
    refused(
        misfit(toys, CNN),
        "error: misfit.yaml:9:7: stages.train.params: cnn_t needs images [c, h, w], the data has items of shape [2]",
    );
    let gaussian = toys.replace(
        "{kind: toy2d, params: {distribution: {kind: uniform_square, half_width: 2}, n: 64, seed: 2}}",
        "{kind: gaussian, params: {dim: 3, cov: 1, n: 64, seed: 2}}",
    );
    refused(
        misfit(&gaussian, MLP),
        "error: misfit.yaml:9:7: stages.train.params: the cost compares x and T(x, z): source items [2] and target items [3] must have the same size",
    );
    let blurred = format!(
        "{toys}  b: {{kind: transform, inputs: {{data: x}}, params: {{ops: [{{op: noise, std: 0.1}}, {{op: blur, kernel: 3, sigma: 1}}]}}}}\n"
    );
    refused(
        misfit(&blurred, MLP),
        "error: misfit.yaml:5:81: stages.b.params.ops[1]: this op needs images [c, h, w], the data has items [2]",
    );
    let resized = format!(
        "{toys}  b: {{kind: transform, inputs: {{data: x}}, params: {{on_load: [{{op: nearest, size: [4, 4]}}]}}}}\n"
    );
    refused(
        misfit(&resized, MLP),
        "error: misfit.yaml:5:61: stages.b.params.on_load: on_load nearest needs images, the data has items [2]",
    );

    // A point file's shape is known once it is read.
    p.file("points.csv", &"0.5,1.5\n".repeat(16));
    p.file(
        "misfit.yaml",
        &misfit(
            &toys.replace(
                "{kind: toy2d, params: {distribution: {kind: moons, noise: 0.05}, n: 64, seed: 1}}",
                "{kind: point_cloud, inputs: {file: {path: points.csv}}}",
            ),
            CNN,
        ),
    );
    let run = p.nrun(&["misfit.yaml"]).code(2);
    assert!(
        run.stdout.contains("misfit.yaml:5:3: stages.train: cnn_t needs images [c, h, w], the data has items of shape [2]"),
        "stdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
    let statuses = p.statuses("misfit");
    assert!(
        statuses
            .iter()
            .any(|(stage, _, status)| stage == "train" && status == "failed"),
        "{statuses:?}"
    );
}

/// A published report names the run that published it, with its timeline
/// when it built anything. A run that finds its own report already
/// published leaves it as it is; one that takes another report from the
/// cache publishes it with its own facts.
#[test]
fn a_published_report_names_the_run_that_published_it() {
    let p = Project::new();
    p.file("facts.yaml", FACTS);
    p.nrun(&["facts.yaml"]).ok();
    let md = p.read("results/facts/report/report.md");
    assert!(md.contains("```\nnrun facts.yaml\n```"), "{md}");
    assert!(
        md.contains("![Where this run's time went: ")
            && md.contains(" s wall, 5 instances built: 0.000 CPU-hours, 0.000 GPU-slot-hours.")
            && md.contains("(figures/timeline.png)"),
        "{md}"
    );
    assert!(
        p.path()
            .join("results/facts/report/figures/timeline.png")
            .is_file()
    );
    assert!(!p.path().join("results/facts/report/.timeline").exists());

    p.nrun(&["facts.yaml", "-q", "-j", "1"]).ok();
    assert_eq!(
        p.statuses("facts").iter().filter(|s| s.2 == "ran").count(),
        0,
        "all cached"
    );
    assert_eq!(
        p.read("results/facts/report/report.md"),
        md,
        "a run that changed nothing leaves the report as it was"
    );

    p.nrun(&["facts.yaml", "-q", "--set", "q.seed=3"]).ok();
    assert!(
        p.read("results/facts/report/report.md")
            .contains("nrun facts.yaml -q --set q.seed=3")
    );
    p.nrun(&["facts.yaml", "-q", "-j", "1"]).ok();
    assert_eq!(
        p.statuses("facts").iter().filter(|s| s.2 == "ran").count(),
        0,
        "all cached"
    );
    let md = p.read("results/facts/report/report.md");
    assert!(md.contains("```\nnrun facts.yaml -q -j 1\n```"), "{md}");
    assert!(!md.contains("time went"), "it built nothing: {md}");
    assert!(
        p.read("results/facts/report/report.html")
            .contains("nrun facts.yaml -q -j 1")
    );
    assert!(
        p.read("results/facts/report/document.json")
            .contains("nrun facts.yaml -q -j 1")
    );
}

/// A run at a smaller scale publishes beside a larger-scale report, which
/// it leaves as it was, and says where its own went.
#[test]
fn a_smaller_scale_never_replaces_a_larger_scale_report() {
    let p = Project::new();
    p.file(
        "facts.yaml",
        &FACTS
            .replace(
                "stages:",
                "params: {n: 16}\nscales:\n  smoke: {n: 8}\n  full: {}\nstages:",
            )
            .replace("n: 16, seed: 1", "n: \"${n}\", seed: 1"),
    );
    p.nrun(&["facts.yaml", "--scale", "full", "-q"]).ok();
    let full = p.read("results/facts/report/report.md");
    assert!(full.contains("**scale:** full"), "{full}");
    // A report whose provenance file is gone (published by an older nrun,
    // say) is known by the scale its run facts state.
    std::fs::remove_file(p.path().join("results/facts/report/.nrun-published.json")).unwrap();

    let run = p.nrun(&["facts.yaml", "-q"]).ok();
    assert_eq!(
        run.stdout.lines().last(),
        Some(
            "results/facts/report holds a full-scale copy, kept: this smoke-scale run published to results/facts/report-smoke"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(p.read("results/facts/report/report.md"), full);
    let smoke = p.read("results/facts/report-smoke/report.md");
    assert!(smoke.contains("**scale:** smoke"), "{smoke}");
    let again = p.nrun(&["facts.yaml", "-q"]).ok();
    assert!(
        !again.stdout.contains("kept"),
        "nothing published, nothing to say: {}",
        again.stdout
    );

    // Its entry unknown, the full-scale run publishes it once more, and
    // from then on leaves it.
    p.nrun(&["facts.yaml", "--scale", "full", "-q", "-j", "1"])
        .ok();
    let full = p.read("results/facts/report/report.md");
    assert!(full.contains("--scale full -q -j 1"), "{full}");
    p.nrun(&["facts.yaml", "--scale", "full", "-q", "-j", "2"])
        .ok();
    assert_eq!(p.read("results/facts/report/report.md"), full, "cached");
    p.nrun(&["facts.yaml", "--scale", "full", "-q", "--set", "q.seed=3"])
        .ok();
    assert!(
        p.read("results/facts/report/report.md")
            .contains("--set q.seed=3"),
        "a full-scale run replaces a full-scale report"
    );
    assert_eq!(p.read("results/facts/report-smoke/report.md"), smoke);
}

/// A copy for all cells never replaces larger-scale copies of its cells.
#[test]
fn a_smaller_scale_keeps_the_larger_scale_copies_of_cells() {
    let p = Project::new();
    p.file(
        "cells.yaml",
        &FACTS
            .replace(
                "stages:",
                "scales:\n  smoke: {seed: 1}\n  full: {grid: {seed: [1, 2]}}\nstages:",
            )
            .replace("n: 16, seed: 1", "n: 16, seed: \"${seed}\""),
    );
    p.nrun(&["cells.yaml", "--scale", "full", "-q"]).ok();
    let cell = p.read("results/facts/report/seed=2/report.md");
    let run = p.nrun(&["cells.yaml", "-q"]).ok();
    assert!(
        run.stdout.contains(
            "results/facts/report holds a full-scale copy, kept: this smoke-scale run published to results/facts/report-smoke\n"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(p.read("results/facts/report/seed=2/report.md"), cell);
    assert!(
        p.read("results/facts/report-smoke/report.md")
            .contains("**scale:** smoke")
    );
}

/// A bad value that the command line gave is blamed on the argument that
/// gave it; one the file gave, on its place there, with the value.
#[test]
fn a_bad_value_is_blamed_where_it_was_written() {
    let p = Project::new();
    p.file(
        "facts.yaml",
        &FACTS
            .replace("stages:", "params: {n: 16}\nstages:")
            .replace("n: 16, seed: 1", "n: \"${n}\", seed: 1"),
    );
    let not_a_count = "invalid type: string \"abc\", expected a whole number, 0 or more";
    for (args, error) in [
        (
            &["--set", "n=abc"][..],
            format!("command line `--set n=abc`: stages.p.params.n: {not_a_count}"),
        ),
        (
            &["--grid", "n=8,abc"],
            format!("command line `--grid n=8,abc`: stages.p.params.n: {not_a_count}"),
        ),
        (
            &["--set", "q.n=abc"],
            format!("command line `--set q.n=abc`: stages.q.params.n: {not_a_count}"),
        ),
    ] {
        let mut all = vec!["facts.yaml", "--dry-run"];
        all.extend(args);
        let run = p.nrun(&all).code(2);
        assert_eq!(run.stderr, format!("error: {error}\n"), "{args:?}");
    }
    // A value made of the command line's and the file's is the file's to explain.
    p.file(
        "mixed.yaml",
        &FACTS
            .replace("stages:", "params: {n: 16, m: abc}\nstages:")
            .replace("n: 16, seed: 1", "n: \"${n + m}\", seed: 1"),
    );
    let run = p.nrun(&["mixed.yaml", "--dry-run", "--set", "n=8"]).code(2);
    assert!(
        run.stderr
            .starts_with("error: mixed.yaml:5:51: stages.p.params")
            && run.stderr.trim_end().ends_with("(here n = 8, m = \"abc\")"),
        "{}",
        run.stderr
    );
    p.file(
        "facts.yaml",
        &p.read("facts.yaml")
            .replace("params: {n: 16}", "params: {n: abc}"),
    );
    let run = p.nrun(&["facts.yaml", "--dry-run"]).code(2);
    assert_eq!(
        run.stderr,
        format!("error: facts.yaml:5:51: stages.p.params.n: {not_a_count} (here n = \"abc\")\n")
    );
}

const FACTS: &str = r#"
name: facts
stages:
  p: {kind: gaussian, params: {dim: 2, cov: 1, n: 16, seed: 1}}
  q: {kind: gaussian, params: {dim: 2, mean: 1, cov: 1, n: 16, seed: 2}}
  shift: {kind: mean_shift, inputs: {data: p, source: p, target: q}}
  scores: {kind: metric, inputs: {samples: shift, source: p, target: q}, params: {metrics: [l2_uvp]}}
  page:
    kind: report
    inputs: {scores: scores}
    publish: report
    params: {title: Facts, sections: [{heading: Scores, inputs: [scores]}]}
"#;
