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
//!   the file's `timeformat` says, a dateTime without offset with the graph's timezone
//!   applied); each must read as one of the four.
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
//! Nested nodes are collection membership: a node inside another's `<nodes>`, naming a
//! `pid`, or listing `<parents>` (several collections) becomes an entity of its own with a
//! directed `member_of` link to each parent (child → parent), one per pair however many ways
//! the file says it. The writer turns member_of links back into nesting: `pid` for a node
//! with one parent, `<parents>` for several (both in the 1.3 schema; `pid` rather than nested
//! `<nodes>` because networkx's reader drops a node that holds `<nodes>` and Gephi reads
//! both as flat nodes), and what each membership link held (weight, label, strength,
//! grading, provenance, values) goes in the child's `copkit:memberships` attribute. Edges may
//! name nodes at any level.
//!
//! The graph's `timezone` (an IANA name or an offset) is applied to every dateTime without an
//! offset: it is read with the offset the zone had then (`2012-09-12T15:04:01` under
//! America/Los_Angeles is `2012-09-12T15:04:01-07:00`). A time that does not parse fails the
//! file with its line, or in lenient mode rejects only its node or edge (and the edges that
//! hang on a rejected node), each reject with its line and field.

use super::IoError;
use super::export::Selection;
use super::graphml::{
    GraphOptions, Item, Key, Parsed, attrs_json, import_parsed, line_of, to_json, xml_text,
};
use super::report::{ImportReport, RowProblem};
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

/// The graph's `timezone` (GEXF 1.3): an IANA zone name (`Europe/Paris`, `UTC`) or a fixed
/// offset (`+02:00`, `-0500`, `Z`), the forms Gephi's reader accepts.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Zone {
    Named(chrono_tz::Tz),
    Fixed(chrono::FixedOffset),
}

fn parse_zone(z: &str) -> Option<Zone> {
    let z = z.trim();
    if let Ok(tz) = z.parse::<chrono_tz::Tz>() {
        return Some(Zone::Named(tz));
    }
    if z == "Z" {
        return chrono::FixedOffset::east_opt(0).map(Zone::Fixed);
    }
    let (sign, rest) = match z.as_bytes().first()? {
        b'+' => (1, &z[1..]),
        b'-' => (-1, &z[1..]),
        _ => return None,
    };
    let (h, m) = match (rest.len(), rest.split_once(':')) {
        (5, Some((h, m))) => (h, m),
        (4, None) => rest.split_at(2),
        (2, None) => (rest, "00"),
        _ => return None,
    };
    if !(h.len() == 2 && m.len() == 2 && (h.to_string() + m).bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if h > 23 || m > 59 {
        return None;
    }
    chrono::FixedOffset::east_opt(sign * (h * 3600 + m * 60)).map(Zone::Fixed)
}

/// One time with the graph's zone applied: a dateTime without an offset gets the offset the
/// zone had at that moment (written after the time as given); any other time stays as
/// written (a date is a calendar day, integers and doubles have no zone). A local time the
/// zone skips (a clock change) is refused; one it repeats takes the earlier offset, with a
/// note.
fn zoned_time(t: &str, zone: Zone, notes: &mut Vec<String>) -> Result<String, String> {
    use chrono::LocalResult;
    if time_kind(t) != Some(TimeKind::DateTime) || chrono::DateTime::parse_from_rfc3339(t).is_ok() {
        return Ok(t.to_string());
    }
    let (naive, seconds) = match chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f") {
        Ok(n) => (n, true),
        Err(_) => match chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M") {
            Ok(n) => (n, false),
            Err(_) => return Ok(t.to_string()),
        },
    };
    let local = match zone {
        Zone::Named(tz) => naive.and_local_timezone(tz).map(|d| d.fixed_offset()),
        Zone::Fixed(o) => naive.and_local_timezone(o),
    };
    let at = match local {
        LocalResult::Single(d) => d,
        LocalResult::Ambiguous(early, _) => {
            notes.push(format!(
                "'{t}' happens twice in the graph's time zone (the clocks went back); read with the earlier offset {}",
                early.offset()
            ));
            early
        }
        LocalResult::None => {
            return Err(format!(
                "'{t}' does not exist in the graph's time zone (the clocks skipped it)"
            ));
        }
    };
    Ok(if seconds {
        format!("{t}{}", at.offset())
    } else {
        at.to_rfc3339()
    })
}

/// Checks each spell text as a GEXF time and applies the graph's zone to its bounds. The
/// reason, when one is no time or not in the zone.
fn check_spells(
    spells: Vec<String>,
    what: &str,
    zone: Option<Zone>,
    notes: &mut Vec<String>,
) -> Result<Vec<String>, String> {
    let mut out = Vec::with_capacity(spells.len());
    for s in spells {
        if parse_spell(&s).is_none() {
            // The bound that is no time, not the interval text made of it.
            let bad = s
                .split_once('/')
                .and_then(|(a, b)| [a, b].into_iter().find(|x| open_bound(x).is_none()))
                .unwrap_or(&s);
            return Err(format!(
                "{what}: '{bad}' is no GEXF time (an integer, a double, a date yyyy-mm-dd or a dateTime)"
            ));
        }
        let Some(zone) = zone else {
            out.push(s);
            continue;
        };
        let mut one = |b: &str| -> Result<String, String> {
            let b = b.trim();
            if b == ".." {
                Ok(b.to_string())
            } else {
                zoned_time(b, zone, notes).map_err(|r| format!("{what}: {r}"))
            }
        };
        out.push(match s.split_once('/') {
            None => one(&s)?,
            Some((a, b)) => format!("{}/{}", one(a)?, one(b)?),
        });
    }
    Ok(out)
}

/// The fields of a `copkit:memberships` entry, as the edge keys of a member_of link.
const MEMBERSHIP_FIELDS: &[(&str, &str)] = &[
    ("weight", "double"),
    ("label", "string"),
    ("copkit:strength", "string"),
    ("copkit:source_id", "string"),
    ("copkit:grading", "string"),
    ("copkit:provenance", "string"),
    ("copkit:attributes", "string"),
];

/// The node attribute that carries, for a node written nested (`pid` or `<parents>`), what
/// each membership link held beyond its two ends: a JSON list of objects naming the
/// `parent` node and the link's [`MEMBERSHIP_FIELDS`].
const MEMBERSHIPS: &str = "copkit:memberships";

/// A membership's link data from one `copkit:memberships` entry: (parent, edge data).
type Membership = (String, Vec<(String, String, String)>);

fn memberships_of(json: &str) -> Result<Vec<Membership>, String> {
    let list: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(json).map_err(|e| format!("not a JSON list of memberships ({e})"))?;
    let mut out = Vec::new();
    for m in list {
        let mut parent = None;
        let mut data = Vec::new();
        for (k, v) in m {
            let text = match &v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if k == "parent" {
                parent = Some(text);
            } else if MEMBERSHIP_FIELDS.iter().any(|(f, _)| *f == k) {
                data.push((format!("member:{k}"), text, String::new()));
            } else {
                return Err(format!(
                    "a membership has a field '{k}' COPKIT does not write"
                ));
            }
        }
        let parent = parent.ok_or("a membership names no parent")?;
        out.push((parent, data));
    }
    Ok(out)
}

/// What the parser set aside in lenient mode (elements with a bad time, and what hangs on
/// them) and noted, for the import report.
#[derive(Default)]
struct ParseNotes {
    rejected: Vec<RowProblem>,
    warnings: Vec<RowProblem>,
}

/// An element being read, and why it will be rejected if something in it was bad.
type Open = (Item, Option<(String, String)>);

/// A link between a nested node and its parent, as an edge of the parsed file.
fn parent_edge(child: &str, parent: &str, line: u64) -> Item {
    Item {
        id: String::new(),
        line,
        source: child.to_string(),
        target: parent.to_string(),
        directed: Some(true),
        data: vec![("kind".into(), "member_of".into(), String::new())],
    }
}

/// An element's label in a reject, as the GraphML importer words it.
fn element_label(is_node: bool, item: &Item) -> String {
    match (is_node, item.id.is_empty()) {
        (true, _) => format!("node {}", item.id),
        (false, true) => format!("edge {}->{}", item.source, item.target),
        (false, false) => format!("edge {}", item.id),
    }
}

fn parse(
    path: &Path,
    text: &str,
    limits: &super::Limits,
    lenient: bool,
) -> Result<(Parsed, ParseNotes), IoError> {
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
    for (name, kind) in MEMBERSHIP_FIELDS {
        keys.insert(
            format!("member:{name}"),
            Key {
                name: (*name).into(),
                kind: (*kind).into(),
            },
        );
    }
    let mut notes = ParseNotes::default();
    let mut directed_default = false;
    let mut zone: Option<Zone> = None;
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    let mut depth = 0usize;
    let mut class = "node".to_string();
    // The nodes open around the parser (a node's children sit in its own <nodes>), and the
    // edge open, if any (edges hold no nodes), each with the reason it will be rejected
    // (lenient mode) if one of its times is bad.
    let mut open: Vec<Open> = Vec::new();
    let mut edge: Option<Open> = None;
    // Nodes rejected (lenient mode), by id, with their line: edges to them are rejected too.
    let mut rejected_nodes: HashMap<String, u64> = HashMap::new();
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
    // A rejected element's reject, worded as the GraphML importer words its own.
    let reject = |is_node: bool, item: &Item, (field, reason): (String, String)| RowProblem {
        line: item.line,
        field: Some(field),
        reason: format!("{}: {reason}", element_label(is_node, item)),
    };
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
            // Every time a file gives must read as one of GEXF's time formats. A bad one
            // fails the file, or in lenient mode its element (the reason is kept).
            let mut zone_notes = Vec::new();
            let mut notes_of_graph = Vec::new();
            let mut checked =
                |spells: Vec<String>, what: &str| check_spells(spells, what, zone, &mut zone_notes);
            let refuse = |reason: String| -> Result<String, IoError> {
                if lenient {
                    Ok(reason)
                } else {
                    Err(perr(pos, reason))
                }
            };
            match name {
                "gexf" => saw_root = true,
                "graph" if !graph_seen => {
                    graph_seen = true;
                    directed_default = a("defaultedgetype")?.as_deref() != Some("undirected");
                    if let Some(z) = a("timezone")?.filter(|z| !z.trim().is_empty()) {
                        zone = Some(parse_zone(&z).ok_or_else(|| {
                            perr(
                                pos,
                                format!(
                                    "the graph's timezone '{z}' is neither a time zone name (Europe/Paris, UTC) nor an offset (+02:00)"
                                ),
                            )
                        })?);
                    }
                    if a("mode")?.as_deref() == Some("slice") {
                        slice_spells = check_spells(
                            spells_of(&a)?,
                            "the graph's time",
                            zone,
                            &mut notes_of_graph,
                        )
                        .map_err(|r| perr(pos, r))?;
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
                    let mut bad = None;
                    let mut spells = spells_of(&a)?;
                    for (list, intervals) in [("timestamps", false), ("intervals", true)] {
                        if let Some(v) = a(list)? {
                            match time_list(&v, intervals) {
                                Ok(t) => spells.extend(t),
                                Err(r) => bad = Some((list.to_string(), refuse(r)?)),
                            }
                        }
                    }
                    match checked(spells, &format!("<{name}> time")) {
                        Ok(spells) => {
                            for s in spells {
                                item.data.push((SPELL.into(), s, String::new()));
                            }
                        }
                        Err(r) => {
                            bad = bad.or(Some((SPELL.to_string(), refuse(r)?)));
                        }
                    }
                    if is_node {
                        let parent = open.last().map(|(p, _)| p.id.clone());
                        if let Some(p) = &parent {
                            parent_edges.push(parent_edge(&item.id, p, item.line));
                        }
                        if let Some(pid) = a("pid")?.filter(|p| Some(p) != parent.as_ref()) {
                            parent_edges.push(parent_edge(&item.id, &pid, item.line));
                        }
                    }
                    match (empty, is_node, bad) {
                        (true, _, Some(bad)) => {
                            if is_node {
                                rejected_nodes.insert(item.id.clone(), item.line);
                            }
                            notes.rejected.push(reject(is_node, &item, bad));
                        }
                        (true, true, None) => nodes.push(item),
                        (true, false, None) => edges.push(item),
                        (false, true, bad) => open.push((item, bad)),
                        (false, false, bad) => edge = Some((item, bad)),
                    }
                }
                // Parents (GEXF's phylogeny) are memberships as `pid` is: a node in several
                // collections names them all here.
                "parent" => {
                    if let (Some((node, _)), Some(of)) = (open.last(), a("for")?) {
                        parent_edges.push(parent_edge(&node.id, &of, node.line));
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
                    let spells = checked(spells_of(&a)?, "<attvalue> time");
                    if let Some((item, bad)) = edge.as_mut().or(open.last_mut()) {
                        let key = format!("{}:{id}", if is_node { "node" } else { "edge" });
                        let Some(declared) = keys.get(&key).cloned() else {
                            return Err(perr(
                                pos,
                                format!(
                                    "<attvalue for=\"{id}\"> names an attribute no <attribute> element declares"
                                ),
                            ));
                        };
                        let spells = match spells {
                            Ok(s) => s,
                            Err(r) => {
                                let r = refuse(format!("{r} (line {})", line_of(text, pos)))?;
                                bad.get_or_insert((declared.name.clone(), r));
                                continue;
                            }
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
                    let spells = checked(spells_of(&a)?, &format!("<{name}>"));
                    if let Some((item, bad)) = edge.as_mut().or(open.last_mut()) {
                        match spells {
                            Ok(spells) => {
                                for s in spells {
                                    item.data.push((SPELL.into(), s, String::new()));
                                }
                            }
                            Err(r) => {
                                let r = refuse(format!("{r} (line {})", line_of(text, pos)))?;
                                bad.get_or_insert((SPELL.to_string(), r));
                            }
                        }
                    }
                }
                _ => {}
            }
            zone_notes.append(&mut notes_of_graph);
            if !zone_notes.is_empty() {
                let line = line_of(text, pos);
                notes
                    .warnings
                    .extend(zone_notes.into_iter().map(|reason| RowProblem {
                        line,
                        field: Some(SPELL.into()),
                        reason,
                    }));
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
                    "node" => match open.pop() {
                        Some((item, None)) => nodes.push(item),
                        Some((item, Some(bad))) => {
                            rejected_nodes.insert(item.id.clone(), item.line);
                            notes.rejected.push(reject(true, &item, bad));
                        }
                        None => {}
                    },
                    "edge" => match edge.take() {
                        Some((item, None)) => edges.push(item),
                        Some((item, Some(bad))) => notes.rejected.push(reject(false, &item, bad)),
                        None => {}
                    },
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
    // What a membership link held (our own export writes it on the child node): taken off
    // the node, given to its link below.
    let mut held: HashMap<String, Vec<Membership>> = HashMap::new();
    let mut kept = Vec::with_capacity(nodes.len());
    for mut n in nodes {
        let (mine, rest): (Vec<_>, Vec<_>) = n
            .data
            .into_iter()
            .partition(|(k, _, _)| keys.get(k).is_some_and(|k| k.name == MEMBERSHIPS));
        n.data = rest;
        let mut list = Vec::new();
        let mut bad = None;
        for (_, v, _) in mine {
            match memberships_of(&v) {
                Ok(m) => list.extend(m),
                Err(r) => bad = Some(r),
            }
        }
        if let Some(r) = bad {
            if !lenient {
                return Err(IoError::Parse {
                    path: path.to_path_buf(),
                    location: format!("line {}", n.line),
                    reason: format!("node {}, field '{MEMBERSHIPS}': {r}", n.id),
                });
            }
            rejected_nodes.insert(n.id.clone(), n.line);
            notes
                .rejected
                .push(reject(true, &n, (MEMBERSHIPS.to_string(), r)));
            continue;
        }
        if !list.is_empty() {
            held.entry(n.id.clone()).or_default().extend(list);
        }
        kept.push(n);
    }
    let nodes = kept;
    // One membership per child and parent, however many ways the file says it (nesting, pid,
    // <parents>).
    let mut seen = std::collections::HashSet::new();
    parent_edges.retain(|e| seen.insert((e.source.clone(), e.target.clone())));
    for e in &mut parent_edges {
        if let Some(list) = held.get_mut(&e.source)
            && let Some(i) = list.iter().position(|(p, _)| *p == e.target)
        {
            let (_, data) = list.swap_remove(i);
            e.data.extend(data);
        }
    }
    edges.append(&mut parent_edges);
    // Edges that hang on a rejected node go with it, saying so (not "not in the file").
    if !rejected_nodes.is_empty() {
        let accepted: std::collections::HashSet<&str> =
            nodes.iter().map(|n| n.id.as_str()).collect();
        let mut kept = Vec::with_capacity(edges.len());
        for e in edges {
            let gone = [(&e.source, "source"), (&e.target, "target")]
                .into_iter()
                .find(|(end, _)| {
                    rejected_nodes.contains_key(end.as_str()) && !accepted.contains(end.as_str())
                });
            match gone {
                Some((end, field)) => notes.rejected.push(RowProblem {
                    line: e.line,
                    field: Some(field.into()),
                    reason: format!(
                        "{}: node '{end}' was rejected (line {})",
                        element_label(false, &e),
                        rejected_nodes[end.as_str()]
                    ),
                }),
                None => kept.push(e),
            }
        }
        edges = kept;
    }
    Ok((
        Parsed {
            keys,
            directed_default,
            nodes,
            edges,
        },
        notes,
    ))
}

/// Imports a GEXF file as one batch. In lenient mode an element with a bad time is rejected
/// (with its line) and the rest imported; otherwise it fails the file.
pub fn import_gexf(
    case: &mut Case,
    path: &Path,
    opts: &GraphOptions,
    cancel: &CancelToken,
) -> Result<ImportReport, IoError> {
    let (src, decoded) = super::read_source_text(path, &opts.limits, "a GEXF (XML) file")?;
    let (parsed, notes) = parse(path, &decoded.text, &opts.limits, opts.lenient)?;
    let mut report = import_parsed(
        case,
        path,
        &src,
        decoded.encoding,
        parsed,
        opts,
        cancel,
        "gexf",
    )?;
    let set_aside = notes.rejected.len() as u64;
    report.rows_read += set_aside;
    report.rows_rejected += set_aside;
    report.rejected.extend(notes.rejected);
    report.rejected.sort_by_key(|r| r.line);
    report.warnings.extend(notes.warnings);
    report.warnings.sort_by_key(|r| r.line);
    Ok(report)
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

/// The member_of links written as GEXF nesting rather than as edges: a directed link from a
/// child to another entity of the export, one per (child, parent) pair (a second link for
/// the same pair stays an edge).
struct Nesting<'a> {
    /// Each child's membership links, in the selection's order.
    parents: HashMap<crate::model::EntityId, Vec<&'a crate::model::Link>>,
    written: std::collections::HashSet<crate::model::LinkId>,
}

impl<'a> Nesting<'a> {
    fn of(sel: &Selection<'a>) -> Nesting<'a> {
        let ids: std::collections::HashSet<_> = sel.entities.iter().map(|e| e.id).collect();
        let mut out = Nesting {
            parents: HashMap::new(),
            written: std::collections::HashSet::new(),
        };
        for l in &sel.links {
            if l.link_type != "member_of"
                || !l.directed
                || l.source == l.target
                || !ids.contains(&l.source)
                || !ids.contains(&l.target)
            {
                continue;
            }
            let list = out.parents.entry(l.source).or_default();
            if list.iter().all(|p| p.target != l.target) {
                list.push(l);
                out.written.insert(l.id);
            }
        }
        out
    }
}

/// What each membership link holds beyond its ends, for `copkit:memberships`.
fn memberships_json(links: &[&crate::model::Link]) -> String {
    let list: Vec<serde_json::Value> = links
        .iter()
        .map(|l| {
            let mut m = serde_json::Map::new();
            m.insert("parent".into(), l.target.to_string().into());
            if let Some(w) = l.weight {
                m.insert("weight".into(), w.into());
            }
            if let Some(lb) = &l.label {
                m.insert("label".into(), lb.clone().into());
            }
            m.insert("copkit:strength".into(), l.strength.as_str().into());
            if let Some(s) = &l.source_id {
                m.insert("copkit:source_id".into(), s.clone().into());
            }
            if l.grading.is_some() {
                m.insert("copkit:grading".into(), to_json(&l.grading).into());
            }
            m.insert("copkit:provenance".into(), to_json(&l.provenance).into());
            m.insert("copkit:attributes".into(), attrs_json(&l.attributes).into());
            serde_json::Value::Object(m)
        })
        .collect();
    serde_json::to_string(&list).unwrap_or_default()
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
    let nesting = Nesting::of(sel);
    let node_attrs = [
        "type",
        "copkit:source_id",
        "copkit:category",
        "copkit:grading",
        "copkit:provenance",
        "copkit:attributes",
        "copkit:synthetic",
        MEMBERSHIPS,
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
        let parents = nesting.parents.get(&e.id).map_or(&[][..], Vec::as_slice);
        // One parent is a `pid`; a node in several collections names them in <parents>.
        let pid = match parents {
            [only] => format!(" pid=\"{}\"", only.target),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "      <node id=\"{}\" label=\"{}\"{pid}>",
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
        if !parents.is_empty() {
            v.push((MEMBERSHIPS, memberships_json(parents)));
        }
        let mut v: Vec<(String, String)> = v.into_iter().map(|(t, x)| (t.to_string(), x)).collect();
        column_values(&node_cols, &times.plain, &mut v);
        attvalues(&mut out, &node_list, &node_dynamic, &v, times, &mut dropped);
        if parents.len() > 1 {
            out.push_str("        <parents>\n");
            for l in parents {
                let _ = writeln!(out, "          <parent for=\"{}\"/>", l.target);
            }
            out.push_str("        </parents>\n");
        }
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
        if nesting.written.contains(&l.id) {
            continue;
        }
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
    let timed_memberships = sel
        .links
        .iter()
        .zip(&link_times)
        .filter(|(l, t)| {
            nesting.written.contains(&l.id) && !(t.spells.is_empty() && t.timed.is_empty())
        })
        .count();
    if timed_memberships > 0 {
        cannot.push(format!(
            "{timed_memberships} member_of links with spells or time-varying values, written as nesting (pid or <parents>): a membership has no time in GEXF, so their times travel only in copkit:memberships"
        ));
    }
    cannot.extend(super::export::notes_and_reviews_not_carried(sel, "GEXF"));
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

    #[test]
    fn a_zone_is_a_name_or_an_offset() {
        let east = |s| chrono::FixedOffset::east_opt(s).map(Zone::Fixed);
        assert_eq!(parse_zone("+05:30"), east(5 * 3600 + 1800));
        assert_eq!(parse_zone("-0500"), east(-5 * 3600));
        assert_eq!(parse_zone("+02"), east(2 * 3600));
        assert_eq!(parse_zone("Z"), east(0));
        assert_eq!(
            parse_zone("Europe/Paris"),
            Some(Zone::Named(chrono_tz::Tz::Europe__Paris))
        );
        assert_eq!(parse_zone("UTC"), Some(Zone::Named(chrono_tz::Tz::UTC)));
        for bad in ["Mars/Olympus", "+25:00", "+5:30", "+05:3x", "", "0530"] {
            assert_eq!(parse_zone(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_a_datetime_without_an_offset_takes_the_zone() {
        let paris = Zone::Named(chrono_tz::Tz::Europe__Paris);
        let mut notes = Vec::new();
        let mut z = |t| zoned_time(t, paris, &mut notes);
        assert_eq!(
            z("2020-06-01T10:00:00").unwrap(),
            "2020-06-01T10:00:00+02:00"
        );
        assert_eq!(z("2020-12-01T10:00").unwrap(), "2020-12-01T10:00:00+01:00");
        assert_eq!(z("2020-06-01T10:00:00Z").unwrap(), "2020-06-01T10:00:00Z");
        assert_eq!(z("2020-06-01").unwrap(), "2020-06-01");
        assert_eq!(z("12.5").unwrap(), "12.5");
        assert!(
            z("2020-03-29T02:30:00").is_err(),
            "the hour the clocks skip"
        );
        assert_eq!(
            check_spells(
                vec!["2020-06-01T10:00:00/..".into()],
                "t",
                Some(paris),
                &mut notes
            )
            .unwrap(),
            ["2020-06-01T10:00:00+02:00/.."]
        );
        assert!(
            check_spells(vec!["2020-06-01/soon".into()], "t", None, &mut notes)
                .unwrap_err()
                .contains("'soon' is no GEXF time")
        );
    }
}
