//! The graph analysis runs on: unrestricted entities as nodes, usable links as edges, after
//! leaving out restricted items and, when a grade threshold is given, links graded below it.

use super::AnalysisError;
use crate::model::{EntityId, Grade, LinkId};
use crate::store::CompactGraph;

/// Compressed adjacency over the compact graph. Node `i` is `case.nodes[i]` (restricted
/// entities are not nodes).
#[derive(Debug, Clone)]
pub struct AnalysisGraph {
    pub nodes: Vec<EntityId>,
    /// Each usable link once: (source node, target node, weight, link id, directed).
    pub edges: Vec<(usize, usize, f64, LinkId, bool)>,
    /// Undirected adjacency: for node i, `adj[offsets[i]..offsets[i+1]]` = (neighbour, edge).
    pub offsets: Vec<usize>,
    pub adj: Vec<(usize, usize)>,
}

/// For each distinct grading of the compact graph (`case.gradings`), whether links carrying it
/// meet `threshold` (all do when there is none): decided once per grading, not per link.
pub fn links_meeting(
    case: &CompactGraph,
    threshold: Option<&Grade>,
) -> Result<Vec<bool>, AnalysisError> {
    let scheme = match threshold {
        Some(t) => Some(case.scheme(&t.scheme).ok_or_else(|| {
            AnalysisError::Failed(format!("grading scheme '{}' is not in the case", t.scheme))
        })?),
        None => None,
    };
    Ok(case
        .gradings
        .iter()
        .map(|g| match (scheme, threshold) {
            (Some(scheme), Some(t)) => scheme.meets(g.as_ref(), t),
            _ => true,
        })
        .collect())
}

impl AnalysisGraph {
    /// Builds the graph, keeping links that are not restricted, whose ends are not restricted,
    /// and that meet `threshold` when one is given.
    pub fn build(
        case: &CompactGraph,
        threshold: Option<&Grade>,
    ) -> Result<AnalysisGraph, AnalysisError> {
        let meets = links_meeting(case, threshold)?;
        let nodes = case.nodes.clone();
        let edges: Vec<_> = case
            .links
            .iter()
            .filter(|l| meets[l.grading as usize])
            .map(|l| {
                (
                    l.source as usize,
                    l.target as usize,
                    l.weight,
                    l.id,
                    l.directed,
                )
            })
            .collect();
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

    /// The node of an entity (`None` when it is restricted or not in the case).
    pub fn node_of(&self, id: EntityId) -> Option<usize> {
        self.nodes.binary_search(&id).ok()
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }
}
