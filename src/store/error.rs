//! Errors of the case file. Each message says what happened and what to do, with the path last.

use std::path::{Path, PathBuf};

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
    #[error("the disk holding the case is full, so the change was not saved and the case is as it was before it; free some space (or move the case to a larger disk) and try again: {}", .0.display())]
    DiskFull(PathBuf),
    #[error("the case file or its folder is read-only, so nothing can be written to it; copy it to a writable folder, or use `copkit audit verify`, which only reads: {}", .0.display())]
    ReadOnly(PathBuf),
    #[error("the case's audit log does not end where its header says ({details}); nothing was written to it, so that no new record hides what is missing. Run `copkit audit verify` on it, keep the file as it is for examination, and work from a backup whose audit log verifies: {}", .path.display())]
    ChainMismatch { path: PathBuf, details: String },
    #[error("this case is not opened for writing: {details}. A record written now would hide what is missing. Keep the file as it is for examination (it can be opened read-only), and work from the newest copy of the case: {}", .path.display())]
    BehindAnchorLog { path: PathBuf, details: String },
    #[error("the workstation key cannot be used: {problem}. Make a new one with `copkit audit keygen`, or point --signing-key at the right file: {}", .path.display())]
    Key { path: PathBuf, problem: String },
    #[error("the case database reported an error: {0}")]
    Sqlite(#[source] rusqlite::Error),
    #[error("{0}")]
    Invalid(String),
    #[error("{what} {id} does not exist in this case")]
    Missing { what: &'static str, id: String },
    #[error("the stored undo step no longer matches the case ({0}); the case was not changed")]
    UndoConflict(String),
    #[error("stored data could not be read ({0}); the case may have been edited outside COPKIT")]
    Decode(String),
}

thread_local! {
    /// The case file this thread is writing, so that an error deep inside a write (the disk
    /// filled up) can name it.
    static WRITING: std::cell::RefCell<Option<PathBuf>> = const { std::cell::RefCell::new(None) };
}

/// While alive, errors of SQLite on this thread name `path` where they concern the file as a
/// whole (a full disk, a read-only medium).
pub(crate) struct WritingCase {
    previous: Option<PathBuf>,
}

impl WritingCase {
    pub(crate) fn new(path: &std::path::Path) -> WritingCase {
        WritingCase {
            previous: WRITING.with(|w| w.replace(Some(path.to_path_buf()))),
        }
    }
}

impl Drop for WritingCase {
    fn drop(&mut self) {
        let previous = self.previous.take();
        WRITING.with(|w| *w.borrow_mut() = previous);
    }
}

/// The case file this thread is writing (empty when none was named).
pub(crate) fn writing_path() -> PathBuf {
    WRITING.with(|w| w.borrow().clone()).unwrap_or_default()
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        if let rusqlite::Error::SqliteFailure(failure, _) = &err
            && let Some(path) = WRITING.with(|w| w.borrow().clone())
        {
            match failure.code {
                ErrorCode::DiskFull => return StoreError::DiskFull(path),
                ErrorCode::ReadOnly => return StoreError::ReadOnly(path),
                _ => {}
            }
        }
        StoreError::Sqlite(err)
    }
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.into(),
            source,
        }
    }

    /// Names the case file in SQLite's errors about the file itself: SQLite words a full disk,
    /// an I/O error or a read-only file without a path ("database or disk is full"), and the
    /// user must know which file could not be written. Other errors are returned as they are.
    pub fn naming_case(self, path: &Path) -> StoreError {
        use rusqlite::ErrorCode;
        let StoreError::Sqlite(rusqlite::Error::SqliteFailure(failure, message)) = &self else {
            return self;
        };
        let what = message.clone().unwrap_or_else(|| failure.to_string());
        match failure.code {
            ErrorCode::DiskFull => StoreError::DiskFull(path.to_path_buf()),
            ErrorCode::SystemIoFailure | ErrorCode::ReadOnly | ErrorCode::CannotOpen => {
                StoreError::io(path, std::io::Error::other(what))
            }
            _ => self,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(code: std::ffi::c_int) -> StoreError {
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(code),
            Some("database or disk is full".into()),
        ))
    }

    #[test]
    fn a_full_disk_names_the_case() {
        let path = Path::new("/cases/op.copkit");
        let err = sqlite(rusqlite::ffi::SQLITE_FULL).naming_case(path);
        assert!(
            matches!(&err, StoreError::DiskFull(p) if p == path),
            "{err}"
        );
        assert!(err.to_string().ends_with("/cases/op.copkit"), "{err}");
        let io = sqlite(rusqlite::ffi::SQLITE_IOERR).naming_case(path);
        assert!(
            matches!(&io, StoreError::Io { path: p, .. } if p == path),
            "{io}"
        );
    }

    #[test]
    fn other_errors_are_kept_as_they_are() {
        let path = Path::new("/cases/op.copkit");
        let constraint = sqlite(rusqlite::ffi::SQLITE_CONSTRAINT).naming_case(path);
        assert!(matches!(constraint, StoreError::Sqlite(_)), "{constraint}");
        let invalid = StoreError::Invalid("no".into()).naming_case(path);
        assert!(matches!(invalid, StoreError::Invalid(_)), "{invalid}");
    }
}
