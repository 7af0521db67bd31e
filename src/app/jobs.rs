//! The app's running jobs: one list, not one slot per kind. Each entry holds a typed
//! [`JobHandle`] and the handler that takes its result on the UI thread, so a result's type
//! is checked when the job is started. The app polls the list once per frame; handlers run
//! after the list is settled, and may start new jobs.

use super::WorkbenchApp;
use crate::jobs::{CancelToken, JobError, JobHandle, JobId, Progress};
use std::time::Duration;

/// What a job is for: the app asks whether one of a kind runs (one layout at a time, no
/// second import) and cancels by kind (a closed case's layout).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    OpenCase,
    LoadSnapshot,
    Analysis,
    Chain,
    Layout,
    Import,
    ImportPreview,
    Export,
}

/// How a job ended, as its handler gets it.
#[derive(Debug)]
pub struct JobEnd<T> {
    pub name: String,
    pub elapsed: Duration,
    pub result: Result<T, JobError>,
}

/// A handler of a job's end.
type OnDone<T> = Box<dyn FnOnce(&mut WorkbenchApp, JobEnd<T>)>;

/// A finished job's result with its handler, ready to run.
type Ready = Box<dyn FnOnce(&mut WorkbenchApp)>;

/// One running job, whatever its result type.
trait Pending {
    fn kind(&self) -> JobKind;
    fn id(&self) -> JobId;
    fn cancel(&self);
    /// The handler bound to the result once the job ended; `None` while it runs.
    fn take_ready(&mut self) -> Option<Ready>;
}

struct Typed<T> {
    kind: JobKind,
    handle: JobHandle<T>,
    on_done: Option<OnDone<T>>,
}

impl<T: 'static> Pending for Typed<T> {
    fn kind(&self) -> JobKind {
        self.kind
    }

    fn id(&self) -> JobId {
        self.handle.id()
    }

    fn cancel(&self) {
        self.handle.cancel();
    }

    fn take_ready(&mut self) -> Option<Ready> {
        let result = self.handle.try_take()?;
        let end = JobEnd {
            name: self.handle.name().to_string(),
            elapsed: self.handle.elapsed(),
            result,
        };
        let on_done = self.on_done.take()?;
        Some(Box::new(move |app: &mut WorkbenchApp| on_done(app, end)))
    }
}

/// The jobs the app started and has not yet heard the end of.
#[derive(Default)]
pub struct RunningJobs {
    list: Vec<Box<dyn Pending>>,
}

impl std::fmt::Debug for RunningJobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.list.iter().map(|j| (j.id(), j.kind())))
            .finish()
    }
}

impl RunningJobs {
    /// Whether a job of this kind runs.
    pub fn any(&self, kind: JobKind) -> bool {
        self.list.iter().any(|j| j.kind() == kind)
    }

    /// Asks every job of this kind to stop.
    pub fn cancel(&self, kind: JobKind) {
        for job in self.list.iter().filter(|j| j.kind() == kind) {
            job.cancel();
        }
    }

    /// The id of the running job of this kind (the oldest, if several).
    pub fn id_of(&self, kind: JobKind) -> Option<JobId> {
        self.list.iter().find(|j| j.kind() == kind).map(|j| j.id())
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

impl WorkbenchApp {
    /// Starts `work` as a job; `on_done` takes its end on the UI thread. Returns the job's
    /// id, or `None` (with a message to the user) when no thread could be started.
    pub(crate) fn start_job<T, W, D>(
        &mut self,
        kind: JobKind,
        name: &str,
        work: W,
        on_done: D,
    ) -> Option<JobId>
    where
        T: Send + 'static,
        W: FnOnce(&CancelToken, &dyn Progress) -> Result<T, JobError> + Send + 'static,
        D: FnOnce(&mut WorkbenchApp, JobEnd<T>) + 'static,
    {
        match self.jobs.spawn(name, work) {
            Ok(handle) => {
                let id = handle.id();
                self.running.list.push(Box::new(Typed {
                    kind,
                    handle,
                    on_done: Some(Box::new(on_done)),
                }));
                Some(id)
            }
            Err(e) => {
                self.error(format!("{name} could not start: {e}"));
                None
            }
        }
    }

    /// Takes in progress and hands every finished job's result to its handler.
    pub(crate) fn poll_jobs(&mut self) {
        self.jobs.poll();
        let mut ready = Vec::new();
        self.running.list.retain_mut(|job| match job.take_ready() {
            Some(handler) => {
                ready.push(handler);
                false
            }
            None => true,
        });
        for handler in ready {
            handler(self);
        }
    }
}
