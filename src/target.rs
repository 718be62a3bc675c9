//! What `--target` names, resolved into the stage instances a command
//! works on: a named target (its stages), a stage, or some cells of either
//! (`train[cost=weak_kernel gamma=0.5]`: the instances whose cell takes
//! those values), and, transitively, every instance they read. So a run
//! can go on with exactly the cells another machine has not finished.

use std::collections::BTreeSet;

use crate::canon;
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::spec::Pipeline;
use crate::suggest;
use crate::table::canonical_key;

/// One target as typed: a name and the values its cells must take.
#[derive(Debug, PartialEq)]
pub struct Target {
    pub name: String,
    /// (param, value) pairs every chosen cell takes; none: every cell.
    pub values: Vec<(String, String)>,
}

impl Target {
    /// `train`, or `train[gamma=0.5 seed=1]` (spaces or commas between; a
    /// value with either in it quoted: `name="a b"` or `name='a,b'`).
    pub fn parse(text: &str) -> Result<Target> {
        let typed = text;
        let text = text.trim();
        let bad = || {
            Error::Usage(format!(
                "`{typed}`: expected NAME or NAME[PARAM=VALUE ...], e.g. train[gamma=0.5 seed=1]"
            ))
        };
        let Some(open) = text.find('[') else {
            return Ok(Target {
                name: text.to_string(),
                values: Vec::new(),
            });
        };
        let inner = text[open + 1..].strip_suffix(']').ok_or_else(bad)?;
        let values = cell_values(inner).ok_or_else(bad)?;
        let name = text[..open].trim().to_string();
        if name.is_empty() || values.is_empty() {
            return Err(bad());
        }
        Ok(Target { name, values })
    }

    /// Whether instance `i`'s cell takes every value this target names
    /// (`0.50` is `0.5`, as in tables).
    pub fn admits(&self, plan: &Plan, i: usize) -> bool {
        let cell = &plan.instances[i].cell;
        self.values.iter().all(|(param, value)| {
            cell.get(param)
                .is_some_and(|have| canonical_key(&canon::label(have)) == canonical_key(value))
        })
    }

    /// The instances of its stages whose cells it admits; an error that
    /// says what the cells take when there are none, after `shown` (the
    /// target as the command line gave it).
    pub fn instances(&self, p: &Pipeline, plan: &Plan, shown: &str) -> Result<Vec<usize>> {
        let stages = self.stages(p, shown)?;
        let of_stages: Vec<usize> = (0..plan.instances.len())
            .filter(|&i| stages.contains(&plan.instances[i].stage))
            .collect();
        let chosen: Vec<usize> = of_stages
            .iter()
            .copied()
            .filter(|&i| self.admits(plan, i))
            .collect();
        if chosen.is_empty() {
            return Err(Error::Usage(format!(
                "{shown}: {}",
                self.why_none(plan, &of_stages)
            )));
        }
        Ok(chosen)
    }

    /// The stages a name stands for: a named target's, or the stage's own.
    fn stages(&self, p: &Pipeline, shown: &str) -> Result<Vec<usize>> {
        if let Some(stages) = p.targets.get(&self.name) {
            return Ok(stages.iter().filter_map(|s| p.stage_index(s)).collect());
        }
        if let Some(i) = p.stage_index(&self.name) {
            return Ok(vec![i]);
        }
        let mut known: Vec<&str> = p.targets.keys().map(String::as_str).collect();
        known.extend(p.stages.iter().map(|s| s.name.as_str()));
        Err(Error::Usage(format!(
            "{shown}: no target or stage of that name{}",
            suggest::hint(&self.name, known, "known")
        )))
    }

    /// Why no cell of `instances` is admitted: the first param they do not
    /// vary over, or the first value none takes, with what there is.
    fn why_none(&self, plan: &Plan, instances: &[usize]) -> String {
        for (param, value) in &self.values {
            let taken: BTreeSet<String> = instances
                .iter()
                .filter_map(|&i| plan.instances[i].cell.get(param))
                .map(canon::label)
                .collect();
            if taken.is_empty() {
                let axes: BTreeSet<&str> = instances
                    .iter()
                    .flat_map(|&i| plan.instances[i].cell.0.iter().map(|(a, _)| a.as_str()))
                    .collect();
                let hint = if axes.is_empty() {
                    " (it has one instance, of no cell)".to_string()
                } else {
                    suggest::hint(param, axes, "it varies over")
                };
                return format!("{} does not vary over `{param}`{hint}", self.name);
            }
            if !taken
                .iter()
                .any(|t| canonical_key(t) == canonical_key(value))
            {
                let numbers: Option<Vec<f64>> = taken.iter().map(|t| t.parse().ok()).collect();
                let hint = match numbers {
                    // Numbers are near by value, not by spelling: all of them.
                    Some(mut numbers) if value.parse::<f64>().is_ok() => {
                        numbers.sort_by(f64::total_cmp);
                        let listed: Vec<String> =
                            numbers.iter().map(|n| format!("`{n}`")).collect();
                        format!(" (it takes: {})", listed.join(", "))
                    }
                    _ => suggest::hint(value, taken.iter().map(String::as_str), "it takes"),
                };
                return format!("no cell of {} takes {param}={value}{hint}", self.name);
            }
        }
        format!("no cell of {} takes all of those values at once", self.name)
    }
}

/// `gamma=0.5 seed=1` as (param, value) pairs; `None` if malformed.
fn cell_values(inner: &str) -> Option<Vec<(String, String)>> {
    const SEPARATORS: [char; 2] = [' ', ','];
    let mut pairs = Vec::new();
    let mut rest = inner.trim_start_matches(SEPARATORS);
    while !rest.is_empty() {
        let (param, after) = rest.split_once('=')?;
        let param = param.trim();
        if param.is_empty() || param.contains(SEPARATORS) {
            return None;
        }
        let after = after.trim_start();
        let (value, tail) = match after.chars().next() {
            Some(quote @ ('"' | '\'')) => {
                let end = after[1..].find(quote)? + 1;
                (&after[1..end], &after[end + 1..])
            }
            _ => after.split_at(after.find(SEPARATORS).unwrap_or(after.len())),
        };
        if value.is_empty() || !(tail.is_empty() || tail.starts_with(SEPARATORS)) {
            return None;
        }
        pairs.push((param.to_string(), value.to_string()));
        rest = tail.trim_start_matches(SEPARATORS);
    }
    (!pairs.is_empty()).then_some(pairs)
}

/// The instances `targets` need, in plan order: what they name and,
/// transitively, what that reads. Every instance when none is named.
pub fn select(p: &Pipeline, plan: &Plan, targets: &[String]) -> Result<Vec<usize>> {
    if targets.is_empty() {
        return Ok((0..plan.instances.len()).collect());
    }
    let mut wanted = vec![false; plan.instances.len()];
    let mut stack = Vec::new();
    for text in targets {
        let target = Target::parse(text).map_err(|e| Error::Usage(format!("--target {e}")))?;
        stack.extend(target.instances(p, plan, &format!("--target {text}"))?);
    }
    while let Some(i) = stack.pop() {
        if !std::mem::replace(&mut wanted[i], true) {
            stack.extend(&plan.instances[i].deps);
        }
    }
    Ok((0..wanted.len()).filter(|&i| wanted[i]).collect())
}

#[cfg(test)]
mod tests {
    use super::Target;

    fn values(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_target_is_a_name_or_a_name_with_the_values_of_its_cells() {
        assert_eq!(
            Target::parse("report").unwrap(),
            Target {
                name: "report".into(),
                values: vec![]
            }
        );
        for text in [
            "train[gamma=0.5 seed=1]",
            "train[gamma=0.5,seed=1]",
            " train[ gamma=0.5 , seed=1 ] ",
        ] {
            assert_eq!(
                Target::parse(text).unwrap(),
                Target {
                    name: "train".into(),
                    values: values(&[("gamma", "0.5"), ("seed", "1")])
                },
                "{text}"
            );
        }
    }

    #[test]
    fn a_value_with_spaces_or_commas_is_quoted() {
        assert_eq!(
            Target::parse(r#"train[name="a b", gamma=0.5 label='x,y']"#).unwrap(),
            Target {
                name: "train".into(),
                values: values(&[("name", "a b"), ("gamma", "0.5"), ("label", "x,y")])
            }
        );
    }

    #[test]
    fn a_malformed_cell_is_refused_with_the_form_expected() {
        for text in [
            "train[gamma=0.5",
            "train[gamma]",
            "train[]",
            "[gamma=1]",
            "train[=1]",
            "train[name=\"a b]",
            "train[name=\"a\"b]",
            "train[name=\"\"]",
            "train[a b=1]",
        ] {
            let e = Target::parse(text).unwrap_err().to_string();
            assert_eq!(
                e,
                format!(
                    "`{text}`: expected NAME or NAME[PARAM=VALUE ...], e.g. train[gamma=0.5 seed=1]"
                )
            );
        }
    }
}
