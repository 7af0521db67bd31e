//! The import mapper: a table's own columns matched to the roles a kind of import needs
//! (A-number, B-number, start time, duration, amount, ...), guessed from the header and the
//! values, chosen by the user, and turned into a mapping spec that is saved as TOML and read
//! back by `copkit import --spec`. The window's wizard draws it; the logic lives here so that
//! it is tested without a window and the command line could offer it too.
//!
//! A role is a column name of a built-in template (the CDR template reads `caller`, `callee`,
//! `start`, `duration`, ...). Mapping a role to a file column renames that column everywhere
//! the template reads it, so the spec made is the template with the file's own headers.

use super::spec::MappingSpec;
use std::collections::BTreeMap;

/// One role of a kind of import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Role {
    /// The template's column name, which the spec reads.
    pub key: String,
    /// What the user sees ("A-number (caller)").
    pub label: &'static str,
    /// Whether the import cannot run without it.
    pub required: bool,
}

/// What the user sees for a template column, and the header words that suggest it. Words are
/// compared after lowercasing and dropping everything but letters and digits ("A-Number" is
/// "anumber").
const ROLE_WORDS: &[(&str, &str, &[&str])] = &[
    (
        "caller",
        "A-number (caller)",
        &[
            "caller",
            "anumber",
            "anum",
            "aparty",
            "calling",
            "callingnumber",
            "from",
            "msisdna",
            "originator",
            "source",
        ],
    ),
    (
        "callee",
        "B-number (called)",
        &[
            "callee",
            "bnumber",
            "bnum",
            "bparty",
            "called",
            "callednumber",
            "to",
            "msisdnb",
            "recipient",
            "destination",
        ],
    ),
    (
        "start",
        "Start time",
        &[
            "start",
            "datetime",
            "date",
            "time",
            "starttime",
            "timestamp",
            "calldate",
            "eventtime",
            "begin",
        ],
    ),
    (
        "duration",
        "Duration (seconds)",
        &[
            "duration",
            "durationsecs",
            "durationseconds",
            "secs",
            "seconds",
            "length",
            "dur",
        ],
    ),
    (
        "cell",
        "Cell id or location",
        &[
            "cell", "cellid", "cgi", "lac", "site", "location", "mast", "tower",
        ],
    ),
    (
        "imei",
        "IMEI (handset)",
        &["imei", "handset", "device", "imeia"],
    ),
    (
        "from_account",
        "Paying account",
        &[
            "fromaccount",
            "from",
            "payer",
            "debtor",
            "sender",
            "sourceaccount",
            "ibanfrom",
            "debitaccount",
        ],
    ),
    (
        "to_account",
        "Receiving account",
        &[
            "toaccount",
            "to",
            "payee",
            "creditor",
            "beneficiary",
            "receiver",
            "ibanto",
            "creditaccount",
        ],
    ),
    (
        "date",
        "Date or time",
        &[
            "date",
            "datetime",
            "time",
            "bookingdate",
            "valuedate",
            "timestamp",
            "transactiondate",
        ],
    ),
    (
        "amount",
        "Amount",
        &["amount", "value", "sum", "amt", "total"],
    ),
    ("currency", "Currency", &["currency", "ccy", "cur"]),
    (
        "reference",
        "Reference",
        &[
            "reference",
            "ref",
            "description",
            "memo",
            "purpose",
            "narrative",
        ],
    ),
    (
        "id",
        "Identifier",
        &[
            "id",
            "identifier",
            "key",
            "recordid",
            "personid",
            "entityid",
        ],
    ),
    (
        "type",
        "Type",
        &["type", "kind", "category", "entitytype", "linktype"],
    ),
    (
        "name",
        "Name",
        &["name", "fullname", "label", "displayname"],
    ),
    (
        "phone",
        "Phone",
        &["phone", "telephone", "mobile", "msisdn", "tel"],
    ),
    ("email", "E-mail", &["email", "mail", "emailaddress"]),
    (
        "birth_date",
        "Birth date",
        &["birthdate", "dob", "dateofbirth", "born"],
    ),
    ("address", "Address", &["address", "street", "addr"]),
    ("note", "Note", &["note", "notes", "comment", "remarks"]),
    (
        "from_type",
        "Type of the first entity",
        &["fromtype", "sourcetype"],
    ),
    (
        "to_type",
        "Type of the second entity",
        &["totype", "targettype"],
    ),
    ("label", "Label", &["label", "caption"]),
    ("weight", "Weight", &["weight", "strength", "count"]),
    (
        "start_date",
        "Start date",
        &["startdate", "since", "validfrom"],
    ),
    ("end_date", "End date", &["enddate", "until", "validto"]),
];

fn squash(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The roles of a template, required ones first, in the template's own order of columns.
pub fn roles(template: &MappingSpec) -> Vec<Role> {
    let mut roles: Vec<Role> = template
        .columns()
        .into_iter()
        .map(|(key, required)| Role {
            label: ROLE_WORDS
                .iter()
                .find(|(k, ..)| *k == key)
                .map_or("", |(_, label, _)| *label),
            key,
            required,
        })
        .collect();
    // Required first, then in the order files usually have them (caller before callee).
    roles.sort_by_key(|r| {
        let known = ROLE_WORDS.iter().position(|(k, ..)| *k == r.key);
        (!r.required, known.unwrap_or(usize::MAX))
    });
    roles
}

/// What a column's values look like, from a sample of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Looks {
    Phone,
    Time,
    Number,
    Text,
}

fn looks(values: &[&str]) -> Looks {
    let filled: Vec<&str> = values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .collect();
    if filled.is_empty() {
        return Looks::Text;
    }
    let all = |f: &dyn Fn(&str) -> bool| filled.iter().all(|v| f(v));
    let time_like = |v: &str| {
        let digits = v.chars().filter(char::is_ascii_digit).count();
        digits >= 6
            && (v.contains('-') || v.contains('/') || v.contains('.'))
            && (v.contains(':') || v.len() <= 10)
            && !v.starts_with('+')
    };
    if all(&time_like) {
        return Looks::Time;
    }
    let phone_like = |v: &str| {
        let digits = v.chars().filter(char::is_ascii_digit).count();
        digits >= 7 && v.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c))
    };
    if all(&|v: &str| phone_like(v) && (v.starts_with('+') || v.starts_with('0') || v.len() >= 9)) {
        return Looks::Phone;
    }
    if all(&|v: &str| v.replace(',', ".").parse::<f64>().is_ok()) {
        return Looks::Number;
    }
    Looks::Text
}

fn expected_look(role: &str) -> Option<Looks> {
    Some(match role {
        "caller" | "callee" | "phone" => Looks::Phone,
        "start" | "date" | "birth_date" | "start_date" | "end_date" => Looks::Time,
        "duration" | "amount" | "weight" => Looks::Number,
        _ => return None,
    })
}

/// Guesses a file column for each role: by header words first (exact, then contained), then
/// by what the values look like for roles still open. No file column is given to two roles.
/// `samples[row][column]` are the first rows of the file.
pub fn guess(
    roles: &[Role],
    header: &[String],
    samples: &[Vec<String>],
) -> BTreeMap<String, String> {
    let mut chosen: BTreeMap<String, String> = BTreeMap::new();
    let mut taken = vec![false; header.len()];
    let squashed: Vec<String> = header.iter().map(|h| squash(h)).collect();
    let words = |role: &str| -> &'static [&'static str] {
        ROLE_WORDS
            .iter()
            .find(|(k, ..)| *k == role)
            .map_or(&[], |(_, _, w)| *w)
    };
    // The same name as the template's column, then any of the role's words exactly, then a
    // header that contains one of them.
    for pass in 0..3 {
        for role in roles {
            if chosen.contains_key(&role.key) {
                continue;
            }
            let role_words = words(&role.key);
            let found = squashed.iter().enumerate().position(|(i, h)| {
                !taken[i]
                    && match pass {
                        0 => *h == squash(&role.key),
                        1 => role_words.iter().any(|w| h == w),
                        _ => role_words.iter().any(|w| w.len() >= 4 && h.contains(w)),
                    }
            });
            if let Some(i) = found {
                taken[i] = true;
                chosen.insert(role.key.clone(), header[i].clone());
            }
        }
    }
    // Required roles still open: the first free column whose values look right, the roles
    // taken in the order files usually have them (caller before callee, payer before payee).
    let mut open: Vec<&Role> = roles.iter().filter(|r| r.required).collect();
    open.sort_by_key(|r| {
        ROLE_WORDS
            .iter()
            .position(|(k, ..)| *k == r.key)
            .unwrap_or(usize::MAX)
    });
    for role in open {
        if chosen.contains_key(&role.key) {
            continue;
        }
        let Some(want) = expected_look(&role.key) else {
            continue;
        };
        let found = (0..header.len()).find(|&i| {
            let values: Vec<&str> = samples
                .iter()
                .filter_map(|row| row.get(i).map(String::as_str))
                .collect();
            !taken[i] && !values.is_empty() && looks(&values) == want
        });
        if let Some(i) = found {
            taken[i] = true;
            chosen.insert(role.key.clone(), header[i].clone());
        }
    }
    chosen
}

/// The required roles that have no column yet: while any is left, the import cannot start.
pub fn missing<'a>(roles: &'a [Role], chosen: &BTreeMap<String, String>) -> Vec<&'a Role> {
    roles
        .iter()
        .filter(|r| r.required && chosen.get(&r.key).is_none_or(|c| c.trim().is_empty()))
        .collect()
}

/// The template with each role's column renamed to the file column chosen for it. A role
/// left without a column keeps the template's name (an optional column then reads as absent).
pub fn apply(template: &MappingSpec, chosen: &BTreeMap<String, String>) -> MappingSpec {
    let rename = |c: &mut String| {
        if let Some(to) = chosen.get(c.as_str()).filter(|to| !to.trim().is_empty()) {
            *c = to.clone();
        }
    };
    let rename_opt = |c: &mut Option<String>| {
        if let Some(c) = c {
            rename(c);
        }
    };
    let mut spec = template.clone();
    for e in &mut spec.entities {
        rename(&mut e.id);
        rename_opt(&mut e.type_column);
        rename_opt(&mut e.label);
        e.attributes.values_mut().for_each(rename);
    }
    for l in &mut spec.links {
        rename_opt(&mut l.type_column);
        rename_opt(&mut l.label);
        rename_opt(&mut l.weight);
        l.attributes.values_mut().for_each(rename);
    }
    for ev in &mut spec.events {
        rename(&mut ev.time);
        rename_opt(&mut ev.end);
        rename_opt(&mut ev.duration);
        ev.attributes.values_mut().for_each(rename);
    }
    fn rename_keys<V>(map: &mut BTreeMap<String, V>, rename: impl Fn(&mut String)) {
        let old = std::mem::take(map);
        for (mut k, v) in old {
            rename(&mut k);
            map.insert(k, v);
        }
    }
    rename_keys(&mut spec.column_grading, rename);
    rename_keys(&mut spec.values, rename);
    spec
}

/// A mapping being made: the kind of import, the file's header and first rows, the column
/// chosen for each role, the time zone and format, and values read as others. What the
/// wizard edits; [`ColumnMapper::spec`] is the spec it makes.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnMapper {
    /// The template (`cdr`, `bank`, `entities`, `links`).
    pub template: String,
    pub header: Vec<String>,
    pub samples: Vec<Vec<String>>,
    pub roles: Vec<Role>,
    /// Role key → file column.
    pub chosen: BTreeMap<String, String>,
    /// The zone of times written without an offset (UTC, Europe/Madrid, +01:00).
    pub zone: String,
    /// `auto`, `rfc3339`, `epoch_s`, `epoch_ms`, `excel` or a strftime pattern.
    pub time_format: String,
    /// (file column, value as written, value to read it as).
    pub values: Vec<(String, String, String)>,
}

impl ColumnMapper {
    /// A mapper for a template, with every role guessed from the header and the rows.
    pub fn new(
        template: &str,
        header: Vec<String>,
        samples: Vec<Vec<String>>,
    ) -> Result<ColumnMapper, String> {
        let spec = MappingSpec::template(template)?;
        let roles = roles(&spec);
        let chosen = guess(&roles, &header, &samples);
        Ok(ColumnMapper {
            template: template.to_string(),
            zone: spec.time.zone.clone().unwrap_or_else(|| "UTC".into()),
            time_format: spec.time.format.clone(),
            header,
            samples,
            roles,
            chosen,
            values: Vec::new(),
        })
    }

    /// The template whose required roles the guesses fill best (fewest left open; the first
    /// of the list on a tie).
    pub fn best(
        templates: &[&str],
        header: &[String],
        samples: &[Vec<String>],
    ) -> Option<ColumnMapper> {
        templates
            .iter()
            .filter_map(|t| ColumnMapper::new(t, header.to_vec(), samples.to_vec()).ok())
            .min_by_key(|m| m.missing().len())
    }

    /// The required roles still without a column.
    pub fn missing(&self) -> Vec<&Role> {
        missing(&self.roles, &self.chosen)
    }

    /// The first rows' values of a file column.
    pub fn sample_values(&self, column: &str) -> Vec<&str> {
        let Some(i) = self.header.iter().position(|h| h == column) else {
            return Vec::new();
        };
        self.samples
            .iter()
            .filter_map(|row| row.get(i).map(String::as_str))
            .collect()
    }

    /// The column that holds the time (the role the template reads the event time from).
    pub fn time_column(&self) -> Option<&str> {
        ["start", "date"]
            .iter()
            .find_map(|k| self.chosen.get(*k))
            .map(String::as_str)
    }

    /// The time spec the mapping reads times with.
    pub fn time_spec(&self) -> super::spec::TimeSpec {
        super::spec::TimeSpec {
            format: match self.time_format.trim() {
                "" => "auto".into(),
                f => f.to_string(),
            },
            zone: Some(self.zone.trim().to_string()).filter(|z| !z.is_empty()),
        }
    }

    /// Why the first rows' times cannot be read with the zone and format chosen, if they
    /// cannot (the import would reject every row).
    pub fn time_problem(&self) -> Option<String> {
        let column = self.time_column()?;
        let spec = self.time_spec();
        self.sample_values(column)
            .into_iter()
            .filter(|v| !v.trim().is_empty())
            .find_map(|v| super::spec::parse_time(v, &spec).err())
            .map(|e| format!("{column}: {e}"))
    }

    /// The spec this mapping makes.
    pub fn spec(&self) -> Result<MappingSpec, String> {
        let template = MappingSpec::template(&self.template)?;
        let mut spec = apply(&template, &self.chosen);
        spec.name = format!("{} (mapped)", template.name);
        spec.time = self.time_spec();
        for (column, from, to) in &self.values {
            if column.trim().is_empty() || from.trim().is_empty() {
                continue;
            }
            spec.values
                .entry(column.trim().to_string())
                .or_default()
                .insert(from.trim().to_string(), to.trim().to_string());
        }
        spec.check()?;
        Ok(spec)
    }
}

/// A table's header and first rows (at most `rows`), read from the first 64 KiB: enough to
/// map it, never the whole file. Delimited text only; Parquet gives its column names.
pub fn read_head(
    path: &std::path::Path,
    format: super::SourceFormat,
    rows: usize,
) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    use super::SourceFormat;
    use std::io::Read as _;
    match format {
        SourceFormat::Csv | SourceFormat::Tsv => {
            const HEAD: usize = 64 * 1024;
            let mut head = Vec::with_capacity(HEAD);
            std::fs::File::open(path)
                .ok()?
                .take(HEAD as u64)
                .read_to_end(&mut head)
                .ok()?;
            let truncated = head.len() == HEAD;
            let text = String::from_utf8_lossy(&head);
            let text = text.trim_start_matches('\u{feff}');
            let first = text.lines().next()?;
            let delimiter = if format == SourceFormat::Tsv {
                b'\t'
            } else {
                [b',', b';', b'\t', b'|']
                    .into_iter()
                    .max_by_key(|d| first.bytes().filter(|b| b == d).count())?
            };
            let mut reader = csv::ReaderBuilder::new()
                .delimiter(delimiter)
                .flexible(true)
                .from_reader(text.as_bytes());
            let header: Vec<String> = reader
                .headers()
                .ok()?
                .iter()
                .map(|h| h.trim().to_string())
                .collect();
            let mut samples: Vec<Vec<String>> = reader
                .records()
                .take(rows + 1)
                .filter_map(Result::ok)
                .map(|r| r.iter().map(str::to_string).collect())
                .collect();
            // The last row of a cut-off head may be cut off itself.
            if truncated {
                samples.pop();
            }
            samples.truncate(rows);
            Some((header, samples))
        }
        SourceFormat::Parquet => Some((super::parquet::column_names(path)?, Vec::new())),
        _ => None,
    }
}

/// Writes a spec as TOML: completely or not at all (a temporary file beside it, renamed).
pub fn save_spec(path: &std::path::Path, spec: &MappingSpec) -> Result<(), String> {
    use std::io::Write as _;
    let text = spec.to_toml()?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".part");
    let tmp = std::path::PathBuf::from(tmp);
    let written = (|| -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!(
            "the spec could not be written ({e}); check the folder exists and is writable: {}",
            path.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn telco_headers_are_matched_to_the_cdr_roles() {
        let template = MappingSpec::template("cdr").unwrap();
        let roles = roles(&template);
        let h = header(&["A-Number", "B-Number", "Date/Time", "Duration"]);
        let rows = vec![header(&[
            "+447700900001",
            "07700900002",
            "2024-03-01 10:00:00",
            "65",
        ])];
        let chosen = guess(&roles, &h, &rows);
        assert_eq!(chosen.get("caller").map(String::as_str), Some("A-Number"));
        assert_eq!(chosen.get("callee").map(String::as_str), Some("B-Number"));
        assert_eq!(chosen.get("start").map(String::as_str), Some("Date/Time"));
        assert_eq!(chosen.get("duration").map(String::as_str), Some("Duration"));
        assert!(missing(&roles, &chosen).is_empty());
        let spec = apply(&template, &chosen);
        let cols: Vec<String> = spec.columns().into_iter().map(|(c, _)| c).collect();
        for c in ["A-Number", "B-Number", "Date/Time", "Duration"] {
            assert!(cols.contains(&c.to_string()), "{c} not read by {cols:?}");
        }
        assert!(!cols.contains(&"caller".to_string()));
        // The spec made goes out as TOML and comes back the same.
        let back = MappingSpec::from_toml(&spec.to_toml().unwrap()).unwrap();
        assert_eq!(back, spec);
    }

    #[test]
    fn values_decide_where_the_header_says_nothing() {
        let template = MappingSpec::template("cdr").unwrap();
        let roles = roles(&template);
        let h = header(&["x1", "x2", "x3"]);
        let rows = vec![
            header(&["2024-03-01 10:00", "+34600111222", "+34600111333"]),
            header(&["2024-03-02 11:30", "+34600111444", "+34600111222"]),
        ];
        let chosen = guess(&roles, &h, &rows);
        assert_eq!(chosen.get("start").map(String::as_str), Some("x1"));
        assert_eq!(chosen.get("caller").map(String::as_str), Some("x2"));
        assert_eq!(chosen.get("callee").map(String::as_str), Some("x3"));
    }

    /// The telco file of the issue, read from disk: the mapper picks the call template, fills
    /// every role, and the spec it saves reads the file's own headers.
    #[test]
    fn a_telco_file_is_mapped_and_its_spec_saved() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("telco.csv");
        std::fs::write(
            &file,
            "A-Number,B-Number,Date/Time,Duration\n+447700900001,+447700900002,01/03/2024 10:00,65\n",
        )
        .unwrap();
        let (header, samples) = read_head(&file, super::super::SourceFormat::Csv, 20).unwrap();
        assert_eq!(header.len(), 4);
        assert_eq!(samples.len(), 1);
        let mut mapper =
            ColumnMapper::best(&["entities", "cdr", "bank"], &header, &samples).unwrap();
        assert_eq!(mapper.template, "cdr");
        assert!(mapper.missing().is_empty());
        assert_eq!(mapper.time_column(), Some("Date/Time"));
        mapper.time_format = "%d/%m/%Y %H:%M".into();
        mapper.zone = "Europe/London".into();
        let spec = mapper.spec().unwrap();
        let saved = dir.path().join("telco.toml");
        save_spec(&saved, &spec).unwrap();
        let back = MappingSpec::from_toml(&std::fs::read_to_string(&saved).unwrap()).unwrap();
        assert_eq!(back, spec);
        assert_eq!(back.time.format, "%d/%m/%Y %H:%M");
    }

    #[test]
    fn an_unmatched_required_role_is_missing() {
        let template = MappingSpec::template("cdr").unwrap();
        let roles = roles(&template);
        let chosen = guess(&roles, &header(&["foo", "bar"]), &[]);
        let open: Vec<&str> = missing(&roles, &chosen)
            .iter()
            .map(|r| r.key.as_str())
            .collect();
        assert!(
            open.contains(&"caller") && open.contains(&"start"),
            "{open:?}"
        );
    }
}
