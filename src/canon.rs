//! Canonical JSON: the one spelling of a value that cache keys are hashed from.
//!
//! Maps have sorted keys and numbers one form: a float with an integral
//! value is written as that integer (`1.0` and `1` are the same param), and
//! `-0.0` is `0`. Anything else keeps serde_json's shortest round-trip form.

use serde_json::{Map, Number, Value as Json};

/// The canonical JSON number for `x`; `None` for NaN and infinities.
pub fn number(x: f64) -> Option<Json> {
    if !x.is_finite() {
        return None;
    }
    // 2^53: beyond it not every integer is a float, so keep the float form.
    if x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 {
        return Some(Json::from(x as i64));
    }
    Number::from_f64(x).map(Json::Number)
}

/// A copy of `value` with sorted map keys and normalised numbers.
pub fn canonical(value: &Json) -> Json {
    match value {
        Json::Number(n) => match n.as_i64() {
            Some(_) => value.clone(),
            None => n.as_f64().and_then(number).unwrap_or_else(|| value.clone()),
        },
        Json::Array(items) => Json::Array(items.iter().map(canonical).collect()),
        Json::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = Map::with_capacity(map.len());
            for k in keys {
                out.insert(k.clone(), canonical(&map[k]));
            }
            Json::Object(out)
        }
        _ => value.clone(),
    }
}

/// The canonical text of `value`.
pub fn to_string(value: &Json) -> String {
    canonical(value).to_string()
}

/// A value as a short human label (cell names, table headers): strings bare,
/// everything else in canonical JSON.
pub fn label(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => to_string(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integral_floats_become_integers() {
        assert_eq!(
            to_string(&json!({"b": 1.0, "a": [0.5, -0.0]})),
            r#"{"a":[0.5,0],"b":1}"#
        );
        assert_eq!(number(f64::NAN), None);
        assert_eq!(number(1e300).unwrap(), json!(1e300));
    }

    #[test]
    fn key_order_does_not_matter() {
        let a = json!({"x": 1, "y": {"q": 2, "p": 3}});
        let b = json!({"y": {"p": 3, "q": 2.0}, "x": 1});
        assert_eq!(to_string(&a), to_string(&b));
    }
}
