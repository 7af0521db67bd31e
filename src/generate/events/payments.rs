//! Bank statements: ordinary payments, structured cash deposits just below the reporting
//! threshold, and mule chains.

use super::*;

/// One transaction before writing: time, from account, to account, cents, type.
type TxRow = (i64, Option<u32>, Option<u32>, i64, &'static str);

/// Bank statements: ordinary payments, structured cash deposits and mule chains.
pub(super) fn bank(
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

#[cfg(test)]
mod tests {
    use super::super::testing::registered;
    use super::*;
    use crate::model::Event;
    use std::collections::HashSet;

    fn value<'a>(e: &'a Event, property: &str) -> &'a str {
        e.attributes
            .iter()
            .find(|a| a.property == property)
            .map_or("", |a| a.value.as_str())
    }

    fn cents(e: &Event) -> i64 {
        let (whole, part) = value(e, "amount").split_once('.').unwrap();
        whole.parse::<i64>().unwrap() * 100 + part.parse::<i64>().unwrap()
    }

    #[test]
    fn transactions_carry_amount_currency_and_type_between_accounts() {
        let mut h = registered(Scenario::DrugTrafficking, 300);
        let cancel = CancelToken::new();
        let ((chains, structuring), events) = h.write(BANK_CSV, |w, world, src, ids| {
            bank(w, world, src, ids, None, &mut Vec::new(), &cancel)
        });
        assert!(events.len() > 100, "{} transactions", events.len());
        let accounts: HashSet<EntityId> = h.ids.account.iter().copied().collect();
        for e in &events {
            assert_eq!(e.event_type, "Transaction");
            assert_eq!(value(e, "currency"), "EUR");
            assert!(cents(e) > 0, "{e:?}");
            let from = e.in_role(ParticipantRole::From).count();
            let to = e.in_role(ParticipantRole::To).count();
            // Cash has one side only: never a self-payment.
            let expected = match value(e, "transactionType") {
                "cash deposit" => (0, 1),
                "cash withdrawal" => (1, 0),
                "card payment" | "transfer" | "salary" => (1, 1),
                other => panic!("transaction type {other:?}"),
            };
            assert_eq!((from, to), expected, "{e:?}");
            assert!(e.participants.iter().all(|p| accounts.contains(&p.entity)));
        }
        // Couriers deposit cash just under the reporting threshold.
        assert!(!structuring.is_empty());
        for account in &structuring {
            let below = events
                .iter()
                .filter(|e| value(e, "transactionType") == "cash deposit")
                .filter(|e| e.in_role(ParticipantRole::To).any(|a| a == *account))
                .filter(|e| (THRESHOLD_CENTS - 100_000..THRESHOLD_CENTS).contains(&cents(e)))
                .count();
            assert!(below >= 3, "{below} structured deposits into {account}");
        }
        // Each mule chain passes money on hop by hop, later and a little less each time.
        assert_eq!(chains.len(), h.world.cells.len());
        for chain in &chains {
            let hop = |k: usize| -> Vec<&Event> {
                events
                    .iter()
                    .filter(|e| e.in_role(ParticipantRole::From).any(|a| a == chain[k]))
                    .filter(|e| e.in_role(ParticipantRole::To).any(|a| a == chain[k + 1]))
                    .collect()
            };
            let first = hop(0);
            assert!(first.len() >= 5, "{} weekly runs", first.len());
            for run in &first {
                let next = hop(1)
                    .into_iter()
                    .find(|e| {
                        e.time.start_ms > run.time.start_ms
                            && e.time.start_ms - run.time.start_ms < 6 * 3_600_000
                    })
                    .expect("the next hop within hours");
                assert!(cents(next) < cents(run) && cents(next) * 100 >= cents(run) * 96);
            }
        }
    }
}
