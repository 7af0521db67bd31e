//! The review tab and the anchor log preference, driven headless with egui_kittest (issue
//! 26): an item whose review date has passed is listed (one due later is not), one is marked
//! reviewed, another is purged after a confirmation that says what is erased, each through a
//! store command or the purge, on record; the anchor log is set in the View menu, in force at
//! once and kept with the preferences.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]
#![cfg(feature = "gui")]

mod common;

use common::{actor, temp_case};
use copkit::app::{Prefs, Tab, WorkbenchApp};
use copkit::model::{ItemRef, NewAttribute, NewEntity};
use copkit::store::{Case, Command};
use egui::Modifiers;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::time::{Duration, Instant};

type App = Harness<'static, WorkbenchApp>;

fn harness(case: Case, tab: Tab) -> App {
    let prefs = Prefs {
        auto_layout: false,
        tab: Some(tab),
        ..Prefs::default()
    };
    let app = WorkbenchApp::new(actor(), prefs).with_case(case).unwrap();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .with_step_dt(1.0 / 30.0)
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), app);
    settle(&mut harness);
    harness
}

fn settle(harness: &mut App) {
    let start = Instant::now();
    loop {
        harness.step();
        if !harness.state().is_busy() && harness.state().jobs.running().is_empty() {
            harness.run_steps(3);
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "jobs did not finish"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn press(harness: &mut App, label: &str) {
    harness.get_by_label(label).scroll_to_me();
    harness.run_steps(1);
    harness.get_by_label(label).click();
    harness.run_steps(2);
}

fn fill(harness: &mut App, label: &str, text: &str) {
    harness.get_by_label(label).click();
    harness.run_steps(1);
    harness.key_press_modifiers(Modifiers::COMMAND, egui::Key::A);
    harness.run_steps(1);
    harness.get_by_label(label).type_text(text);
    harness.run_steps(1);
}

fn person(case: &mut Case, label: &str, review: &str) -> ItemRef {
    let applied = case
        .apply(Command::CreateEntity {
            entity: NewEntity::new("Person", label),
        })
        .unwrap();
    let item = applied.created[0];
    case.apply(Command::SetReviewDate {
        items: vec![item],
        date: Some(review.into()),
        reason: "retention rule 4".into(),
    })
    .unwrap();
    item
}

fn labels(harness: &App) -> Vec<String> {
    harness
        .state()
        .open
        .as_ref()
        .unwrap()
        .snapshot
        .entities
        .iter()
        .map(|e| e.label.clone())
        .collect()
}

#[test]
fn a_due_item_is_listed_marked_reviewed_or_purged_through_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, mut case) = temp_case(&dir, "review.copkit");
    let due = person(&mut case, "Overdue Person", "2020-01-01");
    case.apply(Command::AddAttribute {
        owner: due,
        attribute: NewAttribute::new("phone", "+44 7700 900123"),
    })
    .unwrap();
    let checked = person(&mut case, "Checked Person", "2021-06-30");
    person(&mut case, "Later Person", "2999-01-01");
    let mut harness = harness(case, Tab::Review);

    assert!(harness.query_by_label("Overdue Person").is_some());
    assert!(harness.query_by_label("Checked Person").is_some());
    assert!(
        harness.query_by_label("Later Person").is_none(),
        "not due yet"
    );
    assert!(
        harness
            .query_by_label_contains("2 due for review")
            .is_some()
    );

    // Kept after review: the date is cleared by a store command, on record.
    press(&mut harness, &format!("Mark {checked} reviewed"));
    settle(&mut harness);
    assert!(harness.query_by_label("Checked Person").is_none());
    let open = harness.state().open.as_ref().unwrap();
    let last = open.case.audit_records().unwrap().pop().unwrap();
    assert_eq!(last.action, "set review date");
    assert!(
        last.details.contains("reviewed and kept"),
        "{}",
        last.details
    );

    // Purged: the confirmation names what goes, and nothing happens before it is confirmed.
    press(&mut harness, &format!("Purge {due}…"));
    assert!(
        harness
            .query_by_label_contains(&format!(
                "This erases entity {due} \"Overdue Person\" (Person) with its links"
            ))
            .is_some()
    );
    assert!(labels(&harness).contains(&"Overdue Person".to_string()));
    fill(
        &mut harness,
        "Reason (retention rule or decision):",
        "retention rule 4: review passed",
    );
    press(&mut harness, "Erase for good");
    settle(&mut harness);
    assert!(!labels(&harness).contains(&"Overdue Person".to_string()));
    assert!(labels(&harness).contains(&"Later Person".to_string()));
    assert!(harness.query_by_label("Overdue Person").is_none());
    assert!(
        harness
            .query_by_label_contains("Nothing is due for review")
            .is_some()
    );
    let open = harness.state().open.as_ref().unwrap();
    let records = open.case.audit_records().unwrap();
    let purge = records.last().unwrap();
    assert_eq!(
        (purge.category.as_str(), purge.action.as_str()),
        ("erasure", "purge")
    );
    assert!(purge.details.contains("retention rule 4: review passed"));
    assert!(
        !records
            .iter()
            .any(|r| r.details.contains("+44 7700 900123")),
        "the typed value stays in an audit record"
    );
    assert!(
        harness
            .state()
            .messages
            .iter()
            .any(|m| !m.error && m.text.starts_with("Purged for good"))
    );
}

#[test]
fn the_anchor_log_is_chosen_in_the_view_menu_and_kept_with_the_preferences() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, case) = temp_case(&dir, "anchor.copkit");
    let mut harness = harness(case, Tab::Graph);
    let log = dir.path().join("worm/anchors.jsonl");
    harness.get_by_label("View").click();
    harness.run_steps(2);
    harness.get_by_label("Anchor log…").click();
    harness.run_steps(3);
    let in_force = copkit::store::anchor::workstation().anchor_log.unwrap();
    assert!(
        harness
            .query_by_label(&format!("In force: {}", in_force.display()))
            .is_some()
    );
    fill(&mut harness, "New anchor log", log.to_str().unwrap());
    harness.get_by_label("Use this anchor log").click();
    harness.run_steps(2);
    assert_eq!(
        copkit::store::anchor::workstation().anchor_log.as_ref(),
        Some(&log)
    );
    assert_eq!(harness.state().prefs.anchor_log.as_ref(), Some(&log));
    // Kept as the other preferences are (serde into eframe's storage), and read back.
    let saved = serde_json::to_string(&harness.state().prefs).unwrap();
    let back: Prefs = serde_json::from_str(&saved).unwrap();
    assert_eq!(back.anchor_log, Some(log.clone()));
    // The next audit head goes there.
    let open = harness.state_mut().open.as_mut().unwrap();
    open.case
        .record_consultation("test", serde_json::json!({}))
        .unwrap();
    let written = std::fs::read_to_string(&log).unwrap();
    assert!(written.contains("\"seq\""), "{written}");
}
