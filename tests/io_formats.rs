//! GML, Pajek and node-link JSON import (files written by networkx and igraph, a d3-style
//! file, hostile files) and export to them and DOT, read back by networkx, igraph and our
//! own import.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code stops loudly where an expectation fails"
)]

mod common;

use common::{BatchItems, dump, python_has, sha256_file, temp_case};
use copkit::io::export::{ExportFormat, ExportReport, ExportRequest};
use copkit::io::graphml::GraphOptions;
use copkit::io::{ImportReport, IoError, SourceFormat};
use copkit::jobs::CancelToken;
use copkit::model::*;
use copkit::store::{Case, NewBatch};
use std::path::{Path, PathBuf};

fn fixture(dir: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
        .join(name)
}

/// Imports with the reader of the file's format (by its name), checking the file is unchanged.
fn import(case: &mut Case, path: &Path, opts: &GraphOptions) -> Result<ImportReport, IoError> {
    let before = sha256_file(path);
    let cancel = CancelToken::new();
    let name = path.to_string_lossy();
    let r = if name.ends_with(".gml") {
        copkit::io::gml::import_gml(case, path, opts, &cancel)
    } else if name.ends_with(".net") {
        copkit::io::pajek::import_pajek(case, path, opts, &cancel)
    } else if name.ends_with(".json") {
        copkit::io::nodelink::import_node_link(case, path, opts, &cancel)
    } else {
        panic!("no reader for {name}")
    };
    assert_eq!(sha256_file(path), before);
    r
}

fn export(case: &mut Case, format: ExportFormat, out: &Path) -> ExportReport {
    copkit::io::export::export(
        case,
        &ExportRequest {
            format,
            out: out.to_path_buf(),
            recipient: "test".into(),
            override_reason: None,
            only: None,
        },
        &CancelToken::new(),
        &copkit::jobs::NoProgress,
    )
    .unwrap()
}

fn by_source<'a>(snap: &'a copkit::store::CaseSnapshot, id: &str) -> &'a Entity {
    snap.entities
        .iter()
        .find(|e| e.source_id.as_deref() == Some(id))
        .unwrap_or_else(|| panic!("no entity with source id {id}"))
}

/// What each peer-written fixture must give: Alice's source id and label, whether types and
/// the numeric age came through, and the type the 2.5-weighted edge gets.
struct Expect {
    file: &'static str,
    alice: (&'static str, &'static str),
    typed: bool,
    age: bool,
    relation: &'static str,
    directed: bool,
}

#[test]
fn networkx_igraph_and_d3_files_import_with_labels_weights_and_direction() {
    let cases = [
        // networkx writes the name a node had as its GML label, and ids 0..n.
        Expect {
            file: "networkx.gml",
            alice: ("0", "alice"),
            typed: true,
            age: true,
            relation: "knows",
            directed: true,
        },
        Expect {
            file: "igraph.gml",
            alice: ("0", "Alice Smith"),
            typed: true,
            age: true,
            relation: "knows",
            directed: true,
        },
        // networkx's Pajek writer leaves out non-string attributes (age).
        Expect {
            file: "networkx.net",
            alice: ("1", "alice"),
            typed: true,
            age: false,
            relation: "knows",
            directed: true,
        },
        // igraph's Pajek writer writes labels and weights only.
        Expect {
            file: "igraph.net",
            alice: ("1", "Alice Smith"),
            typed: false,
            age: false,
            relation: "associate",
            directed: true,
        },
        // No label in node-link JSON: the name attribute is the label.
        Expect {
            file: "networkx-edges.json",
            alice: ("alice", "Alice Smith"),
            typed: true,
            age: true,
            relation: "knows",
            directed: true,
        },
        Expect {
            file: "networkx-links.json",
            alice: ("alice", "Alice Smith"),
            typed: true,
            age: true,
            relation: "knows",
            directed: true,
        },
    ];
    for x in cases {
        let dir = tempfile::tempdir().unwrap();
        let (_, mut case) = temp_case(&dir, "c.copkit");
        let r = import(
            &mut case,
            &fixture("graph", x.file),
            &GraphOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", x.file));
        assert_eq!((r.entities_created, r.links), (4, 3), "{}", x.file);
        let snap = case.snapshot().unwrap();
        let alice = by_source(&snap, x.alice.0);
        assert_eq!(alice.label, x.alice.1, "{}", x.file);
        if x.typed {
            let orgs: Vec<&str> = snap
                .entities
                .iter()
                .filter(|e| e.entity_type == "Organization")
                .map(|e| e.label.as_str())
                .collect();
            assert_eq!(orgs.len(), 1, "{}: {orgs:?}", x.file);
            assert_eq!(alice.entity_type, "Person", "{}", x.file);
        }
        if x.age {
            assert_eq!(alice.values("age").next(), Some("34"), "{}", x.file);
        }
        assert!(
            snap.links.iter().all(|l| l.directed == x.directed),
            "{}",
            x.file
        );
        let heavy = snap
            .links
            .iter()
            .find(|l| l.weight == Some(2.5))
            .unwrap_or_else(|| panic!("{}: no link of weight 2.5", x.file));
        assert_eq!(heavy.link_type, x.relation, "{}", x.file);
        assert_eq!(heavy.source, alice.id, "{}", x.file);
        let mut weights: Vec<f64> = snap.links.iter().filter_map(|l| l.weight).collect();
        weights.sort_by(f64::total_cmp);
        assert_eq!(weights, [1.0, 2.5, 3.0], "{}", x.file);
    }
}

#[test]
fn a_d3_file_with_index_ends_imports_undirected() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let r = import(
        &mut case,
        &fixture("graph", "d3-links.json"),
        &GraphOptions::default(),
    )
    .unwrap();
    assert_eq!((r.entities_created, r.links), (4, 3));
    let snap = case.snapshot().unwrap();
    let alice = by_source(&snap, "0");
    assert_eq!(alice.label, "Alice Smith");
    assert_eq!(alice.values("group").next(), Some("1"));
    let acme = by_source(&snap, "3");
    let to_acme = snap.links.iter().find(|l| l.target == acme.id).unwrap();
    assert_eq!(to_acme.source, alice.id);
    assert!(!to_acme.directed);
    // d3's "value" is an attribute (GraphML and networkx call the weight "weight").
    let value = to_acme.attributes.iter().find(|a| a.property == "value");
    assert_eq!(value.map(|a| a.value.as_str()), Some("3.0"));
}

#[test]
fn formats_are_detected_by_content_and_imported_through_import_file() {
    for (file, format) in [
        ("networkx.gml", SourceFormat::Gml),
        ("igraph.gml", SourceFormat::Gml),
        ("networkx.net", SourceFormat::Pajek),
        ("igraph.net", SourceFormat::Pajek),
        ("networkx-edges.json", SourceFormat::NodeLink),
        ("networkx-links.json", SourceFormat::NodeLink),
        ("d3-links.json", SourceFormat::NodeLink),
    ] {
        let path = fixture("graph", file);
        assert_eq!(SourceFormat::detect(&path), format, "{file}");
        // The entry point the command line and the import wizard use.
        let dir = tempfile::tempdir().unwrap();
        let (_, mut case) = temp_case(&dir, "c.copkit");
        let r = copkit::io::import_file(
            &mut case,
            &path,
            &copkit::io::ImportRequest {
                format,
                spec: None,
                sheet: None,
                opts: &copkit::io::csv::CsvOptions::default(),
                rejected_from: None,
            },
            &CancelToken::new(),
            &copkit::jobs::NoProgress,
        )
        .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!((r.entities_created, r.links), (4, 3), "{file}");
    }
}

fn fails(name: &str, expect: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let before = dump(&case);
    let err = import(&mut case, &fixture("bad", name), &GraphOptions::default()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(name), "no file name in: {msg}");
    for e in expect {
        assert!(msg.contains(e), "'{e}' missing from: {msg}");
    }
    assert_eq!(dump(&case), before, "{name} changed the case");
}

#[test]
fn hostile_files_are_refused_with_a_line_and_the_case_unchanged() {
    fails("deep-nesting.gml", &["max_json_depth", "line 4"]);
    fails(
        "truncated.gml",
        &["line 32", "opened at line 30", "truncated"],
    );
    fails("huge-vertices.net", &["max_rows", "line 1"]);
    fails("unknown-vertex.net", &["line 6", "'7'", "unknown node"]);
    fails(
        "link-index.json",
        &["line 15", "target", "index 9 is out of range"],
    );
}

#[test]
fn edges_to_unknown_vertices_are_skipped_in_lenient_mode() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let opts = GraphOptions {
        lenient: true,
        ..GraphOptions::default()
    };
    let r = import(&mut case, &fixture("bad", "unknown-vertex.net"), &opts).unwrap();
    assert_eq!((r.entities_created, r.links, r.rows_rejected), (2, 1, 1));
    assert_eq!(r.rejected[0].line, 6);
}

/// Skips loudly where a peer is missing, and fails in the CI, which must have it.
fn peer_available(modules: &str) -> bool {
    if python_has(modules) {
        return true;
    }
    eprintln!("SKIPPED: python3 with {modules} is needed to check what the peer reads");
    assert!(
        std::env::var_os("CI").is_none(),
        "the CI must have {modules} for this test"
    );
    false
}

/// Runs a Python snippet that reads `path` and prints what it found.
fn python(code: &str, path: &Path) -> String {
    let out = std::process::Command::new("python3")
        .args(["-c", code, path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the peer's reader refused {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn at(s: &str) -> EventTime {
    EventTime::instant(chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc())
}

/// Two people with a numeric attribute, their phones, typed directed links, a weighted
/// undirected link, a call between the phones and cash paid in to one person.
fn seed(case: &mut Case) {
    let mut ann = NewEntity::new("Person", "Ann Lee").with("heightCm", "180");
    ann.grading = Some(Grading {
        scheme: "admiralty".into(),
        source: Some("B".into()),
        information: Some("2".into()),
        handling: None,
    });
    let ben = NewEntity::new("Person", "Ben \"the Bank\" Ng & Co").with("heightCm", "175");
    let phone_a = NewEntity::new("Phone", "+44 7700 900123");
    let phone_b = NewEntity::new("Phone", "+44 7700 900456");
    let mut links = Vec::new();
    for (person, phone) in [(0, 2), (1, 3)] {
        let mut l = NewLink::new("uses", EntityRef::New(person), EntityRef::New(phone));
        l.directed = true;
        links.push(l);
    }
    let mut knows = NewLink::new("knows", EntityRef::New(0), EntityRef::New(1));
    knows.directed = false;
    knows.weight = Some(2.5);
    knows.label = Some("school friends".into());
    links.push(knows);
    let mut call = NewEvent::new("Call", at("2024-03-01T10:00:00Z"));
    call.participants = vec![
        NewParticipant::new(ParticipantRole::From, EntityRef::New(2)),
        NewParticipant::new(ParticipantRole::To, EntityRef::New(3)),
    ];
    call.attributes = vec![NewAttribute::new("durationSecs", "120")];
    let mut cash = NewEvent::new("Transaction", at("2024-03-02T09:30:00Z"));
    cash.participants = vec![NewParticipant::new(ParticipantRole::To, EntityRef::New(0))];
    cash.attributes = vec![NewAttribute::new("amount", "9900")];
    common::import(
        case,
        BatchItems {
            batch: NewBatch {
                kind: "import".into(),
                description: "seed".into(),
                ..Default::default()
            },
            entities: vec![ann, ben, phone_a, phone_b],
            links,
            events: vec![call, cash],
        },
    )
    .unwrap();
}

/// The case as a comparable summary: entity (type, label), link (type, ends' labels,
/// direction, weight), event (type, participant count).
fn summary(case: &mut Case) -> (Vec<String>, Vec<String>, Vec<String>) {
    let snap = case.snapshot().unwrap();
    let label = |id: EntityId| {
        snap.entities
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.label.clone())
            .unwrap()
    };
    let mut entities: Vec<String> = snap
        .entities
        .iter()
        .map(|e| format!("{} {}", e.entity_type, e.label))
        .collect();
    let mut links: Vec<String> = snap
        .links
        .iter()
        .map(|l| {
            format!(
                "{} {} {} {} {:?} {:?}",
                l.link_type,
                label(l.source),
                label(l.target),
                l.directed,
                l.weight,
                l.label
            )
        })
        .collect();
    let mut events: Vec<String> = snap
        .events
        .iter()
        .map(|e| {
            format!(
                "{} {} {:?} {:?}",
                e.event_type,
                e.time.start_ms,
                e.participants
                    .iter()
                    .map(|p| (p.role.as_str(), label(p.entity)))
                    .collect::<Vec<_>>(),
                e.attributes
                    .iter()
                    .map(|a| (&a.property, &a.value))
                    .collect::<Vec<_>>()
            )
        })
        .collect();
    entities.sort();
    links.sort();
    events.sort();
    (entities, links, events)
}

#[test]
fn gml_and_node_link_exports_come_back_whole_through_our_import() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    seed(&mut case);
    let original = summary(&mut case);
    for (format, file) in [
        (ExportFormat::Gml, "out.gml"),
        (ExportFormat::NodeLink, "out.json"),
    ] {
        let out = dir.path().join(file);
        let report = export(&mut case, format, &out);
        assert!(
            report
                .manifest
                .not_exported
                .iter()
                .any(|n| n.contains("1 undirected links")),
            "{file}: {:?}",
            report.manifest.not_exported
        );
        let (_, mut other) = temp_case(&dir, &format!("{file}.copkit"));
        let r = import(&mut other, &out, &GraphOptions::default()).unwrap();
        assert_eq!((r.entities_created, r.links, r.events), (4, 3, 2), "{file}");
        assert_eq!(summary(&mut other), original, "{file}");
        let snap = other.snapshot().unwrap();
        let ann = snap.entities.iter().find(|e| e.label == "Ann Lee").unwrap();
        assert_eq!(ann.grading.as_ref().unwrap().source.as_deref(), Some("B"));
        assert_eq!(ann.values("heightCm").next(), Some("180"));
        assert_eq!(
            ann.provenance.source_file, None,
            "{file}: provenance restored"
        );
    }
}

#[test]
fn pajek_export_keeps_labels_direction_and_weights() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    seed(&mut case);
    let out = dir.path().join("out.net");
    let report = export(&mut case, ExportFormat::Pajek, &out);
    assert!(
        report
            .manifest
            .not_exported
            .iter()
            .any(|n| n.contains("2 events were written as arcs")),
        "{:?}",
        report.manifest.not_exported
    );
    let (_, mut other) = temp_case(&dir, "back.copkit");
    let r = import(&mut other, &out, &GraphOptions::default()).unwrap();
    // The outside vertex is an entity here: Pajek has no way to mark it.
    assert_eq!((r.entities_created, r.links), (5, 5));
    let snap = other.snapshot().unwrap();
    let mut labels: Vec<&str> = snap.entities.iter().map(|e| e.label.as_str()).collect();
    labels.sort_unstable();
    assert_eq!(
        labels,
        [
            "+44 7700 900123",
            "+44 7700 900456",
            "Ann Lee",
            "Ben 'the Bank' Ng & Co",
            "Outside the case (cash, an unknown party)"
        ]
    );
    let knows = snap
        .links
        .iter()
        .find(|l| l.label.as_deref() == Some("school friends"))
        .unwrap();
    assert_eq!((knows.directed, knows.weight), (false, Some(2.5)));
    assert_eq!(snap.links.iter().filter(|l| l.directed).count(), 4);
    assert!(snap.links.iter().all(|l| l.source != l.target));
}

#[test]
fn exports_are_read_by_networkx_igraph_and_pydot() {
    if !peer_available("networkx, igraph") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    seed(&mut case);
    // networkx: directed, 5 nodes (with the outside one), 5 edges, no self-loop, the weight
    // of the undirected link, and the numeric column as a number.
    let nx_check = "import sys, json, networkx as nx\n\
         p = sys.argv[1]\n\
         if p.endswith('.gml'): g = nx.read_gml(p)\n\
         elif p.endswith('.net'): g = nx.read_pajek(p)\n\
         elif p.endswith('.json'): g = nx.node_link_graph(json.load(open(p)))\n\
         else: g = nx.nx_pydot.read_dot(p)\n\
         w = [float(d['weight']) for _, _, d in g.edges(data=True) if d.get('type', d.get('l', '')).strip('\"') in ('knows', 'school friends')]\n\
         h = [d['heightCm'] for _, d in g.nodes(data=True) if 'heightCm' in d]\n\
         print(g.is_directed(), g.number_of_nodes(), g.number_of_edges(), nx.number_of_selfloops(g), w, type(h[0]).__name__ if h else '-')";
    let mut formats = vec![
        (ExportFormat::Gml, "out.gml", "True 5 5 0 [2.5] float"),
        (ExportFormat::Pajek, "out.net", "True 5 5 0 [2.5] -"),
        (ExportFormat::NodeLink, "out.json", "True 5 5 0 [2.5] float"),
    ];
    if python_has("pydot") {
        // pydot keeps DOT values as text.
        formats.push((ExportFormat::Dot, "out.dot", "True 5 5 0 [2.5] str"));
    } else {
        eprintln!("SKIPPED: pydot is not installed: DOT was not read by networkx");
        assert!(
            std::env::var_os("CI").is_none(),
            "the CI must have pydot for this test"
        );
    }
    for (format, file, expect) in formats {
        let out = dir.path().join(file);
        export(&mut case, format, &out);
        assert_eq!(python(nx_check, &out), expect, "networkx on {file}");
    }
    for (file, reader) in [("out.gml", "Read_GML"), ("out.net", "Read_Pajek")] {
        let ig = python(
            &format!(
                "import sys, igraph\n\
                 g = igraph.Graph.{reader}(sys.argv[1])\n\
                 print(g.is_directed(), g.vcount(), g.ecount(), sum(g.is_loop()))"
            ),
            &dir.path().join(file),
        );
        assert_eq!(ig, "True 5 5 0", "igraph on {file}");
    }
    let text = std::fs::read_to_string(dir.path().join("out.gml")).unwrap();
    assert!(
        text.contains("label \"Ben &quot;the Bank&quot; Ng &amp; Co\""),
        "{text}"
    );
}

#[test]
fn an_undirected_case_is_an_undirected_graph_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let mut knows = NewLink::new("knows", EntityRef::New(0), EntityRef::New(1));
    knows.directed = false;
    common::import(
        &mut case,
        BatchItems {
            batch: NewBatch {
                kind: "import".into(),
                description: "two".into(),
                ..Default::default()
            },
            entities: vec![NewEntity::new("Person", "A"), NewEntity::new("Person", "B")],
            links: vec![knows],
            ..Default::default()
        },
    )
    .unwrap();
    for (format, file, marker) in [
        (ExportFormat::Gml, "u.gml", "directed 0"),
        (ExportFormat::Pajek, "u.net", "*Edges"),
        (ExportFormat::NodeLink, "u.json", "\"directed\": false"),
        (ExportFormat::Dot, "u.dot", " -- "),
    ] {
        let out = dir.path().join(file);
        let report = export(&mut case, format, &out);
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.contains(marker), "{file}: {text}");
        assert!(!text.contains("copkit_directed"), "{file}: {text}");
        assert!(
            !report
                .manifest
                .not_exported
                .iter()
                .any(|n| n.contains("undirected links")),
            "{file}"
        );
        if format != ExportFormat::Dot {
            let (_, mut other) = temp_case(&dir, &format!("{file}.copkit"));
            import(&mut other, &out, &GraphOptions::default()).unwrap();
            let snap = other.snapshot().unwrap();
            assert_eq!(snap.links.len(), 1, "{file}");
            assert!(!snap.links[0].directed, "{file}");
        }
    }
}

/// A graph format has no place for the analysts' notes or the review (retention) dates: every
/// graph export's manifest says how many it left behind, and says nothing when there are none.
#[test]
fn graph_export_manifests_name_the_notes_and_review_dates_left_behind() {
    use copkit::store::Command;
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    seed(&mut case);
    let formats = [
        (ExportFormat::GraphMl, "out.graphml", "GraphML"),
        (ExportFormat::Gml, "out.gml", "GML"),
        (ExportFormat::Pajek, "out.net", "Pajek"),
        (ExportFormat::NodeLink, "out.json", "node-link JSON"),
        (ExportFormat::Dot, "out.dot", "DOT"),
        (ExportFormat::Gexf, "out.gexf", "GEXF"),
    ];
    let about = |n: &str| n.contains("analyst notes") || n.contains("review dates");
    for (format, file, _) in formats {
        let report = export(&mut case, format, &dir.path().join(format!("plain-{file}")));
        assert!(
            !report.manifest.not_exported.iter().any(|n| about(n)),
            "{file}: {:?}",
            report.manifest.not_exported
        );
    }
    let snap = case.snapshot().unwrap();
    let ann = snap
        .entities
        .iter()
        .find(|e| e.label == "Ann Lee")
        .unwrap()
        .id;
    let knows = snap
        .links
        .iter()
        .find(|l| l.link_type == "knows")
        .unwrap()
        .id;
    let call = snap
        .events
        .iter()
        .find(|e| e.event_type == "Call")
        .unwrap()
        .id;
    for owner in [ItemRef::Entity(ann), ItemRef::Link(knows)] {
        case.apply(Command::AddNote {
            owner,
            note: NewNote {
                text: "Seen at the harbour".into(),
                source_ref: None,
                grading: None,
            },
        })
        .unwrap();
    }
    case.apply(Command::SetReviewDate {
        items: vec![ItemRef::Entity(ann), ItemRef::Event(call)],
        date: Some("2027-06-30".into()),
        reason: "retention rule 4".into(),
    })
    .unwrap();
    for (format, file, name) in formats {
        let out = dir.path().join(file);
        let report = export(&mut case, format, &out);
        let said = &report.manifest.not_exported;
        assert!(
            said.iter()
                .any(|n| n == &format!("2 analyst notes on items ({name} has no place for them)")),
            "{file}: {said:?}"
        );
        assert!(
            said.iter().any(|n| n.starts_with("2 review dates")),
            "{file}: {said:?}"
        );
        // The manifest on disk says the same.
        let text = std::fs::read_to_string(&report.manifest_path).unwrap();
        assert!(text.contains("2 analyst notes on items"), "{file}: {text}");
        // And the file itself does not carry the note's text.
        let written = std::fs::read_to_string(&out).unwrap();
        assert!(!written.contains("Seen at the harbour"), "{file}");
    }
}
