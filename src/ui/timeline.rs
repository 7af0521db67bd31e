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
#[derive(Debug, Default)]
pub struct TimelineState {
    pub bin: BinWidth,
    /// Playing: the time filter window moves forward one bin per step.
    pub playing: bool,
    last_step: Option<f64>,
    visible: Option<(f64, f64)>,
    /// Where a shift-drag brush started (plot x, days).
    brush_start: Option<f64>,
    cache_key: Option<(u64, i64)>,
    bins: Vec<(i64, u64)>,
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
        state.bins = histogram(case, state.bin.ms());
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
    let bars: Vec<Bar> = state
        .bins
        .iter()
        .map(|&(start, count)| {
            Bar::new(start as f64 / MS_PER_DAY + bin_days / 2.0, count as f64).width(bin_days * 0.9)
        })
        .collect();
    let selected = view.selected_entities();
    let hist_height = if selected.is_empty() {
        ui.available_height()
    } else {
        ui.available_height() * 0.55
    };
    let date_axis = |mark: egui_plot::GridMark, _range: &std::ops::RangeInclusive<f64>| {
        chrono::DateTime::from_timestamp_millis((mark.value * MS_PER_DAY) as i64)
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    let filter = view.time_filter;
    // Shift-drag brushes a range instead of panning.
    let shift = ui.input(|i| i.modifiers.shift);
    let mut brushed = None;
    let brush_start = &mut state.brush_start;
    let response = Plot::new("timeline-histogram")
        .height(hist_height)
        .allow_scroll(false)
        .allow_drag(!shift)
        .x_axis_formatter(date_axis)
        .show(ui, |plot| {
            plot.bar_chart(BarChart::new("events", bars));
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
