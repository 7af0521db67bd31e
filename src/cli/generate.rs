//! `copkit generate`, `copkit truth` and `copkit score`: synthetic training cases with planted
//! ground truth, and scoring analysis components against that truth.

use super::{InfoFormat, PurposeArg, UsageError, resolve_purpose};
use crate::analysis::{self, Params};
use crate::generate::{self, GenerateOptions, GenerateSummary, Scenario, Size, Truth};
use crate::jobs::JobError;
use crate::store::{Actor, Case};
use anyhow::{Context, Result};
use clap::Args;

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The kind of crime the planted group commits.
    #[arg(long, value_parser = ["drug-trafficking", "firearms", "fraud"])]
    pub scenario: String,
    /// Random seed; the same seed and generator version give the same case.
    #[arg(long)]
    pub seed: u64,
    /// Path of the new case file (.copkit); an existing file is never overwritten.
    #[arg(long, value_name = "CASE")]
    pub out: PathBuf,
    /// small: ~150 people, ~5k events; medium: ~5k people, ~500k events; large: ~100k
    /// people, ~10M events.
    #[arg(long, default_value = "small", value_parser = ["small", "medium", "large"])]
    pub size: String,
    /// Number of people instead of the size's preset (events scale with it).
    #[arg(long)]
    pub people: Option<u32>,
    /// Number of days instead of the size's preset (events scale with it).
    #[arg(long)]
    pub days: Option<u32>,
    /// Also write the raw source files (CSV, FollowTheMoney JSON lines) into this folder.
    #[arg(long, value_name = "DIR")]
    pub sources_dir: Option<PathBuf>,
    /// Also write this many documents (witness statements, surveillance logs) mentioning the
    /// planted people, phones, vehicles and accounts, for `score --component
    /// extract-mentions`.
    #[arg(long, default_value_t = 0)]
    pub documents: u32,
    #[command(flatten)]
    pub purpose: PurposeArg,
}

#[derive(Debug, Args)]
pub struct TruthArgs {
    pub case: PathBuf,
    #[command(flatten)]
    pub purpose: PurposeArg,
    #[arg(long, value_enum, default_value_t = InfoFormat::Text)]
    pub format: InfoFormat,
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    pub case: PathBuf,
    /// The analysis component to run and score (see `copkit analyze --list`).
    #[arg(long)]
    pub component: String,
    /// A component parameter as key=value (repeatable).
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    #[command(flatten)]
    pub purpose: PurposeArg,
    #[arg(long, value_enum, default_value_t = InfoFormat::Text)]
    pub format: InfoFormat,
}

pub(super) fn run_generate(args: GenerateArgs, actor: Actor) -> Result<ExitCode> {
    let purpose = resolve_purpose(args.purpose)?;
    let scenario = Scenario::parse(&args.scenario).map_err(|e| UsageError(e.to_string()))?;
    let size = Size::parse(&args.size).map_err(|e| UsageError(e.to_string()))?;
    let opts = GenerateOptions {
        scenario,
        seed: args.seed,
        size,
        people: args.people,
        days: args.days,
        sources_dir: args.sources_dir,
        documents: args.documents,
    };
    let path = args.out;
    let job_path = path.clone();
    let started = std::time::Instant::now();
    let summary: GenerateSummary = super::progress::run_job("generate", move |cancel, progress| {
        generate::generate(&job_path, &opts, actor, &purpose, cancel, progress)
            .map_err(JobError::from)
    })
    .map_err(anyhow::Error::msg)
    .with_context(|| format!("could not generate the case {}", path.display()))?;
    let elapsed = started.elapsed();
    outln!(
        "Generated {} case (seed {}, {} people, {} days): {} entities, {} links, {} events in {:.2} s: {}",
        summary.scenario.as_str(),
        summary.seed,
        summary.people,
        summary.days,
        summary.entities,
        summary.links,
        summary.events,
        elapsed.as_secs_f64(),
        path.display()
    );
    for f in &summary.source_files {
        outln!("  source file: {}", f.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn load_truth(case: &Case) -> Result<Truth> {
    generate::read_truth(case)?.ok_or_else(|| {
        anyhow::anyhow!(
            "this case has no planted ground truth; only cases made by `copkit generate` have one: {}",
            case.path().display()
        )
    })
}

pub(super) fn run_truth(args: TruthArgs, actor: Actor) -> Result<ExitCode> {
    let purpose = resolve_purpose(args.purpose)?;
    let mut case = Case::open(&args.case, actor, &purpose)?;
    let truth = load_truth(&case)?;
    case.record_consultation("show ground truth", serde_json::json!({}))?;
    match args.format {
        InfoFormat::Json => outln!("{}", serde_json::to_string_pretty(&truth)?),
        InfoFormat::Text => print_truth(&truth),
    }
    Ok(ExitCode::SUCCESS)
}

fn print_truth(t: &Truth) {
    outln!("Generator:   {}", t.generator);
    outln!("Sources:");
    for s in &t.sources {
        outln!(
            "  B{} {:<22} grade {} {}",
            s.batch.0,
            s.name,
            s.grade,
            if s.reliable { "" } else { "(UNRELIABLE)" }
        );
    }
    outln!(
        "Leaders:     {}",
        t.leaders
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut cells: std::collections::BTreeMap<Option<u32>, Vec<String>> = Default::default();
    for m in &t.members {
        cells
            .entry(m.cell)
            .or_default()
            .push(format!("{} {} ({})", m.entity, m.name, m.role));
    }
    for (cell, people) in &cells {
        match cell {
            Some(c) => outln!("Cell {c}:"),
            None => outln!("Around the group:"),
        }
        for p in people {
            outln!("  {p}");
        }
    }
    outln!("Duplicate records:");
    for d in &t.duplicates {
        outln!("  {} = {}", d.original, d.duplicate);
    }
    outln!("Aliases:");
    for a in &t.aliases {
        outln!("  {} \"{}\"", a.person, a.alias);
    }
    outln!("Phone hand-overs:");
    for h in &t.handovers {
        outln!(
            "  {} from {} to {} at {}",
            h.phone,
            h.from,
            h.to,
            ms_text(h.at_ms)
        );
    }
    outln!("Phone swaps:");
    for s in &t.phone_swaps {
        outln!(
            "  {} {} -> {} at {}{}",
            s.person,
            s.old_phone,
            s.new_phone,
            ms_text(s.at_ms),
            if s.reason.is_empty() {
                String::new()
            } else {
                format!(" ({})", s.reason)
            }
        );
    }
    outln!("Meetings: {}", t.meetings.len());
    for m in &t.meetings {
        let names = |ids: &[crate::model::EntityId]| {
            ids.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        outln!(
            "  cell {} at {} (camera {}) {}: reported {}; cars read {}",
            m.cell,
            m.place,
            m.camera,
            ms_text(m.start_ms),
            if m.persons_reported.is_empty() {
                "-".to_string()
            } else {
                names(&m.persons_reported)
            },
            if m.vehicles_read.is_empty() {
                "-".to_string()
            } else {
                names(&m.vehicles_read)
            },
        );
    }
    outln!(
        "Burst:       {} to {} ({} persons, {} phones)",
        ms_text(t.burst.start_ms),
        ms_text(t.burst.end_ms),
        t.burst.persons.len(),
        t.burst.phones.len()
    );
    for i in &t.incidents {
        outln!(
            "Incident:    {} {} at {}, arrested {}",
            i.event,
            i.kind,
            ms_text(i.at_ms),
            i.arrested
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    outln!(
        "False links from the unreliable source: {}",
        t.false_links.len()
    );
    for l in &t.false_links {
        outln!("  {l}");
    }
    outln!("Mule chains:");
    for c in &t.mule_chains {
        outln!(
            "  {}",
            c.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" -> ")
        );
    }
}

fn ms_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

pub(super) fn run_score(args: ScoreArgs, actor: Actor) -> Result<ExitCode> {
    let purpose = resolve_purpose(args.purpose)?;
    let component = analysis::find(&args.component).ok_or_else(|| {
        UsageError(format!(
            "there is no analysis component '{}'; known components: {}",
            args.component,
            analysis::components()
                .iter()
                .map(|c| c.name())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let params = Params::parse_pairs(args.params.iter().map(String::as_str))
        .map_err(|e| UsageError(e.to_string()))?;
    let mut case = Case::open(&args.case, actor, &purpose)?;
    let truth = load_truth(&case)?;
    let snapshot = case.snapshot()?;
    let job_snapshot = snapshot.clone();
    let job_params = params.clone();
    let output: analysis::Output = super::progress::run_job(
        &format!("score {}", component.name()),
        move |cancel, progress| {
            analysis::run_component(component, &job_snapshot, &job_params, cancel, progress)
                .map_err(JobError::from)
        },
    )
    .map_err(anyhow::Error::msg)
    .with_context(|| format!("component {} failed", component.name()))?;
    let score = generate::score::score_output(&output, &truth, &snapshot);
    case.record_consultation(
        "score component",
        serde_json::json!({"component": component.name(), "params": params, "score": score}),
    )?;
    match args.format {
        InfoFormat::Json => outln!("{}", serde_json::to_string_pretty(&score)?),
        InfoFormat::Text => {
            outln!("Component {}:", component.name());
            let value = serde_json::to_value(&score)?;
            if let Some(map) = value.as_object() {
                for (k, v) in map {
                    outln!("  {k:<22}{v}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
