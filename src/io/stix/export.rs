//! STIX 2.1 export: the selection as one bundle.
//!
//! - Ids are deterministic: an entity, link or event imported from STIX keeps its STIX id
//!   (when the type it is written as is the same); any other gets a UUID version 5 made from
//!   the case id and our item id, so exporting the same case twice gives the same ids.
//! - Entities become the object their `stixType` attribute names (the reverse of the import),
//!   else: Person → `identity` (individual), Organization → `identity` (organization),
//!   Location and Address → `location` (when they have coordinates, a country or a region,
//!   which STIX requires), Email → `email-addr`, OnlineAccount → `user-account`; every other
//!   type becomes a custom object `x-copkit-<type>` (listed in what STIX could not carry).
//! - Attribute values go out under their property when the name is a valid STIX property name
//!   (lower case, digits and `_`); lists, numbers, booleans and objects are restored for the
//!   STIX properties that have them. A member `x_copkit` holds our type, label, grading,
//!   provenance and every attribute exactly, which our import restores.
//! - Links become `relationship`s (typed by the link type, lower case with hyphens); those
//!   the import made from embedded references (`stixRef`) become that reference again.
//! - Events of type Sighting whose first participant is written as a STIX domain object become
//!   `sighting`s (first and last seen, count, where sighted: the identities and locations among
//!   the other participants). Any other event with two participants or more becomes a
//!   `relationship` between its first two, typed by the event type, with `start_time` and
//!   `stop_time`; an event with fewer participants becomes a custom object `x-copkit-event`
//!   (its type as `name`, `start_time`, `stop_time`, `participant_refs`). Each carries in
//!   `x_copkit` the mark `event`, its time and every participant in its role, so that our
//!   import reads it back as the same event, not as a link.

use super::{
    COPKIT_MEMBER, EVENT_OBJECT, RENAMED, SIGHTING_EVENT, STIX_REF, STIX_TYPE, TLP, TLP_MARKINGS,
};
use crate::io::IoError;
use crate::io::export::Selection;
use crate::io::graphml::attrs_json;
use crate::model::{Attribute, Entity, EntityId, ParticipantRole};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::path::Path;

/// The namespace of our deterministic ids (a fixed, random UUID).
const COPKIT_NAMESPACE: [u8; 16] = [
    0x3f, 0x0c, 0x6c, 0x4e, 0x5b, 0x1a, 0x4f, 0x2e, 0x9d, 0x7a, 0x6c, 0x2b, 0x8e, 0x1f, 0x4a, 0x90,
];

/// STIX cyber-observable types: they have no `created`, `modified` or `name`.
const SCO_TYPES: &[&str] = &[
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];

/// Observables whose label is their `value`.
const VALUE_TYPES: &[&str] = &[
    "email-addr",
    "url",
    "domain-name",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
];

/// STIX properties that hold lists (a single value is written as a list of one).
const LIST_PROPS: &[&str] = &[
    "labels",
    "aliases",
    "external_references",
    "kill_chain_phases",
    "granular_markings",
    "roles",
    "goals",
    "sectors",
    "authors",
    "capabilities",
    "secondary_motivations",
    "personal_motivations",
    "implementation_languages",
    "architecture_execution_envs",
];

/// STIX properties that hold numbers.
const NUMBER_PROPS: &[&str] = &[
    "confidence",
    "latitude",
    "longitude",
    "precision",
    "count",
    "number",
    "number_observed",
    "size",
    "pid",
    "src_port",
    "dst_port",
];

/// STIX properties that hold booleans.
const BOOL_PROPS: &[&str] = &[
    "is_family",
    "revoked",
    "summary",
    "defanged",
    "is_multipart",
    "is_active",
    "is_hidden",
    "is_self_signed",
    "is_service_account",
    "is_privileged",
    "can_escalate_privs",
    "is_disabled",
];

/// Our attributes that are not STIX properties of their own (they go out another way).
const OURS: &[&str] = &[
    STIX_TYPE,
    STIX_REF,
    TLP,
    "objectMarking",
    "marking",
    "startDate",
    "endDate",
];

/// A UUID version 5 (RFC 9562) of a name in a namespace, by the `uuid` crate (SHA-1 through
/// its `v5` feature).
fn uuid_v5(namespace: &[u8; 16], name: &str) -> uuid::Uuid {
    uuid::Uuid::new_v5(&uuid::Uuid::from_bytes(*namespace), name.as_bytes())
}

/// A STIX property name (STIX 2.1 section 3.1: lower case ASCII, digits and `_`, 3 to 250).
fn valid_property(name: &str) -> bool {
    (3..=250).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A link or event type as a STIX relationship type (lower case, hyphens).
fn relationship_type(t: &str) -> String {
    let mut out = String::new();
    for c in t.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "related-to".into()
    } else {
        out
    }
}

fn timestamp(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// A value as the STIX property holds it.
fn typed(property: &str, value: &str) -> Value {
    let v = value.trim();
    if NUMBER_PROPS.contains(&property) {
        if let Ok(i) = v.parse::<i64>() {
            return json!(i);
        }
        if let Ok(f) = v.parse::<f64>() {
            return json!(f);
        }
    }
    if BOOL_PROPS.contains(&property) && (v == "true" || v == "false") {
        return json!(v == "true");
    }
    if v.starts_with('{')
        && let Ok(o @ Value::Object(_)) = serde_json::from_str::<Value>(v)
    {
        return o;
    }
    json!(value)
}

/// Writes the attributes that have a STIX property into `o`.
fn put_attributes(o: &mut Map<String, Value>, stix_type: &str, attrs: &[Attribute]) {
    let mut grouped: Vec<(String, Vec<Value>)> = Vec::new();
    for a in attrs {
        if OURS.contains(&a.property.as_str()) {
            continue;
        }
        let property = RENAMED
            .iter()
            .find(|(t, _, ours)| (*t == "*" || *t == stix_type) && *ours == a.property)
            .map_or(a.property.as_str(), |r| r.1);
        if !valid_property(property) || matches!(property, "type" | "id" | "spec_version") {
            continue;
        }
        let v = typed(property, &a.value);
        match grouped.iter_mut().find(|(p, _)| p == property) {
            Some((_, list)) => list.push(v),
            None => grouped.push((property.to_string(), vec![v])),
        }
    }
    for (property, mut values) in grouped {
        if o.contains_key(&property) {
            continue;
        }
        let list = LIST_PROPS.contains(&property.as_str())
            || property.ends_with("_types")
            || property.ends_with("_refs");
        let v = if values.len() > 1 || list {
            Value::Array(values)
        } else {
            values.remove(0)
        };
        o.insert(property, v);
    }
}

/// Whether some attribute has a name no STIX property can have.
fn has_private(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| {
        !OURS.contains(&a.property.as_str())
            && !RENAMED.iter().any(|r| r.2 == a.property)
            && !valid_property(&a.property)
    })
}

/// The markings of an item: its TLP and marking ids, as `object_marking_refs`.
fn markings(attrs: &[Attribute]) -> Vec<Value> {
    let mut refs = Vec::new();
    for a in attrs {
        let id = match a.property.as_str() {
            TLP => TLP_MARKINGS
                .iter()
                .find(|(_, name)| name.eq_ignore_ascii_case(a.value.trim()))
                .map(|(id, _)| id.to_string()),
            "objectMarking" => Some(a.value.clone()),
            _ => None,
        };
        if let Some(id) = id
            && !refs.contains(&json!(id))
        {
            refs.push(json!(id));
        }
    }
    refs
}

fn value_of<'a>(attrs: &'a [Attribute], property: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|a| a.property == property)
        .map(|a| a.value.as_str())
}

/// The STIX type an entity is written as; `None` for a custom object.
fn stix_type_of(e: &Entity) -> Option<String> {
    if let Some(t) = value_of(&e.attributes, STIX_TYPE) {
        return Some(t.to_string());
    }
    let has = |p: &str| value_of(&e.attributes, p).is_some_and(|v| !v.trim().is_empty());
    let placed = (has("latitude") && has("longitude")) || has("country") || has("region");
    Some(
        match e.entity_type.as_str() {
            "Person" | "Organization" => "identity",
            "Location" | "Address" if placed => "location",
            "Email" => "email-addr",
            "OnlineAccount" => "user-account",
            _ => return None,
        }
        .to_string(),
    )
}

/// Writes the selection as STIX 2.1; returns what the format could not carry, in words.
pub(crate) fn write_stix(
    path: &Path,
    sel: &Selection<'_>,
    case_id: &str,
) -> Result<Vec<String>, IoError> {
    let now = timestamp(chrono::Utc::now().timestamp_millis());
    let new_id = |stix_type: &str, ours: &str| {
        format!(
            "{stix_type}--{}",
            uuid_v5(&COPKIT_NAMESPACE, &format!("{case_id}/{ours}"))
        )
    };
    // Keeps an imported STIX id when the object is written as the same type.
    let keep_or_new = |source_id: Option<&str>, stix_type: &str, ours: &str| {
        source_id
            .filter(|s| {
                s.strip_prefix(stix_type)
                    .and_then(|rest| rest.strip_prefix("--"))
                    .is_some_and(|u| uuid::Uuid::parse_str(u).is_ok())
            })
            .map_or_else(|| new_id(stix_type, ours), str::to_string)
    };
    let mut custom: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let mut objects: Vec<Map<String, Value>> = Vec::new();
    let mut index: HashMap<EntityId, usize> = HashMap::new();
    let mut stix_ids: HashMap<EntityId, (String, String)> = HashMap::new();
    let mut private_props = 0usize;
    for e in &sel.entities {
        let stix_type = stix_type_of(e).unwrap_or_else(|| {
            custom.insert(e.entity_type.clone());
            format!("x-copkit-{}", relationship_type(&e.entity_type))
        });
        let id = keep_or_new(e.source_id.as_deref(), &stix_type, &e.id.to_string());
        let mut o = Map::new();
        o.insert("type".into(), json!(stix_type));
        o.insert("spec_version".into(), json!("2.1"));
        o.insert("id".into(), json!(id));
        let sco = SCO_TYPES.contains(&stix_type.as_str());
        if !sco {
            for key in ["created", "modified"] {
                let given = value_of(&e.attributes, key)
                    .filter(|v| chrono::DateTime::parse_from_rfc3339(v.trim()).is_ok());
                o.insert(key.into(), json!(given.unwrap_or(&now)));
            }
        }
        match stix_type.as_str() {
            t if VALUE_TYPES.contains(&t) => {
                o.insert("value".into(), json!(e.label));
            }
            "user-account" => {
                if value_of(&e.attributes, "username").is_none() {
                    o.insert("account_login".into(), json!(e.label));
                }
            }
            "identity" => {
                o.insert("name".into(), json!(e.label));
                if value_of(&e.attributes, "identity_class").is_none() {
                    let class = if e.entity_type == "Person" {
                        "individual"
                    } else {
                        "organization"
                    };
                    o.insert("identity_class".into(), json!(class));
                }
            }
            _ => {
                o.insert("name".into(), json!(e.label));
            }
        }
        put_attributes(&mut o, &stix_type, &e.attributes);
        if has_private(&e.attributes) {
            private_props += 1;
        }
        let marks = markings(&e.attributes);
        if !marks.is_empty() {
            o.insert("object_marking_refs".into(), Value::Array(marks));
        }
        o.insert(
            COPKIT_MEMBER.into(),
            json!({"type": e.entity_type, "label": e.label, "category": e.category,
                   "grading": e.grading, "provenance": e.provenance,
                   "attributes": serde_json::from_str::<Value>(&attrs_json(&e.attributes)).unwrap_or(Value::Null)}),
        );
        index.insert(e.id, objects.len());
        stix_ids.insert(e.id, (id, stix_type));
        objects.push(o);
    }
    let mut undirected = 0usize;
    let mut relationships = Vec::new();
    for l in &sel.links {
        let (Some((source, _)), Some((target, _))) =
            (stix_ids.get(&l.source), stix_ids.get(&l.target))
        else {
            continue;
        };
        // A link the import made from an embedded reference goes back into its object.
        if let Some(key) = value_of(&l.attributes, STIX_REF)
            && valid_property(key)
            && let Some(&i) = index.get(&l.source)
        {
            let o = &mut objects[i];
            if key.ends_with("_refs") {
                let list = o.entry(key.to_string()).or_insert_with(|| json!([]));
                if let Some(a) = list.as_array_mut()
                    && !a.contains(&json!(target))
                {
                    a.push(json!(target));
                }
            } else {
                o.insert(key.to_string(), json!(target));
            }
            continue;
        }
        if !l.directed {
            undirected += 1;
        }
        let mut o = Map::new();
        o.insert("type".into(), json!("relationship"));
        o.insert("spec_version".into(), json!("2.1"));
        let id = keep_or_new(l.source_id.as_deref(), "relationship", &l.id.to_string());
        o.insert("id".into(), json!(id));
        for key in ["created", "modified"] {
            let given = value_of(&l.attributes, key)
                .filter(|v| chrono::DateTime::parse_from_rfc3339(v.trim()).is_ok());
            o.insert(key.into(), json!(given.unwrap_or(&now)));
        }
        o.insert(
            "relationship_type".into(),
            json!(relationship_type(&l.link_type)),
        );
        o.insert("source_ref".into(), json!(source));
        o.insert("target_ref".into(), json!(target));
        if let Some(label) = &l.label
            && value_of(&l.attributes, "description").is_none()
        {
            o.insert("description".into(), json!(label));
        }
        for (ours, stix) in [("startDate", "start_time"), ("endDate", "stop_time")] {
            if value_of(&l.attributes, stix).is_none()
                && let Some(d) = value_of(&l.attributes, ours)
                && let Some(date) = crate::model::PartialDate::parse(d.trim())
                    .ok()
                    .and_then(|p| p.earliest())
            {
                o.insert(
                    stix.into(),
                    json!(format!("{}T00:00:00Z", date.format("%Y-%m-%d"))),
                );
            }
        }
        put_attributes(&mut o, "relationship", &l.attributes);
        let marks = markings(&l.attributes);
        if !marks.is_empty() {
            o.insert("object_marking_refs".into(), Value::Array(marks));
        }
        o.insert(
            COPKIT_MEMBER.into(),
            json!({"type": l.link_type, "directed": l.directed, "weight": l.weight,
                   "label": l.label, "strength": l.strength, "grading": l.grading,
                   "provenance": l.provenance,
                   "attributes": serde_json::from_str::<Value>(&attrs_json(&l.attributes)).unwrap_or(Value::Null)}),
        );
        relationships.push(o);
    }
    let (mut one_sided, mut extra_participants, mut as_relationships) = (0usize, 0usize, 0usize);
    for ev in &sel.events {
        let parts: Vec<(ParticipantRole, &(String, String))> = ev
            .participants
            .iter()
            .filter_map(|p| stix_ids.get(&p.entity).map(|s| (p.role, s)))
            .collect();
        let attrs =
            serde_json::from_str::<Value>(&attrs_json(&ev.attributes)).unwrap_or(Value::Null);
        // Every participant in its role, and the mark of an event: our import reads the
        // object back as this event, whatever STIX object carries it.
        let roles: Vec<(ParticipantRole, &str)> = parts
            .iter()
            .map(|(role, (id, _))| (*role, id.as_str()))
            .collect();
        let copkit = json!({"event": true, "type": ev.event_type, "time": ev.time,
                            "grading": ev.grading, "provenance": ev.provenance,
                            "attributes": attrs, "participants": roles});
        let mut o = Map::new();
        let sighted = parts
            .first()
            .filter(|(_, (_, t))| !SCO_TYPES.contains(&t.as_str()))
            .filter(|_| ev.event_type.eq_ignore_ascii_case(SIGHTING_EVENT));
        if let Some((_, (of, _))) = sighted {
            o.insert("type".into(), json!("sighting"));
            o.insert("spec_version".into(), json!("2.1"));
            let id = keep_or_new(ev.source_id.as_deref(), "sighting", &ev.id.to_string());
            o.insert("id".into(), json!(id));
            for key in ["created", "modified"] {
                let given = value_of(&ev.attributes, key)
                    .filter(|v| chrono::DateTime::parse_from_rfc3339(v.trim()).is_ok());
                o.insert(key.into(), json!(given.unwrap_or(&now)));
            }
            o.insert("first_seen".into(), json!(timestamp(ev.time.start_ms)));
            if let Some(end) = ev.time.end_ms {
                o.insert("last_seen".into(), json!(timestamp(end)));
            }
            o.insert("sighting_of_ref".into(), json!(of));
            let mut where_sighted = Vec::new();
            let mut observed = Vec::new();
            for (_, (id, t)) in parts.iter().skip(1) {
                match t.as_str() {
                    "identity" | "location" => where_sighted.push(json!(id)),
                    "observed-data" => observed.push(json!(id)),
                    _ => extra_participants += 1,
                }
            }
            if !where_sighted.is_empty() {
                o.insert("where_sighted_refs".into(), Value::Array(where_sighted));
            }
            if !observed.is_empty() {
                o.insert("observed_data_refs".into(), Value::Array(observed));
            }
            put_attributes(&mut o, "sighting", &ev.attributes);
        } else if let [(_, (from, _)), (_, (to, _)), rest @ ..] = parts.as_slice() {
            as_relationships += 1;
            extra_participants += rest.len();
            o.insert("type".into(), json!("relationship"));
            o.insert("spec_version".into(), json!("2.1"));
            let id = keep_or_new(ev.source_id.as_deref(), "relationship", &ev.id.to_string());
            o.insert("id".into(), json!(id));
            o.insert("created".into(), json!(now));
            o.insert("modified".into(), json!(now));
            o.insert(
                "relationship_type".into(),
                json!(relationship_type(&ev.event_type)),
            );
            o.insert("source_ref".into(), json!(from));
            o.insert("target_ref".into(), json!(to));
            o.insert("start_time".into(), json!(timestamp(ev.time.start_ms)));
            if let Some(end) = ev.time.end_ms {
                o.insert("stop_time".into(), json!(timestamp(end)));
            }
            put_attributes(&mut o, "relationship", &ev.attributes);
        } else {
            // A relationship needs two ends: an event with fewer is our own custom object.
            one_sided += 1;
            o.insert("type".into(), json!(EVENT_OBJECT));
            o.insert("spec_version".into(), json!("2.1"));
            let id = keep_or_new(ev.source_id.as_deref(), EVENT_OBJECT, &ev.id.to_string());
            o.insert("id".into(), json!(id));
            o.insert("created".into(), json!(now));
            o.insert("modified".into(), json!(now));
            o.insert("name".into(), json!(ev.event_type));
            o.insert("start_time".into(), json!(timestamp(ev.time.start_ms)));
            if let Some(end) = ev.time.end_ms {
                o.insert("stop_time".into(), json!(timestamp(end)));
            }
            let refs: Vec<Value> = parts.iter().map(|(_, (id, _))| json!(id)).collect();
            if !refs.is_empty() {
                o.insert("participant_refs".into(), Value::Array(refs));
            }
            put_attributes(&mut o, EVENT_OBJECT, &ev.attributes);
        }
        let marks = markings(&ev.attributes);
        if !marks.is_empty() {
            o.insert("object_marking_refs".into(), Value::Array(marks));
        }
        o.insert(COPKIT_MEMBER.into(), copkit);
        relationships.push(o);
    }
    objects.extend(relationships);
    let bundle = json!({
        "type": "bundle",
        "id": format!("bundle--{}", uuid::Uuid::new_v4()),
        "objects": objects,
    });
    let text = serde_json::to_string_pretty(&bundle).unwrap_or_default();
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
        .map_err(|source| IoError::Write {
            path: path.to_path_buf(),
            source,
        })?;
    let mut cannot = Vec::new();
    if !custom.is_empty() {
        cannot.push(format!(
            "entities of types STIX has no object for ({}) were written as custom objects x-copkit-...; STIX tools that do not know them may ignore them",
            custom.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    if private_props > 0 {
        cannot.push(format!(
            "{private_props} entities have values under names STIX properties cannot have (or that STIX gives another meaning); they are kept only in the x_copkit member"
        ));
    }
    cannot.push(
        "grading and provenance are kept only in the x_copkit member, which other STIX tools ignore"
            .into(),
    );
    if undirected > 0 {
        cannot.push(format!(
            "{undirected} undirected links were written as relationships, which STIX reads as directed (source to target)"
        ));
    }
    if as_relationships > 0 {
        cannot.push(format!(
            "{as_relationships} events that are not sightings were written as relationships between their first two participants, with start_time and stop_time"
        ));
    }
    if extra_participants > 0 {
        cannot.push(format!(
            "{extra_participants} event participants beyond what a sighting or relationship holds are only in the x_copkit member"
        ));
    }
    if one_sided > 0 {
        cannot.push(format!(
            "{one_sided} events with fewer than two participants that are not sightings were written as custom objects {EVENT_OBJECT} (a relationship needs two ends); STIX tools that do not know them may ignore them"
        ));
    }
    Ok(cannot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_v5_matches_rfc_9562() {
        // Python: uuid.uuid5(uuid.NAMESPACE_DNS, "python.org").
        let dns = uuid::Uuid::parse_str("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
            .map(uuid::Uuid::into_bytes)
            .unwrap_or_default();
        assert_eq!(
            uuid_v5(&dns, "python.org").to_string(),
            "886313e1-3b8a-5372-9b90-0c9aee199e5d"
        );
    }

    #[test]
    fn relationship_types_are_lower_case_with_hyphens() {
        assert_eq!(relationship_type("employed_by"), "employed-by");
        assert_eq!(relationship_type("Call"), "call");
        assert_eq!(relationship_type("attributed-to"), "attributed-to");
        assert_eq!(relationship_type("BankAccount"), "bank-account");
        assert_eq!(relationship_type("!!"), "related-to");
    }
}
