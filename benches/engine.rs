//! Engine benchmarks (run with `cargo bench --bench engine`):
//!
//! 1. A fully cached run of a generated 200-instance pipeline, including
//!    YAML parsing and the key computation, timed as a whole process.
//! 2. blake3 hashing throughput of a large input file.
//!
//! Prints min / median / max; the targets are <= 50 ms and >= 1 GB/s.

use std::io::Write;
use std::process::Command;
use std::time::Instant;

fn pipeline() -> String {
    let values: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    format!(
        "name: bench\n\
         params:\n  grid:\n    a: [{v}]\n    b: [{v}]\n\
         stages:\n\
         \x20 first:\n    kind: command\n    inputs: {{data: {{path: data.bin}}}}\n    params: {{run: 'echo ${{a}} ${{b}} > {{out}}/v'}}\n\
         \x20 second:\n    kind: command\n    inputs: {{up: first}}\n    params: {{run: 'cp {{in.up}}/v {{out}}/w'}}\n",
        v = values.join(", ")
    )
}

fn stats(mut samples: Vec<f64>) -> (f64, f64, f64) {
    samples.sort_by(f64::total_cmp);
    (
        samples[0],
        samples[samples.len() / 2],
        samples[samples.len() - 1],
    )
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("p.yaml"), pipeline()).unwrap();
    std::fs::write(dir.path().join("data.bin"), vec![7u8; 1 << 20]).unwrap();
    let nrun = env!("CARGO_BIN_EXE_nrun");
    let run = || {
        let out = Command::new(nrun)
            .args(["p.yaml", "-q"])
            .current_dir(dir.path())
            .output()
            .expect("nrun runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let first = run();
    assert!(first.contains("200 ran"), "{first}");
    let mut times = Vec::new();
    for _ in 0..30 {
        let start = Instant::now();
        let out = run();
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        assert!(out.contains("0 ran, 200 cached"), "{out}");
    }
    let (min, median, max) = stats(times);
    println!(
        "cached run, 200 instances: min {min:.1} ms, median {median:.1} ms, max {max:.1} ms (target <= 50 ms)"
    );

    let big = dir.path().join("big.bin");
    let size: usize = 1 << 30;
    {
        let mut f = std::fs::File::create(&big).unwrap();
        let mut block = vec![0u8; 1 << 20];
        let mut x: u64 = 0x9E3779B97F4A7C15;
        for _ in 0..size / block.len() {
            for b in block.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            f.write_all(&block).unwrap();
        }
    }
    let mut rates = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        nrun::cache::hash::hash_file_contents(&big, size as u64).unwrap();
        rates.push(size as f64 / start.elapsed().as_secs_f64() / 1e9);
    }
    let (min, median, max) = stats(rates);
    println!(
        "hashing a 1 GiB file (page cache warm): min {min:.2} GB/s, median {median:.2} GB/s, max {max:.2} GB/s (target >= 1 GB/s)"
    );
}
