//! Documents: witness statements and surveillance logs that mention the planted people (some
//! with a spelling variant or only an initial), their phones (written the ways people write
//! numbers), vehicles, accounts, dates and amounts. Each mention is recorded in the truth with
//! its character offsets, so the mention extraction can be scored against it.

use super::*;
use crate::generate::truth::{DocumentTruth, PlantedMention};

/// A text built piece by piece, recording where each planted mention lands.
struct Writer {
    text: String,
    chars: usize,
    mentions: Vec<PlantedMention>,
}

impl Writer {
    fn plain(&mut self, s: &str) {
        self.text.push_str(s);
        self.chars += s.chars().count();
    }

    fn mention(&mut self, kind: &str, s: &str, entity: Option<EntityId>, value: &str) {
        let start = self.chars;
        self.plain(s);
        self.mentions.push(PlantedMention {
            kind: kind.into(),
            start,
            end: self.chars,
            entity,
            value: value.into(),
        });
    }
}

/// Writes `count` documents into the batch; returns what each mentions.
pub(super) fn documents(
    w: &mut BatchWriter<'_>,
    world: &World,
    src: &Src,
    ids: &Ids,
    count: u32,
) -> Result<Vec<DocumentTruth>, GenerateError> {
    let mut rng = stream(world.r.seed, 9);
    let members: Vec<u32> = world.cells.iter().flatten().copied().collect();
    if members.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for k in 0..count {
        let pick = |rng: &mut ChaCha8Rng| members[rng.random_range(0..members.len())];
        let a = pick(&mut rng);
        let mut b = pick(&mut rng);
        if b == a {
            b = members[(members.iter().position(|&m| m == a).unwrap_or(0) + 1) % members.len()];
        }
        let (pa, pb) = (&world.people[a as usize], &world.people[b as usize]);
        let day = rng.random_range(0..world.r.days);
        let date = chrono::DateTime::from_timestamp_millis(at(day, 0)).unwrap_or_default();
        let mut wr = Writer {
            text: String::new(),
            chars: 0,
            mentions: Vec::new(),
        };
        let person = |p: u32| Some(ids.person[p as usize]);
        // The first person by full name, or with a spelling variant of the surname.
        let name_a = if rng.random_bool(0.3) {
            format!("{} {}", pa.first, population::spelling_variant(&pa.last))
        } else {
            pa.name()
        };
        let statement = k % 2 == 0;
        if statement {
            wr.plain(&format!("Witness statement {}.\n\nOn ", k + 1));
        } else {
            wr.plain(&format!("Surveillance log {}.\n\nObservation of ", k + 1));
        }
        let date_text = if rng.random_bool(0.5) {
            date.format("%d %B %Y").to_string()
        } else {
            date.format("%d/%m/%Y").to_string()
        };
        let iso = date.format("%Y-%m-%d").to_string();
        if statement {
            wr.mention("date", &date_text, None, &iso);
            wr.plain(" I saw ");
            wr.mention("person", &name_a, person(a), &pa.name());
            wr.plain(" talking to ");
            wr.mention("person", &pb.name(), person(b), &pb.name());
            wr.plain(" outside the station. ");
        } else {
            wr.mention("person", &name_a, person(a), &pa.name());
            wr.plain(" on ");
            wr.mention("date", &date_text, None, &iso);
            wr.plain(". The subject met ");
            wr.mention("person", &pb.name(), person(b), &pb.name());
            wr.plain(" and they spoke for ten minutes. ");
        }
        if let Some(phone) = pa.phone_on(day) {
            let written = match rng.random_range(0..3) {
                0 => population::phone_number(phone),
                1 => population::phone_number(phone).replace(' ', "-"),
                _ => format!(
                    "00{}",
                    population::phone_number(phone)
                        .trim_start_matches('+')
                        .replace(' ', "")
                ),
            };
            let e164: String = population::phone_number(phone)
                .chars()
                .filter(|c| *c == '+' || c.is_ascii_digit())
                .collect();
            wr.plain("Afterwards he phoned from ");
            wr.mention("phone", &written, Some(ids.phone[phone as usize]), &e164);
            wr.plain(". ");
        }
        if let Some(v) = pa.vehicle {
            let plate = population::plate(v);
            wr.plain("He left in a car with plate ");
            wr.mention(
                "plate",
                &plate,
                Some(ids.vehicle[v as usize]),
                &plate.replace(' ', ""),
            );
            wr.plain(". ");
        }
        let account = world.account_of_person(b);
        let iban = population::iban(account);
        let cents = rng.random_range(50..5_000) * 100;
        let amount = format!("{} EUR", cents_text(cents));
        wr.plain("Later ");
        wr.mention(
            "amount",
            &amount,
            None,
            &format!("{} EUR", cents_text(cents)),
        );
        wr.plain(" was paid into account ");
        wr.mention(
            "iban",
            &iban,
            Some(ids.account[account as usize]),
            &iban.replace(' ', ""),
        );
        wr.plain(".\n");
        let title = if statement {
            format!("Witness statement {}", k + 1)
        } else {
            format!("Surveillance log {}", k + 1)
        };
        let mut e = src.entity("Document", title.clone(), format!("DOC{k}"));
        e.attributes = vec![
            src.attr("title", title),
            src.attr("date", iso),
            src.attr("bodyText", wr.text.clone()),
        ];
        let id = w.entity(e)?;
        out.push(DocumentTruth {
            document: id,
            mentions: wr.mentions,
        });
    }
    Ok(out)
}
