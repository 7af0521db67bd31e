//! GraphML import and export. The reader is quick-xml, streaming, with any DOCTYPE refused
//! (so no entity can be declared, let alone expanded: no billion laughs, no external
//! entities) and the element depth bounded. Typed keys are honoured (a `double` weight must
//! be a number), directed and undirected graphs and per-edge `directed` are read, node ids
//! become source ids. The writer stores what GraphML has no slot for (grading, provenance,
//! multi-valued attributes) as `copkit:` keys holding JSON, so a round trip keeps them.
//!
//! Nested graphs (yEd's groups and folders, `yfiles.foldertype`): a node whose `<graph>` holds
//! other nodes becomes an entity like any other, and each node inside it is linked to it by a
//! directed `member_of` link (member → group); edges may name nodes at any level. yEd keeps
//! labels in its graphics (`yfiles.type="nodegraphics"`/`"edgegraphics"` keys holding
//! `y:ShapeNode`, `y:GenericNode`, `y:ProxyAutoBoundsNode`, `y:UMLClassNode`, `y:PolyLineEdge`
//! ...): the text of the first non-empty `NodeLabel`/`EdgeLabel` is the label; the rest of the
//! graphics, and the other yFiles keys (resources, ports), become no attributes.

mod export;
pub(crate) use export::{
    Column, attrs_json, column_value, columns, to_json, write_graphml, xml_text,
};

use super::export::Selection;
use super::report::{ImportReport, RowProblem};
use super::{IoError, Limits};
use crate::jobs::CancelToken;
use crate::model::{
    EntityId, EntityRef, Grading, ItemRef, NewAttribute, NewEntity, NewLink, PersonCategory,
    Provenance, normalize_value,
};
use crate::store::{AuditCategory, Case, NewBatch};
use quick_xml::events::Event as X;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// Options for a GraphML import.
#[derive(Clone, Debug)]
pub struct GraphOptions {
    pub lenient: bool,
    /// The type of nodes whose type is not given or not known.
    pub default_entity_type: String,
    /// The type of edges whose type is not given.
    pub default_link_type: String,
    pub limits: Limits,
    pub grading: Option<Grading>,
    /// Where the import reports how far it is (nodes and edges written of all read).
    pub progress: Option<crate::jobs::ProgressSender>,
}

impl Default for GraphOptions {
    fn default() -> Self {
        GraphOptions {
            lenient: false,
            default_entity_type: "Person".into(),
            default_link_type: "associate".into(),
            limits: Limits::default(),
            grading: None,
            progress: None,
        }
    }
}

/// An attribute value as the writer stores it, with its own provenance and grading.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct StoredAttribute {
    property: String,
    value: String,
    provenance: Provenance,
    grading: Option<Grading>,
}

#[derive(Clone, Debug)]
pub(crate) struct Key {
    pub name: String,
    pub kind: String,
}

/// A node or edge as read from GraphML or GEXF: `data` holds (key id, value, unused).
#[derive(Clone, Debug, Default)]
pub(crate) struct Item {
    pub id: String,
    pub line: u64,
    pub source: String,
    pub target: String,
    pub directed: Option<bool>,
    pub data: Vec<(String, String, String)>,
}

/// Line numbers of byte offsets met in increasing order, as a parser meets its elements:
/// each byte of the text is looked at once, however many nodes and edges it holds. (Counting
/// from the start of the file for every element, as `line_of` does, made a GraphML or GEXF
/// import quadratic: 20,000 nodes took 82 s.) An offset before the last one asked for is
/// counted from the start.
pub(crate) struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    pub(crate) fn new(text: &'a str) -> LineCounter<'a> {
        LineCounter {
            text: text.as_bytes(),
            offset: 0,
            line: 1,
        }
    }

    /// The line (from 1) of a byte offset.
    pub(crate) fn line_at(&mut self, offset: u64) -> u64 {
        let end = (offset as usize).min(self.text.len());
        if end < self.offset {
            self.offset = 0;
            self.line = 1;
        }
        self.line += self.text[self.offset..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        self.offset = end;
        self.line
    }
}

/// The line (from 1) of one byte offset, counted from the start (for an error message; a
/// parser numbering every element uses a [`LineCounter`]).
pub(crate) fn line_of(text: &str, offset: u64) -> u64 {
    let end = (offset as usize).min(text.len());
    1 + text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
}

/// The value of one attribute of an element, entity references normalised (never expanded
/// from a DTD: documents with a DOCTYPE are refused before parsing).
pub(crate) fn attr(
    e: &quick_xml::events::BytesStart<'_>,
    name: &str,
) -> Result<Option<String>, String> {
    for a in e.attributes() {
        let a = a.map_err(|err| err.to_string())?;
        if a.key.as_ref() == name {
            return Ok(Some(
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map_err(|err| err.to_string())?
                    .into_owned(),
            ));
        }
    }
    Ok(None)
}

/// Refuses elements nested deeper than the bound (a 100k-deep document must not exhaust the
/// stack or memory of whatever walks it later).
/// Why a `&...;` reference in XML text cannot be read: a character reference to a character
/// XML does not allow (`&#0;`), or a named entity that no DTD declares (and DTDs are refused).
pub(crate) fn bad_reference(r: &quick_xml::events::BytesRef<'_>) -> String {
    let name: &str = r.as_ref();
    if name.starts_with('#') {
        format!("the character reference &{name}; names a character XML does not allow")
    } else {
        format!(
            "the entity reference &{name}; is not one of XML's five (&amp; &lt; &gt; &quot; &apos;) and no DTD may declare it"
        )
    }
}

/// The error for XML that ends while elements are still open: a file cut short (a copy that
/// stopped, a truncated download) must not import the part before the cut as if it were whole.
pub(crate) fn cut_short(path: &Path, text: &str, open: usize, root: &str) -> IoError {
    IoError::Parse {
        path: path.to_path_buf(),
        location: format!(
            "line {}, the end of the file",
            line_of(text, text.len() as u64)
        ),
        reason: format!(
            "the file ends with {open} element(s) still open (no closing </{root}>): it was cut short; nothing was imported. Copy or export the file again"
        ),
    }
}

pub(crate) fn check_depth(
    depth: usize,
    limits: &super::Limits,
    path: &std::path::Path,
    text: &str,
    pos: u64,
) -> Result<(), IoError> {
    if depth > limits.max_xml_depth {
        return Err(IoError::Bound {
            path: path.to_path_buf(),
            bound: "max_xml_depth",
            detail: format!(
                "elements nested deeper than {} at line {}",
                limits.max_xml_depth,
                line_of(text, pos)
            ),
        });
    }
    Ok(())
}

pub(crate) struct Parsed {
    pub keys: HashMap<String, Key>,
    pub directed_default: bool,
    pub nodes: Vec<Item>,
    pub edges: Vec<Item>,
}

/// The key kind our reader gives yFiles graphics keys (`yfiles.type="nodegraphics"` or
/// `"edgegraphics"`): their data is XML, of which only the label text is taken.
const YFILES_GRAPHICS: &str = "yfiles:graphics";
/// The key kind of the other yFiles keys (resources, ports): their data is dropped.
const YFILES_OTHER: &str = "yfiles:other";
/// The key our reader adds for the type of the links between nested nodes and their group.
const NESTING_TYPE_KEY: &str = "copkit-nesting:type";

/// What a `<data>` element open around the parser is collecting.
struct OpenData {
    key: String,
    kind: String,
    text: String,
    /// yFiles graphics: inside the first `NodeLabel`/`EdgeLabel` (its element depth).
    label_depth: Option<usize>,
    /// yFiles graphics: a non-empty label was found; later ones are ignored.
    label_done: bool,
}

fn parse(path: &Path, text: &str, limits: &Limits) -> Result<Parsed, IoError> {
    let mut reader = quick_xml::Reader::from_str(text);
    let perr = |offset: u64, reason: String| IoError::Parse {
        path: path.to_path_buf(),
        location: format!("line {}, byte {offset}", line_of(text, offset)),
        reason,
    };
    let mut keys = HashMap::new();
    let mut directed_default = false;
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    let mut depth = 0usize;
    // The nodes open around the parser (a group node holds a <graph> of its own, yEd's
    // folders and groups), and the edge open, if any.
    let mut open: Vec<Item> = Vec::new();
    let mut edge: Option<Item> = None;
    let mut graph_seen = false;
    let mut data: Option<OpenData> = None;
    let mut saw_root = false;
    let mut lines = LineCounter::new(text);
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
            // Inside a <data>, elements are its content (yFiles graphics), not GraphML.
            if let Some(d) = data.as_mut() {
                if d.kind == YFILES_GRAPHICS
                    && !d.label_done
                    && d.label_depth.is_none()
                    && matches!(name, "NodeLabel" | "EdgeLabel")
                    && !empty
                {
                    d.label_depth = Some(depth);
                    d.text.clear();
                }
                continue;
            }
            match name {
                "graphml" => saw_root = true,
                "key" => {
                    let id = a("id")?.ok_or_else(|| perr(pos, "a <key> has no id".into()))?;
                    let key = match a("yfiles.type")?.as_deref() {
                        Some("nodegraphics" | "edgegraphics") => Key {
                            name: "label".into(),
                            kind: YFILES_GRAPHICS.into(),
                        },
                        Some(_) => Key {
                            name: id.clone(),
                            kind: YFILES_OTHER.into(),
                        },
                        None => Key {
                            name: a("attr.name")?.unwrap_or_else(|| id.clone()),
                            kind: a("attr.type")?.unwrap_or_else(|| "string".into()),
                        },
                    };
                    keys.insert(id, key);
                }
                // Only the outermost graph sets the default: a group's own graph repeats it
                // (or not) for its members.
                "graph" if !graph_seen => {
                    directed_default = a("edgedefault")?.as_deref() == Some("directed");
                    graph_seen = true;
                }
                "node" | "edge" => {
                    let is_node = name == "node";
                    let mut item = Item {
                        id: a("id")?.unwrap_or_default(),
                        line: lines.line_at(pos),
                        ..Item::default()
                    };
                    if is_node {
                        if item.id.is_empty() {
                            return Err(perr(pos, "a <node> has no id".into()));
                        }
                        // A node in a group's graph is a member of the group.
                        if let Some(parent) = open.last() {
                            keys.entry(NESTING_TYPE_KEY.to_string())
                                .or_insert_with(|| Key {
                                    name: "type".into(),
                                    kind: "string".into(),
                                });
                            edges.push(Item {
                                id: String::new(),
                                line: item.line,
                                source: item.id.clone(),
                                target: parent.id.clone(),
                                directed: Some(true),
                                data: vec![(
                                    NESTING_TYPE_KEY.into(),
                                    "member_of".into(),
                                    String::new(),
                                )],
                            });
                        }
                    } else {
                        item.source = a("source")?
                            .ok_or_else(|| perr(pos, "an <edge> has no source".into()))?;
                        item.target = a("target")?
                            .ok_or_else(|| perr(pos, "an <edge> has no target".into()))?;
                        item.directed = a("directed")?.map(|d| d == "true");
                    }
                    match (empty, is_node) {
                        (true, true) => nodes.push(item),
                        (true, false) => edges.push(item),
                        (false, true) => open.push(item),
                        (false, false) => edge = Some(item),
                    }
                }
                "data" => {
                    let key = a("key")?.ok_or_else(|| perr(pos, "a <data> has no key".into()))?;
                    let Some(declared) = keys.get(&key) else {
                        return Err(perr(
                            pos,
                            format!("<data key=\"{key}\"> uses a key no <key> element declares"),
                        ));
                    };
                    let kind = declared.kind.clone();
                    if empty {
                        if let Some(item) = edge.as_mut().or(open.last_mut())
                            && !kind.starts_with("yfiles:")
                        {
                            item.data.push((key, String::new(), String::new()));
                        }
                    } else {
                        data = Some(OpenData {
                            key,
                            kind,
                            text: String::new(),
                            label_depth: None,
                            label_done: false,
                        });
                    }
                }
                _ => {}
            }
            continue;
        }
        // Whether text here belongs to the open data: plain data takes all its text, yFiles
        // graphics only their first label's.
        let collecting = data.as_ref().is_some_and(|d| match d.kind.as_str() {
            YFILES_GRAPHICS => d.label_depth.is_some(),
            YFILES_OTHER => false,
            _ => true,
        });
        match ev {
            X::DocType(_) => {
                return Err(perr(
                    pos,
                    "the file declares a DOCTYPE; GraphML needs none and entity declarations are refused (they can expand without bound or read other files)".into(),
                ));
            }
            X::Text(t) if collecting => {
                if let Some(d) = data.as_mut() {
                    d.text.push_str(&t.into_inner());
                }
            }
            X::CData(t) if collecting => {
                if let Some(d) = data.as_mut() {
                    d.text.push_str(&t.into_inner());
                }
            }
            X::GeneralRef(r) if collecting => {
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
                match (c, data.as_mut()) {
                    (Some(c), Some(d)) => d.text.push(c),
                    (Some(_), None) => {}
                    (None, _) => return Err(perr(pos, bad_reference(&r_text))),
                }
            }
            X::GeneralRef(_) => {}
            X::End(e) => {
                let name = e.local_name();
                match (name.as_ref(), data.as_mut()) {
                    ("data", Some(_)) => {
                        if let Some(d) = data.take()
                            && let Some(item) = edge.as_mut().or(open.last_mut())
                        {
                            match d.kind.as_str() {
                                YFILES_GRAPHICS if d.label_done => item.data.push((
                                    d.key,
                                    d.text.trim().to_string(),
                                    String::new(),
                                )),
                                YFILES_GRAPHICS | YFILES_OTHER => {}
                                _ => item.data.push((d.key, d.text, String::new())),
                            }
                        }
                    }
                    // The end of the label being read: a non-empty one is the label.
                    (_, Some(d)) if d.label_depth == Some(depth) => {
                        d.label_depth = None;
                        if d.text.trim().is_empty() {
                            d.text.clear();
                        } else {
                            d.label_done = true;
                        }
                    }
                    (_, Some(_)) => {}
                    ("node", None) => nodes.extend(open.pop()),
                    ("edge", None) => edges.extend(edge.take()),
                    _ => {}
                }
                depth = depth.saturating_sub(1);
            }
            X::Eof if depth > 0 && saw_root => return Err(cut_short(path, text, depth, "graphml")),
            X::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err(IoError::WrongFormat {
            path: path.to_path_buf(),
            what: "XML without a <graphml> root element".into(),
            expected: "GraphML",
        });
    }
    Ok(Parsed {
        keys,
        directed_default,
        nodes,
        edges,
    })
}

/// Imports a GraphML file as one batch.
pub fn import_graphml(
    case: &mut Case,
    path: &Path,
    opts: &GraphOptions,
    cancel: &CancelToken,
) -> Result<ImportReport, IoError> {
    let (src, decoded) = super::read_source_text(path, &opts.limits, "a GraphML (XML) file")?;
    let parsed = parse(path, &decoded.text, &opts.limits)?;
    import_parsed(
        case,
        path,
        &src,
        decoded.encoding,
        parsed,
        opts,
        cancel,
        "graphml",
    )
}

/// The node our GraphML and GEXF writers add for the other side of one-sided events (cash
/// paid in or taken out, a sighting): such an event is an edge from its participant to this
/// node, never a self-loop. Its key `copkit:synthetic` tells our import to make no entity of
/// it and the event one-sided again.
pub(crate) const OUTSIDE_NODE: &str = "copkit-outside";
pub(crate) const OUTSIDE_LABEL: &str = "Outside the case (cash, an unknown party)";

/// The two ends every writer puts an event between: its first two participants, or for a
/// one-sided event its party and the outside (`None`), in the direction of its role, never a
/// self-loop. Also the second end's role (the party's own for a one-sided event). `None` for
/// an event with no participant.
pub(crate) fn event_ends(
    ev: &crate::model::Event,
) -> Option<(
    Option<EntityId>,
    Option<EntityId>,
    crate::model::ParticipantRole,
)> {
    let first = ev.participants.first()?;
    Some(match ev.participants.get(1) {
        Some(second) => (Some(first.entity), Some(second.entity), second.role),
        None if first.role == crate::model::ParticipantRole::To => {
            (None, Some(first.entity), first.role)
        }
        None => (Some(first.entity), None, first.role),
    })
}

/// An event end's node id: the entity's, or the outside stand-in's.
pub(crate) fn end_node(end: Option<EntityId>) -> String {
    end.map_or_else(|| OUTSIDE_NODE.to_string(), |e| e.to_string())
}

/// Whether a node is the writers' stand-in for the outside.
fn is_synthetic(n: &Item, keys: &HashMap<String, Key>) -> bool {
    n.data.iter().any(|(k, v, _)| {
        keys.get(k)
            .is_some_and(|key| key.name == "copkit:synthetic")
            && v.trim() == "true"
    })
}

/// Writes parsed nodes and edges (from GraphML or GEXF) as one batch.
#[allow(clippy::too_many_arguments)] // reason: shared by two formats, each argument distinct
pub(crate) fn import_parsed(
    case: &mut Case,
    path: &Path,
    src: &super::SourceBytes,
    encoding: &str,
    parsed: Parsed,
    opts: &GraphOptions,
    cancel: &CancelToken,
    format: &str,
) -> Result<ImportReport, IoError> {
    let schema = case.schema().clone();
    let file = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let existing: HashMap<(String, String), EntityId> = case
        .snapshot()?
        .entities
        .iter()
        .filter_map(|e| {
            e.source_id
                .clone()
                .map(|s| ((e.entity_type.clone(), s), e.id))
        })
        .collect();
    let mut report = ImportReport {
        source: path.display().to_string(),
        format: format.into(),
        sha256: src.sha256.clone(),
        bytes: src.bytes.len() as u64,
        encoding: encoding.into(),
        spec_name: format.into(),
        lenient: opts.lenient,
        ..ImportReport::default()
    };
    let batch = NewBatch {
        kind: "import".into(),
        description: format!("{format} import of {file}"),
        source_path: Some(path.display().to_string()),
        source_sha256: Some(src.sha256.clone()),
        source_bytes: Some(src.bytes.len() as u64),
        spec: Some(
            serde_json::json!({"format": format, "default_entity_type": opts.default_entity_type, "default_link_type": opts.default_link_type}),
        ),
        review_date: None,
        grading: opts.grading.clone(),
    };
    let keys = parsed.keys;
    let total = (parsed.nodes.len() + parsed.edges.len()).max(1) as f32;
    let progress = |done: u64| {
        if let Some(p) = &opts.progress {
            crate::jobs::Progress::report(
                p,
                Some(done as f32 / total),
                &format!("{done} of {total} nodes and edges written"),
            );
        }
    };
    let (applied, mut report) =
        case.import_streamed(batch, |w| -> Result<ImportReport, IoError> {
            w.expect_rows((parsed.nodes.len() + parsed.edges.len()) as u64);
            let mut ids: HashMap<String, EntityId> = HashMap::with_capacity(parsed.nodes.len());
            let mut outside: std::collections::HashSet<&str> = std::collections::HashSet::new();
            for n in &parsed.nodes {
                if is_synthetic(n, &keys) {
                    outside.insert(n.id.as_str());
                    continue;
                }
                report.rows_read += 1;
                if report.rows_read.is_multiple_of(4096) {
                    cancel.check().map_err(|_| IoError::Cancelled)?;
                    progress(report.rows_read);
                }
                let reject = |field: Option<&str>, reason: String| RowProblem {
                    line: n.line,
                    field: field.map(str::to_string),
                    reason: format!("node {}: {reason}", n.id),
                };
                if ids.contains_key(&n.id) {
                    report.rows_rejected += 1;
                    report
                        .rejected
                        .push(reject(None, "the node id appears twice".into()));
                    continue;
                }
                match node_entity(n, &keys, &schema, opts, &file) {
                    Ok(e) => {
                        let k = (
                            e.entity_type.clone(),
                            e.source_id.clone().unwrap_or_default(),
                        );
                        let id = if let Some(&id) = existing.get(&k) {
                            report.entities_merged += 1;
                            for a in e.attributes {
                                w.attribute(ItemRef::Entity(id), a)?;
                                report.attributes += 1;
                            }
                            id
                        } else {
                            report.attributes += e.attributes.len() as u64;
                            report.entities_created += 1;
                            w.entity(e)?
                        };
                        ids.insert(n.id.clone(), id);
                        report.rows_accepted += 1;
                    }
                    Err((field, reason)) => {
                        report.rows_rejected += 1;
                        report.rejected.push(reject(field.as_deref(), reason));
                    }
                }
            }
            for e in &parsed.edges {
                report.rows_read += 1;
                if report.rows_read.is_multiple_of(4096) {
                    cancel.check().map_err(|_| IoError::Cancelled)?;
                    progress(report.rows_read);
                }
                // Only problems name the edge: no text made for the other 299,999 of a big graph.
                let label = || {
                    if e.id.is_empty() {
                        format!("edge {}->{}", e.source, e.target)
                    } else {
                        format!("edge {}", e.id)
                    }
                };
                // An edge to the outside is a one-sided event: both ends are its participant.
                let (source, target) = match (
                    outside.contains(e.source.as_str()),
                    outside.contains(e.target.as_str()),
                ) {
                    (false, true) => (&e.source, &e.source),
                    (true, false) => (&e.target, &e.target),
                    _ => (&e.source, &e.target),
                };
                let (Some(&s), Some(&t)) = (ids.get(source), ids.get(target)) else {
                    let missing = if ids.contains_key(&e.source) {
                        &e.target
                    } else {
                        &e.source
                    };
                    report.rows_rejected += 1;
                    report.rejected.push(RowProblem {
                        line: e.line,
                        field: Some(
                            if ids.contains_key(&e.source) {
                                "target"
                            } else {
                                "source"
                            }
                            .into(),
                        ),
                        reason: format!(
                            "{}: node '{missing}' is not in the file (an edge to an unknown node)",
                            label()
                        ),
                    });
                    continue;
                };
                if s == t && source == &e.source && target == &e.target {
                    report.warnings.push(RowProblem {
                        line: e.line,
                        field: None,
                        reason: format!("{}: a self-loop, kept", label()),
                    });
                }
                if let Some(ev) = edge_event(e, s, t, &keys, opts, &file) {
                    match ev {
                        Ok(ev) => {
                            report.attributes += ev.attributes.len() as u64;
                            w.event(ev)?;
                            report.events += 1;
                            report.rows_accepted += 1;
                        }
                        Err((field, reason)) => {
                            report.rows_rejected += 1;
                            report.rejected.push(RowProblem {
                                line: e.line,
                                field,
                                reason: format!("{}: {reason}", label()),
                            });
                        }
                    }
                    continue;
                }
                match edge_link(e, s, t, &keys, parsed.directed_default, opts, &file) {
                    Ok(l) => {
                        report.attributes += l.attributes.len() as u64;
                        w.link(l)?;
                        report.links += 1;
                        report.rows_accepted += 1;
                    }
                    Err((field, reason)) => {
                        report.rows_rejected += 1;
                        report.rejected.push(RowProblem {
                            line: e.line,
                            field,
                            reason: format!("{}: {reason}", label()),
                        });
                    }
                }
            }
            if !opts.lenient && !report.rejected.is_empty() {
                return Err(IoError::Rejected {
                    path: path.to_path_buf(),
                    report: Box::new(report.clone()),
                });
            }
            Ok(report.clone())
        })?;
    report.batch = applied.batch;
    if report.entities_merged > 0 {
        case.record(
            AuditCategory::Combination,
            "import matched existing entities",
            serde_json::json!({"batch": applied.batch.map(|b| b.0), "entities_merged": report.entities_merged, "method": "node id = source id"}),
        )?;
    }
    Ok(report)
}

type Problem = (Option<String>, String);

pub(crate) fn stored_attrs(v: &str, field: &str) -> Result<Vec<NewAttribute>, Problem> {
    let list: Vec<StoredAttribute> = serde_json::from_str(v)
        .map_err(|e| (Some(field.into()), format!("not valid JSON ({e})")))?;
    Ok(list
        .into_iter()
        .map(|a| NewAttribute {
            property: a.property,
            value: a.value,
            provenance: a.provenance,
            grading: a.grading,
        })
        .collect())
}

fn node_entity(
    n: &Item,
    keys: &HashMap<String, Key>,
    schema: &crate::model::Schema,
    opts: &GraphOptions,
    file: &str,
) -> Result<NewEntity, Problem> {
    let prov = Provenance {
        batch: None,
        source_file: Some(file.into()),
        record: Some(format!("node {}", n.id)),
    };
    let mut e = NewEntity::new(opts.default_entity_type.clone(), n.id.clone());
    e.source_id = Some(n.id.clone());
    e.provenance = prov.clone();
    e.grading = opts.grading.clone();
    let mut label = None;
    let mut stored = None;
    for (k, v, _) in &n.data {
        let key = &keys[k];
        let field = || Some(key.name.clone());
        match key.name.as_str() {
            "type" | "copkit:type" | "entity_type" => {
                if schema.entity_type(v.trim()).is_ok() {
                    e.entity_type = v.trim().to_string();
                } else if !v.trim().is_empty() {
                    e.attributes.push(NewAttribute {
                        property: "sourceType".into(),
                        value: v.clone(),
                        provenance: prov.clone(),
                        grading: opts.grading.clone(),
                    });
                }
            }
            "label" | "copkit:label" => label = Some(v.clone()),
            "copkit:source_id" => e.source_id = Some(v.clone()),
            "copkit:category" => {
                e.category = Some(v.parse::<PersonCategory>().map_err(|r| (field(), r))?)
            }
            "copkit:grading" => {
                e.grading = serde_json::from_str(v).map_err(|r| (field(), r.to_string()))?
            }
            "copkit:provenance" => {
                e.provenance = serde_json::from_str(v).map_err(|r| (field(), r.to_string()))?
            }
            "copkit:attributes" => stored = Some(stored_attrs(v, &key.name)?),
            name => {
                if v.trim().is_empty() {
                    continue;
                }
                e.attributes.push(NewAttribute {
                    property: name.to_string(),
                    value: v.clone(),
                    provenance: prov.clone(),
                    grading: opts.grading.clone(),
                });
            }
        }
    }
    if let Some(s) = stored {
        e.attributes = s;
    }
    for a in &e.attributes {
        let kind = schema.property_kind(&e.entity_type, &a.property);
        normalize_value(kind, &a.property, &a.value)
            .map_err(|r| (Some(a.property.clone()), r.to_string()))?;
    }
    e.label = label
        .filter(|l| !l.trim().is_empty())
        .or_else(|| {
            e.attributes
                .iter()
                .find(|a| a.property == "name")
                .map(|a| a.value.clone())
        })
        .unwrap_or_else(|| n.id.clone());
    Ok(e)
}

fn edge_link(
    ed: &Item,
    s: EntityId,
    t: EntityId,
    keys: &HashMap<String, Key>,
    directed_default: bool,
    opts: &GraphOptions,
    file: &str,
) -> Result<NewLink, Problem> {
    let prov = Provenance {
        batch: None,
        source_file: Some(file.into()),
        record: Some(if ed.id.is_empty() {
            format!("edge {}->{}", ed.source, ed.target)
        } else {
            format!("edge {}", ed.id)
        }),
    };
    let mut l = NewLink::new(
        opts.default_link_type.clone(),
        EntityRef::Existing(s),
        EntityRef::Existing(t),
    );
    l.directed = ed.directed.unwrap_or(directed_default);
    l.source_id = (!ed.id.is_empty()).then(|| ed.id.clone());
    l.provenance = prov.clone();
    l.grading = opts.grading.clone();
    let mut stored = None;
    for (k, v, _) in &ed.data {
        let key = &keys[k];
        let field = || Some(key.name.clone());
        let numeric = matches!(key.kind.as_str(), "double" | "float" | "int" | "long");
        if numeric && !v.trim().is_empty() && v.trim().parse::<f64>().is_err() {
            return Err((
                field(),
                format!("'{v}' is not a {} as the key declares", key.kind),
            ));
        }
        match key.name.as_str() {
            "weight" => {
                let w: f64 = v
                    .trim()
                    .parse()
                    .map_err(|_| (field(), format!("weight '{v}' is not a number")))?;
                if !w.is_finite() {
                    return Err((field(), format!("weight '{v}' is not finite")));
                }
                l.weight = Some(w);
            }
            "type" | "copkit:type" | "link_type" | "relation" => {
                if !v.trim().is_empty() {
                    l.link_type = v.trim().to_string();
                }
            }
            "label" | "copkit:label" => l.label = Some(v.clone()),
            "copkit:strength" => l.strength = v.parse().map_err(|r| (field(), r))?,
            "copkit:source_id" => l.source_id = Some(v.clone()),
            "copkit:grading" => {
                l.grading = serde_json::from_str(v).map_err(|r| (field(), r.to_string()))?
            }
            "copkit:provenance" => {
                l.provenance = serde_json::from_str(v).map_err(|r| (field(), r.to_string()))?
            }
            "copkit:attributes" => stored = Some(stored_attrs(v, &key.name)?),
            name => {
                if !v.trim().is_empty() {
                    l.attributes.push(NewAttribute {
                        property: name.to_string(),
                        value: v.clone(),
                        provenance: prov.clone(),
                        grading: opts.grading.clone(),
                    });
                }
            }
        }
    }
    if let Some(s) = stored {
        l.attributes = s;
    }
    check_values(&l.attributes)?;
    Ok(l)
}

/// Validates values the way the store will, so one bad value rejects its record instead of
/// failing the whole batch.
fn check_values(attrs: &[NewAttribute]) -> Result<(), Problem> {
    // The built-in schema once for the run: building it for every edge (300,000 of them in
    // a 100k-node graph) took a tenth of the import.
    static BUILTIN: std::sync::LazyLock<crate::model::Schema> =
        std::sync::LazyLock::new(crate::model::Schema::default);
    let schema = &*BUILTIN;
    for a in attrs {
        let kind = schema.property_kind("", &a.property);
        normalize_value(kind, &a.property, &a.value)
            .map_err(|r| (Some(a.property.clone()), r.to_string()))?;
    }
    Ok(())
}

/// An edge that the GEXF writer made from an event (key `copkit:event` holds its type, the
/// spell its time) becomes that event again.
fn edge_event(
    ed: &Item,
    s: EntityId,
    t: EntityId,
    keys: &HashMap<String, Key>,
    opts: &GraphOptions,
    file: &str,
) -> Option<Result<crate::model::NewEvent, Problem>> {
    let get = |name: &str| {
        ed.data
            .iter()
            .find(|(k, _, _)| keys.get(k).is_some_and(|key| key.name == name))
            .map(|(_, v, _)| v.clone())
    };
    let event_type = get("copkit:event")?;
    Some((|| {
        let time_of = |field: &str| -> Result<Option<i64>, Problem> {
            match get(field) {
                None => Ok(None),
                Some(v) => chrono::DateTime::parse_from_rfc3339(v.trim())
                    .map(|d| Some(d.timestamp_millis()))
                    .map_err(|e| {
                        (
                            Some(field.to_string()),
                            format!("'{v}' is not an RFC 3339 time ({e})"),
                        )
                    }),
            }
        };
        // GraphML carries the time as spell:start and spell:end keys, GEXF as a spell.
        let rfc3339 = |v: &str| -> Result<i64, Problem> {
            chrono::DateTime::parse_from_rfc3339(v.trim())
                .map(|d| d.timestamp_millis())
                .map_err(|e| {
                    (
                        Some("spell".to_string()),
                        format!("'{v}' is not an RFC 3339 time ({e})"),
                    )
                })
        };
        let (start, end) = match (time_of("spell:start")?, get(crate::io::gexf::SPELL)) {
            (Some(start), _) => (Some(start), time_of("spell:end")?),
            (None, Some(spell)) => match crate::io::gexf::parse_spell(&spell) {
                Some(crate::io::gexf::Spell::Instant(t)) => (Some(rfc3339(t)?), None),
                Some(crate::io::gexf::Spell::Interval(s, e)) => {
                    (s.map(rfc3339).transpose()?, e.map(rfc3339).transpose()?)
                }
                None => (None, None),
            },
            (None, None) => (None, None),
        };
        let start = start.ok_or_else(|| {
            (
                Some("spell".to_string()),
                "an event edge has no spell start".to_string(),
            )
        })?;
        let end = end.filter(|&e| e != start);
        let mut ev = crate::model::NewEvent::new(
            event_type,
            crate::model::EventTime {
                start_ms: start,
                end_ms: end,
                original_text: get("copkit:time_text"),
                original_zone: get("copkit:time_zone"),
            },
        );
        ev.provenance = Provenance {
            batch: None,
            source_file: Some(file.into()),
            record: Some(format!("edge {}", ed.id)),
        };
        ev.grading = opts.grading.clone();
        if let Some(g) = get("copkit:grading") {
            ev.grading = serde_json::from_str(&g)
                .map_err(|r| (Some("copkit:grading".to_string()), r.to_string()))?;
        }
        if let Some(p) = get("copkit:provenance") {
            ev.provenance = serde_json::from_str(&p)
                .map_err(|r| (Some("copkit:provenance".to_string()), r.to_string()))?;
        }
        if let Some(sid) = get("copkit:source_id") {
            ev.source_id = Some(sid);
        }
        if let Some(a) = get("copkit:attributes") {
            ev.attributes = stored_attrs(&a, "copkit:attributes")?;
        }
        check_values(&ev.attributes)?;
        let roles = get("copkit:roles").unwrap_or_else(|| "from,to".into());
        let (r1, r2) = roles.split_once(',').unwrap_or(("from", "to"));
        let role = |r: &str| {
            r.parse::<crate::model::ParticipantRole>()
                .map_err(|e| (Some("copkit:roles".to_string()), e))
        };
        ev.participants.push(crate::model::NewParticipant::new(
            role(r1)?,
            EntityRef::Existing(s),
        ));
        if s != t || r1 != r2 {
            ev.participants.push(crate::model::NewParticipant::new(
                role(r2)?,
                EntityRef::Existing(t),
            ));
        }
        Ok(ev)
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_counter_agrees_with_counting_from_the_start() {
        let text = "a\nbb\n\nccc\nd";
        let mut lines = LineCounter::new(text);
        for offset in [0, 1, 2, 4, 5, 6, 7, 10, 11, 12, 200] {
            assert_eq!(
                lines.line_at(offset),
                line_of(text, offset),
                "offset {offset}"
            );
        }
        // An earlier offset after a later one.
        assert_eq!(lines.line_at(3), line_of(text, 3));
    }
}
