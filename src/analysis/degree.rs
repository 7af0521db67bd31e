//! Degree: links per entity, in, out, total or weighted.

use super::{
    AnalysisError, AnalysisGraph, AnalysisInput, Component, GRADE_PARAM, Needs, Output, ParamKind,
    ParamSpec, Params, RESTRICTED_PARAM,
};
use crate::jobs::{CancelToken, Progress};

pub struct Degree;

const PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "mode",
        kind: ParamKind::Text,
        default: Some("total"),
        help: "total, in or out (in and out count directed links only by their direction)",
    },
    ParamSpec {
        name: "weighted",
        kind: ParamKind::Bool,
        default: Some("false"),
        help: "sum link weights instead of counting links",
    },
    GRADE_PARAM,
    RESTRICTED_PARAM,
];

impl Component for Degree {
    fn name(&self) -> &'static str {
        "degree"
    }

    fn summary(&self) -> &'static str {
        "links per entity (in, out, total; optionally weighted)"
    }

    fn params(&self) -> &'static [ParamSpec] {
        PARAMS
    }

    fn needs(&self) -> Needs {
        Needs::Graph
    }
    fn run_on(
        &self,
        input: &AnalysisInput<'_>,
        params: &Params,
        cancel: &CancelToken,
        progress: &dyn Progress,
    ) -> Result<Output, AnalysisError> {
        let case = input.graph_with(params)?;
        let mode = params.get_str("mode").unwrap_or("total");
        if !matches!(mode, "total" | "in" | "out") {
            return Err(AnalysisError::BadParam {
                name: "mode".into(),
                reason: format!("'{mode}' is not total, in or out"),
            });
        }
        let weighted = params.get_bool("weighted", false)?;
        let threshold = params.get_grade(case)?;
        let graph = AnalysisGraph::build(case, threshold.as_ref())?;
        cancel.check()?;
        let mut values = vec![0.0; graph.node_count()];
        for &(s, t, w, _, directed) in &graph.edges {
            let amount = if weighted { w } else { 1.0 };
            match mode {
                "in" => {
                    values[t] += amount;
                    if !directed && s != t {
                        values[s] += amount;
                    }
                }
                "out" => {
                    values[s] += amount;
                    if !directed && s != t {
                        values[t] += amount;
                    }
                }
                _ => {
                    values[s] += amount;
                    values[t] += amount;
                }
            }
        }
        progress.report(Some(1.0), "degree done");
        Ok(Output::EntityValues {
            values: graph.nodes.iter().copied().zip(values).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::NoProgress;
    use crate::model::*;
    use crate::store::{CaseSnapshot, SnapshotHeader};

    fn star() -> CaseSnapshot {
        let entity = |i: i64| Entity {
            id: EntityId(i),
            entity_type: "Person".into(),
            label: format!("p{i}"),
            source_id: None,
            category: None,
            restricted: false,
            provenance: Provenance::default(),
            grading: None,
            attributes: vec![],
            review_date: None,
            notes: Vec::new(),
        };
        let link = |i: i64, s: i64, t: i64| Link {
            id: LinkId(i),
            link_type: "knows".into(),
            source: EntityId(s),
            target: EntityId(t),
            directed: true,
            strength: LinkStrength::Confirmed,
            weight: Some(2.0),
            label: None,
            source_id: None,
            restricted: false,
            provenance: Provenance::default(),
            grading: None,
            attributes: vec![],
            review_date: None,
            notes: Vec::new(),
        };
        CaseSnapshot::assemble(
            SnapshotHeader {
                case_id: "t".into(),
                title: "t".into(),
                generation: 1,
                schema: Schema::default(),
                grading_schemes: GradingScheme::builtin(),
                default_scheme: "admiralty".into(),
            },
            (1..=4).map(entity).collect(),
            vec![link(1, 1, 2), link(2, 1, 3), link(3, 4, 1)],
            vec![],
        )
    }

    #[test]
    fn degree_counts_in_out_total_and_weights() {
        let case = star();
        let run = |p: Params| match Degree
            .run(&case, &p, &CancelToken::new(), &NoProgress)
            .unwrap()
        {
            Output::EntityValues { values } => {
                values.into_iter().map(|(_, v)| v).collect::<Vec<_>>()
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(run(Params::new()), [3.0, 1.0, 1.0, 1.0]);
        assert_eq!(run(Params::new().with("mode", "out")), [2.0, 0.0, 0.0, 1.0]);
        assert_eq!(run(Params::new().with("mode", "in")), [1.0, 1.0, 1.0, 0.0]);
        assert_eq!(
            run(Params::new().with("weighted", "true")),
            [6.0, 2.0, 2.0, 2.0]
        );
        // Every link is ungraded, so a threshold leaves none.
        assert_eq!(run(Params::new().with("grade", "B2")), [0.0; 4]);
    }
}
