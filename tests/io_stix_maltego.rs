//! STIX 2.1 import (a bundle written by the stix2 library) and export (read back by stix2),
//! hostile STIX files, and Maltego .mtgx import.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code stops loudly where an expectation fails"
)]

mod common;

use common::{sha256_file, temp_case};
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

fn stix(case: &mut Case, path: &Path, opts: &GraphOptions) -> Result<copkit::io::ImportReport, IoError> {
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
    let r = stix(&mut case, &fixture("graph", "sample.stix.json"), &GraphOptions::default()).unwrap();
    // 7 entities; 2 relationships and 2 created_by references as links; 1 sighting.
    assert_eq!((r.entities_created, r.links, r.events), (7, 4, 1), "{r:?}");
    assert_eq!(r.rows_rejected, 0);
    let snap = case.snapshot().unwrap();

    let analyst = by_source(&snap, ANALYST);
    assert_eq!((analyst.entity_type.as_str(), analyst.label.as_str()), ("Organization", "North Region Cyber Unit"));
    assert_eq!(analyst.values("contact_information").next(), Some("+44 20 7946 0000"));
    assert_eq!(analyst.values("sectors").next(), Some("government-public-services"));

    let suspect = by_source(&snap, SUSPECT);
    assert_eq!((suspect.entity_type.as_str(), suspect.label.as_str()), ("Person", "Jane Doe"));
    assert_eq!(suspect.values("confidence").next(), Some("70"));
    assert_eq!(suspect.values("labels").next(), Some("suspect"));
    assert_eq!(suspect.values("stixType").next(), Some("identity"));
    assert_eq!(suspect.values("created").next(), Some("2024-03-01T10:00:00.000Z"));

    let actor = by_source(&snap, ACTOR);
    assert_eq!((actor.entity_type.as_str(), actor.label.as_str()), ("Organization", "Blue Lynx"));
    assert_eq!(actor.values("stixType").next(), Some("threat-actor"));
    assert_eq!(actor.values("confidence").next(), Some("85"));
    assert_eq!(actor.values("alias").next(), Some("BL-7"));
    assert_eq!(actor.values("x_source_team").next(), Some("Team North"));
    assert_eq!(actor.values("tlp").next(), Some("TLP:AMBER"));
    assert!(actor.values("description").next().unwrap().starts_with("A financially"));
    let reference: serde_json::Value =
        serde_json::from_str(actor.values("external_references").next().unwrap()).unwrap();
    assert_eq!(reference["source_name"], "NCA bulletin");
    assert_eq!(reference["external_id"], "NCA-2024-17");
    assert_eq!(reference["url"], "https://example.org/bulletins/2024-17");

    let indicator = by_source(&snap, INDICATOR);
    assert_eq!((indicator.entity_type.as_str(), indicator.label.as_str()), ("Document", "Phishing domain"));
    assert_eq!(indicator.values("pattern").next(), Some("[domain-name:value = 'login-bank.example']"));

    let office = by_source(&snap, OFFICE);
    assert_eq!(office.entity_type, "Location");
    assert_eq!(office.values("latitude").next(), Some("53.8008"));
    assert_eq!(office.values("longitude").next(), Some("-1.5491"));
    let flat = by_source(&snap, FLAT);
    assert_eq!((flat.entity_type.as_str(), flat.label.as_str()), ("Address", "12 Canal Street"));
    assert_eq!(flat.values("street").next(), Some("12 Canal Street"));
    assert_eq!(flat.values("city").next(), Some("Manchester"));
    let email = by_source(&snap, EMAIL);
    assert_eq!((email.entity_type.as_str(), email.label.as_str()), ("Email", "jane.doe@example.org"));
    assert_eq!(email.values("email").next(), Some("jane.doe@example.org"));

    let attributed = snap.links.iter().find(|l| l.link_type == "attributed-to").unwrap();
    assert_eq!((attributed.source, attributed.target), (suspect.id, actor.id));
    assert!(attributed.directed);
    assert_eq!(attributed.source_id.as_deref(), Some("relationship--0a1b2c3d-0000-4000-8000-000000000008"));
    assert_eq!(value(&attributed.attributes, "confidence"), Some("60"));
    assert_eq!(value(&attributed.attributes, "startDate"), Some("2023-06-01"));
    assert_eq!(value(&attributed.attributes, "start_time"), Some("2023-06-01T00:00:00Z"));
    let created_by: Vec<_> = snap.links.iter().filter(|l| l.link_type == "created_by").collect();
    assert_eq!(created_by.len(), 2);
    assert!(created_by.iter().all(|l| l.target == analyst.id));

    let sighting = &snap.events[0];
    assert_eq!(sighting.event_type, "Sighting");
    assert_eq!(sighting.time.start().to_rfc3339(), "2024-02-28T08:30:00+00:00");
    assert_eq!(sighting.time.end().unwrap().to_rfc3339(), "2024-02-28T17:45:00+00:00");
    assert_eq!(value(&sighting.attributes, "count"), Some("3"));
    let parts: Vec<(ParticipantRole, EntityId)> =
        sighting.participants.iter().map(|p| (p.role, p.entity)).collect();
    assert_eq!(
        parts,
        vec![
            (ParticipantRole::Participant, indicator.id),
            (ParticipantRole::Participant, analyst.id),
            (ParticipantRole::Location, office.id),
        ]
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
    assert!(text.contains("object 2 (relationship--0a1b2c3d-0000-4000-8000-0000000000b1)"), "{text}");
    assert!(text.contains("target_ref"), "{text}");
    assert!(text.contains("identity--0a1b2c3d-0000-4000-8000-0000000000b2"), "{text}");
    assert!(case.snapshot().unwrap().entities.is_empty(), "all or nothing");
    // Leniently, the two identities come in and the relationship is skipped.
    let lenient = GraphOptions { lenient: true, ..GraphOptions::default() };
    let r = stix(&mut case, &path, &lenient).unwrap();
    assert_eq!((r.entities_created, r.links, r.rows_rejected), (2, 1, 1));
    assert!(r.rejected[0].line > 1, "the line of the object is given: {:?}", r.rejected[0]);
}

#[test]
fn hostile_stix_files_are_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let deep = stix(&mut case, &fixture("bad", "stix-deep.json"), &GraphOptions::default()).unwrap_err();
    assert!(matches!(deep, IoError::Bound { bound: "max_json_depth", .. }), "{deep}");
    let cut = stix(&mut case, &fixture("bad", "stix-not-json.json"), &GraphOptions::default()).unwrap_err();
    assert!(matches!(cut, IoError::Parse { .. }), "{cut}");
    assert!(cut.to_string().contains("not valid JSON"), "{cut}");
    let not_stix = dir.path().join("numbers.json");
    std::fs::write(&not_stix, "[1, 2, 3]").unwrap();
    let err = stix(&mut case, &not_stix, &GraphOptions::default()).unwrap_err();
    assert!(err.to_string().contains("object 0"), "{err}");
    let object = dir.path().join("one.json");
    std::fs::write(&object, r#"{"type": "identity", "id": "identity--0a1b2c3d-0000-4000-8000-000000000009", "name": "Solo", "identity_class": "individual"}"#).unwrap();
    let r = stix(&mut case, &object, &GraphOptions::default()).unwrap();
    assert_eq!(r.entities_created, 1, "a single STIX object is read as a bundle of one");
    assert!(case.snapshot().unwrap().entities.is_empty() == false);
}
