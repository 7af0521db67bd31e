//! Parquet export of the case: entities, links, events, participants and attribute values,
//! with grading and provenance, as flat tables a data-lake tool (pyarrow, DuckDB, Spark)
//! reads: entities.parquet, links.parquet, events.parquet, participants.parquet and
//! attributes.parquet in a new folder.
//!
//! Ids are the case's own (`E12`, `L3`, `V7`, `A40`), the same as the CSV export, so the
//! tables join on them (links.source = entities.id). Event times are Parquet
//! TIMESTAMP(MILLIS, UTC) columns, with the source's own text and zone beside them. Every
//! item's grading is four text columns (scheme, source, information, handling) and its
//! provenance three (batch, source file, record). Text is UTF-8 (STRING), empty values are
//! nulls. Tables are written with snappy compression (every Parquet reader has it), one row
//! group per `ROW_GROUP_ROWS` rows so memory stays bounded. Each file is written under a
//! temporary name in the folder and renamed when complete, so an export cut short leaves no
//! complete-looking table.

use crate::io::IoError;
use crate::io::export::Selection;
use crate::model::{Attribute, Grading, ItemRef, Provenance};
use ::parquet::basic::Compression;
use ::parquet::column::writer::ColumnWriter;
use ::parquet::data_type::ByteArray;
use ::parquet::file::properties::WriterProperties;
use ::parquet::file::writer::SerializedFileWriter;
use ::parquet::schema::parser::parse_message_type;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rows per row group: large enough for fast scans, small enough to bound memory.
const ROW_GROUP_ROWS: usize = 65_536;

/// How a column is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// UTF-8 text, always present.
    Text,
    /// UTF-8 text or null.
    OptText,
    Bool,
    /// A double or null.
    OptFloat,
    /// TIMESTAMP(MILLIS, UTC), always present.
    Time,
    /// TIMESTAMP(MILLIS, UTC) or null.
    OptTime,
}

impl Kind {
    fn optional(self) -> bool {
        matches!(self, Kind::OptText | Kind::OptFloat | Kind::OptTime)
    }

    fn declaration(self, name: &str) -> String {
        let repetition = if self.optional() {
            "optional"
        } else {
            "required"
        };
        let physical = match self {
            Kind::Text | Kind::OptText => "binary",
            Kind::Bool => "boolean",
            Kind::OptFloat => "double",
            Kind::Time | Kind::OptTime => "int64",
        };
        let logical = match self {
            Kind::Text | Kind::OptText => " (STRING)",
            Kind::Time | Kind::OptTime => " (TIMESTAMP(MILLIS,true))",
            Kind::Bool | Kind::OptFloat => "",
        };
        format!("  {repetition} {physical} {name}{logical};\n")
    }
}

/// One cell of a row, in its column's kind.
enum Cell {
    Text(Option<String>),
    Bool(bool),
    Float(Option<f64>),
    Time(Option<i64>),
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(Some(s.into()))
}

fn opt_text(s: Option<impl Into<String>>) -> Cell {
    Cell::Text(s.map(Into::into).filter(|s: &String| !s.is_empty()))
}

/// The values of one column for the row group being filled, with definition levels (1 for
/// a value, 0 for a null) for optional columns.
enum Buffer {
    Bytes(Vec<ByteArray>),
    Bools(Vec<bool>),
    Floats(Vec<f64>),
    Longs(Vec<i64>),
}

const GRADE_COLUMNS: [(&str, Kind); 4] = [
    ("grade_scheme", Kind::OptText),
    ("grade_source", Kind::OptText),
    ("grade_information", Kind::OptText),
    ("grade_handling", Kind::OptText),
];

const PROVENANCE_COLUMNS: [(&str, Kind); 3] = [
    ("provenance_batch", Kind::OptText),
    ("provenance_source_file", Kind::OptText),
    ("provenance_record", Kind::OptText),
];

fn grade_cells(g: Option<&Grading>) -> [Cell; 4] {
    [
        opt_text(g.map(|g| g.scheme.clone())),
        opt_text(g.and_then(|g| g.source.clone())),
        opt_text(g.and_then(|g| g.information.clone())),
        opt_text(g.and_then(|g| g.handling.clone())),
    ]
}

fn provenance_cells(p: &Provenance) -> [Cell; 3] {
    [
        opt_text(p.batch.map(|b| b.to_string())),
        opt_text(p.source_file.clone()),
        opt_text(p.record.clone()),
    ]
}

/// Column list: the table's own columns, then grading and provenance.
fn columns(own: &[(&'static str, Kind)]) -> Vec<(&'static str, Kind)> {
    let mut all = own.to_vec();
    all.extend(GRADE_COLUMNS);
    all.extend(PROVENANCE_COLUMNS);
    all
}

/// One table being written: to a temporary file, renamed when complete.
struct TableWriter {
    partial: PathBuf,
    path: PathBuf,
    columns: Vec<(&'static str, Kind)>,
    buffers: Vec<(Buffer, Vec<i16>)>,
    rows: usize,
    writer: Option<SerializedFileWriter<File>>,
}

fn parquet_err(path: &Path) -> impl Fn(::parquet::errors::ParquetError) -> IoError + '_ {
    move |e| IoError::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    }
}

impl TableWriter {
    fn create(dir: &Path, name: &str, columns: Vec<(&'static str, Kind)>) -> Result<Self, IoError> {
        let path = dir.join(format!("{name}.parquet"));
        let partial = dir.join(format!(".{name}.parquet.partial"));
        let mut message = format!("message {name} {{\n");
        for (column, kind) in &columns {
            message.push_str(&kind.declaration(column));
        }
        message.push('}');
        let schema = parse_message_type(&message).map_err(parquet_err(&path))?;
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&partial)
            .map_err(|source| IoError::Write {
                path: partial.clone(),
                source,
            })?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("COPKIT Workbench {}", env!("CARGO_PKG_VERSION")))
            .build();
        let writer = SerializedFileWriter::new(file, Arc::new(schema), Arc::new(props))
            .map_err(parquet_err(&path))?;
        let buffers = columns
            .iter()
            .map(|(_, kind)| (empty(*kind), Vec::new()))
            .collect();
        Ok(TableWriter {
            partial,
            path,
            columns,
            buffers,
            rows: 0,
            writer: Some(writer),
        })
    }

    /// Adds a row (cells in column order); writes a row group when enough are buffered.
    fn push(&mut self, row: impl IntoIterator<Item = Cell>) -> Result<(), IoError> {
        let mut count = 0;
        for (cell, (buffer, levels)) in row.into_iter().zip(self.buffers.iter_mut()) {
            count += 1;
            let present = match (cell, buffer) {
                (Cell::Text(Some(v)), Buffer::Bytes(b)) => {
                    b.push(ByteArray::from(v.into_bytes()));
                    true
                }
                (Cell::Bool(v), Buffer::Bools(b)) => {
                    b.push(v);
                    true
                }
                (Cell::Float(Some(v)), Buffer::Floats(b)) => {
                    b.push(v);
                    true
                }
                (Cell::Time(Some(v)), Buffer::Longs(b)) => {
                    b.push(v);
                    true
                }
                (Cell::Text(None), Buffer::Bytes(_))
                | (Cell::Float(None), Buffer::Floats(_))
                | (Cell::Time(None), Buffer::Longs(_)) => false,
                _ => return Err(self.mismatch()),
            };
            levels.push(i16::from(present));
        }
        if count != self.columns.len() {
            return Err(self.mismatch());
        }
        self.rows += 1;
        if self.rows >= ROW_GROUP_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn mismatch(&self) -> IoError {
        IoError::Write {
            path: self.path.clone(),
            source: std::io::Error::other(
                "a row does not match the table's columns (a bug in the Parquet export); nothing more was written",
            ),
        }
    }

    /// Writes the buffered rows as one row group.
    fn flush(&mut self) -> Result<(), IoError> {
        if self.rows == 0 {
            return Ok(());
        }
        let err = parquet_err(&self.path);
        let writer = self.writer.as_mut().ok_or_else(|| IoError::Write {
            path: self.path.clone(),
            source: std::io::Error::other("the table was already closed"),
        })?;
        let mut group = writer.next_row_group().map_err(&err)?;
        for ((_, kind), (buffer, levels)) in self.columns.iter().zip(self.buffers.iter_mut()) {
            let Some(mut column) = group.next_column().map_err(&err)? else {
                break;
            };
            let defs = kind.optional().then_some(levels.as_slice());
            let written = match (column.untyped(), &*buffer) {
                (ColumnWriter::ByteArrayColumnWriter(w), Buffer::Bytes(v)) => {
                    w.write_batch(v, defs, None)
                }
                (ColumnWriter::BoolColumnWriter(w), Buffer::Bools(v)) => {
                    w.write_batch(v, defs, None)
                }
                (ColumnWriter::DoubleColumnWriter(w), Buffer::Floats(v)) => {
                    w.write_batch(v, defs, None)
                }
                (ColumnWriter::Int64ColumnWriter(w), Buffer::Longs(v)) => {
                    w.write_batch(v, defs, None)
                }
                _ => {
                    return Err(IoError::Write {
                        path: self.path.clone(),
                        source: std::io::Error::other(
                            "a column's type does not match its values (a bug in the Parquet export)",
                        ),
                    });
                }
            };
            written.map_err(&err)?;
            column.close().map_err(&err)?;
            *buffer = empty(*kind);
            levels.clear();
        }
        group.close().map_err(&err)?;
        self.rows = 0;
        Ok(())
    }

    /// Writes the last row group, closes the file and gives it its final name.
    fn finish(mut self) -> Result<PathBuf, IoError> {
        self.flush()?;
        let closed = match self.writer.take() {
            Some(writer) => writer.close().map(|_| ()).map_err(parquet_err(&self.path)),
            None => Ok(()),
        };
        let renamed = closed.and_then(|()| {
            std::fs::rename(&self.partial, &self.path).map_err(|source| IoError::Write {
                path: self.path.clone(),
                source,
            })
        });
        if renamed.is_err() {
            let _ = std::fs::remove_file(&self.partial);
        }
        renamed.map(|()| self.path.clone())
    }
}

impl Drop for TableWriter {
    /// A table not finished (an error, a panic) leaves no file behind.
    fn drop(&mut self) {
        if self.writer.is_some() {
            self.writer = None;
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

fn empty(kind: Kind) -> Buffer {
    match kind {
        Kind::Text | Kind::OptText => Buffer::Bytes(Vec::new()),
        Kind::Bool => Buffer::Bools(Vec::new()),
        Kind::OptFloat => Buffer::Floats(Vec::new()),
        Kind::Time | Kind::OptTime => Buffer::Longs(Vec::new()),
    }
}

fn attribute_rows(
    table: &mut TableWriter,
    owner: ItemRef,
    attrs: &[Attribute],
) -> Result<(), IoError> {
    let (kind, id) = match owner {
        ItemRef::Entity(id) => ("entity", id.to_string()),
        ItemRef::Link(id) => ("link", id.to_string()),
        ItemRef::Event(id) => ("event", id.to_string()),
    };
    for a in attrs {
        let mut row = vec![
            text(kind),
            text(id.clone()),
            text(a.id.to_string()),
            text(a.property.clone()),
            text(a.value.clone()),
            opt_text(a.normalized.clone()),
        ];
        row.extend(grade_cells(a.grading.as_ref()));
        row.extend(provenance_cells(&a.provenance));
        table.push(row)?;
    }
    Ok(())
}

/// Writes the selection as Parquet tables in a new folder; returns the files written and what
/// the tables could not carry.
pub(crate) fn write_parquet_folder(
    dir: &Path,
    sel: &Selection<'_>,
) -> Result<(Vec<PathBuf>, Vec<String>), IoError> {
    std::fs::create_dir(dir).map_err(|source| IoError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files = Vec::new();

    let mut t = TableWriter::create(
        dir,
        "entities",
        columns(&[
            ("id", Kind::Text),
            ("type", Kind::Text),
            ("label", Kind::Text),
            ("source_id", Kind::OptText),
            ("category", Kind::OptText),
            ("restricted", Kind::Bool),
            ("review_date", Kind::OptText),
        ]),
    )?;
    for e in &sel.entities {
        let mut row = vec![
            text(e.id.to_string()),
            text(e.entity_type.clone()),
            text(e.label.clone()),
            opt_text(e.source_id.clone()),
            opt_text(e.category.map(|c| c.as_str())),
            Cell::Bool(e.restricted),
            opt_text(e.review_date.clone()),
        ];
        row.extend(grade_cells(e.grading.as_ref()));
        row.extend(provenance_cells(&e.provenance));
        t.push(row)?;
    }
    files.push(t.finish()?);

    let mut t = TableWriter::create(
        dir,
        "links",
        columns(&[
            ("id", Kind::Text),
            ("type", Kind::Text),
            ("source", Kind::Text),
            ("target", Kind::Text),
            ("directed", Kind::Bool),
            ("weight", Kind::OptFloat),
            ("label", Kind::OptText),
            ("strength", Kind::Text),
            ("source_id", Kind::OptText),
            ("restricted", Kind::Bool),
            ("review_date", Kind::OptText),
        ]),
    )?;
    for l in &sel.links {
        let mut row = vec![
            text(l.id.to_string()),
            text(l.link_type.clone()),
            text(l.source.to_string()),
            text(l.target.to_string()),
            Cell::Bool(l.directed),
            Cell::Float(l.weight),
            opt_text(l.label.clone()),
            text(l.strength.as_str()),
            opt_text(l.source_id.clone()),
            Cell::Bool(l.restricted),
            opt_text(l.review_date.clone()),
        ];
        row.extend(grade_cells(l.grading.as_ref()));
        row.extend(provenance_cells(&l.provenance));
        t.push(row)?;
    }
    files.push(t.finish()?);

    let mut t = TableWriter::create(
        dir,
        "events",
        columns(&[
            ("id", Kind::Text),
            ("type", Kind::Text),
            ("start", Kind::Time),
            ("end", Kind::OptTime),
            ("original_time", Kind::OptText),
            ("original_zone", Kind::OptText),
            ("source_id", Kind::OptText),
            ("restricted", Kind::Bool),
            ("review_date", Kind::OptText),
        ]),
    )?;
    for ev in &sel.events {
        let mut row = vec![
            text(ev.id.to_string()),
            text(ev.event_type.clone()),
            Cell::Time(Some(ev.time.start_ms)),
            Cell::Time(ev.time.end_ms),
            opt_text(ev.time.original_text.clone()),
            opt_text(ev.time.original_zone.clone()),
            opt_text(ev.source_id.clone()),
            Cell::Bool(ev.restricted),
            opt_text(ev.review_date.clone()),
        ];
        row.extend(grade_cells(ev.grading.as_ref()));
        row.extend(provenance_cells(&ev.provenance));
        t.push(row)?;
    }
    files.push(t.finish()?);

    let mut t = TableWriter::create(
        dir,
        "participants",
        vec![
            ("event", Kind::Text),
            ("entity", Kind::Text),
            ("role", Kind::Text),
        ],
    )?;
    for ev in &sel.events {
        for p in &ev.participants {
            t.push([
                text(ev.id.to_string()),
                text(p.entity.to_string()),
                text(p.role.as_str()),
            ])?;
        }
    }
    files.push(t.finish()?);

    let mut t = TableWriter::create(
        dir,
        "attributes",
        columns(&[
            ("owner_kind", Kind::Text),
            ("owner_id", Kind::Text),
            ("attribute_id", Kind::Text),
            ("property", Kind::Text),
            ("value", Kind::Text),
            ("normalized", Kind::OptText),
        ]),
    )?;
    for e in &sel.entities {
        attribute_rows(&mut t, ItemRef::Entity(e.id), &e.attributes)?;
    }
    for l in &sel.links {
        attribute_rows(&mut t, ItemRef::Link(l.id), &l.attributes)?;
    }
    for ev in &sel.events {
        attribute_rows(&mut t, ItemRef::Event(ev.id), &ev.attributes)?;
    }
    files.push(t.finish()?);

    let notes = sel.entities.iter().map(|e| e.notes.len()).sum::<usize>()
        + sel.links.iter().map(|l| l.notes.len()).sum::<usize>()
        + sel.events.iter().map(|e| e.notes.len()).sum::<usize>();
    let mut cannot = Vec::new();
    if notes > 0 {
        cannot.push(format!(
            "{notes} analyst notes on items (the tables hold entities, links, events, participants and attribute values)"
        ));
    }
    Ok((files, cannot))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_table_cut_short_leaves_no_file_and_a_finished_one_only_its_final_name() {
        let dir = tempfile::tempdir().unwrap();
        let cols = || vec![("id", Kind::Text), ("at", Kind::OptTime)];
        let mut cut = TableWriter::create(dir.path(), "cut", cols()).unwrap();
        cut.push([text("E1"), Cell::Time(Some(0))]).unwrap();
        assert_eq!(names(dir.path()), [".cut.parquet.partial"]);
        drop(cut);
        assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
        let mut done = TableWriter::create(dir.path(), "done", cols()).unwrap();
        done.push([text("E1"), Cell::Time(None)]).unwrap();
        // A row that does not match the columns is an error, not a panic or a bad file.
        assert!(done.push([Cell::Bool(true), Cell::Time(None)]).is_err());
        let mut ok = TableWriter::create(dir.path(), "ok", cols()).unwrap();
        ok.push([text("E1"), Cell::Time(Some(1))]).unwrap();
        let path = ok.finish().unwrap();
        drop(done);
        assert_eq!(names(dir.path()), ["ok.parquet"]);
        assert!(std::fs::read(path).unwrap().starts_with(b"PAR1"));
    }
}
