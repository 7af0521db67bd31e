//! FollowTheMoney JSON lines: import and export, without loss for what FtM can express.
//!
//! Schemata. Every schema of the FtM model comes in (schemata.rs maps each, a test holds it to
//! the model); a schema the model lacks rejects its line. Things become entities of our types,
//! the exact FtM schema kept in the attribute `ftmSchema` wherever it differs from our type's
//! name (a Company read into an Organization, an Email or a Contract into a Document), so an
//! export writes the same schema again. Person; Company, Organization, LegalEntity,
//! PublicBody, and Project and Position as Organization; Address, and RealEstate as Address;
//! Territory as Location; Vehicle, Vessel, Airplane; BankAccount, CryptoWallet, and Asset and
//! Security as BankAccount; UserAccount; and the document schemata (Document, Note, Email,
//! Message, Page, Pages, Folder, PlainText, HyperText, Table, Image, Video, Audio, Package,
//! Workbook, Article) with Passport, Identification, Contract, License, CourtCase,
//! CallForTenders and the one-ended intervals Sanction, Risk and TaxRoll (whose subject is a
//! reference, as a passport's holder), all as our Document. Messages and emails are documents,
//! not events, even when dated: one FtM entity stays one item, so the export writes it back as
//! it came (their date is an attribute). The edges of the model (Ownership, Directorship,
//! Family, Associate, Membership, Employment, Representation, Succession, Control, Debt,
//! Documentation, UnknownLink, ContractAward, CourtCaseParty, Occupancy, ProjectParticipant),
//! and Mention and Similar, become links from their source to their target; Call, Payment,
//! Event, EconomicActivity and Trip become events (a payment's payer and payer account are its
//! `from` participants, beneficiary and beneficiary account its `to`). An event's other
//! references (a payment's contract and project, a trip's vehicle) are participants too (in
//! the location role for an address), each with an attribute `ftmRole` (`contract=ct1`) so that
//! the export writes it back into the same property. A link or event whose type would be
//! written as another schema (an UnknownLink whose role is `owns`, an EconomicActivity read as
//! a Transaction) keeps `ftmSchema` too. An interval that cannot be its link (an end missing or
//! given twice) or its event (no date) comes in as a Document entity with its schema kept and
//! its ends as references, and a warning with its line. An event's dates are kept as they came
//! (a partial date stays partial); the export writes its time instead only when it was edited.
//!
//! References. A thing's property of FtM type `entity` (Person.addressEntity, Passport.holder,
//! Email.emitters and recipients, Document.parent, Note.entity, Vehicle.owner, ...) becomes a
//! directed link from the thing to the entity it names. The link's type is the property's
//! name, except `addressEntity`, which is our `located_at`; the link keeps the property in
//! its attribute `ftmProperty`, and the export writes the reference back into that property
//! (and only there, not as a line of its own). All lines are read before references are
//! resolved, so a reference may point forward. A reference to an id neither in the file nor
//! in the case is a warning naming the line and the property, and the id is kept as a text
//! value of the property. A reference inside an interval that becomes a link (an Ownership's
//! or Directorship's `proof`, an address named by id) cannot be a link from that link: it
//! becomes a directed link from the interval's source (the owner, the director) to the entity
//! named, typed by the property, keeping the property in `ftmProperty` and the interval's id in
//! `ftmInterval`, and the export writes it back into the interval's line. (An interval that
//! becomes an event has its references as participants, above.)
//!
//! Properties. Which properties a schema defines comes from the followthemoney library's own
//! model (model.rs, generated). A property the schema does not define is kept as an attribute
//! under its own name and reported as a warning with its line; the export writes it only in
//! the `copkit` member, since FtM tools drop it from `properties`. A value our type refuses
//! (a date with a time in a date property) is kept whole under `ftm:<property>`, reported, and
//! written back to `<property>`; on an event, a time its own time holds is not reported. Every
//! value is bounded by `max_field_bytes`.
//!
//! FtM ids become source ids. The exporter adds a `copkit` member to each object (ignored by
//! FtM tools) holding grading, provenance, exact values and the details of reference links,
//! so a round trip through our own import keeps them.

mod export;
mod model;
mod schemata;

pub(crate) use export::write_ftm;

use super::graphml::stored_attrs;
use super::report::{ImportReport, RowProblem};
use super::{IoError, Limits};
use crate::jobs::CancelToken;
use crate::model::{
    EntityId, EntityRef, EventTime, Grading, NewAttribute, NewEntity, NewEvent, NewLink,
    NewParticipant, ParticipantRole, PersonCategory, Provenance, Schema, normalize_value,
};
use crate::store::{AuditCategory, Case, NewBatch};
use schemata::{
    EVENTS, EventRow, FALLBACK_TYPE, LINKS, LinkRow, THINGS, default_event_schema,
    default_link_schema, extra_references, ftm_is_a, ftm_schema, reference_link_type,
};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The attribute that keeps a thing's FtM schema where our type's name differs (Company,
/// LegalEntity and PublicBody all read as Organization), so that an export writes it again.
const FTM_SCHEMA: &str = "ftmSchema";

/// The link attribute that keeps the FtM property a reference link was read from.
const FTM_PROPERTY: &str = "ftmProperty";

/// The attribute of a link made from a reference inside an interval that is itself a link
/// (an ownership's `proof`): the FtM id of that interval, so that the export writes the
/// reference back into it.
const FTM_INTERVAL: &str = "ftmInterval";

/// The prefix of an attribute that keeps a value our type refused, whole, for its FtM property.
const RAW_PREFIX: &str = "ftm:";

/// The event attribute that says which FtM property named a participant beyond the event's
/// two ends (`contract=ct1` for a payment's contract), so that the export writes it there.
const FTM_ROLE: &str = "ftmRole";

/// What one FtM record becomes.
#[derive(Clone, Copy)]
enum Shape {
    /// An entity of our type.
    Thing(&'static str),
    Link(&'static LinkRow),
    Event(&'static EventRow),
}

/// What a record of `schema` becomes; `None` for a schema the FtM model does not have. An
/// interval that cannot be its link (an end missing or given twice) or its event (no date)
/// comes in as a thing, with the reason, to be reported.
fn shape_of(
    schema: &str,
    props: &Value,
    copkit: Option<&Value>,
) -> Option<(Shape, Option<String>)> {
    if let Some(t) = THINGS.iter().find(|t| t.0 == schema) {
        return Some((Shape::Thing(t.1), None));
    }
    if let Some(row) = LINKS.iter().find(|t| t.0 == schema) {
        for end in [row.1, row.2] {
            let n = values(props, end).len();
            if n != 1 {
                let why = format!("names {n} {end} (a link has one at each end)");
                return Some((Shape::Thing(FALLBACK_TYPE), Some(why)));
            }
        }
        return Some((Shape::Link(row), None));
    }
    let row = EVENTS.iter().find(|t| t.0 == schema)?;
    Some(match event_time(schema, props, copkit) {
        Ok(_) => (Shape::Event(row), None),
        Err((_, why)) => (Shape::Thing(FALLBACK_TYPE), Some(why)),
    })
}

/// An event's time: the one our export kept, else its `date` (else `startDate`) to its
/// `endDate`.
fn event_time(schema: &str, props: &Value, copkit: Option<&Value>) -> Result<EventTime, Problem> {
    if let Some(t) = restore(copkit, "time")? {
        return Ok(t);
    }
    let text = ["date", "startDate"]
        .iter()
        .find_map(|k| values(props, k).into_iter().next())
        .ok_or_else(|| {
            (
                Some("date".to_string()),
                format!("no date or startDate, so a {schema} has no time"),
            )
        })?;
    let start_ms = parse_time(&text).ok_or_else(|| {
        (
            Some("date".to_string()),
            format!("'{text}' is not a date or time"),
        )
    })?;
    let end_ms = values(props, "endDate")
        .into_iter()
        .next()
        .and_then(|t| parse_time(&t));
    Ok(EventTime {
        start_ms,
        end_ms: end_ms.filter(|&e| e >= start_ms),
        original_text: Some(text),
        original_zone: None,
    })
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

/// The first property whose value is longer than the bound, with its length.
fn oversized(props: &Value, max: usize) -> Option<(String, usize)> {
    let map = props.as_object()?;
    map.keys().find_map(|k| {
        values(props, k)
            .iter()
            .map(String::len)
            .find(|&n| n > max)
            .map(|n| (k.clone(), n))
    })
}

struct Record {
    line: u64,
    id: String,
    schema: String,
    shape: Shape,
    props: Value,
    copkit: Option<Value>,
}

impl Record {
    /// The properties in the file's order.
    fn keys(&self) -> Vec<&str> {
        self.props
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// Warns about each property the record's FtM schema does not define (except `skip`).
    fn report_undefined(&self, skip: &[&str], report: &mut ImportReport) {
        let Some(ftm) = ftm_schema(&self.schema) else {
            return;
        };
        for key in self.keys() {
            if !ftm.defines(key) && !skip.contains(&key) {
                report.warnings.push(RowProblem {
                    line: self.line,
                    field: Some(key.to_string()),
                    reason: format!(
                        "{} {}: property '{key}' is not defined by the FollowTheMoney schema {}; kept as the attribute '{key}' (an FtM export carries it only in its copkit member)",
                        self.schema, self.id, self.schema
                    ),
                });
            }
        }
    }
}

type Problem = (Option<String>, String);

fn parse_time(v: &str) -> Option<i64> {
    let v = v.trim();
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(v) {
        return Some(d.timestamp_millis());
    }
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"] {
        if let Ok(d) = chrono::NaiveDateTime::parse_from_str(v, format) {
            return Some(d.and_utc().timestamp_millis());
        }
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

/// A reference from a thing to another entity, waiting for every line to be read.
struct Reference {
    owner: usize,
    property: String,
    target: String,
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
    let (src, decoded) = super::read_source_text(path, limits, "a FollowTheMoney JSON-lines file")?;
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
        let props = v.get("properties").cloned().unwrap_or(json!({}));
        let Some((shape, fallback)) = shape_of(schema, &props, v.get("copkit")) else {
            report.rejected.push(reject(
                Some("schema"),
                format!("'{schema}' is not a schema of the FollowTheMoney model (entity {id}); check the spelling or the FtM version that wrote the file"),
            ));
            continue;
        };
        if let Some((key, len)) = oversized(&props, limits.max_field_bytes) {
            report.rejected.push(reject(
                Some(&key),
                format!(
                    "{schema} {id}: a value of '{key}' has {len} bytes, more than max_field_bytes ({}); raise the bound if the file is trusted",
                    limits.max_field_bytes
                ),
            ));
            continue;
        }
        if let Some(why) = fallback {
            report.warnings.push(reject(
                Some("schema"),
                format!("{schema} {id}: {why}; imported as a {FALLBACK_TYPE} entity (ftmSchema {schema}) with its references as links, so that an FtM export writes it back the same"),
            ));
        }
        records.push(Record {
            line: n,
            id: id.to_string(),
            schema: schema.to_string(),
            shape,
            props,
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
    // Every thing in the file, so that a reference to a later line resolves.
    let things_in_file: HashSet<&str> = records
        .iter()
        .filter(|r| matches!(r.shape, Shape::Thing(_)))
        .map(|r| r.id.as_str())
        .collect();
    let known_id = |id: &str| things_in_file.contains(id) || existing.contains_key(id);
    let (applied, mut report) = case.import_streamed(batch, |w| -> Result<ImportReport, IoError> {
        let mut ids: HashMap<String, EntityId> = HashMap::new();
        let mut references: Vec<Reference> = Vec::new();
        let prov = |r: &Record| Provenance {
            batch: None,
            source_file: Some(file.clone()),
            record: Some(format!("line {} ({})", r.line, r.id)),
        };
        // Things first, so intervals and references may refer to entities later in the file.
        for (index, r) in records.iter().enumerate() {
            let Shape::Thing(our_type) = r.shape else {
                continue;
            };
            cancel.check().map_err(|_| IoError::Cancelled)?;
            let built = thing(r, our_type, &case_schema, &prov(r), grading, &known_id, &mut report);
            match built {
                Ok((e, refs)) => {
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
                        continue;
                    } else {
                        report.attributes += e.attributes.len() as u64;
                        report.entities_created += 1;
                        ids.insert(r.id.clone(), w.entity(e)?);
                    }
                    references.extend(refs.into_iter().map(|(property, target)| Reference {
                        owner: index,
                        property,
                        target,
                    }));
                }
                Err((field, reason)) => report.rejected.push(RowProblem { line: r.line, field, reason }),
            }
        }
        for reference in &references {
            cancel.check().map_err(|_| IoError::Cancelled)?;
            let r = &records[reference.owner];
            let (Some(&from), Some(&to)) = (
                ids.get(&r.id),
                ids.get(&reference.target).or_else(|| existing.get(&reference.target)),
            ) else {
                // The target's own line was rejected (lenient import): say so, never silently.
                report.warnings.push(RowProblem {
                    line: r.line,
                    field: Some(reference.property.clone()),
                    reason: format!(
                        "{} {}: '{}' refers to '{}', whose line was not imported; the reference is not kept",
                        r.schema, r.id, reference.property, reference.target
                    ),
                });
                continue;
            };
            match reference_link(r, &reference.property, &reference.target, from, to, &prov(r), grading) {
                Ok(l) => {
                    report.attributes += l.attributes.len() as u64;
                    report.links += 1;
                    w.link(l)?;
                }
                Err((field, reason)) => report.rejected.push(RowProblem { line: r.line, field, reason }),
            }
        }
        for r in records.iter().filter(|r| !matches!(r.shape, Shape::Thing(_))) {
            cancel.check().map_err(|_| IoError::Cancelled)?;
            let resolve = |prop: &str, who: &str| -> Result<EntityId, Problem> {
                ids.get(who)
                    .or_else(|| existing.get(who))
                    .copied()
                    .ok_or_else(|| (Some(prop.to_string()), format!("{} {} refers to entity '{who}', which is neither in the file nor in the case", r.schema, r.id)))
            };
            let result = if let Shape::Link(row) = r.shape {
                r.report_undefined(&[], &mut report);
                interval_link(r, row, &resolve, &prov(r), grading, &case_schema, &mut report.warnings).map(|(l, s, refs)| {
                    report.attributes += l.attributes.len() as u64;
                    report.links += 1;
                    w.link(l)?;
                    // Its references (an ownership's proof) as links from its source.
                    for (property, target) in refs {
                        let mut rl = NewLink::new(
                            reference_link_type(&property),
                            EntityRef::Existing(s),
                            EntityRef::Existing(target),
                        );
                        rl.directed = true;
                        rl.provenance = prov(r);
                        rl.grading = grading.cloned();
                        for (k, v) in [(FTM_PROPERTY, property), (FTM_INTERVAL, r.id.clone())] {
                            rl.attributes.push(NewAttribute {
                                property: k.into(),
                                value: v,
                                provenance: prov(r),
                                grading: grading.cloned(),
                            });
                        }
                        report.attributes += rl.attributes.len() as u64;
                        report.links += 1;
                        w.link(rl)?;
                    }
                    Ok::<(), crate::store::StoreError>(())
                })
            } else if let Shape::Event(row) = r.shape {
                r.report_undefined(&[], &mut report);
                interval_event(r, row, &resolve, &prov(r), grading, &case_schema, &mut report.warnings).map(|e| {
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
        report.rows_accepted = report.rows_read.saturating_sub(report.rows_rejected);
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

/// Builds a thing's entity and lists its references (property, target id) for later.
fn thing(
    r: &Record,
    our_type: &str,
    schema: &Schema,
    prov: &Provenance,
    grading: Option<&Grading>,
    known_id: &dyn Fn(&str) -> bool,
    report: &mut ImportReport,
) -> Result<(NewEntity, Vec<(String, String)>), Problem> {
    let c = r.copkit.as_ref();
    let ftm = ftm_schema(&r.schema);
    let entity_type = restore::<String>(c, "type")?
        .filter(|t| schema.entity_type(t).is_ok())
        .unwrap_or_else(|| our_type.to_string());
    let def = schema
        .entity_type(&entity_type)
        .map_err(|e| (Some("schema".into()), e.to_string()))?;
    let mut e = NewEntity::new(entity_type.clone(), r.id.clone());
    e.source_id = Some(r.id.clone());
    e.provenance = restore(c, "provenance")?.unwrap_or(prov.clone());
    e.grading = restore(c, "grading")?.or_else(|| grading.cloned());
    e.category = restore::<PersonCategory>(c, "category")?;
    let attribute = |property: String, value: String| NewAttribute {
        property,
        value,
        provenance: prov.clone(),
        grading: grading.cloned(),
    };
    let kept = stored(c)?;
    let mut refs = Vec::new();
    for key in r.keys() {
        let range = ftm.and_then(|f| f.range(key));
        for v in values(&r.props, key) {
            if range.is_some() {
                // Our own export keeps an unresolved reference as a value: it stays one.
                let already = kept
                    .as_ref()
                    .is_some_and(|k| k.iter().any(|a| a.property == key && a.value == v));
                if already {
                    continue;
                }
                if known_id(&v) {
                    refs.push((key.to_string(), v));
                } else {
                    report.warnings.push(RowProblem {
                        line: r.line,
                        field: Some(key.to_string()),
                        reason: format!(
                            "{} {}: '{key}' refers to '{v}', which is neither in the file nor in the case; the id is kept as a text value",
                            r.schema, r.id
                        ),
                    });
                    e.attributes.push(attribute(key.to_string(), v));
                }
            } else if kept.is_none() {
                let ours = def
                    .properties
                    .iter()
                    .find(|p| p.ftm.as_deref() == Some(key));
                let property = ours.map_or_else(|| key.to_string(), |p| p.key.clone());
                let fits =
                    normalize_value(schema.property_kind(&entity_type, &property), &property, &v);
                if let Err(why) = fits {
                    report.warnings.push(RowProblem {
                        line: r.line,
                        field: Some(key.to_string()),
                        reason: format!(
                            "{} {}: {why}; kept whole as '{RAW_PREFIX}{key}'",
                            r.schema, r.id
                        ),
                    });
                    e.attributes
                        .push(attribute(format!("{RAW_PREFIX}{key}"), v));
                } else {
                    e.attributes.push(attribute(property, v));
                }
            }
        }
    }
    if let Some(kept) = kept {
        e.attributes.extend(kept);
    } else {
        r.report_undefined(&[], report);
        if r.schema != entity_type {
            e.attributes
                .push(attribute(FTM_SCHEMA.into(), r.schema.clone()));
        }
    }
    check_attrs(schema, &entity_type, &e.attributes)?;
    e.label = restore::<String>(c, "label")?
        .or_else(|| {
            [
                "name",
                "title",
                "subject",
                "fileName",
                "full",
                "registrationNumber",
                "iban",
                "number",
                "username",
                "caseNumber",
                "program",
                "isin",
            ]
            .iter()
            .find_map(|k| values(&r.props, k).into_iter().next())
        })
        .unwrap_or_else(|| r.id.clone());
    Ok((e, refs))
}

/// The link a thing's reference becomes; the details our own export kept (grading,
/// provenance, weight, ...) restored from the `copkit` member's `references`.
fn reference_link(
    r: &Record,
    property: &str,
    target: &str,
    from: EntityId,
    to: EntityId,
    prov: &Provenance,
    grading: Option<&Grading>,
) -> Result<NewLink, Problem> {
    let mut l = NewLink::new(
        reference_link_type(property),
        EntityRef::Existing(from),
        EntityRef::Existing(to),
    );
    l.directed = true;
    l.provenance = prov.clone();
    l.grading = grading.cloned();
    l.attributes = vec![NewAttribute {
        property: FTM_PROPERTY.into(),
        value: property.to_string(),
        provenance: prov.clone(),
        grading: grading.cloned(),
    }];
    let kept = r
        .copkit
        .as_ref()
        .and_then(|c| c.get("references"))
        .and_then(Value::as_array)
        .and_then(|all| {
            all.iter()
                .find(|x| x["property"] == property && x["target"] == target)
        });
    if kept.is_some() {
        restore_link(&mut l, kept)?;
    }
    Ok(l)
}

/// Restores what our export kept of a link in a `copkit` member.
fn restore_link(l: &mut NewLink, c: Option<&Value>) -> Result<(), Problem> {
    if let Some(t) = restore::<String>(c, "type")? {
        l.link_type = t;
    }
    if let Some(d) = restore(c, "directed")? {
        l.directed = d;
    }
    l.weight = restore(c, "weight")?;
    l.label = restore(c, "label")?;
    if let Some(st) = restore(c, "strength")? {
        l.strength = st;
    }
    if let Some(p) = restore(c, "provenance")? {
        l.provenance = p;
    }
    if let Some(g) = restore(c, "grading")? {
        l.grading = Some(g);
    }
    if let Some(s) = restore(c, "sourceId")? {
        l.source_id = Some(s);
    }
    if let Some(a) = stored(c)? {
        l.attributes = a;
    }
    Ok(())
}

fn other_props(
    r: &Record,
    skip: &[&str],
    prov: &Provenance,
    grading: Option<&Grading>,
) -> Vec<NewAttribute> {
    let mut out = Vec::new();
    for key in r.keys() {
        if skip.contains(&key) {
            continue;
        }
        for v in values(&r.props, key) {
            out.push(NewAttribute {
                property: key.to_string(),
                value: v,
                provenance: prov.clone(),
                grading: grading.cloned(),
            });
        }
    }
    out
}

/// The attribute keeping a link's or event's FtM schema, when the export would otherwise
/// write another for its type (an UnknownLink whose role is `owns`, an EconomicActivity read
/// as a Transaction).
fn schema_attribute(r: &Record, prov: &Provenance, grading: Option<&Grading>) -> NewAttribute {
    NewAttribute {
        property: FTM_SCHEMA.into(),
        value: r.schema.clone(),
        provenance: prov.clone(),
        grading: grading.cloned(),
    }
}

/// Keeps each value our kinds refuse (a date with a time of day in a date property) whole
/// under `ftm:<property>`, so that the export writes it back; reported, unless it is a time
/// that an event's own time holds anyway (an FtM payment dated to the second).
fn keep_refused(
    r: &Record,
    schema: &Schema,
    attrs: &mut [NewAttribute],
    warnings: &mut Vec<RowProblem>,
) {
    for a in attrs.iter_mut() {
        if a.property.starts_with(RAW_PREFIX) {
            continue;
        }
        let Err(why) =
            normalize_value(schema.property_kind("", &a.property), &a.property, &a.value)
        else {
            continue;
        };
        let a_time = matches!(r.shape, Shape::Event(_))
            && matches!(a.property.as_str(), "date" | "startDate" | "endDate")
            && parse_time(&a.value).is_some();
        if !a_time {
            warnings.push(RowProblem {
                line: r.line,
                field: Some(a.property.clone()),
                reason: format!(
                    "{} {}: {why}; kept whole as '{RAW_PREFIX}{}'",
                    r.schema, r.id, a.property
                ),
            });
        }
        a.property = format!("{RAW_PREFIX}{}", a.property);
    }
}

/// An interval's link, its source, and its other references as (property, entity).
type IntervalLink = (NewLink, EntityId, Vec<(String, EntityId)>);

/// An interval that becomes a link, and its other references (an ownership's `proof`, an
/// address named by id): (property, entity) each, to become links of their own from the
/// interval's source (a link cannot point at a link). A reference to an id neither in the file
/// nor in the case stays a text value, with a warning.
#[allow(clippy::too_many_arguments)] // reason: one mapping row's worth of distinct inputs
fn interval_link(
    r: &Record,
    row: &LinkRow,
    resolve: &dyn Fn(&str, &str) -> Result<EntityId, Problem>,
    prov: &Provenance,
    grading: Option<&Grading>,
    schema: &Schema,
    warnings: &mut Vec<RowProblem>,
) -> Result<IntervalLink, Problem> {
    let &(_, sp, tp, link_type) = row;
    let c = r.copkit.as_ref();
    let s = resolve(sp, &first(r, sp)?)?;
    let t = resolve(tp, &first(r, tp)?)?;
    // An UnknownLink's role names the relation, so it becomes the link's type.
    let role_is_type = r.schema == "UnknownLink";
    let mut l = NewLink::new(
        if role_is_type {
            values(&r.props, "role")
                .into_iter()
                .next()
                .unwrap_or_else(|| link_type.to_string())
        } else {
            link_type.to_string()
        },
        EntityRef::Existing(s),
        EntityRef::Existing(t),
    );
    l.directed = true;
    l.source_id = Some(r.id.clone());
    l.provenance = prov.clone();
    l.grading = grading.cloned();
    let mut skip: Vec<&str> = if role_is_type {
        vec![sp, tp, "role"]
    } else {
        vec![sp, tp]
    };
    let mut refs = Vec::new();
    let mut unresolved = Vec::new();
    let mut ranged: Vec<&'static str> = ftm_schema(&r.schema)
        .map(|f| {
            f.properties
                .iter()
                .filter(|(p, range)| range.is_some() && !skip.contains(p))
                .map(|(p, _)| *p)
                .collect()
        })
        .unwrap_or_default();
    ranged.sort_unstable();
    for prop in ranged {
        for who in values(&r.props, prop) {
            match resolve(prop, &who) {
                Ok(id) => refs.push((prop.to_string(), id)),
                Err(_) => {
                    warnings.push(RowProblem {
                        line: r.line,
                        field: Some(prop.to_string()),
                        reason: format!(
                            "{} {}: '{prop}' refers to '{who}', which is neither in the file nor in the case; the id is kept as a text value",
                            r.schema, r.id
                        ),
                    });
                    unresolved.push(NewAttribute {
                        property: prop.to_string(),
                        value: who,
                        provenance: prov.clone(),
                        grading: grading.cloned(),
                    });
                }
            }
        }
        skip.push(prop);
    }
    l.attributes = other_props(r, &skip, prov, grading);
    l.attributes.extend(unresolved);
    keep_refused(r, schema, &mut l.attributes, warnings);
    if default_link_schema(&l.link_type).0 != r.schema {
        l.attributes.push(schema_attribute(r, prov, grading));
    }
    restore_link(&mut l, c)?;
    check_attrs(schema, "", &l.attributes)?;
    Ok((l, s, refs))
}

/// An interval that becomes an event: its ends in the roles from and to, its other references
/// (a payment's contract, a trip's vehicle) as participants with their property kept in
/// `ftmRole`, and every other property, dates included, as the event's attributes.
fn interval_event(
    r: &Record,
    row: &EventRow,
    resolve: &dyn Fn(&str, &str) -> Result<EntityId, Problem>,
    prov: &Provenance,
    grading: Option<&Grading>,
    schema: &Schema,
    warnings: &mut Vec<RowProblem>,
) -> Result<NewEvent, Problem> {
    let &(_, from_props, to_props, event_type) = row;
    let c = r.copkit.as_ref();
    let time = event_time(&r.schema, &r.props, c)?;
    let mut e = NewEvent::new(
        restore::<String>(c, "type")?.unwrap_or_else(|| event_type.to_string()),
        time,
    );
    e.source_id = Some(r.id.clone());
    e.provenance = restore(c, "provenance")?.unwrap_or(prov.clone());
    e.grading = restore(c, "grading")?.or_else(|| grading.cloned());
    let attribute = |property: String, value: String| NewAttribute {
        property,
        value,
        provenance: prov.clone(),
        grading: grading.cloned(),
    };
    let extras = extra_references(row);
    if let Some(parts) = restore::<Vec<(ParticipantRole, String)>>(c, "participants")? {
        for (role, who) in parts {
            let id = resolve("copkit.participants", &who)?;
            e.participants
                .push(NewParticipant::new(role, EntityRef::Existing(id)));
        }
    } else {
        for (props, role) in [
            (from_props, ParticipantRole::From),
            (to_props, ParticipantRole::To),
        ] {
            for prop in props {
                for who in values(&r.props, prop) {
                    e.participants.push(NewParticipant::new(
                        role,
                        EntityRef::Existing(resolve(prop, &who)?),
                    ));
                }
            }
        }
        for &(prop, range) in &extras {
            for who in values(&r.props, prop) {
                let Ok(id) = resolve(prop, &who) else {
                    warnings.push(RowProblem {
                        line: r.line,
                        field: Some(prop.to_string()),
                        reason: format!(
                            "{} {}: '{prop}' refers to '{who}', which is neither in the file nor in the case; the id is kept as a text value",
                            r.schema, r.id
                        ),
                    });
                    e.attributes.push(attribute(prop.to_string(), who));
                    continue;
                };
                let role = if ftm_is_a(range, "Address") {
                    ParticipantRole::Location
                } else {
                    ParticipantRole::Participant
                };
                e.participants
                    .push(NewParticipant::new(role, EntityRef::Existing(id)));
                e.attributes
                    .push(attribute(FTM_ROLE.into(), format!("{prop}={who}")));
            }
        }
    }
    let mut skip: Vec<&str> = Vec::new();
    skip.extend(from_props);
    skip.extend(to_props);
    skip.extend(extras.iter().map(|x| x.0));
    match stored(c)? {
        Some(a) => e.attributes = a,
        None => {
            let mut others = other_props(r, &skip, prov, grading);
            keep_refused(r, schema, &mut others, warnings);
            e.attributes.extend(others);
            if default_event_schema(&e.event_type).0 != r.schema {
                e.attributes.push(schema_attribute(r, prov, grading));
            }
        }
    }
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
