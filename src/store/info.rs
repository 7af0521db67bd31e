//! The summary of a case that `copkit info` prints and the workbench shows: counts by type,
//! batches, grading schemes, the audit head, the format version.

use super::*;

/// One import batch as `copkit info` lists it.
#[derive(Clone, Debug, Serialize)]
pub struct BatchInfo {
    pub id: i64,
    pub kind: String,
    pub description: String,
    pub source_path: Option<String>,
    pub source_sha256: Option<String>,
    pub created_utc: String,
    pub actor: String,
    pub counts: Option<serde_json::Value>,
}

/// A summary of a case, for `copkit info` and the workbench's case panel.
#[derive(Clone, Debug, Serialize)]
pub struct CaseInfo {
    pub path: PathBuf,
    pub case_id: String,
    pub title: String,
    pub created_utc: String,
    pub schema_version: u32,
    pub file_bytes: u64,
    pub generation: u64,
    pub training: bool,
    pub entities_by_type: Vec<(String, i64)>,
    pub links_by_type: Vec<(String, i64)>,
    pub events_by_type: Vec<(String, i64)>,
    pub batches: Vec<BatchInfo>,
    pub grading_schemes: Vec<(String, String)>,
    pub default_scheme: String,
    pub audit_head: String,
    pub audit_records: i64,
    pub undo_steps: i64,
}

impl Case {
    /// A summary for `copkit info`.
    pub fn info(&self) -> Result<CaseInfo, StoreError> {
        let counts = |sql: &str| -> Result<Vec<(String, i64)>, StoreError> {
            let mut stmt = self.conn.prepare(sql)?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        };
        let mut batches = Vec::new();
        {
            let mut stmt = self.conn.prepare(
                "SELECT id, kind, description, source_path, source_sha256, created_utc, actor, counts \
                 FROM batches ORDER BY id",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let counts: Option<String> = r.get(7)?;
                batches.push(BatchInfo {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    description: r.get(2)?,
                    source_path: r.get(3)?,
                    source_sha256: r.get(4)?,
                    created_utc: r.get(5)?,
                    actor: r.get(6)?,
                    counts: counts.and_then(|c| serde_json::from_str(&c).ok()),
                });
            }
        }
        let schema_version: u32 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        Ok(CaseInfo {
            path: self.path.clone(),
            case_id: self.meta("case_id")?.unwrap_or_default(),
            title: self.meta("title")?.unwrap_or_default(),
            created_utc: self.meta("created_utc")?.unwrap_or_default(),
            schema_version,
            file_bytes: std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0),
            generation: self.generation,
            training: self.is_training(),
            entities_by_type: counts(
                "SELECT type, COUNT(*) FROM entities GROUP BY type ORDER BY type",
            )?,
            links_by_type: counts("SELECT type, COUNT(*) FROM links GROUP BY type ORDER BY type")?,
            events_by_type: counts(
                "SELECT type, COUNT(*) FROM events GROUP BY type ORDER BY type",
            )?,
            batches,
            grading_schemes: self
                .schemes
                .iter()
                .map(|s| (s.key.clone(), s.name.clone()))
                .collect(),
            default_scheme: self.meta("default_scheme")?.unwrap_or_default(),
            audit_head: self.meta("audit_head")?.unwrap_or_default(),
            audit_records: self
                .meta("audit_count")?
                .and_then(|c| c.parse().ok())
                .unwrap_or(0),
            undo_steps: self.conn.query_row(
                "SELECT COUNT(*) FROM undo_log WHERE undone = 0",
                [],
                |r| r.get(0),
            )?,
        })
    }
}
