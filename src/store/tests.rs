//! Unit tests of the case file: batches, deferred indexes, the saved chart.

use super::transact::BATCH_CACHE_KIB;
use super::*;

#[test]
fn a_saved_chart_comes_back_and_is_not_an_alteration() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.copkit");
    let actor = Actor {
        os_user: "tester".into(),
        analyst: "Test Analyst".into(),
    };
    let mut case = Case::create(&path, "c", actor.clone(), "test").unwrap();
    assert_eq!(case.chart().unwrap(), None);
    let (generation, audit) = (case.generation(), case.audit_records().unwrap().len());
    case.save_chart("{\"positions\":[]}").unwrap();
    case.save_chart("{\"positions\":[[1,2.5,-3.0]]}").unwrap();
    assert_eq!(case.generation(), generation);
    assert_eq!(case.audit_records().unwrap().len(), audit);
    drop(case);
    let case = Case::open_unrecorded(&path, actor, "test").unwrap();
    assert_eq!(
        case.chart().unwrap().as_deref(),
        Some("{\"positions\":[[1,2.5,-3.0]]}")
    );
    assert_eq!(case.generation(), generation);
    assert!(matches!(
        case.verify_audit().unwrap(),
        ChainCheck::Intact { .. }
    ));
}

#[test]
fn a_streamed_batch_gets_a_larger_page_cache_and_gives_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let actor = Actor {
        os_user: "tester".into(),
        analyst: "Test Analyst".into(),
    };
    let mut case = Case::create(&dir.path().join("c.copkit"), "c", actor, "test").unwrap();
    let cache = |case: &Case| -> i64 {
        case.conn
            .pragma_query_value(None, "cache_size", |r| r.get(0))
            .unwrap()
    };
    let before = cache(&case);
    let batch = NewBatch {
        kind: "manual".into(),
        description: "test".into(),
        ..Default::default()
    };
    let (_, during) = case
        .import_streamed(batch.clone(), |w| -> Result<i64, StoreError> {
            w.entity(crate::model::NewEntity::new("Person", "p"))?;
            Ok(w.conn
                .pragma_query_value(None, "cache_size", |r| r.get(0))?)
        })
        .unwrap();
    assert_eq!(during, -BATCH_CACHE_KIB);
    assert_eq!(cache(&case), before);
    assert_eq!(case.snapshot().unwrap().entities.len(), 1);
    // A failed batch writes nothing and restores the cache too.
    let failed = case.import_streamed(batch, |w| -> Result<(), StoreError> {
        w.entity(crate::model::NewEntity::new("Person", "q"))?;
        Err(StoreError::Invalid("stop".into()))
    });
    assert!(failed.is_err());
    assert_eq!(cache(&case), before);
    assert_eq!(case.snapshot().unwrap().entities.len(), 1);
}

/// Every row of the evidence tables and the index definitions, for comparing cases.
fn dump_tables(case: &Case) -> Vec<String> {
    let mut out = Vec::new();
    for table in [
        "entities",
        "attributes",
        "links",
        "events",
        "participants",
        "sqlite_sequence",
    ] {
        let mut stmt = case
            .conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY rowid"))
            .unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            let cells: Vec<String> = (0..n)
                .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                .collect();
            out.push(format!("{table}: {}", cells.join(" | ")));
        }
    }
    let mut stmt = case
        .conn
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name")
        .unwrap();
    let indexes = stmt
        .query_map([], |r| {
            Ok(format!(
                "index {}: {:?}",
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?
            ))
        })
        .unwrap();
    out.extend(indexes.map(Result::unwrap));
    out
}

/// Writes a batch of calls between phones matched on their numbers; `defer_after` sets
/// when the writer drops the indexes. Returns whether it had dropped them by the end.
fn write_calls(case: &mut Case, calls: i64, defer_after: u64) -> Result<bool, StoreError> {
    use crate::model::{
        EntityId, EventTime, NewAttribute, NewEntity, NewEvent, NewLink, NewParticipant,
        ParticipantRole,
    };
    let batch = NewBatch {
        kind: "import".into(),
        description: "calls".into(),
        ..Default::default()
    };
    let (_, deferred) = case.import_streamed(batch, |w| -> Result<bool, StoreError> {
        w.defer_indexes_after(defer_after);
        let phone = |w: &mut BatchWriter<'_>, n: i64| -> Result<EntityId, StoreError> {
            let number = format!("+4477009{n:05}");
            if let Some(id) = w.find_entity_by_identifier("Phone", "number", &number)? {
                return Ok(id);
            }
            w.entity(NewEntity::new("Phone", number.clone()).with("number", &number))
        };
        for i in 0..calls {
            let a = phone(w, i % 37)?;
            let b = phone(w, (i * 7 + 3) % 41)?;
            let mut ev = NewEvent::new(
                "Call",
                EventTime {
                    start_ms: i * 1000,
                    end_ms: Some(i * 1000 + 500),
                    original_text: None,
                    original_zone: None,
                },
            );
            ev.participants = vec![
                NewParticipant::new(ParticipantRole::From, a),
                NewParticipant::new(ParticipantRole::To, b),
            ];
            ev.attributes.push(NewAttribute::new("durationSecs", "0.5"));
            w.event(ev)?;
            if i % 10 == 0 {
                let mut l = NewLink::new("knows", a, b);
                l.attributes
                    .push(NewAttribute::new("note", format!("call {i}")));
                w.link(l)?;
            }
        }
        Ok(w.indexes_deferred())
    })?;
    Ok(deferred)
}

fn test_case(dir: &Path, name: &str) -> Case {
    let actor = Actor {
        os_user: "tester".into(),
        analyst: "Test Analyst".into(),
    };
    Case::create(&dir.join(name), "c", actor, "test").unwrap()
}

/// Every row `sql` selects, as tuples.
fn select<T>(case: &Case, sql: &str) -> Vec<T>
where
    T: for<'r> TryFrom<&'r rusqlite::Row<'r>, Error = rusqlite::Error>,
{
    let mut stmt = case.conn.prepare(sql).unwrap();
    stmt.query_map([], |r| T::try_from(r))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Chunks whose rows agree on all, some or none of the columns the writer binds once per
/// chunk (type, zone, file, grading, property) must store each row's own values.
#[test]
fn chunks_sharing_some_column_values_store_every_row_as_given() {
    use crate::model::{
        EventTime, Grading, NewAttribute, NewEntity, NewEvent, NewLink, NewParticipant,
        ParticipantRole,
    };
    let dir = tempfile::tempdir().unwrap();
    let mut case = test_case(dir.path(), "c.copkit");
    // Rows 0–63 agree on everything shared; later chunks differ in a pattern per column:
    // whether row `i` differs, from row `from` on, every `every` rows.
    let varies = |i: i64, from: i64, every: i64| i >= from && (i - from) % every == 0;
    let event_type = |i| ["Call", "Meeting"][usize::from(varies(i, 66, 3))];
    let zone = |i| ["UTC", "Europe/London"][usize::from(varies(i, 130, 5))];
    let file = |i| ["b.csv", "a.csv"][usize::from(varies(i, 192, 2))];
    let grading = |i: i64| {
        varies(i, 259, 7).then(|| Grading {
            scheme: "admiralty".into(),
            source: Some("B".into()),
            information: Some("2".into()),
            handling: None,
        })
    };
    let property = |i| ["durationSecs", "note"][usize::from(varies(i, 321, 2))];
    let batch = NewBatch {
        kind: "import".into(),
        description: "varied".into(),
        ..Default::default()
    };
    let n = 400;
    case.import_streamed(batch, |w| -> Result<(), StoreError> {
        let a = w.entity(NewEntity::new("Phone", "a"))?;
        let b = w.entity(NewEntity::new("Phone", "b"))?;
        for i in 0..n {
            let mut ev = NewEvent::new(
                event_type(i),
                EventTime {
                    start_ms: i * 1000,
                    end_ms: None,
                    original_text: Some(format!("t{i}")),
                    original_zone: Some(zone(i).into()),
                },
            );
            ev.provenance.source_file = Some(file(i).into());
            ev.provenance.record = Some(format!("line {i}"));
            ev.grading = grading(i);
            ev.participants = vec![
                NewParticipant::new(ParticipantRole::From, a),
                NewParticipant::new(ParticipantRole::To, b),
            ];
            let mut attr = NewAttribute::new(property(i), format!("{i}"));
            attr.provenance.source_file = Some(file(i).into());
            ev.attributes.push(attr);
            w.event(ev)?;
            let mut l = NewLink::new(event_type(i), a, b);
            l.directed = i % 4 != 0 || i < 64;
            l.provenance.source_file = Some(file(i).into());
            l.grading = grading(i);
            w.link(l)?;
        }
        Ok(())
    })
    .unwrap();
    let grade = |i: i64| grading(i).and_then(|g| g.source);
    let events: Vec<(String, String, String, String, String, Option<String>)> = select(
        &case,
        "SELECT type, time_text, time_zone, prov_file, prov_record, grade_source \
             FROM events ORDER BY id",
    );
    let expected: Vec<_> = (0..n)
        .map(|i| {
            (
                event_type(i).to_string(),
                format!("t{i}"),
                zone(i).to_string(),
                file(i).to_string(),
                format!("line {i}"),
                grade(i),
            )
        })
        .collect();
    assert_eq!(events, expected);
    let attributes: Vec<(String, String, String)> = select(
        &case,
        "SELECT a.property, a.value, a.prov_file FROM attributes a \
             JOIN events e ON a.owner_kind = 'event' AND a.owner_id = e.id ORDER BY e.id",
    );
    let expected: Vec<_> = (0..n)
        .map(|i| (property(i).to_string(), format!("{i}"), file(i).to_string()))
        .collect();
    assert_eq!(attributes, expected);
    let links: Vec<(String, bool, String, Option<String>)> = select(
        &case,
        "SELECT type, directed, prov_file, grade_source FROM links ORDER BY id",
    );
    let expected: Vec<_> = (0..n)
        .map(|i| {
            (
                event_type(i).to_string(),
                i % 4 != 0 || i < 64,
                file(i).to_string(),
                grade(i),
            )
        })
        .collect();
    assert_eq!(links, expected);
    let participants: i64 = case
        .conn
        .query_row("SELECT count(*) FROM participants", [], |r| r.get(0))
        .unwrap();
    assert_eq!(participants, 2 * n);
}

#[test]
fn a_large_batch_rebuilds_its_indexes_and_writes_what_a_small_one_writes() {
    let dir = tempfile::tempdir().unwrap();
    let mut plain = test_case(dir.path(), "plain.copkit");
    let mut bulk = test_case(dir.path(), "bulk.copkit");
    // A first batch, then a second one big enough (next to the case) to drop the
    // indexes part-way: identifiers from both batches must still be matched.
    for case in [&mut plain, &mut bulk] {
        assert!(!write_calls(case, 40, u64::MAX).unwrap());
    }
    assert!(!write_calls(&mut plain, 700, u64::MAX).unwrap());
    assert!(write_calls(&mut bulk, 700, 100).unwrap());
    let (p, b) = (dump_tables(&plain), dump_tables(&bulk));
    assert_eq!(p.len(), b.len());
    for (p, b) in p.iter().zip(&b) {
        assert_eq!(p, b);
    }
    // 78 phones at most (37 and 41 numbers, some shared), none duplicated.
    let phones: i64 = bulk
        .conn
        .query_row("SELECT count(*) FROM entities", [], |r| r.get(0))
        .unwrap();
    assert!(phones <= 78, "{phones} phones");
    assert_eq!(bulk.integrity_check().unwrap(), "ok");
    // Undo and redo of the big batch.
    let after = dump_tables(&bulk);
    bulk.undo().unwrap().unwrap();
    bulk.redo().unwrap().unwrap();
    assert_eq!(dump_tables(&bulk), after);
}

#[test]
fn a_failed_large_batch_leaves_the_case_and_its_indexes_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let mut case = test_case(dir.path(), "c.copkit");
    write_calls(&mut case, 30, u64::MAX).unwrap();
    let before = dump_tables(&case);
    let batch = NewBatch {
        kind: "import".into(),
        description: "fails".into(),
        ..Default::default()
    };
    let failed = case.import_streamed(batch, |w| -> Result<(), StoreError> {
        // More rows than the case holds, so that the indexes go.
        w.defer_indexes_after(10);
        for i in 0..400 {
            w.entity(crate::model::NewEntity::new("Person", format!("p{i}")))?;
        }
        assert!(w.indexes_deferred());
        Err(StoreError::Invalid("stop".into()))
    });
    assert!(failed.is_err());
    assert_eq!(dump_tables(&case), before);
    // The next batch works as usual, also in the deferred mode.
    assert!(write_calls(&mut case, 300, 100).unwrap());
    assert_eq!(case.integrity_check().unwrap(), "ok");
}

fn index_names(case: &Case) -> Vec<String> {
    let mut stmt = case
        .conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
        )
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn batches_written_with_deferred_indexes_end_like_batches_written_without() {
    let dir = tempfile::tempdir().unwrap();
    let mut plain = test_case(dir.path(), "plain.copkit");
    let mut deferred = test_case(dir.path(), "deferred.copkit");
    for _ in 0..2 {
        write_calls(&mut plain, 200, u64::MAX).unwrap();
    }
    let all_indexes = index_names(&deferred);
    deferred.defer_indexes().unwrap();
    let kept = index_names(&deferred);
    assert!(kept.len() < all_indexes.len(), "{kept:?}");
    assert!(kept.contains(&"attributes_normalized".to_string()));
    for _ in 0..2 {
        // The second batch matches its phones to the first's through the identifier index.
        write_calls(&mut deferred, 200, u64::MAX).unwrap();
    }
    deferred.restore_indexes().unwrap();
    assert_eq!(index_names(&deferred), all_indexes);
    assert_eq!(dump_tables(&deferred), dump_tables(&plain));
    assert_eq!(deferred.integrity_check().unwrap(), "ok");
    // Nothing left to restore.
    assert_eq!(deferred.deferred_indexes().unwrap(), None);
    deferred.restore_indexes().unwrap();
}

#[test]
fn opening_a_case_left_with_deferred_indexes_builds_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut case = test_case(dir.path(), "c.copkit");
    let all_indexes = index_names(&case);
    case.defer_indexes().unwrap();
    write_calls(&mut case, 50, u64::MAX).unwrap();
    let path = case.path.clone();
    // The writer stops without restoring (as after a crash).
    drop(case);
    let actor = Actor {
        os_user: "tester".into(),
        analyst: "Test Analyst".into(),
    };
    // Opening for `audit verify` writes nothing, so leaves them dropped.
    let unrecorded = Case::open_unrecorded(&path, actor.clone(), "test").unwrap();
    assert!(unrecorded.deferred_indexes().unwrap().is_some());
    drop(unrecorded);
    let reopened = Case::open(&path, actor, "test").unwrap();
    assert_eq!(index_names(&reopened), all_indexes);
    assert_eq!(reopened.deferred_indexes().unwrap(), None);
    assert_eq!(reopened.integrity_check().unwrap(), "ok");
}
