//! The audit chain check fails at the right record for any single-byte change, deletion,
//! reordering or truncation of the log (property test over tamperings of a real case file).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]

mod common;

use common::{actor, temp_case};
use copkit::model::{NewEntity, PersonCategory};
use copkit::store::{Case, ChainCheck, Command};
use proptest::prelude::*;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const FIELDS: [&str; 9] = [
    "time_utc",
    "category",
    "action",
    "actor_os",
    "actor_analyst",
    "purpose",
    "details",
    "prev_hash",
    "hash",
];

/// A case with a dozen audit records of different kinds, built once.
fn template() -> &'static (tempfile::TempDir, PathBuf, i64) {
    static TEMPLATE: OnceLock<(tempfile::TempDir, PathBuf, i64)> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut case) = temp_case(&dir, "template.copkit");
        for i in 0..4 {
            let mut e = NewEntity::new("Person", format!("Suspect {i} Čuk"));
            e.category = Some(PersonCategory::Suspect);
            case.apply(Command::CreateEntity { entity: e }).unwrap();
        }
        case.undo().unwrap();
        case.redo().unwrap();
        case.record_consultation("search", serde_json::json!({"query": "Čuk"}))
            .unwrap();
        drop(case);
        let case = Case::open(&path, actor(), "second look").unwrap();
        let n = case.audit_records().unwrap().len() as i64;
        assert!(n >= 9);
        (dir, path, n)
    })
}

#[derive(Debug, Clone)]
enum Tamper {
    /// Change one character of one field of one record.
    Byte {
        seq: i64,
        field: usize,
        position: usize,
        replacement: u8,
    },
    Delete {
        seq: i64,
    },
    /// Swap the contents of two records (their sequence numbers stay in place).
    Swap {
        first: i64,
        second: i64,
    },
    /// Remove every record from `from` to the end.
    Truncate {
        from: i64,
    },
}

impl Tamper {
    fn expected_first_broken(&self) -> i64 {
        match *self {
            Tamper::Byte { seq, .. } | Tamper::Delete { seq } | Tamper::Truncate { from: seq } => {
                seq
            }
            Tamper::Swap { first, second } => first.min(second),
        }
    }
}

fn tamper_strategy(n: i64) -> impl Strategy<Value = Tamper> {
    prop_oneof![
        (1..=n, 0..FIELDS.len(), any::<usize>(), 0x21u8..0x7f).prop_map(
            |(seq, field, position, replacement)| {
                Tamper::Byte {
                    seq,
                    field,
                    position,
                    replacement,
                }
            }
        ),
        (1..=n).prop_map(|seq| Tamper::Delete { seq }),
        (1..=n, 1..=n)
            .prop_filter("two different records", |(a, b)| a != b)
            .prop_map(|(first, second)| Tamper::Swap { first, second }),
        (1..=n).prop_map(|from| Tamper::Truncate { from }),
    ]
}

/// Applies a tampering the way someone with raw access to the file would: dropping the
/// append-only triggers first.
fn apply_tamper(path: &Path, tamper: &Tamper) -> bool {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;")
        .unwrap();
    match *tamper {
        Tamper::Byte {
            seq,
            field,
            position,
            replacement,
        } => {
            let column = FIELDS[field];
            let value: String = conn
                .query_row(
                    &format!("SELECT {column} FROM audit WHERE seq = ?1"),
                    [seq],
                    |r| r.get(0),
                )
                .unwrap();
            let mut bytes = value.into_bytes();
            if bytes.is_empty() {
                return false;
            }
            // Pick an ASCII byte so the result stays valid text.
            let ascii: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i].is_ascii()).collect();
            if ascii.is_empty() {
                return false;
            }
            let at = ascii[position % ascii.len()];
            if bytes[at] == replacement {
                return false;
            }
            bytes[at] = replacement;
            let changed = String::from_utf8(bytes).unwrap();
            conn.execute(
                &format!("UPDATE audit SET {column} = ?1 WHERE seq = ?2"),
                rusqlite::params![changed, seq],
            )
            .unwrap();
        }
        Tamper::Delete { seq } => {
            conn.execute("DELETE FROM audit WHERE seq = ?1", [seq])
                .unwrap();
        }
        Tamper::Swap { first, second } => {
            let cols = FIELDS.join(", ");
            conn.execute_batch(&format!(
                "CREATE TEMP TABLE a AS SELECT {cols} FROM audit WHERE seq = {first};
                 CREATE TEMP TABLE b AS SELECT {cols} FROM audit WHERE seq = {second};"
            ))
            .unwrap();
            for (target, source) in [(first, "b"), (second, "a")] {
                let sets: Vec<String> = FIELDS
                    .iter()
                    .map(|c| format!("{c} = (SELECT {c} FROM {source})"))
                    .collect();
                conn.execute(
                    &format!("UPDATE audit SET {} WHERE seq = {target}", sets.join(", ")),
                    [],
                )
                .unwrap();
            }
        }
        Tamper::Truncate { from } => {
            conn.execute("DELETE FROM audit WHERE seq >= ?1", [from])
                .unwrap();
        }
    }
    true
}

#[test]
fn an_untouched_chain_verifies() {
    let (_dir, path, n) = template();
    let case = Case::open_unrecorded(path, actor(), "check").unwrap();
    match case.verify_audit().unwrap() {
        ChainCheck::Intact { records, .. } => assert_eq!(records, *n),
        broken => panic!("{broken:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn any_tampering_is_found_at_the_first_changed_record(tamper in tamper_strategy(template().2)) {
        let (_dir, path, _n) = template();
        let work = tempfile::tempdir().unwrap();
        let copy = work.path().join("tampered.copkit");
        std::fs::copy(path, &copy).unwrap();
        prop_assume!(apply_tamper(&copy, &tamper));
        let case = Case::open_unrecorded(&copy, actor(), "check").unwrap();
        match case.verify_audit().unwrap() {
            ChainCheck::Intact { .. } => prop_assert!(false, "{tamper:?} was not detected"),
            ChainCheck::Broken { seq, reason } => {
                prop_assert_eq!(seq, tamper.expected_first_broken(), "{:?}: {}", tamper, reason);
            }
        }
    }
}
