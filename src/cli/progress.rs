//! Long work from the command line: every import, export, generation, layout and analysis runs
//! as a job, shown as one updating progress line on standard error when that is a terminal
//! (nothing when piped or redirected), and cancelled cleanly by ctrl-c: the job stops at its
//! next check and its transaction rolls back, so the case is left as it was. A second ctrl-c
//! ends the process at once (SQLite's journal still protects the case).

use crate::jobs::{CancelToken, JobError, JobManager, Progress};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

/// The cancel token of the job the command line is waiting for, for the ctrl-c handler.
static RUNNING: Mutex<Option<CancelToken>> = Mutex::new(None);

/// Installs the ctrl-c handler once per process.
fn install_ctrl_c() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let installed = ctrlc::set_handler(|| {
            let running = RUNNING.lock().ok().and_then(|r| r.clone());
            match running {
                Some(token) if !token.is_cancelled() => {
                    token.cancel();
                    eprintln!("\ncopkit: cancelling (ctrl-c again to stop at once)");
                }
                _ => std::process::exit(130),
            }
        });
        if let Err(e) = installed {
            tracing::warn!("ctrl-c will stop the program without cancelling cleanly: {e}");
        }
    });
}

/// Runs `work` as a job named `name` and waits for it, with a progress line on a terminal and
/// ctrl-c cancelling it.
pub(crate) fn run_job<T, F>(name: &str, work: F) -> Result<T, JobError>
where
    T: Send + 'static,
    F: FnOnce(&CancelToken, &dyn Progress) -> Result<T, JobError> + Send + 'static,
{
    install_ctrl_c();
    let mut jobs = JobManager::new();
    let handle = jobs.spawn(name, work)?;
    if let Ok(mut running) = RUNNING.lock()
        && let Some(status) = jobs.status(handle.id())
    {
        *running = Some(status.cancel.clone());
    }
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(1000);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{prefix} {bar:30} {percent:>3}%  {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_prefix(name.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let result = handle.wait(&mut jobs, |update| {
        if let Some(f) = update.fraction {
            bar.set_position((f * 1000.0) as u64);
        }
        bar.set_message(update.message.clone());
    });
    bar.finish_and_clear();
    if let Ok(mut running) = RUNNING.lock() {
        *running = None;
    }
    result
}
