//! `nrun import FILE|-`: adds the entries and checkpoints of an `nrun
//! export` stream to the cache, after checking all of it (see `bundle`).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::bundle::import;
use crate::cache::Store;
use crate::error::{Error, Result, exit};

pub fn run(source: &Path, cache: Option<&Path>) -> Result<u8> {
    let store = Store::open(super::cache_dir(cache))?;
    let stdin = source == Path::new("-");
    let reader: Box<dyn Read> = if stdin {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(File::open(source).map_err(|e| Error::io(source, e))?)
    };
    let name = if stdin {
        "<stdin>".to_string()
    } else {
        source.display().to_string()
    };
    let done = import::import(&store, BufReader::with_capacity(1 << 20, reader))
        .map_err(|refused| Error::BadData(format!("{name}: {refused}; the cache is unchanged")))?;
    let steps: Vec<String> = done.checkpoints_added.iter().map(u64::to_string).collect();
    println!(
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
    );
    Ok(exit::OK)
}
