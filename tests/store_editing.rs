//! What an analyst adds by hand, through the store's commands: review dates, notes (with their
//! own source and grading), chart snapshots; each one transaction with its audit record,
//! undone and redone exactly, and carried through deletes, merges, splits and batch undo.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]

mod common;

use common::{BatchItems, dump, import, temp_case};
use copkit::model::*;
use copkit::store::{Case, Command, NewBatch, StoreError};

fn person(case: &mut Case, name: &str) -> EntityId {
    let applied = case
        .apply(Command::CreateEntity {
            entity: NewEntity::new("Person", name),
        })
        .unwrap();
    match applied.created[0] {
        ItemRef::Entity(id) => id,
        other => panic!("created {other:?}"),
    }
}

fn note(text: &str) -> NewNote {
    NewNote {
        text: text.into(),
        source_ref: Some("surveillance log 14, p. 3".into()),
        grading: Some(Grading {
            scheme: "admiralty".into(),
            source: Some("B".into()),
            information: Some("2".into()),
            handling: None,
        }),
    }
}

fn last_details(case: &Case) -> serde_json::Value {
    let records = case.audit_records().unwrap();
    serde_json::from_str(&records.last().unwrap().details).unwrap()
}

#[test]
fn a_review_date_is_set_checked_undone_and_redone() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, mut case) = temp_case(&dir, "review.copkit");
    let id = person(&mut case, "Ana Ruiz");
    let before = dump(&case);
    case.apply(Command::SetReviewDate {
        items: vec![ItemRef::Entity(id)],
        date: Some("2027-06-30".into()),
        reason: "retention rule 4".into(),
    })
    .unwrap();
    let snap = case.snapshot().unwrap();
    assert_eq!(
        snap.entity(id).unwrap().review_date.as_deref(),
        Some("2027-06-30")
    );
    assert_eq!(last_details(&case)["command"], "set_review_date");
    let after = dump(&case);

    let err = case
        .apply(Command::SetReviewDate {
            items: vec![ItemRef::Entity(id)],
            date: Some("30/06/2027".into()),
            reason: "typo".into(),
        })
        .unwrap_err();
    assert!(err.to_string().contains("YYYY-MM-DD"), "{err}");
    assert_eq!(dump(&case), after, "a refused command changes nothing");

    case.undo().unwrap();
    assert_eq!(dump(&case), before);
    case.redo().unwrap();
    assert_eq!(dump(&case), after);
}

#[test]
fn notes_are_added_edited_removed_and_each_step_undoes_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, mut case) = temp_case(&dir, "notes.copkit");
    let id = person(&mut case, "Ana Ruiz");
    let empty = dump(&case);
    let applied = case
        .apply(Command::AddNote {
            owner: ItemRef::Entity(id),
            note: note("Seen at the harbour on two nights"),
        })
        .unwrap();
    let note_id = applied.made.note.expect("the note's id");
    let snap = case.snapshot().unwrap();
    let notes = &snap.entity(id).unwrap().notes;
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].id, note_id);
    assert_eq!(notes[0].text, "Seen at the harbour on two nights");
    assert_eq!(
        notes[0].source_ref.as_deref(),
        Some("surveillance log 14, p. 3")
    );
    assert_eq!(notes[0].grading.as_ref().unwrap().to_string(), "B2");
    assert_eq!(notes[0].analyst, "Test Analyst (tester)");
    assert_eq!(last_details(&case)["command"], "add_note");
    let added = dump(&case);

    case.apply(Command::EditNote {
        id: note_id,
        text: Some("Seen at the harbour on three nights".into()),
        source_ref: None,
        grading: Some(None),
        reason: "third night in log 15".into(),
    })
    .unwrap();
    let snap = case.snapshot().unwrap();
    let edited = &snap.entity(id).unwrap().notes[0];
    assert_eq!(edited.text, "Seen at the harbour on three nights");
    assert_eq!(edited.grading, None);
    assert_eq!(
        last_details(&case)["result"]["before"]["text"],
        "Seen at the harbour on two nights"
    );

    let err = case
        .apply(Command::EditNote {
            id: note_id,
            text: Some("  ".into()),
            source_ref: None,
            grading: None,
            reason: "empty".into(),
        })
        .unwrap_err();
    assert!(err.to_string().contains("remove it instead"), "{err}");

    case.apply(Command::RemoveNote {
        id: note_id,
        reason: "wrong person".into(),
    })
    .unwrap();
    assert!(
        case.snapshot()
            .unwrap()
            .entity(id)
            .unwrap()
            .notes
            .is_empty()
    );

    case.undo().unwrap(); // the removal
    case.undo().unwrap(); // the edit
    assert_eq!(dump(&case), added);
    case.undo().unwrap(); // the note
    assert_eq!(dump(&case), empty);
    case.redo().unwrap();
    assert_eq!(dump(&case), added);
}

#[test]
fn deleting_an_item_takes_its_notes_and_undo_brings_them_back() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, mut case) = temp_case(&dir, "delete.copkit");
    let id = person(&mut case, "Ana Ruiz");
    case.apply(Command::AddNote {
        owner: ItemRef::Entity(id),
        note: note("a hunch"),
    })
    .unwrap();
    let with_note = dump(&case);
    case.apply(Command::Delete {
        items: vec![ItemRef::Entity(id)],
        reason: "entered twice".into(),
    })
    .unwrap();
    let count: i64 = case
        .connection()
        .query_row("SELECT count(*) FROM notes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 0, "no note is left without its item");
    case.undo().unwrap();
    assert_eq!(dump(&case), with_note);
}

#[test]
fn a_merge_moves_notes_and_the_split_gives_back_notes_and_review_date() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, mut case) = temp_case(&dir, "merge.copkit");
    let keep = person(&mut case, "Ana Ruiz");
    let other = person(&mut case, "A. Ruiz");
    case.apply(Command::AddNote {
        owner: ItemRef::Entity(other),
        note: note("uses the name A. Ruiz at the bank"),
    })
    .unwrap();
    case.apply(Command::SetReviewDate {
        items: vec![ItemRef::Entity(other)],
        date: Some("2028-01-31".into()),
        reason: "retention".into(),
    })
    .unwrap();
    let before_merge = case.snapshot().unwrap();
    case.apply(Command::Merge {
        keep,
        absorb: vec![other],
        method: "manual".into(),
        reason: "same person".into(),
    })
    .unwrap();
    let merged = case.snapshot().unwrap();
    assert!(merged.entity(other).is_none());
    assert_eq!(merged.entity(keep).unwrap().notes.len(), 1);

    case.apply(Command::Split {
        keep,
        absorbed: other,
        reason: "not the same after all".into(),
    })
    .unwrap();
    let split = case.snapshot().unwrap();
    let back = split.entity(other).unwrap();
    let was = before_merge.entity(other).unwrap();
    assert_eq!(back.label, was.label);
    assert_eq!(back.provenance, was.provenance);
    assert_eq!(back.review_date.as_deref(), Some("2028-01-31"));
    assert_eq!(back.notes, was.notes);
    assert!(split.entity(keep).unwrap().notes.is_empty());
}

#[test]
fn a_note_on_an_imported_item_is_undone_before_its_batch_and_both_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, mut case) = temp_case(&dir, "batch.copkit");
    let applied = import(
        &mut case,
        BatchItems {
            batch: NewBatch {
                kind: "import".into(),
                description: "a list".into(),
                ..NewBatch::default()
            },
            entities: vec![NewEntity::new("Person", "Ana Ruiz")],
            ..BatchItems::default()
        },
    )
    .unwrap();
    assert!(applied.batch.is_some());
    let id = case.snapshot().unwrap().entities[0].id;
    case.apply(Command::AddNote {
        owner: ItemRef::Entity(id),
        note: note("a note on an imported person"),
    })
    .unwrap();
    let with_note = dump(&case);
    // One history: the note's step is undone first, then the batch's.
    case.undo().unwrap();
    assert!(case.snapshot().unwrap().entities[0].notes.is_empty());
    case.undo().unwrap();
    assert!(case.snapshot().unwrap().entities.is_empty());
    case.redo().unwrap();
    case.redo().unwrap();
    assert_eq!(dump(&case), with_note);
}

#[test]
fn chart_snapshots_are_kept_listed_read_back_and_removed_with_their_digest_audited() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, mut case) = temp_case(&dir, "charts.copkit");
    let chart = serde_json::json!({"positions": [[1.0, 2.0]], "on_chart": [1]});
    let applied = case
        .apply(Command::SaveChartSnapshot {
            name: "before the raid".into(),
            chart: chart.clone(),
        })
        .unwrap();
    let id = applied.made.chart_snapshot.expect("the snapshot's id");
    let snap = case.snapshot().unwrap();
    assert_eq!(snap.chart_snapshots.len(), 1);
    assert_eq!(snap.chart_snapshots[0].name, "before the raid");
    assert_eq!(case.chart_snapshot(id).unwrap(), chart);
    let details = last_details(&case);
    assert_eq!(details["name"], "before the raid");
    assert!(details["chart"]["sha256"].as_str().unwrap().len() == 64);
    assert!(details.get("positions").is_none() && details["chart"].get("positions").is_none());

    let err = case
        .apply(Command::SaveChartSnapshot {
            name: " ".into(),
            chart: chart.clone(),
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");

    case.apply(Command::RemoveChartSnapshot {
        id,
        reason: "superseded".into(),
    })
    .unwrap();
    assert!(case.snapshot().unwrap().chart_snapshots.is_empty());
    case.undo().unwrap();
    assert_eq!(case.chart_snapshot(id).unwrap(), chart);
}

#[test]
fn a_format_4_case_is_upgraded_with_notes_and_review_dates_that_follow_batch_undo() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v4.copkit");
    copkit::store::create_at_version(&path, 4, &common::actor()).unwrap();
    let mut case = Case::open(&path, common::actor(), "upgrade").unwrap();
    import(
        &mut case,
        BatchItems {
            batch: NewBatch {
                kind: "import".into(),
                description: "people".into(),
                ..NewBatch::default()
            },
            entities: vec![NewEntity::new("Person", "Ana Ruiz")],
            ..BatchItems::default()
        },
    )
    .unwrap();
    let id = case.snapshot().unwrap().entities[0].id;
    case.apply(Command::SetReviewDate {
        items: vec![ItemRef::Entity(id)],
        date: Some("2027-01-01".into()),
        reason: "retention".into(),
    })
    .unwrap();
    let dated = dump(&case);
    // Undo the date, then the batch: its rows (with the review-date column) go to the shadow
    // tables and come back as they were.
    case.undo().unwrap();
    case.undo().unwrap();
    case.redo().unwrap();
    case.redo().unwrap();
    assert_eq!(dump(&case), dated);
}
