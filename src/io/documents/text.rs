//! Plain text in any common encoding, and HTML as its visible text. The encoding is the one
//! the analyst names, else the byte-order mark's, else UTF-8 when the bytes are valid UTF-8,
//! else chardetng's guess (the detector Firefox uses for unlabelled pages); the report shows
//! which, so a wrong guess can be overridden with `--encoding`.

use super::{Extracted, Page};
use encoding_rs::Encoding;

/// Decodes text bytes, returning the text and the name of the encoding used.
pub(crate) fn decode(bytes: &[u8], forced: Option<&str>) -> Result<(String, String), String> {
    let encoding = match forced {
        Some(label) => Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
            format!(
                "'{label}' is not an encoding this program knows; use a WHATWG label such as \
                 utf-8, windows-1252, iso-8859-1, iso-8859-15, utf-16le, shift_jis, gb18030 or koi8-r"
            )
        })?,
        None => match Encoding::for_bom(bytes) {
            Some((enc, _)) => enc,
            None if std::str::from_utf8(bytes).is_ok() => encoding_rs::UTF_8,
            None => {
                let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
                detector.feed(bytes, true);
                detector.guess(None, chardetng::Utf8Detection::Allow)
            }
        },
    };
    // With a BOM the BOM's encoding wins and the BOM is dropped, as browsers do.
    let (text, used, _) = encoding.decode(bytes);
    Ok((text.into_owned(), used.name().to_string()))
}

/// A plain-text document: one page, or one page per form feed (how text exports of paged
/// documents mark their pages).
pub(crate) fn extract_text(bytes: &[u8], forced: Option<&str>) -> Result<Extracted, String> {
    let (text, encoding) = decode(bytes, forced)?;
    let pages = text
        .split('\u{c}')
        .map(|p| Page {
            text: p.to_string(),
            needs_ocr: false,
        })
        .collect();
    Ok(Extracted {
        encoding: Some(encoding),
        pages,
        ..Extracted::new("text")
    })
}

/// The charset a page declares in its first 1024 bytes (`<meta charset=…>` or the
/// `http-equiv` form), if any.
fn declared_charset(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(1024)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let at = head.find("charset=")? + "charset=".len();
    let value: String = head[at..]
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        .collect();
    (!value.is_empty()).then_some(value)
}

/// Elements whose content is not text a reader sees.
const HIDDEN: &[&str] = &["script", "style", "noscript", "template"];
/// Elements that start a new line.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "section",
    "article",
    "header",
    "footer",
    "blockquote",
    "pre",
    "hr",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "title",
    "address",
    "form",
    "main",
    "nav",
    "aside",
];

/// An HTML page's visible text (tags removed, scripts and styles left out, block elements on
/// their own lines, character references resolved) and its title. A tolerant scanner, not a
/// parser: real pages are rarely well-formed, and only the text is wanted.
pub(crate) fn extract_html(bytes: &[u8], forced: Option<&str>) -> Result<Extracted, String> {
    let declared = declared_charset(bytes);
    let label = forced.map(str::to_string).or_else(|| {
        declared.filter(|d| {
            Encoding::for_label(d.as_bytes()).is_some() && Encoding::for_bom(bytes).is_none()
        })
    });
    let (html, encoding) = decode(bytes, label.as_deref())?;
    let (text, title) = html_to_text(&html);
    Ok(Extracted {
        encoding: Some(encoding),
        title,
        pages: vec![Page {
            text,
            needs_ocr: false,
        }],
        ..Extracted::new("html")
    })
}

/// The text and title of an HTML string (also used for HTML mail bodies).
pub(crate) fn html_to_text(html: &str) -> (String, Option<String>) {
    let mut out = String::with_capacity(html.len() / 2);
    let mut title: Option<String> = None;
    let mut in_title = false;
    let mut hidden: Option<String> = None;
    let mut rest = html;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        if rest.starts_with('<') {
            // An unclosed tag runs to the end of the text.
            let (tag, after) = match rest.find('>') {
                Some(e) => (&rest[1..e], &rest[e + 1..]),
                None => (&rest[1..], ""),
            };
            rest = after;
            let closing = tag.starts_with('/');
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase();
            if let Some(h) = &hidden {
                if closing && *h == name {
                    hidden = None;
                }
                continue;
            }
            if name == "title" {
                in_title = !closing;
                if closing {
                    out.push('\n');
                }
                continue;
            }
            if !closing && HIDDEN.contains(&name.as_str()) && !tag.ends_with('/') {
                hidden = Some(name);
                continue;
            }
            if name == "td" || name == "th" {
                out.push('\t');
            } else if BLOCKS.contains(&name.as_str()) && !out.ends_with('\n') {
                out.push('\n');
            }
            continue;
        }
        let end = rest.find('<').unwrap_or(rest.len());
        let chunk = &rest[..end];
        rest = &rest[end..];
        if hidden.is_some() {
            continue;
        }
        let decoded = decode_references(chunk);
        // Runs of white space in HTML are one space.
        let mut collapsed = String::with_capacity(decoded.len());
        let mut space = false;
        for c in decoded.chars() {
            if c.is_whitespace() && c != '\u{a0}' {
                if !space {
                    collapsed.push(' ');
                }
                space = true;
            } else {
                collapsed.push(if c == '\u{a0}' { ' ' } else { c });
                space = false;
            }
        }
        if in_title {
            title.get_or_insert_with(String::new).push_str(&collapsed);
        } else {
            if out.ends_with('\n') || out.is_empty() {
                out.push_str(collapsed.trim_start());
            } else {
                out.push_str(&collapsed);
            }
        }
    }
    let lines: Vec<&str> = out.lines().map(str::trim_end).collect();
    let mut text = lines.join("\n");
    while text.contains("\n\n\n") {
        text = text.replace("\n\n\n", "\n\n");
    }
    let title = title
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    (text.trim().to_string(), title)
}

/// Resolves HTML character references (numeric, and the common named ones; an unknown name
/// stays as written).
fn decode_references(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest[1..]
            .find(|c: char| c == ';' || c.is_whitespace() || c == '&')
            .map(|e| e + 1);
        let resolved = end
            .filter(|&e| rest.as_bytes().get(e) == Some(&b';'))
            .and_then(|e| {
                let name = &rest[1..e];
                let c = if let Some(num) = name.strip_prefix('#') {
                    let n = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => num.parse().ok(),
                    };
                    n.and_then(char::from_u32)
                } else {
                    named_reference(name)
                };
                c.map(|c| (c, e + 1))
            });
        match resolved {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn named_reference(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "eacute" => 'é',
        "egrave" => 'è',
        "agrave" => 'à',
        "aacute" => 'á',
        "ouml" => 'ö',
        "uuml" => 'ü',
        "auml" => 'ä',
        "szlig" => 'ß',
        "ccedil" => 'ç',
        "ntilde" => 'ñ',
        "euro" => '€',
        "copy" => '©',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "laquo" => '«',
        "raquo" => '»',
        "rsquo" => '’',
        "lsquo" => '‘',
        "rdquo" => '”',
        "ldquo" => '“',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_is_detected_and_utf8_kept() {
        let latin1 = b"Le caf\xe9 de la gare, o\xf9 Jos\xe9 attendait l'\xe9t\xe9 pr\xe9c\xe9dent.";
        let (text, enc) = decode(latin1, None).unwrap();
        assert!(text.contains("café") && text.contains("José"), "{text}");
        assert_eq!(enc, "windows-1252");
        let (text, enc) = decode("Zoë".as_bytes(), None).unwrap();
        assert_eq!((text.as_str(), enc.as_str()), ("Zoë", "UTF-8"));
        let (text, _) = decode(b"caf\xe9", Some("iso-8859-1")).unwrap();
        assert_eq!(text, "café");
        assert!(
            decode(b"x", Some("klingon"))
                .unwrap_err()
                .contains("klingon")
        );
    }

    #[test]
    fn html_keeps_visible_text_only() {
        let (text, title) = html_to_text(
            "<html><head><title>Report &amp; notes</title><style>p{color:red}</style></head>\
             <body><p>Meeting at <b>Caf&eacute;</b>&nbsp;Central</p><script>var x = '<p>';</script>\
             <!-- hidden --><div>Second&#32;line &#x41;</div></body></html>",
        );
        assert_eq!(title.as_deref(), Some("Report & notes"));
        assert_eq!(text, "Meeting at Café Central\nSecond line A");
    }

    #[test]
    fn broken_markup_never_panics() {
        for html in [
            "<",
            "<é",
            "a<b",
            "&",
            "&#xZZ;",
            "&#1114112;",
            "<!--",
            "<script>é",
            "x &é; y",
        ] {
            let _ = html_to_text(html);
        }
        assert_eq!(html_to_text("a &unknown; b").0, "a &unknown; b");
    }
}
