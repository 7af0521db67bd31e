//! The simulated world before any evidence is written: people in households, their social
//! ties, phones over time, accounts, vehicles, employers, and the planted group in cells.
//! Everything here is proportional to the number of people, never to the number of events.

mod names;
use names::*;

use super::Resolved;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A deterministic random stream for one part of the generator.
pub(crate) fn stream(seed: u64, stream: u64) -> ChaCha8Rng {
    // SplitMix64 finaliser, so nearby seeds and stream numbers give unrelated streams.
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ChaCha8Rng::seed_from_u64(z ^ (z >> 31))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Leader,
    Lieutenant,
    Courier,
    Broker,
    Supplier,
    Buyer,
    Mule,
    Family,
    Background,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Leader => "leader",
            Role::Lieutenant => "lieutenant",
            Role::Courier => "courier",
            Role::Broker => "broker",
            Role::Supplier => "supplier",
            Role::Buyer => "buyer",
            Role::Mule => "mule",
            Role::Family => "family",
            Role::Background => "background",
        }
    }

    /// Members of the group proper (in a cell).
    pub fn in_group(self) -> bool {
        matches!(
            self,
            Role::Leader | Role::Lieutenant | Role::Courier | Role::Broker
        )
    }
}

pub(crate) struct Person {
    pub first: String,
    pub last: String,
    pub birth: String,
    pub gender: &'static str,
    pub role: Role,
    pub cell: Option<u32>,
    /// For brokers, the second cell they bridge to.
    pub bridge: Option<u32>,
    pub household: u32,
    pub employer: Option<u32>,
    pub vehicle: Option<u32>,
    pub alias: Option<&'static str>,
    /// Phones over time: (phone, first day, day after the last).
    pub phones: Vec<(u32, u32, u32)>,
}

impl Person {
    pub fn name(&self) -> String {
        format!("{} {}", self.first, self.last)
    }

    /// The phone in use on a day, if any.
    pub fn phone_on(&self, day: u32) -> Option<u32> {
        self.phones
            .iter()
            .find(|(_, from, to)| (*from..*to).contains(&day))
            .map(|p| p.0)
    }
}

pub(crate) struct Household {
    pub street: String,
    pub town: &'static str,
    pub postal: String,
    pub lat: f64,
    pub lon: f64,
}

pub(crate) struct Business {
    pub name: String,
    pub town: &'static str,
    /// Owned by a group leader and used to launder money.
    pub front_of: Option<u32>,
}

pub(crate) struct PlaceRec {
    pub name: String,
    pub kind: &'static str,
    pub lat: f64,
    pub lon: f64,
}

pub(crate) struct PhoneRec {
    /// Registered to a subscriber (else a prepaid burner, known only from intelligence).
    pub subscriber: Option<u32>,
}

pub(crate) struct Handover {
    pub phone: u32,
    pub from: u32,
    pub to: u32,
    pub day: u32,
}

/// A swap after the incident (the truth lists these and every burner rotation, each from the
/// phone the person last used).
pub(crate) struct Swap {
    pub person: u32,
    pub new_phone: u32,
}

pub(crate) struct World {
    pub r: Resolved,
    pub people: Vec<Person>,
    pub households: Vec<Household>,
    pub businesses: Vec<Business>,
    pub phones: Vec<PhoneRec>,
    /// Vehicle i belongs to `vehicle_owner[i]`.
    pub vehicle_owner: Vec<u32>,
    pub cameras: Vec<PlaceRec>,
    pub places: Vec<PlaceRec>,
    /// Contacts per person (sorted, no duplicates): the people they call and pay.
    pub contacts: Vec<Vec<u32>>,
    /// Cumulative call propensity (heavy-tailed), for choosing callers.
    pub activity_cum: Vec<f64>,
    pub cells: Vec<Vec<u32>>,
    pub leaders: Vec<u32>,
    pub suppliers: Vec<u32>,
    pub buyers: Vec<u32>,
    pub mules: Vec<u32>,
    /// Persons recorded twice, by the records system.
    pub duplicates: Vec<u32>,
    pub handovers: Vec<Handover>,
    pub swaps: Vec<Swap>,
    /// Recruits the cell contacts after the incident.
    pub new_contacts: Vec<(u32, u32)>,
    pub arrested: Vec<u32>,
    pub incident_day: u32,
    pub burst_start_day: u32,
    /// Account of each person is `person`, of business b is `people + b`; then the exchanges.
    pub exchange_accounts: u32,
}

impl World {
    pub fn account_of_person(&self, p: u32) -> u32 {
        p
    }
    pub fn account_of_business(&self, b: u32) -> u32 {
        self.people.len() as u32 + b
    }
    pub fn account_of_exchange(&self, x: u32) -> u32 {
        self.people.len() as u32 + self.businesses.len() as u32 + x
    }
    pub fn account_count(&self) -> u32 {
        self.people.len() as u32 + self.businesses.len() as u32 + self.exchange_accounts
    }
    /// The group's cell 0, hit by the incident.
    pub fn hit_cell(&self) -> &[u32] {
        &self.cells[0]
    }
    pub fn choose_caller(&self, rng: &mut ChaCha8Rng) -> u32 {
        let total = *self.activity_cum.last().unwrap_or(&1.0);
        let x = rng.random::<f64>() * total;
        let i = self.activity_cum.partition_point(|&c| c <= x);
        i.min(self.people.len() - 1) as u32
    }
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn jitter(rng: &mut ChaCha8Rng, spread: f64) -> f64 {
    (rng.random::<f64>() - 0.5) * 2.0 * spread
}

/// Builds the world. Only proportional to the number of people.
pub(crate) fn build(r: &Resolved) -> World {
    let mut rng = stream(r.seed, 1);
    let n = r.people as usize;
    let days = r.days;

    // Households of one to four people sharing an address and a surname.
    let mut households = Vec::new();
    let mut household_of = Vec::with_capacity(n);
    let mut surname_of_household = Vec::new();
    while household_of.len() < n {
        let size = match rng.random_range(0..10) {
            0..=2 => 1,
            3..=6 => 2,
            7..=8 => 3,
            _ => 4,
        };
        let h = households.len() as u32;
        let (town, lat, lon) = *pick(&mut rng, TOWNS);
        households.push(Household {
            street: format!("{} {}", rng.random_range(1..200), pick(&mut rng, STREETS)),
            town,
            postal: format!(
                "WM{} {}{}",
                rng.random_range(1..40),
                rng.random_range(1..10),
                (b'A' + rng.random_range(0..26u8)) as char
            ),
            lat: lat + jitter(&mut rng, 0.03),
            lon: lon + jitter(&mut rng, 0.05),
        });
        surname_of_household.push(*pick(&mut rng, LAST));
        for _ in 0..size {
            if household_of.len() < n {
                household_of.push(h);
            }
        }
    }

    let n_business = (n / 25).max(4);
    let mut businesses = Vec::with_capacity(n_business);
    for b in 0..n_business {
        let (town, ..) = *pick(&mut rng, TOWNS);
        businesses.push(Business {
            name: format!(
                "{} {} {}",
                pick(&mut rng, LAST),
                pick(&mut rng, BUSINESS_KINDS),
                if b % 3 == 0 { "Ltd" } else { "" }
            )
            .trim()
            .to_string(),
            town,
            front_of: None,
        });
    }

    let mut people: Vec<Person> = (0..n)
        .map(|i| {
            let female = rng.random_bool(0.5);
            let first = if female {
                *pick(&mut rng, FIRST_F)
            } else {
                *pick(&mut rng, FIRST_M)
            };
            let h = household_of[i];
            Person {
                first: first.to_string(),
                last: surname_of_household[h as usize].to_string(),
                birth: format!(
                    "{}-{:02}-{:02}",
                    rng.random_range(1950..2005),
                    rng.random_range(1..13),
                    rng.random_range(1..29)
                ),
                gender: if female { "female" } else { "male" },
                role: Role::Background,
                cell: None,
                bridge: None,
                household: h,
                employer: rng
                    .random_bool(0.6)
                    .then(|| rng.random_range(0..n_business) as u32),
                vehicle: None,
                alias: None,
                phones: Vec::new(),
            }
        })
        .collect();

    // The group: cells of a leader, lieutenants and couriers; brokers bridge two cells.
    // Members are the first person of distinct households, so their housemates are family.
    let n_cells = (n / 50).clamp(3, 12);
    let mut heads: Vec<u32> = Vec::new();
    let mut last_h = u32::MAX;
    for (i, &h) in household_of.iter().enumerate() {
        if h != last_h {
            heads.push(i as u32);
            last_h = h;
        }
    }
    shuffle(&mut rng, &mut heads);
    let mut heads = heads.into_iter();
    #[allow(
        clippy::expect_used,
        reason = "the population is sized so that every group finds its households"
    )]
    let mut take = |role: Role, cell: Option<u32>, people: &mut Vec<Person>| -> u32 {
        let p = heads.next().expect("enough households for the group");
        people[p as usize].role = role;
        people[p as usize].cell = cell;
        p
    };
    let mut cells = Vec::new();
    let mut leaders = Vec::new();
    for c in 0..n_cells as u32 {
        let mut members = Vec::new();
        let leader = take(Role::Leader, Some(c), &mut people);
        leaders.push(leader);
        members.push(leader);
        for _ in 0..rng.random_range(1..3) {
            members.push(take(Role::Lieutenant, Some(c), &mut people));
        }
        for _ in 0..rng.random_range(2..5) {
            members.push(take(Role::Courier, Some(c), &mut people));
        }
        let broker = take(Role::Broker, Some(c), &mut people);
        people[broker as usize].bridge = Some((c + 1) % n_cells as u32);
        members.push(broker);
        cells.push(members);
    }
    let suppliers: Vec<u32> = (0..2)
        .map(|_| take(Role::Supplier, None, &mut people))
        .collect();
    let n_buyers = (n / 25).clamp(4, 60);
    let buyers: Vec<u32> = (0..n_buyers)
        .map(|_| take(Role::Buyer, None, &mut people))
        .collect();
    let mules: Vec<u32> = (0..(n_cells * 2))
        .map(|_| take(Role::Mule, None, &mut people))
        .collect();
    for cell in &cells {
        for &m in cell {
            let h = people[m as usize].household;
            for p in people.iter_mut() {
                if p.household == h && p.role == Role::Background {
                    p.role = Role::Family;
                }
            }
        }
    }
    for (c, &leader) in leaders.iter().enumerate() {
        businesses[c % n_business].front_of = Some(leader);
        people[leader as usize].employer = Some((c % n_business) as u32);
    }
    let mut alias_pool: Vec<&'static str> = ALIASES.to_vec();
    shuffle(&mut rng, &mut alias_pool);
    let mut k = 0;
    for cell in &cells {
        for &m in cell {
            if k < alias_pool.len() {
                people[m as usize].alias = Some(alias_pool[k]);
                k += 1;
            }
        }
    }

    // Vehicles: half the population, and every group member.
    let mut vehicle_owner = Vec::new();
    for (i, p) in people.iter_mut().enumerate() {
        if p.role.in_group() || rng.random_bool(0.45) {
            p.vehicle = Some(vehicle_owner.len() as u32);
            vehicle_owner.push(i as u32);
        }
    }

    // Phones. Everyone starts with a registered phone; some couples share one; group
    // members switch to prepaid burners every few weeks.
    let mut phones: Vec<PhoneRec> = Vec::new();
    let new_phone = |phones: &mut Vec<PhoneRec>, subscriber: Option<u32>| -> u32 {
        phones.push(PhoneRec { subscriber });
        phones.len() as u32 - 1
    };
    let mut i = 0;
    while i < n {
        let shared = i + 1 < n
            && household_of[i] == household_of[i + 1]
            && people[i].role == Role::Background
            && people[i + 1].role == Role::Background
            && rng.random_bool(0.08);
        let ph = new_phone(&mut phones, Some(i as u32));
        people[i].phones.push((ph, 0, days));
        if shared {
            people[i + 1].phones.push((ph, 0, days));
            i += 2;
        } else {
            i += 1;
        }
    }
    let incident_day = (days * 2 / 3).max(10);
    let burst_start_day = incident_day - 4;
    for cell in &cells {
        for &m in cell {
            let p = &mut people[m as usize];
            if p.role == Role::Leader {
                continue;
            }
            let mut from = rng.random_range(20..40);
            while from + 5 < days {
                // Everyone has a phone; the loop only swaps the latest for a burner.
                let Some((ph, start, _)) = p.phones.pop() else {
                    break;
                };
                p.phones.push((ph, start, from));
                let burner = new_phone(&mut phones, None);
                p.phones.push((burner, from, days));
                from += rng.random_range(25..50);
            }
        }
    }

    // Hand-overs: a courier of a cell passes his phone to another member of the same cell
    // (who drops his own phone that day).
    let mut handovers = Vec::new();
    for (c, cell) in cells.iter().enumerate().take(2.max(n_cells / 3)) {
        let couriers: Vec<u32> = cell
            .iter()
            .copied()
            .filter(|&m| people[m as usize].role == Role::Courier)
            .collect();
        if couriers.len() < 2 {
            continue;
        }
        let (a, b) = (couriers[0], couriers[1]);
        let day = (days / 3 + c as u32 * 3).min(incident_day - 6);
        // The phone a used up to that day (not one he would start that very day: a burner
        // rotation falling on the hand-over day would hand over a phone he never used).
        let Some(phone) = people[a as usize].phone_on(day - 1) else {
            continue;
        };
        cut_phones(&mut people[a as usize], day);
        cut_phones(&mut people[b as usize], day);
        let end = next_change(&people[a as usize], day).unwrap_or(days);
        people[b as usize].phones.push((phone, day, end));
        let fresh = new_phone(&mut phones, None);
        people[a as usize].phones.push((fresh, day, days));
        people[b as usize].phones.sort_by_key(|p| p.1);
        handovers.push(Handover {
            phone,
            from: a,
            to: b,
            day,
        });
    }

    // The incident hits cell 0: two couriers arrested, the rest go silent and then swap phones.
    let mut arrested = Vec::new();
    let mut swaps = Vec::new();
    let mut new_contacts = Vec::new();
    for &m in &cells[0] {
        if people[m as usize].role == Role::Courier && arrested.len() < 2 {
            arrested.push(m);
        }
    }
    let swap_day = incident_day + 5;
    for &m in &cells[0] {
        if arrested.contains(&m) || swap_day >= days {
            continue;
        }
        if people[m as usize].phone_on(swap_day).is_none() {
            continue;
        }
        cut_phones(&mut people[m as usize], swap_day);
        let fresh = new_phone(&mut phones, None);
        people[m as usize].phones.push((fresh, swap_day, days));
        swaps.push(Swap {
            person: m,
            new_phone: fresh,
        });
        let recruit = rng.random_range(0..n as u32);
        if people[recruit as usize].role == Role::Background {
            new_contacts.push((m, recruit));
        }
    }

    // Social ties: preferential attachment gives the heavy-tailed contact counts of real
    // call graphs; households are fully tied.
    let mut contacts: Vec<Vec<u32>> = vec![Vec::new(); n];
    let mut ends: Vec<u32> = Vec::with_capacity(n * 6);
    let m = 3usize;
    for i in 0..n {
        if i <= m {
            for j in 0..i {
                contacts[i].push(j as u32);
                contacts[j].push(i as u32);
                ends.push(i as u32);
                ends.push(j as u32);
            }
            continue;
        }
        for _ in 0..m {
            let j = ends[rng.random_range(0..ends.len())];
            contacts[i].push(j);
            contacts[j as usize].push(i as u32);
            ends.push(i as u32);
            ends.push(j);
        }
    }
    for i in 1..n {
        if household_of[i] == household_of[i - 1] {
            let h = household_of[i];
            let mut j = i;
            while j > 0 && household_of[j - 1] == h {
                j -= 1;
                contacts[i].push(j as u32);
                contacts[j].push(i as u32);
            }
        }
    }
    for (i, c) in contacts.iter_mut().enumerate() {
        c.retain(|&j| j as usize != i);
        c.sort_unstable();
        c.dedup();
    }
    let mut activity_cum = Vec::with_capacity(n);
    let mut total = 0.0;
    for c in &contacts {
        let u: f64 = rng.random();
        // Pareto-like propensity, tempered by how many people one knows.
        total += (1.0 - u).powf(-0.6).min(20.0) * (c.len() as f64).sqrt();
        activity_cum.push(total);
    }

    let n_cameras = (8 + n / 2000).min(60);
    let cameras = (0..n_cameras)
        .map(|i| {
            let (town, lat, lon) = *pick(&mut rng, TOWNS);
            PlaceRec {
                name: format!("ANPR {town} {}", i + 1),
                kind: "ANPR camera",
                lat: lat + jitter(&mut rng, 0.04),
                lon: lon + jitter(&mut rng, 0.06),
            }
        })
        .collect();
    let places = (0..(6 + n_cells))
        .map(|_| {
            let (town, lat, lon) = *pick(&mut rng, TOWNS);
            let kind = *pick(&mut rng, PLACE_KINDS);
            PlaceRec {
                name: format!("{town} {kind}"),
                kind,
                lat: lat + jitter(&mut rng, 0.02),
                lon: lon + jitter(&mut rng, 0.03),
            }
        })
        .collect();

    let n_dup = (3 + n / 500).min(200);
    let mut duplicates: Vec<u32> = Vec::new();
    for cell in &cells {
        for &m in cell {
            if people[m as usize].role == Role::Lieutenant && duplicates.len() < n_dup / 2 + 1 {
                duplicates.push(m);
            }
        }
    }
    while duplicates.len() < n_dup {
        let p = rng.random_range(0..n as u32);
        if !duplicates.contains(&p) && people[p as usize].phones.len() == 1 {
            duplicates.push(p);
        }
    }

    World {
        r: r.clone(),
        people,
        households,
        businesses,
        phones,
        vehicle_owner,
        cameras,
        places,
        contacts,
        activity_cum,
        cells,
        leaders,
        suppliers,
        buyers,
        mules,
        duplicates,
        handovers,
        swaps,
        new_contacts,
        arrested,
        incident_day,
        burst_start_day,
        exchange_accounts: 3,
    }
}

/// Ends whatever phone a person uses on `day` at that day.
fn cut_phones(p: &mut Person, day: u32) {
    p.phones.retain(|(_, from, _)| *from < day);
    for span in &mut p.phones {
        if span.2 > day {
            span.2 = day;
        }
    }
}

fn next_change(p: &Person, day: u32) -> Option<u32> {
    p.phones
        .iter()
        .map(|s| s.1)
        .filter(|&from| from > day)
        .min()
}

pub(crate) fn shuffle<T>(rng: &mut ChaCha8Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = rng.random_range(0..=i);
        items.swap(i, j);
    }
}

/// A fictional phone number under the unassigned country code +999, unique per index.
pub(crate) fn phone_number(i: u32) -> String {
    let d = (u64::from(i) * 48_271 + 12_345) % 100_000_000;
    format!(
        "+999 7{:02} {:03} {:03}",
        d / 1_000_000,
        (d / 1000) % 1000,
        d % 1000
    )
}

/// The same number as a national number (as another source would write it).
pub(crate) fn phone_national(i: u32) -> String {
    let d = (u64::from(i) * 48_271 + 12_345) % 100_000_000;
    format!("07{:02}-{:06}", d / 1_000_000, d % 1_000_000)
}

/// A fictional IBAN under the unassigned country code ZZ.
pub(crate) fn iban(i: u32) -> String {
    let d = (u64::from(i) * 7_919 + 104_729) % 10_000_000_000;
    format!(
        "ZZ{:02} COPK {:04} {:06}",
        i % 97,
        d / 1_000_000,
        d % 1_000_000
    )
}

/// A fictional plate, unique per index.
pub(crate) fn plate(i: u32) -> String {
    let d = (u64::from(i) * 2_654_435 + 17) % (26 * 26 * 26 * 100);
    let l = |k: u64| (b'A' + ((d / 100 / k) % 26) as u8) as char;
    format!("WM{:02} {}{}{}", d % 100, l(1), l(26), l(676))
}

/// A spelling variant, as a second clerk would type the name.
pub(crate) fn spelling_variant(name: &str) -> String {
    if name.contains("ph") {
        return name.replacen("ph", "f", 1);
    }
    let chars: Vec<char> = name.chars().collect();
    for w in 1..chars.len() {
        if chars[w] == chars[w - 1] {
            let mut out: String = chars[..w].iter().collect();
            out.extend(&chars[w + 1..]);
            return out;
        }
    }
    if let Some(stem) = name.strip_suffix('a') {
        return format!("{stem}ah");
    }
    if let Some(pos) = name.find('i') {
        let mut out = name.to_string();
        out.replace_range(pos..pos + 1, "y");
        return out;
    }
    if let Some(pos) = name.find('e') {
        let mut out = name.to_string();
        out.replace_range(pos..pos + 1, "a");
        return out;
    }
    format!("{name}e")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hand_over_passes_a_phone_its_giver_used_to_its_taker() {
        for seed in 1..=12 {
            let opts = super::super::GenerateOptions {
                people: Some(400),
                days: Some(90),
                ..super::super::GenerateOptions::new(
                    super::super::Scenario::Fraud,
                    seed,
                    super::super::Size::Small,
                )
            };
            let world = build(&Resolved::from(&opts).unwrap());
            assert!(!world.handovers.is_empty());
            for h in &world.handovers {
                let spans = |p: u32| world.people[p as usize].phones.clone();
                assert!(
                    spans(h.from)
                        .iter()
                        .any(|&(ph, from, to)| ph == h.phone && from < h.day && to == h.day),
                    "seed {seed}: {} never used phone {} before day {}",
                    h.from,
                    h.phone,
                    h.day
                );
                assert!(
                    spans(h.to)
                        .iter()
                        .any(|&(ph, from, _)| ph == h.phone && from == h.day),
                    "seed {seed}"
                );
            }
        }
    }
}
