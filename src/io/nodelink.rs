//! Node-link JSON import and export (d3, networkx's node_link_data).

use super::export::Selection;
use super::graphml::GraphOptions;
use super::{ImportReport, IoError};
use crate::jobs::CancelToken;
use crate::store::Case;
use std::path::Path;

/// Imports a node-link JSON file as one batch.
pub fn import_node_link(
    case: &mut Case,
    path: &Path,
    opts: &GraphOptions,
    cancel: &CancelToken,
) -> Result<ImportReport, IoError> {
    let _ = (case, opts, cancel);
    Err(IoError::Refused {
        path: path.to_path_buf(),
        reason: "node-link JSON import is being built".into(),
    })
}

/// Writes the selection as node-link JSON; returns what the format could not carry, in words.
pub(crate) fn write_node_link(path: &Path, sel: &Selection<'_>) -> Result<Vec<String>, IoError> {
    let _ = sel;
    Err(IoError::Refused {
        path: path.to_path_buf(),
        reason: "node-link JSON export is being built".into(),
    })
}
