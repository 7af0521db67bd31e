//! Builds one frame of the link chart from the display model, with level of detail: what is
//! off screen is skipped; links shorter than a pixel or two are skipped (the nodes cover
//! them); when many links or nodes are on screen they are written straight into one mesh of
//! thin quads (no dashes, arrows or feathering), thinned evenly above a budget; icons, dashes,
//! arrows and labels are drawn only when few enough are visible to read them. Used by the view
//! and by `copkit bench-ui`, so the benchmark measures exactly what the view does.

use crate::model::LinkStrength;
use egui::epaint::{Mesh, Vertex, WHITE_UV};
use egui::{Color32, FontId, Painter, Pos2, Rect, Shape, Stroke, TextureId, Vec2};

/// Nodes drawn with discs, icons and rings at most; above, one coloured quad each.
pub const DETAILED_NODES: usize = 3_000;
/// Links drawn with their styles (dashes, arrows, counts) at most; above, plain thin quads.
pub const DETAILED_LINKS: usize = 3_000;
/// Links drawn at most per frame; above, an even share of them, drawn more opaque.
pub const LINK_BUDGET: usize = 40_000;
/// Labels drawn at most per frame.
pub const MAX_LABELS: usize = 250;
/// The most important shown entities are labelled at every zoom, however many are on screen.
pub const ALWAYS_LABELLED: usize = 25;
/// Links are labelled (type, counts, sums) when at most this many are on screen and a line
/// is long enough to hold its label.
const LABELLED_LINKS: usize = 400;
/// A node's radius in world units at scale 1.
pub const NODE_RADIUS: f32 = 6.0;

/// Where a link comes from: a link of the case, or calls/payments between two entities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    Link,
    Event,
}

/// One line on the chart: a link, several parallel links summarised, or events.
#[derive(Debug, Clone, PartialEq)]
pub struct DisplayEdge {
    pub a: u32,
    pub b: u32,
    /// How many links or events the line stands for.
    pub count: u32,
    pub strength: LinkStrength,
    /// Arrow towards `b`.
    pub directed: bool,
    pub kind: EdgeKind,
    /// Offset lane among parallel lines drawn one per link (0 for the middle one).
    pub lane: i16,
    /// Drawn faded (filtered out by time, grade or the entity filters).
    pub faded: bool,
}

/// Everything one frame draws, per display node (entities first, then collections).
#[derive(Debug, Clone, Default)]
pub struct DisplayModel {
    pub pos: Vec<[f32; 2]>,
    /// False for hidden entities and members of collections.
    pub shown: Vec<bool>,
    pub colour: Vec<Color32>,
    pub scale: Vec<f32>,
    pub faded: Vec<bool>,
    pub selected: Vec<bool>,
    pub pinned: Vec<bool>,
    pub icon: Vec<u8>,
    pub label: Vec<String>,
    /// How much a node's label matters (the analysis value, else its lines on the chart):
    /// labels are placed most important first.
    pub importance: Vec<f32>,
    pub edges: Vec<DisplayEdge>,
}

impl DisplayModel {
    pub fn len(&self) -> usize {
        self.pos.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pos.is_empty()
    }
}

/// The camera: world coordinate at the centre of `rect`, and pixels per world unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Camera {
    pub rect: Rect,
    pub center: Vec2,
    pub zoom: f32,
    /// The smallest radius a node is drawn with, in pixels (larger when few nodes are on
    /// screen, so that their icons stay readable however far the layout spread them).
    pub min_radius: f32,
}

impl Camera {
    pub fn to_screen(&self, p: [f32; 2]) -> Pos2 {
        self.rect.center() + (Vec2::new(p[0], p[1]) - self.center) * self.zoom
    }

    pub fn to_world(&self, p: Pos2) -> [f32; 2] {
        let w = self.center + (p - self.rect.center()) / self.zoom;
        [w.x, w.y]
    }

    /// The world rectangle on screen, with a margin for node radii.
    pub fn world_rect(&self) -> Rect {
        Rect::from_center_size(
            self.center.to_pos2(),
            self.rect.size() / self.zoom + Vec2::splat(4.0 * NODE_RADIUS),
        )
    }

    /// A node's radius on screen. The smallest radius grows with the node's scale, so that
    /// sizing by an analysis result still shows when the chart is zoomed out.
    pub fn node_radius(&self, scale: f32) -> f32 {
        let min = (self.min_radius * scale).min(30.0);
        (NODE_RADIUS * scale * self.zoom).clamp(min, 30.0_f32.max(min))
    }
}

/// A label placed on screen (node labels and link labels), for tests and exports.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedLabel {
    pub text: String,
    pub rect: Rect,
    /// The display node it names, or `None` for a link's label.
    pub node: Option<usize>,
}

/// Screen rectangles taken by labels, through a grid of cells, so that a new label is checked
/// against its neighbours only.
struct LabelGrid {
    cell: f32,
    cells: std::collections::HashMap<(i32, i32), Vec<usize>>,
    rects: Vec<Rect>,
    /// Whether each rectangle is a label (else a node's disc, which a label may cover when
    /// it must be placed).
    is_label: Vec<bool>,
}

impl LabelGrid {
    fn new() -> LabelGrid {
        LabelGrid {
            cell: 64.0,
            cells: Default::default(),
            rects: Vec::new(),
            is_label: Vec::new(),
        }
    }

    fn span(&self, r: Rect) -> (std::ops::RangeInclusive<i32>, std::ops::RangeInclusive<i32>) {
        let c = |v: f32| (v / self.cell).floor() as i32;
        (c(r.min.x)..=c(r.max.x), c(r.min.y)..=c(r.max.y))
    }

    /// Marks `r` as taken by something that is not a label (a node's disc).
    fn block(&mut self, r: Rect) {
        self.insert(r, false);
    }

    fn insert(&mut self, r: Rect, is_label: bool) {
        let (xs, ys) = self.span(r);
        let k = self.rects.len();
        self.rects.push(r);
        self.is_label.push(is_label);
        for x in xs {
            for y in ys.clone() {
                self.cells.entry((x, y)).or_default().push(k);
            }
        }
    }

    /// Takes `r` if it overlaps no label placed before, nor a disc unless `over_discs`;
    /// true when it did.
    fn try_place(&mut self, r: Rect, over_discs: bool) -> bool {
        let (xs, ys) = self.span(r);
        for x in xs {
            for y in ys.clone() {
                if let Some(list) = self.cells.get(&(x, y))
                    && list
                        .iter()
                        .any(|&k| (self.is_label[k] || !over_discs) && self.rects[k].intersects(r))
                {
                    return false;
                }
            }
        }
        self.insert(r, true);
        true
    }
}

/// What a frame drew, for the status line and the benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameStats {
    pub nodes_drawn: usize,
    pub links_drawn: usize,
    pub labels_drawn: usize,
    pub detailed: bool,
}

/// Colours of the frame's states, from the theme.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    pub link: Color32,
    pub event_link: Color32,
    pub text: Color32,
    pub selected: Color32,
    pub hovered: Color32,
    pub background: Color32,
}

impl Palette {
    pub fn new(dark: bool) -> Palette {
        if dark {
            Palette {
                link: Color32::from_gray(150),
                event_link: Color32::from_rgb(230, 150, 70),
                text: Color32::from_gray(220),
                selected: Color32::from_rgb(255, 200, 0),
                hovered: Color32::WHITE,
                background: Color32::from_gray(27),
            }
        } else {
            Palette {
                link: Color32::from_gray(90),
                event_link: Color32::from_rgb(200, 110, 30),
                text: Color32::from_gray(30),
                selected: Color32::from_rgb(220, 120, 0),
                hovered: Color32::BLACK,
                background: Color32::from_gray(248),
            }
        }
    }
}

fn fade(c: Color32) -> Color32 {
    c.gamma_multiply(0.15)
}

/// Adds a thin quad from `a` to `b` to a mesh (no feathering: cheap for many lines).
fn push_line(mesh: &mut Mesh, a: Pos2, b: Pos2, width: f32, colour: Color32) {
    let d = b - a;
    let len = d.length();
    if len < 1e-3 {
        return;
    }
    let n = Vec2::new(-d.y, d.x) / len * (width * 0.5);
    let i = mesh.vertices.len() as u32;
    for p in [a + n, a - n, b + n, b - n] {
        mesh.vertices.push(Vertex {
            pos: p,
            uv: WHITE_UV,
            color: colour,
        });
    }
    mesh.indices
        .extend_from_slice(&[i, i + 1, i + 2, i + 1, i + 3, i + 2]);
}

/// Adds an axis-aligned quad, textured with `uv` (or plain with WHITE_UV).
fn push_quad(mesh: &mut Mesh, rect: Rect, uv: Rect, colour: Color32) {
    let i = mesh.vertices.len() as u32;
    for (p, t) in [
        (rect.left_top(), uv.left_top()),
        (rect.right_top(), uv.right_top()),
        (rect.left_bottom(), uv.left_bottom()),
        (rect.right_bottom(), uv.right_bottom()),
    ] {
        mesh.vertices.push(Vertex {
            pos: p,
            uv: t,
            color: colour,
        });
    }
    mesh.indices
        .extend_from_slice(&[i, i + 1, i + 2, i + 1, i + 3, i + 2]);
}

/// Draws one frame of the chart into `painter`.
#[allow(clippy::too_many_arguments)] // reason: one frame's inputs, each distinct
pub fn draw(
    painter: &Painter,
    model: &DisplayModel,
    camera: &Camera,
    palette: &Palette,
    icons: &dyn Fn(u8) -> Option<TextureId>,
    edge_label: &dyn Fn(usize) -> Option<String>,
    hovered: Option<usize>,
    labels: &mut Vec<PlacedLabel>,
) -> FrameStats {
    let mut stats = FrameStats::default();
    let world = camera.world_rect();
    let in_view = |i: usize| {
        let p = model.pos[i];
        model.shown[i] && world.contains(Pos2::new(p[0], p[1]))
    };

    // Which nodes are on screen decides the level of detail for both nodes and links.
    let visible: Vec<usize> = (0..model.len()).filter(|&i| in_view(i)).collect();
    let detailed_nodes = visible.len() <= DETAILED_NODES;
    let camera = &Camera {
        min_radius: if detailed_nodes { 7.0 } else { 1.5 },
        ..*camera
    };
    stats.detailed = detailed_nodes;

    // Links: culled to those with an end on screen and longer than the nodes they join.
    let min_len = (camera.node_radius(1.0) * 0.8).max(1.5);
    let mut lines: Vec<(usize, Pos2, Pos2)> = Vec::new();
    // Zoomed out over many nodes, look at an even share of the links only: about as many as
    // the budget, given the share of the chart on screen (the thinning below would drop the
    // rest anyway; this saves visiting them).
    let pre_stride = if detailed_nodes {
        1
    } else {
        let on_screen = visible.len() as f64 / model.len().max(1) as f64;
        ((model.edges.len() as f64 * on_screen) / LINK_BUDGET as f64)
            .ceil()
            .max(1.0) as usize
    };
    for (k, e) in model.edges.iter().enumerate().step_by(pre_stride) {
        let (a, b) = (e.a as usize, e.b as usize);
        if !(model.shown[a] && model.shown[b]) || !(in_view(a) || in_view(b)) {
            continue;
        }
        let (pa, pb) = (
            camera.to_screen(model.pos[a]),
            camera.to_screen(model.pos[b]),
        );
        if (pb - pa).length_sq() < min_len * min_len {
            continue;
        }
        lines.push((k, pa, pb));
    }
    if lines.len() <= DETAILED_LINKS && detailed_nodes {
        // With few links, their labels carry the counts.
        let counts = lines.len() > LABELLED_LINKS;
        draw_detailed_links(painter, model, camera, palette, &lines, counts);
        stats.links_drawn = lines.len();
    } else {
        // One mesh; above the budget an even share, drawn more opaque so density still shows.
        let stride = lines.len().div_ceil(LINK_BUDGET).max(1);
        let alpha_stride = stride * pre_stride;
        let alpha = (0.25 * alpha_stride as f32).min(0.8);
        let mut mesh = Mesh::default();
        mesh.reserve_triangles(2 * lines.len() / stride + 2);
        mesh.reserve_vertices(4 * lines.len() / stride + 4);
        for &(k, pa, pb) in lines.iter().step_by(stride) {
            let e = &model.edges[k];
            let base = match e.kind {
                EdgeKind::Link => palette.link,
                EdgeKind::Event => palette.event_link,
            };
            let colour = if e.faded {
                fade(base).gamma_multiply(alpha)
            } else {
                base.gamma_multiply(alpha)
            };
            push_line(&mut mesh, pa, pb, 1.0, colour);
            stats.links_drawn += 1;
        }
        painter.add(Shape::mesh(mesh));
    }

    // Nodes.
    if detailed_nodes {
        let mut by_texture: Vec<(TextureId, Mesh)> = Vec::new();
        for &i in &visible {
            let centre = camera.to_screen(model.pos[i]);
            let r = camera.node_radius(model.scale[i]);
            let colour = if model.faded[i] {
                fade(model.colour[i])
            } else {
                model.colour[i]
            };
            painter.circle_filled(centre, r, colour);
            if let Some(texture) = icons(model.icon[i]) {
                let k = match by_texture.iter().position(|(t, _)| *t == texture) {
                    Some(k) => k,
                    None => {
                        by_texture.push((texture, Mesh::with_texture(texture)));
                        by_texture.len() - 1
                    }
                };
                let mesh = &mut by_texture[k].1;
                let glyph = if model.faded[i] {
                    Color32::from_white_alpha(60)
                } else {
                    Color32::WHITE
                };
                push_quad(
                    mesh,
                    Rect::from_center_size(centre, Vec2::splat(r * 1.25)),
                    Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
                    glyph,
                );
            }
            stats.nodes_drawn += 1;
        }
        for (_, mesh) in by_texture {
            painter.add(Shape::mesh(mesh));
        }
    } else {
        let mut mesh = Mesh::default();
        mesh.reserve_vertices(4 * visible.len());
        mesh.reserve_triangles(2 * visible.len());
        // Zoomed out, many nodes fall on the same pixels: draw one quad per 2×2-pixel cell
        // for the small ones (the first node there wins; selection rings are drawn on top).
        let (cols, rows) = (
            (camera.rect.width() / 2.0).ceil().max(1.0) as usize + 1,
            (camera.rect.height() / 2.0).ceil().max(1.0) as usize + 1,
        );
        let mut taken = vec![false; cols * rows];
        for &i in &visible {
            let centre = camera.to_screen(model.pos[i]);
            let r = camera.node_radius(model.scale[i]).max(1.2);
            if r < 2.0 {
                let local = centre - camera.rect.min;
                let (cx, cy) = ((local.x / 2.0).floor(), (local.y / 2.0).floor());
                if cx >= 0.0 && cy >= 0.0 {
                    let cell = (cy as usize).min(rows - 1) * cols + (cx as usize).min(cols - 1);
                    if std::mem::replace(&mut taken[cell], true) {
                        stats.nodes_drawn += 1;
                        continue;
                    }
                }
            }
            let colour = if model.faded[i] {
                fade(model.colour[i])
            } else {
                model.colour[i]
            };
            push_quad(
                &mut mesh,
                Rect::from_center_size(centre, Vec2::splat(2.0 * r)),
                Rect::from_min_max(WHITE_UV, WHITE_UV),
                colour,
            );
            stats.nodes_drawn += 1;
        }
        painter.add(Shape::mesh(mesh));
    }

    // States on top: selected and pinned marks, the hovered ring, labels.
    for &i in &visible {
        let centre = camera.to_screen(model.pos[i]);
        let r = camera.node_radius(model.scale[i]);
        if model.selected[i] {
            painter.circle_stroke(centre, r + 3.0, Stroke::new(2.5, palette.selected));
        }
        if model.pinned[i] && detailed_nodes {
            painter.circle_filled(
                centre + Vec2::new(r * 0.75, -r * 0.75),
                (r * 0.25).clamp(2.0, 4.0),
                palette.text,
            );
        }
    }
    labels.clear();
    stats.labels_drawn = place_labels(
        painter,
        model,
        camera,
        palette,
        &visible,
        detailed_nodes,
        &lines,
        edge_label,
        labels,
    );
    if let Some(i) = hovered.filter(|&i| i < model.len() && model.shown[i]) {
        let centre = camera.to_screen(model.pos[i]);
        let r = camera.node_radius(model.scale[i]);
        painter.circle_stroke(centre, r + 1.5, Stroke::new(1.5, palette.hovered));
        // A node that already has its label keeps it; others show theirs while hovered.
        let labelled = labels.iter().any(|l| l.node == Some(i));
        if !labelled {
            painter.text(
                centre + Vec2::new(0.0, r + 7.0),
                egui::Align2::CENTER_CENTER,
                &model.label[i],
                FontId::proportional(12.0),
                palette.text,
            );
        }
    }
    stats
}

/// Places labels greedily, most important first, where they overlap no label placed before
/// (checked on their rectangles through a screen grid): selected entities, then pinned ones,
/// then by importance (the analysis value, else the lines a node has). The top
/// [`ALWAYS_LABELLED`] get a label at every zoom; when few enough nodes are on screen, every
/// one that fits does. Link labels follow, when few enough links are on screen and a line is
/// long enough. Returns how many labels were drawn.
#[allow(clippy::too_many_arguments)] // reason: one frame's inputs, each distinct
fn place_labels(
    painter: &Painter,
    model: &DisplayModel,
    camera: &Camera,
    palette: &Palette,
    visible: &[usize],
    detailed: bool,
    lines: &[(usize, Pos2, Pos2)],
    edge_label: &dyn Fn(usize) -> Option<String>,
    out: &mut Vec<PlacedLabel>,
) -> usize {
    let importance = |i: usize| model.importance.get(i).copied().unwrap_or(0.0);
    let key = |i: usize| (model.selected[i], model.pinned[i]);
    let before = |a: &usize, b: &usize| {
        key(*b)
            .cmp(&key(*a))
            .then(importance(*b).total_cmp(&importance(*a)))
            .then(a.cmp(b))
    };
    let is_forced = |i: usize| model.selected[i] || model.pinned[i];
    let all = detailed && visible.len() <= MAX_LABELS * 4;
    let mut order: Vec<usize> = if all {
        visible.to_vec()
    } else {
        // Many nodes on screen: the selected and pinned ones, and the top of the rest kept
        // in a short sorted list while scanning once (most nodes fail one comparison with
        // the list's last), which costs far less per frame than sorting or selecting over
        // every visible node.
        let mut forced: Vec<usize> = visible.iter().copied().filter(|&i| is_forced(i)).collect();
        let mut top: Vec<usize> = Vec::with_capacity(ALWAYS_LABELLED + 1);
        for &i in visible {
            if is_forced(i) {
                continue;
            }
            if top.len() == ALWAYS_LABELLED
                && top
                    .last()
                    .is_some_and(|&last| before(&i, &last) != std::cmp::Ordering::Less)
            {
                continue;
            }
            let at = top.partition_point(|k| before(k, &i) == std::cmp::Ordering::Less);
            top.insert(at, i);
            top.truncate(ALWAYS_LABELLED);
        }
        forced.extend(top);
        forced
    };
    let forced = order.iter().filter(|&&i| is_forced(i)).count();
    order.sort_by(before);
    let font = FontId::proportional(11.0);
    let mut grid = LabelGrid::new();
    let screen = camera.rect;
    // When few nodes show, their discs are obstacles too: a label never covers another node.
    if all {
        for &i in visible {
            let centre = camera.to_screen(model.pos[i]);
            let r = camera.node_radius(model.scale[i]);
            grid.block(Rect::from_center_size(centre, Vec2::splat(2.0 * r)));
        }
    }
    for (rank, &i) in order.iter().enumerate() {
        if out.len() >= MAX_LABELS {
            break;
        }
        let text = &model.label[i];
        if text.is_empty() {
            continue;
        }
        let colour = if model.faded[i] {
            fade(palette.text)
        } else {
            palette.text
        };
        let galley = painter.layout_no_wrap(text.clone(), font.clone(), colour);
        let centre = camera.to_screen(model.pos[i]);
        let r = camera.node_radius(model.scale[i]);
        let size = galley.size();
        // Below the node, else above, right, left, then the four corners: the first place
        // no label (or other node) holds yet.
        let (below, above) = (centre.y + r + 2.0, centre.y - r - 2.0 - size.y);
        let (right, left) = (centre.x + r * 0.7, centre.x - r * 0.7 - size.x);
        let candidates = [
            Pos2::new(centre.x - size.x / 2.0, below),
            Pos2::new(centre.x - size.x / 2.0, above),
            Pos2::new(centre.x + r + 3.0, centre.y - size.y / 2.0),
            Pos2::new(centre.x - r - 3.0 - size.x, centre.y - size.y / 2.0),
            Pos2::new(right, below),
            Pos2::new(right, above),
            Pos2::new(left, below),
            Pos2::new(left, above),
        ];
        // The top of the order may cover another node's disc when nothing else is free: a
        // hub hemmed in by its leaves still has its name.
        let must = rank < forced + ALWAYS_LABELLED;
        let place = |grid: &mut LabelGrid, over_discs: bool| {
            candidates
                .into_iter()
                .map(|min| Rect::from_min_size(min, size))
                .find(|&rect| screen.intersects(rect) && grid.try_place(rect, over_discs))
        };
        let Some(rect) =
            place(&mut grid, false).or_else(|| must.then(|| place(&mut grid, true)).flatten())
        else {
            continue;
        };
        painter.galley(rect.min, galley, colour);
        out.push(PlacedLabel {
            text: text.clone(),
            rect,
            node: Some(i),
        });
    }
    if detailed && lines.len() <= LABELLED_LINKS {
        let small = FontId::proportional(10.0);
        for &(k, pa, pb) in lines {
            if out.len() >= MAX_LABELS {
                break;
            }
            if (pb - pa).length() < 90.0 {
                continue;
            }
            let Some(text) = edge_label(k).filter(|t| !t.is_empty()) else {
                continue;
            };
            let e = &model.edges[k];
            let colour = if e.faded {
                fade(palette.text)
            } else {
                palette.text.gamma_multiply(0.8)
            };
            let galley = painter.layout_no_wrap(text.clone(), small.clone(), colour);
            let mid = pa + (pb - pa) * 0.5;
            let rect = Rect::from_center_size(mid, galley.size());
            if !grid.try_place(rect, false) {
                continue;
            }
            painter.rect_filled(
                rect.expand(1.0),
                2.0,
                palette.background.gamma_multiply(0.75),
            );
            painter.galley(rect.min, galley, colour);
            out.push(PlacedLabel {
                text,
                rect,
                node: None,
            });
        }
    }
    out.len()
}

/// Links with their i2 styles: confirmed solid, tentative dashed, unconfirmed dotted; arrows
/// on directed links; a count on summarised lines; parallel lines side by side.
fn draw_detailed_links(
    painter: &Painter,
    model: &DisplayModel,
    camera: &Camera,
    palette: &Palette,
    lines: &[(usize, Pos2, Pos2)],
    counts: bool,
) {
    for &(k, pa, pb) in lines {
        let e = &model.edges[k];
        let d = pb - pa;
        let len = d.length();
        let dir = d / len;
        let normal = Vec2::new(-dir.y, dir.x);
        let offset = normal * (f32::from(e.lane) * 7.0);
        let (ra, rb) = (
            camera.node_radius(model.scale[e.a as usize]),
            camera.node_radius(model.scale[e.b as usize]),
        );
        let start = pa + offset + dir * ra;
        let end = pb + offset - dir * rb;
        if (end - start).dot(dir) <= 0.0 {
            continue;
        }
        let base = match e.kind {
            EdgeKind::Link => palette.link,
            EdgeKind::Event => palette.event_link,
        };
        let colour = if e.faded { fade(base) } else { base };
        let width = match e.kind {
            EdgeKind::Link => 1.4,
            // Summarised events get thicker with their count, as in i2's "multiplicity".
            EdgeKind::Event => (1.0 + (e.count as f32).log2() * 0.6).min(5.0),
        };
        let stroke = Stroke::new(width, colour);
        match e.strength {
            LinkStrength::Confirmed => {
                painter.line_segment([start, end], stroke);
            }
            LinkStrength::Tentative => {
                painter.extend(Shape::dashed_line(&[start, end], stroke, 7.0, 4.0));
            }
            LinkStrength::Unconfirmed => {
                painter.extend(Shape::dotted_line(&[start, end], colour, 4.0, width * 0.8));
            }
        }
        if e.directed {
            let tip = end;
            let back = tip - dir * 9.0;
            painter.add(Shape::convex_polygon(
                vec![tip, back + normal * 4.0, back - normal * 4.0],
                colour,
                Stroke::NONE,
            ));
        }
        if counts && e.count > 1 {
            painter.text(
                start + (end - start) * 0.5 + normal * 7.0,
                egui::Align2::CENTER_CENTER,
                format!("×{}", e.count),
                FontId::proportional(10.0),
                if e.faded {
                    fade(palette.text)
                } else {
                    palette.text
                },
            );
        }
    }
}
