//! Parquet import through the same mapping specs as CSV: a CDR Parquet file (snappy, zstd or
//! gzip; UTC or local timestamps) makes the same entities, links and events as the equivalent
//! CSV; cells of every common type become the text the spec reads; and the bad-input
//! contract holds: damaged, renamed, nested or unreadable files give an error naming the
//! file, the row group or row and the column, the case is unchanged, and the source file is
//! byte-identical after the import.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]

mod common;

use common::{dump, sha256_file, temp_case};
use copkit::io::csv::{CsvOptions, import_csv};
use copkit::io::parquet::import_parquet;
use copkit::io::{ImportReport, IoError, MappingSpec};
use copkit::jobs::{CancelToken, NoProgress};
use copkit::store::Case;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn template(name: &str) -> MappingSpec {
    MappingSpec::template(name).unwrap()
}

/// Imports a fixture, checking it is byte-identical after, nothing appeared beside it, and
/// the report holds the hash of exactly its bytes.
fn run(
    case: &mut Case,
    name: &str,
    spec: &MappingSpec,
    opts: &CsvOptions,
) -> Result<ImportReport, IoError> {
    let path = fixture(name);
    let before = sha256_file(&path);
    let siblings = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
    let result = import_parquet(case, &path, spec, opts, &CancelToken::new(), &NoProgress);
    assert_eq!(sha256_file(&path), before, "{name} changed");
    assert_eq!(
        std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
        siblings,
        "files appeared beside {name}"
    );
    if let Ok(r) = &result {
        assert_eq!(
            r.sha256, before,
            "the report must hold the hash of the bytes parsed"
        );
        assert_eq!(r.bytes, std::fs::metadata(&path).unwrap().len());
        assert_eq!(r.format, "parquet");
    }
    result
}

/// What a case holds, independent of ids, order and the source's own spelling of times:
/// entities with their attributes, links between labels, events with time, participants and
/// attributes.
fn content(case: &mut Case) -> Vec<String> {
    let snap = case.snapshot().unwrap();
    let label = |id| {
        snap.entities
            .iter()
            .find(|e| e.id == id)
            .map(|e| format!("{}:{}", e.entity_type, e.label))
            .unwrap()
    };
    let mut out = Vec::new();
    for e in &snap.entities {
        let mut attrs: Vec<String> = e
            .attributes
            .iter()
            .map(|a| format!("{}={}", a.property, a.value))
            .collect();
        attrs.sort();
        out.push(format!("entity {}:{} {attrs:?}", e.entity_type, e.label));
    }
    for l in &snap.links {
        out.push(format!(
            "link {} {} -> {}",
            l.link_type,
            label(l.source),
            label(l.target)
        ));
    }
    for ev in &snap.events {
        let mut parts: Vec<String> = ev
            .participants
            .iter()
            .map(|p| format!("{:?} {}", p.role, label(p.entity)))
            .collect();
        parts.sort();
        let mut attrs: Vec<String> = ev
            .attributes
            .iter()
            .map(|a| format!("{}={}", a.property, a.value))
            .collect();
        attrs.sort();
        out.push(format!(
            "event {} {} {:?} {parts:?} {attrs:?}",
            ev.event_type, ev.time.start_ms, ev.time.end_ms
        ));
    }
    out.sort();
    out
}

#[test]
fn a_cdr_parquet_file_imports_the_same_as_the_equivalent_csv() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut from_csv) = temp_case(&dir, "csv.copkit");
    let csv = import_csv(
        &mut from_csv,
        &fixture("cdr.csv"),
        &template("cdr"),
        &CsvOptions::default(),
        &CancelToken::new(),
        &NoProgress,
    )
    .unwrap();
    let expected = content(&mut from_csv);
    assert_eq!(csv.rows_accepted, 5);
    assert!(
        expected
            .iter()
            .any(|l| l.starts_with("event Call 1709287200000 "))
    );

    // pyarrow defaults (snappy, dictionary pages, UTC micros, two row groups); zstd with
    // data page v2 and local nanosecond times (read in the template's zone, UTC); gzip with
    // UTC millis.
    for name in ["cdr.parquet", "cdr-zstd.parquet", "cdr-gzip.parquet"] {
        let (_, mut case) = temp_case(&dir, &format!("{name}.copkit"));
        let r = run(&mut case, name, &template("cdr"), &CsvOptions::default()).unwrap();
        assert_eq!(
            (r.rows_read, r.rows_accepted, r.rows_rejected),
            (5, 5, 0),
            "{name}: {r:?}"
        );
        assert_eq!(
            (r.entities_created, r.events, r.links),
            (csv.entities_created, csv.events, csv.links),
            "{name}"
        );
        assert_eq!(content(&mut case), expected, "{name}");
        let info = case.info().unwrap();
        let batch = info
            .batches
            .iter()
            .find(|b| Some(b.id) == r.batch.map(|b| b.0))
            .unwrap();
        assert_eq!(batch.source_sha256.as_deref(), Some(r.sha256.as_str()));
    }
}

#[test]
fn every_common_cell_type_becomes_the_text_the_spec_reads() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let r = run(
        &mut case,
        "entities-types.parquet",
        &template("entities"),
        &CsvOptions::default(),
    )
    .unwrap();
    assert_eq!(r.rows_accepted, 2, "{r:?}");
    let snap = case.snapshot().unwrap();
    let zoe = snap
        .entities
        .iter()
        .find(|e| e.label == "Zoë Müller")
        .unwrap();
    assert_eq!(zoe.source_id.as_deref(), Some("1"));
    assert_eq!(zoe.values("email").collect::<Vec<_>>(), ["zoe@example.org"]);
    assert_eq!(zoe.values("birthDate").collect::<Vec<_>>(), ["1980-02-29"]);
    assert_eq!(zoe.values("note").collect::<Vec<_>>(), ["123.45"]);
    assert_eq!(zoe.values("phone").collect::<Vec<_>>(), ["07700 900123"]);
    assert_eq!(zoe.values("address").count(), 0, "a null is an empty cell");
    let acme = snap
        .entities
        .iter()
        .find(|e| e.label == "Acme Ltd")
        .unwrap();
    assert_eq!(acme.entity_type, "Organization");
    assert_eq!(acme.values("note").collect::<Vec<_>>(), ["-0.05"]);
    assert_eq!(acme.values("birthDate").count(), 0);
}

/// Runs an import that must fail, checks the message names the file and the given parts,
/// and that the case did not change.
fn fails(name: &str, spec: &MappingSpec, opts: &CsvOptions, expect: &[&str]) -> IoError {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    // Something already in the case, so "unchanged" means more than "still empty".
    import_csv(
        &mut case,
        &fixture("cdr.csv"),
        &template("cdr"),
        &CsvOptions::default(),
        &CancelToken::new(),
        &NoProgress,
    )
    .unwrap();
    let before = dump(&case);
    let err = run(&mut case, name, spec, opts).expect_err("the import should fail");
    let msg = err.to_string();
    let file = Path::new(name).file_name().unwrap().to_str().unwrap();
    assert!(
        msg.contains(file),
        "the error does not name the file: {msg}"
    );
    for part in expect {
        assert!(msg.contains(part), "'{part}' missing from: {msg}");
    }
    assert_eq!(dump(&case), before, "a failed import changed the case");
    err
}

#[test]
fn damaged_renamed_nested_and_unreadable_files_are_named_and_change_nothing() {
    let cdr = template("cdr");
    let o = CsvOptions::default();
    let err = fails("bad/truncated.parquet", &cdr, &o, &["footer", "truncated"]);
    assert!(matches!(err, IoError::Parse { .. }));
    let err = fails(
        "bad/csv-renamed.parquet",
        &cdr,
        &o,
        &["not a Parquet file", "PAR1"],
    );
    assert!(matches!(err, IoError::WrongFormat { .. }));
    fails(
        "bad/nested-list.parquet",
        &template("entities"),
        &o,
        &["column 'phones'", "nested column", "flatten"],
    );
    fails(
        "bad/corrupt-page.parquet",
        &cdr,
        &o,
        &["row group 1 of 1", "rows 1–5", "column 'caller'", "damaged"],
    );
    fails(
        "bad/lz4.parquet",
        &cdr,
        &o,
        &[
            "row group 1 of 1",
            "column 'caller'",
            "LZ4",
            "snappy or zstd",
        ],
    );
    // A file that is not there, and one that is a directory.
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let err = import_parquet(
        &mut case,
        dir.path(),
        &cdr,
        &o,
        &CancelToken::new(),
        &NoProgress,
    )
    .unwrap_err();
    assert!(err.to_string().contains("directory"), "{err}");
}

#[test]
fn binary_that_is_not_utf8_rejects_its_row_naming_row_and_column() {
    let entities = template("entities");
    let err = fails(
        "bad/binary-not-utf8.parquet",
        &entities,
        &CsvOptions::default(),
        &["1 of 3 rows rejected", "line 2", "name", "not UTF-8"],
    );
    let IoError::Rejected { report, .. } = err else {
        panic!("expected a rejection, got {err}");
    };
    assert_eq!(report.rejected[0].line, 2);
    assert_eq!(report.rejected[0].field.as_deref(), Some("name"));

    // Lenient: the other two rows are imported; the bad one is listed.
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let opts = CsvOptions {
        lenient: true,
        ..CsvOptions::default()
    };
    let r = run(&mut case, "bad/binary-not-utf8.parquet", &entities, &opts).unwrap();
    assert_eq!((r.rows_read, r.rows_accepted, r.rows_rejected), (3, 2, 1));
    assert_eq!(r.rejected[0].line, 2);
    let labels: Vec<String> = case
        .snapshot()
        .unwrap()
        .entities
        .iter()
        .map(|e| e.label.clone())
        .collect();
    assert!(labels.contains(&"Ann".to_string()) && labels.contains(&"Cy".to_string()));
}

#[test]
fn identifiers_stored_as_numbers_are_rejected_not_trusted() {
    let err = fails(
        "bad/numeric-phones.parquet",
        &template("cdr"),
        &CsvOptions::default(),
        &[
            "5 of 5 rows rejected",
            "caller",
            "stores this identifier as a number",
        ],
    );
    assert!(matches!(err, IoError::Rejected { .. }));
}

#[test]
fn the_cli_imports_parquet_by_extension_by_magic_and_by_format() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("c.copkit");
    let copkit = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_copkit"))
            .args(args)
            .env("COPKIT_ANALYST", "CLI Tester")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let text = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    let case_s = case.to_str().unwrap();
    assert!(
        copkit(&["new", case_s, "--purpose", "OP-1"])
            .status
            .success()
    );
    let src = fixture("cdr.parquet");
    // The same file under a name that says nothing: recognised by its PAR1 marker.
    let renamed = dir.path().join("export.dat");
    std::fs::copy(&src, &renamed).unwrap();
    for (file, extra) in [
        (src.to_str().unwrap(), None),
        (renamed.to_str().unwrap(), None),
        (renamed.to_str().unwrap(), Some("parquet")),
    ] {
        let mut args = vec![
            "import",
            file,
            "--into",
            case_s,
            "--template",
            "cdr",
            "--purpose",
            "OP-1",
        ];
        if let Some(f) = extra {
            args.extend(["--format", f]);
        }
        let out = copkit(&args);
        let t = text(&out);
        assert!(out.status.success(), "{t}");
        assert!(t.contains("5 read, 5 accepted, 0 rejected"), "{t}");
        assert!(
            t.contains(&sha256_file(&src)),
            "the report shows the hash: {t}"
        );
    }
    let out = copkit(&[
        "import",
        fixture("bad/truncated.parquet").to_str().unwrap(),
        "--into",
        case_s,
        "--template",
        "cdr",
        "--purpose",
        "OP-1",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("truncated.parquet"), "{}", text(&out));

    // --rejected-from: a spec that needs an IMEI rejects the row without one; after the fix
    // only that row is imported.
    let strict = dir.path().join("strict.toml");
    let template_text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/templates/cdr.toml"),
    )
    .unwrap();
    let needs_imei = template_text.replace(
        "id_property = \"imei\"\noptional = true",
        "id_property = \"imei\"",
    );
    assert_ne!(needs_imei, template_text);
    std::fs::write(&strict, needs_imei).unwrap();
    let fresh = dir.path().join("fresh.copkit");
    let fresh_s = fresh.to_str().unwrap();
    assert!(
        copkit(&["new", fresh_s, "--purpose", "OP-1"])
            .status
            .success()
    );
    let report = dir.path().join("report.json");
    let src_s = src.to_str().unwrap();
    let out = copkit(&[
        "import",
        src_s,
        "--into",
        fresh_s,
        "--spec",
        strict.to_str().unwrap(),
        "--lenient",
        "--report",
        report.to_str().unwrap(),
        "--purpose",
        "OP-1",
    ]);
    assert!(
        text(&out).contains("5 read, 4 accepted, 1 rejected"),
        "{}",
        text(&out)
    );
    let out = copkit(&[
        "import",
        src_s,
        "--into",
        fresh_s,
        "--template",
        "cdr",
        "--rejected-from",
        report.to_str().unwrap(),
        "--purpose",
        "OP-1",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("1 read, 1 accepted, 0 rejected"),
        "{}",
        text(&out)
    );
}

#[test]
fn the_preview_maps_the_first_rows_and_marks_their_problems() {
    use copkit::io::parquet::preview_parquet;
    let schema = copkit::model::Schema::default();
    let opts = CsvOptions::default();
    let p = preview_parquet(&fixture("cdr.parquet"), &template("cdr"), &schema, &opts, 3).unwrap();
    assert_eq!(
        p.header,
        ["caller", "callee", "start", "duration", "cell", "imei"]
    );
    assert_eq!(p.rows.len(), 3);
    assert!(p.rows.iter().all(|r| r.problems.is_empty()), "{:?}", p.rows);
    assert!(
        p.rows[0]
            .makes
            .iter()
            .any(|m| m == "Call 2024-03-01T10:00:00+00:00"),
        "{:?}",
        p.rows[0].makes
    );
    assert!(p.encoding.contains("row group"), "{}", p.encoding);

    // Problems are marked per row, as the import would reject them.
    let p = preview_parquet(
        &fixture("bad/binary-not-utf8.parquet"),
        &template("entities"),
        &schema,
        &opts,
        10,
    )
    .unwrap();
    let bad: Vec<_> = p.rows.iter().filter(|r| !r.problems.is_empty()).collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].line, 2);
    assert_eq!(bad[0].problems[0].field.as_deref(), Some("name"));
    let p = preview_parquet(
        &fixture("bad/numeric-phones.parquet"),
        &template("cdr"),
        &schema,
        &opts,
        10,
    )
    .unwrap();
    assert!(p.rows.iter().all(|r| {
        r.problems
            .iter()
            .any(|q| q.reason.contains("stores this identifier as a number"))
    }));
    // A damaged file is refused with its name, as by the import.
    let err = preview_parquet(
        &fixture("bad/truncated.parquet"),
        &template("cdr"),
        &schema,
        &opts,
        10,
    )
    .unwrap_err();
    assert!(err.to_string().contains("truncated.parquet"), "{err}");
}

/// After a lenient import rejected rows, the spec is fixed and only those rows are imported:
/// the case then holds what one import with the fixed spec makes.
#[test]
fn rejected_parquet_rows_are_reimported_after_the_spec_is_fixed() {
    use copkit::io::csv::reimport_rejected_with;
    let mut strict_handset = template("cdr");
    for e in &mut strict_handset.entities {
        if e.key == "handset" {
            e.optional = false;
        }
    }
    let lenient = CsvOptions {
        lenient: true,
        ..CsvOptions::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let first = run(&mut case, "cdr.parquet", &strict_handset, &lenient).unwrap();
    assert_eq!((first.rows_accepted, first.rows_rejected), (4, 1));
    assert_eq!(first.rejected[0].field.as_deref(), Some("imei"));

    let path = fixture("cdr.parquet");
    let fixed = template("cdr");
    let second = reimport_rejected_with(
        &mut case,
        &path,
        &first,
        &CsvOptions::default(),
        |case, opts| import_parquet(case, &path, &fixed, opts, &CancelToken::new(), &NoProgress),
    )
    .unwrap();
    assert_eq!((second.rows_read, second.rows_accepted), (1, 1));
    assert_eq!(second.reimport_of_lines, Some(vec![first.rejected[0].line]));

    let (_, mut once) = temp_case(&dir, "once.copkit");
    run(&mut once, "cdr.parquet", &fixed, &CsvOptions::default()).unwrap();
    assert_eq!(content(&mut case), content(&mut once));

    // A file that changed since the report is refused.
    let copy = dir.path().join("changed.parquet");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(b"PAR1");
    std::fs::write(&copy, bytes).unwrap();
    let err = reimport_rejected_with(&mut case, &copy, &first, &CsvOptions::default(), |_, _| {
        panic!("must not import a changed file")
    })
    .unwrap_err();
    assert!(
        err.to_string().contains("changed since the earlier import"),
        "{err}"
    );
}
