//! Paths between entities: shortest path (hops or summed link weight), k shortest loopless
//! paths (Yen), the connecting network of a set of entities, and expansion N degrees out from a
//! selection. Every path reports the weakest grading along it, so an analyst sees at once when
//! a chain of reasoning rests on a poorly graded link.

use super::simple::check_every;
use super::{
    AnalysisError, AnalysisGraph, AnalysisInput, Component, GRADE_PARAM, Output, ParamKind,
    ParamSpec, Params, PathResult,
};
use crate::jobs::{CancelToken, Progress};
use crate::model::{EntityId, Grading, LinkId};
use crate::store::{CaseSnapshot, CompactGraph};
use std::cmp::Ordering;
use std::collections::{BTreeSet, BinaryHeap, HashSet, VecDeque};

/// A path as node and edge indices into an [`AnalysisGraph`].
#[derive(Debug, Clone, PartialEq)]
struct RawPath {
    nodes: Vec<usize>,
    edges: Vec<usize>,
    cost: f64,
}

#[derive(PartialEq)]
struct Entry(f64, usize);

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    // Min-heap on cost, then on node index, so ties resolve the same way every run.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .0
            .total_cmp(&self.0)
            .then_with(|| other.1.cmp(&self.1))
    }
}

fn edge_cost(g: &AnalysisGraph, e: usize, weighted: bool) -> f64 {
    if weighted { g.edges[e].2 } else { 1.0 }
}

/// Dijkstra (links followed either way) avoiding banned nodes and edges.
fn dijkstra(
    g: &AnalysisGraph,
    from: usize,
    to: usize,
    weighted: bool,
    banned_nodes: &HashSet<usize>,
    banned_edges: &HashSet<usize>,
    cancel: &CancelToken,
) -> Result<Option<RawPath>, AnalysisError> {
    let n = g.node_count();
    let mut dist = vec![f64::INFINITY; n];
    let mut prev: Vec<Option<(usize, usize)>> = vec![None; n];
    let mut heap = BinaryHeap::new();
    dist[from] = 0.0;
    heap.push(Entry(0.0, from));
    let mut steps = 0usize;
    while let Some(Entry(d, v)) = heap.pop() {
        steps += 1;
        check_every(cancel, steps, 4096)?;
        if d > dist[v] {
            continue;
        }
        if v == to {
            break;
        }
        for &(w, e) in g.neighbours(v) {
            if banned_nodes.contains(&w) || banned_edges.contains(&e) || w == v {
                continue;
            }
            let nd = d + edge_cost(g, e, weighted);
            if nd < dist[w] {
                dist[w] = nd;
                prev[w] = Some((v, e));
                heap.push(Entry(nd, w));
            }
        }
    }
    if !dist[to].is_finite() {
        return Ok(None);
    }
    let mut nodes = vec![to];
    let mut edges = Vec::new();
    let mut at = to;
    while let Some((p, e)) = prev[at] {
        nodes.push(p);
        edges.push(e);
        at = p;
    }
    nodes.reverse();
    edges.reverse();
    Ok(Some(RawPath {
        nodes,
        edges,
        cost: dist[to],
    }))
}

/// Yen's k shortest loopless paths.
fn k_shortest(
    g: &AnalysisGraph,
    from: usize,
    to: usize,
    k: usize,
    weighted: bool,
    cancel: &CancelToken,
) -> Result<Vec<RawPath>, AnalysisError> {
    let none = HashSet::new();
    let Some(first) = dijkstra(g, from, to, weighted, &none, &none, cancel)? else {
        return Ok(Vec::new());
    };
    let mut found = vec![first];
    let mut candidates: Vec<RawPath> = Vec::new();
    while found.len() < k {
        let Some(last) = found.last().cloned() else {
            break;
        };
        for i in 0..last.nodes.len().saturating_sub(1) {
            if cancel.is_cancelled() {
                return Err(AnalysisError::Cancelled);
            }
            let spur = last.nodes[i];
            let root_nodes = &last.nodes[..=i];
            let root_edges = &last.edges[..i];
            let mut banned_edges = HashSet::new();
            for p in &found {
                if p.nodes.len() > i && p.nodes[..=i] == *root_nodes {
                    banned_edges.insert(p.edges[i]);
                }
            }
            let banned_nodes: HashSet<usize> = root_nodes[..i].iter().copied().collect();
            if let Some(spur_path) =
                dijkstra(g, spur, to, weighted, &banned_nodes, &banned_edges, cancel)?
            {
                let mut nodes = root_nodes[..i].to_vec();
                nodes.extend(&spur_path.nodes);
                let mut edges = root_edges.to_vec();
                edges.extend(&spur_path.edges);
                let cost = edges.iter().map(|&e| edge_cost(g, e, weighted)).sum();
                let path = RawPath { nodes, edges, cost };
                if !found.contains(&path) && !candidates.contains(&path) {
                    candidates.push(path);
                }
            }
        }
        if candidates.is_empty() {
            break;
        }
        let Some(best) = (0..candidates.len()).min_by(|&a, &b| {
            candidates[a]
                .cost
                .total_cmp(&candidates[b].cost)
                .then_with(|| candidates[a].edges.cmp(&candidates[b].edges))
        }) else {
            break;
        };
        found.push(candidates.swap_remove(best));
    }
    Ok(found)
}

/// The weakest grading of the path's links under the case's default scheme (`None` when any
/// link is ungraded or the path has no links).
fn weakest_grade(case: &CaseSnapshot, links: &[LinkId]) -> Option<Grading> {
    let scheme = case.scheme(&case.default_scheme)?;
    let mut gradings = links
        .iter()
        .map(|id| case.link(*id).and_then(|l| l.grading.as_ref()));
    let mut weakest = gradings.next()??;
    for g in gradings {
        weakest = scheme.weaker(Some(weakest), g)?;
    }
    Some(weakest.clone())
}

fn to_result(case: &CaseSnapshot, g: &AnalysisGraph, p: &RawPath) -> PathResult {
    let links: Vec<LinkId> = p.edges.iter().map(|&e| g.edges[e].3).collect();
    PathResult {
        entities: p.nodes.iter().map(|&v| g.nodes[v]).collect(),
        weakest_grade: weakest_grade(case, &links),
        links,
        cost: p.cost,
    }
}

/// The node of an entity the component resolved; a restricted entity is not in the graph.
fn node_of(g: &AnalysisGraph, id: EntityId, param: &str) -> Result<usize, AnalysisError> {
    g.node_of(id).ok_or_else(|| AnalysisError::BadParam {
        name: param.into(),
        reason: format!(
            "{id} is restricted; restricted items are kept for evidence but left out of analysis"
        ),
    })
}

fn endpoints(
    case: &CaseSnapshot,
    params: &Params,
) -> Result<(usize, usize, bool, AnalysisGraph), AnalysisError> {
    let missing = |name: &str| AnalysisError::BadParam {
        name: name.into(),
        reason: "required: give an entity id (E12 or 12) or a source id".into(),
    };
    let from = params
        .get_entity(case, "from")?
        .ok_or_else(|| missing("from"))?;
    let to = params
        .get_entity(case, "to")?
        .ok_or_else(|| missing("to"))?;
    let weighted = params.get_bool("weighted", false)?;
    let threshold = params.get_grade(case)?;
    let g = AnalysisGraph::build(&CompactGraph::from_snapshot(case), threshold.as_ref())?;
    if weighted && g.edges.iter().any(|e| e.2 < 0.0) {
        return Err(AnalysisError::Failed(
            "some links have negative weights, which weighted paths cannot use; run with \
             weighted=false"
                .into(),
        ));
    }
    Ok((
        node_of(&g, from, "from")?,
        node_of(&g, to, "to")?,
        weighted,
        g,
    ))
}

/// Every simple path from `from` to `to` with at most `max_length` links, shortest first,
/// stopping after `max_paths`. Parallel links between the same two entities give distinct
/// paths (each is separate evidence). Iterative deepening on the exact length, pruned by the
/// hop distance to `to`, so a branch that cannot reach `to` in time is never walked; and a
/// budget of expanded steps bounds the work on dense graphs (the result then says so).
fn all_paths(
    g: &AnalysisGraph,
    from: usize,
    to: usize,
    max_length: usize,
    max_paths: usize,
    cancel: &CancelToken,
) -> Result<(Vec<RawPath>, bool), AnalysisError> {
    const STEP_BUDGET: usize = 20_000_000;
    let n = g.node_count();
    // Hop distance of every node to `to`.
    let mut dist = vec![usize::MAX; n];
    dist[to] = 0;
    let mut queue = VecDeque::from([to]);
    while let Some(v) = queue.pop_front() {
        for &(w, _) in g.neighbours(v) {
            if dist[w] == usize::MAX {
                dist[w] = dist[v] + 1;
                queue.push_back(w);
            }
        }
    }
    let mut found = Vec::new();
    let mut steps = 0usize;
    if from == to || dist[from] == usize::MAX {
        return Ok((found, false));
    }
    let mut on_path = vec![false; n];
    for length in dist[from]..=max_length {
        // Stack of (node, next neighbour position); the path's edges alongside.
        let mut stack: Vec<(usize, usize)> = vec![(from, 0)];
        let mut edges: Vec<usize> = Vec::new();
        on_path[from] = true;
        while let Some(top) = stack.last_mut() {
            let (v, pos) = *top;
            top.1 += 1;
            steps += 1;
            check_every(cancel, steps, 4096)?;
            if steps > STEP_BUDGET {
                for &(u, _) in &stack {
                    on_path[u] = false;
                }
                return Ok((found, true));
            }
            let nbrs = g.neighbours(v);
            if pos >= nbrs.len() {
                on_path[v] = false;
                stack.pop();
                edges.pop();
                continue;
            }
            let (w, e) = nbrs[pos];
            let depth = edges.len() + 1;
            if on_path[w] || dist[w] == usize::MAX || depth + dist[w] > length {
                continue;
            }
            if w == to {
                if depth == length {
                    let mut path_edges = edges.clone();
                    path_edges.push(e);
                    let mut nodes: Vec<usize> = stack.iter().map(|s| s.0).collect();
                    nodes.push(to);
                    found.push(RawPath {
                        nodes,
                        edges: path_edges,
                        cost: length as f64,
                    });
                    if found.len() >= max_paths {
                        for &(u, _) in &stack {
                            on_path[u] = false;
                        }
                        return Ok((found, true));
                    }
                }
                continue;
            }
            on_path[w] = true;
            stack.push((w, 0));
            edges.push(e);
        }
    }
    Ok((found, false))
}

pub struct ShortestPath;
pub struct AllPaths;
pub struct KShortestPaths;
pub struct ConnectingNetwork;
pub struct Expand;

const FROM: ParamSpec = ParamSpec {
    name: "from",
    kind: ParamKind::Entity,
    default: None,
    help: "start entity (required)",
};
const TO: ParamSpec = ParamSpec {
    name: "to",
    kind: ParamKind::Entity,
    default: None,
    help: "end entity (required)",
};
const WEIGHTED: ParamSpec = ParamSpec {
    name: "weighted",
    kind: ParamKind::Bool,
    default: Some("false"),
    help: "minimise the summed link weight instead of the number of hops",
};
const SHORTEST_PARAMS: &[ParamSpec] = &[FROM, TO, WEIGHTED, GRADE_PARAM];

const K_PARAMS: &[ParamSpec] = &[
    FROM,
    TO,
    ParamSpec {
        name: "k",
        kind: ParamKind::Int,
        default: Some("3"),
        help: "how many paths",
    },
    WEIGHTED,
    GRADE_PARAM,
];
const ALL_PARAMS: &[ParamSpec] = &[
    FROM,
    TO,
    ParamSpec {
        name: "max_length",
        kind: ParamKind::Int,
        default: Some("4"),
        help: "longest path, in links (at most 12)",
    },
    ParamSpec {
        name: "max_paths",
        kind: ParamKind::Int,
        default: Some("100"),
        help: "stop after this many paths (at most 100000), shortest first",
    },
    GRADE_PARAM,
];
const CONNECT_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "entities",
        kind: ParamKind::EntityList,
        default: None,
        help: "the entities to connect (at least two, comma-separated)",
    },
    GRADE_PARAM,
];
const EXPAND_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "entities",
        kind: ParamKind::EntityList,
        default: None,
        help: "the selection to expand from (comma-separated)",
    },
    ParamSpec {
        name: "degrees",
        kind: ParamKind::Int,
        default: Some("1"),
        help: "how many links out to go",
    },
    GRADE_PARAM,
];

impl Component for ShortestPath {
    fn name(&self) -> &'static str {
        "shortest-path"
    }
    fn summary(&self) -> &'static str {
        "shortest path between two entities (hops or weighted), with its weakest grade"
    }
    fn params(&self) -> &'static [ParamSpec] {
        SHORTEST_PARAMS
    }
    fn run_on(
        &self,
        input: &AnalysisInput<'_>,
        params: &Params,
        cancel: &CancelToken,
        progress: &dyn Progress,
    ) -> Result<Output, AnalysisError> {
        let case = input.snapshot()?;
        let (from, to, weighted, g) = endpoints(case, params)?;
        let none = HashSet::new();
        let path = dijkstra(&g, from, to, weighted, &none, &none, cancel)?;
        progress.report(Some(1.0), "shortest path done");
        Ok(Output::Paths {
            paths: path.into_iter().map(|p| to_result(case, &g, &p)).collect(),
        })
    }
}

impl Component for AllPaths {
    fn name(&self) -> &'static str {
        "all-paths"
    }
    fn summary(&self) -> &'static str {
        "every path up to a length between two entities (bounded count), shortest first, \
         each with its weakest grade"
    }
    fn params(&self) -> &'static [ParamSpec] {
        ALL_PARAMS
    }
    fn run_on(
        &self,
        input: &AnalysisInput<'_>,
        params: &Params,
        cancel: &CancelToken,
        progress: &dyn Progress,
    ) -> Result<Output, AnalysisError> {
        let case = input.snapshot()?;
        let max_length = params.get_usize("max_length", 4)?;
        if !(1..=12).contains(&max_length) {
            return Err(AnalysisError::BadParam {
                name: "max_length".into(),
                reason: format!("must be between 1 and 12, not {max_length}"),
            });
        }
        let max_paths = params.get_usize("max_paths", 100)?;
        if !(1..=100_000).contains(&max_paths) {
            return Err(AnalysisError::BadParam {
                name: "max_paths".into(),
                reason: format!("must be between 1 and 100000, not {max_paths}"),
            });
        }
        let (from, to, _, g) = endpoints(case, params)?;
        let (paths, truncated) = all_paths(&g, from, to, max_length, max_paths, cancel)?;
        progress.report(
            Some(1.0),
            &if truncated {
                format!(
                    "all paths: stopped at {} paths (limit reached)",
                    paths.len()
                )
            } else {
                format!("all paths: {} found", paths.len())
            },
        );
        Ok(Output::Paths {
            paths: paths.into_iter().map(|p| to_result(case, &g, &p)).collect(),
        })
    }
}

impl Component for KShortestPaths {
    fn name(&self) -> &'static str {
        "k-shortest-paths"
    }
    fn summary(&self) -> &'static str {
        "the k shortest loopless paths between two entities (Yen), each with its weakest grade"
    }
    fn params(&self) -> &'static [ParamSpec] {
        K_PARAMS
    }
    fn run_on(
        &self,
        input: &AnalysisInput<'_>,
        params: &Params,
        cancel: &CancelToken,
        progress: &dyn Progress,
    ) -> Result<Output, AnalysisError> {
        let case = input.snapshot()?;
        let k = params.get_usize("k", 3)?.max(1);
        let (from, to, weighted, g) = endpoints(case, params)?;
        let paths = k_shortest(&g, from, to, k, weighted, cancel)?;
        progress.report(Some(1.0), "k shortest paths done");
        Ok(Output::Paths {
            paths: paths.into_iter().map(|p| to_result(case, &g, &p)).collect(),
        })
    }
}

impl Component for ConnectingNetwork {
    fn name(&self) -> &'static str {
        "connecting-network"
    }
    fn summary(&self) -> &'static str {
        "the entities and links on shortest paths between every pair of a chosen set"
    }
    fn params(&self) -> &'static [ParamSpec] {
        CONNECT_PARAMS
    }
    fn run_on(
        &self,
        input: &AnalysisInput<'_>,
        params: &Params,
        cancel: &CancelToken,
        progress: &dyn Progress,
    ) -> Result<Output, AnalysisError> {
        let case = input.snapshot()?;
        let chosen = params.get_entities(case, "entities")?;
        if chosen.len() < 2 {
            return Err(AnalysisError::BadParam {
                name: "entities".into(),
                reason: "give at least two entities, comma-separated".into(),
            });
        }
        let threshold = params.get_grade(case)?;
        let g = AnalysisGraph::build(&CompactGraph::from_snapshot(case), threshold.as_ref())?;
        let nodes: Vec<usize> = chosen
            .iter()
            .map(|&id| node_of(&g, id, "entities"))
            .collect::<Result<_, _>>()?;
        let mut entities: BTreeSet<EntityId> = chosen.iter().copied().collect();
        let mut links = BTreeSet::new();
        let none = HashSet::new();
        let pairs = nodes.len() * (nodes.len() - 1) / 2;
        let mut done = 0;
        for (i, &a) in nodes.iter().enumerate() {
            for &b in &nodes[i + 1..] {
                if let Some(p) = dijkstra(&g, a, b, false, &none, &none, cancel)? {
                    entities.extend(p.nodes.iter().map(|&v| g.nodes[v]));
                    links.extend(p.edges.iter().map(|&e| g.edges[e].3));
                }
                done += 1;
                progress.report(Some(done as f32 / pairs as f32), "connecting network");
            }
        }
        Ok(Output::Subgraph {
            entities: entities.into_iter().collect(),
            links: links.into_iter().collect(),
        })
    }
}

impl Component for Expand {
    fn name(&self) -> &'static str {
        "expand"
    }
    fn summary(&self) -> &'static str {
        "everything within N links of a selection, with the links among it"
    }
    fn params(&self) -> &'static [ParamSpec] {
        EXPAND_PARAMS
    }
    fn run_on(
        &self,
        input: &AnalysisInput<'_>,
        params: &Params,
        cancel: &CancelToken,
        progress: &dyn Progress,
    ) -> Result<Output, AnalysisError> {
        let case = input.snapshot()?;
        let chosen = params.get_entities(case, "entities")?;
        if chosen.is_empty() {
            return Err(AnalysisError::BadParam {
                name: "entities".into(),
                reason: "give at least one entity".into(),
            });
        }
        let degrees = params.get_usize("degrees", 1)?;
        let threshold = params.get_grade(case)?;
        let g = AnalysisGraph::build(&CompactGraph::from_snapshot(case), threshold.as_ref())?;
        let mut dist = vec![usize::MAX; g.node_count()];
        let mut queue = VecDeque::new();
        for &id in &chosen {
            let v = node_of(&g, id, "entities")?;
            dist[v] = 0;
            queue.push_back(v);
        }
        let mut steps = 0;
        while let Some(v) = queue.pop_front() {
            steps += 1;
            check_every(cancel, steps, 4096)?;
            if dist[v] >= degrees {
                continue;
            }
            for &(w, _) in g.neighbours(v) {
                if dist[w] == usize::MAX {
                    dist[w] = dist[v] + 1;
                    queue.push_back(w);
                }
            }
        }
        let entities = (0..g.node_count())
            .filter(|&v| dist[v] != usize::MAX)
            .map(|v| g.nodes[v])
            .collect();
        let mut links: Vec<LinkId> = g
            .edges
            .iter()
            .filter(|e| dist[e.0] != usize::MAX && dist[e.1] != usize::MAX)
            .map(|e| e.3)
            .collect();
        links.sort();
        progress.report(Some(1.0), "expand done");
        Ok(Output::Subgraph { entities, links })
    }
}
