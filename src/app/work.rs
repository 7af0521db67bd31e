//! Long work the app starts as jobs, and what it does with the results: analysis runs and
//! chains (stored with the case), layouts of the chart, imports and their previews, exports,
//! and chart images (written atomically and recorded as disclosures). Views only ask for
//! these through actions and requests; they never start work themselves.

use super::jobs::{JobEnd, JobKind};
use super::{AUTO_LAYOUT_MAX_ENTITIES, UndoStep, WorkbenchApp};
use crate::analysis::{Output, Params};
use crate::jobs::JobError;
use crate::model::EntityId;
use crate::store::Case;
use crate::ui::analysis::AnalysisResult;
use crate::ui::analysis::chain_editor::ChainFileRequest;
use crate::ui::graph::{LayoutKind, LayoutRequest, LayoutScope};
use crate::ui::{self, export_dialog, import};
use std::path::{Path, PathBuf};
use std::sync::Arc;

impl WorkbenchApp {
    /// Runs an analysis component on the current snapshot as a job, recording the run in the
    /// audit log as a consultation.
    pub fn run_analysis(&mut self, component: String, params: Params) {
        self.run_analysis_on(component, params, None);
    }

    /// Runs a component on the whole case, or only on `only` (the selection or the working
    /// set: those entities and the links and events among them); the audit record's `scope`
    /// lists them.
    pub fn run_analysis_on(
        &mut self,
        component: String,
        params: Params,
        only: Option<Vec<EntityId>>,
    ) {
        let Some(open) = &mut self.open else { return };
        let Some(found) = crate::analysis::find(&component) else {
            self.error(format!("No analysis component called {component}"));
            return;
        };
        if let Err(e) = open.case.record_consultation(
            "analysis run",
            serde_json::json!({"component": component, "params": params, "generation": open.snapshot.generation, "scope": only}),
        ) {
            self.error(format!("Could not record the analysis in the audit log, so it was not run: {e}"));
            return;
        }
        let snapshot = Arc::clone(&open.snapshot);
        self.start_job(
            JobKind::Analysis,
            &component.clone(),
            move |cancel, progress| {
                let snapshot = scoped(snapshot, only);
                let output =
                    crate::analysis::run_component(found, &snapshot, &params, cancel, progress)?;
                Ok(AnalysisResult {
                    component,
                    params,
                    generation: snapshot.generation,
                    output,
                })
            },
            Self::analysis_finished,
        );
    }

    fn analysis_finished(&mut self, end: JobEnd<AnalysisResult>) {
        match end.result {
            Ok(result) => {
                self.store_results(std::slice::from_ref(&result));
                self.analysis.results.push(result);
                self.view.analysis_column = ui::analysis::column(&self.analysis.results);
                self.info(format!(
                    "{} finished in {:.2} s",
                    end.name,
                    end.elapsed.as_secs_f64()
                ));
            }
            Err(e) => self.error(format!("{}: {e}", end.name)),
        }
    }

    /// Stores results with the case as analysis runs.
    fn store_results(&mut self, results: &[AnalysisResult]) {
        let Some(open) = &mut self.open else { return };
        for r in results {
            if let Err(e) =
                crate::analysis::store_run(&mut open.case, &r.component, &r.params, &r.output)
            {
                tracing::warn!("could not store the analysis run: {e}");
            }
        }
    }

    /// Whether an analysis or a chain runs (the analysis panel disables its buttons).
    pub(super) fn analysis_running(&self) -> bool {
        self.running.any(JobKind::Analysis) || self.running.any(JobKind::Chain)
    }

    /// The entities a scope of the analysis panel names: `None` for the whole case (and for
    /// the working set when the whole case is on the chart).
    pub(super) fn scope_entities(&self, scope: ui::analysis::Scope) -> Option<Vec<EntityId>> {
        match scope {
            ui::analysis::Scope::Case => None,
            ui::analysis::Scope::Selection => Some(self.view.selected_entities()),
            ui::analysis::Scope::WorkingSet => self
                .graph
                .chart
                .state
                .on_chart
                .as_ref()
                .map(|set| set.iter().copied().collect()),
        }
    }

    /// Runs an analysis chain on the whole case as one job.
    pub fn run_chain(&mut self, file: &str, text: &str) {
        self.run_chain_on(file, text, None);
    }

    /// Runs an analysis chain as one job, on the whole case or only on `only` (its steps
    /// without an input step see those entities and what lies among them); each step's
    /// result becomes a result of the panel and is stored in the case as an analysis run.
    pub fn run_chain_on(&mut self, file: &str, text: &str, only: Option<Vec<EntityId>>) {
        let Some(open) = &mut self.open else { return };
        let chain = match crate::analysis::chain::Chain::parse(text, file) {
            Ok(c) => c,
            Err(e) => {
                self.error(format!("The chain was not run: {e}"));
                return;
            }
        };
        if let Err(e) = open.case.record_consultation(
            "chain run",
            serde_json::json!({"chain": chain.name, "file": file, "generation": open.snapshot.generation, "scope": only}),
        ) {
            self.error(format!("Could not record the chain in the audit log, so it was not run: {e}"));
            return;
        }
        let snapshot = Arc::clone(&open.snapshot);
        let name = format!("chain {}", chain.name);
        self.start_job(
            JobKind::Chain,
            &name,
            move |cancel, progress| {
                let snapshot = scoped(snapshot, only);
                let steps = chain
                    .run(&snapshot, cancel, progress)
                    .map_err(|e| match e {
                        crate::analysis::chain::ChainError::Cancelled { .. } => JobError::Cancelled,
                        other => JobError::failed(other),
                    })?;
                Ok(steps
                    .into_iter()
                    .map(|s| AnalysisResult {
                        component: format!("{} · {} ({})", chain.name, s.id, s.component),
                        params: s.params,
                        generation: snapshot.generation,
                        output: s.output,
                    })
                    .collect::<Vec<_>>())
            },
            |app, end: JobEnd<Vec<AnalysisResult>>| match end.result {
                Ok(results) => {
                    app.store_results(&results);
                    let steps = results.len();
                    app.analysis.results.extend(results);
                    app.view.analysis_column = ui::analysis::column(&app.analysis.results);
                    app.info(format!("{}: {steps} steps finished and stored", end.name));
                }
                Err(e) => app.error(format!("{}: {e}", end.name)),
            },
        );
    }

    /// Starts the force layout once the graph view has placed a newly shown case on its
    /// starting spiral, when the preference is on and the chart is not too large.
    pub(super) fn auto_layout(&mut self) {
        if !self.graph.take_layout_wish() || !self.prefs.auto_layout {
            return;
        }
        let entities = self.graph.shown_nodes().len();
        if entities > AUTO_LAYOUT_MAX_ENTITIES {
            self.info(format!(
                "The chart has {entities} entities, more than the {AUTO_LAYOUT_MAX_ENTITIES} laid out automatically; use Run force layout to lay it out"
            ));
            return;
        }
        self.start_layout(LayoutRequest {
            kind: LayoutKind::Force,
            scope: LayoutScope::Chart,
            settings: self.graph.force,
            undo_step: false,
        });
    }

    /// Starts a layout of the chart as a job from the current positions; the force layout
    /// streams positions into the graph view while it runs. One runs at a time: a layout
    /// asked for while another runs stops that one and follows it. A layout the analyst asked
    /// for is an undo step of its own.
    pub(super) fn start_layout(&mut self, request: LayoutRequest) {
        if self.running.any(JobKind::Layout) {
            self.running.cancel(JobKind::Layout);
            self.pending_layout = Some(request);
            return;
        }
        let Some(open) = &self.open else { return };
        let job = self.graph.layout_job(&request, &open.snapshot, &self.view);
        if job.is_empty() {
            return;
        }
        if request.undo_step {
            self.graph.layout_checkpoint(request.kind.label());
            self.undo.push(UndoStep::Chart);
        }
        let started = self.start_job(
            JobKind::Layout,
            request.kind.label(),
            move |cancel, progress| job.run(cancel, progress),
            |app, end: JobEnd<Vec<[f32; 2]>>| {
                match end.result {
                    Ok(positions) => app.graph.layout_finished(Some(positions)),
                    Err(JobError::Cancelled) => app.graph.layout_finished(None),
                    Err(e) => {
                        app.graph.layout_finished(None);
                        app.error(format!("{}: {e}", end.name));
                    }
                }
                if let Some(next) = app.pending_layout.take() {
                    app.start_layout(next);
                }
            },
        );
        if started.is_some() {
            self.graph.layout_started();
        }
    }

    /// Finds the shortest path between two entities in a job, then adds it to the chart.
    pub(super) fn add_path(&mut self, a: EntityId, b: EntityId) {
        let Some(open) = &self.open else { return };
        let snapshot = Arc::clone(&open.snapshot);
        self.start_job(
            JobKind::Analysis,
            "find path",
            move |_cancel, _progress| Ok(crate::ui::graph::working::shortest_path(&snapshot, a, b)),
            move |app, end| match end.result {
                Ok(Some(path)) => {
                    let Some(open) = &app.open else { return };
                    let snapshot = Arc::clone(&open.snapshot);
                    let hops = path.len().saturating_sub(1);
                    let acts = app.graph.add_to_chart(&snapshot, &path, "add a path");
                    app.deferred.extend(acts);
                    app.info(format!("Path of {hops} links added to the chart"));
                }
                Ok(None) => app.info(format!("{a} and {b} are not connected by links")),
                Err(e) => app.error(format!("find path: {e}")),
            },
        );
    }

    /// Opens the import wizard (at the mapping step when a file is given, as on a drop).
    pub fn open_import(&mut self, path: Option<&Path>) {
        if self.open.is_none() {
            self.error("Open or create a case first, then import into it");
            return;
        }
        if self.running.any(JobKind::Import) {
            self.error("An import is running; wait for it or cancel it first");
            return;
        }
        self.import = Some(import::ImportWizard::new(path));
    }

    /// Acts on what the import wizard asked.
    pub(super) fn handle_wizard(&mut self, requests: Vec<import::WizardRequest>) {
        for request in requests {
            match request {
                import::WizardRequest::Close => self.import = None,
                import::WizardRequest::Cancel => self.running.cancel(JobKind::Import),
                import::WizardRequest::Browse => {
                    if let (Some(path), Some(wizard)) =
                        (rfd::FileDialog::new().pick_file(), self.import.as_mut())
                    {
                        wizard.path_text = path.display().to_string();
                    }
                }
                import::WizardRequest::Preview(plan) => self.start_preview(*plan),
                import::WizardRequest::Start => self.start_import(),
                import::WizardRequest::SaveSpec(path, spec) => {
                    match crate::io::mapper::save_spec(&path, &spec) {
                        Ok(()) => self.info(format!(
                            "Saved the mapping spec; `copkit import --spec` takes it: {}",
                            path.display()
                        )),
                        Err(e) => self.error(format!("Not saved: {e}")),
                    }
                }
            }
        }
    }

    /// Makes the wizard's preview in a job.
    fn start_preview(&mut self, plan: import::PreviewPlan) {
        let Some(open) = &self.open else { return };
        let schema = open.snapshot.schema.clone();
        self.start_job(
            JobKind::ImportPreview,
            "import preview",
            move |_cancel, _progress| Ok((plan.key.clone(), plan.run(&schema))),
            |app, end| {
                let Some(wizard) = app.import.as_mut() else {
                    return;
                };
                match end.result {
                    Ok((key, preview)) => wizard.preview_made(&key, preview),
                    Err(e) => app.error(format!("The preview failed: {e}")),
                }
            },
        );
    }

    /// Starts the wizard's import as a job through its own connection to the case.
    fn start_import(&mut self) {
        let (Some(wizard), Some(open)) = (self.import.as_mut(), &self.open) else {
            return;
        };
        let Some(plan) = wizard.plan() else { return };
        let (path, actor, purpose) = (
            open.case.path().to_path_buf(),
            open.case.actor().clone(),
            open.case.purpose().to_string(),
        );
        let started = self.start_job(
            JobKind::Import,
            &plan.job_name(),
            move |cancel, progress| {
                let mut case = Case::open(&path, actor, &purpose).map_err(JobError::failed)?;
                // The importer the command line runs, so a file imports the same from either.
                plan.run(&mut case, cancel, progress).map_err(|e| match e {
                    crate::io::IoError::Cancelled => JobError::Cancelled,
                    other => JobError::failed(super::hints::for_window(&other)),
                })
            },
            Self::import_finished,
        );
        if started.is_some()
            && let Some(wizard) = self.import.as_mut()
        {
            wizard.started();
        }
    }

    fn import_finished(&mut self, end: JobEnd<crate::io::ImportReport>) {
        let imported = end.result.is_ok();
        if let Some(wizard) = self.import.as_mut() {
            wizard.finished(end.result);
        }
        if imported && let Some(open) = &mut self.open {
            // The import wrote through its own connection: pick up the new state.
            match open.case.reload() {
                Ok(()) => {
                    self.undo.push(UndoStep::Store);
                    self.info("Import finished");
                    self.refresh_snapshot();
                }
                Err(e) => self.error(format!("Could not re-read the case after the import: {e}")),
            }
        }
    }

    /// The running import's progress, for the wizard.
    pub(super) fn import_progress(&self) -> Option<(Option<f32>, String)> {
        let id = self.running.id_of(JobKind::Import)?;
        let status = self.jobs.status(id)?;
        Some(
            status
                .progress
                .as_ref()
                .map_or((None, "starting".to_string()), |p| {
                    (p.fraction, p.message.clone())
                }),
        )
    }

    /// Acts on what the export dialog asked.
    pub(super) fn handle_export(&mut self, request: export_dialog::ExportRequestUi) {
        match request {
            export_dialog::ExportRequestUi::None => {}
            export_dialog::ExportRequestUi::Close => self.export = None,
            export_dialog::ExportRequestUi::Start => self.start_export(),
        }
    }

    /// Starts the dialog's export as a job through its own connection to the case.
    fn start_export(&mut self) {
        let (Some(dialog), Some(open)) = (self.export.as_mut(), &self.open) else {
            return;
        };
        let Some(request) = dialog.request() else {
            return;
        };
        let (path, actor, purpose) = (
            open.case.path().to_path_buf(),
            open.case.actor().clone(),
            open.case.purpose().to_string(),
        );
        let started = self.start_job(
            JobKind::Export,
            "export",
            move |cancel, progress| {
                let mut case = Case::open(&path, actor, &purpose).map_err(JobError::failed)?;
                crate::io::export::export(&mut case, &request, cancel, progress).map_err(
                    |e| match e {
                        crate::io::IoError::Cancelled => JobError::Cancelled,
                        other => JobError::failed(super::hints::for_window(&other)),
                    },
                )
            },
            |app, end| {
                if end.result.is_ok() {
                    app.info("Export finished; the disclosure is in the audit log");
                }
                if let Some(dialog) = app.export.as_mut() {
                    dialog.finished(end.result);
                }
            },
        );
        if started.is_some()
            && let Some(dialog) = self.export.as_mut()
        {
            dialog.started();
        }
    }

    /// Where a chart export goes: the user's choice, or (when no file dialog answers) a new
    /// file beside the case, never the case itself.
    fn chart_export_path(&self, svg: bool) -> Option<PathBuf> {
        let open = self.open.as_ref()?;
        let ext = if svg { "svg" } else { "png" };
        let stem = open
            .case
            .path()
            .file_stem()
            .map_or_else(|| "case".into(), |s| s.to_string_lossy().into_owned());
        let name = format!(
            "{stem}-chart-{}.{ext}",
            chrono::Utc::now().format("%Y%m%d-%H%M%S")
        );
        if let Some(path) = rfd::FileDialog::new()
            .add_filter(ext.to_uppercase(), &[ext])
            .set_file_name(&name)
            .save_file()
        {
            return Some(path);
        }
        let dir = open.case.path().parent()?.to_path_buf();
        Some(dir.join(name))
    }

    /// Exports the graph view as it is on screen.
    pub(super) fn export_chart(&mut self, ctx: &egui::Context, svg: bool) {
        let Some(path) = self.chart_export_path(svg) else {
            return;
        };
        if svg {
            self.save_chart_svg(&path);
        } else {
            self.graph.request_png(ctx, path);
        }
    }

    /// Exports the graph view as SVG to a chosen path (the menu's export without a dialog).
    pub fn save_chart_svg(&mut self, path: &Path) {
        let title = self
            .open
            .as_ref()
            .map(|o| o.snapshot.title.clone())
            .unwrap_or_default();
        match self.graph.svg(self.prefs.dark, &title) {
            Some(text) => self.save_chart_image(path, text.as_bytes()),
            None => self.error("Show the graph view first, then export it"),
        }
    }

    /// Writes a chart image atomically (never over the open case) and records the disclosure.
    pub fn save_chart_image(&mut self, path: &Path, bytes: &[u8]) {
        let Some(open) = &mut self.open else { return };
        if path == open.case.path() {
            self.error(format!(
                "The chart was not exported: that path is the open case; choose another file. {}",
                path.display()
            ));
            return;
        }
        use sha2::Digest as _;
        let written = (|| -> std::io::Result<()> {
            let mut tmp = path.as_os_str().to_owned();
            tmp.push(".part");
            let tmp = PathBuf::from(tmp);
            std::fs::write(&tmp, bytes)?;
            std::fs::rename(&tmp, path)
        })();
        if let Err(e) = written {
            self.error(format!(
                "The chart image could not be written ({e}); check the folder exists and is writable. {}",
                path.display()
            ));
            return;
        }
        let details = serde_json::json!({
            "kind": "chart image",
            "path": path.display().to_string(),
            "sha256": hex::encode(sha2::Sha256::digest(bytes)),
            "entities_shown": self.graph.shown_entities(),
        });
        match open.case.record(
            crate::store::AuditCategory::Disclosure,
            "chart export",
            details,
        ) {
            Ok(_) => self.info(format!("Chart exported to {}", path.display())),
            Err(e) => self.error(format!(
                "The chart was written but its disclosure could not be recorded: {e}. {}",
                path.display()
            )),
        }
    }
}

/// The part of a snapshot an analysis runs on: the whole case, or only the entities `only`
/// names and the links and events among them (the chain runner's subgraph view).
fn scoped(
    snapshot: Arc<crate::store::CaseSnapshot>,
    only: Option<Vec<EntityId>>,
) -> Arc<crate::store::CaseSnapshot> {
    match only {
        Some(keep) => {
            let keep: std::collections::BTreeSet<_> = keep.into_iter().collect();
            Arc::new(crate::analysis::chain::restrict(&snapshot, |e| {
                keep.contains(&e)
            }))
        }
        None => snapshot,
    }
}

/// Chain files are small; a larger file is not a chain and is not read whole.
const CHAIN_FILE_MAX_BYTES: u64 = 1 << 20;

impl WorkbenchApp {
    /// Saves or opens a chain file for the chain editor, through the file dialogs (or the
    /// answer a test set in `next_file_dialog`). A save never replaces a file before the
    /// analyst confirmed it in the editor.
    pub(super) fn chain_file(&mut self, request: ChainFileRequest) {
        match request {
            ChainFileRequest::SaveAs { text, file_name } => {
                let file_name = Path::new(&file_name)
                    .file_name()
                    .map_or_else(|| "chain.toml".into(), |n| n.to_string_lossy().into_owned());
                let path = self.next_file_dialog.take().or_else(|| {
                    rfd::FileDialog::new()
                        .add_filter("Chain (TOML)", &["toml"])
                        .set_file_name(&file_name)
                        .save_file()
                });
                let Some(path) = path else { return };
                if path.exists() {
                    self.analysis.editor.confirm_replace = Some((path, text));
                    return;
                }
                self.save_chain(&path, &text, false);
            }
            ChainFileRequest::Replace { path, text } => self.save_chain(&path, &text, true),
            ChainFileRequest::Open => {
                let path = self.next_file_dialog.take().or_else(|| {
                    rfd::FileDialog::new()
                        .add_filter("Chain (TOML)", &["toml"])
                        .pick_file()
                });
                let Some(path) = path else { return };
                match read_chain_file(&path) {
                    Ok(text) => match self.analysis.editor.load(&text, Some(path.clone())) {
                        Ok(()) => {
                            self.analysis.editor.check();
                            self.info(format!("Opened the chain {}", path.display()));
                        }
                        Err(e) => self.error(format!("The chain was not opened: {e}")),
                    },
                    Err(e) => self.error(e),
                }
            }
        }
    }

    fn save_chain(&mut self, path: &Path, text: &str, replace: bool) {
        match crate::analysis::chain::save_chain_text(path, text, replace) {
            Ok(()) => {
                let editor = &mut self.analysis.editor;
                editor.path = Some(path.to_path_buf());
                editor.status = format!("Saved; `copkit chain run` takes it: {}", path.display());
                self.info(format!("Saved the chain {}", path.display()));
            }
            Err(e) => self.error(format!("The chain was not saved: {e}")),
        }
    }
}

/// A chain file's text, refused unread when it is larger than a chain can be.
fn read_chain_file(path: &Path) -> Result<String, String> {
    let too_big = std::fs::metadata(path)
        .map(|m| m.len() > CHAIN_FILE_MAX_BYTES)
        .unwrap_or(false);
    if too_big {
        return Err(format!(
            "The chain was not opened: the file is larger than {} KiB, too large for a chain; choose a chain file (.toml). {}",
            CHAIN_FILE_MAX_BYTES / 1024,
            path.display()
        ));
    }
    std::fs::read_to_string(path).map_err(|e| {
        format!(
            "The chain was not opened: the file could not be read ({e}); check it exists and is text. {}",
            path.display()
        )
    })
}

/// The latest entity-resolution proposals, for the inspector.
pub(super) fn latest_proposals(
    analysis: &crate::ui::analysis::AnalysisPanelState,
) -> &[crate::analysis::MergeProposal] {
    analysis
        .results
        .iter()
        .rev()
        .find_map(|r| match &r.output {
            Output::MergeProposals { proposals } => Some(&proposals[..]),
            _ => None,
        })
        .unwrap_or(&[])
}
