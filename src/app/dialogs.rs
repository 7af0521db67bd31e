//! The modal windows: a typed case path (when no file dialog answers), the purpose of opening a
//! case, the command palette, and the windows of the import wizard and the export dialog.

use super::WorkbenchApp;
use super::case::PendingOpen;
use crate::ui::commands::UiCommand;
use crate::ui::{self, Action};
use std::path::PathBuf;

impl WorkbenchApp {
    /// The modal prompts: a typed case path, the purpose of opening, the command palette.
    pub(super) fn dialogs(&mut self, ctx: &egui::Context, actions: &mut Vec<Action>) {
        if let Some((text, create)) = &mut self.dialogs.path_prompt {
            let mut done = None;
            egui::Modal::new(egui::Id::unique("path-prompt")).show(ctx, |ui| {
                ui.heading(if *create { "New case" } else { "Open case" });
                if !*create {
                    ui.weak("No file dialog answered, or it was cancelled. Without a desktop portal (a minimal or remote desktop) the system has no file dialog; type the path instead.");
                }
                let label = ui.label("Path of the case file (.copkit):");
                let response = ui.text_edit_singleline(text).labelled_by(label.id);
                response.request_focus();
                ui.horizontal(|ui| {
                    let enter =
                        response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                    if (ui.button("OK").clicked() || enter) && !text.trim().is_empty() {
                        done = Some(Some(PathBuf::from(text.trim())));
                    }
                    if ui.button("Cancel").clicked() {
                        done = Some(None);
                    }
                });
            });
            if let Some(result) = done {
                let create = *create;
                self.dialogs.path_prompt = None;
                if let Some(path) = result {
                    self.dialogs.pending = Some(PendingOpen {
                        path,
                        purpose: String::new(),
                        create,
                    });
                }
            }
        }
        if let Some(pending) = &mut self.dialogs.pending {
            let mut decision = None;
            egui::Modal::new(egui::Id::unique("purpose")).show(ctx, |ui| {
                ui.heading("Purpose of access");
                ui.label(format!("{}", pending.path.display()));
                let label = ui.label("Give the case reference or justification. It is recorded in the case's audit log.");
                let response = ui.text_edit_singleline(&mut pending.purpose).labelled_by(label.id);
                response.request_focus();
                ui.horizontal(|ui| {
                    let ready = !pending.purpose.trim().is_empty();
                    let enter = response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                    if ui.add_enabled(ready, egui::Button::new("Open")).clicked() || (ready && enter) {
                        decision = Some(true);
                    }
                    if ui.button("Cancel").clicked() {
                        decision = Some(false);
                    }
                });
            });
            match decision {
                Some(true) => {
                    if let Some(pending) = self.dialogs.pending.take() {
                        self.start_open(pending);
                    }
                }
                Some(false) => self.dialogs.pending = None,
                None => {}
            }
        }
        if let Some(page) = self.dialogs.help {
            let mut open = true;
            let title = match page {
                super::HelpPage::Shortcuts => "Keyboard shortcuts",
                super::HelpPage::About => "About COPKIT Workbench",
            };
            egui::Window::new(title)
                .open(&mut open)
                .collapsible(false)
                .show(ctx, |ui| match page {
                    super::HelpPage::Shortcuts => {
                        egui::Grid::new("shortcuts").striped(true).show(ui, |ui| {
                            for c in UiCommand::ALL {
                                if let Some(s) = c.shortcut() {
                                    ui.label(ctx.format_shortcut(&s));
                                    ui.label(c.label());
                                    ui.end_row();
                                }
                            }
                            for (keys, what) in [
                                ("drag the background", "pan the chart"),
                                ("mouse wheel", "zoom towards the pointer"),
                                ("shift-drag", "select a box (chart), brush a time range (timeline)"),
                                ("ctrl-click", "add to or take from the selection"),
                                ("right-click", "the chart's menu: expand, remove, path, hide, pin, collapse, export"),
                                ("double-click a collection", "open it"),
                            ] {
                                ui.label(keys);
                                ui.label(what);
                                ui.end_row();
                            }
                        });
                    }
                    super::HelpPage::About => {
                        ui.heading(concat!("COPKIT Workbench ", env!("CARGO_PKG_VERSION")));
                        ui.label("An offline analyst workbench for investigations into organised crime and terrorism: case files with provenance, grading and a hash-chained audit log; link chart, timeline, tables; analysis components; synthetic training cases.");
                        ui.label("It never opens a network connection, has no telemetry and downloads nothing.");
                        ui.label(concat!("Licence: ", env!("CARGO_PKG_LICENSE")));
                    }
                });
            if !open {
                self.dialogs.help = None;
            }
        }
        if let Some(filter) = &mut self.dialogs.palette {
            let mut chosen = None;
            let mut close = false;
            egui::Modal::new(egui::Id::unique("palette")).show(ctx, |ui| {
                let label = ui.label("Command");
                let response = ui.text_edit_singleline(filter).labelled_by(label.id);
                response.request_focus();
                let needle = filter.to_lowercase();
                let matching: Vec<UiCommand> = UiCommand::ALL
                    .into_iter()
                    .filter(|c| c.label().to_lowercase().contains(&needle))
                    .collect();
                for c in &matching {
                    if ui.button(c.label()).clicked() {
                        chosen = Some(*c);
                    }
                }
                if ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                    chosen = matching.first().copied();
                }
                if ui.input(|i| i.key_pressed(egui::Key::Escape)) {
                    close = true;
                }
            });
            if chosen.is_some() || close {
                self.dialogs.palette = None;
            }
            if let Some(c) = chosen {
                actions.push(Action::Run(c));
            }
        }
    }

    /// Shows the import wizard's window and acts on what it asks.
    pub(super) fn import_window(&mut self, ctx: &egui::Context) {
        if self.open.is_none() {
            self.import = None;
        }
        let progress = self.import_progress();
        let running = progress.is_some();
        let Some(wizard) = &mut self.import else {
            return;
        };
        let mut requests = Vec::new();
        let mut keep_open = true;
        egui::Window::new("Import")
            .open(&mut keep_open)
            .default_width(720.0)
            .collapsible(false)
            .show(ctx, |ui| {
                requests = ui::import::show(ui, wizard, progress);
            });
        if !keep_open && !running {
            requests.push(ui::import::WizardRequest::Close);
        }
        self.handle_wizard(requests);
    }

    /// Shows the export dialog and acts on what it asks.
    pub(super) fn export_window(&mut self, ctx: &egui::Context) {
        let (Some(dialog), true) = (&mut self.export, self.open.is_some()) else {
            return;
        };
        let mut request = ui::export_dialog::ExportRequestUi::None;
        let mut keep_open = true;
        egui::Window::new("Export case")
            .open(&mut keep_open)
            .default_width(600.0)
            .collapsible(false)
            .show(ctx, |ui| request = ui::export_dialog::show(ui, dialog));
        if !keep_open && !dialog.running {
            request = ui::export_dialog::ExportRequestUi::Close;
        }
        self.handle_export(request);
    }
}
