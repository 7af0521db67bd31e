//! Building the working chart, as an i2 analyst does: find entities and add them, add the
//! neighbours of the selection (by link type, optionally through calls and payments, up to a
//! cap, with the count shown before adding), and the starting points of a large case that
//! opens on an empty chart (the best connected entities, the top of an analysis result, the
//! entities of one import batch). Everything here only reads the case; the chart itself
//! changes through [`super::GraphState::add_to_chart`].

use crate::model::{BatchId, EntityId};
use crate::store::CaseSnapshot;
use petgraph::Direction;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;

/// Results a search lists at most (the "add all" button adds up to [`ADD_ALL_CAP`]).
pub const SEARCH_SHOWN: usize = 12;
/// Entities one "add all" or expand adds at most, unless the analyst raises the cap.
pub const ADD_ALL_CAP: usize = 500;

/// How an expand finds neighbours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandOptions {
    /// Links away (1 to 5).
    pub depth: usize,
    /// Only links of these types (empty: every type).
    pub link_types: BTreeSet<String>,
    /// Also step through calls, messages, payments and meetings (to the other participants).
    pub via_events: bool,
    /// Add at most this many, nearest first.
    pub cap: usize,
}

impl Default for ExpandOptions {
    fn default() -> Self {
        ExpandOptions {
            depth: 1,
            link_types: BTreeSet::new(),
            via_events: false,
            cap: ADD_ALL_CAP,
        }
    }
}

/// The events each entity takes part in, for stepping through them (built once per case
/// generation, when first needed).
#[derive(Debug)]
pub struct EventIndex {
    generation: u64,
    /// Entity index → event indices: `events[offsets[i]..offsets[i + 1]]`.
    offsets: Vec<u32>,
    events: Vec<u32>,
}

impl EventIndex {
    pub fn build(case: &CaseSnapshot) -> EventIndex {
        let n = case.entities.len();
        let mut counts = vec![0u32; n + 1];
        let node = |e: EntityId| case.node(e).map(|x| x.index());
        for ev in &case.events {
            for p in &ev.participants {
                if let Some(i) = node(p.entity) {
                    counts[i + 1] += 1;
                }
            }
        }
        for i in 0..n {
            counts[i + 1] += counts[i];
        }
        let mut fill = counts.clone();
        let mut events = vec![0u32; counts[n] as usize];
        for (k, ev) in case.events.iter().enumerate() {
            for p in &ev.participants {
                if let Some(i) = node(p.entity) {
                    events[fill[i] as usize] = k as u32;
                    fill[i] += 1;
                }
            }
        }
        EventIndex {
            generation: case.generation,
            offsets: counts,
            events,
        }
    }

    fn of(&self, i: usize) -> &[u32] {
        &self.events[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }
}

/// What an expand would add: the entities found (nearest first, at most the cap) and how
/// many there are in all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    pub entities: Vec<EntityId>,
    pub total: usize,
}

/// Entities within `options.depth` steps of `from` for which `skip` is false, nearest first,
/// then by id. Counting stops at 100,000 (the count then says "100,000 or more").
pub fn neighbours(
    case: &CaseSnapshot,
    events: Option<&EventIndex>,
    from: &[EntityId],
    options: &ExpandOptions,
    skip: impl Fn(EntityId) -> bool,
) -> Found {
    const COUNT_LIMIT: usize = 100_000;
    let start: Vec<usize> = from
        .iter()
        .filter_map(|e| case.node(*e).map(|n| n.index()))
        .collect();
    let mut seen: HashSet<usize> = start.iter().copied().collect();
    let mut frontier = start;
    let mut found = Vec::new();
    let mut total = 0usize;
    let events = events.filter(|x| options.via_events && x.generation == case.generation);
    for _ in 0..options.depth.clamp(1, 5) {
        let mut next: Vec<usize> = Vec::new();
        for &i in &frontier {
            let node = petgraph::graph::NodeIndex::new(i);
            for dir in [Direction::Outgoing, Direction::Incoming] {
                for edge in case.graph.edges_directed(node, dir) {
                    let link = &case.links[*edge.weight()];
                    if !options.link_types.is_empty()
                        && !options.link_types.contains(&link.link_type)
                    {
                        continue;
                    }
                    let other = if dir == Direction::Outgoing {
                        petgraph::visit::EdgeRef::target(&edge)
                    } else {
                        petgraph::visit::EdgeRef::source(&edge)
                    };
                    if seen.insert(other.index()) {
                        next.push(other.index());
                    }
                }
            }
            if let Some(index) = events {
                for &k in index.of(i) {
                    for p in &case.events[k as usize].participants {
                        if let Some(j) = case.node(p.entity).map(|n| n.index())
                            && seen.insert(j)
                        {
                            next.push(j);
                        }
                    }
                }
            }
        }
        next.sort_unstable();
        for &j in &next {
            let e = case.entities[j].id;
            if skip(e) {
                continue;
            }
            total += 1;
            if found.len() < options.cap {
                found.push(e);
            }
        }
        if total >= COUNT_LIMIT || next.is_empty() {
            break;
        }
        frontier = next;
    }
    Found {
        entities: found,
        total,
    }
}

/// The shortest chain of links between two entities (both ends included), by breadth-first
/// search over links in either direction; `None` when they are not connected.
pub fn shortest_path(case: &CaseSnapshot, a: EntityId, b: EntityId) -> Option<Vec<EntityId>> {
    let (start, goal) = (case.node(a)?.index(), case.node(b)?.index());
    let mut parent: HashMap<usize, usize> = HashMap::new();
    parent.insert(start, start);
    let mut queue = VecDeque::from([start]);
    while let Some(i) = queue.pop_front() {
        if i == goal {
            let mut path = vec![case.entities[goal].id];
            let mut at = goal;
            while at != start {
                at = parent[&at];
                path.push(case.entities[at].id);
            }
            path.reverse();
            return Some(path);
        }
        for nb in case
            .graph
            .neighbors_undirected(petgraph::graph::NodeIndex::new(i))
        {
            if let std::collections::hash_map::Entry::Vacant(v) = parent.entry(nb.index()) {
                v.insert(i);
                queue.push_back(nb.index());
            }
        }
    }
    None
}

/// Entities whose label or any attribute value contains `query` (case-insensitive), in id
/// order: at most `limit` of them, and how many match in all.
pub fn search(case: &CaseSnapshot, query: &str, limit: usize) -> Found {
    let needle = query.trim().to_lowercase();
    if needle.is_empty() {
        return Found::default();
    }
    let mut found = Found::default();
    for e in &case.entities {
        let hit = e.label.to_lowercase().contains(&needle)
            || e.source_id
                .as_deref()
                .is_some_and(|s| s.to_lowercase().contains(&needle))
            || e.attributes
                .iter()
                .any(|a| a.value.to_lowercase().contains(&needle));
        if hit {
            found.total += 1;
            if found.entities.len() < limit {
                found.entities.push(e.id);
            }
        }
    }
    found
}

/// Where a large case's chart can start, computed once per case generation.
#[derive(Debug, Clone, Default)]
pub struct StartingPoints {
    pub generation: u64,
    /// The best connected entities: (entity, links), most first.
    pub by_degree: Vec<(EntityId, usize)>,
    /// Import batches with how many entities each brought, in batch order.
    pub batches: Vec<(BatchId, usize)>,
}

impl StartingPoints {
    pub fn of(case: &CaseSnapshot) -> StartingPoints {
        let mut by_degree: Vec<(EntityId, usize)> = case
            .entities
            .iter()
            .filter_map(|e| {
                let node = case.node(e.id)?;
                Some((e.id, case.graph.neighbors_undirected(node).count()))
            })
            .filter(|&(_, d)| d > 0)
            .collect();
        by_degree.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        by_degree.truncate(20);
        let mut batches: std::collections::BTreeMap<BatchId, usize> = Default::default();
        for e in &case.entities {
            if let Some(b) = e.provenance.batch {
                *batches.entry(b).or_default() += 1;
            }
        }
        StartingPoints {
            generation: case.generation,
            by_degree,
            batches: batches.into_iter().collect(),
        }
    }

    /// The entities of one batch, in id order.
    pub fn batch_entities(case: &CaseSnapshot, batch: BatchId) -> Vec<EntityId> {
        case.entities
            .iter()
            .filter(|e| e.provenance.batch == Some(batch))
            .map(|e| e.id)
            .collect()
    }
}

/// The working-chart panel's state: the search, the expand options and what they found, kept
/// per case generation and recomputed only when a choice changes.
#[derive(Debug, Default)]
pub struct WorkingPanel {
    pub query: String,
    searched: Option<(u64, String)>,
    pub results: Found,
    pub expand: ExpandOptions,
    expanded: Option<(u64, u64, Vec<EntityId>, ExpandOptions)>,
    pub expand_found: Found,
    pub events: Option<Arc<EventIndex>>,
    pub starts: Option<StartingPoints>,
    pub batch: Option<BatchId>,
}

impl WorkingPanel {
    /// The search results for the current query (searched again when it or the case
    /// changed).
    pub fn refresh_search(&mut self, case: &CaseSnapshot) {
        let key = (case.generation, self.query.clone());
        if self.searched.as_ref() != Some(&key) {
            self.results = search(case, &self.query, ADD_ALL_CAP);
            self.searched = Some(key);
        }
    }

    /// What expanding `from` with the current options would add, leaving out what `skip`
    /// says is on the chart already (`chart_revision` tells when that changed).
    pub fn refresh_expand(
        &mut self,
        case: &CaseSnapshot,
        chart_revision: u64,
        from: &[EntityId],
        skip: impl Fn(EntityId) -> bool,
    ) {
        let key = (
            case.generation,
            chart_revision,
            from.to_vec(),
            self.expand.clone(),
        );
        if self.expanded.as_ref() == Some(&key) {
            return;
        }
        if self.expand.via_events
            && self
                .events
                .as_ref()
                .is_none_or(|x| x.generation != case.generation)
        {
            self.events = Some(Arc::new(EventIndex::build(case)));
        }
        self.expand_found = neighbours(case, self.events.as_deref(), from, &self.expand, skip);
        self.expanded = Some(key);
    }

    /// The starting points of this case generation.
    pub fn starts(&mut self, case: &CaseSnapshot) -> &StartingPoints {
        if self
            .starts
            .as_ref()
            .is_none_or(|s| s.generation != case.generation)
        {
            self.starts = Some(StartingPoints::of(case));
        }
        self.starts.get_or_insert_with(StartingPoints::default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_finds_neighbours_by_depth_type_and_events_up_to_the_cap() {
        let case = super::super::bench::synthetic_case(200, 400, 300, 3);
        let from = [case.entities[0].id];
        let one = neighbours(&case, None, &from, &ExpandOptions::default(), |_| false);
        let two = neighbours(
            &case,
            None,
            &from,
            &ExpandOptions {
                depth: 2,
                ..ExpandOptions::default()
            },
            |_| false,
        );
        assert!(one.total > 0 && two.total > one.total);
        assert_eq!(
            &two.entities[..one.entities.len()],
            &one.entities[..],
            "nearest first"
        );
        let capped = neighbours(
            &case,
            None,
            &from,
            &ExpandOptions {
                depth: 2,
                cap: 3,
                ..ExpandOptions::default()
            },
            |_| false,
        );
        assert_eq!((capped.entities.len(), capped.total), (3, two.total));
        let none = neighbours(
            &case,
            None,
            &from,
            &ExpandOptions {
                link_types: ["no such type".to_string()].into(),
                ..ExpandOptions::default()
            },
            |_| false,
        );
        assert_eq!(none.total, 0);
        let index = EventIndex::build(&case);
        let through_events = neighbours(
            &case,
            Some(&index),
            &from,
            &ExpandOptions {
                via_events: true,
                ..ExpandOptions::default()
            },
            |_| false,
        );
        assert!(through_events.total >= one.total);
        let skipped = neighbours(&case, None, &from, &ExpandOptions::default(), |e| {
            e == one.entities[0]
        });
        assert_eq!(skipped.total, one.total - 1);
    }

    #[test]
    fn the_shortest_path_and_the_search() {
        let case = super::super::bench::synthetic_case(100, 300, 0, 5);
        let (a, b) = (case.entities[0].id, case.entities[57].id);
        let path = shortest_path(&case, a, b).expect("connected");
        assert_eq!((path[0], *path.last().unwrap()), (a, b));
        for w in path.windows(2) {
            let (x, y) = (case.node(w[0]).unwrap(), case.node(w[1]).unwrap());
            assert!(case.graph.neighbors_undirected(x).any(|n| n == y));
        }
        let label = case.entities[42].label.clone();
        let found = search(&case, &label.to_uppercase(), 5);
        assert!(found.entities.contains(&case.entities[42].id));
        assert_eq!(search(&case, "  ", 5), Found::default());
    }
}
