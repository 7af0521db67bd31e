//! Surveillance and intelligence reports (associations, burner phones, aliases, meetings and
//! the incident) and an unreliable informant who invents half of what he reports.

use super::*;

pub(super) struct IntelOut {
    pub(super) incidents: Vec<truth::IncidentTruth>,
    pub(super) aliases: Vec<truth::AliasTruth>,
    /// Meetings surveillance reported: (cell, day, members named).
    pub(super) meetings_reported: Vec<(u32, u32, Vec<EntityId>)>,
}

/// Surveillance and intelligence: the group's associations, burner phones, aliases,
/// meetings and the incident.
pub(super) fn intelligence(
    w: &mut BatchWriter<'_>,
    world: &World,
    src: &Src,
    ids: &Ids,
) -> Result<IntelOut, GenerateError> {
    let mut rng = stream(world.r.seed, 6);
    let person = |p: u32| ids.person[p as usize];
    let role = |p: u32| world.people[p as usize].role;
    for (c, cell) in world.cells.iter().enumerate() {
        let leader = world.leaders[c];
        for &m in cell {
            let linked_to = match role(m) {
                Role::Lieutenant | Role::Broker => Some(leader),
                Role::Courier => cell.iter().copied().find(|&x| role(x) == Role::Lieutenant),
                _ => None,
            };
            if let Some(other) = linked_to {
                w.link(src.link("associate", person(m), person(other), false))?;
            }
            if role(m) == Role::Broker
                && let Some(b) = world.people[m as usize].bridge
            {
                w.link(src.link(
                    "associate",
                    person(m),
                    person(world.leaders[b as usize]),
                    false,
                ))?;
            }
        }
        if c > 0 {
            w.link(src.link("associate", person(world.leaders[0]), person(leader), false))?;
        }
    }
    for &s in &world.suppliers {
        w.link(src.link("associate", person(world.leaders[0]), person(s), false))?;
    }
    for (k, &b) in world.buyers.iter().enumerate() {
        let cell = &world.cells[k % world.cells.len()];
        if let Some(&courier) = cell.iter().find(|&&x| role(x) == Role::Courier) {
            let mut l = src.link("associate", person(courier), person(b), false);
            l.strength = crate::model::LinkStrength::Tentative;
            w.link(l)?;
        }
    }
    // Phones the group used beyond their subscriptions (burners, hand-overs, swaps).
    for cell in &world.cells {
        for &m in cell {
            for (k, &(ph, from, to)) in world.people[m as usize].phones.iter().enumerate() {
                if k == 0 && world.phones[ph as usize].subscriber == Some(m) {
                    continue;
                }
                let mut l = src.link("uses", person(m), ids.phone[ph as usize], true);
                l.attributes = vec![
                    src.attr("startDate", day_text(from)),
                    src.attr("endDate", day_text(to.saturating_sub(1))),
                ];
                w.link(l)?;
            }
        }
    }
    let mut aliases = Vec::new();
    for cell in &world.cells {
        for &m in cell {
            if let Some(alias) = world.people[m as usize].alias {
                w.attribute(ItemRef::Entity(person(m)), src.attr("alias", alias))?;
                aliases.push(truth::AliasTruth {
                    person: person(m),
                    alias: alias.into(),
                });
            }
        }
    }
    // Meetings, observed by surveillance.
    let mut meetings_reported = Vec::new();
    for day in 0..world.r.days {
        for (c, cell) in world.cells.iter().enumerate() {
            if let Some((place, start)) = meeting(world, c as u32, day)
                && rng.random_bool(0.5)
            {
                let mut present = Vec::new();
                let mut e = src.event(
                    "Meeting",
                    EventTime {
                        start_ms: start,
                        end_ms: Some(start + rng.random_range(20..90) * 60_000),
                        original_text: None,
                        original_zone: None,
                    },
                );
                for &m in cell {
                    if rng.random_bool(0.7) {
                        e.participants
                            .push(NewParticipant::new(ParticipantRole::Participant, person(m)));
                        present.push(person(m));
                    }
                }
                if e.participants.is_empty() {
                    continue;
                }
                meetings_reported.push((c as u32, day, present));
                e.participants.push(NewParticipant::new(
                    ParticipantRole::Location,
                    ids.place[place as usize],
                ));
                w.event(e)?;
            }
        }
    }
    // The incident: a seizure with arrests, confirmed (A1).
    let kind = match world.r.scenario {
        Scenario::DrugTrafficking => "seizure of drugs",
        Scenario::Firearms => "seizure of firearms",
        Scenario::Fraud => "arrest for fraud",
    };
    let t = incident_ms(world);
    let mut e = src.event(
        "Incident",
        EventTime {
            start_ms: t,
            end_ms: Some(t + 2 * 3_600_000),
            original_text: None,
            original_zone: None,
        },
    );
    e.grading = grading("A", "1");
    for &a in &world.arrested {
        e.participants
            .push(NewParticipant::new(ParticipantRole::Participant, person(a)));
    }
    e.participants
        .push(NewParticipant::new(ParticipantRole::Location, ids.place[0]));
    e.attributes = vec![src.attr("description", kind)];
    let event = w.event(e)?;
    if world.r.scenario == Scenario::Firearms {
        for k in 0..3 {
            let mut weapon = src.entity(
                "Weapon",
                format!("Pistol, serial ZZ{:05}", 31_000 + k * 17),
                format!("W{k}"),
            );
            weapon.attributes = vec![src.attr("model", "9mm semi-automatic pistol")];
            let wid = w.entity(weapon)?;
            let holder = world.hit_cell()[k as usize % world.hit_cell().len()];
            w.link(src.link("owns", person(holder), wid, true))?;
        }
    }
    Ok(IntelOut {
        incidents: vec![truth::IncidentTruth {
            event,
            kind: kind.into(),
            at_ms: t,
            arrested: world.arrested.iter().map(|&a| person(a)).collect(),
        }],
        aliases,
        meetings_reported,
    })
}

fn day_text(day: u32) -> String {
    chrono::DateTime::from_timestamp_millis(at(day, 0))
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

/// The unreliable informant: half true associations, half invented ones.
pub(super) fn informant(
    w: &mut BatchWriter<'_>,
    world: &World,
    src: &Src,
    ids: &Ids,
) -> Result<Vec<LinkId>, GenerateError> {
    let mut rng = stream(world.r.seed, 7);
    let mut false_links = Vec::new();
    for cell in &world.cells {
        for _ in 0..2 {
            let a = cell[rng.random_range(0..cell.len())];
            let b = cell[rng.random_range(0..cell.len())];
            if a != b {
                let mut l = src.link(
                    "associate",
                    ids.person[a as usize],
                    ids.person[b as usize],
                    false,
                );
                l.strength = crate::model::LinkStrength::Unconfirmed;
                w.link(l)?;
            }
        }
        for _ in 0..2 {
            let a = cell[rng.random_range(0..cell.len())];
            let b = rng.random_range(0..world.people.len() as u32);
            if world.people[b as usize].role == Role::Background {
                let mut l = src.link(
                    "associate",
                    ids.person[a as usize],
                    ids.person[b as usize],
                    false,
                );
                l.strength = crate::model::LinkStrength::Unconfirmed;
                false_links.push(w.link(l)?);
            }
        }
    }
    Ok(false_links)
}

#[cfg(test)]
mod tests {
    use super::super::testing::registered;
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_reports_hold_the_incident_the_meetings_and_the_aliases() {
        let mut h = registered(Scenario::DrugTrafficking, 300);
        let (out, events) = h.write("intelligence_reports", intelligence);
        let world = &h.world;
        let incidents: Vec<_> = events
            .iter()
            .filter(|e| e.event_type == "Incident")
            .collect();
        assert_eq!(incidents.len(), 1);
        let incident = incidents[0];
        assert_eq!(incident.time.start_ms, incident_ms(world));
        assert_eq!(
            incident
                .grading
                .as_ref()
                .map(|g| (g.source.as_deref(), g.information.as_deref())),
            Some((Some("A"), Some("1")))
        );
        let arrested: HashSet<EntityId> = world
            .arrested
            .iter()
            .map(|&a| h.ids.person[a as usize])
            .collect();
        let at_incident: HashSet<EntityId> =
            incident.in_role(ParticipantRole::Participant).collect();
        assert!(
            arrested.is_subset(&at_incident),
            "{arrested:?} not all at the incident"
        );
        assert_eq!(out.incidents.len(), 1);
        // Meetings: members of one cell, at one of the world's places, on the cell's days.
        let places: HashSet<EntityId> = h.ids.place.iter().copied().collect();
        let meetings: Vec<_> = events
            .iter()
            .filter(|e| e.event_type == "Meeting")
            .collect();
        assert!(meetings.len() >= 5, "{} meetings", meetings.len());
        for m in &meetings {
            let at: Vec<_> = m.in_role(ParticipantRole::Location).collect();
            assert!(at.len() == 1 && places.contains(&at[0]), "{m:?}");
            let people: Vec<EntityId> = m.in_role(ParticipantRole::Participant).collect();
            let cell = world
                .cells
                .iter()
                .position(|cell| cell.iter().any(|&p| h.ids.person[p as usize] == people[0]))
                .expect("a member of a cell");
            assert!(people.iter().all(|e| {
                world.cells[cell]
                    .iter()
                    .any(|&p| h.ids.person[p as usize] == *e)
            }));
            let day = ((m.time.start_ms - PERIOD_START_MS) / DAY_MS) as u32;
            assert!(
                meeting(world, cell as u32, day).is_some(),
                "day {day}, cell {cell}"
            );
        }
        // Aliases go onto the people as alias values.
        let snap = h.case.snapshot().unwrap();
        for alias in &out.aliases {
            let person = snap.entity(alias.person).unwrap();
            assert!(person.values("alias").any(|v| v == alias.alias));
        }
    }

    #[test]
    fn the_informant_reports_unconfirmed_links_and_invents_some() {
        let mut h = registered(Scenario::Fraud, 300);
        let (false_links, _) = h.write("informant_nightjar", informant);
        let snap = h.case.snapshot().unwrap();
        let background: HashSet<EntityId> = h
            .world
            .people
            .iter()
            .enumerate()
            .filter(|(_, p)| p.role == Role::Background)
            .map(|(i, _)| h.ids.person[i])
            .collect();
        let reported: Vec<_> = snap
            .links
            .iter()
            .filter(|l| l.provenance.source_file.as_deref() == Some("informant_nightjar"))
            .collect();
        assert!(!reported.is_empty());
        assert!(
            reported.iter().all(|l| l.link_type == "associate"
                && l.strength == crate::model::LinkStrength::Unconfirmed)
        );
        for id in &false_links {
            let l = reported
                .iter()
                .find(|l| l.id == *id)
                .expect("a reported link");
            assert!(
                background.contains(&l.target),
                "an invented link names a background person"
            );
        }
    }
}
