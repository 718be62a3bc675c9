//! The checker's core: located errors, maps of allowed keys, the
//! pipeline's top level, scales, overrides, params and the executor.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use super::overrides::Overrides;
use super::yaml::{Key, Node, Value};
use super::{Checker, ExecutorSpec, Pipeline, SlurmConfig, overrides};
use crate::error::{Diagnostic, Origin};
use crate::grid::{Axis, Grid};
use crate::loc::{Loc, PathSegment};

const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "params",
    "scales",
    "targets",
    "stages",
    "executor",
];

impl Checker {
    pub(super) fn error(&mut self, loc: Loc, key: impl Into<String>, message: impl Into<String>) {
        self.diags.push(Diagnostic {
            origin: Origin::File {
                path: self.file.clone(),
                loc,
            },
            key: key.into(),
            message: message.into(),
        });
    }

    /// `node` as a map whose keys are all in `allowed`; reports the rest.
    pub(super) fn map<'n>(
        &mut self,
        node: &'n Node,
        key: &str,
        allowed: &[&str],
    ) -> Option<&'n [(Key, Node)]> {
        let Some(entries) = node.as_map() else {
            self.error(
                node.loc,
                key,
                format!("expected a mapping, found {}", node.type_name()),
            );
            return None;
        };
        for (k, _) in entries {
            if !allowed.is_empty() && !allowed.contains(&k.name.as_str()) {
                self.error(
                    k.loc,
                    join(key, &k.name),
                    format!(
                        "unknown key `{}` (expected one of: {})",
                        k.name,
                        allowed.join(", ")
                    ),
                );
            }
        }
        Some(entries)
    }

    pub(super) fn string(&mut self, node: &Node, key: &str) -> Option<String> {
        match &node.value {
            Value::Str(s) => Some(s.clone()),
            _ => {
                self.error(
                    node.loc,
                    key,
                    format!("expected a string, found {}", node.type_name()),
                );
                None
            }
        }
    }

    pub(super) fn name(&mut self, name: &str, loc: Loc, key: &str, what: &str) -> bool {
        let ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
            && !name.starts_with('.');
        if !ok {
            self.error(
                loc,
                key,
                format!("{what} `{name}` may only use letters, digits, `_`, `-` and `.`"),
            );
        }
        ok
    }

    pub(super) fn pipeline(&mut self, root: Node, overrides: &Overrides) -> Option<Pipeline> {
        let top = self.map(&root, "", TOP_KEYS)?;
        let get = |k: &str| top.iter().find(|(key, _)| key.name == k).map(|(_, v)| v);

        let name = match get("name") {
            Some(n) => self
                .string(n, "name")
                .filter(|s| self.name(s, n.loc, "name", "pipeline name")),
            None => {
                self.error(root.loc, "name", "missing required key `name`");
                None
            }
        };
        let description = get("description")
            .and_then(|d| self.string(d, "description"))
            .unwrap_or_default();

        let mut params = get("params")
            .cloned()
            .unwrap_or_else(|| Node::new(Value::Map(Vec::new()), root.loc));
        self.map(&params, "params", &[])?;
        let mut stages_node = match get("stages") {
            Some(s) => s.clone(),
            None => {
                self.error(root.loc, "stages", "missing required key `stages`");
                return None;
            }
        };
        self.map(&stages_node, "stages", &[])?;

        let axis_values = axis_values(&params, get("scales"));
        let (scale, scales) = self.select_scale(get("scales"), overrides, &mut params)?;
        let command_line = self.apply_overrides(overrides, &mut params, &mut stages_node);
        let (grid, mut flat) = self.params(&params);
        // `--grid` chose these axes' values for this run: an `only` may
        // rightly keep fewer of its cells, or none.
        let axis_values: AxisValues = axis_values
            .into_iter()
            .filter(|(axis, _)| !command_line.contains_key(axis))
            .collect();
        if let Some(s) = &scale {
            flat.entry("scale".to_string())
                .or_insert(Json::String(s.clone()));
        }

        let stage_entries = stages_node.as_map().unwrap_or_default();
        let names: Vec<&str> = stage_entries.iter().map(|(k, _)| k.name.as_str()).collect();
        let mut stages = Vec::new();
        for (key, node) in stage_entries {
            if let Some(stage) = self.stage(key, node, &names, &grid, &flat, &axis_values) {
                stages.push(stage);
            }
        }
        let targets = self.targets(get("targets"), &names);
        let executor = get("executor").map_or(ExecutorSpec::Local, |n| self.executor(n));
        for stage in &stages {
            let first = stage.publish.as_deref().and_then(|p| p.split('/').next());
            if let Some(dir) = first.filter(|d| names.contains(d)) {
                self.error(
                    stage.loc,
                    format!("stages.{}.publish", stage.name),
                    format!("`{dir}` is a stage's readable folder; publish somewhere else"),
                );
            }
        }
        self.check_aggregates(&stages, stage_entries, &grid);
        self.check_wiring(&stages, &names);

        Some(Pipeline {
            file: self.file.clone(),
            name: name?,
            description,
            scale,
            scales,
            grid,
            params: flat,
            targets,
            executor,
            stages,
            command_line,
        })
    }

    /// Picks the scale preset and merges its params in.
    pub(super) fn select_scale(
        &mut self,
        scales: Option<&Node>,
        overrides: &Overrides,
        params: &mut Node,
    ) -> Option<(Option<String>, Vec<String>)> {
        let Some(scales) = scales else {
            if let Some(s) = &overrides.scale {
                self.diags.push(overrides::invalid(
                    &format!("--scale {s}"),
                    "this pipeline declares no `scales`",
                ));
            }
            return Some((None, Vec::new()));
        };
        let entries = self.map(scales, "scales", &[])?;
        let names: Vec<String> = entries.iter().map(|(k, _)| k.name.clone()).collect();
        let chosen = overrides.scale.clone().or_else(|| names.first().cloned());
        let Some(chosen) = chosen else {
            return Some((None, names));
        };
        match entries.iter().find(|(k, _)| k.name == chosen) {
            Some((_, preset)) => {
                if self.map(preset, &join("scales", &chosen), &[]).is_some() {
                    overrides::merge(params, preset);
                }
            }
            None => self.diags.push(overrides::invalid(
                &format!("--scale {chosen}"),
                format!("unknown scale (this pipeline has: {})", names.join(", ")),
            )),
        }
        Some((Some(chosen), names))
    }

    /// Applies `--grid` and `--set`; what each one set (a param or axis by
    /// its dotted name, a stage's param as `stages.STAGE.params.PATH`), with
    /// the argument.
    pub(super) fn apply_overrides(
        &mut self,
        overrides: &Overrides,
        params: &mut Node,
        stages: &mut Node,
    ) -> BTreeMap<String, String> {
        let mut set_by = BTreeMap::new();
        for axis in &overrides.grids {
            set_by.insert(axis.name.clone(), axis.arg.clone());
            let values = Node::from_json(&Json::Array(axis.values.clone()), Loc::default());
            overrides::remove(params, &axis.name);
            if let Some(grid) = overrides::entry(params, "grid") {
                match overrides::find_mut(grid, std::slice::from_ref(&axis.name)) {
                    Some(existing) => *existing = values,
                    None => {
                        if let Value::Map(entries) = &mut grid.value {
                            entries.push((
                                Key {
                                    name: axis.name.clone(),
                                    loc: Loc::default(),
                                },
                                values,
                            ));
                        }
                    }
                }
            }
        }
        for set in &overrides.sets {
            // An axis given one value by --set collapses to that value.
            if set.path.len() == 1
                && let Some(grid) = overrides::find_mut(params, &["grid".to_string()])
                && let Some(axis) = overrides::find_mut(grid, &set.path)
            {
                *axis = Node::from_json(&Json::Array(vec![set.value.clone()]), axis.loc);
                set_by.insert(set.path.join("."), set.arg.clone());
                continue;
            }
            if set.path.first().map(String::as_str) != Some("grid")
                && let Some(target) = overrides::find_mut(params, &set.path)
            {
                overrides::replace(target, &set.value);
                set_by.insert(set.path.join("."), set.arg.clone());
                continue;
            }
            // `--set STAGE.PARAM=V` overrides a stage's own param.
            if set.path.len() >= 2
                && let Some(stage) = overrides::find_mut(stages, &set.path[..1])
                && let Some(stage_params) = overrides::entry(stage, "params")
            {
                let rest = &set.path[1..];
                set_by.insert(
                    format!("stages.{}.params.{}", set.path[0], rest.join(".")),
                    set.arg.clone(),
                );
                match overrides::find_mut(stage_params, rest) {
                    Some(target) => overrides::replace(target, &set.value),
                    None => {
                        let (last, parents) = rest.split_last().expect("non-empty");
                        match overrides::find_mut(stage_params, parents) {
                            Some(parent) if parent.as_map().is_some() => {
                                if let Some(slot) = overrides::entry(parent, last) {
                                    *slot = Node::from_json(&set.value, Loc::default());
                                }
                            }
                            _ => self.diags.push(overrides::unknown(set, &[])),
                        }
                    }
                }
                continue;
            }
            let (_, flat) = self.params(params);
            let known: Vec<String> = flat.keys().cloned().collect();
            self.diags.push(overrides::unknown(set, &known));
        }
        set_by
    }

    /// Splits params into the grid and the flat table of the others.
    pub(super) fn params(&mut self, params: &Node) -> (Grid, BTreeMap<String, Json>) {
        let mut grid = Grid::default();
        let mut flat = BTreeMap::new();
        for (k, v) in params.as_map().unwrap_or_default() {
            if k.name == "grid" {
                let Some(axes) = self.map(v, "params.grid", &[]) else {
                    continue;
                };
                for (axis, values) in axes {
                    let key = format!("params.grid.{}", axis.name);
                    if !self.name(&axis.name, axis.loc, &key, "axis") {
                        continue;
                    }
                    let Value::Seq(items) = &values.value else {
                        self.broken_axes.insert(axis.name.clone());
                        self.error(
                            values.loc,
                            key,
                            format!(
                                "a grid axis is a list of values, found {}",
                                values.type_name()
                            ),
                        );
                        continue;
                    };
                    if items.is_empty() {
                        self.broken_axes.insert(axis.name.clone());
                        self.error(values.loc, key, "a grid axis needs at least one value");
                        continue;
                    }
                    let mut seen = BTreeSet::new();
                    let mut vals = Vec::new();
                    for item in items {
                        if matches!(item.value, Value::Seq(_) | Value::Map(_) | Value::Null) {
                            self.error(
                                item.loc,
                                &key,
                                format!("axis values are scalars, found {}", item.type_name()),
                            );
                            continue;
                        }
                        let json = crate::canon::canonical(&item.to_json());
                        if !seen.insert(crate::canon::to_string(&json)) {
                            self.error(item.loc, &key, format!("value {json} appears twice"));
                        }
                        vals.push(json);
                    }
                    grid.axes.push(Axis {
                        name: axis.name.clone(),
                        values: vals,
                    });
                }
            } else {
                flatten(&k.name, v, &mut flat);
            }
        }
        for axis in &grid.axes {
            if flat.contains_key(&axis.name) {
                let loc = params.get(&axis.name).map(|n| n.loc).unwrap_or(params.loc);
                self.error(
                    loc,
                    join("params", &axis.name),
                    format!("`{}` is both a param and a grid axis", axis.name),
                );
            }
        }
        (grid, flat)
    }

    /// `executor: {kind: local}` or `{kind: slurm, partition, account, qos, sbatch, poll_min, poll_max}`.
    pub(super) fn executor(&mut self, node: &Node) -> ExecutorSpec {
        let Some(entries) = self.map(node, "executor", &[]) else {
            return ExecutorSpec::Local;
        };
        let kind = entries
            .iter()
            .find(|(k, _)| k.name == "kind")
            .map(|(_, v)| v);
        match kind.and_then(|k| k.as_str()) {
            Some("local") => {
                self.map(node, "executor", &["kind"]);
                ExecutorSpec::Local
            }
            Some("slurm") => {
                let mut json = node.to_json();
                if let Some(obj) = json.as_object_mut() {
                    obj.remove("kind");
                }
                match crate::stages::parse::<SlurmConfig>(&json) {
                    Ok(config) => ExecutorSpec::Slurm(config),
                    Err(e) => {
                        let loc = node.locate(&e.path);
                        let key = e
                            .path
                            .iter()
                            .map(|s| match s {
                                PathSegment::Key(k) => k.clone(),
                                PathSegment::Index(i) => i.to_string(),
                            })
                            .collect::<Vec<_>>()
                            .join(".");
                        self.error(loc, join("executor", &key), e.message);
                        ExecutorSpec::Local
                    }
                }
            }
            _ => {
                let loc = kind.map_or(node.loc, |k| k.loc);
                self.error(loc, "executor.kind", "expected `local` or `slurm`");
                ExecutorSpec::Local
            }
        }
    }
}

/// Records `node` under `prefix` and, for maps, every nested entry too.
pub(super) fn flatten(prefix: &str, node: &Node, out: &mut BTreeMap<String, Json>) {
    out.insert(prefix.to_string(), crate::canon::canonical(&node.to_json()));
    if let Value::Map(entries) = &node.value {
        for (k, v) in entries {
            flatten(&format!("{prefix}.{}", k.name), v, out);
        }
    }
}

pub(super) fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// `a`, `a or b`, `a, b or c`.
pub(super) fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// Per grid axis, the values the file lists for it, in its `params` or at
/// any scale: an `only` value outside them is a typo. An axis written
/// other than as a list of values is left out.
pub(super) type AxisValues = BTreeMap<String, Vec<Json>>;

fn axis_values(params: &Node, scales: Option<&Node>) -> AxisValues {
    let presets = scales
        .and_then(Node::as_map)
        .unwrap_or_default()
        .iter()
        .map(|(_, preset)| preset);
    let mut values = AxisValues::new();
    let mut unlisted = BTreeSet::new();
    for grid in std::iter::once(params)
        .chain(presets)
        .filter_map(|n| n.get("grid"))
    {
        for (axis, node) in grid.as_map().unwrap_or_default() {
            match node.to_json() {
                Json::Array(items) => {
                    let listed = values.entry(axis.name.clone()).or_default();
                    for item in items.iter().map(crate::canon::canonical) {
                        if !listed.contains(&item) {
                            listed.push(item);
                        }
                    }
                }
                _ => {
                    unlisted.insert(axis.name.clone());
                }
            }
        }
    }
    values.retain(|axis, _| !unlisted.contains(axis));
    values
}
