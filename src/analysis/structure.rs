//! Structure of the network: connected components (weak, or strong following link direction)
//! and k-core numbers.

use super::graph::links_meeting;
use super::simple::{SimpleGraph, check_every, entity_values, simple_graph};
use super::{
    AnalysisError, AnalysisGraph, AnalysisInput, Component, GRADE_PARAM, Needs, Output, ParamKind,
    ParamSpec, Params, RESTRICTED_PARAM,
};
use crate::jobs::{CancelToken, Progress};
use crate::store::CompactGraph;

/// Weakly connected components, numbered 0.. in order of their lowest node (so the numbering
/// is the same whatever order the entities were added in, given the same ids).
pub fn weak_components(g: &SimpleGraph, cancel: &CancelToken) -> Result<Vec<u32>, AnalysisError> {
    let n = g.len();
    let mut comp = vec![u32::MAX; n];
    let mut next = 0u32;
    let mut stack = Vec::new();
    for start in 0..n {
        check_every(cancel, start, 4096)?;
        if comp[start] != u32::MAX {
            continue;
        }
        comp[start] = next;
        stack.push(start);
        while let Some(v) = stack.pop() {
            for &w in g.neighbours(v) {
                if comp[w] == u32::MAX {
                    comp[w] = next;
                    stack.push(w);
                }
            }
        }
        next += 1;
    }
    Ok(comp)
}

/// Weakly connected components of the compact graph's links that meet the grade filter
/// (`meets`, per distinct grading), by union-find with path halving and union by size.
/// Numbered 0.. in order of their lowest node, as [`weak_components`] numbers them.
pub fn weak_components_of_links(
    case: &CompactGraph,
    meets: &[bool],
    cancel: &CancelToken,
) -> Result<Vec<u32>, AnalysisError> {
    let n = case.nodes.len();
    let mut parent: Vec<u32> = (0..n as u32).collect();
    let mut size = vec![1u32; n];
    fn root(parent: &mut [u32], mut v: u32) -> u32 {
        while parent[v as usize] != v {
            let grand = parent[parent[v as usize] as usize];
            parent[v as usize] = grand;
            v = grand;
        }
        v
    }
    for (i, link) in case.links.iter().enumerate() {
        check_every(cancel, i, 1 << 16)?;
        if !meets[link.grading as usize] {
            continue;
        }
        let (a, b) = (
            root(&mut parent, link.source),
            root(&mut parent, link.target),
        );
        if a == b {
            continue;
        }
        let (big, small) = if size[a as usize] >= size[b as usize] {
            (a, b)
        } else {
            (b, a)
        };
        parent[small as usize] = big;
        size[big as usize] += size[small as usize];
    }
    drop(size);
    // Renumber in order of each component's lowest node; `number` is indexed by root.
    let mut number = vec![u32::MAX; n];
    let mut next = 0u32;
    let mut comp = Vec::with_capacity(n);
    for v in 0..n as u32 {
        let r = root(&mut parent, v) as usize;
        if number[r] == u32::MAX {
            number[r] = next;
            next += 1;
        }
        comp.push(number[r]);
    }
    Ok(comp)
}

/// Strongly connected components (iterative Tarjan) over directed links; undirected links
/// count in both directions. Renumbered 0.. in order of their lowest node.
pub fn strong_components(
    graph: &AnalysisGraph,
    cancel: &CancelToken,
) -> Result<Vec<u32>, AnalysisError> {
    let n = graph.node_count();
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(s, t, _, _, directed) in &graph.edges {
        out[s].push(t);
        if !directed {
            out[t].push(s);
        }
    }
    const UNSEEN: usize = usize::MAX;
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut raw = vec![u32::MAX; n];
    let mut next_index = 0;
    let mut next_comp = 0u32;
    let mut call: Vec<(usize, usize)> = Vec::new();
    for root in 0..n {
        check_every(cancel, root, 4096)?;
        if index[root] != UNSEEN {
            continue;
        }
        call.push((root, 0));
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&(v, pos)) = call.last() {
            if pos < out[v].len() {
                let w = out[v][pos];
                if let Some(top) = call.last_mut() {
                    top.1 += 1;
                }
                if index[w] == UNSEEN {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    call.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                call.pop();
                if let Some(&(parent, _)) = call.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        raw[w] = next_comp;
                        if w == v {
                            break;
                        }
                    }
                    next_comp += 1;
                }
            }
        }
    }
    Ok(renumber(&raw))
}

/// Renumbers groups 0.. in order of first appearance.
pub fn renumber(raw: &[u32]) -> Vec<u32> {
    let mut map = std::collections::HashMap::new();
    raw.iter()
        .map(|&c| {
            let next = map.len() as u32;
            *map.entry(c).or_insert(next)
        })
        .collect()
}

/// Core numbers (Batagelj–Zaversnik bucket algorithm), as networkx's `core_number`.
pub fn core_numbers(g: &SimpleGraph, cancel: &CancelToken) -> Result<Vec<usize>, AnalysisError> {
    let n = g.len();
    let mut deg: Vec<usize> = (0..n).map(|v| g.degree(v)).collect();
    let max_deg = deg.iter().copied().max().unwrap_or(0);
    let mut bin = vec![0usize; max_deg + 2];
    for &d in &deg {
        bin[d] += 1;
    }
    let mut start = 0;
    for b in bin.iter_mut() {
        let count = *b;
        *b = start;
        start += count;
    }
    let mut pos = vec![0usize; n];
    let mut vert = vec![0usize; n];
    for v in 0..n {
        pos[v] = bin[deg[v]];
        vert[pos[v]] = v;
        bin[deg[v]] += 1;
    }
    for d in (1..=max_deg).rev() {
        bin[d] = bin[d - 1];
    }
    bin[0] = 0;
    for i in 0..n {
        check_every(cancel, i, 4096)?;
        let v = vert[i];
        for &u in g.neighbours(v) {
            if deg[u] > deg[v] {
                let du = deg[u];
                let pu = pos[u];
                let pw = bin[du];
                let w = vert[pw];
                if u != w {
                    pos[u] = pw;
                    vert[pu] = w;
                    pos[w] = pu;
                    vert[pw] = u;
                }
                bin[du] += 1;
                deg[u] -= 1;
            }
        }
    }
    Ok(deg)
}

pub struct Components;
pub struct KCore;

const COMPONENT_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "mode",
        kind: ParamKind::Text,
        default: Some("weak"),
        help: "weak (ignore direction) or strong (follow directed links)",
    },
    GRADE_PARAM,
    RESTRICTED_PARAM,
];

const KCORE_PARAMS: &[ParamSpec] = &[GRADE_PARAM, RESTRICTED_PARAM];

impl Component for Components {
    fn name(&self) -> &'static str {
        "components"
    }
    fn summary(&self) -> &'static str {
        "connected components, weak or strong; numbered from the lowest entity id"
    }
    fn params(&self) -> &'static [ParamSpec] {
        COMPONENT_PARAMS
    }
    fn needs(&self) -> Needs {
        Needs::Graph
    }
    fn run_on(
        &self,
        input: &AnalysisInput<'_>,
        params: &Params,
        cancel: &CancelToken,
        progress: &dyn Progress,
    ) -> Result<Output, AnalysisError> {
        let case = input.graph_with(params)?;
        let mode = params.get_str("mode").unwrap_or("weak");
        let threshold = params.get_grade(case)?;
        let comp = match mode {
            "weak" => {
                // Union-find straight over the compact links: no adjacency is built, so a
                // 1M-entity case needs the node array and one u32 per node, not three copies
                // of its links (measured in BENCHMARKS.md, "Analysis, whole process").
                let meets = links_meeting(case, threshold.as_ref())?;
                let comp = weak_components_of_links(case, &meets, cancel)?;
                progress.report(Some(1.0), "components done");
                return Ok(Output::Communities {
                    assignment: case.nodes.iter().copied().zip(comp).collect(),
                    modularity: None,
                });
            }
            "strong" => {
                let graph = AnalysisGraph::build(case, threshold.as_ref())?;
                strong_components(&graph, cancel)?
            }
            other => {
                return Err(AnalysisError::BadParam {
                    name: "mode".into(),
                    reason: format!("'{other}' is not weak or strong"),
                });
            }
        };
        progress.report(Some(1.0), "components done");
        Ok(Output::Communities {
            assignment: case.nodes.iter().copied().zip(comp).collect(),
            modularity: None,
        })
    }
}

impl Component for KCore {
    fn name(&self) -> &'static str {
        "kcore"
    }
    fn summary(&self) -> &'static str {
        "core number: the largest k such that the entity is in a k-core"
    }
    fn params(&self) -> &'static [ParamSpec] {
        KCORE_PARAMS
    }
    fn needs(&self) -> Needs {
        Needs::Graph
    }
    fn run_on(
        &self,
        input: &AnalysisInput<'_>,
        params: &Params,
        cancel: &CancelToken,
        progress: &dyn Progress,
    ) -> Result<Output, AnalysisError> {
        let case = input.graph_with(params)?;
        let g = simple_graph(case, params)?;
        let cores = core_numbers(&g, cancel)?;
        progress.report(Some(1.0), "k-core done");
        Ok(entity_values(
            &g.nodes,
            cores.into_iter().map(|c| c as f64).collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EntityId, LinkId};
    use crate::store::CompactLink;

    fn compact(n: usize, pairs: &[(u32, u32, u32)], gradings: usize) -> CompactGraph {
        CompactGraph {
            generation: 0,
            grading_schemes: Vec::new(),
            default_scheme: String::new(),
            nodes: (0..n as i64).map(|i| EntityId(i * 3 + 1)).collect(),
            links: pairs
                .iter()
                .enumerate()
                .map(|(i, &(source, target, grading))| CompactLink {
                    id: LinkId(i as i64 + 1),
                    source,
                    target,
                    weight: 1.0,
                    directed: i % 2 == 0,
                    grading,
                })
                .collect(),
            gradings: vec![None; gradings],
            includes_restricted: false,
        }
    }

    /// The union-find path gives the same numbering as the search over the simple graph, on
    /// a sparse pseudo-random graph with many small components, self-loops and isolated nodes.
    #[test]
    fn union_find_components_equal_the_graph_search() {
        let n = 2_000usize;
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as u32
        };
        let pairs: Vec<(u32, u32, u32)> = (0..1_200).map(|_| (next(), next(), 0)).collect();
        let case = compact(n, &pairs, 1);
        let cancel = CancelToken::new();
        let fast = weak_components_of_links(&case, &[true], &cancel).unwrap();
        let simple = SimpleGraph::from_pairs(
            case.nodes.clone(),
            n,
            // Half-edges: each link in both directions.
            pairs
                .iter()
                .flat_map(|&(s, t, _)| {
                    [(s as usize, t as usize, 1.0), (t as usize, s as usize, 1.0)]
                })
                .collect(),
        );
        assert_eq!(fast, weak_components(&simple, &cancel).unwrap());
        assert!(
            fast.iter().max().unwrap() > &100,
            "many components expected"
        );
    }

    /// Links whose grading does not meet the threshold do not join components.
    #[test]
    fn union_find_components_skip_links_below_the_threshold() {
        let case = compact(4, &[(0, 1, 0), (1, 2, 1), (2, 3, 0)], 2);
        let cancel = CancelToken::new();
        assert_eq!(
            weak_components_of_links(&case, &[true, true], &cancel).unwrap(),
            vec![0, 0, 0, 0]
        );
        assert_eq!(
            weak_components_of_links(&case, &[true, false], &cancel).unwrap(),
            vec![0, 0, 1, 1]
        );
    }
}
