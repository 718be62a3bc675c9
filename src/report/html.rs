//! Reports as one self-contained HTML page.

use super::escape::html as escape;
use super::outline::{Outline, level_of};
use super::{Block, Document, ReportError, pipe_table, png};

const STYLE: &str = include_str!("style.css");

/// Renders `doc` as one HTML5 page that needs nothing else: the style is
/// inline, tables are converted from their Markdown, figures are embedded
/// as `data:` URIs, and there is no script. Errs on a figure that cannot be
/// read or is no PNG, and on a table that is no pipe table.
pub fn to_html(doc: &Document) -> Result<String, ReportError> {
    let outline = Outline::of(doc);
    let title = escape(&doc.title);
    // The empty icon stops a browser asking the server for /favicon.ico.
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<link rel=\"icon\" href=\"data:,\">\n\
         <style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n<h1 id=\"{}\">{title}</h1>\n",
        escape(&outline.title_id)
    );
    for (i, block) in doc.blocks.iter().enumerate() {
        out.push_str(&match block {
            Block::Heading(level, text) => {
                let level = level_of(*level);
                let id = escape(outline.id(i).unwrap_or_default());
                format!("<h{level} id=\"{id}\">{}</h{level}>", escape(text))
            }
            Block::Paragraph(text) => format!("<p>{}</p>", escape(text)),
            Block::Code(text) => format!("<pre><code>{}</code></pre>", escape(text.trim_end())),
            Block::Table { markdown, caption } => {
                let table = pipe_table::to_html(markdown).map_err(|reason| ReportError::Table {
                    caption: caption.clone(),
                    reason,
                })?;
                format!(
                    "<figure class=\"table\">\n<figcaption>{}</figcaption>\n{table}\n</figure>",
                    escape(caption)
                )
            }
            Block::Figure { path, caption } => format!(
                "<figure>\n<img src=\"{}\" alt=\"{caption}\">\n<figcaption>{caption}</figcaption>\n</figure>",
                png::data_uri(path)?,
                caption = escape(caption)
            ),
            Block::KeyValues(pairs) => facts(pairs),
            Block::RunFacts {
                facts: pairs,
                command,
            } => format!(
                "{}\n<p>Produced by:</p>\n<pre><code>{}</code></pre>",
                facts(pairs),
                escape(command.trim_end())
            ),
            Block::Contents { max_level } => {
                let items: String = outline
                    .contents(doc, *max_level)
                    .iter()
                    .map(|e| {
                        format!(
                            "<li class=\"level-{}\"><a href=\"#{}\">{}</a></li>\n",
                            e.level,
                            escape(e.id),
                            escape(e.text)
                        )
                    })
                    .collect();
                format!("<nav class=\"contents\" aria-label=\"Contents\">\n<ul>\n{items}</ul>\n</nav>")
            }
        });
        out.push('\n');
    }
    out.push_str("</main>\n</body>\n</html>\n");
    Ok(out)
}

fn facts(pairs: &[(String, String)]) -> String {
    let rows: String = pairs
        .iter()
        .map(|(key, value)| {
            format!(
                "<tr><th scope=\"row\">{}</th><td>{}</td></tr>\n",
                escape(key),
                escape(value)
            )
        })
        .collect();
    format!("<table class=\"facts\">\n<tbody>\n{rows}</tbody>\n</table>")
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// A 1×1 PNG, enough for the renderer (it checks the header only).
    fn png(dir: &tempfile::TempDir) -> PathBuf {
        let path = dir.path().join("a.png");
        std::fs::write(&path, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01").unwrap();
        path
    }

    #[test]
    fn the_page_is_self_contained_html5() {
        let dir = tempfile::tempdir().unwrap();
        let mut doc = Document::new("Report <1>");
        doc.push(Block::Contents { max_level: 2 })
            .push(Block::Heading(2, "Results & more".into()))
            .push(Block::Figure {
                path: png(&dir),
                caption: "a \"quoted\" caption".into(),
            })
            .push(Block::KeyValues(vec![("device".into(), "cpu".into())]))
            .push(Block::Code("nrun run <x>".into()));
        let html = to_html(&doc).unwrap();
        assert!(
            html.starts_with(
                "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"
            )
        );
        assert!(html.contains("<title>Report &lt;1&gt;</title>"));
        assert!(html.contains("<h1 id=\"report-1\">Report &lt;1&gt;</h1>"));
        assert!(html.contains(
            "<li class=\"level-2\"><a href=\"#results--more\">Results &amp; more</a></li>"
        ));
        assert!(html.contains("<h2 id=\"results--more\">Results &amp; more</h2>"));
        assert!(html.contains(
            "<img src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB\" alt=\"a &quot;quoted&quot; caption\">"
        ));
        assert!(html.contains("<tr><th scope=\"row\">device</th><td>cpu</td></tr>"));
        assert!(html.contains("<pre><code>nrun run &lt;x&gt;</code></pre>"));
        assert!(!html.contains("<script") && !html.contains("http:") && !html.contains("https:"));
        assert!(html.ends_with("</main>\n</body>\n</html>\n"));
    }

    #[test]
    fn tables_become_html_under_their_caption() {
        let mut doc = Document::new("t");
        doc.push(Block::Table {
            markdown: "| a |\n| - |\n| 1 |".into(),
            caption: "Table 1".into(),
        });
        let html = to_html(&doc).unwrap();
        assert!(
            html.contains("<figure class=\"table\">\n<figcaption>Table 1</figcaption>\n<table>"),
            "{html}"
        );
        assert!(html.contains("<tr><td>1</td></tr>"));
    }

    #[test]
    fn errors_name_the_table_or_figure() {
        let mut doc = Document::new("t");
        doc.push(Block::Table {
            markdown: "not a table".into(),
            caption: "Table 2".into(),
        });
        assert_eq!(
            to_html(&doc).unwrap_err().to_string(),
            "table `Table 2` is not a Markdown pipe table: it needs a header row and a delimiter row"
        );
        let dir = tempfile::tempdir().unwrap();
        let svg = dir.path().join("f.svg");
        std::fs::write(&svg, "<svg/>").unwrap();
        let mut doc = Document::new("t");
        doc.push(Block::Figure {
            path: svg.clone(),
            caption: String::new(),
        });
        assert_eq!(
            to_html(&doc).unwrap_err().to_string(),
            format!("{}: figure is not a PNG file", svg.display())
        );
    }
}
