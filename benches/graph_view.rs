//! Criterion benchmark of the graph view: one frame (egui's frame with the view, culling,
//! level of detail, meshes and labels, plus tessellation; no GPU) on synthetic charts of
//! 10k entities / 30k links and 100k / 300k, zoomed out and zoomed in, and the display-model
//! rebuild that follows a change of filter. `copkit bench-ui` prints the same frames as
//! median and 95th percentile for BENCHMARKS.md.
//!
//!     cargo bench --bench graph_view

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]

use copkit::ui::graph::bench::{FrameDriver, model_rebuild_driver};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

/// The workbench binary's allocator (see Cargo.toml), so that frames allocate as in the app.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn frames(c: &mut Criterion) {
    let mut group = c.benchmark_group("graph_frame");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(8));
    for (nodes, links) in [(10_000, 30_000), (100_000, 300_000)] {
        for (name, zoom_in) in [("zoomed_out", false), ("zoomed_in", true)] {
            let mut driver = FrameDriver::new(nodes, links, zoom_in);
            group.bench_function(format!("{}k_{name}", nodes / 1000), |b| {
                b.iter(|| black_box(driver.frame()))
            });
        }
    }
    group.finish();
}

fn model_rebuild(c: &mut Criterion) {
    let mut group = c.benchmark_group("graph_model_rebuild");
    group.sample_size(20);
    for (nodes, links) in [(10_000, 30_000), (100_000, 300_000)] {
        let mut rebuild = model_rebuild_driver(nodes, links, links);
        group.bench_function(format!("{}k_search_filter", nodes / 1000), |b| {
            b.iter(|| black_box(rebuild()))
        });
    }
    group.finish();
}

criterion_group!(benches, frames, model_rebuild);
criterion_main!(benches);
