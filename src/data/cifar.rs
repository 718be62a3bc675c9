//! CIFAR-10 binary batches (`data_batch_1.bin` .. `test_batch.bin`).
//!
//! Each record is 1 label byte (0..=9) followed by 3072 pixel bytes: the
//! 32x32 red plane, then green, then blue, each row-major, which is already
//! the [c, h, w] layout of `Images`.

use std::path::Path;

use super::error::LoadError;
use super::file_bytes::read_maybe_gzip;
use super::images::Images;
use super::labelled::LabelledImages;

/// Side of the square CIFAR images.
pub const SIDE: usize = 32;
/// Bytes in one record: the label and three 32x32 planes.
pub const RECORD: usize = 1 + 3 * SIDE * SIDE;
/// Largest CIFAR-10 label.
const MAX_LABEL: u8 = 9;

/// Reads and concatenates batch files (raw, or gzip detected by content) into
/// [n, 3, 32, 32] images in [-1, 1] with labels 0..=9.
pub fn read_cifar10<P: AsRef<Path>>(paths: &[P]) -> Result<LabelledImages, LoadError> {
    if paths.is_empty() {
        return Err(LoadError::NoFiles);
    }
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for path in paths {
        let path = path.as_ref();
        let bytes = read_maybe_gzip(path)?;
        if bytes.is_empty() || bytes.len() % RECORD != 0 {
            return Err(LoadError::RecordSize {
                path: path.to_path_buf(),
                len: bytes.len() as u64,
                record: RECORD as u64,
            });
        }
        for (index, record) in bytes.chunks_exact(RECORD).enumerate() {
            if record[0] > MAX_LABEL {
                return Err(LoadError::BadLabel {
                    path: path.to_path_buf(),
                    index,
                    label: i64::from(record[0]),
                    max: i64::from(MAX_LABEL),
                });
            }
            labels.push(i64::from(record[0]));
            pixels.extend_from_slice(&record[1..]);
        }
    }
    let first = paths[0].as_ref();
    let images =
        Images::from_u8(labels.len(), 3, SIDE, SIDE, &pixels).map_err(|e| LoadError::BadDims {
            path: first.to_path_buf(),
            what: e.to_string(),
        })?;
    Ok(LabelledImages { images, labels })
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::PathBuf;

    use super::*;

    /// A record whose red, green and blue planes are constant `r`, `g`, `b`,
    /// except pixel (row 1, col 2) of the green plane, which is 200.
    fn record(label: u8, r: u8, g: u8, b: u8) -> Vec<u8> {
        let plane = SIDE * SIDE;
        let mut out = vec![label];
        out.extend(std::iter::repeat_n(r, plane));
        out.extend(std::iter::repeat_n(g, plane));
        out.extend(std::iter::repeat_n(b, plane));
        out[1 + plane + SIDE + 2] = 200;
        out
    }

    fn write(dir: &Path, name: &str, records: &[Vec<u8>]) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, records.concat()).unwrap();
        path
    }

    #[test]
    fn concatenates_batches_in_channel_planes() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(
            dir.path(),
            "data_batch_1.bin",
            &[record(3, 0, 51, 255), record(9, 255, 0, 0)],
        );
        let b = write(dir.path(), "test_batch.bin", &[record(0, 102, 102, 102)]);
        let set = read_cifar10(&[a, b]).unwrap();
        assert_eq!(set.labels, vec![3, 9, 0]);
        let images = &set.images;
        assert_eq!((images.n, images.c, images.h, images.w), (3, 3, 32, 32));
        let first = images.image(0).unwrap();
        let plane = SIDE * SIDE;
        assert_eq!(first[0], -1.0);
        assert_eq!(first[plane], 51.0 / 255.0 * 2.0 - 1.0);
        assert_eq!(first[2 * plane + 5], 1.0);
        assert_eq!(first[plane + SIDE + 2], 200.0 / 255.0 * 2.0 - 1.0);
        assert_eq!(images.image(2).unwrap()[0], 102.0 / 255.0 * 2.0 - 1.0);
    }

    #[test]
    fn partial_record_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let good = write(dir.path(), "good.bin", &[record(1, 0, 0, 0)]);
        let mut short = record(1, 0, 0, 0);
        short.pop();
        let bad = write(dir.path(), "short.bin", &[record(1, 0, 0, 0), short]);
        let err = read_cifar10(&[good, bad]).unwrap_err();
        assert!(
            matches!(
                err,
                LoadError::RecordSize {
                    len: 6145,
                    record: 3073,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("short.bin"), "{err}");
    }

    #[test]
    fn empty_file_bad_label_and_no_files_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let empty = write(dir.path(), "empty.bin", &[]);
        assert!(matches!(
            read_cifar10(&[empty]),
            Err(LoadError::RecordSize { len: 0, .. })
        ));
        let bad = write(
            dir.path(),
            "label.bin",
            &[record(0, 0, 0, 0), record(10, 0, 0, 0)],
        );
        let err = read_cifar10(&[bad]).unwrap_err();
        assert!(
            matches!(
                err,
                LoadError::BadLabel {
                    index: 1,
                    label: 10,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(matches!(
            read_cifar10::<PathBuf>(&[]),
            Err(LoadError::NoFiles)
        ));
    }
}
