//! Times the graph algorithms on an edge list (one "u v" line per edge, nodes 0..n), for
//! BENCHMARKS.md. Generate the inputs with benches/ba_graph.py, then:
//!
//!     cargo run --release --no-default-features --example analysis_bench -- \
//!         target/ba-10k.txt target/ba-100k.txt

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]

use copkit::analysis::{SimpleGraph, betweenness, louvain, pagerank, weak_components};
use copkit::jobs::{CancelToken, NoProgress};
use copkit::model::EntityId;
use std::time::Instant;

fn load(path: &str) -> SimpleGraph {
    let text = std::fs::read_to_string(path).expect("read the edge list");
    let mut pairs = Vec::new();
    let mut n = 0;
    for line in text.lines() {
        let mut it = line
            .split_whitespace()
            .map(|x| x.parse::<usize>().expect("a node number"));
        let (Some(u), Some(v)) = (it.next(), it.next()) else {
            continue;
        };
        n = n.max(u + 1).max(v + 1);
        pairs.push((u, v, 1.0));
        pairs.push((v, u, 1.0));
    }
    SimpleGraph::from_pairs((0..n as i64).map(EntityId).collect(), n, pairs)
}

fn timed<T>(label: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let value = f();
    println!("{label}: {:.3} s", start.elapsed().as_secs_f64());
    value
}

/// Starts `run` on another thread, cancels it after `after`, and prints how long it took to
/// stop (the bound: 100 ms).
fn cancel_latency(label: &str, after: std::time::Duration, run: impl FnOnce(&CancelToken) + Send) {
    let cancel = CancelToken::new();
    std::thread::scope(|scope| {
        let token = cancel.clone();
        let worker = scope.spawn(move || {
            run(&token);
            Instant::now()
        });
        std::thread::sleep(after);
        let asked = Instant::now();
        cancel.cancel();
        let stopped = worker.join().expect("the run panicked");
        println!(
            "{label}: stopped {:.1} ms after cancel",
            stopped.saturating_duration_since(asked).as_secs_f64() * 1000.0
        );
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (small, large) = (load(&args[1]), load(&args[2]));
    let cancel = CancelToken::new();
    timed("pagerank 100k", || {
        pagerank(&large, 0.85, false, 1e-10, 1000, &cancel).expect("pagerank")
    });
    timed("components 100k", || {
        weak_components(&large, &cancel).expect("components")
    });
    timed("betweenness exact 10k", || {
        betweenness(&small, 0, 1, true, &cancel, &NoProgress).expect("betweenness")
    });
    timed("louvain 100k", || {
        louvain(&large, false, 1.0, 1, &cancel, &NoProgress).expect("louvain")
    });
    let after = std::time::Duration::from_secs(2);
    cancel_latency("cancel exact betweenness 10k", after, |c| {
        let _ = betweenness(&small, 0, 1, true, c, &NoProgress);
    });
    cancel_latency("cancel louvain 100k", after, |c| {
        let _ = louvain(&large, false, 1.0, 1, c, &NoProgress);
    });
    cancel_latency(
        "cancel pagerank 100k",
        std::time::Duration::from_millis(50),
        |c| {
            let _ = pagerank(&large, 0.85, false, 1e-12, 100_000, c);
        },
    );
}
