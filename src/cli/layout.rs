//! `copkit layout CASE --algorithm force|circular|hierarchical|grouped`: lays out the chart
//! saved with the case without the window, as a job (progress line, ctrl-c cancels), and
//! saves the positions where the window keeps them (`Case::save_chart`), so the window opens
//! with them. The window's rule decides what moves: entities on the chart, not hidden and not
//! folded into a collection; pinned entities and all others keep their saved positions. A
//! case with no saved chart is laid out whole. Restricted entities are on the chart as in the
//! window, without their links (analysis and layouts leave restricted links out).
//!
//! As in the window, the chart is a view of the evidence, not evidence: saving it is not an
//! audit record of its own (opening the case with the purpose is).

use super::{PurposeArg, UsageError, resolve_purpose};
use crate::layout::LayoutGraph;
use crate::layout::chart::{Algorithm, ChartLayout, SavedChartParts, with_positions};
use crate::model::EntityId;
use crate::store::{Actor, Case};
use anyhow::Result;
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// The force layout's iterations when not given: the window's toolbar runs as many.
const DEFAULT_ITERATIONS: usize = 3000;
/// More would run for hours on a large case without settling it further.
const MAX_ITERATIONS: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlgorithmArg {
    /// ForceAtlas2 (Barnes–Hut) from the saved positions, or from a seeded scatter (--seed).
    Force,
    /// A circle in entity-id order.
    Circular,
    /// Layers along directed links (ownership, command structures).
    Hierarchical,
    /// One disc per entity type.
    Grouped,
}

impl AlgorithmArg {
    fn algorithm(self) -> Algorithm {
        match self {
            AlgorithmArg::Force => Algorithm::Force,
            AlgorithmArg::Circular => Algorithm::Circular,
            AlgorithmArg::Hierarchical => Algorithm::Hierarchical,
            AlgorithmArg::Grouped => Algorithm::Grouped,
        }
    }

    fn name(self) -> &'static str {
        match self {
            AlgorithmArg::Force => "force",
            AlgorithmArg::Circular => "circular",
            AlgorithmArg::Hierarchical => "hierarchical",
            AlgorithmArg::Grouped => "grouped",
        }
    }
}

#[derive(Debug, Args)]
pub struct LayoutArgs {
    /// The case file; its saved chart gets the new positions.
    pub case: PathBuf,
    #[arg(long, value_enum)]
    pub algorithm: AlgorithmArg,
    /// Force only: start from a scatter made from this seed instead of the saved positions
    /// (the same seed gives the same chart).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Force only: iterations at most (default 3000, as the window's toolbar; at most 100000).
    #[arg(long, value_name = "N")]
    pub iterations: Option<usize>,
    #[command(flatten)]
    pub purpose: PurposeArg,
}

pub fn run(args: LayoutArgs, actor: Actor) -> Result<ExitCode> {
    let force = args.algorithm == AlgorithmArg::Force;
    if !force && (args.seed.is_some() || args.iterations.is_some()) {
        return Err(UsageError(format!(
            "--seed and --iterations are for --algorithm force; the {} layout is the same \
             every time",
            args.algorithm.name()
        ))
        .into());
    }
    let iterations = args.iterations.unwrap_or(DEFAULT_ITERATIONS);
    if !(1..=MAX_ITERATIONS).contains(&iterations) {
        return Err(UsageError(format!(
            "--iterations must be between 1 and {MAX_ITERATIONS}"
        ))
        .into());
    }
    let purpose = resolve_purpose(args.purpose)?;
    let mut case = Case::open(&args.case, actor, &purpose)?;
    let snapshot = case.snapshot()?;
    let saved_json = case.chart()?;
    let parts = match saved_json.as_deref() {
        Some(json) => SavedChartParts::parse(json).map_err(|e| {
            anyhow::anyhow!(
                "the chart saved with the case could not be read ({e}); open the case in the \
                 workbench once so that it saves the chart anew, then run the layout again. {}",
                args.case.display()
            )
        })?,
        None => SavedChartParts::default(),
    };
    let saved = parts.position_map();
    let laid_out = parts.laid_out();

    // The layout graph as the window's graph view builds it: node i is entity i.
    let graph = LayoutGraph {
        node_count: snapshot.entities.len(),
        edges: snapshot
            .graph
            .edge_indices()
            .filter_map(|e| snapshot.graph.edge_endpoints(e))
            .map(|(a, b)| (a.index() as u32, b.index() as u32))
            .collect(),
    };
    let directed: Vec<bool> = snapshot
        .graph
        .edge_indices()
        .map(|e| {
            snapshot
                .graph
                .edge_weight(e)
                .and_then(|&k| snapshot.links.get(k))
                .is_some_and(|l| l.directed)
        })
        .collect();
    let nodes: Vec<u32> = (0..snapshot.entities.len() as u32)
        .filter(|&i| laid_out(snapshot.entities[i as usize].id))
        .collect();
    let pinned: Vec<bool> = nodes
        .iter()
        .map(|&i| parts.is_pinned(snapshot.entities[i as usize].id))
        .collect();
    let fresh = crate::layout::starting_positions(graph.node_count, None);
    let mut start: Vec<[f32; 2]> = snapshot
        .entities
        .iter()
        .enumerate()
        .map(|(i, e)| saved.get(&e.id).copied().unwrap_or(fresh[i]))
        .collect();
    if let Some(seed) = args.seed {
        scatter(&mut start, &nodes, &pinned, seed);
    }
    // Grouped by entity type, as the window does without a community result.
    let mut types: Vec<&str> = nodes
        .iter()
        .map(|&i| snapshot.entities[i as usize].entity_type.as_str())
        .collect();
    types.sort_unstable();
    types.dedup();
    let groups: Vec<u32> = nodes
        .iter()
        .map(|&i| {
            types
                .binary_search(&snapshot.entities[i as usize].entity_type.as_str())
                .unwrap_or(0) as u32
        })
        .collect();
    let moving = pinned.iter().filter(|p| !**p).count();
    let pinned_count = nodes.len() - moving;
    let layout = ChartLayout {
        algorithm: args.algorithm.algorithm(),
        settings: crate::layout::ForceSettings::default(),
        graph,
        directed,
        nodes: nodes.clone(),
        start,
        pinned,
        groups,
        iterations,
    };
    let name = format!("{} layout", args.algorithm.name());
    let positions = super::progress::run_job(&name, move |cancel, progress| {
        layout.run(cancel, progress, &|_| {})
    })
    .map_err(|e| anyhow::anyhow!("{name} stopped: {e}; the saved chart was not changed"))?;

    // Positions for the entities the chart had one for and those laid out; the window places
    // any other entity itself when it opens the case.
    let in_layout: std::collections::HashSet<u32> = nodes.iter().copied().collect();
    let written: Vec<(EntityId, [f32; 2])> = snapshot
        .entities
        .iter()
        .enumerate()
        .filter(|(i, e)| in_layout.contains(&(*i as u32)) || saved.contains_key(&e.id))
        .map(|(i, e)| (e.id, positions[i]))
        .collect();
    let json = with_positions(saved_json.as_deref(), &written).map_err(|e| {
        anyhow::anyhow!(
            "the new chart could not be made ({e}); nothing was saved. {}",
            args.case.display()
        )
    })?;
    case.save_chart(&json)?;
    let kept = snapshot.entities.len() - moving;
    outln!(
        "{}: {name}: {moving} entities placed, {kept} kept where they were ({pinned_count} \
         pinned); saved with the chart",
        args.case.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Moves the unpinned nodes of `nodes` to a seeded scatter over a square about as large as
/// the starting spiral, so `--seed` gives a force layout a reproducible fresh start.
fn scatter(start: &mut [[f32; 2]], nodes: &[u32], pinned: &[bool], seed: u64) {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let half = 10.0 * (nodes.len().max(1) as f32).sqrt();
    for (&i, &pin) in nodes.iter().zip(pinned) {
        if !pin && let Some(p) = start.get_mut(i as usize) {
            *p = [rng.random_range(-half..half), rng.random_range(-half..half)];
        }
    }
}
