//! The case file's SQL schema and its migrations. The file carries our own `application_id`
//! and its schema version in `user_version`; each migration runs in one transaction after a
//! backup of the old file has been written.

use super::error::StoreError;
use rusqlite::Connection;

/// `PRAGMA application_id` of every COPKIT case file: "CPKT".
pub const APPLICATION_ID: u32 = 0x4350_4B54;

/// The case format this program writes. Files with a higher version are refused.
pub const SCHEMA_VERSION: u32 = 8;

/// Tables whose changes are captured for undo/redo. The audit log, the undo log and the case
/// header are deliberately outside: undo never rewrites history.
pub const UNDOABLE_TABLES: &[&str] = &[
    "entities",
    "attributes",
    "links",
    "events",
    "participants",
    "batches",
    "merges",
    "grading_schemes",
    "entity_types",
    "analysis_runs",
    "notes",
    "chart_snapshots",
    "document_pages",
];

/// Version 1: the evidence, its provenance and grading, the audit chain and the undo log.
const V1: &str = r#"
CREATE TABLE case_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE grading_schemes (
    key        TEXT PRIMARY KEY,
    definition TEXT NOT NULL
);

CREATE TABLE entity_types (
    key        TEXT PRIMARY KEY,
    definition TEXT NOT NULL
);

CREATE TABLE batches (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT NOT NULL,
    description   TEXT NOT NULL,
    source_path   TEXT,
    source_sha256 TEXT,
    source_bytes  INTEGER,
    created_utc   TEXT NOT NULL,
    actor         TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    spec          TEXT,
    counts        TEXT,
    review_date   TEXT,
    grade_scheme TEXT, grade_source TEXT, grade_info TEXT, grade_handling TEXT
);

CREATE TABLE entities (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    type        TEXT NOT NULL,
    label       TEXT NOT NULL,
    source_id   TEXT,
    category    TEXT,
    restricted  INTEGER NOT NULL DEFAULT 0,
    prov_batch  INTEGER, prov_file TEXT, prov_record TEXT,
    grade_scheme TEXT, grade_source TEXT, grade_info TEXT, grade_handling TEXT
);
CREATE INDEX entities_type ON entities(type);
CREATE INDEX entities_source_id ON entities(source_id);
CREATE INDEX entities_batch ON entities(prov_batch);

CREATE TABLE attributes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_kind  TEXT NOT NULL,
    owner_id    INTEGER NOT NULL,
    property    TEXT NOT NULL,
    value       TEXT NOT NULL,
    normalized  TEXT,
    prov_batch  INTEGER, prov_file TEXT, prov_record TEXT,
    grade_scheme TEXT, grade_source TEXT, grade_info TEXT, grade_handling TEXT
);
CREATE INDEX attributes_owner ON attributes(owner_kind, owner_id);
CREATE INDEX attributes_normalized ON attributes(property, normalized);

CREATE TABLE links (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    type        TEXT NOT NULL,
    source      INTEGER NOT NULL,
    target      INTEGER NOT NULL,
    directed    INTEGER NOT NULL,
    strength    TEXT NOT NULL,
    weight      REAL,
    label       TEXT,
    source_id   TEXT,
    restricted  INTEGER NOT NULL DEFAULT 0,
    prov_batch  INTEGER, prov_file TEXT, prov_record TEXT,
    grade_scheme TEXT, grade_source TEXT, grade_info TEXT, grade_handling TEXT
);
CREATE INDEX links_source ON links(source);
CREATE INDEX links_target ON links(target);

CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    type        TEXT NOT NULL,
    start_ms    INTEGER NOT NULL,
    end_ms      INTEGER,
    time_text   TEXT,
    time_zone   TEXT,
    source_id   TEXT,
    restricted  INTEGER NOT NULL DEFAULT 0,
    prov_batch  INTEGER, prov_file TEXT, prov_record TEXT,
    grade_scheme TEXT, grade_source TEXT, grade_info TEXT, grade_handling TEXT
);
CREATE INDEX events_start ON events(start_ms);

CREATE TABLE participants (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    event   INTEGER NOT NULL,
    role    TEXT NOT NULL,
    entity  INTEGER NOT NULL
);
CREATE INDEX participants_event ON participants(event);
CREATE INDEX participants_entity ON participants(entity);

-- One row per entity absorbed by a merge, so that a merge can be split later.
CREATE TABLE merges (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    keep      INTEGER NOT NULL,
    absorbed  INTEGER NOT NULL,
    record    TEXT NOT NULL,
    active    INTEGER NOT NULL DEFAULT 1
);

-- Append-only, hash-chained (see audit.rs). The triggers stop accidental edits through
-- COPKIT or an SQL shell; the hash chain proves whether anyone got past them.
CREATE TABLE audit (
    seq           INTEGER PRIMARY KEY,
    time_utc      TEXT NOT NULL,
    category      TEXT NOT NULL,
    action        TEXT NOT NULL,
    actor_os      TEXT NOT NULL,
    actor_analyst TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    details       TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- The undo/redo stack: one row per step (format 3 kept each command's SQLite changeset in it;
-- format 4 keeps its statements in undo_ops).
CREATE TABLE undo_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    audit_seq  INTEGER NOT NULL,
    label      TEXT NOT NULL,
    changeset  BLOB NOT NULL,
    undone     INTEGER NOT NULL DEFAULT 0
);
"#;

/// Version 2: stored analysis runs, and the generator's ground truth kept apart from the
/// evidence (analysis never reads it).
const V2: &str = r#"
CREATE TABLE analysis_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    component   TEXT NOT NULL,
    params      TEXT NOT NULL,
    created_utc TEXT NOT NULL,
    generation  INTEGER NOT NULL,
    output      TEXT NOT NULL
);

CREATE TABLE ground_truth (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- A streamed import batch is undone by deleting its rows; its undo entry names the batch.
ALTER TABLE undo_log ADD COLUMN batch INTEGER;
"#;

/// Version 3: only values with a normalised form (identifiers) are in the identifier index.
/// Durations, amounts and notes have none, and were most of its entries: a call-record import
/// wrote a million of them, each sorted into the index for nothing.
const V3: &str = r#"
DROP INDEX attributes_normalized;
CREATE INDEX attributes_normalized ON attributes(property, normalized)
    WHERE normalized IS NOT NULL;
"#;

/// Version 4: undo and redo without SQLite's session extension (see `undo.rs`). A command's
/// step is its reversing and repeating statements in `undo_ops`; an undone batch's rows wait
/// in the `undone_*` shadow tables (created by [`super::undo::create_shadow_tables`]). The
/// history of a format-3 case is converted (`changeset.rs`), then its changesets dropped.
const V4: &str = r#"
CREATE TABLE undo_ops (
    step      INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    undo_sql  TEXT NOT NULL,
    redo_sql  TEXT NOT NULL,
    PRIMARY KEY (step, seq)
) WITHOUT ROWID;
"#;

/// Version 5: what an analyst adds by hand. A review (retention) date per entity, link and
/// event; notes on any item (i2's cards), with their own source reference and grading; named
/// snapshots of the chart. The shadow tables of undone batches follow the evidence tables'
/// columns, and notes on a batch's items move with it.
const V5: &str = r#"
ALTER TABLE entities ADD COLUMN review_date TEXT;
ALTER TABLE links ADD COLUMN review_date TEXT;
ALTER TABLE events ADD COLUMN review_date TEXT;
ALTER TABLE undone_entities ADD COLUMN review_date TEXT;
ALTER TABLE undone_links ADD COLUMN review_date TEXT;
ALTER TABLE undone_events ADD COLUMN review_date TEXT;

CREATE TABLE notes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_kind  TEXT NOT NULL,
    owner_id    INTEGER NOT NULL,
    text        TEXT NOT NULL,
    source_ref  TEXT,
    created_utc TEXT NOT NULL,
    actor       TEXT NOT NULL,
    grade_scheme TEXT, grade_source TEXT, grade_info TEXT, grade_handling TEXT
);
CREATE INDEX notes_owner ON notes(owner_kind, owner_id);

CREATE TABLE chart_snapshots (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    created_utc TEXT NOT NULL,
    actor       TEXT NOT NULL,
    chart       TEXT NOT NULL
);
"#;

/// Version 6: the evidence digest (see `digest.rs`): per evidence table, its row count, its
/// lattice sum and its locator, updated by every change and committed to by the audit record
/// of the change. The upgrade computes it from the rows (`Case::migrate_with_backup`), so an
/// upgraded case's evidence is covered from the upgrade's audit record on.
const V6: &str = r#"
CREATE TABLE evidence_digest (
    tbl     TEXT PRIMARY KEY,
    rows    INTEGER NOT NULL,
    lattice BLOB NOT NULL,
    locator BLOB NOT NULL
) WITHOUT ROWID;
"#;

/// Version 7: audit records chain over the SHA-256 of their details (hash version 2, see
/// `audit.rs`), so that a purge can erase the values a record of an edit carries and leave an
/// erasure marker that keeps the digest. Records written before keep hash version 1 (their
/// chain covers the details themselves; they cannot be erased). The append-only trigger lets
/// exactly that one change through: the details of a version-2 record, not yet erased,
/// replaced by a marker, every other column as it was (a condition that is NULL, such as a
/// marker without its digest, counts as not met).
const V7: &str = r#"
ALTER TABLE audit ADD COLUMN hash_version INTEGER NOT NULL DEFAULT 1;
DROP TRIGGER audit_no_update;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
WHEN NOT coalesce((
    OLD.hash_version = 2 AND NEW.hash_version = 2
    AND NEW.seq = OLD.seq AND NEW.time_utc = OLD.time_utc AND NEW.category = OLD.category
    AND NEW.action = OLD.action AND NEW.actor_os = OLD.actor_os
    AND NEW.actor_analyst = OLD.actor_analyst AND NEW.purpose = OLD.purpose
    AND NEW.prev_hash = OLD.prev_hash AND NEW.hash = OLD.hash
    AND json_valid(OLD.details) AND json_type(OLD.details, '$.payload_erased') IS NULL
    AND json_valid(NEW.details)
    AND json_type(NEW.details, '$.payload_erased.details_sha256') = 'text'
), 0)
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"#;

/// Version 8: documents. The text of each Document entity, page by page (`needs_ocr` marks a
/// page whose source had no text layer, so that an empty page is never silent), and an FTS5
/// index over the pages. The index is an external-content table kept in step by triggers, so
/// every way a page enters or leaves (a batch, its undo and redo through the shadow table, a
/// purge) updates it; it holds no evidence of its own and is outside the digest.
const V8: &str = r#"
CREATE TABLE document_pages (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    entity    INTEGER NOT NULL,
    page      INTEGER NOT NULL,
    text      TEXT NOT NULL,
    needs_ocr INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX document_pages_entity ON document_pages(entity, page);

CREATE VIRTUAL TABLE document_fts USING fts5(
    text, content = 'document_pages', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER document_pages_fts_insert AFTER INSERT ON document_pages BEGIN
    INSERT INTO document_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER document_pages_fts_delete AFTER DELETE ON document_pages BEGIN
    INSERT INTO document_fts (document_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER document_pages_fts_update AFTER UPDATE ON document_pages BEGIN
    INSERT INTO document_fts (document_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO document_fts (rowid, text) VALUES (new.id, new.text);
END;
"#;

/// The migration that brings a file from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7, V8];

/// Runs the migrations from `from` up to `to` inside the caller's transaction, setting
/// `user_version` at the end.
pub fn migrate(conn: &Connection, from: u32, to: u32) -> Result<(), StoreError> {
    for version in from..to {
        conn.execute_batch(MIGRATIONS[version as usize])?;
        if version == 3 {
            super::undo::create_shadow_tables(conn, super::undo::FORMAT_4_SHADOWED)?;
            super::changeset::upgrade_from_format_3(conn)?;
            conn.execute_batch("ALTER TABLE undo_log DROP COLUMN changeset;")?;
        }
        if version == 4 {
            super::undo::create_shadow_tables(conn, &["notes"])?;
        }
        if version == 7 {
            super::undo::create_shadow_tables(conn, &["document_pages"])?;
        }
    }
    conn.pragma_update(None, "user_version", to)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_migration_per_version() {
        assert_eq!(MIGRATIONS.len(), SCHEMA_VERSION as usize);
    }
}
