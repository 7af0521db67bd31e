//! Call records: background calls with daily and weekly rhythms, the group's calls by role,
//! burner phones, the planted burst before the incident.

use super::*;

/// The people a group member talks to, by role.
fn org_partner(world: &World, rng: &mut ChaCha8Rng, m: u32) -> Option<u32> {
    let p = &world.people[m as usize];
    let cell = &world.cells[p.cell? as usize];
    let of_role = |role: Role, c: &[u32]| -> Vec<u32> {
        c.iter()
            .copied()
            .filter(|&x| world.people[x as usize].role == role)
            .collect()
    };
    let pick = |v: &[u32], rng: &mut ChaCha8Rng| -> Option<u32> {
        (!v.is_empty()).then(|| v[rng.random_range(0..v.len())])
    };
    let u: f64 = rng.random();
    match p.role {
        Role::Leader => {
            if u < 0.12 {
                pick(&world.leaders, rng)
            } else if u < 0.2 && p.cell == Some(0) {
                pick(&world.suppliers, rng)
            } else if u < 0.75 {
                pick(&of_role(Role::Lieutenant, cell), rng)
            } else {
                pick(cell, rng)
            }
        }
        Role::Lieutenant => {
            if u < 0.35 {
                pick(&of_role(Role::Leader, cell), rng)
            } else if u < 0.85 {
                pick(&of_role(Role::Courier, cell), rng)
            } else {
                pick(cell, rng)
            }
        }
        Role::Courier => {
            if u < 0.55 {
                pick(&of_role(Role::Lieutenant, cell), rng)
            } else if u < 0.8 {
                pick(&world.buyers, rng)
            } else {
                pick(cell, rng)
            }
        }
        Role::Broker => {
            if u < 0.5 {
                pick(cell, rng)
            } else {
                let other = &world.cells[p.bridge? as usize];
                pick(other, rng)
            }
        }
        _ => None,
    }
}

/// Writes one day's call records, sorted by time.
#[allow(clippy::too_many_arguments)] // reason: one private step of the generator
pub(super) fn calls(
    w: &mut BatchWriter<'_>,
    world: &World,
    src: &Src,
    ids: &Ids,
    dir: Option<&Path>,
    files: &mut Vec<PathBuf>,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<(), GenerateError> {
    let mut rng = stream(world.r.seed, 3);
    let mut csv = SourceCsv::open(
        dir,
        CALLS_CSV,
        &[
            // The column names of the built-in `cdr` import template.
            "record_id",
            "start",
            "caller",
            "callee",
            "type",
            "duration",
        ],
        files,
    )?;
    let mut cum = HOURLY;
    for h in 1..24 {
        cum[h] += cum[h - 1];
    }
    let mut night = HOURLY;
    for (h, v) in night.iter_mut().enumerate() {
        if !(7..20).contains(&h) {
            *v *= 3.0;
        }
    }
    for h in 1..24 {
        night[h] += night[h - 1];
    }
    let days = world.r.days;
    let per_day = world.r.target_events as f64 * shares(world.r.scenario).calls / f64::from(days);
    let swap_day = world.incident_day + 5;
    // (time, from phone, to phone, message?, duration s)
    let mut buf: Vec<(i64, u32, u32, bool, u32)> = Vec::new();
    let mut seq: u64 = 0;
    for day in 0..days {
        cancel.check()?;
        progress.report(Some(0.08 + 0.6 * day as f32 / days as f32), "call records");
        buf.clear();
        let n = poisson(&mut rng, per_day * WEEKLY[(day % 7) as usize]);
        for _ in 0..n {
            let a = world.choose_caller(&mut rng);
            let contacts = &world.contacts[a as usize];
            let b = if !contacts.is_empty() && rng.random_bool(0.85) {
                contacts[rng.random_range(0..contacts.len())]
            } else {
                rng.random_range(0..world.people.len() as u32)
            };
            push_call(world, &mut rng, &mut buf, &cum, day, a, b);
        }
        // The group's own traffic: a burst before the incident, silence after it, then new
        // phones and new contacts.
        for (c, cell) in world.cells.iter().enumerate() {
            for &m in cell {
                if world.arrested.contains(&m) && day >= world.incident_day {
                    continue;
                }
                let mut rate = 0.6;
                if c == 0 {
                    if (world.burst_start_day..world.incident_day).contains(&day) {
                        rate *= 6.0;
                    } else if (world.incident_day..swap_day).contains(&day) {
                        rate *= 0.1;
                    }
                }
                for _ in 0..poisson(&mut rng, rate) {
                    if let Some(b) = org_partner(world, &mut rng, m)
                        && !(world.arrested.contains(&b) && day >= world.incident_day)
                    {
                        push_call(world, &mut rng, &mut buf, &night, day, m, b);
                    }
                }
            }
        }
        for &(m, recruit) in &world.new_contacts {
            if day >= swap_day && rng.random_bool(0.4) {
                push_call(world, &mut rng, &mut buf, &night, day, m, recruit);
            }
        }
        buf.sort_unstable();
        for &(t, from, to, message, dur) in &buf {
            seq += 1;
            let source_id = format!("CDR{seq:09}");
            let (kind, end) = if message {
                ("Message", None)
            } else {
                ("Call", Some(t + i64::from(dur) * 1000))
            };
            let mut e = src.event(
                kind,
                EventTime {
                    start_ms: t,
                    end_ms: end,
                    original_text: None,
                    original_zone: None,
                },
            );
            e.source_id = Some(source_id.clone());
            e.participants = vec![
                NewParticipant::new(ParticipantRole::From, ids.phone[from as usize]),
                NewParticipant::new(ParticipantRole::To, ids.phone[to as usize]),
            ];
            w.event(e)?;
            if csv.enabled() {
                csv.row(&[
                    &source_id,
                    &time_text(t),
                    &population::phone_number(from),
                    &population::phone_number(to),
                    if message { "sms" } else { "voice" },
                    &if message {
                        String::new()
                    } else {
                        dur.to_string()
                    },
                ])?;
            }
        }
    }
    csv.finish()
}

fn push_call(
    world: &World,
    rng: &mut ChaCha8Rng,
    buf: &mut Vec<(i64, u32, u32, bool, u32)>,
    cum: &[f64; 24],
    day: u32,
    a: u32,
    b: u32,
) {
    let (Some(pa), Some(pb)) = (
        world.people[a as usize].phone_on(day),
        world.people[b as usize].phone_on(day),
    ) else {
        return;
    };
    if pa == pb {
        return;
    }
    let t = at(day, hour_sample(rng, cum));
    let message = rng.random_bool(0.35);
    // Log-normal durations: most calls are a minute or two, a few last an hour.
    let dur = (4.4 + 1.0 * normal(rng)).exp().clamp(3.0, 7200.0) as u32;
    buf.push((t, pa, pb, message, dur));
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Harness, registered};
    use super::*;
    use crate::model::Event;
    use std::collections::HashSet;

    fn written(h: &mut Harness) -> Vec<Event> {
        let cancel = CancelToken::new();
        h.write(CALLS_CSV, |w, world, src, ids| {
            calls(
                w,
                world,
                src,
                ids,
                None,
                &mut Vec::new(),
                &cancel,
                &crate::jobs::NoProgress,
            )
        })
        .1
    }

    #[test]
    fn calls_and_messages_run_from_one_phone_to_another_inside_the_period() {
        let mut h = registered(Scenario::DrugTrafficking, 300);
        let events = written(&mut h);
        assert!(events.len() > 500, "{} calls", events.len());
        let phones: HashSet<EntityId> = h.ids.phone.iter().copied().collect();
        let end = h.period_end_ms();
        for e in &events {
            let from: Vec<_> = e.in_role(ParticipantRole::From).collect();
            let to: Vec<_> = e.in_role(ParticipantRole::To).collect();
            assert_eq!(
                (from.len(), to.len(), e.participants.len()),
                (1, 1, 2),
                "{e:?}"
            );
            assert!(
                phones.contains(&from[0]) && phones.contains(&to[0]),
                "{e:?}"
            );
            assert_ne!(from[0], to[0], "a phone calling itself");
            assert!((PERIOD_START_MS..end).contains(&e.time.start_ms), "{e:?}");
            match e.event_type.as_str() {
                "Call" => {
                    let secs = (e.time.end_ms.unwrap() - e.time.start_ms) / 1000;
                    assert!((3..=7200).contains(&secs), "{secs} s");
                }
                "Message" => assert_eq!(e.time.end_ms, None),
                other => panic!("a call record of type {other}"),
            }
            assert!(e.source_id.as_deref().is_some_and(|s| s.starts_with("CDR")));
        }
        // Records come in time order, as a carrier's export does.
        assert!(
            events
                .windows(2)
                .all(|w| w[0].time.start_ms <= w[1].time.start_ms)
        );
    }

    #[test]
    fn calls_follow_the_daily_rhythm() {
        let mut h = registered(Scenario::Firearms, 300);
        let events = written(&mut h);
        let hour = |e: &Event| ((e.time.start_ms - PERIOD_START_MS) % DAY_MS) / 3_600_000;
        let evening = events
            .iter()
            .filter(|e| (17..21).contains(&hour(e)))
            .count();
        let night = events.iter().filter(|e| (2..6).contains(&hour(e))).count();
        assert!(
            evening > 3 * night,
            "{evening} evening calls, {night} at night"
        );
    }

    #[test]
    fn the_hit_cell_calls_in_a_burst_before_the_incident_then_goes_quiet() {
        let mut h = registered(Scenario::DrugTrafficking, 300);
        let events = written(&mut h);
        let world = &h.world;
        let cell_phones: HashSet<EntityId> = world
            .hit_cell()
            .iter()
            .flat_map(|&m| world.people[m as usize].phones.iter())
            .map(|p| h.ids.phone[p.0 as usize])
            .collect();
        let per_day = |from_day: u32, to_day: u32| -> f64 {
            let (a, b) = (at(from_day, 0), at(to_day, 0));
            let n = events
                .iter()
                .filter(|e| (a..b).contains(&e.time.start_ms))
                .filter(|e| {
                    e.participants
                        .iter()
                        .any(|p| cell_phones.contains(&p.entity))
                })
                .count();
            n as f64 / f64::from(to_day - from_day)
        };
        let (burst, incident) = (world.burst_start_day, world.incident_day);
        let before = per_day(burst - 10, burst);
        let during = per_day(burst, incident);
        let after = per_day(incident, incident + 5);
        assert!(
            during > 2.5 * before,
            "{during:.1}/day in the burst, {before:.1}/day before"
        );
        assert!(after < during / 2.0, "{after:.1}/day after the incident");
    }

    #[test]
    fn the_same_seed_writes_the_same_calls() {
        let strip = |events: Vec<Event>| -> Vec<_> {
            events
                .into_iter()
                .map(|e| (e.event_type, e.time, e.participants, e.source_id))
                .collect()
        };
        let a = strip(written(&mut registered(Scenario::Fraud, 120)));
        let b = strip(written(&mut registered(Scenario::Fraud, 120)));
        assert_eq!(a, b);
    }
}
