//! The import wizard: pick a file (or drop it on the window) → choose a template, a saved
//! mapping spec or the column mapper (the file's columns matched to the roles the kind of
//! import needs, guessed from the header and the values; time zone and format with the values
//! as they will be read; values read as others; saved as a spec the CLI takes), and strict or
//! lenient → preview the first rows as they would be imported,
//! with problems marked → import as a job with progress and cancel → the report with every
//! rejected row, and "re-import rejected rows" after the mapping was fixed.
//!
//! Tables (CSV, TSV, XLSX, Parquet) go through a mapping; GraphML, GEXF and FollowTheMoney carry
//! their own structure and go straight to the import.

use crate::io::csv::{CsvOptions, Preview};
use crate::io::mapper::ColumnMapper;
use crate::io::{ImportPlan, ImportReport, MappingSpec, SourceFormat};
use crate::jobs::JobError;
use std::path::{Path, PathBuf};

/// The templates that ship with the program.
pub const TEMPLATES: [(&str, &str); 4] = [
    ("cdr", "Call-detail records"),
    ("bank", "Bank transactions"),
    ("entities", "People / entities list"),
    ("links", "Generic link list"),
];

/// Where the mapping comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecChoice {
    Template(String),
    /// A saved spec file (TOML), as typed or picked.
    File(String),
    /// The column mapper's spec, as TOML (or why it is not complete yet).
    Mapped(String),
}

/// The wizard's step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Pick,
    Map,
    Running,
    Report,
}

/// The wizard's state. The wizard never starts work itself: it tells the app what to run
/// (a preview, the import) through [`WizardRequest`], and the app hands the outcome back.
#[derive(Debug)]
pub struct ImportWizard {
    pub step: Step,
    pub path_text: String,
    pub spec: SpecChoice,
    pub lenient: bool,
    pub preview: Option<Result<Preview, String>>,
    /// What the preview was made from, to redo it when the choice changes.
    preview_of: Option<(String, SpecChoice)>,
    /// A preview is being made (off the UI thread: it reads and hashes the whole file).
    pub preview_pending: bool,
    pub report: Option<ImportReport>,
    pub error: Option<String>,
    /// The report whose rejected rows the next import re-imports.
    pub reimport: Option<ImportReport>,
    /// The file's header and first rows (tables), read when the file is chosen.
    pub head: Option<(Vec<String>, Vec<Vec<String>>)>,
    /// The column mapper, once chosen (or opened because no template fits the file).
    pub mapper: Option<ColumnMapper>,
    /// Where "Save spec" writes the mapping.
    pub save_path: String,
}

/// Rows of the file the mapper shows and guesses from.
const HEAD_ROWS: usize = 20;

/// A preview the app makes in a job for the wizard.
#[derive(Debug, Clone)]
pub struct PreviewPlan {
    path: PathBuf,
    format: SourceFormat,
    spec: MappingSpec,
    opts: CsvOptions,
    /// The choice it was made for: a preview of an older choice is dropped.
    pub key: (String, SpecChoice),
}

/// Rows a preview shows.
const PREVIEW_ROWS: usize = 20;

impl PreviewPlan {
    /// Reads the first rows as they would be imported (run it in a job).
    pub fn run(&self, schema: &crate::model::Schema) -> Result<Preview, String> {
        let (path, spec, opts) = (&self.path, &self.spec, &self.opts);
        match self.format {
            SourceFormat::Parquet => {
                crate::io::parquet::preview_parquet(path, spec, schema, opts, PREVIEW_ROWS)
            }
            SourceFormat::Xlsx => {
                crate::io::xlsx::preview_xlsx(path, None, spec, schema, opts, PREVIEW_ROWS)
            }
            _ => crate::io::csv::preview_csv(path, spec, schema, opts, PREVIEW_ROWS),
        }
        .map_err(|e| e.to_string())
    }
}

impl ImportWizard {
    /// Opens at the first step, or at the mapping when a file is given (dropped).
    pub fn new(path: Option<&Path>) -> ImportWizard {
        let mut wizard = ImportWizard {
            step: Step::Pick,
            path_text: String::new(),
            spec: SpecChoice::Template("cdr".into()),
            lenient: false,
            preview: None,
            preview_of: None,
            preview_pending: false,
            report: None,
            error: None,
            reimport: None,
            head: None,
            mapper: None,
            save_path: String::new(),
        };
        if let Some(p) = path {
            wizard.path_text = p.display().to_string();
            wizard.next_from_pick();
        }
        wizard
    }

    pub fn path(&self) -> PathBuf {
        PathBuf::from(self.path_text.trim())
    }

    /// The format of the chosen file, from its name and its first bytes, as the command line
    /// finds it.
    pub fn format(&self) -> SourceFormat {
        SourceFormat::detect(&self.path())
    }

    /// Leaves the first step: checks the file and guesses the template from its header.
    pub fn next_from_pick(&mut self) {
        let path = self.path();
        if !path.is_file() {
            self.error = Some(format!(
                "There is no file at this path; check it or pick the file again. {}",
                path.display()
            ));
            return;
        }
        self.error = None;
        self.head = crate::io::mapper::read_head(&path, self.format(), HEAD_ROWS);
        self.mapper = None;
        if self.format().needs_mapping() {
            if let Some(t) = guess_template(&path) {
                self.spec = SpecChoice::Template(t.into());
            } else {
                // No template reads this file as it is: the mapper opens with its guesses,
                // so that the user goes on from there rather than from an error.
                self.open_mapper(None);
            }
        }
        let stem = path.with_extension("spec.toml");
        self.save_path = stem.display().to_string();
        self.preview = None;
        self.preview_of = None;
        self.step = Step::Map;
    }

    /// Opens the column mapper, for a template or the one the file's columns fit best.
    pub fn open_mapper(&mut self, template: Option<&str>) {
        let (header, samples) = self.head.clone().unwrap_or_default();
        let names: Vec<&str> = TEMPLATES.iter().map(|(n, _)| *n).collect();
        self.mapper = match template {
            Some(t) => ColumnMapper::new(t, header, samples).ok(),
            None => ColumnMapper::best(&names, &header, &samples),
        };
        self.sync_mapped();
    }

    /// Keeps the spec choice in step with the mapper (the preview is redone when it changes).
    fn sync_mapped(&mut self) {
        if let Some(m) = &self.mapper {
            let text = m
                .spec()
                .and_then(|s| s.to_toml())
                .unwrap_or_else(|e| format!("# incomplete: {e}"));
            self.spec = SpecChoice::Mapped(text);
        }
    }

    /// Why the import cannot start yet (`None`: it can): a role without a column, a spec that
    /// does not load, or a column the spec reads that the file does not have.
    pub fn not_ready(&self) -> Option<String> {
        if !self.format().needs_mapping() {
            return None;
        }
        if let SpecChoice::Mapped(_) = &self.spec
            && let Some(m) = &self.mapper
        {
            let open: Vec<&str> = m.missing().iter().map(|r| r.label).collect();
            if !open.is_empty() {
                return Some(format!("Choose a column for: {}", open.join(", ")));
            }
            if let Some(problem) = m.time_problem() {
                return Some(format!(
                    "The times cannot be read yet ({problem}); set the date format or the time zone"
                ));
            }
        }
        let spec = match self.load_spec() {
            Ok(s) => s,
            Err(e) => return Some(e),
        };
        if let Some((header, _)) = &self.head {
            let absent: Vec<String> = spec
                .columns()
                .into_iter()
                .filter(|(c, required)| *required && !header.iter().any(|h| h == c))
                .map(|(c, _)| c)
                .collect();
            if !absent.is_empty() {
                return Some(format!(
                    "The file has no column {} that this mapping needs; choose \"Map the columns myself\" to match its own columns",
                    absent
                        .iter()
                        .map(|c| format!("'{c}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        None
    }

    /// The chosen mapping.
    pub fn load_spec(&self) -> Result<MappingSpec, String> {
        match &self.spec {
            SpecChoice::Mapped(_) => match &self.mapper {
                Some(m) => m.spec(),
                None => Err("the column mapper has nothing to map".into()),
            },
            SpecChoice::Template(name) => MappingSpec::template(name),
            SpecChoice::File(file) => {
                let text = std::fs::read_to_string(file.trim()).map_err(|e| {
                    format!("the spec file could not be read ({e}); check the path. {file}")
                })?;
                MappingSpec::from_toml(&text).map_err(|e| format!("{e}. {file}"))
            }
        }
    }

    fn csv_options(&self, kind: SourceFormat) -> CsvOptions {
        CsvOptions {
            lenient: self.lenient,
            tsv: kind == SourceFormat::Tsv,
            delimiter: None,
            encoding: None,
            timezone: None,
            limits: Default::default(),
            only_lines: None,
        }
    }

    /// The preview the app should make now, when the file or the mapping changed (tables
    /// only).
    pub fn wanted_preview(&mut self) -> Option<PreviewPlan> {
        let key = (self.path_text.clone(), self.spec.clone());
        if self.preview_of.as_ref() == Some(&key) {
            return None;
        }
        self.preview_of = Some(key.clone());
        self.preview = None;
        self.preview_pending = false;
        let path = self.path();
        let format = self.format();
        if !format.needs_mapping() {
            return None;
        }
        let spec = match self.load_spec() {
            Ok(spec) => spec,
            Err(e) => {
                self.preview = Some(Err(e));
                return None;
            }
        };
        self.preview_pending = true;
        Some(PreviewPlan {
            opts: self.csv_options(format),
            path,
            format,
            spec,
            key,
        })
    }

    /// Takes a preview the app made; one made for an earlier choice is dropped.
    pub fn preview_made(&mut self, key: &(String, SpecChoice), preview: Result<Preview, String>) {
        if self.preview_of.as_ref() == Some(key) {
            self.preview = Some(preview);
            self.preview_pending = false;
        }
    }

    /// What the import will run, or why it cannot start (the message is also shown).
    pub fn plan(&mut self) -> Option<ImportPlan> {
        let source = self.path();
        let format = self.format();
        let spec = if format.needs_mapping() {
            match self.load_spec() {
                Ok(s) => Some(s),
                Err(e) => {
                    self.error = Some(e);
                    return None;
                }
            }
        } else {
            None
        };
        Some(ImportPlan {
            opts: self.csv_options(format),
            source,
            format,
            spec,
            sheet: None,
            rejected_from: self.reimport.clone(),
        })
    }

    /// The app started the import job.
    pub fn started(&mut self) {
        self.error = None;
        self.step = Step::Running;
    }

    /// Takes the job's outcome.
    pub fn finished(&mut self, result: Result<ImportReport, JobError>) {
        match result {
            Ok(report) => {
                self.report = Some(report);
                self.reimport = None;
                self.error = None;
                self.step = Step::Report;
            }
            Err(JobError::Cancelled) => {
                self.error = Some("The import was cancelled; nothing was imported.".into());
                self.step = Step::Map;
            }
            Err(e) => {
                self.error = Some(format!("Nothing was imported: {e}"));
                self.step = Step::Map;
            }
        }
    }

    /// After fixing the mapping: import only the rows the report rejected.
    pub fn prepare_reimport(&mut self) {
        self.reimport = self.report.take();
        self.preview_of = None;
        self.step = Step::Map;
    }
}

/// The template whose required columns the file's header has (CSV and TSV only).
pub fn guess_template(path: &Path) -> Option<&'static str> {
    let kind = SourceFormat::detect(path);
    let header = match kind {
        SourceFormat::Csv | SourceFormat::Tsv => csv_header(path)?,
        // Column names are in the footer; the rows are not read.
        SourceFormat::Parquet => crate::io::parquet::column_names(path)?,
        _ => return None,
    };
    TEMPLATES.iter().map(|(name, _)| *name).find(|name| {
        MappingSpec::template(name).is_ok_and(|spec| {
            spec.columns()
                .iter()
                .filter(|(_, required)| *required)
                .all(|(c, _)| header.iter().any(|h| h == c))
        })
    })
}

/// The header of a delimited text file, from its first line.
fn csv_header(path: &Path) -> Option<Vec<String>> {
    // The header is on the first line; read only the start of the file.
    use std::io::Read as _;
    let mut head = vec![0u8; 64 * 1024];
    let n = std::fs::File::open(path).ok()?.read(&mut head).ok()?;
    let text = String::from_utf8_lossy(&head[..n]);
    let first = text.lines().next()?.trim_start_matches('\u{feff}');
    let delimiter = [',', ';', '\t', '|']
        .into_iter()
        .max_by_key(|d| first.matches(*d).count())?;
    Some(
        first
            .split(delimiter)
            .map(|h| h.trim().trim_matches('"').to_string())
            .collect(),
    )
}

/// What the wizard asks the app to do.
#[derive(Debug, Clone)]
pub enum WizardRequest {
    /// Make this preview in a job.
    Preview(Box<PreviewPlan>),
    /// Start the import.
    Start,
    /// Write the mapper's spec to this file.
    SaveSpec(PathBuf, Box<MappingSpec>),
    /// Cancel the running import.
    Cancel,
    Close,
    Browse,
}

/// Shows the wizard's current step.
pub fn show(
    ui: &mut egui::Ui,
    wizard: &mut ImportWizard,
    progress: Option<(Option<f32>, String)>,
) -> Vec<WizardRequest> {
    let mut requests = Vec::new();
    match wizard.step {
        Step::Pick => {
            ui.label("1. The file to import (CSV, TSV, XLSX, Parquet, GraphML, GEXF, FollowTheMoney). It is only read, never changed.");
            ui.horizontal(|ui| {
                let label = ui.label("File:");
                ui.add(
                    egui::TextEdit::singleline(&mut wizard.path_text)
                        .desired_width(420.0)
                        .hint_text("/path/to/calls.csv"),
                )
                .labelled_by(label.id);
                if ui.button("Browse…").clicked() {
                    requests.push(WizardRequest::Browse);
                }
            });
            ui.horizontal(|ui| {
                if ui
                    .add_enabled(
                        !wizard.path_text.trim().is_empty(),
                        egui::Button::new("Next"),
                    )
                    .clicked()
                {
                    wizard.next_from_pick();
                }
                if ui.button("Cancel").clicked() {
                    requests.push(WizardRequest::Close);
                }
            });
        }
        Step::Map => {
            let path = wizard.path();
            let kind = wizard.format();
            ui.label(format!("File: {} ({})", path.display(), kind.label()));
            if kind.needs_mapping() {
                ui.label("2. How its columns become entities, links and events:");
                ui.horizontal(|ui| {
                    let current = match &wizard.spec {
                        SpecChoice::Template(t) => TEMPLATES
                            .iter()
                            .find(|(n, _)| n == t)
                            .map_or(t.clone(), |(_, l)| format!("Template: {l}")),
                        SpecChoice::File(_) => "Saved mapping spec (TOML)".into(),
                        SpecChoice::Mapped(_) => "Map the columns myself".into(),
                    };
                    let mut open_mapper = false;
                    egui::ComboBox::new("import-spec", "Mapping")
                        .selected_text(current)
                        .show_ui(ui, |ui| {
                            for (name, label) in TEMPLATES {
                                ui.selectable_value(
                                    &mut wizard.spec,
                                    SpecChoice::Template(name.into()),
                                    format!("Template: {label}"),
                                );
                            }
                            if ui
                                .selectable_label(
                                    matches!(wizard.spec, SpecChoice::File(_)),
                                    "Saved mapping spec (TOML)",
                                )
                                .clicked()
                            {
                                wizard.spec = SpecChoice::File(String::new());
                            }
                            if wizard.head.is_some()
                                && ui
                                    .selectable_label(
                                        matches!(wizard.spec, SpecChoice::Mapped(_)),
                                        "Map the columns myself",
                                    )
                                    .clicked()
                            {
                                open_mapper = true;
                            }
                        });
                    if open_mapper {
                        let template = match &wizard.spec {
                            SpecChoice::Template(t) => Some(t.clone()),
                            _ => None,
                        };
                        wizard.open_mapper(template.as_deref());
                    }
                });
                if matches!(wizard.spec, SpecChoice::Mapped(_)) {
                    mapper_view(ui, wizard, &mut requests);
                }
                if let SpecChoice::File(file) = &mut wizard.spec {
                    ui.horizontal(|ui| {
                        let label = ui.label("Spec file:");
                        ui.add(
                            egui::TextEdit::singleline(file)
                                .desired_width(380.0)
                                .hint_text("/path/to/spec.toml"),
                        )
                        .labelled_by(label.id);
                    });
                }
            }
            ui.checkbox(
                &mut wizard.lenient,
                "Lenient: import the good rows and list the bad ones (otherwise one bad row rejects the whole file)",
            );
            if let Some(previous) = &wizard.reimport {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    match previous.rejected.len() {
                        1 => "Re-importing only the row the last import rejected.".to_string(),
                        n => format!("Re-importing only the {n} rows the last import rejected."),
                    },
                );
            }
            if let Some(plan) = wizard.wanted_preview() {
                requests.push(WizardRequest::Preview(Box::new(plan)));
            }
            if wizard.preview_pending {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Reading the file for the preview…");
                });
            } else {
                preview_table(ui, wizard.preview.as_ref());
            }
            ui.horizontal(|ui| {
                if ui.button("Back").clicked() {
                    wizard.step = Step::Pick;
                }
                let label = if wizard.reimport.is_some() {
                    "Re-import rejected rows"
                } else {
                    "Start import"
                };
                let not_ready = wizard.not_ready();
                let start = ui.add_enabled(not_ready.is_none(), egui::Button::new(label));
                if start.clicked() {
                    requests.push(WizardRequest::Start);
                }
                if let Some(why) = &not_ready {
                    ui.colored_label(ui.visuals().warn_fg_color, why);
                }
                if ui.button("Cancel").clicked() {
                    requests.push(WizardRequest::Close);
                }
            });
        }
        Step::Running => {
            let (fraction, text) = progress.unwrap_or((None, "starting".into()));
            ui.label(format!("Importing {}…", wizard.path().display()));
            let bar = egui::ProgressBar::new(fraction.unwrap_or(0.0)).text(text);
            ui.add(if fraction.is_none() {
                bar.animate(true)
            } else {
                bar
            });
            if ui.button("Cancel import").clicked() {
                requests.push(WizardRequest::Cancel);
            }
        }
        Step::Report => {
            let kind = wizard.format();
            let mut reimport = false;
            if let Some(report) = &wizard.report {
                report_view(ui, report);
                ui.horizontal(|ui| {
                    // Rejected rows of tables can be re-imported by line or row number.
                    if !report.rejected.is_empty()
                        && kind.needs_mapping()
                        && ui
                            .button("Fix the mapping and re-import rejected rows…")
                            .clicked()
                    {
                        reimport = true;
                    }
                    if ui.button("Close").clicked() {
                        requests.push(WizardRequest::Close);
                    }
                });
            }
            if reimport {
                wizard.prepare_reimport();
            }
        }
    }
    if let Some(e) = &wizard.error {
        ui.colored_label(ui.visuals().error_fg_color, e);
    }
    requests
}

/// The column mapper: each role of the kind of import beside the file's column chosen for
/// it (with its first values), the time zone and format with the times as they will be read,
/// values read as others, and saving the spec.
fn mapper_view(ui: &mut egui::Ui, wizard: &mut ImportWizard, requests: &mut Vec<WizardRequest>) {
    let Some(mapper) = &mut wizard.mapper else {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            "The file's columns could not be read for the mapper.",
        );
        return;
    };
    let before = mapper.clone();
    ui.horizontal(|ui| {
        ui.label("Kind of import:");
        let current = TEMPLATES
            .iter()
            .find(|(n, _)| *n == mapper.template)
            .map_or(mapper.template.clone(), |(_, l)| l.to_string());
        let mut template = mapper.template.clone();
        egui::ComboBox::from_id_salt("mapper-template")
            .selected_text(current)
            .show_ui(ui, |ui| {
                for (name, label) in TEMPLATES {
                    ui.selectable_value(&mut template, name.to_string(), label);
                }
            });
        if template != mapper.template
            && let Ok(m) =
                ColumnMapper::new(&template, mapper.header.clone(), mapper.samples.clone())
        {
            *mapper = m;
        }
    });
    egui::Grid::new("mapper-roles")
        .num_columns(3)
        .striped(true)
        .show(ui, |ui| {
            ui.strong("what the import needs");
            ui.strong("column of the file");
            ui.strong("first values");
            ui.end_row();
            let header = mapper.header.clone();
            for role in mapper.roles.clone() {
                let name = if role.label.is_empty() {
                    role.key.clone()
                } else {
                    role.label.to_string()
                };
                ui.label(if role.required {
                    format!("{name} *")
                } else {
                    name.clone()
                });
                let mut column = mapper.chosen.get(&role.key).cloned().unwrap_or_default();
                egui::ComboBox::from_id_salt(("mapper-role", role.key.as_str()))
                    .selected_text(if column.is_empty() {
                        "(none)".to_string()
                    } else {
                        column.clone()
                    })
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut column, String::new(), "(none)");
                        for h in &header {
                            ui.selectable_value(&mut column, h.clone(), h);
                        }
                    });
                if column.is_empty() {
                    mapper.chosen.remove(&role.key);
                } else {
                    mapper.chosen.insert(role.key.clone(), column.clone());
                }
                ui.weak(
                    mapper
                        .sample_values(&column)
                        .iter()
                        .take(3)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(" · "),
                );
                ui.end_row();
            }
        });
    ui.horizontal(|ui| {
        let l = ui.label("Time zone");
        ui.add(egui::TextEdit::singleline(&mut mapper.zone).desired_width(120.0))
            .labelled_by(l.id);
        let l = ui.label("Date format");
        ui.add(
            egui::TextEdit::singleline(&mut mapper.time_format)
                .desired_width(140.0)
                .hint_text("auto, %d/%m/%Y %H:%M"),
        )
        .labelled_by(l.id);
    });
    if let Some(column) = mapper.time_column() {
        let spec = mapper.time_spec();
        for value in mapper.sample_values(column).into_iter().take(3) {
            match crate::io::spec::parse_time(value, &spec) {
                Ok(t) => ui.weak(format!(
                    "{value} is read as {} UTC",
                    super::time_text(t.start_ms)
                )),
                Err(e) => ui.colored_label(ui.visuals().warn_fg_color, format!("{value}: {e}")),
            };
        }
    }
    ui.label("Values read as others (case does not matter), such as PERSON as Person:");
    let mut remove = None;
    for (i, (column, from, to)) in mapper.values.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            egui::ComboBox::from_id_salt(("mapper-value-column", i))
                .selected_text(if column.is_empty() {
                    "column"
                } else {
                    column.as_str()
                })
                .show_ui(ui, |ui| {
                    for h in &before.header {
                        ui.selectable_value(column, h.clone(), h);
                    }
                });
            ui.add(
                egui::TextEdit::singleline(from)
                    .hint_text("as written")
                    .desired_width(90.0),
            );
            ui.label("as");
            ui.add(
                egui::TextEdit::singleline(to)
                    .hint_text("read as")
                    .desired_width(90.0),
            );
            if ui.small_button("remove").clicked() {
                remove = Some(i);
            }
        });
    }
    if let Some(i) = remove {
        mapper.values.remove(i);
    }
    if ui.small_button("+ value").clicked() {
        let column = mapper.chosen.get("type").cloned().unwrap_or_default();
        mapper.values.push((column, String::new(), String::new()));
    }
    let spec = mapper.spec();
    let changed = *mapper != before;
    ui.horizontal(|ui| {
        let l = ui.label("Spec file");
        ui.add(egui::TextEdit::singleline(&mut wizard.save_path).desired_width(300.0))
            .labelled_by(l.id);
        let path = wizard.save_path.trim();
        if ui
            .add_enabled(
                spec.is_ok() && !path.is_empty(),
                egui::Button::new("Save spec"),
            )
            .on_hover_text("for `copkit import --spec FILE` and later imports of files like this")
            .clicked()
            && let Ok(spec) = &spec
        {
            requests.push(WizardRequest::SaveSpec(
                PathBuf::from(path),
                Box::new(spec.clone()),
            ));
        }
    });
    if changed {
        wizard.sync_mapped();
    }
}

fn preview_table(ui: &mut egui::Ui, preview: Option<&Result<Preview, String>>) {
    match preview {
        None => {
            ui.weak("No preview for this kind of file; its own structure is imported.");
        }
        Some(Err(e)) => {
            ui.colored_label(ui.visuals().error_fg_color, format!("Preview failed: {e}"));
        }
        Some(Ok(p)) => {
            let bad = p.rows.iter().filter(|r| !r.problems.is_empty()).count();
            // Workbooks and Parquet files have no delimiter; their "encoding" names the sheet
            // or the row groups.
            let source = if p.delimiter.is_empty() {
                p.encoding.clone()
            } else {
                format!("encoding {}, delimiter {}", p.encoding, p.delimiter)
            };
            ui.label(format!(
                "3. Preview of the first {} rows ({source}): {bad} with problems",
                p.rows.len(),
            ));
            egui::ScrollArea::both()
                .max_height(260.0)
                .id_salt("import-preview")
                .show(ui, |ui| {
                    egui::Grid::new("import-preview-grid")
                        .striped(true)
                        .show(ui, |ui| {
                            ui.strong("line");
                            for h in &p.header {
                                ui.strong(h);
                            }
                            ui.strong("becomes / problem");
                            ui.end_row();
                            for row in &p.rows {
                                let problem = !row.problems.is_empty();
                                let colour = if problem {
                                    ui.visuals().error_fg_color
                                } else {
                                    ui.visuals().text_color()
                                };
                                ui.colored_label(colour, row.line.to_string());
                                for (column, cell) in row.cells.iter().enumerate() {
                                    let header = p.header.get(column);
                                    let marked = row.problems.iter().any(|pr| {
                                        pr.field.is_some() && pr.field.as_ref() == header
                                    });
                                    if marked {
                                        ui.colored_label(ui.visuals().error_fg_color, cell);
                                    } else {
                                        ui.label(cell);
                                    }
                                }
                                if problem {
                                    let text = row
                                        .problems
                                        .iter()
                                        .map(ToString::to_string)
                                        .collect::<Vec<_>>()
                                        .join("; ");
                                    ui.colored_label(ui.visuals().error_fg_color, text);
                                } else {
                                    ui.label(row.makes.join(", "));
                                }
                                ui.end_row();
                            }
                        });
                });
        }
    }
}

fn report_view(ui: &mut egui::Ui, report: &ImportReport) {
    ui.heading("Import report");
    ui.label(format!(
        "{}: {} rows read, {} accepted, {} rejected{}",
        report.source,
        report.rows_read,
        report.rows_accepted,
        report.rows_rejected,
        if report.lenient {
            " (lenient: the good rows were imported)"
        } else if report.rows_rejected > 0 {
            " (strict: nothing was imported)"
        } else {
            ""
        }
    ));
    ui.label(format!(
        "Created {} entities ({} matched existing ones and were merged), {} links, {} events.",
        report.entities_created, report.entities_merged, report.links, report.events
    ));
    ui.weak(format!("SHA-256 of the bytes read: {}", report.sha256));
    if !report.rejected.is_empty() {
        ui.strong("Rejected rows");
        egui::ScrollArea::vertical()
            .max_height(200.0)
            .id_salt("import-rejected")
            .show(ui, |ui| {
                for p in &report.rejected {
                    ui.colored_label(ui.visuals().error_fg_color, p.to_string());
                }
            });
    }
    if !report.warnings.is_empty() {
        ui.strong("Warnings");
        for w in report.warnings.iter().take(50) {
            ui.colored_label(ui.visuals().warn_fg_color, w.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wizard finds a file's format as the command line does: by name, and by content
    /// where the name says CSV (a Parquet file exported under another tool's extension).
    #[test]
    fn the_wizard_detects_the_format_by_content_as_the_command_line_does() {
        let dir = tempfile::tempdir().unwrap();
        let parquet = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cdr.parquet");
        let renamed = dir.path().join("export.dat");
        std::fs::copy(&parquet, &renamed).unwrap();
        let wizard = ImportWizard::new(Some(&renamed));
        assert_eq!(wizard.format(), SourceFormat::Parquet);
        assert_eq!(wizard.format(), SourceFormat::detect(&renamed));
        assert_eq!(wizard.step, Step::Map);
        // The template is guessed from the Parquet file's columns.
        assert_eq!(wizard.spec, SpecChoice::Template("cdr".into()));
    }

    #[test]
    fn the_template_is_guessed_from_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let spec = MappingSpec::template("cdr").unwrap();
        let header: Vec<String> = spec
            .columns()
            .into_iter()
            .filter(|(_, r)| *r)
            .map(|(c, _)| c)
            .collect();
        let path = dir.path().join("calls.csv");
        std::fs::write(&path, format!("{}\n", header.join(","))).unwrap();
        assert_eq!(guess_template(&path), Some("cdr"));
        let other = dir.path().join("other.csv");
        std::fs::write(&other, "nothing,useful\n").unwrap();
        assert_eq!(guess_template(&other), None);
        // Parquet: from the column names in the footer.
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        assert_eq!(guess_template(&fixtures.join("cdr.parquet")), Some("cdr"));
        assert_eq!(
            guess_template(&fixtures.join("bad/truncated.parquet")),
            None
        );
    }
}
