//! Community detection: Louvain modularity optimisation with a resolution parameter and a
//! seed (the node visiting order is shuffled by the seed, so a seed fixes the result), and
//! the modularity of any partition, computed as networkx does.

use super::simple::{SEED_PARAM, SeededRng, SimpleGraph, check_every, simple_graph};
use super::structure::renumber;
use super::{AnalysisError, Component, GRADE_PARAM, Output, ParamKind, ParamSpec, Params};
use crate::jobs::{CancelToken, Progress};
use crate::store::CaseSnapshot;

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
    fn run(
        &self,
        case: &CaseSnapshot,
        params: &Params,
        cancel: &CancelToken,
        progress: &dyn Progress,
    ) -> Result<Output, AnalysisError> {
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
        let partition = louvain(&g, weighted, resolution, seed, cancel, progress)?;
        let q = modularity(&g, &partition, weighted, resolution);
        progress.report(Some(1.0), "louvain done");
        Ok(Output::Communities {
            assignment: g.nodes.iter().copied().zip(partition).collect(),
            modularity: Some(q),
        })
    }
}
