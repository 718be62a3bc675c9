//! End-to-end tests of the engine through the real binary, on pipelines of
//! `command` stages.

mod common;

use std::time::{Duration, Instant};

use common::Project;

/// data (1) -> train (cost x gamma) -> score (cost x gamma) -> table (per cost, aggregates gamma)
const GRID: &str = r#"
name: grid
description: A grid of command stages
params:
  grid:
    cost: [q, k]
    gamma: [0, 0.5]
stages:
  data:
    kind: command
    params:
      run: "echo data >> runs.log; echo 1 > {out}/x"
  train:
    kind: command
    inputs: {data: data}
    params:
      run: "echo train-${cost}-${gamma} >> runs.log; cat {in.data}/x > {out}/m; echo ${cost} ${gamma} >> {out}/m"
  score:
    kind: command
    inputs: {model: train}
    params:
      run: "echo score-${cost}-${gamma} >> runs.log; wc -l < {in.model}/m > {out}/s"
  table:
    kind: command
    inputs: {scores: score, models: train}
    aggregate: [gamma]
    params:
      run: "echo table-${cost} >> runs.log; for d in {in.models}; do cat $d/m; done > {out}/t"
targets:
  models: [train]
"#;

fn project() -> Project {
    let p = Project::new();
    p.file("pipelines/grid.yaml", GRID);
    p
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn first_run_executes_everything_second_nothing() {
    let p = project();
    p.nrun(&["pipelines/grid.yaml"]).ok();
    assert_eq!(p.lines("runs.log").len(), 1 + 4 + 4 + 2);
    assert!(p.statuses("grid").iter().all(|(_, _, s)| s == "ran"));
    assert_eq!(p.read("results/grid/table/cost=k/t"), "1\nk 0\n1\nk 0.5\n");

    p.clear("runs.log");
    let run = p.nrun(&["pipelines/grid.yaml"]).ok();
    assert!(
        p.lines("runs.log").is_empty(),
        "nothing reruns: {:?}",
        p.lines("runs.log")
    );
    assert!(p.statuses("grid").iter().all(|(_, _, s)| s == "cached"));
    assert!(run.stdout.contains("0 ran, 11 cached"), "{}", run.stdout);
}

#[test]
fn a_pipeline_name_finds_the_file_under_pipelines() {
    let p = project();
    p.nrun(&["grid", "--target", "data"]).ok();
    assert_eq!(p.lines("runs.log"), vec!["data"]);
}

#[test]
fn changing_one_grid_value_reruns_exactly_the_affected_instances() {
    let p = project();
    p.nrun(&["pipelines/grid.yaml"]).ok();
    p.clear("runs.log");
    p.file(
        "pipelines/grid.yaml",
        &GRID.replace("gamma: [0, 0.5]", "gamma: [0, 1]"),
    );
    p.nrun(&["pipelines/grid.yaml"]).ok();
    assert_eq!(
        sorted(p.lines("runs.log")),
        vec![
            "score-k-1",
            "score-q-1",
            "table-k",
            "table-q",
            "train-k-1",
            "train-q-1"
        ]
    );
}

#[test]
fn grid_flag_adds_cells_and_reuses_cached_ones() {
    let p = project();
    p.nrun(&["pipelines/grid.yaml"]).ok();
    p.clear("runs.log");
    p.nrun(&["pipelines/grid.yaml", "--grid", "gamma=0,0.5,1"])
        .ok();
    assert_eq!(
        sorted(p.lines("runs.log")),
        vec![
            "score-k-1",
            "score-q-1",
            "table-k",
            "table-q",
            "train-k-1",
            "train-q-1"
        ]
    );
    // A second axis value list multiplies: seeds x the rest.
    p.clear("runs.log");
    p.nrun(&[
        "pipelines/grid.yaml",
        "--grid",
        "cost=q",
        "--grid",
        "gamma=0",
    ])
    .ok();
    assert_eq!(
        p.lines("runs.log"),
        vec!["table-q"],
        "only the table over fewer gammas is new"
    );
}

#[test]
fn set_overrides_a_param_and_status_explains_it() {
    let p = project();
    p.file(
        "pipelines/grid.yaml",
        &GRID
            .replace(
                "params:\n  grid:",
                "params:\n  train:\n    lr: 0.1\n  grid:",
            )
            .replace(
                "echo train-${cost}-${gamma} >> runs.log;",
                "echo train-${cost}-${gamma}-${train.lr * 10} >> runs.log;",
            ),
    );
    p.nrun(&["pipelines/grid.yaml", "--target", "models"]).ok();
    assert_eq!(p.lines("runs.log").len(), 5, "data and four trainings");
    let status = p
        .nrun(&["status", "pipelines/grid.yaml", "--set", "train.lr=0.2"])
        .ok();
    assert!(
        status.stdout.contains("will run: param changed: run"),
        "{}",
        status.stdout
    );
    p.clear("runs.log");
    p.nrun(&[
        "pipelines/grid.yaml",
        "--set",
        "train.lr=0.2",
        "--target",
        "models",
    ])
    .ok();
    assert!(
        p.lines("runs.log").contains(&"train-q-0-2".to_string()),
        "{:?}",
        p.lines("runs.log")
    );
    // A stage's own param can be set too.
    p.clear("runs.log");
    p.nrun(&[
        "pipelines/grid.yaml",
        "--set",
        "data.run=echo other >> runs.log",
        "--target",
        "data",
    ])
    .ok();
    assert_eq!(p.lines("runs.log"), vec!["other"]);
}

#[test]
fn status_says_why_each_instance_will_run() {
    let p = project();
    p.file("data.txt", "v1");
    let with_file = GRID.replace(
        "  data:\n    kind: command\n",
        "  data:\n    kind: command\n    inputs: {raw: {path: data.txt}}\n",
    );
    p.file("pipelines/grid.yaml", &with_file);
    p.nrun(&["pipelines/grid.yaml"]).ok();
    let status = p.nrun(&["status", "pipelines/grid.yaml"]).ok();
    assert!(
        status.stdout.contains("11 instances: 11 cached, 0 to run"),
        "{}",
        status.stdout
    );

    p.file("data.txt", "v2");
    let status = p.nrun(&["status", "pipelines/grid.yaml", "--json"]).ok();
    let rows = status.json_rows();
    let data = rows.iter().find(|r| r["stage"] == "data").unwrap();
    assert_eq!(data["reasons"][0], "input changed: raw");
    let train = rows.iter().find(|r| r["stage"] == "train").unwrap();
    assert_eq!(train["reasons"][0], "input changed: data");
    assert_eq!(train["key"].as_str().unwrap().len(), 12);

    let status = p
        .nrun(&["status", "pipelines/grid.yaml", "--grid", "gamma=0,2"])
        .ok();
    assert!(
        status.stdout.contains("gamma=2") && status.stdout.contains("will run: new"),
        "{}",
        status.stdout
    );
}

#[test]
fn dry_run_runs_nothing() {
    let p = project();
    let run = p.nrun(&["pipelines/grid.yaml", "--dry-run"]).ok();
    assert!(run.stdout.contains("0 cached, 11 to run"), "{}", run.stdout);
    assert!(p.lines("runs.log").is_empty());
    assert!(p.cache_entries().is_empty());
}

#[test]
fn targets_run_only_what_they_need() {
    let p = project();
    p.nrun(&["pipelines/grid.yaml", "--target", "models"]).ok();
    assert_eq!(p.lines("runs.log").len(), 5);
    let bad = p.nrun(&["pipelines/grid.yaml", "--target", "nope"]).code(2);
    assert!(bad.stderr.contains("--target nope"), "{}", bad.stderr);
}

#[test]
fn a_targeted_cell_runs_that_cell_and_what_it_reads_alone() {
    let p = project();
    p.nrun(&[
        "pipelines/grid.yaml",
        "--target",
        "score[cost=k gamma=0.50]",
    ])
    .ok();
    assert_eq!(
        p.lines("runs.log"),
        vec!["data", "train-k-0.5", "score-k-0.5"]
    );
    // Targets add up; a cell may name some axes only; a named target's
    // stages take cells too.
    p.clear("runs.log");
    let status = p
        .nrun(&[
            "status",
            "pipelines/grid.yaml",
            "--json",
            "--target",
            "models[cost=q]",
            "--target",
            "score[gamma=0,cost=k]",
        ])
        .ok();
    let rows: Vec<String> = status
        .json_rows()
        .iter()
        .map(|r| format!("{} {} {}", r["stage"], r["cell"], r["state"]))
        .collect();
    assert_eq!(
        rows,
        vec![
            r#""data" {} "cached""#,
            r#""train" {"cost":"q","gamma":0} "will run""#,
            r#""train" {"cost":"q","gamma":0.5} "will run""#,
            r#""train" {"cost":"k","gamma":0} "will run""#,
            r#""score" {"cost":"k","gamma":0} "will run""#,
        ]
    );
    p.nrun(&[
        "pipelines/grid.yaml",
        "--target",
        "models[cost=q]",
        "--target",
        "score[gamma=0,cost=k]",
    ])
    .ok();
    assert_eq!(
        sorted(p.lines("runs.log")),
        vec!["score-k-0", "train-k-0", "train-q-0", "train-q-0.5"]
    );
    // A value with a space in it, quoted.
    p.clear("runs.log");
    p.nrun(&[
        "pipelines/grid.yaml",
        "--grid",
        "cost=k,two words",
        "--target",
        "score[cost='two words' gamma=0]",
    ])
    .ok();
    assert_eq!(
        p.lines("runs.log"),
        vec!["train-two words-0", "score-two words-0"]
    );
    // What an aggregating stage varies over is what it keeps.
    p.clear("runs.log");
    p.nrun(&["pipelines/grid.yaml", "--target", "table[cost=q]"])
        .ok();
    assert_eq!(
        sorted(p.lines("runs.log")),
        vec!["score-q-0", "score-q-0.5", "table-q"]
    );
}

#[test]
fn a_cell_no_instance_has_is_an_error_that_says_what_there_is() {
    let p = project();
    for (target, message) in [
        (
            "score[gama=0]",
            "--target score[gama=0]: score does not vary over `gama`; did you mean `gamma`?",
        ),
        (
            "score[cost=quadratic]",
            "--target score[cost=quadratic]: no cell of score takes cost=quadratic (it takes: `k`, `q`)",
        ),
        (
            "table[gamma=0]",
            "--target table[gamma=0]: table does not vary over `gamma` (it varies over: `cost`)",
        ),
        (
            "score[gamma=2]",
            "--target score[gamma=2]: no cell of score takes gamma=2 (it takes: `0`, `0.5`)",
        ),
        (
            "data[cost=q]",
            "--target data[cost=q]: data does not vary over `cost` (it has one instance, of no cell)",
        ),
        (
            "score[cost]",
            "--target `score[cost]`: expected NAME or NAME[PARAM=VALUE ...], e.g. train[gamma=0.5 seed=1]",
        ),
    ] {
        let bad = p.nrun(&["pipelines/grid.yaml", "--target", target]).code(2);
        assert_eq!(
            bad.stderr.trim_end(),
            format!("error: {message}"),
            "{target}"
        );
    }
    assert!(p.cache_entries().is_empty(), "nothing ran");
}

const FAILING: &str = r#"
name: failing
params:
  grid:
    branch: [good, bad]
stages:
  work:
    kind: command
    params:
      run: "echo work-${branch} >> runs.log; test ${branch} = good; echo ok > {out}/r"
  after:
    kind: command
    inputs: {w: work}
    params:
      run: "echo after-${branch} >> runs.log; cp {in.w}/r {out}/r"
  final:
    kind: command
    inputs: {a: after}
    aggregate: all
    params:
      run: "echo final >> runs.log; touch {out}/done"
"#;

#[test]
fn a_failing_stage_exits_1_and_skips_its_dependents() {
    let p = Project::new();
    p.file("f.yaml", FAILING);
    let run = p.nrun(&["f.yaml", "--keep-going", "-j", "1"]).code(1);
    assert!(
        run.stderr
            .contains("failed: work[branch=bad]: command failed with exit code 1"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("log: "), "{}", run.stderr);
    let statuses = p.statuses("failing");
    let get = |stage: &str, cell: &str| {
        statuses
            .iter()
            .find(|(s, c, _)| s == stage && c.contains(cell))
            .map(|(_, _, st)| st.clone())
            .unwrap()
    };
    assert_eq!(get("work", "bad"), "failed");
    assert_eq!(get("after", "bad"), "skipped");
    assert_eq!(get("final", "{}"), "skipped");
    assert_eq!(
        get("after", "good"),
        "ran",
        "--keep-going continues other branches"
    );
    assert!(!p.lines("runs.log").contains(&"after-bad".to_string()));
    // The failure's log is kept and named in last-run.json.
    let last = p.last_run("failing");
    let failed = last["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["status"] == "failed")
        .unwrap();
    let log = std::fs::read_to_string(failed["log"].as_str().unwrap()).unwrap();
    assert!(log.contains("work-bad"), "{log}");
}

#[test]
fn what_reads_finished_work_starts_before_new_work() {
    // With one token, `b` (ready from the start) waits until `a`'s reader
    // ran: under a time limit a finished training's samples and scores come
    // before the next training.
    let p = Project::new();
    p.file(
        "order.yaml",
        "name: order\nstages:\n  a:\n    kind: command\n    params: {run: 'echo a >> runs.log'}\n  b:\n    kind: command\n    params: {run: 'echo b >> runs.log'}\n  after_a:\n    kind: command\n    inputs: {a: a}\n    params: {run: 'echo after_a >> runs.log'}\n",
    );
    p.nrun(&["order.yaml", "-j", "1"]).ok();
    assert_eq!(p.lines("runs.log"), vec!["a", "after_a", "b"]);
}

#[test]
fn without_keep_going_no_new_work_starts_after_a_failure() {
    let p = Project::new();
    // `bad` sorts first in the grid, so with -j 1 it runs first.
    p.file("f.yaml", &FAILING.replace("[good, bad]", "[bad, good]"));
    p.nrun(&["f.yaml", "-j", "1"]).code(1);
    assert_eq!(p.lines("runs.log"), vec!["work-bad"]);
    let statuses = p.statuses("failing");
    assert!(
        statuses.iter().filter(|(_, _, s)| s == "skipped").count() >= 3,
        "{statuses:?}"
    );
}

/// (pipeline text, expected `file:line:col` prefix, expected words)
const INVALID: &[(&str, &str, &str)] = &[
    (
        "name: x\nstages:\n  a:\n    kind: command\n    params: {run: 'true'}\n    colour: red\n",
        "x.yaml:6:5",
        "unknown key `colour`",
    ),
    (
        "name: x\nstages:\n  a:\n    kind: comand\n",
        "x.yaml:4:11",
        "unknown stage kind `comand`",
    ),
    (
        "name: x\nstages:\n  a:\n    kind: command\n    params: {run: 'true'}\n    inputs: {d: nothere}\n",
        "x.yaml:6:17",
        "no stage named `nothere`",
    ),
    (
        "name: x\nstages:\n  a:\n    kind: command\n    inputs: {x: b}\n    params: {run: 'true'}\n  b:\n    kind: command\n    inputs: {y: a}\n    params: {run: 'true'}\n",
        "x.yaml:5:14",
        "dependency cycle: a -> b -> a",
    ),
    (
        "name: x\nstages:\n  a:\n    kind: command\n    params: {run: 42}\n",
        "x.yaml:5:19",
        "stages.a.params.run: invalid type",
    ),
    (
        "name: x\nparams: {gamma: 1}\nstages:\n  a:\n    kind: command\n    params: {run: 'echo ${gama}'}\n",
        "x.yaml:6:19",
        "unknown param `${gama}`",
    ),
    (
        "name: x\nparams:\n  grid:\n    gamma: 0.5\nstages: {}\n",
        "x.yaml:4:12",
        "a grid axis is a list of values",
    ),
    ("name: x\nstages:\n  a: [1, 2\n", "x.yaml:", "invalid YAML"),
    ("stages: {}\n", "x.yaml:1:1", "missing required key `name`"),
    (
        "name: x\nstages:\n  a:\n    kind: command\n    params: {run: 'true'}\n  b:\n    kind: command\n    inputs: {data: a}\n    params: {run: 'cat {in.dat}/x'}\n",
        "x.yaml:9:",
        "stages.b.params.run: `{in.dat}` names no input of this stage (inputs: data)",
    ),
    (
        "name: x\nstages:\n  a:\n    kind: command\n    params: {run: 'true'}\n  r:\n    kind: report\n    inputs: {a: a}\n    params: {title: t, sections: [{heading: h, inputs: [a, b]}]}\n",
        "x.yaml:9:",
        "stages.r.params.sections[0].inputs[1]: `b` is not an input of this stage (inputs: a)",
    ),
    (
        "name: x\nstages:\n  d:\n    kind: idx\n    inputs: {images: {path: x.yaml}}\n    params: {select: {labels: [2]}}\n",
        "x.yaml:6:",
        "stages.d.params.select.labels: selecting by label needs the `labels` input (the IDX labels file)",
    ),
    (
        "name: x\nstages:\n  a:\n    kind: command\n  params: {run: 'date > {out}/d'}\n",
        "x.yaml:5:3",
        "stages.params: `params` is a key of a stage, not a stage (it has no `kind`): indent it under stage `a`",
    ),
    (
        "name: x\nstages:\n  a:\n    kind: command\n    params: {run: 'date > {outt}/d'}\n",
        "x.yaml:5:",
        "stages.a.params.run: `{outt}` is not a placeholder (`{out}`, `{work}`, `{in.NAME}`); did you mean `{out}`?",
    ),
    (
        "name: x\nstages:\n  a:\n    kind: command\n    params: {run: 'true', shell: bash}\n",
        "x.yaml:5:",
        "unknown field `shell`",
    ),
    (
        "name: x\nstages:\n  a:\n    kind: command\n    params: {run: 'true'}\n    resources: {gpu: many}\n",
        "x.yaml:6:22",
        "expected a non-negative integer",
    ),
    (
        "name: x\nstages:\n  a:\n    kind: command\n    params: {run: 'true'}\n  t:\n    kind: table\n    inputs: {m: a}\n    params: {metric: psnr, rows: cost, columns: gamma, baselines: {nope: input}}\n",
        "x.yaml:9:",
        "stages.t.params.baselines.nope: `nope` is not an input of this stage (inputs: m)",
    ),
    (
        "name: x\nstages:\n  a:\n    kind: command\n    params: {run: 'true'}\n  t:\n    kind: table\n    inputs: {m: a}\n    params: {metric: psnr, rows: cost, columns: gamma, baselines: {m: input}}\n",
        "x.yaml:9:",
        "every input is a baseline",
    ),
    (
        "name: x\nstages:\n  a:\n    kind: command\n    inputs: {f: {path: missing.bin}}\n    params: {run: 'true'}\n",
        "x.yaml:5:24",
        "no such file or folder: missing.bin",
    ),
    (
        "name: x\nstages:\n  x: {kind: toy2d, params: {distribution: {kind: moons, noise: 0.1}, n: 8}}\n  t: {kind: train, inputs: {source: x, target: x}, params: {cost: {kind: strong_quadratic}, gamma: 0, iterations: 1, z: {count: 1, channels: 0}}}\n  s:\n    kind: metric\n    inputs: {samples: t, target: x}\n    params: {metrics: [energy]}\n",
        "x.yaml:7:14",
        "stages.s.inputs.samples: takes samples (mapped items), the output of a `sample`, `inverse_map`, `identity_map` or `mean_shift` stage; `t` is a `train` stage, which gives a trained model",
    ),
    (
        "name: x\nparams:\n  grid:\n    seed: [1, 2]\nstages:\n  x: {kind: toy2d, params: {distribution: {kind: moons, noise: 0.1}, n: 8, seed: '${seed}'}}\n  i: {kind: identity_map, inputs: {data: x}}\n  m: {kind: metric, inputs: {samples: i, target: x}, params: {metrics: [energy], tag: {map: identity}}}\n  t:\n    kind: table\n    inputs: {m: m}\n    params: {metric: energy, rows: sed, columns: map}\n",
        "x.yaml:12:",
        "stages.t.params.rows: `sed` is not a param of this stage's inputs; did you mean `seed`?",
    ),
    (
        "name: x\nparams:\n  grid:\n    seed: [1, 2]\nstages:\n  x: {kind: toy2d, params: {distribution: {kind: moons, noise: 0.1}, n: 8, seed: '${seed}'}}\n  i: {kind: identity_map, inputs: {data: x}}\n  m: {kind: metric, inputs: {samples: i, target: x}, params: {metrics: [energy], tag: {map: identity}}}\n  t:\n    kind: table\n    inputs: {m: m}\n    params: {metric: energy, rows: map, columns: metric, average_over: [seed, run]}\n",
        "x.yaml:12:",
        "stages.t.params.average_over[1]: `run` is not a param of this stage's inputs (they have: `map`, `seed`)",
    ),
    (
        "name: x\nparams:\n  grid:\n    seed: [1, 2]\nstages:\n  x: {kind: toy2d, params: {distribution: {kind: moons, noise: 0.1}, n: 8, seed: '${seed}'}}\n  i: {kind: identity_map, inputs: {data: x}}\n  m: {kind: metric, inputs: {samples: i, target: x}, params: {metrics: [energy], tag: {map: identity}}}\n  f:\n    kind: plot\n    inputs: {data: m}\n    params: {title: t, figure: {kind: metric_vs, metric: energy, x: seed, series: mpa}}\n",
        "x.yaml:12:",
        "stages.f.params.figure.series: `mpa` is not a param of this stage's inputs; did you mean `map`?",
    ),
    (
        "name: x\nparams:\n  grid:\n    seed: [1, 2]\nstages:\n  x: {kind: toy2d, params: {distribution: {kind: moons, noise: 0.1}, n: 8, seed: '${seed}'}}\n  i: {kind: identity_map, inputs: {data: x}}\n  m: {kind: metric, inputs: {samples: i, target: x}, params: {metrics: [energy]}}\n  f:\n    kind: plot\n    inputs: {data: m}\n    params: {title: t, figure: {kind: metric_vs, metric: enrgy, x: seed}}\n",
        "x.yaml:12:",
        "stages.f.params.figure.metric: no input computes metric `enrgy`; did you mean `energy`?",
    ),
    (
        "name: x\nparams:\n  grid:\n    seed: [1, 2]\nstages:\n  x: {kind: toy2d, params: {distribution: {kind: moons, noise: 0.1}, n: 8, seed: '${seed}'}}\n  i: {kind: identity_map, inputs: {data: x}}\n  m: {kind: metric, inputs: {samples: i, target: x}, params: {metrics: [energy, mmd]}}\n  t:\n    kind: table\n    inputs: {m: m}\n    params: {metric: psnr, rows: seed, columns: metric}\n",
        "x.yaml:12:",
        "stages.t.params.metric: no input computes metric `psnr` (they compute: `energy`, `mmd`)",
    ),
    (
        "name: x\nparams:\n  grid:\n    seed: [1, 2]\nstages:\n  x: {kind: toy2d, params: {distribution: {kind: moons, noise: 0.1}, n: 8, seed: '${seed}'}}\n  i: {kind: identity_map, inputs: {data: x}}\n  m: {kind: metric, inputs: {samples: i, target: x}, params: {metrics: [energy]}}\n  t:\n    kind: table\n    inputs: {m: m, b: m}\n    params: {metric: energy, rows: metric, columns: seed, baselines: {b: identity}}\n",
        "x.yaml:12:",
        "stages.t.params.baselines.b: `b` varies over `seed`, the table's columns: a baseline is one value for every column; bind it as an ordinary input",
    ),
    (
        "name: x\nstages:\n  x: {kind: toy2d, params: {distribution: {kind: moons, noise: 0.1}, n: 8}}\n  i: {kind: identity_map, inputs: {data: x}}\n  f:\n    kind: plot\n    inputs: {data: i}\n    params: {title: t, figure: {kind: trace}}\n",
        "x.yaml:8:",
        "stages.f.params.figure.kind: a `trace` figure draws a trained model (stages of kind train); its `data` input gives samples (mapped items)",
    ),
    (
        "name: x\nparams:\n  grid:\n    seed: [1, 2]\nstages:\n  a:\n    kind: command\n    only: {seed: [1, 3]}\n    params: {run: 'true'}\n",
        "x.yaml:8:",
        "stages.a.only.seed: 3 is not a value of grid axis `seed` (the file gives it 1, 2)",
    ),
];

#[test]
fn every_validation_error_exits_2_with_file_line_and_column() {
    for (yaml, location, words) in INVALID {
        let p = Project::new();
        p.file("x.yaml", yaml);
        let run = p.nrun(&["x.yaml"]);
        assert_eq!(run.code, 2, "{yaml}\n{}", run.stderr);
        assert!(
            run.stderr.contains(location) && run.stderr.contains(words),
            "for\n{yaml}\nexpected `{location}` and `{words}` in:\n{}",
            run.stderr
        );
        assert!(p.cache_entries().is_empty(), "nothing ran");
    }
}

/// What only the inputs tell (a metric no row has) is still the
/// pipeline's mistake: exit 2 at the stage; a failing command is a
/// failure: exit 1.
#[test]
fn misfits_found_at_run_time_exit_2_and_failures_1() {
    let p = Project::new();
    let pipeline = "name: x\nstages:\n  a:\n    kind: command\n    params: {run: 'printf \"metric,value,std,n\\nloss,1,,1\\n\" > {out}/metrics.csv'}\n  t:\n    kind: table\n    inputs: {m: a}\n    params: {metric: los, rows: metric, columns: metric2}\n";
    p.file("x.yaml", pipeline);
    let run = p.nrun(&["x.yaml", "-q"]).code(2);
    assert!(
        run.stderr
            .contains("x.yaml:6:3: stages.t: no rows of metric `los` (metrics present: loss)"),
        "stdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
    // A command that wrote no metrics.csv is named, with what it must hold.
    p.file(
        "x.yaml",
        &pipeline.replace("> {out}/metrics.csv", "> {out}/m.csv"),
    );
    let run = p.nrun(&["x.yaml", "-q"]).code(2);
    assert!(
        run.stderr.contains(
            "x.yaml:6:3: stages.t: input `m`: stage `a` wrote no metrics.csv; metric rows are a `metric` stage's, or a metrics.csv a command writes: its cell's params as columns, then metric,value,std,n"
        ),
        "{}",
        run.stderr
    );
    // A metric_vs figure over a param that is not a number.
    let words = "name: x\nparams:\n  grid: {cost: [q, k]}\nstages:\n  a:\n    kind: command\n    params: {run: 'printf \"cost,metric,value,std,n\\n${cost},loss,1,,1\\n\" > {out}/metrics.csv'}\n  f:\n    kind: plot\n    inputs: {data: a}\n    aggregate: all\n    params: {title: t, figure: {kind: metric_vs, metric: loss, x: cost}}\n";
    p.file("w.yaml", words);
    let run = p.nrun(&["w.yaml", "-q"]).code(2);
    assert!(
        run.stderr.contains(
            "w.yaml:8:3: stages.f: figure.x: `cost` takes values that are not numbers (k, q); a metric_vs figure needs a numeric x (make `cost` its `series`, or use a table)"
        ),
        "{}",
        run.stderr
    );
    p.file(
        "x.yaml",
        &pipeline.replace("printf", "echo no such column >&2; exit 3; printf"),
    );
    let run = p.nrun(&["x.yaml", "-q"]).code(1);
    assert!(
        run.stderr
            .contains("command failed with exit code 3: no such column"),
        "stdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn bad_overrides_exit_2_naming_the_argument() {
    let p = project();
    let run = p
        .nrun(&["pipelines/grid.yaml", "--set", "nosuch=1"])
        .code(2);
    assert_eq!(
        run.stderr.trim(),
        "error: command line `--set nosuch=1`: unknown param `nosuch`"
    );
    let run = p.nrun(&["pipelines/grid.yaml", "--grid", "gamma"]).code(2);
    assert!(run.stderr.contains("expected KEY=VALUE"), "{}", run.stderr);
    let run = p.nrun(&["pipelines/grid.yaml", "--scale", "full"]).code(2);
    assert!(
        run.stderr.contains("declares no `scales`"),
        "{}",
        run.stderr
    );
    let run = p
        .nrun(&["pipelines/grid.yaml", "--grid", "gama=0,0.5"])
        .code(2);
    assert_eq!(
        run.stderr.trim(),
        "error: command line `--grid gama=0,0.5`: no stage reads `gama`, so it would change nothing; did you mean `gamma`?"
    );
    p.nrun(&["pipelines/nope.yaml"]).code(2);
    p.nrun(&["pipelines/grid.yaml", "--frobnicate"]).code(2);
    // The argument parser's errors are one line too, with what helps.
    for (args, error) in [
        (
            &["pipelines/grid.yaml", "--dry-runn"][..],
            "unexpected argument '--dry-runn' found; did you mean '--dry-run'?",
        ),
        (
            &["pipelines/grid.yaml", "--time-limit", "-5"],
            "invalid value '-5' for '--time-limit <DURATION>': must be a positive number of seconds",
        ),
        (
            &["pipelines/grid.yaml", "--time-limit", "1h30x"],
            "invalid value '1h30x' for '--time-limit <DURATION>': `1h30x` is not a duration: write seconds, or such as 9m, 1h30m",
        ),
        (
            &["dag", "pipelines/grid.yaml", "--format", "png"],
            "invalid value 'png' for '--format <FORMAT>' (possible values: text, dot)",
        ),
        (
            &["shw", "pipelines/grid.yaml"],
            "`shw` is neither a subcommand nor a pipeline file; did you mean `show`?",
        ),
        (
            &["statu"],
            "no pipeline file statu (nor pipelines/statu.yaml); did you mean `status`?",
        ),
        (
            &["grid", "pipelines/grid.yaml"],
            "the subcommand 'pipelines/grid.yaml' cannot be used with '[PIPELINE]'",
        ),
        (
            &["logs", "score"],
            "`score` is not a pipeline: `nrun logs` takes the pipeline, then the instance (usage: nrun logs <PIPELINE> <INSTANCE>)",
        ),
        (
            &["logs", "grid"],
            "the following required arguments were not provided: <INSTANCE> (usage: nrun logs <PIPELINE> <INSTANCE>)",
        ),
        (
            &["show", "pipelines/grid.yaml", "--timeline", "--sort", "x"],
            "the argument '--timeline' cannot be used with '--sort <METRIC>'",
        ),
        (
            &[
                "pipelines/grid.yaml",
                "--grid",
                "gamma=0,0.5",
                "--set",
                "gamma=1",
            ],
            "command line `--set gamma=1`: `--grid gamma=0,0.5` already sets it",
        ),
        (
            &[
                "pipelines/grid.yaml",
                "--grid",
                "gamma=0",
                "--grid",
                "gamma=1",
            ],
            "command line `--grid gamma=1`: `--grid gamma=0` already sets it: give an axis all its values in one --grid",
        ),
    ] {
        let run = p.nrun(args).code(2);
        assert_eq!(run.stderr, format!("error: {error}\n"), "{args:?}");
    }
    for (flag, bad) in [
        ("--jobs", "0"),
        ("--slots-per-gpu", "0"),
        ("--gpus", "banana"),
        ("--gpus", "0,x"),
    ] {
        let run = p
            .nrun(&["pipelines/grid.yaml", &format!("{flag}={bad}")])
            .code(2);
        assert!(
            run.stderr
                .contains(&format!("invalid value '{bad}' for '{flag}")),
            "{flag} {bad}: {}",
            run.stderr
        );
    }
    if !cfg!(feature = "tch") {
        let run = p
            .nrun(&["pipelines/grid.yaml", "--device", "cuda:0"])
            .code(2);
        assert!(
            run.stderr.contains("built without GPU support"),
            "{}",
            run.stderr
        );
    }
    assert!(p.cache_entries().is_empty(), "nothing ran");
    for bad in ["banana", "0", "-5", "10 parsecs"] {
        let run = p
            .nrun(&["pipelines/grid.yaml", &format!("--time-limit={bad}")])
            .code(2);
        assert!(run.stderr.contains("--time-limit"), "{bad}: {}", run.stderr);
    }
}

#[test]
fn scales_choose_a_preset() {
    let p = Project::new();
    p.file(
        "s.yaml",
        "name: s\nparams: {steps: 1}\nscales:\n  smoke: {steps: 2}\n  full: {steps: 300, grid: {seed: [1, 2]}}\nstages:\n  a:\n    kind: command\n    params: {run: 'echo ${scale}-${steps} >> runs.log'}\n  b:\n    kind: command\n    params: {run: 'echo seed-${seed} >> runs.log'}\n",
    );
    let run = p.nrun(&["s.yaml", "--target", "a"]);
    // `seed` only exists at full scale.
    assert_eq!(run.code, 2, "{}", run.stderr);
    p.nrun(&["s.yaml", "--scale", "full"]).ok();
    assert_eq!(
        sorted(p.lines("runs.log")),
        vec!["full-300", "seed-1", "seed-2"]
    );
}

#[test]
fn without_a_pipeline_nrun_lists_the_pipelines() {
    let p = project();
    let run = p.nrun(&[]).ok();
    assert!(
        run.stdout.contains("pipelines/grid.yaml")
            && run.stdout.contains("A grid of command stages"),
        "{}",
        run.stdout
    );
    p.file("nrun.yaml", "name: here\nstages:\n  a:\n    kind: command\n    params: {run: 'echo here >> runs.log'}\n");
    p.nrun(&[]).ok();
    assert_eq!(p.lines("runs.log"), vec!["here"]);
}

#[test]
fn dag_prints_text_and_dot() {
    let p = project();
    let text = p.nrun(&["dag", "pipelines/grid.yaml"]).ok().stdout;
    assert!(
        text.contains(
            "table [command] x2 over cost (aggregates gamma) <- scores=score, models=train"
        ),
        "{text}"
    );
    let dot = p
        .nrun(&["dag", "pipelines/grid.yaml", "--format", "dot"])
        .ok()
        .stdout;
    assert!(
        dot.starts_with("digraph") && dot.contains("\"train\" -> \"score\""),
        "{dot}"
    );
}

#[test]
fn readable_links_point_at_entries() {
    let p = project();
    p.nrun(&["pipelines/grid.yaml"]).ok();
    let link = p.path().join("results/grid/train/cost=q,gamma=0.5");
    let target = std::fs::read_link(&link).unwrap();
    assert!(target.ends_with("out"));
    let manifest = std::fs::read_to_string(target.parent().unwrap().join("manifest.json")).unwrap();
    assert!(
        manifest.contains("\"path\": \"m\"") && manifest.contains("blake3"),
        "{manifest}"
    );
    assert_eq!(p.read("results/grid/data/_/x"), "1\n");
}

#[test]
fn gc_deletes_only_unreferenced_entries() {
    let p = project();
    p.nrun(&["pipelines/grid.yaml"]).ok();
    // An entry no pipeline references: run a copy under another name, then remove it.
    p.file(
        "other.yaml",
        &GRID
            .replace("name: grid", "name: other")
            .replace("echo 1 >", "echo 2 >"),
    );
    p.nrun(&["other.yaml"]).ok();
    std::fs::remove_dir_all(p.path().join("results/other")).unwrap();
    let before = p.cache_entries().len();
    assert_eq!(before, 22);
    let dry = p.nrun(&["gc", "--dry-run"]).ok();
    assert!(
        dry.stdout.contains("11 unreferenced entries"),
        "{}",
        dry.stdout
    );
    // Each entry it would delete, with the kind of stage that made it.
    let listed: Vec<&str> = dry
        .stdout
        .lines()
        .filter(|l| l.starts_with("would delete "))
        .collect();
    assert_eq!(listed.len(), 11, "{}", dry.stdout);
    assert!(
        listed.iter().all(|l| l.contains(" (command, 0.0 MB)")),
        "{}",
        dry.stdout
    );
    // A pipeline that cannot be planned stops gc before it deletes anything.
    p.file(
        "pipelines/broken.yaml",
        "name: broken\nstages: {a: {kind: nosuch}}\n",
    );
    let refused = p.nrun(&["gc"]).code(2);
    assert!(
        refused
            .stderr
            .starts_with("error: gc deleted nothing: pipelines/broken.yaml does not load (")
            && refused.stderr.lines().count() == 1,
        "{}",
        refused.stderr
    );
    assert_eq!(p.cache_entries().len(), before);
    std::fs::remove_file(p.path().join("pipelines/broken.yaml")).unwrap();
    assert_eq!(p.cache_entries().len(), before);
    p.nrun(&["gc"]).ok();
    assert_eq!(p.cache_entries().len(), 11);
    p.clear("runs.log");
    p.nrun(&["pipelines/grid.yaml"]).ok();
    assert!(p.lines("runs.log").is_empty());
}

const SLOW: &str = r#"
name: slow
params:
  grid:
    i: [1, 2, 3, 4]
stages:
  step:
    kind: command
    params:
      run: "echo start-${i} >> runs.log; sleep 0.4; echo ${i} > {out}/v; echo end-${i} >> runs.log"
  sum:
    kind: command
    inputs: {v: step}
    aggregate: all
    params:
      run: "echo sum >> runs.log; for d in {in.v}; do cat $d/v; done > {out}/all"
"#;

fn wait_for(p: &Project, line: &str) {
    let start = Instant::now();
    while !p.lines("runs.log").iter().any(|l| l == line) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {line}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn no_partial_entries(p: &Project) {
    for entry in p.cache_entries() {
        assert!(
            entry.join("manifest.json").is_file() && entry.join("record.json").is_file(),
            "{entry:?}"
        );
    }
}

#[test]
fn a_killed_run_leaves_a_cache_the_next_run_completes() {
    let p = Project::new();
    p.file("slow.yaml", SLOW);
    let mut child = p.spawn(&["slow.yaml", "-j", "1"]);
    wait_for(&p, "start-2");
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    child.wait().unwrap();
    no_partial_entries(&p);
    let built = p.cache_entries().len();
    assert_eq!(built, 1, "only step 1 finished before the kill");
    p.clear("runs.log");
    p.nrun(&["slow.yaml"]).ok();
    let lines = p.lines("runs.log");
    assert!(
        !lines.contains(&"start-1".to_string()),
        "step 1 is cached: {lines:?}"
    );
    assert!(lines.contains(&"start-2".to_string()) && lines.contains(&"sum".to_string()));
    assert_eq!(p.cache_entries().len(), 5);
}

#[test]
fn an_interrupted_run_exits_130_and_keeps_what_finished() {
    let p = Project::new();
    p.file("slow.yaml", SLOW);
    let mut child = p.spawn(&["slow.yaml", "-j", "1"]);
    wait_for(&p, "start-2");
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    no_partial_entries(&p);
    assert!(
        !p.lines("runs.log").contains(&"end-2".to_string()),
        "the running command was stopped"
    );
    let tmp = std::fs::read_dir(p.path().join("results/.cache/tmp"))
        .unwrap()
        .count();
    assert_eq!(tmp, 0, "no staging folder is left behind");
    p.nrun(&["slow.yaml"]).ok();
    assert!(
        p.statuses("slow")
            .iter()
            .any(|(s, c, st)| s == "step" && c.contains("1") && st == "cached")
    );
}

#[test]
fn two_concurrent_runs_share_a_cache_and_build_each_entry_once() {
    let p = Project::new();
    p.file("slow.yaml", SLOW);
    let a = p.spawn(&["slow.yaml", "-j", "2"]);
    let b = p.spawn(&["slow.yaml", "-j", "2"]);
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    let lines = p.lines("runs.log");
    for i in 1..=4 {
        let starts = lines.iter().filter(|l| **l == format!("start-{i}")).count();
        assert_eq!(starts, 1, "step {i} built once: {lines:?}");
    }
    assert_eq!(lines.iter().filter(|l| *l == "sum").count(), 1, "{lines:?}");
    assert_eq!(p.read("results/slow/sum/_/all"), "1\n2\n3\n4\n");
}

/// `nrun status p.yaml | head -1`: the reader leaves, nrun ends by SIGPIPE
/// as other Unix tools do, without a panic or a backtrace; a run finishes.
#[test]
fn a_closed_stdout_ends_nrun_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let p = project();
    // The reader has left before nrun writes a byte.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = p
        .command(&["status", "pipelines/grid.yaml"])
        .stdout(writer)
        .output()
        .unwrap();
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGPIPE),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A run goes on: its work is worth more than its progress lines.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = p
        .command(&["pipelines/grid.yaml"])
        .stdout(writer)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(p.statuses("grid").len(), 11);
}

/// `only` values are checked against every value the file gives the axis,
/// at any scale; `--grid` choosing the axis's values lifts the check.
#[test]
fn only_values_may_come_from_a_scale_or_be_left_out_by_grid() {
    let p = Project::new();
    p.file(
        "x.yaml",
        "name: x\nparams:\n  grid:\n    seed: [1, 2]\nscales:\n  small: {grid: {seed: [1]}}\n  big: {grid: {seed: [1, 2, 3]}}\nstages:\n  a:\n    kind: command\n    only: {seed: [3]}\n    params: {run: 'echo ${seed} > {out}/s'}\n",
    );
    let status = p.nrun(&["status", "x.yaml"]).ok();
    assert!(status.stdout.contains("0 instances"), "{}", status.stdout);
    p.nrun(&["x.yaml", "--scale", "big"]).ok();
    assert_eq!(p.read("results/x/a/seed=3/s"), "3\n");
    p.file(
        "x.yaml",
        &p.read("x.yaml")
            .replace("[3]}\n    params", "[4]}\n    params"),
    );
    p.nrun(&["status", "x.yaml"]).code(2);
    p.nrun(&["status", "x.yaml", "--grid", "seed=5"]).ok();
}

/// A mistake that holds in every cell is one line, without the cell's
/// values; one whose message differs per cell stays one line per cell.
#[test]
fn a_mistake_in_every_cell_is_reported_once() {
    let p = Project::new();
    p.file(
        "x.yaml",
        "name: x\nparams:\n  grid: {gamma: [0, 1]}\n  k: {a: 1}\nstages:\n  a:\n    kind: command\n    params: {run: 'echo ${gamma} > {out}/v'}\n  b:\n    kind: command\n    inputs: {data: a}\n    params: {run: 'cat {in.dat}/v ${gamma}'}\n  c:\n    kind: command\n    params: {run: 'echo ${k[gamma]}'}\n",
    );
    let run = p.nrun(&["status", "x.yaml"]).code(2);
    assert_eq!(
        run.stderr,
        "error: x.yaml:12:19: stages.b.params.run: `{in.dat}` names no input of this stage (inputs: data)\n\
         x.yaml:15:19: stages.c.params.run: param `k` has no entry `0` (for `gamma`) (here k = {\"a\":1}, gamma = 0)\n\
         x.yaml:15:19: stages.c.params.run: param `k` has no entry `1` (for `gamma`) (here k = {\"a\":1}, gamma = 1)\n"
    );
    // A value every cell shares is the one to blame: it stays.
    p.file(
        "s.yaml",
        "name: s\nparams:\n  n: 0\n  grid: {s: [1, 2]}\nstages:\n  x: {kind: toy2d, params: {distribution: {kind: moons, noise: 0.1}, n: '${n}', seed: '${s}'}}\n",
    );
    let run = p.nrun(&["status", "s.yaml"]).code(2);
    assert_eq!(
        run.stderr,
        "error: s.yaml:6:73: stages.x.params.n: at least 2 points (here n = 0)\n"
    );
    let run = p
        .nrun(&["status", "s.yaml", "--set", "grid.s=[1,2]"])
        .code(2);
    assert!(
        run.stderr
            .ends_with("; set a grid axis's values with `--grid s=1,2`\n"),
        "{}",
        run.stderr
    );
    // Where some cells are fine, the others keep their values.
    p.file(
        "n.yaml",
        "name: n\nparams:\n  grid: {n: [0, 1, 8]}\nstages:\n  x: {kind: toy2d, params: {distribution: {kind: moons, noise: 0.1}, n: '${n}'}}\n",
    );
    let run = p.nrun(&["status", "n.yaml"]).code(2);
    assert_eq!(
        run.stderr,
        "error: n.yaml:5:73: stages.x.params.n: at least 2 points (here n = 0)\n\
         n.yaml:5:73: stages.x.params.n: at least 2 points (here n = 1)\n"
    );
}

/// A mistake in a map whose `${...}` the command line gave (`cost: {kind:
/// "${cost}"}`) is blamed on that argument.
#[test]
fn a_bad_map_made_by_the_command_line_is_blamed_on_the_argument() {
    let p = Project::new();
    p.file(
        "x.yaml",
        "name: x\nparams:\n  grid: {cost: [weak_quadratic], gamma: [0.5, 1]}\nstages:\n  x: {kind: toy2d, params: {distribution: {kind: moons, noise: 0.1}, n: 8}}\n  t: {kind: train, inputs: {source: x, target: x}, params: {cost: {kind: '${cost}'}, gamma: '${gamma}', iterations: 1, batch: 4, z: {count: 2, channels: 2}, t_net: {kind: mlp, hidden: [8]}, f_net: {kind: mlp, hidden: [8]}}}\n",
    );
    let run = p
        .nrun(&["status", "x.yaml", "--grid", "cost=strong_quadratic"])
        .code(2);
    assert_eq!(
        run.stderr,
        "error: command line `--grid cost=strong_quadratic`: stages.t.params.cost: the `strong_quadratic` cost has no gamma: give it gamma 0 (got 0.5; over a gamma axis, `only: {gamma: [0]}` on the stage keeps that cell)\n\
         command line `--grid cost=strong_quadratic`: stages.t.params.cost: the `strong_quadratic` cost has no gamma: give it gamma 0 (got 1; over a gamma axis, `only: {gamma: [0]}` on the stage keeps that cell)\n"
    );
}

/// A copy of a pipeline under the same `name:` shares its results folder:
/// the run that takes it over says so, once.
#[test]
fn a_second_file_of_the_same_name_is_noted() {
    let p = project();
    p.file("variant.yaml", &GRID.replace("echo 1 >", "echo 2 >"));
    p.nrun(&["pipelines/grid.yaml", "-q"]).ok();
    let run = p.nrun(&["variant.yaml", "-q"]).ok();
    assert!(
        run.stderr.contains(
            "note: variant.yaml and pipelines/grid.yaml are both named `grid`: this run's results/grid (last-run.json, links, published copies) replaces the other's; give one its own `name:`"
        ),
        "{}",
        run.stderr
    );
    let again = p.nrun(&["variant.yaml", "-q"]).ok();
    assert!(!again.stderr.contains("note:"), "{}", again.stderr);
}

/// A metric_vs figure whose every cell diverged is drawn empty, saying
/// so, so that the report that shows it is still made.
#[test]
fn a_figure_of_diverged_cells_only_is_still_made() {
    let p = Project::new();
    p.file(
        "d.yaml",
        "name: d\nparams:\n  grid: {gamma: [0, 1]}\nstages:\n  a:\n    kind: command\n    params: {run: 'printf \"gamma,metric,value,std,n,diverged\\n${gamma},loss,1,,1,5\\n\" > {out}/metrics.csv'}\n  f:\n    kind: plot\n    inputs: {data: a}\n    aggregate: all\n    params: {title: Loss, figure: {kind: metric_vs, metric: loss, x: gamma}}\n  r:\n    kind: report\n    inputs: {f: f}\n    publish: report\n    params: {title: R, sections: [{heading: Loss, inputs: [f]}]}\n",
    );
    p.nrun(&["d.yaml", "-q"]).ok();
    let report = p.read("results/d/report/report.md");
    assert!(
        report.contains("Loss (diverged, not drawn: gamma=0 at step 5; gamma=1 at step 5)"),
        "{report}"
    );
    assert!(
        p.path()
            .join("results/d/report/figures/loss_vs_gamma.png")
            .is_file()
    );
}
