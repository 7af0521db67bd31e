//! The one write path of the store: checked inserts of entities, attribute values, links and
//! events, one row at a time for commands or buffered many rows per statement for batches
//! ([`BatchWriter`], what imports, the generator and test fixtures write through).

use super::*;

/// Prepared statements for inserts (an import batch reuses them for every row). A streamed
/// batch's inserter also has a [`Bulk`] side that buffers events, participants, links and
/// their attributes and writes them many rows per statement.
pub(super) struct Inserter<'c> {
    conn: &'c Connection,
    entity: Statement<'c>,
    attribute: Statement<'c>,
    link: Statement<'c>,
    event: Statement<'c>,
    participant: Statement<'c>,
    entity_exists: Statement<'c>,
    /// Entities known to exist: created through this inserter or checked once. An inserter
    /// lives inside one transaction that only inserts, so a checked entity cannot vanish, and
    /// a bulk import need not query the same endpoint for every row.
    known_entities: IdBits,
    bulk: Option<Bulk<'c>>,
}

/// Checks an attribute and returns its normalised value.
fn check_attribute(
    ctx: &ExecContext<'_>,
    owner: ItemRef,
    owner_type: &str,
    attr: &NewAttribute,
) -> Result<Option<String>, StoreError> {
    if attr.property.trim().is_empty() {
        return Err(invalid(format!(
            "{owner}: an attribute has no property name"
        )));
    }
    let kind = ctx.schema.property_kind(owner_type, &attr.property);
    let normalized = normalize_value(kind, &attr.property, &attr.value)
        .map_err(|e| invalid(format!("{owner}: {e}")))?;
    ctx.check_grading(attr.grading.as_ref())?;
    Ok(normalized)
}

fn check_link(ctx: &ExecContext<'_>, l: &NewLink) -> Result<(), StoreError> {
    if l.link_type.trim().is_empty() {
        return Err(invalid(
            "a link has no type; give it one such as knows or owns",
        ));
    }
    if let Some(w) = l.weight
        && !w.is_finite()
    {
        return Err(invalid(format!(
            "a {} link has weight {w}; weights must be finite numbers",
            l.link_type
        )));
    }
    ctx.check_grading(l.grading.as_ref())
}

fn check_event(ctx: &ExecContext<'_>, e: &NewEvent) -> Result<(), StoreError> {
    if e.event_type.trim().is_empty() {
        return Err(invalid(
            "an event has no type; give it one such as Call or Meeting",
        ));
    }
    if let Some(end) = e.time.end_ms
        && end < e.time.start_ms
    {
        return Err(invalid(format!(
            "a {} event ends before it starts; check the start and end times",
            e.event_type
        )));
    }
    ctx.check_grading(e.grading.as_ref())
}

impl<'c> Inserter<'c> {
    pub(super) fn new(conn: &'c Connection) -> Result<Self, StoreError> {
        Ok(Inserter {
            conn,
            entity: conn.prepare(
                "INSERT INTO entities (type, label, source_id, category, restricted, prov_batch, \
                 prov_file, prov_record, grade_scheme, grade_source, grade_info, grade_handling) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?,
            // The same statements and bindings as the bulk writer's, one row at a time.
            attribute: conn.prepare(&insert_sql::<AttributeRow>(1))?,
            link: conn.prepare(&insert_sql::<LinkRow>(1))?,
            event: conn.prepare(&insert_sql::<EventRow>(1))?,
            participant: conn
                .prepare("INSERT INTO participants (event, role, entity) VALUES (?1, ?2, ?3)")?,
            entity_exists: conn.prepare("SELECT 1 FROM entities WHERE id = ?1")?,
            known_entities: IdBits::default(),
            bulk: None,
        })
    }

    /// An inserter for a streamed batch (see [`Bulk`]).
    fn bulk(conn: &'c Connection) -> Result<Self, StoreError> {
        let mut ins = Self::new(conn)?;
        ins.bulk = Some(Bulk::new(conn)?);
        Ok(ins)
    }

    pub(super) fn attribute(
        &mut self,
        ctx: &ExecContext<'_>,
        owner: ItemRef,
        owner_type: &str,
        attr: NewAttribute,
    ) -> Result<AttributeId, StoreError> {
        let normalized = check_attribute(ctx, owner, owner_type, &attr)?;
        if let Some(bulk) = &mut self.bulk {
            return Ok(AttributeId(match owner {
                ItemRef::Entity(id) => bulk.entity_attribute(id.0, &attr, normalized.as_deref())?,
                _ => bulk.attribute(owner, attr, normalized)?,
            }));
        }
        self.insert_attribute(owner, &attr, normalized.as_deref())
    }

    /// Writes an attribute row through the single-row statement.
    fn insert_attribute(
        &mut self,
        owner: ItemRef,
        attr: &NewAttribute,
        normalized: Option<&str>,
    ) -> Result<AttributeId, StoreError> {
        bind_attribute(
            &mut self.attribute,
            1,
            (owner.kind_str(), owner.raw()),
            attr,
            normalized,
        )?;
        self.attribute.raw_execute()?;
        Ok(AttributeId(self.conn.last_insert_rowid()))
    }

    pub(super) fn entity(
        &mut self,
        ctx: &ExecContext<'_>,
        e: &NewEntity,
    ) -> Result<EntityId, StoreError> {
        ctx.schema.entity_type(&e.entity_type)?;
        require_label(&e.label, "entity")?;
        ctx.check_grading(e.grading.as_ref())?;
        if let Some(bulk) = &mut self.bulk {
            // Buffered like links: a 100k-node graph's entities in 64-row INSERTs rather than
            // one statement each (BENCHMARKS.md, issue 18).
            let id = EntityId(bulk.entity(e)?);
            self.known_entities.insert(id.0);
            for attr in &e.attributes {
                let normalized = check_attribute(ctx, ItemRef::Entity(id), &e.entity_type, attr)?;
                bulk.entity_attribute(id.0, attr, normalized.as_deref())?;
            }
            return Ok(id);
        }
        let g = grade_cols(e.grading.as_ref());
        let p = &e.provenance;
        let id = EntityId(self.entity.insert(params![
            e.entity_type,
            e.label,
            e.source_id,
            e.category.map(PersonCategory::as_str),
            e.restricted,
            p.batch.map(|b| b.0),
            p.source_file,
            p.record,
            g[0],
            g[1],
            g[2],
            g[3]
        ])?);
        self.known_entities.insert(id.0);
        for attr in &e.attributes {
            let owner = ItemRef::Entity(id);
            let normalized = check_attribute(ctx, owner, &e.entity_type, attr)?;
            self.insert_attribute(owner, attr, normalized.as_deref())?;
        }
        Ok(id)
    }

    fn resolve(&mut self, r: EntityRef) -> Result<EntityId, StoreError> {
        match r {
            EntityRef::New(i) => Err(invalid(format!(
                "a link or event names new entity #{i}; write the entity first and name it by \
                 the id that returns"
            ))),
            EntityRef::Existing(id) => {
                if self.known_entities.contains(id.0) {
                    Ok(id)
                } else if self.entity_exists.exists([id.0])? {
                    self.known_entities.insert(id.0);
                    Ok(id)
                } else {
                    Err(StoreError::Missing {
                        what: "entity",
                        id: id.to_string(),
                    })
                }
            }
        }
    }

    pub(super) fn link(
        &mut self,
        ctx: &ExecContext<'_>,
        mut l: NewLink,
    ) -> Result<LinkId, StoreError> {
        check_link(ctx, &l)?;
        let source = self.resolve(l.source)?;
        let target = self.resolve(l.target)?;
        let attributes = std::mem::take(&mut l.attributes);
        let id = match &mut self.bulk {
            Some(bulk) => LinkId(bulk.link(l, source.0, target.0)?),
            None => {
                bind_link(&mut self.link, 1, source.0, target.0, &l)?;
                self.link.raw_execute()?;
                LinkId(self.conn.last_insert_rowid())
            }
        };
        for attr in attributes {
            self.attribute(ctx, ItemRef::Link(id), "", attr)?;
        }
        Ok(id)
    }

    pub(super) fn event(
        &mut self,
        ctx: &ExecContext<'_>,
        mut e: NewEvent,
    ) -> Result<crate::model::EventId, StoreError> {
        check_event(ctx, &e)?;
        let participants = std::mem::take(&mut e.participants);
        let attributes = std::mem::take(&mut e.attributes);
        let id = match &mut self.bulk {
            Some(bulk) => crate::model::EventId(bulk.event(e)?),
            None => {
                bind_event(&mut self.event, 1, &e)?;
                self.event.raw_execute()?;
                crate::model::EventId(self.conn.last_insert_rowid())
            }
        };
        for participant in &participants {
            let entity = self.resolve(participant.entity)?;
            match &mut self.bulk {
                Some(bulk) => bulk.participant(id.0, participant.role.as_str(), entity.0)?,
                None => {
                    self.participant
                        .execute(params![id.0, participant.role.as_str(), entity.0])?;
                }
            }
        }
        for attr in attributes {
            self.attribute(ctx, ItemRef::Event(id), "", attr)?;
        }
        Ok(id)
    }
}

/// Inserts the row that describes an import batch and returns its id.
pub(crate) fn insert_batch_row(
    conn: &Connection,
    ctx: &ExecContext<'_>,
    b: &NewBatch,
    counts: &serde_json::Value,
) -> Result<BatchId, StoreError> {
    if b.kind.trim().is_empty() {
        return Err(invalid(
            "an import batch needs a kind (import, generator or manual)",
        ));
    }
    ctx.check_grading(b.grading.as_ref())?;
    let g = grade_cols(b.grading.as_ref());
    conn.execute(
        "INSERT INTO batches (kind, description, source_path, source_sha256, source_bytes, \
         created_utc, actor, purpose, spec, counts, review_date, grade_scheme, grade_source, \
         grade_info, grade_handling) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            b.kind,
            b.description,
            b.source_path,
            b.source_sha256,
            b.source_bytes.map(|n| n as i64),
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            ctx.actor_label,
            ctx.purpose,
            b.spec.as_ref().map(serde_json::Value::to_string),
            counts.to_string(),
            b.review_date,
            g[0],
            g[1],
            g[2],
            g[3]
        ],
    )?;
    Ok(BatchId(conn.last_insert_rowid()))
}

/// Writes the rows of one streamed import batch (see `Case::import_streamed`). Every item
/// gets the batch in its provenance; rows are written as they come (a few dozen at a time, see
/// `bulk.rs`), so memory stays bounded.
pub struct BatchWriter<'c> {
    ins: Inserter<'c>,
    ctx: ExecContext<'c>,
    pub(in crate::store) conn: &'c Connection,
    batch: BatchId,
    find_by_identifier: Statement<'c>,
    pub(crate) entities: u64,
    pub(crate) links: u64,
    pub(crate) events: u64,
    pub(crate) attributes: u64,
    /// Document pages (`documents.rs`).
    pub(crate) pages: u64,
}

impl<'c> BatchWriter<'c> {
    pub(crate) fn new(
        conn: &'c Connection,
        ctx: ExecContext<'c>,
        batch: BatchId,
    ) -> Result<Self, StoreError> {
        Ok(BatchWriter {
            ins: Inserter::bulk(conn)?,
            ctx,
            conn,
            batch,
            // INDEXED BY: with ORDER BY owner_id, SQLite otherwise walks the owner index and
            // scans every entity attribute per lookup (measured: 84 % of a 1M-row import's
            // CPU; 5.9 ms → 0.016 ms per lookup with the identifier index).
            find_by_identifier: conn.prepare(
                "SELECT a.owner_id FROM attributes a INDEXED BY attributes_normalized \
                 JOIN entities e ON e.id = a.owner_id \
                 WHERE a.owner_kind = 'entity' AND a.property = ?1 AND a.normalized = ?2 \
                 AND e.type = ?3 ORDER BY a.owner_id LIMIT 1",
            )?,
            entities: 0,
            links: 0,
            events: 0,
            attributes: 0,
            pages: 0,
        })
    }

    /// The batch being written.
    pub fn batch_id(&self) -> BatchId {
        self.batch
    }

    /// Sets how many rows the batch writes before it drops the evidence tables' secondary
    /// indexes and rebuilds them at the end (default 50 000, and never before the batch is
    /// as large as what the case held). For tests of that mode on small data.
    #[doc(hidden)]
    pub fn defer_indexes_after(&mut self, rows: u64) {
        if let Some(bulk) = &mut self.ins.bulk {
            bulk.defer_indexes_after(rows);
        }
    }

    fn bulk(&mut self) -> Option<&mut Bulk<'c>> {
        self.ins.bulk.as_mut()
    }

    /// Writes every buffered row (the indexes stay as they are).
    pub(crate) fn flush(&mut self) -> Result<(), StoreError> {
        match self.bulk() {
            Some(bulk) => bulk.flush(),
            None => Ok(()),
        }
    }

    /// Tells the writer how many rows (entities, links, events, attribute values) the batch
    /// will about write, when the caller knows: a batch that is sure to drop the secondary
    /// indexes (see [`Self::defer_indexes_after`]) drops them before its first row rather than
    /// keeping them up to date for the first 50 000.
    pub fn expect_rows(&mut self, rows: u64) {
        if let Some(bulk) = self.bulk() {
            bulk.expect_rows(rows);
        }
    }

    /// Writes what is still buffered and rebuilds any dropped index: the end of the batch.
    pub(crate) fn finish(mut self) -> Result<(), StoreError> {
        match self.bulk() {
            Some(bulk) => bulk.finish(),
            None => Ok(()),
        }
    }

    fn stamp(&self, p: &mut Provenance) {
        p.batch = Some(self.batch);
    }

    /// Adds an entity (and its attributes).
    pub fn entity(&mut self, mut e: NewEntity) -> Result<EntityId, StoreError> {
        self.stamp(&mut e.provenance);
        for a in &mut e.attributes {
            a.provenance.batch = Some(self.batch);
        }
        let id = self.ins.entity(&self.ctx, &e)?;
        self.entities += 1;
        self.attributes += e.attributes.len() as u64;
        Ok(id)
    }

    /// Adds a link between existing entities (`EntityRef::Existing`).
    pub fn link(&mut self, mut l: NewLink) -> Result<LinkId, StoreError> {
        self.stamp(&mut l.provenance);
        for a in &mut l.attributes {
            a.provenance.batch = Some(self.batch);
        }
        let attributes = l.attributes.len() as u64;
        let id = self.ins.link(&self.ctx, l)?;
        self.links += 1;
        self.attributes += attributes;
        Ok(id)
    }

    /// Adds an event whose participants are existing entities.
    pub fn event(&mut self, mut e: NewEvent) -> Result<crate::model::EventId, StoreError> {
        self.stamp(&mut e.provenance);
        for a in &mut e.attributes {
            a.provenance.batch = Some(self.batch);
        }
        let attributes = e.attributes.len() as u64;
        let id = self.ins.event(&self.ctx, e)?;
        self.events += 1;
        self.attributes += attributes;
        Ok(id)
    }

    /// Adds an attribute value to an existing item (for example to an entity an earlier batch
    /// created, when the import matched it on an identifier).
    pub fn attribute(
        &mut self,
        owner: ItemRef,
        mut a: NewAttribute,
    ) -> Result<AttributeId, StoreError> {
        self.stamp(&mut a.provenance);
        if let Some(bulk) = self.bulk() {
            // The owner may still be in the buffer.
            if matches!(owner, ItemRef::Entity(_)) {
                bulk.flush_entities()?;
            } else {
                bulk.flush()?;
            }
        }
        require_item(self.conn, owner)?;
        let owner_type = match owner {
            ItemRef::Entity(id) => entity_type_of(self.conn, id)?,
            _ => String::new(),
        };
        let id = self.ins.attribute(&self.ctx, owner, &owner_type, a)?;
        self.attributes += 1;
        Ok(id)
    }

    /// The first entity of a type holding a property value with this normalised key (for
    /// matching incoming rows to entities already in the case, including this batch's).
    /// Entity attributes are never buffered; buffered entity rows are written first.
    pub fn find_entity_by_identifier(
        &mut self,
        entity_type: &str,
        property: &str,
        normalized: &str,
    ) -> Result<Option<EntityId>, StoreError> {
        // The lookup joins the entities table: this batch's buffered entities go in first.
        if let Some(bulk) = self.ins.bulk.as_mut() {
            bulk.flush_entities()?;
        }
        Ok(self
            .find_by_identifier
            .query_row(params![property, normalized, entity_type], |r| r.get(0))
            .optional()?
            .map(EntityId))
    }

    /// The schema of the case, for normalising values the way the store will.
    pub fn schema(&self) -> &Schema {
        self.ctx.schema
    }

    /// The case's grading schemes.
    pub fn grading_schemes(&self) -> &[GradingScheme] {
        self.ctx.schemes
    }

    /// Whether the secondary indexes are dropped right now (for tests).
    #[cfg(test)]
    pub(crate) fn indexes_deferred(&self) -> bool {
        self.ins.bulk.as_ref().is_some_and(Bulk::is_deferred)
    }
}
