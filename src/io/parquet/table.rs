//! A Parquet file as a table: its rows read in chunks, column by column, into text cells, and
//! the import and preview through the same mapping as CSV.

use super::*;

/// The rows of a Parquet file, row group by row group, a chunk of rows at a time.
struct Rows {
    path: PathBuf,
    file: SerializedFileReader<bytes::Bytes>,
    columns: Vec<Column>,
    style: TimeText,
    groups: usize,
    /// The row group being read (0-based), its readers and the rows it still holds.
    group: usize,
    readers: Vec<Reader>,
    left_in_group: u64,
    /// Decoded cells per column, and how many rows of them were handed out.
    chunk: Vec<std::vec::IntoIter<Cell>>,
    chunk_left: usize,
    /// Data rows handed out so far.
    row: u64,
    done: bool,
}

impl Rows {
    fn group_label(&self) -> String {
        format!("row group {} of {}", self.group + 1, self.groups)
    }

    /// Opens the next row group that has rows; false at the end of the file.
    fn open_group(&mut self) -> Result<bool, IoError> {
        while self.group < self.groups {
            let meta = self.file.metadata().row_group(self.group);
            let rows = u64::try_from(meta.num_rows()).map_err(|_| {
                parse_err(
                    &self.path,
                    self.group_label(),
                    format!("declares {} rows (the file is damaged)", meta.num_rows()),
                )
            })?;
            if meta.num_columns() != self.columns.len() {
                return Err(parse_err(
                    &self.path,
                    self.group_label(),
                    format!(
                        "has {} column chunks but the schema has {} columns (the file is damaged)",
                        meta.num_columns(),
                        self.columns.len()
                    ),
                ));
            }
            if rows == 0 {
                self.group += 1;
                continue;
            }
            let file = &self.file;
            let group = self.group;
            let mut readers = Vec::with_capacity(self.columns.len());
            for (i, col) in self.columns.iter().enumerate() {
                let reader = guarded(|| file.get_row_group(group)?.get_column_reader(i)).map_err(
                    |reason| {
                        parse_err(
                            &self.path,
                            format!("{}, column '{}'", self.group_label(), col.name),
                            format!("{reason}; the file is damaged or truncated"),
                        )
                    },
                )?;
                readers.push(Reader::from(reader));
            }
            self.readers = readers;
            self.left_in_group = rows;
            return Ok(true);
        }
        Ok(false)
    }

    /// Decodes the next chunk of rows of every column of the open group.
    fn read_chunk(&mut self) -> Result<(), IoError> {
        let n = self.left_in_group.min(CHUNK_ROWS as u64) as usize;
        let first = self.row + 1;
        let mut chunk = Vec::with_capacity(self.columns.len());
        for (reader, col) in self.readers.iter_mut().zip(&self.columns) {
            let style = self.style;
            let location = || {
                format!(
                    "row group {} of {} (rows {first}–{}), column '{}'",
                    self.group + 1,
                    self.groups,
                    first + n as u64 - 1,
                    col.name
                )
            };
            let cells = guarded(|| read_column(reader, col, n, style)).map_err(|reason| {
                parse_err(
                    &self.path,
                    location(),
                    format!("{reason}; the file is damaged or truncated"),
                )
            })?;
            if cells.len() != n {
                return Err(parse_err(
                    &self.path,
                    location(),
                    format!(
                        "the column ends after {} of these {n} rows (the file is damaged or truncated)",
                        cells.len()
                    ),
                ));
            }
            chunk.push(cells.into_iter());
        }
        self.chunk = chunk;
        self.chunk_left = n;
        self.left_in_group -= n as u64;
        Ok(())
    }

    fn next_row(&mut self) -> Result<Option<TableRow>, IoError> {
        if self.chunk_left == 0 {
            if self.left_in_group == 0 {
                if !self.readers.is_empty() {
                    self.group += 1;
                    self.readers.clear();
                }
                if !self.open_group()? {
                    return Ok(None);
                }
            }
            self.read_chunk()?;
        }
        self.chunk_left -= 1;
        self.row += 1;
        let line = self.row;
        let mut cells = Vec::with_capacity(self.columns.len());
        let mut problem = None;
        for (it, col) in self.chunk.iter_mut().zip(&self.columns) {
            match it.next().unwrap_or_else(|| Ok(String::new())) {
                Ok(text) => cells.push(text),
                Err(reason) => {
                    if problem.is_none() {
                        problem = Some(RowProblem {
                            line,
                            field: Some(col.name.clone()),
                            reason,
                        });
                    }
                    cells.push(String::new());
                }
            }
        }
        Ok(Some(TableRow {
            line,
            byte: line,
            cells,
            numeric: self.columns.iter().map(|c| c.kind.numeric()).collect(),
            problem,
        }))
    }
}

impl Iterator for Rows {
    type Item = Result<TableRow, IoError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_row() {
            Ok(Some(row)) => Some(Ok(row)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// What a Parquet file is, before any row is read: its metadata checked, its columns planned.
struct Opened {
    rows: Rows,
    header: Vec<String>,
    meta: TableMeta,
}

fn open(path: &Path, spec: &MappingSpec, opts: &CsvOptions) -> Result<Opened, IoError> {
    let src = read_source(path, &opts.limits)?;
    if src.bytes.is_empty() {
        return Err(IoError::Empty {
            path: path.to_path_buf(),
            what: "the file is empty (0 bytes); there is nothing to import",
        });
    }
    if !src.bytes.starts_with(b"PAR1") {
        let what = if src.bytes.starts_with(b"PARE") {
            "an encrypted Parquet file (decrypt it first)".to_string()
        } else {
            sniff_binary(&src.bytes).map_or_else(
                || {
                    let head = &src.bytes[..src.bytes.len().min(512)];
                    // A cut inside a multi-byte character at the end still counts as text.
                    let text = match std::str::from_utf8(head) {
                        Ok(_) => true,
                        Err(e) => e.valid_up_to() + 4 > head.len(),
                    };
                    if text {
                        "a text file without the PAR1 marker (a renamed CSV or JSON file?)"
                    } else {
                        "a file without the PAR1 marker that Parquet files start with"
                    }
                    .to_string()
                },
                str::to_string,
            )
        };
        return Err(IoError::WrongFormat {
            path: path.to_path_buf(),
            what,
            expected: "a Parquet file",
        });
    }
    if src.bytes.len() < 12 || !src.bytes.ends_with(b"PAR1") {
        return Err(parse_err(
            path,
            "file footer",
            format!(
                "the file ({} bytes) does not end with the Parquet footer marker PAR1: it is truncated or damaged; copy it again from its source",
                src.bytes.len()
            ),
        ));
    }
    let (sha256, size) = (src.sha256.clone(), src.bytes.len() as u64);
    let bytes = bytes::Bytes::from(src.bytes);
    let file = guarded(|| SerializedFileReader::new(bytes)).map_err(|reason| {
        parse_err(
            path,
            "file footer (metadata)",
            format!("{reason}; the file is truncated or damaged"),
        )
    })?;
    let columns = plan_columns(path, file.metadata().file_metadata().schema_descr())?;
    let groups = file.metadata().num_row_groups();
    let mut total = 0u64;
    for (g, group) in file.metadata().row_groups().iter().enumerate() {
        total = total.saturating_add(u64::try_from(group.num_rows()).unwrap_or(0));
        for (chunk, col) in group.columns().iter().zip(&columns) {
            if let Some(codec) = codec_name(chunk.compression()) {
                return Err(parse_err(
                    path,
                    format!("row group {} of {groups}, column '{}'", g + 1, col.name),
                    format!(
                        "compressed with {codec}, which this program does not read (it reads uncompressed, Snappy, gzip and zstd); write the file again with snappy or zstd compression"
                    ),
                ));
            }
        }
    }
    if total > opts.limits.max_rows {
        return Err(IoError::Bound {
            path: path.to_path_buf(),
            bound: "max_rows",
            detail: format!(
                "the file declares {total} rows, the limit is {}",
                opts.limits.max_rows
            ),
        });
    }
    let style = match spec.time.format.as_str() {
        "epoch_s" => TimeText::EpochSeconds,
        "epoch_ms" => TimeText::EpochMillis,
        _ => TimeText::Iso,
    };
    let header = columns.iter().map(|c| c.name.trim().to_string()).collect();
    Ok(Opened {
        rows: Rows {
            path: path.to_path_buf(),
            file,
            columns,
            style,
            groups,
            group: 0,
            readers: Vec::new(),
            left_in_group: 0,
            chunk: Vec::new(),
            chunk_left: 0,
            row: 0,
            done: false,
        },
        header,
        meta: TableMeta {
            format: "parquet".into(),
            sha256,
            bytes: size,
            encoding: format!("Parquet, {groups} row groups"),
            delimiter: None,
            total,
        },
    })
}

/// Imports a Parquet file into a case as one batch, through a mapping spec, exactly as
/// [`super::csv::import_csv`] does for CSV (strict or lenient, the same report).
pub fn import_parquet(
    case: &mut Case,
    path: &Path,
    spec: &MappingSpec,
    opts: &CsvOptions,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<ImportReport, IoError> {
    let opened = open(path, &crate::io::csv::apply_overrides(spec, opts)?, opts)?;
    import_table(
        case,
        path,
        spec,
        opts,
        &opened.meta,
        &opened.header,
        opened.rows,
        cancel,
        progress,
    )
}

/// Maps the first `n` rows of a Parquet file without writing anything, marking each row's
/// problems, exactly as [`import_parquet`] would map them.
pub fn preview_parquet(
    path: &Path,
    spec: &MappingSpec,
    schema: &crate::model::Schema,
    opts: &CsvOptions,
    n: usize,
) -> Result<Preview, IoError> {
    let spec = crate::io::csv::apply_overrides(spec, opts)?;
    let opened = open(path, &spec, opts)?;
    let mapper = TableMapper::new(&spec, &opened.header, schema, path, opts, "parquet")?;
    let rows = mapper.preview(opened.rows, n)?;
    Ok(Preview {
        encoding: opened.meta.encoding,
        delimiter: String::new(),
        header: opened.header,
        rows,
    })
}

/// The column names of a Parquet file, read from its footer only (for guessing the import
/// template when the file is picked); `None` when the footer cannot be read.
pub fn column_names(path: &Path) -> Option<Vec<String>> {
    let file = std::fs::File::open(path).ok()?;
    let reader = guarded(|| SerializedFileReader::new(file)).ok()?;
    let columns = plan_columns(path, reader.metadata().file_metadata().schema_descr()).ok()?;
    Some(columns.iter().map(|c| c.name.trim().to_string()).collect())
}
