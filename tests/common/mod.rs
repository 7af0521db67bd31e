//! Helpers shared by the integration tests.
#![allow(dead_code)] // reason: each test binary uses a different subset of these helpers
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers stop loudly where a fixture cannot be made"
)]

use copkit::model::{EntityRef, NewEntity, NewEvent, NewLink};
use copkit::store::{Actor, Applied, Case, NewBatch, StoreError, UNDOABLE_TABLES};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub fn actor() -> Actor {
    keep_anchors_out_of_the_user_folder();
    Actor {
        os_user: "tester".into(),
        analyst: "Test Analyst".into(),
    }
}

/// Points this test process's anchor log and key at a folder of its own (the tests never write
/// the user's real anchor log), unless a test set its own.
pub fn keep_anchors_out_of_the_user_folder() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let dir = std::env::temp_dir().join(format!("copkit-tests-{}", std::process::id()));
        copkit::store::anchor::configure(copkit::store::anchor::Workstation {
            anchor_log: Some(dir.join("anchors.jsonl")),
            signing_key: Some(dir.join("workstation.key")),
        });
    });
}

pub fn temp_case(dir: &tempfile::TempDir, name: &str) -> (PathBuf, Case) {
    let path = dir.path().join(name);
    let case = Case::create(&path, "test case", actor(), "OP-TEST-1").expect("create case");
    (path, case)
}

pub fn sha256_file(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).expect("read file")))
}

/// Every row of every undoable table, as text, so two states can be compared exactly.
pub fn dump(case: &Case) -> Vec<String> {
    dump_except(case, &[])
}

/// [`dump`] without some columns (`table.column`): a state recorded by an older format, whose
/// tables had fewer columns, compared with the same state after the upgrade.
pub fn dump_except(case: &Case, skipped_columns: &[&str]) -> Vec<String> {
    let conn = case.connection();
    let mut out = Vec::new();
    for table in UNDOABLE_TABLES {
        let columns: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .expect("prepare columns")
            .query_map([], |r| r.get::<_, String>(0))
            .expect("columns")
            .map(|c| c.expect("column"))
            .filter(|c| !skipped_columns.contains(&format!("{table}.{c}").as_str()))
            .map(|c| format!("\"{c}\""))
            .collect();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {} FROM {table} ORDER BY rowid",
                columns.join(", ")
            ))
            .expect("prepare dump");
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).expect("query dump");
        while let Some(row) = rows.next().expect("row") {
            let values: Vec<String> = (0..columns)
                .map(|i| format!("{:?}", row.get_ref(i).expect("value")))
                .collect();
            out.push(format!("{table}: {}", values.join(" | ")));
        }
    }
    out
}

/// Many entities, links and events from one source, as a test fixture: links and events may
/// name the batch's own entities as `EntityRef::New(i)` (the i-th of `entities`). [`import`]
/// writes it through the streamed writer, the path imports and the generator take.
#[derive(Clone, Debug, Default)]
pub struct BatchItems {
    pub batch: NewBatch,
    pub entities: Vec<NewEntity>,
    pub links: Vec<NewLink>,
    pub events: Vec<NewEvent>,
}

/// Writes a fixture batch as one import batch (entities first, then links, then events).
pub fn import(case: &mut Case, items: BatchItems) -> Result<Applied, StoreError> {
    let BatchItems {
        batch,
        entities,
        links,
        events,
    } = items;
    case.import_streamed(batch, |w| -> Result<(), StoreError> {
        let mut ids = Vec::with_capacity(entities.len());
        for e in entities {
            ids.push(w.entity(e)?);
        }
        let fix = |r: EntityRef| -> Result<EntityRef, StoreError> {
            match r {
                EntityRef::New(i) => {
                    ids.get(i).copied().map(EntityRef::Existing).ok_or_else(|| {
                        StoreError::Invalid(format!(
                            "the fixture names new entity #{i}, which it does not have"
                        ))
                    })
                }
                other => Ok(other),
            }
        };
        for mut l in links {
            l.source = fix(l.source)?;
            l.target = fix(l.target)?;
            w.link(l)?;
        }
        for mut e in events {
            for p in &mut e.participants {
                p.entity = fix(p.entity)?;
            }
            w.event(e)?;
        }
        Ok(())
    })
    .map(|(applied, ())| applied)
}

/// Whether python3 can import these modules (the CI installs the peers' libraries from PyPI;
/// see .ci/run).
pub fn python_has(modules: &str) -> bool {
    std::process::Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs a Python snippet that reads `path` and prints what it found.
pub fn python(code: &str, path: &Path) -> String {
    let out = std::process::Command::new("python3")
        .args(["-c", code, path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the peer's reader refused the file: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Runs the `copkit` binary as a user would (no terminal, an analyst named).
pub fn copkit(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_copkit"))
        .args(args)
        .env("COPKIT_ANALYST", "CLI Tester")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run copkit")
}

/// What a run printed, standard output then standard error.
pub fn output_text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
