//! A folder of PNG / JPEG images, laid out like torchvision's `ImageFolder`.
//!
//! Class labels come from the first-level subfolders (sorted by name, label
//! = index; images deeper inside belong to that class); if the images lie
//! directly in the folder instead, all get label 0 and there are no classes.
//! Files are visited in sorted path order, links followed, and entries whose
//! name starts with '.' skipped (`.ipynb_checkpoints`, `.DS_Store`, ...).
//! Other files are ignored.
//!
//! Pixels follow Pillow, as a torchvision pipeline over PIL images would:
//! gray is Pillow's `convert("L")` (`(19595 R + 38470 G + 7471 B + 2^15) >> 16`),
//! alpha is dropped, and crop and resize act on the 8-bit pixels before the
//! conversion to [-1, 1]. PNG decoding is exact; JPEG decoders may differ from
//! libjpeg by a level or two.

use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageReader};
use walkdir::{DirEntry, WalkDir};

use super::crop::{CropBox, crop_planes};
use super::error::LoadError;
use super::images::Images;
use super::labelled::LabelledImages;
use super::pil_resize::pil_resize_u8;
use super::resize::Interp;

/// The channels images are converted to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorMode {
    Gray,
    Rgb,
}

/// How each image is prepared before the batch is assembled: crop, then resize.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FolderOptions {
    pub color: ColorMode,
    pub crop: Option<CropBox>,
    /// Target `(h, w)` and kernel, with Pillow's rules (torchvision's
    /// `Resize` on PIL images). Without it all images must share one size.
    pub resize: Option<(usize, usize, Interp)>,
}

/// The loaded folder.
#[derive(Clone, Debug, PartialEq)]
pub struct FolderImages {
    pub set: LabelledImages,
    /// Class names by label; empty for a flat folder.
    pub classes: Vec<String>,
    /// The file of each image, in batch order.
    pub files: Vec<PathBuf>,
}

/// Loads every image under `dir`.
pub fn read_image_folder(dir: &Path, options: &FolderOptions) -> Result<FolderImages, LoadError> {
    let (files, labels, classes) = scan(dir)?;
    let channels = match options.color {
        ColorMode::Gray => 1,
        ColorMode::Rgb => 3,
    };
    let mut pixels = Vec::new();
    let mut size = None;
    for path in &files {
        let (h, w, planes) = prepare(path, options)?;
        match size {
            None => size = Some((h, w)),
            Some((h0, w0)) if (h0, w0) != (h, w) => {
                return Err(LoadError::SizeMismatch {
                    path: path.clone(),
                    h: h0,
                    w: w0,
                    found_h: h,
                    found_w: w,
                });
            }
            Some(_) => {}
        }
        pixels.extend(planes);
    }
    let (h, w) = size.unwrap_or((0, 0));
    let images =
        Images::from_u8(files.len(), channels, h, w, &pixels).map_err(|e| LoadError::BadDims {
            path: dir.to_path_buf(),
            what: e.to_string(),
        })?;
    Ok(FolderImages {
        set: LabelledImages { images, labels },
        classes,
        files,
    })
}

/// The image files in batch order, their labels and the class names.
type Scan = (Vec<PathBuf>, Vec<i64>, Vec<String>);

fn scan(dir: &Path) -> Result<Scan, LoadError> {
    let mut top_level = Vec::new();
    // (class folder, its images), in sorted order.
    let mut classes: Vec<(PathBuf, Vec<PathBuf>)> = Vec::new();
    let walk = WalkDir::new(dir)
        .min_depth(1)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !is_hidden(e));
    for entry in walk {
        let entry = entry.map_err(|source| LoadError::Walk {
            path: source.path().unwrap_or(dir).to_path_buf(),
            source,
        })?;
        let path = entry.path().to_path_buf();
        if entry.file_type().is_dir() {
            if entry.depth() == 1 {
                classes.push((path, Vec::new()));
            }
        } else if is_image(&path) {
            match (entry.depth(), classes.last_mut()) {
                (1, _) | (_, None) => top_level.push(path),
                (_, Some((_, images))) => images.push(path),
            }
        }
    }
    let has_classes = classes.iter().any(|(_, images)| !images.is_empty());
    match (top_level.first(), has_classes) {
        (None, false) => Err(LoadError::EmptyFolder {
            path: dir.to_path_buf(),
        }),
        (Some(first), true) => Err(LoadError::MixedLayout {
            path: first.clone(),
        }),
        (Some(_), false) => {
            let labels = vec![0; top_level.len()];
            Ok((top_level, labels, Vec::new()))
        }
        (None, true) => {
            let mut files = Vec::new();
            let mut labels = Vec::new();
            let mut names = Vec::new();
            for (label, (folder, images)) in classes.into_iter().enumerate() {
                if images.is_empty() {
                    // An empty class would silently shift every later label.
                    return Err(LoadError::EmptyFolder { path: folder });
                }
                names.push(
                    folder
                        .file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned(),
                );
                labels.extend(std::iter::repeat_n(label as i64, images.len()));
                files.extend(images);
            }
            Ok((files, labels, names))
        }
    }
}

fn is_hidden(entry: &DirEntry) -> bool {
    entry.file_name().to_string_lossy().starts_with('.')
}

fn is_image(path: &Path) -> bool {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    matches!(ext.as_deref(), Some("png" | "jpg" | "jpeg"))
}

/// Decodes, converts, crops and resizes one image: `(h, w, planes)`.
fn prepare(path: &Path, options: &FolderOptions) -> Result<(usize, usize, Vec<u8>), LoadError> {
    let decoded = decode(path)?;
    let (mut h, mut w) = (decoded.height() as usize, decoded.width() as usize);
    let mut planes = match options.color {
        ColorMode::Gray => gray(&decoded),
        ColorMode::Rgb => rgb_planes(&decoded),
    };
    let transform = |source| LoadError::Transform {
        path: path.to_path_buf(),
        source,
    };
    if let Some(crop) = options.crop {
        let (top, left) = crop.origin(h, w).map_err(transform)?;
        planes = crop_planes(&planes, h, w, top, left, crop.h, crop.w);
        (h, w) = (crop.h, crop.w);
    }
    if let Some((out_h, out_w, interp)) = options.resize {
        let count = planes.len() / (h * w).max(1);
        planes =
            pil_resize_u8(&planes, count, (h, w), (out_h, out_w), interp).map_err(transform)?;
        (h, w) = (out_h, out_w);
    }
    Ok((h, w, planes))
}

fn decode(path: &Path) -> Result<DynamicImage, LoadError> {
    let io = |source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    };
    ImageReader::open(path)
        .map_err(io)?
        .with_guessed_format()
        .map_err(io)?
        .decode()
        .map_err(|source| LoadError::Decode {
            path: path.to_path_buf(),
            source,
        })
}

/// One gray plane, as Pillow's `convert("L")`.
fn gray(image: &DynamicImage) -> Vec<u8> {
    match image {
        DynamicImage::ImageLuma8(luma) => luma.as_raw().clone(),
        DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageLuma16(_)
        | DynamicImage::ImageLumaA16(_) => image.to_luma8().into_raw(),
        _ => image
            .to_rgb8()
            .pixels()
            .map(|p| {
                let [r, g, b] = p.0.map(u32::from);
                ((19595 * r + 38470 * g + 7471 * b + 0x8000) >> 16) as u8
            })
            .collect(),
    }
}

/// Red, green and blue planes (interleaved RGB reordered to [c, h, w]).
fn rgb_planes(image: &DynamicImage) -> Vec<u8> {
    let rgb = image.to_rgb8();
    (0..3)
        .flat_map(|c| rgb.pixels().map(move |p| p.0[c]))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::fs;

    use image::{GrayImage, Luma, Rgb, RgbImage};

    use super::*;

    const GRAY: FolderOptions = FolderOptions {
        color: ColorMode::Gray,
        crop: None,
        resize: None,
    };

    fn save_rgb(path: &Path, w: u32, h: u32, color: [u8; 3]) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        RgbImage::from_pixel(w, h, Rgb(color)).save(path).unwrap();
    }

    fn save_gray(path: &Path, w: u32, h: u32, f: impl Fn(u32, u32) -> u8) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        GrayImage::from_fn(w, h, |x, y| Luma([f(x, y)]))
            .save(path)
            .unwrap();
    }

    fn level(p: u8) -> f32 {
        f32::from(p) / 255.0 * 2.0 - 1.0
    }

    #[test]
    fn class_folders_give_sorted_labels() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        save_rgb(&root.join("dog/c.png"), 2, 2, [0, 0, 255]);
        save_rgb(&root.join("cat/b.PNG"), 2, 2, [200, 100, 50]);
        save_rgb(&root.join("cat/sub/a.png"), 2, 2, [255, 255, 255]);
        save_rgb(&root.join(".hidden/x.png"), 5, 5, [0, 0, 0]);
        fs::write(root.join("cat/notes.txt"), "not an image").unwrap();
        let out = read_image_folder(root, &GRAY).unwrap();
        assert_eq!(out.classes, vec!["cat", "dog"]);
        assert_eq!(out.set.labels, vec![0, 0, 1]);
        let names: Vec<_> = out
            .files
            .iter()
            .map(|f| f.strip_prefix(root).unwrap().to_owned())
            .collect();
        assert_eq!(
            names,
            ["cat/b.PNG", "cat/sub/a.png", "dog/c.png"].map(PathBuf::from)
        );
        let images = &out.set.images;
        assert_eq!((images.n, images.c, images.h, images.w), (3, 1, 2, 2));
        // (19595 * 200 + 38470 * 100 + 7471 * 50 + 32768) >> 16 = 124.
        assert_eq!(images.image(0).unwrap(), &[level(124); 4]);
        assert_eq!(images.image(1).unwrap(), &[1.0; 4]);
        // Pure blue: (7471 * 255 + 32768) >> 16 = 29.
        assert_eq!(images.image(2).unwrap(), &[level(29); 4]);
    }

    #[test]
    fn rgb_mode_gives_planes() {
        let dir = tempfile::tempdir().unwrap();
        // `dir` itself may be hidden (`.cache/...`); only entries inside are skipped.
        let root = dir.path().join(".hidden_root");
        save_rgb(&root.join("a.png"), 3, 1, [200, 100, 50]);
        let options = FolderOptions {
            color: ColorMode::Rgb,
            ..GRAY
        };
        let out = read_image_folder(&root, &options).unwrap();
        assert!(out.classes.is_empty());
        assert_eq!(out.set.labels, vec![0]);
        let want: Vec<f32> = [200, 200, 200, 100, 100, 100, 50, 50, 50]
            .map(level)
            .to_vec();
        assert_eq!(out.set.images.data, want);
    }

    #[test]
    fn flat_folder_keeps_top_level_images_and_ignores_empty_subfolders() {
        let dir = tempfile::tempdir().unwrap();
        save_gray(&dir.path().join("b.png"), 2, 2, |_, _| 10);
        save_gray(&dir.path().join("a.png"), 2, 2, |_, _| 20);
        fs::create_dir_all(dir.path().join("thumbs")).unwrap();
        let out = read_image_folder(dir.path(), &GRAY).unwrap();
        assert_eq!(out.set.labels, vec![0, 0]);
        assert_eq!(out.set.images.data[0], level(20));
    }

    #[test]
    fn inconsistent_sizes_name_the_first_differing_file_unless_resized() {
        let dir = tempfile::tempdir().unwrap();
        save_gray(&dir.path().join("a.png"), 4, 4, |_, _| 0);
        save_gray(&dir.path().join("b.png"), 4, 4, |_, _| 0);
        save_gray(&dir.path().join("c.png"), 6, 4, |_, _| 0);
        let err = read_image_folder(dir.path(), &GRAY).unwrap_err();
        assert!(
            matches!(
                err,
                LoadError::SizeMismatch {
                    h: 4,
                    w: 4,
                    found_h: 4,
                    found_w: 6,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("c.png: inconsistent image sizes"),
            "{err}"
        );
        let options = FolderOptions {
            resize: Some((3, 3, Interp::Bilinear)),
            ..GRAY
        };
        let out = read_image_folder(dir.path(), &options).unwrap();
        assert_eq!(
            (out.set.images.n, out.set.images.h, out.set.images.w),
            (3, 3, 3)
        );
    }

    #[test]
    fn crop_then_resize_by_hand() {
        // 6x6 with pixel (x, y) = 10 y + x. Crop 4x4 one row above the centre:
        // rows 0..4, columns 1..5. Pillow's nearest to 2x2 takes centres 1 and
        // 3 of the crop: rows 1, 3 and columns 2, 4.
        let dir = tempfile::tempdir().unwrap();
        save_gray(&dir.path().join("a.png"), 6, 6, |x, y| (10 * y + x) as u8);
        let options = FolderOptions {
            crop: Some(CropBox {
                h: 4,
                w: 4,
                dy: -1,
                dx: 0,
            }),
            resize: Some((2, 2, Interp::Nearest)),
            ..GRAY
        };
        let out = read_image_folder(dir.path(), &options).unwrap();
        assert_eq!(out.set.images.data, [12, 14, 32, 34].map(level).to_vec());
        let too_big = FolderOptions {
            crop: Some(CropBox::centered(7, 7)),
            ..GRAY
        };
        let err = read_image_folder(dir.path(), &too_big).unwrap_err();
        assert!(
            matches!(err, LoadError::Transform { .. }) && err.to_string().contains("a.png"),
            "{err}"
        );
    }

    #[test]
    fn jpeg_decodes_close_to_the_colour() {
        let dir = tempfile::tempdir().unwrap();
        save_rgb(&dir.path().join("a.jpg"), 8, 8, [30, 120, 220]);
        let options = FolderOptions {
            color: ColorMode::Rgb,
            ..GRAY
        };
        let out = read_image_folder(dir.path(), &options).unwrap();
        for (c, want) in [30u8, 120, 220].into_iter().enumerate() {
            let plane = &out.set.images.data[c * 64..(c + 1) * 64];
            assert!(
                plane
                    .iter()
                    .all(|&v| (v - level(want)).abs() <= 3.0 * 2.0 / 255.0),
                "{c}: {plane:?}"
            );
        }
    }

    #[test]
    fn layout_errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_image_folder(dir.path(), &GRAY).unwrap_err();
        assert!(matches!(err, LoadError::EmptyFolder { .. }), "{err:?}");

        save_gray(&dir.path().join("a/x.png"), 2, 2, |_, _| 0);
        fs::create_dir_all(dir.path().join("b/nothing")).unwrap();
        let err = read_image_folder(dir.path(), &GRAY).unwrap_err();
        assert!(
            matches!(&err, LoadError::EmptyFolder { path } if path.ends_with("b")),
            "{err:?}"
        );

        fs::remove_dir_all(dir.path().join("b")).unwrap();
        save_gray(&dir.path().join("top.png"), 2, 2, |_, _| 0);
        let err = read_image_folder(dir.path(), &GRAY).unwrap_err();
        assert!(
            matches!(&err, LoadError::MixedLayout { path } if path.ends_with("top.png")),
            "{err:?}"
        );

        let missing = dir.path().join("missing");
        let err = read_image_folder(&missing, &GRAY).unwrap_err();
        assert!(
            matches!(err, LoadError::Walk { .. }) && err.to_string().contains("missing"),
            "{err}"
        );
    }

    #[test]
    fn undecodable_image_is_named() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("broken.png"),
            b"\x89PNG\r\n\x1a\nnot really",
        )
        .unwrap();
        let err = read_image_folder(dir.path(), &GRAY).unwrap_err();
        assert!(matches!(err, LoadError::Decode { .. }), "{err:?}");
        assert!(
            err.to_string().contains("broken.png: undecodable image"),
            "{err}"
        );
    }
}
