//! The chart as an SVG drawing, without the window: entities where the chart saved with the
//! case put them (`layout::chart::SavedChartParts`), and the ones it never placed laid out
//! around them by the force layout with the placed ones pinned, so a report drawn headless
//! shows the chart the analyst arranged. Print theme (white page, dark ink), i2's link styles
//! (confirmed solid, tentative dashed, unconfirmed dotted, arrows on directed links), events
//! drawn as one grey line per pair of participants with their count, a colour per entity
//! type and a legend. The SVG carries no namespace URL and no external reference, so it can
//! sit inline in a self-contained HTML file.

use super::html::escape;
use crate::jobs::{CancelToken, NoProgress};
use crate::layout::chart::{Algorithm, ChartLayout, SavedChartParts};
use crate::layout::{ForceSettings, LayoutGraph};
use crate::model::{Entity, EntityId, Event, Link, LinkStrength};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

/// Above this many entities the drawing keeps the best connected ones (and says so): a printed
/// page cannot show more, and the SVG stays a few megabytes at most.
pub const MAX_CHART_ENTITIES: usize = 3000;
/// Labels drawn at most, best connected first; more would overprint each other on a page.
const MAX_LABELS: usize = 80;
/// The drawing's width in SVG units; the height follows the chart's shape.
const WIDTH: f32 = 1000.0;
/// The legend's column on the right, beside the chart rather than over it.
const LEGEND_X: f32 = 830.0;
/// Force layout iterations for entities the saved chart never placed.
const LAYOUT_ITERATIONS: usize = 400;

/// Colours for entity types, dark enough to print on white and distinct from each other.
pub(super) const TYPE_COLOURS: &[&str] = &[
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
    "#7f7f7f", "#bcbd22", "#393b79", "#843c39",
];

/// What the chart drawing shows and how it was placed, for the report's method section.
pub struct ChartDrawing {
    pub svg: String,
    pub drawn: usize,
    pub left_out: usize,
    /// Links drawn (both ends drawn).
    pub links: usize,
    /// Lines drawn for events, one per pair of participants.
    pub event_lines: usize,
    /// Entities that had a position in the saved chart.
    pub from_saved: usize,
    /// Entities the report placed itself (force layout, saved ones pinned).
    pub laid_out: usize,
}

/// Draws `entities` with the `links` and `events` among them. `saved` is the chart saved
/// with the case, if any (its JSON).
pub fn draw_chart(
    entities: &[&Entity],
    links: &[&Link],
    events: &[&Event],
    saved: Option<&str>,
    title: &str,
) -> ChartDrawing {
    // Degree over links and events: which entities to keep and to label first.
    let mut degree: HashMap<EntityId, usize> = HashMap::new();
    for l in links {
        *degree.entry(l.source).or_default() += 1;
        *degree.entry(l.target).or_default() += 1;
    }
    for ev in events {
        for p in &ev.participants {
            *degree.entry(p.entity).or_default() += 1;
        }
    }
    let mut order: Vec<&Entity> = entities.to_vec();
    order.sort_by(|a, b| {
        degree
            .get(&b.id)
            .unwrap_or(&0)
            .cmp(degree.get(&a.id).unwrap_or(&0))
            .then(a.id.cmp(&b.id))
    });
    let left_out = order.len().saturating_sub(MAX_CHART_ENTITIES);
    order.truncate(MAX_CHART_ENTITIES);
    let index: HashMap<EntityId, usize> =
        order.iter().enumerate().map(|(i, e)| (e.id, i)).collect();

    // Lines: links as they are, events folded per pair of participants.
    let shown_links: Vec<(usize, usize, &Link)> = links
        .iter()
        .filter_map(|l| Some((*index.get(&l.source)?, *index.get(&l.target)?, *l)))
        .filter(|(a, b, _)| a != b)
        .collect();
    let mut event_pairs: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for ev in events {
        let ends: Vec<usize> = ev
            .participants
            .iter()
            .filter_map(|p| index.get(&p.entity).copied())
            .collect();
        if let [a, b, ..] = ends[..]
            && a != b
        {
            *event_pairs.entry((a.min(b), a.max(b))).or_default() += 1;
        }
    }

    let positions = place(&order, &shown_links, &event_pairs, saved);
    let from_saved = positions.1;
    let positions = positions.0;

    // Fit the positions into the drawing, keeping their proportions.
    let (mut min, mut max) = ([f32::MAX; 2], [f32::MIN; 2]);
    for p in &positions {
        for k in 0..2 {
            min[k] = min[k].min(p[k]);
            max[k] = max[k].max(p[k]);
        }
    }
    if positions.is_empty() {
        (min, max) = ([0.0; 2], [1.0; 2]);
    }
    let span = [(max[0] - min[0]).max(1.0), (max[1] - min[1]).max(1.0)];
    let margin = 40.0;
    let scale = (LEGEND_X - 2.0 * margin) / span[0];
    let height = (span[1] * scale + 2.0 * margin).clamp(300.0, 1400.0);
    let scale = scale.min((height - 2.0 * margin) / span[1]);
    let at = |i: usize| -> (f32, f32) {
        let p = positions[i];
        (
            margin + (p[0] - min[0]) * scale,
            margin + (p[1] - min[1]) * scale,
        )
    };

    let colours = type_colours(&order);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r##"<svg id="chart-svg" role="img" viewBox="0 0 {WIDTH:.0} {height:.0}" width="100%" font-family="sans-serif">
<title>{}</title>
<defs><marker id="chart-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker></defs>
<rect width="100%" height="100%" fill="#ffffff"/>"##,
        escape(title)
    );
    out.push_str("<g id=\"chart-events\" stroke=\"#b0b0b0\" fill=\"#777\" font-size=\"8\">\n");
    for (&(a, b), &count) in &event_pairs {
        let ((x1, y1), (x2, y2)) = (at(a), at(b));
        let width = (1.0 + (count as f32).ln()).min(4.0);
        let _ = writeln!(
            out,
            r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke-width="{width:.1}"/>"#
        );
        if count > 1 {
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{:.1}" stroke="none" text-anchor="middle">×{count}</text>"#,
                (x1 + x2) / 2.0,
                (y1 + y2) / 2.0 - 2.0
            );
        }
    }
    out.push_str("</g>\n<g id=\"chart-links\" stroke=\"#444\" stroke-width=\"1.2\">\n");
    for (a, b, l) in &shown_links {
        let ((x1, y1), (x2, y2)) = (at(*a), at(*b));
        let dash = match l.strength {
            LinkStrength::Confirmed => "",
            LinkStrength::Tentative => r#" stroke-dasharray="6 3""#,
            LinkStrength::Unconfirmed => r#" stroke-dasharray="1.5 3""#,
        };
        let arrow = if l.directed {
            r#" marker-end="url(#chart-arrow)""#
        } else {
            ""
        };
        let _ = writeln!(
            out,
            r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}"{dash}{arrow}><title>{} {} {} {}</title></line>"#,
            l.id,
            escape(&l.link_type),
            l.source,
            l.target
        );
    }
    out.push_str("</g>\n<g id=\"chart-entities\" stroke=\"#ffffff\" stroke-width=\"1\">\n");
    for (i, e) in order.iter().enumerate() {
        let (x, y) = at(i);
        let colour = colours
            .get(e.entity_type.as_str())
            .copied()
            .unwrap_or("#7f7f7f");
        let _ = writeln!(
            out,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="5" fill="{colour}"><title>{} {} ({})</title></circle>"#,
            e.id,
            escape(&e.label),
            escape(&e.entity_type)
        );
    }
    // A white halo under each label keeps it legible over lines when printed.
    out.push_str("</g>\n<g id=\"chart-labels\" font-size=\"9\" fill=\"#111\" stroke=\"#ffffff\" stroke-width=\"2.5\" paint-order=\"stroke\">\n");
    // Labels best connected first, each right of its node (or left, near the legend), and
    // only where it overprints no label already placed.
    let mut placed: Vec<[f32; 4]> = Vec::new();
    for (i, e) in order.iter().enumerate() {
        if placed.len() >= MAX_LABELS {
            break;
        }
        let (x, y) = at(i);
        let text = shorten(&e.label, 28);
        let w = 5.6 * text.chars().count() as f32;
        let candidates = [(x + 7.0, "start", x + 7.0), (x - 7.0, "end", x - 7.0 - w)];
        let free = candidates.into_iter().find(|&(_, _, left)| {
            let b = [left, y - 7.0, left + w, y + 4.0];
            b[0] >= 0.0
                && b[2] <= LEGEND_X
                && !placed
                    .iter()
                    .any(|p| b[0] < p[2] && p[0] < b[2] && b[1] < p[3] && p[1] < b[3])
        });
        if let Some((tx, anchor, left)) = free {
            placed.push([left, y - 7.0, left + w, y + 4.0]);
            let _ = writeln!(
                out,
                r#"<text x="{tx:.1}" y="{:.1}" text-anchor="{anchor}">{}</text>"#,
                y + 3.0,
                escape(&text)
            );
        }
    }
    out.push_str("</g>\n");
    legend(&mut out, &order, &colours, height);
    out.push_str("</svg>\n");
    ChartDrawing {
        svg: out,
        drawn: order.len(),
        left_out,
        links: shown_links.len(),
        event_lines: event_pairs.len(),
        from_saved,
        laid_out: order.len() - from_saved,
    }
}

/// The entities the chart shows: without a selection of the report's own, the working set of
/// the chart saved with the case (on the chart and not hidden) when it has one, as the analyst
/// arranged it; otherwise all of `entities`. Returns them and what they are, in words.
pub fn chart_entities<'a>(
    entities: &[&'a Entity],
    saved: Option<&str>,
    selected: bool,
) -> (Vec<&'a Entity>, &'static str) {
    let parts = saved.and_then(|json| SavedChartParts::parse(json).ok());
    match parts {
        Some(parts) if !selected && (parts.on_chart.is_some() || !parts.hidden.is_empty()) => {
            let on: Option<std::collections::HashSet<i64>> =
                parts.on_chart.as_ref().map(|s| s.iter().copied().collect());
            let hidden: std::collections::HashSet<i64> = parts.hidden.iter().copied().collect();
            let shown = entities
                .iter()
                .filter(|e| on.as_ref().is_none_or(|s| s.contains(&e.id.0)))
                .filter(|e| !hidden.contains(&e.id.0))
                .copied()
                .collect();
            (
                shown,
                "the working set of the chart saved with the case, without its hidden entities",
            )
        }
        _ if selected => (entities.to_vec(), "the selected entities"),
        _ => (entities.to_vec(), "every entity of the report"),
    }
}

/// One colour per entity type, in name order, so a type keeps its colour across a report.
pub(super) fn type_colours<'a>(entities: &[&'a Entity]) -> BTreeMap<&'a str, &'static str> {
    let mut types: Vec<&str> = entities.iter().map(|e| e.entity_type.as_str()).collect();
    types.sort_unstable();
    types.dedup();
    types
        .into_iter()
        .enumerate()
        .map(|(i, t)| (t, TYPE_COLOURS[i % TYPE_COLOURS.len()]))
        .collect()
}

/// The legend in the lower left corner: entity types with their counts, then the line styles.
fn legend(out: &mut String, order: &[&Entity], colours: &BTreeMap<&str, &str>, height: f32) {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for e in order {
        *counts.entry(e.entity_type.as_str()).or_default() += 1;
    }
    let lines = [
        ("confirmed link", ""),
        ("tentative link", r#" stroke-dasharray="6 3""#),
        ("unconfirmed link", r#" stroke-dasharray="1.5 3""#),
    ];
    let rows = counts.len() + lines.len() + 1;
    let top = (height - 14.0 * rows as f32 - 12.0).min(30.0);
    let _ = writeln!(
        out,
        r##"<g id="chart-legend" font-size="9" fill="#111"><rect x="{LEGEND_X}" y="{:.1}" width="168" height="{:.1}" fill="#ffffff" fill-opacity="0.9" stroke="#999"/>"##,
        top - 8.0,
        14.0 * rows as f32 + 12.0
    );
    let mut y = top + 4.0;
    for (t, n) in &counts {
        let colour = colours.get(t).copied().unwrap_or("#7f7f7f");
        let _ = writeln!(
            out,
            r#"<circle cx="{:.1}" cy="{y:.1}" r="4" fill="{colour}"/><text x="{:.1}" y="{:.1}">{} ({n})</text>"#,
            LEGEND_X + 10.0,
            LEGEND_X + 20.0,
            y + 3.0,
            escape(t)
        );
        y += 14.0;
    }
    for (name, dash) in lines {
        let _ = writeln!(
            out,
            r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#444" stroke-width="1.2"{dash}/><text x="{:.1}" y="{:.1}">{name}</text>"##,
            LEGEND_X + 4.0,
            LEGEND_X + 16.0,
            LEGEND_X + 20.0,
            y + 3.0
        );
        y += 14.0;
    }
    let _ = writeln!(
        out,
        r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#b0b0b0" stroke-width="2"/><text x="{:.1}" y="{:.1}">events between two (×count)</text></g>"##,
        LEGEND_X + 4.0,
        LEGEND_X + 16.0,
        LEGEND_X + 20.0,
        y + 3.0
    );
}

/// Positions for `order`: the saved ones, and a force layout (saved ones pinned) for the
/// rest. Returns the positions and how many came from the saved chart.
fn place(
    order: &[&Entity],
    links: &[(usize, usize, &Link)],
    event_pairs: &BTreeMap<(usize, usize), usize>,
    saved: Option<&str>,
) -> (Vec<[f32; 2]>, usize) {
    // A saved chart that cannot be read is ignored: the drawing is then laid out whole, and
    // the method section says how many positions came from the saved chart.
    let saved = saved
        .and_then(|json| SavedChartParts::parse(json).ok())
        .map(|p| p.position_map())
        .unwrap_or_default();
    let fresh = crate::layout::starting_positions(order.len(), None);
    let start: Vec<[f32; 2]> = order
        .iter()
        .enumerate()
        .map(|(i, e)| saved.get(&e.id).copied().unwrap_or(fresh[i]))
        .collect();
    let pinned: Vec<bool> = order.iter().map(|e| saved.contains_key(&e.id)).collect();
    let from_saved = pinned.iter().filter(|p| **p).count();
    if from_saved == order.len() {
        return (start, from_saved);
    }
    let mut edges: Vec<(u32, u32)> = links
        .iter()
        .map(|(a, b, _)| (*a as u32, *b as u32))
        .collect();
    edges.extend(event_pairs.keys().map(|&(a, b)| (a as u32, b as u32)));
    let directed = vec![false; edges.len()];
    let graph = LayoutGraph {
        node_count: order.len(),
        edges,
    };
    let layout = ChartLayout {
        algorithm: Algorithm::Force,
        settings: ForceSettings::default(),
        graph,
        directed,
        nodes: (0..order.len() as u32).collect(),
        start: start.clone(),
        pinned,
        groups: vec![0; order.len()],
        iterations: LAYOUT_ITERATIONS,
    };
    // The token is never cancelled, so the layout runs to its end; were it to fail anyway the
    // starting positions (saved ones, then a spiral) still give a readable drawing.
    let placed = layout
        .run(&CancelToken::new(), &NoProgress, &|_| {})
        .unwrap_or(start);
    (placed, from_saved)
}

/// `text` cut to `max` characters with an ellipsis.
pub(super) fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LinkId, Provenance};

    fn entity(id: i64, kind: &str, label: &str) -> Entity {
        Entity {
            id: EntityId(id),
            entity_type: kind.into(),
            label: label.into(),
            source_id: None,
            category: None,
            restricted: false,
            provenance: Provenance::manual(),
            grading: None,
            attributes: Vec::new(),
            review_date: None,
            notes: Vec::new(),
        }
    }

    fn link(id: i64, a: i64, b: i64, strength: LinkStrength) -> Link {
        Link {
            id: LinkId(id),
            link_type: "knows".into(),
            source: EntityId(a),
            target: EntityId(b),
            directed: true,
            strength,
            weight: None,
            label: None,
            source_id: None,
            restricted: false,
            provenance: Provenance::manual(),
            grading: None,
            attributes: Vec::new(),
            review_date: None,
            notes: Vec::new(),
        }
    }

    #[test]
    fn saved_positions_are_kept_and_the_rest_is_laid_out() {
        let (a, b, c) = (
            entity(1, "Person", "Alice <A&B>"),
            entity(2, "Phone", "+44 1"),
            entity(3, "Person", "Carol"),
        );
        let l1 = link(1, 1, 2, LinkStrength::Tentative);
        let l2 = link(2, 3, 2, LinkStrength::Confirmed);
        let saved = r#"{"positions":[[1,0.0,0.0],[2,100.0,50.0]]}"#;
        let d = draw_chart(&[&a, &b, &c], &[&l1, &l2], &[], Some(saved), "Op <X>");
        assert_eq!(
            (d.drawn, d.from_saved, d.laid_out, d.left_out),
            (3, 2, 1, 0)
        );
        assert!(d.svg.starts_with("<svg id=\"chart-svg\""));
        assert!(
            d.svg.contains("Alice &lt;A&amp;B&gt;"),
            "labels are escaped"
        );
        assert!(
            d.svg.contains("stroke-dasharray=\"6 3\""),
            "tentative is dashed"
        );
        assert!(d.svg.contains("marker-end"), "directed links have arrows");
        assert!(d.svg.contains("Person (2)") && d.svg.contains("Phone (1)"));
        assert!(!d.svg.contains("http"), "no namespace URL or reference");
        // The saved ones keep their relative places: Alice left of and above the phone.
        let cx = |id: &str| -> (f32, f32) {
            let at = d.svg.find(&format!("<title>{id} ")).unwrap();
            let head = &d.svg[..at];
            let circle = &head[head.rfind("<circle").unwrap()..];
            let num = |k: &str| -> f32 {
                let s = &circle[circle.find(k).unwrap() + k.len()..];
                s[..s.find('"').unwrap()].parse().unwrap()
            };
            (num("cx=\""), num("cy=\""))
        };
        let (pa, pb) = (cx("E1"), cx("E2"));
        assert!(pa.0 < pb.0 && pa.1 < pb.1, "{pa:?} {pb:?}");
    }

    #[test]
    fn without_a_selection_the_saved_working_set_is_drawn() {
        let all = [
            entity(1, "Person", "a"),
            entity(2, "Person", "b"),
            entity(3, "Phone", "c"),
        ];
        let refs: Vec<&Entity> = all.iter().collect();
        let saved = r#"{"on_chart":[1,2],"hidden":[2]}"#;
        let ids = |v: &[&Entity]| v.iter().map(|e| e.id.0).collect::<Vec<_>>();
        let (shown, what) = chart_entities(&refs, Some(saved), false);
        assert_eq!(ids(&shown), [1]);
        assert!(what.contains("working set"));
        let (shown, _) = chart_entities(&refs, Some(saved), true);
        assert_eq!(ids(&shown), [1, 2, 3], "a selection is drawn whole");
        let (shown, _) = chart_entities(&refs, None, false);
        assert_eq!(ids(&shown), [1, 2, 3]);
        let (shown, _) = chart_entities(&refs, Some("{}"), false);
        assert_eq!(
            ids(&shown),
            [1, 2, 3],
            "a saved chart without a working set"
        );
    }

    #[test]
    fn an_empty_or_unreadable_chart_still_draws() {
        let d = draw_chart(&[], &[], &[], Some("not json"), "empty");
        assert_eq!(d.drawn, 0);
        assert!(d.svg.ends_with("</svg>\n"));
    }
}
