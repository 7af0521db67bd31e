//! The entity schema that ships with the program, plus user-defined types stored in the case.
//! Each type has an icon key (a file in assets/icons), the FollowTheMoney schema it maps to,
//! and typed properties; a property's kind decides how its values are validated and
//! normalised for matching. Unknown properties are allowed and kept as text, so nothing a
//! source gives is dropped.

use super::dates::PartialDate;
use serde::{Deserialize, Serialize};

/// How values of a property are validated and normalised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PropertyKind {
    Text,
    Name,
    /// A partial date: YYYY, YYYY-MM or YYYY-MM-DD.
    Date,
    Number,
    Phone,
    Email,
    Iban,
    /// Vehicle registration plate.
    Plate,
    /// Other identifiers (IMEI, passport number, account number): always text, never numbers.
    Identifier,
    Country,
    Latitude,
    Longitude,
    Url,
}

impl PropertyKind {
    /// Every kind, in the order forms offer them.
    pub const ALL: [PropertyKind; 13] = [
        PropertyKind::Text,
        PropertyKind::Name,
        PropertyKind::Date,
        PropertyKind::Number,
        PropertyKind::Phone,
        PropertyKind::Email,
        PropertyKind::Iban,
        PropertyKind::Plate,
        PropertyKind::Identifier,
        PropertyKind::Country,
        PropertyKind::Latitude,
        PropertyKind::Longitude,
        PropertyKind::Url,
    ];

    /// The kind's name in spec files and the CLI (`phone`, `iban`, ...).
    pub fn name(self) -> &'static str {
        match self {
            PropertyKind::Text => "text",
            PropertyKind::Name => "name",
            PropertyKind::Date => "date",
            PropertyKind::Number => "number",
            PropertyKind::Phone => "phone",
            PropertyKind::Email => "email",
            PropertyKind::Iban => "iban",
            PropertyKind::Plate => "plate",
            PropertyKind::Identifier => "identifier",
            PropertyKind::Country => "country",
            PropertyKind::Latitude => "latitude",
            PropertyKind::Longitude => "longitude",
            PropertyKind::Url => "url",
        }
    }
}

/// The icons that ship with the program (files in assets/icons): a custom entity type takes
/// one of these, so that every chart can draw it without files from elsewhere.
pub const BUNDLED_ICONS: &[&str] = &[
    "unknown",
    "person",
    "organization",
    "phone",
    "email",
    "address",
    "location",
    "vehicle",
    "bank_account",
    "device",
    "document",
    "online_account",
    "weapon",
];

/// One property of an entity type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropertyDef {
    pub key: String,
    pub label: String,
    pub kind: PropertyKind,
    /// The FollowTheMoney property this maps to, if any.
    pub ftm: Option<String>,
}

/// An entity type: built-in or user-defined.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityTypeDef {
    pub key: String,
    pub label: String,
    /// Icon key: the file stem in assets/icons.
    pub icon: String,
    /// The FollowTheMoney schema this maps to, if any.
    pub ftm_schema: Option<String>,
    pub properties: Vec<PropertyDef>,
    /// True for the types that ship with the program.
    #[serde(default)]
    pub builtin: bool,
}

/// Built-in link types. Others may be used; they are recorded as user-defined.
pub const BUILTIN_LINK_TYPES: &[&str] = &[
    "knows",
    "family",
    "associate",
    "member_of",
    "owns",
    "uses",
    "employed_by",
    "located_at",
];

/// Built-in event types. Others may be used; they are recorded as user-defined.
pub const BUILTIN_EVENT_TYPES: &[&str] = &[
    "Call",
    "Message",
    "Transaction",
    "Meeting",
    "Travel",
    "Sighting",
    "Incident",
];

/// Why a schema operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error(
        "unknown entity type '{0}'; use one of the case's types ({1}) or define it in the case first"
    )]
    UnknownEntityType(String, String),
    #[error("entity type '{0}' already exists")]
    DuplicateEntityType(String),
    #[error(
        "entity type key '{0}' is not valid: use letters, digits and underscores, starting with a letter"
    )]
    BadKey(String),
    #[error("{property}: {reason}")]
    BadValue { property: String, reason: String },
}

fn prop(key: &str, label: &str, kind: PropertyKind, ftm: Option<&str>) -> PropertyDef {
    PropertyDef {
        key: key.into(),
        label: label.into(),
        kind,
        ftm: ftm.map(str::to_string),
    }
}

fn common_thing_props() -> Vec<PropertyDef> {
    vec![
        prop("name", "Name", PropertyKind::Name, Some("name")),
        prop("alias", "Alias", PropertyKind::Name, Some("alias")),
        prop("note", "Note", PropertyKind::Text, Some("notes")),
        prop("country", "Country", PropertyKind::Country, Some("country")),
    ]
}

fn builtin_type(
    key: &str,
    label: &str,
    icon: &str,
    ftm: Option<&str>,
    extra: Vec<PropertyDef>,
) -> EntityTypeDef {
    let mut properties = common_thing_props();
    properties.extend(extra);
    EntityTypeDef {
        key: key.into(),
        label: label.into(),
        icon: icon.into(),
        ftm_schema: ftm.map(str::to_string),
        properties,
        builtin: true,
    }
}

/// The built-in entity types.
pub fn builtin_entity_types() -> Vec<EntityTypeDef> {
    use PropertyKind as K;
    vec![
        builtin_type(
            "Person",
            "Person",
            "person",
            Some("Person"),
            vec![
                prop("firstName", "First name", K::Name, Some("firstName")),
                prop("lastName", "Last name", K::Name, Some("lastName")),
                prop("birthDate", "Birth date", K::Date, Some("birthDate")),
                prop(
                    "nationality",
                    "Nationality",
                    K::Country,
                    Some("nationality"),
                ),
                prop("gender", "Gender", K::Text, Some("gender")),
                prop("idNumber", "ID number", K::Identifier, Some("idNumber")),
                prop(
                    "passportNumber",
                    "Passport number",
                    K::Identifier,
                    Some("passportNumber"),
                ),
                prop("phone", "Phone", K::Phone, Some("phone")),
                prop("email", "Email", K::Email, Some("email")),
                prop("address", "Address", K::Text, Some("address")),
            ],
        ),
        builtin_type(
            "Organization",
            "Organization",
            "organization",
            Some("Organization"),
            vec![
                prop(
                    "registrationNumber",
                    "Registration number",
                    K::Identifier,
                    Some("registrationNumber"),
                ),
                prop(
                    "incorporationDate",
                    "Incorporation date",
                    K::Date,
                    Some("incorporationDate"),
                ),
                prop(
                    "jurisdiction",
                    "Jurisdiction",
                    K::Country,
                    Some("jurisdiction"),
                ),
                prop("legalForm", "Legal form", K::Text, Some("legalForm")),
                prop("phone", "Phone", K::Phone, Some("phone")),
                prop("email", "Email", K::Email, Some("email")),
                prop("address", "Address", K::Text, Some("address")),
            ],
        ),
        builtin_type(
            "Phone",
            "Phone",
            "phone",
            None,
            vec![
                prop("number", "Number", K::Phone, Some("phone")),
                prop("imsi", "IMSI", K::Identifier, None),
                prop("provider", "Provider", K::Text, None),
            ],
        ),
        builtin_type(
            "Email",
            "Email address",
            "email",
            None,
            vec![prop("email", "Email", K::Email, Some("email"))],
        ),
        builtin_type(
            "Address",
            "Address",
            "address",
            Some("Address"),
            vec![
                prop("full", "Full address", K::Text, Some("full")),
                prop("street", "Street", K::Text, Some("street")),
                prop("city", "City", K::Text, Some("city")),
                prop(
                    "postalCode",
                    "Postal code",
                    K::Identifier,
                    Some("postalCode"),
                ),
                prop("latitude", "Latitude", K::Latitude, Some("latitude")),
                prop("longitude", "Longitude", K::Longitude, Some("longitude")),
            ],
        ),
        builtin_type(
            "Location",
            "Location",
            "location",
            None,
            vec![
                prop("latitude", "Latitude", K::Latitude, Some("latitude")),
                prop("longitude", "Longitude", K::Longitude, Some("longitude")),
                prop("cellId", "Cell id", K::Identifier, None),
                prop("kind", "Kind", K::Text, None),
            ],
        ),
        builtin_type(
            "Vehicle",
            "Vehicle",
            "vehicle",
            Some("Vehicle"),
            vec![
                prop(
                    "plate",
                    "Registration plate",
                    K::Plate,
                    Some("registrationNumber"),
                ),
                prop("vin", "VIN", K::Identifier, Some("vin")),
                prop("model", "Model", K::Text, Some("model")),
                prop("colour", "Colour", K::Text, None),
            ],
        ),
        builtin_type(
            "BankAccount",
            "Bank account",
            "bank_account",
            Some("BankAccount"),
            vec![
                prop("iban", "IBAN", K::Iban, Some("iban")),
                prop(
                    "accountNumber",
                    "Account number",
                    K::Identifier,
                    Some("accountNumber"),
                ),
                prop("bankName", "Bank", K::Text, Some("bankName")),
                prop("bic", "BIC", K::Identifier, Some("bic")),
                prop("currency", "Currency", K::Text, Some("currency")),
            ],
        ),
        builtin_type(
            "Device",
            "Device",
            "device",
            None,
            vec![
                prop("imei", "IMEI", K::Identifier, None),
                prop("serial", "Serial number", K::Identifier, None),
                prop("model", "Model", K::Text, None),
            ],
        ),
        builtin_type(
            "Document",
            "Document",
            "document",
            Some("Document"),
            vec![
                prop("title", "Title", K::Text, Some("title")),
                prop("fileName", "File name", K::Text, Some("fileName")),
                prop("date", "Date", K::Date, Some("date")),
                prop("sha256", "SHA-256", K::Identifier, Some("contentHash")),
            ],
        ),
        builtin_type(
            "OnlineAccount",
            "Online account",
            "online_account",
            Some("UserAccount"),
            vec![
                prop("username", "Username", K::Identifier, Some("username")),
                prop("service", "Service", K::Text, Some("service")),
                prop("url", "URL", K::Url, None),
                prop("email", "Email", K::Email, Some("email")),
            ],
        ),
        builtin_type(
            "Weapon",
            "Weapon",
            "weapon",
            None,
            vec![
                prop("serial", "Serial number", K::Identifier, None),
                prop("model", "Model", K::Text, None),
                prop("calibre", "Calibre", K::Text, None),
            ],
        ),
    ]
}

/// The entity types of one case: the built-ins plus the case's own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    pub entity_types: Vec<EntityTypeDef>,
}

impl Default for Schema {
    fn default() -> Self {
        Schema {
            entity_types: builtin_entity_types(),
        }
    }
}

impl Schema {
    /// The type with this key.
    pub fn entity_type(&self, key: &str) -> Result<&EntityTypeDef, SchemaError> {
        self.entity_types
            .iter()
            .find(|t| t.key == key)
            .ok_or_else(|| self.unknown_type(key))
    }

    /// The type a source names, in any case: "PERSON" and "person" are `Person`. An exact
    /// key wins; otherwise the one type whose key matches ignoring case.
    pub fn entity_type_any_case(&self, name: &str) -> Result<&EntityTypeDef, SchemaError> {
        let name = name.trim();
        if let Ok(t) = self.entity_type(name) {
            return Ok(t);
        }
        let mut found = self
            .entity_types
            .iter()
            .filter(|t| t.key.eq_ignore_ascii_case(name));
        match (found.next(), found.next()) {
            (Some(t), None) => Ok(t),
            _ => Err(self.unknown_type(name)),
        }
    }

    fn unknown_type(&self, key: &str) -> SchemaError {
        SchemaError::UnknownEntityType(
            key.to_string(),
            self.entity_types
                .iter()
                .map(|t| t.key.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        )
    }

    /// Adds a user-defined type after checking its key.
    pub fn add_user_type(&mut self, def: EntityTypeDef) -> Result<(), SchemaError> {
        check_key(&def.key)?;
        if self.entity_types.iter().any(|t| t.key == def.key) {
            return Err(SchemaError::DuplicateEntityType(def.key));
        }
        self.entity_types.push(EntityTypeDef {
            builtin: false,
            ..def
        });
        Ok(())
    }

    /// The kind of a property on a type; unknown properties are text.
    pub fn property_kind(&self, entity_type: &str, property: &str) -> PropertyKind {
        self.entity_types
            .iter()
            .find(|t| t.key == entity_type)
            .and_then(|t| t.properties.iter().find(|p| p.key == property))
            .map_or_else(|| kind_by_convention(property), |p| p.kind)
    }

    /// The icon key of a type (`unknown` for a type not in the schema).
    pub fn icon(&self, entity_type: &str) -> &str {
        self.entity_types
            .iter()
            .find(|t| t.key == entity_type)
            .map_or("unknown", |t| t.icon.as_str())
    }
}

/// Property kinds for properties on links and events, or unknown properties, by their key.
fn kind_by_convention(property: &str) -> PropertyKind {
    match property {
        "phone" | "number" | "phoneNumber" => PropertyKind::Phone,
        "email" => PropertyKind::Email,
        "iban" => PropertyKind::Iban,
        "plate" => PropertyKind::Plate,
        "imei" | "imsi" | "accountNumber" | "reference" => PropertyKind::Identifier,
        "startDate" | "endDate" | "date" | "birthDate" => PropertyKind::Date,
        "amount" | "duration" | "durationSecs" => PropertyKind::Number,
        "latitude" => PropertyKind::Latitude,
        "longitude" => PropertyKind::Longitude,
        _ => PropertyKind::Text,
    }
}

fn check_key(key: &str) -> Result<(), SchemaError> {
    let mut chars = key.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(SchemaError::BadKey(key.to_string()))
    }
}

/// Validates a value for its kind and returns the normalised key used for matching, if the
/// kind has one. The raw value is always kept by the caller; this never changes it.
pub fn normalize_value(
    kind: PropertyKind,
    property: &str,
    value: &str,
) -> Result<Option<String>, SchemaError> {
    let bad = |reason: String| SchemaError::BadValue {
        property: property.to_string(),
        reason,
    };
    let v = value.trim();
    Ok(match kind {
        PropertyKind::Text | PropertyKind::Url | PropertyKind::Country => None,
        PropertyKind::Name => {
            let folded: String = v
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase();
            (!folded.is_empty()).then_some(folded)
        }
        PropertyKind::Date => Some(
            PartialDate::parse(v)
                .map_err(|e| bad(e.to_string()))?
                .to_string(),
        ),
        PropertyKind::Number => {
            v.parse::<f64>()
                .map_err(|_| bad(format!("'{value}' is not a number")))?;
            None
        }
        PropertyKind::Latitude | PropertyKind::Longitude => {
            let x: f64 = v
                .parse()
                .map_err(|_| bad(format!("'{value}' is not a coordinate")))?;
            let limit = if kind == PropertyKind::Latitude {
                90.0
            } else {
                180.0
            };
            if !(-limit..=limit).contains(&x) {
                return Err(bad(format!("{x} is outside -{limit}..{limit}")));
            }
            None
        }
        PropertyKind::Phone => {
            // A light normalisation: digits with a leading + kept, 00 read as +. Full E.164
            // with a default country belongs to the import mapping, which knows the country.
            let mut digits: String = v.chars().filter(char::is_ascii_digit).collect();
            let international = v.starts_with('+') || digits.starts_with("00");
            if digits.starts_with("00") {
                digits.drain(..2);
            }
            if digits.is_empty() {
                None
            } else if international {
                Some(format!("+{digits}"))
            } else {
                Some(digits)
            }
        }
        PropertyKind::Email => Some(v.to_lowercase()),
        PropertyKind::Iban | PropertyKind::Plate => Some(
            v.chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_uppercase(),
        ),
        PropertyKind::Identifier => {
            let compact: String = v.chars().filter(|c| !c.is_whitespace()).collect();
            (!compact.is_empty()).then_some(compact)
        }
    })
}

/// The E.164 form of a phone number (shared by the import mapping and entity resolution), using the default calling code for national numbers.
/// `None` when the value has no digits or is national without a default.
pub fn phone_e164(value: &str, default_cc: Option<&str>) -> Option<String> {
    let v = value.trim();
    let digits: String = v.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return None;
    }
    if v.starts_with('+') {
        return Some(format!("+{digits}"));
    }
    if let Some(rest) = digits.strip_prefix("00") {
        return Some(format!("+{rest}"));
    }
    let cc = default_cc?;
    let national = digits.strip_prefix('0').unwrap_or(&digits);
    Some(format!("+{cc}{national}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_required_builtin_type_is_present_with_an_icon() {
        let schema = Schema::default();
        for key in [
            "Person",
            "Organization",
            "Phone",
            "Email",
            "Address",
            "Location",
            "Vehicle",
            "BankAccount",
            "Device",
            "Document",
            "OnlineAccount",
            "Weapon",
        ] {
            let def = schema.entity_type(key).unwrap();
            assert!(!def.icon.is_empty());
        }
    }

    #[test]
    fn identifiers_normalise_without_losing_leading_zeros() {
        let n = |k, v| normalize_value(k, "p", v).unwrap();
        assert_eq!(
            n(PropertyKind::Phone, "0044 7700 900123"),
            Some("+447700900123".into())
        );
        assert_eq!(
            n(PropertyKind::Phone, "07700 900123"),
            Some("07700900123".into())
        );
        assert_eq!(
            n(PropertyKind::Iban, "gb29 nwbk 6016 1331 9268 19"),
            Some("GB29NWBK60161331926819".into())
        );
        assert_eq!(
            n(PropertyKind::Identifier, "0035 1234"),
            Some("00351234".into())
        );
        assert!(normalize_value(PropertyKind::Date, "birthDate", "1982-13").is_err());
        assert!(normalize_value(PropertyKind::Latitude, "latitude", "91").is_err());
    }

    #[test]
    fn user_types_need_a_valid_unique_key() {
        let mut schema = Schema::default();
        let def = EntityTypeDef {
            key: "Drone".into(),
            label: "Drone".into(),
            icon: "device".into(),
            ftm_schema: None,
            properties: vec![],
            builtin: true,
        };
        schema.add_user_type(def.clone()).unwrap();
        assert!(!schema.entity_type("Drone").unwrap().builtin);
        assert!(schema.add_user_type(def.clone()).is_err());
        assert!(
            schema
                .add_user_type(EntityTypeDef {
                    key: "9x".into(),
                    ..def
                })
                .is_err()
        );
    }
}
