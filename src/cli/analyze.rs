//! `copkit analyze`: runs one analysis component on a case as a background job (progress to
//! stderr), stores the run in the case with its audit record, and writes the result as CSV or
//! JSON to stdout or a file. `copkit analyze --list` shows the components and their parameters.

use super::{PurposeArg, UsageError, resolve_purpose};
use crate::analysis::{self, AnalysisError, AnalysisInput, Needs, Output, Params};
use crate::io::neutralise_formula;
use crate::model::EntityId;
use crate::store::{Actor, Case, CaseSnapshot, CompactGraph};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// The case file.
    #[arg(required_unless_present = "list")]
    pub case: Option<PathBuf>,
    /// The component to run (see --list).
    #[arg(required_unless_present = "list")]
    pub component: Option<String>,
    /// A parameter as key=value (repeatable), e.g. --param grade=B2.
    #[arg(long = "param", short = 'p', value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    #[arg(long, value_enum, default_value_t = AnalyzeFormat::Csv)]
    pub format: AnalyzeFormat,
    /// Write the result here instead of stdout (an existing file is not overwritten).
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// List the components and their parameters, then exit.
    #[arg(long)]
    pub list: bool,
    #[command(flatten)]
    pub purpose: PurposeArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnalyzeFormat {
    Csv,
    Json,
}

/// Runs `copkit analyze`.
pub fn run(args: AnalyzeArgs, actor: Actor) -> Result<ExitCode> {
    if args.list {
        print_list();
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(case_path), Some(name)) = (args.case, args.component) else {
        return Err(UsageError("give a CASE and a COMPONENT, or --list".into()).into());
    };
    let component = analysis::find(&name).ok_or_else(|| {
        UsageError(format!(
            "no component called '{name}'; `copkit analyze --list` shows them: {}",
            analysis::components()
                .iter()
                .map(|c| c.name())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let params = Params::parse_pairs(args.params.iter().map(String::as_str))
        .and_then(|p| p.check_known(component.params()).map(|()| p))
        .map_err(|e| UsageError(e.to_string()))?;
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
    let mut case = Case::open(&case_path, actor, &purpose)?;
    // A graph component reads the compact graph straight from the case; the snapshot (every
    // entity's full record) is built only for components that need it.
    let (input, names) = match component.needs() {
        Needs::Graph => {
            let include_restricted = params
                .get_bool(analysis::RESTRICTED_PARAM.name, false)
                .map_err(|e| UsageError(e.to_string()))?;
            let (graph, names) = case.compact_graph_with_names(include_restricted)?;
            (JobInput::Graph(Arc::new(graph)), EntityNames(names))
        }
        Needs::Snapshot => {
            let snapshot = case.snapshot()?;
            let names = EntityNames::from_snapshot(&snapshot);
            (JobInput::Snapshot(snapshot), names)
        }
    };
    let generation = match &input {
        JobInput::Graph(graph) => graph.generation,
        JobInput::Snapshot(snapshot) => snapshot.generation,
    };
    let output = run_as_job(component, input, params.clone())?;
    let run_id = crate::analysis::store_run(&mut case, component.name(), &params, &output)
        .context("could not store the analysis run in the case")?;
    eprintln!("copkit: stored as analysis run {run_id}");
    let mut buffer = Vec::new();
    match args.format {
        AnalyzeFormat::Json => {
            let doc = serde_json::json!({
                "run_id": run_id,
                "component": component.name(),
                "params": params,
                "generation": generation,
                "output": output,
            });
            serde_json::to_writer_pretty(&mut buffer, &doc)?;
            buffer.push(b'\n');
        }
        AnalyzeFormat::Csv => write_csv(&mut buffer, &names, &output)?,
    }
    write_output(args.out.as_deref(), &buffer)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes a result to a new file (never over an existing one) or to stdout.
pub(super) fn write_output(out: Option<&std::path::Path>, buffer: &[u8]) -> Result<()> {
    match out {
        // Whole or absent: a killed run never leaves a cut result under the name.
        Some(path) => crate::io::export::write_new_file(path, buffer)
            .with_context(|| format!("could not create '{}'", path.display()))?,
        None => std::io::stdout().lock().write_all(buffer)?,
    }
    Ok(())
}

/// What a component runs on in a job: the whole snapshot or the compact graph alone.
#[derive(Clone)]
pub enum JobInput {
    Snapshot(Arc<CaseSnapshot>),
    Graph(Arc<CompactGraph>),
}

/// Runs a component as a job, with a progress line on a terminal and ctrl-c cancelling it.
/// A bad parameter found while running is a usage error.
pub fn run_as_job(
    component: &'static dyn analysis::Component,
    input: JobInput,
    params: Params,
) -> Result<Output> {
    let result = super::progress::run_job(component.name(), move |cancel, progress| {
        let input = match &input {
            JobInput::Snapshot(snapshot) => AnalysisInput::from_snapshot(snapshot),
            JobInput::Graph(graph) => AnalysisInput::Graph(graph),
        };
        Ok(analysis::run_component_on(
            component, &input, &params, cancel, progress,
        ))
    })?;
    match result {
        Ok(output) => Ok(output),
        Err(e @ AnalysisError::BadParam { .. }) => Err(UsageError(e.to_string()).into()),
        Err(e) => Err(anyhow::anyhow!("{} failed: {e}", component.name())),
    }
}

/// Each entity's id, source id and label, sorted by id: what a CSV result row names.
pub struct EntityNames(pub crate::store::EntityNames);

impl EntityNames {
    pub fn from_snapshot(case: &CaseSnapshot) -> EntityNames {
        EntityNames(
            case.entities
                .iter()
                .map(|e| (e.id, e.source_id.clone(), e.label.clone()))
                .collect(),
        )
    }

    fn get(&self, id: EntityId) -> Option<(Option<&str>, &str)> {
        let i = self.0.binary_search_by_key(&id, |r| r.0).ok()?;
        let (_, source_id, label) = &self.0[i];
        Some((source_id.as_deref(), label.as_str()))
    }
}

fn print_list() {
    for c in analysis::components() {
        outln!("{:<20} {}", c.name(), c.summary());
        for p in c.params() {
            let default = p
                .default
                .map(|d| format!(" (default {d})"))
                .unwrap_or_default();
            outln!(
                "    {:<12} {:<12} {}{default}",
                p.name,
                serde_json::to_value(p.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                p.help
            );
        }
    }
}

/// Writes an output as CSV. Per-entity values: `rank,entity_id,source_id,label,value`, highest
/// value first (ties share a rank, then go by entity id); communities:
/// `entity_id,source_id,label,community`, by community and then entity id.
pub fn write_csv(out: &mut Vec<u8>, names: &EntityNames, output: &Output) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let who = |id: EntityId| -> (String, String, String) {
        let (source_id, label) = names.get(id).unwrap_or((None, ""));
        (
            id.0.to_string(),
            neutralise_formula(source_id.unwrap_or("")),
            neutralise_formula(label),
        )
    };
    match output {
        Output::EntityValues { values } => {
            w.write_record(["rank", "entity_id", "source_id", "label", "value"])?;
            let mut rows = values.clone();
            rows.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let mut rank = 0;
            let mut previous = None;
            for (i, (id, v)) in rows.into_iter().enumerate() {
                if previous != Some(v) {
                    rank = i + 1;
                    previous = Some(v);
                }
                let (a, b, c) = who(id);
                w.write_record([rank.to_string(), a, b, c, v.to_string()])?;
            }
        }
        Output::Communities { assignment, .. } => {
            w.write_record(["entity_id", "source_id", "label", "community"])?;
            let mut rows = assignment.clone();
            rows.sort_by_key(|r| (r.1, r.0));
            for (id, c) in rows {
                let (a, b, l) = who(id);
                w.write_record([a, b, l, c.to_string()])?;
            }
        }
        Output::Paths { paths } => {
            w.write_record([
                "path",
                "step",
                "entity_id",
                "source_id",
                "label",
                "link_id",
                "cost",
                "weakest_grade",
            ])?;
            for (i, p) in paths.iter().enumerate() {
                let grade = p
                    .weakest_grade
                    .as_ref()
                    .map(|g| {
                        format!(
                            "{}{}",
                            g.source.as_deref().unwrap_or("?"),
                            g.information.as_deref().unwrap_or("?")
                        )
                    })
                    .unwrap_or_else(|| "ungraded".into());
                for (step, id) in p.entities.iter().enumerate() {
                    let (a, b, c) = who(*id);
                    let link = if step == 0 {
                        String::new()
                    } else {
                        p.links[step - 1].0.to_string()
                    };
                    w.write_record([
                        (i + 1).to_string(),
                        step.to_string(),
                        a,
                        b,
                        c,
                        link,
                        p.cost.to_string(),
                        grade.clone(),
                    ])?;
                }
            }
        }
        Output::Subgraph { entities, .. } => {
            w.write_record(["entity_id", "source_id", "label"])?;
            for id in entities {
                let (a, b, c) = who(*id);
                w.write_record([a, b, c])?;
            }
        }
        Output::MergeProposals { proposals } => {
            w.write_record(["keep", "duplicate", "score", "explanation"])?;
            for p in proposals {
                w.write_record([
                    p.keep.0.to_string(),
                    p.duplicate.0.to_string(),
                    p.score.to_string(),
                    neutralise_formula(&p.explanation.join("; ")),
                ])?;
            }
        }
        Output::Alerts { alerts } => {
            w.write_record([
                "kind",
                "entities",
                "start_ms",
                "end_ms",
                "score",
                "description",
            ])?;
            for a in alerts {
                w.write_record([
                    a.kind.clone(),
                    a.entities
                        .iter()
                        .map(|e| e.0.to_string())
                        .collect::<Vec<_>>()
                        .join(" "),
                    a.start_ms.to_string(),
                    a.end_ms.to_string(),
                    a.score.to_string(),
                    neutralise_formula(&a.description),
                ])?;
            }
        }
        Output::Histogram { bins, .. } => {
            w.write_record(["series", "bin_start_ms", "count"])?;
            for (s, start, count) in bins {
                w.write_record([neutralise_formula(s), start.to_string(), count.to_string()])?;
            }
        }
        Output::Mentions { mentions } => {
            w.write_record([
                "document_id",
                "document",
                "page",
                "start",
                "end",
                "kind",
                "text",
                "normalized",
                "confidence",
                "entity_id",
                "entity",
                "group",
                "reason",
            ])?;
            for m in mentions {
                let (document_id, _, document) = who(m.document);
                let (entity_id, entity) = match m.mention.entity {
                    Some(id) => {
                        let (a, _, c) = who(id);
                        (a, c)
                    }
                    None => (String::new(), String::new()),
                };
                w.write_record([
                    document_id,
                    document,
                    m.page.to_string(),
                    m.mention.start.to_string(),
                    m.mention.end.to_string(),
                    m.mention.kind.key().to_string(),
                    neutralise_formula(&m.mention.text),
                    neutralise_formula(&m.mention.normalized),
                    format!("{:.3}", m.mention.confidence),
                    entity_id,
                    entity,
                    m.group.to_string(),
                    neutralise_formula(&m.mention.reason),
                ])?;
            }
        }
    }
    w.flush()?;
    Ok(())
}
