//! IDX files, the format of MNIST, Fashion-MNIST and KMNIST, raw or gzip.
//!
//! Layout (big-endian): a 4-byte magic number whose third byte is the element
//! type (0x08 = u8) and fourth the number of dimensions, one u32 per
//! dimension, then the elements.

use std::path::Path;

use super::error::LoadError;
use super::file_bytes::read_maybe_gzip;
use super::images::Images;
use super::labelled::LabelledImages;

/// Magic number of an image file: u8 elements, 3 dimensions `[n, rows, cols]`.
pub const IMAGES_MAGIC: u32 = 0x0803;
/// Magic number of a label file: u8 elements, 1 dimension `[n]`.
pub const LABELS_MAGIC: u32 = 0x0801;

/// Reads an IDX image file into a batch [n, 1, rows, cols] in [-1, 1].
pub fn read_idx_images(path: &Path) -> Result<Images, LoadError> {
    let bytes = read_maybe_gzip(path)?;
    let dims = parse_header(path, &bytes, IMAGES_MAGIC, "IDX images: u8, 3 dimensions")?;
    let [n, rows, cols] = [dims[0], dims[1], dims[2]];
    if rows == 0 || cols == 0 {
        return Err(LoadError::BadDims {
            path: path.to_path_buf(),
            what: format!("images of {rows}x{cols} pixels"),
        });
    }
    let pixels = body(path, &bytes, &dims)?;
    Images::from_u8(n, 1, rows, cols, pixels).map_err(|e| LoadError::BadDims {
        path: path.to_path_buf(),
        what: e.to_string(),
    })
}

/// Reads an IDX label file.
pub fn read_idx_labels(path: &Path) -> Result<Vec<i64>, LoadError> {
    let bytes = read_maybe_gzip(path)?;
    let dims = parse_header(path, &bytes, LABELS_MAGIC, "IDX labels: u8, 1 dimension")?;
    Ok(body(path, &bytes, &dims)?
        .iter()
        .map(|&l| i64::from(l))
        .collect())
}

/// Reads an image file and its label file, checking that their counts agree.
pub fn read_idx_pair(images: &Path, labels: &Path) -> Result<LabelledImages, LoadError> {
    let set = LabelledImages {
        images: read_idx_images(images)?,
        labels: read_idx_labels(labels)?,
    };
    if set.images.n != set.labels.len() {
        return Err(LoadError::CountMismatch {
            images: images.to_path_buf(),
            labels: labels.to_path_buf(),
            n_images: set.images.n,
            n_labels: set.labels.len(),
        });
    }
    Ok(set)
}

/// Checks the magic number and returns the dimensions it announces.
fn parse_header(
    path: &Path,
    bytes: &[u8],
    magic: u32,
    what: &'static str,
) -> Result<Vec<usize>, LoadError> {
    let ndims = usize::from(magic.to_be_bytes()[3]);
    let header_len = 4 + 4 * ndims;
    let word = |i: usize| -> Option<u32> {
        let b = bytes.get(4 * i..4 * i + 4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let truncated = || LoadError::Truncated {
        path: path.to_path_buf(),
        what: "IDX header",
        expected: header_len as u64,
        found: bytes.len() as u64,
    };
    let found = word(0).ok_or_else(truncated)?;
    if found != magic {
        return Err(LoadError::BadMagic {
            path: path.to_path_buf(),
            expected: magic,
            found,
            what,
        });
    }
    (1..=ndims)
        .map(|i| word(i).map(|d| d as usize).ok_or_else(truncated))
        .collect()
}

/// The element bytes after the header, checked against the announced size.
fn body<'a>(path: &Path, bytes: &'a [u8], dims: &[usize]) -> Result<&'a [u8], LoadError> {
    let header_len = 4 + 4 * dims.len() as u64;
    let expected = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
        .and_then(|count| count.checked_add(header_len))
        .ok_or_else(|| LoadError::BadDims {
            path: path.to_path_buf(),
            what: format!("{dims:?} overflows"),
        })?;
    let found = bytes.len() as u64;
    if found < expected {
        return Err(LoadError::Truncated {
            path: path.to_path_buf(),
            what: "data announced by the IDX header",
            expected,
            found,
        });
    }
    if found > expected {
        return Err(LoadError::TrailingBytes {
            path: path.to_path_buf(),
            expected,
            found,
        });
    }
    Ok(&bytes[header_len as usize..])
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::io::Write;
    use std::path::PathBuf;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn idx_bytes(magic: u32, dims: &[u32], body: &[u8]) -> Vec<u8> {
        let mut out = magic.to_be_bytes().to_vec();
        for d in dims {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out.extend_from_slice(body);
        out
    }

    fn write(dir: &Path, name: &str, bytes: &[u8], gzip: bool) -> PathBuf {
        let path = dir.join(name);
        let bytes = if gzip {
            let mut enc = GzEncoder::new(Vec::new(), Compression::default());
            enc.write_all(bytes).unwrap();
            enc.finish().unwrap()
        } else {
            bytes.to_vec()
        };
        fs::write(&path, bytes).unwrap();
        path
    }

    /// Two 2x3 images with pixels 0..12 and labels [7, 2].
    fn sample(dir: &Path, gzip: bool) -> (PathBuf, PathBuf) {
        let pixels: Vec<u8> = (0..12).map(|p| p * 20).collect();
        let images = write(
            dir,
            "img",
            &idx_bytes(IMAGES_MAGIC, &[2, 2, 3], &pixels),
            gzip,
        );
        let labels = write(dir, "lab", &idx_bytes(LABELS_MAGIC, &[2], &[7, 2]), gzip);
        (images, labels)
    }

    #[test]
    fn reads_raw_and_gzip_identically() {
        let dir = tempfile::tempdir().unwrap();
        let raw_dir = dir.path().join("raw");
        let gz_dir = dir.path().join("gz");
        fs::create_dir_all(&raw_dir).unwrap();
        fs::create_dir_all(&gz_dir).unwrap();
        let (ri, rl) = sample(&raw_dir, false);
        let (gi, gl) = sample(&gz_dir, true);
        let raw = read_idx_pair(&ri, &rl).unwrap();
        let gz = read_idx_pair(&gi, &gl).unwrap();
        assert_eq!(raw, gz);
        assert_eq!(
            (raw.images.n, raw.images.c, raw.images.h, raw.images.w),
            (2, 1, 2, 3)
        );
        assert_eq!(raw.labels, vec![7, 2]);
        // Pixel (image 1, row 0, col 2) is byte 8 = 160.
        assert_eq!(raw.images.data[8], 160.0 / 255.0 * 2.0 - 1.0);
        assert_eq!(raw.images.data[0], -1.0);
    }

    #[test]
    fn wrong_magic_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let (images, labels) = sample(dir.path(), false);
        let err = read_idx_images(&labels).unwrap_err();
        assert!(
            matches!(
                err,
                LoadError::BadMagic {
                    expected: 2051,
                    found: 2049,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("lab: wrong magic number 2049"),
            "{err}"
        );
        assert!(read_idx_labels(&images).is_err());
    }

    #[test]
    fn truncated_header_and_data_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let short_header = write(dir.path(), "h", &IMAGES_MAGIC.to_be_bytes()[..3], false);
        let err = read_idx_images(&short_header).unwrap_err();
        assert!(
            matches!(
                err,
                LoadError::Truncated {
                    expected: 16,
                    found: 3,
                    ..
                }
            ),
            "{err:?}"
        );

        let short_data = idx_bytes(IMAGES_MAGIC, &[2, 2, 3], &[0; 11]);
        let path = write(dir.path(), "d.gz", &short_data, true);
        let err = read_idx_images(&path).unwrap_err();
        assert!(
            matches!(
                err,
                LoadError::Truncated {
                    expected: 28,
                    found: 27,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("d.gz: truncated"), "{err}");
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "l",
            &idx_bytes(LABELS_MAGIC, &[2], &[1, 2, 3]),
            false,
        );
        let err = read_idx_labels(&path).unwrap_err();
        assert!(
            matches!(
                err,
                LoadError::TrailingBytes {
                    expected: 10,
                    found: 11,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn zero_sized_images_and_huge_dims_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let zero = write(
            dir.path(),
            "z",
            &idx_bytes(IMAGES_MAGIC, &[1, 0, 3], &[]),
            false,
        );
        assert!(matches!(
            read_idx_images(&zero),
            Err(LoadError::BadDims { .. })
        ));
        let huge = idx_bytes(IMAGES_MAGIC, &[u32::MAX, u32::MAX, u32::MAX], &[]);
        let huge = write(dir.path(), "huge", &huge, false);
        let err = read_idx_images(&huge).unwrap_err();
        assert!(matches!(err, LoadError::BadDims { .. }), "{err:?}");
    }

    #[test]
    fn label_count_mismatch_names_both_files() {
        let dir = tempfile::tempdir().unwrap();
        let (images, _) = sample(dir.path(), false);
        let labels = write(
            dir.path(),
            "three",
            &idx_bytes(LABELS_MAGIC, &[3], &[1, 2, 3]),
            false,
        );
        let err = read_idx_pair(&images, &labels).unwrap_err();
        assert!(
            matches!(
                err,
                LoadError::CountMismatch {
                    n_images: 2,
                    n_labels: 3,
                    ..
                }
            ),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains("img") && msg.contains("three"), "{msg}");
    }

    /// The Debian package `dataset-fashion-mnist`, when installed (see the
    /// README, section 'Data').
    #[test]
    fn reads_real_fashion_mnist_when_installed() {
        let dir = Path::new("/usr/share/datasets/fashion-mnist");
        if !dir.exists() {
            println!(
                "skipped: {} is absent (apt-get install dataset-fashion-mnist)",
                dir.display()
            );
            return;
        }
        let set = read_idx_pair(
            &dir.join("t10k-images-idx3-ubyte.gz"),
            &dir.join("t10k-labels-idx1-ubyte.gz"),
        )
        .unwrap();
        assert_eq!((set.images.n, set.images.h, set.images.w), (10_000, 28, 28));
        // The test split is balanced: 1000 images per class.
        assert_eq!(set.with_label(0).n, 1000);
        assert_eq!(set.with_label(4).n, 1000);
    }
}
