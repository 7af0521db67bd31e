//! The chart's toolbar (layouts, fit, style, unhide) and its context menu (expand, hide, show
//! only, pin, collapse, export). Both only return actions or set the view's own state; layouts
//! and exports run in the app.

use super::placement::LayoutKind;
use super::style::ColourBy;
use super::{GraphOp, GraphState};
use crate::store::CaseSnapshot;
use crate::ui::{Action, ViewState};

pub(super) fn toolbar(
    ui: &mut egui::Ui,
    case: &CaseSnapshot,
    view: &ViewState,
    state: &mut GraphState,
    actions: &mut Vec<Action>,
) {
    ui.horizontal_wrapped(|ui| {
        if state.placement.layout_running {
            if ui.button("Stop layout").clicked() {
                actions.push(Action::StopLayout);
            }
        } else if ui
            .button("Run force layout")
            .on_hover_text("ForceAtlas2-style layout with Barnes–Hut, in the background; resumes from the current positions; pinned entities stay")
            .clicked()
        {
            actions.push(Action::RunLayout(LayoutKind::Force));
        }
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
            if let Some(kind) = chosen {
                actions.push(Action::RunLayout(kind));
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
        ui.horizontal(|ui| {
            if ui.button("Expand neighbours").clicked() {
                op = Some(GraphOp::Expand(state.camera.expand_depth));
            }
            ui.add(
                egui::DragValue::new(&mut state.camera.expand_depth)
                    .range(1..=5)
                    .suffix(" deg"),
            );
        });
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
    if ui
        .add_enabled(
            !state.chart.state.hidden.is_empty(),
            egui::Button::new("Unhide all"),
        )
        .clicked()
    {
        op = Some(GraphOp::UnhideAll);
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
