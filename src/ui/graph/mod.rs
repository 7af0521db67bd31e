//! The link-graph view. Entities are drawn as icons by type on discs coloured by the chosen
//! style; links in i2's strength styles with arrows; calls and payments optionally as lines
//! between their participants. Pan by dragging the background, zoom with the wheel towards the
//! cursor, click and ctrl-click to select, shift-drag to box-select, drag nodes to move them,
//! right-click for pin, hide, expand, collapse and export. Picking and box selection go
//! through a grid index. The force layout runs as a job and streams positions here; drawing
//! has levels of detail (see [`draw`]).
//!
//! The view keeps a "display model" (one entry per visible node, one line per link or group
//! of links) that is rebuilt only when the case, the chart, the filters or the style change,
//! not every frame.

pub mod bench;
pub mod chart;
pub mod draw;
pub mod export;
pub mod icons;
pub mod saved;

use super::{Action, ViewState};
use crate::layout::LayoutGraph;
use crate::model::{EntityId, ItemRef, LinkStrength, ParticipantRole, PersonCategory};
use crate::store::CaseSnapshot;
use chart::Chart;
use draw::{Camera, DisplayEdge, DisplayModel, EdgeKind, Palette};
use egui::{Color32, Pos2, Rect, Sense, Stroke, Vec2};
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

const GRID_CELL: f32 = 24.0;
/// Event types drawn as lines between their participants when the user asks for it.
const EVENT_LINK_TYPES: [&str; 3] = ["Call", "Message", "Transaction"];

/// "No display node": a hidden entity, or a link or event end that is not an entity.
const NO_NODE: u32 = u32::MAX;

/// The links' lines, built once per case, chart and choice of summarising parallel links:
/// `edges[i]` draws the links `links[edge_links[i].0..edge_links[i].1]` (indices into the
/// case's links, grouped per pair of display nodes, pairs in order). A rebuild for new
/// filters only sets each line's fading.
#[derive(Debug, Default)]
struct LinkGroups {
    links: Vec<u32>,
    edges: Vec<DisplayEdge>,
    edge_links: Vec<(u32, u32)>,
}

/// The case as node indices, built once per case generation so that rebuilding the display
/// model needs no hash lookups per link or event, and the time filter reads only the events
/// inside it.
#[derive(Debug, Default)]
struct CaseIndex {
    /// Node indices of each link's ends (`NO_NODE` when an end is not in the case).
    link_ends: Vec<[u32; 2]>,
    /// Events in start-time order: (start ms, event index).
    events_by_time: Vec<(i64, u32)>,
    /// The participants of event `k` as nodes: `event_nodes[event_offsets[k]..event_offsets[k + 1]]`.
    event_offsets: Vec<u32>,
    event_nodes: Vec<u32>,
    /// Whether an entity takes part in any event.
    has_events: Vec<bool>,
    /// The (from, to) nodes of calls, messages and payments that can be drawn as lines;
    /// `[NO_NODE; 2]` for other events.
    event_line: Vec<[u32; 2]>,
}

impl CaseIndex {
    fn build(case: &CaseSnapshot, index_of: &HashMap<EntityId, usize>) -> CaseIndex {
        let node = |e: EntityId| index_of.get(&e).map_or(NO_NODE, |&i| i as u32);
        let link_ends = case
            .links
            .iter()
            .map(|l| [node(l.source), node(l.target)])
            .collect();
        let mut events_by_time: Vec<(i64, u32)> = case
            .events
            .iter()
            .enumerate()
            .map(|(k, e)| (e.time.start_ms, k as u32))
            .collect();
        events_by_time.sort_unstable();
        let mut event_offsets = Vec::with_capacity(case.events.len() + 1);
        let mut event_nodes = Vec::new();
        let mut has_events = vec![false; case.entities.len()];
        let mut event_line = Vec::with_capacity(case.events.len());
        for ev in &case.events {
            event_offsets.push(event_nodes.len() as u32);
            for p in &ev.participants {
                let i = node(p.entity);
                if i != NO_NODE {
                    has_events[i as usize] = true;
                    event_nodes.push(i);
                }
            }
            let line = if ev.restricted || !EVENT_LINK_TYPES.contains(&ev.event_type.as_str()) {
                None
            } else {
                let from = ev.in_role(ParticipantRole::From).next().map(node);
                let to = ev.in_role(ParticipantRole::To).next().map(node);
                from.zip(to).filter(|&(a, b)| a != NO_NODE && b != NO_NODE)
            };
            event_line.push(line.map_or([NO_NODE; 2], |(a, b)| [a, b]));
        }
        event_offsets.push(event_nodes.len() as u32);
        CaseIndex {
            link_ends,
            events_by_time,
            event_offsets,
            event_nodes,
            has_events,
            event_line,
        }
    }

    /// The events starting in `[from, to)`, in time order.
    fn events_in(&self, from: i64, to: i64) -> &[(i64, u32)] {
        let lo = self.events_by_time.partition_point(|&(t, _)| t < from);
        let hi = self.events_by_time.partition_point(|&(t, _)| t < to);
        &self.events_by_time[lo..hi.max(lo)]
    }

    fn event_nodes(&self, k: usize) -> &[u32] {
        &self.event_nodes[self.event_offsets[k] as usize..self.event_offsets[k + 1] as usize]
    }
}

/// Where a running layout leaves its latest positions for the view.
pub type PositionSlot = Arc<Mutex<Option<Vec<[f32; 2]>>>>;

/// How nodes are coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum ColourBy {
    #[default]
    Type,
    /// The communities of the active analysis result.
    Community,
    /// The values of the active analysis result, low blue to high red.
    AnalysisValue,
    /// The source reliability of the entity's grading.
    Grade,
    PersonCategory,
}

impl ColourBy {
    pub const ALL: [ColourBy; 5] = [
        ColourBy::Type,
        ColourBy::Community,
        ColourBy::AnalysisValue,
        ColourBy::Grade,
        ColourBy::PersonCategory,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ColourBy::Type => "Type",
            ColourBy::Community => "Community",
            ColourBy::AnalysisValue => "Analysis value",
            ColourBy::Grade => "Grade (source)",
            ColourBy::PersonCategory => "Person category",
        }
    }
}

/// The chart's style options.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GraphStyle {
    pub colour_by: ColourBy,
    /// Size nodes by the active analysis result.
    pub size_by_analysis: bool,
    /// Draw parallel links as one line with a count (else one line per link, side by side).
    pub summarise_parallel: bool,
    /// Draw calls, messages and payments as lines between their participants (one line per
    /// pair, with the count, following the time filter).
    pub show_events: bool,
    pub show_legend: bool,
}

impl Default for GraphStyle {
    fn default() -> Self {
        GraphStyle {
            colour_by: ColourBy::Type,
            size_by_analysis: true,
            summarise_parallel: true,
            show_events: false,
            show_legend: true,
        }
    }
}

/// What a drag is doing.
#[derive(Debug, Clone)]
enum Drag {
    Pan,
    /// Display nodes being moved, with where each entity started.
    Nodes(Vec<(usize, [f32; 2])>),
    /// Box selection from a screen point.
    Box(Pos2),
}

type ScreenshotSlot = Arc<Mutex<Option<Arc<egui::ColorImage>>>>;

/// A PNG export waiting for its screenshot.
#[derive(Debug, Clone)]
struct PendingPng {
    path: PathBuf,
    rect: Rect,
    arrived: ScreenshotSlot,
}

/// The graph view's state across frames.
#[derive(Debug)]
pub struct GraphState {
    generation: Option<u64>,
    /// Node `i` of the layout graph is `case.entities[i]`.
    graph_nodes: Vec<EntityId>,
    index_of: HashMap<EntityId, usize>,
    pub graph: LayoutGraph,
    /// Whether edge `e` of `graph` is a directed link (for the hierarchical layout).
    edge_directed: Vec<bool>,
    /// Entity positions (world units), one per entity.
    pub positions: Vec<[f32; 2]>,
    center: Vec2,
    zoom: f32,
    grid: HashMap<(i32, i32), Vec<u32>>,
    pub slot: PositionSlot,
    pub layout_running: bool,
    /// Set when a case is first placed (every entity on the starting spiral) and has links:
    /// the app may start the force layout (its "lay out new charts" preference).
    pub wants_layout: bool,
    /// A chart saved with the case, to place the entities by at the next rebuild.
    restore: Option<saved::SavedChart>,
    needs_fit: bool,
    pub chart: Chart,
    pub style: GraphStyle,
    model: DisplayModel,
    /// What the display model was built from; rebuilt when it changes.
    model_key: Option<ModelKey>,
    /// The case as node indices, for the current generation.
    index: CaseIndex,
    /// The display node of each entity (`NO_NODE` when hidden).
    rep: Vec<u32>,
    link_groups: LinkGroups,
    /// (case generation, chart revision, summarised parallel links) that `rep`,
    /// `link_groups` and the model's labels, icons, pins and shown flags were built for.
    structure_key: Option<(u64, u64, bool)>,
    /// The picking grid no longer matches the positions.
    grid_stale: bool,
    legend: Vec<(String, Color32)>,
    icons: icons::IconTextures,
    drag: Option<Drag>,
    hovered: Option<usize>,
    context_node: Option<usize>,
    expand_depth: usize,
    pending_png: Option<PendingPng>,
    /// The last frame's camera, for exports and tests.
    pub camera: Option<Camera>,
    pub last_stats: draw::FrameStats,
}

/// Everything the display model depends on.
#[derive(Debug, Clone, PartialEq)]
struct ModelKey {
    generation: u64,
    chart_revision: u64,
    style: GraphStyle,
    filters: super::Filters,
    time_filter: Option<(i64, i64)>,
    analysis: Option<usize>,
}

impl Default for GraphState {
    fn default() -> Self {
        GraphState {
            generation: None,
            graph_nodes: Vec::new(),
            index_of: HashMap::new(),
            graph: LayoutGraph::default(),
            edge_directed: Vec::new(),
            positions: Vec::new(),
            center: Vec2::ZERO,
            zoom: 1.0,
            grid: HashMap::new(),
            slot: Arc::new(Mutex::new(None)),
            layout_running: false,
            wants_layout: false,
            restore: None,
            needs_fit: true,
            chart: Chart::default(),
            style: GraphStyle::default(),
            model: DisplayModel::default(),
            model_key: None,
            index: CaseIndex::default(),
            rep: Vec::new(),
            link_groups: LinkGroups::default(),
            structure_key: None,
            grid_stale: true,
            legend: Vec::new(),
            icons: icons::IconTextures::default(),
            drag: None,
            hovered: None,
            context_node: None,
            expand_depth: 1,
            pending_png: None,
            camera: None,
            last_stats: draw::FrameStats::default(),
        }
    }
}

/// A stable colour for an entity type: distinct fixed colours for the built-in types, a
/// hashed palette colour for user-defined ones.
pub fn type_colour(entity_type: &str) -> Color32 {
    match entity_type {
        "Person" => return Color32::from_rgb(214, 120, 60),
        "Organization" => return Color32::from_rgb(150, 100, 200),
        "Phone" => return Color32::from_rgb(60, 150, 220),
        "Email" => return Color32::from_rgb(90, 190, 190),
        "Address" => return Color32::from_rgb(140, 150, 110),
        "Location" => return Color32::from_rgb(60, 170, 110),
        "Vehicle" => return Color32::from_rgb(200, 170, 40),
        "BankAccount" => return Color32::from_rgb(200, 80, 110),
        "Device" => return Color32::from_rgb(110, 130, 200),
        "Document" => return Color32::from_rgb(160, 140, 120),
        "OnlineAccount" => return Color32::from_rgb(190, 110, 180),
        "Weapon" => return Color32::from_rgb(220, 60, 50),
        _ => {}
    }
    const PALETTE: [Color32; 10] = [
        Color32::from_rgb(86, 156, 214),
        Color32::from_rgb(214, 157, 86),
        Color32::from_rgb(106, 190, 120),
        Color32::from_rgb(200, 100, 120),
        Color32::from_rgb(160, 120, 210),
        Color32::from_rgb(90, 190, 190),
        Color32::from_rgb(200, 200, 90),
        Color32::from_rgb(150, 150, 150),
        Color32::from_rgb(230, 120, 60),
        Color32::from_rgb(120, 160, 60),
    ];
    let h = entity_type
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    PALETTE[h as usize % PALETTE.len()]
}

/// A colour per community number, distinct for the first dozen.
fn community_colour(c: u32) -> Color32 {
    let hue = (c as f32 * 0.618_034).fract();
    egui::ecolor::Hsva::new(hue, 0.65, 0.85, 1.0).into()
}

/// Low values blue, high values red.
fn gradient(t: f32) -> Color32 {
    let t = t.clamp(0.0, 1.0);
    Color32::from_rgb(
        (60.0 + 195.0 * t) as u8,
        (110.0 + 40.0 * (1.0 - (2.0 * t - 1.0).abs())) as u8,
        (220.0 - 180.0 * t) as u8,
    )
}

fn reliability_colour(letter: Option<char>) -> (String, Color32) {
    match letter {
        Some('A') => (
            "A: completely reliable".into(),
            Color32::from_rgb(40, 160, 70),
        ),
        Some('B') => (
            "B: usually reliable".into(),
            Color32::from_rgb(120, 190, 60),
        ),
        Some('C') => ("C: fairly reliable".into(), Color32::from_rgb(220, 200, 50)),
        Some('D') => (
            "D: not usually reliable".into(),
            Color32::from_rgb(230, 140, 40),
        ),
        Some('E') => ("E: unreliable".into(), Color32::from_rgb(210, 60, 50)),
        Some(c) => (format!("{c}"), Color32::from_rgb(150, 150, 170)),
        None => ("ungraded".into(), Color32::from_gray(140)),
    }
}

fn category_colour(c: Option<PersonCategory>) -> (String, Color32) {
    match c {
        Some(PersonCategory::Suspect) => ("suspect".into(), Color32::from_rgb(210, 60, 60)),
        Some(PersonCategory::Victim) => ("victim".into(), Color32::from_rgb(70, 130, 220)),
        Some(PersonCategory::Witness) => ("witness".into(), Color32::from_rgb(60, 170, 90)),
        Some(PersonCategory::Contact) => ("contact".into(), Color32::from_rgb(220, 150, 50)),
        Some(PersonCategory::Other) => ("other".into(), Color32::from_rgb(150, 120, 190)),
        Some(PersonCategory::Unknown) | None => {
            ("unknown / not a person".into(), Color32::from_gray(140))
        }
    }
}

impl GraphState {
    /// Rebuilds the layout graph when the case changed, keeping positions of known entities.
    fn sync(&mut self, case: &CaseSnapshot) {
        if self.generation == Some(case.generation) {
            return;
        }
        let mut old: HashMap<EntityId, [f32; 2]> = self
            .graph_nodes
            .iter()
            .copied()
            .zip(self.positions.iter().copied())
            .collect();
        // A chart saved with the case places its entities when the case is first shown.
        let restored = if old.is_empty() {
            self.restore.take()
        } else {
            None
        };
        if let Some(saved) = &restored {
            old = saved.positions();
        }
        let edges = case
            .graph
            .edge_indices()
            .filter_map(|e| case.graph.edge_endpoints(e))
            .map(|(a, b)| (a.index() as u32, b.index() as u32))
            .collect();
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
        self.graph = LayoutGraph {
            node_count: case.entities.len(),
            edges,
        };
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
        self.graph_nodes = case.entities.iter().map(|e| e.id).collect();
        self.index_of = self
            .graph_nodes
            .iter()
            .enumerate()
            .map(|(i, e)| (*e, i))
            .collect();
        self.index = CaseIndex::build(case, &self.index_of);
        if let Some(saved) = &restored {
            self.chart.state = saved.state();
        }
        let index_of = &self.index_of;
        self.chart.retain(|e| index_of.contains_key(&e));
        self.generation = Some(case.generation);
        self.model_key = None;
        self.structure_key = None;
        if restored.is_some() {
            self.needs_fit = true;
        } else if old.is_empty() {
            self.needs_fit = true;
            self.wants_layout = self.graph.edges.iter().any(|&(a, b)| a != b);
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

    /// The chart to save with the case (JSON), or `None` before the case was first shown.
    pub fn saved_chart(&self) -> Option<String> {
        if self.graph_nodes.is_empty() {
            return None;
        }
        let saved = saved::SavedChart::of(&self.graph_nodes, &self.positions, &self.chart.state);
        serde_json::to_string(&saved).ok()
    }

    /// Places the case's entities by a chart saved with it, when the case is next shown.
    pub fn restore_saved(&mut self, json: &str) -> Result<(), String> {
        let saved: saved::SavedChart = serde_json::from_str(json).map_err(|e| e.to_string())?;
        self.restore = Some(saved);
        self.generation = None;
        Ok(())
    }

    /// The entity of a display node (`None` for a collection).
    fn entity_of(&self, node: usize) -> Option<EntityId> {
        self.graph_nodes.get(node).copied()
    }

    /// The entities a display node stands for (a collection's members).
    fn members_of(&self, node: usize) -> Vec<EntityId> {
        match self.entity_of(node) {
            Some(e) => vec![e],
            None => self
                .chart
                .state
                .collections
                .get(node - self.graph_nodes.len())
                .map(|c| c.members.clone())
                .unwrap_or_default(),
        }
    }

    /// Which entities are pinned, one flag per layout node.
    pub fn pinned_mask(&self) -> Vec<bool> {
        self.graph_nodes
            .iter()
            .map(|e| self.chart.state.pinned.contains(e))
            .collect()
    }

    /// Takes the final positions of a finished layout.
    pub fn set_positions(&mut self, positions: Vec<[f32; 2]>) {
        if positions.len() == self.positions.len() {
            self.positions = positions;
            // Positions set by hand are now the layout's.
            self.chart.state.moved.clear();
            self.positions_moved();
            self.needs_fit = true;
        }
    }

    /// Entity positions changed outside a layout stream: rebuild the model and its picking
    /// grid on the next frame.
    fn positions_moved(&mut self) {
        self.model_key = None;
        self.grid_stale = true;
    }

    /// Takes positions a running layout published.
    fn take_published(&mut self) -> bool {
        let latest = self.slot.lock().ok().and_then(|mut s| s.take());
        match latest {
            Some(p) if p.len() == self.positions.len() => {
                self.positions = p;
                self.refresh_positions();
                true
            }
            _ => false,
        }
    }

    /// Copies entity and collection positions into the display model and re-indexes them.
    fn refresh_positions(&mut self) {
        let n = self.positions.len();
        if self.model.pos.len() < n {
            return;
        }
        self.model.pos[..n].copy_from_slice(&self.positions);
        for (k, c) in self.chart.state.collections.iter().enumerate() {
            if let Some(p) = self.model.pos.get_mut(n + k) {
                *p = c.position;
            }
        }
        self.rebuild_grid();
    }

    fn rebuild_grid(&mut self) {
        self.grid_stale = false;
        self.grid.clear();
        for (i, p) in self.model.pos.iter().enumerate() {
            if !self.model.shown[i] {
                continue;
            }
            let key = (
                (p[0] / GRID_CELL).floor() as i32,
                (p[1] / GRID_CELL).floor() as i32,
            );
            self.grid.entry(key).or_default().push(i as u32);
        }
    }

    /// The shown display node nearest to a world point within `radius` world units.
    fn pick(&self, world: [f32; 2], radius: f32) -> Option<usize> {
        let r = (radius / GRID_CELL).ceil() as i32;
        let (cx, cy) = (
            (world[0] / GRID_CELL).floor() as i32,
            (world[1] / GRID_CELL).floor() as i32,
        );
        let mut best: Option<(f32, usize)> = None;
        for gx in cx - r..=cx + r {
            for gy in cy - r..=cy + r {
                for &i in self.grid.get(&(gx, gy)).into_iter().flatten() {
                    let p = self.model.pos[i as usize];
                    let d = ((p[0] - world[0]).powi(2) + (p[1] - world[1]).powi(2)).sqrt();
                    if d <= radius && best.is_none_or(|(bd, _)| d < bd) {
                        best = Some((d, i as usize));
                    }
                }
            }
        }
        best.map(|(_, i)| i)
    }

    /// The shown display nodes inside a world rectangle, through the grid.
    fn nodes_in(&self, world: Rect) -> Vec<usize> {
        let (x0, y0) = (
            (world.min.x / GRID_CELL).floor() as i32,
            (world.min.y / GRID_CELL).floor() as i32,
        );
        let (x1, y1) = (
            (world.max.x / GRID_CELL).floor() as i32,
            (world.max.y / GRID_CELL).floor() as i32,
        );
        let mut out = Vec::new();
        // A huge box (zoomed far out) scans the occupied cells instead of the empty ones.
        let cells = (i64::from(x1 - x0) + 1) * (i64::from(y1 - y0) + 1);
        if cells > self.grid.len() as i64 {
            for ((gx, gy), nodes) in &self.grid {
                if (x0..=x1).contains(gx) && (y0..=y1).contains(gy) {
                    out.extend(nodes.iter().map(|&i| i as usize));
                }
            }
        } else {
            for gx in x0..=x1 {
                for gy in y0..=y1 {
                    out.extend(
                        self.grid
                            .get(&(gx, gy))
                            .into_iter()
                            .flatten()
                            .map(|&i| i as usize),
                    );
                }
            }
        }
        out.retain(|&i| {
            let p = self.model.pos[i];
            world.contains(Pos2::new(p[0], p[1]))
        });
        out.sort_unstable();
        out
    }

    fn fit(&mut self, rect: Rect) {
        let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for (i, p) in self.model.pos.iter().enumerate() {
            if !self.model.shown.get(i).copied().unwrap_or(false) {
                continue;
            }
            x0 = x0.min(p[0]);
            y0 = y0.min(p[1]);
            x1 = x1.max(p[0]);
            y1 = y1.max(p[1]);
        }
        if x0 > x1 {
            return;
        }
        self.center = Vec2::new((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        let w = (x1 - x0).max(1.0) + 4.0 * draw::NODE_RADIUS;
        let h = (y1 - y0).max(1.0) + 4.0 * draw::NODE_RADIUS;
        self.zoom = ((rect.width() / w).min(rect.height() / h) * 0.9).clamp(1e-4, 100.0);
    }

    /// Rebuilds the display model if anything it depends on changed.
    fn ensure_model(&mut self, case: &CaseSnapshot, view: &ViewState) {
        let key = ModelKey {
            generation: case.generation,
            chart_revision: self.chart.revision,
            style: self.style,
            filters: view.filters.clone(),
            time_filter: view.time_filter,
            analysis: view
                .analysis_column
                .as_ref()
                .map(|a| Arc::as_ptr(a) as usize),
        };
        if self.model_key.as_ref() != Some(&key) {
            self.build_model(case, view);
            self.model_key = Some(key);
        }
        // Selection changes every click; it is cheap to refresh every frame.
        self.model.selected.iter_mut().for_each(|s| *s = false);
        for item in &view.selection {
            if let ItemRef::Entity(e) = item
                && let Some(&i) = self.index_of.get(e)
            {
                self.model.selected[i] = true;
            }
        }
    }

    /// Rebuilds the display model. The parts that depend only on the case and the chart
    /// (which node stands for each entity, labels, icons, the grouping of links per pair) are
    /// kept while those are unchanged, so that a change of filter, time filter or style only
    /// recomputes colours, fading and lines: linear passes over arrays, no hashing, and over
    /// the events inside the time filter only.
    fn build_model(&mut self, case: &CaseSnapshot, view: &ViewState) {
        let n = case.entities.len();
        let structure_key = (
            case.generation,
            self.chart.revision,
            self.style.summarise_parallel,
        );
        let same_structure = self.structure_key == Some(structure_key)
            && self.model.label.len() == n + self.chart.state.collections.len();
        if !same_structure {
            self.build_structure(case);
            self.structure_key = Some(structure_key);
        }
        let state = &self.chart.state;
        let c = state.collections.len();
        let rep = &self.rep;
        let index = &self.index;

        // Entity filters and time activity decide what is drawn faded.
        let f = &view.filters;
        let grade = f.grade(case);
        let filtering = *f != super::Filters::default();
        let (from, to) = view.time_filter.unwrap_or((i64::MIN, i64::MAX));
        let in_time = index.events_in(from, to);
        let active_in_time: Option<Vec<bool>> = view.time_filter.map(|_| {
            let mut active = vec![false; n];
            for &(_, k) in in_time {
                for &node in index.event_nodes(k as usize) {
                    active[node as usize] = true;
                }
            }
            // Entities with no events at all (addresses, documents) are not time-bound.
            (0..n).map(|i| active[i] || !index.has_events[i]).collect()
        });
        let mut faded: Vec<bool> = case
            .entities
            .iter()
            .enumerate()
            .map(|(i, e)| {
                (filtering && !f.entity_passes(grade.as_ref(), e))
                    || active_in_time.as_ref().is_some_and(|a| !a[i])
            })
            .collect();
        for col in &state.collections {
            // A collection is faded only when all its members are.
            let all = col
                .members
                .iter()
                .filter_map(|m| self.index_of.get(m))
                .all(|&i| faded[i]);
            faded.push(all);
        }

        // Colours, sizes and the legend.
        let analysis = view.analysis_column.as_deref();
        let max_value = analysis
            .map(|a| a.values.values().copied().fold(0.0f64, f64::max))
            .unwrap_or(0.0);
        let min_value = analysis
            .map(|a| a.values.values().copied().fold(f64::MAX, f64::min))
            .unwrap_or(0.0);
        let mut legend: Vec<(String, Color32)> = Vec::new();
        fn add_legend(legend: &mut Vec<(String, Color32)>, name: &str, colour: Color32) {
            if !legend.iter().any(|(n, _)| n == name) {
                legend.push((name.to_string(), colour));
            }
        }
        let mut colour = Vec::with_capacity(n + c);
        for e in &case.entities {
            let value = analysis.and_then(|a| a.values.get(&e.id).copied());
            let col = match self.style.colour_by {
                _ if e.restricted => {
                    add_legend(&mut legend, "restricted", Color32::GRAY);
                    Color32::GRAY
                }
                ColourBy::Type => {
                    let col = type_colour(&e.entity_type);
                    add_legend(&mut legend, &e.entity_type, col);
                    col
                }
                ColourBy::Community => match value {
                    Some(v) if analysis.is_some_and(|a| a.communities) => {
                        let col = community_colour(v as u32);
                        if legend.len() < 12 {
                            add_legend(&mut legend, &format!("community {}", v as u32), col);
                        }
                        col
                    }
                    _ => {
                        add_legend(&mut legend, "no community result", Color32::from_gray(140));
                        Color32::from_gray(140)
                    }
                },
                ColourBy::AnalysisValue => match value {
                    Some(v) => {
                        let t = if max_value > min_value {
                            ((v - min_value) / (max_value - min_value)) as f32
                        } else {
                            1.0
                        };
                        gradient(t)
                    }
                    None => Color32::from_gray(140),
                },
                ColourBy::Grade => {
                    let letter = e
                        .grading
                        .as_ref()
                        .and_then(|g| g.source.as_deref())
                        .and_then(|s| s.chars().next());
                    let (name, col) = reliability_colour(letter);
                    add_legend(&mut legend, &name, col);
                    col
                }
                ColourBy::PersonCategory => {
                    let (name, col) = category_colour(e.category);
                    add_legend(&mut legend, &name, col);
                    col
                }
            };
            colour.push(col);
        }
        if self.style.colour_by == ColourBy::AnalysisValue {
            let name = analysis.map_or("no analysis result", |a| a.name.as_str());
            add_legend(&mut legend, &format!("{name}: low"), gradient(0.0));
            add_legend(&mut legend, &format!("{name}: high"), gradient(1.0));
        }
        for col in &state.collections {
            colour.push(
                col.entity_type
                    .as_deref()
                    .map_or(Color32::from_gray(150), type_colour),
            );
        }
        legend.sort_by(|a, b| a.0.cmp(&b.0));
        self.legend = legend;
        let scale: Vec<f32> = case
            .entities
            .iter()
            .map(|e| match analysis {
                Some(a) if self.style.size_by_analysis && !a.communities && max_value > 0.0 => {
                    1.0 + 1.5 * (a.values.get(&e.id).copied().unwrap_or(0.0) / max_value) as f32
                }
                _ => 1.0,
            })
            .chain(
                state
                    .collections
                    .iter()
                    .map(|col| 1.0 + (col.members.len() as f32).log10()),
            )
            .collect();

        // Lines: the links' lines as built with the structure, faded per filter; events per
        // pair when asked for.
        let groups = &self.link_groups;
        let link_faded = |k: u32| {
            let l = &case.links[k as usize];
            !f.passes(grade.as_ref(), l.grading.as_ref(), l.restricted)
        };
        let mut edges: Vec<DisplayEdge> = groups
            .edges
            .iter()
            .zip(&groups.edge_links)
            .map(|(edge, &(lo, hi))| DisplayEdge {
                faded: faded[edge.a as usize]
                    || faded[edge.b as usize]
                    || (filtering
                        && groups.links[lo as usize..hi as usize]
                            .iter()
                            .all(|&k| link_faded(k))),
                ..*edge
            })
            .collect();
        if self.style.show_events {
            let mut pairs: Vec<(u32, u32)> = Vec::new();
            for &(_, k) in in_time {
                let [from, to] = index.event_line[k as usize];
                if from == NO_NODE {
                    continue;
                }
                let ev = &case.events[k as usize];
                if filtering && !f.passes(grade.as_ref(), ev.grading.as_ref(), ev.restricted) {
                    continue;
                }
                let (ra, rb) = (rep[from as usize], rep[to as usize]);
                if ra == NO_NODE || rb == NO_NODE || ra == rb {
                    continue;
                }
                pairs.push((ra.min(rb), ra.max(rb)));
            }
            pairs.sort_unstable();
            for run in pairs.chunk_by(|x, y| x == y) {
                let (a, b) = run[0];
                edges.push(DisplayEdge {
                    a,
                    b,
                    count: run.len() as u32,
                    strength: LinkStrength::Confirmed,
                    directed: false,
                    kind: EdgeKind::Event,
                    lane: 0,
                    faded: faded[a as usize] || faded[b as usize],
                });
            }
        }

        let mut pos = self.positions.clone();
        pos.extend(state.collections.iter().map(|col| col.position));
        let old = std::mem::take(&mut self.model);
        self.model = DisplayModel {
            pos,
            shown: old.shown,
            colour,
            scale,
            faded,
            selected: vec![false; n + c],
            pinned: old.pinned,
            icon: old.icon,
            label: old.label,
            edges,
        };
        if !same_structure || self.grid_stale {
            self.rebuild_grid();
        }
    }

    /// The parts of the display model that depend only on the case and the chart: which
    /// display node stands for each entity (itself, its collection, or none when hidden),
    /// what is shown, labels, icons, pins, and the links grouped per pair of display nodes.
    fn build_structure(&mut self, case: &CaseSnapshot) {
        let summarise = self.style.summarise_parallel;
        let n = case.entities.len();
        let state = &self.chart.state;
        let c = state.collections.len();
        let mut rep: Vec<u32> = (0..n as u32).collect();
        let mut shown = vec![true; n + c];
        for e in &state.hidden {
            if let Some(&i) = self.index_of.get(e) {
                rep[i] = NO_NODE;
                shown[i] = false;
            }
        }
        for (k, col) in state.collections.iter().enumerate() {
            for m in &col.members {
                if let Some(&i) = self.index_of.get(m) {
                    shown[i] = false;
                    if rep[i] != NO_NODE {
                        rep[i] = (n + k) as u32;
                    }
                }
            }
        }
        let mut icon: Vec<u8> = case
            .entities
            .iter()
            .map(|e| icons::icon_index(case.schema.icon(&e.entity_type)))
            .collect();
        icon.extend(std::iter::repeat_n(icons::COLLECTION, c));
        let mut label: Vec<String> = case.entities.iter().map(|e| e.label.clone()).collect();
        label.extend(state.collections.iter().map(|col| col.label.clone()));
        let pinned: Vec<bool> = case
            .entities
            .iter()
            .map(|e| state.pinned.contains(&e.id))
            .chain(std::iter::repeat_n(false, c))
            .collect();

        // Sorting (pair, link) keys groups parallel links and orders the pairs in one pass.
        let mut keyed: Vec<(u32, u32, u32)> = Vec::with_capacity(case.links.len());
        for (k, l) in case.links.iter().enumerate() {
            let [a, b] = self.index.link_ends[k];
            if l.restricted || a == NO_NODE || b == NO_NODE {
                continue;
            }
            let (ra, rb) = (rep[a as usize], rep[b as usize]);
            if ra == NO_NODE || rb == NO_NODE || ra == rb {
                continue;
            }
            keyed.push((ra.min(rb), ra.max(rb), k as u32));
        }
        keyed.sort_unstable();
        let mut groups = LinkGroups {
            links: keyed.iter().map(|&(_, _, k)| k).collect(),
            ..LinkGroups::default()
        };
        let mut run_start = 0;
        for run in keyed.chunk_by(|x, y| (x.0, x.1) == (y.0, y.1)) {
            let (pa, pb, _) = run[0];
            let len = run.len();
            let members = &groups.links[run_start..run_start + len];
            let from_of = |k: u32| rep[self.index.link_ends[k as usize][0] as usize];
            if summarise || len == 1 {
                let first = &case.links[members[0] as usize];
                let strongest = members
                    .iter()
                    .map(|&k| case.links[k as usize].strength)
                    .min_by_key(|s| match s {
                        LinkStrength::Confirmed => 0,
                        LinkStrength::Tentative => 1,
                        LinkStrength::Unconfirmed => 2,
                    })
                    .unwrap_or(first.strength);
                let a = from_of(members[0]);
                let b = if a == pa { pb } else { pa };
                let same_way = members
                    .iter()
                    .all(|&k| case.links[k as usize].directed && from_of(k) == a);
                groups.edges.push(DisplayEdge {
                    a,
                    b,
                    count: len as u32,
                    strength: strongest,
                    directed: same_way,
                    kind: EdgeKind::Link,
                    lane: 0,
                    faded: false,
                });
                groups
                    .edge_links
                    .push((run_start as u32, (run_start + len) as u32));
            } else {
                let m = len as i16;
                for (j, &k) in members.iter().enumerate() {
                    let l = &case.links[k as usize];
                    // Lanes in half steps around the middle, from the lower node's side.
                    let lane = 2 * j as i16 - (m - 1);
                    let mut edge = DisplayEdge {
                        a: pa,
                        b: pb,
                        count: 1,
                        strength: l.strength,
                        directed: l.directed,
                        kind: EdgeKind::Link,
                        lane,
                        faded: false,
                    };
                    if l.directed && from_of(k) != pa {
                        // Keep the lane geometry of the pair, point the arrow the right way.
                        std::mem::swap(&mut edge.a, &mut edge.b);
                        edge.lane = -lane;
                    }
                    groups.edges.push(edge);
                    let at = (run_start + j) as u32;
                    groups.edge_links.push((at, at + 1));
                }
            }
            run_start += len;
        }

        self.rep = rep;
        self.link_groups = groups;
        self.model.shown = shown;
        self.model.icon = icon;
        self.model.label = label;
        self.model.pinned = pinned;
    }

    /// Entities within `depth` links of `from` (not including them).
    fn neighbours(case: &CaseSnapshot, from: &[EntityId], depth: usize) -> BTreeSet<EntityId> {
        let start: BTreeSet<EntityId> = from.iter().copied().collect();
        let mut seen = start.clone();
        let mut frontier: Vec<EntityId> = from.to_vec();
        for _ in 0..depth {
            let mut next = Vec::new();
            for e in frontier {
                let Some(node) = case.node(e) else { continue };
                for nb in case.graph.neighbors_undirected(node) {
                    let id = case.graph[nb];
                    if seen.insert(id) {
                        next.push(id);
                    }
                }
            }
            frontier = next;
        }
        seen.difference(&start).copied().collect()
    }

    /// Applies a chart operation from a menu or a shortcut; returns the actions it implies.
    pub fn apply_op(&mut self, op: GraphOp, case: &CaseSnapshot, view: &ViewState) -> Vec<Action> {
        self.sync(case);
        let selected = view.selected_entities();
        let mut actions = Vec::new();
        let changed = match op {
            GraphOp::Hide => self.chart.hide(&selected),
            GraphOp::UnhideAll => self.chart.unhide_all(),
            GraphOp::ShowOnlySelection => {
                let keep: BTreeSet<EntityId> = selected.iter().copied().collect();
                !keep.is_empty() && self.chart.show_only(&self.graph_nodes, &keep)
            }
            GraphOp::Pin(pinned) => self.chart.set_pinned(&selected, pinned),
            GraphOp::Expand(depth) => {
                let found = Self::neighbours(case, &selected, depth);
                let revealed = self.chart.reveal(&found);
                let items: Vec<ItemRef> = selected
                    .iter()
                    .chain(found.iter())
                    .map(|&e| ItemRef::Entity(e))
                    .collect();
                actions.push(Action::SelectMany(items));
                revealed > 0
            }
            GraphOp::Collapse => self.collapse(case, selected.clone()),
            GraphOp::CollapseNeighbours(entity_type) => {
                let members = self
                    .neighbours_by_type(case, &selected)
                    .remove(&entity_type)
                    .unwrap_or_default();
                self.collapse(case, members)
            }
            GraphOp::ExpandCollection(k) => self.chart.expand_collection(k),
        };
        if changed {
            actions.push(Action::ChartChanged);
        }
        actions
    }

    /// Folds entities into one collection node at their centre, named by their type when
    /// they share one.
    fn collapse(&mut self, case: &CaseSnapshot, members: Vec<EntityId>) -> bool {
        let types: BTreeSet<&str> = members
            .iter()
            .filter_map(|e| case.entity(*e))
            .map(|e| e.entity_type.as_str())
            .collect();
        let entity_type = (types.len() == 1)
            .then(|| types.iter().next().map(|t| t.to_string()))
            .flatten();
        let points: Vec<[f32; 2]> = members
            .iter()
            .filter_map(|e| self.index_of.get(e))
            .map(|&i| self.positions[i])
            .collect();
        let centre = if points.is_empty() {
            [0.0, 0.0]
        } else {
            let k = points.len() as f32;
            [
                points.iter().map(|p| p[0]).sum::<f32>() / k,
                points.iter().map(|p| p[1]).sum::<f32>() / k,
            ]
        };
        self.chart.collapse(members, entity_type, centre)
    }

    /// The direct neighbours of `from` that are shown on their own (not hidden, not in a
    /// collection, not in `from`), by entity type.
    fn neighbours_by_type(
        &self,
        case: &CaseSnapshot,
        from: &[EntityId],
    ) -> std::collections::BTreeMap<String, Vec<EntityId>> {
        let mut by_type: std::collections::BTreeMap<String, Vec<EntityId>> = Default::default();
        for e in Self::neighbours(case, from, 1) {
            let shown = self
                .index_of
                .get(&e)
                .is_some_and(|&i| self.model.shown.get(i).copied().unwrap_or(false));
            if let (true, Some(entity)) = (shown, case.entity(e)) {
                by_type
                    .entry(entity.entity_type.clone())
                    .or_default()
                    .push(e);
            }
        }
        by_type
    }

    /// Undoes the latest chart change (the app calls this when it is the latest undo step).
    pub fn undo(&mut self) -> Option<String> {
        let what = self.chart.undo()?;
        self.restore_moves();
        Some(what)
    }

    pub fn redo(&mut self) -> Option<String> {
        let what = self.chart.redo()?;
        self.restore_moves();
        Some(what)
    }

    fn restore_moves(&mut self) {
        for (e, p) in &self.chart.state.moved {
            if let Some(&i) = self.index_of.get(e) {
                self.positions[i] = *p;
            }
        }
        self.positions_moved();
    }

    /// Lays the graph out in a circle (instantly; no job needed).
    pub fn circular(&mut self) {
        self.positions = crate::layout::circular(self.positions.len());
        self.chart.state.moved.clear();
        self.positions_moved();
        self.needs_fit = true;
    }

    /// Layered layout for ownership and command structures (directed links point down).
    pub fn hierarchical(&mut self) {
        let positions = crate::layout::hierarchical(&self.graph, &self.edge_directed);
        self.place_all(positions);
    }

    /// Groups laid out side by side: by community when the active analysis result is one,
    /// otherwise by entity type.
    pub fn grouped(&mut self, case: &CaseSnapshot, view: &ViewState, by_community: bool) {
        let groups: Vec<u32> = match view.analysis_column.as_deref() {
            Some(a) if by_community && a.communities => case
                .entities
                .iter()
                .map(|e| a.values.get(&e.id).map_or(u32::MAX, |&v| v as u32))
                .collect(),
            _ => {
                let mut types: Vec<&str> = case
                    .entities
                    .iter()
                    .map(|e| e.entity_type.as_str())
                    .collect();
                types.sort_unstable();
                types.dedup();
                case.entities
                    .iter()
                    .map(|e| types.binary_search(&e.entity_type.as_str()).unwrap_or(0) as u32)
                    .collect()
            }
        };
        let positions = crate::layout::grouped(&self.graph, &groups);
        self.place_all(positions);
    }

    /// Takes positions from an instant layout; pinned entities stay where they are.
    fn place_all(&mut self, positions: Vec<[f32; 2]>) {
        if positions.len() != self.positions.len() {
            return;
        }
        for (i, p) in positions.into_iter().enumerate() {
            if !self.chart.state.pinned.contains(&self.graph_nodes[i]) {
                self.positions[i] = p;
            }
        }
        self.chart.state.moved.clear();
        self.positions_moved();
        self.needs_fit = true;
    }

    /// The SVG of the current view.
    pub fn svg(&self, dark: bool, title: &str) -> Option<String> {
        let camera = self.camera?;
        Some(export::to_svg(
            &self.model,
            &camera,
            &Palette::new(dark),
            title,
        ))
    }

    /// Asks for a screenshot; the PNG is written when it arrives (see [`Self::poll_png`]).
    pub fn request_png(&mut self, ctx: &egui::Context, path: PathBuf) {
        let Some(camera) = self.camera else { return };
        let arrived: ScreenshotSlot = Arc::new(Mutex::new(None));
        let slot = Arc::clone(&arrived);
        let repaint = ctx.clone();
        ctx.request_screenshot(move |image| {
            if let Ok(mut s) = slot.lock() {
                *s = Some(image);
            }
            repaint.request_repaint();
        });
        self.pending_png = Some(PendingPng {
            path,
            rect: camera.rect,
            arrived,
        });
    }

    /// Encodes a requested PNG once its screenshot arrived: the path and the bytes to write.
    fn poll_png(&mut self, ui: &egui::Ui) -> Option<Result<(PathBuf, Vec<u8>), String>> {
        let image = self.pending_png.as_ref()?.arrived.lock().ok()?.take()?;
        let pending = self.pending_png.take()?;
        let ppp = ui.ctx().pixels_per_point();
        let region = image.region(&pending.rect, Some(ppp));
        Some(
            export::png_bytes(&region)
                .map_err(|e| e.to_string())
                .map(|bytes| (pending.path, bytes)),
        )
    }

    /// What the last frame showed, for the status line and tests.
    pub fn shown_entities(&self) -> usize {
        self.model
            .shown
            .iter()
            .take(self.graph_nodes.len())
            .filter(|s| **s)
            .count()
    }

    /// The screen position of an entity in the last frame (tests click there).
    pub fn screen_pos(&self, entity: EntityId) -> Option<Pos2> {
        let i = *self.index_of.get(&entity)?;
        Some(self.camera?.to_screen(*self.model.pos.get(i)?))
    }
}

/// Chart operations from the context menu and the toolbar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphOp {
    Hide,
    UnhideAll,
    ShowOnlySelection,
    Pin(bool),
    /// Show and select the neighbours within N links of the selection.
    Expand(usize),
    /// Fold the selected entities into one collection node.
    Collapse,
    /// Fold the shown neighbours of this type of the selected entities into one collection
    /// node (the twenty phones around one person, as one node).
    CollapseNeighbours(String),
    ExpandCollection(usize),
}

/// Shows the graph view; returns what it asks the app to do.
pub fn show(
    ui: &mut egui::Ui,
    case: &CaseSnapshot,
    view: &ViewState,
    state: &mut GraphState,
) -> Vec<Action> {
    let mut actions = Vec::new();
    state.sync(case);
    if state.wants_layout {
        // The app starts the layout at the next frame.
        ui.ctx().request_repaint();
    }
    state.icons.ensure(ui.ctx());
    state.ensure_model(case, view);
    if state.layout_running {
        state.take_published();
        // Keep pulling positions while the layout runs, and only then.
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(50));
    }
    if let Some(written) = state.poll_png(ui) {
        actions.push(match written {
            Ok((path, bytes)) => Action::SaveChartImage { path, bytes },
            Err(e) => Action::Error(format!("The chart image could not be encoded: {e}")),
        });
    }
    toolbar(ui, case, view, state, &mut actions);

    let (response, painter) = ui.allocate_painter(ui.available_size(), Sense::click_and_drag());
    let rect = response.rect;
    if state.needs_fit {
        state.fit(rect);
        state.needs_fit = false;
    }
    let mut camera = Camera {
        rect,
        center: state.center,
        zoom: state.zoom,
        min_radius: 1.5,
    };
    let pick_radius = |camera: &Camera| (draw::NODE_RADIUS * 1.5).max(8.0 / camera.zoom);

    // Drags: on a node moves it (and the rest of the selection), shift-drag draws a box,
    // anywhere else pans.
    if response.drag_started()
        && let Some(origin) = ui.input(|i| i.pointer.press_origin())
    {
        let shift = ui.input(|i| i.modifiers.shift);
        let on_node = state.pick(camera.to_world(origin), pick_radius(&camera));
        state.drag = Some(match (shift, on_node) {
            (true, _) => Drag::Box(origin),
            (false, Some(node)) => {
                let moving: Vec<usize> = if state.model.selected.get(node).copied() == Some(true) {
                    (0..state.model.len())
                        .filter(|&i| state.model.selected[i] && state.model.shown[i])
                        .collect()
                } else {
                    vec![node]
                };
                Drag::Nodes(
                    moving
                        .into_iter()
                        .map(|i| (i, state.model.pos[i]))
                        .collect(),
                )
            }
            (false, None) => Drag::Pan,
        });
    }
    if response.dragged() {
        let delta = response.drag_delta() / state.zoom;
        match &state.drag {
            Some(Drag::Nodes(nodes)) => {
                let n = state.positions.len();
                for &(i, _) in nodes {
                    let p = &mut state.model.pos[i];
                    p[0] += delta.x;
                    p[1] += delta.y;
                    let p = *p;
                    if i < n {
                        state.positions[i] = p;
                    } else {
                        state.chart.place_collection(i - n, p);
                    }
                }
            }
            Some(Drag::Box(_)) => {}
            _ => state.center -= delta,
        }
    }
    if response.drag_stopped() {
        match state.drag.take() {
            Some(Drag::Nodes(nodes)) => {
                let moves: Vec<_> = nodes
                    .iter()
                    .filter_map(|&(i, old)| {
                        let e = state.entity_of(i)?;
                        Some((e, old, state.positions[i]))
                    })
                    .collect();
                if !moves.is_empty() {
                    state.chart.moved(&moves);
                    actions.push(Action::ChartChanged);
                }
                state.rebuild_grid();
            }
            Some(Drag::Box(origin)) => {
                if let Some(end) = response
                    .interact_pointer_pos()
                    .or(ui.input(|i| i.pointer.latest_pos()))
                {
                    let screen = Rect::from_two_pos(origin, end);
                    let world = Rect::from_two_pos(
                        Pos2::from(camera.to_world(screen.min)),
                        Pos2::from(camera.to_world(screen.max)),
                    );
                    let items: Vec<ItemRef> = state
                        .nodes_in(world)
                        .into_iter()
                        .flat_map(|i| state.members_of(i))
                        .map(ItemRef::Entity)
                        .collect();
                    let additive = ui.input(|i| i.modifiers.command);
                    if additive {
                        let mut all: Vec<ItemRef> = view.selection.iter().copied().collect();
                        all.extend(items);
                        actions.push(Action::SelectMany(all));
                    } else {
                        actions.push(Action::SelectMany(items));
                    }
                }
            }
            _ => {}
        }
    }
    if response.hovered() {
        let scroll = ui.input(|i| i.smooth_scroll_delta.y);
        if scroll != 0.0
            && let Some(pointer) = response.hover_pos()
        {
            // Zoom towards the cursor: the world point under it stays under it.
            let factor = (scroll * 0.002).exp();
            let before = state.center + (pointer - rect.center()) / state.zoom;
            state.zoom = (state.zoom * factor).clamp(1e-4, 100.0);
            state.center = before - (pointer - rect.center()) / state.zoom;
        }
    }
    camera.center = state.center;
    camera.zoom = state.zoom;

    let hovered = response
        .hover_pos()
        .and_then(|p| state.pick(camera.to_world(p), pick_radius(&camera)));
    if hovered != state.hovered {
        state.hovered = hovered;
        let item = hovered
            .and_then(|i| state.entity_of(i))
            .map(ItemRef::Entity);
        actions.push(Action::Hover(item));
    }

    let palette = Palette::new(ui.visuals().dark_mode);
    let icon_textures = &state.icons;
    let stats = draw::draw(
        &painter,
        &state.model,
        &camera,
        &palette,
        &|i| icon_textures.texture(i),
        hovered,
    );
    state.last_stats = stats;
    state.camera = Some(camera);
    if let Some(Drag::Box(origin)) = &state.drag
        && let Some(now) = ui.input(|i| i.pointer.latest_pos())
    {
        let r = Rect::from_two_pos(*origin, now);
        painter.rect_filled(r, 0.0, palette.selected.gamma_multiply(0.08));
        painter.rect_stroke(
            r,
            0.0,
            Stroke::new(1.0, palette.selected),
            egui::StrokeKind::Inside,
        );
    }
    if state.style.show_legend {
        draw_legend(&painter, rect, &state.legend, &palette);
    }

    // Clicks select; a click on the background clears the selection.
    if response.clicked()
        && let Some(pointer) = response.interact_pointer_pos()
    {
        let additive = ui.input(|i| i.modifiers.command);
        match state.pick(camera.to_world(pointer), pick_radius(&camera)) {
            Some(i) => {
                let members = state.members_of(i);
                if members.len() == 1 {
                    actions.push(Action::Select {
                        item: ItemRef::Entity(members[0]),
                        additive,
                    });
                } else {
                    actions.push(Action::SelectMany(
                        members.into_iter().map(ItemRef::Entity).collect(),
                    ));
                }
            }
            None if !additive => actions.push(Action::SelectMany(Vec::new())),
            None => {}
        }
    }
    if response.double_clicked()
        && let Some(pointer) = response.interact_pointer_pos()
        && let Some(i) = state.pick(camera.to_world(pointer), pick_radius(&camera))
        && i >= state.graph_nodes.len()
    {
        actions.extend(state.apply_op(
            GraphOp::ExpandCollection(i - state.graph_nodes.len()),
            case,
            view,
        ));
    }
    if response.secondary_clicked()
        && let Some(pointer) = response.interact_pointer_pos()
    {
        state.context_node = state.pick(camera.to_world(pointer), pick_radius(&camera));
        if let Some(i) = state.context_node
            && !state.model.selected.get(i).copied().unwrap_or(false)
        {
            let items = state
                .members_of(i)
                .into_iter()
                .map(ItemRef::Entity)
                .collect();
            actions.push(Action::SelectMany(items));
        }
    }
    response.context_menu(|ui| {
        context_menu(ui, case, view, state, &mut actions);
    });
    actions
}

fn toolbar(
    ui: &mut egui::Ui,
    case: &CaseSnapshot,
    view: &ViewState,
    state: &mut GraphState,
    actions: &mut Vec<Action>,
) {
    ui.horizontal_wrapped(|ui| {
        if state.layout_running {
            if ui.button("Stop layout").clicked() {
                actions.push(Action::StopLayout);
            }
        } else if ui
            .button("Run force layout")
            .on_hover_text("ForceAtlas2-style layout with Barnes–Hut, in the background; resumes from the current positions; pinned entities stay")
            .clicked()
        {
            actions.push(Action::StartLayout);
        }
        ui.menu_button("Layout", |ui| {
            if ui.button("Circular").clicked() {
                state.circular();
                ui.close();
            }
            if ui
                .button("Hierarchical")
                .on_hover_text("layers along directed links: ownership, command structures")
                .clicked()
            {
                state.hierarchical();
                ui.close();
            }
            if ui.button("Grouped by type").clicked() {
                state.grouped(case, view, false);
                ui.close();
            }
            let communities = view.analysis_column.as_ref().is_some_and(|a| a.communities);
            if ui
                .add_enabled(communities, egui::Button::new("Grouped by community"))
                .on_disabled_hover_text("run louvain or leiden first")
                .clicked()
            {
                state.grouped(case, view, true);
                ui.close();
            }
        });
        if ui.button("Fit").on_hover_text("Fit the chart to the view").clicked() {
            state.needs_fit = true;
        }
        egui::ComboBox::new("graph-colour-by", "Colour")
            .selected_text(state.style.colour_by.label())
            .show_ui(ui, |ui| {
                for c in ColourBy::ALL {
                    ui.selectable_value(&mut state.style.colour_by, c, c.label());
                }
            });
        ui.checkbox(&mut state.style.size_by_analysis, "Size by result");
        ui.checkbox(&mut state.style.summarise_parallel, "Summarise parallel links");
        ui.checkbox(&mut state.style.show_events, "Calls & payments as links");
        ui.checkbox(&mut state.style.show_legend, "Legend");
        let hidden = state.chart.state.hidden.len();
        if hidden > 0 && ui.button(format!("Unhide {hidden}")).clicked() {
            actions.extend(state.apply_op(GraphOp::UnhideAll, case, view));
        }
        ui.weak(format!(
            "{} of {} entities shown · {} lines drawn",
            state.shown_entities(),
            case.entities.len(),
            state.last_stats.links_drawn
        ));
    });
}

fn context_menu(
    ui: &mut egui::Ui,
    case: &CaseSnapshot,
    view: &ViewState,
    state: &mut GraphState,
    actions: &mut Vec<Action>,
) {
    let selected = view.selected_entities().len();
    let mut op = None;
    if let Some(i) = state.context_node
        && i >= state.graph_nodes.len()
        && ui.button("Expand collection").clicked()
    {
        op = Some(GraphOp::ExpandCollection(i - state.graph_nodes.len()));
    }
    ui.add_enabled_ui(selected > 0, |ui| {
        ui.horizontal(|ui| {
            if ui.button("Expand neighbours").clicked() {
                op = Some(GraphOp::Expand(state.expand_depth));
            }
            ui.add(
                egui::DragValue::new(&mut state.expand_depth)
                    .range(1..=5)
                    .suffix(" deg"),
            );
        });
        if ui.button("Hide").clicked() {
            op = Some(GraphOp::Hide);
        }
        if ui.button("Show only these").clicked() {
            op = Some(GraphOp::ShowOnlySelection);
        }
        if ui.button("Pin").clicked() {
            op = Some(GraphOp::Pin(true));
        }
        if ui.button("Unpin").clicked() {
            op = Some(GraphOp::Pin(false));
        }
        if ui
            .add_enabled(
                selected >= 2,
                egui::Button::new("Collapse into a collection"),
            )
            .clicked()
        {
            op = Some(GraphOp::Collapse);
        }
        // i2's "collapse similar": the many phones or accounts around one person, as one node.
        let selected_ids = view.selected_entities();
        if !selected_ids.is_empty() && selected_ids.len() <= 1_000 {
            for (entity_type, members) in state.neighbours_by_type(case, &selected_ids) {
                if members.len() >= 2
                    && ui
                        .button(format!(
                            "Collapse {} {entity_type} neighbours",
                            members.len()
                        ))
                        .clicked()
                {
                    op = Some(GraphOp::CollapseNeighbours(entity_type));
                }
            }
        }
    });
    ui.separator();
    if ui
        .add_enabled(
            !state.chart.state.hidden.is_empty(),
            egui::Button::new("Unhide all"),
        )
        .clicked()
    {
        op = Some(GraphOp::UnhideAll);
    }
    if ui.button("Fit to view").clicked() {
        state.needs_fit = true;
        ui.close();
    }
    ui.separator();
    if ui.button("Export view as PNG…").clicked() {
        actions.push(Action::ExportChart { svg: false });
        ui.close();
    }
    if ui.button("Export view as SVG…").clicked() {
        actions.push(Action::ExportChart { svg: true });
        ui.close();
    }
    if let Some(op) = op {
        actions.extend(state.apply_op(op, case, view));
        ui.close();
    }
}

fn draw_legend(
    painter: &egui::Painter,
    rect: Rect,
    legend: &[(String, Color32)],
    palette: &Palette,
) {
    if legend.is_empty() {
        return;
    }
    let shown = &legend[..legend.len().min(14)];
    let row = 16.0;
    let height = row * shown.len() as f32 + 8.0;
    let origin = Pos2::new(rect.left() + 8.0, rect.bottom() - height - 8.0);
    let width = 190.0;
    painter.rect_filled(
        Rect::from_min_size(origin, Vec2::new(width, height)),
        4.0,
        palette.background.gamma_multiply(0.85),
    );
    for (k, (name, colour)) in shown.iter().enumerate() {
        let y = origin.y + 4.0 + row * (k as f32 + 0.5);
        painter.circle_filled(Pos2::new(origin.x + 10.0, y), 5.0, *colour);
        painter.text(
            Pos2::new(origin.x + 22.0, y),
            egui::Align2::LEFT_CENTER,
            name,
            egui::FontId::proportional(11.0),
            palette.text,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EntityId;

    /// A state with the case read and positions set, as after the first frame.
    fn ready(case: &CaseSnapshot) -> GraphState {
        let mut state = GraphState::default();
        state.sync(case);
        state.positions = bench::spiral_positions(case.entities.len());
        state
    }

    fn assert_same_model(a: &DisplayModel, b: &DisplayModel, what: &str) {
        assert_eq!(a.pos, b.pos, "{what}: positions");
        assert_eq!(a.shown, b.shown, "{what}: shown");
        assert_eq!(a.colour, b.colour, "{what}: colours");
        assert_eq!(a.scale, b.scale, "{what}: sizes");
        assert_eq!(a.faded, b.faded, "{what}: fading");
        assert_eq!(a.pinned, b.pinned, "{what}: pins");
        assert_eq!(a.icon, b.icon, "{what}: icons");
        assert_eq!(a.label, b.label, "{what}: labels");
        assert_eq!(a.edges, b.edges, "{what}: lines");
    }

    /// Rebuilding for new filters reuses the structure built for earlier ones; the result
    /// must be what a view that never saw the earlier filters builds.
    #[test]
    fn incremental_rebuild_matches_a_fresh_build() {
        let case = bench::synthetic_case(400, 1_500, 3_000, 11);
        let first = case.events.iter().map(|e| e.time.start_ms).min().unwrap();
        let day = 24 * 3600 * 1000;
        let mut views = vec![ViewState::default()];
        let timed = ViewState {
            time_filter: Some((first + 20 * day, first + 50 * day)),
            ..ViewState::default()
        };
        views.push(timed.clone());
        let mut searched = timed.clone();
        searched.filters.search = "entity 1".into();
        views.push(searched);
        let mut typed = ViewState::default();
        typed.filters.entity_type = Some("Phone".into());
        views.push(typed);

        let mut incremental = ready(&case);
        for (step, view) in views.iter().enumerate() {
            for (summarise, events) in [(true, false), (false, true), (true, true)] {
                incremental.style.summarise_parallel = summarise;
                incremental.style.show_events = events;
                if step == 2 {
                    // A chart change between rebuilds: hide a few, collapse a few.
                    let ids: Vec<EntityId> = case.entities[..5].iter().map(|e| e.id).collect();
                    incremental.chart.hide(&ids);
                    let members: Vec<EntityId> =
                        case.entities[10..20].iter().map(|e| e.id).collect();
                    incremental.chart.collapse(members, None, [0.0, 0.0]);
                }
                incremental.build_model(&case, view);

                let mut fresh = ready(&case);
                fresh.style = incremental.style;
                fresh.chart = incremental.chart.clone();
                fresh.build_model(&case, view);
                assert_same_model(
                    &incremental.model,
                    &fresh.model,
                    &format!("view {step}, summarise {summarise}, events {events}"),
                );
            }
        }
    }

    /// An entity added to a placed chart (an import) appears beside the entity it links to.
    #[test]
    fn a_new_entity_appears_beside_the_entity_it_links_to() {
        let before = bench::synthetic_case(300, 600, 0, 5);
        let mut state = ready(&before);
        let anchor = state.positions[0];
        let mut entities = before.entities.clone();
        let mut newcomer = entities[0].clone();
        newcomer.id = EntityId(1_000);
        newcomer.label = "newcomer".into();
        entities.push(newcomer);
        let mut links = before.links.clone();
        let mut link = links[0].clone();
        link.id = crate::model::LinkId(10_000);
        link.source = EntityId(1_000);
        link.target = entities[0].id;
        links.push(link);
        let header = crate::store::SnapshotHeader {
            case_id: "bench".into(),
            title: "grown".into(),
            generation: 2,
            schema: Default::default(),
            grading_schemes: crate::model::GradingScheme::builtin(),
            default_scheme: "admiralty".into(),
        };
        let after = CaseSnapshot::assemble(header, entities, links, Vec::new());
        state.sync(&after);
        let p = state.positions[300];
        let d = ((p[0] - anchor[0]).powi(2) + (p[1] - anchor[1]).powi(2)).sqrt();
        assert!(
            (d - crate::layout::NODE_SPACING).abs() < 0.01,
            "{d} from the entity it links to"
        );
        // The others kept their places.
        assert_eq!(state.positions[..300], bench::spiral_positions(300)[..]);
    }

    /// The time filter fades exactly the entities whose events all fall outside it, and
    /// entities with no events stay unfaded.
    #[test]
    fn time_filter_fades_entities_without_events_in_range() {
        let case = bench::synthetic_case(300, 600, 500, 5);
        let first = case.events.iter().map(|e| e.time.start_ms).min().unwrap();
        let range = (first + 10 * 86_400_000, first + 40 * 86_400_000);
        let view = ViewState {
            time_filter: Some(range),
            ..ViewState::default()
        };
        let mut state = ready(&case);
        state.build_model(&case, &view);
        for (i, e) in case.entities.iter().enumerate() {
            let mut events = case
                .events
                .iter()
                .filter(|ev| ev.participants.iter().any(|p| p.entity == e.id))
                .peekable();
            let has_events = events.peek().is_some();
            let active = events.any(|ev| ev.time.start_ms >= range.0 && ev.time.start_ms < range.1);
            assert_eq!(state.model.faded[i], has_events && !active, "entity {i}");
        }
    }
}
