//! The graph analysis runs on: entities as nodes, usable links as edges, after leaving out
//! restricted items and, when a grade threshold is given, links graded below it.

use super::AnalysisError;
use crate::model::{EntityId, Grade, LinkId};
use crate::store::CaseSnapshot;

/// Compressed adjacency over a snapshot. Node `i` is `case.entities[i]`.
#[derive(Debug, Clone)]
pub struct AnalysisGraph {
    pub nodes: Vec<EntityId>,
    /// Each usable link once: (source node, target node, weight, link id, directed).
    pub edges: Vec<(usize, usize, f64, LinkId, bool)>,
    /// Undirected adjacency: for node i, `adj[offsets[i]..offsets[i+1]]` = (neighbour, edge).
    pub offsets: Vec<usize>,
    pub adj: Vec<(usize, usize)>,
}

impl AnalysisGraph {
    /// Builds the graph, keeping links that are not restricted, whose ends are not restricted,
    /// and that meet `threshold` when one is given.
    pub fn build(
        case: &CaseSnapshot,
        threshold: Option<&Grade>,
    ) -> Result<AnalysisGraph, AnalysisError> {
        let scheme = match threshold {
            Some(t) => Some(case.scheme(&t.scheme).ok_or_else(|| {
                AnalysisError::Failed(format!("grading scheme '{}' is not in the case", t.scheme))
            })?),
            None => None,
        };
        let nodes: Vec<EntityId> = case.entities.iter().map(|e| e.id).collect();
        let mut edges = Vec::new();
        for edge in case.graph.edge_indices() {
            let Some((s, t)) = case.graph.edge_endpoints(edge) else {
                continue;
            };
            let link = &case.links[case.graph[edge]];
            if let (Some(scheme), Some(t)) = (scheme, threshold)
                && !scheme.meets(link.grading.as_ref(), t)
            {
                continue;
            }
            edges.push((
                s.index(),
                t.index(),
                link.weight.unwrap_or(1.0),
                link.id,
                link.directed,
            ));
        }
        let mut degree = vec![0usize; nodes.len()];
        for &(s, t, ..) in &edges {
            degree[s] += 1;
            if s != t {
                degree[t] += 1;
            }
        }
        let mut offsets = Vec::with_capacity(nodes.len() + 1);
        let mut total = 0;
        offsets.push(0);
        for d in &degree {
            total += d;
            offsets.push(total);
        }
        let mut fill = offsets.clone();
        let mut adj = vec![(0, 0); total];
        for (e, &(s, t, ..)) in edges.iter().enumerate() {
            adj[fill[s]] = (t, e);
            fill[s] += 1;
            if s != t {
                adj[fill[t]] = (s, e);
                fill[t] += 1;
            }
        }
        Ok(AnalysisGraph {
            nodes,
            edges,
            offsets,
            adj,
        })
    }

    /// Neighbours of node `i` with the edge index, each undirected edge seen from both ends.
    pub fn neighbours(&self, i: usize) -> &[(usize, usize)] {
        &self.adj[self.offsets[i]..self.offsets[i + 1]]
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }
}
