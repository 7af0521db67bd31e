//! Analyst editing through the window, driven headless with egui_kittest: entities made from
//! the Edit menu and by double-clicking the chart, a link drawn by alt-dragging from one entity
//! to the other, an event among the selection; grading, restricting and a note from the
//! inspector; undo and redo; a merge split back; a custom type and scheme; a chart snapshot
//! restored; the telco file mapped in the import wizard and its saved spec used by
//! `copkit import --spec`.

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
use copkit::model::{EntityId, ItemRef, NewEntity};
use copkit::store::{CaseSnapshot, Command};
use egui::{Modifiers, PointerButton, Pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::sync::Arc;
use std::time::{Duration, Instant};

type App = Harness<'static, WorkbenchApp>;

fn harness_with(entities: &[(&str, &str)]) -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().unwrap();
    let (_path, mut case) = temp_case(&dir, "edit.copkit");
    for (entity_type, label) in entities {
        case.apply(Command::CreateEntity {
            entity: NewEntity::new(*entity_type, *label),
        })
        .unwrap();
    }
    let prefs = Prefs {
        auto_layout: false,
        tab: Some(Tab::Graph),
        ..Prefs::default()
    };
    let app = WorkbenchApp::new(actor(), prefs).with_case(case).unwrap();
    // Frames 1/30 s apart, so that two clicks in a row make a double click (egui's limit is
    // 0.3 s; kittest's default step is 0.25 s).
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .with_step_dt(1.0 / 30.0)
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), app);
    settle(&mut harness);
    (dir, harness)
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

fn snapshot(harness: &App) -> Arc<CaseSnapshot> {
    Arc::clone(&harness.state().open.as_ref().unwrap().snapshot)
}

fn entity_named(harness: &App, label: &str) -> Option<EntityId> {
    snapshot(harness)
        .entities
        .iter()
        .find(|e| e.label == label)
        .map(|e| e.id)
}

fn audit_actions(harness: &App) -> Vec<String> {
    harness
        .state()
        .open
        .as_ref()
        .unwrap()
        .case
        .audit_records()
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect()
}

/// Runs a menu item; the window it opens is drawn (a new window's first frame only sizes it).
fn menu(harness: &mut App, menu: &str, item: &str) {
    harness.get_by_label(menu).click();
    harness.run_steps(2);
    harness.get_by_label(item).click();
    harness.run_steps(4);
}

/// Types into the text field of this label, as a user does: click into it, select what is
/// there, type over it.
fn fill(harness: &mut App, label: &str, text: &str) {
    harness.get_by_label(label).scroll_to_me();
    harness.run_steps(1);
    harness.get_by_label(label).click();
    harness.run_steps(1);
    harness.key_press_modifiers(Modifiers::COMMAND, egui::Key::A);
    harness.run_steps(1);
    harness.get_by_label(label).type_text(text);
    harness.run_steps(1);
}

/// Clicks a button, scrolled into view first (the inspector is longer than the window).
fn press(harness: &mut App, label: &str) {
    harness.get_by_label(label).scroll_to_me();
    harness.run_steps(1);
    harness.get_by_label(label).click();
    harness.run_steps(1);
}

fn click_at(harness: &mut App, pos: Pos2, button: PointerButton, modifiers: Modifiers) {
    harness.event(egui::Event::PointerMoved(pos));
    harness.step();
    for pressed in [true, false] {
        harness.event(egui::Event::PointerButton {
            pos,
            button,
            pressed,
            modifiers,
        });
        harness.step();
    }
}

fn select(harness: &mut App, items: &[EntityId]) {
    harness.state_mut().view.selection = items.iter().map(|&e| ItemRef::Entity(e)).collect();
    harness.run_steps(2);
}

#[test]
fn entities_a_link_and_an_event_made_in_the_window_are_graded_noted_undone_and_redone() {
    let (_dir, mut harness) = harness_with(&[]);

    // From the Edit menu: a person with a grading and a first value.
    menu(&mut harness, "Edit", "New entity…");
    assert!(harness.state().editor.entity.is_some());
    fill(&mut harness, "Label", "Ada Brook");
    fill(&mut harness, "Grading", "B2");
    fill(&mut harness, "Source document", "surveillance log 14/03");
    harness.run_steps(2);
    harness.get_by_label("Create").click();
    settle(&mut harness);
    let ada = entity_named(&harness, "Ada Brook").expect("the entity was created");
    let snap = snapshot(&harness);
    let e = snap.entity(ada).unwrap();
    assert_eq!(e.grading.as_ref().unwrap().to_string(), "B2");
    assert_eq!(
        e.provenance.source_file.as_deref(),
        Some("surveillance log 14/03")
    );
    assert!(
        e.provenance
            .record
            .as_deref()
            .unwrap()
            .starts_with("analyst entry by Test Analyst"),
        "{:?}",
        e.provenance
    );
    assert!(harness.state().graph.chart.is_on_chart(ada));
    assert!(harness.state().editor.entity.is_none(), "the form closed");

    // A double click on the chart's background: a phone, where it was clicked.
    // Far from the person: one entity fitted to the view is drawn large, and so is the area
    // that picks it.
    let at = harness.state().graph.last_camera.unwrap().rect.left_top() + egui::vec2(40.0, 40.0);
    // Half a second after the last click, so that the two clicks are not taken as the end
    // of a triple click.
    harness.run_steps(15);
    click_at(&mut harness, at, PointerButton::Primary, Modifiers::NONE);
    click_at(&mut harness, at, PointerButton::Primary, Modifiers::NONE);
    harness.run_steps(4);
    let form = harness
        .state_mut()
        .editor
        .entity
        .as_mut()
        .expect("a double click on the background opens the new-entity form");
    let world = form.at.expect("the form knows where the click was");
    form.entity_type = "Phone".into();
    harness.run_steps(1);
    fill(&mut harness, "Label", "+447700900001");
    harness.run_steps(2);
    harness.get_by_label("Create").click();
    settle(&mut harness);
    let phone = entity_named(&harness, "+447700900001").expect("the phone was created");
    // Kept where it was put, as a position set by hand (layouts of the rest leave it there).
    let moved = harness.state().graph.chart.state.moved.get(&phone).copied();
    assert_eq!(
        moved,
        Some(world),
        "the phone sits where the background was double-clicked"
    );

    // Alt-drag from the person to the phone draws a link.
    let from = harness.state().graph.screen_pos(ada).unwrap();
    let to = harness.state().graph.screen_pos(phone).unwrap();
    harness.event(egui::Event::ModifiersChanged(Modifiers::ALT));
    harness.event(egui::Event::PointerMoved(from));
    harness.step();
    harness.event(egui::Event::PointerButton {
        pos: from,
        button: PointerButton::Primary,
        pressed: true,
        modifiers: Modifiers::ALT,
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
        modifiers: Modifiers::ALT,
    });
    harness.event(egui::Event::ModifiersChanged(Modifiers::NONE));
    harness.run_steps(4);
    let link_form = harness
        .state()
        .editor
        .link
        .clone()
        .expect("alt-drag from one entity to another opens the new-link form");
    assert_eq!((link_form.from, link_form.to), (ada, phone));
    harness.state_mut().editor.link.as_mut().unwrap().link_type = "uses".into();
    harness
        .get_by_label("Directed (from the first to the second)")
        .click();
    harness.get_by_label("tentative").click();
    fill(&mut harness, "From date", "2024-01");
    harness.run_steps(2);
    harness.get_by_label("Create link").click();
    settle(&mut harness);
    let snap = snapshot(&harness);
    let link = snap.links.first().expect("the link was created");
    assert_eq!(link.link_type, "uses");
    assert!(link.directed);
    assert_eq!(link.strength.as_str(), "tentative");
    assert!(
        link.attributes
            .iter()
            .any(|a| a.property == "startDate" && a.value == "2024-01")
    );

    // An event among the two, from the context menu.
    select(&mut harness, &[ada, phone]);
    let pos = harness.state().graph.screen_pos(ada).unwrap();
    click_at(&mut harness, pos, PointerButton::Secondary, Modifiers::NONE);
    harness.run_steps(2);
    harness
        .get_by_label("New event among the selected…")
        .click();
    harness.run_steps(4);
    harness
        .state_mut()
        .editor
        .event
        .as_mut()
        .unwrap()
        .event_type = "Meeting".into();
    fill(&mut harness, "Time", "2024-03-01 10:00");
    harness.run_steps(2);
    // The time as it will be read (the zone defaults to UTC).
    assert!(
        harness
            .query_by_label("starts 2024-03-01 10:00 UTC")
            .is_some()
    );
    harness.get_by_label("Create event").click();
    settle(&mut harness);
    let snap = snapshot(&harness);
    let event = snap.events.first().expect("the event was created");
    assert_eq!(event.event_type, "Meeting");
    assert_eq!(event.participants.len(), 2);

    // In the inspector: grade, restrict and note the person, each with the reason.
    select(&mut harness, &[ada]);
    fill(&mut harness, "Reason", "confirmed by a second source");
    fill(&mut harness, "Grade", "A1");
    harness.run_steps(2);
    press(&mut harness, "Set grading");
    settle(&mut harness);
    assert_eq!(
        snapshot(&harness)
            .entity(ada)
            .unwrap()
            .grading
            .as_ref()
            .unwrap()
            .to_string(),
        "A1"
    );
    press(&mut harness, "Mark restricted");
    settle(&mut harness);
    assert!(snapshot(&harness).entity(ada).unwrap().restricted);
    fill(&mut harness, "New note", "Seen with the courier");
    fill(&mut harness, "Note source", "report 7");
    harness.run_steps(2);
    press(&mut harness, "Add note");
    settle(&mut harness);
    let notes = snapshot(&harness).entity(ada).unwrap().notes.clone();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].source_ref.as_deref(), Some("report 7"));
    assert!(harness.query_by_label("Seen with the courier").is_some());
    // The note is found by the search.
    harness.state_mut().view.filters.search = "courier".into();
    let snap = snapshot(&harness);
    let found: Vec<&str> = snap
        .entities
        .iter()
        .filter(|e| harness.state().view.filters.entity_passes(None, e))
        .map(|e| e.label.as_str())
        .collect();
    assert_eq!(found, ["Ada Brook"]);
    harness.state_mut().view.filters.search.clear();

    let log = audit_actions(&harness);
    for expected in [
        "create entity",
        "create link",
        "create event",
        "set grading",
        "set restricted",
        "add note",
    ] {
        assert!(
            log.iter().any(|a| a == expected),
            "{expected} not in {log:?}"
        );
    }

    // Undo the note and the restriction; redo the restriction.
    harness.key_press_modifiers(Modifiers::COMMAND, egui::Key::Z);
    settle(&mut harness);
    harness.key_press_modifiers(Modifiers::COMMAND, egui::Key::Z);
    settle(&mut harness);
    let e = snapshot(&harness).entity(ada).unwrap().clone();
    assert!(e.notes.is_empty() && !e.restricted, "{e:?}");
    harness.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, egui::Key::Z);
    settle(&mut harness);
    assert!(snapshot(&harness).entity(ada).unwrap().restricted);
    let log = audit_actions(&harness);
    assert!(
        log.iter().filter(|a| a.starts_with("undo")).count() >= 2,
        "{log:?}"
    );
    assert!(log.iter().any(|a| a.starts_with("redo")), "{log:?}");
}

#[test]
fn a_merge_is_split_back_from_the_inspector() {
    let (_dir, mut harness) = harness_with(&[("Person", "J. Smith"), ("Person", "John Smith")]);
    let keep = entity_named(&harness, "J. Smith").unwrap();
    let other = entity_named(&harness, "John Smith").unwrap();
    let before = snapshot(&harness).entity(other).unwrap().clone();
    harness.state_mut().apply_store_command(Command::Merge {
        keep,
        absorb: vec![other],
        method: "manual".into(),
        reason: "same man".into(),
    });
    settle(&mut harness);
    assert!(entity_named(&harness, "John Smith").is_none());
    select(&mut harness, &[keep]);
    fill(&mut harness, "Reason", "two brothers");
    harness.run_steps(2);
    let split = format!("Split out John Smith ({other})");
    press(&mut harness, &split);
    settle(&mut harness);
    let back = snapshot(&harness).entity(other).unwrap().clone();
    assert_eq!(back.label, before.label);
    assert_eq!(back.provenance, before.provenance);
    assert_eq!(back.attributes, before.attributes);
    assert!(audit_actions(&harness).iter().any(|a| a == "split entity"));
}

#[test]
fn a_custom_type_and_scheme_are_made_in_the_window_and_used_by_a_new_entity() {
    let (_dir, mut harness) = harness_with(&[("Person", "Ada Brook")]);
    menu(&mut harness, "Edit", "Entity types…");
    fill(&mut harness, "Key", "Vessel");
    harness.run_steps(2);
    {
        let form = harness.state_mut().editor.types.as_mut().unwrap();
        form.icon = "vehicle".into();
        form.properties[0].0 = "imo".into();
        form.properties[0].1 = copkit::model::PropertyKind::Identifier;
    }
    harness.run_steps(2);
    harness.get_by_label("Add type").click();
    settle(&mut harness);
    let snap = snapshot(&harness);
    let vessel = snap
        .schema
        .entity_type("Vessel")
        .expect("the type was added");
    assert_eq!(vessel.icon, "vehicle");
    assert!(!vessel.builtin);

    menu(&mut harness, "Edit", "Grading schemes…");
    {
        let form = harness.state_mut().editor.schemes.as_mut().unwrap();
        form.key = "harbour".into();
        form.name = "Harbour 2x2".into();
        form.source_levels = "S1 known\nS2 new".into();
        form.information_levels = "I1 seen\nI2 heard".into();
        form.handling_codes = "OPEN share\nLOCK keep".into();
        form.no_dissemination = "LOCK".into();
    }
    harness.run_steps(2);
    harness.get_by_label("Add scheme").click();
    settle(&mut harness);
    assert!(snapshot(&harness).scheme("harbour").is_some());
    let log = audit_actions(&harness);
    assert!(log.iter().any(|a| a == "add entity type"), "{log:?}");
    assert!(log.iter().any(|a| a == "add grading scheme"), "{log:?}");

    // A vessel made by hand uses the new type.
    menu(&mut harness, "Edit", "New entity…");
    harness
        .state_mut()
        .editor
        .entity
        .as_mut()
        .unwrap()
        .entity_type = "Vessel".into();
    fill(&mut harness, "Label", "Sea Wren");
    harness.run_steps(2);
    harness.get_by_label("Create").click();
    settle(&mut harness);
    let wren = entity_named(&harness, "Sea Wren").unwrap();
    assert_eq!(
        snapshot(&harness).entity(wren).unwrap().entity_type,
        "Vessel"
    );
}

#[test]
fn a_chart_snapshot_is_saved_and_restored() {
    let (_dir, mut harness) = harness_with(&[
        ("Person", "Ada Brook"),
        ("Person", "Ben Carr"),
        ("Phone", "+447700900001"),
    ]);
    let ben = entity_named(&harness, "Ben Carr").unwrap();
    menu(&mut harness, "View", "Chart snapshots…");
    fill(&mut harness, "Name", "three on the chart");
    harness.run_steps(2);
    harness.get_by_label("Save the chart").click();
    settle(&mut harness);
    let snap = snapshot(&harness);
    assert_eq!(snap.chart_snapshots.len(), 1);
    let saved_positions = harness.state().graph.placement.positions.clone();

    // Change the chart: hide Ben...
    select(&mut harness, &[ben]);
    let ops = {
        let state = harness.state_mut();
        let snap = Arc::clone(&state.open.as_ref().unwrap().snapshot);
        let view = state.view.clone();
        state
            .graph
            .apply_op(copkit::ui::graph::GraphOp::Hide, &snap, &view)
    };
    assert!(!ops.is_empty());
    harness.run_steps(2);
    assert!(harness.state().graph.chart.state.hidden.contains(&ben));
    // ... the colours changed...
    harness.state_mut().graph.style.colour_by = copkit::ui::graph::style::ColourBy::Grade;
    // ... and every entity moved (as a drag or a layout would).
    for p in &mut harness.state_mut().graph.placement.positions {
        p[0] += 120.0;
    }

    harness.get_by_label("Restore three on the chart").click();
    settle(&mut harness);
    assert!(
        harness.state().graph.chart.state.hidden.is_empty(),
        "the snapshot had nothing hidden"
    );
    assert_eq!(
        harness.state().graph.placement.positions,
        saved_positions,
        "every entity is back where the snapshot kept it"
    );
    assert_eq!(
        harness.state().graph.style.colour_by,
        copkit::ui::graph::style::ColourBy::Type,
        "and drawn as it was"
    );
    assert!(
        audit_actions(&harness)
            .iter()
            .any(|a| a == "save chart snapshot")
    );
    // Restoring is a chart undo step.
    harness.key_press_modifiers(Modifiers::COMMAND, egui::Key::Z);
    settle(&mut harness);
    assert!(harness.state().graph.chart.state.hidden.contains(&ben));
}

#[test]
fn the_telco_file_is_mapped_in_the_wizard_and_its_spec_reused_by_the_cli() {
    let (dir, mut harness) = harness_with(&[]);
    let file = dir.path().join("telco.csv");
    std::fs::write(
        &file,
        "A-Number,B-Number,Date/Time,Duration\n\
         +447700900001,+447700900002,01/03/2024 10:00,65\n\
         +447700900002,+447700900003,01/03/2024 11:30,12\n",
    )
    .unwrap();
    harness.state_mut().import = Some(copkit::ui::import::ImportWizard::new(Some(&file)));
    settle(&mut harness);
    {
        let wizard = harness.state().import.as_ref().unwrap();
        assert!(
            matches!(wizard.spec, copkit::ui::import::SpecChoice::Mapped(_)),
            "no template reads the file as it is, so the mapper opens"
        );
        let mapper = wizard.mapper.as_ref().unwrap();
        assert_eq!(mapper.template, "cdr");
        assert!(mapper.missing().is_empty(), "{:?}", mapper.chosen);
    }
    // "auto" cannot read 01/03/2024: the import cannot start until the format is given.
    assert!(harness.query_by_label_contains("is read as").is_none());
    let why = harness
        .state()
        .import
        .as_ref()
        .unwrap()
        .not_ready()
        .unwrap();
    assert!(why.contains("times cannot be read"), "{why}");
    fill(&mut harness, "Date format", "%d/%m/%Y %H:%M");
    harness.run_steps(3);
    settle(&mut harness);
    assert!(
        harness
            .query_by_label_contains("01/03/2024 10:00 is read as 2024-03-01 10:00 UTC")
            .is_some()
    );
    // Choosing no column for a required role disables the start.
    {
        let wizard = harness.state_mut().import.as_mut().unwrap();
        wizard.mapper.as_mut().unwrap().chosen.remove("callee");
    }
    harness.run_steps(2);
    assert!(
        harness
            .state()
            .import
            .as_ref()
            .unwrap()
            .not_ready()
            .unwrap()
            .contains("B-number")
    );
    {
        let wizard = harness.state_mut().import.as_mut().unwrap();
        wizard
            .mapper
            .as_mut()
            .unwrap()
            .chosen
            .insert("callee".into(), "B-Number".into());
    }
    harness.run_steps(2);
    settle(&mut harness);
    assert_eq!(harness.state().import.as_ref().unwrap().not_ready(), None);

    // Save the spec.
    let spec = dir.path().join("telco.spec.toml");
    harness.state_mut().import.as_mut().unwrap().save_path = spec.display().to_string();
    harness.run_steps(1);
    harness.get_by_label("Save spec").click();
    harness.run_steps(2);
    assert!(spec.is_file(), "the spec was saved");

    harness.get_by_label("Start import").click();
    settle(&mut harness);
    let snap = snapshot(&harness);
    assert_eq!(snap.events.len(), 2, "two calls imported");
    assert_eq!(snap.entities.len(), 3);

    // The saved spec works from the command line on the same kind of file.
    let other = dir.path().join("cli.copkit");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_copkit"))
        .args([
            "new",
            other.to_str().unwrap(),
            "--title",
            "cli",
            "--purpose",
            "OP-1",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_copkit"))
        .args([
            "import",
            file.to_str().unwrap(),
            "--into",
            other.to_str().unwrap(),
            "--spec",
            spec.to_str().unwrap(),
            "--purpose",
            "OP-1",
        ])
        .env("COPKIT_ANALYST", "CLI Tester")
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{said}");
    assert!(said.contains("2 accepted"), "{said}");
}
