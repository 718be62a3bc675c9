//! `nrun export` and `nrun import` through the real binary: finished work
//! moves between caches, and a damaged stream changes nothing.

mod common;

use std::path::{Path, PathBuf};

use common::Project;

/// data -> train (cost) -> score (cost); train[cost=k] takes longest.
const PIPE: &str = r#"
name: pipe
params:
  grid:
    cost: [q, k]
stages:
  data:
    kind: command
    params: {run: "echo data >> runs.log; echo 1 > {out}/x"}
  train:
    kind: command
    inputs: {data: data}
    params: {run: "echo train-${cost} >> runs.log; [ ${cost} = q ] || sleep 0.5; head -c 3000 /dev/zero > {out}/m; echo ${cost} >> {out}/m"}
  score:
    kind: command
    inputs: {model: train}
    params: {run: "echo score-${cost} >> runs.log; wc -c < {in.model}/m > {out}/s"}
targets:
  models: [train]
"#;

fn project() -> Project {
    let p = Project::new();
    p.file("pipelines/pipe.yaml", PIPE);
    p
}

/// Runs `nrun export ARGS > FILE` in `p`; the file and stderr.
fn export(p: &Project, args: &[&str]) -> (PathBuf, String) {
    let file = p.path().join("export.tar");
    let out = p
        .command(&[&["export", "pipelines/pipe.yaml"], args].concat())
        .stdout(std::fs::File::create(&file).unwrap())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    (file, stderr)
}

fn import(p: &Project, file: &Path) -> common::Run {
    p.nrun(&["import", file.to_str().unwrap()])
}

/// Nothing left in the cache's staging area.
fn tmp_is_empty(p: &Project) -> bool {
    std::fs::read_dir(p.path().join("results/.cache/tmp"))
        .map(|d| d.count() == 0)
        .unwrap_or(true)
}

#[test]
fn exported_entries_make_another_cache_complete() {
    let a = project();
    a.nrun(&["pipelines/pipe.yaml"]).ok();
    let (file, stderr) = export(&a, &[]);
    assert!(
        stderr.contains("pipe: exported 5 entries and 0 checkpoints")
            && stderr.contains("of 5 instances"),
        "{stderr}"
    );

    let b = project();
    let run = import(&b, &file).ok();
    assert_eq!(
        run.stdout.trim(),
        format!(
            "imported 5 entries and 0 checkpoints from {}; 0 entries were already here, 0 checkpoints not newer than this cache's",
            file.display()
        )
    );
    let run = b.nrun(&["pipelines/pipe.yaml"]).ok();
    assert!(run.stdout.contains("0 ran, 5 cached"), "{}", run.stdout);
    assert!(b.lines("runs.log").is_empty(), "nothing ran");
    assert_eq!(b.read("results/pipe/score/cost=k/s").trim(), "3002");

    // Again: nothing replaced.
    let run = import(&b, &file).ok();
    assert!(
        run.stdout.contains("imported 0 entries")
            && run.stdout.contains("5 entries were already here"),
        "{}",
        run.stdout
    );
    assert!(tmp_is_empty(&b));
}

#[test]
fn export_takes_targets_and_a_size_limit() {
    let a = project();
    a.nrun(&["pipelines/pipe.yaml"]).ok();
    let (_, stderr) = export(&a, &["--target", "models"]);
    assert!(
        stderr.contains("exported 3 entries and 0 checkpoints"),
        "{stderr}"
    );
    // data (7.5 KiB in the stream) and one train entry (10 KiB) fit in
    // 18 KiB, two train entries do not: the one that took longest to build
    // goes first.
    let (file, stderr) = export(&a, &["--target", "models", "--max-size", "18K"]);
    assert!(stderr.contains("exported 2 entries"), "{stderr}");
    assert!(
        stderr.contains("left out: train[cost=q]: its entry (")
            && stderr.contains("does not fit in the size limit"),
        "{stderr}"
    );
    let b = project();
    import(&b, &file).ok();
    b.nrun(&["pipelines/pipe.yaml"]).ok();
    let mut ran = b.lines("runs.log");
    ran.sort();
    assert_eq!(ran, ["score-k", "score-q", "train-q"]);
}

#[test]
fn import_of_a_missing_file_names_it() {
    let a = project();
    let run = a.nrun(&["import", "nope.tar"]).code(2);
    assert_eq!(
        run.stderr,
        "error: cannot read nope.tar: No such file or directory (os error 2)\n"
    );
}

#[test]
fn damaged_or_foreign_streams_change_nothing() {
    let a = project();
    a.nrun(&["pipelines/pipe.yaml"]).ok();
    let (file, _) = export(&a, &[]);
    let good = std::fs::read(&file).unwrap();

    let mut corrupted = good.clone();
    let at = good
        .windows(9)
        .position(|w| w == b"train-q >")
        .expect("a record names the train command");
    corrupted[at] = b'X';

    let mut foreign = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(5);
    header.set_mode(0o644);
    foreign
        .append_data(&mut header, "hello.txt", &b"hello"[..])
        .unwrap();
    let foreign = foreign.into_inner().unwrap();

    // What `nrun export | xz` makes, handed over as it is.
    let mut xz = b"\xfd7zXZ\0".to_vec();
    xz.extend_from_slice(&good[..64]);

    let cases: [(&str, Vec<u8>, &str); 6] = [
        ("truncated", good[..good.len() / 2].to_vec(), "truncated"),
        (
            "corrupted",
            corrupted,
            "is corrupted: its size or hash differs from the manifest's",
        ),
        (
            "foreign",
            foreign,
            "not an nrun export: its first member is `hello.txt`",
        ),
        (
            "garbage",
            vec![7u8; 2048],
            "not a tar stream, or a damaged one",
        ),
        ("empty", Vec::new(), "empty stream: not an nrun export"),
        ("xz", xz, "compressed with xz; import what `xz -dc "),
    ];
    for (name, bytes, words) in cases {
        let b = project();
        let path = b.path().join(format!("{name}.tar"));
        std::fs::write(&path, bytes).unwrap();
        let run = import(&b, &path).code(2);
        assert_eq!(run.stderr.lines().count(), 1, "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains(words) && run.stderr.contains("the cache is unchanged"),
            "{name}: {}",
            run.stderr
        );
        assert!(b.cache_entries().is_empty(), "{name}: an entry appeared");
        assert!(tmp_is_empty(&b), "{name}: staging left behind");
    }

    // From standard input, as `cat part.* | nrun import -` feeds it.
    let b = project();
    b.nrun_stdin(&["import", "-"], &file).ok();
    assert_eq!(b.cache_entries().len(), 5);
}
