//! Hand edits from the command line as a script runs them: `copkit add`, `set`, `note`,
//! `delete`, `split`, `undo`, `redo`, `types` and `schemes`, each printing the ids it made and
//! leaving its audit record; a custom type and scheme used by an import; a spec with a misspelt
//! key refused with the suggestion.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]

mod common;

use copkit::model::{EntityId, ItemRef};
use copkit::store::{Case, Command};
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Output, Stdio};

fn copkit(args: &[&str]) -> Output {
    Process::new(env!("CARGO_BIN_EXE_copkit"))
        .args(args)
        .env("COPKIT_ANALYST", "CLI Tester")
        .stdin(Stdio::null())
        .output()
        .expect("run copkit")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs copkit, expects success, returns what it printed.
fn ok(args: &[&str]) -> String {
    let out = copkit(args);
    assert!(
        out.status.success(),
        "copkit {args:?} failed: {}",
        text(&out)
    );
    text(&out)
}

/// The id at the end of "Created entity E3".
fn made(printed: &str) -> String {
    printed
        .split_whitespace()
        .last()
        .unwrap_or_default()
        .to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn new_case(dir: &tempfile::TempDir) -> PathBuf {
    let case = dir.path().join("hand.copkit");
    ok(&[
        "new",
        s(&case),
        "--title",
        "Hand edits",
        "--purpose",
        "OP-1",
    ]);
    case
}

fn open(case: &Path) -> Case {
    Case::open(case, common::actor(), "check").unwrap()
}

/// The audit log's actions, oldest first.
fn actions(case: &Path) -> Vec<String> {
    let c = open(case);
    c.audit_records()
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect()
}

#[test]
fn an_entity_link_and_event_made_by_hand_are_graded_restricted_noted_undone_and_redone() {
    let dir = tempfile::tempdir().unwrap();
    let case = new_case(&dir);
    let c = s(&case);
    let p = ["--purpose", "OP-1"];

    let out = ok(&[
        &[
            "add",
            "entity",
            c,
            "--type",
            "person",
            "--label",
            "Ada Brook",
        ],
        &[
            "--category",
            "suspect",
            "--attr",
            "nationality=GB",
            "--source-ref",
            "surveillance log 14/03",
            "--grade",
            "B2",
            "--handling",
            "OPEN",
            "--reason",
            "entered from the surveillance log",
        ][..],
        &p[..],
    ]
    .concat());
    assert!(out.contains("Created entity"), "{out}");
    let ada = made(&out);
    let phone = made(&ok(&[
        &[
            "add",
            "entity",
            c,
            "--type",
            "Phone",
            "--label",
            "+447700900001",
        ][..],
        &p[..],
    ]
    .concat()));
    let link = made(&ok(&[
        &[
            "add", "link", c, "--from", &ada, "--to", &phone, "--type", "uses",
        ][..],
        &["--directed", "--strength", "tentative", "--grade", "C3"][..],
        &p[..],
    ]
    .concat()));
    assert!(link.starts_with('L'), "{link}");
    let event = made(&ok(&[
        &[
            "add",
            "event",
            c,
            "--type",
            "Meeting",
            "--time",
            "2024-03-01 10:00",
        ][..],
        &[
            "--zone",
            "Europe/London",
            "--participant",
            &ada,
            "--participant",
            &phone,
        ][..],
        &p[..],
    ]
    .concat()));
    assert!(event.starts_with('V'), "{event}");

    // Grade, restrict, review date, category, note.
    ok(&[
        &[
            "set",
            c,
            &link,
            "--grade",
            "A1",
            "--reason",
            "confirmed by the operator",
        ][..],
        &p[..],
    ]
    .concat());
    ok(&[
        &[
            "set",
            c,
            &ada,
            "--restricted",
            "true",
            "--reason",
            "source protection",
        ][..],
        &p[..],
    ]
    .concat());
    ok(&[
        &[
            "set",
            c,
            &event,
            "--review-date",
            "2027-01-31",
            "--reason",
            "retention rule 4",
        ][..],
        &p[..],
    ]
    .concat());
    ok(&[
        &[
            "set",
            c,
            &ada,
            "--category",
            "witness",
            "--reason",
            "statement of 2 March",
        ][..],
        &p[..],
    ]
    .concat());
    let note = ok(&[
        &[
            "note",
            c,
            &ada,
            "--text",
            "Seen with the courier at the port",
        ][..],
        &["--source-ref", "report 7", "--grade", "B2"][..],
        &p[..],
    ]
    .concat());
    assert!(note.contains("Added note N"), "{note}");

    let mut check = open(&case);
    let snap = check.snapshot().unwrap();
    let ada_id: EntityId = match ada.parse::<copkit::model::AnyId>().unwrap() {
        copkit::model::AnyId::Item(ItemRef::Entity(e)) => e,
        other => panic!("{other}"),
    };
    let e = snap.entity(ada_id).unwrap();
    assert_eq!(
        e.entity_type, "Person",
        "the type is found whatever its case"
    );
    assert!(e.restricted);
    assert_eq!(e.category.map(|c| c.as_str()), Some("witness"));
    assert_eq!(e.grading.as_ref().unwrap().to_string(), "B2 OPEN");
    assert_eq!(e.notes.len(), 1);
    assert_eq!(e.notes[0].source_ref.as_deref(), Some("report 7"));
    let value = &e.attributes[0];
    assert_eq!(
        (value.property.as_str(), value.value.as_str()),
        ("nationality", "GB")
    );
    assert_eq!(
        value.provenance.source_file.as_deref(),
        Some("surveillance log 14/03")
    );
    assert!(
        value
            .provenance
            .record
            .as_deref()
            .unwrap()
            .starts_with("analyst entry by CLI Tester"),
        "{:?}",
        value.provenance
    );
    let ev = &snap.events[0];
    assert_eq!(ev.review_date.as_deref(), Some("2027-01-31"));
    assert_eq!(ev.time.original_zone.as_deref(), Some("Europe/London"));
    assert_eq!(snap.links[0].grading.as_ref().unwrap().to_string(), "A1");
    drop(check);

    let log = actions(&case);
    for expected in [
        "create entity",
        "create link",
        "create event",
        "set grading",
        "set restricted",
        "set review date",
        "set person category",
        "add note",
    ] {
        assert!(
            log.iter().any(|a| a == expected),
            "{expected} not in {log:?}"
        );
    }
    // The reason is in the record, for a creation too.
    let records = open(&case).audit_records().unwrap();
    let created = records
        .iter()
        .find(|r| r.action == "create entity")
        .unwrap();
    assert!(
        created
            .details
            .contains("entered from the surveillance log"),
        "{}",
        created.details
    );
    let restricted = records
        .iter()
        .find(|r| r.action == "set restricted")
        .unwrap();
    assert!(
        restricted.details.contains("source protection"),
        "{}",
        restricted.details
    );

    // Undo the note and the category; redo the category.
    let undone = ok(&[&["undo", c][..], &p[..]].concat());
    assert!(undone.contains("Undid add note"), "{undone}");
    let undone = ok(&[&["undo", c][..], &p[..]].concat());
    assert!(undone.contains("Undid set person category"), "{undone}");
    let snap = open(&case).snapshot().unwrap();
    let e = snap.entity(ada_id).unwrap();
    assert!(e.notes.is_empty());
    assert_eq!(e.category.map(|c| c.as_str()), Some("suspect"));
    let redone = ok(&[&["redo", c][..], &p[..]].concat());
    assert!(redone.contains("Redid set person category"), "{redone}");
    let snap = open(&case).snapshot().unwrap();
    assert_eq!(
        snap.entity(ada_id).unwrap().category.map(|c| c.as_str()),
        Some("witness")
    );
    let log = actions(&case);
    assert!(
        log.iter().filter(|a| a.starts_with("undo")).count() >= 2,
        "{log:?}"
    );
    assert!(log.iter().any(|a| a.starts_with("redo")), "{log:?}");

    // Delete the phone: its link goes with it; undo brings both back.
    let out = ok(&[
        &["delete", c, &phone, "--reason", "entered twice"][..],
        &p[..],
    ]
    .concat());
    assert!(out.contains(&phone), "{out}");
    let snap = open(&case).snapshot().unwrap();
    assert_eq!(snap.entities.len(), 1);
    assert!(snap.links.is_empty());
    ok(&[&["undo", c][..], &p[..]].concat());
    let snap = open(&case).snapshot().unwrap();
    assert_eq!(snap.entities.len(), 2);
    assert_eq!(snap.links.len(), 1);
    // A reason is required.
    let out = copkit(&[&["delete", c, &phone][..], &p[..]].concat());
    assert!(!out.status.success());
}

#[test]
fn a_merge_is_split_back_into_the_original_entities_with_their_values_and_provenance() {
    let dir = tempfile::tempdir().unwrap();
    let case = new_case(&dir);
    let c = s(&case);
    let p = ["--purpose", "OP-1"];
    let first = made(&ok(&[
        &[
            "add", "entity", c, "--type", "Person", "--label", "J. Smith",
        ][..],
        &["--attr", "phone=+447700900001", "--source-ref", "report 1"][..],
        &p[..],
    ]
    .concat()));
    let second = made(&ok(&[
        &[
            "add",
            "entity",
            c,
            "--type",
            "Person",
            "--label",
            "John Smith",
        ][..],
        &["--attr", "email=js@example.org", "--source-ref", "report 2"][..],
        &["--grade", "C3"][..],
        &p[..],
    ]
    .concat()));
    let id = |t: &str| match t.parse::<copkit::model::AnyId>().unwrap() {
        copkit::model::AnyId::Item(ItemRef::Entity(e)) => e,
        other => panic!("{other}"),
    };
    let before = open(&case).snapshot().unwrap();
    let original = before.entity(id(&second)).unwrap().clone();

    let mut merging = open(&case);
    merging
        .apply(Command::Merge {
            keep: id(&first),
            absorb: vec![id(&second)],
            method: "manual".into(),
            reason: "same man".into(),
        })
        .unwrap();
    drop(merging);
    assert_eq!(open(&case).snapshot().unwrap().entities.len(), 1);
    assert_eq!(
        open(&case).absorbed_into(id(&first)).unwrap(),
        vec![(id(&second), "John Smith".to_string())]
    );

    let out = ok(&[
        &["split", c, &first, &second, "--reason", "two brothers"][..],
        &p[..],
    ]
    .concat());
    assert!(out.contains(&second), "{out}");
    let after = open(&case).snapshot().unwrap();
    assert_eq!(after.entities.len(), 2);
    let back = after.entity(id(&second)).unwrap();
    assert_eq!(back.label, original.label);
    assert_eq!(back.grading, original.grading);
    assert_eq!(back.provenance, original.provenance);
    assert_eq!(back.attributes, original.attributes);
    let kept = after.entity(id(&first)).unwrap();
    assert!(kept.attributes.iter().all(|a| a.property != "email"));
    assert!(actions(&case).iter().any(|a| a == "split entity"));
}

#[test]
fn a_custom_type_and_scheme_are_added_listed_and_used_by_an_import() {
    let dir = tempfile::tempdir().unwrap();
    let case = new_case(&dir);
    let c = s(&case);
    let p = ["--purpose", "OP-1"];
    let out = ok(&[
        &["types", "add", c, "--key", "Vessel", "--icon", "vehicle"][..],
        &["--property", "imo:identifier", "--property", "flag:country"][..],
        &p[..],
    ]
    .concat());
    assert!(out.contains("Added entity type Vessel"), "{out}");
    let out = copkit(
        &[
            &["types", "add", c, "--key", "Boat", "--icon", "boat"][..],
            &p[..],
        ]
        .concat(),
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("not a bundled icon"), "{}", text(&out));
    let listed = ok(&[&["types", c][..], &p[..]].concat());
    assert!(
        listed.contains("Vessel") && listed.contains("(custom)"),
        "{listed}"
    );

    let scheme = dir.path().join("harbour.toml");
    std::fs::write(
        &scheme,
        r#"key = "harbour"
name = "Harbour police 2x2"
source_levels = [{ code = "S1", description = "known" }, { code = "S2", description = "new" }]
information_levels = [{ code = "I1", description = "seen" }, { code = "I2", description = "heard" }]
handling_codes = [{ code = "OPEN", description = "share" }, { code = "LOCK", description = "keep" }]
no_dissemination_codes = ["LOCK"]
"#,
    )
    .unwrap();
    let out = ok(&[&["schemes", "add", c, s(&scheme)][..], &p[..]].concat());
    assert!(out.contains("Added grading scheme harbour"), "{out}");
    let listed = ok(&[&["schemes", c][..], &p[..]].concat());
    assert!(listed.contains("harbour: Harbour police 2x2"), "{listed}");

    // An import of vessels graded under the new scheme, with the type column in capitals.
    let csv = dir.path().join("vessels.csv");
    std::fs::write(
        &csv,
        "id,kind,name,imo\nv1,VESSEL,Sea Wren,IMO 9074729\nv2,vessel,Northern Light,IMO 9187203\n",
    )
    .unwrap();
    let spec = dir.path().join("vessels.toml");
    std::fs::write(
        &spec,
        r#"name = "vessels"
[grading]
scheme = "harbour"
source = "S1"
information = "I2"
handling = "OPEN"

[[entities]]
key = "vessel"
type = "Vessel"
type_column = "kind"
id = "id"
label = "name"
[entities.attributes]
imo = "imo"
"#,
    )
    .unwrap();
    let out = ok(&[
        &["import", s(&csv), "--into", c, "--spec", s(&spec)][..],
        &p[..],
    ]
    .concat());
    assert!(out.contains("2 accepted"), "{out}");
    let snap = open(&case).snapshot().unwrap();
    assert_eq!(snap.entities.len(), 2);
    for e in &snap.entities {
        assert_eq!(e.entity_type, "Vessel");
        assert_eq!(e.grading.as_ref().unwrap().scheme, "harbour");
    }
    let log = actions(&case);
    assert!(log.iter().any(|a| a == "add entity type"), "{log:?}");
    assert!(log.iter().any(|a| a == "add grading scheme"), "{log:?}");
}

#[test]
fn a_spec_with_a_misspelt_key_is_refused_with_the_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let case = new_case(&dir);
    let csv = dir.path().join("people.csv");
    std::fs::write(&csv, "id,name\np1,Ada\n").unwrap();
    let spec = dir.path().join("people.toml");
    std::fs::write(
        &spec,
        r#"[grading]
scheme = "admiralty"
source = "B"
info = "2"

[[entities]]
key = "person"
type = "Person"
id = "id"
label = "name"
"#,
    )
    .unwrap();
    let out = copkit(&[
        "import",
        s(&csv),
        "--into",
        s(&case),
        "--spec",
        s(&spec),
        "--purpose",
        "OP-1",
    ]);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(said.contains("info"), "{said}");
    assert!(said.contains("did you mean `information`?"), "{said}");
    assert!(open(&case).snapshot().unwrap().entities.is_empty());
}

#[test]
fn a_value_mapping_reads_capitals_and_codes_as_types() {
    let dir = tempfile::tempdir().unwrap();
    let case = new_case(&dir);
    let csv = dir.path().join("list.csv");
    std::fs::write(
        &csv,
        "id,type,name\n1,PERSON,Ada Brook\n2,COMPANY,Brook Haulage Ltd\n3,ORG,Port Services\n",
    )
    .unwrap();
    let spec = dir.path().join("list.toml");
    std::fs::write(
        &spec,
        r#"[[entities]]
key = "entity"
type = "Person"
type_column = "type"
id = "id"
label = "name"

[values.type]
company = "Organization"
ORG = "Organization"
"#,
    )
    .unwrap();
    let out = ok(&[
        "import",
        s(&csv),
        "--into",
        s(&case),
        "--spec",
        s(&spec),
        "--purpose",
        "OP-1",
    ]);
    assert!(out.contains("3 accepted"), "{out}");
    let snap = open(&case).snapshot().unwrap();
    let mut types: Vec<&str> = snap
        .entities
        .iter()
        .map(|e| e.entity_type.as_str())
        .collect();
    types.sort_unstable();
    assert_eq!(types, ["Organization", "Organization", "Person"]);
}
