//! The inspector: the focused item's attributes, each value with its provenance and grading;
//! its connected items and events; editing with a reason; merging the selection by hand, and
//! the merge proposals of entity resolution with their explanations, to accept or reject.

use super::{Action, ViewState, grade_text, time_text};
use crate::analysis::MergeProposal;
use crate::model::{Attribute, EntityId, ItemRef};
use crate::store::{CaseSnapshot, Command};

/// Text fields of the inspector that live across frames.
#[derive(Debug, Default, Clone)]
pub struct InspectorState {
    editing: Option<(EntityId, String, String)>,
    /// The reason given for a merge (manual or an accepted proposal).
    merge_reason: String,
    /// Proposals the analyst rejected this session (keep, duplicate).
    rejected: std::collections::BTreeSet<(EntityId, EntityId)>,
}

pub fn show(
    ui: &mut egui::Ui,
    case: &CaseSnapshot,
    view: &ViewState,
    state: &mut InspectorState,
    history: &[crate::store::AuditRecord],
    proposals: &[MergeProposal],
) -> Vec<Action> {
    let mut actions = Vec::new();
    let Some(focus) = view.focus() else {
        ui.weak("Select an item in a table or the timeline to see it here.");
        return actions;
    };
    if view.selection.len() > 1 {
        ui.weak(format!(
            "{} items selected; showing {focus}",
            view.selection.len()
        ));
    }
    egui::ScrollArea::vertical()
        .auto_shrink(false)
        .show(ui, |ui| {
            item_details(ui, case, focus, state, &mut actions);
            if let ItemRef::Entity(id) = focus {
                merge_section(ui, case, view, id, proposals, state, &mut actions);
            }
            ui.separator();
            ui.strong("Audit history");
            if history.is_empty() {
                ui.weak("nothing recorded for this item");
            }
            for r in history {
                ui.label(format!(
                    "{} {} · {} · {}",
                    r.time_utc, r.action, r.actor_analyst, r.purpose
                ))
                .on_hover_text(&r.details);
            }
        });
    actions
}

fn item_details(
    ui: &mut egui::Ui,
    case: &CaseSnapshot,
    focus: ItemRef,
    state: &mut InspectorState,
    actions: &mut Vec<Action>,
) {
    {
        match focus {
            ItemRef::Entity(id) => entity(ui, case, id, state, actions),
            ItemRef::Link(id) => {
                let Some(link) = case.link(id) else {
                    ui.label(format!("{id} is no longer in the case"));
                    return;
                };
                ui.heading(format!("{} link {id}", link.link_type));
                let end = |eid: EntityId| {
                    case.entity(eid)
                        .map_or_else(|| eid.to_string(), |e| e.label.clone())
                };
                ui.label(format!(
                    "{} {} {}",
                    end(link.source),
                    link_arrow(link.directed, true),
                    end(link.target)
                ));
                ui.label(format!(
                    "Strength: {}   Weight: {}",
                    link.strength.as_str(),
                    link.weight.map_or("-".into(), |w| w.to_string())
                ));
                facts(
                    ui,
                    &link.provenance.to_string(),
                    link.grading.as_ref(),
                    link.restricted,
                    link.source_id.as_deref(),
                );
                attributes(ui, &link.attributes);
                ui.horizontal(|ui| {
                    if ui.link(end(link.source)).clicked() {
                        actions.push(Action::Select {
                            item: ItemRef::Entity(link.source),
                            additive: false,
                        });
                    }
                    if ui.link(end(link.target)).clicked() {
                        actions.push(Action::Select {
                            item: ItemRef::Entity(link.target),
                            additive: false,
                        });
                    }
                });
            }
            ItemRef::Event(id) => {
                let Some(event) = case.event(id) else {
                    ui.label(format!("{id} is no longer in the case"));
                    return;
                };
                ui.heading(format!("{} {id}", event.event_type));
                ui.label(format!(
                    "{} UTC{}",
                    time_text(event.time.start_ms),
                    event
                        .time
                        .end_ms
                        .map(|e| format!(" to {}", time_text(e)))
                        .unwrap_or_default()
                ));
                if let Some(text) = &event.time.original_text {
                    ui.label(format!(
                        "As written in the source: {text} ({})",
                        event
                            .time
                            .original_zone
                            .as_deref()
                            .unwrap_or("zone not given")
                    ));
                }
                facts(
                    ui,
                    &event.provenance.to_string(),
                    event.grading.as_ref(),
                    event.restricted,
                    event.source_id.as_deref(),
                );
                ui.strong("Participants");
                for p in &event.participants {
                    let label = case
                        .entity(p.entity)
                        .map_or_else(|| p.entity.to_string(), |e| e.label.clone());
                    if ui.link(format!("{}: {label}", p.role.as_str())).clicked() {
                        actions.push(Action::Select {
                            item: ItemRef::Entity(p.entity),
                            additive: false,
                        });
                    }
                }
                attributes(ui, &event.attributes);
            }
        }
    }
}

fn facts(
    ui: &mut egui::Ui,
    provenance: &str,
    grading: Option<&crate::model::Grading>,
    restricted: bool,
    source_id: Option<&str>,
) {
    egui::Grid::new("facts").num_columns(2).show(ui, |ui| {
        ui.label("Source");
        ui.label(provenance);
        ui.end_row();
        ui.label("Source id");
        ui.label(source_id.unwrap_or("-"));
        ui.end_row();
        ui.label("Grading");
        ui.label(grade_text(grading));
        ui.end_row();
        if restricted {
            ui.label("Restricted");
            ui.colored_label(
                ui.visuals().warn_fg_color,
                "kept as evidence, excluded from analysis and export",
            );
            ui.end_row();
        }
    });
}

fn attributes(ui: &mut egui::Ui, attrs: &[Attribute]) {
    if attrs.is_empty() {
        return;
    }
    ui.separator();
    ui.strong("Attributes");
    egui::Grid::new("attributes")
        .striped(true)
        .num_columns(4)
        .show(ui, |ui| {
            ui.weak("property");
            ui.weak("value");
            ui.weak("grading");
            ui.weak("source");
            ui.end_row();
            for a in attrs {
                ui.label(&a.property);
                let value = ui.label(&a.value);
                if let Some(n) = &a.normalized {
                    value.on_hover_text(format!("normalised: {n}"));
                }
                ui.label(grade_text(a.grading.as_ref()));
                ui.label(a.provenance.to_string());
                ui.end_row();
            }
        });
}

fn entity(
    ui: &mut egui::Ui,
    case: &CaseSnapshot,
    id: EntityId,
    state: &mut InspectorState,
    actions: &mut Vec<Action>,
) {
    let Some(e) = case.entity(id) else {
        ui.label(format!("{id} is no longer in the case"));
        return;
    };
    ui.heading(&e.label);
    ui.label(format!(
        "{} {id}{}",
        e.entity_type,
        e.category
            .map(|c| format!(" · {}", c.as_str()))
            .unwrap_or_default()
    ));
    facts(
        ui,
        &e.provenance.to_string(),
        e.grading.as_ref(),
        e.restricted,
        e.source_id.as_deref(),
    );

    let editing_this = matches!(&state.editing, Some((editing_id, ..)) if *editing_id == id);
    if editing_this {
        let mut save = false;
        let mut cancel = false;
        if let Some((_, label, reason)) = &mut state.editing {
            ui.horizontal(|ui| {
                let l = ui.label("Label");
                ui.text_edit_singleline(label).labelled_by(l.id);
            });
            ui.horizontal(|ui| {
                let l = ui.label("Reason");
                ui.text_edit_singleline(reason).labelled_by(l.id);
            });
            let ready = !reason.trim().is_empty() && !label.trim().is_empty();
            ui.horizontal(|ui| {
                save = ui
                    .add_enabled(ready, egui::Button::new("Save"))
                    .on_disabled_hover_text("A reason is required; it goes into the audit log")
                    .clicked();
                cancel = ui.button("Cancel").clicked();
            });
        }
        if save && let Some((_, label, reason)) = state.editing.take() {
            actions.push(Action::Apply(Box::new(Command::EditEntity {
                id,
                label: Some(label),
                entity_type: None,
                source_id: None,
                reason,
            })));
        } else if cancel {
            state.editing = None;
        }
    } else if ui.button("Edit label…").clicked() {
        state.editing = Some((id, e.label.clone(), String::new()));
    }
    attributes(ui, &e.attributes);

    ui.separator();
    ui.strong("Connected");
    let mut shown = 0;
    for link in case
        .links
        .iter()
        .filter(|l| l.source == id || l.target == id)
    {
        let other = if link.source == id {
            link.target
        } else {
            link.source
        };
        let label = case
            .entity(other)
            .map_or_else(|| other.to_string(), |o| o.label.clone());
        // "employed_by -> Whitcombe Builders" on the person, "employed_by <- Zofia Morrison"
        // on the company.
        let text = format!(
            "{} {} {} ({}, {})",
            link.link_type,
            link_arrow(link.directed, link.source == id),
            label,
            link.strength.as_str(),
            grade_text(link.grading.as_ref())
        );
        if ui.link(text).clicked() {
            actions.push(Action::Select {
                item: ItemRef::Entity(other),
                additive: false,
            });
        }
        shown += 1;
        if shown >= 200 {
            ui.weak("… more links; see the links table");
            break;
        }
    }
    if shown == 0 {
        ui.weak("no links");
    }
    ui.separator();
    ui.strong("Events");
    let mut events = 0;
    for ev in case
        .events
        .iter()
        .filter(|ev| ev.participants.iter().any(|p| p.entity == id))
    {
        if ui
            .link(format!("{} {}", time_text(ev.time.start_ms), ev.event_type))
            .clicked()
        {
            actions.push(Action::Select {
                item: ItemRef::Event(ev.id),
                additive: false,
            });
        }
        events += 1;
        if events >= 200 {
            ui.weak("… more events; see the events table");
            break;
        }
    }
    if events == 0 {
        ui.weak("no events");
    }
}

/// Merging: the other selected entities into the focused one by hand, and the proposals of
/// entity resolution that involve the focused entity.
fn merge_section(
    ui: &mut egui::Ui,
    case: &CaseSnapshot,
    view: &ViewState,
    focus: EntityId,
    proposals: &[MergeProposal],
    state: &mut InspectorState,
    actions: &mut Vec<Action>,
) {
    let others: Vec<EntityId> = view
        .selected_entities()
        .into_iter()
        .filter(|e| *e != focus)
        .collect();
    let mine: Vec<&MergeProposal> = proposals
        .iter()
        .filter(|p| p.keep == focus || p.duplicate == focus)
        .filter(|p| !state.rejected.contains(&(p.keep, p.duplicate)))
        .collect();
    if others.is_empty() && mine.is_empty() {
        return;
    }
    ui.separator();
    ui.strong("Merge");
    ui.horizontal(|ui| {
        let label = ui.label("Reason:");
        ui.add(
            egui::TextEdit::singleline(&mut state.merge_reason)
                .hint_text("why these are the same (recorded)")
                .desired_width(200.0),
        )
        .labelled_by(label.id);
    });
    let reason = state.merge_reason.trim().to_string();
    let label = |e: EntityId| {
        case.entity(e)
            .map_or_else(|| e.to_string(), |x| format!("{} ({e})", x.label))
    };
    if !others.is_empty() {
        let text = format!("Merge the {} other selected into this entity", others.len());
        if ui
            .add_enabled(!reason.is_empty(), egui::Button::new(text))
            .on_disabled_hover_text("give a reason first")
            .clicked()
        {
            actions.push(Action::Apply(Box::new(Command::Merge {
                keep: focus,
                absorb: others.clone(),
                method: "manual".into(),
                reason: reason.clone(),
            })));
            state.merge_reason.clear();
        }
    }
    for p in mine {
        let other = if p.keep == focus { p.duplicate } else { p.keep };
        ui.group(|ui| {
            ui.label(format!(
                "Proposed duplicate: {} · score {:.2}",
                label(other),
                p.score
            ));
            for line in &p.explanation {
                ui.weak(format!("- {line}"));
            }
            ui.horizontal(|ui| {
                if ui
                    .button("Accept")
                    .on_hover_text(format!(
                        "merge {} into {}",
                        label(p.duplicate),
                        label(p.keep)
                    ))
                    .clicked()
                {
                    actions.push(Action::Apply(Box::new(Command::Merge {
                        keep: p.keep,
                        absorb: vec![p.duplicate],
                        method: format!("resolve-entities: {}", p.explanation.join("; ")),
                        reason: if reason.is_empty() {
                            "accepted entity-resolution proposal".into()
                        } else {
                            reason.clone()
                        },
                    })));
                }
                if ui.button("Reject").clicked() {
                    state.rejected.insert((p.keep, p.duplicate));
                    actions.push(Action::Record {
                        action: "merge proposal rejected".into(),
                        details: serde_json::json!({
                            "keep": p.keep,
                            "duplicate": p.duplicate,
                            "score": p.score,
                            "explanation": p.explanation,
                        }),
                    });
                }
            });
        });
    }
}

/// Which way a link runs, as the chart's arrow shows it, seen from its source (`->`) or its
/// target (`<-`); an undirected link gets a dash. ASCII arrows: the interface font has no arrow
/// glyphs (it would draw a box).
fn link_arrow(directed: bool, from_source: bool) -> &'static str {
    match (directed, from_source) {
        (false, _) => "—",
        (true, true) => "->",
        (true, false) => "<-",
    }
}
