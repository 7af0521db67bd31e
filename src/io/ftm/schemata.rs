//! The mapping tables (which FtM schemata become our entities, links and events) and the
//! FtM model looked up: which properties a schema defines, which refer to other entities and
//! to what schema, and which schemata extend which.

use super::model;
use std::collections::HashMap;
use std::sync::LazyLock;

/// FtM thing schemata and the entity types they become.
pub(super) const THINGS: &[(&str, &str)] = &[
    ("Person", "Person"),
    ("Company", "Organization"),
    ("Organization", "Organization"),
    ("LegalEntity", "Organization"),
    ("PublicBody", "Organization"),
    ("Address", "Address"),
    ("Vehicle", "Vehicle"),
    ("Vessel", "Vehicle"),
    ("Airplane", "Vehicle"),
    ("BankAccount", "BankAccount"),
    ("CryptoWallet", "BankAccount"),
    ("UserAccount", "OnlineAccount"),
    ("Document", "Document"),
    ("Note", "Document"),
    ("Email", "Document"),
    ("Message", "Document"),
    ("Page", "Document"),
    ("Pages", "Document"),
    ("Folder", "Document"),
    ("PlainText", "Document"),
    ("HyperText", "Document"),
    ("Table", "Document"),
    ("Image", "Document"),
    ("Video", "Document"),
    ("Audio", "Document"),
    ("Package", "Document"),
    ("Workbook", "Document"),
    ("Article", "Document"),
    ("Passport", "Document"),
    ("Identification", "Document"),
    // Holdings of value: our bank account is the one type for them (FtM makes BankAccount an
    // Asset too).
    ("Asset", "BankAccount"),
    ("Security", "BankAccount"),
    ("RealEstate", "Address"),
    ("Territory", "Location"),
    // Bodies and offices one can belong to, hold or take part in.
    ("Project", "Organization"),
    ("Position", "Organization"),
    // Records: a contract, a licence, a court case, a call for tenders, and the intervals with
    // one end only (a sanction, a risk, a tax roll entry), which name their subject by a
    // reference, as a passport names its holder.
    ("Contract", "Document"),
    ("License", "Document"),
    ("CourtCase", "Document"),
    ("CallForTenders", "Document"),
    ("Sanction", "Document"),
    ("Risk", "Document"),
    ("TaxRoll", "Document"),
];

/// The entity type of an interval that cannot be its link or event (an end missing or given
/// twice, no date): a record of it, its ends as references.
pub(super) const FALLBACK_TYPE: &str = "Document";

/// A row of [`LINKS`].
pub(super) type LinkRow = (&'static str, &'static str, &'static str, &'static str);

/// A row of [`EVENTS`].
pub(super) type EventRow = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static str,
);

/// FtM interval schemata that become links: (schema, source property, target property, link
/// type). The ends are the FtM model's edge where it has one; Mention and Similar, which have
/// none, link their two references.
pub(super) const LINKS: &[LinkRow] = &[
    ("Ownership", "owner", "asset", "owns"),
    ("Directorship", "director", "organization", "director_of"),
    ("Family", "person", "relative", "family"),
    ("Associate", "person", "associate", "associate"),
    ("Membership", "member", "organization", "member_of"),
    ("Employment", "employee", "employer", "employed_by"),
    ("Representation", "agent", "client", "represents"),
    ("Succession", "predecessor", "successor", "succeeded_by"),
    ("Control", "controller", "controlled", "controls"),
    ("Debt", "debtor", "creditor", "owes"),
    ("Documentation", "document", "entity", "documents"),
    UNKNOWN_LINK,
    ("ContractAward", "contract", "supplier", "awarded_to"),
    ("CourtCaseParty", "party", "case", "party_to"),
    ("Occupancy", "holder", "post", "holds"),
    (
        "ProjectParticipant",
        "participant",
        "project",
        "participates_in",
    ),
    ("Mention", "document", "resolved", "mentions"),
    ("Similar", "candidate", "match", "similar"),
];

/// FtM interval schemata that become events: (schema, `from` properties, `to` properties,
/// event type). Where a role has two properties, the export picks the one whose range the
/// participant's schema fits (a BankAccount is a payment's payerAccount, a Company its payer).
/// Every other reference of the schema (a payment's contract, a trip's vehicle) is a
/// participant too (see [`extra_references`]).
pub(super) const EVENTS: &[EventRow] = &[
    ("Call", &["caller"], &["receiver"], "Call"),
    (
        "Payment",
        &["payer", "payerAccount"],
        &["beneficiary", "beneficiaryAccount"],
        "Transaction",
    ),
    GENERIC_EVENT,
    (
        "EconomicActivity",
        &["sender"],
        &["receiver"],
        "Transaction",
    ),
    ("Trip", &["startLocation"], &["endLocation"], "Travel"),
];

/// A link of a type no other schema has: its type is the UnknownLink's role.
const UNKNOWN_LINK: LinkRow = ("UnknownLink", "subject", "object", "associate");

/// An event of a type no other schema has.
const GENERIC_EVENT: EventRow = ("Event", &["organizer"], &["involved"], "Event");

/// The FtM schema the export writes for a link of our type when the link keeps none.
pub(super) fn default_link_schema(link_type: &str) -> &'static LinkRow {
    LINKS
        .iter()
        .find(|t| t.3 == link_type && t.0 != "UnknownLink")
        .unwrap_or(&UNKNOWN_LINK)
}

/// The FtM schema the export writes for an event of our type when the event keeps none.
pub(super) fn default_event_schema(event_type: &str) -> &'static EventRow {
    EVENTS
        .iter()
        .find(|t| t.3 == event_type)
        .unwrap_or(&GENERIC_EVENT)
}

/// An event schema's references that are neither of its two ends, with their ranges, in name
/// order.
pub(super) fn extra_references(row: &EventRow) -> Vec<(&'static str, &'static str)> {
    let Some(ftm) = ftm_schema(row.0) else {
        return Vec::new();
    };
    let mut out: Vec<(&'static str, &'static str)> = ftm
        .properties
        .iter()
        .filter_map(|(p, range)| range.map(|r| (*p, r)))
        .filter(|(p, _)| !row.1.contains(p) && !row.2.contains(p))
        .collect();
    out.sort_unstable();
    out
}

/// One FtM schema as the followthemoney library defines it.
pub(super) struct FtmSchema {
    /// The schemata it extends, directly or not.
    pub(super) ancestors: Vec<&'static str>,
    /// Its properties; for a reference, the schema it must point to.
    pub(super) properties: HashMap<&'static str, Option<&'static str>>,
}

static FTM_MODEL: LazyLock<HashMap<&'static str, FtmSchema>> = LazyLock::new(|| {
    model::SCHEMATA
        .iter()
        .map(|&(name, ancestors, props)| {
            let properties = props
                .split_whitespace()
                .map(|p| match p.split_once('>') {
                    Some((prop, range)) => (prop, Some(range)),
                    None => (p, None),
                })
                .collect();
            let ancestors = ancestors.split_whitespace().collect();
            (
                name,
                FtmSchema {
                    ancestors,
                    properties,
                },
            )
        })
        .collect()
});

pub(super) fn ftm_schema(name: &str) -> Option<&'static FtmSchema> {
    FTM_MODEL.get(name)
}

/// Whether schema `name` is `other` or extends it (a Company is a LegalEntity).
pub(super) fn ftm_is_a(name: &str, other: &str) -> bool {
    name == other || ftm_schema(name).is_some_and(|s| s.ancestors.contains(&other))
}

impl FtmSchema {
    pub(super) fn defines(&self, property: &str) -> bool {
        self.properties.contains_key(property)
    }

    /// The schema a reference property must point to; `None` for other properties.
    pub(super) fn range(&self, property: &str) -> Option<&'static str> {
        self.properties.get(property).copied().flatten()
    }
}

/// The link type a reference property becomes.
pub(super) fn reference_link_type(property: &str) -> &str {
    match property {
        "addressEntity" => "located_at",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_knows_inheritance_ranges_and_undefined_properties() {
        assert!(ftm_is_a("Company", "LegalEntity"));
        assert!(ftm_is_a("Email", "Document"));
        assert!(!ftm_is_a("BankAccount", "LegalEntity"));
        let person = ftm_schema("Person").unwrap();
        assert_eq!(person.range("addressEntity"), Some("Address"));
        assert_eq!(person.range("name"), None);
        assert!(person.defines("hairColor") && !person.defines("shoeSize"));
        // Reverse (stub) properties are not data: Person.ownershipOwner is not defined.
        assert!(!person.defines("ownershipOwner"));
        let payment = ftm_schema("Payment").unwrap();
        assert_eq!(payment.range("payerAccount"), Some("BankAccount"));
    }

    #[test]
    fn every_schema_of_the_model_has_exactly_one_mapping() {
        for &(name, _, _) in model::SCHEMATA {
            let ways = usize::from(THINGS.iter().any(|t| t.0 == name))
                + usize::from(LINKS.iter().any(|t| t.0 == name))
                + usize::from(EVENTS.iter().any(|t| t.0 == name));
            assert_eq!(ways, 1, "{name}");
        }
    }

    #[test]
    fn links_go_the_way_of_the_models_edges() {
        for &(schema, source, target) in model::EDGES {
            if let Some(row) = LINKS.iter().find(|t| t.0 == schema) {
                assert_eq!((row.1, row.2), (source, target), "{schema}");
            } else {
                // Payment is an edge in FtM and an event here: payer to beneficiary.
                let row = EVENTS.iter().find(|t| t.0 == schema).unwrap();
                assert!(
                    row.1.contains(&source) && row.2.contains(&target),
                    "{schema}"
                );
            }
        }
        assert_eq!(default_link_schema("owns").0, "Ownership");
        assert_eq!(default_link_schema("knows").0, "UnknownLink");
        assert_eq!(default_event_schema("Transaction").0, "Payment");
        assert_eq!(default_event_schema("Meeting").0, "Event");
        let payment = EVENTS.iter().find(|t| t.0 == "Payment").unwrap();
        let extras: Vec<&str> = extra_references(payment).iter().map(|x| x.0).collect();
        assert_eq!(extras, ["contract", "project", "proof"]);
    }

    #[test]
    fn every_mapped_schema_and_end_property_is_in_the_model() {
        for (schema, _) in THINGS {
            assert!(ftm_schema(schema).is_some(), "{schema}");
        }
        for (schema, from, to, _) in LINKS {
            let s = ftm_schema(schema).unwrap();
            assert!(s.range(from).is_some() && s.range(to).is_some(), "{schema}");
        }
        for (schema, from, to, _) in EVENTS {
            let s = ftm_schema(schema).unwrap();
            for p in from.iter().chain(to.iter()) {
                assert!(s.range(p).is_some(), "{schema}.{p}");
            }
        }
    }
}
