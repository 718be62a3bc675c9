//! `nrun show PIPELINE`: the scored cells as one table, or with
//! `--timeline` the newest run's timeline (see `crate::show`).

use super::Loaded;
use crate::cli::ShowArgs;
use crate::error::{Error, Result, exit};
use crate::results;
use crate::show::{self, Order, ViewSpec};

pub fn run(args: &ShowArgs) -> Result<u8> {
    let spec = view_spec(args)?;
    let loaded = Loaded::load(&args.pipeline)?;
    if args.timeline {
        let path = results::pipeline_dir(&loaded.pipeline).join("last-run.json");
        let bytes = std::fs::read(&path).map_err(|_| {
            Error::Usage(format!(
                "no run of {} recorded yet ({} is missing)",
                loaded.pipeline.name,
                path.display()
            ))
        })?;
        let text = show::timeline(&bytes)
            .map_err(|e| Error::BadData(format!("{}: {e}", path.display())))?;
        print!("{text}");
        return Ok(exit::OK);
    }
    let selected = loaded.select(&args.pipeline.targets)?;
    let mut sheet = show::collect(
        &loaded.pipeline,
        &loaded.plan,
        &loaded.store,
        &selected,
        args.train,
    )
    .map_err(|e| Error::Other(e.to_string()))?;
    if let Some(path) = &args.against {
        let before =
            show::reference(path, &loaded.pipeline, &loaded.plan, &loaded.store).map_err(|e| {
                match e {
                    show::AgainstError::Table(e) => Error::Other(e.to_string()),
                    e => Error::BadData(e.to_string()),
                }
            })?;
        show::attach(&mut sheet.rows, &before);
    }
    let view = show::view(sheet, &spec).map_err(|e| Error::Usage(e.to_string()))?;
    print!("{}", show::render(&view, args.format));
    Ok(exit::OK)
}

/// The flags as a view, each `--only` checked for its `PARAM=VALUES` form.
fn view_spec(args: &ShowArgs) -> Result<ViewSpec> {
    let only = args
        .only
        .iter()
        .map(|arg| match arg.split_once('=') {
            Some((name, values)) if !name.trim().is_empty() && !values.trim().is_empty() => Ok((
                name.trim().to_string(),
                values.split(',').map(|v| v.trim().to_string()).collect(),
            )),
            _ => Err(Error::Usage(format!(
                "--only {arg}: expected PARAM=V1,V2,... (e.g. --only gamma=0,0.5)"
            ))),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(ViewSpec {
        only,
        sort: args.sort.clone(),
        order: if args.desc {
            Order::Descending
        } else {
            Order::Ascending
        },
        metrics: args.metrics.clone(),
    })
}
