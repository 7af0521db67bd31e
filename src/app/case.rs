//! Opening, reloading and closing the case: opening (and generating the demo case) runs as a
//! job; after a change a new snapshot loads in a job while the views keep the previous one;
//! the chart is saved with the case and restored when it opens.

use super::jobs::{JobEnd, JobKind};
use super::{OpenCase, WorkbenchApp};
use crate::jobs::JobError;
use crate::store::{Case, CaseSnapshot};
use crate::ui::ViewState;
use std::path::PathBuf;
use std::sync::Arc;

/// A case the user asked to open, waiting for the purpose.
#[derive(Debug, Clone)]
pub(super) struct PendingOpen {
    pub path: PathBuf,
    pub purpose: String,
    /// Create a new case there instead of opening one.
    pub create: bool,
}

impl WorkbenchApp {
    /// Asks for the purpose, then opens the case in a job.
    pub fn ask_to_open(&mut self, path: PathBuf) {
        self.dialogs.pending = Some(PendingOpen {
            path,
            purpose: String::new(),
            create: false,
        });
    }

    pub(super) fn start_open(&mut self, pending: PendingOpen) {
        let actor = self.actor.clone();
        let PendingOpen {
            path,
            purpose,
            create,
        } = pending;
        self.start_job(
            JobKind::OpenCase,
            "open case",
            move |_cancel, progress| {
                progress.report(None, "checking the case file");
                let mut case = if create {
                    let title = path
                        .file_stem()
                        .map_or_else(|| "case".into(), |s| s.to_string_lossy().into_owned());
                    Case::create(&path, &title, actor, &purpose)
                } else {
                    Case::open(&path, actor, &purpose)
                }
                .map_err(JobError::failed)?;
                progress.report(None, "loading the case");
                let snapshot = case.snapshot().map_err(JobError::failed)?;
                Ok((case, snapshot))
            },
            Self::case_opened,
        );
    }

    /// Where the demo case lives: the user's data folder, never next to anyone's evidence.
    pub fn demo_path() -> PathBuf {
        // The platform's per-user data folder (see `dirs::data_dir`): on Windows and macOS
        // too, where $HOME/.local/share means nothing.
        dirs::data_dir()
            .unwrap_or_else(std::env::temp_dir)
            .join("copkit")
            .join("demo.copkit")
    }

    /// Opens the generated demo case, generating it first if needed (in a job). It holds no
    /// real people, so it opens in training mode with a fixed purpose instead of asking.
    pub fn open_demo(&mut self) {
        self.open_demo_at(Self::demo_path());
    }

    /// Opens (generating if needed) the demo case at a given path.
    pub fn open_demo_at(&mut self, path: PathBuf) {
        let actor = self.actor.clone();
        self.start_job(
            JobKind::OpenCase,
            "open demo case",
            move |_cancel, progress| {
                if !path.exists() {
                    progress.report(None, "generating the demo case");
                    if let Some(dir) = path.parent() {
                        std::fs::create_dir_all(dir).map_err(JobError::failed)?;
                    }
                    crate::generate::demo_case(&path).map_err(JobError::failed)?;
                }
                progress.report(None, "loading the demo case");
                let mut case = Case::open(
                    &path,
                    actor,
                    "training: demo case (generated, no real people)",
                )
                .map_err(JobError::failed)?;
                let snapshot = case.snapshot().map_err(JobError::failed)?;
                Ok((case, snapshot))
            },
            Self::case_opened,
        );
    }

    /// An opening job ended.
    fn case_opened(&mut self, end: JobEnd<(Case, Arc<CaseSnapshot>)>) {
        match end.result {
            Ok((case, snapshot)) => {
                let path = case.path().to_path_buf();
                self.prefs.recent.retain(|p| p != &path);
                self.prefs.recent.insert(0, path.clone());
                self.prefs.recent.truncate(10);
                self.close_case();
                self.set_open_case(case, snapshot);
                self.info(format!("Opened {}", path.display()));
            }
            Err(e) => self.error(format!("Could not open the case: {e}")),
        }
    }

    /// Makes `case` the open case, with its chart as saved with it.
    pub(super) fn set_open_case(&mut self, case: Case, snapshot: Arc<CaseSnapshot>) {
        let training = case.is_training();
        let truth = crate::generate::read_truth(&case).ok().flatten();
        self.open = Some(OpenCase {
            truth,
            case,
            snapshot,
            training,
        });
        self.restore_chart();
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
        if self.running.any(JobKind::Import) {
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

    pub(super) fn close_case(&mut self) {
        self.save_chart();
        self.chart_saved = None;
        self.open = None;
        self.view = ViewState::default();
        self.views = Default::default();
        // The chart belongs to the case: a case opened next starts with its own (the graph
        // view only rebuilds when the generation changes, and two cases can share one).
        self.running.cancel(JobKind::Layout);
        self.running.cancel(JobKind::LoadSnapshot);
        self.graph = Default::default();
    }

    /// Starts loading a snapshot of the current generation in a job; the views keep showing
    /// the previous one until it arrives.
    pub(super) fn refresh_snapshot(&mut self) {
        let Some(open) = &mut self.open else { return };
        let loader = match open.case.snapshot_loader() {
            Ok(l) => l,
            Err(e) => {
                self.error(format!("{e}"));
                return;
            }
        };
        self.start_job(
            JobKind::LoadSnapshot,
            "load snapshot",
            move |_c, p| {
                p.report(None, "reading the case");
                loader.load().map(Arc::new).map_err(JobError::failed)
            },
            |app, end| {
                let Some(open) = &mut app.open else { return };
                match end.result {
                    // Keep only a snapshot of this case at the generation it is at now (a case
                    // opened meanwhile may be at the same generation).
                    Ok(s)
                        if s.generation == open.case.generation()
                            && s.case_id == open.snapshot.case_id =>
                    {
                        open.snapshot = s;
                        app.place_created();
                    }
                    Ok(_) | Err(JobError::Cancelled) => {}
                    Err(e) => app.error(format!("Could not reload the case: {e}")),
                }
            },
        );
    }
}
