//! Centralities on the undirected simple graph: betweenness (Brandes; exact or sampled,
//! parallel), closeness, harmonic closeness, eigenvector and PageRank. Definitions and
//! normalisations follow networkx, so that the reference tests compare like with like.
//!
//! Links are treated as undirected here: in an investigation a call or a meeting connects both
//! parties whatever the direction recorded, and mixing directed and undirected links in one
//! measure would make the numbers hard to explain.

use super::simple::{SEED_PARAM, SeededRng, SimpleGraph, entity_values, simple_graph};
use super::{
    AnalysisError, AnalysisInput, Component, GRADE_PARAM, Needs, Output, ParamKind, ParamSpec,
    Params, RESTRICTED_PARAM,
};
use crate::jobs::{CancelToken, Progress};
use rayon::prelude::*;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Sources are split into this many fixed chunks whatever the number of threads, and the
/// chunk sums are added in chunk order, so parallel results are bit-for-bit reproducible.
const CHUNKS: usize = 64;

/// Runs `per_source` for each source in parallel, summing the per-node contributions in a fixed
/// order. Checks the cancel token before every source.
fn parallel_sum(
    n: usize,
    sources: &[usize],
    cancel: &CancelToken,
    progress: &dyn Progress,
    what: &str,
    per_source: impl Fn(usize, &mut Scratch, &mut [f64]) + Sync,
) -> Result<Vec<f64>, AnalysisError> {
    let chunk = sources.len().div_ceil(CHUNKS).max(1);
    let done = AtomicUsize::new(0);
    let total = sources.len().max(1);
    let partials: Vec<Result<Vec<f64>, AnalysisError>> = sources
        .par_chunks(chunk)
        .map(|chunk| {
            let mut acc = vec![0.0; n];
            let mut scratch = Scratch::new(n);
            for &s in chunk {
                if cancel.is_cancelled() {
                    return Err(AnalysisError::Cancelled);
                }
                per_source(s, &mut scratch, &mut acc);
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress.report(Some(d as f32 / total as f32), what);
            }
            Ok(acc)
        })
        .collect();
    let mut sum = vec![0.0; n];
    for part in partials {
        for (s, v) in sum.iter_mut().zip(part?) {
            *s += v;
        }
    }
    Ok(sum)
}

/// Per-thread buffers for breadth-first searches, reused across sources.
struct Scratch {
    dist: Vec<i64>,
    distf: Vec<f64>,
    sigma: Vec<f64>,
    delta: Vec<f64>,
    order: Vec<usize>,
    queue: VecDeque<usize>,
}

impl Scratch {
    fn new(n: usize) -> Scratch {
        Scratch {
            dist: vec![-1; n],
            distf: vec![f64::INFINITY; n],
            sigma: vec![0.0; n],
            delta: vec![0.0; n],
            order: Vec::with_capacity(n),
            queue: VecDeque::with_capacity(n),
        }
    }

    /// Breadth-first search from `s`: fills `dist`, `sigma` (shortest-path counts) and `order`
    /// (nodes in order of distance). Resets only what the previous search touched.
    fn bfs(&mut self, g: &SimpleGraph, s: usize) {
        for &v in &self.order {
            self.dist[v] = -1;
            self.sigma[v] = 0.0;
            self.delta[v] = 0.0;
        }
        self.order.clear();
        self.dist[s] = 0;
        self.sigma[s] = 1.0;
        self.queue.push_back(s);
        while let Some(v) = self.queue.pop_front() {
            self.order.push(v);
            let dv = self.dist[v];
            for &w in g.neighbours(v) {
                if self.dist[w] < 0 {
                    self.dist[w] = dv + 1;
                    self.queue.push_back(w);
                }
                if self.dist[w] == dv + 1 {
                    self.sigma[w] += self.sigma[v];
                }
            }
        }
    }
}

fn brandes_source(g: &SimpleGraph, s: usize, sc: &mut Scratch, acc: &mut [f64]) {
    sc.bfs(g, s);
    for idx in (0..sc.order.len()).rev() {
        let w = sc.order[idx];
        let dw = sc.dist[w];
        let coeff = (1.0 + sc.delta[w]) / sc.sigma[w];
        for &v in g.neighbours(w) {
            if sc.dist[v] == dw - 1 {
                sc.delta[v] += sc.sigma[v] * coeff;
            }
        }
        if w != s {
            acc[w] += sc.delta[w];
        }
    }
}

/// One source of weighted Brandes: Dijkstra with link weights as distances (networkx's
/// `weight=` convention), counting shortest paths by exact equality of distances as networkx
/// does, then the same dependency accumulation as the unweighted case.
fn brandes_source_weighted(g: &SimpleGraph, s: usize, sc: &mut Scratch, acc: &mut [f64]) {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    for &v in &sc.order {
        sc.distf[v] = f64::INFINITY;
        sc.sigma[v] = 0.0;
        sc.delta[v] = 0.0;
    }
    sc.order.clear();
    // Min-heap on (distance bits, node): distances are non-negative, so their bit patterns
    // order like the numbers.
    let mut heap: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
    let mut done = std::collections::HashSet::new();
    sc.distf[s] = 0.0;
    heap.push(Reverse((0f64.to_bits(), s)));
    while let Some(Reverse((bits, v))) = heap.pop() {
        let d = f64::from_bits(bits);
        if d > sc.distf[v] || !done.insert(v) {
            continue;
        }
        sc.order.push(v);
        for (&w, &wt) in g.neighbours(v).iter().zip(g.neighbour_weights(v)) {
            let nd = d + wt;
            if nd < sc.distf[w] {
                sc.distf[w] = nd;
                heap.push(Reverse((nd.to_bits(), w)));
            }
        }
    }
    // Path counts in order of distance: a predecessor is a neighbour whose distance plus the
    // link's weight is exactly this node's distance.
    sc.sigma[s] = 1.0;
    for idx in 1..sc.order.len() {
        let w = sc.order[idx];
        let mut sigma = 0.0;
        for (&v, &wt) in g.neighbours(w).iter().zip(g.neighbour_weights(w)) {
            if sc.distf[v] + wt == sc.distf[w] {
                sigma += sc.sigma[v];
            }
        }
        sc.sigma[w] = sigma;
    }
    for idx in (0..sc.order.len()).rev() {
        let w = sc.order[idx];
        let coeff = (1.0 + sc.delta[w]) / sc.sigma[w];
        for (&v, &wt) in g.neighbours(w).iter().zip(g.neighbour_weights(w)) {
            if sc.distf[v] + wt == sc.distf[w] {
                sc.delta[v] += sc.sigma[v] * coeff;
            }
        }
        if w != s {
            acc[w] += sc.delta[w];
        }
    }
}

/// Betweenness as networkx computes it (`normalized=True` divides by (n-1)(n-2); sampling
/// `k` sources scales by n/k).
pub fn betweenness(
    g: &SimpleGraph,
    samples: usize,
    seed: u64,
    normalized: bool,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<Vec<f64>, AnalysisError> {
    betweenness_with(g, samples, seed, normalized, false, cancel, progress)
}

/// Betweenness, optionally weighted (link weights as distances; they must be positive).
pub fn betweenness_with(
    g: &SimpleGraph,
    samples: usize,
    seed: u64,
    normalized: bool,
    weighted: bool,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<Vec<f64>, AnalysisError> {
    let n = g.len();
    let mut sources: Vec<usize> = (0..n).collect();
    let k = if samples > 0 && samples < n {
        let mut rng = SeededRng::new(seed);
        rng.shuffle(&mut sources);
        sources.truncate(samples);
        sources.sort_unstable();
        samples
    } else {
        n
    };
    let mut values = parallel_sum(
        n,
        &sources,
        cancel,
        progress,
        "betweenness",
        |s, sc, acc| {
            if weighted {
                brandes_source_weighted(g, s, sc, acc)
            } else {
                brandes_source(g, s, sc, acc)
            }
        },
    )?;
    let mut scale = match (normalized, n > 2) {
        (true, true) => 1.0 / ((n - 1) as f64 * (n - 2) as f64),
        // networkx leaves tiny graphs unscaled.
        (true, false) => 1.0,
        // Undirected: every pair was counted from both ends.
        (false, _) => 0.5,
    };
    if k < n {
        scale *= n as f64 / k as f64;
    }
    for v in &mut values {
        *v *= scale;
    }
    Ok(values)
}

/// Closeness (networkx's Wasserman–Faust variant for disconnected graphs) or harmonic
/// closeness, on hop distances.
pub fn closeness(
    g: &SimpleGraph,
    harmonic: bool,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<Vec<f64>, AnalysisError> {
    let n = g.len();
    let done = AtomicUsize::new(0);
    let values: Vec<Result<f64, AnalysisError>> = (0..n)
        .into_par_iter()
        .map_init(
            || DistanceScratch::new(n),
            |sc, s| {
                if cancel.is_cancelled() {
                    return Err(AnalysisError::Cancelled);
                }
                let (total, reached, inverse_sum) = sc.distances_from(g, s);
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                if d.is_multiple_of(64) || d == n {
                    progress.report(Some(d as f32 / n as f32), "closeness");
                }
                if harmonic {
                    Ok(inverse_sum)
                } else if total > 0 && n > 1 {
                    let r = (reached - 1) as f64;
                    Ok(r / total as f64 * (r / (n - 1) as f64))
                } else {
                    Ok(0.0)
                }
            },
        )
        .collect();
    values.into_iter().collect()
}

/// Per-thread buffers for closeness: a breadth-first search that keeps only hop distances
/// (no path counts, which closeness does not need), with a flat queue. About half the work
/// of [`Scratch::bfs`] per source.
struct DistanceScratch {
    dist: Vec<u32>,
    queue: Vec<u32>,
}

impl DistanceScratch {
    fn new(n: usize) -> DistanceScratch {
        DistanceScratch {
            dist: vec![u32::MAX; n],
            queue: Vec::with_capacity(n),
        }
    }

    /// From `s`: (sum of hop distances, nodes reached including `s`, sum of 1/distance).
    fn distances_from(&mut self, g: &SimpleGraph, s: usize) -> (u64, usize, f64) {
        for &v in &self.queue {
            self.dist[v as usize] = u32::MAX;
        }
        self.queue.clear();
        self.dist[s] = 0;
        self.queue.push(s as u32);
        let (mut total, mut inverse_sum) = (0u64, 0.0);
        let mut head = 0;
        while head < self.queue.len() {
            let v = self.queue[head] as usize;
            head += 1;
            let dv = self.dist[v];
            if dv > 0 {
                total += u64::from(dv);
                inverse_sum += 1.0 / f64::from(dv);
            }
            for &w in g.neighbours(v) {
                if self.dist[w] == u32::MAX {
                    self.dist[w] = dv + 1;
                    self.queue.push(w as u32);
                }
            }
        }
        (total, self.queue.len(), inverse_sum)
    }
}

/// Eigenvector centrality by power iteration on A + I (as networkx does, which also converges
/// on bipartite graphs), scaled to unit Euclidean length.
pub fn eigenvector(
    g: &SimpleGraph,
    weighted: bool,
    tol: f64,
    max_iter: usize,
    cancel: &CancelToken,
) -> Result<Vec<f64>, AnalysisError> {
    let n = g.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    let mut x = vec![1.0 / n as f64; n];
    for _ in 0..max_iter {
        if cancel.is_cancelled() {
            return Err(AnalysisError::Cancelled);
        }
        let mut next: Vec<f64> = (0..n)
            .into_par_iter()
            .map(|v| {
                let mut s = x[v];
                for (&u, &w) in g.neighbours(v).iter().zip(g.neighbour_weights(v)) {
                    s += x[u] * if weighted { w } else { 1.0 };
                }
                s
            })
            .collect();
        let norm = next.iter().map(|v| v * v).sum::<f64>().sqrt();
        let norm = if norm > 0.0 { norm } else { 1.0 };
        for v in &mut next {
            *v /= norm;
        }
        let change: f64 = next.iter().zip(&x).map(|(a, b)| (a - b).abs()).sum();
        let size: f64 = next.iter().map(|v| v.abs()).sum();
        x = next;
        if change <= tol * size {
            return Ok(x);
        }
    }
    Err(AnalysisError::Failed(format!(
        "eigenvector centrality did not converge in {max_iter} iterations; raise max_iter or \
         tol"
    )))
}

/// PageRank with uniform teleport and dangling nodes spread uniformly (networkx's
/// definition). Converged when the L1 change is at most `tol` times the L1 size of the scores.
pub fn pagerank(
    g: &SimpleGraph,
    damping: f64,
    weighted: bool,
    tol: f64,
    max_iter: usize,
    cancel: &CancelToken,
) -> Result<Vec<f64>, AnalysisError> {
    let n = g.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    let out: Vec<f64> = (0..n)
        .map(|v| {
            if weighted {
                g.neighbour_weights(v).iter().sum()
            } else {
                g.degree(v) as f64
            }
        })
        .collect();
    let nf = n as f64;
    let mut x = vec![1.0 / nf; n];
    for _ in 0..max_iter {
        if cancel.is_cancelled() {
            return Err(AnalysisError::Cancelled);
        }
        let share: Vec<f64> = x
            .iter()
            .zip(&out)
            .map(|(xv, o)| if *o > 0.0 { xv / o } else { 0.0 })
            .collect();
        let dangling: f64 = x
            .iter()
            .zip(&out)
            .filter(|(_, o)| **o <= 0.0)
            .map(|(xv, _)| xv)
            .sum();
        let base = (damping * dangling + (1.0 - damping)) / nf;
        let next: Vec<f64> = (0..n)
            .into_par_iter()
            .map(|v| {
                let mut s = 0.0;
                for (&u, &w) in g.neighbours(v).iter().zip(g.neighbour_weights(v)) {
                    s += share[u] * if weighted { w } else { 1.0 };
                }
                damping * s + base
            })
            .collect();
        let change: f64 = next.iter().zip(&x).map(|(a, b)| (a - b).abs()).sum();
        let size: f64 = next.iter().sum();
        x = next;
        if change <= tol * size {
            return Ok(x);
        }
    }
    Err(AnalysisError::Failed(format!(
        "PageRank did not converge in {max_iter} iterations; raise max_iter or tol"
    )))
}

/// PageRank on directed links (undirected links count both ways), as networkx computes it on
/// a `DiGraph`: parallel links collapse (their weights summed), self-loops are left out, and
/// nodes without out-links spread their rank uniformly.
pub fn pagerank_directed(
    n: usize,
    edges: &[(usize, usize, f64, bool)],
    damping: f64,
    weighted: bool,
    tol: f64,
    max_iter: usize,
    cancel: &CancelToken,
) -> Result<Vec<f64>, AnalysisError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let mut arcs: Vec<(usize, usize, f64)> = Vec::with_capacity(edges.len() * 2);
    for &(s, t, w, directed) in edges {
        if s == t {
            continue;
        }
        arcs.push((s, t, w));
        if !directed {
            arcs.push((t, s, w));
        }
    }
    arcs.sort_unstable_by_key(|a| (a.0, a.1));
    let mut collapsed: Vec<(usize, usize, f64)> = Vec::with_capacity(arcs.len());
    for (s, t, w) in arcs {
        match collapsed.last_mut() {
            Some(last) if last.0 == s && last.1 == t => last.2 += w,
            _ => collapsed.push((s, t, w)),
        }
    }
    let weight = |w: f64| if weighted { w } else { 1.0 };
    let mut out = vec![0.0; n];
    for &(s, _, w) in &collapsed {
        out[s] += weight(w);
    }
    let nf = n as f64;
    let mut x = vec![1.0 / nf; n];
    for _ in 0..max_iter {
        if cancel.is_cancelled() {
            return Err(AnalysisError::Cancelled);
        }
        let dangling: f64 = x
            .iter()
            .zip(&out)
            .filter(|(_, o)| **o <= 0.0)
            .map(|(xv, _)| xv)
            .sum();
        let base = (damping * dangling + (1.0 - damping)) / nf;
        let mut next = vec![base; n];
        for &(s, t, w) in &collapsed {
            if out[s] > 0.0 {
                next[t] += damping * x[s] * weight(w) / out[s];
            }
        }
        let change: f64 = next.iter().zip(&x).map(|(a, b)| (a - b).abs()).sum();
        let size: f64 = next.iter().sum();
        x = next;
        if change <= tol * size {
            return Ok(x);
        }
    }
    Err(AnalysisError::Failed(format!(
        "PageRank did not converge in {max_iter} iterations; raise max_iter or tol"
    )))
}

fn positive(params: &Params, name: &str, default: f64) -> Result<f64, AnalysisError> {
    let v = params.get_f64(name, default)?;
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(AnalysisError::BadParam {
            name: name.into(),
            reason: format!("must be a positive number, not {v}"),
        })
    }
}

pub struct Betweenness;
pub struct Closeness;
pub struct Harmonic;
pub struct Eigenvector;
pub struct PageRank;

const BETWEENNESS_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "samples",
        kind: ParamKind::Int,
        default: Some("0"),
        help: "0 = exact; k > 0 = approximate from k sampled sources (for large graphs)",
    },
    ParamSpec {
        name: "normalized",
        kind: ParamKind::Bool,
        default: Some("true"),
        help: "divide by (n-1)(n-2) as networkx does",
    },
    ParamSpec {
        name: "weighted",
        kind: ParamKind::Bool,
        default: Some("false"),
        help: "shortest paths by summed link weight (weights as distances, as networkx)",
    },
    SEED_PARAM,
    GRADE_PARAM,
    RESTRICTED_PARAM,
];

const CLOSENESS_PARAMS: &[ParamSpec] = &[GRADE_PARAM, RESTRICTED_PARAM];

const ITER_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "weighted",
        kind: ParamKind::Bool,
        default: Some("false"),
        help: "use link weights",
    },
    ParamSpec {
        name: "tol",
        kind: ParamKind::Float,
        default: Some("1e-10"),
        help: "stop when the change is at most tol times the size of the scores",
    },
    ParamSpec {
        name: "max_iter",
        kind: ParamKind::Int,
        default: Some("1000"),
        help: "give up after this many iterations",
    },
    GRADE_PARAM,
    RESTRICTED_PARAM,
];

const PAGERANK_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "damping",
        kind: ParamKind::Float,
        default: Some("0.85"),
        help: "probability of following a link rather than jumping anywhere",
    },
    ITER_PARAMS[0],
    ParamSpec {
        name: "directed",
        kind: ParamKind::Bool,
        default: Some("false"),
        help: "follow link direction (undirected links count both ways)",
    },
    ITER_PARAMS[1],
    ITER_PARAMS[2],
    GRADE_PARAM,
    RESTRICTED_PARAM,
];

impl Component for Betweenness {
    fn name(&self) -> &'static str {
        "betweenness"
    }
    fn summary(&self) -> &'static str {
        "how often an entity lies on shortest paths between others (Brandes; exact or sampled)"
    }
    fn params(&self) -> &'static [ParamSpec] {
        BETWEENNESS_PARAMS
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
        let samples = params.get_usize("samples", 0)?;
        let normalized = params.get_bool("normalized", true)?;
        let seed = params.get_u64("seed", 1)?;
        let weighted = params.get_bool("weighted", false)?;
        let g = simple_graph(case, params)?;
        if weighted && g.weights.iter().any(|w| !(w.is_finite() && *w > 0.0)) {
            return Err(AnalysisError::Failed(
                "weighted betweenness needs positive link weights (distances); some links have \
                 zero, negative or missing weights; run with weighted=false"
                    .into(),
            ));
        }
        let values = betweenness_with(&g, samples, seed, normalized, weighted, cancel, progress)?;
        Ok(entity_values(&g.nodes, values))
    }
}

impl Component for Closeness {
    fn name(&self) -> &'static str {
        "closeness"
    }
    fn summary(&self) -> &'static str {
        "inverse mean hop distance to the entities reachable (Wasserman-Faust scaling)"
    }
    fn params(&self) -> &'static [ParamSpec] {
        CLOSENESS_PARAMS
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
        let g = simple_graph(case, params)?;
        let values = closeness(&g, false, cancel, progress)?;
        Ok(entity_values(&g.nodes, values))
    }
}

impl Component for Harmonic {
    fn name(&self) -> &'static str {
        "harmonic"
    }
    fn summary(&self) -> &'static str {
        "harmonic closeness: sum of 1/distance to every other entity"
    }
    fn params(&self) -> &'static [ParamSpec] {
        CLOSENESS_PARAMS
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
        let g = simple_graph(case, params)?;
        let values = closeness(&g, true, cancel, progress)?;
        Ok(entity_values(&g.nodes, values))
    }
}

impl Component for Eigenvector {
    fn name(&self) -> &'static str {
        "eigenvector"
    }
    fn summary(&self) -> &'static str {
        "eigenvector centrality: connected to well-connected entities"
    }
    fn params(&self) -> &'static [ParamSpec] {
        ITER_PARAMS
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
        let weighted = params.get_bool("weighted", false)?;
        let tol = positive(params, "tol", 1e-10)?;
        let max_iter = params.get_usize("max_iter", 1000)?;
        let g = simple_graph(case, params)?;
        let values = eigenvector(&g, weighted, tol, max_iter, cancel)?;
        progress.report(Some(1.0), "eigenvector done");
        Ok(entity_values(&g.nodes, values))
    }
}

impl Component for PageRank {
    fn name(&self) -> &'static str {
        "pagerank"
    }
    fn summary(&self) -> &'static str {
        "PageRank (damping 0.85 by default, optionally weighted); scores sum to 1"
    }
    fn params(&self) -> &'static [ParamSpec] {
        PAGERANK_PARAMS
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
        let damping = params.get_f64("damping", 0.85)?;
        if !(0.0..1.0).contains(&damping) {
            return Err(AnalysisError::BadParam {
                name: "damping".into(),
                reason: format!("must be at least 0 and below 1, not {damping}"),
            });
        }
        let weighted = params.get_bool("weighted", false)?;
        let tol = positive(params, "tol", 1e-10)?;
        let max_iter = params.get_usize("max_iter", 1000)?;
        if params.get_bool("directed", false)? {
            let threshold = params.get_grade(case)?;
            let graph = super::AnalysisGraph::build(case, threshold.as_ref())?;
            let edges: Vec<(usize, usize, f64, bool)> = graph
                .edges
                .iter()
                .map(|&(s, t, w, _, d)| (s, t, w, d))
                .collect();
            if weighted && edges.iter().any(|e| !(e.2.is_finite() && e.2 >= 0.0)) {
                return Err(AnalysisError::Failed(
                    "weighted PageRank needs non-negative link weights; run with weighted=false"
                        .into(),
                ));
            }
            let values = pagerank_directed(
                graph.node_count(),
                &edges,
                damping,
                weighted,
                tol,
                max_iter,
                cancel,
            )?;
            progress.report(Some(1.0), "pagerank done");
            return Ok(entity_values(&graph.nodes, values));
        }
        let g = simple_graph(case, params)?;
        let values = pagerank(&g, damping, weighted, tol, max_iter, cancel)?;
        progress.report(Some(1.0), "pagerank done");
        Ok(entity_values(&g.nodes, values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::NoProgress;
    use crate::model::EntityId;

    fn path_graph(n: usize) -> SimpleGraph {
        let mut pairs = Vec::new();
        for i in 0..n - 1 {
            pairs.push((i, i + 1, 1.0));
            pairs.push((i + 1, i, 1.0));
        }
        SimpleGraph::from_pairs((0..n as i64).map(EntityId).collect(), n, pairs)
    }

    #[test]
    fn betweenness_on_a_path_is_the_number_of_pairs_straddled() {
        let n = 7;
        let g = path_graph(n);
        let b = betweenness(&g, 0, 1, false, &CancelToken::new(), &NoProgress).unwrap();
        for (i, v) in b.iter().enumerate() {
            assert_eq!(*v, (i * (n - 1 - i)) as f64);
        }
    }

    /// networkx 3.6.1 `_pagerank_python(DiGraph, alpha=0.85, tol=1e-15)` on this graph
    /// (node 6 isolated), unweighted and with `weight="weight"`.
    #[test]
    fn directed_pagerank_matches_networkx() {
        let edges = [
            (0, 1, 1.0, true),
            (1, 2, 2.0, true),
            (2, 0, 1.0, true),
            (2, 3, 1.0, true),
            (3, 4, 3.0, true),
            (4, 2, 1.0, true),
            (5, 3, 1.0, true),
            (1, 5, 0.5, true),
        ];
        let plain = [
            0.12815455546,
            0.133321616043,
            0.244151321312,
            0.197048696573,
            0.191881635989,
            0.081051930721,
            0.024390243902,
        ];
        let weighted = [
            0.141767293334,
            0.144892443236,
            0.27618129278,
            0.183435958699,
            0.180310808796,
            0.049021959253,
            0.024390243902,
        ];
        for (w, want) in [(false, plain), (true, weighted)] {
            let got =
                pagerank_directed(7, &edges, 0.85, w, 1e-14, 10_000, &CancelToken::new()).unwrap();
            for (g, x) in got.iter().zip(want) {
                assert!((g - x).abs() < 1e-9, "weighted={w}: {got:?}");
            }
        }
    }

    #[test]
    fn weighted_betweenness_takes_the_light_detour() {
        // 0-1-2 heavy (5 each), 0-3-4-2 light (1 each): the light detour carries the paths.
        let mut pairs = Vec::new();
        for (a, b, w) in [
            (0, 1, 5.0),
            (1, 2, 5.0),
            (0, 3, 1.0),
            (3, 4, 1.0),
            (4, 2, 1.0),
        ] {
            pairs.push((a, b, w));
            pairs.push((b, a, w));
        }
        let g = SimpleGraph::from_pairs((0..5).map(EntityId).collect(), 5, pairs);
        let b = betweenness_with(&g, 0, 1, false, true, &CancelToken::new(), &NoProgress).unwrap();
        assert_eq!(b[1], 0.0);
        assert!(b[3] > 0.0 && b[4] > 0.0);
        let u = betweenness(&g, 0, 1, false, &CancelToken::new(), &NoProgress).unwrap();
        assert!(u[1] > 0.0);
    }

    #[test]
    fn cancelled_betweenness_stops() {
        let g = path_graph(50);
        let cancel = CancelToken::new();
        cancel.cancel();
        assert_eq!(
            betweenness(&g, 0, 1, true, &cancel, &NoProgress),
            Err(AnalysisError::Cancelled)
        );
    }

    #[test]
    fn check_every_is_quiet_until_cancelled() {
        use super::super::simple::check_every;
        let cancel = CancelToken::new();
        assert!(check_every(&cancel, 0, 10).is_ok());
        cancel.cancel();
        assert!(check_every(&cancel, 10, 10).is_err());
    }
}
