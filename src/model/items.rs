//! Entities, links, events and attribute values, each with provenance, optional grading and a
//! restricted flag. `New*` types are what commands create; the stored types add ids.

use super::dates::EventTime;
use super::grading::Grading;
use super::ids::{AttributeId, BatchId, EntityId, EntityRef, EventId, ItemRef, LinkId, NoteId};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where an item or value came from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Provenance {
    /// The import batch (or generator run, or manual-entry batch).
    pub batch: Option<BatchId>,
    /// The source file name as given to the import.
    pub source_file: Option<String>,
    /// Row, line or record within the source, for example "line 12" or "node n5".
    pub record: Option<String>,
}

impl Provenance {
    /// Provenance for something typed in by the analyst in the workbench or CLI.
    pub fn manual() -> Provenance {
        Provenance {
            batch: None,
            source_file: None,
            record: Some("entered by hand".into()),
        }
    }

    /// An analyst's entry: who typed it, when (UTC), and the source document or report the
    /// analyst names (a surveillance log, an informant's report), if any. The audit record of
    /// the command says the same; this keeps it with the value, where the inspector shows it.
    pub fn analyst_entry(analyst: &str, time_utc: &str, source_ref: Option<&str>) -> Provenance {
        Provenance {
            batch: None,
            source_file: source_ref
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            record: Some(format!("analyst entry by {analyst}, {time_utc}")),
        }
    }
}

/// An analyst's note on an item, as i2's cards are: free text with its own source and
/// grading, shown in the inspector and found by the search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub id: NoteId,
    pub owner: ItemRef,
    pub text: String,
    /// The document or report the note rests on, as the analyst named it.
    pub source_ref: Option<String>,
    pub grading: Option<Grading>,
    pub created_utc: String,
    pub analyst: String,
}

/// A note to be added.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewNote {
    pub text: String,
    pub source_ref: Option<String>,
    pub grading: Option<Grading>,
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(b) = self.batch {
            parts.push(b.to_string());
        }
        if let Some(s) = &self.source_file {
            parts.push(s.clone());
        }
        if let Some(r) = &self.record {
            parts.push(r.clone());
        }
        if parts.is_empty() {
            write!(f, "unknown source")
        } else {
            write!(f, "{}", parts.join(", "))
        }
    }
}

/// The role of a person in the case (data protection: LED Art. 6 categories of data subjects).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonCategory {
    Suspect,
    Victim,
    Witness,
    Contact,
    Other,
    Unknown,
}

impl PersonCategory {
    pub const ALL: [PersonCategory; 6] = [
        PersonCategory::Suspect,
        PersonCategory::Victim,
        PersonCategory::Witness,
        PersonCategory::Contact,
        PersonCategory::Other,
        PersonCategory::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PersonCategory::Suspect => "suspect",
            PersonCategory::Victim => "victim",
            PersonCategory::Witness => "witness",
            PersonCategory::Contact => "contact",
            PersonCategory::Other => "other",
            PersonCategory::Unknown => "unknown",
        }
    }
}

impl FromStr for PersonCategory {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        PersonCategory::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!("'{s}' is not a person category (suspect, victim, witness, contact, other, unknown)")
            })
    }
}

/// i2's link strength, drawn solid, dashed and dotted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkStrength {
    #[default]
    Confirmed,
    Tentative,
    Unconfirmed,
}

impl LinkStrength {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkStrength::Confirmed => "confirmed",
            LinkStrength::Tentative => "tentative",
            LinkStrength::Unconfirmed => "unconfirmed",
        }
    }
}

impl FromStr for LinkStrength {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "confirmed" => Ok(LinkStrength::Confirmed),
            "tentative" => Ok(LinkStrength::Tentative),
            "unconfirmed" => Ok(LinkStrength::Unconfirmed),
            _ => Err(format!(
                "'{s}' is not a link strength (confirmed, tentative, unconfirmed)"
            )),
        }
    }
}

/// How an entity takes part in an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantRole {
    From,
    To,
    Participant,
    Location,
}

impl ParticipantRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ParticipantRole::From => "from",
            ParticipantRole::To => "to",
            ParticipantRole::Participant => "participant",
            ParticipantRole::Location => "location",
        }
    }
}

impl FromStr for ParticipantRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "from" => Ok(ParticipantRole::From),
            "to" => Ok(ParticipantRole::To),
            "participant" => Ok(ParticipantRole::Participant),
            "location" => Ok(ParticipantRole::Location),
            _ => Err(format!(
                "'{s}' is not a participant role (from, to, participant, location)"
            )),
        }
    }
}

/// One value of one property. Properties are multi-valued: a person may have several names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    pub id: AttributeId,
    /// Property key from the schema (for example `name`, `phoneNumber`, `iban`) or a custom key.
    pub property: String,
    /// The value exactly as given.
    pub value: String,
    /// A normalised key for matching (E.164 phone, IBAN without spaces, ...), when one applies.
    pub normalized: Option<String>,
    pub provenance: Provenance,
    pub grading: Option<Grading>,
}

/// An attribute value to be added.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewAttribute {
    pub property: String,
    pub value: String,
    pub provenance: Provenance,
    pub grading: Option<Grading>,
}

impl NewAttribute {
    pub fn new(property: impl Into<String>, value: impl Into<String>) -> NewAttribute {
        NewAttribute {
            property: property.into(),
            value: value.into(),
            provenance: Provenance::manual(),
            grading: None,
        }
    }
}

/// A thing: a person, organisation, phone, account, place, ...
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    pub id: EntityId,
    /// Entity type key from the case schema (`Person`, `Phone`, or a user-defined type).
    pub entity_type: String,
    /// The display label (for a person usually the main name).
    pub label: String,
    /// The identifier the entity had in its source (a spreadsheet id, a GraphML node id, ...).
    pub source_id: Option<String>,
    /// Only meaningful for persons.
    pub category: Option<PersonCategory>,
    /// Kept for evidence but excluded from analysis and export.
    pub restricted: bool,
    pub provenance: Provenance,
    pub grading: Option<Grading>,
    pub attributes: Vec<Attribute>,
    /// When the entity is due for review under the retention rules (YYYY-MM-DD).
    #[serde(default)]
    pub review_date: Option<String>,
    #[serde(default)]
    pub notes: Vec<Note>,
}

impl Entity {
    /// All values of one property, in insertion order.
    pub fn values<'a>(&'a self, property: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.attributes
            .iter()
            .filter(move |a| a.property == property)
            .map(|a| a.value.as_str())
    }
}

/// An entity to be created.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewEntity {
    pub entity_type: String,
    pub label: String,
    pub source_id: Option<String>,
    pub category: Option<PersonCategory>,
    pub restricted: bool,
    pub provenance: Provenance,
    pub grading: Option<Grading>,
    pub attributes: Vec<NewAttribute>,
}

impl NewEntity {
    /// A hand-entered entity with no attributes.
    pub fn new(entity_type: impl Into<String>, label: impl Into<String>) -> NewEntity {
        NewEntity {
            entity_type: entity_type.into(),
            label: label.into(),
            source_id: None,
            category: None,
            restricted: false,
            provenance: Provenance::manual(),
            grading: None,
            attributes: Vec::new(),
        }
    }

    /// Adds an attribute value with the entity's own provenance and grading.
    pub fn with(mut self, property: &str, value: &str) -> NewEntity {
        self.attributes.push(NewAttribute {
            property: property.into(),
            value: value.into(),
            provenance: self.provenance.clone(),
            grading: self.grading.clone(),
        });
        self
    }
}

/// A typed relationship between two entities.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub id: LinkId,
    /// `knows`, `family`, `associate`, `member_of`, `owns`, `uses`, `employed_by`,
    /// `located_at`, or a user-defined type.
    pub link_type: String,
    pub source: EntityId,
    pub target: EntityId,
    pub directed: bool,
    pub strength: LinkStrength,
    pub weight: Option<f64>,
    pub label: Option<String>,
    pub source_id: Option<String>,
    pub restricted: bool,
    pub provenance: Provenance,
    pub grading: Option<Grading>,
    pub attributes: Vec<Attribute>,
    #[serde(default)]
    pub review_date: Option<String>,
    #[serde(default)]
    pub notes: Vec<Note>,
}

/// A link to be created.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewLink {
    pub link_type: String,
    pub source: EntityRef,
    pub target: EntityRef,
    pub directed: bool,
    pub strength: LinkStrength,
    pub weight: Option<f64>,
    pub label: Option<String>,
    pub source_id: Option<String>,
    pub restricted: bool,
    pub provenance: Provenance,
    pub grading: Option<Grading>,
    pub attributes: Vec<NewAttribute>,
}

impl NewLink {
    pub fn new(
        link_type: impl Into<String>,
        source: impl Into<EntityRef>,
        target: impl Into<EntityRef>,
    ) -> NewLink {
        NewLink {
            link_type: link_type.into(),
            source: source.into(),
            target: target.into(),
            directed: false,
            strength: LinkStrength::Confirmed,
            weight: None,
            label: None,
            source_id: None,
            restricted: false,
            provenance: Provenance::manual(),
            grading: None,
            attributes: Vec::new(),
        }
    }
}

/// An entity taking part in an event in some role.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Participant {
    pub role: ParticipantRole,
    pub entity: EntityId,
}

/// Something that happened at a time: a call, a payment, a meeting, a sighting, ...
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    /// `Call`, `Message`, `Transaction`, `Meeting`, `Travel`, `Sighting`, `Incident`, or
    /// user-defined.
    pub event_type: String,
    pub time: EventTime,
    pub participants: Vec<Participant>,
    pub source_id: Option<String>,
    pub restricted: bool,
    pub provenance: Provenance,
    pub grading: Option<Grading>,
    /// Duration, amount, currency, reference, ...
    pub attributes: Vec<Attribute>,
    #[serde(default)]
    pub review_date: Option<String>,
    #[serde(default)]
    pub notes: Vec<Note>,
}

impl Event {
    /// The entities in one role.
    pub fn in_role(&self, role: ParticipantRole) -> impl Iterator<Item = EntityId> + '_ {
        self.participants
            .iter()
            .filter(move |p| p.role == role)
            .map(|p| p.entity)
    }
}

/// A participant of an event to be created.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NewParticipant {
    pub role: ParticipantRole,
    pub entity: EntityRef,
}

impl NewParticipant {
    pub fn new(role: ParticipantRole, entity: impl Into<EntityRef>) -> NewParticipant {
        NewParticipant {
            role,
            entity: entity.into(),
        }
    }
}

/// An event to be created.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    pub event_type: String,
    pub time: EventTime,
    pub participants: Vec<NewParticipant>,
    pub source_id: Option<String>,
    pub restricted: bool,
    pub provenance: Provenance,
    pub grading: Option<Grading>,
    pub attributes: Vec<NewAttribute>,
}

impl NewEvent {
    pub fn new(event_type: impl Into<String>, time: EventTime) -> NewEvent {
        NewEvent {
            event_type: event_type.into(),
            time,
            participants: Vec::new(),
            source_id: None,
            restricted: false,
            provenance: Provenance::manual(),
            grading: None,
            attributes: Vec::new(),
        }
    }
}
