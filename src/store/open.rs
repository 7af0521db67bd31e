//! Creating, opening and upgrading case files: a new case is built under a temporary name and
//! linked into place; opening checks the header and `quick_check` on a read-only connection
//! first, rolls back a hot journal, upgrades an older format after writing a backup, and
//! records the opening as a consultation.

use super::*;

pub(super) fn require_purpose(purpose: &str) -> Result<(), StoreError> {
    if purpose.trim().is_empty() {
        Err(StoreError::Invalid(
            "a purpose is required (a case reference or justification); it is recorded in the audit log".into(),
        ))
    } else {
        Ok(())
    }
}

pub(super) fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // FULL: a commit is on disk before it returns, so a crash or power cut never loses a
    // change that was reported done.
    conn.pragma_update(None, "synchronous", "FULL")?;
    // The undo triggers and their capture table live in the temporary schema: in memory, so
    // that installing them writes no temporary file.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // The row hash of the evidence digest, which the capturing triggers call.
    digest::register(conn)?;
    Ok(())
}

/// Runs `PRAGMA quick_check`, turning any failure into a `Corrupt` error for `path`.
pub(super) fn quick_check(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let corrupt = |details: String| StoreError::Corrupt {
        path: path.to_path_buf(),
        details,
        backup_hint: backup_hint(path),
    };
    let result: Result<Vec<String>, rusqlite::Error> = conn
        .prepare("PRAGMA quick_check")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect());
    match result {
        Ok(lines) if lines.len() == 1 && lines[0] == "ok" => Ok(()),
        Ok(lines) => Err(corrupt(
            lines.into_iter().take(3).collect::<Vec<_>>().join("; "),
        )),
        Err(e) => Err(corrupt(e.to_string())),
    }
}

/// Whether a file starts with SQLite's magic string (read-only peek).
fn looks_like_sqlite(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| &magic == b"SQLite format 3\0")
}

/// Names the newest backup beside a case that passes the checks, for error messages.
fn backup_hint(path: &Path) -> String {
    match newest_sound_backup(path) {
        Some(b) => format!(" (newest sound backup: {})", b.display()),
        None => String::new(),
    }
}

/// The newest backup beside a case whose header is a case's and that passes `quick_check`.
pub fn newest_sound_backup(path: &Path) -> Option<PathBuf> {
    find_backups(path).into_iter().find(|backup| {
        check_case_file(backup).is_ok()
            && Connection::open_with_flags(backup, OpenFlags::SQLITE_OPEN_READ_ONLY)
                .is_ok_and(|conn| quick_check(&conn, backup).is_ok())
    })
}

/// Backups written next to a case by migrations and by `Case::backup_to`, newest first.
pub fn find_backups(path: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return Vec::new();
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!("{name}.backup-");
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(&prefix))
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    found.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
    found.into_iter().map(|(_, p)| p).collect()
}

impl Case {
    /// Creates a new, empty case. The file appears complete or not at all: it is built under a
    /// temporary name in the same folder and linked into place only when committed, and an
    /// existing file is never overwritten.
    pub fn create(
        path: &Path,
        title: &str,
        actor: Actor,
        purpose: &str,
    ) -> Result<Case, StoreError> {
        require_purpose(purpose)?;
        if path.exists() {
            return Err(StoreError::AlreadyExists(path.to_path_buf()));
        }
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| StoreError::Invalid(format!("not a file path: {}", path.display())))?;
        let temp = path.with_file_name(format!(".{file_name}.creating-{}", std::process::id()));
        let _ = std::fs::remove_file(&temp);
        let _writing = error::WritingCase::new(path);
        let built = Self::build_new(&temp, title, &actor, purpose);
        if let Err(e) = built {
            let _ = std::fs::remove_file(&temp);
            return Err(e);
        }
        // A hard link fails if the target exists, so a file that appeared meanwhile is safe.
        let linked = std::fs::hard_link(&temp, path);
        let _ = std::fs::remove_file(&temp);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(StoreError::AlreadyExists(path.to_path_buf()));
            }
            Err(e) => return Err(StoreError::io(path, e)),
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Make the new directory entry durable too.
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        let case = Self::open_inner(path, actor, purpose, false)?;
        case.anchor_head();
        Ok(case)
    }

    fn build_new(temp: &Path, title: &str, actor: &Actor, purpose: &str) -> Result<(), StoreError> {
        let mut conn = Connection::open(temp)?;
        configure(&conn)?;
        conn.pragma_update(None, "application_id", APPLICATION_ID)?;
        let tx = conn.transaction()?;
        schema::migrate(&tx, 0, SCHEMA_VERSION)?;
        let case_id = uuid::Uuid::new_v4().to_string();
        for (key, value) in [
            ("case_id", case_id.as_str()),
            ("title", title),
            ("created_utc", &now_utc()),
            (
                "created_with",
                concat!("copkit ", env!("CARGO_PKG_VERSION")),
            ),
            ("generation", "0"),
            ("default_scheme", "admiralty"),
            ("training", "false"),
        ] {
            meta::set(&tx, key, value)?;
        }
        for scheme in GradingScheme::builtin() {
            tx.execute(
                "INSERT INTO grading_schemes (key, definition) VALUES (?1, ?2)",
                params![scheme.key, serde_json::to_string(&scheme)?],
            )?;
        }
        // The evidence digest starts with the case (its grading schemes are already rows).
        let evidence = digest::start(&tx)?;
        audit::append(
            &tx,
            actor,
            purpose,
            AuditCategory::Collection,
            "create case",
            &json!({"case_id": case_id, "title": title, "schema_version": SCHEMA_VERSION,
                    "evidence": evidence}),
        )?;
        tx.commit()?;
        conn.close().map_err(|(_, e)| e)?;
        Ok(())
    }

    /// Opens a case and records the opening, with its purpose, as a consultation.
    pub fn open(path: &Path, actor: Actor, purpose: &str) -> Result<Case, StoreError> {
        require_purpose(purpose)?;
        Self::open_inner(path, actor, purpose, true).map_err(|e| e.naming_case(path))
    }

    /// Opens a case without writing anything to it yet (used by `audit verify`, which checks
    /// the chain before it records its own consultation). Call
    /// [`Case::record_consultation`] once the check is done.
    pub fn open_unrecorded(path: &Path, actor: Actor, purpose: &str) -> Result<Case, StoreError> {
        require_purpose(purpose)?;
        Self::open_inner(path, actor, purpose, false).map_err(|e| e.naming_case(path))
    }

    fn open_inner(
        path: &Path,
        actor: Actor,
        purpose: &str,
        record: bool,
    ) -> Result<Case, StoreError> {
        let mut journal = path.as_os_str().to_owned();
        journal.push("-journal");
        let hot_journal = std::fs::metadata(&journal).is_ok_and(|m| m.len() > 0);
        if hot_journal && looks_like_sqlite(path) {
            // A writer was interrupted mid-commit: until SQLite rolls the journal back, the
            // main file may be half-written (even its header), so recover before judging it.
            // Rolling back restores the last committed state; it is SQLite's crash recovery.
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            let recovered: rusqlite::Result<i64> =
                conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0));
            if let Err(e) = recovered {
                return Err(StoreError::Corrupt {
                    path: path.to_path_buf(),
                    details: format!("recovery after an interrupted write failed: {e}"),
                    backup_hint: backup_hint(path),
                });
            }
        }
        let facts = check_case_file(path)?;
        let _writing = error::WritingCase::new(path);
        if !hot_journal {
            // Check on a read-only connection first, so that a damaged file is never written.
            let ro = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(|e| StoreError::Corrupt {
                path: path.to_path_buf(),
                details: e.to_string(),
                backup_hint: backup_hint(path),
            })?;
            quick_check(&ro, path)?;
            if record {
                // Refuse before anything is written (indexes, the upgrade, the consultation):
                // a record appended to a log whose end was cut off would hide the cut.
                Self::refuse_mismatched_chain(&ro, path)?;
                Self::refuse_behind_anchor_log(&ro, path)?;
            }
        }
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&conn)?;
        if hot_journal {
            // SQLite rolled back the interrupted transaction when it first read the file
            // (that is its crash recovery); check what is left.
            quick_check(&conn, path)?;
            if record {
                Self::refuse_mismatched_chain(&conn, path)?;
                Self::refuse_behind_anchor_log(&conn, path)?;
            }
        }
        if facts.schema_version < SCHEMA_VERSION {
            Self::migrate_with_backup(&mut conn, path, facts.schema_version, &actor, purpose)?;
        }
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
            read_only: None,
        };
        case.reload_configuration()?;
        if record && case.deferred_indexes()?.is_some() {
            // A run of batches with its indexes dropped (`defer_indexes`) did not finish. Not
            // when opened unrecorded (`audit verify` reads the case before writing anything);
            // reads work without the indexes, only slower.
            tracing::warn!(path = %path.display(), "the case's indexes were dropped by a write that did not finish; building them again");
            case.restore_indexes()?;
        }
        if record {
            // `audit verify` runs on this workstation while the case could not be written.
            if let Err(e) = case.take_in_consultations() {
                tracing::warn!(
                    "consultations recorded on the workstation were not taken into the case: {e}"
                );
            }
            case.record_consultation("open case", json!({}))?;
        }
        Ok(case)
    }

    /// Fails when the audit log's last record is not the one the header names.
    fn refuse_mismatched_chain(conn: &Connection, path: &Path) -> Result<(), StoreError> {
        // A file of an older format than this check knows still has the header keys.
        match audit::check_header(conn)? {
            None => Ok(()),
            Some(details) => Err(StoreError::ChainMismatch {
                path: path.to_path_buf(),
                details,
            }),
        }
    }

    /// Fails when the workstation's anchor log holds a later state of the case (see
    /// `workstation.rs`).
    fn refuse_behind_anchor_log(conn: &Connection, path: &Path) -> Result<(), StoreError> {
        match workstation::behind_anchor_log(conn)? {
            None => Ok(()),
            Some(details) => Err(StoreError::BehindAnchorLog {
                path: path.to_path_buf(),
                details,
            }),
        }
    }

    fn migrate_with_backup(
        conn: &mut Connection,
        path: &Path,
        from: u32,
        actor: &Actor,
        purpose: &str,
    ) -> Result<(), StoreError> {
        let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("case");
        let backup = path.with_file_name(format!("{name}.backup-v{from}-{stamp}"));
        conn.execute("VACUUM INTO ?1", [backup.to_string_lossy()])?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        schema::migrate(&tx, from, SCHEMA_VERSION)?;
        let mut details = json!({"from": from, "to": SCHEMA_VERSION, "backup": backup});
        if from < 6 {
            // Format 6 brought the evidence digest: it starts here, computed from the rows
            // as they are, so changes made to the evidence before the upgrade are not covered.
            details["evidence"] = digest::start(&tx)?;
            details["evidence_digest_starts"] = true.into();
        } else if from < 8 {
            // Format 8 brought the document pages: their digest starts empty, committed here.
            details["evidence"] = digest::start_tables(&tx, &["document_pages"])?;
        }
        audit::append(
            &tx,
            actor,
            purpose,
            AuditCategory::Alteration,
            "upgrade case format",
            &details,
        )?;
        tx.commit()?;
        anchor_after_commit(conn, path);
        tracing::info!(from, to = SCHEMA_VERSION, backup = %backup.display(), "case format upgraded");
        Ok(())
    }

    /// Re-reads what another connection to the same file may have changed (an import job
    /// writes through its own connection): entity types, grading schemes and the generation.
    pub fn reload(&mut self) -> Result<(), StoreError> {
        self.reload_configuration()
    }

    pub(super) fn reload_configuration(&mut self) -> Result<(), StoreError> {
        let mut schema = Schema::default();
        {
            let mut stmt = self
                .conn
                .prepare("SELECT definition FROM entity_types ORDER BY rowid")?;
            let defs = stmt.query_map([], |r| r.get::<_, String>(0))?;
            for def in defs {
                let def: EntityTypeDef = serde_json::from_str(&def?)?;
                schema.add_user_type(def)?;
            }
        }
        let mut schemes = Vec::new();
        {
            let mut stmt = self
                .conn
                .prepare("SELECT definition FROM grading_schemes ORDER BY rowid")?;
            let defs = stmt.query_map([], |r| r.get::<_, String>(0))?;
            for def in defs {
                schemes.push(serde_json::from_str::<GradingScheme>(&def?)?);
            }
        }
        self.schema = schema;
        self.schemes = schemes;
        self.generation = meta::get(&self.conn, "generation")?
            .and_then(|g| g.parse().ok())
            .unwrap_or(0);
        Ok(())
    }
}

/// Creates a case file at an older schema version (for migration tests only).
#[doc(hidden)]
pub fn create_at_version(path: &Path, version: u32, actor: &Actor) -> Result<(), StoreError> {
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "application_id", APPLICATION_ID)?;
    digest::register(&conn)?;
    let tx = conn.transaction()?;
    schema::migrate(&tx, 0, version)?;
    meta::set(&tx, "case_id", &uuid::Uuid::new_v4().to_string())?;
    meta::set(&tx, "title", "old case")?;
    meta::set(&tx, "generation", "0")?;
    meta::set(&tx, "default_scheme", "admiralty")?;
    for scheme in GradingScheme::builtin() {
        tx.execute(
            "INSERT INTO grading_schemes (key, definition) VALUES (?1, ?2)",
            params![scheme.key, serde_json::to_string(&scheme)?],
        )?;
    }
    audit::append(
        &tx,
        actor,
        "test",
        AuditCategory::Collection,
        "create case",
        &if version >= 7 {
            json!({"evidence": digest::start(&tx)?})
        } else if version == 6 {
            let tables: Vec<&str> = digest::evidence_tables()
                .filter(|t| *t != "document_pages")
                .collect();
            json!({"evidence": digest::start_tables(&tx, &tables)?})
        } else {
            json!({})
        },
    )?;
    tx.commit()?;
    Ok(())
}

/// Appends the committed head of the case on `conn` to the workstation's anchor log (see
/// `anchor.rs`). The change is committed whatever happens here; a log that cannot be written
/// is reported as a warning, and `audit verify` will name the records it lacks.
pub(super) fn anchor_after_commit(conn: &Connection, path: &Path) {
    let Some(log) = anchor::workstation().anchor_log else {
        return;
    };
    let result = (|| -> Result<(), StoreError> {
        let get = |k: &str| meta::get(conn, k).map(Option::unwrap_or_default);
        let seq: i64 = get("audit_count")?.parse().unwrap_or(0);
        let signature = meta::get(conn, audit::HEAD_SIGNATURE_KEY)?
            .and_then(|s| serde_json::from_str::<anchor::HeadSignature>(&s).ok())
            .filter(|s| s.seq == seq);
        let file = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        anchor::append(
            &log,
            &anchor::Anchor {
                case_id: get("case_id")?,
                seq,
                head: get("audit_head")?,
                time_utc: now_utc(),
                file: file.display().to_string(),
                signature,
            },
        )
    })();
    if let Err(e) = result {
        tracing::warn!("the audit head was not anchored outside the case: {e}");
    }
}

impl Case {
    /// Anchors the committed head (after every transaction that appended a record).
    pub(super) fn anchor_head(&self) {
        anchor_after_commit(&self.conn, &self.path);
    }
}
