//! The user's point clouds (`point_cloud`: .npy, .csv, .safetensors) and the
//! Gaussian benchmark's wiring, through the real binary.

mod common;

use std::collections::HashMap;

use common::Project;

/// A NumPy .npy file (format 1.0) of a 2-D array; `fortran` stores it
/// column-major, as numpy does for `np.asfortranarray`.
fn npy(descr: &str, shape: &[usize], fortran: bool, payload: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let mut header = format!(
        "{{'descr': '{descr}', 'fortran_order': {}, 'shape': ({}), }}",
        if fortran { "True" } else { "False" },
        dims.join(", ") + if shape.len() == 1 { "," } else { "" }
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(payload);
    out
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn f64_bytes(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn write(p: &Project, rel: &str, bytes: &[u8]) {
    let path = p.path().join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// The same three points of dimension 2, (1, 2), (3, 4), (5, 6), in each format.
const POINTS: [f32; 6] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];

const CLOUDS: &str = r#"
name: clouds
stages:
  c_order: {kind: point_cloud, inputs: {file: {path: data/c.npy}}}
  fortran: {kind: point_cloud, inputs: {file: {path: data/f.npy}}}
  table: {kind: point_cloud, inputs: {file: {path: data/points.csv}}}
  tensors: {kind: point_cloud, inputs: {file: {path: data/points.safetensors}}, params: {tensor: y, limit: 2}}
"#;

fn clouds_project() -> Project {
    let p = Project::new();
    write(
        &p,
        "data/c.npy",
        &npy("<f4", &[3, 2], false, &f32_bytes(&POINTS)),
    );
    // Column-major: the first coordinates, then the second ones.
    let columns = [1.0, 3.0, 5.0, 2.0, 4.0, 6.0];
    write(
        &p,
        "data/f.npy",
        &npy("<f8", &[3, 2], true, &f64_bytes(&columns)),
    );
    p.file("data/points.csv", "a, b\n1,2\n3, 4\n5,6\n");
    let other = f32_bytes(&[9.0; 4]);
    let points = f32_bytes(&POINTS);
    let view = safetensors::tensor::TensorView::new;
    let tensors = HashMap::from([
        (
            "x".to_string(),
            view(safetensors::Dtype::F32, vec![2, 2], &other).unwrap(),
        ),
        (
            "y".to_string(),
            view(safetensors::Dtype::F32, vec![3, 2], &points).unwrap(),
        ),
    ]);
    let bytes = safetensors::serialize(tensors, None).unwrap();
    write(&p, "data/points.safetensors", &bytes);
    p.file("clouds.yaml", CLOUDS);
    p
}

fn points_of(p: &Project, stage: &str) -> Vec<f32> {
    let bytes = std::fs::read(
        p.path()
            .join(format!("results/clouds/{stage}/_/data.safetensors")),
    )
    .unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let x = file.tensor("x").unwrap();
    x.data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

#[test]
fn each_format_reads_the_same_points() {
    let p = clouds_project();
    p.nrun(&["clouds.yaml", "-q"]).ok();
    for stage in ["c_order", "fortran", "table"] {
        assert_eq!(points_of(&p, stage), POINTS, "{stage}");
    }
    assert_eq!(
        points_of(&p, "tensors"),
        POINTS[..4],
        "the named tensor, first 2 points"
    );
}

#[test]
fn bad_point_files_exit_2_naming_the_file() {
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "data/c.npy",
            npy("<f4", &[3, 2, 1], false, &f32_bytes(&POINTS)),
            "shape [3, 2, 1]",
        ),
        (
            "data/c.npy",
            npy("<f4", &[3, 2], false, &f32_bytes(&POINTS[..5])),
            "truncated",
        ),
        (
            "data/c.npy",
            npy("<i4", &[3, 2], false, &f32_bytes(&POINTS)),
            "expected float32 or float64",
        ),
        ("data/c.npy", b"not numpy".to_vec(), "not a NumPy"),
        (
            "data/points.csv",
            b"1,2\n3,nan\n5,6\n".to_vec(),
            "point 1 coordinate 1 is NaN",
        ),
        (
            "data/points.csv",
            b"1,2\n3,4,5\n".to_vec(),
            "line 2: 3 values where earlier rows have 2",
        ),
        (
            "data/points.csv",
            b"1,2\n3,x\n".to_vec(),
            "line 2: `x` is not a number",
        ),
        (
            "data/points.safetensors",
            b"\x08\x00".to_vec(),
            "not a safetensors file",
        ),
    ];
    for (file, bytes, words) in cases {
        let p = clouds_project();
        write(&p, file, &bytes);
        let run = p.nrun(&["clouds.yaml", "-q"]).code(2);
        assert!(
            run.stderr.contains(file) && run.stderr.contains(words),
            "{file}: expected `{words}` in {}",
            run.stderr
        );
    }
    let p = clouds_project();
    p.file(
        "clouds.yaml",
        &CLOUDS
            .replace(", limit: 2", "")
            .replace("tensor: y", "limit: 9"),
    );
    let run = p
        .nrun(&["clouds.yaml", "-q", "--target", "tensors"])
        .code(2);
    assert!(
        run.stderr
            .contains("holds 2 tensors (x, y); name one with `tensor`"),
        "{}",
        run.stderr
    );
}

const BENCH: &str = r#"
name: bench
stages:
  p: {kind: gaussian, params: {dim: 3, cov: {random: {seed: 1, condition: 4}}, n: 64, seed: 1}}
  q: {kind: gaussian, params: {dim: 3, mean: [1, 0, -1], cov: 2, n: 64, seed: 2}}
  shift: {kind: mean_shift, inputs: {data: p, source: p, target: q}}
  scores:
    kind: metric
    inputs: {samples: shift, source: p, target: q}
    params: {metrics: [l2_uvp, cosine], tag: {map: shift}}
"#;

#[test]
fn the_mean_shift_moves_by_the_exact_means() {
    let p = Project::new();
    p.file("bench.yaml", BENCH);
    p.nrun(&["bench.yaml", "-q"]).ok();
    let csv = p.read("results/bench/scores/_/metrics.csv");
    assert!(
        csv.starts_with("map,metric,value,std,n\nshift,l2_uvp,"),
        "{csv}"
    );
    let bytes = std::fs::read(p.path().join("results/bench/shift/_/samples.safetensors")).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let floats = |name: &str| -> Vec<f32> {
        file.tensor(name)
            .unwrap()
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect()
    };
    let shown = p.nrun(&["show", "bench.yaml"]).ok().stdout;
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(
        lines[0], "bench: 1 scored cell; all with stage=scores, map=shift",
        "the tag is a param of the row"
    );
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["l2_uvp", "cosine", "state", "time"]
    );
    let (x, moved) = (floats("x"), floats("samples"));
    // P's mean is 0 and Q's (1, 0, -1): every point moves by exactly that.
    for (a, b) in x.chunks(3).zip(moved.chunks(3)) {
        for (k, want) in [1.0f32, 0.0, -1.0].iter().enumerate() {
            assert!((b[k] - a[k] - want).abs() < 1e-6);
        }
    }
}

#[test]
fn benchmark_wiring_mistakes_exit_2_before_anything_runs() {
    let p = Project::new();
    p.file(
        "bench.yaml",
        &BENCH.replace(
            "inputs: {samples: shift, source: p, target: q}",
            "inputs: {samples: shift, target: q}",
        ),
    );
    let run = p.nrun(&["bench.yaml", "-q"]).code(2);
    assert!(
        run.stderr
            .contains("bench.yaml:10:24: stages.scores.params.metrics[0]: ")
            && run
                .stderr
                .contains("l2_uvp needs the `source` input (inputs: samples, target)"),
        "{}",
        run.stderr
    );
    assert!(p.cache_entries().is_empty());
    // Bound, but not to a Gaussian: found once the inputs exist, still exit 2.
    let p = Project::new();
    p.file(
        "bench.yaml",
        &(BENCH.to_string()
            + "  points: {kind: toy2d, params: {distribution: {kind: moons, noise: 0.1}, n: 64}}\n")
            .replace(
                "inputs: {samples: shift, source: p, target: q}",
                "inputs: {samples: shift, source: points, target: q}",
            ),
    );
    let run = p.nrun(&["bench.yaml", "-q"]).code(2);
    assert!(
        run.stderr
            .contains("bind `source` and `target` to `gaussian` stages"),
        "{}",
        run.stderr
    );
    let p = Project::new();
    p.file(
        "bench.yaml",
        &BENCH.replace("cov: 2", "cov: [[1, 2], [2, 1]]"),
    );
    let run = p.nrun(&["bench.yaml", "-q"]).code(2);
    assert!(run.stderr.contains("not a 3 x 3 matrix"), "{}", run.stderr);
    let p = Project::new();
    p.file(
        "bench.yaml",
        &BENCH.replace("cov: 2", "cov: [[1, 2, 0], [2, 1, 0], [0, 0, 1]]"),
    );
    let run = p.nrun(&["bench.yaml", "-q"]).code(2);
    assert!(
        run.stderr.contains("not positive definite"),
        "{}",
        run.stderr
    );
}
