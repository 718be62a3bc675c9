//! Reports as Markdown.

use std::path::{Component, Path};

use super::outline::{Outline, level_of};
use super::{Block, Document};
use crate::table::escape_markdown as escape;

/// Renders `doc` as GitHub-flavoured Markdown. Figures are linked, not
/// embedded: by their path relative to `out_dir` (where the Markdown file
/// goes) when under it, as after [`copy_figures`](super::copy_figures),
/// otherwise by their path as given.
pub fn to_markdown(doc: &Document, out_dir: &Path) -> String {
    let outline = Outline::of(doc);
    let mut parts = vec![format!("# {}", escape(&doc.title))];
    for block in &doc.blocks {
        let part = match block {
            Block::Heading(level, text) => {
                format!("{} {}", "#".repeat(level_of(*level).into()), escape(text))
            }
            Block::Paragraph(text) => escape(text),
            Block::Code(text) => fenced(text),
            Block::Table { markdown, caption } => {
                with_caption(markdown.trim().to_string(), caption, true)
            }
            Block::Figure { path, caption } => {
                let image = format!("![{}]({})", escape(caption), link(path, out_dir));
                with_caption(image, caption, false)
            }
            Block::KeyValues(pairs) => key_values(pairs),
            Block::RunFacts { facts, command } => {
                format!(
                    "{}\n\nProduced by:\n\n{}",
                    key_values(facts),
                    fenced(command)
                )
            }
            Block::Contents { max_level } => {
                let entries = outline.contents(doc, *max_level);
                let top = entries.iter().map(|e| e.level).min().unwrap_or(1);
                entries
                    .iter()
                    .map(|e| {
                        let indent = "  ".repeat((e.level - top).into());
                        format!("{indent}- [{}](#{})", escape(e.text), e.id)
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        };
        // Skips empty lists, which would otherwise leave stray blank lines.
        if !part.is_empty() {
            parts.push(part);
        }
    }
    parts.join("\n\n") + "\n"
}

fn key_values(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(key, value)| format!("- **{}:** {}", escape(key), escape(value)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Puts `caption` in italics above (tables) or below (figures) `body`.
fn with_caption(body: String, caption: &str, above: bool) -> String {
    if caption.trim().is_empty() {
        return body;
    }
    let caption = format!("*{}*", escape(caption));
    if above {
        format!("{caption}\n\n{body}")
    } else {
        format!("{body}\n\n{caption}")
    }
}

/// A fenced code block whose fence is longer than any backtick run in `text`.
fn fenced(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}\n{}\n{fence}", text.trim_end_matches('\n'))
}

/// `path` as a link target: relative to `out_dir` when under it, with `/`
/// separators and anything but unreserved URL characters percent-encoded.
fn link(path: &Path, out_dir: &Path) -> String {
    let path = path.strip_prefix(out_dir).unwrap_or(path);
    let segments: Vec<String> = path
        .components()
        .map(|component| match component {
            // An empty first segment joins into the leading `/`.
            Component::RootDir => String::new(),
            _ => percent_encode(&component.as_os_str().to_string_lossy()),
        })
        .collect();
    segments.join("/")
}

fn percent_encode(segment: &str) -> String {
    let mut out = String::new();
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte.into());
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn every_block_renders_as_escaped_markdown() {
        let mut doc = Document::new("MNIST | 2×");
        doc.push(Block::Contents { max_level: 2 })
            .push(Block::Heading(2, "Setup".into()))
            .push(Block::KeyValues(vec![
                ("nrun".into(), "0.1.0".into()),
                ("scale".into(), "*full*".into()),
            ]))
            .push(Block::Code("nrun run --scale full\n".into()))
            .push(Block::Heading(2, "Results".into()))
            .push(Block::Paragraph("PSNR <higher> is better".into()))
            .push(Block::Table {
                markdown: "| | γ = 0 |\n| --- | ---: |\n| NOT | 22.31 |\n".into(),
                caption: "Table 1: PSNR".into(),
            })
            .push(Block::Figure {
                path: PathBuf::from("/out/figures/psnr vs γ.png"),
                caption: "PSNR [dB]".into(),
            })
            .push(Block::KeyValues(Vec::new()));
        assert_eq!(
            to_markdown(&doc, Path::new("/out")),
            "\
# MNIST \\| 2×

- [Setup](#setup)
- [Results](#results)

## Setup

- **nrun:** 0.1.0
- **scale:** \\*full\\*

```
nrun run --scale full
```

## Results

PSNR \\<higher\\> is better

*Table 1: PSNR*

| | γ = 0 |
| --- | ---: |
| NOT | 22.31 |

![PSNR \\[dB\\]](figures/psnr%20vs%20%CE%B3.png)

*PSNR \\[dB\\]*
"
        );
    }

    #[test]
    fn figures_outside_the_output_keep_their_path() {
        let mut doc = Document::new("t");
        doc.push(Block::Figure {
            path: PathBuf::from("/data/a.png"),
            caption: String::new(),
        });
        assert_eq!(
            to_markdown(&doc, Path::new("/out")),
            "# t\n\n![](/data/a.png)\n"
        );
    }

    #[test]
    fn code_fences_outgrow_the_backticks_inside() {
        assert_eq!(fenced("a ``` b"), "````\na ``` b\n````");
        assert_eq!(fenced("x"), "```\nx\n```");
    }
}
