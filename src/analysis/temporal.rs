//! Temporal patterns. Activity histograms: events per time bin, one series per entity or per
//! event type. Burst detection: an early warning when an entity's event count in a time
//! bin stands far above its own recent baseline (mean + z standard deviations of the preceding
//! bins), reported as `Output::Alerts` of kind "burst".

use super::{
    Alert, AnalysisError, AnalysisInput, Component, GRADE_PARAM, Output, ParamKind, ParamSpec,
    Params,
};
use crate::jobs::{CancelToken, Progress};
use crate::model::EntityId;
use crate::store::CaseSnapshot;
use std::collections::BTreeMap;

/// Bins of `counts` (one per consecutive time bin) that burst: at least `min_count` events and
/// more than mean + z·sd of the `window` bins before (sd at least 1, so a flat zero baseline
/// does not flag every single event). Returns (bin, score in standard deviations).
pub fn burst_bins(counts: &[u64], window: usize, z: f64, min_count: u64) -> Vec<(usize, f64)> {
    let mut out = Vec::new();
    for (i, &c) in counts.iter().enumerate() {
        if c < min_count || i == 0 {
            continue;
        }
        let base = &counts[i.saturating_sub(window)..i];
        let mean = base.iter().sum::<u64>() as f64 / base.len() as f64;
        let var = base.iter().map(|&b| (b as f64 - mean).powi(2)).sum::<f64>() / base.len() as f64;
        let sd = var.sqrt().max(1.0);
        let score = (c as f64 - mean) / sd;
        if score > z {
            out.push((i, score));
        }
    }
    out
}

pub struct Bursts;

const BURST_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "bin_hours",
        kind: ParamKind::Int,
        default: Some("24"),
        help: "width of a time bin in hours",
    },
    ParamSpec {
        name: "window",
        kind: ParamKind::Int,
        default: Some("7"),
        help: "how many preceding bins form the baseline",
    },
    ParamSpec {
        name: "z",
        kind: ParamKind::Float,
        default: Some("3"),
        help: "standard deviations above the baseline that count as a burst",
    },
    ParamSpec {
        name: "min_count",
        kind: ParamKind::Int,
        default: Some("5"),
        help: "ignore bins with fewer events than this",
    },
    ParamSpec {
        name: "event_type",
        kind: ParamKind::Text,
        default: None,
        help: "only count events of this type (e.g. Call)",
    },
    GRADE_PARAM,
];

impl Component for Bursts {
    fn name(&self) -> &'static str {
        "bursts"
    }
    fn summary(&self) -> &'static str {
        "early warning: bins where an entity's event count jumps above its recent baseline"
    }
    fn params(&self) -> &'static [ParamSpec] {
        BURST_PARAMS
    }
    fn run_on(
        &self,
        input: &AnalysisInput<'_>,
        params: &Params,
        cancel: &CancelToken,
        progress: &dyn Progress,
    ) -> Result<Output, AnalysisError> {
        let case = input.snapshot()?;
        let window = params.get_usize("window", 7)?.max(1);
        let z = params.get_f64("z", 3.0)?;
        let min_count = params.get_u64("min_count", 5)?;
        let (bin_ms, events) = binned_events(case, params, cancel)?;
        let bin_hours = bin_ms / 3_600_000;
        // Entity -> bin index -> count.
        let mut series: BTreeMap<EntityId, BTreeMap<i64, u64>> = BTreeMap::new();
        for (bin, _, entities) in events {
            for e in entities {
                *series.entry(e).or_default().entry(bin).or_insert(0) += 1;
            }
        }
        let mut alerts = Vec::new();
        for (entity, bins) in &series {
            cancel.check()?;
            let (Some(&first), Some(&last)) = (bins.keys().next(), bins.keys().next_back()) else {
                continue;
            };
            let counts: Vec<u64> = (first..=last)
                .map(|b| bins.get(&b).copied().unwrap_or(0))
                .collect();
            for (i, score) in burst_bins(&counts, window, z, min_count) {
                let start = (first + i as i64) * bin_ms;
                alerts.push(Alert {
                    kind: "burst".into(),
                    entities: vec![*entity],
                    start_ms: start,
                    end_ms: start + bin_ms,
                    score,
                    description: format!(
                        "{} events in {bin_hours} h, {score:.1} standard deviations above the \
                         {window} bins before",
                        counts[i]
                    ),
                });
            }
        }
        alerts.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.start_ms.cmp(&b.start_ms))
                .then(a.entities.cmp(&b.entities))
        });
        progress.report(Some(1.0), "bursts done");
        Ok(Output::Alerts { alerts })
    }
}

pub struct Activity;

const ACTIVITY_PARAMS: &[ParamSpec] = &[
    BURST_PARAMS[0],
    ParamSpec {
        name: "by",
        kind: ParamKind::Text,
        default: Some("entity"),
        help: "one series per entity (\"E12\") or per event type",
    },
    BURST_PARAMS[4],
    GRADE_PARAM,
];

impl Component for Activity {
    fn name(&self) -> &'static str {
        "activity"
    }
    fn summary(&self) -> &'static str {
        "activity histogram: events per time bin, per entity or per event type"
    }
    fn params(&self) -> &'static [ParamSpec] {
        ACTIVITY_PARAMS
    }
    fn run_on(
        &self,
        input: &AnalysisInput<'_>,
        params: &Params,
        cancel: &CancelToken,
        progress: &dyn Progress,
    ) -> Result<Output, AnalysisError> {
        let case = input.snapshot()?;
        let by_type = match params.get_str("by").unwrap_or("entity") {
            "entity" => false,
            "type" => true,
            other => {
                return Err(AnalysisError::BadParam {
                    name: "by".into(),
                    reason: format!("'{other}' is not entity or type"),
                });
            }
        };
        let (bin_ms, events) = binned_events(case, params, cancel)?;
        let mut counts: BTreeMap<(String, i64), u64> = BTreeMap::new();
        for (bin, ev, entities) in events {
            if by_type {
                *counts
                    .entry((ev.event_type.clone(), bin * bin_ms))
                    .or_insert(0) += 1;
            } else {
                for e in entities {
                    *counts.entry((e.to_string(), bin * bin_ms)).or_insert(0) += 1;
                }
            }
        }
        progress.report(Some(1.0), "activity done");
        Ok(Output::Histogram {
            bin_ms,
            bins: counts.into_iter().map(|((s, b), c)| (s, b, c)).collect(),
        })
    }
}

/// An event with its time bin and its unrestricted participants.
type BinnedEvent<'a> = (i64, &'a crate::model::Event, Vec<EntityId>);

/// The events a temporal component counts (not restricted, of the requested type, meeting the
/// grade threshold), each with its bin and its unrestricted participants.
fn binned_events<'a>(
    case: &'a CaseSnapshot,
    params: &Params,
    cancel: &CancelToken,
) -> Result<(i64, Vec<BinnedEvent<'a>>), AnalysisError> {
    let bin_hours = params.get_u64("bin_hours", 24)?;
    if bin_hours == 0 {
        return Err(AnalysisError::BadParam {
            name: "bin_hours".into(),
            reason: "must be at least 1".into(),
        });
    }
    let bin_ms = bin_hours as i64 * 3_600_000;
    let mut out = Vec::new();
    for ev in super::patterns::usable_events(case, params, cancel)? {
        let mut seen: Vec<EntityId> = Vec::new();
        for p in &ev.participants {
            if seen.contains(&p.entity) || case.entity(p.entity).is_none_or(|e| e.restricted) {
                continue;
            }
            seen.push(p.entity);
        }
        out.push((ev.time.start_ms.div_euclid(bin_ms), ev, seen));
    }
    Ok((bin_ms, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jump_over_a_quiet_baseline_is_a_burst_and_a_steady_rate_is_not() {
        let counts = [1, 0, 2, 1, 1, 0, 1, 12, 1];
        let bursts = burst_bins(&counts, 7, 3.0, 5);
        assert_eq!(bursts.len(), 1);
        assert_eq!(bursts[0].0, 7);
        assert!(burst_bins(&[6; 20], 7, 3.0, 5).is_empty());
        // Below min_count nothing is flagged, however quiet the baseline.
        assert!(burst_bins(&[0, 0, 0, 4], 7, 3.0, 5).is_empty());
    }
}
