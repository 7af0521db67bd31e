//! The case file: one SQLite file per case (`.copkit`), opened only after its header proves it
//! is a case this program can read; every change a [`Command`] applied as one transaction with
//! its audit record (which carries the digest of the evidence it changed); undo and redo from
//! stored changesets; immutable snapshots for readers; the audit head anchored and signed
//! outside the file ([`anchor`]), and all of it checked by [`verify_case_file`].

pub mod anchor;
mod audit;
mod bulk;
mod changeset;
mod command;
mod compact;
mod deferred;
mod digest;
mod documents;
mod error;
mod file_check;
mod info;
mod meta;
mod open;
mod pseudonymise;
mod purge;
mod records;
mod schema;
mod snapshot;
mod transact;
mod undo;
mod verify;
mod workstation;

pub use audit::{
    Actor, AuditCategory, AuditRecord, ChainCheck, GENESIS_HASH, now_utc, verify_records,
};
pub use command::{BatchWriter, Command, NewBatch};
pub use compact::{CompactGraph, CompactLink, EntityNames};
pub use digest::{EvidenceFinding, evidence_tables};
pub use documents::{
    DocumentPage, MAX_PAGES_PER_DOCUMENT, SearchHit, SearchQuery, SnippetPart, clean_text,
};
pub use error::StoreError;
pub use file_check::{HeaderFacts, check_case_file, sniff};
pub use info::{BatchInfo, CaseInfo};
pub use open::{create_at_version, find_backups, newest_sound_backup};
pub use pseudonymise::PseudonymiseReport;
pub use purge::{PurgeReport, PurgeTarget, ReviewDue, ReviewList, SharedEntities};
pub use records::{ChartSnapshotInfo, StoredAnalysisRun};
pub use schema::{APPLICATION_ID, SCHEMA_VERSION, UNDOABLE_TABLES};
pub use snapshot::{CaseSnapshot, SnapshotHeader};
pub use undo::ChangeDigest;
pub use verify::{Check, CheckOutcome, VerifyOptions, VerifyReport, verify_case_file};

use crate::model::{BatchId, EntityTypeDef, GradingScheme, ItemRef, Schema};
use chrono::Utc;
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
    /// A note or chart snapshot the command made.
    pub made: Made,
    pub batch: Option<BatchId>,
}

/// What a command made that is not an entity, link or event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Made {
    pub note: Option<crate::model::NoteId>,
    pub chart_snapshot: Option<crate::model::ChartSnapshotId>,
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
    /// Why the case is open for reading only ([`Case::open_read_only`]); `None`: writable.
    read_only: Option<String>,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("path", &self.path)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

impl Case {
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

    /// The graph analysis runs on, read straight from the case file without a snapshot
    /// (see [`CompactGraph`]): what `copkit analyze` loads for a graph component.
    pub fn compact_graph(&self) -> Result<CompactGraph, StoreError> {
        self.load_compact(false, None)
    }

    /// The compact graph (restricted items included only when `include_restricted`) and,
    /// read in the same scan, each node's source id and label (what `copkit analyze` names in
    /// its result rows).
    pub fn compact_graph_with_names(
        &self,
        include_restricted: bool,
    ) -> Result<(CompactGraph, EntityNames), StoreError> {
        let mut names = EntityNames::new();
        let graph = self.load_compact(include_restricted, Some(&mut names))?;
        Ok((graph, names))
    }

    fn load_compact(
        &self,
        include_restricted: bool,
        names: Option<&mut EntityNames>,
    ) -> Result<CompactGraph, StoreError> {
        compact::load(
            &self.conn,
            self.generation,
            self.schemes.clone(),
            self.meta("default_scheme")?
                .unwrap_or_else(|| "admiralty".into()),
            include_restricted,
            names,
        )
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

    /// Low-level access for tests and tools inside the crate.
    #[doc(hidden)]
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
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

#[cfg(test)]
mod tests;
