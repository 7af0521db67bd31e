//! What the workstation knows of a case outside its file (issue 26): a case whose audit log
//! was cut back behind what the anchor log holds is not opened for writing, only read-only and
//! marked so; and an `audit verify` of a case on a read-only medium, recorded in the
//! workstation's consultation log, enters the case's audit log the next time it is opened
//! writable, once.
//!
//! Every test here anchors to the log tests/common sets up for this process, and child
//! `copkit` processes are pointed at the same log.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code stops loudly where an expectation fails"
)]

mod common;

use common::{actor, sha256_file, temp_case};
use copkit::model::NewEntity;
use copkit::store::{Case, ChainCheck, Command, StoreError, anchor};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Output};

/// The anchor log this test process writes (tests/common configures it).
fn anchor_log() -> PathBuf {
    actor();
    anchor::workstation().anchor_log.unwrap()
}

/// `copkit ARGS` with this process's anchor log (and so its consultation log beside it).
fn copkit(args: &[&str]) -> Output {
    Process::new(env!("CARGO_BIN_EXE_copkit"))
        .args(args)
        .env("COPKIT_ANCHOR_LOG", anchor_log())
        .env("COPKIT_SIGNING_KEY", "/nonexistent/copkit-test.key")
        .env("COPKIT_ANALYST", "Checking Analyst")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn add_people(case: &mut Case, labels: &[&str]) {
    for label in labels {
        case.apply(Command::CreateEntity {
            entity: NewEntity::new("Person", *label),
        })
        .unwrap();
    }
}

#[test]
fn a_case_cut_back_behind_its_anchor_log_is_not_written_and_opens_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut case) = temp_case(&dir, "cut.copkit");
    add_people(&mut case, &["A", "B", "C"]);
    drop(case);
    // The last two records cut off and the header moved back to match: the file's own chain
    // is intact.
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TRIGGER audit_no_delete;
         DELETE FROM audit WHERE seq > (SELECT max(seq) - 2 FROM audit);
         UPDATE case_meta SET value = (SELECT hash FROM audit ORDER BY seq DESC LIMIT 1)
           WHERE key = 'audit_head';
         UPDATE case_meta SET value = (SELECT max(seq) FROM audit) WHERE key = 'audit_count';",
    )
    .unwrap();
    drop(conn);
    let before = sha256_file(&path);

    let err = Case::open(&path, actor(), "later").unwrap_err();
    assert!(matches!(err, StoreError::BehindAnchorLog { .. }), "{err:?}");
    let t = err.to_string();
    assert!(t.contains("not opened for writing"), "{t}");
    assert!(t.contains("holds record"), "{t}");
    assert!(t.contains("cut off"), "{t}");
    assert!(t.ends_with(&path.display().to_string()), "{t}");
    assert_eq!(sha256_file(&path), before, "the refusal wrote to the case");

    // Read-only: it can be examined, it says why it is read-only, and nothing is written.
    let mut case = Case::open_read_only(&path, actor(), "examination").unwrap();
    let why = case.read_only().unwrap().to_string();
    assert!(
        why.contains("anchor log") && why.contains("cut off"),
        "{why}"
    );
    assert!(matches!(
        case.verify_audit().unwrap(),
        ChainCheck::Intact { .. }
    ));
    // The evidence is all there; only the records of its making were cut.
    assert_eq!(case.snapshot().unwrap().entities.len(), 3);
    let err = case
        .apply(Command::CreateEntity {
            entity: NewEntity::new("Person", "D"),
        })
        .unwrap_err();
    let t = err.to_string();
    assert!(
        t.contains("open for reading only") && t.contains("cut off"),
        "{t}"
    );
    drop(case);
    assert_eq!(sha256_file(&path), before, "the read-only case was written");

    // The same through the command line: refused, nothing written.
    let out = copkit(&["info", path.to_str().unwrap(), "--purpose", "p"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("not opened for writing"),
        "{}",
        text(&out)
    );
    assert_eq!(sha256_file(&path), before);
}

#[test]
fn a_case_writable_and_in_step_with_its_anchor_log_opens_as_always() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut case) = temp_case(&dir, "fine.copkit");
    add_people(&mut case, &["A"]);
    assert!(case.read_only().is_none());
    drop(case);
    let case = Case::open(&path, actor(), "again").unwrap();
    assert!(case.read_only().is_none());
    // Read-only on purpose says only that.
    drop(case);
    let case = Case::open_read_only(&path, actor(), "look").unwrap();
    assert_eq!(case.read_only(), Some("it was opened for reading only"));
}

/// Makes `dir` (holding the case) unwritable and back: a tmpfs remounted read-only as root
/// (root writes through file modes), the folder's and file's modes otherwise.
struct ReadOnlyPlace {
    dir: PathBuf,
    mounted: bool,
}

impl ReadOnlyPlace {
    /// `None` where it cannot be done (root without the right to mount).
    fn new(root: &Path) -> Option<ReadOnlyPlace> {
        let dir = root.join("medium");
        std::fs::create_dir_all(&dir).unwrap();
        let is_root = Process::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        if !is_root {
            return Some(ReadOnlyPlace {
                dir,
                mounted: false,
            });
        }
        let mounted = Process::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                "size=8m",
                "tmpfs",
                dir.to_str().unwrap(),
            ])
            .output()
            .is_ok_and(|o| o.status.success());
        mounted.then_some(ReadOnlyPlace { dir, mounted })
    }

    fn set(&self, read_only: bool) {
        if self.mounted {
            let opts = if read_only {
                "remount,ro"
            } else {
                "remount,rw"
            };
            let ok = Process::new("mount")
                .args(["-o", opts, self.dir.to_str().unwrap()])
                .status()
                .unwrap();
            assert!(ok.success());
        } else {
            use std::os::unix::fs::PermissionsExt;
            let (file_mode, dir_mode) = if read_only {
                (0o444, 0o555)
            } else {
                (0o644, 0o755)
            };
            for entry in std::fs::read_dir(&self.dir).unwrap() {
                let p = entry.unwrap().path();
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(file_mode)).unwrap();
            }
            std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(dir_mode)).unwrap();
        }
    }
}

impl Drop for ReadOnlyPlace {
    fn drop(&mut self) {
        self.set(false);
        if self.mounted {
            let _ = Process::new("umount").arg(&self.dir).status();
        }
    }
}

#[test]
fn a_verify_of_a_read_only_case_enters_the_case_when_it_is_next_opened_writable() {
    let dir = tempfile::tempdir().unwrap();
    let Some(place) = ReadOnlyPlace::new(dir.path()) else {
        eprintln!("skipped: running as root where a tmpfs cannot be mounted");
        return;
    };
    let path = place.dir.join("medium.copkit");
    let mut case = Case::create(&path, "on a medium", actor(), "OP-RO").unwrap();
    add_people(&mut case, &["A", "B"]);
    let records_before = case.audit_records().unwrap().len();
    drop(case);

    place.set(true);
    let before = sha256_file(&path);
    let out = copkit(&[
        "audit",
        "verify",
        path.to_str().unwrap(),
        "--purpose",
        "DPO check",
    ]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("consultation log"), "{t}");
    assert_eq!(sha256_file(&path), before);
    place.set(false);

    let case = Case::open(&path, actor(), "carry on").unwrap();
    let records = case.audit_records().unwrap();
    // The verify, then this opening.
    assert_eq!(records.len(), records_before + 2, "{records:#?}");
    let verify = &records[records_before];
    assert_eq!(
        (verify.category.as_str(), verify.action.as_str()),
        ("consultation", "audit verify")
    );
    assert_eq!(verify.actor_analyst, "Checking Analyst");
    assert_eq!(verify.purpose, "DPO check");
    let details: serde_json::Value = serde_json::from_str(&verify.details).unwrap();
    assert_eq!(details["recorded_later"], true);
    assert_eq!(details["details"]["result"], "passed");
    assert!(
        details["not_recorded_in_case"]
            .as_str()
            .unwrap()
            .contains("read-only"),
        "{details}"
    );
    assert_eq!(records[records_before + 1].action, "open case");
    assert!(matches!(
        case.verify_audit().unwrap(),
        ChainCheck::Intact { .. }
    ));
    drop(case);

    // Taken in once: the next opening adds only itself.
    let case = Case::open(&path, actor(), "again").unwrap();
    let again = case.audit_records().unwrap();
    assert_eq!(again.len(), records_before + 3);
    assert_eq!(again.last().unwrap().action, "open case");
    drop(case);
    drop(place);
}
