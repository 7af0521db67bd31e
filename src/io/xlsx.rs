//! XLSX (and XLS, ODS) import through a mapping spec, read with calamine from memory. Before
//! calamine sees the bytes, the zip container is checked through its central directory: the
//! entry count and the declared decompressed size are bounded and entry names that climb out
//! (`../`, absolute paths) are refused, so a zip bomb or a crafted archive is named, not
//! unpacked. Nothing is ever extracted to disk. Cells the workbook holds as numbers in an
//! identifier column reject their row (leading zeros are lost), never silently accepted.

use super::csv::{CsvOptions, Preview, TableMapper, TableMeta, TableRow, import_table};
use super::report::ImportReport;
use super::spec::MappingSpec;
use super::{IoError, read_source};
use crate::jobs::{CancelToken, Progress};
use crate::store::Case;
use calamine::{Data, Reader};
use std::io::Cursor;
use std::path::Path;

fn cell_text(d: &Data) -> (String, bool) {
    match d {
        Data::Empty => (String::new(), false),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => (s.clone(), false),
        Data::Float(f) => {
            let t = if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{f:.0}")
            } else {
                f.to_string()
            };
            (t, true)
        }
        Data::Int(i) => (i.to_string(), true),
        Data::Bool(b) => (b.to_string(), false),
        // A date cell is a date, not a number: ISO 8601 text (a date alone when it has no
        // time of day), local wall-clock time as the workbook has no zone, so the import's zone
        // applies. Read as its serial number, its day and month could not be told apart from
        // text; a duration cell is its number of seconds.
        Data::DateTime(dt) => (excel_date_text(dt), false),
        Data::Error(e) => (format!("{e}"), false),
    }
}

/// Refuses a sheet whose cells span more rows times columns than `max_sheet_cells`, before
/// calamine builds its dense range: a 1.5 KB file with cells only in A1 and XFD1048576 would
/// otherwise make it allocate a grid of 17 billion cells (549 GB). The cells are streamed once
/// to find their real extent (a sheet's declared `<dimension>` may lie either way).
fn check_extent<RS: std::io::Read + std::io::Seek>(
    path: &Path,
    book: &mut calamine::Xlsx<RS>,
    sheet: &str,
    limits: &super::Limits,
) -> Result<(), IoError> {
    let bad = |e: calamine::XlsxError| IoError::Parse {
        path: path.to_path_buf(),
        location: format!("sheet '{sheet}'"),
        reason: e.to_string(),
    };
    let mut cells = book.worksheet_cells_reader(sheet).map_err(bad)?;
    let (mut min, mut max): (Option<(u32, u32)>, (u32, u32)) = (None, (0, 0));
    while let Some(cell) = cells.next_cell().map_err(bad)? {
        let (row, col) = cell.get_position();
        let (r0, c0) = min.unwrap_or((row, col));
        min = Some((r0.min(row), c0.min(col)));
        max = (max.0.max(row), max.1.max(col));
    }
    let Some((r0, c0)) = min else {
        return Ok(());
    };
    let rows = u64::from(max.0 - r0) + 1;
    let cols = u64::from(max.1 - c0) + 1;
    if rows.saturating_mul(cols) > limits.max_sheet_cells {
        return Err(IoError::Bound {
            path: path.to_path_buf(),
            bound: "max_sheet_cells",
            detail: format!(
                "sheet '{sheet}' spans {rows} rows by {cols} columns ({} cells), the limit is {}",
                rows.saturating_mul(cols),
                limits.max_sheet_cells
            ),
        });
    }
    Ok(())
}

/// The ISO 8601 text of a date or time cell (1900 or 1904 date system, as the workbook says).
fn excel_date_text(dt: &calamine::ExcelDateTime) -> String {
    if dt.is_duration() {
        // Seconds, as duration columns are read (a clock "0:02:05" is only its display).
        let secs = dt.as_f64() * 86_400.0;
        let rounded = (secs * 1000.0).round() / 1000.0;
        return if rounded.fract() == 0.0 {
            format!("{rounded:.0}")
        } else {
            rounded.to_string()
        };
    }
    match dt.as_datetime() {
        Some(at) if at.time() == chrono::NaiveTime::MIN => at.format("%Y-%m-%d").to_string(),
        Some(at) if at.and_utc().timestamp_subsec_millis() == 0 => {
            at.format("%Y-%m-%dT%H:%M:%S").to_string()
        }
        Some(at) => at.format("%Y-%m-%dT%H:%M:%S%.3f").to_string(),
        // Outside chrono's range: the serial as it is.
        None => dt.as_f64().to_string(),
    }
}

/// A sheet read into memory: its cells, header, and the facts for the report.
struct Sheet {
    range: calamine::Range<Data>,
    header: Vec<String>,
    meta: TableMeta,
}

impl Sheet {
    /// Reads the first sheet (or the named one) of the workbook at `path`.
    fn open(path: &Path, sheet: Option<&str>, opts: &CsvOptions) -> Result<Sheet, IoError> {
        let src = read_source(path, &opts.limits)?;
        if src.bytes.is_empty() {
            return Err(IoError::Empty {
                path: path.to_path_buf(),
                what: "the file is empty (0 bytes); there is nothing to import",
            });
        }
        if src.bytes.starts_with(b"PK") {
            let mut archive =
                zip::ZipArchive::new(Cursor::new(&src.bytes[..])).map_err(|e| IoError::Parse {
                    path: path.to_path_buf(),
                    location: "zip container".into(),
                    reason: format!("not a readable zip archive ({e})"),
                })?;
            super::zipcheck::check_zip(path, &mut archive, &opts.limits)?;
        }
        let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(src.bytes.as_slice()))
            .map_err(|e| IoError::WrongFormat {
                path: path.to_path_buf(),
                what: format!("not a workbook calamine can read ({e})"),
                expected: "an XLSX, XLS or ODS workbook",
            })?;
        let names = book.sheet_names();
        let name = match sheet {
            Some(s) => names
                .iter()
                .find(|n| n.as_str() == s)
                .cloned()
                .ok_or_else(|| {
                    IoError::Spec(format!("no sheet '{s}' (sheets: {})", names.join(", ")))
                })?,
            None => names.first().cloned().ok_or_else(|| IoError::Empty {
                path: path.to_path_buf(),
                what: "the workbook has no sheets",
            })?,
        };
        if let calamine::Sheets::Xlsx(xlsx) = &mut book {
            check_extent(path, xlsx, &name, &opts.limits)?;
        }
        let range = book.worksheet_range(&name).map_err(|e| IoError::Parse {
            path: path.to_path_buf(),
            location: format!("sheet '{name}'"),
            reason: e.to_string(),
        })?;
        let header: Vec<String> = range
            .rows()
            .next()
            .ok_or(IoError::Empty {
                path: path.to_path_buf(),
                what: "the sheet is empty",
            })?
            .iter()
            .map(|c| cell_text(c).0.trim().to_string())
            .collect();
        let meta = TableMeta {
            format: "xlsx".into(),
            sha256: src.sha256.clone(),
            bytes: src.bytes.len() as u64,
            encoding: format!("workbook, sheet '{name}'"),
            delimiter: None,
            total: range.height() as u64,
        };
        Ok(Sheet {
            range,
            header,
            meta,
        })
    }

    /// The data rows, numbered as the spreadsheet shows them (the header is the first row).
    fn rows(&self) -> impl Iterator<Item = Result<TableRow, IoError>> + '_ {
        let (first_row, _) = self.range.start().unwrap_or((0, 0));
        self.range.rows().skip(1).enumerate().map(move |(i, r)| {
            let line = u64::from(first_row) + i as u64 + 2;
            let (cells, numeric) = r.iter().map(cell_text).unzip();
            Ok(TableRow {
                line,
                byte: i as u64,
                cells,
                numeric,
                problem: None,
            })
        })
    }
}

/// Imports the first sheet (or the named one) of a workbook.
pub fn import_xlsx(
    case: &mut Case,
    path: &Path,
    sheet: Option<&str>,
    spec: &MappingSpec,
    opts: &CsvOptions,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<ImportReport, IoError> {
    let sheet = Sheet::open(path, sheet, opts)?;
    import_table(
        case,
        path,
        spec,
        opts,
        &sheet.meta,
        &sheet.header,
        sheet.rows(),
        cancel,
        progress,
    )
}

/// Maps the first `n` rows of the first (or named) sheet without writing anything, marking
/// each row's problems, exactly as [`import_xlsx`] would map them.
pub fn preview_xlsx(
    path: &Path,
    sheet: Option<&str>,
    spec: &MappingSpec,
    schema: &crate::model::Schema,
    opts: &CsvOptions,
    n: usize,
) -> Result<Preview, IoError> {
    let sheet = Sheet::open(path, sheet, opts)?;
    let spec = super::csv::apply_overrides(spec, opts)?;
    let mapper = TableMapper::new(&spec, &sheet.header, schema, path, opts, "xlsx")?;
    let rows = mapper.preview(sheet.rows(), n)?;
    Ok(Preview {
        encoding: sheet.meta.encoding.clone(),
        delimiter: String::new(),
        header: sheet.header.clone(),
        rows,
    })
}
