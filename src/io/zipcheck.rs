//! The one check of a zip container (XLSX, ODS, Maltego .mtgx) before anything in it is
//! inflated: the entry count, the total decompressed size the central directory declares, each
//! entry's compression ratio, and entry names that climb out (`../`, absolute paths). A zip
//! bomb or a crafted archive is named with the bound it broke (which `--limit` can raise),
//! never unpacked; nothing is ever extracted to disk.

use super::{IoError, Limits};
use std::io::{Read, Seek};
use std::path::Path;

/// An entry smaller than this may inflate at any ratio (tiny XML parts compress very well).
const RATIO_FLOOR: u64 = 1 << 20;

fn container_error(path: &Path, reason: String) -> IoError {
    IoError::Parse {
        path: path.to_path_buf(),
        location: "zip container".into(),
        reason,
    }
}

/// Checks the archive's directory against `limits`.
pub(crate) fn check_zip<R: Read + Seek>(
    path: &Path,
    archive: &mut zip::ZipArchive<R>,
    limits: &Limits,
) -> Result<(), IoError> {
    if archive.len() as u64 > limits.max_zip_entries {
        return Err(IoError::Bound {
            path: path.to_path_buf(),
            bound: "max_zip_entries",
            detail: format!(
                "{} entries, the limit is {}",
                archive.len(),
                limits.max_zip_entries
            ),
        });
    }
    let mut total = 0u64;
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|e| container_error(path, format!("entry {i} is unreadable ({e})")))?;
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        if entry.enclosed_name().is_none() {
            return Err(container_error(
                path,
                format!(
                    "entry '{name}' points outside the archive (../ or an absolute path); refused"
                ),
            ));
        }
        total = total.saturating_add(entry.size());
        if total > limits.max_zip_bytes {
            return Err(IoError::Bound {
                path: path.to_path_buf(),
                bound: "max_zip_bytes",
                detail: format!(
                    "the entries declare more than {} bytes decompressed (a zip bomb?)",
                    limits.max_zip_bytes
                ),
            });
        }
        if entry.size() > RATIO_FLOOR
            && entry.size() > entry.compressed_size().saturating_mul(limits.max_zip_ratio)
        {
            return Err(IoError::Bound {
                path: path.to_path_buf(),
                bound: "max_zip_ratio",
                detail: format!(
                    "entry '{name}' inflates {} bytes to {} (more than {} times; a zip bomb?)",
                    entry.compressed_size(),
                    entry.size(),
                    limits.max_zip_ratio
                ),
            });
        }
    }
    Ok(())
}
