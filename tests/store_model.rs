//! Every model type round-trips through the case file, and undo and redo of every command
//! restore the exact prior state.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]

mod common;

use common::{BatchItems, actor, dump, temp_case};
use copkit::model::*;
use copkit::store::{Case, Command, NewBatch};

fn graded(scheme: &str, s: &str, i: &str, h: Option<&str>) -> Option<Grading> {
    Some(Grading {
        scheme: scheme.into(),
        source: Some(s.into()),
        information: Some(i.into()),
        handling: h.map(str::to_string),
    })
}

fn prov(file: &str, record: &str) -> Provenance {
    Provenance {
        batch: None,
        source_file: Some(file.into()),
        record: Some(record.into()),
    }
}

fn custom_scheme() -> GradingScheme {
    GradingScheme {
        key: "agency-3x3".into(),
        name: "Agency 3x3".into(),
        source_levels: vec![
            GradeLevel {
                code: "H".into(),
                description: "High".into(),
            },
            GradeLevel {
                code: "M".into(),
                description: "Medium".into(),
            },
            GradeLevel {
                code: "L".into(),
                description: "Low".into(),
            },
        ],
        information_levels: vec![
            GradeLevel {
                code: "x".into(),
                description: "Verified".into(),
            },
            GradeLevel {
                code: "y".into(),
                description: "Plausible".into(),
            },
            GradeLevel {
                code: "z".into(),
                description: "Unverified".into(),
            },
        ],
        handling_codes: vec![],
        no_dissemination_codes: vec![],
    }
}

fn drone_type() -> EntityTypeDef {
    EntityTypeDef {
        key: "Drone".into(),
        label: "Drone".into(),
        icon: "device".into(),
        ftm_schema: None,
        properties: vec![PropertyDef {
            key: "serial".into(),
            label: "Serial".into(),
            kind: PropertyKind::Identifier,
            ftm: None,
        }],
        builtin: false,
    }
}

/// A batch with one entity of every built-in type and a user type, links of every built-in
/// type, every strength and a user type, events of every built-in type and a user type with
/// every participant role, instants and intervals, grading under three schemes and none.
fn rich_batch() -> BatchItems {
    let types = [
        (
            "Person",
            vec![
                ("name", "Ana Novak"),
                ("alias", "La Jefa"),
                ("birthDate", "1982-05"),
                ("nationality", "si"),
                ("phone", "+386 40 123 456"),
            ],
        ),
        (
            "Organization",
            vec![
                ("name", "Novak Trading d.o.o."),
                ("registrationNumber", "0012345"),
                ("incorporationDate", "2011"),
            ],
        ),
        (
            "Phone",
            vec![("number", "0044 7700 900123"), ("imsi", "234150999999999")],
        ),
        ("Email", vec![("email", "Ana@Example.org")]),
        (
            "Address",
            vec![
                ("full", "Trg 1, Ljubljana"),
                ("latitude", "46.05"),
                ("longitude", "14.50"),
            ],
        ),
        (
            "Location",
            vec![
                ("latitude", "46.0569"),
                ("longitude", "14.5058"),
                ("cellId", "LJ-0042"),
            ],
        ),
        ("Vehicle", vec![("plate", "lj ab-123"), ("model", "Golf")]),
        (
            "BankAccount",
            vec![("iban", "SI56 1910 0000 0123 438"), ("bankName", "Bank")],
        ),
        ("Device", vec![("imei", "356938035643809")]),
        (
            "Document",
            vec![("title", "Ledger"), ("date", "2023-11-02")],
        ),
        (
            "OnlineAccount",
            vec![("username", "@jefa"), ("service", "Telegram")],
        ),
        ("Weapon", vec![("serial", "X-99"), ("calibre", "9mm")]),
        ("Drone", vec![("serial", "DJI-1")]),
    ];
    let gradings = [
        None,
        graded("admiralty", "B", "2", Some("OPEN")),
        graded("uk-3x5x2", "1", "A", Some("P")),
        graded("5x5x5", "C", "3", Some("4")),
        graded("agency-3x3", "M", "y", None),
    ];
    let mut batch = BatchItems {
        batch: NewBatch {
            kind: "import".into(),
            description: "round-trip fixture".into(),
            source_path: Some("/evidence/fixture.csv".into()),
            source_sha256: Some("ab".repeat(32)),
            source_bytes: Some(1234),
            spec: Some(serde_json::json!({"template": "entities"})),
            review_date: Some("2027-01-01".into()),
            grading: graded("admiralty", "B", "2", None),
        },
        ..Default::default()
    };
    for (i, (entity_type, attrs)) in types.iter().enumerate() {
        let mut e = NewEntity::new(*entity_type, format!("{entity_type} {i}"));
        e.source_id = Some(format!("src-{i}"));
        e.provenance = prov("fixture.csv", &format!("line {}", i + 2));
        e.grading = gradings[i % gradings.len()].clone();
        e.restricted = i % 4 == 3;
        if *entity_type == "Person" {
            e.category = Some(PersonCategory::ALL[i % 6]);
        }
        for (k, (p, v)) in attrs.iter().enumerate() {
            e.attributes.push(NewAttribute {
                property: (*p).into(),
                value: (*v).into(),
                provenance: prov("fixture.csv", &format!("line {}, column {k}", i + 2)),
                grading: gradings[(i + k) % gradings.len()].clone(),
            });
        }
        batch.entities.push(e);
    }
    let mut link_types: Vec<&str> = BUILTIN_LINK_TYPES.to_vec();
    link_types.push("launders_for");
    let strengths = [
        LinkStrength::Confirmed,
        LinkStrength::Tentative,
        LinkStrength::Unconfirmed,
    ];
    for (i, t) in link_types.iter().enumerate() {
        let mut l = NewLink::new(*t, EntityRef::New(i % 13), EntityRef::New((i + 1) % 13));
        l.directed = i % 2 == 0;
        l.strength = strengths[i % 3];
        l.weight = (i % 2 == 1).then_some(i as f64 * 0.5);
        l.label = Some(format!("{t} link"));
        l.source_id = Some(format!("edge-{i}"));
        l.restricted = i == 2;
        l.provenance = prov("fixture.csv", &format!("link row {i}"));
        l.grading = gradings[i % gradings.len()].clone();
        l.attributes.push(NewAttribute {
            property: "startDate".into(),
            value: "2020-01".into(),
            provenance: prov("fixture.csv", "link attr"),
            grading: None,
        });
        batch.links.push(l);
    }
    let mut event_types: Vec<&str> = BUILTIN_EVENT_TYPES.to_vec();
    event_types.push("Courier run");
    for (i, t) in event_types.iter().enumerate() {
        let start = 1_700_000_000_000 + i as i64 * 3_600_000;
        let mut ev = NewEvent::new(
            *t,
            EventTime {
                start_ms: start,
                end_ms: (i % 2 == 0).then_some(start + 125_000),
                original_text: Some(format!("14/11/2023 2{i}:13")),
                original_zone: Some("Europe/Ljubljana".into()),
            },
        );
        ev.participants = vec![
            NewParticipant::new(ParticipantRole::From, EntityRef::New(0)),
            NewParticipant::new(ParticipantRole::To, EntityRef::New(2)),
            NewParticipant::new(ParticipantRole::Participant, EntityRef::New(6)),
            NewParticipant::new(ParticipantRole::Location, EntityRef::New(5)),
        ];
        ev.source_id = Some(format!("cdr-{i}"));
        ev.restricted = i == 1;
        ev.provenance = prov("cdr.csv", &format!("line {i}"));
        ev.grading = gradings[(i + 1) % gradings.len()].clone();
        ev.attributes = vec![
            NewAttribute::new("duration", "125"),
            NewAttribute::new("amount", "9500.00"),
            NewAttribute::new("currency", "EUR"),
        ];
        batch.events.push(ev);
    }
    batch
}

#[test]
fn every_model_type_round_trips_through_the_case_file() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut case) = temp_case(&dir, "roundtrip.copkit");
    case.apply(Command::AddGradingScheme {
        scheme: custom_scheme(),
    })
    .unwrap();
    case.apply(Command::AddEntityType {
        definition: drone_type(),
    })
    .unwrap();
    let batch = rich_batch();
    let applied = common::import(&mut case, batch.clone()).unwrap();
    let batch_id = applied.batch.unwrap();
    drop(case);

    let mut case = Case::open(&path, actor(), "OP-TEST-1 review").unwrap();
    let snap = case.snapshot().unwrap();
    assert!(snap.scheme("agency-3x3").is_some());
    assert_eq!(
        snap.schema.entity_type("Drone").unwrap().properties[0].key,
        "serial"
    );
    assert_eq!(snap.entities.len(), batch.entities.len());
    assert_eq!(snap.links.len(), batch.links.len());
    assert_eq!(snap.events.len(), batch.events.len());

    let stamped = |p: &Provenance| Provenance {
        batch: Some(batch_id),
        ..p.clone()
    };
    for (stored, given) in snap.entities.iter().zip(&batch.entities) {
        assert_eq!(stored.entity_type, given.entity_type);
        assert_eq!(stored.label, given.label);
        assert_eq!(stored.source_id, given.source_id);
        assert_eq!(stored.category, given.category);
        assert_eq!(stored.restricted, given.restricted);
        assert_eq!(stored.grading, given.grading);
        assert_eq!(stored.provenance, stamped(&given.provenance));
        assert_eq!(stored.attributes.len(), given.attributes.len());
        for (a, g) in stored.attributes.iter().zip(&given.attributes) {
            assert_eq!(
                (a.property.as_str(), a.value.as_str()),
                (g.property.as_str(), g.value.as_str())
            );
            assert_eq!(a.grading, g.grading);
            assert_eq!(a.provenance, stamped(&g.provenance));
        }
    }
    // Identifiers are kept raw and get a normalised key; leading zeros survive.
    let phone = &snap.entities[2];
    assert_eq!(phone.attributes[0].value, "0044 7700 900123");
    assert_eq!(
        phone.attributes[0].normalized.as_deref(),
        Some("+447700900123")
    );
    let org = &snap.entities[1];
    assert_eq!(org.attributes[1].normalized.as_deref(), Some("0012345"));

    for (stored, given) in snap.links.iter().zip(&batch.links) {
        let EntityRef::New(s) = given.source else {
            panic!()
        };
        let EntityRef::New(t) = given.target else {
            panic!()
        };
        assert_eq!(stored.source, snap.entities[s].id);
        assert_eq!(stored.target, snap.entities[t].id);
        assert_eq!(stored.link_type, given.link_type);
        assert_eq!(stored.directed, given.directed);
        assert_eq!(stored.strength, given.strength);
        assert_eq!(stored.weight, given.weight);
        assert_eq!(stored.label, given.label);
        assert_eq!(stored.source_id, given.source_id);
        assert_eq!(stored.restricted, given.restricted);
        assert_eq!(stored.grading, given.grading);
        assert_eq!(stored.provenance, stamped(&given.provenance));
        assert_eq!(stored.attributes[0].value, "2020-01");
    }
    for (stored, given) in snap.events.iter().zip(&batch.events) {
        assert_eq!(stored.event_type, given.event_type);
        assert_eq!(stored.time, given.time);
        assert_eq!(stored.source_id, given.source_id);
        assert_eq!(stored.restricted, given.restricted);
        assert_eq!(stored.grading, given.grading);
        let roles: Vec<_> = stored.participants.iter().map(|p| p.role).collect();
        assert_eq!(
            roles,
            [
                ParticipantRole::From,
                ParticipantRole::To,
                ParticipantRole::Participant,
                ParticipantRole::Location
            ]
        );
        assert_eq!(stored.participants[0].entity, snap.entities[0].id);
        let attrs: Vec<_> = stored.attributes.iter().map(|a| a.value.as_str()).collect();
        assert_eq!(attrs, ["125", "9500.00", "EUR"]);
    }
    // Restricted links and links touching restricted entities stay out of the analysis graph.
    let usable = snap
        .links
        .iter()
        .filter(|l| {
            !l.restricted
                && !snap.entity(l.source).unwrap().restricted
                && !snap.entity(l.target).unwrap().restricted
        })
        .count();
    assert_eq!(snap.graph.edge_count(), usable);
    assert_eq!(snap.graph.node_count(), snap.entities.len());

    let info = case.info().unwrap();
    assert_eq!(info.batches.len(), 1);
    assert_eq!(
        info.batches[0].source_sha256.as_deref(),
        Some("ab".repeat(32).as_str())
    );
}

#[test]
fn invalid_items_are_refused_and_leave_the_case_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, mut case) = temp_case(&dir, "invalid.copkit");
    let before = dump(&case);
    let audit_before = case.audit_records().unwrap().len();
    let bad_commands = vec![
        Command::CreateEntity {
            entity: NewEntity::new("Spaceship", "x"),
        },
        Command::CreateEntity {
            entity: NewEntity::new("Person", "  "),
        },
        Command::CreateEntity {
            entity: NewEntity::new("Person", "x").with("birthDate", "1982-13"),
        },
        Command::CreateEntity {
            entity: NewEntity {
                grading: graded("admiralty", "G", "1", None),
                ..NewEntity::new("Person", "x")
            },
        },
        Command::CreateLink {
            link: NewLink::new("knows", EntityId(999), EntityId(998)),
        },
        Command::Delete {
            items: vec![ItemRef::Entity(EntityId(5))],
            reason: "gone".into(),
        },
    ];
    for command in bad_commands {
        let err = case.apply(command.clone()).unwrap_err();
        assert!(!err.to_string().is_empty());
        assert_eq!(dump(&case), before, "{command:?} changed the case");
    }
    let bad_batch = BatchItems {
        batch: NewBatch {
            kind: "import".into(),
            ..Default::default()
        },
        entities: vec![
            NewEntity::new("Person", "ok"),
            NewEntity::new("Nope", "bad"),
        ],
        ..Default::default()
    };
    let err = common::import(&mut case, bad_batch).unwrap_err();
    assert!(!err.to_string().is_empty());
    assert_eq!(dump(&case), before, "a refused batch changed the case");
    assert_eq!(
        case.audit_records().unwrap().len(),
        audit_before,
        "a refused command was audited"
    );
}

/// A change to check undo and redo on: a command, or an import batch.
enum Change {
    Command(Command),
    Batch(BatchItems),
}

/// Applies a change, then checks that undo restores the state before and redo the state after,
/// exactly, and that undo and redo are themselves audited.
fn check_undo_redo(case: &mut Case, change: impl Into<Change>) {
    let before = dump(case);
    let name = match change.into() {
        Change::Command(command) => {
            let name = command.action();
            case.apply(command)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            name
        }
        Change::Batch(items) => {
            common::import(case, items).unwrap_or_else(|e| panic!("import batch: {e}"));
            "import batch"
        }
    };
    let after = dump(case);
    assert_ne!(before, after, "{name} changed nothing");
    let audit_len = case.audit_records().unwrap().len();
    case.undo().unwrap().expect("an undo step");
    assert_eq!(
        dump(case),
        before,
        "undo of {name} did not restore the prior state"
    );
    case.redo().unwrap().expect("a redo step");
    assert_eq!(
        dump(case),
        after,
        "redo of {name} did not restore the later state"
    );
    let records = case.audit_records().unwrap();
    assert_eq!(records.len(), audit_len + 2);
    assert_eq!(records[records.len() - 2].action, "undo");
    assert_eq!(records[records.len() - 1].action, "redo");
}

#[test]
fn undo_and_redo_of_every_command_restore_the_exact_state() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, mut case) = temp_case(&dir, "undo.copkit");
    common::import(&mut case, rich_batch_without_custom()).unwrap();
    let snap = case.snapshot().unwrap();
    let e = |i: usize| snap.entities[i].id;
    let person = e(0);
    let phone = e(2);
    let attr = snap.entities[0].attributes[0].id;
    let link = snap.links[0].id;
    let event = snap.events[0].id;
    let reason = || "checked against the source".to_string();

    let commands = vec![
        Command::AddGradingScheme {
            scheme: custom_scheme(),
        },
        Command::AddEntityType {
            definition: drone_type(),
        },
        Command::CreateEntity {
            entity: NewEntity::new("Person", "Marko Horvat").with("alias", "Mare"),
        },
        Command::EditEntity {
            id: person,
            label: Some("Ana N.".into()),
            entity_type: None,
            source_id: Some(None),
            reason: reason(),
        },
        Command::SetCategory {
            ids: vec![person],
            category: Some(PersonCategory::Witness),
            reason: reason(),
        },
        Command::AddAttribute {
            owner: ItemRef::Link(link),
            attribute: NewAttribute::new("endDate", "2021"),
        },
        Command::EditAttribute {
            id: attr,
            value: "Ana Novak-Kos".into(),
            reason: reason(),
        },
        Command::RemoveAttribute {
            id: attr,
            reason: reason(),
        },
        Command::CreateLink {
            link: NewLink::new("uses", person, phone),
        },
        Command::EditLink {
            id: link,
            link_type: Some("family".into()),
            strength: Some(LinkStrength::Unconfirmed),
            directed: Some(true),
            weight: Some(Some(2.5)),
            reason: reason(),
        },
        Command::CreateEvent {
            event: NewEvent {
                participants: vec![NewParticipant::new(ParticipantRole::From, person)],
                ..NewEvent::new(
                    "Meeting",
                    EventTime {
                        start_ms: 0,
                        end_ms: Some(60_000),
                        original_text: None,
                        original_zone: None,
                    },
                )
            },
        },
        Command::SetGrading {
            items: vec![
                ItemRef::Entity(person),
                ItemRef::Link(link),
                ItemRef::Event(event),
            ],
            grading: graded("admiralty", "A", "1", Some("NODISSEM")),
            reason: reason(),
        },
        Command::SetGrading {
            items: vec![ItemRef::Entity(person)],
            grading: None,
            reason: reason(),
        },
        Command::SetAttributeGrading {
            ids: vec![snap.entities[1].attributes[0].id],
            grading: graded("uk-3x5x2", "2", "C", None),
            reason: reason(),
        },
        Command::SetRestricted {
            items: vec![ItemRef::Entity(phone), ItemRef::Event(event)],
            restricted: true,
            reason: reason(),
        },
        Command::Merge {
            keep: person,
            absorb: vec![e(1), e(4)],
            method: "manual".into(),
            reason: reason(),
        },
        Command::Delete {
            items: vec![
                ItemRef::Entity(phone),
                ItemRef::Link(snap.links[3].id),
                ItemRef::Event(snap.events[2].id),
            ],
            reason: reason(),
        },
    ];
    for command in commands {
        check_undo_redo(&mut case, command);
    }
    check_undo_redo(&mut case, Change::Batch(rich_batch_without_custom()));
    // Split needs a merge to split.
    case.apply(Command::Merge {
        keep: e(6),
        absorb: vec![e(7)],
        method: "manual".into(),
        reason: reason(),
    })
    .unwrap();
    check_undo_redo(
        &mut case,
        Command::Split {
            keep: e(6),
            absorbed: e(7),
            reason: reason(),
        },
    );
}

#[test]
fn split_restores_what_a_merge_moved() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, mut case) = temp_case(&dir, "split.copkit");
    common::import(&mut case, rich_batch_without_custom()).unwrap();
    let before = case.snapshot().unwrap();
    let (keep, absorbed) = (before.entities[0].id, before.entities[2].id);
    case.apply(Command::Merge {
        keep,
        absorb: vec![absorbed],
        method: "same phone".into(),
        reason: "duplicate".into(),
    })
    .unwrap();
    let merged = case.snapshot().unwrap();
    assert!(merged.entity(absorbed).is_none());
    assert!(
        merged
            .entity(keep)
            .unwrap()
            .values("alias")
            .any(|v| v == before.entities[2].label)
    );
    assert!(
        merged.events[0]
            .participants
            .iter()
            .all(|p| p.entity != absorbed)
    );
    case.apply(Command::Split {
        keep,
        absorbed,
        reason: "not the same person".into(),
    })
    .unwrap();
    let after = case.snapshot().unwrap();
    assert_eq!(after.entities, before.entities);
    assert_eq!(after.links, before.links);
    assert_eq!(after.events, before.events);
    assert_eq!(
        case.audit_records()
            .unwrap()
            .iter()
            .filter(|r| r.category == "combination")
            .count(),
        1
    );
}

#[test]
fn a_new_command_after_undo_ends_the_redo_branch_and_ids_are_never_reused() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, mut case) = temp_case(&dir, "branch.copkit");
    let first = case
        .apply(Command::CreateEntity {
            entity: NewEntity::new("Person", "A"),
        })
        .unwrap();
    case.undo().unwrap();
    assert_eq!(case.redo_label().unwrap().as_deref(), Some("create entity"));
    let second = case
        .apply(Command::CreateEntity {
            entity: NewEntity::new("Person", "B"),
        })
        .unwrap();
    assert_ne!(
        first.created, second.created,
        "an undone id was handed out again"
    );
    assert_eq!(case.redo_label().unwrap(), None);
    assert!(case.redo().unwrap().is_none());
    case.undo().unwrap();
    assert!(case.undo().unwrap().is_none());
}

#[test]
fn generations_increase_and_snapshots_are_shared_until_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, mut case) = temp_case(&dir, "gen.copkit");
    let a = case.snapshot().unwrap();
    let b = case.snapshot().unwrap();
    assert!(std::sync::Arc::ptr_eq(&a, &b));
    let applied = case
        .apply(Command::CreateEntity {
            entity: NewEntity::new("Phone", "+44 1"),
        })
        .unwrap();
    assert_eq!(applied.generation, a.generation + 1);
    let c = case.snapshot().unwrap();
    assert_eq!(c.generation, applied.generation);
    assert_eq!(c.entities.len(), a.entities.len() + 1);
    // The snapshot can go to another thread.
    let count = std::thread::spawn(move || c.entities.len()).join().unwrap();
    assert_eq!(count, 1);
}

impl From<Command> for Change {
    fn from(command: Command) -> Change {
        Change::Command(command)
    }
}

fn rich_batch_without_custom() -> BatchItems {
    let mut b = rich_batch();
    // Drop the user-defined type and the custom scheme so the batch fits a plain case.
    b.entities[12].entity_type = "Device".into();
    for e in &mut b.entities {
        if e.grading.as_ref().is_some_and(|g| g.scheme == "agency-3x3") {
            e.grading = None;
        }
        for a in &mut e.attributes {
            if a.grading.as_ref().is_some_and(|g| g.scheme == "agency-3x3") {
                a.grading = None;
            }
        }
    }
    for l in &mut b.links {
        if l.grading.as_ref().is_some_and(|g| g.scheme == "agency-3x3") {
            l.grading = None;
        }
    }
    for ev in &mut b.events {
        if ev
            .grading
            .as_ref()
            .is_some_and(|g| g.scheme == "agency-3x3")
        {
            ev.grading = None;
        }
    }
    b
}

#[test]
fn a_streamed_import_commits_whole_undoes_and_redoes_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, mut case) = temp_case(&dir, "stream.copkit");
    let existing = case
        .apply(Command::CreateEntity {
            entity: NewEntity::new("Phone", "+44 7700 900001").with("number", "+44 7700 900001"),
        })
        .unwrap();
    let ItemRef::Entity(existing) = existing.created[0] else {
        panic!()
    };
    let before = dump(&case);
    let meta = NewBatch {
        kind: "import".into(),
        description: "calls.csv".into(),
        source_sha256: Some("00".repeat(32)),
        ..Default::default()
    };
    let (applied, matched) = case
        .import_streamed(
            meta.clone(),
            |w| -> Result<Option<EntityId>, copkit::store::StoreError> {
                let matched = w.find_entity_by_identifier("Phone", "number", "+447700900001")?;
                let a = w.entity(
                    NewEntity::new("Phone", "+44 7700 900002").with("number", "+44 7700 900002"),
                )?;
                for i in 0..1000 {
                    let mut ev = NewEvent::new(
                        "Call",
                        EventTime {
                            start_ms: i * 1000,
                            end_ms: None,
                            original_text: None,
                            original_zone: None,
                        },
                    );
                    ev.participants = vec![
                        NewParticipant::new(ParticipantRole::From, a),
                        NewParticipant::new(ParticipantRole::To, existing),
                    ];
                    ev.attributes.push(NewAttribute::new("duration", "30"));
                    w.event(ev)?;
                }
                w.attribute(
                    ItemRef::Entity(existing),
                    NewAttribute::new("alias", "seen in calls.csv"),
                )?;
                Ok(matched)
            },
        )
        .unwrap();
    assert_eq!(matched, Some(existing));
    let after = dump(&case);
    let snap = case.snapshot().unwrap();
    assert_eq!(snap.events.len(), 1000);
    assert!(
        snap.events
            .iter()
            .all(|e| e.provenance.batch == applied.batch)
    );
    let info = case.info().unwrap();
    assert_eq!(info.batches[0].counts.as_ref().unwrap()["events"], 1000);
    assert_eq!(
        case.audit_records().unwrap().last().unwrap().action,
        "import batch"
    );

    case.undo().unwrap().unwrap();
    assert_eq!(dump(&case), before);
    case.redo().unwrap().unwrap();
    assert_eq!(dump(&case), after);
    case.undo().unwrap().unwrap();
    assert_eq!(dump(&case), before);
    case.redo().unwrap().unwrap();
    assert_eq!(dump(&case), after);

    // A failing import leaves nothing behind, not even its batch row or an audit record.
    let audit_len = case.audit_records().unwrap().len();
    let failed = case.import_streamed(meta, |w| -> Result<(), copkit::store::StoreError> {
        w.entity(NewEntity::new("Person", "half way"))?;
        w.entity(NewEntity::new("NoSuchType", "boom"))?;
        Ok(())
    });
    assert!(failed.is_err());
    assert_eq!(dump(&case), after);
    assert_eq!(case.audit_records().unwrap().len(), audit_len);
}

#[test]
fn an_items_audit_history_lists_what_was_done_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, mut case) = temp_case(&dir, "history.copkit");
    let a = case
        .apply(Command::CreateEntity {
            entity: NewEntity::new("Person", "A"),
        })
        .unwrap()
        .created[0];
    let b = case
        .apply(Command::CreateEntity {
            entity: NewEntity::new("Person", "B"),
        })
        .unwrap()
        .created[0];
    let (ItemRef::Entity(a_id), ItemRef::Entity(b_id)) = (a, b) else {
        panic!()
    };
    case.apply(Command::EditEntity {
        id: a_id,
        label: Some("A2".into()),
        entity_type: None,
        source_id: None,
        reason: "typo".into(),
    })
    .unwrap();
    case.apply(Command::SetGrading {
        items: vec![a],
        grading: graded("admiralty", "B", "2", None),
        reason: "assessed".into(),
    })
    .unwrap();
    case.undo().unwrap();
    case.apply(Command::Merge {
        keep: b_id,
        absorb: vec![a_id],
        method: "manual".into(),
        reason: "same".into(),
    })
    .unwrap();
    let actions: Vec<String> = case
        .audit_history(a)
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert_eq!(
        actions,
        [
            "create entity",
            "edit entity",
            "set grading",
            "undo",
            "merge entities"
        ]
    );
    let actions: Vec<String> = case
        .audit_history(b)
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert_eq!(actions, ["create entity", "merge entities"]);
}

/// A case written by the previous program (format 3, undo through SQLite session changesets;
/// made by tests/fixtures/v3-undo/make_fixture.rs.txt) keeps its whole undo history when it is
/// upgraded: the steps on the redo branch, a batch undone and one undone and redone.
#[test]
fn a_format_3_case_keeps_its_undo_and_redo_after_the_upgrade() {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v3-undo");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.copkit");
    std::fs::copy(fixture.join("case.copkit"), &path).unwrap();
    let recorded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture.join("states.json")).unwrap())
            .unwrap();
    let states: Vec<Vec<String>> = serde_json::from_value(recorded["states"].clone()).unwrap();
    let position = recorded["position"].as_u64().unwrap() as usize;
    let mut case = Case::open(&path, actor(), "upgrade test").unwrap();
    assert_eq!(
        case.info().unwrap().schema_version,
        copkit::store::SCHEMA_VERSION
    );
    // The states were recorded before format 5 added the review date.
    let dump = |case: &Case| {
        common::dump_except(
            case,
            &[
                "entities.review_date",
                "links.review_date",
                "events.review_date",
            ],
        )
    };
    let now = dump(&case);
    let differ: Vec<(&String, &String)> = now
        .iter()
        .zip(&states[position])
        .filter(|(a, b)| a != b)
        .collect();
    assert!(
        differ.is_empty() && now.len() == states[position].len(),
        "the upgrade changed the evidence: {} rows against {}; first difference {:.300?}",
        now.len(),
        states[position].len(),
        differ.first()
    );
    for (k, state) in states.iter().enumerate().skip(position + 1) {
        case.redo().unwrap().expect("a redo step");
        assert_eq!(&dump(&case), state, "redo to step {k}");
    }
    assert!(case.redo().unwrap().is_none());
    for k in (0..states.len() - 1).rev() {
        case.undo().unwrap().expect("an undo step");
        assert_eq!(dump(&case), states[k], "undo to step {k}");
    }
    assert!(case.undo().unwrap().is_none());
    for (k, state) in states.iter().enumerate().skip(1) {
        case.redo().unwrap().expect("a redo step");
        assert_eq!(&dump(&case), state, "redo again to step {k}");
    }
    assert!(matches!(
        case.verify_audit().unwrap(),
        copkit::store::ChainCheck::Intact { .. }
    ));
    // The upgrade wrote a backup of the old file first.
    assert_eq!(copkit::store::find_backups(&path).len(), 1);
}

/// Undo of a command comes from what its transaction captured; a batch captures nothing row
/// by row (it is undone by moving its rows aside), and a failed command leaves no capture.
#[test]
fn commands_record_their_changes_and_batches_record_none() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, mut case) = temp_case(&dir, "capture.copkit");
    let ops = |case: &Case| -> i64 {
        case.connection()
            .query_row("SELECT count(*) FROM undo_ops", [], |r| r.get(0))
            .unwrap()
    };
    common::import(&mut case, rich_batch_without_custom()).unwrap();
    assert_eq!(ops(&case), 0);
    let applied = case
        .apply(Command::CreateEntity {
            entity: NewEntity::new("Person", "Marko").with("alias", "Mare"),
        })
        .unwrap();
    // The entity and its attribute value.
    assert_eq!(ops(&case), 2);
    let record = case.audit_records().unwrap().pop().unwrap();
    assert_eq!(record.seq, applied.audit_seq);
    let details: serde_json::Value = serde_json::from_str(&record.details).unwrap();
    assert_eq!(details["changes"]["rows"], 2);
    assert_eq!(details["changes"]["sha256"].as_str().unwrap().len(), 64);
    let failed = case.apply(Command::CreateEntity {
        entity: NewEntity::new("Spaceship", "x"),
    });
    assert!(failed.is_err());
    assert_eq!(ops(&case), 2);
    // The triggers stay while commands follow one another, and go before a batch writes, so
    // that its rows do not each fire one.
    let triggers = |case: &Case| -> i64 {
        case.connection()
            .query_row(
                "SELECT count(*) FROM temp.sqlite_master WHERE type = 'trigger'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert!(triggers(&case) > 0);
    common::import(&mut case, rich_batch_without_custom()).unwrap();
    assert_eq!(
        triggers(&case),
        0,
        "capture triggers left on during a batch"
    );
    assert_eq!(ops(&case), 2);
    // The next command installs them again and records only its own change, not the rows
    // written since.
    case.apply(Command::CreateEntity {
        entity: NewEntity::new("Person", "Ana"),
    })
    .unwrap();
    assert_eq!(ops(&case), 3);
    case.undo().unwrap().unwrap();
    case.undo().unwrap().unwrap();
    case.redo().unwrap().unwrap();
    case.redo().unwrap().unwrap();
    assert_eq!(ops(&case), 3, "undo and redo captured rows");
}
