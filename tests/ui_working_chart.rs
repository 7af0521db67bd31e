//! The chart as a working set, driven headless with egui_kittest as an i2 analyst works: a
//! case larger than the preference opens on an empty chart; search and add; expand two
//! degrees; lay out what is on the chart (entities off it keep their positions); undo the
//! layout; labels of the most important entities at fit zoom, no two overlapping; a legend
//! sorted numerically.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]
#![cfg(feature = "gui")]

mod common;

use common::actor;
use copkit::app::{Prefs, Tab, WorkbenchApp};
use copkit::model::{EntityId, ItemRef};
use copkit::store::Case;
use egui::{Key, Modifiers, PointerButton};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::time::{Duration, Instant};

/// The generated demo case (649 entities) with the whole-chart preference at 100, so that it
/// opens as a large case does: on an empty chart.
fn large_case() -> (tempfile::TempDir, Harness<'static, WorkbenchApp>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.copkit");
    copkit::generate::demo_case(&path).unwrap();
    let case = Case::open(&path, actor(), "working chart test").unwrap();
    let prefs = Prefs {
        whole_chart_max: 100,
        auto_layout: false,
        ..Prefs::default()
    };
    let app = WorkbenchApp::new(actor(), prefs).with_case(case).unwrap();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), app);
    harness.state_mut().tab = Tab::Graph;
    settle(&mut harness);
    (dir, harness)
}

fn settle(harness: &mut Harness<'static, WorkbenchApp>) {
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

fn on_chart(harness: &Harness<'static, WorkbenchApp>) -> usize {
    let n = harness
        .state()
        .open
        .as_ref()
        .map_or(0, |o| o.snapshot.entities.len());
    harness.state().graph.chart.on_chart_count(n)
}

#[test]
fn a_large_case_is_built_by_search_add_expand_layout_and_undo() {
    let (_dir, mut harness) = large_case();
    assert_eq!(
        on_chart(&harness),
        0,
        "a large case opens on an empty chart"
    );
    harness.get_by_label_contains("Build the chart");
    harness.get_by_label("Best connected");

    // Search and add: the first person of the case, by name.
    let (name, person) = {
        let open = harness.state().open.as_ref().unwrap();
        let e = open
            .snapshot
            .entities
            .iter()
            .find(|e| e.entity_type == "Person")
            .unwrap();
        (e.label.clone(), e.id)
    };
    harness.get_by_label("Add to chart:").click();
    harness.run_steps(1);
    harness.get_by_label("Add to chart:").type_text(&name);
    harness.run_steps(2);
    let add_one = format!("+ {name} (Person)");
    harness.get_by_label(&add_one).click();
    settle(&mut harness);
    assert!(harness.state().graph.chart.is_on_chart(person));
    let after_add = on_chart(&harness);
    assert!(after_add >= 1);

    // Expand two degrees from the person (right-click on it, then the menu).
    harness.state_mut().graph.working.expand.depth = 2;
    let pos = harness.state().graph.screen_pos(person).unwrap();
    harness.event(egui::Event::PointerMoved(pos));
    harness.step();
    for down in [true, false] {
        harness.event(egui::Event::PointerButton {
            pos,
            button: PointerButton::Secondary,
            pressed: down,
            modifiers: Modifiers::default(),
        });
        harness.step();
    }
    harness.run_steps(2);
    let expand = format!("{:?}", harness.state().graph.working.expand_found);
    harness
        .get_by_label_contains("Expand neighbours (adds")
        .click();
    settle(&mut harness);
    let expanded = on_chart(&harness);
    assert!(expanded > after_add, "{expand}: {after_add} -> {expanded}");
    assert!(
        expanded < 649,
        "expanding two degrees does not take the whole case"
    );

    // Lay out what is on the chart; what is off it does not move.
    let before = harness.state().graph.placement.positions.clone();
    let off_chart: Vec<usize> = {
        let graph = &harness.state().graph;
        let open = harness.state().open.as_ref().unwrap();
        open.snapshot
            .entities
            .iter()
            .enumerate()
            .filter(|(_, e)| !graph.chart.is_on_chart(e.id))
            .map(|(i, _)| i)
            .collect()
    };
    assert!(!off_chart.is_empty());
    harness.get_by_label("Run force layout").click();
    harness.run_steps(1);
    settle(&mut harness);
    let laid = harness.state().graph.placement.positions.clone();
    assert_ne!(laid, before, "the layout moved the chart");
    for &i in &off_chart {
        assert_eq!(laid[i], before[i], "entity {i} is off the chart and moved");
    }

    // Ctrl-z undoes the layout (its own undo step), and ctrl-shift-z redoes it.
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    harness.run_steps(3);
    assert_eq!(harness.state().graph.placement.positions, before);
    assert_eq!(
        on_chart(&harness),
        expanded,
        "undo took back the layout only"
    );
    harness.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    harness.run_steps(3);
    assert_eq!(harness.state().graph.placement.positions, laid);

    // At fit zoom the most important entities are labelled, and no two labels overlap.
    harness.get_by_label("Fit").click();
    harness.run_steps(3);
    let labels = harness.state().graph.last_labels.clone();
    assert!(
        labels.iter().filter(|l| l.node.is_some()).count() >= 20.min(expanded),
        "{} labels for {expanded} entities",
        labels.len()
    );
    for (k, a) in labels.iter().enumerate() {
        for b in &labels[k + 1..] {
            assert!(
                !a.rect.intersects(b.rect),
                "'{}' {:?} overlaps '{}' {:?}",
                a.text,
                a.rect,
                b.text,
                b.rect
            );
        }
    }
    // The ten best connected entities on the chart have their labels.
    let top: Vec<usize> = {
        let graph = &harness.state().graph;
        let m = &graph.display.model;
        let mut order: Vec<usize> = (0..m.len()).filter(|&i| m.shown[i]).collect();
        order.sort_by(|&a, &b| m.importance[b].total_cmp(&m.importance[a]).then(a.cmp(&b)));
        order.truncate(10);
        order
    };
    for i in top {
        assert!(
            labels.iter().any(|l| l.node == Some(i)),
            "node {i}, among the ten most important, has no label"
        );
    }

    // Remove the person from the chart, then undo that.
    harness.state_mut().view.selection = [ItemRef::Entity(person)].into();
    let n = on_chart(&harness);
    let actions = {
        let state = harness.state_mut();
        let snapshot = state.open.as_ref().unwrap().snapshot.clone();
        let view = state.view.clone();
        state.graph.apply_op(
            copkit::ui::graph::GraphOp::RemoveFromChart,
            &snapshot,
            &view,
        )
    };
    assert!(!actions.is_empty());
    assert_eq!(on_chart(&harness), n - 1);
    assert!(harness.state_mut().graph.undo().is_some());
    assert_eq!(on_chart(&harness), n);
}

#[test]
fn the_shortest_path_between_two_entities_is_added_from_the_context_menu() {
    let (_dir, mut harness) = large_case();
    // Two people some links apart, found on the case's own graph.
    let (a, b, path) = {
        let open = harness.state().open.as_ref().unwrap();
        let snap = &open.snapshot;
        let people: Vec<EntityId> = snap
            .entities
            .iter()
            .filter(|e| e.entity_type == "Person")
            .map(|e| e.id)
            .collect();
        people
            .iter()
            .flat_map(|&a| people.iter().map(move |&b| (a, b)))
            .find_map(|(a, b)| {
                let p = copkit::ui::graph::working::shortest_path(snap, a, b)?;
                (p.len() >= 4).then_some((a, b, p))
            })
            .unwrap()
    };
    let actions = {
        let state = harness.state_mut();
        let snapshot = state.open.as_ref().unwrap().snapshot.clone();
        state.graph.add_to_chart(&snapshot, &[a, b], "add")
    };
    assert!(!actions.is_empty());
    settle(&mut harness);
    harness.state_mut().view.selection = [ItemRef::Entity(a), ItemRef::Entity(b)].into();
    let pos = harness.state().graph.screen_pos(a).unwrap();
    harness.event(egui::Event::PointerMoved(pos));
    harness.step();
    for down in [true, false] {
        harness.event(egui::Event::PointerButton {
            pos,
            button: PointerButton::Secondary,
            pressed: down,
            modifiers: Modifiers::default(),
        });
        harness.step();
    }
    harness.run_steps(2);
    harness
        .get_by_label("Add the shortest path between these two")
        .click();
    settle(&mut harness);
    let graph = &harness.state().graph;
    for e in &path {
        assert!(graph.chart.is_on_chart(*e), "{e} of the path is missing");
    }
}

#[test]
fn the_legend_lists_communities_in_numeric_order_with_counts() {
    let (_dir, mut harness) = large_case();
    // The whole case on the chart, coloured by Leiden communities.
    let ids: Vec<EntityId> = harness
        .state()
        .open
        .as_ref()
        .unwrap()
        .snapshot
        .entities
        .iter()
        .map(|e| e.id)
        .collect();
    {
        let state = harness.state_mut();
        let snapshot = state.open.as_ref().unwrap().snapshot.clone();
        state.graph.add_to_chart(&snapshot, &ids, "add all");
    }
    harness
        .state_mut()
        .run_analysis("leiden".into(), copkit::analysis::Params::new());
    settle(&mut harness);
    harness.state_mut().graph.style.colour_by = copkit::ui::graph::ColourBy::Community;
    harness.run_steps(3);
    let legend = harness.state().graph.display.legend.clone();
    let numbers: Vec<i64> = legend
        .entries
        .iter()
        .filter_map(|e| e.label.strip_prefix("community ")?.parse().ok())
        .collect();
    assert!(numbers.len() >= 2, "{legend:?}");
    let mut sorted = numbers.clone();
    sorted.sort_unstable();
    assert_eq!(numbers, sorted, "numeric order, not 0, 1, 10, 11, 2");
    let counted: usize = legend.entries.iter().map(|e| e.count).sum();
    assert_eq!(
        counted,
        ids.len(),
        "every entity on the chart is counted once"
    );
    assert!(
        legend.entries.len() <= 22,
        "at most twenty coloured communities plus the grey rest"
    );
}

/// The workbench on a small case (the whole case on the chart), for the window's behaviour.
fn small_case() -> (tempfile::TempDir, Harness<'static, WorkbenchApp>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.copkit");
    copkit::generate::demo_case(&path).unwrap();
    let case = Case::open(&path, actor(), "window test").unwrap();
    let prefs = Prefs {
        auto_layout: false,
        ..Prefs::default()
    };
    let app = WorkbenchApp::new(actor(), prefs).with_case(case).unwrap();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), app);
    harness.state_mut().tab = Tab::Entities;
    settle(&mut harness);
    (dir, harness)
}

#[test]
fn escape_closes_a_menu_and_help_ctrl_g_and_merge_rules_hold() {
    let (_dir, mut harness) = small_case();
    // ctrl-g shows the link chart.
    harness.key_press_modifiers(Modifiers::COMMAND, Key::G);
    harness.run_steps(2);
    assert_eq!(harness.state().tab, Tab::Graph);
    // A text cursor does not blink (a blink repaints the whole window).
    for theme in [egui::Theme::Dark, egui::Theme::Light] {
        assert!(!harness.ctx.style_of(theme).visuals.text_cursor.blink);
    }

    // Escape closes an open menu, and leaves the selection alone while it does.
    let first = harness.state().open.as_ref().unwrap().snapshot.entities[0].id;
    harness.state_mut().view.selection = [ItemRef::Entity(first)].into();
    harness.get_by_label("Layout").click();
    harness.run_steps(2);
    harness.get_by_label("Circular");
    harness.key_press(Key::Escape);
    harness.run_steps(3);
    assert!(
        harness.query_by_label("Circular").is_none(),
        "the menu stayed open"
    );
    assert_eq!(harness.state().view.selected_entities(), vec![first]);
    // With no menu open, Escape clears the selection.
    harness.key_press(Key::Escape);
    harness.run_steps(2);
    assert!(harness.state().view.selection.is_empty());

    // Help: the shortcuts, from the one command list.
    harness.get_by_label("Help").click();
    harness.run_steps(2);
    harness.get_by_label_contains("Keyboard shortcuts").click();
    harness.run_steps(3);
    harness.get_by_label_contains("Link chart");
    harness.get_by_label_contains("Open case…");

    // The window merges only entities of one type.
    let (person, phone) = {
        let snap = &harness.state().open.as_ref().unwrap().snapshot;
        let of = |t: &str| {
            snap.entities
                .iter()
                .find(|e| e.entity_type == t)
                .unwrap()
                .id
        };
        (of("Person"), of("Phone"))
    };
    let generation = harness.state().open.as_ref().unwrap().case.generation();
    harness
        .state_mut()
        .apply_store_command(copkit::store::Command::Merge {
            keep: person,
            absorb: vec![phone],
            method: "manual".into(),
            reason: "test".into(),
        });
    assert_eq!(
        harness.state().open.as_ref().unwrap().case.generation(),
        generation,
        "a person and a phone were merged"
    );
    let last = harness.state().messages.last().unwrap().text.clone();
    assert!(last.contains("only entities of one type"), "{last}");
}
