//! Pajek .net import and export (networkx `write_pajek`, igraph, Pajek itself).
//!
//! The reader takes `*Vertices N` (N checked against `max_rows` before a node is made: a
//! Pajek file may list fewer vertices than it declares, and the rest exist with their number
//! as label), vertex lines `id "label" [x y [z]] [shape] [key value ...]`, `*Arcs` (directed)
//! and `*Edges` (undirected) lines `i j [weight] [key value ...]` with `l "label"` as the edge
//! label, `*Arcslist` and `*Edgeslist`, `%` comments, section names in any case and quoted
//! labels with spaces. Vertex numbers become source ids, labels labels, `key value` pairs
//! attributes (networkx writes node and edge attributes so; a `relation` or `type` pair is the
//! link type). Coordinates and shapes are layout and are not imported (the report says how
//! many). A file with both arcs and edges gives directed and undirected links. `*Matrix` is
//! refused; other sections of a `.paj` project (`*Partition`, `*Vector`) are skipped with a
//! warning.
//!
//! The writer writes what Pajek holds: vertex labels (made unique, since networkx keys nodes
//! by label), arcs then edges with their weight (1 where a link has none, Pajek's default)
//! and an `l` label (the link's label, or its type); a mixed file ends with an empty `*Arcs`
//! so that igraph (which takes the direction from the last header) and networkx (from the
//! first) both read it as directed. Events are arcs labelled with their type
//! and time; one-sided ones run to an outside vertex. Everything else is listed in the
//! manifest as not carried.

use super::export::Selection;
use super::graphflat::{
    FlatGraph, KeyTable, check_field, check_rows, flatten, unique_labels, write_new,
};
use super::graphml::{GraphOptions, Item, Parsed, import_parsed};
use super::{ImportReport, IoError, Limits, RowProblem};
use crate::jobs::CancelToken;
use crate::store::Case;
use std::path::Path;

/// Splits a line into words, a double-quoted word being one (quotes removed). A quote that is
/// never closed is an error.
fn words(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = line.char_indices().peekable();
    while let Some(&(_, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut word = String::new();
        if c == '"' {
            chars.next();
            let mut closed = false;
            for (_, c) in chars.by_ref() {
                if c == '"' {
                    closed = true;
                    break;
                }
                word.push(c);
            }
            if !closed {
                return Err("a quoted label is never closed".into());
            }
        } else {
            while let Some(&(_, c)) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
        }
        out.push(word);
    }
    Ok(out)
}

#[derive(Clone, Copy, PartialEq)]
enum Section {
    None,
    Vertices,
    Arcs,
    Edges,
    ArcsList,
    EdgesList,
    Skipped,
}

const SHAPES: &[&str] = &[
    "ellipse", "box", "diamond", "triangle", "cross", "empty", "man", "woman",
];

struct ParsedPajek {
    parsed: Parsed,
    layout_values: usize,
    skipped_sections: Vec<String>,
}

/// Appends `key value` pairs (and any word left without a value) to an item.
fn pairs(item: &mut Item, rest: &[String], node: bool, keys: &mut KeyTable) {
    let mut it = rest.chunks(2);
    for chunk in it.by_ref() {
        match chunk {
            [k, v] => {
                let name = if !node && k == "l" {
                    "label"
                } else {
                    k.as_str()
                };
                let numeric = v.parse::<f64>().is_ok_and(f64::is_finite);
                let id = keys.id(node, name, numeric);
                item.data.push((id, v.clone(), String::new()));
            }
            [extra] => {
                let id = keys.id(node, "pajekExtra", false);
                item.data.push((id, extra.clone(), String::new()));
            }
            _ => {}
        }
    }
}

fn parse(
    path: &Path,
    text: &str,
    limits: &Limits,
    cancel: &CancelToken,
) -> Result<ParsedPajek, IoError> {
    let perr = |line: u64, reason: String| IoError::Parse {
        path: path.to_path_buf(),
        location: format!("line {line}"),
        reason,
    };
    let mut keys = KeyTable::default();
    let mut nodes: Vec<Item> = Vec::new();
    let mut edges: Vec<Item> = Vec::new();
    let mut declared: Option<u64> = None;
    let mut section = Section::None;
    let mut any_arcs = false;
    let mut layout_values = 0usize;
    let mut skipped_sections = Vec::new();
    let label_key = keys.id(true, "label", false);
    let weight_key = keys.id(false, "weight", true);
    for (i, raw) in text.lines().enumerate() {
        let line = i as u64 + 1;
        if line.is_multiple_of(4096) {
            cancel.check().map_err(|_| IoError::Cancelled)?;
        }
        check_field(path, limits, raw.len(), line, "line")?;
        if raw.contains('\0') {
            // As in mapped imports (`map::NUL_IN_FIELD`): no label or value holds a NUL.
            return Err(perr(
                line,
                "the line holds a NUL byte (U+0000), which no label or value may hold: the file \
                 is damaged or is not UTF-8 text (UTF-16?); fix the source or export it again"
                    .into(),
            ));
        }
        let trimmed = raw.trim().trim_start_matches('\u{feff}');
        if trimmed.is_empty() || trimmed.starts_with('%') {
            continue;
        }
        if trimmed.starts_with('*') {
            let w = words(trimmed).map_err(|r| perr(line, r))?;
            let name = w
                .first()
                .map(|s| s.to_ascii_lowercase())
                .unwrap_or_default();
            section = match name.as_str() {
                "*network" => Section::None,
                "*vertices" => {
                    if declared.is_some() {
                        return Err(perr(
                            line,
                            "a second *Vertices: this holds several networks (a .paj project); save each network as its own .net file".into(),
                        ));
                    }
                    let n: u64 = w.get(1).and_then(|n| n.parse().ok()).ok_or_else(|| {
                        perr(
                            line,
                            "*Vertices needs the number of vertices (*Vertices 12)".into(),
                        )
                    })?;
                    // Before a single node is made: the count is the file's word, not its size.
                    check_rows(path, limits, n, line)?;
                    declared = Some(n);
                    nodes = (1..=n)
                        .map(|k| Item {
                            id: k.to_string(),
                            line,
                            ..Item::default()
                        })
                        .collect();
                    Section::Vertices
                }
                "*arcs" => Section::Arcs,
                "*edges" => Section::Edges,
                "*arcslist" => Section::ArcsList,
                "*edgeslist" => Section::EdgesList,
                "*matrix" => {
                    return Err(perr(
                        line,
                        "an adjacency *Matrix is not read; save the network with *Arcs or *Edges lines".into(),
                    ));
                }
                other => {
                    skipped_sections.push(format!("{other} (line {line})"));
                    Section::Skipped
                }
            };
            if matches!(
                section,
                Section::Arcs | Section::Edges | Section::ArcsList | Section::EdgesList
            ) && declared.is_none()
            {
                return Err(perr(line, format!("{} before *Vertices", w[0])));
            }
            continue;
        }
        let w = words(trimmed).map_err(|r| perr(line, r))?;
        let vertex = |word: &str, field: &str| -> Result<u64, IoError> {
            word.parse::<u64>().map_err(|_| {
                perr(
                    line,
                    format!("field '{field}': '{word}' is not a vertex number"),
                )
            })
        };
        match section {
            Section::None => {
                return Err(perr(
                    line,
                    format!("'{trimmed}' before *Vertices (a Pajek file starts with *Vertices N)"),
                ));
            }
            Section::Skipped => {}
            Section::Vertices => {
                let k = vertex(&w[0], "vertex")?;
                let n = declared.unwrap_or(0);
                if k == 0 || k > n {
                    return Err(perr(
                        line,
                        format!("vertex {k} is outside 1..{n} that *Vertices declares"),
                    ));
                }
                let item = &mut nodes[(k - 1) as usize];
                item.line = line;
                let mut rest = &w[1..];
                if let Some((label, more)) = rest.split_first() {
                    item.data
                        .push((label_key.clone(), label.clone(), String::new()));
                    rest = more;
                }
                let coords = rest
                    .iter()
                    .take(3)
                    .take_while(|t| t.parse::<f64>().is_ok())
                    .count();
                layout_values += coords;
                rest = &rest[coords..];
                if let Some(shape) = rest.first()
                    && SHAPES.contains(&shape.to_ascii_lowercase().as_str())
                {
                    layout_values += 1;
                    rest = &rest[1..];
                }
                pairs(item, rest, true, &mut keys);
            }
            Section::Arcs | Section::Edges => {
                if w.len() < 2 {
                    return Err(perr(
                        line,
                        format!("'{trimmed}': an arc or edge needs two vertex numbers"),
                    ));
                }
                let directed = section == Section::Arcs;
                any_arcs |= directed;
                let mut item = Item {
                    line,
                    source: vertex(&w[0], "source")?.to_string(),
                    target: vertex(&w[1], "target")?.to_string(),
                    directed: Some(directed),
                    ..Item::default()
                };
                let mut rest = &w[2..];
                if let Some(weight) = rest.first().filter(|t| t.parse::<f64>().is_ok()) {
                    item.data
                        .push((weight_key.clone(), weight.clone(), String::new()));
                    rest = &rest[1..];
                }
                pairs(&mut item, rest, false, &mut keys);
                check_rows(
                    path,
                    limits,
                    nodes.len() as u64 + edges.len() as u64 + 1,
                    line,
                )?;
                edges.push(item);
            }
            Section::ArcsList | Section::EdgesList => {
                let directed = section == Section::ArcsList;
                any_arcs |= directed;
                let source = vertex(&w[0], "source")?.to_string();
                for t in &w[1..] {
                    check_rows(
                        path,
                        limits,
                        nodes.len() as u64 + edges.len() as u64 + 1,
                        line,
                    )?;
                    edges.push(Item {
                        line,
                        source: source.clone(),
                        target: vertex(t, "target")?.to_string(),
                        directed: Some(directed),
                        ..Item::default()
                    });
                }
            }
        }
    }
    if declared.is_none() {
        return Err(IoError::WrongFormat {
            path: path.to_path_buf(),
            what: "a file without a *Vertices line".into(),
            expected: "a Pajek .net file",
        });
    }
    Ok(ParsedPajek {
        parsed: Parsed {
            keys: keys.keys,
            directed_default: any_arcs,
            nodes,
            edges,
        },
        layout_values,
        skipped_sections,
    })
}

/// Imports a Pajek file as one batch.
pub fn import_pajek(
    case: &mut Case,
    path: &Path,
    opts: &GraphOptions,
    cancel: &CancelToken,
) -> Result<ImportReport, IoError> {
    let (src, decoded) = super::read_source_text(path, &opts.limits, "a Pajek .net file")?;
    let ParsedPajek {
        parsed,
        layout_values,
        skipped_sections,
    } = parse(path, &decoded.text, &opts.limits, cancel)?;
    let mut report = import_parsed(
        case,
        path,
        &src,
        decoded.encoding,
        parsed,
        opts,
        cancel,
        "pajek",
    )?;
    if layout_values > 0 {
        report.warnings.push(RowProblem {
            line: 0,
            field: None,
            reason: format!(
                "{layout_values} vertex coordinates and shapes (layout) were not imported"
            ),
        });
    }
    if !skipped_sections.is_empty() {
        report.warnings.push(RowProblem {
            line: 0,
            field: None,
            reason: format!(
                "sections that hold no network were skipped: {}",
                skipped_sections.join(", ")
            ),
        });
    }
    Ok(report)
}

/// A Pajek label: quoted, with no quote or line break inside (Pajek has no escape).
fn pajek_label(s: &str, changed: &mut usize) -> String {
    let clean: String = s
        .chars()
        .map(|c| match c {
            '"' => '\'',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    if clean != s {
        *changed += 1;
    }
    format!("\"{clean}\"")
}

/// Writes the selection as Pajek; returns what the format could not carry, in words.
pub(crate) fn write_pajek(path: &Path, sel: &Selection<'_>) -> Result<Vec<String>, IoError> {
    let g = flatten(sel);
    let (text, mut cannot) = pajek_text(&g);
    write_new(path, &text)?;
    cannot.extend(g.cannot.iter().cloned());
    Ok(cannot)
}

fn pajek_text(g: &FlatGraph) -> (String, Vec<String>) {
    use std::fmt::Write;
    let mut changed = 0usize;
    let (labels, relabelled) = unique_labels(&g.nodes);
    let index: std::collections::HashMap<&str, usize> = g
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i + 1))
        .collect();
    let mut out = String::new();
    let _ = writeln!(out, "*Vertices {}", g.nodes.len());
    for (i, label) in labels.iter().enumerate() {
        let _ = writeln!(out, "{} {}", i + 1, pajek_label(label, &mut changed));
    }
    let mut unweighted = 0usize;
    // Arcs first: networkx reads every line after the first section header as that kind.
    for directed in [true, false] {
        let of_kind: Vec<_> = g.edges.iter().filter(|e| e.directed == directed).collect();
        if of_kind.is_empty() {
            continue;
        }
        out.push_str(if directed { "*Arcs\n" } else { "*Edges\n" });
        for e in of_kind {
            let (Some(s), Some(t)) = (index.get(e.source.as_str()), index.get(e.target.as_str()))
            else {
                continue;
            };
            let weight = e.weight.unwrap_or_else(|| {
                unweighted += 1;
                1.0
            });
            let label = match (&e.time, &e.label) {
                (Some((start, _)), _) => format!("{} {start}", e.kind),
                (None, Some(l)) => l.clone(),
                (None, None) => e.kind.clone(),
            };
            let _ = writeln!(
                out,
                "{s} {t} {weight} l {}",
                pajek_label(&label, &mut changed)
            );
        }
    }
    let mixed = g.edges.iter().any(|e| e.directed) && g.edges.iter().any(|e| !e.directed);
    if mixed {
        // igraph takes the direction of the whole graph from the last section header and
        // networkx from the first: an empty *Arcs at the end makes both read a directed graph.
        out.push_str("*Arcs\n");
    }
    let mut cannot = vec![
        "Pajek holds labels, direction, weights and edge labels only: entity types, attributes, categories, grading and provenance are not carried; a link's type is its edge label where it has no label of its own".to_string(),
    ];
    let events = g.edges.iter().filter(|e| e.time.is_some()).count();
    if events > 0 {
        cannot.push(format!(
            "{events} events were written as arcs labelled with their type and start time (one-sided ones to an outside vertex); they read back as links"
        ));
    }
    if mixed {
        cannot.push(format!(
            "{} undirected links were written under *Edges in a file that also has *Arcs: Pajek and COPKIT read them as undirected, networkx and igraph (which hold one direction per graph) as arcs from source to target",
            g.edges.iter().filter(|e| !e.directed).count()
        ));
    }
    if unweighted > 0 {
        cannot.push(format!(
            "{unweighted} links and events without a weight were written with Pajek's default weight 1"
        ));
    }
    if relabelled > 0 {
        cannot.push(format!(
            "{relabelled} vertices share a label with another: their label has the entity id added (networkx keys Pajek vertices by label)"
        ));
    }
    if changed > 0 {
        cannot.push(format!(
            "{changed} labels held quotes or control characters, which Pajek labels cannot: written as ' and spaces"
        ));
    }
    (out, cannot)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<ParsedPajek, IoError> {
        parse(
            Path::new("t.net"),
            text,
            &Limits::default(),
            &CancelToken::new(),
        )
    }

    #[test]
    fn quoted_words_and_mixed_sections_are_read() {
        assert_eq!(
            words(r#"1 "Ann Lee" 0.1 0.2 ellipse ic Red"#).unwrap(),
            ["1", "Ann Lee", "0.1", "0.2", "ellipse", "ic", "Red"]
        );
        assert!(words("1 \"Ann").is_err());
        let p = parse_str(
            "% c\n*Network x\n*vertices 3\n1 \"Ann Lee\" 0.1 0.2 0.5 box ic Red\n2 Bob\n*ARCS\n1 2 2.5 l \"knows\"\n*Edges\n2 3\n*Arcslist\n3 1 2\n",
        )
        .unwrap();
        assert_eq!(p.parsed.nodes.len(), 3);
        assert_eq!(p.layout_values, 4);
        assert_eq!(p.parsed.nodes[0].data.len(), 2);
        assert_eq!(p.parsed.edges.len(), 4);
        assert_eq!(p.parsed.edges[0].directed, Some(true));
        assert_eq!(p.parsed.edges[1].directed, Some(false));
        assert_eq!(p.parsed.edges[0].line, 7);
        assert_eq!(p.parsed.nodes[2].line, 3);
    }

    #[test]
    fn declared_counts_are_bounded_before_allocation() {
        let e = parse_str("*Vertices 999999999999\n")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("max_rows") && e.contains("line 1"), "{e}");
        let e = parse_str("*Vertices 2\n3 x\n").err().unwrap().to_string();
        assert!(e.contains("line 2") && e.contains("outside 1..2"), "{e}");
        let e = parse_str("*Vertices 2\n*Arcs\n1 two\n")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("line 3") && e.contains("target"), "{e}");
    }
}
