//! Numbers as shown in rendered tables.

/// `x` with `decimals` digits after the point, never as negative zero
/// (`-0.001` at 2 decimals is `0.00`); NaN and infinities spelled out.
pub(crate) fn fixed(x: f64, decimals: usize) -> String {
    if x.is_nan() {
        return "NaN".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let text = format!("{x:.decimals$}");
    match text.strip_prefix('-') {
        Some(magnitude) if magnitude.chars().all(|c| c == '0' || c == '.') => magnitude.to_string(),
        _ => text,
    }
}

/// `number` with a leading `-` written as `minus` (Markdown's `−`, LaTeX's
/// `$-$`).
pub(crate) fn typeset_minus(number: String, minus: &str) -> String {
    match number.strip_prefix('-') {
        Some(magnitude) => format!("{minus}{magnitude}"),
        None => number,
    }
}

/// Like [`fixed`], with a `+` on positive values so a difference's
/// direction reads at a glance.
pub(crate) fn signed(x: f64, decimals: usize) -> String {
    let text = fixed(x, decimals);
    let zero = text.chars().all(|c| c == '0' || c == '.');
    if x > 0.0 && !zero {
        format!("+{text}")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_to_the_requested_decimals_without_negative_zero() {
        assert_eq!(fixed(22.314, 2), "22.31");
        assert_eq!(fixed(22.315_1, 2), "22.32");
        assert_eq!(fixed(-0.001, 2), "0.00");
        assert_eq!(fixed(-0.29, 2), "-0.29");
        assert_eq!(fixed(3.7, 0), "4");
        assert_eq!(fixed(f64::NAN, 2), "NaN");
        assert_eq!(fixed(f64::NEG_INFINITY, 2), "-inf");
    }

    #[test]
    fn differences_carry_their_sign() {
        assert_eq!(signed(0.12, 2), "+0.12");
        assert_eq!(signed(-0.29, 2), "-0.29");
        assert_eq!(signed(0.001, 2), "0.00");
        assert_eq!(signed(f64::INFINITY, 1), "+inf");
    }
}
