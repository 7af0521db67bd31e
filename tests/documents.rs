//! Documents: import of text (Latin-1), HTML, PDF (with a page that has no text layer), DOCX,
//! EML with an attachment and a WhatsApp export; full-text search with offsets; bad inputs
//! (truncated PDF, zip-bomb DOCX) refused with the case unchanged; pages covered by the
//! evidence digest and moved by a batch's undo and redo.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop loudly"
)]

mod common;

use common::{actor, copkit, dump, output_text, python_has, temp_case};
use copkit::io::documents::{DocumentOptions, DocumentReport, import_documents};
use copkit::jobs::{CancelToken, NoProgress};
use copkit::store::{Case, SearchQuery, VerifyOptions, verify_case_file};
use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, dictionary};
use std::io::Write;
use std::path::{Path, PathBuf};

fn import(case: &mut Case, path: &Path) -> Result<DocumentReport, copkit::io::IoError> {
    import_documents(
        case,
        path,
        &DocumentOptions::default(),
        &CancelToken::new(),
        &NoProgress,
    )
}

fn search(case: &mut Case, q: &str) -> Vec<copkit::store::SearchHit> {
    case.search_documents(&SearchQuery::new(q)).unwrap()
}

/// A PDF written by lopdf: the first page with a text layer, the second only an image (as a
/// scanner writes it), so it needs OCR.
fn write_pdf(path: &Path, text: &str) {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let text_content = Content {
        operations: vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 12.into()]),
            Operation::new("Td", vec![72.into(), 700.into()]),
            Operation::new("Tj", vec![Object::string_literal(text)]),
            Operation::new("ET", vec![]),
        ],
    };
    let text_stream = doc.add_object(Stream::new(dictionary! {}, text_content.encode().unwrap()));
    let image = doc.add_object(Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => 2, "Height" => 2,
            "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8,
        },
        vec![0, 255, 255, 0],
    ));
    let image_content = Content {
        operations: vec![
            Operation::new("q", vec![]),
            Operation::new(
                "cm",
                vec![
                    500.into(),
                    0.into(),
                    0.into(),
                    700.into(),
                    50.into(),
                    50.into(),
                ],
            ),
            Operation::new("Do", vec!["Im1".into()]),
            Operation::new("Q", vec![]),
        ],
    };
    let image_stream = doc.add_object(Stream::new(dictionary! {}, image_content.encode().unwrap()));
    let resources = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => font_id },
        "XObject" => dictionary! { "Im1" => image },
    });
    let page1 = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => text_stream,
    });
    let page2 = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => image_stream,
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page1.into(), page2.into()], "Count" => 2,
            "Resources" => resources,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    doc.compress();
    doc.save(path).unwrap();
}

/// A DOCX as Word lays it out (the parts python-docx and Word write), zipped.
fn write_docx(path: &Path, paragraphs: &[&str], filler_bytes: usize) {
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("[Content_Types].xml", options).unwrap();
    zip.write_all(br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#).unwrap();
    zip.start_file("docProps/core.xml", options).unwrap();
    zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"><dc:title>Witness statement</dc:title><dc:creator>PC Smith</dc:creator><dcterms:created>2024-03-12T10:00:00Z</dcterms:created></cp:coreProperties>"#).unwrap();
    zip.start_file("word/document.xml", options).unwrap();
    let mut body = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>"#,
    );
    for p in paragraphs {
        body.push_str(&format!(
            "<w:p><w:r><w:t xml:space=\"preserve\">{p}</w:t></w:r></w:p>"
        ));
    }
    body.push_str(&" ".repeat(filler_bytes));
    body.push_str("</w:body></w:document>");
    zip.write_all(body.as_bytes()).unwrap();
    zip.finish().unwrap();
}

fn verify_passes(path: &Path) {
    let report = verify_case_file(path, &VerifyOptions::default()).unwrap();
    assert!(report.passed(), "{report:#?}");
}

#[test]
fn fts5_is_compiled_into_the_bundled_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let (_, case) = temp_case(&dir, "c.copkit");
    let options: Vec<String> = case
        .connection()
        .prepare("PRAGMA compile_options")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(options.iter().any(|o| o == "ENABLE_FTS5"), "{options:?}");
}

#[test]
fn a_folder_imports_as_one_batch_and_search_finds_words_with_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("seized");
    std::fs::create_dir_all(docs.join("sub")).unwrap();
    // Latin-1, as an old Windows editor saves it.
    std::fs::write(
        docs.join("statement.txt"),
        b"D\xe9claration de Jos\xe9 P\xe9rez.\nLe caf\xe9 du port, \xe0 c\xf4t\xe9 du quai, le 3 mars.\nIl a vu le camion bleu pr\xe8s de l'entrep\xf4t.\n",
    )
    .unwrap();
    std::fs::write(
        docs.join("sub/page.html"),
        "<html><head><title>Harbour log</title><script>var x='hidden';</script></head>\
         <body><p>The blue truck left the warehouse at night.</p><p>Shipment of &quot;tiles&quot; expected.</p></body></html>",
    )
    .unwrap();
    std::fs::write(
        docs.join("photo.jpg"),
        b"\xff\xd8\xff\xe0\0\x10JFIF\0\0\0\0",
    )
    .unwrap();
    let (path, mut case) = temp_case(&dir, "docs.copkit");
    let report = import(&mut case, &docs).unwrap();
    assert_eq!(report.files.len(), 3);
    let failed: Vec<_> = report.failed().collect();
    assert_eq!(failed.len(), 1, "{report:#?}");
    assert!(failed[0].0.path.ends_with("photo.jpg") && failed[0].1.contains("not a document"));
    let statement = report
        .imported()
        .find(|(f, _)| f.path.ends_with("statement.txt"))
        .unwrap()
        .1;
    assert_eq!(statement.encoding.as_deref(), Some("windows-1252"));
    assert!(report.batch.is_some());

    // A word with an accent, found by its plain spelling too (diacritics folded).
    let hits = search(&mut case, "cafe");
    assert_eq!(hits.len(), 1);
    let pages = case.document_pages(hits[0].entity).unwrap();
    let text: Vec<char> = pages[0].text.chars().collect();
    let (start, end) = hits[0].offsets[0];
    assert_eq!(text[start..end].iter().collect::<String>(), "café");
    assert!(hits[0].snippet_marked("[", "]").contains("[café]"));

    // Phrase, prefix, boolean and NEAR queries.
    assert_eq!(search(&mut case, "\"blue truck\"").len(), 1);
    assert_eq!(search(&mut case, "entrep*").len(), 1);
    assert_eq!(search(&mut case, "camion OR truck").len(), 2);
    assert_eq!(search(&mut case, "truck NOT tiles").len(), 0);
    assert_eq!(search(&mut case, "NEAR(truck warehouse, 3)").len(), 1);
    assert_eq!(search(&mut case, "NEAR(truck tiles, 2)").len(), 0);
    // Script text is not document text.
    assert_eq!(search(&mut case, "hidden").len(), 0);
    // Filters: by format and by batch.
    let mut q = SearchQuery::new("truck OR camion");
    q.doc_type = Some("html".into());
    assert_eq!(case.search_documents(&q).unwrap().len(), 1);
    q.doc_type = None;
    q.batch = Some(copkit::model::BatchId(report.batch.unwrap().0 + 1));
    assert_eq!(case.search_documents(&q).unwrap().len(), 0);

    // A bad query is a clear error, not a crash.
    let err = case
        .search_documents(&SearchQuery::new("\"unclosed"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not a valid query") && err.contains("double quotes"),
        "{err}"
    );

    // Searches are consultations in the audit log.
    let searches = case
        .audit_records()
        .unwrap()
        .into_iter()
        .filter(|r| r.action == "search documents")
        .count();
    assert!(searches >= 9, "{searches}");
    drop(case);
    verify_passes(&path);
}

#[test]
fn the_evidence_digest_covers_page_text_and_undo_moves_pages_out_of_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("note.txt");
    std::fs::write(&file, "Meet Ivanov at the marina on Friday.").unwrap();
    let (path, mut case) = temp_case(&dir, "undo.copkit");
    import(&mut case, &file).unwrap();
    assert_eq!(search(&mut case, "Ivanov").len(), 1);
    case.undo().unwrap().unwrap();
    assert_eq!(search(&mut case, "Ivanov").len(), 0);
    assert_eq!(case.document_counts().unwrap(), (0, 0, 0));
    case.redo().unwrap().unwrap();
    assert_eq!(search(&mut case, "Ivanov").len(), 1);
    drop(case);
    verify_passes(&path);

    // An edit of a page's text outside COPKIT is caught and named.
    let copy = dir.path().join("tampered.copkit");
    std::fs::copy(&path, &copy).unwrap();
    rusqlite::Connection::open(&copy)
        .unwrap()
        .execute_batch("UPDATE document_pages SET text = 'Meet Petrov at the marina on Friday.'")
        .unwrap();
    let report = verify_case_file(&copy, &VerifyOptions::default()).unwrap();
    assert!(!report.passed());
    let evidence = report.checks.iter().find(|c| c.name == "evidence").unwrap();
    assert!(
        format!("{evidence:?}").contains("document_pages"),
        "{evidence:#?}"
    );
}

#[test]
fn a_format_6_case_is_upgraded_with_its_pages_table_covered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.copkit");
    copkit::store::create_at_version(&path, 6, &actor()).unwrap();
    let mut case = Case::open(&path, actor(), "upgrade").unwrap();
    let version: u32 = case
        .connection()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 8);
    let file = dir.path().join("a.txt");
    std::fs::write(&file, "after the upgrade").unwrap();
    import(&mut case, &file).unwrap();
    assert_eq!(search(&mut case, "upgrade").len(), 1);
    drop(case);
    verify_passes(&path);
}

#[test]
fn a_pdf_page_without_text_is_reported_as_needing_ocr() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("scan.pdf");
    write_pdf(&pdf, "Shipment arrives Tuesday at Rotterdam");
    let (_, mut case) = temp_case(&dir, "pdf.copkit");
    let report = import(&mut case, &pdf).unwrap();
    let (_, summary) = report.imported().next().unwrap();
    assert_eq!((summary.pages, summary.needs_ocr), (2, 1), "{summary:?}");
    let hits = search(&mut case, "Rotterdam");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].page, 1);
    let pages = case.document_pages(hits[0].entity).unwrap();
    assert!(!pages[0].needs_ocr && pages[1].needs_ocr && pages[1].text.is_empty());
    assert_eq!(case.document_counts().unwrap(), (1, 2, 1));
}

#[test]
fn a_truncated_pdf_and_a_zip_bomb_docx_are_refused_and_the_case_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("full.pdf");
    write_pdf(&pdf, "Some text");
    let bytes = std::fs::read(&pdf).unwrap();
    let cut = dir.path().join("cut.pdf");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let bomb = dir.path().join("bomb.docx");
    // 30 MB of spaces deflate to a few tens of KB: far past the ratio bound.
    write_docx(&bomb, &["x"], 30 << 20);
    let (_, mut case) = temp_case(&dir, "bad.copkit");
    let before = dump(&case);
    let err = import(&mut case, &cut).unwrap_err().to_string();
    assert!(
        err.contains("cut.pdf") && err.contains("truncated"),
        "{err}"
    );
    let err = import(&mut case, &bomb).unwrap_err().to_string();
    assert!(
        err.contains("bomb.docx") && err.contains("max_zip_ratio"),
        "{err}"
    );
    assert_eq!(dump(&case), before);
}

#[test]
fn a_docx_is_read_with_its_title_and_author() {
    let dir = tempfile::tempdir().unwrap();
    let docx = dir.path().join("statement.docx");
    write_docx(
        &docx,
        &[
            "I saw the van at 22:10.",
            "The driver &amp; a passenger left on foot.",
        ],
        0,
    );
    let (_, mut case) = temp_case(&dir, "docx.copkit");
    import(&mut case, &docx).unwrap();
    let hits = search(&mut case, "passenger");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].label, "Witness statement");
    let pages = case.document_pages(hits[0].entity).unwrap();
    assert_eq!(
        pages[0].text,
        "I saw the van at 22:10.\nThe driver & a passenger left on foot."
    );
    let snapshot = case.snapshot().unwrap();
    let doc = snapshot.entity(hits[0].entity).unwrap();
    assert_eq!(doc.values("author").next(), Some("PC Smith"));
    assert_eq!(doc.values("date").next(), Some("2024-03-12"));
}

#[test]
fn an_eml_with_an_attachment_gives_two_linked_documents() {
    if !python_has("email") {
        assert!(std::env::var("CI").is_err(), "python3 is needed under CI");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let eml = dir.path().join("mail.eml");
    let script = r#"
import sys
from email.message import EmailMessage
m = EmailMessage()
m["From"] = "Anna Berg <anna@example.org>"
m["To"] = "ben@example.net"
m["Cc"] = "Carl <carl@example.com>"
m["Subject"] = "Delivery Friday"
m["Date"] = "Tue, 12 Mar 2024 14:05:00 +0100"
m.set_content("The boat comes in at the marina.\nBring the papers.\n")
m.add_attachment("Ledger: 40 crates, paid in cash to Dmitri.\n".encode(), maintype="text", subtype="plain", filename="ledger.txt")
open(sys.argv[1], "wb").write(bytes(m))
print("ok")
"#;
    common::python(script, &eml);
    let (_, mut case) = temp_case(&dir, "mail.copkit");
    let report = import(&mut case, &eml).unwrap();
    let (_, summary) = report.imported().next().unwrap();
    assert_eq!(
        (summary.documents, summary.attachments),
        (2, 1),
        "{summary:?}"
    );
    let mail = search(&mut case, "marina");
    let attachment = search(&mut case, "Dmitri");
    assert_eq!((mail.len(), attachment.len()), (1, 1));
    assert_eq!(mail[0].label, "Delivery Friday");
    let snapshot = case.snapshot().unwrap();
    let doc = snapshot.entity(mail[0].entity).unwrap();
    assert_eq!(
        doc.values("from").next(),
        Some("Anna Berg <anna@example.org>")
    );
    assert_eq!(doc.values("to").next(), Some("ben@example.net"));
    assert_eq!(doc.values("cc").next(), Some("Carl <carl@example.com>"));
    assert_eq!(doc.values("date").next(), Some("2024-03-12"));
    // Dated documents are filtered by day.
    let mut q = SearchQuery::new("marina");
    q.from = Some("2024-03-12".into());
    q.to = Some("2024-03-12".into());
    assert_eq!(case.search_documents(&q).unwrap().len(), 1);
    q.from = Some("2024-03-13".into());
    assert_eq!(case.search_documents(&q).unwrap().len(), 0);
    assert!(snapshot.links.iter().any(|l| l.link_type == "attachment_of"
        && l.source == attachment[0].entity
        && l.target == mail[0].entity));
}

#[test]
fn a_whatsapp_export_gives_messages_between_people() {
    let dir = tempfile::tempdir().unwrap();
    let chat = dir.path().join("WhatsApp Chat with Ben.txt");
    std::fs::write(
        &chat,
        "12/03/2024, 14:05 - Messages and calls are end-to-end encrypted.\n\
         12/03/2024, 14:06 - Anna: the boat is late\nit comes tomorrow\n\
         13/03/2024, 09:00 - Ben: ok, same place?\n\
         13/03/2024, 09:01 - Anna: yes, the marina\n",
    )
    .unwrap();
    let (_, mut case) = temp_case(&dir, "chat.copkit");
    let report = import(&mut case, &chat).unwrap();
    let (_, summary) = report.imported().next().unwrap();
    assert_eq!((summary.format.as_str(), summary.messages), ("whatsapp", 4));
    let snapshot = case.snapshot().unwrap();
    let people: Vec<_> = snapshot
        .entities
        .iter()
        .filter(|e| e.entity_type == "Person")
        .collect();
    assert_eq!(people.len(), 2);
    let messages: Vec<_> = snapshot
        .events
        .iter()
        .filter(|e| e.event_type == "Message")
        .collect();
    assert_eq!(messages.len(), 3, "system lines are no messages");
    assert_eq!(
        messages[0].time.original_text.as_deref(),
        Some("12/03/2024, 14:06")
    );
    assert_eq!(messages[0].participants.len(), 2);
    let hits = search(&mut case, "tomorrow");
    assert_eq!(hits.len(), 1);
}

#[test]
fn the_command_line_imports_a_folder_and_searches() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    std::fs::write(docs.join("a.txt"), "The courier Ivanov came by train.").unwrap();
    std::fs::write(docs.join("b.txt"), "Nothing of note.").unwrap();
    std::fs::write(docs.join("c.pdf"), b"%PDF-1.4\nnot really").unwrap();
    let case: PathBuf = dir.path().join("cli.copkit");
    let c = case.to_str().unwrap();
    assert!(copkit(&["new", c, "--purpose", "test"]).status.success());
    let out = copkit(&[
        "import-docs",
        c,
        docs.to_str().unwrap(),
        "--purpose",
        "test",
    ]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("FAILED")
            && text.contains("c.pdf")
            && text.contains("2 file(s) imported, 1 failed"),
        "{text}"
    );
    let out = copkit(&["search", c, "ivan*", "--purpose", "test"]);
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("chars 12-18") && text.contains("[Ivanov]"),
        "{text}"
    );
    let out = copkit(&["search", c, "AND AND", "--purpose", "test"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(output_text(&out).contains("not a valid query"));

    // The folder's manifest is the batch's source hash: verify-sources checks it again.
    let out = copkit(&["verify-sources", c, "--purpose", "test"]);
    let text = output_text(&out);
    assert!(out.status.success() && text.contains("unchanged"), "{text}");
    std::fs::write(docs.join("b.txt"), "Something of note after all.").unwrap();
    let out = copkit(&["verify-sources", c, "--purpose", "test"]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("CHANGED"), "{text}");
}

#[test]
fn a_telegram_export_and_an_mbox_are_read_message_by_message() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("exports");
    std::fs::create_dir(&folder).unwrap();
    // Telegram Desktop's result.json of one chat: text as a string or as a list of pieces.
    std::fs::write(
        folder.join("result.json"),
        r#"{
 "name": "Dmitri",
 "type": "personal_chat",
 "id": 4242,
 "messages": [
  {"id": 1, "type": "message", "date": "2024-03-12T14:05:33", "date_unixtime": "1710252333",
   "from": "Dmitri", "from_id": "user4242", "text": "the crates are ready"},
  {"id": 2, "type": "message", "date": "2024-03-12T14:07:00", "date_unixtime": "1710252420",
   "from": "Anna", "from_id": "user7", "text": ["see ", {"type": "bold", "text": "Genoa"}, " tomorrow"]},
  {"id": 3, "type": "service", "date": "2024-03-12T14:08:00", "actor": "Anna",
   "actor_id": "user7", "action": "phone_call", "text": ""}
 ]
}"#,
    )
    .unwrap();
    std::fs::write(
        folder.join("box.mbox"),
        "From anna@example.org Tue Mar 12 14:05:00 2024\n\
         From: anna@example.org\nTo: ben@example.net\nSubject: first\n\nThe papers are signed.\n\n\
         From ben@example.net Tue Mar 12 15:00:00 2024\n\
         From: ben@example.net\nTo: anna@example.org\nSubject: second\n\nPayment via Lisbon.\n",
    )
    .unwrap();
    let (_, mut case) = temp_case(&dir, "exports.copkit");
    let report = import(&mut case, &folder).unwrap();
    assert_eq!(report.failed().count(), 0, "{report:#?}");
    let telegram = report
        .imported()
        .find(|(f, _)| f.path.ends_with("result.json"))
        .unwrap()
        .1;
    assert_eq!(
        (telegram.format.as_str(), telegram.messages),
        ("telegram", 3)
    );
    let mbox = report
        .imported()
        .find(|(f, _)| f.path.ends_with("box.mbox"))
        .unwrap()
        .1;
    assert_eq!((mbox.format.as_str(), mbox.documents), ("mbox", 2));
    assert_eq!(search(&mut case, "Genoa").len(), 1);
    assert_eq!(search(&mut case, "Lisbon")[0].label, "second");
    let snapshot = case.snapshot().unwrap();
    let messages: Vec<_> = snapshot
        .events
        .iter()
        .filter(|e| e.event_type == "Message")
        .collect();
    assert_eq!(messages.len(), 2, "the service line is no message");
    assert_eq!(messages[0].time.start_ms, 1_710_252_333_000);
}
