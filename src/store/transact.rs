//! The one transaction envelope: every command, import batch and undo/redo step is one
//! `BEGIN IMMEDIATE` transaction holding the change, its audit record, its undo step and the
//! new generation (see `undo.rs` for how steps are recorded and replayed).

use super::*;

/// SQLite page cache while a streamed batch is written, in KiB (SQLite allocates it only as
/// pages are used, so a small batch uses little).
pub(super) const BATCH_CACHE_KIB: i64 = 256 * 1024;

/// How a transaction treats the undo triggers (see `undo.rs`): commands are captured; batches
/// undo by moving their rows, and undo/redo steps replay what was captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Capture {
    /// Record what the transaction changes (a command).
    Changes,
    /// Record nothing, and make sure no trigger fires on each of many rows (a batch, or the
    /// undo or redo of one): the body folds its rows into the evidence digest itself.
    Nothing,
    /// The triggers run, for the evidence digest, but the undo statements they record are
    /// thrown away at the next command (the undo or redo of a command: a few rows).
    Ignore,
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
    /// An erasure (`purge.rs`): no step, and the whole history goes, since its statements and
    /// shadow rows may hold the erased values.
    Erase,
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
    made: Made,
    batch: Option<BatchId>,
    /// The change touched entity types or grading schemes: read them again.
    reload: bool,
    /// Rows the body folded into the evidence digest itself (with [`Capture::Nothing`]); the
    /// triggers' capture is added to it otherwise.
    evidence: digest::Delta,
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

impl Case {
    /// Applies one command: its changes, its audit record and its undo step commit together
    /// or not at all.
    #[allow(
        clippy::needless_pass_by_value,
        reason = "a command is handed to the case, as a message is sent"
    )]
    pub fn apply(&mut self, command: Command) -> Result<Applied, StoreError> {
        self.apply_because(command, None)
    }

    /// [`Case::apply`] with the analyst's reason kept in the audit record, for commands that
    /// carry none of their own (a creation: why this entry was made).
    #[allow(
        clippy::needless_pass_by_value,
        reason = "a command is handed to the case, as a message is sent"
    )]
    pub fn apply_because(
        &mut self,
        command: Command,
        reason: Option<&str>,
    ) -> Result<Applied, StoreError> {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        let reload = command.changes_configuration();
        let (applied, ()) = self
            .transact(Capture::Changes, |tx, ctx| -> Result<_, StoreError> {
                let outcome = command::execute(tx, &ctx, &command)?;
                let mut details = command.audit_details();
                if let Some(obj) = details.as_object_mut() {
                    if let Some(extra) = outcome.audit_extra {
                        obj.insert("result".into(), extra);
                    }
                    if !outcome.created.is_empty() {
                        obj.insert("created".into(), serde_json::to_value(&outcome.created)?);
                    }
                    if let Some(reason) = reason
                        && !obj.contains_key("reason")
                    {
                        obj.insert("reason".into(), reason.into());
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
                    made: outcome.made,
                    batch: outcome.batch,
                    reload,
                    evidence: digest::Delta::new(),
                })
            })
            .map_err(|e| e.naming_case(&self.path))?;
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
        self.require_writable()?;
        let actor_label = format!("{} ({})", self.actor.analyst, self.actor.os_user);
        let _writing = error::WritingCase::new(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| StoreError::from(e).naming_case(&self.path))?;
        let capturing = capture == Capture::Changes;
        let ready = match capture {
            Capture::Changes | Capture::Ignore => self.capture.start(&tx),
            Capture::Nothing => self.capture.pause(&tx),
        };
        if let Err(e) = ready {
            self.capture.committed(false);
            return Err(e.into());
        }
        let ctx = ExecContext {
            schema: &self.schema,
            schemes: &self.schemes,
            actor_label: &actor_label,
            purpose: &self.purpose,
        };
        let mut done = match body(&tx, ctx) {
            Ok(done) => done,
            Err(e) => {
                self.capture.committed(false);
                return Err(e);
            }
        };
        let mut finish = || -> Result<(i64, u64), StoreError> {
            if capturing {
                let digest = undo::captured_digest(&tx)?;
                if let Some(obj) = done.details.as_object_mut() {
                    obj.insert("changes".into(), digest.to_json());
                }
            }
            // The evidence digest moves with the change, and the record commits to the new
            // digest of each table the change touched.
            let mut evidence = std::mem::take(&mut done.evidence);
            if capture != Capture::Nothing {
                for (table, change) in digest::captured(&tx)? {
                    evidence.entry(table).or_default().add(&change);
                }
            }
            if let Some(commitments) = digest::apply(&tx, &evidence)?
                && let Some(obj) = done.details.as_object_mut()
            {
                obj.insert("evidence".into(), commitments);
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
                UndoEntry::Erase => undo::drop_all_history(&tx)?,
            }
            let generation = Self::bump_generation(&tx, self.generation)?;
            Ok((record.seq, generation))
        };
        let committed =
            finish().and_then(|ids| tx.commit().map(|()| ids).map_err(StoreError::from));
        self.capture.committed(committed.is_ok());
        let (audit_seq, generation) = committed.map_err(|e| e.naming_case(&self.path))?;
        self.anchor_head();
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
                made: done.made,
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
            // Every row the batch writes gets an id above the largest now (AUTOINCREMENT, and
            // nothing else writes meanwhile): the digest folds that range in afterwards, one
            // scan, and the bulk writer stays as fast as it is.
            let before = new_rows::ids_before(tx)?;
            let id = command::insert_batch_row(tx, &ctx, &batch, &json!({}))?;
            let (value, counts, evidence) = {
                let mut writer = Writer::new(tx, ctx, id)?;
                let value = fill(&mut writer)?;
                let mut counts = json!({
                    "entities": writer.entities,
                    "links": writer.links,
                    "events": writer.events,
                    "attributes": writer.attributes,
                });
                if writer.pages > 0 {
                    counts["document_pages"] = writer.pages.into();
                }
                writer.flush()?;
                tx.execute(
                    "UPDATE batches SET counts = ?1 WHERE id = ?2",
                    params![counts.to_string(), id.0],
                )
                .map_err(StoreError::from)?;
                // Every row is written: their hashes go to the digest's worker thread, which
                // folds them while this thread builds the dropped indexes again (neither
                // changes what the other reads).
                let folding = new_rows::fold_in_background(tx, &before)?;
                writer.finish()?;
                (value, counts, folding.finish()?)
            };
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
                made: Made::default(),
                batch: Some(id),
                reload: false,
                evidence,
            })
        });
        let restored = self.conn.pragma_update(None, "cache_size", previous);
        let value = result?;
        restored.map_err(StoreError::from)?;
        Ok(value)
    }

    /// Runs an erasure through the envelope: `body` deletes rows and returns the audit details
    /// (metadata only); the record is an erasure, the triggers capture the change for its
    /// digest, and instead of an undo step the whole undo history is dropped in the same
    /// transaction (`purge.rs` says why).
    pub(super) fn transact_erasure<T>(
        &mut self,
        action: &str,
        body: impl FnOnce(&Connection, ExecContext<'_>) -> Result<(T, serde_json::Value), StoreError>,
    ) -> Result<(Applied, T), StoreError> {
        self.transact(Capture::Changes, |tx, ctx| {
            let (value, details) = body(tx, ctx)?;
            Ok(Done {
                value,
                category: AuditCategory::Erasure,
                action: action.to_string(),
                details,
                undo: UndoEntry::Erase,
                created: Vec::new(),
                made: Made::default(),
                batch: None,
                reload: false,
                evidence: digest::Delta::new(),
            })
        })
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
        // A batch's rows move in and out set by set: no trigger may fire on each of them.
        let capture = if expected.batch.is_some() {
            Capture::Nothing
        } else {
            Capture::Ignore
        };
        let (applied, ()) = self.transact(capture, |tx, _ctx| {
            // Read again inside the transaction: another connection may have moved on.
            let step = next_step(tx, undo)?
                .filter(|s| s.id == expected.id)
                .ok_or_else(|| {
                    StoreError::UndoConflict(
                        "another program changed the case meanwhile; try again".into(),
                    )
                })?;
            let mut evidence = digest::Delta::new();
            match (step.batch, undo) {
                (Some(batch), true) => {
                    undo::undo_batch(tx, step.id, batch)?;
                    // The rows now in the shadow tables left the evidence.
                    new_rows::fold_shadowed(tx, step.id, -1, &mut evidence)?;
                }
                (Some(_), false) => {
                    new_rows::fold_shadowed(tx, step.id, 1, &mut evidence)?;
                    undo::redo_batch(tx, step.id)?;
                }
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
                made: Made::default(),
                batch: None,
                // An undone scheme or entity type leaves the case's configuration.
                reload: true,
                evidence,
            })
        })
        .map_err(|e| e.naming_case(&self.path))?;
        Ok(Some(applied))
    }
}

/// The evidence digest of the rows an import batch writes, and of those its undo and redo move.
mod new_rows {
    use super::super::digest::{self, Delta};
    use super::super::error::StoreError;
    use super::super::undo;
    use rusqlite::Connection;

    /// The largest id of each evidence table with an integer id.
    pub(super) fn ids_before(conn: &Connection) -> Result<Vec<(String, i64)>, StoreError> {
        let mut out = Vec::new();
        for table in digest::evidence_tables() {
            let shape = digest::shape(conn, table)?;
            if let Some(id) = &shape.id_column {
                let max: i64 = conn.query_row(
                    &format!("SELECT coalesce(max(\"{id}\"), 0) FROM main.\"{table}\""),
                    [],
                    |r| r.get(0),
                )?;
                out.push((table.to_string(), max));
            }
        }
        Ok(out)
    }

    /// The rows above those ids, folded on a worker thread (see
    /// [`digest::BackgroundFold`]); the caller may go on using the connection.
    pub(super) fn fold_in_background(
        conn: &Connection,
        before: &[(String, i64)],
    ) -> Result<digest::BackgroundFold, StoreError> {
        let mut folding = digest::BackgroundFold::start()?;
        for (table, max) in before {
            let shape = digest::shape(conn, table)?;
            let Some(id) = &shape.id_column else { continue };
            folding.send_rows(
                conn,
                table,
                &format!("FROM main.\"{table}\" WHERE \"{id}\" > ?1"),
                [max],
                1,
            )?;
        }
        Ok(folding)
    }

    /// The rows of undo step `step` in the shadow tables, with `sign`.
    pub(super) fn fold_shadowed(
        conn: &Connection,
        step: i64,
        sign: i64,
        into: &mut Delta,
    ) -> Result<(), StoreError> {
        for table in undo::batch_tables() {
            digest::fold_rows(
                conn,
                table,
                &format!("FROM undone_{table} WHERE undo_step = ?1"),
                [step],
                sign,
                into.entry(table.to_string()).or_default(),
            )?;
        }
        Ok(())
    }
}
