//! The ground-truth panel of a generated (training) case: what the generator planted, for the
//! trainer to reveal after an exercise. Analysis never reads this; only this panel, `copkit
//! truth` and `copkit score` do.

use super::{Action, time_text};
use crate::generate::Truth;
use crate::model::{EntityId, ItemRef};
use crate::store::CaseSnapshot;

fn entity_link(ui: &mut egui::Ui, case: &CaseSnapshot, id: EntityId, actions: &mut Vec<Action>) {
    let label = case
        .entity(id)
        .map_or_else(|| id.to_string(), |e| e.label.clone());
    if ui.link(label).clicked() {
        actions.push(Action::Select {
            item: ItemRef::Entity(id),
            additive: false,
        });
    }
}

pub fn show(ui: &mut egui::Ui, case: &CaseSnapshot, truth: Option<&Truth>) -> Vec<Action> {
    let mut actions = Vec::new();
    let Some(truth) = truth else {
        ui.weak("This case has no planted ground truth (it was not generated).");
        return actions;
    };
    ui.colored_label(
        ui.visuals().warn_fg_color,
        "Planted ground truth: reveal only after the exercise.",
    );
    egui::ScrollArea::vertical()
        .auto_shrink(false)
        .show(ui, |ui| {
            ui.collapsing(format!("Leaders ({})", truth.leaders.len()), |ui| {
                for &id in &truth.leaders {
                    entity_link(ui, case, id, &mut actions);
                }
            });
            let mut cells: std::collections::BTreeMap<Option<u32>, Vec<&crate::generate::Member>> =
                Default::default();
            for m in &truth.members {
                cells.entry(m.cell).or_default().push(m);
            }
            ui.collapsing(
                format!("Members by cell ({} people)", truth.members.len()),
                |ui| {
                    for (cell, members) in cells {
                        let title = cell.map_or_else(
                            || "outside the cells".to_string(),
                            |c| format!("cell {c}"),
                        );
                        ui.collapsing(format!("{title}: {}", members.len()), |ui| {
                            for m in members {
                                ui.horizontal(|ui| {
                                    ui.label(&m.role);
                                    entity_link(ui, case, m.entity, &mut actions);
                                });
                            }
                        });
                    }
                },
            );
            ui.collapsing(
                format!("Duplicate records ({})", truth.duplicates.len()),
                |ui| {
                    for d in &truth.duplicates {
                        ui.horizontal(|ui| {
                            entity_link(ui, case, d.original, &mut actions);
                            ui.label("=");
                            entity_link(ui, case, d.duplicate, &mut actions);
                        });
                    }
                },
            );
            ui.collapsing(format!("Aliases ({})", truth.aliases.len()), |ui| {
                for a in &truth.aliases {
                    ui.horizontal(|ui| {
                        entity_link(ui, case, a.person, &mut actions);
                        ui.label(format!("alias \"{}\"", a.alias));
                    });
                }
            });
            ui.collapsing(
                format!(
                    "Phone hand-overs ({}) and swaps ({})",
                    truth.handovers.len(),
                    truth.phone_swaps.len()
                ),
                |ui| {
                    for h in &truth.handovers {
                        ui.horizontal(|ui| {
                            ui.label(time_text(h.at_ms));
                            entity_link(ui, case, h.phone, &mut actions);
                            ui.label("passed from");
                            entity_link(ui, case, h.from, &mut actions);
                            ui.label("to");
                            entity_link(ui, case, h.to, &mut actions);
                        });
                    }
                    for s in &truth.phone_swaps {
                        ui.horizontal(|ui| {
                            ui.label(time_text(s.at_ms));
                            entity_link(ui, case, s.person, &mut actions);
                            ui.label("swapped");
                            entity_link(ui, case, s.old_phone, &mut actions);
                            ui.label("for");
                            entity_link(ui, case, s.new_phone, &mut actions);
                        });
                    }
                },
            );
            ui.collapsing("Early-warning burst and incidents", |ui| {
                ui.label(format!(
                    "Burst {} – {}",
                    time_text(truth.burst.start_ms),
                    time_text(truth.burst.end_ms)
                ));
                if ui.button("Set the time filter to the burst").clicked() {
                    actions.push(Action::SetTimeFilter(Some((
                        truth.burst.start_ms,
                        truth.burst.end_ms,
                    ))));
                }
                for i in &truth.incidents {
                    ui.label(format!(
                        "{} {} ({} arrested)",
                        time_text(i.at_ms),
                        i.kind,
                        i.arrested.len()
                    ));
                }
            });
            ui.collapsing(
                format!(
                    "Sources ({}), false links from unreliable ones: {}",
                    truth.sources.len(),
                    truth.false_links.len()
                ),
                |ui| {
                    for s in &truth.sources {
                        ui.label(format!(
                            "B{} {} graded {}{}",
                            s.batch.0,
                            s.name,
                            s.grade,
                            if s.reliable { "" } else { " (unreliable)" }
                        ));
                    }
                },
            );
        });
    actions
}
