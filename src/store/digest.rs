//! The evidence digest: a running digest of the content of every evidence table, kept so that
//! `audit verify` can tell whether the evidence is still what the audit log says it is.
//!
//! Each row is hashed (BLAKE3 over a canonical encoding of the table name and every column
//! value), and a table's digest combines its rows' hashes *order-independently*, so that a
//! command changing three rows updates it from those three rows alone, and `audit verify`
//! recomputes it in one scan of the table. Two combinations are kept per table:
//!
//! - **The lattice sum** (LtHash, Bellare–Micciancio's additive hash as Facebook's LtHash16
//!   instantiates it): each row hash is stretched into 1024 lanes of 16 bits, added lane by
//!   lane. The stretch is ChaCha12 keyed by the row hash (a stream cipher as the XOF): with
//!   AVX2 it is about five times faster than BLAKE3's XOF, whose many-block path needs
//!   AVX-512, and it was most of the digest's cost on a million-row import. A sum of 256-bit hashes would be small, but finding rows whose sum
//!   hits a chosen value is easy for such a sum (Wagner's generalised birthday attack); for the
//!   lattice sum it is a lattice problem believed to need about 2^200 work.
//! - **The locator** (not a security measure): the sum of the first 128 bits of each row hash,
//!   and the sum of those weighted by the row's id, mod 2^128. When exactly one row differs
//!   from what was recorded, weighted difference / difference = that row's id, so verify
//!   names the row and not only the table.
//!
//! A table's *commitment* (SHA-256 over its row count, lattice sum and locator) is what goes
//! into the audit record of every transaction that changed the table, so the chain covers the
//! evidence: changing a row without a record, then fixing the stored digest, still disagrees
//! with the last record that names the table. The stored per-table states (`evidence_digest`)
//! only spare a full scan on each command.
//!
//! Rows changed by commands are captured by the undo triggers (`undo.rs` adds a statement that
//! calls [`ROW_HASH_FUNCTION`] for each evidence table); rows of an import batch are folded in
//! one scan of the new id range after the batch is written (the bulk writer stays as it is);
//! rows moved out and in by the undo or redo of a batch are folded from the shadow tables.

use super::error::StoreError;
use super::schema::UNDOABLE_TABLES;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The SQL function `copkit_row_hash(table, v1, …, vn)`: the 32-byte BLAKE3 hash of a row.
pub(crate) const ROW_HASH_FUNCTION: &str = "copkit_row_hash";

/// Lanes of the lattice sum (LtHash16's parameters: 1024 lanes of 16 bits, 2 KiB), added four
/// at a time in 64-bit words.
const LANES: usize = 1024;
const WORDS: usize = LANES / 4;
/// The top bit of each 16-bit lane of a word: masked out so that no carry crosses lanes.
const HIGH: u64 = 0x8000_8000_8000_8000;

/// Adds four 16-bit lanes at once, each wrapping.
fn add_lanes(a: u64, b: u64) -> u64 {
    ((a & !HIGH) + (b & !HIGH)) ^ ((a ^ b) & HIGH)
}

/// Subtracts four 16-bit lanes at once, each wrapping.
fn sub_lanes(a: u64, b: u64) -> u64 {
    ((a | HIGH) - (b & !HIGH)) ^ ((a ^ !b) & HIGH)
}

/// The key of the row hash (BLAKE3 keyed mode), derived once.
fn row_key() -> &'static [u8; 32] {
    static KEY: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
    KEY.get_or_init(|| blake3::derive_key("copkit evidence row v1", &[]))
}

/// The tables whose content the digest covers: everything an analyst or an import puts into
/// the case and undo can take back. Analysis runs are outside: they are derived results,
/// written with their own consultation record, and computed again from the evidence.
pub fn evidence_tables() -> impl Iterator<Item = &'static str> {
    UNDOABLE_TABLES
        .iter()
        .copied()
        .filter(|t| *t != "analysis_runs")
}

/// Whether a table is covered by the digest.
pub(crate) fn is_evidence(table: &str) -> bool {
    evidence_tables().any(|t| t == table)
}

/// Registers [`ROW_HASH_FUNCTION`] on a connection (every connection that writes a case).
pub(crate) fn register(conn: &Connection) -> Result<(), StoreError> {
    conn.create_scalar_function(
        ROW_HASH_FUNCTION,
        -1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            // The row's encoding is gathered first and hashed in one call: BLAKE3 pays a
            // fixed cost per `update`, and a row is a dozen small values (a tenth of a large
            // import's CPU went to those calls). The bytes hashed are the same.
            thread_local! {
                static ROW: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
            }
            ROW.with_borrow_mut(|row| {
                row.clear();
                for i in 0..ctx.len() {
                    encode_value(row, ctx.get_raw(i));
                }
                let mut hasher = blake3::Hasher::new_keyed(row_key());
                hasher.update(row);
                Ok(hasher.finalize().as_bytes().to_vec())
            })
        },
    )?;
    Ok(())
}

/// A canonical, unambiguous encoding of one SQL value: a type tag, then a length where the
/// value's size varies, then its bytes.
fn encode_value(out: &mut Vec<u8>, value: ValueRef<'_>) {
    match value {
        ValueRef::Null => out.push(0),
        ValueRef::Integer(i) => {
            out.push(1);
            out.extend_from_slice(&i.to_le_bytes());
        }
        ValueRef::Real(r) => {
            out.push(2);
            out.extend_from_slice(&r.to_bits().to_le_bytes());
        }
        ValueRef::Text(t) => {
            out.push(3);
            out.extend_from_slice(&(t.len() as u64).to_le_bytes());
            out.extend_from_slice(t);
        }
        ValueRef::Blob(b) => {
            out.push(4);
            out.extend_from_slice(&(b.len() as u64).to_le_bytes());
            out.extend_from_slice(b);
        }
    }
}

/// The digest of one table's rows.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct TableDigest {
    /// Rows added minus rows removed.
    pub rows: i64,
    lattice: Box<[u64; WORDS]>,
    /// Sum of the rows' 128-bit hash prefixes.
    locator_sum: u128,
    /// Sum of those weighted by the row's id.
    locator_weighted: u128,
}

impl std::fmt::Debug for TableDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableDigest")
            .field("rows", &self.rows)
            .field("commitment", &self.commitment("?"))
            .finish()
    }
}

impl Default for TableDigest {
    fn default() -> Self {
        TableDigest {
            rows: 0,
            lattice: Box::new([0; WORDS]),
            locator_sum: 0,
            locator_weighted: 0,
        }
    }
}

impl TableDigest {
    /// Adds (`sign` 1) or removes (-1) one row, given its id (0 where the table has none that
    /// survives a VACUUM) and its row hash.
    pub(crate) fn fold(&mut self, sign: i64, id: i64, row_hash: &[u8]) {
        use rand::{Rng, SeedableRng};
        let mut seed = [0u8; 32];
        let n = row_hash.len().min(32);
        seed[..n].copy_from_slice(&row_hash[..n]);
        let mut bytes = [0u8; LANES * 2];
        rand_chacha::ChaCha12Rng::from_seed(seed).fill_bytes(&mut bytes);
        let mut prefix = [0u8; 16];
        let n = row_hash.len().min(16);
        prefix[..n].copy_from_slice(&row_hash[..n]);
        let h = u128::from_le_bytes(prefix);
        let weighted = h.wrapping_mul(id as u128);
        // Two slice iterators zipped (not a mapped one), so that the loop compiles to plain
        // indexed code: the mapped form was a fifth of a generated case's import time.
        let (words, _) = bytes.as_chunks::<8>();
        if sign >= 0 {
            for (word, add) in self.lattice.iter_mut().zip(words) {
                *word = add_lanes(*word, u64::from_le_bytes(*add));
            }
            self.locator_sum = self.locator_sum.wrapping_add(h);
            self.locator_weighted = self.locator_weighted.wrapping_add(weighted);
            self.rows += 1;
        } else {
            for (word, sub) in self.lattice.iter_mut().zip(words) {
                *word = sub_lanes(*word, u64::from_le_bytes(*sub));
            }
            self.locator_sum = self.locator_sum.wrapping_sub(h);
            self.locator_weighted = self.locator_weighted.wrapping_sub(weighted);
            self.rows -= 1;
        }
    }

    /// Adds another digest (of more rows, or of a change: rows added and removed).
    pub(crate) fn add(&mut self, other: &TableDigest) {
        for (a, b) in self.lattice.iter_mut().zip(other.lattice.iter()) {
            *a = add_lanes(*a, *b);
        }
        self.locator_sum = self.locator_sum.wrapping_add(other.locator_sum);
        self.locator_weighted = self.locator_weighted.wrapping_add(other.locator_weighted);
        self.rows += other.rows;
    }

    fn lattice_bytes(&self) -> Vec<u8> {
        self.lattice.iter().flat_map(|l| l.to_le_bytes()).collect()
    }

    fn locator_bytes(&self) -> Vec<u8> {
        let mut out = self.locator_sum.to_le_bytes().to_vec();
        out.extend_from_slice(&self.locator_weighted.to_le_bytes());
        out
    }

    /// What the audit record carries for the table: `ROWS:SHA256` over the table's name, its
    /// row count, the lattice sum and the locator.
    pub(crate) fn commitment(&self, table: &str) -> String {
        let mut h = Sha256::new();
        h.update(b"copkit evidence commitment v1\0");
        h.update(table.as_bytes());
        h.update([0]);
        h.update(self.rows.to_le_bytes());
        h.update(self.lattice_bytes());
        h.update(self.locator_bytes());
        format!("{}:{}", self.rows, hex::encode(h.finalize()))
    }

    fn from_stored(rows: i64, lattice: &[u8], locator: &[u8]) -> Option<TableDigest> {
        if lattice.len() != LANES * 2 || locator.len() != 32 {
            return None;
        }
        let mut d = TableDigest {
            rows,
            ..TableDigest::default()
        };
        for (word, w) in d.lattice.iter_mut().zip(lattice.chunks_exact(8)) {
            *word = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        }
        d.locator_sum = u128::from_le_bytes(locator[..16].try_into().ok()?);
        d.locator_weighted = u128::from_le_bytes(locator[16..].try_into().ok()?);
        Some(d)
    }

    /// The id of the one row in which `self` (recomputed) differs from `recorded`, when
    /// exactly one row was changed, added or removed; `None` when the difference is not that
    /// of a single row.
    pub(crate) fn locate_single_row(&self, recorded: &TableDigest) -> Option<i64> {
        let d_sum = self.locator_sum.wrapping_sub(recorded.locator_sum);
        let d_weighted = self
            .locator_weighted
            .wrapping_sub(recorded.locator_weighted);
        if d_sum == 0 {
            return None;
        }
        // d_weighted = id × d_sum (mod 2^128): divide, in the ring of integers mod 2^128.
        let k = d_sum.trailing_zeros();
        if k > 32 || d_weighted.trailing_zeros() < k {
            return None;
        }
        let odd = d_sum >> k;
        let id = ((d_weighted >> k).wrapping_mul(inverse_of_odd(odd))) & (u128::MAX >> k);
        i64::try_from(id).ok().filter(|&id| id > 0)
    }
}

/// The inverse of an odd number mod 2^128 (Newton's iteration doubles the correct bits).
fn inverse_of_odd(a: u128) -> u128 {
    let mut x = a; // correct to 3 bits for odd a
    for _ in 0..7 {
        x = x.wrapping_mul(2u128.wrapping_sub(a.wrapping_mul(x)));
    }
    x
}

/// A change to several tables' digests (rows added and removed).
pub(crate) type Delta = BTreeMap<String, TableDigest>;

/// How a table's rows are named in the digest: the id that weighs a row in the locator, and
/// the columns hashed. Tables keyed by text (grading schemes, entity types) weigh every row 0:
/// their implicit rowid may change in a VACUUM (a backup), so it is not part of the digest.
pub(crate) struct TableShape {
    pub id_column: Option<String>,
    pub columns: Vec<String>,
}

pub(crate) fn shape(conn: &Connection, table: &str) -> Result<TableShape, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT name, upper(type), pk FROM pragma_table_info('{table}') ORDER BY cid"
    ))?;
    let info = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    if info.is_empty() {
        return Err(StoreError::Invalid(format!(
            "the case has no table '{table}'; the file is not a complete case"
        )));
    }
    let keys: Vec<_> = info.iter().filter(|c| c.2 > 0).collect();
    let id_column = (keys.len() == 1 && keys[0].1 == "INTEGER").then(|| keys[0].0.clone());
    Ok(TableShape {
        id_column,
        columns: info.into_iter().map(|c| c.0).collect(),
    })
}

impl TableShape {
    /// `copkit_row_hash('table', ROW."a", ROW."b", …)` for a row named `row` (`NEW`, `OLD`, or
    /// empty for a plain SELECT).
    pub(crate) fn hash_expr(&self, table: &str, row: &str) -> String {
        let prefix = if row.is_empty() {
            String::new()
        } else {
            format!("{row}.")
        };
        let cols: Vec<String> = self
            .columns
            .iter()
            .map(|c| format!("{prefix}\"{c}\""))
            .collect();
        format!("{ROW_HASH_FUNCTION}('{table}', {})", cols.join(", "))
    }

    /// The SQL of a row's locator weight.
    pub(crate) fn id_expr(&self, row: &str) -> String {
        match &self.id_column {
            Some(c) if row.is_empty() => format!("\"{c}\""),
            Some(c) => format!("{row}.\"{c}\""),
            None => "0".into(),
        }
    }
}

/// Folds the rows that `from_where` (`FROM x WHERE …`, reading a table with `table`'s columns)
/// selects into `into`, with `sign`.
pub(crate) fn fold_rows(
    conn: &Connection,
    table: &str,
    from_where: &str,
    args: impl rusqlite::Params,
    sign: i64,
    into: &mut TableDigest,
) -> Result<(), StoreError> {
    let shape = shape(conn, table)?;
    let sql = format!(
        "SELECT {}, {} {from_where}",
        shape.id_expr(""),
        shape.hash_expr(table, "")
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(args)?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let hash = r.get_ref(1)?;
        let hash = hash
            .as_blob()
            .map_err(|e| StoreError::Decode(format!("a row hash of table {table}: {e}")))?;
        into.fold(sign, id, hash);
    }
    Ok(())
}

/// Rows sent to a [`BackgroundFold`] at a time.
const FOLD_CHUNK: usize = 4096;
/// Chunks in flight to the worker: a few tens of MB at most (128 × 4096 rows of a few hundred
/// bytes), so that a batch of any size folds in bounded memory.
const FOLD_CHUNKS_IN_FLIGHT: usize = 128;

/// Rows of one table to fold, encoded as the row hash encodes them (the table name, then
/// every column): the table, the sign, the encodings one after another, and each row's id and
/// the end of its encoding.
struct FoldChunk {
    table: String,
    sign: i64,
    bytes: Vec<u8>,
    rows: Vec<(i64, usize)>,
}

/// Folds rows into a digest on a worker thread, so that hashing each row (BLAKE3) and the
/// lattice sum (the stretch of every row hash into 2 KiB) run beside what the connection does
/// next: an import batch builds its indexes again meanwhile (BENCHMARKS.md, issue 18). The
/// connection stays on the caller's thread: [`BackgroundFold::send_rows`] reads the rows there
/// and hands over their encodings, the very bytes `copkit_row_hash` hashes, so the digest is
/// the one [`fold_rows`] gives (the sum is order-independent).
pub(crate) struct BackgroundFold {
    sender: Option<std::sync::mpsc::SyncSender<FoldChunk>>,
    worker: Option<std::thread::JoinHandle<Delta>>,
}

impl BackgroundFold {
    pub(crate) fn start() -> Result<BackgroundFold, StoreError> {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<FoldChunk>(FOLD_CHUNKS_IN_FLIGHT);
        let worker = std::thread::Builder::new()
            .name("copkit-digest".into())
            .spawn(move || {
                let mut delta = Delta::new();
                for chunk in receiver {
                    let into = delta.entry(chunk.table).or_default();
                    let mut from = 0;
                    for (id, to) in chunk.rows {
                        let mut hasher = blake3::Hasher::new_keyed(row_key());
                        hasher.update(&chunk.bytes[from..to]);
                        into.fold(chunk.sign, id, hasher.finalize().as_bytes());
                        from = to;
                    }
                }
                delta
            })
            .map_err(|e| {
                StoreError::Invalid(format!(
                    "could not start the digest's worker thread ({e}); free some memory or \
                     processes and try again"
                ))
            })?;
        Ok(BackgroundFold {
            sender: Some(sender),
            worker: Some(worker),
        })
    }

    /// Reads the rows that `from_where` selects (as [`fold_rows`] does) and hands their
    /// encodings to the worker, waiting only when it is far behind.
    pub(crate) fn send_rows(
        &mut self,
        conn: &Connection,
        table: &str,
        from_where: &str,
        args: impl rusqlite::Params,
        sign: i64,
    ) -> Result<(), StoreError> {
        let shape = shape(conn, table)?;
        let columns: Vec<String> = shape.columns.iter().map(|c| format!("\"{c}\"")).collect();
        let sql = format!(
            "SELECT {}, {} {from_where}",
            shape.id_expr(""),
            columns.join(", ")
        );
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query(args)?;
        let new_chunk = || FoldChunk {
            table: table.to_string(),
            sign,
            bytes: Vec::new(),
            rows: Vec::with_capacity(FOLD_CHUNK),
        };
        let mut chunk = new_chunk();
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            // As `copkit_row_hash('table', columns…)` encodes its arguments.
            encode_value(&mut chunk.bytes, ValueRef::Text(table.as_bytes()));
            for i in 0..columns.len() {
                encode_value(&mut chunk.bytes, r.get_ref(i + 1)?);
            }
            chunk.rows.push((id, chunk.bytes.len()));
            if chunk.rows.len() == FOLD_CHUNK {
                self.send(std::mem::replace(&mut chunk, new_chunk()))?;
            }
        }
        if !chunk.rows.is_empty() {
            self.send(chunk)?;
        }
        Ok(())
    }

    fn send(&self, chunk: FoldChunk) -> Result<(), StoreError> {
        let gone =
            || StoreError::Invalid("internal error: the digest's worker thread stopped".into());
        self.sender
            .as_ref()
            .ok_or_else(gone)?
            .send(chunk)
            .map_err(|_| gone())
    }

    /// Waits for the worker and returns the digest of every row sent.
    pub(crate) fn finish(mut self) -> Result<Delta, StoreError> {
        drop(self.sender.take());
        self.worker
            .take()
            .ok_or_else(|| {
                StoreError::Invalid("internal error: the digest was finished twice".into())
            })?
            .join()
            .map_err(|_| {
                StoreError::Invalid("internal error: the digest's worker thread failed".into())
            })
    }
}

impl Drop for BackgroundFold {
    /// A batch that fails half-way: the worker ends once its channel closes.
    fn drop(&mut self) {
        drop(self.sender.take());
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

/// The digest of a whole table, computed from its rows.
pub(crate) fn compute_table(conn: &Connection, table: &str) -> Result<TableDigest, StoreError> {
    let mut d = TableDigest::default();
    fold_rows(
        conn,
        table,
        &format!("FROM main.\"{table}\""),
        [],
        1,
        &mut d,
    )?;
    Ok(d)
}

/// The digests of every evidence table, computed from the rows.
pub(crate) fn compute_all(conn: &Connection) -> Result<Delta, StoreError> {
    evidence_tables()
        .map(|t| Ok((t.to_string(), compute_table(conn, t)?)))
        .collect()
}

/// The stored state of one table, if the case has one.
pub(crate) fn stored(conn: &Connection, table: &str) -> Result<Option<TableDigest>, StoreError> {
    let row: Option<(i64, Vec<u8>, Vec<u8>)> = conn
        .query_row(
            "SELECT rows, lattice, locator FROM evidence_digest WHERE tbl = ?1",
            [table],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    match row {
        None => Ok(None),
        Some((rows, lattice, locator)) => TableDigest::from_stored(rows, &lattice, &locator)
            .map(Some)
            .ok_or_else(|| {
                StoreError::Decode(format!("the stored evidence digest of table {table}"))
            }),
    }
}

fn store(conn: &Connection, table: &str, d: &TableDigest) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO evidence_digest (tbl, rows, lattice, locator) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT(tbl) DO UPDATE SET rows = excluded.rows, lattice = excluded.lattice, \
         locator = excluded.locator",
        params![table, d.rows, d.lattice_bytes(), d.locator_bytes()],
    )?;
    Ok(())
}

/// Stores the full digests of every evidence table (a new case, or the upgrade that starts
/// the digest), returning the commitments for the audit record.
pub(crate) fn start(conn: &Connection) -> Result<serde_json::Value, StoreError> {
    let all = compute_all(conn)?;
    let mut out = serde_json::Map::new();
    for (table, d) in &all {
        store(conn, table, d)?;
        out.insert(table.clone(), d.commitment(table).into());
    }
    Ok(serde_json::Value::Object(out))
}

/// Stores the full digests of some evidence tables (those a format upgrade added to a case
/// whose digest had already started), returning their commitments for the upgrade's record.
pub(crate) fn start_tables(
    conn: &Connection,
    tables: &[&str],
) -> Result<serde_json::Value, StoreError> {
    let mut out = serde_json::Map::new();
    for table in tables {
        let d = compute_table(conn, table)?;
        store(conn, table, &d)?;
        out.insert((*table).to_string(), d.commitment(table).into());
    }
    Ok(serde_json::Value::Object(out))
}

/// Applies a change to the stored digests, returning the commitments of the tables it
/// touched, for the transaction's audit record (`None` when it touched none).
pub(crate) fn apply(
    conn: &Connection,
    delta: &Delta,
) -> Result<Option<serde_json::Value>, StoreError> {
    let mut out = serde_json::Map::new();
    for (table, change) in delta {
        if change.rows == 0 && change == &TableDigest::default() {
            continue;
        }
        let mut d = stored(conn, table)?.ok_or_else(|| {
            StoreError::Invalid(format!(
                "the case has no evidence digest of table {table}; open it with this COPKIT \
                 so that its format is upgraded"
            ))
        })?;
        d.add(change);
        store(conn, table, &d)?;
        out.insert(table.clone(), d.commitment(table).into());
    }
    Ok((!out.is_empty()).then_some(serde_json::Value::Object(out)))
}

/// The SQL that creates the capture table of the digest triggers (see `undo.rs`).
pub(crate) const CAPTURE_TABLE: &str = "CREATE TEMP TABLE IF NOT EXISTS digest_capture (\n\
     seq INTEGER PRIMARY KEY, tbl TEXT NOT NULL, sign INTEGER NOT NULL, id INTEGER NOT NULL, \
     hash BLOB NOT NULL);\n";

/// The trigger statement that records a row (`row` is `NEW` or `OLD`) entering (`sign` 1) or
/// leaving (-1) a table.
pub(crate) fn capture_statement(table: &str, shape: &TableShape, row: &str, sign: i64) -> String {
    format!(
        "INSERT INTO digest_capture (tbl, sign, id, hash) VALUES ('{table}', {sign}, {}, {});",
        shape.id_expr(row),
        shape.hash_expr(table, row)
    )
}

/// The change the digest triggers captured in this transaction.
pub(crate) fn captured(conn: &Connection) -> Result<Delta, StoreError> {
    let mut delta = Delta::new();
    let mut stmt =
        conn.prepare("SELECT tbl, sign, id, hash FROM temp.digest_capture ORDER BY seq")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let table: String = r.get(0)?;
        let sign: i64 = r.get(1)?;
        let id: i64 = r.get(2)?;
        let hash = r.get_ref(3)?;
        let hash = hash
            .as_blob()
            .map_err(|e| StoreError::Decode(format!("a captured row hash: {e}")))?;
        delta.entry(table).or_default().fold(sign, id, hash);
    }
    Ok(delta)
}

/// What the audit log last recorded for each evidence table, and where the digest starts.
#[derive(Debug, Default)]
pub(crate) struct Recorded {
    pub tables: BTreeMap<String, (i64, String)>,
    /// The first record that carries evidence commitments.
    pub starts_at: Option<i64>,
}

/// Reads the commitments out of the audit records' details (the newest per table wins).
pub(crate) fn recorded(records: &[super::audit::AuditRecord]) -> Recorded {
    let mut out = Recorded::default();
    for record in records {
        let Ok(details) = serde_json::from_str::<serde_json::Value>(&record.details) else {
            continue;
        };
        let Some(evidence) = details.get("evidence").and_then(|e| e.as_object()) else {
            continue;
        };
        out.starts_at.get_or_insert(record.seq);
        for (table, c) in evidence {
            if let Some(c) = c.as_str() {
                out.tables
                    .insert(table.clone(), (record.seq, c.to_string()));
            }
        }
    }
    out
}

/// One difference between the evidence and what the audit log records.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct EvidenceFinding {
    pub table: String,
    /// The row, when one row alone differs.
    pub row: Option<i64>,
    pub what: String,
}

/// Compares every evidence table's rows with the commitment the audit log last recorded.
pub(crate) fn check(
    conn: &Connection,
    recorded: &Recorded,
) -> Result<Vec<EvidenceFinding>, StoreError> {
    let mut findings = Vec::new();
    for table in evidence_tables() {
        let now = compute_table(conn, table)?;
        let now_c = now.commitment(table);
        let Some((seq, expected)) = recorded.tables.get(table) else {
            findings.push(EvidenceFinding {
                table: table.into(),
                row: None,
                what: "no audit record carries its digest".into(),
            });
            continue;
        };
        if &now_c == expected {
            continue;
        }
        let stored = stored(conn, table)?;
        let trusted = stored.as_ref().filter(|s| &s.commitment(table) == expected);
        let recorded_rows = expected
            .split(':')
            .next()
            .and_then(|n| n.parse::<i64>().ok());
        let rows_note = match recorded_rows {
            Some(r) if r != now.rows => {
                format!(" ({} rows now, {r} as of audit record {seq})", now.rows)
            }
            _ => format!(" (as of audit record {seq})"),
        };
        let located = trusted.and_then(|s| now.locate_single_row(s));
        let finding = match located {
            Some(id) => {
                let exists: bool = conn.query_row(
                    &format!("SELECT EXISTS (SELECT 1 FROM main.\"{table}\" WHERE rowid = ?1)"),
                    [id],
                    |r| r.get(0),
                )?;
                let how = match (recorded_rows.map(|r| now.rows - r), exists) {
                    (Some(1), true) => "was added",
                    (Some(-1), false) => "was removed",
                    (Some(0), true) => "was changed",
                    _ => "differs",
                };
                EvidenceFinding {
                    table: table.into(),
                    row: Some(id),
                    what: format!("row {id} {how} without an audit record{rows_note}"),
                }
            }
            None => EvidenceFinding {
                table: table.into(),
                row: None,
                what: format!(
                    "its rows differ from what the audit log records{rows_note}; {}",
                    if trusted.is_some() {
                        "more than one row was changed, added or removed"
                    } else {
                        "the case's stored digest of the table was changed too, so the rows \
                         cannot be named"
                    }
                ),
            },
        };
        findings.push(finding);
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(n: u8) -> [u8; 32] {
        *blake3::hash(&[n]).as_bytes()
    }

    /// The worker thread hashes the rows' encodings itself: it must give exactly the digest
    /// that `copkit_row_hash` in SQL gives, for every kind of value, over several chunks.
    #[test]
    fn the_background_fold_agrees_with_the_sql_row_hash() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        conn.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)",
        )
        .unwrap();
        let rows = FOLD_CHUNK * 2 + 7;
        for k in 0..rows as i64 {
            conn.execute(
                "INSERT INTO t (i, r, s, b, n) VALUES (?1, ?2, ?3, ?4, NULL)",
                params![
                    k * 7 - 3,
                    k as f64 / 3.0,
                    format!("row {k} é"),
                    vec![k as u8; (k % 5) as usize]
                ],
            )
            .unwrap();
        }
        let mut want = TableDigest::default();
        fold_rows(&conn, "t", "FROM t WHERE id > ?1", [2], 1, &mut want).unwrap();
        let mut folding = BackgroundFold::start().unwrap();
        folding
            .send_rows(&conn, "t", "FROM t WHERE id > ?1", [2], 1)
            .unwrap();
        let got = folding.finish().unwrap();
        assert_eq!(got["t"], want);
        assert_eq!(want.rows, rows as i64 - 2);
    }

    #[test]
    fn the_digest_does_not_depend_on_order_and_removing_undoes_adding() {
        let mut a = TableDigest::default();
        let mut b = TableDigest::default();
        for i in 1..=5u8 {
            a.fold(1, i64::from(i), &hash(i));
        }
        for i in (1..=5u8).rev() {
            b.fold(1, i64::from(i), &hash(i));
        }
        assert_eq!(a, b);
        b.fold(1, 9, &hash(9));
        assert_ne!(a, b);
        b.fold(-1, 9, &hash(9));
        assert_eq!(a, b);
        assert_eq!(a.commitment("t"), b.commitment("t"));
        assert_ne!(a.commitment("t"), a.commitment("u"));
    }

    #[test]
    fn one_changed_added_or_removed_row_is_located() {
        let mut recorded = TableDigest::default();
        for i in 1..=1000u16 {
            recorded.fold(1, i64::from(i), blake3::hash(&i.to_le_bytes()).as_bytes());
        }
        let mut changed = recorded.clone();
        changed.fold(-1, 417, blake3::hash(&417u16.to_le_bytes()).as_bytes());
        assert_eq!(changed.locate_single_row(&recorded), Some(417));
        changed.fold(1, 417, &hash(1));
        assert_eq!(changed.locate_single_row(&recorded), Some(417));
        let mut added = recorded.clone();
        added.fold(1, 123_456_789, &hash(2));
        assert_eq!(added.locate_single_row(&recorded), Some(123_456_789));
        let mut two = recorded.clone();
        two.fold(1, 5000, &hash(3));
        two.fold(1, 6000, &hash(4));
        assert_eq!(two.locate_single_row(&recorded), None);
    }

    #[test]
    fn four_lanes_at_once_add_and_subtract_as_sixteen_bit_lanes_do() {
        let lanes = |w: u64| -> [u16; 4] { [0, 1, 2, 3].map(|i| (w >> (16 * i)) as u16) };
        for (a, b) in [
            (0xffff_8000_7fff_0001u64, 0x0001_8000_0001_ffffu64),
            (0x1234_5678_9abc_def0, 0xfedc_ba98_7654_3210),
            (0, u64::MAX),
        ] {
            let (la, lb) = (lanes(a), lanes(b));
            let sum = lanes(add_lanes(a, b));
            let diff = lanes(sub_lanes(a, b));
            for i in 0..4 {
                assert_eq!(sum[i], la[i].wrapping_add(lb[i]));
                assert_eq!(diff[i], la[i].wrapping_sub(lb[i]));
            }
        }
    }

    #[test]
    fn odd_numbers_have_inverses() {
        for a in [1u128, 3, 0xdead_beef, u128::MAX] {
            assert_eq!(a.wrapping_mul(inverse_of_odd(a)), 1);
        }
    }
}
