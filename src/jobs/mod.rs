//! Background jobs: named worker threads with a job id, a cancel token, throttled progress and
//! a typed result delivered to the job's own [`JobHandle`]. Import, generation, layout, analysis and export all run through here, from
//! the workbench (which polls [`JobManager::poll`] each frame) and from the CLI (which waits).
//! No GUI dependency: progress goes through a channel and an optional wake-up callback.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Identifies a job for its lifetime in one process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub u64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job {}", self.0)
    }
}

/// Shared flag a job checks inside its loops.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// `Err(JobError::Cancelled)` once cancelled, for use with `?` inside loops.
    pub fn check(&self) -> Result<(), JobError> {
        if self.is_cancelled() {
            Err(JobError::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// How a job failed. The message is written for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    #[error("cancelled")]
    Cancelled,
    #[error("{0}")]
    Failed(String),
    #[error("the job stopped unexpectedly ({0}); this is a bug, please report it")]
    Panicked(String),
}

impl JobError {
    /// Wraps any error, keeping its whole chain of causes in the message.
    pub fn failed(err: impl fmt::Display) -> JobError {
        JobError::Failed(err.to_string())
    }
}

/// Where a job reports how far it got.
pub trait Progress: Send + Sync {
    /// `fraction` in 0..=1 (or `None` when unknown) and a short message.
    fn report(&self, fraction: Option<f32>, message: &str);
}

/// A [`Progress`] that options can own (clone, send to a thread): it forwards each report
/// through a channel to the borrowed progress of [`forward_progress`].
#[derive(Clone)]
pub struct ProgressSender(std::sync::mpsc::Sender<(Option<f32>, String)>);

impl std::fmt::Debug for ProgressSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressSender")
    }
}

impl Progress for ProgressSender {
    fn report(&self, fraction: Option<f32>, message: &str) {
        // The receiver lives as long as `forward_progress` runs; a report after it is lost.
        let _ = self.0.send((fraction, message.to_string()));
    }
}

/// Runs `work` with a [`ProgressSender`] whose reports reach `progress` (on a scoped thread
/// that ends when `work` has returned and dropped every clone of the sender).
pub fn forward_progress<T>(progress: &dyn Progress, work: impl FnOnce(ProgressSender) -> T) -> T {
    let (tx, rx) = std::sync::mpsc::channel::<(Option<f32>, String)>();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for (fraction, message) in rx {
                progress.report(fraction, &message);
            }
        });
        work(ProgressSender(tx))
    })
}

/// Discards progress (for tests and simple callers).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn report(&self, _fraction: Option<f32>, _message: &str) {}
}

/// A progress update as the app sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressUpdate {
    pub fraction: Option<f32>,
    pub message: String,
}

/// Sends progress at most every `interval` (first and final reports always go through), so a
/// tight loop can report freely without flooding the UI.
pub struct ThrottledProgress {
    sender: Mutex<Sender<(JobId, ProgressUpdate)>>,
    job: JobId,
    interval: Duration,
    last: Mutex<Option<Instant>>,
    wake: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl Progress for ThrottledProgress {
    fn report(&self, fraction: Option<f32>, message: &str) {
        let now = Instant::now();
        {
            let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
            let finished = fraction.is_some_and(|f| f >= 1.0);
            if let Some(t) = *last
                && now.duration_since(t) < self.interval
                && !finished
            {
                return;
            }
            *last = Some(now);
        }
        let update = ProgressUpdate {
            fraction: fraction.map(|f| f.clamp(0.0, 1.0)),
            message: message.to_string(),
        };
        let _ = self
            .sender
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send((self.job, update));
        if let Some(wake) = &self.wake {
            wake();
        }
    }
}

/// A job as the manager tracks it, for the jobs panel and progress bars.
#[derive(Debug, Clone)]
pub struct JobStatus {
    pub id: JobId,
    pub name: String,
    pub started: Instant,
    pub progress: Option<ProgressUpdate>,
    pub cancel: CancelToken,
}

/// A running job whose result is a `T`: the type is checked when the job is spawned, so
/// whoever holds the handle gets exactly what the job returns, with no downcasting.
#[derive(Debug)]
pub struct JobHandle<T> {
    id: JobId,
    name: String,
    started: Instant,
    cancel: CancelToken,
    result: Receiver<Result<T, JobError>>,
}

impl<T> JobHandle<T> {
    pub fn id(&self) -> JobId {
        self.id
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// How long the job has run.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Asks the job to stop; it ends with [`JobError::Cancelled`] at its next check.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// The job's result once it has ended, `None` while it runs. Never blocks. A result is
    /// handed out once.
    pub fn try_take(&self) -> Option<Result<T, JobError>> {
        match self.result.try_recv() {
            Ok(result) => Some(result),
            Err(std::sync::mpsc::TryRecvError::Empty) => None,
            Err(std::sync::mpsc::TryRecvError::Disconnected) => Some(Err(JobError::Panicked(
                "the job ended without a result".into(),
            ))),
        }
    }

    /// Blocks until the job ends (the CLI), passing its progress to `on_progress` as it
    /// changes.
    pub fn wait(
        self,
        jobs: &mut JobManager,
        mut on_progress: impl FnMut(&ProgressUpdate),
    ) -> Result<T, JobError> {
        let mut last: Option<ProgressUpdate> = None;
        loop {
            match self.result.recv_timeout(Duration::from_millis(50)) {
                Ok(result) => {
                    jobs.forget(self.id);
                    return result;
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    jobs.forget(self.id);
                    return Err(JobError::Panicked("the job ended without a result".into()));
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            }
            jobs.poll();
            let now = jobs.status(self.id).and_then(|s| s.progress.clone());
            if let Some(p) = now
                && last.as_ref() != Some(&p)
            {
                on_progress(&p);
                last = Some(p);
            }
        }
    }
}

/// Runs jobs on named threads and collects their progress. Each job's result goes to its own
/// [`JobHandle`].
pub struct JobManager {
    next_id: u64,
    running: Vec<JobStatus>,
    progress_tx: Sender<(JobId, ProgressUpdate)>,
    progress_rx: Receiver<(JobId, ProgressUpdate)>,
    ended_tx: Sender<JobId>,
    ended_rx: Receiver<JobId>,
    wake: Option<Arc<dyn Fn() + Send + Sync>>,
    progress_interval: Duration,
}

impl fmt::Debug for JobManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobManager")
            .field("running", &self.running)
            .finish_non_exhaustive()
    }
}

impl Default for JobManager {
    fn default() -> Self {
        Self::new()
    }
}

impl JobManager {
    pub fn new() -> JobManager {
        let (progress_tx, progress_rx) = channel();
        let (ended_tx, ended_rx) = channel();
        JobManager {
            next_id: 1,
            running: Vec::new(),
            progress_tx,
            progress_rx,
            ended_tx,
            ended_rx,
            wake: None,
            progress_interval: Duration::from_millis(100),
        }
    }

    /// Called from worker threads whenever there is news (the workbench requests a repaint).
    pub fn set_wake(&mut self, wake: Arc<dyn Fn() + Send + Sync>) {
        self.wake = Some(wake);
    }

    /// Starts `work` on a thread named after the job.
    pub fn spawn<T, F>(&mut self, name: &str, work: F) -> Result<JobHandle<T>, JobError>
    where
        T: Send + 'static,
        F: FnOnce(&CancelToken, &dyn Progress) -> Result<T, JobError> + Send + 'static,
    {
        let id = JobId(self.next_id);
        self.next_id += 1;
        let cancel = CancelToken::new();
        let progress = ThrottledProgress {
            sender: Mutex::new(self.progress_tx.clone()),
            job: id,
            interval: self.progress_interval,
            last: Mutex::new(None),
            wake: self.wake.clone(),
        };
        let (result_tx, result_rx) = channel();
        let ended = self.ended_tx.clone();
        let wake = self.wake.clone();
        let thread_cancel = cancel.clone();
        std::thread::Builder::new()
            .name(format!("job-{}-{name}", id.0))
            .spawn(move || {
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    work(&thread_cancel, &progress)
                }));
                let result = match outcome {
                    Ok(result) => result,
                    Err(panic) => Err(JobError::Panicked(panic_message(&panic))),
                };
                // The result first, so that a job seen as ended has its result waiting.
                let _ = result_tx.send(result);
                let _ = ended.send(id);
                if let Some(wake) = wake {
                    wake();
                }
            })
            .map_err(|e| JobError::Failed(format!("could not start a worker thread: {e}")))?;
        let started = Instant::now();
        self.running.push(JobStatus {
            id,
            name: name.to_string(),
            started,
            progress: None,
            cancel: cancel.clone(),
        });
        Ok(JobHandle {
            id,
            name: name.to_string(),
            started,
            cancel,
            result: result_rx,
        })
    }

    /// Jobs still running, oldest first, with their latest progress.
    pub fn running(&self) -> &[JobStatus] {
        &self.running
    }

    /// One running job's status.
    pub fn status(&self, id: JobId) -> Option<&JobStatus> {
        self.running.iter().find(|j| j.id == id)
    }

    /// Asks a job to stop; it ends with [`JobError::Cancelled`] at its next check.
    pub fn cancel(&self, id: JobId) {
        if let Some(job) = self.status(id) {
            job.cancel.cancel();
        }
    }

    /// Forgets a job whose result its handle has taken (its "ended" notice may come a moment
    /// later, and is then ignored).
    pub fn forget(&mut self, id: JobId) {
        self.poll();
        self.running.retain(|j| j.id != id);
    }

    /// Takes in progress updates and forgets jobs that ended; returns the ids of those. Never
    /// blocks. Results go to the jobs' handles.
    pub fn poll(&mut self) -> Vec<JobId> {
        while let Ok((id, update)) = self.progress_rx.try_recv() {
            if let Some(job) = self.running.iter_mut().find(|j| j.id == id) {
                job.progress = Some(update);
            }
        }
        let ended: Vec<JobId> = self.ended_rx.try_iter().collect();
        self.running.retain(|j| !ended.contains(&j.id));
        ended
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_returns_its_typed_result_and_runs_on_a_named_thread() {
        let mut jobs = JobManager::new();
        let id = jobs
            .spawn("sum", |_cancel, progress| {
                progress.report(Some(1.0), "done");
                Ok((
                    (1..=10).sum::<i32>(),
                    std::thread::current().name().map(str::to_string),
                ))
            })
            .unwrap();
        let (sum, name): (i32, Option<String>) = id.wait(&mut jobs, |_| {}).unwrap();
        assert_eq!(sum, 55);
        assert_eq!(name.as_deref(), Some("job-1-sum"));
        assert!(jobs.running().is_empty());
    }

    #[test]
    fn cancel_stops_a_looping_job() {
        let mut jobs = JobManager::new();
        let id = jobs
            .spawn("forever", |cancel, _progress| -> Result<(), JobError> {
                loop {
                    cancel.check()?;
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
            .unwrap();
        jobs.cancel(id.id());
        assert_eq!(id.wait(&mut jobs, |_| {}).unwrap_err(), JobError::Cancelled);
    }

    #[test]
    fn errors_and_panics_reach_the_caller() {
        let mut jobs = JobManager::new();
        let failing = jobs
            .spawn("fails", |_c, _p| -> Result<(), JobError> {
                Err(JobError::Failed("the file is gone".into()))
            })
            .unwrap();
        let panicking = jobs
            .spawn("panics", |_c, _p| -> Result<(), JobError> {
                panic!("boom")
            })
            .unwrap();
        let f = failing.wait(&mut jobs, |_| {});
        assert_eq!(f.unwrap_err().to_string(), "the file is gone");
        let p = panicking.wait(&mut jobs, |_| {});
        assert!(matches!(p.unwrap_err(), JobError::Panicked(m) if m == "boom"));
        assert!(jobs.running().is_empty());
    }

    #[test]
    fn progress_is_throttled_but_the_first_and_last_reports_arrive() {
        let (tx, rx) = channel();
        let progress = ThrottledProgress {
            sender: Mutex::new(tx),
            job: JobId(7),
            interval: Duration::from_secs(60),
            last: Mutex::new(None),
            wake: None,
        };
        for i in 0..=100_000u32 {
            progress.report(Some(i as f32 / 100_000.0), "counting");
        }
        let updates: Vec<_> = rx.try_iter().collect();
        assert_eq!(updates.len(), 2, "{updates:?}");
        assert_eq!(updates[0].1.fraction, Some(0.0));
        assert_eq!(updates[1].1.fraction, Some(1.0));
        assert!(updates.iter().all(|(id, _)| *id == JobId(7)));
    }
}
