//! UI flows of the link-graph view and the import wizard, driven headless with egui_kittest:
//! click a node → the inspector shows it; shift-drag box selection; show only, expand
//! neighbours; hide then ctrl-z; export the view as SVG (a recorded disclosure); import a CSV
//! with one bad row through the wizard → the report names the row.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]
#![cfg(feature = "gui")]

mod common;

use common::{BatchItems, actor, temp_case};
use copkit::app::{Prefs, Tab, WorkbenchApp};
use copkit::model::*;
use copkit::store::{Command, NewBatch};
use egui::{Modifiers, PointerButton, Pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::time::{Duration, Instant};

/// The workbench at the graph tab on a chain of five people: Ana – Ben – Cleo – Dan – Eva
/// (entity ids 1..=5), on a circle that the tests can click on.
fn harness() -> (tempfile::TempDir, Harness<'static, WorkbenchApp>) {
    let (dir, case) = chain_case();
    // These tests place the nodes themselves.
    let mut harness = graph_tab(case, false);
    place_on_a_circle(&mut harness);
    (dir, harness)
}

/// Runs the first frames (the view reads the case), then puts the entities on a circle.
fn place_on_a_circle(harness: &mut Harness<'static, WorkbenchApp>) {
    settle(harness);
    let n = harness.state().graph.entity_count();
    harness
        .state_mut()
        .graph
        .layout_finished(Some(copkit::layout::circular(n)));
    settle(harness);
}

/// The workbench on `case` at the graph tab, with or without the automatic layout.
fn graph_tab(case: copkit::store::Case, auto_layout: bool) -> Harness<'static, WorkbenchApp> {
    let prefs = Prefs {
        auto_layout,
        ..Prefs::default()
    };
    let app = WorkbenchApp::new(actor(), prefs).with_case(case).unwrap();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), app);
    harness.state_mut().tab = Tab::Graph;
    harness
}

/// A case holding the chain of five people.
fn chain_case() -> (tempfile::TempDir, copkit::store::Case) {
    let dir = tempfile::tempdir().unwrap();
    let (_path, mut case) = temp_case(&dir, "graph.copkit");
    let names = ["Ana Berg", "Ben Cole", "Cleo Dunn", "Dan Eames", "Eva Fink"];
    common::import(
        &mut case,
        BatchItems {
            batch: NewBatch {
                kind: "import".into(),
                description: "people.csv".into(),
                ..Default::default()
            },
            entities: names.iter().map(|n| NewEntity::new("Person", *n)).collect(),
            ..Default::default()
        },
    )
    .unwrap();
    for i in 1..5 {
        case.apply(Command::CreateLink {
            link: NewLink::new("knows", EntityId(i), EntityId(i + 1)),
        })
        .unwrap();
    }
    (dir, case)
}

/// Steps the UI until a label containing `text` shows (work off the UI thread), failing with
/// `missing` after 20 s.
fn wait_for_label(harness: &mut Harness<'static, WorkbenchApp>, text: &str, missing: &str) {
    let start = Instant::now();
    while harness.query_by_label_contains(text).is_none() {
        assert!(start.elapsed() < Duration::from_secs(20), "{missing}");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Clicks the button labelled `label` and waits for the jobs it starts.
fn click_and_settle(harness: &mut Harness<'static, WorkbenchApp>, label: &str) {
    harness.get_by_label(label).click();
    harness.run_steps(1);
    settle(harness);
}

/// The import report the wizard shows.
fn shown_report(harness: &Harness<'static, WorkbenchApp>) -> copkit::io::ImportReport {
    let wizard = harness.state().import.as_ref();
    wizard.and_then(|w| w.report.clone()).unwrap_or_else(|| {
        panic!(
            "the import report is shown; wizard error: {:?}",
            wizard.map(|w| w.error.clone())
        )
    })
}

fn settle(harness: &mut Harness<'static, WorkbenchApp>) {
    let start = Instant::now();
    loop {
        harness.step();
        if harness.state().jobs.running().is_empty() {
            harness.run_steps(3);
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "jobs did not finish"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn node_pos(harness: &Harness<'static, WorkbenchApp>, id: i64) -> Pos2 {
    harness
        .state()
        .graph
        .screen_pos(EntityId(id))
        .expect("the node is on screen")
}

fn press(
    harness: &mut Harness<'static, WorkbenchApp>,
    pos: Pos2,
    button: PointerButton,
    down: bool,
) {
    harness.event(egui::Event::PointerButton {
        pos,
        button,
        pressed: down,
        modifiers: Modifiers::default(),
    });
}

fn click_at(harness: &mut Harness<'static, WorkbenchApp>, pos: Pos2, button: PointerButton) {
    harness.event(egui::Event::PointerMoved(pos));
    harness.step();
    press(harness, pos, button, true);
    harness.step();
    press(harness, pos, button, false);
    harness.run_steps(2);
}

fn selected(harness: &Harness<'static, WorkbenchApp>) -> Vec<EntityId> {
    harness.state().view.selected_entities()
}

#[test]
fn clicking_a_node_selects_it_and_the_inspector_shows_it() {
    let (_dir, mut harness) = harness();
    let pos = node_pos(&harness, 3);
    click_at(&mut harness, pos, PointerButton::Primary);
    assert_eq!(selected(&harness), vec![EntityId(3)]);
    // The inspector (right panel) shows the selected person.
    assert!(
        !harness
            .query_all_by_label_contains("Cleo Dunn")
            .collect::<Vec<_>>()
            .is_empty(),
        "the inspector does not show the clicked entity"
    );
    // Which way each of its links runs: the chain's are undirected; a directed one from
    // Cleo shows its arrow on Cleo, and the other way round on its target.
    harness.get_by_label_contains("knows — Ben Cole");
    let mut link = NewLink::new("pays", EntityId(3), EntityId(5));
    link.directed = true;
    harness
        .state_mut()
        .apply_store_command(Command::CreateLink { link });
    settle(&mut harness);
    harness.get_by_label_contains("pays -> Eva Fink");
    harness.get_by_label_contains("pays -> Eva Fink").click();
    harness.run_steps(2);
    harness.get_by_label_contains("pays <- Cleo Dunn");
    // Clicking the background clears the selection.
    let rect = harness.state().graph.last_camera.unwrap().rect;
    click_at(
        &mut harness,
        rect.left_top() + egui::vec2(5.0, 5.0),
        PointerButton::Primary,
    );
    assert!(selected(&harness).is_empty());
}

#[test]
fn shift_drag_selects_the_nodes_in_the_box() {
    let (_dir, mut harness) = harness();
    let points: Vec<Pos2> = (1..=5).map(|i| node_pos(&harness, i)).collect();
    let min = points
        .iter()
        .fold(Pos2::new(f32::MAX, f32::MAX), |a, p| a.min(*p));
    let max = points
        .iter()
        .fold(Pos2::new(f32::MIN, f32::MIN), |a, p| a.max(*p));
    let (from, to) = (min - egui::vec2(15.0, 15.0), max + egui::vec2(15.0, 15.0));
    harness.event(egui::Event::ModifiersChanged(Modifiers::SHIFT));
    harness.event(egui::Event::PointerMoved(from));
    harness.step();
    harness.event(egui::Event::PointerButton {
        pos: from,
        button: PointerButton::Primary,
        pressed: true,
        modifiers: Modifiers::SHIFT,
    });
    harness.step();
    for k in 1..=5 {
        harness.event(egui::Event::PointerMoved(
            from + (to - from) * (k as f32 / 5.0),
        ));
        harness.step();
    }
    harness.event(egui::Event::PointerButton {
        pos: to,
        button: PointerButton::Primary,
        pressed: false,
        modifiers: Modifiers::SHIFT,
    });
    harness.step();
    harness.event(egui::Event::ModifiersChanged(Modifiers::default()));
    harness.run_steps(2);
    assert_eq!(
        selected(&harness),
        (1..=5).map(EntityId).collect::<Vec<_>>()
    );
}

#[test]
fn show_only_then_expand_neighbours_from_the_context_menu() {
    let (_dir, mut harness) = harness();
    let pos = node_pos(&harness, 3);
    click_at(&mut harness, pos, PointerButton::Secondary);
    assert_eq!(
        selected(&harness),
        vec![EntityId(3)],
        "right-click selects the node"
    );
    harness.get_by_label("Show only these").click();
    harness.run_steps(3);
    assert_eq!(harness.state().graph.shown_entities(), 1);
    let pos = node_pos(&harness, 3);
    click_at(&mut harness, pos, PointerButton::Secondary);
    harness.get_by_label_contains("Expand neighbours").click();
    harness.run_steps(3);
    assert_eq!(
        harness.state().graph.shown_entities(),
        3,
        "Ben and Dan are back"
    );
    assert_eq!(
        selected(&harness),
        vec![EntityId(2), EntityId(3), EntityId(4)],
        "the expanded neighbours are selected"
    );
}

#[test]
fn hide_then_undo_with_ctrl_z() {
    let (_dir, mut harness) = harness();
    let pos = node_pos(&harness, 2);
    click_at(&mut harness, pos, PointerButton::Secondary);
    harness.get_by_label("Hide").click();
    harness.run_steps(3);
    assert_eq!(harness.state().graph.shown_entities(), 4);
    harness.key_press_modifiers(Modifiers::COMMAND, egui::Key::Z);
    harness.run_steps(3);
    assert_eq!(
        harness.state().graph.shown_entities(),
        5,
        "undo shows it again"
    );
    // The case itself was never changed by hiding.
    let open = harness.state().open.as_ref().unwrap();
    assert_eq!(open.snapshot.entities.len(), 5);
}

#[test]
fn exporting_the_view_as_svg_writes_the_file_and_records_a_disclosure() {
    let (dir, mut harness) = harness();
    let out = dir.path().join("chart.svg");
    harness.state_mut().save_chart_svg(&out);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("<?xml"));
    assert_eq!(text.matches("<use ").count(), 5, "five entities drawn");
    assert!(text.contains("Cleo Dunn"));
    let open = harness.state().open.as_ref().unwrap();
    let last = open.case.audit_records().unwrap().pop().unwrap();
    assert_eq!(last.action, "chart export");
    assert_eq!(last.category, "disclosure");
}

#[test]
fn importing_a_csv_with_one_bad_row_through_the_wizard_names_the_row() {
    let (dir, mut harness) = harness();
    let csv = dir.path().join("calls.csv");
    std::fs::write(
        &csv,
        "caller,callee,start,duration,cell,imei\n\
         07700900001,07700900002,2024-03-01 10:00:00,60,C1,356938035643809\n\
         07700900001,07700900003,not a time,30,C2,356938035643809\n\
         07700900002,07700900003,2024-03-01 11:00:00,45,C1,\n",
    )
    .unwrap();
    harness.state_mut().open_import(Some(&csv));
    // The preview is made off the UI thread.
    wait_for_label(&mut harness, "with problems", "no preview");
    // The template was guessed from the header, the preview marks the bad row.
    assert_eq!(
        harness.state().import.as_ref().map(|w| w.spec.clone()),
        Some(copkit::ui::import::SpecChoice::Template("cdr".into()))
    );
    harness.get_by_label_contains("1 with problems");
    // Strict first: nothing is imported, and the window says where to fix it (the core's
    // message names no command-line flag).
    click_and_settle(&mut harness, "Start import");
    let error = harness
        .state()
        .import
        .as_ref()
        .and_then(|w| w.error.clone())
        .unwrap_or_default();
    assert!(
        error.contains("import leniently") && error.contains("tick Lenient"),
        "{error}"
    );
    assert!(!error.contains("--lenient"), "{error}");
    harness
        .get_by_label_contains("Lenient: import the good rows")
        .click();
    harness.run_steps(1);
    click_and_settle(&mut harness, "Start import");
    let report = shown_report(&harness);
    assert_eq!(
        (report.rows_read, report.rows_accepted, report.rows_rejected),
        (3, 2, 1)
    );
    harness.get_by_label_contains("line 3");
    // The two good calls are in the case.
    settle(&mut harness);
    let open = harness.state().open.as_ref().unwrap();
    let calls = open
        .snapshot
        .events
        .iter()
        .filter(|e| e.event_type == "Call")
        .count();
    assert_eq!(calls, 2);
}

#[test]
fn the_export_dialog_writes_the_export_and_its_manifest_as_a_job() {
    let (dir, mut harness) = harness();
    harness.key_press_modifiers(Modifiers::COMMAND, egui::Key::E);
    harness.run_steps(2);
    let out = dir.path().join("out.graphml");
    {
        let dialog = harness
            .state_mut()
            .export
            .as_mut()
            .expect("ctrl-e opens the dialog");
        dialog.format = copkit::io::export::ExportFormat::GraphMl;
        dialog.out = out.display().to_string();
        dialog.recipient = "Crown Prosecution Service".into();
    }
    harness.get_by_label("Export").click();
    harness.run_steps(1);
    settle(&mut harness);
    let report = harness
        .state()
        .export
        .as_ref()
        .and_then(|d| d.report.clone())
        .expect("the export finished");
    assert_eq!(report.manifest.entities, 5);
    assert!(out.exists() && report.manifest_path.exists());
    harness.get_by_label_contains("Manifest:");
}

#[test]
fn the_layout_menu_lays_the_chart_out_hierarchically_and_by_group() {
    let (_dir, mut harness) = harness();
    let before = harness.state().graph.placement.positions.clone();
    harness.get_by_label("Layout").click();
    harness.run_steps(3);
    harness.get_by_label("Hierarchical").click();
    // Layouts run as jobs: the positions arrive when the job ends.
    harness.run_steps(1);
    settle(&mut harness);
    let after = harness.state().graph.placement.positions.clone();
    assert_ne!(before, after);
    harness.get_by_label("Layout").click();
    harness.run_steps(3);
    harness.get_by_label("Grouped by type").click();
    harness.run_steps(1);
    settle(&mut harness);
    let grouped = harness.state().graph.placement.positions.clone();
    assert_eq!(grouped.len(), 5);
    assert_ne!(grouped, after);
}

#[test]
fn collapse_neighbours_of_one_type_from_the_context_menu_then_undo() {
    let (_dir, mut harness) = harness();
    let pos = node_pos(&harness, 3);
    click_at(&mut harness, pos, PointerButton::Secondary);
    // Cleo's neighbours are Ben and Dan, both people.
    harness.get_by_label("Collapse 2 Person neighbours").click();
    harness.run_steps(3);
    let graph = &harness.state().graph;
    assert_eq!(
        graph.shown_entities(),
        3,
        "Ana, Cleo and Eva stay on their own"
    );
    assert_eq!(graph.chart.state.collections.len(), 1);
    let collection = &graph.chart.state.collections[0];
    assert_eq!(collection.members, vec![EntityId(2), EntityId(4)]);
    assert_eq!(collection.label, "2 × Person");
    harness.key_press_modifiers(Modifiers::COMMAND, egui::Key::Z);
    harness.run_steps(3);
    assert_eq!(
        harness.state().graph.shown_entities(),
        5,
        "undo opens it again"
    );
}

#[test]
fn a_parquet_file_is_previewed_imported_and_its_rejected_rows_reimported_through_the_wizard() {
    let (dir, mut harness) = harness();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let parquet = fixtures.join("cdr.parquet");
    // A mapping that needs an IMEI on every row: the row without one is rejected.
    let template = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/templates/cdr.toml"),
    )
    .unwrap();
    let strict = dir.path().join("needs-imei.toml");
    std::fs::write(
        &strict,
        template.replace(
            "id_property = \"imei\"\noptional = true",
            "id_property = \"imei\"",
        ),
    )
    .unwrap();
    harness.state_mut().open_import(Some(&parquet));
    // The template is guessed from the column names in the file's footer.
    assert_eq!(
        harness.state().import.as_ref().map(|w| w.spec.clone()),
        Some(copkit::ui::import::SpecChoice::Template("cdr".into()))
    );
    harness.state_mut().import.as_mut().unwrap().spec =
        copkit::ui::import::SpecChoice::File(strict.display().to_string());
    wait_for_label(
        &mut harness,
        "1 with problems",
        "no preview marking the row without an IMEI",
    );
    harness.get_by_label_contains("row groups");
    harness.get_by_label_contains("Lenient").click();
    harness.run_steps(1);
    click_and_settle(&mut harness, "Start import");
    let report = shown_report(&harness);
    assert_eq!(
        (report.rows_read, report.rows_accepted, report.rows_rejected),
        (5, 4, 1)
    );
    // Fix the mapping (the standard template) and re-import only the rejected row.
    harness
        .get_by_label("Fix the mapping and re-import rejected rows…")
        .click();
    harness.run_steps(1);
    harness.state_mut().import.as_mut().unwrap().spec =
        copkit::ui::import::SpecChoice::Template("cdr".into());
    // The preview of the fixed mapping marks no row.
    wait_for_label(&mut harness, "0 with problems", "no new preview");
    harness.get_by_label_contains("Re-importing only the row the last import rejected");
    click_and_settle(&mut harness, "Re-import rejected rows");
    let report = shown_report(&harness);
    assert_eq!(
        (report.rows_read, report.rows_accepted, report.rows_rejected),
        (1, 1, 0)
    );
    settle(&mut harness);
    let open = harness.state().open.as_ref().unwrap();
    let calls = open
        .snapshot
        .events
        .iter()
        .filter(|e| {
            e.event_type == "Call" && e.provenance.source_file.as_deref() == Some("cdr.parquet")
        })
        .count();
    assert_eq!(calls, 5);
}

/// A chart shown for the first time is laid out in the background (the View menu's "Lay out
/// new charts automatically", on by default); with the preference off it keeps the starting
/// spiral until the user runs the layout.
#[test]
fn a_new_chart_is_laid_out_automatically_unless_the_preference_is_off() {
    for auto_layout in [true, false] {
        let (_dir, case) = chain_case();
        let mut harness = graph_tab(case, auto_layout);
        harness.run_steps(3);
        settle(&mut harness);
        let graph = &harness.state().graph;
        let spiral = copkit::layout::ForceLayout::new(&graph.placement.graph, None).positions;
        assert_eq!(graph.placement.positions.len(), 5);
        assert_eq!(
            graph.placement.positions != spiral,
            auto_layout,
            "{:?}",
            graph.placement.positions
        );
        assert!(!graph.placement.wants_layout, "asked once, then done");
    }
}

/// The chart is saved with the case and comes back when the case is opened again: where each
/// entity was drawn, what was hidden and pinned; a saved chart is not laid out again. A saved
/// chart that cannot be read is reported and the chart drawn anew.
#[test]
fn the_chart_is_saved_with_the_case_and_comes_back() {
    let (_dir, case) = chain_case();
    let path = case.path().to_path_buf();
    let mut harness = graph_tab(case, false);
    place_on_a_circle(&mut harness);
    {
        let state = &mut harness.state_mut().graph.chart.state;
        state.hidden.insert(EntityId(2));
        state.pinned.insert(EntityId(4));
    }
    let positions = harness.state().graph.placement.positions.clone();
    harness.state_mut().save_chart();
    drop(harness);

    let reopen = || copkit::store::Case::open(&path, actor(), "OP-TEST").unwrap();
    let mut harness = graph_tab(reopen(), true);
    harness.run_steps(3);
    settle(&mut harness);
    let graph = &harness.state().graph;
    assert_eq!(graph.placement.positions, positions);
    assert!(graph.chart.state.hidden.contains(&EntityId(2)));
    assert!(graph.chart.state.pinned.contains(&EntityId(4)));
    assert!(!graph.placement.wants_layout);
    drop(harness);

    let mut case = reopen();
    case.save_chart("{not a chart").unwrap();
    let mut harness = graph_tab(case, false);
    harness.run_steps(3);
    let state = harness.state();
    assert!(
        state
            .messages
            .iter()
            .any(|m| m.error && m.text.contains("could not be read")),
        "{:?}",
        state.messages
    );
    assert_eq!(state.graph.placement.positions.len(), 5, "drawn anew");
    assert!(state.graph.chart.state.hidden.is_empty());
}
