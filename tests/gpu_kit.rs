//! The GPU machine's one command (scripts/gpu-run.sh), run at smoke scale
//! on the CPU from a kit packed with this build's binary: it checks itself,
//! runs the pipeline under a time limit, trains one cell again in bf16, and
//! writes at most 8 small files whose export, imported into another cache,
//! leaves nothing to compute.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Project, Run, nrun_bin};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The Python with torch that the scripts need (`NRUN_PYTHON`, set by
/// scripts/test.sh where the tch venv exists); without it the test says it
/// is skipped.
fn python() -> Option<PathBuf> {
    let python = std::env::var_os("NRUN_PYTHON").map(PathBuf::from);
    if python.is_none() {
        eprintln!("skipped: NRUN_PYTHON (a Python with torch) is not set");
    }
    python
}

#[test]
fn the_gpu_script_runs_at_smoke_scale_and_its_export_completes_another_cache() {
    let Some(python) = python() else {
        return;
    };
    let scratch = Project::new();
    pack_kit(&scratch);
    let out = scratch.path().join("out");
    let run = gpu_run(
        &scratch,
        &python,
        &["--bf16-check", "--grid cost=weak_quadratic --grid gamma=0"],
    );
    assert!(run.stdout.contains("self-check passed"), "{}", run.stdout);
    assert!(run.stdout.contains("nrun exited 0"), "{}", run.stdout);

    let mut files: Vec<(String, u64)> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().len(),
            )
        })
        .collect();
    files.sort();
    let (parts, others): (Vec<_>, Vec<_>) = files
        .iter()
        .partition(|(name, _)| name.starts_with("export.part."));
    let others: Vec<&str> = others.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        others,
        ["bf16.txt", "log.txt", "report.tar.gz", "versions.txt"],
        "{files:?}"
    );
    assert!(!parts.is_empty() && files.len() <= 8, "{files:?}");
    assert!(files.iter().all(|(_, size)| *size <= 16 << 20), "{files:?}");
    let total: u64 = files.iter().map(|(_, size)| size).sum();
    assert!(total <= 62 << 20, "{files:?}");
    let log = std::fs::read_to_string(out.join("log.txt")).unwrap();
    assert!(
        log.contains("mnist_superres: ") && log.contains("exported "),
        "{log}"
    );
    assert!(
        std::fs::read_to_string(out.join("versions.txt"))
            .unwrap()
            .contains("torch ")
    );
    // The cell scored both ways: one `scores` row under each precision.
    let both = std::fs::read_to_string(out.join("bf16.txt")).unwrap();
    let sections: Vec<&str> = both.split("bf16: --grid").collect();
    assert_eq!(sections.len(), 2, "{both}");
    assert!(sections[0].starts_with("f32: --grid cost=weak_quadratic --grid gamma=0\n"));
    for section in sections {
        let rows = section.lines().filter(|l| l.starts_with("scores ")).count();
        assert_eq!(rows, 1, "{both}");
    }

    // Another machine: the same pipelines and data, an empty cache.
    let other = git_project();
    import_parts(&other, &out);
    let run = other
        .nrun(&[
            "pipelines/mnist_superres.yaml",
            "--scale",
            "smoke",
            "--device",
            "cpu",
        ])
        .ok();
    assert!(run.stdout.contains(" 0 ran, "), "{}", run.stdout);
}

/// A kit packed by scripts/pack-gpu-kit.sh with this build's nrun, in
/// `scratch/kit`.
fn pack_kit(scratch: &Project) -> PathBuf {
    let kit = scratch.path().join("kit");
    stdout_of(
        Command::new(repo().join("scripts/pack-gpu-kit.sh"))
            .arg(&kit)
            .arg(nrun_bin()),
    );
    kit
}

/// `kit/gpu-run.sh out` at smoke scale on the CPU, work in `scratch/work`.
fn gpu_run(scratch: &Project, python: &Path, args: &[&str]) -> Run {
    Run::from_output(
        Command::new(scratch.path().join("kit/gpu-run.sh"))
            .arg(scratch.path().join("out"))
            .args([
                "--minutes",
                "8",
                "--scale",
                "smoke",
                "--device",
                "cpu",
                "--no-speed",
            ])
            .args(args)
            .env("PYTHON", python)
            .env("NRUN_GPU_WORK", scratch.path().join("work"))
            .env_remove("NRUN_CACHE")
            .output()
            .unwrap(),
    )
    .ok()
}

/// `cat out/export.part.* | nrun import -` in project `p`.
fn import_parts(p: &Project, out: &Path) {
    let mut parts: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|path| {
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("export.part.")
        })
        .collect();
    parts.sort();
    let stream: Vec<u8> = parts
        .iter()
        .flat_map(|path| std::fs::read(path).unwrap())
        .collect();
    let stream_file = p.path().join("export.tar");
    std::fs::write(&stream_file, stream).unwrap();
    p.nrun_stdin(&["import", "-"], &stream_file).ok();
}

/// The kit's list of cells no earlier run finished (gpu-keep.sh's
/// targets): the script runs those alone, and its export carries them.
#[test]
fn the_gpu_script_runs_only_the_cells_the_kit_names() {
    let Some(python) = python() else {
        return;
    };
    let scratch = Project::new();
    let kit = pack_kit(&scratch);
    std::fs::create_dir_all(kit.join("targets")).unwrap();
    std::fs::write(
        kit.join("targets/mnist_superres.smoke.txt"),
        "scores[cost=weak_kernel gamma=1 seed=0]\n",
    )
    .unwrap();
    let run = gpu_run(&scratch, &python, &[]);
    assert!(
        run.stdout.contains(
            "the 1 cells no earlier run finished (targets/mnist_superres.smoke.txt): \
             --target scores[cost=weak_kernel gamma=1 seed=0]"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("nrun exited 0"), "{}", run.stdout);
    // The run on the GPU machine: that cell's training, samples and scores
    // and the data they read, nothing else.
    let last_run: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            scratch
                .path()
                .join("work/results/mnist_superres/last-run.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let ran: Vec<String> = last_run["instances"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["cell"] != serde_json::json!({}))
        .map(|i| format!("{} {}", i["stage"], i["cell"]))
        .collect();
    let cell = r#"{"cost":"weak_kernel","gamma":1,"seed":0}"#;
    assert_eq!(
        ran,
        [
            format!(r#""train" {cell}"#),
            format!(r#""samples" {cell}"#),
            format!(r#""scores" {cell}"#)
        ]
    );

    let other = git_project();
    import_parts(&other, &scratch.path().join("out"));
    let status = other
        .nrun(&[
            "status",
            "mnist_superres",
            "--scale",
            "smoke",
            "--target",
            "train",
            "--json",
        ])
        .ok();
    let cached: Vec<String> = status
        .json_rows()
        .iter()
        .filter(|r| r["steps"].is_number() && r["state"] == "cached")
        .map(|r| r["cell"].to_string())
        .collect();
    assert_eq!(cached, [r#"{"cost":"weak_kernel","gamma":1,"seed":0}"#]);
}

/// A project with the repository's pipelines and data, under git.
fn git_project() -> Project {
    let p = Project::new();
    let copy = Command::new("cp")
        .arg("-r")
        .arg(repo().join("pipelines"))
        .arg(p.path())
        .status()
        .unwrap();
    assert!(copy.success());
    std::os::unix::fs::symlink(repo().join("data"), p.path().join("data")).unwrap();
    git(&p, &["init", "-q"]);
    git(&p, &["add", "pipelines"]);
    git(&p, &["commit", "-q", "-m", "pipelines"]);
    p
}

const GIT_IDENTITY: [(&str, &str); 4] = [
    ("GIT_AUTHOR_NAME", "test"),
    ("GIT_AUTHOR_EMAIL", "test@example.com"),
    ("GIT_COMMITTER_NAME", "test"),
    ("GIT_COMMITTER_EMAIL", "test@example.com"),
];

fn git(p: &Project, args: &[&str]) -> String {
    stdout_of(
        Command::new("git")
            .args(args)
            .current_dir(p.path())
            .envs(GIT_IDENTITY),
    )
}

/// What `command` prints, once it has succeeded.
#[track_caller]
fn stdout_of(command: &mut Command) -> String {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn gpu_keep(p: &Project) -> Run {
    Run::from_output(
        Command::new(repo().join("scripts/gpu-keep.sh"))
            .args(["--scale", "smoke"])
            .current_dir(p.path())
            .env("NRUN", nrun_bin())
            .envs(GIT_IDENTITY)
            .env_remove("NRUN_CACHE")
            .output()
            .unwrap(),
    )
    .ok()
}

/// scripts/gpu-keep.sh: a finished cell goes into git history (the file in
/// one commit; its blob in kept.txt and the file out of the tree in the
/// next), the unfinished cells into the next GPU run's targets, and a new
/// session's empty cache gets the cell back from history.
#[test]
fn finished_gpu_work_is_kept_in_git_history_and_comes_back_from_it() {
    let p = git_project();
    let smoke = [
        "pipelines/mnist_superres.yaml",
        "--scale",
        "smoke",
        "--device",
        "cpu",
    ];
    let cell = "cost=weak_quadratic gamma=0 seed=0";
    p.nrun(&[&smoke[..], &["--target", &format!("scores[{cell}]")]].concat())
        .ok();
    let kept = gpu_keep(&p);
    assert!(
        kept.stderr.contains(&format!("gpu-keep: kept {cell} (")),
        "{}",
        kept.stderr
    );

    let dir = "results/mnist_superres/gpu-export";
    let file = "cost=weak_quadratic,gamma=0,seed=0.tar.xz";
    let lines: Vec<String> = p.lines(&format!("{dir}/kept.txt"));
    assert_eq!(lines.len(), 2, "{lines:?}");
    let fields: Vec<&str> = lines[1].splitn(4, ' ').collect();
    assert_eq!([fields[1], fields[3]], [file, cell]);
    let train = format!("train[{cell}]");
    let status = p
        .nrun(&[
            "status", smoke[0], "--scale", "smoke", "--target", &train, "--json",
        ])
        .ok();
    assert!(
        status.stdout.contains(fields[2]),
        "kept by its key: {}",
        status.stdout
    );
    assert!(!p.path().join(dir).join(file).exists(), "out of the tree");
    assert_eq!(git(&p, &["cat-file", "-t", fields[0]]), "blob\n");
    assert_eq!(git(&p, &["log", "--format=%s"]).lines().count(), 3);
    assert_eq!(
        p.read(&format!("{dir}/targets-smoke.txt")),
        "scores[cost=weak_quadratic gamma=0.5 seed=0]\n\
         scores[cost=weak_quadratic gamma=1 seed=0]\n\
         scores[cost=weak_kernel gamma=0 seed=0]\n\
         scores[cost=weak_kernel gamma=0.5 seed=0]\n\
         scores[cost=weak_kernel gamma=1 seed=0]\n"
    );
    assert!(p.path().join(dir).join("export.tar.xz").is_file());

    // A new session: no cache. The kept cell comes back, nothing is kept twice.
    std::fs::remove_dir_all(p.path().join("results/.cache")).unwrap();
    gpu_keep(&p);
    assert_eq!(git(&p, &["log", "--format=%s"]).lines().count(), 3);
    assert_eq!(p.lines(&format!("{dir}/kept.txt")), lines);
    let status = p
        .nrun(
            &[
                &smoke[..],
                &["--target", &format!("scores[{cell}]"), "--dry-run"],
            ]
            .concat(),
        )
        .ok();
    assert!(status.stdout.contains("0 to run"), "{}", status.stdout);
}

/// scripts/plan_slots.py's choice of `--slots-per-gpu` (the GPU script's
/// plan): the most trainings finished, then the most steps that go on.
#[test]
fn the_slot_plan_finishes_the_most_trainings_then_keeps_the_most_steps() {
    let Some(python) = python() else {
        return;
    };
    let plan = |seconds: &str, rates: &str, to_go: &str, carried: Option<&str>| -> String {
        let mut command = Command::new(&python);
        command
            .arg(repo().join("scripts/plan_slots.py"))
            .args([seconds, rates, to_go]);
        command.args(carried);
        stdout_of(&mut command)
    };
    let scaling = "1:10,2:18,3:24,5:30";
    // Three finish in time at three at once; five at once finish none.
    assert_eq!(
        plan("170", scaling, "1200,1200,1200,1200,1200", Some("1")),
        "3\n\
         1 at once (10.0 steps/s in total): 1 of 5 trainings finished (the last at 120 s), 1700 of 6000 steps kept in 170 s\n\
         2 at once (18.0 steps/s in total): 2 of 5 trainings finished (the last at 133 s), 2730 of 6000 steps kept in 170 s\n\
         3 at once (24.0 steps/s in total): 3 of 5 trainings finished (the last at 150 s), 3780 of 6000 steps kept in 170 s\n\
         5 at once (30.0 steps/s in total): 0 of 5 trainings finished (the last at 0 s), 1020 of 6000 steps kept in 170 s\n"
    );
    // All finish either way: the earliest end.
    let fresh = "3001,3001,3001,3001,3001";
    assert!(plan("900", scaling, fresh, Some("1")).starts_with("5\n"));
    // None finishes and the GPU barely scales: one checkpoint goes on, so
    // one training at a time keeps the most; with later commands resuming
    // every checkpoint, all at once does.
    let flat = "1:10,2:11.8,3:12.5,5:13";
    assert!(plan("210", flat, fresh, Some("1")).starts_with("1\n"));
    assert!(plan("210", flat, fresh, None).starts_with("5\n"));
}
