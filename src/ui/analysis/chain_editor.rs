//! The chain editor of the analysis panel: a chain built without writing TOML. Steps in
//! order, each a component from the registry with its parameters (fields by the component's
//! parameter kinds), its input (the scope the chain runs on, or an earlier step's result in
//! one of the chain format's modes) and its options; steps added, removed and moved. Check
//! runs the validation `copkit chain check` runs and shows each problem under its step; run,
//! save and open are asked of the app (the view never starts jobs or opens dialogs), and a
//! saved file is the TOML `copkit chain run` reads.

use super::super::Action;
use crate::analysis::chain::{
    ChainSpec, InputMode, InputSpec, StepSpec, param_value, toml_to_text,
};
use crate::analysis::{self, ParamKind};
use crate::model::EntityId;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What the editor asks the app to do with chain files.
#[derive(Debug, Clone, PartialEq)]
pub enum ChainFileRequest {
    /// Ask where to save (the save dialog), then save without replacing a file.
    SaveAs { text: String, file_name: String },
    /// Replace this file: the analyst confirmed.
    Replace { path: PathBuf, text: String },
    /// Ask for a chain file (the open dialog) and load it into the editor.
    Open,
}

/// One step as typed in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepDraft {
    pub id: String,
    pub component: String,
    /// Parameter values as typed; empty ones are left out of the file.
    pub params: BTreeMap<String, String>,
    /// The earlier step whose result is the input; `None`: the scope the chain runs on.
    pub input: Option<String>,
    pub mode: Option<InputMode>,
    /// For mode `top`.
    pub n: String,
    /// Keep the step's own N highest values.
    pub top: String,
    /// "", "unconfirmed", "tentative" or "confirmed".
    pub min_strength: String,
    pub last_days: String,
}

/// The editor's state across frames.
#[derive(Debug, Clone, Default)]
pub struct ChainEditor {
    pub name: String,
    pub description: String,
    pub steps: Vec<StepDraft>,
    /// The problems of the last check: the step they are about (`None`: the whole chain).
    pub problems: Vec<(Option<usize>, String)>,
    /// What the last check, save or open said when it went well.
    pub status: String,
    /// The file it was saved to or opened from.
    pub path: Option<PathBuf>,
    /// A save that would replace this file, waiting for the analyst's yes.
    pub confirm_replace: Option<(PathBuf, String)>,
}

/// A whole number field: empty is `None`.
fn whole(text: &str) -> Result<Option<usize>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<usize>()
        .map(Some)
        .map_err(|_| format!("'{t}' is not a whole number"))
}

impl ChainEditor {
    /// The name files and messages use for the chain.
    pub fn file_name(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => {
                let stem: String = self
                    .name
                    .trim()
                    .chars()
                    .map(|c| if c.is_alphanumeric() { c } else { '-' })
                    .collect();
                format!("{}.toml", if stem.is_empty() { "chain" } else { &stem })
            }
        }
    }

    /// A new step, numbered after the others, running the first component.
    pub fn add_step(&mut self) {
        let mut k = self.steps.len() + 1;
        while self.steps.iter().any(|s| s.id == format!("step{k}")) {
            k += 1;
        }
        self.steps.push(StepDraft {
            id: format!("step{k}"),
            component: analysis::components()
                .first()
                .map(|c| c.name().to_string())
                .unwrap_or_default(),
            ..StepDraft::default()
        });
        self.problems.clear();
    }

    /// Removes a step; steps that took their input from it now take the chain's scope.
    pub fn remove_step(&mut self, k: usize) {
        if k >= self.steps.len() {
            return;
        }
        let gone = self.steps.remove(k).id;
        for s in &mut self.steps {
            if s.input.as_deref() == Some(gone.as_str()) {
                s.input = None;
            }
        }
        self.problems.clear();
    }

    /// Moves step `k` one place up (`up`) or down.
    pub fn move_step(&mut self, k: usize, up: bool) {
        let other = if up { k.checked_sub(1) } else { Some(k + 1) };
        if let Some(j) = other
            && j < self.steps.len()
            && k < self.steps.len()
        {
            self.steps.swap(k, j);
            self.problems.clear();
        }
    }

    /// The chain as the file holds it, or the fields that are not numbers where numbers go.
    pub fn spec(&self) -> Result<ChainSpec, Vec<(Option<usize>, String)>> {
        let mut problems = Vec::new();
        let mut steps = Vec::new();
        for (k, d) in self.steps.iter().enumerate() {
            let mut bad = |field: &str, e: String| {
                problems.push((Some(k), format!("step '{}': {field}: {e}", d.id)));
                None
            };
            let top = whole(&d.top).unwrap_or_else(|e| bad("top", e));
            let last_days = whole(&d.last_days).unwrap_or_else(|e| bad("last_days", e));
            let n = whole(&d.n).unwrap_or_else(|e| bad("input.n", e));
            let last_days = last_days.map(|d| u32::try_from(d).unwrap_or(u32::MAX));
            let kinds: BTreeMap<&str, ParamKind> = analysis::find(&d.component)
                .map(|c| c.params().iter().map(|p| (p.name, p.kind)).collect())
                .unwrap_or_default();
            let params: toml::Table = d
                .params
                .iter()
                .filter(|(_, v)| !v.trim().is_empty())
                .map(|(name, v)| {
                    let kind = kinds.get(name.as_str()).copied().unwrap_or(ParamKind::Text);
                    (name.clone(), param_value(kind, v))
                })
                .collect();
            let input = d.input.as_ref().map(|step| {
                let mode = d.mode.unwrap_or(InputMode::Subgraph);
                InputSpec {
                    step: step.clone(),
                    mode,
                    n: if mode == InputMode::Top { n } else { None },
                }
            });
            steps.push(StepSpec {
                id: d.id.trim().to_string(),
                component: d.component.clone(),
                params,
                input,
                top,
                min_strength: (!d.min_strength.is_empty()).then(|| d.min_strength.clone()),
                last_days,
            });
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(ChainSpec {
            name: self.name.trim().to_string(),
            description: self.description.trim().to_string(),
            step: steps,
        })
    }

    /// Checks the chain as `copkit chain check` does; on success gives its TOML. The problems
    /// are kept to show under their steps.
    pub fn check(&mut self) -> Option<String> {
        self.status.clear();
        let file = self.file_name();
        let spec = match self.spec() {
            Ok(s) => s,
            Err(p) => {
                self.problems = p;
                return None;
            }
        };
        let mut problems: Vec<(Option<usize>, String)> = Vec::new();
        if spec.name.is_empty() {
            problems.push((None, "give the chain a name".into()));
        }
        if let Err(found) = spec.check(&file) {
            problems.extend(found.into_iter().map(|(k, e)| (k, e.to_string())));
        }
        self.problems = problems;
        if !self.problems.is_empty() {
            return None;
        }
        match spec.to_toml() {
            Ok(text) => {
                self.status = format!("The chain is valid: {} steps", spec.step.len());
                Some(text)
            }
            Err(e) => {
                self.problems.push((None, e.to_string()));
                None
            }
        }
    }

    /// Loads a chain file's text into the editor (every step, even one the check would
    /// refuse, so it can be mended here).
    pub fn load(&mut self, text: &str, path: Option<PathBuf>) -> Result<(), String> {
        let file = path
            .as_ref()
            .map_or_else(|| "chain".to_string(), |p| p.display().to_string());
        let spec = ChainSpec::parse(text, &file).map_err(|e| e.to_string())?;
        let text_of = |n: Option<usize>| n.map(|n| n.to_string()).unwrap_or_default();
        *self = ChainEditor {
            name: spec.name,
            description: spec.description,
            steps: spec
                .step
                .into_iter()
                .map(|s| StepDraft {
                    id: s.id,
                    component: s.component,
                    params: s
                        .params
                        .iter()
                        .map(|(k, v)| (k.clone(), toml_to_text(v).unwrap_or_default()))
                        .collect(),
                    mode: s.input.as_ref().map(|i| i.mode),
                    n: text_of(s.input.as_ref().and_then(|i| i.n)),
                    input: s.input.map(|i| i.step),
                    top: text_of(s.top),
                    min_strength: s.min_strength.unwrap_or_default(),
                    last_days: text_of(s.last_days.map(|d| d as usize)),
                })
                .collect(),
            path,
            ..ChainEditor::default()
        };
        Ok(())
    }
}

/// Draws the editor; returns what the app should do. `run` holds the label of the scope
/// the chain would run on and the action that runs it (built by the panel).
pub fn show(
    ui: &mut egui::Ui,
    editor: &mut ChainEditor,
    selected: &[EntityId],
    running: bool,
    run: &dyn Fn(String, String) -> Action,
    scope_label: &str,
) -> Vec<Action> {
    let mut actions = Vec::new();
    ui.horizontal(|ui| {
        let label = ui.label("Chain name:");
        ui.add(egui::TextEdit::singleline(&mut editor.name).desired_width(220.0))
            .labelled_by(label.id);
        let label = ui.label("Description:");
        ui.add(egui::TextEdit::singleline(&mut editor.description).desired_width(320.0))
            .labelled_by(label.id);
    });
    for (_, p) in editor.problems.iter().filter(|(k, _)| k.is_none()) {
        ui.colored_label(ui.visuals().error_fg_color, p);
    }
    let components = analysis::components();
    let mut remove = None;
    let mut shift = None;
    let count = editor.steps.len();
    for k in 0..count {
        let earlier: Vec<String> = editor.steps[..k].iter().map(|s| s.id.clone()).collect();
        let step = &mut editor.steps[k];
        ui.group(|ui| {
            ui.horizontal(|ui| {
                ui.strong(format!("Step {}", k + 1));
                let label = ui.label("id");
                ui.add(egui::TextEdit::singleline(&mut step.id).desired_width(120.0))
                    .labelled_by(label.id);
                egui::ComboBox::new(
                    ("chain-step-component", k),
                    format!("Step {} component", k + 1),
                )
                .selected_text(step.component.clone())
                .show_ui(ui, |ui| {
                    for c in &components {
                        if ui
                            .selectable_label(step.component == c.name(), c.name())
                            .on_hover_text(c.summary())
                            .clicked()
                        {
                            step.component = c.name().to_string();
                            step.params.clear();
                        }
                    }
                });
                if ui.add_enabled(k > 0, egui::Button::new("Up")).clicked() {
                    shift = Some((k, true));
                }
                if ui
                    .add_enabled(k + 1 < count, egui::Button::new("Down"))
                    .clicked()
                {
                    shift = Some((k, false));
                }
                if ui.button(format!("Remove step {}", k + 1)).clicked() {
                    remove = Some(k);
                }
            });
            if let Some(component) = analysis::find(&step.component) {
                ui.weak(component.summary());
                super::param_fields(
                    ui,
                    ("chain-step-params", k),
                    component,
                    &mut step.params,
                    selected,
                );
            }
            ui.horizontal(|ui| {
                let input_text = step
                    .input
                    .clone()
                    .map_or_else(|| "the chain's scope".to_string(), |s| format!("step {s}"));
                egui::ComboBox::new(("chain-step-input", k), format!("Step {} input", k + 1))
                    .selected_text(input_text)
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut step.input, None, "the chain's scope")
                            .on_hover_text(
                                "the whole case, the working set or the selection, as chosen above",
                            );
                        for id in &earlier {
                            ui.selectable_value(
                                &mut step.input,
                                Some(id.clone()),
                                format!("step {id}"),
                            );
                        }
                    });
                if step.input.is_some() {
                    let mode = step.mode.unwrap_or(InputMode::Subgraph);
                    egui::ComboBox::new(
                        ("chain-step-mode", k),
                        format!("Step {} input mode", k + 1),
                    )
                    .selected_text(mode.as_str())
                    .show_ui(ui, |ui| {
                        for m in InputMode::ALL {
                            ui.selectable_value(&mut step.mode, Some(m), m.as_str());
                        }
                    });
                    if step.mode == Some(InputMode::Top) {
                        let label = ui.label("n");
                        ui.add(egui::TextEdit::singleline(&mut step.n).desired_width(50.0))
                            .labelled_by(label.id)
                            .on_hover_text("the input step's n highest entities");
                    }
                }
            });
            ui.horizontal(|ui| {
                let label = ui.label("keep top");
                ui.add(
                    egui::TextEdit::singleline(&mut step.top)
                        .desired_width(50.0)
                        .hint_text("all"),
                )
                .labelled_by(label.id)
                .on_hover_text("keep only this step's N highest values");
                egui::ComboBox::new(("chain-step-strength", k), "links at least")
                    .selected_text(if step.min_strength.is_empty() {
                        "any"
                    } else {
                        step.min_strength.as_str()
                    })
                    .show_ui(ui, |ui| {
                        for s in ["", "unconfirmed", "tentative", "confirmed"] {
                            ui.selectable_value(
                                &mut step.min_strength,
                                s.to_string(),
                                if s.is_empty() { "any" } else { s },
                            );
                        }
                    });
                let label = ui.label("last days");
                ui.add(
                    egui::TextEdit::singleline(&mut step.last_days)
                        .desired_width(50.0)
                        .hint_text("all"),
                )
                .labelled_by(label.id)
                .on_hover_text("only the events of the last N days before the latest");
            });
            for (_, p) in editor_problems(&editor.problems, k) {
                ui.colored_label(ui.visuals().error_fg_color, p);
            }
        });
    }
    if let Some(k) = remove {
        editor.remove_step(k);
    }
    if let Some((k, up)) = shift {
        editor.move_step(k, up);
    }
    ui.horizontal(|ui| {
        if ui.button("Add step").clicked() {
            editor.add_step();
        }
        if ui.button("Check").clicked() {
            editor.check();
        }
        if ui
            .add_enabled(
                !running && count > 0,
                egui::Button::new(format!("Run this chain on {scope_label}")),
            )
            .clicked()
            && let Some(text) = editor.check()
        {
            actions.push(run(editor.file_name(), text));
        }
        if ui
            .add_enabled(count > 0, egui::Button::new("Save as…"))
            .clicked()
            && let Some(text) = editor.check()
        {
            actions.push(Action::ChainFile(ChainFileRequest::SaveAs {
                text,
                file_name: editor.file_name(),
            }));
        }
        if ui.button("Open…").clicked() {
            actions.push(Action::ChainFile(ChainFileRequest::Open));
        }
        if ui.button("New chain").clicked() {
            *editor = ChainEditor::default();
        }
    });
    if let Some((path, text)) = editor.confirm_replace.clone() {
        ui.horizontal(|ui| {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("{} exists. Replace it?", path.display()),
            );
            if ui.button("Replace").clicked() {
                editor.confirm_replace = None;
                actions.push(Action::ChainFile(ChainFileRequest::Replace { path, text }));
            }
            if ui.button("Keep it").clicked() {
                editor.confirm_replace = None;
            }
        });
    }
    if !editor.status.is_empty() {
        ui.label(editor.status.clone());
    }
    actions
}

fn editor_problems(
    problems: &[(Option<usize>, String)],
    k: usize,
) -> impl Iterator<Item = &(Option<usize>, String)> {
    problems.iter().filter(move |(s, _)| *s == Some(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_checks_per_step_and_reads_back() {
        let mut editor = ChainEditor {
            name: "two steps".into(),
            ..ChainEditor::default()
        };
        editor.add_step();
        editor.add_step();
        editor.steps[0].component = "louvain".into();
        editor.steps[1].component = "degree".into();
        editor.steps[1].input = Some("step1".into());
        editor.steps[1].mode = Some(InputMode::Top);
        editor.steps[1].top = "x".into();
        assert!(editor.check().is_none());
        assert_eq!(editor.problems.len(), 1);
        assert_eq!(editor.problems[0].0, Some(1));
        editor.steps[1].top = "5".into();
        assert!(editor.check().is_none(), "mode top needs n");
        assert!(
            editor.problems[0].1.contains("input.n"),
            "{:?}",
            editor.problems
        );
        editor.steps[1].n = "3".into();
        let text = editor.check().unwrap();
        let mut again = ChainEditor::default();
        again.load(&text, None).unwrap();
        assert_eq!(again.steps, editor.steps);
        assert_eq!(again.name, "two steps");

        // Removing the input step hands its dependants the chain's scope.
        editor.remove_step(0);
        assert_eq!(editor.steps[0].input, None);
        editor.move_step(0, true);
        assert_eq!(editor.steps.len(), 1);
    }
}
