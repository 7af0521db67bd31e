//! The link-graph view: entities as nodes coloured by type (sized by the active analysis
//! result), links as lines; pan by dragging, zoom with the wheel towards the cursor, click and
//! ctrl-click to select (picking through a grid index, not a scan). Only what is on screen is
//! drawn, and when zoomed out over very many links only a thinned share of them is drawn.
//! The force layout runs as a job and streams positions here.

use super::{Action, ViewState};
use crate::layout::LayoutGraph;
use crate::model::{EntityId, ItemRef};
use crate::store::CaseSnapshot;
use egui::{Color32, Pos2, Rect, Sense, Stroke, Vec2};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Links drawn at most per frame before thinning kicks in.
const MAX_DRAWN_LINKS: usize = 40_000;
/// Labels are drawn only when at most this many nodes are visible.
const MAX_LABELS: usize = 120;
const GRID_CELL: f32 = 20.0;

/// Where a running layout leaves its latest positions for the view.
pub type PositionSlot = Arc<Mutex<Option<Vec<[f32; 2]>>>>;

/// The graph view's state across frames.
#[derive(Debug)]
pub struct GraphState {
    generation: Option<u64>,
    graph_nodes: Vec<EntityId>,
    pub graph: LayoutGraph,
    pub positions: Vec<[f32; 2]>,
    /// World coordinate at the centre of the view, and pixels per world unit.
    center: Vec2,
    zoom: f32,
    grid: HashMap<(i32, i32), Vec<u32>>,
    pub slot: PositionSlot,
    pub layout_running: bool,
    needs_fit: bool,
}

impl Default for GraphState {
    fn default() -> Self {
        GraphState {
            generation: None,
            graph_nodes: Vec::new(),
            graph: LayoutGraph::default(),
            positions: Vec::new(),
            center: Vec2::ZERO,
            zoom: 1.0,
            grid: HashMap::new(),
            slot: Arc::new(Mutex::new(None)),
            layout_running: false,
            needs_fit: true,
        }
    }
}

impl GraphState {
    /// Rebuilds the layout graph when the case changed, keeping positions of known entities.
    fn sync(&mut self, case: &CaseSnapshot) {
        if self.generation == Some(case.generation) {
            return;
        }
        let old: HashMap<EntityId, [f32; 2]> = self
            .graph_nodes
            .iter()
            .copied()
            .zip(self.positions.iter().copied())
            .collect();
        let edges = case
            .graph
            .edge_indices()
            .filter_map(|e| case.graph.edge_endpoints(e))
            .map(|(a, b)| (a.index() as u32, b.index() as u32))
            .collect();
        self.graph = LayoutGraph {
            node_count: case.entities.len(),
            edges,
        };
        let fresh = crate::layout::ForceLayout::new(&self.graph, None).positions;
        self.positions = case
            .entities
            .iter()
            .enumerate()
            .map(|(i, e)| old.get(&e.id).copied().unwrap_or(fresh[i]))
            .collect();
        self.graph_nodes = case.entities.iter().map(|e| e.id).collect();
        self.generation = Some(case.generation);
        self.rebuild_grid();
        if old.is_empty() {
            self.needs_fit = true;
        }
    }

    fn rebuild_grid(&mut self) {
        self.grid.clear();
        for (i, p) in self.positions.iter().enumerate() {
            let key = (
                (p[0] / GRID_CELL).floor() as i32,
                (p[1] / GRID_CELL).floor() as i32,
            );
            self.grid.entry(key).or_default().push(i as u32);
        }
    }

    /// Takes the final positions of a finished layout.
    pub fn set_positions(&mut self, positions: Vec<[f32; 2]>) {
        if positions.len() == self.positions.len() {
            self.positions = positions;
            self.rebuild_grid();
            self.needs_fit = true;
        }
    }

    /// Takes positions a running layout published.
    fn take_published(&mut self) -> bool {
        let latest = self.slot.lock().ok().and_then(|mut s| s.take());
        match latest {
            Some(p) if p.len() == self.positions.len() => {
                self.positions = p;
                self.rebuild_grid();
                true
            }
            _ => false,
        }
    }

    /// The node nearest to a world point within `radius` world units.
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
                    let p = self.positions[i as usize];
                    let d = ((p[0] - world[0]).powi(2) + (p[1] - world[1]).powi(2)).sqrt();
                    if d <= radius && best.is_none_or(|(bd, _)| d < bd) {
                        best = Some((d, i as usize));
                    }
                }
            }
        }
        best.map(|(_, i)| i)
    }

    fn fit(&mut self, rect: Rect) {
        if self.positions.is_empty() {
            return;
        }
        let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for p in &self.positions {
            x0 = x0.min(p[0]);
            y0 = y0.min(p[1]);
            x1 = x1.max(p[0]);
            y1 = y1.max(p[1]);
        }
        self.center = Vec2::new((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        let w = (x1 - x0).max(1.0);
        let h = (y1 - y0).max(1.0);
        self.zoom = (rect.width() / w).min(rect.height() / h) * 0.9;
    }
}

/// The stable colour of an entity type.
pub fn type_colour(entity_type: &str) -> Color32 {
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

pub fn show(
    ui: &mut egui::Ui,
    case: &CaseSnapshot,
    view: &ViewState,
    state: &mut GraphState,
) -> Vec<Action> {
    let mut actions = Vec::new();
    state.sync(case);
    if state.layout_running {
        state.take_published();
        // Keep pulling positions while the layout runs, and only then.
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(50));
    }
    ui.horizontal(|ui| {
        if state.layout_running {
            if ui.button("Stop layout").clicked() {
                actions.push(Action::StopLayout);
            }
        } else if ui.button("Run force layout").clicked() {
            actions.push(Action::StartLayout);
        }
        if ui.button("Circular").clicked() {
            state.positions = crate::layout::circular(state.positions.len());
            state.rebuild_grid();
            state.needs_fit = true;
        }
        if ui.button("Fit to view").clicked() {
            state.needs_fit = true;
        }
        ui.weak(format!(
            "{} entities, {} links · drag to pan, wheel to zoom, click to select",
            case.entities.len(),
            state.graph.edges.len()
        ));
    });
    let (response, painter) = ui.allocate_painter(ui.available_size(), Sense::click_and_drag());
    let rect = response.rect;
    if state.needs_fit {
        state.fit(rect);
        state.needs_fit = false;
    }
    if response.dragged() {
        state.center -= response.drag_delta() / state.zoom;
    }
    if response.hovered() {
        let scroll = ui.input(|i| i.smooth_scroll_delta.y);
        if scroll != 0.0 {
            let factor = (scroll * 0.002).exp();
            if let Some(pointer) = response.hover_pos() {
                // Zoom towards the cursor: the world point under it stays under it.
                let before = state.center + (pointer - rect.center()) / state.zoom;
                state.zoom = (state.zoom * factor).clamp(1e-4, 100.0);
                state.center = before - (pointer - rect.center()) / state.zoom;
            }
        }
    }
    let to_screen =
        |p: [f32; 2]| rect.center() + (Vec2::new(p[0], p[1]) - state.center) * state.zoom;
    let world_rect = Rect::from_center_size(
        state.center.to_pos2(),
        rect.size() / state.zoom + Vec2::splat(40.0 / state.zoom),
    );
    let visible = |p: [f32; 2]| world_rect.contains(Pos2::new(p[0], p[1]));

    // Links: cull to the view; thin evenly when too many would be drawn.
    let dark = ui.visuals().dark_mode;
    let link_colour = if dark {
        Color32::from_white_alpha(40)
    } else {
        Color32::from_black_alpha(50)
    };
    let candidates: Vec<&(u32, u32)> = state
        .graph
        .edges
        .iter()
        .filter(|(a, b)| {
            visible(state.positions[*a as usize]) || visible(state.positions[*b as usize])
        })
        .collect();
    let stride = candidates.len().div_ceil(MAX_DRAWN_LINKS).max(1);
    for (a, b) in candidates.iter().step_by(stride) {
        painter.line_segment(
            [
                to_screen(state.positions[*a as usize]),
                to_screen(state.positions[*b as usize]),
            ],
            Stroke::new(1.0, link_colour),
        );
    }

    // Nodes.
    let sizes = view.analysis_column.as_ref().map(|c| {
        let max = c.values.values().copied().fold(0.0f64, f64::max).max(1e-12);
        (c, max)
    });
    let visible_nodes: Vec<usize> = (0..state.positions.len())
        .filter(|&i| visible(state.positions[i]))
        .collect();
    let base = (3.0 * state.zoom.sqrt()).clamp(2.0, 8.0);
    for &i in &visible_nodes {
        let e = &case.entities[i];
        let scale = sizes.map_or(1.0, |(c, max)| {
            1.0 + 2.0 * (c.values.get(&e.id).copied().unwrap_or(0.0) / max) as f32
        });
        let centre = to_screen(state.positions[i]);
        let selected = view.selection.contains(&ItemRef::Entity(e.id));
        let colour = if e.restricted {
            Color32::GRAY
        } else {
            type_colour(&e.entity_type)
        };
        painter.circle_filled(centre, base * scale, colour);
        if selected {
            painter.circle_stroke(
                centre,
                base * scale + 3.0,
                Stroke::new(2.0, Color32::YELLOW),
            );
        }
    }
    if visible_nodes.len() <= MAX_LABELS {
        let text_colour = ui.visuals().text_color();
        for &i in &visible_nodes {
            painter.text(
                to_screen(state.positions[i]) + Vec2::new(0.0, base + 8.0),
                egui::Align2::CENTER_CENTER,
                &case.entities[i].label,
                egui::FontId::proportional(11.0),
                text_colour,
            );
        }
    }

    if response.clicked()
        && let Some(pointer) = response.interact_pointer_pos()
    {
        let world = state.center + (pointer - rect.center()) / state.zoom;
        if let Some(i) = state.pick([world.x, world.y], 10.0 / state.zoom) {
            let additive = ui.input(|i| i.modifiers.command);
            actions.push(Action::Select {
                item: ItemRef::Entity(case.entities[i].id),
                additive,
            });
        }
    }
    actions
}
