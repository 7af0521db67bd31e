//! Bulk writing for streamed import batches (`BatchWriter`): rows of events, their
//! participants, links and event and link attributes are buffered and written many per INSERT
//! statement, with their ids assigned here; and a batch that is large next to the case drops
//! the secondary indexes of the evidence tables and builds them again before it commits, in
//! the same transaction (so a failed or interrupted batch leaves the old file, indexes
//! included, exactly as it was).
//!
//! Why (BENCHMARKS.md, issues 3 and 4): each single-row INSERT into an AUTOINCREMENT table
//! also reads and rewrites `sqlite_sequence` and pays the statement's set-up and tear-down; a
//! multi-row INSERT pays them once per chunk. And keeping an index on a random key
//! (participants by entity, links by endpoint, attribute values) up to date row by row costs
//! several times what sorting all keys once in `CREATE INDEX` costs.
//!
//! The writer knows a buffered row's id before the row is written: SQLite's AUTOINCREMENT
//! gives each new row one past the largest id the table ever had (`sqlite_sequence`), so ids
//! are counted up from there in the order rows are handed over, and rows are written in that
//! order (nothing else writes to these tables while a batch's transaction is open). Each
//! write checks that SQLite gave the last row the id counted for it. The INSERTs leave the id
//! to SQLite and use `OR FAIL`: a multi-row INSERT that could abort half-way (an explicit id
//! might be a duplicate; a NOT NULL violation aborts by default) makes SQLite keep a
//! statement journal, writing every page it touches to a temporary file first. A failed
//! INSERT fails the whole batch, whose transaction is then rolled back.

use super::command::grade_cols;
use super::error::StoreError;
use crate::model::{ItemRef, NewAttribute, NewEntity, NewEvent, NewLink, PersonCategory};
use rusqlite::types::ToSqlOutput;
use rusqlite::{Connection, Statement, ToSql};

/// Rows per multi-row INSERT (at most 17 columns × 64 = 1 088 parameters, far below SQLite's
/// limit of 32 766).
const CHUNK: usize = 64;

/// A batch drops and rebuilds the secondary indexes once it has written at least this many
/// rows ...
pub(super) const DEFER_MIN_ROWS: u64 = 50_000;

/// The page cache, in KiB as `PRAGMA cache_size` takes it (negative), while dropped indexes
/// are built again: half this machine's 1 MiB L2 cache (see [`create_indexes`]). Measured on
/// 3M participants by entity, three runs each: 256 KiB 2.2 s, 512 KiB 2.4 s, 2 MB (SQLite's
/// default) 2.7 s, 4 MB 3.2 s, 256 MB 6.0 s.
const REBUILD_CACHE_KIB: i64 = -512;

/// The tables whose secondary indexes a large batch rebuilds instead of maintaining.
const EVIDENCE_TABLES: [&str; 5] = ["entities", "attributes", "links", "events", "participants"];

/// One table's buffered rows.
pub(super) trait Row {
    /// `table (columns)` of the INSERT.
    const INTO: &'static str;
    const COLUMNS: usize;
    /// Positions of the columns that usually hold one value for a whole batch (type,
    /// provenance, grading). When every row of a chunk agrees on some of them, the chunk's
    /// INSERT binds those values once instead of once per row (see [`Table::flush`]).
    const SHARED: &'static [usize];
    /// The id counted for the row (SQLite assigns it; see the module comment).
    fn id(&self) -> i64;
    /// Calls `f` with this row's values in column order.
    fn with_values<T>(&self, f: impl FnOnce(&[&dyn ToSql]) -> T) -> T;
}

fn bind_all(stmt: &mut Statement<'_>, at: usize, values: &[&dyn ToSql]) -> rusqlite::Result<()> {
    for (k, v) in values.iter().enumerate() {
        stmt.raw_bind_parameter(at + k, v)?;
    }
    Ok(())
}

/// `INSERT INTO table (columns) VALUES (?, …), …` for `rows` rows.
pub(super) fn insert_sql<R: Row>(rows: usize) -> String {
    let one = format!("({})", vec!["?"; R::COLUMNS].join(", "));
    format!(
        "INSERT OR FAIL INTO {} VALUES {}",
        R::INTO,
        vec![one; rows].join(", ")
    )
}

/// The INSERT of `rows` rows that share the values of the columns in `shared` (a bit per
/// column position): those are parameters `?1`, `?2`, … in column order, and each row's own
/// columns follow, row after row.
fn shared_insert_sql<R: Row>(rows: usize, shared: u32) -> String {
    let n_shared = shared.count_ones() as usize;
    let own = R::COLUMNS - n_shared;
    let tuples: Vec<String> = (0..rows)
        .map(|i| {
            let (mut s, mut k) = (0, 0);
            let params: Vec<String> = (0..R::COLUMNS)
                .map(|c| {
                    if shared & (1 << c) != 0 {
                        s += 1;
                        format!("?{s}")
                    } else {
                        k += 1;
                        format!("?{}", n_shared + i * own + k)
                    }
                })
                .collect();
            format!("({})", params.join(", "))
        })
        .collect();
    format!(
        "INSERT OR FAIL INTO {} VALUES {}",
        R::INTO,
        tuples.join(", ")
    )
}

pub(super) struct EntityRow {
    id: i64,
    /// Its attributes are written apart (at once: the identifier lookup reads them), so
    /// this holds none.
    entity: NewEntity,
}

impl Row for EntityRow {
    const INTO: &'static str = "entities (type, label, source_id, category, restricted, \
        prov_batch, prov_file, prov_record, grade_scheme, grade_source, grade_info, \
        grade_handling)";
    const COLUMNS: usize = 12;
    // type, restricted, prov_batch, prov_file, the four grade columns.
    const SHARED: &'static [usize] = &[0, 4, 5, 6, 8, 9, 10, 11];
    fn id(&self) -> i64 {
        self.id
    }
    fn with_values<T>(&self, f: impl FnOnce(&[&dyn ToSql]) -> T) -> T {
        let e = &self.entity;
        let p = &e.provenance;
        let batch = p.batch.map(|b| b.0);
        let category = e.category.map(PersonCategory::as_str);
        let g = grade_cols(e.grading.as_ref());
        f(&[
            &e.entity_type,
            &e.label,
            &e.source_id,
            &category,
            &e.restricted,
            &batch,
            &p.source_file,
            &p.record,
            &g[0],
            &g[1],
            &g[2],
            &g[3],
        ])
    }
}

pub(super) struct EventRow {
    id: i64,
    /// Its participants and attributes are written as rows of their own.
    event: NewEvent,
}

impl Row for EventRow {
    const INTO: &'static str = "events (type, start_ms, end_ms, time_text, time_zone, \
        source_id, restricted, prov_batch, prov_file, prov_record, grade_scheme, grade_source, \
        grade_info, grade_handling)";
    const COLUMNS: usize = 14;
    // type, time_zone, restricted, prov_batch, prov_file, the four grade columns.
    const SHARED: &'static [usize] = &[0, 4, 6, 7, 8, 10, 11, 12, 13];
    fn id(&self) -> i64 {
        self.id
    }
    fn with_values<T>(&self, f: impl FnOnce(&[&dyn ToSql]) -> T) -> T {
        event_values(&self.event, f)
    }
}

pub(super) struct LinkRow {
    id: i64,
    source: i64,
    target: i64,
    /// Its attributes are written as rows of their own.
    link: NewLink,
}

impl Row for LinkRow {
    const INTO: &'static str = "links (type, source, target, directed, strength, weight, \
        label, source_id, restricted, prov_batch, prov_file, prov_record, grade_scheme, \
        grade_source, grade_info, grade_handling)";
    const COLUMNS: usize = 16;
    // type, directed, strength, restricted, prov_batch, prov_file, the four grade columns.
    const SHARED: &'static [usize] = &[0, 3, 4, 8, 9, 10, 12, 13, 14, 15];
    fn id(&self) -> i64 {
        self.id
    }
    fn with_values<T>(&self, f: impl FnOnce(&[&dyn ToSql]) -> T) -> T {
        link_values(self.source, self.target, &self.link, f)
    }
}

/// Binds one event row (the columns of [`EventRow`]). The single-row insert of
/// `command::Inserter` binds through this too, so each table's columns are listed once.
pub(super) fn bind_event(
    stmt: &mut Statement<'_>,
    at: usize,
    e: &NewEvent,
) -> rusqlite::Result<()> {
    event_values(e, |v| bind_all(stmt, at, v))
}

/// Calls `f` with the values of one event row, in the columns of [`EventRow`].
fn event_values<T>(e: &NewEvent, f: impl FnOnce(&[&dyn ToSql]) -> T) -> T {
    let p = &e.provenance;
    let batch = p.batch.map(|b| b.0);
    let g = grade_cols(e.grading.as_ref());
    f(&[
        &e.event_type,
        &e.time.start_ms,
        &e.time.end_ms,
        &e.time.original_text,
        &e.time.original_zone,
        &e.source_id,
        &e.restricted,
        &batch,
        &p.source_file,
        &p.record,
        &g[0],
        &g[1],
        &g[2],
        &g[3],
    ])
}

/// Binds one link row (the columns of [`LinkRow`]), between `source` and `target`.
pub(super) fn bind_link(
    stmt: &mut Statement<'_>,
    at: usize,
    source: i64,
    target: i64,
    l: &NewLink,
) -> rusqlite::Result<()> {
    link_values(source, target, l, |v| bind_all(stmt, at, v))
}

/// Calls `f` with the values of one link row, in the columns of [`LinkRow`].
fn link_values<T>(source: i64, target: i64, l: &NewLink, f: impl FnOnce(&[&dyn ToSql]) -> T) -> T {
    let p = &l.provenance;
    let batch = p.batch.map(|b| b.0);
    let g = grade_cols(l.grading.as_ref());
    f(&[
        &l.link_type,
        &source,
        &target,
        &l.directed,
        &l.strength.as_str(),
        &l.weight,
        &l.label,
        &l.source_id,
        &l.restricted,
        &batch,
        &p.source_file,
        &p.record,
        &g[0],
        &g[1],
        &g[2],
        &g[3],
    ])
}

struct ParticipantRow {
    id: i64,
    event: i64,
    role: &'static str,
    entity: i64,
}

impl Row for ParticipantRow {
    const INTO: &'static str = "participants (event, role, entity)";
    const COLUMNS: usize = 3;
    const SHARED: &'static [usize] = &[];
    fn id(&self) -> i64 {
        self.id
    }
    fn with_values<T>(&self, f: impl FnOnce(&[&dyn ToSql]) -> T) -> T {
        f(&[&self.event, &self.role, &self.entity])
    }
}

pub(super) struct AttributeRow {
    id: i64,
    owner_kind: &'static str,
    owner_id: i64,
    attribute: NewAttribute,
    normalized: Option<String>,
}

impl Row for AttributeRow {
    const INTO: &'static str = "attributes (owner_kind, owner_id, property, value, \
        normalized, prov_batch, prov_file, prov_record, grade_scheme, grade_source, grade_info, \
        grade_handling)";
    const COLUMNS: usize = 12;
    // owner_kind, property, normalized, prov_batch, prov_file, the four grade columns.
    const SHARED: &'static [usize] = &[0, 2, 4, 5, 6, 8, 9, 10, 11];
    fn id(&self) -> i64 {
        self.id
    }
    fn with_values<T>(&self, f: impl FnOnce(&[&dyn ToSql]) -> T) -> T {
        attribute_values(
            (self.owner_kind, self.owner_id),
            &self.attribute,
            self.normalized.as_deref(),
            f,
        )
    }
}

/// Binds one attribute row (the columns of [`AttributeRow`]): (owner kind, owner id), the
/// attribute, its normalised value.
pub(super) fn bind_attribute(
    stmt: &mut Statement<'_>,
    at: usize,
    (owner_kind, owner_id): (&str, i64),
    a: &NewAttribute,
    normalized: Option<&str>,
) -> rusqlite::Result<()> {
    attribute_values((owner_kind, owner_id), a, normalized, |v| {
        bind_all(stmt, at, v)
    })
}

/// Calls `f` with the values of one attribute row, in the columns of [`AttributeRow`].
fn attribute_values<T>(
    (owner_kind, owner_id): (&str, i64),
    a: &NewAttribute,
    normalized: Option<&str>,
    f: impl FnOnce(&[&dyn ToSql]) -> T,
) -> T {
    let p = &a.provenance;
    let batch = p.batch.map(|b| b.0);
    let g = grade_cols(a.grading.as_ref());
    f(&[
        &owner_kind,
        &owner_id,
        &a.property,
        &a.value,
        &normalized,
        &batch,
        &p.source_file,
        &p.record,
        &g[0],
        &g[1],
        &g[2],
        &g[3],
    ])
}

/// Buffered rows of one table and the statements that write them.
struct Table<'c, R: Row> {
    conn: &'c Connection,
    rows: Vec<R>,
    /// Writes exactly `CHUNK` rows.
    chunk: Statement<'c>,
    /// Writes exactly `CHUNK` rows sharing the values of some columns: (the columns as a
    /// bit set, its statement). A batch has one or two such sets per table.
    shared: Vec<(u32, Statement<'c>)>,
    /// Writes one row (for the remainder when the buffer is flushed early).
    single: Statement<'c>,
    /// The id the next row will get.
    next_id: i64,
}

/// Statements kept per table for chunks sharing column values; past this, a chunk whose
/// shared columns are a new combination is bound in full.
const MAX_SHARED_STATEMENTS: usize = 4;

impl<'c, R: Row> Table<'c, R> {
    fn new(conn: &'c Connection, table: &str) -> Result<Self, StoreError> {
        // As AUTOINCREMENT chooses: past the largest id ever used, even if since deleted.
        let next_id = conn.query_row(
            &format!(
                "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?1), 0), \
                 coalesce((SELECT max(id) FROM {table}), 0)) + 1"
            ),
            [table],
            |r| r.get(0),
        )?;
        Ok(Table {
            conn,
            rows: Vec::with_capacity(CHUNK),
            chunk: conn.prepare(&insert_sql::<R>(CHUNK))?,
            shared: Vec::new(),
            single: conn.prepare(&insert_sql::<R>(1))?,
            next_id,
        })
    }

    fn take_id(&mut self) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn push(&mut self, row: R) -> Result<(), StoreError> {
        self.rows.push(row);
        if self.rows.len() == CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    /// The columns of `R::SHARED` on whose value every buffered row agrees, as a bit set.
    fn agreed_columns(&self) -> u32 {
        let Some((first, rest)) = self.rows.split_first() else {
            return 0;
        };
        first.with_values(|v0| {
            let firsts: Vec<Option<ToSqlOutput<'_>>> =
                R::SHARED.iter().map(|&c| v0[c].to_sql().ok()).collect();
            let mut agreed: u32 = R::SHARED.iter().map(|&c| 1u32 << c).sum();
            for row in rest {
                row.with_values(|v| {
                    for (&c, want) in R::SHARED.iter().zip(&firsts) {
                        if agreed & (1 << c) != 0 && (want.is_none() || v[c].to_sql().ok() != *want)
                        {
                            agreed &= !(1 << c);
                        }
                    }
                });
                if agreed == 0 {
                    break;
                }
            }
            agreed
        })
    }

    /// Binds the full chunk to the statement for the columns in `agreed` (prepared the first
    /// time) and returns its place; `None` if that would be one statement too many.
    fn bind_shared(&mut self, agreed: u32) -> Result<Option<usize>, StoreError> {
        let at = match self.shared.iter().position(|(set, _)| *set == agreed) {
            Some(at) => at,
            None if self.shared.len() < MAX_SHARED_STATEMENTS => {
                let stmt = self.conn.prepare(&shared_insert_sql::<R>(CHUNK, agreed))?;
                self.shared.push((agreed, stmt));
                self.shared.len() - 1
            }
            None => return Ok(None),
        };
        let stmt = &mut self.shared[at].1;
        let n_shared = agreed.count_ones() as usize;
        let own = R::COLUMNS - n_shared;
        self.rows[0].with_values(|v| {
            let mut param = 0;
            for (c, value) in v.iter().enumerate() {
                if agreed & (1 << c) != 0 {
                    param += 1;
                    stmt.raw_bind_parameter(param, value)?;
                }
            }
            Ok::<(), rusqlite::Error>(())
        })?;
        for (i, row) in self.rows.iter().enumerate() {
            row.with_values(|v| {
                let mut param = n_shared + i * own;
                for (c, value) in v.iter().enumerate() {
                    if agreed & (1 << c) == 0 {
                        param += 1;
                        stmt.raw_bind_parameter(param, value)?;
                    }
                }
                Ok::<(), rusqlite::Error>(())
            })?;
        }
        Ok(Some(at))
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        let Some(last) = self.rows.last().map(R::id) else {
            return Ok(());
        };
        if self.rows.len() == CHUNK {
            // Binding is a good part of writing a row; values a whole chunk shares (the
            // batch, the file, the grading, the type) are bound once, not 64 times.
            let agreed = self.agreed_columns();
            let shared = if agreed.count_ones() >= 2 {
                self.bind_shared(agreed)?
            } else {
                None
            };
            match shared {
                Some(at) => {
                    self.shared[at].1.raw_execute()?;
                }
                None => {
                    for (i, row) in self.rows.iter().enumerate() {
                        row.with_values(|v| bind_all(&mut self.chunk, 1 + i * R::COLUMNS, v))?;
                    }
                    self.chunk.raw_execute()?;
                }
            }
        } else {
            for row in &self.rows {
                row.with_values(|v| bind_all(&mut self.single, 1, v))?;
                self.single.raw_execute()?;
            }
        }
        self.rows.clear();
        // Ids handed out must be the ones SQLite gave (rows of a statement get consecutive
        // ids, so checking the last one of each write checks them all).
        let got = self.conn.last_insert_rowid();
        if got != last {
            return Err(StoreError::Invalid(format!(
                "internal error: {} row got id {got}, expected {last}; the batch is not written",
                R::INTO.split(' ').next().unwrap_or("a")
            )));
        }
        Ok(())
    }

    /// Rows the table had before the batch (about: ids deleted since are counted).
    fn rows_before(&self) -> u64 {
        (self.next_id - 1).max(0) as u64
    }
}

/// The bulk side of a batch's inserter.
pub(super) struct Bulk<'c> {
    conn: &'c Connection,
    entities: Table<'c, EntityRow>,
    events: Table<'c, EventRow>,
    links: Table<'c, LinkRow>,
    participants: Table<'c, ParticipantRow>,
    attributes: Table<'c, AttributeRow>,
    /// Entity attributes are written at once, not buffered: the identifier lookup reads them.
    entity_attribute: Statement<'c>,
    /// Rows this batch has written (or buffered) in the evidence tables.
    written: u64,
    /// Rows in the evidence tables before the batch.
    existing: u64,
    /// When `written` reaches this, the secondary indexes are dropped (`u64::MAX`: never).
    defer_at: u64,
    /// The indexes the batch dropped: (name, CREATE INDEX statement) as `sqlite_master` had
    /// them.
    deferred: Option<Vec<(String, String)>>,
}

impl<'c> Bulk<'c> {
    pub(super) fn new(conn: &'c Connection) -> Result<Self, StoreError> {
        let entities = Table::new(conn, "entities")?;
        let events = Table::new(conn, "events")?;
        let links = Table::new(conn, "links")?;
        let participants = Table::new(conn, "participants")?;
        let attributes = Table::new(conn, "attributes")?;
        let existing = events.rows_before()
            + links.rows_before()
            + participants.rows_before()
            + attributes.rows_before()
            + entities.rows_before();
        let mut bulk = Bulk {
            conn,
            entities,
            events,
            links,
            participants,
            attributes,
            entity_attribute: conn.prepare(&insert_sql::<AttributeRow>(1))?,
            written: 0,
            existing,
            defer_at: u64::MAX,
            deferred: None,
        };
        bulk.defer_indexes_after(DEFER_MIN_ROWS);
        Ok(bulk)
    }

    /// Drops the secondary indexes once the batch has written `min_rows` rows and at least
    /// as many as the evidence tables held before it: rebuilding then costs about what the
    /// batch would otherwise spend keeping them up to date, and a small batch into a big case
    /// never rebuilds the big case's indexes.
    pub(super) fn defer_indexes_after(&mut self, min_rows: u64) {
        self.defer_at = min_rows.max(self.existing);
    }

    /// The batch will write about `rows` rows: when that reaches the point where the indexes
    /// are dropped, they are dropped at the first row.
    pub(super) fn expect_rows(&mut self, rows: u64) {
        if rows >= self.defer_at {
            self.defer_at = 0;
        }
    }

    fn wrote(&mut self, rows: u64) -> Result<(), StoreError> {
        self.written += rows;
        if self.written >= self.defer_at && self.deferred.is_none() {
            self.defer()?;
        }
        Ok(())
    }

    /// Buffers an entity row (without its attributes, which the caller writes through
    /// [`Self::entity_attribute`]) and returns the id it will have.
    pub(super) fn entity(&mut self, e: &NewEntity) -> Result<i64, StoreError> {
        let id = self.entities.take_id();
        let entity = NewEntity {
            entity_type: e.entity_type.clone(),
            label: e.label.clone(),
            source_id: e.source_id.clone(),
            category: e.category,
            restricted: e.restricted,
            provenance: e.provenance.clone(),
            grading: e.grading.clone(),
            attributes: Vec::new(),
        };
        self.entities.push(EntityRow { id, entity })?;
        self.wrote(1)?;
        Ok(id)
    }

    /// Writes the buffered entity rows (before anything reads the entities table).
    pub(super) fn flush_entities(&mut self) -> Result<(), StoreError> {
        self.entities.flush()
    }

    pub(super) fn event(&mut self, event: NewEvent) -> Result<i64, StoreError> {
        let id = self.events.take_id();
        self.events.push(EventRow { id, event })?;
        self.wrote(1)?;
        Ok(id)
    }

    pub(super) fn participant(
        &mut self,
        event: i64,
        role: &'static str,
        entity: i64,
    ) -> Result<(), StoreError> {
        let id = self.participants.take_id();
        self.participants.push(ParticipantRow {
            id,
            event,
            role,
            entity,
        })?;
        self.wrote(1)
    }

    pub(super) fn link(
        &mut self,
        link: NewLink,
        source: i64,
        target: i64,
    ) -> Result<i64, StoreError> {
        let id = self.links.take_id();
        self.links.push(LinkRow {
            id,
            source,
            target,
            link,
        })?;
        self.wrote(1)?;
        Ok(id)
    }

    /// Buffers an attribute of an event or a link.
    pub(super) fn attribute(
        &mut self,
        owner: ItemRef,
        attribute: NewAttribute,
        normalized: Option<String>,
    ) -> Result<i64, StoreError> {
        let id = self.attributes.take_id();
        self.attributes.push(AttributeRow {
            id,
            owner_kind: owner.kind_str(),
            owner_id: owner.raw(),
            attribute,
            normalized,
        })?;
        self.wrote(1)?;
        Ok(id)
    }

    /// Writes an attribute of an entity at once, after the buffered attributes (whose ids come
    /// first).
    pub(super) fn entity_attribute(
        &mut self,
        owner: i64,
        attribute: &NewAttribute,
        normalized: Option<&str>,
    ) -> Result<i64, StoreError> {
        self.attributes.flush()?;
        let id = self.attributes.take_id();
        bind_attribute(
            &mut self.entity_attribute,
            1,
            ("entity", owner),
            attribute,
            normalized,
        )?;
        self.entity_attribute.raw_execute()?;
        let got = self.conn.last_insert_rowid();
        if got != id {
            return Err(StoreError::Invalid(format!(
                "internal error: an attribute row got id {got}, expected {id}; the batch is not written"
            )));
        }
        self.wrote(1)?;
        Ok(id)
    }

    /// Writes every buffered row (before anything reads the tables).
    pub(super) fn flush(&mut self) -> Result<(), StoreError> {
        self.entities.flush()?;
        self.events.flush()?;
        self.participants.flush()?;
        self.links.flush()?;
        self.attributes.flush()
    }

    /// Drops the secondary indexes of the evidence tables (see `defer_indexes_after`).
    fn defer(&mut self) -> Result<(), StoreError> {
        let conn = self.conn;
        // The identifier index stays: the writer looks entities up by it, and it holds only
        // identifier values, few next to the rows of a large batch.
        let indexes = drop_evidence_indexes(conn, KEEP_IDENTIFIER_INDEX)?;
        // None left to drop when the case already has them dropped (`Case::defer_indexes`).
        if !indexes.is_empty() {
            tracing::debug!(
                indexes = indexes.len(),
                written = self.written,
                "large batch: secondary indexes dropped until the batch ends"
            );
        }
        self.deferred = Some(indexes);
        Ok(())
    }

    /// Writes what is buffered and builds the dropped indexes again (the batch's last step
    /// before its audit record and commit).
    pub(super) fn finish(&mut self) -> Result<(), StoreError> {
        self.flush()?;
        if let Some(indexes) = self.deferred.take() {
            create_indexes(self.conn, &indexes)?;
        }
        Ok(())
    }

    /// Whether the indexes are dropped right now (for tests).
    #[cfg(test)]
    pub(super) fn is_deferred(&self) -> bool {
        self.deferred.is_some()
    }
}

/// Indexes [`drop_evidence_indexes`] leaves in place when asked: the identifier index, which
/// writers look entities up by (partial since schema version 3, so cheap to keep).
pub(super) const KEEP_IDENTIFIER_INDEX: &[&str] = &["attributes_normalized"];

/// Drops the secondary indexes of the evidence tables but those named in `keep`, returning
/// each one's name and `CREATE INDEX` statement in name order.
pub(super) fn drop_evidence_indexes(
    conn: &Connection,
    keep: &[&str],
) -> Result<Vec<(String, String)>, StoreError> {
    let tables = EVIDENCE_TABLES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let indexes: Vec<(String, String)> = {
        let mut stmt = conn.prepare(&format!(
            "SELECT name, sql FROM main.sqlite_master WHERE type = 'index' \
             AND sql IS NOT NULL AND tbl_name IN ({tables}) ORDER BY name"
        ))?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<Vec<(String, String)>, _>>()?
            .into_iter()
            .filter(|(name, _)| !keep.contains(&name.as_str()))
            .collect()
    };
    for (name, _) in &indexes {
        conn.execute_batch(&format!(
            "DROP INDEX main.\"{}\"",
            name.replace('"', "\"\"")
        ))?;
    }
    Ok(indexes)
}

/// Creates `indexes` (name, SQL) again, inside the caller's transaction.
///
/// CREATE INDEX sorts its keys in runs as large as the page cache, then merges them. One run
/// of a batch's 256 MiB sorts more than twice as slowly as runs that fit the CPU cache
/// (`REBUILD_CACHE_KIB`), so the indexes are built with a small page cache; dirty pages
/// already written stay in the transaction either way.
pub(super) fn create_indexes(
    conn: &Connection,
    indexes: &[(String, String)],
) -> Result<(), StoreError> {
    let previous: i64 = conn.pragma_query_value(None, "cache_size", |r| r.get(0))?;
    conn.pragma_update(None, "cache_size", REBUILD_CACHE_KIB)?;
    let built = indexes.iter().try_for_each(|(name, sql)| {
        let started = std::time::Instant::now();
        conn.execute_batch(sql)?;
        tracing::debug!(
            index = name.as_str(),
            ms = started.elapsed().as_millis() as u64,
            "index built"
        );
        Ok::<(), StoreError>(())
    });
    let restored = conn.pragma_update(None, "cache_size", previous);
    built?;
    restored?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_columns_are_numbered_once_and_each_row_follows() {
        // Participants have three columns; share the first and the last.
        let sql = shared_insert_sql::<ParticipantRow>(3, 0b101);
        assert_eq!(
            sql,
            "INSERT OR FAIL INTO participants (event, role, entity) VALUES \
             (?1, ?3, ?2), (?1, ?4, ?2), (?1, ?5, ?2)"
        );
    }
}
