//! `copkit import-docs` (a document or a folder of them, one batch, a line per file) and
//! `copkit search` (full-text search of the case's documents, recorded as a consultation).

use super::{PurposeArg, UsageError, resolve_purpose};
use crate::io::Limits;
use crate::io::documents::{DocFormat, DocumentOptions, import_documents};
use crate::jobs::JobError;
use crate::model::BatchId;
use crate::store::{Actor, Case, SearchQuery};
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct ImportDocsArgs {
    pub case: PathBuf,
    /// A document, or a folder whose files (and sub-folders') are imported as one batch.
    pub source: PathBuf,
    /// Read every file as this format instead of detecting it: text, html, pdf, docx, odt,
    /// eml, mbox, whatsapp, telegram.
    #[arg(long = "doc-format", value_name = "FORMAT")]
    pub doc_format: Option<String>,
    /// Read text files in this encoding (utf-8, windows-1252, iso-8859-15, …) instead of the
    /// detected one.
    #[arg(long)]
    pub encoding: Option<String>,
    /// The time zone of chat exports' times (an IANA name; default UTC).
    #[arg(long = "time-zone", value_name = "ZONE")]
    pub time_zone: Option<String>,
    /// What the batch is, in words.
    #[arg(long)]
    pub description: Option<String>,
    /// Raise or lower a bound: max_file_bytes, max_zip_entries, max_zip_bytes, max_zip_ratio,
    /// max_xml_depth, max_json_depth, max_field_bytes.
    #[arg(long = "limit", value_name = "NAME=N")]
    pub limits: Vec<String>,
    /// The most pages per document.
    #[arg(long = "max-pages", default_value_t = 10_000)]
    pub max_pages: u32,
    #[command(flatten)]
    pub purpose: PurposeArg,
}

pub fn import_docs(args: &ImportDocsArgs, actor: Actor) -> Result<ExitCode> {
    let mut limits = Limits::default();
    for l in &args.limits {
        limits.set(l).map_err(UsageError)?;
    }
    let format = match &args.doc_format {
        Some(f) => Some(DocFormat::from_flag(f).ok_or_else(|| {
            UsageError(format!(
                "--doc-format '{f}' is not one of: {}",
                DocFormat::ALL.map(DocFormat::flag).join(", ")
            ))
        })?),
        None => None,
    };
    let time_zone = match &args.time_zone {
        Some(z) => z.parse::<chrono_tz::Tz>().map_err(|_| {
            UsageError(format!(
                "--time-zone '{z}' is not an IANA time zone name (e.g. Europe/Brussels, UTC)"
            ))
        })?,
        None => chrono_tz::UTC,
    };
    let opts = DocumentOptions {
        limits,
        encoding: args.encoding.clone(),
        format,
        time_zone,
        max_pages: args.max_pages,
        description: args.description.clone(),
        ..DocumentOptions::default()
    };
    let purpose = resolve_purpose(PurposeArg {
        purpose: args.purpose.purpose.clone(),
    })?;
    let case_path = args.case.clone();
    let source = args.source.clone();
    let report = super::progress::run_job("import documents", move |cancel, progress| {
        let mut case = Case::open(&case_path, actor, &purpose).map_err(JobError::failed)?;
        import_documents(&mut case, &source, &opts, cancel, progress).map_err(JobError::failed)
    })
    .map_err(anyhow::Error::msg)?;
    for file in &report.files {
        match &file.result {
            Ok(s) => {
                let mut line = format!(
                    "ok      {}: {}, {} document(s), {} page(s)",
                    file.path.display(),
                    s.format,
                    s.documents,
                    s.pages
                );
                if let Some(e) = &s.encoding {
                    line.push_str(&format!(", encoding {e}"));
                }
                if s.needs_ocr > 0 {
                    line.push_str(&format!(
                        ", {} page(s) without text: NEEDS OCR",
                        s.needs_ocr
                    ));
                }
                if s.messages > 0 {
                    line.push_str(&format!(", {} message(s)", s.messages));
                }
                if s.attachments > 0 {
                    line.push_str(&format!(", {} attachment(s)", s.attachments));
                }
                outln!("{line}");
                for p in &s.problems {
                    outln!("        problem: {p}");
                }
            }
            Err(reason) => outln!("FAILED  {}: {reason}", file.path.display()),
        }
    }
    let t = report.totals();
    let failed = report.failed().count();
    outln!(
        "batch B{}: {} file(s) imported, {failed} failed; {} document(s), {} page(s), {} needing OCR, {} message(s)",
        report.batch.map_or(0, |b| b.0),
        report.imported().count(),
        t.documents,
        t.pages,
        t.needs_ocr,
        t.messages
    );
    if failed > 0 {
        outln!(
            "the failed files are not in the case; fix them (or pass --encoding / --doc-format) and import them again"
        );
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(Args, Debug)]
pub struct SearchArgs {
    pub case: PathBuf,
    /// An FTS5 query: words, "a phrase", prefix*, AND / OR / NOT, NEAR(word other, 10).
    pub query: String,
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Only documents of this entity type or format (pdf, docx, email, whatsapp, …).
    #[arg(long = "type", value_name = "T")]
    pub doc_type: Option<String>,
    /// Only documents of this import batch (B12 or 12).
    #[arg(long)]
    pub batch: Option<String>,
    /// Only documents dated on or after this day (YYYY-MM-DD).
    #[arg(long)]
    pub from: Option<String>,
    /// Only documents dated on or before this day (YYYY-MM-DD).
    #[arg(long)]
    pub to: Option<String>,
    /// Include restricted documents.
    #[arg(long)]
    pub include_restricted: bool,
    #[command(flatten)]
    pub purpose: PurposeArg,
}

fn day(flag: &str, value: Option<&String>) -> Result<Option<String>, UsageError> {
    match value {
        None => Ok(None),
        Some(v) => chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
            .map(|d| Some(d.format("%Y-%m-%d").to_string()))
            .map_err(|_| UsageError(format!("{flag} '{v}' is not a day as YYYY-MM-DD"))),
    }
}

pub fn search(args: &SearchArgs, actor: Actor) -> Result<ExitCode> {
    let batch = match &args.batch {
        Some(b) => Some(BatchId(
            b.trim()
                .trim_start_matches(['B', 'b'])
                .parse()
                .map_err(|_| UsageError(format!("--batch '{b}' is not a batch id (B12 or 12)")))?,
        )),
        None => None,
    };
    let query = SearchQuery {
        text: args.query.clone(),
        limit: args.limit,
        doc_type: args.doc_type.clone(),
        batch,
        from: day("--from", args.from.as_ref())?,
        to: day("--to", args.to.as_ref())?,
        include_restricted: args.include_restricted,
    };
    let purpose = resolve_purpose(PurposeArg {
        purpose: args.purpose.purpose.clone(),
    })?;
    let mut case = Case::open(&args.case, actor, &purpose)?;
    let hits = case.search_documents(&query)?;
    for h in &hits {
        let offsets: Vec<String> = h.offsets.iter().map(|(s, e)| format!("{s}-{e}")).collect();
        outln!(
            "E{} p.{} [{}] {}  chars {}",
            h.entity.0,
            h.page,
            h.entity_type,
            h.label,
            offsets.join(",")
        );
        outln!("    {}", h.snippet_marked("[", "]"));
    }
    outln!(
        "{} page(s) found; the search is recorded in the audit log",
        hits.len()
    );
    Ok(ExitCode::SUCCESS)
}
