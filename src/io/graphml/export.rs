//! GraphML export, and the XML text and JSON helpers the GEXF writer shares.

use super::*;

/// Characters XML 1.0 cannot hold are dropped (and counted).
pub(crate) fn xml_text(s: &str, dropped: &mut usize) -> String {
    let clean: String = s
        .chars()
        .filter(|&c| {
            let ok = matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}');
            if !ok {
                *dropped += 1;
            }
            ok
        })
        .collect();
    quick_xml::escape::escape(clean.as_str()).into_owned()
}

/// At most this many typed columns per kind of element; further properties travel only in
/// `copkit:attributes` (and the manifest says so).
const MAX_COLUMNS: usize = 256;

/// One attribute property written as a column of its own.
pub(crate) struct Column {
    pub property: String,
    /// Every value reads as a number and no element has two: written as `double`.
    pub numeric: bool,
}

/// The typed columns for a set of elements' attribute values, by property name, so that Gephi,
/// networkx and igraph see `phone`, `amount` or `durationSecs` as columns of their own (the
/// exact values with their grading and provenance stay in `copkit:attributes`, which our
/// import reads instead). Names our own keys use are left out; so are the properties past
/// [`MAX_COLUMNS`] (counted in the second value).
pub(crate) fn columns<'a>(
    items: impl Iterator<Item = &'a [crate::model::Attribute]>,
    reserved: &[&str],
) -> (Vec<Column>, usize) {
    let mut seen: std::collections::BTreeMap<&str, bool> = std::collections::BTreeMap::new();
    for attrs in items {
        let mut here: Vec<&str> = Vec::new();
        for a in attrs {
            let p = a.property.as_str();
            if reserved.contains(&p) || p.starts_with("copkit:") || p.starts_with("spell:") {
                continue;
            }
            let number = a.value.trim().parse::<f64>().is_ok_and(f64::is_finite);
            let twice = here.contains(&p);
            here.push(p);
            let numeric = seen.entry(p).or_insert(true);
            *numeric &= number && !twice;
        }
    }
    let over = seen.len().saturating_sub(MAX_COLUMNS);
    let cols = seen
        .into_iter()
        .take(MAX_COLUMNS)
        .map(|(property, numeric)| Column {
            property: property.to_string(),
            numeric,
        })
        .collect();
    (cols, over)
}

/// An element's values of a column: numbers as written, texts joined with "; ".
pub(crate) fn column_value(attrs: &[crate::model::Attribute], col: &Column) -> Option<String> {
    let values: Vec<&str> = attrs
        .iter()
        .filter(|a| a.property == col.property)
        .map(|a| a.value.as_str())
        .collect();
    if values.is_empty() {
        return None;
    }
    Some(if col.numeric {
        values[0].trim().to_string()
    } else {
        values.join("; ")
    })
}

/// Writes the selection as GraphML; returns what the format could not hold.
pub(crate) fn write_graphml(path: &Path, sel: &Selection<'_>) -> Result<Vec<String>, IoError> {
    use std::fmt::Write;
    let mut dropped = 0usize;
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n");
    for (id, for_, name, ty) in [
        ("n_type", "node", "type", "string"),
        ("n_label", "node", "label", "string"),
        ("n_source_id", "node", "copkit:source_id", "string"),
        ("n_category", "node", "copkit:category", "string"),
        ("n_grading", "node", "copkit:grading", "string"),
        ("n_prov", "node", "copkit:provenance", "string"),
        ("n_attrs", "node", "copkit:attributes", "string"),
        ("n_synthetic", "node", "copkit:synthetic", "boolean"),
        ("e_type", "edge", "type", "string"),
        ("e_label", "edge", "label", "string"),
        ("e_weight", "edge", "weight", "double"),
        ("e_strength", "edge", "copkit:strength", "string"),
        ("e_source_id", "edge", "copkit:source_id", "string"),
        ("e_grading", "edge", "copkit:grading", "string"),
        ("e_prov", "edge", "copkit:provenance", "string"),
        ("e_attrs", "edge", "copkit:attributes", "string"),
        // Events as edges between their first two participants, with their time: the names
        // the GEXF writer uses, so one reader turns them back into events.
        ("e_event", "edge", "copkit:event", "string"),
        ("e_roles", "edge", "copkit:roles", "string"),
        ("e_start", "edge", "spell:start", "string"),
        ("e_end", "edge", "spell:end", "string"),
        ("e_time_text", "edge", "copkit:time_text", "string"),
        ("e_time_zone", "edge", "copkit:time_zone", "string"),
    ] {
        let _ = writeln!(
            out,
            "  <key id=\"{id}\" for=\"{for_}\" attr.name=\"{name}\" attr.type=\"{ty}\"/>"
        );
    }
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
    for (prefix, for_, cols) in [("np", "node", &node_cols), ("ep", "edge", &edge_cols)] {
        for (i, c) in cols.iter().enumerate() {
            let _ = writeln!(
                out,
                "  <key id=\"{prefix}{i}\" for=\"{for_}\" attr.name=\"{}\" attr.type=\"{}\"/>",
                xml_text(&c.property, &mut dropped).replace('"', "&quot;"),
                if c.numeric { "double" } else { "string" }
            );
        }
    }
    // The default is what every link is when they agree: networkx refuses a directed graph
    // whose every edge says it is undirected. An edge says its direction only when it
    // differs from the default (a mixed case).
    let directed_default =
        !sel.events.is_empty() || sel.links.is_empty() || sel.links.iter().any(|l| l.directed);
    let _ = writeln!(
        out,
        "  <graph id=\"G\" edgedefault=\"{}\">",
        if directed_default {
            "directed"
        } else {
            "undirected"
        }
    );
    for e in &sel.entities {
        let _ = writeln!(out, "    <node id=\"{}\">", e.id);
        let mut data = |k: &str, v: &str| {
            let _ = writeln!(
                out,
                "      <data key=\"{k}\">{}</data>",
                xml_text(v, &mut dropped)
            );
        };
        data("n_type", &e.entity_type);
        data("n_label", &e.label);
        if let Some(s) = &e.source_id {
            data("n_source_id", s);
        }
        if let Some(c) = e.category {
            data("n_category", c.as_str());
        }
        if e.grading.is_some() {
            data("n_grading", &to_json(&e.grading));
        }
        data("n_prov", &to_json(&e.provenance));
        data("n_attrs", &attrs_json(&e.attributes));
        for (i, c) in node_cols.iter().enumerate() {
            if let Some(v) = column_value(&e.attributes, c) {
                data(&format!("np{i}"), &v);
            }
        }
        out.push_str("    </node>\n");
    }
    for l in &sel.links {
        if l.directed == directed_default {
            let _ = writeln!(
                out,
                "    <edge id=\"{}\" source=\"{}\" target=\"{}\">",
                l.id, l.source, l.target
            );
        } else {
            let _ = writeln!(
                out,
                "    <edge id=\"{}\" source=\"{}\" target=\"{}\" directed=\"{}\">",
                l.id, l.source, l.target, l.directed
            );
        }
        let mut data = |k: &str, v: &str| {
            let _ = writeln!(
                out,
                "      <data key=\"{k}\">{}</data>",
                xml_text(v, &mut dropped)
            );
        };
        data("e_type", &l.link_type);
        if let Some(lb) = &l.label {
            data("e_label", lb);
        }
        if let Some(w) = l.weight {
            data("e_weight", &w.to_string());
        }
        data("e_strength", l.strength.as_str());
        if let Some(s) = &l.source_id {
            data("e_source_id", s);
        }
        if l.grading.is_some() {
            data("e_grading", &to_json(&l.grading));
        }
        data("e_prov", &to_json(&l.provenance));
        data("e_attrs", &attrs_json(&l.attributes));
        for (i, c) in edge_cols.iter().enumerate() {
            if let Some(v) = column_value(&l.attributes, c) {
                data(&format!("ep{i}"), &v);
            }
        }
        out.push_str("    </edge>\n");
    }
    let mut partial = 0usize;
    if sel.events.iter().any(|ev| ev.participants.len() == 1) {
        let _ = writeln!(
            out,
            "    <node id=\"{OUTSIDE_NODE}\">\n      <data key=\"n_type\">Unknown</data>\n      <data key=\"n_label\">{OUTSIDE_LABEL}</data>\n      <data key=\"n_synthetic\">true</data>\n    </node>"
        );
    }
    for ev in &sel.events {
        let Some(first) = ev.participants.first() else {
            partial += 1;
            continue;
        };
        if ev.participants.len() > 2 {
            partial += 1;
        }
        // Events run from one party to the other: directed, which is then the default. A
        // one-sided event (cash in or out) runs between its party and the outside, in the
        // direction of its role, never as a self-loop.
        let Some((source, target, second_role)) = event_ends(ev) else {
            continue;
        };
        let (source, target) = (end_node(source), end_node(target));
        let _ = writeln!(
            out,
            "    <edge id=\"{}\" source=\"{source}\" target=\"{target}\">",
            ev.id
        );
        let mut data = |k: &str, v: &str| {
            let _ = writeln!(
                out,
                "      <data key=\"{k}\">{}</data>",
                xml_text(v, &mut dropped)
            );
        };
        data("e_type", &ev.event_type);
        data("e_event", &ev.event_type);
        data(
            "e_roles",
            &format!("{},{}", first.role.as_str(), second_role.as_str()),
        );
        let start = ev.time.start().to_rfc3339();
        data("e_start", &start);
        if let Some(end) = ev.time.end() {
            data("e_end", &end.to_rfc3339());
        }
        if let Some(t) = &ev.time.original_text {
            data("e_time_text", t);
        }
        if let Some(z) = &ev.time.original_zone {
            data("e_time_zone", z);
        }
        if let Some(s) = &ev.source_id {
            data("e_source_id", s);
        }
        if ev.grading.is_some() {
            data("e_grading", &to_json(&ev.grading));
        }
        data("e_prov", &to_json(&ev.provenance));
        data("e_attrs", &attrs_json(&ev.attributes));
        for (i, c) in edge_cols.iter().enumerate() {
            if let Some(v) = column_value(&ev.attributes, c) {
                data(&format!("ep{i}"), &v);
            }
        }
        out.push_str("    </edge>\n");
    }
    out.push_str("  </graph>\n</graphml>\n");
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, out.as_bytes()))
        .map_err(|source| IoError::Write {
            path: path.to_path_buf(),
            source,
        })?;
    let mut cannot = Vec::new();
    if partial > 0 {
        cannot.push(format!(
            "{partial} events with more than two participants (or none): a GraphML edge holds two, the rest were left out"
        ));
    }
    if nodes_over + edges_over > 0 {
        cannot.push(format!(
            "{} attribute properties beyond {MAX_COLUMNS} per kind of element have no column of their own (their values are in copkit:attributes)",
            nodes_over + edges_over
        ));
    }
    if dropped > 0 {
        cannot.push(format!(
            "{dropped} characters that XML 1.0 forbids (control characters) were dropped"
        ));
    }
    Ok(cannot)
}

pub(crate) fn attrs_json(attrs: &[crate::model::Attribute]) -> String {
    let list: Vec<StoredAttribute> = attrs
        .iter()
        .map(|a| StoredAttribute {
            property: a.property.clone(),
            value: a.value.clone(),
            provenance: a.provenance.clone(),
            grading: a.grading.clone(),
        })
        .collect();
    serde_json::to_string(&list).unwrap_or_default()
}

/// JSON text for the `copkit:` keys.
pub(crate) fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}
