//! Writes a generated world into a case, one import batch per simulated source (population
//! register, records system, call records, bank statements, ANPR cameras, intelligence
//! reports, an unreliable informant), each with its own grading and random stream. Events are
//! generated a day at a time and streamed into the batch writer, so memory stays bounded by
//! one day of events.

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
    let (applied, ()) = case.import_streamed(
        batch("ANPR camera reads", &src.grading),
        |w| -> Result<(), GenerateError> {
            sightings(w, &world, &src, &ids, cancel)?;
            add(w);
            Ok(())
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

    progress.report(Some(0.97), "indexing");
    case.restore_indexes()?;

    let truth = build_truth(
        &world,
        &ids,
        provenance.clone(),
        dup_pairs,
        intel_out,
        sources,
        false_links,
        chains,
        structuring,
    );
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

fn register(
    w: &mut BatchWriter<'_>,
    world: &World,
    src: &Src,
    ids: &mut Ids,
    dir: Option<&Path>,
    files: &mut Vec<PathBuf>,
    cancel: &CancelToken,
) -> Result<(), GenerateError> {
    let mut people_csv = SourceCsv::open(
        dir,
        PEOPLE_CSV,
        &[
            "person_id",
            "first_name",
            "last_name",
            "birth_date",
            "gender",
            "phone",
            "address",
            "iban",
            "plate",
        ],
        files,
    )?;
    let mut ftm = FtmLines::open(dir, files)?;
    let address_text = |h: usize| {
        let a = &world.households[h];
        format!("{}, {} {}", a.street, a.postal, a.town)
    };
    for (h, a) in world.households.iter().enumerate() {
        let full = address_text(h);
        let mut e = src.entity("Address", full.clone(), format!("H{h}"));
        e.attributes = vec![
            src.attr("full", full),
            src.attr("street", a.street.clone()),
            src.attr("city", a.town),
            src.attr("postalCode", a.postal.clone()),
            src.attr("latitude", format!("{:.5}", a.lat)),
            src.attr("longitude", format!("{:.5}", a.lon)),
        ];
        ids.household.push(w.entity(e)?);
    }
    cancel.check()?;
    for (b, biz) in world.businesses.iter().enumerate() {
        let reg = format!("ZZ-{:08}", 10_000_000 + b * 7_919);
        let mut e = src.entity("Organization", biz.name.clone(), format!("B{b}"));
        e.attributes = vec![
            src.attr("registrationNumber", reg.clone()),
            src.attr("address", biz.town),
        ];
        ids.business.push(w.entity(e)?);
        ftm.entity(
            &format!("org-{b}"),
            "Company",
            &[
                ("name", &biz.name),
                ("registrationNumber", &reg),
                ("address", biz.town),
            ],
        )?;
    }
    let exchange = w.entity(src.entity(
        "Organization",
        "CoinHarbour Digital Assets".into(),
        "X0".into(),
    ))?;
    for (i, p) in world.people.iter().enumerate() {
        if i % 4096 == 0 {
            cancel.check()?;
        }
        let name = p.name();
        let phone = p
            .phones
            .first()
            .filter(|s| world.phones[s.0 as usize].subscriber == Some(i as u32))
            .map(|s| population::phone_number(s.0));
        let mut e = src.entity("Person", name.clone(), format!("P{i}"));
        e.attributes = vec![
            src.attr("firstName", p.first.clone()),
            src.attr("lastName", p.last.clone()),
            src.attr("birthDate", p.birth.clone()),
            src.attr("gender", p.gender),
            src.attr("address", address_text(p.household as usize)),
        ];
        if let Some(ph) = &phone {
            e.attributes.push(src.attr("phone", ph.clone()));
        }
        ids.person.push(w.entity(e)?);
        let iban = population::iban(world.account_of_person(i as u32));
        let plate = p.vehicle.map(population::plate).unwrap_or_default();
        let phone = phone.unwrap_or_default();
        let addr = address_text(p.household as usize);
        people_csv.row(&[
            &format!("P{i}"),
            &p.first,
            &p.last,
            &p.birth,
            p.gender,
            &phone,
            &addr,
            &iban,
            &plate,
        ])?;
        ftm.entity(
            &format!("person-{i}"),
            "Person",
            &[
                ("name", &name),
                ("firstName", &p.first),
                ("lastName", &p.last),
                ("birthDate", &p.birth),
                ("phone", &phone),
                ("address", &addr),
            ],
        )?;
    }
    cancel.check()?;
    for i in 0..world.phones.len() {
        let number = population::phone_number(i as u32);
        let mut e = src.entity("Phone", number.clone(), format!("T{i}"));
        let provider = if world.phones[i].subscriber.is_some() {
            "contract"
        } else {
            "prepaid"
        };
        e.attributes = vec![src.attr("number", number), src.attr("provider", provider)];
        ids.phone.push(w.entity(e)?);
    }
    for a in 0..world.account_count() {
        let iban = population::iban(a);
        let bank = if a >= world.account_of_exchange(0) {
            "CoinHarbour Digital Assets"
        } else {
            ["Westmark Bank", "Union Savings", "Northgate Credit"][(a % 3) as usize]
        };
        let mut e = src.entity("BankAccount", iban.clone(), format!("A{a}"));
        e.attributes = vec![
            src.attr("iban", iban),
            src.attr("bankName", bank),
            src.attr("currency", "EUR"),
        ];
        ids.account.push(w.entity(e)?);
    }
    cancel.check()?;
    const MODELS: &[&str] = &["Ford Focus", "VW Golf", "Toyota Yaris", "BMW 3", "Audi A4"];
    const COLOURS: &[&str] = &["black", "silver", "white", "blue", "red", "grey"];
    for (v, _) in world.vehicle_owner.iter().enumerate() {
        let plate = population::plate(v as u32);
        let mut e = src.entity("Vehicle", plate.clone(), format!("V{v}"));
        e.attributes = vec![
            src.attr("plate", plate),
            src.attr("model", MODELS[v % MODELS.len()]),
            src.attr("colour", COLOURS[(v / 5) % COLOURS.len()]),
        ];
        ids.vehicle.push(w.entity(e)?);
    }
    for (list, out, prefix) in [
        (&world.cameras, &mut ids.camera, "CAM"),
        (&world.places, &mut ids.place, "PL"),
    ] {
        for (k, place) in list.iter().enumerate() {
            let mut e = src.entity("Location", place.name.clone(), format!("{prefix}{k}"));
            e.attributes = vec![
                src.attr("latitude", format!("{:.5}", place.lat)),
                src.attr("longitude", format!("{:.5}", place.lon)),
                src.attr("kind", place.kind),
            ];
            out.push(w.entity(e)?);
        }
    }

    // Links the register knows: residence, employment, ownership, subscription, family.
    for (i, p) in world.people.iter().enumerate() {
        if i % 4096 == 0 {
            cancel.check()?;
        }
        let me = ids.person[i];
        w.link(src.link("located_at", me, ids.household[p.household as usize], true))?;
        if let Some(b) = p.employer {
            let ty = if world.businesses[b as usize].front_of == Some(i as u32) {
                "owns"
            } else {
                "employed_by"
            };
            w.link(src.link(ty, me, ids.business[b as usize], true))?;
        }
        w.link(src.link(
            "owns",
            me,
            ids.account[world.account_of_person(i as u32) as usize],
            true,
        ))?;
        if let Some(v) = p.vehicle {
            w.link(src.link("owns", me, ids.vehicle[v as usize], true))?;
        }
        if let Some(&(ph, ..)) = p.phones.first()
            && world.phones[ph as usize].subscriber.is_some()
        {
            w.link(src.link("uses", me, ids.phone[ph as usize], true))?;
        }
        if i > 0 && world.people[i - 1].household == p.household {
            let mut j = i;
            while j > 0 && world.people[j - 1].household == p.household {
                j -= 1;
                w.link(src.link("family", ids.person[j], me, false))?;
            }
        }
    }
    for b in 0..world.businesses.len() {
        w.link(src.link(
            "owns",
            ids.business[b],
            ids.account[world.account_of_business(b as u32) as usize],
            true,
        ))?;
    }
    for x in 0..world.exchange_accounts {
        w.link(src.link(
            "owns",
            exchange,
            ids.account[world.account_of_exchange(x) as usize],
            true,
        ))?;
    }
    people_csv.finish()?;
    ftm.finish()
}

fn records_system(
    w: &mut BatchWriter<'_>,
    world: &World,
    src: &Src,
    ids: &Ids,
) -> Result<Vec<truth::DuplicatePair>, GenerateError> {
    let mut pairs = Vec::new();
    for (k, &p) in world.duplicates.iter().enumerate() {
        let person = &world.people[p as usize];
        let first = population::spelling_variant(&person.first);
        let last = if k % 2 == 0 {
            person.last.clone()
        } else {
            population::spelling_variant(&person.last)
        };
        // Records systems write surname first, in capitals.
        let label = format!("{}, {}", last.to_uppercase(), first);
        let mut e = src.entity("Person", label, format!("RMS-{:05}", 1000 + k));
        e.attributes = vec![
            src.attr("firstName", first),
            src.attr("lastName", last),
            src.attr("birthDate", person.birth.clone()),
        ];
        if let Some(&(ph, ..)) = person.phones.first() {
            e.attributes
                .push(src.attr("phone", population::phone_national(ph)));
        }
        if let Some(alias) = person.alias {
            e.attributes.push(src.attr("alias", alias));
        }
        let dup = w.entity(e)?;
        pairs.push(truth::DuplicatePair {
            original: ids.person[p as usize],
            duplicate: dup,
        });
    }
    Ok(pairs)
}

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
fn calls(
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

/// One transaction before writing: time, from account, to account, cents, type.
type TxRow = (i64, Option<u32>, Option<u32>, i64, &'static str);

/// Bank statements: ordinary payments, structured cash deposits and mule chains.
fn bank(
    w: &mut BatchWriter<'_>,
    world: &World,
    src: &Src,
    ids: &Ids,
    dir: Option<&Path>,
    files: &mut Vec<PathBuf>,
    cancel: &CancelToken,
) -> Result<(Vec<Vec<EntityId>>, Vec<EntityId>), GenerateError> {
    let mut rng = stream(world.r.seed, 4);
    let mut csv = SourceCsv::open(
        dir,
        BANK_CSV,
        &[
            // The column names of the built-in `bank` import template.
            "transaction_id",
            "date",
            "from_account",
            "to_account",
            "amount",
            "currency",
            "reference",
        ],
        files,
    )?;
    let mut cum = HOURLY;
    cum[0..7].iter_mut().for_each(|v| *v *= 0.2);
    for h in 1..24 {
        cum[h] += cum[h - 1];
    }
    let n_people = world.people.len() as u32;
    let n_biz = world.businesses.len() as u32;
    let days = world.r.days;
    let per_day =
        world.r.target_events as f64 * shares(world.r.scenario).transactions / f64::from(days);
    // One fixed chain per cell: lieutenant -> mule -> mule -> exchange.
    let chains: Vec<Vec<u32>> = world
        .cells
        .iter()
        .enumerate()
        .map(|(c, cell)| {
            let lt = cell
                .iter()
                .copied()
                .find(|&m| world.people[m as usize].role == Role::Lieutenant)
                .unwrap_or(cell[0]);
            vec![
                world.account_of_person(lt),
                world.account_of_person(world.mules[2 * c]),
                world.account_of_person(world.mules[2 * c + 1]),
                world.account_of_exchange(c as u32 % world.exchange_accounts),
            ]
        })
        .collect();
    let structurers: Vec<u32> = world
        .cells
        .iter()
        .flatten()
        .copied()
        .filter(|&m| world.people[m as usize].role == Role::Courier)
        .collect();
    // (time, from account, to account, cents, type)
    let mut buf: Vec<TxRow> = Vec::new();
    let mut seq = 0u64;
    let lognormal_cents = |rng: &mut ChaCha8Rng, mu: f64| -> i64 {
        ((mu + 0.9 * normal(rng)).exp() * 100.0).round().max(100.0) as i64
    };
    for day in 0..days {
        cancel.check()?;
        buf.clear();
        let n = poisson(&mut rng, per_day * WEEKLY[(day % 7) as usize]);
        for _ in 0..n {
            let t = at(day, hour_sample(&mut rng, &cum));
            let p = rng.random_range(0..n_people);
            let acct = world.account_of_person(p);
            let k = rng.random_range(0..100);
            let row = if k < 45 {
                let b = rng.random_range(0..n_biz);
                (
                    Some(acct),
                    Some(world.account_of_business(b)),
                    lognormal_cents(&mut rng, 3.3),
                    "card payment",
                )
            } else if k < 70 {
                let contacts = &world.contacts[p as usize];
                let q = if contacts.is_empty() {
                    rng.random_range(0..n_people)
                } else {
                    contacts[rng.random_range(0..contacts.len())]
                };
                (
                    Some(acct),
                    Some(world.account_of_person(q)),
                    lognormal_cents(&mut rng, 4.0),
                    "transfer",
                )
            } else if k < 85 {
                (
                    Some(acct),
                    None,
                    lognormal_cents(&mut rng, 4.0),
                    "cash withdrawal",
                )
            } else if k < 95 {
                (
                    None,
                    Some(acct),
                    lognormal_cents(&mut rng, 4.5),
                    "cash deposit",
                )
            } else {
                let b = world.people[p as usize].employer.unwrap_or(p % n_biz);
                (
                    Some(world.account_of_business(b)),
                    Some(acct),
                    lognormal_cents(&mut rng, 7.5),
                    "salary",
                )
            };
            buf.push((t, row.0, row.1, row.2, row.3));
        }
        // Couriers deposit cash in amounts just under the reporting threshold.
        for &m in &structurers {
            if world.arrested.contains(&m) && day >= world.incident_day {
                continue;
            }
            if rng.random_bool(0.25) {
                let cents = THRESHOLD_CENTS - rng.random_range(5_000..100_000);
                let t = at(day, rng.random_range(9..16) * 3_600_000);
                buf.push((
                    t,
                    None,
                    Some(world.account_of_person(m)),
                    cents,
                    "cash deposit",
                ));
            }
        }
        // Weekly mule chains, each hop a few hours after the last, minus a cut.
        for (c, chain) in chains.iter().enumerate() {
            if (day + c as u32) % 7 != 1 {
                continue;
            }
            let mut cents = rng.random_range(1_500_000..4_000_000i64);
            let mut t = at(day, 10 * 3_600_000);
            for hop in chain.windows(2) {
                buf.push((t, Some(hop[0]), Some(hop[1]), cents, "transfer"));
                t += rng.random_range(1..6) * 3_600_000;
                cents = cents * rng.random_range(97..100) / 100;
            }
        }
        if world.r.scenario == Scenario::Fraud {
            // Victims of the fraud pay into mule accounts.
            for _ in 0..poisson(&mut rng, 0.02 * f64::from(n_people).sqrt()) {
                let victim = rng.random_range(0..n_people);
                let mule = world.mules[rng.random_range(0..world.mules.len())];
                let t = at(day, hour_sample(&mut rng, &cum));
                let cents = rng.random_range(20_000..300_000);
                buf.push((
                    t,
                    Some(world.account_of_person(victim)),
                    Some(world.account_of_person(mule)),
                    cents,
                    "transfer",
                ));
            }
        }
        buf.sort_unstable();
        for &(t, from, to, cents, kind) in &buf {
            seq += 1;
            let source_id = format!("TX{seq:09}");
            let mut e = src.event(
                "Transaction",
                EventTime {
                    start_ms: t,
                    end_ms: None,
                    original_text: None,
                    original_zone: None,
                },
            );
            e.source_id = Some(source_id.clone());
            if let Some(f) = from {
                e.participants.push(NewParticipant::new(
                    ParticipantRole::From,
                    ids.account[f as usize],
                ));
            }
            if let Some(to) = to {
                e.participants.push(NewParticipant::new(
                    ParticipantRole::To,
                    ids.account[to as usize],
                ));
            }
            let amount = cents_text(cents);
            e.attributes = vec![
                src.attr("amount", amount.clone()),
                src.attr("currency", "EUR"),
                src.attr("transactionType", kind),
            ];
            w.event(e)?;
            if csv.enabled() {
                csv.row(&[
                    &source_id,
                    &time_text(t),
                    &from.map(population::iban).unwrap_or_default(),
                    &to.map(population::iban).unwrap_or_default(),
                    &amount,
                    "EUR",
                    kind,
                ])?;
            }
        }
    }
    csv.finish()?;
    let chains = chains
        .iter()
        .map(|c| c.iter().map(|&a| ids.account[a as usize]).collect())
        .collect();
    let mut structuring: Vec<EntityId> = structurers
        .iter()
        .map(|&m| ids.account[world.account_of_person(m) as usize])
        .collect();
    structuring.sort_unstable();
    Ok((chains, structuring))
}

/// ANPR reads: ordinary traffic, and the group's cars near their meetings.
fn sightings(
    w: &mut BatchWriter<'_>,
    world: &World,
    src: &Src,
    ids: &Ids,
    cancel: &CancelToken,
) -> Result<(), GenerateError> {
    let mut rng = stream(world.r.seed, 5);
    let mut cum = HOURLY;
    for h in 1..24 {
        cum[h] += cum[h - 1];
    }
    let days = world.r.days;
    let per_day =
        world.r.target_events as f64 * shares(world.r.scenario).sightings / f64::from(days);
    let n_cam = world.cameras.len() as u32;
    let nearest_camera = |place: u32| -> u32 {
        let p = &world.places[place as usize];
        let mut best = (f64::MAX, 0);
        for (i, c) in world.cameras.iter().enumerate() {
            let d = (c.lat - p.lat).powi(2) + (c.lon - p.lon).powi(2);
            if d < best.0 {
                best = (d, i as u32);
            }
        }
        best.1
    };
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
                let cam = nearest_camera(place);
                for &m in cell {
                    if let Some(v) = world.people[m as usize].vehicle
                        && rng.random_bool(0.7)
                    {
                        buf.push((start - rng.random_range(300_000..1_800_000), v, cam));
                    }
                }
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
    Ok(())
}

struct IntelOut {
    incidents: Vec<truth::IncidentTruth>,
    aliases: Vec<truth::AliasTruth>,
}

/// Surveillance and intelligence: the group's associations, burner phones, aliases,
/// meetings and the incident.
fn intelligence(
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
    for day in 0..world.r.days {
        for (c, cell) in world.cells.iter().enumerate() {
            if let Some((place, start)) = meeting(world, c as u32, day)
                && rng.random_bool(0.5)
            {
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
                    }
                }
                if e.participants.is_empty() {
                    continue;
                }
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
    })
}

fn day_text(day: u32) -> String {
    chrono::DateTime::from_timestamp_millis(at(day, 0))
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

/// The unreliable informant: half true associations, half invented ones.
fn informant(
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

#[allow(clippy::too_many_arguments)] // reason: gathers the outputs of every source
fn build_truth(
    world: &World,
    ids: &Ids,
    generator: serde_json::Value,
    duplicates: Vec<truth::DuplicatePair>,
    intel: IntelOut,
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
        phone_swaps: world
            .swaps
            .iter()
            .map(|s| truth::PhoneSwap {
                person: person(s.person),
                old_phone: phone(s.old_phone),
                new_phone: phone(s.new_phone),
                at_ms: at(s.day, 0),
            })
            .collect(),
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
    }
}
