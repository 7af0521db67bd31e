//! Feeds arbitrary bytes to the GEXF importer: a report or an error, never a panic, and
//! never an entity expansion.
#![no_main]

use copkit::io::gexf::import_gexf;
use copkit::io::graphml::GraphOptions;
use copkit::jobs::CancelToken;
use copkit::store::{Actor, Case};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("in.gexf");
    std::fs::write(&src, data).expect("write input");
    let actor = Actor {
        os_user: "fuzz".into(),
        analyst: "fuzz".into(),
    };
    let mut case = Case::create(&dir.path().join("c.copkit"), "fuzz", actor, "fuzz").expect("case");
    let opts = GraphOptions {
        lenient: true,
        ..GraphOptions::default()
    };
    let _ = import_gexf(&mut case, &src, &opts, &CancelToken::new());
});
