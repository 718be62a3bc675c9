//! The crate's layers (ARCHITECTURE.md, "Layers") hold: every top-level
//! module is in one layer, uses only its own layer and the ones above,
//! and no modules use each other in a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Layer of each module, from ARCHITECTURE.md's numbered list.
fn layers() -> BTreeMap<String, usize> {
    let doc = std::fs::read_to_string(repo().join("ARCHITECTURE.md")).unwrap();
    let section = doc
        .split("## Layers")
        .nth(1)
        .expect("ARCHITECTURE.md has a Layers section")
        .split("\n## ")
        .next()
        .unwrap();
    let mut out = BTreeMap::new();
    for line in section.lines() {
        let Some((number, rest)) = line.split_once(". ") else {
            continue;
        };
        let Ok(layer) = number.parse::<usize>() else {
            continue;
        };
        for module in rest.split('`').skip(1).step_by(2) {
            let previous = out.insert(module.to_string(), layer);
            assert!(previous.is_none(), "`{module}` is in two layers");
        }
    }
    out
}

/// The code of `text` without comments and without its unit tests.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap();
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules of `src/` and the modules each one names as
/// `crate::NAME`.
fn uses() -> BTreeMap<String, BTreeSet<String>> {
    let src = repo().join("src");
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in walkdir::WalkDir::new(&src) {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let relative = path.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap();
        let module = first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        let text = code(&std::fs::read_to_string(path).unwrap());
        let used = out.entry(module.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            let name: String = text[i + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            assert!(
                !name.is_empty(),
                "{}: write `use crate::a::..;` once per module, not `crate::{{a, b}}` (this test reads the first name)",
                path.display()
            );
            if name != module {
                used.insert(name);
            }
        }
    }
    out
}

#[test]
fn every_module_uses_only_its_layer_and_those_above() {
    let layers = layers();
    let uses = uses();
    assert!(uses.len() > 20, "found {} modules", uses.len());
    for (module, used) in &uses {
        let own = *layers
            .get(module)
            .unwrap_or_else(|| panic!("`{module}` is in no layer of ARCHITECTURE.md"));
        for other in used {
            let theirs = layers[other];
            assert!(
                theirs <= own,
                "`{module}` (layer {own}) uses `{other}` (layer {theirs}, below it)"
            );
        }
    }
    for listed in layers.keys() {
        assert!(
            uses.contains_key(listed),
            "ARCHITECTURE.md lists `{listed}`, src/ has no such module"
        );
    }
}

#[test]
fn no_modules_use_each_other_in_a_circle() {
    let uses = uses();
    // Depth-first, keeping the path: a module met again on it closes a circle.
    fn visit<'a>(
        module: &'a str,
        uses: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if let Some(start) = path.iter().position(|m| *m == module) {
            panic!(
                "modules in a circle: {} -> {module}",
                path[start..].join(" -> ")
            );
        }
        if !done.insert(module) {
            return;
        }
        path.push(module);
        for other in &uses[module] {
            visit(other, uses, path, done);
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for module in uses.keys() {
        visit(module, &uses, &mut Vec::new(), &mut done);
    }
}
