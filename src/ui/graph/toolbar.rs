//! The chart's toolbar (layouts and their settings, fit, style, unhide, "add to chart"), the
//! starting points over an empty chart, and the context menu (expand, remove, path, hide,
//! show only, pin, collapse, export). They only return actions or set the view's own state;
//! layouts, paths and exports run in the app.

use super::placement::{ForceParams, LayoutKind, LayoutRequest, LayoutScope};
use super::style::ColourBy;
use super::{GraphOp, GraphState, working};
use crate::model::EntityId;
use crate::store::CaseSnapshot;
use crate::ui::{Action, ViewState};

/// The width of the layout button, so that the toolbar does not move when its text changes
/// between "Run force layout" and "Stop layout".
const LAYOUT_BUTTON_WIDTH: f32 = 120.0;

fn request(state: &GraphState, kind: LayoutKind, view: &ViewState) -> LayoutRequest {
    let selection = view.selected_entities();
    LayoutRequest {
        kind,
        scope: if state.layout_selection_only && !selection.is_empty() {
            LayoutScope::Selection(selection)
        } else {
            LayoutScope::Chart
        },
        settings: state.force,
        undo_step: true,
    }
}

pub(super) fn toolbar(
    ui: &mut egui::Ui,
    case: &CaseSnapshot,
    view: &ViewState,
    state: &mut GraphState,
    actions: &mut Vec<Action>,
) {
    ui.horizontal_wrapped(|ui| {
        let size = egui::vec2(LAYOUT_BUTTON_WIDTH, 0.0);
        if state.placement.layout_running {
            if ui
                .add(egui::Button::new("Stop layout").min_size(size))
                .clicked()
            {
                actions.push(Action::StopLayout);
            }
        } else if ui
            .add(egui::Button::new("Run force layout").min_size(size))
            .on_hover_text("ForceAtlas2-style layout with Barnes–Hut, in the background, of the entities on the chart (or the selection); resumes from the current positions; pinned entities stay")
            .clicked()
        {
            actions.push(Action::RunLayout(request(state, LayoutKind::Force, view)));
        }
        ui.menu_button("Force settings", |ui| force_settings(ui, &mut state.force));
        ui.menu_button("Layout", |ui| {
            let running = state.placement.layout_running;
            let mut chosen = None;
            ui.add_enabled_ui(!running, |ui| {
                if ui.button("Circular").clicked() {
                    chosen = Some(LayoutKind::Circular);
                }
                if ui
                    .button("Hierarchical")
                    .on_hover_text("layers along directed links: ownership, command structures")
                    .clicked()
                {
                    chosen = Some(LayoutKind::Hierarchical);
                }
                if ui.button("Grouped by type").clicked() {
                    chosen = Some(LayoutKind::Grouped {
                        by_community: false,
                    });
                }
                let communities = view.analysis_column.as_ref().is_some_and(|a| a.communities);
                if ui
                    .add_enabled(communities, egui::Button::new("Grouped by community"))
                    .on_disabled_hover_text("run louvain or leiden first")
                    .clicked()
                {
                    chosen = Some(LayoutKind::Grouped { by_community: true });
                }
            });
            ui.separator();
            ui.checkbox(&mut state.layout_selection_only, "Lay out the selection only");
            if let Some(kind) = chosen {
                actions.push(Action::RunLayout(request(state, kind, view)));
                ui.close();
            }
        });
        if ui.button("Fit").on_hover_text("Fit the chart to the view").clicked() {
            state.camera.needs_fit = true;
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
    if state.chart.state.on_chart.is_some() {
        add_bar(ui, case, state, actions);
    }
}

/// The force layout's settings, as Gephi's ForceAtlas2 panel has them.
fn force_settings(ui: &mut egui::Ui, force: &mut ForceParams) {
    ui.add(egui::Slider::new(&mut force.gravity, 0.0..=2.0).text("Gravity"));
    ui.add(
        egui::Slider::new(&mut force.scaling, 1.0..=100.0)
            .logarithmic(true)
            .text("Scaling"),
    );
    ui.checkbox(&mut force.lin_log, "LinLog mode (tighter communities)");
    ui.checkbox(&mut force.prevent_overlap, "Prevent overlap");
    if ui.button("Defaults").clicked() {
        *force = ForceParams::default();
    }
}

/// "Add to chart": a search over the whole case, its first results and "add all".
fn add_bar(
    ui: &mut egui::Ui,
    case: &CaseSnapshot,
    state: &mut GraphState,
    actions: &mut Vec<Action>,
) {
    let on_chart = state.chart.on_chart_count(case.entities.len());
    ui.horizontal(|ui| {
        let label = ui.label("Add to chart:");
        ui.add(
            egui::TextEdit::singleline(&mut state.working.query)
                .hint_text("search names, numbers, identifiers")
                .desired_width(260.0),
        )
        .labelled_by(label.id);
        state.working.refresh_search(case);
        let found = &state.working.results;
        if !state.working.query.trim().is_empty() {
            let all = found.entities.len();
            if ui
                .add_enabled(all > 0, egui::Button::new(format!("Add all {all}")))
                .on_hover_text(format!(
                    "{} match; at most {} are added at once",
                    found.total,
                    working::ADD_ALL_CAP
                ))
                .clicked()
            {
                let what = format!("add '{}'", state.working.query.trim());
                actions.push(Action::GraphOp(GraphOp::Add(found.entities.clone(), what)));
            }
            ui.weak(format!("{} found", found.total));
        }
        ui.weak(format!(
            "{on_chart} of {} entities on the chart",
            case.entities.len()
        ));
    });
    if !state.working.query.trim().is_empty() {
        ui.horizontal_wrapped(|ui| {
            for &e in state
                .working
                .results
                .entities
                .iter()
                .take(working::SEARCH_SHOWN)
            {
                let Some(entity) = case.entity(e) else {
                    continue;
                };
                let text = format!("+ {} ({})", entity.label, entity.entity_type);
                let on = state.chart.is_on_chart(e);
                if ui
                    .add_enabled(!on, egui::Button::new(text).small())
                    .on_disabled_hover_text("on the chart")
                    .clicked()
                {
                    actions.push(Action::GraphOp(GraphOp::Add(
                        vec![e],
                        format!("add {}", entity.label),
                    )));
                }
            }
        });
    }
}

/// Over an empty chart: where to start.
pub(super) fn starting_points(
    ui: &mut egui::Ui,
    case: &CaseSnapshot,
    view: &ViewState,
    state: &mut GraphState,
    actions: &mut Vec<Action>,
) {
    ui.vertical_centered(|ui| {
        ui.add_space(30.0);
        ui.heading("Build the chart");
        ui.label(format!(
            "This case has {} entities, more than are drawn at once; the chart starts empty. Search above, or start from:",
            case.entities.len()
        ));
    });
    ui.add_space(8.0);
    let starts = state.working.starts(case).clone();
    ui.columns(3, |cols| {
        cols[0].strong("Best connected");
        for &(e, degree) in starts.by_degree.iter().take(10) {
            if let Some(entity) = case.entity(e)
                && cols[0]
                    .button(format!("+ {} ({degree} links)", entity.label))
                    .clicked()
            {
                actions.push(Action::GraphOp(GraphOp::Add(
                    vec![e],
                    format!("add {}", entity.label),
                )));
            }
        }
        let top: Vec<EntityId> = starts.by_degree.iter().map(|&(e, _)| e).collect();
        if !top.is_empty() && cols[0].button(format!("Add these {}", top.len())).clicked() {
            actions.push(Action::GraphOp(GraphOp::Add(
                top,
                "add the best connected".into(),
            )));
        }
        cols[1].strong("Top of the analysis result");
        match view.analysis_column.as_deref() {
            Some(a) if !a.communities => {
                let mut values: Vec<(EntityId, f64)> =
                    a.values.iter().map(|(&e, &v)| (e, v)).collect();
                values.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
                values.truncate(20);
                for &(e, v) in values.iter().take(10) {
                    if let Some(entity) = case.entity(e)
                        && cols[1]
                            .button(format!("+ {} ({v:.3})", entity.label))
                            .clicked()
                    {
                        actions.push(Action::GraphOp(GraphOp::Add(
                            vec![e],
                            format!("add {}", entity.label),
                        )));
                    }
                }
                let ids: Vec<EntityId> = values.iter().map(|&(e, _)| e).collect();
                if cols[1]
                    .button(format!("Add the top {}", ids.len()))
                    .clicked()
                {
                    actions.push(Action::GraphOp(GraphOp::Add(
                        ids,
                        format!("add the top of {}", a.name),
                    )));
                }
            }
            _ => {
                cols[1].add(
                    egui::Label::new(
                        egui::RichText::new(
                            "Run a centrality (PageRank, betweenness) in the Analysis tab.",
                        )
                        .weak(),
                    )
                    .wrap(),
                );
            }
        }
        cols[2].strong("An import batch");
        egui::ComboBox::new("start-batch", "Batch")
            .selected_text(
                state
                    .working
                    .batch
                    .map_or_else(|| "choose a batch".to_string(), |b| b.to_string()),
            )
            .show_ui(&mut cols[2], |ui| {
                for &(b, n) in &starts.batches {
                    ui.selectable_value(
                        &mut state.working.batch,
                        Some(b),
                        format!("{b} ({n} entities)"),
                    );
                }
            });
        if let Some(b) = state.working.batch {
            let ids = working::StartingPoints::batch_entities(case, b);
            let n = ids.len().min(working::ADD_ALL_CAP);
            if cols[2].button(format!("Add its {n} entities")).clicked() {
                actions.push(Action::GraphOp(GraphOp::Add(
                    ids.into_iter().take(n).collect(),
                    format!("add the entities of {b}"),
                )));
            }
        }
        let selected = view.selected_entities();
        cols[2].add_space(8.0);
        cols[2].strong("The selection");
        if cols[2]
            .add_enabled(
                !selected.is_empty(),
                egui::Button::new(format!("Add the {} selected", selected.len())),
            )
            .on_disabled_hover_text("select entities in the Entities table first")
            .clicked()
        {
            actions.push(Action::GraphOp(GraphOp::Add(
                selected,
                "add the selection".into(),
            )));
        }
    });
}

pub(super) fn context_menu(
    ui: &mut egui::Ui,
    case: &CaseSnapshot,
    view: &ViewState,
    state: &mut GraphState,
    actions: &mut Vec<Action>,
) {
    let selected = view.selected_entities().len();
    let mut op = None;
    let entities = state.placement.nodes.len();
    if let Some(i) = state.camera.context_node
        && i >= entities
        && ui.button("Expand collection").clicked()
    {
        op = Some(GraphOp::ExpandCollection(i - entities));
    }
    ui.add_enabled_ui(selected > 0, |ui| {
        let from = view.selected_entities();
        {
            let chart = &state.chart;
            let hidden = &chart.state.hidden;
            state
                .working
                .refresh_expand(case, chart.revision, &from, |e| {
                    chart.is_on_chart(e) && !hidden.contains(&e)
                });
        }
        let found = &state.working.expand_found;
        ui.horizontal(|ui| {
            let text = if found.total > found.entities.len() {
                format!(
                    "Expand neighbours (adds {} of {})",
                    found.entities.len(),
                    found.total
                )
            } else {
                format!("Expand neighbours (adds {})", found.total)
            };
            if ui
                .button(text)
                .on_hover_text("add to the chart the entities this many links away, nearest first, up to the cap")
                .clicked()
            {
                op = Some(GraphOp::ExpandWith);
            }
            ui.add(
                egui::DragValue::new(&mut state.working.expand.depth)
                    .range(1..=5)
                    .suffix(" deg"),
            );
        });
        ui.menu_button("Expand options", |ui| {
            let expand = &mut state.working.expand;
            ui.checkbox(
                &mut expand.via_events,
                "Also through calls, messages, payments and meetings",
            );
            ui.horizontal(|ui| {
                ui.label("At most");
                ui.add(egui::DragValue::new(&mut expand.cap).range(1..=100_000));
                ui.label("entities");
            });
            ui.label("Link types (none ticked: all):");
            let mut types: Vec<&str> = case.links.iter().map(|l| l.link_type.as_str()).collect();
            types.sort_unstable();
            types.dedup();
            for t in types.into_iter().take(40) {
                let mut on = expand.link_types.contains(t);
                if ui.checkbox(&mut on, t).changed() {
                    if on {
                        expand.link_types.insert(t.to_string());
                    } else {
                        expand.link_types.remove(t);
                    }
                }
            }
        });
        if from.len() == 2
            && ui
                .button("Add the shortest path between these two")
                .on_hover_text("i2's Find Path: the entities on the shortest chain of links between them")
                .clicked()
        {
            actions.push(Action::AddPath(from[0], from[1]));
            ui.close();
        }
        if state.chart.state.on_chart.is_some() && ui.button("Remove from chart").clicked() {
            op = Some(GraphOp::RemoveFromChart);
        }
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
    {
        use crate::ui::editor::Open;
        let chosen = view.selected_entities();
        if ui.button("New entity here…").clicked() {
            actions.push(Action::Open(Open::NewEntity {
                at: state.camera.context_world,
            }));
            ui.close();
        }
        if chosen.len() == 2
            && ui
                .button("Link the two selected…")
                .on_hover_text("or alt-drag from one entity to the other")
                .clicked()
        {
            actions.push(Action::Open(Open::NewLink {
                from: chosen[0],
                to: chosen[1],
            }));
            ui.close();
        }
        if !chosen.is_empty()
            && chosen.len() <= 50
            && ui.button("New event among the selected…").clicked()
        {
            actions.push(Action::Open(Open::NewEvent {
                participants: chosen,
            }));
            ui.close();
        }
    }
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
    if ui.button("Lay out the selection").clicked() && selected > 0 {
        actions.push(Action::RunLayout(LayoutRequest {
            kind: LayoutKind::Force,
            scope: LayoutScope::Selection(view.selected_entities()),
            settings: state.force,
            undo_step: true,
        }));
        ui.close();
    }
    if ui.button("Fit to view").clicked() {
        state.camera.needs_fit = true;
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
