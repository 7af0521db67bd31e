//! The one place where what the views and the command list ask for is applied, once per frame:
//! selection, time filter, store commands (the only changes to the case), undo and redo
//! across the case and the chart, and the commands of menus, shortcuts and the palette.

use super::jobs::JobKind;
use super::{Tab, UndoStep, WorkbenchApp};
use crate::store::Command;
use crate::ui::commands::UiCommand;
use crate::ui::{self, Action};

impl WorkbenchApp {
    /// Applies what the views asked for; the only place the case is changed.
    pub(super) fn apply_actions(&mut self, ctx: &egui::Context, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Select { item, additive } => {
                    if additive {
                        if !self.view.selection.remove(&item) {
                            self.view.selection.insert(item);
                        }
                    } else {
                        self.view.selection.clear();
                        self.view.selection.insert(item);
                    }
                }
                Action::SelectMany(items) => {
                    self.view.selection = items.into_iter().collect();
                }
                Action::Hover(item) => self.view.hovered = item,
                Action::ChartChanged => self.undo.push(UndoStep::Chart),
                Action::ExportChart { svg } => self.export_chart(ctx, svg),
                Action::SaveChartImage { path, bytes } => self.save_chart_image(&path, &bytes),
                Action::Error(text) => self.error(text),
                Action::Record { action, details } => {
                    if let Some(open) = &mut self.open
                        && let Err(e) = open.case.record_consultation(&action, details)
                    {
                        self.error(format!("Could not record '{action}' in the audit log: {e}"));
                    }
                }
                Action::Purge { target, reason } => self.purge(&target, &reason),
                Action::SetTimeFilter(filter) => self.view.time_filter = filter,
                Action::Run(command) => self.run_command(ctx, command),
                Action::Apply(command) => {
                    self.apply_store_command(*command);
                }
                Action::Create { command, at } => {
                    if let Some(applied) = self.apply_store_command(*command) {
                        let made: Vec<crate::model::EntityId> = applied
                            .created
                            .iter()
                            .filter_map(|i| match i {
                                crate::model::ItemRef::Entity(e) => Some(*e),
                                _ => None,
                            })
                            .collect();
                        if !made.is_empty() {
                            self.pending_chart_adds.push((made, at));
                        }
                        self.view.selection = applied.created.iter().copied().collect();
                    }
                }
                Action::Open(what) => self.open_editor(what),
                Action::SaveChartSnapshot(name) => self.save_chart_snapshot(name),
                Action::RestoreChartSnapshot(id) => self.restore_chart_snapshot(id),
                Action::RunAnalysis {
                    component,
                    params,
                    scope,
                } => {
                    let only = self.scope_entities(scope);
                    self.run_analysis_on(component, params, only);
                }
                Action::RunChain { file, text, scope } => {
                    let only = self.scope_entities(scope);
                    self.run_chain_on(&file, &text, only);
                }
                Action::ChainFile(request) => self.chain_file(request),
                Action::RunLayout(request) => self.start_layout(request),
                Action::StopLayout => {
                    self.pending_layout = None;
                    self.running.cancel(JobKind::Layout);
                }
                Action::AddPath(a, b) => self.add_path(a, b),
                // The graph view applies its own chart operations; none reach here.
                Action::GraphOp(_) => {}
            }
        }
    }

    /// Applies one store command (small edits are quick; bulk work goes through jobs);
    /// returns what it did, or `None` when it was refused (the message says why).
    pub fn apply_store_command(&mut self, command: Command) -> Option<crate::store::Applied> {
        let Some(open) = &self.open else { return None };
        // The window merges only entities of one type: a person folded into a phone is a
        // slip of the mouse, not an analyst's judgement (the store itself keeps the general
        // rule of the model, for tools that know what they do).
        if let Command::Merge { keep, absorb, .. } = &command {
            let type_of = |e| open.snapshot.entity(e).map(|x| x.entity_type.clone());
            let keep_type = type_of(*keep);
            if let Some(other) = absorb.iter().find(|e| type_of(**e) != keep_type) {
                let text = format!(
                    "Not merged: {other} is a {} and {keep} a {}; only entities of one type are merged (change the type first if it is wrong)",
                    type_of(*other).unwrap_or_default(),
                    keep_type.unwrap_or_default()
                );
                self.error(text);
                return None;
            }
        }
        let Some(open) = &mut self.open else {
            return None;
        };
        let action = command.action();
        match open.case.apply(command) {
            Ok(applied) => {
                self.undo.push(UndoStep::Store);
                let made: Vec<String> = applied.created.iter().map(ToString::to_string).collect();
                if made.is_empty() {
                    self.info(format!("Done: {action}"));
                } else {
                    self.info(format!("Done: {action} {}", made.join(" ")));
                }
                self.refresh_snapshot();
                Some(applied)
            }
            Err(e) => {
                self.error(format!("{action} failed: {e}"));
                None
            }
        }
    }

    /// Erases a batch or items for good (the review tab's purge, confirmed there). Entities of
    /// a batch that other sources use are refused, as `copkit purge` does by default. The
    /// undo history went with it, in the case and here.
    fn purge(&mut self, target: &crate::store::PurgeTarget, reason: &str) {
        let Some(open) = &mut self.open else { return };
        match open
            .case
            .purge(target, crate::store::SharedEntities::Refuse, reason)
        {
            Ok(report) => {
                self.undo = super::UndoHistory::default();
                self.view.selection.clear();
                self.view.hovered = None;
                let rows: u64 = report.erased.values().sum();
                self.info(format!(
                    "Purged for good: {rows} rows erased (erasure record {}); details of {} \
                     audit records erased; the undo history was dropped",
                    report.audit_seq,
                    report.audit_payloads_erased.len()
                ));
                for backup in &report.backups {
                    self.info(format!(
                        "This backup was written before the purge and still holds the erased \
                         values: {}",
                        backup.display()
                    ));
                }
                self.refresh_snapshot();
            }
            Err(e) => self.error(format!("Not purged: {e}")),
        }
    }

    /// Opens an editing window (a case must be open).
    fn open_editor(&mut self, what: ui::editor::Open) {
        match &self.open {
            Some(open) => self.editor.open(what, &open.snapshot),
            None => self.error("Open a case first, then edit it"),
        }
    }

    /// Puts entities created by hand on the chart once the snapshot holds them (the snapshot
    /// is read in a job after each change).
    pub(super) fn place_created(&mut self) {
        let Some(open) = &self.open else { return };
        let snapshot = std::sync::Arc::clone(&open.snapshot);
        let pending = std::mem::take(&mut self.pending_chart_adds);
        for (entities, at) in pending {
            if entities.iter().any(|e| snapshot.entity(*e).is_none()) {
                // An older snapshot: wait for the one that holds them.
                self.pending_chart_adds.push((entities, at));
                continue;
            }
            let actions = self.graph.add_created(&snapshot, &entities, at);
            self.deferred.extend(actions);
        }
    }

    /// Keeps the chart as it is under a name, with the case (a store command: audited and
    /// undoable).
    fn save_chart_snapshot(&mut self, name: String) {
        let Some(chart) = self.graph.saved_chart() else {
            self.error("The chart has not been drawn yet; show the Graph tab first");
            return;
        };
        let chart = match serde_json::from_str(&chart) {
            Ok(v) => v,
            Err(e) => {
                self.error(format!("The chart could not be kept: {e}"));
                return;
            }
        };
        self.apply_store_command(Command::SaveChartSnapshot { name, chart });
    }

    /// Puts the chart back as a snapshot kept it: one chart undo step.
    fn restore_chart_snapshot(&mut self, id: crate::model::ChartSnapshotId) {
        let Some(open) = &self.open else { return };
        let name = open
            .snapshot
            .chart_snapshots
            .iter()
            .find(|s| s.id == id)
            .map_or_else(|| id.to_string(), |s| s.name.clone());
        let snapshot = std::sync::Arc::clone(&open.snapshot);
        let chart = match open.case.chart_snapshot(id) {
            Ok(c) => c,
            Err(e) => {
                self.error(format!("The snapshot {name} could not be read: {e}"));
                return;
            }
        };
        self.pending_layout = None;
        self.running.cancel(JobKind::Layout);
        match self
            .graph
            .restore_snapshot(&snapshot, &chart.to_string(), &name)
        {
            Ok(()) => {
                self.undo.push(UndoStep::Chart);
                self.info(format!("Restored the chart snapshot {name}"));
            }
            Err(e) => self.error(format!("The snapshot {name} could not be restored: {e}")),
        }
    }

    /// Undoes (`undo`) or redoes the latest step, of the case or of the chart.
    fn undo_or_redo(&mut self, undo: bool) {
        let (from, to) = if undo {
            (&mut self.undo.undo, &mut self.undo.redo)
        } else {
            (&mut self.undo.redo, &mut self.undo.undo)
        };
        // Steps from before this session are store commands.
        let step = from.pop().unwrap_or(UndoStep::Store);
        if step == UndoStep::Chart {
            // A layout still running would move the chart on after it was taken back.
            self.pending_layout = None;
            self.running.cancel(JobKind::Layout);
            let done = if undo {
                self.graph.undo()
            } else {
                self.graph.redo()
            };
            match done {
                Some(what) => {
                    to.push(UndoStep::Chart);
                    let verb = if undo { "Undone" } else { "Redone" };
                    self.info(format!("{verb} on the chart: {what}"));
                }
                None => self.info("Nothing to undo on the chart"),
            }
            return;
        }
        let Some(open) = &mut self.open else { return };
        let result = if undo {
            open.case.undo()
        } else {
            open.case.redo()
        };
        match result {
            Ok(Some(_)) => {
                to.push(UndoStep::Store);
                self.refresh_snapshot();
            }
            Ok(None) => self.info(if undo {
                "Nothing to undo"
            } else {
                "Nothing to redo"
            }),
            Err(e) => self.error(format!("{e}")),
        }
    }

    /// Runs a command of the command list (menu, shortcut or palette).
    pub(super) fn run_command(&mut self, ctx: &egui::Context, command: UiCommand) {
        match command {
            UiCommand::NewCase => self.dialogs.path_prompt = Some((String::new(), true)),
            UiCommand::OpenCase => match rfd::FileDialog::new()
                .add_filter("COPKIT case", &["copkit"])
                .pick_file()
            {
                Some(path) => self.ask_to_open(path),
                // No dialog service answered (or the user cancelled): offer a typed path.
                None => {
                    self.dialogs.path_prompt = Some((String::new(), false));
                }
            },
            UiCommand::OpenDemo => self.open_demo(),
            UiCommand::CloseCase => self.close_case(),
            UiCommand::Import => self.open_import(None),
            UiCommand::Export => match &self.open {
                Some(open) => {
                    let selected: Vec<crate::model::EntityId> = self
                        .view
                        .selection
                        .iter()
                        .filter_map(|item| match item {
                            crate::model::ItemRef::Entity(id) => Some(*id),
                            _ => None,
                        })
                        .collect();
                    self.export = Some(
                        ui::export_dialog::ExportDialog::new(open.case.path())
                            .with_selection(selected),
                    );
                }
                None => self.error("Open a case first, then export it"),
            },
            UiCommand::Undo => self.undo_or_redo(true),
            UiCommand::Redo => self.undo_or_redo(false),
            UiCommand::Find => self.dialogs.focus_search = true,
            UiCommand::NewEntity => self.open_editor(ui::editor::Open::NewEntity { at: None }),
            UiCommand::EntityTypes => self.open_editor(ui::editor::Open::Types),
            UiCommand::GradingSchemes => self.open_editor(ui::editor::Open::Schemes),
            UiCommand::ChartSnapshots => self.open_editor(ui::editor::Open::Snapshots),
            UiCommand::CommandPalette => self.dialogs.palette = Some(String::new()),
            UiCommand::ShowGraph => self.tab = Tab::Graph,
            UiCommand::ShowEntities => self.tab = Tab::Entities,
            UiCommand::ShowLinks => self.tab = Tab::Links,
            UiCommand::ShowEvents => self.tab = Tab::Events,
            UiCommand::ShowTimeline => self.tab = Tab::Timeline,
            UiCommand::ShowAudit => self.tab = Tab::Audit,
            UiCommand::ClearSelection => self.view.selection.clear(),
            UiCommand::ClearTimeFilter => self.view.time_filter = None,
            UiCommand::ToggleTheme => {
                self.prefs.dark = !self.prefs.dark;
                self.apply_theme(ctx);
            }
            UiCommand::Shortcuts => self.dialogs.help = Some(super::HelpPage::Shortcuts),
            UiCommand::About => self.dialogs.help = Some(super::HelpPage::About),
        }
    }
}
