//! GEXF at full fidelity: the official 1.3 schema accepts our exports, the 1.3 primer's
//! examples import with the right counts, dynamics keep each value with its interval through
//! a round trip, nested nodes (GEXF hierarchies, yEd groups) become member_of links, and yEd
//! labels are read from their graphics.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code stops loudly where an expectation fails"
)]

mod common;

use common::{sha256_file, temp_case};
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
    assert_eq!(values(&mut case, "1", "indegree@2009-03-01/2009-03-10"), ["2"]);
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
    assert_eq!(values(&mut case, "0", "spell"), ["2009-01-15", "2009-02-01"]);
    assert_eq!(values(&mut case, "1", "spell"), ["2019-03-20", "2019-03-21"]);
    assert_eq!(values(&mut case, "3", "indegree@2005-01-01"), ["20.0"]);
    assert_eq!(link_values(&mut case, "spell"), [vec!["2009-01-20"]]);

    // Every time format reads, kept as written.
    let (_, mut case) = temp_case(&dir, "d.copkit");
    gexf(&mut case, &fixture("gexf-1.3/examples", "intervals-double.gexf")).unwrap();
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
    assert_eq!(values(&mut case, "0", "spell"), ["2012-09-12T15:04:01/.."]);
}

#[test]
fn a_time_that_is_no_gexf_time_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad-time.gexf");
    std::fs::write(
        &path,
        "<?xml version=\"1.0\"?>\n<gexf xmlns=\"http://gexf.net/1.3\" version=\"1.3\">\n<graph mode=\"dynamic\">\n<nodes>\n<node id=\"a\" start=\"next tuesday\"/>\n</nodes>\n<edges/>\n</graph>\n</gexf>\n",
    )
    .unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let err = gexf(&mut case, &path).unwrap_err().to_string();
    assert!(
        err.contains("bad-time.gexf") && err.contains("line 5") && err.contains("next tuesday"),
        "{err}"
    );
}

#[test]
fn yed_groups_become_member_of_links_and_labels_come_from_the_graphics() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let path = fixture("graph", "yed-groups.graphml");
    let before = sha256_file(&path);
    let r = import_graphml(&mut case, &path, &GraphOptions::default(), &CancelToken::new())
        .unwrap();
    assert_eq!(sha256_file(&path), before);
    // 9 nodes at three levels; 4 edges, two across groups; 6 memberships.
    assert_eq!((r.entities_created, r.links, r.rows_rejected), (9, 4 + 6, 0));
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
    assert_eq!(n2.values("description").next(), Some("description\nline1\nline2"));
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
    let err = import_graphml(&mut case, &path, &GraphOptions::default(), &CancelToken::new())
        .unwrap_err();
    assert!(err.to_string().contains("max_xml_depth"), "{err}");
    // Within the bound, every level is a member of the one around it.
    let path = dir.path().join("groups.graphml");
    std::fs::write(
        &path,
        "<graphml><graph edgedefault=\"directed\"><node id=\"a\"><graph><node id=\"b\"><graph><node id=\"c\"/></graph></node></graph></node><edge source=\"c\" target=\"a\"/></graph></graphml>",
    )
    .unwrap();
    let r = import_graphml(&mut case, &path, &GraphOptions::default(), &CancelToken::new())
        .unwrap();
    assert_eq!((r.entities_created, r.links), (3, 3));
    assert_eq!(
        memberships(&mut case),
        [("b", "a"), ("c", "b")].map(|(a, b)| (a.to_string(), b.to_string()))
    );
}
