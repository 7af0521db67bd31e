//! The workbench window (eframe): state, the one place where commands are applied, job
//! polling, and the frame layout (menu bar, filters on the left, tabbed centre, inspector on
//! the right, jobs and messages at the bottom).

use crate::jobs::{JobId, JobManager};
use crate::model::PersonCategory;
use crate::store::{Actor, Case, CaseSnapshot, Command};
use crate::ui::analysis::{AnalysisPanelState, AnalysisResult};
use crate::ui::commands::{Menu, UiCommand};
use crate::ui::inspector::InspectorState;
use crate::ui::tables::{TableKind, TableState};
use crate::ui::timeline::TimelineState;
use crate::ui::{self, Action, ViewState};
use anyhow::Result;
use std::path::PathBuf;
use std::sync::Arc;

/// What one undo step of the session changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UndoStep {
    /// A store command (in the case file, undone through the store).
    Store,
    /// A change of the graph view's chart (hide, pin, expand, collapse, move).
    Chart,
}

/// Opens the workbench window and runs it until it is closed.
pub fn run(case: Option<PathBuf>, purpose: Option<String>, actor: Actor) -> Result<()> {
    let started = std::time::Instant::now();
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("COPKIT Workbench")
            .with_inner_size([1280.0, 800.0]),
        ..Default::default()
    };
    eframe::run_native(
        "COPKIT Workbench",
        options,
        Box::new(move |cc| {
            let prefs: Prefs = cc
                .storage
                .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
                .unwrap_or_default();
            let mut app = WorkbenchApp::new(actor, prefs);
            app.started = Some(started);
            let ctx = cc.egui_ctx.clone();
            app.jobs.set_wake(Arc::new(move || ctx.request_repaint()));
            app.apply_theme(&cc.egui_ctx);
            match (case, purpose) {
                (Some(path), Some(purpose)) if !purpose.trim().is_empty() => {
                    app.start_open(PendingOpen {
                        path,
                        purpose,
                        create: false,
                    });
                }
                (Some(path), _) => app.ask_to_open(path),
                // First start: the generated demo case, so there is something to look at.
                (None, _) if app.prefs.recent.is_empty() => app.open_demo(),
                (None, _) => {}
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("could not open the workbench window: {e}"))
}

/// Preferences that persist between runs.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Prefs {
    pub dark: bool,
    pub recent: Vec<PathBuf>,
    #[serde(default)]
    pub tab: Option<Tab>,
    /// Run the force layout when the graph view first shows a case (up to
    /// [`AUTO_LAYOUT_MAX_ENTITIES`]), as Maltego lays out a new graph; off, a case opens on
    /// its starting spiral until the user runs the layout.
    #[serde(default = "yes")]
    pub auto_layout: bool,
}

fn yes() -> bool {
    true
}

/// Larger charts open on the starting spiral: laying them out takes minutes of both cores,
/// which the user should choose to spend (the toolbar's "Run force layout").
pub const AUTO_LAYOUT_MAX_ENTITIES: usize = 20_000;

impl Default for Prefs {
    fn default() -> Self {
        Prefs {
            dark: true,
            recent: Vec::new(),
            tab: None,
            auto_layout: true,
        }
    }
}

/// The centre tabs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Tab {
    Graph,
    Entities,
    Links,
    Events,
    Timeline,
    Analysis,
    Audit,
    Truth,
}

/// A message for the user at the bottom of the window.
#[derive(Debug, Clone)]
pub struct Message {
    pub error: bool,
    pub text: String,
}

/// A case the user asked to open, waiting for the purpose.
#[derive(Debug, Clone)]
struct PendingOpen {
    path: PathBuf,
    purpose: String,
    create: bool,
}

/// The open case and the snapshot the views read.
pub struct OpenCase {
    pub truth: Option<crate::generate::Truth>,
    pub case: Case,
    pub snapshot: Arc<CaseSnapshot>,
    pub training: bool,
    /// A job loading a newer snapshot, if one is running.
    loading: Option<JobId>,
}

/// The workbench.
pub struct WorkbenchApp {
    pub prefs: Prefs,
    actor: Actor,
    pub open: Option<OpenCase>,
    pub view: ViewState,
    pub tab: Tab,
    pub messages: Vec<Message>,
    pub jobs: JobManager,
    opening: Option<JobId>,
    pending: Option<PendingOpen>,
    path_prompt: Option<(String, bool)>,
    palette: Option<String>,
    focus_search: bool,
    tables: [TableState; 3],
    inspector: InspectorState,
    timeline: TimelineState,
    pub analysis: AnalysisPanelState,
    analysis_job: Option<JobId>,
    chain_job: Option<JobId>,
    pub graph: crate::ui::graph::GraphState,
    layout_job: Option<JobId>,
    /// Which kind of change each undo step of this session was, latest last: ctrl-z undoes
    /// the latest, whether a store command or a chart change of the graph view.
    undo_steps: Vec<UndoStep>,
    redo_steps: Vec<UndoStep>,
    /// The import wizard, while open.
    pub import: Option<ui::import::ImportWizard>,
    /// The export dialog, while open.
    pub export: Option<ui::export_dialog::ExportDialog>,
    /// The focused item's audit history, read once per item and generation.
    history: Option<(crate::model::ItemRef, u64, Vec<crate::store::AuditRecord>)>,
    /// When the process started, until the first frame has been drawn (logged once).
    started: Option<std::time::Instant>,
    /// The chart as last saved with (or read from) the open case, to save only changes.
    chart_saved: Option<String>,
}

impl WorkbenchApp {
    pub fn new(actor: Actor, prefs: Prefs) -> WorkbenchApp {
        // A first start opens on the link chart (laid out as it first shows): what users of
        // i2 and Maltego look at first. Later starts open on the tab last used.
        let tab = prefs.tab.unwrap_or(Tab::Graph);
        WorkbenchApp {
            prefs,
            actor,
            open: None,
            view: ViewState::default(),
            tab,
            messages: Vec::new(),
            jobs: JobManager::new(),
            opening: None,
            pending: None,
            path_prompt: None,
            palette: None,
            focus_search: false,
            tables: Default::default(),
            inspector: InspectorState::default(),
            timeline: TimelineState::default(),
            analysis: AnalysisPanelState::default(),
            analysis_job: None,
            chain_job: None,
            graph: Default::default(),
            layout_job: None,
            undo_steps: Vec::new(),
            redo_steps: Vec::new(),
            import: None,
            export: None,
            history: None,
            started: None,
            chart_saved: None,
        }
    }

    /// Uses an already open case (the CLI and tests open cases themselves).
    pub fn with_case(mut self, mut case: Case) -> Result<WorkbenchApp> {
        let snapshot = case.snapshot()?;
        let training = case.is_training();
        let truth = crate::generate::read_truth(&case).ok().flatten();
        self.open = Some(OpenCase {
            truth,
            case,
            snapshot,
            training,
            loading: None,
        });
        self.restore_chart();
        Ok(self)
    }

    fn info(&mut self, text: impl Into<String>) {
        let text = text.into();
        tracing::info!("{text}");
        self.messages.push(Message { error: false, text });
    }

    fn error(&mut self, text: impl Into<String>) {
        let text = text.into();
        tracing::warn!("{text}");
        self.messages.push(Message { error: true, text });
    }

    fn apply_theme(&self, ctx: &egui::Context) {
        ctx.set_theme(if self.prefs.dark {
            egui::Theme::Dark
        } else {
            egui::Theme::Light
        });
    }

    /// Asks for the purpose, then opens the case in a job.
    pub fn ask_to_open(&mut self, path: PathBuf) {
        self.pending = Some(PendingOpen {
            path,
            purpose: String::new(),
            create: false,
        });
    }

    fn start_open(&mut self, pending: PendingOpen) {
        let actor = self.actor.clone();
        let PendingOpen {
            path,
            purpose,
            create,
        } = pending;
        let job = self.jobs.spawn("open case", move |_cancel, progress| {
            progress.report(None, "checking the case file");
            let mut case = if create {
                let title = path
                    .file_stem()
                    .map_or_else(|| "case".into(), |s| s.to_string_lossy().into_owned());
                Case::create(&path, &title, actor, &purpose)
            } else {
                Case::open(&path, actor, &purpose)
            }
            .map_err(crate::jobs::JobError::failed)?;
            progress.report(None, "loading the case");
            let snapshot = case.snapshot().map_err(crate::jobs::JobError::failed)?;
            Ok((case, snapshot))
        });
        match job {
            Ok(id) => self.opening = Some(id),
            Err(e) => self.error(format!("{e}")),
        }
    }

    /// Where the demo case lives: the user's data folder, never next to anyone's evidence.
    pub fn demo_path() -> PathBuf {
        let base = std::env::var_os("XDG_DATA_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
            .unwrap_or_else(std::env::temp_dir);
        base.join("copkit").join("demo.copkit")
    }

    /// Opens the generated demo case, generating it first if needed (in a job). It holds no
    /// real people, so it opens in training mode with a fixed purpose instead of asking.
    pub fn open_demo(&mut self) {
        self.open_demo_at(Self::demo_path());
    }

    /// Opens (generating if needed) the demo case at a given path.
    pub fn open_demo_at(&mut self, path: PathBuf) {
        let actor = self.actor.clone();
        let job = self.jobs.spawn("open demo case", move |_cancel, progress| {
            if !path.exists() {
                progress.report(None, "generating the demo case");
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(crate::jobs::JobError::failed)?;
                }
                crate::generate::demo_case(&path).map_err(crate::jobs::JobError::failed)?;
            }
            progress.report(None, "loading the demo case");
            let mut case = Case::open(
                &path,
                actor,
                "training: demo case (generated, no real people)",
            )
            .map_err(crate::jobs::JobError::failed)?;
            let snapshot = case.snapshot().map_err(crate::jobs::JobError::failed)?;
            Ok((case, snapshot))
        });
        match job {
            Ok(id) => self.opening = Some(id),
            Err(e) => self.error(format!("{e}")),
        }
    }

    /// Places the chart as it was saved with the open case, if it was.
    fn restore_chart(&mut self) {
        let Some(open) = &self.open else {
            return;
        };
        match open.case.chart() {
            Ok(Some(json)) => match self.graph.restore_saved(&json) {
                Ok(()) => self.chart_saved = Some(json),
                Err(e) => self.error(format!(
                    "The chart saved with this case could not be read ({e}); it is drawn anew"
                )),
            },
            Ok(None) => {}
            Err(e) => self.error(format!(
                "Could not read the chart saved with this case: {e}"
            )),
        }
    }

    /// Saves the chart with the open case when it changed since it was last saved or read.
    /// Not while an import writes to the case: the save would wait for it on the UI thread.
    pub fn save_chart(&mut self) {
        if self.import.as_ref().is_some_and(|w| w.job.is_some()) {
            return;
        }
        let (Some(open), Some(json)) = (&mut self.open, self.graph.saved_chart()) else {
            return;
        };
        if self.chart_saved.as_deref() == Some(json.as_str()) {
            return;
        }
        match open.case.save_chart(&json) {
            Ok(()) => self.chart_saved = Some(json),
            Err(e) => self.error(format!("Could not save the chart with the case: {e}")),
        }
    }

    fn close_case(&mut self) {
        self.save_chart();
        self.chart_saved = None;
        self.open = None;
        self.view = ViewState::default();
        self.tables = Default::default();
        // The chart belongs to the case: a case opened next starts with its own (the graph
        // view only rebuilds when the generation changes, and two cases can share one).
        if let Some(id) = self.layout_job.take() {
            self.jobs.cancel(id);
        }
        self.graph = Default::default();
    }

    fn run_command(&mut self, ctx: &egui::Context, command: UiCommand) {
        match command {
            UiCommand::NewCase => self.path_prompt = Some((String::new(), true)),
            UiCommand::OpenCase => match rfd::FileDialog::new()
                .add_filter("COPKIT case", &["copkit"])
                .pick_file()
            {
                Some(path) => self.ask_to_open(path),
                // No dialog service answered (or the user cancelled): offer a typed path.
                None => self.path_prompt = Some((String::new(), false)),
            },
            UiCommand::OpenDemo => self.open_demo(),
            UiCommand::CloseCase => self.close_case(),
            UiCommand::Import => self.open_import(None),
            UiCommand::Export => match &self.open {
                Some(open) => {
                    self.export = Some(ui::export_dialog::ExportDialog::new(open.case.path()));
                }
                None => self.error("Open a case first, then export it"),
            },
            UiCommand::Undo | UiCommand::Redo => {
                let undo = command == UiCommand::Undo;
                let (from, to) = if undo {
                    (&mut self.undo_steps, &mut self.redo_steps)
                } else {
                    (&mut self.redo_steps, &mut self.undo_steps)
                };
                // Steps from before this session are store commands.
                let step = from.pop().unwrap_or(UndoStep::Store);
                if step == UndoStep::Chart {
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
                    Ok(None) => self.info(format!("Nothing to {}", command.label().to_lowercase())),
                    Err(e) => self.error(format!("{e}")),
                }
            }
            UiCommand::Find => {
                self.focus_search = true;
            }
            UiCommand::CommandPalette => self.palette = Some(String::new()),
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
        }
    }

    /// Starts loading a snapshot of the current generation in a job; the views keep showing
    /// the previous one until it arrives.
    fn refresh_snapshot(&mut self) {
        let Some(open) = &mut self.open else { return };
        let loader = match open.case.snapshot_loader() {
            Ok(l) => l,
            Err(e) => {
                let text = format!("{e}");
                self.error(text);
                return;
            }
        };
        match self.jobs.spawn("load snapshot", move |_c, p| {
            p.report(None, "reading the case");
            loader
                .load()
                .map(Arc::new)
                .map_err(crate::jobs::JobError::failed)
        }) {
            Ok(id) => open.loading = Some(id),
            Err(e) => self.error(format!("{e}")),
        }
    }

    /// Applies what the views asked for; the only place the case is changed.
    fn apply_actions(&mut self, ctx: &egui::Context, actions: Vec<Action>) {
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
                Action::ChartChanged => {
                    self.undo_steps.push(UndoStep::Chart);
                    self.redo_steps.clear();
                }
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
                Action::SetTimeFilter(filter) => self.view.time_filter = filter,
                Action::Run(command) => self.run_command(ctx, command),
                Action::Apply(command) => self.apply_store_command(*command),
                Action::RunAnalysis {
                    component,
                    params,
                    on_selection,
                } => {
                    let only = on_selection.then(|| self.view.selected_entities());
                    self.run_analysis_on(component, params, only);
                }
                Action::RunChain { file, text } => self.run_chain(&file, &text),
                Action::StartLayout => self.start_layout(),
                Action::StopLayout => {
                    if let Some(id) = self.layout_job {
                        self.jobs.cancel(id);
                    }
                }
            }
        }
    }

    /// Applies one store command (small edits are quick; bulk work goes through jobs).
    pub fn apply_store_command(&mut self, command: Command) {
        let Some(open) = &mut self.open else { return };
        let action = command.action();
        match open.case.apply(command) {
            Ok(_) => {
                self.undo_steps.push(UndoStep::Store);
                self.redo_steps.clear();
                self.info(format!("Done: {action}"));
                self.refresh_snapshot();
            }
            Err(e) => self.error(format!("{action} failed: {e}")),
        }
    }

    /// Runs an analysis component on the current snapshot as a job, recording the run in the
    /// audit log as a consultation.
    pub fn run_analysis(&mut self, component: String, params: crate::analysis::Params) {
        self.run_analysis_on(component, params, None);
    }

    /// Runs a component on the whole case, or only on `only` (the selection: those entities
    /// and the links and events among them).
    pub fn run_analysis_on(
        &mut self,
        component: String,
        params: crate::analysis::Params,
        only: Option<Vec<crate::model::EntityId>>,
    ) {
        let Some(open) = &mut self.open else { return };
        let Some(found) = crate::analysis::find(&component) else {
            self.error(format!("No analysis component called {component}"));
            return;
        };
        if let Err(e) = open.case.record_consultation(
            "analysis run",
            serde_json::json!({"component": component, "params": params, "generation": open.snapshot.generation, "selection": only}),
        ) {
            self.error(format!("Could not record the analysis in the audit log, so it was not run: {e}"));
            return;
        }
        let snapshot = Arc::clone(&open.snapshot);
        let job = self
            .jobs
            .spawn(&component.clone(), move |cancel, progress| {
                let snapshot = match only {
                    Some(keep) => {
                        let keep: std::collections::BTreeSet<_> = keep.into_iter().collect();
                        Arc::new(crate::analysis::chain::restrict(&snapshot, |e| {
                            keep.contains(&e)
                        }))
                    }
                    None => snapshot,
                };
                let output =
                    crate::analysis::run_component(found, &snapshot, &params, cancel, progress)?;
                Ok(AnalysisResult {
                    component,
                    params,
                    generation: snapshot.generation,
                    output,
                })
            });
        match job {
            Ok(id) => self.analysis_job = Some(id),
            Err(e) => self.error(format!("{e}")),
        }
    }

    /// Runs an analysis chain as one job; each step's result becomes a result of the panel and
    /// is stored in the case as an analysis run.
    pub fn run_chain(&mut self, file: &str, text: &str) {
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
            serde_json::json!({"chain": chain.name, "file": file, "generation": open.snapshot.generation}),
        ) {
            self.error(format!("Could not record the chain in the audit log, so it was not run: {e}"));
            return;
        }
        let snapshot = Arc::clone(&open.snapshot);
        let name = format!("chain {}", chain.name);
        let job = self.jobs.spawn(&name, move |cancel, progress| {
            let steps = chain
                .run(&snapshot, cancel, progress)
                .map_err(|e| match e {
                    crate::analysis::chain::ChainError::Cancelled { .. } => {
                        crate::jobs::JobError::Cancelled
                    }
                    other => crate::jobs::JobError::failed(other),
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
        });
        match job {
            Ok(id) => self.chain_job = Some(id),
            Err(e) => self.error(format!("{e}")),
        }
    }

    /// Starts the force layout once the graph view has placed a newly shown case on its
    /// starting spiral, when the preference is on and the chart is not too large.
    fn auto_layout(&mut self) {
        if !std::mem::take(&mut self.graph.wants_layout) || !self.prefs.auto_layout {
            return;
        }
        let entities = self.graph.graph.node_count;
        if entities > AUTO_LAYOUT_MAX_ENTITIES {
            self.info(format!(
                "The chart has {entities} entities, more than the {AUTO_LAYOUT_MAX_ENTITIES} laid out automatically; use Run force layout to lay it out"
            ));
            return;
        }
        self.start_layout();
    }

    /// Starts the force layout as a job from the current positions; it streams positions into
    /// the graph view's slot.
    fn start_layout(&mut self) {
        if self.layout_job.is_some() {
            return;
        }
        let graph = self.graph.graph.clone();
        let start = self.graph.positions.clone();
        let pinned = self.graph.pinned_mask();
        let slot = Arc::clone(&self.graph.slot);
        match self.jobs.spawn("force layout", move |cancel, progress| {
            let publish = |p: &[[f32; 2]]| {
                if let Ok(mut s) = slot.lock() {
                    *s = Some(p.to_vec());
                }
            };
            crate::layout::run_force(
                &graph,
                Some(&start),
                &pinned,
                3000,
                cancel,
                progress,
                &publish,
            )
        }) {
            Ok(id) => {
                self.layout_job = Some(id);
                self.graph.layout_running = true;
            }
            Err(e) => self.error(format!("{e}")),
        }
    }

    /// Opens the import wizard (at the mapping step when a file is given, as on a drop).
    pub fn open_import(&mut self, path: Option<&std::path::Path>) {
        if self.open.is_none() {
            self.error("Open or create a case first, then import into it");
            return;
        }
        if self.import.as_ref().is_some_and(|w| w.job.is_some()) {
            self.error("An import is running; wait for it or cancel it first");
            return;
        }
        self.import = Some(ui::import::ImportWizard::new(path));
    }

    /// Shows the import wizard's window and acts on what it asks.
    fn import_window(&mut self, ctx: &egui::Context) {
        let Some(wizard) = &mut self.import else {
            return;
        };
        let Some(open) = &self.open else {
            self.import = None;
            return;
        };
        let progress = wizard.job.and_then(|id| {
            self.jobs.running().iter().find(|j| j.id == id).map(|j| {
                j.progress
                    .as_ref()
                    .map_or((None, "starting".to_string()), |p| {
                        (p.fraction, p.message.clone())
                    })
            })
        });
        let mut request = ui::import::WizardRequest::None;
        let mut keep_open = true;
        egui::Window::new("Import")
            .open(&mut keep_open)
            .default_width(720.0)
            .collapsible(false)
            .show(ctx, |ui| {
                request = ui::import::show(ui, wizard, &open.snapshot.schema, progress);
            });
        if !keep_open && wizard.job.is_none() {
            request = ui::import::WizardRequest::Close;
        }
        match request {
            ui::import::WizardRequest::None => {}
            ui::import::WizardRequest::Close => self.import = None,
            ui::import::WizardRequest::Cancel(id) => self.jobs.cancel(id),
            ui::import::WizardRequest::Browse => {
                if let Some(path) = rfd::FileDialog::new().pick_file() {
                    wizard.path_text = path.display().to_string();
                }
            }
            ui::import::WizardRequest::Start => {
                let (path, actor, purpose) = (
                    open.case.path().to_path_buf(),
                    open.case.actor().clone(),
                    open.case.purpose().to_string(),
                );
                wizard.start(&mut self.jobs, path, actor, purpose);
            }
        }
    }

    /// Shows the export dialog and acts on what it asks.
    fn export_window(&mut self, ctx: &egui::Context) {
        let (Some(dialog), Some(open)) = (&mut self.export, &self.open) else {
            return;
        };
        let mut request = ui::export_dialog::ExportRequestUi::None;
        let mut keep_open = true;
        egui::Window::new("Export case")
            .open(&mut keep_open)
            .default_width(600.0)
            .collapsible(false)
            .show(ctx, |ui| request = ui::export_dialog::show(ui, dialog));
        if !keep_open && dialog.job.is_none() {
            request = ui::export_dialog::ExportRequestUi::Close;
        }
        match request {
            ui::export_dialog::ExportRequestUi::None => {}
            ui::export_dialog::ExportRequestUi::Close => self.export = None,
            ui::export_dialog::ExportRequestUi::Start => {
                let (path, actor, purpose) = (
                    open.case.path().to_path_buf(),
                    open.case.actor().clone(),
                    open.case.purpose().to_string(),
                );
                dialog.start(&mut self.jobs, path, actor, purpose);
            }
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
    fn export_chart(&mut self, ctx: &egui::Context, svg: bool) {
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
    pub fn save_chart_svg(&mut self, path: &std::path::Path) {
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
    pub fn save_chart_image(&mut self, path: &std::path::Path, bytes: &[u8]) {
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

    fn poll_jobs(&mut self) {
        for finished in self.jobs.poll() {
            let id = finished.id;
            if Some(id) == self.layout_job {
                self.layout_job = None;
                self.graph.layout_running = false;
                match finished.into_result::<Vec<[f32; 2]>>() {
                    Ok(positions) => self.graph.set_positions(positions),
                    Err(crate::jobs::JobError::Cancelled) => {}
                    Err(e) => self.error(format!("layout: {e}")),
                }
            } else if let Some(wizard) = self.import.as_mut().filter(|w| w.job == Some(id)) {
                let result = finished.into_result::<crate::io::ImportReport>();
                let imported = result.is_ok();
                wizard.finished(result);
                if imported && let Some(open) = &mut self.open {
                    // The import wrote through its own connection: pick up the new state.
                    match open.case.reload() {
                        Ok(()) => {
                            self.undo_steps.push(UndoStep::Store);
                            self.redo_steps.clear();
                            self.info("Import finished");
                            self.refresh_snapshot();
                        }
                        Err(e) => {
                            self.error(format!("Could not re-read the case after the import: {e}"))
                        }
                    }
                }
            } else if self.export.as_ref().is_some_and(|d| d.job == Some(id)) {
                let result = finished.into_result::<crate::io::export::ExportReport>();
                if result.is_ok() {
                    self.info("Export finished; the disclosure is in the audit log");
                }
                if let Some(dialog) = self.export.as_mut() {
                    dialog.finished(result);
                }
            } else if Some(id) == self.chain_job {
                self.chain_job = None;
                let name = finished.name.clone();
                match finished.into_result::<Vec<AnalysisResult>>() {
                    Ok(results) => {
                        if let Some(open) = &mut self.open {
                            for r in &results {
                                if let Err(e) = crate::analysis::store_run(
                                    &mut open.case,
                                    &r.component,
                                    &r.params,
                                    &r.output,
                                ) {
                                    tracing::warn!("could not store the chain step: {e}");
                                }
                            }
                        }
                        let steps = results.len();
                        self.analysis.results.extend(results);
                        self.view.analysis_column =
                            crate::ui::analysis::column(&self.analysis.results);
                        self.info(format!("{name}: {steps} steps finished and stored"));
                    }
                    Err(e) => self.error(format!("{name}: {e}")),
                }
            } else if Some(id) == self.analysis_job {
                self.analysis_job = None;
                let name = finished.name.clone();
                let elapsed = finished.elapsed;
                match finished.into_result::<AnalysisResult>() {
                    Ok(result) => {
                        if let Some(open) = &mut self.open
                            && let Err(e) = crate::analysis::store_run(
                                &mut open.case,
                                &result.component,
                                &result.params,
                                &result.output,
                            )
                        {
                            tracing::warn!("could not store the analysis run: {e}");
                        }
                        self.analysis.results.push(result);
                        self.view.analysis_column =
                            crate::ui::analysis::column(&self.analysis.results);
                        self.info(format!("{name} finished in {:.2} s", elapsed.as_secs_f64()));
                    }
                    Err(e) => self.error(format!("{name}: {e}")),
                }
            } else if Some(id) == self.opening {
                self.opening = None;
                match finished.into_result::<(Case, Arc<CaseSnapshot>)>() {
                    Ok((case, snapshot)) => {
                        let path = case.path().to_path_buf();
                        self.prefs.recent.retain(|p| p != &path);
                        self.prefs.recent.insert(0, path.clone());
                        self.prefs.recent.truncate(10);
                        let training = case.is_training();
                        self.close_case();
                        let truth = crate::generate::read_truth(&case).ok().flatten();
                        self.open = Some(OpenCase {
                            truth,
                            case,
                            snapshot,
                            training,
                            loading: None,
                        });
                        self.restore_chart();
                        self.info(format!("Opened {}", path.display()));
                    }
                    Err(e) => self.error(format!("Could not open the case: {e}")),
                }
            } else if let Some(open) = &mut self.open
                && open.loading == Some(id)
            {
                open.loading = None;
                match finished.into_result::<Arc<CaseSnapshot>>() {
                    // Keep only a snapshot of the generation the case is at now.
                    Ok(s) if s.generation == open.case.generation() => open.snapshot = s,
                    Ok(_) => {}
                    Err(e) => self.error(format!("Could not reload the case: {e}")),
                }
            } else if let Err(e) = finished.result
                // A job cancelled with its case (the layout of a closed case) needs no word.
                && !matches!(e, crate::jobs::JobError::Cancelled)
            {
                self.error(format!("{e}"));
            }
        }
    }

    /// Draws one frame (also what UI tests drive).
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        if let Some(started) = self.started.take() {
            tracing::info!(
                "first frame {:.0} ms after start",
                started.elapsed().as_secs_f64() * 1000.0
            );
        }
        self.poll_jobs();
        self.auto_layout();
        let mut actions: Vec<Action> = UiCommand::from_shortcuts(&ctx)
            .into_iter()
            .map(Action::Run)
            .collect();

        egui::Panel::top("menu").show(ui, |ui| {
            egui::MenuBar::new().ui(ui, |ui| {
                for (menu, title) in [
                    (Menu::File, "File"),
                    (Menu::Edit, "Edit"),
                    (Menu::View, "View"),
                ] {
                    ui.menu_button(title, |ui| {
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
                    });
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

        if let Some(open) = &self.open {
            let snapshot = Arc::clone(&open.snapshot);
            egui::Panel::left("filters")
                .resizable(true)
                .default_size(200.0)
                .show(ui, |ui| {
                    filters_panel(ui, &snapshot, &mut self.view, &mut self.focus_search);
                });
            egui::Panel::right("inspector")
                .resizable(true)
                .default_size(340.0)
                .show(ui, |ui| {
                    ui.heading("Inspector");
                    let focus = self.view.focus();
                    let key = focus.map(|f| (f, snapshot.generation));
                    if self.history.as_ref().map(|h| (h.0, h.1)) != key {
                        self.history = focus.map(|f| {
                            let records = self
                                .open
                                .as_ref()
                                .and_then(|o| o.case.audit_history(f).ok())
                                .unwrap_or_default();
                            (f, snapshot.generation, records)
                        });
                    }
                    let history = self.history.as_ref().map_or(&[][..], |h| &h.2[..]);
                    // The latest entity-resolution run of this case's generation.
                    let proposals = self
                        .analysis
                        .results
                        .iter()
                        .rev()
                        .find_map(|r| match &r.output {
                            crate::analysis::Output::MergeProposals { proposals } => {
                                Some(&proposals[..])
                            }
                            _ => None,
                        })
                        .unwrap_or(&[]);
                    actions.extend(ui::inspector::show(
                        ui,
                        &snapshot,
                        &self.view,
                        &mut self.inspector,
                        history,
                        proposals,
                    ));
                });
            egui::CentralPanel::default().show(ui, |ui| {
                ui.horizontal(|ui| {
                    for (tab, label) in [
                        (Tab::Graph, "Graph"),
                        (Tab::Entities, "Entities"),
                        (Tab::Links, "Links"),
                        (Tab::Events, "Events"),
                        (Tab::Timeline, "Timeline"),
                        (Tab::Analysis, "Analysis"),
                        (Tab::Audit, "Audit log"),
                    ] {
                        ui.selectable_value(&mut self.tab, tab, label);
                    }
                    if self.open.as_ref().is_some_and(|o| o.truth.is_some()) {
                        ui.selectable_value(&mut self.tab, Tab::Truth, "Ground truth");
                    }
                });
                ui.separator();
                let acts = match self.tab {
                    Tab::Graph => ui::graph::show(ui, &snapshot, &self.view, &mut self.graph),
                    Tab::Entities => ui::tables::show(
                        ui,
                        &snapshot,
                        TableKind::Entities,
                        &self.view,
                        &mut self.tables[0],
                    ),
                    Tab::Links => ui::tables::show(
                        ui,
                        &snapshot,
                        TableKind::Links,
                        &self.view,
                        &mut self.tables[1],
                    ),
                    Tab::Events => ui::tables::show(
                        ui,
                        &snapshot,
                        TableKind::Events,
                        &self.view,
                        &mut self.tables[2],
                    ),
                    Tab::Timeline => {
                        ui::timeline::show(ui, &snapshot, &self.view, &mut self.timeline)
                    }
                    Tab::Analysis => ui::analysis::show(
                        ui,
                        &snapshot,
                        &self.view,
                        &mut self.analysis,
                        self.analysis_job.is_some() || self.chain_job.is_some(),
                    ),
                    Tab::Truth => ui::truth::show(
                        ui,
                        &snapshot,
                        self.open.as_ref().and_then(|o| o.truth.as_ref()),
                    ),
                    Tab::Audit => {
                        audit_view(ui, &self.open.as_ref().expect("open").case);
                        Vec::new()
                    }
                };
                actions.extend(acts);
            });
        } else {
            egui::CentralPanel::default().show(ui, |ui| {
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
                    if self.opening.is_some() {
                        ui.spinner();
                    }
                });
            });
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
        self.apply_actions(&ctx, actions);
    }

    fn dialogs(&mut self, ctx: &egui::Context, actions: &mut Vec<Action>) {
        if let Some((text, create)) = &mut self.path_prompt {
            let mut done = None;
            egui::Modal::new(egui::Id::unique("path-prompt")).show(ctx, |ui| {
                ui.heading(if *create { "New case" } else { "Open case" });
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
                self.path_prompt = None;
                if let Some(path) = result {
                    self.pending = Some(PendingOpen {
                        path,
                        purpose: String::new(),
                        create,
                    });
                }
            }
        }
        if let Some(pending) = &mut self.pending {
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
                    let pending = self.pending.take().expect("pending");
                    self.start_open(pending);
                }
                Some(false) => self.pending = None,
                None => {}
            }
        }
        if let Some(filter) = &mut self.palette {
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
                self.palette = None;
            }
            if let Some(c) = chosen {
                actions.push(Action::Run(c));
            }
        }
    }
}

fn filters_panel(
    ui: &mut egui::Ui,
    case: &CaseSnapshot,
    view: &mut ViewState,
    focus_search: &mut bool,
) {
    ui.heading("Filters");
    let label = ui.label("Search (ctrl-f)");
    let search = ui
        .text_edit_singleline(&mut view.filters.search)
        .labelled_by(label.id);
    if std::mem::take(focus_search) {
        search.request_focus();
    }
    // Each control under its label, as the other filters are (a combo box's own label would
    // stand beside it and repeat the one above).
    let label = ui.label("Entity type");
    let current = view
        .filters
        .entity_type
        .clone()
        .unwrap_or_else(|| "all".into());
    egui::ComboBox::from_id_salt("type-filter")
        .selected_text(current)
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut view.filters.entity_type, None, "all");
            for t in &case.schema.entity_types {
                ui.selectable_value(&mut view.filters.entity_type, Some(t.key.clone()), &t.label);
            }
        })
        .response
        .labelled_by(label.id);
    let label = ui.label("Person category");
    let current = view.filters.category.map_or("all", |c| c.as_str());
    egui::ComboBox::from_id_salt("category-filter")
        .selected_text(current)
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut view.filters.category, None, "all");
            for c in PersonCategory::ALL {
                ui.selectable_value(&mut view.filters.category, Some(c), c.as_str());
            }
        })
        .response
        .labelled_by(label.id);
    let label = ui.label(format!("Grade at least ({})", case.default_scheme));
    ui.add(egui::TextEdit::singleline(&mut view.filters.min_grade).hint_text("e.g. B2"))
        .labelled_by(label.id);
    if !view.filters.min_grade.trim().is_empty() && view.filters.grade(case).is_none() {
        ui.colored_label(ui.visuals().warn_fg_color, "not a grade of this scheme");
    }
    let label = ui.label("Attribute (property, value contains)");
    ui.horizontal(|ui| {
        ui.add(
            egui::TextEdit::singleline(&mut view.filters.attribute)
                .hint_text("nationality")
                .desired_width(90.0),
        )
        .labelled_by(label.id);
        ui.add(
            egui::TextEdit::singleline(&mut view.filters.attribute_value)
                .hint_text("value")
                .desired_width(90.0),
        )
        .labelled_by(label.id);
    });
    ui.checkbox(&mut view.filters.hide_restricted, "Hide restricted items");
    ui.separator();
    ui.label(format!("{} selected", view.selection.len()));
    if let Some((a, b)) = view.time_filter {
        ui.label(format!("Time: {} – {}", ui::time_text(a), ui::time_text(b)));
    }
}

fn audit_view(ui: &mut egui::Ui, case: &Case) {
    match case.audit_records() {
        Ok(records) => {
            egui::ScrollArea::vertical().auto_shrink(false).show_rows(
                ui,
                18.0,
                records.len(),
                |ui, range| {
                    for r in &records[range] {
                        ui.label(format!(
                            "{:>5}  {}  {:<12} {:<20} {} · {}",
                            r.seq, r.time_utc, r.category, r.action, r.actor_analyst, r.purpose
                        ));
                    }
                },
            );
        }
        Err(e) => {
            ui.colored_label(ui.visuals().error_fg_color, format!("{e}"));
        }
    }
}

impl eframe::App for WorkbenchApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    /// Also called every 30 s and on exit: the chart is saved with the case then.
    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        self.prefs.tab = Some(self.tab);
        eframe::set_value(storage, eframe::APP_KEY, &self.prefs);
        self.save_chart();
    }
}
