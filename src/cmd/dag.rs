//! `nrun dag PIPELINE [--format text|dot]`: the stage graph.

use super::Loaded;
use crate::cli::{DagFormat, PipelineArgs};
use crate::error::{Result, exit};
use crate::spec::{Aggregate, InputSource};

pub fn run(args: &PipelineArgs, format: DagFormat) -> Result<u8> {
    let loaded = Loaded::load(args)?;
    let p = &loaded.pipeline;
    let count = |s: usize| {
        loaded
            .plan
            .instances
            .iter()
            .filter(|i| i.stage == s)
            .count()
    };
    let axes = |s: usize| -> String {
        let a: Vec<&str> = p
            .grid
            .axes
            .iter()
            .map(|a| a.name.as_str())
            .filter(|a| loaded.graph.axes[s].contains(*a))
            .collect();
        if a.is_empty() {
            String::new()
        } else {
            format!(" over {}", a.join(" x "))
        }
    };
    match format {
        DagFormat::Text => {
            for &s in &loaded.graph.order {
                let stage = &p.stages[s];
                let inputs: Vec<String> = stage
                    .inputs
                    .iter()
                    .map(|i| match &i.source {
                        InputSource::Stage(u) => format!("{}={}", i.name, p.stages[*u].name),
                        InputSource::Path(n) => format!("{}={}", i.name, n.as_str().unwrap_or("?")),
                    })
                    .collect();
                let aggregate = match &stage.aggregate {
                    Aggregate::None => String::new(),
                    Aggregate::All => " (aggregates all axes)".to_string(),
                    Aggregate::Axes(a) => format!(" (aggregates {})", a.join(", ")),
                };
                println!(
                    "{} [{}] x{}{}{}{}",
                    stage.name,
                    stage.kind.name(),
                    count(s),
                    axes(s),
                    aggregate,
                    if inputs.is_empty() {
                        String::new()
                    } else {
                        format!(" <- {}", inputs.join(", "))
                    }
                );
            }
        }
        DagFormat::Dot => {
            println!("digraph \"{}\" {{", p.name);
            println!("  rankdir=LR;");
            for &s in &loaded.graph.order {
                let stage = &p.stages[s];
                println!(
                    "  \"{}\" [shape=box, label=\"{}\\n{} x{}{}\"];",
                    stage.name,
                    stage.name,
                    stage.kind.name(),
                    count(s),
                    axes(s)
                );
                for input in &stage.inputs {
                    match &input.source {
                        InputSource::Stage(u) => println!(
                            "  \"{}\" -> \"{}\" [label=\"{}\"];",
                            p.stages[*u].name, stage.name, input.name
                        ),
                        InputSource::Path(n) => {
                            let path = n.as_str().unwrap_or("?");
                            println!("  \"{path}\" [shape=note];");
                            println!(
                                "  \"{path}\" -> \"{}\" [label=\"{}\"];",
                                stage.name, input.name
                            );
                        }
                    }
                }
            }
            println!("}}");
        }
    }
    Ok(exit::OK)
}
