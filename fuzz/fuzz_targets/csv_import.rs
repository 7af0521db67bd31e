//! Feeds arbitrary bytes to the CSV importer (preview and a full import into a scratch case):
//! it must return a report or an error, never panic.
#![no_main]

use copkit::io::MappingSpec;
use copkit::io::csv::{CsvOptions, import_csv, preview_csv};
use copkit::jobs::{CancelToken, NoProgress};
use copkit::store::{Actor, Case};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("in.csv");
    std::fs::write(&src, data).expect("write input");
    let actor = Actor {
        os_user: "fuzz".into(),
        analyst: "fuzz".into(),
    };
    let mut case = Case::create(&dir.path().join("c.copkit"), "fuzz", actor, "fuzz").expect("case");
    for template in ["cdr", "entities"] {
        let spec = MappingSpec::template(template).expect("template");
        let opts = CsvOptions {
            lenient: true,
            ..CsvOptions::default()
        };
        let _ = preview_csv(&src, &spec, case.schema(), &opts, 20);
        let _ = import_csv(
            &mut case,
            &src,
            &spec,
            &opts,
            &CancelToken::new(),
            &NoProgress,
        );
    }
});
