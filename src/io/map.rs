//! The mapping engine shared by the tabular importers: a spec compiled against a header turns
//! each row into entities, links and events (validated, so a bad cell rejects its row with the
//! field named instead of failing the whole batch in the store), and a resolver writes them,
//! matching entities on normalised identifiers so nothing is silently duplicated.

use super::report::{ImportReport, MergeNote, RowProblem};
use super::spec::{
    Connectivity, MappingSpec, TimeSpec, identifier_damage, is_identifier_kind, parse_number,
    parse_time, phone_e164,
};
use super::{IoError, hidden_characters};

/// Why a field holding a NUL byte rejects its row. A NUL is never part of a text value: it
/// shows a damaged file or text in another encoding (UTF-16 read as UTF-8). Kept, it would be
/// cut off or dropped by every program downstream (C strings, XML exports), so that the value
/// on record and the value disclosed would differ; stripped, the value would no longer be the
/// source's. So the row is refused, naming the line and field, as PostgreSQL refuses it.
pub(crate) const NUL_IN_FIELD: &str = "the field holds a NUL byte (U+0000), which no text \
    value may hold: the file is damaged or is not UTF-8 text (UTF-16?). Fix the source or \
    export it again; with --lenient the row is skipped and listed";
use crate::model::{
    EntityId, EntityRef, Grading, IdBits, ItemRef, LinkStrength, NewAttribute, NewEntity, NewEvent,
    NewLink, NewParticipant, ParticipantRole, PropertyKind, Provenance, Schema, normalize_value,
};
use crate::store::{BatchWriter, StoreError};
use rustc_hash::{FxHashMap, FxHashSet};
use smol_str::SmolStr;
use std::collections::{HashMap, HashSet};

/// A spec bound to the columns of one file.
#[derive(Debug)]
pub struct Compiled {
    pub spec: MappingSpec,
    columns: HashMap<String, usize>,
    schema: Schema,
    source_file: String,
    max_field_bytes: usize,
    /// Optional columns of the spec that the file does not have.
    pub absent: Vec<String>,
}

/// One entity as a row describes it.
#[derive(Clone, Debug)]
pub struct MappedEntity {
    pub entity_type: String,
    pub id_raw: String,
    /// (property, normalised key) to match on; `None` matches on the source id.
    pub match_key: Option<(String, String)>,
    pub label: String,
    /// Number of leading attributes that hold the identifier itself.
    pub id_attributes: usize,
    pub attributes: Vec<NewAttribute>,
    /// The entity's key as numbered by [`KeyNumbering`] (`None` if not numbered).
    pub key_no: Option<u32>,
    /// Attributes (bit `i` for `attributes[i]`, the first 64) that an earlier row of the
    /// import already gave this key, so the writer need not check them again.
    pub repeated_attributes: u64,
}

/// A row mapped into items whose endpoints are positions in `entities`.
#[derive(Clone, Debug)]
pub struct MappedRow {
    pub line: u64,
    pub entities: Vec<Option<MappedEntity>>,
    /// Endpoints, the link, and whether it is made once per pair for the whole batch.
    pub links: Vec<(usize, usize, NewLink, bool)>,
    pub events: Vec<(NewEvent, Vec<(ParticipantRole, usize)>)>,
    pub warnings: Vec<RowProblem>,
}

impl Compiled {
    /// Binds a spec to a header row. A column the spec needs that the header lacks, or holds
    /// twice, is an error naming the column.
    pub fn new(
        spec: MappingSpec,
        header: &[String],
        schema: &Schema,
        source_file: &str,
        max_field_bytes: usize,
    ) -> Result<Compiled, IoError> {
        spec.check().map_err(IoError::Spec)?;
        let mut columns = HashMap::new();
        let mut duplicates = HashSet::new();
        for (i, name) in header.iter().enumerate() {
            let name = name.trim().to_string();
            if columns.insert(name.clone(), i).is_some() {
                duplicates.insert(name);
            }
        }
        let needed = spec.columns();
        // Duplicates first, over all the spec's columns: a header naming "caller" twice was
        // reported as lacking "callee" (sorted first), pointing the user at the wrong column.
        if let Some((col, _)) = needed.iter().find(|(c, _)| duplicates.contains(c)) {
            return Err(IoError::Spec(format!(
                "{source_file}: column '{col}' appears more than once in the header, so the spec cannot tell which to use; rename one"
            )));
        }
        let mut absent = Vec::new();
        for (col, required) in needed {
            if !columns.contains_key(&col) {
                if required {
                    let twice = if duplicates.is_empty() {
                        String::new()
                    } else {
                        let mut names: Vec<&str> = duplicates.iter().map(String::as_str).collect();
                        names.sort_unstable();
                        format!(
                            "; the header names {} more than once, perhaps where '{col}' was meant",
                            names
                                .iter()
                                .map(|n| format!("'{n}'"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    };
                    return Err(IoError::Spec(format!(
                        "{source_file}: the spec needs column '{col}', which the header does not have (columns: {}){twice}",
                        header.join(", ")
                    )));
                }
                absent.push(col);
            }
        }
        let mut spec = spec;
        for e in &mut spec.entities {
            e.entity_type = schema
                .entity_type_any_case(&e.entity_type)
                .map_err(|err| IoError::Spec(format!("entity '{}': {err}", e.key)))?
                .key
                .clone();
        }
        Ok(Compiled {
            spec,
            columns,
            schema: schema.clone(),
            source_file: source_file.to_string(),
            max_field_bytes,
            absent,
        })
    }

    /// Maps one row. Any bad cell rejects the row, naming the line and the field.
    pub fn map_row(&self, line: u64, fields: &[&str]) -> Result<MappedRow, RowProblem> {
        let reject = |field: &str, reason: String| RowProblem {
            line,
            field: Some(field.to_string()),
            reason,
        };
        let cell = |col: &str| -> Result<&str, RowProblem> {
            let v = self
                .columns
                .get(col)
                .and_then(|&i| fields.get(i))
                .copied()
                .unwrap_or("");
            if v.len() > self.max_field_bytes {
                return Err(reject(
                    col,
                    format!(
                        "the field has {} bytes, over bound max_field_bytes ({})",
                        v.len(),
                        self.max_field_bytes
                    ),
                ));
            }
            if v.contains('\0') {
                return Err(reject(col, NUL_IN_FIELD.into()));
            }
            Ok(self.spec.mapped_value(col, v))
        };
        let prov = Provenance {
            batch: None,
            source_file: Some(self.source_file.clone()),
            record: Some(format!("line {line}")),
        };
        let mut warnings = Vec::new();
        let spec = &self.spec;
        // Validates and converts one attribute cell.
        let attribute = |owner_type: &str,
                         property: &str,
                         col: &str,
                         warnings: &mut Vec<RowProblem>|
         -> Result<Option<NewAttribute>, RowProblem> {
            let raw = cell(col)?;
            if raw.trim().is_empty() {
                return Ok(None);
            }
            if let Some(w) = hidden_characters(raw) {
                warnings.push(reject(col, w));
            }
            let kind = self.schema.property_kind(owner_type, property);
            let value = if kind == PropertyKind::Number {
                parse_number(raw, &spec.numbers.decimal_separator).map_err(|e| reject(col, e))?
            } else {
                if is_identifier_kind(kind)
                    && let Some(d) = identifier_damage(raw)
                {
                    return Err(reject(col, d));
                }
                raw.to_string()
            };
            normalize_value(kind, property, &value).map_err(|e| reject(col, e.to_string()))?;
            Ok(Some(NewAttribute {
                property: property.to_string(),
                value,
                provenance: prov.clone(),
                grading: spec.grading_for(Some(col)),
            }))
        };

        let mut entities = Vec::with_capacity(spec.entities.len());
        for m in &spec.entities {
            let raw = cell(&m.id)?;
            let id = raw.trim();
            if id.is_empty() {
                if m.optional {
                    entities.push(None);
                    continue;
                }
                return Err(reject(&m.id, "the identifier is empty".into()));
            }
            let entity_type = match &m.type_column {
                Some(tc) if !cell(tc)?.trim().is_empty() => {
                    let t = cell(tc)?.trim();
                    self.schema
                        .entity_type_any_case(t)
                        .map_err(|e| reject(tc, e.to_string()))?
                        .key
                        .clone()
                }
                _ => m.entity_type.clone(),
            };
            if let Some(w) = hidden_characters(raw) {
                warnings.push(reject(&m.id, w));
            }
            let mut attributes = Vec::new();
            let mut match_key = None;
            if let Some(prop) = &m.id_property {
                let kind = self.schema.property_kind(&entity_type, prop);
                if is_identifier_kind(kind)
                    && let Some(d) = identifier_damage(id)
                {
                    return Err(reject(&m.id, d));
                }
                let store_key =
                    normalize_value(kind, prop, id).map_err(|e| reject(&m.id, e.to_string()))?;
                let grading = spec.grading_for(Some(&m.id));
                attributes.push(NewAttribute {
                    property: prop.clone(),
                    value: id.to_string(),
                    provenance: prov.clone(),
                    grading: grading.clone(),
                });
                let mut key = store_key;
                if kind == PropertyKind::Phone
                    && let Some(e164) =
                        phone_e164(id, spec.identifiers.default_country_code.as_deref())
                    && key.as_deref() != Some(e164.as_str())
                {
                    // Keep the raw text and add the E.164 form as a second value, so the
                    // number matches however other sources wrote it.
                    attributes.push(NewAttribute {
                        property: prop.clone(),
                        value: e164.clone(),
                        provenance: prov.clone(),
                        grading,
                    });
                    key = Some(e164);
                }
                match_key = key.map(|k| (prop.clone(), k));
            }
            let id_attributes = attributes.len();
            for (property, col) in &m.attributes {
                if let Some(a) = attribute(&entity_type, property, col, &mut warnings)? {
                    attributes.push(a);
                }
            }
            let label = match &m.label {
                Some(col) if !cell(col)?.trim().is_empty() => cell(col)?.trim().to_string(),
                _ => id.to_string(),
            };
            entities.push(Some(MappedEntity {
                entity_type,
                id_raw: id.to_string(),
                match_key,
                label,
                id_attributes,
                attributes,
                key_no: None,
                repeated_attributes: 0,
            }));
        }

        let key_pos = |k: &str| spec.entities.iter().position(|e| e.key == k).unwrap_or(0);
        let mut links = Vec::new();
        for l in &spec.links {
            let present: Vec<usize> = l
                .entities
                .iter()
                .map(|k| key_pos(k))
                .filter(|&i| entities[i].is_some())
                .collect();
            if present.len() < 2 {
                continue;
            }
            let link_type = match &l.type_column {
                Some(tc) if !cell(tc)?.trim().is_empty() => cell(tc)?.trim().to_string(),
                _ => l.link_type.clone(),
            };
            let weight = match &l.weight {
                Some(col) if !cell(col)?.trim().is_empty() => Some(
                    parse_number(cell(col)?, &spec.numbers.decimal_separator)
                        .map_err(|e| reject(col, e))?
                        .parse::<f64>()
                        .map_err(|e| reject(col, e.to_string()))?,
                ),
                _ => None,
            };
            let label = match &l.label {
                Some(col) if !cell(col)?.trim().is_empty() => Some(cell(col)?.trim().to_string()),
                _ => None,
            };
            let mut attributes = Vec::new();
            for (property, col) in &l.attributes {
                if let Some(a) = attribute("", property, col, &mut warnings)? {
                    attributes.push(a);
                }
            }
            let mut pairs = Vec::new();
            match l.connectivity {
                Connectivity::Chain => {
                    for w in present.windows(2) {
                        pairs.push((w[0], w[1]));
                    }
                }
                Connectivity::Star => {
                    for &o in &present[1..] {
                        pairs.push((present[0], o));
                    }
                }
                Connectivity::AllPairs => {
                    for (i, &a) in present.iter().enumerate() {
                        for &b in &present[i + 1..] {
                            pairs.push((a, b));
                        }
                    }
                }
            }
            for (a, b) in pairs {
                let same = match (&entities[a], &entities[b]) {
                    (Some(x), Some(y)) => {
                        x.entity_type == y.entity_type
                            && (x.match_key.is_some() && x.match_key == y.match_key
                                || x.match_key.is_none() && x.id_raw == y.id_raw)
                    }
                    _ => false,
                };
                if same {
                    warnings.push(RowProblem {
                        line,
                        field: None,
                        reason: format!(
                            "a {link_type} link from an entity to itself (self-loop), kept"
                        ),
                    });
                }
                pairs_push(
                    &mut links,
                    a,
                    b,
                    {
                        let mut nl =
                            NewLink::new(link_type.clone(), EntityRef::New(a), EntityRef::New(b));
                        nl.directed = l.directed;
                        nl.strength = LinkStrength::Confirmed;
                        nl.weight = weight;
                        nl.label = label.clone();
                        nl.provenance = prov.clone();
                        nl.grading = spec.grading.clone();
                        nl.attributes = attributes.clone();
                        nl
                    },
                    l.once_per_pair,
                );
            }
        }

        let mut events = Vec::new();
        for ev in &spec.events {
            let time_spec: &TimeSpec = &spec.time;
            let mut time =
                parse_time(cell(&ev.time)?, time_spec).map_err(|e| reject(&ev.time, e))?;
            if let Some(col) = &ev.end
                && !cell(col)?.trim().is_empty()
            {
                let end = parse_time(cell(col)?, time_spec).map_err(|e| reject(col, e))?;
                if end.start_ms < time.start_ms {
                    return Err(reject(col, "the end is before the start".into()));
                }
                time.end_ms = Some(end.start_ms);
            } else if let Some(col) = &ev.duration
                && !cell(col)?.trim().is_empty()
            {
                let text = cell(col)?;
                let secs: f64 = match clock_duration_secs(text) {
                    Some(secs) => secs,
                    None => parse_number(text, &spec.numbers.decimal_separator)
                        .map_err(|e| reject(col, e))?
                        .parse()
                        .map_err(|_| reject(col, "not a number".into()))?,
                };
                if !(0.0..=1e9).contains(&secs) {
                    return Err(reject(
                        col,
                        format!("a duration of {secs} seconds is not plausible"),
                    ));
                }
                time.end_ms = Some(time.start_ms + (secs * 1000.0) as i64);
            }
            let participants: Vec<(ParticipantRole, usize)> = ev
                .participants
                .iter()
                .map(|p| (p.role, key_pos(&p.entity)))
                .filter(|(_, i)| entities[*i].is_some())
                .collect();
            let mut attributes = Vec::new();
            for (property, col) in &ev.attributes {
                if let Some(a) = attribute("", property, col, &mut warnings)? {
                    attributes.push(a);
                }
            }
            let mut ne = NewEvent::new(ev.event_type.clone(), time);
            ne.provenance = prov.clone();
            ne.grading = spec.grading.clone();
            ne.attributes = attributes;
            events.push((ne, participants));
        }
        Ok(MappedRow {
            line,
            entities,
            links,
            events,
            warnings,
        })
    }
}

fn pairs_push(
    links: &mut Vec<(usize, usize, NewLink, bool)>,
    a: usize,
    b: usize,
    l: NewLink,
    once: bool,
) {
    links.push((a, b, l, once));
}

/// Names (property names, link types) numbered in the order they are first seen. A spec has
/// a handful, so a list searched by value.
#[derive(Debug, Default)]
struct NameNumbers(Vec<String>);

impl NameNumbers {
    fn number(&mut self, name: &str) -> u32 {
        let i = match self.0.iter().position(|n| n == name) {
            Some(i) => i,
            None => {
                self.0.push(name.to_string());
                self.0.len() - 1
            }
        };
        i as u32
    }
}

/// Numbers the entity keys of an import's rows on the mapping thread, in row order: each
/// distinct (entity type, match property, key) gets the next number, and each attribute
/// value a key was already given by an earlier row is marked as repeated.
///
/// Why: the writer resolved every entity cell by probing hash maps keyed by identifier text,
/// and checked every attribute value against a set, several probes per row and most of them
/// cache misses: a quarter of the writing thread of a 1M-row import. With the numbers it
/// looks entities up in a vector and skips repeated values, and the probing moves to the
/// mapping thread, which has time to spare. A key resolves to one entity for the whole
/// batch, so what was repeated for the key was already handled for its entity.
///
/// Only rows that mapped without a problem may be numbered, in the order they are written.
#[derive(Debug, Default)]
pub struct KeyNumbering {
    /// (entity type, match property; empty for the source id), numbered by position.
    kinds: Vec<(String, String)>,
    keys: FxHashMap<(u32, SmolStr), u32>,
    /// Key number → the identifier as the row that numbered it wrote it.
    first_raw: Vec<SmolStr>,
    names: NameNumbers,
    /// (key number, property number, value).
    seen: FxHashSet<(u32, u32, SmolStr)>,
}

impl KeyNumbering {
    pub fn number(&mut self, row: &mut MappedRow) {
        for e in row.entities.iter_mut().flatten() {
            let (property, key) = match &e.match_key {
                Some((p, k)) => (p.as_str(), k.as_str()),
                None => ("", e.id_raw.as_str()),
            };
            let kind = match self
                .kinds
                .iter()
                .position(|(t, p)| *t == e.entity_type && p == property)
            {
                Some(i) => i,
                None => {
                    self.kinds
                        .push((e.entity_type.clone(), property.to_string()));
                    self.kinds.len() - 1
                }
            } as u32;
            let next = self.keys.len() as u32;
            let key_no = *self.keys.entry((kind, SmolStr::new(key))).or_insert(next);
            e.key_no = Some(key_no);
            e.repeated_attributes = 0;
            // The identifier's own attributes follow from the identifier as written, so
            // when a key comes back written the same way they are repeated as a whole.
            let mut skip = 0;
            if key_no == next {
                self.first_raw.push(SmolStr::new(&e.id_raw));
            } else if self.first_raw[key_no as usize] == e.id_raw.as_str() {
                skip = e.id_attributes.min(64);
                e.repeated_attributes = if skip == 64 {
                    u64::MAX
                } else {
                    (1 << skip) - 1
                };
            }
            for (i, a) in e.attributes.iter().enumerate().take(64).skip(skip) {
                let p = self.names.number(&a.property);
                if !self.seen.insert((key_no, p, SmolStr::new(&a.value))) {
                    e.repeated_attributes |= 1 << i;
                }
            }
        }
    }
}

/// Writes mapped rows into a batch, resolving each entity to one already written in this
/// batch, one already in the case (matched on a normalised identifier or source id: merged
/// and reported), or a new one.
///
/// Its maps are looked up with borrowed text (no key is built per row): an import calls them
/// several times per row, and building owned tuple keys was a fifth of a 1M-row import.
#[derive(Debug, Default)]
pub struct Resolver {
    /// (entity type, property) → normalised key → entity. Few (type, property) pairs, so a
    /// list searched by value, the last one used tried first.
    by_key: Vec<((String, String), FxHashMap<SmolStr, EntityId>)>,
    last_key_map: usize,
    /// Key number ([`KeyNumbering`]) → the entity it resolved to.
    by_number: Vec<Option<EntityId>>,
    /// Entity type → source id → entity (entities keyed by source id only).
    by_source_id: FxHashMap<String, FxHashMap<SmolStr, EntityId>>,
    /// Source ids of entities already in the case before this import.
    existing_source_ids: HashMap<(String, String), EntityId>,
    /// Entities this import created, and those it reported as merged (bits: checked for
    /// every entity cell).
    created: IdBits,
    reported_merge: IdBits,
    /// Property names and link types, numbered.
    names: NameNumbers,
    /// (entity, property number, value) for every attribute value an entity has. Checked
    /// for every entity cell of every row.
    seen_attributes: FxHashSet<(EntityId, u32, SmolStr)>,
    /// Links made once per pair in this batch: (link type number, source, target).
    pairs: FxHashSet<(u32, EntityId, EntityId)>,
    /// How many merge notes to keep in the report (counts are always exact).
    pub merge_note_cap: usize,
}

// Why `SmolStr` keys: these maps are probed three to six times per row, and with `String`
// keys each probe followed a pointer to the key's text somewhere on the heap, a cache miss
// per probe (a quarter of the writing thread of a 1M-row import, most of it waiting for
// memory). Identifiers are short, and `SmolStr` keeps up to 23 bytes inside the table.

impl Resolver {
    pub fn new(existing_source_ids: HashMap<(String, String), EntityId>) -> Resolver {
        Resolver {
            existing_source_ids,
            merge_note_cap: 1000,
            ..Resolver::default()
        }
    }

    /// Records that `id` has attribute `property` = `value`; false if it already had it.
    fn first_sighting(&mut self, id: EntityId, property: &str, value: &str) -> bool {
        let p = self.names.number(property);
        self.seen_attributes.insert((id, p, SmolStr::new(value)))
    }

    fn key_map(&mut self, entity_type: &str, property: &str) -> &mut FxHashMap<SmolStr, EntityId> {
        let matches = |((t, p), _): &((String, String), _)| t == entity_type && p == property;
        let i = match self.by_key.get(self.last_key_map) {
            Some(m) if matches(m) => self.last_key_map,
            _ => match self.by_key.iter().position(matches) {
                Some(i) => i,
                None => {
                    self.by_key.push((
                        (entity_type.to_string(), property.to_string()),
                        FxHashMap::default(),
                    ));
                    self.by_key.len() - 1
                }
            },
        };
        self.last_key_map = i;
        &mut self.by_key[i].1
    }

    fn resolve(
        &mut self,
        w: &mut BatchWriter<'_>,
        e: &MappedEntity,
        line: u64,
        report: &mut ImportReport,
    ) -> Result<EntityId, StoreError> {
        let Some(key_no) = e.key_no.map(|k| k as usize) else {
            return self.resolve_by_key(w, e, line, report);
        };
        if let Some(Some(id)) = self.by_number.get(key_no).copied() {
            self.found(w, e, id, line, report)?;
            return Ok(id);
        }
        let id = self.resolve_by_key(w, e, line, report)?;
        if self.by_number.len() <= key_no {
            self.by_number.resize(key_no + 1, None);
        }
        self.by_number[key_no] = Some(id);
        Ok(id)
    }

    /// Records a sighting of entity `id` (already written or in the case) in a row: reports
    /// a merge the first time, and adds the attribute values it did not have yet.
    fn found(
        &mut self,
        w: &mut BatchWriter<'_>,
        e: &MappedEntity,
        id: EntityId,
        line: u64,
        report: &mut ImportReport,
    ) -> Result<(), StoreError> {
        let existing = !self.created.contains(id.0);
        if existing && self.reported_merge.insert(id.0) {
            report.entities_merged += 1;
            if report.merges.len() < self.merge_note_cap {
                let (property, key) = e
                    .match_key
                    .clone()
                    .unwrap_or_else(|| ("source id".into(), e.id_raw.clone()));
                report.merges.push(MergeNote {
                    line,
                    entity: id,
                    entity_type: e.entity_type.clone(),
                    property,
                    key,
                });
            }
        }
        let skip = if existing { e.id_attributes } else { 0 };
        for (i, a) in e.attributes.iter().enumerate().skip(skip) {
            if i < 64 && e.repeated_attributes & (1 << i) != 0 {
                continue;
            }
            if self.first_sighting(id, &a.property, &a.value) {
                w.attribute(ItemRef::Entity(id), a.clone())?;
                report.attributes += 1;
            }
        }
        Ok(())
    }

    /// Resolves an entity by its key text: to one this batch wrote, one in the case, or a new
    /// one.
    fn resolve_by_key(
        &mut self,
        w: &mut BatchWriter<'_>,
        e: &MappedEntity,
        line: u64,
        report: &mut ImportReport,
    ) -> Result<EntityId, StoreError> {
        let found = match &e.match_key {
            Some((prop, key)) => match self.key_map(&e.entity_type, prop).get(key.as_str()) {
                Some(&id) => Some(id),
                None => {
                    let id = w.find_entity_by_identifier(&e.entity_type, prop, key)?;
                    if let Some(id) = id {
                        self.key_map(&e.entity_type, prop)
                            .insert(SmolStr::new(key), id);
                    }
                    id
                }
            },
            None => match self
                .by_source_id
                .get(e.entity_type.as_str())
                .and_then(|m| m.get(e.id_raw.as_str()))
            {
                Some(&id) => Some(id),
                None => {
                    let id = self
                        .existing_source_ids
                        .get(&(e.entity_type.clone(), e.id_raw.clone()))
                        .copied();
                    if let Some(id) = id {
                        // Remembered so later rows find it without building a key.
                        self.by_source_id
                            .entry(e.entity_type.clone())
                            .or_default()
                            .insert(SmolStr::new(&e.id_raw), id);
                    }
                    id
                }
            },
        };
        if let Some(id) = found {
            self.found(w, e, id, line, report)?;
            return Ok(id);
        }
        let mut ne = NewEntity::new(e.entity_type.clone(), e.label.clone());
        ne.source_id = Some(e.id_raw.clone());
        ne.provenance = e
            .attributes
            .first()
            .map(|a| a.provenance.clone())
            .unwrap_or_else(|| Provenance {
                batch: None,
                source_file: None,
                record: Some(format!("line {line}")),
            });
        ne.provenance.record = Some(format!("line {line}"));
        ne.grading = e.attributes.first().and_then(|a| a.grading.clone());
        ne.attributes = e.attributes.clone();
        let id = w.entity(ne)?;
        report.entities_created += 1;
        report.attributes += e.attributes.len() as u64;
        self.created.insert(id.0);
        for a in &e.attributes {
            self.first_sighting(id, &a.property, &a.value);
        }
        match &e.match_key {
            Some((prop, key)) => {
                self.key_map(&e.entity_type, prop)
                    .insert(SmolStr::new(key), id);
            }
            None => {
                self.by_source_id
                    .entry(e.entity_type.clone())
                    .or_default()
                    .insert(SmolStr::new(&e.id_raw), id);
            }
        }
        Ok(id)
    }

    /// Writes one mapped row. Returns the row's entities, which are only read here, so that
    /// the caller can free them on the thread that made them (see `import_table`).
    pub fn write_row(
        &mut self,
        w: &mut BatchWriter<'_>,
        row: MappedRow,
        report: &mut ImportReport,
    ) -> Result<Vec<Option<MappedEntity>>, StoreError> {
        let mut ids: Vec<Option<EntityId>> = Vec::with_capacity(row.entities.len());
        for e in &row.entities {
            ids.push(match e {
                Some(e) => Some(self.resolve(w, e, row.line, report)?),
                None => None,
            });
        }
        let get = |i: usize| -> Result<EntityId, StoreError> {
            ids.get(i).copied().flatten().ok_or_else(|| {
                StoreError::Invalid(format!("line {}: a link names a missing entity", row.line))
            })
        };
        for (a, b, mut l, once) in row.links {
            let (s, t) = (get(a)?, get(b)?);
            if once {
                let link_type = self.names.number(&l.link_type);
                if !self.pairs.insert((link_type, s, t)) {
                    continue;
                }
            }
            l.source = EntityRef::Existing(s);
            l.target = EntityRef::Existing(t);
            report.attributes += l.attributes.len() as u64;
            w.link(l)?;
            report.links += 1;
        }
        for (mut ev, parts) in row.events {
            for (role, i) in parts {
                ev.participants
                    .push(NewParticipant::new(role, EntityRef::Existing(get(i)?)));
            }
            report.attributes += ev.attributes.len() as u64;
            w.event(ev)?;
            report.events += 1;
        }
        Ok(row.entities)
    }
}

/// Checks the spec's gradings against the case's schemes before anything is written.
pub fn check_gradings(
    spec: &MappingSpec,
    schemes: &[crate::model::GradingScheme],
) -> Result<(), IoError> {
    let all: Vec<&Grading> = spec
        .grading
        .iter()
        .chain(spec.column_grading.values())
        .collect();
    for g in all {
        let scheme = schemes
            .iter()
            .find(|s| s.key == g.scheme)
            .ok_or_else(|| IoError::Spec(format!("unknown grading scheme '{}'", g.scheme)))?;
        scheme.check(g).map_err(|e| IoError::Spec(e.to_string()))?;
    }
    Ok(())
}

/// A duration written as a clock, `H:MM:SS` or `MM:SS` (as operators' exports and workbook
/// duration cells have it), in seconds; `None` for anything else.
fn clock_duration_secs(text: &str) -> Option<f64> {
    let t = text.trim();
    if !t.contains(':') {
        return None;
    }
    let parts: Vec<&str> = t.split(':').collect();
    if parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let mut secs = 0.0;
    for (i, p) in parts.iter().enumerate() {
        let v: f64 = p
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v >= 0.0)?;
        // Minutes and seconds after the first part are below 60.
        if i > 0 && v >= 60.0 {
            return None;
        }
        secs = secs * 60.0 + v;
    }
    Some(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_durations_are_read_as_seconds() {
        assert_eq!(clock_duration_secs("0:02:05"), Some(125.0));
        assert_eq!(clock_duration_secs("1:00:00"), Some(3600.0));
        assert_eq!(clock_duration_secs("02:05"), Some(125.0));
        assert_eq!(clock_duration_secs("125"), None);
        assert_eq!(clock_duration_secs("1:75"), None);
        assert_eq!(clock_duration_secs("a:b"), None);
        assert_eq!(clock_duration_secs("1::2"), None);
    }
}
