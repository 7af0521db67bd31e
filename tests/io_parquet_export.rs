//! Parquet export of the case: a new folder of flat tables (entities, links, events,
//! participants, attributes) that pyarrow and DuckDB read, with typed UTC timestamps, grading
//! and provenance columns, ids that join across tables; and our own Parquet import reads the
//! entities table back through a mapping spec.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code stops loudly where an expectation fails"
)]

mod common;

use common::{BatchItems, python_has, temp_case};
use copkit::io::csv::CsvOptions;
use copkit::io::export::{ExportFormat, ExportReport, ExportRequest};
use copkit::io::{IoError, MappingSpec};
use copkit::jobs::{CancelToken, NoProgress};
use copkit::model::*;
use copkit::store::{Case, NewBatch};
use std::path::Path;

fn graded(s: &str, i: &str, h: Option<&str>) -> Option<Grading> {
    Some(Grading {
        scheme: "admiralty".into(),
        source: Some(s.into()),
        information: Some(i.into()),
        handling: h.map(str::to_string),
    })
}

/// Three entities (and a restricted fourth, which must not go out), two links, two events
/// (an instant call and a meeting with an end), attributes on all three kinds, gradings.
fn seed(case: &mut Case) {
    let prov = Provenance {
        batch: None,
        source_file: Some("notes.csv".into()),
        record: Some("line 7".into()),
    };
    let mut ana = NewEntity::new("Person", "Ana Novak");
    ana.source_id = Some("p-ana".into());
    ana.category = Some(PersonCategory::Suspect);
    ana.grading = graded("B", "2", None);
    ana.provenance = prov.clone();
    ana.attributes.push(NewAttribute {
        property: "phone".into(),
        value: "+44 7700 900123".into(),
        provenance: prov.clone(),
        grading: graded("C", "3", None),
    });
    ana.attributes
        .push(NewAttribute::new("birthDate", "1982-05"));
    let acme = NewEntity::new("Organization", "Acme & Sons").with("registrationNumber", "0012345");
    let phone = NewEntity::new("Phone", "+44 7700 900456").with("number", "+44 7700 900456");
    let mut hidden = NewEntity::new("Person", "Hidden Witness");
    hidden.restricted = true;
    let mut works = NewLink::new("employed_by", EntityRef::New(0), EntityRef::New(1));
    works.directed = true;
    works.weight = Some(2.5);
    works.strength = LinkStrength::Tentative;
    works.label = Some("since 2020".into());
    works.grading = graded("A", "1", Some("OPEN"));
    works.provenance = prov.clone();
    works
        .attributes
        .push(NewAttribute::new("startDate", "2020-01"));
    let uses = NewLink::new("uses", EntityRef::New(0), EntityRef::New(2));
    let mut call = NewEvent::new(
        "Call",
        EventTime {
            start_ms: 1_709_287_200_000, // 2024-03-01T10:00:00Z
            end_ms: None,
            original_text: Some("01/03/2024 11:00".into()),
            original_zone: Some("Europe/Ljubljana".into()),
        },
    );
    call.participants = vec![
        NewParticipant::new(ParticipantRole::From, EntityRef::New(0)),
        NewParticipant::new(ParticipantRole::To, EntityRef::New(2)),
    ];
    call.attributes
        .push(NewAttribute::new("durationSecs", "120"));
    call.grading = graded("B", "2", None);
    let mut meeting = NewEvent::new(
        "Meeting",
        EventTime {
            start_ms: 1_709_301_600_000, // 2024-03-01T14:00:00Z
            end_ms: Some(1_709_305_200_000),
            original_text: None,
            original_zone: None,
        },
    );
    meeting.participants = vec![
        NewParticipant::new(ParticipantRole::Participant, EntityRef::New(0)),
        NewParticipant::new(ParticipantRole::Participant, EntityRef::New(1)),
    ];
    common::import(
        case,
        BatchItems {
            batch: NewBatch {
                kind: "import".into(),
                description: "seed".into(),
                ..NewBatch::default()
            },
            entities: vec![ana, acme, phone, hidden],
            links: vec![works, uses],
            events: vec![call, meeting],
        },
    )
    .unwrap();
}

fn export_parquet(case: &mut Case, out: &Path) -> Result<ExportReport, IoError> {
    copkit::io::export::export(
        case,
        &ExportRequest {
            format: ExportFormat::Parquet,
            out: out.to_path_buf(),
            recipient: "Data lake".into(),
            override_reason: None,
            only: None,
        },
        &CancelToken::new(),
        &NoProgress,
    )
}

fn python(code: &str, dir: &Path) -> String {
    let out = std::process::Command::new("python3")
        .args(["-c", code, dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the reader refused the tables: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn parquet_folder_holds_every_table_and_refuses_an_existing_path() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    seed(&mut case);
    let out = dir.path().join("lake");
    let rep = export_parquet(&mut case, &out).unwrap();
    let m = &rep.manifest;
    assert_eq!((m.entities, m.links, m.events), (3, 2, 2));
    assert_eq!(m.skipped_restricted, 1);
    assert!(m.not_exported.is_empty(), "{:?}", m.not_exported);
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // No temporary file left, only the five complete tables.
    assert_eq!(
        names,
        [
            "attributes.parquet",
            "entities.parquet",
            "events.parquet",
            "links.parquet",
            "participants.parquet"
        ]
    );
    assert_eq!(m.outputs.len(), 5, "each table hashed in the manifest");
    for (path, hash) in &m.outputs {
        assert_eq!(&common::sha256_file(Path::new(path)), hash);
        assert!(std::fs::read(path).unwrap().starts_with(b"PAR1"));
    }
    // The same folder again: refused, nothing changed.
    let before = common::sha256_file(&out.join("entities.parquet"));
    let err = export_parquet(&mut case, &out).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    assert_eq!(common::sha256_file(&out.join("entities.parquet")), before);
}

#[test]
fn our_parquet_import_reads_the_entities_table_back() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    seed(&mut case);
    let out = dir.path().join("lake");
    export_parquet(&mut case, &out).unwrap();
    let spec = MappingSpec::from_toml(
        "name = \"copkit-entities\"\n\
         [[entities]]\n\
         key = \"entity\"\n\
         type = \"Person\"\n\
         type_column = \"type\"\n\
         id = \"id\"\n\
         label = \"label\"\n",
    )
    .unwrap();
    let (_, mut other) = temp_case(&dir, "d.copkit");
    let r = copkit::io::parquet::import_parquet(
        &mut other,
        &out.join("entities.parquet"),
        &spec,
        &CsvOptions::default(),
        &CancelToken::new(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(r.entities_created, 3, "{}", r.to_text());
    let pairs = |c: &mut Case| {
        let mut v: Vec<(String, String)> = c
            .snapshot()
            .unwrap()
            .entities
            .iter()
            .filter(|e| !e.restricted)
            .map(|e| (e.entity_type.clone(), e.label.clone()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(pairs(&mut other), pairs(&mut case));
}

#[test]
fn pyarrow_and_duckdb_read_the_tables_with_typed_times_and_joinable_ids() {
    if !python_has("pyarrow, duckdb") {
        eprintln!(
            "SKIPPED: python3 with pyarrow and duckdb is needed (pip install pyarrow duckdb)"
        );
        assert!(
            std::env::var_os("CI").is_none(),
            "the CI must have pyarrow and duckdb for this test"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    seed(&mut case);
    let out = dir.path().join("lake");
    export_parquet(&mut case, &out).unwrap();
    let arrow = python(
        "import sys, os, pyarrow.parquet as pq\n\
         d = sys.argv[1]\n\
         for t in ['entities', 'links', 'events', 'participants', 'attributes']:\n\
         \x20   print(t, pq.read_table(os.path.join(d, t + '.parquet')).num_rows)\n\
         ev = pq.read_table(os.path.join(d, 'events.parquet'))\n\
         print(ev.schema.field('start').type, ev.schema.field('end').type)\n\
         rows = sorted(ev.to_pylist(), key=lambda r: r['start'])\n\
         print(rows[0]['type'], rows[0]['start'].isoformat(), rows[0]['end'], rows[0]['original_time'], rows[0]['original_zone'], rows[0]['grade_source'] + rows[0]['grade_information'])\n\
         print(rows[1]['type'], rows[1]['start'].isoformat(), rows[1]['end'].isoformat())\n\
         en = {r['label']: r for r in pq.read_table(os.path.join(d, 'entities.parquet')).to_pylist()}\n\
         a = en['Ana Novak']\n\
         print(a['type'], a['source_id'], a['category'], a['restricted'], a['grade_scheme'], a['grade_source'], a['grade_information'], a['grade_handling'], a['provenance_source_file'], a['provenance_record'], a['provenance_batch'] is not None)\n\
         ln = pq.read_table(os.path.join(d, 'links.parquet'))\n\
         print(ln.schema.field('weight').type, ln.schema.field('directed').type)\n\
         at = pq.read_table(os.path.join(d, 'attributes.parquet')).to_pylist()\n\
         ph = [r for r in at if r['property'] == 'phone'][0]\n\
         print(ph['owner_kind'], ph['owner_id'] == a['id'], ph['value'], ph['normalized'], ph['grade_source'] + ph['grade_information'])\n\
         print(sorted({r['owner_kind'] for r in at}))",
        &out,
    );
    assert_eq!(
        arrow,
        "entities 3\n\
         links 2\n\
         events 2\n\
         participants 4\n\
         attributes 6\n\
         timestamp[ms, tz=UTC] timestamp[ms, tz=UTC]\n\
         Call 2024-03-01T10:00:00+00:00 None 01/03/2024 11:00 Europe/Ljubljana B2\n\
         Meeting 2024-03-01T14:00:00+00:00 2024-03-01T15:00:00+00:00\n\
         Person p-ana suspect False admiralty B 2 None notes.csv line 7 True\n\
         double bool\n\
         entity True +44 7700 900123 +447700900123 C3\n\
         ['entity', 'event', 'link']"
    );
    let duck = python(
        "import sys, duckdb\n\
         d = sys.argv[1]\n\
         q = lambda s: duckdb.sql(s.replace('DIR', d)).fetchall()\n\
         print(q(\"select count(*) from read_parquet('DIR/*.parquet', union_by_name=true)\")[0][0])\n\
         for row in q(\"select l.type, s.label, t.label, l.weight, l.strength from 'DIR/links.parquet' l join 'DIR/entities.parquet' s on l.source = s.id join 'DIR/entities.parquet' t on l.target = t.id order by l.type\"):\n\
         \x20   print(*row)\n\
         print(q(\"select typeof(start), epoch_ms(start) from 'DIR/events.parquet' order by start limit 1\")[0])\n\
         print(q(\"select e.label, count(*) from 'DIR/participants.parquet' p join 'DIR/entities.parquet' e on p.entity = e.id group by e.label order by e.label\"))",
        &out,
    );
    assert_eq!(
        duck,
        "17\n\
         employed_by Ana Novak Acme & Sons 2.5 tentative\n\
         uses Ana Novak +44 7700 900456 None confirmed\n\
         ('TIMESTAMP WITH TIME ZONE', 1709287200000)\n\
         [('+44 7700 900456', 1), ('Acme & Sons', 1), ('Ana Novak', 2)]"
    );
}
