//! Tables as LaTeX `booktabs` tabulars.

use super::Table;
use super::escape::latex as escape;
use super::layout::{Typography, lines};

const TYPOGRAPHY: Typography = Typography {
    missing: "--",
    plus_minus: "$\\pm$",
    // In text mode `-` is a hyphen; the minus sign needs math mode.
    minus: "$-$",
};

/// Renders `table` as a `tabular` with `booktabs` rules (the document needs
/// `\usepackage{booktabs}`). Missing cells show `--`; with a reference, a
/// little space separates each row's ours/reference/difference group.
pub fn to_latex(table: &Table) -> String {
    let mut out = format!(
        "\\begin{{tabular}}{{l{}}}\n\\toprule\n",
        "r".repeat(table.columns.len())
    );
    for column in &table.columns {
        out.push_str(" & ");
        out.push_str(&escape(&column.label));
    }
    out.push_str(" \\\\\n\\midrule\n");
    for (i, line) in lines(table).iter().enumerate() {
        if line.starts_group && i > 0 && table.reference_title.is_some() {
            out.push_str("\\addlinespace\n");
        }
        out.push_str(&escape(&line.label));
        for entry in &line.entries {
            out.push_str(" & ");
            out.push_str(&entry.render(table, &TYPOGRAPHY));
        }
        out.push_str(" \\\\\n");
    }
    out.push_str("\\bottomrule\n\\end{tabular}\n");
    out
}
