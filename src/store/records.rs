//! What the case keeps beside its evidence, each write in one transaction with its audit
//! record where it has one: header facts, the saved chart, the training mark, ground truth,
//! consultations and disclosures, stored analysis runs; and reading the audit log back (all of
//! it, or one item's history).

use super::*;
use crate::model::ChartSnapshotId;

/// `case_meta` key of the chart the workbench saved ([`Case::save_chart`]).
const CHART_KEY: &str = "chart";

/// One stored analysis run, its parameters and output kept as the JSON the analysis layer
/// wrote (`analysis::stored_runs` reads them back as its own types), so that the store needs
/// nothing of `analysis`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StoredAnalysisRun {
    pub id: i64,
    pub component: String,
    pub params: serde_json::Value,
    pub created_utc: String,
    /// The case generation the run analysed.
    pub generation: u64,
    pub output: serde_json::Value,
}

/// A named snapshot of the chart, without the chart itself (read on restore with
/// [`Case::chart_snapshot`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartSnapshotInfo {
    pub id: ChartSnapshotId,
    pub name: String,
    pub created_utc: String,
    pub analyst: String,
}

/// Every chart snapshot of the case, oldest first.
pub(crate) fn chart_snapshots(conn: &Connection) -> Result<Vec<ChartSnapshotInfo>, StoreError> {
    let mut stmt =
        conn.prepare("SELECT id, name, created_utc, actor FROM chart_snapshots ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        Ok(ChartSnapshotInfo {
            id: ChartSnapshotId(r.get(0)?),
            name: r.get(1)?,
            created_utc: r.get(2)?,
            analyst: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

impl Case {
    /// The chart kept under a snapshot (the workbench's own JSON).
    pub fn chart_snapshot(&self, id: ChartSnapshotId) -> Result<serde_json::Value, StoreError> {
        let chart: String = self
            .conn
            .query_row(
                "SELECT chart FROM chart_snapshots WHERE id = ?1",
                [id.0],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| StoreError::Missing {
                what: "chart snapshot",
                id: id.to_string(),
            })?;
        Ok(serde_json::from_str(&chart)?)
    }

    /// A fact from the case header.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(meta::get(&self.conn, key)?)
    }

    /// The chart the workbench saved with the case (opaque text; the workbench defines it).
    pub fn chart(&self) -> Result<Option<String>, StoreError> {
        self.meta(CHART_KEY)
    }

    /// Saves the analyst's chart with the case, in one transaction. The chart (where each
    /// entity is drawn, what is hidden, pinned or collected) is a view of the evidence, not
    /// evidence: saving it is neither audited nor undoable and leaves the generation alone,
    /// as moving nodes on an i2 chart or a Gephi workspace is not an analysis step.
    pub fn save_chart(&mut self, chart: &str) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        meta::set(&tx, CHART_KEY, chart)?;
        tx.commit()?;
        Ok(())
    }

    /// Whether the case was made by the generator (the workbench shows a training banner).
    pub fn is_training(&self) -> bool {
        matches!(self.meta("training"), Ok(Some(v)) if v == "true")
    }

    /// Marks the case as a training case made by the generator (the workbench shows a
    /// training banner and analysis may relax purpose prompts). Audited as an alteration.
    #[allow(
        clippy::needless_pass_by_value,
        reason = "audit details are built for the call (json!) and handed over"
    )]
    pub fn mark_training(&mut self, details: serde_json::Value) -> Result<(), StoreError> {
        let _writing = error::WritingCase::new(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        meta::set(&tx, "training", "true")?;
        audit::append(
            &tx,
            &self.actor,
            &self.purpose,
            AuditCategory::Alteration,
            "mark training case",
            &details,
        )?;
        tx.commit()?;
        self.anchor_head();
        Ok(())
    }

    /// Stores one piece of ground truth (JSON) under `key`, apart from the evidence: analysis
    /// never reads this table, only scoring and `copkit truth` do. The write and its audit
    /// record commit together.
    pub fn set_ground_truth(
        &mut self,
        key: &str,
        value: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let text = serde_json::to_string(value)?;
        let _writing = error::WritingCase::new(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO ground_truth (key, value) VALUES (?1, ?2) \
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, text],
        )?;
        audit::append(
            &tx,
            &self.actor,
            &self.purpose,
            AuditCategory::Collection,
            "record ground truth",
            &json!({"key": key, "bytes": text.len()}),
        )?;
        tx.commit()?;
        self.anchor_head();
        Ok(())
    }

    /// One piece of ground truth, if the case has it.
    pub fn ground_truth(&self, key: &str) -> Result<Option<serde_json::Value>, StoreError> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM ground_truth WHERE key = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()?;
        Ok(match text {
            Some(t) => Some(serde_json::from_str(&t)?),
            None => None,
        })
    }

    /// The keys of all stored ground truth, sorted.
    pub fn ground_truth_keys(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT key FROM ground_truth ORDER BY key")?;
        let keys = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(keys)
    }

    /// Writes an audit record that changes no evidence: a consultation (a search, an analysis
    /// run) or a disclosure (an export).
    #[allow(
        clippy::needless_pass_by_value,
        reason = "audit details are built for the call (json!) and handed over"
    )]
    pub fn record(
        &mut self,
        category: AuditCategory,
        action: &str,
        details: serde_json::Value,
    ) -> Result<AuditRecord, StoreError> {
        self.require_writable()?;
        let _writing = error::WritingCase::new(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let record = audit::append(&tx, &self.actor, &self.purpose, category, action, &details)?;
        tx.commit()?;
        self.anchor_head();
        Ok(record)
    }

    /// Records a consultation (opening, searching, analysing).
    pub fn record_consultation(
        &mut self,
        action: &str,
        details: serde_json::Value,
    ) -> Result<AuditRecord, StoreError> {
        self.record(AuditCategory::Consultation, action, details)
    }

    /// Stores the result of an analysis run (component, parameters, output, at the current
    /// generation) together with its audit record (a consultation naming the component and
    /// its parameters), in one transaction. Returns the run's id.
    pub fn store_analysis_run(
        &mut self,
        component: &str,
        params: &serde_json::Value,
        output: &impl Serialize,
    ) -> Result<i64, StoreError> {
        let params_json = serde_json::to_string(params)?;
        let output_json = serde_json::to_string(output)?;
        let _writing = error::WritingCase::new(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO analysis_runs (component, params, created_utc, generation, output) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                component,
                params_json,
                now_utc(),
                self.generation as i64,
                output_json
            ],
        )?;
        let id = tx.last_insert_rowid();
        audit::append(
            &tx,
            &self.actor,
            &self.purpose,
            AuditCategory::Consultation,
            "analysis run",
            &json!({"run_id": id, "component": component, "params": params, "generation": self.generation}),
        )?;
        tx.commit()?;
        self.anchor_head();
        Ok(id)
    }

    /// Every stored analysis run, oldest first.
    pub fn analysis_runs(&self) -> Result<Vec<StoredAnalysisRun>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, component, params, created_utc, generation, output FROM analysis_runs \
             ORDER BY id",
        )?;
        let mut rows = stmt.query([])?;
        let mut runs = Vec::new();
        while let Some(r) = rows.next()? {
            let params: String = r.get(2)?;
            let output: String = r.get(5)?;
            runs.push(StoredAnalysisRun {
                id: r.get(0)?,
                component: r.get(1)?,
                params: serde_json::from_str(&params)?,
                created_utc: r.get(3)?,
                generation: r.get::<_, i64>(4)? as u64,
                output: serde_json::from_str(&output)?,
            });
        }
        Ok(runs)
    }

    /// Checks the audit chain.
    pub fn verify_audit(&self) -> Result<ChainCheck, StoreError> {
        audit::verify(&self.conn)
    }

    /// Every audit record, oldest first.
    pub fn audit_records(&self) -> Result<Vec<AuditRecord>, StoreError> {
        audit::read_all(&self.conn)
    }

    /// The audit records that concern one item, oldest first: its creation, edits, grading,
    /// merges and splits, and undo/redo of those.
    pub fn audit_history(&self, item: ItemRef) -> Result<Vec<AuditRecord>, StoreError> {
        let records = audit::read_all(&self.conn)?;
        // The import that brought the item in names its batch, not each item.
        let table = match item {
            ItemRef::Entity(_) => "entities",
            ItemRef::Link(_) => "links",
            ItemRef::Event(_) => "events",
        };
        let batch: Option<i64> = self
            .conn
            .query_row(
                &format!("SELECT prov_batch FROM {table} WHERE id = ?1"),
                [item.raw()],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        let mut concerned: Vec<AuditRecord> = Vec::new();
        let mut seqs = std::collections::HashSet::new();
        for record in records {
            let Ok(details) = serde_json::from_str::<serde_json::Value>(&record.details) else {
                continue;
            };
            let batch_id = details
                .get("batch_id")
                .or_else(|| details.get("result").and_then(|r| r.get("batch_id")))
                .and_then(serde_json::Value::as_i64);
            let about_it = mentions(&details, item)
                || (batch.is_some() && batch_id == batch && record.action == "import batch")
                || details
                    .get("of_audit_record")
                    .and_then(serde_json::Value::as_i64)
                    .is_some_and(|seq| seqs.contains(&seq));
            if about_it {
                seqs.insert(record.seq);
                concerned.push(record);
            }
        }
        Ok(concerned)
    }

    /// The result of `PRAGMA integrity_check` ("ok" when the file is sound).
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let lines: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(lines.join("; "))
    }

    /// Writes a consistent copy of the case with SQLite's `VACUUM INTO` (never a file copy of
    /// an open case). Refuses to overwrite anything.
    pub fn backup_to(&self, dest: &Path) -> Result<(), StoreError> {
        if dest.exists() {
            return Err(StoreError::AlreadyExists(dest.to_path_buf()));
        }
        self.conn
            .execute("VACUUM INTO ?1", [dest.to_string_lossy()])?;
        Ok(())
    }
}

/// Whether an audit record's details name an item: as `{"kind": .., "id": ..}` anywhere, or in
/// the id fields of the commands that take bare entity ids.
fn mentions(details: &serde_json::Value, item: ItemRef) -> bool {
    mentions_any(details, &|named| named == item)
}

/// Whether an audit record's details name any item `wanted` accepts (the same reading as
/// [`mentions`], for many items at once: a purge asks it of every record).
pub(super) fn mentions_any(details: &serde_json::Value, wanted: &dyn Fn(ItemRef) -> bool) -> bool {
    use crate::model::{EntityId, EventId, LinkId};
    use serde_json::Value;
    fn walk(v: &Value, wanted: &dyn Fn(ItemRef) -> bool) -> bool {
        match v {
            Value::Object(map) => {
                let id = map.get("id").and_then(Value::as_i64);
                let tagged = match (map.get("kind").and_then(Value::as_str), id) {
                    (Some("entity"), Some(id)) => wanted(ItemRef::Entity(EntityId(id))),
                    (Some("link"), Some(id)) => wanted(ItemRef::Link(LinkId(id))),
                    (Some("event"), Some(id)) => wanted(ItemRef::Event(EventId(id))),
                    _ => false,
                };
                tagged || map.values().any(|x| walk(x, wanted))
            }
            Value::Array(items) => items.iter().any(|x| walk(x, wanted)),
            _ => false,
        }
    }
    if walk(details, wanted) {
        return true;
    }
    let command = details.get("command").and_then(Value::as_str).unwrap_or("");
    let (fields, make): (&[&str], fn(i64) -> ItemRef) = match command {
        "edit_entity" => (&["id"], |id| ItemRef::Entity(EntityId(id))),
        "set_category" => (&["ids"], |id| ItemRef::Entity(EntityId(id))),
        "merge" => (&["keep", "absorb"], |id| ItemRef::Entity(EntityId(id))),
        "split" => (&["keep", "absorbed"], |id| ItemRef::Entity(EntityId(id))),
        "edit_link" => (&["id"], |id| ItemRef::Link(LinkId(id))),
        _ => return false,
    };
    fields.iter().any(|f| match details.get(*f) {
        Some(Value::Number(n)) => n.as_i64().is_some_and(|id| wanted(make(id))),
        Some(Value::Array(a)) => a
            .iter()
            .any(|x| x.as_i64().is_some_and(|id| wanted(make(id)))),
        _ => false,
    })
}
