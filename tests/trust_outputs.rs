//! Every output on record or not at all (issue 26): an export whose disclosure cannot be
//! committed leaves nothing behind, a refused export is recorded as a refused disclosure, and
//! exports and generations killed with SIGKILL at random moments leave either nothing under
//! the final name or a complete output whose disclosure is in the case's audit log.
//!
//! `COPKIT_OUTPUT_CRASH_ITERATIONS` sets the number of kills per command (default 25).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]

mod common;

use common::{actor, sha256_file};
use copkit::generate::{self, GenerateOptions, Scenario, Size};
use copkit::io::IoError;
use copkit::io::export::{ExportFormat, ExportRequest, Manifest, export};
use copkit::jobs::{CancelToken, NoProgress};
use copkit::store::{Case, ChainCheck};
use rand::{RngExt, SeedableRng};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn iterations() -> u32 {
    std::env::var("COPKIT_OUTPUT_CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25)
}

/// A generated training case (a few hundred people, a few thousand events): big enough that
/// an export takes a while, made by the real generator.
fn training_case(dir: &Path, people: u32) -> PathBuf {
    let path = dir.join("case.copkit");
    let mut opts = GenerateOptions::new(Scenario::Fraud, 7, Size::Small);
    opts.people = Some(people);
    generate::generate(
        &path,
        &opts,
        actor(),
        "test",
        &CancelToken::new(),
        &NoProgress,
    )
    .unwrap();
    path
}

fn request(format: ExportFormat, out: &Path) -> ExportRequest {
    ExportRequest {
        format,
        out: out.to_path_buf(),
        recipient: "CPS".into(),
        override_reason: None,
        only: None,
    }
}

fn manifest_of(out: &Path) -> PathBuf {
    let mut p = out.as_os_str().to_owned();
    p.push(".manifest.json");
    PathBuf::from(p)
}

/// The names in a folder, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn audit_actions(case: &Case) -> Vec<(String, String, serde_json::Value)> {
    case.audit_records()
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r.category,
                r.action,
                serde_json::from_str(&r.details).unwrap(),
            )
        })
        .collect()
}

/// Holds a write lock on the case from another connection, as another program writing to
/// it would: reads go on, but no audit record can be committed.
fn hold_write_lock(path: &Path) -> rusqlite::Connection {
    let other = rusqlite::Connection::open(path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    other
}

#[test]
fn an_export_whose_disclosure_cannot_be_recorded_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let case_path = training_case(dir.path(), 60);
    let mut case = Case::open(&case_path, actor(), "test").unwrap();
    let records_before = case.audit_records().unwrap().len();
    let before = names(dir.path());
    // One file format and one folder format.
    for (format, name) in [
        (ExportFormat::GraphMl, "out.graphml"),
        (ExportFormat::Csv, "out-csv"),
    ] {
        let out = dir.path().join(name);
        let lock = hold_write_lock(&case_path);
        let err = export(
            &mut case,
            &request(format, &out),
            &CancelToken::new(),
            &NoProgress,
        )
        .unwrap_err();
        drop(lock);
        assert!(matches!(err, IoError::NotRecorded { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains("not delivered"), "{text}");
        assert!(text.ends_with(&out.display().to_string()), "{text}");
        assert!(!out.exists(), "{format:?}: the output was left");
        assert!(
            !manifest_of(&out).exists(),
            "{format:?}: the manifest was left"
        );
        assert_eq!(names(dir.path()), before, "{format:?}: files were left");
    }
    assert_eq!(case.audit_records().unwrap().len(), records_before);
    // Once the case is free the same export goes through, on record.
    let out = dir.path().join("out.graphml");
    let rep = export(
        &mut case,
        &request(ExportFormat::GraphMl, &out),
        &CancelToken::new(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(rep.manifest.outputs[0].0, out.display().to_string());
    assert_eq!(rep.manifest.outputs[0].1, sha256_file(&out));
    let (category, action, details) = audit_actions(&case).pop().unwrap();
    assert_eq!(
        (category.as_str(), action.as_str()),
        ("disclosure", "export")
    );
    assert_eq!(details["outputs"][0][1], sha256_file(&out));
    assert_eq!(
        details["manifest_sha256"],
        sha256_file(&manifest_of(&out)),
        "the record holds the manifest as written"
    );
    let mut expected = before.clone();
    expected.extend([
        "out.graphml".to_string(),
        "out.graphml.manifest.json".into(),
    ]);
    expected.sort();
    assert_eq!(names(dir.path()), expected, "no temporary file is left");
}

#[test]
fn a_folder_export_names_its_final_files_and_leaves_no_temporary_one() {
    let dir = tempfile::tempdir().unwrap();
    let case_path = training_case(dir.path(), 60);
    let mut case = Case::open(&case_path, actor(), "test").unwrap();
    let out = dir.path().join("tables");
    let rep = export(
        &mut case,
        &request(ExportFormat::Csv, &out),
        &CancelToken::new(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(names(&out), ["entities.csv", "events.csv", "links.csv"]);
    for (path, sha) in &rep.manifest.outputs {
        assert!(Path::new(path).starts_with(&out), "{path}");
        assert_eq!(&sha256_file(Path::new(path)), sha);
    }
    assert!(
        names(dir.path())
            .iter()
            .all(|n| !n.contains("copkit-partial")),
        "{:?}",
        names(dir.path())
    );
}

#[test]
fn refused_exports_are_recorded_as_refused_disclosures() {
    let dir = tempfile::tempdir().unwrap();
    let case_path = training_case(dir.path(), 60);
    let mut case = Case::open(&case_path, actor(), "test").unwrap();
    let existing = dir.path().join("taken.csv");
    std::fs::write(&existing, "keep me").unwrap();
    let cases: [(ExportRequest, &str); 3] = [
        (request(ExportFormat::I2Csv, &existing), "already exists"),
        (request(ExportFormat::I2Csv, &case_path), "open case"),
        (
            ExportRequest {
                recipient: " ".into(),
                ..request(ExportFormat::I2Csv, &dir.path().join("x.csv"))
            },
            "recipient",
        ),
    ];
    for (req, why) in cases {
        let err = export(&mut case, &req, &CancelToken::new(), &NoProgress).unwrap_err();
        assert!(matches!(err, IoError::Refused { .. }), "{err}");
        assert!(err.to_string().contains(why), "{err}");
        let (category, action, details) = audit_actions(&case).pop().unwrap();
        assert_eq!(
            (category.as_str(), action.as_str()),
            ("disclosure", "export refused")
        );
        assert_eq!(details["out"], req.out.display().to_string());
        assert!(
            details["reason"].as_str().unwrap().contains(why),
            "{details}"
        );
        assert_eq!(details["format"], "i2_csv");
    }
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me");
    assert_eq!(
        case.verify_audit().unwrap(),
        ChainCheck::Intact {
            records: case.audit_records().unwrap().len() as i64,
            head: case.meta("audit_head").unwrap().unwrap()
        }
    );
}

#[test]
fn a_refusal_that_cannot_be_recorded_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let case_path = training_case(dir.path(), 60);
    let mut case = Case::open(&case_path, actor(), "test").unwrap();
    let existing = dir.path().join("taken.csv");
    std::fs::write(&existing, "keep me").unwrap();
    let lock = hold_write_lock(&case_path);
    let err = export(
        &mut case,
        &request(ExportFormat::I2Csv, &existing),
        &CancelToken::new(),
        &NoProgress,
    )
    .unwrap_err();
    drop(lock);
    let text = err.to_string();
    assert!(text.contains("already exists"), "{text}");
    assert!(text.contains("could not be recorded"), "{text}");
}

/// Checks a folder after a killed export to `out`: nothing under the final names, or a
/// complete output with its manifest, both matching a disclosure in the case's audit log.
/// Temporary `.copkit-partial` files may be left (they are removed before the next run).
/// Returns whether a complete export was found.
fn check_after_kill(case_path: &Path, out: &Path, folder: bool, iteration: u32) -> bool {
    let manifest = manifest_of(out);
    let case = Case::open(case_path, actor(), "crash check")
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
    let disclosures: Vec<serde_json::Value> = audit_actions(&case)
        .into_iter()
        .filter(|(c, a, _)| c == "disclosure" && a == "export")
        .map(|(_, _, d)| d)
        .filter(|d| d["manifest"] == manifest.display().to_string())
        .collect();
    if manifest.exists() {
        // Any manifest under its final name is on record, byte for byte.
        let record = disclosures.last().unwrap_or_else(|| {
            panic!("iteration {iteration}: a manifest is under its final name without a disclosure")
        });
        assert_eq!(
            record["manifest_sha256"],
            sha256_file(&manifest),
            "iteration {iteration}: the manifest is not the one recorded"
        );
    }
    if !out.exists() {
        return false;
    }
    assert!(
        manifest.exists(),
        "iteration {iteration}: an output under its final name without its manifest"
    );
    let m: Manifest = serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    if folder {
        assert_eq!(names(out), ["entities.csv", "events.csv", "links.csv"]);
    }
    for (path, sha) in &m.outputs {
        assert_eq!(
            &sha256_file(Path::new(path)),
            sha,
            "iteration {iteration}: {path} is cut or changed"
        );
    }
    let record = disclosures.last().unwrap();
    assert_eq!(
        record["outputs"],
        serde_json::to_value(&m.outputs).unwrap(),
        "iteration {iteration}"
    );
    true
}

/// Removes what a run left, so the next run starts from the case alone.
fn clear_outputs(dir: &Path, keep: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.file_name() == keep.file_name() {
            continue;
        }
        if p.is_dir() {
            std::fs::remove_dir_all(&p).unwrap();
        } else {
            std::fs::remove_file(&p).unwrap();
        }
    }
}

/// Runs `copkit` with `args` and kills it after `wait`; returns whether it was still running.
fn run_and_kill(args: &[&str], wait: Duration) -> bool {
    let mut child = Command::new(env!("CARGO_BIN_EXE_copkit"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start copkit");
    std::thread::sleep(wait);
    let running = child.try_wait().unwrap().is_none();
    child.kill().ok(); // SIGKILL on Unix
    child.wait().unwrap();
    running
}

/// How long a command takes to run to its end, to spread the kills over it.
fn time_full_run(args: &[&str]) -> Duration {
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_copkit"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run copkit");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    started.elapsed()
}

#[test]
fn killed_exports_leave_nothing_or_a_complete_recorded_output() {
    let dir = tempfile::tempdir().unwrap();
    let case_path = training_case(dir.path(), 150);
    let case_arg = case_path.to_str().unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x0E_C0_27);
    for (format, folder) in [("csv", true), ("graphml", false)] {
        let out = dir.path().join(format!("export-{format}"));
        let out_arg = out.to_str().unwrap().to_string();
        let args = [
            "export",
            case_arg,
            "--format",
            format,
            "--out",
            &out_arg,
            "--recipient",
            "CPS",
            "--purpose",
            "crash test",
        ];
        let full = time_full_run(&args);
        assert!(check_after_kill(&case_path, &out, folder, 0));
        clear_outputs(dir.path(), &case_path);
        let (mut complete, mut absent) = (0, 0);
        for iteration in 1..=iterations() {
            // Anywhere from start-up to past the usual end (a run timed alone is faster than
            // one beside other tests).
            let wait = full.mul_f64(rng.random_range(0.0..1.4));
            run_and_kill(&args, wait);
            if check_after_kill(&case_path, &out, folder, iteration) {
                complete += 1;
            } else {
                absent += 1;
            }
            clear_outputs(dir.path(), &case_path);
        }
        eprintln!(
            "{format}: full run {full:?}; after {} kills: {complete} complete, {absent} absent",
            iterations()
        );
        assert!(
            absent > 0,
            "{format}: no kill came before the end; the test proves little"
        );
    }
}

/// Checks a generated case at `out` after a kill: absent, or whole (sound, audit intact,
/// ground truth stored).
fn check_generated(out: &Path, iteration: u32) -> bool {
    if !out.exists() {
        return false;
    }
    let case = Case::open(out, actor(), "crash check")
        .unwrap_or_else(|e| panic!("iteration {iteration}: the generated case does not open: {e}"));
    assert_eq!(
        case.integrity_check().unwrap(),
        "ok",
        "iteration {iteration}"
    );
    assert!(
        matches!(case.verify_audit().unwrap(), ChainCheck::Intact { .. }),
        "iteration {iteration}"
    );
    let truth = generate::read_truth(&case)
        .unwrap()
        .unwrap_or_else(|| panic!("iteration {iteration}: a case without its ground truth"));
    assert!(!truth.members.is_empty(), "iteration {iteration}");
    true
}

#[test]
fn killed_generations_leave_nothing_or_a_whole_case_with_its_truth() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("training.copkit");
    let out_arg = out.to_str().unwrap().to_string();
    let args = [
        "generate",
        "--scenario",
        "firearms",
        "--seed",
        "3",
        "--out",
        &out_arg,
        "--people",
        "300",
        "--purpose",
        "crash test",
    ];
    let full = time_full_run(&args);
    assert!(check_generated(&out, 0));
    assert_eq!(names(dir.path()), ["training.copkit"]);
    std::fs::remove_file(&out).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x6E_4E);
    let (mut whole, mut absent) = (0, 0);
    for iteration in 1..=iterations() {
        let wait = full.mul_f64(rng.random_range(0.0..1.4));
        run_and_kill(&args, wait);
        if check_generated(&out, iteration) {
            whole += 1;
            std::fs::remove_file(&out).unwrap();
        } else {
            absent += 1;
        }
        // At most the clearly named partial folder is left beside it.
        for name in names(dir.path()) {
            assert_eq!(
                name, ".training.copkit.copkit-partial",
                "iteration {iteration}: unexpected file left"
            );
        }
    }
    eprintln!(
        "generate: full run {full:?}; after {} kills: {whole} whole, {absent} absent",
        iterations()
    );
    assert!(
        absent > 0,
        "no kill came before the end; the test proves little"
    );
    // The next run clears what a killed one left, and leaves only the case.
    time_full_run(&args);
    assert!(check_generated(&out, u32::MAX));
    assert_eq!(names(dir.path()), ["training.copkit"]);
}

#[test]
fn a_generation_refuses_a_partial_folder_another_run_holds() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("busy.copkit");
    let partial = generate::partial_folder(&out).unwrap();
    assert_eq!(
        partial.file_name().unwrap().to_str().unwrap(),
        ".busy.copkit.copkit-partial"
    );
    std::fs::create_dir(&partial).unwrap();
    let lock = std::fs::File::create(partial.join("generating.lock")).unwrap();
    lock.lock().unwrap();
    let opts = GenerateOptions::new(Scenario::Fraud, 1, Size::Small);
    let err = generate::generate(
        &out,
        &opts,
        actor(),
        "test",
        &CancelToken::new(),
        &NoProgress,
    )
    .unwrap_err();
    assert!(err.to_string().contains("another generation"), "{err}");
    assert!(!out.exists());
    assert!(partial.exists(), "the other run's folder was left alone");
    drop(lock);
    // Once nobody holds it, it is a dead run's leftover and is taken over.
    std::fs::write(partial.join("busy.copkit"), b"half a case").unwrap();
    generate::generate(
        &out,
        &opts,
        actor(),
        "test",
        &CancelToken::new(),
        &NoProgress,
    )
    .unwrap();
    assert!(check_generated(&out, 0));
    assert_eq!(names(dir.path()), ["busy.copkit"]);
}

/// A progress that, when the export announces it is recording the disclosure (everything is
/// written and hashed, the final names were found free), does `act` once.
struct AtRecording<F: Fn() + Send + Sync>(F, std::sync::atomic::AtomicBool);

impl<F: Fn() + Send + Sync> copkit::jobs::Progress for AtRecording<F> {
    fn report(&self, _fraction: Option<f32>, message: &str) {
        if message == "recording the disclosure"
            && !self.1.swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            (self.0)();
        }
    }
}

#[test]
fn an_export_whose_audit_write_fails_after_the_output_was_written_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let case_path = training_case(dir.path(), 60);
    let mut case = Case::open(&case_path, actor(), "test").unwrap();
    let records_before = case.audit_records().unwrap().len();
    let before = names(dir.path());
    let out = dir.path().join("late.graphml");
    // The lock is taken only once the files are written under their temporary names.
    let lock = std::sync::Mutex::new(None);
    let progress = AtRecording(
        || *lock.lock().unwrap() = Some(hold_write_lock(&case_path)),
        Default::default(),
    );
    let err = export(
        &mut case,
        &request(ExportFormat::GraphMl, &out),
        &CancelToken::new(),
        &progress,
    )
    .unwrap_err();
    assert!(lock.lock().unwrap().take().is_some(), "the lock was taken");
    assert!(matches!(err, IoError::NotRecorded { .. }), "{err}");
    assert!(err.to_string().contains("not delivered"), "{err}");
    assert!(!out.exists() && !manifest_of(&out).exists());
    assert_eq!(names(dir.path()), before, "written files were left");
    assert_eq!(case.audit_records().unwrap().len(), records_before);
}

#[test]
fn an_export_on_record_that_cannot_be_placed_is_withdrawn_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let case_path = training_case(dir.path(), 60);
    let mut case = Case::open(&case_path, actor(), "test").unwrap();
    let out = dir.path().join("taken.graphml");
    // Another program takes the output's name after the last check, before the move: the
    // disclosure is committed, then the move fails.
    let progress = AtRecording(
        || std::fs::write(&out, b"someone else's file").unwrap(),
        Default::default(),
    );
    let err = export(
        &mut case,
        &request(ExportFormat::GraphMl, &out),
        &CancelToken::new(),
        &progress,
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, IoError::Write { .. }), "{text}");
    assert!(text.contains("could not be moved into place"), "{text}");
    assert!(text.contains("withdrawn"), "{text}");
    assert!(text.contains(&out.display().to_string()), "{text}");
    // The other file is untouched; the manifest, moved first, was removed again; nothing
    // temporary is left.
    assert_eq!(std::fs::read(&out).unwrap(), b"someone else's file");
    assert!(!manifest_of(&out).exists(), "the manifest was left");
    let mut expected = names(dir.path());
    expected.retain(|n| !n.contains(".copkit-partial"));
    assert_eq!(names(dir.path()), expected, "temporary files were left");
    // The log holds the disclosure and, right after it, its withdrawal naming the output.
    let actions = audit_actions(&case);
    let [.., (c1, a1, _), (c2, a2, withdrawn)] = actions.as_slice() else {
        panic!("too few records");
    };
    assert_eq!(
        (c1.as_str(), a1.as_str(), c2.as_str(), a2.as_str()),
        ("disclosure", "export", "disclosure", "export withdrawn")
    );
    assert_eq!(withdrawn["out"], out.display().to_string());
    assert!(matches!(
        case.verify_audit().unwrap(),
        ChainCheck::Intact { .. }
    ));
}

/// The source files a generation with `--sources-dir` writes.
const SOURCE_FILES: [&str; 4] = [
    "bank_statements.csv",
    "call_records.csv",
    "entities.ftm.jsonl",
    "people.csv",
];

/// Cancels the generation once it is well under way (source rows written, case not done).
struct CancelMidway(CancelToken);

impl copkit::jobs::Progress for CancelMidway {
    fn report(&self, fraction: Option<f32>, _message: &str) {
        if fraction.is_some_and(|f| f >= 0.5) {
            self.0.cancel();
        }
    }
}

#[test]
fn a_cancelled_generation_leaves_no_source_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cancelled.copkit");
    let sources = dir.path().join("sources");
    let mut opts = GenerateOptions::new(Scenario::Fraud, 7, Size::Small);
    opts.people = Some(60);
    opts.sources_dir = Some(sources.clone());
    let cancel = CancelToken::new();
    let err = generate::generate(
        &out,
        &opts,
        actor(),
        "test",
        &cancel,
        &CancelMidway(cancel.clone()),
    )
    .unwrap_err();
    assert!(
        cancel.is_cancelled(),
        "the run ended before it was cancelled: {err}"
    );
    assert!(!out.exists());
    assert_eq!(names(dir.path()), ["sources"]);
    assert!(
        names(&sources).is_empty(),
        "files were left: {:?}",
        names(&sources)
    );
    // A run to its end names the four files, and nothing temporary is left.
    let summary = generate::generate(
        &out,
        &opts,
        actor(),
        "test",
        &CancelToken::new(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(names(&sources), SOURCE_FILES);
    assert_eq!(summary.source_files.len(), 4);
    assert!(summary.source_files.iter().all(|f| f.starts_with(&sources)));
}

#[test]
fn killed_generations_name_no_source_file_before_the_case_is_whole() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("training.copkit");
    let sources = dir.path().join("sources");
    let (out_arg, sources_arg) = (
        out.to_str().unwrap().to_string(),
        sources.to_str().unwrap().to_string(),
    );
    let args = [
        "generate",
        "--scenario",
        "fraud",
        "--seed",
        "11",
        "--out",
        &out_arg,
        "--people",
        "300",
        "--sources-dir",
        &sources_arg,
        "--purpose",
        "crash test",
    ];
    let full = time_full_run(&args);
    assert!(check_generated(&out, 0));
    assert_eq!(names(&sources), SOURCE_FILES);
    // The same seed writes the same bytes: any file found under its final name later must be
    // exactly this.
    let reference: Vec<String> = SOURCE_FILES
        .iter()
        .map(|n| sha256_file(&sources.join(n)))
        .collect();
    let clear = || {
        let _ = std::fs::remove_file(&out);
        std::fs::remove_dir_all(&sources).unwrap();
    };
    clear();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x50_0C);
    let (mut with_sources, mut without) = (0, 0);
    for iteration in 1..=iterations() {
        run_and_kill(&args, full.mul_f64(rng.random_range(0.0..1.4)));
        let found: Vec<String> = if sources.exists() {
            names(&sources)
        } else {
            Vec::new()
        };
        let finals: Vec<&String> = found
            .iter()
            .filter(|n| SOURCE_FILES.contains(&n.as_str()))
            .collect();
        for name in &found {
            assert!(
                SOURCE_FILES.contains(&name.as_str())
                    || (name.starts_with('.') && name.ends_with(".copkit-partial")),
                "iteration {iteration}: unexpected file {name}"
            );
        }
        if finals.is_empty() {
            without += 1;
        } else {
            with_sources += 1;
            assert!(
                check_generated(&out, iteration),
                "iteration {iteration}: source files {finals:?} without a whole case"
            );
            for (name, sha) in SOURCE_FILES.iter().zip(&reference) {
                let path = sources.join(name);
                if path.exists() {
                    assert_eq!(
                        &sha256_file(&path),
                        sha,
                        "iteration {iteration}: {name} cut"
                    );
                }
            }
        }
        let _ = std::fs::remove_file(&out);
        let _ = std::fs::remove_dir_all(&sources);
        let _ = std::fs::remove_dir_all(generate::partial_folder(&out).unwrap());
    }
    eprintln!(
        "generate --sources-dir: full run {full:?}; after {} kills: {with_sources} with its \
         sources, {without} without",
        iterations()
    );
    assert!(
        without > 0,
        "no kill came before the end; the test proves little"
    );
}
