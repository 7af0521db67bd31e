//! Structure of the network: connected components (weak, or strong following link direction)
//! and k-core numbers.

use super::simple::{SimpleGraph, check_every, entity_values, simple_graph};
use super::{
    AnalysisError, AnalysisGraph, AnalysisInput, Component, GRADE_PARAM, Needs, Output, ParamKind,
    ParamSpec, Params, RESTRICTED_PARAM,
};
use crate::jobs::{CancelToken, Progress};

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
        let graph = AnalysisGraph::build(case, threshold.as_ref())?;
        let comp = match mode {
            "weak" => weak_components(&SimpleGraph::from_analysis(&graph), cancel)?,
            "strong" => strong_components(&graph, cancel)?,
            other => {
                return Err(AnalysisError::BadParam {
                    name: "mode".into(),
                    reason: format!("'{other}' is not weak or strong"),
                });
            }
        };
        progress.report(Some(1.0), "components done");
        Ok(Output::Communities {
            assignment: graph.nodes.iter().copied().zip(comp).collect(),
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
