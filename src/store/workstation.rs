//! What the workstation knows of a case outside its file, used when the case is opened:
//!
//! - **The anchor log** (`anchor.rs`) holds every head this workstation committed. When it
//!   holds a later record of this case than the file does (the end of the audit log was cut
//!   off and the header moved back to match, or this is an older copy), a record appended now
//!   would take the missing records' numbers and hide the cut, so the case is not opened for
//!   writing; [`Case::open_read_only`] still lets the analyst examine it, marked as such.
//! - **The consultation log**: `audit verify` on a case it could not write (a read-only
//!   medium) recorded itself there; the next writable opening takes those lines into the
//!   case's own audit log ([`Case::take_in_consultations`]), once each.

use super::*;

/// The `case_meta` key prefix that marks a consultation-log line as taken in (the line's
/// `entry_id` follows), so that it is never recorded twice.
const TAKEN_PREFIX: &str = "consultation_taken:";

/// Why the case on `conn` must not be written because the workstation's anchor log holds a
/// later state of it, or `None`. An anchor log that cannot be read is reported as a warning
/// (the file's own chain was checked; `audit verify` names the log's problem).
pub(super) fn behind_anchor_log(conn: &Connection) -> Result<Option<String>, StoreError> {
    let Some(log) = anchor::workstation().anchor_log else {
        return Ok(None);
    };
    let Some(case_id) = meta::get(conn, "case_id")? else {
        return Ok(None);
    };
    let anchors = match anchor::read(&log, &case_id) {
        Ok((anchors, _)) => anchors,
        Err(e) => {
            tracing::warn!("the anchor log was not compared with the case: {e}");
            return Ok(None);
        }
    };
    let count: i64 = meta::get(conn, "audit_count")?
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let Some(newest) = anchors.iter().max_by_key(|a| a.seq) else {
        return Ok(None);
    };
    if newest.seq > count {
        return Ok(Some(format!(
            "the workstation's anchor log {} holds record {} of this case (anchored {}, in {}), \
             but the file ends at record {count}: the end of its audit log was cut off and its \
             header moved back, or this file is an older copy of the case",
            log.display(),
            newest.seq,
            newest.time_utc,
            newest.file
        )));
    }
    // Same length or shorter: the anchored record at the file's own end must be the file's.
    let head = meta::get(conn, "audit_head")?.unwrap_or_default();
    if let Some(other) = anchors.iter().find(|a| a.seq == count && a.head != head)
        && !anchors.iter().any(|a| a.seq == count && a.head == head)
    {
        return Ok(Some(format!(
            "the workstation's anchor log {} holds a different record {count} of this case \
             (anchored {}): the audit log was rewritten, or this file is a copy that went its \
             own way",
            log.display(),
            other.time_utc
        )));
    }
    Ok(None)
}

impl Case {
    /// Opens a case for reading only, writing nothing (no consultation record, no upgrade):
    /// for a case that must not be written ([`StoreError::BehindAnchorLog`]) or a read-only
    /// medium. [`Case::read_only`] says why; every change is refused.
    pub fn open_read_only(path: &Path, actor: Actor, purpose: &str) -> Result<Case, StoreError> {
        open::require_purpose(purpose)?;
        let facts = check_case_file(path)?;
        let mut journal = path.as_os_str().to_owned();
        journal.push("-journal");
        if std::fs::metadata(&journal).is_ok_and(|m| m.len() > 0) {
            return Err(StoreError::Invalid(format!(
                "a write to this case was interrupted and must be rolled back before it can be \
                 read; open it once for writing (on a writable disk) first: {}",
                path.display()
            )));
        }
        if facts.schema_version < SCHEMA_VERSION {
            return Err(StoreError::Invalid(format!(
                "this case is in format {}, which this COPKIT reads only after upgrading it (a \
                 write); open it for writing, or read it with the COPKIT that wrote it: {}",
                facts.schema_version,
                path.display()
            )));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| e.into())
        .map_err(|e: StoreError| e.naming_case(path))?;
        open::configure(&conn)?;
        open::quick_check(&conn, path)?;
        let reason = behind_anchor_log(&conn)?
            .unwrap_or_else(|| "it was opened for reading only".to_string());
        let capture = undo::CaptureSql::new(&conn)?;
        let mut case = Case {
            path: path.to_path_buf(),
            conn,
            actor,
            purpose: purpose.to_string(),
            schema: Schema::default(),
            schemes: Vec::new(),
            generation: 0,
            snapshot: None,
            capture,
            read_only: Some(reason),
        };
        case.reload_configuration()?;
        Ok(case)
    }

    /// Why this case was opened for reading only (`None`: it is open for writing).
    pub fn read_only(&self) -> Option<&str> {
        self.read_only.as_deref()
    }

    /// Refuses a change of a case opened for reading only, saying why it was (the read-only
    /// connection would refuse it too, but as if the disk were read-only).
    pub(super) fn require_writable(&self) -> Result<(), StoreError> {
        match &self.read_only {
            None => Ok(()),
            Some(why) => Err(StoreError::Invalid(format!(
                "this case is open for reading only ({why}); nothing was written: {}",
                self.path.display()
            ))),
        }
    }

    /// Takes the workstation's consultation-log lines about this case into its audit log, one
    /// record each (the consultation's own analyst, purpose and time, and that it was recorded
    /// later), each line once. Returns how many were taken in.
    pub fn take_in_consultations(&mut self) -> Result<usize, StoreError> {
        let Some(log) = anchor::consultation_log() else {
            return Ok(0);
        };
        let case_id = self.meta("case_id")?.unwrap_or_default();
        let mut taken = 0;
        for entry in anchor::read_consultations(&log, &case_id)? {
            let text = |k: &str| {
                entry
                    .get(k)
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            let entry_id = text("entry_id");
            let key = format!("{TAKEN_PREFIX}{entry_id}");
            if entry_id.is_empty() || meta::get(&self.conn, &key)?.is_some() {
                continue;
            }
            let actor = Actor {
                os_user: text("actor_os"),
                analyst: text("actor_analyst"),
            };
            let purpose = text("purpose");
            let action = match text("action") {
                a if a.is_empty() => "consultation".to_string(),
                a => a,
            };
            let details = json!({
                "recorded_later": true,
                "entry_id": entry_id,
                "time_utc": text("time_utc"),
                "file": entry.get("file"),
                "details": entry.get("details"),
                "not_recorded_in_case": entry.get("not_recorded_in_case"),
                "from_log": log,
                "taken_in_by": self.actor.analyst,
            });
            let _writing = error::WritingCase::new(&self.path);
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let record = audit::append(
                &tx,
                &actor,
                &purpose,
                AuditCategory::Consultation,
                &action,
                &details,
            )?;
            meta::set(&tx, &key, &record.seq.to_string())?;
            tx.commit()?;
            self.anchor_head();
            taken += 1;
        }
        Ok(taken)
    }
}
