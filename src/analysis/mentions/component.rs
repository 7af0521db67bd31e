//! `extract-mentions`: the mention extraction as an analysis component (headless, chainable).
//! It reads the text of the case's documents, proposes mentions with their document, page
//! and offsets, and changes nothing: accepting a proposal is the analyst's act.

use super::{
    ExtractOptions, KnownName, MentionKind, NameIndex, PageText, assign_groups, extract_pages,
    identifier_key,
};
use crate::analysis::{
    AnalysisError, AnalysisInput, Component, GRADE_PARAM, Needs, Output, ParamKind, ParamSpec,
    Params, RESTRICTED_PARAM,
};
use crate::jobs::{CancelToken, Progress};
use crate::model::{Entity, EntityId};
use crate::store::CaseSnapshot;
use std::collections::HashMap;

pub struct ExtractMentions;

const PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "region",
        kind: ParamKind::Text,
        default: None,
        help: "ISO country code for national phone numbers (NL, DE, ES, ...); without it only international numbers are read",
    },
    ParamSpec {
        name: "min_confidence",
        kind: ParamKind::Float,
        default: Some("0.5"),
        help: "leave out proposals below this confidence (0..1)",
    },
    ParamSpec {
        name: "new_names",
        kind: ParamKind::Bool,
        default: Some("true"),
        help: "also propose names that match no entity of the case (titles, given names, legal forms)",
    },
    GRADE_PARAM,
    RESTRICTED_PARAM,
];

/// Attributes that hold a document's text when it came in with its entity (FollowTheMoney's
/// `bodyText`, STIX notes' `content`, ...).
const TEXT_PROPERTIES: &[&str] = &[
    "bodyText",
    "text",
    "body",
    "content",
    "indexText",
    "translatedText",
];

/// Attributes that hold further names of an entity.
const NAME_PROPERTIES: &[&str] = &["name", "alias", "weakAlias", "previousName", "nickname"];

impl Component for ExtractMentions {
    fn name(&self) -> &'static str {
        "extract-mentions"
    }
    fn summary(&self) -> &'static str {
        "propose mentions in the documents' text: identifiers by validated patterns, names of the case's entities, new names by rule"
    }
    fn params(&self) -> &'static [ParamSpec] {
        PARAMS
    }
    fn needs(&self) -> Needs {
        Needs::Snapshot
    }
    fn run_on(
        &self,
        input: &AnalysisInput<'_>,
        params: &Params,
        cancel: &CancelToken,
        progress: &dyn Progress,
    ) -> Result<Output, AnalysisError> {
        let case = input.snapshot()?;
        let region = params
            .get_str("region")
            .filter(|r| !r.trim().is_empty())
            .map(|r| r.trim().to_ascii_uppercase());
        if let Some(r) = &region
            && r.parse::<phonenumber::country::Id>().is_err()
        {
            return Err(AnalysisError::BadParam {
                name: "region".into(),
                reason: format!("'{r}' is not a country code such as NL, DE or ES"),
            });
        }
        let min_confidence = params.get_f64("min_confidence", 0.5)?;
        if !(0.0..=1.0).contains(&min_confidence) {
            return Err(AnalysisError::BadParam {
                name: "min_confidence".into(),
                reason: format!("{min_confidence} is not between 0 and 1"),
            });
        }
        let options = ExtractOptions {
            known_identifiers: identifier_keys(case, region.as_deref()),
            default_region: region,
            min_confidence,
            propose_new_names: params.get_bool("new_names", true)?,
        };
        let index = NameIndex::new(&known_names(case));
        let include_restricted = params.get_bool(RESTRICTED_PARAM.name, false)?;
        let threshold = params.get_grade(case)?;
        let scheme = threshold
            .as_ref()
            .and_then(|t| case.grading_schemes.iter().find(|s| s.key == t.scheme));
        let texts: Vec<(EntityId, String)> = document_texts(case, include_restricted)
            .into_iter()
            .filter(|(id, _)| match (scheme, &threshold) {
                (Some(scheme), Some(t)) => case
                    .entity(*id)
                    .is_some_and(|e| scheme.meets(e.grading.as_ref(), t)),
                _ => true,
            })
            .collect();
        let mut found = Vec::new();
        for (i, (document, text)) in texts.iter().enumerate() {
            if cancel.is_cancelled() {
                return Err(AnalysisError::Cancelled);
            }
            let page = PageText {
                document: *document,
                page: 1,
                text,
            };
            found.extend(extract_pages(&[page], &index, &options));
            progress.report(
                Some((i + 1) as f32 / texts.len().max(1) as f32),
                "extracting mentions",
            );
        }
        assign_groups(&mut found);
        Ok(Output::Mentions { mentions: found })
    }
}

/// The text of each document entity of the case (restricted ones only when asked), from its
/// text attributes.
pub fn document_texts(case: &CaseSnapshot, include_restricted: bool) -> Vec<(EntityId, String)> {
    case.entities
        .iter()
        .filter(|e| include_restricted || !e.restricted)
        .filter_map(|e| {
            let text: Vec<&str> = TEXT_PROPERTIES
                .iter()
                .flat_map(|p| e.values(p))
                .filter(|v| !v.trim().is_empty())
                .collect();
            (!text.is_empty()).then(|| (e.id, text.join("\n\n")))
        })
        .collect()
}

fn name_kind(entity_type: &str) -> Option<MentionKind> {
    match entity_type {
        "Person" => Some(MentionKind::Person),
        "Organization" | "Company" | "Business" | "LegalEntity" => Some(MentionKind::Organization),
        "Location" | "Address" | "Place" => Some(MentionKind::Place),
        _ => None,
    }
}

/// Every name and alias of the case's unrestricted people, organisations and places.
pub fn known_names(case: &CaseSnapshot) -> Vec<KnownName> {
    let mut names = Vec::new();
    for e in case.entities.iter().filter(|e| !e.restricted) {
        let Some(kind) = name_kind(&e.entity_type) else {
            continue;
        };
        let mut seen: Vec<&str> = Vec::new();
        for name in std::iter::once(e.label.as_str())
            .chain(NAME_PROPERTIES.iter().flat_map(|p| e.values(p)))
        {
            if !name.trim().is_empty() && !seen.contains(&name) {
                seen.push(name);
                names.push(KnownName {
                    entity: e.id,
                    kind,
                    name: name.to_string(),
                });
            }
        }
    }
    names
}

/// (kind, normalised value) → entity, for the identifiers the case holds as entities, in the
/// same normal forms the extraction gives.
fn identifier_keys(
    case: &CaseSnapshot,
    region: Option<&str>,
) -> HashMap<(MentionKind, String), EntityId> {
    let region_id = region.and_then(|r| r.parse::<phonenumber::country::Id>().ok());
    let mut keys = HashMap::new();
    let mut add = |e: &Entity, kind: MentionKind, value: String| {
        if !value.is_empty() {
            keys.entry((kind, value)).or_insert(e.id);
        }
    };
    for e in case.entities.iter().filter(|e| !e.restricted) {
        let values = |props: &[&str]| -> Vec<String> {
            std::iter::once(e.label.as_str())
                .chain(props.iter().flat_map(|p| e.values(p)))
                .map(str::to_string)
                .collect()
        };
        match e.entity_type.as_str() {
            "Phone" => {
                for v in values(&["number", "phone", "phoneNumber"]) {
                    let e164 = phonenumber::parse(region_id, &v)
                        .ok()
                        .map(|n| n.format().mode(phonenumber::Mode::E164).to_string())
                        .or_else(|| crate::model::phone_e164(&v, None));
                    if let Some(e164) = e164 {
                        add(e, MentionKind::Phone, e164);
                    }
                }
            }
            "Email" => {
                for v in values(&["email"]) {
                    add(e, MentionKind::Email, v.trim().to_lowercase());
                }
            }
            "BankAccount" => {
                for v in values(&["iban"]) {
                    add(e, MentionKind::Iban, identifier_key(&v));
                }
            }
            "Vehicle" => {
                for v in values(&["plate"]) {
                    add(e, MentionKind::Plate, identifier_key(&v));
                }
            }
            "Device" => {
                for v in values(&["imei"]) {
                    add(e, MentionKind::Imei, identifier_key(&v));
                }
            }
            _ => {}
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Params;
    use crate::jobs::NoProgress;
    use crate::model::*;
    use crate::store::SnapshotHeader;

    fn entity(i: i64, t: &str, label: &str, attributes: &[(&str, &str)]) -> Entity {
        Entity {
            id: EntityId(i),
            entity_type: t.into(),
            label: label.into(),
            source_id: None,
            category: None,
            restricted: false,
            provenance: Provenance::default(),
            grading: None,
            attributes: attributes
                .iter()
                .enumerate()
                .map(|(k, (property, value))| Attribute {
                    id: AttributeId(i * 100 + k as i64),
                    property: (*property).into(),
                    value: (*value).into(),
                    normalized: None,
                    provenance: Provenance::default(),
                    grading: None,
                })
                .collect(),
            review_date: None,
            notes: Vec::new(),
        }
    }

    fn case() -> CaseSnapshot {
        CaseSnapshot::assemble(
            SnapshotHeader {
                case_id: "t".into(),
                title: "t".into(),
                generation: 1,
                schema: Schema::default(),
                grading_schemes: GradingScheme::builtin(),
                default_scheme: "admiralty".into(),
            },
            vec![
                entity(1, "Person", "Pieter Janssen", &[("alias", "De Kaaskop")]),
                entity(2, "Phone", "+31 6 12345678", &[]),
                entity(
                    3,
                    "Document",
                    "Statement 1",
                    &[(
                        "bodyText",
                        "P. Jansen (alias De Kaaskop) used 06-12345678 and paid €500 to \
                         NL91 ABNA 0417 1643 00. Mr Karel Smit was there.",
                    )],
                ),
            ],
            vec![],
            vec![],
        )
    }

    #[test]
    fn mentions_name_their_documents_and_the_entities_they_match() {
        let case = case();
        let params = Params::new().with("region", "nl");
        let Output::Mentions { mentions } = ExtractMentions
            .run(&case, &params, &CancelToken::new(), &NoProgress)
            .unwrap()
        else {
            panic!("not mentions")
        };
        let got: Vec<(MentionKind, &str, Option<EntityId>)> = mentions
            .iter()
            .map(|m| (m.mention.kind, m.mention.text.as_str(), m.mention.entity))
            .collect();
        assert!(
            mentions
                .iter()
                .all(|m| m.document == EntityId(3) && m.page == 1)
        );
        for expected in [
            (MentionKind::Person, "P. Jansen", Some(EntityId(1))),
            (MentionKind::Person, "De Kaaskop", Some(EntityId(1))),
            (MentionKind::Phone, "06-12345678", Some(EntityId(2))),
            (MentionKind::Amount, "€500", None),
            (MentionKind::Iban, "NL91 ABNA 0417 1643 00", None),
            (MentionKind::Person, "Karel Smit", None),
        ] {
            assert!(got.contains(&expected), "{expected:?} not in {got:#?}");
        }
        // The two names of Pieter Janssen are one group.
        let groups: Vec<usize> = mentions
            .iter()
            .filter(|m| m.mention.entity == Some(EntityId(1)))
            .map(|m| m.group)
            .collect();
        assert!(groups.len() == 2 && groups[0] == groups[1]);
    }

    #[test]
    fn a_bad_region_is_refused_with_the_parameter_named() {
        let err = ExtractMentions
            .run(
                &case(),
                &Params::new().with("region", "XX1"),
                &CancelToken::new(),
                &NoProgress,
            )
            .unwrap_err();
        assert!(err.to_string().contains("region"), "{err}");
    }
}
