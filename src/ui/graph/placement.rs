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

/// Where a running layout leaves its latest positions for the view, with the epoch of the
/// layout that wrote them (positions of an older epoch are dropped: an undo came between).
pub type PositionSlot = Arc<Mutex<Option<(u64, Vec<[f32; 2]>)>>>;

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
    /// Which layout's positions the view takes; increased when an undo or redo takes the
    /// chart back while a layout streams.
    pub(super) epoch: u64,
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
            Some((epoch, p)) if epoch == self.epoch && p.len() == self.positions.len() => {
                self.positions = p;
                true
            }
            _ => false,
        }
    }

    /// Entities just added to the chart start beside the entities on it they link to
    /// (fanned out by the golden angle); those linked to none start in a ring around the
    /// chart's centre. Nothing else moves.
    pub(super) fn place_added(&mut self, case: &CaseSnapshot, chart: &Chart, added: &[EntityId]) {
        let adding: std::collections::HashSet<EntityId> = added.iter().copied().collect();
        let placed = |e: EntityId| chart.is_on_chart(e) && !adding.contains(&e);
        let (mut sum, mut count) = ([0.0f32; 2], 0usize);
        for (i, &e) in self.nodes.iter().enumerate() {
            if placed(e) && !chart.state.hidden.contains(&e) {
                sum = [sum[0] + self.positions[i][0], sum[1] + self.positions[i][1]];
                count += 1;
            }
        }
        let centre = if count > 0 {
            [sum[0] / count as f32, sum[1] / count as f32]
        } else {
            [0.0, 0.0]
        };
        let spacing = crate::layout::NODE_SPACING;
        let (mut fanned, mut loose) = (0u32, 0u32);
        for &e in added {
            let Some(&i) = self.index_of.get(&e) else {
                continue;
            };
            let (mut near, mut n) = ([0.0f32; 2], 0u32);
            if let Some(node) = case.node(e) {
                for nb in case.graph.neighbors_undirected(node) {
                    let other = case.graph[nb];
                    if placed(other)
                        && let Some(&j) = self.index_of.get(&other)
                    {
                        near = [
                            near[0] + self.positions[j][0],
                            near[1] + self.positions[j][1],
                        ];
                        n += 1;
                    }
                }
            }
            self.positions[i] = if n > 0 {
                let angle = fanned as f32 * 2.399_963;
                fanned += 1;
                [
                    near[0] / n as f32 + spacing * angle.cos(),
                    near[1] / n as f32 + spacing * angle.sin(),
                ]
            } else {
                // A sunflower around the centre, outside the chart's busiest part.
                let k = loose as f32;
                loose += 1;
                let r = spacing * (2.0 + (k + 1.0).sqrt());
                let angle = k * 2.399_963;
                [centre[0] + r * angle.cos(), centre[1] + r * angle.sin()]
            };
        }
    }

    /// What a layout job needs, copied so that the job owns it: the nodes it lays out (by
    /// layout index) and which of those stay where they are.
    pub fn layout_job(
        &self,
        request: &LayoutRequest,
        nodes: Vec<u32>,
        pinned: Vec<bool>,
        groups: Vec<u32>,
    ) -> LayoutJob {
        LayoutJob {
            kind: request.kind,
            settings: request.settings,
            graph: self.graph.clone(),
            nodes,
            start: self.positions.clone(),
            pinned,
            directed: self.edge_directed.clone(),
            groups,
            slot: Arc::clone(&self.slot),
            epoch: self.epoch,
            iterations: match request.scope {
                LayoutScope::Added(_) => ADDED_ITERATIONS,
                _ => FORCE_ITERATIONS,
            },
        }
    }
}

/// The force layout's settings, as Gephi's ForceAtlas2 panel has them.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ForceParams {
    /// Pull towards the centre (strong gravity: grows with the distance).
    pub gravity: f32,
    /// Repulsion between nodes: larger spreads the chart.
    pub scaling: f32,
    /// LinLog attraction (logarithmic): tighter clusters, clearer communities.
    pub lin_log: bool,
    /// Push apart nodes that overlap, so every icon and label has room.
    pub prevent_overlap: bool,
}

impl Default for ForceParams {
    fn default() -> Self {
        let d = crate::layout::ForceSettings::default();
        ForceParams {
            gravity: d.gravity,
            scaling: d.scaling,
            lin_log: false,
            // Off by default, as in Gephi: it costs a pass over the nodes per iteration.
            prevent_overlap: false,
        }
    }
}

/// What to lay out: the entities shown on the chart, the selection, or entities just added
/// (with everything else pinned).
#[derive(Debug, Clone, PartialEq)]
pub enum LayoutScope {
    Chart,
    Selection(Vec<EntityId>),
    Added(Vec<EntityId>),
}

/// A layout the view asks the app to run.
#[derive(Debug, Clone, PartialEq)]
pub struct LayoutRequest {
    pub kind: LayoutKind,
    pub scope: LayoutScope,
    pub settings: ForceParams,
    /// The layout is an undo step of its own (a layout the analyst asked for; not the one
    /// that places newly added entities, which belongs to the adding, nor the one a new chart
    /// gets when it opens).
    pub undo_step: bool,
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
    settings: ForceParams,
    graph: LayoutGraph,
    /// The nodes laid out (layout indices); the others keep their positions and are not part
    /// of the computation at all.
    nodes: Vec<u32>,
    /// Every entity's position before the layout.
    start: Vec<[f32; 2]>,
    /// Per node of `nodes`: stays where it is.
    pinned: Vec<bool>,
    directed: Vec<bool>,
    /// Per node of `nodes`: its group (grouped layouts).
    groups: Vec<u32>,
    slot: PositionSlot,
    epoch: u64,
    /// Iterations at most of a force layout.
    iterations: usize,
}

/// Iterations of a force layout started from the toolbar.
const FORCE_ITERATIONS: usize = 3000;
/// Iterations of the force layout that settles newly added entities.
const ADDED_ITERATIONS: usize = 400;

impl LayoutJob {
    /// How many entities it lays out.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Computes the new positions of every entity (run it in a job): those it lays out move,
    /// pinned ones and all others keep theirs.
    pub fn run(
        self,
        cancel: &CancelToken,
        progress: &dyn Progress,
    ) -> Result<Vec<[f32; 2]>, JobError> {
        // The layout `copkit layout` runs too (layout::chart), so both move the same nodes.
        let layout = crate::layout::chart::ChartLayout {
            algorithm: match self.kind {
                LayoutKind::Force => crate::layout::chart::Algorithm::Force,
                LayoutKind::Circular => crate::layout::chart::Algorithm::Circular,
                LayoutKind::Hierarchical => crate::layout::chart::Algorithm::Hierarchical,
                LayoutKind::Grouped { .. } => crate::layout::chart::Algorithm::Grouped,
            },
            settings: crate::layout::ForceSettings {
                gravity: self.settings.gravity,
                scaling: self.settings.scaling,
                lin_log: self.settings.lin_log,
                prevent_overlap: self.settings.prevent_overlap,
                ..crate::layout::ForceSettings::default()
            },
            graph: self.graph,
            directed: self.directed,
            nodes: self.nodes,
            start: self.start,
            pinned: self.pinned,
            groups: self.groups,
            iterations: self.iterations,
        };
        let (slot, epoch) = (&self.slot, self.epoch);
        let publish = |all: &[[f32; 2]]| {
            if let Ok(mut s) = slot.lock() {
                *s = Some((epoch, all.to_vec()));
            }
        };
        layout.run(cancel, progress, &publish)
    }
}
