//! `copkit bench-ui`: builds and tessellates frames of the graph view headless (no window, no
//! GPU), on a synthetic chart of N entities and M links spread as a laid-out chart would be,
//! zoomed out (everything on screen) and zoomed in (a few hundred entities on screen). The
//! frame time is what the UI thread spends per frame on the chart: egui's frame with the
//! view (culling, level of detail, meshes, labels) plus tessellation into triangles. The GPU
//! upload and drawing are not included.

use super::{GraphState, show};
use crate::model::{
    Entity, EntityId, Event, EventId, EventTime, Link, LinkId, LinkStrength, Participant,
    ParticipantRole, Provenance,
};
use crate::store::{CaseSnapshot, SnapshotHeader};
use crate::ui::ViewState;
use rand::{RngExt, SeedableRng};
use std::time::Instant;

/// A synthetic case: entities of a few types, links between nearby entities mostly (so the
/// picture looks like a laid-out chart) and some long ones, and `events` calls between the
/// ends of random links, spread over a year.
pub fn synthetic_case(nodes: usize, links: usize, events: usize, seed: u64) -> CaseSnapshot {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    const TYPES: [&str; 5] = ["Person", "Phone", "BankAccount", "Vehicle", "Address"];
    let entities: Vec<Entity> = (0..nodes)
        .map(|i| Entity {
            id: EntityId(i as i64 + 1),
            entity_type: TYPES[i % TYPES.len()].into(),
            label: format!("entity {i}"),
            source_id: None,
            category: None,
            restricted: false,
            provenance: Provenance::default(),
            grading: None,
            attributes: Vec::new(),
            review_date: None,
            notes: Vec::new(),
        })
        .collect();
    let strengths = [
        LinkStrength::Confirmed,
        LinkStrength::Tentative,
        LinkStrength::Unconfirmed,
    ];
    let links: Vec<Link> = (0..links)
        .map(|k| {
            let a = rng.random_range(0..nodes.max(1));
            // Mostly near in id order, which the positions below keep near in space.
            let b = if rng.random_bool(0.9) {
                (a + rng.random_range(1..50)) % nodes.max(1)
            } else {
                rng.random_range(0..nodes.max(1))
            };
            Link {
                id: LinkId(k as i64 + 1),
                link_type: "associate".into(),
                source: EntityId(a as i64 + 1),
                target: EntityId(b as i64 + 1),
                directed: k % 3 == 0,
                strength: strengths[k % 3],
                weight: None,
                label: None,
                source_id: None,
                restricted: false,
                provenance: Provenance::default(),
                grading: None,
                attributes: Vec::new(),
                review_date: None,
                notes: Vec::new(),
            }
        })
        .collect();
    const YEAR_MS: i64 = 365 * 24 * 3600 * 1000;
    let events: Vec<Event> = if links.is_empty() {
        Vec::new()
    } else {
        (0..events)
            .map(|k| {
                let l = &links[rng.random_range(0..links.len())];
                Event {
                    id: EventId(k as i64 + 1),
                    event_type: "Call".into(),
                    time: EventTime {
                        start_ms: 1_700_000_000_000 + rng.random_range(0..YEAR_MS),
                        end_ms: None,
                        original_text: None,
                        original_zone: None,
                    },
                    participants: vec![
                        Participant {
                            role: ParticipantRole::From,
                            entity: l.source,
                        },
                        Participant {
                            role: ParticipantRole::To,
                            entity: l.target,
                        },
                    ],
                    source_id: None,
                    restricted: false,
                    provenance: Provenance::default(),
                    grading: None,
                    attributes: Vec::new(),
                    review_date: None,
                    notes: Vec::new(),
                }
            })
            .collect()
    };
    CaseSnapshot::assemble(
        SnapshotHeader {
            case_id: "bench".into(),
            title: "bench-ui".into(),
            generation: 1,
            schema: Default::default(),
            grading_schemes: crate::model::GradingScheme::builtin(),
            default_scheme: "admiralty".into(),
        },
        entities,
        links,
        events,
    )
}

/// Positions on a spiral so that entities near in id order are near in space, at the spacing
/// a force layout leaves (about 30 world units between neighbours).
pub fn spiral_positions(nodes: usize) -> Vec<[f32; 2]> {
    (0..nodes)
        .map(|i| {
            let r = 30.0 * (i as f32).sqrt();
            let a = (i as f32) * 2.399_963;
            [r * a.cos(), r * a.sin()]
        })
        .collect()
}

/// Frame times of one scenario.
#[derive(Debug, Clone)]
pub struct FrameTimes {
    pub scenario: String,
    pub median_ms: f64,
    pub p95_ms: f64,
    pub frames: usize,
    pub nodes_drawn: usize,
    pub links_drawn: usize,
    pub triangles: usize,
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let k = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[k]
}

/// A graph view that puts the whole case on the chart however large it is, as the frame
/// and rebuild scenarios measure (a real case of this size would open on an empty chart).
pub fn whole_chart() -> GraphState {
    GraphState {
        start_empty_above: usize::MAX,
        ..GraphState::default()
    }
}

/// The graph view alone in a headless egui context on a 1600×1000 window, with the chart
/// laid out and the camera placed: what `bench-ui` and the criterion bench time.
#[derive(Debug)]
pub struct FrameDriver {
    case: CaseSnapshot,
    view: ViewState,
    ctx: egui::Context,
    pub state: GraphState,
}

const WINDOW: egui::Vec2 = egui::vec2(1600.0, 1000.0);

impl FrameDriver {
    /// A chart of `nodes` entities and `links` links, zoomed out (everything on screen) or
    /// zoomed in (about 1,000 entities on screen). Runs the set-up frames: the first reads
    /// the case, then the positions are set, and the second builds the display model (done
    /// once per change of the case, chart, style or filters, not per frame) and fits the
    /// chart to the window; zoomed in, a third frame after zooming in.
    pub fn new(nodes: usize, links: usize, zoom_in: bool) -> FrameDriver {
        let mut driver = FrameDriver {
            case: synthetic_case(nodes, links, 0, 7),
            view: ViewState::default(),
            ctx: egui::Context::default(),
            state: whole_chart(),
        };
        driver.frame();
        let state = &mut driver.state;
        state.placement.positions = spiral_positions(nodes);
        state.display.positions_moved();
        state.camera.needs_fit = true;
        driver.frame();
        if zoom_in {
            // About 1,000 entities on screen.
            driver.state.camera.zoom *= (nodes as f32 / 400.0).sqrt().max(1.0);
            driver.frame();
        }
        driver
    }

    /// One frame: egui's frame with the view plus tessellation into triangles. Returns the
    /// number of triangles.
    pub fn frame(&mut self) -> usize {
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, WINDOW)),
            ..Default::default()
        };
        let (case, view, state) = (&self.case, &self.view, &mut self.state);
        let mut output = self.ctx.run_ui(input, |ui| {
            egui::CentralPanel::default().show(ui, |ui| {
                let _ = show(ui, case, view, state);
            });
        });
        let primitives = self.ctx.tessellate(output.shapes, output.pixels_per_point);
        // No renderer takes the icon textures here.
        output.textures_delta.clear();
        primitives
            .iter()
            .map(|p| match &p.primitive {
                egui::epaint::Primitive::Mesh(m) => m.indices.len() / 3,
                egui::epaint::Primitive::Callback(_) => 0,
            })
            .sum()
    }
}

/// Runs `frames` frames zoomed out and zoomed in on a 1600×1000 window.
pub fn run(nodes: usize, links: usize, frames: usize) -> Vec<FrameTimes> {
    let mut out = Vec::new();
    for (scenario, zoom_in) in [("zoomed out", false), ("zoomed in", true)] {
        let mut driver = FrameDriver::new(nodes, links, zoom_in);
        let mut times = Vec::with_capacity(frames);
        let mut triangles = 0;
        for _ in 0..frames {
            let start = Instant::now();
            triangles = driver.frame();
            times.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        out.push(FrameTimes {
            scenario: scenario.into(),
            median_ms: percentile(&times, 0.5),
            p95_ms: percentile(&times, 0.95),
            frames,
            nodes_drawn: driver.state.last_stats.nodes_drawn,
            links_drawn: driver.state.last_stats.links_drawn,
            triangles,
        });
    }
    out
}

/// Median time of rebuilding the display model (the view's per-node and per-line arrays)
/// when something it depends on changes, per kind of change. This runs when the user edits
/// a filter, moves or plays the time filter, or changes the style; not every frame.
pub fn model_rebuilds(
    nodes: usize,
    links: usize,
    events: usize,
    reps: usize,
) -> Vec<(String, f64)> {
    let case = synthetic_case(nodes, links, events, 7);
    let mut state = whole_chart();
    state.sync(&case);
    let start_ms = case
        .events
        .iter()
        .map(|e| e.time.start_ms)
        .min()
        .unwrap_or(0);
    let month = 30 * 24 * 3600 * 1000;
    let mut filtered = ViewState::default();
    filtered.filters.search = "entity 1".into();
    let timed = ViewState {
        time_filter: Some((start_ms + 3 * month, start_ms + 4 * month)),
        ..ViewState::default()
    };
    let scenarios: [(&str, &ViewState, bool); 5] = [
        ("case or chart changed", &ViewState::default(), false),
        ("no filter", &ViewState::default(), false),
        ("search filter", &filtered, false),
        ("time filter", &timed, false),
        ("time filter, events as lines", &timed, true),
    ];
    let mut out = Vec::new();
    for (name, view, show_events) in scenarios {
        state.style.show_events = show_events;
        let mut times: Vec<f64> = (0..reps.max(1))
            .map(|_| {
                if name == "case or chart changed" {
                    state.display.forget_structure();
                }
                let start = Instant::now();
                state.build_model(&case, view);
                start.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        out.push((name.to_string(), percentile(&times, 0.5)));
    }
    out
}

/// What saving the chart with the case costs on the UI thread (the workbench does it on close,
/// on exit and at most every 30 s): building its JSON and writing it into a new scratch case.
/// Returns (JSON bytes, median build ms, median write ms, median ms to read it back: the
/// case's entry and its parse, as opening the case does) over `reps` runs.
pub fn chart_save(
    nodes: usize,
    reps: usize,
) -> Result<(usize, f64, f64, f64), crate::store::StoreError> {
    let case = synthetic_case(nodes, 0, 0, 7);
    let mut state = whole_chart();
    state.sync(&case);
    state.placement.positions = spiral_positions(nodes);
    let dir = std::env::temp_dir().join(format!("copkit-bench-chart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| crate::store::StoreError::Invalid(e.to_string()))?;
    let path = dir.join("chart.copkit");
    let actor = crate::store::Actor {
        os_user: "bench".into(),
        analyst: "bench".into(),
    };
    let result = (|| {
        let mut scratch = crate::store::Case::create(&path, "chart bench", actor, "bench")?;
        let (mut build, mut write, mut read, mut bytes) = (Vec::new(), Vec::new(), Vec::new(), 0);
        for _ in 0..reps.max(1) {
            let start = Instant::now();
            let json = state.saved_chart().unwrap_or_default();
            build.push(start.elapsed().as_secs_f64() * 1000.0);
            bytes = json.len();
            let start = Instant::now();
            scratch.save_chart(&json)?;
            write.push(start.elapsed().as_secs_f64() * 1000.0);
            let start = Instant::now();
            let mut reopened = whole_chart();
            let stored = scratch.chart()?.unwrap_or_default();
            reopened
                .restore_saved(&stored)
                .map_err(crate::store::StoreError::Invalid)?;
            read.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        for times in [&mut build, &mut write, &mut read] {
            times.sort_by(f64::total_cmp);
        }
        Ok((
            bytes,
            percentile(&build, 0.5),
            percentile(&write, 0.5),
            percentile(&read, 0.5),
        ))
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// A closure that rebuilds the display model for a search filter on a synthetic chart, for
/// the criterion bench.
pub fn model_rebuild_driver(nodes: usize, links: usize, events: usize) -> impl FnMut() -> usize {
    let case = synthetic_case(nodes, links, events, 7);
    let mut state = whole_chart();
    state.sync(&case);
    let mut view = ViewState::default();
    view.filters.search = "entity 1".into();
    move || {
        state.build_model(&case, &view);
        state.display.model.edges.len()
    }
}

/// The working-chart scenario: a chart of `placed` entities laid out, `added` more added to it
/// (placed beside their neighbours), then the force layout that moves only the added ones,
/// running in a job while frames are drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkingSetTimes {
    pub placed: usize,
    pub added: usize,
    /// Adding them: the chart change and their placement, ms.
    pub add_ms: f64,
    /// The layout of the added ones to its end, ms.
    pub layout_ms: f64,
    /// Frames drawn while that layout ran: median and 95th percentile, ms.
    pub frames: usize,
    pub frame_median_ms: f64,
    pub frame_p95_ms: f64,
    /// How many of the placed entities moved (none should).
    pub placed_moved: usize,
}

/// Runs the working-chart scenario (see [`WorkingSetTimes`]).
pub fn working_set(placed: usize, added: usize) -> WorkingSetTimes {
    let case = synthetic_case(placed + added, 3 * (placed + added), 0, 9);
    let mut driver = FrameDriver {
        case,
        view: ViewState::default(),
        ctx: egui::Context::default(),
        state: GraphState {
            start_empty_above: 0,
            ..whole_chart()
        },
    };
    driver.frame();
    let ids: Vec<crate::model::EntityId> = driver.case.entities.iter().map(|e| e.id).collect();
    // The placed part: on the chart, spread as a layout leaves it.
    driver.state.chart.add(&ids[..placed], "bench");
    driver.state.placement.positions = spiral_positions(placed + added);
    driver.state.display.positions_moved();
    driver.state.camera.needs_fit = true;
    driver.frame();
    let before = driver.state.placement.positions.clone();
    let start = Instant::now();
    let case = driver.case.clone();
    let actions = driver
        .state
        .add_to_chart(&case, &ids[placed..], "bench: add");
    let add_ms = start.elapsed().as_secs_f64() * 1000.0;
    let request = actions
        .into_iter()
        .find_map(|a| match a {
            crate::ui::Action::RunLayout(r) => Some(r),
            _ => None,
        })
        .unwrap_or(super::LayoutRequest {
            kind: super::LayoutKind::Force,
            scope: super::LayoutScope::Added(ids[placed..].to_vec()),
            settings: driver.state.force,
            undo_step: false,
        });
    let job = driver.state.layout_job(&request, &case, &driver.view);
    driver.state.layout_started();
    let start = Instant::now();
    let worker = std::thread::spawn(move || {
        job.run(&crate::jobs::CancelToken::new(), &crate::jobs::NoProgress)
    });
    let mut times = Vec::new();
    while !worker.is_finished() {
        let t = Instant::now();
        driver.frame();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let layout_ms = start.elapsed().as_secs_f64() * 1000.0;
    let positions = worker.join().ok().and_then(Result::ok);
    driver.state.layout_finished(positions);
    let after = &driver.state.placement.positions;
    let placed_moved = (0..placed).filter(|&i| after[i] != before[i]).count();
    times.sort_by(f64::total_cmp);
    WorkingSetTimes {
        placed,
        added,
        add_ms,
        layout_ms,
        frames: times.len(),
        frame_median_ms: percentile(&times, 0.5),
        frame_p95_ms: percentile(&times, 0.95),
        placed_moved,
    }
}

/// What `copkit bench-ui` prints: frame times zoomed out and in, display-model rebuilds and
/// the chart's save, on a synthetic chart of `nodes` entities, `links` links and `events`
/// calls.
pub fn report(
    nodes: usize,
    links: usize,
    frames: usize,
    events: usize,
) -> Result<String, crate::store::StoreError> {
    let mut out = format!(
        "graph view, {nodes} entities, {links} links, {frames} frames per scenario, 1600x1000 logical px, {} threads\n\
         scenario      median ms   p95 ms   nodes drawn   lines drawn   triangles\n",
        rayon::current_num_threads()
    );
    for r in run(nodes, links, frames) {
        out.push_str(&format!(
            "{:<12} {:>9.2} {:>8.2} {:>13} {:>13} {:>11}\n",
            r.scenario, r.median_ms, r.p95_ms, r.nodes_drawn, r.links_drawn, r.triangles
        ));
    }
    out.push_str(&format!(
        "display model rebuild ({events} calls), median of 5:\n"
    ));
    for (scenario, ms) in model_rebuilds(nodes, links, events, 5) {
        out.push_str(&format!("  {scenario:<30} {ms:>9.1} ms\n"));
    }
    let w = working_set(10_000, 1_000);
    out.push_str(&format!(
        "working chart: {} entities added to a placed chart of {}: {:.1} ms to add and place; their layout (the rest pinned) {:.0} ms, {} frames meanwhile, median {:.2} ms, p95 {:.2} ms; {} placed entities moved\n",
        w.added, w.placed, w.add_ms, w.layout_ms, w.frames, w.frame_median_ms, w.frame_p95_ms, w.placed_moved
    ));
    let (bytes, build, write, read) = chart_save(nodes, 5)?;
    out.push_str(&format!(
        "chart saved with the case ({bytes} bytes), median of 5: {build:.1} ms to build, {write:.1} ms to write, {read:.1} ms to read back\n"
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ItemRef;
    use crate::ui::graph::draw::{ALWAYS_LABELLED, MAX_LABELS};

    #[test]
    fn bench_frames_draw_what_is_on_screen() {
        let results = run(2_000, 6_000, 2);
        let out = &results[0];
        let zoomed = &results[1];
        assert_eq!(
            out.nodes_drawn, 2_000,
            "zoomed out, every entity is on screen"
        );
        assert!(zoomed.nodes_drawn < 2_000 && zoomed.nodes_drawn > 50);
        assert!(out.triangles > 0 && out.links_drawn > 0);
    }

    #[test]
    fn zoomed_out_on_many_nodes_the_most_important_and_the_selected_are_labelled() {
        let mut driver = FrameDriver::new(3_000, 9_000, false);
        driver.frame();
        let m = &driver.state.display.model;
        let mut order: Vec<usize> = (0..m.len()).filter(|&i| m.shown[i]).collect();
        assert!(order.len() > MAX_LABELS * 4, "the many-nodes path");
        order.sort_by(|&a, &b| m.importance[b].total_cmp(&m.importance[a]).then(a.cmp(&b)));
        let labelled = |driver: &FrameDriver, i: usize| {
            driver.state.last_labels.iter().any(|l| l.node == Some(i))
        };
        // Labels may not fit beside every one of the top 25 (the spiral is dense): most do,
        // and the first always.
        let top = &order[..ALWAYS_LABELLED];
        let with = top.iter().filter(|&&i| labelled(&driver, i)).count();
        assert!(
            labelled(&driver, top[0]) && with >= ALWAYS_LABELLED / 2,
            "{with} of the top"
        );
        assert!(driver.state.last_labels.len() <= MAX_LABELS);
        // The least important node, once selected, is labelled first.
        let last = *order.last().unwrap();
        assert!(!labelled(&driver, last));
        let id = driver.case.entities[last].id;
        driver.view.selection.insert(ItemRef::Entity(id));
        driver.frame();
        assert!(labelled(&driver, last), "the selected node has its label");
    }

    #[test]
    fn the_working_set_bench_moves_only_the_added_entities() {
        let w = working_set(300, 30);
        assert_eq!((w.placed, w.added, w.placed_moved), (300, 30, 0));
        assert!(w.frames > 0);
    }

    #[test]
    fn the_chart_save_bench_writes_every_position() {
        let (bytes, ..) = chart_save(100, 2).unwrap();
        // The same chart as the bench saves: every entity's position.
        let case = synthetic_case(100, 0, 0, 7);
        let mut state = whole_chart();
        state.sync(&case);
        let json = state.saved_chart().unwrap();
        let saved: crate::ui::graph::saved::SavedChart = serde_json::from_str(&json).unwrap();
        assert_eq!(saved.positions.len(), 100);
        assert!(bytes > 100 * 10, "{bytes} bytes");
    }
}
