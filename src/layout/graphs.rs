//! Test and benchmark graphs for the layouts: seeded Barabási–Albert graphs and edge lists.

use super::LayoutGraph;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A seeded Barabási–Albert graph built as networkx's `barabasi_albert_graph(n, m)` builds it:
/// a star of `m + 1` nodes, then every new node links to `m` distinct nodes drawn with
/// probability proportional to their degree. Same sizes as networkx's (`m·(n − m)` edges), not
/// the same edges: the random streams differ.
pub fn barabasi_albert(n: usize, m: usize, seed: u64) -> LayoutGraph {
    let m = m.max(1);
    if n <= m {
        return LayoutGraph {
            node_count: n,
            edges: Vec::new(),
        };
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut edges: Vec<(u32, u32)> = (1..=m as u32).map(|t| (0, t)).collect();
    edges.reserve(m * (n - m - 1));
    // Every endpoint once per edge: drawing from it is drawing by degree.
    let mut ends: Vec<u32> = Vec::with_capacity(2 * m * n);
    for &(a, b) in &edges {
        ends.extend([a, b]);
    }
    let mut targets: Vec<u32> = Vec::with_capacity(m);
    for v in (m + 1) as u32..n as u32 {
        targets.clear();
        while targets.len() < m {
            let t = ends[rng.random_range(0..ends.len())];
            if !targets.contains(&t) {
                targets.push(t);
            }
        }
        for &t in &targets {
            edges.push((t, v));
            ends.extend([t, v]);
        }
    }
    LayoutGraph {
        node_count: n,
        edges,
    }
}

/// Reads an edge list: one `u v` pair of node numbers per line (as benches/ba_graph.py
/// writes); other lines are skipped. Nodes are `0..=max`.
pub fn read_edge_list(text: &str) -> Result<LayoutGraph, String> {
    let mut edges = Vec::new();
    let mut n = 0usize;
    for (number, line) in text.lines().enumerate() {
        let mut it = line.split_whitespace();
        let (Some(a), Some(b)) = (it.next(), it.next()) else {
            continue;
        };
        let parse = |s: &str| {
            s.parse::<u32>()
                .map_err(|_| format!("line {}: '{s}' is not a node number", number + 1))
        };
        let (a, b) = (parse(a)?, parse(b)?);
        n = n.max(a as usize + 1).max(b as usize + 1);
        edges.push((a, b));
    }
    Ok(LayoutGraph {
        node_count: n,
        edges,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn barabasi_albert_has_networkx_sizes_and_is_seeded() {
        let g = barabasi_albert(10_000, 3, 42);
        assert_eq!(g.node_count, 10_000);
        assert_eq!(g.edges.len(), 29_991);
        assert!(g.edges.iter().all(|&(a, b)| a != b && a < b));
        assert_eq!(g.edges, barabasi_albert(10_000, 3, 42).edges);
        assert_ne!(g.edges, barabasi_albert(10_000, 3, 43).edges);
        // Preferential attachment: the hubs are far above the mean degree of 6.
        let mut degree = vec![0u32; g.node_count];
        for &(a, b) in &g.edges {
            degree[a as usize] += 1;
            degree[b as usize] += 1;
        }
        assert!(degree.iter().max().copied().unwrap_or(0) > 100);
        assert!(barabasi_albert(2, 3, 1).edges.is_empty());
    }

    #[test]
    fn edge_lists_are_read_and_bad_numbers_named() {
        let g = read_edge_list("0 1\n\n2 5\n").expect("valid");
        assert_eq!(g.node_count, 6);
        assert_eq!(g.edges, vec![(0, 1), (2, 5)]);
        assert!(read_edge_list("0 1\n1 x\n").unwrap_err().contains("line 2"));
    }
}
