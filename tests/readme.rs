//! The README's example commands work as written.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]

use std::process::{Command, Stdio};

/// The shell lines of the README's example block that run `copkit`.
fn readme_copkit_lines() -> Vec<String> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let after = readme
        .split("Example:")
        .nth(1)
        .expect("the README has an Example: block");
    let block = after
        .split("```sh")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    block
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("copkit "))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_readme_example_runs_as_written() {
    let lines = readme_copkit_lines();
    assert!(lines.len() >= 4, "{lines:?}");
    let dir = tempfile::tempdir().unwrap();
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_copkit"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for line in &lines {
        let out = Command::new("sh")
            .arg("-c")
            .arg(line)
            .current_dir(dir.path())
            .env("PATH", &path)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "`{line}` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let audit = std::fs::read_to_string(dir.path().join("audit.csv")).unwrap();
    assert!(audit.contains("DPO audit 2024-Q3"), "{audit}");
}
