//! Merging duplicates and splitting them out again: a merge records, per absorbed entity, its
//! own state and exactly which attribute values, link ends and event participations moved, so
//! that a split (or undo) puts everything back where it was.

use super::*;

/// The stored state of an entity absorbed by a merge, and what moved with it.
#[derive(Debug, Serialize, Deserialize)]
struct MergeRecord {
    entity_type: String,
    label: String,
    source_id: Option<String>,
    category: Option<String>,
    restricted: bool,
    provenance: Provenance,
    grading: Option<Grading>,
    moved_attributes: Vec<i64>,
    moved_link_sources: Vec<i64>,
    moved_link_targets: Vec<i64>,
    moved_participants: Vec<i64>,
    /// Notes on the absorbed entity (format 5 on).
    #[serde(default)]
    moved_notes: Vec<i64>,
    #[serde(default)]
    review_date: Option<String>,
    /// The alias attribute the merge added to keep the absorbed label, if any.
    added_alias: Option<i64>,
}

pub(super) fn merge(
    conn: &Connection,
    keep: EntityId,
    absorb: &[EntityId],
) -> Result<(), StoreError> {
    require_item(conn, ItemRef::Entity(keep))?;
    if absorb.is_empty() {
        return Err(invalid("a merge needs at least one entity to fold in"));
    }
    let keep_label: String =
        conn.query_row("SELECT label FROM entities WHERE id = ?1", [keep.0], |r| {
            r.get(0)
        })?;
    for &other in absorb {
        if other == keep {
            return Err(invalid(format!("{keep} cannot be merged into itself")));
        }
        let snapshot = crate::store::snapshot::load_entity_row(conn, other)?.ok_or_else(|| {
            StoreError::Missing {
                what: "entity",
                id: other.to_string(),
            }
        })?;
        let moved_attributes = ids_where(
            conn,
            "SELECT id FROM attributes WHERE owner_kind = 'entity' AND owner_id = ?1",
            other.0,
        )?;
        let moved_link_sources =
            ids_where(conn, "SELECT id FROM links WHERE source = ?1", other.0)?;
        let moved_link_targets =
            ids_where(conn, "SELECT id FROM links WHERE target = ?1", other.0)?;
        let moved_participants = ids_where(
            conn,
            "SELECT id FROM participants WHERE entity = ?1",
            other.0,
        )?;
        let moved_notes = ids_where(
            conn,
            "SELECT id FROM notes WHERE owner_kind = 'entity' AND owner_id = ?1",
            other.0,
        )?;
        for table in ["attributes", "notes"] {
            conn.execute(
                &format!(
                    "UPDATE {table} SET owner_id = ?1 WHERE owner_kind = 'entity' AND owner_id = ?2"
                ),
                params![keep.0, other.0],
            )?;
        }
        conn.execute(
            "UPDATE links SET source = ?1 WHERE source = ?2",
            params![keep.0, other.0],
        )?;
        conn.execute(
            "UPDATE links SET target = ?1 WHERE target = ?2",
            params![keep.0, other.0],
        )?;
        conn.execute(
            "UPDATE participants SET entity = ?1 WHERE entity = ?2",
            params![keep.0, other.0],
        )?;
        // The absorbed label stays findable as an alias of the kept entity.
        let added_alias = if snapshot.label != keep_label {
            conn.execute(
                "INSERT INTO attributes (owner_kind, owner_id, property, value, normalized,                  prov_batch, prov_file, prov_record) VALUES ('entity', ?1, 'alias', ?2, ?3, ?4, ?5, ?6)",
                params![
                    keep.0,
                    snapshot.label,
                    snapshot.label.to_lowercase(),
                    snapshot.provenance.batch.map(|b| b.0),
                    snapshot.provenance.source_file,
                    snapshot.provenance.record
                ],
            )?;
            Some(conn.last_insert_rowid())
        } else {
            None
        };
        let record = MergeRecord {
            entity_type: snapshot.entity_type,
            label: snapshot.label,
            source_id: snapshot.source_id,
            category: snapshot.category.map(|c| c.as_str().to_string()),
            restricted: snapshot.restricted,
            provenance: snapshot.provenance,
            grading: snapshot.grading,
            moved_attributes,
            moved_link_sources,
            moved_link_targets,
            moved_participants,
            moved_notes,
            review_date: snapshot.review_date,
            added_alias,
        };
        conn.execute(
            "INSERT INTO merges (keep, absorbed, record) VALUES (?1, ?2, ?3)",
            params![keep.0, other.0, serde_json::to_string(&record)?],
        )?;
        conn.execute("DELETE FROM entities WHERE id = ?1", [other.0])?;
    }
    Ok(())
}

pub(super) fn split(
    conn: &Connection,
    keep: EntityId,
    absorbed: EntityId,
) -> Result<(), StoreError> {
    let (merge_id, record): (i64, String) = conn
        .query_row(
            "SELECT id, record FROM merges WHERE keep = ?1 AND absorbed = ?2 AND active = 1              ORDER BY id DESC LIMIT 1",
            params![keep.0, absorbed.0],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or_else(|| {
            invalid(format!("{absorbed} was not merged into {keep}, so it cannot be split out"))
        })?;
    let record: MergeRecord = serde_json::from_str(&record)?;
    let g = grade_cols(record.grading.as_ref());
    conn.execute(
        "INSERT INTO entities (id, type, label, source_id, category, restricted, prov_batch, \
         prov_file, prov_record, grade_scheme, grade_source, grade_info, grade_handling, \
         review_date) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            absorbed.0,
            record.entity_type,
            record.label,
            record.source_id,
            record.category,
            record.restricted,
            record.provenance.batch.map(|b| b.0),
            record.provenance.source_file,
            record.provenance.record,
            g[0],
            g[1],
            g[2],
            g[3],
            record.review_date
        ],
    )?;
    let back = |sql: &str, ids: &[i64]| -> Result<(), StoreError> {
        if !ids.is_empty() {
            conn.execute(
                &sql.replace("{ids}", &id_list(ids)),
                params![absorbed.0, keep.0],
            )?;
        }
        Ok(())
    };
    back(
        "UPDATE attributes SET owner_id = ?1 WHERE owner_kind = 'entity' AND owner_id = ?2 AND id IN ({ids})",
        &record.moved_attributes,
    )?;
    back(
        "UPDATE notes SET owner_id = ?1 WHERE owner_kind = 'entity' AND owner_id = ?2 AND id IN ({ids})",
        &record.moved_notes,
    )?;
    back(
        "UPDATE links SET source = ?1 WHERE source = ?2 AND id IN ({ids})",
        &record.moved_link_sources,
    )?;
    back(
        "UPDATE links SET target = ?1 WHERE target = ?2 AND id IN ({ids})",
        &record.moved_link_targets,
    )?;
    back(
        "UPDATE participants SET entity = ?1 WHERE entity = ?2 AND id IN ({ids})",
        &record.moved_participants,
    )?;
    if let Some(alias) = record.added_alias {
        conn.execute("DELETE FROM attributes WHERE id = ?1", [alias])?;
    }
    conn.execute("UPDATE merges SET active = 0 WHERE id = ?1", [merge_id])?;
    Ok(())
}

impl crate::store::Case {
    /// The entities merged into `keep` that can be split out again, with their labels, oldest
    /// merge first.
    pub fn absorbed_into(&self, keep: EntityId) -> Result<Vec<(EntityId, String)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT absorbed, record FROM merges WHERE keep = ?1 AND active = 1 ORDER BY id",
        )?;
        let rows = stmt.query_map([keep.0], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (absorbed, record) = row?;
            let label = serde_json::from_str::<MergeRecord>(&record)
                .map(|m| m.label)
                .unwrap_or_else(|_| format!("E{absorbed}"));
            out.push((EntityId(absorbed), label));
        }
        Ok(out)
    }
}
