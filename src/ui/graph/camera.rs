//! The chart's camera and what the pointer is doing: the world point at the centre of the view
//! and the zoom, fitting the shown entities, zooming towards the cursor, and the drag, hover
//! and context-menu target between frames.

use super::draw::{self, DisplayModel};
use egui::{Pos2, Rect, Vec2};

/// What a drag is doing.
#[derive(Debug, Clone)]
pub(super) enum Drag {
    Pan,
    /// Display nodes being moved, with where each started.
    Nodes(Vec<(usize, [f32; 2])>),
    /// Box selection from a screen point.
    Box(Pos2),
    /// A link being drawn (alt-drag) from this display node.
    Link(usize),
}

/// The camera and the pointer's state across frames.
#[derive(Debug)]
pub struct CameraState {
    pub(super) center: Vec2,
    pub(super) zoom: f32,
    /// Fit the shown entities at the next frame.
    pub needs_fit: bool,
    pub(super) drag: Option<Drag>,
    pub(super) hovered: Option<usize>,
    /// The display node the context menu was opened on.
    pub(super) context_node: Option<usize>,
    /// Where (layout units) the context menu was opened, for "New entity here".
    pub(super) context_world: Option<[f32; 2]>,
}

impl Default for CameraState {
    fn default() -> Self {
        CameraState {
            center: Vec2::ZERO,
            zoom: 1.0,
            needs_fit: true,
            drag: None,
            hovered: None,
            context_node: None,
            context_world: None,
        }
    }
}

/// The zoom's bounds: far enough out for a million entities, close enough for labels.
const ZOOM_RANGE: (f32, f32) = (1e-4, 100.0);

impl CameraState {
    /// Centres and zooms so that every shown node of the model fits `rect`.
    pub(super) fn fit(&mut self, rect: Rect, model: &DisplayModel) {
        let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for (i, p) in model.pos.iter().enumerate() {
            if !model.shown.get(i).copied().unwrap_or(false) {
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
        self.zoom =
            ((rect.width() / w).min(rect.height() / h) * 0.9).clamp(ZOOM_RANGE.0, ZOOM_RANGE.1);
    }

    /// Zooms by `factor` so that the world point under `pointer` stays under it.
    pub(super) fn zoom_at(&mut self, rect: Rect, pointer: Pos2, factor: f32) {
        let before = self.center + (pointer - rect.center()) / self.zoom;
        self.zoom = (self.zoom * factor).clamp(ZOOM_RANGE.0, ZOOM_RANGE.1);
        self.center = before - (pointer - rect.center()) / self.zoom;
    }

    /// The camera the frame draws with.
    pub(super) fn camera(&self, rect: Rect) -> draw::Camera {
        draw::Camera {
            rect,
            center: self.center,
            zoom: self.zoom,
            min_radius: 1.5,
        }
    }
}
