//! Early warning on a generated case (drug trafficking, seed 3, 600 people over 120 days: big
//! enough for a baseline, small enough for a debug build): the planted burst flagged with few
//! false alerts and explained in plain words, hand-overs found and told apart from swaps,
//! co-location scored against the planted meetings, and `copkit score` reporting precision
//! and recall for each. Detection is asserted, not timing.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code stops loudly where an expectation fails"
)]

mod common;

use common::actor;
use copkit::analysis::{self, Alert, Output, Params};
use copkit::generate::score::{Score, score_output};
use copkit::generate::{self, GenerateOptions, Scenario, Size, Truth};
use copkit::jobs::{CancelToken, NoProgress};
use copkit::model::EntityId;
use copkit::store::{Case, CaseSnapshot};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

struct Generated {
    path: PathBuf,
    truth: Truth,
    snap: Arc<CaseSnapshot>,
}

fn case() -> &'static Generated {
    static CASE: OnceLock<Generated> = OnceLock::new();
    CASE.get_or_init(|| {
        let dir = Box::leak(Box::new(tempfile::tempdir().unwrap()));
        let path = dir.path().join("warn.copkit");
        let mut opts = GenerateOptions::new(Scenario::DrugTrafficking, 3, Size::Small);
        opts.people = Some(600);
        opts.days = Some(120);
        generate::generate(
            &path,
            &opts,
            actor(),
            "OP-TEST-WARN",
            &CancelToken::new(),
            &NoProgress,
        )
        .expect("generate");
        let mut case = Case::open(&path, actor(), "OP-TEST-WARN").unwrap();
        let truth = generate::read_truth(&case).unwrap().expect("truth");
        let snap = case.snapshot().unwrap();
        Generated { path, truth, snap }
    })
}

fn run_on(snap: &CaseSnapshot, name: &str, params: &Params) -> Vec<Alert> {
    match analysis::run_component(
        analysis::find(name).unwrap(),
        snap,
        params,
        &CancelToken::new(),
        &NoProgress,
    )
    .unwrap()
    {
        Output::Alerts { alerts } => alerts,
        other => panic!("{name} gave {other:?}"),
    }
}

fn scored(name: &str) -> (Vec<Alert>, Score) {
    let c = case();
    let alerts = run_on(&c.snap, name, &Params::new());
    let score = score_output(
        &Output::Alerts {
            alerts: alerts.clone(),
        },
        &c.truth,
        &c.snap,
    );
    (alerts, score)
}

#[test]
fn bursts_flag_the_planted_burst_against_each_phone_s_own_baseline() {
    let (alerts, score) = scored("bursts");
    let Score::BurstDetection {
        precision,
        recall,
        phone_recall,
        ..
    } = score
    else {
        panic!("not a burst score: {score:?}");
    };
    assert_eq!(recall, 1.0, "{alerts:#?}");
    assert!(precision >= 0.5, "precision {precision}: {alerts:#?}");
    assert!(phone_recall > 0.0);
    // The explanation is in plain words, with the count, the usual rate and the odds.
    let c = case();
    let top = alerts
        .iter()
        .find(|a| c.truth.burst.phones.contains(&a.entities[0]))
        .unwrap();
    assert!(
        top.description.contains(" calls")
            && top.description.contains("against a usual")
            && top.description.contains("per day")
            && top.description.contains("chance of about 1 in 10^"),
        "{}",
        top.description
    );
    assert!(top.score >= 7.0, "{top:?}");
    assert!(
        top.start_ms >= c.truth.burst.start_ms && top.start_ms < c.truth.burst.end_ms,
        "{top:?} {:?}",
        c.truth.burst
    );
}

#[test]
fn restricted_phones_stay_out_of_burst_alerts() {
    let c = case();
    let (alerts, _) = scored("bursts");
    let flagged = alerts[0].entities[0];
    let mut snap = (*c.snap).clone();
    for e in &mut snap.entities {
        if e.id == flagged {
            e.restricted = true;
        }
    }
    let again = run_on(&snap, "bursts", &Params::new());
    assert!(!again.iter().any(|a| a.entities.contains(&flagged)));
    assert!(
        !again.is_empty(),
        "the other phones of the burst still flag"
    );
}

#[test]
fn handovers_are_found_and_told_apart_from_swaps() {
    let c = case();
    assert!(!c.truth.handovers.is_empty());
    let (alerts, score) = scored("handovers");
    let Score::Handovers {
        precision, recall, ..
    } = score
    else {
        panic!("not a hand-over score: {score:?}");
    };
    assert_eq!(recall, 1.0, "{alerts:#?}");
    assert!(precision >= 0.9, "precision {precision}: {alerts:#?}");
    for a in &alerts {
        assert_eq!(a.kind, "handover");
        assert_eq!(a.entities.len(), 3);
        assert!(a.description.contains("passed from"), "{}", a.description);
    }
    // Swaps: one person, a new number. No swap alert pairs a hand-over's phone with the new
    // phone of the person who handed it over or of the one who took it.
    let (swaps, score) = scored("phone-swaps");
    let Score::PhoneSwaps {
        precision, recall, ..
    } = score
    else {
        panic!("not a phone-swap score: {score:?}");
    };
    assert!(precision >= 0.9, "swap precision {precision}");
    assert!(recall >= 0.5, "swap recall {recall}");
    let phone_of = |p: EntityId| -> BTreeSet<EntityId> {
        c.truth
            .members
            .iter()
            .filter(|m| m.entity == p)
            .flat_map(|m| m.phones.iter().copied())
            .collect()
    };
    for h in &c.truth.handovers {
        let (from, to) = (phone_of(h.from), phone_of(h.to));
        for s in swaps.iter().filter(|s| s.entities.contains(&h.phone)) {
            let other = if s.entities[0] == h.phone {
                s.entities[1]
            } else {
                s.entities[0]
            };
            assert!(
                from.contains(&other) || to.contains(&other),
                "a swap pairs hand-over phone {} with {other}, a phone of neither holder",
                h.phone
            );
        }
    }
}

#[test]
fn co_location_is_scored_against_the_planted_meetings() {
    let c = case();
    assert!(c.truth.meetings.len() >= 20, "{}", c.truth.meetings.len());
    assert!(
        c.truth
            .meetings
            .iter()
            .any(|m| m.vehicles_read.len() >= 2 && !m.persons_reported.is_empty())
    );
    let (alerts, score) = scored("co-location");
    let Score::CoLocation {
        precision,
        recall,
        planted,
        ..
    } = score
    else {
        panic!("not a co-location score: {score:?}");
    };
    assert!(planted >= 20, "{planted} planted pairs");
    assert!(
        precision >= 0.8,
        "precision {precision}: {} alerts",
        alerts.len()
    );
    assert!(recall >= 0.8, "recall {recall}");
}

#[test]
fn copkit_score_reports_precision_and_recall_per_kind() {
    let c = case();
    for (component, metric) in [
        ("bursts", "burst_detection"),
        ("phone-swaps", "phone_swaps"),
        ("handovers", "handovers"),
        ("co-location", "co_location"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_copkit"))
            .args(["score", "--component", component, "--format", "json"])
            .args(["--purpose", "OP-TEST-WARN", "--analyst", "Test Analyst"])
            .arg(&c.path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{component}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["metric"], metric, "{v}");
        for field in ["precision", "recall"] {
            let x = v[field].as_f64().unwrap_or(-1.0);
            assert!((0.0..=1.0).contains(&x), "{component} {field}: {v}");
        }
    }
}
