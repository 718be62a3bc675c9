//! PNG figures as `data:` URIs.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::ReportError;

const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The PNG at `path` as a `data:image/png;base64,` URI.
pub(crate) fn data_uri(path: &Path) -> Result<String, ReportError> {
    let bytes = std::fs::read(path).map_err(|source| ReportError::ReadFigure {
        path: path.into(),
        source,
    })?;
    // The signature and the first chunk's name are enough to catch a file
    // that is no PNG at all (an SVG or JPEG passed by mistake, an empty
    // file); decoding every figure to find subtler damage is the browser's job.
    if !(bytes.starts_with(SIGNATURE) && bytes.get(12..16) == Some(b"IHDR")) {
        return Err(ReportError::NotPng { path: path.into() });
    }
    Ok(format!("data:image/png;base64,{}", STANDARD.encode(&bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pngs_become_data_uris() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("a.png");
        let header = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        std::fs::write(&png, header).unwrap();
        assert_eq!(
            data_uri(&png).unwrap(),
            "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg=="
        );

        let svg = dir.path().join("a.svg");
        std::fs::write(&svg, "<svg/>").unwrap();
        let err = data_uri(&svg).unwrap_err().to_string();
        assert_eq!(err, format!("{}: figure is not a PNG file", svg.display()));

        let missing = dir.path().join("missing.png");
        let err = data_uri(&missing).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}: cannot read figure:", missing.display())));
    }
}
