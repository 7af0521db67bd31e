//! FollowTheMoney JSON lines: import and export. Things (Person, Company, Organization,
//! LegalEntity, Address, Vehicle, BankAccount) become entities; Ownership, Directorship,
//! Family, Associate, Membership, Employment and UnknownLink become links; Call, Payment and
//! Event become events. FtM ids become source ids. Unknown properties are kept as raw values
//! and reported; unknown schemas reject their line. The exporter adds a `copkit` member to
//! each object (ignored by FtM tools) holding grading, provenance and exact values, so a
//! round trip keeps them.

use super::export::Selection;
use super::graphml::{attrs_json, stored_attrs};
use super::report::{ImportReport, RowProblem};
use super::{IoError, Limits, read_source, sniff_binary};
use crate::jobs::CancelToken;
use crate::model::{
    EntityId, EntityRef, EventTime, Grading, NewAttribute, NewEntity, NewEvent, NewLink,
    NewParticipant, ParticipantRole, PersonCategory, Provenance, Schema, normalize_value,
};
use crate::store::{AuditCategory, Case, CaseSnapshot, NewBatch};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;

/// The attribute that keeps a thing's FtM schema where our type maps several (Company,
/// LegalEntity and PublicBody all read as Organization), so that an export writes it again.
const FTM_SCHEMA: &str = "ftmSchema";

/// FtM thing schemas and the entity types they become.
const THINGS: &[(&str, &str)] = &[
    ("Person", "Person"),
    ("Company", "Organization"),
    ("Organization", "Organization"),
    ("LegalEntity", "Organization"),
    ("PublicBody", "Organization"),
    ("Address", "Address"),
    ("Vehicle", "Vehicle"),
    ("BankAccount", "BankAccount"),
    ("UserAccount", "OnlineAccount"),
    ("Document", "Document"),
];

/// FtM interval schemas that become links: (schema, source property, target property, link type).
const LINKS: &[(&str, &str, &str, &str)] = &[
    ("Ownership", "owner", "asset", "owns"),
    ("Directorship", "director", "organization", "director_of"),
    ("Family", "person", "relative", "family"),
    ("Associate", "person", "associate", "associate"),
    ("Membership", "member", "organization", "member_of"),
    ("Employment", "employee", "employer", "employed_by"),
    ("UnknownLink", "subject", "object", "associate"),
];

/// FtM interval schemas that become events: (schema, from property, to property, event type).
const EVENTS: &[(&str, &str, &str, &str)] = &[
    ("Call", "caller", "receiver", "Call"),
    ("Payment", "payer", "beneficiary", "Transaction"),
    ("Event", "organizer", "involved", "Event"),
];

/// Adds a value to an FtM property's list, once.
fn add_value(props: &mut serde_json::Map<String, Value>, key: impl Into<String>, value: &str) {
    let list = props.entry(key).or_insert_with(|| json!([]));
    if let Some(arr) = list.as_array_mut()
        && !arr.iter().any(|x| x == value)
    {
        arr.push(json!(value));
    }
}

fn json_depth(line: &str) -> usize {
    let (mut depth, mut max, mut in_str, mut esc) = (0usize, 0usize, false, false);
    for b in line.bytes() {
        if in_str {
            match (esc, b) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

fn values(props: &Value, key: &str) -> Vec<String> {
    match props.get(key) {
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![other.to_string()],
    }
}

struct Record {
    line: u64,
    id: String,
    schema: String,
    props: Value,
    copkit: Option<Value>,
}

type Problem = (Option<String>, String);

fn parse_time(v: &str) -> Option<i64> {
    let v = v.trim();
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(v) {
        return Some(d.timestamp_millis());
    }
    if let Ok(d) = chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S") {
        return Some(d.and_utc().timestamp_millis());
    }
    crate::model::PartialDate::parse(v)
        .ok()
        .and_then(|d| d.earliest())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc().timestamp_millis())
}

fn restore<T: serde::de::DeserializeOwned>(
    c: Option<&Value>,
    key: &str,
) -> Result<Option<T>, Problem> {
    match c.and_then(|c| c.get(key)) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| (Some(format!("copkit.{key}")), e.to_string())),
    }
}

fn stored(c: Option<&Value>) -> Result<Option<Vec<NewAttribute>>, Problem> {
    match c.and_then(|c| c.get("attributes")) {
        None => Ok(None),
        Some(v) => stored_attrs(&v.to_string(), "copkit.attributes").map(Some),
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

/// Imports a FollowTheMoney JSON-lines file as one batch.
pub fn import_ftm(
    case: &mut Case,
    path: &Path,
    lenient: bool,
    limits: &Limits,
    grading: Option<&Grading>,
    cancel: &CancelToken,
) -> Result<ImportReport, IoError> {
    let src = read_source(path, limits)?;
    if src.bytes.is_empty() {
        return Err(IoError::Empty {
            path: path.to_path_buf(),
            what: "the file is empty (0 bytes); there is nothing to import",
        });
    }
    if let Some(what) = sniff_binary(&src.bytes) {
        return Err(IoError::WrongFormat {
            path: path.to_path_buf(),
            what: what.into(),
            expected: "a FollowTheMoney JSON-lines file",
        });
    }
    let decoded = super::decode_text(&src, None)?;
    let file = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut report = ImportReport {
        source: path.display().to_string(),
        format: "ftm".into(),
        sha256: src.sha256.clone(),
        bytes: src.bytes.len() as u64,
        encoding: decoded.encoding.into(),
        spec_name: "followthemoney".into(),
        lenient,
        ..ImportReport::default()
    };
    let mut records = Vec::new();
    for (i, line) in decoded.text.lines().enumerate() {
        let n = i as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        report.rows_read += 1;
        if report.rows_read > limits.max_rows {
            return Err(IoError::Bound {
                path: path.to_path_buf(),
                bound: "max_rows",
                detail: format!("more than {} records", limits.max_rows),
            });
        }
        let reject = |field: Option<&str>, reason: String| RowProblem {
            line: n,
            field: field.map(str::to_string),
            reason,
        };
        let depth = json_depth(line);
        if depth > limits.max_json_depth {
            return Err(IoError::Bound {
                path: path.to_path_buf(),
                bound: "max_json_depth",
                detail: format!(
                    "line {n} nests {depth} levels, the limit is {}",
                    limits.max_json_depth
                ),
            });
        }
        let v: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                report.rejected.push(reject(
                    None,
                    format!("not valid JSON at column {} ({e})", e.column()),
                ));
                continue;
            }
        };
        let (Some(id), Some(schema)) = (
            v.get("id").and_then(Value::as_str),
            v.get("schema").and_then(Value::as_str),
        ) else {
            report.rejected.push(reject(
                Some("id/schema"),
                "a FollowTheMoney entity needs an id and a schema".into(),
            ));
            continue;
        };
        let known = THINGS.iter().any(|t| t.0 == schema)
            || LINKS.iter().any(|t| t.0 == schema)
            || EVENTS.iter().any(|t| t.0 == schema);
        if !known {
            report.rejected.push(reject(
                Some("schema"),
                format!("unknown or unsupported schema '{schema}' (entity {id})"),
            ));
            continue;
        }
        records.push(Record {
            line: n,
            id: id.to_string(),
            schema: schema.to_string(),
            props: v.get("properties").cloned().unwrap_or(json!({})),
            copkit: v.get("copkit").cloned(),
        });
    }
    let case_schema = case.schema().clone();
    let batch = NewBatch {
        kind: "import".into(),
        description: format!("FollowTheMoney import of {file}"),
        source_path: Some(path.display().to_string()),
        source_sha256: Some(src.sha256.clone()),
        source_bytes: Some(src.bytes.len() as u64),
        spec: Some(json!({"format": "ftm"})),
        review_date: None,
        grading: grading.cloned(),
    };
    let existing: HashMap<String, EntityId> = case
        .snapshot()?
        .entities
        .iter()
        .filter_map(|e| e.source_id.clone().map(|s| (s, e.id)))
        .collect();
    let (applied, mut report) = case.import_streamed(batch, |w| -> Result<ImportReport, IoError> {
        let mut ids: HashMap<String, EntityId> = HashMap::new();
        let prov = |r: &Record| Provenance {
            batch: None,
            source_file: Some(file.clone()),
            record: Some(format!("line {} ({})", r.line, r.id)),
        };
        // Things first, so intervals may refer to entities later in the file.
        for r in records.iter().filter(|r| THINGS.iter().any(|t| t.0 == r.schema)) {
            cancel.check().map_err(|_| IoError::Cancelled)?;
            match thing(r, &case_schema, &prov(r), grading, &mut report) {
                Ok(e) => {
                    if let Some(&id) = existing.get(&r.id) {
                        report.entities_merged += 1;
                        for a in e.attributes {
                            w.attribute(crate::model::ItemRef::Entity(id), a)?;
                            report.attributes += 1;
                        }
                        ids.insert(r.id.clone(), id);
                    } else if ids.contains_key(&r.id) {
                        report.rejected.push(RowProblem {
                            line: r.line,
                            field: Some("id".into()),
                            reason: format!("entity id {} appears twice", r.id),
                        });
                    } else {
                        report.attributes += e.attributes.len() as u64;
                        report.entities_created += 1;
                        ids.insert(r.id.clone(), w.entity(e)?);
                    }
                }
                Err((field, reason)) => report.rejected.push(RowProblem { line: r.line, field, reason }),
            }
        }
        for r in records.iter().filter(|r| !THINGS.iter().any(|t| t.0 == r.schema)) {
            let resolve = |prop: &str, who: &str| -> Result<EntityId, Problem> {
                ids.get(who)
                    .or_else(|| existing.get(who))
                    .copied()
                    .ok_or_else(|| (Some(prop.to_string()), format!("{} {} refers to entity '{who}', which is neither in the file nor in the case", r.schema, r.id)))
            };
            let result = if let Some(&(_, sp, tp, lt)) = LINKS.iter().find(|t| t.0 == r.schema) {
                interval_link(r, sp, tp, lt, &resolve, &prov(r), grading, &case_schema).map(|l| {
                    report.attributes += l.attributes.len() as u64;
                    report.links += 1;
                    w.link(l).map(|_| ())
                })
            } else if let Some(&(_, fp, tp, et)) = EVENTS.iter().find(|t| t.0 == r.schema) {
                interval_event(r, fp, tp, et, &resolve, &prov(r), grading, &case_schema).map(|e| {
                    report.attributes += e.attributes.len() as u64;
                    report.events += 1;
                    w.event(e).map(|_| ())
                })
            } else {
                continue;
            };
            match result {
                Ok(stored) => stored?,
                Err((field, reason)) => report.rejected.push(RowProblem { line: r.line, field, reason }),
            }
        }
        report.rows_rejected = report.rejected.len() as u64;
        report.rows_accepted = report.rows_read - report.rows_rejected;
        if !lenient && !report.rejected.is_empty() {
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
            json!({"batch": applied.batch.map(|b| b.0), "entities_merged": report.entities_merged, "method": "FtM id = source id"}),
        )?;
    }
    Ok(report)
}

fn thing(
    r: &Record,
    schema: &Schema,
    prov: &Provenance,
    grading: Option<&Grading>,
    report: &mut ImportReport,
) -> Result<NewEntity, Problem> {
    let c = r.copkit.as_ref();
    let entity_type = restore::<String>(c, "type")?
        .filter(|t| schema.entity_type(t).is_ok())
        .unwrap_or_else(|| {
            THINGS
                .iter()
                .find(|t| t.0 == r.schema)
                .map_or("Organization", |t| t.1)
                .to_string()
        });
    let def = schema
        .entity_type(&entity_type)
        .map_err(|e| (Some("schema".into()), e.to_string()))?;
    let mut e = NewEntity::new(entity_type.clone(), r.id.clone());
    e.source_id = Some(r.id.clone());
    e.provenance = restore(c, "provenance")?.unwrap_or(prov.clone());
    e.grading = restore(c, "grading")?.or_else(|| grading.cloned());
    e.category = restore::<PersonCategory>(c, "category")?;
    if let Some(attrs) = stored(c)? {
        e.attributes = attrs;
    } else if let Some(props) = r.props.as_object() {
        for (key, _) in props {
            let ours = def
                .properties
                .iter()
                .find(|p| p.ftm.as_deref() == Some(key.as_str()));
            if ours.is_none() {
                report.warnings.push(RowProblem {
                    line: r.line,
                    field: Some(key.clone()),
                    reason: format!(
                        "{} property '{key}' has no COPKIT equivalent; kept as given",
                        r.schema
                    ),
                });
            }
            let property = ours.map_or_else(|| key.clone(), |p| p.key.clone());
            for v in values(&r.props, key) {
                e.attributes.push(NewAttribute {
                    property: property.clone(),
                    value: v,
                    provenance: prov.clone(),
                    grading: grading.cloned(),
                });
            }
        }
        if r.schema != entity_type {
            e.attributes.push(NewAttribute {
                property: FTM_SCHEMA.into(),
                value: r.schema.clone(),
                provenance: prov.clone(),
                grading: grading.cloned(),
            });
        }
    }
    check_attrs(schema, &entity_type, &e.attributes)?;
    e.label = restore::<String>(c, "label")?
        .or_else(|| values(&r.props, "name").into_iter().next())
        .or_else(|| values(&r.props, "full").into_iter().next())
        .or_else(|| values(&r.props, "registrationNumber").into_iter().next())
        .or_else(|| values(&r.props, "iban").into_iter().next())
        .unwrap_or_else(|| r.id.clone());
    Ok(e)
}

fn other_props(
    r: &Record,
    skip: &[&str],
    prov: &Provenance,
    grading: Option<&Grading>,
) -> Vec<NewAttribute> {
    let mut out = Vec::new();
    if let Some(props) = r.props.as_object() {
        for (key, _) in props {
            if skip.contains(&key.as_str()) {
                continue;
            }
            for v in values(&r.props, key) {
                out.push(NewAttribute {
                    property: key.clone(),
                    value: v,
                    provenance: prov.clone(),
                    grading: grading.cloned(),
                });
            }
        }
    }
    out
}

#[allow(clippy::too_many_arguments)] // reason: one mapping row's worth of distinct inputs
fn interval_link(
    r: &Record,
    sp: &str,
    tp: &str,
    link_type: &str,
    resolve: &dyn Fn(&str, &str) -> Result<EntityId, Problem>,
    prov: &Provenance,
    grading: Option<&Grading>,
    schema: &Schema,
) -> Result<NewLink, Problem> {
    let c = r.copkit.as_ref();
    let s = resolve(sp, &first(r, sp)?)?;
    let t = resolve(tp, &first(r, tp)?)?;
    let mut l = NewLink::new(
        restore::<String>(c, "type")?.unwrap_or_else(|| {
            if r.schema == "UnknownLink" {
                values(&r.props, "role")
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| link_type.to_string())
            } else {
                link_type.to_string()
            }
        }),
        EntityRef::Existing(s),
        EntityRef::Existing(t),
    );
    l.directed = restore(c, "directed")?.unwrap_or(true);
    l.weight = restore(c, "weight")?;
    l.label = restore(c, "label")?;
    if let Some(st) = restore(c, "strength")? {
        l.strength = st;
    }
    l.source_id = Some(r.id.clone());
    l.provenance = restore(c, "provenance")?.unwrap_or(prov.clone());
    l.grading = restore(c, "grading")?.or_else(|| grading.cloned());
    l.attributes = match stored(c)? {
        Some(a) => a,
        None => other_props(r, &[sp, tp, "role"], prov, grading),
    };
    check_attrs(schema, "", &l.attributes)?;
    Ok(l)
}

#[allow(clippy::too_many_arguments)] // reason: one mapping row's worth of distinct inputs
fn interval_event(
    r: &Record,
    fp: &str,
    tp: &str,
    event_type: &str,
    resolve: &dyn Fn(&str, &str) -> Result<EntityId, Problem>,
    prov: &Provenance,
    grading: Option<&Grading>,
    schema: &Schema,
) -> Result<NewEvent, Problem> {
    let c = r.copkit.as_ref();
    let time: EventTime = match restore(c, "time")? {
        Some(t) => t,
        None => {
            let text = ["date", "startDate"]
                .iter()
                .find_map(|k| values(&r.props, k).into_iter().next())
                .ok_or_else(|| {
                    (
                        Some("date".to_string()),
                        format!("{} {} has no date", r.schema, r.id),
                    )
                })?;
            let start_ms = parse_time(&text).ok_or_else(|| {
                (
                    Some("date".to_string()),
                    format!("'{text}' is not a date or time"),
                )
            })?;
            let end_ms = values(&r.props, "endDate")
                .into_iter()
                .next()
                .and_then(|t| parse_time(&t));
            EventTime {
                start_ms,
                end_ms: end_ms.filter(|&e| e >= start_ms),
                original_text: Some(text),
                original_zone: None,
            }
        }
    };
    let mut e = NewEvent::new(
        restore::<String>(c, "type")?.unwrap_or_else(|| event_type.to_string()),
        time,
    );
    e.source_id = Some(r.id.clone());
    e.provenance = restore(c, "provenance")?.unwrap_or(prov.clone());
    e.grading = restore(c, "grading")?.or_else(|| grading.cloned());
    if let Some(parts) = restore::<Vec<(ParticipantRole, String)>>(c, "participants")? {
        for (role, who) in parts {
            let id = resolve("copkit.participants", &who)?;
            e.participants
                .push(NewParticipant::new(role, EntityRef::Existing(id)));
        }
    } else {
        for (prop, role) in [(fp, ParticipantRole::From), (tp, ParticipantRole::To)] {
            for who in values(&r.props, prop) {
                e.participants.push(NewParticipant::new(
                    role,
                    EntityRef::Existing(resolve(prop, &who)?),
                ));
            }
        }
    }
    e.attributes = match stored(c)? {
        Some(a) => a,
        None => other_props(r, &[fp, tp, "date", "startDate", "endDate"], prov, grading),
    };
    check_attrs(schema, "", &e.attributes)?;
    Ok(e)
}

fn first(r: &Record, prop: &str) -> Result<String, Problem> {
    values(&r.props, prop).into_iter().next().ok_or_else(|| {
        (
            Some(prop.to_string()),
            format!("{} {} names no {prop}", r.schema, r.id),
        )
    })
}

fn ftm_id(snap: &CaseSnapshot, id: EntityId) -> String {
    snap.entity(id)
        .and_then(|e| e.source_id.clone())
        .unwrap_or_else(|| id.to_string())
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
    let attrs_value = |a: &[crate::model::Attribute]| -> Value {
        serde_json::from_str(&attrs_json(a)).unwrap_or(Value::Null)
    };
    for e in &sel.entities {
        let def = snap.schema.entity_type(&e.entity_type).ok();
        // The FtM schema an import kept (a Company read into an Organization) goes out again.
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
        let mut props = serde_json::Map::new();
        props.insert("name".into(), json!([e.label]));
        for a in e.attributes.iter().filter(|a| a.property != FTM_SCHEMA) {
            let key = def
                .and_then(|d| d.properties.iter().find(|p| p.key == a.property))
                .and_then(|p| p.ftm.clone())
                .unwrap_or_else(|| a.property.clone());
            add_value(&mut props, key, &a.value);
        }
        lines.push(json!({
            "id": ftm_id(snap, e.id),
            "schema": schema,
            "properties": props,
            "copkit": {"type": e.entity_type, "label": e.label, "category": e.category,
                       "grading": e.grading, "provenance": e.provenance,
                       "attributes": attrs_value(&e.attributes)},
        }));
    }
    for l in &sel.links {
        let (schema, sp, tp) = LINKS
            .iter()
            .find(|t| t.3 == l.link_type && t.0 != "UnknownLink")
            .map_or(("UnknownLink", "subject", "object"), |t| (t.0, t.1, t.2));
        lines.push(json!({
            "id": l.source_id.clone().unwrap_or_else(|| l.id.to_string()),
            "schema": schema,
            "properties": {sp: [ftm_id(snap, l.source)], tp: [ftm_id(snap, l.target)], "role": [l.link_type]},
            "copkit": {"type": l.link_type, "directed": l.directed, "weight": l.weight,
                       "label": l.label, "strength": l.strength, "grading": l.grading,
                       "provenance": l.provenance, "attributes": attrs_value(&l.attributes)},
        }));
    }
    for ev in &sel.events {
        let (schema, fp, tp) = EVENTS
            .iter()
            .find(|t| t.3 == ev.event_type)
            .map_or(("Event", "organizer", "involved"), |t| (t.0, t.1, t.2));
        let mut props = serde_json::Map::new();
        props.insert("date".into(), json!([ev.time.start().to_rfc3339()]));
        if let Some(end) = ev.time.end() {
            props.insert("endDate".into(), json!([end.to_rfc3339()]));
        }
        // The schema's own properties from the event's values: a payment's amount, currency
        // and purpose, a call's duration (FtM tools read these; the copkit member keeps all).
        let own: &[(&str, &str)] = match schema {
            "Payment" => &[
                ("amount", "amount"),
                ("currency", "currency"),
                ("purpose", "purpose"),
                ("reference", "purpose"),
            ],
            "Call" => &[("durationSecs", "duration"), ("duration", "duration")],
            _ => &[("summary", "summary"), ("description", "description")],
        };
        for a in &ev.attributes {
            if let Some((_, prop)) = own.iter().find(|(k, _)| *k == a.property) {
                add_value(&mut props, *prop, &a.value);
            }
        }
        for (role, prop) in [(ParticipantRole::From, fp), (ParticipantRole::To, tp)] {
            let who: Vec<String> = ev.in_role(role).map(|id| ftm_id(snap, id)).collect();
            if !who.is_empty() {
                props.insert(prop.into(), json!(who));
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
    cannot.push("event participants in roles other than from and to, grading, provenance and exact times are kept only in the copkit member, which other FtM tools ignore".into());
    Ok(cannot)
}
