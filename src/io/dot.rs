//! DOT export (Graphviz).

use super::IoError;
use super::export::Selection;
use std::path::Path;

/// Writes the selection as DOT; returns what the format could not carry, in words.
pub(crate) fn write_dot(path: &Path, sel: &Selection<'_>) -> Result<Vec<String>, IoError> {
    let _ = sel;
    Err(IoError::Refused {
        path: path.to_path_buf(),
        reason: "DOT export is being built".into(),
    })
}
