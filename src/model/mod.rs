//! The case model: entities, links, events, their multi-valued attributes, provenance and
//! intelligence grading. Plain data with no storage or GUI concerns.
//!
//! The model is a superset of FollowTheMoney's: an FtM "Thing" is an [`Entity`] with
//! multi-valued properties, an FtM "Interval" is a [`Link`] (with start/end properties as
//! attributes) or an [`Event`] (with a time), so FtM import and export are mappings.

mod dates;
mod grading;
mod ids;
mod items;
mod schema;

pub use dates::{EventTime, PartialDate, PartialDateError};
pub use grading::{Grade, GradeLevel, Grading, GradingError, GradingScheme};
pub use ids::{
    AnyId, AttributeId, BatchId, ChartSnapshotId, EntityId, EntityRef, EventId, IdBits, ItemRef,
    LinkId, NoteId,
};
pub use items::{
    Attribute, Entity, Event, Link, LinkStrength, NewAttribute, NewEntity, NewEvent, NewLink,
    NewNote, NewParticipant, Note, Participant, ParticipantRole, PersonCategory, Provenance,
};
pub use schema::{
    BUILTIN_EVENT_TYPES, BUILTIN_LINK_TYPES, BUNDLED_ICONS, EntityTypeDef, PropertyDef,
    PropertyKind, Schema, SchemaError, normalize_value, phone_e164,
};
