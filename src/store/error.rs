//! Errors of the case file. Each message says what happened and what to do, with the path last.

use std::path::PathBuf;

/// Everything that can go wrong opening, changing or checking a case file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no case file there; check the path, or create a new case there: {}", .0.display())]
    NotFound(PathBuf),
    #[error("a file already exists there; choose another name or open it instead: {}", .0.display())]
    AlreadyExists(PathBuf),
    #[error("this is not a regular file ({kind}); give the path of a .copkit case file: {}", .path.display())]
    NotARegularFile { path: PathBuf, kind: &'static str },
    #[error("the file is empty (0 bytes), so it holds no case; it was left untouched. If it should be a case, restore it from a backup: {}", .0.display())]
    ZeroByte(PathBuf),
    #[error("this is not a COPKIT case file: it looks like {what}. It was left untouched: {}", .path.display())]
    NotACase { path: PathBuf, what: String },
    #[error("this case was written by a newer COPKIT (case format {found}; this program reads up to {supported}). Open it with a newer COPKIT; the file was left untouched: {}", .path.display())]
    NewerVersion {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("the case file is damaged ({details}). It was left untouched and was not replaced; restore the newest backup whose audit log verifies{backup_hint}: {}", .path.display())]
    Corrupt {
        path: PathBuf,
        details: String,
        backup_hint: String,
    },
    #[error("could not read or write the case file ({source}); check the disk and permissions: {}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the case database reported an error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Invalid(String),
    #[error("{what} {id} does not exist in this case")]
    Missing { what: &'static str, id: String },
    #[error("the stored undo step no longer matches the case ({0}); the case was not changed")]
    UndoConflict(String),
    #[error("stored data could not be read ({0}); the case may have been edited outside COPKIT")]
    Decode(String),
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.into(),
            source,
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(err: serde_json::Error) -> Self {
        StoreError::Decode(err.to_string())
    }
}

impl From<crate::model::SchemaError> for StoreError {
    fn from(err: crate::model::SchemaError) -> Self {
        StoreError::Invalid(err.to_string())
    }
}

impl From<crate::model::GradingError> for StoreError {
    fn from(err: crate::model::GradingError) -> Self {
        StoreError::Invalid(err.to_string())
    }
}
