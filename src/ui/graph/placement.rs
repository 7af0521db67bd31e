//! Where the chart's entities are: one position per entity of the case, the graph the layouts
//! work on, and the layout jobs the view asks the app to run (the view never runs a layout
//! itself). Positions of known entities survive a new case generation; entities new to a
//! placed chart start beside what they link to.

use super::chart::Chart;
use super::saved::SavedChart;
use crate::jobs::{CancelToken, JobError, Progress};
use crate::layout::LayoutGraph;
use crate::model::EntityId;
use crate::store::CaseSnapshot;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Where a running layout leaves its latest positions for the view.
pub type PositionSlot = Arc<Mutex<Option<Vec<[f32; 2]>>>>;

/// The entities of the case as layout nodes and where each is drawn.
#[derive(Debug, Default)]
pub struct Placement {
    /// The case generation the nodes were read from.
    pub(super) generation: Option<u64>,
    /// Node `i` of the layout graph is `case.entities[i]`.
    pub(super) nodes: Vec<EntityId>,
    pub(super) index_of: HashMap<EntityId, usize>,
    pub graph: LayoutGraph,
    /// Whether edge `e` of `graph` is a directed link (for the hierarchical layout).
    pub(super) edge_directed: Vec<bool>,
    /// Entity positions (world units), one per entity.
    pub positions: Vec<[f32; 2]>,
    pub slot: PositionSlot,
    pub layout_running: bool,
    /// Set when a case is first placed (every entity on the starting spiral) and has links:
    /// the app may start the force layout (its "lay out new charts" preference).
    pub wants_layout: bool,
    /// A chart saved with the case, to place the entities by at the next sync.
    pub(super) restore: Option<SavedChart>,
}

/// What a [`Placement::sync`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Synced {
    /// Same generation: nothing to do.
    Unchanged,
    /// New nodes; `fit` when the chart was placed anew (first showing, or a saved chart).
    Changed { fit: bool },
}

impl Placement {
    /// Reads the case's entities when its generation changed, keeping the positions of known
    /// entities (and taking those of a saved chart when the case is first shown).
    pub(super) fn sync(&mut self, case: &CaseSnapshot, chart: &mut Chart) -> Synced {
        if self.generation == Some(case.generation) {
            return Synced::Unchanged;
        }
        let mut old: HashMap<EntityId, [f32; 2]> = self
            .nodes
            .iter()
            .copied()
            .zip(self.positions.iter().copied())
            .collect();
        let restored = if old.is_empty() {
            self.restore.take()
        } else {
            None
        };
        if let Some(saved) = &restored {
            old = saved.positions();
        }
        self.graph = LayoutGraph {
            node_count: case.entities.len(),
            edges: case
                .graph
                .edge_indices()
                .filter_map(|e| case.graph.edge_endpoints(e))
                .map(|(a, b)| (a.index() as u32, b.index() as u32))
                .collect(),
        };
        self.edge_directed = case
            .graph
            .edge_indices()
            .map(|e| {
                case.graph
                    .edge_weight(e)
                    .and_then(|&k| case.links.get(k))
                    .is_some_and(|l| l.directed)
            })
            .collect();
        let fresh = crate::layout::starting_positions(self.graph.node_count, None);
        self.positions = case
            .entities
            .iter()
            .enumerate()
            .map(|(i, e)| old.get(&e.id).copied().unwrap_or(fresh[i]))
            .collect();
        if !old.is_empty() {
            self.place_newcomers(case, &old);
        }
        self.nodes = case.entities.iter().map(|e| e.id).collect();
        self.index_of = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, e)| (*e, i))
            .collect();
        if let Some(saved) = &restored {
            chart.state = saved.state();
        }
        let index_of = &self.index_of;
        chart.retain(|e| index_of.contains_key(&e));
        self.generation = Some(case.generation);
        let first = old.is_empty();
        if first && restored.is_none() {
            self.wants_layout = self.graph.edges.iter().any(|&(a, b)| a != b);
        }
        Synced::Changed {
            fit: first || restored.is_some(),
        }
    }

    /// Entities new to a chart that was already placed (an import into the open case, a chart
    /// saved before the case grew) start beside the placed entities they link to, fanned out
    /// by the golden angle, instead of on the starting spiral at the centre, as i2 adds new
    /// items next to their links. Those with no placed neighbour stay on the spiral.
    fn place_newcomers(&mut self, case: &CaseSnapshot, placed: &HashMap<EntityId, [f32; 2]>) {
        let spacing = crate::layout::NODE_SPACING;
        let mut fanned = 0u32;
        for (i, e) in case.entities.iter().enumerate() {
            if placed.contains_key(&e.id) {
                continue;
            }
            let Some(node) = case.node(e.id) else {
                continue;
            };
            let (mut sum, mut count) = ([0.0f32; 2], 0u32);
            for nb in case.graph.neighbors_undirected(node) {
                if let Some(p) = placed.get(&case.graph[nb]) {
                    sum = [sum[0] + p[0], sum[1] + p[1]];
                    count += 1;
                }
            }
            if count == 0 {
                continue;
            }
            let angle = fanned as f32 * 2.399_963;
            fanned += 1;
            self.positions[i] = [
                sum[0] / count as f32 + spacing * angle.cos(),
                sum[1] / count as f32 + spacing * angle.sin(),
            ];
        }
    }

    /// The entity of a node.
    pub(super) fn entity(&self, node: usize) -> Option<EntityId> {
        self.nodes.get(node).copied()
    }

    /// Which entities are pinned, one flag per layout node.
    pub fn pinned_mask(&self, chart: &Chart) -> Vec<bool> {
        self.nodes
            .iter()
            .map(|e| chart.state.pinned.contains(e))
            .collect()
    }

    /// Takes positions a running layout published; true when there were new ones.
    pub(super) fn take_published(&mut self) -> bool {
        let latest = self.slot.lock().ok().and_then(|mut s| s.take());
        match latest {
            Some(p) if p.len() == self.positions.len() => {
                self.positions = p;
                true
            }
            _ => false,
        }
    }

    /// What a layout job needs, copied so that the job owns it.
    pub fn layout_job(&self, kind: LayoutKind, chart: &Chart, groups: Vec<u32>) -> LayoutJob {
        LayoutJob {
            kind,
            graph: self.graph.clone(),
            start: self.positions.clone(),
            pinned: self.pinned_mask(chart),
            directed: self.edge_directed.clone(),
            groups,
            slot: Arc::clone(&self.slot),
        }
    }
}

/// The layouts of the toolbar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayoutKind {
    /// Barnes–Hut ForceAtlas2, streaming positions while it runs; resumes from the current
    /// positions.
    Force,
    Circular,
    /// Layers along directed links (ownership, command structures).
    Hierarchical,
    /// Groups side by side: by community of the active result, or by entity type.
    Grouped {
        by_community: bool,
    },
}

impl LayoutKind {
    pub fn label(self) -> &'static str {
        match self {
            LayoutKind::Force => "force layout",
            LayoutKind::Circular => "circular layout",
            LayoutKind::Hierarchical => "hierarchical layout",
            LayoutKind::Grouped { .. } => "grouped layout",
        }
    }
}

/// One layout to run as a job: its inputs, owned.
#[derive(Debug)]
pub struct LayoutJob {
    pub kind: LayoutKind,
    graph: LayoutGraph,
    start: Vec<[f32; 2]>,
    pinned: Vec<bool>,
    directed: Vec<bool>,
    /// The group of each node (grouped layouts).
    groups: Vec<u32>,
    slot: PositionSlot,
}

/// Iterations of a force layout started from the toolbar.
const FORCE_ITERATIONS: usize = 3000;

impl LayoutJob {
    /// Computes the new positions (run it in a job); pinned entities keep theirs.
    pub fn run(
        self,
        cancel: &CancelToken,
        progress: &dyn Progress,
    ) -> Result<Vec<[f32; 2]>, JobError> {
        let positions = match self.kind {
            LayoutKind::Force => {
                let slot = &self.slot;
                let publish = |p: &[[f32; 2]]| {
                    if let Ok(mut s) = slot.lock() {
                        *s = Some(p.to_vec());
                    }
                };
                return crate::layout::run_force(
                    &self.graph,
                    Some(&self.start),
                    &self.pinned,
                    FORCE_ITERATIONS,
                    cancel,
                    progress,
                    &publish,
                );
            }
            LayoutKind::Circular => crate::layout::circular(self.graph.node_count),
            LayoutKind::Hierarchical => crate::layout::hierarchical(&self.graph, &self.directed),
            LayoutKind::Grouped { .. } => crate::layout::grouped(&self.graph, &self.groups),
        };
        cancel.check()?;
        Ok(positions
            .into_iter()
            .zip(&self.start)
            .zip(&self.pinned)
            .map(|((new, old), &pinned)| if pinned { *old } else { new })
            .collect())
    }
}
