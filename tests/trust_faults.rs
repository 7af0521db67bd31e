//! Failure injection (issue 26): hostile files under a memory limit, and a full disk at many
//! points of an import, an edit, an undo and an export.
//!
//! Every hostile file of tests/fixtures/bad/ (see make_hostile.py there) is imported by the
//! real binary in a child process under `ulimit -v` and a timeout: the child must exit with a
//! clean error (exit code 1, not a signal, not out of memory, not the timeout) naming the
//! file, and leave the case's evidence and audit chain and the source as they were. The import
//! wizard's preview (the same functions the window calls) runs the same way in a child copy of
//! this test binary.
//!
//! The full-disk test mounts a small tmpfs (root only; it says why it skipped otherwise), fills
//! it to leave K bytes free for many K, and runs each command there: it either succeeds whole
//! or fails with an error naming the case or the output, and the case is never damaged.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code stops loudly where an expectation fails"
)]

mod common;

use common::{actor, dump, sha256_file};
use copkit::store::{Case, ChainCheck};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The address space each child may use: a reader that trusts a declared size or expands a
/// bomb fails to allocate (and aborts) well before it would finish. A normal import of these
/// small files needs far less (measured: a 3,000-row CDR import runs under 256 MiB).
const MEMORY_LIMIT_KIB: u64 = 1 << 20;

/// No hostile file may keep a child busy longer than this (they are refused in well under a
/// second; the ratio bombs take about one).
const CHILD_TIMEOUT: Duration = Duration::from_secs(60);

fn bad(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/bad")
        .join(name)
}

/// Runs `program args` in `sh` under the memory limit, killing it after [`CHILD_TIMEOUT`].
fn run_limited(program: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut script = format!("ulimit -v {MEMORY_LIMIT_KIB}; exec '{}'", program.display());
    for a in args {
        assert!(!a.contains('\''), "test argument with a quote: {a}");
        script.push_str(&format!(" '{a}'"));
    }
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(&script)
        .env("COPKIT_ANALYST", "tester")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("start the child");
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if started.elapsed() > CHILD_TIMEOUT {
            child.kill().ok();
            let out = child.wait_with_output().unwrap();
            panic!(
                "timed out after {CHILD_TIMEOUT:?}: {script}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// What must hold of a case after any failed or refused command: SQLite finds it sound, the
/// audit chain verifies, and its evidence is exactly `expected`.
fn assert_case_intact(path: &Path, expected: &[String], context: &str) {
    let case = Case::open(path, actor(), "check after failure injection")
        .unwrap_or_else(|e| panic!("{context}: the case no longer opens: {e}"));
    assert_eq!(case.integrity_check().unwrap(), "ok", "{context}");
    match case.verify_audit().unwrap() {
        ChainCheck::Intact { .. } => {}
        broken => panic!("{context}: audit chain broken: {broken:?}"),
    }
    assert!(
        dump(&case) == expected,
        "{context}: the case's evidence changed"
    );
}

fn case_dump(path: &Path) -> Vec<String> {
    dump(&Case::open(path, actor(), "test").unwrap())
}

/// The names in a folder, to see that nothing appeared beside the corpus.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The hostile corpus: file, `--format`, `--template` (tables only). Each is refused.
const HOSTILE: &[(&str, &str, &str)] = &[
    // CSV and TSV: bad encodings, unclosed quotes, numbers no column can hold, foreign files.
    ("invalid-utf8.csv", "csv", "entities"),
    ("truncated-mid-record.csv", "csv", "entities"),
    ("quote-never-closed.csv", "csv", "entities"),
    ("absurd-numbers.csv", "csv", "cdr"),
    ("zip-renamed.csv", "csv", "entities"),
    ("sqlite-renamed.csv", "csv", "entities"),
    ("empty.csv", "csv", "entities"),
    ("invalid-utf8.tsv", "tsv", "entities"),
    ("quote-never-closed.tsv", "tsv", "entities"),
    ("zip-renamed.csv", "tsv", "entities"),
    ("sqlite-renamed.csv", "tsv", "entities"),
    // XLSX and ODS: zip bombs (declared and by ratio), billion laughs, cut-short containers,
    // a sheet spanning 17 billion cells, a row repeated a billion times, zip-slip names.
    ("truncated.xlsx", "xlsx", "entities"),
    ("declared-huge.xlsx", "xlsx", "entities"),
    ("ratio-bomb.xlsx", "xlsx", "entities"),
    ("billion-laughs.xlsx", "xlsx", "entities"),
    ("sparse-corners.xlsx", "xlsx", "entities"),
    ("zip-slip.xlsx", "xlsx", "entities"),
    ("truncated.ods", "xlsx", "entities"),
    ("declared-huge.ods", "xlsx", "entities"),
    ("ratio-bomb.ods", "xlsx", "entities"),
    ("billion-laughs.ods", "xlsx", "entities"),
    ("repeated-rows.ods", "xlsx", "entities"),
    // Parquet: footers that lie about their length or hold garbage, cut-short files.
    ("huge-footer.parquet", "parquet", "entities"),
    ("magic-only.parquet", "parquet", "entities"),
    ("scrambled-footer.parquet", "parquet", "entities"),
    ("truncated.parquet", "parquet", "entities"),
    ("corrupt-page.parquet", "parquet", "cdr"),
    ("csv-renamed.parquet", "parquet", "entities"),
    // GraphML and GEXF: entity expansion, external entities, deep nesting, cut short,
    // invalid UTF-8, weights no number holds.
    ("billion-laughs.graphml", "graphml", ""),
    ("external-entity.graphml", "graphml", ""),
    ("deep-nesting.graphml", "graphml", ""),
    ("truncated.graphml", "graphml", ""),
    ("nul-reference.graphml", "graphml", ""),
    ("invalid-utf8.graphml", "graphml", ""),
    ("absurd-numbers.graphml", "graphml", ""),
    ("billion-laughs.gexf", "gexf", ""),
    ("deep-nesting.gexf", "gexf", ""),
    ("truncated.gexf", "gexf", ""),
    ("invalid-utf8.gexf", "gexf", ""),
    ("absurd-numbers.gexf", "gexf", ""),
    // GML and Pajek.
    ("deep-nesting.gml", "gml", ""),
    ("truncated.gml", "gml", ""),
    ("absurd-numbers.gml", "gml", ""),
    ("nul-bytes.gml", "gml", ""),
    // NUL bytes inside fields: no text value holds one, so the row (strict: the file) is
    // refused, naming the line and field.
    ("nul-bytes.net", "pajek", ""),
    ("unterminated-string.gml", "gml", ""),
    ("huge-vertices.net", "pajek", ""),
    ("absurd-numbers.net", "pajek", ""),
    ("truncated.net", "pajek", ""),
    ("invalid-utf8.net", "pajek", ""),
    // Node-link JSON, FtM, STIX.
    ("deep-nesting.nodelink.json", "node-link", ""),
    ("truncated.nodelink.json", "node-link", ""),
    ("absurd-numbers.nodelink.json", "node-link", ""),
    ("invalid-utf8.nodelink.json", "node-link", ""),
    ("link-index.json", "node-link", ""),
    ("ftm-deep.ftm.json", "ftm", ""),
    ("ftm-broken-lines.ftm.json", "ftm", ""),
    ("invalid-utf8.ftm.json", "ftm", ""),
    ("nul-bytes.ftm.json", "ftm", ""),
    ("truncated.ftm.json", "ftm", ""),
    ("stix-deep.json", "stix", ""),
    ("stix-not-json.json", "stix", ""),
    ("truncated.stix.json", "stix", ""),
    ("invalid-utf8.stix.json", "stix", ""),
    ("absurd-numbers.stix.json", "stix", ""),
    // Maltego: zip bombs, entity expansion, deep nesting, a cut-short zip.
    ("mtgx-ratio-bomb.mtgx", "mtgx", ""),
    ("mtgx-declared-huge.mtgx", "mtgx", ""),
    ("mtgx-no-graph.mtgx", "mtgx", ""),
    ("mtgx-truncated.mtgx", "mtgx", ""),
    ("mtgx-billion-laughs.mtgx", "mtgx", ""),
    ("mtgx-deep-nesting.mtgx", "mtgx", ""),
    ("nul-bytes.csv", "csv", "entities"),
    ("nul-bytes.tsv", "tsv", "entities"),
    ("nul-in-field.csv", "csv", "entities"),
];

#[cfg(unix)]
#[test]
fn every_importer_refuses_hostile_files_under_a_memory_limit() {
    let copkit = Path::new(env!("CARGO_BIN_EXE_copkit"));
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("hostile.copkit");
    Case::create(&case, "hostile corpus", actor(), "test").unwrap();
    let corpus = bad("");
    let corpus_names = names_in(&corpus);
    let mut formats = std::collections::BTreeMap::<&str, usize>::new();
    for &(file, format, template) in HOSTILE {
        let source = bad(file);
        let source_sha = sha256_file(&source);
        let before = case_dump(&case);
        let mut args = vec![
            "import",
            source.to_str().unwrap(),
            "--into",
            case.to_str().unwrap(),
            "--format",
            format,
            "--purpose",
            "hostile corpus",
        ];
        if !template.is_empty() {
            args.extend(["--template", template]);
        }
        let out = run_limited(copkit, &args, &[]);
        let err = stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{file}: not a clean error ({}): {err}",
            out.status
        );
        assert!(
            err.contains(file),
            "{file}: the error does not name it: {err}"
        );
        assert!(!err.contains("panicked"), "{file}: {err}");
        assert_eq!(sha256_file(&source), source_sha, "{file} was modified");
        assert_case_intact(&case, &before, file);
        *formats.entry(format).or_default() += 1;
    }
    assert_eq!(
        names_in(&corpus),
        corpus_names,
        "files appeared in the corpus"
    );
    // Every importer format has at least three hostile files (ODS is read as `xlsx`).
    for format in [
        "csv",
        "tsv",
        "xlsx",
        "parquet",
        "graphml",
        "gexf",
        "gml",
        "pajek",
        "node-link",
        "ftm",
        "stix",
        "mtgx",
    ] {
        assert!(
            formats.get(format).copied().unwrap_or(0) >= 3,
            "{format}: too few hostile files"
        );
    }
    let ods = HOSTILE.iter().filter(|(f, ..)| f.ends_with(".ods")).count();
    assert!(ods >= 3, "ods: too few hostile files");
    eprintln!(
        "hostile corpus: {} files refused, {formats:?}",
        HOSTILE.len()
    );
}

/// The tables the wizard previews (the graph formats are not mapped, so not previewed).
const PREVIEWED: &[(&str, &str)] = &[
    ("invalid-utf8.csv", "csv"),
    ("truncated-mid-record.csv", "csv"),
    ("quote-never-closed.csv", "csv"),
    ("zip-renamed.csv", "csv"),
    ("sqlite-renamed.csv", "csv"),
    ("utf16-bom.csv", "csv"),
    ("long-field.csv", "csv"),
    ("nul-bytes.csv", "csv"),
    ("invalid-utf8.tsv", "tsv"),
    ("quote-never-closed.tsv", "tsv"),
    ("nul-bytes.tsv", "tsv"),
    ("truncated.xlsx", "xlsx"),
    ("declared-huge.xlsx", "xlsx"),
    ("ratio-bomb.xlsx", "xlsx"),
    ("billion-laughs.xlsx", "xlsx"),
    ("sparse-corners.xlsx", "xlsx"),
    ("zip-slip.xlsx", "xlsx"),
    ("truncated.ods", "xlsx"),
    ("declared-huge.ods", "xlsx"),
    ("ratio-bomb.ods", "xlsx"),
    ("billion-laughs.ods", "xlsx"),
    ("repeated-rows.ods", "xlsx"),
    ("huge-footer.parquet", "parquet"),
    ("magic-only.parquet", "parquet"),
    ("scrambled-footer.parquet", "parquet"),
    ("truncated.parquet", "parquet"),
    ("corrupt-page.parquet", "parquet"),
    ("csv-renamed.parquet", "parquet"),
];

/// The child side of [`the_wizard_preview_survives_hostile_tables_under_a_memory_limit`]:
/// does nothing unless that test started this binary with a file to preview. It calls what
/// the window's import wizard calls (`read_head` when a file is picked, then the format's
/// preview) and prints the outcome for the parent to check.
#[test]
fn preview_child() {
    let (Ok(file), Ok(format)) = (
        std::env::var("COPKIT_PREVIEW_FILE"),
        std::env::var("COPKIT_PREVIEW_FORMAT"),
    ) else {
        return;
    };
    use copkit::io::SourceFormat;
    let path = PathBuf::from(file);
    let format = match format.as_str() {
        "csv" => SourceFormat::Csv,
        "tsv" => SourceFormat::Tsv,
        "xlsx" => SourceFormat::Xlsx,
        "parquet" => SourceFormat::Parquet,
        other => panic!("no preview for {other}"),
    };
    let _head = copkit::io::mapper::read_head(&path, format, 20);
    let spec = copkit::io::MappingSpec::template("entities").unwrap();
    let schema = copkit::model::Schema::default();
    let opts = copkit::io::csv::CsvOptions {
        tsv: format == SourceFormat::Tsv,
        ..Default::default()
    };
    let outcome = match format {
        SourceFormat::Parquet => {
            copkit::io::parquet::preview_parquet(&path, &spec, &schema, &opts, 20)
        }
        SourceFormat::Xlsx => {
            copkit::io::xlsx::preview_xlsx(&path, None, &spec, &schema, &opts, 20)
        }
        _ => copkit::io::csv::preview_csv(&path, &spec, &schema, &opts, 20),
    };
    let mut stdout = std::io::stdout().lock();
    match outcome {
        Ok(preview) => writeln!(stdout, "PREVIEW-OK {} rows", preview.rows.len()),
        Err(e) => writeln!(stdout, "PREVIEW-ERR {e}"),
    }
    .unwrap();
}

#[cfg(unix)]
#[test]
fn the_wizard_preview_survives_hostile_tables_under_a_memory_limit() {
    let me = std::env::current_exe().unwrap();
    for &(file, format) in PREVIEWED {
        let source = bad(file);
        let source_sha = sha256_file(&source);
        let out = run_limited(
            &me,
            &[
                "preview_child",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ],
            &[
                ("COPKIT_PREVIEW_FILE", source.to_str().unwrap()),
                ("COPKIT_PREVIEW_FORMAT", format),
            ],
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{file}: the preview child failed ({}): {text}{}",
            out.status,
            stderr(&out)
        );
        // libtest prints the test's name on the same line before the child's own output.
        let line = text
            .lines()
            .find_map(|l| l.find("PREVIEW-").map(|at| &l[at..]))
            .unwrap_or_else(|| panic!("{file}: the child previewed nothing: {text}"));
        // A file the importer takes (long fields, NULs inside fields) previews; any other is
        // an error naming the file.
        if !line.starts_with("PREVIEW-OK") {
            assert!(
                line.contains(file),
                "{file}: the error does not name it: {line}"
            );
        }
        assert_eq!(sha256_file(&source), source_sha, "{file} was modified");
    }
}

/// A tmpfs of a few MiB mounted for one test and unmounted when dropped (even when an
/// assertion fails).
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    const SIZE_KIB: u64 = 6 * 1024;

    /// Mounts a tmpfs, or says why it cannot (not root, no mount permission).
    fn mount() -> Result<SmallDisk, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={}k", Self::SIZE_KIB),
                "tmpfs",
            ])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the disk, then frees `free` bytes (tmpfs frees whole pages, so the room left is
    /// `free` rounded up to a page).
    fn leave_free(&self, free: u64) {
        let filler = self.path().join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0xA5u8; 64 * 1024];
        loop {
            match file.write(&chunk) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
                Err(e) => panic!("filling the disk: {e}"),
            }
        }
        let len = file.metadata().unwrap().len();
        file.set_len(len.saturating_sub(free)).unwrap();
    }

    fn empty_filler(&self) {
        std::fs::remove_file(self.path().join("filler")).ok();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// What a command under test does to a case.
#[derive(Clone, Copy, Debug)]
enum Operation {
    Import,
    Add,
    Set,
    Undo,
    Export,
}

/// A case with some evidence and history, the base every run starts from.
fn base_case(dir: &Path, calls: &Path) -> PathBuf {
    let copkit = env!("CARGO_BIN_EXE_copkit");
    let case = dir.join("base.copkit");
    let run = |args: &[&str]| {
        let out = Command::new(copkit)
            .args(args)
            .env("COPKIT_ANALYST", "tester")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    };
    let c = case.to_str().unwrap();
    run(&["new", c, "--purpose", "setup"]);
    run(&[
        "import",
        calls.to_str().unwrap(),
        "--into",
        c,
        "--template",
        "cdr",
        "--purpose",
        "setup",
    ]);
    run(&[
        "add",
        "entity",
        c,
        "--type",
        "person",
        "--label",
        "Ana",
        "--purpose",
        "setup",
    ]);
    case
}

/// A call-record file of `rows` rows, enough to grow the case by a few hundred KB.
fn write_calls(path: &Path, rows: usize, seed: u64) {
    let mut text = String::from("caller,callee,start,duration,cell,imei\n");
    for i in 0..rows as u64 {
        let a = (i * 7919 + seed) % 50_000;
        let b = (i * 104_729 + seed * 3) % 50_000;
        text.push_str(&format!(
            "0770{a:07},0770{b:07},2024-03-{:02} 10:{:02}:00,{},LJ-{},3569380356{:05}\n",
            1 + i % 28,
            i % 60,
            10 + i % 500,
            i % 40,
            (i + seed) % 100_000
        ));
    }
    std::fs::write(path, text).unwrap();
}

/// The evidence counts and labels, to compare a run that succeeded with the same command run
/// with room to spare (ids and times of new rows differ between runs, so not a full dump).
fn evidence_summary(path: &Path) -> Vec<String> {
    let case = Case::open(path, actor(), "test").unwrap();
    let conn = case.connection();
    let mut out = Vec::new();
    for table in ["entities", "links", "events", "attributes"] {
        let n: i64 = conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        out.push(format!("{table}: {n}"));
    }
    let mut labels: Vec<String> = case
        .connection()
        .prepare("SELECT label FROM entities ORDER BY label")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    labels.dedup();
    out.extend(labels);
    out
}

/// Runs `operation` on the case at `case` (exports go to `out`), with no memory limit.
fn run_operation(operation: Operation, case: &Path, source: &Path, out: &Path) -> Output {
    let c = case.to_str().unwrap();
    let args: Vec<&str> = match operation {
        Operation::Import => vec![
            "import",
            source.to_str().unwrap(),
            "--into",
            c,
            "--template",
            "cdr",
            "--purpose",
            "full disk",
        ],
        Operation::Add => vec![
            "add",
            "entity",
            c,
            "--type",
            "person",
            "--label",
            "Bo Added",
            "--attr",
            "note=added on a nearly full disk",
            "--purpose",
            "full disk",
        ],
        Operation::Set => vec![
            "set",
            c,
            "E1",
            "--label",
            "Renamed on a full disk",
            "--reason",
            "test",
            "--purpose",
            "full disk",
        ],
        Operation::Undo => vec!["undo", c, "--purpose", "full disk"],
        Operation::Export => vec![
            "export",
            c,
            "--format",
            "graphml",
            "--out",
            out.to_str().unwrap(),
            "--recipient",
            "court",
            "--purpose",
            "full disk",
        ],
    };
    Command::new(env!("CARGO_BIN_EXE_copkit"))
        .args(&args)
        .env("COPKIT_ANALYST", "tester")
        // Every run starts from a copy of the same base case and goes its own way: the anchor
        // log would rightly refuse the later copies (tests/trust_workstation.rs tests that).
        .env("COPKIT_ANCHOR_LOG", "off")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Free bytes left on the disk before each run: every page up to 64 KiB, then coarser steps
/// up to room for everything.
fn free_points() -> Vec<u64> {
    let mut points: Vec<u64> = (0..=16).map(|p| p * 4096).collect();
    let mut k = 96 * 1024;
    while k <= 4 * 1024 * 1024 {
        points.push(k);
        k = k * 3 / 2;
    }
    points
}

#[cfg(unix)]
#[test]
fn a_full_disk_at_any_point_leaves_the_case_intact_and_names_the_file() {
    let disk = match SmallDisk::mount() {
        Ok(disk) => disk,
        Err(why) if std::env::var_os("CI").is_none() => {
            eprintln!("skipped: the full-disk test needs a tmpfs mount (run as root): {why}");
            return;
        }
        Err(why) => panic!("CI=1: the full-disk test must run (as root): {why}"),
    };
    // Copies of one base case go their own ways here, in this process too: anchoring off
    // (after `actor()` has set this process's anchor folder, so that nothing sets it again).
    let _ = actor();
    copkit::store::anchor::configure(copkit::store::anchor::Workstation {
        anchor_log: None,
        signing_key: None,
    });
    let work = tempfile::tempdir().unwrap();
    let setup_calls = work.path().join("setup-calls.csv");
    write_calls(&setup_calls, 400, 1);
    let base = base_case(work.path(), &setup_calls);
    let calls = work.path().join("calls.csv");
    write_calls(&calls, 2_500, 2);
    let calls_sha = sha256_file(&calls);
    let base_dump = case_dump(&base);

    let operations = [
        Operation::Import,
        Operation::Add,
        Operation::Set,
        Operation::Undo,
        Operation::Export,
    ];
    let mut tally = Vec::new();
    for operation in operations {
        // The reference: the same command with room to spare.
        let reference = work.path().join(format!("reference-{operation:?}.copkit"));
        std::fs::copy(&base, &reference).unwrap();
        let reference_out = work.path().join(format!("reference-{operation:?}.graphml"));
        let out = run_operation(operation, &reference, &calls, &reference_out);
        assert!(out.status.success(), "{operation:?}: {}", stderr(&out));
        let expected_after = evidence_summary(&reference);

        let (mut failed, mut succeeded) = (0, 0);
        let mut messages = std::collections::BTreeSet::new();
        for free in free_points() {
            let context = format!("{operation:?} with {free} bytes free");
            let case = disk.path().join("case.copkit");
            let export = disk.path().join("export.graphml");
            for stale in [&case, &export] {
                std::fs::remove_file(stale).ok();
            }
            std::fs::remove_file(disk.path().join("export.graphml.manifest.json")).ok();
            std::fs::copy(&base, &case).unwrap();
            disk.leave_free(free);
            let out = run_operation(operation, &case, &calls, &export);
            disk.empty_filler();
            let err = stderr(&out);
            assert_eq!(
                sha256_file(&calls),
                calls_sha,
                "{context}: the source changed"
            );
            let leftovers: Vec<String> = names_in(disk.path())
                .into_iter()
                .filter(|n| {
                    !matches!(
                        n.as_str(),
                        "case.copkit" | "export.graphml" | "export.graphml.manifest.json"
                    )
                })
                .collect();
            assert!(leftovers.is_empty(), "{context}: left behind {leftovers:?}");
            if out.status.success() {
                succeeded += 1;
                assert_eq!(evidence_summary(&case), expected_after, "{context}");
                if let Operation::Export = operation {
                    assert_eq!(
                        std::fs::read(&export).unwrap().len(),
                        std::fs::read(&reference_out).unwrap().len(),
                        "{context}: the export is not whole"
                    );
                    assert!(
                        disk.path().join("export.graphml.manifest.json").exists(),
                        "{context}: no manifest"
                    );
                }
            } else {
                failed += 1;
                assert_eq!(out.status.code(), Some(1), "{context}: {err}");
                assert!(!err.contains("panicked"), "{context}: {err}");
                let named = err.contains("case.copkit") || err.contains("export.graphml");
                assert!(named, "{context}: the error names neither file: {err}");
                assert_case_intact(&case, &base_dump, &context);
                messages.insert(err.replace(disk.path().to_str().unwrap(), "DISK"));
                assert!(
                    !export.exists(),
                    "{context}: a failed export left {}",
                    export.display()
                );
                // A disclosure on record is withdrawn when its files could not be placed.
                let case = Case::open(&case, actor(), "check").unwrap();
                let actions: Vec<String> = case
                    .audit_records()
                    .unwrap()
                    .into_iter()
                    .map(|r| r.action)
                    .collect();
                let count = |a: &str| actions.iter().filter(|x| *x == a).count();
                assert_eq!(
                    count("export"),
                    count("export withdrawn"),
                    "{context}: a failed export stands as a disclosure"
                );
            }
        }
        assert!(failed > 0, "{operation:?}: the disk was never too full");
        assert!(succeeded > 0, "{operation:?}: never succeeded");
        tally.push(format!(
            "{operation:?}: {} runs, {failed} failed cleanly, {succeeded} succeeded; errors: {messages:?}",
            failed + succeeded
        ));
    }
    eprintln!("failure-injection counts:\n  {}", tally.join("\n  "));
}
