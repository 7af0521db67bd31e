//! The synthetic case generator: determinism, realistic structure, planted truth present in
//! the evidence, audit, the demo case, and scoring a component against the truth.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]

mod common;

use common::{actor, sha256_file};
use copkit::analysis::{self, Params};
use copkit::generate::{self, GenerateError, GenerateOptions, Scenario, Size, Truth, score::Score};
use copkit::jobs::{CancelToken, NoProgress};
use copkit::model::{EntityId, ParticipantRole};
use copkit::store::{Case, CaseSnapshot, ChainCheck};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

fn small(seed: u64) -> GenerateOptions {
    GenerateOptions::new(Scenario::DrugTrafficking, seed, Size::Small)
}

fn make(path: &Path, opts: &GenerateOptions) -> generate::GenerateSummary {
    generate::generate(
        path,
        opts,
        actor(),
        "OP-TEST-GEN",
        &CancelToken::new(),
        &NoProgress,
    )
    .expect("generate")
}

struct Demo {
    path: PathBuf,
    truth: Truth,
    snap: Arc<CaseSnapshot>,
}

/// One small case shared by the structure tests (generated once per test binary).
fn demo() -> &'static Demo {
    static DEMO: OnceLock<Demo> = OnceLock::new();
    DEMO.get_or_init(|| {
        let dir = Box::leak(Box::new(tempfile::tempdir().unwrap()));
        let path = dir.path().join("demo.copkit");
        make(&path, &small(7));
        let mut case = Case::open(&path, actor(), "OP-TEST-GEN").unwrap();
        let truth = generate::read_truth(&case).unwrap().expect("truth");
        let snap = case.snapshot().unwrap();
        Demo { path, truth, snap }
    })
}

fn content(snap: &CaseSnapshot) -> String {
    serde_json::to_string(&(&snap.entities, &snap.links, &snap.events)).unwrap()
}

#[test]
fn same_seed_gives_identical_sources_and_case_contents() {
    let dir = tempfile::tempdir().unwrap();
    let mut digests = Vec::new();
    for run in 0..2 {
        let mut opts = small(42);
        opts.days = Some(30);
        opts.sources_dir = Some(dir.path().join(format!("src{run}")));
        let path = dir.path().join(format!("case{run}.copkit"));
        let summary = make(&path, &opts);
        assert_eq!(summary.source_files.len(), 4);
        let files: Vec<(String, String)> = summary
            .source_files
            .iter()
            .map(|f| {
                (
                    f.file_name().unwrap().to_string_lossy().into_owned(),
                    sha256_file(f),
                )
            })
            .collect();
        let mut case = Case::open(&path, actor(), "OP-TEST-GEN").unwrap();
        let snap = case.snapshot().unwrap();
        let truth = generate::read_truth(&case).unwrap().unwrap();
        digests.push((
            files,
            content(&snap),
            serde_json::to_string(&truth).unwrap(),
        ));
    }
    assert_eq!(digests[0].0, digests[1].0, "source files differ");
    assert!(digests[0].1 == digests[1].1, "case contents differ");
    assert_eq!(digests[0].2, digests[1].2, "truth differs");
    // A different seed gives a different case.
    let mut opts = small(43);
    opts.days = Some(30);
    let path = dir.path().join("other.copkit");
    make(&path, &opts);
    let snap = Case::open(&path, actor(), "t").unwrap().snapshot().unwrap();
    assert!(content(&snap) != digests[0].1);
}

#[test]
fn small_case_has_the_preset_size_and_mostly_noise() {
    let d = demo();
    let events = d.snap.events.len();
    assert!((3_500..7_000).contains(&events), "{events} events");
    let persons = d
        .snap
        .entities
        .iter()
        .filter(|e| e.entity_type == "Person")
        .count();
    assert!(persons >= 150, "{persons}");
    // Most calls are among people outside the group.
    let group_phones: BTreeSet<EntityId> = d
        .truth
        .members
        .iter()
        .filter(|m| m.cell.is_some())
        .flat_map(|m| m.phones.iter().copied())
        .collect();
    let calls: Vec<_> = d
        .snap
        .events
        .iter()
        .filter(|e| e.event_type == "Call" || e.event_type == "Message")
        .collect();
    let group_calls = calls
        .iter()
        .filter(|e| {
            e.participants
                .iter()
                .all(|p| group_phones.contains(&p.entity))
        })
        .count();
    assert!(
        group_calls * 3 < calls.len(),
        "{group_calls} of {} calls are within the group",
        calls.len()
    );
}

/// The owner of each group phone, by truth.
fn phone_owner(truth: &Truth) -> BTreeMap<EntityId, (EntityId, u32)> {
    let mut owner = BTreeMap::new();
    for m in &truth.members {
        if let Some(cell) = m.cell {
            for &p in &m.phones {
                owner.insert(p, (m.entity, cell));
            }
        }
    }
    owner
}

#[test]
fn cells_are_denser_inside_than_between() {
    let d = demo();
    let owner = phone_owner(&d.truth);
    let mut pairs = BTreeSet::new();
    for e in &d.snap.events {
        let ends: Vec<_> = e
            .participants
            .iter()
            .filter_map(|p| owner.get(&p.entity))
            .collect();
        if ends.len() == 2 && ends[0].0 != ends[1].0 {
            let (a, b) = (ends[0], ends[1]);
            pairs.insert(if a.0 < b.0 { (a, b) } else { (b, a) });
        }
    }
    let mut size: BTreeMap<u32, f64> = BTreeMap::new();
    for m in d.truth.members.iter().filter(|m| m.cell.is_some()) {
        *size.entry(m.cell.unwrap()).or_default() += 1.0;
    }
    let n: f64 = size.values().sum();
    let inside_possible: f64 = size.values().map(|s| s * (s - 1.0) / 2.0).sum();
    let between_possible = n * (n - 1.0) / 2.0 - inside_possible;
    let inside = pairs.iter().filter(|(a, b)| a.1 == b.1).count() as f64;
    let between = pairs.len() as f64 - inside;
    let (din, dbetween) = (inside / inside_possible, between / between_possible);
    assert!(
        din > 3.0 * dbetween,
        "inside {din:.3}, between {dbetween:.3}"
    );
}

#[test]
fn contact_counts_are_heavy_tailed() {
    let d = demo();
    let mut counterparts: BTreeMap<EntityId, BTreeSet<EntityId>> = BTreeMap::new();
    for e in d.snap.events.iter().filter(|e| e.event_type == "Call") {
        let from: Vec<_> = e.in_role(ParticipantRole::From).collect();
        let to: Vec<_> = e.in_role(ParticipantRole::To).collect();
        if let (Some(&a), Some(&b)) = (from.first(), to.first()) {
            counterparts.entry(a).or_default().insert(b);
            counterparts.entry(b).or_default().insert(a);
        }
    }
    let mut degrees: Vec<usize> = counterparts.values().map(BTreeSet::len).collect();
    degrees.sort_unstable();
    let median = degrees[degrees.len() / 2];
    let max = *degrees.last().unwrap();
    assert!(max >= 3 * median, "max {max}, median {median}");
}

#[test]
fn every_alias_duplicate_and_handover_is_in_the_evidence() {
    let d = demo();
    let snap = &d.snap;
    assert!(!d.truth.aliases.is_empty());
    for a in &d.truth.aliases {
        let e = snap.entity(a.person).expect("alias person");
        assert!(e.values("alias").any(|v| v == a.alias), "{}", a.alias);
    }
    assert!(d.truth.duplicates.len() >= 3);
    for pair in &d.truth.duplicates {
        let (a, b) = (
            snap.entity(pair.original).unwrap(),
            snap.entity(pair.duplicate).unwrap(),
        );
        assert_eq!(
            (a.entity_type.as_str(), b.entity_type.as_str()),
            ("Person", "Person")
        );
        assert_ne!(a.label, b.label);
        assert_eq!(a.values("birthDate").next(), b.values("birthDate").next());
    }
    assert!(!d.truth.handovers.is_empty());
    for h in &d.truth.handovers {
        for person in [h.from, h.to] {
            assert!(
                snap.links
                    .iter()
                    .any(|l| l.link_type == "uses" && l.source == person && l.target == h.phone),
                "no uses link from {person} to {}",
                h.phone
            );
        }
        let uses_phone = |before: bool| {
            snap.events.iter().any(|e| {
                e.participants.iter().any(|p| p.entity == h.phone)
                    && ((e.time.start_ms < h.at_ms) == before)
            })
        };
        assert!(uses_phone(true) && uses_phone(false), "{}", h.phone);
    }
}

#[test]
fn every_planted_swap_drops_a_phone_for_a_new_one_and_every_meeting_is_in_the_evidence() {
    let d = demo();
    let snap = &d.snap;
    // Phone -> (first, last) use in the call records.
    let mut used: BTreeMap<EntityId, (i64, i64)> = BTreeMap::new();
    for e in &snap.events {
        for p in &e.participants {
            let span = used
                .entry(p.entity)
                .or_insert((e.time.start_ms, e.time.start_ms));
            span.0 = span.0.min(e.time.start_ms);
            span.1 = span.1.max(e.time.start_ms);
        }
    }
    assert!(
        d.truth
            .phone_swaps
            .iter()
            .any(|s| s.reason == "burner rotation")
    );
    assert!(
        d.truth
            .phone_swaps
            .iter()
            .any(|s| s.reason == "after the incident")
    );
    let handed: BTreeSet<EntityId> = d.truth.handovers.iter().map(|h| h.phone).collect();
    for s in &d.truth.phone_swaps {
        // A hand-over's phone stays in use: it is never the old phone of a swap.
        assert!(!handed.contains(&s.old_phone), "{s:?}");
        let m = d
            .truth
            .members
            .iter()
            .find(|m| m.entity == s.person)
            .unwrap();
        assert!(m.phones.contains(&s.old_phone) && m.phones.contains(&s.new_phone));
        if let (Some(old), Some(new)) = (used.get(&s.old_phone), used.get(&s.new_phone)) {
            assert!(old.1 < s.at_ms && new.0 >= s.at_ms, "{s:?} {old:?} {new:?}");
        }
    }
    assert!(d.truth.meetings.len() >= 5);
    for m in &d.truth.meetings {
        if !m.persons_reported.is_empty() {
            assert!(
                snap.events.iter().any(|e| e.event_type == "Meeting"
                    && e.time.start_ms == m.start_ms
                    && e.participants.iter().any(|p| p.entity == m.place)
                    && m.persons_reported
                        .iter()
                        .all(|x| e.participants.iter().any(|p| p.entity == *x))),
                "{m:?}"
            );
        }
        for v in &m.vehicles_read {
            assert!(
                snap.events.iter().any(|e| e.event_type == "Sighting"
                    && (m.start_ms - 1_800_000..=m.start_ms - 300_000).contains(&e.time.start_ms)
                    && e.participants.iter().any(|p| p.entity == *v)
                    && e.participants.iter().any(|p| p.entity == m.camera)),
                "{m:?}"
            );
        }
    }
}

#[test]
fn the_burst_shows_in_daily_counts() {
    let d = demo();
    let phones: BTreeSet<EntityId> = d.truth.burst.phones.iter().copied().collect();
    let day = |ms: i64| ms.div_euclid(86_400_000);
    let mut daily: BTreeMap<i64, u32> = BTreeMap::new();
    for e in &d.snap.events {
        if e.participants.iter().any(|p| phones.contains(&p.entity)) {
            *daily.entry(day(e.time.start_ms)).or_default() += 1;
        }
    }
    let (b0, b1) = (day(d.truth.burst.start_ms), day(d.truth.burst.end_ms));
    let first = day(generate_start());
    let mean = |range: std::ops::Range<i64>| {
        let n = range.end - range.start;
        range
            .map(|k| f64::from(*daily.get(&k).unwrap_or(&0)))
            .sum::<f64>()
            / n as f64
    };
    let burst = mean(b0..b1);
    let before = mean(first..b0);
    assert!(
        burst > 2.5 * before,
        "burst {burst:.1}/day, before {before:.1}/day"
    );
}

fn generate_start() -> i64 {
    1_704_067_200_000
}

#[test]
fn the_unreliable_sources_links_carry_its_grade() {
    let d = demo();
    let unreliable: Vec<_> = d.truth.sources.iter().filter(|s| !s.reliable).collect();
    assert_eq!(unreliable.len(), 1);
    assert!(!d.truth.false_links.is_empty());
    for id in &d.truth.false_links {
        let l = d.snap.link(*id).expect("false link");
        let g = l.grading.as_ref().expect("graded");
        assert_eq!(
            (g.source.as_deref(), g.information.as_deref()),
            (Some("E"), Some("5"))
        );
        assert_eq!(l.provenance.batch, Some(unreliable[0].batch));
    }
    for l in d
        .snap
        .links
        .iter()
        .filter(|l| l.provenance.batch == Some(unreliable[0].batch))
    {
        assert_eq!(l.grading.as_ref().unwrap().source.as_deref(), Some("E"));
    }
}

#[test]
fn a_generated_case_passes_audit_verify_and_is_training() {
    let d = demo();
    let case = Case::open_unrecorded(&d.path, actor(), "OP-TEST-GEN").unwrap();
    assert!(matches!(
        case.verify_audit().unwrap(),
        ChainCheck::Intact { .. }
    ));
    assert!(case.is_training());
    let actions: Vec<String> = case
        .audit_records()
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert!(actions.iter().filter(|a| *a == "import batch").count() >= 7);
    assert!(actions.iter().any(|a| a == "record ground truth"));
    // Every batch names the generator, scenario, seed and version.
    let info = case.info().unwrap();
    for b in &info.batches {
        assert_eq!(b.kind, "generator");
        assert!(b.description.contains("seed 7") && b.description.contains("version"));
    }
}

#[test]
fn the_demo_case_is_generated_and_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.copkit");
    let started = std::time::Instant::now();
    let summary = generate::demo_case(&path).unwrap();
    eprintln!(
        "demo case: {} entities, {} links, {} events in {:?}",
        summary.entities,
        summary.links,
        summary.events,
        started.elapsed()
    );
    let mut case = Case::open(&path, actor(), "training").unwrap();
    assert!(case.is_training());
    assert_eq!(case.snapshot().unwrap().events.len() as u64, summary.events);
}

#[test]
fn degree_is_scored_by_the_rank_of_the_planted_leaders() {
    let d = demo();
    let component = analysis::find("degree").unwrap();
    let out = analysis::run_component(
        component,
        &d.snap,
        &Params::new(),
        &CancelToken::new(),
        &NoProgress,
    )
    .unwrap();
    let score = generate::score::score_output(&out, &d.truth, &d.snap);
    let Score::LeaderRanks {
        ranks, best_rank, ..
    } = score
    else {
        panic!("degree should be scored by leader ranks: {score:?}");
    };
    eprintln!("degree leader ranks on the demo case: {ranks:?}");
    assert_eq!(ranks.len(), d.truth.leaders.len());
    assert!(best_rank <= 5, "best leader rank {best_rank}");
}

#[test]
fn cancelling_leaves_no_case_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cancelled.copkit");
    let cancel = CancelToken::new();
    cancel.cancel();
    let err = generate::generate(&path, &small(1), actor(), "t", &cancel, &NoProgress).unwrap_err();
    assert!(matches!(err, GenerateError::Cancelled), "{err}");
    assert!(!path.exists());
}

#[test]
fn other_scenarios_generate() {
    let dir = tempfile::tempdir().unwrap();
    for scenario in [Scenario::Firearms, Scenario::Fraud] {
        let mut opts = GenerateOptions::new(scenario, 3, Size::Small);
        opts.days = Some(30);
        let path = dir.path().join(format!("{}.copkit", scenario.as_str()));
        let summary = make(&path, &opts);
        assert!(summary.events > 1000);
    }
}

/// Documents planted by the generator and found again by `extract-mentions`: F1 ≥ 0.9 for
/// identifiers (phones, plates, IBANs) and ≥ 0.8 for names of the case's people, scored by
/// the same function as `copkit score` against the mentions recorded in the truth.
#[test]
fn generated_documents_are_scored_for_mention_extraction() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("docs.copkit");
    let mut opts = small(11);
    opts.days = Some(30);
    opts.documents = 60;
    make(&path, &opts);
    let mut case = Case::open(&path, actor(), "OP-TEST-GEN").unwrap();
    let truth = generate::read_truth(&case).unwrap().unwrap();
    assert_eq!(truth.documents.len(), 60);
    assert!(truth.documents.iter().all(|d| d.mentions.len() >= 5));
    let snap = case.snapshot().unwrap();
    let component = analysis::find("extract-mentions").unwrap();
    let output = component
        .run(&snap, &Params::new(), &CancelToken::new(), &NoProgress)
        .unwrap();
    let score = generate::score::score_output(&output, &truth, &snap);
    let Score::Mentions {
        identifiers,
        names,
        kinds,
        documents,
    } = score
    else {
        panic!("not a mentions score: {score:?}")
    };
    assert_eq!(documents, 60);
    assert!(identifiers.f1 >= 0.9, "{identifiers:?}\n{kinds:#?}");
    assert!(names.f1 >= 0.8, "{names:?}\n{kinds:#?}");
}
