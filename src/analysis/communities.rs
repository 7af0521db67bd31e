//! Community detection: Louvain modularity optimisation with a resolution parameter and a
//! seed (the node visiting order is shuffled by the seed, so a seed fixes the result), and
//! the modularity of any partition, computed as networkx does.

use super::simple::{SEED_PARAM, SeededRng, SimpleGraph, check_every, simple_graph};
use super::structure::renumber;
use super::{
    AnalysisError, AnalysisInput, Component, GRADE_PARAM, Needs, Output, ParamKind, ParamSpec,
    Params, RESTRICTED_PARAM,
};
use crate::jobs::{CancelToken, Progress};

/// Modularity Q = Σ_c [ L_c / m − γ (d_c / 2m)² ] (networkx's `modularity`), where L_c is the
/// weight inside community c and d_c its total strength.
pub fn modularity(g: &SimpleGraph, partition: &[u32], weighted: bool, resolution: f64) -> f64 {
    let groups = partition
        .iter()
        .copied()
        .max()
        .map_or(0, |m| m as usize + 1);
    let mut inside = vec![0.0; groups];
    let mut strength = vec![0.0; groups];
    let mut total = 0.0;
    for v in 0..g.len() {
        let cv = partition[v] as usize;
        for (&u, &w) in g.neighbours(v).iter().zip(g.neighbour_weights(v)) {
            let w = if weighted { w } else { 1.0 };
            strength[cv] += w;
            total += w;
            if partition[u] as usize == cv {
                inside[cv] += w;
            }
        }
    }
    if total == 0.0 {
        return 0.0;
    }
    // `total` is 2m and `inside` counts every inner edge from both ends.
    inside
        .iter()
        .zip(&strength)
        .map(|(l, d)| l / total - resolution * (d / total) * (d / total))
        .sum()
}

/// Passes and levels that raise modularity by less than this end the search (networkx and
/// igraph stop the same way).
const MIN_GAIN: f64 = 1e-7;

/// One level of the Louvain hierarchy: a weighted graph whose nodes are the communities of the
/// level below. Self-loops are not stored: they only matter through the node strengths `k`.
struct Level {
    adj: Vec<Vec<(usize, f64)>>,
    k: Vec<f64>,
}

/// Moves nodes between neighbouring communities while that raises modularity. Returns the
/// community of each node and the modularity gained.
fn local_moves(
    level: &Level,
    resolution: f64,
    m2: f64,
    rng: &mut SeededRng,
    cancel: &CancelToken,
) -> Result<(Vec<usize>, f64), AnalysisError> {
    let n = level.k.len();
    let mut comm: Vec<usize> = (0..n).collect();
    let mut tot = level.k.clone();
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    let mut weight_to = vec![0.0; n];
    let mut seen = vec![false; n];
    let mut touched: Vec<usize> = Vec::new();
    let mut level_gain = 0.0;
    // Each pass strictly raises modularity, so this ends; like networkx and igraph, stop once
    // a pass gains less than `MIN_GAIN` in modularity, which on large graphs saves many
    // passes of vanishing improvements.
    for _pass in 0..10_000 {
        let mut moves = 0usize;
        let mut gained = 0.0;
        for (step, &i) in order.iter().enumerate() {
            check_every(cancel, step, 1024)?;
            for &(j, w) in &level.adj[i] {
                let c = comm[j];
                if !seen[c] {
                    seen[c] = true;
                    touched.push(c);
                }
                weight_to[c] += w;
            }
            let ci = comm[i];
            let ki = level.k[i];
            tot[ci] -= ki;
            let mut best = ci;
            let stay_gain = weight_to[ci] - resolution * tot[ci] * ki / m2;
            let mut best_gain = stay_gain;
            for &c in &touched {
                let gain = weight_to[c] - resolution * tot[c] * ki / m2;
                if gain > best_gain + 1e-12 {
                    best = c;
                    best_gain = gain;
                }
            }
            tot[best] += ki;
            comm[i] = best;
            if best != ci {
                moves += 1;
                gained += (best_gain - stay_gain) * 2.0 / m2;
            }
            for &c in &touched {
                weight_to[c] = 0.0;
                seen[c] = false;
            }
            touched.clear();
        }
        level_gain += gained;
        if moves == 0 || gained < MIN_GAIN {
            break;
        }
    }
    Ok((comm, level_gain))
}

/// Louvain: returns the community of every node, numbered 0.. in order of the lowest node.
pub fn louvain(
    g: &SimpleGraph,
    weighted: bool,
    resolution: f64,
    seed: u64,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<Vec<u32>, AnalysisError> {
    let n = g.len();
    let mut level = Level {
        adj: (0..n)
            .map(|v| {
                g.neighbours(v)
                    .iter()
                    .zip(g.neighbour_weights(v))
                    .map(|(&u, &w)| (u, if weighted { w } else { 1.0 }))
                    .collect()
            })
            .collect(),
        k: Vec::new(),
    };
    level.k = level
        .adj
        .iter()
        .map(|a| a.iter().map(|(_, w)| w).sum())
        .collect();
    let m2: f64 = level.k.iter().sum();
    let mut membership: Vec<usize> = (0..n).collect();
    if m2 == 0.0 {
        return Ok(renumber(
            &membership.iter().map(|&c| c as u32).collect::<Vec<_>>(),
        ));
    }
    let mut rng = SeededRng::new(seed);
    for depth in 0.. {
        progress.report(None, &format!("louvain level {depth}"));
        let (comm, gained) = local_moves(&level, resolution, m2, &mut rng, cancel)?;
        // A level that gains (almost) nothing ends the hierarchy; otherwise levels that merge
        // one pair at a time would each cost a full aggregation.
        if gained <= 0.0 {
            break;
        }
        let last_level = gained < MIN_GAIN;
        // Renumber and aggregate.
        let ids = renumber(&comm.iter().map(|&c| c as u32).collect::<Vec<_>>());
        let groups = ids.iter().copied().max().map_or(0, |m| m as usize + 1);
        for m in membership.iter_mut() {
            *m = ids[*m] as usize;
        }
        let mut k = vec![0.0; groups];
        let mut pairs: Vec<(usize, usize, f64)> = Vec::new();
        for (i, a) in level.adj.iter().enumerate() {
            let ci = ids[i] as usize;
            k[ci] += level.k[i];
            for &(j, w) in a {
                let cj = ids[j] as usize;
                if ci != cj {
                    pairs.push((ci, cj, w));
                }
            }
        }
        pairs.sort_unstable_by_key(|a| (a.0, a.1));
        let mut adj: Vec<Vec<(usize, f64)>> = vec![Vec::new(); groups];
        for (a, b, w) in pairs {
            match adj[a].last_mut() {
                Some(last) if last.0 == b => last.1 += w,
                _ => adj[a].push((b, w)),
            }
        }
        level = Level { adj, k };
        if groups == 1 || last_level {
            break;
        }
    }
    Ok(renumber(
        &membership.iter().map(|&c| c as u32).collect::<Vec<_>>(),
    ))
}

pub struct Louvain;

const LOUVAIN_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "resolution",
        kind: ParamKind::Float,
        default: Some("1.0"),
        help: "above 1 favours smaller communities, below 1 larger ones",
    },
    ParamSpec {
        name: "weighted",
        kind: ParamKind::Bool,
        default: Some("false"),
        help: "use link weights",
    },
    SEED_PARAM,
    GRADE_PARAM,
    RESTRICTED_PARAM,
];

impl Component for Louvain {
    fn name(&self) -> &'static str {
        "louvain"
    }
    fn summary(&self) -> &'static str {
        "Louvain communities (resolution, seed), with the partition's modularity"
    }
    fn params(&self) -> &'static [ParamSpec] {
        LOUVAIN_PARAMS
    }
    fn needs(&self) -> Needs {
        Needs::Graph
    }
    fn run_on(
        &self,
        input: &AnalysisInput<'_>,
        params: &Params,
        cancel: &CancelToken,
        progress: &dyn Progress,
    ) -> Result<Output, AnalysisError> {
        let case = input.graph_with(params)?;
        let resolution = params.get_f64("resolution", 1.0)?;
        if !(resolution.is_finite() && resolution > 0.0) {
            return Err(AnalysisError::BadParam {
                name: "resolution".into(),
                reason: format!("must be a positive number, not {resolution}"),
            });
        }
        let weighted = params.get_bool("weighted", false)?;
        let seed = params.get_u64("seed", 1)?;
        let g = simple_graph(case, params)?;
        let (partition, q) = best_of_seeds(&g, weighted, resolution, seed, |s| {
            louvain(&g, weighted, resolution, s, cancel, progress)
        })?;
        progress.report(Some(1.0), "louvain done");
        Ok(Output::Communities {
            assignment: g.nodes.iter().copied().zip(partition).collect(),
            modularity: Some(q),
        })
    }
}

/// An iteration of Leiden that raises modularity by less than this is the last. On a BA graph
/// of 100k nodes (2026-12-07): iterations 1, 2, 3, 6, 8 reach 0.380, 0.407, 0.411, 0.415, 0.416
/// (igraph: 0.402 after its fixed 2), each costing about 0.7 s of CPU, so 1e-3 stops near 5.
const LEIDEN_TOLERANCE: f64 = 1e-3;

/// Graphs with at most this many nodes are partitioned from several seeds and the partition
/// with the highest modularity kept: on small graphs one visiting order can land in a poor
/// local optimum (Zachary's karate club: 0.394 from one seed, 0.420 at best), and the extra
/// runs cost milliseconds.
const SMALL_GRAPH: usize = 5_000;

/// How many seeds a small graph is tried from (`seed`, `seed + 1`, …).
const SMALL_GRAPH_SEEDS: u64 = 10;

/// Runs `partition` from one seed, or on a small graph from [`SMALL_GRAPH_SEEDS`] seeds in
/// turn, keeping the partition with the highest modularity (the first of equals).
fn best_of_seeds(
    g: &SimpleGraph,
    weighted: bool,
    resolution: f64,
    seed: u64,
    mut partition: impl FnMut(u64) -> Result<Vec<u32>, AnalysisError>,
) -> Result<(Vec<u32>, f64), AnalysisError> {
    let tries = if g.len() <= SMALL_GRAPH {
        SMALL_GRAPH_SEEDS
    } else {
        1
    };
    let mut best: Option<(Vec<u32>, f64)> = None;
    for k in 0..tries {
        let p = partition(seed.wrapping_add(k))?;
        let q = modularity(g, &p, weighted, resolution);
        if best.as_ref().is_none_or(|(_, b)| q > *b + 1e-12) {
            best = Some((p, q));
        }
    }
    Ok(best.unwrap_or_default())
}

/// θ of the refinement phase (Traag, Waltman & van Eck 2019): how random the choice among
/// merges that raise modularity is. 0.01 is the paper's value.
const LEIDEN_THETA: f64 = 0.01;

/// Leiden (Traag, Waltman & van Eck, "From Louvain to Leiden", 2019), written here because no
/// crate in our dependency set has it: fast local moving, then a refinement that splits
/// every community into well-connected parts (nodes only merge into parts of their own
/// community they are connected to), then aggregation of the *refined* partition, starting the
/// next level from the unrefined one. This is what guarantees connected communities, which
/// Louvain does not. Iterates until an iteration changes nothing (at most `max_iterations`).
/// As a last safety net any community that is still disconnected (possible only when the
/// iteration limit stops the search) is split into its components, which never lowers
/// modularity.
pub fn leiden(
    g: &SimpleGraph,
    weighted: bool,
    resolution: f64,
    seed: u64,
    max_iterations: usize,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<Vec<u32>, AnalysisError> {
    let n = g.len();
    let base_adj: Vec<Vec<(usize, f64)>> = (0..n)
        .map(|v| {
            g.neighbours(v)
                .iter()
                .zip(g.neighbour_weights(v))
                .map(|(&u, &w)| (u, if weighted { w } else { 1.0 }))
                .collect()
        })
        .collect();
    let base_k: Vec<f64> = base_adj
        .iter()
        .map(|a| a.iter().map(|(_, w)| w).sum())
        .collect();
    let m2: f64 = base_k.iter().sum();
    if m2 == 0.0 {
        return Ok((0..n as u32).collect());
    }
    let mut rng = SeededRng::new(seed);
    // The partition of the original nodes, kept across iterations.
    let mut membership: Vec<usize> = (0..n).collect();
    let mut quality = f64::NEG_INFINITY;
    for iteration in 0..max_iterations.max(1) {
        progress.report(
            Some(iteration as f32 / max_iterations.max(1) as f32),
            &format!("leiden iteration {}", iteration + 1),
        );
        let mut level = Level {
            adj: base_adj.clone(),
            k: base_k.clone(),
        };
        // Which level node each original node is in.
        let mut node_of: Vec<usize> = (0..n).collect();
        let mut comm = membership.clone();
        let mut changed = false;
        loop {
            cancel.check()?;
            let moved = fast_local_moves(&level, &mut comm, resolution, m2, &mut rng, cancel)?;
            changed |= moved;
            let groups = renumber(&comm.iter().map(|&c| c as u32).collect::<Vec<_>>());
            let comm_ids: Vec<usize> = groups.iter().map(|&c| c as usize).collect();
            let ncomm = comm_ids.iter().copied().max().map_or(0, |m| m + 1);
            if ncomm == level.k.len() {
                // Every community is one node: this level cannot be coarsened further.
                comm = comm_ids;
                for v in 0..n {
                    membership[v] = comm[node_of[v]];
                }
                break;
            }
            let mut refined = refine(&level, &comm_ids, resolution, m2, &mut rng, cancel)?;
            let mut nref = refined.iter().copied().max().map_or(0, |m| m + 1);
            if nref == level.k.len() {
                // The refinement merged nothing: aggregate by the communities themselves, as
                // leidenalg does, so that the levels still shrink.
                refined = comm_ids.clone();
                nref = ncomm;
            }
            for v in 0..n {
                membership[v] = comm_ids[node_of[v]];
                node_of[v] = refined[node_of[v]];
            }
            // The aggregate's nodes are the refined parts; each starts in its (unrefined)
            // community.
            let mut start = vec![0usize; nref];
            for (v, &r) in refined.iter().enumerate() {
                start[r] = comm_ids[v];
            }
            level = aggregate(&level, &refined, nref);
            comm = start;
        }
        if !changed {
            break;
        }
        // Later iterations only move a few nodes at the margins: stop once one no longer
        // raises modularity by `LEIDEN_TOLERANCE` (leidenalg and igraph stop after a fixed 2).
        let now = modularity(
            g,
            &membership.iter().map(|&c| c as u32).collect::<Vec<_>>(),
            weighted,
            resolution,
        );
        let gained = now - quality;
        quality = now;
        if gained < LEIDEN_TOLERANCE {
            break;
        }
    }
    let mut parts = renumber(&membership.iter().map(|&c| c as u32).collect::<Vec<_>>());
    split_disconnected(g, &mut parts);
    Ok(renumber(&parts))
}

/// Builds the next level: nodes are the groups of `part`.
fn aggregate(level: &Level, part: &[usize], groups: usize) -> Level {
    let mut k = vec![0.0; groups];
    let mut pairs: Vec<(usize, usize, f64)> = Vec::new();
    for (i, a) in level.adj.iter().enumerate() {
        let ci = part[i];
        k[ci] += level.k[i];
        for &(j, w) in a {
            let cj = part[j];
            if ci != cj {
                pairs.push((ci, cj, w));
            }
        }
    }
    pairs.sort_unstable_by_key(|a| (a.0, a.1));
    let mut adj: Vec<Vec<(usize, f64)>> = vec![Vec::new(); groups];
    for (a, b, w) in pairs {
        match adj[a].last_mut() {
            Some(last) if last.0 == b => last.1 += w,
            _ => adj[a].push((b, w)),
        }
    }
    Level { adj, k }
}

/// Leiden's fast local moving: a queue of nodes; a node that moves puts its neighbours
/// outside its new community back on the queue. Returns whether any node moved.
fn fast_local_moves(
    level: &Level,
    comm: &mut [usize],
    resolution: f64,
    m2: f64,
    rng: &mut SeededRng,
    cancel: &CancelToken,
) -> Result<bool, AnalysisError> {
    let n = level.k.len();
    // Communities are numbered below n (the caller passes labels of at most n groups).
    let size = comm.iter().copied().max().map_or(0, |m| m + 1).max(n);
    let mut tot = vec![0.0; size];
    let mut count = vec![0usize; size];
    for v in 0..n {
        tot[comm[v]] += level.k[v];
        count[comm[v]] += 1;
    }
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    let mut queue: std::collections::VecDeque<usize> = order.into_iter().collect();
    let mut queued = vec![true; n];
    let mut weight_to = vec![0.0; size];
    let mut seen = vec![false; size];
    let mut touched: Vec<usize> = Vec::new();
    let mut empty: Vec<usize> = (0..size).rev().filter(|&c| count[c] == 0).collect();
    let mut moved = false;
    let mut steps = 0usize;
    while let Some(i) = queue.pop_front() {
        steps += 1;
        check_every(cancel, steps, 1024)?;
        queued[i] = false;
        for &(j, w) in &level.adj[i] {
            let c = comm[j];
            if !seen[c] {
                seen[c] = true;
                touched.push(c);
            }
            weight_to[c] += w;
        }
        let ci = comm[i];
        let ki = level.k[i];
        tot[ci] -= ki;
        let stay = weight_to[ci] - resolution * tot[ci] * ki / m2;
        let mut best = ci;
        let mut best_gain = stay;
        for &c in &touched {
            let gain = weight_to[c] - resolution * tot[c] * ki / m2;
            if gain > best_gain + 1e-12 {
                best = c;
                best_gain = gain;
            }
        }
        // Moving to an empty community (gain 0) when staying costs something.
        if best_gain < -1e-12
            && let Some(&e) = empty.last()
        {
            best = e;
        }
        tot[best] += ki;
        if best != ci {
            if empty.last() == Some(&best) {
                empty.pop();
            }
            count[ci] -= 1;
            count[best] += 1;
            if count[ci] == 0 {
                empty.push(ci);
            }
            comm[i] = best;
            moved = true;
            for &(j, _) in &level.adj[i] {
                if comm[j] != best && !queued[j] {
                    queued[j] = true;
                    queue.push_back(j);
                }
            }
        }
        for &c in &touched {
            weight_to[c] = 0.0;
            seen[c] = false;
        }
        touched.clear();
    }
    Ok(moved)
}

/// Leiden's refinement: within each community, nodes start alone; a node still alone and
/// well connected to its community merges into a well-connected part of the same community
/// it is linked to, chosen at random with probability ∝ exp(gain/θ) among merges that do not
/// lower modularity. Returns the refined part of every node, numbered 0...
fn refine(
    level: &Level,
    comm: &[usize],
    resolution: f64,
    m2: f64,
    rng: &mut SeededRng,
    cancel: &CancelToken,
) -> Result<Vec<usize>, AnalysisError> {
    let n = level.k.len();
    let ncomm = comm.iter().copied().max().map_or(0, |m| m + 1);
    let mut comm_tot = vec![0.0; ncomm];
    for v in 0..n {
        comm_tot[comm[v]] += level.k[v];
    }
    let mut part: Vec<usize> = (0..n).collect();
    let mut part_tot: Vec<f64> = level.k.clone();
    // Weight from each part to the rest of its community, kept up to date as parts merge.
    let mut part_out: Vec<f64> = (0..n)
        .map(|v| {
            level.adj[v]
                .iter()
                .filter(|(u, _)| comm[*u] == comm[v])
                .map(|(_, w)| w)
                .sum()
        })
        .collect();
    let mut singleton = vec![true; n];
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    let mut weight_to = vec![0.0; n];
    let mut seen = vec![false; n];
    let mut touched: Vec<usize> = Vec::new();
    for (step, &v) in order.iter().enumerate() {
        check_every(cancel, step, 1024)?;
        if !singleton[v] {
            continue;
        }
        let c = comm[v];
        let kv = level.k[v];
        // v must be well connected to its community: w(v, C−v) ≥ γ k_v (K_C − k_v) / 2m.
        if part_out[v] < resolution * kv * (comm_tot[c] - kv) / m2 {
            continue;
        }
        for &(u, w) in &level.adj[v] {
            if comm[u] != c {
                continue;
            }
            let p = part[u];
            if !seen[p] {
                seen[p] = true;
                touched.push(p);
            }
            weight_to[p] += w;
        }
        let mut options: Vec<(usize, f64)> = Vec::new();
        for &p in &touched {
            if p == part[v] {
                continue;
            }
            // The target part must be well connected too.
            let kt = part_tot[p];
            if part_out[p] < resolution * kt * (comm_tot[c] - kt) / m2 {
                continue;
            }
            let gain = weight_to[p] - resolution * kv * kt / m2;
            if gain >= 0.0 {
                options.push((p, gain));
            }
        }
        if !options.is_empty() {
            // Scale gains to modularity units (2/m2) before the θ of the paper.
            let best = options
                .iter()
                .map(|o| o.1)
                .fold(f64::NEG_INFINITY, f64::max);
            let weights: Vec<f64> = options
                .iter()
                .map(|o| ((o.1 - best) * 2.0 / m2 / LEIDEN_THETA).exp())
                .collect();
            let total: f64 = weights.iter().sum();
            let mut x = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * total;
            let mut chosen = options[options.len() - 1].0;
            for (o, w) in options.iter().zip(&weights) {
                if x < *w {
                    chosen = o.0;
                    break;
                }
                x -= w;
            }
            let old = part[v];
            let w_v_to_chosen = weight_to[chosen];
            part[v] = chosen;
            singleton[v] = false;
            singleton[chosen] = false;
            part_tot[chosen] += kv;
            part_tot[old] -= kv;
            // Edges between v and the chosen part are now inside the part.
            part_out[chosen] += part_out[v] - 2.0 * w_v_to_chosen;
            part_out[old] = 0.0;
        }
        for &p in &touched {
            weight_to[p] = 0.0;
            seen[p] = false;
        }
        touched.clear();
    }
    // Parts are labelled by a node's index; nodes that merged point at their part's label,
    // which never changes after a merge (a part only grows), so one lookup is enough.
    let ids = renumber(&part.iter().map(|&p| p as u32).collect::<Vec<_>>());
    Ok(ids.into_iter().map(|p| p as usize).collect())
}

/// Splits every community that is not connected into its connected components.
fn split_disconnected(g: &SimpleGraph, parts: &mut [u32]) {
    let n = g.len();
    let mut next = parts.iter().copied().max().map_or(0, |m| m + 1);
    let mut seen_comm: std::collections::HashSet<u32> = std::collections::HashSet::new();
    let mut visited = vec![false; n];
    let mut stack = Vec::new();
    for s in 0..n {
        if visited[s] {
            continue;
        }
        let c = parts[s];
        let label = if seen_comm.insert(c) {
            c
        } else {
            next += 1;
            next - 1
        };
        visited[s] = true;
        stack.push(s);
        while let Some(v) = stack.pop() {
            parts[v] = label;
            for &u in g.neighbours(v) {
                if !visited[u] && parts[u] == c {
                    visited[u] = true;
                    stack.push(u);
                }
            }
        }
    }
}

pub struct Leiden;

const LEIDEN_PARAMS: &[ParamSpec] = &[
    LOUVAIN_PARAMS[0],
    LOUVAIN_PARAMS[1],
    ParamSpec {
        name: "max_iterations",
        kind: ParamKind::Int,
        default: Some("50"),
        help: "at most this many iterations (it stops earlier once an iteration raises modularity by less than 0.001)",
    },
    SEED_PARAM,
    GRADE_PARAM,
    RESTRICTED_PARAM,
];

impl Component for Leiden {
    fn name(&self) -> &'static str {
        "leiden"
    }
    fn summary(&self) -> &'static str {
        "Leiden communities (resolution, seed): like Louvain, but every community is connected"
    }
    fn params(&self) -> &'static [ParamSpec] {
        LEIDEN_PARAMS
    }
    fn needs(&self) -> Needs {
        Needs::Graph
    }
    fn run_on(
        &self,
        input: &AnalysisInput<'_>,
        params: &Params,
        cancel: &CancelToken,
        progress: &dyn Progress,
    ) -> Result<Output, AnalysisError> {
        let case = input.graph_with(params)?;
        let resolution = params.get_f64("resolution", 1.0)?;
        if !(resolution.is_finite() && resolution > 0.0) {
            return Err(AnalysisError::BadParam {
                name: "resolution".into(),
                reason: format!("must be a positive number, not {resolution}"),
            });
        }
        let weighted = params.get_bool("weighted", false)?;
        let seed = params.get_u64("seed", 1)?;
        let max_iterations = params.get_usize("max_iterations", 50)?.max(1);
        let g = simple_graph(case, params)?;
        if weighted && g.weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
            return Err(AnalysisError::Failed(
                "some links have negative or missing weights; run with weighted=false".into(),
            ));
        }
        let (partition, q) = best_of_seeds(&g, weighted, resolution, seed, |s| {
            leiden(
                &g,
                weighted,
                resolution,
                s,
                max_iterations,
                cancel,
                progress,
            )
        })?;
        progress.report(Some(1.0), "leiden done");
        Ok(Output::Communities {
            assignment: g.nodes.iter().copied().zip(partition).collect(),
            modularity: Some(q),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::NoProgress;
    use crate::model::EntityId;

    /// Two 5-cliques joined by one edge, plus a separate triangle.
    fn two_cliques() -> SimpleGraph {
        let mut pairs = Vec::new();
        let mut add = |a: usize, b: usize| {
            pairs.push((a, b, 1.0));
            pairs.push((b, a, 1.0));
        };
        for base in [0, 5] {
            for i in 0..5 {
                for j in i + 1..5 {
                    add(base + i, base + j);
                }
            }
        }
        add(4, 5);
        add(10, 11);
        add(11, 12);
        add(10, 12);
        SimpleGraph::from_pairs((0..13).map(EntityId).collect(), 13, pairs)
    }

    fn connected(g: &SimpleGraph, part: &[u32]) -> bool {
        let groups = part.iter().copied().max().map_or(0, |m| m + 1);
        (0..groups).all(|c| {
            let members: Vec<usize> = (0..g.len()).filter(|&v| part[v] == c).collect();
            let Some(&start) = members.first() else {
                return true;
            };
            let mut seen = vec![false; g.len()];
            let mut stack = vec![start];
            seen[start] = true;
            let mut count = 0;
            while let Some(v) = stack.pop() {
                count += 1;
                for &u in g.neighbours(v) {
                    if !seen[u] && part[u] == c {
                        seen[u] = true;
                        stack.push(u);
                    }
                }
            }
            count == members.len()
        })
    }

    #[test]
    fn leiden_finds_the_cliques_with_connected_communities() {
        let g = two_cliques();
        for seed in 0..10 {
            let p = leiden(&g, false, 1.0, seed, 50, &CancelToken::new(), &NoProgress).unwrap();
            assert!(connected(&g, &p), "seed {seed}: {p:?}");
            assert_eq!(p.iter().collect::<std::collections::BTreeSet<_>>().len(), 3);
            assert!(p[..5].iter().all(|&c| c == p[0]));
            assert!(p[5..10].iter().all(|&c| c == p[5]));
            assert!(p[10..].iter().all(|&c| c == p[10]));
        }
    }

    #[test]
    fn split_disconnected_separates_components_of_one_label() {
        let g = two_cliques();
        let mut p = vec![0u32; 13];
        split_disconnected(&g, &mut p);
        assert!(connected(&g, &p));
        assert_ne!(p[0], p[10]);
    }
}
