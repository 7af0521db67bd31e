//! Synthetic cases with planted ground truth: an organised group hidden in a much larger
//! innocent population, written through the same store commands as a real import, so that
//! trainers get demo cases that expose nobody and every analysis component can be scored
//! against a known answer (see [`score`]).
//!
//! Determinism is a contract: the same scenario, size, seed and [`GENERATOR_VERSION`] give
//! byte-identical source files and identical case contents. Every random stream is a
//! ChaCha8 generator derived from the seed and a fixed stream number, nothing iterates a
//! hash map into the output, and no wall-clock time enters the data.

mod events;
mod population;
pub mod score;
mod sources;
mod truth;

pub use truth::{Member, Truth};

use crate::jobs::{CancelToken, JobError, NoProgress, Progress};
use crate::store::{Actor, Case, StoreError};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Bumped whenever a change alters generated data for a given seed.
pub const GENERATOR_VERSION: &str = "2";

/// The first day of every generated period (fixed, so no wall clock enters the data).
pub(crate) const PERIOD_START_MS: i64 = 1_704_067_200_000; // 2024-01-01T00:00:00Z
pub(crate) const DAY_MS: i64 = 86_400_000;

/// Why a case could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("could not write the source file; check the folder exists and is writable: {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid generator option: {0}")]
    Invalid(String),
    #[error("generation cancelled; the partly written case was left out")]
    Cancelled,
    #[error("could not prepare the partly generated case ({source}); check the folder exists and is writable: {}", .path.display())]
    Partial {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("another generation is writing this case now (its partial files are in {}); wait for it to finish or choose another path: {}", .partial.display(), .path.display())]
    InProgress { path: PathBuf, partial: PathBuf },
}

impl From<JobError> for GenerateError {
    fn from(err: JobError) -> Self {
        match err {
            JobError::Cancelled => GenerateError::Cancelled,
            other => GenerateError::Invalid(other.to_string()),
        }
    }
}

impl From<GenerateError> for JobError {
    fn from(err: GenerateError) -> Self {
        match err {
            GenerateError::Cancelled => JobError::Cancelled,
            other => JobError::Failed(other.to_string()),
        }
    }
}

/// The kind of crime the planted group commits; it shapes the money flows and incidents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    DrugTrafficking,
    Firearms,
    Fraud,
}

impl Scenario {
    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::DrugTrafficking => "drug-trafficking",
            Scenario::Firearms => "firearms",
            Scenario::Fraud => "fraud",
        }
    }

    pub fn parse(text: &str) -> Result<Scenario, GenerateError> {
        match text {
            "drug-trafficking" => Ok(Scenario::DrugTrafficking),
            "firearms" => Ok(Scenario::Firearms),
            "fraud" => Ok(Scenario::Fraud),
            other => Err(GenerateError::Invalid(format!(
                "'{other}' is not a scenario; use drug-trafficking, firearms or fraud"
            ))),
        }
    }
}

/// Size presets: people, days and the number of events aimed at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Size {
    Small,
    Medium,
    Large,
}

impl Size {
    pub fn parse(text: &str) -> Result<Size, GenerateError> {
        match text {
            "small" => Ok(Size::Small),
            "medium" => Ok(Size::Medium),
            "large" => Ok(Size::Large),
            other => Err(GenerateError::Invalid(format!(
                "'{other}' is not a size; use small, medium or large"
            ))),
        }
    }

    /// (people, days, events aimed at).
    fn preset(self) -> (u32, u32, u64) {
        match self {
            Size::Small => (150, 60, 5_000),
            Size::Medium => (5_000, 180, 500_000),
            Size::Large => (100_000, 365, 10_000_000),
        }
    }
}

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GenerateOptions {
    pub scenario: Scenario,
    pub seed: u64,
    pub size: Size,
    /// Overrides the preset's number of people (events scale with it).
    pub people: Option<u32>,
    /// Overrides the preset's number of days (events scale with it).
    pub days: Option<u32>,
    /// Also write the raw source files (CSV, FollowTheMoney JSON lines) here.
    pub sources_dir: Option<PathBuf>,
    /// Documents (witness statements, surveillance logs) mentioning the planted people,
    /// phones, vehicles and accounts, with each mention in the truth; none by default.
    pub documents: u32,
}

impl GenerateOptions {
    pub fn new(scenario: Scenario, seed: u64, size: Size) -> GenerateOptions {
        GenerateOptions {
            scenario,
            seed,
            size,
            people: None,
            days: None,
            sources_dir: None,
            documents: 0,
        }
    }
}

/// The options after presets are applied.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Resolved {
    pub scenario: Scenario,
    pub seed: u64,
    pub people: u32,
    pub days: u32,
    pub target_events: u64,
    pub documents: u32,
}

impl Resolved {
    fn from(opts: &GenerateOptions) -> Result<Resolved, GenerateError> {
        let (p0, d0, e0) = opts.size.preset();
        let people = opts.people.unwrap_or(p0);
        let days = opts.days.unwrap_or(d0);
        if !(60..=2_000_000).contains(&people) {
            return Err(GenerateError::Invalid(format!(
                "{people} people is out of range; use 60 to 2000000"
            )));
        }
        if !(21..=3650).contains(&days) {
            return Err(GenerateError::Invalid(format!(
                "{days} days is out of range; use 21 to 3650"
            )));
        }
        if opts.documents > 100_000 {
            return Err(GenerateError::Invalid(format!(
                "{} documents is out of range; use 0 to 100000",
                opts.documents
            )));
        }
        // Events per person-day stay those of the preset when people or days change.
        let rate = e0 as f64 / (f64::from(p0) * f64::from(d0));
        let target_events = (rate * f64::from(people) * f64::from(days)).round() as u64;
        Ok(Resolved {
            scenario: opts.scenario,
            seed: opts.seed,
            people,
            days,
            target_events,
            documents: opts.documents,
        })
    }

    /// The provenance every batch carries.
    pub fn provenance(&self) -> serde_json::Value {
        serde_json::json!({
            "generator": "copkit",
            "scenario": self.scenario.as_str(),
            "seed": self.seed,
            "version": GENERATOR_VERSION,
            "people": self.people,
            "days": self.days,
        })
    }
}

/// What a generation produced.
#[derive(Clone, Debug, Serialize)]
pub struct GenerateSummary {
    pub path: PathBuf,
    pub scenario: Scenario,
    pub seed: u64,
    pub people: u32,
    pub days: u32,
    pub entities: u64,
    pub links: u64,
    pub events: u64,
    /// Source files written (with `sources_dir`), in writing order.
    pub source_files: Vec<PathBuf>,
}

/// Generates a new case at `path` (which must not exist). Checks `cancel` in its loops.
///
/// The case is built in a partial folder beside `path` ([`partial_folder`]), ground truth
/// included, and linked into place only when complete, so `path` holds a whole case or
/// nothing: on cancel or error the partial folder is removed; after a kill it stays, clearly
/// named, and the next generation to the same path clears it (a lock file inside tells a
/// folder left by a dead process from one another process is still writing). Source files
/// (`sources_dir`) are written under temporary names too and renamed after the case is in
/// place (see `sources.rs`).
pub fn generate(
    path: &Path,
    opts: &GenerateOptions,
    actor: Actor,
    purpose: &str,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<GenerateSummary, GenerateError> {
    let resolved = Resolved::from(opts)?;
    if path.symlink_metadata().is_ok() {
        return Err(StoreError::AlreadyExists(path.to_path_buf()).into());
    }
    let staging = PartialCase::claim(path)?;
    if let Some(dir) = &opts.sources_dir {
        std::fs::create_dir_all(dir).map_err(|source| GenerateError::Io {
            path: dir.clone(),
            source,
        })?;
    }
    let title = format!(
        "Training case: {} (seed {})",
        resolved.scenario.as_str(),
        resolved.seed
    );
    // Removes the source files' temporary names if the generation does not finish.
    let source_files = sources::SourceFiles::new(opts.sources_dir.as_deref());
    let mut case = Case::create(&staging.case, &title, actor, purpose)?;
    let mut summary = events::write_case(
        &mut case,
        &resolved,
        opts.sources_dir.as_deref(),
        cancel,
        progress,
    )?;
    // Closed first: every transaction is committed and SQLite's journal is gone, so the file
    // linked into place is the whole case.
    drop(case);
    staging.finish()?;
    // The source files take their final names only now, after the case they describe.
    source_files.place_all(&summary.source_files)?;
    summary.path = path.to_path_buf();
    Ok(summary)
}

/// The folder a case is generated in before it is linked to `path`:
/// `.NAME.copkit-partial` beside it (same file system, so the link is atomic).
pub fn partial_folder(path: &Path) -> Result<PathBuf, GenerateError> {
    let name = path.file_name().ok_or_else(|| {
        GenerateError::Invalid(format!(
            "the output path names no file; give a new case file name: {}",
            path.display()
        ))
    })?;
    let mut partial = std::ffi::OsString::from(".");
    partial.push(name);
    partial.push(".copkit-partial");
    Ok(path.with_file_name(partial))
}

/// A case being generated: its partial folder, held by an exclusive lock on a file inside it
/// for as long as this value lives (the lock is released by the OS when a killed process
/// dies). Dropped before [`PartialCase::finish`], it removes the folder.
struct PartialCase {
    target: PathBuf,
    folder: PathBuf,
    case: PathBuf,
    /// Held, not read: the lock lives as long as the file is open.
    _lock: std::fs::File,
    done: bool,
}

impl PartialCase {
    const LOCK: &'static str = "generating.lock";

    /// Creates (or takes over from a dead process) the partial folder for `target`.
    fn claim(target: &Path) -> Result<PartialCase, GenerateError> {
        let folder = partial_folder(target)?;
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| GenerateError::Partial { path, source }
        };
        let fresh = match std::fs::create_dir(&folder) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
            Err(e) => return Err(io(&folder)(e)),
        };
        let lock_path = folder.join(Self::LOCK);
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(GenerateError::InProgress {
                    path: target.to_path_buf(),
                    partial: folder,
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(&lock_path)(e)),
        }
        if !fresh {
            // Left by a generation that was killed (nobody holds its lock): clear it.
            tracing::warn!(partial = %folder.display(), "removing a partly generated case left by an earlier run");
            for entry in std::fs::read_dir(&folder).map_err(io(&folder))? {
                let entry = entry.map_err(io(&folder))?;
                if entry.file_name() != Self::LOCK {
                    let p = entry.path();
                    let removed = if entry.file_type().is_ok_and(|t| t.is_dir()) {
                        std::fs::remove_dir_all(&p)
                    } else {
                        std::fs::remove_file(&p)
                    };
                    removed.map_err(io(&p))?;
                }
            }
        }
        let name = target.file_name().unwrap_or_default();
        Ok(PartialCase {
            target: target.to_path_buf(),
            case: folder.join(name),
            folder,
            _lock: lock,
            done: false,
        })
    }

    /// Links the finished case to its final name (a hard link fails if something appeared
    /// there meanwhile, so nothing is replaced), makes the name durable and removes the
    /// partial folder.
    fn finish(mut self) -> Result<(), GenerateError> {
        match std::fs::hard_link(&self.case, &self.target) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(StoreError::AlreadyExists(self.target.clone()).into());
            }
            Err(e) => {
                // A file system without hard links: a rename, after a check.
                if self.target.symlink_metadata().is_ok() {
                    return Err(StoreError::AlreadyExists(self.target.clone()).into());
                }
                std::fs::rename(&self.case, &self.target).map_err(|_| GenerateError::Partial {
                    path: self.target.clone(),
                    source: e,
                })?;
            }
        }
        self.done = true;
        if let Some(dir) = self.target.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        // The case is in place; what is left is the folder's copy of the link and the lock.
        let _ = std::fs::remove_dir_all(&self.folder);
        Ok(())
    }
}

impl Drop for PartialCase {
    fn drop(&mut self) {
        if !self.done {
            // Incomplete: removed rather than left as a training case that lacks its truth.
            let _ = std::fs::remove_dir_all(&self.folder);
        }
    }
}

/// The bundled demo case: the small drug-trafficking scenario with a fixed seed, generated at
/// first start of the workbench.
pub fn demo_case(path: &Path) -> Result<GenerateSummary, GenerateError> {
    let actor = Actor {
        os_user: "copkit".into(),
        analyst: "demo".into(),
    };
    generate(
        path,
        &GenerateOptions::new(Scenario::DrugTrafficking, 1, Size::Small),
        actor,
        "demo case for training",
        &CancelToken::new(),
        &NoProgress,
    )
}

/// The planted truth of a generated case, or `None` for a case without one.
pub fn read_truth(case: &Case) -> Result<Option<Truth>, GenerateError> {
    match case.ground_truth(truth::TRUTH_KEY)? {
        Some(value) => serde_json::from_value(value)
            .map(Some)
            .map_err(|e| GenerateError::Store(StoreError::from(e))),
        None => Ok(None),
    }
}
