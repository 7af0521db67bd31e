//! Node-link JSON import and export (d3, networkx's `node_link_data`).
//!
//! The reader takes `{"directed", "multigraph", "graph", "nodes": [...], "edges": [...]}` as
//! networkx 3.x writes it, `"links"` for the edges as older networkx and d3 samples have, and
//! d3's own shape: nodes without `id` (their `name` an attribute) and links whose `source` and
//! `target` are indices into `nodes` (or, once a d3 simulation has run, node objects). Where
//! nodes have ids, link ends are ids. The nesting depth is checked (`max_json_depth`) in one
//! pass over the text before serde builds a value, the same pass noting the line of every
//! node and link for messages. Node and edge members are attributes with their JSON type:
//! numbers are numeric keys (so `weight` is a weight), nested objects and arrays are kept as
//! JSON text, nulls are skipped. A multigraph's edge `key` only tells parallel edges apart
//! and is not kept; `graph` attributes are named in the report's warnings, not imported.
//!
//! The writer writes the networkx 3.x shape (`"edges"`) with the values the GraphML writer
//! stores: label, type, typed attribute columns (numbers as JSON numbers), and grading,
//! provenance and exact attributes as `copkit_*` strings holding JSON, read back by our
//! import. Events are edges with `copkit_start`, one-sided ones to the outside node.

use super::export::Selection;
use super::graphflat::{
    FlatGraph, KeyTable, Value, check_field, check_rows, flatten, says_undirected, undirected_note,
    write_new,
};
use super::graphml::{GraphOptions, Item, LineCounter, Parsed, import_parsed};
use super::{ImportReport, IoError, Limits, RowProblem};
use crate::jobs::CancelToken;
use crate::store::Case;
use serde_json::Value as Json;
use std::collections::HashMap;
use std::path::Path;

/// What one pass over the text finds: the byte offset of each object in the top-level
/// arrays, by the array's key.
struct Scan {
    offsets: HashMap<String, Vec<usize>>,
}

/// Checks the nesting depth without building anything, and notes where each element of the
/// top-level arrays starts. Strings are skipped with their escapes, so brackets in text do
/// not count.
fn scan(text: &str, max_depth: usize) -> Result<Scan, (usize, String)> {
    let bytes = text.as_bytes();
    let mut offsets: HashMap<String, Vec<usize>> = HashMap::new();
    let mut depth = 0usize;
    let mut i = 0usize;
    let mut last_key: Option<(usize, usize)> = None;
    let mut array: Option<String> = None;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if depth == 1 {
                    last_key = Some((start, i.min(bytes.len())));
                }
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > max_depth {
                    return Err((i, format!("JSON nested deeper than {max_depth} levels")));
                }
                if depth == 2 && bytes[i] == b'[' {
                    array = last_key.map(|(s, e)| text[s..e].to_string());
                } else if depth == 3
                    && bytes[i] == b'{'
                    && let Some(name) = &array
                {
                    offsets.entry(name.clone()).or_default().push(i);
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 1 {
                    array = None;
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(Scan { offsets })
}

/// A JSON value as attribute text: numbers as written, booleans as `true`/`false`, objects
/// and arrays as JSON; `None` for null.
fn value_text(v: &Json) -> Option<(String, bool)> {
    match v {
        Json::Null => None,
        Json::String(s) => Some((s.clone(), false)),
        Json::Number(n) => Some((n.to_string(), true)),
        Json::Bool(b) => Some((b.to_string(), false)),
        other => Some((other.to_string(), false)),
    }
}

fn parse(
    path: &Path,
    text: &str,
    limits: &Limits,
    cancel: &CancelToken,
) -> Result<(Parsed, Vec<String>), IoError> {
    let perr = |line: u64, reason: String| IoError::Parse {
        path: path.to_path_buf(),
        location: format!("line {line}"),
        reason,
    };
    let scanned = scan(text, limits.max_json_depth).map_err(|(offset, detail)| IoError::Bound {
        path: path.to_path_buf(),
        bound: "max_json_depth",
        detail: format!(
            "{detail} at line {}",
            super::graphml::line_of(text, offset as u64)
        ),
    })?;
    let doc: Json = serde_json::from_str(text).map_err(|e| {
        perr(
            e.line() as u64,
            format!("not valid JSON ({e}); is the file truncated?"),
        )
    })?;
    let Json::Object(top) = doc else {
        return Err(IoError::WrongFormat {
            path: path.to_path_buf(),
            what: "JSON that is not an object with \"nodes\"".into(),
            expected: "node-link JSON",
        });
    };
    let Some(Json::Array(json_nodes)) = top.get("nodes") else {
        return Err(IoError::WrongFormat {
            path: path.to_path_buf(),
            what: "a JSON object without a \"nodes\" array".into(),
            expected: "node-link JSON",
        });
    };
    let (edge_member, json_edges) = match (top.get("edges"), top.get("links")) {
        (Some(_), Some(_)) => {
            return Err(perr(
                1,
                "the file has both \"edges\" and \"links\"; keep the one that holds the edges"
                    .into(),
            ));
        }
        (Some(e), None) => ("edges", e),
        (None, Some(l)) => ("links", l),
        (None, None) => ("edges", &Json::Null),
    };
    let empty = Vec::new();
    let json_edges = match json_edges {
        Json::Array(a) => a,
        Json::Null => &empty,
        _ => return Err(perr(1, format!("\"{edge_member}\" is not an array"))),
    };
    check_rows(
        path,
        limits,
        (json_nodes.len() + json_edges.len()) as u64,
        1,
    )?;
    let directed = match top.get("directed") {
        None | Some(Json::Null) => false,
        Some(Json::Bool(b)) => *b,
        Some(Json::Number(n)) => n.as_f64() != Some(0.0),
        Some(other) => {
            return Err(perr(
                1,
                format!("field 'directed': {other} is not true or false"),
            ));
        }
    };
    let mut warnings = Vec::new();
    if let Some(Json::Object(g)) = top.get("graph")
        && !g.is_empty()
    {
        warnings.push(format!(
            "graph attributes were not imported: {}",
            g.keys().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    let mut lines = LineCounter::new(text);
    let node_offsets = scanned.offsets.get("nodes");
    let edge_offsets = scanned.offsets.get(edge_member);
    let mut line_of = |offsets: Option<&Vec<usize>>, i: usize| {
        offsets
            .and_then(|o| o.get(i))
            .map_or(1, |&o| lines.line_at(o as u64))
    };
    let has_ids = json_nodes.iter().any(|n| n.get("id").is_some());
    let mut keys = KeyTable::default();
    let mut nodes = Vec::with_capacity(json_nodes.len());
    let mut by_name: HashMap<String, String> = HashMap::new();
    for (i, n) in json_nodes.iter().enumerate() {
        if i.is_multiple_of(4096) {
            cancel.check().map_err(|_| IoError::Cancelled)?;
        }
        let line = line_of(node_offsets, i);
        let Json::Object(members) = n else {
            return Err(perr(line, format!("node {i} is not a JSON object")));
        };
        let id = if has_ids {
            match members.get("id") {
                Some(Json::String(s)) => s.clone(),
                Some(Json::Number(x)) => x.to_string(),
                Some(other) => {
                    return Err(perr(
                        line,
                        format!("node {i}, field 'id': {other} is not a string or number"),
                    ));
                }
                None => return Err(perr(line, format!("node {i} has no \"id\" (others do)"))),
            }
        } else {
            if let Some(Json::String(name)) = members.get("name") {
                by_name.insert(name.clone(), i.to_string());
            }
            i.to_string()
        };
        let mut item = Item {
            id,
            line,
            ..Item::default()
        };
        for (k, v) in members {
            if has_ids && k == "id" {
                continue;
            }
            let Some((text, numeric)) = value_text(v) else {
                continue;
            };
            check_field(path, limits, text.len(), line, k)?;
            let key = keys.id(true, k, numeric);
            item.data.push((key, text, String::new()));
        }
        nodes.push(item);
    }
    let mut edges = Vec::with_capacity(json_edges.len());
    for (i, e) in json_edges.iter().enumerate() {
        if i.is_multiple_of(4096) {
            cancel.check().map_err(|_| IoError::Cancelled)?;
        }
        let line = line_of(edge_offsets, i);
        let Json::Object(members) = e else {
            return Err(perr(line, format!("link {i} is not a JSON object")));
        };
        let end = |field: &str| -> Result<String, IoError> {
            let v = members
                .get(field)
                .ok_or_else(|| perr(line, format!("link {i} has no \"{field}\"")))?;
            // A d3 simulation replaces ends with the node objects themselves.
            let v = match v {
                Json::Object(o) => o
                    .get(if has_ids { "id" } else { "index" })
                    .unwrap_or(&Json::Null),
                v => v,
            };
            match v {
                Json::String(s) if has_ids => Ok(s.clone()),
                Json::String(s) => Ok(by_name.get(s).cloned().unwrap_or_else(|| s.clone())),
                Json::Number(x) if has_ids => Ok(x.to_string()),
                Json::Number(x) => {
                    let index = x.as_u64().filter(|&k| (k as usize) < nodes.len());
                    index.map(|k| k.to_string()).ok_or_else(|| {
                        perr(
                            line,
                            format!(
                                "link {i}, field '{field}': index {x} is out of range (the file has {} nodes, numbered from 0)",
                                nodes.len()
                            ),
                        )
                    })
                }
                other => Err(perr(
                    line,
                    format!("link {i}, field '{field}': {other} is not a node id or index"),
                )),
            }
        };
        let mut item = Item {
            line,
            source: end("source")?,
            target: end("target")?,
            ..Item::default()
        };
        for (k, v) in members {
            match k.as_str() {
                "source" | "target" | "key" => continue,
                "id" => {
                    if let Some((t, _)) = value_text(v) {
                        item.id = t;
                    }
                    continue;
                }
                _ => {}
            }
            let Some((text, numeric)) = value_text(v) else {
                continue;
            };
            check_field(path, limits, text.len(), line, k)?;
            if k == "copkit_directed" {
                item.directed = Some(!says_undirected(&text));
                continue;
            }
            let key = keys.id(false, k, numeric);
            item.data.push((key, text, String::new()));
        }
        edges.push(item);
    }
    Ok((
        Parsed {
            keys: keys.keys,
            directed_default: directed,
            nodes,
            edges,
        },
        warnings,
    ))
}

/// Imports a node-link JSON file as one batch.
pub fn import_node_link(
    case: &mut Case,
    path: &Path,
    opts: &GraphOptions,
    cancel: &CancelToken,
) -> Result<ImportReport, IoError> {
    let (src, decoded) = super::read_source_text(path, &opts.limits, "a node-link JSON file")?;
    let (parsed, warnings) = parse(path, &decoded.text, &opts.limits, cancel)?;
    let mut report = import_parsed(
        case,
        path,
        &src,
        decoded.encoding,
        parsed,
        opts,
        cancel,
        "node-link",
    )?;
    report
        .warnings
        .extend(warnings.into_iter().map(|reason| RowProblem {
            line: 1,
            field: Some("graph".into()),
            reason,
        }));
    Ok(report)
}

fn json_value(v: &Value) -> Json {
    match v {
        Value::Text(t) => Json::String(t.clone()),
        Value::Number(n) => serde_json::Number::from_f64(*n).map_or(Json::Null, Json::Number),
        Value::Flag(b) => Json::Bool(*b),
    }
}

fn node_link_json(g: &FlatGraph) -> Json {
    let nodes: Vec<Json> = g
        .nodes
        .iter()
        .map(|n| {
            let mut m = serde_json::Map::new();
            m.insert("id".into(), Json::String(n.id.clone()));
            m.insert("label".into(), Json::String(n.label.clone()));
            for (name, v) in &n.values {
                m.insert(name.clone(), json_value(v));
            }
            Json::Object(m)
        })
        .collect();
    let edges: Vec<Json> = g
        .edges
        .iter()
        .enumerate()
        .map(|(k, e)| {
            let mut m = serde_json::Map::new();
            m.insert("source".into(), Json::String(e.source.clone()));
            m.insert("target".into(), Json::String(e.target.clone()));
            if g.parallel {
                m.insert("key".into(), Json::from(k));
            }
            if let Some(w) = e.weight {
                m.insert("weight".into(), json_value(&Value::Number(w)));
            }
            if let Some(l) = &e.label {
                m.insert("label".into(), Json::String(l.clone()));
            }
            for (name, v) in &e.values {
                m.insert(name.clone(), json_value(v));
            }
            Json::Object(m)
        })
        .collect();
    serde_json::json!({
        "directed": g.directed,
        "multigraph": g.parallel,
        "graph": {},
        "nodes": nodes,
        "edges": edges,
    })
}

/// Writes the selection as node-link JSON; returns what the format could not carry, in words.
pub(crate) fn write_node_link(path: &Path, sel: &Selection<'_>) -> Result<Vec<String>, IoError> {
    let g = flatten(sel);
    let text = serde_json::to_string_pretty(&node_link_json(&g)).map_err(|e| IoError::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    })?;
    write_new(path, &text)?;
    let mut cannot: Vec<String> = undirected_note(&g, "node-link JSON").into_iter().collect();
    cannot.extend(g.cannot.iter().cloned());
    Ok(cannot)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<(Parsed, Vec<String>), IoError> {
        parse(
            Path::new("t.json"),
            text,
            &Limits::default(),
            &CancelToken::new(),
        )
    }

    #[test]
    fn d3_indices_and_networkx_ids_are_both_read() {
        let (p, _) = parse_str(
            "{\"nodes\": [\n{\"name\": \"A\"},\n{\"name\": \"B [x]\"}],\n\"links\": [\n{\"source\": 0, \"target\": 1, \"value\": 3}, {\"source\": \"A\", \"target\": \"B [x]\"}]}",
        )
        .unwrap();
        assert_eq!((p.nodes[1].id.as_str(), p.nodes[1].line), ("1", 3));
        assert_eq!((p.edges[0].source.as_str(), p.edges[0].line), ("0", 5));
        assert_eq!(p.edges[1].target, "1");
        let (p, w) = parse_str(
            r#"{"directed": true, "graph": {"name": "g"}, "nodes": [{"id": 7, "w": {"a": [1]}}], "edges": [{"source": 7, "target": 7, "copkit_directed": false}]}"#,
        )
        .unwrap();
        assert!(p.directed_default);
        assert_eq!(p.nodes[0].id, "7");
        assert_eq!(p.nodes[0].data[0].1, "{\"a\":[1]}");
        assert_eq!(p.edges[0].directed, Some(false));
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn bad_indices_and_deep_nesting_are_refused() {
        let e = parse_str("{\"nodes\": [{}],\n\"links\": [\n{\"source\": 0, \"target\": 4}]}")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("line 3") && e.contains("out of range"), "{e}");
        let deep = format!(
            "{{\"nodes\": [], \"x\": {}1{}}}",
            "[".repeat(80),
            "]".repeat(80)
        );
        let e = parse_str(&deep).err().unwrap().to_string();
        assert!(e.contains("max_json_depth"), "{e}");
        let e = parse_str("{\"nodes\": [\n{\"id\": 1}")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("line 2") && e.contains("truncated"), "{e}");
    }
}
