//! STIX 2.1 bundles: import and export.
//!
//! The import reads a bundle (`{"type": "bundle", "objects": [...]}`), a bare JSON array of
//! STIX objects, or one STIX object on its own. The text is scanned for its nesting depth
//! (bounded by `max_json_depth`) before serde_json parses it, and the objects are counted
//! against `max_rows`. Every problem names the object by its index in `objects`, its `id`,
//! the line where it starts (found by the same scan) and the field.
//!
//! Mapping (the STIX `type` is always kept as attribute `stixType`, the STIX id as the
//! source id, so an export restores both):
//! - `identity`: `identity_class` individual → Person; organization, group, class, system and
//!   unknown → Organization. `contact_information` is kept as text (phone numbers in it are not
//!   split out: the field is free text).
//! - `threat-actor`: Person when `resource_level` is `individual` or the actor is an insider
//!   (`threat_actor_types` insider-accidental or insider-disgruntled), otherwise Organization:
//!   threat actors in shared intelligence are overwhelmingly groups. `intrusion-set` →
//!   Organization.
//! - `location` → Address when it has a `street_address`, otherwise Location (latitude,
//!   longitude, country, city, region kept).
//! - `email-addr` → Email; `user-account`, `domain-name` and `url` → OnlineAccount (a presence
//!   online); `ipv4-addr`, `ipv6-addr`, `mac-addr`, `infrastructure`, `autonomous-system`,
//!   `network-traffic`, `software`, `process`, `mutex`, `windows-registry-key` and
//!   `x509-certificate` → Device; `malware` and `tool` → Weapon (the instrument of the
//!   offence); `file`, `artifact`, `directory`, `email-message` and the analytic objects
//!   (`indicator`, `vulnerability`, `attack-pattern`, `course-of-action`, `campaign`,
//!   `report`, `note`, `opinion`, `grouping`, `malware-analysis`, and `incident` and
//!   `observed-data` written by our export) → Document; any other (custom) type → the
//!   import's default type.
//! - `observed-data` and `incident` from elsewhere record something that happened, so they
//!   become events: observed data an `ObservedData` event from `first_observed` to
//!   `last_observed` with its `object_refs` as participants (`number_observed` and the rest
//!   kept as attributes); an incident an `Incident` event at its `first_seen` (the incident
//!   extension's), else its `created` time, until `last_seen`. A relationship between one of
//!   them and an entity makes the entity a participant and is kept as attribute
//!   `stixRelationship` (`attributed-to threat-actor--… (relationship--…)`); a sighting's
//!   `observed_data_refs` to them become its attribute `observedData`.
//! - The label is `name`, else `value`, else the first of `account_login`, `display_name`,
//!   `street_address`, `city`, `country`, else the id.
//! - Every other property is kept as an attribute of the same name (`aliases` as `alias`,
//!   `street_address` as `street`, `postal_code` as `postalCode`, an `email-addr`'s value as
//!   `email`, a `url`'s as `url`, `account_login` as `username`): lists as one value per
//!   element, numbers and booleans as their text, objects (external references, kill chain
//!   phases, hashes, extensions) as compact JSON. Custom `x_...` properties are kept the same.
//! - Embedded references (`created_by_ref`, `object_refs`, `sample_refs`, ...) become links
//!   typed by the property without its suffix (`created_by`, `object`, `sample`) with the
//!   property in attribute `stixRef`; a reference to a relationship or sighting (a report
//!   listing one) cannot be a link and is kept as an attribute. A reference to an object in
//!   neither the bundle nor the case rejects that object (lenient mode skips the link).
//! - `relationship` → a directed link typed by `relationship_type`, with its confidence,
//!   `start_time`/`stop_time` (and their dates as `startDate`/`endDate`). `sighting` → an
//!   event of the built-in type `Sighting` at `first_seen` (else `created`), ending at
//!   `last_seen`, with the sighted object and the `observed_data_refs` as participants and the
//!   `where_sighted_refs` as participants (locations in the location role); `count` kept.
//! - Markings: our grading schemes have no TLP handling codes, so TLP is not turned into a
//!   grading (the import's own grading applies): `object_marking_refs` to a TLP marking (the
//!   four well-known TLP 2.0 ids, or a TLP `marking-definition` in the bundle) become attribute
//!   `tlp` (`TLP:AMBER`), statement markings attribute `marking`, anything else attribute
//!   `objectMarking` with its id (and a warning). `marking-definition`, `language-content` and
//!   `extension-definition` objects are not entities; the latter two are reported as not
//!   imported.
//! - An object written by our export carries `x_copkit` (our type, label, grading, provenance
//!   and exact attributes), which is restored in place of the mapping above. An event our
//!   export wrote as a `relationship` (marked `event` in `x_copkit`) or as a custom
//!   `x-copkit-event` comes back as that event, its participants in their roles; a sighting
//!   gets its participants from `x_copkit` too, those a sighting has no slot for included.

mod export;
mod read;
pub(crate) use export::write_stix;
use read::{Kind, Obj, Read, read_objects, texts};

use super::IoError;
use super::graphml::{GraphOptions, stored_attrs};
use super::report::{ImportReport, RowProblem};
use crate::jobs::CancelToken;
use crate::model::{
    EntityId, EntityRef, EventTime, ItemRef, NewAttribute, NewEntity, NewEvent, NewLink,
    NewParticipant, ParticipantRole, Provenance, Schema, normalize_value,
};
use crate::store::{AuditCategory, Case, NewBatch};
use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// The attribute that keeps an object's STIX type.
pub(crate) const STIX_TYPE: &str = "stixType";
/// The attribute of a link made from an embedded reference: the property it came from.
pub(crate) const STIX_REF: &str = "stixRef";
/// The attribute holding an object's TLP marking.
pub(crate) const TLP: &str = "tlp";
/// The member our export adds to every object, with what STIX has no slot for.
pub(crate) const COPKIT_MEMBER: &str = "x_copkit";
/// The event type a sighting becomes (one of the built-in event types).
pub(crate) const SIGHTING_EVENT: &str = "Sighting";
/// The custom object our export writes for an event that is neither a sighting nor has two
/// participants to be a relationship between.
pub(crate) const EVENT_OBJECT: &str = "x-copkit-event";

/// STIX objects that record something that happened, imported (when not written by us) as
/// events: observed data at its `first_observed`, an incident at its `first_seen` or else
/// its `created` time.
pub(crate) const HAPPENINGS: &[&str] = &["observed-data", "incident"];
/// The event type foreign observed data becomes (incidents become the built-in `Incident`).
pub(crate) const OBSERVED_DATA_EVENT: &str = "ObservedData";
/// The attribute of such an event that keeps a relationship it was an end of:
/// `relationship_type other-end-id (relationship-id)`.
pub(crate) const STIX_RELATIONSHIP: &str = "stixRelationship";

/// The TLP 2.0 marking definitions that STIX 2.1 (section 7.2.1.4) names by fixed ids; bundles
/// refer to them without carrying them.
pub(crate) const TLP_MARKINGS: &[(&str, &str)] = &[
    (
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        "TLP:WHITE",
    ),
    (
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        "TLP:GREEN",
    ),
    (
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
        "TLP:AMBER",
    ),
    (
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
        "TLP:RED",
    ),
];

/// STIX properties renamed to ours: (STIX type or `*`, STIX property, our property).
pub(crate) const RENAMED: &[(&str, &str, &str)] = &[
    ("*", "aliases", "alias"),
    ("location", "street_address", "street"),
    ("location", "postal_code", "postalCode"),
    ("email-addr", "value", "email"),
    ("url", "value", "url"),
    ("user-account", "account_login", "username"),
];

/// Properties that are not attributes: the object's identity, its markings (read apart) and
/// our own member.
const STRUCTURAL: &[&str] = &[
    "type",
    "id",
    "spec_version",
    "object_marking_refs",
    COPKIT_MEMBER,
];

/// Object types that are neither entities nor relationships.
pub(crate) const META_TYPES: &[&str] = &[
    "marking-definition",
    "language-content",
    "extension-definition",
];

/// Our entity type for a STIX object (see the module documentation).
pub(crate) fn our_type(stix_type: &str, obj: &Map<String, Value>, default: &str) -> String {
    let text = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or_default();
    let t = match stix_type {
        "identity" if text("identity_class") == "individual" => "Person",
        "identity" | "intrusion-set" => "Organization",
        "threat-actor" => {
            let insider = obj
                .get("threat_actor_types")
                .and_then(Value::as_array)
                .is_some_and(|a| {
                    a.iter().any(|t| {
                        matches!(
                            t.as_str(),
                            Some("insider-accidental" | "insider-disgruntled")
                        )
                    })
                });
            if insider || text("resource_level") == "individual" {
                "Person"
            } else {
                "Organization"
            }
        }
        "location" if obj.contains_key("street_address") => "Address",
        "location" => "Location",
        "email-addr" => "Email",
        "user-account" | "domain-name" | "url" => "OnlineAccount",
        "ipv4-addr"
        | "ipv6-addr"
        | "mac-addr"
        | "infrastructure"
        | "autonomous-system"
        | "network-traffic"
        | "software"
        | "process"
        | "mutex"
        | "windows-registry-key"
        | "x509-certificate" => "Device",
        "malware" | "tool" => "Weapon",
        "file" | "artifact" | "directory" | "email-message" | "indicator" | "vulnerability"
        | "attack-pattern" | "course-of-action" | "campaign" | "incident" | "report" | "note"
        | "opinion" | "grouping" | "observed-data" | "malware-analysis" => "Document",
        _ => return default.to_string(),
    };
    t.to_string()
}

type Problem = (Option<String>, String);

/// The ids an embedded-reference property holds (one for `_ref`, several for `_refs`).
fn ref_ids(key: &str, v: &Value) -> Option<Vec<String>> {
    if key.ends_with("_ref") || key.ends_with("_refs") {
        Some(texts(v))
    } else {
        None
    }
}

/// The link type of an embedded reference: the property without its suffix.
fn ref_link_type(key: &str) -> &str {
    key.strip_suffix("_refs")
        .or_else(|| key.strip_suffix("_ref"))
        .unwrap_or(key)
}

fn parse_time(v: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(v.trim())
        .ok()
        .map(|d| d.timestamp_millis())
}

/// The date part (YYYY-MM-DD) of a STIX timestamp, for our date properties.
fn date_part(v: &str) -> Option<String> {
    chrono::DateTime::parse_from_rfc3339(v.trim())
        .ok()
        .map(|d| d.with_timezone(&chrono::Utc).format("%Y-%m-%d").to_string())
}

fn restore<T: serde::de::DeserializeOwned>(
    c: Option<&Value>,
    key: &str,
) -> Result<Option<T>, Problem> {
    match c.and_then(|c| c.get(key)) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| (Some(format!("{COPKIT_MEMBER}.{key}")), e.to_string())),
    }
}

fn restored_attrs(c: Option<&Value>) -> Result<Option<Vec<NewAttribute>>, Problem> {
    match c.and_then(|c| c.get("attributes")) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => stored_attrs(&v.to_string(), &format!("{COPKIT_MEMBER}.attributes")).map(Some),
    }
}

fn check_attrs(schema: &Schema, owner: &str, attrs: &[NewAttribute]) -> Result<(), Problem> {
    for a in attrs {
        normalize_value(
            schema.property_kind(owner, &a.property),
            &a.property,
            &a.value,
        )
        .map_err(|e| (Some(a.property.clone()), e.to_string()))?;
    }
    Ok(())
}

/// Imports a STIX 2.1 file as one batch.
pub fn import_stix(
    case: &mut Case,
    path: &Path,
    opts: &GraphOptions,
    cancel: &CancelToken,
) -> Result<ImportReport, IoError> {
    let (src, decoded) = super::read_source_text(path, &opts.limits, "a STIX 2.1 bundle (JSON)")?;
    let file = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut report = ImportReport {
        source: path.display().to_string(),
        format: "stix".into(),
        sha256: src.sha256.clone(),
        bytes: src.bytes.len() as u64,
        encoding: decoded.encoding.into(),
        spec_name: "stix-2.1".into(),
        lenient: opts.lenient,
        ..ImportReport::default()
    };
    let read = read_objects(path, &decoded.text, opts, &mut report)?;
    let schema = case.schema().clone();
    let existing: HashMap<String, EntityId> = case
        .snapshot()?
        .entities
        .iter()
        .filter_map(|e| e.source_id.clone().map(|s| (s, e.id)))
        .collect();
    let batch = NewBatch {
        kind: "import".into(),
        description: format!("STIX 2.1 import of {file} ({})", read.shape),
        source_path: Some(path.display().to_string()),
        source_sha256: Some(src.sha256.clone()),
        source_bytes: Some(src.bytes.len() as u64),
        spec: Some(
            json!({"format": "stix", "shape": read.shape, "default_entity_type": opts.default_entity_type}),
        ),
        review_date: None,
        grading: opts.grading.clone(),
    };
    let read_rejects = report.rejected.len() as u64;
    let (applied, mut report) =
        case.import_streamed(batch, |w| -> Result<ImportReport, IoError> {
            let mut bad: BTreeSet<usize> = BTreeSet::new();
            let mut ids: HashMap<&str, EntityId> = HashMap::new();
            for o in read
                .objects
                .iter()
                .filter(|o| read.kinds.get(&o.id) == Some(&Kind::Entity))
            {
                cancel.check().map_err(|_| IoError::Cancelled)?;
                match entity(o, &read, &schema, opts, &file, &mut report) {
                    Ok(e) => {
                        if let Some(&id) = existing.get(&o.id) {
                            report.entities_merged += 1;
                            for a in e.attributes {
                                w.attribute(ItemRef::Entity(id), a)?;
                                report.attributes += 1;
                            }
                            ids.insert(&o.id, id);
                        } else {
                            report.attributes += e.attributes.len() as u64;
                            report.entities_created += 1;
                            ids.insert(&o.id, w.entity(e)?);
                        }
                    }
                    Err((field, reason)) => {
                        bad.insert(o.index);
                        report.rejected.push(o.problem(field.as_deref(), reason));
                    }
                }
            }
            let resolve = |o: &Obj, field: &str, target: &str| -> Result<EntityId, Problem> {
                ids.get(target)
                    .or_else(|| existing.get(target))
                    .copied()
                    .ok_or_else(|| {
                        let why = match read.kinds.get(target) {
                            Some(Kind::Entity) => "which was rejected",
                            Some(_) => {
                                "which is not an entity (a relationship, sighting or marking)"
                            }
                            None => "which is in neither the bundle nor the case",
                        };
                        (
                            Some(field.to_string()),
                            format!("{} refers to '{target}', {why}", o.stix_type),
                        )
                    })
            };
            // Embedded references of the entities become links.
            for o in read
                .objects
                .iter()
                .filter(|o| read.kinds.get(&o.id) == Some(&Kind::Entity))
            {
                let Some(&from) = ids.get(o.id.as_str()) else {
                    continue;
                };
                for (key, v) in &o.body {
                    if key == "object_marking_refs" {
                        continue;
                    }
                    let Some(targets) = ref_ids(key, v) else {
                        continue;
                    };
                    for target in targets {
                        if matches!(read.kinds.get(&target), Some(Kind::Relation | Kind::Meta)) {
                            continue; // kept as an attribute by `entity`
                        }
                        match resolve(o, key, &target) {
                            Ok(to) => {
                                let mut l = NewLink::new(
                                    ref_link_type(key),
                                    EntityRef::Existing(from),
                                    EntityRef::Existing(to),
                                );
                                l.directed = true;
                                l.provenance = o.provenance(&file);
                                l.grading = opts.grading.clone();
                                l.attributes.push(NewAttribute {
                                    property: STIX_REF.into(),
                                    value: key.clone(),
                                    provenance: o.provenance(&file),
                                    grading: opts.grading.clone(),
                                });
                                report.attributes += 1;
                                report.links += 1;
                                w.link(l)?;
                            }
                            Err((field, reason)) => {
                                bad.insert(o.index);
                                report.rejected.push(o.problem(field.as_deref(), reason));
                            }
                        }
                    }
                }
            }
            let mut warnings = Vec::new();
            let joined = relationships_of_happenings(&read);
            for o in read
                .objects
                .iter()
                .filter(|o| read.kinds.get(&o.id) == Some(&Kind::Relation))
            {
                cancel.check().map_err(|_| IoError::Cancelled)?;
                let result = if is_happening(o) {
                    happening(
                        o,
                        &read,
                        &joined,
                        &resolve,
                        &schema,
                        opts,
                        &file,
                        &mut warnings,
                    )
                    .map(|e| {
                        report.attributes += e.attributes.len() as u64;
                        report.events += 1;
                        w.event(e).map(|_| ())
                    })
                } else if joined.values().flatten().any(|j| j.relationship == o.id) {
                    // Made a participant of its observed data or incident instead.
                    Ok(Ok(()))
                } else if is_our_event(o) {
                    our_event(o, &read, &resolve, &schema, opts, &file, &mut warnings).map(|e| {
                        report.attributes += e.attributes.len() as u64;
                        report.events += 1;
                        w.event(e).map(|_| ())
                    })
                } else if o.stix_type == "relationship" {
                    relationship(o, &read, &resolve, &schema, opts, &file, &mut warnings).map(|l| {
                        report.attributes += l.attributes.len() as u64;
                        report.links += 1;
                        w.link(l).map(|_| ())
                    })
                } else {
                    sighting(o, &read, &resolve, &schema, opts, &file, &mut warnings).map(|e| {
                        report.attributes += e.attributes.len() as u64;
                        report.events += 1;
                        w.event(e).map(|_| ())
                    })
                };
                match result {
                    Ok(stored) => stored?,
                    Err((field, reason)) => {
                        bad.insert(o.index);
                        report.rejected.push(o.problem(field.as_deref(), reason));
                    }
                }
            }
            for o in read.objects.iter().filter(|o| {
                matches!(
                    o.stix_type.as_str(),
                    "language-content" | "extension-definition"
                )
            }) {
                report.warnings.push(o.problem(
                    Some("type"),
                    format!(
                        "a {} is not imported (COPKIT has no place for it)",
                        o.stix_type
                    ),
                ));
            }
            report.warnings.extend(warnings);
            report.rows_rejected = read_rejects + bad.len() as u64;
            report.rows_accepted = report.rows_read.saturating_sub(report.rows_rejected);
            if !opts.lenient && !report.rejected.is_empty() {
                return Err(IoError::Rejected {
                    path: path.to_path_buf(),
                    report: Box::new(report.clone()),
                });
            }
            Ok(report.clone())
        })?;
    report.batch = applied.batch;
    if report.entities_merged > 0 {
        case.record(
            AuditCategory::Combination,
            "import matched existing entities",
            json!({"batch": applied.batch.map(|b| b.0), "entities_merged": report.entities_merged, "method": "STIX id = source id"}),
        )?;
    }
    Ok(report)
}

/// The attributes of an object's properties (all but the structural ones and those in
/// `skip`), with its markings. References to entities are left out (they become links);
/// references to anything else are kept as text.
fn attributes(
    o: &Obj,
    read: &Read,
    links_from_refs: bool,
    skip: &[&str],
    prov: &Provenance,
    opts: &GraphOptions,
    warnings: &mut Vec<RowProblem>,
) -> Vec<NewAttribute> {
    let mut out = Vec::new();
    let mut push = |property: &str, value: String| {
        out.push(NewAttribute {
            property: property.to_string(),
            value,
            provenance: prov.clone(),
            grading: opts.grading.clone(),
        });
    };
    for (key, v) in &o.body {
        if STRUCTURAL.contains(&key.as_str()) || skip.contains(&key.as_str()) {
            continue;
        }
        let property = RENAMED
            .iter()
            .find(|(t, k, _)| (*t == "*" || *t == o.stix_type) && *k == key.as_str())
            .map_or(key.as_str(), |r| r.2);
        let is_ref = ref_ids(key, v).is_some();
        for value in texts(v) {
            // An entity's reference to an entity (in the bundle or the case, or a dangling
            // one, rejected) becomes a link; to a relationship or marking it stays text.
            if links_from_refs
                && is_ref
                && !matches!(read.kinds.get(&value), Some(Kind::Relation | Kind::Meta))
            {
                continue;
            }
            push(property, value);
        }
    }
    if let Some(refs) = o.body.get("object_marking_refs") {
        for m in texts(refs) {
            match read.markings.get(&m) {
                Some((true, tlp)) => push(TLP, tlp.clone()),
                Some((false, statement)) => push("marking", statement.clone()),
                None => {
                    warnings.push(o.problem(
                        Some("object_marking_refs"),
                        format!("marking '{m}' is not in the bundle and not a TLP marking; its id is kept as attribute objectMarking"),
                    ));
                    push("objectMarking", m);
                }
            }
        }
    }
    out
}

fn entity(
    o: &Obj,
    read: &Read,
    schema: &Schema,
    opts: &GraphOptions,
    file: &str,
    report: &mut ImportReport,
) -> Result<NewEntity, Problem> {
    let c = o.body.get(COPKIT_MEMBER);
    let entity_type = restore::<String>(c, "type")?
        .filter(|t| schema.entity_type(t).is_ok())
        .unwrap_or_else(|| our_type(&o.stix_type, &o.body, &opts.default_entity_type));
    schema
        .entity_type(&entity_type)
        .map_err(|e| (Some("type".to_string()), e.to_string()))?;
    let prov = o.provenance(file);
    let label = restore::<String>(c, "label")?
        .or_else(|| {
            [
                "name",
                "value",
                "account_login",
                "display_name",
                "street_address",
                "city",
                "country",
            ]
            .iter()
            .find_map(|k| o.text(k).filter(|t| !t.trim().is_empty()))
            .map(str::to_string)
        })
        .unwrap_or_else(|| o.id.clone());
    let mut e = NewEntity::new(entity_type.clone(), label);
    e.source_id = Some(o.id.clone());
    e.provenance = restore(c, "provenance")?.unwrap_or_else(|| prov.clone());
    e.grading = restore(c, "grading")?.or_else(|| opts.grading.clone());
    e.category = restore(c, "category")?;
    if let Some(attrs) = restored_attrs(c)? {
        e.attributes = attrs;
    } else {
        // The label's own property is not repeated, unless it is one of ours (an email).
        let skip: &[&str] = match o.stix_type.as_str() {
            "email-addr" | "url" => &["name"],
            _ => &["name", "value"],
        };
        e.attributes.push(NewAttribute {
            property: STIX_TYPE.into(),
            value: o.stix_type.clone(),
            provenance: prov.clone(),
            grading: opts.grading.clone(),
        });
        let mut warnings = Vec::new();
        e.attributes
            .extend(attributes(o, read, true, skip, &prov, opts, &mut warnings));
        report.warnings.extend(warnings);
    }
    check_attrs(schema, &entity_type, &e.attributes)?;
    Ok(e)
}

type Resolve<'a> = dyn Fn(&Obj, &str, &str) -> Result<EntityId, Problem> + 'a;

fn relationship(
    o: &Obj,
    read: &Read,
    resolve: &Resolve<'_>,
    schema: &Schema,
    opts: &GraphOptions,
    file: &str,
    warnings: &mut Vec<RowProblem>,
) -> Result<NewLink, Problem> {
    let c = o.body.get(COPKIT_MEMBER);
    let field_text = |k: &str| {
        o.text(k)
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| (Some(k.to_string()), format!("a relationship needs a '{k}'")))
    };
    let s = resolve(o, "source_ref", field_text("source_ref")?)?;
    let t = resolve(o, "target_ref", field_text("target_ref")?)?;
    let link_type =
        restore::<String>(c, "type")?.unwrap_or(field_text("relationship_type")?.to_string());
    let mut l = NewLink::new(link_type, EntityRef::Existing(s), EntityRef::Existing(t));
    l.directed = restore(c, "directed")?.unwrap_or(true);
    l.weight = restore(c, "weight")?;
    l.label = restore(c, "label")?;
    if let Some(st) = restore(c, "strength")? {
        l.strength = st;
    }
    l.source_id = Some(o.id.clone());
    let prov = o.provenance(file);
    l.provenance = restore(c, "provenance")?.unwrap_or_else(|| prov.clone());
    l.grading = restore(c, "grading")?.or_else(|| opts.grading.clone());
    if let Some(attrs) = restored_attrs(c)? {
        l.attributes = attrs;
    } else {
        l.attributes = attributes(
            o,
            read,
            false,
            &["source_ref", "target_ref", "relationship_type"],
            &prov,
            opts,
            warnings,
        );
        for (stix, ours) in [("start_time", "startDate"), ("stop_time", "endDate")] {
            if let Some(v) = o.text(stix) {
                let date = date_part(v).ok_or_else(|| {
                    (
                        Some(stix.to_string()),
                        format!("'{v}' is not a STIX timestamp (RFC 3339)"),
                    )
                })?;
                l.attributes.push(NewAttribute {
                    property: ours.into(),
                    value: date,
                    provenance: prov.clone(),
                    grading: opts.grading.clone(),
                });
            }
        }
    }
    check_attrs(schema, "", &l.attributes)?;
    Ok(l)
}

fn sighting(
    o: &Obj,
    read: &Read,
    resolve: &Resolve<'_>,
    schema: &Schema,
    opts: &GraphOptions,
    file: &str,
    warnings: &mut Vec<RowProblem>,
) -> Result<NewEvent, Problem> {
    let c = o.body.get(COPKIT_MEMBER);
    let time = match restore::<EventTime>(c, "time")? {
        Some(t) => t,
        None => {
            let (field, text) = ["first_seen", "created"]
                .iter()
                .find_map(|k| o.text(k).map(|t| (*k, t)))
                .ok_or_else(|| {
                    (
                        Some("first_seen".to_string()),
                        "a sighting without first_seen or created has no time".to_string(),
                    )
                })?;
            let start_ms = parse_time(text).ok_or_else(|| {
                (
                    Some(field.to_string()),
                    format!("'{text}' is not a STIX timestamp (RFC 3339)"),
                )
            })?;
            let end_ms = match o.text("last_seen") {
                None => None,
                Some(t) => Some(parse_time(t).ok_or_else(|| {
                    (
                        Some("last_seen".to_string()),
                        format!("'{t}' is not a STIX timestamp (RFC 3339)"),
                    )
                })?),
            };
            EventTime {
                start_ms,
                end_ms: end_ms.filter(|&e| e > start_ms),
                original_text: Some(text.to_string()),
                original_zone: None,
            }
        }
    };
    let mut e = NewEvent::new(
        restore::<String>(c, "type")?.unwrap_or_else(|| SIGHTING_EVENT.to_string()),
        time,
    );
    e.source_id = Some(o.id.clone());
    let prov = o.provenance(file);
    e.provenance = restore(c, "provenance")?.unwrap_or_else(|| prov.clone());
    e.grading = restore(c, "grading")?.or_else(|| opts.grading.clone());
    let of = o.text("sighting_of_ref").ok_or_else(|| {
        (
            Some("sighting_of_ref".to_string()),
            "a sighting needs a 'sighting_of_ref'".to_string(),
        )
    })?;
    if let Some(parts) = restored_participants(o, resolve)? {
        // Our export kept every participant in its role, those a sighting has no slot for too.
        e.participants = parts;
        return finish_event(e, o, read, schema, opts, &prov, warnings, SIGHTING_SLOTS);
    }
    e.participants.push(NewParticipant::new(
        ParticipantRole::Participant,
        EntityRef::Existing(resolve(o, "sighting_of_ref", of)?),
    ));
    let mut observed = Vec::new();
    for key in ["observed_data_refs", "where_sighted_refs"] {
        for target in o.body.get(key).map(texts).unwrap_or_default() {
            if key == "observed_data_refs" && read.objects_happening(&target) {
                // Observed data is an event of its own, not a participant: named by its id.
                observed.push(target);
                continue;
            }
            let who = resolve(o, key, &target)?;
            let role = if target.starts_with("location--") {
                ParticipantRole::Location
            } else {
                ParticipantRole::Participant
            };
            e.participants
                .push(NewParticipant::new(role, EntityRef::Existing(who)));
        }
    }
    let mut e = finish_event(e, o, read, schema, opts, &prov, warnings, SIGHTING_SLOTS)?;
    for id in observed {
        e.attributes.push(NewAttribute {
            property: "observedData".into(),
            value: id,
            provenance: prov.clone(),
            grading: opts.grading.clone(),
        });
    }
    Ok(e)
}

/// Whether an object is foreign observed data or an incident, imported as an event.
fn is_happening(o: &Obj) -> bool {
    HAPPENINGS.contains(&o.stix_type.as_str()) && !o.body.contains_key(COPKIT_MEMBER)
}

/// A relationship between an observed data or incident object and an entity: the entity
/// becomes a participant of the event, and the relationship an attribute of it.
struct Joined<'a> {
    relationship: &'a str,
    relationship_type: &'a str,
    other: &'a str,
}

/// The relationships (from elsewhere) with an observed data or incident object at one end and
/// anything else at the other, by the observed data's or incident's id.
fn relationships_of_happenings(read: &Read) -> HashMap<&str, Vec<Joined<'_>>> {
    let mut out: HashMap<&str, Vec<Joined<'_>>> = HashMap::new();
    for o in read.objects.iter().filter(|o| {
        o.stix_type == "relationship" && !is_our_event(o) && !o.body.contains_key(COPKIT_MEMBER)
    }) {
        let (Some(source), Some(target)) = (o.text("source_ref"), o.text("target_ref")) else {
            continue;
        };
        let (event, other) = match (
            read.objects_happening(source),
            read.objects_happening(target),
        ) {
            (true, false) => (source, target),
            (false, true) => (target, source),
            // Both ends events (or neither): left to `relationship`, which says why not.
            _ => continue,
        };
        out.entry(event).or_default().push(Joined {
            relationship: &o.id,
            relationship_type: o.text("relationship_type").unwrap_or("related-to"),
            other,
        });
    }
    out
}

/// Foreign observed data (event `ObservedData` from `first_observed` to `last_observed`, its
/// `object_refs` the participants) or an incident (event `Incident` at `first_seen`, else
/// `created`, until `last_seen`); the entities at the other end of relationships with it
/// join as participants, each relationship kept as attribute `stixRelationship`.
#[allow(clippy::too_many_arguments)] // reason: the object and everything its event comes from
fn happening(
    o: &Obj,
    read: &Read,
    joined: &HashMap<&str, Vec<Joined<'_>>>,
    resolve: &Resolve<'_>,
    schema: &Schema,
    opts: &GraphOptions,
    file: &str,
    warnings: &mut Vec<RowProblem>,
) -> Result<NewEvent, Problem> {
    let observed = o.stix_type == "observed-data";
    let (starts, end, event_type, slots): (&[&str], &str, &str, &[&str]) = if observed {
        (
            &["first_observed"],
            "last_observed",
            OBSERVED_DATA_EVENT,
            &["first_observed", "last_observed", "object_refs"],
        )
    } else {
        (
            &["first_seen", "created"],
            "last_seen",
            "Incident",
            &["first_seen", "last_seen"],
        )
    };
    let stamp = |key: &str, text: &str| {
        parse_time(text).ok_or_else(|| {
            (
                Some(key.to_string()),
                format!("'{text}' is not a STIX timestamp (RFC 3339)"),
            )
        })
    };
    let (field, text) = starts
        .iter()
        .find_map(|k| o.text(k).map(|t| (*k, t)))
        .ok_or_else(|| {
            (
                Some(starts[0].to_string()),
                format!(
                    "a {} without {} has no time",
                    o.stix_type,
                    starts.join(" or ")
                ),
            )
        })?;
    let start_ms = stamp(field, text)?;
    let end_ms = o.text(end).map(|t| stamp(end, t)).transpose()?;
    let mut e = NewEvent::new(
        event_type,
        EventTime {
            start_ms,
            end_ms: end_ms.filter(|&e| e > start_ms),
            original_text: Some(text.to_string()),
            original_zone: None,
        },
    );
    e.source_id = Some(o.id.clone());
    let prov = o.provenance(file);
    e.provenance = prov.clone();
    e.grading = opts.grading.clone();
    let role_of = |id: &str| {
        if id.starts_with("location--") {
            ParticipantRole::Location
        } else {
            ParticipantRole::Participant
        }
    };
    if observed {
        for target in o.body.get("object_refs").map(texts).unwrap_or_default() {
            let who = resolve(o, "object_refs", &target)?;
            e.participants.push(NewParticipant::new(
                role_of(&target),
                EntityRef::Existing(who),
            ));
        }
    }
    let mut e = finish_event(e, o, read, schema, opts, &prov, warnings, slots)?;
    e.attributes.push(NewAttribute {
        property: STIX_TYPE.into(),
        value: o.stix_type.clone(),
        provenance: prov.clone(),
        grading: opts.grading.clone(),
    });
    for j in joined.get(o.id.as_str()).into_iter().flatten() {
        let who = resolve(
            o,
            &format!("{} (relationship {})", j.relationship_type, j.relationship),
            j.other,
        )?;
        if !e
            .participants
            .iter()
            .any(|p| p.entity == EntityRef::Existing(who))
        {
            e.participants.push(NewParticipant::new(
                role_of(j.other),
                EntityRef::Existing(who),
            ));
        }
        e.attributes.push(NewAttribute {
            property: STIX_RELATIONSHIP.into(),
            value: format!("{} {} ({})", j.relationship_type, j.other, j.relationship),
            provenance: prov.clone(),
            grading: opts.grading.clone(),
        });
    }
    Ok(e)
}

/// The properties of a sighting that are its participants, not attributes.
const SIGHTING_SLOTS: &[&str] = &[
    "sighting_of_ref",
    "observed_data_refs",
    "where_sighted_refs",
];

/// The properties of an event our export wrote as a relationship or custom object that are
/// its ends, type and time, not attributes.
const EVENT_SLOTS: &[&str] = &[
    "source_ref",
    "target_ref",
    "relationship_type",
    "start_time",
    "stop_time",
    "participant_refs",
    "name",
];

/// An event's attributes: those our export kept, else the object's other properties.
#[allow(clippy::too_many_arguments)] // reason: the event and everything its attributes come from
fn finish_event(
    mut e: NewEvent,
    o: &Obj,
    read: &Read,
    schema: &Schema,
    opts: &GraphOptions,
    prov: &Provenance,
    warnings: &mut Vec<RowProblem>,
    slots: &[&str],
) -> Result<NewEvent, Problem> {
    let c = o.body.get(COPKIT_MEMBER);
    e.attributes = match restored_attrs(c)? {
        Some(attrs) => attrs,
        None => attributes(o, read, false, slots, prov, opts, warnings),
    };
    check_attrs(schema, "", &e.attributes)?;
    Ok(e)
}

/// The participants our export kept in `x_copkit` (role and STIX id of each), resolved.
fn restored_participants(
    o: &Obj,
    resolve: &Resolve<'_>,
) -> Result<Option<Vec<NewParticipant>>, Problem> {
    let Some(parts) =
        restore::<Vec<(ParticipantRole, String)>>(o.body.get(COPKIT_MEMBER), "participants")?
    else {
        return Ok(None);
    };
    let field = format!("{COPKIT_MEMBER}.participants");
    parts
        .into_iter()
        .map(|(role, id)| {
            resolve(o, &field, &id).map(|e| NewParticipant::new(role, EntityRef::Existing(e)))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Whether an object is an event our export wrote: its custom event object, or a
/// relationship whose `x_copkit` marks it an event.
fn is_our_event(o: &Obj) -> bool {
    o.stix_type == EVENT_OBJECT
        || o.body
            .get(COPKIT_MEMBER)
            .and_then(|c| c.get("event"))
            .and_then(Value::as_bool)
            == Some(true)
}

/// An event our export wrote as a relationship or an `x-copkit-event`: its time, type and
/// participants from `x_copkit`, else from `start_time`/`stop_time`, the relationship type
/// or `name`, and the ends (`source_ref` from, `target_ref` to) or `participant_refs`.
fn our_event(
    o: &Obj,
    read: &Read,
    resolve: &Resolve<'_>,
    schema: &Schema,
    opts: &GraphOptions,
    file: &str,
    warnings: &mut Vec<RowProblem>,
) -> Result<NewEvent, Problem> {
    let c = o.body.get(COPKIT_MEMBER);
    let stamp = |key: &str| -> Result<Option<i64>, Problem> {
        o.text(key)
            .map(|t| {
                parse_time(t).ok_or_else(|| {
                    (
                        Some(key.to_string()),
                        format!("'{t}' is not a STIX timestamp (RFC 3339)"),
                    )
                })
            })
            .transpose()
    };
    let time = match restore::<EventTime>(c, "time")? {
        Some(t) => t,
        None => {
            let start_ms = stamp("start_time")?.ok_or_else(|| {
                (
                    Some("start_time".to_string()),
                    format!("an event ({}) without start_time has no time", o.stix_type),
                )
            })?;
            EventTime {
                start_ms,
                end_ms: stamp("stop_time")?.filter(|&e| e > start_ms),
                original_text: o.text("start_time").map(str::to_string),
                original_zone: None,
            }
        }
    };
    let event_type = restore::<String>(c, "type")?
        .or_else(|| {
            ["relationship_type", "name"]
                .iter()
                .find_map(|k| o.text(k))
                .map(str::to_string)
        })
        .unwrap_or_else(|| "Event".to_string());
    let mut e = NewEvent::new(event_type, time);
    e.source_id = Some(o.id.clone());
    let prov = o.provenance(file);
    e.provenance = restore(c, "provenance")?.unwrap_or_else(|| prov.clone());
    e.grading = restore(c, "grading")?.or_else(|| opts.grading.clone());
    e.participants = match restored_participants(o, resolve)? {
        Some(parts) => parts,
        None => {
            let mut parts = Vec::new();
            for (key, role) in [
                ("source_ref", ParticipantRole::From),
                ("target_ref", ParticipantRole::To),
                ("participant_refs", ParticipantRole::Participant),
            ] {
                for target in o.body.get(key).map(texts).unwrap_or_default() {
                    let who = resolve(o, key, &target)?;
                    parts.push(NewParticipant::new(role, EntityRef::Existing(who)));
                }
            }
            parts
        }
    };
    finish_event(e, o, read, schema, opts, &prov, warnings, EVENT_SLOTS)
}
