//! GraphML import (networkx output, hostile XML), exports with manifest and disclosure audit,
//! and the GraphML round trip.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]

mod common;

use common::{BatchItems, dump, python, python_has, sha256_file, temp_case};
use copkit::io::IoError;
use copkit::io::export::{ExportFormat, ExportReport, ExportRequest};
use copkit::io::graphml::{GraphOptions, import_graphml};
use copkit::jobs::CancelToken;
use copkit::model::*;
use copkit::store::{Case, NewBatch};
use std::path::{Path, PathBuf};

/// An export as the CLI runs it, without cancelling.
fn export(case: &mut Case, req: &ExportRequest) -> Result<ExportReport, IoError> {
    copkit::io::export::export(case, req, &CancelToken::new(), &copkit::jobs::NoProgress)
}

fn fixture(dir: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
        .join(name)
}

fn import(
    case: &mut Case,
    path: &Path,
    opts: &GraphOptions,
) -> Result<copkit::io::ImportReport, IoError> {
    let before = sha256_file(path);
    let r = import_graphml(case, path, opts, &CancelToken::new());
    assert_eq!(sha256_file(path), before);
    r
}

#[test]
fn networkx_graphml_imports_with_ids_types_and_weights() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let r = import(
        &mut case,
        &fixture("graph", "networkx.graphml"),
        &GraphOptions::default(),
    )
    .unwrap();
    assert_eq!((r.entities_created, r.links), (4, 3));
    let snap = case.snapshot().unwrap();
    let alice = snap
        .entities
        .iter()
        .find(|e| e.source_id.as_deref() == Some("alice"))
        .unwrap();
    assert_eq!(alice.label, "Alice Smith");
    assert_eq!(alice.entity_type, "Person");
    assert_eq!(alice.values("phone").next(), Some("+44 7700 900123"));
    let acme = snap
        .entities
        .iter()
        .find(|e| e.source_id.as_deref() == Some("acme"))
        .unwrap();
    assert_eq!(acme.entity_type, "Organization");
    let knows = snap.links.iter().find(|l| l.link_type == "knows").unwrap();
    assert_eq!(knows.weight, Some(2.5));
    assert!(!knows.directed);
    assert_eq!(
        snap.links
            .iter()
            .filter(|l| l.link_type == "associate")
            .count(),
        1
    );
    let r = import(
        &mut case,
        &fixture("graph", "networkx-directed.graphml"),
        &GraphOptions::default(),
    )
    .unwrap();
    assert_eq!(r.links, 2);
    let snap = case.snapshot().unwrap();
    assert!(
        snap.links
            .iter()
            .filter(|l| l.weight == Some(3.0))
            .all(|l| l.directed)
    );
}

fn graph_fails(name: &str, expect: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let before = dump(&case);
    let err = import(&mut case, &fixture("bad", name), &GraphOptions::default()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(name), "no file name in: {msg}");
    for e in expect {
        assert!(msg.contains(e), "'{e}' missing from: {msg}");
    }
    assert_eq!(dump(&case), before);
}

#[test]
fn hostile_and_broken_graphml_is_refused_with_a_location() {
    graph_fails("billion-laughs.graphml", &["line 2", "DOCTYPE"]);
    graph_fails("external-entity.graphml", &["line 2", "DOCTYPE"]);
    graph_fails("deep-nesting.graphml", &["max_xml_depth"]);
    graph_fails("malformed.graphml", &["line 5", "malformed XML"]);
    graph_fails("undeclared-key.graphml", &["line 4", "nope"]);
    graph_fails(
        "edge-unknown-node.graphml",
        &["line 7", "ghost", "unknown node"],
    );
    graph_fails("bad-weight.graphml", &["line 6", "weight", "heavy"]);
    graph_fails("zip-renamed.graphml", &["zip archive"]);
}

#[test]
fn edges_to_unknown_nodes_are_skipped_and_listed_in_lenient_mode() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let opts = GraphOptions {
        lenient: true,
        ..GraphOptions::default()
    };
    let r = import(
        &mut case,
        &fixture("bad", "edge-unknown-node.graphml"),
        &opts,
    )
    .unwrap();
    assert_eq!((r.links, r.rows_rejected), (1, 1));
    assert_eq!(r.rejected[0].line, 7);
}

fn graded(s: &str, i: &str, h: Option<&str>) -> Option<Grading> {
    Some(Grading {
        scheme: "admiralty".into(),
        source: Some(s.into()),
        information: Some(i.into()),
        handling: h.map(str::to_string),
    })
}

fn seed(case: &mut Case, nodissem: bool) {
    let prov = Provenance {
        batch: None,
        source_file: Some("notes.csv".into()),
        record: Some("line 7".into()),
    };
    let mut a = NewEntity::new("Person", "=HYPERLINK(\"x\")");
    a.source_id = Some("p-a".into());
    a.category = Some(PersonCategory::Suspect);
    a.grading = graded("B", "2", None);
    a.provenance = prov.clone();
    a.attributes.push(NewAttribute {
        property: "phone".into(),
        value: "+44 7700 900123".into(),
        provenance: prov.clone(),
        grading: graded("C", "3", if nodissem { Some("NODISSEM") } else { None }),
    });
    a.attributes.push(NewAttribute {
        property: "alias".into(),
        value: "bad\u{1}char".into(),
        provenance: prov.clone(),
        grading: None,
    });
    let b = NewEntity::new("Organization", "Acme & Sons <Ltd>\u{1}");
    let mut hidden = NewEntity::new("Person", "Hidden Witness");
    hidden.restricted = true;
    let mut l = NewLink::new("employed_by", EntityRef::New(0), EntityRef::New(1));
    l.directed = true;
    l.weight = Some(2.5);
    l.strength = LinkStrength::Tentative;
    l.label = Some("since 2020".into());
    l.grading = graded("A", "1", Some("OPEN"));
    l.provenance = prov.clone();
    l.attributes.push(NewAttribute {
        property: "startDate".into(),
        value: "2020-01".into(),
        provenance: prov.clone(),
        grading: graded("B", "3", None),
    });
    let l2 = NewLink::new("knows", EntityRef::New(0), EntityRef::New(2));
    let mut ev = NewEvent::new(
        "Meeting",
        EventTime::instant(chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap()),
    );
    ev.participants.push(NewParticipant::new(
        ParticipantRole::Participant,
        EntityRef::New(0),
    ));
    common::import(
        case,
        BatchItems {
            batch: NewBatch {
                kind: "import".into(),
                description: "seed".into(),
                ..NewBatch::default()
            },
            entities: vec![a, b, hidden],
            links: vec![l, l2],
            events: vec![ev],
        },
    )
    .unwrap();
}

#[test]
fn graphml_round_trip_keeps_entities_links_attributes_grading_and_provenance() {
    let dir = tempfile::tempdir().unwrap();
    let (case_path, mut case) = temp_case(&dir, "c.copkit");
    seed(&mut case, false);
    let out = dir.path().join("out.graphml");
    let rep = export(
        &mut case,
        &ExportRequest {
            format: ExportFormat::GraphMl,
            out: out.clone(),
            recipient: "CPS".into(),
            override_reason: None,
            only: None,
        },
    )
    .unwrap();
    assert_eq!((rep.manifest.entities, rep.manifest.links), (2, 1));
    assert_eq!(rep.manifest.skipped_restricted, 2);
    // Events go out as edges with their time (GraphML has no events of its own).
    assert_eq!(rep.manifest.events, 1);
    assert!(
        rep.manifest
            .not_exported
            .iter()
            .any(|n| n.contains("XML 1.0"))
    );
    assert_eq!(rep.manifest.outputs[0].1, sha256_file(&out));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&rep.manifest_path).unwrap()).unwrap();
    assert_eq!(manifest["recipient"], "CPS");
    assert_eq!(manifest["audit_head"].as_str().unwrap().len(), 64);
    assert!(
        case.audit_records()
            .unwrap()
            .iter()
            .any(|r| r.category == "disclosure")
    );
    let text = std::fs::read_to_string(&out).unwrap();
    // The label's control character, which XML 1.0 cannot hold, is dropped and reported.
    assert!(text.contains("Acme &amp; Sons &lt;Ltd&gt;</data>"));
    assert!(!text.contains("Hidden Witness"));

    let (_, mut other) = temp_case(&dir, "d.copkit");
    let r = import(&mut other, &out, &GraphOptions::default()).unwrap();
    assert_eq!((r.entities_created, r.links, r.events), (2, 1, 1));
    let a = case.snapshot().unwrap();
    let b = other.snapshot().unwrap();
    let be = &b.events[0];
    let oe = a
        .events
        .iter()
        .find(|e| !e.restricted && e.event_type == be.event_type)
        .expect("the event came back with its type");
    assert_eq!(be.time, oe.time);
    assert_eq!(be.participants.len(), oe.participants.len());
    assert_eq!(be.grading, oe.grading);
    // networkx reads the same file: the link and the event, the event with its time.
    if python_has("networkx") {
        let read = python(
            "import sys, networkx as nx\n\
             g = nx.read_graphml(sys.argv[1])\n\
             timed = [d for _, _, d in g.edges(data=True) if 'spell:start' in d]\n\
             print(g.is_directed(), g.number_of_nodes(), g.number_of_edges(), len(timed))",
            &out,
        );
        // Three nodes: the two entities and the outside, the other side of the seed's
        // one-sided event.
        assert_eq!(read, "True 3 2 1", "networkx on the GraphML with an event");
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "the CI must have networkx"
        );
    }
    let orig = a
        .entities
        .iter()
        .find(|e| e.entity_type == "Person" && !e.restricted)
        .unwrap();
    let back = b
        .entities
        .iter()
        .find(|e| e.entity_type == "Person")
        .unwrap();
    assert_eq!(back.label, orig.label);
    assert_eq!(back.source_id, orig.source_id);
    assert_eq!(back.category, orig.category);
    assert_eq!(back.grading, orig.grading);
    assert_eq!(back.provenance.source_file, orig.provenance.source_file);
    assert_eq!(back.provenance.record, orig.provenance.record);
    let strip = |attrs: &[Attribute]| -> Vec<(String, String, Option<Grading>, Option<String>)> {
        attrs
            .iter()
            .map(|x| {
                (
                    x.property.clone(),
                    x.value.clone(),
                    x.grading.clone(),
                    x.provenance.record.clone(),
                )
            })
            .collect()
    };
    // Attribute values travel JSON-escaped, so even a control character survives.
    let want = strip(&orig.attributes);
    assert_eq!(strip(&back.attributes), want);
    let ol = a
        .links
        .iter()
        .find(|l| l.link_type == "employed_by")
        .unwrap();
    let bl = &b.links[0];
    assert_eq!(
        (
            &bl.link_type,
            bl.directed,
            bl.weight,
            bl.strength,
            &bl.label,
            &bl.grading
        ),
        (
            &ol.link_type,
            ol.directed,
            ol.weight,
            ol.strength,
            &ol.label,
            &ol.grading
        )
    );
    assert_eq!(strip(&bl.attributes), strip(&ol.attributes));
    // The export never overwrites: not the output again, not the case.
    let again = export(
        &mut case,
        &ExportRequest {
            format: ExportFormat::GraphMl,
            out: out.clone(),
            recipient: "CPS".into(),
            override_reason: None,
            only: None,
        },
    );
    assert!(again.unwrap_err().to_string().contains("already exists"));
    let onto_case = export(
        &mut case,
        &ExportRequest {
            format: ExportFormat::I2Csv,
            out: case_path.clone(),
            recipient: "CPS".into(),
            override_reason: None,
            only: None,
        },
    );
    assert!(onto_case.unwrap_err().to_string().contains("open case"));
}

#[test]
fn no_dissemination_codes_block_exports_unless_overridden() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    seed(&mut case, true);
    let out = dir.path().join("x.csv");
    let req = ExportRequest {
        format: ExportFormat::I2Csv,
        out: out.clone(),
        recipient: "Partner agency".into(),
        override_reason: None,
        only: None,
    };
    let err = export(&mut case, &req).unwrap_err();
    assert!(err.to_string().contains("forbids dissemination"), "{err}");
    assert!(!out.exists());
    let rep = export(
        &mut case,
        &ExportRequest {
            override_reason: Some("court order 2024/17".into()),
            only: None,
            ..req
        },
    )
    .unwrap();
    assert_eq!(
        rep.manifest.dissemination_override.as_deref(),
        Some("court order 2024/17")
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let header = rows.headers().unwrap().clone();
    assert!(header.iter().any(|h| h == "end1_type"));
    let row = rows.records().next().unwrap().unwrap();
    // Formula-like labels are neutralised.
    assert!(row.iter().any(|c| c == "'=HYPERLINK(\"x\")"));
    assert!(row.iter().any(|c| c == "2020-01"));
    let audit = case.audit_records().unwrap();
    let last = audit
        .iter()
        .rev()
        .find(|r| r.category == "disclosure")
        .unwrap();
    assert!(last.details.contains("court order 2024/17"));
}

#[test]
fn csv_export_writes_three_tables_with_a_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    seed(&mut case, false);
    let out = dir.path().join("export");
    let rep = export(
        &mut case,
        &ExportRequest {
            format: ExportFormat::Csv,
            out: out.clone(),
            recipient: "CPS".into(),
            override_reason: None,
            only: None,
        },
    )
    .unwrap();
    assert_eq!(rep.manifest.outputs.len(), 3);
    let entities = std::fs::read_to_string(out.join("entities.csv")).unwrap();
    assert!(entities.contains("'=HYPERLINK"));
    assert!(!entities.contains("Hidden Witness"));
    let events = std::fs::read_to_string(out.join("events.csv")).unwrap();
    assert!(events.contains("Meeting"));
}

#[test]
fn gephi_gexf_static_and_dynamic_import() {
    use copkit::io::gexf::import_gexf;
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let path = fixture("graph", "gephi-static.gexf");
    let before = sha256_file(&path);
    let r = import_gexf(
        &mut case,
        &path,
        &GraphOptions::default(),
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(sha256_file(&path), before);
    assert_eq!((r.entities_created, r.links), (3, 2));
    let snap = case.snapshot().unwrap();
    let acme = snap
        .entities
        .iter()
        .find(|e| e.source_id.as_deref() == Some("1"))
        .unwrap();
    assert_eq!(
        (acme.label.as_str(), acme.entity_type.as_str()),
        ("Acme & Sons", "Organization")
    );
    let emp = snap
        .links
        .iter()
        .find(|l| l.link_type == "employed_by")
        .unwrap();
    assert_eq!((emp.weight, emp.directed), (Some(2.0), false));
    assert!(
        snap.links
            .iter()
            .any(|l| l.directed && l.link_type == "associate")
    );
    let r = import_gexf(
        &mut case,
        &fixture("graph", "gephi-dynamic.gexf"),
        &GraphOptions::default(),
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!((r.entities_created, r.links), (2, 1));
    let snap = case.snapshot().unwrap();
    let a = snap
        .entities
        .iter()
        .find(|e| e.source_id.as_deref() == Some("a"))
        .unwrap();
    // Each spell one interval value, start and end kept together (see io_gexf.rs).
    assert_eq!(a.values("spell").next(), Some("2009-01-01/2009-01-15"));
    let l = snap
        .links
        .iter()
        .find(|l| l.source_id.as_deref() == Some("e1"))
        .unwrap();
    assert!(
        l.attributes
            .iter()
            .any(|x| x.property == "spell" && x.value == "2009-01-01/2009-03-01")
    );
}

#[test]
fn gexf_round_trip_keeps_events_as_spells() {
    use copkit::io::gexf::import_gexf;
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    seed(&mut case, false);
    let out = dir.path().join("out.gexf");
    let rep = export(
        &mut case,
        &ExportRequest {
            format: ExportFormat::Gexf,
            out: out.clone(),
            recipient: "CPS".into(),
            override_reason: None,
            only: None,
        },
    )
    .unwrap();
    assert_eq!(rep.manifest.events, 1);
    let (_, mut other) = temp_case(&dir, "d.copkit");
    let r = import_gexf(
        &mut other,
        &out,
        &GraphOptions::default(),
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!((r.entities_created, r.links, r.events), (2, 1, 1));
    let a = case.snapshot().unwrap();
    let b = other.snapshot().unwrap();
    assert_eq!(b.events[0].event_type, "Meeting");
    assert_eq!(b.events[0].time.start_ms, a.events[0].time.start_ms);
    assert_eq!(
        b.events[0].participants[0].role,
        ParticipantRole::Participant
    );
    let orig = a
        .entities
        .iter()
        .find(|e| e.entity_type == "Person" && !e.restricted)
        .unwrap();
    let back = b
        .entities
        .iter()
        .find(|e| e.entity_type == "Person")
        .unwrap();
    assert_eq!(
        (&back.label, &back.grading, &back.category),
        (&orig.label, &orig.grading, &orig.category)
    );
    assert_eq!(back.attributes.len(), orig.attributes.len());
    let bl = &b.links[0];
    assert_eq!(
        (bl.weight, bl.directed, &bl.grading),
        (Some(2.5), true, &a.links[0].grading)
    );
}

#[test]
fn ftm_lines_import_every_supported_schema() {
    use copkit::io::ftm::import_ftm;
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let path = fixture("graph", "sample.ftm.json");
    let before = sha256_file(&path);
    let r = import_ftm(
        &mut case,
        &path,
        false,
        &Default::default(),
        None,
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(sha256_file(&path), before);
    assert_eq!(
        (r.entities_created, r.links, r.events),
        (8, 6, 2),
        "{}",
        r.to_text()
    );
    // hairColor is a Person property in FtM 4: kept, and not reported (tests/io_ftm.rs has
    // one FtM does not define).
    assert!(
        !r.warnings
            .iter()
            .any(|w| w.field.as_deref() == Some("hairColor"))
    );
    let snap = case.snapshot().unwrap();
    let ana = snap
        .entities
        .iter()
        .find(|e| e.source_id.as_deref() == Some("p1"))
        .unwrap();
    assert_eq!(ana.label, "Ana Novak");
    assert_eq!(ana.values("hairColor").next(), Some("red"));
    let van = snap
        .entities
        .iter()
        .find(|e| e.source_id.as_deref() == Some("v1"))
        .unwrap();
    assert_eq!(van.values("plate").next(), Some("LJ AB-123"));
    assert!(snap.links.iter().any(|l| l.link_type == "owns"));
    let pay = snap
        .events
        .iter()
        .find(|e| e.event_type == "Transaction")
        .unwrap();
    assert_eq!(pay.participants.len(), 2);
}

#[test]
fn broken_ftm_lines_are_named_and_deep_nesting_hits_a_bound() {
    use copkit::io::ftm::import_ftm;
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let before = dump(&case);
    let path = fixture("bad", "ftm-broken-lines.ftm.json");
    let err = import_ftm(
        &mut case,
        &path,
        false,
        &Default::default(),
        None,
        &CancelToken::new(),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("ftm-broken-lines.ftm.json") && msg.contains("line 2"),
        "{msg}"
    );
    let IoError::Rejected { report, .. } = err else {
        panic!()
    };
    assert!(
        report
            .rejected
            .iter()
            .any(|p| p.line == 3 && p.reason.contains("Spaceship"))
    );
    assert!(
        report
            .rejected
            .iter()
            .any(|p| p.line == 4 && p.reason.contains("nobody"))
    );
    assert_eq!(dump(&case), before);
    let lenient = import_ftm(
        &mut case,
        &path,
        true,
        &Default::default(),
        None,
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!((lenient.rows_accepted, lenient.rows_rejected), (1, 3));
    let err = import_ftm(
        &mut case,
        &fixture("bad", "ftm-deep.ftm.json"),
        false,
        &Default::default(),
        None,
        &CancelToken::new(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("max_json_depth"), "{err}");
}

#[test]
fn ftm_round_trip_keeps_entities_links_events_grading_and_provenance() {
    use copkit::io::ftm::import_ftm;
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    seed(&mut case, false);
    let out = dir.path().join("out.ftm.json");
    let rep = export(
        &mut case,
        &ExportRequest {
            format: ExportFormat::Ftm,
            out: out.clone(),
            recipient: "CPS".into(),
            override_reason: None,
            only: None,
        },
    )
    .unwrap();
    assert_eq!(
        (
            rep.manifest.entities,
            rep.manifest.links,
            rep.manifest.events
        ),
        (2, 1, 1)
    );
    let (_, mut other) = temp_case(&dir, "d.copkit");
    let r = import_ftm(
        &mut other,
        &out,
        false,
        &Default::default(),
        None,
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(
        (r.entities_created, r.links, r.events),
        (2, 1, 1),
        "{}",
        r.to_text()
    );
    let a = case.snapshot().unwrap();
    let b = other.snapshot().unwrap();
    let orig = a
        .entities
        .iter()
        .find(|e| e.entity_type == "Person" && !e.restricted)
        .unwrap();
    let back = b
        .entities
        .iter()
        .find(|e| e.entity_type == "Person")
        .unwrap();
    assert_eq!(
        (&back.label, &back.grading, &back.category, &back.source_id),
        (&orig.label, &orig.grading, &orig.category, &orig.source_id)
    );
    assert_eq!(back.provenance.record, orig.provenance.record);
    let vals = |e: &Entity| {
        e.attributes
            .iter()
            .map(|x| (x.property.clone(), x.value.clone(), x.grading.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(vals(back), vals(orig));
    let (ol, bl) = (&a.links[0], &b.links[0]);
    assert_eq!(
        (
            &bl.link_type,
            bl.directed,
            bl.weight,
            bl.strength,
            &bl.grading
        ),
        (
            &ol.link_type,
            ol.directed,
            ol.weight,
            ol.strength,
            &ol.grading
        )
    );
    assert_eq!(b.events[0].time, a.events[0].time);
    assert_eq!(
        b.events[0].participants[0].role,
        ParticipantRole::Participant
    );
}

#[test]
fn gexf_refuses_doctypes_and_names_unknown_nodes() {
    use copkit::io::gexf::import_gexf;
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let before = dump(&case);
    let path = fixture("bad", "billion-laughs.gexf");
    let err = import_gexf(
        &mut case,
        &path,
        &GraphOptions::default(),
        &CancelToken::new(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("DOCTYPE") && err.to_string().contains("billion-laughs.gexf"),
        "{err}"
    );
    let err = import_gexf(
        &mut case,
        &fixture("bad", "zip-renamed.graphml"),
        &GraphOptions::default(),
        &CancelToken::new(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("zip archive"), "{err}");
    assert_eq!(dump(&case), before);
}

/// An undirected case exported as GraphML and GEXF is read by networkx (which refuses a
/// directed graph whose every edge is marked undirected) and igraph as an undirected graph
/// with the same nodes and edges.
#[test]
fn undirected_exports_are_read_by_networkx_and_igraph() {
    if !python_has("networkx, igraph") {
        // The CI installs both; say so loudly where they are missing rather than pass quietly.
        eprintln!(
            "SKIPPED: python3 with networkx and igraph is needed (pip install networkx python-igraph)"
        );
        assert!(
            std::env::var_os("CI").is_none(),
            "the CI must have networkx and igraph for this test"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let people: Vec<NewEntity> = ["Ada", "Ben", "Cy", "Di"]
        .iter()
        .map(|n| {
            NewEntity::new("Person", *n)
                .with("nationality", "GB")
                .with("heightCm", "180")
        })
        .collect();
    let mut links = Vec::new();
    for (a, b) in [(0, 1), (1, 2), (2, 3)] {
        let mut l = NewLink::new("knows", EntityRef::New(a), EntityRef::New(b));
        l.directed = false;
        l.weight = Some(2.5);
        links.push(l);
    }
    common::import(
        &mut case,
        BatchItems {
            batch: NewBatch {
                kind: "import".into(),
                description: "people".into(),
                ..Default::default()
            },
            entities: people,
            links,
            ..Default::default()
        },
    )
    .unwrap();
    for (format, file) in [
        (ExportFormat::GraphMl, "out.graphml"),
        (ExportFormat::Gexf, "out.gexf"),
    ] {
        let out = dir.path().join(file);
        export(
            &mut case,
            &ExportRequest {
                format,
                out: out.clone(),
                recipient: "test".into(),
                override_reason: None,
                only: None,
            },
        )
        .unwrap();
        let reader = if file.ends_with("graphml") {
            "read_graphml"
        } else {
            "read_gexf"
        };
        let nx = python(
            &format!(
                "import sys, networkx as nx\n\
                 g = nx.{reader}(sys.argv[1])\n\
                 print(g.is_directed(), g.number_of_nodes(), g.number_of_edges())"
            ),
            &out,
        );
        assert_eq!(nx, "False 4 3", "networkx on {file}");
        // Attribute values as typed columns: a number as a number, a text as a text.
        let cols = python(
            &format!(
                "import sys, networkx as nx\n\
                 g = nx.{reader}(sys.argv[1])\n\
                 d = next(iter(g.nodes.values()))\n\
                 print(repr(d['heightCm']), repr(d['nationality']))"
            ),
            &out,
        );
        assert_eq!(cols, "180.0 'GB'", "typed columns in {file}");
        if file.ends_with("graphml") {
            let ig = python(
                "import sys, igraph\n\
                 g = igraph.Graph.Read_GraphML(sys.argv[1])\n\
                 print(g.is_directed(), g.vcount(), g.ecount())",
                &out,
            );
            assert_eq!(ig, "False 4 3", "igraph on {file}");
        }
    }
}

/// FtM out again as it came in: a Company read into an Organization is written as a Company,
/// and a payment's amount and currency (and a call's duration) go into the schema's own
/// properties, where FtM tools read them (not only into our `copkit` member).
#[test]
fn ftm_export_keeps_the_schema_and_payment_amounts() {
    use copkit::io::ftm::import_ftm;
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    import_ftm(
        &mut case,
        &fixture("graph", "sample.ftm.json"),
        true,
        &Default::default(),
        None,
        &CancelToken::new(),
    )
    .unwrap();
    let snap = case.snapshot().unwrap();
    let company = snap
        .entities
        .iter()
        .find(|e| e.source_id.as_deref() == Some("c1"))
        .unwrap();
    assert_eq!(company.entity_type, "Organization");
    let (a, b) = (snap.entities[0].id, snap.entities[1].id);
    let mut pay = NewEvent::new(
        "Transaction",
        EventTime::instant(
            chrono::DateTime::parse_from_rfc3339("2024-03-01T10:00:00Z")
                .unwrap()
                .to_utc(),
        ),
    );
    pay.participants = vec![
        NewParticipant::new(ParticipantRole::From, a),
        NewParticipant::new(ParticipantRole::To, b),
    ];
    pay.attributes = vec![
        NewAttribute::new("amount", "9500.00"),
        NewAttribute::new("currency", "EUR"),
    ];
    case.apply(copkit::store::Command::CreateEvent { event: pay })
        .unwrap();
    let out = dir.path().join("out.ftm.json");
    export(
        &mut case,
        &ExportRequest {
            format: ExportFormat::Ftm,
            out: out.clone(),
            recipient: "Aleph".into(),
            override_reason: None,
            only: None,
        },
    )
    .unwrap();
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let c1 = lines.iter().find(|l| l["id"] == "c1").unwrap();
    assert_eq!(c1["schema"], "Company");
    assert!(c1["properties"].get("ftmSchema").is_none());
    let amounts: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["schema"] == "Payment")
        .map(|l| &l["properties"]["amount"])
        .collect();
    // The payment read from the FtM file keeps its amount on the way out, and ours has its own.
    assert!(
        amounts.contains(&&serde_json::json!(["1500"])),
        "{amounts:?}"
    );
    assert!(
        amounts.contains(&&serde_json::json!(["9500.00"])),
        "{amounts:?}"
    );
    let ours = lines
        .iter()
        .find(|l| l["properties"]["amount"] == serde_json::json!(["9500.00"]))
        .unwrap();
    assert_eq!(ours["properties"]["currency"], serde_json::json!(["EUR"]));
    if python_has("followthemoney") {
        let read = python(
            "import sys, json\n\
             from followthemoney import model\n\
             for line in open(sys.argv[1]):\n\
             \x20   d = json.loads(line)\n\
             \x20   d.pop('copkit', None)\n\
             \x20   p = model.get_proxy(d)\n\
             \x20   if p.schema.name in ('Company', 'Payment'):\n\
             \x20       print(p.schema.name, p.get('amount'), p.get('currency'))",
            &out,
        );
        assert!(read.contains("Company"), "{read}");
        assert!(read.contains("Payment ['9500.00'] ['EUR']"), "{read}");
    } else {
        eprintln!(
            "SKIPPED: followthemoney is not installed: the FtM library's own reading was not checked"
        );
        assert!(
            std::env::var_os("CI").is_none(),
            "the CI must have followthemoney for this test"
        );
    }
}

/// A one-sided event (cash paid into an account) goes out as an edge from its party to one
/// "outside" node, not as a self-loop, and comes back one-sided with no entity for the outside.
#[test]
fn one_sided_events_are_no_self_loops_and_come_back_one_sided() {
    use copkit::io::gexf::import_gexf;
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let account = case
        .apply(copkit::store::Command::CreateEntity {
            entity: NewEntity::new("BankAccount", "GB29 NWBK 6016 1331 9268 19"),
        })
        .unwrap()
        .created[0];
    let ItemRef::Entity(account) = account else {
        panic!("not an entity")
    };
    let mut cash = NewEvent::new(
        "Transaction",
        EventTime::instant(
            chrono::DateTime::parse_from_rfc3339("2024-03-01T10:00:00Z")
                .unwrap()
                .to_utc(),
        ),
    );
    cash.participants = vec![NewParticipant::new(ParticipantRole::To, account)];
    cash.attributes = vec![NewAttribute::new("amount", "9900")];
    case.apply(copkit::store::Command::CreateEvent { event: cash })
        .unwrap();
    for (format, file) in [
        (ExportFormat::GraphMl, "cash.graphml"),
        (ExportFormat::Gexf, "cash.gexf"),
    ] {
        let out = dir.path().join(file);
        export(
            &mut case,
            &ExportRequest {
                format,
                out: out.clone(),
                recipient: "test".into(),
                override_reason: None,
                only: None,
            },
        )
        .unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(
            text.contains("source=\"copkit-outside\""),
            "cash paid in comes from the outside: {text}"
        );
        // networkx 3.6 reads GEXF times only as integer, double or date, not GEXF 1.3's
        // dateTime (a KeyError), so it checks the GraphML file only.
        if file.ends_with("graphml") && python_has("networkx") {
            let loops = python(
                "import sys, networkx as nx\n\
                 g = nx.read_graphml(sys.argv[1])\n\
                 print(nx.number_of_selfloops(g), g.number_of_edges())",
                &out,
            );
            assert_eq!(loops, "0 1", "networkx on {file}");
        }
        let (_, mut other) = temp_case(&dir, &format!("{file}.copkit"));
        let opts = GraphOptions::default();
        let r = if file.ends_with("graphml") {
            import(&mut other, &out, &opts).unwrap()
        } else {
            import_gexf(&mut other, &out, &opts, &CancelToken::new()).unwrap()
        };
        assert_eq!((r.entities_created, r.events), (1, 1), "{file}");
        let snap = other.snapshot().unwrap();
        assert_eq!(snap.events[0].participants.len(), 1, "{file}");
        assert_eq!(
            snap.events[0].participants[0].role,
            ParticipantRole::To,
            "{file}"
        );
    }
}

/// i2 CSV carries events as dated link rows: a call between two phones, and cash paid in as a
/// row from the outside stand-in.
#[test]
fn i2_csv_carries_events_as_dated_link_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let mut ids = Vec::new();
    for (t, l) in [
        ("Phone", "+447700900001"),
        ("Phone", "+447700900002"),
        ("BankAccount", "ACC-1"),
    ] {
        let ItemRef::Entity(id) = case
            .apply(copkit::store::Command::CreateEntity {
                entity: NewEntity::new(t, l),
            })
            .unwrap()
            .created[0]
        else {
            panic!("not an entity")
        };
        ids.push(id);
    }
    let at =
        |s: &str| EventTime::instant(chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc());
    let mut call = NewEvent::new("Call", at("2024-03-01T10:15:00Z"));
    call.participants = vec![
        NewParticipant::new(ParticipantRole::From, ids[0]),
        NewParticipant::new(ParticipantRole::To, ids[1]),
    ];
    let mut cash = NewEvent::new("Transaction", at("2024-03-02T09:00:00Z"));
    cash.participants = vec![NewParticipant::new(ParticipantRole::To, ids[2])];
    for event in [call, cash] {
        case.apply(copkit::store::Command::CreateEvent { event })
            .unwrap();
    }
    let out = dir.path().join("i2.csv");
    export(
        &mut case,
        &ExportRequest {
            format: ExportFormat::I2Csv,
            out: out.clone(),
            recipient: "analyst".into(),
            override_reason: None,
            only: None,
        },
    )
    .unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let header = rows.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    let call = rows
        .iter()
        .find(|r| &r[col("link_type")] == "Call")
        .unwrap();
    assert_eq!(
        (&call[col("date")], &call[col("time")]),
        ("2024-03-01", "10:15:00")
    );
    // Cells a spreadsheet would run as formulas (a leading +) are neutralised with a quote.
    assert_eq!(&call[col("end1_label")], "'+447700900001");
    assert_eq!(&call[col("end2_label")], "'+447700900002");
    let cash = rows
        .iter()
        .find(|r| &r[col("link_type")] == "Transaction")
        .unwrap();
    assert_eq!(&cash[col("end1_id")], "copkit-outside");
    assert_eq!(&cash[col("end2_label")], "ACC-1");
}

/// A GraphML or GEXF file cut short (before its root element closes) is refused: the part
/// before the cut is not imported as if it were the whole file. A character reference to a
/// character XML does not allow is named as such, not as an undeclared entity.
#[test]
fn cut_short_xml_is_refused_and_bad_character_references_are_named() {
    graph_fails(
        "truncated.graphml",
        &["cut short", "</graphml>", "nothing was imported"],
    );
    graph_fails(
        "nul-reference.graphml",
        &["&#0;", "character XML does not allow"],
    );
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let before = dump(&case);
    let path = fixture("bad", "truncated.gexf");
    let err = copkit::io::gexf::import_gexf(
        &mut case,
        &path,
        &GraphOptions::default(),
        &CancelToken::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("truncated.gexf") && err.contains("cut short"),
        "{err}"
    );
    assert!(err.contains("</gexf>"), "{err}");
    assert_eq!(dump(&case), before);
}

/// A graph import run through `import_file` (as the CLI and the window run it) reports its
/// progress as a fraction of the nodes and edges written.
#[test]
fn graph_imports_report_progress() {
    #[derive(Default)]
    struct Seen(std::sync::Mutex<Vec<(Option<f32>, String)>>);
    impl copkit::jobs::Progress for Seen {
        fn report(&self, fraction: Option<f32>, message: &str) {
            self.0.lock().unwrap().push((fraction, message.to_string()));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    // 5,000 nodes in a path: more than one progress step of 4,096 items.
    let path = dir.path().join("path.graphml");
    let mut text = String::from(
        "<?xml version=\"1.0\"?>\n<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n<graph edgedefault=\"undirected\">\n",
    );
    for i in 0..5000 {
        text.push_str(&format!("<node id=\"n{i}\"/>\n"));
    }
    for i in 1..5000 {
        text.push_str(&format!("<edge source=\"n{}\" target=\"n{i}\"/>\n", i - 1));
    }
    text.push_str("</graph>\n</graphml>\n");
    std::fs::write(&path, text).unwrap();
    let seen = Seen::default();
    let opts = copkit::io::csv::CsvOptions::default();
    let report = copkit::io::import_file(
        &mut case,
        &path,
        &copkit::io::ImportRequest {
            format: copkit::io::SourceFormat::Graphml,
            spec: None,
            sheet: None,
            opts: &opts,
            rejected_from: None,
        },
        &CancelToken::new(),
        &seen,
    )
    .unwrap();
    assert_eq!((report.entities_created, report.links), (5000, 4999));
    let seen = seen.0.lock().unwrap();
    let fractions: Vec<f32> = seen.iter().filter_map(|(f, _)| *f).collect();
    assert!(fractions.len() >= 2, "{seen:?}");
    assert!(fractions.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    assert!(
        fractions.iter().all(|f| (0.0..=1.0).contains(f)),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|(_, m)| m.contains("nodes and edges written")),
        "{seen:?}"
    );
}
