//! The link-graph view. Entities are drawn as icons by type on discs coloured by the chosen
//! style; links in i2's strength styles with arrows; calls and payments optionally as lines
//! between their participants. Pan by dragging the background, zoom with the wheel towards the
//! cursor, click and ctrl-click to select, shift-drag to box-select, drag nodes to move them,
//! right-click for pin, hide, expand, collapse and export.
//!
//! The view's state is split by role: the analyst's [`chart`] (hidden, pinned, collected and
//! moved entities, with its undo), the [`placement`] of every entity (positions and the layout
//! graph; layouts run as jobs the app starts), the [`display`] model derived from those (rebuilt
//! only when something it depends on changes), the [`camera`] and pointer state, and the
//! [`style`]. Drawing has levels of detail (see [`draw`]).

pub mod bench;
pub mod camera;
pub mod chart;
pub mod display;
pub mod draw;
pub mod export;
pub mod icons;
pub mod placement;
pub mod saved;
pub mod style;
mod toolbar;
pub mod working;

use super::{Action, ViewState};
use crate::model::{EntityId, ItemRef};
use crate::store::CaseSnapshot;
use camera::{CameraState, Drag};
use chart::Chart;
use display::{Display, Inputs};
use draw::{Camera, Palette};
use egui::{Pos2, Rect, Sense, Stroke};
pub use placement::{
    ForceParams, LayoutJob, LayoutKind, LayoutRequest, LayoutScope, Placement, PositionSlot,
};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
pub use style::{ColourBy, GraphStyle, type_colour};

type ScreenshotSlot = Arc<Mutex<Option<Arc<egui::ColorImage>>>>;

/// A PNG export waiting for its screenshot.
#[derive(Debug, Clone)]
struct PendingPng {
    path: PathBuf,
    rect: Rect,
    arrived: ScreenshotSlot,
}

/// Cases of at most this many entities open with all of them on the chart; larger ones open
/// on an empty chart that the analyst builds (the workbench's preference).
pub const WHOLE_CHART_MAX_ENTITIES: usize = 2_000;

/// The graph view's state across frames.
#[derive(Debug)]
pub struct GraphState {
    /// Cases with more entities open on an empty chart (a working set).
    pub start_empty_above: usize,
    /// The force layout's settings (the toolbar's panel).
    pub force: ForceParams,
    /// Search, expand and starting points for building the chart.
    pub working: working::WorkingPanel,
    /// The toolbar's layouts work on the selection only.
    pub layout_selection_only: bool,
    /// The analyst's working view: hidden, pinned, collected and moved entities.
    pub chart: Chart,
    /// Where every entity is, and the layout graph.
    pub placement: Placement,
    /// What is drawn, derived from the case, the chart, the placement and the style.
    pub display: Display,
    pub camera: CameraState,
    pub style: GraphStyle,
    icons: icons::IconTextures,
    pending_png: Option<PendingPng>,
    /// The last frame's camera, for exports and tests.
    pub last_camera: Option<Camera>,
    /// The labels the last frame placed (no two overlap).
    pub last_labels: Vec<draw::PlacedLabel>,
    pub last_stats: draw::FrameStats,
}

impl Default for GraphState {
    fn default() -> Self {
        GraphState {
            start_empty_above: WHOLE_CHART_MAX_ENTITIES,
            force: ForceParams::default(),
            working: Default::default(),
            layout_selection_only: false,
            chart: Default::default(),
            placement: Default::default(),
            display: Default::default(),
            camera: Default::default(),
            style: Default::default(),
            icons: Default::default(),
            pending_png: None,
            last_camera: None,
            last_labels: Vec::new(),
            last_stats: Default::default(),
        }
    }
}

impl GraphState {
    /// Reads the case when its generation changed, keeping the positions of known entities.
    /// A large case shown for the first time (no saved chart) starts on an empty chart.
    fn sync(&mut self, case: &CaseSnapshot) {
        let first = self.placement.generation.is_none()
            && self.placement.nodes.is_empty()
            && self.placement.restore.is_none();
        if let placement::Synced::Changed { fit } = self.placement.sync(case, &mut self.chart) {
            if first && case.entities.len() > self.start_empty_above {
                self.chart.start_empty();
                self.placement.wants_layout = false;
            }
            self.display.reindex(case, &self.placement.index_of);
            if fit {
                self.camera.needs_fit = true;
            }
        }
    }

    fn inputs<'a>(&'a self, case: &'a CaseSnapshot, view: &'a ViewState) -> Inputs<'a> {
        Inputs {
            case,
            view,
            chart: &self.chart,
            placement: &self.placement,
            style: &self.style,
        }
    }

    /// Rebuilds the display model if anything it depends on changed.
    fn ensure_model(&mut self, case: &CaseSnapshot, view: &ViewState) {
        let mut display = std::mem::take(&mut self.display);
        display.ensure(&self.inputs(case, view));
        self.display = display;
    }

    /// Builds the display model anew (tests and the benchmark).
    pub fn build_model(&mut self, case: &CaseSnapshot, view: &ViewState) {
        self.sync(case);
        let mut display = std::mem::take(&mut self.display);
        display.build_model(&self.inputs(case, view));
        self.display = display;
    }

    /// The chart to save with the case (JSON), or `None` before the case was first shown.
    pub fn saved_chart(&self) -> Option<String> {
        if self.placement.nodes.is_empty() {
            return None;
        }
        let mut saved = saved::SavedChart::of(
            &self.placement.nodes,
            &self.placement.positions,
            &self.chart.state,
        );
        saved.style = Some(self.style);
        serde_json::to_string(&saved).ok()
    }

    /// Places the case's entities by a chart saved with it, when the case is next shown.
    pub fn restore_saved(&mut self, json: &str) -> Result<(), String> {
        let saved: saved::SavedChart = serde_json::from_str(json).map_err(|e| e.to_string())?;
        self.placement.restore = Some(saved);
        self.placement.generation = None;
        Ok(())
    }

    /// The entities a display node stands for (a collection's members).
    fn members_of(&self, node: usize) -> Vec<EntityId> {
        match self.placement.entity(node) {
            Some(e) => vec![e],
            None => self
                .chart
                .state
                .collections
                .get(node - self.placement.nodes.len())
                .map(|c| c.members.clone())
                .unwrap_or_default(),
        }
    }

    /// Whether the app should start the force layout now (a case first placed); asking
    /// clears the wish.
    pub fn take_layout_wish(&mut self) -> bool {
        std::mem::take(&mut self.placement.wants_layout)
    }

    /// The entities of the chart (shown or not).
    pub fn entity_count(&self) -> usize {
        self.placement.graph.node_count
    }

    /// The entities shown on their own on the chart (on it, not hidden, not in a
    /// collection), by layout index: what layouts work on.
    pub fn shown_nodes(&self) -> Vec<u32> {
        let collected: std::collections::HashSet<EntityId> = self
            .chart
            .state
            .collections
            .iter()
            .flat_map(|c| c.members.iter().copied())
            .collect();
        let shown = |e: &EntityId| !self.chart.state.hidden.contains(e) && !collected.contains(e);
        match &self.chart.state.on_chart {
            None => (0..self.placement.nodes.len() as u32)
                .filter(|&i| shown(&self.placement.nodes[i as usize]))
                .collect(),
            Some(set) => {
                let mut nodes: Vec<u32> = set
                    .iter()
                    .filter(|e| shown(e))
                    .filter_map(|e| self.placement.index_of.get(e).map(|&i| i as u32))
                    .collect();
                nodes.sort_unstable();
                nodes
            }
        }
    }

    /// What a layout job needs, from the current positions: the shown entities (or the
    /// selection) laid out, hidden entities and those off the chart untouched; for entities
    /// just added, everything else pinned. Grouped layouts group by the communities of the
    /// active analysis result, or by entity type.
    pub fn layout_job(
        &self,
        request: &LayoutRequest,
        case: &CaseSnapshot,
        view: &ViewState,
    ) -> LayoutJob {
        let shown = self.shown_nodes();
        let index_of = |e: &EntityId| self.placement.index_of.get(e).map(|&i| i as u32);
        let nodes: Vec<u32> = match &request.scope {
            LayoutScope::Chart | LayoutScope::Added(_) => shown,
            LayoutScope::Selection(ids) => {
                let shown: std::collections::HashSet<u32> = shown.into_iter().collect();
                let mut nodes: Vec<u32> = ids
                    .iter()
                    .filter_map(index_of)
                    .filter(|i| shown.contains(i))
                    .collect();
                nodes.sort_unstable();
                nodes
            }
        };
        let added: std::collections::HashSet<u32> = match &request.scope {
            LayoutScope::Added(ids) => ids.iter().filter_map(index_of).collect(),
            _ => Default::default(),
        };
        let pinned: Vec<bool> = nodes
            .iter()
            .map(|&i| {
                let e = self.placement.nodes[i as usize];
                self.chart.state.pinned.contains(&e)
                    || (matches!(request.scope, LayoutScope::Added(_)) && !added.contains(&i))
            })
            .collect();
        let groups: Vec<u32> = match (request.kind, view.analysis_column.as_deref()) {
            (LayoutKind::Grouped { by_community: true }, Some(a)) if a.communities => nodes
                .iter()
                .map(|&i| {
                    a.values
                        .get(&case.entities[i as usize].id)
                        .map_or(u32::MAX, |&v| v as u32)
                })
                .collect(),
            (LayoutKind::Grouped { .. }, _) => {
                let mut types: Vec<&str> = nodes
                    .iter()
                    .map(|&i| case.entities[i as usize].entity_type.as_str())
                    .collect();
                types.sort_unstable();
                types.dedup();
                nodes
                    .iter()
                    .map(|&i| {
                        types
                            .binary_search(&case.entities[i as usize].entity_type.as_str())
                            .unwrap_or(0) as u32
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        self.placement.layout_job(request, nodes, pinned, groups)
    }

    /// Records the positions before a layout the analyst asked for, as a chart undo step.
    pub fn layout_checkpoint(&mut self, what: &str) {
        self.chart
            .checkpoint_layout(what, self.placement.positions.clone());
    }

    /// Puts entities on the chart (and out of hiding) as one undo step, beside the entities
    /// on it they link to; returns what the app should do: record the undo step, settle the
    /// newcomers with a force layout that moves only them, and select them.
    pub fn add_to_chart(
        &mut self,
        case: &CaseSnapshot,
        entities: &[EntityId],
        what: &str,
    ) -> Vec<Action> {
        self.sync(case);
        let new: Vec<EntityId> = entities
            .iter()
            .copied()
            .filter(|e| self.placement.index_of.contains_key(e) && !self.chart.is_on_chart(*e))
            .collect();
        let was_empty = self.chart.on_chart_count(self.placement.nodes.len()) == 0;
        let unhides = entities.iter().any(|e| self.chart.state.hidden.contains(e));
        self.chart.add(entities, what);
        if new.is_empty() && !unhides {
            return Vec::new();
        }
        self.placement.place_added(case, &self.chart, &new);
        self.display.positions_moved();
        if was_empty {
            self.camera.needs_fit = true;
        }
        let mut actions = vec![Action::ChartChanged];
        if !new.is_empty() {
            // Newcomers settle around what they link to: kept apart from the chart's other
            // entities and from each other, and hardly pulled to the layout's centre (which
            // may be far from where they were added).
            actions.push(Action::RunLayout(LayoutRequest {
                kind: LayoutKind::Force,
                scope: LayoutScope::Added(new.clone()),
                settings: ForceParams {
                    gravity: self.force.gravity * 0.1,
                    prevent_overlap: true,
                    ..self.force
                },
                undo_step: false,
            }));
        }
        actions.push(Action::SelectMany(
            entities.iter().map(|&e| ItemRef::Entity(e)).collect(),
        ));
        actions
    }

    /// Puts entities the analyst created by hand on the chart: at `at` (where the background
    /// was double-clicked), kept there as a position set by hand; else beside what they link
    /// to, as any addition.
    pub fn add_created(
        &mut self,
        case: &CaseSnapshot,
        entities: &[EntityId],
        at: Option<[f32; 2]>,
    ) -> Vec<Action> {
        let Some(at) = at else {
            return self.add_to_chart(case, entities, "add created entities");
        };
        self.sync(case);
        let was_empty = self.chart.on_chart_count(self.placement.nodes.len()) == 0;
        self.chart.add(entities, "add created entities");
        let mut moves = Vec::new();
        for (k, e) in entities.iter().enumerate() {
            if let Some(&i) = self.placement.index_of.get(e) {
                // Several at one spot are set apart a little, so none hides another.
                let p = [at[0] + 30.0 * k as f32, at[1]];
                moves.push((*e, self.placement.positions[i], p));
                self.placement.positions[i] = p;
            }
        }
        self.chart
            .state
            .moved
            .extend(moves.iter().map(|&(e, _, p)| (e, p)));
        self.display.positions_moved();
        if was_empty {
            self.camera.needs_fit = true;
        }
        vec![
            Action::ChartChanged,
            Action::SelectMany(entities.iter().map(|&e| ItemRef::Entity(e)).collect()),
        ]
    }

    /// Puts the chart back as a named snapshot kept it (the view's saved-chart JSON): the
    /// working set, hidden, pinned and moved entities, collections, every position and the
    /// style, as one undo step (the undo puts back the chart, not the style). Entities the snapshot names that are gone are left out; entities made since
    /// keep their places (and stay off a working-set chart).
    pub fn restore_snapshot(
        &mut self,
        case: &CaseSnapshot,
        json: &str,
        name: &str,
    ) -> Result<(), String> {
        let saved: saved::SavedChart = serde_json::from_str(json).map_err(|e| e.to_string())?;
        self.sync(case);
        self.stop_streaming();
        self.layout_checkpoint(&format!("restore the snapshot {name}"));
        self.chart.state = saved.state();
        if let Some(style) = saved.style {
            self.style = style;
        }
        let index_of = &self.placement.index_of;
        self.chart.retain(|e| index_of.contains_key(&e));
        for (e, p) in saved.positions() {
            if let Some(&i) = self.placement.index_of.get(&e) {
                self.placement.positions[i] = p;
            }
        }
        self.display.positions_moved();
        self.camera.needs_fit = true;
        Ok(())
    }

    /// A layout job started (the force layout streams positions while it runs).
    pub fn layout_started(&mut self) {
        self.placement.layout_running = true;
    }

    /// Takes the final positions of a finished layout (`None`: it failed or was cancelled,
    /// and the positions it streamed stay).
    pub fn layout_finished(&mut self, positions: Option<Vec<[f32; 2]>>) {
        self.placement.layout_running = false;
        if let Some(positions) = positions
            && positions.len() == self.placement.positions.len()
        {
            self.placement.positions = positions;
            // Positions set by hand are now the layout's.
            self.chart.state.moved.clear();
            self.display.positions_moved();
            self.camera.needs_fit = true;
        }
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
                !keep.is_empty() && self.chart.show_only(&self.placement.nodes, &keep)
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
            GraphOp::ExpandWith => {
                // What the panel found for the selection with its options (counted before).
                let chart = &self.chart;
                let hidden = &chart.state.hidden;
                self.working
                    .refresh_expand(case, chart.revision, &selected, |e| {
                        chart.is_on_chart(e) && !hidden.contains(&e)
                    });
                let found = self.working.expand_found.entities.clone();
                let what = format!("expand {} degrees", self.working.expand.depth);
                let mut acts = self.add_to_chart(case, &found, &what);
                // Keep the expanded-from entities in the selection.
                if let Some(Action::SelectMany(items)) = acts.last_mut() {
                    items.extend(selected.iter().map(|&e| ItemRef::Entity(e)));
                }
                actions.extend(acts);
                false
            }
            GraphOp::Add(entities, what) => {
                actions.extend(self.add_to_chart(case, &entities, &what));
                false
            }
            GraphOp::RemoveFromChart => self.chart.remove(&selected, &self.placement.nodes),
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
            .filter_map(|e| self.placement.index_of.get(e))
            .map(|&i| self.placement.positions[i])
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
                .placement
                .index_of
                .get(&e)
                .is_some_and(|&i| self.display.model.shown.get(i).copied().unwrap_or(false));
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
        self.stop_streaming();
        let positions = &self.placement.positions;
        let undone = self.chart.undo(|| positions.clone())?;
        Some(self.put_back(undone))
    }

    pub fn redo(&mut self) -> Option<String> {
        self.stop_streaming();
        let positions = &self.placement.positions;
        let redone = self.chart.redo(|| positions.clone())?;
        Some(self.put_back(redone))
    }

    /// Puts back what an undo or redo gave: a layout's positions, or the moves by hand.
    fn put_back(&mut self, step: chart::Undone) -> String {
        match step.positions {
            Some(p) if p.len() == self.placement.positions.len() => {
                self.placement.positions = p;
                self.display.positions_moved();
            }
            _ => self.restore_moves(),
        }
        step.what
    }

    /// A running layout's positions no longer arrive (an undo or redo takes the chart back).
    fn stop_streaming(&mut self) {
        self.placement.epoch += 1;
    }

    fn restore_moves(&mut self) {
        for (e, p) in &self.chart.state.moved {
            if let Some(&i) = self.placement.index_of.get(e) {
                self.placement.positions[i] = *p;
            }
        }
        self.display.positions_moved();
    }

    /// The SVG of the current view.
    pub fn svg(&self, dark: bool, title: &str) -> Option<String> {
        let camera = self.last_camera?;
        Some(export::to_svg(
            &self.display.model,
            &camera,
            &Palette::new(dark),
            title,
        ))
    }

    /// Asks for a screenshot; the PNG is written when it arrives (see [`Self::poll_png`]).
    pub fn request_png(&mut self, ctx: &egui::Context, path: PathBuf) {
        let Some(camera) = self.last_camera else {
            return;
        };
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
        self.display.shown_entities(self.placement.nodes.len())
    }

    /// The screen position of an entity in the last frame (tests click there).
    pub fn screen_pos(&self, entity: EntityId) -> Option<Pos2> {
        let i = *self.placement.index_of.get(&entity)?;
        Some(self.last_camera?.to_screen(*self.display.model.pos.get(i)?))
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
    /// Add to the chart the neighbours of the selection that the working panel's expand
    /// options find (depth, link types, through events, cap).
    ExpandWith,
    /// Add these entities to the chart (search results, starting points, a path), saying
    /// how they were found.
    Add(Vec<EntityId>, String),
    /// Take the selected entities off the chart.
    RemoveFromChart,
    /// Fold the selected entities into one collection node.
    Collapse,
    /// Fold the shown neighbours of this type of the selected entities into one collection
    /// node (the twenty phones around one person, as one node).
    CollapseNeighbours(String),
    ExpandCollection(usize),
}

/// Rebuilds the display model and takes streamed positions: the work of a frame before
/// anything is drawn.
fn prepare(ui: &egui::Ui, case: &CaseSnapshot, view: &ViewState, state: &mut GraphState) {
    state.sync(case);
    if state.placement.wants_layout {
        // The app starts the layout at the next frame.
        ui.ctx().request_repaint();
    }
    state.icons.ensure(ui.ctx());
    state.ensure_model(case, view);
    if state.placement.layout_running {
        if state.placement.take_published() {
            state
                .display
                .refresh_positions(&state.placement, &state.chart);
        }
        // Keep pulling positions while the layout runs, and only then.
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(50));
    }
}

/// Shows the graph view; returns what it asks the app to do.
pub fn show(
    ui: &mut egui::Ui,
    case: &CaseSnapshot,
    view: &ViewState,
    state: &mut GraphState,
) -> Vec<Action> {
    let mut actions = Vec::new();
    prepare(ui, case, view, state);
    if let Some(written) = state.poll_png(ui) {
        actions.push(match written {
            Ok((path, bytes)) => Action::SaveChartImage { path, bytes },
            Err(e) => Action::Error(format!("The chart image could not be encoded: {e}")),
        });
    }
    toolbar::toolbar(ui, case, view, state, &mut actions);
    if state.chart.on_chart_count(case.entities.len()) == 0 {
        // An empty working set: where to start, instead of an empty picture.
        egui::ScrollArea::vertical()
            .id_salt("chart-starting-points")
            .show(ui, |ui| {
                toolbar::starting_points(ui, case, view, state, &mut actions);
            });
        return own_ops(state, case, view, actions);
    }

    let (response, painter) = ui.allocate_painter(ui.available_size(), Sense::click_and_drag());
    let rect = response.rect;
    if state.camera.needs_fit {
        // Fit keeps the chart clear of the legend in the lower left corner.
        let mut fit_rect = rect;
        if state.style.show_legend && !state.display.legend.is_empty() {
            fit_rect.min.x = (rect.min.x + style::LEGEND_WIDTH + 16.0).min(rect.max.x - 50.0);
        }
        state.camera.fit(fit_rect, &state.display.model);
        // The camera's centre is that of the whole view: shift it so the fitted chart sits
        // in the part beside the legend.
        state.camera.center -= (fit_rect.center() - rect.center()) / state.camera.zoom;
        state.camera.needs_fit = false;
    }
    let mut camera = state.camera.camera(rect);
    let pick_radius = |camera: &Camera| (draw::NODE_RADIUS * 1.5).max(8.0 / camera.zoom);

    // Drags: on a node moves it (and the rest of the selection), shift-drag draws a box,
    // anywhere else pans.
    if response.drag_started()
        && let Some(origin) = ui.input(|i| i.pointer.press_origin())
    {
        let (shift, alt) = ui.input(|i| (i.modifiers.shift, i.modifiers.alt));
        let on_node = state
            .display
            .pick(camera.to_world(origin), pick_radius(&camera));
        let model = &state.display.model;
        let entities = state.placement.nodes.len();
        state.camera.drag = Some(match (shift, on_node) {
            (true, _) => Drag::Box(origin),
            // Alt-drag from an entity to another draws a link between them (i2's link tool).
            (false, Some(node)) if alt && node < entities => Drag::Link(node),
            (false, Some(node)) => {
                let moving: Vec<usize> = if model.selected.get(node).copied() == Some(true) {
                    (0..model.len())
                        .filter(|&i| model.selected[i] && model.shown[i])
                        .collect()
                } else {
                    vec![node]
                };
                Drag::Nodes(moving.into_iter().map(|i| (i, model.pos[i])).collect())
            }
            (false, None) => Drag::Pan,
        });
    }
    if response.dragged() {
        let delta = response.drag_delta() / state.camera.zoom;
        match &state.camera.drag {
            Some(Drag::Nodes(nodes)) => {
                let n = state.placement.positions.len();
                for &(i, _) in nodes {
                    let p = &mut state.display.model.pos[i];
                    p[0] += delta.x;
                    p[1] += delta.y;
                    let p = *p;
                    if i < n {
                        state.placement.positions[i] = p;
                    } else {
                        state.chart.place_collection(i - n, p);
                    }
                }
            }
            Some(Drag::Box(_) | Drag::Link(_)) => {}
            _ => state.camera.center -= delta,
        }
    }
    if response.drag_stopped() {
        match state.camera.drag.take() {
            Some(Drag::Nodes(nodes)) => {
                let moves: Vec<_> = nodes
                    .iter()
                    .filter_map(|&(i, old)| {
                        let e = state.placement.entity(i)?;
                        Some((e, old, state.placement.positions[i]))
                    })
                    .collect();
                if !moves.is_empty() {
                    state.chart.moved(&moves);
                    actions.push(Action::ChartChanged);
                }
                state.display.rebuild_grid();
            }
            Some(Drag::Link(from)) => {
                let to = response
                    .interact_pointer_pos()
                    .or(ui.input(|i| i.pointer.latest_pos()))
                    .and_then(|p| state.display.pick(camera.to_world(p), pick_radius(&camera)));
                if let (Some(from), Some(to)) = (
                    state.placement.entity(from),
                    to.and_then(|t| state.placement.entity(t)),
                ) && from != to
                {
                    actions.push(Action::Open(crate::ui::editor::Open::NewLink { from, to }));
                }
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
                        .display
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
        // The wheel's own events, not egui's smoothed delta: a wheel step zooms in the frame
        // it happens, instead of an animation of a second that redraws the chart every frame.
        let scroll: f32 = ui.input(|i| {
            i.raw
                .events
                .iter()
                .filter_map(|e| match e {
                    egui::Event::MouseWheel { unit, delta, .. } => Some(match unit {
                        egui::MouseWheelUnit::Point => delta.y,
                        egui::MouseWheelUnit::Line => delta.y * 40.0,
                        egui::MouseWheelUnit::Page => delta.y * 400.0,
                    }),
                    _ => None,
                })
                .sum()
        });
        if scroll != 0.0
            && let Some(pointer) = response.hover_pos()
        {
            // Zoom towards the cursor: the world point under it stays under it.
            state.camera.zoom_at(rect, pointer, (scroll * 0.002).exp());
        }
    }
    camera = state.camera.camera(rect);

    let hovered = response
        .hover_pos()
        .and_then(|p| state.display.pick(camera.to_world(p), pick_radius(&camera)));
    if hovered != state.camera.hovered {
        state.camera.hovered = hovered;
        let item = hovered
            .and_then(|i| state.placement.entity(i))
            .map(ItemRef::Entity);
        actions.push(Action::Hover(item));
    }

    let palette = Palette::new(ui.visuals().dark_mode);
    let icon_textures = &state.icons;
    let display = &state.display;
    let mut labels = std::mem::take(&mut state.last_labels);
    let stats = draw::draw(
        &painter,
        &display.model,
        &camera,
        &palette,
        &|i| icon_textures.texture(i),
        &|k| display.edge_label(case, k),
        hovered,
        &mut labels,
    );
    state.last_labels = labels;
    state.last_stats = stats;
    state.last_camera = Some(camera);
    if let Some(Drag::Box(origin)) = &state.camera.drag
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
    if let Some(Drag::Link(from)) = &state.camera.drag
        && let Some(now) = ui.input(|i| i.pointer.latest_pos())
        && let Some(p) = state.display.model.pos.get(*from)
    {
        painter.line_segment(
            [camera.to_screen(*p), now],
            Stroke::new(2.0, palette.selected),
        );
    }
    if state.style.show_legend {
        style::draw_legend(&painter, rect, &state.display.legend, &palette);
    }

    // Clicks select; a click on the background clears the selection.
    if response.clicked()
        && let Some(pointer) = response.interact_pointer_pos()
    {
        let additive = ui.input(|i| i.modifiers.command);
        match state
            .display
            .pick(camera.to_world(pointer), pick_radius(&camera))
        {
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
    {
        match state
            .display
            .pick(camera.to_world(pointer), pick_radius(&camera))
        {
            Some(i) if i >= state.placement.nodes.len() => {
                actions.extend(state.apply_op(
                    GraphOp::ExpandCollection(i - state.placement.nodes.len()),
                    case,
                    view,
                ));
            }
            Some(_) => {}
            // A double click on the background creates an entity there (i2, Maltego).
            None => actions.push(Action::Open(crate::ui::editor::Open::NewEntity {
                at: Some(camera.to_world(pointer)),
            })),
        }
    }
    if response.secondary_clicked()
        && let Some(pointer) = response.interact_pointer_pos()
    {
        state.camera.context_node = state
            .display
            .pick(camera.to_world(pointer), pick_radius(&camera));
        state.camera.context_world = Some(camera.to_world(pointer));
        if let Some(i) = state.camera.context_node
            && !state
                .display
                .model
                .selected
                .get(i)
                .copied()
                .unwrap_or(false)
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
        toolbar::context_menu(ui, case, view, state, &mut actions);
    });
    own_ops(state, case, view, actions)
}

/// Applies the chart operations the view's own panels asked for (they change only the view's
/// state) and passes the other actions on to the app.
fn own_ops(
    state: &mut GraphState,
    case: &CaseSnapshot,
    view: &ViewState,
    actions: Vec<Action>,
) -> Vec<Action> {
    let mut out = Vec::with_capacity(actions.len());
    for action in actions {
        match action {
            Action::GraphOp(op) => out.extend(state.apply_op(op, case, view)),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EntityId;
    use draw::DisplayModel;

    /// A state with the case read and positions set, as after the first frame.
    fn ready(case: &CaseSnapshot) -> GraphState {
        let mut state = bench::whole_chart();
        state.sync(case);
        state.placement.positions = bench::spiral_positions(case.entities.len());
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
                    &incremental.display.model,
                    &fresh.display.model,
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
        let anchor = state.placement.positions[0];
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
        let p = state.placement.positions[300];
        let d = ((p[0] - anchor[0]).powi(2) + (p[1] - anchor[1]).powi(2)).sqrt();
        assert!(
            (d - crate::layout::NODE_SPACING).abs() < 0.01,
            "{d} from the entity it links to"
        );
        // The others kept their places.
        assert_eq!(
            state.placement.positions[..300],
            bench::spiral_positions(300)[..]
        );
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
            assert_eq!(
                state.display.model.faded[i],
                has_events && !active,
                "entity {i}"
            );
        }
    }
}
