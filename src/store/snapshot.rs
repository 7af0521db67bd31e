//! Immutable snapshots of a case for readers: views, analysis jobs and exporters get an
//! `Arc<CaseSnapshot>` with every entity, link and event, a petgraph index over the links and
//! the generation it was taken at, cheap to hand to worker threads.

use super::error::StoreError;
use crate::model::{
    Attribute, AttributeId, BatchId, Entity, EntityId, Event, EventId, EventTime, Grading,
    GradingScheme, ItemRef, Link, LinkId, LinkStrength, Note, NoteId, Participant, ParticipantRole,
    PersonCategory, Provenance, Schema,
};
use petgraph::graph::{DiGraph, NodeIndex};
use rusqlite::{Connection, OptionalExtension, Row};
use std::collections::HashMap;

/// Everything in a case at one generation.
#[derive(Debug, Clone)]
pub struct CaseSnapshot {
    pub case_id: String,
    pub title: String,
    /// Increases with every applied command, undo and redo.
    pub generation: u64,
    pub schema: Schema,
    pub grading_schemes: Vec<GradingScheme>,
    pub default_scheme: String,
    /// Sorted by id.
    pub entities: Vec<Entity>,
    /// Sorted by id.
    pub links: Vec<Link>,
    /// Sorted by id.
    pub events: Vec<Event>,
    /// Node `i` is `entities[i]`; one edge per link, weighted by the link's position in
    /// `links`. Restricted links and links touching restricted entities are left out, since
    /// restricted items are kept for evidence but excluded from analysis.
    pub graph: DiGraph<EntityId, usize>,
    /// The named chart snapshots kept with the case (names only).
    pub chart_snapshots: Vec<super::records::ChartSnapshotInfo>,
    entity_pos: HashMap<EntityId, usize>,
    link_pos: HashMap<LinkId, usize>,
    event_pos: HashMap<EventId, usize>,
}

impl CaseSnapshot {
    pub fn entity(&self, id: EntityId) -> Option<&Entity> {
        self.entity_pos.get(&id).map(|&i| &self.entities[i])
    }

    pub fn link(&self, id: LinkId) -> Option<&Link> {
        self.link_pos.get(&id).map(|&i| &self.links[i])
    }

    pub fn event(&self, id: EventId) -> Option<&Event> {
        self.event_pos.get(&id).map(|&i| &self.events[i])
    }

    /// The graph node of an entity.
    pub fn node(&self, id: EntityId) -> Option<NodeIndex> {
        self.entity_pos.get(&id).map(|&i| NodeIndex::new(i))
    }

    /// The attributes of any item.
    pub fn attributes(&self, item: ItemRef) -> &[Attribute] {
        match item {
            ItemRef::Entity(id) => self.entity(id).map_or(&[], |e| &e.attributes),
            ItemRef::Link(id) => self.link(id).map_or(&[], |l| &l.attributes),
            ItemRef::Event(id) => self.event(id).map_or(&[], |e| &e.attributes),
        }
    }

    /// The grading scheme with this key.
    pub fn scheme(&self, key: &str) -> Option<&GradingScheme> {
        self.grading_schemes.iter().find(|s| s.key == key)
    }

    /// Builds the indexes and the graph from loaded items.
    pub fn assemble(
        header: SnapshotHeader,
        entities: Vec<Entity>,
        links: Vec<Link>,
        events: Vec<Event>,
    ) -> CaseSnapshot {
        let entity_pos: HashMap<EntityId, usize> = entities
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id, i))
            .collect();
        let link_pos = links.iter().enumerate().map(|(i, l)| (l.id, i)).collect();
        let event_pos = events.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
        let mut graph = DiGraph::with_capacity(entities.len(), links.len());
        for e in &entities {
            graph.add_node(e.id);
        }
        for (i, link) in links.iter().enumerate() {
            let (Some(&s), Some(&t)) = (entity_pos.get(&link.source), entity_pos.get(&link.target))
            else {
                continue;
            };
            if link.restricted || entities[s].restricted || entities[t].restricted {
                continue;
            }
            graph.add_edge(NodeIndex::new(s), NodeIndex::new(t), i);
        }
        CaseSnapshot {
            case_id: header.case_id,
            title: header.title,
            generation: header.generation,
            schema: header.schema,
            grading_schemes: header.grading_schemes,
            default_scheme: header.default_scheme,
            entities,
            links,
            events,
            graph,
            chart_snapshots: Vec::new(),
            entity_pos,
            link_pos,
            event_pos,
        }
    }
}

/// The case-level facts a snapshot carries.
#[derive(Debug, Clone)]
pub struct SnapshotHeader {
    pub case_id: String,
    pub title: String,
    pub generation: u64,
    pub schema: Schema,
    pub grading_schemes: Vec<GradingScheme>,
    pub default_scheme: String,
}

const PROV_GRADE_COLS: &str =
    "prov_batch, prov_file, prov_record, grade_scheme, grade_source, grade_info, grade_handling";

/// Reads provenance and grading from 7 columns starting at `at`.
fn prov_grade(r: &Row<'_>, at: usize) -> rusqlite::Result<(Provenance, Option<Grading>)> {
    let provenance = Provenance {
        batch: r.get::<_, Option<i64>>(at)?.map(BatchId),
        source_file: r.get(at + 1)?,
        record: r.get(at + 2)?,
    };
    let scheme: Option<String> = r.get(at + 3)?;
    let grading = match scheme {
        None => None,
        Some(scheme) => Some(Grading {
            scheme,
            source: r.get(at + 4)?,
            information: r.get(at + 5)?,
            handling: r.get(at + 6)?,
        }),
    };
    Ok((provenance, grading))
}

fn decode_err(what: &str, value: &str, why: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("bad {what} '{value}': {why}").into(),
    )
}

fn entity_from_row(r: &Row<'_>) -> rusqlite::Result<Entity> {
    let category: Option<String> = r.get(4)?;
    let category = match category {
        None => None,
        Some(c) => Some(
            c.parse::<PersonCategory>()
                .map_err(|e| decode_err("person category", &c, &e))?,
        ),
    };
    let (provenance, grading) = prov_grade(r, 6)?;
    Ok(Entity {
        id: EntityId(r.get(0)?),
        entity_type: r.get(1)?,
        label: r.get(2)?,
        source_id: r.get(3)?,
        category,
        restricted: r.get(5)?,
        provenance,
        grading,
        attributes: Vec::new(),
        review_date: r.get(13)?,
        notes: Vec::new(),
    })
}

/// One entity without its attributes (used by merges to remember what they absorbed).
pub(crate) fn load_entity_row(
    conn: &Connection,
    id: EntityId,
) -> Result<Option<Entity>, StoreError> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT id, type, label, source_id, category, restricted, {PROV_GRADE_COLS}, \
                 review_date FROM entities WHERE id = ?1"
            ),
            [id.0],
            entity_from_row,
        )
        .optional()?)
}

/// Every note of the case, by owner, oldest first.
fn load_notes(conn: &Connection) -> Result<HashMap<ItemRef, Vec<Note>>, StoreError> {
    let mut out: HashMap<ItemRef, Vec<Note>> = HashMap::new();
    let mut stmt = conn.prepare(
        "SELECT id, owner_kind, owner_id, text, source_ref, created_utc, actor, NULL, NULL, \
         NULL, grade_scheme, grade_source, grade_info, grade_handling FROM notes ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let id = NoteId(r.get(0)?);
        let kind: String = r.get(1)?;
        let owner = ItemRef::from_parts(&kind, r.get(2)?).ok_or_else(|| {
            StoreError::Decode(format!(
                "note {id} belongs to an unknown kind of item '{kind}'"
            ))
        })?;
        // The three NULL columns stand for provenance, which a note has in its own columns.
        let (_, grading) = prov_grade(r, 7)?;
        out.entry(owner).or_default().push(Note {
            id,
            owner,
            text: r.get(3)?,
            source_ref: r.get(4)?,
            grading,
            created_utc: r.get(5)?,
            analyst: r.get(6)?,
        });
    }
    Ok(out)
}

/// Loads every item of the case.
pub(crate) fn load(conn: &Connection, header: SnapshotHeader) -> Result<CaseSnapshot, StoreError> {
    let mut entity_attrs: HashMap<i64, Vec<Attribute>> = HashMap::new();
    let mut link_attrs: HashMap<i64, Vec<Attribute>> = HashMap::new();
    let mut event_attrs: HashMap<i64, Vec<Attribute>> = HashMap::new();
    {
        let mut stmt = conn.prepare(&format!(
            "SELECT id, owner_kind, owner_id, property, value, normalized, {PROV_GRADE_COLS} \
             FROM attributes ORDER BY id"
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let kind: String = r.get(1)?;
            let owner: i64 = r.get(2)?;
            let (provenance, grading) = prov_grade(r, 6)?;
            let attr = Attribute {
                id: AttributeId(r.get(0)?),
                property: r.get(3)?,
                value: r.get(4)?,
                normalized: r.get(5)?,
                provenance,
                grading,
            };
            let map = match kind.as_str() {
                "entity" => &mut entity_attrs,
                "link" => &mut link_attrs,
                "event" => &mut event_attrs,
                other => {
                    return Err(StoreError::Decode(format!(
                        "attribute {} belongs to an unknown kind of item '{other}'",
                        attr.id
                    )));
                }
            };
            map.entry(owner).or_default().push(attr);
        }
    }

    let mut notes = load_notes(conn)?;
    let mut entities = Vec::new();
    {
        let mut stmt = conn.prepare(&format!(
            "SELECT id, type, label, source_id, category, restricted, {PROV_GRADE_COLS}, \
             review_date FROM entities ORDER BY id"
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let mut e = entity_from_row(r)?;
            e.attributes = entity_attrs.remove(&e.id.0).unwrap_or_default();
            e.notes = notes.remove(&ItemRef::Entity(e.id)).unwrap_or_default();
            entities.push(e);
        }
    }

    let mut links = Vec::new();
    {
        let mut stmt = conn.prepare(&format!(
            "SELECT id, type, source, target, directed, strength, weight, label, source_id, \
             restricted, {PROV_GRADE_COLS}, review_date FROM links ORDER BY id"
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let strength: String = r.get(5)?;
            let (provenance, grading) = prov_grade(r, 10)?;
            let id: i64 = r.get(0)?;
            links.push(Link {
                id: LinkId(id),
                link_type: r.get(1)?,
                source: EntityId(r.get(2)?),
                target: EntityId(r.get(3)?),
                directed: r.get(4)?,
                strength: strength
                    .parse::<LinkStrength>()
                    .map_err(|e| decode_err("link strength", &strength, &e))?,
                weight: r.get(6)?,
                label: r.get(7)?,
                source_id: r.get(8)?,
                restricted: r.get(9)?,
                provenance,
                grading,
                attributes: link_attrs.remove(&id).unwrap_or_default(),
                review_date: r.get(17)?,
                notes: notes.remove(&ItemRef::Link(LinkId(id))).unwrap_or_default(),
            });
        }
    }

    let mut participants: HashMap<i64, Vec<Participant>> = HashMap::new();
    {
        let mut stmt = conn.prepare("SELECT event, role, entity FROM participants ORDER BY id")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let role: String = r.get(1)?;
            participants
                .entry(r.get(0)?)
                .or_default()
                .push(Participant {
                    role: role
                        .parse::<ParticipantRole>()
                        .map_err(|e| decode_err("participant role", &role, &e))?,
                    entity: EntityId(r.get(2)?),
                });
        }
    }

    let mut events = Vec::new();
    {
        let mut stmt = conn.prepare(&format!(
            "SELECT id, type, start_ms, end_ms, time_text, time_zone, source_id, restricted, \
             {PROV_GRADE_COLS}, review_date FROM events ORDER BY id"
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (provenance, grading) = prov_grade(r, 8)?;
            let id: i64 = r.get(0)?;
            events.push(Event {
                id: EventId(id),
                event_type: r.get(1)?,
                time: EventTime {
                    start_ms: r.get(2)?,
                    end_ms: r.get(3)?,
                    original_text: r.get(4)?,
                    original_zone: r.get(5)?,
                },
                participants: participants.remove(&id).unwrap_or_default(),
                source_id: r.get(6)?,
                restricted: r.get(7)?,
                provenance,
                grading,
                attributes: event_attrs.remove(&id).unwrap_or_default(),
                review_date: r.get(15)?,
                notes: notes
                    .remove(&ItemRef::Event(EventId(id)))
                    .unwrap_or_default(),
            });
        }
    }
    let mut snapshot = CaseSnapshot::assemble(header, entities, links, events);
    snapshot.chart_snapshots = super::records::chart_snapshots(conn)?;
    Ok(snapshot)
}
