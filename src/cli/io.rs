//! `copkit import` and `copkit export`: thin wrappers over `crate::io` that resolve the spec,
//! run the job, print the report and map failures to exit codes.

use super::{PurposeArg, UsageError, resolve_purpose};
use crate::io::csv::CsvOptions;
use crate::io::export::{ExportFormat, ExportRequest};
use crate::io::{ImportPlan, IoError, Limits, MappingSpec, SourceFormat};
use crate::jobs::JobError;
use crate::store::{Actor, Case};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Formats `copkit import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    Csv,
    Tsv,
    /// Excel or OpenDocument workbook (first sheet unless --sheet).
    Xlsx,
    Graphml,
    Gexf,
    /// FollowTheMoney JSON lines.
    Ftm,
    /// Apache Parquet (a flat table; columns by name, as in a CSV header).
    Parquet,
    /// GML (networkx, igraph, Gephi).
    Gml,
    /// Pajek .net.
    Pajek,
    /// Node-link JSON (d3, networkx).
    NodeLink,
    /// A STIX 2.1 bundle.
    Stix,
    /// A Maltego graph (.mtgx).
    Mtgx,
}

/// Built-in mapping templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Template {
    Cdr,
    Bank,
    Entities,
    Links,
}

impl Template {
    fn name(self) -> &'static str {
        match self {
            Template::Cdr => "cdr",
            Template::Bank => "bank",
            Template::Entities => "entities",
            Template::Links => "links",
        }
    }
}

/// Arguments of `copkit import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The source file; it is only read, never written or written beside.
    pub file: PathBuf,
    /// The case to import into.
    #[arg(long, value_name = "CASE")]
    pub into: PathBuf,
    /// A mapping spec (TOML); see the templates in assets/templates.
    #[arg(long, value_name = "SPEC", conflicts_with = "template")]
    pub spec: Option<PathBuf>,
    /// A built-in mapping template.
    #[arg(long, value_enum)]
    pub template: Option<Template>,
    /// The file format (default: from the extension).
    #[arg(long, value_enum)]
    pub format: Option<ImportFormat>,
    /// Skip bad rows (each is listed in the report) instead of importing nothing.
    #[arg(long)]
    pub lenient: bool,
    /// The text encoding (default: UTF-8, or as a byte-order mark says).
    #[arg(long, value_name = "LABEL")]
    pub encoding: Option<String>,
    /// The delimiter (default: sniffed from the header line).
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<String>,
    /// The sheet of a workbook to import (default: the first).
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// The time zone of times written without one (IANA name or UTC).
    #[arg(long, value_name = "ZONE")]
    pub timezone: Option<String>,
    /// Raise a bound, as NAME=N (max_file_bytes, max_field_bytes, max_rows, ...).
    #[arg(long = "limit", value_name = "NAME=N")]
    pub limits: Vec<String>,
    /// Import only the rows an earlier import rejected, as listed in its JSON report (after
    /// fixing the spec or options); the file must be unchanged.
    #[arg(long, value_name = "REPORT")]
    pub rejected_from: Option<PathBuf>,
    /// Also write the report as JSON here (never over the source or the case).
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
    #[command(flatten)]
    pub purpose: PurposeArg,
}

fn load_spec(args: &ImportArgs) -> Result<MappingSpec> {
    match (&args.spec, args.template) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("could not read the spec {}", path.display()))?;
            MappingSpec::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
        }
        (None, Some(t)) => MappingSpec::template(t.name()).map_err(|e| anyhow::anyhow!(e)),
        (None, None) => Err(UsageError(
            "say how to map the file: --spec SPEC.toml or --template cdr|bank|entities|links"
                .into(),
        )
        .into()),
    }
}

fn write_report(path: &Path, protected: &[&Path], report: &crate::io::ImportReport) -> Result<()> {
    crate::io::check_output_path(path, protected)?;
    let json = serde_json::to_string_pretty(report)?;
    // Whole or absent: a killed import never leaves a cut report under the name.
    crate::io::export::write_new_file(path, json.as_bytes())
        .with_context(|| format!("could not write {}", path.display()))
}

/// Runs `copkit import`.
pub fn import(args: &ImportArgs, actor: Actor) -> Result<ExitCode> {
    let format = args
        .format
        .map_or_else(|| SourceFormat::detect(&args.file), SourceFormat::from);
    let mut limits = Limits::default();
    for l in &args.limits {
        limits.set(l).map_err(UsageError)?;
    }
    let protected = [args.file.as_path(), args.into.as_path()];
    // The report's path is checked before the import: a report that could not be written
    // after the batch was committed would make a retry import the file twice.
    if let Some(report) = &args.report {
        crate::io::check_output_path(report, &protected)?;
    }
    // Only tabular files are mapped; the others carry their own structure.
    let spec = if format.needs_mapping() {
        Some(load_spec(args)?)
    } else {
        None
    };
    let delimiter = match &args.delimiter {
        None => None,
        Some(d) if d == "tab" || d == "\\t" => Some(b'\t'),
        Some(d) if d.len() == 1 && d.is_ascii() => Some(d.as_bytes()[0]),
        Some(d) => {
            return Err(UsageError(format!(
                "--delimiter '{d}' must be one ASCII character or 'tab'"
            ))
            .into());
        }
    };
    let rejected_from = match &args.rejected_from {
        Some(previous) => {
            let text = std::fs::read_to_string(previous)
                .with_context(|| format!("could not read the report {}", previous.display()))?;
            let report: crate::io::ImportReport = serde_json::from_str(&text)
                .with_context(|| format!("{} is not an import report", previous.display()))?;
            Some(report)
        }
        None => None,
    };
    let purpose = resolve_purpose(args.purpose.clone_arg())?;
    let opts = CsvOptions {
        lenient: args.lenient,
        tsv: format == SourceFormat::Tsv,
        delimiter,
        encoding: args.encoding.clone(),
        timezone: args.timezone.clone(),
        limits,
        only_lines: None,
    };
    let plan = ImportPlan {
        source: args.file.clone(),
        format,
        spec,
        sheet: args.sheet.clone(),
        opts,
        rejected_from,
    };
    // The whole import, opening the case included, is one job: a progress line on a
    // terminal, and ctrl-c cancels it (the batch rolls back; the case is left as it was).
    let into = args.into.clone();
    let outcome = super::progress::run_job(&plan.job_name(), move |cancel, progress| {
        let mut case = Case::open(&into, actor, &purpose).map_err(JobError::failed)?;
        Ok(plan.run(&mut case, cancel, progress))
    })
    .map_err(anyhow::Error::msg)?;
    finish(outcome, args.report.as_deref(), &protected)
}

impl From<ImportFormat> for SourceFormat {
    fn from(format: ImportFormat) -> SourceFormat {
        match format {
            ImportFormat::Csv => SourceFormat::Csv,
            ImportFormat::Tsv => SourceFormat::Tsv,
            ImportFormat::Xlsx => SourceFormat::Xlsx,
            ImportFormat::Graphml => SourceFormat::Graphml,
            ImportFormat::Gexf => SourceFormat::Gexf,
            ImportFormat::Ftm => SourceFormat::Ftm,
            ImportFormat::Parquet => SourceFormat::Parquet,
            ImportFormat::Gml => SourceFormat::Gml,
            ImportFormat::Pajek => SourceFormat::Pajek,
            ImportFormat::NodeLink => SourceFormat::NodeLink,
            ImportFormat::Stix => SourceFormat::Stix,
            ImportFormat::Mtgx => SourceFormat::Mtgx,
        }
    }
}

fn finish(
    result: Result<crate::io::ImportReport, IoError>,
    report_path: Option<&Path>,
    protected: &[&Path],
) -> Result<ExitCode> {
    match result {
        Ok(report) => {
            out!("{}", report.to_text());
            if let Some(p) = report_path {
                write_report(p, protected, &report)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(IoError::Rejected { path, report }) => {
            out!("{}", report.to_text());
            if let Some(p) = report_path {
                write_report(p, protected, &report)?;
            }
            let err = IoError::Rejected { path, report };
            eprintln!("copkit: {err}");
            if let Some(hint) = super::hints::io_hint(&err) {
                eprintln!("hint: {hint}");
            }
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}

/// Formats `copkit export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormatArg {
    /// A folder with entities.csv, links.csv and events.csv.
    Csv,
    /// One row per link with both ends (i2-compatible).
    I2csv,
    Graphml,
    Gexf,
    /// FollowTheMoney JSON lines.
    Ftm,
    /// GML (networkx, igraph, Gephi).
    Gml,
    /// Pajek .net.
    Pajek,
    /// Node-link JSON (d3, networkx).
    NodeLink,
    /// Graphviz DOT.
    Dot,
    /// A STIX 2.1 bundle.
    Stix,
    /// A folder of Parquet tables (entities, links, events, attribute values, provenance).
    Parquet,
}

/// Arguments of `copkit export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    pub case: PathBuf,
    #[arg(long, value_enum)]
    pub format: ExportFormatArg,
    /// The output path (a new file, or a new folder for csv); never overwritten.
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
    /// Who receives the export (recorded in the manifest and the audit log).
    #[arg(long, value_name = "TEXT")]
    pub recipient: String,
    /// Export items whose handling code forbids dissemination, for this reason (audited).
    #[arg(long, value_name = "REASON")]
    pub override_dissemination: Option<String>,
    /// Export only these entities (ids such as E3,E7) and the links and events among them.
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub selection: Vec<String>,
    #[command(flatten)]
    pub purpose: PurposeArg,
}

/// Runs `copkit export`.
pub fn export(args: &ExportArgs, actor: Actor) -> Result<ExitCode> {
    let purpose = resolve_purpose(args.purpose.clone_arg())?;
    if args.recipient.trim().is_empty() {
        return Err(UsageError("--recipient must not be empty".into()).into());
    }
    let selection = if args.selection.is_empty() {
        None
    } else {
        let mut ids = Vec::new();
        for text in &args.selection {
            match text.trim().parse::<crate::model::AnyId>() {
                Ok(crate::model::AnyId::Item(crate::model::ItemRef::Entity(id))) => ids.push(id),
                Ok(other) => {
                    return Err(UsageError(format!(
                        "--selection takes entity ids (E3); {other} is not an entity"
                    ))
                    .into());
                }
                Err(e) => return Err(UsageError(format!("--selection: {e}")).into()),
            }
        }
        Some(ids)
    };
    let req = ExportRequest {
        format: match args.format {
            ExportFormatArg::Csv => ExportFormat::Csv,
            ExportFormatArg::I2csv => ExportFormat::I2Csv,
            ExportFormatArg::Graphml => ExportFormat::GraphMl,
            ExportFormatArg::Gexf => ExportFormat::Gexf,
            ExportFormatArg::Ftm => ExportFormat::Ftm,
            ExportFormatArg::Gml => ExportFormat::Gml,
            ExportFormatArg::Pajek => ExportFormat::Pajek,
            ExportFormatArg::NodeLink => ExportFormat::NodeLink,
            ExportFormatArg::Dot => ExportFormat::Dot,
            ExportFormatArg::Stix => ExportFormat::Stix,
            ExportFormatArg::Parquet => ExportFormat::Parquet,
        },
        out: args.out.clone(),
        recipient: args.recipient.clone(),
        override_reason: args.override_dissemination.clone(),
        only: selection,
    };
    let case_path = args.case.clone();
    let report = super::progress::run_job("export", move |cancel, progress| {
        let mut case = Case::open(&case_path, actor, &purpose).map_err(JobError::failed)?;
        Ok(crate::io::export::export(&mut case, &req, cancel, progress))
    })
    .map_err(anyhow::Error::msg)??;
    let m = &report.manifest;
    outln!(
        "Exported {} entities, {} links, {} events ({} restricted items skipped) for {}",
        m.entities,
        m.links,
        m.events,
        m.skipped_restricted,
        m.recipient
    );
    for (path, sha) in &m.outputs {
        outln!("  {path}  sha256 {sha}");
    }
    for n in &m.not_exported {
        outln!("  not exported: {n}");
    }
    outln!("Manifest: {}", report.manifest_path.display());
    Ok(ExitCode::SUCCESS)
}

impl PurposeArg {
    fn clone_arg(&self) -> PurposeArg {
        PurposeArg {
            purpose: self.purpose.clone(),
        }
    }
}

/// `copkit verify-sources CASE`: each import's source file hashed again where it still is.
/// Exit 0 when none changed (missing files are listed, not failures: sources move to evidence
/// stores); 1 when any changed.
pub fn verify_sources(
    case_path: &std::path::Path,
    purpose: super::PurposeArg,
    actor: Actor,
) -> Result<ExitCode> {
    use crate::io::verify::SourceState;
    let purpose = resolve_purpose(purpose)?;
    let case_path = case_path.to_path_buf();
    let checks = super::progress::run_job("verify sources", move |cancel, progress| {
        let mut case = Case::open(&case_path, actor, &purpose).map_err(JobError::failed)?;
        crate::io::verify::verify_sources(&mut case, cancel, progress)
            .map_err(JobError::failed)?
            .ok_or(JobError::Cancelled)
    })
    .map_err(anyhow::Error::msg)?;
    let mut changed = 0;
    for c in &checks {
        let path = c.recorded_path.as_deref().unwrap_or("-");
        let what = match &c.state {
            SourceState::Unchanged => "unchanged".to_string(),
            SourceState::Changed { sha256 } => {
                changed += 1;
                format!(
                    "CHANGED: sha256 now {sha256}, at import {}",
                    c.recorded_sha256.as_deref().unwrap_or("-")
                )
            }
            SourceState::Missing => "missing: no file there now".to_string(),
            SourceState::NotRecorded => "no source file recorded".to_string(),
        };
        let at = match &c.found_at {
            Some(p) if p.display().to_string() != path => format!(" (found at {})", p.display()),
            _ => String::new(),
        };
        outln!("B{} {}: {what}: {path}{at}", c.batch, c.description);
    }
    outln!(
        "{} batches checked, {changed} changed; the check is recorded in the audit log",
        checks.len()
    );
    Ok(if changed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
