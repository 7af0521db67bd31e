//! `copkit bench-layout`: times the force layout on a seeded Barabási–Albert graph or an edge
//! list, so BENCHMARKS.md can be reproduced on any machine without the workbench.

use super::UsageError;
use crate::layout::{ForceLayout, LayoutGraph, barabasi_albert, read_edge_list};
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct BenchLayoutArgs {
    /// Nodes of the Barabási–Albert graph to generate (m = 3, seeded); not with --edges-file.
    #[arg(long, value_name = "N", required_unless_present = "edges_file")]
    pub nodes: Option<usize>,
    /// An edge list ("u v" per line, as benches/ba_graph.py writes) instead of a generated graph.
    #[arg(long, value_name = "PATH", conflicts_with = "nodes")]
    pub edges_file: Option<PathBuf>,
    /// Iterations to time; the median is reported.
    #[arg(long, value_name = "K", default_value_t = 20)]
    pub iterations: usize,
    /// Seed of the generated graph.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

pub fn bench_layout(args: &BenchLayoutArgs) -> Result<ExitCode> {
    if args.iterations == 0 {
        return Err(UsageError("--iterations must be at least 1".into()).into());
    }
    let started = Instant::now();
    let (graph, source): (LayoutGraph, String) = match (&args.edges_file, args.nodes) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the edge list {}", path.display()))?;
            let graph =
                read_edge_list(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            (graph, format!("edge list {}", path.display()))
        }
        (None, Some(n)) => (
            barabasi_albert(n, 3, args.seed),
            format!("Barabási–Albert, m = 3, seed {}, generated", args.seed),
        ),
        (None, None) => {
            return Err(UsageError("give --nodes N or --edges-file PATH".into()).into());
        }
    };
    outln!(
        "graph: {} nodes, {} edges ({source}; {:.2} s to make)",
        graph.node_count,
        graph.edges.len(),
        started.elapsed().as_secs_f64()
    );
    outln!("threads: {} (rayon)", rayon::current_num_threads());
    let mut layout = ForceLayout::new(&graph, None);
    let mut times = Vec::with_capacity(args.iterations);
    for _ in 0..args.iterations {
        let t = Instant::now();
        layout.step(&graph);
        times.push(t.elapsed().as_secs_f64());
    }
    let total: f64 = times.iter().sum();
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    outln!(
        "iterations: {}, median {:.1} ms (min {:.1}, max {:.1}), total {:.2} s",
        times.len(),
        median * 1e3,
        times[0] * 1e3,
        times[times.len() - 1] * 1e3,
        total
    );
    outln!("iterations/s: {:.2} (median)", 1.0 / median);
    Ok(ExitCode::SUCCESS)
}
