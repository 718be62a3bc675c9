//! The stage graph: dependency order, cycles, the axes each stage varies
//! over.

use std::collections::BTreeSet;

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::error::{Diagnostic, Diagnostics, Error, Origin, Result};
use crate::spec::{Aggregate, InputSource, Pipeline};

/// The stages' dependency order and axes, from a graph whose edges run
/// from a stage to the stages that read it.
pub struct StageGraph {
    /// Stage indices, each after all the stages it reads.
    pub order: Vec<usize>,
    /// Per stage, the grid axes its instances vary over.
    pub axes: Vec<BTreeSet<String>>,
}

fn error(p: &Pipeline, loc: crate::loc::Loc, key: String, message: String) -> Diagnostic {
    Diagnostic {
        origin: Origin::File {
            path: p.file.clone(),
            loc,
        },
        key,
        message,
    }
}

impl StageGraph {
    pub fn build(p: &Pipeline) -> Result<StageGraph> {
        let mut graph = DiGraph::new();
        let nodes: Vec<NodeIndex> = (0..p.stages.len()).map(|i| graph.add_node(i)).collect();
        for (i, stage) in p.stages.iter().enumerate() {
            for input in &stage.inputs {
                if let InputSource::Stage(from) = input.source
                    && !graph.contains_edge(nodes[from], nodes[i])
                {
                    graph.add_edge(nodes[from], nodes[i], ());
                }
            }
        }
        if let Some(cycle) = find_cycle(&graph, p) {
            return Err(Error::Invalid(Diagnostics(vec![cycle])));
        }
        let order = file_order(&graph);

        let mut axes: Vec<BTreeSet<String>> = vec![BTreeSet::new(); p.stages.len()];
        let mut diags = Vec::new();
        for &i in &order {
            let stage = &p.stages[i];
            let mut from_inputs = BTreeSet::new();
            for input in &stage.inputs {
                if let InputSource::Stage(u) = input.source {
                    from_inputs.extend(axes[u].iter().cloned());
                }
            }
            if let Aggregate::Axes(list) = &stage.aggregate {
                for a in list.iter().filter(|a| !from_inputs.contains(*a)) {
                    diags.push(error(
                        p,
                        stage.loc,
                        format!("stages.{}.aggregate", stage.name),
                        format!("axis `{a}` does not reach this stage through its inputs"),
                    ));
                }
            }
            let mut mine: BTreeSet<String> = stage
                .reads
                .iter()
                .filter(|r| p.grid.is_axis(r))
                .cloned()
                .collect();
            for a in &mine {
                if stage.aggregate.covers(a) {
                    diags.push(error(
                        p,
                        stage.loc,
                        format!("stages.{}.aggregate", stage.name),
                        format!("the stage aggregates over `{a}` but also reads `${{{a}}}`"),
                    ));
                }
            }
            mine.extend(
                from_inputs
                    .into_iter()
                    .filter(|a| !stage.aggregate.covers(a)),
            );
            axes[i] = mine;
        }
        if !diags.is_empty() {
            return Err(Error::Invalid(Diagnostics(diags)));
        }
        Ok(StageGraph { order, axes })
    }
}

/// A topological order that keeps the file's order wherever dependencies
/// allow (Kahn's algorithm, always taking the earliest ready stage), so
/// listings read like the pipeline file.
fn file_order(graph: &DiGraph<usize, ()>) -> Vec<usize> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let mut pending: Vec<usize> = graph
        .node_indices()
        .map(|n| {
            graph
                .neighbors_directed(n, petgraph::Direction::Incoming)
                .count()
        })
        .collect();
    let mut ready: BinaryHeap<Reverse<usize>> = graph
        .node_indices()
        .filter(|n| pending[n.index()] == 0)
        .map(|n| Reverse(graph[n]))
        .collect();
    let mut order = Vec::with_capacity(pending.len());
    while let Some(Reverse(i)) = ready.pop() {
        order.push(i);
        for m in graph.neighbors(NodeIndex::new(i)) {
            pending[m.index()] -= 1;
            if pending[m.index()] == 0 {
                ready.push(Reverse(graph[m]));
            }
        }
    }
    order
}

/// A shortest cycle, reported at the input that closes it.
fn find_cycle(graph: &DiGraph<usize, ()>, p: &Pipeline) -> Option<Diagnostic> {
    let scc = tarjan_scc(graph)
        .into_iter()
        .find(|c| c.len() > 1 || graph.contains_edge(c[0], c[0]))?;
    let members: BTreeSet<NodeIndex> = scc.iter().copied().collect();
    // Stages are listed in file order, so start from the first one in the file.
    let start = *scc.iter().min_by_key(|n| graph[**n])?;
    // Breadth-first search along "is read by" edges back to `start`.
    let mut prev = std::collections::HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    let mut closing = None;
    'search: while let Some(n) = queue.pop_front() {
        for m in graph.neighbors(n) {
            if m == start {
                closing = Some(n);
                break 'search;
            }
            if members.contains(&m) && !prev.contains_key(&m) {
                prev.insert(m, n);
                queue.push_back(m);
            }
        }
    }
    let mut path = vec![closing?];
    while let Some(&before) = prev.get(path.last()?) {
        path.push(before);
    }
    // `path` runs backwards from the closing stage to `start`'s first reader.
    let mut names: Vec<&str> = vec![&p.stages[graph[start]].name];
    names.extend(path.iter().rev().map(|n| p.stages[graph[*n]].name.as_str()));
    names.dedup();
    names.push(&p.stages[graph[start]].name);
    let reader = &p.stages[graph[start]];
    let from = graph[*path.first()?];
    let input = reader
        .inputs
        .iter()
        .find(|i| matches!(i.source, InputSource::Stage(u) if u == from))?;
    // `names` runs the way data flows; print it the way stages read.
    names.reverse();
    Some(error(
        p,
        input.loc,
        format!("stages.{}.inputs.{}", reader.name, input.name),
        format!(
            "dependency cycle: {} (each stage reads the next)",
            names.join(" -> ")
        ),
    ))
}
