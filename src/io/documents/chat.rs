//! Chat exports: WhatsApp's text export ("Export chat", Android's `12/03/2024, 14:05 - Anna:
//! text` and iOS's `[12/03/2024, 14:05:33] Anna: text` lines; lines that do not start a
//! message continue the one before) and Telegram Desktop's JSON export (`result.json` of one
//! chat). Each message becomes an event from its sender to the chat's other participants, with
//! its time and text; the participants become Person entities; the transcript is the chat's
//! Document. The exports carry no time zone: times are read in the zone the analyst gives
//! (UTC by default), and the text as written is kept with each event.

use super::{Chat, ChatMessage, Extracted, Page, text};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// Messages per page of the transcript, so that a hit's page is a findable place.
const MESSAGES_PER_PAGE: usize = 500;
/// The most messages one chat may hold.
const MAX_MESSAGES: usize = 5_000_000;

/// A WhatsApp line's head: the date's three numbers, the time, and where the rest starts.
struct Head<'a> {
    date: [u32; 3],
    time: NaiveTime,
    stamp: &'a str,
    rest: &'a str,
}

fn parse_time(s: &str) -> Option<NaiveTime> {
    let s = s.trim().replace(['\u{202f}', '\u{a0}'], " ");
    let (clock, meridiem) = match s.rsplit_once(' ') {
        Some((c, m)) if m.eq_ignore_ascii_case("am") || m.eq_ignore_ascii_case("pm") => {
            (c.to_string(), Some(m.eq_ignore_ascii_case("pm")))
        }
        _ => (s.clone(), None),
    };
    let mut parts = clock.split([':', '.']);
    let mut hour: u32 = parts.next()?.trim().parse().ok()?;
    let minute: u32 = parts.next()?.trim().parse().ok()?;
    let second: u32 = match parts.next() {
        Some(p) => p.trim().parse().ok()?,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    if let Some(pm) = meridiem {
        if hour == 0 || hour > 12 {
            return None;
        }
        hour = match (hour, pm) {
            (12, false) => 0,
            (12, true) => 12,
            (h, true) => h + 12,
            (h, false) => h,
        };
    }
    NaiveTime::from_hms_opt(hour, minute, second)
}

fn parse_head(line: &str) -> Option<Head<'_>> {
    let line = line.trim_start_matches(['\u{200e}', '\u{feff}']);
    let (inner, rest) = if let Some(after) = line.strip_prefix('[') {
        let end = after.find(']')?;
        (&after[..end], after[end + 1..].trim_start())
    } else {
        let end = line.find(" - ")?;
        (&line[..end], &line[end + 3..])
    };
    let (date, time) = inner.split_once(',').or_else(|| inner.split_once(' '))?;
    let numbers: Vec<u32> = date
        .trim()
        .split(['/', '.', '-'])
        .map(|n| n.trim().parse().ok())
        .collect::<Option<Vec<_>>>()?;
    let date: [u32; 3] = numbers.try_into().ok()?;
    if date[2] > 9999 || date[0] > 31 || date[1] > 31 {
        return None;
    }
    let time = parse_time(time)?;
    Some(Head {
        date,
        time,
        stamp: inner,
        rest,
    })
}

/// Whether a text looks like a WhatsApp export: its first non-empty lines start messages.
pub(crate) fn looks_like_whatsapp(text: &str) -> bool {
    let heads: Vec<bool> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(5)
        .map(|l| parse_head(l).is_some())
        .collect();
    !heads.is_empty() && heads.iter().filter(|h| **h).count() * 2 > heads.len() && heads[0]
}

/// Splits `Name: text` (a message) from a system line ("Messages are end-to-end encrypted").
fn sender_and_text(rest: &str) -> (Option<&str>, &str) {
    match rest.split_once(": ") {
        Some((name, text)) if !name.is_empty() && name.len() <= 100 && !name.contains('\n') => {
            (Some(name.trim()), text)
        }
        _ => (None, rest),
    }
}

pub(crate) fn extract_whatsapp(
    bytes: &[u8],
    forced_encoding: Option<&str>,
    zone: chrono_tz::Tz,
) -> Result<Extracted, String> {
    let (transcript, encoding) = text::decode(bytes, forced_encoding)?;
    // Day first unless a first number over 12 never appears and a second one does.
    let mut first_over_12 = false;
    let mut second_over_12 = false;
    for line in transcript.lines() {
        if let Some(h) = parse_head(line) {
            first_over_12 |= h.date[0] > 12;
            second_over_12 |= h.date[1] > 12;
        }
    }
    let month_first = second_over_12 && !first_over_12;
    let mut messages: Vec<ChatMessage> = Vec::new();
    let mut participants: Vec<String> = Vec::new();
    for (n, line) in transcript.lines().enumerate() {
        let Some(head) = parse_head(line) else {
            // A continuation line of the message before (or text before the first message).
            if let Some(last) = messages.last_mut() {
                last.text.push('\n');
                last.text.push_str(line);
            }
            continue;
        };
        let [a, b, y] = head.date;
        let (day, month) = if month_first { (b, a) } else { (a, b) };
        let year = if y < 100 { 2000 + y } else { y };
        let date = NaiveDate::from_ymd_opt(year as i32, month, day)
            .ok_or_else(|| format!("line {}: '{}' is not a valid date", n + 1, head.stamp))?;
        let local = NaiveDateTime::new(date, head.time);
        let time_ms = super::local_to_utc_ms(local, zone).ok_or_else(|| {
            format!(
                "line {}: '{}' does not exist in time zone {zone} (a clock change)",
                n + 1,
                head.stamp
            )
        })?;
        let (sender, body) = sender_and_text(head.rest);
        if let Some(s) = sender
            && !participants.iter().any(|p| p == s)
        {
            participants.push(s.to_string());
        }
        if messages.len() >= MAX_MESSAGES {
            return Err(format!("more than {MAX_MESSAGES} messages in one chat"));
        }
        messages.push(ChatMessage {
            time_ms,
            time_text: head.stamp.trim().to_string(),
            sender: sender.map(str::to_string),
            sender_id: None,
            text: body.to_string(),
            line: n + 1,
        });
    }
    if messages.is_empty() {
        return Err(
            "no message line found (a WhatsApp export line starts with its date and time)".into(),
        );
    }
    let mut out = transcript_document(&messages, "whatsapp");
    out.encoding = Some(encoding);
    out.chat = Some(Chat {
        platform: "whatsapp",
        participants: participants.into_iter().map(|p| (p, None)).collect(),
        messages,
    });
    Ok(out)
}

/// The chat's Document: the messages as lines, a page per [`MESSAGES_PER_PAGE`].
fn transcript_document(messages: &[ChatMessage], format: &'static str) -> Extracted {
    let mut out = Extracted::new(format);
    for chunk in messages.chunks(MESSAGES_PER_PAGE) {
        let mut page = String::new();
        for m in chunk {
            page.push_str(&m.time_text);
            page.push_str(" - ");
            if let Some(s) = &m.sender {
                page.push_str(s);
                page.push_str(": ");
            }
            page.push_str(&m.text);
            page.push('\n');
        }
        out.pages.push(Page {
            text: page,
            needs_ocr: false,
        });
    }
    out
}

/// Whether JSON text looks like a Telegram chat export.
pub(crate) fn looks_like_telegram(head: &str) -> bool {
    let compact: String = head
        .chars()
        .filter(|c| !c.is_whitespace())
        .take(4096)
        .collect();
    compact.starts_with('{')
        && compact.contains("\"messages\":[")
        && compact.contains("\"type\":\"")
}

/// Telegram's `text` field: a string, or a list of strings and `{type, text}` pieces.
fn telegram_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(parts) => parts
            .iter()
            .map(|p| match p {
                serde_json::Value::String(s) => s.clone(),
                other => other
                    .get("text")
                    .and_then(|t| t.as_str())
                    .unwrap_or_default()
                    .to_string(),
            })
            .collect(),
        _ => String::new(),
    }
}

pub(crate) fn extract_telegram(
    bytes: &[u8],
    zone: chrono_tz::Tz,
    max_json_depth: usize,
) -> Result<Extracted, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 JSON ({e})"))?;
    super::check_json_depth(text, max_json_depth)?;
    let root: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not valid JSON ({e})"))?;
    let list = root
        .get("messages")
        .and_then(|m| m.as_array())
        .ok_or("no \"messages\" list: a Telegram export of one chat (result.json) has one")?;
    let mut messages = Vec::new();
    let mut participants: Vec<(String, Option<String>)> = Vec::new();
    for (n, m) in list.iter().enumerate() {
        let record = format!("message {}", n + 1);
        let kind = m.get("type").and_then(|t| t.as_str()).unwrap_or("message");
        let sender = m
            .get("from")
            .or_else(|| m.get("actor"))
            .and_then(|f| f.as_str())
            .map(str::to_string);
        let sender_id = m
            .get("from_id")
            .or_else(|| m.get("actor_id"))
            .and_then(|f| f.as_str())
            .map(str::to_string);
        let date_text = m
            .get("date")
            .and_then(|d| d.as_str())
            .ok_or_else(|| format!("{record}: no \"date\""))?
            .to_string();
        let time_ms = match m
            .get("date_unixtime")
            .and_then(|d| d.as_str())
            .and_then(|d| d.parse::<i64>().ok())
        {
            Some(seconds) => seconds.saturating_mul(1000),
            None => {
                let local = NaiveDateTime::parse_from_str(&date_text, "%Y-%m-%dT%H:%M:%S")
                    .map_err(|e| format!("{record}: date '{date_text}' ({e})"))?;
                super::local_to_utc_ms(local, zone)
                    .ok_or_else(|| format!("{record}: '{date_text}' does not exist in {zone}"))?
            }
        };
        if let Some(s) = &sender
            && !participants
                .iter()
                .any(|(p, id)| p == s && *id == sender_id)
        {
            participants.push((s.clone(), sender_id.clone()));
        }
        let body = telegram_text(m.get("text").unwrap_or(&serde_json::Value::Null));
        let body = if kind == "message" {
            body
        } else {
            let action = m.get("action").and_then(|a| a.as_str()).unwrap_or(kind);
            format!("[{action}] {body}").trim_end().to_string()
        };
        if messages.len() >= MAX_MESSAGES {
            return Err(format!("more than {MAX_MESSAGES} messages in one chat"));
        }
        messages.push(ChatMessage {
            time_ms,
            time_text: date_text,
            sender: if kind == "message" { sender } else { None },
            sender_id: if kind == "message" { sender_id } else { None },
            text: body,
            line: n + 1,
        });
    }
    if messages.is_empty() {
        return Err("the chat has no messages".into());
    }
    let mut out = transcript_document(&messages, "telegram");
    out.title = root
        .get("name")
        .and_then(|n| n.as_str())
        .map(|n| format!("Telegram chat: {n}"));
    out.chat = Some(Chat {
        platform: "telegram",
        participants,
        messages,
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn android_and_ios_heads_parse() {
        let h = parse_head("12/03/2024, 14:05 - Anna: see you").unwrap();
        assert_eq!(h.date, [12, 3, 2024]);
        assert_eq!(h.rest, "Anna: see you");
        let h = parse_head("\u{200e}[3/12/24, 2:05:33\u{202f}PM] Ben: ok").unwrap();
        assert_eq!(h.time, NaiveTime::from_hms_opt(14, 5, 33).unwrap());
        assert_eq!(h.rest, "Ben: ok");
        assert!(parse_head("just a continuation line").is_none());
    }

    #[test]
    fn continuation_lines_and_system_lines() {
        let export = "12/03/2024, 14:05 - Messages are end-to-end encrypted.\n\
                      12/03/2024, 14:06 - Anna: first line\nsecond line\n\
                      13/03/2024, 09:00 - Ben: reply\n";
        let out = extract_whatsapp(export.as_bytes(), None, chrono_tz::UTC).unwrap();
        let chat = out.chat.unwrap();
        assert_eq!(chat.messages.len(), 3);
        assert_eq!(chat.messages[0].sender, None);
        assert_eq!(chat.messages[1].text, "first line\nsecond line");
        assert_eq!(chat.participants.len(), 2);
    }
}
