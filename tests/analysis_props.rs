//! Property tests for the graph algorithms: results do not depend on the order nodes were
//! added, PageRank sums to 1, betweenness on a path graph, Louvain's reported modularity equals
//! the modularity recomputed from its partition.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]

use copkit::analysis::{
    SimpleGraph, betweenness, fold, leiden, louvain, modularity, pagerank, phonetic_key,
};
use copkit::jobs::{CancelToken, NoProgress};
use copkit::model::EntityId;
use proptest::prelude::*;

fn graph(n: usize, edges: &[(usize, usize)], relabel: &[usize]) -> SimpleGraph {
    let mut pairs = Vec::new();
    for &(u, v) in edges {
        let (u, v) = (relabel[u % n], relabel[v % n]);
        if u != v {
            pairs.push((u, v, 1.0));
            pairs.push((v, u, 1.0));
        }
    }
    SimpleGraph::from_pairs((0..n as i64).map(EntityId).collect(), n, pairs)
}

fn arb_graph() -> impl Strategy<Value = (usize, Vec<(usize, usize)>, Vec<usize>)> {
    (3usize..25).prop_flat_map(|n| {
        (
            Just(n),
            prop::collection::vec((0..n, 0..n), 0..60),
            Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn measures_do_not_depend_on_node_order((n, edges, perm) in arb_graph()) {
        let identity: Vec<usize> = (0..n).collect();
        let a = graph(n, &edges, &identity);
        let b = graph(n, &edges, &perm);
        let cancel = CancelToken::new();
        let ba = betweenness(&a, 0, 1, true, &cancel, &NoProgress).unwrap();
        let bb = betweenness(&b, 0, 1, true, &cancel, &NoProgress).unwrap();
        let pa = pagerank(&a, 0.85, false, 1e-12, 10_000, &cancel).unwrap();
        let pb = pagerank(&b, 0.85, false, 1e-12, 10_000, &cancel).unwrap();
        for v in 0..n {
            prop_assert!((ba[v] - bb[perm[v]]).abs() < 1e-9);
            prop_assert!((pa[v] - pb[perm[v]]).abs() < 1e-9);
        }
    }

    #[test]
    fn pagerank_sums_to_one((n, edges, _perm) in arb_graph(), damping in 0.5f64..0.95) {
        let g = graph(n, &edges, &(0..n).collect::<Vec<_>>());
        let p = pagerank(&g, damping, false, 1e-12, 10_000, &CancelToken::new()).unwrap();
        prop_assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn betweenness_on_a_path_graph(n in 3usize..40) {
        let edges: Vec<(usize, usize)> = (0..n - 1).map(|i| (i, i + 1)).collect();
        let g = graph(n, &edges, &(0..n).collect::<Vec<_>>());
        let b = betweenness(&g, 0, 1, false, &CancelToken::new(), &NoProgress).unwrap();
        for (i, v) in b.iter().enumerate() {
            prop_assert_eq!(*v, (i * (n - 1 - i)) as f64);
        }
    }

    #[test]
    fn louvain_modularity_is_that_of_its_partition(
        (n, edges, _perm) in arb_graph(),
        seed in 0u64..1000,
        resolution in 0.5f64..2.0,
    ) {
        let g = graph(n, &edges, &(0..n).collect::<Vec<_>>());
        let part = louvain(&g, false, resolution, seed, &CancelToken::new(), &NoProgress).unwrap();
        let singletons: Vec<u32> = (0..n as u32).collect();
        let q = modularity(&g, &part, false, resolution);
        // Louvain never ends worse than the all-singletons start.
        prop_assert!(q >= modularity(&g, &singletons, false, resolution) - 1e-12);
        prop_assert_eq!(
            part.clone(),
            louvain(&g, false, resolution, seed, &CancelToken::new(), &NoProgress).unwrap()
        );
    }

    #[test]
    fn leiden_communities_are_connected_and_reproducible(
        (n, edges, _perm) in arb_graph(),
        seed in 0u64..1000,
        resolution in 0.5f64..2.0,
    ) {
        let g = graph(n, &edges, &(0..n).collect::<Vec<_>>());
        let part = leiden(&g, false, resolution, seed, 50, &CancelToken::new(), &NoProgress)
            .unwrap();
        let singletons: Vec<u32> = (0..n as u32).collect();
        let q = modularity(&g, &part, false, resolution);
        prop_assert!(q >= modularity(&g, &singletons, false, resolution) - 1e-12);
        for c in 0..=*part.iter().max().unwrap() {
            let members: Vec<usize> = (0..n).filter(|&v| part[v] == c).collect();
            prop_assert!(!members.is_empty(), "labels are contiguous");
            let mut seen = vec![false; n];
            let mut stack = vec![members[0]];
            seen[members[0]] = true;
            let mut reached = 0;
            while let Some(v) = stack.pop() {
                reached += 1;
                for &u in g.neighbours(v) {
                    if !seen[u] && part[u] == c {
                        seen[u] = true;
                        stack.push(u);
                    }
                }
            }
            prop_assert_eq!(reached, members.len());
        }
        prop_assert_eq!(
            part,
            leiden(&g, false, resolution, seed, 50, &CancelToken::new(), &NoProgress).unwrap()
        );
    }

    #[test]
    fn name_folding_and_phonetic_keys_never_panic(text in "\\PC{0,40}") {
        let folded = fold(&text);
        for token in folded.split_whitespace() {
            let key = phonetic_key(token);
            prop_assert!(key.chars().count() <= 4);
        }
    }
}

/// A ring with chords, big enough that exact betweenness runs for a while in a debug build.
fn big_graph(n: usize) -> SimpleGraph {
    let edges: Vec<(usize, usize)> = (0..n)
        .flat_map(|i| [(i, (i + 1) % n), (i, (i * 7 + 3) % n)])
        .collect();
    graph(n, &edges, &(0..n).collect::<Vec<_>>())
}

/// Cancels its token at the first progress report and counts the reports, so that the test
/// measures how much work a component does after it is cancelled, not how fast the machine is.
struct CancelAtFirstReport {
    cancel: CancelToken,
    reports: std::sync::atomic::AtomicUsize,
}

impl copkit::jobs::Progress for CancelAtFirstReport {
    fn report(&self, _fraction: Option<f32>, _message: &str) {
        self.reports
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.cancel.cancel();
    }
}

#[test]
fn a_cancelled_betweenness_stops_after_the_sources_already_started() {
    let n = 5_000;
    let g = big_graph(n);
    let cancel = CancelToken::new();
    let progress = CancelAtFirstReport {
        cancel: cancel.clone(),
        reports: Default::default(),
    };
    let result = betweenness(&g, 0, 1, true, &cancel, &progress);
    assert!(
        matches!(result, Err(copkit::analysis::AnalysisError::Cancelled)),
        "{result:?}"
    );
    // One report per source finished: after the first, each thread finishes at most the
    // source it is in, then sees the cancel.
    let reports = progress.reports.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        reports <= rayon::current_num_threads() + 1,
        "{reports} sources finished after the cancel, of {n}"
    );
}
