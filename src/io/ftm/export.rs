//! The FtM writer: one JSON object a line, each thing's references written back into the
//! properties they were read from, and a `copkit` member with everything FtM cannot hold.

use super::schemata::{
    EVENTS, LINKS, default_event_schema, default_link_schema, extra_references, ftm_is_a,
    ftm_schema, reference_link_type,
};
use super::{FTM_INTERVAL, FTM_PROPERTY, FTM_ROLE, FTM_SCHEMA, RAW_PREFIX, parse_time};
use crate::io::IoError;
use crate::io::export::Selection;
use crate::io::graphml::attrs_json;
use crate::model::{Attribute, EntityId, Event, Link, ParticipantRole};
use crate::store::CaseSnapshot;
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Adds a value to an FtM property's list, once.
fn add_value(props: &mut Map<String, Value>, key: impl Into<String>, value: &str) {
    let list = props.entry(key).or_insert_with(|| json!([]));
    if let Some(arr) = list.as_array_mut()
        && !arr.iter().any(|x| x == value)
    {
        arr.push(json!(value));
    }
}

fn ftm_id(snap: &CaseSnapshot, id: EntityId) -> String {
    snap.entity(id)
        .and_then(|e| e.source_id.clone())
        .unwrap_or_else(|| id.to_string())
}

fn attrs_value(a: &[Attribute]) -> Value {
    serde_json::from_str(&attrs_json(a)).unwrap_or(Value::Null)
}

/// The FtM property a link is a reference in: the property an import kept, or a `located_at`
/// link to an Address, or a link typed as a reference property of its source's schema; only
/// when the target's schema fits the property's range.
fn reference_property(l: &Link, source_schema: &str, target_schema: &str) -> Option<String> {
    let ftm = ftm_schema(source_schema)?;
    let kept = l
        .attributes
        .iter()
        .find(|a| a.property == FTM_PROPERTY)
        .map(|a| a.value.clone());
    let property = kept.or_else(|| {
        ftm.properties
            .iter()
            .filter(|(_, range)| range.is_some())
            .map(|(p, _)| *p)
            .find(|p| reference_link_type(p) == l.link_type)
            .map(str::to_string)
    })?;
    let range = ftm.range(&property)?;
    ftm_is_a(target_schema, range).then_some(property)
}

/// An event's start as FtM writes dates: the source's own text when it means the same
/// instant (a date stays a date), else the UTC time to the second.
fn event_date(ev: &Event) -> String {
    ev.time
        .original_text
        .clone()
        .filter(|t| parse_time(t) == Some(ev.time.start_ms))
        .unwrap_or_else(|| ev.time.start().format("%Y-%m-%dT%H:%M:%S").to_string())
}

/// The FtM schema an import kept in an item's attributes.
fn kept_schema(attrs: &[Attribute]) -> Option<&str> {
    attrs
        .iter()
        .find(|a| a.property == FTM_SCHEMA)
        .map(|a| a.value.as_str())
}

/// The instant the first value of a date property means.
fn first_time(props: &Map<String, Value>, key: &str) -> Option<i64> {
    props
        .get(key)
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .and_then(parse_time)
}

/// Writes the selection as FtM JSON lines; returns what FtM could not hold.
pub(crate) fn write_ftm(
    path: &Path,
    snap: &CaseSnapshot,
    sel: &Selection<'_>,
) -> Result<Vec<String>, IoError> {
    use std::io::Write;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|source| IoError::Write {
            path: path.to_path_buf(),
            source,
        })?;
    let mut out = std::io::BufWriter::new(file);
    let mut lines: Vec<Value> = Vec::new();
    let mut no_schema = 0;
    let mut copkit_only = 0;
    let mut unplaced = 0;
    // Each entity's FtM schema: the one an import kept, else its type's.
    let mut schemata: HashMap<EntityId, String> = HashMap::new();
    for e in &sel.entities {
        let def = snap.schema.entity_type(&e.entity_type).ok();
        let kept = e
            .attributes
            .iter()
            .find(|a| a.property == FTM_SCHEMA)
            .map(|a| a.value.clone());
        let schema = kept
            .or_else(|| def.and_then(|d| d.ftm_schema.clone()))
            .unwrap_or_else(|| {
                no_schema += 1;
                "LegalEntity".into()
            });
        schemata.insert(e.id, schema);
    }
    let schema_of = |id: EntityId| schemata.get(&id).map_or("LegalEntity", String::as_str);
    // Links that are references go into their source's property, not out as lines; those
    // an import read from an interval written as a link (an ownership's proof) go back into
    // that interval's line, when it is written too.
    let mut references: HashMap<EntityId, Vec<(String, &Link)>> = HashMap::new();
    let mut as_reference: HashSet<crate::model::LinkId> = HashSet::new();
    let line_id = |l: &Link| l.source_id.clone().unwrap_or_else(|| l.id.to_string());
    let kept = |l: &Link, property: &str| {
        l.attributes
            .iter()
            .find(|a| a.property == property)
            .map(|a| a.value.clone())
    };
    let interval_lines: HashSet<String> = sel
        .links
        .iter()
        .filter(|l| kept(l, FTM_INTERVAL).is_none())
        .map(|l| line_id(l))
        .collect();
    let mut interval_refs: HashMap<String, Vec<(String, &Link)>> = HashMap::new();
    for l in &sel.links {
        if let (Some(interval), Some(p)) = (kept(l, FTM_INTERVAL), kept(l, FTM_PROPERTY))
            && interval_lines.contains(&interval)
        {
            interval_refs.entry(interval).or_default().push((p, l));
            as_reference.insert(l.id);
            continue;
        }
        if let Some(p) = reference_property(l, schema_of(l.source), schema_of(l.target)) {
            references.entry(l.source).or_default().push((p, l));
            as_reference.insert(l.id);
        }
    }
    for e in &sel.entities {
        let def = snap.schema.entity_type(&e.entity_type).ok();
        let schema = schema_of(e.id);
        let ftm = ftm_schema(schema);
        let defines = |p: &str| ftm.is_some_and(|f| f.defines(p));
        let mut props = Map::new();
        // The label is a name unless it is only the id (a Note has no name) or the value of
        // a property it was read from (a Contract's title).
        let id = ftm_id(snap, e.id);
        let label_is_a_value = e
            .attributes
            .iter()
            .any(|a| a.property != "name" && a.property != FTM_SCHEMA && a.value == e.label);
        if defines("name") && e.label != id && !label_is_a_value {
            props.insert("name".into(), json!([e.label]));
        }
        for a in e.attributes.iter().filter(|a| a.property != FTM_SCHEMA) {
            let key = match a.property.strip_prefix(RAW_PREFIX) {
                Some(raw) => raw.to_string(),
                None => def
                    .and_then(|d| d.properties.iter().find(|p| p.key == a.property))
                    .and_then(|p| p.ftm.clone())
                    .unwrap_or_else(|| a.property.clone()),
            };
            if defines(&key) {
                add_value(&mut props, key, &a.value);
            } else {
                // FtM tools drop what the schema does not define: the copkit member has it.
                copkit_only += 1;
            }
        }
        let mut kept_refs = Vec::new();
        for (property, l) in references.get(&e.id).into_iter().flatten() {
            let target = ftm_id(snap, l.target);
            add_value(&mut props, property.clone(), &target);
            kept_refs.push(json!({
                "property": property, "target": target, "type": l.link_type,
                "directed": l.directed, "weight": l.weight, "label": l.label,
                "strength": l.strength, "grading": l.grading, "provenance": l.provenance,
                "sourceId": l.source_id, "attributes": attrs_value(&l.attributes),
            }));
        }
        lines.push(json!({
            "id": id,
            "schema": schema,
            "properties": props,
            "copkit": {"type": e.entity_type, "label": e.label, "category": e.category,
                       "grading": e.grading, "provenance": e.provenance,
                       "attributes": attrs_value(&e.attributes), "references": kept_refs},
        }));
    }
    for l in sel.links.iter().filter(|l| !as_reference.contains(&l.id)) {
        // The schema the import kept, else the one of the link's type.
        let kept = kept_schema(&l.attributes).and_then(|k| LINKS.iter().find(|t| t.0 == k));
        let &(schema, sp, tp, _) = kept.unwrap_or_else(|| default_link_schema(&l.link_type));
        let ftm = ftm_schema(schema);
        let mut props = Map::new();
        props.insert(sp.into(), json!([ftm_id(snap, l.source)]));
        props.insert(tp.into(), json!([ftm_id(snap, l.target)]));
        if schema == "UnknownLink" {
            props.insert("role".into(), json!([l.link_type]));
        }
        for (property, r) in interval_refs.get(&line_id(l)).into_iter().flatten() {
            if ftm.is_some_and(|f| f.defines(property)) {
                add_value(&mut props, property.clone(), &ftm_id(snap, r.target));
            } else {
                copkit_only += 1;
            }
        }
        for a in l.attributes.iter().filter(|a| a.property != FTM_SCHEMA) {
            let key = a.property.strip_prefix(RAW_PREFIX).unwrap_or(&a.property);
            if ftm.is_some_and(|f| f.defines(key)) {
                add_value(&mut props, key, &a.value);
            } else {
                copkit_only += 1;
            }
        }
        lines.push(json!({
            "id": line_id(l),
            "schema": schema,
            "properties": props,
            "copkit": {"type": l.link_type, "directed": l.directed, "weight": l.weight,
                       "label": l.label, "strength": l.strength, "grading": l.grading,
                       "provenance": l.provenance, "attributes": attrs_value(&l.attributes)},
        }));
    }
    for ev in &sel.events {
        let kept = kept_schema(&ev.attributes).and_then(|k| EVENTS.iter().find(|t| t.0 == k));
        let row = kept.unwrap_or_else(|| default_event_schema(&ev.event_type));
        let &(schema, from_props, to_props, _) = row;
        let ftm = ftm_schema(schema);
        let mut props = Map::new();
        // The schema's own properties from the event's values: a payment's amount, currency
        // and purpose, a call's duration, the dates as they came (FtM tools read these; the
        // copkit member keeps all).
        for a in ev
            .attributes
            .iter()
            .filter(|a| a.property != FTM_SCHEMA && a.property != FTM_ROLE)
        {
            let key = match a.property.strip_prefix(RAW_PREFIX).unwrap_or(&a.property) {
                "durationSecs" => "duration",
                "reference" if schema == "Payment" => "purpose",
                other => other,
            };
            if ftm.is_some_and(|f| f.defines(key)) {
                add_value(&mut props, key, &a.value);
            } else {
                copkit_only += 1;
            }
        }
        // The time, unless the dates kept from the source still say it (a date stays a date;
        // an edited time wins).
        let time_prop = ["date", "startDate"]
            .into_iter()
            .find(|p| props.contains_key(*p))
            .unwrap_or("date");
        if first_time(&props, time_prop) != Some(ev.time.start_ms) {
            props.insert(time_prop.into(), json!([event_date(ev)]));
        }
        if let Some(end) = ev.time.end()
            && first_time(&props, "endDate") != ev.time.end_ms
        {
            props.insert(
                "endDate".into(),
                json!([end.format("%Y-%m-%dT%H:%M:%S").to_string()]),
            );
        }
        for (role, candidates) in [
            (ParticipantRole::From, from_props),
            (ParticipantRole::To, to_props),
        ] {
            for id in ev.in_role(role) {
                // The property whose range fits: a BankAccount pays as payerAccount.
                let fits = candidates.iter().find(|p| {
                    ftm.and_then(|f| f.range(p))
                        .is_some_and(|range| ftm_is_a(schema_of(id), range))
                });
                let prop = fits.or(candidates.first()).copied().unwrap_or("involved");
                add_value(&mut props, prop, &ftm_id(snap, id));
            }
        }
        // The other participants go back into the property the import read them from, else
        // into the first other reference whose range they fit (a Contract is a payment's
        // contract); one that fits none is only in the copkit member.
        let extras = extra_references(row);
        for p in ev
            .participants
            .iter()
            .filter(|p| !matches!(p.role, ParticipantRole::From | ParticipantRole::To))
        {
            let who = ftm_id(snap, p.entity);
            let named = ev
                .attributes
                .iter()
                .filter(|a| a.property == FTM_ROLE)
                .filter_map(|a| a.value.split_once('='))
                .find(|(prop, id)| *id == who && extras.iter().any(|x| x.0 == *prop))
                .map(|(prop, _)| prop);
            let fits = || {
                extras
                    .iter()
                    .find(|(_, range)| ftm_is_a(schema_of(p.entity), range))
                    .map(|x| x.0)
            };
            match named.or_else(fits) {
                Some(prop) => add_value(&mut props, prop, &who),
                None => unplaced += 1,
            }
        }
        let parts: Vec<(ParticipantRole, String)> = ev
            .participants
            .iter()
            .map(|p| (p.role, ftm_id(snap, p.entity)))
            .collect();
        lines.push(json!({
            "id": ev.source_id.clone().unwrap_or_else(|| ev.id.to_string()),
            "schema": schema,
            "properties": props,
            "copkit": {"type": ev.event_type, "time": ev.time, "grading": ev.grading,
                       "provenance": ev.provenance, "attributes": attrs_value(&ev.attributes),
                       "participants": parts},
        }));
    }
    for v in &lines {
        writeln!(out, "{v}").map_err(|source| IoError::Write {
            path: path.to_path_buf(),
            source,
        })?;
    }
    out.flush().map_err(|source| IoError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    let mut cannot = Vec::new();
    if no_schema > 0 {
        cannot.push(format!("{no_schema} entities of types FtM has no schema for (Phone, Location, Device, ...) were written as LegalEntity; their type is kept in the copkit member"));
    }
    if copkit_only > 0 {
        cannot.push(format!("{copkit_only} values of properties their FtM schema does not define are kept only in the copkit member, which other FtM tools ignore"));
    }
    if unplaced > 0 {
        cannot.push(format!("{unplaced} event participants fit none of their FtM schema's references; they are kept only in the copkit member"));
    }
    cannot.push("grading, provenance and exact times are kept only in the copkit member, which other FtM tools ignore".into());
    Ok(cannot)
}
