//! Pipeline files: parsing, overrides and validation into a [`Pipeline`].
//!
//! Everything a user can get wrong in a pipeline file is caught here or in
//! [`crate::plan`], before anything runs, and reported as a located
//! [`Diagnostic`].

mod executor;
pub mod expr;
pub mod overrides;
pub mod yaml;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::error::{Diagnostic, Diagnostics, Error, Origin, Result};
use crate::grid::{Axis, Grid};
use crate::loc::{Loc, PathSegment};
use crate::stages::{self, Accepts, Kind, Output};
pub use executor::{ExecutorSpec, SlurmConfig};
use expr::Template;
use overrides::Overrides;
use yaml::{Key, Node, Value};

/// A validated pipeline, its overrides applied.
pub struct Pipeline {
    pub file: PathBuf,
    pub name: String,
    pub description: String,
    /// The active scale preset, when the pipeline declares `scales`.
    pub scale: Option<String>,
    /// Every scale preset the pipeline declares.
    pub scales: Vec<String>,
    pub grid: Grid,
    /// Every param that is not an axis, by dotted path (maps included, so
    /// `${train}` works as well as `${train.lr}`).
    pub params: BTreeMap<String, Json>,
    pub targets: BTreeMap<String, Vec<String>>,
    pub executor: ExecutorSpec,
    /// Stages in file order.
    pub stages: Vec<StageDecl>,
}

pub struct StageDecl {
    pub name: String,
    pub loc: Loc,
    pub kind: &'static dyn Kind,
    pub inputs: Vec<InputDecl>,
    /// The stage's `params`, unresolved (`${...}` still in place).
    pub params: Node,
    pub aggregate: Aggregate,
    /// Restricts the stage's cells (and so what reads it): a cell is kept
    /// when it matches any clause, i.e. every axis of the clause takes one of
    /// the listed values. `only: {gamma: [1]}` is one clause; a list of
    /// clauses allows combinations, e.g. the strong cost at gamma 0 only.
    pub only: Vec<Vec<(String, Vec<Json>)>>,
    pub resources: Resources,
    /// Copy the outputs to `results/<pipeline>/<publish>` as plain files
    /// after a successful run (for reports kept under version control).
    pub publish: Option<String>,
    /// Params the stage reads through `${...}`.
    pub reads: BTreeSet<String>,
}

pub struct InputDecl {
    pub name: String,
    pub loc: Loc,
    pub source: InputSource,
}

pub enum InputSource {
    /// The output of another stage (index into `Pipeline::stages`).
    Stage(usize),
    /// A file or folder on disk; the string may interpolate params.
    Path(Node),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Aggregate {
    None,
    All,
    Axes(Vec<String>),
}

impl Aggregate {
    pub fn covers(&self, axis: &str) -> bool {
        match self {
            Aggregate::None => false,
            Aggregate::All => true,
            Aggregate::Axes(a) => a.iter().any(|x| x == axis),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    /// CPU tokens taken from `-j` while the stage runs.
    pub cpus: usize,
    /// GPU slots the stage wants (0 or 1).
    pub gpus: usize,
    /// Memory and time limits for cluster jobs (Slurm's `--mem`, `--time`).
    pub mem: Option<String>,
    pub time: Option<String>,
}

impl Resources {
    fn one_cpu() -> Resources {
        Resources {
            cpus: 1,
            ..Resources::default()
        }
    }
}

impl Pipeline {
    pub fn stage_index(&self, name: &str) -> Option<usize> {
        self.stages.iter().position(|s| s.name == name)
    }

    /// Looks a param up for `${...}`: a non-axis param, or `cell`'s value.
    pub fn lookup(&self, name: &str, cell: &crate::grid::Cell) -> Option<Json> {
        cell.get(name)
            .cloned()
            .or_else(|| self.params.get(name).cloned())
    }

    /// Names a user may write inside `${...}`.
    pub fn known_params(&self) -> Vec<String> {
        let mut names: Vec<String> = self.grid.axes.iter().map(|a| a.name.clone()).collect();
        names.extend(self.params.keys().cloned());
        names
    }
}

const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "params",
    "scales",
    "targets",
    "stages",
    "executor",
];
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

/// Reads, overrides and validates a pipeline file.
pub fn load(file: &Path, overrides: &Overrides) -> Result<Pipeline> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Error::Usage(format!("cannot read pipeline {}: {e}", file.display())))?;
    let root = yaml::parse(&text).map_err(|e| Diagnostic {
        origin: Origin::File {
            path: file.to_path_buf(),
            loc: e.loc,
        },
        key: String::new(),
        message: format!("invalid YAML: {}", e.message),
    })?;
    let mut checker = Checker {
        file: file.to_path_buf(),
        diags: Vec::new(),
    };
    let pipeline = checker.pipeline(root, overrides);
    match pipeline {
        Some(p) if checker.diags.is_empty() => Ok(p),
        _ => Err(Error::Invalid(Diagnostics(checker.diags))),
    }
}

struct Checker {
    file: PathBuf,
    diags: Vec<Diagnostic>,
}

impl Checker {
    fn error(&mut self, loc: Loc, key: impl Into<String>, message: impl Into<String>) {
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
    fn map<'n>(
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

    fn string(&mut self, node: &Node, key: &str) -> Option<String> {
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

    fn name(&mut self, name: &str, loc: Loc, key: &str, what: &str) -> bool {
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

    fn pipeline(&mut self, root: Node, overrides: &Overrides) -> Option<Pipeline> {
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

        let (scale, scales) = self.select_scale(get("scales"), overrides, &mut params)?;
        self.apply_overrides(overrides, &mut params, &mut stages_node);
        let (grid, mut flat) = self.params(&params);
        if let Some(s) = &scale {
            flat.entry("scale".to_string())
                .or_insert(Json::String(s.clone()));
        }

        let stage_entries = stages_node.as_map().unwrap_or_default();
        let names: Vec<&str> = stage_entries.iter().map(|(k, _)| k.name.as_str()).collect();
        let mut stages = Vec::new();
        for (key, node) in stage_entries {
            if let Some(stage) = self.stage(key, node, &names, &grid, &flat) {
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
        })
    }

    /// Picks the scale preset and merges its params in.
    fn select_scale(
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

    fn apply_overrides(&mut self, overrides: &Overrides, params: &mut Node, stages: &mut Node) {
        for axis in &overrides.grids {
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
                continue;
            }
            if set.path.first().map(String::as_str) != Some("grid")
                && let Some(target) = overrides::find_mut(params, &set.path)
            {
                overrides::replace(target, &set.value);
                continue;
            }
            // `--set STAGE.PARAM=V` overrides a stage's own param.
            if set.path.len() >= 2
                && let Some(stage) = overrides::find_mut(stages, &set.path[..1])
                && let Some(stage_params) = overrides::entry(stage, "params")
            {
                let rest = &set.path[1..];
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
    }

    /// Splits params into the grid and the flat table of the others.
    fn params(&mut self, params: &Node) -> (Grid, BTreeMap<String, Json>) {
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

    fn stage(
        &mut self,
        key: &Key,
        node: &Node,
        names: &[&str],
        grid: &Grid,
        params: &BTreeMap<String, Json>,
    ) -> Option<StageDecl> {
        let path = join("stages", &key.name);
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

        let inputs = self.inputs(get("inputs"), &path, kind, names, grid, params, &mut reads);
        let aggregate = match get("aggregate") {
            None => Aggregate::None,
            Some(n) => self.aggregate(n, &join(&path, "aggregate"), grid),
        };
        let only = match get("only") {
            None => Vec::new(),
            Some(n) => self.only(n, &join(&path, "only"), grid),
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
    fn templates(
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
                        } else {
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
    fn inputs(
        &mut self,
        node: Option<&Node>,
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
            for spec in kind.inputs() {
                if spec.required && !entries.iter().any(|(k, _)| k.name == spec.name) {
                    let loc = node.map(|n| n.loc).unwrap_or_default();
                    self.error(
                        loc,
                        &path,
                        format!("stage kind `{}` needs input `{}`", kind.name(), spec.name),
                    );
                }
            }
        }
        out
    }

    /// Each input bound to a stage gets what it takes: a `metric`'s
    /// `samples` from a stage that maps items, not from a `train` stage.
    /// (Commands' files go anywhere: nrun cannot tell what they are.)
    fn check_wiring(&mut self, stages: &[StageDecl], names: &[&str]) {
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

    fn check_input(
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

    fn aggregate(&mut self, node: &Node, path: &str, grid: &Grid) -> Aggregate {
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

    fn only(&mut self, node: &Node, path: &str, grid: &Grid) -> Vec<Vec<(String, Vec<Json>)>> {
        match &node.value {
            Value::Seq(clauses) if !clauses.is_empty() => clauses
                .iter()
                .enumerate()
                .map(|(i, c)| self.only_clause(c, &format!("{path}[{i}]"), grid))
                .collect(),
            Value::Map(_) => vec![self.only_clause(node, path, grid)],
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

    fn only_clause(&mut self, node: &Node, path: &str, grid: &Grid) -> Vec<(String, Vec<Json>)> {
        let mut out = Vec::new();
        for (k, v) in self.map(node, path, &[]).unwrap_or_default() {
            let key = join(path, &k.name);
            if !grid.is_axis(&k.name) {
                self.error(k.loc, key, format!("`{}` is not a grid axis", k.name));
                continue;
            }
            match &v.value {
                Value::Seq(items) if !items.is_empty() => {
                    out.push((
                        k.name.clone(),
                        items
                            .iter()
                            .map(|i| crate::canon::canonical(&i.to_json()))
                            .collect(),
                    ));
                }
                _ => self.error(v.loc, key, "expected a non-empty list of axis values"),
            }
        }
        out
    }

    fn resources(&mut self, node: &Node, path: &str) -> Resources {
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

    /// `executor: {kind: local}` or `{kind: slurm, partition, account, qos, sbatch, poll_min, poll_max}`.
    fn executor(&mut self, node: &Node) -> ExecutorSpec {
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

    fn targets(&mut self, node: Option<&Node>, names: &[&str]) -> BTreeMap<String, Vec<String>> {
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
    fn check_aggregates(&mut self, stages: &[StageDecl], entries: &[(Key, Node)], grid: &Grid) {
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

/// Records `node` under `prefix` and, for maps, every nested entry too.
fn flatten(prefix: &str, node: &Node, out: &mut BTreeMap<String, Json>) {
    out.insert(prefix.to_string(), crate::canon::canonical(&node.to_json()));
    if let Value::Map(entries) = &node.value {
        for (k, v) in entries {
            flatten(&format!("{prefix}.{}", k.name), v, out);
        }
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}
