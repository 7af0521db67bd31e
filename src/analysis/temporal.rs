//! Temporal patterns. Activity histograms: events per time bin, one series per entity or per
//! event type. Burst detection: an early warning when an entity's activity over a few hours or
//! days stands far above what its own history predicts, reported as `Output::Alerts` of kind
//! "burst" with a score and a description in plain words ("41 calls in 6 h against a usual 3
//! per day").
//!
//! How a window is judged. An entity's expected count in a window is its count in the
//! `baseline_days` before the window, scaled by how much activity the window should hold
//! compared with that baseline. Two things set that share:
//! - the entity's rhythm over the hours of the week (weekday and hour of day): its own as it
//!   gathers events, blended with the case's rhythm while it has few (`rhythm_events`), so a
//!   night owl is judged by its nights and a newcomer by everyone's;
//! - how busy the case is that day, counted as the number of distinct entities active that day
//!   against the usual number for that weekday. The case carries no holiday calendar and none
//!   is assumed: a holiday, a strike or an outage shows as a day on which the whole population
//!   is quieter or busier, and every expectation moves with it. Counting active entities rather
//!   than events keeps a burst of a few entities from raising its own bar.
//!
//! The surprise of a window is the chance of seeing that many of the window's and baseline's
//! events together fall in the window if the entity had kept one rate (a binomial tail, the
//! exact test of two counts against their expected shares, which unlike a Poisson test
//! against the baseline's mean allows for how little a sparse baseline says); the score is its
//! −log10 (the default 7 means a chance of one in ten million, small enough to survive the
//! millions of windows a case of a few thousand people tests: on the generated medium cases
//! no background entity reached 6.6). Windows of 1 to `span_bins` consecutive bins are
//! tested, so a short spike and a burst spread over days are both seen; the flagged windows of
//! one entity that overlap or touch become one alert. An entity is judged only once it has
//! `min_history_days` of history, so a new number's first days are not a burst.

use super::{
    Alert, AnalysisError, AnalysisInput, Component, GRADE_PARAM, Output, ParamKind, ParamSpec,
    Params,
};
use crate::jobs::{CancelToken, Progress};
use crate::model::EntityId;
use crate::store::CaseSnapshot;
use std::collections::{BTreeMap, HashMap};

const HOUR_MS: i64 = 3_600_000;
const WEEK_HOURS: usize = 168;
/// The longest stretch of time bursts bins (a hundred years) and the most bins per entity.
const MAX_SPAN_DAYS: i64 = 36_525;
const MAX_BINS: i64 = 2_000_000;

/// ln(k!), exact below 32 and by Stirling's series above (error below 1e-10).
fn ln_factorial(k: u64) -> f64 {
    if k < 32 {
        return (2..=k).map(|i| (i as f64).ln()).sum();
    }
    let x = k as f64;
    x * x.ln() - x + 0.5 * (std::f64::consts::TAU * x).ln() + 1.0 / (12.0 * x)
        - 1.0 / (360.0 * x.powi(3))
}

/// −log10 P(X ≥ k) for X ~ Binomial(n, q). This is the exact test of a window against its
/// baseline: if the entity kept one rate, each of the `n` events of window and baseline
/// together falls in the window with probability `q` (the window's share of the expected
/// activity). Unlike a Poisson test against the baseline's mean it allows for how little a
/// sparse baseline says: three events in a month do not make ten in a week a certainty. 0 when
/// `k` does not exceed the expected n·q.
pub fn binomial_surprise(k: u64, n: u64, q: f64) -> f64 {
    if k == 0 || k > n || (k as f64) <= n as f64 * q {
        return 0.0;
    }
    if q <= 0.0 {
        return f64::INFINITY;
    }
    if q >= 1.0 {
        return 0.0;
    }
    let (kf, nf) = (k as f64, n as f64);
    let ln_pmf = ln_factorial(n) - ln_factorial(k) - ln_factorial(n - k)
        + kf * q.ln()
        + (nf - kf) * (1.0 - q).ln();
    // P(X ≥ k) = pmf(k) · Σ_j Π_{i=0..j-1} (n - k - i) / (k + i + 1) · q / (1 - q).
    let odds = q / (1.0 - q);
    let (mut sum, mut term, mut j) = (1.0f64, 1.0f64, 0u64);
    while k + j < n && term > 1e-17 * sum {
        term *= (nf - kf - j as f64) / (kf + j as f64 + 1.0) * odds;
        sum += term;
        j += 1;
    }
    (-(ln_pmf + sum.ln()) / std::f64::consts::LN_10).max(0.0)
}

/// The hour of the week (0 = Monday 00:00 UTC) of an hour counted from the Unix epoch, which
/// fell on a Thursday.
fn hour_of_week(hour: i64) -> usize {
    let day = hour.div_euclid(24);
    ((day + 3).rem_euclid(7) * 24 + hour.rem_euclid(24)) as usize
}

/// What the baseline expects of one entity: the case's busyness per day and the entity's
/// rhythm over the week.
struct Expectation<'a> {
    /// Busyness of each day from `first_day`: active entities against the weekday's usual.
    day_factor: &'a [f64],
    first_day: i64,
    /// Cumulative rhythm over the hours of the week; `cum[168]` is 1.
    cum: [f64; WEEK_HOURS + 1],
}

impl Expectation<'_> {
    /// The share of a week's activity expected in hours `[from, to)` (hours since the epoch).
    fn between(&self, from: i64, to: i64) -> f64 {
        let mut total = 0.0;
        let mut h = from;
        while h < to {
            let day = h.div_euclid(24);
            let end = to.min((day + 1) * 24);
            let factor = usize::try_from(day - self.first_day)
                .ok()
                .and_then(|d| self.day_factor.get(d))
                .copied()
                .unwrap_or(1.0);
            let start_how = hour_of_week(h);
            let len = (end - h) as usize;
            total += factor * (self.cum[start_how + len] - self.cum[start_how]);
            h = end;
        }
        total
    }
}

/// The burst parameters, checked.
#[derive(Clone, Copy, Debug)]
pub struct BurstSettings {
    pub bin_hours: i64,
    pub span_bins: usize,
    pub baseline_days: i64,
    pub min_history_days: i64,
    pub min_count: u64,
    pub min_ratio: f64,
    pub threshold: f64,
    pub rhythm_events: f64,
}

impl BurstSettings {
    fn from_params(params: &Params) -> Result<BurstSettings, AnalysisError> {
        let bad = |name: &str, reason: String| AnalysisError::BadParam {
            name: name.into(),
            reason,
        };
        let bin_hours = params.get_u64("bin_hours", 24)?;
        if !(1..=24 * 28).contains(&bin_hours) {
            return Err(bad(
                "bin_hours",
                format!("must be between 1 and 672 (four weeks), not {bin_hours}"),
            ));
        }
        let span_bins = params.get_usize("span_bins", 4)?;
        if !(1..=64).contains(&span_bins) {
            return Err(bad(
                "span_bins",
                format!("must be between 1 and 64, not {span_bins}"),
            ));
        }
        let baseline_days = params.get_u64("baseline_days", 28)?;
        if !(1..=3650).contains(&baseline_days) {
            return Err(bad(
                "baseline_days",
                format!("must be between 1 and 3650, not {baseline_days}"),
            ));
        }
        let min_history_days = params.get_u64("min_history_days", 7)?;
        if min_history_days > 3650 {
            return Err(bad(
                "min_history_days",
                format!("must be at most 3650, not {min_history_days}"),
            ));
        }
        let min_ratio = params.get_f64("min_ratio", 3.0)?;
        let threshold = params.get_f64("threshold", 7.0)?;
        let rhythm_events = params.get_f64("rhythm_events", 200.0)?;
        for (name, v) in [
            ("min_ratio", min_ratio),
            ("threshold", threshold),
            ("rhythm_events", rhythm_events),
        ] {
            if !v.is_finite() || v < 0.0 {
                return Err(bad(name, format!("must be a number of 0 or more, not {v}")));
            }
        }
        Ok(BurstSettings {
            bin_hours: bin_hours as i64,
            span_bins,
            baseline_days: baseline_days as i64,
            min_history_days: min_history_days as i64,
            min_count: params.get_u64("min_count", 5)?,
            min_ratio,
            threshold,
            rhythm_events,
        })
    }
}

/// One window flagged for an entity: bins `[from, to)` relative to the entity's first bin.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FlaggedWindow {
    pub from: usize,
    pub to: usize,
    pub observed: u64,
    pub expected: f64,
    /// Events in the baseline before the window, and its length in bins.
    pub baseline_events: u64,
    pub baseline_bins: usize,
    /// The baseline's events per unit of expected share (the entity's usual rate).
    pub usual_rate: f64,
    pub surprise: f64,
}

/// The windows of one entity's series that burst. `counts[b]` is the entity's count in bin
/// `b` (bin 0 its first active one) and `expected_share[b]` what its rhythm and the case's
/// busyness give that bin, in any unit.
pub fn burst_windows(
    counts: &[u64],
    expected_share: &[f64],
    s: &BurstSettings,
) -> Vec<FlaggedWindow> {
    let n = counts.len().min(expected_share.len());
    let baseline_bins = ((s.baseline_days * 24 + s.bin_hours - 1) / s.bin_hours).max(1) as usize;
    let history_bins = ((s.min_history_days * 24 + s.bin_hours - 1) / s.bin_hours) as usize;
    let mut c = vec![0u64; n + 1];
    let mut e = vec![0f64; n + 1];
    for b in 0..n {
        c[b + 1] = c[b] + counts[b];
        e[b + 1] = e[b] + expected_share[b];
    }
    let mut out = Vec::new();
    for to in 1..=n {
        for len in 1..=s.span_bins.min(to) {
            let from = to - len;
            let observed = c[to] - c[from];
            if observed < s.min_count.max(1) || from < history_bins.max(1) {
                continue;
            }
            let base_from = from.saturating_sub(baseline_bins);
            let base_share = e[from] - e[base_from];
            if base_share <= 0.0 {
                continue;
            }
            let baseline_events = c[from] - c[base_from];
            let window_share = e[to] - e[from];
            let expected = baseline_events as f64 * window_share / base_share;
            if (observed as f64) < s.min_ratio * expected {
                continue;
            }
            let surprise = binomial_surprise(
                observed,
                observed + baseline_events,
                window_share / (window_share + base_share),
            );
            if surprise >= s.threshold {
                out.push(FlaggedWindow {
                    from,
                    to,
                    observed,
                    expected,
                    baseline_events,
                    baseline_bins: from - base_from,
                    usual_rate: baseline_events as f64 / base_share,
                    surprise,
                });
            }
        }
    }
    out
}

/// The bursts of one entity: flagged windows that overlap or touch are one burst, reported
/// as (from, to, its most surprising window). The span is that window, widened by the bins
/// next to it, within the flagged windows, that hold at least `min_ratio` times the usual
/// count themselves: a window that reaches a busy but ordinary day into the burst still
/// flags, but that day is not the burst.
pub fn burst_spans(
    counts: &[u64],
    expected_share: &[f64],
    flagged: Vec<FlaggedWindow>,
    min_ratio: f64,
) -> Vec<(usize, usize, FlaggedWindow)> {
    merge_windows(flagged)
        .into_iter()
        .map(|(lo, hi, best)| {
            let busy = |b: usize| {
                counts[b] > 0 && counts[b] as f64 >= min_ratio * best.usual_rate * expected_share[b]
            };
            let (mut from, mut to) = (best.from, best.to);
            while from > lo && busy(from - 1) {
                from -= 1;
            }
            while to < hi && busy(to) {
                to += 1;
            }
            (from, to, best)
        })
        .collect()
}

/// Flagged windows that overlap or touch, merged: (from, to, the most surprising window).
pub fn merge_windows(mut flagged: Vec<FlaggedWindow>) -> Vec<(usize, usize, FlaggedWindow)> {
    flagged.sort_by_key(|w| (w.from, w.to));
    let mut out: Vec<(usize, usize, FlaggedWindow)> = Vec::new();
    for w in flagged {
        match out.last_mut() {
            Some(last) if w.from <= last.1 => {
                last.1 = last.1.max(w.to);
                if w.surprise > last.2.surprise {
                    last.2 = w;
                }
            }
            _ => out.push((w.from, w.to, w)),
        }
    }
    out
}

pub struct Bursts;

const BIN_HOURS_PARAM: ParamSpec = ParamSpec {
    name: "bin_hours",
    kind: ParamKind::Int,
    default: Some("24"),
    help: "width of a time bin in hours (the shortest burst looked for)",
};

const EVENT_TYPE_PARAM: ParamSpec = ParamSpec {
    name: "event_type",
    kind: ParamKind::Text,
    default: None,
    help: "only count events of this type (e.g. Call)",
};

const BURST_PARAMS: &[ParamSpec] = &[
    BIN_HOURS_PARAM,
    ParamSpec {
        name: "span_bins",
        kind: ParamKind::Int,
        default: Some("4"),
        help: "longest burst looked for, in bins (windows of 1 to this many bins are tested)",
    },
    ParamSpec {
        name: "baseline_days",
        kind: ParamKind::Int,
        default: Some("28"),
        help: "days before a window that give the entity's usual activity",
    },
    ParamSpec {
        name: "min_history_days",
        kind: ParamKind::Int,
        default: Some("7"),
        help: "an entity is judged only this many days after its first event",
    },
    ParamSpec {
        name: "threshold",
        kind: ParamKind::Float,
        default: Some("7"),
        help: "how improbable a burst must be under the baseline, as -log10 of its chance \
               (7: one in ten million)",
    },
    ParamSpec {
        name: "min_ratio",
        kind: ParamKind::Float,
        default: Some("3"),
        help: "a burst holds at least this many times the expected count",
    },
    ParamSpec {
        name: "min_count",
        kind: ParamKind::Int,
        default: Some("5"),
        help: "ignore windows with fewer events than this",
    },
    ParamSpec {
        name: "rhythm_events",
        kind: ParamKind::Float,
        default: Some("200"),
        help: "events an entity needs before its own weekday and hour rhythm outweighs the \
               case's",
    },
    EVENT_TYPE_PARAM,
    GRADE_PARAM,
];

/// The events of each entity as (hour since the epoch, event type index), plus the event
/// types.
type Series = (BTreeMap<EntityId, Vec<(i64, u32)>>, Vec<String>);

fn entity_series(
    case: &CaseSnapshot,
    params: &Params,
    cancel: &CancelToken,
) -> Result<Series, AnalysisError> {
    let mut types: Vec<String> = Vec::new();
    let mut type_index: HashMap<&str, u32> = HashMap::new();
    let mut series: BTreeMap<EntityId, Vec<(i64, u32)>> = BTreeMap::new();
    for ev in super::patterns::usable_events(case, params, cancel)? {
        let ty = match type_index.get(ev.event_type.as_str()) {
            Some(&t) => t,
            None => {
                types.push(ev.event_type.clone());
                let t = u32::try_from(types.len() - 1).unwrap_or(u32::MAX);
                type_index.insert(ev.event_type.as_str(), t);
                t
            }
        };
        let hour = ev.time.start_ms.div_euclid(HOUR_MS);
        let mut seen: Vec<EntityId> = Vec::new();
        for p in &ev.participants {
            if seen.contains(&p.entity) || case.entity(p.entity).is_none_or(|e| e.restricted) {
                continue;
            }
            seen.push(p.entity);
            series.entry(p.entity).or_default().push((hour, ty));
        }
    }
    Ok((series, types))
}

fn plural(n: u64, ty: &str) -> String {
    let word = ty.to_lowercase();
    if n == 1 {
        format!("1 {word}")
    } else if word.ends_with('s') {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn hours_text(hours: i64) -> String {
    match hours {
        24 => "1 day".into(),
        h if h % 24 == 0 => format!("{} days", h / 24),
        h => format!("{h} h"),
    }
}

fn hour_text(hour: i64) -> String {
    chrono::DateTime::from_timestamp_millis(hour * HOUR_MS)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| hour.to_string())
}

fn rate_text(per_day: f64) -> String {
    if per_day >= 10.0 {
        format!("{per_day:.0}")
    } else {
        format!("{per_day:.1}")
    }
}

impl Component for Bursts {
    fn name(&self) -> &'static str {
        "bursts"
    }
    fn summary(&self) -> &'static str {
        "early warning: an entity far busier than its own baseline, weekday and hour rhythm \
         allowed for, scored and explained"
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
        let s = BurstSettings::from_params(params)?;
        let (mut series, types) = entity_series(case, params, cancel)?;
        progress.report(Some(0.3), "bursts: the case's rhythm");
        let (mut first_hour, mut last_hour) = (i64::MAX, i64::MIN);
        let mut case_rhythm = [0f64; WEEK_HOURS];
        for hits in series.values_mut() {
            hits.sort_unstable();
            if let (Some(a), Some(b)) = (hits.first(), hits.last()) {
                first_hour = first_hour.min(a.0);
                last_hour = last_hour.max(b.0);
            }
            for &(h, _) in hits.iter() {
                case_rhythm[hour_of_week(h)] += 1.0;
            }
        }
        if series.is_empty() {
            progress.report(Some(1.0), "bursts done");
            return Ok(Output::Alerts { alerts: Vec::new() });
        }
        let total: f64 = case_rhythm.iter().sum();
        let case_share: Vec<f64> = case_rhythm.iter().map(|c| c / total).collect();
        // Busyness per day: distinct entities active, against the mean for that weekday.
        let first_day = first_hour.div_euclid(24);
        let span_days = last_hour.div_euclid(24) - first_day + 1;
        // Bound what is allocated per day and per bin: a stray date centuries away would
        // otherwise ask for millions of empty bins.
        if span_days > MAX_SPAN_DAYS || span_days * 24 / s.bin_hours > MAX_BINS {
            return Err(AnalysisError::Failed(format!(
                "the events span {span_days} days, more than bursts can bin ({MAX_SPAN_DAYS} \
                 days, {MAX_BINS} bins of {} h); check for misdated events or use a time \
                 filter or wider bins (bin_hours)",
                s.bin_hours
            )));
        }
        let days = span_days as usize;
        let mut active = vec![0f64; days];
        for hits in series.values() {
            let mut last = i64::MIN;
            for &(h, _) in hits {
                let d = h.div_euclid(24);
                if d != last {
                    active[(d - first_day) as usize] += 1.0;
                    last = d;
                }
            }
        }
        let mut usual = [(0f64, 0f64); 7];
        for (d, &a) in active.iter().enumerate() {
            let wd = hour_of_week((first_day + d as i64) * 24) / 24;
            usual[wd].0 += a;
            usual[wd].1 += 1.0;
        }
        let day_factor: Vec<f64> = active
            .iter()
            .enumerate()
            .map(|(d, &a)| {
                let (sum, n) = usual[hour_of_week((first_day + d as i64) * 24) / 24];
                if sum > 0.0 {
                    (a / (sum / n)).clamp(0.1, 10.0)
                } else {
                    1.0
                }
            })
            .collect();

        let entities = series.len().max(1);
        let mut alerts = Vec::new();
        for (k, (entity, hits)) in series.iter().enumerate() {
            super::simple::check_every(cancel, k, 1024)?;
            if k % 4096 == 0 {
                progress.report(
                    Some(0.3 + 0.7 * k as f32 / entities as f32),
                    "bursts: judging each entity against its baseline",
                );
            }
            if (hits.len() as u64) < s.min_count.max(1) {
                continue;
            }
            let mut own = [0f64; WEEK_HOURS];
            for &(h, _) in hits {
                own[hour_of_week(h)] += 1.0;
            }
            let n = hits.len() as f64;
            let mut cum = [0f64; WEEK_HOURS + 1];
            for how in 0..WEEK_HOURS {
                let share = (own[how] + s.rhythm_events * case_share[how]) / (n + s.rhythm_events);
                cum[how + 1] = cum[how] + share;
            }
            let expectation = Expectation {
                day_factor: &day_factor,
                first_day,
                cum,
            };
            let first_bin = hits[0].0.div_euclid(s.bin_hours);
            let last_bin = hits[hits.len() - 1].0.div_euclid(s.bin_hours);
            let bins = (last_bin - first_bin + 1) as usize;
            let mut counts = vec![0u64; bins];
            for &(h, _) in hits {
                counts[(h.div_euclid(s.bin_hours) - first_bin) as usize] += 1;
            }
            let shares: Vec<f64> = (0..bins as i64)
                .map(|b| {
                    let from = (first_bin + b) * s.bin_hours;
                    expectation.between(from, from + s.bin_hours)
                })
                .collect();
            let flagged = burst_windows(&counts, &shares, &s);
            if flagged.is_empty() {
                continue;
            }
            let label = case
                .entity(*entity)
                .map_or(String::new(), |e| e.label.clone());
            for (from, to, best) in burst_spans(&counts, &shares, flagged, s.min_ratio) {
                let hour_at = |b: usize| (first_bin + b as i64) * s.bin_hours;
                let (w_from, w_to) = (hour_at(best.from), hour_at(best.to));
                let mut by_type: BTreeMap<u32, u64> = BTreeMap::new();
                for &(h, t) in hits {
                    if (w_from..w_to).contains(&h) {
                        *by_type.entry(t).or_insert(0) += 1;
                    }
                }
                let what = by_type
                    .iter()
                    .map(|(&t, &c)| plural(c, types.get(t as usize).map_or("event", |x| x)))
                    .collect::<Vec<_>>()
                    .join(" and ");
                let baseline_hours = best.baseline_bins as i64 * s.bin_hours;
                let usual_per_day = best.baseline_events as f64 * 24.0 / baseline_hours as f64;
                alerts.push(Alert {
                    kind: "burst".into(),
                    entities: vec![*entity],
                    start_ms: hour_at(from) * HOUR_MS,
                    end_ms: hour_at(to) * HOUR_MS,
                    score: best.surprise,
                    description: format!(
                        "{entity} ({label}): {what} in {} from {} against a usual {} per day \
                         over the {} before; {:.1} expected for those hours given its weekday \
                         and hour rhythm and how busy the case was, so {:.1} times as many, a \
                         chance of about 1 in 10^{:.0} under its own baseline",
                        hours_text(w_to - w_from),
                        hour_text(w_from),
                        rate_text(usual_per_day),
                        hours_text(baseline_hours),
                        best.expected,
                        best.observed as f64 / best.expected.max(1e-9),
                        best.surprise.min(999.0),
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
    BIN_HOURS_PARAM,
    ParamSpec {
        name: "by",
        kind: ParamKind::Text,
        default: Some("entity"),
        help: "one series per entity (\"E12\") or per event type",
    },
    EVENT_TYPE_PARAM,
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
    fn binomial_surprise_matches_the_exact_tail() {
        for (k, n, q, want) in [
            (11, 12, 4.0 / 13.0, 4.695_442_300),
            (42, 84, 1.0 / 6.0, 11.689_678_913),
            (5, 5, 0.5, 1.505_149_978),
            (30, 100, 0.1, 7.611_701_200),
        ] {
            let got = binomial_surprise(k, n, q);
            assert!(
                (got - want).abs() < 1e-6,
                "k {k} n {n} q {q}: {got} vs {want}"
            );
        }
        assert_eq!(binomial_surprise(2, 10, 0.5), 0.0);
        assert!(binomial_surprise(3, 3, 0.0).is_infinite());
    }

    #[test]
    fn hours_of_the_week_start_on_monday() {
        // 2024-01-01 was a Monday.
        let monday = 1_704_067_200_000 / HOUR_MS;
        assert_eq!(hour_of_week(monday), 0);
        assert_eq!(hour_of_week(monday + 13), 13);
        assert_eq!(hour_of_week(monday + 6 * 24 + 23), 167);
        assert_eq!(hour_of_week(monday + 7 * 24), 0);
    }

    fn settings() -> BurstSettings {
        BurstSettings {
            bin_hours: 24,
            span_bins: 4,
            baseline_days: 28,
            min_history_days: 7,
            min_count: 5,
            min_ratio: 3.0,
            threshold: 7.0,
            rhythm_events: 200.0,
        }
    }

    #[test]
    fn a_jump_over_the_entity_s_own_baseline_is_a_burst_and_a_steady_rate_is_not() {
        // Two a day for six weeks, then ten a day for four days.
        let mut counts = vec![2u64; 42];
        counts.extend([10, 10, 10, 10]);
        counts.extend([2, 2, 2]);
        let flat = vec![1.0; counts.len()];
        let flagged = burst_windows(&counts, &flat, &settings());
        let merged = burst_spans(&counts, &flat, flagged, 3.0);
        assert_eq!(merged.len(), 1, "{merged:?}");
        let (from, to, best) = merged[0];
        assert_eq!((from, to), (42, 46));
        assert!(best.surprise >= 8.0 && best.observed >= 30, "{best:?}");
        // The same rate all along: nothing.
        assert!(burst_windows(&[6; 60], &[1.0; 60], &settings()).is_empty());
        // A busy entity is judged by its own rate: 10 a day is its usual.
        assert!(burst_windows(&[10; 60], &[1.0; 60], &settings()).is_empty());
    }

    #[test]
    fn an_expected_busy_day_is_not_a_burst() {
        // An entity that is five times busier every seventh day (its weekly rhythm says so).
        let counts: Vec<u64> = (0..70).map(|d| if d % 7 == 5 { 15 } else { 3 }).collect();
        let rhythm: Vec<f64> = (0..70)
            .map(|d| if d % 7 == 5 { 5.0 } else { 1.0 })
            .collect();
        assert!(burst_windows(&counts, &rhythm, &settings()).is_empty());
        // Judged without the rhythm, the busy days stand out.
        let s = BurstSettings {
            threshold: 4.0,
            ..settings()
        };
        assert!(!burst_windows(&counts, &vec![1.0; 70], &s).is_empty());
    }

    #[test]
    fn a_new_entity_is_not_judged_before_it_has_history() {
        let mut counts = vec![30u64, 30, 30];
        counts.extend(vec![1u64; 10]);
        let flat = vec![1.0; counts.len()];
        assert!(burst_windows(&counts, &flat, &settings()).is_empty());
    }
    #[test]
    fn a_stray_date_centuries_away_is_refused_before_anything_is_allocated() {
        use crate::jobs::NoProgress;
        use crate::model::*;
        use crate::store::SnapshotHeader;
        let entity = |i: i64| Entity {
            id: EntityId(i),
            entity_type: "Phone".into(),
            label: format!("p{i}"),
            source_id: None,
            category: None,
            restricted: false,
            provenance: Provenance::default(),
            grading: None,
            attributes: vec![],
            review_date: None,
            notes: Vec::new(),
        };
        let call = |id: i64, ms: i64| Event {
            id: EventId(id),
            event_type: "Call".into(),
            time: EventTime {
                start_ms: ms,
                end_ms: None,
                original_text: None,
                original_zone: None,
            },
            participants: vec![
                Participant {
                    role: ParticipantRole::From,
                    entity: EntityId(1),
                },
                Participant {
                    role: ParticipantRole::To,
                    entity: EntityId(2),
                },
            ],
            source_id: None,
            restricted: false,
            provenance: Provenance::default(),
            grading: None,
            attributes: vec![],
            review_date: None,
            notes: Vec::new(),
        };
        let case = CaseSnapshot::assemble(
            SnapshotHeader {
                case_id: "t".into(),
                title: "t".into(),
                generation: 1,
                schema: Schema::default(),
                grading_schemes: GradingScheme::builtin(),
                default_scheme: "admiralty".into(),
            },
            vec![entity(1), entity(2)],
            vec![],
            // 2024, and a year-9999 typo.
            vec![call(1, 1_704_067_200_000), call(2, 253_402_300_000_000)],
        );
        let err = Bursts
            .run(&case, &Params::new(), &CancelToken::new(), &NoProgress)
            .unwrap_err();
        assert!(err.to_string().contains("misdated"), "{err}");
    }
}
