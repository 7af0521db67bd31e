//! The import report: rows read, accepted and rejected, every rejected or skipped row with
//! its line, field and reason, entities matched to ones already in the case, and the SHA-256
//! of the bytes parsed. It is printed by the CLI, can be saved as JSON, and is the input of
//! "re-import rejected rows".

use crate::model::{BatchId, EntityId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// One problem with one row (or record).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowProblem {
    /// 1-based physical line where the record starts (the header is line 1).
    pub line: u64,
    /// The column or property, when the problem is in one field.
    pub field: Option<String>,
    pub reason: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "line {}, field '{}': {}", self.line, field, self.reason),
            None => write!(f, "line {}: {}", self.line, self.reason),
        }
    }
}

/// An incoming entity folded into one that was already in the case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeNote {
    pub line: u64,
    pub entity: EntityId,
    pub entity_type: String,
    pub property: String,
    pub key: String,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub source: String,
    pub format: String,
    pub sha256: String,
    pub bytes: u64,
    pub encoding: String,
    pub delimiter: Option<String>,
    pub spec_name: String,
    pub lenient: bool,
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_rejected: u64,
    /// Every rejected (strict) or skipped (lenient) row.
    pub rejected: Vec<RowProblem>,
    /// Kept rows with something the analyst should look at (hidden characters, self-loops).
    pub warnings: Vec<RowProblem>,
    pub entities_created: u64,
    /// Incoming entities matched to existing case entities on a normalised identifier.
    pub entities_merged: u64,
    pub merges: Vec<MergeNote>,
    pub links: u64,
    pub events: u64,
    pub attributes: u64,
    pub batch: Option<BatchId>,
    /// When this was a re-import of an earlier report's rejected rows.
    pub reimport_of_lines: Option<Vec<u64>>,
}

impl ImportReport {
    /// The report as human-readable text.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let w = &mut s;
        use std::fmt::Write;
        let _ = writeln!(w, "Source:      {} ({} bytes)", self.source, self.bytes);
        let _ = writeln!(w, "SHA-256:     {}", self.sha256);
        let _ = writeln!(
            w,
            "Format:      {} ({}{})",
            self.format,
            self.encoding,
            self.delimiter
                .as_ref()
                .map(|d| format!(", delimiter {d:?}"))
                .unwrap_or_default()
        );
        let _ = writeln!(
            w,
            "Spec:        {}{}",
            self.spec_name,
            if self.lenient { " (lenient)" } else { "" }
        );
        let _ = writeln!(
            w,
            "Rows:        {} read, {} accepted, {} rejected",
            self.rows_read, self.rows_accepted, self.rows_rejected
        );
        let _ = writeln!(
            w,
            "Written:     {} entities created, {} matched to existing entities, {} links, {} events, {} attribute values",
            self.entities_created, self.entities_merged, self.links, self.events, self.attributes
        );
        match self.batch {
            Some(b) => {
                let _ = writeln!(w, "Batch:       {b}");
            }
            None => {
                let _ = writeln!(w, "Batch:       none (nothing was imported)");
            }
        }
        if !self.rejected.is_empty() {
            let _ = writeln!(
                w,
                "{}:",
                if self.lenient {
                    "Skipped rows"
                } else {
                    "Rejected rows"
                }
            );
            for p in &self.rejected {
                let _ = writeln!(w, "  {p}");
            }
        }
        if !self.warnings.is_empty() {
            let _ = writeln!(w, "Warnings:");
            for p in &self.warnings {
                let _ = writeln!(w, "  {p}");
            }
        }
        if !self.merges.is_empty() {
            let _ = writeln!(w, "Matched to existing entities:");
            for m in &self.merges {
                let _ = writeln!(
                    w,
                    "  line {}: {} {} {} = {}",
                    m.line, m.entity_type, m.entity, m.property, m.key
                );
            }
        }
        s
    }
}
