//! The case report (issue 19): a report of the demo case is one self-contained HTML file
//! (no http, https or file: reference), parses as HTML, holds the chart and timeline SVGs, an
//! entity sheet per chosen entity with the source and grading of every value, the analysis
//! tables with parameters and date, and a manifest whose hash matches the disclosure in the
//! audit log; a NODISSEM item blocks it until overridden, restricted items stay out unless
//! included with a reason.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]

mod common;

use common::{actor, copkit, output_text, python_has, sha256_file};
use copkit::io::IoError;
use copkit::jobs::{CancelToken, NoProgress};
use copkit::model::{EntityId, Grading, ItemRef};
use copkit::report::{AnalysisRequest, ReportError, ReportRequest, Template, write_report};
use copkit::store::{Case, Command};
use std::path::{Path, PathBuf};

fn demo(dir: &Path) -> PathBuf {
    let path = dir.join("demo.copkit");
    copkit::generate::demo_case(&path).unwrap();
    path
}

/// The `n` entities taking part in the most events (the demo's busiest people and phones).
fn busiest(case: &mut Case, n: usize) -> Vec<EntityId> {
    let snap = case.snapshot().unwrap();
    let mut count: std::collections::HashMap<EntityId, usize> = Default::default();
    for e in &snap.events {
        for p in &e.participants {
            *count.entry(p.entity).or_default() += 1;
        }
    }
    let mut ids: Vec<(usize, EntityId)> = count.into_iter().map(|(e, c)| (c, e)).collect();
    ids.sort_by(|a, b| b.cmp(a));
    ids.into_iter().take(n).map(|(_, e)| e).collect()
}

fn request(out: &Path, selection: Option<Vec<EntityId>>) -> ReportRequest {
    ReportRequest {
        out: out.to_path_buf(),
        template: Template::Brief,
        selection,
        recipient: "Crown Prosecution Service".into(),
        override_reason: None,
        restricted_reason: None,
        analyses: vec![
            AnalysisRequest::parse("degree").unwrap(),
            AnalysisRequest::parse("pagerank:damping=0.85").unwrap(),
        ],
        title: Some("Operation Test: briefing".into()),
        marking: None,
        header: Some("Test Constabulary, Intelligence Unit".into()),
    }
}

fn manifest_of(out: &Path) -> PathBuf {
    let mut p = out.as_os_str().to_owned();
    p.push(".manifest.json");
    PathBuf::from(p)
}

/// The text between `<div class="sheet" id="sheet-ID">` and the next sheet or section end.
fn sheet_of(html: &str, id: EntityId) -> &str {
    let start = html
        .find(&format!("id=\"sheet-{id}\""))
        .unwrap_or_else(|| panic!("no entity sheet for {id}"));
    let rest = &html[start..];
    let end = rest[1..]
        .find("<div class=\"sheet\"")
        .or_else(|| rest.find("</section>"))
        .unwrap_or(rest.len());
    &rest[..end]
}

/// Checks that the file is well-formed enough for any browser: python's html.parser reads it,
/// and every element that must be closed is closed in order.
fn parses_as_html(path: &Path) {
    if !python_has("html.parser") {
        assert!(
            std::env::var("CI").as_deref() != Ok("1"),
            "python3 is needed under CI"
        );
        eprintln!("skipped: python3 missing");
        return;
    }
    let code = r##"
import sys
from html.parser import HTMLParser
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source"}
class Check(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.count, self.errors = [], 0, []
    def handle_starttag(self, tag, attrs):
        self.count += 1
        for k, v in attrs:
            if k in ("src", "href", "xlink:href") and v and not v.startswith("#"):
                self.errors.append(f"external reference {k}={v}")
        if tag not in VOID:
            self.stack.append((tag, self.getpos()))
    def handle_startendtag(self, tag, attrs):
        self.count += 1
    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1][0] != tag:
            self.errors.append(f"</{tag}> at {self.getpos()} closes {self.stack[-1] if self.stack else None}")
            return
        self.stack.pop()
p = Check()
p.feed(open(sys.argv[1], encoding="utf-8").read())
p.close()
if p.stack: p.errors.append(f"unclosed {p.stack[-3:]}")
print("ok", p.count) if not p.errors else print("; ".join(p.errors[:5]))
"##;
    let result = common::python(code, path);
    assert!(result.starts_with("ok "), "{result}");
}

#[test]
fn a_report_of_the_demo_case_is_one_self_contained_file_with_every_part() {
    let dir = tempfile::tempdir().unwrap();
    let case_path = demo(dir.path());
    let mut case = Case::open(&case_path, actor(), "report test").unwrap();
    let chosen = busiest(&mut case, 3);
    let out = dir.path().join("report.html");
    let before = std::fs::read_dir(dir.path()).unwrap().count();
    let outcome = write_report(
        &mut case,
        &request(&out, Some(chosen.clone())),
        &CancelToken::new(),
        &NoProgress,
    )
    .unwrap();

    // One file (and its manifest), nothing left under a temporary name.
    let after = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(
        after,
        before + 2,
        "the report and its manifest, nothing else"
    );
    let html = std::fs::read_to_string(&out).unwrap();
    let lower = html.to_ascii_lowercase();
    for reference in [
        "http", "https", "file:", " src=", " href=", "url(", "@import",
    ] {
        assert!(!lower.contains(reference), "the report holds '{reference}'");
    }
    parses_as_html(&out);

    // The chart and the timeline, as inline SVG.
    assert_eq!(html.matches("<svg id=\"chart-svg\"").count(), 1);
    assert_eq!(html.matches("<svg id=\"timeline-svg\"").count(), 1);
    assert!(html.contains("id=\"chart-legend\""));
    assert!(html.contains("id=\"timeline-histogram\""));
    // The cover.
    assert!(html.contains("Operation Test: briefing"));
    assert!(html.contains("Crown Prosecution Service"));
    assert!(html.contains("Test Constabulary, Intelligence Unit"));
    assert!(html.contains("Test Analyst"), "the author");
    // An entity sheet per chosen entity, every value with its source and grading.
    assert_eq!(outcome.sheets, chosen.len());
    assert_eq!(html.matches("<div class=\"sheet\"").count(), chosen.len());
    let snap = case.snapshot().unwrap();
    for &id in &chosen {
        let sheet = sheet_of(&html, id);
        let entity = snap.entity(id).unwrap();
        assert!(sheet.contains("Source: "), "{id}: the entity's source");
        assert!(sheet.contains("Grading: "), "{id}: the entity's grading");
        let rows = sheet.matches("<tr><td>").count();
        assert!(rows >= entity.attributes.len(), "{id}: a row per value");
        assert_eq!(
            sheet.matches("class=\"source\"").count(),
            rows + 1,
            "{id}: every row and the entity itself name a source"
        );
        assert_eq!(
            sheet.matches("class=\"grade\"").count(),
            rows + 1,
            "{id}: every row and the entity itself name a grading"
        );
        for a in &entity.attributes {
            assert!(
                sheet.contains(&copkit::report::escape(&a.value)),
                "{id}: value {}",
                a.value
            );
        }
    }
    // The analysis tables, with their parameters and the run's date.
    assert_eq!(outcome.analysis_runs.len(), 2);
    for name in ["degree", "pagerank"] {
        let at = html
            .find(&format!("id=\"analysis-{name}\""))
            .unwrap_or_else(|| panic!("no {name} table"));
        let part = &html[at..at + html[at..].find("</div>").unwrap()];
        assert!(part.contains("<table class=\"analysis\">"), "{name}");
        assert!(part.contains("(UTC)"), "{name}: the run's date");
        assert!(part.matches("<tr><td>").count() >= 1, "{name}: rows");
    }
    assert!(html.contains("damping=0.85"), "pagerank's parameters");

    // The manifest's hash matches the disclosure in the audit log, and the report's hash is
    // in both.
    let manifest_path = manifest_of(&out);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    assert_eq!(manifest["format"], "report");
    assert_eq!(manifest["outputs"][0][1], sha256_file(&out));
    let records = case.audit_records().unwrap();
    let disclosure = records
        .iter()
        .rev()
        .find(|r| r.action == "export")
        .expect("a disclosure record");
    let details: serde_json::Value = serde_json::from_str(&disclosure.details).unwrap();
    assert_eq!(details["manifest_sha256"], sha256_file(&manifest_path));
    assert_eq!(details["format"], "report");
    assert_eq!(details["recipient"], "Crown Prosecution Service");
    assert_eq!(details["outputs"][0][1], sha256_file(&out));
    // The appendix names the audit head the disclosure follows.
    let head_before = &records[records.len() - 2].hash;
    assert!(
        html.contains(head_before.as_str()),
        "the audit head in the appendix"
    );
}

#[test]
fn a_nodissem_item_blocks_the_report_until_overridden() {
    let dir = tempfile::tempdir().unwrap();
    let case_path = demo(dir.path());
    let mut case = Case::open(&case_path, actor(), "report test").unwrap();
    let chosen = busiest(&mut case, 2);
    case.apply(Command::SetGrading {
        items: vec![ItemRef::Entity(chosen[0])],
        grading: Some(Grading {
            scheme: "admiralty".into(),
            source: Some("B".into()),
            information: Some("2".into()),
            handling: Some("NODISSEM".into()),
        }),
        reason: "informant's identity".into(),
    })
    .unwrap();
    let out = dir.path().join("report.html");
    let mut req = request(&out, Some(chosen.clone()));
    req.analyses.clear();
    let err = write_report(&mut case, &req, &CancelToken::new(), &NoProgress).unwrap_err();
    match &err {
        ReportError::Io(IoError::Refused { reason, .. }) => {
            assert!(reason.contains("forbids dissemination"), "{reason}")
        }
        other => panic!("expected a refusal, got {other}"),
    }
    assert!(!out.exists() && !manifest_of(&out).exists());
    let last = case.audit_records().unwrap().pop().unwrap();
    assert_eq!(last.action, "export refused");
    assert!(last.details.contains("\"report\""), "{}", last.details);

    req.override_reason = Some("authorised by the SIO for the prosecutor".into());
    let outcome = write_report(&mut case, &req, &CancelToken::new(), &NoProgress).unwrap();
    assert_eq!(
        outcome.marking, "NODISSEM",
        "the strictest code is proposed"
    );
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(
        html.contains("authorised by the SIO"),
        "the override is in the report"
    );
    let m = &outcome.export.manifest;
    assert_eq!(
        m.dissemination_override.as_deref(),
        Some("authorised by the SIO for the prosecutor")
    );
}

#[test]
fn restricted_entities_stay_out_unless_included_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let case_path = demo(dir.path());
    let mut case = Case::open(&case_path, actor(), "report test").unwrap();
    let chosen = busiest(&mut case, 3);
    case.apply(Command::SetRestricted {
        items: vec![ItemRef::Entity(chosen[1])],
        restricted: true,
        reason: "victim".into(),
    })
    .unwrap();
    let out = dir.path().join("left-out.html");
    let mut req = request(&out, Some(chosen.clone()));
    req.analyses.clear();
    let outcome = write_report(&mut case, &req, &CancelToken::new(), &NoProgress).unwrap();
    let html = std::fs::read_to_string(&out).unwrap();
    assert_eq!(outcome.sheets, 2);
    assert!(!html.contains(&format!("id=\"sheet-{}\"", chosen[1])));
    assert!(outcome.export.manifest.skipped_restricted > 0);

    let out = dir.path().join("included.html");
    let mut req = request(&out, Some(chosen.clone()));
    req.analyses.clear();
    req.restricted_reason = Some("the court ordered it".into());
    let outcome = write_report(&mut case, &req, &CancelToken::new(), &NoProgress).unwrap();
    let html = std::fs::read_to_string(&out).unwrap();
    assert_eq!(outcome.sheets, 3);
    let sheet = sheet_of(&html, chosen[1]);
    assert!(sheet.contains("Restricted item, included for this reason: the court ordered it"));
    assert_eq!(
        outcome.export.manifest.restricted_included.as_deref(),
        Some("the court ordered it")
    );
    let last = case
        .audit_records()
        .unwrap()
        .into_iter()
        .rev()
        .find(|r| r.action == "export")
        .unwrap();
    assert!(last.details.contains("the court ordered it"));
}

#[test]
fn a_report_is_not_a_data_export_format() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = common::temp_case(&dir, "case.copkit");
    let out = dir.path().join("report.html");
    let err = copkit::io::export::export(
        &mut case,
        &copkit::io::export::ExportRequest {
            format: copkit::io::export::ExportFormat::Report,
            out: out.clone(),
            recipient: "CPS".into(),
            override_reason: None,
            only: None,
        },
        &CancelToken::new(),
        &NoProgress,
    )
    .unwrap_err();
    assert!(err.to_string().contains("copkit report"), "{err}");
    assert!(!out.exists() && !manifest_of(&out).exists());
    let last = case.audit_records().unwrap().pop().unwrap();
    assert_eq!(last.action, "export refused");
}

#[test]
fn the_chart_is_drawn_where_the_saved_chart_placed_it() {
    let dir = tempfile::tempdir().unwrap();
    let case_path = demo(dir.path());
    let case = case_path.to_str().unwrap();
    // `copkit layout` saves positions for every entity where the window keeps them.
    let run = copkit(&[
        "layout",
        case,
        "--algorithm",
        "circular",
        "--purpose",
        "OP-TEST-1",
    ]);
    assert!(run.status.success(), "{}", output_text(&run));
    let entities = Case::open(&case_path, actor(), "count")
        .unwrap()
        .snapshot()
        .unwrap()
        .entities
        .len();
    let out = dir.path().join("placed.html");
    let run = copkit(&[
        "report",
        case,
        "--out",
        out.to_str().unwrap(),
        "--recipient",
        "CPS",
        "--purpose",
        "OP-TEST-1",
    ]);
    assert!(run.status.success(), "{}", output_text(&run));
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(
        html.contains(&format!(
            "Placed by the chart saved with the case: {entities}; laid out for the report (force layout, the saved ones fixed): 0."
        )),
        "every entity where the saved chart put it"
    );
}

#[test]
fn copkit_report_writes_the_report_and_refuses_bad_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let case_path = demo(dir.path());
    let case = case_path.to_str().unwrap();
    let out = dir.path().join("full.html");
    let run = copkit(&[
        "report",
        case,
        "--out",
        out.to_str().unwrap(),
        "--template",
        "full",
        "--recipient",
        "CPS",
        "--analysis",
        "degree,louvain",
        "--marking",
        "OFFICIAL-SENSITIVE",
        "--purpose",
        "OP-TEST-1",
    ]);
    assert!(run.status.success(), "{}", output_text(&run));
    let text = output_text(&run);
    assert!(text.contains("marking OFFICIAL-SENSITIVE"), "{text}");
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(
        html.contains("id=\"method\""),
        "the full template has the method"
    );
    assert!(html.contains("id=\"analysis-louvain\""));
    assert!(html.contains("OFFICIAL-SENSITIVE"));
    assert!(!html.to_ascii_lowercase().contains("http"));
    parses_as_html(&out);

    // Wrong usage: exit 2, nothing written.
    let out2 = dir.path().join("bad.html");
    for bad in [
        vec!["--analysis", "nosuch"],
        vec!["--analysis", "pagerank:nosuch=1"],
        vec!["--selection", "L3"],
    ] {
        let mut args = vec![
            "report",
            case,
            "--out",
            out2.to_str().unwrap(),
            "--recipient",
            "CPS",
            "--purpose",
            "OP-TEST-1",
        ];
        args.extend(bad.iter().copied());
        let run = copkit(&args);
        assert_eq!(run.status.code(), Some(2), "{bad:?}: {}", output_text(&run));
        assert!(!out2.exists());
    }
    // An existing file is never overwritten.
    let run = copkit(&[
        "report",
        case,
        "--out",
        out.to_str().unwrap(),
        "--recipient",
        "CPS",
        "--purpose",
        "OP-TEST-1",
    ]);
    assert_eq!(run.status.code(), Some(1), "{}", output_text(&run));
}
