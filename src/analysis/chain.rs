//! Chains: several components run one after another as one job, each step able to take its
//! input from an earlier step. A chain is a TOML file:
//!
//! ```toml
//! name = "brokers per community"
//! description = "optional text"
//!
//! [[step]]
//! id = "resolve"                 # unique within the chain
//! component = "resolve-entities" # any name from `copkit analyze --list`
//! params = { threshold = 0.9 }   # the component's parameters (numbers, booleans, text)
//!
//! [[step]]
//! id = "communities"
//! component = "louvain"
//! params = { grade = "B2" }
//! input = { step = "resolve", mode = "merge" }
//!
//! [[step]]
//! id = "brokers"
//! component = "betweenness"
//! input = { step = "communities", mode = "per_community" }
//! top = 10
//! ```
//!
//! Every step runs on a *view* of the case: the whole case, or, with `input`, the view of the
//! input step changed by `mode`:
//!
//! - `subgraph`: only the entities the input step's output names (and the links and events
//!   among them);
//! - `per_community`: once per community of the input step's `Communities` output, on that
//!   community alone; the outputs are combined (communities renumbered, values concatenated);
//! - `top` with `n`: only the `n` entities with the highest values of the input step's
//!   `EntityValues` output;
//! - `merge`: the input step's merge proposals applied to the view (in memory; the case is
//!   not changed), so the step analyses the network with duplicates folded together.
//!
//! Step options narrow the view further: `min_strength = "confirmed"` keeps only links at
//! least that strong (confirmed > tentative > unconfirmed); `last_days = N` keeps only the
//! events of the last N days before the view's latest event. `top = N` trims the step's own
//! `EntityValues` output to its N highest values (per community under `per_community`).
//!
//! A chain is validated before anything runs, with errors naming the file, the step and the
//! field. Running needs no store: the caller stores each step's output as an analysis run.

use super::{AnalysisError, Component, MergeProposal, Output, Params, find, run_component};
use crate::jobs::{CancelToken, Progress};
use crate::model::{EntityId, LinkStrength};
use crate::store::{CaseSnapshot, SnapshotHeader};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why a chain could not be read, validated or run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChainError {
    #[error("{file}: {reason}")]
    File { file: String, reason: String },
    #[error("{file}: step '{step}': {field}: {reason}")]
    Step {
        file: String,
        step: String,
        field: String,
        reason: String,
    },
    #[error("{file}: step '{step}' was cancelled")]
    Cancelled { file: String, step: String },
}

/// How a step uses its input step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputMode {
    Subgraph,
    PerCommunity,
    Top,
    Merge,
}

impl InputMode {
    /// Every mode, in the order an editor offers them.
    pub const ALL: [InputMode; 4] = [
        InputMode::Subgraph,
        InputMode::PerCommunity,
        InputMode::Top,
        InputMode::Merge,
    ];

    /// The mode as the chain file spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            InputMode::Subgraph => "subgraph",
            InputMode::PerCommunity => "per_community",
            InputMode::Top => "top",
            InputMode::Merge => "merge",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    pub step: String,
    pub mode: InputMode,
    /// For `mode = "top"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    pub id: String,
    pub component: String,
    #[serde(default, skip_serializing_if = "toml::Table::is_empty")]
    pub params: toml::Table,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<InputSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_strength: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_days: Option<u32>,
}

/// A chain file as written, before validation: what an editor builds and saves. The file's
/// `[[step]]` tables are `step`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChainSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default)]
    pub step: Vec<StepSpec>,
}

/// One problem [`ChainSpec::check`] found: the index of the step it is about (`None`: the
/// file as a whole) and the error, worded as `copkit chain check` words it.
pub type ChainProblem = (Option<usize>, ChainError);

/// One validated step.
#[derive(Clone)]
pub struct Step {
    pub id: String,
    pub component: &'static dyn Component,
    pub params: Params,
    /// Index of the input step and how it is used.
    pub input: Option<(usize, InputMode, usize)>,
    pub top: Option<usize>,
    pub min_strength: Option<LinkStrength>,
    pub last_days: Option<u32>,
}

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Step")
            .field("id", &self.id)
            .field("component", &self.component.name())
            .field("params", &self.params)
            .field("input", &self.input)
            .field("top", &self.top)
            .finish()
    }
}

/// A validated chain.
#[derive(Debug, Clone)]
pub struct Chain {
    /// Where it was read from (for messages).
    pub file: String,
    pub name: String,
    pub description: String,
    pub steps: Vec<Step>,
}

/// One step's result.
#[derive(Debug, Clone, PartialEq)]
pub struct StepOutput {
    pub id: String,
    pub component: &'static str,
    /// The component's parameters, plus `chain`, `chain_step` and the input, so that a stored
    /// run says how it was produced.
    pub params: Params,
    pub output: Output,
}

/// A parameter value as text, as components read it (a list joined by commas); `None` for a
/// table or a date, which no parameter takes.
pub fn toml_to_text(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        toml::Value::Array(items) => items
            .iter()
            .map(toml_to_text)
            .collect::<Option<Vec<_>>>()
            .map(|v| v.join(",")),
        _ => None,
    }
}

/// A parameter typed in as text, as the chain file should hold it: a number or true/false
/// where the parameter is one and the text reads as one, else the text.
pub fn param_value(kind: super::ParamKind, text: &str) -> toml::Value {
    let text = text.trim();
    let typed = match kind {
        super::ParamKind::Int => text.parse::<i64>().ok().map(toml::Value::Integer),
        super::ParamKind::Float => text
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(toml::Value::Float),
        super::ParamKind::Bool => text.parse::<bool>().ok().map(toml::Value::Boolean),
        _ => None,
    };
    typed.unwrap_or_else(|| toml::Value::String(text.to_string()))
}

impl ChainSpec {
    /// Reads chain text without validating its steps (a TOML or unknown-key error is the
    /// whole file's).
    pub fn parse(text: &str, file: &str) -> Result<ChainSpec, ChainError> {
        toml::from_str(text).map_err(|e| ChainError::File {
            file: file.to_string(),
            reason: format!("not a valid chain file: {}", e.message().trim()),
        })
    }

    /// The chain as TOML that [`Chain::parse`] reads back.
    pub fn to_toml(&self) -> Result<String, ChainError> {
        toml::to_string_pretty(self).map_err(|e| ChainError::File {
            file: self.name.clone(),
            reason: format!("could not be written as TOML ({e})"),
        })
    }

    /// Validates every step, as `copkit chain check` does, and gives every problem found
    /// rather than the first: an editor shows each beside its step. A step whose id is
    /// taken or whose component is unknown still counts as earlier for the steps after it,
    /// so one mistake is reported once.
    pub fn check(&self, file: &str) -> Result<Chain, Vec<ChainProblem>> {
        let mut problems: Vec<ChainProblem> = Vec::new();
        if self.step.is_empty() {
            problems.push((
                None,
                ChainError::File {
                    file: file.to_string(),
                    reason: "the chain has no [[step]]".into(),
                },
            ));
            return Err(problems);
        }
        let mut steps: Vec<Step> = Vec::new();
        let mut ids: Vec<&str> = Vec::new();
        for (k, s) in self.step.iter().enumerate() {
            match check_step(s, k, &ids, file) {
                Ok(step) => steps.push(step),
                Err(e) => problems.push((Some(k), e)),
            }
            ids.push(&s.id);
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Chain {
            file: file.to_string(),
            name: self.name.clone(),
            description: self.description.clone(),
            steps,
        })
    }
}

/// Validates step `k` of a chain; `earlier` holds the ids of the steps before it.
fn check_step(s: &StepSpec, k: usize, earlier: &[&str], file: &str) -> Result<Step, ChainError> {
    let err = |field: &str, reason: String| ChainError::Step {
        file: file.to_string(),
        step: if s.id.is_empty() {
            format!("#{}", k + 1)
        } else {
            s.id.clone()
        },
        field: field.to_string(),
        reason,
    };
    if s.id.trim().is_empty() {
        return Err(err("id", "give every step an id".into()));
    }
    if earlier.contains(&s.id.as_str()) {
        return Err(err("id", "another step has the same id".into()));
    }
    let component = find(&s.component).ok_or_else(|| {
        err(
            "component",
            format!(
                "no component called '{}'; the list of analysis components shows them",
                s.component
            ),
        )
    })?;
    let mut params = Params::new();
    for (key, value) in &s.params {
        let text = toml_to_text(value).ok_or_else(|| {
            err(
                &format!("params.{key}"),
                "give a number, true/false, text or a list of them".into(),
            )
        })?;
        params.0.insert(key.clone(), text);
    }
    params
        .check_known(component.params())
        .map_err(|e| err("params", e.to_string()))?;
    let input = match &s.input {
        None => None,
        Some(i) => {
            // The last step of that id: a repeated id is reported at the repeat.
            let from = earlier.iter().rposition(|p| *p == i.step).ok_or_else(|| {
                err(
                    "input.step",
                    format!(
                        "no earlier step called '{}' (steps run in file order)",
                        i.step
                    ),
                )
            })?;
            let n = match (i.mode, i.n) {
                (InputMode::Top, Some(n)) if n > 0 => n,
                (InputMode::Top, _) => {
                    return Err(err(
                        "input.n",
                        "mode \"top\" needs n, a whole number above 0".into(),
                    ));
                }
                (_, Some(_)) => {
                    return Err(err("input.n", "n is only for mode \"top\"".into()));
                }
                (_, None) => 0,
            };
            Some((from, i.mode, n))
        }
    };
    if s.top == Some(0) {
        return Err(err("top", "must be at least 1".into()));
    }
    let min_strength = s
        .min_strength
        .as_deref()
        .map(|t| {
            t.parse::<LinkStrength>()
                .map_err(|e| err("min_strength", e))
        })
        .transpose()?;
    if s.last_days == Some(0) {
        return Err(err("last_days", "must be at least 1".into()));
    }
    Ok(Step {
        id: s.id.clone(),
        component,
        params,
        input,
        top: s.top,
        min_strength,
        last_days: s.last_days,
    })
}

/// Writes chain text to `path` atomically: a temporary file in the same folder, flushed to
/// disk, then moved into place, so the file is whole or as it was. Without `replace`, an
/// existing file is left alone and is an error (the caller asks first).
pub fn save_chain_text(path: &Path, text: &str, replace: bool) -> Result<(), ChainError> {
    use std::io::Write as _;
    let file = path.display().to_string();
    let fail = |reason: String| ChainError::File {
        file: file.clone(),
        reason,
    };
    if !replace && path.exists() {
        return Err(fail(
            "already exists; choose another name, or confirm replacing it".into(),
        ));
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.part", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let written = (|| -> std::io::Result<()> {
        let mut out = std::fs::File::create_new(&tmp)?;
        out.write_all(text.as_bytes())?;
        out.sync_all()?;
        if replace {
            std::fs::rename(&tmp, path)
        } else {
            // A hard link fails if the name was taken meanwhile: never over another file.
            std::fs::hard_link(&tmp, path)?;
            std::fs::remove_file(&tmp)
        }
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        let reason = if e.kind() == std::io::ErrorKind::AlreadyExists {
            "already exists; choose another name, or confirm replacing it".to_string()
        } else {
            format!("could not be written ({e}); check the folder exists and is writable")
        };
        return Err(fail(reason));
    }
    Ok(())
}

impl Chain {
    /// Reads and validates a chain file.
    pub fn load(path: &Path) -> Result<Chain, ChainError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ChainError::File {
            file: file.clone(),
            reason: format!("could not read ({e})"),
        })?;
        Chain::parse(&text, &file)
    }

    /// Parses and validates chain text; `file` names it in messages. The first problem is
    /// the error; [`ChainSpec::check`] gives them all.
    pub fn parse(text: &str, file: &str) -> Result<Chain, ChainError> {
        ChainSpec::parse(text, file)?
            .check(file)
            .map_err(|mut problems| problems.swap_remove(0).1)
    }

    /// Runs every step in order on `case`. Checks `cancel` between and inside steps and
    /// reports progress as one job (each step a share of the bar).
    pub fn run(
        &self,
        case: &Arc<CaseSnapshot>,
        cancel: &CancelToken,
        progress: &dyn Progress,
    ) -> Result<Vec<StepOutput>, ChainError> {
        let mut views: Vec<Arc<CaseSnapshot>> = Vec::new();
        let mut outputs: Vec<StepOutput> = Vec::new();
        let steps = self.steps.len();
        for (k, step) in self.steps.iter().enumerate() {
            let fail = |field: &str, e: AnalysisError| match e {
                AnalysisError::Cancelled => ChainError::Cancelled {
                    file: self.file.clone(),
                    step: step.id.clone(),
                },
                other => ChainError::Step {
                    file: self.file.clone(),
                    step: step.id.clone(),
                    field: field.to_string(),
                    reason: other.to_string(),
                },
            };
            if cancel.is_cancelled() {
                return Err(fail("", AnalysisError::Cancelled));
            }
            let sub = StepProgress {
                inner: progress,
                step: k,
                steps,
                id: &step.id,
            };
            let (base, per_community) = match step.input {
                None => (Arc::clone(case), None),
                Some((from, mode, n)) => {
                    let view = &views[from];
                    let out = &outputs[from].output;
                    match mode {
                        InputMode::Subgraph => {
                            let keep = entities_of(out);
                            (Arc::new(restrict(view, |id| keep.contains(&id))), None)
                        }
                        InputMode::Top => {
                            let Output::EntityValues { values } = out else {
                                return Err(fail(
                                    "input.mode",
                                    AnalysisError::Failed(format!(
                                        "mode \"top\" needs per-entity values, but step '{}' \
                                         gives {}",
                                        outputs[from].id,
                                        kind_of(out)
                                    )),
                                ));
                            };
                            let keep: BTreeSet<EntityId> =
                                top_n(values, n).into_iter().map(|(e, _)| e).collect();
                            (Arc::new(restrict(view, |id| keep.contains(&id))), None)
                        }
                        InputMode::Merge => {
                            let Output::MergeProposals { proposals } = out else {
                                return Err(fail(
                                    "input.mode",
                                    AnalysisError::Failed(format!(
                                        "mode \"merge\" needs merge proposals, but step '{}' \
                                         gives {}",
                                        outputs[from].id,
                                        kind_of(out)
                                    )),
                                ));
                            };
                            (Arc::new(merged(view, proposals)), None)
                        }
                        InputMode::PerCommunity => {
                            let Output::Communities { assignment, .. } = out else {
                                return Err(fail(
                                    "input.mode",
                                    AnalysisError::Failed(format!(
                                        "mode \"per_community\" needs communities, but step \
                                         '{}' gives {}",
                                        outputs[from].id,
                                        kind_of(out)
                                    )),
                                ));
                            };
                            (Arc::clone(view), Some(assignment.clone()))
                        }
                    }
                }
            };
            let view = narrow(&base, step.min_strength, step.last_days);
            let output = match per_community {
                None => {
                    let out = run_component(step.component, &view, &step.params, cancel, &sub)
                        .map_err(|e| fail("params", e))?;
                    trim_top(out, step.top)
                }
                Some(assignment) => {
                    let parts_views = split_by_group(&view, &assignment);
                    let mut parts = Vec::new();
                    let count = parts_views.len().max(1);
                    for (g, part) in parts_views.iter().enumerate() {
                        if cancel.is_cancelled() {
                            return Err(fail("", AnalysisError::Cancelled));
                        }
                        sub.report(
                            Some(g as f32 / count as f32),
                            &format!("{} community {}/{count}", step.component.name(), g + 1),
                        );
                        let out = run_component(
                            step.component,
                            part,
                            &step.params,
                            cancel,
                            &crate::jobs::NoProgress,
                        )
                        .map_err(|e| fail("params", e))?;
                        parts.push(trim_top(out, step.top));
                    }
                    combine(parts)
                }
            };
            let mut params = step.params.clone();
            params.0.insert("chain".into(), self.name.clone());
            params.0.insert("chain_step".into(), step.id.clone());
            if let Some((from, mode, n)) = step.input {
                let mode = match mode {
                    InputMode::Subgraph => "subgraph".to_string(),
                    InputMode::PerCommunity => "per_community".to_string(),
                    InputMode::Top => format!("top {n}"),
                    InputMode::Merge => "merge".to_string(),
                };
                params.0.insert(
                    "chain_input".into(),
                    format!("{} ({mode})", self.steps[from].id),
                );
            }
            if let Some(t) = step.top {
                params.0.insert("chain_top".into(), t.to_string());
            }
            if let Some(s) = step.min_strength {
                params
                    .0
                    .insert("chain_min_strength".into(), s.as_str().into());
            }
            if let Some(d) = step.last_days {
                params.0.insert("chain_last_days".into(), d.to_string());
            }
            sub.report(Some(1.0), "done");
            outputs.push(StepOutput {
                id: step.id.clone(),
                component: step.component.name(),
                params,
                output,
            });
            views.push(view);
        }
        Ok(outputs)
    }
}

/// Maps a step's progress into its share of the chain's bar.
struct StepProgress<'a> {
    inner: &'a dyn Progress,
    step: usize,
    steps: usize,
    id: &'a str,
}

impl Progress for StepProgress<'_> {
    fn report(&self, fraction: Option<f32>, message: &str) {
        let f = (self.step as f32 + fraction.unwrap_or(0.0).clamp(0.0, 1.0)) / self.steps as f32;
        self.inner.report(
            Some(f),
            &format!(
                "step {}/{} {}: {message}",
                self.step + 1,
                self.steps,
                self.id
            ),
        );
    }
}

fn kind_of(output: &Output) -> String {
    serde_json::to_value(output)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string))
        .unwrap_or_default()
}

/// The entities an output names.
pub fn entities_of(output: &Output) -> BTreeSet<EntityId> {
    match output {
        Output::EntityValues { values } => values.iter().map(|v| v.0).collect(),
        Output::Communities { assignment, .. } => assignment.iter().map(|v| v.0).collect(),
        Output::Paths { paths } => paths.iter().flat_map(|p| p.entities.clone()).collect(),
        Output::Subgraph { entities, .. } => entities.iter().copied().collect(),
        Output::MergeProposals { proposals } => proposals
            .iter()
            .flat_map(|p| [p.keep, p.duplicate])
            .collect(),
        Output::Alerts { alerts } => alerts.iter().flat_map(|a| a.entities.clone()).collect(),
        Output::Histogram { .. } => BTreeSet::new(),
        Output::Mentions { mentions } => mentions
            .iter()
            .flat_map(|m| std::iter::once(m.document).chain(m.mention.entity))
            .collect(),
    }
}

/// The `n` highest values (ties by entity id), in entity-id order.
fn top_n(values: &[(EntityId, f64)], n: usize) -> Vec<(EntityId, f64)> {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    sorted.truncate(n);
    sorted.sort_by_key(|v| v.0);
    sorted
}

fn trim_top(output: Output, top: Option<usize>) -> Output {
    match (output, top) {
        (Output::EntityValues { values }, Some(n)) => Output::EntityValues {
            values: top_n(&values, n),
        },
        (other, _) => other,
    }
}

/// Combines the outputs of one step run per community.
fn combine(parts: Vec<Output>) -> Output {
    let mut values = Vec::new();
    let mut assignment = Vec::new();
    let mut paths = Vec::new();
    let mut entities = BTreeSet::new();
    let mut links = BTreeSet::new();
    let mut proposals = Vec::new();
    let mut alerts = Vec::new();
    let mut bins = Vec::new();
    let mut bin_ms = 0;
    let mut mentions = Vec::new();
    let mut kind = None;
    let mut next_group = 0u32;
    for part in parts {
        match part {
            Output::EntityValues { values: v } => {
                kind = Some(0);
                values.extend(v);
            }
            Output::Communities { assignment: a, .. } => {
                kind = Some(1);
                let groups = a.iter().map(|x| x.1).max().map_or(0, |m| m + 1);
                assignment.extend(a.into_iter().map(|(e, c)| (e, c + next_group)));
                next_group += groups;
            }
            Output::Paths { paths: p } => {
                kind = Some(2);
                paths.extend(p);
            }
            Output::Subgraph {
                entities: e,
                links: l,
            } => {
                kind = Some(3);
                entities.extend(e);
                links.extend(l);
            }
            Output::MergeProposals { proposals: p } => {
                kind = Some(4);
                proposals.extend(p);
            }
            Output::Alerts { alerts: a } => {
                kind = Some(5);
                alerts.extend(a);
            }
            Output::Histogram { bin_ms: b, bins: x } => {
                kind = Some(6);
                bin_ms = b;
                bins.extend(x);
            }
            Output::Mentions { mentions: m } => {
                kind = Some(7);
                mentions.extend(m);
            }
        }
    }
    values.sort_by_key(|v| v.0);
    assignment.sort_by_key(|v| v.0);
    match kind {
        Some(1) => Output::Communities {
            assignment,
            modularity: None,
        },
        Some(2) => Output::Paths { paths },
        Some(3) => Output::Subgraph {
            entities: entities.into_iter().collect(),
            links: links.into_iter().collect(),
        },
        Some(4) => Output::MergeProposals { proposals },
        Some(5) => Output::Alerts { alerts },
        Some(6) => Output::Histogram { bin_ms, bins },
        Some(7) => Output::Mentions { mentions },
        _ => Output::EntityValues { values },
    }
}

fn header(case: &CaseSnapshot) -> SnapshotHeader {
    SnapshotHeader {
        case_id: case.case_id.clone(),
        title: case.title.clone(),
        generation: case.generation,
        schema: case.schema.clone(),
        grading_schemes: case.grading_schemes.clone(),
        default_scheme: case.default_scheme.clone(),
    }
}

/// One view per group of `assignment` (entities the assignment leaves out are dropped), built
/// in one pass over the view: a chain step run per community on a case with thousands of
/// communities must not copy the whole case once per community.
pub fn split_by_group(case: &CaseSnapshot, assignment: &[(EntityId, u32)]) -> Vec<CaseSnapshot> {
    let group_of: HashMap<EntityId, u32> = assignment.iter().copied().collect();
    let mut index: BTreeMap<u32, usize> = BTreeMap::new();
    for &(_, g) in assignment {
        let next = index.len();
        index.entry(g).or_insert(next);
    }
    // Number groups in order of their label so the output order is stable.
    for (k, v) in index.values_mut().enumerate() {
        *v = k;
    }
    let groups = index.len();
    let mut entities = vec![Vec::new(); groups];
    let mut links = vec![Vec::new(); groups];
    let mut events: Vec<Vec<crate::model::Event>> = vec![Vec::new(); groups];
    for e in &case.entities {
        if let Some(g) = group_of.get(&e.id) {
            entities[index[g]].push(e.clone());
        }
    }
    for l in &case.links {
        if let (Some(a), Some(b)) = (group_of.get(&l.source), group_of.get(&l.target))
            && a == b
        {
            links[index[a]].push(l.clone());
        }
    }
    for ev in &case.events {
        let mut seen: Vec<u32> = Vec::new();
        for p in &ev.participants {
            if let Some(&g) = group_of.get(&p.entity)
                && !seen.contains(&g)
            {
                seen.push(g);
            }
        }
        for g in seen {
            let mut ev = ev.clone();
            ev.participants
                .retain(|p| group_of.get(&p.entity) == Some(&g));
            events[index[&g]].push(ev);
        }
    }
    entities
        .into_iter()
        .zip(links)
        .zip(events)
        .map(|((e, l), ev)| CaseSnapshot::assemble(header(case), e, l, ev))
        .collect()
}

/// The part of a view on the entities `keep` accepts: their links among themselves and the
/// events with at least one of them (other participants dropped).
pub fn restrict(case: &CaseSnapshot, keep: impl Fn(EntityId) -> bool) -> CaseSnapshot {
    let entities: Vec<_> = case
        .entities
        .iter()
        .filter(|e| keep(e.id))
        .cloned()
        .collect();
    let links = case
        .links
        .iter()
        .filter(|l| keep(l.source) && keep(l.target))
        .cloned()
        .collect();
    let events = case
        .events
        .iter()
        .filter_map(|ev| {
            let mut ev = ev.clone();
            ev.participants.retain(|p| keep(p.entity));
            (!ev.participants.is_empty()).then_some(ev)
        })
        .collect();
    CaseSnapshot::assemble(header(case), entities, links, events)
}

fn strength_rank(s: LinkStrength) -> u8 {
    match s {
        LinkStrength::Confirmed => 2,
        LinkStrength::Tentative => 1,
        LinkStrength::Unconfirmed => 0,
    }
}

/// A view with weaker links and older events left out.
fn narrow(
    case: &Arc<CaseSnapshot>,
    min_strength: Option<LinkStrength>,
    last_days: Option<u32>,
) -> Arc<CaseSnapshot> {
    if min_strength.is_none() && last_days.is_none() {
        return Arc::clone(case);
    }
    let links = case
        .links
        .iter()
        .filter(|l| min_strength.is_none_or(|m| strength_rank(l.strength) >= strength_rank(m)))
        .cloned()
        .collect();
    let latest = case.events.iter().map(|e| e.time.start_ms).max();
    let events = case
        .events
        .iter()
        .filter(|e| match (last_days, latest) {
            (Some(d), Some(latest)) => {
                e.time.start_ms > latest.saturating_sub(i64::from(d) * 86_400_000)
            }
            _ => true,
        })
        .cloned()
        .collect();
    Arc::new(CaseSnapshot::assemble(
        header(case),
        case.entities.clone(),
        links,
        events,
    ))
}

/// A view with merge proposals applied in memory: every duplicate folds into the lowest id
/// of its group (proposals chain: A=B and B=C make one group), taking its attributes, links
/// and event participations with it. Links that become loops are dropped.
pub fn merged(case: &CaseSnapshot, proposals: &[MergeProposal]) -> CaseSnapshot {
    // Union-find over entity ids, the root always the lowest id.
    let mut parent: HashMap<EntityId, EntityId> = HashMap::new();
    fn root(parent: &HashMap<EntityId, EntityId>, mut e: EntityId) -> EntityId {
        while let Some(&p) = parent.get(&e) {
            if p == e {
                break;
            }
            e = p;
        }
        e
    }
    for p in proposals {
        let (a, b) = (root(&parent, p.keep), root(&parent, p.duplicate));
        if a != b {
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            parent.insert(hi, lo);
        }
    }
    let to = |e: EntityId| root(&parent, e);
    let mut entities: Vec<_> = case
        .entities
        .iter()
        .filter(|e| to(e.id) == e.id)
        .cloned()
        .collect();
    let index: HashMap<EntityId, usize> = entities
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id, i))
        .collect();
    for e in &case.entities {
        let r = to(e.id);
        if r != e.id
            && let Some(&i) = index.get(&r)
        {
            entities[i].attributes.extend(e.attributes.iter().cloned());
        }
    }
    let links = case
        .links
        .iter()
        .filter_map(|l| {
            let mut l = l.clone();
            l.source = to(l.source);
            l.target = to(l.target);
            (l.source != l.target).then_some(l)
        })
        .collect();
    let events = case
        .events
        .iter()
        .map(|ev| {
            let mut ev = ev.clone();
            for p in &mut ev.participants {
                p.entity = to(p.entity);
            }
            ev
        })
        .collect();
    CaseSnapshot::assemble(header(case), entities, links, events)
}

/// The chains shipped in `assets/chains`, by file name.
pub fn bundled_chains_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/chains")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_file_step_and_field() {
        let e = Chain::parse(
            "name = 'x'\n[[step]]\nid = 'a'\ncomponent = 'nope'\n",
            "c.toml",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.toml: step 'a': component: no component called 'nope'; the list of analysis \
             components shows them"
        );
        let e = Chain::parse(
            "name = 'x'\n[[step]]\nid = 'a'\ncomponent = 'degree'\nparams = { mdoe = 'in' }\n",
            "c.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("c.toml: step 'a': params: parameter 'mdoe'"),
            "{e}"
        );
        let e = Chain::parse(
            "name = 'x'\n[[step]]\nid = 'a'\ncomponent = 'degree'\ninput = { step = 'b', mode = 'subgraph' }\n",
            "c.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("step 'a': input.step: no earlier step called 'b'"),
            "{e}"
        );
        let e = Chain::parse(
            "name = 'x'\n[[step]]\nid = 'a'\ncomponent = 'degree'\n[[step]]\nid = 'b'\ncomponent = 'degree'\ninput = { step = 'a', mode = 'top' }\n",
            "c.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("step 'b': input.n:"), "{e}");
        let e = Chain::parse(
            "name = 'x'\n[[step]]\nid = 'a'\ncomponent = 'degree'\ntpo = 3\n",
            "c.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("c.toml: not a valid chain file") && e.contains("tpo"),
            "{e}"
        );
        let e = Chain::parse("name = 'x'\n", "c.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no [[step]]"), "{e}");
        let e = Chain::parse(
            "name = 'x'\n[[step]]\nid = 'a'\ncomponent = 'degree'\nmin_strength = 'sure'\n",
            "c.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("step 'a': min_strength:"), "{e}");
    }

    fn two_steps() -> ChainSpec {
        let mut params = toml::Table::new();
        params.insert(
            "grade".into(),
            param_value(crate::analysis::ParamKind::Grade, "B2"),
        );
        params.insert(
            "seed".into(),
            param_value(crate::analysis::ParamKind::Int, " 7 "),
        );
        ChainSpec {
            name: "made in the editor".into(),
            description: String::new(),
            step: vec![
                StepSpec {
                    id: "groups".into(),
                    component: "louvain".into(),
                    params,
                    input: None,
                    top: None,
                    min_strength: Some("tentative".into()),
                    last_days: None,
                },
                StepSpec {
                    id: "ranked".into(),
                    component: "degree".into(),
                    params: toml::Table::new(),
                    input: Some(InputSpec {
                        step: "groups".into(),
                        mode: InputMode::PerCommunity,
                        n: None,
                    }),
                    top: Some(3),
                    min_strength: None,
                    last_days: Some(30),
                },
            ],
        }
    }

    #[test]
    fn a_spec_written_as_toml_reads_back_as_the_same_chain() {
        let spec = two_steps();
        let text = spec.to_toml().unwrap();
        assert!(text.contains("seed = 7"), "{text}");
        assert_eq!(ChainSpec::parse(&text, "c.toml").unwrap(), spec);
        let chain = Chain::parse(&text, "c.toml").unwrap();
        assert_eq!(chain.steps.len(), 2);
        assert_eq!(chain.steps[1].input, Some((0, InputMode::PerCommunity, 0)));
        assert_eq!(chain.steps[0].params.get_str("seed"), Some("7"));
        assert_eq!(chain.steps[1].top, Some(3));
    }

    #[test]
    fn check_reports_every_step_with_a_problem_once() {
        let mut spec = two_steps();
        spec.step[0].component = "nope".into();
        spec.step.push(StepSpec {
            id: "ranked".into(),
            component: "degree".into(),
            params: toml::Table::new(),
            input: Some(InputSpec {
                step: "groups".into(),
                mode: InputMode::Top,
                n: None,
            }),
            top: None,
            min_strength: None,
            last_days: None,
        });
        let problems = spec.check("c.toml").unwrap_err();
        let at: Vec<Option<usize>> = problems.iter().map(|p| p.0).collect();
        // Step 2 takes its input from the broken step 1 without a second complaint.
        assert_eq!(at, vec![Some(0), Some(2)]);
        assert!(
            problems[0].1.to_string().contains("component"),
            "{:?}",
            problems
        );
        assert!(
            problems[1]
                .1
                .to_string()
                .contains("another step has the same id")
        );
        let empty = ChainSpec::default().check("c.toml").unwrap_err();
        assert_eq!(empty[0].0, None);
    }

    #[test]
    fn saving_never_replaces_a_file_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        save_chain_text(&path, "one", false).unwrap();
        let e = save_chain_text(&path, "two", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("already exists"), "{e}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one");
        save_chain_text(&path, "two", true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file left behind");
        let e = save_chain_text(&dir.path().join("no/such/dir.toml"), "x", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("could not be written"), "{e}");
    }

    #[test]
    fn top_n_keeps_the_highest_in_id_order() {
        let v = vec![
            (EntityId(1), 0.5),
            (EntityId(2), 0.9),
            (EntityId(3), 0.1),
            (EntityId(4), 0.9),
        ];
        assert_eq!(top_n(&v, 2), vec![(EntityId(2), 0.9), (EntityId(4), 0.9)]);
    }
}
