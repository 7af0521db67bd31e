//! Contact patterns over events: phone swaps (a new number taking over an old number's
//! contacts: one person, a new number), hand-overs (one number or account passing from one
//! person to another: one item, a new holder) and co-location (entities seen at the same place
//! within a time window). All report `Output::Alerts` that name the entities and explain
//! themselves in the description.
//!
//! Swaps and hand-overs are told apart by who holds what: attribution links ("uses", "owns",
//! dated by startDate / endDate) say which person held an item when. A swap candidate whose
//! two numbers are attributed to different people and to no one in common is two people, not
//! a swap, and is dropped; a hand-over needs one item attributed to two people one after the
//! other.

use super::simple::check_every;
use super::{
    Alert, AnalysisError, AnalysisInput, Component, GRADE_PARAM, Output, ParamKind, ParamSpec,
    Params,
};
use crate::jobs::{CancelToken, Progress};
use crate::model::{EntityId, Event, ParticipantRole};
use crate::store::CaseSnapshot;
use std::collections::{BTreeMap, BTreeSet, HashMap};

const DAY_MS: i64 = 86_400_000;

/// The events a pattern or temporal component looks at: not restricted, of the requested
/// type, meeting the grade threshold.
pub(super) fn usable_events<'a>(
    case: &'a CaseSnapshot,
    params: &Params,
    cancel: &CancelToken,
) -> Result<Vec<&'a Event>, AnalysisError> {
    let event_type = params.get_str("event_type");
    let threshold = params.get_grade(case)?;
    let scheme = match &threshold {
        Some(t) => Some(case.scheme(&t.scheme).ok_or_else(|| {
            AnalysisError::Failed(format!("grading scheme '{}' is not in the case", t.scheme))
        })?),
        None => None,
    };
    let mut out = Vec::new();
    for (i, ev) in case.events.iter().enumerate() {
        check_every(cancel, i, 4096)?;
        if ev.restricted || event_type.is_some_and(|t| t != ev.event_type) {
            continue;
        }
        if let (Some(s), Some(t)) = (scheme, &threshold)
            && !s.meets(ev.grading.as_ref(), t)
        {
            continue;
        }
        out.push(ev);
    }
    Ok(out)
}

fn usable_entity(case: &CaseSnapshot, id: EntityId) -> bool {
    case.entity(id).is_some_and(|e| !e.restricted)
}

fn day_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| ms.to_string())
}

fn minute_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// Activity of one entity in communication events.
#[derive(Debug, Default, Clone)]
struct Activity {
    first_ms: i64,
    last_ms: i64,
    contacts: BTreeSet<EntityId>,
    /// (time, contact), sorted by time.
    timeline: Vec<(i64, EntityId)>,
}

impl Activity {
    /// Contacts in the last `lookback_ms` of use (`at_end`) or the first (`!at_end`): an old
    /// number used for months is compared by its last weeks, a new one by its first, so that
    /// contacts long gone do not dilute the overlap.
    fn contacts_near(&self, at_end: bool, lookback_ms: i64) -> BTreeSet<EntityId> {
        self.timeline
            .iter()
            .filter(|(t, _)| {
                if at_end {
                    *t >= self.last_ms.saturating_sub(lookback_ms)
                } else {
                    *t <= self.first_ms.saturating_add(lookback_ms)
                }
            })
            .map(|(_, c)| *c)
            .collect()
    }
}

fn jaccard(a: &BTreeSet<EntityId>, b: &BTreeSet<EntityId>) -> (f64, usize) {
    let shared = a.intersection(b).count();
    let union = a.len() + b.len() - shared;
    if union == 0 {
        (0.0, 0)
    } else {
        (shared as f64 / union as f64, shared)
    }
}

/// A swap found: old, new, Jaccard, contacts shared, contacts together.
type Swap = (EntityId, EntityId, f64, usize, usize);

/// Finds swaps: pairs (old, new) where `old` falls silent for good, `new` is first active
/// within `window_ms` of that (or up to `window_ms` before, for an overlap of a few days), and
/// their contact sets (the old one's last `lookback_ms` of use, the new one's first) overlap
/// with Jaccard ≥ `min_jaccard`. Contacts that swapped themselves
/// are counted as one: when a whole group changes phones together, the new phone calls the
/// group's new numbers, which the first pass finds, and a second pass reads every detected
/// old number as its new one.
#[allow(clippy::too_many_arguments)] // reason: the parameters of one algorithm, named at the call
fn find_swaps(
    activity: &BTreeMap<EntityId, Activity>,
    case_start: i64,
    case_end: i64,
    window_ms: i64,
    quiet_ms: i64,
    min_jaccard: f64,
    min_contacts: usize,
    lookback_ms: i64,
    cancel: &CancelToken,
) -> Result<Vec<Swap>, AnalysisError> {
    // Who was in contact with whom: the candidates for `new` are found through shared contacts
    // only, so the search costs the sum of degree products, not all pairs.
    let mut by_contact: HashMap<EntityId, Vec<EntityId>> = HashMap::new();
    for (&e, a) in activity {
        for &c in &a.contacts {
            by_contact.entry(c).or_default().push(e);
        }
    }
    let olds: Vec<EntityId> = activity
        .iter()
        .filter(|(_, a)| {
            a.last_ms <= case_end.saturating_sub(quiet_ms) && a.contacts.len() >= min_contacts
        })
        .map(|(&e, _)| e)
        .collect();
    let mut renamed: HashMap<EntityId, EntityId> = HashMap::new();
    let mut result = Vec::new();
    // A few passes: each reads the swaps the previous one found as renamed contacts, until
    // nothing changes.
    for _pass in 0..4 {
        let previous = std::mem::take(&mut result);
        let canon = |set: &BTreeSet<EntityId>| -> BTreeSet<EntityId> {
            set.iter().map(|c| *renamed.get(c).unwrap_or(c)).collect()
        };
        for (i, &old) in olds.iter().enumerate() {
            check_every(cancel, i, 256)?;
            let a = &activity[&old];
            let mut candidates: BTreeSet<EntityId> = BTreeSet::new();
            for c in &a.contacts {
                for &n in by_contact.get(c).into_iter().flatten() {
                    if n == old {
                        continue;
                    }
                    let b = &activity[&n];
                    // New: first seen near the old one's end, well after the case began,
                    // and still in use after the old one stopped.
                    if b.first_ms >= a.last_ms.saturating_sub(window_ms)
                        && b.first_ms <= a.last_ms.saturating_add(window_ms)
                        && b.first_ms > a.first_ms
                        && b.first_ms >= case_start.saturating_add(quiet_ms)
                        && b.last_ms > a.last_ms
                        && b.contacts.len() >= min_contacts
                    {
                        candidates.insert(n);
                    }
                }
                // Contacts that swapped: their new number is a contact of the new phone.
                if let Some(new_c) = renamed.get(c) {
                    for &n in by_contact.get(new_c).into_iter().flatten() {
                        let b = &activity[&n];
                        if n != old
                            && b.first_ms >= a.last_ms.saturating_sub(window_ms)
                            && b.first_ms <= a.last_ms.saturating_add(window_ms)
                            && b.first_ms > a.first_ms
                            && b.first_ms >= case_start.saturating_add(quiet_ms)
                            && b.last_ms > a.last_ms
                            && b.contacts.len() >= min_contacts
                        {
                            candidates.insert(n);
                        }
                    }
                }
            }
            let ca = canon(&a.contacts_near(true, lookback_ms));
            let mut best: Option<(f64, EntityId, usize, usize)> = None;
            for n in candidates {
                let b = &activity[&n];
                let mut cb = canon(&b.contacts_near(false, lookback_ms));
                cb.remove(&old);
                let mut ca = ca.clone();
                ca.remove(&n);
                let (j, shared) = jaccard(&ca, &cb);
                if j >= min_jaccard && best.is_none_or(|x| j > x.0) {
                    best = Some((j, n, shared, ca.len() + cb.len() - shared));
                }
            }
            if let Some((j, n, shared, of)) = best {
                result.push((old, n, j, shared, of));
            }
        }
        let same = previous.len() == result.len()
            && previous
                .iter()
                .zip(&result)
                .all(|(a, b)| a.0 == b.0 && a.1 == b.1);
        if same {
            break;
        }
        renamed = result.iter().map(|r| (r.0, r.1)).collect();
    }
    Ok(result)
}

pub struct PhoneSwaps;

const SWAP_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "types",
        kind: ParamKind::Text,
        default: Some("Phone"),
        help: "comma-separated entity types that can swap (numbers, accounts)",
    },
    ParamSpec {
        name: "window_days",
        kind: ParamKind::Int,
        default: Some("14"),
        help: "the new number first appears at most this many days from the old one's last use",
    },
    ParamSpec {
        name: "min_jaccard",
        kind: ParamKind::Float,
        default: Some("0.25"),
        help: "share of contacts in common (Jaccard, 0..1) needed to report a swap",
    },
    ParamSpec {
        name: "min_contacts",
        kind: ParamKind::Int,
        default: Some("3"),
        help: "ignore numbers with fewer distinct contacts than this",
    },
    ParamSpec {
        name: "lookback_days",
        kind: ParamKind::Int,
        default: Some("14"),
        help: "compare the old number's contacts in its last this-many days of use with the \
               new number's in its first",
    },
    ParamSpec {
        name: "quiet_days",
        kind: ParamKind::Int,
        default: Some("7"),
        help: "the old number is silent at least this long before the last event of the case",
    },
    ParamSpec {
        name: "event_type",
        kind: ParamKind::Text,
        default: None,
        help: "only use events of this type (default: every event with two or more parties)",
    },
    ParamSpec {
        name: "attribution",
        kind: ParamKind::Bool,
        default: Some("true"),
        help: "drop a candidate whose two numbers 'uses'/'owns' links give to different \
               people (a hand-over or two people, not a swap)",
    },
    GRADE_PARAM,
];

impl Component for PhoneSwaps {
    fn name(&self) -> &'static str {
        "phone-swaps"
    }
    fn summary(&self) -> &'static str {
        "a new number taking over an old number's contacts after the old one falls silent"
    }
    fn params(&self) -> &'static [ParamSpec] {
        SWAP_PARAMS
    }
    fn run_on(
        &self,
        input: &AnalysisInput<'_>,
        params: &Params,
        cancel: &CancelToken,
        progress: &dyn Progress,
    ) -> Result<Output, AnalysisError> {
        let case = input.snapshot()?;
        let window_days = params.get_u64("window_days", 14)?;
        let min_jaccard = params.get_f64("min_jaccard", 0.25)?;
        if !(0.0..=1.0).contains(&min_jaccard) {
            return Err(AnalysisError::BadParam {
                name: "min_jaccard".into(),
                reason: format!("must be between 0 and 1, not {min_jaccard}"),
            });
        }
        let min_contacts = params.get_usize("min_contacts", 3)?.max(1);
        let quiet_days = params.get_u64("quiet_days", 7)?;
        let lookback_days = params.get_u64("lookback_days", 14)?;
        for (name, v) in [
            ("window_days", window_days),
            ("quiet_days", quiet_days),
            ("lookback_days", lookback_days),
        ] {
            if v > 3650 {
                return Err(AnalysisError::BadParam {
                    name: name.into(),
                    reason: format!("must be at most 3650 days, not {v}"),
                });
            }
        }
        if lookback_days == 0 {
            return Err(AnalysisError::BadParam {
                name: "lookback_days".into(),
                reason: "must be at least 1".into(),
            });
        }
        let types = params.get_list("types", "Phone")?;
        let events = usable_events(case, params, cancel)?;
        let mut activity: BTreeMap<EntityId, Activity> = BTreeMap::new();
        let (mut start, mut end) = (i64::MAX, i64::MIN);
        for (i, ev) in events.iter().enumerate() {
            check_every(cancel, i, 4096)?;
            let parties: Vec<EntityId> = ev
                .participants
                .iter()
                .filter(|p| p.role != ParticipantRole::Location)
                .map(|p| p.entity)
                .filter(|&e| {
                    case.entity(e)
                        .is_some_and(|x| !x.restricted && types.contains(&x.entity_type.as_str()))
                })
                .collect();
            if parties.len() < 2 {
                continue;
            }
            let t = ev.time.start_ms;
            start = start.min(t);
            end = end.max(t);
            for &p in &parties {
                let a = activity.entry(p).or_insert_with(|| Activity {
                    first_ms: t,
                    last_ms: t,
                    ..Activity::default()
                });
                a.first_ms = a.first_ms.min(t);
                a.last_ms = a.last_ms.max(t);
                for &q in &parties {
                    if q != p {
                        a.contacts.insert(q);
                        a.timeline.push((t, q));
                    }
                }
            }
        }
        progress.report(Some(0.4), "phone-swaps: comparing contacts");
        let found = find_swaps(
            &activity,
            start,
            end,
            window_days as i64 * DAY_MS,
            quiet_days as i64 * DAY_MS,
            min_jaccard,
            min_contacts,
            lookback_days as i64 * DAY_MS,
            cancel,
        )?;
        let label = |e: EntityId| case.entity(e).map_or(String::new(), |x| x.label.clone());
        let held = if params.get_bool("attribution", true)? {
            holdings(case, params, &types, &["Person"], &["uses", "owns"], cancel)?
        } else {
            BTreeMap::new()
        };
        let mut alerts: Vec<Alert> = found
            .into_iter()
            .filter_map(|(old, new, j, shared, of)| {
                let (h_old, h_new) = (holders_of(&held, old), holders_of(&held, new));
                let common: Vec<EntityId> = h_old.intersection(&h_new).copied().collect();
                // Both numbers attributed, to different people: a phone passing on or two
                // people's numbers, not one person moving to a new number.
                if !h_old.is_empty() && !h_new.is_empty() && common.is_empty() {
                    return None;
                }
                let attributed = match common.first() {
                    Some(p) => format!("; both numbers are attributed to {p} ({})", label(*p)),
                    None => String::new(),
                };
                Some((old, new, j, shared, of, attributed))
            })
            .map(|(old, new, j, shared, of, attributed)| {
                let (a, b) = (&activity[&old], &activity[&new]);
                let gap_days = b.first_ms.saturating_sub(a.last_ms) as f64 / DAY_MS as f64;
                Alert {
                    kind: "phone-swap".into(),
                    entities: vec![old, new],
                    start_ms: a.last_ms,
                    end_ms: b.first_ms.max(a.last_ms),
                    score: j,
                    description: format!(
                        "{old} ({}) last used {}; {new} ({}) first used {} ({gap_days:+.1} days) \
                         and they share {shared} of {of} contacts (Jaccard {j:.2} over the old \
                         number's last and the new number's first {lookback_days} days; \
                         contacts that changed number counted as one){attributed}",
                        label(old),
                        day_text(a.last_ms),
                        label(new),
                        day_text(b.first_ms),
                    ),
                }
            })
            .collect();
        alerts.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.entities.cmp(&b.entities))
        });
        progress.report(Some(1.0), "phone-swaps done");
        Ok(Output::Alerts { alerts })
    }
}

pub struct CoLocation;

const COLOC_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "window_minutes",
        kind: ParamKind::Int,
        default: Some("30"),
        help: "two sightings at one place at most this far apart count as together",
    },
    ParamSpec {
        name: "min_count",
        kind: ParamKind::Int,
        default: Some("2"),
        help: "report a pair seen together at least this many times",
    },
    ParamSpec {
        name: "max_crowd",
        kind: ParamKind::Int,
        default: Some("50"),
        help: "a window with more entities than this at one place is a crowd, not a meeting, \
               and is skipped",
    },
    ParamSpec {
        name: "event_type",
        kind: ParamKind::Text,
        default: None,
        help: "only use events of this type (e.g. Sighting)",
    },
    GRADE_PARAM,
];

/// A dated `located_at` link as a sighting: its `date`, `startDate` or `time` attribute.
fn link_time(link: &crate::model::Link) -> Option<i64> {
    link.attributes
        .iter()
        .find(|a| matches!(a.property.as_str(), "date" | "startDate" | "time"))
        .and_then(|a| {
            let v = a.value.trim();
            chrono::DateTime::parse_from_rfc3339(v)
                .map(|t| t.timestamp_millis())
                .ok()
                .or_else(|| {
                    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                        .ok()
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                        .map(|t| t.and_utc().timestamp_millis())
                })
        })
}

impl Component for CoLocation {
    fn name(&self) -> &'static str {
        "co-location"
    }
    fn summary(&self) -> &'static str {
        "entities seen at the same place within a time window (event locations, dated \
         located_at links)"
    }
    fn params(&self) -> &'static [ParamSpec] {
        COLOC_PARAMS
    }
    fn run_on(
        &self,
        input: &AnalysisInput<'_>,
        params: &Params,
        cancel: &CancelToken,
        progress: &dyn Progress,
    ) -> Result<Output, AnalysisError> {
        let case = input.snapshot()?;
        let window_minutes = params.get_u64("window_minutes", 30)?;
        if window_minutes == 0 || window_minutes > 60 * 24 * 366 {
            return Err(AnalysisError::BadParam {
                name: "window_minutes".into(),
                reason: format!("must be between 1 and 527040 (a year), not {window_minutes}"),
            });
        }
        let window_ms = window_minutes as i64 * 60_000;
        let min_count = params.get_usize("min_count", 2)?.max(1);
        let max_crowd = params.get_usize("max_crowd", 50)?.max(2);
        // Place -> sightings (time, entity).
        let mut sightings: BTreeMap<EntityId, Vec<(i64, EntityId)>> = BTreeMap::new();
        for ev in usable_events(case, params, cancel)? {
            let places: Vec<EntityId> = ev
                .participants
                .iter()
                .filter(|p| p.role == ParticipantRole::Location && usable_entity(case, p.entity))
                .map(|p| p.entity)
                .collect();
            for place in places {
                for p in &ev.participants {
                    if p.role != ParticipantRole::Location && usable_entity(case, p.entity) {
                        sightings
                            .entry(place)
                            .or_default()
                            .push((ev.time.start_ms, p.entity));
                    }
                }
            }
        }
        let threshold = params.get_grade(case)?;
        let scheme = threshold.as_ref().and_then(|t| case.scheme(&t.scheme));
        for (i, link) in case.links.iter().enumerate() {
            check_every(cancel, i, 4096)?;
            if link.link_type != "located_at"
                || link.restricted
                || !usable_entity(case, link.source)
                || !usable_entity(case, link.target)
            {
                continue;
            }
            if let (Some(s), Some(t)) = (scheme, &threshold)
                && !s.meets(link.grading.as_ref(), t)
            {
                continue;
            }
            if let Some(t) = link_time(link) {
                sightings
                    .entry(link.target)
                    .or_default()
                    .push((t, link.source));
            }
        }
        progress.report(Some(0.3), "co-location: scanning places");
        // Pair -> (count, first, last, places).
        type Seen = (usize, i64, i64, BTreeSet<EntityId>);
        let mut pairs: BTreeMap<(EntityId, EntityId), Seen> = BTreeMap::new();
        let places = sightings.len().max(1);
        for (k, (place, list)) in sightings.iter_mut().enumerate() {
            check_every(cancel, k, 64)?;
            list.sort_unstable();
            let mut lo = 0;
            for hi in 0..list.len() {
                check_every(cancel, hi, 4096)?;
                while list[hi].0.saturating_sub(list[lo].0) > window_ms {
                    lo += 1;
                }
                if hi - lo > max_crowd {
                    continue;
                }
                let (t, e) = list[hi];
                // Each earlier sighting in the window pairs with this one once; repeated
                // sightings of the same pair within one window count once (below).
                let mut met: BTreeSet<EntityId> = BTreeSet::new();
                for &(_, other) in &list[lo..hi] {
                    if other != e {
                        met.insert(other);
                    }
                }
                for other in met {
                    let key = if e < other { (e, other) } else { (other, e) };
                    let entry = pairs
                        .entry(key)
                        .or_insert_with(|| (0, t, t, BTreeSet::new()));
                    // A pair seen again within the window of its last meeting is the same
                    // meeting, not a new one.
                    if entry.0 > 0
                        && t.saturating_sub(entry.2) <= window_ms
                        && entry.3.contains(place)
                    {
                        entry.2 = t;
                        continue;
                    }
                    entry.0 += 1;
                    entry.1 = entry.1.min(t);
                    entry.2 = entry.2.max(t);
                    entry.3.insert(*place);
                }
            }
            progress.report(
                Some(0.3 + 0.7 * k as f32 / places as f32),
                "co-location: scanning places",
            );
        }
        let label = |e: EntityId| case.entity(e).map_or(String::new(), |x| x.label.clone());
        let mut alerts: Vec<Alert> = pairs
            .into_iter()
            .filter(|(_, s)| s.0 >= min_count)
            .map(|((a, b), (count, first, last, places))| Alert {
                kind: "co-location".into(),
                entities: vec![a, b],
                start_ms: first,
                end_ms: last,
                score: count as f64,
                description: format!(
                    "{a} ({}) and {b} ({}) seen together {count} times within \
                     {window_minutes} minutes at {} between {} and {}",
                    label(a),
                    label(b),
                    places
                        .iter()
                        .map(|p| format!("{p} ({})", label(*p)))
                        .collect::<Vec<_>>()
                        .join(", "),
                    minute_text(first),
                    minute_text(last),
                ),
            })
            .collect();
        alerts.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.entities.cmp(&b.entities))
        });
        progress.report(Some(1.0), "co-location done");
        Ok(Output::Alerts { alerts })
    }
}

/// Who held an item (a phone, an account) and when, from attribution links ("uses", "owns")
/// with their `startDate` / `endDate` (either may be missing: the holding is then open on that
/// side).
#[derive(Clone, Debug, PartialEq)]
struct Holding {
    holder: EntityId,
    start_ms: Option<i64>,
    /// The first millisecond after the holding (an end date holds its whole day).
    end_ms: Option<i64>,
}

fn date_attr(link: &crate::model::Link, names: &[&str]) -> Option<i64> {
    link.attributes
        .iter()
        .find(|a| names.contains(&a.property.as_str()))
        .and_then(|a| parse_day_or_time(a.value.trim()))
}

fn parse_day_or_time(v: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(v)
        .map(|t| t.timestamp_millis())
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc().timestamp_millis())
        })
}

/// Holdings per item: links of `link_types` from an entity of `holder_types` to an entity of
/// `item_types`, neither restricted, meeting the grade threshold.
fn holdings(
    case: &CaseSnapshot,
    params: &Params,
    item_types: &[&str],
    holder_types: &[&str],
    link_types: &[&str],
    cancel: &CancelToken,
) -> Result<BTreeMap<EntityId, Vec<Holding>>, AnalysisError> {
    let threshold = params.get_grade(case)?;
    let scheme = threshold.as_ref().and_then(|t| case.scheme(&t.scheme));
    let is = |id: EntityId, types: &[&str]| {
        case.entity(id)
            .is_some_and(|e| !e.restricted && types.contains(&e.entity_type.as_str()))
    };
    let mut out: BTreeMap<EntityId, Vec<Holding>> = BTreeMap::new();
    for (i, link) in case.links.iter().enumerate() {
        check_every(cancel, i, 4096)?;
        if link.restricted || !link_types.contains(&link.link_type.as_str()) {
            continue;
        }
        if let (Some(s), Some(t)) = (scheme, &threshold)
            && !s.meets(link.grading.as_ref(), t)
        {
            continue;
        }
        // Attribution links point from the holder to the item; an undirected one may be
        // written either way round.
        let (holder, item) = if is(link.source, holder_types) && is(link.target, item_types) {
            (link.source, link.target)
        } else if !link.directed && is(link.target, holder_types) && is(link.source, item_types) {
            (link.target, link.source)
        } else {
            continue;
        };
        out.entry(item).or_default().push(Holding {
            holder,
            start_ms: date_attr(link, &["startDate", "date"]),
            end_ms: date_attr(link, &["endDate"]).map(|t| t + DAY_MS),
        });
    }
    for list in out.values_mut() {
        list.sort_by_key(|h| (h.start_ms.unwrap_or(i64::MIN), h.holder));
    }
    Ok(out)
}

/// The holders an item is attributed to, for telling a swap (one person, two numbers) from two
/// people.
fn holders_of(holdings: &BTreeMap<EntityId, Vec<Holding>>, item: EntityId) -> BTreeSet<EntityId> {
    holdings
        .get(&item)
        .map(|l| l.iter().map(|h| h.holder).collect())
        .unwrap_or_default()
}

/// A hand-over found: the item, from, to, when, and whether the first holder's end was
/// inferred (from the item they moved on to) rather than dated.
#[derive(Clone, Debug, PartialEq)]
pub struct HandoverFound {
    pub item: EntityId,
    pub from: EntityId,
    pub to: EntityId,
    pub at_ms: i64,
    /// The item the first holder moved on to, when that is how their end was inferred.
    pub moved_to: Option<EntityId>,
}

/// Hand-overs among holdings: for each item, each holder followed by another whose holding
/// starts when the first one's has ended (dated), or — when the first holding carries no dates
/// — when the first holder starts another item of the same type within `window_ms` of the
/// second holder's start (the first holder moved on; without that, two undated holders are
/// people sharing the item, not a hand-over).
fn find_handovers(
    case: &CaseSnapshot,
    holdings: &BTreeMap<EntityId, Vec<Holding>>,
    window_ms: i64,
) -> Vec<HandoverFound> {
    // Holder -> (item, start) of their dated holdings, for "moved on to".
    let mut dated_starts: BTreeMap<EntityId, Vec<(EntityId, i64)>> = BTreeMap::new();
    for (&item, list) in holdings {
        for h in list {
            if let Some(s) = h.start_ms {
                dated_starts.entry(h.holder).or_default().push((item, s));
            }
        }
    }
    let type_of = |e: EntityId| case.entity(e).map(|x| x.entity_type.as_str());
    let mut out = Vec::new();
    for (&item, list) in holdings {
        for a in list {
            for b in list {
                if a.holder == b.holder {
                    continue;
                }
                let Some(b_start) = b.start_ms else {
                    continue;
                };
                let found = match a.end_ms {
                    // Dated: a's holding ended by the day b's began (a day's slack for end
                    // dates written as the day of the change), and began before it.
                    Some(a_end) => (a_end <= b_start + DAY_MS
                        && a_end > b_start - window_ms
                        && a.start_ms.is_none_or(|s| s < b_start))
                    .then_some(None),
                    // Open-ended: a passed it on only if a started another item of the same
                    // type about when b started this one.
                    None if a.start_ms.is_none_or(|s| s < b_start) => dated_starts
                        .get(&a.holder)
                        .into_iter()
                        .flatten()
                        .filter(|(other, s)| {
                            *other != item
                                && type_of(*other) == type_of(item)
                                && (*s - b_start).abs() <= window_ms
                        })
                        .min_by_key(|(other, s)| ((*s - b_start).abs(), *other))
                        .map(|(other, _)| Some(*other)),
                    None => None,
                };
                if let Some(moved_to) = found {
                    out.push(HandoverFound {
                        item,
                        from: a.holder,
                        to: b.holder,
                        at_ms: b_start,
                        moved_to,
                    });
                }
            }
        }
    }
    out.sort_by_key(|h| (h.item, h.at_ms, h.from, h.to));
    out.dedup_by_key(|h| (h.item, h.from, h.to, h.at_ms));
    out
}

pub struct Handovers;

const HANDOVER_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "types",
        kind: ParamKind::Text,
        default: Some("Phone,BankAccount"),
        help: "comma-separated entity types that can pass between people (numbers, accounts)",
    },
    ParamSpec {
        name: "holder_types",
        kind: ParamKind::Text,
        default: Some("Person"),
        help: "comma-separated entity types that hold them",
    },
    ParamSpec {
        name: "link_types",
        kind: ParamKind::Text,
        default: Some("uses,owns"),
        help: "comma-separated link types that attribute an item to its holder (dated by \
               startDate / endDate)",
    },
    ParamSpec {
        name: "window_days",
        kind: ParamKind::Int,
        default: Some("7"),
        help: "an undated holder counts as having passed the item on when they start another \
               one within this many days of the next holder's start",
    },
    ParamSpec {
        name: "activity_days",
        kind: ParamKind::Int,
        default: Some("14"),
        help: "days before and after the hand-over over which the item's use is compared",
    },
    GRADE_PARAM,
];

impl Component for Handovers {
    fn name(&self) -> &'static str {
        "handovers"
    }
    fn summary(&self) -> &'static str {
        "one phone or account passing from one person to another (the item stays, the holder \
         changes; phone-swaps is the other way round)"
    }
    fn params(&self) -> &'static [ParamSpec] {
        HANDOVER_PARAMS
    }
    fn run_on(
        &self,
        input: &AnalysisInput<'_>,
        params: &Params,
        cancel: &CancelToken,
        progress: &dyn Progress,
    ) -> Result<Output, AnalysisError> {
        let case = input.snapshot()?;
        let types = params.get_list("types", "Phone,BankAccount")?;
        let holder_types = params.get_list("holder_types", "Person")?;
        let link_types = params.get_list("link_types", "uses,owns")?;
        let window_days = params.get_u64("window_days", 7)?;
        let activity_days = params.get_u64("activity_days", 14)?;
        for (name, v) in [
            ("window_days", window_days),
            ("activity_days", activity_days),
        ] {
            if v > 3650 {
                return Err(AnalysisError::BadParam {
                    name: name.into(),
                    reason: format!("must be at most 3650 days, not {v}"),
                });
            }
        }
        let held = holdings(case, params, &types, &holder_types, &link_types, cancel)?;
        progress.report(Some(0.3), "handovers: comparing holders");
        let found = find_handovers(case, &held, window_days as i64 * DAY_MS);
        // The items' use around each hand-over: events and contacts before and after.
        let items: BTreeSet<EntityId> = found.iter().map(|h| h.item).collect();
        let mut uses: BTreeMap<EntityId, Vec<(i64, Vec<EntityId>)>> = BTreeMap::new();
        if !items.is_empty() {
            for ev in usable_events(case, params, cancel)? {
                for p in &ev.participants {
                    if items.contains(&p.entity) {
                        let others: Vec<EntityId> = ev
                            .participants
                            .iter()
                            .filter(|q| {
                                q.entity != p.entity
                                    && q.role != ParticipantRole::Location
                                    && usable_entity(case, q.entity)
                            })
                            .map(|q| q.entity)
                            .collect();
                        uses.entry(p.entity)
                            .or_default()
                            .push((ev.time.start_ms, others));
                    }
                }
            }
        }
        let label = |e: EntityId| case.entity(e).map_or(String::new(), |x| x.label.clone());
        let span_ms = activity_days as i64 * DAY_MS;
        let mut alerts: Vec<Alert> = found
            .into_iter()
            .map(|h| {
                let list = uses.get(&h.item).map(Vec::as_slice).unwrap_or(&[]);
                let (mut before, mut after) = (0usize, 0usize);
                let (mut contacts_before, mut contacts_after) =
                    (BTreeSet::<EntityId>::new(), BTreeSet::<EntityId>::new());
                for (t, others) in list {
                    if (h.at_ms - span_ms..h.at_ms).contains(t) {
                        before += 1;
                        contacts_before.extend(others);
                    } else if (h.at_ms..h.at_ms + span_ms).contains(t) {
                        after += 1;
                        contacts_after.extend(others);
                    }
                }
                let new_contacts = contacts_after.difference(&contacts_before).count();
                // Dated links on both sides weigh more than an end inferred from the first
                // holder moving on; an item seen in use on both sides of the change more than
                // one known only from the links.
                let evidence = if h.moved_to.is_none() { 1.0 } else { 0.8 };
                let in_use = if before > 0 && after > 0 { 1.0 } else { 0.6 };
                let moved = h
                    .moved_to
                    .map(|z| {
                        format!(
                            "; {} ({}) started {z} ({}) then, so the undated attribution is \
                             taken to end there",
                            h.from,
                            label(h.from),
                            label(z)
                        )
                    })
                    .unwrap_or_default();
                Alert {
                    kind: "handover".into(),
                    entities: vec![h.item, h.from, h.to],
                    start_ms: h.at_ms,
                    end_ms: h.at_ms,
                    score: evidence * in_use,
                    description: format!(
                        "{} ({}) passed from {} ({}) to {} ({}) on {}{moved}; in the \
                         {activity_days} days before it was in {before} events, in the \
                         {activity_days} days after in {after}, {new_contacts} of its {} \
                         contacts after the change new",
                        h.item,
                        label(h.item),
                        h.from,
                        label(h.from),
                        h.to,
                        label(h.to),
                        day_text(h.at_ms),
                        contacts_after.len(),
                    ),
                }
            })
            .collect();
        alerts.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.start_ms.cmp(&b.start_ms))
                .then(a.entities.cmp(&b.entities))
        });
        progress.report(Some(1.0), "handovers done");
        Ok(Output::Alerts { alerts })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn act(first: i64, last: i64, contacts: &[i64]) -> Activity {
        Activity {
            first_ms: first * DAY_MS,
            last_ms: last * DAY_MS,
            contacts: contacts.iter().map(|&c| EntityId(c)).collect(),
            timeline: contacts
                .iter()
                .map(|&c| ((first + last) / 2 * DAY_MS, EntityId(c)))
                .collect(),
        }
    }

    #[test]
    fn a_new_number_with_the_old_ones_contacts_is_a_swap() {
        let mut m = BTreeMap::new();
        m.insert(EntityId(1), act(0, 50, &[10, 11, 12, 13]));
        m.insert(EntityId(2), act(52, 100, &[10, 11, 12, 14]));
        // A number active all along with the same contacts is not new.
        m.insert(EntityId(3), act(0, 100, &[10, 11, 12, 13]));
        // A new number with other contacts is not a swap.
        m.insert(EntityId(4), act(51, 100, &[20, 21, 22, 10]));
        for c in [10, 11, 12, 13, 14, 20, 21, 22] {
            m.insert(EntityId(c), act(0, 100, &[1]));
        }
        let found = find_swaps(
            &m,
            0,
            100 * DAY_MS,
            14 * DAY_MS,
            7 * DAY_MS,
            0.3,
            3,
            1000 * DAY_MS,
            &CancelToken::new(),
        )
        .unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].0, found[0].1), (EntityId(1), EntityId(2)));
        assert!((found[0].2 - 3.0 / 5.0).abs() < 1e-12);
    }

    #[test]
    fn a_group_swapping_together_is_found_through_renamed_contacts() {
        // 1 and 2 call each other and 10; both swap on day 50 to 3 and 4.
        let mut m = BTreeMap::new();
        m.insert(EntityId(1), act(0, 50, &[2, 10, 11]));
        m.insert(EntityId(2), act(0, 50, &[1, 10, 12]));
        m.insert(EntityId(3), act(52, 100, &[4, 10, 11]));
        m.insert(EntityId(4), act(52, 100, &[3, 10, 12]));
        for c in [10, 11, 12] {
            m.insert(EntityId(c), act(0, 100, &[1, 2, 3, 4]));
        }
        let found = find_swaps(
            &m,
            0,
            100 * DAY_MS,
            14 * DAY_MS,
            7 * DAY_MS,
            0.5,
            3,
            1000 * DAY_MS,
            &CancelToken::new(),
        )
        .unwrap();
        let pairs: Vec<_> = found.iter().map(|f| (f.0, f.1)).collect();
        assert_eq!(
            pairs,
            vec![(EntityId(1), EntityId(3)), (EntityId(2), EntityId(4))]
        );
        assert!(found.iter().all(|f| (f.2 - 1.0).abs() < 1e-12), "{found:?}");
    }
}

#[cfg(test)]
mod colocation_tests {
    use super::*;
    use crate::jobs::NoProgress;
    use crate::model::*;
    use crate::store::SnapshotHeader;

    fn entity(i: i64, t: &str) -> Entity {
        Entity {
            id: EntityId(i),
            entity_type: t.into(),
            label: format!("e{i}"),
            source_id: None,
            category: None,
            restricted: false,
            provenance: Provenance::default(),
            grading: None,
            attributes: vec![],
            review_date: None,
            notes: Vec::new(),
        }
    }

    fn sighting(id: i64, minute: i64, who: i64, place: i64) -> Event {
        Event {
            id: EventId(id),
            event_type: "Sighting".into(),
            time: EventTime {
                start_ms: minute * 60_000,
                end_ms: None,
                original_text: None,
                original_zone: None,
            },
            participants: vec![
                Participant {
                    role: ParticipantRole::Participant,
                    entity: EntityId(who),
                },
                Participant {
                    role: ParticipantRole::Location,
                    entity: EntityId(place),
                },
            ],
            source_id: None,
            restricted: false,
            provenance: Provenance::default(),
            grading: None,
            attributes: vec![],
            review_date: None,
            notes: Vec::new(),
        }
    }

    #[test]
    fn pairs_seen_together_within_the_window_are_counted_once_per_meeting() {
        // 1 and 2 meet at place 10 twice (minutes 0/10 and 500/505); 3 passes at minute 100.
        // 1 and 2 are also both at place 11, an hour apart (outside a 30-minute window).
        let case = CaseSnapshot::assemble(
            SnapshotHeader {
                case_id: "t".into(),
                title: "t".into(),
                generation: 1,
                schema: Schema::default(),
                grading_schemes: GradingScheme::builtin(),
                default_scheme: "admiralty".into(),
            },
            vec![
                entity(1, "Person"),
                entity(2, "Person"),
                entity(3, "Person"),
                entity(10, "Location"),
                entity(11, "Location"),
            ],
            vec![],
            vec![
                sighting(1, 0, 1, 10),
                sighting(2, 10, 2, 10),
                sighting(3, 12, 1, 10),
                sighting(4, 100, 3, 10),
                sighting(5, 500, 1, 10),
                sighting(6, 505, 2, 10),
                sighting(7, 1000, 1, 11),
                sighting(8, 1060, 2, 11),
            ],
        );
        let run = |p: Params| match CoLocation
            .run(&case, &p, &CancelToken::new(), &NoProgress)
            .unwrap()
        {
            Output::Alerts { alerts } => alerts,
            other => panic!("{other:?}"),
        };
        let alerts = run(Params::new());
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        assert_eq!(alerts[0].entities, vec![EntityId(1), EntityId(2)]);
        assert_eq!(alerts[0].score, 2.0);
        assert_eq!(alerts[0].start_ms, 10 * 60_000);
        assert_eq!(alerts[0].end_ms, 505 * 60_000);
        // A two-hour window also catches the meeting at place 11.
        let alerts = run(Params::new().with("window_minutes", 120));
        let pair = alerts
            .iter()
            .find(|a| a.entities == vec![EntityId(1), EntityId(2)])
            .unwrap();
        assert_eq!(pair.score, 3.0, "{pair:#?}");
        assert!(matches!(
            CoLocation.run(
                &case,
                &Params::new().with("window_minutes", 0),
                &CancelToken::new(),
                &NoProgress
            ),
            Err(AnalysisError::BadParam { .. })
        ));
    }
}
