//! Identifiers as newtypes, so an entity id can never be passed where a link id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

id_type!(
    /// An entity in a case (row id in the case file; stable for the life of the case).
    EntityId,
    "E"
);
id_type!(
    /// A link between two entities.
    LinkId,
    "L"
);
id_type!(
    /// A dated event with participants.
    EventId,
    "V"
);
id_type!(
    /// One attribute value on an entity, link or event.
    AttributeId,
    "A"
);
id_type!(
    /// One import batch (or generator run, or manual-entry session).
    BatchId,
    "B"
);
id_type!(
    /// An analyst's note on an item (i2's cards).
    NoteId,
    "N"
);
id_type!(
    /// A named snapshot of the link chart, saved with the case.
    ChartSnapshotId,
    "C"
);

/// Any item that can carry attributes, grading, provenance and a restricted flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum ItemRef {
    Entity(EntityId),
    Link(LinkId),
    Event(EventId),
}

impl ItemRef {
    /// The owner-kind string used in the case file's attribute table.
    pub fn kind_str(self) -> &'static str {
        match self {
            ItemRef::Entity(_) => "entity",
            ItemRef::Link(_) => "link",
            ItemRef::Event(_) => "event",
        }
    }

    /// The raw row id.
    pub fn raw(self) -> i64 {
        match self {
            ItemRef::Entity(id) => id.0,
            ItemRef::Link(id) => id.0,
            ItemRef::Event(id) => id.0,
        }
    }

    /// Inverse of [`ItemRef::kind_str`] plus [`ItemRef::raw`].
    pub fn from_parts(kind: &str, raw: i64) -> Option<ItemRef> {
        match kind {
            "entity" => Some(ItemRef::Entity(EntityId(raw))),
            "link" => Some(ItemRef::Link(LinkId(raw))),
            "event" => Some(ItemRef::Event(EventId(raw))),
            _ => None,
        }
    }
}

impl fmt::Display for ItemRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ItemRef::Entity(id) => id.fmt(f),
            ItemRef::Link(id) => id.fmt(f),
            ItemRef::Event(id) => id.fmt(f),
        }
    }
}

/// Any id as a user types it: `E12`, `L3`, `V7` (entity, link, event), `A40` (attribute
/// value), `N2` (note), `C1` (chart snapshot). The command line and the window's search read
/// ids this way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AnyId {
    Item(ItemRef),
    Attribute(AttributeId),
    Note(NoteId),
    ChartSnapshot(ChartSnapshotId),
}

impl std::str::FromStr for AnyId {
    type Err = String;

    fn from_str(text: &str) -> Result<AnyId, String> {
        let text = text.trim();
        let wrong = || {
            format!(
                "'{text}' is not an id: an id is a letter and a number, such as E12 (entity), \
                 L3 (link), V7 (event), A40 (attribute value), N2 (note) or C1 (chart snapshot)"
            )
        };
        let mut chars = text.chars();
        let letter = chars.next().ok_or_else(wrong)?.to_ascii_uppercase();
        let number: i64 = chars.as_str().parse().map_err(|_| wrong())?;
        if number < 1 {
            return Err(wrong());
        }
        Ok(match letter {
            'E' => AnyId::Item(ItemRef::Entity(EntityId(number))),
            'L' => AnyId::Item(ItemRef::Link(LinkId(number))),
            'V' => AnyId::Item(ItemRef::Event(EventId(number))),
            'A' => AnyId::Attribute(AttributeId(number)),
            'N' => AnyId::Note(NoteId(number)),
            'C' => AnyId::ChartSnapshot(ChartSnapshotId(number)),
            _ => return Err(wrong()),
        })
    }
}

impl fmt::Display for AnyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnyId::Item(item) => item.fmt(f),
            AnyId::Attribute(id) => id.fmt(f),
            AnyId::Note(id) => id.fmt(f),
            AnyId::ChartSnapshot(id) => id.fmt(f),
        }
    }
}

/// An entity named by a command: one that exists, or one created earlier in the same batch
/// (by its position in the batch's entity list).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityRef {
    Existing(EntityId),
    New(usize),
}

impl From<EntityId> for EntityRef {
    fn from(id: EntityId) -> Self {
        EntityRef::Existing(id)
    }
}

/// A set of row ids (entity ids, say) for lookups in hot loops: ids up to `DENSE` are bits in
/// a bit set, since the store counts ids up from 1. A hash set's probes missed the CPU cache:
/// an import checks several ids per row, and that was half a second of a 1M-row import.
#[derive(Debug, Default)]
pub struct IdBits {
    dense: fixedbitset::FixedBitSet,
    /// Ids past `DENSE` (only a hand-edited case has them).
    sparse: std::collections::HashSet<i64>,
}

impl IdBits {
    /// Ids below this are bits (at most 32 MiB of them).
    pub const DENSE: i64 = 1 << 28;

    pub fn contains(&self, id: i64) -> bool {
        if (0..Self::DENSE).contains(&id) {
            self.dense.contains(id as usize)
        } else {
            self.sparse.contains(&id)
        }
    }

    /// Adds `id`; false if it was there already.
    pub fn insert(&mut self, id: i64) -> bool {
        if (0..Self::DENSE).contains(&id) {
            let i = id as usize;
            if i >= self.dense.len() {
                // Doubling, so growing one id at a time stays linear overall.
                self.dense.grow((i + 1).max(self.dense.len() * 2));
            }
            !self.dense.put(i)
        } else {
            self.sparse.insert(id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::IdBits;

    #[test]
    fn id_bits_hold_dense_and_sparse_ids() {
        let mut ids = IdBits::default();
        for id in [
            1,
            2,
            63,
            64,
            65,
            1000,
            IdBits::DENSE - 1,
            IdBits::DENSE,
            i64::MAX,
            -5,
        ] {
            assert!(!ids.contains(id), "{id} before insert");
            assert!(ids.insert(id), "{id} is new");
            assert!(ids.contains(id), "{id} after insert");
            assert!(!ids.insert(id), "{id} is there already");
        }
        for id in [0, 3, 62, 66, 999, 1001, IdBits::DENSE + 1, -4] {
            assert!(!ids.contains(id), "{id} never inserted");
        }
        assert!(ids.dense.len() <= 2 * IdBits::DENSE as usize);
    }
}
