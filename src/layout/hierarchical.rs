//! A layered (Sugiyama-style) layout for ownership and command structures: owners and
//! commanders above what they own or command.
//!
//! 1. Layers. Over the directed links, cycles are broken deterministically (a depth-first search
//!    from the sources, in node order, reverses its back edges) and every node gets the length of
//!    the longest path reaching it; sources are then moved down to just above their highest
//!    child. Nodes touched by no directed link hang one layer below a neighbour (breadth-first
//!    from the nodes that are). A component with no directed link at all is layered
//!    breadth-first from its highest-degree node.
//! 2. Order within layers: a depth-first order first (keeps subtrees together), then a few
//!    barycentre sweeps down and up to reduce crossings.
//! 3. x: each node as close as it can get to the mean x of its neighbours in the layers above
//!    (sweeping down) or below (sweeping up) while keeping its order and at least
//!    [`NODE_SPACING`] from its neighbours in the layer (an isotonic regression, exact).
//! 4. Components are packed side by side in rows, largest first.
//!
//! y grows downwards (as on screen): layer `k` is at `y = k · LAYER_GAP`, before centring.

use super::{LayoutGraph, NODE_SPACING};

/// Vertical distance between two layers.
pub const LAYER_GAP: f32 = 2.5 * NODE_SPACING;
/// Barycentre sweeps for crossing reduction (each one down and one up).
const ORDER_SWEEPS: usize = 4;
/// Sweeps (each down then up) of the x placement.
const PLACE_SWEEPS: usize = 3;

/// Adjacency in compressed rows.
struct Adjacency {
    offsets: Vec<usize>,
    targets: Vec<u32>,
}

impl Adjacency {
    fn new(n: usize, pairs: impl Iterator<Item = (usize, usize)> + Clone) -> Adjacency {
        let mut offsets = vec![0usize; n + 1];
        for (a, _) in pairs.clone() {
            offsets[a + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut targets = vec![0u32; offsets[n]];
        for (a, b) in pairs {
            targets[fill[a]] = b as u32;
            fill[a] += 1;
        }
        Adjacency { offsets, targets }
    }

    fn of(&self, i: usize) -> &[u32] {
        &self.targets[self.offsets[i]..self.offsets[i + 1]]
    }
}

/// Positions of a layered layout. `directed[e]` says whether `graph.edges[e] = (a, b)` is a
/// directed link from `a` to `b` (an owner to what it owns, a commander to the commanded); edges
/// past the end of `directed` are undirected, so `&[]` lays out a graph with no directions.
/// Self-loops and edges with an endpoint out of range are ignored.
pub fn hierarchical(graph: &LayoutGraph, directed: &[bool]) -> Vec<[f32; 2]> {
    let n = graph.node_count;
    if n == 0 {
        return Vec::new();
    }
    // (source, target, directed) without self-loops and invalid endpoints.
    let edges: Vec<(usize, usize, bool)> = graph
        .edges
        .iter()
        .enumerate()
        .filter(|(_, (a, b))| a != b && (*a as usize) < n && (*b as usize) < n)
        .map(|(e, &(a, b))| {
            (
                a as usize,
                b as usize,
                directed.get(e).copied().unwrap_or(false),
            )
        })
        .collect();
    let both = Adjacency::new(
        n,
        edges
            .iter()
            .flat_map(|&(a, b, _)| [(a, b), (b, a)].into_iter()),
    );
    let components = components(n, &both);
    let layer = layers(n, &edges, &both, &components);

    // Lay out each component on its own, then pack them.
    let mut positions = vec![[0.0f32; 2]; n];
    let mut boxes = Vec::with_capacity(components.len());
    // Scratch indexed by node, shared by the (disjoint) components.
    let mut rank = vec![usize::MAX; n];
    let mut x = vec![0.0f32; n];
    for component in &components {
        let ordered = order_layers(component, &layer, &both, &mut rank, &mut x);
        place_x(&ordered, &layer, &both, &mut x);
        let (mut x0, mut x1) = (f32::MAX, f32::MIN);
        for &v in component {
            x0 = x0.min(x[v]);
            x1 = x1.max(x[v]);
            positions[v] = [x[v], layer[v] as f32 * LAYER_GAP];
        }
        let depth = ordered.len();
        boxes.push((x0, x1 - x0 + NODE_SPACING, depth as f32 * LAYER_GAP));
    }
    // Shelf packing: rows of components, about as wide as the whole is tall.
    let area: f32 = boxes.iter().map(|b| b.1 * b.2).sum();
    let widest = boxes.iter().map(|b| b.1).fold(0.0, f32::max);
    let row_width = widest.max(1.5 * area.sqrt());
    let gap = 2.0 * NODE_SPACING;
    let (mut cursor, mut row_y, mut row_h) = (0.0f32, 0.0f32, 0.0f32);
    for (component, &(x0, w, h)) in components.iter().zip(&boxes) {
        if cursor > 0.0 && cursor + w > row_width {
            row_y += row_h + gap;
            cursor = 0.0;
            row_h = 0.0;
        }
        for &v in component {
            positions[v][0] += cursor - x0;
            positions[v][1] += row_y;
        }
        cursor += w + gap;
        row_h = row_h.max(h);
    }
    super::centre(&mut positions);
    positions
}

/// Connected components (over all edges), each sorted by node, largest first.
fn components(n: usize, both: &Adjacency) -> Vec<Vec<usize>> {
    let mut seen = vec![false; n];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..n {
        if seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let mut members = Vec::new();
        while let Some(v) = stack.pop() {
            members.push(v);
            for &w in both.of(v) {
                if !seen[w as usize] {
                    seen[w as usize] = true;
                    stack.push(w as usize);
                }
            }
        }
        members.sort_unstable();
        out.push(members);
    }
    // Stable: equal sizes keep the order of their lowest node.
    out.sort_by_key(|c| std::cmp::Reverse(c.len()));
    out
}

/// The layer of every node (0 at the top of its component).
fn layers(
    n: usize,
    edges: &[(usize, usize, bool)],
    both: &Adjacency,
    components: &[Vec<usize>],
) -> Vec<usize> {
    // Directed out- and in-edges, by edge index into `arcs`.
    let arcs: Vec<(usize, usize)> = edges
        .iter()
        .filter(|e| e.2)
        .map(|&(a, b, _)| (a, b))
        .collect();
    let out_arcs = Adjacency::new(n, arcs.iter().enumerate().map(|(i, &(a, _))| (a, i)));
    let mut in_degree = vec![0usize; n];
    for &(_, b) in &arcs {
        in_degree[b] += 1;
    }

    // Break cycles: a depth-first search from the sources (then from every node not reached
    // yet), in node order, reverses each edge that closes a cycle (a back edge).
    let mut reversed = vec![false; arcs.len()];
    let mut state = vec![0u8; n]; // 0 new, 1 on the DFS stack, 2 done
    let starts = (0..n)
        .filter(|&v| in_degree[v] == 0)
        .chain(0..n)
        .collect::<Vec<_>>();
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for start in starts {
        if state[start] != 0 {
            continue;
        }
        state[start] = 1;
        stack.push((start, 0));
        while let Some(top) = stack.last_mut() {
            let v = top.0;
            if let Some(&arc) = out_arcs.of(v).get(top.1) {
                top.1 += 1;
                let w = arcs[arc as usize].1;
                match state[w] {
                    0 => {
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => reversed[arc as usize] = true,
                    _ => {}
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }

    // Longest-path layering over the now acyclic arcs (Kahn's algorithm, in node order).
    let dag: Vec<(usize, usize)> = arcs
        .iter()
        .zip(&reversed)
        .map(|(&(a, b), &r)| if r { (b, a) } else { (a, b) })
        .collect();
    let children = Adjacency::new(n, dag.iter().copied());
    let parents = Adjacency::new(n, dag.iter().map(|&(a, b)| (b, a)));
    let mut pending: Vec<usize> = (0..n).map(|v| parents.of(v).len()).collect();
    let mut layer = vec![0usize; n];
    let mut topo: Vec<usize> = (0..n).filter(|&v| pending[v] == 0).collect();
    let mut head = 0;
    while head < topo.len() {
        let v = topo[head];
        head += 1;
        for &w in children.of(v) {
            let w = w as usize;
            layer[w] = layer[w].max(layer[v] + 1);
            pending[w] -= 1;
            if pending[w] == 0 {
                topo.push(w);
            }
        }
    }
    // Sources move down to just above their highest child, so they do not float far above.
    for &v in topo.iter().rev() {
        if parents.of(v).is_empty()
            && let Some(top) = children.of(v).iter().map(|&w| layer[w as usize]).min()
        {
            layer[v] = top - 1;
        }
    }

    // Nodes no directed link touches: breadth-first from the nodes one does, one layer below
    // their neighbour; in components with no directed link, from the highest-degree node.
    let anchored: Vec<bool> = (0..n)
        .map(|v| !children.of(v).is_empty() || !parents.of(v).is_empty())
        .collect();
    let mut placed = anchored.clone();
    let mut queue = std::collections::VecDeque::new();
    for component in components {
        queue.clear();
        queue.extend(component.iter().copied().filter(|&v| anchored[v]));
        if queue.is_empty() {
            // Highest degree, lowest index on ties.
            let Some(&root) = component
                .iter()
                .max_by_key(|&&v| (both.of(v).len(), std::cmp::Reverse(v)))
            else {
                continue;
            };
            layer[root] = 0;
            placed[root] = true;
            queue.push_back(root);
        }
        while let Some(v) = queue.pop_front() {
            for &w in both.of(v) {
                let w = w as usize;
                if !placed[w] {
                    placed[w] = true;
                    layer[w] = layer[v] + 1;
                    queue.push_back(w);
                }
            }
        }
        let top = component.iter().map(|&v| layer[v]).min().unwrap_or(0);
        for &v in component {
            layer[v] -= top;
        }
    }
    layer
}

/// The nodes of one component by layer, ordered to reduce crossings.
/// `rank` and `pos` are scratch indexed by node (`rank` unset, `usize::MAX`, on this component).
fn order_layers(
    component: &[usize],
    layer: &[usize],
    both: &Adjacency,
    rank: &mut [usize],
    pos: &mut [f32],
) -> Vec<Vec<usize>> {
    let depth = component.iter().map(|&v| layer[v]).max().unwrap_or(0) + 1;
    // Start from a depth-first order from the top, so subtrees start out together.
    let mut next_rank = 0;
    let mut stack = Vec::new();
    let mut roots: Vec<usize> = component.to_vec();
    roots.sort_by_key(|&v| (layer[v], std::cmp::Reverse(both.of(v).len()), v));
    for root in roots {
        if rank[root] != usize::MAX {
            continue;
        }
        stack.push(root);
        while let Some(v) = stack.pop() {
            if rank[v] != usize::MAX {
                continue;
            }
            rank[v] = next_rank;
            next_rank += 1;
            // Reverse, so the first neighbour is visited first.
            for &w in both.of(v).iter().rev() {
                if rank[w as usize] == usize::MAX {
                    stack.push(w as usize);
                }
            }
        }
    }
    let mut layers = vec![Vec::new(); depth];
    for &v in component {
        layers[layer[v]].push(v);
    }
    for l in &mut layers {
        l.sort_by_key(|&v| rank[v]);
    }
    // Barycentre sweeps: each node goes to the mean position of its neighbours on the side
    // swept from (positions centred per layer, so layers of different widths compare).
    for l in &layers {
        let mid = (l.len() as f32 - 1.0) / 2.0;
        for (i, &v) in l.iter().enumerate() {
            pos[v] = i as f32 - mid;
        }
    }
    for sweep in 0..2 * ORDER_SWEEPS {
        let down = sweep % 2 == 0;
        let order: Vec<usize> = if down {
            (1..depth).collect()
        } else {
            (0..depth.saturating_sub(1)).rev().collect()
        };
        for k in order {
            let mut keyed: Vec<(f32, usize)> = layers[k]
                .iter()
                .map(|&v| {
                    let (mut sum, mut count) = (0.0f32, 0usize);
                    for &w in both.of(v) {
                        let lw = layer[w as usize];
                        if (down && lw < k) || (!down && lw > k) {
                            sum += pos[w as usize];
                            count += 1;
                        }
                    }
                    let key = if count > 0 {
                        sum / count as f32
                    } else {
                        pos[v]
                    };
                    (key, v)
                })
                .collect();
            // Stable: ties keep their current order.
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
            layers[k] = keyed.into_iter().map(|(_, v)| v).collect();
            let mid = (layers[k].len() as f32 - 1.0) / 2.0;
            for (i, &v) in layers[k].iter().enumerate() {
                pos[v] = i as f32 - mid;
            }
        }
    }
    layers
}

/// Sets `x[v]` for every node `v` in `layers`.
fn place_x(layers: &[Vec<usize>], layer: &[usize], both: &Adjacency, x: &mut [f32]) {
    for l in layers {
        let mid = (l.len() as f32 - 1.0) / 2.0;
        for (i, &v) in l.iter().enumerate() {
            x[v] = (i as f32 - mid) * NODE_SPACING;
        }
    }
    let depth = layers.len();
    for sweep in 0..2 * PLACE_SWEEPS {
        let down = sweep % 2 == 0;
        let order: Vec<usize> = if down {
            (1..depth).collect()
        } else {
            (0..depth.saturating_sub(1)).rev().collect()
        };
        for k in order {
            let wanted: Vec<f32> = layers[k]
                .iter()
                .map(|&v| {
                    let (mut sum, mut count) = (0.0f32, 0usize);
                    for &w in both.of(v) {
                        let lw = layer[w as usize];
                        if (down && lw < k) || (!down && lw > k) {
                            sum += x[w as usize];
                            count += 1;
                        }
                    }
                    if count > 0 { sum / count as f32 } else { x[v] }
                })
                .collect();
            let placed = spaced(&wanted, NODE_SPACING);
            for (&v, p) in layers[k].iter().zip(placed) {
                x[v] = p;
            }
        }
    }
}

/// The positions closest (least squares) to `wanted` that keep their order and are at least
/// `gap` apart: with `z_i = wanted_i − i·gap` this is the isotonic regression of `z`, solved
/// exactly by pooling adjacent violators.
fn spaced(wanted: &[f32], gap: f32) -> Vec<f32> {
    // Blocks of (sum of z, count).
    let mut blocks: Vec<(f64, usize)> = Vec::with_capacity(wanted.len());
    for (i, &w) in wanted.iter().enumerate() {
        let mut block = (f64::from(w) - i as f64 * f64::from(gap), 1usize);
        while let Some(&(s, c)) = blocks.last() {
            if s / c as f64 >= block.0 / block.1 as f64 {
                blocks.pop();
                block = (block.0 + s, block.1 + c);
            } else {
                break;
            }
        }
        blocks.push(block);
    }
    let mut out = Vec::with_capacity(wanted.len());
    for (s, c) in blocks {
        let mean = s / c as f64;
        for _ in 0..c {
            let i = out.len();
            out.push((mean + i as f64 * f64::from(gap)) as f32);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::tests_support::{assert_no_overlap, random_graph};

    fn graph(n: usize, edges: &[(u32, u32)]) -> LayoutGraph {
        LayoutGraph {
            node_count: n,
            edges: edges.to_vec(),
        }
    }

    /// Crossings between edges joining consecutive layers.
    fn crossings(p: &[[f32; 2]], edges: &[(u32, u32)]) -> usize {
        let mut count = 0;
        for (i, &(a, b)) in edges.iter().enumerate() {
            for &(c, d) in &edges[i + 1..] {
                let (a, b, c, d) = (a as usize, b as usize, c as usize, d as usize);
                if p[a][1] == p[c][1] && p[b][1] == p[d][1] && a != c && b != d {
                    let top = p[a][0] - p[c][0];
                    let bottom = p[b][0] - p[d][0];
                    if top * bottom < 0.0 {
                        count += 1;
                    }
                }
            }
        }
        count
    }

    #[test]
    fn spacing_keeps_order_and_gap_and_otherwise_the_wanted_positions() {
        assert_eq!(spaced(&[0.0, 100.0, 200.0], 10.0), vec![0.0, 100.0, 200.0]);
        assert_eq!(spaced(&[5.0, 5.0], 10.0), vec![0.0, 10.0]);
        let out = spaced(&[3.0, 1.0, 2.0, 50.0], 10.0);
        for w in out.windows(2) {
            assert!(w[1] - w[0] >= 10.0 - 1e-3);
        }
        assert_eq!(out[3], 50.0);
    }

    #[test]
    fn directed_edges_of_a_dag_point_downwards() {
        // An ownership structure: two owners, holding companies, subsidiaries, a long edge.
        let edges = [
            (0, 2),
            (0, 3),
            (1, 3),
            (2, 4),
            (2, 5),
            (3, 6),
            (6, 7),
            (0, 7),
            (4, 8),
            (5, 8),
        ];
        let g = graph(9, &edges);
        let p = hierarchical(&g, &[true; 10]);
        for &(a, b) in &edges {
            assert!(p[b as usize][1] > p[a as usize][1], "{a}->{b}: {p:?}");
        }
        assert_no_overlap(&p, NODE_SPACING);
    }

    #[test]
    fn random_dags_point_downwards_and_do_not_overlap() {
        for seed in 0..20 {
            let g = random_graph(60, 90, seed);
            // Orient from the lower to the higher index: a DAG.
            let edges: Vec<(u32, u32)> = g
                .edges
                .iter()
                .filter(|(a, b)| a != b)
                .map(|&(a, b)| (a.min(b), a.max(b)))
                .collect();
            let g = graph(60, &edges);
            let p = hierarchical(&g, &vec![true; edges.len()]);
            for &(a, b) in &edges {
                assert!(p[b as usize][1] > p[a as usize][1], "seed {seed}: {a}->{b}");
            }
            assert_no_overlap(&p, NODE_SPACING);
        }
    }

    #[test]
    fn a_tree_is_drawn_without_crossings_and_parents_over_their_children() {
        // Children listed so that the first order crosses: 0 -> 1, 2; 1 -> 5, 3; 2 -> 4, 6.
        let edges = [(0, 2), (0, 1), (1, 5), (2, 4), (1, 3), (2, 6)];
        let g = graph(7, &edges);
        let p = hierarchical(&g, &[true; 6]);
        assert_eq!(crossings(&p, &edges), 0, "{p:?}");
        // A parent sits between its two children.
        for (parent, kids) in [(1usize, [5usize, 3]), (2, [4, 6])] {
            let (lo, hi) = (
                p[kids[0]][0].min(p[kids[1]][0]),
                p[kids[0]][0].max(p[kids[1]][0]),
            );
            assert!(lo <= p[parent][0] && p[parent][0] <= hi, "{p:?}");
        }
    }

    #[test]
    fn crossing_reduction_untangles_a_two_layer_graph() {
        // Top 0..4, bottom 4..8, with edges that cross in index order: i -> 7 - i.
        let edges = [(0, 7), (1, 6), (2, 5), (3, 4)];
        let mut all = edges.to_vec();
        all.extend([(0, 6), (1, 5), (2, 4)]);
        let g = graph(8, &all);
        let p = hierarchical(&g, &vec![true; all.len()]);
        assert_eq!(crossings(&p, &all), 0, "{p:?}");
    }

    #[test]
    fn undirected_graphs_are_layered_by_breadth_first_search_from_the_hub() {
        // A star around node 3 with a tail: 3 is on top, its neighbours one layer below.
        let edges = [(0, 3), (1, 3), (2, 3), (3, 4), (4, 5)];
        let p = hierarchical(&graph(6, &edges), &[]);
        let top = p.iter().map(|q| q[1]).fold(f32::MAX, f32::min);
        assert_eq!(p[3][1], top);
        for v in [0, 1, 2, 4] {
            assert_eq!(p[v][1], top + LAYER_GAP);
        }
        assert_eq!(p[5][1], top + 2.0 * LAYER_GAP);
        assert_no_overlap(&p, NODE_SPACING);
    }

    #[test]
    fn cycles_self_loops_and_components_are_handled() {
        // A directed 3-cycle with a self-loop, a separate pair, a lone node and a mixed part.
        let edges = [
            (0, 1),
            (1, 2),
            (2, 0),
            (1, 1),
            (3, 4),
            (5, 5),
            (6, 7),
            (7, 8),
        ];
        let directed = [true, true, true, true, true, true, true, false];
        let g = graph(10, &edges);
        let p = hierarchical(&g, &directed);
        assert_eq!(p.len(), 10);
        assert!(p.iter().all(|q| q[0].is_finite() && q[1].is_finite()));
        assert_no_overlap(&p, NODE_SPACING);
        // The cycle is broken once: two of its three edges still point down.
        let down = [(0, 1), (1, 2), (2, 0)]
            .iter()
            .filter(|&&(a, b)| p[b][1] > p[a][1])
            .count();
        assert_eq!(down, 2);
        assert!(p[4][1] > p[3][1]);
        // Node 8 hangs (undirected) one layer below 7.
        assert_eq!(p[8][1], p[7][1] + LAYER_GAP);
    }

    #[test]
    fn empty_single_and_invalid_inputs_do_not_panic() {
        assert!(hierarchical(&graph(0, &[]), &[]).is_empty());
        assert_eq!(hierarchical(&graph(1, &[]), &[true]), vec![[0.0, 0.0]]);
        let p = hierarchical(&graph(2, &[(0, 0), (0, 9), (1, 1)]), &[true, true]);
        assert_eq!(p.len(), 2);
        assert_no_overlap(&p, NODE_SPACING);
    }

    #[test]
    fn the_layout_is_deterministic() {
        let g = random_graph(300, 500, 7);
        let directed: Vec<bool> = (0..g.edges.len()).map(|e| e % 3 != 0).collect();
        let a = hierarchical(&g, &directed);
        let b = hierarchical(&g, &directed);
        assert_eq!(a, b);
        assert_no_overlap(&a, NODE_SPACING);
    }
}
