//! The workbench window (eframe). For now it opens the case given on the command line and
//! shows what it holds; the views (graph, timeline, tables, inspector) arrive with their own
//! issues.

use crate::store::{Actor, Case, CaseInfo};
use anyhow::Result;
use std::path::PathBuf;

/// Opens the workbench window and runs it until it is closed.
pub fn run(case: Option<PathBuf>, actor: Actor) -> Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("COPKIT Workbench")
            .with_inner_size([1100.0, 700.0]),
        ..Default::default()
    };
    let state = WorkbenchApp::new(case, actor);
    eframe::run_native(
        "COPKIT Workbench",
        options,
        Box::new(move |_cc| Ok(Box::new(state))),
    )
    .map_err(|e| anyhow::anyhow!("could not open the workbench window: {e}"))
}

/// The window's state.
pub struct WorkbenchApp {
    info: Option<CaseInfo>,
    message: String,
}

impl WorkbenchApp {
    pub fn new(case: Option<PathBuf>, actor: Actor) -> WorkbenchApp {
        let (info, message) = match case {
            None => (
                None,
                "No case open. Open one with `copkit CASE`, or create one with `copkit new CASE`."
                    .to_string(),
            ),
            Some(path) => {
                match Case::open(&path, actor, "opened in the workbench").and_then(|c| c.info()) {
                    Ok(info) => (Some(info), String::new()),
                    Err(e) => (None, format!("{e}")),
                }
            }
        };
        WorkbenchApp { info, message }
    }
}

impl eframe::App for WorkbenchApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.heading("COPKIT Workbench");
            ui.label(
                "The workbench views (link graph, timeline, tables, inspector, import wizard) \
                 are not built yet; they arrive with the next issues. Everything the case \
                 holds is available from the command line: see `copkit --help`.",
            );
            ui.separator();
            if !self.message.is_empty() {
                ui.label(&self.message);
            }
            if let Some(info) = &self.info {
                ui.label(format!("Case: {}", info.title));
                ui.label(format!("File: {}", info.path.display()));
                let total = |rows: &[(String, i64)]| rows.iter().map(|r| r.1).sum::<i64>();
                ui.label(format!(
                    "{} entities, {} links, {} events, {} import batches",
                    total(&info.entities_by_type),
                    total(&info.links_by_type),
                    total(&info.events_by_type),
                    info.batches.len()
                ));
                ui.label(format!(
                    "Audit log: {} records, head {}",
                    info.audit_records, info.audit_head
                ));
            }
        });
    }
}
