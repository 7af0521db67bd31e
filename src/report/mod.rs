//! The case report (`copkit report`): one self-contained HTML file (styles inline, the chart
//! and the timeline as inline SVG, no external reference of any kind) that prints on A4 with
//! page breaks between its sections. It holds a cover (title, case reference, marking,
//! recipient, author, date), the chart, the timeline, a summary (counts by type, time span,
//! sources with their hashes), entity sheets (every attribute value, link, event and note
//! with its source and grading), the analysis results asked for (run through the analysis
//! components and stored with the case like any run, tables with their parameters and date),
//! the method and an appendix with the manifest and the audit head.
//!
//! A report is an export: it goes through `io::export`'s one path ([`crate::io::export`]),
//! so handling codes that forbid dissemination block it unless overridden with a reason,
//! restricted items stay out unless an explicit selection includes them with a reason, the
//! file is written under a temporary name and moved into place only after its disclosure
//! (recipient, the file's SHA-256, the manifest's) is committed to the audit log, and a
//! refused report is recorded as a refused disclosure.
//!
//! Layouts are Rust-side: a [`Template`] names a [`Layout`], the list of [`Section`]s in
//! order and the limits of each. An agency adds its own layout as one more `Template` arm
//! with its sections, and its header line and marking through [`ReportRequest::header`] and
//! [`ReportRequest::marking`] (the marking proposed otherwise is the strictest handling code
//! in the content).

mod chart;
mod html;
mod timeline;

pub use chart::{ChartDrawing, MAX_CHART_ENTITIES, draw_chart};
pub use html::escape;
pub use timeline::{TimelineDrawing, draw_timeline};

use crate::analysis::{self, AnalysisError, Output, Params};
use crate::io::IoError;
use crate::io::export::{ExportFormat, ExportReport, ExportRequest, Selection};
use crate::jobs::{CancelToken, Progress};
use crate::model::{Entity, EntityId, Grading, Provenance};
use crate::store::{BatchInfo, Case, CaseSnapshot, StoreError};
use html::table;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The named layouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Template {
    /// Cover, chart, timeline, summary, up to 10 entity sheets, analysis, appendix.
    Brief,
    /// Everything, with the method, up to 200 entity sheets and longer tables.
    Full,
}

/// A part of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Cover,
    Chart,
    Timeline,
    Summary,
    EntitySheets,
    Analysis,
    Method,
    Appendix,
}

/// What a template shows, in order, and how much of it.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub name: &'static str,
    pub sections: &'static [Section],
    /// Entity sheets at most (the best connected first when no selection names them).
    pub max_sheets: usize,
    /// Rows of a sheet's link and event tables, and of an analysis table, at most.
    pub max_rows: usize,
}

impl Template {
    pub fn parse(name: &str) -> Option<Template> {
        match name.trim().to_ascii_lowercase().as_str() {
            "brief" => Some(Template::Brief),
            "full" => Some(Template::Full),
            _ => None,
        }
    }

    pub fn layout(self) -> Layout {
        use Section::*;
        match self {
            Template::Brief => Layout {
                name: "brief",
                sections: &[
                    Cover,
                    Chart,
                    Timeline,
                    Summary,
                    EntitySheets,
                    Analysis,
                    Appendix,
                ],
                max_sheets: 10,
                max_rows: 25,
            },
            Template::Full => Layout {
                name: "full",
                sections: &[
                    Cover,
                    Summary,
                    Chart,
                    Timeline,
                    EntitySheets,
                    Analysis,
                    Method,
                    Appendix,
                ],
                max_sheets: 200,
                max_rows: 200,
            },
        }
    }
}

/// One analysis to run for the report: a component and its parameters.
#[derive(Clone)]
pub struct AnalysisRequest {
    pub component: &'static dyn analysis::Component,
    pub params: Params,
}

impl AnalysisRequest {
    /// `NAME` or `NAME:key=value:key=value` (e.g. `pagerank:damping=0.9`).
    pub fn parse(spec: &str) -> Result<AnalysisRequest, ReportError> {
        let mut parts = spec.trim().split(':');
        let name = parts.next().unwrap_or_default().trim();
        let component =
            analysis::find(name).ok_or_else(|| ReportError::UnknownComponent(name.to_string()))?;
        let params = Params::parse_pairs(parts)
            .and_then(|p| p.check_known(component.params()).map(|()| p))
            .map_err(|e| ReportError::BadAnalysis {
                spec: spec.to_string(),
                reason: e.to_string(),
            })?;
        Ok(AnalysisRequest { component, params })
    }
}

impl std::fmt::Debug for AnalysisRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnalysisRequest")
            .field("component", &self.component.name())
            .field("params", &self.params)
            .finish()
    }
}

/// What the user asked for.
#[derive(Clone, Debug)]
pub struct ReportRequest {
    pub out: PathBuf,
    pub template: Template,
    /// The entities the report is about (their sheets, and the links and events among them);
    /// the whole case when `None`.
    pub selection: Option<Vec<EntityId>>,
    pub recipient: String,
    /// A reason to disclose items whose handling code forbids dissemination.
    pub override_reason: Option<String>,
    /// A reason to include the restricted items of the selection.
    pub restricted_reason: Option<String>,
    pub analyses: Vec<AnalysisRequest>,
    /// The report's title (default: the case title).
    pub title: Option<String>,
    /// The protective marking (default: proposed from the strictest handling code).
    pub marking: Option<String>,
    /// The agency's header line, printed above the marking on the cover.
    pub header: Option<String>,
}

/// Why a report was not written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Io(#[from] IoError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no analysis component called '{0}'; `copkit analyze --list` shows the components")]
    UnknownComponent(String),
    #[error("the analysis '{spec}' cannot run: {reason}; write it as NAME or NAME:key=value")]
    BadAnalysis { spec: String, reason: String },
    #[error("the analysis '{component}' for the report failed ({source}); nothing was written")]
    Analysis {
        component: String,
        source: AnalysisError,
    },
}

/// What a report did.
#[derive(Clone, Debug)]
pub struct ReportOutcome {
    pub export: ExportReport,
    /// The stored analysis runs the report shows.
    pub analysis_runs: Vec<i64>,
    pub marking: String,
    pub sheets: usize,
}

/// An analysis run shown in the report.
struct RunShown {
    id: i64,
    component: &'static str,
    params: Params,
    date_utc: String,
    generation: u64,
    output: Output,
}

/// What the report needs of the case besides the snapshot and the selection.
struct Context<'a> {
    req: &'a ReportRequest,
    layout: Layout,
    batches: Vec<BatchInfo>,
    audit_head: String,
    analyst: String,
    purpose: String,
    saved_chart: Option<String>,
    runs: Vec<RunShown>,
    written_utc: String,
}

/// Writes the report as an export: gate, temporary name, manifest, disclosure record, then
/// the final name. The analyses asked for run first (when the gate lets the report through)
/// and are stored with the case.
pub fn write_report(
    case: &mut Case,
    req: &ReportRequest,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<ReportOutcome, ReportError> {
    let export_req = ExportRequest {
        format: ExportFormat::Report,
        out: req.out.clone(),
        recipient: req.recipient.clone(),
        override_reason: req.override_reason.clone(),
        only: req.selection.clone(),
    };
    let snapshot = case.snapshot()?;
    // The gate first: a report that will be refused (a handling code, no recipient, an
    // existing file) runs no analysis. The export below checks again and records the refusal.
    let gate = crate::io::export::select_including(
        &snapshot,
        req.override_reason.as_deref(),
        &req.out,
        req.selection.as_deref(),
        req.restricted_reason.is_some(),
    )
    .map(|_| ());
    let mut runs = Vec::new();
    let refused =
        gate.is_err() || req.recipient.trim().is_empty() || req.out.symlink_metadata().is_ok();
    if !refused {
        for (k, a) in req.analyses.iter().enumerate() {
            progress.report(
                Some(0.3 * k as f32 / req.analyses.len() as f32),
                &format!("running {}", a.component.name()),
            );
            let output =
                analysis::run_component(a.component, &snapshot, &a.params, cancel, progress)
                    .map_err(|source| match source {
                        AnalysisError::Cancelled => ReportError::Io(IoError::Cancelled),
                        source => ReportError::Analysis {
                            component: a.component.name().to_string(),
                            source,
                        },
                    })?;
            let id = analysis::store_run(case, a.component.name(), &a.params, &output)?;
            runs.push(RunShown {
                id,
                component: a.component.name(),
                params: a.params.clone(),
                date_utc: now_utc(),
                generation: snapshot.generation,
                output,
            });
        }
    }
    let ctx = Context {
        req,
        layout: req.template.layout(),
        batches: case.info()?.batches,
        audit_head: case.meta("audit_head")?.unwrap_or_default(),
        analyst: case.actor().analyst.clone(),
        purpose: case.purpose().to_string(),
        saved_chart: case.chart()?,
        runs,
        written_utc: now_utc(),
    };
    let marking = std::cell::RefCell::new(String::new());
    let sheets = std::cell::Cell::new(0usize);
    let writer = |out: &Path, snap: &CaseSnapshot, sel: &Selection<'_>| {
        let built = build(&ctx, snap, sel);
        *marking.borrow_mut() = built.marking;
        sheets.set(built.sheets);
        write_new(out, built.html.as_bytes())?;
        Ok((vec![out.to_path_buf()], built.not_included))
    };
    let export = crate::io::export::export_with(
        case,
        &export_req,
        req.restricted_reason.as_deref(),
        &writer,
        cancel,
        progress,
    )?;
    Ok(ReportOutcome {
        export,
        analysis_runs: ctx.runs.iter().map(|r| r.id).collect(),
        marking: marking.into_inner(),
        sheets: sheets.get(),
    })
}

fn now_utc() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn write_new(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    use std::io::Write as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|source| IoError::Write {
            path: path.to_path_buf(),
            source,
        })
}

/// The report's text and what the template left out.
struct Built {
    html: String,
    marking: String,
    sheets: usize,
    not_included: Vec<String>,
}

const STYLE: &str = r#"
@page { size: A4; margin: 16mm 14mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; color: #111; background: #fff; max-width: 185mm; margin: 0 auto; }
h1 { font-size: 20pt; margin: 6mm 0 2mm; }
h2 { font-size: 14pt; border-bottom: 1px solid #444; margin-top: 0; }
h3 { font-size: 11pt; margin: 4mm 0 1mm; }
section.page { break-before: page; page-break-before: always; padding-top: 2mm; }
section.cover { text-align: center; padding-top: 30mm; }
.marking { text-align: center; font-weight: bold; letter-spacing: 0.1em; color: #900; border: 2px solid #900; padding: 1mm; margin: 2mm 0; }
.header { text-align: center; font-weight: bold; font-size: 12pt; }
dl.cover { display: inline-grid; grid-template-columns: auto auto; gap: 1mm 6mm; text-align: left; margin-top: 10mm; }
dl.cover dt { font-weight: bold; }
dl.cover dd { margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; margin: 1mm 0 3mm; }
th, td { border: 1px solid #bbb; padding: 1px 4px; vertical-align: top; text-align: left; overflow-wrap: anywhere; }
th { background: #eee; }
thead { display: table-header-group; }
tr, figure, p.statement { break-inside: avoid; page-break-inside: avoid; }
figure { margin: 0; }
figcaption, .source, .grade, .note { color: #444; font-size: 8.5pt; }
.sheet { break-inside: auto; border-top: 2px solid #444; margin-top: 5mm; }
.restricted { color: #900; font-weight: bold; }
code { font-size: 8pt; overflow-wrap: anywhere; }
@media print { body { max-width: none; } .running { position: fixed; top: 0; left: 0; right: 0; margin: 0; font-size: 8pt; border-width: 1px; background: #fff; } section.page { padding-top: 8mm; } }
"#;

fn build(ctx: &Context<'_>, snap: &CaseSnapshot, sel: &Selection<'_>) -> Built {
    let req = ctx.req;
    let title = req.title.clone().unwrap_or_else(|| snap.title.clone());
    let proposed = strictest_handling(snap, sel);
    let marking = req
        .marking
        .clone()
        .filter(|m| !m.trim().is_empty())
        .or_else(|| proposed.clone())
        .unwrap_or_else(|| "NOT MARKED".to_string());
    let mut not_included = Vec::new();
    let chosen = chosen_entities(ctx, sel, &mut not_included);
    let case_source = format!(
        "the case {} at generation {}, audit head {}",
        snap.case_id, snap.generation, ctx.audit_head
    );

    let mut body = String::new();
    for section in ctx.layout.sections {
        match section {
            Section::Cover => cover(&mut body, ctx, snap, &title, &marking, proposed.as_deref()),
            Section::Chart => {
                let (shown, what) = chart::chart_entities(
                    &sel.entities,
                    ctx.saved_chart.as_deref(),
                    req.selection.is_some(),
                );
                let d = draw_chart(
                    &shown,
                    &sel.links,
                    &sel.events,
                    ctx.saved_chart.as_deref(),
                    &title,
                );
                if d.left_out > 0 {
                    not_included.push(format!(
                        "{} entities from the chart drawing (it shows the {} best connected)",
                        d.left_out, d.drawn
                    ));
                }
                let _ = writeln!(
                    body,
                    "<section class=\"page\" id=\"chart\"><h2>Chart</h2><figure>{}<figcaption>{}: {} entities, {} links and {} lines for events between two of them. Placed by the chart saved with the case: {}; laid out for the report (force layout, the saved ones fixed): {}. Every item's source and grading are in the entity sheets and tables below. <span class=\"source\">Source: {}.</span></figcaption></figure></section>",
                    d.svg,
                    what,
                    d.drawn,
                    d.links,
                    d.event_lines,
                    d.from_saved,
                    d.laid_out,
                    escape(&case_source)
                );
            }
            Section::Timeline => {
                let themes: Vec<(EntityId, String)> = chosen
                    .iter()
                    .take(timeline::MAX_THEMES)
                    .map(|e| (e.id, e.label.clone()))
                    .collect();
                let d = draw_timeline(&sel.events, &themes, &title);
                let span = match (d.first_ms, d.last_ms) {
                    (Some(a), Some(b)) => format!(
                        "from {} to {}",
                        timeline::date_label(a, 1),
                        timeline::date_label(b, 1)
                    ),
                    _ => "no events".into(),
                };
                let _ = writeln!(
                    body,
                    "<section class=\"page\" id=\"timeline\"><h2>Timeline</h2><figure>{}<figcaption>{} events {span} (UTC), counted per {}; one line per entity of the entity sheets (at most {}), a tick per event it takes part in. <span class=\"source\">Source: {}.</span></figcaption></figure></section>",
                    d.svg,
                    sel.events.len(),
                    d.bin_name,
                    timeline::MAX_THEMES,
                    escape(&case_source)
                );
            }
            Section::Summary => summary(&mut body, ctx, snap, sel, &case_source),
            Section::EntitySheets => {
                body.push_str("<section class=\"page\" id=\"sheets\"><h2>Entity sheets</h2>\n");
                if chosen.is_empty() {
                    body.push_str("<p>No entity in the report.</p>\n");
                }
                for e in &chosen {
                    sheet(&mut body, ctx, snap, sel, e, &mut not_included);
                }
                body.push_str("</section>\n");
            }
            Section::Analysis => analysis_section(&mut body, ctx, snap, sel, &mut not_included),
            Section::Method => method(&mut body, ctx, snap, sel, chosen.len()),
            Section::Appendix => appendix(&mut body, ctx, snap, sel, &not_included),
        }
    }
    let mut html = String::with_capacity(body.len() + 4096);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"generator\" content=\"COPKIT {}\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<div class=\"marking running\">{}</div>\n{body}<div class=\"marking\">{}</div>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        escape(&title),
        escape(&marking),
        escape(&marking)
    );
    Built {
        html,
        marking,
        sheets: chosen.len(),
        not_included,
    }
}

/// The strictest handling code of the content (the last in its scheme's list, which runs
/// from the least to the most restrictive), as "CODE" or "CODE (scheme)" when schemes mix.
fn strictest_handling(snap: &CaseSnapshot, sel: &Selection<'_>) -> Option<String> {
    let mut gradings: Vec<&Grading> = Vec::new();
    for e in &sel.entities {
        gradings.extend(e.grading.as_ref());
        gradings.extend(e.attributes.iter().filter_map(|a| a.grading.as_ref()));
        gradings.extend(e.notes.iter().filter_map(|n| n.grading.as_ref()));
    }
    for l in &sel.links {
        gradings.extend(l.grading.as_ref());
        gradings.extend(l.attributes.iter().filter_map(|a| a.grading.as_ref()));
    }
    for v in &sel.events {
        gradings.extend(v.grading.as_ref());
        gradings.extend(v.attributes.iter().filter_map(|a| a.grading.as_ref()));
    }
    gradings
        .into_iter()
        .filter_map(|g| {
            let h = g.handling.as_deref()?;
            let rank = snap
                .scheme(&g.scheme)?
                .handling_codes
                .iter()
                .position(|c| c.code.eq_ignore_ascii_case(h))
                .unwrap_or(0);
            Some((rank, h))
        })
        .max_by_key(|(rank, _)| *rank)
        .map(|(_, h)| h.to_ascii_uppercase())
}

/// The entities with a sheet: the selection's, or the best connected of the report.
fn chosen_entities<'a>(
    ctx: &Context<'_>,
    sel: &Selection<'a>,
    not_included: &mut Vec<String>,
) -> Vec<&'a Entity> {
    let mut chosen: Vec<&Entity> = sel.entities.clone();
    if ctx.req.selection.is_none() {
        let mut degree: HashMap<EntityId, usize> = HashMap::new();
        for l in &sel.links {
            *degree.entry(l.source).or_default() += 1;
            *degree.entry(l.target).or_default() += 1;
        }
        for v in &sel.events {
            for p in &v.participants {
                *degree.entry(p.entity).or_default() += 1;
            }
        }
        chosen.sort_by(|a, b| {
            degree
                .get(&b.id)
                .unwrap_or(&0)
                .cmp(degree.get(&a.id).unwrap_or(&0))
                .then(a.id.cmp(&b.id))
        });
    }
    if chosen.len() > ctx.layout.max_sheets {
        not_included.push(format!(
            "entity sheets of {} entities beyond the {} template's {} (give --selection to choose them)",
            chosen.len() - ctx.layout.max_sheets,
            ctx.layout.name,
            ctx.layout.max_sheets
        ));
        chosen.truncate(ctx.layout.max_sheets);
    }
    chosen
}

/// "admiralty B2 OPEN", or "ungraded".
fn grade_text(g: Option<&Grading>) -> String {
    match g {
        Some(g) => format!("{} {g}", g.scheme),
        None => "ungraded".to_string(),
    }
}

fn source_cell(p: &Provenance) -> String {
    format!("<span class=\"source\">{}</span>", escape(&p.to_string()))
}

fn grade_cell(g: Option<&Grading>) -> String {
    format!("<span class=\"grade\">{}</span>", escape(&grade_text(g)))
}

fn cover(
    body: &mut String,
    ctx: &Context<'_>,
    snap: &CaseSnapshot,
    title: &str,
    marking: &str,
    proposed: Option<&str>,
) {
    let req = ctx.req;
    body.push_str("<section class=\"cover\" id=\"cover\">\n");
    if let Some(h) = req.header.as_deref().filter(|h| !h.trim().is_empty()) {
        let _ = writeln!(body, "<div class=\"header\">{}</div>", escape(h));
    }
    let _ = writeln!(
        body,
        "<div class=\"marking\" id=\"marking\">{}</div>\n<h1>{}</h1>\n<p>Case report ({} template)</p>",
        escape(marking),
        escape(title),
        ctx.layout.name
    );
    let marking_note = match (req.marking.as_deref(), proposed) {
        (Some(_), Some(p)) => {
            format!("set by the author; strictest handling code in the content: {p}")
        }
        (Some(_), None) => "set by the author; the content carries no handling code".into(),
        (None, Some(_)) => "proposed: the strictest handling code in the content".into(),
        (None, None) => "the content carries no handling code".into(),
    };
    let rows = [
        ("Case reference", snap.case_id.clone()),
        ("Case title", snap.title.clone()),
        ("Marking", format!("{marking} ({marking_note})")),
        ("Recipient", req.recipient.clone()),
        ("Purpose", ctx.purpose.clone()),
        ("Author", ctx.analyst.clone()),
        ("Date (UTC)", ctx.written_utc.clone()),
        ("Audit head", ctx.audit_head.clone()),
    ];
    body.push_str("<dl class=\"cover\">\n");
    for (k, v) in rows {
        let _ = writeln!(body, "<dt>{k}</dt><dd>{}</dd>", escape(&v));
    }
    body.push_str("</dl>\n<p class=\"note\">This report is a disclosure recorded in the case's audit log, with its recipient and the SHA-256 of this file. Every statement in it names its source and grading.</p>\n</section>\n");
}

fn summary(
    body: &mut String,
    ctx: &Context<'_>,
    snap: &CaseSnapshot,
    sel: &Selection<'_>,
    case_source: &str,
) {
    body.push_str("<section class=\"page\" id=\"summary\"><h2>Summary</h2>\n");
    let count = |types: &mut dyn Iterator<Item = &str>| -> Vec<Vec<String>> {
        let mut by: BTreeMap<&str, usize> = BTreeMap::new();
        for t in types {
            *by.entry(t).or_default() += 1;
        }
        by.into_iter()
            .map(|(t, n)| vec![escape(t), n.to_string()])
            .collect()
    };
    let graded = sel.entities.iter().filter(|e| e.grading.is_some()).count()
        + sel.links.iter().filter(|l| l.grading.is_some()).count()
        + sel.events.iter().filter(|e| e.grading.is_some()).count();
    let total = sel.entities.len() + sel.links.len() + sel.events.len();
    let _ = writeln!(
        body,
        "<p class=\"statement\">The report covers {} entities, {} links and {} events; {} restricted items (or items touching them) are left out. {graded} of the {total} items are graded; their gradings are in the entity sheets. <span class=\"source\">Source: {}.</span> <span class=\"grade\">Grading: counts of items of every grading.</span></p>",
        sel.entities.len(),
        sel.links.len(),
        sel.events.len(),
        sel.skipped_restricted,
        escape(case_source)
    );
    body.push_str("<h3>Entities by type</h3>\n");
    body.push_str(&table(
        "counts",
        &["type", "count"],
        &count(&mut sel.entities.iter().map(|e| e.entity_type.as_str())),
    ));
    body.push_str("<h3>Links by type</h3>\n");
    body.push_str(&table(
        "counts",
        &["type", "count"],
        &count(&mut sel.links.iter().map(|l| l.link_type.as_str())),
    ));
    body.push_str("<h3>Events by type</h3>\n");
    body.push_str(&table(
        "counts",
        &["type", "count"],
        &count(&mut sel.events.iter().map(|e| e.event_type.as_str())),
    ));
    let first = sel.events.iter().map(|e| e.time.start_ms).min();
    let last = sel
        .events
        .iter()
        .map(|e| e.time.end_ms.unwrap_or(e.time.start_ms))
        .max();
    let span = match (first, last) {
        (Some(a), Some(b)) => format!(
            "from {} to {} (UTC)",
            timeline::date_label(a, 1),
            timeline::date_label(b, 1)
        ),
        _ => "no events".into(),
    };
    let _ = writeln!(
        body,
        "<h3>Time span</h3>\n<p class=\"statement\">Events {span}. <span class=\"source\">Source: the events' times as imported (UTC).</span></p>"
    );
    // The sources the report's items came from, with the hash recorded at import.
    let used: HashSet<i64> = sel
        .entities
        .iter()
        .map(|e| &e.provenance)
        .chain(sel.links.iter().map(|l| &l.provenance))
        .chain(sel.events.iter().map(|e| &e.provenance))
        .chain(
            sel.entities
                .iter()
                .flat_map(|e| e.attributes.iter().map(|a| &a.provenance)),
        )
        .filter_map(|p| p.batch.map(|b| b.0))
        .collect();
    let rows: Vec<Vec<String>> = ctx
        .batches
        .iter()
        .filter(|b| used.contains(&b.id))
        .map(|b| {
            vec![
                format!("B{}", b.id),
                escape(&b.kind),
                escape(&b.description),
                escape(b.source_path.as_deref().unwrap_or("-")),
                format!(
                    "<code>{}</code>",
                    escape(b.source_sha256.as_deref().unwrap_or("-"))
                ),
                escape(&b.created_utc),
                escape(&b.actor),
            ]
        })
        .collect();
    body.push_str("<h3>Sources</h3>\n<p class=\"note\">Every import batch an item of the report came from, with the SHA-256 of the source file recorded when it was imported (`copkit verify-sources` checks it again).</p>\n");
    body.push_str(&table(
        "sources",
        &[
            "batch",
            "kind",
            "description",
            "source file",
            "SHA-256",
            "imported (UTC)",
            "by",
        ],
        &rows,
    ));
    let _ = snap;
    body.push_str("</section>\n");
}

fn entity_name(snap: &CaseSnapshot, id: EntityId) -> String {
    match snap.entity(id) {
        Some(e) => format!("{} {}", e.id, escape(&e.label)),
        None => id.to_string(),
    }
}

fn sheet(
    body: &mut String,
    ctx: &Context<'_>,
    snap: &CaseSnapshot,
    sel: &Selection<'_>,
    e: &Entity,
    not_included: &mut Vec<String>,
) {
    let max = ctx.layout.max_rows;
    let _ = writeln!(
        body,
        "<div class=\"sheet\" id=\"sheet-{}\"><h3>{} · {}</h3>",
        e.id,
        e.id,
        escape(&e.label)
    );
    if e.restricted {
        let _ = writeln!(
            body,
            "<p class=\"restricted\">Restricted item, included for this reason: {}</p>",
            escape(ctx.req.restricted_reason.as_deref().unwrap_or(""))
        );
    }
    let mut facts = format!("Type {}", escape(&e.entity_type));
    if let Some(c) = e.category {
        let _ = write!(facts, "; person category {}", c.as_str());
    }
    if let Some(s) = &e.source_id {
        let _ = write!(facts, "; identifier in its source {}", escape(s));
    }
    let _ = writeln!(
        body,
        "<p class=\"statement\">{facts}. <span class=\"source\">Source: {}.</span> <span class=\"grade\">Grading: {}.</span></p>",
        escape(&e.provenance.to_string()),
        escape(&grade_text(e.grading.as_ref()))
    );
    let rows: Vec<Vec<String>> = e
        .attributes
        .iter()
        .map(|a| {
            vec![
                escape(&a.property),
                escape(&a.value),
                source_cell(&a.provenance),
                grade_cell(a.grading.as_ref()),
            ]
        })
        .collect();
    body.push_str("<h4>Attributes</h4>\n");
    body.push_str(&table(
        "attributes",
        &["property", "value", "source", "grading"],
        &rows,
    ));
    let links: Vec<_> = sel
        .links
        .iter()
        .filter(|l| l.source == e.id || l.target == e.id)
        .collect();
    let rows: Vec<Vec<String>> = links
        .iter()
        .take(max)
        .map(|l| {
            let (dir, other) = if l.source == e.id {
                (if l.directed { "to" } else { "with" }, l.target)
            } else {
                (if l.directed { "from" } else { "with" }, l.source)
            };
            vec![
                l.id.to_string(),
                escape(&l.link_type),
                format!("{dir} {}", entity_name(snap, other)),
                l.strength.as_str().to_string(),
                source_cell(&l.provenance),
                grade_cell(l.grading.as_ref()),
            ]
        })
        .collect();
    let _ = writeln!(body, "<h4>Links ({})</h4>", links.len());
    body.push_str(&table(
        "links",
        &["link", "type", "other end", "strength", "source", "grading"],
        &rows,
    ));
    if links.len() > max {
        let _ = writeln!(
            body,
            "<p class=\"note\">{} more links not listed (limit of the {} template).</p>",
            links.len() - max,
            ctx.layout.name
        );
        not_included.push(format!(
            "{} links of {} beyond the sheet's limit",
            links.len() - max,
            e.id
        ));
    }
    let mut events: Vec<_> = sel
        .events
        .iter()
        .filter(|v| v.participants.iter().any(|p| p.entity == e.id))
        .collect();
    events.sort_by_key(|v| (v.time.start_ms, v.id));
    let rows: Vec<Vec<String>> = events
        .iter()
        .take(max)
        .map(|v| {
            let others = v
                .participants
                .iter()
                .filter(|p| p.entity != e.id)
                .map(|p| format!("{} {}", p.role.as_str(), entity_name(snap, p.entity)))
                .collect::<Vec<_>>()
                .join("; ");
            vec![
                v.id.to_string(),
                v.time.start().format("%Y-%m-%d %H:%M:%S").to_string(),
                escape(&v.event_type),
                others,
                source_cell(&v.provenance),
                grade_cell(v.grading.as_ref()),
            ]
        })
        .collect();
    let _ = writeln!(body, "<h4>Events ({})</h4>", events.len());
    body.push_str(&table(
        "events",
        &["event", "time (UTC)", "type", "others", "source", "grading"],
        &rows,
    ));
    if events.len() > max {
        let _ = writeln!(
            body,
            "<p class=\"note\">{} more events not listed (limit of the {} template).</p>",
            events.len() - max,
            ctx.layout.name
        );
        not_included.push(format!(
            "{} events of {} beyond the sheet's limit",
            events.len() - max,
            e.id
        ));
    }
    if !e.notes.is_empty() {
        let rows: Vec<Vec<String>> = e
            .notes
            .iter()
            .map(|n| {
                vec![
                    n.id.to_string(),
                    escape(&n.text),
                    format!(
                        "<span class=\"source\">{}; by {}, {}</span>",
                        escape(n.source_ref.as_deref().unwrap_or("analyst's note")),
                        escape(&n.analyst),
                        escape(&n.created_utc)
                    ),
                    grade_cell(n.grading.as_ref()),
                ]
            })
            .collect();
        body.push_str("<h4>Notes</h4>\n");
        body.push_str(&table(
            "notes",
            &["note", "text", "source", "grading"],
            &rows,
        ));
    }
    body.push_str("</div>\n");
}

fn params_text(p: &Params) -> String {
    if p.0.is_empty() {
        "defaults".into()
    } else {
        p.0.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn analysis_section(
    body: &mut String,
    ctx: &Context<'_>,
    snap: &CaseSnapshot,
    sel: &Selection<'_>,
    not_included: &mut Vec<String>,
) {
    if ctx.runs.is_empty() {
        return;
    }
    body.push_str("<section class=\"page\" id=\"analysis\"><h2>Analysis results</h2>\n");
    let shown: HashSet<EntityId> = sel.entities.iter().map(|e| e.id).collect();
    let max = ctx.layout.max_rows;
    let who = |id: EntityId| -> String {
        snap.entity(id).map_or_else(
            || id.to_string(),
            |e| format!("{} {} ({})", e.id, escape(&e.label), escape(&e.entity_type)),
        )
    };
    for run in &ctx.runs {
        let _ = writeln!(
            body,
            "<div class=\"analysis\" id=\"analysis-{}\"><h3>{}</h3>\n<p class=\"statement\">Analysis run #{} stored with the case, {} (UTC), on the case at generation {}; parameters: {}. Restricted items are no nodes of the analysis graph. <span class=\"source\">Source: analysis run #{} of {}.</span> <span class=\"grade\">Grading: computed over links of every grading unless a grade parameter is given.</span></p>",
            run.component,
            run.component,
            run.id,
            escape(&run.date_utc),
            run.generation,
            escape(&params_text(&run.params)),
            run.id,
            escape(&snap.case_id)
        );
        let mut dropped = 0usize;
        match &run.output {
            Output::EntityValues { values } => {
                let mut rows: Vec<&(EntityId, f64)> = values.iter().collect();
                rows.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                let before = rows.len();
                rows.retain(|(e, _)| shown.contains(e));
                dropped = before - rows.len();
                let cells: Vec<Vec<String>> = rows
                    .iter()
                    .take(max)
                    .enumerate()
                    .map(|(i, (e, v))| vec![(i + 1).to_string(), who(*e), format!("{v:.6}")])
                    .collect();
                body.push_str(&table("analysis", &["rank", "entity", "value"], &cells));
            }
            Output::Communities {
                assignment,
                modularity,
            } => {
                let mut groups: BTreeMap<u32, Vec<EntityId>> = BTreeMap::new();
                for (e, g) in assignment {
                    if shown.contains(e) {
                        groups.entry(*g).or_default().push(*e);
                    } else {
                        dropped += 1;
                    }
                }
                let mut groups: Vec<(u32, Vec<EntityId>)> = groups.into_iter().collect();
                groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
                if let Some(q) = modularity {
                    let _ = writeln!(body, "<p>Modularity {q:.4}.</p>");
                }
                let cells: Vec<Vec<String>> = groups
                    .iter()
                    .take(max)
                    .map(|(g, members)| {
                        let names = members
                            .iter()
                            .take(12)
                            .map(|e| who(*e))
                            .collect::<Vec<_>>()
                            .join("; ");
                        let more = if members.len() > 12 {
                            format!("; and {} more", members.len() - 12)
                        } else {
                            String::new()
                        };
                        vec![
                            g.to_string(),
                            members.len().to_string(),
                            format!("{names}{more}"),
                        ]
                    })
                    .collect();
                body.push_str(&table("analysis", &["group", "size", "members"], &cells));
            }
            Output::Paths { paths } => {
                let cells: Vec<Vec<String>> = paths
                    .iter()
                    .filter(|p| {
                        let ok = p.entities.iter().all(|e| shown.contains(e));
                        if !ok {
                            dropped += 1;
                        }
                        ok
                    })
                    .take(max)
                    .enumerate()
                    .map(|(i, p)| {
                        vec![
                            (i + 1).to_string(),
                            format!("{}", p.cost),
                            p.entities
                                .iter()
                                .map(|e| who(*e))
                                .collect::<Vec<_>>()
                                .join(" → "),
                            escape(&grade_text(p.weakest_grade.as_ref())),
                        ]
                    })
                    .collect();
                body.push_str(&table(
                    "analysis",
                    &["path", "cost", "entities", "weakest grading"],
                    &cells,
                ));
            }
            Output::Alerts { alerts } => {
                let mut alerts: Vec<_> = alerts.iter().collect();
                alerts.sort_by(|a, b| b.score.total_cmp(&a.score));
                let cells: Vec<Vec<String>> = alerts
                    .into_iter()
                    .filter(|a| {
                        let ok = a.entities.iter().all(|e| shown.contains(e));
                        if !ok {
                            dropped += 1;
                        }
                        ok
                    })
                    .take(max)
                    .map(|a| {
                        vec![
                            escape(&a.kind),
                            a.entities
                                .iter()
                                .map(|e| who(*e))
                                .collect::<Vec<_>>()
                                .join("; "),
                            timeline::date_label(a.start_ms, 1),
                            timeline::date_label(a.end_ms, 1),
                            format!("{:.3}", a.score),
                            escape(&a.description),
                        ]
                    })
                    .collect();
                body.push_str(&table(
                    "analysis",
                    &["kind", "entities", "from", "to", "score", "description"],
                    &cells,
                ));
            }
            Output::MergeProposals { proposals } => {
                let cells: Vec<Vec<String>> = proposals
                    .iter()
                    .filter(|p| {
                        let ok = shown.contains(&p.keep) && shown.contains(&p.duplicate);
                        if !ok {
                            dropped += 1;
                        }
                        ok
                    })
                    .take(max)
                    .map(|p| {
                        vec![
                            who(p.keep),
                            who(p.duplicate),
                            format!("{:.3}", p.score),
                            escape(&p.explanation.join("; ")),
                        ]
                    })
                    .collect();
                body.push_str(&table(
                    "analysis",
                    &["keep", "duplicate", "score", "why"],
                    &cells,
                ));
            }
            Output::Subgraph { entities, links } => {
                let inside: Vec<&EntityId> =
                    entities.iter().filter(|e| shown.contains(e)).collect();
                dropped = entities.len() - inside.len();
                let _ = writeln!(
                    body,
                    "<p>{} entities and {} links.</p>",
                    inside.len(),
                    links.len()
                );
                let cells: Vec<Vec<String>> =
                    inside.iter().take(max).map(|e| vec![who(**e)]).collect();
                body.push_str(&table("analysis", &["entity"], &cells));
            }
            Output::Histogram { bin_ms, bins } => {
                let mut rows: Vec<&(String, i64, u64)> = bins.iter().collect();
                rows.sort_by(|a, b| b.2.cmp(&a.2).then(a.1.cmp(&b.1)));
                let cells: Vec<Vec<String>> = rows
                    .iter()
                    .take(max)
                    .map(|(s, t, n)| {
                        vec![escape(s), timeline::date_label(*t, *bin_ms), n.to_string()]
                    })
                    .collect();
                body.push_str(&table(
                    "analysis",
                    &["series", "bin start (UTC)", "count"],
                    &cells,
                ));
            }
            Output::Mentions { mentions } => {
                // Proposals only: a report states what was found where, with the rule's
                // confidence; accepted mentions are links and appear on the entity sheets.
                let cells: Vec<Vec<String>> = mentions
                    .iter()
                    .filter(|m| {
                        let ok = shown.contains(&m.document);
                        if !ok {
                            dropped += 1;
                        }
                        ok
                    })
                    .take(max)
                    .map(|m| {
                        vec![
                            who(m.document),
                            m.page.to_string(),
                            m.mention.kind.key().to_string(),
                            escape(&m.mention.text),
                            format!("{:.2}", m.mention.confidence),
                            m.mention.entity.map(who).unwrap_or_default(),
                        ]
                    })
                    .collect();
                body.push_str(&table(
                    "analysis",
                    &["document", "page", "kind", "text", "confidence", "entity"],
                    &cells,
                ));
            }
        }
        if dropped > 0 {
            let _ = writeln!(
                body,
                "<p class=\"note\">{dropped} results naming entities outside the report are left out.</p>"
            );
            not_included.push(format!(
                "{dropped} results of analysis run #{} that name entities outside the report",
                run.id
            ));
        }
        body.push_str("</div>\n");
    }
    body.push_str("</section>\n");
}

fn method(
    body: &mut String,
    ctx: &Context<'_>,
    snap: &CaseSnapshot,
    sel: &Selection<'_>,
    sheets: usize,
) {
    let req = ctx.req;
    body.push_str("<section class=\"page\" id=\"method\"><h2>Method</h2>\n<ul>\n");
    let scope = match &req.selection {
        Some(ids) => format!(
            "the {} entities selected by the author and the links and events among them",
            ids.len()
        ),
        None => "the whole case".into(),
    };
    let _ = writeln!(
        body,
        "<li>Scope: {scope}; {} entity sheets ({}).</li>",
        sheets,
        if req.selection.is_some() {
            "the selection"
        } else {
            "the best connected entities, by links and events"
        }
    );
    let _ = writeln!(
        body,
        "<li>Restricted items: {}.</li>",
        match &req.restricted_reason {
            Some(r) => format!(
                "those of the selection included, for this reason: {}",
                escape(r)
            ),
            None => format!(
                "left out ({} items, with the links and events touching them)",
                sel.skipped_restricted
            ),
        }
    );
    let _ = writeln!(
        body,
        "<li>Dissemination: {}.</li>",
        match &req.override_reason {
            Some(r) => format!(
                "items whose handling code forbids dissemination are disclosed, overridden for this reason: {}",
                escape(r)
            ),
            None => "no item whose handling code forbids dissemination is in the report".into(),
        }
    );
    let schemes: Vec<String> = snap
        .grading_schemes
        .iter()
        .map(|s| format!("{} ({})", escape(&s.name), escape(&s.key)))
        .collect();
    let _ = writeln!(
        body,
        "<li>Grading schemes of the case: {}; a grading reads scheme, source reliability, information credibility, handling code.</li>",
        schemes.join(", ")
    );
    let _ = writeln!(
        body,
        "<li>Chart: positions from the chart saved with the case; entities it never placed are laid out by the force layout (ForceAtlas2, Barnes–Hut) with the saved ones fixed.</li>"
    );
    let _ = writeln!(
        body,
        "<li>Timeline: events by their start time in UTC.</li>"
    );
    if ctx.runs.is_empty() {
        body.push_str("<li>Analysis: none asked for.</li>\n");
    }
    for run in &ctx.runs {
        let summary = analysis::find(run.component).map_or("", |c| c.summary());
        let _ = writeln!(
            body,
            "<li>Analysis component {} ({}), parameters {}, run #{}.</li>",
            run.component,
            escape(summary),
            escape(&params_text(&run.params)),
            run.id
        );
    }
    let _ = writeln!(
        body,
        "</ul>\n<p class=\"note\">Written by COPKIT {} from the case file; the case was read, never changed, except for the analysis runs stored and the audit records of this disclosure.</p></section>",
        env!("CARGO_PKG_VERSION")
    );
}

fn appendix(
    body: &mut String,
    ctx: &Context<'_>,
    snap: &CaseSnapshot,
    sel: &Selection<'_>,
    not_included: &[String],
) {
    let req = ctx.req;
    let manifest = |p: &Path| {
        let mut s = p.as_os_str().to_owned();
        s.push(".manifest.json");
        PathBuf::from(s)
    };
    body.push_str(
        "<section class=\"page\" id=\"appendix\"><h2>Appendix: manifest and audit head</h2>\n",
    );
    let rows: Vec<Vec<String>> = [
        ("case id", snap.case_id.clone()),
        ("case title", snap.title.clone()),
        ("audit head before this disclosure", ctx.audit_head.clone()),
        ("generation", snap.generation.to_string()),
        ("written (UTC)", ctx.written_utc.clone()),
        ("analyst", ctx.analyst.clone()),
        ("purpose", ctx.purpose.clone()),
        ("recipient", req.recipient.clone()),
        ("format", "report (HTML)".into()),
        ("template", ctx.layout.name.into()),
        ("entities", sel.entities.len().to_string()),
        ("links", sel.links.len().to_string()),
        ("events", sel.events.len().to_string()),
        (
            "restricted items left out",
            sel.skipped_restricted.to_string(),
        ),
        (
            "dissemination override",
            req.override_reason.clone().unwrap_or_else(|| "none".into()),
        ),
        (
            "restricted items included",
            req.restricted_reason.clone().unwrap_or_else(|| "no".into()),
        ),
        ("manifest file", manifest(&req.out).display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| vec![escape(k), escape(&v)])
    .collect();
    body.push_str(&table("manifest", &["field", "value"], &rows));
    if !not_included.is_empty() {
        body.push_str("<h3>Not in this report</h3>\n<ul>\n");
        for n in not_included {
            let _ = writeln!(body, "<li>{}</li>", escape(n));
        }
        body.push_str("</ul>\n");
    }
    body.push_str("<p class=\"note\">A file cannot hold its own hash: the SHA-256 of this report is in the manifest file beside it and in the disclosure record that follows the audit head above in the case's audit log, with the SHA-256 of the manifest. `copkit audit show` lists the record; `copkit audit verify` checks the chain.</p>\n</section>\n");
}
