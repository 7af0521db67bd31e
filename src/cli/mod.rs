//! The `copkit` command line: with no subcommand it opens the workbench; subcommands run the
//! same core headless. Exit codes: 0 success, 1 a failure the message explains how to fix,
//! 2 wrong usage.

/// Prints to standard output like `print!`, but a closed pipe ends the program quietly.
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::write_stdout(format_args!($($arg)*)) };
}

/// Prints a line to standard output like `println!`, but a closed pipe ends the program
/// quietly.
macro_rules! outln {
    () => { $crate::cli::write_stdout(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::cli::write_stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

mod analyze;
mod bench;
mod chain;
mod debug;
mod dist;
mod documents;
mod edit;
mod generate;
mod hints;
mod io;
mod layout;
mod privacy;
mod progress;
mod report;

use crate::io::neutralise_formula;
use crate::store::{Actor, AuditRecord, Case, ChainCheck};
use anyhow::Result;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// COPKIT Workbench: an offline analyst workbench for investigations into organised crime and
/// terrorism. Run without a subcommand to open the workbench window.
#[derive(Debug, Parser)]
#[command(name = "copkit", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Your name as the analyst, recorded in the audit log (default: $COPKIT_ANALYST, else the
    /// operating-system user).
    #[arg(long, global = true, value_name = "NAME")]
    pub analyst: Option<String>,

    /// The anchor log: every new audit head is appended to it, outside the case (default:
    /// $COPKIT_ANCHOR_LOG, else anchors.jsonl in COPKIT's data folder; `off` turns it off).
    /// Point it at a write-once medium to make it hard to rewrite.
    #[arg(long, global = true, value_name = "FILE")]
    pub anchor_log: Option<PathBuf>,

    /// The workstation key that signs each audit head (default: $COPKIT_SIGNING_KEY, else
    /// workstation.key in COPKIT's data folder, used when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    pub signing_key: Option<PathBuf>,

    /// Show more log output (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Option<Commands>,

    /// A case to open in the workbench (when no subcommand is given).
    #[arg(value_name = "CASE")]
    pub case: Option<PathBuf>,

    /// With CASE: the purpose of opening it in the workbench (otherwise the window asks).
    #[arg(long, value_name = "TEXT", requires = "case")]
    pub purpose: Option<String>,
}

/// The purpose every command that opens a case must give.
#[derive(Debug, Args)]
pub struct PurposeArg {
    /// Why you access the case (a case reference or justification), recorded in the audit log
    /// as a consultation. Asked for when not given and the terminal is interactive.
    #[arg(long, value_name = "TEXT")]
    pub purpose: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Commands {
    /// Create a new, empty case file.
    New {
        /// Path of the new case file (.copkit); an existing file is never overwritten.
        case: PathBuf,
        /// The case title (default: the file name).
        #[arg(long)]
        title: Option<String>,
        #[command(flatten)]
        purpose: PurposeArg,
    },
    /// Show a case: counts by type, import batches, grading schemes, audit head, format.
    Info {
        case: PathBuf,
        #[command(flatten)]
        purpose: PurposeArg,
        #[arg(long, value_enum, default_value_t = InfoFormat::Text)]
        format: InfoFormat,
    },
    /// Run an analysis component on a case (`--list` shows the components).
    Analyze(analyze::AnalyzeArgs),
    /// Run or check an analysis chain: several components in sequence, each step able to use
    /// an earlier step's result.
    Chain {
        #[command(subcommand)]
        command: chain::ChainCommands,
    },
    /// Check or show the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommands,
    },
    /// Import a file into a case through a mapping spec or template, printing the report.
    Import(io::ImportArgs),
    /// Import documents (text, HTML, PDF, DOCX, ODT, EML, MBOX, WhatsApp and Telegram
    /// exports), a file or a whole folder as one batch, printing a line per file.
    ImportDocs(documents::ImportDocsArgs),
    /// Search the text of the case's documents (FTS5: words, "phrases", prefix*, AND / OR /
    /// NOT, NEAR(a b, 10)); the search is recorded as a consultation.
    Search(documents::SearchArgs),
    /// Hash each import's source file again where it still is and report changed or missing
    /// files (exit 1 when one changed); the check is recorded as a consultation.
    VerifySources {
        case: PathBuf,
        #[command(flatten)]
        purpose: PurposeArg,
    },
    /// Export a case (skipping restricted items) with a manifest; recorded as a disclosure.
    Export(io::ExportArgs),
    /// Write the case report: one self-contained HTML file (cover, chart, timeline, summary,
    /// entity sheets with sources and gradings, analysis, appendix); recorded as a disclosure.
    Report(report::ReportArgs),
    /// Create an entity, link, event or attribute value by hand (an analyst entry).
    Add {
        #[command(subcommand)]
        command: edit::AddCommands,
    },
    /// Change items: label, value, grading, handling, restricted, person category, review date.
    Set(edit::SetArgs),
    /// Delete entities, links, events, attribute values, notes or chart snapshots (undoable).
    Delete {
        case: PathBuf,
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
        /// Why (recorded in the audit log).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        purpose: PurposeArg,
    },
    /// Split an entity absorbed by a merge back out of the entity that kept it.
    Split {
        case: PathBuf,
        /// The entity that kept the merge (E12).
        keep: String,
        /// The entity it absorbed.
        absorbed: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        purpose: PurposeArg,
    },
    /// Add a note to an entity, link or event (or, given a note id N2, change its text).
    Note {
        case: PathBuf,
        /// The item (E12, L3, V7) or the note (N2).
        id: String,
        #[arg(long)]
        text: String,
        /// The document or report the note rests on.
        #[arg(long, value_name = "TEXT")]
        source_ref: Option<String>,
        #[command(flatten)]
        grade: edit::GradeArgs,
        /// Why the note changes (needed when changing one).
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        purpose: PurposeArg,
    },
    /// Undo the newest change to a case (the same history as the window's Edit > Undo).
    Undo {
        case: PathBuf,
        #[command(flatten)]
        purpose: PurposeArg,
    },
    /// Redo the change undone last.
    Redo {
        case: PathBuf,
        #[command(flatten)]
        purpose: PurposeArg,
    },
    /// List a case's entity types, or add one of your own (`copkit types add`).
    #[command(args_conflicts_with_subcommands = true)]
    Types {
        #[command(subcommand)]
        command: Option<edit::TypeCommands>,
        case: Option<PathBuf>,
        #[command(flatten)]
        purpose: PurposeArg,
    },
    /// List a case's grading schemes, or add one from a TOML file (`copkit schemes add`).
    #[command(args_conflicts_with_subcommands = true)]
    Schemes {
        #[command(subcommand)]
        command: Option<edit::SchemeCommands>,
        case: Option<PathBuf>,
        #[command(flatten)]
        purpose: PurposeArg,
    },
    /// List what is due for review under the retention rules (items and batches, by date), or
    /// move review dates with --extend; the listing is recorded as a consultation.
    Review(privacy::ReviewArgs),
    /// Erase an import batch or items for good (not undoable): the values go, the undo
    /// history goes, no copy stays in the file's free pages; the erasure record keeps only
    /// ids, types, counts and the reason.
    Purge(privacy::PurgeArgs),
    /// Write a pseudonymised training copy: names, numbers, IBANs, plates, addresses and text
    /// replaced consistently, times and places shifted, structure kept; recorded as a
    /// disclosure in this case only.
    Pseudonymise(privacy::PseudonymiseArgs),
    /// Generate a synthetic training case with planted ground truth.
    Generate(generate::GenerateArgs),
    /// Show the planted ground truth of a generated case.
    Truth(generate::TruthArgs),
    /// Run an analysis component on a generated case and score it against the planted truth.
    Score(generate::ScoreArgs),
    /// Measure the graph view headless: build and tessellate frames of a synthetic chart of
    /// N entities and M links, zoomed out and zoomed in; print median and 95th percentile.
    #[cfg(feature = "gui")]
    BenchUi {
        #[arg(long, default_value_t = 100_000)]
        nodes: usize,
        #[arg(long, default_value_t = 300_000)]
        links: usize,
        #[arg(long, default_value_t = 30)]
        frames: usize,
        /// Calls between linked entities, for the display-model rebuild times.
        #[arg(long, default_value_t = 300_000)]
        events: usize,
    },
    /// Lay out the chart saved with a case (force, circular, hierarchical, grouped) without
    /// the window; the window opens with the new positions. Hidden, pinned and collected
    /// entities and those off the chart keep theirs.
    Layout(layout::LayoutArgs),
    /// Time the force layout (Barnes–Hut iterations per second) on a generated
    /// Barabási–Albert graph or an edge list, for BENCHMARKS.md.
    BenchLayout(bench::BenchLayoutArgs),
    /// Internal: applies commands to a case in a loop, printing each commit (crash tests).
    #[command(hide = true)]
    DebugCrashWriter { case: PathBuf },
    /// Packaging: write a man page per subcommand into DIR (packaging/build-deb.sh).
    #[command(hide = true)]
    Manpages { dir: PathBuf },
    /// Packaging: write bash, zsh and fish completions into DIR (packaging/build-deb.sh).
    #[command(hide = true)]
    Completions { dir: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommands {
    /// Check the case: the hash chain, the evidence against the digests the log recorded, the
    /// anchor log and the head's signature. Reads only (works on a read-only medium). Exit 0
    /// when no check fails; otherwise print what failed and exit 1 (writing nothing to the
    /// case). The check itself is recorded in the case when it passed and the case can be
    /// written, otherwise in the workstation's consultation log.
    Verify {
        case: PathBuf,
        #[command(flatten)]
        purpose: PurposeArg,
        /// Trust signatures by this Ed25519 public key (a .pub file or 64 hex digits) instead
        /// of the workstation's own.
        #[arg(long, value_name = "KEY")]
        public_key: Option<String>,
    },
    /// Make this workstation's signing key (Ed25519; readable by you only), kept outside
    /// every case. From then on each audit head is signed with it.
    Keygen {
        /// Where to write the key (default: the --signing-key path); the public half goes
        /// beside it with `.pub` added. An existing key is never overwritten.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Print the audit log.
    Show {
        case: PathBuf,
        #[command(flatten)]
        purpose: PurposeArg,
        #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
        format: AuditFormat,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InfoFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    Text,
    Csv,
    Json,
}

/// A usage error (exit code 2) as opposed to a failure (exit code 1).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Parses the command line, runs it and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    match run(cli) {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("copkit: {err:#}");
            if let Some(hint) = hints::hint(&err) {
                eprintln!("hint: {hint}");
            }
            if err.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// Writes command output. Rust ignores SIGPIPE, so `println!` would panic when the reader of a
/// pipe has gone (`copkit analyze --list | head`); like other command-line tools we stop
/// quietly instead. Output is written only after the work is committed, so stopping here
/// loses nothing.
pub(crate) fn write_stdout(args: std::fmt::Arguments<'_>) {
    if let Err(err) = std::io::stdout().lock().write_fmt(args) {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("copkit: cannot write to standard output: {err}");
        std::process::exit(1);
    }
}

/// Whether a failure is only the reader of our output pipe having gone away.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("COPKIT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let actor = Actor::from_environment(cli.analyst.clone());
    if cli.anchor_log.is_some() || cli.signing_key.is_some() {
        let mut workstation = crate::store::anchor::Workstation::from_environment();
        if let Some(log) = &cli.anchor_log {
            workstation.anchor_log = (log.as_os_str() != "off").then(|| log.clone());
        }
        if let Some(key) = &cli.signing_key {
            workstation.signing_key = Some(key.clone());
        }
        crate::store::anchor::configure(workstation);
    }
    let Some(command) = cli.command else {
        if let Some(case) = &cli.case
            && !case.exists()
        {
            return Err(UsageError(format!(
                "'{}' is neither a subcommand nor an existing case file; see `copkit --help`",
                case.display()
            ))
            .into());
        }
        return open_workbench(cli.case, cli.purpose, actor);
    };
    match command {
        Commands::New {
            case,
            title,
            purpose,
        } => {
            let purpose = resolve_purpose(purpose)?;
            let title = title.unwrap_or_else(|| {
                case.file_stem()
                    .map_or_else(|| "case".into(), |s| s.to_string_lossy().into_owned())
            });
            let case_file = Case::create(&case, &title, actor, &purpose)?;
            outln!(
                "Created case \"{title}\" ({}): {}",
                case_file.meta("case_id")?.unwrap_or_default(),
                case.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Commands::Info {
            case,
            purpose,
            format,
        } => {
            let purpose = resolve_purpose(purpose)?;
            let case = Case::open(&case, actor, &purpose)?;
            let info = case.info()?;
            match format {
                InfoFormat::Json => outln!("{}", serde_json::to_string_pretty(&info)?),
                InfoFormat::Text => print_info(&info),
            }
            Ok(ExitCode::SUCCESS)
        }
        Commands::Audit {
            command:
                AuditCommands::Verify {
                    case,
                    purpose,
                    public_key,
                },
        } => audit_verify(&case, purpose, public_key.as_deref(), &actor),
        Commands::Audit {
            command: AuditCommands::Keygen { out },
        } => {
            let path = out
                .or_else(|| crate::store::anchor::workstation().signing_key)
                .ok_or_else(|| {
                    UsageError(
                        "no data folder for the key: give --out FILE (or set COPKIT_DATA_DIR)"
                            .into(),
                    )
                })?;
            let public = crate::store::anchor::keygen(&path)?;
            outln!("Workstation key written: {}", path.display());
            outln!("Public key: {public} (also in {}.pub)", path.display());
            outln!(
                "Each audit head is signed with it from now on. Keep the key off the case's \
                 disk and give the .pub file to whoever checks cases (`audit verify \
                 --public-key`)."
            );
            Ok(ExitCode::SUCCESS)
        }
        Commands::Audit {
            command:
                AuditCommands::Show {
                    case,
                    purpose,
                    format,
                },
        } => {
            let purpose = resolve_purpose(purpose)?;
            let case = Case::open(&case, actor, &purpose)?;
            let records = case.audit_records()?;
            print_audit(&records, format)?;
            Ok(ExitCode::SUCCESS)
        }
        Commands::Analyze(args) => analyze::run(args, actor),
        Commands::Chain { command } => chain::run(command, actor),
        Commands::Import(args) => io::import(&args, actor),
        Commands::ImportDocs(args) => documents::import_docs(&args, actor),
        Commands::Search(args) => documents::search(&args, actor),
        Commands::VerifySources { case, purpose } => io::verify_sources(&case, purpose, actor),
        Commands::Export(args) => io::export(&args, actor),
        Commands::Report(args) => report::run(args, actor),
        Commands::Add { command } => edit::add(command, actor),
        Commands::Set(args) => edit::set(args, actor),
        Commands::Delete {
            case,
            ids,
            reason,
            purpose,
        } => edit::delete(&case, &ids, &reason, purpose, actor),
        Commands::Split {
            case,
            keep,
            absorbed,
            reason,
            purpose,
        } => edit::split(&case, &keep, &absorbed, reason, purpose, actor),
        Commands::Note {
            case,
            id,
            text,
            source_ref,
            grade,
            reason,
            purpose,
        } => edit::note(&case, &id, text, source_ref, &grade, reason, purpose, actor),
        Commands::Review(args) => privacy::review(args, actor),
        Commands::Purge(args) => privacy::purge(args, actor),
        Commands::Pseudonymise(args) => privacy::pseudonymise(args, actor),
        Commands::Undo { case, purpose } => edit::undo_redo(&case, true, purpose, actor),
        Commands::Redo { case, purpose } => edit::undo_redo(&case, false, purpose, actor),
        Commands::Types {
            command,
            case,
            purpose,
        } => edit::types(case, command, purpose, actor),
        Commands::Schemes {
            command,
            case,
            purpose,
        } => edit::schemes(case, command, purpose, actor),
        Commands::Generate(args) => generate::run_generate(args, actor),
        Commands::Truth(args) => generate::run_truth(args, actor),
        Commands::Score(args) => generate::run_score(args, actor),
        #[cfg(feature = "gui")]
        Commands::BenchUi {
            nodes,
            links,
            frames,
            events,
        } => {
            if nodes == 0 || frames == 0 {
                return Err(UsageError("--nodes and --frames must be at least 1".into()).into());
            }
            out!(
                "{}",
                crate::ui::graph::bench::report(nodes, links, frames, events)?
            );
            Ok(ExitCode::SUCCESS)
        }
        Commands::Layout(args) => layout::run(args, actor),
        Commands::BenchLayout(args) => bench::bench_layout(&args),
        Commands::DebugCrashWriter { case } => debug::crash_writer(&case, actor),
        Commands::Manpages { dir } => {
            for path in dist::write_man_pages(&dir)? {
                outln!("{}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Commands::Completions { dir } => {
            for path in dist::write_completions(&dir)? {
                outln!("{}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `copkit audit verify`: every check, read-only; then the check is recorded.
fn audit_verify(
    path: &std::path::Path,
    purpose: PurposeArg,
    public_key: Option<&str>,
    actor: &Actor,
) -> Result<ExitCode> {
    use crate::store::{CheckOutcome, VerifyOptions, anchor, verify_case_file};
    let purpose = resolve_purpose(purpose)?;
    let mut options = VerifyOptions::from_workstation()?;
    if let Some(key) = public_key {
        options.public_key = Some(anchor::read_public_key(key)?);
    }
    let report = verify_case_file(path, &options)?;
    let passed = report.passed();
    if passed {
        outln!(
            "Audit log intact: {} records, head {}; no check failed",
            report.records,
            match &report.chain {
                ChainCheck::Intact { head, .. } => head.as_str(),
                ChainCheck::Broken { .. } => "?",
            }
        );
    } else if let ChainCheck::Broken { seq, reason } = &report.chain {
        outln!("Audit log BROKEN at record {seq}: {reason}");
    } else {
        outln!("Audit log BROKEN: the chain holds, but a check below failed");
    }
    for check in &report.checks {
        let mark = match check.outcome {
            CheckOutcome::Passed => "ok",
            CheckOutcome::Failed => "FAILED",
            CheckOutcome::NotChecked => "not checked",
        };
        outln!("[{mark}] {}: {}", check.name, check.found);
        for problem in &check.problems {
            outln!("    - {problem}");
        }
        let proves = if check.outcome == CheckOutcome::Failed {
            "shows"
        } else {
            "proves"
        };
        outln!("    {proves}: {}", check.proves);
    }
    if let ChainCheck::Broken { seq, .. } = &report.chain {
        // The first broken record as the log holds it, read without writing anything.
        let conn = rusqlite::Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?;
        let rec = conn.query_row(
            "SELECT seq, time_utc, action, category, actor_analyst, actor_os, purpose \
             FROM audit WHERE seq = ?1",
            [seq],
            |r| {
                Ok(format!(
                    "  record {}: {} {} [{}] by {} ({}), purpose \"{}\"",
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?
                ))
            },
        );
        if let Ok(line) = rec {
            outln!("{line}");
        }
    }
    let summary = serde_json::json!({
        "result": if passed { "passed" } else { "failed" },
        "records": report.records,
        "checks": report.checks.iter().map(|c| (c.name, c.outcome)).collect::<std::collections::BTreeMap<_, _>>(),
    });
    let not_in_case = if passed {
        match Case::open_unrecorded(path, actor.clone(), &purpose)
            .and_then(|mut case| case.record_consultation("audit verify", summary.clone()))
        {
            Ok(_) => None,
            Err(e) => Some(e.to_string()),
        }
    } else {
        outln!(
            "Nothing was written to the case. Keep this file as it is for examination, and \
             work from a backup whose audit log verifies."
        );
        Some("a check failed, so the case was not written".to_string())
    };
    if let Some(why) = not_in_case {
        // The case id and a line id let the case take this line in, once, the next time it
        // is opened for writing.
        let entry = serde_json::json!({
            "entry_id": uuid::Uuid::new_v4().to_string(),
            "case_id": report.case_id,
            "time_utc": crate::store::now_utc(),
            "action": "audit verify",
            "file": std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
            "actor_os": actor.os_user,
            "actor_analyst": actor.analyst,
            "purpose": purpose,
            "details": summary,
            "not_recorded_in_case": why,
        });
        match anchor::log_consultation(&entry) {
            Ok(log) => outln!(
                "This check was recorded in the workstation's consultation log, not in the \
                 case ({why}): {}",
                log.display()
            ),
            Err(e) => eprintln!("copkit: warning: this check could not be recorded anywhere: {e}"),
        }
    }
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The purpose from `--purpose`, or asked for on an interactive terminal.
fn resolve_purpose(arg: PurposeArg) -> Result<String> {
    if let Some(p) = arg.purpose {
        if p.trim().is_empty() {
            return Err(UsageError("--purpose must not be empty".into()).into());
        }
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        return Err(UsageError(
            "this command opens a case, so it needs --purpose TEXT (a case reference or \
             justification for the audit log); no terminal is attached to ask for it"
                .into(),
        )
        .into());
    }
    eprint!("Purpose of this access (case reference or justification): ");
    std::io::stderr().flush().ok();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let line = line.trim().to_string();
    if line.is_empty() {
        return Err(UsageError("a purpose is required; nothing was opened".into()).into());
    }
    Ok(line)
}

fn print_info(info: &crate::store::CaseInfo) {
    outln!("Case:            {}", info.title);
    outln!(
        "File:            {} ({} bytes)",
        info.path.display(),
        info.file_bytes
    );
    outln!("Case id:         {}", info.case_id);
    outln!("Created:         {}", info.created_utc);
    outln!("Case format:     version {}", info.schema_version);
    if info.training {
        outln!("Mode:            TRAINING (generated data)");
    }
    let section = |title: &str, rows: &[(String, i64)]| {
        let total: i64 = rows.iter().map(|r| r.1).sum();
        outln!("{title:<17}{total}");
        for (t, n) in rows {
            outln!("  {t:<15}{n}");
        }
    };
    section("Entities:", &info.entities_by_type);
    section("Links:", &info.links_by_type);
    section("Events:", &info.events_by_type);
    outln!("Import batches:  {}", info.batches.len());
    for b in &info.batches {
        outln!(
            "  B{} {} \"{}\" {} by {}{}",
            b.id,
            b.kind,
            b.description,
            b.created_utc,
            b.actor,
            b.source_sha256
                .as_ref()
                .map(|h| format!(", sha256 {h}"))
                .unwrap_or_default()
        );
    }
    outln!(
        "Grading schemes: {} (default {})",
        info.grading_schemes
            .iter()
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        info.default_scheme
    );
    outln!(
        "Audit log:       {} records, head {}",
        info.audit_records,
        info.audit_head
    );
    outln!(
        "Generation:      {} ({} undo steps)",
        info.generation,
        info.undo_steps
    );
}

fn print_audit(records: &[AuditRecord], format: AuditFormat) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        AuditFormat::Json => {
            serde_json::to_writer_pretty(&mut out, records)?;
            writeln!(out)?;
        }
        AuditFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record([
                "seq",
                "time_utc",
                "category",
                "action",
                "actor_os",
                "actor_analyst",
                "purpose",
                "details",
                "prev_hash",
                "hash",
            ])?;
            for r in records {
                let seq = r.seq.to_string();
                let row = [
                    seq.as_str(),
                    &r.time_utc,
                    &r.category,
                    &r.action,
                    &r.actor_os,
                    &r.actor_analyst,
                    &r.purpose,
                    &r.details,
                    &r.prev_hash,
                    &r.hash,
                ];
                // Neutralise cells a spreadsheet would run as formulas.
                w.write_record(row.iter().map(|c| neutralise_formula(c)))?;
            }
            w.flush()?;
        }
        AuditFormat::Text => {
            for r in records {
                writeln!(
                    out,
                    "{:>5}  {}  {:<12} {:<22} {} ({})  purpose: {}  {}",
                    r.seq,
                    r.time_utc,
                    r.category,
                    r.action,
                    r.actor_analyst,
                    r.actor_os,
                    r.purpose,
                    r.details
                )?;
            }
        }
    }
    Ok(())
}

#[cfg(feature = "gui")]
fn open_workbench(
    case: Option<PathBuf>,
    purpose: Option<String>,
    actor: Actor,
) -> Result<ExitCode> {
    crate::app::run(case, purpose, actor)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "gui"))]
fn open_workbench(
    _case: Option<PathBuf>,
    _purpose: Option<String>,
    _actor: Actor,
) -> Result<ExitCode> {
    Err(UsageError(
        "this copkit was built without the workbench window (feature `gui`); use a \
         subcommand (see `copkit --help`) or rebuild with default features"
            .into(),
    )
    .into())
}
