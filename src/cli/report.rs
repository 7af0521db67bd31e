//! `copkit report CASE --out report.html --recipient R`: the case report (`crate::report`),
//! one self-contained HTML file written as an export (gated by handling codes, recorded as a
//! disclosure with the file's hash), run as a job (progress line, ctrl-c cancels).

use super::{PurposeArg, UsageError, resolve_purpose};
use crate::jobs::JobError;
use crate::model::{AnyId, ItemRef};
use crate::report::{AnalysisRequest, ReportError, ReportRequest, Template};
use crate::store::{Actor, Case};
use anyhow::Result;
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TemplateArg {
    /// Cover, chart, timeline, summary, up to 10 entity sheets, analysis, appendix.
    Brief,
    /// Everything, with the method, up to 200 entity sheets and longer tables.
    Full,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    pub case: PathBuf,
    /// The report file to write (HTML); never overwritten.
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value_t = TemplateArg::Brief)]
    pub template: TemplateArg,
    /// The entities the report is about (E3,E7): their sheets, and the links and events
    /// among them. Default: the whole case, sheets for the best connected entities.
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub selection: Vec<String>,
    /// Who receives the report (recorded in the manifest and the audit log).
    #[arg(long, value_name = "TEXT")]
    pub recipient: String,
    /// Analyses to run and show (stored with the case like `copkit analyze`): NAME or
    /// NAME:key=value:key=value, comma-separated, e.g. degree,pagerank:damping=0.9.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub analysis: Vec<String>,
    /// Disclose items whose handling code forbids dissemination, for this reason (audited).
    #[arg(long, value_name = "REASON")]
    pub override_dissemination: Option<String>,
    /// Include the restricted entities of --selection (and restricted links and events among
    /// them), for this reason (audited).
    #[arg(long, value_name = "REASON", requires = "selection")]
    pub include_restricted: Option<String>,
    /// The report's title (default: the case title).
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
    /// The protective marking (default: the strictest handling code in the content).
    #[arg(long, value_name = "TEXT")]
    pub marking: Option<String>,
    /// The agency's header line on the cover.
    #[arg(long, value_name = "TEXT")]
    pub header: Option<String>,
    #[command(flatten)]
    pub purpose: PurposeArg,
}

pub fn run(args: ReportArgs, actor: Actor) -> Result<ExitCode> {
    if args.recipient.trim().is_empty() {
        return Err(UsageError("--recipient must not be empty".into()).into());
    }
    let mut selection = Vec::new();
    for text in &args.selection {
        match text.trim().parse::<AnyId>() {
            Ok(AnyId::Item(ItemRef::Entity(id))) => selection.push(id),
            Ok(other) => {
                return Err(UsageError(format!(
                    "--selection takes entity ids (E3); {other} is not an entity"
                ))
                .into());
            }
            Err(e) => return Err(UsageError(format!("--selection: {e}")).into()),
        }
    }
    let analyses = args
        .analysis
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| AnalysisRequest::parse(s))
        .collect::<Result<Vec<_>, ReportError>>()
        .map_err(|e| UsageError(format!("--analysis: {e}")))?;
    let req = ReportRequest {
        out: args.out.clone(),
        template: match args.template {
            TemplateArg::Brief => Template::Brief,
            TemplateArg::Full => Template::Full,
        },
        selection: (!selection.is_empty()).then_some(selection),
        recipient: args.recipient.clone(),
        override_reason: args.override_dissemination.clone(),
        restricted_reason: args.include_restricted.clone(),
        analyses,
        title: args.title.clone(),
        marking: args.marking.clone(),
        header: args.header.clone(),
    };
    let purpose = resolve_purpose(args.purpose)?;
    let case_path = args.case.clone();
    let outcome = super::progress::run_job("report", move |cancel, progress| {
        let mut case = Case::open(&case_path, actor, &purpose).map_err(JobError::failed)?;
        Ok(crate::report::write_report(
            &mut case, &req, cancel, progress,
        ))
    })
    .map_err(anyhow::Error::msg)?;
    let outcome = match outcome {
        Ok(o) => o,
        // The export's own error, so that the hints (--override-dissemination) apply.
        Err(ReportError::Io(e)) => return Err(e.into()),
        Err(e) => return Err(e.into()),
    };
    let m = &outcome.export.manifest;
    outln!(
        "Report for {}: {} entities, {} links, {} events, {} entity sheets, marking {} ({} restricted items left out)",
        m.recipient,
        m.entities,
        m.links,
        m.events,
        outcome.sheets,
        outcome.marking,
        m.skipped_restricted
    );
    for (path, sha) in &m.outputs {
        outln!("  {path}  sha256 {sha}");
    }
    for run in &outcome.analysis_runs {
        outln!("  analysis run {run} stored with the case");
    }
    for n in &m.not_exported {
        outln!("  not in the report: {n}");
    }
    outln!("Manifest: {}", outcome.export.manifest_path.display());
    Ok(ExitCode::SUCCESS)
}
