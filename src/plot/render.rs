//! Draws one figure twice, to a PNG and to an SVG next to each other.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingAreaErrorKind, DrawingBackend};
use plotters::prelude::{IntoDrawingArea, SVGBackend, WHITE};

use super::error::PlotError;
use super::font;
use super::png_backend::PngBackend;

/// The two files written for one figure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedFiles {
    pub png: PathBuf,
    pub svg: PathBuf,
}

/// What drawing code returns; generic because each figure is drawn on both
/// the bitmap and the SVG backend.
pub(crate) type DrawResult<DB> =
    Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A figure that can draw itself on any plotters backend.
pub(crate) trait Figure {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws on `root`, which is already filled white.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// Largest width or height accepted, so a bad scale cannot ask for gigabytes.
const MAX_SIDE: u32 = 16_384;

/// Writes `<stem>.png` and `<stem>.svg`, creating the parent directory.
pub(crate) fn render(stem: &Path, figure: &impl Figure) -> Result<RenderedFiles, PlotError> {
    font::ensure_registered()?;
    let (w, h) = figure.size();
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
        return Err(PlotError::InvalidInput {
            path: stem.to_path_buf(),
            reason: format!("figure would be {w}x{h} pixels (each side must be 1..={MAX_SIDE})"),
        });
    }
    let files = RenderedFiles {
        png: with_suffix(stem, ".png"),
        svg: with_suffix(stem, ".svg"),
    };
    if let Some(dir) = stem.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|source| PlotError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    write_png(&files.png, figure, (w, h))?;
    write_svg(&files.svg, figure, (w, h))?;
    Ok(files)
}

// Appends rather than using `Path::with_extension`, which would cut a stem
// such as `psnr_gamma_0.5` at its last dot.
fn with_suffix(stem: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(stem.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

fn write_png(path: &Path, figure: &impl Figure, (w, h): (u32, u32)) -> Result<(), PlotError> {
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = PngBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        draw_on(&root, figure).map_err(|message| PlotError::Draw {
            path: path.to_path_buf(),
            message,
        })?;
    }
    image::save_buffer_with_format(
        path,
        &rgb,
        w,
        h,
        image::ExtendedColorType::Rgb8,
        image::ImageFormat::Png,
    )
    .map_err(|source| PlotError::Png {
        path: path.to_path_buf(),
        source,
    })
}

fn write_svg(path: &Path, figure: &impl Figure, size: (u32, u32)) -> Result<(), PlotError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        draw_on(&root, figure).map_err(|message| PlotError::Draw {
            path: path.to_path_buf(),
            message,
        })?;
    }
    fs::write(path, svg).map_err(|source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn draw_on<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    figure: &impl Figure,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    figure.draw(root).map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::read_png;
    use super::*;

    /// A figure that draws nothing on its white background.
    struct Blank;

    impl Figure for Blank {
        fn size(&self) -> (u32, u32) {
            (4, 3)
        }

        fn draw<DB: DrawingBackend>(&self, _: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
            Ok(())
        }
    }

    #[test]
    fn writes_both_files_creating_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let files = render(&dir.path().join("a/b/fig"), &Blank).unwrap();
        let img = read_png(&files.png);
        assert_eq!(img.dimensions(), (4, 3));
        assert!(img.pixels().all(|p| p.0 == [255, 255, 255]));
        let svg = fs::read_to_string(&files.svg).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains(r#"width="4""#),
            "{svg}"
        );
    }

    #[test]
    fn unwritable_directory_is_an_io_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        fs::write(&file, "").unwrap();
        match render(&file.join("fig"), &Blank) {
            Err(PlotError::Io { path, .. }) => assert_eq!(path, file),
            other => panic!("expected an I/O error, got {other:?}"),
        }
    }

    #[test]
    fn suffix_keeps_dots_in_stem() {
        assert_eq!(
            with_suffix(Path::new("out/psnr_gamma_0.5"), ".png"),
            PathBuf::from("out/psnr_gamma_0.5.png")
        );
    }
}
