//! Times the graph algorithms on an edge list (one "u v" line per edge, nodes 0..n), for
//! BENCHMARKS.md. Generate the inputs with benches/ba_graph.py, then:
//!
//!     cargo run --release --no-default-features --example analysis_bench -- \
//!         target/ba-10k.txt target/ba-100k.txt

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
}
