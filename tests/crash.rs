//! Crash safety: a child process applying commands in a loop is killed with SIGKILL at random
//! moments. Every reopen must pass `PRAGMA integrity_check`, verify the audit chain, and hold
//! exactly the state after every command the child reported committed (or one more, when the
//! kill came between a commit and its report).
//!
//! `COPKIT_CRASH_ITERATIONS` sets the number of kills (default 200; use 1000+ for a long run).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]

mod common;

use common::actor;
use copkit::store::{Case, ChainCheck};
use rand::{RngExt, SeedableRng};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

/// How many steps of the writer's sequence a case holds: each step writes exactly one audit
/// record in the transaction of its change, so the audit log counts them.
fn steps_committed(case: &Case) -> u64 {
    case.audit_records()
        .unwrap()
        .iter()
        .filter(|r| {
            matches!(
                r.action.as_str(),
                "create entity" | "edit entity" | "undo" | "redo"
            )
        })
        .count() as u64
}

/// The labels a case holds after the writer's first `steps` steps, in creation order. The
/// writer's sequence (src/cli/debug.rs), four steps per person n = 0, 4, 8, ...: create
/// "p{n}", edit it to "p{n}*", undo the edit, redo it.
fn expected_labels(steps: u64) -> Vec<String> {
    (0..steps)
        .step_by(4)
        .map(|n| match steps - n {
            1 | 3 => format!("p{n}"),
            _ => format!("p{n}*"),
        })
        .collect()
}

/// Runs the writer until it reports its first commit (at most a minute), then kills it.
fn time_to_first_commit(path: &std::path::Path) -> Duration {
    let started = std::time::Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_copkit"))
        .arg("debug-crash-writer")
        .arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the writer");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.starts_with("committed ") {
                tx.send(()).ok();
                break;
            }
        }
    });
    let waited = rx.recv_timeout(Duration::from_secs(60));
    let elapsed = started.elapsed();
    child.kill().ok();
    child.wait().ok();
    assert!(
        waited.is_ok(),
        "the writer committed nothing within a minute"
    );
    elapsed
}

#[test]
fn killing_a_writer_at_random_moments_never_loses_a_committed_change() {
    let iterations: u32 = std::env::var("COPKIT_CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.copkit");
    Case::create(&path, "crash test", actor(), "crash test").unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x00C0_FFEE);
    let started = std::time::Instant::now();
    // How long this machine takes from start to the first commit, now (a loaded machine is
    // ten times slower than a quiet one): the kill times below are scaled by it, so that
    // kills land in start-up and among commits whatever the load.
    let first_commit = time_to_first_commit(&path);
    let unit_ms = (first_commit.as_millis() as u64).clamp(10, 5_000);
    let mut last_reported = steps_committed(&Case::open(&path, actor(), "crash test").unwrap());
    let mut kills_mid_run = 0;

    for iteration in 0..iterations {
        let mut child = Command::new(env!("CARGO_BIN_EXE_copkit"))
            .arg("debug-crash-writer")
            .arg(&path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the writer");
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut last = None;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(n) = line.strip_prefix("committed ") {
                    last = n.parse::<u64>().ok();
                }
            }
            last
        });
        // Mostly short runs (kills during start-up and early commits), sometimes longer.
        let wait_ms = if rng.random_bool(0.8) {
            rng.random_range(0..2 * unit_ms)
        } else {
            rng.random_range(2 * unit_ms..10 * unit_ms)
        };
        std::thread::sleep(Duration::from_millis(wait_ms));
        let still_running = child.try_wait().unwrap().is_none();
        child.kill().ok(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        if still_running {
            kills_mid_run += 1;
        } else {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).ok();
            panic!("iteration {iteration}: the writer exited by itself ({status}): {err}");
        }
        if let Some(n) = reader.join().unwrap() {
            assert!(
                n >= last_reported,
                "the writer went backwards: {n} after {last_reported}"
            );
            last_reported = n;
        }

        let mut case = Case::open(&path, actor(), "crash test check")
            .unwrap_or_else(|e| panic!("iteration {iteration}: reopen failed: {e}"));
        assert_eq!(
            case.integrity_check().unwrap(),
            "ok",
            "iteration {iteration}"
        );
        match case.verify_audit().unwrap() {
            ChainCheck::Intact { .. } => {}
            broken => panic!("iteration {iteration}: audit chain broken: {broken:?}"),
        }
        let committed = steps_committed(&case);
        assert!(
            committed == last_reported || committed == last_reported + 1,
            "iteration {iteration}: the case holds {committed} steps but the writer reported {last_reported}"
        );
        let labels: Vec<String> = case
            .snapshot()
            .unwrap()
            .entities
            .iter()
            .map(|e| e.label.clone())
            .collect();
        assert_eq!(labels, expected_labels(committed), "iteration {iteration}");
        last_reported = committed;
    }
    assert!(kills_mid_run as u32 == iterations);
    // The figures BENCHMARKS.md quotes (run with --nocapture to see them).
    eprintln!(
        "crash test: {kills_mid_run} kills, 0 damaged or inconsistent reopens, {last_reported} steps committed, {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        last_reported > 20,
        "the writer hardly ran ({last_reported} steps); the test proves little"
    );
}
