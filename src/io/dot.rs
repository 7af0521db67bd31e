//! DOT export (Graphviz), for drawing and for tools that read DOT (networkx through pydot,
//! Gephi). A `graph` when every link is undirected, else a `digraph` in which undirected
//! links have `dir=none`. Ids and labels are quoted strings with `"`, `\` and line breaks
//! escaped; every value the GraphML writer stores is a DOT attribute (numbers bare), grading
//! and provenance as `copkit_*` JSON strings. Events are edges with a `time` attribute (and
//! `end` for an interval), one-sided ones to the outside node. COPKIT does not read DOT.

use super::IoError;
use super::export::Selection;
use super::graphflat::{FlatGraph, Value, flatten, write_new};
use std::path::Path;

/// A DOT quoted string; control characters other than line breaks are dropped (counted).
fn dot_string(s: &str, dropped: &mut usize) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() && c != '\t' => *dropped += 1,
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

const KEYWORDS: &[&str] = &["node", "edge", "graph", "digraph", "subgraph", "strict"];

/// An attribute name: bare where DOT allows it, else quoted.
fn dot_name(name: &str, dropped: &mut usize) -> String {
    let bare = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&name.to_ascii_lowercase().as_str());
    if bare {
        name.to_string()
    } else {
        dot_string(name, dropped)
    }
}

fn dot_value(v: &Value, dropped: &mut usize) -> String {
    match v {
        Value::Text(t) => dot_string(t, dropped),
        Value::Number(n) => n.to_string(),
        Value::Flag(b) => b.to_string(),
    }
}

fn attr_list(values: &[(String, Value)], dropped: &mut usize) -> String {
    values
        .iter()
        .map(|(k, v)| format!("{}={}", dot_name(k, dropped), dot_value(v, dropped)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn dot_text(g: &FlatGraph) -> (String, Vec<String>) {
    use std::fmt::Write;
    let mut dropped = 0usize;
    let (kind, arrow) = if g.directed {
        ("digraph", "->")
    } else {
        ("graph", "--")
    };
    let mut out = format!("{kind} \"COPKIT export\" {{\n");
    for n in &g.nodes {
        let mut values = vec![("label".to_string(), Value::Text(n.label.clone()))];
        values.extend(n.values.iter().cloned());
        let _ = writeln!(
            out,
            "  {} [{}];",
            dot_string(&n.id, &mut dropped),
            attr_list(&values, &mut dropped)
        );
    }
    for e in &g.edges {
        let mut values = Vec::new();
        if let Some(w) = e.weight {
            values.push(("weight".to_string(), Value::Number(w)));
        }
        if let Some(l) = &e.label {
            values.push(("label".to_string(), Value::Text(l.clone())));
        }
        if let Some((start, end)) = &e.time {
            values.push(("time".to_string(), Value::Text(start.clone())));
            if let Some(end) = end {
                values.push(("end".to_string(), Value::Text(end.clone())));
            }
        }
        values.extend(
            e.values
                .iter()
                .filter(|(k, _)| k != "copkit_directed")
                .cloned(),
        );
        if g.directed && !e.directed {
            values.push(("dir".to_string(), Value::Text("none".into())));
        }
        let _ = writeln!(
            out,
            "  {} {arrow} {} [{}];",
            dot_string(&e.source, &mut dropped),
            dot_string(&e.target, &mut dropped),
            attr_list(&values, &mut dropped)
        );
    }
    out.push_str("}\n");
    let mut cannot = Vec::new();
    if g.undirected_in_directed > 0 {
        cannot.push(format!(
            "{} undirected links in a digraph (the case also has directed links or events) were written with dir=none: drawn without arrowheads, but readers such as networkx see them as directed",
            g.undirected_in_directed
        ));
    }
    if dropped > 0 {
        cannot.push(format!(
            "{dropped} control characters were dropped (DOT strings cannot hold them)"
        ));
    }
    (out, cannot)
}

/// Writes the selection as DOT; returns what the format could not carry, in words.
pub(crate) fn write_dot(path: &Path, sel: &Selection<'_>) -> Result<Vec<String>, IoError> {
    let g = flatten(sel);
    let (text, mut cannot) = dot_text(&g);
    write_new(path, &text)?;
    cannot.extend(g.cannot.iter().cloned());
    Ok(cannot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_names_are_escaped() {
        let mut d = 0;
        assert_eq!(
            dot_string("a \"b\" \\ c\nd\u{1}", &mut d),
            "\"a \\\"b\\\" \\\\ c\\nd\""
        );
        assert_eq!(d, 1);
        assert_eq!(dot_name("weight", &mut d), "weight");
        assert_eq!(dot_name("node", &mut d), "\"node\"");
        assert_eq!(dot_name("start date", &mut d), "\"start date\"");
    }
}
