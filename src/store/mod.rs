//! The case file: one SQLite file per case (`.copkit`), opened only after its header proves it
//! is a case this program can read; every change a [`Command`] applied as one transaction with
//! its audit record; undo and redo from stored changesets; immutable snapshots for readers.

mod audit;
mod bulk;
mod changeset;
mod command;
mod error;
mod file_check;
mod meta;
mod schema;
mod snapshot;
mod undo;

pub use audit::{Actor, AuditCategory, AuditRecord, ChainCheck, GENESIS_HASH, verify_records};
pub use command::{BatchWriter, Command, NewBatch};
pub use error::StoreError;
pub use file_check::{HeaderFacts, check_case_file, sniff};
pub use schema::{APPLICATION_ID, SCHEMA_VERSION, UNDOABLE_TABLES};
pub use snapshot::{CaseSnapshot, SnapshotHeader};
pub use undo::ChangeDigest;

use crate::model::{BatchId, EntityTypeDef, GradingScheme, ItemRef, Schema};
use chrono::{SecondsFormat, Utc};
use command::{BatchWriter as Writer, ExecContext};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The file extension of case files.
pub const CASE_EXTENSION: &str = "copkit";

/// What applying a command, an undo or a redo did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The audit record written with the change.
    pub audit_seq: i64,
    /// The case generation after the change.
    pub generation: u64,
    /// Items created (empty for import batches).
    pub created: Vec<ItemRef>,
    pub batch: Option<BatchId>,
}

/// One import batch as `copkit info` lists it.
#[derive(Clone, Debug, Serialize)]
pub struct BatchInfo {
    pub id: i64,
    pub kind: String,
    pub description: String,
    pub source_path: Option<String>,
    pub source_sha256: Option<String>,
    pub created_utc: String,
    pub actor: String,
    pub counts: Option<serde_json::Value>,
}

/// A summary of a case, for `copkit info` and the workbench's case panel.
#[derive(Clone, Debug, Serialize)]
pub struct CaseInfo {
    pub path: PathBuf,
    pub case_id: String,
    pub title: String,
    pub created_utc: String,
    pub schema_version: u32,
    pub file_bytes: u64,
    pub generation: u64,
    pub training: bool,
    pub entities_by_type: Vec<(String, i64)>,
    pub links_by_type: Vec<(String, i64)>,
    pub events_by_type: Vec<(String, i64)>,
    pub batches: Vec<BatchInfo>,
    pub grading_schemes: Vec<(String, String)>,
    pub default_scheme: String,
    pub audit_head: String,
    pub audit_records: i64,
    pub undo_steps: i64,
}

/// One stored analysis run, its parameters and output kept as the JSON the analysis layer
/// wrote (`analysis::stored_runs` reads them back as its own types), so that the store needs
/// nothing of `analysis`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StoredAnalysisRun {
    pub id: i64,
    pub component: String,
    pub params: serde_json::Value,
    pub created_utc: String,
    /// The case generation the run analysed.
    pub generation: u64,
    pub output: serde_json::Value,
}

/// An open case.
pub struct Case {
    path: PathBuf,
    conn: Connection,
    actor: Actor,
    purpose: String,
    schema: Schema,
    schemes: Vec<GradingScheme>,
    generation: u64,
    snapshot: Option<Arc<CaseSnapshot>>,
    /// The SQL of the undo triggers, built from the tables' columns when the case opens.
    capture: undo::CaptureSql,
}

/// Whether a transaction's changes are captured for undo (commands) or not (batches, which
/// undo by moving their rows, and undo/redo steps themselves).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Capture {
    Changes,
    Nothing,
}

/// What happens to the undo history in a transaction.
#[derive(Debug)]
enum UndoEntry {
    /// A new step (ending the redo branch): a command's captured changes, or a batch.
    NewStep {
        label: String,
        batch: Option<BatchId>,
    },
    /// An existing step was undone (`undone`) or redone.
    Stepped { id: i64, undone: bool },
}

/// What a transaction's body did, for the envelope to record.
#[derive(Debug)]
struct Done<T> {
    value: T,
    category: AuditCategory,
    action: String,
    details: serde_json::Value,
    undo: UndoEntry,
    created: Vec<ItemRef>,
    batch: Option<BatchId>,
    /// The change touched entity types or grading schemes: read them again.
    reload: bool,
}

/// One row of the undo history.
#[derive(Debug)]
struct StoredStep {
    id: i64,
    audit_seq: i64,
    label: String,
    batch: Option<BatchId>,
}

/// The step undo (`true`) or redo would take next on this connection.
fn next_step(conn: &Connection, undo: bool) -> Result<Option<StoredStep>, StoreError> {
    let sql = if undo {
        "SELECT id, audit_seq, label, batch FROM undo_log WHERE undone = 0 ORDER BY id DESC LIMIT 1"
    } else {
        "SELECT id, audit_seq, label, batch FROM undo_log WHERE undone = 1 ORDER BY id ASC LIMIT 1"
    };
    Ok(conn
        .query_row(sql, [], |r| {
            Ok(StoredStep {
                id: r.get(0)?,
                audit_seq: r.get(1)?,
                label: r.get(2)?,
                batch: r.get::<_, Option<i64>>(3)?.map(BatchId),
            })
        })
        .optional()?)
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("path", &self.path)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

fn require_purpose(purpose: &str) -> Result<(), StoreError> {
    if purpose.trim().is_empty() {
        Err(StoreError::Invalid(
            "a purpose is required (a case reference or justification); it is recorded in the audit log".into(),
        ))
    } else {
        Ok(())
    }
}

fn now_utc() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `case_meta` key of the chart the workbench saved ([`Case::save_chart`]).
const CHART_KEY: &str = "chart";

/// `case_meta` key listing the indexes [`Case::defer_indexes`] dropped (JSON [name, SQL] pairs).
const DEFERRED_INDEXES_KEY: &str = "deferred_indexes";

/// SQLite page cache while a streamed batch is written, in KiB (SQLite allocates it only as
/// pages are used, so a small batch uses little).
const BATCH_CACHE_KIB: i64 = 256 * 1024;

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // FULL: a commit is on disk before it returns, so a crash or power cut never loses a
    // change that was reported done.
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}

/// Runs `PRAGMA quick_check`, turning any failure into a `Corrupt` error for `path`.
fn quick_check(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let corrupt = |details: String| StoreError::Corrupt {
        path: path.to_path_buf(),
        details,
        backup_hint: backup_hint(path),
    };
    let result: Result<Vec<String>, rusqlite::Error> = conn
        .prepare("PRAGMA quick_check")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect());
    match result {
        Ok(lines) if lines.len() == 1 && lines[0] == "ok" => Ok(()),
        Ok(lines) => Err(corrupt(
            lines.into_iter().take(3).collect::<Vec<_>>().join("; "),
        )),
        Err(e) => Err(corrupt(e.to_string())),
    }
}

/// Whether a file starts with SQLite's magic string (read-only peek).
fn looks_like_sqlite(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| &magic == b"SQLite format 3\0")
}

/// Names the newest backup beside a case that passes the checks, for error messages.
fn backup_hint(path: &Path) -> String {
    match newest_sound_backup(path) {
        Some(b) => format!(" (newest sound backup: {})", b.display()),
        None => String::new(),
    }
}

/// The newest backup beside a case whose header is a case's and that passes `quick_check`.
pub fn newest_sound_backup(path: &Path) -> Option<PathBuf> {
    find_backups(path).into_iter().find(|backup| {
        check_case_file(backup).is_ok()
            && Connection::open_with_flags(backup, OpenFlags::SQLITE_OPEN_READ_ONLY)
                .is_ok_and(|conn| quick_check(&conn, backup).is_ok())
    })
}

/// Backups written next to a case by migrations and by `Case::backup_to`, newest first.
pub fn find_backups(path: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return Vec::new();
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!("{name}.backup-");
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(&prefix))
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    found.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
    found.into_iter().map(|(_, p)| p).collect()
}

impl Case {
    /// Creates a new, empty case. The file appears complete or not at all: it is built under a
    /// temporary name in the same folder and linked into place only when committed, and an
    /// existing file is never overwritten.
    pub fn create(
        path: &Path,
        title: &str,
        actor: Actor,
        purpose: &str,
    ) -> Result<Case, StoreError> {
        require_purpose(purpose)?;
        if path.exists() {
            return Err(StoreError::AlreadyExists(path.to_path_buf()));
        }
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| StoreError::Invalid(format!("not a file path: {}", path.display())))?;
        let temp = path.with_file_name(format!(".{file_name}.creating-{}", std::process::id()));
        let _ = std::fs::remove_file(&temp);
        let built = Self::build_new(&temp, title, &actor, purpose);
        if let Err(e) = built {
            let _ = std::fs::remove_file(&temp);
            return Err(e);
        }
        // A hard link fails if the target exists, so a file that appeared meanwhile is safe.
        let linked = std::fs::hard_link(&temp, path);
        let _ = std::fs::remove_file(&temp);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(StoreError::AlreadyExists(path.to_path_buf()));
            }
            Err(e) => return Err(StoreError::io(path, e)),
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Make the new directory entry durable too.
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Self::open_inner(path, actor, purpose, false)
    }

    fn build_new(temp: &Path, title: &str, actor: &Actor, purpose: &str) -> Result<(), StoreError> {
        let mut conn = Connection::open(temp)?;
        configure(&conn)?;
        conn.pragma_update(None, "application_id", APPLICATION_ID)?;
        let tx = conn.transaction()?;
        schema::migrate(&tx, 0, SCHEMA_VERSION)?;
        let case_id = uuid::Uuid::new_v4().to_string();
        for (key, value) in [
            ("case_id", case_id.as_str()),
            ("title", title),
            ("created_utc", &now_utc()),
            (
                "created_with",
                concat!("copkit ", env!("CARGO_PKG_VERSION")),
            ),
            ("generation", "0"),
            ("default_scheme", "admiralty"),
            ("training", "false"),
        ] {
            meta::set(&tx, key, value)?;
        }
        for scheme in GradingScheme::builtin() {
            tx.execute(
                "INSERT INTO grading_schemes (key, definition) VALUES (?1, ?2)",
                params![scheme.key, serde_json::to_string(&scheme)?],
            )?;
        }
        audit::append(
            &tx,
            actor,
            purpose,
            AuditCategory::Collection,
            "create case",
            &json!({"case_id": case_id, "title": title, "schema_version": SCHEMA_VERSION}),
        )?;
        tx.commit()?;
        conn.close().map_err(|(_, e)| e)?;
        Ok(())
    }

    /// Opens a case and records the opening, with its purpose, as a consultation.
    pub fn open(path: &Path, actor: Actor, purpose: &str) -> Result<Case, StoreError> {
        require_purpose(purpose)?;
        Self::open_inner(path, actor, purpose, true)
    }

    /// Opens a case without writing anything to it yet (used by `audit verify`, which checks
    /// the chain before it records its own consultation). Call
    /// [`Case::record_consultation`] once the check is done.
    pub fn open_unrecorded(path: &Path, actor: Actor, purpose: &str) -> Result<Case, StoreError> {
        require_purpose(purpose)?;
        Self::open_inner(path, actor, purpose, false)
    }

    fn open_inner(
        path: &Path,
        actor: Actor,
        purpose: &str,
        record: bool,
    ) -> Result<Case, StoreError> {
        let mut journal = path.as_os_str().to_owned();
        journal.push("-journal");
        let hot_journal = std::fs::metadata(&journal).is_ok_and(|m| m.len() > 0);
        if hot_journal && looks_like_sqlite(path) {
            // A writer was interrupted mid-commit: until SQLite rolls the journal back, the
            // main file may be half-written (even its header), so recover before judging it.
            // Rolling back restores the last committed state; it is SQLite's crash recovery.
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            let recovered: rusqlite::Result<i64> =
                conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0));
            if let Err(e) = recovered {
                return Err(StoreError::Corrupt {
                    path: path.to_path_buf(),
                    details: format!("recovery after an interrupted write failed: {e}"),
                    backup_hint: backup_hint(path),
                });
            }
        }
        let facts = check_case_file(path)?;
        if !hot_journal {
            // Check on a read-only connection first, so that a damaged file is never written.
            let ro = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(|e| StoreError::Corrupt {
                path: path.to_path_buf(),
                details: e.to_string(),
                backup_hint: backup_hint(path),
            })?;
            quick_check(&ro, path)?;
        }
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&conn)?;
        if hot_journal {
            // SQLite rolled back the interrupted transaction when it first read the file
            // (that is its crash recovery); check what is left.
            quick_check(&conn, path)?;
        }
        if facts.schema_version < SCHEMA_VERSION {
            Self::migrate_with_backup(&mut conn, path, facts.schema_version, &actor, purpose)?;
        }
        let capture = undo::CaptureSql::new(&conn)?;
        let mut case = Case {
            path: path.to_path_buf(),
            conn,
            actor,
            purpose: purpose.to_string(),
            schema: Schema::default(),
            schemes: Vec::new(),
            generation: 0,
            snapshot: None,
            capture,
        };
        case.reload_configuration()?;
        if record && case.deferred_indexes()?.is_some() {
            // A run of batches with its indexes dropped (`defer_indexes`) did not finish. Not
            // when opened unrecorded (`audit verify` reads the case before writing anything);
            // reads work without the indexes, only slower.
            tracing::warn!(path = %path.display(), "the case's indexes were dropped by a write that did not finish; building them again");
            case.restore_indexes()?;
        }
        if record {
            case.record_consultation("open case", json!({}))?;
        }
        Ok(case)
    }

    fn migrate_with_backup(
        conn: &mut Connection,
        path: &Path,
        from: u32,
        actor: &Actor,
        purpose: &str,
    ) -> Result<(), StoreError> {
        let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("case");
        let backup = path.with_file_name(format!("{name}.backup-v{from}-{stamp}"));
        conn.execute("VACUUM INTO ?1", [backup.to_string_lossy()])?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        schema::migrate(&tx, from, SCHEMA_VERSION)?;
        audit::append(
            &tx,
            actor,
            purpose,
            AuditCategory::Alteration,
            "upgrade case format",
            &json!({"from": from, "to": SCHEMA_VERSION, "backup": backup}),
        )?;
        tx.commit()?;
        tracing::info!(from, to = SCHEMA_VERSION, backup = %backup.display(), "case format upgraded");
        Ok(())
    }

    /// Re-reads what another connection to the same file may have changed (an import job
    /// writes through its own connection): entity types, grading schemes and the generation.
    pub fn reload(&mut self) -> Result<(), StoreError> {
        self.reload_configuration()
    }

    fn reload_configuration(&mut self) -> Result<(), StoreError> {
        let mut schema = Schema::default();
        {
            let mut stmt = self
                .conn
                .prepare("SELECT definition FROM entity_types ORDER BY rowid")?;
            let defs = stmt.query_map([], |r| r.get::<_, String>(0))?;
            for def in defs {
                let def: EntityTypeDef = serde_json::from_str(&def?)?;
                schema.add_user_type(def)?;
            }
        }
        let mut schemes = Vec::new();
        {
            let mut stmt = self
                .conn
                .prepare("SELECT definition FROM grading_schemes ORDER BY rowid")?;
            let defs = stmt.query_map([], |r| r.get::<_, String>(0))?;
            for def in defs {
                schemes.push(serde_json::from_str::<GradingScheme>(&def?)?);
            }
        }
        self.schema = schema;
        self.schemes = schemes;
        self.generation = meta::get(&self.conn, "generation")?
            .and_then(|g| g.parse().ok())
            .unwrap_or(0);
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn purpose(&self) -> &str {
        &self.purpose
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    pub fn grading_schemes(&self) -> &[GradingScheme] {
        &self.schemes
    }

    /// A fact from the case header.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(meta::get(&self.conn, key)?)
    }

    /// The chart the workbench saved with the case (opaque text; the workbench defines it).
    pub fn chart(&self) -> Result<Option<String>, StoreError> {
        self.meta(CHART_KEY)
    }

    /// Saves the analyst's chart with the case, in one transaction. The chart (where each
    /// entity is drawn, what is hidden, pinned or collected) is a view of the evidence, not
    /// evidence: saving it is neither audited nor undoable and leaves the generation alone,
    /// as moving nodes on an i2 chart or a Gephi workspace is not an analysis step.
    pub fn save_chart(&mut self, chart: &str) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        meta::set(&tx, CHART_KEY, chart)?;
        tx.commit()?;
        Ok(())
    }

    /// Whether the case was made by the generator (the workbench shows a training banner).
    pub fn is_training(&self) -> bool {
        matches!(self.meta("training"), Ok(Some(v)) if v == "true")
    }

    /// Drops the secondary indexes of the evidence tables for a run of large batches into a
    /// new case (the generator's), so that each batch appends rows and
    /// [`Case::restore_indexes`] builds every index once, by sorting, at the end. Without
    /// this, a batch that follows a larger one keeps indexes of millions of rows up to date
    /// row by row (BENCHMARKS.md: most of a large generation). The identifier index stays:
    /// writers look entities up by it.
    ///
    /// The dropped indexes are listed in the case header in the same transaction, and
    /// opening a case whose restore never ran (a crash) builds them then ([`Case::open`], not
    /// [`Case::open_unrecorded`]). Reads stay correct meanwhile, only slower. Not audited: no
    /// evidence changes.
    pub fn defer_indexes(&mut self) -> Result<(), StoreError> {
        if self.deferred_indexes()?.is_some() {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let indexes = bulk::drop_evidence_indexes(&tx, bulk::KEEP_IDENTIFIER_INDEX)?;
        meta::set(
            &tx,
            DEFERRED_INDEXES_KEY,
            &serde_json::to_string(&indexes).map_err(StoreError::from)?,
        )?;
        tx.commit()?;
        tracing::debug!(
            indexes = indexes.len(),
            "case indexes dropped until restored"
        );
        Ok(())
    }

    /// Builds the indexes [`Case::defer_indexes`] dropped, in one transaction; nothing to do
    /// when none are dropped.
    pub fn restore_indexes(&mut self) -> Result<(), StoreError> {
        let Some(indexes) = self.deferred_indexes()? else {
            return Ok(());
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        bulk::create_indexes(&tx, &indexes)?;
        tx.execute(
            "DELETE FROM case_meta WHERE key = ?1",
            [DEFERRED_INDEXES_KEY],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The indexes dropped by [`Case::defer_indexes`] and not yet restored: (name, SQL).
    fn deferred_indexes(&self) -> Result<Option<Vec<(String, String)>>, StoreError> {
        match meta::get(&self.conn, DEFERRED_INDEXES_KEY)? {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| StoreError::Invalid(format!(
                    "the case header lists dropped indexes that cannot be read ({e}); the case needs repair"
                ))),
        }
    }

    /// Marks the case as a training case made by the generator (the workbench shows a
    /// training banner and analysis may relax purpose prompts). Audited as an alteration.
    #[allow(
        clippy::needless_pass_by_value,
        reason = "audit details are built for the call (json!) and handed over"
    )]
    pub fn mark_training(&mut self, details: serde_json::Value) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        meta::set(&tx, "training", "true")?;
        audit::append(
            &tx,
            &self.actor,
            &self.purpose,
            AuditCategory::Alteration,
            "mark training case",
            &details,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Stores one piece of ground truth (JSON) under `key`, apart from the evidence: analysis
    /// never reads this table, only scoring and `copkit truth` do. The write and its audit
    /// record commit together.
    pub fn set_ground_truth(
        &mut self,
        key: &str,
        value: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let text = serde_json::to_string(value)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO ground_truth (key, value) VALUES (?1, ?2) \
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, text],
        )?;
        audit::append(
            &tx,
            &self.actor,
            &self.purpose,
            AuditCategory::Collection,
            "record ground truth",
            &json!({"key": key, "bytes": text.len()}),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// One piece of ground truth, if the case has it.
    pub fn ground_truth(&self, key: &str) -> Result<Option<serde_json::Value>, StoreError> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM ground_truth WHERE key = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()?;
        Ok(match text {
            Some(t) => Some(serde_json::from_str(&t)?),
            None => None,
        })
    }

    /// The keys of all stored ground truth, sorted.
    pub fn ground_truth_keys(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT key FROM ground_truth ORDER BY key")?;
        let keys = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(keys)
    }

    /// Writes an audit record that changes no evidence: a consultation (a search, an analysis
    /// run) or a disclosure (an export).
    #[allow(
        clippy::needless_pass_by_value,
        reason = "audit details are built for the call (json!) and handed over"
    )]
    pub fn record(
        &mut self,
        category: AuditCategory,
        action: &str,
        details: serde_json::Value,
    ) -> Result<AuditRecord, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let record = audit::append(&tx, &self.actor, &self.purpose, category, action, &details)?;
        tx.commit()?;
        Ok(record)
    }

    /// Records a consultation (opening, searching, analysing).
    pub fn record_consultation(
        &mut self,
        action: &str,
        details: serde_json::Value,
    ) -> Result<AuditRecord, StoreError> {
        self.record(AuditCategory::Consultation, action, details)
    }

    /// Stores the result of an analysis run (component, parameters, output, at the current
    /// generation) together with its audit record (a consultation naming the component and
    /// its parameters), in one transaction. Returns the run's id.
    pub fn store_analysis_run(
        &mut self,
        component: &str,
        params: &serde_json::Value,
        output: &impl Serialize,
    ) -> Result<i64, StoreError> {
        let params_json = serde_json::to_string(params)?;
        let output_json = serde_json::to_string(output)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO analysis_runs (component, params, created_utc, generation, output) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                component,
                params_json,
                now_utc(),
                self.generation as i64,
                output_json
            ],
        )?;
        let id = tx.last_insert_rowid();
        audit::append(
            &tx,
            &self.actor,
            &self.purpose,
            AuditCategory::Consultation,
            "analysis run",
            &json!({"run_id": id, "component": component, "params": params, "generation": self.generation}),
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Every stored analysis run, oldest first.
    pub fn analysis_runs(&self) -> Result<Vec<StoredAnalysisRun>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, component, params, created_utc, generation, output FROM analysis_runs \
             ORDER BY id",
        )?;
        let mut rows = stmt.query([])?;
        let mut runs = Vec::new();
        while let Some(r) = rows.next()? {
            let params: String = r.get(2)?;
            let output: String = r.get(5)?;
            runs.push(StoredAnalysisRun {
                id: r.get(0)?,
                component: r.get(1)?,
                params: serde_json::from_str(&params)?,
                created_utc: r.get(3)?,
                generation: r.get::<_, i64>(4)? as u64,
                output: serde_json::from_str(&output)?,
            });
        }
        Ok(runs)
    }

    /// Applies one command: its changes, its audit record and its undo step commit together
    /// or not at all.
    #[allow(
        clippy::needless_pass_by_value,
        reason = "a command is handed to the case, as a message is sent"
    )]
    pub fn apply(&mut self, command: Command) -> Result<Applied, StoreError> {
        let reload = command.changes_configuration();
        let (applied, ()) =
            self.transact(Capture::Changes, |tx, ctx| -> Result<_, StoreError> {
                let outcome = command::execute(tx, &ctx, &command)?;
                let mut details = command.audit_details();
                if let Some(obj) = details.as_object_mut() {
                    if let Some(extra) = outcome.audit_extra {
                        obj.insert("result".into(), extra);
                    }
                    if !outcome.created.is_empty() {
                        obj.insert("created".into(), serde_json::to_value(&outcome.created)?);
                    }
                }
                Ok(Done {
                    value: (),
                    category: command.category(),
                    action: command.action().to_string(),
                    details,
                    undo: UndoEntry::NewStep {
                        label: command.action().to_string(),
                        batch: None,
                    },
                    created: outcome.created,
                    batch: outcome.batch,
                    reload,
                })
            })?;
        Ok(applied)
    }

    /// The transaction envelope every change goes through, commands, import batches and
    /// undo/redo steps alike: one `BEGIN IMMEDIATE` transaction holding the change, its
    /// hash-chained audit record, its undo step and the new generation, committed together
    /// or not at all. With [`Capture::Changes`] the undo triggers record what `body` changes
    /// (see `undo.rs`), and the audit record gets their digest.
    fn transact<T, E>(
        &mut self,
        capture: Capture,
        body: impl FnOnce(&Connection, ExecContext<'_>) -> Result<Done<T>, E>,
    ) -> Result<(Applied, T), E>
    where
        E: From<StoreError>,
    {
        let actor_label = format!("{} ({})", self.actor.analyst, self.actor.os_user);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let capturing = capture == Capture::Changes;
        if capturing {
            self.capture.start(&tx)?;
        }
        let ctx = ExecContext {
            schema: &self.schema,
            schemes: &self.schemes,
            actor_label: &actor_label,
            purpose: &self.purpose,
        };
        let mut done = body(&tx, ctx)?;
        let mut finish = || -> Result<(i64, u64), StoreError> {
            if capturing {
                let digest = undo::captured_digest(&tx)?;
                if let Some(obj) = done.details.as_object_mut() {
                    obj.insert("changes".into(), digest.to_json());
                }
            }
            let record = audit::append(
                &tx,
                &self.actor,
                &self.purpose,
                done.category,
                &done.action,
                &done.details,
            )?;
            match &done.undo {
                UndoEntry::NewStep { label, batch } => {
                    undo::drop_redo_branch(&tx)?;
                    tx.execute(
                        "INSERT INTO undo_log (audit_seq, label, batch) VALUES (?1, ?2, ?3)",
                        params![record.seq, label, batch.map(|b| b.0)],
                    )?;
                    if capturing {
                        undo::store_captured(&tx, tx.last_insert_rowid())?;
                    }
                }
                UndoEntry::Stepped { id, undone } => {
                    tx.execute(
                        "UPDATE undo_log SET undone = ?1 WHERE id = ?2",
                        params![undone, id],
                    )?;
                }
            }
            if capturing {
                self.capture.stop(&tx)?;
            }
            let generation = Self::bump_generation(&tx, self.generation)?;
            Ok((record.seq, generation))
        };
        let (audit_seq, generation) = finish()?;
        tx.commit().map_err(StoreError::from)?;
        self.generation = generation;
        self.snapshot = None;
        if done.reload {
            self.reload_configuration()?;
        }
        Ok((
            Applied {
                audit_seq,
                generation,
                created: done.created,
                batch: done.batch,
            },
            done.value,
        ))
    }

    fn bump_generation(tx: &Connection, current: u64) -> Result<u64, StoreError> {
        // Another connection (an import or export job of the workbench) may have moved the
        // generation on since this handle read it; the transaction sees the latest value.
        let stored = meta::get(tx, "generation")?
            .and_then(|g| g.parse::<u64>().ok())
            .unwrap_or(0);
        let generation = current.max(stored) + 1;
        meta::set(tx, "generation", &generation.to_string())?;
        Ok(generation)
    }

    /// Imports one batch by streaming rows into it: `fill` gets a [`BatchWriter`] and writes
    /// entities, links and events as it reads its source, so memory stays bounded however big
    /// the source is. The whole batch, its audit record and its undo step commit together, or
    /// nothing does (if `fill` returns an error, the case is left exactly as it was). This is
    /// the one way batches are written: imports, the generator and test fixtures.
    ///
    /// Undo moves the batch's rows aside (into the shadow tables) and redo moves them back,
    /// so nothing is recorded row by row while the batch is written.
    #[allow(
        clippy::needless_pass_by_value,
        reason = "the batch's description is handed to the case with its rows"
    )]
    pub fn import_streamed<T, E, F>(&mut self, batch: NewBatch, fill: F) -> Result<(Applied, T), E>
    where
        E: From<StoreError>,
        F: FnOnce(&mut BatchWriter<'_>) -> Result<T, E>,
    {
        // The batch is one transaction. With SQLite's default 2 MiB page cache its dirty pages
        // spill into the file mid-transaction (a journal sync each time) and are read back for
        // the next insert: a third of the generator's CPU time (BENCHMARKS.md). A larger cache
        // for the batch, given back afterwards.
        let previous: i64 = self
            .conn
            .pragma_query_value(None, "cache_size", |r| r.get(0))
            .map_err(StoreError::from)?;
        self.conn
            .pragma_update(None, "cache_size", -BATCH_CACHE_KIB)
            .map_err(StoreError::from)?;
        let result = self.transact(Capture::Nothing, |tx, ctx| -> Result<Done<T>, E> {
            let id = command::insert_batch_row(tx, &ctx, &batch, &json!({}))?;
            let (value, counts) = {
                let mut writer = Writer::new(tx, ctx, id)?;
                let value = fill(&mut writer)?;
                let counts = json!({
                    "entities": writer.entities,
                    "links": writer.links,
                    "events": writer.events,
                    "attributes": writer.attributes,
                });
                writer.finish()?;
                (value, counts)
            };
            tx.execute(
                "UPDATE batches SET counts = ?1 WHERE id = ?2",
                params![counts.to_string(), id.0],
            )
            .map_err(StoreError::from)?;
            Ok(Done {
                value,
                category: AuditCategory::Collection,
                action: "import batch".into(),
                details: json!({
                    "command": "import_batch",
                    "batch_id": id.0,
                    "batch": {
                        "kind": batch.kind,
                        "description": batch.description,
                        "source_path": batch.source_path,
                        "source_sha256": batch.source_sha256,
                        "source_bytes": batch.source_bytes,
                        "grading": batch.grading,
                    },
                    "counts": counts,
                }),
                undo: UndoEntry::NewStep {
                    label: "import batch".into(),
                    batch: Some(id),
                },
                created: Vec::new(),
                batch: Some(id),
                reload: false,
            })
        });
        let restored = self.conn.pragma_update(None, "cache_size", previous);
        let value = result?;
        restored.map_err(StoreError::from)?;
        Ok(value)
    }

    /// The label of the step that undo would reverse.
    pub fn undo_label(&self) -> Result<Option<String>, StoreError> {
        Ok(self.next_step(true)?.map(|s| s.label))
    }

    /// The label of the step that redo would repeat.
    pub fn redo_label(&self) -> Result<Option<String>, StoreError> {
        Ok(self.next_step(false)?.map(|s| s.label))
    }

    /// The step undo (`true`) or redo would take next.
    fn next_step(&self, undo: bool) -> Result<Option<StoredStep>, StoreError> {
        next_step(&self.conn, undo)
    }

    /// Reverses the newest change not yet undone. Returns `None` when there is nothing to undo.
    pub fn undo(&mut self) -> Result<Option<Applied>, StoreError> {
        self.step(true)
    }

    /// Repeats the oldest undone change. Returns `None` when there is nothing to redo.
    pub fn redo(&mut self) -> Result<Option<Applied>, StoreError> {
        self.step(false)
    }

    fn step(&mut self, undo: bool) -> Result<Option<Applied>, StoreError> {
        let Some(expected) = self.next_step(undo)? else {
            return Ok(None);
        };
        let (applied, ()) = self.transact(Capture::Nothing, |tx, _ctx| {
            // Read again inside the transaction: another connection may have moved on.
            let step = next_step(tx, undo)?
                .filter(|s| s.id == expected.id)
                .ok_or_else(|| {
                    StoreError::UndoConflict(
                        "another program changed the case meanwhile; try again".into(),
                    )
                })?;
            match (step.batch, undo) {
                (Some(batch), true) => undo::undo_batch(tx, step.id, batch)?,
                (Some(_), false) => undo::redo_batch(tx, step.id)?,
                (None, _) => undo::replay_command(tx, step.id, undo)?,
            }
            let action = if undo { "undo" } else { "redo" };
            Ok::<_, StoreError>(Done {
                value: (),
                category: AuditCategory::Alteration,
                action: action.into(),
                details: json!({"command": action, "step": step.label, "of_audit_record": step.audit_seq}),
                undo: UndoEntry::Stepped {
                    id: step.id,
                    undone: undo,
                },
                created: Vec::new(),
                batch: None,
                // An undone scheme or entity type leaves the case's configuration.
                reload: true,
            })
        })?;
        Ok(Some(applied))
    }

    /// An immutable snapshot of the whole case at the current generation (cached until the
    /// next change).
    pub fn snapshot(&mut self) -> Result<Arc<CaseSnapshot>, StoreError> {
        if let Some(s) = &self.snapshot
            && s.generation == self.generation
        {
            return Ok(Arc::clone(s));
        }
        let header = SnapshotHeader {
            case_id: self.meta("case_id")?.unwrap_or_default(),
            title: self.meta("title")?.unwrap_or_default(),
            generation: self.generation,
            schema: self.schema.clone(),
            grading_schemes: self.schemes.clone(),
            default_scheme: self
                .meta("default_scheme")?
                .unwrap_or_else(|| "admiralty".into()),
        };
        let snapshot = Arc::new(snapshot::load(&self.conn, header)?);
        self.snapshot = Some(Arc::clone(&snapshot));
        Ok(snapshot)
    }

    /// Something that loads a fresh snapshot on another thread through its own read-only
    /// connection, so the workbench never loads a big case on its UI thread.
    pub fn snapshot_loader(&self) -> Result<SnapshotLoader, StoreError> {
        Ok(SnapshotLoader {
            path: self.path.clone(),
            header: SnapshotHeader {
                case_id: self.meta("case_id")?.unwrap_or_default(),
                title: self.meta("title")?.unwrap_or_default(),
                generation: self.generation,
                schema: self.schema.clone(),
                grading_schemes: self.schemes.clone(),
                default_scheme: self
                    .meta("default_scheme")?
                    .unwrap_or_else(|| "admiralty".into()),
            },
        })
    }

    /// Checks the audit chain.
    pub fn verify_audit(&self) -> Result<ChainCheck, StoreError> {
        audit::verify(&self.conn)
    }

    /// Every audit record, oldest first.
    pub fn audit_records(&self) -> Result<Vec<AuditRecord>, StoreError> {
        audit::read_all(&self.conn)
    }

    /// The audit records that concern one item, oldest first: its creation, edits, grading,
    /// merges and splits, and undo/redo of those.
    pub fn audit_history(&self, item: ItemRef) -> Result<Vec<AuditRecord>, StoreError> {
        let records = audit::read_all(&self.conn)?;
        // The import that brought the item in names its batch, not each item.
        let table = match item {
            ItemRef::Entity(_) => "entities",
            ItemRef::Link(_) => "links",
            ItemRef::Event(_) => "events",
        };
        let batch: Option<i64> = self
            .conn
            .query_row(
                &format!("SELECT prov_batch FROM {table} WHERE id = ?1"),
                [item.raw()],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        let mut concerned: Vec<AuditRecord> = Vec::new();
        let mut seqs = std::collections::HashSet::new();
        for record in records {
            let Ok(details) = serde_json::from_str::<serde_json::Value>(&record.details) else {
                continue;
            };
            let batch_id = details
                .get("batch_id")
                .or_else(|| details.get("result").and_then(|r| r.get("batch_id")))
                .and_then(serde_json::Value::as_i64);
            let about_it = mentions(&details, item)
                || (batch.is_some() && batch_id == batch && record.action == "import batch")
                || details
                    .get("of_audit_record")
                    .and_then(serde_json::Value::as_i64)
                    .is_some_and(|seq| seqs.contains(&seq));
            if about_it {
                seqs.insert(record.seq);
                concerned.push(record);
            }
        }
        Ok(concerned)
    }

    /// The result of `PRAGMA integrity_check` ("ok" when the file is sound).
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let lines: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(lines.join("; "))
    }

    /// Writes a consistent copy of the case with SQLite's `VACUUM INTO` (never a file copy of
    /// an open case). Refuses to overwrite anything.
    pub fn backup_to(&self, dest: &Path) -> Result<(), StoreError> {
        if dest.exists() {
            return Err(StoreError::AlreadyExists(dest.to_path_buf()));
        }
        self.conn
            .execute("VACUUM INTO ?1", [dest.to_string_lossy()])?;
        Ok(())
    }

    /// A summary for `copkit info`.
    pub fn info(&self) -> Result<CaseInfo, StoreError> {
        let counts = |sql: &str| -> Result<Vec<(String, i64)>, StoreError> {
            let mut stmt = self.conn.prepare(sql)?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        };
        let mut batches = Vec::new();
        {
            let mut stmt = self.conn.prepare(
                "SELECT id, kind, description, source_path, source_sha256, created_utc, actor, counts \
                 FROM batches ORDER BY id",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let counts: Option<String> = r.get(7)?;
                batches.push(BatchInfo {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    description: r.get(2)?,
                    source_path: r.get(3)?,
                    source_sha256: r.get(4)?,
                    created_utc: r.get(5)?,
                    actor: r.get(6)?,
                    counts: counts.and_then(|c| serde_json::from_str(&c).ok()),
                });
            }
        }
        let schema_version: u32 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        Ok(CaseInfo {
            path: self.path.clone(),
            case_id: self.meta("case_id")?.unwrap_or_default(),
            title: self.meta("title")?.unwrap_or_default(),
            created_utc: self.meta("created_utc")?.unwrap_or_default(),
            schema_version,
            file_bytes: std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0),
            generation: self.generation,
            training: self.is_training(),
            entities_by_type: counts(
                "SELECT type, COUNT(*) FROM entities GROUP BY type ORDER BY type",
            )?,
            links_by_type: counts("SELECT type, COUNT(*) FROM links GROUP BY type ORDER BY type")?,
            events_by_type: counts(
                "SELECT type, COUNT(*) FROM events GROUP BY type ORDER BY type",
            )?,
            batches,
            grading_schemes: self
                .schemes
                .iter()
                .map(|s| (s.key.clone(), s.name.clone()))
                .collect(),
            default_scheme: self.meta("default_scheme")?.unwrap_or_default(),
            audit_head: self.meta("audit_head")?.unwrap_or_default(),
            audit_records: self
                .meta("audit_count")?
                .and_then(|c| c.parse().ok())
                .unwrap_or(0),
            undo_steps: self.conn.query_row(
                "SELECT COUNT(*) FROM undo_log WHERE undone = 0",
                [],
                |r| r.get(0),
            )?,
        })
    }

    /// Low-level access for tests and tools inside the crate.
    #[doc(hidden)]
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// Whether an audit record's details name an item: as `{"kind": .., "id": ..}` anywhere, or in
/// the id fields of the commands that take bare entity ids.
fn mentions(details: &serde_json::Value, item: ItemRef) -> bool {
    use serde_json::Value;
    fn walk(v: &Value, item: ItemRef) -> bool {
        match v {
            Value::Object(map) => {
                let tagged = map.get("kind").and_then(Value::as_str) == Some(item.kind_str())
                    && map.get("id").and_then(Value::as_i64) == Some(item.raw());
                tagged || map.values().any(|x| walk(x, item))
            }
            Value::Array(items) => items.iter().any(|x| walk(x, item)),
            _ => false,
        }
    }
    if walk(details, item) {
        return true;
    }
    let command = details.get("command").and_then(Value::as_str).unwrap_or("");
    let fields: &[&str] = match (item, command) {
        (ItemRef::Entity(_), "edit_entity") => &["id"],
        (ItemRef::Entity(_), "set_category") => &["ids"],
        (ItemRef::Entity(_), "merge") => &["keep", "absorb"],
        (ItemRef::Entity(_), "split") => &["keep", "absorbed"],
        (ItemRef::Link(_), "edit_link") => &["id"],
        _ => &[],
    };
    fields.iter().any(|f| match details.get(*f) {
        Some(Value::Number(n)) => n.as_i64() == Some(item.raw()),
        Some(Value::Array(a)) => a.iter().any(|x| x.as_i64() == Some(item.raw())),
        _ => false,
    })
}

/// Loads a snapshot of a case at a known generation through a read-only connection.
#[derive(Debug, Clone)]
pub struct SnapshotLoader {
    path: PathBuf,
    header: SnapshotHeader,
}

impl SnapshotLoader {
    /// The generation the snapshot will carry.
    pub fn generation(&self) -> u64 {
        self.header.generation
    }

    /// Reads every item (run it in a job).
    pub fn load(self) -> Result<CaseSnapshot, StoreError> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        snapshot::load(&conn, self.header)
    }
}

/// Creates a case file at an older schema version (for migration tests only).
#[doc(hidden)]
pub fn create_at_version(path: &Path, version: u32, actor: &Actor) -> Result<(), StoreError> {
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "application_id", APPLICATION_ID)?;
    let tx = conn.transaction()?;
    schema::migrate(&tx, 0, version)?;
    meta::set(&tx, "case_id", &uuid::Uuid::new_v4().to_string())?;
    meta::set(&tx, "title", "old case")?;
    meta::set(&tx, "generation", "0")?;
    meta::set(&tx, "default_scheme", "admiralty")?;
    for scheme in GradingScheme::builtin() {
        tx.execute(
            "INSERT INTO grading_schemes (key, definition) VALUES (?1, ?2)",
            params![scheme.key, serde_json::to_string(&scheme)?],
        )?;
    }
    audit::append(
        &tx,
        actor,
        "test",
        AuditCategory::Collection,
        "create case",
        &json!({}),
    )?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_chart_comes_back_and_is_not_an_alteration() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.copkit");
        let actor = Actor {
            os_user: "tester".into(),
            analyst: "Test Analyst".into(),
        };
        let mut case = Case::create(&path, "c", actor.clone(), "test").unwrap();
        assert_eq!(case.chart().unwrap(), None);
        let (generation, audit) = (case.generation(), case.audit_records().unwrap().len());
        case.save_chart("{\"positions\":[]}").unwrap();
        case.save_chart("{\"positions\":[[1,2.5,-3.0]]}").unwrap();
        assert_eq!(case.generation(), generation);
        assert_eq!(case.audit_records().unwrap().len(), audit);
        drop(case);
        let case = Case::open_unrecorded(&path, actor, "test").unwrap();
        assert_eq!(
            case.chart().unwrap().as_deref(),
            Some("{\"positions\":[[1,2.5,-3.0]]}")
        );
        assert_eq!(case.generation(), generation);
        assert!(matches!(
            case.verify_audit().unwrap(),
            ChainCheck::Intact { .. }
        ));
    }

    #[test]
    fn a_streamed_batch_gets_a_larger_page_cache_and_gives_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let actor = Actor {
            os_user: "tester".into(),
            analyst: "Test Analyst".into(),
        };
        let mut case = Case::create(&dir.path().join("c.copkit"), "c", actor, "test").unwrap();
        let cache = |case: &Case| -> i64 {
            case.conn
                .pragma_query_value(None, "cache_size", |r| r.get(0))
                .unwrap()
        };
        let before = cache(&case);
        let batch = NewBatch {
            kind: "manual".into(),
            description: "test".into(),
            ..Default::default()
        };
        let (_, during) = case
            .import_streamed(batch.clone(), |w| -> Result<i64, StoreError> {
                w.entity(crate::model::NewEntity::new("Person", "p"))?;
                Ok(w.conn
                    .pragma_query_value(None, "cache_size", |r| r.get(0))?)
            })
            .unwrap();
        assert_eq!(during, -BATCH_CACHE_KIB);
        assert_eq!(cache(&case), before);
        assert_eq!(case.snapshot().unwrap().entities.len(), 1);
        // A failed batch writes nothing and restores the cache too.
        let failed = case.import_streamed(batch, |w| -> Result<(), StoreError> {
            w.entity(crate::model::NewEntity::new("Person", "q"))?;
            Err(StoreError::Invalid("stop".into()))
        });
        assert!(failed.is_err());
        assert_eq!(cache(&case), before);
        assert_eq!(case.snapshot().unwrap().entities.len(), 1);
    }

    /// Every row of the evidence tables and the index definitions, for comparing cases.
    fn dump_tables(case: &Case) -> Vec<String> {
        let mut out = Vec::new();
        for table in [
            "entities",
            "attributes",
            "links",
            "events",
            "participants",
            "sqlite_sequence",
        ] {
            let mut stmt = case
                .conn
                .prepare(&format!("SELECT * FROM {table} ORDER BY rowid"))
                .unwrap();
            let n = stmt.column_count();
            let mut rows = stmt.query([]).unwrap();
            while let Some(r) = rows.next().unwrap() {
                let cells: Vec<String> = (0..n)
                    .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                    .collect();
                out.push(format!("{table}: {}", cells.join(" | ")));
            }
        }
        let mut stmt = case
            .conn
            .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name")
            .unwrap();
        let indexes = stmt
            .query_map([], |r| {
                Ok(format!(
                    "index {}: {:?}",
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?
                ))
            })
            .unwrap();
        out.extend(indexes.map(Result::unwrap));
        out
    }

    /// Writes a batch of calls between phones matched on their numbers; `defer_after` sets
    /// when the writer drops the indexes. Returns whether it had dropped them by the end.
    fn write_calls(case: &mut Case, calls: i64, defer_after: u64) -> Result<bool, StoreError> {
        use crate::model::{
            EntityId, EventTime, NewAttribute, NewEntity, NewEvent, NewLink, NewParticipant,
            ParticipantRole,
        };
        let batch = NewBatch {
            kind: "import".into(),
            description: "calls".into(),
            ..Default::default()
        };
        let (_, deferred) = case.import_streamed(batch, |w| -> Result<bool, StoreError> {
            w.defer_indexes_after(defer_after);
            let phone = |w: &mut BatchWriter<'_>, n: i64| -> Result<EntityId, StoreError> {
                let number = format!("+4477009{n:05}");
                if let Some(id) = w.find_entity_by_identifier("Phone", "number", &number)? {
                    return Ok(id);
                }
                w.entity(NewEntity::new("Phone", number.clone()).with("number", &number))
            };
            for i in 0..calls {
                let a = phone(w, i % 37)?;
                let b = phone(w, (i * 7 + 3) % 41)?;
                let mut ev = NewEvent::new(
                    "Call",
                    EventTime {
                        start_ms: i * 1000,
                        end_ms: Some(i * 1000 + 500),
                        original_text: None,
                        original_zone: None,
                    },
                );
                ev.participants = vec![
                    NewParticipant::new(ParticipantRole::From, a),
                    NewParticipant::new(ParticipantRole::To, b),
                ];
                ev.attributes.push(NewAttribute::new("durationSecs", "0.5"));
                w.event(ev)?;
                if i % 10 == 0 {
                    let mut l = NewLink::new("knows", a, b);
                    l.attributes
                        .push(NewAttribute::new("note", format!("call {i}")));
                    w.link(l)?;
                }
            }
            Ok(w.indexes_deferred())
        })?;
        Ok(deferred)
    }

    fn test_case(dir: &Path, name: &str) -> Case {
        let actor = Actor {
            os_user: "tester".into(),
            analyst: "Test Analyst".into(),
        };
        Case::create(&dir.join(name), "c", actor, "test").unwrap()
    }

    /// Every row `sql` selects, as tuples.
    fn select<T>(case: &Case, sql: &str) -> Vec<T>
    where
        T: for<'r> TryFrom<&'r rusqlite::Row<'r>, Error = rusqlite::Error>,
    {
        let mut stmt = case.conn.prepare(sql).unwrap();
        stmt.query_map([], |r| T::try_from(r))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// Chunks whose rows agree on all, some or none of the columns the writer binds once per
    /// chunk (type, zone, file, grading, property) must store each row's own values.
    #[test]
    fn chunks_sharing_some_column_values_store_every_row_as_given() {
        use crate::model::{
            EventTime, Grading, NewAttribute, NewEntity, NewEvent, NewLink, NewParticipant,
            ParticipantRole,
        };
        let dir = tempfile::tempdir().unwrap();
        let mut case = test_case(dir.path(), "c.copkit");
        // Rows 0–63 agree on everything shared; later chunks differ in a pattern per column:
        // whether row `i` differs, from row `from` on, every `every` rows.
        let varies = |i: i64, from: i64, every: i64| i >= from && (i - from) % every == 0;
        let event_type = |i| ["Call", "Meeting"][usize::from(varies(i, 66, 3))];
        let zone = |i| ["UTC", "Europe/London"][usize::from(varies(i, 130, 5))];
        let file = |i| ["b.csv", "a.csv"][usize::from(varies(i, 192, 2))];
        let grading = |i: i64| {
            varies(i, 259, 7).then(|| Grading {
                scheme: "admiralty".into(),
                source: Some("B".into()),
                information: Some("2".into()),
                handling: None,
            })
        };
        let property = |i| ["durationSecs", "note"][usize::from(varies(i, 321, 2))];
        let batch = NewBatch {
            kind: "import".into(),
            description: "varied".into(),
            ..Default::default()
        };
        let n = 400;
        case.import_streamed(batch, |w| -> Result<(), StoreError> {
            let a = w.entity(NewEntity::new("Phone", "a"))?;
            let b = w.entity(NewEntity::new("Phone", "b"))?;
            for i in 0..n {
                let mut ev = NewEvent::new(
                    event_type(i),
                    EventTime {
                        start_ms: i * 1000,
                        end_ms: None,
                        original_text: Some(format!("t{i}")),
                        original_zone: Some(zone(i).into()),
                    },
                );
                ev.provenance.source_file = Some(file(i).into());
                ev.provenance.record = Some(format!("line {i}"));
                ev.grading = grading(i);
                ev.participants = vec![
                    NewParticipant::new(ParticipantRole::From, a),
                    NewParticipant::new(ParticipantRole::To, b),
                ];
                let mut attr = NewAttribute::new(property(i), format!("{i}"));
                attr.provenance.source_file = Some(file(i).into());
                ev.attributes.push(attr);
                w.event(ev)?;
                let mut l = NewLink::new(event_type(i), a, b);
                l.directed = i % 4 != 0 || i < 64;
                l.provenance.source_file = Some(file(i).into());
                l.grading = grading(i);
                w.link(l)?;
            }
            Ok(())
        })
        .unwrap();
        let grade = |i: i64| grading(i).and_then(|g| g.source);
        let events: Vec<(String, String, String, String, String, Option<String>)> = select(
            &case,
            "SELECT type, time_text, time_zone, prov_file, prov_record, grade_source \
             FROM events ORDER BY id",
        );
        let expected: Vec<_> = (0..n)
            .map(|i| {
                (
                    event_type(i).to_string(),
                    format!("t{i}"),
                    zone(i).to_string(),
                    file(i).to_string(),
                    format!("line {i}"),
                    grade(i),
                )
            })
            .collect();
        assert_eq!(events, expected);
        let attributes: Vec<(String, String, String)> = select(
            &case,
            "SELECT a.property, a.value, a.prov_file FROM attributes a \
             JOIN events e ON a.owner_kind = 'event' AND a.owner_id = e.id ORDER BY e.id",
        );
        let expected: Vec<_> = (0..n)
            .map(|i| (property(i).to_string(), format!("{i}"), file(i).to_string()))
            .collect();
        assert_eq!(attributes, expected);
        let links: Vec<(String, bool, String, Option<String>)> = select(
            &case,
            "SELECT type, directed, prov_file, grade_source FROM links ORDER BY id",
        );
        let expected: Vec<_> = (0..n)
            .map(|i| {
                (
                    event_type(i).to_string(),
                    i % 4 != 0 || i < 64,
                    file(i).to_string(),
                    grade(i),
                )
            })
            .collect();
        assert_eq!(links, expected);
        let participants: i64 = case
            .conn
            .query_row("SELECT count(*) FROM participants", [], |r| r.get(0))
            .unwrap();
        assert_eq!(participants, 2 * n);
    }

    #[test]
    fn a_large_batch_rebuilds_its_indexes_and_writes_what_a_small_one_writes() {
        let dir = tempfile::tempdir().unwrap();
        let mut plain = test_case(dir.path(), "plain.copkit");
        let mut bulk = test_case(dir.path(), "bulk.copkit");
        // A first batch, then a second one big enough (next to the case) to drop the
        // indexes part-way: identifiers from both batches must still be matched.
        for case in [&mut plain, &mut bulk] {
            assert!(!write_calls(case, 40, u64::MAX).unwrap());
        }
        assert!(!write_calls(&mut plain, 700, u64::MAX).unwrap());
        assert!(write_calls(&mut bulk, 700, 100).unwrap());
        let (p, b) = (dump_tables(&plain), dump_tables(&bulk));
        assert_eq!(p.len(), b.len());
        for (p, b) in p.iter().zip(&b) {
            assert_eq!(p, b);
        }
        // 78 phones at most (37 and 41 numbers, some shared), none duplicated.
        let phones: i64 = bulk
            .conn
            .query_row("SELECT count(*) FROM entities", [], |r| r.get(0))
            .unwrap();
        assert!(phones <= 78, "{phones} phones");
        assert_eq!(bulk.integrity_check().unwrap(), "ok");
        // Undo and redo of the big batch.
        let after = dump_tables(&bulk);
        bulk.undo().unwrap().unwrap();
        bulk.redo().unwrap().unwrap();
        assert_eq!(dump_tables(&bulk), after);
    }

    #[test]
    fn a_failed_large_batch_leaves_the_case_and_its_indexes_as_they_were() {
        let dir = tempfile::tempdir().unwrap();
        let mut case = test_case(dir.path(), "c.copkit");
        write_calls(&mut case, 30, u64::MAX).unwrap();
        let before = dump_tables(&case);
        let batch = NewBatch {
            kind: "import".into(),
            description: "fails".into(),
            ..Default::default()
        };
        let failed = case.import_streamed(batch, |w| -> Result<(), StoreError> {
            // More rows than the case holds, so that the indexes go.
            w.defer_indexes_after(10);
            for i in 0..400 {
                w.entity(crate::model::NewEntity::new("Person", format!("p{i}")))?;
            }
            assert!(w.indexes_deferred());
            Err(StoreError::Invalid("stop".into()))
        });
        assert!(failed.is_err());
        assert_eq!(dump_tables(&case), before);
        // The next batch works as usual, also in the deferred mode.
        assert!(write_calls(&mut case, 300, 100).unwrap());
        assert_eq!(case.integrity_check().unwrap(), "ok");
    }

    fn index_names(case: &Case) -> Vec<String> {
        let mut stmt = case
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn batches_written_with_deferred_indexes_end_like_batches_written_without() {
        let dir = tempfile::tempdir().unwrap();
        let mut plain = test_case(dir.path(), "plain.copkit");
        let mut deferred = test_case(dir.path(), "deferred.copkit");
        for _ in 0..2 {
            write_calls(&mut plain, 200, u64::MAX).unwrap();
        }
        let all_indexes = index_names(&deferred);
        deferred.defer_indexes().unwrap();
        let kept = index_names(&deferred);
        assert!(kept.len() < all_indexes.len(), "{kept:?}");
        assert!(kept.contains(&"attributes_normalized".to_string()));
        for _ in 0..2 {
            // The second batch matches its phones to the first's through the identifier index.
            write_calls(&mut deferred, 200, u64::MAX).unwrap();
        }
        deferred.restore_indexes().unwrap();
        assert_eq!(index_names(&deferred), all_indexes);
        assert_eq!(dump_tables(&deferred), dump_tables(&plain));
        assert_eq!(deferred.integrity_check().unwrap(), "ok");
        // Nothing left to restore.
        assert_eq!(deferred.deferred_indexes().unwrap(), None);
        deferred.restore_indexes().unwrap();
    }

    #[test]
    fn opening_a_case_left_with_deferred_indexes_builds_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut case = test_case(dir.path(), "c.copkit");
        let all_indexes = index_names(&case);
        case.defer_indexes().unwrap();
        write_calls(&mut case, 50, u64::MAX).unwrap();
        let path = case.path.clone();
        // The writer stops without restoring (as after a crash).
        drop(case);
        let actor = Actor {
            os_user: "tester".into(),
            analyst: "Test Analyst".into(),
        };
        // Opening for `audit verify` writes nothing, so leaves them dropped.
        let unrecorded = Case::open_unrecorded(&path, actor.clone(), "test").unwrap();
        assert!(unrecorded.deferred_indexes().unwrap().is_some());
        drop(unrecorded);
        let reopened = Case::open(&path, actor, "test").unwrap();
        assert_eq!(index_names(&reopened), all_indexes);
        assert_eq!(reopened.deferred_indexes().unwrap(), None);
        assert_eq!(reopened.integrity_check().unwrap(), "ok");
    }
}
