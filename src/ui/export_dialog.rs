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
            running: false,
            report: None,
            error: None,
        }
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
            only: None,
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
                        // Keep the chosen name, change its extension.
                        let base = dialog
                            .out
                            .trim()
                            .trim_end_matches(".ftm.json")
                            .trim_end_matches(".graphml")
                            .trim_end_matches(".gexf")
                            .trim_end_matches(".i2.csv")
                            .trim_end_matches(".csv")
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
