//! Small filesystem helpers whose point is atomicity: a reader sees the old
//! file or the new one, never half of one.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A name unique to this process and call, for temporary siblings.
pub fn unique_suffix() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{}.{nanos}.{n}", std::process::id())
}

fn sibling(path: &Path) -> std::path::PathBuf {
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.tmp.{}", unique_suffix()))
}

/// Writes `bytes` to `path` through a temporary sibling and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let tmp = sibling(path);
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Points the symlink `link` at `target`, replacing any previous link.
pub fn symlink_atomic(target: &Path, link: &Path) -> std::io::Result<()> {
    // A cached run finds every link in place: rewriting them all would
    // still create and delete an inode per link (on file systems mounted
    // with `discard`, each deletion waits for the disk).
    if fs::read_link(link).is_ok_and(|current| current == target) {
        return Ok(());
    }
    if let Some(parent) = link.parent() {
        fs::create_dir_all(parent)?;
    }
    let tmp = sibling(link);
    std::os::unix::fs::symlink(target, &tmp)?;
    if let Ok(meta) = fs::symlink_metadata(link)
        && meta.is_dir()
    {
        // A real folder where a link belongs (a copy made by hand): leave it.
        let _ = fs::remove_file(&tmp);
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{} is a folder, not a link", link.display()),
        ));
    }
    fs::rename(&tmp, link).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

/// Copies a folder tree (files only; links are followed).
pub fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    place_tree(from, to, true, |file, dest| fs::copy(file, dest).map(drop))
}

/// Hard-links every file of a folder tree into `to` (a copy where a link
/// cannot be made, e.g. across filesystems). For files nobody rewrites in
/// place: nrun replaces files by renames (`write_atomic`), which leaves a
/// link's other names as they were.
pub fn link_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    place_tree(from, to, false, |file, dest| {
        fs::hard_link(file, dest).or_else(|_| fs::copy(file, dest).map(drop))
    })
}

/// Makes `to` mirror the folders of `from`, putting each file there with
/// `place(file, destination)`.
fn place_tree(
    from: &Path,
    to: &Path,
    follow_links: bool,
    place: impl Fn(&Path, &Path) -> std::io::Result<()>,
) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in walkdir::WalkDir::new(from).follow_links(follow_links) {
        let entry = entry?;
        let rel = entry.path().strip_prefix(from).unwrap_or(entry.path());
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            fs::create_dir_all(&dest)?;
        } else {
            place(entry.path(), &dest)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;

    #[test]
    fn a_link_already_in_place_is_left_alone_and_a_stale_one_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, link) = (
            dir.path().join("a"),
            dir.path().join("b"),
            dir.path().join("l/x"),
        );
        symlink_atomic(&a, &link).unwrap();
        let inode = fs::symlink_metadata(&link).unwrap().ino();
        symlink_atomic(&a, &link).unwrap();
        assert_eq!(
            fs::symlink_metadata(&link).unwrap().ino(),
            inode,
            "not rewritten"
        );
        symlink_atomic(&b, &link).unwrap();
        assert_eq!(fs::read_link(&link).unwrap(), b);
        assert_ne!(fs::symlink_metadata(&link).unwrap().ino(), inode);
        assert_eq!(
            fs::read_dir(dir.path().join("l")).unwrap().count(),
            1,
            "no leftovers"
        );
    }
}
