//! Graph layouts with no GUI dependency, so they can run in jobs, be benchmarked and be reused:
//! a ForceAtlas2-style force layout with Barnes–Hut repulsion, a circular layout, a layered
//! layout for ownership and command structures ([`hierarchical`]) and a layout by group
//! ([`grouped`]).
//!
//! Written here rather than taken from a crate: the layout must be resumable from the current
//! positions, respect pinned nodes, stream positions while it runs and be cancellable, which
//! none of the layout crates checked offers together.

pub mod chart;
mod graphs;
mod grouped;
mod hierarchical;
mod quadtree;

pub use graphs::{barabasi_albert, read_edge_list};
pub use grouped::grouped;
pub use hierarchical::{LAYER_GAP, hierarchical};
use quadtree::QuadTree;

/// The distance the deterministic layouts ([`hierarchical`], [`grouped`]) keep between any two
/// nodes, in layout units (the force layout's starting spiral spaces nodes about 10 apart).
pub const NODE_SPACING: f32 = 20.0;

/// Moves positions so that their bounding box is centred on the origin.
fn centre(positions: &mut [[f32; 2]]) {
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for p in positions.iter() {
        x0 = x0.min(p[0]);
        y0 = y0.min(p[1]);
        x1 = x1.max(p[0]);
        y1 = y1.max(p[1]);
    }
    if positions.is_empty() {
        return;
    }
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    for p in positions {
        p[0] -= cx;
        p[1] -= cy;
    }
}

/// The graph a layout works on: `n` nodes and undirected edges between node indices.
#[derive(Debug, Clone, Default)]
pub struct LayoutGraph {
    pub node_count: usize,
    pub edges: Vec<(u32, u32)>,
}

impl LayoutGraph {
    fn degrees(&self) -> Vec<f32> {
        let mut d = vec![0.0f32; self.node_count];
        for &(a, b) in &self.edges {
            d[a as usize] += 1.0;
            d[b as usize] += 1.0;
        }
        d
    }
}

/// Settings of the force layout (ForceAtlas2's names).
#[derive(Debug, Clone, Copy)]
pub struct ForceSettings {
    /// Repulsion strength.
    pub scaling: f32,
    /// Pull towards the centre, so disconnected parts stay near.
    pub gravity: f32,
    /// ForceAtlas2's "strong gravity": the pull grows with the distance from the centre
    /// instead of being the same everywhere. With the plain pull, the repulsion of the main
    /// network flings a separate pair or triangle several times the network's radius away
    /// (measured: 6.2–6.8 times, on 500 and 5,000 nodes with 40 pairs and 10 paths of three),
    /// so fitting the view to everything shrinks the network to a spot; with the strong pull
    /// at 0.1 they stay within 1.2–1.3 times its radius, and the network itself is a third
    /// smaller. Gephi users switch it on for exactly this.
    pub strong_gravity: bool,
    /// Barnes–Hut accuracy: larger is faster and coarser.
    pub theta: f32,
    /// Largest move of a node in one iteration.
    pub max_step: f32,
    /// LinLog attraction (ForceAtlas2's option): the pull along a link grows with the log of
    /// its length instead of the length, which packs communities tighter.
    pub lin_log: bool,
    /// Push apart nodes closer than [`NODE_SPACING`] after each step (ForceAtlas2's "prevent
    /// overlap"), so every icon and label has room.
    pub prevent_overlap: bool,
}

impl Default for ForceSettings {
    fn default() -> Self {
        ForceSettings {
            scaling: 10.0,
            gravity: 0.1,
            theta: 1.0,
            max_step: 10.0,
            strong_gravity: true,
            lin_log: false,
            prevent_overlap: false,
        }
    }
}

/// The positions a layout of `node_count` nodes starts from: those given in `start`, and a
/// sunflower spiral (deterministic and evenly spread) for the nodes it has none for.
pub fn starting_positions(node_count: usize, start: Option<&[[f32; 2]]>) -> Vec<[f32; 2]> {
    (0..node_count)
        .map(|i| {
            start.and_then(|s| s.get(i).copied()).unwrap_or_else(|| {
                let r = 10.0 * (i as f32 + 1.0).sqrt();
                let a = i as f32 * 2.399_963;
                [r * a.cos(), r * a.sin()]
            })
        })
        .collect()
}

/// A force layout in progress: positions persist between runs, so it resumes where it stopped.
#[derive(Debug, Clone)]
pub struct ForceLayout {
    pub positions: Vec<[f32; 2]>,
    pub pinned: Vec<bool>,
    pub settings: ForceSettings,
    /// Degree + 1 of every node.
    masses: Vec<f32>,
    forces: Vec<[f32; 2]>,
    /// Reused between iterations: the tree and the forces in tree order.
    tree: QuadTree,
    ordered: Vec<[f32; 2]>,
}

impl ForceLayout {
    /// Starts from given positions (or a deterministic spiral for missing ones).
    pub fn new(graph: &LayoutGraph, start: Option<&[[f32; 2]]>) -> ForceLayout {
        ForceLayout {
            positions: starting_positions(graph.node_count, start),
            pinned: vec![false; graph.node_count],
            settings: ForceSettings::default(),
            masses: graph.degrees().iter().map(|d| d + 1.0).collect(),
            forces: vec![[0.0; 2]; graph.node_count],
            tree: QuadTree::default(),
            ordered: Vec::new(),
        }
    }

    /// One iteration; returns the mean displacement (small when the layout has settled).
    pub fn step(&mut self, graph: &LayoutGraph) -> f32 {
        use rayon::prelude::*;
        let n = self.positions.len();
        if n == 0 {
            return 0.0;
        }
        let s = self.settings;
        self.tree.rebuild(&self.positions, &self.masses);
        let (tree, positions, masses) = (&self.tree, &self.positions, &self.masses);
        // Repulsion (Barnes–Hut), in parallel over the leaves of the tree, in tree order: one
        // walk per leaf serves all its bodies, and consecutive leaves are neighbours that walk
        // mostly the same cells, which keeps the walk in cache. Forces land in tree order.
        self.ordered.resize(n, [0.0; 2]);
        let mut rest: &mut [[f32; 2]] = &mut self.ordered;
        let mut jobs = Vec::with_capacity(n);
        for (leaf, count) in tree.leaves() {
            let (head, tail) = rest.split_at_mut(count);
            jobs.push((leaf, head));
            rest = tail;
        }
        jobs.into_par_iter()
            .with_min_len(128)
            .for_each(|(leaf, out)| tree.repulsion_leaf(leaf, s.theta, s.scaling, out));
        // Gravity, and the forces back in node order.
        for (&b, f) in tree.bodies().iter().zip(&self.ordered) {
            let i = b as usize;
            let [x, y] = positions[i];
            let d = (x * x + y * y).sqrt().max(1e-3);
            let g = if s.strong_gravity {
                s.gravity * masses[i] * d
            } else {
                s.gravity * masses[i]
            };
            self.forces[i] = [f[0] - g * x / d, f[1] - g * y / d];
        }
        // Attraction along edges (linear, as ForceAtlas2, or LinLog).
        for &(a, b) in &graph.edges {
            let (a, b) = (a as usize, b as usize);
            let mut dx = self.positions[b][0] - self.positions[a][0];
            let mut dy = self.positions[b][1] - self.positions[a][1];
            if s.lin_log {
                let d = (dx * dx + dy * dy).sqrt();
                if d > 1e-6 {
                    let k = (1.0 + d).ln() / d;
                    dx *= k;
                    dy *= k;
                }
            }
            self.forces[a][0] += dx;
            self.forces[a][1] += dy;
            self.forces[b][0] -= dx;
            self.forces[b][1] -= dy;
        }
        let mut moved = 0.0;
        let mut movable = 0usize;
        for (i, mass) in self.masses.iter().enumerate() {
            if self.pinned[i] {
                continue;
            }
            movable += 1;
            let [fx, fy] = self.forces[i];
            let len = (fx * fx + fy * fy).sqrt();
            if !len.is_finite() || len == 0.0 {
                continue;
            }
            // Heavier (more connected) nodes move less, as in ForceAtlas2's node speed.
            let step = (len * 0.1 / mass).min(s.max_step);
            self.positions[i][0] += fx / len * step;
            self.positions[i][1] += fy / len * step;
            moved += step;
        }
        if s.prevent_overlap {
            // Not counted in the mean move: the layout settles on the forces; the separation
            // only keeps nodes apart meanwhile.
            separate(&mut self.positions, &self.pinned, NODE_SPACING);
        }
        // The mean over the nodes that may move: with most of a chart pinned (entities just
        // added to it) the few that move must settle, not the average over all.
        moved / movable.max(1) as f32
    }
}

/// Pushes apart every pair of nodes closer than `min` (half the overlap each, all of it for
/// the free one of a pinned pair), through a grid of `min`-sized cells: linear in the nodes.
/// Returns the total distance moved.
pub(crate) fn separate(positions: &mut [[f32; 2]], pinned: &[bool], min: f32) -> f32 {
    let cell = |p: [f32; 2]| ((p[0] / min).floor() as i64, (p[1] / min).floor() as i64);
    let mut grid: std::collections::HashMap<(i64, i64), Vec<u32>> = Default::default();
    for (i, &p) in positions.iter().enumerate() {
        grid.entry(cell(p)).or_default().push(i as u32);
    }
    let mut moved = 0.0;
    for i in 0..positions.len() {
        let (cx, cy) = cell(positions[i]);
        for gx in cx - 1..=cx + 1 {
            for gy in cy - 1..=cy + 1 {
                let Some(others) = grid.get(&(gx, gy)) else {
                    continue;
                };
                for &j in others {
                    let j = j as usize;
                    if j <= i || (pinned[i] && pinned[j]) {
                        continue;
                    }
                    let dx = positions[j][0] - positions[i][0];
                    let dy = positions[j][1] - positions[i][1];
                    let d = (dx * dx + dy * dy).sqrt();
                    if d >= min {
                        continue;
                    }
                    // Coincident nodes part along a direction fixed by their indices.
                    let (ux, uy) = if d > 1e-4 {
                        (dx / d, dy / d)
                    } else {
                        let a = (i * 31 + j) as f32;
                        (a.cos(), a.sin())
                    };
                    let push = min - d;
                    let (wi, wj) = match (pinned[i], pinned[j]) {
                        (true, _) => (0.0, 1.0),
                        (_, true) => (1.0, 0.0),
                        _ => (0.5, 0.5),
                    };
                    positions[i][0] -= ux * push * wi;
                    positions[i][1] -= uy * push * wi;
                    positions[j][0] += ux * push * wj;
                    positions[j][1] += uy * push * wj;
                    moved += push;
                }
            }
        }
    }
    moved
}

/// Nodes on a circle, in index order.
pub fn circular(node_count: usize) -> Vec<[f32; 2]> {
    let r = 10.0 * node_count.max(1) as f32 / std::f32::consts::TAU;
    (0..node_count)
        .map(|i| {
            let a = i as f32 / node_count.max(1) as f32 * std::f32::consts::TAU;
            [r * a.cos(), r * a.sin()]
        })
        .collect()
}

/// Runs the force layout until it settles, `max_iterations` pass, or `cancel` is set, handing
/// positions to `publish` about 20 times a second so a view can show the layout moving.
///
/// Unlinked nodes (no edge to another node) are left out of the simulation and set in rows
/// under the linked part (see [`place_in_rows`]): nothing holds them, so the repulsion would
/// fling them far out (ForceAtlas2 does this), and fitting the view to them would shrink the
/// network to a corner. i2's and yEd's layouts likewise put unconnected items in a grid. An
/// unlinked node the user pinned stays where it is.
pub fn run_force(
    graph: &LayoutGraph,
    start: Option<&[[f32; 2]]>,
    pinned: &[bool],
    max_iterations: usize,
    cancel: &crate::jobs::CancelToken,
    progress: &dyn crate::jobs::Progress,
    publish: &dyn Fn(&[[f32; 2]]),
) -> Result<Vec<[f32; 2]>, crate::jobs::JobError> {
    run_force_with(
        graph,
        start,
        pinned,
        ForceSettings::default(),
        max_iterations,
        cancel,
        progress,
        publish,
    )
}

/// [`run_force`] with the given settings.
#[allow(clippy::too_many_arguments)] // reason: the graph, where it starts and what it may move, how, and the job's hooks
pub fn run_force_with(
    graph: &LayoutGraph,
    start: Option<&[[f32; 2]]>,
    pinned: &[bool],
    settings: ForceSettings,
    max_iterations: usize,
    cancel: &crate::jobs::CancelToken,
    progress: &dyn crate::jobs::Progress,
    publish: &dyn Fn(&[[f32; 2]]),
) -> Result<Vec<[f32; 2]>, crate::jobs::JobError> {
    let is_pinned = |i: usize| pinned.get(i).copied().unwrap_or(false);
    let mut linked = vec![false; graph.node_count];
    for &(a, b) in &graph.edges {
        if a != b {
            linked[a as usize] = true;
            linked[b as usize] = true;
        }
    }
    let simulated: Vec<usize> = (0..graph.node_count).filter(|&i| linked[i]).collect();
    let to_place: Vec<usize> = (0..graph.node_count)
        .filter(|&i| !linked[i] && !is_pinned(i))
        .collect();
    // Positions of the whole graph: the simulated nodes' are copied in as they move.
    let mut all = starting_positions(graph.node_count, start);
    let mut sub_index = vec![u32::MAX; graph.node_count];
    for (k, &i) in simulated.iter().enumerate() {
        sub_index[i] = k as u32;
    }
    let sub = LayoutGraph {
        node_count: simulated.len(),
        edges: graph
            .edges
            .iter()
            .filter_map(|&(a, b)| {
                let (a, b) = (sub_index[a as usize], sub_index[b as usize]);
                (a != u32::MAX && b != u32::MAX).then_some((a, b))
            })
            .collect(),
    };
    let sub_start: Vec<[f32; 2]> = simulated.iter().map(|&i| all[i]).collect();
    let mut layout = ForceLayout::new(&sub, Some(&sub_start));
    layout.settings = settings;
    for (k, &i) in simulated.iter().enumerate() {
        layout.pinned[k] = is_pinned(i);
    }
    let gather = |all: &mut [[f32; 2]], sub_positions: &[[f32; 2]]| {
        for (&i, &p) in simulated.iter().zip(sub_positions) {
            all[i] = p;
        }
        place_in_rows(all, &simulated, &to_place);
    };
    let mut last_publish = std::time::Instant::now();
    for iteration in 0..max_iterations {
        cancel.check()?;
        let moved = layout.step(&sub);
        if last_publish.elapsed() >= std::time::Duration::from_millis(50) {
            gather(&mut all, &layout.positions);
            publish(&all);
            last_publish = std::time::Instant::now();
            progress.report(
                Some(iteration as f32 / max_iterations as f32),
                &format!("iteration {iteration}, mean move {moved:.3}"),
            );
        }
        if moved < 0.01 {
            break;
        }
    }
    gather(&mut all, &layout.positions);
    publish(&all);
    progress.report(Some(1.0), "layout settled");
    Ok(all)
}

/// Sets the nodes `to_place` in rows `NODE_SPACING` apart, in index order, centred under the
/// bounding box of the nodes `beside` and no wider than it (a square block centred on the
/// origin when `beside` is empty). Centred, so that the rows stay clear of the view's legend
/// in its lower left corner.
pub fn place_in_rows(positions: &mut [[f32; 2]], beside: &[usize], to_place: &[usize]) {
    if to_place.is_empty() {
        return;
    }
    let (mut x0, mut x1, mut y1) = (f32::MAX, f32::MIN, f32::MIN);
    for &i in beside {
        let [x, y] = positions[i];
        x0 = x0.min(x);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    let square = (to_place.len() as f32).sqrt().ceil() * NODE_SPACING;
    let (centre, width, top) = if beside.is_empty() {
        (0.0, square, -square / 2.0)
    } else {
        (
            (x0 + x1) / 2.0,
            (x1 - x0).max(square),
            y1 + 2.0 * NODE_SPACING,
        )
    };
    let per_row = ((width / NODE_SPACING).floor() as usize).max(1);
    for (row, nodes) in to_place.chunks(per_row).enumerate() {
        let left = centre - (nodes.len() - 1) as f32 * NODE_SPACING / 2.0;
        for (k, &i) in nodes.iter().enumerate() {
            positions[i] = [
                left + k as f32 * NODE_SPACING,
                top + row as f32 * NODE_SPACING,
            ];
        }
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::LayoutGraph;

    /// A seeded random multigraph (self-loops and repeated edges included, as real data has).
    pub fn random_graph(n: usize, m: usize, seed: u64) -> LayoutGraph {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1);
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as u32
        };
        let edges = (0..m).map(|_| (next(), next())).collect();
        LayoutGraph {
            node_count: n,
            edges,
        }
    }

    /// Fails if two positions are closer than `min` (less a rounding allowance).
    pub fn assert_no_overlap(p: &[[f32; 2]], min: f32) {
        assert!(p.iter().all(|q| q[0].is_finite() && q[1].is_finite()));
        let mut sorted: Vec<usize> = (0..p.len()).collect();
        sorted.sort_by(|&a, &b| p[a][0].total_cmp(&p[b][0]));
        for (k, &a) in sorted.iter().enumerate() {
            for &b in &sorted[k + 1..] {
                if p[b][0] - p[a][0] >= min {
                    break;
                }
                let d = ((p[a][0] - p[b][0]).powi(2) + (p[a][1] - p[b][1]).powi(2)).sqrt();
                assert!(
                    d >= min * 0.999,
                    "nodes {a} and {b} are {d} apart: {:?} {:?}",
                    p[a],
                    p[b]
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prevent_overlap_keeps_nodes_a_spacing_apart_and_lin_log_tightens_clusters() {
        let g = two_cliques();
        let run = |settings: ForceSettings| {
            run_force_with(
                &g,
                None,
                &[],
                settings,
                600,
                &crate::jobs::CancelToken::new(),
                &crate::jobs::NoProgress,
                &|_| {},
            )
            .unwrap()
        };
        let apart = run(ForceSettings {
            prevent_overlap: true,
            ..ForceSettings::default()
        });
        // One last separation pass settles what the final step pushed together.
        let mut settled = apart.clone();
        separate(&mut settled, &[false; 20], NODE_SPACING);
        tests_support::assert_no_overlap(&settled, NODE_SPACING * 0.95);
        let spread = |p: &[[f32; 2]], group: std::ops::Range<usize>| -> f32 {
            let n = group.len() as f32;
            let c = group
                .clone()
                .fold([0.0f32; 2], |s, i| [s[0] + p[i][0] / n, s[1] + p[i][1] / n]);
            group
                .map(|i| ((p[i][0] - c[0]).powi(2) + (p[i][1] - c[1]).powi(2)).sqrt())
                .sum::<f32>()
                / n
        };
        let linear = run(ForceSettings::default());
        let lin_log = run(ForceSettings {
            lin_log: true,
            ..ForceSettings::default()
        });
        assert!(
            spread(&lin_log, 0..10) != spread(&linear, 0..10),
            "LinLog changed nothing"
        );
    }

    #[test]
    fn separate_moves_only_the_free_node_of_a_pinned_pair() {
        let mut p = vec![[0.0, 0.0], [1.0, 0.0]];
        separate(&mut p, &[true, false], NODE_SPACING);
        assert_eq!(p[0], [0.0, 0.0]);
        assert!((p[1][0] - NODE_SPACING).abs() < 1e-3, "{p:?}");
    }

    fn two_cliques() -> LayoutGraph {
        let mut edges = Vec::new();
        for group in [0u32, 10] {
            for a in group..group + 10 {
                for b in a + 1..group + 10 {
                    edges.push((a, b));
                }
            }
        }
        edges.push((0, 10));
        LayoutGraph {
            node_count: 20,
            edges,
        }
    }

    fn dist(a: [f32; 2], b: [f32; 2]) -> f32 {
        ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
    }

    #[test]
    fn connected_nodes_end_up_closer_than_unconnected_ones() {
        let graph = two_cliques();
        let mut layout = ForceLayout::new(&graph, None);
        for _ in 0..500 {
            layout.step(&graph);
        }
        let p = &layout.positions;
        let mean = |pairs: &[(usize, usize)]| {
            pairs.iter().map(|&(a, b)| dist(p[a], p[b])).sum::<f32>() / pairs.len() as f32
        };
        let inside: Vec<_> = (1..10)
            .map(|i| (i, i + 1 - (i + 1) / 10))
            .chain((11..19).map(|i| (i, i + 1)))
            .collect();
        let across: Vec<_> = (1..10).map(|i| (i, i + 10)).collect();
        assert!(
            mean(&inside) * 2.0 < mean(&across),
            "inside {} across {}",
            mean(&inside),
            mean(&across)
        );
        assert!(p.iter().all(|q| q[0].is_finite() && q[1].is_finite()));
    }

    #[test]
    fn pinned_nodes_stay_and_the_layout_resumes_from_given_positions() {
        let graph = two_cliques();
        let start: Vec<[f32; 2]> = (0..20).map(|i| [i as f32, 0.0]).collect();
        let mut layout = ForceLayout::new(&graph, Some(&start));
        layout.pinned[3] = true;
        for _ in 0..50 {
            layout.step(&graph);
        }
        assert_eq!(layout.positions[3], [3.0, 0.0]);
        assert_ne!(layout.positions[4], [4.0, 0.0]);
    }

    #[test]
    fn unlinked_nodes_are_set_in_rows_under_the_network_and_pinned_ones_stay() {
        // Two linked cliques (0..20), then 15 unlinked nodes: 20 has only a self-loop, 34 is
        // pinned by the user.
        let mut graph = two_cliques();
        graph.node_count = 35;
        graph.edges.push((20, 20));
        let mut pinned = vec![false; 35];
        pinned[34] = true;
        let mut start = starting_positions(graph.node_count, None);
        start[34] = [5000.0, 5000.0];
        let published = std::cell::Cell::new(0);
        let p = run_force(
            &graph,
            Some(&start),
            &pinned,
            2000,
            &crate::jobs::CancelToken::new(),
            &crate::jobs::NoProgress,
            &|_| published.set(published.get() + 1),
        )
        .unwrap();
        assert!(published.get() >= 1);
        assert_eq!(p[34], [5000.0, 5000.0]);
        let linked = &p[..20];
        let bottom = linked.iter().map(|q| q[1]).fold(f32::MIN, f32::max);
        let left = linked.iter().map(|q| q[0]).fold(f32::MAX, f32::min);
        let right = linked.iter().map(|q| q[0]).fold(f32::MIN, f32::max);
        let height = bottom - linked.iter().map(|q| q[1]).fold(f32::MAX, f32::min);
        let unlinked = &p[20..34];
        for q in unlinked {
            assert!(
                q[1] > bottom,
                "{q:?} is not under the network (bottom {bottom})"
            );
            assert!(
                q[1] < bottom + height.max(4.0 * NODE_SPACING),
                "{q:?} is far under the network (bottom {bottom}, height {height})"
            );
            assert!(
                q[0] >= left - 0.01 && q[0] <= right + 0.01,
                "{q:?} is outside the network's width ({left}..{right})"
            );
        }
        tests_support::assert_no_overlap(unlinked, NODE_SPACING);
        // The cliques were laid out as before: each holds together.
        assert!(dist(p[1], p[2]) < dist(p[1], p[12]));
    }

    #[test]
    fn a_graph_with_no_links_becomes_a_block_of_rows() {
        let graph = LayoutGraph {
            node_count: 10,
            edges: vec![],
        };
        let p = run_force(
            &graph,
            None,
            &[],
            100,
            &crate::jobs::CancelToken::new(),
            &crate::jobs::NoProgress,
            &|_| {},
        )
        .unwrap();
        tests_support::assert_no_overlap(&p, NODE_SPACING);
        let width = p.iter().map(|q| q[0]).fold(f32::MIN, f32::max)
            - p.iter().map(|q| q[0]).fold(f32::MAX, f32::min);
        assert_eq!(width, 3.0 * NODE_SPACING, "4 to a row: {p:?}");
    }

    /// How far the separate pairs (nodes from `n` on) end up from the centre of the main
    /// network (nodes below `n`), in multiples of that network's radius.
    fn pair_reach(strong_gravity: bool) -> f32 {
        let n = 300;
        let mut graph = super::barabasi_albert(n, 2, 3);
        graph.node_count = n + 40;
        graph
            .edges
            .extend((0..20u32).map(|k| (n as u32 + 2 * k, n as u32 + 2 * k + 1)));
        let mut layout = ForceLayout::new(&graph, None);
        layout.settings.strong_gravity = strong_gravity;
        if !strong_gravity {
            layout.settings.gravity = 1.0;
        }
        for _ in 0..1000 {
            layout.step(&graph);
        }
        let p = &layout.positions;
        let c = p[..n].iter().fold([0.0f32; 2], |a, q| {
            [a[0] + q[0] / n as f32, a[1] + q[1] / n as f32]
        });
        let radius = p[..n].iter().map(|&q| dist(q, c)).fold(0.0, f32::max);
        p[n..].iter().map(|&q| dist(q, c)).fold(0.0, f32::max) / radius
    }

    #[test]
    fn separate_small_parts_stay_near_the_network() {
        let strong = pair_reach(true);
        assert!(strong < 2.0, "pairs reach {strong} radii");
        // The plain pull is what flung them: the test measures the setting.
        let plain = pair_reach(false);
        assert!(plain > 3.0, "pairs reach {plain} radii with the plain pull");
    }

    #[test]
    fn coincident_nodes_do_not_break_the_tree() {
        let graph = LayoutGraph {
            node_count: 50,
            edges: vec![],
        };
        let start = vec![[1.0, 1.0]; 50];
        let mut layout = ForceLayout::new(&graph, Some(&start));
        for _ in 0..5 {
            layout.step(&graph);
        }
        assert!(layout.positions.iter().all(|q| q[0].is_finite()));
    }
}
