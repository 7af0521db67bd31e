//! The audit log: append-only records in the categories of the EU Law Enforcement Directive,
//! Article 25, each holding the SHA-256 of the record before it. The head hash and the count
//! are also kept in the case header, so that records removed from the end are detected too
//! (and nothing is appended to a log whose header disagrees with its end: [`check_header`]).
//! A record of a change also carries the evidence digest of each table it changed (see
//! `digest.rs`), so the chain covers the evidence; the head is signed with the workstation
//! key when there is one and anchored outside the file (see `anchor.rs`).

use super::error::StoreError;
use chrono::{SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// The hash a chain starts from.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// LED Art. 25 processing categories.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditCategory {
    Collection,
    Alteration,
    Consultation,
    Disclosure,
    Combination,
    Erasure,
}

impl AuditCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditCategory::Collection => "collection",
            AuditCategory::Alteration => "alteration",
            AuditCategory::Consultation => "consultation",
            AuditCategory::Disclosure => "disclosure",
            AuditCategory::Combination => "combination",
            AuditCategory::Erasure => "erasure",
        }
    }
}

impl fmt::Display for AuditCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuditCategory {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "collection" => AuditCategory::Collection,
            "alteration" => AuditCategory::Alteration,
            "consultation" => AuditCategory::Consultation,
            "disclosure" => AuditCategory::Disclosure,
            "combination" => AuditCategory::Combination,
            "erasure" => AuditCategory::Erasure,
            other => return Err(format!("unknown audit category '{other}'")),
        })
    }
}

/// Who does something: the operating-system account and the analyst's own name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub os_user: String,
    pub analyst: String,
}

impl Actor {
    /// The OS user from the environment; the analyst name given, or else `COPKIT_ANALYST`, or
    /// else the OS user.
    pub fn from_environment(analyst: Option<String>) -> Actor {
        let os_user = ["USER", "LOGNAME", "USERNAME"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
            .unwrap_or_else(|| "unknown".to_string());
        let analyst = analyst
            .filter(|s| !s.trim().is_empty())
            .or_else(|| {
                std::env::var("COPKIT_ANALYST")
                    .ok()
                    .filter(|s| !s.trim().is_empty())
            })
            .unwrap_or_else(|| os_user.clone());
        Actor { os_user, analyst }
    }
}

/// One stored audit record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: i64,
    pub time_utc: String,
    pub category: String,
    pub action: String,
    pub actor_os: String,
    pub actor_analyst: String,
    pub purpose: String,
    /// JSON: parameters, before/after values, counts, hashes. A purge replaces the details of
    /// a record naming what it erased by an erasure marker ([`AuditRecord::erased_payload`]).
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
    /// How the hash covers the record: 1 (formats up to 6) over the details themselves, 2
    /// (format 7 on) over their SHA-256, so that a purge can erase them and the chain holds.
    #[serde(default = "first_hash_version")]
    pub hash_version: i64,
}

fn first_hash_version() -> i64 {
    1
}

/// The hash version records are written with (see [`AuditRecord::hash_version`]).
pub(crate) const HASH_VERSION: i64 = 2;

/// The details key of an erasure marker.
const ERASED_KEY: &str = "payload_erased";

/// What stands in a record's details after a purge erased them: the digest the chain covers,
/// the purge record that erased them, and what is kept (the command's name and the evidence
/// commitments, which name no value).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasedPayload {
    pub details_sha256: String,
    /// The purge record that erased the details (it lists this record).
    pub by_record: i64,
}

impl AuditRecord {
    /// The hash this record must carry: SHA-256 over the previous hash and a canonical
    /// encoding of every other field (a JSON array, so no field can bleed into the next). From
    /// hash version 2 the details enter as their SHA-256 (kept in the marker once erased).
    pub fn compute_hash(&self) -> String {
        let canonical = if self.hash_version >= 2 {
            let details = match self.erased_payload() {
                Some(erased) => erased.details_sha256,
                None => sha256_hex(self.details.as_bytes()),
            };
            serde_json::json!([
                self.hash_version,
                self.seq,
                self.time_utc,
                self.category,
                self.action,
                self.actor_os,
                self.actor_analyst,
                self.purpose,
                details,
                self.prev_hash,
            ])
        } else {
            serde_json::json!([
                self.seq,
                self.time_utc,
                self.category,
                self.action,
                self.actor_os,
                self.actor_analyst,
                self.purpose,
                self.details,
                self.prev_hash,
            ])
        };
        let mut hasher = Sha256::new();
        hasher.update(canonical.to_string().as_bytes());
        hex::encode(hasher.finalize())
    }

    /// The erasure marker, when a purge erased this record's details (hash version 2 only).
    pub fn erased_payload(&self) -> Option<ErasedPayload> {
        if self.hash_version < 2 || !self.details.contains(ERASED_KEY) {
            return None;
        }
        let details: serde_json::Value = serde_json::from_str(&self.details).ok()?;
        serde_json::from_value(details.get(ERASED_KEY)?.clone()).ok()
    }
}

/// Whether the case's audit table has the `hash_version` column (format 7 on).
fn has_hash_version(conn: &Connection) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM pragma_table_info('audit') WHERE name = 'hash_version'")?
        .exists([])?)
}

/// Replaces the details of record `seq` by an erasure marker naming the purge record
/// `by_record` (inside the purge's transaction): the command's name and the evidence
/// commitments stay, every value goes. Returns `false` for a record of hash version 1, whose
/// chain covers the details themselves, so that they cannot be erased.
pub(crate) fn erase_payload(
    conn: &Connection,
    seq: i64,
    by_record: i64,
) -> Result<bool, StoreError> {
    let (details, version): (String, i64) = conn.query_row(
        "SELECT details, hash_version FROM audit WHERE seq = ?1",
        [seq],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if version < 2 {
        return Ok(false);
    }
    let parsed: serde_json::Value = serde_json::from_str(&details).unwrap_or_default();
    if parsed.get(ERASED_KEY).is_some() {
        return Ok(true); // erased by an earlier purge
    }
    let mut marker = serde_json::json!({
        ERASED_KEY: ErasedPayload {
            details_sha256: sha256_hex(details.as_bytes()),
            by_record,
        },
    });
    for kept in ["command", "evidence"] {
        if let Some(v) = parsed.get(kept) {
            marker[kept] = v.clone();
        }
    }
    conn.execute(
        "UPDATE audit SET details = ?1 WHERE seq = ?2",
        params![marker.to_string(), seq],
    )?;
    Ok(true)
}

/// The time now, UTC, as the audit log writes it (RFC 3339 with milliseconds).
pub fn now_utc() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The SHA-256 of some bytes, in hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Appends one record inside the caller's transaction and moves the header's head.
pub(crate) fn append(
    conn: &Connection,
    actor: &Actor,
    purpose: &str,
    category: AuditCategory,
    action: &str,
    details: &serde_json::Value,
) -> Result<AuditRecord, StoreError> {
    if let Some(details) = check_header(conn)? {
        return Err(StoreError::ChainMismatch {
            path: super::error::writing_path(),
            details,
        });
    }
    let (prev_seq, prev_hash): (i64, String) = conn
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .unwrap_or((0, GENESIS_HASH.to_string()));
    let mut record = AuditRecord {
        seq: prev_seq + 1,
        time_utc: now_utc(),
        category: category.as_str().to_string(),
        action: action.to_string(),
        actor_os: actor.os_user.clone(),
        actor_analyst: actor.analyst.clone(),
        purpose: purpose.to_string(),
        details: details.to_string(),
        prev_hash,
        hash: String::new(),
        // A file of an older format (before its upgrade; migration tests) chains as it did.
        hash_version: if has_hash_version(conn)? {
            HASH_VERSION
        } else {
            1
        },
    };
    record.hash = record.compute_hash();
    let columns = if record.hash_version >= 2 {
        "hash_version, "
    } else {
        ""
    };
    conn.prepare_cached(&format!(
        "INSERT INTO audit ({columns}seq, time_utc, category, action, actor_os, actor_analyst, \
         purpose, details, prev_hash, hash) VALUES ({}?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        if columns.is_empty() { "" } else { "?11, " }
    ))?
    .execute(rusqlite::params_from_iter(
        [
            rusqlite::types::Value::from(record.seq),
            record.time_utc.clone().into(),
            record.category.clone().into(),
            record.action.clone().into(),
            record.actor_os.clone().into(),
            record.actor_analyst.clone().into(),
            record.purpose.clone().into(),
            record.details.clone().into(),
            record.prev_hash.clone().into(),
            record.hash.clone().into(),
            record.hash_version.into(),
        ]
        .into_iter()
        .take(if columns.is_empty() { 10 } else { 11 }),
    ))?;
    super::meta::set(conn, "audit_head", &record.hash)?;
    super::meta::set(conn, "audit_count", &record.seq.to_string())?;
    if let Some(key) = super::anchor::signing_key()? {
        // The head signed with the workstation key, in the same transaction: a head written
        // without the key (a forged record, a rewritten log) cannot carry a valid one.
        let case_id = super::meta::get(conn, "case_id")?.unwrap_or_default();
        let signature =
            super::anchor::HeadSignature::make(&key, &case_id, record.seq, &record.hash);
        super::meta::set(
            conn,
            HEAD_SIGNATURE_KEY,
            &serde_json::to_string(&signature)?,
        )?;
    }
    Ok(record)
}

/// The case header's key for the signature of the newest signed head.
pub(crate) const HEAD_SIGNATURE_KEY: &str = "audit_head_signature";

/// The last record's number and hash, and the header's count and head: they must agree before
/// anything is appended, or the new record would chain onto a log whose end was cut off.
pub(crate) fn check_header(conn: &Connection) -> Result<Option<String>, StoreError> {
    let last: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let head = super::meta::get(conn, "audit_head")?;
    let count = super::meta::get(conn, "audit_count")?;
    let (last_seq, last_hash) = last.unwrap_or((0, GENESIS_HASH.to_string()));
    match (head, count.and_then(|c| c.parse::<i64>().ok())) {
        (Some(head), Some(count)) if head == last_hash && count == last_seq => Ok(None),
        // A case being created: no record and no header yet.
        (None, None) if last_seq == 0 => Ok(None),
        (head, count) => Ok(Some(format!(
            "the log's last record is {last_seq}, the header says {} records ending in {}",
            count.map_or_else(|| "?".to_string(), |c| c.to_string()),
            head.as_deref().map_or("?", |h| h.get(..12).unwrap_or(h))
        ))),
    }
}

/// All records in order.
pub fn read_all(conn: &Connection) -> Result<Vec<AuditRecord>, StoreError> {
    let version = if has_hash_version(conn)? {
        "hash_version"
    } else {
        "1"
    };
    let mut stmt = conn.prepare(&format!(
        "SELECT seq, time_utc, category, action, actor_os, actor_analyst, purpose, details, \
         prev_hash, hash, {version} FROM audit ORDER BY seq"
    ))?;
    let rows = stmt.query_map([], |r| {
        Ok(AuditRecord {
            seq: r.get(0)?,
            time_utc: r.get(1)?,
            category: r.get(2)?,
            action: r.get(3)?,
            actor_os: r.get(4)?,
            actor_analyst: r.get(5)?,
            purpose: r.get(6)?,
            details: r.get(7)?,
            prev_hash: r.get(8)?,
            hash: r.get(9)?,
            hash_version: r.get(10)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// The result of checking the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum ChainCheck {
    Intact {
        records: i64,
        head: String,
    },
    Broken {
        /// The sequence number of the first record that fails (or the first missing one).
        seq: i64,
        reason: String,
    },
}

/// Checks every record's hash, its link to the one before, the numbering, and that the chain
/// ends where the case header says it does.
pub fn verify_records(
    records: &[AuditRecord],
    header_head: Option<&str>,
    header_count: Option<i64>,
) -> ChainCheck {
    // The records each purge says it erased (a purge's own details are never erased).
    let mut erased_by: std::collections::HashMap<i64, std::collections::HashSet<i64>> =
        std::collections::HashMap::new();
    for record in records.iter().filter(|r| r.action == "purge") {
        if let Ok(details) = serde_json::from_str::<serde_json::Value>(&record.details)
            && let Some(list) = details
                .get("audit_payloads_erased")
                .and_then(|l| l.as_array())
        {
            erased_by
                .entry(record.seq)
                .or_default()
                .extend(list.iter().filter_map(serde_json::Value::as_i64));
        }
    }
    let mut prev_hash = GENESIS_HASH.to_string();
    let mut expected_seq = 1;
    for record in records {
        if record.seq != expected_seq {
            return ChainCheck::Broken {
                seq: expected_seq,
                reason: format!(
                    "record {expected_seq} is missing (the next stored record is {})",
                    record.seq
                ),
            };
        }
        if record.prev_hash != prev_hash {
            return ChainCheck::Broken {
                seq: record.seq,
                reason: "it does not chain to the record before it (a record was removed, \
                         inserted or reordered here)"
                    .into(),
            };
        }
        if record.compute_hash() != record.hash {
            return ChainCheck::Broken {
                seq: record.seq,
                reason: "its contents were changed after it was written".into(),
            };
        }
        if let Some(erased) = record.erased_payload()
            && !erased_by
                .get(&erased.by_record)
                .is_some_and(|listed| listed.contains(&record.seq) && erased.by_record > record.seq)
        {
            return ChainCheck::Broken {
                seq: record.seq,
                reason: format!(
                    "its details were replaced by an erasure marker naming record {}, which is \
                     not a purge that erased it: they were removed outside COPKIT",
                    erased.by_record
                ),
            };
        }
        prev_hash.clone_from(&record.hash);
        expected_seq += 1;
    }
    let count = expected_seq - 1;
    if header_count.is_some_and(|c| c != count) || header_head.is_some_and(|h| h != prev_hash) {
        let promised = header_count.unwrap_or(count);
        return ChainCheck::Broken {
            seq: count + 1,
            reason: format!(
                "the log ends at record {count} but the case header says it holds {promised} \
                 records ending in {}: records were removed from the end",
                header_head.unwrap_or("?")
            ),
        };
    }
    if header_head.is_none() || header_count.is_none() {
        return ChainCheck::Broken {
            seq: count + 1,
            reason: "the case header has no audit head".into(),
        };
    }
    ChainCheck::Intact {
        records: count,
        head: prev_hash,
    }
}

/// Checks the chain stored in a case file.
pub fn verify(conn: &Connection) -> Result<ChainCheck, StoreError> {
    let records = read_all(conn)?;
    let head = super::meta::get(conn, "audit_head")?;
    let count = super::meta::get(conn, "audit_count")?.and_then(|c| c.parse::<i64>().ok());
    Ok(verify_records(&records, head.as_deref(), count))
}
