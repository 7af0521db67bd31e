//! Data protection on the command line: `copkit review` (what is due under the retention
//! rules, and extending a review date), `copkit purge` (erasing a batch or items for good) and
//! `copkit pseudonymise` (a training copy that names nobody).

use super::{InfoFormat, PurposeArg, UsageError, resolve_purpose};
use crate::model::{AnyId, BatchId};
use crate::store::{Actor, Case, Command, PurgeTarget, SharedEntities};
use anyhow::Result;
use clap::{Args, ValueEnum};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// How many entries `copkit review` lists by default.
const REVIEW_LIMIT: usize = 1000;

#[derive(Debug, Args)]
pub struct ReviewArgs {
    pub case: PathBuf,
    /// List what is due on or before this date (YYYY-MM-DD; default: today, UTC).
    #[arg(long, value_name = "DATE")]
    pub due_by: Option<String>,
    /// List at most this many entries (the total is always counted).
    #[arg(long, default_value_t = REVIEW_LIMIT)]
    pub limit: usize,
    #[arg(long, value_enum, default_value_t = InfoFormat::Text)]
    pub format: InfoFormat,
    /// Instead of listing: move the review date of these items or batches (E12, L3, V7, B2)
    /// to --to, with --reason.
    #[arg(long, value_name = "ID", num_args = 1.., requires_all = ["to", "reason"])]
    pub extend: Vec<String>,
    /// The new review date for --extend (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", requires = "extend")]
    pub to: Option<String>,
    /// Why the review date moves (recorded in the audit log).
    #[arg(long, requires = "extend")]
    pub reason: Option<String>,
    #[command(flatten)]
    pub purpose: PurposeArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SharedArg {
    Refuse,
    Keep,
    Erase,
}

#[derive(Debug, Args)]
pub struct PurgeArgs {
    pub case: PathBuf,
    /// The import batch to erase with everything it brought (B2 or 2).
    #[arg(
        long,
        value_name = "BATCH",
        conflicts_with = "item",
        required_unless_present = "item"
    )]
    pub batch: Option<String>,
    /// Entities, links or events to erase (E12 L3 V7); an entity takes its links, event
    /// participations, values and notes with it.
    #[arg(long = "item", value_name = "ID", num_args = 1..)]
    pub item: Vec<String>,
    /// Entities of the batch that other batches or hand entries also use: refuse and name them,
    /// keep them with what the other sources gave them, or erase them with everything attached.
    #[arg(long, value_enum, default_value_t = SharedArg::Refuse)]
    pub shared: SharedArg,
    /// Why (the retention rule or decision), recorded in the erasure record.
    #[arg(long)]
    pub reason: String,
    #[arg(long, value_enum, default_value_t = InfoFormat::Text)]
    pub format: InfoFormat,
    #[command(flatten)]
    pub purpose: PurposeArg,
}

#[derive(Debug, Args)]
pub struct PseudonymiseArgs {
    pub case: PathBuf,
    /// The new training copy (.copkit); an existing file is never overwritten.
    #[arg(long, value_name = "COPY")]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value_t = InfoFormat::Text)]
    pub format: InfoFormat,
    #[command(flatten)]
    pub purpose: PurposeArg,
}

fn open(case: &Path, actor: Actor, purpose: PurposeArg) -> Result<Case> {
    let purpose = resolve_purpose(purpose)?;
    Ok(Case::open(case, actor, &purpose)?)
}

fn parse_batch(text: &str) -> Result<BatchId> {
    let digits = text.trim().strip_prefix(['B', 'b']).unwrap_or(text.trim());
    digits.parse::<i64>().map(BatchId).map_err(|_| {
        UsageError(format!(
            "'{text}' is not a batch: write its number, as B2 or 2 (`copkit info` lists them)"
        ))
        .into()
    })
}

/// `copkit review CASE`.
pub fn review(args: ReviewArgs, actor: Actor) -> Result<ExitCode> {
    if !args.extend.is_empty() {
        return extend(args, actor);
    }
    let due_by = args
        .due_by
        .clone()
        .unwrap_or_else(|| chrono::Utc::now().format("%Y-%m-%d").to_string());
    let mut case = open(&args.case, actor, args.purpose)?;
    let list = case.review_due(&due_by, args.limit)?;
    case.record_consultation(
        "review list",
        json!({"due_by": due_by, "total": list.total, "listed": list.entries.len()}),
    )?;
    match args.format {
        InfoFormat::Json => outln!("{}", serde_json::to_string_pretty(&list)?),
        InfoFormat::Text => {
            if list.total == 0 {
                outln!("Nothing is due for review by {due_by}.");
            } else {
                outln!("{} due for review by {due_by}:", list.total);
                outln!("{:<10}  {:<8}  {:<14}  label", "review", "id", "type");
                for e in &list.entries {
                    outln!(
                        "{:<10}  {:<8}  {:<14}  {}",
                        e.review_date,
                        e.reference,
                        e.item_type,
                        crate::io::neutralise_formula(&e.label)
                    );
                }
                if (list.entries.len() as u64) < list.total {
                    outln!(
                        "({} more; --limit shows more, --format json for all fields)",
                        list.total - list.entries.len() as u64
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `copkit review CASE --extend ID... --to DATE --reason R`: one command per kind of id.
fn extend(args: ReviewArgs, actor: Actor) -> Result<ExitCode> {
    let date = args.to.unwrap_or_default();
    let reason = args.reason.unwrap_or_default();
    if reason.trim().is_empty() {
        return Err(UsageError("--reason must not be empty".into()).into());
    }
    let mut items = Vec::new();
    let mut batches = Vec::new();
    for text in &args.extend {
        if text.trim().starts_with(['B', 'b']) {
            batches.push(parse_batch(text)?);
        } else {
            match text.parse::<AnyId>().map_err(UsageError)? {
                AnyId::Item(item) => items.push(item),
                other => {
                    return Err(UsageError(format!(
                        "{other} has no review date: give entities, links, events or batches \
                         (E12 L3 V7 B2)"
                    ))
                    .into());
                }
            }
        }
    }
    let mut case = open(&args.case, actor, args.purpose)?;
    let mut commands = Vec::new();
    if !items.is_empty() {
        commands.push(Command::SetReviewDate {
            items,
            date: Some(date.clone()),
            reason: reason.clone(),
        });
    }
    for batch in batches {
        commands.push(Command::SetBatchReviewDate {
            batch,
            date: Some(date.clone()),
            reason: reason.clone(),
        });
    }
    for command in commands {
        let action = command.action();
        let applied = case.apply(command)?;
        outln!("{action}: {date} (audit record {})", applied.audit_seq);
    }
    Ok(ExitCode::SUCCESS)
}

/// `copkit purge CASE --batch B | --item ID... --reason R`.
pub fn purge(args: PurgeArgs, actor: Actor) -> Result<ExitCode> {
    if args.reason.trim().is_empty() {
        return Err(UsageError("--reason must not be empty".into()).into());
    }
    let target = match &args.batch {
        Some(batch) => PurgeTarget::Batch(parse_batch(batch)?),
        None => PurgeTarget::Items(
            args.item
                .iter()
                .map(|t| match t.parse::<AnyId>().map_err(UsageError)? {
                    AnyId::Item(item) => Ok(item),
                    other => Err(UsageError(format!(
                        "{other} cannot be purged on its own: purge the entity, link or event it \
                         belongs to (E12 L3 V7)"
                    ))
                    .into()),
                })
                .collect::<Result<Vec<_>>>()?,
        ),
    };
    let shared = match args.shared {
        SharedArg::Refuse => SharedEntities::Refuse,
        SharedArg::Keep => SharedEntities::Keep,
        SharedArg::Erase => SharedEntities::Erase,
    };
    let mut case = open(&args.case, actor, args.purpose)?;
    let report = case.purge(&target, shared, &args.reason)?;
    match args.format {
        InfoFormat::Json => outln!("{}", serde_json::to_string_pretty(&report)?),
        InfoFormat::Text => {
            outln!("purged (erasure record {}):", report.audit_seq);
            for (table, n) in &report.erased {
                if *n > 0 {
                    outln!("  {table}: {n}");
                }
            }
            if !report.kept_shared.is_empty() {
                outln!(
                    "  kept {} shared entities (other sources use them)",
                    report.kept_shared.len()
                );
            }
            outln!(
                "  undo history dropped ({} steps); file {} -> {} bytes, no free pages left",
                report.history_steps_dropped,
                report.file_bytes_before,
                report.file_bytes_after
            );
            if !report.audit_payloads_erased.is_empty() {
                outln!(
                    "  details of {} audit records that named what was erased replaced by \
                     erasure markers (the chain still verifies)",
                    report.audit_payloads_erased.len()
                );
            }
            if !report.audit_payloads_kept.is_empty() {
                outln!(
                    "note: {} audit records from before the case's upgrade to format 7 name what \
                     was erased and may hold values typed by hand or the batch's description; \
                     their chain covers them, so they were kept (records {})",
                    report.audit_payloads_kept.len(),
                    report
                        .audit_payloads_kept
                        .iter()
                        .take(20)
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            for backup in &report.backups {
                outln!(
                    "note: this backup was written before the purge and still holds the erased \
                     values; delete it if the retention rule requires: {}",
                    backup.display()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `copkit pseudonymise CASE --out COPY`.
pub fn pseudonymise(args: PseudonymiseArgs, actor: Actor) -> Result<ExitCode> {
    let mut case = open(&args.case, actor, args.purpose)?;
    let report = case.pseudonymise(&args.out)?;
    match args.format {
        InfoFormat::Json => outln!("{}", serde_json::to_string_pretty(&report)?),
        InfoFormat::Text => {
            outln!(
                "pseudonymised training copy: {} entities, {} links, {} events, {} values \
                 replaced ({} pseudonyms), {} bytes, sha256 {}",
                report.entities,
                report.links,
                report.events,
                report.values_replaced,
                report.pseudonyms,
                report.bytes,
                report.sha256
            );
            outln!(
                "recorded in this case's audit log (record {}); the copy does not name its \
                 original: {}",
                report.audit_seq,
                report.out.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
