//! Shared plumbing for the graph components: a simple undirected view of the analysis graph
//! (parallel links collapsed, self-loops dropped, neighbours sorted), a small seeded random
//! generator, and helpers that turn per-node numbers into an [`Output`].
//!
//! Centralities are defined on simple graphs: two links between the same pair of entities (say
//! a call record and a known-associate link) must not count as two shortest paths, so they are
//! collapsed here, their weights summed.

use super::{AnalysisError, AnalysisGraph, Output, Params};
use crate::jobs::CancelToken;
use crate::model::EntityId;
use crate::store::CompactGraph;

/// Undirected simple graph in CSR form. Node `i` is `nodes[i]`.
#[derive(Debug, Clone)]
pub struct SimpleGraph {
    pub nodes: Vec<EntityId>,
    pub offsets: Vec<usize>,
    pub nbrs: Vec<usize>,
    /// Summed weight of the collapsed links, parallel to `nbrs`.
    pub weights: Vec<f64>,
}

impl SimpleGraph {
    pub fn from_analysis(graph: &AnalysisGraph) -> SimpleGraph {
        let n = graph.node_count();
        let mut pairs: Vec<(usize, usize, f64)> = Vec::with_capacity(graph.edges.len() * 2);
        for &(s, t, w, _, _) in &graph.edges {
            if s != t {
                pairs.push((s, t, w));
                pairs.push((t, s, w));
            }
        }
        Self::from_pairs(graph.nodes.clone(), n, pairs)
    }

    /// From directed half-edges (each undirected edge given in both directions).
    pub fn from_pairs(
        nodes: Vec<EntityId>,
        n: usize,
        mut pairs: Vec<(usize, usize, f64)>,
    ) -> SimpleGraph {
        pairs.sort_unstable_by_key(|a| (a.0, a.1));
        let mut offsets = vec![0usize; n + 1];
        let mut nbrs = Vec::with_capacity(pairs.len());
        let mut weights: Vec<f64> = Vec::with_capacity(pairs.len());
        let mut last: Option<(usize, usize)> = None;
        for (s, t, w) in pairs {
            if last == Some((s, t))
                && let Some(previous) = weights.last_mut()
            {
                *previous += w;
                continue;
            }
            last = Some((s, t));
            nbrs.push(t);
            weights.push(w);
            offsets[s + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        SimpleGraph {
            nodes,
            offsets,
            nbrs,
            weights,
        }
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn neighbours(&self, i: usize) -> &[usize] {
        &self.nbrs[self.offsets[i]..self.offsets[i + 1]]
    }

    pub fn neighbour_weights(&self, i: usize) -> &[f64] {
        &self.weights[self.offsets[i]..self.offsets[i + 1]]
    }

    pub fn degree(&self, i: usize) -> usize {
        self.offsets[i + 1] - self.offsets[i]
    }

    /// Number of undirected edges.
    pub fn edge_count(&self) -> usize {
        self.nbrs.len() / 2
    }
}

/// Builds the simple graph for a component from its `grade` parameter.
pub fn simple_graph(case: &CompactGraph, params: &Params) -> Result<SimpleGraph, AnalysisError> {
    let threshold = params.get_grade(case)?;
    let graph = AnalysisGraph::build(case, threshold.as_ref())?;
    Ok(SimpleGraph::from_analysis(&graph))
}

/// Per-node values as an output (nodes are already in entity-id order).
pub fn entity_values(nodes: &[EntityId], values: Vec<f64>) -> Output {
    Output::EntityValues {
        values: nodes.iter().copied().zip(values).collect(),
    }
}

/// Checks the cancel token every `every` iterations of a hot loop: often enough to stop
/// within 100 ms, rarely enough to cost nothing.
#[inline]
pub fn check_every(cancel: &CancelToken, i: usize, every: usize) -> Result<(), AnalysisError> {
    if i.is_multiple_of(every) && cancel.is_cancelled() {
        Err(AnalysisError::Cancelled)
    } else {
        Ok(())
    }
}

/// SplitMix64: a tiny, well-mixed generator. Components seed it from their `seed` parameter so
/// that the same case and parameters always give the same result, on every platform.
#[derive(Debug, Clone)]
pub struct SeededRng(u64);

impl SeededRng {
    pub fn new(seed: u64) -> SeededRng {
        SeededRng(seed ^ 0x5851_F42D_4C95_7F2D)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0); the tiny modulo bias is irrelevant for shuffling.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

pub const SEED_PARAM: super::ParamSpec = super::ParamSpec {
    name: "seed",
    kind: super::ParamKind::Int,
    default: Some("1"),
    help: "random seed; the same seed gives the same result",
};
