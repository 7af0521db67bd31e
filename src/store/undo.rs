//! Undo and redo without SQLite's session extension (which needs libclang to build its
//! bindings). Two mechanisms, one per kind of step:
//!
//! - **A command** (an edit, a merge, a new scheme) is captured by temporary triggers, the
//!   pattern of SQLite's "Automatic Undo/Redo Using SQLite": while the command runs, an
//!   `AFTER INSERT/UPDATE/DELETE` trigger on each table of [`UNDOABLE_TABLES`] writes the
//!   statement that reverses the row's change and the one that repeats it into
//!   `temp.undo_capture`. The envelope then stores them as the step's rows of `undo_ops`
//!   (one transaction with the change and its audit record). Undo runs the reversing
//!   statements newest first, redo the repeating ones oldest first, and each must touch
//!   exactly one row, or the step is refused as a conflict and nothing changes. The triggers
//!   exist only inside the command's transaction, so batches never pay for them.
//! - **An import batch** is undone by moving its rows (the batch row, its entities, links,
//!   events, participants and attribute values) into the `undone_*` shadow tables, and redone
//!   by moving them back: set-based SQL whose cost is that of copying the rows, with nothing
//!   recorded while the batch is written.
//!
//! [`ChangeDigest`] is the SHA-256 of the repeating statements in order: the digest of exactly
//! what a command changed, recorded in its audit record. The same triggers hash each evidence
//! row that enters or leaves a table, for the running evidence digest (`digest.rs`).

use super::digest;
use super::error::StoreError;
use super::schema::UNDOABLE_TABLES;
use crate::model::BatchId;
use rusqlite::{Connection, params};
use sha2::{Digest, Sha256};

/// The tables an import batch writes, in the order its rows are moved out on undo (moved back
/// in the reverse order on redo), with the condition that picks the batch's rows. `?1` is the
/// batch id. Attribute values are picked before their owners move.
const BATCH_ROWS: &[(&str, &str)] = &[
    (
        "participants",
        "event IN (SELECT id FROM events WHERE prov_batch = ?1)",
    ),
    (
        "document_pages",
        "entity IN (SELECT id FROM entities WHERE prov_batch = ?1)",
    ),
    (
        "notes",
        "(owner_kind = 'entity' AND owner_id IN (SELECT id FROM entities WHERE prov_batch = ?1)) \
         OR (owner_kind = 'link' AND owner_id IN (SELECT id FROM links WHERE prov_batch = ?1)) \
         OR (owner_kind = 'event' AND owner_id IN (SELECT id FROM events WHERE prov_batch = ?1))",
    ),
    (
        "attributes",
        "prov_batch = ?1 \
         OR (owner_kind = 'entity' AND owner_id IN (SELECT id FROM entities WHERE prov_batch = ?1)) \
         OR (owner_kind = 'link' AND owner_id IN (SELECT id FROM links WHERE prov_batch = ?1)) \
         OR (owner_kind = 'event' AND owner_id IN (SELECT id FROM events WHERE prov_batch = ?1))",
    ),
    ("links", "prov_batch = ?1"),
    ("events", "prov_batch = ?1"),
    ("entities", "prov_batch = ?1"),
    ("batches", "id = ?1"),
];

/// The tables whose rows an import batch's undo moves into the shadow tables.
pub(crate) fn batch_tables() -> impl Iterator<Item = &'static str> {
    BATCH_ROWS.iter().map(|(table, _)| *table)
}

/// The tables format 4 shadowed; format 5 added `notes`.
pub(crate) const FORMAT_4_SHADOWED: &[&str] = &[
    "participants",
    "attributes",
    "links",
    "events",
    "entities",
    "batches",
];

/// The shadow table that holds a table's rows while their batch is undone.
fn shadow(table: &str) -> String {
    format!("undone_{table}")
}

/// The SQL that creates the shadow tables (run by the migration to format 4, after the
/// evidence tables exist): each has the evidence table's columns and affinities, plus the undo
/// step the rows belong to. A later format that adds a column to an evidence table adds it to
/// the shadow table too.
pub(crate) fn create_shadow_tables(conn: &Connection, tables: &[&str]) -> Result<(), StoreError> {
    for table in tables {
        let shadow = shadow(table);
        conn.execute_batch(&format!(
            "CREATE TABLE {shadow} AS SELECT 0 AS undo_step, * FROM {table} WHERE 0;\n\
             CREATE INDEX {shadow}_step ON {shadow}(undo_step);"
        ))?;
    }
    Ok(())
}

/// The columns of a table, in declared order.
fn columns(conn: &Connection, table: &str) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    if names.is_empty() {
        return Err(StoreError::Invalid(format!(
            "the case has no table '{table}'; the file is not a complete case"
        )));
    }
    Ok(names)
}

/// The capturing triggers of one connection: their SQL, built once per open case from the
/// tables' columns (the schema is fixed for a format version), and whether they are installed.
///
/// They are installed by the first command and stay while commands follow one another (a
/// command then only empties the capture table), and are removed by the next transaction that
/// must not capture (a batch, whose rows must not each fire a trigger, or an undo/redo step).
/// Writes outside transactions of the envelope that reach an evidence table meanwhile are
/// captured too, and thrown away when the next command empties the table. Installing and
/// removing happen inside the envelope's transaction, so the state is known only after it
/// commits: [`CaptureSql::committed`].
#[derive(Debug, Clone)]
pub(crate) struct CaptureSql {
    install: String,
    remove: String,
    installed: bool,
    /// What `installed` becomes when the running transaction commits.
    pending: Option<bool>,
}

/// A column as SQL names it: `rowid` bare, any other name quoted.
fn ident(col: &str) -> String {
    if col == "rowid" {
        col.to_string()
    } else {
        format!("\"{col}\"")
    }
}

/// `quote(NEW."a") || ',' || quote(NEW."b")`: the SQL expression that writes a row's values as
/// literals (quote() writes numbers exactly, text and blobs escaped, NULL as NULL).
fn values_expr(row: &str, cols: &[String]) -> String {
    cols.iter()
        .map(|c| format!("quote({row}.{})", ident(c)))
        .collect::<Vec<_>>()
        .join(" || ',' || ")
}

/// `'"a"=' || quote(NEW."a") || ',' || …`: the SET list of an UPDATE to a row's values.
fn set_expr(row: &str, cols: &[String]) -> String {
    cols.iter()
        .map(|c| {
            let name = ident(c).replace('\'', "''");
            format!("'{name}=' || quote({row}.{})", ident(c))
        })
        .collect::<Vec<_>>()
        .join(" || ',' || ")
}

/// The columns a captured statement writes: every declared column, and `rowid` first when the
/// table has no INTEGER PRIMARY KEY standing for it (the TEXT-keyed tables), so that a row
/// comes back with the very rowid it had.
fn row_columns(conn: &Connection, table: &str) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT name, upper(type), pk FROM pragma_table_info('{table}')"
    ))?;
    let info = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    if info.is_empty() {
        return Err(StoreError::Invalid(format!(
            "the case has no table '{table}'; the file is not a complete case"
        )));
    }
    let keys: Vec<_> = info.iter().filter(|c| c.2 > 0).collect();
    let rowid_alias = keys.len() == 1 && keys[0].1 == "INTEGER";
    let mut cols = Vec::with_capacity(info.len() + 1);
    if !rowid_alias {
        cols.push("rowid".to_string());
    }
    cols.extend(info.into_iter().map(|c| c.0));
    Ok(cols)
}

impl CaptureSql {
    pub(crate) fn new(conn: &Connection) -> Result<CaptureSql, StoreError> {
        let mut start = String::from(
            "CREATE TEMP TABLE IF NOT EXISTS undo_capture (\n\
             seq INTEGER PRIMARY KEY, undo_sql TEXT NOT NULL, redo_sql TEXT NOT NULL);\n",
        );
        start.push_str(digest::CAPTURE_TABLE);
        let mut stop = String::new();
        for table in UNDOABLE_TABLES {
            // The same triggers record each evidence row entering or leaving the table, for
            // the evidence digest (`digest.rs`).
            let (digest_insert, digest_update, digest_delete) = if digest::is_evidence(table) {
                let shape = digest::shape(conn, table)?;
                let new = digest::capture_statement(table, &shape, "NEW", 1);
                let old = digest::capture_statement(table, &shape, "OLD", -1);
                (new.clone(), format!("{old} {new}"), old)
            } else {
                Default::default()
            };
            let cols = row_columns(conn, table)?;
            let names = cols.iter().map(|c| ident(c)).collect::<Vec<_>>().join(",");
            let insert = |row: &str| {
                format!(
                    "'INSERT INTO main.\"{table}\" ({}) VALUES (' || {} || ')'",
                    names.replace('\'', "''"),
                    values_expr(row, &cols)
                )
            };
            let delete =
                |row: &str| format!("'DELETE FROM main.\"{table}\" WHERE rowid=' || {row}.rowid");
            let update = |to: &str, from: &str| {
                format!(
                    "'UPDATE main.\"{table}\" SET ' || {} || ' WHERE rowid=' || {from}.rowid",
                    set_expr(to, &cols)
                )
            };
            start.push_str(&format!(
                "CREATE TEMP TRIGGER IF NOT EXISTS undo_{table}_insert AFTER INSERT ON main.\"{table}\" BEGIN \
                 INSERT INTO undo_capture (undo_sql, redo_sql) VALUES ({}, {}); {digest_insert} END;\n",
                delete("NEW"),
                insert("NEW"),
            ));
            start.push_str(&format!(
                "CREATE TEMP TRIGGER IF NOT EXISTS undo_{table}_update AFTER UPDATE ON main.\"{table}\" BEGIN \
                 INSERT INTO undo_capture (undo_sql, redo_sql) VALUES ({}, {}); {digest_update} END;\n",
                update("OLD", "NEW"),
                update("NEW", "OLD"),
            ));
            start.push_str(&format!(
                "CREATE TEMP TRIGGER IF NOT EXISTS undo_{table}_delete AFTER DELETE ON main.\"{table}\" BEGIN \
                 INSERT INTO undo_capture (undo_sql, redo_sql) VALUES ({}, {}); {digest_delete} END;\n",
                insert("OLD"),
                delete("OLD"),
            ));
            for op in ["insert", "update", "delete"] {
                stop.push_str(&format!("DROP TRIGGER IF EXISTS temp.undo_{table}_{op};\n"));
            }
        }
        Ok(CaptureSql {
            install: start,
            remove: stop,
            installed: false,
            pending: None,
        })
    }

    /// Starts capturing in a command's transaction: installs the triggers if they are not,
    /// and empties the capture table.
    pub(crate) fn start(&mut self, conn: &Connection) -> Result<(), StoreError> {
        if !self.installed {
            conn.execute_batch(&self.install)?;
            self.pending = Some(true);
        }
        conn.execute("DELETE FROM temp.undo_capture", [])?;
        conn.execute("DELETE FROM temp.digest_capture", [])?;
        Ok(())
    }

    /// Makes sure nothing is captured in this transaction: removes the triggers if they are
    /// installed.
    pub(crate) fn pause(&mut self, conn: &Connection) -> Result<(), StoreError> {
        if self.installed {
            conn.execute_batch(&self.remove)?;
            self.pending = Some(false);
        }
        Ok(())
    }

    /// The running transaction committed (`true`) or rolled back.
    pub(crate) fn committed(&mut self, committed: bool) {
        if let Some(state) = self.pending.take()
            && committed
        {
            self.installed = state;
        }
    }
}

/// How many rows a command changed and the SHA-256 of the statements that repeat the change,
/// in order: a digest of exactly what the command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeDigest {
    pub rows: u64,
    pub sha256: String,
}

impl ChangeDigest {
    pub(crate) fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"rows": self.rows, "sha256": self.sha256})
    }
}

/// The digest of what the triggers captured so far.
pub(crate) fn captured_digest(conn: &Connection) -> Result<ChangeDigest, StoreError> {
    let mut stmt = conn.prepare("SELECT redo_sql FROM temp.undo_capture ORDER BY seq")?;
    let mut rows = stmt.query([])?;
    let mut hasher = Sha256::new();
    let mut n = 0u64;
    while let Some(r) = rows.next()? {
        let sql: String = r.get(0)?;
        hasher.update(sql.as_bytes());
        hasher.update(b"\n");
        n += 1;
    }
    Ok(ChangeDigest {
        rows: n,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// Stores what the triggers captured as the rows of undo step `step`.
pub(crate) fn store_captured(conn: &Connection, step: i64) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO undo_ops (step, seq, undo_sql, redo_sql) \
         SELECT ?1, seq, undo_sql, redo_sql FROM temp.undo_capture ORDER BY seq",
        [step],
    )?;
    Ok(())
}

/// Drops the redo branch (the steps undone and not redone) with what they hold: a new change
/// ends it, as in every editor.
pub(crate) fn drop_redo_branch(conn: &Connection) -> Result<(), StoreError> {
    let doomed = "SELECT id FROM undo_log WHERE undone = 1";
    conn.execute(
        &format!("DELETE FROM undo_ops WHERE step IN ({doomed})"),
        [],
    )?;
    for (table, _) in BATCH_ROWS {
        conn.execute(
            &format!(
                "DELETE FROM {} WHERE undo_step IN ({doomed})",
                shadow(table)
            ),
            [],
        )?;
    }
    conn.execute("DELETE FROM undo_log WHERE undone = 1", [])?;
    Ok(())
}

/// A stored statement the case's data refuses (a constraint, a changed table) means the case
/// moved on since the step was recorded; a failure of the file itself (a full disk, an I/O
/// error, a lock) is reported as what it is, so that the user is not told the history broke.
fn replay_error(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(
            ErrorCode::DiskFull
            | ErrorCode::SystemIoFailure
            | ErrorCode::ReadOnly
            | ErrorCode::CannotOpen
            | ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::OutOfMemory,
        ) => StoreError::Sqlite(e),
        _ => StoreError::UndoConflict(e.to_string()),
    }
}

/// Drops the whole history, undone steps and steps that could still be undone alike, with the
/// statements and shadow rows they hold: an erasure leaves nothing that could bring the erased
/// values back.
pub(crate) fn drop_all_history(conn: &Connection) -> Result<(), StoreError> {
    conn.execute("DELETE FROM undo_ops", [])?;
    for (table, _) in BATCH_ROWS {
        conn.execute(&format!("DELETE FROM {}", shadow(table)), [])?;
    }
    conn.execute("DELETE FROM undo_log", [])?;
    Ok(())
}

/// Runs one stored statement, which must change exactly one row.
fn run_one(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    let changed = conn.execute(sql, []).map_err(replay_error)?;
    if changed != 1 {
        return Err(StoreError::UndoConflict(format!(
            "a stored step changed {changed} rows instead of one"
        )));
    }
    Ok(())
}

/// Undoes (`undo`) or redoes a command's step from its stored statements.
pub(crate) fn replay_command(conn: &Connection, step: i64, undo: bool) -> Result<(), StoreError> {
    let sql = if undo {
        "SELECT undo_sql FROM undo_ops WHERE step = ?1 ORDER BY seq DESC"
    } else {
        "SELECT redo_sql FROM undo_ops WHERE step = ?1 ORDER BY seq ASC"
    };
    let statements: Vec<String> = {
        let mut stmt = conn.prepare(sql)?;
        stmt.query_map([step], |r| r.get(0))?
            .collect::<Result<_, _>>()?
    };
    for statement in &statements {
        run_one(conn, statement)?;
    }
    Ok(())
}

/// Undoes an import batch by moving its rows into the shadow tables under `step`.
pub(crate) fn undo_batch(conn: &Connection, step: i64, batch: BatchId) -> Result<(), StoreError> {
    // Pick every row first: the conditions name the batch's entities, links and events,
    // which move out in the same pass.
    for (table, condition) in BATCH_ROWS {
        let cols = columns(conn, table)?.join(",");
        conn.execute(
            &format!(
                "INSERT INTO {shadow} (undo_step, {cols}) SELECT ?2, {cols} FROM {table} WHERE {condition} ORDER BY rowid",
                shadow = shadow(table)
            ),
            params![batch.0, step],
        )?;
    }
    for (table, _) in BATCH_ROWS {
        conn.execute(
            &format!(
                "DELETE FROM {table} WHERE rowid IN (SELECT id FROM {} WHERE undo_step = ?1)",
                shadow(table)
            ),
            [step],
        )?;
    }
    Ok(())
}

/// Redoes an import batch by moving its rows back from the shadow tables.
pub(crate) fn redo_batch(conn: &Connection, step: i64) -> Result<(), StoreError> {
    for (table, _) in BATCH_ROWS.iter().rev() {
        let cols = columns(conn, table)?.join(",");
        let shadow = shadow(table);
        // Nothing to move back: no statement, so that an AUTOINCREMENT table the batch never
        // wrote (notes, usually) gets no sqlite_sequence row from an empty INSERT.
        let any: bool = conn.query_row(
            &format!("SELECT EXISTS (SELECT 1 FROM {shadow} WHERE undo_step = ?1)"),
            [step],
            |r| r.get(0),
        )?;
        if !any {
            continue;
        }
        conn.execute(
            &format!(
                "INSERT INTO {table} ({cols}) SELECT {cols} FROM {shadow} WHERE undo_step = ?1 ORDER BY rowid"
            ),
            [step],
        )
        .map_err(replay_error)?;
        conn.execute(
            &format!("DELETE FROM {shadow} WHERE undo_step = ?1"),
            [step],
        )?;
    }
    Ok(())
}
