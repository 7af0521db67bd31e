//! The review tab: the items and import batches whose retention review date has come (the list
//! `copkit review` prints, read by the app from the case), with what an analyst does about
//! each: inspect it, move its review date, mark it reviewed (the date cleared), or purge it
//! after a confirmation that says what is erased. Every change is a store command or the
//! purge, applied and audited by the app.

use super::Action;
use crate::model::{BatchId, EntityId, EventId, ItemRef, LinkId};
use crate::store::{Command, PurgeTarget, ReviewDue, ReviewList};

/// What the review tab keeps between frames.
#[derive(Debug, Clone, Default)]
pub struct ReviewState {
    /// List what is due on or before this date (YYYY-MM-DD); empty: today.
    pub due_by: String,
    /// The new review date typed for each entry (by its reference).
    pub new_dates: std::collections::BTreeMap<String, String>,
    /// The purge waiting for its confirmation.
    pub confirm: Option<PurgeConfirm>,
}

/// A purge asked for, shown with what it erases until confirmed or cancelled.
#[derive(Debug, Clone)]
pub struct PurgeConfirm {
    pub entry: ReviewDue,
    pub reason: String,
}

impl ReviewState {
    /// The date the list is read up to: the one typed, or today (UTC).
    pub fn due_by(&self) -> String {
        if self.due_by.trim().is_empty() {
            chrono::Utc::now().format("%Y-%m-%d").to_string()
        } else {
            self.due_by.trim().to_string()
        }
    }
}

/// The item an entry names (`None` for a batch).
fn item_of(entry: &ReviewDue) -> Option<ItemRef> {
    match entry.kind {
        "entity" => Some(ItemRef::Entity(EntityId(entry.id))),
        "link" => Some(ItemRef::Link(LinkId(entry.id))),
        "event" => Some(ItemRef::Event(EventId(entry.id))),
        _ => None,
    }
}

/// The command that sets (or, with `None`, clears) an entry's review date.
fn review_date_command(entry: &ReviewDue, date: Option<String>, reason: &str) -> Command {
    match item_of(entry) {
        Some(item) => Command::SetReviewDate {
            items: vec![item],
            date,
            reason: reason.into(),
        },
        None => Command::SetBatchReviewDate {
            batch: BatchId(entry.id),
            date,
            reason: reason.into(),
        },
    }
}

/// What a purge of the entry erases, in words, for the confirmation.
pub fn purge_description(entry: &ReviewDue) -> String {
    let what = match entry.kind {
        "entity" => format!(
            "entity {} \"{}\" ({}) with its links, event participations, values and notes",
            entry.reference, entry.label, entry.item_type
        ),
        "link" => format!(
            "link {} ({}) with its values and notes",
            entry.reference, entry.item_type
        ),
        "event" => format!(
            "event {} ({}) with its participations, values and notes",
            entry.reference, entry.item_type
        ),
        _ => format!(
            "import batch {} \"{}\" with everything it brought: its entities, links, events and \
             every value it supplied (refused if other sources use some of its entities)",
            entry.reference, entry.label
        ),
    };
    format!(
        "This erases {what} for good. It cannot be undone, the undo history is dropped, and \
         the values are removed from the file and from the audit records that name them. The \
         erasure itself is recorded with your reason."
    )
}

/// Shows the review list (`list`: read by the app for [`ReviewState::due_by`]).
pub fn show(
    ui: &mut egui::Ui,
    state: &mut ReviewState,
    list: Result<&ReviewList, &str>,
) -> Vec<Action> {
    let mut actions = Vec::new();
    ui.horizontal(|ui| {
        let l = ui.label("Due on or before");
        ui.add(
            egui::TextEdit::singleline(&mut state.due_by)
                .hint_text("today (YYYY-MM-DD)")
                .desired_width(110.0),
        )
        .labelled_by(l.id);
    });
    let list = match list {
        Ok(list) => list,
        Err(e) => {
            ui.colored_label(ui.visuals().error_fg_color, e);
            return actions;
        }
    };
    if list.entries.is_empty() {
        ui.label(format!("Nothing is due for review by {}.", list.due_by));
    } else {
        ui.label(format!(
            "{} due for review by {}{}",
            list.total,
            list.due_by,
            if (list.entries.len() as u64) < list.total {
                format!(" (the first {} shown)", list.entries.len())
            } else {
                String::new()
            }
        ));
    }
    ui.separator();
    egui::ScrollArea::vertical()
        .auto_shrink(false)
        .show(ui, |ui| {
            egui::Grid::new("review list")
                .striped(true)
                .num_columns(6)
                .show(ui, |ui| {
                    for header in ["Item", "Type", "Label", "Review date", "New date", ""] {
                        ui.strong(header);
                    }
                    ui.end_row();
                    for entry in &list.entries {
                        row(ui, state, entry, &mut actions);
                        ui.end_row();
                    }
                });
        });
    if let Some(confirm) = &mut state.confirm {
        let mut decided = None;
        egui::Window::new("Purge for good?")
            .collapsible(false)
            .resizable(false)
            .show(ui.ctx(), |ui| {
                ui.label(purge_description(&confirm.entry));
                ui.horizontal(|ui| {
                    let l = ui.label("Reason (retention rule or decision):");
                    ui.text_edit_singleline(&mut confirm.reason)
                        .labelled_by(l.id);
                });
                ui.horizontal(|ui| {
                    let ready = !confirm.reason.trim().is_empty();
                    if ui
                        .add_enabled(ready, egui::Button::new("Erase for good"))
                        .clicked()
                    {
                        decided = Some(true);
                    }
                    if ui.button("Cancel").clicked() {
                        decided = Some(false);
                    }
                });
            });
        match decided {
            Some(true) => {
                let target = match item_of(&confirm.entry) {
                    Some(item) => PurgeTarget::Items(vec![item]),
                    None => PurgeTarget::Batch(BatchId(confirm.entry.id)),
                };
                actions.push(Action::Purge {
                    target,
                    reason: confirm.reason.trim().to_string(),
                });
                state.confirm = None;
            }
            Some(false) => state.confirm = None,
            None => {}
        }
    }
    actions
}

fn row(ui: &mut egui::Ui, state: &mut ReviewState, entry: &ReviewDue, actions: &mut Vec<Action>) {
    match item_of(entry) {
        Some(item) => {
            if ui
                .link(&entry.reference)
                .on_hover_text("select it and show it in the inspector")
                .clicked()
            {
                actions.push(Action::Select {
                    item,
                    additive: false,
                });
            }
        }
        None => {
            ui.label(&entry.reference);
        }
    }
    ui.label(&entry.item_type);
    ui.label(&entry.label);
    ui.label(&entry.review_date);
    let new_date = state.new_dates.entry(entry.reference.clone()).or_default();
    ui.horizontal(|ui| {
        let l = ui.weak(format!("{}:", entry.reference));
        ui.add(
            egui::TextEdit::singleline(new_date)
                .hint_text("YYYY-MM-DD")
                .desired_width(90.0),
        )
        .labelled_by(l.id);
        if ui
            .add_enabled(
                !new_date.trim().is_empty(),
                egui::Button::new(format!("Set date of {}", entry.reference)),
            )
            .clicked()
        {
            actions.push(Action::Apply(Box::new(review_date_command(
                entry,
                Some(new_date.trim().to_string()),
                "review date moved in the review list",
            ))));
        }
    });
    ui.horizontal(|ui| {
        if ui
            .button(format!("Mark {} reviewed", entry.reference))
            .on_hover_text("kept after review: its review date is cleared (recorded)")
            .clicked()
        {
            actions.push(Action::Apply(Box::new(review_date_command(
                entry,
                None,
                "reviewed and kept",
            ))));
        }
        if ui
            .button(format!("Purge {}…", entry.reference))
            .on_hover_text("erase it for good, after a confirmation")
            .clicked()
        {
            state.confirm = Some(PurgeConfirm {
                entry: entry.clone(),
                reason: String::new(),
            });
        }
    });
}
