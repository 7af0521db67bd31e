//! The generator's raw source files import through the built-in templates: the import path can
//! be shown with the same data the generator planted.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn copkit(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_copkit"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run copkit")
}

fn ok(out: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    text
}

#[test]
fn generated_call_records_and_bank_statements_import_with_the_templates() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&copkit(
        d,
        &[
            "generate",
            "--scenario",
            "fraud",
            "--seed",
            "3",
            "--out",
            "gen.copkit",
            "--sources-dir",
            "src",
            "--purpose",
            "T",
        ],
    ));
    ok(&copkit(d, &["new", "imported.copkit", "--purpose", "T"]));
    for (file, template) in [
        ("src/call_records.csv", "cdr"),
        ("src/bank_statements.csv", "bank"),
    ] {
        let report = d.join(format!("{template}.json"));
        ok(&copkit(
            d,
            &[
                "import",
                file,
                "--into",
                "imported.copkit",
                "--template",
                template,
                "--purpose",
                "T",
                "--report",
                report.to_str().unwrap(),
            ],
        ));
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        let text = report.to_string();
        let lines = std::fs::read_to_string(d.join(file))
            .unwrap()
            .lines()
            .count() as u64
            - 1;
        assert!(
            text.contains(&format!("{lines}")),
            "{template}: {lines} rows not all reported: {text}"
        );
    }
    let info = ok(&copkit(
        d,
        &[
            "info",
            "imported.copkit",
            "--purpose",
            "T",
            "--format",
            "json",
        ],
    ));
    let info: serde_json::Value =
        serde_json::from_str(&info[..info.rfind('}').unwrap() + 1]).unwrap();
    let events: i64 = info["events_by_type"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[1].as_i64().unwrap())
        .sum();
    assert!(events > 1000, "{info}");
    ok(&copkit(
        d,
        &["audit", "verify", "imported.copkit", "--purpose", "T"],
    ));
}
