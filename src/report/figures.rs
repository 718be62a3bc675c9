//! Copying a report's figures next to its Markdown.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use super::{Block, Document, ReportError};

/// Copies every figure of `doc` into `out_dir/fig_dir_rel` and returns the
/// document with its figure paths pointing at the copies, ready for
/// [`to_markdown`](super::to_markdown) with the same `out_dir`. Names are
/// kept where possible but made unique (`loss.png`, `loss-2.png`, ignoring
/// case) and safe in a link (characters other than letters, digits, `.`,
/// `-` and `_` become `_`); a figure used twice is copied once.
pub fn copy_figures(
    doc: &Document,
    out_dir: &Path,
    fig_dir_rel: &Path,
) -> Result<Document, ReportError> {
    let dir = out_dir.join(fig_dir_rel);
    let mut copies: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    let mut taken = BTreeSet::new();
    let mut out = doc.clone();
    for block in &mut out.blocks {
        let Block::Figure { path, .. } = block else {
            continue;
        };
        if let Some(copy) = copies.get(path) {
            *path = copy.clone();
            continue;
        }
        let name = path
            .file_name()
            .ok_or_else(|| ReportError::NoFileName { path: path.clone() })?;
        let copy = dir.join(unique(&safe(&name.to_string_lossy()), &mut taken));
        if copies.is_empty() {
            fs::create_dir_all(&dir).map_err(|source| ReportError::CreateDir {
                path: dir.clone(),
                source,
            })?;
        }
        copy_file(path, &copy)?;
        copies.insert(path.clone(), copy.clone());
        *path = copy;
    }
    Ok(out)
}

fn copy_file(from: &Path, to: &Path) -> Result<(), ReportError> {
    // Copying a file onto itself would truncate it to nothing, as happens
    // when a document whose figures were already copied is copied again.
    let same = matches!((fs::canonicalize(from), fs::canonicalize(to)), (Ok(a), Ok(b)) if a == b);
    if same {
        return Ok(());
    }
    fs::copy(from, to)
        .map(drop)
        .map_err(|source| ReportError::CopyFigure {
            from: from.into(),
            to: to.into(),
            source,
        })
}

fn safe(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' | '_' => c,
            _ => '_',
        })
        .collect()
}

/// `name`, or `stem-2.ext`, `stem-3.ext`, ... if taken. Compared ignoring
/// case, as macOS and Windows file systems do.
fn unique(name: &str, taken: &mut BTreeSet<String>) -> String {
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, format!(".{ext}")),
        _ => (name, String::new()),
    };
    let mut candidate = name.to_string();
    let mut n = 1;
    while !taken.insert(candidate.to_lowercase()) {
        n += 1;
        candidate = format!("{stem}-{n}{ext}");
    }
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(path: &Path) -> Block {
        Block::Figure {
            path: path.to_path_buf(),
            caption: "c".into(),
        }
    }

    fn paths(doc: &Document) -> Vec<PathBuf> {
        doc.blocks
            .iter()
            .filter_map(|b| match b {
                Block::Figure { path, .. } => Some(path.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn names_are_made_unique_and_safe() {
        let src = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let a = src.path().join("a/loss.png");
        let b = src.path().join("b/Loss.png");
        let c = src.path().join("c/my plot(1).png");
        for (path, text) in [(&a, "a"), (&b, "b"), (&c, "c")] {
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        let mut doc = Document::new("t");
        doc.push(figure(&a))
            .push(figure(&b))
            .push(figure(&c))
            .push(figure(&a));
        let copied = copy_figures(&doc, out.path(), Path::new("figures")).unwrap();
        let dir = out.path().join("figures");
        let expected = [
            dir.join("loss.png"),
            dir.join("Loss-2.png"),
            dir.join("my_plot_1_.png"),
            dir.join("loss.png"),
        ];
        assert_eq!(paths(&copied), expected);
        assert_eq!(fs::read_to_string(&expected[1]).unwrap(), "b");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 3);
    }

    #[test]
    fn copying_again_leaves_the_copies_intact() {
        let out = tempfile::tempdir().unwrap();
        let a = out.path().join("plot.png");
        fs::write(&a, "png").unwrap();
        let mut doc = Document::new("t");
        doc.push(figure(&a));
        let once = copy_figures(&doc, out.path(), Path::new("figures")).unwrap();
        let twice = copy_figures(&once, out.path(), Path::new("figures")).unwrap();
        assert_eq!(paths(&twice), paths(&once));
        assert_eq!(fs::read_to_string(&paths(&twice)[0]).unwrap(), "png");
    }

    #[test]
    fn a_missing_figure_names_both_paths() {
        let out = tempfile::tempdir().unwrap();
        let mut doc = Document::new("t");
        doc.push(figure(Path::new("/nonexistent/x.png")));
        let err = copy_figures(&doc, out.path(), Path::new("f"))
            .unwrap_err()
            .to_string();
        let to = out.path().join("f/x.png");
        assert!(
            err.starts_with(&format!(
                "cannot copy figure /nonexistent/x.png to {}:",
                to.display()
            )),
            "{err}"
        );
    }
}
