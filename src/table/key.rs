//! Pivot keys: param values as rows and columns, where numbers are compared
//! by value so `0.5` and `0.50` are one key.

use std::collections::{BTreeMap, BTreeSet};

use super::TableError;

/// The canonical spelling of a param value: a finite number is written the
/// shortest way that reads back to it (`0.50` → `0.5`, `1e-3` → `0.001`,
/// `-0` → `0`); anything else is the trimmed text.
pub(crate) fn canonical(raw: &str) -> String {
    let raw = raw.trim();
    match number(raw) {
        // Adding 0.0 turns -0 into 0, which would otherwise print as "-0".
        Some(x) => (x + 0.0).to_string(),
        None => raw.to_string(),
    }
}

fn number(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// Sorts canonical keys given in order of first appearance: numbers first,
/// ascending, then text keys in their order of first appearance.
pub(crate) fn ordered(mut keys: Vec<String>) -> Vec<String> {
    // A stable sort where all text keys compare equal keeps their order.
    keys.sort_by(|a, b| match (number(a), number(b)) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    keys
}

/// `keys` without repeats, in order of first appearance.
pub(crate) fn distinct(keys: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    keys.into_iter()
        .filter(|key| seen.insert(key.clone()))
        .collect()
}

/// Re-keys a map by canonical key; `what` names the map in the error raised
/// when two of its keys are the same number.
pub(crate) fn canonical_map<V: Clone>(
    map: &BTreeMap<String, V>,
    what: &str,
) -> Result<BTreeMap<String, V>, TableError> {
    let mut out = BTreeMap::new();
    let mut spelled = BTreeMap::new();
    for (raw, value) in map {
        let key = canonical(raw);
        if let Some(first) = spelled.insert(key.clone(), raw) {
            return Err(TableError::DuplicateKey {
                what: what.to_string(),
                first: first.clone(),
                second: raw.clone(),
            });
        }
        out.insert(key, value.clone());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_spelled_one_way() {
        assert_eq!(canonical("0.50"), "0.5");
        assert_eq!(canonical(" 1e-3 "), "0.001");
        assert_eq!(canonical("-0"), "0");
        assert_eq!(canonical("01"), "1");
        assert_eq!(canonical("weak_quadratic"), "weak_quadratic");
        // Not finite: kept as text rather than folded into one "NaN" key.
        assert_eq!(canonical("nan"), "nan");
    }

    #[test]
    fn numbers_sort_by_value_and_text_keeps_its_order() {
        let keys = ["1", "zeta", "0.25", "alpha", "0", "10", "0.5"];
        let keys = ordered(keys.iter().map(|k| k.to_string()).collect());
        assert_eq!(keys, ["0", "0.25", "0.5", "1", "10", "zeta", "alpha"]);
    }

    #[test]
    fn a_number_spelled_twice_in_a_map_is_an_error() {
        let map = BTreeMap::from([("0.5".to_string(), 1), ("0.50".to_string(), 2)]);
        let err = canonical_map(&map, "column_labels").unwrap_err();
        assert_eq!(
            err.to_string(),
            "column_labels: keys `0.5` and `0.50` are the same number"
        );
    }
}
