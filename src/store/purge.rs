//! Retention: the review list (items and batches whose review date has come) and the purge,
//! which erases an import batch or single items for good.
//!
//! A purge is not a command: it cannot be undone, and it must leave no copy of what it erased
//! in the case file. So it
//!
//! - runs through the one envelope (`Case::transact_erasure`): one transaction with its audit
//!   record, category erasure, holding metadata only (ids, types, counts, the batch's kind,
//!   dates and source hash, the reason; never a label, value or description);
//! - drops the whole undo history in the same transaction. Undo statements and the shadow
//!   rows of undone batches hold values, and undo is linear: a step older than one that
//!   touched the erased rows could not be undone anyway. Dropping all of it is the one rule
//!   that is sure to leave no value behind;
//! - deletes with `PRAGMA secure_delete` on (SQLite overwrites deleted content with zeros) and
//!   then runs `VACUUM`, which rebuilds the file without free pages. The rollback journal is
//!   deleted at each commit (journal mode DELETE), so no `-journal` file is left.
//!
//! - erases the details of the audit records that name the erased items or the batch's
//!   import (a value typed by hand is in the record of the command that entered it, the
//!   import record keeps the batch's description): from case format 7 the chain covers each
//!   record's details through their SHA-256, so they are replaced by an erasure marker that
//!   keeps the digest, the command's name and the evidence commitments, and the purge's own
//!   record lists them (`audit verify` refuses a marker no purge lists).
//!
//! What a purge cannot remove, it reports: the details of such records written before the
//! case's upgrade to format 7 (their chain covers the details themselves) and backups beside
//! the case written before the purge.
//!
//! Entities that other sources share. Purging batch B erases what B brought: its entities,
//! links and events, every attribute value B supplied (on anyone's items) and merge records of
//! entities B brought. An entity of B that something else still holds on to (a link, event
//! participation or attribute value from another batch or typed by hand) is *shared*, and the
//! caller decides ([`SharedEntities`]): refuse (the default, naming them), keep them (they stay,
//! with their label and key, which the other source names too, and what the other sources gave
//! them; their provenance moves to the oldest other batch that uses them, or to hand entry), or
//! erase them with everything attached, whatever its source (as deleting them would).

use super::*;
use crate::model::{EntityId, EventId, LinkId};

/// One item or batch on the review list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReviewDue {
    /// `entity`, `link`, `event` or `batch`.
    pub kind: &'static str,
    pub id: i64,
    /// The id as the command line writes it (E12, L3, V7, B2).
    pub reference: String,
    /// The item's type (entities, links, events) or the batch's kind.
    #[serde(rename = "type")]
    pub item_type: String,
    /// The entity's label, the link's label, or the batch's description.
    pub label: String,
    pub review_date: String,
}

/// The review list up to a date: the first `limit` entries, sorted by date, and how many are
/// due in all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReviewList {
    pub due_by: String,
    pub total: u64,
    pub entries: Vec<ReviewDue>,
}

/// What a purge erases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PurgeTarget {
    /// An import batch with everything it brought.
    Batch(BatchId),
    /// Entities (with their links, participations, values and notes), links and events.
    Items(Vec<ItemRef>),
}

/// What a batch purge does with entities that other sources also hold on to (module doc).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SharedEntities {
    /// Refuse the purge and name them.
    #[default]
    Refuse,
    /// Keep them, with what the other sources gave them.
    Keep,
    /// Erase them with everything attached, whatever its source.
    Erase,
}

/// What a purge did, and what it could not reach.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    pub audit_seq: i64,
    /// Rows erased per table.
    pub erased: std::collections::BTreeMap<String, u64>,
    /// Erased entities by type.
    pub entities_by_type: std::collections::BTreeMap<String, u64>,
    /// Shared entities kept (batch purge with [`SharedEntities::Keep`]).
    pub kept_shared: Vec<EntityId>,
    /// Undo steps dropped with the history.
    pub history_steps_dropped: u64,
    /// Audit records (by number) that name erased items or the batch: they may hold values
    /// typed by hand or the batch's description.
    pub audit_records_naming_erased: Vec<i64>,
    /// Of those, the records whose details the purge erased (module doc).
    pub audit_payloads_erased: Vec<i64>,
    /// Of those, the records written before format 7, whose details the chain keeps.
    pub audit_payloads_kept: Vec<i64>,
    /// Backups beside the case, written before the purge, that still hold the erased values.
    pub backups: Vec<PathBuf>,
    pub file_bytes_before: u64,
    pub file_bytes_after: u64,
}

/// Temporary tables of the ids a purge erases (in memory: `temp_store` is MEMORY).
const ID_TABLES: &[&str] = &["purge_entities", "purge_links", "purge_events"];

impl Case {
    /// Items and batches whose review date is on or before `due_by` (YYYY-MM-DD), sorted by
    /// date, at most `limit` of them (the total is counted). Reads only: the caller records the
    /// consultation.
    pub fn review_due(&self, due_by: &str, limit: usize) -> Result<ReviewList, StoreError> {
        command::check_date(due_by)?;
        let union = "SELECT 'entity' AS kind, id, type, label, review_date FROM entities \
                WHERE review_date IS NOT NULL AND review_date <= ?1 \
             UNION ALL SELECT 'link', id, type, coalesce(label, ''), review_date FROM links \
                WHERE review_date IS NOT NULL AND review_date <= ?1 \
             UNION ALL SELECT 'event', id, type, coalesce(time_text, ''), review_date FROM events \
                WHERE review_date IS NOT NULL AND review_date <= ?1 \
             UNION ALL SELECT 'batch', id, kind, description, review_date FROM batches \
                WHERE review_date IS NOT NULL AND review_date <= ?1";
        let total: i64 =
            self.conn
                .query_row(&format!("SELECT count(*) FROM ({union})"), [due_by], |r| {
                    r.get(0)
                })?;
        let mut stmt = self.conn.prepare(&format!(
            "SELECT kind, id, type, label, review_date FROM ({union}) \
             ORDER BY review_date, kind, id LIMIT ?2"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![due_by, limit], |r| {
            let kind: String = r.get(0)?;
            let id: i64 = r.get(1)?;
            Ok((kind, id, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        let mut entries = Vec::new();
        for row in rows {
            let (kind, id, item_type, label, review_date) = row?;
            let (kind, letter) = match kind.as_str() {
                "entity" => ("entity", "E"),
                "link" => ("link", "L"),
                "event" => ("event", "V"),
                _ => ("batch", "B"),
            };
            entries.push(ReviewDue {
                kind,
                id,
                reference: format!("{letter}{id}"),
                item_type,
                label,
                review_date,
            });
        }
        Ok(ReviewList {
            due_by: due_by.to_string(),
            total: u64::try_from(total).unwrap_or(0),
            entries,
        })
    }

    /// Erases a batch or items for good (module doc): one audited transaction that also drops
    /// the undo history, with secure delete on, then `VACUUM`.
    pub fn purge(
        &mut self,
        target: &PurgeTarget,
        shared: SharedEntities,
        reason: &str,
    ) -> Result<PurgeReport, StoreError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::Invalid(
                "a purge needs a reason (the retention rule or decision), which goes into the \
                 audit log"
                    .into(),
            ));
        }
        if let PurgeTarget::Items(items) = target
            && items.is_empty()
        {
            return Err(StoreError::Invalid(
                "nothing to purge: name a batch or at least one item".into(),
            ));
        }
        let file_bytes_before = std::fs::metadata(&self.path).map_or(0, |m| m.len());
        let history_steps: i64 = self
            .conn
            .query_row("SELECT count(*) FROM undo_log", [], |r| r.get(0))?;
        let previous_secure: i64 = self
            .conn
            .pragma_query_value(None, "secure_delete", |r| r.get(0))?;
        self.conn.pragma_update(None, "secure_delete", "ON")?;
        let result = self.transact_erasure("purge", |tx, _ctx| {
            create_id_tables(tx)?;
            let outcome = erase(tx, target, shared, reason);
            drop_id_tables(tx)?;
            outcome
        });
        // The capture table (memory) held the erased rows for the digest: empty it now.
        let emptied = self.conn.execute("DELETE FROM temp.undo_capture", []);
        let vacuumed = result
            .as_ref()
            .map_or(Ok(()), |_| self.conn.execute_batch("VACUUM"));
        let restored = self
            .conn
            .pragma_update(None, "secure_delete", previous_secure);
        let (applied, mut report) = result?;
        emptied?;
        vacuumed?;
        restored?;
        report.audit_seq = applied.audit_seq;
        report.history_steps_dropped = u64::try_from(history_steps).unwrap_or(0);
        report.backups = open::find_backups(&self.path);
        report.file_bytes_before = file_bytes_before;
        report.file_bytes_after = std::fs::metadata(&self.path).map_or(0, |m| m.len());
        Ok(report)
    }
}

fn create_id_tables(conn: &Connection) -> Result<(), StoreError> {
    for table in ID_TABLES {
        conn.execute_batch(&format!(
            "DROP TABLE IF EXISTS temp.{table}; CREATE TEMP TABLE {table} (id INTEGER PRIMARY KEY);"
        ))?;
    }
    Ok(())
}

fn drop_id_tables(conn: &Connection) -> Result<(), StoreError> {
    for table in ID_TABLES {
        conn.execute_batch(&format!("DROP TABLE IF EXISTS temp.{table};"))?;
    }
    Ok(())
}

/// The condition "this entity is held on to by something not from batch `?1`".
const SHARED: &str = "(EXISTS (SELECT 1 FROM links l WHERE (l.source = e.id OR l.target = e.id) \
        AND l.prov_batch IS NOT ?1) \
    OR EXISTS (SELECT 1 FROM participants p JOIN events v ON v.id = p.event \
        WHERE p.entity = e.id AND v.prov_batch IS NOT ?1) \
    OR EXISTS (SELECT 1 FROM attributes a WHERE a.owner_kind = 'entity' AND a.owner_id = e.id \
        AND a.prov_batch IS NOT ?1))";

/// Fills the id tables, deletes, and returns the report and the audit details.
fn erase(
    conn: &Connection,
    target: &PurgeTarget,
    shared: SharedEntities,
    reason: &str,
) -> Result<(PurgeReport, serde_json::Value), StoreError> {
    let mut report = PurgeReport {
        audit_seq: 0,
        erased: Default::default(),
        entities_by_type: Default::default(),
        kept_shared: Vec::new(),
        history_steps_dropped: 0,
        audit_records_naming_erased: Vec::new(),
        audit_payloads_erased: Vec::new(),
        audit_payloads_kept: Vec::new(),
        backups: Vec::new(),
        file_bytes_before: 0,
        file_bytes_after: 0,
    };
    let mut details = json!({"command": "purge", "reason": reason});
    let batch = match target {
        PurgeTarget::Batch(batch) => {
            let facts = batch_facts(conn, *batch)?;
            details["batch"] = facts;
            details["shared_entities"] = serde_json::to_value(shared)?;
            let shared_ids = ids_where_batch(
                conn,
                &format!(
                    "SELECT e.id FROM entities e WHERE e.prov_batch = ?1 AND {SHARED} ORDER BY e.id"
                ),
                *batch,
            )?;
            if !shared_ids.is_empty() && shared == SharedEntities::Refuse {
                return Err(shared_refusal(*batch, &shared_ids));
            }
            let keep = shared == SharedEntities::Keep;
            conn.execute(
                &format!(
                    "INSERT INTO temp.purge_entities SELECT e.id FROM entities e \
                     WHERE e.prov_batch = ?1 {}",
                    if keep {
                        format!("AND NOT {SHARED}")
                    } else {
                        String::new()
                    }
                ),
                [batch.0],
            )?;
            if keep {
                report.kept_shared = shared_ids.iter().map(|&id| EntityId(id)).collect();
                // The oldest other batch that uses the entity becomes its provenance (NULL:
                // only hand entries use it).
                conn.execute(
                    "UPDATE entities SET prov_batch = (SELECT min(b) FROM ( \
                        SELECT l.prov_batch AS b FROM links l \
                            WHERE (l.source = entities.id OR l.target = entities.id) AND l.prov_batch IS NOT ?1 \
                        UNION ALL SELECT v.prov_batch FROM participants p JOIN events v ON v.id = p.event \
                            WHERE p.entity = entities.id AND v.prov_batch IS NOT ?1 \
                        UNION ALL SELECT a.prov_batch FROM attributes a \
                            WHERE a.owner_kind = 'entity' AND a.owner_id = entities.id AND a.prov_batch IS NOT ?1)), \
                     prov_file = NULL, prov_record = NULL \
                     WHERE prov_batch = ?1 AND id NOT IN (SELECT id FROM temp.purge_entities)",
                    [batch.0],
                )?;
                details["kept_shared"] = json!(shared_ids);
            }
            conn.execute(
                "INSERT OR IGNORE INTO temp.purge_links SELECT id FROM links WHERE prov_batch = ?1 \
                 OR source IN (SELECT id FROM temp.purge_entities) \
                 OR target IN (SELECT id FROM temp.purge_entities)",
                [batch.0],
            )?;
            conn.execute(
                "INSERT INTO temp.purge_events SELECT id FROM events WHERE prov_batch = ?1",
                [batch.0],
            )?;
            Some(*batch)
        }
        PurgeTarget::Items(items) => {
            for item in items {
                let (table, ids) = match item {
                    ItemRef::Entity(_) => ("entities", "purge_entities"),
                    ItemRef::Link(_) => ("links", "purge_links"),
                    ItemRef::Event(_) => ("events", "purge_events"),
                };
                let exists = conn
                    .prepare_cached(&format!("SELECT 1 FROM {table} WHERE id = ?1"))?
                    .exists([item.raw()])?;
                if !exists {
                    return Err(StoreError::Missing {
                        what: item.kind_str(),
                        id: item.to_string(),
                    });
                }
                conn.execute(
                    &format!("INSERT OR IGNORE INTO temp.{ids} VALUES (?1)"),
                    [item.raw()],
                )?;
            }
            conn.execute(
                "INSERT OR IGNORE INTO temp.purge_links SELECT id FROM links \
                 WHERE source IN (SELECT id FROM temp.purge_entities) \
                 OR target IN (SELECT id FROM temp.purge_entities)",
                [],
            )?;
            details["items"] = json!(items);
            None
        }
    };
    let batch_id = batch.map(|b| b.0);
    {
        let mut stmt = conn.prepare(
            "SELECT type, count(*) FROM entities WHERE id IN (SELECT id FROM temp.purge_entities) \
             GROUP BY type ORDER BY type",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (t, n) = row?;
            report
                .entities_by_type
                .insert(t, u64::try_from(n).unwrap_or(0));
        }
    }
    // Which audit records name what is erased: read before the rows go (the walk needs
    // only the ids).
    let owned = "(owner_kind = 'entity' AND owner_id IN (SELECT id FROM temp.purge_entities)) \
         OR (owner_kind = 'link' AND owner_id IN (SELECT id FROM temp.purge_links)) \
         OR (owner_kind = 'event' AND owner_id IN (SELECT id FROM temp.purge_events))";
    report.audit_records_naming_erased = records_naming(conn, batch_id, owned)?;

    let steps: Vec<(&str, String)> = vec![
        (
            "participants",
            "DELETE FROM participants WHERE event IN (SELECT id FROM temp.purge_events) \
             OR entity IN (SELECT id FROM temp.purge_entities)"
                .into(),
        ),
        (
            "attributes",
            format!("DELETE FROM attributes WHERE prov_batch IS ?1 AND ?1 IS NOT NULL OR {owned}"),
        ),
        ("notes", format!("DELETE FROM notes WHERE {owned}")),
        (
            "document_pages",
            "DELETE FROM document_pages WHERE entity IN (SELECT id FROM temp.purge_entities)"
                .into(),
        ),
        (
            "merges",
            "DELETE FROM merges WHERE keep IN (SELECT id FROM temp.purge_entities) \
             OR absorbed IN (SELECT id FROM temp.purge_entities) \
             OR (?1 IS NOT NULL AND json_extract(record, '$.provenance.batch') = ?1)"
                .into(),
        ),
        (
            "links",
            "DELETE FROM links WHERE id IN (SELECT id FROM temp.purge_links)".into(),
        ),
        (
            "events",
            "DELETE FROM events WHERE id IN (SELECT id FROM temp.purge_events)".into(),
        ),
        (
            "entities",
            "DELETE FROM entities WHERE id IN (SELECT id FROM temp.purge_entities)".into(),
        ),
        ("batches", "DELETE FROM batches WHERE id IS ?1".into()),
    ];
    for (table, sql) in &steps {
        let n = if sql.contains("?1") {
            conn.execute(sql, [batch_id])?
        } else {
            conn.execute(sql, [])?
        };
        report
            .erased
            .insert((*table).to_string(), u64::try_from(n).unwrap_or(0));
    }
    // The values hand-typed into edits stay in the audit records of those edits: erase them
    // too, leaving markers the chain still verifies (`audit::erase_payload`). The purge's own
    // record comes next in this transaction and lists them.
    let purge_record: i64 =
        conn.query_row("SELECT coalesce(max(seq), 0) + 1 FROM audit", [], |r| {
            r.get(0)
        })?;
    for &seq in &report.audit_records_naming_erased {
        if audit::erase_payload(conn, seq, purge_record)? {
            report.audit_payloads_erased.push(seq);
        } else {
            report.audit_payloads_kept.push(seq);
        }
    }
    details["audit_payloads_erased"] = json!(report.audit_payloads_erased);
    details["audit_payloads_kept_old_format"] = json!(report.audit_payloads_kept.len());
    details["erased"] = serde_json::to_value(&report.erased)?;
    details["entities_by_type"] = serde_json::to_value(&report.entities_by_type)?;
    details["audit_records_naming_erased"] = json!(report.audit_records_naming_erased.len());
    Ok((report, details))
}

/// What the erasure record keeps of a batch: metadata, never its description or source path
/// (which can name people).
fn batch_facts(conn: &Connection, batch: BatchId) -> Result<serde_json::Value, StoreError> {
    conn.query_row(
        "SELECT kind, created_utc, source_sha256, source_bytes, counts, review_date \
         FROM batches WHERE id = ?1",
        [batch.0],
        |r| {
            let counts: Option<String> = r.get(4)?;
            Ok(json!({
                "id": batch.0,
                "kind": r.get::<_, String>(0)?,
                "created_utc": r.get::<_, String>(1)?,
                "source_sha256": r.get::<_, Option<String>>(2)?,
                "source_bytes": r.get::<_, Option<i64>>(3)?,
                "counts": counts.and_then(|c| serde_json::from_str::<serde_json::Value>(&c).ok()),
                "review_date": r.get::<_, Option<String>>(5)?,
            }))
        },
    )
    .optional()?
    .ok_or_else(|| StoreError::Missing {
        what: "batch",
        id: batch.to_string(),
    })
}

fn ids_where_batch(conn: &Connection, sql: &str, batch: BatchId) -> Result<Vec<i64>, StoreError> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([batch.0], |r| r.get(0))?;
    Ok(rows.collect::<Result<Vec<i64>, _>>()?)
}

fn shared_refusal(batch: BatchId, ids: &[i64]) -> StoreError {
    let shown = ids
        .iter()
        .take(10)
        .map(|id| format!("E{id}"))
        .collect::<Vec<_>>()
        .join(", ");
    let more = if ids.len() > 10 {
        format!(" and {} more", ids.len() - 10)
    } else {
        String::new()
    };
    StoreError::Invalid(format!(
        "batch {batch} was not purged: {} of its entities are also used by other batches or by \
         hand entries ({shown}{more}). Choose whether to keep them with what the other sources \
         gave them, or to erase them with everything attached",
        ids.len()
    ))
}

/// The audit records that name an erased item, the batch's own import record, or a value or
/// note of an erased item by its own id (an edit of a value names the value, not its owner).
fn records_naming(
    conn: &Connection,
    batch: Option<i64>,
    owned: &str,
) -> Result<Vec<i64>, StoreError> {
    let ids_of =
        |sql: &str, batch: &[Option<i64>]| -> Result<std::collections::HashSet<i64>, StoreError> {
            let mut stmt = conn.prepare(sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(batch), |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        };
    let attributes = ids_of(
        &format!("SELECT id FROM attributes WHERE prov_batch IS ?1 AND ?1 IS NOT NULL OR {owned}"),
        &[batch],
    )?;
    let notes = ids_of(&format!("SELECT id FROM notes WHERE {owned}"), &[])?;
    let names_part = |details: &serde_json::Value| {
        let id = details.get("id").and_then(serde_json::Value::as_i64);
        let ids = || {
            details
                .get("ids")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(serde_json::Value::as_i64)
        };
        match details.get("command").and_then(serde_json::Value::as_str) {
            Some("edit_attribute" | "remove_attribute") => {
                id.is_some_and(|id| attributes.contains(&id))
            }
            Some("set_attribute_grading") => ids().any(|id| attributes.contains(&id)),
            Some("edit_note" | "remove_note") => id.is_some_and(|id| notes.contains(&id)),
            _ => false,
        }
    };
    let ids = |table: &str| -> Result<std::collections::HashSet<i64>, StoreError> {
        let mut stmt = conn.prepare(&format!("SELECT id FROM temp.{table}"))?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    };
    let (entities, links, events) = (
        ids("purge_entities")?,
        ids("purge_links")?,
        ids("purge_events")?,
    );
    let wanted = |item: ItemRef| match item {
        ItemRef::Entity(EntityId(id)) => entities.contains(&id),
        ItemRef::Link(LinkId(id)) => links.contains(&id),
        ItemRef::Event(EventId(id)) => events.contains(&id),
    };
    let mut found = Vec::new();
    for record in audit::read_all(conn)? {
        let Ok(details) = serde_json::from_str::<serde_json::Value>(&record.details) else {
            continue;
        };
        let its_import = batch.is_some()
            && record.action == "import batch"
            && details.get("batch_id").and_then(serde_json::Value::as_i64) == batch;
        if its_import || records::mentions_any(&details, &wanted) || names_part(&details) {
            found.push(record.seq);
        }
    }
    Ok(found)
}
