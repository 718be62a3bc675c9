//! Reading a whole dataset file, gzip-compressed or not.

use std::fs;
use std::io::Read;
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::error::LoadError;

/// The two bytes every gzip stream starts with (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads `path` whole, gunzipping it when it starts with the gzip magic bytes
/// (the extension is not trusted: `.gz` files get renamed, raw files too).
pub fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>, LoadError> {
    let raw = fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if !raw.starts_with(&GZIP_MAGIC) {
        return Ok(raw);
    }
    let mut out = Vec::new();
    // Multi-member streams are valid gzip (e.g. `cat a.gz b.gz`), so read them all.
    MultiGzDecoder::new(raw.as_slice())
        .read_to_end(&mut out)
        .map_err(|source| LoadError::Gzip {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn reads_raw_and_gzip_by_content_not_extension() {
        let dir = tempfile::tempdir().unwrap();
        let raw = dir.path().join("raw.gz");
        let packed = dir.path().join("packed.bin");
        fs::write(&raw, b"plain bytes").unwrap();
        fs::write(&packed, gzip(b"packed bytes")).unwrap();
        assert_eq!(read_maybe_gzip(&raw).unwrap(), b"plain bytes");
        assert_eq!(read_maybe_gzip(&packed).unwrap(), b"packed bytes");
    }

    #[test]
    fn corrupt_gzip_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken");
        let mut bytes = gzip(&[7; 1000]);
        bytes.truncate(bytes.len() / 2);
        fs::write(&path, bytes).unwrap();
        let err = read_maybe_gzip(&path).unwrap_err();
        assert!(matches!(err, LoadError::Gzip { .. }), "{err:?}");
        assert!(err.to_string().contains("broken"), "{err}");
    }

    #[test]
    fn missing_file_names_the_file() {
        let err = read_maybe_gzip(Path::new("/nonexistent/train-images")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/nonexistent/train-images: cannot read"),
            "{err}"
        );
    }
}
