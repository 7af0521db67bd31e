//! A layout of the chart as one job, shared by the window's graph view and `copkit layout`:
//! which nodes move (the laid-out ones, minus the pinned), where the others stay, and how an
//! arrangement that ignores where the nodes were (circular, layered, grouped) is put back
//! where the laid-out nodes were. Also the parts of the chart the window saves with the case
//! that a headless layout reads and writes ([`SavedChartParts`]), so the window opens with the
//! positions the command line wrote.

use super::{ForceSettings, LayoutGraph};
use crate::jobs::{CancelToken, JobError, Progress};
use crate::model::EntityId;
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};

/// The layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// Barnes–Hut ForceAtlas2 from the current positions.
    Force,
    Circular,
    /// Layers along directed links.
    Hierarchical,
    /// One disc per group.
    Grouped,
}

/// One layout of part of a chart, its inputs owned so that it can run in a job.
#[derive(Debug, Clone)]
pub struct ChartLayout {
    pub algorithm: Algorithm,
    pub settings: ForceSettings,
    /// Every node of the chart and its edges.
    pub graph: LayoutGraph,
    /// Per edge of `graph`: a directed link (for the layered layout).
    pub directed: Vec<bool>,
    /// The nodes laid out (indices into `graph`); the others keep their positions and take
    /// no part in the computation.
    pub nodes: Vec<u32>,
    /// Every node's position before the layout.
    pub start: Vec<[f32; 2]>,
    /// Per node of `nodes`: stays where it is.
    pub pinned: Vec<bool>,
    /// Per node of `nodes`: its group (grouped layout).
    pub groups: Vec<u32>,
    /// Iterations at most of the force layout.
    pub iterations: usize,
}

impl ChartLayout {
    /// Computes the new position of every node: those laid out move, pinned ones and all
    /// others keep theirs. The force layout hands every node's positions to `publish` as it
    /// runs.
    pub fn run(
        &self,
        cancel: &CancelToken,
        progress: &dyn Progress,
        publish: &dyn Fn(&[[f32; 2]]),
    ) -> Result<Vec<[f32; 2]>, JobError> {
        // The subgraph of the nodes laid out, and its edges.
        let mut sub_of = vec![u32::MAX; self.graph.node_count];
        for (k, &i) in self.nodes.iter().enumerate() {
            if let Some(slot) = sub_of.get_mut(i as usize) {
                *slot = k as u32;
            }
        }
        let mut sub_directed = Vec::new();
        let mut edges = Vec::new();
        for (e, &(a, b)) in self.graph.edges.iter().enumerate() {
            let (sa, sb) = (sub_of[a as usize], sub_of[b as usize]);
            if sa != u32::MAX && sb != u32::MAX {
                edges.push((sa, sb));
                sub_directed.push(self.directed.get(e).copied().unwrap_or(false));
            }
        }
        let sub = LayoutGraph {
            node_count: self.nodes.len(),
            edges,
        };
        let sub_start: Vec<[f32; 2]> = self.nodes.iter().map(|&i| self.start[i as usize]).collect();
        let whole = |sub_positions: &[[f32; 2]]| -> Vec<[f32; 2]> {
            let mut all = self.start.clone();
            for (&i, &p) in self.nodes.iter().zip(sub_positions) {
                all[i as usize] = p;
            }
            all
        };
        let positions = match self.algorithm {
            Algorithm::Force => {
                let publish_whole = |p: &[[f32; 2]]| publish(&whole(p));
                let laid = super::run_force_with(
                    &sub,
                    Some(&sub_start),
                    &self.pinned,
                    self.settings,
                    self.iterations,
                    cancel,
                    progress,
                    &publish_whole,
                )?;
                return Ok(whole(&laid));
            }
            Algorithm::Circular => super::circular(sub.node_count),
            Algorithm::Hierarchical => super::hierarchical(&sub, &sub_directed),
            Algorithm::Grouped => super::grouped(&sub, &self.groups),
        };
        cancel.check()?;
        // The new arrangement keeps the centre of the laid-out nodes, so laying out a
        // selection leaves it where it was on the chart.
        let centre = |ps: &mut dyn Iterator<Item = [f32; 2]>| -> [f32; 2] {
            let (mut s, mut n) = ([0.0f32; 2], 0.0f32);
            for p in ps {
                s = [s[0] + p[0], s[1] + p[1]];
                n += 1.0;
            }
            if n > 0.0 {
                [s[0] / n, s[1] / n]
            } else {
                [0.0, 0.0]
            }
        };
        let before = centre(&mut sub_start.iter().copied());
        let after = centre(&mut positions.iter().copied());
        let shift = [before[0] - after[0], before[1] - after[1]];
        let moved: Vec<[f32; 2]> = positions
            .into_iter()
            .zip(&sub_start)
            .zip(&self.pinned)
            .map(|((new, old), &pinned)| {
                if pinned {
                    *old
                } else {
                    [new[0] + shift[0], new[1] + shift[1]]
                }
            })
            .collect();
        progress.report(Some(1.0), "laid out");
        Ok(whole(&moved))
    }
}

/// What a headless layout needs of the chart the window saved with the case (its
/// `SavedChart` JSON): positions, and which entities are on the chart, hidden, pinned or
/// folded into collections. Other parts (style, collection labels) are kept as they are by
/// [`with_positions`].
#[derive(Debug, Default, Deserialize)]
pub struct SavedChartParts {
    /// (entity id, x, y).
    #[serde(default)]
    pub positions: Vec<(i64, f32, f32)>,
    #[serde(default)]
    pub hidden: Vec<i64>,
    #[serde(default)]
    pub pinned: Vec<i64>,
    #[serde(default)]
    pub collections: Vec<SavedMembers>,
    /// The working set; absent: the whole case is on the chart.
    #[serde(default)]
    pub on_chart: Option<Vec<i64>>,
}

/// The members of a saved collection.
#[derive(Debug, Default, Deserialize)]
pub struct SavedMembers {
    #[serde(default)]
    pub members: Vec<i64>,
}

impl SavedChartParts {
    pub fn parse(json: &str) -> Result<SavedChartParts, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    /// The saved positions with finite coordinates.
    pub fn position_map(&self) -> HashMap<EntityId, [f32; 2]> {
        self.positions
            .iter()
            .filter(|(_, x, y)| x.is_finite() && y.is_finite())
            .map(|&(e, x, y)| (EntityId(e), [x, y]))
            .collect()
    }

    /// Whether the window lays this entity out: on the chart, not hidden and not folded into
    /// a collection (the graph view's shown nodes).
    pub fn laid_out(&self) -> impl Fn(EntityId) -> bool + '_ {
        let hidden: BTreeSet<i64> = self.hidden.iter().copied().collect();
        let collected: BTreeSet<i64> = self
            .collections
            .iter()
            .flat_map(|c| c.members.iter().copied())
            .collect();
        let on_chart: Option<BTreeSet<i64>> =
            self.on_chart.as_ref().map(|s| s.iter().copied().collect());
        move |e: EntityId| {
            !hidden.contains(&e.0)
                && !collected.contains(&e.0)
                && on_chart.as_ref().is_none_or(|s| s.contains(&e.0))
        }
    }

    pub fn is_pinned(&self, e: EntityId) -> bool {
        self.pinned.contains(&e.0)
    }
}

/// The saved chart `json` (or a new one when `None`) with `positions` in place of its
/// positions, and the positions set by hand dropped (they are now the layout's, as after a
/// layout in the window). Everything else it holds is kept as it was.
pub fn with_positions(
    json: Option<&str>,
    positions: &[(EntityId, [f32; 2])],
) -> Result<String, String> {
    let mut doc: serde_json::Map<String, serde_json::Value> = match json {
        Some(text) => serde_json::from_str(text).map_err(|e| e.to_string())?,
        None => serde_json::Map::new(),
    };
    let list: Vec<serde_json::Value> = positions
        .iter()
        .map(|(e, p)| serde_json::json!([e.0, p[0], p[1]]))
        .collect();
    doc.insert("positions".into(), serde_json::Value::Array(list));
    doc.insert("moved".into(), serde_json::Value::Array(Vec::new()));
    serde_json::to_string(&doc).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::NoProgress;

    fn path_of(n: usize) -> LayoutGraph {
        LayoutGraph {
            node_count: n,
            edges: (1..n as u32).map(|i| (i - 1, i)).collect(),
        }
    }

    #[test]
    fn only_the_laid_out_unpinned_nodes_move() {
        let graph = path_of(5);
        let start = crate::layout::starting_positions(5, None);
        for algorithm in [
            Algorithm::Force,
            Algorithm::Circular,
            Algorithm::Hierarchical,
            Algorithm::Grouped,
        ] {
            let job = ChartLayout {
                algorithm,
                settings: ForceSettings::default(),
                directed: vec![true; graph.edges.len()],
                graph: graph.clone(),
                nodes: vec![0, 1, 2, 3],
                start: start.clone(),
                pinned: vec![false, true, false, false],
                groups: vec![0, 0, 1, 1],
                iterations: 200,
            };
            let out = job.run(&CancelToken::new(), &NoProgress, &|_| {}).unwrap();
            assert_eq!(out[4], start[4], "{algorithm:?}: a node not laid out stays");
            assert_eq!(out[1], start[1], "{algorithm:?}: a pinned node stays");
            assert_ne!(out[0], start[0], "{algorithm:?}: a laid-out node moves");
        }
    }

    #[test]
    fn saved_parts_say_what_is_laid_out_and_positions_replace_only_themselves() {
        let json = r#"{"positions":[[1,0.0,0.0],[2,1.0,1.0]],"hidden":[2],"pinned":[3],
            "moved":[[1,5.0,5.0]],"collections":[{"members":[4,5],"label":"2 x Phone",
            "entity_type":"Phone","position":[0.0,0.0]}],"on_chart":[1,2,3,4,5],
            "style":{"anything":true}}"#;
        let parts = SavedChartParts::parse(json).unwrap();
        let laid_out = parts.laid_out();
        let shown: Vec<i64> = (1..=6).filter(|&e| laid_out(EntityId(e))).collect();
        assert_eq!(shown, vec![1, 3]);
        assert!(parts.is_pinned(EntityId(3)));
        let out = with_positions(Some(json), &[(EntityId(1), [7.0, 8.0])]).unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["positions"], serde_json::json!([[1, 7.0, 8.0]]));
        assert_eq!(v["moved"], serde_json::json!([]));
        assert_eq!(v["style"], serde_json::json!({"anything": true}));
        assert_eq!(v["hidden"], serde_json::json!([2]));
        assert!(SavedChartParts::parse("[1]").is_err());
    }
}
