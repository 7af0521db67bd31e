//! Reading a STIX file into objects: the depth scan (which also finds where each object
//! starts, for line numbers), the JSON parse, the three shapes (bundle, bare list, single
//! object) and the checks every object must pass (a type, an id of that type, once).

use super::{META_TYPES, TLP_MARKINGS};
use crate::io::IoError;
use crate::io::graphml::{GraphOptions, LineCounter};
use crate::io::report::{ImportReport, RowProblem};
use crate::model::Provenance;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::Path;

/// The nesting depth of a JSON text and the byte offsets where the elements of the arrays at
/// depth 1 and 2 start (a bare array's objects and a bundle's `objects`), found in one pass
/// that stops as soon as the depth passes `max` (so a hostile file costs no more than its
/// length). Returns `Err(offset)` of the bracket that went too deep.
pub(super) struct Scan {
    /// Starts of the objects inside an array that is the document itself.
    pub(super) top_level: Vec<usize>,
    /// Starts of the objects inside an array one level down (a bundle's `objects`).
    pub(super) second_level: Vec<usize>,
}

pub(super) fn scan(text: &str, max: usize) -> Result<Scan, usize> {
    let mut scan = Scan {
        top_level: Vec::new(),
        second_level: Vec::new(),
    };
    // The kind of the open containers at depths 1 and 2 (all that matters for the offsets).
    let mut kinds = [0u8; 3];
    let (mut depth, mut in_str, mut esc) = (0usize, false, false);
    for (i, b) in text.bytes().enumerate() {
        if in_str {
            match (esc, b) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' | b'[' => {
                if b == b'{' && depth == 1 && kinds[1] == b'[' {
                    scan.top_level.push(i);
                } else if b == b'{' && depth == 2 && kinds[2] == b'[' {
                    scan.second_level.push(i);
                }
                depth += 1;
                if depth > max {
                    return Err(i);
                }
                if depth < kinds.len() {
                    kinds[depth] = b;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(scan)
}

/// One STIX object as read, with where it is.
pub(super) struct Obj {
    pub(super) index: usize,
    pub(super) line: u64,
    pub(super) id: String,
    pub(super) stix_type: String,
    pub(super) body: Map<String, Value>,
}

impl Obj {
    pub(super) fn name(&self) -> String {
        format!("object {} ({})", self.index, self.id)
    }

    pub(super) fn text(&self, key: &str) -> Option<&str> {
        self.body.get(key).and_then(Value::as_str)
    }

    pub(super) fn provenance(&self, file: &str) -> Provenance {
        Provenance {
            batch: None,
            source_file: Some(file.to_string()),
            record: Some(self.name()),
        }
    }

    pub(super) fn problem(
        &self,
        field: Option<&str>,
        reason: impl std::fmt::Display,
    ) -> RowProblem {
        RowProblem {
            line: self.line,
            field: field.map(str::to_string),
            reason: format!("{}: {reason}", self.name()),
        }
    }
}

/// The text values of a property: a string as it is, numbers and booleans as text, an array
/// as its elements, an object (and an array's object elements) as compact JSON.
pub(super) fn texts(v: &Value) -> Vec<String> {
    match v {
        Value::Null => Vec::new(),
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .flat_map(|x| match x {
                Value::Array(_) => vec![x.to_string()],
                other => texts(other),
            })
            .collect(),
        other => vec![other.to_string()],
    }
}

/// What the bundle's objects are, by id, for resolving references.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Entity,
    /// A relationship, sighting, event of ours, or foreign observed data or incident (which
    /// become events): a reference to it cannot be a link.
    Relation,
    Meta,
}

/// Everything read from the file before the batch is written.
pub(super) struct Read {
    pub(super) objects: Vec<Obj>,
    pub(super) kinds: HashMap<String, Kind>,
    /// Marking definition id → its text (`TLP:AMBER`, or a statement).
    pub(super) markings: HashMap<String, (bool, String)>,
    pub(super) shape: &'static str,
}

impl Read {
    /// Whether `id` names foreign observed data or an incident in the bundle (an event).
    pub(super) fn objects_happening(&self, id: &str) -> bool {
        self.kinds.get(id) == Some(&Kind::Relation)
            && super::HAPPENINGS.iter().any(|t| {
                id.strip_prefix(t)
                    .is_some_and(|rest| rest.starts_with("--"))
            })
    }
}

/// Parses the file into objects, rejecting (into `report`) those without a type or id.
pub(super) fn read_objects(
    path: &Path,
    text: &str,
    opts: &GraphOptions,
    report: &mut ImportReport,
) -> Result<Read, IoError> {
    let limits = &opts.limits;
    let scanned = scan(text, limits.max_json_depth).map_err(|offset| IoError::Bound {
        path: path.to_path_buf(),
        bound: "max_json_depth",
        detail: format!(
            "values nested deeper than {} at line {}",
            limits.max_json_depth,
            crate::io::graphml::line_of(text, offset as u64)
        ),
    })?;
    let root: Value = serde_json::from_str(text).map_err(|e| IoError::Parse {
        path: path.to_path_buf(),
        location: format!("line {}, column {}", e.line(), e.column()),
        reason: format!("not valid JSON ({e}); a STIX file is a JSON bundle"),
    })?;
    let (shape, items, starts): (&'static str, Vec<Value>, &[usize]) = match root {
        Value::Object(mut o) if o.get("type").and_then(Value::as_str) == Some("bundle") => {
            match o.remove("objects") {
                Some(Value::Array(a)) => ("bundle", a, scanned.second_level.as_slice()),
                None => ("bundle", Vec::new(), &[][..]),
                Some(_) => {
                    return Err(IoError::Parse {
                        path: path.to_path_buf(),
                        location: "the bundle, field 'objects'".into(),
                        reason: "'objects' is not a list of STIX objects".into(),
                    });
                }
            }
        }
        Value::Object(o) if o.contains_key("type") => {
            ("single object", vec![Value::Object(o)], &[0usize][..])
        }
        Value::Array(a) => ("array of objects", a, scanned.top_level.as_slice()),
        _ => {
            return Err(IoError::WrongFormat {
                path: path.to_path_buf(),
                what:
                    "JSON that is neither a STIX bundle, a list of STIX objects nor a STIX object"
                        .into(),
                expected: "a STIX 2.1 bundle",
            });
        }
    };
    if items.len() as u64 > limits.max_rows {
        return Err(IoError::Bound {
            path: path.to_path_buf(),
            bound: "max_rows",
            detail: format!("{} objects, the limit is {}", items.len(), limits.max_rows),
        });
    }
    // The scan's offsets are the objects' only when it found one per element (a bundle with
    // another list beside `objects` would add some): otherwise lines are not given.
    let starts = (starts.len() == items.len()).then_some(starts);
    let mut lines = LineCounter::new(text);
    let mut read = Read {
        objects: Vec::new(),
        kinds: HashMap::new(),
        markings: TLP_MARKINGS
            .iter()
            .map(|(id, name)| (id.to_string(), (true, name.to_string())))
            .collect(),
        shape,
    };
    for (index, item) in items.into_iter().enumerate() {
        report.rows_read += 1;
        let line = starts.map_or(0, |s| lines.line_at(s[index] as u64));
        let reject = |field: &str, reason: String| RowProblem {
            line,
            field: Some(field.to_string()),
            reason: format!("object {index}: {reason}"),
        };
        let Value::Object(body) = item else {
            report.rejected.push(reject(
                "type",
                "not a JSON object, so not a STIX object".into(),
            ));
            continue;
        };
        let Some(stix_type) = body.get("type").and_then(Value::as_str).map(str::to_string) else {
            report.rejected.push(reject(
                "type",
                "has no 'type'; every STIX object names its type".into(),
            ));
            continue;
        };
        let Some(id) = body.get("id").and_then(Value::as_str).map(str::to_string) else {
            report.rejected.push(reject(
                "id",
                format!("a {stix_type} without an 'id'; every STIX object has one"),
            ));
            continue;
        };
        if !id.starts_with(&format!("{stix_type}--")) {
            report.rejected.push(reject(
                "id",
                format!("id '{id}' does not start with '{stix_type}--' as STIX requires"),
            ));
            continue;
        }
        if read.kinds.contains_key(&id) {
            report.rejected.push(reject(
                "id",
                format!("id '{id}' appears twice (only one version of an object is read)"),
            ));
            continue;
        }
        let kind = match stix_type.as_str() {
            "relationship" | "sighting" | super::EVENT_OBJECT => Kind::Relation,
            // Observed data and incidents from elsewhere are things that happened: events
            // (ours, carrying `x_copkit`, were entities here and stay so).
            t if super::HAPPENINGS.contains(&t) && !body.contains_key(super::COPKIT_MEMBER) => {
                Kind::Relation
            }
            t if META_TYPES.contains(&t) => Kind::Meta,
            "bundle" => {
                report.rejected.push(reject(
                    "type",
                    "a bundle inside a bundle is not STIX 2.1".into(),
                ));
                continue;
            }
            _ => Kind::Entity,
        };
        if stix_type == "marking-definition" {
            let def = body.get("definition");
            let tlp = body
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| n.starts_with("TLP:"))
                .map(str::to_string)
                .or_else(|| {
                    def.and_then(|d| d.get("tlp"))
                        .and_then(Value::as_str)
                        .map(|t| format!("TLP:{}", t.to_uppercase()))
                });
            let statement = def
                .and_then(|d| d.get("statement"))
                .and_then(Value::as_str)
                .map(str::to_string);
            if let Some(t) = tlp {
                read.markings.insert(id.clone(), (true, t));
            } else if let Some(s) = statement {
                read.markings.insert(id.clone(), (false, s));
            }
        }
        read.kinds.insert(id.clone(), kind);
        read.objects.push(Obj {
            index,
            line,
            id,
            stix_type,
            body,
        });
    }
    Ok(read)
}
