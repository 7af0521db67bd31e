//! Scoring analysis components against a generated case's planted truth. Dispatch is on the
//! kind of output, never on the component's name, so components added later are scored
//! without changes here: communities by normalised mutual information with the planted
//! cells, centralities by the rank of the planted leaders, entity resolution by precision and
//! recall over the planted duplicate pairs, burst alerts by their delay after the planted
//! burst began, phone-swap alerts by precision and recall over the planted (old, new) phone
//! pairs. (An empty list of alerts is scored as burst detection: it carries no kind.)

use super::Truth;
use crate::analysis::Output;
use crate::model::EntityId;
use crate::store::CaseSnapshot;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// How well one output matches the truth.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "metric", rename_all = "snake_case")]
pub enum Score {
    /// Output::Communities against the planted cells (group members only).
    Communities {
        nmi: f64,
        members: usize,
        cells: usize,
        communities: usize,
    },
    /// Output::EntityValues: the 1-based rank of each planted leader among all persons,
    /// highest value first.
    LeaderRanks {
        ranks: Vec<(EntityId, usize)>,
        best_rank: usize,
        mean_rank: f64,
        persons: usize,
    },
    /// Output::MergeProposals against the planted duplicate pairs.
    EntityResolution {
        precision: f64,
        recall: f64,
        f1: f64,
        proposed: usize,
        planted: usize,
        true_positives: usize,
    },
    /// Output::Alerts of kind "burst" against the planted burst.
    BurstDetection {
        detected: bool,
        /// From the start of the planted burst to the start of the first alert overlapping it
        /// (0 when the alert starts earlier).
        delay_ms: Option<i64>,
        burst_alerts: usize,
        false_alerts: usize,
    },
    /// Output::Alerts of kind "phone-swap" against the planted phone swaps: precision and
    /// recall of the (old phone, new phone) pairs, in that order.
    PhoneSwaps {
        precision: f64,
        recall: f64,
        f1: f64,
        proposed: usize,
        planted: usize,
        true_positives: usize,
        /// Share of the proposed pairs whose two phones the truth gives to one person: that
        /// also counts the burner rotations the generator plants for the group (a person
        /// dropping a phone for a new one every few weeks), which are real swaps of the
        /// pattern even though the truth lists only the swaps after the incident.
        same_person_precision: f64,
        /// Planted hand-overs (one phone passing between people) whose phone an alert names;
        /// a hand-over is a different pattern, shown for information.
        handover_phones_named: usize,
        handovers: usize,
    },
    /// An output kind the truth says nothing about.
    NotScorable { output: String, reason: String },
}

/// Normalised mutual information of two labelings of the same items (arithmetic-mean
/// normalisation: 2·I / (H(a) + H(b))). 1 for identical partitions up to renaming, near 0
/// for independent ones; two single-block partitions count as identical.
pub fn nmi(a: &[u32], b: &[u32]) -> f64 {
    assert_eq!(
        a.len(),
        b.len(),
        "nmi needs two labelings of the same items"
    );
    let n = a.len() as f64;
    if a.is_empty() {
        return 1.0;
    }
    let mut ca: BTreeMap<u32, f64> = BTreeMap::new();
    let mut cb: BTreeMap<u32, f64> = BTreeMap::new();
    let mut cab: BTreeMap<(u32, u32), f64> = BTreeMap::new();
    for (&x, &y) in a.iter().zip(b) {
        *ca.entry(x).or_default() += 1.0;
        *cb.entry(y).or_default() += 1.0;
        *cab.entry((x, y)).or_default() += 1.0;
    }
    let entropy =
        |c: &BTreeMap<u32, f64>| -> f64 { c.values().map(|&k| -(k / n) * (k / n).ln()).sum() };
    let (ha, hb) = (entropy(&ca), entropy(&cb));
    let mut mi = 0.0;
    for (&(x, y), &k) in &cab {
        let pxy = k / n;
        mi += pxy * (pxy / ((ca[&x] / n) * (cb[&y] / n))).ln();
    }
    if ha + hb <= f64::EPSILON {
        return 1.0;
    }
    (2.0 * mi / (ha + hb)).clamp(0.0, 1.0)
}

/// 1-based ranks of `targets` among `values` (highest first; ties share the best rank).
/// A target without a value ranks last.
pub fn ranks(values: &[(EntityId, f64)], targets: &[EntityId]) -> Vec<(EntityId, usize)> {
    let lookup: BTreeMap<EntityId, f64> = values.iter().copied().collect();
    targets
        .iter()
        .map(|t| {
            let rank = match lookup.get(t) {
                Some(&v) => 1 + values.iter().filter(|(_, x)| *x > v).count(),
                None => values.len() + 1,
            };
            (*t, rank)
        })
        .collect()
}

/// Precision, recall and F1 of proposed unordered pairs against true pairs.
pub fn precision_recall_f1(
    proposed: &[(EntityId, EntityId)],
    truth: &[(EntityId, EntityId)],
) -> (f64, f64, f64, usize) {
    let norm = |&(a, b): &(EntityId, EntityId)| if a <= b { (a, b) } else { (b, a) };
    let p: BTreeSet<_> = proposed.iter().map(norm).collect();
    let t: BTreeSet<_> = truth.iter().map(norm).collect();
    let tp = p.intersection(&t).count();
    let precision = if p.is_empty() {
        0.0
    } else {
        tp as f64 / p.len() as f64
    };
    let recall = if t.is_empty() {
        0.0
    } else {
        tp as f64 / t.len() as f64
    };
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    (precision, recall, f1, tp)
}

/// Precision, recall and F1 of proposed ordered pairs against true ones.
pub fn ordered_precision_recall(
    proposed: &BTreeSet<(EntityId, EntityId)>,
    truth: &BTreeSet<(EntityId, EntityId)>,
) -> (f64, f64, f64, usize) {
    let tp = proposed.intersection(truth).count();
    let precision = if proposed.is_empty() {
        0.0
    } else {
        tp as f64 / proposed.len() as f64
    };
    let recall = if truth.is_empty() {
        0.0
    } else {
        tp as f64 / truth.len() as f64
    };
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    (precision, recall, f1, tp)
}

/// The delay from `burst_start` to the first alert (start, end) overlapping the burst window
/// `[burst_start, burst_end]`, or `None` when no alert does; and how many alerts do.
pub fn detection_delay(
    alerts: &[(i64, i64)],
    burst_start: i64,
    burst_end: i64,
) -> (Option<i64>, usize) {
    let hits: Vec<i64> = alerts
        .iter()
        .filter(|(s, e)| *s <= burst_end && *e >= burst_start)
        .map(|(s, _)| *s)
        .collect();
    let delay = hits.iter().min().map(|s| (s - burst_start).max(0));
    (delay, hits.len())
}

/// Scores a component's output against the truth.
pub fn score_output(output: &Output, truth: &Truth, case: &CaseSnapshot) -> Score {
    match output {
        Output::Communities { assignment, .. } => {
            let found: BTreeMap<EntityId, u32> = assignment.iter().copied().collect();
            let (mut planted, mut got) = (Vec::new(), Vec::new());
            for (k, m) in truth.members.iter().enumerate() {
                if let Some(cell) = m.cell {
                    planted.push(cell);
                    // Members the component left out each form their own group.
                    got.push(found.get(&m.entity).copied().unwrap_or(u32::MAX - k as u32));
                }
            }
            Score::Communities {
                nmi: nmi(&planted, &got),
                members: planted.len(),
                cells: planted.iter().collect::<BTreeSet<_>>().len(),
                communities: got.iter().collect::<BTreeSet<_>>().len(),
            }
        }
        Output::EntityValues { values } => {
            let persons: Vec<(EntityId, f64)> = values
                .iter()
                .copied()
                .filter(|(id, _)| case.entity(*id).is_some_and(|e| e.entity_type == "Person"))
                .collect();
            let ranks = ranks(&persons, &truth.leaders);
            let best_rank = ranks.iter().map(|r| r.1).min().unwrap_or(0);
            let mean_rank = if ranks.is_empty() {
                0.0
            } else {
                ranks.iter().map(|r| r.1 as f64).sum::<f64>() / ranks.len() as f64
            };
            Score::LeaderRanks {
                ranks,
                best_rank,
                mean_rank,
                persons: persons.len(),
            }
        }
        Output::MergeProposals { proposals } => {
            let proposed: Vec<_> = proposals.iter().map(|p| (p.keep, p.duplicate)).collect();
            let planted: Vec<_> = truth
                .duplicates
                .iter()
                .map(|d| (d.original, d.duplicate))
                .collect();
            let (precision, recall, f1, true_positives) = precision_recall_f1(&proposed, &planted);
            Score::EntityResolution {
                precision,
                recall,
                f1,
                proposed: proposed.len(),
                planted: planted.len(),
                true_positives,
            }
        }
        Output::Alerts { alerts }
            if alerts.iter().any(|a| a.kind == "phone-swap")
                && !alerts.iter().any(|a| a.kind == "burst") =>
        {
            let proposed: BTreeSet<(EntityId, EntityId)> = alerts
                .iter()
                .filter(|a| a.kind == "phone-swap" && a.entities.len() == 2)
                .map(|a| (a.entities[0], a.entities[1]))
                .collect();
            let planted: BTreeSet<(EntityId, EntityId)> = truth
                .phone_swaps
                .iter()
                .map(|s| (s.old_phone, s.new_phone))
                .collect();
            let (precision, recall, f1, true_positives) =
                ordered_precision_recall(&proposed, &planted);
            let named: BTreeSet<EntityId> =
                alerts.iter().flat_map(|a| a.entities.clone()).collect();
            let same_person = proposed
                .iter()
                .filter(|(old, new)| {
                    truth
                        .members
                        .iter()
                        .any(|m| m.phones.contains(old) && m.phones.contains(new))
                })
                .count();
            Score::PhoneSwaps {
                precision,
                recall,
                f1,
                proposed: proposed.len(),
                planted: planted.len(),
                true_positives,
                same_person_precision: if proposed.is_empty() {
                    0.0
                } else {
                    same_person as f64 / proposed.len() as f64
                },
                handover_phones_named: truth
                    .handovers
                    .iter()
                    .filter(|h| named.contains(&h.phone))
                    .count(),
                handovers: truth.handovers.len(),
            }
        }
        Output::Alerts { alerts }
            if !alerts.is_empty() && !alerts.iter().any(|a| a.kind == "burst") =>
        {
            let kinds: BTreeSet<&str> = alerts.iter().map(|a| a.kind.as_str()).collect();
            Score::NotScorable {
                output: "alerts".into(),
                reason: format!(
                    "the planted truth has no answer for alerts of kind {} (scored: burst and \
                     phone-swap alerts)",
                    kinds.into_iter().collect::<Vec<_>>().join(", ")
                ),
            }
        }
        Output::Alerts { alerts } => {
            let bursts: Vec<(i64, i64)> = alerts
                .iter()
                .filter(|a| a.kind == "burst")
                .map(|a| (a.start_ms, a.end_ms))
                .collect();
            let (delay, hits) = detection_delay(&bursts, truth.burst.start_ms, truth.burst.end_ms);
            Score::BurstDetection {
                detected: delay.is_some(),
                delay_ms: delay,
                burst_alerts: hits,
                false_alerts: bursts.len() - hits,
            }
        }
        other => {
            let kind = serde_json::to_value(other)
                .ok()
                .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string))
                .unwrap_or_default();
            Score::NotScorable {
                output: kind,
                reason: "the planted truth has no answer for this kind of output (scored: \
                         communities, entity values, merge proposals, burst and phone-swap \
                         alerts)"
                    .into(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nmi_of_identical_partitions_is_one_even_when_renamed() {
        let a = [0, 0, 1, 1, 2, 2, 2];
        let b = [5, 5, 9, 9, 1, 1, 1];
        assert!((nmi(&a, &b) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn nmi_of_independent_partitions_is_near_zero() {
        // Every block of `a` meets every block of `b` equally.
        let a: Vec<u32> = (0..400).map(|i| i % 4).collect();
        let b: Vec<u32> = (0..400).map(|i| (i / 4) % 5).collect();
        assert!(nmi(&a, &b) < 1e-9, "{}", nmi(&a, &b));
    }

    #[test]
    fn nmi_of_a_partly_right_partition_is_between() {
        let a = [0, 0, 0, 1, 1, 1];
        let b = [0, 0, 1, 1, 1, 1];
        let v = nmi(&a, &b);
        assert!(v > 0.1 && v < 0.9, "{v}");
        assert!((nmi(&[3, 3], &[1, 1]) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn ranks_count_strictly_greater_values_and_missing_is_last() {
        let v = vec![
            (EntityId(1), 5.0),
            (EntityId(2), 9.0),
            (EntityId(3), 5.0),
            (EntityId(4), 1.0),
        ];
        let r = ranks(&v, &[EntityId(2), EntityId(3), EntityId(1), EntityId(9)]);
        assert_eq!(
            r,
            vec![
                (EntityId(2), 1),
                (EntityId(3), 2),
                (EntityId(1), 2),
                (EntityId(9), 5)
            ]
        );
    }

    #[test]
    fn precision_and_recall_ignore_pair_order() {
        let e = EntityId;
        let truth = [(e(1), e(2)), (e(3), e(4))];
        let proposed = [(e(2), e(1)), (e(5), e(6))];
        let (p, r, f1, tp) = precision_recall_f1(&proposed, &truth);
        assert_eq!(tp, 1);
        assert!((p - 0.5).abs() < 1e-12 && (r - 0.5).abs() < 1e-12 && (f1 - 0.5).abs() < 1e-12);
        let (p, r, f1, _) = precision_recall_f1(&[], &truth);
        assert_eq!((p, r, f1), (0.0, 0.0, 0.0));
    }

    #[test]
    fn ordered_pairs_respect_direction() {
        let e = EntityId;
        let truth: BTreeSet<_> = [(e(1), e(2)), (e(3), e(4))].into();
        let proposed: BTreeSet<_> = [(e(1), e(2)), (e(4), e(3))].into();
        let (p, r, _, tp) = ordered_precision_recall(&proposed, &truth);
        assert_eq!(tp, 1);
        assert!((p - 0.5).abs() < 1e-12 && (r - 0.5).abs() < 1e-12);
    }

    #[test]
    fn detection_delay_measures_from_the_burst_start() {
        assert_eq!(detection_delay(&[(150, 200)], 100, 400), (Some(50), 1));
        assert_eq!(detection_delay(&[(50, 120)], 100, 400), (Some(0), 1));
        assert_eq!(detection_delay(&[(500, 600)], 100, 400), (None, 0));
    }
}
