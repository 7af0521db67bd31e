//! The display model of the chart: one entry per entity and collection (position, colour,
//! size, icon, label, faded/selected/pinned flags) and one line per link, per summarised group
//! of parallel links, or per pair of entities with calls or payments. Rebuilt only when the
//! case, the chart, the style, the filters, the time filter or the analysis result change;
//! per frame only the selection flags are refreshed. The parts that depend only on the case
//! and the chart (its *structure*) are kept while those are unchanged. Picking and box
//! selection go through a uniform grid over the positions.

use super::chart::Chart;
use super::draw::{DisplayEdge, DisplayModel, EdgeKind};
use super::icons;
use super::placement::Placement;
use super::style::{
    ColourBy, GraphStyle, category_colour, community_colour, gradient, reliability_colour,
    type_colour,
};
use crate::model::{EntityId, ItemRef, LinkStrength, ParticipantRole};
use crate::store::CaseSnapshot;
use crate::ui::ViewState;
use egui::{Color32, Pos2, Rect};
use std::collections::HashMap;
use std::sync::Arc;

const GRID_CELL: f32 = 24.0;
/// Event types drawn as lines between their participants when the user asks for it.
const EVENT_LINK_TYPES: [&str; 3] = ["Call", "Message", "Transaction"];

/// "No display node": a hidden entity, or a link or event end that is not an entity.
pub(super) const NO_NODE: u32 = u32::MAX;

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
    /// The amount of each payment (NaN for other events and payments without one), read once
    /// per generation for the sums on payment lines.
    amount: Vec<f32>,
    /// Whether each event is a payment (a `Transaction`).
    payment: Vec<bool>,
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
        let mut amount = Vec::with_capacity(case.events.len());
        let mut payment = Vec::with_capacity(case.events.len());
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
            payment.push(ev.event_type == "Transaction");
            amount.push(if ev.event_type == "Transaction" {
                ev.attributes
                    .iter()
                    .find(|a| a.property == "amount")
                    .and_then(|a| a.value.trim().replace(',', "").parse::<f32>().ok())
                    .unwrap_or(f32::NAN)
            } else {
                f32::NAN
            });
        }
        event_offsets.push(event_nodes.len() as u32);
        CaseIndex {
            link_ends,
            events_by_time,
            event_offsets,
            event_nodes,
            has_events,
            event_line,
            amount,
            payment,
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

/// Everything the display model depends on.
#[derive(Debug, Clone, PartialEq)]
struct ModelKey {
    generation: u64,
    chart_revision: u64,
    style: GraphStyle,
    filters: crate::ui::Filters,
    time_filter: Option<(i64, i64)>,
    analysis: Option<usize>,
}

/// What the display model is built from.
#[derive(Clone, Copy)]
pub(super) struct Inputs<'a> {
    pub case: &'a CaseSnapshot,
    pub view: &'a ViewState,
    pub chart: &'a Chart,
    pub placement: &'a Placement,
    pub style: &'a GraphStyle,
}

/// What an event line stands for: calls and messages, and payments with their sum.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EventLine {
    pub calls: u32,
    pub payments: u32,
    pub sum: f64,
}

/// Grey for the communities beyond the coloured ones.
const OTHER_GREY: Color32 = Color32::from_gray(150);

/// The colour rank of each community of a result: the largest among the shown entities
/// first (ties by number), for as many as the palette has distinct colours.
fn community_ranks(
    case: &CaseSnapshot,
    a: &crate::ui::analysis::AnalysisColumn,
    shown: impl Fn(usize) -> bool,
) -> HashMap<u32, u32> {
    let mut sizes: HashMap<u32, usize> = HashMap::new();
    for (i, e) in case.entities.iter().enumerate() {
        if shown(i)
            && let Some(&v) = a.values.get(&e.id)
        {
            *sizes.entry(v as u32).or_default() += 1;
        }
    }
    let mut order: Vec<(u32, usize)> = sizes.into_iter().collect();
    order.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    order
        .into_iter()
        .take(super::style::DISTINCT_COLOURS)
        .enumerate()
        .map(|(rank, (c, _))| (c, rank as u32))
        .collect()
}

/// How a legend entry sorts: named classes alphabetically, numbered ones by their number
/// (so community 2 comes before community 10), the catch-all classes last.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum LegendKey {
    Text(String),
    Number(String, i64),
    Last(String),
}

impl LegendKey {
    fn text(s: &str) -> LegendKey {
        LegendKey::Text(s.to_string())
    }
    fn number(prefix: &str, n: i64) -> LegendKey {
        LegendKey::Number(prefix.to_string(), n)
    }
    fn last(s: &str) -> LegendKey {
        LegendKey::Last(s.to_string())
    }
    fn label(&self) -> String {
        match self {
            LegendKey::Text(s) | LegendKey::Last(s) => s.clone(),
            LegendKey::Number(p, n) => format!("{p} {n}"),
        }
    }
}

/// One class of the legend: its colour and how many shown entities are in it.
#[derive(Debug, Clone, PartialEq)]
pub struct LegendEntry {
    pub label: String,
    pub colour: Color32,
    pub count: usize,
}

/// What the legend shows: the classes in their order, or the range of a continuous value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Legend {
    pub title: String,
    pub entries: Vec<LegendEntry>,
    /// (name, lowest, highest) when the colour is a continuous analysis value.
    pub range: Option<(String, f64, f64)>,
}

impl Legend {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.range.is_none()
    }
}

/// Counts entities per legend class while the colours are computed: keyed by the class's
/// kind and borrowed text (or number), so that counting a hundred thousand entities allocates
/// nothing per entity.
#[derive(Default)]
struct LegendBuilder<'a> {
    /// Few classes (the types, the coloured communities and "other", the grades): a short
    /// list searched linearly, from the last class found, is cheaper than hashing each entity.
    counts: Vec<(ClassRef<'a>, Color32, usize)>,
    last: usize,
}

/// A legend class as counted: its kind (0 named, 1 numbered, 2 catch-all), its text and number.
type ClassRef<'a> = (u8, &'a str, i64);

impl<'a> LegendBuilder<'a> {
    fn count(&mut self, key: ClassRef<'a>, colour: Color32) {
        if let Some(entry) = self.counts.get_mut(self.last)
            && entry.0 == key
        {
            entry.2 += 1;
            return;
        }
        match self.counts.iter().position(|e| e.0 == key) {
            Some(k) => {
                self.counts[k].2 += 1;
                self.last = k;
            }
            None => {
                self.last = self.counts.len();
                self.counts.push((key, colour, 1));
            }
        }
    }

    fn finish(self, by: ColourBy, range: Option<(String, f64, f64)>, coloured: usize) -> Legend {
        let classes: std::collections::BTreeMap<LegendKey, (Color32, usize)> = self
            .counts
            .into_iter()
            .map(|((kind, text, n), colour, count)| {
                let v = (colour, count);
                let key = match kind {
                    0 => LegendKey::text(text),
                    1 => LegendKey::number(text, n),
                    _ => LegendKey::last(text),
                };
                (key, v)
            })
            .collect();
        let title = match by {
            ColourBy::Community if coloured >= super::style::DISTINCT_COLOURS => {
                format!("{} (the {coloured} largest coloured)", by.label())
            }
            _ => by.label().to_string(),
        };
        Legend {
            title,
            entries: classes
                .into_iter()
                .map(|(k, (colour, count))| LegendEntry {
                    label: k.label(),
                    colour,
                    count,
                })
                .collect(),
            range,
        }
    }
}

/// The display model and what it is kept with.
#[derive(Debug, Default)]
pub struct Display {
    pub model: DisplayModel,
    /// What the display model was built from; rebuilt when it changes.
    key: Option<ModelKey>,
    /// The case as node indices, for the current generation.
    index: CaseIndex,
    /// The display node of each entity (`NO_NODE` when hidden).
    rep: Vec<u32>,
    link_groups: LinkGroups,
    /// (case generation, chart revision, summarised parallel links) that `rep`,
    /// `link_groups` and the model's labels, icons, pins and shown flags were built for.
    structure_key: Option<(u64, u64, bool)>,
    grid: HashMap<(i32, i32), Vec<u32>>,
    /// The picking grid no longer matches the positions.
    grid_stale: bool,
    pub legend: Legend,
    /// What each event line of the model stands for (after the link lines).
    event_lines: Vec<EventLine>,
}

impl Display {
    /// The case changed generation: index it again and rebuild everything next time.
    pub(super) fn reindex(&mut self, case: &CaseSnapshot, index_of: &HashMap<EntityId, usize>) {
        self.index = CaseIndex::build(case, index_of);
        self.key = None;
        self.structure_key = None;
    }

    /// Forgets the structure, so that the next build makes it anew as after a chart change
    /// (the benchmark's "case or chart changed").
    pub(super) fn forget_structure(&mut self) {
        self.structure_key = None;
    }

    /// Entity positions changed outside a layout stream: rebuild the model and its picking
    /// grid on the next frame.
    pub(super) fn positions_moved(&mut self) {
        self.key = None;
        self.grid_stale = true;
    }

    /// The label of line `k` of the model: the link's type (or its own label), with the count
    /// of a summarised group; for calls and payments, their counts and the payments' sum.
    pub fn edge_label(&self, case: &CaseSnapshot, k: usize) -> Option<String> {
        let groups = &self.link_groups;
        if k < groups.edges.len() {
            let (lo, hi) = groups.edge_links[k];
            let link = &case.links[*groups.links.get(lo as usize)? as usize];
            let name = link.label.clone().unwrap_or_else(|| link.link_type.clone());
            let n = hi - lo;
            return Some(if n > 1 {
                format!("{n} × {name}")
            } else {
                name
            });
        }
        let line = self.event_lines.get(k - groups.edges.len())?;
        let mut parts = Vec::new();
        if line.calls > 0 {
            parts.push(format!(
                "{} call{}",
                line.calls,
                if line.calls == 1 { "" } else { "s" }
            ));
        }
        if line.payments > 0 {
            parts.push(format!(
                "{} payment{} {:.0}",
                line.payments,
                if line.payments == 1 { "" } else { "s" },
                line.sum
            ));
        }
        Some(parts.join(" · "))
    }

    /// How many entities (not collections) the last build shows.
    pub(super) fn shown_entities(&self, entities: usize) -> usize {
        self.model
            .shown
            .iter()
            .take(entities)
            .filter(|s| **s)
            .count()
    }

    /// Copies entity and collection positions into the display model and re-indexes them.
    pub(super) fn refresh_positions(&mut self, placement: &Placement, chart: &Chart) {
        let n = placement.positions.len();
        if self.model.pos.len() < n {
            return;
        }
        self.model.pos[..n].copy_from_slice(&placement.positions);
        for (k, c) in chart.state.collections.iter().enumerate() {
            if let Some(p) = self.model.pos.get_mut(n + k) {
                *p = c.position;
            }
        }
        self.rebuild_grid();
    }

    pub(super) fn rebuild_grid(&mut self) {
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
    pub(super) fn pick(&self, world: [f32; 2], radius: f32) -> Option<usize> {
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
    pub(super) fn nodes_in(&self, world: Rect) -> Vec<usize> {
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

    /// Rebuilds the display model if anything it depends on changed.
    pub(super) fn ensure(&mut self, inputs: &Inputs<'_>) {
        let Inputs {
            case,
            view,
            chart,
            placement,
            ..
        } = *inputs;
        let key = ModelKey {
            generation: case.generation,
            chart_revision: chart.revision,
            style: *inputs.style,
            filters: view.filters.clone(),
            time_filter: view.time_filter,
            analysis: view
                .analysis_column
                .as_ref()
                .map(|a| Arc::as_ptr(a) as usize),
        };
        if self.key.as_ref() != Some(&key) {
            self.build_model(inputs);
            self.key = Some(key);
        }
        // Selection changes every click; it is cheap to refresh every frame.
        self.model.selected.iter_mut().for_each(|s| *s = false);
        for item in &view.selection {
            if let ItemRef::Entity(e) = item
                && let Some(&i) = placement.index_of.get(e)
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
    pub(super) fn build_model(&mut self, inputs: &Inputs<'_>) {
        let Inputs {
            case,
            view,
            chart,
            placement,
            style,
        } = *inputs;
        let n = case.entities.len();
        let structure_key = (case.generation, chart.revision, style.summarise_parallel);
        let same_structure = self.structure_key == Some(structure_key)
            && self.model.label.len() == n + chart.state.collections.len();
        if !same_structure {
            self.build_structure(inputs);
            self.structure_key = Some(structure_key);
        }
        let state = &chart.state;
        let c = state.collections.len();
        let rep = &self.rep;
        let index = &self.index;

        // Entity filters and time activity decide what is drawn faded.
        let f = &view.filters;
        let grade = f.grade(case);
        let filtering = *f != crate::ui::Filters::default();
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
                .filter_map(|m| placement.index_of.get(m))
                .all(|&i| faded[i]);
            faded.push(all);
        }

        // Colours, sizes and the legend (counted over what the chart shows).
        let analysis = view.analysis_column.as_deref();
        let shown_now = &self.model.shown;
        let is_shown = |i: usize| shown_now.get(i).copied().unwrap_or(true);
        let values = analysis.map(|a| {
            case.entities
                .iter()
                .enumerate()
                .filter(|&(i, _)| is_shown(i))
                .filter_map(|(_, e)| a.values.get(&e.id).copied())
                .collect::<Vec<f64>>()
        });
        let max_value = values
            .as_ref()
            .map(|v| v.iter().copied().fold(0.0f64, f64::max))
            .unwrap_or(0.0);
        let min_value = values
            .as_ref()
            .map(|v| v.iter().copied().fold(f64::MAX, f64::min))
            .unwrap_or(0.0);
        let ranks = match (style.colour_by, analysis) {
            (ColourBy::Community, Some(a)) if a.communities => community_ranks(case, a, is_shown),
            _ => HashMap::new(),
        };
        let mut legend = LegendBuilder::default();
        let mut colour = Vec::with_capacity(n + c);
        for (i, e) in case.entities.iter().enumerate() {
            let counted = is_shown(i);
            let value = analysis.and_then(|a| a.values.get(&e.id).copied());
            let (col, class) = match style.colour_by {
                _ if e.restricted => (Color32::GRAY, Some((0, "restricted", 0))),
                ColourBy::Type => {
                    let col = type_colour(&e.entity_type);
                    (col, Some((0, e.entity_type.as_str(), 0)))
                }
                ColourBy::Community => match value {
                    Some(v) if analysis.is_some_and(|a| a.communities) => {
                        let community = v as u32;
                        match ranks.get(&community) {
                            Some(&rank) => (
                                community_colour(rank),
                                Some((1, "community", i64::from(community))),
                            ),
                            None => (OTHER_GREY, Some((2, "other communities", 0))),
                        }
                    }
                    _ => (Color32::from_gray(140), Some((0, "no community result", 0))),
                },
                ColourBy::AnalysisValue => match value {
                    Some(v) => {
                        let t = if max_value > min_value {
                            ((v - min_value) / (max_value - min_value)) as f32
                        } else {
                            1.0
                        };
                        (gradient(t), None)
                    }
                    None => (Color32::from_gray(140), Some((2, "no value", 0))),
                },
                ColourBy::Grade => {
                    let letter = e
                        .grading
                        .as_ref()
                        .and_then(|g| g.source.as_deref())
                        .and_then(|s| s.chars().next());
                    let (name, col) = reliability_colour(letter);
                    (col, Some((0, name, 0)))
                }
                ColourBy::PersonCategory => {
                    let (name, col) = category_colour(e.category);
                    (col, Some((0, name, 0)))
                }
            };
            if counted && let Some(class) = class {
                legend.count(class, col);
            }
            colour.push(col);
        }
        for col in &state.collections {
            colour.push(
                col.entity_type
                    .as_deref()
                    .map_or(Color32::from_gray(150), type_colour),
            );
        }
        let range = (style.colour_by == ColourBy::AnalysisValue).then(|| {
            (
                analysis.map_or("no analysis result".to_string(), |a| a.name.clone()),
                min_value.min(max_value),
                max_value,
            )
        });
        self.legend = legend.finish(style.colour_by, range, ranks.len());
        let scale: Vec<f32> = case
            .entities
            .iter()
            .map(|e| match analysis {
                Some(a) if style.size_by_analysis && !a.communities && max_value > 0.0 => {
                    // Area grows with the value: the largest is three times as wide.
                    let t = (a.values.get(&e.id).copied().unwrap_or(0.0) / max_value).max(0.0);
                    1.0 + 2.0 * (t as f32).sqrt()
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
        let mut event_lines: Vec<EventLine> = Vec::new();
        if style.show_events {
            let mut pairs: Vec<(u32, u32, u32)> = Vec::new();
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
                pairs.push((ra.min(rb), ra.max(rb), k));
            }
            pairs.sort_unstable();
            for run in pairs.chunk_by(|x, y| (x.0, x.1) == (y.0, y.1)) {
                let (a, b, _) = run[0];
                let mut line = EventLine::default();
                for &(_, _, k) in run {
                    let amount = index.amount[k as usize];
                    if index.payment[k as usize] {
                        line.payments += 1;
                        if amount.is_finite() {
                            line.sum += f64::from(amount);
                        }
                    } else {
                        line.calls += 1;
                    }
                }
                event_lines.push(line);
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

        // Which labels matter most: the analysis value when there is one, else the lines a
        // node has on the chart.
        let importance: Vec<f32> = match analysis {
            Some(a) if !a.communities => case
                .entities
                .iter()
                .map(|e| a.values.get(&e.id).copied().unwrap_or(0.0) as f32)
                .chain(std::iter::repeat_n(0.0, c))
                .collect(),
            _ => {
                let mut degree = vec![0.0f32; n + c];
                for e in &edges {
                    degree[e.a as usize] += 1.0;
                    degree[e.b as usize] += 1.0;
                }
                degree
            }
        };
        self.event_lines = event_lines;
        let mut pos = placement.positions.clone();
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
            importance,
            edges,
        };
        if !same_structure || self.grid_stale {
            self.rebuild_grid();
        }
    }

    /// The parts of the display model that depend only on the case and the chart: which
    /// display node stands for each entity (itself, its collection, or none when hidden),
    /// what is shown, labels, icons, pins, and the links grouped per pair of display nodes.
    fn build_structure(&mut self, inputs: &Inputs<'_>) {
        let Inputs {
            case,
            chart,
            placement,
            style,
            ..
        } = *inputs;
        let summarise = style.summarise_parallel;
        let n = case.entities.len();
        let state = &chart.state;
        let c = state.collections.len();
        let (mut rep, mut shown): (Vec<u32>, Vec<bool>) = match &state.on_chart {
            None => ((0..n as u32).collect(), vec![true; n + c]),
            // A working set: only its entities have a display node.
            Some(set) => {
                let mut rep = vec![NO_NODE; n];
                let mut shown = vec![false; n + c];
                shown[n..].iter_mut().for_each(|s| *s = true);
                for e in set {
                    if let Some(&i) = placement.index_of.get(e) {
                        rep[i] = i as u32;
                        shown[i] = true;
                    }
                }
                (rep, shown)
            }
        };
        for e in &state.hidden {
            if let Some(&i) = placement.index_of.get(e) {
                rep[i] = NO_NODE;
                shown[i] = false;
            }
        }
        for (k, col) in state.collections.iter().enumerate() {
            for m in &col.members {
                if let Some(&i) = placement.index_of.get(m) {
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
}
