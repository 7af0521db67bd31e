//! The workbench window (eframe), split by role as rerun's viewer is: this file holds the
//! state and how it is made; [`case`] opens, reloads and closes cases; [`command_handling`]
//! is the one place where what the views ask for is applied; [`work`] starts the long work
//! (analysis, chains, layouts, imports, exports) as jobs; [`jobs`] keeps the running jobs
//! and hands their results back; [`frame`] lays out a frame (menu bar, filters on the left,
//! tabbed centre, inspector on the right, jobs and messages at the bottom) and [`dialogs`]
//! the modal windows.

mod case;
mod command_handling;
mod dialogs;
mod frame;
mod hints;
pub mod jobs;
mod work;

use crate::jobs::JobManager;
use crate::store::{Actor, AuditRecord, Case, CaseSnapshot};
use crate::ui::analysis::AnalysisPanelState;
use crate::ui::inspector::InspectorState;
use crate::ui::tables::TableState;
use crate::ui::timeline::TimelineState;
use crate::ui::{self, ViewState};
use anyhow::Result;
use std::path::PathBuf;
use std::sync::Arc;

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
            prefs.apply_anchor_log();
            let mut app = WorkbenchApp::new(actor, prefs);
            app.started = Some(started);
            let ctx = cc.egui_ctx.clone();
            app.jobs.set_wake(Arc::new(move || ctx.request_repaint()));
            app.apply_theme(&cc.egui_ctx);
            match (case, purpose) {
                (Some(path), Some(purpose)) if !purpose.trim().is_empty() => {
                    app.start_open(case::PendingOpen {
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
    /// Cases of at most this many entities open with all of them on the chart; larger ones
    /// open on an empty chart the analyst builds by search, expand and path.
    #[serde(default = "whole_chart_max")]
    pub whole_chart_max: usize,
    /// Where audit heads are anchored (a write-once medium, for instance); `None`: the
    /// workstation's default (`store::anchor`). A `--anchor-log` or `COPKIT_ANCHOR_LOG` given
    /// when the window starts wins over it.
    #[serde(default)]
    pub anchor_log: Option<PathBuf>,
}

impl Prefs {
    /// Puts the preferred anchor log in force, unless one was given on the command line or in
    /// the environment.
    pub fn apply_anchor_log(&self) {
        use crate::store::anchor;
        let Some(log) = &self.anchor_log else { return };
        let given = std::env::var_os("COPKIT_ANCHOR_LOG").is_some_and(|v| !v.is_empty())
            || anchor::workstation() != anchor::Workstation::from_environment();
        if !given {
            set_anchor_log(log.clone());
        }
    }
}

/// Anchors every new audit head of this process in `log` from now on (the signing key stays).
pub fn set_anchor_log(log: PathBuf) {
    use crate::store::anchor;
    let mut workstation = anchor::workstation();
    workstation.anchor_log = Some(log);
    anchor::configure(workstation);
}

fn whole_chart_max() -> usize {
    crate::ui::graph::WHOLE_CHART_MAX_ENTITIES
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
            whole_chart_max: whole_chart_max(),
            anchor_log: None,
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
    /// What is due for retention review (`ui::review`).
    Review,
}

/// A message for the user at the bottom of the window.
#[derive(Debug, Clone)]
pub struct Message {
    pub error: bool,
    pub text: String,
}

/// The open case and the snapshot the views read.
pub struct OpenCase {
    pub truth: Option<crate::generate::Truth>,
    pub case: Case,
    pub snapshot: Arc<CaseSnapshot>,
    pub training: bool,
}

/// What one undo step of the session changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UndoStep {
    /// A store command (in the case file, undone through the store).
    Store,
    /// A change of the graph view's chart (hide, pin, expand, collapse, move).
    Chart,
}

/// The session's undo history across the case and the chart: which kind of change each step
/// was, latest last, so ctrl-z undoes the latest, whether a store command or a chart change.
#[derive(Debug, Default)]
struct UndoHistory {
    undo: Vec<UndoStep>,
    redo: Vec<UndoStep>,
}

impl UndoHistory {
    /// A new change ends the redo branch.
    fn push(&mut self, step: UndoStep) {
        self.undo.push(step);
        self.redo.clear();
    }
}

/// The state of the views that is not shared (each view's own scroll, sort and caches).
#[derive(Debug, Default)]
struct ViewStates {
    tables: [TableState; 3],
    inspector: InspectorState,
    timeline: TimelineState,
    /// The focused item's audit history, read once per item and generation.
    history: Option<(crate::model::ItemRef, u64, Vec<AuditRecord>)>,
    /// The entities merged into the focused one (to split out), read with its history.
    absorbed: Vec<(crate::model::EntityId, String)>,
    review: ui::review::ReviewState,
    /// The review list last read: for which generation and date.
    review_list: Option<(u64, String, Result<crate::store::ReviewList, String>)>,
    /// The anchor log window (View menu) is open.
    anchor_log_window: bool,
    /// The anchor log path being typed there.
    anchor_log_text: Option<String>,
}

/// The modal prompts.
#[derive(Debug, Default)]
struct Dialogs {
    /// A case waiting for the purpose of opening it.
    pending: Option<case::PendingOpen>,
    /// A typed path for opening (`false`) or creating (`true`) a case.
    path_prompt: Option<(String, bool)>,
    /// The command palette's filter, while it is open.
    palette: Option<String>,
    /// Focus the search field at the next frame (ctrl-f).
    focus_search: bool,
    /// The Help menu's window, while open.
    help: Option<HelpPage>,
}

/// The windows of the Help menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HelpPage {
    Shortcuts,
    About,
}

/// The workbench.
pub struct WorkbenchApp {
    pub prefs: Prefs,
    actor: Actor,
    pub open: Option<OpenCase>,
    /// The selection and filters every view shares.
    pub view: ViewState,
    pub tab: Tab,
    pub messages: Vec<Message>,
    pub jobs: JobManager,
    running: jobs::RunningJobs,
    views: ViewStates,
    dialogs: Dialogs,
    undo: UndoHistory,
    pub analysis: AnalysisPanelState,
    pub graph: crate::ui::graph::GraphState,
    /// The import wizard, while open.
    pub import: Option<ui::import::ImportWizard>,
    /// The export dialog, while open.
    pub export: Option<ui::export_dialog::ExportDialog>,
    /// The editing windows (new entity, link, event; types, schemes, snapshots).
    pub editor: ui::editor::EditorState,
    /// Entities created by hand that go on the chart once the snapshot holding them arrives,
    /// with where they were asked for.
    pending_chart_adds: Vec<(Vec<crate::model::EntityId>, Option<[f32; 2]>)>,
    /// When the process started, until the first frame has been drawn (logged once).
    started: Option<std::time::Instant>,
    /// The chart as last saved with (or read from) the open case, to save only changes.
    chart_saved: Option<String>,
    /// A layout asked for while another ran; it starts when that one has stopped.
    pending_layout: Option<crate::ui::graph::LayoutRequest>,
    /// Actions a job's handler produced, applied with the next frame's.
    deferred: Vec<ui::Action>,
    /// The theme and styles are set on the first frame.
    styled: bool,
    /// The answer the next file dialog of the chain editor gives without showing itself: UI
    /// tests set it, as they cannot click in a native dialog.
    pub next_file_dialog: Option<PathBuf>,
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
            running: jobs::RunningJobs::default(),
            views: ViewStates::default(),
            dialogs: Dialogs::default(),
            undo: UndoHistory::default(),
            analysis: AnalysisPanelState::default(),
            graph: Default::default(),
            import: None,
            export: None,
            editor: Default::default(),
            pending_chart_adds: Vec::new(),
            started: None,
            chart_saved: None,
            pending_layout: None,
            deferred: Vec::new(),
            styled: false,
            next_file_dialog: None,
        }
    }

    /// Uses an already open case (the CLI and tests open cases themselves).
    pub fn with_case(mut self, mut case: Case) -> Result<WorkbenchApp> {
        let snapshot = case.snapshot()?;
        self.set_open_case(case, snapshot);
        Ok(self)
    }

    /// Whether any job of the app still runs (tests wait for this).
    pub fn is_busy(&self) -> bool {
        !self.running.is_empty()
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
        // A blinking text cursor repaints the whole window twice a second while a field has
        // focus (the chart of a large case with it); a steady cursor repaints nothing.
        ctx.all_styles_mut(|style| style.visuals.text_cursor.blink = false);
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
