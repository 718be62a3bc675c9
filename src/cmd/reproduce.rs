//! `nrun reproduce-report [--scale NAME]`: runs every pipeline under
//! pipelines/ at that scale, then combines their reports into one Markdown
//! file and one self-contained HTML page under results/reproduce-report/.
//! A pipeline whose input files are missing (the user's own data, such as
//! KMNIST) is skipped, said so on the terminal and in the combined report.

use std::path::Path;

use super::Loaded;
use crate::cli::RunArgs;
use crate::error::{Error, Result, exit};
use crate::report::{Block, Document, concat, copy_figures, to_html, to_markdown};
use crate::spec::overrides::Overrides;

const OUT: &str = "results/reproduce-report";

pub fn run(args: &RunArgs) -> Result<u8> {
    let files = super::list::pipeline_files(Path::new("pipelines"));
    if files.is_empty() {
        return Err(Error::Usage("no pipelines under pipelines/".into()));
    }
    let p = &args.pipeline;
    if p.pipeline.is_some() || !p.sets.is_empty() || !p.grids.is_empty() || !p.targets.is_empty() {
        return Err(Error::Usage(
            "reproduce-report runs every pipeline as declared: it takes --scale and run options, not a pipeline, --set, --grid or --target".into(),
        ));
    }
    let overrides = Overrides {
        scale: p.scale.clone(),
        ..Overrides::default()
    };
    let mut worst = exit::OK;
    let mut docs = Vec::new();
    let mut skipped = Vec::new();
    // The scale the pipelines ran at (the smallest, where they differ),
    // and the order of scales (the first pipeline's that declares some).
    let mut scale: Option<String> = None;
    let mut scales: Vec<String> = Vec::new();
    for file in &files {
        super::say(format!("== {}", file.display()));
        let loaded = match Loaded::load_file(file, &overrides, p.cache.as_deref()) {
            Err(Error::MissingData(missing)) => {
                super::say(format!("skipped: its input data is not there:\n{missing}"));
                skipped.push(file.display().to_string());
                continue;
            }
            loaded => loaded?,
        };
        if scales.is_empty() {
            scales.clone_from(&loaded.pipeline.scales);
        }
        if let Some(ran) = &loaded.pipeline.scale {
            let rank = |s: &str| scales.iter().position(|n| n == s).unwrap_or(usize::MAX);
            if scale.as_deref().is_none_or(|s| rank(ran) < rank(s)) {
                scale = Some(ran.clone());
            }
        }
        let selected = loaded.select(&[])?;
        let code = super::run::execute(&loaded, &selected, args)?;
        worst = worst.max(code);
        if code == exit::INTERRUPTED || code == exit::STOPPED {
            return Ok(code);
        }
        for i in selected {
            let inst = &loaded.plan.instances[i];
            if loaded.pipeline.stages[inst.stage].kind.name() != "report"
                || !loaded.store.contains(&inst.key)
            {
                continue;
            }
            let path = loaded.store.output(&inst.key).join("document.json");
            let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            let doc: Document = serde_json::from_slice(&bytes)
                .map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
            // The entry may be an earlier run's: this run combines it.
            let info = super::run::run_info(&loaded.pipeline, args);
            docs.push(doc.with_run(&info.facts(), &info.command));
        }
    }
    if docs.is_empty() {
        return Err(Error::Other("no pipeline produced a report".into()));
    }
    let mut combined = concat(
        format!(
            "nrun: reproduction of the NOT and KNOT experiments ({} scale)",
            scale.as_deref().unwrap_or("default")
        ),
        &docs,
    );
    if !skipped.is_empty() {
        combined.blocks.insert(
            1,
            Block::Paragraph(format!(
                "Not run here, their input data missing (see each pipeline's comments): {}.",
                skipped.join(", ")
            )),
        );
    }
    // A smaller-scale run never replaces a larger-scale combined report.
    let (out, note) =
        crate::publish::place_beside_larger(Path::new(OUT), scale.as_deref(), &scales);
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| Error::io(&out, e))?;
    let combined = copy_figures(&combined, &out, Path::new("figures"))
        .map_err(|e| Error::Other(e.to_string()))?;
    let md = out.join("report.md");
    std::fs::write(&md, to_markdown(&combined, &out)).map_err(|e| Error::io(&md, e))?;
    let html = out.join("report.html");
    let page = to_html(&combined).map_err(|e| Error::Other(e.to_string()))?;
    std::fs::write(&html, page).map_err(|e| Error::io(&html, e))?;
    crate::publish::mark(&out, scale.as_deref())?;
    if let Some(note) = note {
        super::say(note);
    }
    super::say(format!(
        "combined report of {} pipelines: {} and {}",
        docs.len(),
        md.display(),
        html.display()
    ));
    Ok(worst)
}
