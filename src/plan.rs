//! Stage instances: one per cell of the axes a stage varies over, with fully
//! resolved params, bound inputs and a cache key.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::{Value as Json, json};

use crate::cache::hash::FileHasher;
use crate::cache::record;
use crate::error::{Diagnostic, Diagnostics, Error, Origin, Result};
use crate::graph::StageGraph;
use crate::grid::{Cell, Grid};
use crate::loc::{Loc, PathSegment};
use crate::spec::expr::Template;
use crate::spec::yaml::{Node, Value};
use crate::spec::{InputSource, Pipeline, StageDecl};
use crate::stages::{ItemShape, Output, Wired, Wiring};

pub struct Plan {
    /// Instances in dependency order: every instance after those it reads.
    pub instances: Vec<Instance>,
}

pub struct Instance {
    pub stage: usize,
    pub cell: Cell,
    pub params: Json,
    pub inputs: Vec<PlannedInput>,
    /// Instances this one reads, without repeats.
    pub deps: Vec<usize>,
    pub record: Json,
    pub key: String,
}

pub struct PlannedInput {
    pub name: String,
    pub source: PlannedSource,
}

pub enum PlannedSource {
    /// Upstream instances (exactly one unless the stage aggregates).
    Stages(Vec<usize>),
    Path(PathBuf),
}

impl Plan {
    pub fn build(p: &Pipeline, graph: &StageGraph, hasher: &mut FileHasher) -> Result<Plan> {
        let mut instances: Vec<Instance> = Vec::new();
        let mut by_stage: Vec<Vec<usize>> = vec![Vec::new(); p.stages.len()];
        // Per instance, the item shape of the dataset it makes, if known.
        let mut shapes: Vec<Option<ItemShape>> = Vec::new();
        let mut diags = Diagnostics::default();
        // The diagnostics that are input paths not found.
        let mut missing = Vec::new();
        for &s in &graph.order {
            let stage = &p.stages[s];
            let axes = p.grid.ordered(|a| graph.axes[s].contains(a));
            // The stage's mistakes per cell, and how many cells it has.
            let mut blamed_in_cells = Vec::new();
            let mut cells = 0;
            'cells: for cell in Grid::cells(&axes) {
                let same =
                    |a: &Json, b: &Json| crate::canon::to_string(a) == crate::canon::to_string(b);
                let allowed = stage.only.is_empty()
                    || stage.only.iter().any(|clause| {
                        clause.iter().all(|(axis, values)| {
                            cell.get(axis)
                                .is_none_or(|v| values.iter().any(|w| same(v, w)))
                        })
                    });
                if !allowed {
                    continue;
                }
                cells += 1;
                let lookup = |name: &str| p.lookup(name, &cell);
                let params = match resolve(&stage.params, &lookup) {
                    Ok(v) => v,
                    Err((path, message)) => {
                        blamed_in_cells.push(blamed(p, stage, &path, message, &lookup));
                        continue;
                    }
                };
                // Per input, the upstream instances it reads in this cell
                // (none for a path).
                let upstreams: Vec<Vec<usize>> = stage
                    .inputs
                    .iter()
                    .map(|input| match input.source {
                        InputSource::Stage(u) => by_stage[u]
                            .iter()
                            .copied()
                            .filter(|&i| instances[i].cell.agrees_with(&cell))
                            .collect(),
                        InputSource::Path(_) => Vec::new(),
                    })
                    .collect();
                let wiring = wiring(p, graph, s, &upstreams, &instances, &shapes);
                if let Err(e) = stage.kind.check(&params, &wiring) {
                    blamed_in_cells.push(blamed(p, stage, &e.path, e.message, &lookup));
                    continue;
                }
                let mut inputs = Vec::new();
                let mut record_inputs = BTreeMap::new();
                let mut deps = Vec::new();
                for (input, ups) in stage.inputs.iter().zip(upstreams) {
                    let key = format!("stages.{}.inputs.{}", stage.name, input.name);
                    match &input.source {
                        InputSource::Stage(u) => {
                            let aggregated =
                                graph.axes[*u].iter().any(|a| stage.aggregate.covers(a));
                            let entry = if aggregated {
                                Json::Array(
                                    ups.iter()
                                        .map(|&i| json!({"cell": instances[i].cell.to_json(), "key": instances[i].key}))
                                        .collect(),
                                )
                            } else if ups.len() == 1 {
                                json!({"stage": instances[ups[0]].key})
                            } else {
                                // No upstream instance: it failed validation (already
                                // reported) or an `only` upstream left this cell out.
                                continue 'cells;
                            };
                            for &i in &ups {
                                if !deps.contains(&i) {
                                    deps.push(i);
                                }
                            }
                            record_inputs.insert(input.name.clone(), entry);
                            inputs.push(PlannedInput {
                                name: input.name.clone(),
                                source: PlannedSource::Stages(ups),
                            });
                        }
                        InputSource::Path(node) => {
                            let path = match resolve(node, &lookup) {
                                Ok(Json::String(s)) => PathBuf::from(s),
                                Ok(other) => {
                                    push_unique(
                                        &mut diags,
                                        located(
                                            p,
                                            node.loc,
                                            &key,
                                            format!("a path must be text, found {other}"),
                                        ),
                                    );
                                    continue;
                                }
                                Err((path, message)) => {
                                    let loc = node.locate(&path);
                                    push_unique(&mut diags, located(p, loc, &key, message));
                                    continue;
                                }
                            };
                            match hasher.hash(&path) {
                                Ok(hash) => {
                                    record_inputs
                                        .insert(input.name.clone(), json!({"content": hash}));
                                    inputs.push(PlannedInput {
                                        name: input.name.clone(),
                                        source: PlannedSource::Path(path),
                                    });
                                }
                                Err(e) => {
                                    let not_found = matches!(&e, Error::Io { source, .. }
                                        if source.kind() == std::io::ErrorKind::NotFound);
                                    let message = if not_found {
                                        format!("no such file or folder: {}", path.display())
                                    } else {
                                        e.to_string()
                                    };
                                    let d = located(p, node.loc, &key, message);
                                    if not_found {
                                        missing.push(d.clone());
                                    }
                                    push_unique(&mut diags, d);
                                }
                            }
                        }
                    }
                }
                let record = record::build(
                    stage.kind.name(),
                    stage.kind.version(),
                    &params,
                    record_inputs,
                );
                let key = record::key(&record);
                by_stage[s].push(instances.len());
                shapes.push(stage.kind.item_shape(&params, &wiring));
                instances.push(Instance {
                    stage: s,
                    cell,
                    params,
                    inputs,
                    deps,
                    record,
                    key,
                });
            }
            for d in same_in_every_cell(blamed_in_cells, cells) {
                push_unique(&mut diags, d);
            }
        }
        hasher.save();
        if !diags.0.is_empty() {
            if diags.0.iter().all(|d| missing.contains(d)) {
                return Err(Error::MissingData(diags));
            }
            return Err(Error::Invalid(diags));
        }
        Ok(Plan { instances })
    }

    /// `stage[cell]`, for messages.
    pub fn label(&self, p: &Pipeline, i: usize) -> String {
        let inst = &self.instances[i];
        let name = &p.stages[inst.stage].name;
        if inst.cell.is_empty() {
            name.clone()
        } else {
            format!("{name}[{}]", inst.cell)
        }
    }
}

/// How `blamed` begins the values a message was found with.
const HERE: &str = " (here ";

/// A problem with the value at `path` of a stage's params. When that value
/// came from the command line (a `--set` of this param or of a part of it,
/// or, for a `${...}`, every param it reads given whole by `--grid` or
/// `--set`), the argument is to blame; else its place in the file, with
/// the values a `${...}` read there.
fn blamed(
    p: &Pipeline,
    stage: &StageDecl,
    path: &[PathSegment],
    message: String,
    lookup: &dyn Fn(&str) -> Option<Json>,
) -> Diagnostic {
    let key = format!("stages.{}.params{}", stage.name, path_text(path));
    let node = stage.params.find(path);
    let mut reads = Vec::new();
    template_params(node, &mut reads);
    // `outer` holds `inner`: `a` holds `a.b`.
    let holds = |outer: &str, inner: &str| {
        outer == inner
            || inner
                .strip_prefix(outer)
                .is_some_and(|rest| rest.starts_with('.'))
    };
    let set_here = p
        .command_line
        .iter()
        .find(|(set, _)| holds(&key, set) || holds(set, &key))
        .map(|(_, arg)| arg);
    let given_whole = |read: &String| {
        p.command_line
            .iter()
            .find(|(set, _)| holds(set, read))
            .map(|(_, arg)| arg)
    };
    let from_args: Option<Vec<&String>> = reads.iter().map(given_whole).collect();
    let arg = set_here.or_else(|| from_args.and_then(|args| args.first().copied()));
    if let Some(arg) = arg {
        return Diagnostic {
            origin: Origin::CommandLine { arg: arg.clone() },
            key,
            message,
        };
    }
    let values: Vec<String> = reads
        .iter()
        .filter_map(|read| Some(format!("{read} = {}", lookup(read)?)))
        .collect();
    let message = if values.is_empty() {
        message
    } else {
        format!("{message}{HERE}{})", values.join(", "))
    };
    located(p, node.loc, &key, message)
}

/// The params the `${...}` at and below `node` read, each once: a bad
/// `cost: {kind: "${cost}"}` is blamed where `cost` came from.
fn template_params(node: &Node, reads: &mut Vec<String>) {
    match &node.value {
        Value::Str(s) => {
            let template = Template::parse(s).ok().flatten();
            for param in template.iter().flat_map(|t| t.params()) {
                if !reads.iter().any(|r| r == param) {
                    reads.push(param.to_string());
                }
            }
        }
        Value::Seq(items) => items.iter().for_each(|n| template_params(n, reads)),
        Value::Map(entries) => entries.iter().for_each(|(_, n)| template_params(n, reads)),
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {}
    }
}

fn located(p: &Pipeline, loc: Loc, key: &str, message: String) -> Diagnostic {
    Diagnostic {
        origin: if loc == Loc::default() {
            Origin::CommandLine {
                arg: format!("--set {key}"),
            }
        } else {
            Origin::File {
                path: p.file.clone(),
                loc,
            }
        },
        key: key.to_string(),
        message,
    }
}

/// What stage `s`'s validation sees of its inputs, each read from the
/// instances `upstreams` lists for it: for an input bound to a stage, the
/// axes its instances vary over, the params their rows add and the item
/// shape they agree on; nothing for a path or a command's files, which
/// nrun cannot read before they exist.
fn wiring(
    p: &Pipeline,
    graph: &StageGraph,
    s: usize,
    upstreams: &[Vec<usize>],
    instances: &[Instance],
    shapes: &[Option<ItemShape>],
) -> Wiring {
    let inputs = p.stages[s].inputs.iter().zip(upstreams);
    let wired = inputs.map(|(input, ups)| {
        let unknown = |output| Wired {
            name: input.name.clone(),
            params: None,
            output,
            metrics: None,
            shape: None,
        };
        let InputSource::Stage(u) = &input.source else {
            return unknown(None);
        };
        let kind = p.stages[*u].kind;
        // A command's files: nrun cannot tell what they hold.
        if kind.output() == Output::Files {
            return unknown(None);
        }
        // No instance in this cell (an `only` left it out, or it failed
        // validation): nothing to check against.
        let Some((&first, rest)) = ups.split_first() else {
            return unknown(Some(kind.output()));
        };
        let mut params = graph.axes[*u].clone();
        for &i in ups {
            params.extend(kind.row_params(&instances[i].params));
        }
        let metrics = ups
            .iter()
            .map(|&i| kind.row_metrics(&instances[i].params))
            .try_fold(BTreeSet::new(), |mut all, some| {
                all.extend(some?);
                Some(all)
            });
        let agree = rest.iter().all(|&i| shapes[i] == shapes[first]);
        Wired {
            name: input.name.clone(),
            params: Some(params),
            output: Some(kind.output()),
            metrics,
            shape: if agree { shapes[first].clone() } else { None },
        }
    });
    Wiring(wired.collect())
}

/// The same mistake shows up once per cell; report it once.
fn push_unique(diags: &mut Diagnostics, d: Diagnostic) {
    if !diags.0.contains(&d) {
        diags.0.push(d);
    }
}

/// A stage's mistakes, one per cell of its `cells`: one that every cell
/// made alike but for the values `blamed` names, which differ (` (here
/// gamma = 0)`, `(here gamma = 1)`), does not depend on them, and is said
/// once without them; the others keep their values (`n = 0` fails, `n = 8`
/// does not; a value every cell shares is the one to blame).
fn same_in_every_cell(found: Vec<Diagnostic>, cells: usize) -> Vec<Diagnostic> {
    let without_values = |d: &Diagnostic| {
        let message = match d.message.rfind(HERE) {
            Some(at) if d.message.ends_with(')') => d.message[..at].to_string(),
            _ => d.message.clone(),
        };
        Diagnostic {
            message,
            ..d.clone()
        }
    };
    let bases: Vec<Diagnostic> = found.iter().map(without_values).collect();
    found
        .iter()
        .zip(&bases)
        .map(|(d, base)| {
            let alike: Vec<&Diagnostic> = found
                .iter()
                .zip(&bases)
                .filter(|(_, b)| *b == base)
                .map(|(e, _)| e)
                .collect();
            if cells > 1 && alike.len() == cells && alike.iter().any(|e| e.message != d.message) {
                base.clone()
            } else {
                d.clone()
            }
        })
        .collect()
}

fn path_text(path: &[PathSegment]) -> String {
    path.iter()
        .map(|s| match s {
            PathSegment::Key(k) => format!(".{k}"),
            PathSegment::Index(i) => format!("[{i}]"),
        })
        .collect()
}

/// Where in the node a `${...}` failed, and why.
type ResolveError = (Vec<PathSegment>, String);

/// Renders every `${...}` below `node`, giving plain JSON.
fn resolve(
    node: &Node,
    lookup: &dyn Fn(&str) -> Option<Json>,
) -> std::result::Result<Json, ResolveError> {
    resolve_at(node, lookup, &mut Vec::new())
}

fn resolve_at(
    node: &Node,
    lookup: &dyn Fn(&str) -> Option<Json>,
    path: &mut Vec<PathSegment>,
) -> std::result::Result<Json, ResolveError> {
    match &node.value {
        Value::Str(s) => match Template::parse(s) {
            Ok(None) => Ok(Json::String(s.clone())),
            Ok(Some(t)) => t.render(lookup).map(|v| crate::canon::canonical(&v)),
            Err(e) => Err(e),
        }
        .map_err(|e| (path.clone(), e)),
        Value::Seq(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                path.push(PathSegment::Index(i));
                out.push(resolve_at(item, lookup, path)?);
                path.pop();
            }
            Ok(Json::Array(out))
        }
        Value::Map(entries) => {
            let mut out = serde_json::Map::new();
            for (k, v) in entries {
                path.push(PathSegment::Key(k.name.clone()));
                out.insert(k.name.clone(), resolve_at(v, lookup, path)?);
                path.pop();
            }
            Ok(Json::Object(out))
        }
        _ => Ok(node.to_json()),
    }
}
