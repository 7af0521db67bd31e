//! The keyed, consistent replacement of one run: each value's pseudonym is drawn from
//! HMAC-SHA-256(key, kind, value) with the run's random key, kept for the run, and never shared
//! by two values; times and coordinates move by the run's constant offsets.

use crate::model::{PropertyKind, normalize_value};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};

/// Text properties whose values are categories that name nobody: kept as they are.
const KEPT_TEXT: &[&str] = &[
    "gender",
    "colour",
    "color",
    "currency",
    "provider",
    "kind",
    "model",
    "legalForm",
    "transactionType",
    "calibre",
    "service",
    "status",
];

/// HMAC-SHA-256 (RFC 2104), so that the pseudonyms depend on the value only through the key.
fn hmac(key: &[u8; 32], message: &[&[u8]]) -> [u8; 32] {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    for part in message {
        inner.update(part);
    }
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    let mut out = [0u8; 32];
    out.copy_from_slice(&outer.finalize());
    out
}

/// 32 random bytes from the operating system (through `uuid`'s v4 generator, already in the
/// tree): the run's key and offsets, never stored.
pub(super) fn random_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    key[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    key
}

const CONSONANTS: &[u8] = b"bdfgklmnprstvz";
const VOWELS: &[u8] = b"aeiou";
const UPPER: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ";

/// The keyed, consistent mapping of one run.
pub(crate) struct Pseudonymiser {
    key: [u8; 32],
    /// (class, original key) → pseudonym.
    memo: HashMap<(&'static str, String), String>,
    /// Pseudonyms handed out per class, so that two values never share one.
    used: HashSet<(&'static str, String)>,
    pub(crate) shift_days: i64,
    lat_offset: f64,
    lon_offset: f64,
    pub(crate) replaced: u64,
}

impl Pseudonymiser {
    pub(crate) fn new(key: [u8; 32]) -> Pseudonymiser {
        let mut rng = ChaCha20Rng::from_seed(hmac(&key, &[b"offsets"]));
        let weeks = rng.random_range(52..=520_i64);
        let sign = if rng.random_bool(0.5) { 1 } else { -1 };
        let lat = rng.random_range(0.5..3.0_f64) * if rng.random_bool(0.5) { 1.0 } else { -1.0 };
        let lon = rng.random_range(0.5..5.0_f64) * if rng.random_bool(0.5) { 1.0 } else { -1.0 };
        Pseudonymiser {
            key,
            memo: HashMap::new(),
            used: HashSet::new(),
            shift_days: sign * weeks * 7,
            lat_offset: lat,
            lon_offset: lon,
            replaced: 0,
        }
    }

    /// The pseudonym of `original` in `class`: the same every time in this run, and different
    /// from every other value's. `make` draws one from a keyed random stream.
    fn memo(
        &mut self,
        class: &'static str,
        original: &str,
        make: impl Fn(&mut ChaCha20Rng) -> String,
    ) -> String {
        if let Some(p) = self.memo.get(&(class, original.to_string())) {
            return p.clone();
        }
        let mut attempt = 0u32;
        let pseudonym = loop {
            let seed = hmac(
                &self.key,
                &[
                    class.as_bytes(),
                    b"\0",
                    original.as_bytes(),
                    b"\0",
                    &attempt.to_le_bytes(),
                ],
            );
            let candidate = make(&mut ChaCha20Rng::from_seed(seed));
            // A short shape has few pseudonyms: after many collisions, take one anyway.
            if attempt > 64 || !self.used.contains(&(class, candidate.clone())) {
                break candidate;
            }
            attempt += 1;
        };
        self.used.insert((class, pseudonym.clone()));
        self.memo
            .insert((class, original.to_string()), pseudonym.clone());
        pseudonym
    }

    /// How many distinct pseudonyms the run handed out.
    pub(crate) fn pseudonyms(&self) -> u64 {
        self.used.len() as u64
    }

    /// A value of `kind` (of property `property`) replaced.
    pub(crate) fn value(&mut self, kind: PropertyKind, property: &str, value: &str) -> String {
        let out = match kind {
            PropertyKind::Number | PropertyKind::Country => return value.to_string(),
            PropertyKind::Text if KEPT_TEXT.contains(&property) => return value.to_string(),
            PropertyKind::Text | PropertyKind::Name => self.words(value),
            PropertyKind::Phone => self.phone(value),
            PropertyKind::Email => self.email(value),
            PropertyKind::Iban => self.iban(value),
            PropertyKind::Plate | PropertyKind::Identifier => self.shaped("id", value),
            PropertyKind::Url => {
                let token = self.memo("url", value.trim(), |rng| word(rng, 3));
                format!("https://example.org/{token}")
            }
            PropertyKind::Date => self.date(value),
            PropertyKind::Latitude => self.coordinate(value, self.lat_offset, 90.0),
            PropertyKind::Longitude => self.coordinate(value, self.lon_offset, 180.0),
        };
        self.replaced += 1;
        out
    }

    /// Free text, names and addresses word by word: letters become an invented word with the
    /// same capitals, digits other digits; punctuation and spaces stay.
    pub(crate) fn words(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 8);
        let mut token = String::new();
        let flush = |token: &mut String, out: &mut String, this: &mut Self| {
            if token.is_empty() {
                return;
            }
            if token.chars().all(|c| c.is_ascii_digit()) {
                let n = token.len();
                out.push_str(&this.memo("digits", token, |rng| digits(rng, n)));
            } else {
                let lower = token.to_lowercase();
                let syllables = (token.chars().count() / 3).clamp(2, 4);
                let pseudo = this.memo("word", &lower, |rng| word(rng, syllables));
                out.push_str(&same_capitals(token, &pseudo));
            }
            token.clear();
        };
        let mut last_digit = None;
        for c in text.chars() {
            if c.is_alphanumeric() {
                let digit = c.is_ascii_digit();
                if last_digit.is_some_and(|d| d != digit) {
                    flush(&mut token, &mut out, self);
                }
                last_digit = Some(digit);
                token.push(c);
            } else {
                flush(&mut token, &mut out, self);
                last_digit = None;
                out.push(c);
            }
        }
        flush(&mut token, &mut out, self);
        out
    }

    /// A phone number with its layout: `+` or `00` and the country code, or a trunk `0`,
    /// stay; every other digit comes from the keyed stream of the normalised number, so
    /// `+44 7700 900123` and `0044 7700900123` get the same digits.
    fn phone(&mut self, value: &str) -> String {
        let Ok(Some(normalized)) = normalize_value(PropertyKind::Phone, "phone", value) else {
            return self.words(value);
        };
        let total: usize = value.chars().filter(char::is_ascii_digit).count();
        let stream = self.memo("phone", &normalized, |rng| digits(rng, total.max(1)));
        let trimmed = value.trim_start();
        let plus = trimmed.starts_with('+');
        let double_zero = !plus && trimmed.starts_with("00");
        let international = plus || double_zero;
        let mut stream = stream.chars();
        let mut out = String::with_capacity(value.len());
        let mut index = 0usize;
        for c in value.chars() {
            if !c.is_ascii_digit() {
                out.push(c);
                continue;
            }
            let position = if double_zero {
                index.checked_sub(2)
            } else {
                Some(index)
            };
            let keep = match position {
                None => true,
                Some(p) if international => p < 2,
                Some(p) => p == 0 && c == '0',
            };
            // The `00` of an international prefix draws nothing, so that `0044…` and `+44…`
            // read the same digits from the stream.
            let drawn = if position.is_some() {
                stream.next().unwrap_or('5')
            } else {
                c
            };
            out.push(if keep { c } else { drawn });
            index += 1;
        }
        out
    }

    fn email(&mut self, value: &str) -> String {
        let key = value.trim().to_lowercase();
        let local = self.memo("email", &key, |rng| {
            format!("{}.{}", word(rng, 2), word(rng, 3))
        });
        format!("{local}@example.org")
    }

    /// An IBAN with the same country, the same shape of account number and valid check digits.
    fn iban(&mut self, value: &str) -> String {
        let normalized: String = value
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_uppercase();
        if normalized.len() < 5 || !normalized[..2].chars().all(|c| c.is_ascii_uppercase()) {
            return self.shaped("id", value);
        }
        let country = normalized[..2].to_string();
        let bban_shape = normalized[4..].to_string();
        let bban = self.memo("iban", &normalized, |rng| shaped(rng, &bban_shape));
        let check = iban_check_digits(&country, &bban);
        let pseudo = format!("{country}{check:02}{bban}");
        lay_out_like(value, &pseudo)
    }

    /// Letters for letters and digits for digits, keyed on the value without spaces or case.
    pub(crate) fn shaped(&mut self, class: &'static str, value: &str) -> String {
        let normalized: String = value
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect::<String>()
            .to_uppercase();
        if normalized.is_empty() {
            return value.to_string();
        }
        let shape = normalized.clone();
        let pseudo = self.memo(class, &normalized, |rng| shaped(rng, &shape));
        let laid = lay_out_like(value, &pseudo);
        // Lower case where the original had it.
        laid.chars()
            .zip(value.chars())
            .map(|(p, o)| {
                if o.is_lowercase() {
                    p.to_ascii_lowercase()
                } else {
                    p
                }
            })
            .collect()
    }

    /// A (partial) date moved by the run's whole weeks; a year or month alone moves with its
    /// first day.
    fn date(&mut self, value: &str) -> String {
        let v = value.trim();
        let shift = chrono::Duration::days(self.shift_days);
        let parse = |text: &str| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
        if let Some(d) = parse(v) {
            return (d + shift).format("%Y-%m-%d").to_string();
        }
        if let Some(d) = parse(&format!("{v}-01")) {
            return (d + shift).format("%Y-%m").to_string();
        }
        if let Some(d) = parse(&format!("{v}-01-01")) {
            return (d + shift).format("%Y").to_string();
        }
        self.words(value)
    }

    /// A coordinate moved by the run's offset, written with as many decimals as the original.
    fn coordinate(&mut self, value: &str, offset: f64, limit: f64) -> String {
        let v = value.trim();
        let Ok(x) = v.parse::<f64>() else {
            return self.words(value);
        };
        let decimals = v.split_once('.').map_or(0, |(_, d)| d.len());
        let mut moved = x + offset;
        if limit >= 180.0 {
            if moved > 180.0 {
                moved -= 360.0;
            } else if moved < -180.0 {
                moved += 360.0;
            }
        } else {
            moved = moved.clamp(-limit, limit);
        }
        format!("{moved:.decimals$}")
    }

    /// A time in milliseconds moved by the run's whole weeks.
    pub(crate) fn time_ms(&self, ms: i64) -> i64 {
        ms.saturating_add(self.shift_days.saturating_mul(86_400_000))
    }

    /// An RFC 3339 time stamp moved by the run's whole weeks (kept when it does not parse).
    pub(crate) fn timestamp(&self, text: &str) -> String {
        chrono::DateTime::parse_from_rfc3339(text).map_or_else(
            |_| text.to_string(),
            |t| {
                (t + chrono::Duration::days(self.shift_days))
                    .to_utc()
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            },
        )
    }
}

/// An invented word of CV syllables (always a consonant first), lower case.
fn word(rng: &mut ChaCha20Rng, syllables: usize) -> String {
    let mut w = String::with_capacity(syllables * 2 + 1);
    for _ in 0..syllables {
        w.push(CONSONANTS[rng.random_range(0..CONSONANTS.len())] as char);
        w.push(VOWELS[rng.random_range(0..VOWELS.len())] as char);
    }
    if rng.random_bool(0.5) {
        w.push(CONSONANTS[rng.random_range(0..CONSONANTS.len())] as char);
    }
    w
}

fn digits(rng: &mut ChaCha20Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.random_range(0..10_u8)))
        .collect()
}

/// Letters for letters, digits for digits.
fn shaped(rng: &mut ChaCha20Rng, shape: &str) -> String {
    shape
        .chars()
        .map(|c| {
            if c.is_ascii_digit() {
                char::from(b'0' + rng.random_range(0..10_u8))
            } else if c.is_alphabetic() {
                UPPER[rng.random_range(0..UPPER.len())] as char
            } else {
                c
            }
        })
        .collect()
}

/// `pseudo` (letters and digits only) laid out like `original`: its spaces and punctuation
/// kept in place, one pseudo character for each of its letters and digits.
fn lay_out_like(original: &str, pseudo: &str) -> String {
    let mut chars = pseudo.chars();
    let mut out: String = original
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                chars.next().unwrap_or('0')
            } else {
                c
            }
        })
        .collect();
    out.extend(chars);
    out
}

/// `Title`, `UPPER` or `lower`, as the original word was written.
fn same_capitals(original: &str, pseudo: &str) -> String {
    let letters: Vec<char> = original.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.len() > 1 && letters.iter().all(|c| c.is_uppercase()) {
        pseudo.to_uppercase()
    } else if letters.first().is_some_and(|c| c.is_uppercase()) {
        let mut chars = pseudo.chars();
        chars.next().map_or_else(String::new, |first| {
            first.to_uppercase().chain(chars).collect()
        })
    } else {
        pseudo.to_string()
    }
}

/// ISO 13616 check digits: 98 minus the account number, country and `00` read as a number
/// (letters as 10..35) modulo 97.
pub(crate) fn iban_check_digits(country: &str, bban: &str) -> u32 {
    let mut remainder = 0u32;
    for c in bban.chars().chain(country.chars()).chain("00".chars()) {
        let n = c.to_digit(36).unwrap_or(0);
        remainder = if n >= 10 {
            (remainder * 100 + n) % 97
        } else {
            (remainder * 10 + n) % 97
        };
    }
    98 - remainder
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed() -> Pseudonymiser {
        Pseudonymiser::new([7u8; 32])
    }

    #[test]
    fn the_same_value_gets_the_same_pseudonym_everywhere() {
        let mut p = fixed();
        let label = p.value(PropertyKind::Name, "label", "Hana Vermeer");
        let first = p.value(PropertyKind::Name, "firstName", "Hana");
        let last = p.value(PropertyKind::Name, "lastName", "VERMEER");
        assert_eq!(
            label.to_lowercase(),
            format!("{first} {last}").to_lowercase()
        );
        assert!(!label.contains("Hana") && !label.contains("Vermeer"));
        assert_eq!(last, last.to_uppercase());
        let other = p.value(PropertyKind::Name, "label", "Umar Vermeer");
        assert!(other.ends_with(label.split(' ').nth(1).unwrap_or("?")));
    }

    #[test]
    fn phones_keep_their_layout_and_prefix_and_agree_across_spellings() {
        let mut p = fixed();
        let a = p.value(PropertyKind::Phone, "phone", "+44 7700 900123");
        let b = p.value(PropertyKind::Phone, "phone", "0044 7700900123");
        assert!(
            a.starts_with("+44 ") && a.len() == "+44 7700 900123".len(),
            "{a}"
        );
        assert!(b.starts_with("0044 "), "{b}");
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        assert_eq!(digits(&a), digits(&b)[2..]);
        assert_ne!(a, "+44 7700 900123");
        let national = p.value(PropertyKind::Phone, "phone", "07700 900123");
        assert!(
            national.starts_with('0') && national.len() == 12,
            "{national}"
        );
    }

    #[test]
    fn ibans_keep_their_country_and_get_valid_check_digits() {
        let mut p = fixed();
        let pseudo = p.value(PropertyKind::Iban, "iban", "GB29 NWBK 6016 1331 9268 19");
        assert!(pseudo.starts_with("GB"), "{pseudo}");
        assert_eq!(pseudo.len(), "GB29 NWBK 6016 1331 9268 19".len());
        let compact: String = pseudo.chars().filter(|c| !c.is_whitespace()).collect();
        // Valid when the rearranged number is 1 modulo 97.
        let rearranged = format!("{}{}", &compact[4..], &compact[..4]);
        let rem = rearranged.chars().fold(0u32, |r, c| {
            let n = c.to_digit(36).unwrap_or(0);
            if n >= 10 {
                (r * 100 + n) % 97
            } else {
                (r * 10 + n) % 97
            }
        });
        assert_eq!(rem, 1, "{pseudo}");
        assert_eq!(iban_check_digits("GB", "NWBK60161331926819"), 29);
        assert_ne!(compact, "GB29NWBK60161331926819");
    }

    #[test]
    fn plates_dates_and_coordinates() {
        let mut p = fixed();
        let plate = p.value(PropertyKind::Plate, "plate", "WM02 BHV");
        assert_eq!(plate.len(), 8);
        assert_eq!(plate.as_bytes()[4], b' ');
        assert!(plate[..2].chars().all(|c| c.is_ascii_uppercase()));
        assert!(plate[2..4].chars().all(|c| c.is_ascii_digit()));
        let date = p.value(PropertyKind::Date, "birthDate", "1982-03-04");
        let moved = chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").unwrap();
        let original = chrono::NaiveDate::parse_from_str("1982-03-04", "%Y-%m-%d").unwrap();
        assert_eq!((moved - original).num_days(), p.shift_days);
        assert_eq!(p.shift_days % 7, 0);
        assert!(p.shift_days.abs() >= 364);
        let lat = p.value(PropertyKind::Latitude, "latitude", "52.33009");
        assert_eq!(lat.split_once('.').map(|(_, d)| d.len()), Some(5));
        assert!((lat.parse::<f64>().unwrap() - 52.33009).abs() >= 0.5);
        assert_eq!(p.value(PropertyKind::Number, "amount", "12.50"), "12.50");
        assert_eq!(p.value(PropertyKind::Text, "gender", "female"), "female");
    }

    #[test]
    fn two_values_never_share_a_pseudonym() {
        let mut p = fixed();
        let mut seen = HashSet::new();
        for i in 0..3000 {
            let w = p.words(&format!("name{i}x"));
            assert!(seen.insert(w), "collision at {i}");
        }
    }
}
