//! `nrun import FILE|-`: adds the entries and checkpoints of an `nrun
//! export` stream to the cache, after checking all of it (see `bundle`).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::bundle::import;
use crate::error::{Error, Result, exit};

/// Compressors whose streams users may hand over as they are, by the magic
/// bytes their streams start with.
const COMPRESSED: &[(&[u8], &str)] = &[
    (b"\xfd7zXZ\0", "xz"),
    (b"\x1f\x8b", "gzip"),
    (b"(\xb5/\xfd", "zstd"),
    (b"BZh", "bzip2"),
];

pub fn run(source: &Path, cache: Option<&Path>) -> Result<u8> {
    let store = super::open_store(cache)?;
    let stdin = source == Path::new("-");
    let reader: Box<dyn Read> = if stdin {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(
            File::open(source)
                .map_err(|e| Error::Usage(format!("cannot read {}: {e}", source.display())))?,
        )
    };
    let name = if stdin {
        "<stdin>".to_string()
    } else {
        source.display().to_string()
    };
    let mut reader = BufReader::with_capacity(1 << 20, reader);
    let start = reader.fill_buf().map_err(|e| Error::io(source, e))?;
    if let Some((_, tool)) = COMPRESSED
        .iter()
        .find(|(magic, _)| start.starts_with(magic))
    {
        let shown = if stdin { "FILE" } else { name.as_str() };
        return Err(Error::BadData(format!(
            "{name}: compressed with {tool}; import what `{tool} -dc {shown} | nrun import -` gives; the cache is unchanged"
        )));
    }
    let done = import::import(&store, reader)
        .map_err(|refused| Error::BadData(format!("{name}: {refused}; the cache is unchanged")))?;
    let steps: Vec<String> = done.checkpoints_added.iter().map(u64::to_string).collect();
    super::say(format!(
        "imported {} entries and {} checkpoints{} from {name}; {} entries were already here, {} checkpoints not newer than this cache's",
        done.entries_added,
        steps.len(),
        if steps.is_empty() {
            String::new()
        } else {
            format!(" (at steps {})", steps.join(", "))
        },
        done.entries_present,
        done.checkpoints_kept
    ));
    Ok(exit::OK)
}
