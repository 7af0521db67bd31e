//! The compact graph that graph analysis runs on, read straight from the case file: entity ids,
//! link ends, weights, direction and the distinct gradings, in flat arrays, without building
//! any entity's or link's full record (labels, attributes, provenance, notes).
//!
//! Why (issue 25): `copkit analyze CASE degree` on 100k entities and 300k links spent 1.2 s and
//! 310 MB building the full snapshot (about 3 KB per entity) for a computation of 0.01 s. The
//! compact form costs 8 bytes per entity and 32 per link, and reading it is two table scans.
//! The window, which holds a full snapshot anyway, builds the same form from it
//! ([`CompactGraph::from_snapshot`]), so both paths give the same graph.
//!
//! Restricted items are kept in the case for evidence but left out here, entities and links
//! alike (and links whose ends are restricted): no analysis output names them.

use super::error::StoreError;
use super::snapshot::CaseSnapshot;
use crate::model::{EntityId, Grading, GradingScheme, LinkId};
use rusqlite::Connection;
use rusqlite::types::ValueRef;
use std::collections::HashMap;

/// One usable link: its ends as node indexes into [`CompactGraph::nodes`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompactLink {
    pub id: LinkId,
    pub source: u32,
    pub target: u32,
    /// The link's weight, 1 when it has none.
    pub weight: f64,
    pub directed: bool,
    /// Index into [`CompactGraph::gradings`]; 0 is "ungraded".
    pub grading: u32,
}

/// The graph of a case at one generation, as analysis reads it.
#[derive(Debug, Clone)]
pub struct CompactGraph {
    pub generation: u64,
    pub grading_schemes: Vec<GradingScheme>,
    pub default_scheme: String,
    /// The unrestricted entities, sorted by id: node `i` is `nodes[i]`.
    pub nodes: Vec<EntityId>,
    /// The usable links, sorted by id.
    pub links: Vec<CompactLink>,
    /// The distinct gradings the links carry; `gradings[0]` is `None` (ungraded).
    pub gradings: Vec<Option<Grading>>,
    /// Whether restricted items were let in (the user asked explicitly; the run's audit
    /// record carries the parameter that did).
    pub includes_restricted: bool,
}

impl CompactGraph {
    pub fn scheme(&self, key: &str) -> Option<&GradingScheme> {
        self.grading_schemes.iter().find(|s| s.key == key)
    }

    /// The node of an entity, or `None` when it is restricted or not in the case.
    pub fn node_index(&self, id: EntityId) -> Option<usize> {
        self.nodes.binary_search(&id).ok()
    }

    pub fn grading(&self, link: &CompactLink) -> Option<&Grading> {
        self.gradings
            .get(link.grading as usize)
            .and_then(Option::as_ref)
    }

    /// The same graph from a full snapshot (the window's path).
    pub fn from_snapshot(case: &CaseSnapshot) -> CompactGraph {
        CompactGraph::from_snapshot_with(case, false)
    }

    /// From a snapshot, restricted items included when `include_restricted`.
    pub fn from_snapshot_with(case: &CaseSnapshot, include_restricted: bool) -> CompactGraph {
        let nodes: Vec<EntityId> = case
            .entities
            .iter()
            .filter(|e| include_restricted || !e.restricted)
            .map(|e| e.id)
            .collect();
        let index = NodeIndex::new(&nodes);
        let mut gradings = Gradings::new();
        let links = case
            .links
            .iter()
            .filter(|l| include_restricted || !l.restricted)
            .filter_map(|l| {
                let (source, target) = (index.get(l.source)?, index.get(l.target)?);
                Some(CompactLink {
                    id: l.id,
                    source,
                    target,
                    weight: l.weight.unwrap_or(1.0),
                    directed: l.directed,
                    grading: gradings.intern(l.grading.as_ref()),
                })
            })
            .collect();
        CompactGraph {
            generation: case.generation,
            grading_schemes: case.grading_schemes.clone(),
            default_scheme: case.default_scheme.clone(),
            nodes,
            links,
            gradings: gradings.list,
            includes_restricted: include_restricted,
        }
    }
}

/// Each entity's id, source id and label, sorted by id (what a result names).
pub type EntityNames = Vec<(EntityId, Option<String>, String)>;

/// The largest id a table has handed out (its AUTOINCREMENT counter): a capacity to reserve,
/// so that the arrays are not grown, copied and faulted in step by step.
fn rows_hint(conn: &Connection, table: &str) -> usize {
    conn.query_row(
        "SELECT seq FROM sqlite_sequence WHERE name = ?1",
        [table],
        |r| r.get::<_, i64>(0),
    )
    .map_or(0, |n| usize::try_from(n).unwrap_or(0).min(1 << 26))
}

/// Reads the compact graph from an open case connection (two scans, in id order); with
/// `names`, the entities' source ids and labels come in the same scan.
pub(super) fn load(
    conn: &Connection,
    generation: u64,
    grading_schemes: Vec<GradingScheme>,
    default_scheme: String,
    include_restricted: bool,
    mut names: Option<&mut EntityNames>,
) -> Result<CompactGraph, StoreError> {
    let only_open = if include_restricted {
        ""
    } else {
        " WHERE restricted = 0"
    };
    let mut nodes = Vec::with_capacity(rows_hint(conn, "entities"));
    {
        let columns = if names.is_some() {
            "id, source_id, label"
        } else {
            "id"
        };
        let mut stmt = conn.prepare(&format!(
            "SELECT {columns} FROM entities{only_open} ORDER BY id"
        ))?;
        let mut rows = stmt.query([])?;
        if let Some(names) = names.as_mut() {
            names.reserve(nodes.capacity());
        }
        while let Some(r) = rows.next()? {
            let id = EntityId(r.get(0)?);
            nodes.push(id);
            if let Some(names) = names.as_mut() {
                names.push((id, r.get(1)?, r.get(2)?));
            }
        }
    }
    let index = NodeIndex::new(&nodes);
    let mut gradings = Gradings::new();
    let mut links = Vec::with_capacity(rows_hint(conn, "links"));
    {
        let mut stmt = conn.prepare(&format!(
            "SELECT id, source, target, directed, weight, grade_scheme, grade_source, \
             grade_info, grade_handling FROM links{only_open} ORDER BY id"
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (Some(source), Some(target)) = (
                index.get(EntityId(r.get(1)?)),
                index.get(EntityId(r.get(2)?)),
            ) else {
                continue; // an end is restricted
            };
            let grading = match r.get_ref(5)? {
                ValueRef::Null => 0,
                _ => {
                    let text = |i: usize| -> rusqlite::Result<Option<String>> { r.get(i) };
                    let g = Grading {
                        scheme: r.get(5)?,
                        source: text(6)?,
                        information: text(7)?,
                        handling: text(8)?,
                    };
                    gradings.intern(Some(&g))
                }
            };
            links.push(CompactLink {
                id: LinkId(r.get(0)?),
                source,
                target,
                weight: r.get::<_, Option<f64>>(4)?.unwrap_or(1.0),
                directed: r.get(3)?,
                grading,
            });
        }
    }
    Ok(CompactGraph {
        generation,
        grading_schemes,
        default_scheme,
        nodes,
        links,
        gradings: gradings.list,
        includes_restricted: include_restricted,
    })
}

/// Entity id to node index: a dense table when the ids are dense (the usual case: ids are
/// handed out in order and few are deleted), a binary search otherwise.
enum NodeIndex<'a> {
    Dense { first: i64, slots: Vec<u32> },
    Sorted(&'a [EntityId]),
}

impl<'a> NodeIndex<'a> {
    fn new(nodes: &'a [EntityId]) -> NodeIndex<'a> {
        let (Some(first), Some(last)) = (nodes.first(), nodes.last()) else {
            return NodeIndex::Sorted(nodes);
        };
        let span = (last.0 - first.0) as u64 + 1;
        if span > 4 * nodes.len() as u64 + 1024 || nodes.len() >= u32::MAX as usize {
            return NodeIndex::Sorted(nodes);
        }
        let mut slots = vec![u32::MAX; span as usize];
        for (i, id) in nodes.iter().enumerate() {
            slots[(id.0 - first.0) as usize] = i as u32;
        }
        NodeIndex::Dense {
            first: first.0,
            slots,
        }
    }

    fn get(&self, id: EntityId) -> Option<u32> {
        match self {
            NodeIndex::Dense { first, slots } => {
                let at = usize::try_from(id.0.checked_sub(*first)?).ok()?;
                slots.get(at).copied().filter(|&s| s != u32::MAX)
            }
            NodeIndex::Sorted(nodes) => nodes.binary_search(&id).ok().map(|i| i as u32),
        }
    }
}

/// The distinct gradings, interned (a case holds few: a batch's grading is shared by its rows).
struct Gradings {
    list: Vec<Option<Grading>>,
    seen: HashMap<Grading, u32>,
}

impl Gradings {
    fn new() -> Gradings {
        Gradings {
            list: vec![None],
            seen: HashMap::new(),
        }
    }

    fn intern(&mut self, grading: Option<&Grading>) -> u32 {
        let Some(g) = grading else { return 0 };
        if let Some(&i) = self.seen.get(g) {
            return i;
        }
        let i = self.list.len() as u32;
        self.list.push(Some(g.clone()));
        self.seen.insert(g.clone(), i);
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_index_is_dense_or_sorted_and_misses_cleanly() {
        let dense: Vec<EntityId> = [3, 4, 6].into_iter().map(EntityId).collect();
        let index = NodeIndex::new(&dense);
        assert!(matches!(index, NodeIndex::Dense { .. }));
        assert_eq!(index.get(EntityId(6)), Some(2));
        assert_eq!(index.get(EntityId(5)), None);
        assert_eq!(index.get(EntityId(2)), None);
        assert_eq!(index.get(EntityId(1_000_000)), None);
        let sparse: Vec<EntityId> = [1, 1_000_000_000].into_iter().map(EntityId).collect();
        let index = NodeIndex::new(&sparse);
        assert!(matches!(index, NodeIndex::Sorted(_)));
        assert_eq!(index.get(EntityId(1_000_000_000)), Some(1));
        assert_eq!(index.get(EntityId(7)), None);
    }
}
