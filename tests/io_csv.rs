//! CSV/TSV import through mapping specs and templates, and every file-level and CSV case of
//! the bad-input guide: a clear error naming file, line and field; no panic; the case
//! unchanged after a failed import; the source file read-only and byte-identical after.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]

mod common;

use common::{dump, sha256_file, temp_case};
use copkit::io::csv::{CsvOptions, import_csv, preview_csv, reimport_rejected};
use copkit::io::{ImportReport, IoError, MappingSpec};
use copkit::jobs::{CancelToken, NoProgress};
use copkit::model::ParticipantRole;
use copkit::store::Case;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/bad")
        .join(name)
}

fn make_read_only(path: &Path) {
    let mut perms = std::fs::metadata(path).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(path, perms).unwrap();
}

/// Imports a fixture (made read-only first), checking the file is byte-identical after and
/// nothing appeared beside it.
fn run(
    case: &mut Case,
    name: &str,
    spec: &MappingSpec,
    opts: &CsvOptions,
) -> Result<ImportReport, IoError> {
    let path = fixture(name);
    make_read_only(&path);
    let before = sha256_file(&path);
    let siblings = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
    let result = import_csv(case, &path, spec, opts, &CancelToken::new(), &NoProgress);
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
    }
    result
}

/// Imports a file made by the test (not a fixture) with a built-in template.
fn import_with(
    case: &mut Case,
    path: &Path,
    template_name: &str,
    opts: &CsvOptions,
) -> Result<ImportReport, IoError> {
    import_csv(
        case,
        path,
        &template(template_name),
        opts,
        &CancelToken::new(),
        &NoProgress,
    )
}

fn template(name: &str) -> MappingSpec {
    MappingSpec::template(name).unwrap()
}

fn london_cdr() -> MappingSpec {
    let mut spec = template("cdr");
    spec.time.zone = Some("Europe/London".into());
    spec
}

/// Runs an import that must fail, checks the message names the file and the given parts,
/// and that the case did not change.
fn fails(name: &str, spec: &MappingSpec, opts: &CsvOptions, expect: &[&str]) -> IoError {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let before = dump(&case);
    let err = run(&mut case, name, spec, opts).expect_err("the import should fail");
    let msg = err.to_string();
    assert!(
        msg.contains(name),
        "the error does not name the file: {msg}"
    );
    for part in expect {
        assert!(msg.contains(part), "'{part}' missing from: {msg}");
    }
    assert_eq!(dump(&case), before, "a failed import changed the case");
    err
}

#[test]
fn empty_header_only_and_bom_only_files_are_refused() {
    let o = CsvOptions::default();
    fails("empty.csv", &template("cdr"), &o, &["empty (0 bytes)"]);
    fails("header-only.csv", &template("cdr"), &o, &["no data rows"]);
    fails("bom-only.csv", &template("cdr"), &o, &["byte-order mark"]);
}

#[test]
fn renamed_zip_and_sqlite_files_say_what_they_are() {
    let o = CsvOptions::default();
    fails("zip-renamed.csv", &template("cdr"), &o, &["zip archive"]);
    fails(
        "sqlite-renamed.csv",
        &template("cdr"),
        &o,
        &["SQLite database"],
    );
}

#[cfg(unix)]
#[test]
fn fifos_and_devices_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let fifo = dir.path().join("pipe.csv");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        let err = import_with(&mut case, &fifo, "cdr", &CsvOptions::default()).unwrap_err();
        assert!(err.to_string().contains("FIFO"), "{err}");
    }
    let err = import_with(
        &mut case,
        Path::new("/dev/null"),
        "cdr",
        &CsvOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("device"), "{err}");
}

#[test]
fn a_file_truncated_inside_a_quoted_field_names_the_line() {
    fails(
        "truncated-mid-record.csv",
        &london_cdr(),
        &CsvOptions::default(),
        &["line 3", "unterminated quote"],
    );
}

#[test]
fn invalid_utf8_reports_the_offset_and_windows_1252_reads_it() {
    let err = fails(
        "invalid-utf8.csv",
        &template("entities"),
        &CsvOptions::default(),
        &["byte offset 38", "line 3", "windows-1252"],
    );
    assert!(matches!(err, IoError::Encoding { .. }));
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let opts = CsvOptions {
        encoding: Some("windows-1252".into()),
        ..CsvOptions::default()
    };
    let r = run(&mut case, "invalid-utf8.csv", &template("entities"), &opts).unwrap();
    assert_eq!(r.rows_accepted, 3);
    let snap = case.snapshot().unwrap();
    assert!(snap.entities.iter().any(|e| e.label == "José García"));
}

#[test]
fn bom_quoted_header_and_utf16_excel_unicode_text_import() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let o = CsvOptions::default();
    let r = run(
        &mut case,
        "utf8-bom-quoted-header.csv",
        &template("entities"),
        &o,
    )
    .unwrap();
    assert_eq!(r.rows_accepted, 1);
    let r = run(&mut case, "utf16-bom.csv", &template("entities"), &o).unwrap();
    assert_eq!(r.encoding, "UTF-16LE");
    assert_eq!(r.delimiter.as_deref(), Some("tab"));
    assert_eq!(r.rows_accepted, 2);
    let snap = case.snapshot().unwrap();
    // Ids 1 and 2 match the entity the first file made (id 1) and add a new one: names kept.
    assert!(
        snap.entities
            .iter()
            .any(|e| e.values("name").any(|n| n == "Zoë Müller"))
    );
    assert!(snap.entities.iter().any(|e| e.label == "Špela"));
}

#[test]
fn hidden_characters_are_kept_raw_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let lenient = CsvOptions {
        lenient: true,
        ..CsvOptions::default()
    };
    let r = run(
        &mut case,
        "hidden-chars.csv",
        &template("entities"),
        &lenient,
    )
    .unwrap();
    // The row with a NUL byte is refused (see the next test); the others are kept raw.
    assert_eq!((r.rows_accepted, r.rows_rejected), (2, 1));
    let text = r.to_text();
    for marker in ["U+200B", "U+202E", "NUL byte"] {
        assert!(text.contains(marker), "{marker} not reported: {text}");
    }
    let snap = case.snapshot().unwrap();
    assert!(snap.entities.iter().any(|e| e.label == "Ana\u{200b}Novak"));
    assert!(!snap.entities.iter().any(|e| e.label.contains('\0')));
}

#[test]
fn a_nul_byte_in_a_field_refuses_its_row_naming_the_line_and_field() {
    fails(
        "nul-in-field.csv",
        &template("entities"),
        &CsvOptions::default(),
        &["1 of 2 rows rejected", "line 3", "phone", "NUL byte"],
    );
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let lenient = CsvOptions {
        lenient: true,
        ..CsvOptions::default()
    };
    let r = run(
        &mut case,
        "nul-in-field.csv",
        &template("entities"),
        &lenient,
    )
    .unwrap();
    assert_eq!((r.rows_read, r.rows_accepted, r.rows_rejected), (2, 1, 1));
    assert_eq!(r.rejected[0].line, 3);
    assert_eq!(r.rejected[0].field.as_deref(), Some("phone"));
    let text = r.to_text();
    assert!(
        text.contains("NUL byte") && text.contains("line 3"),
        "{text}"
    );
    let snap = case.snapshot().unwrap();
    assert_eq!(snap.entities.len(), 1);
    assert!(!snap.entities.iter().any(|e| e.label == "Bo Berg"));
}

#[test]
fn mixed_line_endings_semicolons_tabs_and_quoted_fields_import() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let e = template("entities");
    let o = CsvOptions::default();
    assert_eq!(
        run(&mut case, "mixed-line-endings.csv", &e, &o)
            .unwrap()
            .rows_accepted,
        4
    );
    let r = run(&mut case, "semicolon.csv", &e, &o).unwrap();
    assert_eq!((r.delimiter.as_deref(), r.rows_accepted), (Some(";"), 2));
    let tsv = CsvOptions {
        tsv: true,
        ..CsvOptions::default()
    };
    assert_eq!(
        run(&mut case, "tab-delimited.tsv", &e, &tsv)
            .unwrap()
            .rows_accepted,
        2
    );
    let r = run(&mut case, "quoted-fields.csv", &e, &o).unwrap();
    assert_eq!(r.rows_accepted, 2);
    let snap = case.snapshot().unwrap();
    let ana = snap
        .entities
        .iter()
        .find(|x| x.values("name").any(|n| n == "Novak, Ana"))
        .unwrap();
    assert_eq!(ana.values("note").next(), Some("said \"hello\"\nthen left"));
}

#[test]
fn ragged_rows_reject_the_file_or_are_skipped_and_listed() {
    fails(
        "ragged.csv",
        &template("entities"),
        &CsvOptions::default(),
        &[
            "2 of 4 rows rejected",
            "line 3",
            "has 2 fields but the header has 3",
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let lenient = CsvOptions {
        lenient: true,
        ..CsvOptions::default()
    };
    let r = run(&mut case, "ragged.csv", &template("entities"), &lenient).unwrap();
    assert_eq!((r.rows_read, r.rows_accepted, r.rows_rejected), (4, 2, 2));
    let lines: Vec<u64> = r.rejected.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![3, 4]);
    assert_eq!(case.snapshot().unwrap().entities.len(), 2);
}

#[test]
fn header_problems_are_named() {
    let o = CsvOptions::default();
    fails(
        "duplicate-header.csv",
        &template("entities"),
        &o,
        &["column 'name' appears more than once"],
    );
    fails(
        "header-repeated.csv",
        &template("entities"),
        &o,
        &["line 3", "header is repeated"],
    );
    // An empty header name is fine when the spec does not use that column.
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    assert_eq!(
        run(&mut case, "empty-header.csv", &template("entities"), &o)
            .unwrap()
            .rows_accepted,
        2
    );
    fails(
        "semicolon.csv",
        &template("cdr"),
        &o,
        &["the spec needs column 'call"],
    );
}

#[test]
fn over_long_fields_hit_a_named_bound() {
    let mut o = CsvOptions::default();
    o.limits.max_field_bytes = 1000;
    fails(
        "long-field.csv",
        &template("entities"),
        &o,
        &["line 2", "field 'note'", "max_field_bytes"],
    );
    let mut o = CsvOptions::default();
    o.limits.max_file_bytes = 100;
    fails(
        "long-field.csv",
        &template("entities"),
        &o,
        &["max_file_bytes"],
    );
    let mut o = CsvOptions::default();
    o.limits.max_rows = 2;
    fails(
        "mixed-line-endings.csv",
        &template("entities"),
        &o,
        &["max_rows"],
    );
}

#[test]
fn excel_damaged_identifiers_are_rejected_never_guessed() {
    fails(
        "excel-damage.csv",
        &london_cdr(),
        &CsvOptions::default(),
        &["line 2, field 'caller'", "scientific notation"],
    );
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let lenient = CsvOptions {
        lenient: true,
        ..CsvOptions::default()
    };
    let r = run(&mut case, "excel-damage.csv", &london_cdr(), &lenient).unwrap();
    assert_eq!(r.rows_rejected, 2);
    assert!(r.rejected[1].to_string().contains("#N/A"));
    // The IMEI keeps its leading zero: identifiers are text.
    let snap = case.snapshot().unwrap();
    assert!(
        snap.entities
            .iter()
            .any(|e| e.values("imei").any(|v| v == "0356938035643809"))
    );
}

#[test]
fn locale_numbers_and_currency_symbols_with_a_decimal_comma() {
    let mut spec = template("bank");
    spec.numbers.decimal_separator = ",".into();
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let r = run(
        &mut case,
        "locale-numbers.csv",
        &spec,
        &CsvOptions::default(),
    )
    .unwrap();
    assert_eq!(r.rows_accepted, 2);
    // Two rows, two accounts: the IBANs written with and without spaces are one account each.
    assert_eq!(r.entities_created, 2);
    let snap = case.snapshot().unwrap();
    let amounts: Vec<&str> = snap
        .events
        .iter()
        .flat_map(|e| e.attributes.iter())
        .filter(|a| a.property == "amount")
        .map(|a| a.value.as_str())
        .collect();
    assert_eq!(amounts, vec!["1234.56", "99.90"]);
    // With the default decimal point, 1.234,56 is not silently read as 1.234.
    fails(
        "locale-numbers.csv",
        &template("bank"),
        &CsvOptions::default(),
        &["field 'amount'"],
    );
}

/// One id given two different names in one file (issue 26): no longer merged silently. The
/// first row is kept; the other is rejected naming its line, the id column, the id and the
/// line of the first, so a strict import refuses the file and a lenient one skips the row.
#[test]
fn one_id_with_two_names_in_one_file_is_rejected_not_merged() {
    let err = fails(
        "duplicate-ids.csv",
        &template("entities"),
        &CsvOptions::default(),
        &[
            "line 3, field 'id'",
            "the id '1' was given to 'Ana Novak' on line 2",
            "'Ana N.'",
        ],
    );
    assert!(matches!(err, IoError::Rejected { .. }), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let lenient = CsvOptions {
        lenient: true,
        ..CsvOptions::default()
    };
    let r = run(
        &mut case,
        "same-id-two-people.csv",
        &template("entities"),
        &lenient,
    )
    .unwrap();
    assert_eq!(r.entities_created, 2);
    assert_eq!(r.rows_rejected, 1);
    assert_eq!(r.rejected[0].line, 4);
    assert_eq!(r.rejected[0].field.as_deref(), Some("id"));
    assert!(
        r.rejected[0].reason.contains("'Ivo Kranjc'"),
        "{:?}",
        r.rejected
    );
    // The same name (case and spacing aside), or none, is the same person: merged, and in an
    // entity list reported as a duplicate record.
    let duplicates: Vec<u64> = r
        .warnings
        .iter()
        .filter(|w| w.reason.contains("duplicate record"))
        .map(|w| w.line)
        .collect();
    assert_eq!(duplicates, [5, 6]);
    let snap = case.snapshot().unwrap();
    let ana = snap
        .entities
        .iter()
        .find(|e| e.source_id.as_deref() == Some("P1"))
        .unwrap();
    assert_eq!(ana.label, "Ana Novak");
    let phones: Vec<&str> = ana.values("phone").collect();
    assert!(phones.contains(&"+386 40 555 000"), "{phones:?}");
    assert!(
        !phones.iter().any(|p| p.contains("999")),
        "the other person's phone was merged in: {phones:?}"
    );
    assert!(!snap.entities.iter().any(|e| e.label == "Ivo Kranjc"));
}

/// Call records repeat their phone numbers on every row: that is no duplicate to report.
#[test]
fn repeated_phones_in_call_records_are_not_reported_as_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let r = run(
        &mut case,
        "phones-many-formats.csv",
        &london_cdr(),
        &CsvOptions::default(),
    )
    .unwrap();
    assert!(
        !r.warnings.iter().any(|w| w.reason.contains("duplicate")),
        "{:?}",
        r.warnings
    );
}

/// A header naming a column twice is reported as that, not as another column missing.
#[test]
fn a_column_named_twice_is_not_reported_as_another_missing() {
    let err = fails(
        "header-twice-not-missing.csv",
        &template("cdr"),
        &CsvOptions::default(),
        &["column 'caller' appears more than once"],
    );
    assert!(!err.to_string().contains("callee"), "{err}");
}

/// Bare numbers in a time column are named for what they look like (epoch milliseconds,
/// epoch seconds, a compact date), never as "day/month ambiguous".
#[test]
fn epoch_times_are_named_as_such() {
    let err = fails(
        "epoch-times.csv",
        &template("cdr"),
        &CsvOptions::default(),
        &["3 of 3"],
    );
    let IoError::Rejected { report, .. } = err else {
        panic!("expected a rejection");
    };
    let reasons: Vec<&str> = report.rejected.iter().map(|p| p.reason.as_str()).collect();
    assert!(
        reasons.iter().all(|r| !r.contains("ambiguous")),
        "{reasons:?}"
    );
    assert!(reasons[0].contains("epoch milliseconds"), "{reasons:?}");
    assert!(reasons[0].contains("\"epoch_ms\""), "{reasons:?}");
    assert!(reasons[1].contains("\"epoch_s\""), "{reasons:?}");
    assert!(reasons[2].contains("\"%Y%m%d\""), "{reasons:?}");
}

#[test]
fn entities_matching_the_case_are_merged_reported_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let spec = london_cdr();
    let o = CsvOptions::default();
    let first = run(&mut case, "phones-many-formats.csv", &spec, &o).unwrap();
    // +44 7700 900123, 0044 7700 900123 and 07700900123 are one phone; so are the others.
    assert_eq!(first.entities_created, 2);
    assert_eq!(first.entities_merged, 0);
    let snap = case.snapshot().unwrap();
    let phone = snap
        .entities
        .iter()
        .find(|e| e.label == "+44 7700 900123")
        .unwrap();
    let numbers: Vec<&str> = phone.values("number").collect();
    assert!(numbers.contains(&"+44 7700 900123"));
    assert!(numbers.contains(&"0044 7700 900123"));
    assert!(numbers.contains(&"07700900123"));
    assert!(numbers.contains(&"+447700900123"));
    assert_eq!(snap.events.len(), 3);
    let call = &snap.events[0];
    assert_eq!(call.in_role(ParticipantRole::From).next(), Some(phone.id));
    assert_eq!(call.time.end_ms, Some(call.time.start_ms + 60_000));
    // The same file again (a second source): matched, not duplicated, and audited.
    let second = run(&mut case, "phones-many-formats.csv", &spec, &o).unwrap();
    assert_eq!(second.entities_created, 0);
    assert_eq!(second.entities_merged, 2);
    assert_eq!(case.snapshot().unwrap().entities.len(), 2);
    let audit = case.audit_records().unwrap();
    assert!(audit.iter().any(|r| r.category == "combination"));
}

#[test]
fn times_dst_gaps_overlaps_and_ambiguous_dates_are_rejected_not_guessed() {
    fails(
        "dst-gap.csv",
        &london_cdr(),
        &CsvOptions::default(),
        &["line 2, field 'start'", "daylight-saving gap"],
    );
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let lenient = CsvOptions {
        lenient: true,
        ..CsvOptions::default()
    };
    let r = run(&mut case, "dst-gap.csv", &london_cdr(), &lenient).unwrap();
    assert_eq!(r.rows_rejected, 2);
    assert!(r.rejected[1].reason.contains("overlap"));
    let snap = case.snapshot().unwrap();
    let t = &snap.events[0].time;
    assert_eq!(t.original_text.as_deref(), Some("2023-07-01 12:00:00"));
    assert_eq!(t.original_zone.as_deref(), Some("Europe/London"));
    assert_eq!(t.start().to_rfc3339(), "2023-07-01T11:00:00+00:00");
    let err = fails(
        "bad-times.csv",
        &london_cdr(),
        &CsvOptions::default(),
        &["3 of 3"],
    );
    let IoError::Rejected { report, .. } = err else {
        panic!("expected a rejection");
    };
    assert!(report.rejected[0].reason.contains("ambiguous"));
    assert!(report.rejected[1].reason.contains("placeholder"));
}

#[test]
fn self_loops_are_kept_and_flagged_unknown_endpoints_become_entities() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let r = run(
        &mut case,
        "self-loop.csv",
        &template("links"),
        &CsvOptions::default(),
    )
    .unwrap();
    assert_eq!(r.links, 2);
    assert!(r.warnings.iter().any(|w| w.reason.contains("self-loop")));
    let snap = case.snapshot().unwrap();
    assert_eq!(
        snap.links
            .iter()
            .find(|l| l.label.as_deref() == Some("pair"))
            .unwrap()
            .weight,
        Some(2.5)
    );
    let r = run(
        &mut case,
        "unknown-endpoints.csv",
        &template("links"),
        &CsvOptions::default(),
    )
    .unwrap();
    // Endpoints not in the case are created from the link row (and counted), never dropped.
    assert_eq!((r.entities_created, r.links), (2, 1));
    // A link list naming entities already in the case links to them.
    let r = run(
        &mut case,
        "self-loop.csv",
        &template("links"),
        &CsvOptions::default(),
    )
    .unwrap();
    assert_eq!((r.entities_created, r.entities_merged), (0, 2));
}

#[test]
fn unknown_entity_types_are_rejected_with_the_field() {
    fails(
        "wrong-entity-type.csv",
        &template("entities"),
        &CsvOptions::default(),
        &["line 2, field 'type'", "Spaceship"],
    );
}

#[test]
fn preview_marks_problems_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let (_, case) = temp_case(&dir, "c.copkit");
    let before = dump(&case);
    let p = preview_csv(
        &fixture("excel-damage.csv"),
        &london_cdr(),
        case.schema(),
        &CsvOptions::default(),
        10,
    )
    .unwrap();
    assert_eq!(p.rows.len(), 3);
    assert!(p.rows[0].problems[0].reason.contains("scientific"));
    assert!(p.rows[2].problems.is_empty());
    assert!(p.rows[2].makes.iter().any(|m| m.starts_with("Call")));
    assert_eq!(dump(&case), before);
}

#[test]
fn rejected_rows_can_be_reimported_after_fixing_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let lenient = CsvOptions {
        lenient: true,
        ..CsvOptions::default()
    };
    // Without a zone every row is rejected... with a zone-less spec and lenient mode nothing
    // is accepted, so use the DST fixture: two rows fail in London time.
    let first = run(&mut case, "dst-gap.csv", &london_cdr(), &lenient).unwrap();
    assert_eq!(first.rows_rejected, 2);
    // The analyst learns the switch stamps were UTC after all.
    let mut fixed = london_cdr();
    fixed.time.zone = Some("UTC".into());
    let again = reimport_rejected(
        &mut case,
        &fixture("dst-gap.csv"),
        &fixed,
        &first,
        &CsvOptions::default(),
        &CancelToken::new(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!((again.rows_read, again.rows_accepted), (2, 2));
    assert_eq!(again.reimport_of_lines, Some(vec![2, 3]));
    assert_eq!(case.snapshot().unwrap().events.len(), 3);
}

#[test]
fn a_cancelled_import_leaves_the_case_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let csv = dir.path().join("big.csv");
    let mut text = String::from("caller,callee,start,duration,cell,imei\n");
    for i in 0..5000 {
        text.push_str(&format!(
            "0770090{i:04},07700900999,2024-03-01 10:00:00,60,,\n"
        ));
    }
    std::fs::write(&csv, text).unwrap();
    let before = dump(&case);
    let cancel = CancelToken::new();
    cancel.cancel();
    let err = import_csv(
        &mut case,
        &csv,
        &template("cdr"),
        &CsvOptions::default(),
        &cancel,
        &NoProgress,
    )
    .unwrap_err();
    assert!(matches!(err, IoError::Cancelled));
    assert_eq!(dump(&case), before);
}

#[test]
fn the_spec_and_hash_are_stored_with_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let r = run(
        &mut case,
        "semicolon.csv",
        &template("entities"),
        &CsvOptions::default(),
    )
    .unwrap();
    let info = case.info().unwrap();
    let b = info.batches.last().unwrap();
    assert_eq!(b.source_sha256.as_deref(), Some(r.sha256.as_str()));
    let spec: String = case
        .connection()
        .query_row("SELECT spec FROM batches WHERE id = ?1", [b.id], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(spec.contains("\"entities\""));
}

#[test]
fn an_import_runs_as_a_job_with_progress() {
    use copkit::io::{ImportPlan, SourceFormat};
    use copkit::jobs::{JobError, JobManager};
    let dir = tempfile::tempdir().unwrap();
    let (case_path, case) = temp_case(&dir, "c.copkit");
    drop(case);
    let plan = ImportPlan {
        source: fixture("phones-many-formats.csv"),
        format: SourceFormat::Csv,
        spec: Some(london_cdr()),
        sheet: None,
        opts: CsvOptions::default(),
        rejected_from: None,
    };
    let mut jobs = JobManager::new();
    let job_path = case_path.clone();
    let job = jobs
        .spawn(&plan.job_name(), move |cancel, progress| {
            let mut case =
                Case::open(&job_path, common::actor(), "OP-TEST-1").map_err(JobError::failed)?;
            plan.run(&mut case, cancel, progress)
                .map_err(JobError::failed)
        })
        .unwrap();
    let mut updates = 0;
    let report: ImportReport = job.wait(&mut jobs, |_| updates += 1).unwrap();
    assert_eq!(report.rows_accepted, 3);
    // Progress may arrive after the result; it is throttled and best effort.
    let _ = updates;
    let mut case = Case::open(&case_path, common::actor(), "check").unwrap();
    assert_eq!(case.snapshot().unwrap().events.len(), 3);
}

#[test]
fn a_phone_used_in_a_handset_is_linked_once_per_batch() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let csv = dir.path().join("calls.csv");
    std::fs::write(
        &csv,
        "caller,callee,start,duration,cell,imei\n\
         07700900001,07700900002,2024-03-01 10:00:00,60,LJ-1,356938035643809\n\
         07700900001,07700900003,2024-03-01 11:00:00,60,LJ-2,356938035643809\n",
    )
    .unwrap();
    let r = import_with(&mut case, &csv, "cdr", &CsvOptions::default()).unwrap();
    assert_eq!((r.events, r.links, r.entities_created), (2, 1, 6));
}

/// The writer looks entities up by key numbers and skips attribute values an earlier row
/// gave the same key: every spelling and value must still be kept once, for the right entity,
/// including keys that come back spelled differently, self-calls and people seen again with a
/// new value, and an entity already in the case.
#[test]
fn repeated_keys_keep_each_spelling_and_value_once() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let people = dir.path().join("people.csv");
    std::fs::write(
        &people,
        "id,type,name,phone,email,birth_date,address,note\n\
         1,Person,Ana Novak,07700900123,,,,\n\
         1,Person,Ana Novak,07700900123,,,,\n\
         2,Person,Bo Lind,07700900999,,,,first\n\
         1,Person,ANA  NOVAK,+447700900123,,,,\n\
         1,Person,Ana Novak,07700900123,,,,\n\
         2,Person,Bo Lind,07700900999,,,,second\n\
         2,Person,Bo Lind,07700900999,,,,first\n",
    )
    .unwrap();
    let go = |case: &mut Case, path: &Path, spec: &str| {
        import_with(case, path, spec, &CsvOptions::default()).unwrap()
    };
    go(&mut case, &people, "entities");
    let snap = case.snapshot().unwrap();
    let person = |id: &str| {
        snap.entities
            .iter()
            .find(|e| e.source_id.as_deref() == Some(id))
            .unwrap()
    };
    let values = |e: &copkit::model::Entity, p: &str| -> Vec<String> {
        e.values(p).map(str::to_string).collect()
    };
    // The same name in capitals is the same person (two names would be refused: see
    // one_id_with_two_names_in_one_file_is_rejected_not_merged); both spellings are kept.
    assert_eq!(values(person("1"), "name"), ["Ana Novak", "ANA  NOVAK"]);
    assert_eq!(values(person("2"), "note"), ["first", "second"]);
    assert_eq!(values(person("2"), "name"), ["Bo Lind"]);

    // Calls: one number written three ways, a self-call, and a number already in the case
    // from an earlier call import.
    let first = dir.path().join("first.csv");
    std::fs::write(
        &first,
        "caller,callee,start,duration,cell,imei\n\
         07700900555,07700900556,2024-03-01 09:00:00,60,C1,\n",
    )
    .unwrap();
    go(&mut case, &first, "cdr");
    let calls = dir.path().join("calls.csv");
    std::fs::write(
        &calls,
        "caller,callee,start,duration,cell,imei\n\
         07700900123,07700900456,2024-03-01 10:00:00,60,C1,356938035643809\n\
         +447700900123,07700900456,2024-03-01 10:01:00,60,C1,356938035643809\n\
         07700900123,07700900123,2024-03-01 10:02:00,60,C2,\n\
         07700 900123,07700900555,2024-03-01 10:03:00,60,C1,356938035643809\n\
         07700900123,+447700900555,2024-03-01 10:04:00,60,C1,\n\
         07700900555,07700900123,2024-03-01 10:05:00,60,C1,\n",
    )
    .unwrap();
    let r = go(&mut case, &calls, "cdr");
    assert_eq!(r.events, 6);
    // New: +447700900123 (the people list's phone is an attribute, not a Phone entity),
    // 07700900456, cell C2 and the handset. Matched: 07700900555 and cell C1.
    assert_eq!(r.entities_created, 4);
    assert_eq!(r.entities_merged, 2, "{:?}", r.merges);
    let snap = case.snapshot().unwrap();
    let phone = |e164: &str| {
        let found: Vec<_> = snap
            .entities
            .iter()
            .filter(|e| e.entity_type == "Phone" && e.values("number").any(|v| v == e164))
            .collect();
        assert_eq!(found.len(), 1, "one Phone holds {e164}");
        found[0]
    };
    let mut ana = values(phone("+447700900123"), "number");
    ana.sort();
    assert_eq!(
        ana,
        ["+447700900123", "07700 900123", "07700900123"],
        "each spelling once"
    );
    let mut other = values(phone("+447700900555"), "number");
    other.sort();
    assert_eq!(other, ["+447700900555", "07700900555"]);
    // The handset used twice by one phone is linked to it once.
    assert_eq!(r.links, 1);
}

#[test]
fn xlsx_imports_and_numbers_in_identifier_columns_are_rejected() {
    use copkit::io::xlsx::import_xlsx;
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph/calls.xlsx");
    let before = sha256_file(&path);
    let lenient = CsvOptions {
        lenient: true,
        ..CsvOptions::default()
    };
    let r = import_xlsx(
        &mut case,
        &path,
        None,
        &london_cdr(),
        &lenient,
        &CancelToken::new(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(sha256_file(&path), before);
    assert_eq!((r.rows_read, r.rows_accepted, r.rows_rejected), (2, 1, 1));
    assert_eq!(r.rejected[0].line, 3);
    assert_eq!(r.rejected[0].field.as_deref(), Some("caller"));
    assert!(r.rejected[0].reason.contains("as a number"));
    let snap = case.snapshot().unwrap();
    assert_eq!(
        snap.events[0].time.end_ms,
        Some(snap.events[0].time.start_ms + 60_000)
    );
    let before = dump(&case);
    let err = import_xlsx(
        &mut case,
        &fixture("zip-slip.xlsx"),
        None,
        &london_cdr(),
        &lenient,
        &CancelToken::new(),
        &NoProgress,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("outside the archive")
            && err.to_string().contains("zip-slip.xlsx"),
        "{err}"
    );
    let err = import_xlsx(
        &mut case,
        &fixture("empty.csv"),
        None,
        &london_cdr(),
        &lenient,
        &CancelToken::new(),
        &NoProgress,
    )
    .unwrap_err();
    assert!(err.to_string().contains("empty"), "{err}");
    // A workbook's spec is checked as a CSV's is: a grading under a scheme the case does not
    // have is refused before a row is read.
    let mut graded = london_cdr();
    graded.grading = Some(copkit::model::Grading {
        scheme: "no-such-scheme".into(),
        source: Some("A".into()),
        information: Some("1".into()),
        handling: None,
    });
    let err = import_xlsx(
        &mut case,
        &path,
        None,
        &graded,
        &lenient,
        &CancelToken::new(),
        &NoProgress,
    )
    .unwrap_err();
    assert!(err.to_string().contains("no-such-scheme"), "{err}");
    assert_eq!(dump(&case), before);
}

/// Rows are mapped on a second thread in chunks: a file of many chunks keeps its row order,
/// its line numbers and its rejected rows exactly as one read in a single pass would.
#[test]
fn a_file_of_many_chunks_keeps_row_order_lines_and_rejections() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calls.csv");
    let mut text = String::from("caller,callee,start,duration,cell,imei\n");
    let rows = 9_000;
    for i in 0..rows {
        // Line i + 2; lines 2 003, 5 000 and 9 001 carry a bad time.
        let line = i + 2;
        let start = if [2_003, 5_000, 9_001].contains(&line) {
            "not a time".to_string()
        } else {
            format!(
                "2024-03-01 {:02}:{:02}:{:02}",
                (i / 3600) % 24,
                (i / 60) % 60,
                i % 60
            )
        };
        text.push_str(&format!(
            "0770090{:04},0770091{:04},{start},{},C{},\n",
            i % 50,
            (i * 7) % 50,
            i % 600 + 1,
            i % 9
        ));
    }
    std::fs::write(&path, &text).unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let strict = import_with(&mut case, &path, "cdr", &CsvOptions::default());
    let Err(IoError::Rejected { report, .. }) = strict else {
        panic!("expected the strict import to be refused: {strict:?}");
    };
    let lines: Vec<u64> = report.rejected.iter().map(|p| p.line).collect();
    assert_eq!(lines, [2_003, 5_000, 9_001]);
    assert_eq!(case.snapshot().unwrap().events.len(), 0);

    let lenient = CsvOptions {
        lenient: true,
        ..CsvOptions::default()
    };
    let r = import_with(&mut case, &path, "cdr", &lenient).unwrap();
    assert_eq!(
        (r.rows_read, r.rows_accepted, r.rows_rejected),
        (9_000, 8_997, 3)
    );
    let lines: Vec<u64> = r.rejected.iter().map(|p| p.line).collect();
    assert_eq!(lines, [2_003, 5_000, 9_001]);
    // Events are written in file order: ids rise with the line number in their provenance.
    let snap = case.snapshot().unwrap();
    let mut events: Vec<_> = snap.events.iter().collect();
    events.sort_by_key(|e| e.id);
    let recorded: Vec<u64> = events
        .iter()
        .map(|e| {
            e.provenance
                .record
                .as_deref()
                .and_then(|r| r.strip_prefix("line "))
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(recorded.len(), 8_997);
    assert!(recorded.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn the_xlsx_preview_marks_the_rows_the_import_rejects() {
    use copkit::io::xlsx::preview_xlsx;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph/calls.xlsx");
    let p = preview_xlsx(
        &path,
        None,
        &london_cdr(),
        &copkit::model::Schema::default(),
        &CsvOptions::default(),
        20,
    )
    .unwrap();
    assert_eq!(p.rows.len(), 2);
    assert!(p.rows[0].problems.is_empty(), "{:?}", p.rows[0]);
    assert!(p.rows[0].makes.iter().any(|m| m.starts_with("Call ")));
    assert_eq!(p.rows[1].line, 3);
    assert_eq!(p.rows[1].problems[0].field.as_deref(), Some("caller"));
    assert!(p.encoding.contains("sheet"), "{}", p.encoding);
}

/// Date cells of a workbook (written by openpyxl) are dates, not serial numbers: a date-time,
/// one whose day is below 13 (day and month could be swapped if read as text), and a date
/// alone; duration cells are read as their seconds.
#[test]
fn xlsx_date_cells_are_read_as_dates_and_durations_as_seconds() {
    use copkit::io::xlsx::import_xlsx;
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xlsx/dates.xlsx");
    let mut spec = template("cdr");
    spec.time.zone = Some("UTC".into());
    let r = import_xlsx(
        &mut case,
        &path,
        None,
        &spec,
        &CsvOptions::default(),
        &CancelToken::new(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!((r.rows_accepted, r.rows_rejected), (3, 0), "{r:?}");
    let snap = case.snapshot().unwrap();
    let mut times: Vec<(String, i64, Option<i64>)> = snap
        .events
        .iter()
        .map(|e| {
            (
                e.time.original_text.clone().unwrap_or_default(),
                e.time.start_ms,
                e.time.end_ms.map(|end| end - e.time.start_ms),
            )
        })
        .collect();
    times.sort();
    let at = |s: &str| {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
            .unwrap()
            .and_utc()
            .timestamp_millis()
    };
    assert_eq!(
        times,
        vec![
            (
                "2024-02-01".to_string(),
                at("2024-02-01 00:00:00"),
                Some(3_600_000)
            ),
            (
                "2024-03-04T21:15:30".to_string(),
                at("2024-03-04 21:15:30"),
                Some(125_000)
            ),
            (
                "2024-11-05T08:00:00".to_string(),
                at("2024-11-05 08:00:00"),
                Some(42_000)
            ),
        ]
    );
}
