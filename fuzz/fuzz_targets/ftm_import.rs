//! Feeds arbitrary bytes to the FollowTheMoney (JSON lines) importer, strict and lenient: a
//! report or an error, never a panic, and never unbounded nesting.
#![no_main]

use copkit::io::Limits;
use copkit::io::ftm::import_ftm;
use copkit::jobs::CancelToken;
use copkit::store::{Actor, Case};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("in.ftm.json");
    std::fs::write(&src, data).expect("write input");
    let actor = Actor {
        os_user: "fuzz".into(),
        analyst: "fuzz".into(),
    };
    let mut case = Case::create(&dir.path().join("c.copkit"), "fuzz", actor, "fuzz").expect("case");
    for lenient in [false, true] {
        let _ = import_ftm(
            &mut case,
            &src,
            lenient,
            &Limits::default(),
            None,
            &CancelToken::new(),
        );
    }
});
