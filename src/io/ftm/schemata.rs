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
];

/// FtM interval schemata that become links: (schema, source property, target property, link
/// type).
pub(super) const LINKS: &[(&str, &str, &str, &str)] = &[
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
    ("UnknownLink", "subject", "object", "associate"),
];

/// FtM interval schemata that become events: (schema, `from` properties, `to` properties,
/// event type). Where a role has two properties, the export picks the one whose range the
/// participant's schema fits (a BankAccount is a payment's payerAccount, a Company its payer).
pub(super) const EVENTS: &[(&str, &[&str], &[&str], &str)] = &[
    ("Call", &["caller"], &["receiver"], "Call"),
    (
        "Payment",
        &["payer", "payerAccount"],
        &["beneficiary", "beneficiaryAccount"],
        "Transaction",
    ),
    ("Event", &["organizer"], &["involved"], "Event"),
];

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
