//! Commands: every change to a case is one of these. `Case::apply` runs a command as one
//! transaction together with its audit record, capturing what it changes so that the command
//! can be undone and redone exactly (`undo.rs`). The rows themselves are written by the one
//! write path ([`writer`]); merges and splits keep what moved ([`merge`]).

mod merge;
mod writer;

use merge::{merge, split};
pub use writer::BatchWriter;
use writer::Inserter;
pub(crate) use writer::insert_batch_row;

use super::audit::AuditCategory;
use super::bulk::{
    AttributeRow, Bulk, EventRow, LinkRow, bind_attribute, bind_event, bind_link, insert_sql,
};
use super::error::StoreError;
use crate::model::{
    AttributeId, BatchId, ChartSnapshotId, EntityId, EntityRef, EntityTypeDef, Grading,
    GradingScheme, IdBits, ItemRef, LinkId, LinkStrength, NewAttribute, NewEntity, NewEvent,
    NewLink, NewNote, NoteId, PersonCategory, Provenance, Schema, normalize_value,
};
use rusqlite::{Connection, OptionalExtension, Statement, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Facts about an import batch (or a generator run) recorded with it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NewBatch {
    /// `import`, `generator` or `manual`.
    pub kind: String,
    /// What the batch is, in words ("call records from operator X, 2024-03").
    pub description: String,
    /// The source file as given by the user.
    pub source_path: Option<String>,
    /// SHA-256 of exactly the bytes parsed.
    pub source_sha256: Option<String>,
    pub source_bytes: Option<u64>,
    /// The mapping specification used, stored with the batch.
    pub spec: Option<serde_json::Value>,
    /// Retention review date (YYYY-MM-DD).
    pub review_date: Option<String>,
    /// The grading of the source as a whole.
    pub grading: Option<Grading>,
}

/// Every change to a case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    CreateEntity {
        entity: NewEntity,
    },
    EditEntity {
        id: EntityId,
        label: Option<String>,
        entity_type: Option<String>,
        source_id: Option<Option<String>>,
        reason: String,
    },
    SetCategory {
        ids: Vec<EntityId>,
        category: Option<PersonCategory>,
        reason: String,
    },
    AddAttribute {
        owner: ItemRef,
        attribute: NewAttribute,
    },
    EditAttribute {
        id: AttributeId,
        value: String,
        reason: String,
    },
    RemoveAttribute {
        id: AttributeId,
        reason: String,
    },
    CreateLink {
        link: NewLink,
    },
    EditLink {
        id: LinkId,
        link_type: Option<String>,
        strength: Option<LinkStrength>,
        directed: Option<bool>,
        weight: Option<Option<f64>>,
        reason: String,
    },
    CreateEvent {
        event: NewEvent,
    },
    /// Deletes items (an entity takes its links and its event participations with it). Undo
    /// brings everything back; the audit category is alteration because the values stay
    /// recoverable through undo (an erasure is a purge, which is not undoable).
    Delete {
        items: Vec<ItemRef>,
        reason: String,
    },
    /// Folds `absorb` into `keep`: attributes, links and event participations move to `keep`;
    /// each absorbed entity is recorded so that it can be split out again.
    Merge {
        keep: EntityId,
        absorb: Vec<EntityId>,
        /// How the duplicates were found ("manual", "resolve-entities: same IBAN", ...).
        method: String,
        reason: String,
    },
    /// Restores one entity absorbed by an earlier merge, with what it brought.
    Split {
        keep: EntityId,
        absorbed: EntityId,
        reason: String,
    },
    SetGrading {
        items: Vec<ItemRef>,
        grading: Option<Grading>,
        reason: String,
    },
    SetAttributeGrading {
        ids: Vec<AttributeId>,
        grading: Option<Grading>,
        reason: String,
    },
    SetRestricted {
        items: Vec<ItemRef>,
        restricted: bool,
        reason: String,
    },
    AddGradingScheme {
        scheme: GradingScheme,
    },
    AddEntityType {
        definition: EntityTypeDef,
    },
    /// Sets (or clears) when items are due for review under the retention rules.
    SetReviewDate {
        items: Vec<ItemRef>,
        /// YYYY-MM-DD; `None` clears it.
        date: Option<String>,
        reason: String,
    },
    /// Sets (or clears) when an import batch as a whole is due for review (the review list
    /// shows it; `copkit purge --batch` erases it).
    SetBatchReviewDate {
        batch: BatchId,
        /// YYYY-MM-DD; `None` clears it.
        date: Option<String>,
        reason: String,
    },
    /// An analyst's note on an item (i2's cards).
    AddNote {
        owner: ItemRef,
        note: NewNote,
    },
    /// Changes a note's text, source reference or grading (each `None` keeps it).
    EditNote {
        id: NoteId,
        text: Option<String>,
        source_ref: Option<Option<String>>,
        grading: Option<Option<Grading>>,
        reason: String,
    },
    RemoveNote {
        id: NoteId,
        reason: String,
    },
    /// Keeps the chart (working set, positions, style) under a name, with the case. The chart
    /// is the view's own JSON; the store keeps it as it is.
    SaveChartSnapshot {
        name: String,
        chart: serde_json::Value,
    },
    RemoveChartSnapshot {
        id: ChartSnapshotId,
        reason: String,
    },
}

impl Command {
    /// The command's name in the audit log and the undo menu.
    pub fn action(&self) -> &'static str {
        match self {
            Command::CreateEntity { .. } => "create entity",
            Command::EditEntity { .. } => "edit entity",
            Command::SetCategory { .. } => "set person category",
            Command::AddAttribute { .. } => "add attribute",
            Command::EditAttribute { .. } => "edit attribute",
            Command::RemoveAttribute { .. } => "remove attribute",
            Command::CreateLink { .. } => "create link",
            Command::EditLink { .. } => "edit link",
            Command::CreateEvent { .. } => "create event",
            Command::Delete { .. } => "delete",
            Command::Merge { .. } => "merge entities",
            Command::Split { .. } => "split entity",
            Command::SetGrading { .. } => "set grading",
            Command::SetAttributeGrading { .. } => "set attribute grading",
            Command::SetRestricted { .. } => "set restricted",
            Command::AddGradingScheme { .. } => "add grading scheme",
            Command::AddEntityType { .. } => "add entity type",
            Command::SetReviewDate { .. } => "set review date",
            Command::SetBatchReviewDate { .. } => "set batch review date",
            Command::AddNote { .. } => "add note",
            Command::EditNote { .. } => "edit note",
            Command::RemoveNote { .. } => "remove note",
            Command::SaveChartSnapshot { .. } => "save chart snapshot",
            Command::RemoveChartSnapshot { .. } => "remove chart snapshot",
        }
    }

    /// The LED Art. 25 category of the command.
    pub fn category(&self) -> AuditCategory {
        match self {
            Command::CreateEntity { .. }
            | Command::AddAttribute { .. }
            | Command::CreateLink { .. }
            | Command::CreateEvent { .. }
            | Command::AddNote { .. } => AuditCategory::Collection,
            Command::Merge { .. } => AuditCategory::Combination,
            _ => AuditCategory::Alteration,
        }
    }

    /// Whether the command changes the case's schema or grading schemes (caches reload).
    pub(crate) fn changes_configuration(&self) -> bool {
        matches!(
            self,
            Command::AddGradingScheme { .. } | Command::AddEntityType { .. }
        )
    }

    /// What the audit record says about the command: the command itself, with its name.
    pub(crate) fn audit_details(&self) -> serde_json::Value {
        if let Command::SaveChartSnapshot { name, chart } = self {
            // The chart itself can be megabytes of positions: the audit log keeps its digest.
            let bytes = chart.to_string();
            return json!({
                "command": "save_chart_snapshot",
                "name": name,
                "chart": {
                    "bytes": bytes.len(),
                    "sha256": crate::store::audit::sha256_hex(bytes.as_bytes()),
                },
            });
        }
        serde_json::to_value(self).unwrap_or_else(|e| json!({ "error": e.to_string() }))
    }
}

/// What applying a command did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Items the command created (empty for import batches, which report counts).
    pub created: Vec<ItemRef>,
    pub made: crate::store::Made,
    pub batch: Option<BatchId>,
    /// Extra facts for the audit record (before values, counts).
    pub(crate) audit_extra: Option<serde_json::Value>,
}

/// What a command needs besides the connection.
#[derive(Clone, Copy)]
pub(crate) struct ExecContext<'a> {
    pub schema: &'a Schema,
    pub schemes: &'a [GradingScheme],
    pub actor_label: &'a str,
    pub purpose: &'a str,
}

impl ExecContext<'_> {
    fn check_grading(&self, grading: Option<&Grading>) -> Result<(), StoreError> {
        let Some(grading) = grading else {
            return Ok(());
        };
        let scheme = self
            .schemes
            .iter()
            .find(|s| s.key == grading.scheme)
            .ok_or_else(|| crate::model::GradingError::UnknownScheme(grading.scheme.clone()))?;
        scheme.check(grading)?;
        Ok(())
    }
}

fn invalid(msg: impl Into<String>) -> StoreError {
    StoreError::Invalid(msg.into())
}

pub(super) fn grade_cols(g: Option<&Grading>) -> [Option<&str>; 4] {
    match g {
        None => [None; 4],
        Some(g) => [
            Some(g.scheme.as_str()),
            g.source.as_deref(),
            g.information.as_deref(),
            g.handling.as_deref(),
        ],
    }
}

fn require_label(label: &str, what: &str) -> Result<(), StoreError> {
    if label.trim().is_empty() {
        return Err(invalid(format!(
            "{what}: the label is empty; give it a name"
        )));
    }
    Ok(())
}

fn table_of(item: ItemRef) -> &'static str {
    match item {
        ItemRef::Entity(_) => "entities",
        ItemRef::Link(_) => "links",
        ItemRef::Event(_) => "events",
    }
}

fn require_item(conn: &Connection, item: ItemRef) -> Result<(), StoreError> {
    let sql = format!("SELECT 1 FROM {} WHERE id = ?1", table_of(item));
    if conn.prepare_cached(&sql)?.exists([item.raw()])? {
        Ok(())
    } else {
        Err(StoreError::Missing {
            what: item.kind_str(),
            id: item.to_string(),
        })
    }
}

fn entity_type_of(conn: &Connection, id: EntityId) -> Result<String, StoreError> {
    conn.query_row("SELECT type FROM entities WHERE id = ?1", [id.0], |r| {
        r.get(0)
    })
    .optional()?
    .ok_or_else(|| StoreError::Missing {
        what: "entity",
        id: id.to_string(),
    })
}

fn ids_where(conn: &Connection, sql: &str, id: i64) -> Result<Vec<i64>, StoreError> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([id], |r| r.get(0))?;
    Ok(rows.collect::<Result<Vec<i64>, _>>()?)
}

fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// Runs a command's SQL inside the caller's transaction.
pub(crate) fn execute(
    conn: &Connection,
    ctx: &ExecContext<'_>,
    command: &Command,
) -> Result<Outcome, StoreError> {
    let mut out = Outcome::default();
    match command {
        Command::CreateEntity { entity } => {
            let id = Inserter::new(conn)?.entity(ctx, entity)?;
            out.created.push(ItemRef::Entity(id));
        }
        Command::EditEntity {
            id,
            label,
            entity_type,
            source_id,
            reason,
        } => {
            require_reason(reason)?;
            let before: (String, String, Option<String>) = conn
                .query_row(
                    "SELECT type, label, source_id FROM entities WHERE id = ?1",
                    [id.0],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?
                .ok_or_else(|| StoreError::Missing {
                    what: "entity",
                    id: id.to_string(),
                })?;
            if let Some(label) = label {
                require_label(label, "entity")?;
                conn.execute(
                    "UPDATE entities SET label = ?1 WHERE id = ?2",
                    params![label, id.0],
                )?;
            }
            if let Some(t) = entity_type {
                ctx.schema.entity_type(t)?;
                conn.execute(
                    "UPDATE entities SET type = ?1 WHERE id = ?2",
                    params![t, id.0],
                )?;
            }
            if let Some(sid) = source_id {
                conn.execute(
                    "UPDATE entities SET source_id = ?1 WHERE id = ?2",
                    params![sid, id.0],
                )?;
            }
            out.audit_extra = Some(
                json!({"before": {"type": before.0, "label": before.1, "source_id": before.2}}),
            );
        }
        Command::SetCategory {
            ids,
            category,
            reason,
        } => {
            require_reason(reason)?;
            for id in ids {
                require_item(conn, ItemRef::Entity(*id))?;
                conn.execute(
                    "UPDATE entities SET category = ?1 WHERE id = ?2",
                    params![category.map(PersonCategory::as_str), id.0],
                )?;
            }
        }
        Command::AddAttribute { owner, attribute } => {
            require_item(conn, *owner)?;
            let owner_type = match owner {
                ItemRef::Entity(id) => entity_type_of(conn, *id)?,
                _ => String::new(),
            };
            Inserter::new(conn)?.attribute(ctx, *owner, &owner_type, attribute.clone())?;
        }
        Command::EditAttribute { id, value, reason } => {
            require_reason(reason)?;
            let (kind, owner, property, old): (String, i64, String, String) = conn
                .query_row(
                    "SELECT owner_kind, owner_id, property, value FROM attributes WHERE id = ?1",
                    [id.0],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?
                .ok_or_else(|| StoreError::Missing {
                    what: "attribute",
                    id: id.to_string(),
                })?;
            let owner_type = if kind == "entity" {
                entity_type_of(conn, EntityId(owner))?
            } else {
                String::new()
            };
            let normalized = normalize_value(
                ctx.schema.property_kind(&owner_type, &property),
                &property,
                value,
            )?;
            conn.execute(
                "UPDATE attributes SET value = ?1, normalized = ?2 WHERE id = ?3",
                params![value, normalized, id.0],
            )?;
            out.audit_extra = Some(json!({"before": {"value": old}}));
        }
        Command::RemoveAttribute { id, reason } => {
            require_reason(reason)?;
            let n = conn.execute("DELETE FROM attributes WHERE id = ?1", [id.0])?;
            if n == 0 {
                return Err(StoreError::Missing {
                    what: "attribute",
                    id: id.to_string(),
                });
            }
        }
        Command::CreateLink { link } => {
            let id = Inserter::new(conn)?.link(ctx, link.clone())?;
            out.created.push(ItemRef::Link(id));
        }
        Command::EditLink {
            id,
            link_type,
            strength,
            directed,
            weight,
            reason,
        } => {
            require_reason(reason)?;
            require_item(conn, ItemRef::Link(*id))?;
            if let Some(t) = link_type {
                if t.trim().is_empty() {
                    return Err(invalid("a link type cannot be empty"));
                }
                conn.execute("UPDATE links SET type = ?1 WHERE id = ?2", params![t, id.0])?;
            }
            if let Some(s) = strength {
                conn.execute(
                    "UPDATE links SET strength = ?1 WHERE id = ?2",
                    params![s.as_str(), id.0],
                )?;
            }
            if let Some(d) = directed {
                conn.execute(
                    "UPDATE links SET directed = ?1 WHERE id = ?2",
                    params![d, id.0],
                )?;
            }
            if let Some(w) = weight {
                conn.execute(
                    "UPDATE links SET weight = ?1 WHERE id = ?2",
                    params![w, id.0],
                )?;
            }
        }
        Command::CreateEvent { event } => {
            let id = Inserter::new(conn)?.event(ctx, event.clone())?;
            out.created.push(ItemRef::Event(id));
        }
        Command::Delete { items, reason } => {
            require_reason(reason)?;
            for item in items {
                require_item(conn, *item)?;
                delete_item(conn, *item)?;
            }
        }
        Command::Merge {
            keep,
            absorb,
            method,
            reason,
        } => {
            require_reason(reason)?;
            if method.trim().is_empty() {
                return Err(invalid("a merge must say how the duplicates were found"));
            }
            merge(conn, *keep, absorb)?;
        }
        Command::Split {
            keep,
            absorbed,
            reason,
        } => {
            require_reason(reason)?;
            split(conn, *keep, *absorbed)?;
            out.created.push(ItemRef::Entity(*absorbed));
        }
        Command::SetGrading {
            items,
            grading,
            reason,
        } => {
            require_reason(reason)?;
            ctx.check_grading(grading.as_ref())?;
            let g = grade_cols(grading.as_ref());
            for item in items {
                require_item(conn, *item)?;
                let sql = format!(
                    "UPDATE {} SET grade_scheme = ?1, grade_source = ?2, grade_info = ?3,                      grade_handling = ?4 WHERE id = ?5",
                    table_of(*item)
                );
                conn.execute(&sql, params![g[0], g[1], g[2], g[3], item.raw()])?;
            }
        }
        Command::SetAttributeGrading {
            ids,
            grading,
            reason,
        } => {
            require_reason(reason)?;
            ctx.check_grading(grading.as_ref())?;
            let g = grade_cols(grading.as_ref());
            for id in ids {
                let n = conn.execute(
                    "UPDATE attributes SET grade_scheme = ?1, grade_source = ?2, grade_info = ?3,                      grade_handling = ?4 WHERE id = ?5",
                    params![g[0], g[1], g[2], g[3], id.0],
                )?;
                if n == 0 {
                    return Err(StoreError::Missing {
                        what: "attribute",
                        id: id.to_string(),
                    });
                }
            }
        }
        Command::SetRestricted {
            items,
            restricted,
            reason,
        } => {
            require_reason(reason)?;
            for item in items {
                require_item(conn, *item)?;
                let sql = format!(
                    "UPDATE {} SET restricted = ?1 WHERE id = ?2",
                    table_of(*item)
                );
                conn.execute(&sql, params![restricted, item.raw()])?;
            }
        }
        Command::AddGradingScheme { scheme } => {
            scheme.validate()?;
            if ctx.schemes.iter().any(|s| s.key == scheme.key) {
                return Err(invalid(format!(
                    "grading scheme '{}' already exists in this case",
                    scheme.key
                )));
            }
            conn.execute(
                "INSERT INTO grading_schemes (key, definition) VALUES (?1, ?2)",
                params![scheme.key, serde_json::to_string(scheme)?],
            )?;
        }
        Command::AddEntityType { definition } => {
            let mut schema = ctx.schema.clone();
            schema.add_user_type(definition.clone())?;
            let stored = schema.entity_type(&definition.key)?;
            conn.execute(
                "INSERT INTO entity_types (key, definition) VALUES (?1, ?2)",
                params![stored.key, serde_json::to_string(stored)?],
            )?;
        }
        Command::SetReviewDate {
            items,
            date,
            reason,
        } => {
            require_reason(reason)?;
            if let Some(d) = date {
                check_date(d)?;
            }
            for item in items {
                require_item(conn, *item)?;
                let sql = format!(
                    "UPDATE {} SET review_date = ?1 WHERE id = ?2",
                    table_of(*item)
                );
                conn.execute(&sql, params![date, item.raw()])?;
            }
        }
        Command::SetBatchReviewDate {
            batch,
            date,
            reason,
        } => {
            require_reason(reason)?;
            if let Some(d) = date {
                check_date(d)?;
            }
            let changed = conn.execute(
                "UPDATE batches SET review_date = ?1 WHERE id = ?2",
                params![date, batch.0],
            )?;
            if changed == 0 {
                return Err(StoreError::Missing {
                    what: "batch",
                    id: batch.to_string(),
                });
            }
        }
        Command::AddNote { owner, note } => {
            require_item(conn, *owner)?;
            if note.text.trim().is_empty() {
                return Err(invalid("the note is empty; write what it should say"));
            }
            ctx.check_grading(note.grading.as_ref())?;
            let g = grade_cols(note.grading.as_ref());
            conn.execute(
                "INSERT INTO notes (owner_kind, owner_id, text, source_ref, created_utc, actor, \
                 grade_scheme, grade_source, grade_info, grade_handling) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    owner.kind_str(),
                    owner.raw(),
                    note.text,
                    note.source_ref,
                    crate::store::audit::now_utc(),
                    ctx.actor_label,
                    g[0],
                    g[1],
                    g[2],
                    g[3]
                ],
            )?;
            out.made.note = Some(NoteId(conn.last_insert_rowid()));
        }
        Command::EditNote {
            id,
            text,
            source_ref,
            grading,
            reason,
        } => {
            require_reason(reason)?;
            let before: String = conn
                .query_row("SELECT text FROM notes WHERE id = ?1", [id.0], |r| r.get(0))
                .optional()?
                .ok_or_else(|| StoreError::Missing {
                    what: "note",
                    id: id.to_string(),
                })?;
            if let Some(text) = text {
                if text.trim().is_empty() {
                    return Err(invalid(
                        "the note would be empty; remove it instead, with a reason",
                    ));
                }
                conn.execute(
                    "UPDATE notes SET text = ?1 WHERE id = ?2",
                    params![text, id.0],
                )?;
            }
            if let Some(source_ref) = source_ref {
                conn.execute(
                    "UPDATE notes SET source_ref = ?1 WHERE id = ?2",
                    params![source_ref, id.0],
                )?;
            }
            if let Some(grading) = grading {
                ctx.check_grading(grading.as_ref())?;
                let g = grade_cols(grading.as_ref());
                conn.execute(
                    "UPDATE notes SET grade_scheme = ?1, grade_source = ?2, grade_info = ?3, \
                     grade_handling = ?4 WHERE id = ?5",
                    params![g[0], g[1], g[2], g[3], id.0],
                )?;
            }
            out.audit_extra = Some(json!({"before": {"text": before}}));
        }
        Command::RemoveNote { id, reason } => {
            require_reason(reason)?;
            if conn.execute("DELETE FROM notes WHERE id = ?1", [id.0])? == 0 {
                return Err(StoreError::Missing {
                    what: "note",
                    id: id.to_string(),
                });
            }
        }
        Command::SaveChartSnapshot { name, chart } => {
            if name.trim().is_empty() {
                return Err(invalid("a chart snapshot needs a name"));
            }
            conn.execute(
                "INSERT INTO chart_snapshots (name, created_utc, actor, chart) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    name.trim(),
                    crate::store::audit::now_utc(),
                    ctx.actor_label,
                    chart.to_string()
                ],
            )?;
            out.made.chart_snapshot = Some(ChartSnapshotId(conn.last_insert_rowid()));
        }
        Command::RemoveChartSnapshot { id, reason } => {
            require_reason(reason)?;
            if conn.execute("DELETE FROM chart_snapshots WHERE id = ?1", [id.0])? == 0 {
                return Err(StoreError::Missing {
                    what: "chart snapshot",
                    id: id.to_string(),
                });
            }
        }
    }
    Ok(out)
}

/// A review date as the case keeps it: a real calendar date written YYYY-MM-DD.
pub(crate) fn check_date(date: &str) -> Result<(), StoreError> {
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map(|_| ())
        .map_err(|_| {
            invalid(format!(
                "'{date}' is not a review date; write it as YYYY-MM-DD, for example 2027-06-30"
            ))
        })
}

fn require_reason(reason: &str) -> Result<(), StoreError> {
    if reason.trim().is_empty() {
        Err(invalid(
            "this change needs a reason, which goes into the audit log",
        ))
    } else {
        Ok(())
    }
}

fn delete_item(conn: &Connection, item: ItemRef) -> Result<(), StoreError> {
    match item {
        ItemRef::Entity(id) => {
            for link in ids_where(
                conn,
                "SELECT id FROM links WHERE source = ?1 OR target = ?1",
                id.0,
            )? {
                delete_item(conn, ItemRef::Link(LinkId(link)))?;
            }
            conn.execute("DELETE FROM participants WHERE entity = ?1", [id.0])?;
            // A document's text goes with it (and leaves the full-text index by trigger).
            conn.execute("DELETE FROM document_pages WHERE entity = ?1", [id.0])?;
        }
        ItemRef::Event(id) => {
            conn.execute("DELETE FROM participants WHERE event = ?1", [id.0])?;
        }
        ItemRef::Link(_) => {}
    }
    for table in ["attributes", "notes"] {
        conn.execute(
            &format!("DELETE FROM {table} WHERE owner_kind = ?1 AND owner_id = ?2"),
            params![item.kind_str(), item.raw()],
        )?;
    }
    conn.execute(
        &format!("DELETE FROM {} WHERE id = ?1", table_of(item)),
        [item.raw()],
    )?;
    Ok(())
}
