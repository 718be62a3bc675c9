//! `nrun show`: the scored cells of a pipeline as one table, through the
//! real binary, on command stages that write metric rows.

mod common;

use common::Project;

const SWEEP: &str = r#"
name: sweep
params:
  offset: 0
  grid:
    lr: [0.1, 0.01]
    seed: [0, 1]
stages:
  score:
    kind: command
    params:
      run: |
        if [ ${lr} = 0.01 ] && [ ${seed} = 1 ]; then echo "lr too small" >&2; exit 3; fi
        awk -v lr=${lr} -v s=${seed} 'BEGIN { printf "lr,seed,metric,value,std,n\n%s,%s,loss,%g,0.5,10\n%s,%s,acc,%g,,1\n", lr, s, lr * 10 + s + ${offset}, lr, s, 1 - lr }' > {out}/metrics.csv
  other:
    kind: command
    params: {run: "echo no scores here > {out}/notes.txt"}
"#;

fn sweep() -> Project {
    let p = Project::new();
    p.file("sweep.yaml", SWEEP);
    p.nrun(&["sweep.yaml", "-q", "--keep-going"]).code(1);
    p
}

/// The text table without its last column, the build times (which vary).
fn shown(p: &Project, args: &[&str]) -> String {
    let mut all = vec!["show", "sweep.yaml"];
    all.extend(args);
    let run = p.nrun(&all).ok();
    let mut lines = run.stdout.lines();
    let summary = lines.next().unwrap_or_default().to_string();
    std::iter::once(summary)
        .chain(lines.map(|line| match line.trim_end().rsplit_once(' ') {
            Some((rest, _time)) => rest.trim_end().to_string(),
            None => line.to_string(),
        }))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn shows_every_scored_cell_with_its_state() {
    let p = sweep();
    assert_eq!(
        shown(&p, &[]),
        "\
sweep: 4 scored cells; all with stage=score
lr    seed             loss     acc  state
0.1   0     1.0000 ± 0.5000  0.9000  cached
0.1   1     2.0000 ± 0.5000  0.9000  cached
0.01  0     0.1000 ± 0.5000  0.9900  cached
0.01  1                   -       -  failed"
    );
}

#[test]
fn sorts_filters_and_picks_metrics() {
    let p = sweep();
    assert_eq!(
        shown(&p, &["--sort", "loss", "--desc", "--metrics", "loss"]),
        "\
sweep: 4 scored cells; all with stage=score
lr    seed             loss  state
0.1   1     2.0000 ± 0.5000  cached
0.1   0     1.0000 ± 0.5000  cached
0.01  0     0.1000 ± 0.5000  cached
0.01  1                   -  failed"
    );
    assert_eq!(
        shown(&p, &["--only", "lr=0.10", "--metrics", "acc,loss"]),
        "\
sweep: 2 scored cells; all with stage=score, lr=0.1
seed     acc             loss  state
0     0.9000  1.0000 ± 0.5000  cached
1     0.9000  2.0000 ± 0.5000  cached"
    );
}

#[test]
fn cells_not_run_yet_show_as_such() {
    let p = sweep();
    assert_eq!(
        shown(&p, &["--grid", "seed=0,2", "--only", "lr=0.1"]),
        "\
sweep: 2 scored cells; all with stage=score, lr=0.1
seed             loss     acc  state
0     1.0000 ± 0.5000  0.9000  cached
2                   -       -  not run"
    );
}

#[test]
fn formats_for_programs() {
    let p = sweep();
    let csv = p
        .nrun(&["show", "sweep.yaml", "--format", "csv", "--metrics", "acc"])
        .ok()
        .stdout;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "stage,lr,seed,acc,acc_std,acc_n,acc_diverged,state,seconds"
    );
    assert!(lines[1].starts_with("score,0.1,0,0.9,,1,,cached,"), "{csv}");
    assert_eq!(lines[4], "score,0.01,1,,,,,failed,");
    let json: serde_json::Value = serde_json::from_str(
        &p.nrun(&["show", "sweep.yaml", "--format", "json"])
            .ok()
            .stdout,
    )
    .unwrap();
    assert_eq!(json["constant"], serde_json::json!({"stage": "score"}));
    assert_eq!(json["varying"], serde_json::json!(["lr", "seed"]));
    assert_eq!(json["rows"][0]["scores"]["loss"]["value"], 1.0);
    assert_eq!(json["rows"][3]["state"], "failed");
    let md = p
        .nrun(&["show", "sweep.yaml", "--format", "md", "--metrics", "acc"])
        .ok()
        .stdout;
    assert!(md.contains("| lr | seed | acc | state | time |\n| --- | --- | ---: | --- | ---: |\n| 0.1 | 0 | 0.9000 | cached |"), "{md}");
}

#[test]
fn mistakes_in_the_flags_exit_2() {
    let p = sweep();
    let run = p.nrun(&["show", "sweep.yaml", "--sort", "los"]).code(2);
    assert!(
        run.stderr
            .contains("--sort: no scored cell has a metric `los`; did you mean `loss`?"),
        "{}",
        run.stderr
    );
    let run = p
        .nrun(&["show", "sweep.yaml", "--only", "gama=0.1"])
        .code(2);
    assert!(
        run.stderr
            .contains("--only gama: no scored cell has a param `gama`"),
        "{}",
        run.stderr
    );
    let run = p
        .nrun(&["show", "sweep.yaml", "--only", "lr=0.1,0.3"])
        .code(2);
    assert_eq!(
        run.stderr,
        "error: --only lr=0.3: no scored cell has lr = 0.3 (the cells have: 0.01, 0.1)\n"
    );
    let run = p.nrun(&["show", "sweep.yaml", "--only", "lr"]).code(2);
    assert!(
        run.stderr.contains("expected PARAM=V1,V2,..."),
        "{}",
        run.stderr
    );
}

#[test]
fn logs_of_built_and_failed_instances() {
    let p = sweep();
    let failed = p
        .nrun(&["logs", "sweep.yaml", "score[lr=0.01 seed=1]"])
        .ok();
    assert!(failed.stdout.contains("lr too small"), "{}", failed.stdout);
    let built = p.nrun(&["logs", "sweep.yaml", "score[lr=0.1,seed=0]"]).ok();
    assert!(
        built.stdout.contains("$ if [ 0.1 = 0.01 ]"),
        "{}",
        built.stdout
    );
    // The cell is looked up as `--target` looks it up, and said alike.
    let run = p.nrun(&["logs", "sweep.yaml", "score[lr=0.1]"]).code(2);
    assert_eq!(
        run.stderr,
        "error: score[lr=0.1]: 2 instances match; name the cell, e.g. score[lr=0.1 seed=0]\n"
    );
    let run = p.nrun(&["logs", "sweep.yaml", "score[lr=0.5]"]).code(2);
    assert_eq!(
        run.stderr,
        "error: score[lr=0.5]: no cell of score takes lr=0.5 (it takes: `0.01`, `0.1`)\n"
    );
    let run = p.nrun(&["logs", "sweep.yaml", "scor[lr=0.1]"]).code(2);
    assert_eq!(
        run.stderr,
        "error: scor[lr=0.1]: no target or stage of that name; did you mean `score`?\n"
    );
    let run = p
        .nrun(&["logs", "sweep.yaml", "--grid", "seed=7", "score[lr=0.1]"])
        .code(2);
    assert!(run.stderr.contains("has not been built"), "{}", run.stderr);
}

/// `logs --follow` prints a running build's log as it grows and returns
/// when the build ends: the build goes on only once `--follow` has shown
/// its first line.
#[test]
fn logs_follow_a_running_build_to_its_end() {
    use std::io::BufRead;
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    let p = Project::new();
    p.file(
        "slow.yaml",
        "name: slow\nstages:\n  s:\n    kind: command\n    params: {run: 'echo first; while [ ! -e go ]; do sleep 0.05; done; echo second; touch {out}/done'}\n",
    );
    let mut run = p.spawn(&["slow.yaml", "-q"]);
    let started = Instant::now();
    loop {
        let logs = p.command(&["logs", "slow.yaml", "s"]).output().unwrap();
        if String::from_utf8_lossy(&logs.stdout).contains("first") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the build never logged"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut follow = p.spawn(&["logs", "slow.yaml", "s", "--follow"]);
    let (lines, received) = mpsc::channel();
    let stdout = follow.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let _ = lines.send(line.unwrap());
        }
    });
    let mut text = String::new();
    let mut next = |text: &mut String| match received.recv_timeout(Duration::from_secs(60)) {
        Ok(line) => {
            text.push_str(&line);
            text.push('\n');
            true
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => false,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            let _ = follow.kill();
            panic!("logs --follow went quiet: {text}");
        }
    };
    while !text.contains("first") {
        assert!(
            next(&mut text),
            "--follow ended before the first line: {text}"
        );
    }
    std::fs::write(p.path().join("go"), "").unwrap();
    while next(&mut text) {}
    assert!(follow.wait().unwrap().success(), "{text}");
    assert!(run.wait().unwrap().success());
    let first = text.find("first").unwrap();
    assert!(text.find("second").is_some_and(|s| s > first), "{text}");
}

#[test]
fn the_newest_runs_timeline() {
    let p = sweep();
    let text = p.nrun(&["show", "sweep.yaml", "--timeline"]).ok().stdout;
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("sweep: `nrun sweep.yaml -q --keep-going`, ")
            && lines[0].contains("5 instances built: "),
        "{text}"
    );
    assert_eq!(
        lines.len(),
        7,
        "a header, a column line, 5 instances: {text}"
    );
    let failed = lines
        .iter()
        .find(|l| l.contains("score[lr=0.01 seed=1]"))
        .unwrap();
    assert!(
        failed.starts_with("cpu ") && failed.contains(" failed "),
        "{text}"
    );
    p.nrun(&["sweep.yaml", "-q", "--keep-going"]).code(1);
    let again = p.nrun(&["show", "sweep.yaml", "--timeline"]).ok().stdout;
    assert!(
        again.contains("1 instance built"),
        "the failed one is retried: {again}"
    );
}

/// Another checkout's run, whose entries only its own cache holds.
#[test]
fn against_a_run_of_another_checkout() {
    let other = sweep();
    let p = Project::new();
    p.file("sweep.yaml", SWEEP);
    p.nrun(&["sweep.yaml", "-q", "--keep-going", "--set", "offset=0.5"])
        .code(1);
    let their_run = other.path().join("results/sweep/last-run.json");
    let csv = loss_against(&p, their_run.to_str().unwrap());
    assert!(csv.starts_with(LOSS_BEFORE_AND_AFTER), "{csv}");
}

/// `show --format csv --metrics loss` of the sweep at offset 0.5 beside `reference`.
fn loss_against(p: &Project, reference: &str) -> String {
    p.nrun(&[
        "show",
        "sweep.yaml",
        "--set",
        "offset=0.5",
        "--against",
        reference,
        "--format",
        "csv",
        "--metrics",
        "loss",
    ])
    .ok()
    .stdout
}

/// The first cell's loss at offset 0.5 beside the run at offset 0.
const LOSS_BEFORE_AND_AFTER: &str = "stage,lr,seed,loss,loss_std,loss_n,loss_diverged,loss_before,loss_delta,state,seconds\nscore,0.1,0,1.5,0.5,10,,1,0.5,cached,";

#[test]
fn against_an_earlier_run() {
    let p = sweep();
    std::fs::copy(
        p.path().join("results/sweep/last-run.json"),
        p.path().join("before.json"),
    )
    .unwrap();
    p.nrun(&["sweep.yaml", "-q", "--keep-going", "--set", "offset=0.5"])
        .code(1);
    let run = p
        .nrun(&[
            "show",
            "sweep.yaml",
            "--set",
            "offset=0.5",
            "--against",
            "before.json",
        ])
        .ok();
    let rows: Vec<Vec<&str>> = run
        .stdout
        .lines()
        .skip(2)
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .collect()
        })
        .collect();
    assert_eq!(
        rows[0][..6],
        [
            "0.1",
            "0",
            "1.5000 ± 0.5000",
            "+0.5000",
            "0.9000",
            "+0.0000"
        ],
        "{}",
        run.stdout
    );
    assert_eq!(
        rows[3][..6],
        ["0.01", "1", "-", "-", "-", "-"],
        "{}",
        run.stdout
    );
    let csv = loss_against(&p, "before.json");
    assert!(csv.starts_with(LOSS_BEFORE_AND_AFTER), "{csv}");
    let run = p
        .nrun(&["show", "sweep.yaml", "--against", "nothing.json"])
        .code(2);
    assert!(
        run.stderr.contains("nothing.json: cannot read"),
        "{}",
        run.stderr
    );
}

/// Two learning rates by two seeds, scored by a command; `bias` (a file
/// no stage declares, so not part of any key) shifts every loss.
const TABLED: &str = r#"
name: tabled
params:
  offset: 0
  grid:
    lr: [0.1, 0.01]
    seed: [0, 1]
stages:
  score:
    kind: command
    params:
      run: |
        awk -v lr=${lr} -v s=${seed} -v b=$(cat bias) 'BEGIN { printf "lr,seed,metric,value,std,n\n%s,%s,loss,%g,0.5,10\n%s,%s,acc,%g,,1\n", lr, s, lr * 10 + s + ${offset} + b, lr, s, 1 - lr }' > {out}/metrics.csv
  table1:
    kind: table
    inputs: {m: score}
    aggregate: all
    params: {metric: [loss, acc], rows: lr, columns: metric, average_over: [seed], row_labels: {"0.1": fast, "0.01": slow}}
"#;

fn tabled() -> Project {
    let p = Project::new();
    p.file("tabled.yaml", TABLED);
    p
}

/// `show --format csv --metrics loss` of `tabled` with `args`, without the
/// build times.
fn tabled_loss(p: &Project, args: &[&str]) -> Vec<String> {
    let mut all = vec![
        "show",
        "tabled.yaml",
        "--format",
        "csv",
        "--metrics",
        "loss",
    ];
    all.extend(args);
    let run = p.nrun(&all).ok();
    run.stdout
        .lines()
        .map(|l| l.rsplit_once(',').map_or(l, |(rest, _)| rest).to_string())
        .collect()
}

/// A published table's cells (labels, averaged over seeds) stand beside
/// every cell they average.
#[test]
fn against_a_published_table() {
    let p = tabled();
    p.file("bias", "0");
    p.nrun(&["tabled.yaml", "-q"]).ok();
    std::fs::copy(
        p.path().join("results/tabled/table1/_/table.csv"),
        p.path().join("table1.csv"),
    )
    .unwrap();
    p.nrun(&["tabled.yaml", "-q", "--set", "offset=0.5"]).ok();
    assert_eq!(
        tabled_loss(&p, &["--set", "offset=0.5", "--against", "table1.csv"]),
        [
            "stage,lr,seed,loss,loss_std,loss_n,loss_diverged,loss_before,loss_delta,state",
            "score,0.1,0,1.5,0.5,10,,1.5,0,cached",
            "score,0.1,1,2.5,0.5,10,,1.5,1,cached",
            "score,0.01,0,0.6,0.5,10,,0.6000000000000001,-0.00000000000000011102230246251565,cached",
            "score,0.01,1,1.6,0.5,10,,0.6000000000000001,1,cached",
        ]
    );
    p.file("table1.csv", "x,y\n1,2\n");
    let run = p
        .nrun(&["show", "tabled.yaml", "--against", "table1.csv"])
        .code(2);
    assert_eq!(
        run.stderr.trim(),
        "error: table1.csv: not a published table: it needs the columns `row`, `column` and `mean` (as nrun's table CSVs have)"
    );
}

/// The same cells built into another cache (another machine's, a GPU's)
/// beside this cache's.
#[test]
fn against_another_cache() {
    let p = tabled();
    p.file("bias", "0");
    p.nrun(&["tabled.yaml", "-q", "--cache", "elsewhere"]).ok();
    p.file("bias", "1");
    p.nrun(&["tabled.yaml", "-q"]).ok();
    assert_eq!(
        tabled_loss(&p, &["--against", "elsewhere"])[1..3],
        [
            "score,0.1,0,2,0.5,10,,1,1,cached",
            "score,0.1,1,3,0.5,10,,2,1,cached",
        ]
    );
    std::fs::create_dir(p.path().join("empty")).unwrap();
    let run = p
        .nrun(&["show", "tabled.yaml", "--against", "empty"])
        .code(2);
    assert_eq!(
        run.stderr.trim(),
        "error: empty: not a cache folder (it has no `entries` folder)"
    );
}
