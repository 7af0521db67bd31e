//! What the analyst did to the chart, apart from the case: which entities are on it (the
//! working set: the whole case, or the entities added by search, expand and path, as an i2
//! analyst builds a chart), hidden entities, pinned entities, collections (many similar
//! entities folded into one node) and moved positions, with an undo stack whose steps may
//! also hold where every entity was before a layout. None of this changes the case; it is the
//! analyst's working view of it, saved with the case.

use crate::model::EntityId;
use std::collections::{BTreeMap, BTreeSet};

/// Many entities shown as one node.
#[derive(Debug, Clone, PartialEq)]
pub struct Collection {
    pub members: Vec<EntityId>,
    /// "14 × Phone".
    pub label: String,
    /// The members' type when they all share one, for the node's colour.
    pub entity_type: Option<String>,
    pub position: [f32; 2],
}

/// The chart state that undo restores.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChartState {
    /// The working set: `None` when the whole case is on the chart (a small case), else the
    /// entities on it.
    pub on_chart: Option<BTreeSet<EntityId>>,
    pub hidden: BTreeSet<EntityId>,
    pub pinned: BTreeSet<EntityId>,
    pub collections: Vec<Collection>,
    /// Positions the analyst set by dragging, kept across layouts of pinned nodes and undo.
    pub moved: BTreeMap<EntityId, [f32; 2]>,
}

/// One undo step: what it was, the state before it, and for a layout the positions before it
/// (one per entity of the case, in the placement's order).
#[derive(Debug, Clone)]
struct Step {
    what: String,
    state: ChartState,
    positions: Option<Vec<[f32; 2]>>,
}

/// What undoing or redoing a step gives back.
#[derive(Debug, Clone, PartialEq)]
pub struct Undone {
    pub what: String,
    /// Positions to put back (a layout step), one per entity of the case.
    pub positions: Option<Vec<[f32; 2]>>,
}

/// The chart with its undo and redo stacks.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    pub state: ChartState,
    undo: Vec<Step>,
    redo: Vec<Step>,
    /// Increases with every change, so cached drawing data knows when to rebuild.
    pub revision: u64,
}

impl Chart {
    /// Records the current state under `what` before a change, and clears redo.
    fn checkpoint(&mut self, what: &str) {
        self.undo.push(Step {
            what: what.to_string(),
            state: self.state.clone(),
            positions: None,
        });
        self.redo.clear();
        self.revision += 1;
    }

    /// Records the positions before a layout as an undo step of its own, so that ctrl-z after
    /// a layout puts every entity back where it was.
    pub fn checkpoint_layout(&mut self, what: &str, positions: Vec<[f32; 2]>) {
        self.undo.push(Step {
            what: what.to_string(),
            state: self.state.clone(),
            positions: Some(positions),
        });
        self.redo.clear();
        self.revision += 1;
    }

    /// Undoes the latest chart change; `current` gives the positions now, which the redo
    /// step of a layout keeps.
    pub fn undo(&mut self, current: impl FnOnce() -> Vec<[f32; 2]>) -> Option<Undone> {
        let step = self.undo.pop()?;
        self.swap(step, current, true)
    }

    pub fn redo(&mut self, current: impl FnOnce() -> Vec<[f32; 2]>) -> Option<Undone> {
        let step = self.redo.pop()?;
        self.swap(step, current, false)
    }

    fn swap(
        &mut self,
        step: Step,
        current: impl FnOnce() -> Vec<[f32; 2]>,
        undo: bool,
    ) -> Option<Undone> {
        let now = std::mem::replace(&mut self.state, step.state);
        let now_positions = step.positions.is_some().then(current);
        let back = Step {
            what: step.what.clone(),
            state: now,
            positions: now_positions,
        };
        if undo {
            self.redo.push(back);
        } else {
            self.undo.push(back);
        }
        self.revision += 1;
        Some(Undone {
            what: step.what,
            positions: step.positions,
        })
    }

    /// Whether an entity is on the chart (in the working set, shown or hidden).
    pub fn is_on_chart(&self, e: EntityId) -> bool {
        self.state
            .on_chart
            .as_ref()
            .is_none_or(|set| set.contains(&e))
    }

    /// How many entities are on the chart, of `total` in the case.
    pub fn on_chart_count(&self, total: usize) -> usize {
        self.state.on_chart.as_ref().map_or(total, BTreeSet::len)
    }

    /// Starts from an empty working set (a large case), without an undo step.
    pub fn start_empty(&mut self) {
        self.state.on_chart = Some(BTreeSet::new());
        self.revision += 1;
    }

    /// Adds entities to the working set (as one undo step); returns how many were new. They
    /// also come out of hiding. With the whole case on the chart, nothing is new.
    pub fn add(&mut self, entities: &[EntityId], what: &str) -> usize {
        let new: Vec<EntityId> = match &self.state.on_chart {
            None => Vec::new(),
            Some(set) => entities
                .iter()
                .copied()
                .filter(|e| !set.contains(e))
                .collect(),
        };
        let unhidden = entities.iter().any(|e| self.state.hidden.contains(e));
        if new.is_empty() && !unhidden {
            return 0;
        }
        self.checkpoint(&format!("{what}: {} entities", new.len()));
        if let Some(set) = &mut self.state.on_chart {
            set.extend(new.iter().copied());
        }
        for e in entities {
            self.state.hidden.remove(e);
        }
        new.len()
    }

    /// Takes entities off the chart (as one undo step). With the whole case on the chart,
    /// the working set becomes every entity of `all` but these.
    pub fn remove(&mut self, entities: &[EntityId], all: &[EntityId]) -> bool {
        let gone: BTreeSet<EntityId> = entities
            .iter()
            .copied()
            .filter(|e| self.is_on_chart(*e))
            .collect();
        if gone.is_empty() {
            return false;
        }
        self.checkpoint(&format!("remove {} entities from the chart", gone.len()));
        let set = self
            .state
            .on_chart
            .get_or_insert_with(|| all.iter().copied().collect());
        set.retain(|e| !gone.contains(e));
        let s = &mut self.state;
        s.hidden.retain(|e| !gone.contains(e));
        s.pinned.retain(|e| !gone.contains(e));
        for c in &mut s.collections {
            c.members.retain(|e| !gone.contains(e));
        }
        s.collections.retain(|c| c.members.len() >= 2);
        true
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    /// Hides entities (and takes them out of any collection view).
    pub fn hide(&mut self, entities: &[EntityId]) -> bool {
        if entities.iter().all(|e| self.state.hidden.contains(e)) {
            return false;
        }
        self.checkpoint(&format!("hide {} entities", entities.len()));
        self.state.hidden.extend(entities.iter().copied());
        true
    }

    /// Shows every hidden entity again.
    pub fn unhide_all(&mut self) -> bool {
        if self.state.hidden.is_empty() {
            return false;
        }
        self.checkpoint("unhide all");
        self.state.hidden.clear();
        true
    }

    /// Hides everything but `keep`.
    pub fn show_only(&mut self, all: &[EntityId], keep: &BTreeSet<EntityId>) -> bool {
        self.checkpoint(&format!("show only {} entities", keep.len()));
        self.state.hidden = all.iter().copied().filter(|e| !keep.contains(e)).collect();
        true
    }

    /// Unhides `entities` (the neighbours an expand found); returns how many were hidden.
    pub fn reveal(&mut self, entities: &BTreeSet<EntityId>) -> usize {
        let newly: Vec<EntityId> = entities
            .iter()
            .copied()
            .filter(|e| self.state.hidden.contains(e))
            .collect();
        if newly.is_empty() {
            return 0;
        }
        self.checkpoint(&format!("expand: show {} entities", newly.len()));
        for e in &newly {
            self.state.hidden.remove(e);
        }
        newly.len()
    }

    /// Pins or unpins: pinned entities keep their place when a layout runs.
    pub fn set_pinned(&mut self, entities: &[EntityId], pinned: bool) -> bool {
        if entities
            .iter()
            .all(|e| self.state.pinned.contains(e) == pinned)
        {
            return false;
        }
        self.checkpoint(if pinned { "pin" } else { "unpin" });
        for e in entities {
            if pinned {
                self.state.pinned.insert(*e);
            } else {
                self.state.pinned.remove(e);
            }
        }
        true
    }

    /// Records that the analyst dragged entities (entity, from, to), as one undo step.
    pub fn moved(&mut self, moves: &[(EntityId, [f32; 2], [f32; 2])]) {
        if moves.is_empty() {
            return;
        }
        // The step before holds where they were, so undo puts them back.
        for (e, old, _) in moves {
            self.state.moved.insert(*e, *old);
        }
        self.checkpoint("move");
        for (e, _, new) in moves {
            self.state.moved.insert(*e, *new);
        }
    }

    /// Folds entities into one collection node at `position`. Entities already in a
    /// collection are left where they are.
    pub fn collapse(
        &mut self,
        members: Vec<EntityId>,
        entity_type: Option<String>,
        position: [f32; 2],
    ) -> bool {
        let taken: BTreeSet<EntityId> = self
            .state
            .collections
            .iter()
            .flat_map(|c| c.members.iter().copied())
            .collect();
        let members: Vec<EntityId> = members.into_iter().filter(|m| !taken.contains(m)).collect();
        if members.len() < 2 {
            return false;
        }
        self.checkpoint(&format!("collapse {} entities", members.len()));
        let label = match &entity_type {
            Some(t) => format!("{} × {t}", members.len()),
            None => format!("{} entities", members.len()),
        };
        self.state.collections.push(Collection {
            members,
            label,
            entity_type,
            position,
        });
        true
    }

    /// Opens a collection again.
    pub fn expand_collection(&mut self, index: usize) -> bool {
        if index >= self.state.collections.len() {
            return false;
        }
        self.checkpoint("expand collection");
        self.state.collections.remove(index);
        true
    }

    /// Moves a collection node (no undo step: collections are moved while dragging). The
    /// revision stays: the view moves the node itself, and a drag must not rebuild the
    /// display model every frame.
    pub fn place_collection(&mut self, index: usize, position: [f32; 2]) {
        if let Some(c) = self.state.collections.get_mut(index) {
            c.position = position;
        }
    }

    /// Forgets entities that no longer exist (after the case changed).
    pub fn retain(&mut self, exists: impl Fn(EntityId) -> bool) {
        let s = &mut self.state;
        if let Some(set) = &mut s.on_chart {
            set.retain(|e| exists(*e));
        }
        s.hidden.retain(|e| exists(*e));
        s.pinned.retain(|e| exists(*e));
        s.moved.retain(|e, _| exists(*e));
        for c in &mut s.collections {
            c.members.retain(|e| exists(*e));
        }
        s.collections.retain(|c| c.members.len() >= 2);
        self.revision += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: &[i64]) -> Vec<EntityId> {
        n.iter().map(|&i| EntityId(i)).collect()
    }

    #[test]
    fn hide_then_undo_then_redo() {
        let mut chart = Chart::default();
        assert!(chart.hide(&ids(&[1, 2])));
        assert_eq!(chart.state.hidden.len(), 2);
        assert_eq!(chart.undo(Vec::new).unwrap().what, "hide 2 entities");
        assert!(chart.state.hidden.is_empty());
        assert!(chart.redo(Vec::new).is_some());
        assert_eq!(chart.state.hidden.len(), 2);
        assert!(chart.undo(Vec::new).is_some());
        assert!(chart.undo(Vec::new).is_none());
    }

    #[test]
    fn hiding_what_is_hidden_is_not_an_undo_step() {
        let mut chart = Chart::default();
        chart.hide(&ids(&[1]));
        assert!(!chart.hide(&ids(&[1])));
        chart.undo(Vec::new);
        assert!(!chart.can_undo());
    }

    #[test]
    fn show_only_and_reveal() {
        let mut chart = Chart::default();
        let all = ids(&[1, 2, 3, 4]);
        chart.show_only(&all, &ids(&[1]).into_iter().collect());
        assert_eq!(chart.state.hidden, ids(&[2, 3, 4]).into_iter().collect());
        assert_eq!(chart.reveal(&ids(&[2, 3]).into_iter().collect()), 2);
        assert_eq!(chart.state.hidden, ids(&[4]).into_iter().collect());
        assert_eq!(chart.reveal(&ids(&[1]).into_iter().collect()), 0);
    }

    #[test]
    fn collapse_needs_two_free_members_and_expands_back() {
        let mut chart = Chart::default();
        assert!(!chart.collapse(ids(&[1]), None, [0.0, 0.0]));
        assert!(chart.collapse(ids(&[1, 2, 3]), Some("Phone".into()), [0.0, 0.0]));
        assert_eq!(chart.state.collections[0].label, "3 × Phone");
        // Members of one collection are not taken into another.
        assert!(!chart.collapse(ids(&[1, 2]), None, [0.0, 0.0]));
        assert!(chart.expand_collection(0));
        assert!(chart.state.collections.is_empty());
        chart.undo(Vec::new);
        assert_eq!(chart.state.collections.len(), 1);
    }

    #[test]
    fn undoing_a_move_gives_back_the_old_place() {
        let mut chart = Chart::default();
        chart.moved(&[(EntityId(1), [0.0, 0.0], [5.0, 5.0])]);
        assert_eq!(chart.state.moved[&EntityId(1)], [5.0, 5.0]);
        assert_eq!(chart.undo(Vec::new).unwrap().what, "move");
        assert_eq!(chart.state.moved[&EntityId(1)], [0.0, 0.0]);
    }

    #[test]
    fn the_working_set_grows_and_shrinks_with_undo() {
        let mut chart = Chart::default();
        let all = ids(&[1, 2, 3, 4]);
        assert!(chart.is_on_chart(EntityId(3)), "the whole case by default");
        chart.start_empty();
        assert!(!chart.can_undo());
        assert_eq!(chart.on_chart_count(4), 0);
        assert_eq!(chart.add(&ids(&[1, 2]), "add"), 2);
        assert_eq!(chart.add(&ids(&[2]), "add"), 0, "already there");
        assert!(chart.is_on_chart(EntityId(2)) && !chart.is_on_chart(EntityId(3)));
        assert!(chart.remove(&ids(&[1]), &all));
        assert_eq!(chart.on_chart_count(4), 1);
        chart.undo(Vec::new);
        assert_eq!(chart.on_chart_count(4), 2);
        chart.undo(Vec::new);
        assert_eq!(chart.on_chart_count(4), 0);
        // Removing from the whole case leaves the rest.
        let mut whole = Chart::default();
        assert!(whole.remove(&ids(&[4]), &all));
        assert_eq!(whole.on_chart_count(4), 3);
    }

    #[test]
    fn a_layout_step_gives_back_the_positions_before_and_after() {
        let mut chart = Chart::default();
        chart.checkpoint_layout("force layout", vec![[0.0, 0.0]]);
        let undone = chart.undo(|| vec![[5.0, 5.0]]).unwrap();
        assert_eq!(undone.positions, Some(vec![[0.0, 0.0]]));
        let redone = chart.redo(|| vec![[0.0, 0.0]]).unwrap();
        assert_eq!(redone.positions, Some(vec![[5.0, 5.0]]));
    }

    #[test]
    fn retain_drops_deleted_entities_everywhere() {
        let mut chart = Chart::default();
        chart.hide(&ids(&[1, 5]));
        chart.set_pinned(&ids(&[5]), true);
        chart.collapse(ids(&[5, 6]), None, [0.0, 0.0]);
        chart.retain(|e| e != EntityId(5));
        assert_eq!(chart.state.hidden, ids(&[1]).into_iter().collect());
        assert!(chart.state.pinned.is_empty());
        assert!(chart.state.collections.is_empty());
    }
}
