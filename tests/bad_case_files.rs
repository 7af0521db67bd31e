//! Garbage, truncated, zero-byte, foreign and newer-version files give the documented errors
//! and stay byte-identical; a damaged case is never replaced.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]

mod common;

use common::{actor, sha256_file, temp_case};
use copkit::model::NewEntity;
use copkit::store::{Case, Command, SCHEMA_VERSION, StoreError};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/bad")
        .join(name)
}

/// Opens `path` expecting an error; checks the file is byte-identical and nothing was created
/// beside it.
fn open_fails_untouched(path: &Path) -> StoreError {
    let before = sha256_file(path);
    let siblings_before = siblings(path);
    let err = Case::open(path, actor(), "test").expect_err("opening should fail");
    assert_eq!(sha256_file(path), before, "{} was modified", path.display());
    assert_eq!(
        siblings(path),
        siblings_before,
        "files appeared beside {}",
        path.display()
    );
    let message = err.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "the error does not name the file: {message}"
    );
    err
}

fn siblings(path: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn committed_fixtures_are_refused_in_place() {
    let zero = open_fails_untouched(&fixture("zero-bytes.copkit"));
    assert!(matches!(zero, StoreError::ZeroByte(_)), "{zero}");
    let text = open_fails_untouched(&fixture("csv-renamed.copkit"));
    assert!(
        matches!(&text, StoreError::NotACase { what, .. } if what.contains("text file")),
        "{text}"
    );
    let zip = open_fails_untouched(&fixture("zip-renamed.copkit"));
    assert!(
        matches!(&zip, StoreError::NotACase { what, .. } if what.contains("zip")),
        "{zip}"
    );
    let bom = open_fails_untouched(&fixture("bom-only.copkit"));
    assert!(matches!(bom, StoreError::NotACase { .. }), "{bom}");
}

#[test]
fn garbage_is_not_a_case() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.copkit");
    let bytes: Vec<u8> = (0..10_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&path, bytes).unwrap();
    let err = open_fails_untouched(&path);
    assert!(matches!(err, StoreError::NotACase { .. }), "{err}");
}

#[test]
fn another_programs_sqlite_database_is_not_a_case() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.copkit");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    drop(conn);
    let err = open_fails_untouched(&path);
    assert!(
        matches!(&err, StoreError::NotACase { what, .. } if what.contains("another program")),
        "{err}"
    );
}

#[test]
fn a_case_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (path, case) = temp_case(&dir, "newer.copkit");
    case.connection()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(case);
    let err = open_fails_untouched(&path);
    match err {
        StoreError::NewerVersion {
            found, supported, ..
        } => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
        }
        other => panic!("{other}"),
    }
}

fn populated_case(dir: &tempfile::TempDir) -> PathBuf {
    let (path, mut case) = temp_case(dir, "damaged.copkit");
    for i in 0..400 {
        let e = NewEntity::new(
            "Person",
            format!("Person number {i} with a long enough name"),
        )
        .with("note", &"x".repeat(200));
        case.apply(Command::CreateEntity { entity: e }).unwrap();
    }
    path
}

#[test]
fn a_truncated_case_is_reported_as_damaged_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = populated_case(&dir);
    let len = std::fs::metadata(&path).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(len / 2).unwrap();
    drop(file);
    let err = open_fails_untouched(&path);
    assert!(
        matches!(&err, StoreError::Corrupt { details, .. } if details.contains("truncated")),
        "{err}"
    );
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        len / 2,
        "the damaged file was replaced"
    );
}

#[test]
fn a_case_with_damaged_pages_is_reported_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = populated_case(&dir);
    let mut bytes = std::fs::read(&path).unwrap();
    // Overwrite the middle of the file (table b-tree pages) but keep the 100-byte header.
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 8192] {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    // Two backups beside it: a sound one, and a newer broken one that must not be offered.
    let sound = dir.path().join("damaged.copkit.backup-sound");
    {
        let (_p, case) = temp_case(&dir, "source-of-backup.copkit");
        case.backup_to(&sound).unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(
        dir.path().join("damaged.copkit.backup-broken"),
        b"not a case",
    )
    .unwrap();
    let err = open_fails_untouched(&path);
    match &err {
        StoreError::Corrupt { backup_hint, .. } => {
            assert!(backup_hint.contains("backup-sound"), "{err}")
        }
        other => panic!("expected Corrupt, got {other}"),
    }
}

#[test]
fn non_regular_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = Case::open(dir.path(), actor(), "test").unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::NotARegularFile {
                kind: "a directory",
                ..
            }
        ),
        "{err}"
    );
    let fifo = dir.path().join("pipe.copkit");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let err = Case::open(&fifo, actor(), "test").unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::NotARegularFile {
                kind: "a named pipe",
                ..
            }
        ),
        "{err}"
    );
    let err = Case::open(&dir.path().join("missing.copkit"), actor(), "test").unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err}");
}

#[test]
fn create_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("exists.copkit");
    std::fs::write(&path, b"precious").unwrap();
    let err = Case::create(&path, "t", actor(), "test").unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists(_)), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), b"precious");
}

#[test]
fn an_old_case_is_backed_up_then_migrated_in_one_step() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.copkit");
    copkit::store::create_at_version(&path, 1, &actor()).unwrap();
    let old_bytes = std::fs::read(&path).unwrap();
    let case = Case::open(&path, actor(), "upgrade").unwrap();
    let version: u32 = case
        .connection()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    assert!(
        case.audit_records()
            .unwrap()
            .iter()
            .any(|r| r.action == "upgrade case format")
    );
    assert!(matches!(
        case.verify_audit().unwrap(),
        copkit::store::ChainCheck::Intact { .. }
    ));
    drop(case);
    let backups = copkit::store::find_backups(&path);
    assert_eq!(backups.len(), 1, "{backups:?}");
    // The backup is the old case, still at version 1 and openable by SQLite.
    let conn = rusqlite::Connection::open_with_flags(
        &backups[0],
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let v: u32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v, 1);
    assert!(!old_bytes.is_empty());
}

#[test]
fn a_version_2_case_gets_the_partial_identifier_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.copkit");
    copkit::store::create_at_version(&path, 2, &actor()).unwrap();
    let case = Case::open(&path, actor(), "upgrade").unwrap();
    let sql: String = case
        .connection()
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'attributes_normalized'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(sql.contains("WHERE normalized IS NOT NULL"), "{sql}");
    // Identifier lookups can still use it (`INDEXED BY` fails to prepare otherwise).
    case.connection()
        .prepare(
            "SELECT owner_id FROM attributes INDEXED BY attributes_normalized \
             WHERE property = ?1 AND normalized = ?2",
        )
        .unwrap();
    assert_eq!(copkit::store::find_backups(&path).len(), 1);
}
