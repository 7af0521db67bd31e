//! Data protection users can reach: the review list, the purge (no copy of an erased value left
//! in the file, the undo history or its free pages; shared entities decided explicitly) and the
//! pseudonymised training copy (same structure and analysis results, no original name, linked
//! to its original only in the original's audit log).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code stops loudly where an expectation fails"
)]

mod common;

use common::{BatchItems, actor, dump, import, temp_case};
use copkit::analysis::{self, Output, Params};
use copkit::jobs::{CancelToken, NoProgress};
use copkit::model::*;
use copkit::store::{
    AuditCategory, Case, ChainCheck, Command, NewBatch, PurgeTarget, SharedEntities,
};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const SECRET_NAME: &str = "Zebulon Quixotic-Marchbanks";
const SECRET_PHONE: &str = "+31 6 99887766";

fn batch(description: &str) -> NewBatch {
    NewBatch {
        kind: "import".into(),
        description: description.into(),
        ..NewBatch::default()
    }
}

fn file_contains(path: &Path, needle: &str) -> bool {
    let bytes = std::fs::read(path).unwrap();
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn journal_exists(path: &Path) -> bool {
    let mut journal = path.as_os_str().to_owned();
    journal.push("-journal");
    Path::new(&journal).exists()
}

fn entity_ids(case: &Case, batch: i64) -> Vec<i64> {
    let conn = case.connection();
    let mut stmt = conn
        .prepare("SELECT id FROM entities WHERE prov_batch = ?1 ORDER BY id")
        .unwrap();
    stmt.query_map([batch], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn purging_a_batch_leaves_no_copy_of_its_values_anywhere_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut case) = temp_case(&dir, "purge.copkit");
    let secret = import(
        &mut case,
        BatchItems {
            batch: batch("subscriber records"),
            entities: vec![
                NewEntity::new("Person", SECRET_NAME).with("phone", SECRET_PHONE),
                NewEntity::new("Phone", SECRET_PHONE).with("number", SECRET_PHONE),
            ],
            links: vec![NewLink::new("uses", EntityRef::New(0), EntityRef::New(1))],
            events: vec![],
        },
    )
    .unwrap()
    .batch
    .unwrap();
    import(
        &mut case,
        BatchItems {
            batch: batch("other records"),
            entities: vec![NewEntity::new("Person", "Ana Ruiz")],
            ..BatchItems::default()
        },
    )
    .unwrap();
    // The values also reach the undo history: a command's statements hold the whole rows it
    // changed (here the person's label, which its audit record does not name), one step undone
    // and one not, and an undone batch's rows wait in the shadow tables.
    let person = EntityId(entity_ids(&case, secret.0)[0]);
    for restricted in [true, false] {
        case.apply(Command::SetRestricted {
            items: vec![ItemRef::Entity(person)],
            restricted,
            reason: "source protection".into(),
        })
        .unwrap();
    }
    case.undo().unwrap();
    import(
        &mut case,
        BatchItems {
            batch: batch("duplicate import"),
            entities: vec![NewEntity::new("Person", SECRET_NAME)],
            ..BatchItems::default()
        },
    )
    .unwrap();
    case.undo().unwrap();
    let held = |sql: &str| -> i64 { case.connection().query_row(sql, [], |r| r.get(0)).unwrap() };
    assert!(held("SELECT count(*) FROM undo_ops WHERE undo_sql LIKE '%Quixotic%'") > 0);
    assert!(held("SELECT count(*) FROM undone_entities WHERE label LIKE '%Quixotic%'") > 0);
    drop(case);
    assert!(
        file_contains(&path, SECRET_NAME),
        "the fixture holds the value"
    );

    let mut case = Case::open(&path, actor(), "OP-PURGE").unwrap();
    let report = case
        .purge(
            &PurgeTarget::Batch(secret),
            SharedEntities::Refuse,
            "retention period of rule 7 ended",
        )
        .unwrap();
    assert_eq!(report.erased["entities"], 2);
    assert_eq!(report.erased["links"], 1);
    assert_eq!(report.erased["attributes"], 2);
    assert_eq!(report.erased["batches"], 1);
    assert_eq!(report.entities_by_type.get("Person"), Some(&1));
    assert!(report.history_steps_dropped >= 3);
    assert_eq!(case.undo_label().unwrap(), None, "nothing can be undone");
    assert_eq!(case.redo_label().unwrap(), None, "nothing can be redone");
    assert!(case.undo().unwrap().is_none());

    // The erasure record: metadata only.
    let records = case.audit_records().unwrap();
    let erasure = records.iter().find(|r| r.action == "purge").unwrap();
    assert_eq!(erasure.category, AuditCategory::Erasure.as_str());
    assert!(!erasure.details.contains("Zebulon"), "{}", erasure.details);
    assert!(!erasure.details.contains("99887766"), "{}", erasure.details);
    assert!(!erasure.details.contains("subscriber records"));
    let details: serde_json::Value = serde_json::from_str(&erasure.details).unwrap();
    assert_eq!(details["batch"]["id"], secret.0);
    assert_eq!(details["reason"], "retention period of rule 7 ended");
    assert_eq!(erasure.actor_analyst, "Test Analyst");
    assert!(matches!(
        case.verify_audit().unwrap(),
        ChainCheck::Intact { .. }
    ));
    // The batch's import record keeps its description: the purge says so.
    assert!(!report.audit_records_naming_erased.is_empty());

    // Nothing else of the case changed.
    let snap = case.snapshot().unwrap();
    assert_eq!(snap.entities.len(), 1);
    assert_eq!(snap.entities[0].label, "Ana Ruiz");
    drop(case);

    // The raw bytes: no value, no free pages holding one, no journal beside the file.
    for needle in [SECRET_NAME, "Quixotic", "99887766", "6 99887766"] {
        assert!(
            !file_contains(&path, needle),
            "'{needle}' is still in the file"
        );
    }
    assert!(!journal_exists(&path), "a rollback journal was left");
    let conn = rusqlite::Connection::open(&path).unwrap();
    let free: i64 = conn
        .query_row("PRAGMA freelist_count", [], |r| r.get(0))
        .unwrap();
    assert_eq!(free, 0, "VACUUM leaves no free pages");
}

#[test]
fn a_batch_whose_entities_others_use_is_refused_kept_or_erased_as_asked() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut case) = temp_case(&dir, "shared.copkit");
    let first = import(
        &mut case,
        BatchItems {
            batch: batch("register"),
            entities: vec![
                NewEntity::new("Person", "Mara Lindqvist").with("birthDate", "1980-02-03"),
                NewEntity::new("Person", "Only Here"),
            ],
            ..BatchItems::default()
        },
    )
    .unwrap()
    .batch
    .unwrap();
    let ids = entity_ids(&case, first.0);
    let (shared, alone) = (EntityId(ids[0]), EntityId(ids[1]));
    let second = import(
        &mut case,
        BatchItems {
            batch: batch("call records"),
            entities: vec![NewEntity::new("Person", "Other Caller")],
            links: vec![NewLink::new("associate", shared, EntityRef::New(0))],
            events: vec![],
        },
    )
    .unwrap()
    .batch
    .unwrap();
    let before = dump(&case);

    let err = case
        .purge(&PurgeTarget::Batch(first), SharedEntities::Refuse, "rule 7")
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&shared.to_string()), "{text}");
    assert!(!text.contains(&alone.to_string()), "{text}");
    assert_eq!(dump(&case), before, "a refused purge changes nothing");

    // Keep: the shared entity stays with the other batch as its source, without the values
    // the purged batch gave it; the other one goes.
    let report = case
        .purge(&PurgeTarget::Batch(first), SharedEntities::Keep, "rule 7")
        .unwrap();
    assert_eq!(report.kept_shared, vec![shared]);
    let snap = case.snapshot().unwrap();
    let kept = snap.entity(shared).expect("kept");
    assert_eq!(kept.provenance.batch, Some(second));
    assert!(kept.attributes.is_empty(), "{:?}", kept.attributes);
    assert!(snap.entity(alone).is_none());
    assert_eq!(snap.links.len(), 1, "the other source's link stays");
    drop(case);
    assert!(!file_contains(&path, "1980-02-03"));
    assert!(!file_contains(&path, "Only Here"));

    // Erase: the entity goes with everything attached, whatever its source.
    let mut case = Case::open(&path, actor(), "OP-PURGE").unwrap();
    case.purge(
        &PurgeTarget::Items(vec![ItemRef::Entity(shared)]),
        SharedEntities::Refuse,
        "court order 12/2025",
    )
    .unwrap();
    let snap = case.snapshot().unwrap();
    assert!(snap.entity(shared).is_none());
    assert!(snap.links.is_empty());
    drop(case);
    assert!(!file_contains(&path, "Mara Lindqvist"));
}

#[test]
fn the_review_list_shows_what_is_due_by_date_and_extending_moves_it_out() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, mut case) = temp_case(&dir, "review.copkit");
    let applied = import(
        &mut case,
        BatchItems {
            batch: NewBatch {
                review_date: Some("2025-03-01".into()),
                ..batch("register")
            },
            entities: vec![NewEntity::new("Person", "A"), NewEntity::new("Person", "B")],
            ..BatchItems::default()
        },
    )
    .unwrap();
    let ids = entity_ids(&case, applied.batch.unwrap().0);
    case.apply(Command::SetReviewDate {
        items: vec![ItemRef::Entity(EntityId(ids[0]))],
        date: Some("2025-01-15".into()),
        reason: "rule 4".into(),
    })
    .unwrap();
    case.apply(Command::SetReviewDate {
        items: vec![ItemRef::Entity(EntityId(ids[1]))],
        date: Some("2026-01-15".into()),
        reason: "rule 4".into(),
    })
    .unwrap();

    let list = case.review_due("2025-06-30", 100).unwrap();
    assert_eq!(list.total, 2);
    let refs: Vec<&str> = list.entries.iter().map(|e| e.reference.as_str()).collect();
    assert_eq!(refs, vec![format!("E{}", ids[0]).as_str(), "B1"]);
    assert_eq!(list.entries[1].kind, "batch");
    assert_eq!(list.entries[1].label, "register");
    assert_eq!(case.review_due("2027-01-01", 1).unwrap().entries.len(), 1);
    assert_eq!(case.review_due("2027-01-01", 1).unwrap().total, 3);
    assert!(case.review_due("30/06/2025", 10).is_err());

    case.apply(Command::SetBatchReviewDate {
        batch: applied.batch.unwrap(),
        date: Some("2030-01-01".into()),
        reason: "investigation still open".into(),
    })
    .unwrap();
    let list = case.review_due("2025-06-30", 100).unwrap();
    assert_eq!(list.total, 1);
    case.undo().unwrap();
    assert_eq!(case.review_due("2025-06-30", 100).unwrap().total, 2);
    let err = case
        .apply(Command::SetBatchReviewDate {
            batch: BatchId(99),
            date: Some("2030-01-01".into()),
            reason: "x".into(),
        })
        .unwrap_err();
    assert!(err.to_string().contains("B99"), "{err}");
}

/// Entity ids in PageRank order (ties by id).
fn pagerank_ranking(snap: &copkit::store::CaseSnapshot) -> Vec<EntityId> {
    let output = analysis::run_component(
        analysis::find("pagerank").unwrap(),
        snap,
        &Params::new(),
        &CancelToken::new(),
        &NoProgress,
    )
    .unwrap();
    let Output::EntityValues { mut values } = output else {
        panic!("pagerank gives entity values");
    };
    values.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    values.into_iter().map(|(id, _)| id).collect()
}

/// A partition as a set of sets of entity ids, whatever its community numbers.
fn partition(snap: &copkit::store::CaseSnapshot, component: &str) -> BTreeSet<BTreeSet<EntityId>> {
    let output = analysis::run_component(
        analysis::find(component).unwrap(),
        snap,
        &Params::new(),
        &CancelToken::new(),
        &NoProgress,
    )
    .unwrap();
    let Output::Communities { assignment, .. } = output else {
        panic!("{component} gives communities");
    };
    let mut groups: BTreeMap<u32, BTreeSet<EntityId>> = BTreeMap::new();
    for (id, community) in assignment {
        groups.entry(community).or_default().insert(id);
    }
    groups.into_values().collect()
}

fn attribute(snap: &copkit::store::CaseSnapshot, id: EntityId, property: &str) -> Option<String> {
    snap.entity(id)?
        .attributes
        .iter()
        .find(|a| a.property == property)
        .map(|a| a.value.clone())
}

#[test]
fn a_pseudonymised_copy_of_the_demo_case_keeps_its_analysis_and_names_nobody() {
    let dir = tempfile::tempdir().unwrap();
    let original_path = dir.path().join("demo.copkit");
    copkit::generate::demo_case(&original_path).unwrap();
    let copy_path = dir.path().join("training.copkit");

    let mut original = Case::open(&original_path, actor(), "OP-TRAINING").unwrap();
    let evidence_before = dump(&original);
    let report = original.pseudonymise(&copy_path).unwrap();
    assert_eq!(
        dump(&original),
        evidence_before,
        "the original's evidence is untouched"
    );
    let records = original.audit_records().unwrap();
    let disclosure = records.last().unwrap();
    assert_eq!(disclosure.category, "disclosure");
    assert_eq!(disclosure.seq, report.audit_seq);
    assert!(disclosure.details.contains(&report.case_id));
    assert!(disclosure.details.contains(&report.sha256));
    assert_eq!(common::sha256_file(&copy_path), report.sha256);
    let original_snap = original.snapshot().unwrap();
    let original_id = original.meta("case_id").unwrap().unwrap();
    drop(original);

    let mut copy = Case::open(&copy_path, actor(), "OP-TRAINING").unwrap();
    let copy_snap = copy.snapshot().unwrap();
    assert!(copy.is_training());
    assert_eq!(copy.meta("pseudonymised").unwrap().as_deref(), Some("true"));
    assert_ne!(copy.meta("case_id").unwrap().unwrap(), original_id);
    assert!(matches!(
        copy.verify_audit().unwrap(),
        ChainCheck::Intact { .. }
    ));
    assert_eq!(copy.undo_label().unwrap(), None);

    // Same structure.
    assert_eq!(copy_snap.entities.len(), original_snap.entities.len());
    assert_eq!(copy_snap.links.len(), original_snap.links.len());
    assert_eq!(copy_snap.events.len(), original_snap.events.len());
    for (a, b) in original_snap.links.iter().zip(&copy_snap.links) {
        assert_eq!(
            (a.id, a.source, a.target, &a.link_type),
            (b.id, b.source, b.target, &b.link_type)
        );
    }
    // Same analysis results: the PageRank ranking and the communities.
    assert_eq!(
        pagerank_ranking(&copy_snap),
        pagerank_ranking(&original_snap)
    );
    for component in ["louvain", "leiden"] {
        assert_eq!(
            partition(&copy_snap, component),
            partition(&original_snap, component),
            "{component}"
        );
    }

    // Times moved by one constant of whole weeks.
    let shifts: BTreeSet<i64> = original_snap
        .events
        .iter()
        .zip(&copy_snap.events)
        .map(|(a, b)| b.time.start_ms - a.time.start_ms)
        .collect();
    assert_eq!(shifts.len(), 1, "one constant shift");
    let shift = *shifts.first().unwrap();
    assert_ne!(shift, 0);
    assert_eq!(
        shift % (7 * 86_400_000),
        0,
        "whole weeks keep weekdays and hours"
    );

    // Consistent: a person's label is their pseudonymised first and last names, everywhere.
    let mut people = 0;
    for (a, b) in original_snap.entities.iter().zip(&copy_snap.entities) {
        assert_eq!(a.id, b.id);
        if a.entity_type != "Person" {
            continue;
        }
        let (Some(first), Some(last)) = (
            attribute(&copy_snap, b.id, "firstName"),
            attribute(&copy_snap, b.id, "lastName"),
        ) else {
            continue;
        };
        if attribute(&original_snap, a.id, "firstName")
            .zip(attribute(&original_snap, a.id, "lastName"))
            .is_some_and(|(f, l)| a.label == format!("{f} {l}"))
        {
            assert_eq!(b.label, format!("{first} {last}"));
            people += 1;
        }
        assert_ne!(a.label, b.label);
    }
    assert!(people > 100, "{people} people checked");
    // A phone's label and its number stay the same number.
    let phone = copy_snap
        .entities
        .iter()
        .find(|e| e.entity_type == "Phone")
        .unwrap();
    assert_eq!(
        attribute(&copy_snap, phone.id, "number").as_deref(),
        Some(phone.label.as_str())
    );
    drop(copy);

    // No original name, number or account in the copy's bytes, nor its case id or title.
    let bytes = std::fs::read(&copy_path).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    for e in &original_snap.entities {
        if matches!(
            e.entity_type.as_str(),
            "Person" | "Phone" | "BankAccount" | "Vehicle" | "Address"
        ) {
            assert!(!text.contains(&e.label), "'{}' is in the copy", e.label);
        }
    }
    assert!(!text.contains(&original_id));
    assert!(!text.contains("Training case: drug-trafficking"));
}

#[test]
fn the_command_line_lists_purges_and_pseudonymises() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut case) = temp_case(&dir, "cli.copkit");
    import(
        &mut case,
        BatchItems {
            batch: NewBatch {
                review_date: Some("2020-01-01".into()),
                ..batch("register")
            },
            entities: vec![NewEntity::new("Person", SECRET_NAME)],
            ..BatchItems::default()
        },
    )
    .unwrap();
    drop(case);
    let copkit = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_copkit"))
            .args(args)
            .args(["--purpose", "OP-CLI"])
            .output()
            .unwrap()
    };
    let case = path.to_str().unwrap();
    let out = copkit(&["review", case, "--due-by", "2024-12-31", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["entries"][0]["reference"], "B1");

    let copy = dir.path().join("copy.copkit");
    let out = copkit(&["pseudonymise", case, "--out", copy.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!file_contains(&copy, "Quixotic"));
    // The copy's own audit log covers its (rewritten) evidence: verify passes on it, and on
    // the original after the purge below.
    let out = copkit(&["audit", "verify", copy.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = copkit(&["pseudonymise", case, "--out", copy.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an existing file is never overwritten"
    );

    let out = copkit(&["purge", case, "--batch", "B1", "--reason", "rule 7"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("entities: 1"));
    assert!(!file_contains(&path, "Quixotic"));
    let out = copkit(&["audit", "verify", case]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = copkit(&["purge", case, "--batch", "B1", "--reason", "rule 7"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("B1 does not exist"));
    let out = copkit(&["purge", case, "--reason", "rule 7"]);
    assert_eq!(out.status.code(), Some(2), "a purge names a batch or items");
}

/// Every check of `audit verify` on the file, against this process's anchor log.
fn verify(path: &Path) -> copkit::store::VerifyReport {
    copkit::store::verify_case_file(
        path,
        &copkit::store::VerifyOptions {
            anchor_log: copkit::store::anchor::workstation().anchor_log,
            public_key: None,
        },
    )
    .unwrap()
}

/// A case with one person whose name and phone number were typed by hand (created, a value
/// added, then both edited), and one other person. Returns the path, the person, the other
/// person, the audit records that hold the typed values and the other person's record.
fn typed_case(dir: &tempfile::TempDir) -> (std::path::PathBuf, EntityId, EntityId, Vec<i64>, i64) {
    let (path, mut case) = temp_case(dir, "typed.copkit");
    let mut seqs = Vec::new();
    let created = case
        .apply(Command::CreateEntity {
            entity: NewEntity::new("Person", "Unknown man"),
        })
        .unwrap();
    seqs.push(created.audit_seq);
    let ItemRef::Entity(person) = created.created[0] else {
        panic!("an entity");
    };
    let added = case
        .apply(Command::AddAttribute {
            owner: ItemRef::Entity(person),
            attribute: NewAttribute::new("phone", "+31 6 11112222"),
        })
        .unwrap();
    seqs.push(added.audit_seq);
    let attribute: i64 = case
        .connection()
        .query_row(
            "SELECT id FROM attributes WHERE owner_id = ?1",
            [person.0],
            |r| r.get(0),
        )
        .unwrap();
    let edited = case
        .apply(Command::EditAttribute {
            id: AttributeId(attribute),
            value: SECRET_PHONE.into(),
            reason: "typo".into(),
        })
        .unwrap();
    seqs.push(edited.audit_seq);
    let named = case
        .apply(Command::EditEntity {
            id: person,
            label: Some(SECRET_NAME.into()),
            entity_type: None,
            source_id: None,
            reason: "identified".into(),
        })
        .unwrap();
    seqs.push(named.audit_seq);
    let other = case
        .apply(Command::CreateEntity {
            entity: NewEntity::new("Person", "Ordinary Kept-Person"),
        })
        .unwrap();
    let ItemRef::Entity(other_id) = other.created[0] else {
        panic!("an entity");
    };
    (path, person, other_id, seqs, other.audit_seq)
}

#[test]
fn a_value_typed_by_hand_is_erased_from_its_audit_records_and_the_chain_still_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (path, person, other, typed, _) = typed_case(&dir);
    let mut case = Case::open(&path, actor(), "retention").unwrap();
    let report = case
        .purge(
            &PurgeTarget::Items(vec![ItemRef::Entity(person)]),
            SharedEntities::Refuse,
            "court order 12/2025",
        )
        .unwrap();
    assert_eq!(report.audit_records_naming_erased, typed);
    assert_eq!(report.audit_payloads_erased, typed);
    assert!(report.audit_payloads_kept.is_empty());
    assert!(case.snapshot().unwrap().entity(person).is_none());
    assert!(case.snapshot().unwrap().entity(other).is_some());
    // Each erased record keeps the command's name and its evidence commitments, and names the
    // purge, whose own record lists it.
    let records = case.audit_records().unwrap();
    let purge = records.iter().find(|r| r.action == "purge").unwrap();
    let purge_details: serde_json::Value = serde_json::from_str(&purge.details).unwrap();
    assert_eq!(
        purge_details["audit_payloads_erased"],
        serde_json::json!(typed)
    );
    for seq in &typed {
        let r = records.iter().find(|r| r.seq == *seq).unwrap();
        let erased = r.erased_payload().unwrap();
        assert_eq!(erased.by_record, purge.seq);
        let details: serde_json::Value = serde_json::from_str(&r.details).unwrap();
        assert!(details["command"].is_string(), "{details}");
        assert!(details["evidence"].is_object(), "{details}");
    }
    drop(case);
    for value in [SECRET_NAME, SECRET_PHONE, "+31 6 11112222"] {
        assert!(!file_contains(&path, value), "{value} is still in the file");
    }
    assert!(file_contains(&path, "Ordinary Kept-Person"));
    assert!(!journal_exists(&path));
    let report = verify(&path);
    assert!(report.passed(), "{report:#?}");
    assert!(matches!(report.chain, ChainCheck::Intact { .. }));
}

#[test]
fn an_erasure_marker_no_purge_made_or_a_changed_marker_fails_verification() {
    use sha2::Digest as _;
    let dir = tempfile::tempdir().unwrap();
    let (path, person, _, typed, other_seq) = typed_case(&dir);
    let mut case = Case::open(&path, actor(), "retention").unwrap();
    case.purge(
        &PurgeTarget::Items(vec![ItemRef::Entity(person)]),
        SharedEntities::Refuse,
        "court order",
    )
    .unwrap();
    drop(case);
    // The append-only trigger stops any other change of a record, even its details.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let err = conn
        .execute(
            "UPDATE audit SET purpose = 'other' WHERE seq = ?1",
            [other_seq],
        )
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = conn
        .execute(
            "UPDATE audit SET details = '{}' WHERE seq = ?1",
            [other_seq],
        )
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    drop(conn);

    // Someone who knows the format hides a record's details behind a marker with the right
    // digest, naming the purge: the chain's hashes hold, but no purge lists that record.
    let copy = dir.path().join("hidden.copkit");
    std::fs::copy(&path, &copy).unwrap();
    let conn = rusqlite::Connection::open(&copy).unwrap();
    let (details, purge): (String, i64) = conn
        .query_row(
            "SELECT details, (SELECT seq FROM audit WHERE action = 'purge') FROM audit \
             WHERE seq = ?1",
            [other_seq],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let marker = serde_json::json!({"payload_erased": {
        "details_sha256": hex::encode(sha2::Sha256::digest(details.as_bytes())),
        "by_record": purge,
    }});
    conn.execute(
        "UPDATE audit SET details = ?1 WHERE seq = ?2",
        rusqlite::params![marker.to_string(), other_seq],
    )
    .unwrap();
    drop(conn);
    let report = verify(&copy);
    assert!(!report.passed());
    match &report.chain {
        ChainCheck::Broken { seq, reason } => {
            assert_eq!(*seq, other_seq);
            assert!(reason.contains("not a purge that erased it"), "{reason}");
        }
        intact => panic!("{intact:?}"),
    }

    // A marker whose digest was changed breaks the chain at that record.
    let copy = dir.path().join("changed.copkit");
    std::fs::copy(&path, &copy).unwrap();
    let conn = rusqlite::Connection::open(&copy).unwrap();
    conn.execute_batch("DROP TRIGGER audit_no_update").unwrap();
    conn.execute(
        "UPDATE audit SET details = replace(details, '\"details_sha256\":\"', \
         '\"details_sha256\":\"00') WHERE seq = ?1",
        [typed[1]],
    )
    .unwrap();
    drop(conn);
    let report = verify(&copy);
    assert!(
        matches!(&report.chain, ChainCheck::Broken { seq, .. } if *seq == typed[1]),
        "{:?}",
        report.chain
    );
}

#[test]
fn an_upgraded_case_keeps_its_old_records_and_erases_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.copkit");
    copkit::store::create_at_version(&path, 6, &actor()).unwrap();
    let mut case = Case::open(&path, actor(), "upgrade").unwrap();
    let records = case.audit_records().unwrap();
    assert_eq!(records[0].action, "create case");
    assert_eq!(
        records[0].hash_version, 1,
        "a record from format 6 keeps its hash"
    );
    assert_eq!(records[1].action, "upgrade case format");
    assert_eq!(records[1].hash_version, 2);
    assert!(matches!(
        case.verify_audit().unwrap(),
        ChainCheck::Intact { .. }
    ));
    let version: u32 = case
        .connection()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, copkit::store::SCHEMA_VERSION);
    // The old record's details stay out of reach even through the new trigger.
    let err = case
        .connection()
        .execute(
            "UPDATE audit SET details = '{\"payload_erased\":{\"details_sha256\":\"x\",\"by_record\":9}}' \
             WHERE seq = 1",
            [],
        )
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    let created = case
        .apply(Command::CreateEntity {
            entity: NewEntity::new("Person", SECRET_NAME),
        })
        .unwrap();
    let ItemRef::Entity(person) = created.created[0] else {
        panic!("an entity");
    };
    let report = case
        .purge(
            &PurgeTarget::Items(vec![ItemRef::Entity(person)]),
            SharedEntities::Refuse,
            "rule 4",
        )
        .unwrap();
    assert_eq!(report.audit_payloads_erased, vec![created.audit_seq]);
    drop(case);
    assert!(!file_contains(&path, SECRET_NAME));
    assert!(verify(&path).passed());
}
