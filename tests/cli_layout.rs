//! `copkit layout`: the chart laid out without the window and saved where the window keeps it;
//! the window's rule on what moves (hidden and pinned entities and those off the chart stay);
//! usage errors and a damaged saved chart reported without a change.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]

mod common;

use common::{copkit, output_text as text};

use common::{BatchItems, actor, temp_case};
use copkit::model::{EntityRef, NewEntity, NewLink};
use copkit::store::{Case, NewBatch};
use std::collections::HashMap;
use std::path::Path;
use std::process::Output;

/// Nine entities: a directed chain of command E1 → E2 → E3 → E4, two phones on E1, a
/// company owning E2, a restricted informant linked to E1, and an unlinked vehicle.
fn case(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let (path, mut case) = temp_case(dir, "layout.copkit");
    let mut entities: Vec<NewEntity> = ["Boss", "Lieutenant", "Runner", "Courier"]
        .iter()
        .map(|n| NewEntity::new("Person", *n))
        .collect();
    entities.push(NewEntity::new("Phone", "+44 7700 900001"));
    entities.push(NewEntity::new("Phone", "+44 7700 900002"));
    entities.push(NewEntity::new("Organization", "Harbour Ltd"));
    let mut informant = NewEntity::new("Person", "Informant");
    informant.restricted = true;
    entities.push(informant);
    entities.push(NewEntity::new("Vehicle", "AB12 CDE"));
    let directed = |t: &str, a: usize, b: usize| {
        let mut l = NewLink::new(t, EntityRef::New(a), EntityRef::New(b));
        l.directed = true;
        l
    };
    let links = vec![
        directed("commands", 0, 1),
        directed("commands", 1, 2),
        directed("commands", 2, 3),
        NewLink::new("uses", EntityRef::New(0), EntityRef::New(4)),
        NewLink::new("uses", EntityRef::New(0), EntityRef::New(5)),
        directed("owns", 6, 1),
        NewLink::new("knows", EntityRef::New(7), EntityRef::New(0)),
    ];
    common::import(
        &mut case,
        BatchItems {
            batch: NewBatch {
                kind: "import".into(),
                description: "fixture".into(),
                ..Default::default()
            },
            entities,
            links,
            ..Default::default()
        },
    )
    .unwrap();
    path
}

fn chart(path: &Path) -> Option<String> {
    Case::open(path, actor(), "test: read the chart")
        .unwrap()
        .chart()
        .unwrap()
}

fn positions(path: &Path) -> HashMap<i64, (f32, f32)> {
    let json: serde_json::Value = serde_json::from_str(&chart(path).unwrap()).unwrap();
    json["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[0].as_i64().unwrap(),
                (p[1].as_f64().unwrap() as f32, p[2].as_f64().unwrap() as f32),
            )
        })
        .collect()
}

fn layout(path: &Path, algorithm: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "layout",
        path.to_str().unwrap(),
        "--algorithm",
        algorithm,
        "--purpose",
        "OP-TEST-1 chart",
    ];
    args.extend_from_slice(extra);
    copkit(&args)
}

#[test]
fn every_algorithm_writes_a_position_for_every_entity_and_they_differ() {
    let dir = tempfile::tempdir().unwrap();
    let path = case(&dir);
    assert!(chart(&path).is_none(), "a new case has no saved chart");
    let mut by_algorithm = Vec::new();
    for algorithm in ["force", "circular", "hierarchical", "grouped"] {
        let out = layout(&path, algorithm, &[]);
        assert!(out.status.success(), "{algorithm}: {}", text(&out));
        assert!(
            text(&out).contains(&format!("{algorithm} layout: 9 entities placed")),
            "{}",
            text(&out)
        );
        let p = positions(&path);
        let ids: Vec<i64> = {
            let mut v: Vec<i64> = p.keys().copied().collect();
            v.sort_unstable();
            v
        };
        // Every entity, the restricted informant (E8) included, as the window keeps them.
        assert_eq!(ids, (1..=9).collect::<Vec<_>>(), "{algorithm}");
        assert!(
            p.values().all(|(x, y)| x.is_finite() && y.is_finite()),
            "{algorithm}"
        );
        by_algorithm.push((algorithm, p));
    }
    for (k, (a, pa)) in by_algorithm.iter().enumerate() {
        for (b, pb) in &by_algorithm[k + 1..] {
            assert_ne!(pa, pb, "{a} and {b} gave the same chart");
        }
    }
    // The layered layout puts a commander above whom they command (y grows downwards).
    let (_, hier) = &by_algorithm[2];
    assert!(
        hier[&1].1 < hier[&2].1 && hier[&2].1 < hier[&3].1,
        "{hier:?}"
    );
    // The case's evidence is untouched: opening it with a purpose is its audit record.
    let case = Case::open(&path, actor(), "test: audit").unwrap();
    let last = case.audit_records().unwrap().pop().unwrap();
    assert_eq!(last.category.as_str(), "consultation");
}

#[test]
fn hidden_pinned_and_off_chart_entities_keep_their_positions() {
    let dir = tempfile::tempdir().unwrap();
    let path = case(&dir);
    // A chart as the window saves it: E2 hidden, E3 pinned, E9 off the working set, E4 moved
    // by hand, and a style the layout must keep.
    let saved = serde_json::json!({
        "positions": (1..=9i64)
            .map(|e| serde_json::json!([e, e as f32 * 3.0, -(e as f32)]))
            .collect::<Vec<_>>(),
        "hidden": [2],
        "pinned": [3],
        "moved": [[4, 12.0, -4.0]],
        "collections": [],
        "on_chart": [1, 2, 3, 4, 5, 6, 7, 8],
        "style": {"kept": "as it was"},
    });
    {
        let mut case = Case::open(&path, actor(), "test: save a chart").unwrap();
        case.save_chart(&saved.to_string()).unwrap();
    }
    let before = positions(&path);
    let out = layout(&path, "force", &["--seed", "7", "--iterations", "300"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("6 entities placed, 3 kept where they were (1 pinned)"),
        "{}",
        text(&out)
    );
    let after = positions(&path);
    assert_eq!(after.len(), 9);
    for e in [2, 3, 9] {
        assert_eq!(after[&e], before[&e], "E{e} must not move");
    }
    for e in [1, 4, 5, 6, 7, 8] {
        assert_ne!(after[&e], before[&e], "E{e} is laid out");
    }
    let json: serde_json::Value = serde_json::from_str(&chart(&path).unwrap()).unwrap();
    assert_eq!(json["hidden"], serde_json::json!([2]));
    assert_eq!(json["style"], serde_json::json!({"kept": "as it was"}));
    assert_eq!(
        json["moved"],
        serde_json::json!([]),
        "moves by hand become the layout's"
    );
}

#[test]
fn wrong_options_and_a_damaged_chart_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = case(&dir);
    let out = layout(&path, "circular", &["--seed", "3"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--seed and --iterations are for --algorithm force"));
    let out = layout(&path, "force", &["--iterations", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--iterations must be between 1 and 100000"));
    let out = layout(&path, "spiral", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(chart(&path).is_none());

    {
        let mut case = Case::open(&path, actor(), "test: damage the chart").unwrap();
        case.save_chart("{\"positions\": \"not a list\"}").unwrap();
    }
    let out = layout(&path, "grouped", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let message = text(&out);
    assert!(
        message.contains("the chart saved with the case could not be read")
            && message.contains("layout.copkit"),
        "{message}"
    );
    assert_eq!(
        chart(&path).as_deref(),
        Some("{\"positions\": \"not a list\"}")
    );
}
