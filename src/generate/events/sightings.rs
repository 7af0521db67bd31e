//! ANPR camera reads: ordinary traffic, and the group's cars near their meetings.

use super::*;

/// The group's cars read on the way to a meeting: (cell, day, camera, vehicles).
pub(super) type MeetingReads = Vec<(u32, u32, u32, Vec<u32>)>;

/// The camera nearest a meeting place (the one that reads the cars coming to it).
pub(super) fn nearest_camera(world: &World, place: u32) -> u32 {
    let p = &world.places[place as usize];
    let mut best = (f64::MAX, 0);
    for (i, c) in world.cameras.iter().enumerate() {
        let d = (c.lat - p.lat).powi(2) + (c.lon - p.lon).powi(2);
        if d < best.0 {
            best = (d, i as u32);
        }
    }
    best.1
}

/// ANPR reads: ordinary traffic, and the group's cars near their meetings. Returns which cars
/// were read coming to which meeting.
pub(super) fn sightings(
    w: &mut BatchWriter<'_>,
    world: &World,
    src: &Src,
    ids: &Ids,
    cancel: &CancelToken,
) -> Result<MeetingReads, GenerateError> {
    let mut rng = stream(world.r.seed, 5);
    let mut cum = HOURLY;
    for h in 1..24 {
        cum[h] += cum[h - 1];
    }
    let days = world.r.days;
    let per_day =
        world.r.target_events as f64 * shares(world.r.scenario).sightings / f64::from(days);
    let n_cam = world.cameras.len() as u32;
    let mut meeting_reads = Vec::new();
    let mut buf: Vec<(i64, u32, u32)> = Vec::new();
    let mut seq = 0u64;
    for day in 0..days {
        cancel.check()?;
        buf.clear();
        for _ in 0..poisson(&mut rng, per_day * WEEKLY[(day % 7) as usize]) {
            let v = rng.random_range(0..world.vehicle_owner.len() as u32);
            let cam = rng.random_range(0..n_cam);
            buf.push((at(day, hour_sample(&mut rng, &cum)), v, cam));
        }
        for (c, cell) in world.cells.iter().enumerate() {
            if let Some((place, start)) = meeting(world, c as u32, day) {
                let cam = nearest_camera(world, place);
                let mut read = Vec::new();
                for &m in cell {
                    if let Some(v) = world.people[m as usize].vehicle
                        && rng.random_bool(0.7)
                    {
                        buf.push((start - rng.random_range(300_000..1_800_000), v, cam));
                        read.push(v);
                    }
                }
                meeting_reads.push((c as u32, day, cam, read));
            }
        }
        buf.sort_unstable();
        for &(t, v, cam) in &buf {
            seq += 1;
            let mut e = src.event(
                "Sighting",
                EventTime {
                    start_ms: t,
                    end_ms: None,
                    original_text: None,
                    original_zone: None,
                },
            );
            e.source_id = Some(format!("ANPR{seq:09}"));
            e.participants = vec![
                NewParticipant::new(ParticipantRole::Participant, ids.vehicle[v as usize]),
                NewParticipant::new(ParticipantRole::Location, ids.camera[cam as usize]),
            ];
            w.event(e)?;
        }
    }
    Ok(meeting_reads)
}

#[cfg(test)]
mod tests {
    use super::super::testing::registered;
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_read_is_a_vehicle_at_a_camera_and_the_group_s_cars_come_to_meetings() {
        let mut h = registered(Scenario::Firearms, 300);
        let cancel = CancelToken::new();
        let (_, events) = h.write("anpr_reads.csv", |w, world, src, ids| {
            sightings(w, world, src, ids, &cancel)
        });
        let vehicles: HashSet<EntityId> = h.ids.vehicle.iter().copied().collect();
        let cameras: HashSet<EntityId> = h.ids.camera.iter().copied().collect();
        for e in &events {
            assert_eq!(e.event_type, "Sighting");
            let seen: Vec<_> = e.in_role(ParticipantRole::Participant).collect();
            let at_camera: Vec<_> = e.in_role(ParticipantRole::Location).collect();
            assert_eq!((seen.len(), at_camera.len()), (1, 1), "{e:?}");
            assert!(vehicles.contains(&seen[0]) && cameras.contains(&at_camera[0]));
        }
        // A car of a cell member is read 5 to 30 minutes before each of the cell's meetings
        // (seven times in ten).
        let world = &h.world;
        let (mut chances, mut seen) = (0u32, 0u32);
        for (c, cell) in world.cells.iter().enumerate() {
            for day in 0..world.r.days {
                let Some((_, start)) = meeting(world, c as u32, day) else {
                    continue;
                };
                for &m in cell {
                    let Some(v) = world.people[m as usize].vehicle else {
                        continue;
                    };
                    chances += 1;
                    let car = h.ids.vehicle[v as usize];
                    let came = events.iter().any(|e| {
                        e.in_role(ParticipantRole::Participant).any(|x| x == car)
                            && (start - 1_800_000..=start - 300_000).contains(&e.time.start_ms)
                    });
                    seen += u32::from(came);
                }
            }
        }
        assert!(chances >= 20, "{chances} chances");
        assert!(
            f64::from(seen) > 0.5 * f64::from(chances),
            "{seen} of {chances}"
        );
    }
}
