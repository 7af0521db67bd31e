//! The timeline: a histogram of events with adjustable bins, theme lines for the selected
//! entities (one row each, their events as marks, calls and payments between two of them as
//! arrows from row to row, as in i2), and the shared time filter, which is set by brushing a
//! range (shift-drag) or from the visible range, and played forward so the other views follow.

use super::{Action, ViewState, time_text};
use crate::model::ParticipantRole;
use crate::store::CaseSnapshot;
use egui_plot::{Arrows, Bar, BarChart, Plot, Points, Span};

const MS_PER_DAY: f64 = 86_400_000.0;

/// Bin widths the user can pick.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BinWidth {
    Hour,
    #[default]
    Day,
    Week,
}

impl BinWidth {
    fn ms(self) -> i64 {
        match self {
            BinWidth::Hour => 3_600_000,
            BinWidth::Day => 86_400_000,
            BinWidth::Week => 7 * 86_400_000,
        }
    }
}

/// Timeline settings that live across frames.
#[derive(Default)]
pub struct TimelineState {
    pub bin: BinWidth,
    /// Playing: the time filter window moves forward one bin per step.
    pub playing: bool,
    last_step: Option<f64>,
    visible: Option<(f64, f64)>,
    /// Where a shift-drag brush started (plot x, days).
    brush_start: Option<f64>,
    cache_key: Option<(u64, i64)>,
    /// The event types stacked in the bars (the most frequent first, then "other").
    types: Vec<String>,
    /// Per bin: its start and the count of each of `types`.
    bins: Vec<(i64, Vec<u64>)>,
}

/// Event types stacked in the histogram at most; the rest share one "other" layer.
const STACKED_TYPES: usize = 7;

/// Event counts per bin and type: the types (the most frequent first, at most
/// [`STACKED_TYPES`], then "other" if any are left) and per bin its start and a count per type.
pub fn histogram_by_type(case: &CaseSnapshot, bin_ms: i64) -> (Vec<String>, Vec<(i64, Vec<u64>)>) {
    let mut totals: std::collections::HashMap<&str, u64> = Default::default();
    for ev in &case.events {
        *totals.entry(ev.event_type.as_str()).or_default() += 1;
    }
    let mut order: Vec<(&str, u64)> = totals.into_iter().collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut types: Vec<String> = order
        .iter()
        .take(STACKED_TYPES)
        .map(|(t, _)| (*t).to_string())
        .collect();
    let other = order.len() > STACKED_TYPES;
    if other {
        types.push("other".into());
    }
    let layer = |t: &str| {
        types
            .iter()
            .take(STACKED_TYPES)
            .position(|x| x == t)
            .unwrap_or(types.len() - 1)
    };
    let mut bins: std::collections::BTreeMap<i64, Vec<u64>> = Default::default();
    for ev in &case.events {
        let start = ev.time.start_ms.div_euclid(bin_ms) * bin_ms;
        let counts = bins.entry(start).or_insert_with(|| vec![0; types.len()]);
        counts[layer(&ev.event_type)] += 1;
    }
    (types, bins.into_iter().collect())
}

/// The date text of a time axis mark, as fine as the visible span needs: hours and minutes
/// over a day or two, days over months, months over years.
fn axis_text(days: f64, span_days: f64) -> String {
    let format = if span_days < 3.0 {
        "%m-%d %H:%M"
    } else if span_days < 400.0 {
        "%Y-%m-%d"
    } else {
        "%Y-%m"
    };
    chrono::DateTime::from_timestamp_millis((days * MS_PER_DAY) as i64)
        .map(|t| t.format(format).to_string())
        .unwrap_or_default()
}

/// The colours of the stacked event types, the same for a type wherever it ranks.
fn type_colour(event_type: &str) -> egui::Color32 {
    match event_type {
        "Call" => egui::Color32::from_rgb(86, 156, 214),
        "Message" => egui::Color32::from_rgb(90, 190, 190),
        "Transaction" => egui::Color32::from_rgb(214, 157, 86),
        "Meeting" => egui::Color32::from_rgb(160, 120, 210),
        "Sighting" => egui::Color32::from_rgb(106, 190, 120),
        "Incident" => egui::Color32::from_rgb(220, 70, 60),
        "Travel" => egui::Color32::from_rgb(200, 200, 90),
        "other" => egui::Color32::from_gray(150),
        t => crate::ui::graph::type_colour(t),
    }
}

impl std::fmt::Debug for TimelineState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimelineState")
            .field("bin", &self.bin)
            .field("playing", &self.playing)
            .field("types", &self.types)
            .finish_non_exhaustive()
    }
}

/// Event counts per bin (bin start ms, count), for the whole case.
pub fn histogram(case: &CaseSnapshot, bin_ms: i64) -> Vec<(i64, u64)> {
    let mut counts = std::collections::BTreeMap::new();
    for ev in &case.events {
        *counts
            .entry(ev.time.start_ms.div_euclid(bin_ms) * bin_ms)
            .or_insert(0u64) += 1;
    }
    counts.into_iter().collect()
}

pub fn show(
    ui: &mut egui::Ui,
    case: &CaseSnapshot,
    view: &ViewState,
    state: &mut TimelineState,
) -> Vec<Action> {
    let mut actions = Vec::new();
    let key = (case.generation, state.bin.ms());
    if state.cache_key != Some(key) {
        (state.types, state.bins) = histogram_by_type(case, state.bin.ms());
        state.cache_key = Some(key);
    }
    ui.horizontal(|ui| {
        ui.label("Bins:");
        ui.selectable_value(&mut state.bin, BinWidth::Hour, "hour");
        ui.selectable_value(&mut state.bin, BinWidth::Day, "day");
        ui.selectable_value(&mut state.bin, BinWidth::Week, "week");
        ui.separator();
        ui.weak("shift-drag to brush a range");
        if ui.button("Filter to visible range").clicked()
            && let Some((a, b)) = state.visible
        {
            actions.push(Action::SetTimeFilter(Some((
                (a * MS_PER_DAY) as i64,
                (b * MS_PER_DAY) as i64,
            ))));
        }
        if ui
            .add_enabled(
                view.time_filter.is_some(),
                egui::Button::new("Clear filter"),
            )
            .clicked()
        {
            actions.push(Action::SetTimeFilter(None));
            state.playing = false;
        }
        let play_label = if state.playing { "Pause" } else { "Play" };
        if ui
            .add_enabled(view.time_filter.is_some(), egui::Button::new(play_label))
            .clicked()
        {
            state.playing = !state.playing;
            state.last_step = None;
        }
        if let Some((a, b)) = view.time_filter {
            ui.label(format!("{} – {}", time_text(a), time_text(b)));
        }
    });
    if state.playing
        && let Some((a, b)) = view.time_filter
    {
        let now = ui.input(|i| i.time);
        let step_due = state.last_step.is_none_or(|t| now - t >= 0.5);
        if step_due {
            state.last_step = Some(now);
            let last = case
                .events
                .iter()
                .map(|e| e.time.start_ms)
                .max()
                .unwrap_or(b);
            if a > last {
                state.playing = false;
            } else {
                let step = state.bin.ms();
                actions.push(Action::SetTimeFilter(Some((a + step, b + step))));
            }
        }
        // Repaint only while playing.
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(100));
    }

    let bin_days = state.bin.ms() as f64 / MS_PER_DAY;
    // One layer per event type, stacked; bars outside the time filter dimmed, so the brushed
    // range stands out.
    let filter_range = view.time_filter;
    let mut layers: Vec<BarChart> = Vec::new();
    for (t, name) in state.types.iter().enumerate() {
        let colour = type_colour(name);
        let bars: Vec<Bar> = state
            .bins
            .iter()
            .map(|(start, counts)| {
                let inside =
                    filter_range.is_none_or(|(a, b)| *start + state.bin.ms() > a && *start < b);
                Bar::new(
                    *start as f64 / MS_PER_DAY + bin_days / 2.0,
                    counts.get(t).copied().unwrap_or(0) as f64,
                )
                .width(bin_days * 0.9)
                .fill(if inside {
                    colour
                } else {
                    colour.gamma_multiply(0.3)
                })
            })
            .collect();
        let refs: Vec<&BarChart> = layers.iter().collect();
        let chart = BarChart::new(name.clone(), bars)
            .color(colour)
            .stack_on(&refs);
        layers.push(chart);
    }
    let selected = view.selected_entities();
    let hist_height = if selected.is_empty() {
        ui.available_height()
    } else {
        ui.available_height() * 0.55
    };
    let date_axis = |mark: egui_plot::GridMark, range: &std::ops::RangeInclusive<f64>| {
        axis_text(mark.value, range.end() - range.start())
    };
    let filter = view.time_filter;
    // Shift-drag brushes a range instead of panning.
    let shift = ui.input(|i| i.modifiers.shift);
    let mut brushed = None;
    let brush_start = &mut state.brush_start;
    let response = Plot::new("timeline-histogram")
        .height(hist_height)
        .legend(egui_plot::Legend::default())
        .allow_scroll(false)
        .allow_drag(!shift)
        .x_axis_formatter(date_axis)
        .show(ui, |plot| {
            for layer in layers {
                plot.bar_chart(layer);
            }
            if let Some((a, b)) = filter {
                plot.span(Span::new(
                    "time filter",
                    (a as f64 / MS_PER_DAY)..=(b as f64 / MS_PER_DAY),
                ));
            }
            let pointer = plot.pointer_coordinate().map(|p| p.x);
            let (started, dragging, stopped) = {
                let r = plot.response();
                (r.drag_started(), r.dragged(), r.drag_stopped())
            };
            if shift && started {
                *brush_start = pointer;
            }
            if let (Some(a), Some(b)) = (*brush_start, pointer)
                && dragging
            {
                plot.span(Span::new("brush", a.min(b)..=a.max(b)));
            }
            if stopped && let Some(a) = brush_start.take() {
                brushed = pointer.map(|b| (a.min(b), a.max(b)));
            }
            let bounds = plot.plot_bounds();
            (bounds.min()[0], bounds.max()[0])
        });
    state.visible = Some(response.inner);
    if let Some((a, b)) = brushed
        && b > a
    {
        actions.push(Action::SetTimeFilter(Some((
            (a * MS_PER_DAY) as i64,
            (b * MS_PER_DAY) as i64,
        ))));
    }

    if !selected.is_empty() {
        ui.label("Theme lines (selected entities)");
        let rows: Vec<(usize, String, Vec<[f64; 2]>)> = selected
            .iter()
            .take(20)
            .enumerate()
            .map(|(row, id)| {
                let label = case
                    .entity(*id)
                    .map_or_else(|| id.to_string(), |e| e.label.clone());
                let points = case
                    .events
                    .iter()
                    .filter(|ev| ev.participants.iter().any(|p| p.entity == *id))
                    .map(|ev| [ev.time.start_ms as f64 / MS_PER_DAY, row as f64])
                    .collect();
                (row, label, points)
            })
            .collect();
        // Calls, messages and payments between two selected entities: arrows between rows.
        let row_of: std::collections::HashMap<_, f64> = selected
            .iter()
            .take(20)
            .enumerate()
            .map(|(row, id)| (*id, row as f64))
            .collect();
        let (mut origins, mut tips) = (Vec::new(), Vec::new());
        for ev in &case.events {
            let from = ev.in_role(ParticipantRole::From).next();
            let to = ev.in_role(ParticipantRole::To).next();
            if let (Some(from), Some(to)) = (from, to)
                && let (Some(&a), Some(&b)) = (row_of.get(&from), row_of.get(&to))
                && origins.len() < 5_000
            {
                let x = ev.time.start_ms as f64 / MS_PER_DAY;
                origins.push([x, a]);
                tips.push([x, b]);
            }
        }
        let labels: Vec<String> = rows.iter().map(|r| r.1.clone()).collect();
        Plot::new("timeline-theme-lines")
            .height(ui.available_height())
            .allow_scroll(false)
            .x_axis_formatter(date_axis)
            .y_axis_formatter(move |mark, _| {
                let i = mark.value.round();
                if (mark.value - i).abs() < 1e-6 && i >= 0.0 {
                    labels.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .show(ui, |plot| {
                if !origins.is_empty() {
                    plot.add(
                        Arrows::new("between selected", origins, tips)
                            .tip_length(6.0)
                            .color(egui::Color32::from_rgb(200, 120, 40)),
                    );
                }
                for (_, label, points) in rows {
                    plot.add(Points::new(label, points).radius(3.0));
                }
            });
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_stack_by_type_and_add_up_to_the_histogram() {
        let case = crate::ui::graph::bench::synthetic_case(50, 60, 900, 2);
        let (types, bins) = histogram_by_type(&case, BinWidth::Day.ms());
        let plain = histogram(&case, BinWidth::Day.ms());
        assert_eq!(bins.len(), plain.len());
        for ((start, counts), (p_start, total)) in bins.iter().zip(&plain) {
            assert_eq!((start, counts.iter().sum::<u64>()), (p_start, *total));
            assert_eq!(counts.len(), types.len());
        }
    }

    #[test]
    fn axis_labels_follow_the_visible_span() {
        let day = 19_783.5; // 2024-03-01 12:00 UTC, in days since 1970
        assert_eq!(axis_text(day, 1.0), "03-01 12:00");
        assert_eq!(axis_text(day, 30.0), "2024-03-01");
        assert_eq!(axis_text(day, 1_000.0), "2024-03");
    }
}
