//! One entry point for every importer: the format of a source file (from its name, or its
//! first bytes) and [`import_file`], which runs the importer of that format, or re-imports the
//! rows an earlier report rejected. The command line and the workbench's import wizard both
//! import through it, so a file imports the same way from either.

use super::csv::{CsvOptions, import_csv, reimport_rejected_with};
use super::graphml::GraphOptions;
use super::{ImportReport, IoError, MappingSpec};
use crate::jobs::{CancelToken, Progress};
use crate::store::Case;
use std::path::Path;

/// The formats an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    Csv,
    Tsv,
    /// Excel or OpenDocument workbook.
    Xlsx,
    Graphml,
    Gexf,
    /// FollowTheMoney JSON lines.
    Ftm,
    /// Apache Parquet (a flat table).
    Parquet,
}

impl SourceFormat {
    /// From the file name's extension; any other name is read as CSV (whose importer names
    /// the binary formats it recognises). Reads nothing, so views may call it every frame.
    pub fn from_name(path: &Path) -> SourceFormat {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("tsv" | "tab") => SourceFormat::Tsv,
            Some("xlsx" | "xlsm" | "xls" | "ods") => SourceFormat::Xlsx,
            Some("graphml") => SourceFormat::Graphml,
            Some("gexf") => SourceFormat::Gexf,
            Some("ftm" | "jsonl" | "ndjson" | "ijson") => SourceFormat::Ftm,
            Some("parquet" | "parq" | "pq") => SourceFormat::Parquet,
            _ => SourceFormat::Csv,
        }
    }

    /// As [`SourceFormat::from_name`], but a file that name would read as CSV is looked at:
    /// one that begins with Parquet's marker is Parquet, GraphML or GEXF markup is GraphML or
    /// GEXF, and JSON lines of FollowTheMoney entities are FtM (exports often carry another
    /// tool's extension: GraphML saved as `.gml` or `.xml`, FtM as `.json`). Reads at most the
    /// first 4 KiB.
    pub fn detect(path: &Path) -> SourceFormat {
        match SourceFormat::from_name(path) {
            SourceFormat::Csv => sniff(path).unwrap_or(SourceFormat::Csv),
            format => format,
        }
    }

    /// Whether the file needs a mapping (columns to entities, links and events).
    pub fn needs_mapping(self) -> bool {
        matches!(
            self,
            SourceFormat::Csv | SourceFormat::Tsv | SourceFormat::Xlsx | SourceFormat::Parquet
        )
    }

    pub fn label(self) -> &'static str {
        match self {
            SourceFormat::Csv => "CSV",
            SourceFormat::Tsv => "TSV",
            SourceFormat::Xlsx => "Excel workbook",
            SourceFormat::Graphml => "GraphML",
            SourceFormat::Gexf => "GEXF",
            SourceFormat::Ftm => "FollowTheMoney (JSON lines)",
            SourceFormat::Parquet => "Parquet",
        }
    }
}

/// What a file's first bytes say it is, for the formats whose start tells (a missing or
/// unreadable file, and anything else, says nothing).
fn sniff(path: &Path) -> Option<SourceFormat> {
    use std::io::Read as _;
    const HEAD: u64 = 4096;
    let mut head = Vec::with_capacity(HEAD as usize);
    std::fs::File::open(path)
        .ok()?
        .take(HEAD)
        .read_to_end(&mut head)
        .ok()?;
    if head.starts_with(b"PAR1") {
        return Some(SourceFormat::Parquet);
    }
    let text = String::from_utf8_lossy(&head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with('<') {
        let lower = text.to_ascii_lowercase();
        return if lower.contains("<graphml") {
            Some(SourceFormat::Graphml)
        } else if lower.contains("<gexf") {
            Some(SourceFormat::Gexf)
        } else {
            None
        };
    }
    // An FtM entity is a JSON object with a schema and an id on one line.
    let first = text.lines().next()?;
    (first.starts_with('{') && first.contains("\"schema\"") && first.contains("\"id\""))
        .then_some(SourceFormat::Ftm)
}

/// What one import needs besides the case and the file.
pub struct ImportRequest<'a> {
    pub format: SourceFormat,
    /// The mapping, for the formats that need one ([`SourceFormat::needs_mapping`]).
    pub spec: Option<&'a MappingSpec>,
    /// The worksheet of a workbook (the first when `None`).
    pub sheet: Option<&'a str>,
    /// Leniency, limits and the overrides of tabular formats; GraphML, GEXF and
    /// FollowTheMoney take its `lenient` and `limits`.
    pub opts: &'a CsvOptions,
    /// Re-import only the rows this earlier report of the same file rejected (tabular
    /// formats only).
    pub rejected_from: Option<&'a ImportReport>,
}

/// Everything one import needs, owned, so that it can go to a job: what the command line and
/// the import wizard build from their options.
#[derive(Debug, Clone)]
pub struct ImportPlan {
    pub source: std::path::PathBuf,
    pub format: SourceFormat,
    pub spec: Option<MappingSpec>,
    pub sheet: Option<String>,
    pub opts: CsvOptions,
    pub rejected_from: Option<ImportReport>,
}

impl ImportPlan {
    /// Runs the import into `case` (see [`import_file`]).
    pub fn run(
        &self,
        case: &mut Case,
        cancel: &CancelToken,
        progress: &dyn Progress,
    ) -> Result<ImportReport, IoError> {
        let request = ImportRequest {
            format: self.format,
            spec: self.spec.as_ref(),
            sheet: self.sheet.as_deref(),
            opts: &self.opts,
            rejected_from: self.rejected_from.as_ref(),
        };
        import_file(case, &self.source, &request, cancel, progress)
    }

    /// The job's name: "import calls.csv".
    pub fn job_name(&self) -> String {
        format!(
            "import {}",
            self.source.file_name().map_or_else(
                || self.source.display().to_string(),
                |n| n.to_string_lossy().into_owned()
            )
        )
    }
}

/// Runs the importer of `request.format` on `source` into `case`, as one batch.
pub fn import_file(
    case: &mut Case,
    source: &Path,
    request: &ImportRequest<'_>,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<ImportReport, IoError> {
    let ImportRequest {
        format,
        spec,
        sheet,
        opts,
        rejected_from,
    } = *request;
    if !format.needs_mapping() {
        if rejected_from.is_some() {
            return Err(IoError::Refused {
                path: source.to_path_buf(),
                reason: format!(
                    "re-importing rejected rows works for CSV, TSV, Excel and Parquet files; a {} file is imported whole: fix it and import it again",
                    format.label()
                ),
            });
        }
        let graph = GraphOptions {
            lenient: opts.lenient,
            limits: opts.limits.clone(),
            ..GraphOptions::default()
        };
        return match format {
            SourceFormat::Gexf => super::gexf::import_gexf(case, source, &graph, cancel),
            SourceFormat::Graphml => super::graphml::import_graphml(case, source, &graph, cancel),
            _ => super::ftm::import_ftm(case, source, opts.lenient, &opts.limits, None, cancel),
        };
    }
    let spec = spec.ok_or_else(|| {
        IoError::Spec(format!(
            "a {} file needs a mapping of its columns (a mapping spec or a template)",
            format.label()
        ))
    })?;
    let import = |case: &mut Case, opts: &CsvOptions| match format {
        SourceFormat::Xlsx => {
            super::xlsx::import_xlsx(case, source, sheet, spec, opts, cancel, progress)
        }
        SourceFormat::Parquet => {
            super::parquet::import_parquet(case, source, spec, opts, cancel, progress)
        }
        _ => import_csv(case, source, spec, opts, cancel, progress),
    };
    match rejected_from {
        Some(previous) => reimport_rejected_with(case, source, previous, opts, import),
        None => import(case, opts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_found_by_content_under_other_names() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &[u8]| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let graphml = write(
            "yed-export.gml",
            b"<?xml version=\"1.0\"?>\n<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\"></graphml>\n",
        );
        assert_eq!(SourceFormat::detect(&graphml), SourceFormat::Graphml);
        let gexf = write(
            "gephi.xml",
            b"\xef\xbb\xbf<?xml version=\"1.0\"?><gexf version=\"1.3\"/>",
        );
        assert_eq!(SourceFormat::detect(&gexf), SourceFormat::Gexf);
        let ftm = write(
            "aleph.json",
            b"{\"id\": \"p1\", \"schema\": \"Person\", \"properties\": {\"name\": [\"Ada\"]}}\n",
        );
        assert_eq!(SourceFormat::detect(&ftm), SourceFormat::Ftm);
        assert_eq!(
            SourceFormat::from_name(Path::new("x.ijson")),
            SourceFormat::Ftm
        );
        let csv = write("calls.csv", b"caller,callee\n1,2\n");
        assert_eq!(SourceFormat::detect(&csv), SourceFormat::Csv);
        let missing = dir.path().join("absent.csv");
        assert_eq!(SourceFormat::detect(&missing), SourceFormat::Csv);
    }

    #[test]
    fn formats_from_names_and_first_bytes() {
        for (name, format) in [
            ("a.CSV", SourceFormat::Csv),
            ("a.tsv", SourceFormat::Tsv),
            ("a.tab", SourceFormat::Tsv),
            ("a.xlsx", SourceFormat::Xlsx),
            ("a.ods", SourceFormat::Xlsx),
            ("a.gexf", SourceFormat::Gexf),
            ("a.ndjson", SourceFormat::Ftm),
            ("a.parquet", SourceFormat::Parquet),
            ("a.pq", SourceFormat::Parquet),
        ] {
            assert_eq!(SourceFormat::from_name(Path::new(name)), format, "{name}");
        }
        assert!(SourceFormat::Parquet.needs_mapping());
        assert!(!SourceFormat::Graphml.needs_mapping());

        let dir = tempfile::tempdir().unwrap();
        let unnamed = dir.path().join("export.dat");
        std::fs::write(&unnamed, b"PAR1 and the rest").unwrap();
        assert_eq!(SourceFormat::from_name(&unnamed), SourceFormat::Csv);
        assert_eq!(SourceFormat::detect(&unnamed), SourceFormat::Parquet);
        let text = dir.path().join("calls.csv");
        std::fs::write(&text, b"caller,callee\n").unwrap();
        assert_eq!(SourceFormat::detect(&text), SourceFormat::Csv);
        // A named format is taken at its word.
        let graph = dir.path().join("g.graphml");
        std::fs::write(&graph, b"PAR1").unwrap();
        assert_eq!(SourceFormat::detect(&graph), SourceFormat::Graphml);
        assert_eq!(
            SourceFormat::detect(&dir.path().join("missing")),
            SourceFormat::Csv
        );
    }
}
