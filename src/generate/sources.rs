//! Raw source files written next to a generated case (`--sources-dir`): call records CSV,
//! bank statement CSV, people list CSV and a FollowTheMoney JSON-lines file, so that the
//! import path can be demonstrated on exactly the data the case holds. Rows are written as
//! they are generated, so memory stays bounded.

use super::GenerateError;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub(crate) const CALLS_CSV: &str = "call_records.csv";
pub(crate) const BANK_CSV: &str = "bank_statements.csv";
pub(crate) const PEOPLE_CSV: &str = "people.csv";
pub(crate) const FTM_JSONL: &str = "entities.ftm.jsonl";

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
        let file = File::create(&path).map_err(|e| io_err(&path, e))?;
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
        if let Some((mut w, path)) = self.inner {
            w.flush().map_err(|e| io_err(&path, e))?;
        }
        Ok(())
    }
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
        let file = File::create(&path).map_err(|e| io_err(&path, e))?;
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
        if let Some((mut w, path)) = self.inner {
            w.flush().map_err(|e| io_err(&path, e))?;
        }
        Ok(())
    }
}
