//! The planted ground truth of a generated case: who is in which cell with which role, the
//! duplicate records and aliases, the phone hand-overs and swaps, the cells' meetings, the
//! burst before the incident and which source lied. Stored in the case's `ground_truth` table, never as evidence.

use crate::model::{BatchId, EntityId, EventId, LinkId};
use serde::{Deserialize, Serialize};

/// The key the whole truth is stored under.
pub(crate) const TRUTH_KEY: &str = "truth";

/// Everything planted, naming case items by id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// Generator, scenario, seed and version.
    pub generator: serde_json::Value,
    /// Members of the group and the people around it (suppliers, buyers, mules, family).
    pub members: Vec<Member>,
    /// The cell leaders; the first leads the whole group.
    pub leaders: Vec<EntityId>,
    pub duplicates: Vec<DuplicatePair>,
    pub aliases: Vec<AliasTruth>,
    pub handovers: Vec<Handover>,
    pub phone_swaps: Vec<PhoneSwap>,
    /// The cells' meetings and who was seen at each (cases generated before version 2 have
    /// none recorded).
    #[serde(default)]
    pub meetings: Vec<MeetingTruth>,
    pub burst: Burst,
    pub incidents: Vec<IncidentTruth>,
    pub sources: Vec<SourceTruth>,
    /// Links the unreliable source invented.
    pub false_links: Vec<LinkId>,
    /// Accounts money passed through on its way to a crypto exchange, in order.
    pub mule_chains: Vec<Vec<EntityId>>,
    /// Accounts receiving cash deposits structured just below the reporting threshold.
    pub structuring_accounts: Vec<EntityId>,
    /// The generated documents and what each mentions (none unless asked for).
    #[serde(default)]
    pub documents: Vec<DocumentTruth>,
}

/// One generated document and the mentions planted in its text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocumentTruth {
    pub document: EntityId,
    pub mentions: Vec<PlantedMention>,
}

/// A mention written into a document: kind (as `MentionKind::key`), character offsets, the
/// entity it names (people, phones, vehicles, accounts) and its normalised value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlantedMention {
    pub kind: String,
    pub start: usize,
    pub end: usize,
    pub entity: Option<EntityId>,
    pub value: String,
}

/// One person of interest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub entity: EntityId,
    pub name: String,
    /// leader, lieutenant, courier, broker, supplier, buyer, mule or family.
    pub role: String,
    /// The cell, for members of the group proper.
    pub cell: Option<u32>,
    /// Every phone the person used during the period.
    pub phones: Vec<EntityId>,
}

/// One person entered twice: the duplicate has spelling variants and a differently written
/// phone number.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DuplicatePair {
    pub original: EntityId,
    pub duplicate: EntityId,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AliasTruth {
    pub person: EntityId,
    pub alias: String,
}

/// A phone passed from one person to another.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Handover {
    pub phone: EntityId,
    pub from: EntityId,
    pub to: EntityId,
    pub at_ms: i64,
}

/// A person dropping a phone for a new one: the old phone is never used again and the new
/// one was never used before. (A hand-over is not a swap: the phone stays in use.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhoneSwap {
    pub person: EntityId,
    pub old_phone: EntityId,
    pub new_phone: EntityId,
    pub at_ms: i64,
    /// "after the incident" or "burner rotation" (a group member changing burners every few
    /// weeks). Cases generated before version 2 list only the swaps after the incident.
    #[serde(default)]
    pub reason: String,
}

/// One meeting of a cell at a place, and who the evidence shows there: the members named in
/// the surveillance report (none when surveillance missed it) and the members' cars read by
/// the camera nearest the place shortly before.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeetingTruth {
    pub cell: u32,
    pub place: EntityId,
    pub camera: EntityId,
    pub start_ms: i64,
    pub persons_reported: Vec<EntityId>,
    pub vehicles_read: Vec<EntityId>,
}

/// The planted burst of activity before the incident (the early-warning signal).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Burst {
    pub start_ms: i64,
    pub end_ms: i64,
    pub persons: Vec<EntityId>,
    pub phones: Vec<EntityId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentTruth {
    pub event: EventId,
    pub kind: String,
    pub at_ms: i64,
    pub arrested: Vec<EntityId>,
}

/// One source (import batch) and whether it can be trusted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceTruth {
    pub batch: BatchId,
    pub name: String,
    /// Admiralty grade of the source, for example "B2".
    pub grade: String,
    pub reliable: bool,
}
