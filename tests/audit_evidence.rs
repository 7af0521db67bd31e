//! The audit chain covers the evidence and is anchored outside the file (issue 26): direct SQL
//! edits of the evidence are named by table and row; a cut-off end with the header moved
//! back, a rewritten or backdated log with its hashes computed again, and a forged record are
//! caught by the anchor log and the signed head; a case whose header disagrees with its last
//! record is not written to; verify runs on a read-only medium; a full disk names the case.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]

mod common;

use common::{BatchItems, actor, import, temp_case};
use copkit::model::{
    EntityRef, EventTime, NewEntity, NewEvent, NewLink, NewParticipant, ParticipantRole,
};
use copkit::store::{
    Case, CheckOutcome, Command, NewBatch, StoreError, VerifyOptions, VerifyReport,
    verify_case_file,
};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Output};

/// A case with hand-made entities and one import batch of entities, links and events.
fn evidence_case(dir: &tempfile::TempDir) -> PathBuf {
    let (path, mut case) = temp_case(dir, "evidence.copkit");
    for i in 0..3 {
        case.apply(Command::CreateEntity {
            entity: NewEntity::new("Person", format!("Hand {i}")),
        })
        .unwrap();
    }
    let entities: Vec<NewEntity> = (0..20)
        .map(|i| NewEntity::new("Phone", format!("+44 7700 9000{i:02}")))
        .collect();
    let links = (0..19)
        .map(|i| NewLink::new("calls", EntityRef::New(i), EntityRef::New(i + 1)))
        .collect();
    let events = (0..10)
        .map(|i| {
            let mut e = NewEvent::new(
                "Call",
                EventTime {
                    start_ms: 1_700_000_000_000 + i * 60_000,
                    end_ms: None,
                    original_text: None,
                    original_zone: None,
                },
            );
            e.participants = vec![
                NewParticipant::new(ParticipantRole::From, EntityRef::New(i as usize)),
                NewParticipant::new(ParticipantRole::To, EntityRef::New(i as usize + 1)),
            ];
            e
        })
        .collect();
    import(
        &mut case,
        BatchItems {
            batch: NewBatch {
                kind: "csv".into(),
                description: "call records".into(),
                source_sha256: Some("ab".repeat(32)),
                ..Default::default()
            },
            entities,
            links,
            events,
        },
    )
    .unwrap();
    path
}

fn verify_here(path: &Path) -> VerifyReport {
    verify_case_file(path, &VerifyOptions::default()).unwrap()
}

fn outcome(report: &VerifyReport, name: &str) -> CheckOutcome {
    report
        .checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name}"))
        .outcome
}

fn tampered_copy(template: &Path, work: &tempfile::TempDir, sql: &str) -> PathBuf {
    let copy = work.path().join("tampered.copkit");
    std::fs::copy(template, &copy).unwrap();
    Connection::open(&copy).unwrap().execute_batch(sql).unwrap();
    copy
}

#[test]
fn direct_sql_edits_of_the_evidence_are_named_by_table_and_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = evidence_case(&dir);
    let report = verify_here(&path);
    assert!(report.passed(), "{report:#?}");
    assert_eq!(outcome(&report, "evidence"), CheckOutcome::Passed);

    // (tampering, table, row named or not, words the finding must hold)
    let cases: &[(&str, &str, Option<i64>, &str)] = &[
        (
            "UPDATE entities SET label = 'Someone else' WHERE id = 2",
            "entities",
            Some(2),
            "changed",
        ),
        (
            "DELETE FROM events WHERE id = 4",
            "events",
            Some(4),
            "removed",
        ),
        (
            "UPDATE batches SET source_sha256 = '00' || substr(source_sha256, 3) WHERE id = 1",
            "batches",
            Some(1),
            "changed",
        ),
        (
            "INSERT INTO entities (type, label) VALUES ('Person', 'Planted')",
            "entities",
            Some(24),
            "added",
        ),
        // A whole batch: its row is named, its many entities are counted.
        (
            "DELETE FROM participants; DELETE FROM events; DELETE FROM links; \
             DELETE FROM entities WHERE prov_batch = 1; DELETE FROM batches;",
            "batches",
            Some(1),
            "removed",
        ),
    ];
    for (sql, table, row, words) in cases {
        let work = tempfile::tempdir().unwrap();
        let copy = tampered_copy(&path, &work, sql);
        let report = verify_here(&copy);
        assert!(!report.passed(), "{sql}: not detected");
        assert_eq!(
            outcome(&report, "audit chain"),
            CheckOutcome::Passed,
            "{sql}"
        );
        let finding = report
            .evidence
            .iter()
            .find(|f| f.table == *table)
            .unwrap_or_else(|| panic!("{sql}: {table} not named in {:#?}", report.evidence));
        assert_eq!(finding.row, *row, "{sql}: {finding:?}");
        assert!(finding.what.contains(words), "{sql}: {finding:?}");
    }

    // The whole-batch deletion also reports how many entities went.
    let work = tempfile::tempdir().unwrap();
    let copy = tampered_copy(&path, &work, cases[4].0);
    let report = verify_here(&copy);
    let entities = report
        .evidence
        .iter()
        .find(|f| f.table == "entities")
        .unwrap();
    assert!(
        entities.what.contains("3 rows now, 23"),
        "{}",
        entities.what
    );
}

#[test]
fn fixing_the_stored_digest_too_still_disagrees_with_the_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = evidence_case(&dir);
    let work = tempfile::tempdir().unwrap();
    let copy = tampered_copy(&path, &work, "UPDATE entities SET label = 'X' WHERE id = 1");
    // Someone who also knows the digest recomputes it from the rows and stores it: what the
    // audit records committed to still differs.
    {
        let case = Case::open_unrecorded(&copy, actor(), "t").unwrap();
        drop(case);
    }
    let report_before = verify_here(&copy);
    assert!(!report_before.passed());
    let conn = Connection::open(&copy).unwrap();
    conn.execute_batch("DELETE FROM evidence_digest WHERE tbl = 'entities'")
        .unwrap();
    drop(conn);
    let report = verify_here(&copy);
    let finding = report
        .evidence
        .iter()
        .find(|f| f.table == "entities")
        .unwrap();
    assert_eq!(finding.row, None);
    assert!(finding.what.contains("stored digest"), "{finding:?}");
}

#[test]
fn commands_batches_undo_and_redo_keep_the_digest_true() {
    let dir = tempfile::tempdir().unwrap();
    let path = evidence_case(&dir);
    let mut case = Case::open(&path, actor(), "work").unwrap();
    let check = |case: &Case, when: &str| {
        let report = verify_here(case.path());
        assert_eq!(
            outcome(&report, "evidence"),
            CheckOutcome::Passed,
            "{when}: {:#?}",
            report.evidence
        );
    };
    case.apply(Command::Merge {
        keep: copkit::model::EntityId(4),
        absorb: vec![copkit::model::EntityId(5)],
        method: "manual".into(),
        reason: "same phone".into(),
    })
    .unwrap();
    check(&case, "merge");
    case.undo().unwrap();
    check(&case, "undo merge");
    case.redo().unwrap();
    check(&case, "redo merge");
    case.undo().unwrap();
    case.undo().unwrap(); // the batch
    check(&case, "undo batch");
    case.redo().unwrap();
    check(&case, "redo batch");
    case.apply(Command::Delete {
        items: vec![copkit::model::ItemRef::Entity(copkit::model::EntityId(1))],
        reason: "duplicate".into(),
    })
    .unwrap();
    check(&case, "delete");
}

#[test]
fn an_upgraded_case_is_covered_from_its_upgrade_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.copkit");
    copkit::store::create_at_version(&path, 5, &actor()).unwrap();
    let report = verify_here(&path);
    assert_eq!(outcome(&report, "evidence"), CheckOutcome::NotChecked);
    let mut case = Case::open(&path, actor(), "upgrade").unwrap();
    case.apply(Command::CreateEntity {
        entity: NewEntity::new("Person", "after"),
    })
    .unwrap();
    drop(case);
    let report = verify_here(&path);
    assert!(report.passed(), "{report:#?}");
    let evidence = report.checks.iter().find(|c| c.name == "evidence").unwrap();
    assert!(evidence.found.contains("the upgrade"), "{}", evidence.found);
}

#[test]
fn a_full_disk_names_the_case_and_leaves_it_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut case) = temp_case(&dir, "full.copkit");
    // As full as a disk can be: SQLite may not grow the file by a single page.
    let pages: i64 = case
        .connection()
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    case.connection()
        .pragma_update(None, "max_page_count", pages)
        .unwrap();
    let items = BatchItems {
        batch: NewBatch {
            kind: "csv".into(),
            description: "too much".into(),
            ..Default::default()
        },
        entities: (0..5000)
            .map(|i| NewEntity::new("Person", format!("Person number {i} with a long name")))
            .collect(),
        ..Default::default()
    };
    let err = import(&mut case, items).unwrap_err();
    assert!(
        matches!(err, StoreError::DiskFull(ref p) if p == &path),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("full") && message.contains(&path.display().to_string()));
    drop(case);
    assert!(verify_here(&path).passed());
}

// --- Anchors and signatures, through the command line with a workstation of its own ---

struct Workstation {
    dir: tempfile::TempDir,
}

impl Workstation {
    fn new() -> Workstation {
        Workstation {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn copkit(&self, args: &[&str]) -> Output {
        Process::new(env!("CARGO_BIN_EXE_copkit"))
            .args(args)
            .env("COPKIT_DATA_DIR", self.data())
            .env_remove("COPKIT_ANCHOR_LOG")
            .env_remove("COPKIT_SIGNING_KEY")
            .env("COPKIT_ANALYST", "Test Analyst")
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.copkit(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        text(&out)
    }

    /// A case with a few records, made with a workstation key.
    fn case(&self) -> PathBuf {
        self.ok(&["audit", "keygen"]);
        let case = self.dir.path().join("c.copkit");
        let c = case.to_str().unwrap();
        self.ok(&["new", c, "--purpose", "OP-1"]);
        for label in ["A", "B", "C"] {
            self.ok(&[
                "add",
                "entity",
                c,
                "--type",
                "Person",
                "--label",
                label,
                "--purpose",
                "OP-1",
            ]);
        }
        case
    }

    fn verify(&self, case: &Path) -> Output {
        self.copkit(&[
            "audit",
            "verify",
            case.to_str().unwrap(),
            "--purpose",
            "DPO",
        ])
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Raw SQL on the file, past the append-only triggers.
fn raw(case: &Path, sql: &str) {
    let conn = Connection::open(case).unwrap();
    conn.execute_batch("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;")
        .unwrap();
    conn.execute_batch(sql).unwrap();
}

/// Recomputes every hash from record `from` on and moves the header to the new end, as
/// someone who knows the chain's format would.
fn rechain(case: &Path) {
    let mut records: Vec<copkit::store::AuditRecord> = {
        let case = Case::open_unrecorded(case, actor(), "t").unwrap();
        case.audit_records().unwrap()
    };
    let conn = Connection::open(case).unwrap();
    let mut prev = copkit::store::GENESIS_HASH.to_string();
    for r in &mut records {
        r.prev_hash = prev.clone();
        r.hash = r.compute_hash();
        conn.execute(
            "UPDATE audit SET prev_hash = ?1, hash = ?2 WHERE seq = ?3",
            rusqlite::params![r.prev_hash, r.hash, r.seq],
        )
        .unwrap();
        prev = r.hash.clone();
    }
    conn.execute(
        "UPDATE case_meta SET value = ?1 WHERE key = 'audit_head'",
        [&prev],
    )
    .unwrap();
    conn.execute(
        "UPDATE case_meta SET value = ?1 WHERE key = 'audit_count'",
        [records.len().to_string()],
    )
    .unwrap();
}

#[test]
fn an_untouched_case_passes_every_check() {
    let ws = Workstation::new();
    let case = ws.case();
    let out = ws.verify(&case);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    for line in [
        "[ok] audit chain",
        "[ok] evidence",
        "[ok] anchor log",
        "[ok] signature",
    ] {
        assert!(t.contains(line), "{line} missing in {t}");
    }
    // The check is recorded in the case (and anchored) when it passed.
    let records = Case::open_unrecorded(&case, actor(), "t")
        .unwrap()
        .audit_records()
        .unwrap();
    assert_eq!(records.last().unwrap().action, "audit verify");
}

#[test]
fn a_cut_off_end_with_the_header_moved_back_is_caught_and_not_written_over() {
    let ws = Workstation::new();
    let case = ws.case();
    raw(
        &case,
        "DELETE FROM audit WHERE seq > (SELECT max(seq) - 2 FROM audit);
         UPDATE case_meta SET value = (SELECT hash FROM audit ORDER BY seq DESC LIMIT 1)
           WHERE key = 'audit_head';
         UPDATE case_meta SET value = (SELECT max(seq) FROM audit) WHERE key = 'audit_count';",
    );
    let out = ws.verify(&case);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("[ok] audit chain"), "{t}");
    assert!(t.contains("[FAILED] anchor log"), "{t}");
    assert!(t.contains("records were removed from the end"), "{t}");
    assert!(t.contains("[FAILED] signature"), "{t}");
    // An ordinary open is refused: a record appended now would take a missing record's
    // number. The file is left as it was (tests/trust_workstation.rs opens it read-only).
    let before = common::sha256_file(&case);
    let out = ws.copkit(&["info", case.to_str().unwrap(), "--purpose", "later"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("not opened for writing"), "{t}");
    assert!(t.contains("anchor log"), "{t}");
    assert_eq!(common::sha256_file(&case), before, "the case was written");
    let t = text(&ws.verify(&case));
    assert!(t.contains("[FAILED] anchor log"), "{t}");
}

#[test]
fn a_header_that_disagrees_with_the_last_record_refuses_writes() {
    let ws = Workstation::new();
    let case = ws.case();
    raw(
        &case,
        "DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit);",
    );
    let before = common::sha256_file(&case);
    let out = ws.copkit(&["info", case.to_str().unwrap(), "--purpose", "p"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("does not end where its header says"), "{t}");
    assert!(t.contains(case.to_str().unwrap()), "{t}");
    assert_eq!(common::sha256_file(&case), before, "the case was written");
    let err = Case::open(&case, actor(), "p").unwrap_err();
    assert!(matches!(err, StoreError::ChainMismatch { .. }), "{err:?}");
}

#[test]
fn a_rewritten_or_backdated_log_with_its_hashes_recomputed_is_caught() {
    let ws = Workstation::new();
    let case = ws.case();
    raw(
        &case,
        "UPDATE audit SET time_utc = '2020-01-01T00:00:00.000Z', purpose = 'backdated' \
         WHERE seq = 3;",
    );
    rechain(&case);
    let out = ws.verify(&case);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("[ok] audit chain"), "{t}");
    assert!(t.contains("record 3 is not the one anchored"), "{t}");
    assert!(t.contains("[FAILED] signature"), "{t}");
    assert!(t.contains("rewritten"), "{t}");
}

#[test]
fn a_forged_record_appended_is_caught() {
    let ws = Workstation::new();
    let case = ws.case();
    raw(
        &case,
        "INSERT INTO audit (seq, time_utc, category, action, actor_os, actor_analyst, purpose, \
         details, prev_hash, hash) SELECT seq + 1, time_utc, 'consultation', 'open case', \
         actor_os, 'Someone', 'forged', '{}', hash, '' FROM audit \
         WHERE seq = (SELECT max(seq) FROM audit);",
    );
    rechain(&case);
    let out = ws.verify(&case);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("[ok] audit chain"), "{t}");
    assert!(t.contains("are not in the anchor log"), "{t}");
    assert!(t.contains("written without the key"), "{t}");
}

#[test]
fn another_key_than_the_trusted_one_fails_the_signature() {
    let ws = Workstation::new();
    let case = ws.case();
    let other = ws.dir.path().join("other.key");
    ws.ok(&["audit", "keygen", "--out", other.to_str().unwrap()]);
    let out = ws.copkit(&[
        "audit",
        "verify",
        case.to_str().unwrap(),
        "--purpose",
        "DPO",
        "--public-key",
        &format!("{}.pub", other.display()),
    ]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("not with the trusted key"), "{t}");
}

/// A small tmpfs, made read-only after the case is copied in; `None` where mounting is not
/// allowed (not root, or in a container without the capability).
fn read_only_mount(case: &Path, root: &Path) -> Option<PathBuf> {
    let mnt = root.join("ro");
    std::fs::create_dir_all(&mnt).unwrap();
    let mounted = Process::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            "size=8m",
            "tmpfs",
            mnt.to_str().unwrap(),
        ])
        .output()
        .ok()?;
    if !mounted.status.success() {
        return None;
    }
    std::fs::copy(case, mnt.join("c.copkit")).unwrap();
    let ro = Process::new("mount")
        .args(["-o", "remount,ro", mnt.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(ro.success());
    Some(mnt)
}

#[test]
fn verify_works_on_a_read_only_medium_and_logs_itself_on_the_workstation() {
    let ws = Workstation::new();
    let case = ws.case();
    let Some(mnt) = read_only_mount(&case, ws.dir.path()) else {
        eprintln!("skipped: cannot mount a tmpfs here");
        return;
    };
    let out = ws.verify(&mnt.join("c.copkit"));
    let _ = Process::new("umount").arg(&mnt).status();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("consultation log"), "{t}");
    let log = std::fs::read_to_string(ws.data().join("consultations.jsonl")).unwrap();
    assert!(
        log.contains("audit verify") && log.contains("read-only"),
        "{log}"
    );
}
