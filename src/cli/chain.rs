//! `copkit chain run FILE --case CASE`: runs an analysis chain (see `analysis::chain`) as one
//! background job with progress on stderr, stores every step's output as an analysis run with
//! its audit record, and writes the result: JSON with every step, or CSV of the last step.

use super::analyze::{AnalyzeFormat, EntityNames, write_csv};
use super::{PurposeArg, UsageError, resolve_purpose};
use crate::analysis::chain::{Chain, ChainError, StepOutput};
use crate::jobs::JobError;
use crate::store::{Actor, Case};
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Subcommand)]
pub enum ChainCommands {
    /// Run a chain file on a case. CSV writes the last step's result; JSON writes every step.
    Run(ChainRunArgs),
    /// Check a chain file without running it.
    Check {
        /// The chain file (TOML).
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ChainRunArgs {
    /// The chain file (TOML; see README "Analysis chains").
    pub file: PathBuf,
    /// The case file.
    #[arg(long)]
    pub case: PathBuf,
    #[arg(long, value_enum, default_value_t = AnalyzeFormat::Csv)]
    pub format: AnalyzeFormat,
    /// Write the result here instead of stdout (an existing file is not overwritten).
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub purpose: PurposeArg,
}

fn load(file: &Path) -> Result<Chain> {
    Chain::load(file).map_err(|e| match e {
        ChainError::Cancelled { .. } => anyhow::Error::new(e),
        other => UsageError(other.to_string()).into(),
    })
}

pub fn run(command: ChainCommands, actor: Actor) -> Result<ExitCode> {
    match command {
        ChainCommands::Check { file } => {
            let chain = load(&file)?;
            outln!(
                "{}: chain \"{}\" with {} steps is valid",
                file.display(),
                chain.name,
                chain.steps.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        ChainCommands::Run(args) => run_chain(args, actor),
    }
}

fn run_chain(args: ChainRunArgs, actor: Actor) -> Result<ExitCode> {
    let chain = load(&args.file)?;
    if let Some(out) = &args.out
        && out.exists()
    {
        return Err(UsageError(format!(
            "'{}' already exists; choose another --out path",
            out.display()
        ))
        .into());
    }
    let purpose = resolve_purpose(args.purpose)?;
    let mut case = Case::open(&args.case, actor, &purpose)?;
    let snapshot = case.snapshot()?;
    let job_chain = chain.clone();
    let job_snapshot = Arc::clone(&snapshot);
    let steps: Vec<StepOutput> =
        super::progress::run_job(&format!("chain {}", chain.name), move |cancel, progress| {
            Ok(job_chain.run(&job_snapshot, cancel, progress))
        })
        .map_err(|e: JobError| anyhow::anyhow!("chain {} failed: {e}", chain.name))?
        .map_err(anyhow::Error::new)?;
    let mut runs = Vec::new();
    for step in &steps {
        let run_id =
            crate::analysis::store_run(&mut case, step.component, &step.params, &step.output)
                .with_context(|| format!("could not store step '{}' in the case", step.id))?;
        eprintln!(
            "copkit: step {} ({}) stored as analysis run {run_id}",
            step.id, step.component
        );
        runs.push(run_id);
    }
    let mut buffer = Vec::new();
    match args.format {
        AnalyzeFormat::Json => {
            let doc = serde_json::json!({
                "chain": chain.name,
                "file": chain.file,
                "generation": snapshot.generation,
                "steps": steps.iter().zip(&runs).map(|(s, run_id)| serde_json::json!({
                    "id": s.id,
                    "run_id": run_id,
                    "component": s.component,
                    "params": s.params,
                    "output": s.output,
                })).collect::<Vec<_>>(),
            });
            serde_json::to_writer_pretty(&mut buffer, &doc)?;
            buffer.push(b'\n');
        }
        AnalyzeFormat::Csv => {
            if let Some(last) = steps.last() {
                write_csv(
                    &mut buffer,
                    &EntityNames::from_snapshot(&snapshot),
                    &last.output,
                )?;
            }
        }
    }
    super::analyze::write_output(args.out.as_deref(), &buffer)?;
    Ok(ExitCode::SUCCESS)
}
