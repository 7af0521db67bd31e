//! Checks a file before SQLite ever opens it, by reading its first 100 bytes only, so a file
//! that is not a case (or a case from a newer version) is refused without a single byte
//! written. See <https://www.sqlite.org/fileformat.html#the_database_header>.

use super::error::StoreError;
use super::schema::{APPLICATION_ID, SCHEMA_VERSION};
use std::fs;
use std::io::Read;
use std::path::Path;

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// What the header says about a file that passed the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderFacts {
    pub schema_version: u32,
    pub page_size: u64,
    pub page_count: u64,
}

/// Refuses anything that is not a COPKIT case file of a version this program can read.
pub fn check_case_file(path: &Path) -> Result<HeaderFacts, StoreError> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(StoreError::NotFound(path.to_path_buf()));
        }
        Err(e) => return Err(StoreError::io(path, e)),
    };
    if !meta.is_file() {
        return Err(StoreError::NotARegularFile {
            path: path.to_path_buf(),
            kind: file_kind(&meta),
        });
    }
    if meta.len() == 0 {
        return Err(StoreError::ZeroByte(path.to_path_buf()));
    }
    let mut header = Vec::with_capacity(100);
    fs::File::open(path)
        .and_then(|f| f.take(100).read_to_end(&mut header))
        .map_err(|e| StoreError::io(path, e))?;
    if header.len() < 100 || &header[..16] != SQLITE_MAGIC {
        return Err(StoreError::NotACase {
            path: path.to_path_buf(),
            what: sniff(&header),
        });
    }
    let be32 = |at: usize| {
        u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    let application_id = be32(68);
    if application_id != APPLICATION_ID {
        return Err(StoreError::NotACase {
            path: path.to_path_buf(),
            what: format!(
                "an SQLite database of another program (application id {application_id:#010x})"
            ),
        });
    }
    let schema_version = be32(60);
    if schema_version > SCHEMA_VERSION {
        return Err(StoreError::NewerVersion {
            path: path.to_path_buf(),
            found: schema_version,
            supported: SCHEMA_VERSION,
        });
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65536,
        n => u64::from(n),
    };
    // The in-header page count is valid only when the version-valid-for number matches the
    // change counter (SQLite file format, offsets 24 and 92).
    let page_count = if be32(24) == be32(92) {
        u64::from(be32(28))
    } else {
        0
    };
    if page_count > 0 && meta.len() < page_size * page_count {
        return Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            details: format!(
                "the file is truncated: {} bytes where the header promises {}",
                meta.len(),
                page_size * page_count
            ),
            backup_hint: String::new(),
        });
    }
    Ok(HeaderFacts {
        schema_version,
        page_size,
        page_count,
    })
}

#[cfg(unix)]
fn file_kind(meta: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a named pipe"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Windows has no FIFOs, sockets or device files a path can name.
#[cfg(not(unix))]
fn file_kind(meta: &fs::Metadata) -> &'static str {
    if meta.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// A short guess of what a file really is, from its first bytes.
pub fn sniff(bytes: &[u8]) -> String {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    let what = if starts(b"PK\x03\x04") {
        "a zip archive (an .xlsx, .mtgx or .zip file?)"
    } else if starts(b"SQLite format 3") {
        "a truncated SQLite database"
    } else if starts(&[0x1f, 0x8b]) {
        "a gzip file"
    } else if starts(b"%PDF") {
        "a PDF document"
    } else if starts(b"PAR1") {
        "a Parquet file"
    } else if starts(&[0xD0, 0xCF, 0x11, 0xE0]) {
        "an old Office document (.xls or .doc)"
    } else if starts(b"<?xml") || starts(b"<graphml") || starts(b"<gexf") {
        "an XML file (GraphML or GEXF? import it into a case instead)"
    } else if starts(&[0xEF, 0xBB, 0xBF]) || bytes.iter().all(|b| b.is_ascii() && *b != 0) {
        "a text file (a CSV or JSON file? import it into a case instead)"
    } else {
        "unrecognised binary data"
    };
    what.to_string()
}
