//! `copkit analyze` as a user runs it: the CSV shape, --list, stored runs, usage errors.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]

mod common;

use common::{BatchItems, temp_case};
use copkit::model::{EntityRef, NewEntity, NewLink};
use copkit::store::NewBatch;
use std::process::{Command, Output, Stdio};

fn copkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_copkit"))
        .args(args)
        .env("COPKIT_ANALYST", "CLI Tester")
        .stdin(Stdio::null())
        .output()
        .expect("run copkit")
}

/// A triangle a-b-c with a tail c-d, entities created in reverse label order.
fn small_case(dir: &tempfile::TempDir) -> String {
    let (path, mut case) = temp_case(dir, "small.copkit");
    let names = ["d", "c", "b", "a"];
    let entities = names
        .iter()
        .map(|n| {
            let mut e = NewEntity::new("Person", format!("Person {n}"));
            e.source_id = Some(format!("src-{n}"));
            e
        })
        .collect();
    let link = |a: usize, b: usize| NewLink::new("knows", EntityRef::New(a), EntityRef::New(b));
    common::import(
        &mut case,
        BatchItems {
            batch: NewBatch {
                kind: "import".into(),
                description: "small".into(),
                ..NewBatch::default()
            },
            entities,
            links: vec![link(3, 2), link(2, 1), link(1, 3), link(1, 0)],
            events: vec![],
        },
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn analyze_writes_the_documented_csv_and_stores_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let case = small_case(&dir);
    let out = copkit(&["analyze", &case, "degree", "--purpose", "OP-1"]);
    assert!(out.status.success(), "{out:?}");
    let csv = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        csv,
        "rank,entity_id,source_id,label,value\n1,2,src-c,Person c,3\n2,3,src-b,Person b,2\n\
         2,4,src-a,Person a,2\n4,1,src-d,Person d,1\n"
    );
    let out = copkit(&["analyze", &case, "louvain", "--purpose", "OP-1"]);
    assert!(out.status.success(), "{out:?}");
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(
        csv.starts_with("entity_id,source_id,label,community\n"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 5);

    let json_path = dir.path().join("pr.json");
    let out = copkit(&[
        "analyze",
        &case,
        "pagerank",
        "--param",
        "damping=0.9",
        "--format",
        "json",
        "--out",
        json_path.to_str().unwrap(),
        "--purpose",
        "OP-1",
    ]);
    assert!(out.status.success(), "{out:?}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(doc["component"], "pagerank");
    assert_eq!(doc["params"]["damping"], "0.9");
    let audit = copkit(&[
        "audit",
        "show",
        &case,
        "--format",
        "csv",
        "--purpose",
        "OP-1",
    ]);
    let audit = String::from_utf8(audit.stdout).unwrap();
    assert_eq!(audit.matches("analysis run").count(), 3, "{audit}");
}

#[test]
fn analyze_list_and_usage_errors() {
    let out = copkit(&["analyze", "--list"]);
    assert!(out.status.success());
    let list = String::from_utf8(out.stdout).unwrap();
    for name in [
        "degree",
        "betweenness",
        "pagerank",
        "louvain",
        "shortest-path",
    ] {
        assert!(list.contains(name), "{list}");
    }
    assert!(list.contains("damping"));

    let dir = tempfile::tempdir().unwrap();
    let case = small_case(&dir);
    let out = copkit(&["analyze", &case, "no-such", "--purpose", "x"]);
    assert_eq!(out.status.code(), Some(2));
    let out = copkit(&["analyze", &case, "degree", "-p", "typo=1", "--purpose", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("typo"));
    let out = copkit(&["analyze", &case, "shortest-path", "--purpose", "x"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "missing from/to is a usage error"
    );
    let out = copkit(&["analyze", &case, "degree"]);
    assert_eq!(out.status.code(), Some(2), "no purpose");
}

#[test]
fn analyze_list_shows_every_component_of_the_issue() {
    let out = copkit(&["analyze", "--list"]);
    assert!(out.status.success());
    let list = String::from_utf8(out.stdout).unwrap();
    let names: Vec<&str> = list
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for name in [
        "degree",
        "betweenness",
        "closeness",
        "harmonic",
        "eigenvector",
        "pagerank",
        "components",
        "kcore",
        "louvain",
        "leiden",
        "shortest-path",
        "k-shortest-paths",
        "all-paths",
        "connecting-network",
        "expand",
        "resolve-entities",
        "activity",
        "phone-swaps",
        "bursts",
        "co-location",
        "handovers",
    ] {
        assert!(names.contains(&name), "{name} missing from {list}");
    }
    // Every component takes the grade parameter.
    let mut current = "";
    let mut has_grade = std::collections::BTreeMap::new();
    for line in list.lines() {
        if !line.starts_with(' ') {
            current = line.split_whitespace().next().unwrap_or("");
            has_grade.insert(current.to_string(), false);
        } else if line.trim_start().starts_with("grade ") {
            has_grade.insert(current.to_string(), true);
        }
    }
    assert!(has_grade.values().all(|&g| g), "{has_grade:?}");
}

#[test]
fn new_components_run_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let case = small_case(&dir);
    let out = copkit(&[
        "analyze",
        &case,
        "all-paths",
        "-p",
        "from=src-a",
        "-p",
        "to=src-d",
        "-p",
        "max_length=3",
        "--purpose",
        "OP-1",
    ]);
    assert!(out.status.success(), "{out:?}");
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.starts_with("path,step,entity_id,source_id,label,link_id,cost,weakest_grade\n"));
    // a-c-d and a-b-c-d.
    assert!(csv.lines().any(|l| l.starts_with("2,3,")), "{csv}");
    assert!(!csv.lines().any(|l| l.starts_with("3,")), "{csv}");

    let out = copkit(&["analyze", &case, "leiden", "--purpose", "OP-1"]);
    assert!(out.status.success(), "{out:?}");
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(
        csv.starts_with("entity_id,source_id,label,community\n"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 5);

    let out = copkit(&["analyze", &case, "resolve-entities", "--purpose", "OP-1"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "keep,duplicate,score,explanation\n"
    );
    for (component, bad) in [
        ("resolve-entities", "threshold=2"),
        ("phone-swaps", "min_jaccard=x"),
        ("co-location", "window_minutes=0"),
        ("leiden", "resolution=-1"),
        ("all-paths", "max_length=99"),
    ] {
        let mut args = vec!["analyze", &case, component, "-p", bad, "--purpose", "OP-1"];
        if component == "all-paths" {
            args.extend(["-p", "from=src-a", "-p", "to=src-d"]);
        }
        let out = copkit(&args);
        assert_eq!(out.status.code(), Some(2), "{component} {bad}: {out:?}");
        let name = bad.split('=').next().unwrap();
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(&format!("parameter '{name}'")),
            "{component}: {out:?}"
        );
    }
    for component in ["phone-swaps", "co-location"] {
        let out = copkit(&["analyze", &case, component, "--purpose", "OP-1"]);
        assert!(out.status.success(), "{component}: {out:?}");
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            "kind,entities,start_ms,end_ms,score,description\n"
        );
    }
}

/// `copkit analyze --list | head` must not panic when the reader closes the pipe early.
#[test]
fn closed_output_pipe_ends_quietly() {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let output = Command::new(env!("CARGO_BIN_EXE_copkit"))
        .args(["analyze", "--list"])
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("run copkit");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert!(
        output.status.success(),
        "status {:?}, stderr: {stderr}",
        output.status
    );
}

/// A star around `hub` with a restricted spoke and graded links (B2 and C3).
fn case_with_restricted_and_graded(dir: &tempfile::TempDir) -> std::path::PathBuf {
    use copkit::model::Grading;
    let (path, mut case) = temp_case(dir, "restricted.copkit");
    let mut entities: Vec<NewEntity> = ["hub", "a", "b", "secret"]
        .iter()
        .map(|n| NewEntity::new("Person", format!("Person {n}")))
        .collect();
    entities[3].restricted = true;
    let grade = |s: &str, i: &str| Grading {
        scheme: "admiralty".into(),
        source: Some(s.into()),
        information: Some(i.into()),
        handling: None,
    };
    let mut links: Vec<NewLink> = (1..4)
        .map(|i| NewLink::new("knows", EntityRef::New(0), EntityRef::New(i)))
        .collect();
    links[0].grading = Some(grade("B", "2"));
    links[1].grading = Some(grade("C", "3"));
    links[2].grading = Some(grade("B", "2"));
    common::import(
        &mut case,
        BatchItems {
            batch: NewBatch {
                kind: "import".into(),
                description: "star".into(),
                ..NewBatch::default()
            },
            entities,
            links,
            events: vec![],
        },
    )
    .unwrap();
    path
}

#[test]
fn the_compact_graph_read_from_the_file_is_the_snapshots_without_restricted_items() {
    let dir = tempfile::tempdir().unwrap();
    let path = case_with_restricted_and_graded(&dir);
    let mut case = copkit::store::Case::open(&path, common::actor(), "OP-1").unwrap();
    let from_file = case.compact_graph().unwrap();
    let from_snapshot = copkit::store::CompactGraph::from_snapshot(&case.snapshot().unwrap());
    assert_eq!(from_file.nodes, from_snapshot.nodes);
    assert_eq!(from_file.links, from_snapshot.links);
    assert_eq!(from_file.gradings, from_snapshot.gradings);
    assert_eq!(from_file.generation, from_snapshot.generation);
    // The restricted entity is no node, and its link is gone with it.
    assert_eq!(from_file.nodes.len(), 3);
    assert_eq!(from_file.links.len(), 2);
    // Ungraded, B2 and C3: three distinct gradings, "ungraded" first.
    assert_eq!(from_file.gradings.len(), 3);
    assert!(from_file.gradings[0].is_none());
}

#[test]
fn analyze_leaves_restricted_entities_out_ranks_by_value_and_applies_grades() {
    let dir = tempfile::tempdir().unwrap();
    let path = case_with_restricted_and_graded(&dir);
    let case = path.to_str().unwrap();
    let out = copkit(&["analyze", case, "degree", "--purpose", "OP-1"]);
    assert!(out.status.success(), "{out:?}");
    let csv = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        csv,
        "rank,entity_id,source_id,label,value\n1,1,,Person hub,2\n2,2,,Person a,1\n\
         2,3,,Person b,1\n"
    );
    let out = copkit(&[
        "analyze",
        case,
        "degree",
        "--param",
        "grade=B2",
        "--purpose",
        "OP-1",
    ]);
    assert!(out.status.success(), "{out:?}");
    let csv = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        csv,
        "rank,entity_id,source_id,label,value\n1,1,,Person hub,1\n1,2,,Person a,1\n\
         3,3,,Person b,0\n"
    );
    // Asked for explicitly, restricted items are analysed, and the audit record says so.
    let out = copkit(&[
        "analyze",
        case,
        "degree",
        "--param",
        "include_restricted=true",
        "--purpose",
        "OP-1",
    ]);
    assert!(out.status.success(), "{out:?}");
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(
        csv.starts_with("rank,entity_id,source_id,label,value\n1,1,,Person hub,3\n"),
        "{csv}"
    );
    assert!(csv.contains(",Person secret,1\n"), "{csv}");
    let opened = copkit::store::Case::open(&path, common::actor(), "OP-1").unwrap();
    let records = opened.audit_records().unwrap();
    let run = records
        .iter()
        .rev()
        .find(|r| r.details.contains("\"degree\""))
        .unwrap();
    assert!(
        run.details.contains("include_restricted"),
        "{}",
        run.details
    );
    drop(opened);
    // A path to the restricted entity is refused with a reason, not answered.
    let out = copkit(&[
        "analyze",
        case,
        "shortest-path",
        "--param",
        "from=E1",
        "--param",
        "to=E4",
        "--purpose",
        "OP-1",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("restricted"), "{err}");
}

/// `extract-mentions` from the command line on documents imported from FollowTheMoney (their
/// `bodyText`): one row per mention with document, page and character offsets, the same
/// amount in two documents one group, and nothing in the case changed but the stored run.
#[test]
fn extract_mentions_lists_proposals_with_their_documents_and_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut case) = temp_case(&dir, "docs.copkit");
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/graph/aleph.ftm.json");
    copkit::io::ftm::import_ftm(
        &mut case,
        &fixture,
        false,
        &copkit::io::Limits::default(),
        None,
        &copkit::jobs::CancelToken::new(),
    )
    .unwrap();
    let evidence = |case: &copkit::store::Case| -> Vec<String> {
        common::dump(case)
            .into_iter()
            .filter(|row| !row.starts_with("analysis_runs:"))
            .collect()
    };
    let entities_before = evidence(&case);
    drop(case);
    let case = path.to_str().unwrap();
    let out = copkit(&[
        "analyze",
        case,
        "extract-mentions",
        "-p",
        "region=SI",
        "--purpose",
        "OP-1",
    ]);
    assert!(out.status.success(), "{out:?}");
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let header = rows.headers().unwrap().clone();
    assert_eq!(
        header.iter().collect::<Vec<_>>(),
        [
            "document_id",
            "document",
            "page",
            "start",
            "end",
            "kind",
            "text",
            "normalized",
            "confidence",
            "entity_id",
            "entity",
            "group",
            "reason"
        ]
    );
    let amounts: Vec<csv::StringRecord> = rows
        .records()
        .map(Result::unwrap)
        .filter(|r| &r[5] == "amount")
        .collect();
    assert!(amounts.len() >= 2, "{csv}");
    for r in &amounts {
        assert_eq!(&r[6], "1,500.50 EUR", "{csv}");
        assert_eq!(&r[7], "1500.50 EUR");
        assert_eq!((&r[3], &r[4]), ("26", "38"), "character offsets: {csv}");
        assert_eq!(&r[11], &amounts[0][11], "one group");
    }
    let reopened =
        copkit::store::Case::open(std::path::Path::new(case), common::actor(), "check").unwrap();
    assert_eq!(
        evidence(&reopened),
        entities_before,
        "the run changed the case"
    );
}
