//! One frame of the window: poll the jobs, lay out the panels (menu bar, training banner, jobs
//! and messages at the bottom, filters on the left, inspector on the right, tabs in the
//! centre), collect what the views ask for and apply it at the end of the frame.

use super::{AUTO_LAYOUT_MAX_ENTITIES, Tab, WorkbenchApp};
use crate::store::CaseSnapshot;
use crate::ui::commands::{Menu, UiCommand};
use crate::ui::tables::TableKind;
use crate::ui::{self, Action};
use std::path::PathBuf;
use std::sync::Arc;

/// The review tab lists at most this many entries (and says how many are due in all).
const REVIEW_LIST_MAX: usize = 500;

impl WorkbenchApp {
    /// Draws one frame (also what UI tests drive).
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        if let Some(started) = self.started.take() {
            tracing::info!(
                "first frame {:.0} ms after start",
                started.elapsed().as_secs_f64() * 1000.0
            );
        }
        if !std::mem::replace(&mut self.styled, true) {
            self.apply_theme(&ctx);
        }
        self.poll_jobs();
        self.graph.start_empty_above = self.prefs.whole_chart_max;
        self.auto_layout();
        let mut actions: Vec<Action> = std::mem::take(&mut self.deferred);
        actions.extend(UiCommand::from_shortcuts(&ctx).into_iter().map(Action::Run));
        self.menu_bar(ui, &mut actions);
        if let Some(open) = &self.open
            && open.training
        {
            egui::Panel::top("training").show(ui, |ui| {
                ui.colored_label(
                    egui::Color32::from_rgb(230, 160, 0),
                    "TRAINING MODE: this case was generated; it holds no real people.",
                );
            });
        }
        self.jobs_and_messages(ui);
        match self.open.as_ref().map(|o| Arc::clone(&o.snapshot)) {
            Some(snapshot) => {
                egui::Panel::left("filters")
                    .resizable(true)
                    .default_size(200.0)
                    .show(ui, |ui| {
                        ui::filters::show(
                            ui,
                            &snapshot,
                            &mut self.view,
                            &mut self.dialogs.focus_search,
                        );
                    });
                egui::Panel::right("inspector")
                    .resizable(true)
                    .default_size(340.0)
                    .size_range(240.0..=560.0)
                    .show(ui, |ui| actions.extend(self.inspector(ui, &snapshot)));
                egui::CentralPanel::default()
                    .show(ui, |ui| actions.extend(self.centre(ui, &snapshot)));
            }
            None => {
                egui::CentralPanel::default().show(ui, |ui| self.no_case(ui, &mut actions));
            }
        }
        self.dialogs(&ctx, &mut actions);
        // A file dropped on the window starts the import wizard with it.
        let dropped = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .find(|p| !p.as_os_str().is_empty())
        });
        if let Some(path) = dropped {
            self.open_import(Some(&path));
        }
        self.import_window(&ctx);
        self.export_window(&ctx);
        self.anchor_log_window(&ctx);
        if let Some(open) = &self.open {
            let snapshot = Arc::clone(&open.snapshot);
            actions.extend(ui::editor::show(
                &ctx,
                &snapshot,
                &mut self.editor,
                &self.actor.analyst,
            ));
        }
        self.apply_actions(&ctx, actions);
    }

    /// The menus, generated from the command list, and the case's title.
    fn menu_bar(&mut self, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
        egui::Panel::top("menu").show(ui, |ui| {
            egui::MenuBar::new().ui(ui, |ui| {
                for (menu, title) in [
                    (Menu::File, "File"),
                    (Menu::Edit, "Edit"),
                    (Menu::View, "View"),
                    (Menu::Help, "Help"),
                ] {
                    ui.menu_button(title, |ui| self.menu(ui, menu, actions));
                }
                if let Some(open) = &self.open {
                    ui.separator();
                    ui.label(format!(
                        "{} · generation {}",
                        open.snapshot.title, open.snapshot.generation
                    ));
                }
            });
        });
    }

    fn menu(&mut self, ui: &mut egui::Ui, menu: Menu, actions: &mut Vec<Action>) {
        for command in UiCommand::ALL.into_iter().filter(|c| c.menu() == menu) {
            let mut button = egui::Button::new(command.label());
            if let Some(s) = command.shortcut() {
                button = button.shortcut_text(ui.ctx().format_shortcut(&s));
            }
            if ui.add(button).clicked() {
                actions.push(Action::Run(command));
                ui.close();
            }
        }
        if menu == Menu::View {
            ui.separator();
            ui.checkbox(
                &mut self.prefs.auto_layout,
                "Lay out new charts automatically",
            )
            .on_hover_text(format!(
                "run the force layout when the graph first shows a case of up to {AUTO_LAYOUT_MAX_ENTITIES} entities"
            ));
            ui.horizontal(|ui| {
                ui.label("Open the whole case on the chart up to");
                ui.add(
                    egui::DragValue::new(&mut self.prefs.whole_chart_max)
                        .range(0..=1_000_000)
                        .speed(50),
                );
                ui.label("entities");
            })
            .response
            .on_hover_text(
                "larger cases open on an empty chart, built by search, expand and path; \
                 applies to the next case opened",
            );
        }
        if menu == Menu::View {
            ui.separator();
            if ui
                .button("Anchor log…")
                .on_hover_text("where audit heads are kept outside the case")
                .clicked()
            {
                self.views.anchor_log_window = true;
                ui.close();
            }
        }
        if menu == Menu::File && !self.prefs.recent.is_empty() {
            ui.separator();
            ui.weak("Recent cases");
            for path in self.prefs.recent.clone() {
                if ui.button(path.display().to_string()).clicked() {
                    self.ask_to_open(path);
                    ui.close();
                }
            }
        }
    }

    /// Running jobs with their progress and a cancel button, then the latest messages.
    fn jobs_and_messages(&mut self, ui: &mut egui::Ui) {
        egui::Panel::bottom("jobs-and-messages")
            .resizable(true)
            .default_size(90.0)
            .show(ui, |ui| {
                for job in self.jobs.running() {
                    ui.horizontal(|ui| {
                        let (fraction, message) = job
                            .progress
                            .as_ref()
                            .map_or((None, ""), |p| (p.fraction, p.message.as_str()));
                        ui.label(format!("{}: {message}", job.name));
                        let bar =
                            egui::ProgressBar::new(fraction.unwrap_or(0.0)).desired_width(200.0);
                        ui.add(if fraction.is_some() {
                            bar.show_percentage()
                        } else {
                            bar.animate(true)
                        });
                        if ui.button("Cancel").clicked() {
                            job.cancel.cancel();
                        }
                    });
                }
                egui::ScrollArea::vertical()
                    .stick_to_bottom(true)
                    .show(ui, |ui| {
                        for m in self.messages.iter().rev().take(50).rev() {
                            if m.error {
                                ui.colored_label(ui.visuals().error_fg_color, &m.text);
                            } else {
                                ui.label(&m.text);
                            }
                        }
                    });
            });
    }

    /// The inspector of the focused item, with its audit history (read once per item and
    /// generation) and the latest merge proposals.
    fn inspector(&mut self, ui: &mut egui::Ui, snapshot: &CaseSnapshot) -> Vec<Action> {
        ui.heading("Inspector");
        let focus = self.view.focus();
        let key = focus.map(|f| (f, snapshot.generation));
        if self.views.history.as_ref().map(|h| (h.0, h.1)) != key {
            self.views.history = focus.map(|f| {
                let records = self
                    .open
                    .as_ref()
                    .and_then(|o| o.case.audit_history(f).ok())
                    .unwrap_or_default();
                (f, snapshot.generation, records)
            });
            self.views.absorbed = match (focus, &self.open) {
                (Some(crate::model::ItemRef::Entity(e)), Some(o)) => {
                    o.case.absorbed_into(e).unwrap_or_default()
                }
                _ => Vec::new(),
            };
        }
        let history = self.views.history.as_ref().map_or(&[][..], |h| &h.2[..]);
        let proposals = super::work::latest_proposals(&self.analysis);
        ui::inspector::show(
            ui,
            snapshot,
            &self.view,
            &mut self.views.inspector,
            ui::inspector::Context {
                history,
                proposals,
                absorbed: &self.views.absorbed,
                analyst: &self.actor.analyst,
            },
        )
    }

    /// The anchor log preference (View → Anchor log…): where every new audit head is
    /// anchored, for instance on a write-once medium. Applied at once and kept with the
    /// preferences.
    fn anchor_log_window(&mut self, ctx: &egui::Context) {
        if !self.views.anchor_log_window {
            return;
        }
        let current = crate::store::anchor::workstation().anchor_log;
        let mut open = true;
        let mut chosen = None;
        // Empty: the log in force is shown below it, and a new path is typed over nothing.
        let text = self.views.anchor_log_text.get_or_insert_with(String::new);
        egui::Window::new("Anchor log")
            .open(&mut open)
            .collapsible(false)
            .show(ctx, |ui| {
                ui.label(
                    "Every new audit head is also appended to the anchor log, outside the \
                     case, so that a log cut short or rewritten is caught. Point it at a \
                     write-once medium.",
                );
                ui.horizontal(|ui| {
                    let l = ui.label("New anchor log");
                    ui.add(
                        egui::TextEdit::singleline(text)
                            .hint_text("path of the anchor log")
                            .desired_width(320.0),
                    )
                    .labelled_by(l.id);
                });
                let path = PathBuf::from(text.trim());
                let changed = !text.trim().is_empty() && current.as_ref() != Some(&path);
                if ui
                    .add_enabled(changed, egui::Button::new("Use this anchor log"))
                    .clicked()
                {
                    chosen = Some(path);
                }
                match &current {
                    Some(log) => ui.weak(format!("In force: {}", log.display())),
                    None => ui.weak("Anchoring is off"),
                };
            });
        if let Some(path) = chosen {
            super::set_anchor_log(path.clone());
            self.info(format!("Audit heads are anchored in {}", path.display()));
            self.prefs.anchor_log = Some(path);
            self.views.anchor_log_text = None;
        }
        if !open {
            self.views.anchor_log_window = false;
        }
    }

    /// The tabs and the view of the chosen one.
    fn centre(&mut self, ui: &mut egui::Ui, snapshot: &CaseSnapshot) -> Vec<Action> {
        ui.horizontal(|ui| {
            for (tab, label) in [
                (Tab::Graph, "Graph"),
                (Tab::Entities, "Entities"),
                (Tab::Links, "Links"),
                (Tab::Events, "Events"),
                (Tab::Timeline, "Timeline"),
                (Tab::Analysis, "Analysis"),
                (Tab::Audit, "Audit log"),
                (Tab::Review, "Review"),
            ] {
                ui.selectable_value(&mut self.tab, tab, label);
            }
            if self.open.as_ref().is_some_and(|o| o.truth.is_some()) {
                ui.selectable_value(&mut self.tab, Tab::Truth, "Ground truth");
            }
        });
        ui.separator();
        let analysis_running = self.analysis_running();
        self.analysis.working_set = self.graph.chart.state.on_chart.as_ref().map(|s| s.len());
        let views = &mut self.views;
        match self.tab {
            Tab::Graph => ui::graph::show(ui, snapshot, &self.view, &mut self.graph),
            Tab::Entities => ui::tables::show(
                ui,
                snapshot,
                TableKind::Entities,
                &self.view,
                &mut views.tables[0],
            ),
            Tab::Links => ui::tables::show(
                ui,
                snapshot,
                TableKind::Links,
                &self.view,
                &mut views.tables[1],
            ),
            Tab::Events => ui::tables::show(
                ui,
                snapshot,
                TableKind::Events,
                &self.view,
                &mut views.tables[2],
            ),
            Tab::Timeline => ui::timeline::show(ui, snapshot, &self.view, &mut views.timeline),
            Tab::Analysis => ui::analysis::show(
                ui,
                snapshot,
                &self.view,
                &mut self.analysis,
                analysis_running,
            ),
            Tab::Truth => ui::truth::show(
                ui,
                snapshot,
                self.open.as_ref().and_then(|o| o.truth.as_ref()),
            ),
            Tab::Review => {
                let Some(open) = &self.open else {
                    return Vec::new();
                };
                let due_by = views.review.due_by();
                let generation = open.case.generation();
                let fresh = views
                    .review_list
                    .as_ref()
                    .is_some_and(|(g, d, _)| *g == generation && *d == due_by);
                if !fresh {
                    let list = open
                        .case
                        .review_due(&due_by, REVIEW_LIST_MAX)
                        .map_err(|e| e.to_string());
                    views.review_list = Some((generation, due_by, list));
                }
                let list = views.review_list.as_ref().map(|(_, _, l)| l);
                match list {
                    Some(list) => ui::review::show(
                        ui,
                        &mut views.review,
                        list.as_ref().map_err(String::as_str),
                    ),
                    None => Vec::new(),
                }
            }
            Tab::Audit => {
                let records = self
                    .open
                    .as_ref()
                    .map(|o| o.case.audit_records().map_err(|e| e.to_string()));
                if let Some(records) = records {
                    ui::audit::show(ui, records.as_deref().map_err(String::as_str));
                }
                Vec::new()
            }
        }
    }

    /// The window without a case: open, create, the demo, recent cases.
    fn no_case(&mut self, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
        ui.vertical_centered(|ui| {
            ui.add_space(80.0);
            ui.heading("COPKIT Workbench");
            ui.label("No case is open.");
            ui.add_space(12.0);
            if ui.button("Open case…").clicked() {
                actions.push(Action::Run(UiCommand::OpenCase));
            }
            if ui.button("New case…").clicked() {
                actions.push(Action::Run(UiCommand::NewCase));
            }
            if ui.button("Open the demo case (training)").clicked() {
                actions.push(Action::Run(UiCommand::OpenDemo));
            }
            if !self.prefs.recent.is_empty() {
                ui.add_space(12.0);
                ui.weak("Recent cases");
                for path in self.prefs.recent.clone() {
                    if ui.link(path.display().to_string()).clicked() {
                        self.ask_to_open(path);
                    }
                }
            }
            if self.running.any(super::jobs::JobKind::OpenCase) {
                ui.spinner();
            }
        });
    }
}
