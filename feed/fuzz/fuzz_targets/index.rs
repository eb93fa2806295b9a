//! Index files on arbitrary bytes (with or without a build description): reading and diffing
//! never panic.
#![no_main]

use feed::index::IndexReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut r) = IndexReader::new(data) {
        if let Some(build) = r.build() {
            let _ = build.to_string();
        }
        while let Ok(true) = r.advance() {
            let _ = (r.id(), r.hash());
        }
    }
    let half = data.len() / 2;
    let _ = feed::diff::diff(Some(&data[..half]), &data[half..], |_| Ok(()));
});
