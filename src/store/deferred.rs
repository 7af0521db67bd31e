//! Deferred indexes for a run of large batches into a new case (the generator's): drop the
//! secondary indexes of the evidence tables, write, then build them once by sorting.

use super::*;

/// `case_meta` key listing the indexes [`Case::defer_indexes`] dropped (JSON [name, SQL] pairs).
const DEFERRED_INDEXES_KEY: &str = "deferred_indexes";

impl Case {
    /// Drops the secondary indexes of the evidence tables for a run of large batches into a
    /// new case (the generator's), so that each batch appends rows and
    /// [`Case::restore_indexes`] builds every index once, by sorting, at the end. Without
    /// this, a batch that follows a larger one keeps indexes of millions of rows up to date
    /// row by row (BENCHMARKS.md: most of a large generation). The identifier index stays:
    /// writers look entities up by it.
    ///
    /// The dropped indexes are listed in the case header in the same transaction, and
    /// opening a case whose restore never ran (a crash) builds them then ([`Case::open`], not
    /// [`Case::open_unrecorded`]). Reads stay correct meanwhile, only slower. Not audited: no
    /// evidence changes.
    pub fn defer_indexes(&mut self) -> Result<(), StoreError> {
        if self.deferred_indexes()?.is_some() {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let indexes = bulk::drop_evidence_indexes(&tx, bulk::KEEP_IDENTIFIER_INDEX)?;
        meta::set(
            &tx,
            DEFERRED_INDEXES_KEY,
            &serde_json::to_string(&indexes).map_err(StoreError::from)?,
        )?;
        tx.commit()?;
        tracing::debug!(
            indexes = indexes.len(),
            "case indexes dropped until restored"
        );
        Ok(())
    }

    /// Builds the indexes [`Case::defer_indexes`] dropped, in one transaction; nothing to do
    /// when none are dropped.
    pub fn restore_indexes(&mut self) -> Result<(), StoreError> {
        let Some(indexes) = self.deferred_indexes()? else {
            return Ok(());
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        bulk::create_indexes(&tx, &indexes)?;
        tx.execute(
            "DELETE FROM case_meta WHERE key = ?1",
            [DEFERRED_INDEXES_KEY],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The indexes dropped by [`Case::defer_indexes`] and not yet restored: (name, SQL).
    pub(super) fn deferred_indexes(&self) -> Result<Option<Vec<(String, String)>>, StoreError> {
        match meta::get(&self.conn, DEFERRED_INDEXES_KEY)? {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| StoreError::Invalid(format!(
                    "the case header lists dropped indexes that cannot be read ({e}); the case needs repair"
                ))),
        }
    }
}
