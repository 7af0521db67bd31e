//! The timeline as an SVG drawing: a histogram of the events over time (bins of an hour, a
//! day, a week, 30 days or a year, whichever gives at most [`MAX_BINS`] bars), and below it
//! one theme line per chosen entity with a tick per event it takes part in, coloured by event
//! type; the time axis with dated ticks, and a legend. Print theme, no external reference.

use super::chart::{TYPE_COLOURS, shorten};
use super::html::escape;
use crate::model::{EntityId, Event};
use chrono::DateTime;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Bars at most: more would be thinner than a printed line.
const MAX_BINS: i64 = 90;
/// Theme lines at most; a page holds no more.
pub const MAX_THEMES: usize = 16;
const WIDTH: f32 = 1000.0;
const LEFT: f32 = 170.0;
const RIGHT: f32 = 20.0;
const HIST_TOP: f32 = 30.0;
const HIST_HEIGHT: f32 = 150.0;
const THEME_ROW: f32 = 22.0;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
const BIN_SIZES: [(i64, &str); 5] = [
    (HOUR_MS, "hour"),
    (DAY_MS, "day"),
    (7 * DAY_MS, "week"),
    (30 * DAY_MS, "30 days"),
    (365 * DAY_MS, "year"),
];

/// The drawing and what it shows, for the report's text.
pub struct TimelineDrawing {
    pub svg: String,
    pub bin_name: &'static str,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
}

/// Draws the events, with theme lines for `themes` (entity id and label).
pub fn draw_timeline(
    events: &[&Event],
    themes: &[(EntityId, String)],
    title: &str,
) -> TimelineDrawing {
    let themes = &themes[..themes.len().min(MAX_THEMES)];
    let first = events.iter().map(|e| e.time.start_ms).min();
    let last = events.iter().map(|e| e.time.start_ms).max();
    let (lo, hi) = match (first, last) {
        (Some(a), Some(b)) => (a, b.max(a + 1)),
        _ => (0, 1),
    };
    let span = hi - lo;
    let (bin_ms, bin_name) = BIN_SIZES
        .iter()
        .copied()
        .find(|(size, _)| span / size < MAX_BINS)
        .unwrap_or((span / MAX_BINS + 1, "1/90 of the span"));
    // Bins start on a multiple of the bin size, so a day bin is a calendar day (UTC).
    let start = lo.div_euclid(bin_ms) * bin_ms;
    let bins = ((hi - start) / bin_ms + 1).clamp(1, MAX_BINS + 1) as usize;
    let end = start + bins as i64 * bin_ms;
    let mut counts = vec![0u64; bins];
    for e in events {
        let b = ((e.time.start_ms - start) / bin_ms).clamp(0, bins as i64 - 1) as usize;
        counts[b] += 1;
    }
    let max_count = counts.iter().copied().max().unwrap_or(0).max(1);
    let plot = WIDTH - LEFT - RIGHT;
    let x_of = |ms: i64| LEFT + plot * ((ms - start) as f32 / (end - start) as f32);
    let themes_top = HIST_TOP + HIST_HEIGHT + 40.0;
    let axis_y = themes_top + THEME_ROW * themes.len() as f32 + 10.0;
    let mut types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    types.sort_unstable();
    types.dedup();
    let colour_of: BTreeMap<&str, &str> = types
        .iter()
        .enumerate()
        .map(|(i, t)| (*t, TYPE_COLOURS[i % TYPE_COLOURS.len()]))
        .collect();
    let legend_rows = types.len().div_ceil(4).max(1);
    let height = axis_y + 40.0 + 16.0 * legend_rows as f32;

    let mut out = String::new();
    let _ = writeln!(
        out,
        r##"<svg id="timeline-svg" role="img" viewBox="0 0 {WIDTH:.0} {height:.0}" width="100%" font-family="sans-serif" font-size="10">
<title>{}</title>
<rect width="100%" height="100%" fill="#ffffff"/>"##,
        escape(title)
    );
    // Histogram.
    let _ = writeln!(
        out,
        r##"<g id="timeline-histogram" fill="#4a6fa5"><text x="{LEFT}" y="{:.1}" fill="#111">Events per {bin_name} (highest bar: {max_count})</text>"##,
        HIST_TOP - 10.0
    );
    let bar = plot / bins as f32;
    for (b, &n) in counts.iter().enumerate() {
        if n == 0 {
            continue;
        }
        let h = HIST_HEIGHT * n as f32 / max_count as f32;
        let bin_start = start + b as i64 * bin_ms;
        let _ = writeln!(
            out,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}"><title>{}: {n}</title></rect>"#,
            LEFT + bar * b as f32 + 0.5,
            HIST_TOP + HIST_HEIGHT - h,
            (bar - 1.0).max(0.5),
            date_label(bin_start, bin_ms)
        );
    }
    let _ = writeln!(
        out,
        r##"<line x1="{LEFT}" y1="{0:.1}" x2="{1:.1}" y2="{0:.1}" stroke="#111"/></g>"##,
        HIST_TOP + HIST_HEIGHT,
        WIDTH - RIGHT
    );
    // Theme lines.
    out.push_str("<g id=\"timeline-themes\">\n");
    for (row, (id, label)) in themes.iter().enumerate() {
        let y = themes_top + THEME_ROW * row as f32;
        let _ = writeln!(
            out,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#111">{} {}</text><line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ccc"/>"##,
            LEFT - 6.0,
            y + 3.0,
            id,
            escape(&shorten(label, 22)),
            WIDTH - RIGHT
        );
        for e in events
            .iter()
            .filter(|e| e.participants.iter().any(|p| p.entity == *id))
        {
            let x = x_of(e.time.start_ms);
            let colour = colour_of
                .get(e.event_type.as_str())
                .copied()
                .unwrap_or("#777");
            let _ = writeln!(
                out,
                r#"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="{colour}" stroke-width="1.5"><title>{} {} {}</title></line>"#,
                y - 7.0,
                y + 7.0,
                e.id,
                escape(&e.event_type),
                e.time.start().format("%Y-%m-%d %H:%M UTC")
            );
        }
    }
    out.push_str("</g>\n");
    // Time axis: about six dated ticks.
    let _ = writeln!(
        out,
        r##"<g id="timeline-axis" fill="#111"><line x1="{LEFT}" y1="{axis_y:.1}" x2="{:.1}" y2="{axis_y:.1}" stroke="#111"/>"##,
        WIDTH - RIGHT
    );
    let step = ((end - start) / 6).max(1);
    for k in 0..=6 {
        let ms = start + step * k;
        let x = x_of(ms);
        let _ = writeln!(
            out,
            r##"<line x1="{x:.1}" y1="{axis_y:.1}" x2="{x:.1}" y2="{:.1}" stroke="#111"/><text x="{x:.1}" y="{:.1}" text-anchor="{}">{}</text>"##,
            axis_y + 5.0,
            axis_y + 17.0,
            // The last date ends at the axis's end, inside the drawing.
            if k == 6 { "end" } else { "middle" },
            date_label(ms, if span < 2 * DAY_MS { HOUR_MS } else { DAY_MS })
        );
    }
    out.push_str("</g>\n<g id=\"timeline-legend\">\n");
    for (i, t) in types.iter().enumerate() {
        let (col, row) = (i % 4, i / 4);
        let (x, y) = (LEFT + 200.0 * col as f32, axis_y + 36.0 + 16.0 * row as f32);
        let colour = colour_of.get(t).copied().unwrap_or("#777");
        let _ = writeln!(
            out,
            r##"<rect x="{x:.1}" y="{:.1}" width="10" height="10" fill="{colour}"/><text x="{:.1}" y="{y:.1}" fill="#111">{}</text>"##,
            y - 9.0,
            x + 14.0,
            escape(t)
        );
    }
    out.push_str("</g>\n</svg>\n");
    TimelineDrawing {
        svg: out,
        bin_name,
        first_ms: first,
        last_ms: last,
    }
}

/// A date (UTC) as precise as the bin: with the hour for hourly bins.
pub fn date_label(ms: i64, bin_ms: i64) -> String {
    let t = DateTime::from_timestamp_millis(ms).unwrap_or_default();
    if bin_ms < DAY_MS {
        t.format("%Y-%m-%d %H:00").to_string()
    } else {
        t.format("%Y-%m-%d").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EventId, EventTime, Participant, ParticipantRole, Provenance};

    fn event(id: i64, day: i64, who: &[i64], kind: &str) -> Event {
        Event {
            id: EventId(id),
            event_type: kind.into(),
            time: EventTime {
                start_ms: 1_700_000_000_000 + day * DAY_MS,
                end_ms: None,
                original_text: None,
                original_zone: None,
            },
            participants: who
                .iter()
                .map(|&e| Participant {
                    role: ParticipantRole::Participant,
                    entity: EntityId(e),
                })
                .collect(),
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
    fn bins_fit_the_span_and_themes_tick_their_events() {
        let events = [
            event(1, 0, &[1, 2], "Call"),
            event(2, 3, &[1], "Meeting"),
            event(3, 40, &[2], "Call"),
        ];
        let refs: Vec<&Event> = events.iter().collect();
        let d = draw_timeline(&refs, &[(EntityId(1), "Alice".into())], "T");
        assert_eq!(d.bin_name, "day", "40 days in day bins");
        assert_eq!(
            (d.first_ms, d.last_ms),
            (
                Some(1_700_000_000_000),
                Some(1_700_000_000_000 + 40 * DAY_MS)
            )
        );
        assert_eq!(
            d.svg.matches("<title>V").count(),
            2,
            "Alice's two events are ticked"
        );
        assert!(
            d.svg.contains(">Call<") && d.svg.contains(">Meeting<"),
            "legend"
        );
        let bars = d.svg.matches("<rect x=").count() - 2; // minus the legend's two swatches
        assert_eq!(bars, 3, "three busy days");
        assert!(!d.svg.contains("http"));
    }

    #[test]
    fn no_events_still_draws() {
        let d = draw_timeline(&[], &[], "empty");
        assert_eq!(d.first_ms, None);
        assert!(d.svg.ends_with("</svg>\n"));
    }
}
