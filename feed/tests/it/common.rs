//! Shared helpers: scanning a document pushed in chunks of many sizes (the results must not
//! depend on how the bytes arrive), gzip, options.

use feed::{FeedError, FeedOptions, IdSource, Scanner};

/// The default options of the tests: `<job>` records, `<reference>` ids.
pub fn opts() -> FeedOptions {
    FeedOptions::new("job", IdSource::Child("reference".into()))
}

/// One record as the tests compare it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rec {
    pub number: u64,
    pub offset: u64,
    pub id: String,
    pub bytes: String,
}

impl Rec {
    fn of(r: &feed::RecordRef<'_>) -> Rec {
        Rec {
            number: r.number,
            offset: r.offset,
            id: r.id.to_string(),
            bytes: String::from_utf8_lossy(r.bytes).into_owned(),
        }
    }
}

fn scan_chunked(input: &[u8], opts: &FeedOptions, chunk: usize) -> Result<Vec<Rec>, FeedError> {
    let mut out = Vec::new();
    let mut on = |r: feed::RecordRef<'_>| {
        out.push(Rec::of(&r));
        Ok(())
    };
    let mut s = Scanner::new(opts);
    for piece in input.chunks(chunk.max(1)) {
        s.push(piece, &mut on)?;
    }
    s.finish(&mut on)?;
    Ok(out)
}

/// The 2-thread pipeline of `scan_reader`.
fn scan_piped(input: &[u8], opts: &FeedOptions) -> Result<Vec<Rec>, FeedError> {
    let mut out = Vec::new();
    feed::scan_reader(input, opts, &mut |r| {
        out.push(Rec::of(&r));
        Ok(())
    })?;
    Ok(out)
}

/// Scans `input` with `scan_reader` (chunk size 0 below) and pushed in chunks of 1, 2, 3, 7, 64, 4096 bytes and whole; every way must give
/// the same records or the same error (message included).
pub fn scan(input: &[u8], opts: &FeedOptions) -> Result<Vec<Rec>, FeedError> {
    let whole = scan_chunked(input, opts, input.len());
    for chunk in [0, 1, 2, 3, 7, 64, 4096] {
        let other = if chunk == 0 {
            scan_piped(input, opts)
        } else {
            scan_chunked(input, opts, chunk)
        };
        match (&whole, &other) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "chunk size {chunk} gave other records"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "chunk size {chunk}"),
            _ => panic!("chunk size {chunk}: {other:?} but whole: {whole:?}"),
        }
    }
    whole
}

/// Scans and expects success.
pub fn ok(xml: &str) -> Vec<Rec> {
    scan(xml.as_bytes(), &opts()).unwrap_or_else(|e| panic!("{e}"))
}

/// Asserts an error's record number, byte offset and whole message (`{at}` stands for the
/// offset).
pub fn assert_error(e: &FeedError, record: u64, offset: usize, message: &str) {
    assert_eq!(e.location.record, Some(record), "{e}");
    assert_eq!(e.location.offset as usize, offset, "{e}");
    assert_eq!(e.to_string(), message.replace("{at}", &offset.to_string()));
}

/// Scans and expects an error.
pub fn err(input: &[u8], opts: &FeedOptions) -> FeedError {
    match scan(input, opts) {
        Ok(r) => panic!("expected an error, got {} records", r.len()),
        Err(e) => e,
    }
}

/// Gzip at level 6.
pub fn gz(bytes: &[u8]) -> Vec<u8> {
    feed::generate::gzip(bytes)
}

/// A small generated feed.
pub fn generated(seed: u64, records: u64) -> Vec<u8> {
    let mut v = Vec::new();
    feed::generate::write_feed(&mut v, &feed::generate::GenOptions::new(seed, records)).unwrap();
    v
}
