//! The analysis panel: pick a component, set its parameters, run it as a job on a scope (the
//! whole case, the working set on the chart, or the selection: those entities and the links
//! and events among them); build, check, run, save and open chains in the chain editor
//! ([`chain_editor`]). Finished results appear as a ranked list and as a column of the
//! entity table.

pub mod chain_editor;

use super::{Action, ViewState};
use crate::analysis::{self, Output, Params};
use crate::model::{EntityId, ItemRef};
use crate::store::CaseSnapshot;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// A finished analysis run as the views use it.
#[derive(Debug, Clone)]
pub struct AnalysisResult {
    pub component: String,
    pub params: Params,
    pub generation: u64,
    pub output: Output,
}

/// Values per entity from the active result, shown as a table column.
#[derive(Debug, Clone)]
pub struct AnalysisColumn {
    pub name: String,
    pub values: HashMap<EntityId, f64>,
    /// The values are community numbers (colour by community, do not size by them).
    pub communities: bool,
}

impl AnalysisColumn {
    /// The column for a result, if it has one value per entity.
    pub fn from_result(result: &AnalysisResult) -> Option<AnalysisColumn> {
        let values = match &result.output {
            Output::EntityValues { values } => values.iter().copied().collect(),
            Output::Communities { assignment, .. } => {
                assignment.iter().map(|&(e, c)| (e, f64::from(c))).collect()
            }
            _ => return None,
        };
        Some(AnalysisColumn {
            name: result.component.clone(),
            values,
            communities: matches!(result.output, Output::Communities { .. }),
        })
    }
}

/// What a component or chain runs on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Scope {
    /// Every entity of the case.
    #[default]
    Case,
    /// The entities on the chart (shown or hidden).
    WorkingSet,
    /// The selected entities.
    Selection,
}

/// The panel's settings across frames.
#[derive(Debug, Default)]
pub struct AnalysisPanelState {
    pub component: String,
    pub params: BTreeMap<String, String>,
    pub results: Vec<AnalysisResult>,
    /// The chain to run: a bundled one by index, or `BUNDLED_CHAINS.len()` for a file.
    pub chain: usize,
    pub chain_path: String,
    pub scope: Scope,
    /// How many entities are on the chart, `None` when the whole case is (the app sets it
    /// each frame from the graph view's working set).
    pub working_set: Option<usize>,
    pub editor: chain_editor::ChainEditor,
}

/// The chains that ship with the program (assets/chains), built in so that the workbench has
/// them wherever it is installed.
pub const BUNDLED_CHAINS: [(&str, &str); 3] = [
    (
        "key-players.toml",
        include_str!("../../assets/chains/key-players.toml"),
    ),
    (
        "brokers-per-community.toml",
        include_str!("../../assets/chains/brokers-per-community.toml"),
    ),
    (
        "early-warning.toml",
        include_str!("../../assets/chains/early-warning.toml"),
    ),
];

pub fn show(
    ui: &mut egui::Ui,
    case: &CaseSnapshot,
    view: &ViewState,
    state: &mut AnalysisPanelState,
    running: bool,
) -> Vec<Action> {
    let mut actions = Vec::new();
    let components = analysis::components();
    if state.component.is_empty()
        && let Some(first) = components.first()
    {
        state.component = first.name().to_string();
    }
    ui.horizontal(|ui| {
        egui::ComboBox::new("analysis-component", "Component")
            .selected_text(state.component.clone())
            .show_ui(ui, |ui| {
                for c in &components {
                    if ui
                        .selectable_label(state.component == c.name(), c.name())
                        .on_hover_text(c.summary())
                        .clicked()
                    {
                        state.component = c.name().to_string();
                        state.params.clear();
                    }
                }
            });
    });
    let Some(component) = analysis::find(&state.component) else {
        return actions;
    };
    ui.weak(component.summary());
    let selected = view.selected_entities();
    param_fields(
        ui,
        "analysis-params",
        component,
        &mut state.params,
        &selected,
    );
    let params = Params(
        state
            .params
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| (k.clone(), v.trim().to_string()))
            .collect(),
    );
    let count = selected.len();
    ui.horizontal(|ui| {
        ui.label("Run on:");
        ui.radio_value(&mut state.scope, Scope::Case, "whole case");
        let on_chart = state.working_set.map_or_else(
            || "all on the chart".to_string(),
            |n| format!("{n} on the chart"),
        );
        ui.radio_value(
            &mut state.scope,
            Scope::WorkingSet,
            format!("working set ({on_chart})"),
        )
        .on_hover_text("the entities on the chart, shown or hidden, and what lies among them");
        ui.radio_value(
            &mut state.scope,
            Scope::Selection,
            format!("selection ({count})"),
        )
        .on_hover_text("only the selected entities and the links and events among them");
    });
    let scope = state.scope;
    let scope_label = match scope {
        Scope::Case => "the whole case".to_string(),
        Scope::WorkingSet => match state.working_set {
            Some(n) => format!("the working set ({n})"),
            None => "the working set (the whole case)".to_string(),
        },
        Scope::Selection => format!("the {count} selected"),
    };
    let runnable = !running && (scope != Scope::Selection || count > 0);
    if ui
        .add_enabled(runnable, egui::Button::new(format!("Run on {scope_label}")))
        .on_disabled_hover_text(
            "select entities in the chart or a table first, or wait for the running analysis",
        )
        .clicked()
    {
        actions.push(Action::RunAnalysis {
            component: state.component.clone(),
            params,
            scope,
        });
    }
    ui.separator();
    ui.strong("Chain");
    ui.horizontal(|ui| {
        let current = BUNDLED_CHAINS
            .get(state.chain)
            .map_or("from a file…", |c| c.0);
        egui::ComboBox::new("analysis-chain", "Chain file")
            .selected_text(current)
            .show_ui(ui, |ui| {
                for (k, (name, _)) in BUNDLED_CHAINS.iter().enumerate() {
                    ui.selectable_value(&mut state.chain, k, *name);
                }
                ui.selectable_value(&mut state.chain, BUNDLED_CHAINS.len(), "from a file…");
            });
        if ui
            .add_enabled(runnable, egui::Button::new("Run chain"))
            .on_hover_text(format!("on {scope_label}"))
            .clicked()
        {
            let source = match BUNDLED_CHAINS.get(state.chain) {
                Some((name, text)) => Ok((name.to_string(), text.to_string())),
                None => std::fs::read_to_string(state.chain_path.trim())
                    .map(|t| (state.chain_path.trim().to_string(), t))
                    .map_err(|e| {
                        format!(
                            "The chain file could not be read ({e}); check the path. {}",
                            state.chain_path.trim()
                        )
                    }),
            };
            actions.push(match source {
                Ok((file, text)) => Action::RunChain { file, text, scope },
                Err(e) => Action::Error(e),
            });
        }
        if ui
            .button("Edit a copy")
            .on_hover_text("load this chain into the chain editor")
            .clicked()
            && let Some((name, text)) = BUNDLED_CHAINS.get(state.chain)
        {
            if let Err(e) = state.editor.load(text, None) {
                actions.push(Action::Error(format!("{name}: {e}")));
            }
            state.editor.status = format!("A copy of {name}; save it under a name of your own");
        }
    });
    if state.chain >= BUNDLED_CHAINS.len() {
        ui.horizontal(|ui| {
            let label = ui.label("Chain file:");
            ui.add(
                egui::TextEdit::singleline(&mut state.chain_path)
                    .hint_text("/path/to/chain.toml")
                    .desired_width(260.0),
            )
            .labelled_by(label.id);
        });
    }
    egui::CollapsingHeader::new("Chain editor")
        .id_salt("chain-editor")
        .show(ui, |ui| {
            let run = |file: String, text: String| Action::RunChain { file, text, scope };
            actions.extend(chain_editor::show(
                ui,
                &mut state.editor,
                &selected,
                !runnable,
                &run,
                &scope_label,
            ));
        });
    ui.separator();
    if let Some(result) = state.results.last() {
        let stale = if result.generation == case.generation {
            ""
        } else {
            " (the case changed since)"
        };
        ui.strong(format!("Result: {}{stale}", result.component));
        result_list(ui, case, view, result, &mut actions);
    } else {
        ui.weak("No result yet.");
    }
    actions
}

/// The fields of a component's parameters, by kind: a checkbox for yes/no, a text field
/// for the others, and for entity parameters a button that fills in the selection (as i2's
/// Find Path takes the two selected: "from" gets the first and "to" the second).
pub(crate) fn param_fields(
    ui: &mut egui::Ui,
    id_salt: impl std::hash::Hash + std::fmt::Debug,
    component: &dyn analysis::Component,
    params: &mut BTreeMap<String, String>,
    selected: &[EntityId],
) {
    egui::Grid::new(id_salt).num_columns(2).show(ui, |ui| {
        let mut entity_params = 0;
        for spec in component.params() {
            let label = ui.label(spec.name);
            let value = params.entry(spec.name.to_string()).or_default();
            if spec.kind == analysis::ParamKind::Bool {
                let shown = if value.trim().is_empty() {
                    spec.default.unwrap_or("false")
                } else {
                    value.trim()
                };
                let mut on = matches!(shown, "true" | "yes" | "1");
                if ui
                    .checkbox(&mut on, "")
                    .labelled_by(label.id)
                    .on_hover_text(spec.help)
                    .changed()
                {
                    *value = on.to_string();
                }
                ui.end_row();
                continue;
            }
            ui.horizontal(|ui| {
                ui.add(egui::TextEdit::singleline(value).hint_text(spec.default.unwrap_or("")))
                    .labelled_by(label.id)
                    .on_hover_text(spec.help);
                let from_selection = match spec.kind {
                    analysis::ParamKind::Entity => {
                        let pick = selected.get(entity_params).or(selected.first());
                        entity_params += 1;
                        pick.map(ToString::to_string)
                    }
                    analysis::ParamKind::EntityList => (!selected.is_empty()).then(|| {
                        selected
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    }),
                    _ => return,
                };
                if ui
                    .add_enabled(from_selection.is_some(), egui::Button::new("Use selection"))
                    .on_hover_text("fill in the selected entities")
                    .on_disabled_hover_text("select entities in the chart or a table first")
                    .clicked()
                    && let Some(text) = from_selection
                {
                    *value = text;
                }
            });
            ui.end_row();
        }
    });
}

fn result_list(
    ui: &mut egui::Ui,
    case: &CaseSnapshot,
    view: &ViewState,
    result: &AnalysisResult,
    actions: &mut Vec<Action>,
) {
    let label = |id: EntityId| {
        case.entity(id)
            .map_or_else(|| id.to_string(), |e| e.label.clone())
    };
    match &result.output {
        Output::EntityValues { values } => {
            let mut ranked: Vec<(EntityId, f64)> = values.clone();
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            egui::ScrollArea::vertical().auto_shrink(false).show_rows(
                ui,
                18.0,
                ranked.len(),
                |ui, range| {
                    for (rank, (id, v)) in ranked[range.clone()].iter().enumerate() {
                        let selected = view.selection.contains(&ItemRef::Entity(*id));
                        if ui
                            .selectable_label(
                                selected,
                                format!("{:>4}. {}  {v:.6}", range.start + rank + 1, label(*id)),
                            )
                            .clicked()
                        {
                            actions.push(Action::Select {
                                item: ItemRef::Entity(*id),
                                additive: false,
                            });
                        }
                    }
                },
            );
        }
        Output::Communities {
            assignment,
            modularity,
        } => {
            let mut groups: BTreeMap<u32, Vec<EntityId>> = BTreeMap::new();
            for &(e, c) in assignment {
                groups.entry(c).or_default().push(e);
            }
            if let Some(q) = modularity {
                ui.label(format!("{} groups, modularity {q:.4}", groups.len()));
            }
            egui::ScrollArea::vertical()
                .auto_shrink(false)
                .show(ui, |ui| {
                    for (c, members) in groups {
                        ui.collapsing(format!("group {c}: {} entities", members.len()), |ui| {
                            for id in members.iter().take(500) {
                                if ui.link(label(*id)).clicked() {
                                    actions.push(Action::Select {
                                        item: ItemRef::Entity(*id),
                                        additive: false,
                                    });
                                }
                            }
                        });
                    }
                });
        }
        other => {
            egui::ScrollArea::vertical()
                .auto_shrink(false)
                .show(ui, |ui| {
                    ui.monospace(serde_json::to_string_pretty(other).unwrap_or_default());
                });
        }
    }
}

/// Shares a result with the entity table.
pub fn column(results: &[AnalysisResult]) -> Option<Arc<AnalysisColumn>> {
    results
        .last()
        .and_then(AnalysisColumn::from_result)
        .map(Arc::new)
}
