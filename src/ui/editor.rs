//! The analyst's editing windows: a new entity, link or event entered by hand, custom entity
//! types and grading schemes, and the chart's named snapshots. Each form builds one store
//! command from its fields and returns it as an action; the app applies it (one transaction,
//! audited, undoable) and every view shows the change with the next snapshot. A form checks
//! what it can before it offers "Create" (a label, a type, a grade the case's scheme knows, a
//! time it can read), so that the store's refusal is the exception, shown as a message.

use super::Action;
use crate::io::spec::{TimeSpec, parse_time};
use crate::model::{
    BUILTIN_EVENT_TYPES, BUILTIN_LINK_TYPES, BUNDLED_ICONS, EntityId, EntityTypeDef, GradeLevel,
    Grading, GradingScheme, LinkStrength, NewAttribute, NewEntity, NewEvent, NewLink,
    NewParticipant, ParticipantRole, PersonCategory, PropertyDef, PropertyKind, Provenance,
};
use crate::store::{CaseSnapshot, Command, now_utc};

/// Which editing window to open.
#[derive(Debug, Clone, PartialEq)]
pub enum Open {
    /// A new entity, placed at this chart position (layout units) when given.
    NewEntity { at: Option<[f32; 2]> },
    /// A new link between two entities (the drag from one to the other).
    NewLink { from: EntityId, to: EntityId },
    /// A new event among these entities.
    NewEvent { participants: Vec<EntityId> },
    /// Custom entity types.
    Types,
    /// Custom grading schemes.
    Schemes,
    /// The chart's named snapshots.
    Snapshots,
}

/// The open editing windows (at most one of each).
#[derive(Debug, Default)]
pub struct EditorState {
    pub entity: Option<EntityForm>,
    pub link: Option<LinkForm>,
    pub event: Option<EventForm>,
    pub types: Option<TypeForm>,
    pub schemes: Option<SchemeForm>,
    pub snapshots: Option<SnapshotsForm>,
}

impl EditorState {
    /// Opens (or brings back) a window, filled with what the case suggests.
    pub fn open(&mut self, what: Open, case: &CaseSnapshot) {
        match what {
            Open::NewEntity { at } => {
                self.entity = Some(EntityForm {
                    at,
                    entity_type: case
                        .schema
                        .entity_types
                        .first()
                        .map(|t| t.key.clone())
                        .unwrap_or_default(),
                    values: vec![(String::new(), String::new()); 2],
                    ..EntityForm::default()
                });
            }
            Open::NewLink { from, to } => {
                self.link = Some(LinkForm {
                    from,
                    to,
                    link_type: "associate".into(),
                    ..LinkForm::default()
                });
            }
            Open::NewEvent { participants } => {
                // Two entities: the first is where it comes from, the second where it goes
                // (a call, a payment); more are participants of a meeting.
                let two = participants.len() == 2;
                self.event = Some(EventForm {
                    event_type: if two { "Call" } else { "Meeting" }.into(),
                    zone: "UTC".into(),
                    participants: participants
                        .into_iter()
                        .enumerate()
                        .map(|(i, e)| {
                            let role = match (two, i) {
                                (true, 0) => ParticipantRole::From,
                                (true, _) => ParticipantRole::To,
                                _ => ParticipantRole::Participant,
                            };
                            (e, role)
                        })
                        .collect(),
                    ..EventForm::default()
                });
            }
            Open::Types => {
                self.types = Some(TypeForm {
                    icon: "unknown".into(),
                    properties: vec![(String::new(), PropertyKind::Text)],
                    ..TypeForm::default()
                });
            }
            Open::Schemes => self.schemes = Some(SchemeForm::default()),
            Open::Snapshots => self.snapshots = Some(SnapshotsForm::default()),
        }
    }

    /// Whether any editing window is open (a text field there takes the keyboard).
    pub fn any_open(&self) -> bool {
        self.entity.is_some()
            || self.link.is_some()
            || self.event.is_some()
            || self.types.is_some()
            || self.schemes.is_some()
            || self.snapshots.is_some()
    }
}

/// The grading the analyst typed: a grade of the case's default scheme (B2) and a handling
/// code; both empty is ungraded.
pub fn parse_grading(
    case: &CaseSnapshot,
    grade: &str,
    handling: &str,
) -> Result<Option<Grading>, String> {
    let (grade, handling) = (grade.trim(), handling.trim());
    if grade.is_empty() && handling.is_empty() {
        return Ok(None);
    }
    let scheme = case
        .scheme(&case.default_scheme)
        .ok_or_else(|| format!("the case has no grading scheme '{}'", case.default_scheme))?;
    let (source, information) = if grade.is_empty() {
        (None, None)
    } else {
        let g = scheme.parse_grade(grade).map_err(|e| {
            format!(
                "grade {grade}: {e}; under {} write a source code and an information code, such as {}{}",
                scheme.name,
                scheme.source_levels.first().map_or("", |l| l.code.as_str()),
                scheme
                    .information_levels
                    .first()
                    .map_or("", |l| l.code.as_str())
            )
        })?;
        (Some(g.source), Some(g.information))
    };
    if !handling.is_empty() && !scheme.handling_codes.iter().any(|c| c.code == handling) {
        return Err(format!(
            "handling code {handling} is not one of {}: {}",
            scheme.name,
            scheme
                .handling_codes
                .iter()
                .map(|c| c.code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(Some(Grading {
        scheme: scheme.key.clone(),
        source,
        information,
        handling: (!handling.is_empty()).then(|| handling.to_string()),
    }))
}

/// What every analyst entry carries: the document it rests on, its grading, the flag.
#[derive(Debug, Clone, Default)]
pub struct EntryFields {
    /// The document or report the entry rests on ("surveillance log 14/03").
    pub source_ref: String,
    pub grade: String,
    pub handling: String,
    pub restricted: bool,
}

impl EntryFields {
    fn show(&mut self, ui: &mut egui::Ui, case: &CaseSnapshot, id: &str) {
        egui::Grid::new(("entry", id))
            .num_columns(2)
            .show(ui, |ui| {
                labelled_text(ui, "Source document", &mut self.source_ref, "report or log");
                ui.end_row();
                let hint = case
                    .scheme(&case.default_scheme)
                    .map(|s| {
                        format!(
                            "{}{} ({})",
                            s.source_levels.first().map_or("", |l| l.code.as_str()),
                            s.information_levels.first().map_or("", |l| l.code.as_str()),
                            s.name
                        )
                    })
                    .unwrap_or_default();
                labelled_text(ui, "Grading", &mut self.grade, &hint);
                ui.end_row();
                labelled_text(ui, "Handling code", &mut self.handling, "");
                ui.end_row();
                ui.label("");
                ui.checkbox(&mut self.restricted, "Restricted");
                ui.end_row();
            });
    }

    fn grading(&self, case: &CaseSnapshot) -> Result<Option<Grading>, String> {
        parse_grading(case, &self.grade, &self.handling)
    }

    fn provenance(&self, analyst: &str) -> Provenance {
        Provenance::analyst_entry(analyst, &now_utc(), Some(&self.source_ref))
    }
}

/// A label and a one-line text field, the field named by the label (tests find it so).
fn labelled_text(ui: &mut egui::Ui, label: &str, text: &mut String, hint: &str) {
    let l = ui.label(label);
    ui.add(
        egui::TextEdit::singleline(text)
            .hint_text(hint)
            .desired_width(220.0),
    )
    .labelled_by(l.id);
}

/// A combo box of texts that also takes a typed value (link and event types are open lists).
fn type_choice(ui: &mut egui::Ui, id: &str, label: &str, value: &mut String, known: &[String]) {
    let l = ui.label(label);
    ui.horizontal(|ui| {
        ui.add(egui::TextEdit::singleline(value).desired_width(140.0))
            .labelled_by(l.id);
        egui::ComboBox::from_id_salt(id)
            .selected_text("choose")
            .width(60.0)
            .show_ui(ui, |ui| {
                for k in known {
                    ui.selectable_value(value, k.clone(), k);
                }
            });
    });
}

fn entity_name(case: &CaseSnapshot, id: EntityId) -> String {
    case.entity(id)
        .map_or_else(|| id.to_string(), |e| format!("{} ({id})", e.label))
}

/// Buttons at the foot of a form: Create (enabled when the form is complete; else what is
/// missing is shown above it) and Cancel. Returns (create, cancel).
fn form_buttons(ui: &mut egui::Ui, not_ready: Option<&String>, create: &str) -> (bool, bool) {
    let mut out = (false, false);
    if let Some(why) = not_ready {
        ui.colored_label(ui.visuals().warn_fg_color, why);
    }
    ui.horizontal(|ui| {
        let button = ui.add_enabled(not_ready.is_none(), egui::Button::new(create));
        out.0 = button.clicked();
        out.1 = ui.button("Cancel").clicked();
    });
    out
}

/// The new-entity form.
#[derive(Debug, Clone, Default)]
pub struct EntityForm {
    pub at: Option<[f32; 2]>,
    pub entity_type: String,
    pub label: String,
    pub category: Option<PersonCategory>,
    /// First attribute values: (property, value); empty rows are left out.
    pub values: Vec<(String, String)>,
    pub entry: EntryFields,
}

impl EntityForm {
    fn build(&self, case: &CaseSnapshot, analyst: &str) -> Result<Command, String> {
        if self.label.trim().is_empty() {
            return Err("give the entity a label".into());
        }
        let def = case
            .schema
            .entity_type(&self.entity_type)
            .map_err(|e| e.to_string())?;
        let grading = self.entry.grading(case)?;
        let provenance = self.entry.provenance(analyst);
        let attributes = values(&self.values, &provenance, grading.as_ref())?;
        Ok(Command::CreateEntity {
            entity: NewEntity {
                entity_type: def.key.clone(),
                label: self.label.trim().to_string(),
                source_id: None,
                category: self.category.filter(|_| def.key == "Person"),
                restricted: self.entry.restricted,
                provenance,
                grading,
                attributes,
            },
        })
    }
}

/// (property, value) rows as attribute values entered by the analyst.
fn values(
    rows: &[(String, String)],
    provenance: &Provenance,
    grading: Option<&Grading>,
) -> Result<Vec<NewAttribute>, String> {
    let mut out = Vec::new();
    for (property, value) in rows {
        let (property, value) = (property.trim(), value.trim());
        match (property.is_empty(), value.is_empty()) {
            (true, true) => {}
            (true, false) => return Err(format!("name the property of the value '{value}'")),
            (false, true) => return Err(format!("give a value for {property}, or clear it")),
            (false, false) => out.push(NewAttribute {
                property: property.to_string(),
                value: value.to_string(),
                provenance: provenance.clone(),
                grading: grading.cloned(),
            }),
        }
    }
    Ok(out)
}

/// The new-link form.
#[derive(Debug, Clone)]
pub struct LinkForm {
    pub from: EntityId,
    pub to: EntityId,
    pub link_type: String,
    pub directed: bool,
    pub strength: LinkStrength,
    pub label: String,
    pub weight: String,
    /// When the relation began and ended, as dates (YYYY, YYYY-MM or YYYY-MM-DD).
    pub start: String,
    pub end: String,
    pub entry: EntryFields,
}

impl Default for LinkForm {
    fn default() -> Self {
        LinkForm {
            from: EntityId(0),
            to: EntityId(0),
            link_type: String::new(),
            directed: false,
            strength: LinkStrength::Confirmed,
            label: String::new(),
            weight: String::new(),
            start: String::new(),
            end: String::new(),
            entry: EntryFields::default(),
        }
    }
}

/// Whether a text is a partial date (YYYY, YYYY-MM or YYYY-MM-DD).
fn partial_date(text: &str) -> bool {
    crate::model::PartialDate::parse(text).is_ok()
}

impl LinkForm {
    fn build(&self, case: &CaseSnapshot, analyst: &str) -> Result<Command, String> {
        let link_type = self.link_type.trim();
        if link_type.is_empty() {
            return Err("give the link a type".into());
        }
        if self.from == self.to {
            return Err("a link joins two different entities".into());
        }
        let weight = match self.weight.trim() {
            "" => None,
            w => Some(
                w.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| format!("the weight '{w}' is not a number"))?,
            ),
        };
        let grading = self.entry.grading(case)?;
        let provenance = self.entry.provenance(analyst);
        let mut dates = Vec::new();
        // The property names imports and the i2 export use for a relation's dates.
        for (key, what, text) in [
            ("startDate", "from date", &self.start),
            ("endDate", "to date", &self.end),
        ] {
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            if !partial_date(text) {
                return Err(format!(
                    "the {what} '{text}' is not a date (YYYY, YYYY-MM or YYYY-MM-DD)"
                ));
            }
            dates.push((key.to_string(), text.to_string()));
        }
        if let [(_, a), (_, b)] = dates.as_slice()
            && b < a
        {
            return Err(format!("the end date {b} is before the start date {a}"));
        }
        Ok(Command::CreateLink {
            link: NewLink {
                link_type: link_type.to_string(),
                source: self.from.into(),
                target: self.to.into(),
                directed: self.directed,
                strength: self.strength,
                weight,
                label: Some(self.label.trim().to_string()).filter(|l| !l.is_empty()),
                source_id: None,
                restricted: self.entry.restricted,
                attributes: values(&dates, &provenance, grading.as_ref())?,
                provenance,
                grading,
            },
        })
    }
}

/// The new-event form.
#[derive(Debug, Clone, Default)]
pub struct EventForm {
    pub event_type: String,
    /// When it happened, as the analyst writes it (2024-03-01 14:05).
    pub time: String,
    /// When it ended, for an interval.
    pub end: String,
    /// The zone the times are written in (UTC, Europe/Madrid, +01:00).
    pub zone: String,
    pub participants: Vec<(EntityId, ParticipantRole)>,
    pub entry: EntryFields,
}

impl EventForm {
    fn spec(&self) -> TimeSpec {
        TimeSpec {
            format: "auto".into(),
            zone: Some(self.zone.trim().to_string()).filter(|z| !z.is_empty()),
        }
    }

    fn build(&self, case: &CaseSnapshot, analyst: &str) -> Result<Command, String> {
        let event_type = self.event_type.trim();
        if event_type.is_empty() {
            return Err("give the event a type".into());
        }
        if self.participants.is_empty() {
            return Err("an event needs at least one participant".into());
        }
        let spec = self.spec();
        let mut when = parse_time(&self.time, &spec).map_err(|e| format!("time: {e}"))?;
        if !self.end.trim().is_empty() {
            let until = parse_time(&self.end, &spec).map_err(|e| format!("end: {e}"))?;
            if until.start_ms < when.start_ms {
                return Err("the end is before the start".into());
            }
            when.end_ms = Some(until.start_ms);
        }
        let grading = self.entry.grading(case)?;
        let mut event = NewEvent::new(event_type, when);
        event.participants = self
            .participants
            .iter()
            .map(|&(e, role)| NewParticipant::new(role, e))
            .collect();
        event.restricted = self.entry.restricted;
        event.provenance = self.entry.provenance(analyst);
        event.grading = grading;
        Ok(Command::CreateEvent { event })
    }
}

/// The custom-entity-type form.
#[derive(Debug, Clone, Default)]
pub struct TypeForm {
    pub key: String,
    pub label: String,
    pub icon: String,
    pub ftm: String,
    pub properties: Vec<(String, PropertyKind)>,
}

impl TypeForm {
    fn build(&self, case: &CaseSnapshot) -> Result<Command, String> {
        let key = self.key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Err("the key is one word of letters, digits and _ (Vessel)".into());
        }
        if case.schema.entity_type_any_case(key).is_ok() {
            return Err(format!("the case already has a type {key}"));
        }
        let mut properties: Vec<PropertyDef> = Vec::new();
        for (k, kind) in &self.properties {
            let k = k.trim();
            if k.is_empty() {
                continue;
            }
            if properties.iter().any(|p| p.key == k) {
                return Err(format!("the property {k} is listed twice"));
            }
            properties.push(PropertyDef {
                key: k.to_string(),
                label: k.replace('_', " "),
                kind: *kind,
                ftm: None,
            });
        }
        Ok(Command::AddEntityType {
            definition: EntityTypeDef {
                key: key.to_string(),
                label: Some(self.label.trim())
                    .filter(|l| !l.is_empty())
                    .unwrap_or(key)
                    .to_string(),
                icon: self.icon.clone(),
                ftm_schema: Some(self.ftm.trim().to_string()).filter(|f| !f.is_empty()),
                properties,
                builtin: false,
            },
        })
    }
}

/// The custom-grading-scheme form: each list one level per line, "CODE description", best
/// first.
#[derive(Debug, Clone, Default)]
pub struct SchemeForm {
    pub key: String,
    pub name: String,
    pub source_levels: String,
    pub information_levels: String,
    pub handling_codes: String,
    /// Handling codes that forbid dissemination, separated by spaces or commas.
    pub no_dissemination: String,
}

fn levels(text: &str, what: &str) -> Result<Vec<GradeLevel>, String> {
    let mut out: Vec<GradeLevel> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (code, description) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        if out.iter().any(|l| l.code == code) {
            return Err(format!("{what}: the code {code} is listed twice"));
        }
        out.push(GradeLevel {
            code: code.to_string(),
            description: description.trim().to_string(),
        });
    }
    if out.is_empty() {
        return Err(format!("{what}: give at least one level, one per line"));
    }
    Ok(out)
}

impl SchemeForm {
    fn build(&self, case: &CaseSnapshot) -> Result<Command, String> {
        let key = self.key.trim();
        if key.is_empty() {
            return Err("give the scheme a key (force_3x5x2)".into());
        }
        if case.scheme(key).is_some() {
            return Err(format!("the case already has a scheme {key}"));
        }
        let handling_codes = levels(&self.handling_codes, "handling codes")?;
        let no_dissemination: Vec<String> = self
            .no_dissemination
            .split([',', ' '])
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect();
        if let Some(c) = no_dissemination
            .iter()
            .find(|c| !handling_codes.iter().any(|h| &h.code == *c))
        {
            return Err(format!("{c} is not one of the handling codes"));
        }
        Ok(Command::AddGradingScheme {
            scheme: GradingScheme {
                key: key.to_string(),
                name: Some(self.name.trim())
                    .filter(|n| !n.is_empty())
                    .unwrap_or(key)
                    .to_string(),
                source_levels: levels(&self.source_levels, "source levels")?,
                information_levels: levels(&self.information_levels, "information levels")?,
                handling_codes,
                no_dissemination_codes: no_dissemination,
            },
        })
    }
}

/// The chart snapshots window: a name to save the chart under, and the saved ones.
#[derive(Debug, Clone, Default)]
pub struct SnapshotsForm {
    pub name: String,
    /// The reason for removing one (recorded).
    pub reason: String,
}

/// Shows the open editing windows; returns what they ask for.
pub fn show(
    ctx: &egui::Context,
    case: &CaseSnapshot,
    state: &mut EditorState,
    analyst: &str,
) -> Vec<Action> {
    let mut actions = Vec::new();
    entity_window(ctx, case, state, analyst, &mut actions);
    link_window(ctx, case, state, analyst, &mut actions);
    event_window(ctx, case, state, analyst, &mut actions);
    types_window(ctx, case, state, &mut actions);
    schemes_window(ctx, case, state, &mut actions);
    snapshots_window(ctx, case, state, &mut actions);
    actions
}

/// An editing window, first shown near the top centre (not over the menus).
fn window<'a>(ctx: &egui::Context, title: &'a str) -> egui::Window<'a> {
    let top = ctx.content_rect().center_top();
    egui::Window::new(title)
        .collapsible(false)
        .resizable(true)
        .default_width(380.0)
        .pivot(egui::Align2::CENTER_TOP)
        .default_pos(top + egui::vec2(0.0, 80.0))
}

fn entity_window(
    ctx: &egui::Context,
    case: &CaseSnapshot,
    state: &mut EditorState,
    analyst: &str,
    actions: &mut Vec<Action>,
) {
    let Some(form) = &mut state.entity else {
        return;
    };
    let mut close = false;
    window(ctx, "New entity").show(ctx, |ui| {
        egui::Grid::new("new-entity").num_columns(2).show(ui, |ui| {
            ui.label("Type");
            egui::ComboBox::from_id_salt("new-entity-type")
                .selected_text(&form.entity_type)
                .show_ui(ui, |ui| {
                    for t in &case.schema.entity_types {
                        ui.selectable_value(&mut form.entity_type, t.key.clone(), &t.label);
                    }
                });
            ui.end_row();
            labelled_text(ui, "Label", &mut form.label, "name as the source gives it");
            ui.end_row();
            if form.entity_type == "Person" {
                ui.label("Category");
                egui::ComboBox::from_id_salt("new-entity-category")
                    .selected_text(form.category.map_or("none", |c| c.as_str()))
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut form.category, None, "none");
                        for c in PersonCategory::ALL {
                            ui.selectable_value(&mut form.category, Some(c), c.as_str());
                        }
                    });
                ui.end_row();
            }
        });
        ui.separator();
        ui.strong("First values");
        let properties: Vec<String> = case
            .schema
            .entity_type(&form.entity_type)
            .map(|t| t.properties.iter().map(|p| p.key.clone()).collect())
            .unwrap_or_default();
        egui::Grid::new("new-entity-values")
            .num_columns(2)
            .show(ui, |ui| {
                for (i, (property, value)) in form.values.iter_mut().enumerate() {
                    egui::ComboBox::from_id_salt(("new-entity-property", i))
                        .selected_text(if property.is_empty() {
                            "property"
                        } else {
                            property.as_str()
                        })
                        .show_ui(ui, |ui| {
                            for p in &properties {
                                ui.selectable_value(property, p.clone(), p);
                            }
                        });
                    ui.add(egui::TextEdit::singleline(value).desired_width(200.0));
                    ui.end_row();
                }
            });
        if ui.small_button("+ value").clicked() {
            form.values.push((String::new(), String::new()));
        }
        ui.separator();
        form.entry.show(ui, case, "entity");
        let built = form.build(case, analyst);
        let (create, cancel) = form_buttons(ui, built.as_ref().err(), "Create");
        if create && let Ok(command) = built {
            actions.push(Action::Create {
                command: Box::new(command),
                at: form.at,
            });
            close = true;
        }
        close |= cancel;
    });
    if close {
        state.entity = None;
    }
}

fn link_window(
    ctx: &egui::Context,
    case: &CaseSnapshot,
    state: &mut EditorState,
    analyst: &str,
    actions: &mut Vec<Action>,
) {
    let Some(form) = &mut state.link else { return };
    let mut close = false;
    let mut known: Vec<String> = BUILTIN_LINK_TYPES.iter().map(|s| s.to_string()).collect();
    for l in case.links.iter().take(50_000) {
        if !known.contains(&l.link_type) && known.len() < 60 {
            known.push(l.link_type.clone());
        }
    }
    window(ctx, "New link").show(ctx, |ui| {
        ui.label(format!(
            "{} {} {}",
            entity_name(case, form.from),
            if form.directed { "->" } else { "—" },
            entity_name(case, form.to)
        ));
        if ui.small_button("Swap ends").clicked() {
            std::mem::swap(&mut form.from, &mut form.to);
        }
        egui::Grid::new("new-link").num_columns(2).show(ui, |ui| {
            type_choice(
                ui,
                "new-link-types",
                "Link type",
                &mut form.link_type,
                &known,
            );
            ui.end_row();
            ui.label("");
            ui.checkbox(
                &mut form.directed,
                "Directed (from the first to the second)",
            );
            ui.end_row();
            ui.label("Strength");
            ui.horizontal(|ui| {
                for s in [
                    LinkStrength::Confirmed,
                    LinkStrength::Tentative,
                    LinkStrength::Unconfirmed,
                ] {
                    ui.radio_value(&mut form.strength, s, s.as_str());
                }
            });
            ui.end_row();
            labelled_text(ui, "Label", &mut form.label, "shown on the line");
            ui.end_row();
            labelled_text(ui, "Weight", &mut form.weight, "number");
            ui.end_row();
            labelled_text(ui, "From date", &mut form.start, "YYYY-MM-DD");
            ui.end_row();
            labelled_text(ui, "To date", &mut form.end, "YYYY-MM-DD");
            ui.end_row();
        });
        ui.separator();
        form.entry.show(ui, case, "link");
        let built = form.build(case, analyst);
        let (create, cancel) = form_buttons(ui, built.as_ref().err(), "Create link");
        if create && let Ok(command) = built {
            actions.push(Action::Create {
                command: Box::new(command),
                at: None,
            });
            close = true;
        }
        close |= cancel;
    });
    if close {
        state.link = None;
    }
}

fn event_window(
    ctx: &egui::Context,
    case: &CaseSnapshot,
    state: &mut EditorState,
    analyst: &str,
    actions: &mut Vec<Action>,
) {
    let Some(form) = &mut state.event else { return };
    let mut close = false;
    let known: Vec<String> = BUILTIN_EVENT_TYPES.iter().map(|s| s.to_string()).collect();
    window(ctx, "New event").show(ctx, |ui| {
        egui::Grid::new("new-event").num_columns(2).show(ui, |ui| {
            type_choice(
                ui,
                "new-event-types",
                "Event type",
                &mut form.event_type,
                &known,
            );
            ui.end_row();
            labelled_text(ui, "Time", &mut form.time, "2024-03-01 14:05");
            ui.end_row();
            labelled_text(ui, "Until", &mut form.end, "for an interval");
            ui.end_row();
            labelled_text(
                ui,
                "Time zone",
                &mut form.zone,
                "UTC, Europe/Madrid, +01:00",
            );
            ui.end_row();
        });
        // The times as they will be read, so that a zone or format slip shows before saving.
        let spec = form.spec();
        for (what, text) in [("starts", &form.time), ("ends", &form.end)] {
            if text.trim().is_empty() {
                continue;
            }
            match parse_time(text, &spec) {
                Ok(t) => ui.weak(format!("{what} {} UTC", super::time_text(t.start_ms))),
                Err(e) => ui.colored_label(ui.visuals().warn_fg_color, e),
            };
        }
        ui.separator();
        ui.strong("Participants");
        let mut remove = None;
        for (i, (e, role)) in form.participants.iter_mut().enumerate() {
            ui.horizontal(|ui| {
                egui::ComboBox::from_id_salt(("event-role", i))
                    .selected_text(role.as_str())
                    .show_ui(ui, |ui| {
                        for r in [
                            ParticipantRole::From,
                            ParticipantRole::To,
                            ParticipantRole::Participant,
                            ParticipantRole::Location,
                        ] {
                            ui.selectable_value(role, r, r.as_str());
                        }
                    });
                ui.label(entity_name(case, *e));
                if ui.small_button("remove").clicked() {
                    remove = Some(i);
                }
            });
        }
        if let Some(i) = remove {
            form.participants.remove(i);
        }
        ui.separator();
        form.entry.show(ui, case, "event");
        let built = form.build(case, analyst);
        let (create, cancel) = form_buttons(ui, built.as_ref().err(), "Create event");
        if create && let Ok(command) = built {
            actions.push(Action::Create {
                command: Box::new(command),
                at: None,
            });
            close = true;
        }
        close |= cancel;
    });
    if close {
        state.event = None;
    }
}

fn types_window(
    ctx: &egui::Context,
    case: &CaseSnapshot,
    state: &mut EditorState,
    actions: &mut Vec<Action>,
) {
    let Some(form) = &mut state.types else { return };
    let mut close = false;
    window(ctx, "Entity types").show(ctx, |ui| {
        egui::ScrollArea::vertical()
            .max_height(160.0)
            .show(ui, |ui| {
                for t in &case.schema.entity_types {
                    ui.label(format!(
                        "{}{} · {} properties",
                        t.label,
                        if t.builtin { "" } else { " (custom)" },
                        t.properties.len()
                    ));
                }
            });
        ui.separator();
        ui.strong("New type");
        egui::Grid::new("new-type").num_columns(2).show(ui, |ui| {
            labelled_text(ui, "Key", &mut form.key, "Vessel");
            ui.end_row();
            labelled_text(ui, "Name", &mut form.label, "as the window shows it");
            ui.end_row();
            ui.label("Icon");
            egui::ComboBox::from_id_salt("new-type-icon")
                .selected_text(&form.icon)
                .show_ui(ui, |ui| {
                    for icon in BUNDLED_ICONS {
                        ui.selectable_value(&mut form.icon, icon.to_string(), *icon);
                    }
                });
            ui.end_row();
            labelled_text(ui, "FtM schema", &mut form.ftm, "optional");
            ui.end_row();
        });
        ui.strong("Properties");
        let mut remove = None;
        for (i, (key, kind)) in form.properties.iter_mut().enumerate() {
            ui.horizontal(|ui| {
                ui.add(
                    egui::TextEdit::singleline(key)
                        .hint_text("key")
                        .desired_width(140.0),
                );
                egui::ComboBox::from_id_salt(("property-kind", i))
                    .selected_text(kind.name())
                    .show_ui(ui, |ui| {
                        for k in PropertyKind::ALL {
                            ui.selectable_value(kind, k, k.name());
                        }
                    });
                if ui.small_button("remove").clicked() {
                    remove = Some(i);
                }
            });
        }
        if let Some(i) = remove {
            form.properties.remove(i);
        }
        if ui.small_button("+ property").clicked() {
            form.properties.push((String::new(), PropertyKind::Text));
        }
        let built = form.build(case);
        let (create, cancel) = form_buttons(ui, built.as_ref().err(), "Add type");
        if create && let Ok(command) = built {
            actions.push(Action::Apply(Box::new(command)));
            close = true;
        }
        close |= cancel;
    });
    if close {
        state.types = None;
    }
}

fn schemes_window(
    ctx: &egui::Context,
    case: &CaseSnapshot,
    state: &mut EditorState,
    actions: &mut Vec<Action>,
) {
    let Some(form) = &mut state.schemes else {
        return;
    };
    let mut close = false;
    window(ctx, "Grading schemes").show(ctx, |ui| {
        for s in &case.grading_schemes {
            let codes = |l: &[GradeLevel]| {
                l.iter()
                    .map(|x| x.code.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            ui.label(format!(
                "{}{}: source {} · information {} · handling {}",
                s.name,
                if s.key == case.default_scheme {
                    " (default)"
                } else {
                    ""
                },
                codes(&s.source_levels),
                codes(&s.information_levels),
                codes(&s.handling_codes)
            ));
        }
        ui.separator();
        ui.strong("New scheme");
        egui::Grid::new("new-scheme").num_columns(2).show(ui, |ui| {
            labelled_text(ui, "Key", &mut form.key, "force_3x5x2");
            ui.end_row();
            labelled_text(ui, "Name", &mut form.name, "");
            ui.end_row();
            for (label, text) in [
                ("Source levels", &mut form.source_levels),
                ("Information levels", &mut form.information_levels),
                ("Handling codes", &mut form.handling_codes),
            ] {
                let l = ui.label(label);
                ui.add(
                    egui::TextEdit::multiline(text)
                        .hint_text("one per line, best first: CODE description")
                        .desired_rows(3)
                        .desired_width(220.0),
                )
                .labelled_by(l.id);
                ui.end_row();
            }
            labelled_text(ui, "No dissemination", &mut form.no_dissemination, "codes");
            ui.end_row();
        });
        let built = form.build(case);
        let (create, cancel) = form_buttons(ui, built.as_ref().err(), "Add scheme");
        if create && let Ok(command) = built {
            actions.push(Action::Apply(Box::new(command)));
            close = true;
        }
        close |= cancel;
    });
    if close {
        state.schemes = None;
    }
}

fn snapshots_window(
    ctx: &egui::Context,
    case: &CaseSnapshot,
    state: &mut EditorState,
    actions: &mut Vec<Action>,
) {
    let Some(form) = &mut state.snapshots else {
        return;
    };
    let mut open = true;
    window(ctx, "Chart snapshots")
        .open(&mut open)
        .show(ctx, |ui| {
            ui.horizontal(|ui| {
                labelled_text(ui, "Name", &mut form.name, "before the March meetings");
                let name = form.name.trim().to_string();
                if ui
                    .add_enabled(!name.is_empty(), egui::Button::new("Save the chart"))
                    .clicked()
                {
                    actions.push(Action::SaveChartSnapshot(name));
                    form.name.clear();
                }
            });
            ui.separator();
            if case.chart_snapshots.is_empty() {
                ui.weak(
                "No snapshots yet: the chart as it is, its positions and style, kept under a name.",
            );
            }
            labelled_text(
                ui,
                "Reason",
                &mut form.reason,
                "for removing one (recorded)",
            );
            for s in &case.chart_snapshots {
                ui.horizontal(|ui| {
                    ui.label(format!("{} · {} · {}", s.name, s.created_utc, s.analyst));
                    if ui.button(format!("Restore {}", s.name)).clicked() {
                        actions.push(Action::RestoreChartSnapshot(s.id));
                    }
                    if ui
                        .add_enabled(!form.reason.trim().is_empty(), egui::Button::new("Remove"))
                        .on_disabled_hover_text("give a reason first")
                        .clicked()
                    {
                        actions.push(Action::Apply(Box::new(Command::RemoveChartSnapshot {
                            id: s.id,
                            reason: form.reason.trim().to_string(),
                        })));
                    }
                });
            }
        });
    if !open {
        state.snapshots = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_dates() {
        for good in ["2024", "2024-03", "2024-03-01"] {
            assert!(partial_date(good), "{good}");
        }
        for bad in ["24", "2024-13", "2024-02-30", "March", "2024-3"] {
            assert!(!partial_date(bad), "{bad}");
        }
    }

    #[test]
    fn scheme_levels_one_per_line() {
        let l = levels("A reliable\nB usually reliable\n\n", "source").unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[1].code, "B");
        assert_eq!(l[1].description, "usually reliable");
        assert!(levels("A x\nA y", "source").unwrap_err().contains("twice"));
        assert!(levels("  ", "source").is_err());
    }
}
