//! Feeds arbitrary bytes to the workbook importer (XLSX, XLS and ODS through calamine, after
//! the zip checks): a report or an error, never a panic, and never a zip bomb unpacked.
#![no_main]

use copkit::io::MappingSpec;
use copkit::io::csv::CsvOptions;
use copkit::io::xlsx::import_xlsx;
use copkit::jobs::{CancelToken, NoProgress};
use copkit::store::{Actor, Case};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("in.xlsx");
    std::fs::write(&src, data).expect("write input");
    let actor = Actor {
        os_user: "fuzz".into(),
        analyst: "fuzz".into(),
    };
    let mut case = Case::create(&dir.path().join("c.copkit"), "fuzz", actor, "fuzz").expect("case");
    let spec = MappingSpec::template("cdr").expect("template");
    let opts = CsvOptions {
        lenient: true,
        ..CsvOptions::default()
    };
    let _ = import_xlsx(
        &mut case,
        &src,
        None,
        &spec,
        &opts,
        &CancelToken::new(),
        &NoProgress,
    );
});
