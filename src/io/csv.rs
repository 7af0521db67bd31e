//! CSV and TSV import through a mapping spec: encoding and delimiter sniffed (and reported so
//! the user can confirm or override them), the header checked, every row mapped and
//! validated, the batch written all or nothing. A lenient mode skips bad rows, listing each.

use super::map::{Compiled, KeyNumbering, MappedEntity, MappedRow, Resolver, check_gradings};
use super::report::{ImportReport, RowProblem};
use super::spec::MappingSpec;
use super::{IoError, Limits, SourceBytes, decode_text, read_source, sniff_binary};
use crate::jobs::{CancelToken, Progress};
use crate::model::EntityId;
use crate::store::{AuditCategory, Case, NewBatch};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// How to read and import a CSV file.
#[derive(Clone, Debug, Default)]
pub struct CsvOptions {
    /// Skip bad rows (each listed in the report) instead of rejecting the whole file.
    pub lenient: bool,
    /// Tab-separated (the delimiter is then always a tab).
    pub tsv: bool,
    /// Overrides the spec and the sniffed delimiter.
    pub delimiter: Option<u8>,
    /// Overrides the spec's encoding.
    pub encoding: Option<String>,
    /// Overrides the spec's time zone.
    pub timezone: Option<String>,
    pub limits: Limits,
    /// Only these lines (for re-importing rejected rows).
    pub only_lines: Option<BTreeSet<u64>>,
}

/// The first rows of a file as the spec would import them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Preview {
    pub encoding: String,
    pub delimiter: String,
    pub header: Vec<String>,
    pub rows: Vec<PreviewRow>,
}

/// One previewed row: its cells, what it would make, and its problems.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PreviewRow {
    pub line: u64,
    pub cells: Vec<String>,
    /// "Phone +447700900123", "Call 2024-03-01T10:00:00Z", ...
    pub makes: Vec<String>,
    pub problems: Vec<RowProblem>,
}

struct Parsed {
    src: SourceBytes,
    text: String,
    encoding: &'static str,
    delimiter: u8,
}

fn display_delimiter(d: u8) -> String {
    match d {
        b'\t' => "tab".into(),
        other => (other as char).to_string(),
    }
}

fn parse_delimiter(text: &str) -> Result<u8, IoError> {
    match text {
        "\\t" | "\t" | "tab" => Ok(b'\t'),
        t if t.len() == 1 && t.is_ascii() => Ok(t.as_bytes()[0]),
        t => Err(IoError::Spec(format!(
            "delimiter '{t}' must be one ASCII character or \"tab\""
        ))),
    }
}

/// Picks the delimiter that splits the first line most often, outside quotes.
fn sniff_delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    let mut best = (b',', 0);
    for d in [b',', b';', b'\t', b'|'] {
        let mut in_quote = false;
        let mut n = 0;
        for b in first.bytes() {
            if b == b'"' {
                in_quote = !in_quote;
            } else if b == d && !in_quote {
                n += 1;
            }
        }
        if n > best.1 {
            best = (d, n);
        }
    }
    best.0
}

/// Finds a quoted field that is never closed (a file truncated mid-record, or a stray quote),
/// which the csv crate would otherwise read to the end of the file as one field.
fn unterminated_quote(text: &str, delimiter: u8) -> Option<u64> {
    let bytes = text.as_bytes();
    let mut in_quote = false;
    let mut field_start = true;
    let mut line = 1u64;
    let mut open_line = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_quote {
            if b == b'"' {
                if bytes.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    in_quote = false;
                }
            }
        } else if b == b'"' && field_start {
            in_quote = true;
            open_line = line;
        }
        if !in_quote {
            field_start = b == delimiter || b == b'\n' || b == b'\r';
        }
        if b == b'\n' {
            line += 1;
        }
        i += 1;
    }
    in_quote.then_some(open_line)
}

fn load(path: &Path, spec: &MappingSpec, opts: &CsvOptions) -> Result<Parsed, IoError> {
    let src = read_source(path, &opts.limits)?;
    if src.bytes.is_empty() {
        return Err(IoError::Empty {
            path: path.to_path_buf(),
            what: "the file is empty (0 bytes); there is nothing to import",
        });
    }
    if let Some(what) = sniff_binary(&src.bytes) {
        return Err(IoError::WrongFormat {
            path: path.to_path_buf(),
            what: what.to_string(),
            expected: "a CSV or TSV text file",
        });
    }
    let encoding = opts.encoding.as_deref().or(spec.source.encoding.as_deref());
    let decoded = decode_text(&src, encoding)?;
    if decoded.text.trim().is_empty() {
        return Err(IoError::Empty {
            path: path.to_path_buf(),
            what: if decoded.had_bom {
                "the file holds only a byte-order mark (and perhaps blank lines); there is nothing to import"
            } else {
                "the file holds only blank lines; there is nothing to import"
            },
        });
    }
    if decoded.text.contains('\0') && decoded.encoding == "UTF-8" {
        let nul_line = 1 + decoded.text[..decoded.text.find('\0').unwrap_or(0)]
            .matches('\n')
            .count();
        if decoded.text.bytes().filter(|&b| b == 0).count() * 4 > decoded.text.len() {
            return Err(IoError::WrongFormat {
                path: path.to_path_buf(),
                what: format!(
                    "mostly NUL bytes (from line {nul_line}): UTF-16 without a byte-order mark or binary data"
                ),
                expected: "a CSV text file (read it as UTF-16LE if it is one)",
            });
        }
    }
    let delimiter = if opts.tsv {
        b'\t'
    } else if let Some(d) = opts.delimiter {
        d
    } else if let Some(d) = &spec.source.delimiter {
        parse_delimiter(d)?
    } else {
        sniff_delimiter(&decoded.text)
    };
    if let Some(line) = unterminated_quote(&decoded.text, delimiter) {
        return Err(IoError::Parse {
            path: path.to_path_buf(),
            location: format!("line {line}"),
            reason: "a quoted field starting here is never closed (an unterminated quote: the file may be truncated mid-record)".into(),
        });
    }
    Ok(Parsed {
        src,
        text: decoded.text,
        encoding: decoded.encoding,
        delimiter,
    })
}

fn reader(text: &str, delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn read_header(
    path: &Path,
    records: &mut csv::StringRecordsIter<'_, &[u8]>,
) -> Result<Vec<String>, IoError> {
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => {
            return Err(IoError::Parse {
                path: path.to_path_buf(),
                location: "line 1 (header)".into(),
                reason: e.to_string(),
            });
        }
        None => {
            return Err(IoError::Empty {
                path: path.to_path_buf(),
                what: "the file has no header row",
            });
        }
    };
    Ok(header.iter().map(|h| h.trim().to_string()).collect())
}

pub(super) fn apply_overrides(
    spec: &MappingSpec,
    opts: &CsvOptions,
) -> Result<MappingSpec, IoError> {
    let mut spec = spec.clone();
    if let Some(z) = &opts.timezone {
        spec.time.zone = Some(z.clone());
    }
    spec.check().map_err(IoError::Spec)?;
    Ok(spec)
}

/// The data records of a CSV reader as table rows (line and byte position, text cells).
fn table_rows<'r, R: std::io::Read + 'r>(
    path: &'r Path,
    records: csv::StringRecordsIter<'r, R>,
) -> impl Iterator<Item = Result<TableRow, IoError>> + 'r {
    records.map(move |r| {
        r.map(|rec| TableRow {
            line: rec.position().map_or(0, |p| p.line()),
            byte: rec.position().map_or(0, |p| p.byte()),
            cells: rec.iter().map(str::to_string).collect(),
            numeric: Vec::new(),
            problem: None,
        })
        .map_err(|e| csv_error(path, &e))
    })
}

/// Maps the first `n` data rows without writing anything, marking each row's problems.
pub fn preview_csv(
    path: &Path,
    spec: &MappingSpec,
    schema: &crate::model::Schema,
    opts: &CsvOptions,
    n: usize,
) -> Result<Preview, IoError> {
    let spec = apply_overrides(spec, opts)?;
    let parsed = load(path, &spec, opts)?;
    let mut rdr = reader(&parsed.text, parsed.delimiter);
    let mut records = rdr.records();
    let header = read_header(path, &mut records)?;
    let mapper = TableMapper::new(&spec, &header, schema, path, opts, "csv")?;
    let rows = mapper.preview(table_rows(path, records), n)?;
    Ok(Preview {
        encoding: parsed.encoding.to_string(),
        delimiter: display_delimiter(parsed.delimiter),
        header,
        rows,
    })
}

fn csv_error(path: &Path, e: &csv::Error) -> IoError {
    let location = e
        .position()
        .map_or_else(|| "unknown line".into(), |p| format!("line {}", p.line()));
    IoError::Parse {
        path: path.to_path_buf(),
        location,
        reason: e.to_string(),
    }
}

/// A row whose shape is wrong: a different number of fields, or the header again.
fn row_shape(line: u64, fields: &[&str], header: &[String]) -> Option<RowProblem> {
    if fields.len() == header.len() && fields.iter().zip(header).all(|(f, h)| f.trim() == h) {
        return Some(RowProblem {
            line,
            field: None,
            reason: "the header is repeated here (were two files joined?)".into(),
        });
    }
    if fields.len() != header.len() {
        return Some(RowProblem {
            line,
            field: None,
            reason: format!(
                "the row has {} fields but the header has {} (a ragged row: a missing or extra delimiter, or a truncated file)",
                fields.len(),
                header.len()
            ),
        });
    }
    None
}

/// Imports a CSV or TSV file into a case as one batch, all or nothing (strict), or skipping
/// and listing bad rows (lenient). Entities matching existing ones on a normalised identifier
/// are merged into them and reported; that combination is audited after the batch.
pub fn import_csv(
    case: &mut Case,
    path: &Path,
    spec: &MappingSpec,
    opts: &CsvOptions,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<ImportReport, IoError> {
    // The spec is checked (overrides applied, gradings known) in `import_table`, which every
    // tabular importer goes through; here it only chooses how to read the file.
    let parsed = load(path, &apply_overrides(spec, opts)?, opts)?;
    let mut rdr = reader(&parsed.text, parsed.delimiter);
    let mut records = rdr.records();
    let header = read_header(path, &mut records)?;
    let rows = table_rows(path, records);
    let meta = TableMeta {
        format: if parsed.delimiter == b'\t' {
            "tsv".into()
        } else {
            "csv".into()
        },
        sha256: parsed.src.sha256.clone(),
        bytes: parsed.src.bytes.len() as u64,
        encoding: parsed.encoding.to_string(),
        delimiter: Some(display_delimiter(parsed.delimiter)),
        total: parsed.text.len() as u64,
    };
    import_table(
        case, path, spec, opts, &meta, &header, rows, cancel, progress,
    )
}

/// One data row of any tabular source.
pub(crate) struct TableRow {
    /// Line (CSV) or row number (spreadsheet), 1-based, header included.
    pub line: u64,
    /// Position for progress, in the same unit as [`TableMeta::total`].
    pub byte: u64,
    pub cells: Vec<String>,
    /// Which cells the source held as numbers (spreadsheets, Parquet); empty for text sources.
    pub numeric: Vec<bool>,
    /// A cell the source could not turn into text (Parquet binary that is not UTF-8, a
    /// timestamp out of range): the row is rejected with it.
    pub problem: Option<RowProblem>,
}

/// Facts about a tabular source for the report and the batch.
#[derive(Clone)]
pub(crate) struct TableMeta {
    pub format: String,
    pub sha256: String,
    pub bytes: u64,
    pub encoding: String,
    pub delimiter: Option<String>,
    pub total: u64,
}

/// A spec bound to a table's header, mapping its rows the same way for the preview and the
/// import.
pub(crate) struct TableMapper {
    compiled: Compiled,
    header: Vec<String>,
    /// Identifier columns (position, name): they must hold text, since a spreadsheet or
    /// Parquet number has lost leading zeros.
    id_columns: Vec<(usize, String)>,
    format: String,
}

impl TableMapper {
    pub(crate) fn new(
        spec: &MappingSpec,
        header: &[String],
        schema: &crate::model::Schema,
        path: &Path,
        opts: &CsvOptions,
        format: &str,
    ) -> Result<TableMapper, IoError> {
        let id_columns = spec
            .entities
            .iter()
            .filter(|m| {
                m.id_property.as_ref().is_some_and(|p| {
                    super::spec::is_identifier_kind(schema.property_kind(&m.entity_type, p))
                })
            })
            .filter_map(|m| {
                header
                    .iter()
                    .position(|h| h == &m.id)
                    .map(|i| (i, m.id.clone()))
            })
            .collect();
        let compiled = Compiled::new(
            spec.clone(),
            header,
            schema,
            &file_name(path),
            opts.limits.max_field_bytes,
        )?;
        Ok(TableMapper {
            compiled,
            header: header.to_vec(),
            id_columns,
            format: format.to_string(),
        })
    }

    /// Maps one row, or names its problem.
    pub(crate) fn map(&self, row: TableRow) -> Result<MappedRow, RowProblem> {
        let TableRow {
            line,
            cells,
            numeric,
            problem,
            ..
        } = row;
        let fields: Vec<&str> = cells.iter().map(String::as_str).collect();
        let number_id = self
            .id_columns
            .iter()
            .find(|(i, _)| numeric.get(*i).copied().unwrap_or(false));
        match (
            row_shape(line, &fields, &self.header).or(problem),
            number_id,
        ) {
            (Some(p), _) => Err(p),
            (None, Some((_, col))) => Err(RowProblem {
                line,
                field: Some(col.clone()),
                reason: if self.format == "parquet" {
                    "the Parquet file stores this identifier as a number, so leading zeros may be lost; write the column as a string and export again".into()
                } else {
                    "the workbook stores this identifier as a number, so leading zeros or digits may be lost; format the column as text in the workbook and export again".into()
                },
            }),
            (None, None) => self.compiled.map_row(line, &fields),
        }
    }

    /// Maps the first `n` rows of `rows` for a preview, writing nothing.
    pub(crate) fn preview(
        &self,
        rows: impl Iterator<Item = Result<TableRow, IoError>>,
        n: usize,
    ) -> Result<Vec<PreviewRow>, IoError> {
        let mut out = Vec::new();
        for row in rows.take(n) {
            let row = row?;
            let (line, cells) = (row.line, row.cells.clone());
            let (makes, problems) = match self.map(row) {
                Ok(row) => {
                    let mut makes = Vec::new();
                    for e in row.entities.iter().flatten() {
                        makes.push(format!("{} {}", e.entity_type, e.label));
                    }
                    for (_, _, l, _) in &row.links {
                        makes.push(format!("link {}", l.link_type));
                    }
                    for (e, _) in &row.events {
                        makes.push(format!("{} {}", e.event_type, e.time.start().to_rfc3339()));
                    }
                    (makes, row.warnings)
                }
                Err(p) => (Vec::new(), vec![p]),
            };
            out.push(PreviewRow {
                line,
                cells,
                makes,
                problems,
            });
        }
        Ok(out)
    }
}

/// Source ids given to two different entities in one source.
///
/// An entity keyed by its source id only (no identifier property) is one thing for the whole
/// file: every row with that id resolves to it. When two rows give the same id different
/// names ("P1, Alice Smith" and "P1, Bob Jones") they describe two people, and merging them
/// would be silent corruption. What this importer does, as i2's import reports duplicates:
/// the first row is kept, and a later row whose name differs is rejected, naming its line,
/// the id column, the id and the line of the first (in a strict import that refuses the
/// file; a lenient one skips the row, listed for re-import once one of the ids is changed).
/// A later row with the same name, or none, describes the same entity and is merged into it;
/// in an entity list (a spec without links or events, where each row is one record) that is
/// a duplicate record and reported as a warning, while in a link or event file an id
/// recurring is the normal case and is not.
///
/// Names are compared ignoring case and runs of white space. Entities matched on an
/// identifier property (phone, IBAN, ...) are left out: they are merged on purpose, their
/// labels are spellings of the same number, and the merge is reported as entity resolution.
/// Only entities whose mapping has a label column are tracked, so a call-record import pays
/// nothing for this.
struct RepeatedIds {
    /// For each of the spec's entities: its id column, if it is tracked.
    tracked: Vec<Option<String>>,
    entity_list: bool,
    /// (entity type, source id) → the line that first gave it, and the name it gave.
    first: FxHashMap<(String, String), (u64, Option<String>)>,
}

impl RepeatedIds {
    fn new(spec: &MappingSpec) -> RepeatedIds {
        RepeatedIds {
            tracked: spec
                .entities
                .iter()
                .map(|m| (m.id_property.is_none() && m.label.is_some()).then(|| m.id.clone()))
                .collect(),
            entity_list: spec.links.is_empty() && spec.events.is_empty(),
            first: FxHashMap::default(),
        }
    }

    fn same_name(a: &str, b: &str) -> bool {
        let fold = |s: &str| {
            s.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
        };
        fold(a) == fold(b)
    }

    /// Passes a mapped row on, or rejects it when it gives a known id a different name.
    fn check(&mut self, mut row: MappedRow) -> Result<MappedRow, RowProblem> {
        if self.tracked.iter().all(Option::is_none) {
            return Ok(row);
        }
        let mut new_names = Vec::new();
        for (entity, column) in row.entities.iter().zip(&self.tracked) {
            let (Some(e), Some(column)) = (entity, column) else {
                continue;
            };
            // A label equal to the id is the fallback for an empty name cell: no name given.
            let name = (e.label != e.id_raw).then(|| e.label.clone());
            let key = (e.entity_type.clone(), e.id_raw.clone());
            match self.first.get(&key) {
                None => new_names.push((key, name)),
                Some((line, first_name)) => match (first_name, &name) {
                    (Some(first_name), Some(name)) if !Self::same_name(first_name, name) => {
                        return Err(RowProblem {
                            line: row.line,
                            field: Some(column.clone()),
                            reason: format!(
                                "the id '{}' was given to '{first_name}' on line {line}, and this row gives it to '{name}': two different entities cannot share an id in one file, so this row was not imported (the first was kept); give one of them another id",
                                e.id_raw
                            ),
                        });
                    }
                    (None, Some(_)) => new_names.push((key, name)),
                    _ => {
                        if self.entity_list {
                            row.warnings.push(RowProblem {
                                line: row.line,
                                field: Some(column.clone()),
                                reason: format!(
                                    "the id '{}' was already given on line {line} (with the same name or none): a duplicate record, merged into that entity",
                                    e.id_raw
                                ),
                            });
                        }
                    }
                },
            }
        }
        for (key, name) in new_names {
            let line = row.line;
            self.first
                .entry(key)
                .and_modify(|(_, first_name)| {
                    if first_name.is_none() {
                        first_name.clone_from(&name);
                    }
                })
                .or_insert((line, name));
        }
        Ok(row)
    }
}

/// Rows handed to the mapping thread at a time. Small, so that the rows in flight (a few
/// KB each) stay in the CPU caches between the two threads: 1 024-row chunks made the 1M
/// call-record import take 21–23 s, 128-row chunks 16–18.5 s (BENCHMARKS.md).
const MAP_CHUNK: usize = 128;

/// Chunks mapped ahead of the writer at most.
const MAP_AHEAD: usize = 4;

/// Imports rows from any tabular source through a spec, as one batch (see [`import_csv`]).
#[allow(clippy::too_many_arguments)] // reason: the parts of one import, each distinct
pub(crate) fn import_table(
    case: &mut Case,
    path: &Path,
    spec: &MappingSpec,
    opts: &CsvOptions,
    meta: &TableMeta,
    header: &[String],
    table: impl Iterator<Item = Result<TableRow, IoError>>,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<ImportReport, IoError> {
    // One set of checks for every tabular format: the overrides applied, the spec checked and
    // its gradings known to the case, before anything is read into the case.
    let spec = apply_overrides(spec, opts)?;
    check_gradings(&spec, case.grading_schemes())?;
    let mapper = TableMapper::new(&spec, header, case.schema(), path, opts, &meta.format)?;
    // Entities keyed by source id only (no identifier property) match those already in the
    // case through a one-off index.
    let existing: HashMap<(String, String), EntityId> =
        if spec.entities.iter().any(|e| e.id_property.is_none()) {
            case.snapshot()?
                .entities
                .iter()
                .filter_map(|e| {
                    e.source_id
                        .clone()
                        .map(|s| ((e.entity_type.clone(), s), e.id))
                })
                .collect()
        } else {
            HashMap::new()
        };
    let mut report = ImportReport {
        source: path.display().to_string(),
        format: meta.format.clone(),
        sha256: meta.sha256.clone(),
        bytes: meta.bytes,
        encoding: meta.encoding.clone(),
        delimiter: meta.delimiter.clone(),
        spec_name: spec.name.clone(),
        lenient: opts.lenient,
        reimport_of_lines: opts
            .only_lines
            .as_ref()
            .map(|s| s.iter().copied().collect()),
        ..ImportReport::default()
    };
    let batch = NewBatch {
        kind: "import".into(),
        description: format!(
            "{} import of {}",
            if spec.name.is_empty() {
                meta.format.to_uppercase()
            } else {
                spec.name.clone()
            },
            file_name(path)
        ),
        source_path: Some(path.display().to_string()),
        source_sha256: Some(meta.sha256.clone()),
        source_bytes: Some(meta.bytes),
        spec: serde_json::to_value(&spec).ok(),
        review_date: None,
        grading: spec.grading.clone(),
    };
    for col in &mapper.compiled.absent {
        report.warnings.push(RowProblem {
            line: 1,
            field: Some(col.clone()),
            reason: "the spec maps this column but the file has none; its values are left empty"
                .into(),
        });
    }
    let total = meta.total.max(1) as f32;
    let lenient = opts.lenient;
    // Mapping a row (parsing times and numbers, normalising identifiers, building the items)
    // needs nothing from the case, so it runs on a second thread while this one resolves and
    // writes the rows mapped before: on two cores a large import takes about the time of the
    // writing alone. Rows travel in chunks, in order, and at most `MAP_AHEAD` chunks are
    // ahead of the writer, so memory stays bounded.
    let result = case.import_streamed(batch, |w| -> Result<ImportReport, IoError> {
        let mut resolver = Resolver::new(existing);
        let mut rows = 0u64;
        // Writes a mapped chunk; returns the rows' entities, to be freed by the mapping thread.
        let mut write = |mapped: Vec<Result<MappedRow, RowProblem>>,
                         report: &mut ImportReport|
         -> Result<Vec<Vec<Option<MappedEntity>>>, IoError> {
            let mut spent = Vec::with_capacity(mapped.len());
            for m in mapped {
                match m {
                    Ok(row) => {
                        report.warnings.extend(row.warnings.iter().cloned());
                        // In strict mode, once a row is rejected nothing will be committed,
                        // so the remaining rows are only checked, not written.
                        if lenient || report.rejected.is_empty() {
                            spent.push(resolver.write_row(w, row, report)?);
                        }
                        report.rows_accepted += 1;
                    }
                    Err(p) => {
                        report.rows_rejected += 1;
                        report.rejected.push(p);
                    }
                }
            }
            Ok(spent)
        };
        std::thread::scope(|scope| -> Result<(), IoError> {
            let (chunk_tx, chunk_rx) = std::sync::mpsc::channel::<Vec<TableRow>>();
            let (mapped_tx, mapped_rx) = std::sync::mpsc::channel();
            // Written rows' entities (a dozen small strings per row) go back to the mapping
            // thread to be freed there: freeing memory another thread allocated is the slow
            // path of the allocator, and it was a twelfth of the writing thread's time.
            let (spent_tx, spent_rx) = std::sync::mpsc::channel::<Vec<Vec<Option<MappedEntity>>>>();
            let mapper = &mapper;
            let mut repeated = RepeatedIds::new(&spec);
            std::thread::Builder::new()
                .name("copkit-map-rows".into())
                .spawn_scoped(scope, move || {
                    let mut numbering = KeyNumbering::default();
                    for chunk in chunk_rx {
                        spent_rx.try_iter().for_each(drop);
                        let mapped: Vec<_> = chunk
                            .into_iter()
                            .map(|row| {
                                // Checked before numbering: only rows that will be written
                                // may be numbered.
                                let mut mapped =
                                    mapper.map(row).and_then(|row| repeated.check(row));
                                if let Ok(row) = &mut mapped {
                                    numbering.number(row);
                                }
                                mapped
                            })
                            .collect();
                        if mapped_tx.send(mapped).is_err() {
                            break;
                        }
                    }
                })
                .map_err(|e| {
                    IoError::Store(crate::store::StoreError::Invalid(format!(
                        "could not start the row-mapping thread ({e}); the import is not written"
                    )))
                })?;
            let mapper_gone = || {
                IoError::Store(crate::store::StoreError::Invalid(
                    "internal error: the row-mapping thread stopped; the import is not written"
                        .into(),
                ))
            };
            let mut in_flight = 0usize;
            let mut chunk = Vec::with_capacity(MAP_CHUNK);
            for row in table {
                let row = row?;
                if let Some(only) = &opts.only_lines
                    && !only.contains(&row.line)
                {
                    continue;
                }
                rows += 1;
                if rows > opts.limits.max_rows {
                    return Err(IoError::Bound {
                        path: path.to_path_buf(),
                        bound: "max_rows",
                        detail: format!("more than {} rows", opts.limits.max_rows),
                    });
                }
                if rows.is_multiple_of(4096) {
                    cancel.check().map_err(|_| IoError::Cancelled)?;
                    let at = row.byte as f32;
                    progress.report(Some(at / total), &format!("{rows} rows read"));
                }
                report.rows_read += 1;
                chunk.push(row);
                if chunk.len() == MAP_CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(MAP_CHUNK));
                    chunk_tx.send(full).map_err(|_| mapper_gone())?;
                    in_flight += 1;
                    while in_flight > MAP_AHEAD {
                        let mapped = mapped_rx.recv().map_err(|_| mapper_gone())?;
                        in_flight -= 1;
                        let spent = write(mapped, &mut report)?;
                        // If the mapping thread has ended, the entities are freed here.
                        let _ = spent_tx.send(spent);
                    }
                }
            }
            if !chunk.is_empty() {
                chunk_tx.send(chunk).map_err(|_| mapper_gone())?;
                in_flight += 1;
            }
            drop(chunk_tx);
            for _ in 0..in_flight {
                let mapped = mapped_rx.recv().map_err(|_| mapper_gone())?;
                write(mapped, &mut report)?;
            }
            Ok(())
        })?;
        progress.report(Some(1.0), &format!("{rows} rows read"));
        if report.rows_read == 0 && opts.only_lines.is_none() {
            return Err(IoError::Empty {
                path: path.to_path_buf(),
                what: "the file has a header but no data rows",
            });
        }
        if !lenient && !report.rejected.is_empty() {
            return Err(IoError::Rejected {
                path: path.to_path_buf(),
                report: Box::new(report.clone()),
            });
        }
        if lenient && report.rows_accepted == 0 {
            return Err(IoError::Rejected {
                path: path.to_path_buf(),
                report: Box::new(report.clone()),
            });
        }
        Ok(report.clone())
    });
    let (applied, mut report) = result?;
    report.batch = applied.batch;
    if report.entities_merged > 0 {
        case.record(
            AuditCategory::Combination,
            "import matched existing entities",
            serde_json::json!({
                "batch": applied.batch.map(|b| b.0),
                "entities_merged": report.entities_merged,
                "method": "normalised identifier or source id match at import",
                "source_sha256": report.sha256,
            }),
        )?;
    }
    Ok(report)
}

/// Imports only the rows an earlier import rejected or skipped, after the spec (or options)
/// were fixed. The file must be byte-identical to the one the report describes.
pub fn reimport_rejected(
    case: &mut Case,
    path: &Path,
    spec: &MappingSpec,
    previous: &ImportReport,
    opts: &CsvOptions,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<ImportReport, IoError> {
    reimport_rejected_with(case, path, previous, opts, |case, opts| {
        import_csv(case, path, spec, opts, cancel, progress)
    })
}

/// Re-imports the rows `previous` rejected through `import` (the importer of the file's
/// format, given options that select those rows by line or row number), after checking the
/// file is byte-identical to the one the report describes.
pub fn reimport_rejected_with(
    case: &mut Case,
    path: &Path,
    previous: &ImportReport,
    opts: &CsvOptions,
    import: impl FnOnce(&mut Case, &CsvOptions) -> Result<ImportReport, IoError>,
) -> Result<ImportReport, IoError> {
    let src = read_source(path, &opts.limits)?;
    if src.sha256 != previous.sha256 {
        return Err(IoError::Refused {
            path: path.to_path_buf(),
            reason: format!(
                "the file changed since the earlier import (SHA-256 {} then, {} now); import it anew",
                previous.sha256, src.sha256
            ),
        });
    }
    let lines: BTreeSet<u64> = previous.rejected.iter().map(|p| p.line).collect();
    if lines.is_empty() {
        return Err(IoError::Refused {
            path: path.to_path_buf(),
            reason: "the earlier report lists no rejected rows".into(),
        });
    }
    let opts = CsvOptions {
        only_lines: Some(lines),
        ..opts.clone()
    };
    import(case, &opts)
}
