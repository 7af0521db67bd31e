//! The population register (people, households, businesses, phones, accounts, vehicles,
//! places and the links the register knows) and the police records system, which holds some
//! of the same people again with spelling variants.

use super::*;

pub(super) fn register(
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

pub(super) fn records_system(
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
