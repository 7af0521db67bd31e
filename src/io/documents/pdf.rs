//! The text layer of a PDF, page by page, with lopdf (pure Rust). A page with no text is a
//! scanned page (or a picture): it is kept as an empty page marked `needs_ocr` and counted in
//! the report, never silently empty. Encrypted files, truncated files and files past the page
//! bound are refused with the reason; each page's decompressed content is bounded by lopdf's
//! limit. lopdf is defended against as any parser of hostile input: a panic inside it becomes
//! an error naming the file.

use super::{Extracted, Page};
use crate::store::MAX_PAGES_PER_DOCUMENT;

/// Each page's content streams may inflate to at most this much (a content-stream bomb).
const MAX_PAGE_CONTENT_BYTES: usize = 64 << 20;

pub(crate) fn extract_pdf(bytes: &[u8], max_pages: u32) -> Result<Extracted, String> {
    if !bytes.starts_with(b"%PDF-") {
        return Err("does not begin with %PDF-, so it is not a PDF".into());
    }
    // A PDF ends with %%EOF (a few bytes of trailing garbage are common); without it the file
    // was cut short, and what a repairing reader made of it would be a guess.
    let tail = &bytes[bytes.len().saturating_sub(2048)..];
    if !tail.windows(5).any(|w| w == b"%%EOF") {
        return Err(
            "the file ends without %%EOF: it is truncated (an interrupted copy or download); \
             get a complete copy"
                .into(),
        );
    }
    let max_pages = max_pages.min(MAX_PAGES_PER_DOCUMENT);
    let result = std::panic::catch_unwind(|| read_pages(bytes, max_pages));
    match result {
        Ok(r) => r,
        Err(_) => Err(
            "the PDF reader failed on this file's structure; the file is damaged or \
                       crafted, and nothing of it was imported"
                .into(),
        ),
    }
}

fn read_pages(bytes: &[u8], max_pages: u32) -> Result<Extracted, String> {
    let doc = lopdf::Document::load_mem(bytes)
        .map_err(|e| format!("not a readable PDF ({e}); the file may be damaged"))?;
    if doc.is_encrypted() {
        return Err(
            "the PDF is encrypted; open it with its password and save an unencrypted copy".into(),
        );
    }
    let numbers: Vec<u32> = doc.get_pages().keys().copied().collect();
    if numbers.is_empty() {
        return Err("the PDF has no pages".into());
    }
    if numbers.len() as u64 > u64::from(max_pages) {
        return Err(format!(
            "the PDF has {} pages, over the bound of {max_pages} pages per document",
            numbers.len()
        ));
    }
    let mut out = Extracted::new("pdf");
    for number in numbers {
        let text = doc
            .extract_text_with_limit(&[number], MAX_PAGE_CONTENT_BYTES)
            .map_err(|e| format!("page {number}: its text could not be read ({e})"))?;
        let text = text.trim_end().to_string();
        let needs_ocr = text.trim().is_empty();
        out.pages.push(Page { text, needs_ocr });
    }
    out.title = doc
        .trailer
        .get(b"Info")
        .ok()
        .and_then(|info| info.as_reference().ok())
        .and_then(|id| doc.get_dictionary(id).ok())
        .and_then(|info| info.get(b"Title").ok())
        .and_then(|t| t.as_str().ok())
        .map(|t| String::from_utf8_lossy(t).trim().to_string())
        .filter(|t| !t.is_empty());
    Ok(out)
}
