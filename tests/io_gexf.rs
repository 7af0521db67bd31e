//! GEXF at full fidelity: the official 1.3 schema accepts our exports, the 1.3 primer's
//! examples import with the right counts, dynamics keep each value with its interval through
//! a round trip, nested nodes (GEXF hierarchies, pid, <parents>, yEd groups) become member_of
//! links and go out again as pid and <parents> (the schema and networkx read them), lenient
//! mode rejects only an element with a bad time, the graph's timezone applies, and yEd
//! labels are read from their graphics.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code stops loudly where an expectation fails"
)]

mod common;

use common::{python_has, sha256_file, temp_case};
use copkit::io::IoError;
use copkit::io::gexf::import_gexf;
use copkit::io::graphml::{GraphOptions, import_graphml};
use copkit::jobs::CancelToken;
use copkit::store::Case;
use std::path::{Path, PathBuf};

fn fixture(dir: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
        .join(name)
}

fn gexf(case: &mut Case, path: &Path) -> Result<copkit::io::ImportReport, IoError> {
    let before = sha256_file(path);
    let r = import_gexf(case, path, &GraphOptions::default(), &CancelToken::new());
    assert_eq!(sha256_file(path), before);
    r
}

/// The member_of links of a case as (child label, parent label), sorted.
fn memberships(case: &mut Case) -> Vec<(String, String)> {
    let snap = case.snapshot().unwrap();
    let label = |id| {
        snap.entities
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.label.clone())
            .unwrap()
    };
    let mut v: Vec<_> = snap
        .links
        .iter()
        .filter(|l| l.link_type == "member_of")
        .map(|l| {
            assert!(l.directed, "member_of runs from the child to its parent");
            (label(l.source), label(l.target))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn gexf_nested_nodes_become_entities_with_member_of_links() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["hierarchy1.gexf", "hierarchy2.gexf"] {
        let (_, mut case) = temp_case(&dir, &format!("{name}.copkit"));
        let r = gexf(&mut case, &fixture("gexf-1.3/examples", name)).unwrap();
        assert_eq!((r.entities_created, r.links), (7, 4 + 6), "{name}");
        assert_eq!(
            memberships(&mut case),
            [
                ("Me", "Kevin Bacon"),
                ("God", "Kevin Bacon"),
                ("frog1", "Me"),
                ("frog2", "Me"),
                ("human1", "God"),
                ("human2", "God"),
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>(),
            "{name}"
        );
    }
}

#[test]
fn gexf_pid_parents_become_member_of_links_in_any_order() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let r = gexf(&mut case, &fixture("gexf-1.3/examples", "hierarchy3.gexf")).unwrap();
    assert_eq!((r.entities_created, r.links), (7, 2 + 6));
    assert_eq!(memberships(&mut case).len(), 6);
    assert!(
        memberships(&mut case).contains(&("frog2".to_string(), "Me".to_string())),
        "a pid named before its node is declared still links"
    );
}

/// The values of one property of the entity with this source id, sorted.
fn values(case: &mut Case, source_id: &str, property: &str) -> Vec<String> {
    let snap = case.snapshot().unwrap();
    let e = snap
        .entities
        .iter()
        .find(|e| e.source_id.as_deref() == Some(source_id))
        .unwrap_or_else(|| panic!("no entity {source_id}"));
    let mut v: Vec<String> = e.values(property).map(str::to_string).collect();
    v.sort();
    v
}

fn link_values(case: &mut Case, property: &str) -> Vec<Vec<String>> {
    let snap = case.snapshot().unwrap();
    snap.links
        .iter()
        .map(|l| {
            let mut v: Vec<String> = l
                .attributes
                .iter()
                .filter(|a| a.property == property)
                .map(|a| a.value.clone())
                .collect();
            v.sort();
            v
        })
        .collect()
}

#[test]
fn the_gexf_primer_examples_import_with_the_right_counts() {
    let dir = tempfile::tempdir().unwrap();
    for (name, nodes, edges) in [
        ("basic.gexf", 2, 1),
        ("data.gexf", 4, 5),
        ("dynamics.gexf", 4, 5),
        ("hierarchy1.gexf", 7, 10),
        ("hierarchy2.gexf", 7, 10),
        ("hierarchy3.gexf", 7, 8),
        ("timestamp.gexf", 3, 1),
        ("intervals-double.gexf", 3, 1),
        ("integer.gexf", 2, 1),
        ("datetime.gexf", 2, 1),
        ("viz.gexf", 2, 1),
    ] {
        let (_, mut case) = temp_case(&dir, &format!("{name}.copkit"));
        let r = gexf(&mut case, &fixture("gexf-1.3/examples", name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (r.entities_created, r.links, r.events, r.rows_rejected),
            (nodes, edges, 0, 0),
            "{name}"
        );
        if name == "data.gexf" {
            assert_eq!(values(&mut case, "3", "url"), ["http://barabasilab.com"]);
            assert_eq!(values(&mut case, "3", "frog"), ["false"]);
            // The declared default holds where a node gives no value of its own.
            assert_eq!(values(&mut case, "0", "frog"), ["true"]);
            assert_eq!(values(&mut case, "0", "indegree"), ["1"]);
        }
        if name == "viz.gexf" {
            let snap = case.snapshot().unwrap();
            assert!(
                snap.entities.iter().all(|e| e.attributes.is_empty()),
                "viz colours and positions are no attributes"
            );
        }
    }
}

#[test]
fn gexf_spells_and_time_varying_values_keep_their_intervals() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    gexf(&mut case, &fixture("gexf-1.3/examples", "dynamics.gexf")).unwrap();
    // Node spells, open at one end, and each indegree value with the interval it held in.
    assert_eq!(values(&mut case, "0", "spell"), ["2009-03-01/.."]);
    assert_eq!(values(&mut case, "2", "spell"), ["../2009-03-10"]);
    assert_eq!(values(&mut case, "1", "url"), ["http://webatlas.fr"]);
    assert_eq!(values(&mut case, "1", "indegree@../2009-03-01"), ["1"]);
    assert_eq!(
        values(&mut case, "1", "indegree@2009-03-01/2009-03-10"),
        ["2"]
    );
    assert_eq!(values(&mut case, "1", "indegree@2009-03-11/.."), ["1"]);
    assert!(values(&mut case, "1", "indegree").is_empty());
    // A static value beside dynamic ones stays plain; the edges' spells are theirs.
    assert_eq!(values(&mut case, "0", "indegree"), ["1"]);
    let mut spells = link_values(&mut case, "spell");
    spells.sort();
    assert_eq!(
        spells,
        [
            vec!["../2009-03-10"],
            vec!["2009-03-01/.."],
            vec!["2009-03-01/.."],
            vec!["2009-03-01/.."],
            vec!["2009-03-01/2009-03-10"],
        ]
    );

    // The timestamp representation: instants, from spells, lists and the element itself.
    let (_, mut case) = temp_case(&dir, "t.copkit");
    gexf(&mut case, &fixture("gexf-1.3/examples", "timestamp.gexf")).unwrap();
    assert_eq!(
        values(&mut case, "0", "spell"),
        ["2009-01-15", "2009-02-01"]
    );
    assert_eq!(
        values(&mut case, "1", "spell"),
        ["2019-03-20", "2019-03-21"]
    );
    assert_eq!(values(&mut case, "3", "indegree@2005-01-01"), ["20.0"]);
    assert_eq!(link_values(&mut case, "spell"), [vec!["2009-01-20"]]);

    // Every time format reads, kept as written.
    let (_, mut case) = temp_case(&dir, "d.copkit");
    gexf(
        &mut case,
        &fixture("gexf-1.3/examples", "intervals-double.gexf"),
    )
    .unwrap();
    assert_eq!(values(&mut case, "0", "spell"), ["21.0/124.0", "4.0/14.0"]);
    assert_eq!(values(&mut case, "2", "spell"), ["1.0/.."]);
    let (_, mut case) = temp_case(&dir, "i.copkit");
    gexf(&mut case, &fixture("gexf-1.3/examples", "integer.gexf")).unwrap();
    assert_eq!(link_values(&mut case, "spell"), [vec!["5/6", "8/10"]]);
    let (_, mut case) = temp_case(&dir, "dt.copkit");
    gexf(&mut case, &fixture("gexf-1.3/examples", "datetime.gexf")).unwrap();
    assert_eq!(
        values(&mut case, "1", "spell"),
        ["2012-11-04T11:00:01+03:00/2012-12-04T11:00:01+03:00"]
    );
    // The graph's timezone (America/Los_Angeles) gives a time without an offset the one
    // the zone had then: summer time, -07:00. A time with its own offset keeps it.
    assert_eq!(
        values(&mut case, "0", "spell"),
        ["2012-09-12T15:04:01-07:00/.."]
    );
}

#[test]
fn a_time_that_is_no_gexf_time_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture("bad", "gexf-bad-time.gexf");
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let err = gexf(&mut case, &path).unwrap_err().to_string();
    assert!(
        err.contains("gexf-bad-time.gexf")
            && err.contains("line 5")
            && err.contains("next tuesday"),
        "{err}"
    );
    // A pid naming no node: the child's line and the missing parent, nothing imported.
    let err = gexf(&mut case, &fixture("bad", "gexf-unknown-parent.gexf"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line 6") && err.contains("'zz' is not in the file"),
        "{err}"
    );
    assert!(case.snapshot().unwrap().entities.is_empty());
}

#[test]
fn yed_groups_become_member_of_links_and_labels_come_from_the_graphics() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let path = fixture("graph", "yed-groups.graphml");
    let before = sha256_file(&path);
    let r = import_graphml(
        &mut case,
        &path,
        &GraphOptions::default(),
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(sha256_file(&path), before);
    // 9 nodes at three levels; 4 edges, two across groups; 6 memberships.
    assert_eq!(
        (r.entities_created, r.links, r.rows_rejected),
        (9, 4 + 6, 0)
    );
    let mut m = memberships(&mut case);
    m.sort();
    assert_eq!(
        m,
        [
            ("1", "Group 1"),
            ("3", "Group 1"),
            ("5", "Group 2"),
            ("6", "Group 2"),
            ("Group 1", "Group 3"),
            ("Group 2", "Group 3"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let snap = case.snapshot().unwrap();
    let deep = snap
        .entities
        .iter()
        .find(|e| e.source_id.as_deref() == Some("n1::n0::n0"))
        .unwrap();
    assert_eq!(deep.label, "1");
    // The custom property is an attribute; the graphics are not.
    assert_eq!(
        deep.attributes
            .iter()
            .map(|a| (a.property.as_str(), a.value.as_str()))
            .collect::<Vec<_>>(),
        [("CustomProperty", "CustomPropertyValue")]
    );
    // An edge from a node two groups deep to a top-level node.
    let e0 = snap
        .links
        .iter()
        .find(|l| l.source_id.as_deref() == Some("e0"))
        .unwrap();
    assert_eq!(e0.source, deep.id);

    let (_, mut case) = temp_case(&dir, "labels.copkit");
    let r = import_graphml(
        &mut case,
        &fixture("graph", "yed-labels.graphml"),
        &GraphOptions::default(),
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!((r.entities_created, r.links), (4, 1));
    let snap = case.snapshot().unwrap();
    let mut labels: Vec<_> = snap.entities.iter().map(|e| e.label.as_str()).collect();
    labels.sort_unstable();
    // ShapeNode, ShapeNode, GenericNode (label text before its nested label model), and the
    // UMLClassNode's name, not its attribute or method labels.
    assert_eq!(labels, ["1", "2", "3", "Account"]);
    assert_eq!(snap.links[0].label.as_deref(), Some("calls & pays"));
    let n2 = snap
        .entities
        .iter()
        .find(|e| e.source_id.as_deref() == Some("n2"))
        .unwrap();
    assert_eq!(
        n2.values("description").next(),
        Some("description\nline1\nline2")
    );
    assert!(
        snap.entities
            .iter()
            .flat_map(|e| &e.attributes)
            .all(|a| !a.value.contains("ShapeNode") && a.property != "d3"),
        "no graphics XML as attributes"
    );
}

#[test]
fn nested_graphml_groups_deeper_than_the_bound_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep-groups.graphml");
    let mut text = String::from("<graphml><graph edgedefault=\"directed\">");
    for i in 0..200 {
        text.push_str(&format!("<node id=\"g{i}\"><graph>"));
    }
    for _ in 0..200 {
        text.push_str("</graph></node>");
    }
    text.push_str("</graph></graphml>");
    std::fs::write(&path, &text).unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let err = import_graphml(
        &mut case,
        &path,
        &GraphOptions::default(),
        &CancelToken::new(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("max_xml_depth"), "{err}");
    // Within the bound, every level is a member of the one around it.
    let path = dir.path().join("groups.graphml");
    std::fs::write(
        &path,
        "<graphml><graph edgedefault=\"directed\"><node id=\"a\"><graph><node id=\"b\"><graph><node id=\"c\"/></graph></node></graph></node><edge source=\"c\" target=\"a\"/></graph></graphml>",
    )
    .unwrap();
    let r = import_graphml(
        &mut case,
        &path,
        &GraphOptions::default(),
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!((r.entities_created, r.links), (3, 3));
    assert_eq!(
        memberships(&mut case),
        [("b", "a"), ("c", "b")].map(|(a, b)| (a.to_string(), b.to_string()))
    );
}

/// An export as the CLI runs it, without cancelling.
fn export_gexf(case: &mut Case, out: &Path) -> copkit::io::export::ExportReport {
    use copkit::io::export::{ExportFormat, ExportRequest};
    copkit::io::export::export(
        case,
        &ExportRequest {
            format: ExportFormat::Gexf,
            out: out.to_path_buf(),
            recipient: "CPS".into(),
            override_reason: None,
            only: None,
        },
        &CancelToken::new(),
        &copkit::jobs::NoProgress,
    )
    .unwrap()
}

type Values = std::collections::BTreeMap<String, Vec<(String, String)>>;

/// Every attribute value of a case, by entity label and by link (its ends' labels and
/// type), sorted: what a round trip must keep.
fn all_values(case: &mut Case) -> Values {
    let snap = case.snapshot().unwrap();
    let label = |id| {
        snap.entities
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.label.clone())
            .unwrap()
    };
    let mut out = Values::new();
    for e in &snap.entities {
        out.entry(format!("node {}", e.label)).or_default().extend(
            e.attributes
                .iter()
                .map(|a| (a.property.clone(), a.value.clone())),
        );
    }
    for l in &snap.links {
        out.entry(format!(
            "{} {} -> {}",
            l.link_type,
            label(l.source),
            label(l.target)
        ))
        .or_default()
        .extend(
            l.attributes
                .iter()
                .map(|a| (a.property.clone(), a.value.clone())),
        );
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

/// The export without its `copkit:attributes` values, so that an import can only find the
/// values in the GEXF structures themselves (columns, spells, timed attvalues).
fn without_copkit_attributes(text: &str) -> String {
    assert!(text.contains("<attribute id=\"5\" title=\"copkit:attributes\""));
    assert_eq!(
        text.matches("<attribute id=\"5\" title=\"copkit:attributes\"")
            .count(),
        2,
        "copkit:attributes is attribute 5 of both classes"
    );
    text.lines()
        .filter(|l| !l.trim_start().starts_with("<attvalue for=\"5\" "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn gexf_round_trip_keeps_every_value_with_its_interval() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "dynamics.gexf",
        "timestamp.gexf",
        "intervals-double.gexf",
        "integer.gexf",
        "datetime.gexf",
        "hierarchy1.gexf",
        "data.gexf",
    ] {
        let (_, mut case) = temp_case(&dir, &format!("{name}.a.copkit"));
        gexf(&mut case, &fixture("gexf-1.3/examples", name)).unwrap();
        let before = all_values(&mut case);
        let out = dir.path().join(format!("out-{name}"));
        let rep = export_gexf(&mut case, &out);
        let text = std::fs::read_to_string(&out).unwrap();
        if name == "dynamics.gexf" {
            // Spells and timed values as GEXF writes them, in the file's own time format.
            assert!(text.contains("timeformat=\"date\""), "{text}");
            assert!(text.contains("<attributes class=\"node\" mode=\"dynamic\">"));
            assert!(text.contains("value=\"2\" start=\"2009-03-01\" end=\"2009-03-10\"/>"));
            assert!(text.contains("<spell start=\"2009-03-01\"/>"));
            assert!(
                !rep.manifest
                    .not_exported
                    .iter()
                    .any(|n| n.contains("time") || n.contains("instant")),
                "{:?}",
                rep.manifest.not_exported
            );
        }
        if name == "timestamp.gexf" {
            assert!(text.contains("timerepresentation=\"timestamp\""));
            assert!(text.contains("<spell timestamp=\"2009-01-15\"/>"));
            assert!(text.contains("value=\"20.0\" timestamp=\"2005-01-01\"/>"));
        }
        // Back through our reader: exactly the same values.
        let (_, mut back) = temp_case(&dir, &format!("{name}.b.copkit"));
        gexf(&mut back, &out).unwrap();
        assert_eq!(all_values(&mut back), before, "{name}");
        // And from the GEXF structures alone, as Gephi would give them back.
        let bare = dir.path().join(format!("bare-{name}"));
        std::fs::write(&bare, without_copkit_attributes(&text)).unwrap();
        let (_, mut bare_case) = temp_case(&dir, &format!("{name}.c.copkit"));
        gexf(&mut bare_case, &bare).unwrap();
        assert_eq!(
            all_values(&mut bare_case),
            before,
            "{name} without copkit:attributes"
        );
    }
}

/// A case with what a GEXF export must carry: typed attribute columns (a number, a text with
/// a line break), directed and undirected links, a two-sided and a one-sided event.
fn seed(case: &mut Case, undirected_only: bool) {
    use copkit::model::*;
    let mut a = NewEntity::new("Person", "Anna \"A\" <Smith> & co");
    a.source_id = Some("p-a".into());
    a.attributes
        .push(NewAttribute::new("phone", "+44 7700 900123"));
    a.attributes.push(NewAttribute::new("age", "41"));
    a.attributes
        .push(NewAttribute::new("address", "1 High Street\nLeeds"));
    let mut b = NewEntity::new("Organization", "Acme");
    b.attributes.push(NewAttribute::new("age", "12"));
    b.attributes
        .push(NewAttribute::new(SPELL_PROPERTY, "2020-01-01/.."));
    let c = NewEntity::new("BankAccount", "GB29 NWBK 6016 1331 9268 19");
    let mut l = NewLink::new("employed_by", EntityRef::New(0), EntityRef::New(1));
    l.directed = !undirected_only;
    l.weight = Some(2.5);
    l.label = Some("since\t2020".into());
    l.attributes.push(NewAttribute::new("startDate", "2020-01"));
    l.attributes
        .push(NewAttribute::new("role@2020-01-01/2021-06-30", "clerk"));
    l.attributes
        .push(NewAttribute::new("role@2021-07-01/..", "manager"));
    let l2 = NewLink::new("owns", EntityRef::New(0), EntityRef::New(2));
    let mut events = Vec::new();
    if !undirected_only {
        let at = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap().to_utc();
        let mut meet = NewEvent::new("Meeting", EventTime::instant(at("2024-03-01T10:00:00Z")));
        meet.participants = vec![
            NewParticipant::new(ParticipantRole::Participant, EntityRef::New(0)),
            NewParticipant::new(ParticipantRole::Participant, EntityRef::New(1)),
        ];
        let mut cash = NewEvent::new(
            "Transaction",
            EventTime::instant(at("2024-03-02T09:00:00Z")),
        );
        cash.participants = vec![NewParticipant::new(ParticipantRole::To, EntityRef::New(2))];
        cash.attributes.push(NewAttribute::new("amount", "9900"));
        events = vec![meet, cash];
    }
    common::import(
        case,
        common::BatchItems {
            batch: copkit::store::NewBatch {
                kind: "import".into(),
                description: "seed".into(),
                ..copkit::store::NewBatch::default()
            },
            entities: vec![a, b, c],
            links: vec![l, l2],
            events,
        },
    )
    .unwrap();
}

const SPELL_PROPERTY: &str = "spell";

/// Our GEXF exports (static, dynamic with events, undirected, one-sided events, typed
/// columns, spells and timed values from a foreign file) are valid against the official
/// GEXF 1.3 schema, checked with the Python `xmlschema` package.
#[test]
fn gexf_exports_are_valid_against_the_official_1_3_schema() {
    if !python_has("xmlschema") {
        eprintln!("SKIPPED: python3 with xmlschema is needed (pip install xmlschema)");
        assert!(
            std::env::var_os("CI").is_none(),
            "the CI must have xmlschema for this test"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<PathBuf> = Vec::new();
    for (name, undirected) in [("dynamic-events", false), ("undirected", true)] {
        let (_, mut case) = temp_case(&dir, &format!("{name}.copkit"));
        seed(&mut case, undirected);
        let out = dir.path().join(format!("{name}.gexf"));
        export_gexf(&mut case, &out);
        files.push(out);
    }
    // A static case: no time at all.
    let (_, mut case) = temp_case(&dir, "static.copkit");
    gexf(&mut case, &fixture("gexf-1.3/examples", "data.gexf")).unwrap();
    let out = dir.path().join("static.gexf");
    export_gexf(&mut case, &out);
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("mode=\"static\"")
    );
    files.push(out);
    for name in [
        "dynamics.gexf",
        "timestamp.gexf",
        "integer.gexf",
        "intervals-double.gexf",
        "datetime.gexf",
        "hierarchy2.gexf",
    ] {
        let (_, mut case) = temp_case(&dir, &format!("{name}.copkit"));
        gexf(&mut case, &fixture("gexf-1.3/examples", name)).unwrap();
        let out = dir.path().join(format!("export-{name}"));
        export_gexf(&mut case, &out);
        files.push(out);
    }
    let dynamic = std::fs::read_to_string(&files[0]).unwrap();
    assert!(dynamic.contains("address") && dynamic.contains("Leeds"));
    assert!(
        dynamic.contains("&#10;Leeds"),
        "a line break survives in an attribute"
    );
    assert!(dynamic.contains("title=\"age\" type=\"double\""));
    assert!(
        dynamic.contains("copkit-outside"),
        "the one-sided event's other end"
    );
    // The primer's own examples validate too: the check is a real one.
    for name in [
        "basic.gexf",
        "data.gexf",
        "dynamics.gexf",
        "hierarchy1.gexf",
    ] {
        files.push(fixture("gexf-1.3/examples", name));
    }
    let schema = fixture("gexf-1.3", "gexf.xsd");
    let mut args = vec![
        "-c".to_string(),
        "import sys, xmlschema\ns = xmlschema.XMLSchema(sys.argv[1])\nbad = 0\nfor f in sys.argv[2:]:\n    for e in s.iter_errors(f):\n        bad += 1\n        print(f, e.reason, e.path)\nsys.exit(1 if bad else 0)".to_string(),
        schema.display().to_string(),
    ];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let run = std::process::Command::new("python3")
        .args(&args)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "the GEXF 1.3 schema refuses our export:\n{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    // And the one our schema must refuse is refused (the check can fail).
    let broken = dir.path().join("broken.gexf");
    std::fs::write(
        &broken,
        dynamic.replace(
            "defaultedgetype=\"directed\"",
            "defaultedgetype=\"sideways\"",
        ),
    )
    .unwrap();
    let run = std::process::Command::new("python3")
        .args([&args[0], &args[1], &args[2], &broken.display().to_string()])
        .output()
        .unwrap();
    assert!(!run.status.success());
}

fn lenient() -> GraphOptions {
    GraphOptions {
        lenient: true,
        ..GraphOptions::default()
    }
}

/// A GEXF whose nodes b, c and d each carry one bad time (on the node, in a spell, in a
/// timed value), and whose edges y (to b) and z (its own time) fall with them.
const BAD_TIMES: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gexf xmlns="http://gexf.net/1.3" version="1.3">
  <graph mode="dynamic" timeformat="date">
    <attributes class="node" mode="dynamic">
      <attribute id="0" title="score" type="integer"/>
    </attributes>
    <nodes>
      <node id="a" label="A" start="2020-01-01"/>
      <node id="b" label="B" start="next tuesday"/>
      <node id="c" label="C">
        <spells>
          <spell start="2020-01-01" end="someday"/>
        </spells>
      </node>
      <node id="d" label="D">
        <attvalues>
          <attvalue for="0" value="3" start="2020-13-45"/>
        </attvalues>
      </node>
      <node id="e" label="E" start="2021-02-03"/>
    </nodes>
    <edges>
      <edge id="x" source="a" target="e"/>
      <edge id="y" source="a" target="b"/>
      <edge id="z" source="a" target="e" start="soon"/>
    </edges>
  </graph>
</gexf>
"#;

#[test]
fn lenient_gexf_rejects_only_the_element_with_a_bad_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad-times.gexf");
    std::fs::write(&path, BAD_TIMES).unwrap();
    // Strict: the first bad time fails the file, with its line and value; nothing written.
    let (_, mut case) = temp_case(&dir, "strict.copkit");
    let err = gexf(&mut case, &path).unwrap_err().to_string();
    assert!(
        err.contains("bad-times.gexf") && err.contains("line 9") && err.contains("next tuesday"),
        "{err}"
    );
    assert!(case.snapshot().unwrap().entities.is_empty());
    // Lenient: each bad element is one reject with its line and field; the rest imports.
    let (_, mut case) = temp_case(&dir, "lenient.copkit");
    let r = import_gexf(&mut case, &path, &lenient(), &CancelToken::new()).unwrap();
    assert_eq!(
        (
            r.entities_created,
            r.links,
            r.rows_read,
            r.rows_accepted,
            r.rows_rejected
        ),
        (2, 1, 8, 3, 5)
    );
    let got: Vec<(u64, Option<&str>, &str)> = r
        .rejected
        .iter()
        .map(|p| (p.line, p.field.as_deref(), p.reason.as_str()))
        .collect();
    assert_eq!(
        got.iter().map(|(l, f, _)| (*l, *f)).collect::<Vec<_>>(),
        [
            (9, Some("spell")),
            (10, Some("spell")),
            (15, Some("score")),
            (24, Some("target")),
            (25, Some("spell")),
        ],
        "{got:?}"
    );
    assert!(
        got[0].2.starts_with("node b:") && got[0].2.contains("'next tuesday'"),
        "{}",
        got[0].2
    );
    assert!(
        got[1].2.contains("'someday'") && got[1].2.contains("line 12"),
        "a bad spell names its own line: {}",
        got[1].2
    );
    assert!(got[2].2.contains("'2020-13-45'") && got[2].2.contains("line 17"));
    assert!(
        got[3].2.contains("edge y") && got[3].2.contains("node 'b' was rejected (line 9)"),
        "{}",
        got[3].2
    );
    assert!(got[4].2.contains("edge z") && got[4].2.contains("'soon'"));
    let snap = case.snapshot().unwrap();
    let mut labels: Vec<&str> = snap.entities.iter().map(|e| e.label.as_str()).collect();
    labels.sort();
    assert_eq!(labels, ["A", "E"]);
    assert_eq!(values(&mut case, "e", "spell"), ["2021-02-03/.."]);
}

fn write_gexf_text(dir: &tempfile::TempDir, name: &str, graph_attrs: &str, nodes: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(
        &path,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gexf xmlns=\"http://gexf.net/1.3\" version=\"1.3\">\n  <graph mode=\"dynamic\" {graph_attrs}>\n    <nodes>\n{nodes}    </nodes>\n    <edges/>\n  </graph>\n</gexf>\n"
        ),
    )
    .unwrap();
    path
}

#[test]
fn the_graphs_timezone_applies_to_times_without_an_offset() {
    let dir = tempfile::tempdir().unwrap();
    let london = write_gexf_text(
        &dir,
        "london.gexf",
        "timeformat=\"dateTime\" timezone=\"Europe/London\"",
        concat!(
            "      <node id=\"winter\" start=\"2021-01-15T12:00:00\"/>\n",
            "      <node id=\"summer\" start=\"2021-07-15T12:00:00.5\" end=\"2021-07-16T08:30\"/>\n",
            "      <node id=\"own\" start=\"2021-07-15T12:00:00+05:00\"/>\n",
            "      <node id=\"twice\" start=\"2021-10-31T01:30:00\"/>\n",
            "      <node id=\"skipped\" start=\"2021-03-28T01:30:00\"/>\n",
        ),
    );
    // Strict: the hour the clocks skipped does not exist in the zone.
    let (_, mut case) = temp_case(&dir, "strict.copkit");
    let err = gexf(&mut case, &london).unwrap_err().to_string();
    assert!(
        err.contains("line 9") && err.contains("2021-03-28T01:30:00"),
        "{err}"
    );
    let (_, mut case) = temp_case(&dir, "london.copkit");
    let r = import_gexf(&mut case, &london, &lenient(), &CancelToken::new()).unwrap();
    assert_eq!((r.entities_created, r.rows_rejected), (4, 1));
    assert_eq!(r.rejected[0].line, 9);
    assert_eq!(
        values(&mut case, "winter", "spell"),
        ["2021-01-15T12:00:00+00:00/.."]
    );
    assert_eq!(
        values(&mut case, "summer", "spell"),
        ["2021-07-15T12:00:00.5+01:00/2021-07-16T08:30:00+01:00"]
    );
    assert_eq!(
        values(&mut case, "own", "spell"),
        ["2021-07-15T12:00:00+05:00/.."]
    );
    // The hour the clocks went back happens twice: the earlier reading, and a warning.
    assert_eq!(
        values(&mut case, "twice", "spell"),
        ["2021-10-31T01:30:00+01:00/.."]
    );
    assert!(
        r.warnings
            .iter()
            .any(|w| w.line == 8 && w.reason.contains("happens twice")),
        "{:?}",
        r.warnings
    );

    // A fixed offset, and a date (a calendar day, no zone) under it.
    let fixed = write_gexf_text(
        &dir,
        "fixed.gexf",
        "timezone=\"+05:30\"",
        concat!(
            "      <node id=\"t\" timestamp=\"2021-01-15T12:00:00\"/>\n",
            "      <node id=\"d\" start=\"2021-01-15\"/>\n",
        ),
    );
    let (_, mut case) = temp_case(&dir, "fixed.copkit");
    gexf(&mut case, &fixed).unwrap();
    assert_eq!(
        values(&mut case, "t", "spell"),
        ["2021-01-15T12:00:00+05:30"]
    );
    assert_eq!(values(&mut case, "d", "spell"), ["2021-01-15/.."]);

    // A zone that is none fails the file, lenient or not (every time hangs on it).
    let mars = write_gexf_text(&dir, "mars.gexf", "timezone=\"Mars/Olympus\"", "");
    let (_, mut case) = temp_case(&dir, "mars.copkit");
    let err = import_gexf(&mut case, &mars, &lenient(), &CancelToken::new())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line 3") && err.contains("'Mars/Olympus'"),
        "{err}"
    );
}

/// Validates GEXF files against the official 1.3 schema; the errors, if any.
fn xsd_errors(files: &[PathBuf]) -> Option<String> {
    let schema = fixture("gexf-1.3", "gexf.xsd");
    let mut args = vec![
        "-c".to_string(),
        "import sys, xmlschema\ns = xmlschema.XMLSchema(sys.argv[1])\nbad = 0\nfor f in sys.argv[2:]:\n    for e in s.iter_errors(f):\n        bad += 1\n        print(f, e.reason, e.path)\nsys.exit(1 if bad else 0)".to_string(),
        schema.display().to_string(),
    ];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let run = std::process::Command::new("python3")
        .args(&args)
        .output()
        .unwrap();
    (!run.status.success()).then(|| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        )
    })
}

/// A node in two collections (GEXF `<parents>`) and two in a single one (`pid`), with an
/// edge of their own.
const PARENTS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gexf xmlns="http://gexf.net/1.3" version="1.3">
  <graph mode="static" defaultedgetype="directed">
    <nodes>
      <node id="gang" label="Gang"/>
      <node id="firm" label="Firm"/>
      <node id="x" label="X">
        <parents>
          <parent for="gang"/>
          <parent for="firm"/>
        </parents>
      </node>
      <node id="y" label="Y" pid="gang"/>
      <node id="z" label="Z" pid="firm"/>
    </nodes>
    <edges>
      <edge id="e1" source="x" target="y"/>
    </edges>
  </graph>
</gexf>
"#;

#[test]
fn nesting_goes_out_as_pid_and_parents_and_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let parents = dir.path().join("parents.gexf");
    std::fs::write(&parents, PARENTS).unwrap();
    // <parents> are memberships, as pid and nested nodes are: no descends_from.
    let (_, mut case) = temp_case(&dir, "parents.copkit");
    let r = gexf(&mut case, &parents).unwrap();
    assert_eq!((r.entities_created, r.links), (5, 5));
    let expected: Vec<(String, String)> =
        [("X", "Firm"), ("X", "Gang"), ("Y", "Gang"), ("Z", "Firm")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .to_vec();
    assert_eq!(memberships(&mut case), expected);
    // A membership carrying data of its own (weight, label, a value, grading) keeps it.
    {
        use copkit::model::*;
        let snap = case.snapshot().unwrap();
        let by = |l: &str| snap.entities.iter().find(|e| e.label == l).unwrap().id;
        let (y, firm) = (by("Y"), by("Firm"));
        let mut l = NewLink::new(
            "member_of",
            EntityRef::Existing(y),
            EntityRef::Existing(firm),
        );
        l.directed = true;
        l.weight = Some(0.5);
        l.label = Some("associate".into());
        l.source_id = Some("m-1".into());
        l.attributes.push(NewAttribute::new("role", "driver"));
        common::import(
            &mut case,
            common::BatchItems {
                batch: copkit::store::NewBatch {
                    kind: "import".into(),
                    description: "membership".into(),
                    ..copkit::store::NewBatch::default()
                },
                entities: vec![],
                links: vec![l],
                events: vec![],
            },
        )
        .unwrap();
    }
    let before = all_values(&mut case);
    // A note on an item: GEXF has no place for it, and the manifest says so.
    {
        let snap = case.snapshot().unwrap();
        let x = snap.entities.iter().find(|e| e.label == "X").unwrap().id;
        case.apply(copkit::store::Command::AddNote {
            owner: copkit::model::ItemRef::Entity(x),
            note: copkit::model::NewNote {
                text: "seen twice".into(),
                source_ref: None,
                grading: None,
            },
        })
        .unwrap();
    }
    let manifest_check = dir.path().join("with-note.gexf");
    let rep = export_gexf(&mut case, &manifest_check);
    assert!(
        rep.manifest
            .not_exported
            .iter()
            .any(|n| n.starts_with("1 analyst notes")),
        "{:?}",
        rep.manifest.not_exported
    );
    // Our case (pid and <parents>), and the primer's nested nodes and pid hierarchies.
    let (out, text, mut back) = nesting_round_trip(&dir, "parents", &mut case);
    assert!(
        text.contains("<parents>\n          <parent for="),
        "a node in two collections names them in <parents>: {text}"
    );
    assert_eq!(all_values(&mut back), before);
    let snap = back.snapshot().unwrap();
    let m = snap
        .links
        .iter()
        .find(|l| l.source_id.as_deref() == Some("m-1"))
        .expect("the membership's own data came back");
    assert_eq!(
        (m.link_type.as_str(), m.weight, m.label.as_deref()),
        ("member_of", Some(0.5), Some("associate"))
    );
    let mut files = vec![out];
    for f in ["hierarchy1.gexf", "hierarchy3.gexf"] {
        let (_, mut c) = temp_case(&dir, &format!("{f}.copkit"));
        gexf(&mut c, &fixture("gexf-1.3/examples", f)).unwrap();
        files.push(nesting_round_trip(&dir, f, &mut c).0);
    }
    if !python_has("xmlschema") || !python_has("networkx") {
        eprintln!("SKIPPED: python3 with xmlschema and networkx is needed for the peer checks");
        assert!(
            std::env::var_os("CI").is_none(),
            "the CI must have xmlschema and networkx for this test"
        );
        return;
    }
    if let Some(errors) = xsd_errors(&files) {
        panic!("the GEXF 1.3 schema refuses the nested export:\n{errors}");
    }
    // networkx reads the nesting: the parent of a pid, the list of <parents>.
    let got = common::python(
        "import sys, networkx as nx\nG = nx.read_gexf(sys.argv[1])\nlab = {n: d.get('label') for n, d in G.nodes(data=True)}\nout = []\nfor n, d in G.nodes(data=True):\n    ps = ([d['pid']] if 'pid' in d else []) + list(d.get('parents', []))\n    out.append(d['label'] + '<' + ','.join(sorted(lab[p] for p in ps)))\nprint(G.number_of_nodes(), G.number_of_edges(), ' '.join(sorted(out)))",
        &files[0],
    );
    assert_eq!(got, "5 1 Firm< Gang< X<Firm,Gang Y<Firm,Gang Z<Firm");
}

/// Exports a case, checks its memberships went out as nesting (`pid`), not edges, and
/// imports the export again: the same memberships. The export, its text and the new case.
fn nesting_round_trip(
    dir: &tempfile::TempDir,
    name: &str,
    case: &mut Case,
) -> (PathBuf, String, Case) {
    let members = memberships(case);
    let out = dir.path().join(format!("out-{name}.gexf"));
    export_gexf(case, &out);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains(" pid=\""), "{name}: {text}");
    assert!(
        !text.contains("value=\"member_of\""),
        "{name}: a membership written as an edge"
    );
    let (_, mut back) = temp_case(dir, &format!("{name}.back.copkit"));
    gexf(&mut back, &out).unwrap();
    assert_eq!(memberships(&mut back), members, "{name}");
    (out, text, back)
}
