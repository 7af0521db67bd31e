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
        out.push_str("    </edge>\n");
    }
    let mut partial = 0usize;
    for ev in &sel.events {
        let Some(first) = ev.participants.first() else {
            partial += 1;
            continue;
        };
        let second = ev.participants.get(1).unwrap_or(first);
        if ev.participants.len() > 2 {
            partial += 1;
        }
        // Events run from one party to the other: directed, which is then the default.
        let _ = writeln!(
            out,
            "    <edge id=\"{}\" source=\"{}\" target=\"{}\">",
            ev.id, first.entity, second.entity
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
            &format!("{},{}", first.role.as_str(), second.role.as_str()),
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
