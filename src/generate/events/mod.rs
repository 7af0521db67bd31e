//! Writes a generated world into a case, one import batch per simulated source, each with its
//! own grading and random stream, in a file of its own: the population register and records
//! system ([`register`]), call records ([`calls`]), bank statements ([`payments`]), ANPR
//! cameras ([`sightings`]), surveillance reports with the incident and an unreliable
//! informant ([`reports`]). Events are generated a day at a time and streamed into the batch
//! writer, so memory stays bounded by one day of events. This file holds what the sources
//! share and the order they are written in.

mod calls;
mod documents;
mod payments;
mod register;
mod reports;
mod sightings;

use calls::calls;
use payments::bank;
use register::{records_system, register};
use reports::{IntelOut, informant, intelligence};
use sightings::sightings;

use super::population::{self, Role, World, stream};
use super::sources::{BANK_CSV, CALLS_CSV, FtmLines, PEOPLE_CSV, SourceCsv};
use super::truth::{self, Truth};
use super::{DAY_MS, GenerateError, GenerateSummary, PERIOD_START_MS, Resolved, Scenario};
use crate::jobs::{CancelToken, Progress};
use crate::model::{
    BatchId, EntityId, EventTime, Grading, ItemRef, LinkId, NewAttribute, NewEntity, NewEvent,
    NewLink, NewParticipant, ParticipantRole, Provenance,
};
use crate::store::{BatchWriter, Case, NewBatch};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};

/// Calls per hour of day, relative (people sleep at night, peak in the evening).
const HOURLY: [f64; 24] = [
    1.0, 0.5, 0.3, 0.2, 0.2, 0.4, 1.0, 3.0, 5.0, 6.0, 6.0, 6.0, 7.0, 6.0, 6.0, 6.0, 6.0, 7.0, 8.0,
    8.0, 7.0, 5.0, 3.0, 2.0,
];
/// Relative volume per weekday, Monday first (the period starts on a Monday).
const WEEKLY: [f64; 7] = [1.0, 1.0, 1.0, 1.0, 1.05, 0.85, 0.7];
/// Reporting threshold for cash deposits; structured deposits stay just below it.
const THRESHOLD_CENTS: i64 = 1_000_000;

fn grading(source: &str, information: &str) -> Option<Grading> {
    Some(Grading {
        scheme: "admiralty".into(),
        source: Some(source.into()),
        information: Some(information.into()),
        handling: None,
    })
}

/// Provenance and grading shared by every item of one source.
#[derive(Clone)]
struct Src {
    file: &'static str,
    grading: Option<Grading>,
}

impl Src {
    fn prov(&self) -> Provenance {
        Provenance {
            batch: None,
            source_file: Some(self.file.into()),
            record: None,
        }
    }

    fn entity(&self, ty: &str, label: String, source_id: String) -> NewEntity {
        NewEntity {
            source_id: Some(source_id),
            provenance: self.prov(),
            grading: self.grading.clone(),
            ..NewEntity::new(ty, label)
        }
    }

    fn attr(&self, property: &str, value: impl Into<String>) -> NewAttribute {
        NewAttribute {
            property: property.into(),
            value: value.into(),
            provenance: self.prov(),
            grading: self.grading.clone(),
        }
    }

    fn link(&self, ty: &str, a: EntityId, b: EntityId, directed: bool) -> NewLink {
        NewLink {
            directed,
            provenance: self.prov(),
            grading: self.grading.clone(),
            ..NewLink::new(ty, a, b)
        }
    }

    fn event(&self, ty: &str, time: EventTime) -> NewEvent {
        NewEvent {
            provenance: self.prov(),
            grading: self.grading.clone(),
            ..NewEvent::new(ty, time)
        }
    }
}

/// Entity ids of the world's things, by index.
#[derive(Default)]
struct Ids {
    person: Vec<EntityId>,
    household: Vec<EntityId>,
    business: Vec<EntityId>,
    phone: Vec<EntityId>,
    account: Vec<EntityId>,
    vehicle: Vec<EntityId>,
    camera: Vec<EntityId>,
    place: Vec<EntityId>,
}

fn at(day: u32, ms_of_day: i64) -> i64 {
    PERIOD_START_MS + i64::from(day) * DAY_MS + ms_of_day
}

fn time_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn hour_sample(rng: &mut ChaCha8Rng, cum: &[f64; 24]) -> i64 {
    let x = rng.random::<f64>() * cum[23];
    let h = cum.partition_point(|&c| c <= x).min(23) as i64;
    h * 3_600_000 + rng.random_range(0..3_600_000)
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn poisson(rng: &mut ChaCha8Rng, lambda: f64) -> u32 {
    if lambda <= 0.0 {
        return 0;
    }
    if lambda > 30.0 {
        return (lambda + lambda.sqrt() * normal(rng)).round().max(0.0) as u32;
    }
    let l = (-lambda).exp();
    let mut k = 0;
    let mut p = 1.0;
    loop {
        p *= rng.random::<f64>();
        if p <= l {
            return k;
        }
        k += 1;
    }
}

fn cents_text(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

struct Shares {
    calls: f64,
    transactions: f64,
    sightings: f64,
}

fn shares(s: Scenario) -> Shares {
    match s {
        Scenario::Fraud => Shares {
            calls: 0.58,
            transactions: 0.30,
            sightings: 0.12,
        },
        _ => Shares {
            calls: 0.70,
            transactions: 0.18,
            sightings: 0.12,
        },
    }
}

/// The meeting a cell holds on a day, if any: (place index, start ms).
fn meeting(world: &World, cell: u32, day: u32) -> Option<(u32, i64)> {
    if (day + cell) % 7 != 3 {
        return None;
    }
    if cell == 0 && day >= world.incident_day && day < world.incident_day + 9 {
        return None;
    }
    let place = (cell + day / 7) % world.places.len() as u32;
    Some((place, at(day, i64::from(18 + cell % 4) * 3_600_000)))
}

fn incident_ms(world: &World) -> i64 {
    at(world.incident_day, 6 * 3_600_000)
}

/// Runs the whole generation into an open, new case.
pub(crate) fn write_case(
    case: &mut Case,
    r: &Resolved,
    dir: Option<&Path>,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<GenerateSummary, GenerateError> {
    progress.report(Some(0.0), "building the population");
    let world = population::build(r);
    cancel.check()?;
    let mut files: Vec<PathBuf> = Vec::new();
    let mut ids = Ids::default();
    let mut totals = (0u64, 0u64, 0u64);
    let mut sources = Vec::new();
    let provenance = r.provenance();
    let batch = |name: &str, g: &Option<Grading>| NewBatch {
        kind: "generator".into(),
        description: format!(
            "{name} (generated: scenario {}, seed {}, generator version {})",
            r.scenario.as_str(),
            r.seed,
            super::GENERATOR_VERSION
        ),
        source_path: None,
        source_sha256: None,
        source_bytes: None,
        spec: Some(provenance.clone()),
        review_date: None,
        grading: g.clone(),
    };
    let mut add = |w: &BatchWriter<'_>| {
        totals.0 += w.entities;
        totals.1 += w.links;
        totals.2 += w.events;
    };

    // Seven batches fill this new case, each larger than what is there before it: each index
    // is built once at the end instead of kept up to date row by row (`defer_indexes`).
    case.defer_indexes()?;

    // 1. Population register and subscriber records.
    let src = Src {
        file: PEOPLE_CSV,
        grading: grading("A", "2"),
    };
    let (applied, ()) = case.import_streamed(
        batch("Population register and subscriber records", &src.grading),
        |w| -> Result<(), GenerateError> {
            register(w, &world, &src, &mut ids, dir, &mut files, cancel)?;
            add(w);
            Ok(())
        },
    )?;
    sources.push(source_truth(&applied, "population register", "A2", true));
    progress.report(Some(0.05), "records system");

    // 2. Records system: the same people entered again with spelling variants.
    let src = Src {
        file: "records_system.csv",
        grading: grading("C", "3"),
    };
    let (applied, dup_pairs) = case.import_streamed(
        batch("Police records system extract", &src.grading),
        |w| -> Result<Vec<truth::DuplicatePair>, GenerateError> {
            let pairs = records_system(w, &world, &src, &ids)?;
            add(w);
            Ok(pairs)
        },
    )?;
    sources.push(source_truth(&applied, "records system", "C3", true));

    // 3. Call records.
    progress.report(Some(0.08), "call records");
    let src = Src {
        file: CALLS_CSV,
        grading: grading("A", "1"),
    };
    let (applied, ()) = case.import_streamed(
        batch("Call detail records", &src.grading),
        |w| -> Result<(), GenerateError> {
            calls(w, &world, &src, &ids, dir, &mut files, cancel, progress)?;
            add(w);
            Ok(())
        },
    )?;
    sources.push(source_truth(&applied, "call records", "A1", true));

    // 4. Bank statements.
    progress.report(Some(0.7), "bank statements");
    let src = Src {
        file: BANK_CSV,
        grading: grading("A", "2"),
    };
    let (applied, (chains, structuring)) = case.import_streamed(
        batch("Bank statements", &src.grading),
        |w| -> Result<(Vec<Vec<EntityId>>, Vec<EntityId>), GenerateError> {
            let out = bank(w, &world, &src, &ids, dir, &mut files, cancel)?;
            add(w);
            Ok(out)
        },
    )?;
    sources.push(source_truth(&applied, "bank statements", "A2", true));

    // 5. ANPR camera reads.
    progress.report(Some(0.85), "camera reads");
    let src = Src {
        file: "anpr_reads.csv",
        grading: grading("B", "2"),
    };
    let (applied, meeting_reads) = case.import_streamed(
        batch("ANPR camera reads", &src.grading),
        |w| -> Result<sightings::MeetingReads, GenerateError> {
            let reads = sightings(w, &world, &src, &ids, cancel)?;
            add(w);
            Ok(reads)
        },
    )?;
    sources.push(source_truth(&applied, "ANPR cameras", "B2", true));

    // 6. Surveillance and intelligence reports.
    progress.report(Some(0.95), "intelligence reports");
    let src = Src {
        file: "intelligence_reports",
        grading: grading("B", "2"),
    };
    let (applied, intel_out) = case.import_streamed(
        batch("Surveillance and intelligence reports", &src.grading),
        |w| -> Result<IntelOut, GenerateError> {
            let out = intelligence(w, &world, &src, &ids)?;
            add(w);
            Ok(out)
        },
    )?;
    sources.push(source_truth(&applied, "intelligence reports", "B2", true));

    // 7. An unreliable informant: some true links, some invented.
    let src = Src {
        file: "informant_nightjar",
        grading: grading("E", "5"),
    };
    let (applied, false_links) = case.import_streamed(
        batch("Informant NIGHTJAR reporting", &src.grading),
        |w| -> Result<Vec<LinkId>, GenerateError> {
            let out = informant(w, &world, &src, &ids)?;
            add(w);
            Ok(out)
        },
    )?;
    sources.push(source_truth(&applied, "informant NIGHTJAR", "E5", false));

    // 8. Documents, when asked for.
    let mut planted_documents = Vec::new();
    if r.documents > 0 {
        progress.report(Some(0.96), "documents");
        let src = Src {
            file: "seized_documents",
            grading: grading("B", "2"),
        };
        let (applied, docs) = case.import_streamed(
            batch("Statements and surveillance logs", &src.grading),
            |w| -> Result<Vec<truth::DocumentTruth>, GenerateError> {
                let out = documents::documents(w, &world, &src, &ids, r.documents)?;
                add(w);
                Ok(out)
            },
        )?;
        sources.push(source_truth(&applied, "statements and logs", "B2", true));
        planted_documents = docs;
    }

    progress.report(Some(0.97), "indexing");
    case.restore_indexes()?;

    let mut truth = build_truth(
        &world,
        &ids,
        provenance.clone(),
        dup_pairs,
        intel_out,
        &meeting_reads,
        sources,
        false_links,
        chains,
        structuring,
    );
    truth.documents = planted_documents;
    case.set_ground_truth(
        truth::TRUTH_KEY,
        &serde_json::to_value(&truth).map_err(crate::store::StoreError::from)?,
    )?;
    case.mark_training(serde_json::json!({"generator": provenance}))?;
    progress.report(Some(1.0), "done");
    Ok(GenerateSummary {
        path: PathBuf::new(),
        scenario: r.scenario,
        seed: r.seed,
        people: r.people,
        days: r.days,
        entities: totals.0,
        links: totals.1,
        events: totals.2,
        source_files: files,
    })
}

fn source_truth(
    applied: &crate::store::Applied,
    name: &str,
    grade: &str,
    reliable: bool,
) -> truth::SourceTruth {
    truth::SourceTruth {
        batch: applied.batch.unwrap_or(BatchId(0)),
        name: name.into(),
        grade: grade.into(),
        reliable,
    }
}

#[allow(clippy::too_many_arguments)] // reason: gathers the outputs of every source
fn build_truth(
    world: &World,
    ids: &Ids,
    generator: serde_json::Value,
    duplicates: Vec<truth::DuplicatePair>,
    intel: IntelOut,
    meeting_reads: &sightings::MeetingReads,
    sources: Vec<truth::SourceTruth>,
    false_links: Vec<LinkId>,
    mule_chains: Vec<Vec<EntityId>>,
    structuring_accounts: Vec<EntityId>,
) -> Truth {
    let mut members = Vec::new();
    for (i, p) in world.people.iter().enumerate() {
        if p.role == Role::Background {
            continue;
        }
        let mut phones: Vec<EntityId> = p.phones.iter().map(|s| ids.phone[s.0 as usize]).collect();
        phones.dedup();
        members.push(truth::Member {
            entity: ids.person[i],
            name: p.name(),
            role: p.role.as_str().into(),
            cell: p.cell,
            phones,
        });
    }
    let person = |p: u32| ids.person[p as usize];
    let phone = |p: u32| ids.phone[p as usize];
    let burst_start = at(world.burst_start_day, 0);
    let burst_end = incident_ms(world);
    let hit = world.hit_cell();
    let mut burst_phones: Vec<EntityId> = hit
        .iter()
        .flat_map(|&m| {
            world.people[m as usize]
                .phones
                .iter()
                .filter(|s| s.1 < world.incident_day && s.2 > world.burst_start_day)
                .map(|s| phone(s.0))
                .collect::<Vec<_>>()
        })
        .collect();
    burst_phones.sort_unstable();
    burst_phones.dedup();
    Truth {
        generator,
        members,
        leaders: world.leaders.iter().map(|&l| person(l)).collect(),
        duplicates,
        aliases: intel.aliases,
        handovers: world
            .handovers
            .iter()
            .map(|h| truth::Handover {
                phone: phone(h.phone),
                from: person(h.from),
                to: person(h.to),
                at_ms: at(h.day, 0),
            })
            .collect(),
        phone_swaps: planted_swaps(world)
            .into_iter()
            .map(|(p, old, new, day)| truth::PhoneSwap {
                person: person(p),
                old_phone: phone(old),
                new_phone: phone(new),
                at_ms: at(day, 0),
                // Matched by person and new phone: when a burner rotation fell on the swap
                // day, the swap's recorded old phone is one the person never used, and the
                // real change is from the phone before it.
                reason: if world
                    .swaps
                    .iter()
                    .any(|s| s.person == p && s.new_phone == new)
                {
                    "after the incident".into()
                } else {
                    "burner rotation".into()
                },
            })
            .collect(),
        meetings: meeting_truth(world, ids, &intel.meetings_reported, meeting_reads),
        burst: truth::Burst {
            start_ms: burst_start,
            end_ms: burst_end,
            persons: hit.iter().map(|&m| person(m)).collect(),
            phones: burst_phones,
        },
        incidents: intel.incidents,
        sources,
        false_links,
        mule_chains,
        structuring_accounts,
        documents: Vec::new(),
    }
}

/// Every swap in the final phone plan: a person's phone followed the same day by one nobody
/// used before, the old one used by nobody afterwards (so hand-overs, where the phone stays
/// in use, are not swaps). (person, old phone, new phone, day), in person order.
fn planted_swaps(world: &World) -> Vec<(u32, u32, u32, u32)> {
    // Phone -> (first day anyone used it, day after anyone last used it).
    let mut span: std::collections::BTreeMap<u32, (u32, u32)> = Default::default();
    for p in &world.people {
        for &(ph, from, to) in &p.phones {
            let e = span.entry(ph).or_insert((from, to));
            e.0 = e.0.min(from);
            e.1 = e.1.max(to);
        }
    }
    let mut out = Vec::new();
    for (i, p) in world.people.iter().enumerate() {
        let mut phones = p.phones.clone();
        phones.sort_by_key(|s| s.1);
        for w in phones.windows(2) {
            let ((old, _, old_end), (new, new_start, _)) = (w[0], w[1]);
            if old != new
                && old_end == new_start
                && span[&old].1 == old_end
                && span[&new].0 == new_start
            {
                out.push((i as u32, old, new, new_start));
            }
        }
    }
    out
}

/// The cells' meetings with who the evidence shows at each.
fn meeting_truth(
    world: &World,
    ids: &Ids,
    reported: &[(u32, u32, Vec<EntityId>)],
    reads: &sightings::MeetingReads,
) -> Vec<truth::MeetingTruth> {
    let mut out = Vec::new();
    for &(cell, day, camera, ref vehicles) in reads {
        let Some((place, start)) = meeting(world, cell, day) else {
            continue;
        };
        out.push(truth::MeetingTruth {
            cell,
            place: ids.place[place as usize],
            camera: ids.camera[camera as usize],
            start_ms: start,
            persons_reported: reported
                .iter()
                .find(|r| r.0 == cell && r.1 == day)
                .map(|r| r.2.clone())
                .unwrap_or_default(),
            vehicles_read: vehicles.iter().map(|&v| ids.vehicle[v as usize]).collect(),
        });
    }
    out.sort_by_key(|m| (m.start_ms, m.cell));
    out
}

/// What the tests of each source share: a small world and a new case holding its population
/// register, into which one source at a time is written as its own batch.
#[cfg(test)]
pub(super) mod testing {
    use super::*;
    use crate::model::Event;
    use crate::store::Actor;

    pub(super) struct Harness {
        _dir: tempfile::TempDir,
        pub(super) case: Case,
        pub(super) world: World,
        pub(super) ids: Ids,
    }

    /// A world of `people` people over 60 days (seed 7) and a case holding its register.
    pub(super) fn registered(scenario: Scenario, people: u32) -> Harness {
        let opts = super::super::GenerateOptions {
            scenario,
            seed: 7,
            size: super::super::Size::Small,
            people: Some(people),
            days: Some(60),
            sources_dir: None,
            documents: 0,
        };
        let r = Resolved::from(&opts).unwrap();
        let world = population::build(&r);
        let dir = tempfile::tempdir().unwrap();
        let actor = Actor {
            os_user: "tester".into(),
            analyst: "Test Analyst".into(),
        };
        let mut case = Case::create(&dir.path().join("g.copkit"), "t", actor, "test").unwrap();
        let mut ids = Ids::default();
        let src = Src {
            file: PEOPLE_CSV,
            grading: grading("A", "2"),
        };
        case.import_streamed(
            NewBatch {
                kind: "generator".into(),
                description: "register".into(),
                ..Default::default()
            },
            |w| -> Result<(), GenerateError> {
                register(
                    w,
                    &world,
                    &src,
                    &mut ids,
                    None,
                    &mut Vec::new(),
                    &CancelToken::new(),
                )
            },
        )
        .unwrap();
        Harness {
            _dir: dir,
            case,
            world,
            ids,
        }
    }

    impl Harness {
        /// Writes one source as a batch of its own; returns what it returned and the events
        /// of that batch, in id order.
        pub(super) fn write<T>(
            &mut self,
            file: &'static str,
            fill: impl FnOnce(&mut BatchWriter<'_>, &World, &Src, &Ids) -> Result<T, GenerateError>,
        ) -> (T, Vec<Event>) {
            let src = Src {
                file,
                grading: grading("B", "2"),
            };
            let (world, ids) = (&self.world, &self.ids);
            let (applied, out) = self
                .case
                .import_streamed(
                    NewBatch {
                        kind: "generator".into(),
                        description: file.into(),
                        ..Default::default()
                    },
                    |w| fill(w, world, &src, ids),
                )
                .unwrap();
            let events = self
                .case
                .snapshot()
                .unwrap()
                .events
                .iter()
                .filter(|e| e.provenance.batch == applied.batch)
                .cloned()
                .collect();
            (out, events)
        }

        /// The first millisecond after the period.
        pub(super) fn period_end_ms(&self) -> i64 {
            at(self.world.r.days, 0)
        }
    }
}
