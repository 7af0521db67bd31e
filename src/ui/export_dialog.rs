//! The export dialog: format, output path, recipient (and a reason when items carry a handling
//! code that forbids dissemination). The app runs the export as a job that writes the files and
//! the manifest and records the disclosure, exactly as `copkit export` does.

use crate::io::export::{ExportFormat, ExportReport, ExportRequest};
use crate::jobs::JobError;
use std::path::PathBuf;

const FORMATS: [(ExportFormat, &str, &str); 11] = [
    (ExportFormat::Ftm, "FollowTheMoney (JSON lines)", "ftm.json"),
    (ExportFormat::GraphMl, "GraphML", "graphml"),
    (ExportFormat::Gexf, "GEXF (events as time spells)", "gexf"),
    (
        ExportFormat::Csv,
        "CSV folder (entities, links, events)",
        "csv",
    ),
    (
        ExportFormat::I2Csv,
        "i2-compatible CSV (one row per link)",
        "i2.csv",
    ),
    (ExportFormat::Gml, "GML (networkx, igraph, Gephi)", "gml"),
    (ExportFormat::Pajek, "Pajek .net", "net"),
    (
        ExportFormat::NodeLink,
        "Node-link JSON (d3, networkx)",
        "json",
    ),
    (ExportFormat::Dot, "Graphviz DOT", "dot"),
    (ExportFormat::Stix, "STIX 2.1 bundle", "stix.json"),
    (
        ExportFormat::Parquet,
        "Parquet folder (entities, links, events, values, provenance)",
        "parquet",
    ),
];

/// The dialog's state.
#[derive(Debug)]
pub struct ExportDialog {
    pub format: ExportFormat,
    pub out: String,
    pub recipient: String,
    pub override_reason: String,
    /// The entities selected when the dialog opened, and whether to export only them (and
    /// the links and events among them).
    pub selection: Vec<crate::model::EntityId>,
    pub only_selection: bool,
    /// The app runs the export.
    pub running: bool,
    pub report: Option<ExportReport>,
    pub error: Option<String>,
}

impl ExportDialog {
    /// A dialog proposing an output beside the case.
    pub fn new(case_path: &std::path::Path) -> ExportDialog {
        let stem = case_path
            .file_stem()
            .map_or_else(|| "case".into(), |s| s.to_string_lossy().into_owned());
        let dir = case_path.parent().map(PathBuf::from).unwrap_or_default();
        ExportDialog {
            format: ExportFormat::Ftm,
            out: dir
                .join(format!("{stem}-export.ftm.json"))
                .display()
                .to_string(),
            recipient: String::new(),
            override_reason: String::new(),
            selection: Vec::new(),
            only_selection: false,
            running: false,
            report: None,
            error: None,
        }
    }

    /// Offers to export only these entities (the selection when the dialog opened).
    pub fn with_selection(mut self, selection: Vec<crate::model::EntityId>) -> ExportDialog {
        self.only_selection = !selection.is_empty();
        self.selection = selection;
        self
    }

    /// What the export will run, or why it cannot start (the message is also shown).
    pub fn request(&mut self) -> Option<ExportRequest> {
        if self.recipient.trim().is_empty() {
            self.error = Some("Say who receives the data (the recipient) first.".into());
            return None;
        }
        if self.out.trim().is_empty() {
            self.error = Some("Give the output path first.".into());
            return None;
        }
        Some(ExportRequest {
            format: self.format,
            out: PathBuf::from(self.out.trim()),
            recipient: self.recipient.trim().to_string(),
            override_reason: Some(self.override_reason.trim().to_string())
                .filter(|r| !r.is_empty()),
            only: (self.only_selection && !self.selection.is_empty())
                .then(|| self.selection.clone()),
        })
    }

    /// The app started the export job.
    pub fn started(&mut self) {
        self.running = true;
        self.error = None;
    }

    pub fn finished(&mut self, result: Result<ExportReport, JobError>) {
        self.running = false;
        match result {
            Ok(report) => {
                self.report = Some(report);
                self.error = None;
            }
            Err(e) => self.error = Some(format!("Nothing was exported: {e}")),
        }
    }
}

/// What the dialog asks the app to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportRequestUi {
    None,
    Start,
    Close,
}

pub fn show(ui: &mut egui::Ui, dialog: &mut ExportDialog) -> ExportRequestUi {
    let mut request = ExportRequestUi::None;
    if let Some(report) = &dialog.report {
        let m = &report.manifest;
        ui.label(format!(
            "Exported {} entities, {} links, {} events ({} restricted items left out) for {}.",
            m.entities, m.links, m.events, m.skipped_restricted, m.recipient
        ));
        for (file, sha) in &m.outputs {
            ui.weak(format!("{file}  SHA-256 {sha}"));
        }
        ui.label(format!("Manifest: {}", report.manifest_path.display()));
        ui.label("The disclosure is recorded in the case's audit log.");
        if ui.button("Close").clicked() {
            request = ExportRequestUi::Close;
        }
        return request;
    }
    let running = dialog.running;
    ui.add_enabled_ui(!running, |ui| {
        egui::ComboBox::new("export-format", "Format")
            .selected_text(
                FORMATS
                    .iter()
                    .find(|f| f.0 == dialog.format)
                    .map_or("", |f| f.1),
            )
            .show_ui(ui, |ui| {
                for (format, label, ext) in FORMATS {
                    if ui
                        .selectable_value(&mut dialog.format, format, label)
                        .clicked()
                    {
                        // Keep the chosen name, change its extension (the longest known
                        // one first: `.ftm.json` before `.json`).
                        let out = dialog.out.trim().to_string();
                        let mut known: Vec<&str> = FORMATS.iter().map(|f| f.2).collect();
                        known.sort_by_key(|e| std::cmp::Reverse(e.len()));
                        let base = known
                            .iter()
                            .find_map(|e| out.strip_suffix(&format!(".{e}")))
                            .unwrap_or(&out)
                            .to_string();
                        dialog.out = format!("{base}.{ext}");
                    }
                }
            });
        ui.horizontal(|ui| {
            let label = ui.label("Output:");
            ui.add(egui::TextEdit::singleline(&mut dialog.out).desired_width(420.0))
                .labelled_by(label.id);
        });
        ui.horizontal(|ui| {
            let label = ui.label("Recipient:");
            ui.add(
                egui::TextEdit::singleline(&mut dialog.recipient)
                    .hint_text("who receives this (recorded)")
                    .desired_width(300.0),
            )
            .labelled_by(label.id);
        });
        ui.horizontal(|ui| {
            let label = ui.label("Dissemination override:");
            ui.add(
                egui::TextEdit::singleline(&mut dialog.override_reason)
                    .hint_text("reason, if authorised")
                    .desired_width(300.0),
            )
            .labelled_by(label.id)
            // The full rule in the tooltip: the hint is cut off at the field's width.
            .on_hover_text(
                "only when the items' handling codes forbid this export and it is authorised: the reason is recorded with the disclosure",
            );
        });
        if !dialog.selection.is_empty() {
            ui.checkbox(
                &mut dialog.only_selection,
                format!(
                    "Only the {} selected entities (and the links and events among them)",
                    dialog.selection.len()
                ),
            );
        }
        ui.weak("Restricted items are never exported. A manifest with the SHA-256 of each file is written beside the export; the open case and source files are never overwritten.");
        ui.horizontal(|ui| {
            if ui.button("Export").clicked() {
                request = ExportRequestUi::Start;
            }
            if ui.button("Cancel").clicked() {
                request = ExportRequestUi::Close;
            }
        });
    });
    if running {
        ui.add(egui::ProgressBar::new(0.0).animate(true).text("exporting"));
    }
    if let Some(e) = &dialog.error {
        ui.colored_label(ui.visuals().error_fg_color, e);
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EntityId;

    #[test]
    fn the_selection_is_offered_and_exported_only_when_ticked() {
        let case = std::path::Path::new("/tmp/op.copkit");
        let mut dialog = ExportDialog::new(case).with_selection(vec![EntityId(3), EntityId(7)]);
        dialog.recipient = "Prosecutor".into();
        assert!(dialog.only_selection, "a selection is proposed ticked");
        let req = dialog.request().unwrap();
        assert_eq!(req.only, Some(vec![EntityId(3), EntityId(7)]));
        dialog.only_selection = false;
        assert_eq!(dialog.request().unwrap().only, None);
        let mut whole = ExportDialog::new(case).with_selection(Vec::new());
        whole.recipient = "Prosecutor".into();
        assert!(!whole.only_selection);
        assert_eq!(whole.request().unwrap().only, None);
    }

    #[test]
    fn every_format_has_its_own_extension() {
        let mut exts: Vec<&str> = FORMATS.iter().map(|f| f.2).collect();
        exts.sort_unstable();
        exts.dedup();
        assert_eq!(exts.len(), FORMATS.len());
    }
}
