//! The analysis panel driven headless with egui_kittest: a chain built in the chain editor
//! by clicking and typing, checked (problems under their step), saved through the file
//! dialog's test answer (never over a file without a yes) and read back by `copkit chain
//! check` and `copkit chain run`, opened again, and run; a component run on the selection
//! and on the working set; and the window opening with the positions `copkit layout` wrote.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]
#![cfg(feature = "gui")]

mod common;

use common::{copkit, output_text as text};

use common::{BatchItems, actor, temp_case};
use copkit::analysis::Output;
use copkit::app::{Prefs, Tab, WorkbenchApp};
use copkit::model::{EntityId, EntityRef, ItemRef, NewEntity, NewLink};
use copkit::store::{Case, NewBatch};
use egui::Modifiers;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

type App = Harness<'static, WorkbenchApp>;

/// Two triangles joined by one link, E1–E6, all people.
fn make_case(dir: &tempfile::TempDir) -> (PathBuf, Case) {
    let (path, mut case) = temp_case(dir, "chain-ui.copkit");
    let entities = ["Ana", "Bo", "Cy", "Dee", "Ed", "Flo"]
        .iter()
        .map(|n| NewEntity::new("Person", *n))
        .collect();
    let link = |a: usize, b: usize| NewLink::new("knows", EntityRef::New(a), EntityRef::New(b));
    common::import(
        &mut case,
        BatchItems {
            batch: NewBatch {
                kind: "import".into(),
                description: "fixture".into(),
                ..Default::default()
            },
            entities,
            links: vec![
                link(0, 1),
                link(1, 2),
                link(0, 2),
                link(3, 4),
                link(4, 5),
                link(3, 5),
                link(2, 3),
            ],
            ..Default::default()
        },
    )
    .unwrap();
    (path, case)
}

fn harness_on(case: Case, tab: Tab) -> App {
    let prefs = Prefs {
        auto_layout: false,
        tab: Some(tab),
        ..Prefs::default()
    };
    let app = WorkbenchApp::new(actor(), prefs).with_case(case).unwrap();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 1400.0))
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
            start.elapsed() < Duration::from_secs(120),
            "jobs did not finish"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Clicks the `nth` widget of this label (scrolled into view first).
fn press_nth(harness: &mut App, label: &str, nth: usize) {
    harness
        .query_all_by_label(label)
        .nth(nth)
        .unwrap_or_else(|| panic!("no widget #{nth} labelled {label}"))
        .scroll_to_me();
    harness.run_steps(1);
    harness.query_all_by_label(label).nth(nth).unwrap().click();
    harness.run_steps(2);
}

fn press(harness: &mut App, label: &str) {
    press_nth(harness, label, 0);
}

/// Opens a combo box and picks an entry (the open list is drawn last, so its entry is the
/// last widget of that label).
fn pick(harness: &mut App, combo: &str, entry: &str) {
    press(harness, combo);
    let last = harness.query_all_by_label(entry).count();
    assert!(last > 0, "no entry {entry} in {combo}");
    press_nth(harness, entry, last - 1);
}

/// Types into the `nth` text field of this label over what it holds.
fn fill_nth(harness: &mut App, label: &str, nth: usize, value: &str) {
    press_nth(harness, label, nth);
    harness.key_press_modifiers(Modifiers::COMMAND, egui::Key::A);
    harness.run_steps(1);
    harness
        .query_all_by_label(label)
        .nth(nth)
        .unwrap()
        .type_text(value);
    harness.run_steps(2);
}

#[test]
fn a_chain_built_in_the_editor_is_checked_saved_read_by_the_cli_opened_and_run() {
    let dir = tempfile::tempdir().unwrap();
    let (case_path, case) = make_case(&dir);
    let mut harness = harness_on(case, Tab::Analysis);
    press(&mut harness, "Chain editor");
    fill_nth(&mut harness, "Chain name:", 0, "groups then degree");
    press(&mut harness, "Add step");
    press(&mut harness, "Add step");
    assert_eq!(harness.state().analysis.editor.steps.len(), 2);

    // Step 1: Louvain communities with a seed; step 2: degree inside each community, the
    // two highest kept.
    pick(&mut harness, "Step 1 component", "louvain");
    fill_nth(&mut harness, "seed", 0, "3");
    pick(&mut harness, "Step 2 component", "degree");
    pick(&mut harness, "Step 2 input", "step step1");
    pick(&mut harness, "Step 2 input mode", "per_community");
    fill_nth(&mut harness, "keep top", 1, "2");
    {
        let editor = &harness.state().analysis.editor;
        assert_eq!(editor.steps[0].component, "louvain");
        assert_eq!(editor.steps[0].params["seed"], "3");
        assert_eq!(editor.steps[1].input.as_deref(), Some("step1"));
        assert_eq!(editor.steps[1].top, "2");
    }

    // A problem shows under its step, then goes once mended.
    fill_nth(&mut harness, "id", 1, "step1");
    press(&mut harness, "Check");
    harness.get_by_label_contains("step 'step1': id: another step has the same id");
    assert_eq!(harness.state().analysis.editor.problems[0].0, Some(1));
    fill_nth(&mut harness, "id", 1, "ranked");
    press(&mut harness, "Check");
    harness.get_by_label("The chain is valid: 2 steps");

    // Save through the dialog's test answer, then the command line reads the file.
    let chain_path = dir.path().join("groups-then-degree.toml");
    harness.state_mut().next_file_dialog = Some(chain_path.clone());
    press(&mut harness, "Save as…");
    assert!(chain_path.exists(), "{:?}", harness.state().messages);
    let saved = std::fs::read_to_string(&chain_path).unwrap();
    let check = copkit(&["chain", "check", chain_path.to_str().unwrap()]);
    assert!(check.status.success(), "{}\n{saved}", text(&check));
    assert!(text(&check).contains("chain \"groups then degree\" with 2 steps is valid"));
    let run = copkit(&[
        "chain",
        "run",
        chain_path.to_str().unwrap(),
        "--case",
        case_path.to_str().unwrap(),
        "--format",
        "json",
        "--purpose",
        "OP-TEST-1 chain from the window",
    ]);
    assert!(run.status.success(), "{}", text(&run));
    let doc: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(doc["steps"].as_array().unwrap().len(), 2);
    assert_eq!(doc["steps"][1]["component"], "degree");
    let chain = copkit::analysis::chain::Chain::load(&chain_path).unwrap();
    assert_eq!(
        chain.steps[1].input,
        Some((0, copkit::analysis::chain::InputMode::PerCommunity, 0))
    );
    assert_eq!(chain.steps[1].top, Some(2));

    // Saving onto the file asks first: "Keep it" leaves the file, "Replace" replaces it.
    fill_nth(&mut harness, "Description:", 0, "second version");
    harness.state_mut().next_file_dialog = Some(chain_path.clone());
    press(&mut harness, "Save as…");
    harness.get_by_label_contains("exists. Replace it?");
    press(&mut harness, "Keep it");
    assert_eq!(std::fs::read_to_string(&chain_path).unwrap(), saved);
    harness.state_mut().next_file_dialog = Some(chain_path.clone());
    press(&mut harness, "Save as…");
    press(&mut harness, "Replace");
    assert!(
        std::fs::read_to_string(&chain_path)
            .unwrap()
            .contains("second version")
    );

    // Run from the editor on the whole case: one result per step, stored with the case.
    press(&mut harness, "Run this chain on the whole case");
    settle(&mut harness);
    let results = &harness.state().analysis.results;
    assert_eq!(results.len(), 2, "{:?}", harness.state().messages);
    let Output::EntityValues { values } = &results[1].output else {
        panic!("degree gives values: {:?}", results[1].output);
    };
    assert!(values.len() <= 4, "at most two per community: {values:?}");

    // Open a bundled chain into the editor.
    let bundled = copkit::analysis::chain::bundled_chains_dir().join("key-players.toml");
    harness.state_mut().next_file_dialog = Some(bundled.clone());
    press(&mut harness, "Open…");
    let editor = &harness.state().analysis.editor;
    let expected = copkit::analysis::chain::Chain::load(&bundled).unwrap();
    assert_eq!(editor.name, expected.name);
    assert_eq!(editor.steps.len(), expected.steps.len());
    assert!(editor.problems.is_empty(), "{:?}", editor.problems);
}

fn select(harness: &mut App, items: &[i64]) {
    harness.state_mut().view.selection = items
        .iter()
        .map(|&e| ItemRef::Entity(EntityId(e)))
        .collect();
    harness.run_steps(2);
}

fn last_values(harness: &App) -> Vec<(EntityId, f64)> {
    match &harness.state().analysis.results.last().unwrap().output {
        Output::EntityValues { values } => values.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn degree_runs_on_the_selection_and_on_the_working_set() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, case) = make_case(&dir);
    let mut harness = harness_on(case, Tab::Analysis);
    harness.state_mut().analysis.component = "degree".into();
    select(&mut harness, &[1, 4]);
    press(&mut harness, "selection (2)");
    press(&mut harness, "Run on the 2 selected");
    settle(&mut harness);
    let values = last_values(&harness);
    let ids: Vec<EntityId> = values.iter().map(|v| v.0).collect();
    assert_eq!(ids, vec![EntityId(1), EntityId(4)], "only the selected");
    assert!(values.iter().all(|v| v.1 == 0.0), "no link between them");
    let open = harness.state().open.as_ref().unwrap();
    let run = open
        .case
        .audit_records()
        .unwrap()
        .into_iter()
        .rev()
        .find(|r| r.action == "analysis run" && r.details.contains("\"scope\""))
        .expect("the run is recorded with its scope");
    let details: serde_json::Value = serde_json::from_str(&run.details).unwrap();
    assert_eq!(details["scope"], serde_json::json!([1, 4]), "{details}");

    // The working set: the first triangle on the chart.
    harness.state_mut().graph.chart.state.on_chart =
        Some([1, 2, 3].into_iter().map(EntityId).collect());
    harness.run_steps(2);
    press(&mut harness, "working set (3 on the chart)");
    press(&mut harness, "Run on the working set (3)");
    settle(&mut harness);
    let values = last_values(&harness);
    let ids: Vec<i64> = values.iter().map(|v| v.0.0).collect();
    assert_eq!(ids, vec![1, 2, 3]);
    // A triangle: two links each (the link to E4 is outside).
    assert!(values.iter().all(|v| v.1 > 0.0), "{values:?}");

    // A bundled chain on the selection: every step sees only the selected entities.
    select(&mut harness, &[1, 2, 3]);
    press(&mut harness, "selection (3)");
    let before = harness.state().analysis.results.len();
    press(&mut harness, "Run chain");
    settle(&mut harness);
    let results = &harness.state().analysis.results[before..];
    assert_eq!(results.len(), 2, "{:?}", harness.state().messages);
    for r in results {
        let named = copkit::analysis::chain::entities_of(&r.output);
        assert!(!named.is_empty(), "{}", r.component);
        assert!(
            named.iter().all(|e| (1..=3).contains(&e.0)),
            "{}: {named:?}",
            r.component
        );
    }

    // Nothing selected: a selection run cannot start.
    select(&mut harness, &[]);
    press(&mut harness, "selection (0)");
    let runs = harness.state().analysis.results.len();
    press(&mut harness, "Run on the 0 selected");
    settle(&mut harness);
    assert_eq!(harness.state().analysis.results.len(), runs);
}

#[test]
fn the_window_opens_with_the_positions_copkit_layout_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let (path, case) = make_case(&dir);
    drop(case);
    let out = copkit(&[
        "layout",
        path.to_str().unwrap(),
        "--algorithm",
        "circular",
        "--purpose",
        "OP-TEST-1 layout",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let stored = stored_positions(&path);
    assert_eq!(stored.len(), 6);
    let case = Case::open(&path, actor(), "test: open after the layout").unwrap();
    let mut harness = harness_on(case, Tab::Graph);
    harness.run_steps(3);
    let graph = &harness.state().graph;
    let snapshot = &harness.state().open.as_ref().unwrap().snapshot;
    for (i, e) in snapshot.entities.iter().enumerate() {
        let [x, y] = graph.placement.positions[i];
        let (sx, sy) = stored[&e.id.0];
        assert!(
            (x - sx).abs() < 1e-3 && (y - sy).abs() < 1e-3,
            "{}: window {x},{y}, stored {sx},{sy}",
            e.id
        );
    }
}

fn stored_positions(path: &Path) -> std::collections::HashMap<i64, (f32, f32)> {
    let case = Case::open(path, actor(), "test: read the chart").unwrap();
    let json: serde_json::Value = serde_json::from_str(&case.chart().unwrap().unwrap()).unwrap();
    json["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[0].as_i64().unwrap(),
                (p[1].as_f64().unwrap() as f32, p[2].as_f64().unwrap() as f32),
            )
        })
        .collect()
}
