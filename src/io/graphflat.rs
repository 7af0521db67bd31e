//! What the GML, Pajek, node-link JSON and DOT readers and writers share, so the four agree
//! with each other and with GraphML.
//!
//! Writers: [`flatten`] turns a selection into plain nodes and edges with named, typed values,
//! the same ones the GraphML writer stores: `type`, `label`, `weight`, typed attribute columns
//! and, for what these formats have no slot for, `copkit_*` values holding JSON (grading,
//! provenance, the exact attributes). The names use `_` rather than GraphML's `copkit:`
//! because GML keys cannot hold a colon; [`import_name`] maps them back, so our import of
//! our own export restores them. Events become edges between [`event_ends`], one-sided ones
//! to the outside node, never self-loops.
//!
//! Readers: [`KeyTable`] builds the typed keys of a [`Parsed`] graph for formats that declare
//! none (a key is numeric while every value it has is a number).

use super::export::Selection;
use super::graphml::{
    Column, Key, OUTSIDE_LABEL, OUTSIDE_NODE, attrs_json, column_value, columns, end_node,
    event_ends, to_json,
};
use super::{IoError, Limits};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// One value of a node or edge, typed as the writers need it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Text(String),
    Number(f64),
    Flag(bool),
}

/// A node as the writers write it: `id` is our entity id (or the outside node's).
#[derive(Clone, Debug)]
pub(crate) struct FlatNode {
    pub id: String,
    pub label: String,
    /// Every named value but the label, in a stable order (`type` first).
    pub values: Vec<(String, Value)>,
}

/// An edge (a link, or an event between its two ends).
#[derive(Clone, Debug)]
pub(crate) struct FlatEdge {
    pub source: String,
    pub target: String,
    pub directed: bool,
    pub weight: Option<f64>,
    /// The link's label, or for an event nothing.
    pub label: Option<String>,
    /// The link type or event type.
    pub kind: String,
    /// An event's start and end (RFC 3339).
    pub time: Option<(String, Option<String>)>,
    /// Every named value but `weight` and `label`, in a stable order (`type` first).
    pub values: Vec<(String, Value)>,
}

/// A selection as plain nodes and edges.
pub(crate) struct FlatGraph {
    /// Directed when any link is, or there are events (which run from one party to the other).
    pub directed: bool,
    pub nodes: Vec<FlatNode>,
    pub edges: Vec<FlatEdge>,
    /// Undirected links in a directed graph (marked `copkit_directed` false where a format
    /// has attributes).
    pub undirected_in_directed: usize,
    /// Two edges join the same pair of nodes (in the same direction, for a directed graph).
    pub parallel: bool,
    /// What no format of the four can carry, in words (events with more than two parties,
    /// columns past the bound).
    pub cannot: Vec<String>,
}

/// Names a writer must not give an attribute column: the formats' own structure.
const STRUCTURAL: &[&str] = &["id", "source", "target", "key", "directed", "name", "time"];

fn keep_column(c: &Column) -> bool {
    !STRUCTURAL.contains(&c.property.as_str()) && !c.property.starts_with("copkit_")
}

fn column_values(cols: &[Column], attrs: &[crate::model::Attribute]) -> Vec<(String, Value)> {
    cols.iter()
        .filter_map(|c| {
            let v = column_value(attrs, c)?;
            let value = match v.trim().parse::<f64>() {
                Ok(n) if c.numeric && n.is_finite() => Value::Number(n),
                _ => Value::Text(v),
            };
            Some((c.property.clone(), value))
        })
        .collect()
}

fn text(name: &str, v: impl Into<String>) -> (String, Value) {
    (name.to_string(), Value::Text(v.into()))
}

/// The selection as nodes and edges with the values every writer writes.
pub(crate) fn flatten(sel: &Selection<'_>) -> FlatGraph {
    let directed =
        !sel.events.is_empty() || sel.links.is_empty() || sel.links.iter().any(|l| l.directed);
    let reserved = ["type", "label", "weight"];
    let (node_cols, nodes_over) =
        columns(sel.entities.iter().map(|e| &e.attributes[..]), &reserved);
    let (edge_cols, edges_over) = columns(
        sel.links
            .iter()
            .map(|l| &l.attributes[..])
            .chain(sel.events.iter().map(|e| &e.attributes[..])),
        &reserved,
    );
    let node_cols: Vec<Column> = node_cols.into_iter().filter(keep_column).collect();
    let edge_cols: Vec<Column> = edge_cols.into_iter().filter(keep_column).collect();
    let mut nodes = Vec::with_capacity(sel.entities.len() + 1);
    for e in &sel.entities {
        let mut values = vec![text("type", e.entity_type.clone())];
        // The source's own id if it had one, else ours: what a re-import matches on.
        values.push(text(
            "copkit_source_id",
            e.source_id.clone().unwrap_or_else(|| e.id.to_string()),
        ));
        if let Some(c) = e.category {
            values.push(text("copkit_category", c.as_str()));
        }
        if e.grading.is_some() {
            values.push(text("copkit_grading", to_json(&e.grading)));
        }
        values.push(text("copkit_provenance", to_json(&e.provenance)));
        values.push(text("copkit_attributes", attrs_json(&e.attributes)));
        values.extend(column_values(&node_cols, &e.attributes));
        nodes.push(FlatNode {
            id: e.id.to_string(),
            label: e.label.clone(),
            values,
        });
    }
    if sel.events.iter().any(|ev| ev.participants.len() == 1) {
        nodes.push(FlatNode {
            id: OUTSIDE_NODE.to_string(),
            label: OUTSIDE_LABEL.to_string(),
            values: vec![text("type", "Unknown"), text("copkit_synthetic", "true")],
        });
    }
    let mut edges = Vec::with_capacity(sel.links.len() + sel.events.len());
    let mut undirected_in_directed = 0;
    for l in &sel.links {
        let mut values = vec![
            text("type", l.link_type.clone()),
            text("copkit_strength", l.strength.as_str()),
        ];
        if directed && !l.directed {
            undirected_in_directed += 1;
            values.push(("copkit_directed".into(), Value::Flag(false)));
        }
        if let Some(s) = &l.source_id {
            values.push(text("copkit_source_id", s.clone()));
        }
        if l.grading.is_some() {
            values.push(text("copkit_grading", to_json(&l.grading)));
        }
        values.push(text("copkit_provenance", to_json(&l.provenance)));
        values.push(text("copkit_attributes", attrs_json(&l.attributes)));
        values.extend(column_values(&edge_cols, &l.attributes));
        edges.push(FlatEdge {
            source: l.source.to_string(),
            target: l.target.to_string(),
            directed: l.directed,
            weight: l.weight,
            label: l.label.clone(),
            kind: l.link_type.clone(),
            time: None,
            values,
        });
    }
    let mut partial = 0usize;
    for ev in &sel.events {
        if ev.participants.len() != 1 && ev.participants.len() != 2 {
            partial += 1;
        }
        let (Some(first), Some((source, target, second_role))) =
            (ev.participants.first(), event_ends(ev))
        else {
            continue;
        };
        let start = ev.time.start().to_rfc3339();
        let end = ev.time.end().map(|e| e.to_rfc3339());
        let mut values = vec![
            text("type", ev.event_type.clone()),
            text("copkit_event", ev.event_type.clone()),
            text(
                "copkit_roles",
                format!("{},{}", first.role.as_str(), second_role.as_str()),
            ),
            text("copkit_start", start.clone()),
        ];
        if let Some(end) = &end {
            values.push(text("copkit_end", end.clone()));
        }
        if let Some(t) = &ev.time.original_text {
            values.push(text("copkit_time_text", t.clone()));
        }
        if let Some(z) = &ev.time.original_zone {
            values.push(text("copkit_time_zone", z.clone()));
        }
        if let Some(s) = &ev.source_id {
            values.push(text("copkit_source_id", s.clone()));
        }
        if ev.grading.is_some() {
            values.push(text("copkit_grading", to_json(&ev.grading)));
        }
        values.push(text("copkit_provenance", to_json(&ev.provenance)));
        values.push(text("copkit_attributes", attrs_json(&ev.attributes)));
        values.extend(column_values(&edge_cols, &ev.attributes));
        edges.push(FlatEdge {
            source: end_node(source),
            target: end_node(target),
            directed: true,
            weight: None,
            label: None,
            kind: ev.event_type.clone(),
            time: Some((start, end)),
            values,
        });
    }
    let mut pairs = HashSet::new();
    let parallel = !edges.iter().all(|e| {
        let pair = if directed || e.source <= e.target {
            (e.source.as_str(), e.target.as_str())
        } else {
            (e.target.as_str(), e.source.as_str())
        };
        pairs.insert(pair)
    });
    let mut cannot = Vec::new();
    if partial > 0 {
        cannot.push(format!(
            "{partial} events with more than two participants (or none): an edge holds two, the rest were left out"
        ));
    }
    if nodes_over + edges_over > 0 {
        cannot.push(format!(
            "{} attribute properties beyond the column limit have no column of their own (their values are in copkit_attributes)",
            nodes_over + edges_over
        ));
    }
    FlatGraph {
        directed,
        nodes,
        edges,
        undirected_in_directed,
        parallel,
        cannot,
    }
}

/// The manifest line for undirected links in a directed graph, for formats that mark them
/// with `copkit_directed`.
pub(crate) fn undirected_note(g: &FlatGraph, format: &str) -> Option<String> {
    (g.undirected_in_directed > 0).then(|| {
        format!(
            "{} undirected links in a graph that also has directed links and events: {format} has one direction per graph, so each was written once from source to target and marked copkit_directed false (other tools read it as directed; COPKIT reads it back undirected)",
            g.undirected_in_directed
        )
    })
}

/// The GraphML key name our import understands for a name these formats use: `copkit_x`
/// is `copkit:x`, and an event's `copkit_start`/`copkit_end` its spell.
pub(crate) fn import_name(raw: &str) -> String {
    match raw.strip_prefix("copkit_") {
        Some("start") => "spell:start".into(),
        Some("end") => "spell:end".into(),
        Some(rest) => format!("copkit:{rest}"),
        None => raw.to_string(),
    }
}

/// Whether a `copkit_directed` value says undirected.
pub(crate) fn says_undirected(v: &str) -> bool {
    matches!(v.trim(), "0" | "false" | "False" | "FALSE")
}

/// The typed keys of a graph whose format declares none: one per (node or edge, name),
/// numeric while every value it has is a number.
#[derive(Default)]
pub(crate) struct KeyTable {
    pub keys: HashMap<String, Key>,
}

impl KeyTable {
    /// The key id for a node's or edge's value named `raw`.
    pub(crate) fn id(&mut self, node: bool, raw: &str, numeric: bool) -> String {
        let id = format!("{}:{raw}", if node { "n" } else { "e" });
        match self.keys.get_mut(&id) {
            Some(k) => {
                if !numeric {
                    k.kind = "string".into();
                }
            }
            None => {
                self.keys.insert(
                    id.clone(),
                    Key {
                        name: import_name(raw),
                        kind: if numeric { "double" } else { "string" }.into(),
                    },
                );
            }
        }
        id
    }
}

/// Refuses a graph with more nodes and edges than `max_rows`.
pub(crate) fn check_rows(
    path: &Path,
    limits: &Limits,
    count: u64,
    line: u64,
) -> Result<(), IoError> {
    if count > limits.max_rows {
        return Err(IoError::Bound {
            path: path.to_path_buf(),
            bound: "max_rows",
            detail: format!(
                "more than {} nodes and edges (at line {line})",
                limits.max_rows
            ),
        });
    }
    Ok(())
}

/// Refuses a value longer than `max_field_bytes`.
pub(crate) fn check_field(
    path: &Path,
    limits: &Limits,
    len: usize,
    line: u64,
    field: &str,
) -> Result<(), IoError> {
    if len > limits.max_field_bytes {
        return Err(IoError::Bound {
            path: path.to_path_buf(),
            bound: "max_field_bytes",
            detail: format!(
                "line {line}, field '{field}': a value of {len} bytes, the limit is {}",
                limits.max_field_bytes
            ),
        });
    }
    Ok(())
}

/// Writes a new file (never over an existing one).
pub(crate) fn write_new(path: &Path, text: &str) -> Result<(), IoError> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
        .map_err(|source| IoError::Write {
            path: path.to_path_buf(),
            source,
        })
}

/// Labels made unique for formats whose readers key nodes by label (Pajek in networkx, GML
/// in networkx's default reading): a repeated label gets its node id appended. Returns the
/// labels and how many were changed.
pub(crate) fn unique_labels(nodes: &[FlatNode]) -> (Vec<String>, usize) {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for n in nodes {
        *count.entry(n.label.as_str()).or_default() += 1;
    }
    let mut changed = 0;
    let labels = nodes
        .iter()
        .map(|n| {
            if count.get(n.label.as_str()).copied().unwrap_or(0) > 1 {
                changed += 1;
                format!("{} ({})", n.label, n.id)
            } else {
                n.label.clone()
            }
        })
        .collect();
    (labels, changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copkit_names_map_to_the_graphml_keys() {
        assert_eq!(import_name("copkit_grading"), "copkit:grading");
        assert_eq!(import_name("copkit_start"), "spell:start");
        assert_eq!(import_name("copkit_end"), "spell:end");
        assert_eq!(import_name("weight"), "weight");
    }

    #[test]
    fn a_key_with_one_text_value_is_text() {
        let mut t = KeyTable::default();
        let id = t.id(true, "age", true);
        assert_eq!(t.keys[&id].kind, "double");
        t.id(true, "age", false);
        t.id(true, "age", true);
        assert_eq!(t.keys[&id].kind, "string");
    }
}
