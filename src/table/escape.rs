//! Escaping text for Markdown and LaTeX.

/// Characters with an inline meaning in CommonMark or GFM tables. Any ASCII
/// punctuation may be backslash-escaped, so escaping a harmless one is safe.
const MARKDOWN_INLINE: &str = "\\`*_[]<>|~&#!";

/// Escapes plain text as one line of CommonMark (a table cell, a heading, a
/// paragraph): inline syntax and table pipes are backslash-escaped, a start
/// that would open a list or a rule is neutralised, line breaks become spaces.
pub(crate) fn markdown(text: &str) -> String {
    let chars: Vec<char> = text
        .trim()
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    let ends_marker = |i: usize| chars.get(i).is_none_or(|c| c.is_whitespace());
    // `- x`, `+ x` and `---` open a list or a rule; `1. x` and `1) x` a
    // numbered list. Numbers like `-5` or `0.5` open nothing and stay as they are.
    let digits = chars.iter().take_while(|c| c.is_ascii_digit()).count();
    let marker = match chars.first() {
        Some('-') if ends_marker(1) || chars.get(1) == Some(&'-') => Some(0),
        Some('+') if ends_marker(1) => Some(0),
        _ if digits > 0
            && matches!(chars.get(digits), Some('.' | ')'))
            && ends_marker(digits + 1) =>
        {
            Some(digits)
        }
        _ => None,
    };
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        if marker == Some(i) || MARKDOWN_INLINE.contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Unicode symbols a result label is likely to use, and their LaTeX math:
/// pdfLaTeX's default fonts have no glyphs for them in text mode.
const LATEX_MATH: &[(char, &str)] = &[
    ('α', "\\alpha"),
    ('β', "\\beta"),
    ('γ', "\\gamma"),
    ('δ', "\\delta"),
    ('ε', "\\varepsilon"),
    ('η', "\\eta"),
    ('θ', "\\theta"),
    ('κ', "\\kappa"),
    ('λ', "\\lambda"),
    ('μ', "\\mu"),
    ('ν', "\\nu"),
    ('π', "\\pi"),
    ('ρ', "\\rho"),
    ('σ', "\\sigma"),
    ('τ', "\\tau"),
    ('φ', "\\phi"),
    ('ψ', "\\psi"),
    ('ω', "\\omega"),
    ('Γ', "\\Gamma"),
    ('Δ', "\\Delta"),
    ('Λ', "\\Lambda"),
    ('Σ', "\\Sigma"),
    ('Ω', "\\Omega"),
    ('±', "\\pm"),
    ('−', "-"),
    ('×', "\\times"),
    ('≤', "\\leq"),
    ('≥', "\\geq"),
];

/// Escapes plain text for LaTeX text mode: special characters become their
/// commands, Greek letters and maths symbols become inline math.
pub(crate) fn latex(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '~' => out.push_str("\\textasciitilde{}"),
            // In the default OT1 encoding these print as other glyphs.
            '<' => out.push_str("\\textless{}"),
            '>' => out.push_str("\\textgreater{}"),
            '|' => out.push_str("\\textbar{}"),
            '{' | '}' | '$' | '&' | '#' | '%' | '_' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => match LATEX_MATH.iter().find(|(symbol, _)| *symbol == c) {
                Some((_, math)) => {
                    out.push('$');
                    out.push_str(math);
                    out.push('$');
                }
                None => out.push(c),
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_escapes_pipes_and_inline_syntax() {
        assert_eq!(markdown("a|b"), "a\\|b");
        assert_eq!(markdown("weak_quadratic *x*"), "weak\\_quadratic \\*x\\*");
        assert_eq!(markdown("<b>&amp;"), "\\<b\\>\\&amp;");
        assert_eq!(markdown("C:\\dir"), "C:\\\\dir");
        assert_eq!(markdown("two\nlines"), "two lines");
    }

    #[test]
    fn markdown_neutralises_block_starts_only_at_the_start() {
        assert_eq!(markdown("- a - b"), "\\- a - b");
        assert_eq!(markdown("2. second"), "2\\. second");
        assert_eq!(markdown("0.5"), "0.5");
        assert_eq!(markdown("-5"), "-5");
        assert_eq!(markdown("---"), "\\---");
        assert_eq!(markdown("+ x"), "\\+ x");
        assert_eq!(markdown("# title #"), "\\# title \\#");
    }

    #[test]
    fn latex_escapes_specials_and_maps_symbols_to_math() {
        assert_eq!(latex("a_b & 50% $1 #2"), "a\\_b \\& 50\\% \\$1 \\#2");
        assert_eq!(
            latex("{x}^~\\"),
            "\\{x\\}\\textasciicircum{}\\textasciitilde{}\\textbackslash{}"
        );
        assert_eq!(latex("γ = 0.5"), "$\\gamma$ = 0.5");
        assert_eq!(latex("a<b|c"), "a\\textless{}b\\textbar{}c");
    }
}
