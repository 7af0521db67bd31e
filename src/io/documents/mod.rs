//! Documents: files whose content is text for people to read (plain text, HTML, PDF, DOCX,
//! ODT, e-mail, chat exports), imported as Document entities with their text kept in the case
//! page by page and indexed for full-text search (`store/documents.rs`).
//!
//! A file or a whole folder is one batch (source files hashed, the batch recorded and audited
//! like every import); each file gets a line in the [`DocumentReport`], which says what failed
//! and why, so that a folder with one damaged file still imports the rest. A file that fails
//! leaves nothing of itself in the case; a run in which every file fails writes nothing. One
//! module per format: `text` (plain text in any common encoding, HTML), `pdf`, `office` (DOCX,
//! ODT), `mail` (EML, MBOX; attachments become Documents of their own, linked to their mail),
//! `chat` (WhatsApp, Telegram: each message an event between Person entities).
//!
//! Bounds: the file size (`max_file_bytes`), the files in a folder, the folder depth, pages
//! per document, zip entries, sizes and ratios (`zipcheck.rs`), XML and JSON depth, messages
//! per mailbox or chat, and the nesting of attachments (a mail in a mail in a mail…).

mod chat;
mod mail;
mod office;
mod pdf;
mod text;

use super::{IoError, Limits};
use crate::jobs::{CancelToken, Progress};
use crate::model::{
    EntityId, EventTime, NewAttribute, NewEntity, NewEvent, NewLink, NewParticipant,
    ParticipantRole, Provenance,
};
use crate::store::{BatchWriter, Case, NewBatch, StoreError};
use chrono::NaiveDateTime;
use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The formats a document import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocFormat {
    Text,
    Html,
    Pdf,
    Docx,
    Odt,
    Eml,
    Mbox,
    WhatsApp,
    Telegram,
}

impl DocFormat {
    pub const ALL: [DocFormat; 9] = [
        DocFormat::Text,
        DocFormat::Html,
        DocFormat::Pdf,
        DocFormat::Docx,
        DocFormat::Odt,
        DocFormat::Eml,
        DocFormat::Mbox,
        DocFormat::WhatsApp,
        DocFormat::Telegram,
    ];

    /// The name used by `--doc-format` and in reports.
    pub fn flag(self) -> &'static str {
        match self {
            DocFormat::Text => "text",
            DocFormat::Html => "html",
            DocFormat::Pdf => "pdf",
            DocFormat::Docx => "docx",
            DocFormat::Odt => "odt",
            DocFormat::Eml => "eml",
            DocFormat::Mbox => "mbox",
            DocFormat::WhatsApp => "whatsapp",
            DocFormat::Telegram => "telegram",
        }
    }

    pub fn from_flag(flag: &str) -> Option<DocFormat> {
        DocFormat::ALL
            .into_iter()
            .find(|f| f.flag().eq_ignore_ascii_case(flag.trim()))
    }

    /// The format of a file from its content first (magic bytes, markup, headers), then its
    /// name; `None` for a file that is no document (an image, an executable, a spreadsheet).
    pub fn detect(name: &str, bytes: &[u8]) -> Option<DocFormat> {
        let lower = name.to_ascii_lowercase();
        let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        if bytes.starts_with(b"%PDF-") {
            return Some(DocFormat::Pdf);
        }
        if bytes.starts_with(b"PK\x03\x04") {
            let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).into_owned();
            return if head.contains("word/") || ext == "docx" {
                Some(DocFormat::Docx)
            } else if head.contains("application/vnd.oasis.opendocument.text") || ext == "odt" {
                Some(DocFormat::Odt)
            } else {
                None
            };
        }
        if is_binary(&lower, bytes) {
            return None;
        }
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(8192)]);
        let head = head.trim_start_matches('\u{feff}').trim_start();
        let lower_head = head
            .chars()
            .take(2048)
            .collect::<String>()
            .to_ascii_lowercase();
        if head.starts_with("From ")
            && (ext == "mbox"
                || lower_head.contains("\nfrom:")
                || lower_head.contains("\nsubject:"))
        {
            return Some(DocFormat::Mbox);
        }
        if ext == "mbox" {
            return Some(DocFormat::Mbox);
        }
        if lower_head.starts_with("<!doctype html")
            || lower_head.starts_with("<html")
            || matches!(ext, "html" | "htm" | "xhtml")
        {
            return Some(DocFormat::Html);
        }
        if head.starts_with('{') && chat::looks_like_telegram(head) {
            return Some(DocFormat::Telegram);
        }
        if ext == "eml" || looks_like_mail_headers(head) {
            return Some(DocFormat::Eml);
        }
        if chat::looks_like_whatsapp(head) {
            return Some(DocFormat::WhatsApp);
        }
        match ext {
            "pdf" => Some(DocFormat::Pdf),
            "docx" => Some(DocFormat::Docx),
            "odt" => Some(DocFormat::Odt),
            "json" | "csv" | "tsv" | "xml" | "graphml" | "gexf" | "gml" | "xlsx" | "parquet" => {
                None
            }
            _ => Some(DocFormat::Text),
        }
    }
}

/// Extensions of files that are no text documents (pictures, sound, video, programs,
/// archives): a scanned page saved as a picture needs OCR, which this import does not do.
const BINARY_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "png", "gif", "tif", "tiff", "bmp", "webp", "heic", "mp3", "mp4", "m4a", "wav",
    "ogg", "opus", "mov", "avi", "mkv", "exe", "dll", "so", "zip", "7z", "rar", "gz", "xz", "bz2",
    "tar", "iso", "dmg",
];

/// Whether bytes are binary (no text document): a known picture, archive or program
/// signature, a binary extension, or NUL bytes in the first 8 KiB of a file without a UTF-16
/// byte-order mark.
fn is_binary(lower_name: &str, bytes: &[u8]) -> bool {
    const SIGNATURES: &[&[u8]] = &[
        b"\xff\xd8\xff",
        b"\x89PNG",
        b"GIF87a",
        b"GIF89a",
        b"II*\0",
        b"MM\0*",
        b"RIFF",
        b"\x7fELF",
        b"7z\xbc\xaf",
        b"Rar!",
        b"\x1f\x8b",
        b"OggS",
    ];
    let ext = lower_name.rsplit_once('.').map_or("", |(_, e)| e);
    if BINARY_EXTENSIONS.contains(&ext) || SIGNATURES.iter().any(|s| bytes.starts_with(s)) {
        return true;
    }
    let head = &bytes[..bytes.len().min(8192)];
    head.contains(&0) && encoding_rs::Encoding::for_bom(bytes).is_none()
}

/// Whether text begins with RFC 5322 header lines, among them From and one of Date, Subject
/// or To.
fn looks_like_mail_headers(head: &str) -> bool {
    let mut names = Vec::new();
    for line in head.lines().take(40) {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            continue;
        }
        match line.split_once(':') {
            Some((name, _))
                if !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
            {
                names.push(name.to_ascii_lowercase());
            }
            _ => return false,
        }
    }
    names.iter().any(|n| n == "from")
        && names
            .iter()
            .any(|n| matches!(n.as_str(), "date" | "subject" | "to" | "message-id"))
}

/// One page of extracted text.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    pub text: String,
    pub needs_ocr: bool,
}

/// An attachment of a mail, imported as a Document of its own.
#[derive(Debug, Clone)]
pub(crate) struct Attachment {
    pub name: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
pub(crate) struct ChatMessage {
    pub time_ms: i64,
    pub time_text: String,
    /// `None` for a system line (encryption notice, member added).
    pub sender: Option<String>,
    pub sender_id: Option<String>,
    pub text: String,
    /// Line (WhatsApp) or message number (Telegram) in the export.
    pub line: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct Chat {
    pub platform: &'static str,
    /// Display name and, where the export has one, the platform's id.
    pub participants: Vec<(String, Option<String>)>,
    pub messages: Vec<ChatMessage>,
}

/// What a format module makes of a file.
#[derive(Debug, Clone)]
pub(crate) struct Extracted {
    pub format: &'static str,
    pub title: Option<String>,
    pub pages: Vec<Page>,
    pub attributes: Vec<(&'static str, String)>,
    pub encoding: Option<String>,
    pub attachments: Vec<Attachment>,
    pub chat: Option<Chat>,
}

impl Extracted {
    pub(crate) fn new(format: &'static str) -> Extracted {
        Extracted {
            format,
            title: None,
            pages: Vec::new(),
            attributes: Vec::new(),
            encoding: None,
            attachments: Vec::new(),
            chat: None,
        }
    }
}

/// A local time in a zone as UTC milliseconds (`None` in a clock change's gap; the earlier of
/// two in its overlap).
pub(crate) fn local_to_utc_ms(local: NaiveDateTime, zone: chrono_tz::Tz) -> Option<i64> {
    use chrono::TimeZone;
    zone.from_local_datetime(&local)
        .earliest()
        .map(|t| t.timestamp_millis())
}

/// Refuses JSON nested deeper than the bound before serde builds a value of it.
pub(crate) fn check_json_depth(text: &str, max: usize) -> Result<(), String> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (offset, b) in text.bytes().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return Err(format!(
                        "byte {offset}: JSON nested deeper than max_json_depth ({max})"
                    ));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// How to import documents.
#[derive(Debug, Clone)]
pub struct DocumentOptions {
    pub limits: Limits,
    /// Read text files in this encoding (a WHATWG label) instead of the detected one.
    pub encoding: Option<String>,
    /// Read every file as this format instead of detecting it.
    pub format: Option<DocFormat>,
    /// The zone chat exports' times are read in (they carry none).
    pub time_zone: chrono_tz::Tz,
    pub max_pages: u32,
    /// The most files a folder import reads.
    pub max_files: usize,
    /// The deepest folder nesting a folder import walks into.
    pub max_folder_depth: usize,
    /// How deep attachments may nest (a mail attached to a mail is depth 2).
    pub max_nesting: usize,
    /// The batch's description (default: what was imported).
    pub description: Option<String>,
}

impl Default for DocumentOptions {
    fn default() -> Self {
        DocumentOptions {
            limits: Limits::default(),
            encoding: None,
            format: None,
            time_zone: chrono_tz::UTC,
            max_pages: 10_000,
            max_files: 1_000_000,
            max_folder_depth: 32,
            max_nesting: 4,
            description: None,
        }
    }
}

/// What one file (or attachment) gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileSummary {
    pub format: String,
    pub documents: u64,
    pub pages: u64,
    /// Pages without a text layer (scanned): kept empty, to be OCR'd.
    pub needs_ocr: u64,
    pub encoding: Option<String>,
    pub messages: u64,
    pub attachments: u64,
    /// Attachments and mailbox messages that could not be read (named, with the reason); the
    /// rest of the file was imported.
    pub problems: Vec<String>,
}

/// One file's line in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileOutcome {
    pub path: PathBuf,
    pub sha256: Option<String>,
    /// What it gave, or why it failed (nothing of a failed file is in the case).
    pub result: Result<FileSummary, String>,
}

/// What a document import did, file by file.
#[derive(Debug, Clone, Default)]
pub struct DocumentReport {
    pub batch: Option<crate::model::BatchId>,
    pub files: Vec<FileOutcome>,
}

impl DocumentReport {
    pub fn imported(&self) -> impl Iterator<Item = (&FileOutcome, &FileSummary)> {
        self.files
            .iter()
            .filter_map(|f| f.result.as_ref().ok().map(|s| (f, s)))
    }

    pub fn failed(&self) -> impl Iterator<Item = (&FileOutcome, &str)> {
        self.files
            .iter()
            .filter_map(|f| f.result.as_ref().err().map(|e| (f, e.as_str())))
    }

    pub fn totals(&self) -> FileSummary {
        let mut t = FileSummary::default();
        for (_, s) in self.imported() {
            t.documents += s.documents;
            t.pages += s.pages;
            t.needs_ocr += s.needs_ocr;
            t.messages += s.messages;
            t.attachments += s.attachments;
        }
        t
    }
}

/// The regular files under a folder, sorted, within the bounds (symbolic links are not
/// followed: a link could lead out of the folder or round in a loop).
fn collect_files(root: &Path, opts: &DocumentOptions) -> Result<Vec<PathBuf>, IoError> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|source| IoError::Read {
            path: dir.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| IoError::Read {
                path: dir.clone(),
                source,
            })?;
            let kind = entry.file_type().map_err(|source| IoError::Read {
                path: entry.path(),
                source,
            })?;
            if kind.is_dir() {
                if depth + 1 > opts.max_folder_depth {
                    return Err(IoError::Bound {
                        path: entry.path(),
                        bound: "max_folder_depth",
                        detail: format!("folders nested deeper than {}", opts.max_folder_depth),
                    });
                }
                stack.push((entry.path(), depth + 1));
            } else if kind.is_file() {
                out.push(entry.path());
                if out.len() > opts.max_files {
                    return Err(IoError::Bound {
                        path: root.to_path_buf(),
                        bound: "max_files",
                        detail: format!("the folder holds more than {} files", opts.max_files),
                    });
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Extracts one file's content by its format.
fn extract(
    path: &Path,
    format: DocFormat,
    bytes: &[u8],
    opts: &DocumentOptions,
) -> Result<Extracted, String> {
    let forced = opts.encoding.as_deref();
    match format {
        DocFormat::Text => text::extract_text(bytes, forced),
        DocFormat::Html => text::extract_html(bytes, forced),
        DocFormat::Pdf => pdf::extract_pdf(bytes, opts.max_pages),
        DocFormat::Docx => office::extract_docx(path, bytes, &opts.limits),
        DocFormat::Odt => office::extract_odt(path, bytes, &opts.limits),
        DocFormat::Eml => mail::extract_eml(bytes),
        DocFormat::WhatsApp => chat::extract_whatsapp(bytes, forced, opts.time_zone),
        DocFormat::Telegram => {
            chat::extract_telegram(bytes, opts.time_zone, opts.limits.max_json_depth)
        }
        DocFormat::Mbox => Err("an MBOX file is read message by message".into()),
    }
}

/// The batch's state while files are written: Person entities of chat participants, met
/// again across files.
struct Writing<'o> {
    opts: &'o DocumentOptions,
    people: FxHashMap<(String, String), EntityId>,
}

/// Why a file failed: a problem of the file (reported, the rest goes on), or of the case
/// (the batch stops).
enum Failure {
    File(String),
    Store(StoreError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

fn attribute(property: &str, value: impl Into<String>, file: &str, record: &str) -> NewAttribute {
    let mut a = NewAttribute::new(property, value);
    a.provenance = provenance(file, record);
    a
}

fn provenance(file: &str, record: &str) -> Provenance {
    Provenance {
        batch: None,
        source_file: Some(file.to_string()),
        record: Some(record.to_string()),
    }
}

impl Writing<'_> {
    /// Writes one file's (or attachment's) documents. `record` says where it came from in the
    /// source ("file", "attachment 'x.pdf' of message 3").
    #[allow(
        clippy::too_many_arguments,
        reason = "one call site per source, each naming its parts"
    )]
    fn write(
        &mut self,
        w: &mut BatchWriter<'_>,
        file: &str,
        name: &str,
        record: &str,
        bytes: &[u8],
        depth: usize,
        summary: &mut FileSummary,
    ) -> Result<EntityId, Failure> {
        let format = match self.opts.format.filter(|_| depth == 0) {
            Some(f) => f,
            None => DocFormat::detect(name, bytes).ok_or_else(|| {
                Failure::File(format!(
                    "{record} '{name}': not a document this import reads (text, HTML, PDF, DOCX, \
                     ODT, EML, MBOX, WhatsApp or Telegram export); pictures of pages need OCR, \
                     which this program does not do yet"
                ))
            })?,
        };
        if summary.format.is_empty() {
            summary.format = format.flag().to_string();
        }
        if format == DocFormat::Mbox {
            let messages = mail::split_mbox(bytes).map_err(Failure::File)?;
            let mut first = None;
            for (n, message) in messages.iter().enumerate() {
                let record = format!("message {}", n + 1);
                match self.write_extracted(
                    w,
                    file,
                    &format!("{name} {record}"),
                    &record,
                    message,
                    DocFormat::Eml,
                    depth,
                    summary,
                ) {
                    Ok(id) => {
                        first.get_or_insert(id);
                    }
                    // A message that cannot be read is reported; the others are kept.
                    Err(Failure::File(problem)) => {
                        summary.problems.push(format!("{record}: {problem}"));
                    }
                    Err(store) => return Err(store),
                }
            }
            return first.ok_or_else(|| {
                Failure::File(format!(
                    "no message of the mailbox could be read; first: {}",
                    summary.problems.first().cloned().unwrap_or_default()
                ))
            });
        }
        self.write_extracted(w, file, name, record, bytes, format, depth, summary)
    }

    #[allow(clippy::too_many_arguments, reason = "as write")]
    fn write_extracted(
        &mut self,
        w: &mut BatchWriter<'_>,
        file: &str,
        name: &str,
        record: &str,
        bytes: &[u8],
        format: DocFormat,
        depth: usize,
        summary: &mut FileSummary,
    ) -> Result<EntityId, Failure> {
        let extracted = extract(Path::new(file), format, bytes, self.opts).map_err(|e| {
            Failure::File(if depth == 0 {
                e
            } else {
                format!("{record}: {e}")
            })
        })?;
        if extracted.pages.len() as u64 > u64::from(self.opts.max_pages) {
            return Err(Failure::File(format!(
                "{} pages, over the bound of {} pages per document",
                extracted.pages.len(),
                self.opts.max_pages
            )));
        }
        let sha = hex::encode(Sha256::digest(bytes));
        let label = extracted.title.clone().unwrap_or_else(|| name.to_string());
        let mut entity = NewEntity::new("Document", label);
        entity.provenance = provenance(file, record);
        let mut attrs = vec![
            ("fileName", name.to_string()),
            ("sha256", sha),
            ("format", extracted.format.to_string()),
            ("pages", extracted.pages.len().to_string()),
        ];
        if let Some(t) = &extracted.title {
            attrs.push(("title", t.clone()));
        }
        if let Some(e) = &extracted.encoding {
            attrs.push(("encoding", e.clone()));
        }
        let ocr = extracted.pages.iter().filter(|p| p.needs_ocr).count() as u64;
        if ocr > 0 {
            attrs.push(("pagesNeedingOcr", ocr.to_string()));
        }
        for (property, value) in &extracted.attributes {
            if *property == "date" && value.len() > 10 {
                attrs.push(("sent", value.clone()));
                attrs.push(("date", value.chars().take(10).collect()));
            } else {
                attrs.push((property, value.clone()));
            }
        }
        entity.attributes = attrs
            .into_iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(p, v)| attribute(p, v, file, record))
            .collect();
        let id = w.entity(entity)?;
        for (n, page) in extracted.pages.iter().enumerate() {
            w.document_page(id, n as u32 + 1, &page.text, page.needs_ocr)?;
        }
        summary.documents += 1;
        summary.pages += extracted.pages.len() as u64;
        summary.needs_ocr += ocr;
        if summary.encoding.is_none() {
            summary.encoding.clone_from(&extracted.encoding);
        }
        if let Some(chat) = &extracted.chat {
            self.write_chat(w, file, id, chat)?;
            summary.messages += chat.messages.len() as u64;
        }
        for attachment in &extracted.attachments {
            let record = format!("attachment '{}' of {record}", attachment.name);
            if depth + 1 > self.opts.max_nesting {
                summary.problems.push(format!(
                    "{record}: attachments nested deeper than {} (max_nesting); not imported",
                    self.opts.max_nesting
                ));
                continue;
            }
            match self.write(
                w,
                file,
                &attachment.name,
                &record,
                &attachment.bytes,
                depth + 1,
                summary,
            ) {
                Ok(child) => {
                    let mut link = NewLink::new("attachment_of", child, id);
                    link.directed = true;
                    link.provenance = provenance(file, &record);
                    w.link(link)?;
                    summary.attachments += 1;
                }
                Err(Failure::File(problem)) => summary.problems.push(problem),
                Err(store) => return Err(store),
            }
        }
        Ok(id)
    }

    /// The chat's participants as Person entities and each message as an event from its
    /// sender to the others.
    fn write_chat(
        &mut self,
        w: &mut BatchWriter<'_>,
        file: &str,
        document: EntityId,
        chat: &Chat,
    ) -> Result<(), Failure> {
        let mut ids: Vec<(String, Option<String>, EntityId)> = Vec::new();
        for (name, platform_id) in &chat.participants {
            let key = (
                chat.platform.to_string(),
                platform_id.clone().unwrap_or_else(|| name.clone()),
            );
            let id = match self.people.get(&key) {
                Some(id) => *id,
                None => {
                    let mut person = NewEntity::new("Person", name.clone());
                    person.source_id = Some(format!("{}:{}", key.0, key.1));
                    person.provenance = provenance(file, "chat participant");
                    person.attributes.push(attribute(
                        "chatName",
                        format!("{name} ({})", chat.platform),
                        file,
                        "chat participant",
                    ));
                    let id = w.entity(person)?;
                    self.people.insert(key, id);
                    let mut link = NewLink::new("participant_in", id, document);
                    link.directed = true;
                    link.provenance = provenance(file, "chat participant");
                    w.link(link)?;
                    id
                }
            };
            ids.push((name.clone(), platform_id.clone(), id));
        }
        for m in &chat.messages {
            let Some(sender) = &m.sender else { continue };
            let Some(&(_, _, from)) = ids
                .iter()
                .find(|(n, pid, _)| n == sender && (m.sender_id.is_none() || *pid == m.sender_id))
            else {
                continue;
            };
            let record = if chat.platform == "whatsapp" {
                format!("line {}", m.line)
            } else {
                format!("message {}", m.line)
            };
            let time = EventTime {
                start_ms: m.time_ms,
                end_ms: None,
                original_text: Some(m.time_text.clone()),
                original_zone: Some(self.opts.time_zone.name().to_string()),
            };
            let mut event = NewEvent::new("Message", time);
            event.provenance = provenance(file, &record);
            event
                .participants
                .push(NewParticipant::new(ParticipantRole::From, from));
            for (_, _, other) in &ids {
                if *other != from {
                    event
                        .participants
                        .push(NewParticipant::new(ParticipantRole::To, *other));
                }
            }
            let text: String = m
                .text
                .chars()
                .take(self.opts.limits.max_field_bytes / 4)
                .collect();
            event
                .attributes
                .push(attribute("text", text, file, &record));
            event
                .attributes
                .push(attribute("platform", chat.platform, file, &record));
            w.event(event)?;
        }
        Ok(())
    }
}

/// One line of a folder batch's manifest, whose SHA-256 is the batch's source hash.
fn manifest_line(sha256: &str, name: &str) -> String {
    format!("{sha256}  {name}\n")
}

/// A file's name in a folder batch: its path under the folder, with `/` between parts on
/// every system, so that the manifest is the same wherever the folder is checked.
fn relative_name(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The SHA-256 of a folder's manifest as a document import computes it (the files it could
/// read, with the default bounds), for `copkit verify-sources`. `None` when cancelled.
pub fn folder_manifest_sha256(
    root: &Path,
    cancel: &CancelToken,
) -> Result<Option<String>, IoError> {
    let opts = DocumentOptions::default();
    let mut manifest = Sha256::new();
    for path in collect_files(root, &opts)? {
        if cancel.is_cancelled() {
            return Ok(None);
        }
        if let Ok(src) = crate::io::read_source(&path, &opts.limits) {
            manifest.update(manifest_line(&src.sha256, &relative_name(root, &path)));
        }
    }
    Ok(Some(hex::encode(manifest.finalize())))
}

/// A file read and hashed in the first pass.
struct Listed {
    path: PathBuf,
    /// Relative to the folder imported (the file name for one file).
    name: String,
    read: Result<(String, u64), String>,
}

/// Imports a file or a folder of documents as one batch.
pub fn import_documents(
    case: &mut Case,
    source: &Path,
    opts: &DocumentOptions,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<DocumentReport, IoError> {
    let meta = std::fs::metadata(source).map_err(|e| IoError::Read {
        path: source.to_path_buf(),
        source: e,
    })?;
    let folder = meta.is_dir();
    let paths = if folder {
        collect_files(source, opts)?
    } else {
        vec![source.to_path_buf()]
    };
    if paths.is_empty() {
        return Err(IoError::Empty {
            path: source.to_path_buf(),
            what: "the folder holds no files; there is nothing to import",
        });
    }
    // First pass: every file hashed, for the batch's manifest (the SHA-256 of the sorted list
    // of each file's hash and name), which is the batch's source hash.
    let mut listed = Vec::with_capacity(paths.len());
    let mut manifest = Sha256::new();
    let mut total_bytes = 0u64;
    for (n, path) in paths.into_iter().enumerate() {
        if cancel.is_cancelled() {
            return Err(IoError::Cancelled);
        }
        if n % 256 == 0 {
            progress.report(None, &format!("hashing file {}", n + 1));
        }
        let name = if folder {
            relative_name(source, &path)
        } else {
            path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        };
        let read = crate::io::read_source(&path, &opts.limits)
            .map(|s| (s.sha256, s.bytes.len() as u64))
            .map_err(|e| e.to_string());
        if let Ok((sha, bytes)) = &read {
            manifest.update(manifest_line(sha, &name));
            total_bytes += bytes;
        }
        listed.push(Listed { path, name, read });
    }
    if !folder && let Err(reason) = &listed[0].read {
        return Err(IoError::Refused {
            path: source.to_path_buf(),
            reason: reason.clone(),
        });
    }
    let (source_sha256, source_bytes) = if folder {
        (hex::encode(manifest.finalize()), total_bytes)
    } else {
        match &listed[0].read {
            Ok((sha, bytes)) => (sha.clone(), *bytes),
            Err(_) => (String::new(), 0),
        }
    };
    let batch = NewBatch {
        kind: "import".into(),
        description: opts.description.clone().unwrap_or_else(|| {
            if folder {
                format!(
                    "documents: folder {} ({} files)",
                    source.display(),
                    listed.len()
                )
            } else {
                format!("document: {}", source.display())
            }
        }),
        source_path: Some(source.display().to_string()),
        source_sha256: Some(source_sha256),
        source_bytes: Some(source_bytes),
        spec: Some(serde_json::json!({
            "documents": {
                "files": listed.len(),
                "source_sha256_is": if folder { "SHA-256 of the lines 'FILE_SHA256  RELATIVE_PATH', sorted by path" } else { "SHA-256 of the file" },
                "format": opts.format.map(DocFormat::flag),
                "encoding": opts.encoding,
                "time_zone": opts.time_zone.name(),
            }
        })),
        review_date: None,
        grading: None,
    };
    let total = listed.len();
    let result = case.import_streamed(batch, |w| -> Result<Vec<FileOutcome>, IoError> {
        let mut writing = Writing {
            opts,
            people: FxHashMap::default(),
        };
        let mut outcomes = Vec::with_capacity(total);
        for (n, file) in listed.iter().enumerate() {
            if cancel.is_cancelled() {
                return Err(IoError::Cancelled);
            }
            progress.report(
                Some(n as f32 / total as f32),
                &format!("reading {} ({} of {total})", file.name, n + 1),
            );
            let outcome = match &file.read {
                Err(reason) => Err(Ok(reason.clone())),
                Ok((sha, _)) => {
                    write_file(w, &mut writing, file, sha).map_err(|e| match e {
                        Failure::File(reason) => Ok(reason),
                        Failure::Store(store) => Err(store),
                    })
                }
            };
            let result = match outcome {
                Ok(summary) => Ok(summary),
                Err(Ok(reason)) => Err(reason),
                Err(Err(store)) => return Err(IoError::Store(store)),
            };
            outcomes.push(FileOutcome {
                path: file.path.clone(),
                sha256: file.read.as_ref().ok().map(|(s, _)| s.clone()),
                result,
            });
        }
        if outcomes.iter().all(|o| o.result.is_err()) {
            let first = outcomes
                .iter()
                .find_map(|o| o.result.as_ref().err().map(|e| (o.path.clone(), e.clone())));
            let (path, reason) = first.unwrap_or_else(|| (source.to_path_buf(), String::new()));
            return Err(if folder {
                IoError::Refused {
                    path: source.to_path_buf(),
                    reason: format!(
                        "no file could be imported, so nothing was (the case is unchanged); first: {}: {reason}",
                        path.display()
                    ),
                }
            } else {
                IoError::Refused {
                    path,
                    reason: format!("{reason}; nothing was imported (the case is unchanged)"),
                }
            });
        }
        Ok(outcomes)
    });
    let (applied, files) = result.map_err(|e| match e {
        IoError::Store(store) => IoError::Store(store.naming_case(case.path())),
        other => other,
    })?;
    Ok(DocumentReport {
        batch: applied.batch,
        files,
    })
}

/// Reads one listed file again (its hash must not have changed since the first pass) and
/// writes what it holds. A file's rows are written only once it has been read whole, so a
/// failing file leaves none behind, except that an attachment which fails is reported with
/// its mail and the mail kept.
fn write_file(
    w: &mut BatchWriter<'_>,
    writing: &mut Writing<'_>,
    file: &Listed,
    sha: &str,
) -> Result<FileSummary, Failure> {
    let src = crate::io::read_source(&file.path, &writing.opts.limits)
        .map_err(|e| Failure::File(e.to_string()))?;
    if src.sha256 != sha {
        return Err(Failure::File(
            "the file changed while the folder was being imported; import it again".into(),
        ));
    }
    if src.bytes.is_empty() {
        return Err(Failure::File("the file is empty (0 bytes)".into()));
    }
    let mut summary = FileSummary::default();
    writing.write(
        w,
        &file.name,
        &file.name,
        "file",
        &src.bytes,
        0,
        &mut summary,
    )?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_content_then_name() {
        assert_eq!(
            DocFormat::detect("a.bin", b"%PDF-1.4\n"),
            Some(DocFormat::Pdf)
        );
        assert_eq!(
            DocFormat::detect("x", b"From: a@b.c\nTo: d@e.f\nSubject: hi\n\nbody"),
            Some(DocFormat::Eml)
        );
        assert_eq!(
            DocFormat::detect(
                "chat.txt",
                b"12/03/2024, 14:05 - Anna: hi\n12/03/2024, 14:06 - Ben: yo\n"
            ),
            Some(DocFormat::WhatsApp)
        );
        assert_eq!(
            DocFormat::detect("page", b"<!DOCTYPE html><html><body>x</body></html>"),
            Some(DocFormat::Html)
        );
        assert_eq!(
            DocFormat::detect(
                "result.json",
                b"{\n \"name\": \"Anna\",\n \"type\": \"personal_chat\",\n \"messages\": [\n"
            ),
            Some(DocFormat::Telegram)
        );
        assert_eq!(
            DocFormat::detect("notes.txt", b"caf\xe9 au lait"),
            Some(DocFormat::Text)
        );
        assert_eq!(DocFormat::detect("calls.csv", b"a,b\n1,2\n"), None);
        assert_eq!(
            DocFormat::detect("photo.jpg", b"\xff\xd8\xff\xe0\0\x10JFIF\0"),
            None
        );
    }

    #[test]
    fn json_depth_is_bounded_before_parsing() {
        assert!(check_json_depth("[[[[1]]]]", 4).is_ok());
        assert!(check_json_depth("[[[[[1]]]]]", 4).is_err());
        assert!(check_json_depth("[\"[[[[[[\"]", 2).is_ok());
    }
}
