//! Raw source files written next to a generated case (`--sources-dir`): call records CSV,
//! bank statement CSV, people list CSV and a FollowTheMoney JSON-lines file, so that the
//! import path can be demonstrated on exactly the data the case holds. Rows are written as
//! they are generated, so memory stays bounded.
//!
//! Each file is written under a temporary name beside its final one ([`partial_path`]) and
//! given its final name only after the case and its ground truth are committed and the case
//! is in place ([`place_all`]): a file under a final name always belongs to a whole case, and
//! a generation that fails, is cancelled or killed never leaves a cut file that looks
//! finished. [`SourceFiles`] removes the temporary files of a run that did not finish.

use super::GenerateError;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub(crate) const CALLS_CSV: &str = "call_records.csv";
pub(crate) const BANK_CSV: &str = "bank_statements.csv";
pub(crate) const PEOPLE_CSV: &str = "people.csv";
pub(crate) const FTM_JSONL: &str = "entities.ftm.jsonl";

/// Every source file a generation can write.
const ALL: [&str; 4] = [CALLS_CSV, BANK_CSV, PEOPLE_CSV, FTM_JSONL];

/// The suffix of a source file's temporary name, as exports and the case use.
const PARTIAL_SUFFIX: &str = ".copkit-partial";

/// `.NAME.copkit-partial` beside `final_path`: where the file is written until the case is
/// in place (same folder, so the move is a rename).
pub(crate) fn partial_path(final_path: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(final_path.file_name().unwrap_or_default());
    name.push(PARTIAL_SUFFIX);
    final_path.with_file_name(name)
}

/// The source files of one generation into `dir`, under their temporary names until
/// [`SourceFiles::place_all`]; dropped before that (an error, a cancel), it removes them.
pub(crate) struct SourceFiles {
    dir: Option<PathBuf>,
    placed: bool,
}

impl SourceFiles {
    pub fn new(dir: Option<&Path>) -> SourceFiles {
        SourceFiles {
            dir: dir.map(Path::to_path_buf),
            placed: false,
        }
    }

    /// Gives each written file (`written` holds the final names) its final name, replacing
    /// the file of an earlier generation there, then makes the names durable.
    pub fn place_all(mut self, written: &[PathBuf]) -> Result<(), GenerateError> {
        for path in written {
            std::fs::rename(partial_path(path), path).map_err(|e| io_err(path, e))?;
        }
        self.placed = true;
        if let Some(dir) = &self.dir
            && let Ok(d) = File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl Drop for SourceFiles {
    fn drop(&mut self) {
        if let (false, Some(dir)) = (self.placed, &self.dir) {
            for name in ALL {
                let _ = std::fs::remove_file(partial_path(&dir.join(name)));
            }
        }
    }
}

/// Creates the temporary file for the source file `path` (truncating one a killed run left).
fn create_partial(path: &Path) -> Result<File, GenerateError> {
    File::create(partial_path(path)).map_err(|e| io_err(path, e))
}

/// A CSV file being written, or nothing when no sources folder was given.
pub(crate) struct SourceCsv {
    inner: Option<(csv::Writer<BufWriter<File>>, PathBuf)>,
}

fn io_err(path: &Path, source: std::io::Error) -> GenerateError {
    GenerateError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn csv_err(path: &Path, err: &csv::Error) -> GenerateError {
    io_err(path, std::io::Error::other(err.to_string()))
}

impl SourceCsv {
    pub fn open(
        dir: Option<&Path>,
        name: &str,
        header: &[&str],
        written: &mut Vec<PathBuf>,
    ) -> Result<SourceCsv, GenerateError> {
        let Some(dir) = dir else {
            return Ok(SourceCsv { inner: None });
        };
        let path = dir.join(name);
        let file = create_partial(&path)?;
        let mut w = csv::Writer::from_writer(BufWriter::with_capacity(1 << 16, file));
        w.write_record(header).map_err(|e| csv_err(&path, &e))?;
        written.push(path.clone());
        Ok(SourceCsv {
            inner: Some((w, path)),
        })
    }

    pub fn enabled(&self) -> bool {
        self.inner.is_some()
    }

    pub fn row(&mut self, fields: &[&str]) -> Result<(), GenerateError> {
        if let Some((w, path)) = &mut self.inner {
            w.write_record(fields).map_err(|e| csv_err(path, &e))?;
        }
        Ok(())
    }

    pub fn finish(self) -> Result<(), GenerateError> {
        if let Some((w, path)) = self.inner {
            let file = w
                .into_inner()
                .map_err(|e| io_err(&path, std::io::Error::other(e.to_string())))?;
            finish_file(file, &path)?;
        }
        Ok(())
    }
}

/// Flushes a written source file to disk, so that the rename never publishes bytes a power
/// cut could still lose.
fn finish_file(writer: BufWriter<File>, path: &Path) -> Result<(), GenerateError> {
    let file = writer
        .into_inner()
        .map_err(|e| io_err(path, e.into_error()))?;
    file.sync_all().map_err(|e| io_err(path, e))
}

/// A FollowTheMoney JSON-lines file being written (or nothing).
pub(crate) struct FtmLines {
    inner: Option<(BufWriter<File>, PathBuf)>,
}

impl FtmLines {
    pub fn open(dir: Option<&Path>, written: &mut Vec<PathBuf>) -> Result<FtmLines, GenerateError> {
        let Some(dir) = dir else {
            return Ok(FtmLines { inner: None });
        };
        let path = dir.join(FTM_JSONL);
        let file = create_partial(&path)?;
        written.push(path.clone());
        Ok(FtmLines {
            inner: Some((BufWriter::new(file), path)),
        })
    }

    /// One FtM entity; `properties` is a list of (property, value) in a fixed order.
    pub fn entity(
        &mut self,
        id: &str,
        schema: &str,
        properties: &[(&str, &str)],
    ) -> Result<(), GenerateError> {
        let Some((w, path)) = &mut self.inner else {
            return Ok(());
        };
        // serde_json's map is ordered by key (no preserve_order feature), so the output is
        // byte-stable.
        let mut props = serde_json::Map::new();
        for (k, v) in properties {
            let entry = props
                .entry((*k).to_string())
                .or_insert_with(|| serde_json::Value::Array(Vec::new()));
            if let serde_json::Value::Array(values) = entry {
                values.push(serde_json::Value::String((*v).to_string()));
            }
        }
        let line = serde_json::json!({"id": id, "schema": schema, "properties": props});
        writeln!(w, "{line}").map_err(|e| io_err(path, e))
    }

    pub fn finish(self) -> Result<(), GenerateError> {
        if let Some((w, path)) = self.inner {
            finish_file(w, &path)?;
        }
        Ok(())
    }
}
