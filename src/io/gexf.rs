//! GEXF import and export (Gephi's format), static, dynamic and hierarchical. The reader
//! shares the GraphML hardening (quick-xml, DOCTYPE refused, depth bounded) and its batch
//! writer: GEXF attribute declarations become typed keys (a declared `<default>` is the value
//! of every element of the class without one of its own), `label`, `weight` and edge `kind`
//! map to the same fields. The writer exports events as edges with a time spell, so a round
//! trip restores them; grading, provenance and multi-valued attributes travel as `copkit:`
//! attributes. The output is valid against the official GEXF 1.3 schema.
//!
//! Time, kept with its pairing. Our attributes have no time of their own, so the interval
//! travels in the attribute:
//!
//! - An element's existence in time (`start`/`end`/`timestamp` attributes, `timestamps` and
//!   `intervals` lists, `<spell>` and GEXF 1.1's `<slice>` elements, a `mode="slice"` graph's
//!   own time) becomes one `spell` value per spell: ISO 8601 interval text `start/end`, an
//!   open bound as `..` (`2009-03-01/..`), an instant (the timestamp representation) as the
//!   bare time `2009-03-01`. Times stay as written (integer, double, date or dateTime, as
//!   the file's `timeformat` says); each must read as one of the four.
//! - A time-varying value (`<attvalue for="2" value="1" start=".." end=".."/>`, or with
//!   `timestamp`) becomes a value of property `title@interval`, for example `indegree@
//!   2009-03-01/2009-03-10` = `2`: the value keeps its own type and sits with the interval
//!   it held in. A value without time stays a plain `title` value.
//!
//! The writer turns both back: `spell` values into `<spells>`, `title@interval` values into
//! a dynamic attribute `title` with one `<attvalue start end>` (or `timestamp`) per value,
//! choosing the `timeformat` the values share and the timestamp representation when every
//! time is an instant, so GEXF → case → GEXF keeps every value with its interval.
//!
//! Nested nodes: a node inside another's `<nodes>`, or naming a `pid`, becomes an entity of
//! its own linked to its parent by a directed `member_of` link (child → parent); phylogeny
//! `<parents>` become `descends_from` links. Edges may name nodes at any level.

use super::IoError;
use super::export::Selection;
use super::graphml::{
    GraphOptions, Item, Key, Parsed, attrs_json, import_parsed, line_of, to_json, xml_text,
};
use super::report::ImportReport;
use crate::jobs::CancelToken;
use crate::store::Case;
use quick_xml::events::Event as X;
use std::collections::HashMap;
use std::path::Path;

use super::graphml::{OUTSIDE_LABEL, OUTSIDE_NODE, attr, check_depth};

/// The property that holds an element's spells, one interval text per value.
pub(crate) const SPELL: &str = "spell";

/// How one time reads: the GEXF time formats, from the narrowest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum TimeKind {
    Integer,
    Double,
    Date,
    DateTime,
}

/// Which of the GEXF time formats a time is written in, if any.
fn time_kind(t: &str) -> Option<TimeKind> {
    let t = t.trim();
    if t.parse::<i64>().is_ok() {
        Some(TimeKind::Integer)
    } else if t.parse::<f64>().is_ok() {
        Some(TimeKind::Double)
    } else if chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").is_ok() {
        Some(TimeKind::Date)
    } else if chrono::DateTime::parse_from_rfc3339(t).is_ok()
        || chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
        || chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M").is_ok()
    {
        Some(TimeKind::DateTime)
    } else {
        None
    }
}

/// The interval text of a spell: `start/end`, `..` for an open bound; `None` when neither
/// bound is given.
fn interval_text(start: Option<&str>, end: Option<&str>) -> Option<String> {
    let bound = |b: Option<&str>| {
        b.map(str::trim)
            .filter(|b| !b.is_empty())
            .map_or_else(|| "..".to_string(), str::to_string)
    };
    if start.is_none_or(|s| s.trim().is_empty()) && end.is_none_or(|e| e.trim().is_empty()) {
        return None;
    }
    Some(format!("{}/{}", bound(start), bound(end)))
}

/// One spell as read back from its text: an instant, or an interval with optional bounds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Spell<'a> {
    Instant(&'a str),
    Interval(Option<&'a str>, Option<&'a str>),
}

/// Reads interval text (`start/end`, `..` open, or a bare instant); `None` if a bound is no
/// GEXF time.
pub(crate) fn parse_spell(text: &str) -> Option<Spell<'_>> {
    let text = text.trim();
    match text.split_once('/') {
        None => time_kind(text).map(|_| Spell::Instant(text)),
        Some((s, e)) => {
            let (s, e) = (open_bound(s)?, open_bound(e)?);
            (s.is_some() || e.is_some()).then_some(Spell::Interval(s, e))
        }
    }
}

/// One bound of interval text: `Some(None)` when open (`..`), `None` when no GEXF time.
fn open_bound(b: &str) -> Option<Option<&str>> {
    let b = b.trim();
    if b == ".." || b.is_empty() {
        Some(None)
    } else {
        time_kind(b).map(|_| Some(b))
    }
}

/// A time-varying value's property split into its title and interval text
/// (`indegree@2009-03-01/2009-03-10`), when what follows the last `@` is a spell.
pub(crate) fn split_timed(property: &str) -> Option<(&str, &str)> {
    let (title, interval) = property.rsplit_once('@')?;
    (!title.is_empty() && parse_spell(interval).is_some()).then_some((title, interval))
}

/// The times of a GEXF list attribute: `timestamps="<[2019-03-20, 2019-03-21]>"` (instants)
/// or `intervals="<[4.0, 14.0]; [21.0, 124.0]>"` (pairs), as spell texts.
fn time_list(list: &str, intervals: bool) -> Result<Vec<String>, String> {
    let inner = list.trim().trim_start_matches('<').trim_end_matches('>');
    let mut out = Vec::new();
    if intervals {
        for part in inner.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let pair = part.trim_matches(|c| matches!(c, '[' | ']' | '(' | ')'));
            let (s, e) = pair
                .split_once(',')
                .ok_or_else(|| format!("'{part}' in intervals is not a [start, end] pair"))?;
            if let Some(t) = interval_text(Some(s), Some(e)) {
                out.push(t);
            }
        }
    } else {
        let inner = inner.trim_matches(|c| matches!(c, '[' | ']' | '(' | ')'));
        for t in inner.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            out.push(t.to_string());
        }
    }
    Ok(out)
}

/// The spell texts of one element's (or spell's, or attvalue's) time attributes.
fn spells_of(a: &dyn Fn(&str) -> Result<Option<String>, IoError>) -> Result<Vec<String>, IoError> {
    let mut out = Vec::new();
    if let Some(t) = interval_text(a("start")?.as_deref(), a("end")?.as_deref()) {
        out.push(t);
    }
    if let Some(t) = a("timestamp")?.filter(|t| !t.trim().is_empty()) {
        out.push(t.trim().to_string());
    }
    Ok(out)
}

/// A link between a nested node and its parent, as an edge of the parsed file.
fn parent_edge(child: &str, parent: &str, line: u64, link_type: &str) -> Item {
    Item {
        id: String::new(),
        line,
        source: child.to_string(),
        target: parent.to_string(),
        directed: Some(true),
        data: vec![("kind".into(), link_type.into(), String::new())],
    }
}

fn parse(path: &Path, text: &str, limits: &super::Limits) -> Result<Parsed, IoError> {
    let mut reader = quick_xml::Reader::from_str(text);
    let perr = |offset: u64, reason: String| IoError::Parse {
        path: path.to_path_buf(),
        location: format!("line {}, byte {offset}", line_of(text, offset)),
        reason,
    };
    let mut keys: HashMap<String, Key> = HashMap::new();
    for (id, name, kind) in [
        ("label", "label", "string"),
        ("weight", "weight", "double"),
        ("kind", "type", "string"),
        (SPELL, SPELL, "string"),
    ] {
        keys.insert(
            id.into(),
            Key {
                name: name.into(),
                kind: kind.into(),
            },
        );
    }
    let mut directed_default = false;
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    let mut depth = 0usize;
    let mut class = "node".to_string();
    // The nodes open around the parser (a node's children sit in its own <nodes>), and the
    // edge open, if any (edges hold no nodes).
    let mut open: Vec<Item> = Vec::new();
    let mut edge: Option<Item> = None;
    let mut graph_seen = false;
    let mut slice_spells: Vec<String> = Vec::new();
    // Declared defaults (`<attribute><default>true</default>`), by key, given to every
    // element of the class that has no value of its own; the default being read.
    let mut defaults: Vec<(String, String)> = Vec::new();
    let mut last_attribute: Option<String> = None;
    let mut reading_default: Option<String> = None;
    // Links from nested nodes to their parents: no element of the file, so no defaults.
    let mut parent_edges: Vec<Item> = Vec::new();
    let mut saw_root = false;
    let mut lines = super::graphml::LineCounter::new(text);
    loop {
        let pos = reader.buffer_position();
        let ev = reader
            .read_event()
            .map_err(|e| perr(reader.error_position(), format!("malformed XML: {e}")))?;
        let (start, empty) = match &ev {
            X::Start(e) => (Some(e.clone()), false),
            X::Empty(e) => (Some(e.clone()), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            if !empty {
                depth += 1;
                check_depth(depth, limits, path, text, pos)?;
            }
            let name = e.local_name();
            let name: &str = name.as_ref();
            let a = |n: &str| attr(&e, n).map_err(|r| perr(pos, r));
            // Every time a file gives must read as one of GEXF's time formats.
            let checked = |spells: Vec<String>, what: &str| -> Result<Vec<String>, IoError> {
                for s in &spells {
                    if parse_spell(s).is_none() {
                        return Err(perr(
                            pos,
                            format!(
                                "{what}: '{s}' is no GEXF time (an integer, a double, a date yyyy-mm-dd or a dateTime)"
                            ),
                        ));
                    }
                }
                Ok(spells)
            };
            match name {
                "gexf" => saw_root = true,
                "graph" if !graph_seen => {
                    graph_seen = true;
                    directed_default = a("defaultedgetype")?.as_deref() != Some("undirected");
                    if a("mode")?.as_deref() == Some("slice") {
                        slice_spells = checked(spells_of(&a)?, "the graph's time")?;
                    }
                }
                "attributes" => class = a("class")?.unwrap_or_else(|| "node".into()),
                "attribute" => {
                    let id =
                        a("id")?.ok_or_else(|| perr(pos, "an <attribute> has no id".into()))?;
                    let title = a("title")?.unwrap_or_else(|| id.clone());
                    let kind = a("type")?.unwrap_or_else(|| "string".into());
                    keys.insert(format!("{class}:{id}"), Key { name: title, kind });
                    last_attribute = Some(format!("{class}:{id}"));
                }
                "default" if !empty => reading_default = Some(String::new()),
                "node" | "edge" => {
                    let is_node = name == "node";
                    let mut item = Item {
                        id: a("id")?.unwrap_or_default(),
                        line: lines.line_at(pos),
                        ..Item::default()
                    };
                    if is_node && item.id.is_empty() {
                        return Err(perr(pos, "a <node> has no id".into()));
                    }
                    if !is_node {
                        item.source = a("source")?
                            .ok_or_else(|| perr(pos, "an <edge> has no source".into()))?;
                        item.target = a("target")?
                            .ok_or_else(|| perr(pos, "an <edge> has no target".into()))?;
                        item.directed = a("type")?.map(|t| t == "directed");
                        if let Some(w) = a("weight")? {
                            item.data.push(("weight".into(), w, String::new()));
                        }
                        if let Some(k) = a("kind")? {
                            item.data.push(("kind".into(), k, String::new()));
                        }
                    }
                    if let Some(l) = a("label")? {
                        item.data.push(("label".into(), l, String::new()));
                    }
                    let mut spells = spells_of(&a)?;
                    for (list, intervals) in [("timestamps", false), ("intervals", true)] {
                        if let Some(v) = a(list)? {
                            spells.extend(time_list(&v, intervals).map_err(|r| perr(pos, r))?);
                        }
                    }
                    for s in checked(spells, &format!("<{name}> time"))? {
                        item.data.push((SPELL.into(), s, String::new()));
                    }
                    if is_node {
                        let parent = open.last().map(|p| p.id.clone());
                        if let Some(p) = &parent {
                            parent_edges.push(parent_edge(&item.id, p, item.line, "member_of"));
                        }
                        if let Some(pid) = a("pid")?.filter(|p| Some(p) != parent.as_ref()) {
                            parent_edges.push(parent_edge(&item.id, &pid, item.line, "member_of"));
                        }
                    }
                    match (empty, is_node) {
                        (true, true) => nodes.push(item),
                        (true, false) => edges.push(item),
                        (false, true) => open.push(item),
                        (false, false) => edge = Some(item),
                    }
                }
                "parent" => {
                    if let (Some(node), Some(of)) = (open.last(), a("for")?) {
                        parent_edges.push(parent_edge(&node.id, &of, node.line, "descends_from"));
                    }
                }
                "attvalue" => {
                    let id = match a("for")? {
                        Some(f) => f,
                        None => {
                            a("id")?.ok_or_else(|| perr(pos, "an <attvalue> has no for".into()))?
                        }
                    };
                    let value = a("value")?.unwrap_or_default();
                    let is_node = edge.is_none();
                    let spells = checked(spells_of(&a)?, "<attvalue> time")?;
                    if let Some(item) = edge.as_mut().or(open.last_mut()) {
                        let key = format!("{}:{id}", if is_node { "node" } else { "edge" });
                        let Some(declared) = keys.get(&key).cloned() else {
                            return Err(perr(
                                pos,
                                format!(
                                    "<attvalue for=\"{id}\"> names an attribute no <attribute> element declares"
                                ),
                            ));
                        };
                        if spells.is_empty() {
                            item.data.push((key.clone(), value.clone(), String::new()));
                        }
                        // A time-varying value: a key of its own per interval, named
                        // title@interval, so the value keeps the interval it held in.
                        for s in spells {
                            let timed = format!("{key}@{s}");
                            keys.entry(timed.clone()).or_insert_with(|| Key {
                                name: format!("{}@{s}", declared.name),
                                kind: declared.kind.clone(),
                            });
                            item.data.push((timed, value.clone(), String::new()));
                        }
                    }
                }
                "spell" | "slice" => {
                    let spells = checked(spells_of(&a)?, &format!("<{name}>"))?;
                    if let Some(item) = edge.as_mut().or(open.last_mut()) {
                        for s in spells {
                            item.data.push((SPELL.into(), s, String::new()));
                        }
                    }
                }
                _ => {}
            }
            continue;
        }
        match ev {
            X::DocType(_) => {
                return Err(perr(
                    pos,
                    "the file declares a DOCTYPE; GEXF needs none and entity declarations are refused".into(),
                ));
            }
            X::Text(t) if reading_default.is_some() => {
                if let Some(d) = reading_default.as_mut() {
                    d.push_str(&t.into_inner());
                }
            }
            X::GeneralRef(r) if reading_default.is_some() => {
                let r_text = r.clone();
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match r.into_inner().as_ref() {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    },
                };
                match (c, reading_default.as_mut()) {
                    (Some(c), Some(d)) => d.push(c),
                    (None, _) => return Err(perr(pos, super::graphml::bad_reference(&r_text))),
                    _ => {}
                }
            }
            X::End(e) => {
                depth = depth.saturating_sub(1);
                match e.local_name().as_ref() {
                    "default" => {
                        if let (Some(d), Some(key)) = (reading_default.take(), &last_attribute)
                            && !d.trim().is_empty()
                        {
                            defaults.push((key.clone(), d));
                        }
                    }
                    "node" => nodes.extend(open.pop()),
                    "edge" => edges.extend(edge.take()),
                    _ => {}
                }
            }
            X::Eof if depth > 0 && saw_root => {
                return Err(super::graphml::cut_short(path, text, depth, "gexf"));
            }
            X::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err(IoError::WrongFormat {
            path: path.to_path_buf(),
            what: "XML without a <gexf> root element".into(),
            expected: "GEXF",
        });
    }
    for (key, value) in &defaults {
        let list = if key.starts_with("node:") {
            &mut nodes
        } else {
            &mut edges
        };
        let timed = format!("{key}@");
        for item in list.iter_mut() {
            if !item
                .data
                .iter()
                .any(|(k, _, _)| k == key || k.starts_with(&timed))
            {
                item.data.push((key.clone(), value.clone(), String::new()));
            }
        }
    }
    // A slice is a graph at one time: its elements exist then, unless they say otherwise.
    if !slice_spells.is_empty() {
        for item in nodes.iter_mut().chain(edges.iter_mut()) {
            if !item.data.iter().any(|(k, _, _)| k == SPELL) {
                for s in &slice_spells {
                    item.data.push((SPELL.into(), s.clone(), String::new()));
                }
            }
        }
    }
    edges.append(&mut parent_edges);
    Ok(Parsed {
        keys,
        directed_default,
        nodes,
        edges,
    })
}

/// Imports a GEXF file as one batch.
pub fn import_gexf(
    case: &mut Case,
    path: &Path,
    opts: &GraphOptions,
    cancel: &CancelToken,
) -> Result<ImportReport, IoError> {
    let (src, decoded) = super::read_source_text(path, &opts.limits, "a GEXF (XML) file")?;
    let parsed = parse(path, &decoded.text, &opts.limits)?;
    import_parsed(
        case,
        path,
        &src,
        decoded.encoding,
        parsed,
        opts,
        cancel,
        "gexf",
    )
}

/// An element's attribute values sorted for GEXF: its spells, its time-varying values
/// (title, spell, value) and the values without time.
struct TimedValues<'a> {
    spells: Vec<Spell<'a>>,
    timed: Vec<(&'a str, Spell<'a>, &'a str)>,
    plain: Vec<crate::model::Attribute>,
}

fn timed_values(attrs: &[crate::model::Attribute]) -> TimedValues<'_> {
    let mut out = TimedValues {
        spells: Vec::new(),
        timed: Vec::new(),
        plain: Vec::new(),
    };
    for a in attrs {
        if a.property == SPELL
            && let Some(s) = parse_spell(&a.value)
        {
            out.spells.push(s);
        } else if let Some((title, interval)) = split_timed(&a.property)
            && let Some(s) = parse_spell(interval)
        {
            out.timed.push((title, s, a.value.as_str()));
        } else {
            out.plain.push(a.clone());
        }
    }
    out
}

/// Text for an XML attribute value: escaped, and line breaks and tabs as character
/// references (a reader normalises literal ones to spaces).
fn attr_text(s: &str, dropped: &mut usize) -> String {
    xml_text(s, dropped)
        .replace('"', "&quot;")
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
        .replace('\t', "&#9;")
}

/// The time attributes of one spell: `timestamp` in the timestamp representation, else
/// `start`/`end` (an instant as a one-point interval).
fn spell_attrs(s: &Spell<'_>, timestamps: bool, dropped: &mut usize) -> String {
    match (s, timestamps) {
        (Spell::Instant(t), true) => format!(" timestamp=\"{}\"", attr_text(t, dropped)),
        (Spell::Instant(t), false) => {
            let t = attr_text(t, dropped);
            format!(" start=\"{t}\" end=\"{t}\"")
        }
        (Spell::Interval(start, end), _) => {
            let mut out = String::new();
            if let Some(t) = start {
                out.push_str(&format!(" start=\"{}\"", attr_text(t, dropped)));
            }
            if let Some(t) = end {
                out.push_str(&format!(" end=\"{}\"", attr_text(t, dropped)));
            }
            out
        }
    }
}

/// One attribute declaration of the output: its title and GEXF type.
struct Declared {
    title: String,
    kind: &'static str,
}

/// Writes the selection as GEXF 1.3; events become edges with a time spell, spells and
/// time-varying values (see the module doc) become `<spells>` and timed `<attvalue>`s.
/// Returns what the format could not hold.
pub(crate) fn write_gexf(path: &Path, sel: &Selection<'_>) -> Result<Vec<String>, IoError> {
    use std::collections::{BTreeMap, BTreeSet};
    use std::fmt::Write;
    let mut dropped = 0usize;
    let mut out = String::new();
    let entity_times: Vec<TimedValues<'_>> = sel
        .entities
        .iter()
        .map(|e| timed_values(&e.attributes))
        .collect();
    let link_times: Vec<TimedValues<'_>> = sel
        .links
        .iter()
        .map(|l| timed_values(&l.attributes))
        .collect();
    let event_times: Vec<TimedValues<'_>> = sel
        .events
        .iter()
        .map(|e| timed_values(&e.attributes))
        .collect();
    // The time format the file's times share, and whether every one is an instant (the
    // timestamp representation; GEXF cannot mix the two). Events are written as dateTime
    // intervals.
    let mut kinds: BTreeSet<TimeKind> = BTreeSet::new();
    let mut instants = 0usize;
    let mut intervals = 0usize;
    for t in entity_times.iter().chain(&link_times).chain(&event_times) {
        for s in t.spells.iter().chain(t.timed.iter().map(|(_, s, _)| s)) {
            match s {
                Spell::Instant(x) => {
                    instants += 1;
                    kinds.extend(time_kind(x));
                }
                Spell::Interval(a, b) => {
                    intervals += 1;
                    kinds.extend(a.iter().chain(b.iter()).filter_map(|x| time_kind(x)));
                }
            }
        }
    }
    if !sel.events.is_empty() {
        kinds.insert(TimeKind::DateTime);
        intervals += 1;
    }
    let numbers = kinds.iter().any(|k| *k <= TimeKind::Double);
    let dates = kinds.iter().any(|k| *k >= TimeKind::Date);
    let timeformat = match kinds.iter().max() {
        None => None,
        Some(_) if numbers && dates => Some("dateTime"),
        Some(TimeKind::Integer) => Some("integer"),
        Some(TimeKind::Double) => Some("double"),
        Some(TimeKind::Date) => Some("date"),
        Some(TimeKind::DateTime) => Some("dateTime"),
    };
    let timestamps = intervals == 0 && instants > 0;
    // As in GraphML: the default is what the links agree on (events, from one party to the
    // other, are directed), and an edge names its type only when it differs.
    let directed_default =
        !sel.events.is_empty() || sel.links.is_empty() || sel.links.iter().any(|l| l.directed);
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gexf xmlns=\"http://gexf.net/1.3\" version=\"1.3\">\n  <meta><creator>COPKIT Workbench</creator></meta>\n  <graph defaultedgetype=\"{}\" mode=\"{}\"",
        if directed_default {
            "directed"
        } else {
            "undirected"
        },
        if timeformat.is_some() {
            "dynamic"
        } else {
            "static"
        }
    );
    if let Some(f) = timeformat {
        let _ = write!(
            out,
            " timeformat=\"{f}\" timerepresentation=\"{}\"",
            if timestamps { "timestamp" } else { "interval" }
        );
    }
    out.push_str(">\n");
    let node_attrs = [
        "type",
        "copkit:source_id",
        "copkit:category",
        "copkit:grading",
        "copkit:provenance",
        "copkit:attributes",
        "copkit:synthetic",
    ];
    let edge_attrs = [
        "type",
        "copkit:strength",
        "copkit:source_id",
        "copkit:grading",
        "copkit:provenance",
        "copkit:attributes",
        "copkit:event",
        "copkit:roles",
        "copkit:time_text",
        "copkit:time_zone",
    ];
    // The time-varying titles of each class, numeric when every value is a number: a
    // dynamic attribute each, which also carries the title's values without time.
    let dynamic = |times: &[&TimedValues<'_>]| -> BTreeMap<String, bool> {
        let mut titles: BTreeMap<String, bool> = BTreeMap::new();
        for t in times {
            for (title, _, v) in &t.timed {
                let numeric = titles.entry((*title).to_string()).or_insert(true);
                *numeric &= v.trim().parse::<f64>().is_ok_and(f64::is_finite);
            }
        }
        for t in times {
            for a in &t.plain {
                if let Some(numeric) = titles.get_mut(&a.property) {
                    *numeric &= a.value.trim().parse::<f64>().is_ok_and(f64::is_finite);
                }
            }
        }
        titles
    };
    let node_dynamic = dynamic(&entity_times.iter().collect::<Vec<_>>());
    let edge_dynamic = dynamic(&link_times.iter().chain(&event_times).collect::<Vec<_>>());
    // Attribute values also as typed columns, one per property, as in the GraphML writer
    // (Gephi filters and partitions on columns; our import reads copkit:attributes instead).
    let reserved = |dynamic: &BTreeMap<String, bool>| -> Vec<String> {
        ["type", "label", "weight"]
            .iter()
            .map(|s| s.to_string())
            .chain(dynamic.keys().cloned())
            .collect()
    };
    let node_reserved = reserved(&node_dynamic);
    let edge_reserved = reserved(&edge_dynamic);
    let node_reserved: Vec<&str> = node_reserved.iter().map(String::as_str).collect();
    let edge_reserved: Vec<&str> = edge_reserved.iter().map(String::as_str).collect();
    let (node_cols, nodes_over) =
        super::graphml::columns(entity_times.iter().map(|t| &t.plain[..]), &node_reserved);
    let (edge_cols, edges_over) = super::graphml::columns(
        link_times.iter().chain(&event_times).map(|t| &t.plain[..]),
        &edge_reserved,
    );
    let declared = |fixed: &[&'static str], cols: &[super::graphml::Column]| -> Vec<Declared> {
        fixed
            .iter()
            .map(|t| Declared {
                title: t.to_string(),
                kind: "string",
            })
            .chain(cols.iter().map(|c| Declared {
                title: c.property.clone(),
                kind: if c.numeric { "double" } else { "string" },
            }))
            .collect()
    };
    let node_list = declared(&node_attrs, &node_cols);
    let edge_list = declared(&edge_attrs, &edge_cols);
    for (class, list, dynamic) in [
        ("node", &node_list, &node_dynamic),
        ("edge", &edge_list, &edge_dynamic),
    ] {
        let _ = writeln!(out, "    <attributes class=\"{class}\" mode=\"static\">");
        for (i, d) in list.iter().enumerate() {
            let _ = writeln!(
                out,
                "      <attribute id=\"{i}\" title=\"{}\" type=\"{}\"/>",
                attr_text(&d.title, &mut dropped),
                d.kind
            );
        }
        out.push_str("    </attributes>\n");
        if !dynamic.is_empty() {
            let _ = writeln!(out, "    <attributes class=\"{class}\" mode=\"dynamic\">");
            for (i, (title, numeric)) in dynamic.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "      <attribute id=\"{}\" title=\"{}\" type=\"{}\"/>",
                    list.len() + i,
                    attr_text(title, &mut dropped),
                    if *numeric { "double" } else { "string" }
                );
            }
            out.push_str("    </attributes>\n");
        }
    }
    let column_values = |cols: &[super::graphml::Column],
                         attrs: &[crate::model::Attribute],
                         v: &mut Vec<(String, String)>| {
        for c in cols {
            if let Some(value) = super::graphml::column_value(attrs, c) {
                v.push((c.property.clone(), value));
            }
        }
    };
    // An element's attvalues (static, then each dynamic title's values with their times)
    // and its spells.
    let attvalues = |out: &mut String,
                     list: &[Declared],
                     dynamic: &BTreeMap<String, bool>,
                     values: &[(String, String)],
                     times: &TimedValues<'_>,
                     dropped: &mut usize| {
        out.push_str("        <attvalues>\n");
        for (title, v) in values {
            if let Some(i) = list.iter().position(|d| &d.title == title) {
                let _ = writeln!(
                    out,
                    "          <attvalue for=\"{i}\" value=\"{}\"/>",
                    attr_text(v, dropped)
                );
            }
        }
        for (j, title) in dynamic.keys().enumerate() {
            let id = list.len() + j;
            for a in times.plain.iter().filter(|a| &a.property == title) {
                let _ = writeln!(
                    out,
                    "          <attvalue for=\"{id}\" value=\"{}\"/>",
                    attr_text(&a.value, dropped)
                );
            }
            for (_, s, v) in times.timed.iter().filter(|(t, _, _)| t == title) {
                let _ = writeln!(
                    out,
                    "          <attvalue for=\"{id}\" value=\"{}\"{}/>",
                    attr_text(v, dropped),
                    spell_attrs(s, timestamps, dropped)
                );
            }
        }
        out.push_str("        </attvalues>\n");
        if !times.spells.is_empty() {
            out.push_str("        <spells>\n");
            for s in &times.spells {
                let _ = writeln!(
                    out,
                    "          <spell{}/>",
                    spell_attrs(s, timestamps, dropped)
                );
            }
            out.push_str("        </spells>\n");
        }
    };
    out.push_str("    <nodes>\n");
    for (e, times) in sel.entities.iter().zip(&entity_times) {
        let _ = writeln!(
            out,
            "      <node id=\"{}\" label=\"{}\">",
            e.id,
            attr_text(&e.label, &mut dropped)
        );
        let mut v = vec![
            ("type", e.entity_type.clone()),
            ("copkit:provenance", to_json(&e.provenance)),
            ("copkit:attributes", attrs_json(&e.attributes)),
        ];
        if let Some(s) = &e.source_id {
            v.push(("copkit:source_id", s.clone()));
        }
        if let Some(c) = e.category {
            v.push(("copkit:category", c.as_str().into()));
        }
        if e.grading.is_some() {
            v.push(("copkit:grading", to_json(&e.grading)));
        }
        let mut v: Vec<(String, String)> = v.into_iter().map(|(t, x)| (t.to_string(), x)).collect();
        column_values(&node_cols, &times.plain, &mut v);
        attvalues(&mut out, &node_list, &node_dynamic, &v, times, &mut dropped);
        out.push_str("      </node>\n");
    }
    if sel.events.iter().any(|ev| ev.participants.len() == 1) {
        let synthetic = node_attrs
            .iter()
            .position(|t| *t == "copkit:synthetic")
            .unwrap_or(0);
        let _ = writeln!(
            out,
            "      <node id=\"{OUTSIDE_NODE}\" label=\"{OUTSIDE_LABEL}\">\n        <attvalues>\n          <attvalue for=\"{synthetic}\" value=\"true\"/>\n        </attvalues>\n      </node>"
        );
    }
    out.push_str("    </nodes>\n    <edges>\n");
    for (l, times) in sel.links.iter().zip(&link_times) {
        let _ = write!(
            out,
            "      <edge id=\"{}\" source=\"{}\" target=\"{}\"",
            l.id, l.source, l.target
        );
        if l.directed != directed_default {
            let _ = write!(
                out,
                " type=\"{}\"",
                if l.directed { "directed" } else { "undirected" }
            );
        }
        if let Some(w) = l.weight {
            let _ = write!(out, " weight=\"{w}\"");
        }
        if let Some(lb) = &l.label {
            let _ = write!(out, " label=\"{}\"", attr_text(lb, &mut dropped));
        }
        out.push_str(">\n");
        let mut v = vec![
            ("type", l.link_type.clone()),
            ("copkit:strength", l.strength.as_str().to_string()),
            ("copkit:provenance", to_json(&l.provenance)),
            ("copkit:attributes", attrs_json(&l.attributes)),
        ];
        if let Some(s) = &l.source_id {
            v.push(("copkit:source_id", s.clone()));
        }
        if l.grading.is_some() {
            v.push(("copkit:grading", to_json(&l.grading)));
        }
        let mut v: Vec<(String, String)> = v.into_iter().map(|(t, x)| (t.to_string(), x)).collect();
        column_values(&edge_cols, &times.plain, &mut v);
        attvalues(&mut out, &edge_list, &edge_dynamic, &v, times, &mut dropped);
        out.push_str("      </edge>\n");
    }
    let mut partial = 0;
    for (ev, times) in sel.events.iter().zip(&event_times) {
        let Some(first) = ev.participants.first() else {
            partial += 1;
            continue;
        };
        if ev.participants.len() > 2 {
            partial += 1;
        }
        // A one-sided event (cash in or out) runs between its party and the outside node, in
        // the direction of its role, never as a self-loop.
        let Some((source, target, second_role)) = super::graphml::event_ends(ev) else {
            continue;
        };
        let (source, target) = (
            super::graphml::end_node(source),
            super::graphml::end_node(target),
        );
        let start = ev.time.start().to_rfc3339();
        let end = ev
            .time
            .end()
            .map_or_else(|| start.clone(), |e| e.to_rfc3339());
        let _ = writeln!(
            out,
            "      <edge id=\"{}\" source=\"{source}\" target=\"{target}\" type=\"directed\">",
            ev.id
        );
        let mut v = vec![
            ("copkit:event", ev.event_type.clone()),
            (
                "copkit:roles",
                format!("{},{}", first.role.as_str(), second_role.as_str()),
            ),
            ("copkit:provenance", to_json(&ev.provenance)),
            ("copkit:attributes", attrs_json(&ev.attributes)),
        ];
        if let Some(t) = &ev.time.original_text {
            v.push(("copkit:time_text", t.clone()));
        }
        if let Some(z) = &ev.time.original_zone {
            v.push(("copkit:time_zone", z.clone()));
        }
        if let Some(s) = &ev.source_id {
            v.push(("copkit:source_id", s.clone()));
        }
        if ev.grading.is_some() {
            v.push(("copkit:grading", to_json(&ev.grading)));
        }
        let mut v: Vec<(String, String)> = v.into_iter().map(|(t, x)| (t.to_string(), x)).collect();
        column_values(&edge_cols, &times.plain, &mut v);
        // The event's own time is its spell; spells it carries as values are left to
        // copkit:attributes (an edge has one existence).
        let own = TimedValues {
            spells: vec![Spell::Interval(Some(&start), Some(&end))],
            timed: times.timed.clone(),
            plain: times.plain.clone(),
        };
        attvalues(&mut out, &edge_list, &edge_dynamic, &v, &own, &mut dropped);
        out.push_str("      </edge>\n");
    }
    out.push_str("    </edges>\n  </graph>\n</gexf>\n");
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
            "{partial} events with more than two participants (or none): a GEXF edge holds two, the rest were left out"
        ));
    }
    if nodes_over + edges_over > 0 {
        cannot.push(format!(
            "{} attribute properties beyond the column limit have no column of their own (their values are in copkit:attributes)",
            nodes_over + edges_over
        ));
    }
    if numbers && dates {
        cannot.push(
            "times mix numbers and dates, and a GEXF file has one time format: they are written as they are under dateTime (exact in copkit:attributes)".to_string(),
        );
    }
    if instants > 0 && !timestamps {
        cannot.push(format!(
            "{instants} instants written as one-point intervals (GEXF cannot mix instants and intervals in one file)"
        ));
    }
    if dropped > 0 {
        cannot.push(format!(
            "{dropped} characters that XML 1.0 forbids (control characters) were dropped"
        ));
    }
    Ok(cannot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_text_reads_back_as_the_spell_it_was() {
        assert_eq!(
            parse_spell("2009-03-01/2009-03-10"),
            Some(Spell::Interval(Some("2009-03-01"), Some("2009-03-10")))
        );
        assert_eq!(
            parse_spell("../4.5"),
            Some(Spell::Interval(None, Some("4.5")))
        );
        assert_eq!(
            parse_spell("2012-11-04T11:00:01+03:00/.."),
            Some(Spell::Interval(Some("2012-11-04T11:00:01+03:00"), None))
        );
        assert_eq!(parse_spell("2000"), Some(Spell::Instant("2000")));
        assert_eq!(parse_spell("../.."), None);
        assert_eq!(parse_spell("next tuesday"), None);
        assert_eq!(interval_text(Some("1"), None).as_deref(), Some("1/.."));
        assert_eq!(interval_text(None, None), None);
    }

    #[test]
    fn only_a_property_ending_in_a_spell_is_time_varying() {
        assert_eq!(
            split_timed("indegree@2009-03-01/2009-03-10"),
            Some(("indegree", "2009-03-01/2009-03-10"))
        );
        assert_eq!(split_timed("a@b@2005"), Some(("a@b", "2005")));
        assert_eq!(split_timed("contact@example.org"), None);
        assert_eq!(split_timed("@2005"), None);
        assert_eq!(split_timed("email"), None);
    }

    #[test]
    fn gexf_time_lists_become_spells() {
        assert_eq!(
            time_list("<[2019-03-20, 2019-03-21]>", false).unwrap(),
            ["2019-03-20", "2019-03-21"]
        );
        assert_eq!(
            time_list("<[4.0, 14.0]; [21.0, 124.0]>", true).unwrap(),
            ["4.0/14.0", "21.0/124.0"]
        );
        assert!(time_list("<[4.0]>", true).is_err());
    }
}
