//! The chart as saved with the case (`Case::save_chart`): where each entity is drawn, and what
//! is hidden, pinned, moved by hand or folded into collections. Entities are named by id, so a
//! saved chart still fits after entities were added, merged or removed: those it names that are
//! gone are dropped, new ones are placed as on a new chart.

use super::chart::{ChartState, Collection};
use crate::model::EntityId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The saved form; every part after the positions may be missing (older or hand-made files).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct SavedChart {
    /// (entity id, x, y) in layout units.
    pub positions: Vec<(i64, f32, f32)>,
    #[serde(default)]
    pub hidden: Vec<i64>,
    #[serde(default)]
    pub pinned: Vec<i64>,
    #[serde(default)]
    pub moved: Vec<(i64, f32, f32)>,
    #[serde(default)]
    pub collections: Vec<SavedCollection>,
    /// The working set (absent: the whole case is on the chart).
    #[serde(default)]
    pub on_chart: Option<Vec<i64>>,
    /// How the chart was drawn (colours, sizes, events as lines, legend); a named snapshot
    /// puts it back (absent in charts saved before snapshots kept it).
    #[serde(default)]
    pub style: Option<super::style::GraphStyle>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SavedCollection {
    pub members: Vec<i64>,
    pub label: String,
    pub entity_type: Option<String>,
    pub position: (f32, f32),
}

impl SavedChart {
    /// The chart of `nodes` drawn at `positions`, with `state`.
    pub fn of(nodes: &[EntityId], positions: &[[f32; 2]], state: &ChartState) -> SavedChart {
        let ids = |set: &std::collections::BTreeSet<EntityId>| set.iter().map(|e| e.0).collect();
        SavedChart {
            positions: nodes
                .iter()
                .zip(positions)
                .map(|(e, p)| (e.0, p[0], p[1]))
                .collect(),
            on_chart: state.on_chart.as_ref().map(ids),
            style: None,
            hidden: ids(&state.hidden),
            pinned: ids(&state.pinned),
            moved: state.moved.iter().map(|(e, p)| (e.0, p[0], p[1])).collect(),
            collections: state
                .collections
                .iter()
                .map(|c| SavedCollection {
                    members: c.members.iter().map(|e| e.0).collect(),
                    label: c.label.clone(),
                    entity_type: c.entity_type.clone(),
                    position: (c.position[0], c.position[1]),
                })
                .collect(),
        }
    }

    pub fn positions(&self) -> HashMap<EntityId, [f32; 2]> {
        self.positions
            .iter()
            .filter(|(_, x, y)| x.is_finite() && y.is_finite())
            .map(|&(e, x, y)| (EntityId(e), [x, y]))
            .collect()
    }

    /// The chart state it holds (the caller drops what names entities no longer in the case).
    pub fn state(&self) -> ChartState {
        ChartState {
            on_chart: self
                .on_chart
                .as_ref()
                .map(|set| set.iter().map(|&e| EntityId(e)).collect()),
            hidden: self.hidden.iter().map(|&e| EntityId(e)).collect(),
            pinned: self.pinned.iter().map(|&e| EntityId(e)).collect(),
            moved: self
                .moved
                .iter()
                .filter(|(_, x, y)| x.is_finite() && y.is_finite())
                .map(|&(e, x, y)| (EntityId(e), [x, y]))
                .collect(),
            collections: self
                .collections
                .iter()
                .map(|c| Collection {
                    members: c.members.iter().map(|&e| EntityId(e)).collect(),
                    label: c.label.clone(),
                    entity_type: c.entity_type.clone(),
                    position: [c.position.0, c.position.1],
                })
                .collect(),
        }
    }
}
