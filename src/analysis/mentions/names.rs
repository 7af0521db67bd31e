//! Names in text: the case's own entity names and aliases found again (spelling variants,
//! initials and accents allowed), and a rule-based tagger proposing new people,
//! organisations and places.
//!
//! Known names are matched token by token on the same folding and phonetic key entity
//! resolution uses (`analysis::resolve`), so "Jansen"/"Janssen" and "Müller"/"Mueller" meet
//! as they do there. The tagger's rules are few and written down here: a title before
//! capitalised words (Mr, Frau, Sra., Dhr., ...), a given name from the shipped list
//! (assets/mentions/given-names.txt) before one or two capitalised words, capitalised words
//! before a company's legal form (GmbH, B.V., S.L., Ltd, ...), and a capitalised word after a
//! preposition of place ("in Rotterdam", "bij Breda", "nach Köln").

use super::identifiers::pattern;
use super::{CharOffsets, Mention, MentionKind};
use crate::analysis::resolve::{fold, phonetic_key};
use crate::model::EntityId;
use regex::Regex;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// One name (or alias) of an entity of the case.
#[derive(Debug, Clone)]
pub struct KnownName {
    pub entity: EntityId,
    pub kind: MentionKind,
    pub name: String,
}

/// The case's names, indexed for finding them in text.
#[derive(Debug, Default)]
pub struct NameIndex {
    names: Vec<IndexedName>,
    /// Phonetic key of a name token → (name, token position).
    by_key: HashMap<String, Vec<(usize, usize)>>,
}

#[derive(Debug)]
struct IndexedName {
    entity: EntityId,
    kind: MentionKind,
    tokens: Vec<String>,
}

/// A word of the text: byte range and folded form.
struct Token {
    start: usize,
    end: usize,
    folded: String,
    capitalised: bool,
}

fn tokens(text: &str) -> Vec<Token> {
    static WORD: LazyLock<Regex> = LazyLock::new(|| pattern(r"[\p{L}\p{N}]+"));
    WORD.find_iter(text)
        .map(|m| Token {
            start: m.start(),
            end: m.end(),
            folded: fold(m.as_str()).trim().to_string(),
            capitalised: m.as_str().chars().next().is_some_and(char::is_uppercase),
        })
        .collect()
}

/// Similarity of a name token and a text token: 1 when equal, 0.8 for an initial, else
/// Jaro–Winkler (spelling variants), 0 below 0.85.
fn token_similarity(name: &str, text: &str) -> f64 {
    if name == text {
        return 1.0;
    }
    if text.len() == 1 && name.len() > 1 && name.starts_with(text) {
        return 0.8;
    }
    let s = strsim::jaro_winkler(name, text);
    if s >= 0.85 { s } else { 0.0 }
}

impl NameIndex {
    pub fn new(names: &[KnownName]) -> NameIndex {
        let mut index = NameIndex::default();
        for known in names {
            let tokens: Vec<String> = fold(&known.name)
                .split_whitespace()
                .map(str::to_string)
                .collect();
            // One-letter and two-letter single names ("Al", "X") would match everywhere.
            if tokens.is_empty() || (tokens.len() == 1 && tokens[0].len() < 3) {
                continue;
            }
            let id = index.names.len();
            for (position, token) in tokens.iter().enumerate() {
                if token.len() >= 2 {
                    index
                        .by_key
                        .entry(phonetic_key(token))
                        .or_default()
                        .push((id, position));
                }
            }
            index.names.push(IndexedName {
                entity: known.entity,
                kind: known.kind,
                tokens,
            });
        }
        index
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Every known name in `text`, the best-scoring of overlapping matches kept.
    pub fn find(&self, text: &str) -> Vec<Mention> {
        if self.names.is_empty() {
            return Vec::new();
        }
        let words = tokens(text);
        let mut tried: HashSet<(usize, usize)> = HashSet::new();
        let mut candidates: Vec<(f64, usize, usize, usize)> = Vec::new();
        for (i, word) in words.iter().enumerate() {
            if word.folded.len() < 2 {
                continue;
            }
            let Some(hits) = self.by_key.get(&phonetic_key(&word.folded)) else {
                continue;
            };
            for &(name_id, position) in hits {
                let Some(first) = i.checked_sub(position) else {
                    continue;
                };
                if !tried.insert((name_id, first)) {
                    continue;
                }
                if let Some(score) = self.score(name_id, &words, first, text) {
                    let last = first + self.names[name_id].tokens.len() - 1;
                    candidates.push((score, name_id, first, last));
                }
            }
        }
        // Best first; longer first on equal scores; then keep what does not overlap.
        candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then((b.3 - b.2).cmp(&(a.3 - a.2))));
        let mut taken: Vec<(usize, usize)> = Vec::new();
        let mut offsets = CharOffsets::new(text);
        let mut out = Vec::new();
        for (score, name_id, first, last) in candidates {
            if taken.iter().any(|&(a, b)| first <= b && a <= last) {
                continue;
            }
            taken.push((first, last));
            let name = &self.names[name_id];
            let (start, end) = (words[first].start, words[last].end);
            out.push(Mention {
                kind: name.kind,
                start: offsets.of(start),
                end: offsets.of(end),
                text: text[start..end].to_string(),
                normalized: name.tokens.join(" "),
                confidence: score,
                entity: Some(name.entity),
                reason: if score >= 0.999 {
                    "a name of an entity in the case".into()
                } else {
                    format!("close to a name of an entity in the case ({score:.2} similar)")
                },
            });
        }
        out.sort_by_key(|m| m.start);
        out
    }

    /// How well the words from `first` on spell the name, or `None` when they do not.
    fn score(&self, name_id: usize, words: &[Token], first: usize, text: &str) -> Option<f64> {
        let name = &self.names[name_id];
        let n = name.tokens.len();
        let span = words.get(first..first + n)?;
        // The words must follow each other within one phrase: only spaces, dots, hyphens
        // and apostrophes between them.
        for pair in span.windows(2) {
            let gap = &text[pair[0].end..pair[1].start];
            if gap.len() > 3 || gap.chars().any(|c| !matches!(c, ' ' | '.' | '-' | '\'')) {
                return None;
            }
        }
        let mut total = 0.0;
        let mut exact_or_close = 0;
        for (token, word) in name.tokens.iter().zip(span) {
            let s = token_similarity(token, &word.folded);
            if s == 0.0 {
                return None;
            }
            if s >= 0.85 {
                exact_or_close += 1;
            }
            total += s;
        }
        // An initial alone is not a name: at least one token must be spelled out.
        if exact_or_close == 0 {
            return None;
        }
        let mut score = total / n as f64;
        if n == 1 {
            // A single word (a nickname, a one-word company) is weaker evidence.
            score *= 0.9;
        }
        if matches!(name.kind, MentionKind::Person | MentionKind::Organization)
            && !span[0].capitalised
        {
            score -= 0.1;
        }
        Some(score)
    }
}

/// New name candidates by the tagger's rules (see the module's documentation).
pub fn tag_candidates(text: &str) -> Vec<Mention> {
    static GIVEN: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
        include_str!("../../../assets/mentions/given-names.txt")
            .lines()
            .filter(|line| !line.starts_with('#'))
            .flat_map(str::split_whitespace)
            .collect()
    });
    const CAP: &str = r"\p{Lu}[\p{L}'’-]+";
    const PARTICLES: &str =
        r"(?:van|de|der|den|von|zu|di|da|del|della|la|le|du|dos|das|ten|ter|el|al|bin|ibn)";
    static TITLE: LazyLock<Regex> = LazyLock::new(|| {
        pattern(&format!(
            r"\b(?:Mr|Mrs|Ms|Miss|Dr|Herr|Frau|Sr|Sra|Srta|Señor|Señora|Dhr|Mevr|Mevrouw|Meneer|Mme|Mlle|Monsieur|Madame|Signor|Signora|Domnul|Doamna|Dl|Dna)\.?\s+((?:{CAP}\s+(?:{PARTICLES}\s+)*){{0,2}}{CAP})"
        ))
    });
    static GIVEN_NAME: LazyLock<Regex> = LazyLock::new(|| {
        pattern(&format!(
            r"\b({CAP})((?:\s+{PARTICLES})*(?:\s+{CAP}){{1,2}})"
        ))
    });
    static COMPANY: LazyLock<Regex> = LazyLock::new(|| {
        pattern(&format!(
            r"\b((?:(?:{CAP}|&|\p{{N}}+)\s+){{0,3}}{CAP})\s+(?:Ltd\.?|Limited|GmbH|AG|B\.V\.|BV|N\.V\.|NV|S\.L\.|SL|S\.A\.|SA|S\.R\.L\.|SRL|LLC|Inc\.?|Corp\.?|KG|plc|PLC|LLP|SARL|SAS|Oy|AB|ApS|S\.p\.A\.|SpA|s\.r\.o\.|Sp\. z o\.o\.)(?:[^\p{{L}}]|$)"
        ))
    });
    static PLACE: LazyLock<Regex> = LazyLock::new(|| {
        pattern(&format!(
            r"\b(?:in|at|near|from|bij|te|nabij|naar|uit|aus|nach|bei|en|cerca de|à|près de|vicino a|din)\s+({CAP}(?:[\s-]{CAP})?)"
        ))
    });
    /// Capitalised words that follow a preposition but are not places.
    const NOT_PLACES: &[&str] = &[
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "the",
        "de",
        "het",
        "der",
        "die",
        "das",
        "la",
        "le",
        "el",
        "mr",
        "mrs",
        "dr",
        "this",
        "that",
        "his",
        "her",
        "their",
        "our",
    ];
    let mut offsets = CharOffsets::new(text);
    let mut out: Vec<Mention> = Vec::new();
    let mut push = |kind: MentionKind, start: usize, end: usize, confidence: f64, reason: &str| {
        if out
            .iter()
            .any(|m| m.start < offsets.of(end) && offsets.of(start) < m.end)
        {
            return;
        }
        let folded: String = fold(&text[start..end])
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        out.push(Mention {
            kind,
            start: offsets.of(start),
            end: offsets.of(end),
            text: text[start..end].to_string(),
            normalized: folded,
            confidence,
            entity: None,
            reason: reason.to_string(),
        });
    };
    for c in COMPANY.captures_iter(text) {
        let Some(whole) = c.get(0) else {
            continue;
        };
        let trimmed = whole
            .as_str()
            .trim_end_matches(|ch: char| !ch.is_alphanumeric() && ch != '.');
        push(
            MentionKind::Organization,
            whole.start(),
            whole.start() + trimmed.len(),
            0.75,
            "capitalised words before a company's legal form",
        );
    }
    for c in TITLE.captures_iter(text) {
        let Some(name) = c.get(1) else {
            continue;
        };
        push(
            MentionKind::Person,
            name.start(),
            name.end(),
            0.75,
            "capitalised words after a title",
        );
    }
    for c in GIVEN_NAME.captures_iter(text) {
        let Some(given) = c.get(1) else {
            continue;
        };
        if GIVEN.contains(fold(given.as_str()).trim()) {
            push(
                MentionKind::Person,
                given.start(),
                c.get(2).map_or(given.end(), |m| m.end()),
                0.65,
                "a known given name before capitalised words",
            );
        }
    }
    for c in PLACE.captures_iter(text) {
        let Some(place) = c.get(1) else {
            continue;
        };
        let first_word = fold(place.as_str());
        let first_word = first_word.split_whitespace().next().unwrap_or("");
        if NOT_PLACES.contains(&first_word) || GIVEN.contains(first_word) {
            continue;
        }
        push(
            MentionKind::Place,
            place.start(),
            place.end(),
            0.5,
            "a capitalised word after a preposition of place",
        );
    }
    out.sort_by_key(|m| m.start);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> NameIndex {
        NameIndex::new(&[
            KnownName {
                entity: EntityId(1),
                kind: MentionKind::Person,
                name: "Pieter Janssen".into(),
            },
            KnownName {
                entity: EntityId(1),
                kind: MentionKind::Person,
                name: "Piet".into(),
            },
            KnownName {
                entity: EntityId(2),
                kind: MentionKind::Organization,
                name: "Müller Logistik GmbH".into(),
            },
        ])
    }

    #[test]
    fn known_names_are_found_with_spelling_variants_and_initials() {
        let found = index().find(
            "Gisteren sprak P. Jansen met Pieter Janssen over Mueller Logistik GmbH. Piet belde.",
        );
        let got: Vec<(&str, Option<EntityId>)> =
            found.iter().map(|m| (m.text.as_str(), m.entity)).collect();
        assert_eq!(
            got,
            vec![
                ("P. Jansen", Some(EntityId(1))),
                ("Pieter Janssen", Some(EntityId(1))),
                ("Mueller Logistik GmbH", Some(EntityId(2))),
                ("Piet", Some(EntityId(1))),
            ],
            "{found:#?}"
        );
        let exact = &found[1];
        assert!((exact.confidence - 1.0).abs() < 1e-9);
        assert!(found[0].confidence < 1.0 && found[0].confidence > 0.8);
    }

    #[test]
    fn unrelated_words_are_not_known_names() {
        assert!(
            index()
                .find("Peter Jones sold the car in Paris.")
                .is_empty()
        );
    }

    #[test]
    fn the_tagger_proposes_people_companies_and_places() {
        let found = tag_candidates(
            "Dhr. Kees van Dijk en Maria Lopez Garcia van Blue Harbour Trading B.V. \
             ontmoetten elkaar in Rotterdam op Monday.",
        );
        let got: Vec<(MentionKind, &str)> =
            found.iter().map(|m| (m.kind, m.text.as_str())).collect();
        assert!(
            got.contains(&(MentionKind::Person, "Kees van Dijk")),
            "{got:?}"
        );
        assert!(
            got.contains(&(MentionKind::Person, "Maria Lopez Garcia")),
            "{got:?}"
        );
        assert!(
            got.contains(&(MentionKind::Organization, "Blue Harbour Trading B.V.")),
            "{got:?}"
        );
        assert!(got.contains(&(MentionKind::Place, "Rotterdam")), "{got:?}");
        assert!(!got.iter().any(|(_, t)| t.contains("Monday")), "{got:?}");
    }
}
