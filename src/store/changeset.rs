//! Reads the undo history of cases in format 3, which stored each step as an SQLite session
//! changeset, and turns it into the statements of format 4 (see `undo.rs`), so that a case
//! upgraded from the earlier program keeps its undo and redo. Written here rather than taken
//! from the session extension because that extension is what this format leaves behind (its
//! bindings need libclang to build). The format is SQLite's, documented in
//! `sqlite3session.h` ("Changeset Format"): per table a header (`T`, the column count as a
//! varint, one primary-key flag per column, the NUL-terminated name), then records (an
//! operation byte, an "indirect" byte, and the old and/or new values of every column).

use super::error::StoreError;
use rusqlite::Connection;
use std::collections::HashMap;

const SQLITE_INSERT: u8 = 18;
const SQLITE_UPDATE: u8 = 23;
const SQLITE_DELETE: u8 = 9;

/// One column value of a change record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// Not part of the record (an unchanged column of an UPDATE).
    Undefined,
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Value {
    /// The value as an SQL literal that reads back exactly.
    fn literal(&self) -> String {
        match self {
            Value::Undefined | Value::Null => "NULL".into(),
            Value::Integer(i) => i.to_string(),
            // `{:?}` writes the shortest text that parses back to the same f64.
            Value::Real(r) if r.is_finite() => format!("{r:?}"),
            Value::Real(r) if *r > 0.0 => "9e999".into(),
            Value::Real(_) => "-9e999".into(),
            Value::Text(t) => format!("'{}'", t.replace('\'', "''")),
            Value::Blob(b) => format!("X'{}'", hex::encode(b)),
        }
    }
}

/// One row change of a changeset.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Change {
    pub table: String,
    pub op: Op,
    /// Which columns form the primary key.
    pub pk: Vec<bool>,
    pub old: Vec<Value>,
    pub new: Vec<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Insert,
    Update,
    Delete,
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

fn damaged(what: &str, at: usize) -> StoreError {
    StoreError::Decode(format!(
        "a stored undo step of format 3 is damaged ({what} at byte {at})"
    ))
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, StoreError> {
        let b = *self
            .bytes
            .get(self.at)
            .ok_or_else(|| damaged("it ends early", self.at))?;
        self.at += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&[u8], StoreError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| damaged("a value runs past the end", self.at))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    /// SQLite's varint: big-endian groups of 7 bits, the 9th byte holding 8.
    fn varint(&mut self) -> Result<u64, StoreError> {
        let mut v: u64 = 0;
        for i in 0..9 {
            let b = self.byte()?;
            if i == 8 {
                return Ok((v << 8) | u64::from(b));
            }
            v = (v << 7) | u64::from(b & 0x7f);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Ok(v)
    }

    fn value(&mut self) -> Result<Value, StoreError> {
        let at = self.at;
        Ok(match self.byte()? {
            0 => Value::Undefined,
            1 => Value::Integer(i64::from_be_bytes(
                self.take(8)?
                    .try_into()
                    .map_err(|_| damaged("integer", at))?,
            )),
            2 => Value::Real(f64::from_be_bytes(
                self.take(8)?.try_into().map_err(|_| damaged("real", at))?,
            )),
            3 => {
                let n = usize::try_from(self.varint()?).map_err(|_| damaged("length", at))?;
                let text = self.take(n)?;
                Value::Text(String::from_utf8_lossy(text).into_owned())
            }
            4 => {
                let n = usize::try_from(self.varint()?).map_err(|_| damaged("length", at))?;
                Value::Blob(self.take(n)?.to_vec())
            }
            5 => Value::Null,
            _ => return Err(damaged("an unknown value type", at)),
        })
    }

    fn record(&mut self, n: usize) -> Result<Vec<Value>, StoreError> {
        (0..n).map(|_| self.value()).collect()
    }
}

/// Parses a whole changeset.
pub(crate) fn parse(bytes: &[u8]) -> Result<Vec<Change>, StoreError> {
    let mut r = Reader { bytes, at: 0 };
    let mut out = Vec::new();
    let mut table: Option<(String, Vec<bool>)> = None;
    while r.at < bytes.len() {
        let at = r.at;
        let op = r.byte()?;
        if op == b'T' {
            let n = usize::try_from(r.varint()?).map_err(|_| damaged("column count", at))?;
            if n == 0 || n > 1000 {
                return Err(damaged("a column count out of range", at));
            }
            let pk = r.take(n)?.iter().map(|&b| b != 0).collect();
            let end = r.bytes[r.at..]
                .iter()
                .position(|&b| b == 0)
                .ok_or_else(|| damaged("a table name without its end", r.at))?;
            let name = String::from_utf8_lossy(r.take(end)?).into_owned();
            r.byte()?;
            table = Some((name, pk));
            continue;
        }
        let (name, pk) = table
            .as_ref()
            .ok_or_else(|| damaged("a change before its table", at))?;
        let _indirect = r.byte()?;
        let n = pk.len();
        let (op, old, new) = match op {
            SQLITE_INSERT => (Op::Insert, Vec::new(), r.record(n)?),
            SQLITE_DELETE => (Op::Delete, r.record(n)?, Vec::new()),
            SQLITE_UPDATE => {
                let old = r.record(n)?;
                let new = r.record(n)?;
                (Op::Update, old, new)
            }
            _ => return Err(damaged("an unknown operation", at)),
        };
        out.push(Change {
            table: name.clone(),
            op,
            pk: pk.clone(),
            old,
            new,
        });
    }
    Ok(out)
}

/// The statements that reverse and repeat a change, as format 4 stores them. `columns` maps a
/// table to its column names in declared order (the order of the changeset's values).
pub(crate) fn statements(
    change: &Change,
    columns: &HashMap<String, Vec<String>>,
) -> Result<(String, String), StoreError> {
    let cols = columns.get(&change.table).ok_or_else(|| {
        StoreError::Decode(format!(
            "a stored undo step names table '{}', which the case does not have",
            change.table
        ))
    })?;
    if cols.len() != change.pk.len() {
        return Err(StoreError::Decode(format!(
            "a stored undo step has {} columns for table '{}', which has {}",
            change.pk.len(),
            change.table,
            cols.len()
        )));
    }
    let table = &change.table;
    let quoted = |i: usize| format!("\"{}\"", cols[i]);
    let key = |values: &[Value]| {
        (0..cols.len())
            .filter(|&i| change.pk[i])
            .map(|i| format!("{}={}", quoted(i), values[i].literal()))
            .collect::<Vec<_>>()
            .join(" AND ")
    };
    let insert = |values: &[Value]| {
        format!(
            "INSERT INTO main.\"{table}\" ({}) VALUES ({})",
            (0..cols.len()).map(quoted).collect::<Vec<_>>().join(","),
            values
                .iter()
                .map(Value::literal)
                .collect::<Vec<_>>()
                .join(",")
        )
    };
    let delete = |values: &[Value]| format!("DELETE FROM main.\"{table}\" WHERE {}", key(values));
    let set = |values: &[Value]| {
        (0..cols.len())
            .filter(|&i| values[i] != Value::Undefined)
            .map(|i| format!("{}={}", quoted(i), values[i].literal()))
            .collect::<Vec<_>>()
            .join(",")
    };
    Ok(match change.op {
        Op::Insert => (delete(&change.new), insert(&change.new)),
        Op::Delete => (insert(&change.old), delete(&change.old)),
        Op::Update => {
            // The old record holds the key and the old values of the changed columns, the new
            // record the new values of those columns (the key itself is never changed by a
            // session's UPDATE record).
            let old_set: Vec<Value> = (0..cols.len())
                .map(|i| {
                    if change.new[i] == Value::Undefined {
                        Value::Undefined
                    } else {
                        change.old[i].clone()
                    }
                })
                .collect();
            (
                format!(
                    "UPDATE main.\"{table}\" SET {} WHERE {}",
                    set(&old_set),
                    key(&change.old)
                ),
                format!(
                    "UPDATE main.\"{table}\" SET {} WHERE {}",
                    set(&change.new),
                    key(&change.old)
                ),
            )
        }
    })
}

/// The column names of every table a changeset may name.
pub(crate) fn table_columns(
    conn: &Connection,
    tables: &[&str],
) -> Result<HashMap<String, Vec<String>>, StoreError> {
    let mut out = HashMap::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?;
        let names = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<String>, _>>()?;
        out.insert((*table).to_string(), names);
    }
    Ok(out)
}

/// Brings the undo history of a format-3 case into format 4: each command's changeset becomes
/// its reversing and repeating statements, and the rows of an undone import batch (kept in
/// its changeset as deletions) move into the shadow tables. Runs inside the migration's
/// transaction, after the format-4 tables exist.
pub(crate) fn upgrade_from_format_3(conn: &Connection) -> Result<(), StoreError> {
    let steps: Vec<(i64, Vec<u8>, Option<i64>, bool)> = {
        let mut stmt =
            conn.prepare("SELECT id, changeset, batch, undone FROM undo_log ORDER BY id")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<_, _>>()?
    };
    let columns = table_columns(conn, super::schema::UNDOABLE_TABLES)?;
    for (step, changeset, batch, undone) in steps {
        let changes = parse(&changeset)?;
        if batch.is_some() {
            // Format 3 captured a batch's rows as a changeset of deletions when it was first
            // undone. Only an undone batch needs them: a redone one has its rows in place.
            if !undone {
                continue;
            }
            for change in changes.iter().filter(|c| c.op == Op::Delete) {
                let cols = columns.get(&change.table).ok_or_else(|| {
                    StoreError::Decode(format!(
                        "an undone batch names table '{}', which the case does not have",
                        change.table
                    ))
                })?;
                conn.execute(
                    &format!(
                        "INSERT INTO undone_{} (undo_step, {}) VALUES ({step}, {})",
                        change.table,
                        cols.iter()
                            .map(|c| format!("\"{c}\""))
                            .collect::<Vec<_>>()
                            .join(","),
                        change
                            .old
                            .iter()
                            .map(Value::literal)
                            .collect::<Vec<_>>()
                            .join(",")
                    ),
                    [],
                )?;
            }
            continue;
        }
        for (seq, change) in changes.iter().enumerate() {
            let (undo_sql, redo_sql) = statements(change, &columns)?;
            conn.execute(
                "INSERT INTO undo_ops (step, seq, undo_sql, redo_sql) VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![step, seq as i64, undo_sql, redo_sql],
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_values_read_as_sqlite_writes_them() {
        let mut r = Reader {
            bytes: &[
                0x05, 0x81, 0x00, 0x03, 0x02, b'h', b'i', 0x02, 0x40, 0x04, 0, 0, 0, 0, 0, 0,
            ],
            at: 0,
        };
        assert_eq!(r.varint().unwrap(), 5);
        assert_eq!(r.varint().unwrap(), 128);
        assert_eq!(r.value().unwrap(), Value::Text("hi".into()));
        assert_eq!(r.value().unwrap(), Value::Real(2.5));
    }

    #[test]
    fn a_damaged_changeset_is_an_error_not_a_panic() {
        for bytes in [
            &[b'T'][..],
            &[b'T', 2, 1, 0, b'x'],
            &[SQLITE_INSERT, 0, 1],
            &[b'T', 1, 1, b'x', 0, SQLITE_INSERT, 0, 3, 0x8f],
            &[b'T', 1, 1, b'x', 0, SQLITE_INSERT, 0, 9],
        ] {
            assert!(parse(bytes).is_err(), "{bytes:?}");
        }
    }

    #[test]
    fn literals_read_back_exactly() {
        let conn = Connection::open_in_memory().unwrap();
        for v in [
            Value::Real(0.1 + 0.2),
            Value::Real(-1.0e-300),
            Value::Real(f64::INFINITY),
            Value::Integer(i64::MIN),
            Value::Text("it's".into()),
            Value::Blob(vec![0, 255]),
        ] {
            let back: rusqlite::types::Value = conn
                .query_row(&format!("SELECT {}", v.literal()), [], |r| r.get(0))
                .unwrap();
            let back = match back {
                rusqlite::types::Value::Real(r) => Value::Real(r),
                rusqlite::types::Value::Integer(i) => Value::Integer(i),
                rusqlite::types::Value::Text(t) => Value::Text(t),
                rusqlite::types::Value::Blob(b) => Value::Blob(b),
                rusqlite::types::Value::Null => Value::Null,
            };
            assert_eq!(back, v);
        }
    }
}
