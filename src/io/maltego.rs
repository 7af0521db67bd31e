//! Maltego graphs (.mtgx): a zip holding GraphML with Maltego's entity markup.
//!
//! The zip is checked through its central directory before anything is inflated: the entry
//! count, the total declared size, each entry's compression ratio and names that climb out
//! (`../`) are bounded or refused, and each entry read is cut at its declared size (a header
//! that lies is refused). Every `Graphs/*.graphml` entry is read (an .mtgx without one is
//! refused), and the `Entities/*.entity` definitions are read for the main property of custom
//! entity types.
//!
//! In the GraphML, each node holds `<mtg:MaltegoEntity type="maltego.Person">` with
//! `<mtg:Properties>` of `<mtg:Property name=... type=...><mtg:Value>`; each edge holds
//! `<mtg:MaltegoLink type="maltego.link.manual-link">` with its properties. They become one
//! import batch through the GraphML importer:
//! - Entity types: Person → Person; PhoneNumber → Phone; EmailAddress → Email; Company,
//!   Organization and OnlineGroup → Organization; Location → Location; Domain, DNSName,
//!   Website, URL, Alias and the `maltego.affiliation.*` social network types → OnlineAccount
//!   (a presence online); IPv4Address, IPv6Address, Netblock, MXRecord and NSRecord → Device;
//!   Document, Image and File → Document; BankAccount → BankAccount; Vehicle → Vehicle. Every
//!   entity keeps its Maltego type as attribute `maltegoType`; an unknown type takes the
//!   import's default type.
//! - The label is the entity's main property (person.fullname, phonenumber, email, title,
//!   location.name, fqdn, url, ipv4-address, ..., or the one a custom type's `.entity` file
//!   names), else a direct `<mtg:Value>`, else its first non-empty property.
//! - Every non-empty property is kept as an attribute under its Maltego name, its value as
//!   given; a few are also copied to our properties (person.firstnames → firstName,
//!   person.lastname → lastName, phonenumber → number, streetaddress → street) so that matching
//!   and validation see them. A property whose name our GraphML reader reserves (`type`,
//!   `label`, `weight`, `copkit:...`) is kept as `maltego:<name>`.
//! - The source id is Maltego's entity id when it has one (else the graph entry and node id).
//! - Links are typed by the label the analyst gave (`maltego.link.manual.type`, else
//!   `maltego.link.label`, else a transform's display name); an unlabelled link takes the
//!   import's default link type. The Maltego link type is kept as `maltegoLinkType`,
//!   `maltego.link.weight` becomes the link weight, other properties are kept except the purely
//!   visual ones (show-label, style, thickness, colour).
//! - The analyst's notes (property `notes#`, as Maltego's transform libraries name it, or
//!   `maltego.entity.notes`, or an `<mtg:Notes>` element) become attribute `notes`; the
//!   bookmark (`bookmark#`, 0 to 4) becomes attribute `bookmark` with its colour (blue, green,
//!   yellow, orange, red; -1, none, is not kept).
//! - An entity that more than one graph of the file shows (the same Maltego entity id, as
//!   graph tabs that share an entity do) is one entity: its properties unioned, a value that
//!   differs reported as a warning (both kept; for type, label and weight the first graph's).
//!   The same for a link id seen twice.
//!
//! The GraphML reader (`graphml`'s private `parse`) is not reused for the graph entries: it keeps the
//! text of each `<data>` element, and Maltego's values sit in nested `mtg:` elements inside
//! one (`MaltegoEntity/Properties/Property/Value`), so this module reads them with a loop of
//! its own, with the same hardening (DOCTYPE refused, depth and field size bounded), and
//! hands the result to the GraphML importer's batch writer (`import_parsed`) in its shape.

use super::graphml::{GraphOptions, Item, Key, LineCounter, Parsed, attr, check_depth, line_of};
use super::report::RowProblem;
use super::{ImportReport, IoError, SourceBytes, read_source};
use crate::jobs::CancelToken;
use crate::store::Case;
use quick_xml::events::Event as X;
use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::path::Path;

/// Maltego entity types and ours.
const TYPES: &[(&str, &str)] = &[
    ("maltego.Person", "Person"),
    ("maltego.PhoneNumber", "Phone"),
    ("maltego.EmailAddress", "Email"),
    ("maltego.Company", "Organization"),
    ("maltego.Organization", "Organization"),
    ("maltego.OnlineGroup", "Organization"),
    ("maltego.Location", "Location"),
    ("maltego.Domain", "OnlineAccount"),
    ("maltego.DNSName", "OnlineAccount"),
    ("maltego.Website", "OnlineAccount"),
    ("maltego.URL", "OnlineAccount"),
    ("maltego.Alias", "OnlineAccount"),
    ("maltego.IPv4Address", "Device"),
    ("maltego.IPv6Address", "Device"),
    ("maltego.Netblock", "Device"),
    ("maltego.MXRecord", "Device"),
    ("maltego.NSRecord", "Device"),
    ("maltego.Document", "Document"),
    ("maltego.Image", "Document"),
    ("maltego.File", "Document"),
    ("maltego.BankAccount", "BankAccount"),
    ("maltego.Vehicle", "Vehicle"),
];

/// The main (value) property of Maltego's standard entity types.
const MAIN: &[(&str, &str)] = &[
    ("maltego.Person", "person.fullname"),
    ("maltego.PhoneNumber", "phonenumber"),
    ("maltego.EmailAddress", "email"),
    ("maltego.Company", "title"),
    ("maltego.Organization", "title"),
    ("maltego.OnlineGroup", "title"),
    ("maltego.Location", "location.name"),
    ("maltego.Domain", "fqdn"),
    ("maltego.DNSName", "fqdn"),
    ("maltego.Website", "fqdn"),
    ("maltego.URL", "url"),
    ("maltego.Alias", "alias"),
    ("maltego.IPv4Address", "ipv4-address"),
    ("maltego.IPv6Address", "ipv6-address"),
    ("maltego.Netblock", "ipv4-range"),
    ("maltego.MXRecord", "fqdn"),
    ("maltego.NSRecord", "fqdn"),
    ("maltego.Phrase", "text"),
    ("maltego.Document", "title"),
    ("maltego.Image", "description"),
    ("maltego.File", "source"),
];

/// Maltego properties also copied to one of ours.
const COPIED: &[(&str, &str)] = &[
    ("person.firstnames", "firstName"),
    ("person.lastname", "lastName"),
    ("phonenumber", "number"),
    ("streetaddress", "street"),
];

/// Link properties that only draw the link.
const VISUAL: &[&str] = &[
    "maltego.link.show-label",
    "maltego.link.style",
    "maltego.link.thickness",
    "maltego.link.color",
];

/// Names our GraphML reader gives a meaning of its own.
fn reserved(name: &str) -> bool {
    matches!(
        name,
        "type" | "entity_type" | "label" | "weight" | "link_type" | "relation"
    ) || name.starts_with("copkit:")
        || name.starts_with("spell:")
}

/// One `<mtg:Property>` as read.
struct Property {
    name: String,
    value: String,
}

/// A node or edge with its Maltego markup.
#[derive(Default)]
struct Element {
    id: String,
    line: u64,
    source: String,
    target: String,
    maltego_type: String,
    maltego_id: Option<String>,
    direct_value: Option<String>,
    /// The text of an `<mtg:Notes>` element, if the entity has one.
    notes: Option<String>,
    properties: Vec<Property>,
}

/// The entity properties that hold the analyst's notes: `notes#` (as Maltego's transform
/// libraries name it) or `maltego.entity.notes`.
const NOTES: &[&str] = &["notes#", "maltego.entity.notes"];

/// The entity property that holds the bookmark colour, and its values (-1 is none).
const BOOKMARK: &str = "bookmark#";
const BOOKMARK_COLOURS: &[(&str, &str)] = &[
    ("0", "blue"),
    ("1", "green"),
    ("2", "yellow"),
    ("3", "orange"),
    ("4", "red"),
];

fn zip_error(path: &Path, reason: String) -> IoError {
    IoError::Parse {
        path: path.to_path_buf(),
        location: "zip container".into(),
        reason,
    }
}

/// Reads one entry, never past its declared size (nor the file size bound).
fn read_entry(
    path: &Path,
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    i: usize,
    max: u64,
) -> Result<(String, Vec<u8>), IoError> {
    let entry = archive
        .by_index(i)
        .map_err(|e| zip_error(path, format!("entry {i} is unreadable ({e})")))?;
    let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
    let declared = entry.size();
    if declared > max {
        return Err(IoError::Bound {
            path: path.to_path_buf(),
            bound: "max_file_bytes",
            detail: format!("entry '{name}' has {declared} bytes, the limit is {max}"),
        });
    }
    let mut bytes = Vec::with_capacity(declared as usize);
    entry
        .take(declared + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| zip_error(path, format!("entry '{name}' cannot be inflated ({e})")))?;
    if bytes.len() as u64 > declared {
        return Err(zip_error(
            path,
            format!(
                "entry '{name}' inflates to more than the {declared} bytes its header declares; refused"
            ),
        ));
    }
    Ok((name, bytes))
}

/// The main property of custom entity types, from `Entities/*.entity` (`<MaltegoEntity id=...>`
/// with `<Properties value=...>`).
fn entity_definition(text: &str) -> Option<(String, String)> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut id = None;
    loop {
        match reader.read_event() {
            Ok(X::Start(e) | X::Empty(e)) => match local(&e).as_str() {
                "MaltegoEntity" => id = attr(&e, "id").ok().flatten(),
                "Properties" => {
                    let value = attr(&e, "value").ok().flatten()?;
                    return id.map(|id| (id, value));
                }
                _ => {}
            },
            Ok(X::DocType(_)) | Ok(X::Eof) | Err(_) => return None,
            _ => {}
        }
    }
}

/// An element's name without its namespace prefix (`mtg:Property` → `Property`).
fn local(e: &quick_xml::events::BytesStart<'_>) -> String {
    let name = e.local_name();
    let name: &str = name.as_ref();
    name.to_string()
}

/// Reads the nodes and edges of one Maltego GraphML text.
fn parse_graph(
    path: &Path,
    entry: &str,
    text: &str,
    opts: &GraphOptions,
) -> Result<(Vec<Element>, Vec<Element>), IoError> {
    let mut reader = quick_xml::Reader::from_str(text);
    let perr = |offset: u64, reason: String| IoError::Parse {
        path: path.to_path_buf(),
        location: format!("{entry}, line {}", line_of(text, offset)),
        reason,
    };
    let mut lines = LineCounter::new(text);
    let (mut nodes, mut edges) = (Vec::new(), Vec::new());
    let mut current: Option<(bool, Element)> = None;
    let mut property: Option<Property> = None;
    let mut value: Option<String> = None;
    // Whether the text being read is an <mtg:Notes> element's rather than a <mtg:Value>'s.
    let mut in_notes = false;
    let mut depth = 0usize;
    let mut saw_root = false;
    loop {
        let pos = reader.buffer_position();
        let ev = reader
            .read_event()
            .map_err(|e| perr(reader.error_position(), format!("malformed XML: {e}")))?;
        match ev {
            X::Start(ref e) | X::Empty(ref e) => {
                let empty = matches!(ev, X::Empty(_));
                if !empty {
                    depth += 1;
                    check_depth(depth, &opts.limits, path, text, pos)?;
                }
                let a = |n: &str| attr(e, n).map_err(|r| perr(pos, r));
                match local(e).as_str() {
                    "graphml" => saw_root = true,
                    name @ ("node" | "edge") => {
                        let is_node = name == "node";
                        let mut el = Element {
                            id: a("id")?.unwrap_or_default(),
                            line: lines.line_at(pos),
                            ..Element::default()
                        };
                        if is_node && el.id.is_empty() {
                            return Err(perr(pos, "a <node> has no id".into()));
                        }
                        if !is_node {
                            el.source = a("source")?
                                .ok_or_else(|| perr(pos, "an <edge> has no source".into()))?;
                            el.target = a("target")?
                                .ok_or_else(|| perr(pos, "an <edge> has no target".into()))?;
                        }
                        if empty {
                            if is_node {
                                nodes.push(el)
                            } else {
                                edges.push(el)
                            }
                        } else {
                            current = Some((is_node, el));
                        }
                    }
                    "MaltegoEntity" | "MaltegoLink" => {
                        if let Some((_, el)) = current.as_mut() {
                            el.maltego_type = a("type")?.unwrap_or_default();
                            el.maltego_id = a("id")?.filter(|i| !i.trim().is_empty());
                        }
                    }
                    "Property" => {
                        property = Some(Property {
                            name: a("name")?.unwrap_or_default(),
                            value: String::new(),
                        });
                    }
                    "Value" if !empty => value = Some(String::new()),
                    "Notes" if !empty && current.is_some() => {
                        value = Some(String::new());
                        in_notes = true;
                    }
                    _ => {}
                }
            }
            X::DocType(_) => {
                return Err(perr(
                    pos,
                    "the graph declares a DOCTYPE; Maltego writes none and entity declarations are refused (they can expand without bound or read other files)".into(),
                ));
            }
            X::Text(t) => {
                if let Some(v) = value.as_mut() {
                    v.push_str(&t.into_inner());
                    if v.len() > opts.limits.max_field_bytes {
                        return Err(IoError::Bound {
                            path: path.to_path_buf(),
                            bound: "max_field_bytes",
                            detail: format!(
                                "a value in {entry} at line {} is longer than {} bytes",
                                line_of(text, pos),
                                opts.limits.max_field_bytes
                            ),
                        });
                    }
                }
            }
            X::CData(t) => {
                if let Some(v) = value.as_mut() {
                    v.push_str(&t.into_inner());
                }
            }
            X::GeneralRef(r) => {
                if let Some(v) = value.as_mut() {
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
                    match c {
                        Some(c) => v.push(c),
                        None => return Err(perr(pos, "an undeclared entity reference".into())),
                    }
                }
            }
            X::End(e) => {
                depth = depth.saturating_sub(1);
                let name = e.local_name();
                let name: &str = name.as_ref();
                match name {
                    "Notes" => {
                        if let (Some(v), Some((_, el))) = (value.take(), current.as_mut()) {
                            el.notes = Some(v);
                        }
                        in_notes = false;
                    }
                    "Value" if !in_notes => {
                        if let Some(v) = value.take() {
                            match (property.as_mut(), current.as_mut()) {
                                (Some(p), _) => p.value = v,
                                (None, Some((_, el))) => el.direct_value = Some(v),
                                _ => {}
                            }
                        }
                    }
                    "Property" => {
                        if let (Some(p), Some((_, el))) = (property.take(), current.as_mut()) {
                            el.properties.push(p);
                        }
                    }
                    "node" | "edge" => {
                        if let Some((is_node, el)) = current.take() {
                            if is_node {
                                nodes.push(el)
                            } else {
                                edges.push(el)
                            }
                        }
                    }
                    _ => {}
                }
            }
            X::Eof if depth > 0 && saw_root => {
                return Err(super::graphml::cut_short(path, text, depth, "graphml"));
            }
            X::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err(IoError::WrongFormat {
            path: path.to_path_buf(),
            what: format!("an .mtgx whose {entry} has no <graphml> root element"),
            expected: "a Maltego graph",
        });
    }
    Ok((nodes, edges))
}

/// Builds the GraphML importer's nodes and edges from the Maltego elements of all graphs.
#[derive(Default)]
struct Builder {
    keys: HashMap<String, Key>,
    nodes: Vec<Item>,
    edges: Vec<Item>,
    /// Where each entity (and link) id sits in `nodes` (`edges`): one that another graph of
    /// the file shows again is merged into it.
    node_at: HashMap<String, usize>,
    edge_at: HashMap<String, usize>,
    /// The merges and their conflicts, for the report's warnings.
    merged: Vec<RowProblem>,
}

/// Keys that hold one value: a second graph's different value is a conflict, the first kept.
const SINGLE: &[&str] = &["type", "label", "weight", "maltegoType", "maltegoLinkType"];

impl Builder {
    /// Adds a node or edge, or merges it into the one with its id from an earlier graph:
    /// values unioned, a different value of a one-value key (type, label, weight) left out,
    /// each difference reported.
    fn add(&mut self, is_node: bool, item: Item, entry: &str) {
        let (list, at) = if is_node {
            (&mut self.nodes, &mut self.node_at)
        } else {
            (&mut self.edges, &mut self.edge_at)
        };
        let Some(&i) = at.get(&item.id) else {
            at.insert(item.id.clone(), list.len());
            list.push(item);
            return;
        };
        let what = if is_node { "entity" } else { "link" };
        let name = |k: &str| self.keys.get(k).map_or(k, |k| k.name.as_str()).to_string();
        let mut notes = vec![RowProblem {
            line: item.line,
            field: None,
            reason: format!(
                "{what} {} appears again in {entry}: merged into one (its properties unioned)",
                item.id
            ),
        }];
        let old = &mut list[i];
        if old.source != item.source || old.target != item.target {
            notes.push(RowProblem {
                line: item.line,
                field: None,
                reason: format!(
                    "link {} joins other entities in {entry}; the first graph's ends were kept",
                    item.id
                ),
            });
        }
        for (k, v, x) in item.data {
            if old.data.iter().any(|(ok, ov, _)| *ok == k && *ov == v) {
                continue;
            }
            let property = name(&k);
            let before: Vec<String> = old
                .data
                .iter()
                .filter(|(ok, _, _)| *ok == k)
                .map(|(_, ov, _)| ov.clone())
                .collect();
            if before.is_empty() {
                old.data.push((k, v, x));
                continue;
            }
            let single = SINGLE.contains(&property.as_str());
            notes.push(RowProblem {
                line: item.line,
                field: Some(property.clone()),
                reason: if single {
                    format!(
                        "{what} {}: '{}' in an earlier graph, '{v}' in {entry}; the first was kept",
                        item.id,
                        before.join("', '")
                    )
                } else {
                    format!(
                        "{what} {}: '{}' in an earlier graph, '{v}' in {entry}; both were kept",
                        item.id,
                        before.join("', '")
                    )
                },
            });
            if !single {
                old.data.push((k, v, x));
            }
        }
        self.merged.extend(notes);
    }

    fn key(&mut self, name: &str, kind: &str) -> String {
        let name = if reserved(name) && !matches!(kind, "ours") {
            format!("maltego:{name}")
        } else {
            name.to_string()
        };
        let id = format!("k:{name}");
        self.keys.entry(id.clone()).or_insert_with(|| Key {
            name: name.clone(),
            kind: if kind == "double" { "double" } else { "string" }.into(),
        });
        id
    }

    fn node(&mut self, el: &Element, id: String, mains: &HashMap<String, String>, entry: &str) {
        let t = el.maltego_type.as_str();
        let main = MAIN
            .iter()
            .find(|(k, _)| *k == t)
            .map(|(_, p)| (*p).to_string())
            .or_else(|| mains.get(t).cloned())
            .or_else(|| {
                t.starts_with("maltego.affiliation")
                    .then(|| "person.name".to_string())
            });
        let non_empty = |p: &&Property| !p.value.trim().is_empty();
        let label = main
            .and_then(|m| el.properties.iter().filter(non_empty).find(|p| p.name == m))
            .map(|p| p.value.clone())
            .or_else(|| el.direct_value.clone().filter(|v| !v.trim().is_empty()))
            .or_else(|| {
                el.properties
                    .iter()
                    .find(non_empty)
                    .map(|p| p.value.clone())
            });
        let ours = TYPES
            .iter()
            .find(|(k, _)| *k == t)
            .map(|(_, o)| *o)
            .or_else(|| {
                t.starts_with("maltego.affiliation")
                    .then_some("OnlineAccount")
            });
        let mut item = Item {
            id,
            line: el.line,
            ..Item::default()
        };
        let mut data = Vec::new();
        if let Some(o) = ours {
            data.push((self.key("type", "ours"), o.to_string()));
        }
        if let Some(l) = label {
            data.push((self.key("label", "ours"), l));
        }
        if !t.is_empty() {
            data.push((self.key("maltegoType", "string"), t.to_string()));
        }
        for p in &el.properties {
            if p.value.trim().is_empty() {
                continue;
            }
            // The analyst's notes and bookmark under names of ours; the bookmark as its
            // colour (an unknown number is kept as it is).
            if NOTES.contains(&p.name.as_str()) {
                data.push((self.key("notes", "string"), p.value.clone()));
                continue;
            }
            if p.name == BOOKMARK {
                let v = p.value.trim();
                if v != "-1" {
                    let colour = BOOKMARK_COLOURS
                        .iter()
                        .find(|(n, _)| *n == v)
                        .map_or(v, |(_, c)| *c);
                    data.push((self.key("bookmark", "string"), colour.to_string()));
                }
                continue;
            }
            data.push((self.key(&p.name, "string"), p.value.clone()));
            if let Some((_, copy)) = COPIED.iter().find(|(m, _)| *m == p.name) {
                data.push((self.key(copy, "string"), p.value.clone()));
            }
        }
        if let Some(n) = el.notes.as_ref().filter(|n| !n.trim().is_empty()) {
            data.push((self.key("notes", "string"), n.clone()));
        }
        item.data = data
            .into_iter()
            .map(|(k, v)| (k, v, String::new()))
            .collect();
        self.add(true, item, entry);
    }

    fn edge(&mut self, el: &Element, id: String, source: String, target: String, entry: &str) {
        let get = |name: &str| {
            el.properties
                .iter()
                .find(|p| p.name == name && !p.value.trim().is_empty())
                .map(|p| p.value.clone())
        };
        let label = get("maltego.link.manual.type")
            .or_else(|| get("maltego.link.label"))
            .or_else(|| get("maltego.link.transform.display-name"));
        let mut data = Vec::new();
        if let Some(l) = &label {
            data.push((self.key("type", "ours"), l.clone()));
            data.push((self.key("label", "ours"), l.clone()));
        }
        if let Some(w) = get("maltego.link.weight") {
            data.push((self.key("weight", "ours"), w));
        }
        if !el.maltego_type.is_empty() {
            data.push((
                self.key("maltegoLinkType", "string"),
                el.maltego_type.clone(),
            ));
        }
        for p in &el.properties {
            let used = matches!(
                p.name.as_str(),
                "maltego.link.manual.type" | "maltego.link.weight"
            ) || VISUAL.contains(&p.name.as_str());
            if used || p.value.trim().is_empty() {
                continue;
            }
            data.push((self.key(&p.name, "string"), p.value.clone()));
        }
        let item = Item {
            id,
            line: el.line,
            source,
            target,
            directed: None,
            data: data
                .into_iter()
                .map(|(k, v)| (k, v, String::new()))
                .collect(),
        };
        self.add(false, item, entry);
    }
}

/// Imports a Maltego .mtgx file as one batch.
pub fn import_mtgx(
    case: &mut Case,
    path: &Path,
    opts: &GraphOptions,
    cancel: &CancelToken,
) -> Result<ImportReport, IoError> {
    let src = read_source(path, &opts.limits)?;
    if src.bytes.is_empty() {
        return Err(IoError::Empty {
            path: path.to_path_buf(),
            what: "the file is empty (0 bytes); there is nothing to import",
        });
    }
    let bytes: &[u8] = &src.bytes;
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| IoError::WrongFormat {
            path: path.to_path_buf(),
            what: format!("not a zip archive ({e})"),
            expected: "a Maltego graph (.mtgx, a zip)",
        })?;
    super::zipcheck::check_zip(path, &mut archive, &opts.limits)?;
    let names: Vec<(usize, String)> = (0..archive.len())
        .filter_map(|i| {
            archive
                .by_index_raw(i)
                .ok()
                .map(|e| (i, e.name().map(|n| n.into_owned()).unwrap_or_default()))
        })
        .collect();
    let lower = |n: &str| n.to_ascii_lowercase();
    let graphs: Vec<usize> = names
        .iter()
        .filter(|(_, n)| lower(n).starts_with("graphs/") && lower(n).ends_with(".graphml"))
        .map(|(i, _)| *i)
        .collect();
    if graphs.is_empty() {
        return Err(IoError::Refused {
            path: path.to_path_buf(),
            reason: "the .mtgx holds no graph (no Graphs/*.graphml entry); save the graph from Maltego again, or export it as GraphML".into(),
        });
    }
    let max = opts.limits.max_file_bytes;
    let decode = |name: &str, bytes: Vec<u8>| -> Result<String, IoError> {
        let entry = SourceBytes {
            path: path.join(name),
            bytes,
            sha256: String::new(),
        };
        Ok(super::decode_text(&entry, None)?.text)
    };
    let mut mains = HashMap::new();
    for (i, _) in names
        .iter()
        .filter(|(_, n)| lower(n).starts_with("entities/") && lower(n).ends_with(".entity"))
    {
        let (name, bytes) = read_entry(path, &mut archive, *i, max.min(1 << 20))?;
        if let Some((id, main)) = entity_definition(&decode(&name, bytes)?) {
            mains.insert(id, main);
        }
    }
    let mut builder = Builder::default();
    let several = graphs.len() > 1;
    for g in graphs {
        cancel.check().map_err(|_| IoError::Cancelled)?;
        let (name, bytes) = read_entry(path, &mut archive, g, max)?;
        let text = decode(&name, bytes)?;
        let (nodes, edges) = parse_graph(path, &name, &text, opts)?;
        if (builder.nodes.len() + nodes.len() + builder.edges.len() + edges.len()) as u64
            > opts.limits.max_rows
        {
            return Err(IoError::Bound {
                path: path.to_path_buf(),
                bound: "max_rows",
                detail: format!("more than {} entities and links", opts.limits.max_rows),
            });
        }
        // Node ids (n0, n1, ...) are only unique within one graph; Maltego's entity ids are
        // unique, and become the source ids.
        let local = |id: &str| {
            if several {
                format!("{name}#{id}")
            } else {
                id.to_string()
            }
        };
        let mut ids: HashMap<&str, String> = HashMap::new();
        for n in &nodes {
            let id = n.maltego_id.clone().unwrap_or_else(|| local(&n.id));
            ids.insert(n.id.as_str(), id.clone());
            builder.node(n, id, &mains, &name);
        }
        for e in &edges {
            let end = |n: &str| ids.get(n).cloned().unwrap_or_else(|| local(n));
            let id = e.maltego_id.clone().unwrap_or_else(|| local(&e.id));
            builder.edge(e, id, end(&e.source), end(&e.target), &name);
        }
    }
    let parsed = Parsed {
        keys: builder.keys,
        directed_default: true,
        nodes: builder.nodes,
        edges: builder.edges,
    };
    let mut report =
        super::graphml::import_parsed(case, path, &src, "UTF-8", parsed, opts, cancel, "mtgx")?;
    report.warnings.extend(builder.merged);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_come_from_the_notes_element_or_property_and_the_bookmark_is_a_colour() {
        let text = r#"<graphml><graph>
<node id="n0"><data key="d3"><mtg:MaltegoEntity xmlns:mtg="m" id="p1" type="maltego.Person">
<mtg:Properties><mtg:Property name="person.fullname"><mtg:Value>Ann</mtg:Value></mtg:Property>
<mtg:Property name="bookmark#" type="int"><mtg:Value>1</mtg:Value></mtg:Property></mtg:Properties>
<mtg:Notes>met &amp; paid</mtg:Notes></mtg:MaltegoEntity></data></node>
<node id="n1"><data key="d3"><mtg:MaltegoEntity xmlns:mtg="m" id="p2" type="maltego.Person">
<mtg:Properties><mtg:Property name="maltego.entity.notes"><mtg:Value>a note</mtg:Value></mtg:Property>
<mtg:Property name="bookmark#" type="int"><mtg:Value>-1</mtg:Value></mtg:Property></mtg:Properties>
</mtg:MaltegoEntity></data></node>
</graph></graphml>"#;
        let (nodes, _) = parse_graph(
            Path::new("x.mtgx"),
            "Graphs/Graph1.graphml",
            text,
            &GraphOptions::default(),
        )
        .unwrap();
        assert_eq!(nodes[0].notes.as_deref(), Some("met & paid"));
        assert_eq!(nodes[0].direct_value, None, "the notes are no value");
        let mut b = Builder::default();
        for (n, id) in nodes.iter().zip(["p1", "p2"]) {
            b.node(n, id.into(), &HashMap::new(), "Graphs/Graph1.graphml");
        }
        let named = |i: usize, name: &str| -> Vec<String> {
            b.nodes[i]
                .data
                .iter()
                .filter(|(k, _, _)| b.keys[k].name == name)
                .map(|(_, v, _)| v.clone())
                .collect()
        };
        assert_eq!(named(0, "notes"), ["met & paid"]);
        assert_eq!(named(0, "bookmark"), ["green"]);
        assert_eq!(named(1, "notes"), ["a note"]);
        assert!(named(1, "bookmark").is_empty(), "-1 is no bookmark");
    }
}
