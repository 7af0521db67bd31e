//! Feeds arbitrary bytes to the Parquet importer (footer, schema, pages, codecs, values)
//! through the cdr and entities templates: a report or an error, never a panic.
#![no_main]

use copkit::io::MappingSpec;
use copkit::io::csv::CsvOptions;
use copkit::io::parquet::import_parquet;
use copkit::jobs::{CancelToken, NoProgress};
use copkit::store::{Actor, Case};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("in.parquet");
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
        let _ = import_parquet(
            &mut case,
            &src,
            &spec,
            &opts,
            &CancelToken::new(),
            &NoProgress,
        );
    }
});
