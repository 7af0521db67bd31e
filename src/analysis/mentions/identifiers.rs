//! Identifiers by validated patterns. A pattern only finds candidates; each is then checked
//! the way the identifier itself is checked in the world (a phone number against the
//! numbering plan of its country, an IBAN's and an IMEI's check digits, a card's Luhn digit
//! and issuer prefix, a Bitcoin address's checksum, an Ethereum address's mixed-case
//! checksum), so "a number that looks like an IBAN" is not proposed.
//!
//! Kinds are searched in a fixed order and a later kind never takes text an earlier one
//! took: URLs before the domains inside them, e-mail addresses before their domains, IBANs,
//! cards and dates before the digit runs a phone search would also read.

use super::{CharOffsets, Mention, MentionKind, identifier_key};
use crate::model::EntityId;
use chrono::NaiveDate;
use regex::Regex;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

/// Every identifier in `text`. `default_region` (ISO 3166 alpha-2) lets national phone
/// numbers ("06-12345678") be read; without it only international ones are.
pub fn find_identifiers(text: &str, default_region: Option<&str>) -> Vec<Mention> {
    let mut found = Finder {
        text,
        taken: Vec::new(),
        out: Vec::new(),
        offsets: CharOffsets::new(text),
    };
    found.urls();
    found.emails();
    found.ibans();
    found.crypto();
    found.ip_addresses();
    found.cards_and_imeis();
    found.dates();
    found.amounts();
    found.bics();
    found.plates();
    found.phones(default_region);
    found.domains();
    found.out.sort_by_key(|m| m.start);
    found.out
}

/// Identifiers the case already holds, found by loose patterns and kept only when their
/// normalised value is one of `known` (international phone numbers in any punctuation,
/// IBANs, plates, IMEIs). Overlaps are the caller's to settle.
pub fn find_known_identifiers(
    text: &str,
    known: &HashMap<(MentionKind, String), EntityId>,
) -> Vec<Mention> {
    if known.is_empty() {
        return Vec::new();
    }
    static PHONE: LazyLock<Regex> =
        LazyLock::new(|| pattern(r"(?:\+|\b00)\d[\d \-./()]{4,18}\d\b"));
    static IBAN_LIKE: LazyLock<Regex> =
        LazyLock::new(|| pattern(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{1,6}){2,8}\b"));
    static PLATE_LIKE: LazyLock<Regex> =
        LazyLock::new(|| pattern(r"\b[A-Z0-9]{1,4}(?:[ -]?[A-Z0-9]{1,4}){1,3}\b"));
    let mut finder = Finder {
        text,
        taken: Vec::new(),
        out: Vec::new(),
        offsets: CharOffsets::new(text),
    };
    let mut candidates: Vec<(MentionKind, std::ops::Range<usize>, String)> = Vec::new();
    for m in PHONE.find_iter(text) {
        let digits: String = m.as_str().chars().filter(char::is_ascii_digit).collect();
        let digits = if m.as_str().starts_with("00") {
            digits[2..].to_string()
        } else {
            digits
        };
        candidates.push((MentionKind::Phone, m.range(), format!("+{digits}")));
    }
    for m in IBAN_LIKE.find_iter(text) {
        candidates.push((MentionKind::Iban, m.range(), identifier_key(m.as_str())));
    }
    for m in PLATE_LIKE.find_iter(text) {
        let value = identifier_key(m.as_str());
        candidates.push((MentionKind::Plate, m.range(), value.clone()));
        candidates.push((MentionKind::Imei, m.range(), value));
    }
    // Longest first, so "+999 712 345 678" is not taken as a shorter number inside it.
    candidates.sort_by_key(|(_, r, _)| std::cmp::Reverse(r.len()));
    for (kind, range, value) in candidates {
        if known.contains_key(&(kind, value.clone())) {
            finder.push(
                kind,
                (range.start, range.end),
                value,
                0.95,
                "an identifier the case holds as an entity",
            );
        }
    }
    finder.out.sort_by_key(|m| m.start);
    finder.out
}

struct Finder<'a> {
    text: &'a str,
    /// Byte ranges already taken by a mention.
    taken: Vec<(usize, usize)>,
    out: Vec<Mention>,
    offsets: CharOffsets<'a>,
}

impl Finder<'_> {
    fn is_free(&self, start: usize, end: usize) -> bool {
        !self.taken.iter().any(|&(s, e)| start < e && s < end)
    }

    fn push(
        &mut self,
        kind: MentionKind,
        (start, end): (usize, usize),
        normalized: String,
        confidence: f64,
        reason: &str,
    ) {
        if !self.is_free(start, end) {
            return;
        }
        self.taken.push((start, end));
        let text = self.text[start..end].to_string();
        let (start, end) = (self.offsets.of(start), self.offsets.of(end));
        self.out.push(Mention {
            kind,
            start,
            end,
            text,
            normalized,
            confidence,
            entity: None,
            reason: reason.to_string(),
        });
    }

    /// Whether one of `keywords` (lower case) stands within 30 bytes before `start`.
    fn keyword_before(&self, start: usize, keywords: &[&str]) -> bool {
        let mut from = start.saturating_sub(30);
        while !self.text.is_char_boundary(from) {
            from += 1;
        }
        let before = self.text[from..start].to_lowercase();
        keywords.iter().any(|k| before.contains(k))
    }

    fn urls(&mut self) {
        static URL: LazyLock<Regex> = LazyLock::new(|| {
            pattern(r#"(?i)\b(?:https?|ftp)://[^\s<>"'\]\[]+|\bwww\.[^\s<>"'\]\[]+"#)
        });
        for m in URL.find_iter(self.text) {
            let trimmed = m
                .as_str()
                .trim_end_matches(['.', ',', ';', ':', ')', '!', '?']);
            let end = m.start() + trimmed.len();
            let lower = trimmed.to_lowercase();
            self.push(
                MentionKind::Url,
                (m.start(), end),
                lower,
                0.95,
                "a web address",
            );
        }
    }

    fn emails(&mut self) {
        static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
            pattern(
                r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}\b",
            )
        });
        for m in EMAIL.find_iter(self.text) {
            self.push(
                MentionKind::Email,
                (m.start(), m.end()),
                m.as_str().to_lowercase(),
                0.95,
                "an e-mail address",
            );
        }
    }

    fn ibans(&mut self) {
        static IBAN: LazyLock<Regex> =
            LazyLock::new(|| pattern(r"(?i)\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,32}"));
        let candidates: Vec<(usize, usize)> = IBAN
            .find_iter(self.text)
            .map(|m| (m.start(), m.end()))
            .collect();
        for (start, end) in candidates {
            // The pattern may run on into the next word: try the longest prefix whose check
            // digits are right, ending at a character boundary of the candidate.
            let candidate = &self.text[start..end];
            let mut ends: Vec<usize> = candidate
                .char_indices()
                .map(|(i, c)| i + c.len_utf8())
                .filter(|&i| !candidate[..i].ends_with(' '))
                .collect();
            ends.reverse();
            for cut in ends {
                let compact: String = candidate[..cut]
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect::<String>()
                    .to_ascii_uppercase();
                if compact.len() < 15 {
                    break;
                }
                let at_word_end = self.text[start + cut..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphanumeric());
                if at_word_end && iban::Iban::try_from(compact.as_str()).is_ok() {
                    self.push(
                        MentionKind::Iban,
                        (start, start + cut),
                        compact,
                        0.97,
                        "an IBAN whose check digits are right",
                    );
                    break;
                }
            }
        }
    }

    fn crypto(&mut self) {
        static BASE58: LazyLock<Regex> =
            LazyLock::new(|| pattern(r"\b[13][a-km-zA-HJ-NP-Z1-9]{25,34}\b"));
        static BECH32: LazyLock<Regex> =
            LazyLock::new(|| pattern(r"(?i)\bbc1[ac-hj-np-z02-9]{11,71}\b"));
        static ETHEREUM: LazyLock<Regex> = LazyLock::new(|| pattern(r"\b0x[0-9a-fA-F]{40}\b"));
        let found: Vec<_> = BASE58
            .find_iter(self.text)
            .filter(|m| base58check_ok(m.as_str()))
            .map(|m| (m.range(), m.as_str().to_string()))
            .collect();
        for (range, address) in found {
            self.push(
                MentionKind::Crypto,
                (range.start, range.end),
                address,
                0.95,
                "a Bitcoin address whose checksum is right",
            );
        }
        let found: Vec<_> = BECH32
            .find_iter(self.text)
            .filter(|m| bech32_ok(m.as_str()))
            .map(|m| (m.range(), m.as_str().to_lowercase()))
            .collect();
        for (range, address) in found {
            self.push(
                MentionKind::Crypto,
                (range.start, range.end),
                address,
                0.95,
                "a Bitcoin (bech32) address whose checksum is right",
            );
        }
        let found: Vec<_> = ETHEREUM
            .find_iter(self.text)
            .map(|m| (m.range(), m.as_str().to_string()))
            .collect();
        for (range, address) in found {
            let hex = &address[2..];
            let mixed = hex.chars().any(|c| c.is_ascii_uppercase())
                && hex.chars().any(|c| c.is_ascii_lowercase());
            let (confidence, reason) = if !mixed {
                (
                    0.7,
                    "an Ethereum address (single case: no checksum to check)",
                )
            } else if eip55_ok(hex) {
                (
                    0.97,
                    "an Ethereum address whose mixed-case checksum is right",
                )
            } else {
                continue;
            };
            self.push(
                MentionKind::Crypto,
                (range.start, range.end),
                address.to_lowercase(),
                confidence,
                reason,
            );
        }
    }

    fn ip_addresses(&mut self) {
        static V6: LazyLock<Regex> =
            LazyLock::new(|| pattern(r"(?i)[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}"));
        static V4: LazyLock<Regex> = LazyLock::new(|| pattern(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"));
        let found: Vec<_> = V6
            .find_iter(self.text)
            .filter_map(|m| {
                let address: Ipv6Addr = m.as_str().parse().ok()?;
                Some((m.range(), address.to_string()))
            })
            .collect();
        for (range, address) in found {
            self.push(
                MentionKind::Ipv6,
                (range.start, range.end),
                address,
                0.9,
                "an IPv6 address",
            );
        }
        let found: Vec<_> = V4
            .find_iter(self.text)
            .filter(|m| {
                // Not a part of a longer dotted number (a version, an OID).
                let after = &self.text[m.end()..];
                !(after.starts_with('.') && after[1..].starts_with(|c: char| c.is_ascii_digit()))
            })
            .filter_map(|m| {
                let address: Ipv4Addr = m.as_str().parse().ok()?;
                Some((m.range(), address.to_string()))
            })
            .collect();
        for (range, address) in found {
            self.push(
                MentionKind::Ipv4,
                (range.start, range.end),
                address,
                0.9,
                "an IPv4 address",
            );
        }
    }

    fn cards_and_imeis(&mut self) {
        static DIGITS: LazyLock<Regex> = LazyLock::new(|| pattern(r"\b\d(?:[ -]?\d){12,18}\b"));
        let found: Vec<_> = DIGITS
            .find_iter(self.text)
            .map(|m| (m.range(), m.as_str().to_string()))
            .collect();
        for (range, raw) in found {
            let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
            if !luhn_ok(&digits) {
                continue;
            }
            let amex = digits.len() == 15 && (digits.starts_with("34") || digits.starts_with("37"));
            if digits.len() == 15 && !amex {
                let keyword = self.keyword_before(range.start, &["imei"]);
                self.push(
                    MentionKind::Imei,
                    (range.start, range.end),
                    digits,
                    if keyword { 0.97 } else { 0.85 },
                    "an IMEI whose check digit is right",
                );
            } else if card_issuer(&digits).is_some() {
                let issuer = card_issuer(&digits).unwrap_or("card");
                self.push(
                    MentionKind::PaymentCard,
                    (range.start, range.end),
                    digits,
                    0.9,
                    &format!("a {issuer} card number whose check digit is right"),
                );
            }
        }
    }

    fn dates(&mut self) {
        static ISO: LazyLock<Regex> = LazyLock::new(|| {
            pattern(r"\b(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?\b")
        });
        static NUMERIC: LazyLock<Regex> = LazyLock::new(|| {
            pattern(r"\b(\d{1,2})([./-])(\d{1,2})([./-])(\d{4})\b(?:,? (\d{1,2}):(\d{2}))?")
        });
        static WORDS: LazyLock<Regex> = LazyLock::new(|| {
            pattern(
                r"(?i)\b(\d{1,2})(?:st|nd|rd|th|\.|º|er)?\s+(?:de\s+)?([a-zéû]{3,10})\.?,?\s+(?:de\s+)?(\d{4})\b",
            )
        });
        static WORDS_US: LazyLock<Regex> = LazyLock::new(|| {
            pattern(r"(?i)\b([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,\s+(\d{4})\b")
        });
        let mut found = Vec::new();
        for c in ISO.captures_iter(self.text) {
            let num = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
            if let Some(iso) = iso_date(num(1), num(2), num(3), num(4), num(5)) {
                found.push((c.get(0).map_or(0..0, |m| m.range()), iso, 0.95));
            }
        }
        for c in NUMERIC.captures_iter(self.text) {
            if c[2] != c[4] {
                continue;
            }
            let num = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
            // European order, day first: the program's users are European police analysts.
            // Both readings possible (both numbers 12 or less) lowers the confidence.
            let ambiguous = num(1).unwrap_or(0) <= 12 && num(3).unwrap_or(0) <= 12;
            if let Some(iso) = iso_date(num(5), num(3), num(1), num(6), num(7)) {
                let confidence = if ambiguous { 0.75 } else { 0.9 };
                found.push((c.get(0).map_or(0..0, |m| m.range()), iso, confidence));
            }
        }
        for c in WORDS.captures_iter(self.text) {
            let day = c[1].parse().ok();
            let year = c[3].parse().ok();
            if let Some(month) = month_number(&c[2])
                && let Some(iso) = iso_date(year, Some(month), day, None, None)
            {
                found.push((c.get(0).map_or(0..0, |m| m.range()), iso, 0.95));
            }
        }
        for c in WORDS_US.captures_iter(self.text) {
            let day = c[2].parse().ok();
            let year = c[3].parse().ok();
            if let Some(month) = month_number(&c[1])
                && let Some(iso) = iso_date(year, Some(month), day, None, None)
            {
                found.push((c.get(0).map_or(0..0, |m| m.range()), iso, 0.95));
            }
        }
        for (range, iso, confidence) in found {
            self.push(
                MentionKind::Date,
                (range.start, range.end),
                iso,
                confidence,
                "a date",
            );
        }
    }

    fn amounts(&mut self) {
        const CODES: &str = r"EUR|USD|GBP|CHF|RON|PLN|SEK|DKK|NOK|CZK|HUF|BGN|TRY|RUB|UAH";
        static BEFORE: LazyLock<Regex> = LazyLock::new(|| {
            pattern(&format!(
                r"(?:(€|\$|£)|\b({CODES})\b)\s?(\d{{1,3}}(?:[.,' ]\d{{3}})+(?:[.,]\d{{1,2}})?|\d+(?:[.,]\d{{1,2}})?)\b"
            ))
        });
        static AFTER: LazyLock<Regex> = LazyLock::new(|| {
            pattern(&format!(
                r"(?i)\b(\d{{1,3}}(?:[.,' ]\d{{3}})+(?:[.,]\d{{1,2}})?|\d+(?:[.,]\d{{1,2}})?)\s?(?:(€|\$|£)|\b({CODES}|euros?|dollars?|pounds?|francs?|lei|zł|złoty)\b)"
            ))
        });
        let mut found = Vec::new();
        for c in BEFORE.captures_iter(self.text) {
            let currency = currency_code(c.get(1).or(c.get(2)).map_or("", |m| m.as_str()));
            if let (Some(currency), Some(value)) = (currency, parse_amount(&c[3])) {
                found.push((
                    c.get(0).map_or(0..0, |m| m.range()),
                    format!("{value:.2} {currency}"),
                ));
            }
        }
        for c in AFTER.captures_iter(self.text) {
            let currency = currency_code(c.get(2).or(c.get(3)).map_or("", |m| m.as_str()));
            if let (Some(currency), Some(value)) = (currency, parse_amount(&c[1])) {
                found.push((
                    c.get(0).map_or(0..0, |m| m.range()),
                    format!("{value:.2} {currency}"),
                ));
            }
        }
        for (range, normalized) in found {
            self.push(
                MentionKind::Amount,
                (range.start, range.end),
                normalized,
                0.9,
                "an amount with its currency",
            );
        }
    }

    fn bics(&mut self) {
        static BIC: LazyLock<Regex> =
            LazyLock::new(|| pattern(r"\b[A-Z]{4}([A-Z]{2})([A-Z0-9]{2})(?:[A-Z0-9]{3})?\b"));
        let found: Vec<_> = BIC
            .captures_iter(self.text)
            .filter(|c| is_country(&c[1]))
            .filter_map(|c| {
                let whole = c.get(0)?;
                let location_has_digit = c[2].chars().any(|ch| ch.is_ascii_digit());
                Some((
                    whole.range(),
                    whole.as_str().to_string(),
                    location_has_digit,
                ))
            })
            .collect();
        for (range, bic, location_has_digit) in found {
            // Eight or eleven capitals are also ordinary shouted words ("BUSINESS"): only
            // with "BIC"/"SWIFT" before it, or a digit in the location code, is it a BIC.
            let keyword = self.keyword_before(range.start, &["bic", "swift"]);
            if keyword || location_has_digit {
                self.push(
                    MentionKind::Bic,
                    (range.start, range.end),
                    bic,
                    if keyword { 0.95 } else { 0.6 },
                    "a BIC (bank code) with a valid country",
                );
            }
        }
    }

    fn plates(&mut self) {
        // The main EU formats (current issues); each with the country it reads. Letters in
        // upper case only: lower-case words are prose, not plates.
        static PLATES: LazyLock<Vec<(Regex, &'static str, f64)>> = LazyLock::new(|| {
            [
                // Netherlands: sidecodes 4–11, always with hyphens.
                (r"\b(?:\d{2}-[A-Z]{3}-\d|\d-[A-Z]{3}-\d{2}|[A-Z]{2}-\d{3}-[A-Z]|[A-Z]-\d{3}-[A-Z]{2}|[A-Z]{3}-\d{2}-[A-Z]|\d-[A-Z]{2}-\d{3}|[A-Z]{2}-\d{2}-[A-Z]{2}|\d{2}-[A-Z]{2}-[A-Z]{2}|[A-Z]{2}-[A-Z]{2}-\d{2}|\d{2}-[A-Z]{2}-\d{2}|\d{3}-[A-Z]{2}-\d|[A-Z]-\d{2}-[A-Z]{3})\b", "NL", 0.85),
                // France (SIV): AB-123-CD.
                (r"\b[A-Z]{2}-\d{3}-[A-Z]{2}\b", "FR", 0.85),
                // Belgium: 1-ABC-234.
                (r"\b\d-[A-Z]{3}-\d{3}\b", "BE", 0.85),
                // Germany: district, letters, digits (B-AB 1234, M AB 123E).
                (r"\b[A-ZÄÖÜ]{1,3}-[A-Z]{1,2} ?\d{1,4}[EH]?\b", "DE", 0.8),
                // Spain: 1234 BCD (consonants only).
                (r"\b\d{4} ?[BCDFGHJKLMNPRSTVWXYZ]{3}\b", "ES", 0.75),
                // Italy: AB 123 CD.
                (r"\b[A-Z]{2} ?\d{3} ?[A-Z]{2}\b", "IT", 0.7),
                // United Kingdom: AB12 CDE.
                (r"\b[A-Z]{2}\d{2} ?[A-Z]{3}\b", "GB", 0.75),
                // Romania: B 123 ABC, CJ 12 ABC.
                (r"\b(?:B ?\d{2,3}|[A-Z]{2} ?\d{2}) ?[A-Z]{3}\b", "RO", 0.65),
            ]
            .into_iter()
            .map(|(source, country, confidence)| (pattern(source), country, confidence))
            .collect()
        });
        const KEYWORDS: &[&str] = &[
            "plate",
            "kenteken",
            "kennzeichen",
            "matrícula",
            "matricula",
            "targa",
            "immatricul",
            "număr",
            "vehicle",
            "voertuig",
            "fahrzeug",
            "car ",
            "auto",
        ];
        let mut found = Vec::new();
        for (pattern, country, confidence) in PLATES.iter() {
            for m in pattern.find_iter(self.text) {
                found.push((m.range(), m.as_str().to_string(), *country, *confidence));
            }
        }
        for (range, plate, country, confidence) in found {
            let keyword = self.keyword_before(range.start, KEYWORDS);
            let normalized: String = plate
                .chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
                .to_uppercase();
            // A plate needs letters and digits both (rules out "AB-CD" words and numbers).
            if !normalized.chars().any(|c| c.is_ascii_digit())
                || !normalized.chars().any(|c| c.is_alphabetic())
            {
                continue;
            }
            self.push(
                MentionKind::Plate,
                (range.start, range.end),
                normalized,
                if keyword {
                    (confidence + 0.15_f64).min(0.97)
                } else {
                    confidence
                },
                &format!("a vehicle plate in the {country} format"),
            );
        }
    }

    fn phones(&mut self, default_region: Option<&str>) {
        static PHONE: LazyLock<Regex> =
            LazyLock::new(|| pattern(r"(?:\+|\b00|\b0|\b)\d[\d \-./()]{5,18}\d\b"));
        let region = default_region.and_then(|r| r.to_ascii_uppercase().parse().ok());
        let found: Vec<_> = PHONE
            .find_iter(self.text)
            .map(|m| (m.range(), m.as_str().to_string()))
            .collect();
        for (range, raw) in found {
            let international = raw.starts_with('+') || raw.starts_with("00");
            let candidate = match raw.strip_prefix("00") {
                Some(rest) => format!("+{rest}"),
                None => raw.clone(),
            };
            if !international && region.is_none() {
                continue;
            }
            let Ok(number) = phonenumber::parse(region, &candidate) else {
                continue;
            };
            if !phonenumber::is_valid(&number) {
                continue;
            }
            let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
            let keyword = self.keyword_before(
                range.start,
                &[
                    "tel", "phone", "mobile", "gsm", "nummer", "número", "numero", "call", "belde",
                    "sms",
                ],
            );
            self.push(
                MentionKind::Phone,
                (range.start, range.end),
                e164,
                if keyword { 0.97 } else { 0.9 },
                "a phone number valid in its country's numbering plan",
            );
        }
    }

    fn domains(&mut self) {
        static DOMAIN: LazyLock<Regex> = LazyLock::new(|| {
            pattern(&format!(
                r"(?i)\b(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+(?:{TLDS})\b"
            ))
        });
        let found: Vec<_> = DOMAIN
            .find_iter(self.text)
            .filter(|m| {
                // Not the tail of an address or path the earlier searches did not take.
                let before = self.text[..m.start()].chars().next_back();
                !matches!(before, Some('@' | '/' | '.' | '-'))
            })
            .map(|m| (m.range(), m.as_str().to_lowercase()))
            .collect();
        for (range, domain) in found {
            self.push(
                MentionKind::Domain,
                (range.start, range.end),
                domain,
                0.8,
                "a domain name",
            );
        }
    }
}

/// Compiles one of this file's literal patterns. Each is compiled by the tests, so a typo
/// fails there, never in the field.
#[allow(
    clippy::expect_used,
    reason = "the patterns are literals of this module, compiled by its tests"
)]
pub(super) fn pattern(source: &str) -> Regex {
    Regex::new(source).expect("a literal pattern of analysis::mentions")
}

/// Top-level domains a domain mention may end in: the generic ones and the European
/// country codes (a list, so that "file.txt" and "J.R.R" are not domains).
const TLDS: &str = "com|net|org|info|biz|eu|nl|de|es|fr|it|be|at|ch|uk|pl|ro|gr|pt|se|dk|fi|no|ie|cz|sk|hu|bg|hr|si|lt|lv|ee|lu|mt|cy|ru|ua|tr|rs|al|md|ma|io|co|me|tv|cc|onion|xyz|online|top|app|dev|shop|site|cn|us|ca|au|br|in";

/// ISO 3166-1 alpha-2 codes (for BICs).
fn is_country(code: &str) -> bool {
    const CODES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW";
    code.len() == 2 && CODES.split(' ').any(|c| c == code)
}

fn iso_date(
    year: Option<u32>,
    month: Option<u32>,
    day: Option<u32>,
    hour: Option<u32>,
    minute: Option<u32>,
) -> Option<String> {
    let year = i32::try_from(year?).ok()?;
    if !(1900..=2100).contains(&year) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year, month?, day?)?;
    match (hour, minute) {
        (Some(h), Some(m)) if h < 24 && m < 60 => Some(format!("{date}T{h:02}:{m:02}")),
        (Some(_), Some(_)) => None,
        _ => Some(date.to_string()),
    }
}

/// Month names in English, Dutch, German, Spanish, French, Italian and Romanian (full and
/// the usual abbreviations).
fn month_number(word: &str) -> Option<u32> {
    const MONTHS: [&[&str]; 12] = [
        &[
            "january", "jan", "januari", "januar", "jänner", "enero", "ene", "janvier", "janv",
            "gennaio", "gen", "ianuarie", "ian",
        ],
        &[
            "february",
            "feb",
            "februari",
            "februar",
            "febrero",
            "février",
            "fevrier",
            "févr",
            "fevr",
            "febbraio",
            "februarie",
        ],
        &[
            "march", "mar", "maart", "mrt", "märz", "marz", "marzo", "mars", "martie",
        ],
        &[
            "april", "apr", "abril", "abr", "avril", "avr", "aprile", "aprilie",
        ],
        &["may", "mei", "mai", "mayo", "maggio", "mag"],
        &[
            "june", "jun", "juni", "junio", "juin", "giugno", "giu", "iunie",
        ],
        &[
            "july", "jul", "juli", "julio", "juillet", "juil", "luglio", "lug", "iulie",
        ],
        &[
            "august", "aug", "augustus", "agosto", "ago", "août", "aout", "ag",
        ],
        &[
            "september",
            "sep",
            "sept",
            "septiembre",
            "septembre",
            "settembre",
            "set",
            "septembrie",
        ],
        &[
            "october",
            "oct",
            "oktober",
            "okt",
            "octubre",
            "octobre",
            "ottobre",
            "ott",
            "octombrie",
        ],
        &["november", "nov", "noviembre", "novembre", "noiembrie"],
        &[
            "december",
            "dec",
            "dezember",
            "dez",
            "diciembre",
            "dic",
            "décembre",
            "decembre",
            "déc",
            "dicembre",
            "decembrie",
        ],
    ];
    let lower = word.to_lowercase();
    MONTHS
        .iter()
        .position(|names| names.contains(&lower.as_str()))
        .map(|i| i as u32 + 1)
}

fn currency_code(symbol: &str) -> Option<&'static str> {
    Some(match symbol.to_lowercase().as_str() {
        "€" | "eur" | "euro" | "euros" => "EUR",
        "$" | "usd" | "dollar" | "dollars" => "USD",
        "£" | "gbp" | "pound" | "pounds" => "GBP",
        "chf" | "franc" | "francs" => "CHF",
        "ron" | "lei" => "RON",
        "pln" | "zł" | "złoty" => "PLN",
        "sek" => "SEK",
        "dkk" => "DKK",
        "nok" => "NOK",
        "czk" => "CZK",
        "huf" => "HUF",
        "bgn" => "BGN",
        "try" => "TRY",
        "rub" => "RUB",
        "uah" => "UAH",
        _ => return None,
    })
}

/// "1.250,50", "1,250.50", "1 250", "1250.5": the last separator followed by one or two
/// digits is the decimal mark; every other separator groups thousands.
fn parse_amount(raw: &str) -> Option<f64> {
    let last_sep = raw.rfind(['.', ',']);
    let (whole, fraction) = match last_sep {
        Some(i) if (1..=2).contains(&(raw.len() - i - 1)) => (&raw[..i], &raw[i + 1..]),
        _ => (raw, ""),
    };
    let digits: String = whole.chars().filter(char::is_ascii_digit).collect();
    format!("{digits}.{fraction}0").parse().ok()
}

fn luhn_ok(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(c - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    !digits.is_empty() && sum % 10 == 0
}

/// The card scheme a number's issuer prefix and length belong to.
fn card_issuer(digits: &str) -> Option<&'static str> {
    let len = digits.len();
    let prefix = |n: usize| digits[..n].parse::<u32>().unwrap_or(0);
    if digits.starts_with('4') && matches!(len, 13 | 16 | 19) {
        Some("Visa")
    } else if ((51..=55).contains(&prefix(2)) || (2221..=2720).contains(&prefix(4))) && len == 16 {
        Some("Mastercard")
    } else if matches!(prefix(2), 34 | 37) && len == 15 {
        Some("American Express")
    } else if (prefix(4) == 6011 || prefix(2) == 65 || (644..=649).contains(&prefix(3)))
        && (16..=19).contains(&len)
    {
        Some("Discover")
    } else if (3528..=3589).contains(&prefix(4)) && (16..=19).contains(&len) {
        Some("JCB")
    } else if (matches!(
        prefix(4),
        5018 | 5020 | 5038 | 5893 | 6304 | 6759 | 6761 | 6762 | 6763
    )) && (12..=19).contains(&len)
    {
        Some("Maestro")
    } else {
        None
    }
}

/// Base58Check: version byte 0 (P2PKH) or 5 (P2SH), 20-byte payload, and the first four
/// bytes of the double SHA-256 as checksum.
fn base58check_ok(address: &str) -> bool {
    let Ok(bytes) = bs58::decode(address).into_vec() else {
        return false;
    };
    if bytes.len() != 25 || !matches!(bytes[0], 0 | 5) {
        return false;
    }
    let hash = Sha256::digest(Sha256::digest(&bytes[..21]));
    hash[..4] == bytes[21..]
}

/// BIP-173/BIP-350: the bech32 (v0) or bech32m (v1+) checksum of a Bitcoin address.
fn bech32_ok(address: &str) -> bool {
    const CHARSET: &str = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    if address.chars().any(|c| c.is_ascii_uppercase())
        && address.chars().any(|c| c.is_ascii_lowercase())
    {
        return false;
    }
    let lower = address.to_lowercase();
    let Some((hrp, data)) = lower.rsplit_once('1') else {
        return false;
    };
    let Some(values): Option<Vec<u32>> = data
        .chars()
        .map(|c| CHARSET.find(c).map(|v| v as u32))
        .collect()
    else {
        return false;
    };
    if values.len() < 7 {
        return false;
    }
    let mut expanded: Vec<u32> = hrp.bytes().map(|b| u32::from(b) >> 5).collect();
    expanded.push(0);
    expanded.extend(hrp.bytes().map(|b| u32::from(b) & 31));
    expanded.extend(&values);
    let mut check = 1u32;
    const GEN: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    for v in expanded {
        let top = check >> 25;
        check = ((check & 0x1ff_ffff) << 5) ^ v;
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                check ^= g;
            }
        }
    }
    let witness_version = values[0];
    (witness_version == 0 && check == 1) || (witness_version > 0 && check == 0x2bc8_30a3)
}

/// EIP-55: a hex digit is upper case exactly when the matching nibble of the Keccak-256 of
/// the lower-case address is 8 or more.
fn eip55_ok(hex: &str) -> bool {
    use tiny_keccak::{Hasher, Keccak};
    let lower = hex.to_lowercase();
    let mut hash = [0u8; 32];
    let mut keccak = Keccak::v256();
    keccak.update(lower.as_bytes());
    keccak.finalize(&mut hash);
    hex.chars().enumerate().all(|(i, c)| {
        let nibble = (hash[i / 2] >> if i % 2 == 0 { 4 } else { 0 }) & 0xf;
        if c.is_ascii_digit() {
            true
        } else if nibble >= 8 {
            c.is_ascii_uppercase()
        } else {
            c.is_ascii_lowercase()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str, region: Option<&str>) -> Vec<(MentionKind, String)> {
        find_identifiers(text, region)
            .into_iter()
            .map(|m| (m.kind, m.normalized))
            .collect()
    }

    #[test]
    fn phones_are_normalised_to_e164_with_the_default_region() {
        let found = kinds("Bel 06-12345678 of +49 30 1234567, niet 12345.", Some("NL"));
        assert!(
            found.contains(&(MentionKind::Phone, "+31612345678".into())),
            "{found:?}"
        );
        assert!(
            found.contains(&(MentionKind::Phone, "+49301234567".into())),
            "{found:?}"
        );
        assert_eq!(found.len(), 2, "{found:?}");
        // Without a region, national numbers are not read.
        assert_eq!(kinds("Bel 06-12345678.", None), vec![]);
    }

    #[test]
    fn ibans_need_their_check_digits() {
        let found = kinds(
            "Pay to NL91 ABNA 0417 1643 00 today, not NL92 ABNA 0417 1643 00.",
            None,
        );
        assert_eq!(
            found,
            vec![(MentionKind::Iban, "NL91ABNA0417164300".into())]
        );
        let found = kinds("IBAN: DE89370400440532013000.", None);
        assert_eq!(
            found,
            vec![(MentionKind::Iban, "DE89370400440532013000".into())]
        );
    }

    #[test]
    fn cards_and_imeis_need_their_luhn_digit() {
        let found = kinds(
            "Card 4111 1111 1111 1111, IMEI 490154203237518, not 4111 1111 1111 1112.",
            None,
        );
        assert_eq!(
            found,
            vec![
                (MentionKind::PaymentCard, "4111111111111111".into()),
                (MentionKind::Imei, "490154203237518".into()),
            ]
        );
    }

    #[test]
    fn crypto_addresses_need_their_checksums() {
        let text = "BTC 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2, bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq, \
                    ETH 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed, bad 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3.";
        let found = kinds(text, None);
        let crypto: Vec<_> = found
            .iter()
            .filter(|(k, _)| *k == MentionKind::Crypto)
            .collect();
        assert_eq!(crypto.len(), 3, "{found:?}");
        // A mixed-case Ethereum address with a wrong checksum is not proposed.
        assert!(kinds("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", None).is_empty());
    }

    #[test]
    fn dates_amounts_and_addresses() {
        let found = kinds(
            "On 15 March 2024 at 10:00 he sent €1.250,50 to j.smith@example.com from 192.168.1.20 \
             (see https://example.org/a?b=c). Met on 2024-03-16T09:30 and 17/03/2024; paid 300 EUR.",
            None,
        );
        for expected in [
            (MentionKind::Date, "2024-03-15"),
            (MentionKind::Amount, "1250.50 EUR"),
            (MentionKind::Email, "j.smith@example.com"),
            (MentionKind::Ipv4, "192.168.1.20"),
            (MentionKind::Url, "https://example.org/a?b=c"),
            (MentionKind::Date, "2024-03-16T09:30"),
            (MentionKind::Date, "2024-03-17"),
            (MentionKind::Amount, "300.00 EUR"),
        ] {
            assert!(
                found.contains(&(expected.0, expected.1.to_string())),
                "{expected:?} not in {found:?}"
            );
        }
        // The domain inside the e-mail address and the URL is not a separate mention.
        assert!(
            !found.iter().any(|(k, _)| *k == MentionKind::Domain),
            "{found:?}"
        );
    }

    #[test]
    fn identifiers_the_case_holds_are_found_outside_any_numbering_plan() {
        let known: HashMap<(MentionKind, String), EntityId> = [
            (
                (MentionKind::Phone, "+999712345678".to_string()),
                EntityId(1),
            ),
            (
                (MentionKind::Iban, "ZZ17COPK1234567890".to_string()),
                EntityId(2),
            ),
            ((MentionKind::Plate, "WM12ABC".to_string()), EntityId(3)),
        ]
        .into_iter()
        .collect();
        let text = "Called +999 712-345-678 and 00999712345678, paid into ZZ17 COPK 1234 567890 \
                    from car WM12 ABC; not +999 712 345 679.";
        // Outside every real plan and registry: the validated search finds neither the
        // numbers nor the IBAN (the plate has the British format and is found either way).
        let validated = find_identifiers(text, None);
        assert!(
            validated.iter().all(|m| m.kind == MentionKind::Plate),
            "{validated:?}"
        );
        let found: Vec<(MentionKind, String)> = find_known_identifiers(text, &known)
            .into_iter()
            .map(|m| (m.kind, m.text))
            .collect();
        let found: Vec<(MentionKind, &str)> = found.iter().map(|(k, t)| (*k, t.as_str())).collect();
        assert_eq!(
            found,
            vec![
                (MentionKind::Phone, "+999 712-345-678"),
                (MentionKind::Phone, "00999712345678"),
                (MentionKind::Iban, "ZZ17 COPK 1234 567890"),
                (MentionKind::Plate, "WM12 ABC"),
            ]
        );
    }

    #[test]
    fn plates_bics_and_ipv6() {
        let found = kinds(
            "Kenteken 12-ABC-3 en AB-123-CD; BIC ABNANL2A; host 2001:db8::1; BUSINESS is a word.",
            None,
        );
        for expected in [
            (MentionKind::Plate, "12ABC3"),
            (MentionKind::Plate, "AB123CD"),
            (MentionKind::Bic, "ABNANL2A"),
            (MentionKind::Ipv6, "2001:db8::1"),
        ] {
            assert!(
                found.contains(&(expected.0, expected.1.to_string())),
                "{expected:?} not in {found:?}"
            );
        }
        assert!(!found.iter().any(|(_, v)| v == "BUSINESS"), "{found:?}");
    }
}
