//! Helpers shared by the tests: reading back PNGs and measuring ink.

use std::ops::Range;
use std::path::Path;

use image::RgbImage;

/// The PNG at `path`, decoded; panics (failing the test) if it is not one.
pub(crate) fn read_png(path: &Path) -> RgbImage {
    image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8()
}

/// Number of non-white pixels in `rows`.
pub(crate) fn ink(img: &RgbImage, rows: Range<u32>) -> usize {
    img.enumerate_pixels()
        .filter(|(_, y, p)| rows.contains(y) && p.0 != [255, 255, 255])
        .count()
}

/// Number of distinct colours in the image.
pub(crate) fn colors(img: &RgbImage) -> usize {
    let mut seen: Vec<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}

/// Asserts both files exist, the PNG is `size` and far from blank, and the
/// SVG is an SVG holding every string of `texts`.
pub(crate) fn assert_rendered(files: &super::RenderedFiles, size: (u32, u32), texts: &[&str]) {
    let img = read_png(&files.png);
    assert_eq!(img.dimensions(), size);
    assert!(colors(&img) > 20, "only {} colours", colors(&img));
    let inked = ink(&img, 0..size.1);
    assert!(inked > 2000, "only {inked} non-white pixels");
    let svg = std::fs::read_to_string(&files.svg).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
    for text in texts {
        assert!(
            svg.contains(&format!("\n{text}\n</text>")),
            "SVG lacks text {text:?}"
        );
    }
}
