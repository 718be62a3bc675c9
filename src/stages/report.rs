//! `report`: one Markdown file and one self-contained HTML page from the
//! tables and figures of its inputs, with the command, nrun version,
//! backend, device, repository commit and machine that produced them. `document.json` keeps the
//! document itself for `nrun reproduce-report` to combine, and for
//! publishing to re-render with the publishing run's facts (`republish`).

use serde::Deserialize;

use super::artifacts::{self, Artifact};
use super::{Context, InputSpec, Output, ParamError, StageError, StageKind, Wiring};
use crate::loc::PathSegment;
use crate::plot::{GanttBar, GanttGroup, gantt};
use crate::report::{Block, Document, copy_figures, to_html, to_markdown};
use crate::timeline::Timeline;

pub struct Report;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    heading: String,
    #[serde(default)]
    text: Option<String>,
    /// Inputs whose tables and figures go here, in this order.
    #[serde(default)]
    inputs: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    title: String,
    #[serde(default)]
    intro: Option<String>,
    /// A note printed under the intro at a given scale (e.g. that smoke
    /// numbers are not comparable with a paper's).
    #[serde(default)]
    scale_notes: std::collections::BTreeMap<String, String>,
    sections: Vec<Section>,
}

impl StageKind for Report {
    type Params = Params;
    const NAME: &'static str = "report";
    // 3: the commit and the machine under the run's facts. 4: the run's
    // facts are one block, which publishing replaces by its own run's.
    const VERSION: u32 = 4;
    /// Any inputs: the tables and plots the sections name.
    const INPUTS: Option<&'static [InputSpec]> = None;
    const OUTPUT: Output = Output::Document;

    fn validate(p: &Params) -> Result<(), ParamError> {
        if p.sections.is_empty() {
            return Err(ParamError::at(
                "sections",
                "a report needs at least one section",
            ));
        }
        Ok(())
    }

    /// A section naming an input the stage does not bind would otherwise
    /// fail only after everything upstream ran.
    fn validate_inputs(p: &Params, inputs: &Wiring) -> Result<(), ParamError> {
        for (i, section) in p.sections.iter().enumerate() {
            for (j, name) in section.inputs.iter().enumerate() {
                if !inputs.has(name) {
                    return Err(ParamError {
                        path: vec![
                            PathSegment::Key("sections".into()),
                            PathSegment::Index(i),
                            PathSegment::Key("inputs".into()),
                            PathSegment::Index(j),
                        ],
                        message: format!(
                            "`{name}` is not an input of this stage ({})",
                            inputs.note()
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    fn run(&self, p: Params, ctx: &mut Context) -> Result<(), StageError> {
        let doc = document(&p, ctx)?;
        write(&doc, &ctx.out)
    }
}

/// Re-renders a published copy of a report folder (`report.md`,
/// `report.html`, `document.json`) with the facts of the run publishing it
/// and, when that run built anything, its timeline: a report built by an
/// earlier run and taken from the cache must not show that run's command
/// line and machine as this one's.
pub fn republish(
    dir: &std::path::Path,
    run: &crate::run_info::RunInfo,
    timeline: Option<&Timeline>,
) -> Result<(), StageError> {
    let path = dir.join("document.json");
    let doc: Document = serde_json::from_slice(
        &std::fs::read(&path).map_err(|e| StageError::bad_input(&path, e.to_string()))?,
    )
    .map_err(|e| StageError::bad_input(&path, e.to_string()))?;
    let mut doc = doc.with_run(&run.facts(), &run.command);
    // Drawn beside the copy, then moved among its figures by `write`.
    let drawn = dir.join(".timeline");
    if let Some(timeline) = timeline.filter(|t| !t.bars.is_empty()) {
        doc = doc.with_run_figure(timeline_figure(timeline, &drawn.join("timeline"))?);
    }
    write(&doc, dir)?;
    let _ = std::fs::remove_dir_all(&drawn);
    Ok(())
}

/// Stages named in the timeline's legend, the longest first; the others
/// share one grey entry.
const TIMELINE_STAGES: usize = 8;

/// The run's timeline as a figure: a lane per instance running at once,
/// bars coloured by stage.
fn timeline_figure(t: &Timeline, stem: &std::path::Path) -> Result<Block, StageError> {
    let lanes: Vec<String> = t.lanes().into_iter().map(String::from).collect();
    let mut stages: Vec<(&str, f64)> = Vec::new();
    for bar in &t.bars {
        match stages.iter_mut().find(|(s, _)| *s == bar.stage) {
            Some((_, seconds)) => *seconds += bar.end - bar.start,
            None => stages.push((&bar.stage, bar.end - bar.start)),
        }
    }
    stages.sort_by(|a, b| b.1.total_cmp(&a.1));
    // With more stages than entries, the last entry is "others".
    let named = if stages.len() > TIMELINE_STAGES {
        TIMELINE_STAGES - 1
    } else {
        stages.len()
    };
    let mut groups: Vec<GanttGroup> = stages[..named]
        .iter()
        .map(|(s, seconds)| GanttGroup {
            name: format!("{s}: {seconds:.1} s"),
            muted: false,
        })
        .collect();
    if named < stages.len() {
        let rest = &stages[named..];
        groups.push(GanttGroup {
            name: format!(
                "{} other stages: {:.1} s",
                rest.len(),
                rest.iter().map(|(_, s)| s).sum::<f64>()
            ),
            muted: true,
        });
    }
    let bars: Vec<GanttBar> = t
        .bars
        .iter()
        .map(|b| GanttBar {
            lane: lanes
                .iter()
                .position(|l| *l == b.lane)
                .expect("a bar's lane is listed"),
            group: stages[..named]
                .iter()
                .position(|(s, _)| *s == b.stage)
                .unwrap_or(named),
            start: b.start,
            end: b.end,
        })
        .collect();
    let files = gantt(
        stem,
        "Timeline of this run",
        "seconds since the run began",
        &lanes,
        &groups,
        &bars,
        t.wall,
    )?;
    Ok(Block::Figure {
        path: files.png,
        caption: format!(
            "Where this run's time went: {:.0} s wall, {}. One lane per instance running at once, GPU instances on their GPU slot's lane.",
            t.wall,
            t.totals()
        ),
    })
}

/// Writes `document.json`, the figures, `report.md` and `report.html` into `out`.
fn write(doc: &Document, out: &std::path::Path) -> Result<(), StageError> {
    // The document with figures still in their (immutable) upstream
    // entries: what `nrun reproduce-report` combines.
    super::files::write_json(&out.join("document.json"), doc)?;
    let doc = copy_figures(doc, out, std::path::Path::new("figures"))?;
    super::files::write(&out.join("report.md"), to_markdown(&doc, out))?;
    super::files::write(&out.join("report.html"), to_html(&doc)?)
}

fn table_name(input: &str, cell: &crate::grid::Cell) -> String {
    if cell.is_empty() {
        input.to_string()
    } else {
        format!("{input}_{}", cell.label())
    }
}

/// Copies a table's CSV, Markdown and LaTeX (same stem) beside the report.
fn copy_table_files(
    markdown: &std::path::Path,
    dir: &std::path::Path,
    name: &str,
) -> Result<(), StageError> {
    std::fs::create_dir_all(dir).map_err(StageError::write(dir))?;
    for ext in ["csv", "md", "tex"] {
        let from = markdown.with_extension(ext);
        if from.exists() {
            let to = dir.join(format!("{name}.{ext}"));
            std::fs::copy(&from, &to).map_err(StageError::write(&to))?;
        }
    }
    Ok(())
}

/// The report's blocks.
pub fn document(p: &Params, ctx: &Context) -> Result<Document, StageError> {
    let mut doc = Document::new(&p.title);
    if let Some(intro) = &p.intro {
        doc.push(Block::Paragraph(intro.clone()));
    }
    let run = &ctx.run;
    if let Some(note) = run.scale.as_ref().and_then(|s| p.scale_notes.get(s)) {
        doc.push(Block::Paragraph(note.clone()));
    }
    doc.push(Block::RunFacts {
        facts: run.facts(),
        command: run.command.clone(),
    });
    for section in &p.sections {
        doc.push(Block::Heading(2, section.heading.clone()));
        if let Some(text) = &section.text {
            doc.push(Block::Paragraph(text.clone()));
        }
        for name in &section.inputs {
            let ups = ctx.upstreams(name)?;
            for up in ups {
                for artifact in artifacts::read(&up.dir)? {
                    match artifact {
                        Artifact::Table { file, caption } => {
                            let source = up.dir.join(&file);
                            let markdown = std::fs::read_to_string(&source)
                                .map_err(|e| StageError::bad_input(&source, e.to_string()))?;
                            copy_table_files(
                                &source,
                                &ctx.out.join("tables"),
                                &table_name(name, &up.cell),
                            )?;
                            doc.push(Block::Table { markdown, caption });
                        }
                        Artifact::Figure { file, caption } => {
                            doc.push(Block::Figure {
                                path: up.dir.join(file),
                                caption,
                            });
                        }
                    }
                }
            }
        }
    }
    Ok(doc)
}
