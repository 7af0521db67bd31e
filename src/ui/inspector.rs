//! The inspector: the focused item's attributes, each value with its provenance and grading;
//! its connected items and events; the analyst's notes; editing with a reason (grading,
//! handling, restricted, person category, review date, values added, changed, graded and
//! removed, delete, split a merge back); merging the selection by hand, and the merge
//! proposals of entity resolution with their explanations, to accept or reject. Every edit is
//! one store command, so it is audited with its reason and undoable.

use super::editor::parse_grading;
use super::{Action, ViewState, grade_text, time_text};
use crate::analysis::MergeProposal;
use crate::model::{
    Attribute, AttributeId, EntityId, ItemRef, NewAttribute, NewNote, Note, NoteId, PersonCategory,
    Provenance,
};
use crate::store::{CaseSnapshot, Command, now_utc};

/// What the inspector reads besides the snapshot.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// The focused item's audit history.
    pub history: &'a [crate::store::AuditRecord],
    /// The latest merge proposals of entity resolution.
    pub proposals: &'a [MergeProposal],
    /// The entities merged into the focused one, with their labels (to split out).
    pub absorbed: &'a [(EntityId, String)],
    /// Who is editing (for the provenance of values and notes entered by hand).
    pub analyst: &'a str,
}

/// The editing fields, for one focused item (cleared when the focus moves).
#[derive(Debug, Default, Clone)]
struct EditFields {
    item: Option<ItemRef>,
    /// The reason every change here is recorded with.
    reason: String,
    grade: String,
    handling: String,
    category: Option<PersonCategory>,
    review_date: String,
    /// The value chosen in the attribute list, and its text being edited.
    value: Option<(AttributeId, String)>,
    new_property: String,
    new_value: String,
    new_source: String,
    new_grade: String,
    new_handling: String,
    note_text: String,
    note_source: String,
    note_grade: String,
    /// The note being edited (else a new note is added).
    note: Option<NoteId>,
}

/// Text fields of the inspector that live across frames.
#[derive(Debug, Default, Clone)]
pub struct InspectorState {
    editing: Option<(EntityId, String, String)>,
    edit: EditFields,
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
    context: Context<'_>,
) -> Vec<Action> {
    let Context {
        history,
        proposals,
        absorbed,
        analyst,
    } = context;
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
            // Merge proposals first: when there are any, they are the decision at hand.
            if let ItemRef::Entity(id) = focus {
                merge_section(ui, case, view, id, proposals, state, &mut actions);
            }
            notes(ui, case, focus, &mut state.edit, &mut actions);
            edit_section(
                ui,
                case,
                focus,
                &mut state.edit,
                absorbed,
                analyst,
                &mut actions,
            );
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

/// The focused item's grading, review date, restricted flag and notes, as they stand.
type ItemFacts<'a> = (
    Option<&'a crate::model::Grading>,
    Option<&'a str>,
    bool,
    &'a [Note],
);

fn item_facts(case: &CaseSnapshot, item: ItemRef) -> Option<ItemFacts<'_>> {
    Some(match item {
        ItemRef::Entity(id) => {
            let e = case.entity(id)?;
            (
                e.grading.as_ref(),
                e.review_date.as_deref(),
                e.restricted,
                &e.notes[..],
            )
        }
        ItemRef::Link(id) => {
            let l = case.link(id)?;
            (
                l.grading.as_ref(),
                l.review_date.as_deref(),
                l.restricted,
                &l.notes[..],
            )
        }
        ItemRef::Event(id) => {
            let v = case.event(id)?;
            (
                v.grading.as_ref(),
                v.review_date.as_deref(),
                v.restricted,
                &v.notes[..],
            )
        }
    })
}

/// The analyst's notes on the item (i2's cards), each with its source and grading; adding,
/// changing and removing one.
fn notes(
    ui: &mut egui::Ui,
    case: &CaseSnapshot,
    focus: ItemRef,
    edit: &mut EditFields,
    actions: &mut Vec<Action>,
) {
    let Some((.., notes)) = item_facts(case, focus) else {
        return;
    };
    reset_for(edit, case, focus);
    ui.separator();
    ui.strong("Notes");
    if notes.is_empty() {
        ui.weak("no notes");
    }
    let reason = edit.reason.trim().to_string();
    for n in notes {
        ui.group(|ui| {
            ui.label(&n.text);
            ui.weak(format!(
                "{} · {} · {} · {}",
                n.id,
                n.analyst,
                n.created_utc,
                n.source_ref.as_deref().unwrap_or("no source given")
            ));
            ui.weak(grade_text(n.grading.as_ref()));
            ui.horizontal_wrapped(|ui| {
                if ui.small_button(format!("Edit {}", n.id)).clicked() {
                    edit.note = Some(n.id);
                    edit.note_text = n.text.clone();
                    edit.note_source = n.source_ref.clone().unwrap_or_default();
                    edit.note_grade = n
                        .grading
                        .as_ref()
                        .map(|g| {
                            format!(
                                "{}{}",
                                g.source.as_deref().unwrap_or(""),
                                g.information.as_deref().unwrap_or("")
                            )
                        })
                        .unwrap_or_default();
                }
                if ui
                    .add_enabled(
                        !reason.is_empty(),
                        egui::Button::new(format!("Remove {}", n.id)).small(),
                    )
                    .on_disabled_hover_text("give a reason (below) first")
                    .clicked()
                {
                    actions.push(Action::Apply(Box::new(Command::RemoveNote {
                        id: n.id,
                        reason: reason.clone(),
                    })));
                }
            });
        });
    }
    let l = ui.label(match edit.note {
        Some(id) => format!("Change {id}"),
        None => "New note".to_string(),
    });
    ui.add(
        egui::TextEdit::multiline(&mut edit.note_text)
            .desired_rows(2)
            .hint_text("what the analyst knows or suspects"),
    )
    .labelled_by(l.id);
    ui.horizontal_wrapped(|ui| {
        let l = ui.label("Note source");
        ui.add(egui::TextEdit::singleline(&mut edit.note_source).desired_width(120.0))
            .labelled_by(l.id);
        let l = ui.label("Note grading");
        ui.add(egui::TextEdit::singleline(&mut edit.note_grade).desired_width(40.0))
            .labelled_by(l.id);
    });
    let grading = parse_grading(case, &edit.note_grade, "");
    if let Err(e) = &grading {
        ui.colored_label(ui.visuals().warn_fg_color, e);
    }
    let text = edit.note_text.trim().to_string();
    let source = Some(edit.note_source.trim().to_string()).filter(|s| !s.is_empty());
    match edit.note {
        None => {
            if ui
                .add_enabled(
                    !text.is_empty() && grading.is_ok(),
                    egui::Button::new("Add note"),
                )
                .clicked()
                && let Ok(grading) = grading
            {
                actions.push(Action::Apply(Box::new(Command::AddNote {
                    owner: focus,
                    note: NewNote {
                        text,
                        source_ref: source,
                        grading,
                    },
                })));
                edit.note_text.clear();
                edit.note_source.clear();
                edit.note_grade.clear();
            }
        }
        Some(id) => {
            ui.horizontal_wrapped(|ui| {
                if ui
                    .add_enabled(
                        !text.is_empty() && grading.is_ok() && !reason.is_empty(),
                        egui::Button::new("Save note"),
                    )
                    .on_disabled_hover_text("a text and a reason (below) are needed")
                    .clicked()
                    && let Ok(grading) = grading
                {
                    actions.push(Action::Apply(Box::new(Command::EditNote {
                        id,
                        text: Some(text),
                        source_ref: Some(source),
                        grading: Some(grading),
                        reason: reason.clone(),
                    })));
                    edit.note = None;
                    edit.note_text.clear();
                    edit.note_source.clear();
                    edit.note_grade.clear();
                }
                if ui.button("Cancel").clicked() {
                    edit.note = None;
                    edit.note_text.clear();
                }
            });
        }
    }
}

/// Clears the editing fields when the focus moved to another item.
fn reset_for(edit: &mut EditFields, case: &CaseSnapshot, focus: ItemRef) {
    if edit.item == Some(focus) {
        return;
    }
    *edit = EditFields {
        item: Some(focus),
        ..EditFields::default()
    };
    if let ItemRef::Entity(id) = focus
        && let Some(e) = case.entity(id)
    {
        edit.category = e.category;
    }
    if let Some((_, review, ..)) = item_facts(case, focus) {
        edit.review_date = review.unwrap_or_default().to_string();
    }
}

/// Edits of the focused item, each one store command recorded with the reason given here.
/// Rows wrap rather than widen the panel (a wider inspector would take the chart's room and
/// hide what was fitted into it).
fn edit_section(
    ui: &mut egui::Ui,
    case: &CaseSnapshot,
    focus: ItemRef,
    edit: &mut EditFields,
    absorbed: &[(EntityId, String)],
    analyst: &str,
    actions: &mut Vec<Action>,
) {
    let Some((grading, review, restricted, _)) = item_facts(case, focus) else {
        return;
    };
    ui.separator();
    ui.strong("Edit");
    ui.horizontal_wrapped(|ui| {
        let l = ui.label("Reason");
        ui.add(
            egui::TextEdit::singleline(&mut edit.reason)
                .hint_text("why (recorded in the audit log)")
                .desired_width(220.0),
        )
        .labelled_by(l.id);
    });
    let reason = edit.reason.trim().to_string();
    let ready = !reason.is_empty();
    let mut apply = |command: Command| actions.push(Action::Apply(Box::new(command)));
    let why = "give a reason first";

    // Grading and handling.
    ui.horizontal_wrapped(|ui| {
        let l = ui.label("Grade");
        ui.add(
            egui::TextEdit::singleline(&mut edit.grade)
                .desired_width(40.0)
                .hint_text("B2"),
        )
        .labelled_by(l.id);
        let l = ui.label("Handling");
        ui.add(egui::TextEdit::singleline(&mut edit.handling).desired_width(40.0))
            .labelled_by(l.id);
    });
    let new_grading = parse_grading(case, &edit.grade, &edit.handling);
    if let Err(e) = &new_grading {
        ui.colored_label(ui.visuals().warn_fg_color, e);
    }
    ui.horizontal_wrapped(|ui| {
        let valid = matches!(new_grading, Ok(Some(_)));
        if ui
            .add_enabled(ready && valid, egui::Button::new("Set grading"))
            .on_disabled_hover_text("a grade or handling code and a reason are needed")
            .clicked()
            && let Ok(g) = &new_grading
        {
            apply(Command::SetGrading {
                items: vec![focus],
                grading: g.clone(),
                reason: reason.clone(),
            });
            edit.grade.clear();
            edit.handling.clear();
        }
        if ui
            .add_enabled(
                ready && grading.is_some(),
                egui::Button::new("Make ungraded"),
            )
            .on_disabled_hover_text(why)
            .clicked()
        {
            apply(Command::SetGrading {
                items: vec![focus],
                grading: None,
                reason: reason.clone(),
            });
        }
    });

    // Restricted, category and review date.
    let flag = if restricted {
        "Lift the restriction"
    } else {
        "Mark restricted"
    };
    if ui
        .add_enabled(ready, egui::Button::new(flag))
        .on_hover_text("restricted items stay as evidence but are left out of analysis and exports")
        .on_disabled_hover_text(why)
        .clicked()
    {
        apply(Command::SetRestricted {
            items: vec![focus],
            restricted: !restricted,
            reason: reason.clone(),
        });
    }
    if let ItemRef::Entity(id) = focus
        && case.entity(id).is_some_and(|e| e.entity_type == "Person")
    {
        ui.horizontal_wrapped(|ui| {
            ui.label("Category");
            egui::ComboBox::from_id_salt("inspector-category")
                .selected_text(edit.category.map_or("none", |c| c.as_str()))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut edit.category, None, "none");
                    for c in PersonCategory::ALL {
                        ui.selectable_value(&mut edit.category, Some(c), c.as_str());
                    }
                });
            let current = case.entity(id).and_then(|e| e.category);
            if ui
                .add_enabled(
                    ready && edit.category != current,
                    egui::Button::new("Set category"),
                )
                .on_disabled_hover_text("choose another category and give a reason")
                .clicked()
            {
                apply(Command::SetCategory {
                    ids: vec![id],
                    category: edit.category,
                    reason: reason.clone(),
                });
            }
        });
    }
    ui.horizontal_wrapped(|ui| {
        let l = ui.label("Review date");
        ui.add(
            egui::TextEdit::singleline(&mut edit.review_date)
                .desired_width(100.0)
                .hint_text("YYYY-MM-DD"),
        )
        .labelled_by(l.id);
        let date = edit.review_date.trim().to_string();
        let valid = chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").is_ok();
        let changed = review != Some(date.as_str());
        if ui
            .add_enabled(
                ready && valid && changed,
                egui::Button::new("Set review date"),
            )
            .on_disabled_hover_text("a new date (YYYY-MM-DD) and a reason are needed")
            .clicked()
        {
            apply(Command::SetReviewDate {
                items: vec![focus],
                date: Some(date),
                reason: reason.clone(),
            });
        }
        if review.is_some()
            && ui
                .add_enabled(ready, egui::Button::new("Clear"))
                .on_disabled_hover_text(why)
                .clicked()
        {
            apply(Command::SetReviewDate {
                items: vec![focus],
                date: None,
                reason: reason.clone(),
            });
        }
    });

    // Attribute values: choose one to change, grade or remove; add one.
    let attrs = case.attributes(focus);
    if !attrs.is_empty() {
        ui.label("Value to change:");
        egui::ComboBox::from_id_salt("inspector-value")
            .selected_text(
                edit.value
                    .as_ref()
                    .and_then(|(id, _)| attrs.iter().find(|a| a.id == *id))
                    .map_or("choose a value".to_string(), |a| {
                        format!("{}: {}", a.property, a.value)
                    }),
            )
            .show_ui(ui, |ui| {
                for a in attrs {
                    let chosen = edit.value.as_ref().is_some_and(|(id, _)| *id == a.id);
                    if ui
                        .selectable_label(chosen, format!("{}: {}", a.property, a.value))
                        .clicked()
                    {
                        edit.value = Some((a.id, a.value.clone()));
                    }
                }
            });
        if let Some((id, text)) = &mut edit.value {
            let id = *id;
            ui.horizontal_wrapped(|ui| {
                let l = ui.label("Value");
                ui.add(egui::TextEdit::singleline(text).desired_width(160.0))
                    .labelled_by(l.id);
            });
            let text = text.trim().to_string();
            ui.horizontal_wrapped(|ui| {
                if ui
                    .add_enabled(ready && !text.is_empty(), egui::Button::new("Change value"))
                    .on_disabled_hover_text(why)
                    .clicked()
                {
                    apply(Command::EditAttribute {
                        id,
                        value: text.clone(),
                        reason: reason.clone(),
                    });
                }
                if ui
                    .add_enabled(
                        ready && matches!(new_grading, Ok(Some(_))),
                        egui::Button::new("Grade value"),
                    )
                    .on_disabled_hover_text("type the grade above and give a reason")
                    .clicked()
                    && let Ok(g) = &new_grading
                {
                    apply(Command::SetAttributeGrading {
                        ids: vec![id],
                        grading: g.clone(),
                        reason: reason.clone(),
                    });
                }
                if ui
                    .add_enabled(ready, egui::Button::new("Remove value"))
                    .on_disabled_hover_text(why)
                    .clicked()
                {
                    apply(Command::RemoveAttribute {
                        id,
                        reason: reason.clone(),
                    });
                    edit.value = None;
                }
            });
        }
    }
    ui.label("Add a value:");
    ui.horizontal_wrapped(|ui| {
        let l = ui.label("Property");
        ui.add(egui::TextEdit::singleline(&mut edit.new_property).desired_width(80.0))
            .labelled_by(l.id);
        let l = ui.label("New value");
        ui.add(egui::TextEdit::singleline(&mut edit.new_value).desired_width(110.0))
            .labelled_by(l.id);
    });
    ui.horizontal_wrapped(|ui| {
        let l = ui.label("Value source");
        ui.add(
            egui::TextEdit::singleline(&mut edit.new_source)
                .desired_width(110.0)
                .hint_text("report or log"),
        )
        .labelled_by(l.id);
        let l = ui.label("Value grading");
        ui.add(egui::TextEdit::singleline(&mut edit.new_grade).desired_width(40.0))
            .labelled_by(l.id);
        let l = ui.label("Value handling");
        ui.add(egui::TextEdit::singleline(&mut edit.new_handling).desired_width(40.0))
            .labelled_by(l.id);
    });
    let value_grading = parse_grading(case, &edit.new_grade, &edit.new_handling);
    if let Err(e) = &value_grading {
        ui.colored_label(ui.visuals().warn_fg_color, e);
    }
    let (property, value) = (edit.new_property.trim(), edit.new_value.trim());
    if ui
        .add_enabled(
            !property.is_empty() && !value.is_empty() && value_grading.is_ok(),
            egui::Button::new("Add value"),
        )
        .clicked()
        && let Ok(grading) = value_grading
    {
        apply(Command::AddAttribute {
            owner: focus,
            attribute: NewAttribute {
                property: property.to_string(),
                value: value.to_string(),
                provenance: Provenance::analyst_entry(analyst, &now_utc(), Some(&edit.new_source)),
                grading,
            },
        });
        edit.new_value.clear();
    }

    // Split merged entities back out; delete.
    if let ItemRef::Entity(keep) = focus {
        for (other, label) in absorbed {
            if ui
                .add_enabled(
                    ready,
                    egui::Button::new(format!("Split out {label} ({other})")),
                )
                .on_hover_text(
                    "restore the entity merged into this one, with its values, links and events",
                )
                .on_disabled_hover_text(why)
                .clicked()
            {
                apply(Command::Split {
                    keep,
                    absorbed: *other,
                    reason: reason.clone(),
                });
            }
        }
    }
    if ui
        .add_enabled(ready, egui::Button::new(format!("Delete {focus}")))
        .on_hover_text("an entity takes its links and event roles with it; undo brings all back")
        .on_disabled_hover_text(why)
        .clicked()
    {
        apply(Command::Delete {
            items: vec![focus],
            reason: reason.clone(),
        });
    }
}
