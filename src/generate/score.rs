//! Scoring analysis components against a generated case's planted truth. Dispatch is on the
//! kind of output, never on the component's name, so components added later are scored
//! without changes here: communities by normalised mutual information with the planted
//! cells, centralities by the rank of the planted leaders, entity resolution by precision and
//! recall over the planted duplicate pairs, burst alerts by precision (alerts naming a planted
//! burst phone or person during the burst) and recall (the planted burst flagged) with the
//! delay after it began, phone-swap alerts by precision and recall over the planted (old, new)
//! phone pairs, hand-over alerts over the planted (phone, from, to) triples, co-location alerts
//! over the pairs seen together at the planted meetings. Alerts are dispatched on their kind;
//! an empty list of alerts is scored as burst detection (it carries no kind).

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
    /// Output::Alerts of kind "burst" against the planted burst. An alert is right when it
    /// names a phone or person of the burst and overlaps its time.
    BurstDetection {
        /// Right alerts among all burst alerts (0 when there are none).
        precision: f64,
        /// Planted bursts flagged (a case plants one: 1 or 0).
        recall: f64,
        detected: bool,
        /// From the start of the planted burst to the start of the first right alert (0 when
        /// the alert starts earlier).
        delay_ms: Option<i64>,
        burst_alerts: usize,
        false_alerts: usize,
        /// Share of the burst's phones that a right alert names (a phone new just before or
        /// during the burst has no baseline to stand out from).
        phone_recall: f64,
        planted_phones: usize,
    },
    /// Output::Alerts of kind "phone-swap" against the planted phone swaps: precision and
    /// recall of the (old phone, new phone) pairs, in that order. The truth lists every swap:
    /// the burner rotations of the group and the swaps after the incident.
    PhoneSwaps {
        precision: f64,
        recall: f64,
        f1: f64,
        proposed: usize,
        planted: usize,
        true_positives: usize,
        /// Recall over the swaps after the incident alone.
        after_incident_recall: f64,
        /// Share of the proposed pairs whose two phones the truth gives to one person.
        same_person_precision: f64,
        /// Proposed pairs involving a phone of a planted hand-over (a hand-over taken for a
        /// swap).
        handover_confusions: usize,
    },
    /// Output::Alerts of kind "handover" (entities: item, from, to) against the planted
    /// hand-overs: precision and recall of the (phone, from, to) triples.
    Handovers {
        precision: f64,
        recall: f64,
        f1: f64,
        proposed: usize,
        planted: usize,
        true_positives: usize,
        /// Proposed hand-overs of a planted hand-over's phone, whoever they name.
        phone_right: usize,
    },
    /// Output::Alerts of kind "co-location" against the planted meetings. A proposed pair is
    /// right when the two were seen together at a planted meeting (both named in its
    /// surveillance report, or both cars read on the way to it); the pairs to find are those
    /// seen together at two meetings or more (once is an encounter, not a pattern).
    CoLocation {
        precision: f64,
        recall: f64,
        f1: f64,
        proposed: usize,
        planted: usize,
        true_positives: usize,
        /// Proposed pairs seen together at exactly one planted meeting (right, but not
        /// counted for recall).
        right_once: usize,
        meetings: usize,
    },
    /// Output::Mentions against the mentions planted in the generated documents, per kind.
    /// A proposal is right when it lies in a generated document, has the planted kind and
    /// overlaps the planted span (and, for people, names the planted person or one of the
    /// records-system duplicates of that person). Only the planted kinds are counted.
    Mentions {
        kinds: Vec<MentionKindScore>,
        /// Phones, plates and IBANs together.
        identifiers: MentionKindScore,
        /// People known to the case.
        names: MentionKindScore,
        documents: usize,
    },
    /// An output kind the truth says nothing about.
    NotScorable { output: String, reason: String },
}

/// Precision, recall and F1 of one kind of mention.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MentionKindScore {
    pub kind: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub proposed: usize,
    pub planted: usize,
    pub true_positives: usize,
}

/// The kinds planted in generated documents.
const PLANTED_KINDS: [&str; 6] = ["person", "phone", "plate", "iban", "date", "amount"];

fn score_mentions(mentions: &[crate::analysis::mentions::LocatedMention], truth: &Truth) -> Score {
    use std::collections::BTreeMap;
    // Each person and the duplicate records of that person count as one.
    let mut same_person: BTreeMap<EntityId, BTreeSet<EntityId>> = BTreeMap::new();
    for d in &truth.duplicates {
        same_person
            .entry(d.original)
            .or_default()
            .insert(d.duplicate);
        same_person
            .entry(d.duplicate)
            .or_default()
            .insert(d.original);
    }
    let planted: BTreeMap<EntityId, &Vec<crate::generate::truth::PlantedMention>> = truth
        .documents
        .iter()
        .map(|d| (d.document, &d.mentions))
        .collect();
    // (kind) → (proposed, planted, true positives)
    let mut counts: BTreeMap<&str, (usize, usize, usize)> =
        PLANTED_KINDS.iter().map(|k| (*k, (0, 0, 0))).collect();
    for list in planted.values() {
        for m in list.iter() {
            if let Some(c) = counts.get_mut(m.kind.as_str()) {
                c.1 += 1;
            }
        }
    }
    let mut found: BTreeSet<(EntityId, usize)> = BTreeSet::new();
    for m in mentions {
        let kind = m.mention.kind.key();
        let Some(list) = planted.get(&m.document) else {
            continue;
        };
        let Some(c) = counts.get_mut(kind) else {
            continue;
        };
        c.0 += 1;
        let hit = list.iter().enumerate().find(|(_, p)| {
            p.kind == kind
                && m.mention.start < p.end
                && p.start < m.mention.end
                && (kind != "person"
                    || m.mention.entity.is_some_and(|e| {
                        Some(e) == p.entity
                            || p.entity
                                .and_then(|pe| same_person.get(&pe))
                                .is_some_and(|s| s.contains(&e))
                    }))
        });
        if let Some((i, _)) = hit
            && found.insert((m.document, i))
        {
            c.2 += 1;
        }
    }
    let score = |kind: &str, (proposed, planted, tp): (usize, usize, usize)| {
        let precision = ratio(tp, proposed);
        let recall = ratio(tp, planted);
        MentionKindScore {
            kind: kind.to_string(),
            precision,
            recall,
            f1: if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            },
            proposed,
            planted,
            true_positives: tp,
        }
    };
    let sum = |kinds: &[&str]| {
        kinds.iter().fold((0, 0, 0), |acc, k| {
            let c = counts.get(k).copied().unwrap_or((0, 0, 0));
            (acc.0 + c.0, acc.1 + c.1, acc.2 + c.2)
        })
    };
    Score::Mentions {
        identifiers: score("identifiers", sum(&["phone", "plate", "iban"])),
        names: score("names", sum(&["person"])),
        kinds: counts.iter().map(|(k, c)| score(k, *c)).collect(),
        documents: planted.len(),
    }
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
        Output::Alerts { alerts } => score_alerts(alerts, truth),
        Output::Mentions { mentions } => score_mentions(mentions, truth),
        other => {
            let kind = serde_json::to_value(other)
                .ok()
                .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string))
                .unwrap_or_default();
            Score::NotScorable {
                output: kind,
                reason: "the planted truth has no answer for this kind of output (scored: \
                         communities, entity values, merge proposals, burst, phone-swap, \
                         handover and co-location alerts)"
                    .into(),
            }
        }
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Alerts by kind: burst (also an empty list), handover, phone-swap, co-location.
fn score_alerts(alerts: &[crate::analysis::Alert], truth: &Truth) -> Score {
    let has = |kind: &str| alerts.iter().any(|a| a.kind == kind);
    if alerts.is_empty() || has("burst") {
        return score_bursts(alerts, truth);
    }
    if has("handover") {
        return score_handovers(alerts, truth);
    }
    if has("phone-swap") {
        return score_swaps(alerts, truth);
    }
    if has("co-location") {
        return score_co_location(alerts, truth);
    }
    let kinds: BTreeSet<&str> = alerts.iter().map(|a| a.kind.as_str()).collect();
    Score::NotScorable {
        output: "alerts".into(),
        reason: format!(
            "the planted truth has no answer for alerts of kind {} (scored: burst, phone-swap, \
             handover and co-location alerts)",
            kinds.into_iter().collect::<Vec<_>>().join(", ")
        ),
    }
}

fn score_bursts(alerts: &[crate::analysis::Alert], truth: &Truth) -> Score {
    // Right alerts may name a phone or a person of the burst; recall is over the phones, in
    // whose calls the burst is planted.
    let phones: BTreeSet<EntityId> = truth.burst.phones.iter().copied().collect();
    let planted: BTreeSet<EntityId> = phones.iter().chain(&truth.burst.persons).copied().collect();
    let bursts: Vec<&crate::analysis::Alert> =
        alerts.iter().filter(|a| a.kind == "burst").collect();
    let right: Vec<&&crate::analysis::Alert> = bursts
        .iter()
        .filter(|a| {
            a.start_ms <= truth.burst.end_ms
                && a.end_ms >= truth.burst.start_ms
                && a.entities.iter().any(|e| planted.contains(e))
        })
        .collect();
    let spans: Vec<(i64, i64)> = right.iter().map(|a| (a.start_ms, a.end_ms)).collect();
    let (delay, _) = detection_delay(&spans, truth.burst.start_ms, truth.burst.end_ms);
    let named: BTreeSet<EntityId> = right
        .iter()
        .flat_map(|a| a.entities.iter().copied())
        .filter(|e| phones.contains(e))
        .collect();
    Score::BurstDetection {
        precision: ratio(right.len(), bursts.len()),
        recall: if delay.is_some() { 1.0 } else { 0.0 },
        detected: delay.is_some(),
        delay_ms: delay,
        burst_alerts: right.len(),
        false_alerts: bursts.len() - right.len(),
        phone_recall: ratio(named.len(), phones.len()),
        planted_phones: phones.len(),
    }
}

fn score_swaps(alerts: &[crate::analysis::Alert], truth: &Truth) -> Score {
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
    let (precision, recall, f1, true_positives) = ordered_precision_recall(&proposed, &planted);
    let after: BTreeSet<(EntityId, EntityId)> = truth
        .phone_swaps
        .iter()
        .filter(|s| s.reason.is_empty() || s.reason == "after the incident")
        .map(|s| (s.old_phone, s.new_phone))
        .collect();
    let same_person = proposed
        .iter()
        .filter(|(old, new)| {
            truth
                .members
                .iter()
                .any(|m| m.phones.contains(old) && m.phones.contains(new))
        })
        .count();
    let handover_phones: BTreeSet<EntityId> = truth.handovers.iter().map(|h| h.phone).collect();
    Score::PhoneSwaps {
        precision,
        recall,
        f1,
        proposed: proposed.len(),
        planted: planted.len(),
        true_positives,
        after_incident_recall: ratio(proposed.intersection(&after).count(), after.len()),
        same_person_precision: ratio(same_person, proposed.len()),
        handover_confusions: proposed
            .iter()
            .filter(|(a, b)| handover_phones.contains(a) || handover_phones.contains(b))
            .count(),
    }
}

fn score_handovers(alerts: &[crate::analysis::Alert], truth: &Truth) -> Score {
    let proposed: BTreeSet<(EntityId, EntityId, EntityId)> = alerts
        .iter()
        .filter(|a| a.kind == "handover" && a.entities.len() >= 3)
        .map(|a| (a.entities[0], a.entities[1], a.entities[2]))
        .collect();
    let planted: BTreeSet<(EntityId, EntityId, EntityId)> = truth
        .handovers
        .iter()
        .map(|h| (h.phone, h.from, h.to))
        .collect();
    let true_positives = proposed.intersection(&planted).count();
    let (precision, recall) = (
        ratio(true_positives, proposed.len()),
        ratio(true_positives, planted.len()),
    );
    let phones: BTreeSet<EntityId> = planted.iter().map(|t| t.0).collect();
    Score::Handovers {
        precision,
        recall,
        f1: f1_of(precision, recall),
        proposed: proposed.len(),
        planted: planted.len(),
        true_positives,
        phone_right: proposed.iter().filter(|t| phones.contains(&t.0)).count(),
    }
}

fn f1_of(precision: f64, recall: f64) -> f64 {
    if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    }
}

/// Unordered pairs seen together at the planted meetings, with how many meetings each.
pub fn meeting_pairs(truth: &Truth) -> BTreeMap<(EntityId, EntityId), usize> {
    let mut pairs: BTreeMap<(EntityId, EntityId), usize> = BTreeMap::new();
    for m in &truth.meetings {
        for group in [&m.persons_reported, &m.vehicles_read] {
            let mut seen: Vec<EntityId> = group.clone();
            seen.sort_unstable();
            seen.dedup();
            for (i, &a) in seen.iter().enumerate() {
                for &b in &seen[i + 1..] {
                    *pairs.entry((a, b)).or_insert(0) += 1;
                }
            }
        }
    }
    pairs
}

fn score_co_location(alerts: &[crate::analysis::Alert], truth: &Truth) -> Score {
    let together = meeting_pairs(truth);
    let proposed: BTreeSet<(EntityId, EntityId)> = alerts
        .iter()
        .filter(|a| a.kind == "co-location" && a.entities.len() == 2)
        .map(|a| {
            let (x, y) = (a.entities[0], a.entities[1]);
            if x <= y { (x, y) } else { (y, x) }
        })
        .collect();
    let planted: BTreeSet<(EntityId, EntityId)> = together
        .iter()
        .filter(|(_, n)| **n >= 2)
        .map(|(p, _)| *p)
        .collect();
    let right = proposed.iter().filter(|p| together.contains_key(p)).count();
    let true_positives = proposed.intersection(&planted).count();
    let (precision, recall) = (
        ratio(right, proposed.len()),
        ratio(true_positives, planted.len()),
    );
    Score::CoLocation {
        precision,
        recall,
        f1: f1_of(precision, recall),
        proposed: proposed.len(),
        planted: planted.len(),
        true_positives,
        right_once: right - true_positives,
        meetings: truth.meetings.len(),
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
