//! STIX 2.1 import (a bundle written by the stix2 library) and export (read back by stix2),
//! hostile STIX files, and Maltego .mtgx import.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code stops loudly where an expectation fails"
)]

mod common;

use common::{python, python_has, sha256_file, temp_case};
use copkit::io::IoError;
use copkit::io::graphml::GraphOptions;
use copkit::io::stix::import_stix;
use copkit::jobs::CancelToken;
use copkit::model::*;
use copkit::store::Case;
use std::path::{Path, PathBuf};

fn fixture(dir: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
        .join(name)
}

fn stix(
    case: &mut Case,
    path: &Path,
    opts: &GraphOptions,
) -> Result<copkit::io::ImportReport, IoError> {
    let before = sha256_file(path);
    let r = import_stix(case, path, opts, &CancelToken::new());
    assert_eq!(sha256_file(path), before, "the source file was changed");
    r
}

/// The first value of a property among attributes (links and events have no `values`).
fn value<'a>(attrs: &'a [Attribute], property: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|a| a.property == property)
        .map(|a| a.value.as_str())
}

fn by_source<'a>(snap: &'a copkit::store::CaseSnapshot, id: &str) -> &'a Entity {
    snap.entities
        .iter()
        .find(|e| e.source_id.as_deref() == Some(id))
        .unwrap_or_else(|| panic!("no entity with source id {id}"))
}

const ANALYST: &str = "identity--0a1b2c3d-0000-4000-8000-000000000001";
const SUSPECT: &str = "identity--0a1b2c3d-0000-4000-8000-000000000002";
const ACTOR: &str = "threat-actor--0a1b2c3d-0000-4000-8000-000000000003";
const INDICATOR: &str = "indicator--0a1b2c3d-0000-4000-8000-000000000004";
const OFFICE: &str = "location--0a1b2c3d-0000-4000-8000-000000000005";
const FLAT: &str = "location--0a1b2c3d-0000-4000-8000-000000000006";
const EMAIL: &str = "email-addr--0a1b2c3d-0000-5000-8000-000000000007";

#[test]
fn a_stix2_bundle_imports_with_types_labels_links_and_the_sighting() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let r = stix(
        &mut case,
        &fixture("graph", "sample.stix.json"),
        &GraphOptions::default(),
    )
    .unwrap();
    // 7 entities; 2 relationships and 2 created_by references as links; 1 sighting.
    assert_eq!((r.entities_created, r.links, r.events), (7, 4, 1), "{r:?}");
    assert_eq!(r.rows_rejected, 0);
    let snap = case.snapshot().unwrap();

    let analyst = by_source(&snap, ANALYST);
    assert_eq!(
        (analyst.entity_type.as_str(), analyst.label.as_str()),
        ("Organization", "North Region Cyber Unit")
    );
    assert_eq!(
        analyst.values("contact_information").next(),
        Some("+44 20 7946 0000")
    );
    assert_eq!(
        analyst.values("sectors").next(),
        Some("government-public-services")
    );

    let suspect = by_source(&snap, SUSPECT);
    assert_eq!(
        (suspect.entity_type.as_str(), suspect.label.as_str()),
        ("Person", "Jane Doe")
    );
    assert_eq!(suspect.values("confidence").next(), Some("70"));
    assert_eq!(suspect.values("labels").next(), Some("suspect"));
    assert_eq!(suspect.values("stixType").next(), Some("identity"));
    assert_eq!(
        suspect.values("created").next(),
        Some("2024-03-01T10:00:00.000Z")
    );

    let actor = by_source(&snap, ACTOR);
    assert_eq!(
        (actor.entity_type.as_str(), actor.label.as_str()),
        ("Organization", "Blue Lynx")
    );
    assert_eq!(actor.values("stixType").next(), Some("threat-actor"));
    assert_eq!(actor.values("confidence").next(), Some("85"));
    assert_eq!(actor.values("alias").next(), Some("BL-7"));
    assert_eq!(actor.values("x_source_team").next(), Some("Team North"));
    assert_eq!(actor.values("tlp").next(), Some("TLP:AMBER"));
    assert!(
        actor
            .values("description")
            .next()
            .unwrap()
            .starts_with("A financially")
    );
    let reference: serde_json::Value =
        serde_json::from_str(actor.values("external_references").next().unwrap()).unwrap();
    assert_eq!(reference["source_name"], "NCA bulletin");
    assert_eq!(reference["external_id"], "NCA-2024-17");
    assert_eq!(reference["url"], "https://example.org/bulletins/2024-17");

    let indicator = by_source(&snap, INDICATOR);
    assert_eq!(
        (indicator.entity_type.as_str(), indicator.label.as_str()),
        ("Document", "Phishing domain")
    );
    assert_eq!(
        indicator.values("pattern").next(),
        Some("[domain-name:value = 'login-bank.example']")
    );

    let office = by_source(&snap, OFFICE);
    assert_eq!(office.entity_type, "Location");
    assert_eq!(office.values("latitude").next(), Some("53.8008"));
    assert_eq!(office.values("longitude").next(), Some("-1.5491"));
    let flat = by_source(&snap, FLAT);
    assert_eq!(
        (flat.entity_type.as_str(), flat.label.as_str()),
        ("Address", "12 Canal Street")
    );
    assert_eq!(flat.values("street").next(), Some("12 Canal Street"));
    assert_eq!(flat.values("city").next(), Some("Manchester"));
    let email = by_source(&snap, EMAIL);
    assert_eq!(
        (email.entity_type.as_str(), email.label.as_str()),
        ("Email", "jane.doe@example.org")
    );
    assert_eq!(email.values("email").next(), Some("jane.doe@example.org"));

    let attributed = snap
        .links
        .iter()
        .find(|l| l.link_type == "attributed-to")
        .unwrap();
    assert_eq!(
        (attributed.source, attributed.target),
        (suspect.id, actor.id)
    );
    assert!(attributed.directed);
    assert_eq!(
        attributed.source_id.as_deref(),
        Some("relationship--0a1b2c3d-0000-4000-8000-000000000008")
    );
    assert_eq!(value(&attributed.attributes, "confidence"), Some("60"));
    assert_eq!(
        value(&attributed.attributes, "startDate"),
        Some("2023-06-01")
    );
    assert_eq!(
        value(&attributed.attributes, "start_time"),
        Some("2023-06-01T00:00:00Z")
    );
    let created_by: Vec<_> = snap
        .links
        .iter()
        .filter(|l| l.link_type == "created_by")
        .collect();
    assert_eq!(created_by.len(), 2);
    assert!(created_by.iter().all(|l| l.target == analyst.id));

    let sighting = &snap.events[0];
    assert_eq!(sighting.event_type, "Sighting");
    assert_eq!(
        sighting.time.start().to_rfc3339(),
        "2024-02-28T08:30:00+00:00"
    );
    assert_eq!(
        sighting.time.end().unwrap().to_rfc3339(),
        "2024-02-28T17:45:00+00:00"
    );
    assert_eq!(value(&sighting.attributes, "count"), Some("3"));
    let parts: Vec<(ParticipantRole, EntityId)> = sighting
        .participants
        .iter()
        .map(|p| (p.role, p.entity))
        .collect();
    assert_eq!(
        parts,
        vec![
            (ParticipantRole::Participant, indicator.id),
            (ParticipantRole::Participant, analyst.id),
            (ParticipantRole::Location, office.id),
        ]
    );
}

/// Observed data and an incident written by the stix2 library (not by us) are things that
/// happened: they import as events at their own times, with the objects observed and the
/// parties of the incident's relationships as participants, not as Document entities.
#[test]
fn foreign_observed_data_and_incidents_import_as_events_at_their_times() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let r = stix(
        &mut case,
        &fixture("graph", "stix-happenings.json"),
        &GraphOptions::default(),
    )
    .unwrap();
    // Entities: the address, the domain, the actor, the victim, the indicator and the report;
    // the report's reference to the actor is a link (those to the two events stay text);
    // events: the observed data, the incident and the sighting.
    assert_eq!((r.entities_created, r.links, r.events), (6, 1, 3), "{r:?}");
    assert_eq!(r.rows_rejected, 0, "{r:?}");
    let snap = case.snapshot().unwrap();
    let id = |kind: &str, n: u32| format!("{kind}--5e1d0000-0000-4000-8000-{n:012}");
    assert!(
        snap.entities.iter().all(|e| !matches!(
            e.values("stixType").next(),
            Some("observed-data" | "incident")
        )),
        "no Document entity for the observed data or the incident"
    );
    let ip = by_source(&snap, &id("ipv4-addr", 1));
    let domain = by_source(&snap, &id("domain-name", 2));
    let actor = by_source(&snap, &id("threat-actor", 4));
    let victim = by_source(&snap, &id("identity", 5));
    let event = |source: &str| {
        snap.events
            .iter()
            .find(|e| e.source_id.as_deref() == Some(source))
            .unwrap_or_else(|| panic!("no event from {source}"))
    };
    let parties = |e: &Event| {
        let mut p: Vec<EntityId> = e.participants.iter().map(|p| p.entity).collect();
        p.sort();
        p
    };

    let observed = event(&id("observed-data", 3));
    assert_eq!(observed.event_type, "ObservedData");
    assert_eq!(
        observed.time.start().to_rfc3339(),
        "2024-05-01T21:14:00+00:00"
    );
    assert_eq!(
        observed.time.end().unwrap().to_rfc3339(),
        "2024-05-01T23:40:00+00:00"
    );
    assert_eq!(value(&observed.attributes, "number_observed"), Some("42"));
    assert_eq!(
        value(&observed.attributes, "stixType"),
        Some("observed-data")
    );
    let mut want = vec![ip.id, domain.id];
    want.sort();
    assert_eq!(parties(observed), want);

    let incident = event(&id("incident", 6));
    assert_eq!(incident.event_type, "Incident");
    assert_eq!(
        incident.time.start().to_rfc3339(),
        "2024-05-02T06:30:00+00:00",
        "an incident without first_seen happens when it was created"
    );
    assert_eq!(
        value(&incident.attributes, "name"),
        Some("Credential phishing against Harbour Credit Union")
    );
    let mut want = vec![actor.id, victim.id];
    want.sort();
    assert_eq!(parties(incident), want);
    let mut kept: Vec<&str> = incident
        .attributes
        .iter()
        .filter(|a| a.property == "stixRelationship")
        .map(|a| a.value.as_str())
        .collect();
    kept.sort();
    assert_eq!(
        kept,
        vec![
            format!(
                "attributed-to {} ({})",
                id("threat-actor", 4),
                id("relationship", 7)
            ),
            format!("targets {} ({})", id("identity", 5), id("relationship", 8)),
        ]
    );
    assert!(
        snap.links
            .iter()
            .all(|l| l.link_type != "attributed-to" && l.link_type != "targets"),
        "relationships with the incident are its participants, not links"
    );

    let sighting = event(&id("sighting", 10));
    assert_eq!(sighting.event_type, "Sighting");
    assert_eq!(
        value(&sighting.attributes, "observedData"),
        Some(id("observed-data", 3).as_str())
    );
    let report = by_source(&snap, &id("report", 11));
    let listed: Vec<&str> = report.values("object_refs").collect();
    assert!(listed.contains(&id("incident", 6).as_str()), "{listed:?}");
    assert!(
        listed.contains(&id("observed-data", 3).as_str()),
        "{listed:?}"
    );
    assert!(
        snap.links
            .iter()
            .any(|l| l.link_type == "object" && l.source == report.id && l.target == actor.id)
    );
}

#[test]
fn a_reference_to_nothing_is_rejected_naming_the_object_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let path = fixture("bad", "stix-dangling-ref.json");
    let err = stix(&mut case, &path, &GraphOptions::default()).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, IoError::Rejected { .. }), "{text}");
    assert!(
        text.contains("object 2 (relationship--0a1b2c3d-0000-4000-8000-0000000000b1)"),
        "{text}"
    );
    assert!(text.contains("target_ref"), "{text}");
    assert!(
        text.contains("identity--0a1b2c3d-0000-4000-8000-0000000000b2"),
        "{text}"
    );
    assert!(
        case.snapshot().unwrap().entities.is_empty(),
        "all or nothing"
    );
    // Leniently, the two identities come in and the relationship is skipped.
    let lenient = GraphOptions {
        lenient: true,
        ..GraphOptions::default()
    };
    let r = stix(&mut case, &path, &lenient).unwrap();
    assert_eq!((r.entities_created, r.links, r.rows_rejected), (2, 1, 1));
    // The line where the relationship's object opens, one above its "type".
    let text = std::fs::read_to_string(&path).unwrap();
    let type_line = text
        .lines()
        .position(|l| l.contains("\"type\": \"relationship\""))
        .unwrap() as u64;
    assert_eq!(
        r.rejected[0].line, type_line,
        "the line of the object is given: {:?}",
        r.rejected[0]
    );
}

#[test]
fn hostile_stix_files_are_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let deep = stix(
        &mut case,
        &fixture("bad", "stix-deep.json"),
        &GraphOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            deep,
            IoError::Bound {
                bound: "max_json_depth",
                ..
            }
        ),
        "{deep}"
    );
    let cut = stix(
        &mut case,
        &fixture("bad", "stix-not-json.json"),
        &GraphOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(cut, IoError::Parse { .. }), "{cut}");
    assert!(cut.to_string().contains("not valid JSON"), "{cut}");
    let not_stix = dir.path().join("numbers.json");
    std::fs::write(&not_stix, "[1, 2, 3]").unwrap();
    let err = stix(&mut case, &not_stix, &GraphOptions::default()).unwrap_err();
    assert!(err.to_string().contains("object 0"), "{err}");
    let object = dir.path().join("one.json");
    std::fs::write(&object, r#"{"type": "identity", "id": "identity--0a1b2c3d-0000-4000-8000-000000000009", "name": "Solo", "identity_class": "individual"}"#).unwrap();
    let r = stix(&mut case, &object, &GraphOptions::default()).unwrap();
    assert_eq!(
        r.entities_created, 1,
        "a single STIX object is read as a bundle of one"
    );
    assert_eq!(case.snapshot().unwrap().entities[0].label, "Solo");
    // A bare list of objects, as some feeds write, with the line of each object.
    let list = dir.path().join("list.json");
    std::fs::write(
        &list,
        "[\n  {\"type\": \"ipv4-addr\", \"id\": \"ipv4-addr--0a1b2c3d-0000-5000-8000-000000000010\", \"value\": \"203.0.113.7\"},\n  {\"type\": \"domain-name\", \"id\": \"domain-name\", \"value\": \"x.example\"}\n]",
    )
    .unwrap();
    let lenient = GraphOptions {
        lenient: true,
        ..GraphOptions::default()
    };
    let r = stix(&mut case, &list, &lenient).unwrap();
    assert_eq!((r.entities_created, r.rows_rejected), (1, 1));
    assert_eq!(
        (r.rejected[0].line, r.rejected[0].field.as_deref()),
        (3, Some("id"))
    );
    assert_eq!(
        by_source(
            &case.snapshot().unwrap(),
            "ipv4-addr--0a1b2c3d-0000-5000-8000-000000000010"
        )
        .entity_type,
        "Device"
    );
}

/// An event as compared after a round trip: type, time, participants by role and label.
type EventSummary = (String, EventTime, Vec<(ParticipantRole, String)>);

/// Every kind of event written as STIX (a call and a payment with a third participant as
/// relationships, a meeting with one participant and an incident with none as custom
/// `x-copkit-event` objects, a sighting with a participant it has no slot for): the stix2
/// library parses the bundle; our import reads each back as the same event, in the same roles,
/// from the bundle and from the same objects as a bare JSON list (found by its content).
#[test]
fn every_event_comes_back_an_event_from_our_stix_export() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let at = |h: i64| {
        EventTime::instant(chrono::DateTime::from_timestamp(1_709_287_200 + h * 3600, 0).unwrap())
    };
    let mut place = NewEntity::new("Location", "Bank square");
    place
        .attributes
        .push(NewAttribute::new("latitude", "46.05"));
    place
        .attributes
        .push(NewAttribute::new("longitude", "14.5"));
    let entities = vec![
        NewEntity::new("Person", "Ana"),
        NewEntity::new("Person", "Bo"),
        NewEntity::new("Organization", "Novak Trading"),
        place,
        NewEntity::new("Phone", "+386 40 123 456"),
    ];
    let event = |t: &str, time: EventTime, parts: &[(ParticipantRole, usize)]| NewEvent {
        participants: parts
            .iter()
            .map(|&(role, i)| NewParticipant::new(role, EntityRef::New(i)))
            .collect(),
        ..NewEvent::new(t, time)
    };
    let mut payment_time = at(1);
    payment_time.end_ms = Some(payment_time.start_ms + 60_000);
    let mut payment = event(
        "Transaction",
        payment_time,
        &[
            (ParticipantRole::From, 0),
            (ParticipantRole::To, 2),
            (ParticipantRole::Participant, 1),
        ],
    );
    payment
        .attributes
        .push(NewAttribute::new("amount", "1500.50"));
    let events = vec![
        event(
            "Call",
            at(0),
            &[(ParticipantRole::From, 0), (ParticipantRole::To, 1)],
        ),
        payment,
        event("Meeting", at(2), &[(ParticipantRole::Participant, 0)]),
        event("Incident", at(3), &[]),
        event(
            "Sighting",
            at(4),
            &[
                (ParticipantRole::Participant, 0),
                (ParticipantRole::Location, 3),
                (ParticipantRole::Participant, 4),
            ],
        ),
    ];
    let links = vec![NewLink::new("knows", EntityRef::New(0), EntityRef::New(1))];
    common::import(
        &mut case,
        common::BatchItems {
            batch: copkit::store::NewBatch {
                kind: "import".into(),
                description: "events".into(),
                ..Default::default()
            },
            entities,
            links,
            events,
        },
    )
    .unwrap();
    let out = dir.path().join("events.stix.json");
    let rep = export_stix(&mut case, &out);
    assert_eq!(
        (
            rep.manifest.entities,
            rep.manifest.links,
            rep.manifest.events
        ),
        (5, 1, 5)
    );
    let said = rep.manifest.not_exported.join(" | ");
    assert!(said.contains("x-copkit-event"), "{said}");

    if python_has("stix2") {
        let seen = python(
            "import sys, stix2, collections\n\
             b = stix2.parse(open(sys.argv[1]).read(), allow_custom=True)\n\
             c = collections.Counter(o['type'] for o in b.objects)\n\
             print(sorted(c.items()))",
            &out,
        );
        assert_eq!(
            seen,
            "[('identity', 3), ('location', 1), ('relationship', 3), ('sighting', 1), ('x-copkit-event', 2), ('x-copkit-phone', 1)]"
        );
    } else {
        eprintln!(
            "SKIPPED: python3 with stix2 is needed to check the export with the peer's reader (pip install stix2)"
        );
        assert!(
            std::env::var_os("CI").is_none(),
            "the CI must have stix2 for this test"
        );
    }

    // The same objects as a bare JSON list, under a name that says nothing.
    let bundle: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let list = dir.path().join("objects.json");
    std::fs::write(
        &list,
        serde_json::to_string_pretty(&bundle["objects"]).unwrap(),
    )
    .unwrap();
    assert_eq!(
        copkit::io::source::SourceFormat::detect(&list),
        copkit::io::source::SourceFormat::Stix
    );

    let events_of = |s: &copkit::store::CaseSnapshot| {
        let mut v: Vec<EventSummary> = s
            .events
            .iter()
            .map(|e| {
                let mut parts: Vec<(ParticipantRole, String)> = e
                    .participants
                    .iter()
                    .map(|p| (p.role, s.entity(p.entity).unwrap().label.clone()))
                    .collect();
                parts.sort();
                (e.event_type.clone(), e.time.clone(), parts)
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    let original = case.snapshot().unwrap();
    for (name, path) in [("bundle", &out), ("list", &list)] {
        let (_, mut back) = temp_case(&dir, &format!("{name}.copkit"));
        let r = stix(&mut back, path, &GraphOptions::default()).unwrap();
        assert_eq!(
            (r.entities_created, r.links, r.events, r.rows_rejected),
            (5, 1, 5, 0),
            "{name}: {}",
            r.to_text()
        );
        let snap = back.snapshot().unwrap();
        assert_eq!(events_of(&snap), events_of(&original), "{name}");
        let amount = snap
            .events
            .iter()
            .find(|e| e.event_type == "Transaction")
            .and_then(|e| value(&e.attributes, "amount"));
        assert_eq!(amount, Some("1500.50"), "{name}");
    }
}

fn export_stix(case: &mut Case, out: &Path) -> copkit::io::export::ExportReport {
    copkit::io::export::export(
        case,
        &copkit::io::export::ExportRequest {
            format: copkit::io::export::ExportFormat::Stix,
            out: out.to_path_buf(),
            recipient: "NCSC".into(),
            override_reason: None,
            only: None,
        },
        &CancelToken::new(),
        &copkit::jobs::NoProgress,
    )
    .unwrap()
}

/// The imported bundle plus a phone and a call written out as STIX: the stix2 library parses
/// it; ids, the relationship, the sighting, references and TLP come back; a phone becomes a
/// custom object and the call a relationship, both said in the manifest; our import of the
/// export gives the same items again, the call an event again.
#[test]
fn a_stix_export_is_parsed_by_stix2_and_imports_again() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    stix(
        &mut case,
        &fixture("graph", "sample.stix.json"),
        &GraphOptions::default(),
    )
    .unwrap();
    let suspect = by_source(&case.snapshot().unwrap(), SUSPECT).id;
    let mut phone = NewEntity::new("Phone", "+44 7700 900123");
    phone
        .attributes
        .push(NewAttribute::new("number", "+44 7700 900123"));
    let call = NewEvent {
        participants: vec![
            NewParticipant::new(ParticipantRole::From, EntityRef::Existing(suspect)),
            NewParticipant::new(ParticipantRole::To, EntityRef::New(0)),
        ],
        ..NewEvent::new(
            "Call",
            EventTime::instant(chrono::DateTime::from_timestamp(1_709_287_200, 0).unwrap()),
        )
    };
    common::import(
        &mut case,
        common::BatchItems {
            batch: copkit::store::NewBatch {
                kind: "import".into(),
                description: "phone".into(),
                ..Default::default()
            },
            entities: vec![phone],
            events: vec![call],
            ..Default::default()
        },
    )
    .unwrap();
    let out = dir.path().join("out.stix.json");
    let rep = export_stix(&mut case, &out);
    assert_eq!(
        (
            rep.manifest.entities,
            rep.manifest.links,
            rep.manifest.events
        ),
        (8, 4, 2)
    );
    let said = rep.manifest.not_exported.join(" | ");
    assert!(
        said.contains("custom objects x-copkit-") && said.contains("Phone"),
        "{said}"
    );
    assert!(said.contains("written as relationships"), "{said}");

    let bundle: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let objects = bundle["objects"].as_array().unwrap();
    assert!(objects.iter().all(|o| o["spec_version"] == "2.1"));
    let find = |id: &str| objects.iter().find(|o| o["id"] == id).unwrap();
    assert_eq!(
        find(ACTOR)["object_marking_refs"][0],
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
    );
    assert_eq!(find(ACTOR)["created_by_ref"], ANALYST);
    assert_eq!(find(ACTOR)["confidence"], 85);
    assert_eq!(find(ACTOR)["aliases"][0], "BL-7");
    assert_eq!(
        find(ACTOR)["external_references"][0]["external_id"],
        "NCA-2024-17"
    );
    assert_eq!(find(SUSPECT)["identity_class"], "individual");
    assert_eq!(find(EMAIL)["value"], "jane.doe@example.org");
    let call = objects
        .iter()
        .find(|o| o["relationship_type"] == "call")
        .unwrap();
    assert_eq!(call["source_ref"], SUSPECT);
    assert!(
        call["target_ref"]
            .as_str()
            .unwrap()
            .starts_with("x-copkit-phone--")
    );
    assert_eq!(call["start_time"], "2024-03-01T10:00:00.000Z");

    // The same case exported again gets the same ids (deterministic, not random).
    let again = dir.path().join("again.stix.json");
    export_stix(&mut case, &again);
    let ids = |p: &Path| -> Vec<String> {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        v["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&out), ids(&again));

    if python_has("stix2") {
        let seen = python(
            "import sys, stix2, collections\n\
             b = stix2.parse(open(sys.argv[1]).read(), allow_custom=True)\n\
             c = collections.Counter(o['type'] for o in b.objects)\n\
             print(sorted(c.items()))\n\
             r = [o for o in b.objects if o['type'] == 'relationship' and o['relationship_type'] == 'attributed-to'][0]\n\
             print(r.source_ref, r.target_ref, r.confidence)\n\
             s = [o for o in b.objects if o['type'] == 'sighting'][0]\n\
             print(s.sighting_of_ref, s.count, s.first_seen.isoformat())",
            &out,
        );
        let lines: Vec<&str> = seen.lines().collect();
        assert_eq!(
            lines[0],
            "[('email-addr', 1), ('identity', 2), ('indicator', 1), ('location', 2), ('relationship', 3), ('sighting', 1), ('threat-actor', 1), ('x-copkit-phone', 1)]"
        );
        assert_eq!(lines[1], format!("{SUSPECT} {ACTOR} 60"));
        assert_eq!(lines[2], format!("{INDICATOR} 3 2024-02-28T08:30:00+00:00"));
    } else {
        eprintln!(
            "SKIPPED: python3 with stix2 is needed to check the export with the peer's reader (pip install stix2)"
        );
        assert!(
            std::env::var_os("CI").is_none(),
            "the CI must have stix2 for this test"
        );
    }

    // Our own import reads the export back to the same items.
    let (_, mut back) = temp_case(&dir, "back.copkit");
    let r = stix(&mut back, &out, &GraphOptions::default()).unwrap();
    // The call comes back as the event it was, not as the relationship it was written as.
    assert_eq!((r.entities_created, r.links, r.events), (8, 4, 2), "{r:?}");
    let snap = back.snapshot().unwrap();
    let actor = by_source(&snap, ACTOR);
    assert_eq!(
        (actor.entity_type.as_str(), actor.label.as_str()),
        ("Organization", "Blue Lynx")
    );
    assert_eq!(actor.values("tlp").next(), Some("TLP:AMBER"));
    assert!(
        snap.entities
            .iter()
            .any(|e| e.entity_type == "Phone" && e.label == "+44 7700 900123")
    );
}

fn mtgx(case: &mut Case, path: &Path) -> Result<copkit::io::ImportReport, IoError> {
    let before = sha256_file(path);
    let r =
        copkit::io::maltego::import_mtgx(case, path, &GraphOptions::default(), &CancelToken::new());
    assert_eq!(sha256_file(path), before, "the source file was changed");
    r
}

fn by_label<'a>(snap: &'a copkit::store::CaseSnapshot, label: &str) -> &'a Entity {
    snap.entities
        .iter()
        .find(|e| e.label == label)
        .unwrap_or_else(|| panic!("no entity labelled {label}"))
}

/// A graph as Maltego saves it: types mapped, labels from each type's main property (not the
/// node ids), every property kept under its Maltego name, links typed by their label.
#[test]
fn a_maltego_graph_imports_with_types_labels_properties_and_links() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let r = mtgx(&mut case, &fixture("graph", "sample.mtgx")).unwrap();
    assert_eq!(
        (r.entities_created, r.links, r.rows_rejected),
        (9, 7, 0),
        "{r:?}"
    );
    let snap = case.snapshot().unwrap();
    let jane = by_label(&snap, "Jane Doe");
    assert_eq!(jane.entity_type, "Person");
    assert_eq!(jane.source_id.as_deref(), Some("a1f0c2d4e6b8a0c2"));
    assert_eq!(jane.values("maltegoType").next(), Some("maltego.Person"));
    assert_eq!(jane.values("person.firstnames").next(), Some("Jane"));
    assert_eq!(jane.values("firstName").next(), Some("Jane"));
    assert_eq!(jane.values("lastName").next(), Some("Doe"));
    let phone = by_label(&snap, "+44 7700 900123");
    assert_eq!(phone.entity_type, "Phone");
    assert_eq!(phone.values("phonenumber.areacode").next(), Some("7700"));
    assert_eq!(phone.values("number").next(), Some("+44 7700 900123"));
    assert!(
        phone.values("phonenumber.citycode").next().is_none(),
        "empty values are not kept"
    );
    assert_eq!(by_label(&snap, "jane.doe@example.org").entity_type, "Email");
    assert_eq!(
        by_label(&snap, "Blue Lynx Trading Ltd").entity_type,
        "Organization"
    );
    let leeds = by_label(&snap, "Leeds, United Kingdom");
    assert_eq!(leeds.entity_type, "Location");
    assert_eq!(leeds.values("latitude").next(), Some("53.8008"));
    assert_eq!(leeds.values("countrycode").next(), Some("GB"));
    assert_eq!(
        by_label(&snap, "login-bank.example").entity_type,
        "OnlineAccount"
    );
    let ip = by_label(&snap, "203.0.113.7");
    assert_eq!(ip.entity_type, "Device");
    assert_eq!(ip.values("ipaddress.internal").next(), Some("false"));
    let twitter = by_label(&snap, "Jane D");
    assert_eq!(twitter.entity_type, "OnlineAccount");
    assert_eq!(
        twitter.values("twitter.screen-name").next(),
        Some("janed_1")
    );
    // A custom type: its main property from Entities/acme.CaseReference.entity.
    let reference = by_label(&snap, "OP-17/2024");
    assert_eq!(
        reference.values("maltegoType").next(),
        Some("acme.CaseReference")
    );

    let uses = snap.links.iter().find(|l| l.link_type == "uses").unwrap();
    assert_eq!((uses.source, uses.target), (jane.id, phone.id));
    assert!(uses.directed);
    assert_eq!(uses.weight, Some(100.0));
    assert_eq!(
        value(&uses.attributes, "maltegoLinkType"),
        Some("maltego.link.manual-link")
    );
    assert!(
        value(&uses.attributes, "maltego.link.color").is_none(),
        "drawing only"
    );
    assert!(snap.links.iter().any(|l| l.link_type == "director of"));
    // Unlabelled links take the default link type.
    assert_eq!(
        snap.links
            .iter()
            .filter(|l| l.link_type == "associate")
            .count(),
        2
    );
}

/// Two graph tabs of one .mtgx show the same entity (same Maltego id): one entity, its
/// properties unioned, the different surname reported; notes, bookmark colour and link
/// weight kept.
/// A graph Maltego itself saved (Maltego Community Edition 4.2.6, cut down to four entities
/// and three links from VirusTotal/vt-graph-api's tests/resources/maltego_graph.graphml,
/// Apache-2.0, zipped as Maltego does): its entities, their display information and weight
/// elements, and its manual links with colour and style are read. That file has no notes and
/// no bookmarks, and none are made up.
#[test]
fn a_graph_saved_by_maltego_itself_imports() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let r = mtgx(&mut case, &fixture("graph", "maltego-ce-4.2.6.mtgx")).unwrap();
    assert_eq!(
        (r.entities_created, r.links, r.rows_rejected),
        (4, 3, 0),
        "{r:?}"
    );
    let snap = case.snapshot().unwrap();
    let john = by_label(&snap, "John Doe");
    assert_eq!(john.entity_type, "Person");
    assert_eq!(john.source_id.as_deref(), Some("2d6xwdkwoayfj"));
    assert_eq!(john.values("firstName").next(), Some("John"));
    assert_eq!(john.values("lastName").next(), Some("Doe"));
    let domain = by_label(&snap, "paterva.com");
    assert_eq!(domain.entity_type, "OnlineAccount");
    assert_eq!(domain.values("maltegoType").next(), Some("maltego.Domain"));
    let ip = by_label(&snap, "74.207.243.85");
    assert_eq!(ip.entity_type, "Device");
    for e in &snap.entities {
        assert!(
            e.values("notes").next().is_none() && e.values("bookmark").next().is_none(),
            "{}: no notes or bookmark in the file",
            e.label
        );
    }
    let aa = snap.links.iter().find(|l| l.link_type == "aa").unwrap();
    assert_eq!(aa.target, john.id);
    assert!(aa.directed);
    let to = snap.links.iter().find(|l| l.link_type == "to").unwrap();
    assert_eq!((to.source, to.target), (ip.id, john.id));
    assert!(
        snap.links
            .iter()
            .any(|l| l.source == domain.id && l.target == ip.id),
        "the unlabelled link is kept with the default type"
    );
}

#[test]
fn an_entity_in_two_graphs_is_merged_with_notes_bookmark_and_weights_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let r = mtgx(&mut case, &fixture("graph", "two-graphs.mtgx")).unwrap();
    assert_eq!(
        (r.entities_created, r.links, r.rows_rejected),
        (3, 2, 0),
        "{r:?}"
    );
    let snap = case.snapshot().unwrap();
    let jane = by_label(&snap, "Jane Doe");
    assert_eq!(jane.source_id.as_deref(), Some("a1f0c2d4e6b8a0c2"));
    assert_eq!(
        jane.values("notes").collect::<Vec<_>>(),
        ["Seen at the harbour\non two nights"]
    );
    assert_eq!(jane.values("bookmark").collect::<Vec<_>>(), ["red"]);
    assert!(jane.values("notes#").next().is_none() && jane.values("bookmark#").next().is_none());
    // From the second graph: a property the first lacks, and the surname it differs on.
    assert_eq!(jane.values("person.age").collect::<Vec<_>>(), ["41"]);
    let mut surnames: Vec<&str> = jane.values("person.lastname").collect();
    surnames.sort();
    assert_eq!(surnames, ["Doe", "Doe-Smith"]);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.field.as_deref() == Some("person.lastname")
                && w.reason.contains("'Doe'")
                && w.reason.contains("'Doe-Smith'")
                && w.reason.contains("Graphs/Graph2.graphml")),
        "{:?}",
        r.warnings
    );
    // Links of both graphs hang on the one Jane, each with its weight.
    let phone = by_label(&snap, "+44 7700 900123");
    let company = by_label(&snap, "Blue Lynx Trading Ltd");
    let uses = snap.links.iter().find(|l| l.link_type == "uses").unwrap();
    assert_eq!(
        (uses.source, uses.target, uses.weight),
        (jane.id, phone.id, Some(75.0))
    );
    let director = snap
        .links
        .iter()
        .find(|l| l.link_type == "director of")
        .unwrap();
    assert_eq!(
        (director.source, director.target, director.weight),
        (jane.id, company.id, Some(0.0))
    );
}

#[test]
fn hostile_mtgx_files_are_refused_naming_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let ratio = mtgx(&mut case, &fixture("bad", "mtgx-ratio-bomb.mtgx")).unwrap_err();
    assert!(
        matches!(
            ratio,
            IoError::Bound {
                bound: "max_zip_ratio",
                ..
            }
        ),
        "{ratio}"
    );
    let huge = mtgx(&mut case, &fixture("bad", "mtgx-declared-huge.mtgx")).unwrap_err();
    assert!(
        matches!(
            huge,
            IoError::Bound {
                bound: "max_zip_bytes",
                ..
            }
        ),
        "{huge}"
    );
    let none = mtgx(&mut case, &fixture("bad", "mtgx-no-graph.mtgx")).unwrap_err();
    assert!(
        none.to_string()
            .contains("no graph (no Graphs/*.graphml entry)"),
        "{none}"
    );
    let not_zip = mtgx(&mut case, &fixture("graph", "sample.stix.json")).unwrap_err();
    assert!(matches!(not_zip, IoError::WrongFormat { .. }), "{not_zip}");
    assert!(case.snapshot().unwrap().entities.is_empty());
}
