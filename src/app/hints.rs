//! What the window adds to a core error: where in the window to fix it. The core's messages
//! are worded for any front end; the command line adds its flags (`cli::hints`).

use crate::io::IoError;
use crate::store::StoreError;

/// The error's message with the window's hint, if it has one.
pub(crate) fn for_window(err: &IoError) -> String {
    match hint(err) {
        Some(hint) => format!("{err} ({hint})"),
        None => err.to_string(),
    }
}

fn hint(err: &IoError) -> Option<&'static str> {
    Some(match err {
        IoError::Rejected { .. } => "tick Lenient to import the good rows and list the bad ones",
        IoError::Refused { reason, .. } if reason.contains("dissemination") => {
            "give the reason in Dissemination override"
        }
        IoError::Spec(text) if text.contains("needs a mapping") => {
            "choose a template or a spec file"
        }
        IoError::Store(StoreError::NotFound(_)) => "File > New case creates one",
        _ => return None,
    })
}
