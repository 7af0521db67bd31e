//! Maltego graphs (.mtgx): a zip holding GraphML with Maltego's entity markup.

use super::graphml::GraphOptions;
use super::{ImportReport, IoError};
use crate::jobs::CancelToken;
use crate::store::Case;
use std::path::Path;

/// Imports a Maltego .mtgx file as one batch.
pub fn import_mtgx(
    case: &mut Case,
    path: &Path,
    opts: &GraphOptions,
    cancel: &CancelToken,
) -> Result<ImportReport, IoError> {
    let _ = (case, opts, cancel);
    Err(IoError::Refused {
        path: path.to_path_buf(),
        reason: "Maltego .mtgx import is being built".into(),
    })
}
