//! FollowTheMoney at full fidelity: a file written by the followthemoney library
//! (tests/fixtures/graph/aleph.ftm.json, made by make_ftm_fixtures.py) imported with its
//! entity references as links, documents with their text, exact schemata, unknown properties
//! kept and reported; our export read back by the library with the same schemata, values and
//! references.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code stops loudly where an expectation fails"
)]

mod common;

use common::{dump, python_has, sha256_file, temp_case};
use copkit::io::export::{ExportFormat, ExportRequest};
use copkit::io::ftm::import_ftm;
use copkit::io::{ImportReport, IoError, Limits};
use copkit::jobs::CancelToken;
use copkit::model::*;
use copkit::store::{Case, CaseSnapshot};
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph/aleph.ftm.json")
}

fn import(case: &mut Case, path: &Path, limits: &Limits) -> Result<ImportReport, IoError> {
    let before = sha256_file(path);
    let r = import_ftm(case, path, false, limits, None, &CancelToken::new());
    assert_eq!(sha256_file(path), before, "the source file was changed");
    r
}

fn by_id<'a>(snap: &'a CaseSnapshot, id: &str) -> &'a Entity {
    snap.entities
        .iter()
        .find(|e| e.source_id.as_deref() == Some(id))
        .unwrap_or_else(|| panic!("no entity {id}"))
}

fn export_ftm(case: &mut Case, out: &Path) {
    copkit::io::export::export(
        case,
        &ExportRequest {
            format: ExportFormat::Ftm,
            out: out.to_path_buf(),
            recipient: "Aleph".into(),
            override_reason: None,
            only: None,
        },
        &CancelToken::new(),
        &copkit::jobs::NoProgress,
    )
    .unwrap();
}

/// Runs a Python snippet with the given arguments and returns what it printed.
fn python(code: &str, args: &[&Path]) -> String {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the followthemoney library refused the file: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn skip_without_followthemoney() -> bool {
    if python_has("followthemoney") {
        return false;
    }
    eprintln!("SKIPPED: python3 with followthemoney is needed (pip install followthemoney)");
    assert!(
        std::env::var_os("CI").is_none(),
        "the CI must have followthemoney for this test"
    );
    true
}

#[test]
fn library_file_imports_references_as_links_documents_whole_and_schemata_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let r = import(&mut case, &fixture(), &Limits::default()).unwrap();
    assert_eq!(
        (r.entities_created, r.links, r.events, r.rows_rejected),
        (14, 11, 1, 0),
        "{}",
        r.to_text()
    );
    let snap = case.snapshot().unwrap();

    // Schemata kept exactly where our type's name differs.
    let schema_of = |id: &str| {
        by_id(&snap, id)
            .values("ftmSchema")
            .next()
            .map(str::to_string)
    };
    let c1 = by_id(&snap, "c1");
    assert_eq!(c1.entity_type, "Organization");
    assert_eq!(schema_of("c1").as_deref(), Some("Company"));
    assert_eq!(by_id(&snap, "p1").entity_type, "Person");
    assert_eq!(schema_of("p1"), None);
    for (id, schema) in [
        ("doc1", None),
        ("em1", Some("Email")),
        ("f1", Some("Folder")),
        ("n1", Some("Note")),
        ("pp1", Some("Passport")),
        ("m1", Some("Message")),
    ] {
        assert_eq!(by_id(&snap, id).entity_type, "Document", "{id}");
        assert_eq!(schema_of(id).as_deref(), schema, "{id}");
    }

    // Document text kept whole, line breaks and non-ASCII included.
    let doc = by_id(&snap, "doc1");
    assert_eq!(doc.label, "Invoice 2024-17");
    let body = doc.values("bodyText").next().unwrap();
    assert!(body.starts_with("Dear Bo,\n\nthe transfer"), "{body:?}");
    assert!(body.ends_with("Plačilo je bilo izvedeno — pozdrav, Ana."));
    assert_eq!(doc.values("mimeType").next(), Some("application/pdf"));
    assert_eq!(doc.values("sha256").next(), Some("5f2b51d9c0a54b1f3f1e"));
    assert_eq!(doc.values("date").next(), Some("2024-03-01"));
    let email = by_id(&snap, "em1");
    assert_eq!(email.label, "Transfer");
    assert_eq!(email.values("bodyText").next(), Some(body));
    assert_eq!(
        by_id(&snap, "n1").values("description").next(),
        Some("Seen at the bank on 1 March.")
    );

    // References became links, forward ones (c1 names addr1 on a later line) included.
    let link = |from: &str, to: &str| {
        let (a, b) = (by_id(&snap, from).id, by_id(&snap, to).id);
        snap.links
            .iter()
            .find(|l| l.source == a && l.target == b)
            .unwrap_or_else(|| panic!("no link {from} -> {to}"))
    };
    for (from, to, link_type, property) in [
        ("c1", "addr1", "located_at", "addressEntity"),
        ("p1", "addr1", "located_at", "addressEntity"),
        ("v1", "p1", "owner", "owner"),
        ("pp1", "p1", "holder", "holder"),
        ("doc1", "f1", "parent", "parent"),
        ("em1", "f1", "parent", "parent"),
        ("em1", "p1", "emitters", "emitters"),
        ("em1", "p2", "recipients", "recipients"),
        ("n1", "p1", "entity", "entity"),
        ("m1", "p2", "sender", "sender"),
        ("m1", "p1", "recipients", "recipients"),
    ] {
        let l = link(from, to);
        assert_eq!(l.link_type, link_type);
        assert!(l.directed);
        assert_eq!(
            l.attributes
                .iter()
                .find(|a| a.property == "ftmProperty")
                .map(|a| a.value.as_str()),
            Some(property)
        );
        assert_eq!(l.provenance.source_file.as_deref(), Some("aleph.ftm.json"));
    }
    // A date with a time of day, which our Document's date refuses: kept whole and reported.
    let message = by_id(&snap, "m1");
    assert_eq!(message.values("date").count(), 0);
    assert_eq!(
        message.values("ftm:date").next(),
        Some("2024-03-02T09:15:00")
    );
    assert!(
        r.warnings
            .iter()
            .any(|w| w.line == 15 && w.field.as_deref() == Some("date")),
        "{}",
        r.to_text()
    );
    // No reference stays behind as a text value when its entity is in the file.
    assert_eq!(by_id(&snap, "p1").values("addressEntity").count(), 0);

    // A reference to an id that is nowhere: a warning with line and property, the id kept.
    let p3 = by_id(&snap, "p3");
    assert_eq!(p3.values("addressEntity").next(), Some("addr-missing"));
    assert!(
        r.warnings.iter().any(|w| w.line == 5
            && w.field.as_deref() == Some("addressEntity")
            && w.reason.contains("addr-missing")),
        "{}",
        r.to_text()
    );

    // A property the schema does not define: kept and reported; one FtM defines is not.
    let p1 = by_id(&snap, "p1");
    assert_eq!(p1.values("shoeSize").next(), Some("44"));
    assert_eq!(p1.values("hairColor").next(), Some("red"));
    assert!(
        r.warnings.iter().any(|w| w.line == 3
            && w.field.as_deref() == Some("shoeSize")
            && w.reason.contains("not defined")),
        "{}",
        r.to_text()
    );
    assert!(
        !r.warnings
            .iter()
            .any(|w| w.field.as_deref() == Some("hairColor")),
        "{}",
        r.to_text()
    );

    // The payment: between the two accounts and the two parties, with its values.
    let pay = &snap.events[0];
    assert_eq!(pay.event_type, "Transaction");
    assert_eq!(pay.source_id.as_deref(), Some("pay1"));
    let ids = |role| {
        let mut v: Vec<String> = pay
            .in_role(role)
            .map(|id| snap.entity(id).unwrap().source_id.clone().unwrap())
            .collect();
        v.sort();
        v
    };
    assert_eq!(ids(ParticipantRole::From), ["ba1", "c1"]);
    assert_eq!(ids(ParticipantRole::To), ["ba2", "p1"]);
    let val = |p: &str| {
        pay.attributes
            .iter()
            .find(|a| a.property == p)
            .map(|a| a.value.as_str())
    };
    assert_eq!(val("amount"), Some("1500.50"));
    assert_eq!(val("currency"), Some("EUR"));
    assert_eq!(val("purpose"), Some("Consulting fee Q1"));
    assert_eq!(pay.time.original_text.as_deref(), Some("2024-03-01"));
    assert_eq!(pay.time.start().to_rfc3339(), "2024-03-01T00:00:00+00:00");
}

#[test]
fn a_value_over_max_field_bytes_is_refused_naming_line_and_property() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let before = dump(&case);
    let limits = Limits {
        max_field_bytes: 64,
        ..Limits::default()
    };
    let err = import(&mut case, &fixture(), &limits).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("aleph.ftm.json"), "{msg}");
    let IoError::Rejected { report, .. } = err else {
        panic!("{msg}")
    };
    let problem = report
        .rejected
        .iter()
        .find(|p| p.line == 12)
        .unwrap_or_else(|| panic!("{}", report.to_text()));
    assert_eq!(problem.field.as_deref(), Some("bodyText"));
    assert!(problem.reason.contains("max_field_bytes"), "{problem}");
    assert_eq!(dump(&case), before, "nothing imported");
}

/// FtM file written by the library → our import → our export → the library reads it: the
/// same schema for every entity, the same values of every property the original had (amounts,
/// currencies, dates, text, references), the unknown property only in the copkit member.
/// Then our import of our own export gives the same case back.
#[test]
fn export_is_read_by_the_library_with_the_same_schemata_values_and_references() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    import(&mut case, &fixture(), &Limits::default()).unwrap();
    let out = dir.path().join("out.ftm.json");
    export_ftm(&mut case, &out);
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // References went back into their properties, not out as lines of their own.
    assert_eq!(lines.len(), 15, "14 things and the payment");
    let line = |id: &str| lines.iter().find(|l| l["id"] == id).unwrap();
    assert_eq!(line("c1")["schema"], "Company");
    assert_eq!(
        line("c1")["properties"]["addressEntity"],
        serde_json::json!(["addr1"])
    );
    assert_eq!(
        line("em1")["properties"]["emitters"],
        serde_json::json!(["p1"])
    );
    assert_eq!(
        line("p3")["properties"]["addressEntity"],
        serde_json::json!(["addr-missing"])
    );
    let p1 = line("p1");
    assert!(p1["properties"].get("shoeSize").is_none());
    assert!(
        p1["copkit"]["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["property"] == "shoeSize" && a["value"] == "44")
    );
    let pay = line("pay1");
    assert_eq!(pay["schema"], "Payment");
    assert_eq!(
        pay["properties"]["payerAccount"],
        serde_json::json!(["ba1"])
    );
    assert_eq!(pay["properties"]["payer"], serde_json::json!(["c1"]));
    assert_eq!(pay["properties"]["date"], serde_json::json!(["2024-03-01"]));
    assert_eq!(
        line("m1")["properties"]["date"],
        serde_json::json!(["2024-03-02T09:15:00"])
    );

    // Our own import of the export: the same items, reference links with their details.
    let (_, mut other) = temp_case(&dir, "d.copkit");
    let r = import(&mut other, &out, &Limits::default()).unwrap();
    assert_eq!(
        (r.entities_created, r.links, r.events),
        (14, 11, 1),
        "{}",
        r.to_text()
    );
    let (a, b) = (case.snapshot().unwrap(), other.snapshot().unwrap());
    for e in &a.entities {
        let back = by_id(&b, e.source_id.as_deref().unwrap());
        assert_eq!((&back.entity_type, &back.label), (&e.entity_type, &e.label));
        let vals = |x: &Entity| {
            let mut v: Vec<(String, String)> = x
                .attributes
                .iter()
                .map(|a| (a.property.clone(), a.value.clone()))
                .collect();
            v.sort();
            v
        };
        assert_eq!(vals(back), vals(e), "{:?}", e.source_id);
    }
    let link_set = |s: &CaseSnapshot| {
        let mut v: Vec<(String, String, String)> = s
            .links
            .iter()
            .map(|l| {
                let id = |e| s.entity(e).unwrap().source_id.clone().unwrap();
                (id(l.source), id(l.target), l.link_type.clone())
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(link_set(&b), link_set(&a));
    assert_eq!(b.events[0].time, a.events[0].time);
    assert_eq!(b.links[0].provenance, a.links[0].provenance);

    if skip_without_followthemoney() {
        return;
    }
    // Every property value of the original, as the library reads it, is in the export as the
    // library reads it; the schema is the same.
    let diff = python(
        "import sys, json\n\
         from followthemoney import model\n\
         def read(path):\n\
         \x20   out = {}\n\
         \x20   for line in open(path, encoding='utf-8'):\n\
         \x20       d = json.loads(line)\n\
         \x20       d.pop('copkit', None)\n\
         \x20       p = model.get_proxy(d, cleaned=False)\n\
         \x20       out[p.id] = p\n\
         \x20   return out\n\
         orig, ours = read(sys.argv[1]), read(sys.argv[2])\n\
         print(len(orig), len(ours))\n\
         for id, p in orig.items():\n\
         \x20   q = ours.get(id)\n\
         \x20   if q is None or q.schema != p.schema:\n\
         \x20       print('schema', id, p.schema, q and q.schema)\n\
         \x20       continue\n\
         \x20   for prop, vals in p.properties.items():\n\
         \x20       if sorted(q.get(prop)) != sorted(vals):\n\
         \x20           print('differs', id, prop, vals, q.get(prop))\n\
         pay = ours['pay1']\n\
         print(pay.get('amount'), pay.get('currency'), pay.get('date'), pay.get('purpose'))\n\
         print(ours['em1'].get('emitters'), ours['em1'].get('recipients'), ours['pp1'].get('holder'))",
        &[&fixture(), &out],
    );
    assert_eq!(
        diff,
        "15 15\n\
         ['1500.50'] ['EUR'] ['2024-03-01'] ['Consulting fee Q1']\n\
         ['p1'] ['p2'] ['p1']"
    );
}

fn schemata_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph/ftm-schemata.ftm.json")
}

/// The line of the fixture that holds entity `id`.
fn line_of(path: &Path, id: &str) -> u64 {
    let needle = format!("\"id\": \"{id}\"");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .position(|l| l.contains(&needle))
        .unwrap_or_else(|| panic!("no line with {id}")) as u64
        + 1
}

fn source_ids(snap: &CaseSnapshot, ids: impl Iterator<Item = EntityId>) -> Vec<String> {
    let mut v: Vec<String> = ids
        .map(|id| snap.entity(id).unwrap().source_id.clone().unwrap())
        .collect();
    v.sort();
    v
}

/// One entity of every schema of the FtM model (tests/fixtures/graph/ftm-schemata.ftm.json,
/// made by make_ftm_schemata.py with the followthemoney library): nothing rejected; things as
/// entities of our nearest type, edges as links, payments, calls, events, economic activities
/// and trips as events with their other references as participants; intervals without their
/// ends or date as entities, reported; the exact schema kept everywhere.
#[test]
fn every_schema_of_the_model_comes_in_as_an_entity_link_or_event() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let path = schemata_fixture();
    let r = import(&mut case, &path, &Limits::default()).unwrap();
    // 47 things and 3 intervals kept as entities; 19 interval links, 31 references and the
    // award's call for tenders (a reference inside an interval link); 5 events.
    assert_eq!(
        (r.entities_created, r.links, r.events, r.rows_rejected),
        (50, 51, 5, 0),
        "{}",
        r.to_text()
    );
    let snap = case.snapshot().unwrap();
    let kept_schema = |attrs: &[Attribute]| {
        attrs
            .iter()
            .find(|a| a.property == "ftmSchema")
            .map(|a| a.value.clone())
    };
    for (id, our_type, schema) in [
        ("c1", "Organization", Some("Company")),
        ("p1", "Person", None),
        ("as1", "BankAccount", Some("Asset")),
        ("sec1", "BankAccount", Some("Security")),
        ("re1", "Address", Some("RealEstate")),
        ("t2", "Location", Some("Territory")),
        ("pr1", "Organization", Some("Project")),
        ("pos1", "Organization", Some("Position")),
        ("ct1", "Document", Some("Contract")),
        ("cc1", "Document", Some("CourtCase")),
        ("s1", "Document", Some("Sanction")),
        ("pg1", "Document", Some("Page")),
        // Intervals that cannot be their link or event.
        ("pay2", "Document", Some("Payment")),
        ("ev2", "Document", Some("Event")),
        ("men2", "Document", Some("Mention")),
    ] {
        let e = by_id(&snap, id);
        assert_eq!(e.entity_type, our_type, "{id}");
        assert_eq!(kept_schema(&e.attributes).as_deref(), schema, "{id}");
    }
    // Amounts, currencies and dates kept as they came.
    let contract = by_id(&snap, "ct1");
    assert_eq!(contract.label, "Road works, lot 2");
    for (p, v) in [
        ("amount", "1250000.00"),
        ("currency", "EUR"),
        ("contractDate", "2023-04-17"),
    ] {
        assert_eq!(contract.values(p).next(), Some(v), "{p}");
    }
    for (id, p) in [("pay2", "schema"), ("ev2", "schema"), ("men2", "schema")] {
        assert!(
            r.warnings.iter().any(|w| w.line == line_of(&path, id)
                && w.field.as_deref() == Some(p)
                && w.reason.contains("imported as a Document")),
            "{id}: {}",
            r.to_text()
        );
    }
    // The undated payment's ends are references, so the export writes them back.
    let link = |from: &str, to: &str| {
        let (a, b) = (by_id(&snap, from).id, by_id(&snap, to).id);
        snap.links
            .iter()
            .find(|l| l.source == a && l.target == b)
            .unwrap_or_else(|| panic!("no link {from} -> {to}"))
    };
    assert_eq!(link("pay2", "le1").link_type, "payer");
    // Edges along the model's direction, with their schema where the type would not say it.
    for (from, to, link_type, id, schema) in [
        ("ct1", "c1", "awarded_to", "ca1", None),
        ("p1", "cc1", "party_to", "ccp1", None),
        ("p2", "pos1", "holds", "occ1", None),
        ("c1", "pr1", "participates_in", "ppt1", None),
        ("doc1", "p1", "mentions", "men1", None),
        ("p1", "p2", "similar", "sim1", None),
        ("p1", "c1", "owns", "own1", None),
        ("p2", "as1", "owns", "ul2", Some("UnknownLink")),
    ] {
        let l = snap
            .links
            .iter()
            .find(|l| l.source_id.as_deref() == Some(id))
            .unwrap_or_else(|| panic!("no link {id}"));
        let ends = (by_id(&snap, from).id, by_id(&snap, to).id);
        assert_eq!((l.source, l.target), ends, "{id}");
        assert_eq!(l.link_type, link_type, "{id}");
        assert_eq!(kept_schema(&l.attributes).as_deref(), schema, "{id}");
    }
    // A reference inside a link (the award's call for tenders) is a link from the award's
    // source, naming the interval it came from, and no longer text.
    let award = link("ct1", "c1");
    assert!(
        !award
            .attributes
            .iter()
            .any(|a| a.property == "callForTenders")
    );
    let called = snap
        .links
        .iter()
        .find(|l| l.link_type == "callForTenders")
        .expect("the call for tenders is a link");
    assert_eq!(
        (called.source, called.target),
        (award.source, by_id(&snap, "cft1").id)
    );
    assert!(called.attributes.iter().any(
        |a| a.property == "ftmInterval" && Some(a.value.as_str()) == award.source_id.as_deref()
    ));

    // Events: their ends from and to, every other reference a participant, its property kept.
    let event = |id: &str| {
        snap.events
            .iter()
            .find(|e| e.source_id.as_deref() == Some(id))
            .unwrap_or_else(|| panic!("no event {id}"))
    };
    let pay = event("pay1");
    assert_eq!(pay.event_type, "Transaction");
    assert_eq!(
        source_ids(&snap, pay.in_role(ParticipantRole::Participant)),
        ["ct1", "pr1"]
    );
    let roles: Vec<&str> = pay
        .attributes
        .iter()
        .filter(|a| a.property == "ftmRole")
        .map(|a| a.value.as_str())
        .collect();
    assert_eq!(roles, ["contract=ct1", "project=pr1"]);
    let eca = event("eca1");
    assert_eq!(eca.event_type, "Transaction");
    assert_eq!(
        kept_schema(&eca.attributes).as_deref(),
        Some("EconomicActivity")
    );
    assert_eq!(
        source_ids(&snap, eca.in_role(ParticipantRole::From)),
        ["c1"]
    );
    assert_eq!(
        source_ids(&snap, eca.in_role(ParticipantRole::Participant)),
        ["ba1", "ba2", "ct1", "p1", "v1"]
    );
    assert_eq!(eca.time.start().to_rfc3339(), "2023-06-10T00:00:00+00:00");
    let trip = event("trip1");
    assert_eq!(trip.event_type, "Travel");
    assert_eq!(
        source_ids(&snap, trip.in_role(ParticipantRole::Participant)),
        ["p2", "v1"]
    );
    let meeting = event("ev1");
    assert_eq!(
        source_ids(&snap, meeting.in_role(ParticipantRole::Location)),
        ["a1"]
    );
    let call = event("call1");
    assert_eq!(call.event_type, "Call");
    assert_eq!(call.time.start().to_rfc3339(), "2024-03-02T10:15:30+00:00");
    // A time of day our date property refuses: kept whole; reported on the link, not on the
    // call, whose time holds it.
    assert!(
        call.attributes
            .iter()
            .any(|a| a.property == "ftm:date" && a.value == "2024-03-02T10:15:30")
    );
    assert!(
        !r.warnings.iter().any(|w| w.line == line_of(&path, "call1")),
        "{}",
        r.to_text()
    );
    let directorship = snap
        .links
        .iter()
        .find(|l| l.source_id.as_deref() == Some("dir1"))
        .unwrap();
    assert!(
        directorship
            .attributes
            .iter()
            .any(|a| a.property == "ftm:startDate" && a.value == "2015-03-01T09:00:00")
    );
    assert!(
        r.warnings
            .iter()
            .any(|w| w.line == line_of(&path, "dir1") && w.field.as_deref() == Some("startDate")),
        "{}",
        r.to_text()
    );

    // Properties the schema does not define: kept and reported with their line.
    assert!(
        snap.links
            .iter()
            .find(|l| l.source_id.as_deref() == Some("own1"))
            .unwrap()
            .attributes
            .iter()
            .any(|a| a.property == "sharesClass" && a.value == "A")
    );
    assert!(
        pay.attributes
            .iter()
            .any(|a| a.property == "invoiceNumber" && a.value == "2024-17")
    );
    for (id, p) in [("own1", "sharesClass"), ("pay1", "invoiceNumber")] {
        assert!(
            r.warnings.iter().any(|w| w.line == line_of(&path, id)
                && w.field.as_deref() == Some(p)
                && w.reason.contains("not defined")),
            "{id}: {}",
            r.to_text()
        );
    }
}

/// The same file through our export: the followthemoney library reads back the same ids, the
/// same schemata and the same values of every property (as sets; the undefined ones aside,
/// which FtM tools drop and our export keeps only in its copkit member); our own import of the
/// export gives the same entities, links and events again.
#[test]
fn every_schema_goes_back_to_the_library_with_the_same_ids_schemata_and_properties() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    import(&mut case, &schemata_fixture(), &Limits::default()).unwrap();
    let out = dir.path().join("out.ftm.json");
    export_ftm(&mut case, &out);

    let (_, mut other) = temp_case(&dir, "d.copkit");
    let r = import(&mut other, &out, &Limits::default()).unwrap();
    assert_eq!(
        (r.entities_created, r.links, r.events, r.rows_rejected),
        (50, 51, 5, 0),
        "{}",
        r.to_text()
    );
    let (a, b) = (case.snapshot().unwrap(), other.snapshot().unwrap());
    let events = |s: &CaseSnapshot| {
        let mut v: Vec<(String, String, Vec<String>)> = s
            .events
            .iter()
            .map(|e| {
                let mut parts: Vec<String> = e
                    .participants
                    .iter()
                    .map(|p| {
                        let id = s.entity(p.entity).unwrap().source_id.clone().unwrap();
                        format!("{}:{id}", p.role.as_str())
                    })
                    .collect();
                parts.sort();
                (e.source_id.clone().unwrap(), e.event_type.clone(), parts)
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(events(&b), events(&a));

    if skip_without_followthemoney() {
        return;
    }
    let diff = python(
        "import sys, json\n\
         from followthemoney import model\n\
         def read(path):\n\
         \x20   out = {}\n\
         \x20   for line in open(path, encoding='utf-8'):\n\
         \x20       d = json.loads(line)\n\
         \x20       d.pop('copkit', None)\n\
         \x20       p = model.get_proxy(d, cleaned=False)\n\
         \x20       out[p.id] = p\n\
         \x20   return out\n\
         orig, ours = read(sys.argv[1]), read(sys.argv[2])\n\
         print(len(orig), len(ours), sorted(orig) == sorted(ours))\n\
         for id, p in sorted(orig.items()):\n\
         \x20   q = ours.get(id)\n\
         \x20   if q is None or q.schema != p.schema:\n\
         \x20       print('schema', id, p.schema, q and q.schema)\n\
         \x20       continue\n\
         \x20   for prop in sorted(set(p.properties) | set(q.properties)):\n\
         \x20       if set(p.get(prop)) != set(q.get(prop)):\n\
         \x20           print('differs', id, prop, p.get(prop), q.get(prop))",
        &[&schemata_fixture(), &out],
    );
    assert_eq!(diff, "74 74 True");
}

/// References inside an interval that becomes a link (an Ownership's `proof`, written by the
/// followthemoney library) are links too: from the interval's source to the entity named,
/// typed by the property, and the export writes them back into the same interval, as the
/// library reads it. A reference to nothing stays text, with a warning naming line and
/// property.
#[test]
fn references_inside_ownerships_become_links_and_go_back_into_the_interval() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut case) = temp_case(&dir, "c.copkit");
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/graph/ftm-interval-refs.ftm.json");
    let r = import(&mut case, &path, &Limits::default()).unwrap();
    // Ownership, Directorship, and the ownership's proof.
    assert_eq!((r.entities_created, r.links), (3, 3), "{r:?}");
    let missing = r
        .warnings
        .iter()
        .find(|w| w.field.as_deref() == Some("proof"))
        .expect("a warning for the proof that names nothing");
    assert_eq!(missing.line, 5, "{missing:?}");
    assert!(missing.reason.contains("minutes-missing"), "{missing:?}");
    let snap = case.snapshot().unwrap();
    let ana = by_id(&snap, "p1");
    let register = by_id(&snap, "reg1");
    let value = |l: &Link, p: &str| {
        l.attributes
            .iter()
            .find(|a| a.property == p)
            .map(|a| a.value.clone())
    };
    let proof = snap
        .links
        .iter()
        .find(|l| l.link_type == "proof")
        .expect("the proof is a link");
    assert_eq!((proof.source, proof.target), (ana.id, register.id));
    assert!(proof.directed);
    assert_eq!(value(proof, "ftmProperty").as_deref(), Some("proof"));
    assert_eq!(value(proof, "ftmInterval").as_deref(), Some("own1"));
    let ownership = snap
        .links
        .iter()
        .find(|l| l.source_id.as_deref() == Some("own1"))
        .unwrap();
    assert_eq!(value(ownership, "proof"), None, "not text any more");
    assert_eq!(value(ownership, "percentage").as_deref(), Some("60"));
    let directorship = snap
        .links
        .iter()
        .find(|l| l.source_id.as_deref() == Some("dir1"))
        .unwrap();
    assert_eq!(
        value(directorship, "proof").as_deref(),
        Some("minutes-missing"),
        "a reference to nothing stays text"
    );

    let out = dir.path().join("out.ftm.json");
    export_ftm(&mut case, &out);
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        text.lines().count(),
        5,
        "the proof is no line of its own: {text}"
    );
    if skip_without_followthemoney() {
        return;
    }
    let seen = python(
        "import json, sys\n\
         from followthemoney import model\n\
         for line in open(sys.argv[1]):\n\
         \x20   p = model.get_proxy(json.loads(line))\n\
         \x20   if p.schema.name in ('Ownership', 'Directorship'):\n\
         \x20       print(p.id, p.schema.name, sorted(p.get('proof')))\n",
        &[&out],
    );
    assert_eq!(
        seen,
        "own1 Ownership ['reg1']\ndir1 Directorship ['minutes-missing']"
    );
    // And our import reads its own export back the same way.
    let (_, mut other) = temp_case(&dir, "again.copkit");
    let again = import(&mut other, &out, &Limits::default()).unwrap();
    assert_eq!((again.entities_created, again.links), (3, 3), "{again:?}");
}
