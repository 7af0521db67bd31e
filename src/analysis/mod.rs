//! Analysis components. Every component has one shape: a case snapshot, parameters, a cancel
//! token and a progress sink in; an [`Output`] that names entities by id out. The same
//! component runs from the workbench (as a job), from `copkit analyze`, from a chain and from
//! `copkit score`.

mod centrality;
pub mod chain;
mod communities;
mod degree;
mod graph;
pub mod mentions;
mod paths;
mod patterns;
mod resolve;
mod simple;
mod structure;
mod temporal;

pub use centrality::{betweenness, closeness, eigenvector, pagerank};
pub use communities::{leiden, louvain, modularity};
pub use graph::AnalysisGraph;
pub use resolve::{accept_proposal, fold, phonetic_key};
pub use simple::SimpleGraph;
pub use structure::{core_numbers, weak_components};

use crate::jobs::{CancelToken, JobError, Progress};
use crate::model::{EntityId, Grade, Grading, LinkId};
use crate::store::{CaseSnapshot, CompactGraph};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Why a component could not produce a result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnalysisError {
    #[error("cancelled")]
    Cancelled,
    #[error("parameter '{name}': {reason}")]
    BadParam { name: String, reason: String },
    #[error("{0}")]
    Failed(String),
}

impl From<JobError> for AnalysisError {
    fn from(err: JobError) -> Self {
        match err {
            JobError::Cancelled => AnalysisError::Cancelled,
            other => AnalysisError::Failed(other.to_string()),
        }
    }
}

impl From<AnalysisError> for JobError {
    fn from(err: AnalysisError) -> Self {
        match err {
            AnalysisError::Cancelled => JobError::Cancelled,
            other => JobError::Failed(other.to_string()),
        }
    }
}

/// The kind of value a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    Int,
    Float,
    Bool,
    Text,
    /// An entity id (`E12` or `12`) or a source id.
    Entity,
    /// Comma-separated entities.
    EntityList,
    /// A grade threshold such as `B2` under the case's default scheme.
    Grade,
}

/// One parameter a component accepts.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ParamSpec {
    pub name: &'static str,
    pub kind: ParamKind,
    /// The default as text; `None` when the parameter is required or has no default.
    pub default: Option<&'static str>,
    pub help: &'static str,
}

/// The `grade` parameter every component accepts: only links and events graded at least this
/// well take part (ungraded items are left out when a threshold is set).
pub const GRADE_PARAM: ParamSpec = ParamSpec {
    name: "grade",
    kind: ParamKind::Grade,
    default: None,
    help: "only use links and events graded at least this well, e.g. B2 (ungraded ones are left out)",
};

/// Restricted items are kept for evidence but left out of analysis unless a run asks for them
/// with this parameter (which the run's audit record then carries).
pub const RESTRICTED_PARAM: ParamSpec = ParamSpec {
    name: "include_restricted",
    kind: ParamKind::Bool,
    default: Some("false"),
    help: "also analyse restricted items (recorded in the audit log with the run)",
};

/// Parameter values as given (`key=value` on the command line, a table in a chain file).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params(pub BTreeMap<String, String>);

impl Params {
    pub fn new() -> Params {
        Params::default()
    }

    /// Builder-style insert.
    #[allow(
        clippy::needless_pass_by_value,
        reason = "takes values as callers write them (\"0.85\", 3, true)"
    )]
    pub fn with(mut self, key: &str, value: impl ToString) -> Params {
        self.0.insert(key.to_string(), value.to_string());
        self
    }

    /// Parses `key=value` pairs.
    pub fn parse_pairs<'a>(
        pairs: impl IntoIterator<Item = &'a str>,
    ) -> Result<Params, AnalysisError> {
        let mut params = Params::new();
        for pair in pairs {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| AnalysisError::BadParam {
                    name: pair.to_string(),
                    reason: "write parameters as key=value".into(),
                })?;
            params.0.insert(k.trim().to_string(), v.trim().to_string());
        }
        Ok(params)
    }

    /// Rejects parameters the component does not know (a typo must not be silently ignored).
    pub fn check_known(&self, specs: &[ParamSpec]) -> Result<(), AnalysisError> {
        for key in self.0.keys() {
            if !specs.iter().any(|s| s.name == key) {
                return Err(AnalysisError::BadParam {
                    name: key.clone(),
                    reason: format!(
                        "unknown parameter; this component takes: {}",
                        specs.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
        Ok(())
    }

    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn parsed<T: std::str::FromStr>(
        &self,
        name: &str,
        default: T,
        what: &str,
    ) -> Result<T, AnalysisError> {
        match self.0.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| AnalysisError::BadParam {
                name: name.into(),
                reason: format!("'{v}' is not {what}"),
            }),
        }
    }

    /// A comma-separated list (`types=Person,Organization`); at least one item.
    pub fn get_list<'a>(
        &'a self,
        name: &str,
        default: &'a str,
    ) -> Result<Vec<&'a str>, AnalysisError> {
        let items: Vec<&str> = self
            .get_str(name)
            .unwrap_or(default)
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect();
        if items.is_empty() {
            return Err(AnalysisError::BadParam {
                name: name.into(),
                reason: "give at least one entity type".into(),
            });
        }
        Ok(items)
    }

    pub fn get_f64(&self, name: &str, default: f64) -> Result<f64, AnalysisError> {
        self.parsed(name, default, "a number")
    }

    pub fn get_usize(&self, name: &str, default: usize) -> Result<usize, AnalysisError> {
        self.parsed(name, default, "a whole number")
    }

    pub fn get_u64(&self, name: &str, default: u64) -> Result<u64, AnalysisError> {
        self.parsed(name, default, "a whole number")
    }

    pub fn get_bool(&self, name: &str, default: bool) -> Result<bool, AnalysisError> {
        self.parsed(name, default, "true or false")
    }

    /// One entity by id (`E12`, `12`) or by source id.
    pub fn get_entity(
        &self,
        case: &CaseSnapshot,
        name: &str,
    ) -> Result<Option<EntityId>, AnalysisError> {
        self.0
            .get(name)
            .map(|v| resolve_entity(case, name, v))
            .transpose()
    }

    /// Comma-separated entities.
    pub fn get_entities(
        &self,
        case: &CaseSnapshot,
        name: &str,
    ) -> Result<Vec<EntityId>, AnalysisError> {
        match self.0.get(name) {
            None => Ok(Vec::new()),
            Some(v) => v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| resolve_entity(case, name, s))
                .collect(),
        }
    }

    /// The `grade` threshold under the case's default scheme, if given.
    pub fn get_grade(&self, case: &impl GradingContext) -> Result<Option<Grade>, AnalysisError> {
        let Some(text) = self.0.get(GRADE_PARAM.name) else {
            return Ok(None);
        };
        let scheme =
            case.scheme_of(case.default_scheme_key())
                .ok_or_else(|| AnalysisError::BadParam {
                    name: "grade".into(),
                    reason: format!(
                        "the case's default scheme '{}' is missing",
                        case.default_scheme_key()
                    ),
                })?;
        scheme
            .parse_grade(text)
            .map(Some)
            .map_err(|e| AnalysisError::BadParam {
                name: "grade".into(),
                reason: e.to_string(),
            })
    }
}

fn resolve_entity(case: &CaseSnapshot, param: &str, text: &str) -> Result<EntityId, AnalysisError> {
    let digits = text.strip_prefix('E').unwrap_or(text);
    if let Ok(n) = digits.parse::<i64>()
        && case.entity(EntityId(n)).is_some()
    {
        return Ok(EntityId(n));
    }
    case.entities
        .iter()
        .find(|e| e.source_id.as_deref() == Some(text))
        .map(|e| e.id)
        .ok_or_else(|| AnalysisError::BadParam {
            name: param.into(),
            reason: format!("no entity with id or source id '{text}'"),
        })
}

/// A path found by a path component, with the weakest grade along it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathResult {
    pub entities: Vec<EntityId>,
    pub links: Vec<LinkId>,
    /// Hops, or the summed weight for weighted paths.
    pub cost: f64,
    /// The weakest grading of any link on the path (`None` when any link is ungraded).
    pub weakest_grade: Option<Grading>,
}

/// A proposed merge of two entities with the reasons for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergeProposal {
    pub keep: EntityId,
    pub duplicate: EntityId,
    /// 0..=1.
    pub score: f64,
    /// Which fields matched and how, for the analyst to judge.
    pub explanation: Vec<String>,
}

/// Something a temporal component flags: a burst, a phone swap, a co-location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub kind: String,
    pub entities: Vec<EntityId>,
    pub start_ms: i64,
    pub end_ms: i64,
    pub score: f64,
    pub description: String,
}

/// What a component produces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Output {
    /// One number per entity (centralities, degree, k-core), sorted by entity id.
    EntityValues {
        values: Vec<(EntityId, f64)>,
    },
    /// One group per entity (communities, components), sorted by entity id.
    Communities {
        assignment: Vec<(EntityId, u32)>,
        modularity: Option<f64>,
    },
    Paths {
        paths: Vec<PathResult>,
    },
    Subgraph {
        entities: Vec<EntityId>,
        links: Vec<LinkId>,
    },
    MergeProposals {
        proposals: Vec<MergeProposal>,
    },
    Alerts {
        alerts: Vec<Alert>,
    },
    /// Counts per time bin (activity histograms).
    Histogram {
        bin_ms: i64,
        /// (series name, bin start ms, count)
        bins: Vec<(String, i64, u64)>,
    },
    /// Mentions proposed in documents' text (`extract-mentions`): never applied by the run.
    Mentions {
        mentions: Vec<mentions::LocatedMention>,
    },
}

/// What a component reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// The compact graph alone (ids, link ends, weights, gradings): `copkit analyze` reads it
    /// straight from the case file without building a snapshot.
    Graph,
    /// The full snapshot (labels, attributes, events, source ids).
    Snapshot,
}

/// A component's input: a full snapshot (the window, chains, `score`), from which the compact
/// graph is built the first time a component asks for it, or the compact graph alone.
#[allow(
    clippy::large_enum_variant,
    reason = "one input per run, on the stack for its duration; boxing would only add an allocation"
)]
pub enum AnalysisInput<'a> {
    Snapshot {
        case: &'a CaseSnapshot,
        graph: std::sync::OnceLock<CompactGraph>,
        /// The graph with restricted items, built only when a run asks for them.
        with_restricted: std::sync::OnceLock<CompactGraph>,
    },
    Graph(&'a CompactGraph),
}

impl<'a> AnalysisInput<'a> {
    pub fn from_snapshot(case: &'a CaseSnapshot) -> AnalysisInput<'a> {
        AnalysisInput::Snapshot {
            case,
            graph: std::sync::OnceLock::new(),
            with_restricted: std::sync::OnceLock::new(),
        }
    }

    /// The compact graph without restricted items (built from the snapshot on first use).
    pub fn graph(&self) -> &CompactGraph {
        match self {
            AnalysisInput::Snapshot { case, graph, .. } => {
                graph.get_or_init(|| CompactGraph::from_snapshot(case))
            }
            AnalysisInput::Graph(g) => g,
        }
    }

    /// The compact graph a run's parameters ask for: with restricted items only when
    /// `include_restricted=true` ([`RESTRICTED_PARAM`]).
    pub fn graph_with(&self, params: &Params) -> Result<&CompactGraph, AnalysisError> {
        let include = params.get_bool(RESTRICTED_PARAM.name, false)?;
        match self {
            AnalysisInput::Snapshot {
                case,
                with_restricted,
                ..
            } if include => {
                Ok(with_restricted.get_or_init(|| CompactGraph::from_snapshot_with(case, true)))
            }
            AnalysisInput::Graph(g) if g.includes_restricted != include => {
                Err(AnalysisError::Failed(
                    "internal error: the graph was read with restricted items set otherwise than the run asks"
                        .into(),
                ))
            }
            _ => Ok(self.graph()),
        }
    }

    /// The full snapshot; an error for a component that declared [`Needs::Graph`] but asks
    /// for more (a programming error, reported rather than a panic).
    pub fn snapshot(&self) -> Result<&'a CaseSnapshot, AnalysisError> {
        match self {
            AnalysisInput::Snapshot { case, .. } => Ok(case),
            AnalysisInput::Graph(_) => Err(AnalysisError::Failed(
                "internal error: this component needs the whole case, not only its graph".into(),
            )),
        }
    }
}

/// An analysis component.
pub trait Component: Send + Sync {
    /// The name used on the command line and in chain files (`pagerank`, `louvain`, ...).
    fn name(&self) -> &'static str;
    /// One line for `copkit analyze --list`.
    fn summary(&self) -> &'static str;
    fn params(&self) -> &'static [ParamSpec];
    /// What the component reads (the compact graph alone is much faster to load).
    fn needs(&self) -> Needs {
        Needs::Snapshot
    }
    /// Runs on its input. Checks `cancel` inside its loops and reports progress.
    fn run_on(
        &self,
        input: &AnalysisInput<'_>,
        params: &Params,
        cancel: &CancelToken,
        progress: &dyn Progress,
    ) -> Result<Output, AnalysisError>;
    /// Runs on a snapshot.
    fn run(
        &self,
        case: &CaseSnapshot,
        params: &Params,
        cancel: &CancelToken,
        progress: &dyn Progress,
    ) -> Result<Output, AnalysisError> {
        self.run_on(
            &AnalysisInput::from_snapshot(case),
            params,
            cancel,
            progress,
        )
    }
}

/// The grading schemes a grade parameter is read against.
pub trait GradingContext {
    fn default_scheme_key(&self) -> &str;
    fn scheme_of(&self, key: &str) -> Option<&crate::model::GradingScheme>;
}

impl GradingContext for CaseSnapshot {
    fn default_scheme_key(&self) -> &str {
        &self.default_scheme
    }
    fn scheme_of(&self, key: &str) -> Option<&crate::model::GradingScheme> {
        self.scheme(key)
    }
}

impl GradingContext for CompactGraph {
    fn default_scheme_key(&self) -> &str {
        &self.default_scheme
    }
    fn scheme_of(&self, key: &str) -> Option<&crate::model::GradingScheme> {
        self.scheme(key)
    }
}

/// One stored analysis run, as this layer reads it back from the case.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AnalysisRun {
    pub id: i64,
    pub component: String,
    pub params: Params,
    pub created_utc: String,
    /// The case generation the run analysed.
    pub generation: u64,
    pub output: Output,
}

/// Stores a run's parameters and output with the case (with its audit record, in one
/// transaction); returns the run's id.
pub fn store_run(
    case: &mut crate::store::Case,
    component: &str,
    params: &Params,
    output: &Output,
) -> Result<i64, crate::store::StoreError> {
    let params = serde_json::to_value(params)
        .map_err(|e| crate::store::StoreError::Decode(e.to_string()))?;
    case.store_analysis_run(component, &params, output)
}

/// Every analysis run stored with the case, oldest first.
pub fn stored_runs(
    case: &crate::store::Case,
) -> Result<Vec<AnalysisRun>, crate::store::StoreError> {
    let decode = |what: &str, id: i64, e: serde_json::Error| {
        crate::store::StoreError::Decode(format!("the {what} of analysis run {id}: {e}"))
    };
    case.analysis_runs()?
        .into_iter()
        .map(|run| {
            Ok(AnalysisRun {
                params: serde_json::from_value(run.params)
                    .map_err(|e| decode("parameters", run.id, e))?,
                output: serde_json::from_value(run.output)
                    .map_err(|e| decode("output", run.id, e))?,
                id: run.id,
                component: run.component,
                created_utc: run.created_utc,
                generation: run.generation,
            })
        })
        .collect()
}

/// Every component, in the order `--list` shows them.
pub fn components() -> Vec<&'static dyn Component> {
    vec![
        &degree::Degree,
        &centrality::Betweenness,
        &centrality::Closeness,
        &centrality::Harmonic,
        &centrality::Eigenvector,
        &centrality::PageRank,
        &structure::Components,
        &structure::KCore,
        &communities::Louvain,
        &communities::Leiden,
        &paths::ShortestPath,
        &paths::KShortestPaths,
        &paths::AllPaths,
        &paths::ConnectingNetwork,
        &paths::Expand,
        &resolve::ResolveEntities,
        &temporal::Activity,
        &temporal::Bursts,
        &patterns::PhoneSwaps,
        &patterns::CoLocation,
        &patterns::Handovers,
        &mentions::ExtractMentions,
    ]
}

/// The component with this name.
pub fn find(name: &str) -> Option<&'static dyn Component> {
    components().into_iter().find(|c| c.name() == name)
}

/// Runs a component after checking its parameters.
pub fn run_component(
    component: &dyn Component,
    case: &CaseSnapshot,
    params: &Params,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<Output, AnalysisError> {
    params.check_known(component.params())?;
    component.run(case, params, cancel, progress)
}

/// Runs a component on its input after checking its parameters.
pub fn run_component_on(
    component: &dyn Component,
    input: &AnalysisInput<'_>,
    params: &Params,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<Output, AnalysisError> {
    params.check_known(component.params())?;
    component.run_on(input, params, cancel, progress)
}
