//! Checking a case's sources: each import batch's source file, where it still is, hashed again
//! and compared with the SHA-256 recorded when it was imported (`copkit verify-sources`).
//! Files are only read, in chunks (a source of gigabytes takes no more memory than one), and
//! the check is recorded in the audit log as a consultation.

use super::IoError;
use crate::jobs::{CancelToken, Progress};
use crate::store::Case;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::Read as _;
use std::path::{Path, PathBuf};

/// What was found for one batch's source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SourceState {
    /// The file hashes as it did when imported.
    Unchanged,
    /// The file is there but its bytes differ (this is its SHA-256 now).
    Changed { sha256: String },
    /// No file at the recorded path (nor beside the case).
    Missing,
    /// The batch recorded no source file or no hash (a generated or hand-made batch).
    NotRecorded,
}

/// One batch's check.
#[derive(Clone, Debug, Serialize)]
pub struct SourceCheck {
    pub batch: i64,
    pub description: String,
    /// The path as recorded at import.
    pub recorded_path: Option<String>,
    /// Where the file was found (the recorded path, or beside the case when that was
    /// relative and is not found from here).
    pub found_at: Option<PathBuf>,
    pub recorded_sha256: Option<String>,
    pub state: SourceState,
}

/// Where a recorded source path is now: as recorded (relative to the working folder), else,
/// for a relative path, relative to the case's folder.
fn locate(recorded: &str, case_path: &Path) -> Option<PathBuf> {
    let p = PathBuf::from(recorded);
    // A folder: a batch of documents (`io/documents`), whose hash is its manifest's.
    if p.is_file() || p.is_dir() {
        return Some(p);
    }
    if p.is_relative() {
        let beside = case_path.parent()?.join(&p);
        if beside.is_file() || beside.is_dir() {
            return Some(beside);
        }
    }
    None
}

/// The SHA-256 of a file, read in chunks; cancellable between them.
fn sha256_file(path: &Path, cancel: &CancelToken) -> Result<Option<String>, IoError> {
    let mut file = std::fs::File::open(path).map_err(|source| IoError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        if cancel.is_cancelled() {
            return Ok(None);
        }
        let n = file.read(&mut buf).map_err(|source| IoError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(Some(hex::encode(hasher.finalize())))
}

/// Checks every batch's source and records the check in the audit log. `None` when
/// cancelled (nothing is recorded then).
pub fn verify_sources(
    case: &mut Case,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<Option<Vec<SourceCheck>>, IoError> {
    let info = case.info()?;
    let total = info.batches.len().max(1) as f32;
    let mut checks = Vec::with_capacity(info.batches.len());
    for (i, b) in info.batches.iter().enumerate() {
        progress.report(Some(i as f32 / total), &format!("batch B{}", b.id));
        let (found_at, state) = match (&b.source_path, &b.source_sha256) {
            (Some(recorded), Some(sha)) => match locate(recorded, case.path()) {
                None => (None, SourceState::Missing),
                Some(at) => {
                    let now = if at.is_dir() {
                        super::documents::folder_manifest_sha256(&at, cancel)?
                    } else {
                        sha256_file(&at, cancel)?
                    };
                    let Some(now) = now else {
                        return Ok(None);
                    };
                    let state = if now.eq_ignore_ascii_case(sha) {
                        SourceState::Unchanged
                    } else {
                        SourceState::Changed { sha256: now }
                    };
                    (Some(at), state)
                }
            },
            _ => (None, SourceState::NotRecorded),
        };
        checks.push(SourceCheck {
            batch: b.id,
            description: b.description.clone(),
            recorded_path: b.source_path.clone(),
            found_at,
            recorded_sha256: b.source_sha256.clone(),
            state,
        });
    }
    let count = |f: fn(&SourceState) -> bool| checks.iter().filter(|c| f(&c.state)).count();
    case.record_consultation(
        "verify sources",
        serde_json::json!({
            "batches": checks.len(),
            "unchanged": count(|s| *s == SourceState::Unchanged),
            "changed": checks
                .iter()
                .filter(|c| matches!(c.state, SourceState::Changed { .. }))
                .map(|c| serde_json::json!({"batch": c.batch, "path": c.recorded_path}))
                .collect::<Vec<_>>(),
            "missing": checks
                .iter()
                .filter(|c| c.state == SourceState::Missing)
                .map(|c| serde_json::json!({"batch": c.batch, "path": c.recorded_path}))
                .collect::<Vec<_>>(),
        }),
    )?;
    Ok(Some(checks))
}
