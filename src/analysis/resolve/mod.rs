//! Entity resolution: candidate duplicates from normalised identifiers (phones, e-mail
//! addresses, IBANs, plates, other identifiers) and fuzzy names, as `Output::MergeProposals`
//! for the analyst to accept or reject (accepting is a `Command::Merge`, see
//! [`accept_proposal`]).
//!
//! Comparing every pair is quadratic (5·10⁹ pairs at 100k entities), so candidates come from
//! *blocking*: each entity is put into a few buckets keyed by its normalised identifiers and
//! by phonetic keys of its name tokens, and only entities sharing a bucket are compared.
//! Buckets larger than `max_block` (a surname shared by thousands, a switchboard number) are
//! skipped, and the output says how many were.
//!
//! The name folding, the phonetic key and the nickname table are written here by hand: the
//! workbench runs offline with a fixed dependency set, none of the small crates for these
//! covers transliteration, nicknames and phonetic keys together, and the rules stay short
//! enough to read and to explain to a court.

mod names;
use names::{Name, name_of, name_similarity, nickname_map};
pub use names::{fold, phonetic_key};

use super::simple::check_every;
use super::{
    AnalysisError, Component, GRADE_PARAM, MergeProposal, Output, ParamKind, ParamSpec, Params,
};
use crate::jobs::{CancelToken, Progress};
use crate::model::{Entity, EntityId, PropertyKind, normalize_value, phone_e164};
use crate::store::{Applied, Case, CaseSnapshot, Command, StoreError};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Folds one character to lower-case ASCII: Latin diacritics dropped, Cyrillic transliterated
/// (a simplified BGN/PCGN romanisation, the one most European police records use), anything
/// else kept lower-cased. Returns the replacement text.
/// A phone number as written, with its E.164 form when known and otherwise its national
/// significant number (national digits without the trunk 0).
#[derive(Debug, Clone)]
struct Phone {
    raw: String,
    e164: Option<String>,
    national: Option<String>,
}

impl Phone {
    fn parse(raw: &str, default_cc: Option<&str>) -> Option<Phone> {
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        if digits.len() < 6 {
            return None;
        }
        let e164 = phone_e164(raw, default_cc);
        let national = if e164.is_none() {
            Some(digits.strip_prefix('0').unwrap_or(&digits).to_string())
        } else {
            None
        };
        Some(Phone {
            raw: raw.trim().to_string(),
            e164,
            national,
        })
    }

    /// The blocking key: the last eight digits, the same in every way of writing the number.
    fn key(&self) -> String {
        let digits = self
            .e164
            .as_deref()
            .or(self.national.as_deref())
            .unwrap_or("");
        let digits: String = digits.chars().filter(char::is_ascii_digit).collect();
        digits[digits.len().saturating_sub(8)..].to_string()
    }

    /// How two numbers are the same, if they are.
    fn same(&self, other: &Phone) -> Option<String> {
        match (&self.e164, &other.e164, &self.national, &other.national) {
            (Some(a), Some(b), ..) if a == b => Some(format!("normalised E.164 {a}")),
            (Some(e), None, _, Some(n)) | (None, Some(e), Some(n), _) => {
                let digits = &e[1..];
                let cc_len = digits.len().checked_sub(n.len())?;
                ((1..=3).contains(&cc_len) && digits.ends_with(n.as_str())).then(|| {
                    format!(
                        "national number {n} is E.164 {e} with calling code +{}",
                        &digits[..cc_len]
                    )
                })
            }
            (None, None, Some(a), Some(b)) if a == b => Some(format!("same national number {a}")),
            _ => None,
        }
    }
}

/// What resolution knows of one entity.
#[derive(Debug, Clone)]
struct Record {
    id: EntityId,
    entity_type: String,
    names: Vec<Name>,
    phones: Vec<Phone>,
    /// (what, normalised value, value as written): e-mail, IBAN, plate, other identifiers.
    identifiers: Vec<(String, String, String)>,
    birth: Option<String>,
}

fn record_of(
    case: &CaseSnapshot,
    e: &Entity,
    default_cc: Option<&str>,
    nick: &HashMap<&str, &str>,
) -> Record {
    let organisation = e.entity_type == "Organization";
    let mut names = Vec::new();
    let mut first = None;
    let mut last = None;
    let mut phones = Vec::new();
    let mut identifiers = Vec::new();
    let mut birth = None;
    if let Some(n) = name_of(&e.label, organisation, nick) {
        names.push(n);
    }
    for a in &e.attributes {
        match a.property.as_str() {
            "firstName" => first = Some(a.value.as_str()),
            "lastName" => last = Some(a.value.as_str()),
            "birthDate" => birth = Some(a.normalized.clone().unwrap_or_else(|| a.value.clone())),
            _ => {}
        }
        let kind = case.schema.property_kind(&e.entity_type, &a.property);
        match kind {
            // Parts of a name are joined below; an alias ("Snake") names no one by itself.
            PropertyKind::Name
                if !matches!(
                    a.property.as_str(),
                    "firstName" | "lastName" | "middleName" | "alias"
                ) =>
            {
                if let Some(n) = name_of(&a.value, organisation, nick) {
                    names.push(n);
                }
            }
            PropertyKind::Phone => phones.extend(Phone::parse(&a.value, default_cc)),
            PropertyKind::Email | PropertyKind::Iban | PropertyKind::Plate => {
                let what = match kind {
                    PropertyKind::Email => "e-mail",
                    PropertyKind::Iban => "IBAN",
                    _ => "plate",
                };
                if let Ok(Some(n)) = normalize_value(kind, &a.property, &a.value) {
                    identifiers.push((what.to_string(), n, a.value.clone()));
                }
            }
            PropertyKind::Identifier => {
                if let Ok(Some(n)) = normalize_value(kind, &a.property, &a.value)
                    && n.len() >= 4
                {
                    identifiers.push((a.property.clone(), n.to_uppercase(), a.value.clone()));
                }
            }
            _ => {}
        }
    }
    if let (Some(f), Some(l)) = (first, last)
        && let Some(n) = name_of(&format!("{f} {l}"), organisation, nick)
    {
        names.push(n);
    }
    names.dedup_by(|a, b| a.tokens == b.tokens);
    Record {
        id: e.id,
        entity_type: e.entity_type.clone(),
        names,
        phones,
        identifiers,
        birth,
    }
}

/// The first letter of a phonetic key longer than one letter.
fn initial(code: &str) -> Option<char> {
    let mut chars = code.chars();
    let first = chars.next()?;
    chars.next().map(|_| first)
}

/// The blocking keys of a record.
fn block_keys(r: &Record) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for p in &r.phones {
        keys.insert(format!("phone:{}", p.key()));
    }
    for (what, n, _) in &r.identifiers {
        keys.insert(format!("{what}:{n}"));
    }
    for name in &r.names {
        let codes: Vec<String> = name
            .tokens
            .iter()
            .map(|t| {
                if t.len() == 1 {
                    t.clone()
                } else {
                    phonetic_key(t)
                }
            })
            .collect();
        if codes.len() == 1 {
            keys.insert(format!("{}:{}", r.entity_type, codes[0]));
        }
        // Pairs of tokens, order-free: a first and a last name match whatever order the
        // source wrote them in. A middle name adds pairs rather than breaking the key.
        for i in 0..codes.len() {
            for j in i + 1..codes.len() {
                let (a, b) = if codes[i] <= codes[j] {
                    (&codes[i], &codes[j])
                } else {
                    (&codes[j], &codes[i])
                };
                keys.insert(format!("{}:{a}+{b}", r.entity_type));
                // Initials: "J Smith" meets "John Smith" through "j+smt".
                if let (Some(ia), Some(ib)) = (initial(&codes[i]), initial(&codes[j])) {
                    keys.insert(format!("{}:{ia}+{}", r.entity_type, codes[j]));
                    keys.insert(format!("{}:{ib}+{}", r.entity_type, codes[i]));
                }
            }
        }
    }
    keys
}

/// Types whose entities *are* an identifier: the same number means the same thing.
fn identifier_type(entity_type: &str) -> bool {
    matches!(
        entity_type,
        "Phone" | "Email" | "BankAccount" | "Vehicle" | "Device" | "OnlineAccount"
    )
}

/// Compares two records: the score (0..1) and the explanation lines, or `None` when nothing
/// matches.
fn compare(a: &Record, b: &Record) -> Option<(f64, Vec<String>)> {
    let mut lines = Vec::new();
    let mut id_match = false;
    for pa in &a.phones {
        for pb in &b.phones {
            if let Some(how) = pa.same(pb) {
                id_match = true;
                lines.push(format!("phone {} = {} ({how})", pa.raw, pb.raw));
            }
        }
    }
    for (what, na, ra) in &a.identifiers {
        for (wb, nb, rb) in &b.identifiers {
            if what == wb && na == nb {
                id_match = true;
                lines.push(format!("{what} {ra} = {rb} (normalised {na})"));
            }
        }
    }
    // Identifiers that name one thing only (a registration number, a passport number, a VIN):
    // both records have one and none agree, so they are different things, whatever the name.
    // (People have several phones, accounts and e-mail addresses, so those never conflict.)
    let mut conflicts = Vec::new();
    for (what, na, ra) in &a.identifiers {
        if matches!(what.as_str(), "e-mail" | "IBAN" | "plate") {
            continue;
        }
        let theirs: Vec<&(String, String, String)> =
            b.identifiers.iter().filter(|x| &x.0 == what).collect();
        if !theirs.is_empty() && !theirs.iter().any(|x| &x.1 == na) {
            conflicts.push(format!("{what} differs: {ra} vs {}", theirs[0].2));
        }
    }
    let mut best: Option<(f64, &Name, &Name)> = None;
    for na in &a.names {
        for nb in &b.names {
            let s = name_similarity(na, nb);
            if best.is_none_or(|(x, ..)| s > x) {
                best = Some((s, na, nb));
            }
        }
    }
    let name_sim = best.map_or(0.0, |b| b.0);
    if let Some((s, na, nb)) = best
        && s >= 0.7
    {
        lines.push(if na.raw.eq_ignore_ascii_case(&nb.raw) {
            format!("name '{}' = '{}'", na.raw, nb.raw)
        } else {
            format!(
                "name '{}' ~ '{}' (Jaro-Winkler {s:.2}, token by token after folding \
                 diacritics and ignoring order)",
                na.raw, nb.raw
            )
        });
        for (from, to) in na.nicknames.iter().chain(&nb.nicknames) {
            let line = format!("nickname '{from}' read as '{to}'");
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
    }
    if !id_match && name_sim < 0.7 {
        return None;
    }
    let mut score = if id_match {
        0.55 + 0.45 * name_sim
    } else {
        0.92 * name_sim
    };
    if id_match && identifier_type(&a.entity_type) {
        score = score.max(0.95);
    }
    if !conflicts.is_empty() && !id_match {
        score *= 0.6;
        lines.extend(conflicts);
    }
    match (&a.birth, &b.birth) {
        (Some(x), Some(y)) if x == y => {
            score += (1.0 - score) * 0.5;
            lines.push(format!("birth date {x} = {y}"));
        }
        (Some(x), Some(y)) => {
            score *= 0.6;
            lines.push(format!("birth dates differ: {x} vs {y}"));
        }
        _ => {}
    }
    Some((score.clamp(0.0, 1.0), lines))
}

/// Finds candidate duplicates among `records`. Returns the proposals (best first) and how
/// many blocks were skipped for being larger than `max_block`.
fn resolve(
    records: &[Record],
    threshold: f64,
    max_block: usize,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<(Vec<MergeProposal>, usize), AnalysisError> {
    let mut blocks: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for (i, r) in records.iter().enumerate() {
        check_every(cancel, i, 4096)?;
        for key in block_keys(r) {
            blocks.entry(key).or_default().push(i as u32);
        }
    }
    let mut pairs: BTreeSet<(u32, u32)> = BTreeSet::new();
    let mut skipped = 0;
    for (n, members) in blocks.values().enumerate() {
        check_every(cancel, n, 1024)?;
        if members.len() < 2 {
            continue;
        }
        if members.len() > max_block {
            skipped += 1;
            continue;
        }
        for (k, &i) in members.iter().enumerate() {
            for &j in &members[k + 1..] {
                pairs.insert((i.min(j), i.max(j)));
            }
        }
    }
    progress.report(Some(0.3), "resolve-entities: comparing candidates");
    let total = pairs.len().max(1);
    let mut proposals = Vec::new();
    for (n, &(i, j)) in pairs.iter().enumerate() {
        check_every(cancel, n, 1024)?;
        if n % 16_384 == 0 {
            progress.report(
                Some(0.3 + 0.7 * n as f32 / total as f32),
                "resolve-entities: comparing candidates",
            );
        }
        let (a, b) = (&records[i as usize], &records[j as usize]);
        if a.entity_type != b.entity_type {
            continue;
        }
        if let Some((score, explanation)) = compare(a, b)
            && score >= threshold
        {
            let (keep, duplicate) = if a.id < b.id {
                (a.id, b.id)
            } else {
                (b.id, a.id)
            };
            proposals.push(MergeProposal {
                keep,
                duplicate,
                score,
                explanation,
            });
        }
    }
    proposals.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.keep.cmp(&b.keep))
            .then(a.duplicate.cmp(&b.duplicate))
    });
    Ok((proposals, skipped))
}

pub struct ResolveEntities;

const PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "threshold",
        kind: ParamKind::Float,
        default: Some("0.85"),
        help: "propose pairs scoring at least this (0..1)",
    },
    ParamSpec {
        name: "types",
        kind: ParamKind::Text,
        default: Some("Person,Organization"),
        help: "comma-separated entity types to resolve (pairs are always of one type)",
    },
    ParamSpec {
        name: "default_cc",
        kind: ParamKind::Text,
        default: None,
        help: "calling code for national phone numbers, e.g. 49 (otherwise national numbers \
               match international ones by their last digits)",
    },
    ParamSpec {
        name: "max_block",
        kind: ParamKind::Int,
        default: Some("500"),
        help: "skip candidate blocks larger than this (a very common name or shared number)",
    },
    GRADE_PARAM,
];

impl Component for ResolveEntities {
    fn name(&self) -> &'static str {
        "resolve-entities"
    }
    fn summary(&self) -> &'static str {
        "candidate duplicates from normalised identifiers and fuzzy names, with reasons"
    }
    fn params(&self) -> &'static [ParamSpec] {
        PARAMS
    }
    fn run_on(
        &self,
        input: &super::AnalysisInput<'_>,
        params: &Params,
        cancel: &CancelToken,
        progress: &dyn Progress,
    ) -> Result<Output, AnalysisError> {
        let case = input.snapshot()?;
        let threshold = params.get_f64("threshold", 0.85)?;
        if !(0.0..=1.0).contains(&threshold) {
            return Err(AnalysisError::BadParam {
                name: "threshold".into(),
                reason: format!("must be between 0 and 1, not {threshold}"),
            });
        }
        let types = params.get_list("types", "Person,Organization")?;
        let default_cc = params
            .get_str("default_cc")
            .map(|c| c.trim_start_matches('+'));
        if let Some(cc) = default_cc
            && (cc.is_empty() || cc.len() > 3 || !cc.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(AnalysisError::BadParam {
                name: "default_cc".into(),
                reason: format!("'{cc}' is not a calling code (1 to 3 digits, e.g. 49)"),
            });
        }
        let max_block = params.get_usize("max_block", 500)?.max(2);
        let threshold_grade = params.get_grade(case)?;
        let scheme = match &threshold_grade {
            Some(t) => Some(case.scheme(&t.scheme).ok_or_else(|| {
                AnalysisError::Failed(format!("grading scheme '{}' is not in the case", t.scheme))
            })?),
            None => None,
        };
        let nick = nickname_map();
        let mut records = Vec::new();
        for (i, e) in case.entities.iter().enumerate() {
            check_every(cancel, i, 4096)?;
            if e.restricted || !types.contains(&e.entity_type.as_str()) {
                continue;
            }
            if let (Some(s), Some(t)) = (scheme, &threshold_grade)
                && !s.meets(e.grading.as_ref(), t)
            {
                continue;
            }
            records.push(record_of(case, e, default_cc, &nick));
        }
        progress.report(Some(0.1), "resolve-entities: blocking");
        let (proposals, skipped) = resolve(&records, threshold, max_block, cancel, progress)?;
        if skipped > 0 {
            tracing::info!(
                "resolve-entities: skipped {skipped} candidate blocks larger than {max_block}"
            );
        }
        progress.report(Some(1.0), "resolve-entities done");
        Ok(Output::MergeProposals { proposals })
    }
}

/// Accepts a merge proposal: merges `duplicate` into `keep` with a `Command::Merge` whose
/// method names the component and its explanation. Undoable and audited as a combination,
/// like every merge.
pub fn accept_proposal(
    case: &mut Case,
    proposal: &MergeProposal,
    reason: &str,
) -> Result<Applied, StoreError> {
    case.apply(Command::Merge {
        keep: proposal.keep,
        absorb: vec![proposal.duplicate],
        method: format!("resolve-entities: {}", proposal.explanation.join("; ")),
        reason: reason.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> Name {
        name_of(s, false, &nickname_map()).unwrap()
    }

    #[test]
    fn folding_drops_diacritics_and_transliterates_cyrillic() {
        assert_eq!(fold("José Müller-Łukasz"), "jose muller lukasz");
        assert_eq!(fold("Александр Иванов"), "aleksandr ivanov");
        assert_eq!(fold("STRAßE"), "strasse");
    }

    #[test]
    fn phonetic_keys_merge_spelling_variants() {
        assert_eq!(phonetic_key("philip"), phonetic_key("filip"));
        assert_eq!(phonetic_key("mohammed"), phonetic_key("muhammad"));
        assert_eq!(phonetic_key("smith"), phonetic_key("smyth"));
        assert_eq!(phonetic_key("anna"), phonetic_key("annah"));
        assert_ne!(phonetic_key("smith"), phonetic_key("jones"));
    }

    #[test]
    fn names_match_across_order_nicknames_and_scripts() {
        let s = |a: &str, b: &str| name_similarity(&name(a), &name(b));
        assert!(s("Bill Smith", "William Smith") > 0.99);
        assert!(s("SMITH, Bob", "Robert Smith") > 0.99);
        assert!(s("Aleksandr Ivanov", "Александр Иванов") > 0.99);
        assert!(s("Alex Ivanov", "Aleksandr Ivanov") > 0.99);
        assert!(s("Mohamed Ali", "Muhammad Ali") > 0.99);
        assert!(s("Jon Smith", "John Smith") > 0.9);
        assert!(s("Anna Smith", "John Smith") < 0.7);
    }

    #[test]
    fn phones_match_national_and_international_forms() {
        let a = Phone::parse("+49 151 1234 5678", None).unwrap();
        let b = Phone::parse("0151 1234 5678", None).unwrap();
        let c = Phone::parse("0151 1234 5679", None).unwrap();
        assert_eq!(a.key(), b.key());
        assert!(a.same(&b).unwrap().contains("+49"));
        assert!(a.same(&c).is_none());
        let d = Phone::parse("0151 1234 5678", Some("49")).unwrap();
        assert_eq!(
            a.same(&d).unwrap(),
            "normalised E.164 +4915112345678".to_string()
        );
    }

    fn person(id: i64, label: &str, phone: Option<&str>, birth: Option<&str>) -> Record {
        let nick = nickname_map();
        Record {
            id: EntityId(id),
            entity_type: "Person".into(),
            names: name_of(label, false, &nick).into_iter().collect(),
            phones: phone
                .and_then(|p| Phone::parse(p, None))
                .into_iter()
                .collect(),
            identifiers: vec![],
            birth: birth.map(str::to_string),
        }
    }

    #[test]
    fn resolution_proposes_duplicates_and_explains_them() {
        let records = vec![
            person(
                1,
                "John Smith",
                Some("+49 151 1234 5678"),
                Some("1980-02-03"),
            ),
            person(
                2,
                "Anna Smith",
                Some("+49 151 9999 0000"),
                Some("1982-01-01"),
            ),
            person(3, "SMITH, Jon", Some("0151 1234 5678"), Some("1980-02-03")),
            person(4, "Jon Smith", None, Some("1990-05-05")),
            person(5, "Bill Jones", None, None),
            person(6, "William Jones", None, None),
        ];
        let (props, skipped) = resolve(
            &records,
            0.85,
            500,
            &CancelToken::new(),
            &crate::jobs::NoProgress,
        )
        .unwrap();
        assert_eq!(skipped, 0);
        let pairs: Vec<(i64, i64)> = props.iter().map(|p| (p.keep.0, p.duplicate.0)).collect();
        assert!(pairs.contains(&(1, 3)), "{props:#?}");
        assert!(pairs.contains(&(5, 6)), "{props:#?}");
        // Same name, different birth date: not proposed.
        assert!(!pairs.contains(&(3, 4)), "{props:#?}");
        assert!(!pairs.iter().any(|p| p.0 == 2 || p.1 == 2), "{props:#?}");
        let p13 = &props[pairs.iter().position(|p| *p == (1, 3)).unwrap()];
        let text = p13.explanation.join("\n");
        assert!(
            text.contains("phone +49 151 1234 5678 = 0151 1234 5678"),
            "{text}"
        );
        assert!(text.contains("Jaro-Winkler"), "{text}");
        assert!(text.contains("birth date 1980-02-03"), "{text}");
        assert!(p13.score > 0.95 && p13.score <= 1.0);
    }

    #[test]
    fn names_in_any_script_give_keys_without_panicking() {
        let records = vec![
            person(1, "李 小龍", Some("+86 10 1234 5678"), None),
            person(2, "محمد علي", None, None),
            person(3, "Ωmega ßeta İstanbul", None, None),
            person(4, "李 小龍", None, None),
        ];
        for r in &records {
            assert!(!block_keys(r).is_empty());
        }
        let (props, _) = resolve(
            &records,
            0.5,
            500,
            &CancelToken::new(),
            &crate::jobs::NoProgress,
        )
        .unwrap();
        assert!(
            props.iter().any(|p| (p.keep.0, p.duplicate.0) == (1, 4)),
            "{props:?}"
        );
    }

    #[test]
    fn oversized_blocks_are_skipped_and_cancel_stops() {
        let records: Vec<Record> = (0..20).map(|i| person(i, "Jane Doe", None, None)).collect();
        let (props, skipped) = resolve(
            &records,
            0.5,
            10,
            &CancelToken::new(),
            &crate::jobs::NoProgress,
        )
        .unwrap();
        assert!(props.is_empty());
        assert!(skipped > 0);
        let cancel = CancelToken::new();
        cancel.cancel();
        assert_eq!(
            resolve(&records, 0.5, 100, &cancel, &crate::jobs::NoProgress).unwrap_err(),
            AnalysisError::Cancelled
        );
    }
}
