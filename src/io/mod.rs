//! Import and export: mapped tables (CSV, TSV, XLSX and Parquet), GraphML, GEXF and
//! FollowTheMoney; exports to CSV, i2-compatible CSV, GraphML and GEXF with a manifest. Every
//! importer meets the contract in the bad-input guide: a typed error naming the file, line or
//! record and field; no panics; all or nothing per batch; bounded; source files only read,
//! with the SHA-256 of exactly the bytes parsed recorded with the batch.

pub mod csv;
pub mod documents;
pub mod dot;
pub mod export;
pub mod ftm;
pub mod gexf;
pub mod gml;
pub(crate) mod graphflat;
pub mod graphml;
pub mod maltego;
pub mod map;
pub mod mapper;
pub mod nodelink;
pub mod pajek;
pub mod parquet;
pub mod report;
pub mod source;
pub mod spec;
pub mod stix;
pub mod verify;
pub mod xlsx;
mod zipcheck;

use crate::store::StoreError;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

pub use export::neutralise_formula;
pub use report::{ImportReport, RowProblem};
pub use source::{ImportPlan, ImportRequest, SourceFormat, import_file};
pub use spec::MappingSpec;

/// Everything an import or export can fail with. Each message names the file and, where
/// known, the line or record and the field, and says what the user can do.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    #[error("{}: not a regular file ({kind}); give the path of a file", .path.display())]
    NotARegularFile { path: PathBuf, kind: &'static str },
    #[error("{}: could not read ({source})", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: could not write ({source}); nothing else was changed", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {what}", .path.display())]
    Empty { path: PathBuf, what: &'static str },
    #[error("{}: this is {what}, not {expected}; choose the matching format or convert the file", .path.display())]
    WrongFormat {
        path: PathBuf,
        what: String,
        expected: &'static str,
    },
    #[error("{}: this file is {}, not {}; import it as {}", .path.display(), .found.label(), .expected.label(), .found.label())]
    OtherFormat {
        path: PathBuf,
        found: SourceFormat,
        expected: SourceFormat,
    },
    #[error("{}: bound {bound} hit ({detail}); raise the bound if the file is trusted", .path.display())]
    Bound {
        path: PathBuf,
        bound: &'static str,
        detail: String,
    },
    #[error("{}: byte offset {offset} (line {line}) is not valid {encoding}; the file may be Windows-1252 or Latin-1: try reading it as windows-1252{suggestion}", .path.display())]
    Encoding {
        path: PathBuf,
        encoding: &'static str,
        offset: u64,
        line: u64,
        suggestion: String,
    },
    #[error("{}: {location}: {reason}", .path.display())]
    Parse {
        path: PathBuf,
        location: String,
        reason: String,
    },
    #[error("mapping spec: {0}")]
    Spec(String),
    #[error("{}: {} of {} rows rejected, so nothing was imported (the case is unchanged); first: {}. Fix the spec or the file, or import leniently to skip them", .path.display(), .report.rows_rejected, .report.rows_read, .report.rejected.first().map(ToString::to_string).unwrap_or_default())]
    Rejected {
        path: PathBuf,
        report: Box<ImportReport>,
    },
    #[error("{}: refused: {reason}", .path.display())]
    Refused { path: PathBuf, reason: String },
    #[error("cancelled; the case is unchanged")]
    Cancelled,
    /// An export's disclosure could not be committed to the audit log, so the export was
    /// removed rather than left unrecorded.
    #[error("the export was not delivered: its disclosure could not be recorded in the case's audit log ({source}), so what was written was removed; try again when no other program is writing to the case: {}", .path.display())]
    NotRecorded {
        path: PathBuf,
        #[source]
        source: StoreError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Bounds on what an importer reads. Each has a default and can be raised by the user; the
/// name of the bound appears in the error when it is hit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_file_bytes: u64,
    pub max_field_bytes: usize,
    pub max_rows: u64,
    pub max_xml_depth: usize,
    pub max_json_depth: usize,
    /// Rows times columns of a spreadsheet's used range (the reader holds it as a grid).
    pub max_sheet_cells: u64,
    /// Entries of a zip container (XLSX, ODS, .mtgx).
    pub max_zip_entries: u64,
    /// Total decompressed size a zip container's entries may declare.
    pub max_zip_bytes: u64,
    /// How many times its compressed size an entry (of more than 1 MiB) may inflate to.
    pub max_zip_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 2 << 30,
            max_field_bytes: 1 << 20,
            max_rows: 50_000_000,
            max_xml_depth: 256,
            max_json_depth: 64,
            max_sheet_cells: 50_000_000,
            max_zip_entries: 10_000,
            max_zip_bytes: 1 << 30,
            // GraphML and sheet XML deflate some 10 to 30 times.
            max_zip_ratio: 200,
        }
    }
}

impl Limits {
    /// Sets a bound from `name=value` (as given to `--limit`).
    pub fn set(&mut self, assignment: &str) -> Result<(), String> {
        let (name, value) = assignment
            .split_once('=')
            .ok_or_else(|| format!("'{assignment}': write a limit as NAME=NUMBER"))?;
        let n: u64 = value
            .trim()
            .parse()
            .map_err(|_| format!("'{value}' is not a whole number"))?;
        match name.trim() {
            "max_file_bytes" => self.max_file_bytes = n,
            "max_field_bytes" => self.max_field_bytes = n as usize,
            "max_rows" => self.max_rows = n,
            "max_xml_depth" => self.max_xml_depth = n as usize,
            "max_json_depth" => self.max_json_depth = n as usize,
            "max_sheet_cells" => self.max_sheet_cells = n,
            "max_zip_entries" => self.max_zip_entries = n,
            "max_zip_bytes" => self.max_zip_bytes = n,
            "max_zip_ratio" => self.max_zip_ratio = n,
            other => {
                return Err(format!(
                    "unknown limit '{other}' (max_file_bytes, max_field_bytes, max_rows, max_xml_depth, max_json_depth, max_sheet_cells, max_zip_entries, max_zip_bytes, max_zip_ratio)"
                ));
            }
        }
        Ok(())
    }
}

/// The exact bytes of a source file, read once, with their hash.
#[derive(Clone, Debug)]
pub struct SourceBytes {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

/// Reads a source file: refuses anything but a regular file and anything over the size bound,
/// and hashes exactly the bytes that will be parsed. Opens the file read-only.
pub fn read_source(path: &Path, limits: &Limits) -> Result<SourceBytes, IoError> {
    let meta = std::fs::metadata(path).map_err(|source| IoError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if !meta.is_file() {
        let kind = file_kind(&meta);
        return Err(IoError::NotARegularFile {
            path: path.to_path_buf(),
            kind,
        });
    }
    if meta.len() > limits.max_file_bytes {
        return Err(IoError::Bound {
            path: path.to_path_buf(),
            bound: "max_file_bytes",
            detail: format!(
                "the file has {} bytes, the limit is {}",
                meta.len(),
                limits.max_file_bytes
            ),
        });
    }
    let file = std::fs::File::open(path).map_err(|source| IoError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // Through `take`, so a file that grows while being read still stops at the bound.
    file.take(limits.max_file_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| IoError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(IoError::Bound {
            path: path.to_path_buf(),
            bound: "max_file_bytes",
            detail: "the file grew past the limit while it was read".into(),
        });
    }
    let sha256 = hex::encode(Sha256::digest(&bytes));
    Ok(SourceBytes {
        path: path.to_path_buf(),
        bytes,
        sha256,
    })
}

/// Reads, checks and decodes a text source: empty and binary files are refused by name
/// (`expected` says what the importer reads, "a GraphML (XML) file").
pub(crate) fn read_source_text(
    path: &Path,
    limits: &Limits,
    expected: &'static str,
) -> Result<(SourceBytes, DecodedText), IoError> {
    let src = read_source(path, limits)?;
    if src.bytes.is_empty() {
        return Err(IoError::Empty {
            path: path.to_path_buf(),
            what: "the file is empty (0 bytes); there is nothing to import",
        });
    }
    if let Some(what) = sniff_binary(&src.bytes) {
        return Err(IoError::WrongFormat {
            path: path.to_path_buf(),
            what: what.into(),
            expected,
        });
    }
    let decoded = decode_text(&src, None)?;
    Ok((src, decoded))
}

#[cfg(unix)]
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

#[cfg(not(unix))]
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    if meta.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Names binary formats by their magic bytes, so a renamed file is reported as what it is.
pub fn sniff_binary(bytes: &[u8]) -> Option<&'static str> {
    let starts = |m: &[u8]| bytes.starts_with(m);
    Some(if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        "a zip archive (an .xlsx, .mtgx or .zip file)"
    } else if starts(b"SQLite format 3\0") {
        "an SQLite database (a .copkit case?)"
    } else if starts(&[0x1f, 0x8b]) {
        "a gzip file"
    } else if starts(b"%PDF") {
        "a PDF document"
    } else if starts(b"PAR1") {
        "a Parquet file"
    } else if starts(&[0xD0, 0xCF, 0x11, 0xE0]) {
        "an old Office document (.xls or .doc)"
    } else {
        return None;
    })
}

/// Decoded source text plus what was decided about its encoding.
#[derive(Clone, Debug)]
pub struct DecodedText {
    pub text: String,
    pub encoding: &'static str,
    pub had_bom: bool,
}

/// Decodes source bytes: a UTF-8 or UTF-16 byte-order mark decides; otherwise the bytes must
/// be valid UTF-8 unless the user names another encoding. Invalid UTF-8 is an error with the
/// byte offset and line, never silently replaced.
pub fn decode_text(src: &SourceBytes, encoding: Option<&str>) -> Result<DecodedText, IoError> {
    let bytes = &src.bytes;
    if let Some(label) = encoding.filter(|l| !l.eq_ignore_ascii_case("utf-8")) {
        let enc = encoding_rs::Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
            IoError::Spec(format!(
                "'{label}' is not an encoding name (try utf-8, windows-1252, iso-8859-1, utf-16le)"
            ))
        })?;
        let (text, used, had_errors) = enc.decode(bytes);
        if had_errors {
            return Err(IoError::Parse {
                path: src.path.clone(),
                location: "whole file".into(),
                reason: format!("not valid {} text", used.name()),
            });
        }
        return Ok(DecodedText {
            text: text.into_owned(),
            encoding: used.name(),
            had_bom: used != enc,
        });
    }
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        if enc != encoding_rs::UTF_8 {
            let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom_len..]);
            if had_errors {
                return Err(IoError::Parse {
                    path: src.path.clone(),
                    location: "whole file".into(),
                    reason: format!("not valid {} text after its byte-order mark", enc.name()),
                });
            }
            return Ok(DecodedText {
                text: text.into_owned(),
                encoding: enc.name(),
                had_bom: true,
            });
        }
        return utf8(src, bom_len, true);
    }
    utf8(src, 0, false)
}

fn utf8(src: &SourceBytes, skip: usize, had_bom: bool) -> Result<DecodedText, IoError> {
    match std::str::from_utf8(&src.bytes[skip..]) {
        Ok(text) => Ok(DecodedText {
            text: text.to_string(),
            encoding: "UTF-8",
            had_bom,
        }),
        Err(e) => {
            let offset = skip + e.valid_up_to();
            let line = 1 + src.bytes[..offset].iter().filter(|&&b| b == b'\n').count() as u64;
            let bad = src.bytes[offset];
            let guess = encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(&[bad])
                .0
                .into_owned();
            Err(IoError::Encoding {
                path: src.path.clone(),
                encoding: "UTF-8",
                offset: offset as u64,
                line,
                suggestion: format!(" (byte 0x{bad:02X} would be '{guess}' in Windows-1252)"),
            })
        }
    }
}

/// Characters that hide or reorder text (bidi overrides, zero-width marks) or NUL; values are
/// kept raw and these are reported so the analyst sees them.
pub fn hidden_characters(value: &str) -> Option<String> {
    let found: Vec<String> = value
        .chars()
        .filter(|c| {
            matches!(
                c,
                '\0' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
            )
        })
        .map(|c| format!("U+{:04X}", c as u32))
        .collect();
    (!found.is_empty()).then(|| {
        let mut uniq = found;
        uniq.dedup();
        format!(
            "contains hidden characters {} (kept as given)",
            uniq.join(", ")
        )
    })
}

/// Refuses an output path that is the open case or a source file, or that already exists.
pub fn check_output_path(out: &Path, protected: &[&Path]) -> Result<(), IoError> {
    let canon = |p: &Path| std::fs::canonicalize(p).ok();
    for p in protected {
        if canon(out).is_some() && canon(out) == canon(p) {
            return Err(IoError::Refused {
                path: out.to_path_buf(),
                reason: "this is the open case or a source file, which an export never overwrites"
                    .into(),
            });
        }
    }
    if out.exists() {
        return Err(IoError::Refused {
            path: out.to_path_buf(),
            reason: "a file already exists there; choose a new name".into(),
        });
    }
    Ok(())
}
