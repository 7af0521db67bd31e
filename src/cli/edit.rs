//! The analyst's hand edits from the command line: `copkit add`, `set`, `delete`, `split`,
//! `note`, `undo`, `redo`, `types` and `schemes`. Each opens the case with a purpose, applies
//! store commands (each one audit record and one undo step, exactly as the window's) and
//! prints the ids it made or changed, so that scripts can chain them.

use super::{PurposeArg, UsageError, resolve_purpose};
use crate::io::spec::{TimeSpec, parse_time};
use crate::model::{
    AnyId, AttributeId, EntityId, EntityTypeDef, Grading, GradingScheme, ItemRef, LinkStrength,
    NewAttribute, NewEntity, NewEvent, NewLink, NewNote, NewParticipant, ParticipantRole,
    PersonCategory, PropertyDef, PropertyKind, Provenance,
};
use crate::store::{Actor, Applied, Case, Command, now_utc};
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// How an item or value is graded, as flags.
#[derive(Debug, Args, Default)]
pub struct GradeArgs {
    /// Grading: the source code followed by the information code, such as B2 (Admiralty) or
    /// 1A (3x5x2).
    #[arg(long, value_name = "CODE")]
    pub grade: Option<String>,
    /// Handling code, such as H3 (Admiralty) or P (3x5x2).
    #[arg(long, value_name = "CODE")]
    pub handling: Option<String>,
    /// The grading scheme the codes belong to (default: the case's default scheme).
    #[arg(long, value_name = "KEY")]
    pub scheme: Option<String>,
}

impl GradeArgs {
    fn given(&self) -> bool {
        self.grade.is_some() || self.handling.is_some()
    }
}

/// What an analyst entry rests on and whether it is restricted.
#[derive(Debug, Args)]
pub struct EntryArgs {
    /// An attribute value, PROPERTY=VALUE (repeat for more).
    #[arg(long = "attr", value_name = "PROPERTY=VALUE")]
    pub attributes: Vec<String>,
    /// The document or report the entry rests on (a surveillance log, a source's report).
    #[arg(long, value_name = "TEXT")]
    pub source_ref: Option<String>,
    /// Mark the item restricted: it is left out of exports and shown only to its case.
    #[arg(long)]
    pub restricted: bool,
    #[command(flatten)]
    pub grade: GradeArgs,
    /// Why the entry is made, kept in its audit record.
    #[arg(long)]
    pub reason: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AddCommands {
    /// Create an entity by hand.
    Entity {
        case: PathBuf,
        /// The entity type (`copkit types CASE` lists them; case does not matter).
        #[arg(long = "type", value_name = "TYPE")]
        entity_type: String,
        #[arg(long)]
        label: String,
        /// Person category: suspect, victim, witness, contact, other or unknown.
        #[arg(long)]
        category: Option<PersonCategory>,
        #[command(flatten)]
        entry: EntryArgs,
        #[command(flatten)]
        purpose: PurposeArg,
    },
    /// Create a link between two entities.
    Link {
        case: PathBuf,
        /// The entity the link starts from (E12).
        #[arg(long)]
        from: String,
        /// The entity the link goes to.
        #[arg(long)]
        to: String,
        /// The link type (`associate`, `knows`, `owns`, ... or your own).
        #[arg(long = "type", value_name = "TYPE")]
        link_type: String,
        #[arg(long)]
        directed: bool,
        /// confirmed, tentative or unconfirmed (i2's solid, dashed and dotted lines).
        #[arg(long, default_value = "confirmed")]
        strength: LinkStrength,
        #[arg(long)]
        label: Option<String>,
        #[arg(long)]
        weight: Option<f64>,
        #[command(flatten)]
        entry: EntryArgs,
        #[command(flatten)]
        purpose: PurposeArg,
    },
    /// Create a dated event with its participants.
    Event {
        case: PathBuf,
        /// The event type (Call, Meeting, Payment, ...).
        #[arg(long = "type", value_name = "TYPE")]
        event_type: String,
        /// When it happened: 2024-03-01T10:00:00Z, 2024-03-01 10:00 (with --zone) or a date.
        #[arg(long)]
        time: String,
        /// When it ended, for an interval.
        #[arg(long)]
        end: Option<String>,
        /// The zone of times written without an offset (IANA name such as Europe/Madrid, or
        /// UTC).
        #[arg(long, value_name = "ZONE")]
        zone: Option<String>,
        /// The entity the event comes from (caller, payer).
        #[arg(long)]
        from: Option<String>,
        /// The entity the event goes to (callee, payee).
        #[arg(long)]
        to: Option<String>,
        /// Other participants (repeat for more).
        #[arg(long = "participant", value_name = "ENTITY")]
        participants: Vec<String>,
        #[command(flatten)]
        entry: EntryArgs,
        #[command(flatten)]
        purpose: PurposeArg,
    },
    /// Add an attribute value to an entity, link or event.
    Attribute {
        case: PathBuf,
        /// The item (E12, L3, V7).
        item: String,
        #[arg(long)]
        property: String,
        #[arg(long)]
        value: String,
        #[arg(long, value_name = "TEXT")]
        source_ref: Option<String>,
        #[command(flatten)]
        grade: GradeArgs,
        /// Why the value is added, kept in its audit record.
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        purpose: PurposeArg,
    },
}

/// Arguments of `copkit set`.
#[derive(Debug, Args)]
pub struct SetArgs {
    pub case: PathBuf,
    /// The items to change: entities, links, events (E12 L3 V7) or attribute values (A40).
    #[arg(required = true, value_name = "ID")]
    pub ids: Vec<String>,
    /// A new label (one entity).
    #[arg(long)]
    pub label: Option<String>,
    /// A new value (attribute values).
    #[arg(long)]
    pub value: Option<String>,
    #[command(flatten)]
    pub grade: GradeArgs,
    /// Remove the grading.
    #[arg(long, conflicts_with_all = ["grade", "handling"])]
    pub ungraded: bool,
    /// Restricted (true) or not (false).
    #[arg(long, value_name = "true|false")]
    pub restricted: Option<bool>,
    /// Person category (entities), or `none`.
    #[arg(long)]
    pub category: Option<String>,
    /// When the items are due for review under the retention rules (YYYY-MM-DD), or `none`.
    #[arg(long, value_name = "DATE")]
    pub review_date: Option<String>,
    /// Why (recorded in the audit log).
    #[arg(long)]
    pub reason: String,
    #[command(flatten)]
    pub purpose: PurposeArg,
}

#[derive(Debug, Subcommand)]
pub enum TypeCommands {
    /// Add an entity type of your own.
    Add {
        case: PathBuf,
        /// Its key, as imports and `--type` name it (Vessel).
        #[arg(long)]
        key: String,
        /// Its name in the window (default: the key).
        #[arg(long)]
        label: Option<String>,
        /// An icon of assets/icons by file stem (default: a generic one).
        #[arg(long, default_value = "unknown")]
        icon: String,
        /// The FollowTheMoney schema it corresponds to, if any (Vessel).
        #[arg(long)]
        ftm: Option<String>,
        /// A property, KEY:KIND (kinds: text, name, date, number, phone, email, iban, plate,
        /// identifier, country, latitude, longitude, url); repeat for more.
        #[arg(long = "property", value_name = "KEY:KIND")]
        properties: Vec<String>,
        #[command(flatten)]
        purpose: PurposeArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum SchemeCommands {
    /// Add a grading scheme from a TOML file (key, name, source_levels, information_levels,
    /// handling_codes, no_dissemination_codes).
    Add {
        case: PathBuf,
        file: PathBuf,
        #[command(flatten)]
        purpose: PurposeArg,
    },
}

fn open(case: &Path, actor: Actor, purpose: PurposeArg) -> Result<Case> {
    let purpose = resolve_purpose(purpose)?;
    Ok(Case::open(case, actor, &purpose)?)
}

fn parse_id(text: &str) -> Result<AnyId> {
    text.parse::<AnyId>().map_err(|e| UsageError(e).into())
}

fn parse_item(text: &str) -> Result<ItemRef> {
    match parse_id(text)? {
        AnyId::Item(item) => Ok(item),
        other => Err(UsageError(format!(
            "{other} is not an entity, link or event (E12, L3, V7)"
        ))
        .into()),
    }
}

fn parse_entity(text: &str) -> Result<EntityId> {
    match parse_item(text)? {
        ItemRef::Entity(id) => Ok(id),
        other => Err(UsageError(format!("{other} is not an entity (E12)")).into()),
    }
}

/// The grading the flags give, checked against the case's schemes by the store.
fn grading(case: &Case, args: &GradeArgs) -> Result<Option<Grading>> {
    if !args.given() {
        return Ok(None);
    }
    let key = match &args.scheme {
        Some(key) => key.clone(),
        None => case
            .meta("default_scheme")?
            .unwrap_or_else(|| "admiralty".into()),
    };
    let scheme = case
        .grading_schemes()
        .iter()
        .find(|s| s.key == key)
        .ok_or_else(|| {
            UsageError(format!(
                "the case has no grading scheme '{key}'; `copkit schemes CASE` lists them"
            ))
        })?;
    let (source, information) = match &args.grade {
        Some(code) => {
            let grade = scheme.parse_grade(code).map_err(|e| {
                UsageError(format!(
                    "--grade {code}: {e}; under {} a grade is a source code and an \
                     information code, such as {}{}",
                    scheme.name,
                    scheme.source_levels.first().map_or("", |l| l.code.as_str()),
                    scheme
                        .information_levels
                        .first()
                        .map_or("", |l| l.code.as_str())
                ))
            })?;
            (Some(grade.source), Some(grade.information))
        }
        None => (None, None),
    };
    Ok(Some(Grading {
        scheme: scheme.key.clone(),
        source,
        information,
        handling: args.handling.clone(),
    }))
}

/// PROPERTY=VALUE flags as attribute values entered by the analyst.
fn attributes(
    values: &[String],
    provenance: &Provenance,
    grading: Option<&Grading>,
) -> Result<Vec<NewAttribute>> {
    values
        .iter()
        .map(|pair| {
            let (property, value) = pair.split_once('=').ok_or_else(|| {
                UsageError(format!(
                    "--attr {pair}: write PROPERTY=VALUE, such as --attr phone=+34600111222"
                ))
            })?;
            Ok(NewAttribute {
                property: property.trim().to_string(),
                value: value.trim().to_string(),
                provenance: provenance.clone(),
                grading: grading.cloned(),
            })
        })
        .collect()
}

fn entry_provenance(case: &Case, source_ref: Option<&str>) -> Provenance {
    Provenance::analyst_entry(&case.actor().analyst, &now_utc(), source_ref)
}

fn created(applied: &Applied) -> String {
    applied
        .created
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `copkit add ...`.
pub fn add(command: AddCommands, actor: Actor) -> Result<ExitCode> {
    match command {
        AddCommands::Entity {
            case,
            entity_type,
            label,
            category,
            entry,
            purpose,
        } => {
            let mut case = open(&case, actor, purpose)?;
            let grading = grading(&case, &entry.grade)?;
            let provenance = entry_provenance(&case, entry.source_ref.as_deref());
            let definition = case.schema().entity_type_any_case(&entity_type)?;
            let entity = NewEntity {
                entity_type: definition.key.clone(),
                label,
                source_id: None,
                category,
                restricted: entry.restricted,
                attributes: attributes(&entry.attributes, &provenance, grading.as_ref())?,
                provenance,
                grading,
            };
            let applied =
                case.apply_because(Command::CreateEntity { entity }, entry.reason.as_deref())?;
            outln!("Created entity {}", created(&applied));
        }
        AddCommands::Link {
            case,
            from,
            to,
            link_type,
            directed,
            strength,
            label,
            weight,
            entry,
            purpose,
        } => {
            let (source, target) = (parse_entity(&from)?, parse_entity(&to)?);
            let mut case = open(&case, actor, purpose)?;
            let grading = grading(&case, &entry.grade)?;
            let provenance = entry_provenance(&case, entry.source_ref.as_deref());
            let link = NewLink {
                link_type,
                source: source.into(),
                target: target.into(),
                directed,
                strength,
                weight,
                label,
                source_id: None,
                restricted: entry.restricted,
                attributes: attributes(&entry.attributes, &provenance, grading.as_ref())?,
                provenance,
                grading,
            };
            let applied =
                case.apply_because(Command::CreateLink { link }, entry.reason.as_deref())?;
            outln!("Created link {}", created(&applied));
        }
        AddCommands::Event {
            case,
            event_type,
            time,
            end,
            zone,
            from,
            to,
            participants,
            entry,
            purpose,
        } => {
            let spec = TimeSpec {
                format: "auto".into(),
                zone: zone.clone(),
            };
            let mut when =
                parse_time(&time, &spec).map_err(|e| UsageError(format!("--time {time}: {e}")))?;
            if let Some(end) = &end {
                let until =
                    parse_time(end, &spec).map_err(|e| UsageError(format!("--end {end}: {e}")))?;
                if until.start_ms < when.start_ms {
                    return Err(UsageError(format!("--end {end} is before --time {time}")).into());
                }
                when.end_ms = Some(until.start_ms);
            }
            let mut people = Vec::new();
            if let Some(from) = &from {
                people.push(NewParticipant::new(
                    ParticipantRole::From,
                    parse_entity(from)?,
                ));
            }
            if let Some(to) = &to {
                people.push(NewParticipant::new(ParticipantRole::To, parse_entity(to)?));
            }
            for p in &participants {
                people.push(NewParticipant::new(
                    ParticipantRole::Participant,
                    parse_entity(p)?,
                ));
            }
            if people.is_empty() {
                return Err(UsageError(
                    "an event needs at least one participant: --from, --to or --participant".into(),
                )
                .into());
            }
            let mut case = open(&case, actor, purpose)?;
            let grading = grading(&case, &entry.grade)?;
            let provenance = entry_provenance(&case, entry.source_ref.as_deref());
            let mut event = NewEvent::new(event_type, when);
            event.participants = people;
            event.restricted = entry.restricted;
            event.attributes = attributes(&entry.attributes, &provenance, grading.as_ref())?;
            event.provenance = provenance;
            event.grading = grading;
            let applied =
                case.apply_because(Command::CreateEvent { event }, entry.reason.as_deref())?;
            outln!("Created event {}", created(&applied));
        }
        AddCommands::Attribute {
            case,
            item,
            property,
            value,
            source_ref,
            grade,
            reason,
            purpose,
        } => {
            let owner = parse_item(&item)?;
            let mut case = open(&case, actor, purpose)?;
            let grading = grading(&case, &grade)?;
            let attribute = NewAttribute {
                property,
                value,
                provenance: entry_provenance(&case, source_ref.as_deref()),
                grading,
            };
            let applied = case.apply_because(
                Command::AddAttribute { owner, attribute },
                reason.as_deref(),
            )?;
            outln!("Added attribute {} to {owner}", created(&applied));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `copkit set CASE ID... --reason R`: one store command per kind of change, each its own
/// undo step.
pub fn set(args: SetArgs, actor: Actor) -> Result<ExitCode> {
    let mut items = Vec::new();
    let mut values: Vec<AttributeId> = Vec::new();
    for text in &args.ids {
        match parse_id(text)? {
            AnyId::Item(item) => items.push(item),
            AnyId::Attribute(id) => values.push(id),
            other => {
                return Err(UsageError(format!(
                    "{other} cannot be set; `copkit note` edits notes"
                ))
                .into());
            }
        }
    }
    let reason = args.reason.trim().to_string();
    if reason.is_empty() {
        return Err(UsageError("--reason must not be empty".into()).into());
    }
    let mut case = open(&args.case, actor, args.purpose)?;
    let mut commands = Vec::new();
    if let Some(label) = &args.label {
        let [ItemRef::Entity(id)] = items.as_slice() else {
            return Err(UsageError("--label changes one entity at a time".into()).into());
        };
        commands.push(Command::EditEntity {
            id: *id,
            label: Some(label.clone()),
            entity_type: None,
            source_id: None,
            reason: reason.clone(),
        });
    }
    if let Some(value) = &args.value {
        if values.is_empty() || !items.is_empty() {
            return Err(UsageError(
                "--value changes attribute values (A40); give only attribute ids".into(),
            )
            .into());
        }
        for id in &values {
            commands.push(Command::EditAttribute {
                id: *id,
                value: value.clone(),
                reason: reason.clone(),
            });
        }
    }
    if args.grade.given() || args.ungraded {
        let grading = grading(&case, &args.grade)?;
        if !items.is_empty() {
            commands.push(Command::SetGrading {
                items: items.clone(),
                grading: grading.clone(),
                reason: reason.clone(),
            });
        }
        if !values.is_empty() {
            commands.push(Command::SetAttributeGrading {
                ids: values.clone(),
                grading,
                reason: reason.clone(),
            });
        }
    }
    if let Some(restricted) = args.restricted {
        commands.push(Command::SetRestricted {
            items: items.clone(),
            restricted,
            reason: reason.clone(),
        });
    }
    if let Some(category) = &args.category {
        let ids = items
            .iter()
            .map(|item| match item {
                ItemRef::Entity(id) => Ok(*id),
                other => Err(UsageError(format!(
                    "{other} is not an entity: only entities have a person category"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let category = if category.eq_ignore_ascii_case("none") {
            None
        } else {
            Some(category.parse::<PersonCategory>().map_err(UsageError)?)
        };
        commands.push(Command::SetCategory {
            ids,
            category,
            reason: reason.clone(),
        });
    }
    if let Some(date) = &args.review_date {
        let date = (!date.eq_ignore_ascii_case("none")).then(|| date.clone());
        commands.push(Command::SetReviewDate {
            items: items.clone(),
            date,
            reason: reason.clone(),
        });
    }
    if commands.is_empty() {
        return Err(UsageError(
            "nothing to set: give --label, --value, --grade/--handling, --ungraded, \
             --restricted, --category or --review-date"
                .into(),
        )
        .into());
    }
    let needs_items = commands.iter().any(|c| {
        matches!(
            c,
            Command::SetRestricted { items, .. } | Command::SetReviewDate { items, .. }
                if items.is_empty()
        )
    });
    if needs_items {
        return Err(UsageError(
            "--restricted and --review-date apply to entities, links and events (E12 L3 V7)".into(),
        )
        .into());
    }
    for command in commands {
        let action = command.action();
        let applied = case.apply(command)?;
        outln!("{action}: done (audit record {})", applied.audit_seq);
    }
    Ok(ExitCode::SUCCESS)
}

/// `copkit delete CASE ID... --reason R`.
pub fn delete(
    case: &Path,
    ids: &[String],
    reason: &str,
    purpose: PurposeArg,
    actor: Actor,
) -> Result<ExitCode> {
    if reason.trim().is_empty() {
        return Err(UsageError("--reason must not be empty".into()).into());
    }
    let ids = ids
        .iter()
        .map(|t| parse_id(t))
        .collect::<Result<Vec<_>>>()?;
    let mut case = open(case, actor, purpose)?;
    let items: Vec<ItemRef> = ids
        .iter()
        .filter_map(|id| match id {
            AnyId::Item(item) => Some(*item),
            _ => None,
        })
        .collect();
    let mut commands = Vec::new();
    if !items.is_empty() {
        commands.push(Command::Delete {
            items,
            reason: reason.to_string(),
        });
    }
    for id in &ids {
        let reason = reason.to_string();
        match *id {
            AnyId::Item(_) => {}
            AnyId::Attribute(id) => commands.push(Command::RemoveAttribute { id, reason }),
            AnyId::Note(id) => commands.push(Command::RemoveNote { id, reason }),
            AnyId::ChartSnapshot(id) => {
                commands.push(Command::RemoveChartSnapshot { id, reason });
            }
        }
    }
    for command in commands {
        let action = command.action();
        let what = match &command {
            Command::Delete { items, .. } => items
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" "),
            Command::RemoveAttribute { id, .. } => id.to_string(),
            Command::RemoveNote { id, .. } => id.to_string(),
            Command::RemoveChartSnapshot { id, .. } => id.to_string(),
            _ => String::new(),
        };
        let applied = case.apply(command)?;
        outln!(
            "{action} {what}: done (audit record {}); `copkit undo` brings it back",
            applied.audit_seq
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `copkit split CASE KEEP ABSORBED --reason R`.
pub fn split(
    case: &Path,
    keep: &str,
    absorbed: &str,
    reason: String,
    purpose: PurposeArg,
    actor: Actor,
) -> Result<ExitCode> {
    let (keep, absorbed) = (parse_entity(keep)?, parse_entity(absorbed)?);
    let mut case = open(case, actor, purpose)?;
    case.apply(Command::Split {
        keep,
        absorbed,
        reason,
    })?;
    outln!("Split {absorbed} out of {keep}");
    Ok(ExitCode::SUCCESS)
}

/// `copkit note CASE ID --text T`: a new note on an item, or (given a note id) a new text.
pub fn note(
    case: &Path,
    target: &str,
    text: String,
    source_ref: Option<String>,
    grade: &GradeArgs,
    reason: Option<String>,
    purpose: PurposeArg,
    actor: Actor,
) -> Result<ExitCode> {
    if text.trim().is_empty() {
        return Err(UsageError("--text must not be empty".into()).into());
    }
    let target = parse_id(target)?;
    let mut case = open(case, actor, purpose)?;
    let grading = grading(&case, grade)?;
    match target {
        AnyId::Item(owner) => {
            let applied = case.apply_because(
                Command::AddNote {
                    owner,
                    note: NewNote {
                        text,
                        source_ref,
                        grading,
                    },
                },
                reason.as_deref(),
            )?;
            let id = applied
                .made
                .note
                .map_or_else(String::new, |n| n.to_string());
            outln!("Added note {id} to {owner}");
        }
        AnyId::Note(id) => {
            let reason = reason.filter(|r| !r.trim().is_empty()).ok_or_else(|| {
                UsageError("changing a note needs --reason (recorded in the audit log)".into())
            })?;
            case.apply(Command::EditNote {
                id,
                text: Some(text),
                source_ref: source_ref.map(Some),
                grading: grade.given().then_some(grading),
                reason,
            })?;
            outln!("Changed note {id}");
        }
        other => {
            return Err(UsageError(format!(
                "{other} cannot carry a note; notes go on entities, links and events"
            ))
            .into());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `copkit undo CASE` / `copkit redo CASE`.
pub fn undo_redo(case: &Path, undo: bool, purpose: PurposeArg, actor: Actor) -> Result<ExitCode> {
    let mut case = open(case, actor, purpose)?;
    let label = if undo {
        case.undo_label()?
    } else {
        case.redo_label()?
    };
    let done = if undo { case.undo()? } else { case.redo()? };
    match (done, label) {
        (Some(applied), label) => outln!(
            "{} {} (audit record {})",
            if undo { "Undid" } else { "Redid" },
            label.unwrap_or_default(),
            applied.audit_seq
        ),
        (None, _) => outln!("Nothing to {}", if undo { "undo" } else { "redo" }),
    }
    Ok(ExitCode::SUCCESS)
}

/// `copkit types CASE` lists the entity types; `copkit types add` adds one.
pub fn types(
    case: Option<PathBuf>,
    command: Option<TypeCommands>,
    purpose: PurposeArg,
    actor: Actor,
) -> Result<ExitCode> {
    match command {
        None => {
            let case = case.ok_or_else(|| UsageError("give a CASE to list its types".into()))?;
            let case = open(&case, actor, purpose)?;
            for t in &case.schema().entity_types {
                let properties: Vec<String> = t
                    .properties
                    .iter()
                    .map(|p| format!("{}:{}", p.key, kind_name(p.kind)))
                    .collect();
                outln!(
                    "{:<16} {:<20} {}{}",
                    t.key,
                    t.label,
                    if t.builtin { "" } else { "(custom) " },
                    properties.join(" ")
                );
            }
        }
        Some(TypeCommands::Add {
            case,
            key,
            label,
            icon,
            ftm,
            properties,
            purpose,
        }) => {
            if !crate::model::BUNDLED_ICONS.contains(&icon.as_str()) {
                return Err(UsageError(format!(
                    "--icon {icon} is not a bundled icon; choose one of {}",
                    crate::model::BUNDLED_ICONS.join(", ")
                ))
                .into());
            }
            let properties = properties
                .iter()
                .map(|p| parse_property(p))
                .collect::<Result<Vec<_>>>()?;
            let mut case = open(&case, actor, purpose)?;
            let definition = EntityTypeDef {
                label: label.unwrap_or_else(|| key.clone()),
                key: key.clone(),
                icon,
                ftm_schema: ftm,
                properties,
                builtin: false,
            };
            case.apply(Command::AddEntityType { definition })?;
            outln!("Added entity type {key}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn kind_name(kind: PropertyKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn parse_property(text: &str) -> Result<PropertyDef> {
    let (key, kind) = text.split_once(':').unwrap_or((text, "text"));
    let kind: PropertyKind =
        serde_json::from_value(serde_json::Value::String(kind.trim().to_ascii_lowercase()))
            .map_err(|_| {
                UsageError(format!(
                    "--property {text}: '{kind}' is not a property kind (text, name, date, number, \
             phone, email, iban, plate, identifier, country, latitude, longitude, url)"
                ))
            })?;
    let key = key.trim();
    if key.is_empty() {
        return Err(UsageError(format!("--property {text}: the key is empty")).into());
    }
    Ok(PropertyDef {
        key: key.to_string(),
        label: key.to_string(),
        kind,
        ftm: None,
    })
}

/// `copkit schemes CASE` lists the grading schemes; `copkit schemes add` adds one.
pub fn schemes(
    case: Option<PathBuf>,
    command: Option<SchemeCommands>,
    purpose: PurposeArg,
    actor: Actor,
) -> Result<ExitCode> {
    match command {
        None => {
            let case = case.ok_or_else(|| UsageError("give a CASE to list its schemes".into()))?;
            let case = open(&case, actor, purpose)?;
            let default = case.meta("default_scheme")?.unwrap_or_default();
            for s in case.grading_schemes() {
                let codes = |levels: &[crate::model::GradeLevel]| {
                    levels
                        .iter()
                        .map(|l| l.code.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                outln!(
                    "{}{}: {} (source {}; information {}; handling {})",
                    s.key,
                    if s.key == default { " (default)" } else { "" },
                    s.name,
                    codes(&s.source_levels),
                    codes(&s.information_levels),
                    codes(&s.handling_codes)
                );
            }
        }
        Some(SchemeCommands::Add {
            case,
            file,
            purpose,
        }) => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("could not read the scheme file {}", file.display()))?;
            let scheme: GradingScheme = toml::from_str(&text).map_err(|e| {
                anyhow::anyhow!(
                    "the scheme file is not a grading scheme: {e}: {}",
                    file.display()
                )
            })?;
            let key = scheme.key.clone();
            let mut case = open(&case, actor, purpose)?;
            case.apply(Command::AddGradingScheme { scheme })?;
            outln!("Added grading scheme {key}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
