//! A pseudonymised training copy of a case (`copkit pseudonymise CASE --out COPY`).
//!
//! The copy is a new case file with the same structure (every entity, link, event and
//! participation with its id, type, grading, direction and weight), so graph analysis gives
//! the same results, and no value that names anyone:
//!
//! - values are replaced through a keyed mapping: the key is 256 random bits drawn for the run
//!   and never stored, each replacement is drawn from HMAC-SHA-256(key, kind, value) and kept
//!   for the run, so the same value gets the same pseudonym everywhere (a person's label and
//!   their first and last names; a phone's label and its number) and two values never share
//!   one. Names, addresses and free text are replaced word by word (each word gets an invented
//!   word with the same capitals, each run of digits other digits); phone numbers keep their
//!   layout, their `+`/`00` and country code or trunk `0`; IBANs keep their country and get
//!   valid check digits; plates, identifiers and keys keep their shape (letters for letters,
//!   digits for digits); e-mail addresses and URLs become `example.org` ones. Categorical
//!   values that name nobody (gender, colour, currency, ...) and numbers stay;
//! - times and dates move by one random whole number of weeks (so weekdays and hours stay),
//!   coordinates by one random offset;
//! - what would link the copy to its original or still hold values goes: the audit log (the
//!   copy starts its own), the undo history, batch descriptions, source paths and hashes,
//!   stored analysis runs, chart snapshots and the saved chart, the ground truth. The copy gets
//!   a new case id, is marked `training` and `pseudonymised`, and the link between the two is
//!   recorded only in the original's audit log (a disclosure).
//!
//! The copy is built under a temporary name (`VACUUM INTO`, then rewritten with secure delete
//! on, then `VACUUM` again, so no old value is left in its free pages) and linked into place
//! only when complete; an existing file is never overwritten.

mod pseudonyms;

use super::*;
use crate::model::{PropertyKind, normalize_value};
use pseudonyms::{Pseudonymiser, random_key};
use std::collections::HashMap;

/// What a pseudonymised copy holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PseudonymiseReport {
    pub out: PathBuf,
    /// The copy's own case id (new).
    pub case_id: String,
    pub entities: u64,
    pub links: u64,
    pub events: u64,
    pub attributes: u64,
    /// Values and labels replaced.
    pub values_replaced: u64,
    /// Distinct pseudonyms handed out.
    pub pseudonyms: u64,
    pub bytes: u64,
    pub sha256: String,
    /// The original's audit record of the copy.
    pub audit_seq: i64,
}

impl Case {
    /// Writes a pseudonymised training copy of the case to `out` (module doc) and records the
    /// copy, as a disclosure, in this case's audit log only.
    pub fn pseudonymise(&mut self, out: &Path) -> Result<PseudonymiseReport, StoreError> {
        if out.symlink_metadata().is_ok() {
            return Err(StoreError::AlreadyExists(out.to_path_buf()));
        }
        let name = out
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| StoreError::Invalid(format!("not a file path: {}", out.display())))?;
        let temp = out.with_file_name(format!(".{name}.pseudonymising-{}", std::process::id()));
        let _ = std::fs::remove_file(&temp);
        let built = self.build_copy(&temp);
        let mut report = match built {
            Ok(report) => report,
            Err(e) => {
                let _ = std::fs::remove_file(&temp);
                return Err(e);
            }
        };
        let linked = std::fs::hard_link(&temp, out);
        let _ = std::fs::remove_file(&temp);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(StoreError::AlreadyExists(out.to_path_buf()));
            }
            Err(e) => return Err(StoreError::io(out, e)),
        }
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(d) = std::fs::File::open(dir)
        {
            let _ = d.sync_all();
        }
        report.out = out.to_path_buf();
        let recorded = self.record(
            AuditCategory::Disclosure,
            "pseudonymised training copy",
            json!({
                "out": out,
                "copy_case_id": report.case_id,
                "sha256": report.sha256,
                "bytes": report.bytes,
                "counts": {
                    "entities": report.entities,
                    "links": report.links,
                    "events": report.events,
                    "attributes": report.attributes,
                },
                "values_replaced": report.values_replaced,
                "method": "keyed pseudonyms (HMAC-SHA-256, random key not stored), times shifted \
                           by whole weeks, coordinates by a constant offset",
            }),
        );
        match recorded {
            Ok(record) => {
                report.audit_seq = record.seq;
                Ok(report)
            }
            Err(e) => {
                // No disclosure without its record: the copy we just made goes again.
                let _ = std::fs::remove_file(out);
                Err(e)
            }
        }
    }

    /// Copies the case to `temp` and rewrites the copy.
    fn build_copy(&self, temp: &Path) -> Result<PseudonymiseReport, StoreError> {
        self.conn
            .execute("VACUUM INTO ?1", [temp.to_string_lossy()])?;
        let mut conn = Connection::open(temp)?;
        // The evidence digest is computed in SQL through this function (`digest.rs`).
        super::digest::register(&conn)?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        let mut p = Pseudonymiser::new(random_key());
        let tx = conn.transaction()?;
        let counts = rewrite(&tx, &self.schema, &mut p)?;
        let case_id = uuid::Uuid::new_v4().to_string();
        let title = "Training copy (pseudonymised)";
        for (key, value) in [
            ("case_id", case_id.as_str()),
            ("title", title),
            ("created_utc", &now_utc()),
            (
                "created_with",
                concat!("copkit ", env!("CARGO_PKG_VERSION")),
            ),
            ("training", "true"),
            ("pseudonymised", "true"),
        ] {
            meta::set(&tx, key, value)?;
        }
        tx.execute("DELETE FROM case_meta WHERE key = 'chart'", [])?;
        fresh_audit_log(&tx)?;
        audit::append(
            &tx,
            &self.actor,
            "pseudonymised training copy",
            AuditCategory::Collection,
            "create pseudonymised training copy",
            &json!({
                "case_id": case_id,
                "title": title,
                "schema_version": SCHEMA_VERSION,
                "training": true,
                "counts": {
                    "entities": counts[0],
                    "links": counts[1],
                    "events": counts[2],
                    "attributes": counts[3],
                },
                // The copy's evidence digest starts here, computed from its rewritten rows.
                "evidence": super::digest::start(&tx)?,
            }),
        )?;
        tx.commit()?;
        conn.execute_batch("VACUUM")?;
        conn.close().map_err(|(_, e)| e)?;
        let bytes = std::fs::read(temp).map_err(|e| StoreError::io(temp, e))?;
        Ok(PseudonymiseReport {
            out: temp.to_path_buf(),
            case_id,
            entities: counts[0],
            links: counts[1],
            events: counts[2],
            attributes: counts[3],
            values_replaced: p.replaced,
            pseudonyms: p.pseudonyms(),
            bytes: bytes.len() as u64,
            sha256: audit::sha256_hex(&bytes),
            audit_seq: 0,
        })
    }
}

/// Empties the copied audit log (it holds the original's values and names it) so that the
/// copy starts its own chain. The append-only triggers are put back as they were.
fn fresh_audit_log(conn: &Connection) -> Result<(), StoreError> {
    let triggers: Vec<(String, String)> = {
        let mut stmt = conn.prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit'",
        )?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?
    };
    for (name, _) in &triggers {
        conn.execute_batch(&format!("DROP TRIGGER \"{name}\";"))?;
    }
    conn.execute("DELETE FROM audit", [])?;
    for (_, sql) in &triggers {
        conn.execute_batch(sql)?;
    }
    conn.execute(
        "DELETE FROM case_meta WHERE key IN ('audit_head', 'audit_count')",
        [],
    )?;
    Ok(())
}

/// Replaces every value in the copy; returns the counts of entities, links, events and
/// attribute values.
fn rewrite(
    conn: &Connection,
    schema: &crate::model::Schema,
    p: &mut Pseudonymiser,
) -> Result<[u64; 4], StoreError> {
    // What links the copy to its original, or holds values outside the evidence, goes.
    undo::drop_all_history(conn)?;
    // Document text is free text full of names no value-by-value pseudonym can find: the
    // training copy keeps the Document entities but not their pages.
    conn.execute_batch(
        "DELETE FROM analysis_runs; DELETE FROM chart_snapshots; DELETE FROM ground_truth; \
         DELETE FROM document_pages;",
    )?;

    let entity_types = entity_types(conn)?;
    // Attribute values first: an entity's label takes the pseudonym of the value it repeats.
    let attributes = {
        let rows: Vec<(i64, String, i64, String, String)> = {
            let mut stmt =
                conn.prepare("SELECT id, owner_kind, owner_id, property, value FROM attributes")?;
            stmt.query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<Result<_, _>>()?
        };
        let mut update =
            conn.prepare("UPDATE attributes SET value = ?1, normalized = ?2 WHERE id = ?3")?;
        for (id, owner_kind, owner_id, property, value) in &rows {
            let owner_type = if owner_kind == "entity" {
                entity_types.get(owner_id).map_or("", String::as_str)
            } else {
                ""
            };
            let kind = schema.property_kind(owner_type, property);
            let pseudo = p.value(kind, property, value);
            let normalized = normalize_value(kind, property, &pseudo).ok().flatten();
            update.execute(params![pseudo, normalized, id])?;
        }
        rows.len() as u64
    };

    let entities = {
        let rows: Vec<(i64, String, String, Option<String>)> = {
            let mut stmt = conn.prepare("SELECT id, type, label, source_id FROM entities")?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<Result<_, _>>()?
        };
        // The property whose (original) value the label repeats: its kind decides the
        // pseudonym, so that a phone's label and its number stay the same number.
        let mut repeated = conn.prepare(
            "SELECT property FROM attributes_original WHERE owner_id = ?1 AND value = ?2 LIMIT 1",
        )?;
        let mut update = conn.prepare(
            "UPDATE entities SET label = ?1, source_id = ?2, prov_file = NULL WHERE id = ?3",
        )?;
        for (id, entity_type, label, source_id) in &rows {
            let property: Option<String> = repeated
                .query_row(params![id, label], |r| r.get(0))
                .optional()?;
            let kind = property.as_deref().map_or(PropertyKind::Name, |prop| {
                schema.property_kind(entity_type, prop)
            });
            let kind = match kind {
                PropertyKind::Phone
                | PropertyKind::Email
                | PropertyKind::Iban
                | PropertyKind::Plate
                | PropertyKind::Identifier
                | PropertyKind::Url => kind,
                _ => PropertyKind::Name,
            };
            let new_label = p.value(kind, "label", label);
            let new_source = source_id.as_deref().map(|s| p.shaped("key", s));
            update.execute(params![new_label, new_source, id])?;
        }
        rows.len() as u64
    };

    let links = {
        let rows: Vec<(i64, Option<String>, Option<String>)> = {
            let mut stmt = conn.prepare("SELECT id, label, source_id FROM links")?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<_, _>>()?
        };
        let mut update = conn.prepare(
            "UPDATE links SET label = ?1, source_id = ?2, prov_file = NULL, prov_record = NULL \
             WHERE id = ?3",
        )?;
        for (id, label, source_id) in &rows {
            let label = label.as_deref().map(|l| p.words(l));
            let source = source_id.as_deref().map(|s| p.shaped("key", s));
            update.execute(params![label, source, id])?;
        }
        rows.len() as u64
    };

    let events = {
        let rows: Vec<(i64, i64, Option<i64>, Option<String>)> = {
            let mut stmt = conn.prepare("SELECT id, start_ms, end_ms, source_id FROM events")?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<Result<_, _>>()?
        };
        let mut update = conn.prepare(
            "UPDATE events SET start_ms = ?1, end_ms = ?2, source_id = ?3, time_text = NULL, \
             prov_file = NULL, prov_record = NULL WHERE id = ?4",
        )?;
        for (id, start, end, source_id) in &rows {
            let source = source_id.as_deref().map(|s| p.shaped("key", s));
            update.execute(params![
                p.time_ms(*start),
                end.map(|e| p.time_ms(e)),
                source,
                id
            ])?;
        }
        rows.len() as u64
    };
    conn.execute(
        "UPDATE entities SET prov_record = NULL WHERE prov_record IS NOT NULL",
        [],
    )?;
    conn.execute(
        "UPDATE attributes SET prov_file = NULL, prov_record = NULL",
        [],
    )?;
    conn.execute_batch("DROP TABLE temp.attributes_original;")?;

    rewrite_notes(conn, p)?;
    rewrite_batches(conn, p)?;
    rewrite_merges(conn, p)?;
    Ok([entities, links, events, attributes])
}

/// Each entity's type, by id, and (for the labels) a copy of the original attribute values
/// in a temporary table.
fn entity_types(conn: &Connection) -> Result<HashMap<i64, String>, StoreError> {
    conn.execute_batch(
        "DROP TABLE IF EXISTS temp.attributes_original;
         CREATE TEMP TABLE attributes_original AS
             SELECT owner_id, property, value FROM attributes WHERE owner_kind = 'entity';
         CREATE INDEX temp.attributes_original_owner ON attributes_original(owner_id, value);",
    )?;
    let mut stmt = conn.prepare("SELECT id, type FROM entities")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn rewrite_notes(conn: &Connection, p: &mut Pseudonymiser) -> Result<(), StoreError> {
    let rows: Vec<(i64, String, Option<String>, String, String)> = {
        let mut stmt =
            conn.prepare("SELECT id, text, source_ref, actor, created_utc FROM notes")?;
        stmt.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_, _>>()?
    };
    let mut update = conn.prepare(
        "UPDATE notes SET text = ?1, source_ref = ?2, actor = ?3, created_utc = ?4 WHERE id = ?5",
    )?;
    for (id, text, source_ref, actor, created) in &rows {
        update.execute(params![
            p.words(text),
            source_ref.as_deref().map(|s| p.words(s)),
            p.words(actor),
            p.timestamp(created),
            id
        ])?;
    }
    Ok(())
}

fn rewrite_batches(conn: &Connection, p: &mut Pseudonymiser) -> Result<(), StoreError> {
    let rows: Vec<(i64, String, String)> = {
        let mut stmt = conn.prepare("SELECT id, created_utc, actor FROM batches")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?
    };
    let mut update = conn.prepare(
        "UPDATE batches SET description = ?1, source_path = NULL, source_sha256 = NULL, \
         source_bytes = NULL, spec = NULL, created_utc = ?2, actor = ?3, \
         purpose = 'pseudonymised training copy' WHERE id = ?4",
    )?;
    for (id, created, actor) in &rows {
        update.execute(params![
            format!("batch {id} (pseudonymised)"),
            p.timestamp(created),
            p.words(actor),
            id
        ])?;
    }
    Ok(())
}

/// Merge records keep the absorbed entity's label, key and source file: replaced the same way
/// as the entity's own (so a split in the copy brings back a pseudonymised entity).
fn rewrite_merges(conn: &Connection, p: &mut Pseudonymiser) -> Result<(), StoreError> {
    let rows: Vec<(i64, String)> = {
        let mut stmt = conn.prepare("SELECT id, record FROM merges")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?
    };
    let mut update = conn.prepare("UPDATE merges SET record = ?1 WHERE id = ?2")?;
    for (id, record) in &rows {
        let mut value: serde_json::Value = serde_json::from_str(record)?;
        if let Some(obj) = value.as_object_mut() {
            if let Some(label) = obj
                .get("label")
                .and_then(|l| l.as_str())
                .map(str::to_string)
            {
                obj.insert("label".into(), p.words(&label).into());
            }
            if let Some(key) = obj
                .get("source_id")
                .and_then(|l| l.as_str())
                .map(str::to_string)
            {
                obj.insert("source_id".into(), p.shaped("key", &key).into());
            }
            if let Some(prov) = obj.get_mut("provenance").and_then(|v| v.as_object_mut()) {
                prov.insert("source_file".into(), serde_json::Value::Null);
                prov.insert("record".into(), serde_json::Value::Null);
            }
        }
        update.execute(params![value.to_string(), id])?;
    }
    Ok(())
}
