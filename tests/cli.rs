//! The `copkit` command line as a user runs it: exit codes, purposes, messages.

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

#[test]
fn new_info_audit_verify_and_show() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("op-nightjar.copkit");
    let out = copkit(&[
        "new",
        s(&case),
        "--title",
        "Operation Nightjar",
        "--purpose",
        "OP-2024-17",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Operation Nightjar"));

    let out = copkit(&["info", s(&case), "--purpose", "OP-2024-17 review"]);
    assert!(out.status.success(), "{}", text(&out));
    let info = text(&out);
    for expected in [
        "Operation Nightjar",
        "Case format:     version 8",
        "admiralty",
        "uk-3x5x2",
        "5x5x5",
        "Audit log:",
    ] {
        assert!(info.contains(expected), "missing {expected:?} in:\n{info}");
    }

    let out = copkit(&["info", s(&case), "--purpose", "x", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["title"], "Operation Nightjar");

    let out = copkit(&["audit", "verify", s(&case), "--purpose", "DPO check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("intact"));

    let out = copkit(&[
        "audit",
        "show",
        s(&case),
        "--purpose",
        "DPO check",
        "--format",
        "csv",
    ]);
    assert!(out.status.success());
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "seq,time_utc,category,action,actor_os,actor_analyst,purpose,details,prev_hash,hash"
    );
    let rows: Vec<&str> = lines.collect();
    // create, info x2 (consultations), verify (consultation after the check), show
    assert_eq!(rows.len(), 5, "{csv}");
    assert!(rows[0].contains("create case"));
    assert!(
        rows[1].contains("consultation")
            && rows[1].contains("OP-2024-17 review")
            && rows[1].contains("CLI Tester")
    );
    assert!(rows[3].contains("audit verify"));

    let out = copkit(&[
        "audit",
        "show",
        s(&case),
        "--purpose",
        "DPO check",
        "--format",
        "json",
    ]);
    let records: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(records.len(), 6);
    assert_eq!(records[5]["action"], "open case");
}

#[test]
fn a_tampered_log_fails_verification_with_exit_1_and_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("c.copkit");
    assert!(
        copkit(&["new", s(&case), "--purpose", "p"])
            .status
            .success()
    );
    assert!(
        copkit(&["info", s(&case), "--purpose", "p"])
            .status
            .success()
    );
    let conn = rusqlite::Connection::open(&case).unwrap();
    conn.execute_batch(
        "DROP TRIGGER audit_no_update; UPDATE audit SET purpose = 'altered' WHERE seq = 2;",
    )
    .unwrap();
    drop(conn);
    let before = common::sha256_file(&case);
    let out = copkit(&["audit", "verify", s(&case), "--purpose", "p"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("BROKEN at record 2"), "{}", text(&out));
    assert_eq!(common::sha256_file(&case), before);
}

#[test]
fn without_a_purpose_and_no_terminal_the_user_gets_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("c.copkit");
    let out = copkit(&["new", s(&case)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("--purpose"), "{}", text(&out));
    assert!(!case.exists());
}

#[test]
fn failures_exit_1_with_a_message_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("notes.copkit");
    std::fs::write(&bogus, "just some notes\n").unwrap();
    let out = copkit(&["info", s(&bogus), "--purpose", "p"]);
    assert_eq!(out.status.code(), Some(1));
    let msg = text(&out);
    assert!(
        msg.contains("not a COPKIT case file") && msg.contains(s(&bogus)),
        "{msg}"
    );

    let out = copkit(&["new", s(&bogus), "--purpose", "p"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(&bogus).unwrap(),
        "just some notes\n"
    );
}

#[test]
fn help_is_available_everywhere_and_bad_usage_exits_2() {
    for args in [
        vec!["--help"],
        vec!["new", "--help"],
        vec!["info", "--help"],
        vec!["audit", "--help"],
        vec!["audit", "verify", "--help"],
        vec!["audit", "show", "--help"],
    ] {
        let out = copkit(&args);
        assert!(out.status.success(), "{args:?}");
        assert!(text(&out).contains("Usage"), "{args:?}");
    }
    let out = copkit(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("neither a subcommand nor an existing case file"),
        "{}",
        text(&out)
    );
    assert_eq!(
        copkit(&["audit", "show", "x", "--format", "xml"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn bench_layout_times_a_generated_graph_and_an_edge_list() {
    let out = copkit(&["bench-layout", "--nodes", "300", "--iterations", "3"]);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("300 nodes, 891 edges"), "{t}");
    assert!(
        t.contains("threads: ") && t.contains("iterations/s: "),
        "{t}"
    );
    let dir = tempfile::tempdir().unwrap();
    let edges = dir.path().join("edges.txt");
    std::fs::write(&edges, "0 1\n1 2\n2 0\n").unwrap();
    let out = copkit(&[
        "bench-layout",
        "--edges-file",
        s(&edges),
        "--iterations",
        "2",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("3 nodes, 3 edges"));
    // Neither a size nor a file, or no iterations: usage errors.
    assert_eq!(copkit(&["bench-layout"]).status.code(), Some(2));
    assert_eq!(
        copkit(&["bench-layout", "--nodes", "10", "--iterations", "0"])
            .status
            .code(),
        Some(2)
    );
}

/// Issue 3's "a medium case passes `copkit audit verify`", run as a user runs it: the
/// medium preset (5,000 people, about half a million events) through `copkit generate`, then
/// `copkit audit verify` on the file it wrote.
#[test]
fn a_generated_medium_case_passes_audit_verify() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("medium.copkit");
    let out = copkit(&[
        "generate",
        "--scenario",
        "drug-trafficking",
        "--seed",
        "2",
        "--size",
        "medium",
        "--out",
        s(&case),
        "--purpose",
        "training",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let summary = text(&out);
    let events: u64 = summary
        .split(" events")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no event count in:\n{summary}"));
    assert!(
        (400_000..600_000).contains(&events),
        "a medium case has about 500,000 events, this one {events}"
    );

    let out = copkit(&["audit", "verify", s(&case), "--purpose", "DPO check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("Audit log intact"), "{}", text(&out));
}
