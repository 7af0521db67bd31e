//! `copkit analyze` as a user runs it: the CSV shape, --list, stored runs, usage errors.

mod common;

use common::temp_case;
use copkit::model::{EntityRef, NewEntity, NewLink};
use copkit::store::{Command as CaseCommand, ImportBatch, NewBatch};
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
    case.apply(CaseCommand::ImportBatch(Box::new(ImportBatch {
        batch: NewBatch {
            kind: "import".into(),
            description: "small".into(),
            ..NewBatch::default()
        },
        entities,
        links: vec![link(3, 2), link(2, 1), link(1, 3), link(1, 0)],
        events: vec![],
    })))
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
        "entity_id,source_id,label,value\n1,src-d,Person d,1\n2,src-c,Person c,3\n\
         3,src-b,Person b,2\n4,src-a,Person a,2\n"
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
