//! UI flows of the workbench window, driven headless with egui_kittest (no GPU needed).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]
#![cfg(feature = "gui")]

mod common;

use common::{BatchItems, actor, temp_case};
use copkit::app::{Prefs, WorkbenchApp};
use copkit::model::*;
use copkit::store::{Command, NewBatch};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::time::{Duration, Instant};

fn person(name: &str, line: usize) -> NewEntity {
    let mut e = NewEntity::new("Person", name).with("phone", &format!("+44 7700 90012{line}"));
    e.provenance = Provenance {
        batch: None,
        source_file: Some("people.csv".into()),
        record: Some(format!("line {line}")),
    };
    for a in &mut e.attributes {
        a.provenance = e.provenance.clone();
        a.grading = Some(Grading {
            scheme: "admiralty".into(),
            source: Some("B".into()),
            information: Some("2".into()),
            handling: None,
        });
    }
    e.category = Some(PersonCategory::Suspect);
    e
}

fn harness() -> (tempfile::TempDir, Harness<'static, WorkbenchApp>) {
    let dir = tempfile::tempdir().unwrap();
    let (_path, mut case) = temp_case(&dir, "ui.copkit");
    common::import(
        &mut case,
        BatchItems {
            batch: NewBatch {
                kind: "import".into(),
                description: "people.csv".into(),
                ..Default::default()
            },
            entities: vec![
                person("Ana Novak", 2),
                person("Marko Horvat", 3),
                person("Ana Nowak", 4),
            ],
            ..Default::default()
        },
    )
    .unwrap();
    // These tests start on the entity table, and run the layout themselves when they need one.
    let prefs = Prefs {
        auto_layout: false,
        tab: Some(copkit::app::Tab::Entities),
        ..Prefs::default()
    };
    let app = WorkbenchApp::new(actor(), prefs).with_case(case).unwrap();
    let harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), app);
    (dir, harness)
}

/// Steps the UI until background jobs (snapshot reloads) have finished.
fn settle(harness: &mut Harness<'static, WorkbenchApp>) {
    let start = Instant::now();
    loop {
        harness.step();
        if harness.state().jobs.running().is_empty() {
            harness.run_steps(3);
            return;
        }
        // A guard against a hang, not a timing goal: generating the demo case and laying it
        // out in a debug build took close to 20 s on a slower machine with two tests at once.
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "jobs did not finish"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn selecting_an_entity_in_the_table_shows_its_provenance_in_the_inspector() {
    let (_dir, mut harness) = harness();
    harness.run_steps(3);
    harness.get_by_label("Marko Horvat").click();
    harness.run_steps(3);
    assert_eq!(harness.state().view.selection.len(), 1);
    // The inspector names the entity and every value's source and grading.
    assert!(harness.query_all_by_label_contains("people.csv").count() >= 2);
    harness.get_by_label_contains("Person E2");
    harness.get_by_label("B2");
}

#[test]
fn ctrl_click_adds_to_the_selection() {
    let (_dir, mut harness) = harness();
    harness.run_steps(3);
    harness.get_by_label("Ana Novak").click();
    harness.run_steps(2);
    harness
        .get_by_label("Ana Nowak")
        .click_modifiers(egui::Modifiers::COMMAND);
    harness.run_steps(2);
    assert_eq!(harness.state().view.selection.len(), 2);
}

#[test]
fn merge_two_entities_then_undo_with_ctrl_z() {
    let (_dir, mut harness) = harness();
    harness.run_steps(3);
    harness.state_mut().apply_store_command(Command::Merge {
        keep: EntityId(1),
        absorb: vec![EntityId(3)],
        method: "manual".into(),
        reason: "same person, spelling variant".into(),
    });
    settle(&mut harness);
    assert!(
        harness.query_by_label("Ana Nowak").is_none(),
        "the duplicate is still listed"
    );
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    settle(&mut harness);
    harness.get_by_label("Ana Nowak");
    let open = harness.state().open.as_ref().unwrap();
    assert_eq!(open.snapshot.entities.len(), 3);
    let actions: Vec<String> = open
        .case
        .audit_records()
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert!(
        actions.ends_with(&["merge entities".to_string(), "undo".to_string()]),
        "{actions:?}"
    );
}

#[test]
fn ctrl_p_opens_the_command_palette_and_runs_a_command() {
    let (_dir, mut harness) = harness();
    harness.run_steps(2);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::P);
    harness.run_steps(2);
    // The palette lists the command (the tab of the same name is drawn first).
    harness
        .query_all_by_label("Timeline")
        .last()
        .unwrap()
        .click();
    harness.run_steps(3);
    assert_eq!(harness.state().tab, copkit::app::Tab::Timeline);
}

#[test]
fn running_an_analysis_adds_a_ranked_result_and_a_table_column() {
    let (_dir, mut harness) = harness();
    harness.run_steps(2);
    harness.state_mut().tab = copkit::app::Tab::Analysis;
    harness.run_steps(2);
    harness.get_by_label("Run on the whole case").click();
    settle(&mut harness);
    let state = harness.state();
    assert_eq!(state.analysis.results.len(), 1);
    let column = state
        .view
        .analysis_column
        .as_ref()
        .expect("a column for the table");
    assert_eq!(column.name, "degree");
    assert_eq!(column.values.len(), 3);
    let open = state.open.as_ref().unwrap();
    let last = open.case.audit_records().unwrap().pop().unwrap();
    assert_eq!(
        (last.category.as_str(), last.action.as_str()),
        ("consultation", "analysis run")
    );
    harness.get_by_label_contains("Result: degree");
    harness.state_mut().tab = copkit::app::Tab::Entities;
    harness.run_steps(2);
    harness.get_by_label("degree");
}

#[test]
fn the_force_layout_runs_as_a_job_and_moves_the_graph() {
    let (_dir, mut harness) = harness();
    harness
        .state_mut()
        .apply_store_command(Command::CreateLink {
            link: NewLink::new("knows", EntityId(1), EntityId(2)),
        });
    settle(&mut harness);
    harness.state_mut().tab = copkit::app::Tab::Graph;
    harness.run_steps(2);
    let before = harness.state().graph.placement.positions.clone();
    assert_eq!(before.len(), 3);
    harness.get_by_label("Run force layout").click();
    harness.run_steps(1);
    assert!(harness.state().graph.placement.layout_running);
    settle(&mut harness);
    assert!(!harness.state().graph.placement.layout_running);
    assert_ne!(harness.state().graph.placement.positions, before);
}

#[test]
fn the_demo_case_is_generated_and_opened_in_training_mode() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("copkit/demo.copkit");
    let mut app = WorkbenchApp::new(actor(), Prefs::default());
    app.open_demo_at(demo.clone());
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), app);
    settle(&mut harness);
    let open = harness
        .state()
        .open
        .as_ref()
        .expect("the demo case is open");
    assert!(open.training);
    assert!(open.snapshot.entities.len() > 100);
    harness.get_by_label_contains("TRAINING MODE");
    assert!(demo.exists());
    // A first start shows the link chart, laid out as it first shows.
    assert_eq!(harness.state().tab, copkit::app::Tab::Graph);
    harness.run_steps(2);
    settle(&mut harness);
    let graph = &harness.state().graph;
    assert_eq!(graph.placement.positions.len(), open_entities(&harness));
    let spiral = copkit::layout::ForceLayout::new(&graph.placement.graph, None).positions;
    assert_ne!(
        graph.placement.positions, spiral,
        "the demo chart was laid out"
    );
}

fn open_entities(harness: &Harness<'static, WorkbenchApp>) -> usize {
    harness
        .state()
        .open
        .as_ref()
        .map_or(0, |o| o.snapshot.entities.len())
}

#[test]
fn a_generated_case_shows_its_ground_truth_panel() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo.copkit");
    let mut app = WorkbenchApp::new(actor(), Prefs::default());
    app.open_demo_at(demo);
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), app);
    settle(&mut harness);
    harness.get_by_label("Ground truth").click();
    harness.run_steps(2);
    harness.get_by_label_contains("Leaders (");
    harness.get_by_label_contains("Early-warning burst").click();
    harness.run_steps(2);
    harness
        .get_by_label("Set the time filter to the burst")
        .click();
    harness.run_steps(2);
    assert!(harness.state().view.time_filter.is_some());
}

#[test]
fn an_entity_resolution_proposal_is_shown_in_the_inspector_and_accepted() {
    let (_dir, mut harness) = harness();
    // The same person entered again, surname first, with the number written nationally.
    harness
        .state_mut()
        .apply_store_command(Command::CreateEntity {
            entity: NewEntity::new("Person", "Horvat Marko").with("phone", "07700 900123"),
        });
    settle(&mut harness);
    harness
        .state_mut()
        .run_analysis("resolve-entities".into(), copkit::analysis::Params::new());
    settle(&mut harness);
    let result = harness.state().analysis.results.last().cloned();
    let Some(copkit::analysis::Output::MergeProposals { proposals }) = result.map(|r| r.output)
    else {
        panic!("no proposals")
    };
    assert_eq!(proposals.len(), 1, "{proposals:?}");
    harness.get_by_label("Marko Horvat").click();
    harness.run_steps(3);
    harness.get_by_label_contains("Proposed duplicate: Horvat Marko");
    harness.get_by_label("Accept").click();
    harness.run_steps(1);
    settle(&mut harness);
    let open = harness.state().open.as_ref().unwrap();
    assert_eq!(open.snapshot.entities.len(), 3, "Horvat Marko was merged");
    let last = open
        .case
        .audit_records()
        .unwrap()
        .into_iter()
        .rev()
        .find(|r| r.action == "merge entities")
        .expect("the merge is audited");
    assert_eq!(last.category, "combination");
    assert!(
        last.details.contains("resolve-entities"),
        "{}",
        last.details
    );
}

/// Opening a second case replaces the chart, even when both cases are at the same generation
/// (the graph view rebuilt only on a new generation, so it kept the first case's chart); the
/// first case's layout, still running, is cancelled without an error.
#[test]
fn opening_another_case_replaces_the_chart_and_cancels_its_layout() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (
        dir.path().join("demo.copkit"),
        dir.path().join("other.copkit"),
    );
    copkit::generate::generate(
        &second,
        &copkit::generate::GenerateOptions::new(
            copkit::generate::Scenario::Fraud,
            2,
            copkit::generate::Size::Small,
        ),
        actor(),
        "OP-TEST",
        &copkit::jobs::CancelToken::new(),
        &copkit::jobs::NoProgress,
    )
    .unwrap();
    let mut app = WorkbenchApp::new(actor(), Prefs::default());
    app.tab = copkit::app::Tab::Graph;
    app.open_demo_at(first);
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), app);
    // Until the first case is open and its layout has started (on by default).
    let start = Instant::now();
    while !harness.state().graph.placement.layout_running {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no layout started"
        );
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    let first_case = harness.state().open.as_ref().unwrap().snapshot.clone();
    harness.state_mut().open_demo_at(second);
    settle(&mut harness);
    harness.run_steps(2);
    settle(&mut harness);
    let state = harness.state();
    let open = state.open.as_ref().unwrap();
    assert_eq!(
        open.snapshot.generation, first_case.generation,
        "a test of equal generations"
    );
    assert_ne!(open.snapshot.entities.len(), first_case.entities.len());
    assert_eq!(
        state.graph.placement.graph.node_count,
        open.snapshot.entities.len()
    );
    assert_eq!(
        state.graph.placement.positions.len(),
        open.snapshot.entities.len()
    );
    assert!(!state.graph.placement.layout_running);
    let errors: Vec<&str> = state
        .messages
        .iter()
        .filter(|m| m.error)
        .map(|m| m.text.as_str())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

/// The analysis form: a yes/no parameter is a checkbox, and entity parameters are filled from
/// the selection (from and to in id order, a list with every selected entity).
#[test]
fn analysis_parameters_take_checkboxes_and_the_selection() {
    let (_dir, mut harness) = harness();
    harness.run_steps(2);
    {
        let state = harness.state_mut();
        state.tab = copkit::app::Tab::Analysis;
        state.analysis.component = "shortest-path".into();
        for id in [1, 3] {
            state
                .view
                .selection
                .insert(copkit::model::ItemRef::Entity(EntityId(id)));
        }
    }
    harness.run_steps(2);
    let buttons: Vec<_> = harness.query_all_by_label("Use selection").collect();
    assert_eq!(buttons.len(), 2, "one for from, one for to");
    for button in buttons {
        button.click();
    }
    harness.run_steps(2);
    harness.get_by_label("weighted").click();
    harness.run_steps(2);
    let params = &harness.state().analysis.params;
    assert_eq!(params["from"], "E1");
    assert_eq!(params["to"], "E3");
    assert_eq!(params["weighted"], "true");

    harness.state_mut().analysis.component = "connecting-network".into();
    harness.state_mut().analysis.params.clear();
    harness.run_steps(2);
    harness.get_by_label("Use selection").click();
    harness.run_steps(2);
    assert_eq!(harness.state().analysis.params["entities"], "E1, E3");
}
