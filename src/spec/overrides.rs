//! Command-line and scale overrides applied to a pipeline's params before
//! anything is resolved: `--scale`, `--set KEY=VALUE`, `--grid KEY=V1,V2`.

use serde_json::Value as Json;

use super::yaml::{Key, Node, Value};
use crate::error::{Diagnostic, Origin};
use crate::loc::Loc;

/// What the command line asks to change in a pipeline.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub scale: Option<String>,
    pub sets: Vec<Assignment>,
    pub grids: Vec<GridAxis>,
}

/// `--set a.b=value`
#[derive(Clone, Debug, PartialEq)]
pub struct Assignment {
    /// The argument as typed, with its flag: what errors blame.
    pub arg: String,
    pub path: Vec<String>,
    pub value: Json,
}

/// `--grid name=v1,v2`
#[derive(Clone, Debug, PartialEq)]
pub struct GridAxis {
    /// The argument as typed, with its flag: what errors blame.
    pub arg: String,
    pub name: String,
    pub values: Vec<Json>,
}

fn usage(arg: &str, message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        origin: Origin::CommandLine {
            arg: arg.to_string(),
        },
        key: String::new(),
        message: message.into(),
    }
}

/// Reads a command-line scalar the way YAML would: numbers, booleans, text.
pub fn scalar(text: &str) -> Json {
    let t = text.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Json::from(i);
    }
    if let Ok(x) = t.parse::<f64>()
        && let Some(n) = crate::canon::number(x)
    {
        return n;
    }
    match t {
        "true" => Json::Bool(true),
        "false" => Json::Bool(false),
        "null" | "~" => Json::Null,
        _ => Json::String(t.to_string()),
    }
}

/// `text`, the value of flag `arg`, split into its key and value.
fn split_assignment<'a>(arg: &str, text: &'a str) -> Result<(&'a str, &'a str), Diagnostic> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| usage(arg, "expected KEY=VALUE"))?;
    let key = key.trim();
    let valid = !key.is_empty()
        && key.split('.').all(|s| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        });
    if !valid {
        return Err(usage(arg, format!("`{key}` is not a param name")));
    }
    Ok((key, value))
}

impl Assignment {
    pub fn parse(text: &str) -> Result<Self, Diagnostic> {
        let arg = format!("--set {text}");
        let (key, value) = split_assignment(&arg, text)?;
        Ok(Assignment {
            arg: arg.clone(),
            path: key.split('.').map(str::to_string).collect(),
            value: scalar(value),
        })
    }
}

impl GridAxis {
    pub fn parse(text: &str) -> Result<Self, Diagnostic> {
        let arg = format!("--grid {text}");
        let (key, value) = split_assignment(&arg, text)?;
        if key.contains('.') {
            return Err(usage(&arg, "grid axes are top-level names, without dots"));
        }
        let values: Vec<Json> = value.split(',').map(scalar).collect();
        if value.trim().is_empty() {
            return Err(usage(&arg, "a grid axis needs at least one value"));
        }
        let mut seen = Vec::new();
        for v in &values {
            if seen.contains(&crate::canon::to_string(v)) {
                return Err(usage(&arg, format!("value {v} is given twice")));
            }
            seen.push(crate::canon::to_string(v));
        }
        Ok(GridAxis {
            arg: arg.clone(),
            name: key.to_string(),
            values,
        })
    }
}

/// Deep-merges `over` into `base`: maps merge key by key, anything else replaces.
pub fn merge(base: &mut Node, over: &Node) {
    match (&mut base.value, &over.value) {
        (Value::Map(entries), Value::Map(over_entries)) => {
            for (k, v) in over_entries {
                match entries.iter_mut().find(|(key, _)| key.name == k.name) {
                    Some((_, existing)) => merge(existing, v),
                    None => entries.push((k.clone(), v.clone())),
                }
            }
        }
        _ => *base = over.clone(),
    }
}

/// The entry `key` of a map node, created empty if missing.
pub fn entry<'a>(map: &'a mut Node, key: &str) -> Option<&'a mut Node> {
    let Value::Map(entries) = &mut map.value else {
        return None;
    };
    if let Some(i) = entries.iter().position(|(k, _)| k.name == key) {
        return Some(&mut entries[i].1);
    }
    entries.push((
        Key {
            name: key.to_string(),
            loc: Loc::default(),
        },
        Node::new(Value::Map(Vec::new()), Loc::default()),
    ));
    entries.last_mut().map(|(_, v)| v)
}

/// The node at `path` below `node`, if every step exists.
pub fn find_mut<'a>(node: &'a mut Node, path: &[String]) -> Option<&'a mut Node> {
    let mut cur = node;
    for seg in path {
        let Value::Map(entries) = &mut cur.value else {
            return None;
        };
        cur = entries
            .iter_mut()
            .find(|(k, _)| &k.name == seg)
            .map(|(_, v)| v)?;
    }
    Some(cur)
}

pub fn remove(map: &mut Node, key: &str) -> Option<Node> {
    let Value::Map(entries) = &mut map.value else {
        return None;
    };
    let i = entries.iter().position(|(k, _)| k.name == key)?;
    Some(entries.remove(i).1)
}

/// Replaces the value at an existing path, keeping the node's location so a
/// later error still points somewhere useful.
pub fn replace(target: &mut Node, value: &Json) {
    let loc = target.loc;
    *target = Node::from_json(value, loc);
}

/// The usage diagnostic for an assignment nothing matched.
pub fn unknown(assignment: &Assignment, known: &[String]) -> Diagnostic {
    let mut message = format!("unknown param `{}`", assignment.path.join("."));
    if let [grid, axis] = &assignment.path[..]
        && grid == "grid"
    {
        // `--set` reads `[0,1]` as text; the axis's values are inside.
        let text = crate::canon::label(&assignment.value);
        let inner = text
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or(&text);
        let values: Vec<&str> = inner.split(',').map(str::trim).collect();
        message.push_str(&format!(
            "; set a grid axis's values with `--grid {axis}={}`",
            values.join(",")
        ));
    } else if !known.is_empty() {
        message.push_str(&format!(" (params: {})", known.join(", ")));
    }
    usage(&assignment.arg, message)
}

pub fn invalid(arg: &str, message: impl Into<String>) -> Diagnostic {
    usage(arg, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_read_like_yaml() {
        assert_eq!(scalar("0.5"), json!(0.5));
        assert_eq!(scalar("2.0"), json!(2));
        assert_eq!(scalar("true"), json!(true));
        assert_eq!(scalar("weak_kernel"), json!("weak_kernel"));
    }

    #[test]
    fn parses_set_and_grid() {
        let a = Assignment::parse("train.iterations=200").unwrap();
        assert_eq!(a.path, vec!["train", "iterations"]);
        assert_eq!(a.value, json!(200));
        let g = GridAxis::parse("gamma=0,0.5,1").unwrap();
        assert_eq!(g.values, vec![json!(0), json!(0.5), json!(1)]);
        assert!(GridAxis::parse("gamma=1,1.0").is_err());
        assert!(Assignment::parse("novalue").is_err());
        assert!(Assignment::parse("a..b=1").is_err());
    }
}
