//! The record reader on arbitrary bytes: never a panic, and the same result whatever the
//! chunking. The first byte picks the chunk size and the options.
#![no_main]

use feed::{FeedOptions, IdSource, Scanner};
use libfuzzer_sys::fuzz_target;

fn run(data: &[u8], opts: &FeedOptions, chunk: usize) -> Result<Vec<(u64, String, u128)>, String> {
    let mut out = Vec::new();
    let mut on = |r: feed::RecordRef<'_>| {
        let _ = r.to_json(opts);
        out.push((r.offset, r.id.to_string(), r.hash.0));
        Ok(())
    };
    let mut s = Scanner::new(opts);
    for piece in data.chunks(chunk) {
        s.push(piece, &mut on).map_err(|e| e.to_string())?;
    }
    s.finish(&mut on).map_err(|e| e.to_string())?;
    Ok(out)
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let id = if first & 1 == 0 {
        IdSource::Child("reference".into())
    } else {
        IdSource::Attribute("id".into())
    };
    let mut opts = FeedOptions::new("job", id);
    opts.max_record_bytes = 64 + usize::from(first) * 16;
    let chunk = 1 + usize::from(first >> 3);
    let whole = run(rest, &opts, rest.len().max(1));
    let chunked = run(rest, &opts, chunk);
    assert_eq!(whole, chunked, "chunk size {chunk} changed the result");
    // (The 2-thread `scan_reader` is left out: LeakSanitizer reports its joined threads'
    // buffers now and then; the proptest suite compares it with the Scanner instead.)
});
