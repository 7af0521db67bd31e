//! What the command line adds to a core error: which flag or command fixes it. The core's
//! messages are worded for any front end; the window adds its own hints (`app::hints`).

use crate::io::IoError;
use crate::store::StoreError;

/// The flag or command that fixes `err`, if the command line knows one.
pub(crate) fn hint(err: &anyhow::Error) -> Option<String> {
    for cause in err.chain() {
        if let Some(io) = cause.downcast_ref::<IoError>() {
            return io_hint(io);
        }
        if let Some(store) = cause.downcast_ref::<StoreError>() {
            return store_hint(store);
        }
        if let Some(chain) = cause.downcast_ref::<crate::analysis::chain::ChainError>()
            && chain.to_string().contains("no component called")
        {
            return Some("`copkit analyze --list` shows the components".into());
        }
    }
    None
}

pub(crate) fn io_hint(err: &IoError) -> Option<String> {
    Some(match err {
        IoError::Rejected { .. } => {
            "add --lenient to import the good rows and list the bad ones".into()
        }
        IoError::Bound { bound, .. } => format!("--limit {bound}=N raises the bound"),
        IoError::Encoding { .. } => {
            "--encoding windows-1252 (or another label) reads the file in that encoding".into()
        }
        IoError::WrongFormat { expected, .. } if expected.contains("UTF-16") => {
            "--encoding utf-16le reads UTF-16 without a byte-order mark".into()
        }
        IoError::WrongFormat { .. } => "--format names the format of the file".into(),
        IoError::OtherFormat { found, .. } => format!("--format {} reads it", found.flag()),
        IoError::Refused { reason, .. } if reason.contains("dissemination") => {
            "--override-dissemination REASON exports them, recording the reason".into()
        }
        IoError::Spec(text) if text.contains("needs a mapping") => {
            "--spec SPEC.toml or --template cdr|bank|entities|links maps the columns".into()
        }
        IoError::Parse { reason, .. } if reason.contains("no time zone") => {
            "--timezone ZONE states the zone of times written without one".into()
        }
        IoError::Store(store) => return store_hint(store),
        _ => return None,
    })
}

fn store_hint(err: &StoreError) -> Option<String> {
    Some(match err {
        StoreError::NotFound(_) => "`copkit new CASE` creates a case".into(),
        StoreError::Invalid(text) if text.contains("grading scheme") => {
            "`copkit info CASE` lists the case's grading schemes".into()
        }
        StoreError::Invalid(text) if text.contains("also used by other batches") => {
            "--shared keep keeps them, --shared erase erases them with everything attached".into()
        }
        StoreError::Corrupt { .. } => {
            "`copkit audit verify BACKUP` checks a backup before you use it".into()
        }
        _ => return None,
    })
}
