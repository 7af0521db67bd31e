//! Pajek .net import and export.

use super::export::Selection;
use super::graphml::GraphOptions;
use super::{ImportReport, IoError};
use crate::jobs::CancelToken;
use crate::store::Case;
use std::path::Path;

/// Imports a Pajek file as one batch.
pub fn import_pajek(
    case: &mut Case,
    path: &Path,
    opts: &GraphOptions,
    cancel: &CancelToken,
) -> Result<ImportReport, IoError> {
    let _ = (case, opts, cancel);
    Err(IoError::Refused {
        path: path.to_path_buf(),
        reason: "Pajek import is being built".into(),
    })
}

/// Writes the selection as Pajek; returns what the format could not carry, in words.
pub(crate) fn write_pajek(path: &Path, sel: &Selection<'_>) -> Result<Vec<String>, IoError> {
    let _ = sel;
    Err(IoError::Refused {
        path: path.to_path_buf(),
        reason: "Pajek export is being built".into(),
    })
}
