//! `audit verify`: every check of a case file's integrity, run on a read-only connection so
//! that it works on a read-only or full medium and never changes what it examines. Each check
//! says what it found and, plainly, what passing it proves:
//!
//! 1. **The audit chain**: each record's hash, its link to the one before, the numbering, and
//!    that the log ends where the case header says.
//! 2. **The evidence**: each evidence table's digest, recomputed from its rows, against the
//!    commitment the audit log last recorded for it (`digest.rs`), naming the table and, when
//!    one row alone differs, the row.
//! 3. **The anchor log**: the heads this workstation anchored outside the file (`anchor.rs`)
//!    against the file's records: a cut-off end or a rewritten log shows here even when the
//!    header was moved back or every hash computed again.
//! 4. **The signature**: the head's Ed25519 signature against the workstation's key (or one
//!    given): a record appended without the key cannot carry one.

use super::anchor::{self, HeadSignature};
use super::audit::{self, AuditRecord, ChainCheck};
use super::digest;
use super::error::StoreError;
use super::file_check::check_case_file;
use super::meta;
use ed25519_dalek::VerifyingKey;
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What to check the file against.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    /// The anchor log (`None`: no anchor check).
    pub anchor_log: Option<PathBuf>,
    /// The key whose signature is trusted (`None`: the workstation's key, if it has one).
    pub public_key: Option<VerifyingKey>,
}

impl VerifyOptions {
    /// The workstation's anchor log and key (see [`anchor::workstation`]).
    pub fn from_workstation() -> Result<VerifyOptions, StoreError> {
        Ok(VerifyOptions {
            anchor_log: anchor::workstation().anchor_log,
            public_key: anchor::workstation_public_key()?,
        })
    }
}

/// The outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    Passed,
    Failed,
    /// Nothing to check against (no anchors of this case, no signature, an old format).
    NotChecked,
}

/// One check: what it found, and what its passing proves.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub outcome: CheckOutcome,
    pub found: String,
    /// Individual problems (bounded).
    pub problems: Vec<String>,
    pub proves: String,
}

/// Everything `audit verify` found.
#[derive(Clone, Debug, Serialize)]
pub struct VerifyReport {
    pub path: PathBuf,
    /// The case's own id (from its header), which the workstation's logs name it by.
    pub case_id: String,
    pub records: i64,
    pub chain: ChainCheck,
    pub evidence: Vec<digest::EvidenceFinding>,
    pub checks: Vec<Check>,
}

impl VerifyReport {
    /// No check failed.
    pub fn passed(&self) -> bool {
        self.checks
            .iter()
            .all(|c| c.outcome != CheckOutcome::Failed)
    }
}

/// At most this many problems are listed per check.
const MAX_PROBLEMS: usize = 20;

fn bounded(mut problems: Vec<String>) -> Vec<String> {
    if problems.len() > MAX_PROBLEMS {
        let more = problems.len() - MAX_PROBLEMS;
        problems.truncate(MAX_PROBLEMS);
        problems.push(format!("… and {more} more"));
    }
    problems
}

/// Runs every check on the case file at `path`, reading only.
pub fn verify_case_file(path: &Path, options: &VerifyOptions) -> Result<VerifyReport, StoreError> {
    let facts = check_case_file(path)?;
    let mut journal = path.as_os_str().to_owned();
    journal.push("-journal");
    if std::fs::metadata(&journal).is_ok_and(|m| m.len() > 0) {
        return Err(StoreError::Invalid(format!(
            "a write to this case was interrupted and must be rolled back before it can be \
             checked; open it once with COPKIT (on a writable disk), then verify again: {}",
            path.display()
        )));
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| StoreError::Corrupt {
        path: path.to_path_buf(),
        details: e.to_string(),
        backup_hint: String::new(),
    })?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    digest::register(&conn)?;
    let records = audit::read_all(&conn)?;
    let chain = audit::verify(&conn)?;
    let case_id = meta::get(&conn, "case_id")?.unwrap_or_default();
    let mut checks = vec![chain_check(&chain)];
    let (evidence_check, evidence) = evidence_check(&conn, facts.schema_version, &records)?;
    checks.push(evidence_check);
    checks.push(anchor_check(options, &case_id, &records)?);
    checks.push(signature_check(&conn, options, &case_id, &records)?);
    Ok(VerifyReport {
        path: path.to_path_buf(),
        case_id,
        records: records.len() as i64,
        chain,
        evidence,
        checks,
    })
}

fn chain_check(chain: &ChainCheck) -> Check {
    let proves = "no record was changed, removed, inserted or reordered, and the log ends \
                  where the case header says. Alone it cannot show a log whose end was cut \
                  off together with the header, or one rewritten with every hash computed \
                  again: the anchor log and the signature can."
        .to_string();
    match chain {
        ChainCheck::Intact { records, head } => Check {
            name: "audit chain",
            outcome: CheckOutcome::Passed,
            found: format!("intact: {records} records, head {head}"),
            problems: Vec::new(),
            proves,
        },
        ChainCheck::Broken { seq, reason } => Check {
            name: "audit chain",
            outcome: CheckOutcome::Failed,
            found: format!("BROKEN at record {seq}: {reason}"),
            problems: Vec::new(),
            proves,
        },
    }
}

fn evidence_check(
    conn: &Connection,
    schema_version: u32,
    records: &[AuditRecord],
) -> Result<(Check, Vec<digest::EvidenceFinding>), StoreError> {
    if schema_version < 6 {
        return Ok((
            Check {
                name: "evidence",
                outcome: CheckOutcome::NotChecked,
                found: format!(
                    "the case is in format {schema_version}, from before evidence digests; \
                     open it once with this COPKIT to upgrade it (a backup is kept), and its \
                     evidence is covered from the upgrade on"
                ),
                problems: Vec::new(),
                proves: "nothing about the evidence rows".into(),
            },
            Vec::new(),
        ));
    }
    let recorded = digest::recorded(records);
    let findings = digest::check(conn, &recorded)?;
    let start = recorded
        .starts_at
        .and_then(|seq| records.iter().find(|r| r.seq == seq));
    let since = match start {
        Some(r) if r.action == "upgrade case format" => format!(
            "since record {} (the upgrade of {}: changes made before it are not covered)",
            r.seq, r.time_utc
        ),
        Some(r) => format!("since record {} ({})", r.seq, r.action),
        None => "(no record carries a digest)".into(),
    };
    let tables = digest::evidence_tables().count();
    let check = if findings.is_empty() {
        Check {
            name: "evidence",
            outcome: CheckOutcome::Passed,
            found: format!(
                "the rows of all {tables} evidence tables match the digests the audit log \
                 recorded {since}"
            ),
            problems: Vec::new(),
            proves: "no evidence row (entity, link, event, attribute value, participant, \
                     import batch, merge, note, chart snapshot, entity type or grading \
                     scheme) was changed, added or removed except by a change that has its \
                     audit record"
                .into(),
        }
    } else {
        Check {
            name: "evidence",
            outcome: CheckOutcome::Failed,
            found: format!(
                "{} of {tables} evidence tables differ from what the audit log records {since}",
                findings.len()
            ),
            problems: bounded(
                findings
                    .iter()
                    .map(|f| format!("{}: {}", f.table, f.what))
                    .collect(),
            ),
            proves: "the evidence was changed outside COPKIT (by direct edits of the file)".into(),
        }
    };
    Ok((check, findings))
}

fn anchor_check(
    options: &VerifyOptions,
    case_id: &str,
    records: &[AuditRecord],
) -> Result<Check, StoreError> {
    let Some(log) = &options.anchor_log else {
        return Ok(Check {
            name: "anchor log",
            outcome: CheckOutcome::NotChecked,
            found: "anchoring is off on this workstation".into(),
            problems: Vec::new(),
            proves: "nothing".into(),
        });
    };
    let (anchors, skipped) = anchor::read(log, case_id)?;
    let Some(newest) = anchors.iter().map(|a| a.seq).max() else {
        return Ok(Check {
            name: "anchor log",
            outcome: CheckOutcome::NotChecked,
            found: format!(
                "{} holds no anchor of this case (it was written on another workstation or \
                 with another anchor log; point --anchor-log at that one)",
                log.display()
            ),
            problems: Vec::new(),
            proves: "nothing".into(),
        });
    };
    let n = records.len() as i64;
    let mut problems = Vec::new();
    // Each record is anchored once; report each disagreeing record once, in order.
    let mut seen = std::collections::BTreeSet::new();
    let mut sorted: Vec<&anchor::Anchor> = anchors.iter().collect();
    sorted.sort_by_key(|a| a.seq);
    for a in sorted {
        if !seen.insert((a.seq, a.head.clone())) {
            continue;
        }
        let at = records.iter().find(|r| r.seq == a.seq);
        match at {
            None => problems.push(format!(
                "record {} (anchored {}) is not in the file, which ends at record {n}: records \
                 were removed from the end, or this file is an older copy (a backup)",
                a.seq, a.time_utc
            )),
            Some(r) if r.hash != a.head => problems.push(format!(
                "record {} is not the one anchored {}: the log was rewritten from there on, \
                 or this file is a copy of the case that went its own way",
                a.seq, a.time_utc
            )),
            Some(_) => {}
        }
    }
    if n > newest {
        problems.push(format!(
            "records {}–{n} are not in the anchor log: they were written where this log could \
             not be reached (another workstation, a read-only anchor medium, a crash right \
             after the commit), or forged",
            newest + 1
        ));
    }
    let mut found = format!(
        "{} anchors of this case in {}; the newest is record {newest}",
        anchors.len(),
        log.display()
    );
    if skipped > 0 {
        found.push_str(&format!(" ({skipped} unreadable lines skipped)"));
    }
    Ok(Check {
        name: "anchor log",
        outcome: if problems.is_empty() {
            CheckOutcome::Passed
        } else {
            CheckOutcome::Failed
        },
        found,
        proves: if problems.is_empty() {
            format!(
                "records 1–{newest} are the ones this workstation committed and anchored: none \
                 was removed from the end or rewritten since, even with the header moved back \
                 or every hash computed again"
            )
        } else {
            "this file is not the case as this workstation committed it".into()
        },
        problems: bounded(problems),
    })
}

fn signature_check(
    conn: &Connection,
    options: &VerifyOptions,
    case_id: &str,
    records: &[AuditRecord],
) -> Result<Check, StoreError> {
    let stored = meta::get(conn, audit::HEAD_SIGNATURE_KEY)?;
    let not_checked = |found: String| Check {
        name: "signature",
        outcome: CheckOutcome::NotChecked,
        found,
        problems: Vec::new(),
        proves: "nothing".into(),
    };
    let Some(stored) = stored else {
        return Ok(not_checked(
            "the head is not signed (no workstation key was set up where the case was \
             written; `copkit audit keygen` makes one)"
                .into(),
        ));
    };
    let failed = |found: String| Check {
        name: "signature",
        outcome: CheckOutcome::Failed,
        found,
        problems: Vec::new(),
        proves: "the case header or its audit log was changed without the key".into(),
    };
    let Ok(sig) = serde_json::from_str::<HeadSignature>(&stored) else {
        return Ok(failed("the case header's signature cannot be read".into()));
    };
    if !sig.is_valid(case_id) {
        return Ok(failed(
            "the head signature is not valid for this case: the header was edited".into(),
        ));
    }
    let last = records.last();
    let n = records.len() as i64;
    match records.iter().find(|r| r.seq == sig.seq) {
        None => {
            return Ok(failed(format!(
                "the signed head is record {}, which is not in the file (it ends at record \
                 {n}): records were removed from the end",
                sig.seq
            )));
        }
        Some(r) if r.hash != sig.head => {
            return Ok(failed(format!(
                "record {} is not the one that was signed: the log was rewritten",
                sig.seq
            )));
        }
        Some(_) => {}
    }
    if last.is_some_and(|l| l.seq != sig.seq) {
        return Ok(failed(format!(
            "the newest signed record is {}, but the log ends at record {n}: the records \
             after it were written without the key (on a workstation without one) or forged",
            sig.seq
        )));
    }
    let signer = sig.key.get(..16).unwrap_or(&sig.key).to_string();
    match &options.public_key {
        Some(trusted) if hex::encode(trusted.as_bytes()) == sig.key => Ok(Check {
            name: "signature",
            outcome: CheckOutcome::Passed,
            found: format!("the head (record {n}) is signed with the trusted key {signer}…"),
            problems: Vec::new(),
            proves: "whoever wrote the last record held that key, so the log up to it (and \
                     with it the evidence digests) is as that key's holder left it"
                .into(),
        }),
        Some(trusted) => Ok(failed(format!(
            "the head is signed with key {signer}…, not with the trusted key {}…",
            hex::encode(trusted.as_bytes())
                .get(..16)
                .unwrap_or_default()
        ))),
        None => Ok(not_checked(format!(
            "the head (record {n}) carries a valid signature by key {signer}…, which this \
             workstation does not know; give that key's .pub file with --public-key to trust it"
        ))),
    }
}
