//! `nrun export PIPELINE [--max-size SIZE] > FILE`: the cache entries the
//! pipeline's targets need, and the newest checkpoints of its unfinished
//! trainings, as one tar stream on stdout (see `bundle`).

use std::io::{IsTerminal, Write};

use super::Loaded;
use crate::bundle::export::{self, Wanted, human_bytes};
use crate::cli::PipelineArgs;
use crate::error::{Error, Result, exit};

pub fn run(args: &PipelineArgs, max_size: Option<u64>) -> Result<u8> {
    let stdout = std::io::stdout();
    if stdout.is_terminal() {
        return Err(Error::Usage(
            "export writes a tar stream to stdout: redirect it to a file or a pipe (nrun export ... > work.tar)".into(),
        ));
    }
    let loaded = Loaded::load(args)?;
    let p = &loaded.pipeline;
    let wanted: Vec<Wanted> = loaded
        .select(&args.targets)?
        .into_iter()
        .map(|i| Wanted {
            label: loaded.plan.label(p, i),
            key: loaded.plan.instances[i].key.clone(),
        })
        .collect();
    let cache = loaded.store.root().to_path_buf();
    let selection =
        export::select(&loaded.store, &wanted, max_size).map_err(|e| Error::io(&cache, e))?;
    let mut out = std::io::BufWriter::new(stdout.lock());
    export::write(&loaded.store, &selection, &mut out).map_err(|e| Error::io("<stdout>", e))?;
    out.flush().map_err(|e| Error::io("<stdout>", e))?;
    let count = |kind| selection.items.iter().filter(|i| i.kind == kind).count();
    eprintln!(
        "{}: exported {} entries and {} checkpoints ({}) of {} instances",
        p.name,
        count(crate::bundle::ItemKind::Entry),
        count(crate::bundle::ItemKind::Checkpoint),
        human_bytes(selection.bytes()),
        wanted.len()
    );
    for line in &selection.left_out {
        eprintln!("  left out: {line}");
    }
    Ok(exit::OK)
}
