//! Parquet import through a mapping spec, read with the `parquet` crate's column readers
//! (no arrow, no polars). A flat table (one plain column per field, as pandas, polars,
//! pyarrow and Spark write by default) becomes rows of text cells that go through the same
//! mapping and batch as CSV: the column names are the header, the record numbers in the
//! report are data-row numbers counted from 1 across all row groups.
//!
//! Cells become the text the spec reads: timestamps as ISO 8601 (with `Z` when the file says
//! they are UTC, without an offset when it says they are local wall-clock time, so the spec's
//! zone applies) or as epoch numbers when the spec's `time.format` is `epoch_s`/`epoch_ms`;
//! dates as `YYYY-MM-DD`; decimals exactly, from their unscaled integer; binary as UTF-8, or a
//! rejected row naming the column; nulls as empty cells. Nested columns (structs, lists,
//! maps), compression codecs this build lacks and damaged files are refused with the file,
//! the row group or rows and the column named. The whole file is read into memory once and
//! hashed, so the recorded SHA-256 is of exactly the bytes parsed.
//!
//! The column readers are used rather than `parquet::record::Row`: the row API panics
//! (`unimplemented!`, `assert!`) on type combinations and nested schemas a crafted file can
//! declare, while the column readers return errors. Each call into the crate is still run
//! under `catch_unwind`, so a panic left in its decoders becomes an error naming the place,
//! never a crash of the workbench.

pub(crate) mod export;
mod table;
pub use table::{column_names, import_parquet, preview_parquet};

use super::csv::{CsvOptions, Preview, TableMapper, TableMeta, TableRow, import_table};
use super::report::{ImportReport, RowProblem};
use super::spec::MappingSpec;
use super::{IoError, read_source, sniff_binary};
use crate::jobs::{CancelToken, Progress};
use crate::store::Case;
use ::parquet::basic::{Compression, ConvertedType, LogicalType, Repetition, TimeUnit, Type};
use ::parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use ::parquet::data_type::{DataType, Int96};
use ::parquet::file::reader::{FileReader, SerializedFileReader};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// Rows decoded per column at a time: bounds memory per column while keeping calls few.
const CHUNK_ROWS: usize = 4096;

/// How the values of one column become text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Bool,
    /// Integers (signed or, when the file says so, unsigned of the physical width).
    Int {
        unsigned: bool,
    },
    Float,
    Decimal {
        scale: i32,
    },
    Date,
    TimeOfDay(Unit),
    Timestamp {
        unit: Unit,
        utc: bool,
    },
    /// The legacy INT96 timestamp (Impala, old Spark): nanoseconds of a Julian day, UTC.
    Int96Timestamp,
    /// Text the file declares as UTF-8 (string, enum, JSON).
    Text,
    /// Bytes with no declared meaning: taken as UTF-8 text when they are.
    Binary,
    Uuid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Millis,
    Micros,
    Nanos,
}

impl From<&TimeUnit> for Unit {
    fn from(u: &TimeUnit) -> Unit {
        match u {
            TimeUnit::MILLIS => Unit::Millis,
            TimeUnit::MICROS => Unit::Micros,
            TimeUnit::NANOS => Unit::Nanos,
        }
    }
}

impl Kind {
    /// Whether the file holds the value as a number (an identifier stored so has lost any
    /// leading zeros, as in a spreadsheet).
    fn numeric(self) -> bool {
        matches!(self, Kind::Int { .. } | Kind::Float | Kind::Decimal { .. })
    }
}

/// How a time cell is written, from the spec's `time.format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TimeText {
    Iso,
    EpochSeconds,
    EpochMillis,
}

/// One column of the file as the importer reads it.
#[derive(Clone, Debug)]
struct Column {
    name: String,
    kind: Kind,
    /// Optional columns carry definition levels (0 = null).
    optional: bool,
}

fn parse_err(path: &Path, location: impl Into<String>, reason: impl Into<String>) -> IoError {
    IoError::Parse {
        path: path.to_path_buf(),
        location: location.into(),
        reason: reason.into(),
    }
}

/// Runs a call into the parquet crate, turning a panic inside it into an error message.
fn guarded<T>(f: impl FnOnce() -> ::parquet::errors::Result<T>) -> Result<T, String> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "no message".into());
            Err(format!("the Parquet reader failed on this data ({what})"))
        }
    }
}

/// Decides how a top-level column is read, or why it cannot be.
fn column_kind(descr: &::parquet::schema::types::ColumnDescriptor) -> Result<Kind, String> {
    let physical = descr.physical_type();
    let unsupported = |what: &str| {
        Err(format!(
            "its type ({what}, stored as {physical}) cannot be imported; convert the column to text, a number or a timestamp"
        ))
    };
    let kind = match descr.logical_type_ref() {
        Some(LogicalType::String | LogicalType::Enum | LogicalType::Json) => Kind::Text,
        Some(LogicalType::Bson) => Kind::Binary,
        Some(LogicalType::Uuid) => Kind::Uuid,
        Some(LogicalType::Decimal(d)) => Kind::Decimal { scale: d.scale },
        Some(LogicalType::Date) => Kind::Date,
        Some(LogicalType::Time(t)) => Kind::TimeOfDay(Unit::from(&t.unit)),
        Some(LogicalType::Timestamp(t)) => Kind::Timestamp {
            unit: Unit::from(&t.unit),
            utc: t.is_adjusted_to_u_t_c,
        },
        Some(LogicalType::Integer(i)) => Kind::Int {
            unsigned: !i.is_signed,
        },
        Some(LogicalType::Float16) => return unsupported("a 16-bit float"),
        Some(LogicalType::Map | LogicalType::List) => {
            return Err("it is a map or a list (a nested column)".into());
        }
        Some(other) => return unsupported(&format!("{other:?}")),
        None => match descr.converted_type() {
            ConvertedType::UTF8 | ConvertedType::ENUM | ConvertedType::JSON => Kind::Text,
            ConvertedType::BSON => Kind::Binary,
            ConvertedType::DECIMAL => Kind::Decimal {
                scale: descr.type_scale(),
            },
            ConvertedType::DATE => Kind::Date,
            ConvertedType::TIME_MILLIS => Kind::TimeOfDay(Unit::Millis),
            ConvertedType::TIME_MICROS => Kind::TimeOfDay(Unit::Micros),
            ConvertedType::TIMESTAMP_MILLIS => Kind::Timestamp {
                unit: Unit::Millis,
                utc: true,
            },
            ConvertedType::TIMESTAMP_MICROS => Kind::Timestamp {
                unit: Unit::Micros,
                utc: true,
            },
            ConvertedType::UINT_8
            | ConvertedType::UINT_16
            | ConvertedType::UINT_32
            | ConvertedType::UINT_64 => Kind::Int { unsigned: true },
            ConvertedType::INT_8
            | ConvertedType::INT_16
            | ConvertedType::INT_32
            | ConvertedType::INT_64 => Kind::Int { unsigned: false },
            ConvertedType::NONE => match physical {
                Type::BOOLEAN => Kind::Bool,
                Type::INT32 | Type::INT64 => Kind::Int { unsigned: false },
                Type::INT96 => Kind::Int96Timestamp,
                Type::FLOAT | Type::DOUBLE => Kind::Float,
                Type::BYTE_ARRAY | Type::FIXED_LEN_BYTE_ARRAY => Kind::Binary,
            },
            other => return unsupported(&other.to_string()),
        },
    };
    // The declared meaning must fit the physical type, or the values cannot be read as it.
    let fits = match kind {
        Kind::Bool => physical == Type::BOOLEAN,
        Kind::Int { .. } | Kind::Date => matches!(physical, Type::INT32 | Type::INT64),
        Kind::Float => matches!(physical, Type::FLOAT | Type::DOUBLE),
        Kind::Decimal { scale } => {
            (0..=76).contains(&scale)
                && matches!(
                    physical,
                    Type::INT32 | Type::INT64 | Type::BYTE_ARRAY | Type::FIXED_LEN_BYTE_ARRAY
                )
        }
        Kind::TimeOfDay(Unit::Millis) => physical == Type::INT32,
        Kind::TimeOfDay(_) | Kind::Timestamp { .. } => physical == Type::INT64,
        Kind::Int96Timestamp => physical == Type::INT96,
        Kind::Text | Kind::Binary => {
            matches!(physical, Type::BYTE_ARRAY | Type::FIXED_LEN_BYTE_ARRAY)
        }
        Kind::Uuid => physical == Type::FIXED_LEN_BYTE_ARRAY,
    };
    if !fits {
        return Err(format!(
            "it declares {kind:?} values stored as {physical}, which do not go together (the file is damaged or written by a faulty tool)"
        ));
    }
    Ok(kind)
}

/// Checks the schema is a flat table and says how each column is read.
fn plan_columns(
    path: &Path,
    schema: &::parquet::schema::types::SchemaDescriptor,
) -> Result<Vec<Column>, IoError> {
    let root = schema.root_schema();
    let fields = root.get_fields();
    if fields.is_empty() {
        return Err(IoError::Empty {
            path: path.to_path_buf(),
            what: "the Parquet file has no columns; there is nothing to import",
        });
    }
    for field in fields {
        let repeated = field.get_basic_info().has_repetition()
            && field.get_basic_info().repetition() == Repetition::REPEATED;
        if field.is_group() || repeated {
            return Err(parse_err(
                path,
                format!("schema, column '{}'", field.name()),
                "a nested column (a struct, list or map) cannot be imported; only flat tables can: flatten it into plain columns first (for example unnest it in polars or pandas and write the file again)",
            ));
        }
    }
    // A flat schema has exactly one leaf per top-level field, in the same order.
    if schema.num_columns() != fields.len() {
        return Err(parse_err(
            path,
            "schema",
            format!(
                "{} leaf columns for {} fields (the file is damaged)",
                schema.num_columns(),
                fields.len()
            ),
        ));
    }
    schema
        .columns()
        .iter()
        .map(|descr| {
            let name = descr.name().to_string();
            let kind = column_kind(descr)
                .map_err(|reason| parse_err(path, format!("schema, column '{name}'"), reason))?;
            Ok(Column {
                name,
                kind,
                optional: descr.max_def_level() > 0,
            })
        })
        .collect()
}

/// A column reader of any physical type.
enum Reader {
    Bool(ColumnReaderImpl<::parquet::data_type::BoolType>),
    I32(ColumnReaderImpl<::parquet::data_type::Int32Type>),
    I64(ColumnReaderImpl<::parquet::data_type::Int64Type>),
    I96(ColumnReaderImpl<::parquet::data_type::Int96Type>),
    F32(ColumnReaderImpl<::parquet::data_type::FloatType>),
    F64(ColumnReaderImpl<::parquet::data_type::DoubleType>),
    Bytes(ColumnReaderImpl<::parquet::data_type::ByteArrayType>),
    Fixed(ColumnReaderImpl<::parquet::data_type::FixedLenByteArrayType>),
}

impl From<ColumnReader> for Reader {
    fn from(r: ColumnReader) -> Reader {
        match r {
            ColumnReader::BoolColumnReader(r) => Reader::Bool(r),
            ColumnReader::Int32ColumnReader(r) => Reader::I32(r),
            ColumnReader::Int64ColumnReader(r) => Reader::I64(r),
            ColumnReader::Int96ColumnReader(r) => Reader::I96(r),
            ColumnReader::FloatColumnReader(r) => Reader::F32(r),
            ColumnReader::DoubleColumnReader(r) => Reader::F64(r),
            ColumnReader::ByteArrayColumnReader(r) => Reader::Bytes(r),
            ColumnReader::FixedLenByteArrayColumnReader(r) => Reader::Fixed(r),
        }
    }
}

/// One cell: its text (empty for null), or why its value cannot be read as text.
type Cell = Result<String, String>;

/// Reads up to `n` rows of one column as cells. A short read (fewer rows than asked) is
/// returned as is; the caller knows how many the row group declares.
fn read_chunk<T: DataType>(
    reader: &mut ColumnReaderImpl<T>,
    n: usize,
    optional: bool,
    mut convert: impl FnMut(&T::T) -> Cell,
) -> ::parquet::errors::Result<Vec<Cell>> {
    let mut values: Vec<T::T> = Vec::with_capacity(n.min(CHUNK_ROWS));
    let mut defs: Vec<i16> = Vec::new();
    let (records, _, _) = reader.read_records(
        n,
        if optional { Some(&mut defs) } else { None },
        None,
        &mut values,
    )?;
    if !optional {
        if values.len() != records {
            return Err(::parquet::errors::ParquetError::General(format!(
                "{records} rows but {} values",
                values.len()
            )));
        }
        return Ok(values.iter().map(convert).collect());
    }
    if defs.len() != records {
        return Err(::parquet::errors::ParquetError::General(format!(
            "{records} rows but {} definition levels",
            defs.len()
        )));
    }
    let mut next = values.iter();
    let mut cells = Vec::with_capacity(records);
    for d in &defs {
        if *d > 0 {
            let v = next.next().ok_or_else(|| {
                ::parquet::errors::ParquetError::General("fewer values than non-null rows".into())
            })?;
            cells.push(convert(v));
        } else {
            cells.push(Ok(String::new()));
        }
    }
    Ok(cells)
}

fn utf8(bytes: &[u8], what: &str) -> Cell {
    std::str::from_utf8(bytes).map(str::to_string).map_err(|e| {
        format!(
            "the {what} value ({} bytes) is not UTF-8 text (invalid at byte {}); convert the column to text before writing the file",
            bytes.len(),
            e.valid_up_to()
        )
    })
}

/// Formats an unscaled decimal exactly.
fn decimal_text(unscaled: i128, scale: i32) -> String {
    let digits = unscaled.unsigned_abs().to_string();
    let sign = if unscaled < 0 { "-" } else { "" };
    let scale = scale.max(0) as usize;
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let padded = if digits.len() <= scale {
        format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
    } else {
        digits
    };
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{sign}{int}.{frac}")
}

/// A big-endian two's-complement integer of up to 16 bytes (a decimal in a byte array).
fn be_i128(bytes: &[u8]) -> Result<i128, String> {
    if bytes.is_empty() {
        return Ok(0);
    }
    if bytes.len() > 16 {
        return Err(format!(
            "the decimal is {} bytes wide; at most 16 (38 digits) can be read",
            bytes.len()
        ));
    }
    let fill = if bytes[0] & 0x80 != 0 { 0xFF } else { 0 };
    let mut buf = [fill; 16];
    buf[16 - bytes.len()..].copy_from_slice(bytes);
    Ok(i128::from_be_bytes(buf))
}

fn time_text(at: DateTime<Utc>, utc: bool, style: TimeText) -> String {
    match style {
        TimeText::EpochMillis => at.timestamp_millis().to_string(),
        TimeText::EpochSeconds => {
            let ms = at.timestamp_millis();
            if ms % 1000 == 0 {
                (ms / 1000).to_string()
            } else {
                format!("{:.3}", ms as f64 / 1000.0)
            }
        }
        // Local wall-clock time is written without an offset, so the spec's zone applies.
        TimeText::Iso if utc => at.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string(),
        TimeText::Iso => at.naive_utc().format("%Y-%m-%dT%H:%M:%S%.f").to_string(),
    }
}

fn int_cell(kind: Kind, v: i64, bits: u32, style: TimeText) -> Cell {
    let out_of_range = || format!("the value {v} is out of the range of dates this program reads");
    match kind {
        Kind::Int { unsigned: true } => Ok(if bits == 32 {
            (v as i32 as u32).to_string()
        } else {
            (v as u64).to_string()
        }),
        Kind::Int { unsigned: false } => Ok(v.to_string()),
        Kind::Decimal { scale } => Ok(decimal_text(i128::from(v), scale)),
        Kind::Date => {
            let day = NaiveDate::from_ymd_opt(1970, 1, 1)
                .and_then(|d| d.checked_add_signed(chrono::Duration::try_days(v)?))
                .ok_or_else(out_of_range)?;
            Ok(match style {
                TimeText::Iso => day.format("%Y-%m-%d").to_string(),
                _ => time_text(day.and_time(NaiveTime::MIN).and_utc(), true, style),
            })
        }
        Kind::TimeOfDay(unit) => {
            let nanos = match unit {
                Unit::Millis => v.checked_mul(1_000_000),
                Unit::Micros => v.checked_mul(1_000),
                Unit::Nanos => Some(v),
            };
            nanos
                .filter(|n| (0..86_400_000_000_000).contains(n))
                .and_then(|n| {
                    NaiveTime::from_num_seconds_from_midnight_opt(
                        (n / 1_000_000_000) as u32,
                        (n % 1_000_000_000) as u32,
                    )
                })
                .map(|t| t.format("%H:%M:%S%.f").to_string())
                .ok_or_else(|| format!("the value {v} is not a time of day"))
        }
        Kind::Timestamp { unit, utc } => {
            let at = match unit {
                Unit::Millis => DateTime::from_timestamp_millis(v),
                Unit::Micros => DateTime::from_timestamp_micros(v),
                Unit::Nanos => Some(DateTime::from_timestamp_nanos(v)),
            }
            .ok_or_else(out_of_range)?;
            Ok(time_text(at, utc, style))
        }
        // Checked in `column_kind`: other kinds never come with an integer type.
        _ => Err(format!("the value {v} does not fit the column's type")),
    }
}

fn int96_cell(v: &Int96, style: TimeText) -> Cell {
    let d = v.data();
    let (lo, hi, julian) = (d[0], d[1], d[2]);
    let nanos_of_day = (u64::from(hi) << 32) | u64::from(lo);
    // Julian day 2440588 is 1970-01-01.
    let days = i64::from(julian) - 2_440_588;
    let nanos = i128::from(days) * 86_400_000_000_000 + i128::from(nanos_of_day);
    let at = i64::try_from(nanos)
        .ok()
        .filter(|_| nanos_of_day < 86_400_000_000_000)
        .map(DateTime::from_timestamp_nanos)
        .ok_or_else(|| "the INT96 timestamp is out of range".to_string())?;
    Ok(time_text(at, true, style))
}

fn bytes_cell(kind: Kind, b: &[u8]) -> Cell {
    match kind {
        Kind::Text => utf8(b, "text"),
        Kind::Binary => utf8(b, "binary"),
        Kind::Decimal { scale } => be_i128(b).map(|u| decimal_text(u, scale)),
        Kind::Uuid if b.len() == 16 => {
            let h = hex::encode(b);
            Ok(format!(
                "{}-{}-{}-{}-{}",
                &h[0..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..32]
            ))
        }
        Kind::Uuid => Err(format!("a UUID must be 16 bytes, this one is {}", b.len())),
        _ => Err("the value does not fit the column's type".into()),
    }
}

fn float_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        v.to_string()
    }
}

/// Reads up to `n` rows of one column, whatever its physical type.
fn read_column(
    reader: &mut Reader,
    col: &Column,
    n: usize,
    style: TimeText,
) -> ::parquet::errors::Result<Vec<Cell>> {
    let (kind, opt) = (col.kind, col.optional);
    match reader {
        Reader::Bool(r) => read_chunk(r, n, opt, |v| Ok(v.to_string())),
        Reader::I32(r) => read_chunk(r, n, opt, |v| int_cell(kind, i64::from(*v), 32, style)),
        Reader::I64(r) => read_chunk(r, n, opt, |v| int_cell(kind, *v, 64, style)),
        Reader::I96(r) => read_chunk(r, n, opt, |v| int96_cell(v, style)),
        Reader::F32(r) => read_chunk(r, n, opt, |v| {
            // Through the shortest text of the f32, not the widened f64 (0.1f32 stays "0.1").
            Ok(v.to_string()
                .parse()
                .map_or_else(|_| v.to_string(), float_text))
        }),
        Reader::F64(r) => read_chunk(r, n, opt, |v| Ok(float_text(*v))),
        Reader::Bytes(r) => read_chunk(r, n, opt, |v| bytes_cell(kind, v.data())),
        Reader::Fixed(r) => read_chunk(r, n, opt, |v| bytes_cell(kind, v.data())),
    }
}

fn codec_name(c: Compression) -> Option<&'static str> {
    match c {
        Compression::UNCOMPRESSED
        | Compression::SNAPPY
        | Compression::GZIP(_)
        | Compression::ZSTD(_) => None,
        Compression::LZO => Some("LZO"),
        Compression::BROTLI(_) => Some("Brotli"),
        Compression::LZ4 => Some("LZ4"),
        Compression::LZ4_RAW => Some("LZ4_RAW"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact() {
        assert_eq!(decimal_text(12345, 2), "123.45");
        assert_eq!(decimal_text(-5, 3), "-0.005");
        assert_eq!(decimal_text(0, 2), "0.00");
        assert_eq!(decimal_text(42, 0), "42");
        assert_eq!(be_i128(&[0xFF, 0x85]).unwrap(), -123);
        assert!(be_i128(&[1; 17]).is_err());
    }

    #[test]
    fn timestamps_follow_the_spec_format() {
        let ts = Kind::Timestamp {
            unit: Unit::Micros,
            utc: true,
        };
        let v = 1_709_287_200_000_000; // 2024-03-01T10:00:00Z
        assert_eq!(
            int_cell(ts, v, 64, TimeText::Iso).unwrap(),
            "2024-03-01T10:00:00Z"
        );
        assert_eq!(
            int_cell(ts, v, 64, TimeText::EpochSeconds).unwrap(),
            "1709287200"
        );
        assert_eq!(
            int_cell(ts, v + 500_000, 64, TimeText::EpochMillis).unwrap(),
            "1709287200500"
        );
        let local = Kind::Timestamp {
            unit: Unit::Millis,
            utc: false,
        };
        assert_eq!(
            int_cell(local, 1_709_287_200_250, 64, TimeText::Iso).unwrap(),
            "2024-03-01T10:00:00.250"
        );
        assert!(int_cell(ts, i64::MAX, 64, TimeText::Iso).is_err());
        assert_eq!(
            int_cell(Kind::Date, 19_783, 32, TimeText::Iso).unwrap(),
            "2024-03-01"
        );
        assert!(int_cell(Kind::Date, i64::from(i32::MAX), 32, TimeText::Iso).is_err());
        assert_eq!(
            int_cell(Kind::Int { unsigned: true }, -1, 32, TimeText::Iso).unwrap(),
            "4294967295"
        );
    }

    #[test]
    fn binary_must_be_utf8() {
        assert_eq!(bytes_cell(Kind::Binary, b"abc").unwrap(), "abc");
        let err = bytes_cell(Kind::Binary, &[0x61, 0xFF]).unwrap_err();
        assert!(err.contains("not UTF-8"), "{err}");
    }
}
