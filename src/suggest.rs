//! "Did you mean" hints for a misspelt name.

/// "; did you mean `x`?" for a name within two edits of `name`, else
/// " ({what}: `a`, `b`)" listing the names there are, else nothing.
pub fn hint<'a>(name: &str, names: impl IntoIterator<Item = &'a str>, what: &str) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    match closest(name, names.iter().copied()) {
        Some(n) => format!("; did you mean `{n}`?"),
        None if names.is_empty() => String::new(),
        None => format!(
            " ({what}: {})",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The name within two edits of `name`, the closest one.
pub fn closest<'a>(name: &str, names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    names
        .into_iter()
        .map(|n| (strsim::damerau_levenshtein(n, name), n))
        .filter(|(distance, _)| *distance <= 2)
        .min()
        .map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::hint;

    #[test]
    fn names_the_closest_or_lists_them_all() {
        assert_eq!(
            hint("gama", ["cost", "gamma"], "axes"),
            "; did you mean `gamma`?"
        );
        assert_eq!(
            hint("zzz", ["cost", "gamma"], "axes"),
            " (axes: `cost`, `gamma`)"
        );
        assert_eq!(hint("zzz", [], "axes"), "");
    }
}
