//! Helpers shared by the integration tests.
#![allow(dead_code)] // reason: each test binary uses a different subset of these helpers

use copkit::store::{Actor, Case, UNDOABLE_TABLES};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub fn actor() -> Actor {
    Actor {
        os_user: "tester".into(),
        analyst: "Test Analyst".into(),
    }
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
    let conn = case.connection();
    let mut out = Vec::new();
    for table in UNDOABLE_TABLES {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY rowid"))
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
