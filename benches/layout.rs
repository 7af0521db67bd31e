//! Criterion benchmark of the layouts on Barabási–Albert graphs (m = 3, seed 42): one
//! Barnes–Hut force-layout iteration at 10k and 100k nodes, and the layered and grouped layouts
//! at 10k. Uses the networkx edge lists when benches/ba_graph.py has written them
//! (target/ba-10k.txt, target/ba-100k.txt), otherwise the crate's own seeded generator.
//!
//!     cargo bench --no-default-features --bench layout

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]

use copkit::layout::{
    ForceLayout, LayoutGraph, barabasi_albert, grouped, hierarchical, read_edge_list,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

fn graph(n: usize, file: &str) -> LayoutGraph {
    match std::fs::read_to_string(file) {
        Ok(text) => read_edge_list(&text).expect("a valid edge list"),
        Err(_) => barabasi_albert(n, 3, 42),
    }
}

fn force_layout(c: &mut Criterion) {
    let mut group = c.benchmark_group("force_step");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(1));
    for (n, file) in [
        (10_000, "target/ba-10k.txt"),
        (100_000, "target/ba-100k.txt"),
    ] {
        let g = graph(n, file);
        let mut layout = ForceLayout::new(&g, None);
        group.bench_function(format!("ba_{}k", n / 1000), |b| {
            b.iter(|| black_box(layout.step(&g)))
        });
    }
    group.finish();
}

fn static_layouts(c: &mut Criterion) {
    let g = graph(10_000, "target/ba-10k.txt");
    // Edges point from the older node to the newer: a DAG, like an ownership tree.
    let directed = vec![true; g.edges.len()];
    let groups: Vec<u32> = (0..g.node_count as u32).map(|i| i % 50).collect();
    let mut group = c.benchmark_group("static_layout");
    group.sample_size(10);
    group.bench_function("hierarchical_ba_10k", |b| {
        b.iter(|| black_box(hierarchical(&g, &directed)))
    });
    group.bench_function("grouped_ba_10k", |b| {
        b.iter(|| black_box(grouped(&g, &groups)))
    });
    group.finish();
}

criterion_group!(benches, force_layout, static_layouts);
criterion_main!(benches);
