//! E-mail: one EML message, or an MBOX file of many, parsed with mail-parser. The headers
//! become structured values of the mail's Document (from, to, cc, date, subject, message id);
//! the body is the plain-text part (else the HTML part's text); each attachment is handed back
//! to be imported as a Document of its own (by its name and content, through the same
//! formats), linked to the mail.

use super::{Attachment, Extracted, Page, text};
use mail_parser::{MessageParser, MimeHeaders};

/// The most messages one MBOX file may hold.
pub(crate) const MAX_MESSAGES: usize = 1_000_000;

fn addresses(list: Option<&mail_parser::Address<'_>>) -> Vec<String> {
    let Some(list) = list else { return Vec::new() };
    list.iter()
        .filter_map(|a| match (a.name(), a.address()) {
            (Some(n), Some(addr)) if !n.trim().is_empty() => Some(format!("{} <{addr}>", n.trim())),
            (_, Some(addr)) => Some(addr.to_string()),
            (Some(n), None) => Some(n.to_string()),
            (None, None) => None,
        })
        .collect()
}

/// One message.
pub(crate) fn extract_eml(bytes: &[u8]) -> Result<Extracted, String> {
    let message = MessageParser::default()
        .parse(bytes)
        .ok_or("not a readable e-mail message (no header could be parsed)")?;
    if message.headers().is_empty() {
        return Err("not an e-mail message: it has no headers".into());
    }
    let mut out = Extracted::new("email");
    for (property, values) in [
        ("from", addresses(message.from())),
        ("to", addresses(message.to())),
        ("cc", addresses(message.cc())),
    ] {
        for value in values {
            out.attributes.push((property, value));
        }
    }
    if let Some(date) = message.date() {
        out.attributes.push(("date", date.to_rfc3339()));
    }
    if let Some(subject) = message.subject() {
        out.attributes.push(("subject", subject.to_string()));
        out.title = Some(subject.to_string()).filter(|s| !s.trim().is_empty());
    }
    if let Some(id) = message.message_id() {
        out.attributes.push(("messageId", id.to_string()));
    }
    let body = match message.body_text(0) {
        Some(t) => t.into_owned(),
        None => message
            .body_html(0)
            .map(|h| text::html_to_text(&h).0)
            .unwrap_or_default(),
    };
    out.pages.push(Page {
        text: body,
        needs_ocr: false,
    });
    for (n, part) in message.attachments().enumerate() {
        let name = part
            .attachment_name()
            .map(str::to_string)
            .unwrap_or_else(|| format!("attachment {}", n + 1));
        let bytes = match part.message() {
            Some(inner) => inner.raw_message().to_vec(),
            None => part.contents().to_vec(),
        };
        out.attachments.push(Attachment { name, bytes });
    }
    Ok(out)
}

/// The messages of an MBOX file, each as its raw bytes with its position ("message 3").
pub(crate) fn split_mbox(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for message in mail_parser::mailbox::mbox::MessageIterator::new(bytes) {
        let message = message.map_err(|e| format!("message {}: {e}", out.len() + 1))?;
        if out.len() >= MAX_MESSAGES {
            return Err(format!(
                "more than {MAX_MESSAGES} messages in one MBOX file"
            ));
        }
        out.push(message.unwrap_contents());
    }
    if out.is_empty() {
        return Err(
            "no message found: an MBOX file begins each message with a 'From ' line".into(),
        );
    }
    Ok(out)
}
