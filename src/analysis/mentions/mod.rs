//! Mentions in document text: identifiers found by validated patterns (phone numbers, e-mail
//! addresses, IBANs and BICs, payment cards, IMEIs, vehicle plates, IP addresses, URLs and
//! domains, crypto-currency addresses, dates and amounts) and names of people, organisations
//! and places, either known to the case (its entities' names and aliases) or proposed by a
//! rule-based tagger.
//!
//! Extraction never changes a case: it returns proposals, each with its document, page,
//! character offsets, the text matched, a normalised value and a confidence, grouped so that
//! the same thing mentioned twice is one group. The analyst accepts or rejects them.
//!
//! Why patterns and rules rather than a statistical model: the program is offline and must
//! explain every proposal ("an IBAN whose check digits are right", "a known alias, 0.94
//! similar"); a pattern with a checksum has far fewer false positives than a tagger, and the
//! names that matter most are the ones the case already holds.

mod component;
mod identifiers;
mod names;

pub use component::{ExtractMentions, document_texts, known_names};

pub use identifiers::{find_identifiers, find_known_identifiers};
pub use names::{KnownName, NameIndex, tag_candidates};

use crate::model::EntityId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What a mention is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MentionKind {
    Phone,
    Email,
    Iban,
    Bic,
    PaymentCard,
    Imei,
    Plate,
    Ipv4,
    Ipv6,
    Url,
    Domain,
    Crypto,
    Date,
    Amount,
    Person,
    Organization,
    Place,
}

impl MentionKind {
    pub const ALL: [MentionKind; 17] = [
        MentionKind::Phone,
        MentionKind::Email,
        MentionKind::Iban,
        MentionKind::Bic,
        MentionKind::PaymentCard,
        MentionKind::Imei,
        MentionKind::Plate,
        MentionKind::Ipv4,
        MentionKind::Ipv6,
        MentionKind::Url,
        MentionKind::Domain,
        MentionKind::Crypto,
        MentionKind::Date,
        MentionKind::Amount,
        MentionKind::Person,
        MentionKind::Organization,
        MentionKind::Place,
    ];

    /// The name used in output files and on the command line.
    pub fn key(self) -> &'static str {
        match self {
            MentionKind::Phone => "phone",
            MentionKind::Email => "email",
            MentionKind::Iban => "iban",
            MentionKind::Bic => "bic",
            MentionKind::PaymentCard => "payment_card",
            MentionKind::Imei => "imei",
            MentionKind::Plate => "plate",
            MentionKind::Ipv4 => "ipv4",
            MentionKind::Ipv6 => "ipv6",
            MentionKind::Url => "url",
            MentionKind::Domain => "domain",
            MentionKind::Crypto => "crypto",
            MentionKind::Date => "date",
            MentionKind::Amount => "amount",
            MentionKind::Person => "person",
            MentionKind::Organization => "organization",
            MentionKind::Place => "place",
        }
    }

    /// Whether this kind is an identifier (found by pattern) rather than a name.
    pub fn is_identifier(self) -> bool {
        !matches!(
            self,
            MentionKind::Person | MentionKind::Organization | MentionKind::Place
        )
    }
}

/// One mention in one page of one document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mention {
    pub kind: MentionKind,
    /// Character (not byte) offsets into the page's text: `start..end`.
    pub start: usize,
    pub end: usize,
    /// The text as it stands in the document.
    pub text: String,
    /// The normalised value: E.164 for phones, upper case without spaces for IBANs and
    /// plates, ISO 8601 for dates, "1250.00 EUR" for amounts, the folded name for names.
    pub normalized: String,
    /// 0..1: how sure the rule is (a checksum passed, a keyword stood next to it, the
    /// similarity of a name to a known one).
    pub confidence: f64,
    /// The known entity this mention names, when it matched one of the case's names.
    pub entity: Option<EntityId>,
    /// Why the rule proposed it, in plain words.
    pub reason: String,
}

/// The text of one page of a document, as extraction reads it.
#[derive(Debug, Clone)]
pub struct PageText<'a> {
    pub document: EntityId,
    pub page: u32,
    pub text: &'a str,
}

/// A mention located in its document and page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocatedMention {
    pub document: EntityId,
    pub page: u32,
    #[serde(flatten)]
    pub mention: Mention,
    /// Mentions of the same thing share a group (same kind and normalised value, or the
    /// same known entity).
    pub group: usize,
}

/// Settings for one extraction run.
#[derive(Debug, Clone)]
pub struct ExtractOptions {
    /// ISO 3166 alpha-2 region for national phone numbers ("NL", "DE").
    pub default_region: Option<String>,
    /// Mentions below this confidence are left out.
    pub min_confidence: f64,
    /// Whether the tagger proposes names that match nothing in the case.
    pub propose_new_names: bool,
    /// Identifiers the case holds as entities, by (kind, normalised value): found even
    /// where no numbering plan or registry knows them (a foreign or reserved range, a
    /// test IBAN), and named as their entity.
    pub known_identifiers: HashMap<(MentionKind, String), EntityId>,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        ExtractOptions {
            default_region: None,
            min_confidence: 0.5,
            propose_new_names: true,
            known_identifiers: HashMap::new(),
        }
    }
}

/// Every mention in one text: identifiers, known names, then (if asked) new name candidates
/// that do not overlap a mention already found. Sorted by position.
pub fn extract_text(text: &str, known: &NameIndex, options: &ExtractOptions) -> Vec<Mention> {
    let mut found = find_identifiers(text, options.default_region.as_deref());
    let known_ids = find_known_identifiers(text, &options.known_identifiers);
    found.extend(
        known_ids
            .into_iter()
            .filter(|m| !overlaps_any(m, &found))
            .collect::<Vec<_>>(),
    );
    for m in &mut found {
        if m.entity.is_none() {
            m.entity = options
                .known_identifiers
                .get(&(m.kind, m.normalized.clone()))
                .copied();
        }
    }
    let mut names = known.find(text);
    names.retain(|m| !overlaps_any(m, &found));
    found.extend(names);
    if options.propose_new_names {
        let mut candidates = tag_candidates(text);
        candidates.retain(|m| !overlaps_any(m, &found));
        found.extend(candidates);
    }
    found.retain(|m| m.confidence >= options.min_confidence);
    found.sort_by_key(|m| (m.start, m.end));
    found
}

/// Every mention in a set of pages, grouped across documents.
pub fn extract_pages(
    pages: &[PageText<'_>],
    known: &NameIndex,
    options: &ExtractOptions,
) -> Vec<LocatedMention> {
    let mut out = Vec::new();
    for page in pages {
        for mention in extract_text(page.text, known, options) {
            out.push(LocatedMention {
                document: page.document,
                page: page.page,
                mention,
                group: 0,
            });
        }
    }
    assign_groups(&mut out);
    out
}

/// Numbers the groups of a run: mentions of the same known entity, or of the same kind and
/// normalised value, share one, in order of first appearance.
pub(crate) fn assign_groups(found: &mut [LocatedMention]) {
    let mut groups: HashMap<(MentionKind, String), usize> = HashMap::new();
    for m in found.iter_mut() {
        let key = match m.mention.entity {
            Some(id) => (m.mention.kind, format!("entity:{}", id.0)),
            None => (m.mention.kind, m.mention.normalized.clone()),
        };
        let next = groups.len();
        m.group = *groups.entry(key).or_insert(next);
    }
}

/// The matching key of an account number, plate or device number: the case's own rule for IBANs
/// and plates (`model::normalize_value`: letters and digits, upper case), so that a mention and
/// the entity it names meet on the same key.
pub(crate) fn identifier_key(value: &str) -> String {
    crate::model::normalize_value(crate::model::PropertyKind::Iban, "", value)
        .ok()
        .flatten()
        .unwrap_or_default()
}

fn overlaps_any(m: &Mention, others: &[Mention]) -> bool {
    others.iter().any(|o| m.start < o.end && o.start < m.end)
}

/// Converts byte offsets of one text to character offsets, for offsets asked in any order;
/// each conversion walks from the nearest earlier point already converted.
pub(crate) struct CharOffsets<'a> {
    text: &'a str,
    known: Vec<(usize, usize)>,
}

impl<'a> CharOffsets<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        CharOffsets {
            text,
            known: vec![(0, 0)],
        }
    }

    pub(crate) fn of(&mut self, byte: usize) -> usize {
        let at = self.known.partition_point(|&(b, _)| b <= byte);
        let (from_byte, from_char) = self.known[at - 1];
        let chars = from_char + self.text[from_byte..byte].chars().count();
        self.known.insert(at, (byte, chars));
        chars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn character_offsets_count_characters_not_bytes() {
        let text = "Müller rief +31 6 1234 5678 an";
        let mut offsets = CharOffsets::new(text);
        let byte = text.find('+').unwrap();
        assert_eq!(byte, 13);
        assert_eq!(offsets.of(byte), 12);
        assert_eq!(offsets.of(3), 2);
        assert_eq!(offsets.of(text.len()), text.chars().count());
    }

    #[test]
    fn mentions_of_the_same_thing_share_a_group_across_pages() {
        let index = NameIndex::new(&[KnownName {
            entity: EntityId(7),
            kind: MentionKind::Person,
            name: "Jan de Vries".into(),
        }]);
        let options = ExtractOptions {
            default_region: Some("NL".into()),
            ..ExtractOptions::default()
        };
        let pages = [
            PageText {
                document: EntityId(1),
                page: 1,
                text: "Jan de Vries belde met 06-12345678.",
            },
            PageText {
                document: EntityId(2),
                page: 3,
                text: "Nummer +31 6 12345678 hoort bij J. de Vries? Ja, Jan de Vries.",
            },
        ];
        let found = extract_pages(&pages, &index, &options);
        let phones: Vec<_> = found
            .iter()
            .filter(|m| m.mention.kind == MentionKind::Phone)
            .collect();
        assert_eq!(phones.len(), 2, "{found:#?}");
        assert_eq!(phones[0].group, phones[1].group);
        assert_eq!(phones[0].mention.normalized, "+31612345678");
        let people: Vec<_> = found
            .iter()
            .filter(|m| m.mention.entity == Some(EntityId(7)))
            .collect();
        assert!(people.len() >= 2, "{found:#?}");
        assert!(people.iter().all(|m| m.group == people[0].group));
    }
}
