//! Mapping specifications: a documented TOML format saying which columns of a tabular source
//! make which entities, links and events, how times are read and how identifiers are
//! normalised. Like an i2 import specification or a Maltego mapping, a spec is a file the
//! analyst keeps and reuses; the spec used is also stored with every import batch.
//!
//! ```toml
//! name = "my-cdr"
//! [source]            # all optional: sniffed when absent
//! delimiter = ";"
//! encoding = "windows-1252"
//! [grading]           # the grading of the source as a whole (optional)
//! scheme = "admiralty"
//! source = "B"
//! information = "2"
//! [column_grading.cell]   # a column graded differently (optional)
//! scheme = "admiralty"
//! source = "C"
//! information = "3"
//! [time]
//! format = "auto"     # auto | rfc3339 | epoch_s | epoch_ms | excel | a strftime pattern
//! zone = "Europe/London"  # IANA zone or UTC, used when a time has no offset
//! [identifiers]
//! default_country_code = "44"
//! [numbers]
//! decimal_separator = ","
//! [[entities]]
//! key = "caller"      # the name links and events use
//! type = "Phone"      # entity type (or type_column = "..." to read it per row)
//! id = "caller"       # the column that identifies the entity (becomes its source id)
//! id_property = "number"  # the property holding the id; matching uses its normalised key
//! label = "caller"    # column for the label (default: the id column)
//! optional = false    # true: an empty id cell skips the entity instead of rejecting the row
//! [entities.attributes]
//! imsi = "imsi"       # property = column
//! [[links]]
//! type = "uses"       # or type_column
//! entities = ["caller", "handset"]
//! connectivity = "chain"  # chain | star | all_pairs, for more than two entities
//! directed = true
//! [values.kind]      # a column's values read as others (optional)
//! PERSON = "Person"   # matched ignoring case unless value_case_sensitive = true
//! COMPANY = "Organization"
//! [[events]]
//! type = "Call"
//! time = "start"      # column
//! duration = "duration"   # seconds, makes the event an interval (or end = "column")
//! participants = [{ role = "from", entity = "caller" }, { role = "to", entity = "callee" }]
//! ```

/// Re-exported: the mapping normalises phone identifiers with it.
pub use crate::model::phone_e164;
use crate::model::{EventTime, Grading, PropertyKind};
use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A mapping specification.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingSpec {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub source: SourceSpec,
    pub grading: Option<Grading>,
    /// Grading of values from particular columns, overriding the source grading.
    #[serde(default)]
    pub column_grading: BTreeMap<String, Grading>,
    #[serde(default)]
    pub time: TimeSpec,
    #[serde(default)]
    pub identifiers: IdentifierSpec,
    #[serde(default)]
    pub numbers: NumberSpec,
    #[serde(default)]
    pub entities: Vec<EntityMapping>,
    #[serde(default)]
    pub links: Vec<LinkMapping>,
    #[serde(default)]
    pub events: Vec<EventMapping>,
    /// Per column, source values read as other values (a type column's PERSON as Person, a
    /// direction column's "MO" as "from"), before anything else reads the cell.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    /// Match the keys of `values` exactly; by default case and surrounding spaces are ignored.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub value_case_sensitive: bool,
}

/// How the source file is read; anything left out is sniffed and reported.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// A single character; `\t` or "tab" for tab.
    pub delimiter: Option<String>,
    /// An encoding label (utf-8, windows-1252, utf-16le, ...).
    pub encoding: Option<String>,
}

/// How times are read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeSpec {
    #[serde(default = "auto")]
    pub format: String,
    /// The zone of times written without an offset: an IANA name or UTC.
    pub zone: Option<String>,
}

fn auto() -> String {
    "auto".into()
}

impl Default for TimeSpec {
    fn default() -> Self {
        TimeSpec {
            format: auto(),
            zone: None,
        }
    }
}

/// How identifiers are normalised for matching (the raw value is always kept).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentifierSpec {
    /// Calling code (digits, no +) for phone numbers written in national form.
    pub default_country_code: Option<String>,
}

/// How numbers (amounts, durations) are read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberSpec {
    #[serde(default = "dot")]
    pub decimal_separator: String,
}

fn dot() -> String {
    ".".into()
}

impl Default for NumberSpec {
    fn default() -> Self {
        NumberSpec {
            decimal_separator: dot(),
        }
    }
}

/// Columns that make one entity per row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityMapping {
    pub key: String,
    #[serde(rename = "type")]
    pub entity_type: String,
    /// A column giving the type per row; empty cells fall back to `type`.
    pub type_column: Option<String>,
    /// The id column.
    pub id: String,
    /// The property the id value is stored in (and matched on). Without one, entities match
    /// on their source id.
    pub id_property: Option<String>,
    pub label: Option<String>,
    #[serde(default)]
    pub optional: bool,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// How a row's entities are linked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Connectivity {
    /// a-b, b-c, c-d
    #[default]
    Chain,
    /// a-b, a-c, a-d
    Star,
    /// every pair
    AllPairs,
}

/// Links made from each row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkMapping {
    #[serde(rename = "type")]
    pub link_type: String,
    pub type_column: Option<String>,
    /// Entity keys, in order.
    pub entities: Vec<String>,
    #[serde(default)]
    pub connectivity: Connectivity,
    #[serde(default)]
    pub directed: bool,
    /// One link per pair of entities for the whole batch (a phone used in a handset), rather
    /// than one per row (parallel links, as in a link list).
    #[serde(default)]
    pub once_per_pair: bool,
    pub label: Option<String>,
    pub weight: Option<String>,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// A participant of an event mapping.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipantMapping {
    pub role: crate::model::ParticipantRole,
    pub entity: String,
}

/// Events made from each row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventMapping {
    #[serde(rename = "type")]
    pub event_type: String,
    /// The column with the start time.
    pub time: String,
    /// A column with the end time.
    pub end: Option<String>,
    /// A column with the duration in seconds.
    pub duration: Option<String>,
    #[serde(default)]
    pub participants: Vec<ParticipantMapping>,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// The built-in templates, embedded in the program.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("cdr", include_str!("../../assets/templates/cdr.toml")),
    ("bank", include_str!("../../assets/templates/bank.toml")),
    (
        "entities",
        include_str!("../../assets/templates/entities.toml"),
    ),
    ("links", include_str!("../../assets/templates/links.toml")),
];

impl MappingSpec {
    /// Parses and checks a spec from TOML text.
    pub fn from_toml(text: &str) -> Result<MappingSpec, String> {
        let spec: MappingSpec =
            toml::from_str(text).map_err(|e| with_suggestion(&e.to_string()))?;
        spec.check()?;
        Ok(spec)
    }

    /// The spec as TOML, as a saved spec file holds it (the wizard's mapper writes this, and
    /// `copkit import --spec` reads it back).
    pub fn to_toml(&self) -> Result<String, String> {
        toml::to_string_pretty(self).map_err(|e| format!("the spec cannot be written: {e}"))
    }

    /// The value a column's cell is read as: the cell itself, or what `values` maps it to.
    pub fn mapped_value<'a>(&'a self, column: &str, cell: &'a str) -> &'a str {
        let Some(map) = self.values.get(column) else {
            return cell;
        };
        if self.value_case_sensitive {
            return map.get(cell).map_or(cell, String::as_str);
        }
        let key = cell.trim();
        map.iter()
            .find(|(k, _)| k.trim().to_lowercase() == key.to_lowercase())
            .map_or(cell, |(_, v)| v.as_str())
    }

    /// A built-in template by name.
    pub fn template(name: &str) -> Result<MappingSpec, String> {
        let (_, text) = TEMPLATES.iter().find(|(n, _)| *n == name).ok_or_else(|| {
            format!(
                "no template '{name}'; the templates are {}",
                TEMPLATES
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        MappingSpec::from_toml(text).map_err(|e| format!("template {name}: {e}"))
    }

    /// Checks internal consistency: keys unique and every reference resolvable.
    pub fn check(&self) -> Result<(), String> {
        if self.entities.is_empty() {
            return Err("the spec maps no entities; add at least one [[entities]] table".into());
        }
        let mut keys = std::collections::HashSet::new();
        for e in &self.entities {
            if !keys.insert(e.key.as_str()) {
                return Err(format!("entity key '{}' appears twice", e.key));
            }
            if e.id.trim().is_empty() {
                return Err(format!("entity '{}' has no id column", e.key));
            }
        }
        let known = |k: &str, what: &str| {
            if keys.contains(k) {
                Ok(())
            } else {
                Err(format!(
                    "{what} names entity '{k}', which no [[entities]] table defines"
                ))
            }
        };
        for l in &self.links {
            if l.entities.len() < 2 {
                return Err(format!(
                    "link '{}' needs at least two entities",
                    l.link_type
                ));
            }
            for k in &l.entities {
                known(k, &format!("link '{}'", l.link_type))?;
            }
        }
        for ev in &self.events {
            for p in &ev.participants {
                known(&p.entity, &format!("event '{}'", ev.event_type))?;
            }
        }
        if let Some(z) = &self.time.zone {
            parse_zone(z)?;
        }
        if self.numbers.decimal_separator != "." && self.numbers.decimal_separator != "," {
            return Err("numbers.decimal_separator must be \".\" or \",\"".into());
        }
        if let Some(cc) = &self.identifiers.default_country_code
            && (cc.is_empty() || cc.len() > 3 || !cc.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(format!(
                "identifiers.default_country_code '{cc}' must be 1 to 3 digits, without +"
            ));
        }
        Ok(())
    }

    /// Every column the spec reads, with whether the file must have it. Identifier and time
    /// columns are required; attribute, label, type and weight columns may be absent (their
    /// values are then left empty and the import report says so).
    pub fn columns(&self) -> Vec<(String, bool)> {
        let mut cols: Vec<(String, bool)> = Vec::new();
        let mut add = |c: &String, required: bool| cols.push((c.clone(), required));
        for e in &self.entities {
            // An optional entity may lack its column altogether, not only its value.
            add(&e.id, !e.optional);
            e.type_column.iter().for_each(|c| add(c, false));
            e.label.iter().for_each(|c| add(c, false));
            e.attributes.values().for_each(|c| add(c, false));
        }
        for l in &self.links {
            l.type_column.iter().for_each(|c| add(c, false));
            l.label.iter().for_each(|c| add(c, false));
            l.weight.iter().for_each(|c| add(c, false));
            l.attributes.values().for_each(|c| add(c, false));
        }
        for ev in &self.events {
            add(&ev.time, true);
            ev.end.iter().for_each(|c| add(c, false));
            ev.duration.iter().for_each(|c| add(c, false));
            ev.attributes.values().for_each(|c| add(c, false));
        }
        cols.sort();
        cols.dedup_by(|a, b| {
            if a.0 == b.0 {
                b.1 |= a.1;
                true
            } else {
                false
            }
        });
        cols
    }

    /// The grading for values of one column.
    pub fn grading_for(&self, column: Option<&str>) -> Option<Grading> {
        column
            .and_then(|c| self.column_grading.get(c))
            .or(self.grading.as_ref())
            .cloned()
    }
}

/// Adds "did you mean" to a parse error about an unknown key: the nearest of the keys the
/// error lists (by Jaro-Winkler similarity, which favours a shared beginning: `info` is
/// nearest `information`, though more edits away than `source`).
fn with_suggestion(message: &str) -> String {
    let Some(rest) = message.split("unknown field `").nth(1) else {
        return message.to_string();
    };
    let Some((unknown, expected)) = rest.split_once('`') else {
        return message.to_string();
    };
    let candidates: Vec<&str> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|c| !c.is_empty())
        .collect();
    let best = candidates
        .iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&unknown.to_lowercase(), &c.to_lowercase()),
                *c,
            )
        })
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((score, key)) if score >= 0.7 => {
            format!("{}; did you mean `{key}`?", message.trim_end())
        }
        _ => message.to_string(),
    }
}

/// A time zone given in a spec.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Zone {
    Utc,
    Named(chrono_tz::Tz),
}

/// Parses an IANA zone name or UTC.
pub fn parse_zone(name: &str) -> Result<Zone, String> {
    let n = name.trim();
    if n.eq_ignore_ascii_case("utc") || n == "Z" || n == "+00:00" {
        return Ok(Zone::Utc);
    }
    n.parse::<chrono_tz::Tz>().map(Zone::Named).map_err(|_| {
        format!("'{name}' is not a time zone; use an IANA name such as Europe/London or UTC")
    })
}

fn resolve_local(naive: NaiveDateTime, zone: Zone) -> Result<DateTime<Utc>, String> {
    match zone {
        Zone::Utc => Ok(naive.and_utc()),
        Zone::Named(tz) => match tz.from_local_datetime(&naive) {
            LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
            LocalResult::None => Err(format!(
                "{naive} does not exist in {tz} (a daylight-saving gap); check the source, it is not guessed"
            )),
            LocalResult::Ambiguous(a, b) => Err(format!(
                "{naive} happens twice in {tz} (daylight-saving overlap: {} or {}); the source must say which, it is not guessed",
                a.with_timezone(&Utc).format("%H:%M UTC"),
                b.with_timezone(&Utc).format("%H:%M UTC")
            )),
        },
    }
}

fn zone_name(zone: Option<Zone>) -> Option<String> {
    zone.map(|z| match z {
        Zone::Utc => "UTC".to_string(),
        Zone::Named(tz) => tz.name().to_string(),
    })
}

/// Parses a time cell by the spec's format and zone into an event time that keeps the
/// original text and zone.
pub fn parse_time(text: &str, spec: &TimeSpec) -> Result<EventTime, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("the time is empty".into());
    }
    if t.starts_with("0000-00-00") {
        return Err(format!("'{t}' is a placeholder, not a time"));
    }
    let zone = spec.zone.as_deref().map(parse_zone).transpose()?;
    let need_zone = || {
        zone.ok_or_else(|| {
            format!("'{t}' has no time zone; state the source zone (time.zone in the spec, or the time zone of the import)")
        })
    };
    let instant = |at: DateTime<Utc>, z: Option<String>| EventTime {
        start_ms: at.timestamp_millis(),
        end_ms: None,
        original_text: Some(t.to_string()),
        original_zone: z,
    };
    let numeric = |t: &str| -> Result<f64, String> {
        t.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| format!("'{t}' is not a number"))
    };
    // A workbook's date cells arrive as ISO 8601 text (see `xlsx::cell_text`), while dates
    // typed as numbers (or exported to CSV) are serials: "excel" reads both.
    let format = if spec.format == "excel" && t.parse::<f64>().is_err() {
        "auto"
    } else {
        spec.format.as_str()
    };
    match format {
        "epoch_s" => {
            let x = numeric(t)?;
            if x.abs() > 1e11 {
                return Err(format!(
                    "'{t}' is too large for epoch seconds; it looks like milliseconds (time.format = \"epoch_ms\")"
                ));
            }
            let at = DateTime::from_timestamp_millis((x * 1000.0) as i64)
                .ok_or_else(|| format!("'{t}' is out of range"))?;
            Ok(instant(at, Some("UTC".into())))
        }
        "epoch_ms" => {
            let x = numeric(t)?;
            if x.abs() < 1e11 && x != 0.0 {
                return Err(format!(
                    "'{t}' is too small for epoch milliseconds; it looks like seconds (time.format = \"epoch_s\")"
                ));
            }
            let at = DateTime::from_timestamp_millis(x as i64)
                .ok_or_else(|| format!("'{t}' is out of range"))?;
            Ok(instant(at, Some("UTC".into())))
        }
        "excel" => {
            let x = numeric(t)?;
            if !(1.0..2_958_466.0).contains(&x) {
                return Err(format!("'{t}' is not an Excel serial date"));
            }
            let base = NaiveDate::from_ymd_opt(1899, 12, 30)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .ok_or("bad epoch")?;
            let naive = base + chrono::Duration::milliseconds((x * 86_400_000.0).round() as i64);
            let z = need_zone()?;
            Ok(instant(resolve_local(naive, z)?, zone_name(Some(z))))
        }
        "rfc3339" => DateTime::parse_from_rfc3339(t)
            .map(|d| instant(d.with_timezone(&Utc), Some(d.offset().to_string())))
            .map_err(|e| format!("'{t}' is not an RFC 3339 time ({e})")),
        "auto" => {
            if let Ok(d) = DateTime::parse_from_rfc3339(t) {
                return Ok(instant(d.with_timezone(&Utc), Some(d.offset().to_string())));
            }
            // chrono reads "23-04-03" as the year 23: only four-digit years are taken here.
            let iso = t.len() >= 10
                && t.as_bytes()[..4].iter().all(u8::is_ascii_digit)
                && t.as_bytes()[4] == b'-';
            for f in [
                "%Y-%m-%d %H:%M:%S%.f",
                "%Y-%m-%dT%H:%M:%S%.f",
                "%Y-%m-%d %H:%M",
                "%Y-%m-%dT%H:%M",
            ] {
                if let Ok(naive) = NaiveDateTime::parse_from_str(t, f)
                    && iso
                {
                    let z = need_zone()?;
                    return Ok(instant(resolve_local(naive, z)?, zone_name(Some(z))));
                }
            }
            if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d")
                && iso
            {
                let z = need_zone()?;
                let naive = d.and_hms_opt(0, 0, 0).ok_or("bad date")?;
                return Ok(instant(resolve_local(naive, z)?, zone_name(Some(z))));
            }
            // A bare number is a count, not a date with its day and month in doubt.
            if let Some(hint) = bare_number_hint(t) {
                return Err(format!("'{t}' is a bare number, not a date; {hint}"));
            }
            if t.contains('/') || t.contains('.') && t.len() <= 19 || !iso {
                return Err(format!(
                    "'{t}' is ambiguous (day/month order or a two-digit year); set time.format, for example \"%d/%m/%Y %H:%M\""
                ));
            }
            Err(format!(
                "'{t}' is not a time the importer recognises; write it as YYYY-MM-DD HH:MM:SS or set time.format"
            ))
        }
        pattern => {
            if let Ok(d) = DateTime::parse_from_str(t, pattern) {
                return Ok(instant(d.with_timezone(&Utc), Some(d.offset().to_string())));
            }
            let naive = NaiveDateTime::parse_from_str(t, pattern)
                .or_else(|_| {
                    NaiveDate::parse_from_str(t, pattern)
                        .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
                })
                .map_err(|e| format!("'{t}' does not match the format '{pattern}' ({e})"))?;
            let z = need_zone()?;
            Ok(instant(resolve_local(naive, z)?, zone_name(Some(z))))
        }
    }
}

/// What a time cell holding only a number probably counts, as advice naming the format to
/// set; `None` when the text is not a bare number.
fn bare_number_hint(t: &str) -> Option<&'static str> {
    let unsigned = t.strip_prefix('-').unwrap_or(t);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if whole.is_empty()
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let compact_date = |pattern| {
        fraction.is_empty()
            && (NaiveDateTime::parse_from_str(whole, pattern).is_ok()
                || NaiveDate::parse_from_str(whole, pattern).is_ok())
    };
    Some(match whole.len() {
        8 if compact_date("%Y%m%d") => {
            "it looks like a date written YYYYMMDD: set time.format = \"%Y%m%d\""
        }
        14 if compact_date("%Y%m%d%H%M%S") => {
            "it looks like a date and time written YYYYMMDDHHMMSS: set time.format = \"%Y%m%d%H%M%S\""
        }
        12..=14 => {
            "it looks like milliseconds since 1970 (epoch milliseconds): set time.format = \"epoch_ms\""
        }
        9..=11 => "it looks like seconds since 1970 (epoch seconds): set time.format = \"epoch_s\"",
        1..=6 => {
            "it may be a spreadsheet serial date (days since 1899-12-30): set time.format = \"excel\", or \"epoch_s\" or \"epoch_ms\" if it counts seconds or milliseconds since 1970"
        }
        _ => "set time.format to \"epoch_s\", \"epoch_ms\" or \"excel\" to say what it counts",
    })
}

/// Why an identifier cell cannot be trusted as it is.
pub fn identifier_damage(value: &str) -> Option<String> {
    let v = value.trim();
    if v.starts_with('#')
        && matches!(
            v.to_ascii_uppercase().as_str(),
            "#N/A" | "#VALUE!" | "#REF!" | "#NAME?" | "#DIV/0!" | "#NUM!" | "#NULL!"
        )
    {
        return Some(format!(
            "'{v}' is a spreadsheet error value, not an identifier"
        ));
    }
    let b = v.as_bytes();
    let sci = v.contains(['E', 'e'])
        && v.split(['E', 'e']).count() == 2
        && v.split(['E', 'e']).all(|p| {
            let p = p.trim_start_matches(['+', '-']);
            !p.is_empty()
                && p.bytes()
                    .all(|c| c.is_ascii_digit() || c == b'.' || c == b',')
        })
        && b.first().is_some_and(u8::is_ascii_digit);
    if sci {
        return Some(format!(
            "'{v}' is an identifier turned into a number by a spreadsheet (scientific notation); digits are lost, export the column as text"
        ));
    }
    None
}

/// Reads a number cell, accepting currency symbols, spaces and the spec's decimal separator.
/// Returns the plain form ("1234.56").
pub fn parse_number(value: &str, decimal: &str) -> Result<String, String> {
    let v = value.trim();
    let cleaned: String = v
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '€' | '$' | '£' | '¥' | '\''))
        .collect();
    let cleaned = cleaned
        .trim_start_matches(|c: char| c.is_ascii_alphabetic())
        .trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let (dec, thou) = if decimal == "," {
        (',', '.')
    } else {
        ('.', ',')
    };
    let hint = || {
        format!(
            "'{v}' does not read as a number with '{dec}' as the decimal separator; set numbers.decimal_separator = \"{thou}\" if the source writes decimals that way"
        )
    };
    let (int_part, frac) = match cleaned.rfind(dec) {
        Some(i) => (&cleaned[..i], Some(&cleaned[i + 1..])),
        None => (cleaned, None),
    };
    if frac.is_some_and(|f| f.contains(thou)) || int_part.contains(dec) {
        return Err(hint());
    }
    if int_part.contains(thou) && int_part.split(thou).skip(1).any(|g| g.len() != 3) {
        return Err(hint());
    }
    let mut plain = int_part.replace(thou, "");
    if let Some(f) = frac {
        plain.push('.');
        plain.push_str(f);
    }
    match plain.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(plain),
        _ => Err(format!("'{v}' is not a number")),
    }
}

/// Whether a property kind holds identifiers (always text, never numbers).
pub fn is_identifier_kind(kind: PropertyKind) -> bool {
    matches!(
        kind,
        PropertyKind::Phone | PropertyKind::Iban | PropertyKind::Identifier | PropertyKind::Plate
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse() {
        for (name, _) in TEMPLATES {
            MappingSpec::template(name).unwrap();
        }
    }

    #[test]
    fn times_in_dst_gaps_and_overlaps_are_flagged() {
        let spec = TimeSpec {
            format: "auto".into(),
            zone: Some("Europe/London".into()),
        };
        assert!(
            parse_time("2023-03-26 01:30:00", &spec)
                .unwrap_err()
                .contains("gap")
        );
        assert!(
            parse_time("2023-10-29 01:30:00", &spec)
                .unwrap_err()
                .contains("overlap")
        );
        let t = parse_time("2023-07-01 12:00:00", &spec).unwrap();
        assert_eq!(t.start().to_rfc3339(), "2023-07-01T11:00:00+00:00");
        assert_eq!(t.original_zone.as_deref(), Some("Europe/London"));
        assert!(
            parse_time("03/04/2023", &spec)
                .unwrap_err()
                .contains("ambiguous")
        );
        let no_zone = TimeSpec::default();
        assert!(
            parse_time("2023-07-01 12:00:00", &no_zone)
                .unwrap_err()
                .contains("zone")
        );
        let s = TimeSpec {
            format: "epoch_s".into(),
            zone: None,
        };
        assert!(
            parse_time("1700000000000", &s)
                .unwrap_err()
                .contains("milliseconds")
        );
    }

    #[test]
    fn identifiers_and_numbers() {
        assert_eq!(
            phone_e164("07700 900123", Some("44")).unwrap(),
            "+447700900123"
        );
        assert_eq!(
            phone_e164("0044 7700 900123", None).unwrap(),
            "+447700900123"
        );
        assert!(identifier_damage("4.47E+11").is_some());
        assert!(identifier_damage("#N/A").is_some());
        assert!(identifier_damage("447700900123").is_none());
        assert_eq!(parse_number("1.234,56 €", ",").unwrap(), "1234.56");
        assert_eq!(parse_number("£1,234.56", ".").unwrap(), "1234.56");
        assert!(parse_number("12,5", ".").is_err());
    }
}
