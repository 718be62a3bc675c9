//! The canonical record a cache key is hashed from, and the explanation of
//! why a record differs from the previous one.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use crate::canon;

/// `{kind, version, params, inputs}` in canonical form.
pub fn build(kind: &str, version: u32, params: &Json, inputs: BTreeMap<String, Json>) -> Json {
    canon::canonical(&json!({
        "kind": kind,
        "version": version,
        "params": params,
        "inputs": inputs,
    }))
}

/// The cache key: blake3 over the canonical text of the record.
pub fn key(record: &Json) -> String {
    blake3::hash(canon::to_string(record).as_bytes())
        .to_hex()
        .to_string()
}

pub fn short(key: &str) -> &str {
    &key[..key.len().min(12)]
}

/// Why an instance with record `new` must run when `old` was built before.
pub fn explain(old: &Json, new: &Json) -> Vec<String> {
    let mut reasons = Vec::new();
    if old["kind"] != new["kind"] {
        reasons.push(format!(
            "stage kind changed ({} -> {})",
            old["kind"], new["kind"]
        ));
    } else if old["version"] != new["version"] {
        reasons.push(format!(
            "stage implementation version changed ({} -> {})",
            old["version"], new["version"]
        ));
    }
    let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
    flatten("", &old["params"], &mut a);
    flatten("", &new["params"], &mut b);
    let mut changed: Vec<String> = Vec::new();
    for (k, v) in &b {
        match a.get(k) {
            Some(w) if w == v => {}
            Some(w) => changed.push(format!("{k} ({} -> {})", short_value(w), short_value(v))),
            None => changed.push(format!("{k} (new)")),
        }
    }
    for k in a.keys().filter(|k| !b.contains_key(*k)) {
        changed.push(format!("{k} (removed)"));
    }
    if !changed.is_empty() {
        reasons.push(format!("param changed: {}", changed.join(", ")));
    }
    let mut inputs: Vec<&str> = Vec::new();
    let empty = serde_json::Map::new();
    let old_inputs = old["inputs"].as_object().unwrap_or(&empty);
    let new_inputs = new["inputs"].as_object().unwrap_or(&empty);
    for (name, v) in new_inputs {
        if old_inputs.get(name) != Some(v) {
            inputs.push(name);
        }
    }
    for name in old_inputs.keys().filter(|n| !new_inputs.contains_key(*n)) {
        inputs.push(name);
    }
    if !inputs.is_empty() {
        reasons.push(format!("input changed: {}", inputs.join(", ")));
    }
    if reasons.is_empty() {
        reasons.push("output missing".to_string());
    }
    reasons
}

fn flatten(prefix: &str, value: &Json, out: &mut BTreeMap<String, Json>) {
    match value {
        Json::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        _ => {
            if !prefix.is_empty() {
                out.insert(prefix.to_string(), value.clone());
            }
        }
    }
}

fn short_value(v: &Json) -> String {
    let s = canon::label(v);
    if s.chars().count() > 40 {
        format!("{}...", s.chars().take(37).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(version: u32, gamma: f64, data: &str) -> Json {
        build(
            "train",
            version,
            &json!({"gamma": gamma, "opt": {"lr": 1e-4}}),
            BTreeMap::from([("data".to_string(), json!({"stage": data}))]),
        )
    }

    #[test]
    fn key_is_stable_across_spelling() {
        let a = build("x", 1, &json!({"a": 1.0, "b": 2}), BTreeMap::new());
        let b = build("x", 1, &json!({"b": 2, "a": 1}), BTreeMap::new());
        assert_eq!(key(&a), key(&b));
        assert_eq!(key(&a).len(), 64);
    }

    #[test]
    fn explains_each_kind_of_change() {
        let base = rec(1, 0.5, "k1");
        assert_eq!(
            explain(&base, &rec(2, 0.5, "k1")),
            vec!["stage implementation version changed (1 -> 2)"]
        );
        assert_eq!(
            explain(&base, &rec(1, 1.0, "k1")),
            vec!["param changed: gamma (0.5 -> 1)"]
        );
        assert_eq!(
            explain(&base, &rec(1, 0.5, "k2")),
            vec!["input changed: data"]
        );
    }
}
