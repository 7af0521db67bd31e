//! `copkit import` and `copkit export` as a user runs them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn copkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_copkit"))
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

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A new case, made with `copkit new`, in a new temporary folder.
fn new_case() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("c.copkit");
    assert!(
        copkit(&["new", s(&case), "--purpose", "OP-1"])
            .status
            .success()
    );
    (dir, case)
}

#[test]
fn import_prints_the_report_and_export_writes_a_manifest() {
    let (dir, case) = new_case();
    let src = dir.path().join("calls.csv");
    std::fs::write(
        &src,
        "caller,callee,start,duration,cell,imei\n07700900001,07700900002,2024-03-01 10:00:00,60,LJ-1,356938035643809\n",
    )
    .unwrap();
    let report = dir.path().join("report.json");
    let out = copkit(&[
        "import",
        s(&src),
        "--into",
        s(&case),
        "--template",
        "cdr",
        "--purpose",
        "OP-1",
        "--timezone",
        "Europe/London",
        "--report",
        s(&report),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("1 read, 1 accepted, 0 rejected"), "{t}");
    assert!(t.contains("SHA-256:"), "{t}");
    assert!(report.exists());
    // The import runs as a job with a progress line on a terminal, and none when piped.
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "caller,callee,start,duration,cell,imei\n4.47E+11,07700900002,2024-03-01 10:00:00,60,,\n",
    )
    .unwrap();
    let out = copkit(&[
        "import",
        s(&bad),
        "--into",
        s(&case),
        "--template",
        "cdr",
        "--purpose",
        "OP-1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("line 2, field 'caller'"),
        "{}",
        text(&out)
    );
    // The core's message is worded for any front end; the command line adds its flag.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("import leniently") && err.contains("hint: add --lenient"),
        "{err}"
    );

    // Re-import only the rejected rows after fixing the file's problem in the spec: here the
    // row stays bad, so it is rejected again and the report says so.
    let bad_report = dir.path().join("bad-report.json");
    let out = copkit(&[
        "import",
        s(&bad),
        "--into",
        s(&case),
        "--template",
        "cdr",
        "--purpose",
        "OP-1",
        "--lenient",
        "--report",
        s(&bad_report),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let out = copkit(&[
        "import",
        s(&bad),
        "--into",
        s(&case),
        "--template",
        "cdr",
        "--purpose",
        "OP-1",
        "--rejected-from",
        s(&bad_report),
    ]);
    assert!(
        text(&out).contains("1 read, 0 accepted, 1 rejected"),
        "{}",
        text(&out)
    );

    let out = copkit(&["import", s(&bad), "--into", s(&case), "--purpose", "OP-1"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    let gml = dir.path().join("out.graphml");
    let out = copkit(&[
        "export",
        s(&case),
        "--format",
        "graphml",
        "--out",
        s(&gml),
        "--purpose",
        "OP-1",
        "--recipient",
        "CPS",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("not exported: 1 events"),
        "{}",
        text(&out)
    );
    assert!(dir.path().join("out.graphml.manifest.json").exists());
    let out = copkit(&[
        "export",
        s(&case),
        "--format",
        "i2csv",
        "--out",
        s(&case),
        "--purpose",
        "OP-1",
        "--recipient",
        "CPS",
    ]);
    assert_eq!(out.status.code(), Some(1));
}

/// `--rejected-from` re-imports rows of a table; a graph or FollowTheMoney file is imported
/// whole, so the option is refused with a message saying so (it used to be ignored, and the
/// whole file imported again), and nothing is imported.
#[test]
fn rejected_from_is_refused_for_a_graph_file() {
    let (dir, case) = new_case();
    let graph = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph/networkx.graphml");
    let report = dir.path().join("report.json");
    let import = |option: &str| {
        copkit(&[
            "import",
            s(&graph),
            "--into",
            s(&case),
            "--purpose",
            "OP-1",
            option,
            s(&report),
        ])
    };
    let out = import("--report");
    assert!(out.status.success(), "{}", text(&out));
    let batches = || {
        copkit::store::Case::open_unrecorded(&case, common::actor(), "check")
            .unwrap()
            .info()
            .unwrap()
            .batches
            .len()
    };
    assert_eq!(batches(), 1);
    let out = import("--rejected-from");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("a GraphML file is imported whole"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("networkx.graphml"), "{}", text(&out));
    assert_eq!(batches(), 1, "nothing was imported again");
}

/// Files saved under another tool's extension are read by what they hold: GraphML as `.gml`,
/// FollowTheMoney as `.json` and `.ijson`.
#[test]
fn formats_are_recognised_by_content_under_other_extensions() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph");
    for (fixture, renamed) in [
        ("networkx.graphml", "export.gml"),
        ("sample.ftm.json", "entities.json"),
        ("sample.ftm.json", "aleph.ijson"),
    ] {
        let (dir, case) = new_case();
        let file = dir.path().join(renamed);
        std::fs::copy(fixtures.join(fixture), &file).unwrap();
        let out = copkit(&["import", s(&file), "--into", s(&case), "--purpose", "OP-1"]);
        assert!(out.status.success(), "{renamed}: {}", text(&out));
        assert!(text(&out).contains("accepted"), "{renamed}: {}", text(&out));
    }
}

/// `copkit verify-sources` hashes each import's source again: unchanged, then changed (exit 1),
/// then missing; each check is recorded as a consultation.
#[test]
fn verify_sources_reports_unchanged_changed_and_missing_files() {
    let (dir, case) = new_case();
    let csv = dir.path().join("calls.csv");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cdr.csv"),
        &csv,
    )
    .unwrap();
    let out = copkit(&[
        "import",
        s(&csv),
        "--into",
        s(&case),
        "--template",
        "cdr",
        "--purpose",
        "OP-1",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let verify = || copkit(&["verify-sources", s(&case), "--purpose", "DPO review"]);
    let out = verify();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("B1"), "{}", text(&out));
    assert!(text(&out).contains("unchanged"), "{}", text(&out));

    let mut bytes = std::fs::read(&csv).unwrap();
    bytes.extend_from_slice(b"\n");
    std::fs::write(&csv, bytes).unwrap();
    let out = verify();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("CHANGED"), "{}", text(&out));

    std::fs::remove_file(&csv).unwrap();
    let out = verify();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("missing"), "{}", text(&out));

    let log = copkit(&["audit", "show", s(&case), "--purpose", "DPO review"]);
    let checks = text(&log).matches("verify sources").count();
    assert!(checks >= 3, "{}", text(&log));
}

/// A file whose content is another format than the one asked for is refused before anything is
/// read into the case, and the message names the format found and the flag that reads it.
#[test]
fn a_file_of_another_format_names_the_format_and_the_flag() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph");
    let (dir, case) = new_case();
    let file = dir.path().join("graph.xml");
    std::fs::copy(fixtures.join("networkx.graphml"), &file).unwrap();
    let out = copkit(&[
        "import",
        s(&file),
        "--into",
        s(&case),
        "--format",
        "gexf",
        "--purpose",
        "OP-1",
    ]);
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("this file is GraphML, not GEXF"), "{t}");
    assert!(t.contains("--format graphml"), "{t}");
    assert!(t.contains("graph.xml"), "{t}");
    assert!(!t.contains("--spec"), "the message blames the spec: {t}");
}

/// A FIFO given as the source is refused at once (opening it to look at its first bytes
/// would wait for a writer forever).
#[cfg(unix)]
#[test]
fn a_fifo_as_the_source_is_refused_without_hanging() {
    let (dir, case) = new_case();
    let fifo = dir.path().join("calls.csv");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    for format in [None, Some("graphml"), Some("csv")] {
        let mut args = vec![
            "import",
            s(&fifo),
            "--into",
            s(&case),
            "--template",
            "cdr",
            "--purpose",
            "OP-1",
        ];
        if let Some(f) = format {
            args.extend(["--format", f]);
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_copkit"))
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        // Not a timing goal: a hang would otherwise hang the test suite.
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > std::time::Duration::from_secs(60) {
                child.kill().unwrap();
                panic!("copkit import hung on a FIFO ({format:?})");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        assert!(!out.status.success());
        let t = text(&out);
        assert!(t.contains("FIFO"), "{format:?}: {t}");
    }
}

/// `import --report` naming the case or the source is refused before the import runs, so a
/// retry cannot import the file twice.
#[test]
fn a_report_path_over_the_case_or_the_source_is_refused_before_importing() {
    let (dir, case) = new_case();
    let src = dir.path().join("calls.csv");
    std::fs::write(
        &src,
        "caller,callee,start,duration,cell,imei\n07700900001,07700900002,2024-03-01 10:00:00,60,LJ-1,356938035643809\n",
    )
    .unwrap();
    let source_before = std::fs::read(&src).unwrap();
    for report in [&case, &src] {
        let out = copkit(&[
            "import",
            s(&src),
            "--into",
            s(&case),
            "--template",
            "cdr",
            "--report",
            s(report),
            "--purpose",
            "OP-1",
        ]);
        assert!(!out.status.success(), "{}", text(&out));
        assert!(text(&out).contains("refused"), "{}", text(&out));
    }
    assert_eq!(std::fs::read(&src).unwrap(), source_before);
    let info = copkit(&["info", s(&case)]);
    assert!(
        !text(&info).contains("calls.csv"),
        "a refused import left a batch: {}",
        text(&info)
    );
}

/// A workbook with cells only in A1 and XFD1048576 (17 billion cells as a grid) is refused
/// with the bound named, under a memory limit that the grid would blow.
#[cfg(unix)]
#[test]
fn a_sparse_workbook_spanning_the_whole_sheet_is_refused_under_a_memory_limit() {
    let bad = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad/sparse-corners.xlsx");
    let (_dir, case) = new_case();
    let before = std::fs::read(&bad).unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v 4000000; exec '{}' import '{}' --into '{}' --template entities --purpose OP-1",
            env!("CARGO_BIN_EXE_copkit"),
            bad.display(),
            case.display()
        ))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("max_sheet_cells"), "{t}");
    assert!(t.contains("sparse-corners.xlsx"), "{t}");
    assert_eq!(std::fs::read(&bad).unwrap(), before);
}
