//! Push-style input decoding: gzip detected by its magic bytes (never by a file name), several
//! gzip members one after another (as `cat a.gz b.gz` makes), or plain bytes passed through.
//!
//! Inflating writes straight into the splitter's buffer (flate2 on the zlib-rs backend, raw
//! deflate), and each member's CRC-32 and length are checked against its trailer.
//!
//! Damaged compressed data often inflates into garbage before the inflater or the CRC notices,
//! and the XML reader stops on it first. So when the receiver of the bytes fails inside a gzip
//! member, the decoder holds that error back and inflates the rest of the member (to a scratch
//! buffer, as its bytes arrive) to check the member's CRC-32: a damaged member is reported as
//! corrupt compressed data, naming where the member starts in the gzip stream and the
//! compressed offset where the damage showed (and what the XML reader had said), and an intact
//! one gives the held error. That costs at most
//! one inflate of the rest of the member, on the error path only.

use flate2::{Crc, Decompress, FlushDecompress, Status};

use crate::error::{ErrorKind, FeedError};
use crate::sink::Sink;

/// Uncompressed bytes produced per step (and plain input copied per step).
pub(crate) const STEP: usize = 256 << 10;
/// Longest gzip header accepted (FEXTRA, file name and comment included).
const MAX_HEADER: usize = 1 << 20;

enum State {
    /// Fewer than 2 bytes seen.
    Sniff,
    Plain,
    Header,
    Body,
    Trailer,
    /// A member ended; another may follow.
    Between,
}

/// The input decoder. See the module documentation.
pub(crate) struct Decoder {
    state: State,
    pending: Vec<u8>,
    inflate: Option<Box<Decompress>>,
    crc: Crc,
    /// Compressed bytes consumed.
    consumed: u64,
    /// Where the current gzip member starts in the input.
    member_start: u64,
    members: u32,
    /// The receiver's error, held while the rest of the member is inflated to check its CRC.
    held: Option<FeedError>,
    /// Where a member being checked inflates to.
    scratch: Vec<u8>,
}

/// A corrupt-data error `damage` that made the XML reader (or a record callback) fail with
/// `cause`: located where the reader stopped, and saying what it had found.
pub(crate) fn with_cause(mut damage: FeedError, cause: &FeedError) -> FeedError {
    if let ErrorKind::CorruptGzip { detail } = &mut damage.kind {
        detail.push_str(&format!(
            " (the XML reader had stopped on what it inflated into: {})",
            cause.kind
        ));
    }
    let compressed = damage.location.compressed_offset;
    damage.location = cause.location.clone();
    damage.location.compressed_offset = compressed;
    damage
}

/// Whether `e`, from the receiver of the uncompressed bytes, may be the effect of damaged
/// compressed data (everything the XML reader or a record callback finds), or the receiver's
/// hanging up (a splitter on another thread stopped on such an error).
fn may_be_damage(e: &FeedError) -> bool {
    match &e.kind {
        ErrorKind::Spill { .. } | ErrorKind::IndexTooLarge { .. } => false,
        ErrorKind::Read(io) => io.kind() == std::io::ErrorKind::BrokenPipe,
        _ => true,
    }
}

impl Decoder {
    pub(crate) fn new() -> Decoder {
        Decoder {
            state: State::Sniff,
            pending: Vec::new(),
            inflate: None,
            crc: Crc::new(),
            consumed: 0,
            member_start: 0,
            members: 0,
            held: None,
            scratch: Vec::new(),
        }
    }

    /// Whether the input is gzip (false until known, and for plain input).
    pub(crate) fn is_gzip(&self) -> bool {
        !matches!(self.state, State::Sniff | State::Plain)
    }

    /// Complete gzip members read.
    pub(crate) fn members(&self) -> u32 {
        self.members
    }

    /// Input bytes consumed.
    pub(crate) fn consumed(&self) -> u64 {
        self.consumed
    }

    pub(crate) fn push(&mut self, mut input: &[u8], split: &mut dyn Sink) -> Result<(), FeedError> {
        loop {
            match self.state {
                State::Sniff => {
                    if input.is_empty() {
                        return Ok(());
                    }
                    let take = (2 - self.pending.len()).min(input.len());
                    self.pending.extend_from_slice(&input[..take]);
                    self.consumed += take as u64;
                    input = &input[take..];
                    if self.pending.len() < 2 {
                        return Ok(());
                    }
                    if self.pending == [0x1f, 0x8b] {
                        self.state = State::Header;
                        self.member_start = 0;
                    } else {
                        self.state = State::Plain;
                        self.consumed -= 2;
                        let first = std::mem::take(&mut self.pending);
                        self.plain(&first, split)?;
                    }
                }
                State::Plain => return self.plain(input, split),
                State::Header | State::Between => {
                    if input.is_empty() {
                        return Ok(());
                    }
                    if matches!(self.state, State::Between) {
                        self.member_start = self.consumed;
                        self.state = State::Header;
                    }
                    let before = self.pending.len();
                    self.pending.extend_from_slice(input);
                    match header_len(&self.pending) {
                        Err(detail) => {
                            self.consumed = self.member_start;
                            return Err(self.corrupt(detail, split));
                        }
                        Ok(None) if self.pending.len() > MAX_HEADER => {
                            self.consumed = self.member_start;
                            return Err(self.corrupt("gzip header longer than 1 MiB".into(), split));
                        }
                        Ok(None) => {
                            self.consumed += input.len() as u64;
                            return Ok(());
                        }
                        Ok(Some(n)) => {
                            let used = n - before;
                            self.consumed += used as u64;
                            input = &input[used..];
                            self.pending.clear();
                            self.crc.reset();
                            match &mut self.inflate {
                                Some(d) => d.reset(false),
                                None => self.inflate = Some(Box::new(Decompress::new(false))),
                            }
                            self.state = State::Body;
                        }
                    }
                }
                State::Body if self.held.is_some() => {
                    // Checking the member the receiver failed in: inflate to scratch.
                    let Some(inflate) = self.inflate.as_mut() else {
                        return Err(self.corrupt("inflater missing".into(), split));
                    };
                    self.scratch.clear();
                    self.scratch.reserve(STEP);
                    let before = inflate.total_in();
                    let status =
                        inflate.decompress_vec(input, &mut self.scratch, FlushDecompress::None);
                    let used = (inflate.total_in() - before) as usize;
                    self.crc.update(&self.scratch);
                    self.consumed += used as u64;
                    input = &input[used..];
                    match status {
                        Err(_) => return Err(self.damaged("invalid deflate data", split)),
                        Ok(Status::StreamEnd) => self.state = State::Trailer,
                        Ok(_) if input.is_empty() => return Ok(()),
                        Ok(_) if used == 0 && self.scratch.is_empty() => {
                            return Err(self.damaged("the inflater makes no progress", split))
                        }
                        Ok(_) => {}
                    }
                }
                State::Body => {
                    let Some(inflate) = self.inflate.as_mut() else {
                        return Err(self.corrupt("inflater missing".into(), split));
                    };
                    let buf = split.buffer(STEP);
                    let old = buf.len();
                    let spare = buf.capacity() - old;
                    let before = inflate.total_in();
                    let status = inflate.decompress_vec(input, buf, FlushDecompress::None);
                    let used = (inflate.total_in() - before) as usize;
                    let produced = buf.len() - old;
                    self.crc.update(&buf[old..]);
                    self.consumed += used as u64;
                    input = &input[used..];
                    let status = match status {
                        Ok(s) => s,
                        Err(e) => {
                            // What was inflated before the error is scanned first, as it would
                            // have been had it arrived in smaller pieces.
                            if produced > 0 {
                                if let Err(e) = split.filled(old) {
                                    if !may_be_damage(&e) {
                                        return Err(e);
                                    }
                                    self.held = Some(e);
                                }
                            }
                            // (zlib-rs's message depends on how much input one call had, so it is left out.)
                            let _ = e;
                            return Err(self.damaged("invalid deflate data", split));
                        }
                    };
                    if produced > 0 {
                        if let Err(e) = split.filled(old) {
                            if !may_be_damage(&e) {
                                return Err(e);
                            }
                            // Check the member before blaming the XML (see the module docs).
                            self.held = Some(e);
                        }
                    }
                    if status == Status::StreamEnd {
                        self.state = State::Trailer;
                    } else if produced < spare && input.is_empty() {
                        return Ok(());
                    } else if produced == 0 && used == 0 {
                        return Err(self.corrupt("the inflater makes no progress".into(), split));
                    }
                }
                State::Trailer => {
                    let take = (8 - self.pending.len()).min(input.len());
                    self.pending.extend_from_slice(&input[..take]);
                    self.consumed += take as u64;
                    input = &input[take..];
                    if self.pending.len() < 8 {
                        return Ok(());
                    }
                    let word = |i: usize| {
                        u32::from_le_bytes([
                            self.pending[i],
                            self.pending[i + 1],
                            self.pending[i + 2],
                            self.pending[i + 3],
                        ])
                    };
                    if word(0) != self.crc.sum() {
                        return Err(self.damaged("CRC-32 mismatch", split));
                    }
                    if word(4) != self.crc.amount() {
                        return Err(self.damaged("length mismatch in the gzip trailer", split));
                    }
                    if let Some(e) = self.held.take() {
                        // The member is intact: the XML (or a record) is what is wrong.
                        return Err(e);
                    }
                    self.pending.clear();
                    self.members += 1;
                    self.state = State::Between;
                }
            }
        }
    }

    fn plain(&mut self, input: &[u8], split: &mut dyn Sink) -> Result<(), FeedError> {
        for piece in input.chunks(STEP) {
            let buf = split.buffer(piece.len());
            let old = buf.len();
            buf.extend_from_slice(piece);
            self.consumed += piece.len() as u64;
            split.filled(old)?;
        }
        Ok(())
    }

    /// The end of the input.
    pub(crate) fn finish(&mut self, split: &mut dyn Sink) -> Result<(), FeedError> {
        if let Some(e) = self.held.take() {
            // The input ended inside the member being checked: nothing more to say than the
            // receiver's error.
            return Err(e);
        }
        match self.state {
            State::Sniff => {
                let first = std::mem::take(&mut self.pending);
                self.consumed -= first.len() as u64;
                self.state = State::Plain;
                self.plain(&first, split)
            }
            State::Plain | State::Between => Ok(()),
            State::Header | State::Body | State::Trailer => {
                Err(self.locate(FeedError::at(ErrorKind::TruncatedGzip, 0), split))
            }
        }
    }

    /// The error of a damaged member: `what` the check found, where the member is, and what
    /// the receiver had said of the bytes it inflated into, if it failed.
    fn damaged(&mut self, what: &str, split: &dyn Sink) -> FeedError {
        let detail = format!(
            "{what} in the gzip member that starts at compressed byte {}: the data is damaged",
            self.member_start
        );
        let err = self.corrupt(detail, split);
        match self.held.take() {
            Some(cause) if !matches!(cause.kind, ErrorKind::Read(_)) => with_cause(err, &cause),
            _ => err,
        }
    }

    fn corrupt(&self, detail: String, split: &dyn Sink) -> FeedError {
        self.locate(FeedError::at(ErrorKind::CorruptGzip { detail }, 0), split)
    }

    /// Sets the error's positions: the compressed offset from here, the uncompressed offset and
    /// record from the sink (a pipelined sink leaves the record to the splitter's side).
    fn locate(&self, mut err: FeedError, split: &dyn Sink) -> FeedError {
        err.location.compressed_offset = Some(self.consumed);
        let (offset, record) = split.position();
        err.location.offset = offset;
        match record {
            Some(n) => err.in_record(n, None),
            None => err,
        }
    }
}

/// The length of the gzip member header at the start of `h`: None when more bytes are needed.
fn header_len(h: &[u8]) -> Result<Option<usize>, String> {
    if h.first().is_some_and(|b| *b != 0x1f) || h.get(1).is_some_and(|b| *b != 0x8b) {
        return Err("data after a gzip member is not another gzip member".into());
    }
    if h.len() < 10 {
        return Ok(None);
    }
    if h[2] != 8 {
        return Err(format!(
            "unknown compression method {} in the gzip header",
            h[2]
        ));
    }
    let flags = h[3];
    if flags & 0xE0 != 0 {
        return Err("reserved flags set in the gzip header".into());
    }
    let mut i = 10;
    if flags & 0x04 != 0 {
        let Some(x) = h.get(i..i + 2) else {
            return Ok(None);
        };
        i += 2 + u16::from_le_bytes([x[0], x[1]]) as usize;
    }
    for flag in [0x08, 0x10] {
        if flags & flag != 0 {
            match h.get(i..).and_then(|rest| memchr::memchr(0, rest)) {
                Some(nul) => i += nul + 1,
                None => return Ok(None),
            }
        }
    }
    if flags & 0x02 != 0 {
        i += 2;
    }
    Ok((h.len() >= i).then_some(i))
}
