//! Checking one stage declaration: kind, params, inputs and their
//! wiring, templates, aggregation, `only`, resources and targets.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use super::checker::AxisValues;
use super::checker::{join, or_list};
use super::expr::Template;
use super::yaml::{Key, Node, Value};
use super::{Aggregate, Checker, InputDecl, InputSource, Resources, StageDecl};
use crate::grid::Grid;
use crate::loc::Loc;
use crate::stages::{self, Accepts, Kind, Output};

const STAGE_KEYS: &[&str] = &[
    "kind",
    "inputs",
    "params",
    "aggregate",
    "only",
    "resources",
    "publish",
    "description",
];

impl Checker {
    pub(super) fn stage(
        &mut self,
        key: &Key,
        node: &Node,
        names: &[&str],
        grid: &Grid,
        params: &BTreeMap<String, Json>,
        axis_values: &AxisValues,
    ) -> Option<StageDecl> {
        let path = join("stages", &key.name);
        // A stage's `params:` indented one level too little reads as a
        // stage named `params`, whose every key would be an error.
        if STAGE_KEYS.contains(&key.name.as_str()) && node.get("kind").is_none() {
            // The nearest stage above that is not itself such a key.
            let at = names.iter().position(|n| *n == key.name).unwrap_or(0);
            let above = names[..at].iter().rev().find(|n| !STAGE_KEYS.contains(n));
            self.error(
                key.loc,
                path,
                format!(
                    "`{}` is a key of a stage, not a stage (it has no `kind`){}",
                    key.name,
                    above
                        .map(|a| format!(": indent it under stage `{a}`"))
                        .unwrap_or_default()
                ),
            );
            return None;
        }
        self.name(&key.name, key.loc, &path, "stage name");
        let entries = self.map(node, &path, STAGE_KEYS)?;
        let get = |k: &str| {
            entries
                .iter()
                .find(|(key, _)| key.name == k)
                .map(|(_, v)| v)
        };

        let kind_path = join(&path, "kind");
        let kind = match get("kind") {
            None => {
                self.error(node.loc, &kind_path, "missing required key `kind`");
                None
            }
            Some(k) => {
                let name = self.string(k, &kind_path)?;
                let found = stages::find(&name);
                if found.is_none() {
                    self.error(
                        k.loc,
                        &kind_path,
                        format!(
                            "unknown stage kind `{name}` (known: {})",
                            stages::names().join(", ")
                        ),
                    );
                }
                found
            }
        };

        let mut reads = BTreeSet::new();
        let stage_params = get("params")
            .cloned()
            .unwrap_or_else(|| Node::new(Value::Map(Vec::new()), node.loc));
        if self
            .map(&stage_params, &join(&path, "params"), &[])
            .is_some()
        {
            self.templates(
                &stage_params,
                &join(&path, "params"),
                grid,
                params,
                &mut reads,
            );
        }

        let inputs = self.inputs(
            get("inputs"),
            node.loc,
            &path,
            kind,
            names,
            grid,
            params,
            &mut reads,
        );
        let aggregate = match get("aggregate") {
            None => Aggregate::None,
            Some(n) => self.aggregate(n, &join(&path, "aggregate"), grid),
        };
        let only = match get("only") {
            None => Vec::new(),
            Some(n) => self.only(n, &join(&path, "only"), grid, axis_values),
        };
        let resources = match get("resources") {
            None => Resources::one_cpu(),
            Some(n) => self.resources(n, &join(&path, "resources")),
        };
        let publish = get("publish").and_then(|n| {
            let key = join(&path, "publish");
            let dir = self.string(n, &key)?;
            let safe = !dir.is_empty()
                && std::path::Path::new(&dir)
                    .components()
                    .all(|c| matches!(c, std::path::Component::Normal(_)));
            if !safe {
                self.error(
                    n.loc,
                    key,
                    "publish is a relative folder under results/<pipeline>, without `..`",
                );
                return None;
            }
            Some(dir)
        });
        Some(StageDecl {
            name: key.name.clone(),
            loc: key.loc,
            kind: kind?,
            inputs,
            params: stage_params,
            aggregate,
            only,
            resources,
            publish,
            reads,
        })
    }

    /// Checks every `${...}` below `node` and records the params it reads.
    pub(super) fn templates(
        &mut self,
        node: &Node,
        path: &str,
        grid: &Grid,
        params: &BTreeMap<String, Json>,
        reads: &mut BTreeSet<String>,
    ) {
        match &node.value {
            Value::Str(s) => match Template::parse(s) {
                Ok(None) => {}
                Ok(Some(t)) => {
                    for p in t.params() {
                        if grid.is_axis(p) || params.contains_key(p) {
                            reads.insert(p.to_string());
                        } else if !self.broken_axes.contains(p) {
                            let mut known: Vec<String> =
                                grid.axes.iter().map(|a| a.name.clone()).collect();
                            known.extend(params.keys().cloned());
                            self.error(
                                node.loc,
                                path,
                                format!("unknown param `${{{p}}}` (params: {})", known.join(", ")),
                            );
                        }
                    }
                }
                Err(e) => self.error(node.loc, path, e),
            },
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.templates(item, &format!("{path}[{i}]"), grid, params, reads);
                }
            }
            Value::Map(entries) => {
                for (k, v) in entries {
                    self.templates(v, &join(path, &k.name), grid, params, reads);
                }
            }
            _ => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn inputs(
        &mut self,
        node: Option<&Node>,
        stage_loc: Loc,
        path: &str,
        kind: Option<&'static dyn Kind>,
        names: &[&str],
        grid: &Grid,
        params: &BTreeMap<String, Json>,
        reads: &mut BTreeSet<String>,
    ) -> Vec<InputDecl> {
        let path = join(path, "inputs");
        let mut out = Vec::new();
        let entries = match node {
            Some(n) => self.map(n, &path, &[]).unwrap_or_default(),
            None => &[],
        };
        for (k, v) in entries {
            let key = join(&path, &k.name);
            let source = match &v.value {
                Value::Str(stage) => match names.iter().position(|n| n == stage) {
                    Some(i) => Some(InputSource::Stage(i)),
                    None => {
                        self.error(
                            v.loc,
                            &key,
                            format!(
                                "no stage named `{stage}` (for a file, write {{path: {stage}}})"
                            ),
                        );
                        None
                    }
                },
                Value::Map(_) => {
                    let fields = self.map(v, &key, &["path"]).unwrap_or_default();
                    match fields.iter().find(|(f, _)| f.name == "path") {
                        Some((_, p)) if p.as_str().is_some() => {
                            self.templates(p, &join(&key, "path"), grid, params, reads);
                            Some(InputSource::Path(p.clone()))
                        }
                        Some((_, p)) => {
                            self.error(
                                p.loc,
                                join(&key, "path"),
                                format!("expected a string, found {}", p.type_name()),
                            );
                            None
                        }
                        None => {
                            self.error(v.loc, &key, "missing required key `path`");
                            None
                        }
                    }
                }
                _ => {
                    self.error(
                        v.loc,
                        &key,
                        format!(
                            "an input is a stage name or {{path: ...}}, found {}",
                            v.type_name()
                        ),
                    );
                    None
                }
            };
            if let (Some(source), Some(kind)) = (&source, kind) {
                self.check_input(kind, &k.name, source, k.loc, &key);
            }
            if let Some(source) = source {
                out.push(InputDecl {
                    name: k.name.clone(),
                    loc: k.loc,
                    source,
                });
            }
        }
        if let Some(kind) = kind {
            let missing: Vec<String> = kind
                .inputs()
                .iter()
                .filter(|spec| spec.required && !entries.iter().any(|(k, _)| k.name == spec.name))
                .map(|spec| format!("`{}`", spec.name))
                .collect();
            if !missing.is_empty() {
                self.error(
                    node.map_or(stage_loc, |n| n.loc),
                    &path,
                    format!(
                        "stage kind `{}` needs input{} {}",
                        kind.name(),
                        if missing.len() > 1 { "s" } else { "" },
                        missing.join(", ")
                    ),
                );
            }
        }
        out
    }

    /// Each input bound to a stage gets what it takes: a `metric`'s
    /// `samples` from a stage that maps items, not from a `train` stage.
    /// (Commands' files go anywhere: nrun cannot tell what they are.)
    pub(super) fn check_wiring(&mut self, stages: &[StageDecl], names: &[&str]) {
        for stage in stages {
            for input in &stage.inputs {
                let InputSource::Stage(u) = input.source else {
                    continue;
                };
                let Some(up) = stages.iter().find(|s| s.name == names[u]) else {
                    continue;
                };
                let Some(spec) = stage.kind.inputs().iter().find(|s| s.name == input.name) else {
                    continue;
                };
                let given = up.kind.output();
                if spec.takes.is_empty() || given == Output::Files || spec.takes.contains(&given) {
                    continue;
                }
                let wanted: Vec<&str> = spec.takes.iter().map(|o| o.describe()).collect();
                let from: Vec<String> = crate::stages::giving(spec.takes)
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect();
                self.error(
                    input.loc,
                    format!("stages.{}.inputs.{}", stage.name, input.name),
                    format!(
                        "takes {}, the output of a {} stage; `{}` is a `{}` stage, which gives {}",
                        wanted.join(" or "),
                        or_list(&from),
                        up.name,
                        up.kind.name(),
                        given.describe()
                    ),
                );
            }
        }
    }

    pub(super) fn check_input(
        &mut self,
        kind: &dyn Kind,
        name: &str,
        source: &InputSource,
        loc: Loc,
        key: &str,
    ) {
        let specs = kind.inputs();
        if kind.any_inputs() {
            return;
        }
        let Some(spec) = specs.iter().find(|s| s.name == name) else {
            let known: Vec<&str> = specs.iter().map(|s| s.name).collect();
            self.error(
                loc,
                key,
                format!(
                    "stage kind `{}` has no input `{name}` (inputs: {})",
                    kind.name(),
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            );
            return;
        };
        let ok = matches!(
            (spec.accepts, source),
            (Accepts::Either, _)
                | (Accepts::Stage, InputSource::Stage(_))
                | (Accepts::Path, InputSource::Path(_))
        );
        if !ok {
            let want = match spec.accepts {
                Accepts::Stage => "the name of a stage",
                Accepts::Path => "{path: ...}",
                Accepts::Either => unreachable!(),
            };
            self.error(loc, key, format!("input `{name}` must be {want}"));
        }
    }

    pub(super) fn aggregate(&mut self, node: &Node, path: &str, grid: &Grid) -> Aggregate {
        match &node.value {
            Value::Str(s) if s == "all" => Aggregate::All,
            Value::Seq(items) => {
                let mut axes = Vec::new();
                for item in items {
                    match item.as_str() {
                        Some(a) if grid.is_axis(a) => axes.push(a.to_string()),
                        Some(a) => self.error(item.loc, path, format!("`{a}` is not a grid axis")),
                        None => self.error(
                            item.loc,
                            path,
                            format!("expected an axis name, found {}", item.type_name()),
                        ),
                    }
                }
                Aggregate::Axes(axes)
            }
            _ => {
                self.error(node.loc, path, "expected `all` or a list of grid axes");
                Aggregate::None
            }
        }
    }

    pub(super) fn only(
        &mut self,
        node: &Node,
        path: &str,
        grid: &Grid,
        axis_values: &AxisValues,
    ) -> Vec<Vec<(String, Vec<Json>)>> {
        match &node.value {
            Value::Seq(clauses) if !clauses.is_empty() => clauses
                .iter()
                .enumerate()
                .map(|(i, c)| self.only_clause(c, &format!("{path}[{i}]"), grid, axis_values))
                .collect(),
            Value::Map(_) => vec![self.only_clause(node, path, grid, axis_values)],
            _ => {
                self.error(
                    node.loc,
                    path,
                    "expected {axis: [values]} or a list of them",
                );
                Vec::new()
            }
        }
    }

    pub(super) fn only_clause(
        &mut self,
        node: &Node,
        path: &str,
        grid: &Grid,
        axis_values: &AxisValues,
    ) -> Vec<(String, Vec<Json>)> {
        let mut out = Vec::new();
        for (k, v) in self.map(node, path, &[]).unwrap_or_default() {
            let key = join(path, &k.name);
            if !grid.is_axis(&k.name) {
                self.error(k.loc, key, format!("`{}` is not a grid axis", k.name));
                continue;
            }
            match &v.value {
                Value::Seq(items) if !items.is_empty() => {
                    let values: Vec<Json> = items
                        .iter()
                        .map(|i| crate::canon::canonical(&i.to_json()))
                        .collect();
                    let text = crate::canon::to_string;
                    if let Some(known) = axis_values.get(&k.name)
                        && let Some(off) = values
                            .iter()
                            .find(|v| !known.iter().any(|w| text(w) == text(v)))
                    {
                        let listed: Vec<String> = known.iter().map(crate::canon::label).collect();
                        self.error(
                            v.loc,
                            key,
                            format!(
                                "{} is not a value of grid axis `{}` (the file gives it {})",
                                crate::canon::label(off),
                                k.name,
                                listed.join(", ")
                            ),
                        );
                        continue;
                    }
                    out.push((k.name.clone(), values));
                }
                _ => self.error(v.loc, key, "expected a non-empty list of axis values"),
            }
        }
        out
    }

    pub(super) fn resources(&mut self, node: &Node, path: &str) -> Resources {
        let mut r = Resources::one_cpu();
        for (k, v) in self
            .map(node, path, &["cpus", "gpu", "mem", "time"])
            .unwrap_or_default()
        {
            let key = join(path, &k.name);
            if matches!(k.name.as_str(), "mem" | "time") {
                let value = match &v.value {
                    Value::Str(s) if !s.trim().is_empty() => s.clone(),
                    Value::Int(i) if *i > 0 => i.to_string(),
                    _ => {
                        self.error(
                            v.loc,
                            key,
                            format!(
                                "expected a Slurm {} such as {}",
                                k.name,
                                if k.name == "mem" {
                                    "`8G`"
                                } else {
                                    "`02:00:00`"
                                }
                            ),
                        );
                        continue;
                    }
                };
                if k.name == "mem" {
                    r.mem = Some(value);
                } else {
                    r.time = Some(value);
                }
                continue;
            }
            let n = match v.value {
                Value::Int(n) if n >= 0 => n as usize,
                _ => {
                    self.error(
                        v.loc,
                        key,
                        format!("expected a non-negative integer, found {}", v.type_name()),
                    );
                    continue;
                }
            };
            match k.name.as_str() {
                "cpus" if n == 0 => self.error(v.loc, key, "a stage needs at least one cpu"),
                "cpus" => r.cpus = n,
                "gpu" if n > 1 => self.error(v.loc, key, "a stage takes at most one GPU slot"),
                _ => r.gpus = n,
            }
        }
        r
    }

    pub(super) fn targets(
        &mut self,
        node: Option<&Node>,
        names: &[&str],
    ) -> BTreeMap<String, Vec<String>> {
        let mut out = BTreeMap::new();
        let Some(node) = node else {
            return out;
        };
        for (k, v) in self.map(node, "targets", &[]).unwrap_or_default() {
            let key = join("targets", &k.name);
            let Value::Seq(items) = &v.value else {
                self.error(v.loc, key, "a target is a list of stage names");
                continue;
            };
            let mut stages = Vec::new();
            for item in items {
                match item.as_str() {
                    Some(s) if names.contains(&s) => stages.push(s.to_string()),
                    Some(s) => self.error(item.loc, &key, format!("no stage named `{s}`")),
                    None => self.error(
                        item.loc,
                        &key,
                        format!("expected a stage name, found {}", item.type_name()),
                    ),
                }
            }
            out.insert(k.name.clone(), stages);
        }
        out
    }

    /// An `aggregate` axis must reach the stage through one of its inputs.
    pub(super) fn check_aggregates(
        &mut self,
        stages: &[StageDecl],
        entries: &[(Key, Node)],
        grid: &Grid,
    ) {
        for stage in stages {
            if !matches!(stage.aggregate, Aggregate::None)
                && !stage
                    .inputs
                    .iter()
                    .any(|i| matches!(i.source, InputSource::Stage(_)))
            {
                let loc = entries
                    .iter()
                    .find(|(k, _)| k.name == stage.name)
                    .and_then(|(_, n)| n.get("aggregate"))
                    .map_or(stage.loc, |n| n.loc);
                self.error(
                    loc,
                    format!("stages.{}.aggregate", stage.name),
                    "only a stage with stage inputs can aggregate",
                );
            }
            let _ = grid;
        }
    }
}
