//! The HTML report loads in headless Chromium with every figure decoded,
//! its contents links resolving, nothing external and a clean console; and
//! the same check does catch a broken image and a console error.

mod browser;

use std::fs;
use std::path::{Path, PathBuf};

use nrun::report::{Block, Document, concat, copy_figures, to_html, to_markdown};
use nrun::table::{self, PivotSpec};

use browser::Browser;

/// Writes a `width`×`height` colour gradient PNG.
fn gradient_png(path: &Path, width: u32, height: u32) -> PathBuf {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 128])
    })
    .save(path)
    .unwrap();
    path.to_path_buf()
}

/// Table 1 of a small run: two costs, two gammas, two seeds.
fn psnr_table(dir: &Path) -> String {
    let csv = dir.join("metrics.csv");
    fs::write(
        &csv,
        "cost,gamma,seed,metric,value,std,n\n\
         weak_quadratic,0,1,psnr,22.1,1,9\nweak_quadratic,0,2,psnr,22.5,1,9\n\
         weak_quadratic,1,1,psnr,20.0,1,9\nkernel,0,1,psnr,23.0,1,9\n",
    )
    .unwrap();
    let spec = PivotSpec {
        average_over: vec!["seed".into()],
        row_labels: [("weak_quadratic", "NOT"), ("kernel", "KNOT")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into(),
        ..PivotSpec::new("psnr", "cost", "gamma")
    };
    let rows = table::read_rows([csv]).unwrap();
    table::to_markdown(&table::pivot(&rows, &spec).unwrap())
}

/// A report with two figures that share a file name.
fn report(dir: &Path) -> Document {
    let samples = gradient_png(&dir.join("train/samples.png"), 64, 48);
    let test_samples = gradient_png(&dir.join("test/samples.png"), 32, 32);
    let mut doc = Document::new("MNIST super-resolution");
    doc.push(Block::KeyValues(vec![
        ("nrun".into(), "0.1.0".into()),
        ("device".into(), "cpu".into()),
    ]))
    .push(Block::Code("nrun run mnist.yaml --scale smoke".into()))
    .push(Block::Heading(2, "PSNR".into()))
    .push(Block::Table {
        markdown: psnr_table(dir),
        caption: "Table 1: PSNR on MNIST super-resolution".into(),
    })
    .push(Block::Heading(2, "Samples".into()))
    .push(Block::Figure {
        path: samples,
        caption: "Training samples".into(),
    })
    .push(Block::Figure {
        path: test_samples,
        caption: "Test samples".into(),
    });
    doc
}

fn write(path: PathBuf, text: &str) -> PathBuf {
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn the_report_loads_with_every_figure_decoded_and_a_clean_console() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let doc = report(dir.path());

    let page = browser.inspect(&write(
        dir.path().join("report.html"),
        &to_html(&doc).unwrap(),
    ));
    assert_eq!(page.title, "MNIST super-resolution");
    assert_eq!((page.lang.as_str(), page.charset.as_str()), ("en", "UTF-8"));
    assert_eq!(page.images.len(), 2, "{page:#?}");
    assert!(page.images.iter().all(|i| i.loaded), "{page:#?}");
    let sizes: Vec<_> = page
        .images
        .iter()
        .map(|i| (i.alt.as_str(), i.width, i.height))
        .collect();
    assert_eq!(
        sizes,
        [("Training samples", 64, 48), ("Test samples", 32, 32)]
    );
    assert_eq!(page.external, Vec::<String>::new());
    assert_eq!(page.errors, Vec::<String>::new());

    // The combined document: its contents links must land on its parts.
    let mut appendix = Document::new("Appendix");
    appendix.push(Block::Paragraph("Nothing more.".into()));
    let all = concat("All experiments", &[doc.clone(), appendix]);
    let page = browser.inspect(&write(dir.path().join("all.html"), &to_html(&all).unwrap()));
    assert_eq!(page.anchor_links, 2, "{page:#?}");
    assert_eq!(page.dangling_links, Vec::<String>::new());
    assert!(
        page.images.len() == 2 && page.images.iter().all(|i| i.loaded),
        "{page:#?}"
    );
    assert_eq!(page.errors, Vec::<String>::new());

    // The Markdown twin links copies of both figures under distinct names.
    let out = dir.path().join("out");
    let copied = copy_figures(&doc, &out, Path::new("figures")).unwrap();
    let markdown = to_markdown(&copied, &out);
    for name in ["samples.png", "samples-2.png"] {
        assert!(
            markdown.contains(&format!("](figures/{name})")),
            "{markdown}"
        );
        assert!(out.join("figures").join(name).is_file());
    }
}

#[test]
fn the_check_catches_a_broken_image_an_external_reference_and_a_console_error() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();

    // A PNG header on a body that is not image data: the renderer accepts
    // it, the browser cannot decode it.
    let broken = dir.path().join("broken.png");
    fs::write(&broken, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDRgarbage").unwrap();
    let mut doc = Document::new("Broken");
    doc.push(Block::Figure {
        path: broken,
        caption: "broken".into(),
    });
    let page = browser.inspect(&write(
        dir.path().join("broken.html"),
        &to_html(&doc).unwrap(),
    ));
    assert_eq!(page.images.len(), 1, "{page:#?}");
    assert!(!page.images[0].loaded, "{page:#?}");

    // A page that links nowhere, refers to a background and an image outside
    // itself, fails to load the image and logs an error.
    let page = browser.inspect(&write(
        dir.path().join("noisy.html"),
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>noisy</title>\
         <style>body { background: url(bg.png) }</style></head>\
         <body><a href=\"#nowhere\">x</a><img src=\"missing.png\" alt=\"\">\
         <script>console.error('deliberate')</script></body></html>",
    ));
    assert_eq!(page.dangling_links, ["#nowhere"]);
    assert_eq!(page.external.len(), 2, "{page:#?}");
    assert_eq!(page.external[0], "missing.png");
    assert!(page.external[1].contains("url(\"bg.png\")"), "{page:#?}");
    assert!(
        page.errors.iter().any(|e| e.contains("deliberate")),
        "{page:#?}"
    );
    assert!(
        page.errors.iter().any(|e| e.contains("missing.png")),
        "{page:#?}"
    );
}

/// The reports committed under results/ (what a reader of the repository
/// opens) load with every figure decoded, no dangling contents link, nothing
/// external and a clean console.
#[test]
fn the_published_reports_load_in_a_browser() {
    let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("results");
    let pages: Vec<PathBuf> = fs::read_dir(&results)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .flat_map(|dir| [dir.join("report/report.html"), dir.join("report.html")])
        .filter(|page| page.is_file())
        .collect();
    assert!(
        pages
            .iter()
            .any(|p| p.ends_with("reproduce-report/report.html")),
        "{pages:?}"
    );
    let Some(b) = Browser::start() else {
        return;
    };
    for path in &pages {
        let page = b.inspect(path);
        assert!(!page.images.is_empty(), "{}: {page:#?}", path.display());
        assert!(
            page.images.iter().all(|i| i.loaded),
            "{}: {page:#?}",
            path.display()
        );
        assert_eq!(
            page.dangling_links,
            Vec::<String>::new(),
            "{}",
            path.display()
        );
        assert_eq!(page.external, Vec::<String>::new(), "{}", path.display());
        assert_eq!(page.errors, Vec::<String>::new(), "{}", path.display());
    }
}
