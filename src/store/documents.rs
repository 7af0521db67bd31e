//! Document text and full-text search. A Document entity's text is kept page by page in
//! `document_pages` (evidence: in the digest, moved aside by a batch's undo, erased by a
//! purge), and the FTS5 table `document_fts` indexes it, kept in step by triggers (schema
//! version 8). Searching reads the index and records the search as a consultation.

use super::Case;
use super::command::BatchWriter;
use super::error::StoreError;
use crate::model::{BatchId, EntityId};
use rusqlite::{Connection, params};
use serde_json::json;

/// The most pages one document may have: a bound for every importer, so that a crafted file
/// cannot make a batch write millions of rows for one document.
pub const MAX_PAGES_PER_DOCUMENT: u32 = 100_000;

/// Marks FTS5 puts around each hit in the page text it highlights: control characters that
/// importers remove from document text (`clean_text`), so they can only be FTS5's.
const HIT_OPEN: char = '\u{1}';
const HIT_CLOSE: char = '\u{2}';

/// One page of a document as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentPage {
    pub entity: EntityId,
    /// 1-based.
    pub page: u32,
    pub text: String,
    /// The source page had no text layer (a scanned page): its text is empty until OCR.
    pub needs_ocr: bool,
}

/// Removes the control characters (other than tab and line breaks) from text that goes into a
/// document page: they carry nothing a reader sees, and the search uses two of them as its
/// hit marks.
pub fn clean_text(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
        .collect()
}

impl BatchWriter<'_> {
    /// Adds one page of text to a Document entity of this batch. The text is cleaned of
    /// control characters ([`clean_text`]); an empty page of a source without a text layer is
    /// written with `needs_ocr`, so that it is counted and shown, never silently empty.
    pub fn document_page(
        &mut self,
        entity: EntityId,
        page: u32,
        text: &str,
        needs_ocr: bool,
    ) -> Result<(), StoreError> {
        if page == 0 || page > MAX_PAGES_PER_DOCUMENT {
            return Err(StoreError::Invalid(format!(
                "page {page} of document {} is outside 1..={MAX_PAGES_PER_DOCUMENT}",
                entity.0
            )));
        }
        let text = clean_text(text);
        self.conn
            .prepare_cached(
                "INSERT INTO document_pages (entity, page, text, needs_ocr) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![entity.0, page, text, needs_ocr])?;
        self.pages += 1;
        Ok(())
    }
}

/// What to search for and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// An FTS5 query: words, "a phrase", prefix*, AND / OR / NOT, NEAR(a b, 10).
    pub text: String,
    pub limit: usize,
    /// The entity type of the document, or its `format` value (pdf, email, chat, …).
    pub doc_type: Option<String>,
    pub batch: Option<BatchId>,
    /// Documents whose `date` is on or after / on or before this (YYYY-MM-DD prefix compared).
    pub from: Option<String>,
    pub to: Option<String>,
    /// Include restricted documents (left out by default, as everywhere else).
    pub include_restricted: bool,
}

impl SearchQuery {
    pub fn new(text: impl Into<String>) -> SearchQuery {
        SearchQuery {
            text: text.into(),
            limit: 50,
            doc_type: None,
            batch: None,
            from: None,
            to: None,
            include_restricted: false,
        }
    }
}

/// A piece of a snippet, hit or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnippetPart {
    pub text: String,
    pub hit: bool,
}

/// One page that matched.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub entity: EntityId,
    pub label: String,
    pub entity_type: String,
    pub page: u32,
    /// FTS5's bm25 rank: lower is better.
    pub rank: f64,
    /// Character offsets (start, end; counted in Unicode scalar values) of every hit in the
    /// page's text.
    pub offsets: Vec<(usize, usize)>,
    /// A few words around the best hits, the hits marked.
    pub snippet: Vec<SnippetPart>,
}

impl SearchHit {
    /// The snippet with each hit between `open` and `close`.
    pub fn snippet_marked(&self, open: &str, close: &str) -> String {
        let mut out = String::new();
        for part in &self.snippet {
            if part.hit {
                out.push_str(open);
                out.push_str(&part.text);
                out.push_str(close);
            } else {
                out.push_str(&part.text);
            }
        }
        out.replace(['\n', '\r', '\t'], " ")
    }
}

/// The character offsets of the marked hits in a highlighted text.
fn hit_offsets(marked: &str) -> Vec<(usize, usize)> {
    let mut offsets = Vec::new();
    let mut position = 0usize;
    let mut start = None;
    for c in marked.chars() {
        match c {
            HIT_OPEN => start = Some(position),
            HIT_CLOSE => {
                if let Some(s) = start.take() {
                    offsets.push((s, position));
                }
            }
            _ => position += 1,
        }
    }
    offsets
}

/// A highlighted snippet split into its parts.
fn snippet_parts(marked: &str) -> Vec<SnippetPart> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut hit = false;
    for c in marked.chars() {
        if c == HIT_OPEN || c == HIT_CLOSE {
            if !current.is_empty() {
                parts.push(SnippetPart {
                    text: std::mem::take(&mut current),
                    hit,
                });
            }
            hit = c == HIT_OPEN;
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        parts.push(SnippetPart { text: current, hit });
    }
    parts
}

/// The error for a query FTS5 cannot parse, worded for the analyst.
fn bad_query(query: &str, e: &rusqlite::Error) -> StoreError {
    let reason = e.to_string();
    StoreError::Invalid(format!(
        "the search \"{query}\" is not a valid query ({reason}); write words, \"a phrase\" in \
         double quotes, prefix* for word beginnings, AND / OR / NOT in capitals between words, \
         NEAR(word other, 10) for words close together; put punctuation inside double quotes"
    ))
}

/// Runs a search on a connection (no audit record: [`Case::search_documents`] adds it).
pub(crate) fn search(conn: &Connection, q: &SearchQuery) -> Result<Vec<SearchHit>, StoreError> {
    if q.text.trim().is_empty() {
        return Err(StoreError::Invalid(
            "the search is empty; give words to search for".into(),
        ));
    }
    let sql = "SELECT p.entity, p.page, e.label, e.type, bm25(document_fts), \
               highlight(document_fts, 0, char(1), char(2)), \
               snippet(document_fts, 0, char(1), char(2), '…', 16) \
               FROM document_fts JOIN document_pages p ON p.id = document_fts.rowid \
               JOIN entities e ON e.id = p.entity \
               WHERE document_fts MATCH ?1 \
               AND (?2 IS NULL OR e.type = ?2 OR EXISTS (SELECT 1 FROM attributes a \
                    WHERE a.owner_kind = 'entity' AND a.owner_id = e.id \
                    AND a.property = 'format' AND lower(a.value) = lower(?2))) \
               AND (?3 IS NULL OR e.prov_batch = ?3) \
               AND (?4 IS NULL OR EXISTS (SELECT 1 FROM attributes a \
                    WHERE a.owner_kind = 'entity' AND a.owner_id = e.id \
                    AND a.property = 'date' AND substr(a.value, 1, 10) >= ?4)) \
               AND (?5 IS NULL OR EXISTS (SELECT 1 FROM attributes a \
                    WHERE a.owner_kind = 'entity' AND a.owner_id = e.id \
                    AND a.property = 'date' AND substr(a.value, 1, 10) <= ?5)) \
               AND (?6 OR e.restricted = 0) \
               ORDER BY bm25(document_fts), p.entity, p.page LIMIT ?7";
    let mut stmt = conn.prepare(sql)?;
    let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(
        params![
            q.text,
            q.doc_type,
            q.batch.map(|b| b.0),
            q.from,
            q.to,
            q.include_restricted,
            limit
        ],
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, u32>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, f64>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
            ))
        },
    );
    let rows = rows.map_err(|e| bad_query(&q.text, &e))?;
    let mut hits = Vec::new();
    for row in rows {
        let (entity, page, label, entity_type, rank, highlighted, snippet) =
            row.map_err(|e| bad_query(&q.text, &e))?;
        hits.push(SearchHit {
            entity: EntityId(entity),
            label,
            entity_type,
            page,
            rank,
            offsets: hit_offsets(&highlighted),
            snippet: snippet_parts(&snippet),
        });
    }
    Ok(hits)
}

impl Case {
    /// Searches the text of every document, and records the search as a consultation (the
    /// query, the filters and the number of pages found).
    pub fn search_documents(&mut self, q: &SearchQuery) -> Result<Vec<SearchHit>, StoreError> {
        let hits = search(&self.conn, q)?;
        let documents: std::collections::BTreeSet<i64> = hits.iter().map(|h| h.entity.0).collect();
        self.record_consultation(
            "search documents",
            json!({
                "query": q.text,
                "type": q.doc_type,
                "batch": q.batch.map(|b| b.0),
                "from": q.from,
                "to": q.to,
                "include_restricted": q.include_restricted,
                "limit": q.limit,
                "pages_found": hits.len(),
                "documents_found": documents.len(),
            }),
        )?;
        Ok(hits)
    }

    /// The pages of a document, in order.
    pub fn document_pages(&self, entity: EntityId) -> Result<Vec<DocumentPage>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT page, text, needs_ocr FROM document_pages WHERE entity = ?1 ORDER BY page, id",
        )?;
        let pages = stmt
            .query_map([entity.0], |r| {
                Ok(DocumentPage {
                    entity,
                    page: r.get(0)?,
                    text: r.get(1)?,
                    needs_ocr: r.get(2)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(pages)
    }

    /// How many documents and pages the case holds, and how many pages need OCR.
    pub fn document_counts(&self) -> Result<(u64, u64, u64), StoreError> {
        Ok(self.conn.query_row(
            "SELECT count(DISTINCT entity), count(*), coalesce(sum(needs_ocr), 0) FROM document_pages",
            [],
            |r| {
                let count = |i: usize| r.get::<_, i64>(i).map(|n| u64::try_from(n).unwrap_or(0));
                Ok((count(0)?, count(1)?, count(2)?))
            },
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hit_marks_become_character_offsets() {
        let marked = "Zoë met \u{1}Anna\u{2} at the café with \u{1}Anna\u{2}s";
        assert_eq!(hit_offsets(marked), vec![(8, 12), (30, 34)]);
        let parts = snippet_parts("…met \u{1}Anna\u{2} at…");
        assert_eq!(parts.len(), 3);
        assert!(parts[1].hit && parts[1].text == "Anna");
    }

    #[test]
    fn control_characters_leave_page_text() {
        assert_eq!(clean_text("a\u{1}b\u{2}c\td\n"), "abc\td\n");
    }
}
