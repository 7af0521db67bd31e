//! Word-processor files: DOCX (Office Open XML, `word/document.xml`) and ODT (OpenDocument,
//! `content.xml`). The zip is checked first (`zipcheck.rs`: entry count, declared size,
//! inflation ratio, names), each part is read through a bound, and the XML is read with
//! quick-xml refusing DOCTYPEs and nesting past the depth bound. Paragraphs become lines;
//! explicit page breaks start a new page; the title and dates come from the metadata part.

use super::{Extracted, Page};
use crate::io::Limits;
use quick_xml::events::Event as X;
use std::io::{Cursor, Read};
use std::path::Path;

/// Reads one part of the archive as UTF-8 text, bounded by the zip size limit.
fn read_part(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    limits: &Limits,
) -> Result<Option<String>, String> {
    let Ok(file) = archive.by_name(name) else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    file.take(limits.max_zip_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{name}: could not be inflated ({e}); the file may be damaged"))?;
    if bytes.len() as u64 > limits.max_zip_bytes {
        return Err(format!(
            "{name}: inflates past max_zip_bytes ({}); raise the bound if the file is trusted",
            limits.max_zip_bytes
        ));
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|e| format!("{name}: not UTF-8 XML ({e})"))
}

/// Opens and checks the zip container.
fn open_zip<'a>(
    path: &Path,
    bytes: &'a [u8],
    limits: &Limits,
) -> Result<zip::ZipArchive<Cursor<&'a [u8]>>, String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| format!("not a readable zip container ({e}); the file may be truncated"))?;
    crate::io::zipcheck::check_zip(path, &mut archive, limits).map_err(|e| e.to_string())?;
    Ok(archive)
}

/// What the body reader does with each element, by local name.
struct Vocabulary {
    /// Ends a paragraph (a line break after it).
    paragraph: &'static [&'static str],
    /// Holds text.
    text: &'static [&'static str],
    tab: &'static [&'static str],
    line_break: &'static [&'static str],
    /// One or more spaces (ODT's `text:s`, with `text:c` the count).
    space: &'static str,
}

const DOCX: Vocabulary = Vocabulary {
    paragraph: &["p"],
    text: &["t", "delText"],
    tab: &["tab"],
    line_break: &["br", "cr"],
    space: "",
};

const ODT: Vocabulary = Vocabulary {
    paragraph: &["p", "h"],
    text: &["p", "h", "span", "a"],
    tab: &["tab"],
    line_break: &["line-break"],
    space: "s",
};

/// Reads the body's text into pages.
fn body_pages(
    xml: &str,
    part: &str,
    vocab: &Vocabulary,
    limits: &Limits,
) -> Result<Vec<Page>, String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut pages = vec![String::new()];
    let mut depth = 0usize;
    // Depth of the innermost open text element (DOCX: inside <w:t>; ODT: any paragraph).
    let mut text_depth: Vec<usize> = Vec::new();
    loop {
        let position = reader.buffer_position();
        let event = reader.read_event().map_err(|e| {
            format!(
                "{part}, byte {}: malformed XML ({e})",
                reader.error_position()
            )
        })?;
        let current = pages.last_mut().ok_or("no page")?;
        match event {
            X::DocType(_) => {
                return Err(format!(
                    "{part}: declares a DOCTYPE; office files have none and entity declarations are refused"
                ));
            }
            X::Start(e) => {
                depth += 1;
                if depth > limits.max_xml_depth {
                    return Err(format!(
                        "{part}, byte {position}: elements nested deeper than max_xml_depth ({})",
                        limits.max_xml_depth
                    ));
                }
                let name = e.local_name();
                let name: &str = name.as_ref();
                if vocab.text.contains(&name) {
                    text_depth.push(depth);
                }
            }
            X::Empty(e) => {
                let name = e.local_name();
                let name: &str = name.as_ref();
                if vocab.tab.contains(&name) {
                    current.push('\t');
                } else if vocab.line_break.contains(&name) {
                    let page_break = e
                        .attributes()
                        .flatten()
                        .any(|a| a.key.local_name().as_ref() == "type" && &*a.value == "page");
                    if page_break {
                        pages.push(String::new());
                    } else {
                        current.push('\n');
                    }
                } else if !vocab.space.is_empty() && name == vocab.space {
                    let count = e
                        .attributes()
                        .flatten()
                        .find(|a| a.key.local_name().as_ref() == "c")
                        .and_then(|a| a.value.parse::<usize>().ok())
                        .unwrap_or(1)
                        .min(1000);
                    current.push_str(&" ".repeat(count));
                } else if vocab.paragraph.contains(&name) {
                    current.push('\n');
                }
            }
            X::End(e) => {
                let name = e.local_name();
                let name: &str = name.as_ref();
                if text_depth.last() == Some(&depth) {
                    text_depth.pop();
                }
                if vocab.paragraph.contains(&name) {
                    current.push('\n');
                }
                depth = depth.saturating_sub(1);
            }
            X::Text(t) if !text_depth.is_empty() => {
                current.push_str(
                    &t.into_inner()
                        .chars()
                        .collect::<String>()
                        .replace(['\n', '\r'], " "),
                );
            }
            X::CData(t) if !text_depth.is_empty() => {
                current.push_str(&t.into_inner());
            }
            X::GeneralRef(r) if !text_depth.is_empty() => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match r.into_inner().as_ref() {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    },
                };
                match c {
                    Some(c) => current.push(c),
                    None => {
                        return Err(format!(
                            "{part}, byte {position}: an undeclared entity reference"
                        ));
                    }
                }
            }
            X::Eof => break,
            _ => {}
        }
        if pages.len() as u32 > crate::store::MAX_PAGES_PER_DOCUMENT {
            return Err(format!(
                "{part}: more than {} pages",
                crate::store::MAX_PAGES_PER_DOCUMENT
            ));
        }
    }
    if depth != 0 {
        return Err(format!(
            "{part}: ends before its root element closes; the file may be truncated"
        ));
    }
    Ok(pages
        .into_iter()
        .map(|text| Page {
            text: text.trim_end().to_string(),
            needs_ocr: false,
        })
        .collect())
}

/// The text of the first element with this local name in a metadata part.
fn meta_value(xml: &str, wanted: &str) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut inside = false;
    let mut value = String::new();
    for _ in 0..100_000 {
        match reader.read_event().ok()? {
            X::Start(e) if e.local_name().as_ref() == wanted => inside = true,
            X::Text(t) if inside => value.push_str(&t.into_inner()),
            X::End(_) if inside => {
                let v = value.trim().to_string();
                return (!v.is_empty()).then_some(v);
            }
            X::Eof | X::DocType(_) => return None,
            _ => {}
        }
    }
    None
}

fn metadata(meta: Option<&str>, into: &mut Extracted) {
    let Some(meta) = meta else { return };
    into.title = meta_value(meta, "title");
    if let Some(author) =
        meta_value(meta, "creator").or_else(|| meta_value(meta, "initial-creator"))
    {
        into.attributes.push(("author", author));
    }
    if let Some(date) = meta_value(meta, "created")
        .or_else(|| meta_value(meta, "creation-date"))
        .or_else(|| meta_value(meta, "date"))
    {
        into.attributes
            .push(("date", date.chars().take(10).collect()));
    }
}

/// The text of a DOCX file.
pub(crate) fn extract_docx(
    path: &Path,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Extracted, String> {
    let mut archive = open_zip(path, bytes, limits)?;
    let body = read_part(&mut archive, "word/document.xml", limits)?
        .ok_or("the zip has no word/document.xml, so it is not a Word document (DOCX)")?;
    let mut out = Extracted::new("docx");
    out.pages = body_pages(&body, "word/document.xml", &DOCX, limits)?;
    let meta = read_part(&mut archive, "docProps/core.xml", limits)?;
    metadata(meta.as_deref(), &mut out);
    Ok(out)
}

/// The text of an ODT file.
pub(crate) fn extract_odt(path: &Path, bytes: &[u8], limits: &Limits) -> Result<Extracted, String> {
    let mut archive = open_zip(path, bytes, limits)?;
    let body = read_part(&mut archive, "content.xml", limits)?
        .ok_or("the zip has no content.xml, so it is not an OpenDocument text (ODT)")?;
    let mut out = Extracted::new("odt");
    out.pages = body_pages(&body, "content.xml", &ODT, limits)?;
    let meta = read_part(&mut archive, "meta.xml", limits)?;
    metadata(meta.as_deref(), &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docx_paragraphs_tabs_and_page_breaks() {
        let xml = r#"<?xml version="1.0"?><w:document xmlns:w="x"><w:body>
            <w:p><w:r><w:t>Hello</w:t><w:tab/><w:t xml:space="preserve"> Caf&#233; &amp; co</w:t></w:r></w:p>
            <w:p><w:r><w:br w:type="page"/><w:t>Second page</w:t></w:r></w:p>
            </w:body></w:document>"#;
        let pages = body_pages(xml, "word/document.xml", &DOCX, &Limits::default()).unwrap();
        assert_eq!(pages.len(), 2);
        assert_eq!(pages[0].text, "Hello\t Café & co");
        assert_eq!(pages[1].text, "Second page");
    }

    #[test]
    fn odt_spaces_and_headings() {
        let xml = r#"<office:document-content xmlns:office="o" xmlns:text="t"><office:body><office:text>
            <text:h>Title</text:h><text:p>a<text:s text:c="3"/>b<text:span>c</text:span></text:p>
            </office:text></office:body></office:document-content>"#;
        let pages = body_pages(xml, "content.xml", &ODT, &Limits::default()).unwrap();
        assert_eq!(pages[0].text, "Title\na   bc");
    }

    #[test]
    fn truncated_xml_is_refused() {
        let err = body_pages(
            "<w:document><w:body><w:p><w:t>x</w:t>",
            "word/document.xml",
            &DOCX,
            &Limits::default(),
        )
        .unwrap_err();
        assert!(
            err.contains("truncated") || err.contains("malformed"),
            "{err}"
        );
    }
}
