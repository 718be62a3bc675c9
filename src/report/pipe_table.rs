//! Markdown pipe tables (the GFM subset that `table::to_markdown` writes)
//! converted to HTML tables.

use super::escape::html;

/// A column's alignment, from the delimiter row (`:--`, `:-:`, `--:`).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Align {
    Default,
    Left,
    Center,
    Right,
}

/// Converts a pipe table (header row, delimiter row, body rows) to an HTML
/// `<table>`. Cell text is taken literally apart from backslash escapes;
/// body rows with too few cells are padded and extra cells dropped, as GFM
/// does. Errs with the reason when `markdown` is not such a table.
pub(crate) fn to_html(markdown: &str) -> Result<String, String> {
    let lines: Vec<&str> = markdown.trim().lines().map(str::trim).collect();
    let [header, delimiter, body @ ..] = lines.as_slice() else {
        return Err("it needs a header row and a delimiter row".to_string());
    };
    let header = cells(header);
    let aligns = delimiter_row(delimiter)?;
    if aligns.len() != header.len() {
        return Err(format!(
            "the header has {} cells but the delimiter row {}",
            header.len(),
            aligns.len()
        ));
    }

    let mut out = String::from("<table>\n<thead>\n");
    out.push_str(&row("th", &header, &aligns));
    out.push_str("</thead>\n<tbody>\n");
    for (i, line) in body.iter().enumerate() {
        if line.is_empty() {
            return Err(format!("line {} is blank", i + 3));
        }
        let mut cells = cells(line);
        cells.resize(header.len(), String::new());
        out.push_str(&row("td", &cells, &aligns));
    }
    out.push_str("</tbody>\n</table>");
    Ok(out)
}

fn row(tag: &str, cells: &[String], aligns: &[Align]) -> String {
    let mut out = String::from("<tr>");
    for (cell, align) in cells.iter().zip(aligns) {
        let class = match align {
            Align::Default => "",
            Align::Left => r#" class="align-left""#,
            Align::Center => r#" class="align-center""#,
            Align::Right => r#" class="align-right""#,
        };
        out.push_str(&format!("<{tag}{class}>{}</{tag}>", html(cell)));
    }
    out.push_str("</tr>\n");
    out
}

fn delimiter_row(line: &str) -> Result<Vec<Align>, String> {
    cells(line)
        .iter()
        .map(|cell| {
            let left = cell.starts_with(':');
            let right = cell.ends_with(':') && cell.len() > 1;
            let dashes = cell.trim_start_matches(':').trim_end_matches(':');
            if dashes.is_empty() || !dashes.chars().all(|c| c == '-') {
                return Err(format!(
                    "`{cell}` in the delimiter row is not like `---`, `:--`, `--:`"
                ));
            }
            Ok(match (left, right) {
                (true, true) => Align::Center,
                (true, false) => Align::Left,
                (false, true) => Align::Right,
                (false, false) => Align::Default,
            })
        })
        .collect()
}

/// The unescaped, trimmed cells of one (trimmed) row. Outer pipes are
/// optional; a pipe escaped as `\|` belongs to its cell.
fn cells(line: &str) -> Vec<String> {
    let line = line.strip_prefix('|').unwrap_or(line);
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) if next.is_ascii_punctuation() => cell.push(next),
                Some(next) => cell.extend(['\\', next]),
                None => cell.push('\\'),
            },
            '|' => cells.push(std::mem::take(&mut cell)),
            _ => cell.push(c),
        }
    }
    // Nothing after the last pipe: it closed the row rather than opened a cell.
    if !cell.is_empty() || cells.is_empty() {
        cells.push(cell);
    }
    cells.iter().map(|cell| cell.trim().to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_what_table_to_markdown_writes() {
        let markdown = "\
| | γ = 0 |
| --- | ---: |
| weak\\_quadratic \\| 2 | 22.31 ± 0.12 |
";
        assert_eq!(
            to_html(markdown).unwrap(),
            "<table>\n<thead>\n<tr><th></th><th class=\"align-right\">γ = 0</th></tr>\n</thead>\n\
             <tbody>\n<tr><td>weak_quadratic | 2</td><td class=\"align-right\">22.31 ± 0.12</td></tr>\n\
             </tbody>\n</table>"
        );
    }

    #[test]
    fn follows_gfm_on_ragged_rows_and_outer_pipes() {
        let html = to_html("a | b\n:-: | :--\n1\n| 2 | 3 | 4 |").unwrap();
        assert!(
            html.contains(
                "<tr><th class=\"align-center\">a</th><th class=\"align-left\">b</th></tr>"
            )
        );
        assert!(
            html.contains(
                "<tr><td class=\"align-center\">1</td><td class=\"align-left\"></td></tr>"
            )
        );
        assert!(
            html.contains(
                "<tr><td class=\"align-center\">2</td><td class=\"align-left\">3</td></tr>"
            )
        );
    }

    #[test]
    fn cell_text_is_escaped_for_html() {
        let html = to_html("| x |\n|---|\n| <script>\\&amp; |").unwrap();
        assert!(html.contains("<td>&lt;script&gt;&amp;amp;</td>"), "{html}");
    }

    #[test]
    fn what_is_not_a_pipe_table_is_an_error() {
        assert_eq!(
            to_html("| a |").unwrap_err(),
            "it needs a header row and a delimiter row"
        );
        assert_eq!(
            to_html("| a | b |\n| --- |").unwrap_err(),
            "the header has 2 cells but the delimiter row 1"
        );
        assert_eq!(
            to_html("| a |\n| -x- |").unwrap_err(),
            "`-x-` in the delimiter row is not like `---`, `:--`, `--:`"
        );
        assert_eq!(
            to_html("| a |\n| - |\n| 1 |\n\n| 2 |").unwrap_err(),
            "line 4 is blank"
        );
    }
}
