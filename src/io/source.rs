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
    /// GML (networkx, igraph, Gephi, yEd's text format).
    Gml,
    /// Pajek .net.
    Pajek,
    /// Node-link JSON (d3, networkx's `node_link_data`).
    NodeLink,
    /// A STIX 2.1 bundle (JSON).
    Stix,
    /// A Maltego graph (.mtgx: a zip holding GraphML).
    Mtgx,
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
            Some("gml") => SourceFormat::Gml,
            Some("net" | "paj") => SourceFormat::Pajek,
            Some("mtgx") => SourceFormat::Mtgx,
            Some("stix") => SourceFormat::Stix,
            _ => SourceFormat::Csv,
        }
    }

    /// As [`SourceFormat::from_name`], but a file that name would read as CSV is looked at:
    /// one that begins with Parquet's marker is Parquet, GraphML or GEXF markup is GraphML or
    /// GEXF, and JSON lines of FollowTheMoney entities are FtM (exports often carry another
    /// tool's extension: GraphML saved as `.gml` or `.xml`, FtM as `.json`). Reads at most the
    /// first 4 KiB.
    pub fn detect(path: &Path) -> SourceFormat {
        let by_name = SourceFormat::from_name(path);
        match (by_name, sniff(path)) {
            // Binary and workbook names are taken at their word (their importers name what
            // they find); for text formats the content decides when it is clear.
            (SourceFormat::Parquet | SourceFormat::Xlsx | SourceFormat::Mtgx, _) => by_name,
            (_, Some(found)) => found,
            (format, None) => format,
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
            SourceFormat::Gml => "GML",
            SourceFormat::Pajek => "Pajek .net",
            SourceFormat::NodeLink => "node-link JSON",
            SourceFormat::Stix => "STIX 2.1 bundle",
            SourceFormat::Mtgx => "Maltego graph (.mtgx)",
        }
    }

    /// The value of `copkit import --format` that reads this format.
    pub fn flag(self) -> &'static str {
        match self {
            SourceFormat::Csv => "csv",
            SourceFormat::Tsv => "tsv",
            SourceFormat::Xlsx => "xlsx",
            SourceFormat::Graphml => "graphml",
            SourceFormat::Gexf => "gexf",
            SourceFormat::Ftm => "ftm",
            SourceFormat::Parquet => "parquet",
            SourceFormat::Gml => "gml",
            SourceFormat::Pajek => "pajek",
            SourceFormat::NodeLink => "node-link",
            SourceFormat::Stix => "stix",
            SourceFormat::Mtgx => "mtgx",
        }
    }

    /// Whether a file's content says it is `found` although it was to be read as `self`,
    /// clearly enough to refuse it with the format that would read it (a GraphML file under
    /// `.gml`, a GEXF file given as `--format graphml`). `None` when the content agrees or says
    /// nothing. Reads at most the first 4 KiB.
    pub fn contradicted_by_content(self, path: &Path) -> Option<SourceFormat> {
        let found = sniff(path)?;
        let agrees = found == self
            || matches!(
                (self, found),
                // Tabular formats read anything the sniffer calls CSV or TSV; FtM and node-link
                // JSON are both JSON, told apart by content.
                (
                    SourceFormat::Csv | SourceFormat::Tsv,
                    SourceFormat::Csv | SourceFormat::Tsv
                )
            );
        (!agrees).then_some(found)
    }
}

/// What a file's first bytes say it is, for the formats whose start tells (a missing or
/// unreadable file, and anything else, says nothing).
fn sniff(path: &Path) -> Option<SourceFormat> {
    use std::io::Read as _;
    const HEAD: u64 = 4096;
    // Only a regular file is opened: opening a FIFO blocks until a writer comes, and a device
    // may never end (the importer then refuses it by name).
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return None;
    }
    let mut head = Vec::with_capacity(HEAD as usize);
    std::fs::File::open(path)
        .ok()?
        .take(HEAD)
        .read_to_end(&mut head)
        .ok()?;
    if head.starts_with(b"PAR1") {
        return Some(SourceFormat::Parquet);
    }
    if head.starts_with(b"PK\x03\x04") {
        // A zip: a Maltego graph holds `Graphs/...graphml` entries, whose names are in the
        // local file headers near the start.
        let lossy = String::from_utf8_lossy(&head);
        return lossy.contains("Graphs/").then_some(SourceFormat::Mtgx);
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
    if text.starts_with('{') || text.starts_with('[') {
        return sniff_json(text);
    }
    // Pajek: `*Vertices N` (or `*Network`) before anything else but comments (`%`).
    let first_line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('%'))?;
    let lower = first_line.to_ascii_lowercase();
    if lower.starts_with("*vertices") || lower.starts_with("*network") {
        return Some(SourceFormat::Pajek);
    }
    // GML: `graph [` (optionally after `Creator "..."` and other top-level pairs and `#`
    // comments) with a bracket after the key.
    let gml_text: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join(" ");
    let tokens: Vec<&str> = gml_text.split_whitespace().take(40).collect();
    tokens
        .windows(2)
        .any(|w| w[0] == "graph" && w[1].starts_with('['))
        .then_some(SourceFormat::Gml)
}

/// JSON content: a STIX bundle, node-link JSON (networkx or d3) or FtM lines.
fn sniff_json(text: &str) -> Option<SourceFormat> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.contains("\"type\":\"bundle\"") && compact.contains("\"objects\"") {
        return Some(SourceFormat::Stix);
    }
    // A bare list of STIX objects: an object whose id is `<its type>--...`.
    if compact.starts_with("[{")
        && compact
            .split("\"type\":\"")
            .skip(1)
            .take(20)
            .filter_map(|rest| rest.split_once('"').map(|(t, _)| t))
            .any(|t| !t.is_empty() && compact.contains(&format!("\"id\":\"{t}--")))
    {
        return Some(SourceFormat::Stix);
    }
    // A `nodes` array is node-link JSON (networkx writes `directed`, `multigraph`, `graph` and
    // `nodes` first; its `edges` or `links` come after every node, past the first 4 KiB of a
    // large file, so they cannot be required here).
    if compact.contains("\"nodes\":[") {
        return Some(SourceFormat::NodeLink);
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
        // SQLite words a full disk without a path: name the case (the source is only read).
        import_file(case, &self.source, &request, cancel, progress).map_err(|e| match e {
            IoError::Store(store) => IoError::Store(store.naming_case(case.path())),
            other => other,
        })
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
    // A file whose content is clearly another format is refused with the format that reads
    // it, before anything is parsed (a GraphML file saved as `.gml`, a GEXF file given as
    // GraphML).
    if let Some(found) = format.contradicted_by_content(source) {
        return Err(IoError::OtherFormat {
            path: source.to_path_buf(),
            found,
            expected: format,
        });
    }
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
        progress.report(None, &format!("reading the {} file", format.label()));
        // The graph importers report through options they own; their reports reach
        // `progress` (on the job's terminal line or the window's list of jobs).
        return crate::jobs::forward_progress(progress, |sender| {
            let graph = GraphOptions {
                lenient: opts.lenient,
                limits: opts.limits.clone(),
                progress: Some(sender),
                ..GraphOptions::default()
            };
            match format {
                SourceFormat::Gexf => super::gexf::import_gexf(case, source, &graph, cancel),
                SourceFormat::Graphml => {
                    super::graphml::import_graphml(case, source, &graph, cancel)
                }
                SourceFormat::Gml => super::gml::import_gml(case, source, &graph, cancel),
                SourceFormat::Pajek => super::pajek::import_pajek(case, source, &graph, cancel),
                SourceFormat::NodeLink => {
                    super::nodelink::import_node_link(case, source, &graph, cancel)
                }
                SourceFormat::Stix => super::stix::import_stix(case, source, &graph, cancel),
                SourceFormat::Mtgx => super::maltego::import_mtgx(case, source, &graph, cancel),
                _ => super::ftm::import_ftm(case, source, opts.lenient, &opts.limits, None, cancel),
            }
        });
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
    fn graph_formats_of_other_tools_are_found_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        // As networkx's write_gml, with a Creator line first as igraph's.
        let gml = write(
            "g.txt",
            "Creator \"igraph\"\ngraph [\n  directed 0\n  node [\n    id 0\n  ]\n]\n",
        );
        assert_eq!(SourceFormat::detect(&gml), SourceFormat::Gml);
        let pajek = write(
            "g.dat",
            "% made by hand\n*Vertices 2\n1 \"a\"\n2 \"b\"\n*Edges\n1 2\n",
        );
        assert_eq!(SourceFormat::detect(&pajek), SourceFormat::Pajek);
        let node_link = write(
            "g.json",
            "{\"directed\": false, \"multigraph\": false, \"graph\": {}, \"nodes\": [{\"id\": 0}], \"edges\": []}",
        );
        assert_eq!(SourceFormat::detect(&node_link), SourceFormat::NodeLink);
        let d3 = write(
            "miserables.json",
            "{\n  \"nodes\": [\n {\"id\": \"Myriel\"}],\n  \"links\": []\n}",
        );
        assert_eq!(SourceFormat::detect(&d3), SourceFormat::NodeLink);
        // A large networkx file: its edges come after 4 KiB of nodes.
        let mut big = String::from(
            "{\"directed\": false, \"multigraph\": false, \"graph\": {}, \"nodes\": [",
        );
        for i in 0..2000 {
            big.push_str(&format!("{{\"id\": {i}}}, "));
        }
        big.push_str("{\"id\": 2000}], \"edges\": []}");
        let big = write("ba.json", &big);
        assert_eq!(SourceFormat::detect(&big), SourceFormat::NodeLink);
        let stix = write(
            "bundle.json",
            "{\n  \"type\": \"bundle\",\n  \"id\": \"bundle--1\",\n  \"objects\": []\n}",
        );
        assert_eq!(SourceFormat::detect(&stix), SourceFormat::Stix);
        let stix_list = write(
            "objects.json",
            "[\n  {\n    \"type\": \"identity\",\n    \"spec_version\": \"2.1\",\n    \"id\": \"identity--023d105b-752e-4e3c-941c-7d3f3cb15e9e\"\n  }\n]",
        );
        assert_eq!(SourceFormat::detect(&stix_list), SourceFormat::Stix);
        let other_list = write("rows.json", "[{\"type\": \"a\", \"id\": \"b--c\"}]");
        assert_eq!(SourceFormat::detect(&other_list), SourceFormat::Csv);
        // GraphML saved as .gml is GraphML, and a GML file named as GML agrees with itself.
        let graphml_as_gml = write("export.gml", "<?xml version=\"1.0\"?><graphml></graphml>");
        assert_eq!(SourceFormat::from_name(&graphml_as_gml), SourceFormat::Gml);
        assert_eq!(SourceFormat::detect(&graphml_as_gml), SourceFormat::Graphml);
        assert_eq!(
            SourceFormat::Gml.contradicted_by_content(&graphml_as_gml),
            Some(SourceFormat::Graphml)
        );
        assert_eq!(SourceFormat::Gml.contradicted_by_content(&gml), None);
        // Content that says nothing contradicts nothing.
        let csv = write("calls.csv", "caller,callee\n1,2\n");
        assert_eq!(SourceFormat::Csv.contradicted_by_content(&csv), None);
        assert_eq!(SourceFormat::Tsv.contradicted_by_content(&csv), None);
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
        // What a text format's name says gives way to content that clearly says otherwise;
        // asked for by name, such a file is refused naming what it is.
        let graph = dir.path().join("g.graphml");
        std::fs::write(&graph, b"PAR1").unwrap();
        assert_eq!(SourceFormat::detect(&graph), SourceFormat::Parquet);
        assert_eq!(
            SourceFormat::Graphml.contradicted_by_content(&graph),
            Some(SourceFormat::Parquet)
        );
        // A workbook's name is taken at its word (its zip says little at the start).
        let book = dir.path().join("calls.xlsx");
        std::fs::write(&book, b"PK\x03\x04 and the rest").unwrap();
        assert_eq!(SourceFormat::detect(&book), SourceFormat::Xlsx);
        assert_eq!(
            SourceFormat::detect(&dir.path().join("missing")),
            SourceFormat::Csv
        );
    }
}
