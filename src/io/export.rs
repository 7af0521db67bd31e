//! Exports: CSV (entities, links, events), i2-compatible CSV (one row per link), GraphML and
//! GEXF (events as time spells).
//! Every export skips restricted items, refuses items whose handling code forbids
//! dissemination unless overridden with a reason, never overwrites the open case or an
//! existing file, writes a manifest (case id, audit head, time, purpose, recipient, SHA-256
//! of each output) and records a disclosure in the audit log.
//! Every output is on record or absent: files are written as `.NAME.copkit-partial-*` beside
//! their final names and moved into place only after the disclosure is committed; a refused
//! export is recorded as a refused disclosure.

use super::{IoError, check_output_path};
use crate::jobs::{CancelToken, Progress};
use crate::model::{Attribute, Entity, Event, Grading, Link};
use crate::store::{AuditCategory, Case, CaseSnapshot};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Formats `export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// A folder with entities.csv, links.csv and events.csv.
    Csv,
    /// One row per link with both ends (i2 Analyst's Notebook import layout).
    I2Csv,
    GraphMl,
    Gexf,
    /// FollowTheMoney JSON lines.
    Ftm,
    /// GML (networkx, igraph, Gephi).
    Gml,
    /// Pajek .net.
    Pajek,
    /// Node-link JSON (d3, networkx's `node_link_graph`).
    NodeLink,
    /// Graphviz DOT.
    Dot,
    /// A STIX 2.1 bundle.
    Stix,
    /// A folder of Parquet tables (entities, links, events, attribute values, provenance).
    Parquet,
    /// A case report (one self-contained HTML file), written by `crate::report` through
    /// [`export_with`]; [`export`] refuses it, since it needs the report's own writer.
    Report,
}

impl ExportFormat {
    /// Whether the output is a folder of files rather than one file.
    pub fn is_folder(self) -> bool {
        matches!(self, ExportFormat::Csv | ExportFormat::Parquet)
    }
}

/// What the user asked for.
#[derive(Clone, Debug)]
pub struct ExportRequest {
    pub format: ExportFormat,
    pub out: PathBuf,
    pub recipient: String,
    /// A reason to export items whose handling code forbids dissemination.
    pub override_reason: Option<String>,
    /// Export only these entities and the links and events among them (a selection); the
    /// whole case when `None`.
    pub only: Option<Vec<crate::model::EntityId>>,
}

/// The manifest written beside every export.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub case_id: String,
    pub case_title: String,
    pub audit_head: String,
    pub exported_utc: String,
    pub analyst: String,
    pub purpose: String,
    pub recipient: String,
    pub format: ExportFormat,
    pub outputs: Vec<(String, String)>,
    pub entities: usize,
    pub links: usize,
    pub events: usize,
    pub skipped_restricted: usize,
    pub dissemination_override: Option<String>,
    /// What the format cannot hold, in words.
    pub not_exported: Vec<String>,
    /// The reason restricted items of the selection were included (reports only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted_included: Option<String>,
}

/// What an export did.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExportReport {
    pub manifest_path: PathBuf,
    pub manifest: Manifest,
}

/// Items that may go out: restricted ones dropped, and links and events touching a dropped
/// entity dropped with it.
pub(crate) struct Selection<'a> {
    pub entities: Vec<&'a Entity>,
    pub links: Vec<&'a Link>,
    pub events: Vec<&'a Event>,
    pub skipped_restricted: usize,
}

/// What a graph format has no slot for on any item: the analysts' notes and the review
/// (retention) dates, counted over the selection, in the words of the manifest's
/// `not_exported` list; nothing when the selection has none. `format` names the format.
pub(crate) fn notes_and_reviews_not_carried(sel: &Selection<'_>, format: &str) -> Vec<String> {
    let mut cannot = Vec::new();
    let notes = sel.entities.iter().map(|e| e.notes.len()).sum::<usize>()
        + sel.links.iter().map(|l| l.notes.len()).sum::<usize>()
        + sel.events.iter().map(|e| e.notes.len()).sum::<usize>();
    if notes > 0 {
        cannot.push(format!(
            "{notes} analyst notes on items ({format} has no place for them)"
        ));
    }
    let reviews = sel
        .entities
        .iter()
        .filter(|e| e.review_date.is_some())
        .count()
        + sel.links.iter().filter(|l| l.review_date.is_some()).count()
        + sel
            .events
            .iter()
            .filter(|e| e.review_date.is_some())
            .count();
    if reviews > 0 {
        cannot.push(format!(
            "{reviews} review dates (the retention rules' dates stay in the case)"
        ));
    }
    cannot
}

fn forbids(snap: &CaseSnapshot, g: Option<&Grading>) -> bool {
    g.is_some_and(|g| {
        snap.scheme(&g.scheme)
            .is_some_and(|s| s.forbids_dissemination(Some(g)))
    })
}

/// Items that may go out ([`Selection`]), limited to some entities (and the links and events
/// among them) when `only` is given. Restricted items stay out, except, with
/// `include_restricted` (the caller has a reason on record for it), those of an explicit
/// selection; without a selection they stay out, so that nobody includes them by accident.
pub(crate) fn select_including<'a>(
    snap: &'a CaseSnapshot,
    override_reason: Option<&str>,
    path: &Path,
    only: Option<&[crate::model::EntityId]>,
    include_restricted: bool,
) -> Result<Selection<'a>, IoError> {
    let include_restricted = include_restricted && only.is_some();
    let chosen: Option<HashSet<crate::model::EntityId>> =
        only.map(|ids| ids.iter().copied().collect());
    let mut skipped = 0;
    let mut blocked = Vec::new();
    let mut check = |what: String, g: Option<&Grading>, attrs: &[Attribute]| {
        if forbids(snap, g) || attrs.iter().any(|a| forbids(snap, a.grading.as_ref())) {
            blocked.push(what);
        }
    };
    let entities: Vec<&Entity> = snap
        .entities
        .iter()
        .filter(|e| chosen.as_ref().is_none_or(|c| c.contains(&e.id)))
        .filter(|e| {
            let keep = !e.restricted || include_restricted;
            if !keep {
                skipped += 1;
            }
            keep
        })
        .collect();
    let ok: HashSet<_> = entities.iter().map(|e| e.id).collect();
    let links: Vec<&Link> = snap
        .links
        .iter()
        .filter(|l| {
            chosen
                .as_ref()
                .is_none_or(|c| c.contains(&l.source) && c.contains(&l.target))
        })
        .filter(|l| {
            let keep = (!l.restricted || include_restricted)
                && ok.contains(&l.source)
                && ok.contains(&l.target);
            if !keep {
                skipped += 1;
            }
            keep
        })
        .collect();
    let events: Vec<&Event> = snap
        .events
        .iter()
        .filter(|e| {
            chosen
                .as_ref()
                .is_none_or(|c| e.participants.iter().all(|p| c.contains(&p.entity)))
        })
        .filter(|e| {
            let keep = (!e.restricted || include_restricted)
                && e.participants.iter().all(|p| ok.contains(&p.entity));
            if !keep {
                skipped += 1;
            }
            keep
        })
        .collect();
    for e in &entities {
        check(e.id.to_string(), e.grading.as_ref(), &e.attributes);
    }
    for l in &links {
        check(l.id.to_string(), l.grading.as_ref(), &l.attributes);
    }
    for e in &events {
        check(e.id.to_string(), e.grading.as_ref(), &e.attributes);
    }
    if !blocked.is_empty() && override_reason.is_none_or(|r| r.trim().is_empty()) {
        return Err(IoError::Refused {
            path: path.to_path_buf(),
            reason: format!(
                "{} item(s) carry a handling code that forbids dissemination (first: {}); nothing was written. Give a reason for overriding the dissemination rule if the disclosure is authorised",
                blocked.len(),
                blocked[..blocked.len().min(5)].join(", ")
            ),
        });
    }
    Ok(Selection {
        entities,
        links,
        events,
        skipped_restricted: skipped,
    })
}

pub(crate) fn grade_cells(g: Option<&Grading>) -> [String; 4] {
    match g {
        None => Default::default(),
        Some(g) => [
            g.scheme.clone(),
            g.source.clone().unwrap_or_default(),
            g.information.clone().unwrap_or_default(),
            g.handling.clone().unwrap_or_default(),
        ],
    }
}

fn attrs_text(attrs: &[Attribute]) -> String {
    attrs
        .iter()
        .map(|a| format!("{}={}", a.property, a.value))
        .collect::<Vec<_>>()
        .join("; ")
}

fn csv_writer(path: &Path) -> Result<csv::Writer<std::fs::File>, IoError> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|source| IoError::Write {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(csv::Writer::from_writer(file))
}

fn write_err(path: &Path) -> impl Fn(csv::Error) -> IoError + '_ {
    move |e| IoError::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    }
}

fn row<'r>(cells: impl IntoIterator<Item = &'r str>) -> Vec<String> {
    cells.into_iter().map(neutralise_formula).collect()
}

fn write_csv_folder(dir: &Path, sel: &Selection<'_>) -> Result<Vec<PathBuf>, IoError> {
    std::fs::create_dir(dir).map_err(|source| IoError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let ep = dir.join("entities.csv");
    let mut w = csv_writer(&ep)?;
    let err = write_err(&ep);
    w.write_record([
        "id",
        "type",
        "label",
        "source_id",
        "category",
        "grade_scheme",
        "grade_source",
        "grade_information",
        "grade_handling",
        "provenance",
        "attributes",
    ])
    .map_err(&err)?;
    for e in &sel.entities {
        let g = grade_cells(e.grading.as_ref());
        let id = e.id.to_string();
        let prov = e.provenance.to_string();
        let attrs = attrs_text(&e.attributes);
        w.write_record(row([
            id.as_str(),
            &e.entity_type,
            &e.label,
            e.source_id.as_deref().unwrap_or(""),
            e.category.map_or("", |c| c.as_str()),
            &g[0],
            &g[1],
            &g[2],
            &g[3],
            &prov,
            &attrs,
        ]))
        .map_err(&err)?;
    }
    w.flush().map_err(|source| IoError::Write {
        path: ep.clone(),
        source,
    })?;
    let lp = dir.join("links.csv");
    let mut w = csv_writer(&lp)?;
    let err = write_err(&lp);
    w.write_record([
        "id",
        "type",
        "source",
        "target",
        "directed",
        "strength",
        "weight",
        "label",
        "grade_scheme",
        "grade_source",
        "grade_information",
        "grade_handling",
        "provenance",
        "attributes",
    ])
    .map_err(&err)?;
    for l in &sel.links {
        let g = grade_cells(l.grading.as_ref());
        let cells = [
            l.id.to_string(),
            l.link_type.clone(),
            l.source.to_string(),
            l.target.to_string(),
            l.directed.to_string(),
            l.strength.as_str().to_string(),
            l.weight.map(|w| w.to_string()).unwrap_or_default(),
            l.label.clone().unwrap_or_default(),
            g[0].clone(),
            g[1].clone(),
            g[2].clone(),
            g[3].clone(),
            l.provenance.to_string(),
            attrs_text(&l.attributes),
        ];
        w.write_record(row(cells.iter().map(String::as_str)))
            .map_err(&err)?;
    }
    w.flush().map_err(|source| IoError::Write {
        path: lp.clone(),
        source,
    })?;
    let vp = dir.join("events.csv");
    let mut w = csv_writer(&vp)?;
    let err = write_err(&vp);
    w.write_record([
        "id",
        "type",
        "start_utc",
        "end_utc",
        "original_time",
        "original_zone",
        "participants",
        "grade_scheme",
        "grade_source",
        "grade_information",
        "grade_handling",
        "provenance",
        "attributes",
    ])
    .map_err(&err)?;
    for e in &sel.events {
        let g = grade_cells(e.grading.as_ref());
        let parts = e
            .participants
            .iter()
            .map(|p| format!("{}:{}", p.role.as_str(), p.entity))
            .collect::<Vec<_>>()
            .join(" ");
        let cells = [
            e.id.to_string(),
            e.event_type.clone(),
            e.time.start().to_rfc3339(),
            e.time.end().map(|t| t.to_rfc3339()).unwrap_or_default(),
            e.time.original_text.clone().unwrap_or_default(),
            e.time.original_zone.clone().unwrap_or_default(),
            parts,
            g[0].clone(),
            g[1].clone(),
            g[2].clone(),
            g[3].clone(),
            e.provenance.to_string(),
            attrs_text(&e.attributes),
        ];
        w.write_record(row(cells.iter().map(String::as_str)))
            .map_err(&err)?;
    }
    w.flush().map_err(|source| IoError::Write {
        path: vp.clone(),
        source,
    })?;
    Ok(vec![ep.clone(), lp.clone(), vp.clone()])
}

/// Writes the i2 link rows; returns how many events had more than two participants (or
/// none) and were carried in part.
fn write_i2(path: &Path, snap: &CaseSnapshot, sel: &Selection<'_>) -> Result<usize, IoError> {
    let mut w = csv_writer(path)?;
    let err = write_err(path);
    w.write_record([
        "link_id",
        "link_type",
        "direction",
        "strength",
        "date",
        "time",
        "grade_source",
        "grade_information",
        "grade_handling",
        "end1_id",
        "end1_type",
        "end1_label",
        "end1_attributes",
        "end2_id",
        "end2_type",
        "end2_label",
        "end2_attributes",
        "link_label",
        "link_attributes",
    ])
    .map_err(&err)?;
    for l in &sel.links {
        let (Some(a), Some(b)) = (snap.entity(l.source), snap.entity(l.target)) else {
            continue;
        };
        // i2 takes a date and a time per link; the link's start date, when it has one.
        let start = l
            .attributes
            .iter()
            .find(|x| x.property == "startDate" || x.property == "date")
            .map(|x| x.value.clone())
            .unwrap_or_default();
        let (date, time) = match start.split_once('T') {
            Some((d, t)) => (d.to_string(), t.to_string()),
            None => (start, String::new()),
        };
        let g = grade_cells(l.grading.as_ref());
        let cells = [
            l.id.to_string(),
            l.link_type.clone(),
            if l.directed { "->".into() } else { "--".into() },
            l.strength.as_str().to_string(),
            date,
            time,
            g[1].clone(),
            g[2].clone(),
            g[3].clone(),
            a.source_id.clone().unwrap_or_else(|| a.id.to_string()),
            a.entity_type.clone(),
            a.label.clone(),
            attrs_text(&a.attributes),
            b.source_id.clone().unwrap_or_else(|| b.id.to_string()),
            b.entity_type.clone(),
            b.label.clone(),
            attrs_text(&b.attributes),
            l.label.clone().unwrap_or_default(),
            attrs_text(&l.attributes),
        ];
        w.write_record(row(cells.iter().map(String::as_str)))
            .map_err(&err)?;
    }
    // Events as link rows dated by their start (i2 charts calls and payments as dated links):
    // between the first two participants, or for a one-sided event between its party and the
    // outside stand-in the graph exports use. More participants are not carried.
    let mut partial = 0usize;
    for ev in &sel.events {
        let Some((one, two, _)) = super::graphml::event_ends(ev) else {
            partial += 1;
            continue;
        };
        if ev.participants.len() > 2 {
            partial += 1;
        }
        let end = |id: crate::model::EntityId| -> [String; 4] {
            snap.entity(id).map_or_else(
                || [id.to_string(), String::new(), String::new(), String::new()],
                |e| {
                    [
                        e.source_id.clone().unwrap_or_else(|| e.id.to_string()),
                        e.entity_type.clone(),
                        e.label.clone(),
                        attrs_text(&e.attributes),
                    ]
                },
            )
        };
        let outside = || {
            [
                super::graphml::OUTSIDE_NODE.to_string(),
                "Unknown".to_string(),
                super::graphml::OUTSIDE_LABEL.to_string(),
                String::new(),
            ]
        };
        let at = |e: Option<crate::model::EntityId>| e.map_or_else(outside, end);
        let (end1, end2) = (at(one), at(two));
        let start = ev.time.start();
        let g = grade_cells(ev.grading.as_ref());
        let mut cells = vec![
            ev.id.to_string(),
            ev.event_type.clone(),
            "->".to_string(),
            "confirmed".to_string(),
            start.format("%Y-%m-%d").to_string(),
            start.format("%H:%M:%S").to_string(),
            g[1].clone(),
            g[2].clone(),
            g[3].clone(),
        ];
        cells.extend(end1);
        cells.extend(end2);
        cells.push(String::new());
        cells.push(attrs_text(&ev.attributes));
        w.write_record(row(cells.iter().map(String::as_str)))
            .map_err(&err)?;
    }
    w.flush().map_err(|source| IoError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(partial)
}

fn sha256_of(path: &Path) -> Result<String, IoError> {
    let bytes = std::fs::read(path).map_err(|source| IoError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(hex::encode(Sha256::digest(bytes)))
}

/// Runs an export: selects, checks dissemination, writes, hashes, writes the manifest and
/// records the disclosure. Every output is on record or not there at all: the files are
/// written under temporary names beside their final ones (see [`Staging`]) and moved into
/// place only after the disclosure is committed to the audit log; if that record cannot be
/// written, what was written is removed. A refused export (no recipient, a protected or
/// existing path, a dissemination rule) is recorded as a refused disclosure.
pub fn export(
    case: &mut Case,
    req: &ExportRequest,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<ExportReport, IoError> {
    let writer =
        |out: &Path, snap: &CaseSnapshot, sel: &Selection<'_>| write_format(req, out, snap, sel);
    export_with(case, req, None, &writer, cancel, progress)
}

/// Writes the selection at `out` (a temporary name); returns the files written (none for a
/// one-file output: `out` itself) and what the output could not carry.
pub(crate) type SelectionWriter<'w> = dyn Fn(&Path, &CaseSnapshot, &Selection<'_>) -> Result<(Vec<PathBuf>, Vec<String>), IoError>
    + 'w;

/// [`export`] with the caller's writer (a case report): the same gate, staging, manifest and
/// disclosure record. With `restricted_reason`, the restricted items of the request's
/// selection go out too, and the reason is in the manifest and the disclosure record.
pub(crate) fn export_with(
    case: &mut Case,
    req: &ExportRequest,
    restricted_reason: Option<&str>,
    writer: &SelectionWriter<'_>,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<ExportReport, IoError> {
    match export_on_record(case, req, restricted_reason, writer, cancel, progress) {
        Err(IoError::Refused { path, reason }) => Err(record_refusal(case, req, path, reason)),
        other => other,
    }
}

/// Records a refused export as a refused disclosure, and returns the refusal (saying so when
/// the record itself could not be written, so that nobody believes it is on record).
fn record_refusal(case: &mut Case, req: &ExportRequest, path: PathBuf, reason: String) -> IoError {
    let recorded = case.record(
        AuditCategory::Disclosure,
        "export refused",
        serde_json::json!({
            "format": req.format,
            "recipient": req.recipient,
            "out": req.out.display().to_string(),
            "reason": reason,
            "dissemination_override": req.override_reason,
            "selected_entities": req.only.as_ref().map(Vec::len),
        }),
    );
    match recorded {
        Ok(_) => IoError::Refused { path, reason },
        Err(e) => IoError::Refused {
            path,
            reason: format!(
                "{reason} (the refusal itself could not be recorded in the case's audit log: {e})"
            ),
        },
    }
}

fn export_on_record(
    case: &mut Case,
    req: &ExportRequest,
    restricted_reason: Option<&str>,
    writer: &SelectionWriter<'_>,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<ExportReport, IoError> {
    let restricted_reason = restricted_reason.map(str::trim);
    if restricted_reason.is_some_and(str::is_empty) {
        return Err(IoError::Refused {
            path: req.out.clone(),
            reason: "restricted items are included only with a reason; give one".into(),
        });
    }
    if req.recipient.trim().is_empty() {
        return Err(IoError::Refused {
            path: req.out.clone(),
            reason: "an export needs a recipient (who receives the data)".into(),
        });
    }
    let manifest_path = {
        let mut p = req.out.as_os_str().to_owned();
        p.push(".manifest.json");
        PathBuf::from(p)
    };
    // Never over the open case nor over any source file an import batch read.
    let mut protected = vec![case.path().to_path_buf()];
    protected.extend(
        case.info()?
            .batches
            .into_iter()
            .filter_map(|b| b.source_path.map(PathBuf::from)),
    );
    let protected: Vec<&Path> = protected.iter().map(PathBuf::as_path).collect();
    check_output_path(&req.out, &protected)?;
    check_output_path(&manifest_path, &protected)?;
    progress.report(Some(0.0), "reading the case");
    let snap = case.snapshot()?;
    let sel = select_including(
        &snap,
        req.override_reason.as_deref(),
        &req.out,
        req.only.as_deref(),
        restricted_reason.is_some(),
    )?;
    if cancel.is_cancelled() {
        return Err(IoError::Cancelled);
    }
    // From here on every file goes under a temporary name; dropping `staging` (an error, a
    // cancel, a panic) removes them.
    let mut staging = Staging::new(&req.out, &manifest_path, req.format.is_folder())?;
    progress.report(Some(0.2), "writing the export");
    let (outputs, not_exported) =
        writer(&staging.partial_out, &snap, &sel).map_err(|e| staging.final_error(e))?;
    if cancel.is_cancelled() {
        return Err(IoError::Cancelled);
    }
    progress.report(Some(0.8), "hashing the files written");
    let mut hashes = Vec::new();
    for p in &outputs {
        sync_file(p).map_err(|e| staging.final_error(e))?;
        let sha = sha256_of(p).map_err(|e| staging.final_error(e))?;
        hashes.push((staging.final_name(p).display().to_string(), sha));
    }
    if staging.folder {
        sync_dir(&staging.partial_out);
    }
    let manifest = Manifest {
        case_id: snap.case_id.clone(),
        case_title: snap.title.clone(),
        audit_head: case.meta("audit_head")?.unwrap_or_default(),
        exported_utc: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        analyst: case.actor().analyst.clone(),
        purpose: case.purpose().to_string(),
        recipient: req.recipient.clone(),
        format: req.format,
        outputs: hashes,
        entities: sel.entities.len(),
        links: sel.links.len(),
        events: sel.events.len(),
        skipped_restricted: sel.skipped_restricted,
        dissemination_override: req.override_reason.clone(),
        not_exported,
        restricted_included: restricted_reason.map(str::to_string),
    };
    let json = serde_json::to_string_pretty(&manifest).map_err(|e| IoError::Write {
        path: manifest_path.clone(),
        source: std::io::Error::other(e),
    })?;
    write_new_synced(&staging.partial_manifest, json.as_bytes()).map_err(|source| {
        IoError::Write {
            path: manifest_path.clone(),
            source,
        }
    })?;
    if cancel.is_cancelled() {
        return Err(IoError::Cancelled);
    }
    // Something may have appeared at the final names while the export was written; the
    // export is refused (and recorded as refused) rather than recorded as delivered.
    for path in [&req.out, &manifest_path] {
        if path.symlink_metadata().is_ok() {
            return Err(IoError::Refused {
                path: path.clone(),
                reason: "a file appeared there while the export was being written; nothing was written over it; choose a new name".into(),
            });
        }
    }
    // The disclosure is committed before anything carries its final name: an output under
    // its final name is always on record. A kill between this commit and the moves below
    // leaves the record and the temporary files but nothing under the final names; the
    // record then names a manifest that is not there, which is the safe way round (a
    // disclosure recorded that did not happen, never one that happened unrecorded), and the
    // SHA-256 in the record tells whether any file found later is this export.
    let details = serde_json::json!({
        "format": req.format,
        "recipient": req.recipient,
        "outputs": manifest.outputs,
        "manifest": manifest_path.display().to_string(),
        "manifest_sha256": hex::encode(Sha256::digest(json.as_bytes())),
        "counts": {"entities": manifest.entities, "links": manifest.links, "events": manifest.events},
        "skipped_restricted": manifest.skipped_restricted,
        "dissemination_override": req.override_reason,
        "restricted_included": restricted_reason,
    });
    progress.report(Some(0.9), "recording the disclosure");
    if let Err(source) = case.record(AuditCategory::Disclosure, "export", details) {
        return Err(IoError::NotRecorded {
            path: req.out.clone(),
            source,
        });
    }
    if let Err(e) = staging.place() {
        // On record but not delivered: say so in the log too, so that the record does not
        // stand alone as a disclosure that never left.
        let withdrawn = case.record(
            AuditCategory::Disclosure,
            "export withdrawn",
            serde_json::json!({
                "out": req.out.display().to_string(),
                "manifest": manifest_path.display().to_string(),
                "reason": format!("the finished files could not be moved into place: {e}"),
            }),
        );
        let note = match withdrawn {
            Ok(_) => {
                "a record that it was withdrawn follows its disclosure in the audit log".to_string()
            }
            Err(w) => format!(
                "its disclosure is in the audit log, but the record that it was withdrawn could not be written ({w})"
            ),
        };
        return Err(IoError::Write {
            path: req.out.clone(),
            source: std::io::Error::new(
                e.kind(),
                format!(
                    "the finished export could not be moved into place ({e}), so it was removed; {note}"
                ),
            ),
        });
    }
    progress.report(Some(1.0), "export recorded");
    Ok(ExportReport {
        manifest_path,
        manifest,
    })
}

/// Writes the selection in the request's format at `out`; returns the files written and what
/// the format could not carry.
fn write_format(
    req: &ExportRequest,
    out: &Path,
    snap: &CaseSnapshot,
    sel: &Selection<'_>,
) -> Result<(Vec<PathBuf>, Vec<String>), IoError> {
    let mut not_exported = Vec::new();
    let files = match req.format {
        ExportFormat::Csv => write_csv_folder(out, sel)?,
        ExportFormat::I2Csv => {
            let partial = write_i2(out, snap, sel)?;
            if partial > 0 {
                not_exported.push(format!(
                    "{partial} events with more than two participants (or none): an i2 link row holds two ends, the rest were left out"
                ));
            }
            not_exported.push("per-value provenance and grading of attributes".into());
            Vec::new()
        }
        ExportFormat::Ftm => {
            not_exported.extend(super::ftm::write_ftm(out, snap, sel)?);
            Vec::new()
        }
        ExportFormat::Gexf => {
            not_exported.extend(super::gexf::write_gexf(out, sel)?);
            Vec::new()
        }
        ExportFormat::GraphMl => {
            not_exported.extend(super::graphml::write_graphml(out, sel)?);
            not_exported.extend(notes_and_reviews_not_carried(sel, "GraphML"));
            Vec::new()
        }
        ExportFormat::Gml => {
            not_exported.extend(super::gml::write_gml(out, sel)?);
            not_exported.extend(notes_and_reviews_not_carried(sel, "GML"));
            Vec::new()
        }
        ExportFormat::Pajek => {
            not_exported.extend(super::pajek::write_pajek(out, sel)?);
            not_exported.extend(notes_and_reviews_not_carried(sel, "Pajek"));
            Vec::new()
        }
        ExportFormat::NodeLink => {
            not_exported.extend(super::nodelink::write_node_link(out, sel)?);
            not_exported.extend(notes_and_reviews_not_carried(sel, "node-link JSON"));
            Vec::new()
        }
        ExportFormat::Dot => {
            not_exported.extend(super::dot::write_dot(out, sel)?);
            not_exported.extend(notes_and_reviews_not_carried(sel, "DOT"));
            Vec::new()
        }
        ExportFormat::Stix => {
            not_exported.extend(super::stix::write_stix(out, sel, &snap.case_id)?);
            Vec::new()
        }
        ExportFormat::Parquet => {
            let (files, dropped) = super::parquet::export::write_parquet_folder(out, sel)?;
            not_exported.extend(dropped);
            files
        }
        ExportFormat::Report => {
            return Err(IoError::Refused {
                path: req.out.clone(),
                reason: "a case report is written by `copkit report`, not as a data export".into(),
            });
        }
    };
    // A one-file format: the output is that file.
    let files = if files.is_empty() && !req.format.is_folder() {
        vec![out.to_path_buf()]
    } else {
        files
    };
    Ok((files, not_exported))
}

/// The suffix of the temporary names exports are written under, so that a user who finds one
/// left by a killed export knows what it is (and that it may be deleted).
pub const PARTIAL_SUFFIX: &str = ".copkit-partial";

/// Temporary names in one process never collide, even with two exports to one path at once.
static PARTIAL_COUNTER: AtomicU64 = AtomicU64::new(0);

/// `.NAME.copkit-partial-PID-N` in the same folder as `path`: the same file system, so the
/// move into place is a rename (or a link), atomic.
fn partial_name(path: &Path) -> Result<PathBuf, IoError> {
    let name = path.file_name().ok_or_else(|| IoError::Refused {
        path: path.to_path_buf(),
        reason: "the output path names no file or folder; give a new name".into(),
    })?;
    let mut partial = std::ffi::OsString::from(".");
    partial.push(name);
    partial.push(format!(
        "{PARTIAL_SUFFIX}-{}-{}",
        std::process::id(),
        PARTIAL_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    Ok(path.with_file_name(partial))
}

/// An export's output and manifest under temporary names beside their final ones. Dropped
/// before [`Staging::place`] succeeded, it removes them.
struct Staging {
    out: PathBuf,
    manifest: PathBuf,
    partial_out: PathBuf,
    partial_manifest: PathBuf,
    folder: bool,
    /// The manifest was moved into place (removed again if the output cannot follow).
    manifest_placed: bool,
    done: bool,
}

impl Staging {
    fn new(out: &Path, manifest: &Path, folder: bool) -> Result<Staging, IoError> {
        Ok(Staging {
            out: out.to_path_buf(),
            manifest: manifest.to_path_buf(),
            partial_out: partial_name(out)?,
            partial_manifest: partial_name(manifest)?,
            folder,
            manifest_placed: false,
            done: false,
        })
    }

    /// The final name of a file written under the temporary one.
    fn final_name(&self, path: &Path) -> PathBuf {
        match path.strip_prefix(&self.partial_out) {
            Ok(rest) if rest.as_os_str().is_empty() => self.out.clone(),
            Ok(rest) => self.out.join(rest),
            Err(_) if path == self.partial_manifest => self.manifest.clone(),
            Err(_) => path.to_path_buf(),
        }
    }

    /// A writer's error, naming the file the user asked for rather than the temporary one.
    fn final_error(&self, err: IoError) -> IoError {
        match err {
            IoError::Write { path, source } => IoError::Write {
                path: self.final_name(&path),
                source,
            },
            IoError::Read { path, source } => IoError::Read {
                path: self.final_name(&path),
                source,
            },
            other => other,
        }
    }

    /// Moves the manifest, then the output, into place, never over an existing file; then
    /// makes the new names durable. The manifest goes first so that an output under its final
    /// name always has its manifest beside it.
    fn place(&mut self) -> std::io::Result<()> {
        place_one(&self.partial_manifest, &self.manifest, false)?;
        self.manifest_placed = true;
        place_one(&self.partial_out, &self.out, self.folder)?;
        self.done = true;
        if let Some(dir) = self.out.parent() {
            sync_dir(dir);
        }
        Ok(())
    }

    fn discard(&self) {
        if self.folder {
            let _ = std::fs::remove_dir_all(&self.partial_out);
        } else {
            let _ = std::fs::remove_file(&self.partial_out);
        }
        let _ = std::fs::remove_file(&self.partial_manifest);
        if self.manifest_placed {
            let _ = std::fs::remove_file(&self.manifest);
        }
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            self.discard();
        }
    }
}

/// Gives `from` the name `to` unless `to` exists. A file is hard-linked (which fails if the
/// target exists, so nothing that appeared meanwhile is replaced) and its temporary name
/// removed; where the file system has no hard links, and for folders, it is renamed after a
/// check (a folder rename never replaces a folder with contents).
fn place_one(from: &Path, to: &Path, folder: bool) -> std::io::Result<()> {
    let exists = || {
        std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{} appeared meanwhile", to.display()),
        )
    };
    if !folder {
        match std::fs::hard_link(from, to) {
            Ok(()) => {
                let _ = std::fs::remove_file(from);
                return Ok(());
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(exists()),
            Err(_) => {} // no hard links here: renamed below
        }
    }
    if to.symlink_metadata().is_ok() {
        return Err(exists());
    }
    std::fs::rename(from, to)
}

/// Writes a new file completely or not at all, for results and reports written beside an
/// export's rules (an analysis result, an import report): under a `.NAME.copkit-partial-*`
/// name in the same folder, flushed, then linked to `path`, never over an existing file. A
/// killed writer leaves at most the clearly named partial file, never a cut file at `path`.
pub fn write_new_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let partial = partial_name(path)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    let written = write_new_synced(&partial, bytes).and_then(|()| place_one(&partial, path, false));
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    } else if let Some(dir) = path.parent() {
        sync_dir(dir);
    }
    written
}

/// Writes a new file (never over one) and flushes it to disk.
fn write_new_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Flushes a written file to disk, so that the disclosure is never recorded for bytes a power
/// cut could still lose.
fn sync_file(path: &Path) -> Result<(), IoError> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|f| f.sync_all())
        .map_err(|source| IoError::Write {
            path: path.to_path_buf(),
            source,
        })
}

/// Makes a folder's entries durable. Best effort: some platforms cannot open a folder as a
/// file, and the data itself is already synced.
fn sync_dir(dir: &Path) {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Prefixes a CSV cell that a spreadsheet would otherwise run as a formula (`=`, `+`, `-`,
/// `@`, tab or CR first), for every CSV this program writes: exports, analysis results, the
/// audit log.
pub fn neutralise_formula(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_new_file_is_written_whole_never_over_another_and_leaves_no_partial() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("result.json");
        write_new_file(&path, b"{\"a\": 1}").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"a\": 1}");
        let err = write_new_file(&path, b"other").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"a\": 1}");
        assert_eq!(names(dir.path()), ["result.json"]);
    }

    #[test]
    fn partial_names_sit_beside_the_output_and_say_what_they_are() {
        let a = partial_name(Path::new("/data/out/export.graphml")).unwrap();
        let b = partial_name(Path::new("/data/out/export.graphml")).unwrap();
        assert_ne!(
            a, b,
            "two exports to one path at once never share a partial name"
        );
        assert_eq!(a.parent(), Some(Path::new("/data/out")));
        let name = a.file_name().unwrap().to_str().unwrap();
        assert!(
            name.starts_with(".export.graphml.copkit-partial-"),
            "{name}"
        );
        assert!(partial_name(Path::new("/")).is_err());
    }
}
