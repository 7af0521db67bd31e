//! Writing HTML text safely: every value from the case goes through [`escape`], which also
//! breaks URL schemes (`http://`, `https://`, `file:`) in the text, so that a value holding a
//! web address is shown but never becomes something a browser could follow or fetch, and the
//! report stays self-contained whatever the case holds.

/// `text` escaped for HTML text and attribute values, with URL schemes broken by a character
/// reference (shown the same, but no longer a reference).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            ':' if ends_with_scheme(&out) => out.push_str("&#58;"),
            _ => out.push(c),
        }
    }
    out
}

/// Whether the text so far ends in a URL scheme a browser would follow (`http`, `https`,
/// `file`, `ftp`, `data`, `javascript`), case-insensitively.
fn ends_with_scheme(text: &str) -> bool {
    const SCHEMES: [&str; 6] = ["http", "https", "file", "ftp", "data", "javascript"];
    let tail: String = text
        .chars()
        .rev()
        .take(10)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<String>()
        .to_ascii_lowercase();
    SCHEMES.iter().any(|s| tail.ends_with(s))
}

/// A table: a header row and body rows of cells already escaped (or built from escaped
/// parts).
pub fn table(class: &str, header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!("<table class=\"{class}\"><thead><tr>");
    for h in header {
        out.push_str("<th>");
        out.push_str(&escape(h));
        out.push_str("</th>");
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            out.push_str("<td>");
            out.push_str(cell);
            out.push_str("</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_breaks_url_schemes() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        let url = escape("see https://example.org and FILE:///etc/passwd or http://x");
        assert!(!url.to_ascii_lowercase().contains("https:"), "{url}");
        assert!(!url.to_ascii_lowercase().contains("http:"), "{url}");
        assert!(!url.to_ascii_lowercase().contains("file:"), "{url}");
        assert!(url.contains("https&#58;//example.org"));
        // Times and ordinary colons are left alone.
        assert_eq!(escape("12:30 note: ok"), "12:30 note: ok");
    }
}
